/* The posix module: the operating system's calls, under the os module
 * written in mini (stdlib/os.mini), as CPython's posix under os.py.
 *
 * - Paths: every path parameter takes str, bytes or an os.PathLike
 *   (path_arg); results that are names (listdir, readlink, scandir) are
 *   bytes when the path was bytes. Calls take *at(2) forms relative to
 *   dir_fd (AT_FDCWD by default), so dir_fd= costs nothing extra.
 * - Blocking: every call that may wait (file system calls included, as
 *   CPython releases its GIL around them) runs detached, on C copies of
 *   its arguments; EINTR runs the safepoint (Ctrl-C raises
 *   KeyboardInterrupt there) and retries (SYSCALL).
 * - Errors: OSError subclasses with errno, strerror and the file names,
 *   through runtime/file.c's file_raise_oserror2.
 * - stat, lstat and fstat make os.stat_result here (os.mini hands the
 *   class over as posix.stat_result: os.stat is hot); the other named
 *   results (uname_result, times_result, terminal_size, statvfs_result)
 *   are plain tuples that os.mini dresses.
 * - fork goes through vm/fork.c's fork_process (the world stopped, the
 *   child's runtime rebuilt). */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime/args.h"
#include "runtime/buffer.h"
#include "runtime/class.h"
#include "runtime/bytes.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/file.h"
#include "runtime/float.h"
#include "runtime/int.h"
#include "runtime/list.h"
#include "runtime/module.h"
#include "runtime/ops.h"
#include "runtime/set.h"
#include "runtime/str.h"
#include "runtime/strbuf.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "stdlib/builtins.h"
#include "stdlib/modules.h"
#include "vm/fork.h"
#include "vm/interp.h"
#include "vm/thread.h"
#include "vm/vm.h"

extern char **environ;

/* Runs CALL (an expression touching only C memory) detached, leaving its
 * result in RES and errno in ERR (0 on success). After EINTR the safepoint
 * runs (Ctrl-C raises KeyboardInterrupt there) and CALL is retried; so the
 * loop ends with ERR == EINTR only after raising. */
#define SYSCALL(ts, res, err, call)                                                                \
    do {                                                                                           \
        thread_detach(ts);                                                                         \
        (res) = (call);                                                                            \
        (err) = (res) < 0 ? errno : 0;                                                             \
        thread_attach(ts);                                                                         \
    } while ((res) < 0 && (err) == EINTR && vm_safepoint(ts))

/* The error of a failed SYSCALL: what the safepoint raised, or the OSError
 * for err naming the files (NONE_VAL: none). */
static Value fail(TState *ts, int err, Value file, Value file2) {
    if (err == EINTR && err_occurred(ts)) return ERROR_VAL;
    return file_raise_oserror2(ts, err, file, file2);
}

/* ---- arguments ------------------------------------------------------------- */

/* What a path parameter may also be. */
enum { PATH_ONLY, PATH_OR_FD, PATH_FD_OR_NONE };

typedef struct PathArg {
    Value obj;   /* the str or bytes path (shown in errors); NONE_VAL for a descriptor */
    char *c;     /* a malloc'd copy, safe to use detached; NULL for a descriptor */
    int fd;      /* the descriptor, or AT_FDCWD for a path */
    bool bytes;  /* results that are names are bytes */
} PathArg;

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

static bool fd_arg(TState *ts, Value v, int *fd) {
    if (!c_int_arg(ts, v, fd)) return false;
    if (*fd >= 0) return true;
    err_format(ts, ts->interp->exc.ValueError, "fd is less than zero");
    return false;
}

/* Converts a path parameter (str, bytes, os.PathLike; an int as a
 * descriptor or None as ".", where allowed). The converted path is pushed
 * on the VM stack, so it stays reachable while the call runs detached;
 * path_done pops it. False after raising (nothing pushed). */
static bool path_arg(TState *ts, const char *fname, Value v, int allow, PathArg *p) {
    Interp *interp = ts->interp;
    *p = (PathArg){.obj = NONE_VAL, .c = NULL, .fd = AT_FDCWD, .bytes = false};
    if (allow != PATH_ONLY && IS_INTLIKE(v) && !IS_BOOL(v)) {
        if (!fd_arg(ts, v, &p->fd)) return false;
        vm_push(ts, NONE_VAL);
        return true;
    }
    Value path = NONE_VAL;
    if (!(allow == PATH_FD_OR_NONE && (IS_NONE(v) || IS_EMPTY(v)))) {
        ObjStr *name = str_intern_cstr(ts, "__fspath__");
        if (!name) return false;
        if (!IS_STR(v) && !IS_BYTES(v) && IS_EMPTY(type_lookup(val_type(ts, v), name)))
            return err_format(ts, interp->exc.TypeError, "%s: path should be string, bytes%s, not %s", fname,
                              allow == PATH_ONLY      ? " or os.PathLike"
                              : allow == PATH_OR_FD ? ", os.PathLike or integer"
                                                    : ", os.PathLike, integer or None",
                              ops_type_name(ts, v)),
                   false;
        path = file_fspath(ts, v);
        if (IS_ERROR(path)) return false;
    }
    const char *data = ".";
    size_t len = 1;
    if (IS_STR(path)) {
        data = AS_STR(path)->data;
        len = AS_STR(path)->len;
    } else if (IS_BYTES(path)) {
        data = AS_BYTES(path)->data;
        len = AS_BYTES(path)->len;
        p->bytes = true;
    }
    if (memchr(data, '\0', len)) {
        if (IS_STR(path)) err_format(ts, interp->exc.ValueError, "embedded null byte");
        else err_format(ts, interp->exc.ValueError, "%s: embedded null character in path", fname);
        return false;
    }
    p->c = strdup(data);
    if (!p->c) return err_no_memory(ts), false;
    p->obj = path;
    vm_push(ts, path);
    return true;
}

static void path_done(TState *ts, PathArg *p) {
    vm_pop(ts);
    free(p->c);
}

/* dir_fd=None or a descriptor. */
static bool dir_fd_arg(TState *ts, Value v, int *out) {
    *out = AT_FDCWD;
    return IS_EMPTY(v) || IS_NONE(v) || fd_arg(ts, v, out);
}

/* follow_symlinks=True */
static bool flag_arg(TState *ts, Value v, bool dflt, bool *out) {
    *out = dflt;
    if (IS_EMPTY(v)) return true;
    int t = ops_truth(ts, v);
    if (t < 0) return false;
    *out = t;
    return true;
}

/* A name read from the system as str, or bytes when asked with bytes.
 * Names that are not UTF-8 become NONE_VAL for str (left out: mini's str
 * is UTF-8 and has no surrogateescape). */
static Value name_value(TState *ts, const char *name, size_t len, bool bytes) {
    if (bytes) {
        ObjBytes *b = bytes_new(ts, name, len);
        return b ? OBJ_VAL(b) : ERROR_VAL;
    }
    if (!str_utf8_valid(name, len)) return NONE_VAL;
    ObjStr *s = str_new(ts, name, len);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static Value none_or_error(TState *ts, int r, int err, Value file) {
    return r < 0 ? fail(ts, err, file, NONE_VAL) : NONE_VAL;
}

/* ---- process ----------------------------------------------------------------- */

/* The process's ids: no arguments, one int. */
#define ID_FN(NAME)                                                                                \
    static Value os_##NAME(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {                \
        if (!args_check(ts, #NAME, nargs, kwnames, 0, 0)) return ERROR_VAL;                        \
        return INT_VAL(NAME());                                                                    \
    }
ID_FN(getpid)
ID_FN(getppid)
ID_FN(getuid)
ID_FN(geteuid)
ID_FN(getgid)
ID_FN(getegid)
ID_FN(getpgrp)

/* kill(pid, sig), killpg(pgid, sig) */
static Value signal_call(TState *ts, const char *fname, Value *args, int nargs, ObjTuple *kwnames,
                         int (*op)(pid_t, int)) {
    if (!args_check(ts, fname, nargs, kwnames, 2, 2)) return ERROR_VAL;
    int pid, sig;
    if (!c_int_arg(ts, args[0], &pid) || !c_int_arg(ts, args[1], &sig)) return ERROR_VAL;
    if (interp_sandbox_refuses(ts, "os.kill()")) return ERROR_VAL;
    if (op(pid, sig) < 0) return file_raise_oserror(ts, errno, NONE_VAL);
    /* A signal sent to this very process is handled before the next line
     * runs, as in CPython. */
    return vm_safepoint(ts) ? NONE_VAL : ERROR_VAL;
}

static Value os_kill(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return signal_call(ts, "kill", args, nargs, kwnames, kill);
}

static Value os_killpg(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return signal_call(ts, "killpg", args, nargs, kwnames, killpg);
}

static Value os_fork(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "fork", nargs, kwnames, 0, 0)) return ERROR_VAL;
    pid_t pid = fork_process(ts);
    return pid < 0 ? ERROR_VAL : INT_VAL(pid);
}

/* waitpid(pid, options) -> (pid, status), detached. */
static Value os_waitpid(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "waitpid", nargs, kwnames, 2, 2)) return ERROR_VAL;
    int pid, options, status = 0, err;
    if (!c_int_arg(ts, args[0], &pid) || !c_int_arg(ts, args[1], &options)) return ERROR_VAL;
    pid_t r;
    SYSCALL(ts, r, err, waitpid(pid, &status, options));
    if (r < 0) return fail(ts, err, NONE_VAL, NONE_VAL);
    ObjTuple *t = tuple_pack2(ts, INT_VAL(r), INT_VAL(status));
    return t ? OBJ_VAL(t) : ERROR_VAL;
}

static Value os_wait(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "wait", nargs, kwnames, 0, 0)) return ERROR_VAL;
    int status = 0, err;
    pid_t r;
    SYSCALL(ts, r, err, wait(&status));
    if (r < 0) return fail(ts, err, NONE_VAL, NONE_VAL);
    ObjTuple *t = tuple_pack2(ts, INT_VAL(r), INT_VAL(status));
    return t ? OBJ_VAL(t) : ERROR_VAL;
}

/* The W* macros over a status from wait. */
static bool status_arg(TState *ts, const char *fname, Value *args, int nargs, ObjTuple *kwnames, int *status) {
    static const char *const names[] = {"status"};
    Value a[1];
    return args_bind(ts, fname, args, nargs, kwnames, names, 1, 1, 1, a) && c_int_arg(ts, a[0], status);
}

#define STATUS_FN(NAME, EXPR, WRAP)                                                                \
    static Value os_##NAME(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {                \
        int status;                                                                                \
        if (!status_arg(ts, #NAME, args, nargs, kwnames, &status)) return ERROR_VAL;               \
        return WRAP(EXPR(status));                                                                 \
    }
STATUS_FN(WIFEXITED, WIFEXITED, BOOL_VAL)
STATUS_FN(WEXITSTATUS, WEXITSTATUS, INT_VAL)
STATUS_FN(WIFSIGNALED, WIFSIGNALED, BOOL_VAL)
STATUS_FN(WTERMSIG, WTERMSIG, INT_VAL)
STATUS_FN(WIFSTOPPED, WIFSTOPPED, BOOL_VAL)
STATUS_FN(WSTOPSIG, WSTOPSIG, INT_VAL)
STATUS_FN(WCOREDUMP, WCOREDUMP, BOOL_VAL)
STATUS_FN(WIFCONTINUED, WIFCONTINUED, BOOL_VAL)

static Value os_waitstatus_to_exitcode(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    int status;
    if (!status_arg(ts, "waitstatus_to_exitcode", args, nargs, kwnames, &status)) return ERROR_VAL;
    if (WIFEXITED(status)) return INT_VAL(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return INT_VAL(-WTERMSIG(status));
    return err_format(ts, ts->interp->exc.ValueError, "invalid wait status: %d", status);
}

/* A path, or an argument or environment string of exec: str, bytes or
 * os.PathLike, as a malloc'd C string. NULL after raising. */
static char *c_string_arg(TState *ts, Value v) {
    Value s = file_fspath(ts, v);
    if (IS_ERROR(s)) return NULL;
    const char *data = IS_STR(s) ? AS_STR(s)->data : AS_BYTES(s)->data;
    size_t len = IS_STR(s) ? AS_STR(s)->len : AS_BYTES(s)->len;
    if (memchr(data, '\0', len)) {
        err_format(ts, ts->interp->exc.ValueError, "embedded null byte");
        return NULL;
    }
    char *c = strdup(data);
    if (!c) err_no_memory(ts);
    return c;
}

static void free_strings(char **list) {
    for (char **p = list; p && *p; p++) free(*p);
    free(list);
}

/* exec's argv: a non-empty tuple or list whose first item is not empty. */
static char **argv_arg(TState *ts, const char *fname, Value v) {
    Interp *interp = ts->interp;
    if (!IS_TUPLE(v) && !IS_LIST(v)) {
        err_format(ts, interp->exc.TypeError, "%s() arg 2 must be a tuple or list", fname);
        return NULL;
    }
    ObjList *items = ops_to_list(ts, v);
    if (!items) return NULL;
    size_t n = list_len(items);
    if (n == 0) {
        err_format(ts, interp->exc.ValueError, "%s() arg 2 must not be empty", fname);
        return NULL;
    }
    vm_push(ts, OBJ_VAL(items));
    char **argv = calloc(n + 1, sizeof *argv);
    bool ok = argv != NULL;
    if (!ok) err_no_memory(ts);
    for (size_t i = 0; ok && i < n; i++) ok = (argv[i] = c_string_arg(ts, list_get(items, i))) != NULL;
    vm_pop(ts);
    if (ok && !argv[0][0]) {
        err_format(ts, interp->exc.ValueError, "%s() arg 2 first element cannot be empty", fname);
        ok = false;
    }
    if (!ok) {
        free_strings(argv);
        return NULL;
    }
    return argv;
}

/* exec's environment: a mapping of names to values, as "NAME=VALUE". */
static char **env_list_arg(TState *ts, Value env) {
    ObjList *keys = ops_to_list(ts, env);
    if (!keys) return NULL;
    vm_push(ts, OBJ_VAL(keys));
    size_t n = list_len(keys);
    char **list = calloc(n + 1, sizeof *list);
    bool ok = list != NULL;
    if (!ok) err_no_memory(ts);
    for (size_t i = 0; ok && i < n; i++) {
        Value key = list_get(keys, i);
        Value value = ops_getitem(ts, env, key);
        char *k = IS_ERROR(value) ? NULL : c_string_arg(ts, key);
        char *val = k ? c_string_arg(ts, value) : NULL;
        if (val && (!k[0] || strchr(k, '='))) {
            err_format(ts, ts->interp->exc.ValueError, "illegal environment variable name");
        } else if (val) {
            size_t len = strlen(k) + strlen(val) + 2;
            list[i] = malloc(len);
            if (list[i]) snprintf(list[i], len, "%s=%s", k, val);
            else err_no_memory(ts);
        }
        ok = list[i] != NULL;
        free(k);
        free(val);
    }
    vm_pop(ts);
    if (!ok) {
        free_strings(list);
        return NULL;
    }
    return list;
}

/* execv(path, argv), execve(path, argv, env): replace the process. */
static Value exec_call(TState *ts, const char *fname, Value path, Value args_v, Value env) {
    if (interp_sandbox_refuses(ts, "os.exec*()")) return ERROR_VAL;
    char *cpath = c_string_arg(ts, path);
    char **argv = cpath ? argv_arg(ts, fname, args_v) : NULL;
    char **envp = argv && !IS_EMPTY(env) ? env_list_arg(ts, env) : NULL;
    if (argv && (IS_EMPTY(env) || envp)) {
        if (IS_EMPTY(env)) execv(cpath, argv);
        else execve(cpath, argv, envp);
        file_raise_oserror(ts, errno, NONE_VAL);
    }
    free(cpath);
    free_strings(argv);
    free_strings(envp);
    return ERROR_VAL;
}

static Value os_execv(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "execv", nargs, kwnames, 2, 2)) return ERROR_VAL;
    return exec_call(ts, "execv", args[0], args[1], EMPTY_VAL);
}

static Value os_execve(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"path", "argv", "env"};
    Value a[3];
    if (!args_bind(ts, "execve", args, nargs, kwnames, names, 3, 3, 3, a)) return ERROR_VAL;
    return exec_call(ts, "execve", a[0], a[1], a[2]);
}

/* system(command) -> the wait status of "/bin/sh -c command", detached. */
static Value os_system(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"command"};
    Value a[1];
    if (!args_bind(ts, "system", args, nargs, kwnames, names, 1, 1, 1, a)) return ERROR_VAL;
    if (interp_sandbox_refuses(ts, "os.system()")) return ERROR_VAL;
    char *command = c_string_arg(ts, a[0]);
    if (!command) return ERROR_VAL;
    file_flush_std(ts); /* what was printed comes before the command's output */
    thread_detach(ts);
    int status = system(command);
    thread_attach(ts);
    free(command);
    return INT_VAL(status);
}

static Value os_nice(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "nice", nargs, kwnames, 1, 1)) return ERROR_VAL;
    int increment;
    if (!c_int_arg(ts, args[0], &increment)) return ERROR_VAL;
    errno = 0;
    int r = nice(increment);
    if (r == -1 && errno) return file_raise_oserror(ts, errno, NONE_VAL);
    return INT_VAL(r);
}

static Value os_setsid(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "setsid", nargs, kwnames, 0, 0)) return ERROR_VAL;
    if (setsid() < 0) return file_raise_oserror(ts, errno, NONE_VAL);
    return NONE_VAL;
}

/* getpgid(pid), getsid(pid): one pid in, one id out. */
static Value pid_query(TState *ts, const char *fname, Value *args, int nargs, ObjTuple *kwnames,
                       pid_t (*op)(pid_t)) {
    if (!args_check(ts, fname, nargs, kwnames, 1, 1)) return ERROR_VAL;
    int pid;
    if (!c_int_arg(ts, args[0], &pid)) return ERROR_VAL;
    pid_t r = op(pid);
    if (r < 0) return file_raise_oserror(ts, errno, NONE_VAL);
    return INT_VAL(r);
}

static Value os_getpgid(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return pid_query(ts, "getpgid", args, nargs, kwnames, getpgid);
}

static Value os_getsid(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return pid_query(ts, "getsid", args, nargs, kwnames, getsid);
}

static Value os_setpgid(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "setpgid", nargs, kwnames, 2, 2)) return ERROR_VAL;
    int pid, pgrp;
    if (!c_int_arg(ts, args[0], &pid) || !c_int_arg(ts, args[1], &pgrp)) return ERROR_VAL;
    if (setpgid(pid, pgrp) < 0) return file_raise_oserror(ts, errno, NONE_VAL);
    return NONE_VAL;
}

/* Ends the process at once: no cleanup, no flushing of sys.stdout. */
static Value os_exit_now(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "_exit", nargs, kwnames, 1, 1)) return ERROR_VAL;
    int status;
    if (!c_int_arg(ts, args[0], &status)) return ERROR_VAL;
    if (interp_sandbox_refuses(ts, "os._exit()")) return ERROR_VAL;
    _exit(status);
}

/* times() -> (user, system, children_user, children_system, elapsed) */
static Value os_times(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "times", nargs, kwnames, 0, 0)) return ERROR_VAL;
    struct tms t;
    clock_t elapsed = times(&t);
    if (elapsed == (clock_t)-1) return file_raise_oserror(ts, errno, NONE_VAL);
    double tick = (double)sysconf(_SC_CLK_TCK);
    Value v[5] = {FLOAT_VAL((double)t.tms_utime / tick), FLOAT_VAL((double)t.tms_stime / tick),
                  FLOAT_VAL((double)t.tms_cutime / tick), FLOAT_VAL((double)t.tms_cstime / tick),
                  FLOAT_VAL((double)elapsed / tick)};
    ObjTuple *r = tuple_from(ts, v, 5);
    return r ? OBJ_VAL(r) : ERROR_VAL;
}

static Value os_uname(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "uname", nargs, kwnames, 0, 0)) return ERROR_VAL;
    struct utsname u;
    if (uname(&u) < 0) return file_raise_oserror(ts, errno, NONE_VAL);
    const char *parts[5] = {u.sysname, u.nodename, u.release, u.version, u.machine};
    ObjTuple *r = tuple_new(ts, 5);
    if (!r) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(r));
    bool ok = true;
    for (int i = 0; i < 5 && ok; i++) {
        ObjStr *s = str_from_cstr(ts, parts[i]);
        if (s) r->items[i] = OBJ_VAL(s);
        ok = s != NULL;
    }
    vm_pop(ts);
    return ok ? OBJ_VAL(r) : ERROR_VAL;
}

static Value os_cpu_count(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "cpu_count", nargs, kwnames, 0, 0)) return ERROR_VAL;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n >= 1 ? INT_VAL(n) : NONE_VAL;
}

static Value os_getloadavg(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "getloadavg", nargs, kwnames, 0, 0)) return ERROR_VAL;
    double load[3];
    if (getloadavg(load, 3) != 3) return err_format(ts, ts->interp->exc.OSError, "Load averages are unobtainable");
    Value v[3] = {FLOAT_VAL(load[0]), FLOAT_VAL(load[1]), FLOAT_VAL(load[2])};
    ObjTuple *r = tuple_from(ts, v, 3);
    return r ? OBJ_VAL(r) : ERROR_VAL;
}

/* sched_getaffinity(pid) -> the set of CPUs the process may run on. */
static Value os_sched_getaffinity(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "sched_getaffinity", nargs, kwnames, 1, 1)) return ERROR_VAL;
    int pid;
    if (!c_int_arg(ts, args[0], &pid)) return ERROR_VAL;
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    if (sched_getaffinity(pid, sizeof cpus, &cpus) < 0) return file_raise_oserror(ts, errno, NONE_VAL);
    ObjSet *s = set_new(ts, ts->interp->types.set);
    if (!s) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(s));
    bool ok = true;
    for (int i = 0; i < CPU_SETSIZE && ok; i++)
        if (CPU_ISSET(i, &cpus)) ok = set_add(ts, s, INT_VAL(i)) >= 0;
    vm_pop(ts);
    return ok ? OBJ_VAL(s) : ERROR_VAL;
}

static Value os_umask(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "umask", nargs, kwnames, 1, 1)) return ERROR_VAL;
    int mask;
    if (!c_int_arg(ts, args[0], &mask)) return ERROR_VAL;
    return INT_VAL(umask((mode_t)mask));
}

/* ---- the environment ----------------------------------------------------------- */

/* putenv(key, value), unsetenv(key): str or bytes (key: putenv's name). */
static bool env_arg(TState *ts, Value v, bool key, const char **out) {
    Interp *interp = ts->interp;
    if (!IS_STR(v) && !IS_BYTES(v)) {
        err_format(ts, interp->exc.TypeError, "str expected, not %s", ops_type_name(ts, v));
        return false;
    }
    const char *s = IS_STR(v) ? AS_STR(v)->data : AS_BYTES(v)->data;
    size_t n = IS_STR(v) ? AS_STR(v)->len : AS_BYTES(v)->len;
    if (memchr(s, '\0', n)) {
        err_format(ts, interp->exc.ValueError, "embedded null byte");
        return false;
    }
    /* An empty name, or '=' in unsetenv's, is left to the system (EINVAL),
     * as in CPython. */
    if (key && n > 0 && strchr(s, '=')) {
        err_format(ts, interp->exc.ValueError, "illegal environment variable name");
        return false;
    }
    *out = s;
    return true;
}

static Value os_putenv(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "putenv", nargs, kwnames, 2, 2)) return ERROR_VAL;
    const char *key, *value;
    if (!env_arg(ts, args[0], true, &key) || !env_arg(ts, args[1], false, &value)) return ERROR_VAL;
    if (setenv(key, value, 1) < 0) return file_raise_oserror(ts, errno, NONE_VAL);
    return NONE_VAL;
}

static Value os_unsetenv(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "unsetenv", nargs, kwnames, 1, 1)) return ERROR_VAL;
    const char *key;
    if (!env_arg(ts, args[0], false, &key)) return ERROR_VAL;
    if (unsetenv(key) < 0) return file_raise_oserror(ts, errno, NONE_VAL);
    return NONE_VAL;
}

/* posix.environ: the environment at start-up, as a dict of str (entries
 * that are not UTF-8 are left out). os.environ is the live mapping. */
static ObjDict *environ_snapshot(TState *ts) {
    ObjDict *env = dict_new(ts);
    if (!env) return NULL;
    vm_push(ts, OBJ_VAL(env));
    bool ok = true;
    for (char **e = environ; *e && ok; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq || eq == *e) continue;
        size_t klen = (size_t)(eq - *e), vlen = strlen(eq + 1);
        if (!str_utf8_valid(*e, klen) || !str_utf8_valid(eq + 1, vlen)) continue;
        ObjStr *key = str_new(ts, *e, klen);
        ObjStr *value = key ? str_new(ts, eq + 1, vlen) : NULL;
        ok = value && dict_set(ts, env, OBJ_VAL(key), OBJ_VAL(value)) == 0;
    }
    vm_pop(ts);
    return ok ? env : NULL;
}

/* ---- the file system ------------------------------------------------------------ */

static Value os_getcwd(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "getcwd", nargs, kwnames, 0, 0)) return ERROR_VAL;
    char buf[PATH_MAX];
    if (!getcwd(buf, sizeof buf)) return file_raise_oserror(ts, errno, NONE_VAL);
    ObjStr *s = str_from_cstr(ts, buf);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static Value os_getcwdb(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "getcwdb", nargs, kwnames, 0, 0)) return ERROR_VAL;
    char buf[PATH_MAX];
    if (!getcwd(buf, sizeof buf)) return file_raise_oserror(ts, errno, NONE_VAL);
    ObjBytes *b = bytes_new(ts, buf, strlen(buf));
    return b ? OBJ_VAL(b) : ERROR_VAL;
}

static Value os_chdir(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"path"};
    Value a[1];
    if (!args_bind(ts, "chdir", args, nargs, kwnames, names, 1, 1, 1, a)) return ERROR_VAL;
    if (interp_sandbox_refuses(ts, "os.chdir()")) return ERROR_VAL;
    PathArg p;
    if (!path_arg(ts, "chdir", a[0], PATH_OR_FD, &p)) return ERROR_VAL;
    int r, err;
    SYSCALL(ts, r, err, p.c ? chdir(p.c) : fchdir(p.fd));
    Value v = none_or_error(ts, r, err, p.obj);
    path_done(ts, &p);
    return v;
}

/* One directory entry as the scandir listing keeps it. */
typedef struct DirName {
    size_t len;
    unsigned char type;
    ino_t ino;
} DirName;

/* Reads a directory's entries into sb: for each, a DirName then the name
 * and a NUL. Runs detached: touches no object. Returns 0 or an errno. */
static int read_dir(const char *path, int fd, StrBuf *sb) {
    DIR *dir;
    if (path) {
        dir = opendir(path);
    } else {
        /* fdopendir takes the descriptor over: read through a duplicate,
         * from the start, as CPython does. */
        int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
        if (dup_fd < 0) return errno;
        dir = fdopendir(dup_fd);
        if (!dir) {
            int err = errno;
            close(dup_fd);
            return err;
        }
        rewinddir(dir);
    }
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
        DirName d = {strlen(e->d_name), e->d_type, e->d_ino};
        if (!sb_append(sb, (const char *)&d, sizeof d) || !sb_append(sb, e->d_name, d.len + 1)) {
            err = ENOMEM;
            break;
        }
    }
    closedir(dir);
    return err;
}

/* listdir(path='.') -> names; _scandir(path='.') -> [(name, d_type, inode)]. */
static Value list_dir(TState *ts, const char *fname, Value *args, int nargs, ObjTuple *kwnames, bool details) {
    static const char *const names[] = {"path"};
    Value a[1];
    if (!args_bind(ts, fname, args, nargs, kwnames, names, 1, 0, 1, a)) return ERROR_VAL;
    PathArg p;
    if (!path_arg(ts, fname, a[0], PATH_FD_OR_NONE, &p)) return ERROR_VAL;
    StrBuf sb;
    sb_init(&sb);
    thread_detach(ts);
    int err = read_dir(p.c, p.fd, &sb);
    thread_attach(ts);
    ObjList *list = NULL;
    if (err == ENOMEM) err_no_memory(ts);
    else if (err) fail(ts, err, IS_NONE(p.obj) && p.c ? OBJ_VAL(str_intern_cstr(ts, ".")) : p.obj, NONE_VAL);
    else list = list_new(ts, 0);
    if (list) vm_push(ts, OBJ_VAL(list));
    for (size_t pos = 0; list && pos < sb.len;) {
        DirName d;
        memcpy(&d, sb.data + pos, sizeof d);
        const char *entry = sb.data + pos + sizeof d;
        pos += sizeof d + d.len + 1;
        Value name = name_value(ts, entry, d.len, p.bytes);
        if (IS_NONE(name)) continue;
        Value item = name;
        if (!IS_ERROR(name) && details) {
            vm_push(ts, name);
            Value ino = int_from_u64(ts, (uint64_t)d.ino);
            Value v[3] = {name, INT_VAL(d.type), ino};
            ObjTuple *t = IS_ERROR(ino) ? NULL : tuple_from(ts, v, 3);
            vm_pop(ts);
            item = t ? OBJ_VAL(t) : ERROR_VAL;
        }
        if (IS_ERROR(item) || list_append(ts, list, item) < 0) {
            vm_pop(ts);
            list = NULL;
        }
    }
    if (list) vm_pop(ts);
    sb_free(&sb);
    path_done(ts, &p);
    return list ? OBJ_VAL(list) : ERROR_VAL;
}

static Value os_listdir(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return list_dir(ts, "listdir", args, nargs, kwnames, false);
}

static Value os_scandir_list(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return list_dir(ts, "scandir", args, nargs, kwnames, true);
}

/* os.stat_result, which os.mini defines and hands to this module as
 * posix.stat_result; NULL (and no error) before that. */
static ObjType *stat_result_class(TState *ts) {
    Value cls = module_attr(ts, "posix", "stat_result");
    if (IS_ERROR(cls)) err_clear(ts);
    return IS_TYPE(cls) && type_is_subtype(AS_TYPE(cls), ts->interp->types.tuple) ? AS_TYPE(cls) : NULL;
}

/* A struct stat as os.stat_result: the ten fields of the sequence (the
 * times in whole seconds) and, in the attribute _extra, the float times,
 * the times in ns, st_blksize, st_blocks and st_rdev. Without the class
 * (os not imported): the 19 values as a plain tuple. */
static Value stat_result(TState *ts, const struct stat *st) {
    const struct timespec *times[3] = {&st->st_atim, &st->st_mtim, &st->st_ctim};
    Value v[19] = {INT_VAL(st->st_mode), int_from_u64(ts, st->st_ino), int_from_u64(ts, st->st_dev),
                   int_from_u64(ts, st->st_nlink), INT_VAL(st->st_uid), INT_VAL(st->st_gid),
                   int_from_i64(ts, st->st_size)};
    for (int i = 0; i < 3; i++) {
        v[7 + i] = int_from_i64(ts, times[i]->tv_sec);
        v[10 + i] = FLOAT_VAL((double)times[i]->tv_sec + (double)times[i]->tv_nsec * 1e-9);
        v[13 + i] = int_from_i64(ts, (int64_t)times[i]->tv_sec * 1000000000 + times[i]->tv_nsec);
    }
    v[16] = int_from_i64(ts, st->st_blksize);
    v[17] = int_from_i64(ts, st->st_blocks);
    v[18] = int_from_u64(ts, st->st_rdev);
    /* Big ints are fresh objects: nothing collects before they are stored
     * (no safepoint until this returns). */
    for (int i = 0; i < 19; i++)
        if (IS_ERROR(v[i])) return ERROR_VAL;
    ObjType *cls = stat_result_class(ts);
    if (!cls) {
        ObjTuple *t = tuple_from(ts, v, 19);
        return t ? OBJ_VAL(t) : ERROR_VAL;
    }
    ObjTuple *extra = tuple_from(ts, v + 10, 9);
    if (!extra) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(extra));
    ObjTuple *t = tuple_new_of(ts, cls, 10);
    if (t) {
        memcpy(t->items, v, 10 * sizeof(Value));
        vm_push(ts, OBJ_VAL(t));
        ObjStr *name = str_intern_cstr(ts, "_extra");
        if (!name || ops_setattr(ts, OBJ_VAL(t), name, OBJ_VAL(extra)) < 0) t = NULL;
        vm_pop(ts);
    }
    vm_pop(ts);
    return t ? OBJ_VAL(t) : ERROR_VAL;
}

/* stat(path, *, dir_fd=None, follow_symlinks=True), lstat(path, *,
 * dir_fd=None) (no descriptor) and fstat(fd). */
static Value stat_call(TState *ts, const char *fname, Value path, Value dir_fd_v, bool follow, int allow) {
    int dir_fd, err, r;
    if (!dir_fd_arg(ts, dir_fd_v, &dir_fd)) return ERROR_VAL;
    PathArg p;
    if (!path_arg(ts, fname, path, allow, &p)) return ERROR_VAL;
    struct stat st;
    if (p.c) SYSCALL(ts, r, err, fstatat(dir_fd, p.c, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW));
    else SYSCALL(ts, r, err, fstat(p.fd, &st));
    Value v = r < 0 ? fail(ts, err, p.obj, NONE_VAL) : stat_result(ts, &st);
    path_done(ts, &p);
    return v;
}

static Value os_stat(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"path", "dir_fd", "follow_symlinks"};
    Value a[3];
    bool follow;
    if (!args_bind(ts, "stat", args, nargs, kwnames, names, 3, 1, 1, a) || !flag_arg(ts, a[2], true, &follow))
        return ERROR_VAL;
    return stat_call(ts, "stat", a[0], a[1], follow, PATH_OR_FD);
}

static Value os_lstat(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"path", "dir_fd"};
    Value a[2];
    if (!args_bind(ts, "lstat", args, nargs, kwnames, names, 2, 1, 1, a)) return ERROR_VAL;
    return stat_call(ts, "lstat", a[0], a[1], false, PATH_ONLY);
}

static Value os_fstat(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"fd"};
    Value a[1];
    int fd;
    if (!args_bind(ts, "fstat", args, nargs, kwnames, names, 1, 1, 1, a) || !c_int_arg(ts, a[0], &fd))
        return ERROR_VAL;
    return stat_call(ts, "fstat", INT_VAL(fd), EMPTY_VAL, true, PATH_OR_FD);
}

/* _mode(path, follow_symlinks): the st_mode of a path, or -1 when stat
 * fails with an OSError: os.path's questions (exists, isdir, ...) ask
 * this without building a stat_result. */
static Value os_mode(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "_mode", nargs, kwnames, 2, 2)) return ERROR_VAL;
    bool follow;
    if (!flag_arg(ts, args[1], true, &follow)) return ERROR_VAL;
    PathArg p;
    if (!path_arg(ts, follow ? "stat" : "lstat", args[0], follow ? PATH_OR_FD : PATH_ONLY, &p)) return ERROR_VAL;
    struct stat st;
    int r, err;
    if (p.c) SYSCALL(ts, r, err, fstatat(AT_FDCWD, p.c, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW));
    else SYSCALL(ts, r, err, fstat(p.fd, &st));
    path_done(ts, &p);
    if (r < 0) return err == EINTR ? ERROR_VAL : INT_VAL(-1);
    return INT_VAL(st.st_mode);
}

/* _statvfs(path or fd): (f_bsize, f_frsize, f_blocks, f_bfree, f_bavail,
 * f_files, f_ffree, f_favail, f_flag, f_namemax, f_fsid). */
static Value os_statvfs_raw(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "statvfs", nargs, kwnames, 1, 1)) return ERROR_VAL;
    PathArg p;
    if (!path_arg(ts, "statvfs", args[0], PATH_OR_FD, &p)) return ERROR_VAL;
    struct statvfs st;
    int r, err;
    if (p.c) SYSCALL(ts, r, err, statvfs(p.c, &st));
    else SYSCALL(ts, r, err, fstatvfs(p.fd, &st));
    Value v = r < 0 ? fail(ts, err, p.obj, NONE_VAL) : NONE_VAL;
    ObjTuple *t = r < 0 ? NULL : tuple_new(ts, 11);
    if (t) {
        vm_push(ts, OBJ_VAL(t));
        uint64_t fields[11] = {st.f_bsize, st.f_frsize, st.f_blocks, st.f_bfree, st.f_bavail, st.f_files,
                               st.f_ffree, st.f_favail, st.f_flag, st.f_namemax, st.f_fsid};
        v = OBJ_VAL(t);
        for (int i = 0; i < 11 && !IS_ERROR(v); i++) {
            Value n = int_from_u64(ts, fields[i]);
            if (IS_ERROR(n)) v = n;
            else t->items[i] = n;
        }
        vm_pop(ts);
    } else if (r >= 0) {
        v = ERROR_VAL;
    }
    path_done(ts, &p);
    return v;
}

/* remove/unlink, rmdir: path, *, dir_fd=None. */
static Value unlink_call(TState *ts, const char *fname, Value *args, int nargs, ObjTuple *kwnames, int flags) {
    static const char *const names[] = {"path", "dir_fd"};
    Value a[2];
    if (!args_bind(ts, fname, args, nargs, kwnames, names, 2, 1, 1, a)) return ERROR_VAL;
    int dir_fd, r, err;
    PathArg p;
    if (!dir_fd_arg(ts, a[1], &dir_fd) || !path_arg(ts, fname, a[0], PATH_ONLY, &p)) return ERROR_VAL;
    SYSCALL(ts, r, err, unlinkat(dir_fd, p.c, flags));
    Value v = none_or_error(ts, r, err, p.obj);
    path_done(ts, &p);
    return v;
}

static Value os_remove(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return unlink_call(ts, "remove", args, nargs, kwnames, 0);
}

static Value os_unlink(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return unlink_call(ts, "unlink", args, nargs, kwnames, 0);
}

static Value os_rmdir(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return unlink_call(ts, "rmdir", args, nargs, kwnames, AT_REMOVEDIR);
}

static Value os_mkdir(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"path", "mode", "dir_fd"};
    Value a[3];
    if (!args_bind(ts, "mkdir", args, nargs, kwnames, names, 3, 1, 2, a)) return ERROR_VAL;
    int mode = 0777, dir_fd, r, err;
    if ((!IS_EMPTY(a[1]) && !c_int_arg(ts, a[1], &mode)) || !dir_fd_arg(ts, a[2], &dir_fd)) return ERROR_VAL;
    PathArg p;
    if (!path_arg(ts, "mkdir", a[0], PATH_ONLY, &p)) return ERROR_VAL;
    SYSCALL(ts, r, err, mkdirat(dir_fd, p.c, (mode_t)mode));
    Value v = none_or_error(ts, r, err, p.obj);
    path_done(ts, &p);
    return v;
}

/* Two paths, the second shown after "->" in errors: rename, replace,
 * link, symlink (whose errors name both as well). */
typedef enum { TWO_RENAME, TWO_LINK, TWO_SYMLINK } TwoPathOp;

static Value two_paths(TState *ts, const char *fname, Value *args, int nargs, ObjTuple *kwnames, TwoPathOp op) {
    static const char *const rename_names[] = {"src", "dst", "src_dir_fd", "dst_dir_fd"};
    static const char *const link_names[] = {"src", "dst", "src_dir_fd", "dst_dir_fd", "follow_symlinks"};
    static const char *const symlink_names[] = {"src", "dst", "target_is_directory", "dir_fd"};
    Value a[5] = {EMPTY_VAL, EMPTY_VAL, EMPTY_VAL, EMPTY_VAL, EMPTY_VAL};
    bool ok = op == TWO_RENAME  ? args_bind(ts, fname, args, nargs, kwnames, rename_names, 4, 2, 2, a)
              : op == TWO_LINK ? args_bind(ts, fname, args, nargs, kwnames, link_names, 5, 2, 2, a)
                               : args_bind(ts, fname, args, nargs, kwnames, symlink_names, 4, 2, 3, a);
    if (!ok) return ERROR_VAL;
    int src_fd = AT_FDCWD, dst_fd = AT_FDCWD, r, err;
    bool follow = true;
    if (op == TWO_SYMLINK) ok = dir_fd_arg(ts, a[3], &dst_fd);
    else ok = dir_fd_arg(ts, a[2], &src_fd) && dir_fd_arg(ts, a[3], &dst_fd) && flag_arg(ts, a[4], true, &follow);
    if (!ok) return ERROR_VAL;
    PathArg src, dst;
    if (!path_arg(ts, fname, a[0], PATH_ONLY, &src)) return ERROR_VAL;
    if (!path_arg(ts, fname, a[1], PATH_ONLY, &dst)) {
        path_done(ts, &src);
        return ERROR_VAL;
    }
    switch (op) {
    case TWO_RENAME: SYSCALL(ts, r, err, renameat(src_fd, src.c, dst_fd, dst.c)); break;
    case TWO_LINK: SYSCALL(ts, r, err, linkat(src_fd, src.c, dst_fd, dst.c, follow ? AT_SYMLINK_FOLLOW : 0)); break;
    default: SYSCALL(ts, r, err, symlinkat(src.c, dst_fd, dst.c)); break;
    }
    Value v = r < 0 ? fail(ts, err, src.obj, dst.obj) : NONE_VAL;
    path_done(ts, &dst);
    path_done(ts, &src);
    return v;
}

static Value os_rename(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return two_paths(ts, "rename", args, nargs, kwnames, TWO_RENAME);
}

static Value os_replace(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return two_paths(ts, "replace", args, nargs, kwnames, TWO_RENAME);
}

static Value os_link(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return two_paths(ts, "link", args, nargs, kwnames, TWO_LINK);
}

static Value os_symlink(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return two_paths(ts, "symlink", args, nargs, kwnames, TWO_SYMLINK);
}

static Value os_readlink(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"path", "dir_fd"};
    Value a[2];
    if (!args_bind(ts, "readlink", args, nargs, kwnames, names, 2, 1, 1, a)) return ERROR_VAL;
    int dir_fd, err;
    PathArg p;
    if (!dir_fd_arg(ts, a[1], &dir_fd) || !path_arg(ts, "readlink", a[0], PATH_ONLY, &p)) return ERROR_VAL;
    char buf[PATH_MAX];
    ssize_t n;
    SYSCALL(ts, n, err, readlinkat(dir_fd, p.c, buf, sizeof buf));
    Value v;
    if (n < 0) {
        v = fail(ts, err, p.obj, NONE_VAL);
    } else {
        v = name_value(ts, buf, (size_t)n, p.bytes);
        if (IS_NONE(v)) v = err_format(ts, ts->interp->exc.UnicodeDecodeError, "link target is not UTF-8");
    }
    path_done(ts, &p);
    return v;
}

/* access(path, mode, *, dir_fd=None, effective_ids=False, follow_symlinks=True) -> bool */
static Value os_access(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"path", "mode", "dir_fd", "effective_ids", "follow_symlinks"};
    Value a[5];
    if (!args_bind(ts, "access", args, nargs, kwnames, names, 5, 2, 2, a)) return ERROR_VAL;
    int mode, dir_fd, r, err;
    bool effective, follow;
    if (!c_int_arg(ts, a[1], &mode) || !dir_fd_arg(ts, a[2], &dir_fd) || !flag_arg(ts, a[3], false, &effective) ||
        !flag_arg(ts, a[4], true, &follow))
        return ERROR_VAL;
    PathArg p;
    if (!path_arg(ts, "access", a[0], PATH_ONLY, &p)) return ERROR_VAL;
    int flags = (effective ? AT_EACCESS : 0) | (follow ? 0 : AT_SYMLINK_NOFOLLOW);
    SYSCALL(ts, r, err, faccessat(dir_fd, p.c, mode, flags));
    path_done(ts, &p);
    if (r < 0 && err == EINTR) return ERROR_VAL;
    return BOOL_VAL(r == 0);
}

/* chmod(path, mode, *, dir_fd=None, follow_symlinks=True) */
static Value os_chmod(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"path", "mode", "dir_fd", "follow_symlinks"};
    Value a[4];
    if (!args_bind(ts, "chmod", args, nargs, kwnames, names, 4, 2, 2, a)) return ERROR_VAL;
    int mode, dir_fd, r, err;
    bool follow;
    if (!c_int_arg(ts, a[1], &mode) || !dir_fd_arg(ts, a[2], &dir_fd) || !flag_arg(ts, a[3], true, &follow))
        return ERROR_VAL;
    PathArg p;
    if (!path_arg(ts, "chmod", a[0], PATH_OR_FD, &p)) return ERROR_VAL;
    if (p.c) SYSCALL(ts, r, err, fchmodat(dir_fd, p.c, (mode_t)mode, follow ? 0 : AT_SYMLINK_NOFOLLOW));
    else SYSCALL(ts, r, err, fchmod(p.fd, (mode_t)mode));
    Value v = none_or_error(ts, r, err, p.obj);
    path_done(ts, &p);
    return v;
}

/* A time in seconds (int or float) as a timespec. */
static bool timespec_arg(TState *ts, Value v, struct timespec *out) {
    if (!IS_FLOAT(v) && !ops_isinstance(ts, v, ts->interp->types.float_)) {
        int64_t s;
        if (!args_int(ts, v, &s)) return false;
        *out = (struct timespec){.tv_sec = s, .tv_nsec = 0};
        return true;
    }
    double d;
    if (!args_float(ts, v, &d)) return false;
    double whole = (double)(int64_t)d;
    if (whole > d) whole -= 1;
    *out = (struct timespec){.tv_sec = (time_t)whole, .tv_nsec = (long)((d - whole) * 1e9)};
    return true;
}

static bool ns_timespec_arg(TState *ts, Value v, struct timespec *out) {
    int64_t ns;
    if (!args_int(ts, v, &ns)) return false;
    int64_t s = ns / 1000000000, rest = ns % 1000000000;
    if (rest < 0) {
        rest += 1000000000;
        s -= 1;
    }
    *out = (struct timespec){.tv_sec = s, .tv_nsec = rest};
    return true;
}

/* A pair (atime, mtime) of times=. or ns=. */
static bool time_pair(TState *ts, Value v, const char *what, bool ns, struct timespec out[2]) {
    if (!IS_TUPLE(v) || AS_TUPLE(v)->len != 2) {
        err_format(ts, ts->interp->exc.TypeError, "utime: '%s' must be %sa tuple of two ints%s", what,
                   ns ? "" : "either ", ns ? "" : " or None");
        return false;
    }
    for (int i = 0; i < 2; i++)
        if (!(ns ? ns_timespec_arg : timespec_arg)(ts, AS_TUPLE(v)->items[i], &out[i])) return false;
    return true;
}

/* utime(path, times=None, *, ns=None, dir_fd=None, follow_symlinks=True) */
static Value os_utime(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"path", "times", "ns", "dir_fd", "follow_symlinks"};
    Value a[5];
    if (!args_bind(ts, "utime", args, nargs, kwnames, names, 5, 1, 2, a)) return ERROR_VAL;
    bool have_times = !IS_EMPTY(a[1]) && !IS_NONE(a[1]), have_ns = !IS_EMPTY(a[2]);
    if (have_times && have_ns)
        return err_format(ts, ts->interp->exc.ValueError, "utime: you may specify either 'times' or 'ns' but not both");
    struct timespec tv[2] = {{.tv_nsec = UTIME_NOW}, {.tv_nsec = UTIME_NOW}};
    int dir_fd, r, err;
    bool follow;
    if ((have_times && !time_pair(ts, a[1], "times", false, tv)) || (have_ns && !time_pair(ts, a[2], "ns", true, tv)) ||
        !dir_fd_arg(ts, a[3], &dir_fd) || !flag_arg(ts, a[4], true, &follow))
        return ERROR_VAL;
    PathArg p;
    if (!path_arg(ts, "utime", a[0], PATH_OR_FD, &p)) return ERROR_VAL;
    if (p.c) SYSCALL(ts, r, err, utimensat(dir_fd, p.c, tv, follow ? 0 : AT_SYMLINK_NOFOLLOW));
    else SYSCALL(ts, r, err, futimens(p.fd, tv));
    Value v = none_or_error(ts, r, err, NONE_VAL); /* CPython names no file here */
    path_done(ts, &p);
    return v;
}

static Value os_truncate(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"path", "length"};
    Value a[2];
    if (!args_bind(ts, "truncate", args, nargs, kwnames, names, 2, 2, 2, a)) return ERROR_VAL;
    int64_t length;
    int r, err;
    if (!args_int(ts, a[1], &length)) return ERROR_VAL;
    PathArg p;
    if (!path_arg(ts, "truncate", a[0], PATH_OR_FD, &p)) return ERROR_VAL;
    if (p.c) SYSCALL(ts, r, err, truncate(p.c, (off_t)length));
    else SYSCALL(ts, r, err, ftruncate(p.fd, (off_t)length));
    Value v = none_or_error(ts, r, err, p.obj);
    path_done(ts, &p);
    return v;
}

/* ---- descriptors ------------------------------------------------------------------ */

/* open(path, flags, mode=0o777, *, dir_fd=None) -> fd, not inheritable. */
static Value os_open(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"path", "flags", "mode", "dir_fd"};
    Value a[4];
    if (!args_bind(ts, "open", args, nargs, kwnames, names, 4, 2, 3, a)) return ERROR_VAL;
    int flags, mode = 0777, dir_fd, fd, err;
    if (!c_int_arg(ts, a[1], &flags) || (!IS_EMPTY(a[2]) && !c_int_arg(ts, a[2], &mode)) ||
        !dir_fd_arg(ts, a[3], &dir_fd))
        return ERROR_VAL;
    PathArg p;
    if (!path_arg(ts, "open", a[0], PATH_ONLY, &p)) return ERROR_VAL;
    SYSCALL(ts, fd, err, openat(dir_fd, p.c, flags | O_CLOEXEC, (mode_t)mode));
    Value v = fd < 0 ? fail(ts, err, p.obj, NONE_VAL) : INT_VAL(fd);
    path_done(ts, &p);
    return v;
}

/* One descriptor argument and nothing else. */
static bool one_fd(TState *ts, const char *fname, Value *args, int nargs, ObjTuple *kwnames, int *fd) {
    static const char *const names[] = {"fd"};
    Value a[1];
    return args_bind(ts, fname, args, nargs, kwnames, names, 1, 1, 1, a) && c_int_arg(ts, a[0], fd);
}

static Value os_close(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    int fd;
    if (!one_fd(ts, "close", args, nargs, kwnames, &fd)) return ERROR_VAL;
    /* Not retried after EINTR: Linux closes the descriptor anyway. */
    if (close(fd) < 0 && errno != EINTR) return file_raise_oserror(ts, errno, NONE_VAL);
    return NONE_VAL;
}

static Value os_closerange(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "closerange", nargs, kwnames, 2, 2)) return ERROR_VAL;
    int lo, hi;
    if (!c_int_arg(ts, args[0], &lo) || !c_int_arg(ts, args[1], &hi)) return ERROR_VAL;
    for (int fd = lo < 0 ? 0 : lo; fd < hi; fd++) close(fd);
    return NONE_VAL;
}

static Value os_fsync(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    int fd, r, err;
    if (!one_fd(ts, "fsync", args, nargs, kwnames, &fd)) return ERROR_VAL;
    SYSCALL(ts, r, err, fsync(fd));
    return none_or_error(ts, r, err, NONE_VAL);
}

static Value os_lseek(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "lseek", nargs, kwnames, 3, 3)) return ERROR_VAL;
    int fd, how;
    int64_t pos;
    if (!c_int_arg(ts, args[0], &fd) || !args_int(ts, args[1], &pos) || !c_int_arg(ts, args[2], &how))
        return ERROR_VAL;
    off_t r = lseek(fd, (off_t)pos, how);
    if (r < 0) return file_raise_oserror(ts, errno, NONE_VAL);
    return int_from_i64(ts, (int64_t)r);
}

static Value os_dup(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    int fd;
    if (!one_fd(ts, "dup", args, nargs, kwnames, &fd)) return ERROR_VAL;
    int r = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (r < 0) return file_raise_oserror(ts, errno, NONE_VAL);
    return INT_VAL(r);
}

/* dup2(fd, fd2, inheritable=True) -> fd2 */
static Value os_dup2(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"fd", "fd2", "inheritable"};
    Value a[3];
    if (!args_bind(ts, "dup2", args, nargs, kwnames, names, 3, 2, 3, a)) return ERROR_VAL;
    int fd, fd2, r, err;
    bool inheritable;
    if (!c_int_arg(ts, a[0], &fd) || !c_int_arg(ts, a[1], &fd2) || !flag_arg(ts, a[2], true, &inheritable))
        return ERROR_VAL;
    if (fd == fd2) {
        if (fcntl(fd, F_GETFD) < 0) return file_raise_oserror(ts, errno, NONE_VAL);
        return INT_VAL(fd2);
    }
    SYSCALL(ts, r, err, dup3(fd, fd2, inheritable ? 0 : O_CLOEXEC));
    return r < 0 ? fail(ts, err, NONE_VAL, NONE_VAL) : INT_VAL(r);
}

static Value os_pipe(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "pipe", nargs, kwnames, 0, 0)) return ERROR_VAL;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) return file_raise_oserror(ts, errno, NONE_VAL);
    ObjTuple *t = tuple_pack2(ts, INT_VAL(fds[0]), INT_VAL(fds[1]));
    if (t) return OBJ_VAL(t);
    close(fds[0]);
    close(fds[1]);
    return ERROR_VAL;
}

static Value os_get_inheritable(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    int fd;
    if (!one_fd(ts, "get_inheritable", args, nargs, kwnames, &fd)) return ERROR_VAL;
    int flags = fcntl(fd, F_GETFD);
    if (flags < 0) return file_raise_oserror(ts, errno, NONE_VAL);
    return BOOL_VAL(!(flags & FD_CLOEXEC));
}

/* set_inheritable(fd, inheritable), set_blocking(fd, blocking): one flag. */
static Value set_fd_flag(TState *ts, const char *fname, Value *args, int nargs, ObjTuple *kwnames, int get, int set,
                         int flag) {
    if (!args_check(ts, fname, nargs, kwnames, 2, 2)) return ERROR_VAL;
    int fd;
    bool on;
    if (!c_int_arg(ts, args[0], &fd) || !flag_arg(ts, args[1], true, &on)) return ERROR_VAL;
    int flags = fcntl(fd, get);
    /* The flags say "close on exec" and "non-blocking": the opposites. */
    if (flags < 0 || fcntl(fd, set, on ? flags & ~flag : flags | flag) < 0)
        return file_raise_oserror(ts, errno, NONE_VAL);
    return NONE_VAL;
}

static Value os_set_inheritable(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return set_fd_flag(ts, "set_inheritable", args, nargs, kwnames, F_GETFD, F_SETFD, FD_CLOEXEC);
}

static Value os_get_blocking(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    int fd;
    if (!one_fd(ts, "get_blocking", args, nargs, kwnames, &fd)) return ERROR_VAL;
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) return file_raise_oserror(ts, errno, NONE_VAL);
    return BOOL_VAL(!(flags & O_NONBLOCK));
}

static Value os_set_blocking(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return set_fd_flag(ts, "set_blocking", args, nargs, kwnames, F_GETFL, F_SETFL, O_NONBLOCK);
}

static Value os_isatty(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    int fd;
    if (!one_fd(ts, "isatty", args, nargs, kwnames, &fd)) return ERROR_VAL;
    return BOOL_VAL(isatty(fd));
}

/* get_terminal_size(fd=1) -> (columns, lines) */
static Value os_get_terminal_size(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "get_terminal_size", nargs, kwnames, 0, 1)) return ERROR_VAL;
    int fd = 1;
    if (nargs == 1 && !c_int_arg(ts, args[0], &fd)) return ERROR_VAL;
    struct winsize w;
    if (ioctl(fd, TIOCGWINSZ, &w) < 0) return file_raise_oserror(ts, errno, NONE_VAL);
    ObjTuple *t = tuple_pack2(ts, INT_VAL(w.ws_col), INT_VAL(w.ws_row));
    return t ? OBJ_VAL(t) : ERROR_VAL;
}

/* os.read(fd, n) and os.write(fd, data): one system call each, detached
 * (the data is copied first, so no object is touched while detached). */
static Value os_read(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "read", nargs, kwnames, 2, 2)) return ERROR_VAL;
    int fd, err;
    int64_t n;
    if (!c_int_arg(ts, args[0], &fd) || !args_int(ts, args[1], &n)) return ERROR_VAL;
    if (n < 0) return file_raise_oserror(ts, EINVAL, NONE_VAL);
    char *buf = malloc(n ? (size_t)n : 1);
    if (!buf) return err_no_memory(ts);
    ssize_t r;
    SYSCALL(ts, r, err, read(fd, buf, (size_t)n));
    ObjBytes *b = r >= 0 ? bytes_new(ts, buf, (size_t)r) : NULL;
    free(buf);
    if (r < 0) return fail(ts, err, NONE_VAL, NONE_VAL);
    return b ? OBJ_VAL(b) : ERROR_VAL;
}

static Value os_write(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "write", nargs, kwnames, 2, 2)) return ERROR_VAL;
    int fd, err;
    if (!c_int_arg(ts, args[0], &fd)) return ERROR_VAL;
    Buffer b;
    if (!buffer_get(ts, args[1], &b, BUF_READ)) return ERROR_VAL;
    char *copy = malloc(b.len ? b.len : 1);
    if (copy) memcpy(copy, b.buf, b.len);
    size_t len = b.len;
    buffer_release(ts, &b);
    if (!copy) return err_no_memory(ts);
    ssize_t r;
    SYSCALL(ts, r, err, write(fd, copy, len));
    free(copy);
    if (r < 0) return fail(ts, err, NONE_VAL, NONE_VAL);
    return int_from_i64(ts, (int64_t)r);
}

/* ---- the rest ------------------------------------------------------------------------ */

static Value os_strerror(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "strerror", nargs, kwnames, 1, 1)) return ERROR_VAL;
    int code;
    if (!c_int_arg(ts, args[0], &code)) return ERROR_VAL;
    char buf[256];
    ObjStr *s = str_from_cstr(ts, strerror_r(code, buf, sizeof buf));
    return s ? OBJ_VAL(s) : ERROR_VAL;
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

static Value os_fspath(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"path"};
    Value a[1];
    if (!args_bind(ts, "fspath", args, nargs, kwnames, names, 1, 1, 1, a)) return ERROR_VAL;
    return file_fspath(ts, a[0]);
}

static const NativeDef os_functions[] = {
    {"getpid", os_getpid},
    {"getppid", os_getppid},
    {"getuid", os_getuid},
    {"geteuid", os_geteuid},
    {"getgid", os_getgid},
    {"getegid", os_getegid},
    {"getpgrp", os_getpgrp},
    {"kill", os_kill},
    {"killpg", os_killpg},
    {"fork", os_fork},
    {"waitpid", os_waitpid},
    {"wait", os_wait},
    {"WIFEXITED", os_WIFEXITED},
    {"WEXITSTATUS", os_WEXITSTATUS},
    {"WIFSIGNALED", os_WIFSIGNALED},
    {"WTERMSIG", os_WTERMSIG},
    {"WIFSTOPPED", os_WIFSTOPPED},
    {"WSTOPSIG", os_WSTOPSIG},
    {"WCOREDUMP", os_WCOREDUMP},
    {"WIFCONTINUED", os_WIFCONTINUED},
    {"waitstatus_to_exitcode", os_waitstatus_to_exitcode},
    {"_exit", os_exit_now},
    {"execv", os_execv},
    {"execve", os_execve},
    {"system", os_system},
    {"nice", os_nice},
    {"setsid", os_setsid},
    {"getpgid", os_getpgid},
    {"getsid", os_getsid},
    {"setpgid", os_setpgid},
    {"times", os_times},
    {"uname", os_uname},
    {"cpu_count", os_cpu_count},
    {"getloadavg", os_getloadavg},
    {"sched_getaffinity", os_sched_getaffinity},
    {"umask", os_umask},
    {"putenv", os_putenv},
    {"unsetenv", os_unsetenv},
    {"getcwd", os_getcwd},
    {"getcwdb", os_getcwdb},
    {"chdir", os_chdir},
    {"listdir", os_listdir},
    {"_scandir", os_scandir_list},
    {"stat", os_stat},
    {"lstat", os_lstat},
    {"fstat", os_fstat},
    {"_statvfs", os_statvfs_raw},
    {"_mode", os_mode},
    {"remove", os_remove},
    {"unlink", os_unlink},
    {"rmdir", os_rmdir},
    {"mkdir", os_mkdir},
    {"rename", os_rename},
    {"replace", os_replace},
    {"link", os_link},
    {"symlink", os_symlink},
    {"readlink", os_readlink},
    {"access", os_access},
    {"chmod", os_chmod},
    {"utime", os_utime},
    {"truncate", os_truncate},
    {"open", os_open},
    {"close", os_close},
    {"closerange", os_closerange},
    {"fsync", os_fsync},
    {"lseek", os_lseek},
    {"dup", os_dup},
    {"dup2", os_dup2},
    {"pipe", os_pipe},
    {"get_inheritable", os_get_inheritable},
    {"set_inheritable", os_set_inheritable},
    {"get_blocking", os_get_blocking},
    {"set_blocking", os_set_blocking},
    {"isatty", os_isatty},
    {"get_terminal_size", os_get_terminal_size},
    {"read", os_read},
    {"write", os_write},
    {"strerror", os_strerror},
    {"urandom", os_urandom},
    {"fspath", os_fspath},
    {NULL, NULL},
};

static const IntConstant os_constants[] = {
    {"O_RDONLY", O_RDONLY}, {"O_WRONLY", O_WRONLY}, {"O_RDWR", O_RDWR}, {"O_APPEND", O_APPEND},
    {"O_CREAT", O_CREAT}, {"O_EXCL", O_EXCL}, {"O_TRUNC", O_TRUNC}, {"O_NONBLOCK", O_NONBLOCK},
    {"O_NDELAY", O_NDELAY}, {"O_SYNC", O_SYNC}, {"O_DSYNC", O_DSYNC}, {"O_NOCTTY", O_NOCTTY},
    {"O_CLOEXEC", O_CLOEXEC}, {"O_DIRECTORY", O_DIRECTORY}, {"O_NOFOLLOW", O_NOFOLLOW},
    {"O_ACCMODE", O_ACCMODE}, {"O_ASYNC", O_ASYNC}, {"O_NOATIME", O_NOATIME}, {"O_PATH", O_PATH},
    {"O_TMPFILE", O_TMPFILE}, {"O_LARGEFILE", O_LARGEFILE}, {"O_DIRECT", O_DIRECT},
    {"F_OK", F_OK}, {"R_OK", R_OK}, {"W_OK", W_OK}, {"X_OK", X_OK},
    {"SEEK_SET", SEEK_SET}, {"SEEK_CUR", SEEK_CUR}, {"SEEK_END", SEEK_END},
    {"SEEK_DATA", SEEK_DATA}, {"SEEK_HOLE", SEEK_HOLE},
    {"WNOHANG", WNOHANG}, {"WUNTRACED", WUNTRACED}, {"WCONTINUED", WCONTINUED},
    {"EX_OK", 0}, {"EX_USAGE", 64}, {"EX_DATAERR", 65}, {"EX_NOINPUT", 66}, {"EX_NOUSER", 67},
    {"EX_NOHOST", 68}, {"EX_UNAVAILABLE", 69}, {"EX_SOFTWARE", 70}, {"EX_OSERR", 71},
    {"EX_OSFILE", 72}, {"EX_CANTCREAT", 73}, {"EX_IOERR", 74}, {"EX_TEMPFAIL", 75},
    {"EX_PROTOCOL", 76}, {"EX_NOPERM", 77}, {"EX_CONFIG", 78},
    {"DT_UNKNOWN", DT_UNKNOWN}, {"DT_DIR", DT_DIR}, {"DT_REG", DT_REG}, {"DT_LNK", DT_LNK},
    {NULL, 0},
};

bool mod_posix_init(TState *ts, ObjDict *ns) {
    if (!builtins_add_natives(ts, ns, os_functions)) return false;
    if (!builtins_add_ints(ts, ns, os_constants)) return false;
    ObjDict *env = environ_snapshot(ts);
    return env && builtins_add_value(ts, ns, "environ", OBJ_VAL(env));
}
