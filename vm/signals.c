#include "vm/signals.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "runtime/error.h"
#include "runtime/int.h"
#include "vm/settrace.h"
#include "vm/vm.h"

/* A signal handler gets no context argument, so the one place it can reach
 * is process state: the pending flags and the eval breaker of the thread
 * that runs the handler-level code. This is the single piece of global
 * state in mini, and it is per process by nature (signals are). */
static volatile sig_atomic_t pending[NSIG];
static volatile sig_atomic_t any_pending;
static atomic_uint *_Atomic main_breaker;
static _Atomic int wakeup_fd = -1;
/* Signals siginterrupt(sig, False) asked to restart system calls. */
static _Atomic bool restart[NSIG];

static void on_signal(int sig) {
    int saved = errno;
    pending[sig] = 1;
    any_pending = 1;
    atomic_uint *breaker = atomic_load(&main_breaker);
    if (breaker) atomic_fetch_or(breaker, BREAK_SIGNAL);
    int fd = atomic_load(&wakeup_fd);
    if (fd >= 0) {
        unsigned char byte = (unsigned char)sig;
        /* A full pipe loses the byte, as in CPython: the flag stays. */
        if (write(fd, &byte, 1) < 0) {}
    }
    errno = saved;
}

static int install(int sig, void (*handler)(int)) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART unless asked: blocking calls return EINTR so that the
     * handler runs (and may raise) while they wait. */
    if (handler == on_signal && atomic_load(&restart[sig])) sa.sa_flags = SA_RESTART;
    return sigaction(sig, &sa, NULL) < 0 ? errno : 0;
}

void signals_install(Interp *interp) {
    atomic_store(&main_breaker, &interp->main_thread->eval_breaker);
    struct sigaction old;
    /* A SIGINT a program ignored (SIG_IGN) before a fork stays ignored. */
    if (sigaction(SIGINT, NULL, &old) == 0 && old.sa_handler == SIG_IGN) return;
    install(SIGINT, on_signal);
}

/* Signals that report a fault of the thread itself stay deliverable. */
static bool synchronous(int sig) {
    return sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGTRAP ||
           sig == SIGSYS || sig == SIGABRT;
}

void signals_block_in_thread(void) {
    sigset_t set;
    sigfillset(&set);
    for (int sig = 1; sig < NSIG; sig++)
        if (synchronous(sig)) sigdelset(&set, sig);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

void signals_adopt_after_fork(TState *ts, bool was_main) {
    if (!was_main) {
        sigset_t set;
        sigemptyset(&set);
        for (int sig = 1; sig < NSIG; sig++)
            if (!synchronous(sig)) sigaddset(&set, sig);
        pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    }
    for (int sig = 1; sig < NSIG; sig++) pending[sig] = 0;
    any_pending = 0;
    atomic_fetch_and(&ts->eval_breaker, ~(unsigned)BREAK_SIGNAL);
    signals_install(ts->interp);
}

bool signals_pending(void) { return any_pending != 0; }

bool signals_take_sigint(void) {
    if (!pending[SIGINT]) return false;
    pending[SIGINT] = 0;
    /* Still pending only if another signal is (a handler setting the
     * flag meanwhile sets it again after this). */
    any_pending = 0;
    for (int sig = 1; sig < NSIG; sig++)
        if (pending[sig]) any_pending = 1;
    return true;
}

bool signals_run_handlers(TState *ts) {
    if (!any_pending) return true;
    any_pending = 0;
    Interp *interp = ts->interp;
    for (int sig = 1; sig < NSIG; sig++) {
        if (!pending[sig]) continue;
        pending[sig] = 0;
        Value handler = interp->signal_handlers[sig];
        Value result;
        if (IS_NONE(handler) || IS_INT(handler)) {
            /* No Python handler: only SIGINT's default means anything. */
            if (sig != SIGINT) continue;
            err_set_value(ts, interp->exc.KeyboardInterrupt, NONE_VAL);
            AS_EXCEPTION(ts->exc)->args = interp->no_args;
            result = ERROR_VAL;
        } else {
            Value args[2] = {INT_VAL(sig), tracer_getframe(ts, NULL, 0, NULL)};
            if (IS_ERROR(args[1])) {
                err_clear(ts);
                args[1] = NONE_VAL;
            }
            result = vm_call(ts, handler, args, 2, NULL);
        }
        if (IS_ERROR(result)) {
            /* The others run at the next safepoint. */
            for (int rest = sig + 1; rest < NSIG; rest++)
                if (pending[rest]) {
                    any_pending = 1;
                    atomic_fetch_or(&ts->eval_breaker, BREAK_SIGNAL);
                    break;
                }
            return false;
        }
    }
    return true;
}

int signals_set_handler(int sig, SigDisposition how) {
    return install(sig, how == SIGD_HANDLER ? on_signal : how == SIGD_IGNORE ? SIG_IGN : SIG_DFL);
}

int signals_set_interrupt(int sig, bool interrupt) {
    atomic_store(&restart[sig], !interrupt);
    struct sigaction old;
    if (sigaction(sig, NULL, &old) < 0) return errno;
    return old.sa_handler == on_signal ? install(sig, on_signal) : 0;
}

int signals_set_wakeup_fd(int fd) {
    return atomic_exchange(&wakeup_fd, fd);
}
