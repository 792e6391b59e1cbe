/* The _signal module: CPython's C half of `signal` (stdlib/signal.mini
 * wraps the numbers in the Signals, Handlers and Sigmasks enums).
 *
 * The engine is vm/signals.c: its C handler records the signal, and the
 * main thread runs the Python-level handler stored here (in
 * Interp.signal_handlers) at its next safepoint. This file sets the
 * dispositions and handlers, and wraps the process-level calls: alarm,
 * interval timers, pause, raise_signal, pthread_kill, the signal mask,
 * sigwait, strsignal, the wake-up fd. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "runtime/args.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/file.h"
#include "runtime/float.h"
#include "runtime/module.h"
#include "runtime/ops.h"
#include "runtime/set.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "stdlib/builtins.h"
#include "stdlib/modules.h"
#include "vm/interp.h"
#include "vm/signals.h"
#include "vm/thread.h"
#include "vm/vm.h"

static bool main_thread_only(TState *ts, const char *what) {
    if (ts == ts->interp->main_thread) return true;
    err_format(ts, ts->interp->exc.ValueError, "%s only works in main thread of the main interpreter", what);
    return false;
}

static bool signum_arg(TState *ts, Value v, int *out) {
    int64_t n;
    if (!args_int(ts, v, &n)) return false;
    if (n < 1 || n >= NSIG) {
        err_format(ts, ts->interp->exc.ValueError, "signal number out of range");
        return false;
    }
    *out = (int)n;
    return true;
}

static Value raise_errno(TState *ts, int err) { return file_raise_oserror(ts, err, NONE_VAL); }

/* The handler getsignal reports for a signal no Python code has set. */
static Value current_handler(TState *ts, int sig) {
    Value h = ts->interp->signal_handlers[sig];
    if (!IS_NONE(h)) return h;
    struct sigaction old;
    if (sigaction(sig, NULL, &old) < 0) return NONE_VAL;
    if (old.sa_handler == SIG_DFL) return INT_VAL(0);
    if (old.sa_handler == SIG_IGN) return INT_VAL(1);
    return NONE_VAL;
}

static Value sig_signal(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "signal", nargs, kwnames, 2, 2)) return ERROR_VAL;
    int sig;
    if (!signum_arg(ts, args[0], &sig) || !main_thread_only(ts, "signal")) return ERROR_VAL;
    Value handler = args[1];
    SigDisposition how = SIGD_HANDLER;
    /* Any int equal to SIG_DFL or SIG_IGN (the Handlers members are). */
    int64_t n = -1;
    if (type_is_subtype(val_type(ts, handler), ts->interp->types.int_) && !ops_index(ts, handler, &n))
        return ERROR_VAL;
    if (n == 0 || n == 1) {
        how = n == 0 ? SIGD_DEFAULT : SIGD_IGNORE;
    } else if (val_type(ts, handler)->call == NULL) {
        return err_format(ts, ts->interp->exc.TypeError,
                          "signal handler must be signal.SIG_IGN, signal.SIG_DFL, or a callable object");
    }
    Value old = current_handler(ts, sig);
    int err = signals_set_handler(sig, how);
    if (err) return raise_errno(ts, err);
    ts->interp->signal_handlers[sig] = how == SIGD_HANDLER ? handler : INT_VAL(how == SIGD_DEFAULT ? 0 : 1);
    return old;
}

static Value sig_getsignal(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "getsignal", nargs, kwnames, 1, 1)) return ERROR_VAL;
    int sig;
    if (!signum_arg(ts, args[0], &sig)) return ERROR_VAL;
    return current_handler(ts, sig);
}

static Value sig_default_int_handler(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    (void)args, (void)nargs, (void)kwnames;
    err_set_value(ts, ts->interp->exc.KeyboardInterrupt, NONE_VAL);
    AS_EXCEPTION(ts->exc)->args = ts->interp->no_args;
    return ERROR_VAL;
}

static Value sig_alarm(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "alarm", nargs, kwnames, 1, 1)) return ERROR_VAL;
    int64_t seconds;
    if (!args_int(ts, args[0], &seconds)) return ERROR_VAL;
    if (seconds < 0 || seconds > (int64_t)UINT32_MAX)
        return err_format(ts, ts->interp->exc.OverflowError, "Python int too large to convert to C unsigned long");
    return INT_VAL((int64_t)alarm((unsigned)seconds));
}

static Value timeval_float(struct timeval tv) { return FLOAT_VAL((double)tv.tv_sec + (double)tv.tv_usec / 1e6); }

static bool float_timeval(TState *ts, Value v, struct timeval *out) {
    double d;
    if (!args_float(ts, v, &d)) return false;
    if (d < 0 || isnan(d)) d = 0;
    out->tv_sec = (time_t)d;
    out->tv_usec = (suseconds_t)((d - (double)out->tv_sec) * 1e6);
    /* A positive time below a microsecond still arms the timer, as in CPython. */
    if (d > 0 && out->tv_sec == 0 && out->tv_usec == 0) out->tv_usec = 1;
    return true;
}

static Value itimer_pair(TState *ts, const struct itimerval *v) {
    ObjTuple *t = tuple_pack2(ts, timeval_float(v->it_value), timeval_float(v->it_interval));
    return t ? OBJ_VAL(t) : ERROR_VAL;
}

static Value itimer_error(TState *ts, int err) {
    Value e = module_attr(ts, "_signal", "ItimerError");
    if (IS_ERROR(e) || IS_EMPTY(e)) return raise_errno(ts, err);
    ObjStr *text = str_from_cstr(ts, strerror(err));
    if (!text) return ERROR_VAL;
    Value exc_args[2] = {INT_VAL(err), OBJ_VAL(text)};
    Value exc = vm_call(ts, e, exc_args, 2, NULL);
    return IS_ERROR(exc) ? exc : err_raise(ts, exc);
}

static Value sig_setitimer(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "setitimer", nargs, kwnames, 2, 3)) return ERROR_VAL;
    int64_t which;
    struct itimerval v = {0}, old;
    if (!args_int(ts, args[0], &which) || !float_timeval(ts, args[1], &v.it_value) ||
        (nargs > 2 && !float_timeval(ts, args[2], &v.it_interval)))
        return ERROR_VAL;
    if (setitimer((int)which, &v, &old) < 0) return itimer_error(ts, errno);
    return itimer_pair(ts, &old);
}

static Value sig_getitimer(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "getitimer", nargs, kwnames, 1, 1)) return ERROR_VAL;
    int64_t which;
    struct itimerval v;
    if (!args_int(ts, args[0], &which)) return ERROR_VAL;
    if (getitimer((int)which, &v) < 0) return itimer_error(ts, errno);
    return itimer_pair(ts, &v);
}

/* Runs the handlers of what arrived: CPython checks for signals right
 * after raise_signal, pthread_kill and pause. */
static Value after_signal(TState *ts) {
    if (ts == ts->interp->main_thread && !signals_run_handlers(ts)) return ERROR_VAL;
    return NONE_VAL;
}

static Value sig_pause(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    (void)args;
    if (!args_check(ts, "pause", nargs, kwnames, 0, 0)) return ERROR_VAL;
    thread_detach(ts);
    pause();
    thread_attach(ts);
    return after_signal(ts);
}

static Value sig_raise_signal(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "raise_signal", nargs, kwnames, 1, 1)) return ERROR_VAL;
    int64_t sig;
    if (!args_int(ts, args[0], &sig)) return ERROR_VAL;
    /* From another thread, to the main thread: the others block signals
     * (vm/signals.h), and CPython's handler would run there anyway. */
    TState *main = ts->interp->main_thread;
    if (ts == main ? raise((int)sig) != 0 : (errno = pthread_kill(main->pthread, (int)sig)) != 0)
        return raise_errno(ts, errno);
    return after_signal(ts);
}

static Value sig_pthread_kill(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "pthread_kill", nargs, kwnames, 2, 2)) return ERROR_VAL;
    int64_t id;
    if (!args_int(ts, args[0], &id)) return ERROR_VAL;
    int64_t sig;
    if (!args_int(ts, args[1], &sig)) return ERROR_VAL;
    int err = pthread_kill((pthread_t)(uint64_t)id, (int)sig);
    if (err) return raise_errno(ts, err);
    return after_signal(ts);
}

static bool sigset_arg(TState *ts, Value iterable, sigset_t *set) {
    sigemptyset(set);
    Value it = ops_iter(ts, iterable);
    if (IS_ERROR(it)) return false;
    vm_push(ts, it);
    bool ok = true;
    for (;;) {
        Value item = ops_next(ts, it);
        if (IS_EMPTY(item)) break;
        int sig;
        if (IS_ERROR(item) || !signum_arg(ts, item, &sig)) {
            ok = false;
            break;
        }
        sigaddset(set, sig);
    }
    vm_pop(ts);
    return ok && !err_occurred(ts);
}

static Value sigset_value(TState *ts, const sigset_t *set) {
    ObjSet *s = set_new(ts, ts->interp->types.set);
    if (!s) return ERROR_VAL;
    for (int sig = 1; sig < NSIG; sig++)
        if (sigismember(set, sig) == 1 && set_add(ts, s, INT_VAL(sig)) < 0) return ERROR_VAL;
    return OBJ_VAL(s);
}

static Value sig_pthread_sigmask(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "pthread_sigmask", nargs, kwnames, 2, 2)) return ERROR_VAL;
    int64_t how;
    sigset_t set, old;
    if (!args_int(ts, args[0], &how) || !sigset_arg(ts, args[1], &set)) return ERROR_VAL;
    int err = pthread_sigmask((int)how, &set, &old);
    if (err) return raise_errno(ts, err);
    Value r = sigset_value(ts, &old);
    if (IS_ERROR(r)) return r;
    /* A signal just unblocked is handled now, as in CPython (its handler
     * may collect: the result is rooted meanwhile). */
    vm_push(ts, r);
    bool ok = !IS_ERROR(after_signal(ts));
    vm_pop(ts);
    return ok ? r : ERROR_VAL;
}

static Value sig_sigpending(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    (void)args;
    if (!args_check(ts, "sigpending", nargs, kwnames, 0, 0)) return ERROR_VAL;
    sigset_t set;
    if (sigpending(&set) < 0) return raise_errno(ts, errno);
    return sigset_value(ts, &set);
}

static Value sig_sigwait(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "sigwait", nargs, kwnames, 1, 1)) return ERROR_VAL;
    sigset_t set;
    if (!sigset_arg(ts, args[0], &set)) return ERROR_VAL;
    int sig = 0;
    thread_detach(ts);
    int err = sigwait(&set, &sig);
    thread_attach(ts);
    if (err) return raise_errno(ts, err);
    return INT_VAL(sig);
}

static Value sig_strsignal(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "strsignal", nargs, kwnames, 1, 1)) return ERROR_VAL;
    int sig;
    if (!signum_arg(ts, args[0], &sig)) return ERROR_VAL;
    const char *text = strsignal(sig);
    if (!text || strncmp(text, "Unknown signal", 14) == 0) return NONE_VAL;
    ObjStr *s = str_from_cstr(ts, text);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static Value sig_valid_signals(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    (void)args;
    if (!args_check(ts, "valid_signals", nargs, kwnames, 0, 0)) return ERROR_VAL;
    sigset_t set;
    sigfillset(&set);
    return sigset_value(ts, &set);
}

/* set_wakeup_fd(fd, /, *, warn_on_full_buffer=True) */
static Value sig_set_wakeup_fd(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"fd", "$warn_on_full_buffer"};
    Value v[2];
    if (!args_bind(ts, "set_wakeup_fd", args, nargs, kwnames, names, 2, 1, 1, v)) return ERROR_VAL;
    int64_t fd;
    if (!args_int(ts, v[0], &fd) || !main_thread_only(ts, "set_wakeup_fd")) return ERROR_VAL;
    if (fd != -1) {
        int flags = fcntl((int)fd, F_GETFL);
        if (flags < 0) return raise_errno(ts, errno);
        if (!(flags & O_NONBLOCK))
            return err_format(ts, ts->interp->exc.ValueError, "the fd %lld must be in non-blocking mode", (long long)fd);
    }
    return INT_VAL(signals_set_wakeup_fd((int)fd));
}

static Value sig_siginterrupt(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "siginterrupt", nargs, kwnames, 2, 2)) return ERROR_VAL;
    int sig;
    if (!signum_arg(ts, args[0], &sig)) return ERROR_VAL;
    int flag = ops_truth(ts, args[1]);
    if (flag < 0) return ERROR_VAL;
    int err = signals_set_interrupt(sig, flag);
    return err ? raise_errno(ts, err) : NONE_VAL;
}

static const NativeDef signal_functions[] = {
    {"signal", sig_signal},
    {"getsignal", sig_getsignal},
    {"default_int_handler", sig_default_int_handler},
    {"alarm", sig_alarm},
    {"setitimer", sig_setitimer},
    {"getitimer", sig_getitimer},
    {"pause", sig_pause},
    {"raise_signal", sig_raise_signal},
    {"pthread_kill", sig_pthread_kill},
    {"pthread_sigmask", sig_pthread_sigmask},
    {"sigpending", sig_sigpending},
    {"sigwait", sig_sigwait},
    {"strsignal", sig_strsignal},
    {"valid_signals", sig_valid_signals},
    {"set_wakeup_fd", sig_set_wakeup_fd},
    {"siginterrupt", sig_siginterrupt},
    {NULL, NULL},
};

static const IntConstant signal_constants[] = {
    {"SIGHUP", SIGHUP}, {"SIGINT", SIGINT}, {"SIGQUIT", SIGQUIT}, {"SIGILL", SIGILL},
    {"SIGTRAP", SIGTRAP}, {"SIGABRT", SIGABRT}, {"SIGIOT", SIGIOT}, {"SIGBUS", SIGBUS},
    {"SIGFPE", SIGFPE}, {"SIGKILL", SIGKILL}, {"SIGUSR1", SIGUSR1}, {"SIGSEGV", SIGSEGV},
    {"SIGUSR2", SIGUSR2}, {"SIGPIPE", SIGPIPE}, {"SIGALRM", SIGALRM}, {"SIGTERM", SIGTERM},
    {"SIGSTKFLT", SIGSTKFLT}, {"SIGCHLD", SIGCHLD}, {"SIGCLD", SIGCHLD}, {"SIGCONT", SIGCONT},
    {"SIGSTOP", SIGSTOP}, {"SIGTSTP", SIGTSTP}, {"SIGTTIN", SIGTTIN}, {"SIGTTOU", SIGTTOU},
    {"SIGURG", SIGURG}, {"SIGXCPU", SIGXCPU}, {"SIGXFSZ", SIGXFSZ}, {"SIGVTALRM", SIGVTALRM},
    {"SIGPROF", SIGPROF}, {"SIGWINCH", SIGWINCH}, {"SIGIO", SIGIO}, {"SIGPOLL", SIGPOLL},
    {"SIGPWR", SIGPWR}, {"SIGSYS", SIGSYS}, {"SIG_DFL", 0}, {"SIG_IGN", 1},
    {"SIG_BLOCK", SIG_BLOCK}, {"SIG_UNBLOCK", SIG_UNBLOCK}, {"SIG_SETMASK", SIG_SETMASK},
    {"ITIMER_REAL", ITIMER_REAL}, {"ITIMER_VIRTUAL", ITIMER_VIRTUAL}, {"ITIMER_PROF", ITIMER_PROF},
    {"NSIG", NSIG}, {NULL, 0},
};

bool mod_signal_init(TState *ts, ObjDict *ns) {
    if (!builtins_add_natives(ts, ns, signal_functions) || !builtins_add_ints(ts, ns, signal_constants)) return false;
    /* Real-time signals are numbered at run time (the C library keeps some). */
    if (!builtins_add_value(ts, ns, "SIGRTMIN", INT_VAL(SIGRTMIN)) ||
        !builtins_add_value(ts, ns, "SIGRTMAX", INT_VAL(SIGRTMAX)))
        return false;
    ObjStr *module = str_intern_cstr(ts, "signal");
    Value itimer = module ? module_add_exception(ts, ns, module, "itimer_error", ts->interp->exc.OSError, NULL) : ERROR_VAL;
    if (IS_ERROR(itimer) || !builtins_add_value(ts, ns, "ItimerError", itimer)) return false;
    /* SIGINT's handler is default_int_handler until the program sets one
     * (unless SIGINT was ignored when mini started). */
    Interp *interp = ts->interp;
    struct sigaction old;
    if (IS_NONE(interp->signal_handlers[SIGINT]) && sigaction(SIGINT, NULL, &old) == 0 && old.sa_handler != SIG_IGN) {
        Value h = dict_get_str(ns, str_intern_cstr(ts, "default_int_handler"));
        if (IS_EMPTY(h) || IS_ERROR(h)) return false;
        interp->signal_handlers[SIGINT] = h;
    }
    return true;
}
