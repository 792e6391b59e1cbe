#include "vm/signals.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>

/* A signal handler gets no context argument, so the one place it can reach
 * is process state: the pending flag and the eval breaker of the thread
 * that runs the handler-level code. This is the single piece of global
 * state in mini, and it is per process by nature (signals are). */
static volatile sig_atomic_t sigint_pending;
static atomic_uint *_Atomic sigint_breaker;

static void on_sigint(int sig) {
    (void)sig;
    sigint_pending = 1;
    atomic_uint *breaker = atomic_load(&sigint_breaker);
    if (breaker) atomic_fetch_or(breaker, BREAK_SIGNAL);
}

void signals_install(Interp *interp) {
    atomic_store(&sigint_breaker, &interp->main_thread->eval_breaker);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART: blocking calls return EINTR so they can raise. */
    sigaction(SIGINT, &sa, NULL);
}

void signals_block_in_thread(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

bool signals_pending(void) { return sigint_pending != 0; }

bool signals_take(void) {
    if (!sigint_pending) return false;
    sigint_pending = 0;
    return true;
}
