#include "vm/thread.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "runtime/file.h"
#include "vm/config.h"
#include "vm/signals.h"
#include "vm/sync.h"
#include "vm/vm.h"

/* Waits, with threads_lock held, until the world is not stopped by
 * someone else. */
static void wait_world_running(Interp *interp, TState *ts) {
    while (interp->world_stopped && interp->stopper != ts)
        COND_WAIT(&interp->world_cond, &interp->threads_lock);
}

static void detach_as(TState *ts, ThreadActivity activity) {
    Interp *interp = ts->interp;
    atomic_store_explicit(&ts->status, THREAD_DETACHED, memory_order_release);
    trace_activity(ts, activity);
    if (interp->gil_enabled) gil_drop(&interp->gil, ts, false);
    /* A stopper may be waiting for this thread to stop running. */
    MUTEX_LOCK(&interp->threads_lock);
    if (interp->world_stopped) COND_BROADCAST(&interp->world_cond);
    MUTEX_UNLOCK(&interp->threads_lock);
}

void thread_detach(TState *ts) { detach_as(ts, ACTIVITY_BLOCKED); }

void thread_detach_to_compute(TState *ts) { detach_as(ts, ACTIVITY_COMPUTING); }

void thread_lock_mutex(TState *ts, pthread_mutex_t *m) {
    int err = pthread_mutex_trylock(m);
    if (err == 0) return;
    if (err != EBUSY) PT_CHECK(err);
    thread_detach(ts);
    MUTEX_LOCK(m);
    thread_attach(ts);
}

void thread_attach(TState *ts) {
    Interp *interp = ts->interp;
    if (interp->gil_enabled) gil_take(&interp->gil, ts, GIL_AFTER_BLOCKING);
    else trace_activity(ts, ACTIVITY_RUNNING);
    for (;;) {
        int expected = THREAD_DETACHED;
        if (atomic_compare_exchange_strong(&ts->status, &expected, THREAD_ATTACHED)) return;
        /* Suspended by a stop-the-world: wait for the resume. */
        MUTEX_LOCK(&interp->threads_lock);
        while (atomic_load(&ts->status) == THREAD_SUSPENDED)
            COND_WAIT(&interp->world_cond, &interp->threads_lock);
        MUTEX_UNLOCK(&interp->threads_lock);
    }
}

void thread_stop_world(TState *ts) {
    Interp *interp = ts->interp;
    MUTEX_LOCK(&interp->threads_lock);
    /* Another thread may be stopping the world (with the GIL off two can
     * ask at once): park until it is done, or it would wait for us. */
    while (interp->world_stopped && interp->stopper != ts) {
        atomic_store(&ts->status, THREAD_PARKED);
        COND_BROADCAST(&interp->world_cond);
        COND_WAIT(&interp->world_cond, &interp->threads_lock);
    }
    atomic_store(&ts->status, THREAD_ATTACHED);
    interp->world_stopped = true;
    interp->stopper = ts;
    for (TState *t = interp->threads; t; t = t->next)
        if (t != ts) atomic_fetch_or(&t->eval_breaker, BREAK_GC);
    for (;;) {
        bool all_stopped = true;
        for (TState *t = interp->threads; t; t = t->next) {
            if (t == ts) continue;
            int expected = THREAD_DETACHED;
            atomic_compare_exchange_strong(&t->status, &expected, THREAD_SUSPENDED);
            int status = atomic_load(&t->status);
            if (status != THREAD_PARKED && status != THREAD_SUSPENDED) all_stopped = false;
        }
        if (all_stopped) break;
        COND_WAIT(&interp->world_cond, &interp->threads_lock);
    }
    MUTEX_UNLOCK(&interp->threads_lock);
}

void thread_resume_world(TState *ts) {
    Interp *interp = ts->interp;
    MUTEX_LOCK(&interp->threads_lock);
    for (TState *t = interp->threads; t; t = t->next) {
        if (t == ts) continue;
        int expected = THREAD_SUSPENDED;
        atomic_compare_exchange_strong(&t->status, &expected, THREAD_DETACHED);
        atomic_fetch_and(&t->eval_breaker, ~(unsigned)BREAK_GC);
    }
    interp->world_stopped = false;
    interp->stopper = NULL;
    COND_BROADCAST(&interp->world_cond);
    MUTEX_UNLOCK(&interp->threads_lock);
}

void thread_park(TState *ts) {
    Interp *interp = ts->interp;
    MUTEX_LOCK(&interp->threads_lock);
    if (interp->world_stopped && interp->stopper != ts) {
        atomic_store(&ts->status, THREAD_PARKED);
        COND_BROADCAST(&interp->world_cond);
        wait_world_running(interp, ts);
        atomic_store(&ts->status, THREAD_ATTACHED);
    }
    MUTEX_UNLOCK(&interp->threads_lock);
}

void thread_yield_gil(TState *ts, bool forced) {
    Interp *interp = ts->interp;
    atomic_fetch_and(&ts->eval_breaker, ~(unsigned)BREAK_GIL_DROP);
    if (!interp->gil_enabled) return;
    /* Stay attached for the collector's purposes only while holding the
     * GIL: between drop and take this thread touches no object. */
    atomic_store_explicit(&ts->status, THREAD_DETACHED, memory_order_release);
    MUTEX_LOCK(&interp->threads_lock);
    if (interp->world_stopped) COND_BROADCAST(&interp->world_cond);
    MUTEX_UNLOCK(&interp->threads_lock);
    gil_drop(&interp->gil, ts, forced);
    gil_take(&interp->gil, ts, GIL_AFTER_DROP);
    for (;;) {
        int expected = THREAD_DETACHED;
        if (atomic_compare_exchange_strong(&ts->status, &expected, THREAD_ATTACHED)) return;
        MUTEX_LOCK(&interp->threads_lock);
        while (atomic_load(&ts->status) == THREAD_SUSPENDED)
            COND_WAIT(&interp->world_cond, &interp->threads_lock);
        MUTEX_UNLOCK(&interp->threads_lock);
    }
}

int thread_wait(TState *ts, ThreadWaitStep step, void *ctx, double timeout) {
    bool main = ts == ts->interp->main_thread;
    struct timespec deadline;
    if (timeout >= 0) deadline = sync_deadline(timeout);
    for (;;) {
        struct timespec until;
        const struct timespec *limit = NULL;
        if (timeout >= 0) {
            until = deadline;
            limit = &until;
        }
        if (main) {
            struct timespec slice = sync_deadline(MINI_SIGNAL_POLL_SECONDS);
            if (!limit || sync_before(&slice, &until)) until = slice;
            limit = &until;
        }
        thread_detach(ts);
        int r = step(ctx, limit);
        thread_attach(ts);
        if (r > 0) return 1;
        if (r < 0) {
            file_raise_oserror(ts, -r, NONE_VAL);
            return -1;
        }
        /* Ctrl-C or a spent budget: the safepoint raises KeyboardInterrupt;
         * if a handler already took the signal, wait on for what is left. */
        bool spent = atomic_load(&ts->eval_breaker) & BREAK_BUDGET;
        if ((spent || (main && signals_pending())) && !vm_safepoint(ts)) return -1;
        if (timeout >= 0) {
            struct timespec now = sync_deadline(0);
            if (!sync_before(&now, &deadline)) return 0;
        }
    }
}

typedef struct ThreadEnd {
    pthread_t id;
    struct ThreadEnd *next;
} ThreadEnd;

void thread_will_end(TState *ts) {
    Interp *interp = ts->interp;
    ThreadEnd *end = malloc(sizeof *end);
    /* Without memory to be remembered, nobody can join it: it is left to
     * end on its own. */
    if (!end) {
        PT_CHECK(pthread_detach(pthread_self()));
        return;
    }
    end->id = pthread_self();
    MUTEX_LOCK(&interp->threads_lock);
    bool exiting = interp->exiting;
    if (!exiting) {
        end->next = interp->ended;
        interp->ended = end;
    }
    MUTEX_UNLOCK(&interp->threads_lock);
    if (exiting) {
        free(end);
        PT_CHECK(pthread_detach(pthread_self()));
    }
}

void thread_exiting(Interp *interp) {
    MUTEX_LOCK(&interp->threads_lock);
    interp->exiting = true;
    MUTEX_UNLOCK(&interp->threads_lock);
    /* No thread becomes a spare from now on; one already on its way to
     * park still reads the interpreter, which is about to be freed. */
    thread_settle_spares(interp);
    thread_join_ended(interp);
}

void thread_join_ended(Interp *interp) {
    MUTEX_LOCK(&interp->threads_lock);
    ThreadEnd *end = interp->ended;
    interp->ended = NULL;
    MUTEX_UNLOCK(&interp->threads_lock);
    while (end) {
        ThreadEnd *next = end->next;
        PT_CHECK(pthread_join(end->id, NULL));
        free(end);
        end = next;
    }
}

int thread_poll_step(void *ctx, const struct timespec *until) {
    ThreadPoll *p = ctx;
    int r = poll(p->fds, p->n, sync_ms_until(until));
    if (r > 0) return 1;
    if (r == 0 || errno == EINTR) return 0;
    return -errno;
}

int thread_poll(TState *ts, struct pollfd *fds, nfds_t n, double timeout) {
    /* Ready already: no need to detach. */
    int r = poll(fds, n, 0);
    if (r > 0) return 1;
    if (r < 0 && errno != EINTR) {
        file_raise_oserror(ts, errno, NONE_VAL);
        return -1;
    }
    if (timeout == 0) return 0;
    ThreadPoll ctx = {fds, n};
    return thread_wait(ts, thread_poll_step, &ctx, timeout);
}

typedef struct SpareThread {
    pthread_t id;
    TState *work;        /* set by thread_hand_to_spare */
    pthread_cond_t wake;
    struct SpareThread *next;
} SpareThread;

bool thread_keep_as_spare(TState *ts) {
    Interp *interp = ts->interp;
    MUTEX_LOCK(&interp->threads_lock);
    bool keep = interp->spare_count < MINI_SPARE_THREADS && !interp->in_teardown && !interp->exiting;
    if (keep) {
        interp->spare_count++;
        interp->spares_arriving++;
    }
    MUTEX_UNLOCK(&interp->threads_lock);
    return keep;
}

TState *thread_park_as_spare(Interp *interp) {
    SpareThread me = {.id = pthread_self(), .work = NULL};
    sync_cond_init(&me.wake);
    MUTEX_LOCK(&interp->threads_lock);
    me.next = interp->spares;
    interp->spares = &me;
    interp->spares_arriving--;
    COND_BROADCAST(&interp->world_cond);
    while (!me.work) COND_WAIT(&me.wake, &interp->threads_lock);
    MUTEX_UNLOCK(&interp->threads_lock);
    pthread_cond_destroy(&me.wake);
    return me.work;
}

bool thread_hand_to_spare(Interp *interp, TState *child, uint64_t *ident) {
    MUTEX_LOCK(&interp->threads_lock);
    SpareThread *s = interp->spares;
    if (s) {
        interp->spares = s->next;
        interp->spare_count--;
        s->work = child;
        *ident = (uint64_t)s->id;
        COND_SIGNAL(&s->wake);
    }
    MUTEX_UNLOCK(&interp->threads_lock);
    return s != NULL;
}

void thread_settle_spares(Interp *interp) {
    MUTEX_LOCK(&interp->threads_lock);
    while (interp->spares_arriving > 0) COND_WAIT(&interp->world_cond, &interp->threads_lock);
    MUTEX_UNLOCK(&interp->threads_lock);
}

void thread_spares_after_fork(Interp *interp) {
    interp->spares = NULL;
    interp->spare_count = 0;
    interp->spares_arriving = 0;
}

void thread_wait_teardown(TState *ts) {
    Interp *interp = ts->interp;
    /* Detached: a joined thread may still need the GIL for its last
     * instructions before it hands over its statistics and trace. */
    thread_detach(ts);
    for (int i = 0; i < 200; i++) {
        MUTEX_LOCK(&interp->threads_lock);
        int n = interp->thread_count;
        MUTEX_UNLOCK(&interp->threads_lock);
        if (n <= 1) break;
        usleep(1000);
    }
    thread_attach(ts);
}
