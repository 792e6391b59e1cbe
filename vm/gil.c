/* The global interpreter lock
 * ============================
 *
 * What it protects. With the GIL on, exactly one thread at a time runs
 * mini bytecode or touches mini objects. The lock is a flag (`locked`)
 * guarded by a mutex that is held only for a few instructions at a time,
 * with condition variables to wait on, as CPython's Python/ceval_gil.c.
 *
 * Taking and dropping. A thread takes the GIL when it attaches (starts, or
 * comes back from a blocking call) and drops it when it detaches (before a
 * blocking call: sleep, lock and queue waits, join, reads and writes) or
 * when it is asked to. Holding the GIL and being attached are the same
 * thing; see vm/thread.c.
 *
 * The switch interval. A thread that wants the GIL waits for it at most
 * one switch interval (5 ms by default; sys.setswitchinterval). If the
 * interval passes and no hand-off happened meanwhile (`switch_number` did
 * not move), it sets BREAK_GIL_DROP in the holder's eval breaker. The
 * holder tests that word at every backward jump and call, so it drops the
 * GIL within microseconds.
 *
 * The hand-off. A holder that drops because it was asked to waits on
 * `switched` until another thread has taken the GIL. Without that, on a
 * multi-core machine the dropper would usually win the race for the lock
 * it just released, and the waiter would starve.
 *
 * The convoy policy. CPython's GIL makes a thread that comes back from a
 * blocking call wait like everyone else: next to a CPU-bound thread each
 * short I/O operation then costs a whole switch interval (bpo-7946, never
 * fixed). Here such a thread is served first: it asks the holder to drop at
 * once (no interval), and a released GIL goes to threads back from
 * blocking calls before CPU-bound waiters (two condition variables). This
 * cannot starve CPU-bound threads: a thread back from a blocking call gets
 * priority only for its first acquisition; if it then computes, it is
 * preempted after an interval like any other, and a thread doing I/O
 * spends most of its time blocked, without the GIL. Each I/O operation
 * costs the CPU-bound thread one hand-off, a few microseconds.
 *
 * At fork. The process module stops the world before fork (no other
 * thread is inside the GIL's mutex then); the child re-initialises the
 * GIL as held by the forking thread, the only thread it has.
 */

#include "vm/gil.h"

#include <stdlib.h>
#include <time.h>

#include "vm/interp.h"
#include "vm/sync.h"

uint64_t gil_now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

void gil_init(Gil *gil) {
    PT_CHECK(pthread_mutex_init(&gil->mutex, NULL));
    sync_cond_init(&gil->released);
    sync_cond_init(&gil->released_io);
    sync_cond_init(&gil->switched);
    gil->locked = false;
    gil->holder = NULL;
    gil->switch_number = 0;
    gil->cpu_waiters = 0;
    gil->io_waiters = 0;
    atomic_init(&gil->interval_ns, (uint64_t)MINI_SWITCH_INTERVAL_US * 1000u);
    atomic_init(&gil->switches, 0);
}

void gil_destroy(Gil *gil) {
    pthread_mutex_destroy(&gil->mutex);
    pthread_cond_destroy(&gil->released);
    pthread_cond_destroy(&gil->released_io);
    pthread_cond_destroy(&gil->switched);
}

static void request_drop(Gil *gil) {
    if (gil->holder) atomic_fetch_or(&gil->holder->eval_breaker, BREAK_GIL_DROP);
}

/* Waits on cond for at most ns; returns true if it timed out. */
static bool timed_wait(pthread_cond_t *cond, pthread_mutex_t *mutex, uint64_t ns) {
    struct timespec deadline = sync_deadline((double)ns / 1e9);
    return !sync_cond_wait_until(cond, mutex, &deadline);
}

void gil_take(Gil *gil, TState *ts, GilReason reason) {
    trace_activity(ts, ACTIVITY_WAITING);
    uint64_t start = gil_now_ns();
    bool io = reason == GIL_AFTER_BLOCKING;
    MUTEX_LOCK(&gil->mutex);
    if (gil->locked) {
        if (io) gil->io_waiters++;
        else gil->cpu_waiters++;
        /* Convoy cure: a thread back from a blocking call does not wait a
         * whole interval before asking. */
        if (io) request_drop(gil);
        while (gil->locked) {
            uint64_t seen = gil->switch_number;
            uint64_t interval = atomic_load_explicit(&gil->interval_ns, memory_order_relaxed);
            bool timed_out = timed_wait(io ? &gil->released_io : &gil->released, &gil->mutex, interval);
            if (gil->locked && timed_out && gil->switch_number == seen) request_drop(gil);
            /* A CPU-bound waiter lets threads back from I/O go first. */
            if (!io && !gil->locked && gil->io_waiters > 0) {
                COND_SIGNAL(&gil->released_io);
                timed_wait(&gil->released, &gil->mutex, interval);
            }
        }
        if (io) gil->io_waiters--;
        else gil->cpu_waiters--;
    }
    gil->locked = true;
    gil->holder = ts;
    gil->switch_number++;
    atomic_fetch_add_explicit(&gil->switches, 1, memory_order_relaxed);
    /* A drop request meant for the previous holder is stale now, unless
     * others still wait. */
    if (gil->cpu_waiters == 0 && gil->io_waiters == 0)
        atomic_fetch_and(&ts->eval_breaker, ~(unsigned)BREAK_GIL_DROP);
    else if (gil->io_waiters > 0)
        atomic_fetch_or(&ts->eval_breaker, BREAK_GIL_DROP);
    COND_BROADCAST(&gil->switched);
    MUTEX_UNLOCK(&gil->mutex);

    uint64_t now = gil_now_ns();
    uint64_t waited = now - start;
    GilThreadStats *st = &ts->gil_stats;
    st->wait_ns += waited;
    st->acquisitions++;
    if (waited > st->longest_wait_ns) st->longest_wait_ns = waited;
    st->held_since_ns = now;
    trace_activity(ts, ACTIVITY_RUNNING);
}

void gil_drop(Gil *gil, TState *ts, bool forced) {
    /* A forced dropper waits from here on: for the hand-off, then for the
     * GIL again. */
    if (forced) trace_activity(ts, ACTIVITY_WAITING);
    GilThreadStats *st = &ts->gil_stats;
    st->run_ns += gil_now_ns() - st->held_since_ns;
    MUTEX_LOCK(&gil->mutex);
    gil->locked = false;
    gil->holder = NULL;
    if (gil->io_waiters > 0) COND_SIGNAL(&gil->released_io);
    else COND_SIGNAL(&gil->released);
    if (forced && (gil->cpu_waiters > 0 || gil->io_waiters > 0)) {
        uint64_t seen = gil->switch_number;
        while (gil->switch_number == seen && (gil->cpu_waiters > 0 || gil->io_waiters > 0))
            COND_WAIT(&gil->switched, &gil->mutex);
    }
    MUTEX_UNLOCK(&gil->mutex);
}

void gil_reinit_after_fork(Gil *gil, TState *ts) {
    uint64_t interval = atomic_load(&gil->interval_ns);
    gil_init(gil);
    atomic_store(&gil->interval_ns, interval);
    gil->locked = true;
    gil->holder = ts;
    ts->gil_stats.held_since_ns = gil_now_ns();
}

typedef struct GilRecord {
    char name[64];
    GilThreadStats stats;
} GilRecord;

void gil_record_thread(Interp *interp, TState *ts) {
    MUTEX_LOCK(&interp->threads_lock);
    GilRecord *grown = realloc(interp->gil_records, (interp->gil_record_count + 1) * sizeof *grown);
    if (grown) {
        interp->gil_records = grown;
        GilRecord *r = &grown[interp->gil_record_count++];
        snprintf(r->name, sizeof r->name, "%s", ts->name[0] ? ts->name : "(unnamed)");
        r->stats = ts->gil_stats;
    }
    MUTEX_UNLOCK(&interp->threads_lock);
}

static void print_row(FILE *out, const char *name, const GilThreadStats *st) {
    fprintf(out, "%-28s %10.3f %10.3f %13llu %14.3f\n", name, (double)st->run_ns / 1e9,
            (double)st->wait_ns / 1e9, (unsigned long long)st->acquisitions,
            (double)st->longest_wait_ns / 1e6);
}

void gil_print_stats(Interp *interp, TState *main_ts, FILE *out) {
    if (!interp->gil_enabled) {
        fputs("GIL statistics: the GIL is off (--gil=off), threads ran without it.\n", out);
        return;
    }
    GilThreadStats main_stats = main_ts->gil_stats;
    /* The main thread holds the GIL now: count the current stretch. */
    main_stats.run_ns += gil_now_ns() - main_stats.held_since_ns;
    fprintf(out, "GIL statistics (switch interval %.1f ms):\n",
            (double)atomic_load(&interp->gil.interval_ns) / 1e6);
    fprintf(out, "%-28s %10s %10s %13s %14s\n", "thread", "running s", "waiting s", "acquisitions",
            "longest wait ms");
    print_row(out, "MainThread", &main_stats);
    MUTEX_LOCK(&interp->threads_lock);
    for (size_t i = 0; i < interp->gil_record_count; i++)
        print_row(out, interp->gil_records[i].name, &interp->gil_records[i].stats);
    MUTEX_UNLOCK(&interp->threads_lock);
    fprintf(out, "GIL switches: %llu\n", (unsigned long long)atomic_load(&interp->gil.switches));
}
