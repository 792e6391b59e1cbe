/* _posixsubprocess, subprocess's C half: starting a program and waiting
 * for it.
 *
 * Starting: posix_spawn, not fork. A fork of mini must stop every thread
 * (vm/fork.c) and copy the process's page tables; posix_spawn starts the
 * program directly (a vfork-like clone in glibc), is safe with threads
 * running, and reports a failed exec as an error code, so the parent can
 * raise FileNotFoundError or PermissionError as CPython does. The child
 * gets an empty signal mask (mini's threads block SIGINT, and a program
 * started from one must not inherit that) and, with restore_signals,
 * SIGPIPE and SIGXFSZ back to their defaults.
 *
 * Waiting: on a pidfd through thread_poll (detached, Ctrl-C gets
 * through), or, without pidfds, waitpid(WNOHANG) in short sleeps. */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime/args.h"
#include "runtime/bytes.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/file.h"
#include "runtime/list.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "stdlib/builtins.h"
#include "stdlib/modules.h"
#include "vm/config.h"
#include "vm/interp.h"
#include "vm/sync.h"
#include "vm/thread.h"

/* A NULL-terminated array of C strings copied out of a list or tuple of
 * str or bytes (NULL for None); freed with free_strings. NULL after
 * raising. */
static char **strings_arg(TState *ts, Value v, const char *what, size_t *count) {
    size_t n;
    const Value *items;
    if (IS_TUPLE(v)) {
        n = AS_TUPLE(v)->len;
        items = AS_TUPLE(v)->items;
    } else if (IS_LIST(v)) {
        n = list_len(AS_LIST(v));
        items = NULL;
    } else {
        err_format(ts, ts->interp->exc.TypeError, "%s must be a list or tuple", what);
        return NULL;
    }
    char **out = calloc(n + 1, sizeof *out);
    if (!out) {
        err_no_memory(ts);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        Value s = items ? items[i] : list_get(AS_LIST(v), i);
        const char *p;
        size_t len;
        if (IS_STR(s)) p = AS_STR(s)->data, len = AS_STR(s)->len;
        else if (IS_BYTES(s)) p = AS_BYTES(s)->data, len = AS_BYTES(s)->len;
        else {
            err_format(ts, ts->interp->exc.TypeError, "expected str, bytes or os.PathLike object, not %s",
                       ops_type_name(ts, s));
            goto fail;
        }
        if (memchr(p, '\0', len)) {
            err_set_str(ts, ts->interp->exc.ValueError, "embedded null byte");
            goto fail;
        }
        if (!(out[i] = strndup(p, len))) {
            err_no_memory(ts);
            goto fail;
        }
    }
    if (count) *count = n;
    return out;
fail:
    for (size_t i = 0; i < n; i++) free(out[i]);
    free(out);
    return NULL;
}

static void free_strings(char **s) {
    for (size_t i = 0; s && s[i]; i++) free(s[i]);
    free(s);
}

static bool fd_arg(TState *ts, Value v, int *fd) {
    int64_t n;
    if (!args_int(ts, v, &n)) return false;
    *fd = (int)n;
    return true;
}

/* spawn(args, executables, cwd, env, p2cread, c2pwrite, errwrite,
 *       close_fds, pass_fds, start_new_session, process_group,
 *       restore_signals) -> pid
 *
 * executables: the paths to try in order (the PATH search is the caller's,
 * made with the child's environment as CPython's). The descriptors are -1
 * to inherit. A failure to start raises OSError for the first error that
 * is not "no such file" (else ENOENT), naming args[0]. */
static Value f_spawn(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "spawn", nargs, kwnames, 12, 12)) return ERROR_VAL;
    if (interp_sandbox_refuses(ts, "starting a program")) return ERROR_VAL;
    int fds[3];
    int64_t pgroup;
    int close_fds, new_session, restore;
    for (int i = 0; i < 3; i++)
        if (!fd_arg(ts, args[4 + i], &fds[i])) return ERROR_VAL;
    if ((close_fds = ops_truth(ts, args[7])) < 0 || (new_session = ops_truth(ts, args[9])) < 0 ||
        !args_int(ts, args[10], &pgroup) || (restore = ops_truth(ts, args[11])) < 0)
        return ERROR_VAL;
    size_t npass = 0;
    int *pass = NULL;
    if (!IS_TUPLE(args[8])) return err_set_str(ts, ts->interp->exc.TypeError, "pass_fds must be a tuple");
    npass = AS_TUPLE(args[8])->len;
    if (npass && !(pass = malloc(npass * sizeof *pass))) return err_no_memory(ts);
    for (size_t i = 0; i < npass; i++)
        if (!fd_arg(ts, AS_TUPLE(args[8])->items[i], &pass[i])) {
            free(pass);
            return ERROR_VAL;
        }
    char **argv = strings_arg(ts, args[0], "args", NULL);
    char **exes = argv ? strings_arg(ts, args[1], "executable list", NULL) : NULL;
    char **env = exes && !IS_NONE(args[3]) ? strings_arg(ts, args[3], "env", NULL) : NULL;
    char *cwd = NULL;
    if (exes && !IS_NONE(args[2])) {
        ObjStr *s;
        if (IS_BYTES(args[2])) cwd = strndup(AS_BYTES(args[2])->data, AS_BYTES(args[2])->len);
        else if (args_str(ts, args[2], "spawn", &s)) cwd = strdup(s->data);
        if (!cwd && !err_occurred(ts)) err_no_memory(ts);
    }
    if (!argv || !exes || (!env && !IS_NONE(args[3])) || (!cwd && !IS_NONE(args[2]))) {
        free_strings(argv);
        free_strings(exes);
        free_strings(env);
        free(cwd);
        free(pass);
        return ERROR_VAL;
    }

    /* A missing working folder is reported with its name, as CPython. */
    struct stat st;
    if (cwd && (stat(cwd, &st) != 0 || !S_ISDIR(st.st_mode))) {
        int err = errno ? errno : ENOTDIR;
        if (stat(cwd, &st) == 0) err = ENOTDIR;
        Value name = args[2];
        free_strings(argv);
        free_strings(exes);
        free_strings(env);
        free(cwd);
        free(pass);
        return file_raise_oserror(ts, err, name);
    }

    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    /* The three standard descriptors, then the ones to pass (dup2 onto
     * themselves clears close-on-exec), then every other is closed. */
    for (int i = 0; i < 3; i++)
        if (fds[i] >= 0) posix_spawn_file_actions_adddup2(&fa, fds[i], i);
    int highest_pass = 2;
    for (size_t i = 0; i < npass; i++) {
        posix_spawn_file_actions_adddup2(&fa, pass[i], pass[i]);
        if (pass[i] > highest_pass) highest_pass = pass[i];
    }
    if (close_fds) {
        for (int fd = 3; fd < highest_pass; fd++) {
            bool passed = false;
            for (size_t i = 0; i < npass; i++) passed = passed || pass[i] == fd;
            if (!passed && fcntl(fd, F_GETFD) >= 0) posix_spawn_file_actions_addclose(&fa, fd);
        }
        posix_spawn_file_actions_addclosefrom_np(&fa, highest_pass + 1);
    }
    if (cwd) posix_spawn_file_actions_addchdir_np(&fa, cwd);
    short flags = POSIX_SPAWN_SETSIGMASK;
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    if (restore) {
        sigset_t defaults;
        sigemptyset(&defaults);
        sigaddset(&defaults, SIGPIPE);
        sigaddset(&defaults, SIGXFSZ);
        posix_spawnattr_setsigdefault(&attr, &defaults);
        flags |= POSIX_SPAWN_SETSIGDEF;
    }
    if (new_session) flags |= POSIX_SPAWN_SETSID;
    if (pgroup >= 0) {
        posix_spawnattr_setpgroup(&attr, (pid_t)pgroup);
        flags |= POSIX_SPAWN_SETPGROUP;
    }
    posix_spawnattr_setflags(&attr, flags);

    extern char **environ;
    pid_t pid = -1;
    int first_err = 0;
    for (size_t i = 0; exes[i]; i++) {
        int err = posix_spawn(&pid, exes[i], &fa, &attr, argv, env ? env : environ);
        if (err == 0) break;
        pid = -1;
        if (err != ENOENT && err != ENOTDIR && !first_err) first_err = err;
    }
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    free_strings(exes);
    free_strings(env);
    free(cwd);
    free(pass);
    if (pid < 0) {
        Value name = IS_LIST(args[0]) ? list_get(AS_LIST(args[0]), 0) : AS_TUPLE(args[0])->items[0];
        free_strings(argv);
        return file_raise_oserror(ts, first_err ? first_err : ENOENT, name);
    }
    free_strings(argv);
    return INT_VAL(pid);
}

/* The return code of a wait status: the exit code, or minus the signal. */
static int returncode(int status) {
    if (WIFSIGNALED(status)) return -WTERMSIG(status);
    if (WIFSTOPPED(status)) return -WSTOPSIG(status);
    return WEXITSTATUS(status);
}

typedef struct SleepWait {
    pid_t pid;
    int status;
} SleepWait;

/* Without a pidfd: waitpid(WNOHANG) every millisecond. */
static int sleep_wait_step(void *ctx, const struct timespec *until) {
    SleepWait *w = ctx;
    for (;;) {
        pid_t r = waitpid(w->pid, &w->status, WNOHANG);
        if (r == w->pid) return 1;
        if (r < 0) return errno == EINTR ? 0 : -errno;
        struct timespec next = sync_deadline(0.001);
        if (until && sync_before(until, &next)) return 0;
        if (clock_nanosleep(CLOCK_MONOTONIC, 0, &(struct timespec){0, 1000000}, NULL) == EINTR) return 0;
    }
}

/* wait(pid, timeout) -> the return code, or None if it did not end within
 * timeout seconds (None: no limit). Reaps the child. */
static Value f_wait(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "wait", nargs, kwnames, 2, 2)) return ERROR_VAL;
    int64_t pid;
    double timeout = -1;
    if (!args_int(ts, args[0], &pid) || (!IS_NONE(args[1]) && !args_float(ts, args[1], &timeout))) return ERROR_VAL;
    if (timeout < 0 && !IS_NONE(args[1])) timeout = 0;
    int status;
    pid_t r = waitpid((pid_t)pid, &status, WNOHANG);
    if (r == (pid_t)pid) return INT_VAL(returncode(status));
    if (r < 0) return file_raise_oserror(ts, errno, NONE_VAL);
    if (timeout == 0) return NONE_VAL;
    int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
    int ready;
    if (pidfd >= 0) {
        struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
        ready = thread_poll(ts, &pfd, 1, timeout);
        close(pidfd);
        if (ready <= 0) return ready < 0 ? ERROR_VAL : NONE_VAL;
        r = waitpid((pid_t)pid, &status, 0);
        if (r < 0) return file_raise_oserror(ts, errno, NONE_VAL);
        return INT_VAL(returncode(status));
    }
    SleepWait w = {(pid_t)pid, 0};
    ready = thread_wait(ts, sleep_wait_step, &w, timeout);
    if (ready <= 0) return ready < 0 ? ERROR_VAL : NONE_VAL;
    return INT_VAL(returncode(w.status));
}

static const NativeDef subprocess_functions[] = {
    {"spawn", f_spawn},
    {"wait", f_wait},
    {NULL, NULL},
};

bool mod_subprocess_init(TState *ts, ObjDict *ns) { return builtins_add_natives(ts, ns, subprocess_functions); }
