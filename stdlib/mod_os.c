/* The os module: process identity, the environment (os.environ is a dict
 * snapshot taken at import; os.getenv reads it, so assignments to it are
 * seen), the working directory, a few file system operations, and bytes
 * from descriptors and the kernel's generator (read, write, urandom).
 * os.path is not provided. */

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/args.h"
#include "runtime/buffer.h"
#include "runtime/bytes.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/file.h"
#include "runtime/int.h"
#include "runtime/list.h"
#include "runtime/module.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/strbuf.h"
#include "runtime/tuple.h"
#include "stdlib/builtins.h"
#include "stdlib/modules.h"
#include "vm/interp.h"
#include "vm/thread.h"
#include "vm/vm.h"

extern char **environ;

/* A path argument: a str without NUL bytes. */
static bool path_arg(TState *ts, const char *fname, Value v, bool fd_ok, ObjStr **out) {
    Interp *interp = ts->interp;
    if (!IS_STR(v)) {
        err_format(ts, interp->exc.TypeError, "%s: path should be string, bytes%s, not %s", fname,
                   fd_ok ? ", os.PathLike, integer or None" : " or os.PathLike", ops_type_name(ts, v));
        return false;
    }
    if (memchr(AS_STR(v)->data, '\0', AS_STR(v)->len)) {
        err_format(ts, interp->exc.ValueError, "%s: embedded null character in path", fname);
        return false;
    }
    *out = AS_STR(v);
    return true;
}

static Value os_getpid(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "getpid", nargs, kwnames, 0, 0)) return ERROR_VAL;
    return INT_VAL(getpid());
}

static Value os_getppid(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "getppid", nargs, kwnames, 0, 0)) return ERROR_VAL;
    return INT_VAL(getppid());
}

/* An int argument that must fit a C int. */
static bool c_int_arg(TState *ts, Value v, int *out) {
    Value i = int_index(ts, v);
    if (IS_ERROR(i)) return false;
    int64_t n;
    if (!int_to_i64(i, &n) || n < INT_MIN || n > INT_MAX) {
        err_format(ts, ts->interp->exc.OverflowError, "Python int too large to convert to C int");
        return false;
    }
    *out = (int)n;
    return true;
}

static Value os_kill(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (kwnames && kwnames->len) return err_format(ts, ts->interp->exc.TypeError, "kill() takes no keyword arguments");
    if (nargs != 2)
        return err_format(ts, ts->interp->exc.TypeError, "kill() takes exactly 2 arguments (%d given)", nargs);
    int pid, sig;
    if (!c_int_arg(ts, args[0], &pid) || !c_int_arg(ts, args[1], &sig)) return ERROR_VAL;
    if (interp_sandbox_refuses(ts, "os.kill()")) return ERROR_VAL;
    if (kill(pid, sig) < 0) return file_raise_oserror(ts, errno, NONE_VAL);
    return NONE_VAL;
}

static Value os_cpu_count(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "cpu_count", nargs, kwnames, 0, 0)) return ERROR_VAL;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n >= 1 ? INT_VAL(n) : NONE_VAL;
}

/* os.environ of the imported os module, or NULL. */
static ObjDict *environ_dict(TState *ts) {
    ObjStr *os_name = str_intern_cstr(ts, "os");
    ObjStr *env_name = os_name ? str_intern_cstr(ts, "environ") : NULL;
    if (!env_name) return NULL;
    Value os = dict_get_str(ts->interp->modules, os_name);
    if (!IS_MODULE(os)) return NULL;
    Value env = dict_get_str(AS_MODULE(os)->dict, env_name);
    return IS_DICT(env) ? AS_DICT(env) : NULL;
}

static Value os_getenv(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"key", "default"};
    Value a[2];
    if (!args_bind(ts, "getenv", args, nargs, kwnames, names, 2, 1, 2, a)) return ERROR_VAL;
    Value dflt = IS_EMPTY(a[1]) ? NONE_VAL : a[1];
    if (!IS_STR(a[0]))
        return err_format(ts, ts->interp->exc.TypeError, "str expected, not %s", ops_type_name(ts, a[0]));
    ObjDict *env = environ_dict(ts);
    if (env) {
        Value v = dict_get(ts, env, a[0]);
        if (IS_ERROR(v)) return v;
        return IS_EMPTY(v) ? dflt : v;
    }
    if (err_occurred(ts)) return ERROR_VAL;
    const char *v = getenv(AS_STR(a[0])->data);
    if (!v || !str_utf8_valid(v, strlen(v))) return dflt;
    ObjStr *s = str_from_cstr(ts, v);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static Value os_getcwd(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "getcwd", nargs, kwnames, 0, 0)) return ERROR_VAL;
    char buf[PATH_MAX];
    if (!getcwd(buf, sizeof buf)) return file_raise_oserror(ts, errno, NONE_VAL);
    ObjStr *s = str_from_cstr(ts, buf);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static Value os_chdir(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "chdir", nargs, kwnames, 1, 1)) return ERROR_VAL;
    ObjStr *path;
    if (!path_arg(ts, "chdir", args[0], false, &path)) return ERROR_VAL;
    if (interp_sandbox_refuses(ts, "os.chdir()")) return ERROR_VAL;
    if (chdir(path->data) < 0) return file_raise_oserror(ts, errno, args[0]);
    return NONE_VAL;
}

/* Reads a directory's entry names, NUL-separated, into sb. Runs detached:
 * touches no object. Returns 0 or an errno. */
static int read_dir_names(const char *path, StrBuf *sb) {
    DIR *dir = opendir(path);
    if (!dir) return errno;
    int err = 0;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(dir);
        if (!e) {
            err = errno;
            break;
        }
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (!sb_append(sb, e->d_name, strlen(e->d_name) + 1)) {
            err = ENOMEM;
            break;
        }
    }
    closedir(dir);
    return err;
}

static Value os_listdir(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"path"};
    Value a[1];
    if (!args_bind(ts, "listdir", args, nargs, kwnames, names, 1, 0, 1, a)) return ERROR_VAL;
    const char *cpath = ".";
    ObjStr *path = NULL;
    if (!IS_EMPTY(a[0]) && !IS_NONE(a[0])) {
        if (!path_arg(ts, "listdir", a[0], true, &path)) return ERROR_VAL;
        cpath = path->data;
    }
    char *copy = strdup(cpath); /* nothing of mini's may be touched while detached */
    if (!copy) return err_no_memory(ts);
    StrBuf sb;
    sb_init(&sb);
    thread_detach(ts);
    int err = read_dir_names(copy, &sb);
    thread_attach(ts);
    free(copy);
    if (err) {
        sb_free(&sb);
        if (err == ENOMEM) return err_no_memory(ts);
        ObjStr *shown = path ? path : str_intern_cstr(ts, ".");
        return shown ? file_raise_oserror(ts, err, OBJ_VAL(shown)) : ERROR_VAL;
    }
    ObjList *list = list_new(ts, 0);
    for (size_t pos = 0; list && pos < sb.len;) {
        const char *entry = sb.data + pos;
        size_t n = strlen(entry);
        pos += n + 1;
        if (!str_utf8_valid(entry, n)) continue; /* a mini str is UTF-8 */
        ObjStr *name = str_new(ts, entry, n);
        if (!name || list_append(ts, list, OBJ_VAL(name)) < 0) list = NULL;
    }
    sb_free(&sb);
    return list ? OBJ_VAL(list) : ERROR_VAL;
}

/* remove/unlink, rmdir: one path, one syscall. */
static Value path_call(TState *ts, const char *fname, Value *args, int nargs, ObjTuple *kwnames,
                       int (*op)(const char *)) {
    if (!args_check(ts, fname, nargs, kwnames, 1, 1)) return ERROR_VAL;
    ObjStr *path;
    if (!path_arg(ts, fname, args[0], false, &path)) return ERROR_VAL;
    if (op(path->data) < 0) return file_raise_oserror(ts, errno, args[0]);
    return NONE_VAL;
}

static Value os_remove(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return path_call(ts, "remove", args, nargs, kwnames, unlink);
}

static Value os_unlink(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return path_call(ts, "unlink", args, nargs, kwnames, unlink);
}

static Value os_rmdir(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return path_call(ts, "rmdir", args, nargs, kwnames, rmdir);
}

static Value os_mkdir(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"path", "mode"};
    Value a[2];
    if (!args_bind(ts, "mkdir", args, nargs, kwnames, names, 2, 1, 2, a)) return ERROR_VAL;
    ObjStr *path;
    int mode = 0777;
    if (!path_arg(ts, "mkdir", a[0], false, &path) || (!IS_EMPTY(a[1]) && !c_int_arg(ts, a[1], &mode)))
        return ERROR_VAL;
    if (mkdir(path->data, (mode_t)mode) < 0) return file_raise_oserror(ts, errno, a[0]);
    return NONE_VAL;
}

static Value os_rename(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "rename", nargs, kwnames, 2, 2)) return ERROR_VAL;
    ObjStr *src, *dst;
    if (!path_arg(ts, "rename", args[0], false, &src) || !path_arg(ts, "rename", args[1], false, &dst))
        return ERROR_VAL;
    if (rename(src->data, dst->data) < 0) return file_raise_oserror(ts, errno, args[0]);
    return NONE_VAL;
}

static Value os_strerror(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "strerror", nargs, kwnames, 1, 1)) return ERROR_VAL;
    int code;
    if (!c_int_arg(ts, args[0], &code)) return ERROR_VAL;
    char buf[256];
    ObjStr *s = str_from_cstr(ts, strerror_r(code, buf, sizeof buf));
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

/* Ends the process at once: no cleanup, no flushing of sys.stdout. */
static Value os_exit_now(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "_exit", nargs, kwnames, 1, 1)) return ERROR_VAL;
    int status;
    if (!c_int_arg(ts, args[0], &status)) return ERROR_VAL;
    if (interp_sandbox_refuses(ts, "os._exit()")) return ERROR_VAL;
    _exit(status);
}

/* os.urandom(size): bytes from the kernel's generator. */
static Value os_urandom(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "urandom", nargs, kwnames, 1, 1)) return ERROR_VAL;
    int64_t n;
    if (!args_int(ts, args[0], &n)) return ERROR_VAL;
    if (n < 0) return err_format(ts, ts->interp->exc.ValueError, "negative argument not allowed");
    ObjBytes *b = bytes_alloc(ts, (size_t)n);
    if (!b) return ERROR_VAL;
    for (size_t done = 0; done < (size_t)n;) {
        ssize_t r = getrandom(b->data + done, (size_t)n - done, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return file_raise_oserror(ts, errno, NONE_VAL);
        done += (size_t)r;
    }
    return OBJ_VAL(b);
}

/* os.read(fd, n) and os.write(fd, data): one system call each, detached
 * (the data is copied first, so no object is touched while detached). */
static Value os_read(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "read", nargs, kwnames, 2, 2)) return ERROR_VAL;
    int fd;
    int64_t n;
    if (!c_int_arg(ts, args[0], &fd) || !args_int(ts, args[1], &n)) return ERROR_VAL;
    if (n < 0) return err_format(ts, ts->interp->exc.ValueError, "negative count");
    char *buf = malloc(n ? (size_t)n : 1);
    if (!buf) return err_no_memory(ts);
    ssize_t r;
    int err;
    do {
        thread_detach(ts);
        r = read(fd, buf, (size_t)n);
        err = errno;
        thread_attach(ts);
    } while (r < 0 && err == EINTR && vm_safepoint(ts));
    ObjBytes *b = r >= 0 ? bytes_new(ts, buf, (size_t)r) : NULL;
    free(buf);
    if (r < 0) return err_occurred(ts) ? ERROR_VAL : file_raise_oserror(ts, err, NONE_VAL);
    return b ? OBJ_VAL(b) : ERROR_VAL;
}

static Value os_write(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "write", nargs, kwnames, 2, 2)) return ERROR_VAL;
    int fd;
    if (!c_int_arg(ts, args[0], &fd)) return ERROR_VAL;
    Buffer b;
    if (!buffer_get(ts, args[1], &b, BUF_READ)) return ERROR_VAL;
    char *copy = malloc(b.len ? b.len : 1);
    if (copy) memcpy(copy, b.buf, b.len);
    size_t len = b.len;
    buffer_release(ts, &b);
    if (!copy) return err_no_memory(ts);
    ssize_t r;
    int err;
    do {
        thread_detach(ts);
        r = write(fd, copy, len);
        err = errno;
        thread_attach(ts);
    } while (r < 0 && err == EINTR && vm_safepoint(ts));
    free(copy);
    if (r < 0) return err_occurred(ts) ? ERROR_VAL : file_raise_oserror(ts, err, NONE_VAL);
    return int_from_i64(ts, (int64_t)r);
}

static const NativeDef os_functions[] = {
    {"getpid", os_getpid},
    {"urandom", os_urandom},
    {"read", os_read},
    {"write", os_write},
    {"getppid", os_getppid},
    {"kill", os_kill},
    {"cpu_count", os_cpu_count},
    {"getenv", os_getenv},
    {"getcwd", os_getcwd},
    {"chdir", os_chdir},
    {"listdir", os_listdir},
    {"remove", os_remove},
    {"unlink", os_unlink},
    {"rmdir", os_rmdir},
    {"mkdir", os_mkdir},
    {"rename", os_rename},
    {"strerror", os_strerror},
    {"_exit", os_exit_now},
    {NULL, NULL},
};

/* os.environ: the environment at import, as a dict of str (entries that
 * are not valid UTF-8 are left out). */
static ObjDict *environ_snapshot(TState *ts) {
    ObjDict *env = dict_new(ts);
    if (!env) return NULL;
    for (char **e = environ; *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq || eq == *e) continue;
        size_t klen = (size_t)(eq - *e), vlen = strlen(eq + 1);
        if (!str_utf8_valid(*e, klen) || !str_utf8_valid(eq + 1, vlen)) continue;
        ObjStr *key = str_new(ts, *e, klen);
        ObjStr *value = key ? str_new(ts, eq + 1, vlen) : NULL;
        if (!value || dict_set(ts, env, OBJ_VAL(key), OBJ_VAL(value)) < 0) return NULL;
    }
    return env;
}

static bool add_str(TState *ts, ObjDict *ns, const char *name, const char *text) {
    ObjStr *s = str_intern_cstr(ts, text);
    return s && builtins_add_value(ts, ns, name, OBJ_VAL(s));
}

bool mod_os_init(TState *ts, ObjDict *ns) {
    if (!builtins_add_natives(ts, ns, os_functions)) return false;
    ObjDict *env = environ_snapshot(ts);
    return env && builtins_add_value(ts, ns, "environ", OBJ_VAL(env)) && add_str(ts, ns, "name", "posix") &&
           add_str(ts, ns, "sep", "/") && builtins_add_value(ts, ns, "altsep", NONE_VAL) &&
           add_str(ts, ns, "extsep", ".") && add_str(ts, ns, "pathsep", ":") && add_str(ts, ns, "linesep", "\n") &&
           add_str(ts, ns, "curdir", ".") && add_str(ts, ns, "pardir", "..") &&
           add_str(ts, ns, "devnull", "/dev/null");
}
