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
 * at an eval-breaker check. Holding the GIL and being attached are the
 * same thing; see vm/thread.c.
 *
 * Designs. The history of the GIL is a history of designs with measurable
 * faults; mini implements four of them, chosen once at start-up (--gil=,
 * -X gil=, MINI_GIL) and stored in Gil.design. gil_take and gil_drop
 * switch on it; the dispatch loop's hot path is the same for all of them
 * (one relaxed load of the eval breaker at backward jumps and calls), and
 * a design that needs more work at the check points says so with a bit in
 * the breaker, so the default pays nothing for the others.
 *
 * cpython: CPython 3.2's "new GIL" (Antoine Pitrou, 2009; still CPython's
 * GIL in 3.13). Its rule: a thread that wants the GIL waits for it at most
 * one switch interval (5 ms by default; sys.setswitchinterval). If the
 * interval passes and no hand-off happened meanwhile (`switch_number` did
 * not move), it sets BREAK_GIL_DROP in the holder's eval breaker; the
 * holder drops the GIL at its next check, within microseconds, and then
 * waits on `switched` until another thread has taken it (the forced
 * hand-off: without it, on a multi-core machine the dropper would usually
 * win the race for the lock it just released). Its known fault is the
 * convoy effect (bpo-7946, closed as won't fix; David Beazley's 2010 talk
 * "Understanding the New GIL"): a thread that comes back from a blocking
 * call waits like any other, so next to a CPU-bound thread each short I/O
 * operation costs a whole switch interval, 30x slower on our convoy
 * measurement.
 *
 * mini (the default, also --gil=on): the cpython design with the convoy
 * cured. A thread back from a blocking call is served first: it asks the
 * holder to drop at once (no interval), and a released GIL goes to
 * threads back from blocking calls before CPU-bound waiters (two condition
 * variables). This cannot starve CPU-bound threads: a thread back from a
 * blocking call gets priority only for its first acquisition; if it then
 * computes, it is preempted after an interval like any other, and a thread
 * doing I/O spends most of its time blocked, without the GIL. Each I/O
 * operation costs the CPU-bound thread one hand-off, a few microseconds.
 * The priority is not given over the thread that ended the wait: a worker
 * woken by a queue put, a lock release or its own start (TState.woken_by,
 * set by the waker's release) waits like a CPU-bound thread if its waker
 * still holds the GIL. Without that rule every task handed to a thread
 * pool preempted the thread handing them out at once, a ping-pong of
 * forced hand-offs that made a pool's task round trip twice as slow; with
 * it, the waker runs on until it blocks or its interval ends, as in
 * cpython, while a wait ended by time or by I/O keeps its priority.
 *
 * legacy: the GIL of CPython 1.5 to 2.7 and 3.0-3.1. Its rule: every
 * N "ticks" (100 by default; sys.setcheckinterval(n), which exists under
 * this design only, as in Python 2) the running thread does a "check": it
 * releases the lock and at once tries to take it again. The lock is a flag
 * with a mutex and a condition variable; a release signals one waiter.
 * There is no switch interval in time, no drop request and no forced
 * hand-off. Its known fault, shown in Beazley's 2009 talk "Inside the
 * Python GIL": on a multi-core machine the releasing thread is still
 * running when the woken waiter is scheduled, so it nearly always wins the
 * lock back; the waiter wakes for nothing, over and over ("the GIL
 * battle"), and two CPU-bound threads run slower than the same work done
 * in sequence (Python 2.7 here: 1.23-1.37x). A thread back from I/O waits
 * for the holder's next check and then often loses the race again. A tick
 * in CPython 2 was roughly one bytecode instruction; here it is one
 * eval-breaker check point, a backward jump or a call, so 100 ticks are
 * about 100 loop iterations or calls (a few microseconds of simple code,
 * more than CPython 2's 100 instructions). The count costs the other
 * designs nothing: a thread that takes the legacy GIL sets BREAK_GIL_TICK
 * in its own breaker and keeps it set, so each check point takes the slow
 * path (vm_safepoint), which counts down `TState.gil_ticks`.
 *
 * fifo: a strictly fair ticket lock, for comparison. Its rule: each thread
 * that wants the GIL draws a ticket, and the GIL goes to tickets in order;
 * a waiter asks the holder to drop after one interval as in cpython, and a
 * dropper draws a new ticket at the back of the queue. Nothing can starve
 * and nothing jumps the queue; its fault is the convoy effect again, and
 * worse with many threads: a thread back from I/O waits for every thread
 * ahead of it, each for up to an interval.
 *
 * off: no GIL at all (Interp.gil_enabled false; these functions are not
 * called); see docs/language.md for what stays safe.
 *
 * At fork. The process module stops the world before fork (no other
 * thread is inside the GIL's mutex then); the child re-initialises the
 * GIL, same design and intervals, as held by the forking thread, the only
 * thread it has.
 */

#include "vm/gil.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vm/interp.h"
#include "vm/sync.h"

uint64_t gil_now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static const char *const design_names[] = {
    [GIL_DESIGN_OFF] = "off",
    [GIL_DESIGN_MINI] = "mini",
    [GIL_DESIGN_CPYTHON] = "cpython",
    [GIL_DESIGN_LEGACY] = "legacy",
    [GIL_DESIGN_FIFO] = "fifo",
};

bool gil_design_parse(const char *name, GilDesign *out) {
    if (!strcmp(name, "on") || !strcmp(name, "1")) name = "mini";
    else if (!strcmp(name, "0")) name = "off";
    for (size_t i = 0; i < sizeof design_names / sizeof design_names[0]; i++)
        if (!strcmp(name, design_names[i])) {
            *out = (GilDesign)i;
            return true;
        }
    return false;
}

const char *gil_design_name(GilDesign design) { return design_names[design]; }

void gil_init(Gil *gil) {
    gil->design = GIL_DESIGN_MINI;
    PT_CHECK(pthread_mutex_init(&gil->mutex, NULL));
    sync_cond_init(&gil->released);
    sync_cond_init(&gil->released_io);
    sync_cond_init(&gil->switched);
    gil->locked = false;
    gil->holder = NULL;
    gil->switch_number = 0;
    gil->cpu_waiters = 0;
    gil->io_waiters = 0;
    gil->next_ticket = 0;
    gil->now_serving = 0;
    gil->last_holder = NULL;
    atomic_init(&gil->interval_ns, (uint64_t)MINI_SWITCH_INTERVAL_US * 1000u);
    atomic_init(&gil->check_interval, MINI_GIL_CHECK_INTERVAL);
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

/* The waits of gil_take, one per design family. Each is entered with the
 * mutex held and returns with it held and the GIL free for the caller. */

/* mini and cpython: a timed wait of one interval, then a drop request.
 * io (mini only): back from a blocking call, so served first. */
static void wait_timed(Gil *gil, bool io) {
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

/* legacy: wait until the flag is clear, however long; never ask. */
static void wait_legacy(Gil *gil) {
    gil->cpu_waiters++;
    while (gil->locked) COND_WAIT(&gil->released, &gil->mutex);
    gil->cpu_waiters--;
}

/* fifo: wait for this thread's ticket to be served; ask the holder to
 * drop after an interval, as cpython. */
static void wait_fifo(Gil *gil) {
    uint64_t ticket = gil->next_ticket++;
    if (!gil->locked && gil->now_serving == ticket) return;
    gil->cpu_waiters++;
    while (gil->locked || gil->now_serving != ticket) {
        uint64_t seen = gil->switch_number;
        uint64_t interval = atomic_load_explicit(&gil->interval_ns, memory_order_relaxed);
        bool timed_out = timed_wait(&gil->released, &gil->mutex, interval);
        if (gil->locked && timed_out && gil->switch_number == seen) request_drop(gil);
    }
    gil->cpu_waiters--;
}

void gil_take(Gil *gil, TState *ts, GilReason reason) {
    trace_activity(ts, ACTIVITY_WAITING);
    uint64_t start = gil_now_ns();
    MUTEX_LOCK(&gil->mutex);
    switch (gil->design) {
    case GIL_DESIGN_LEGACY: wait_legacy(gil); break;
    case GIL_DESIGN_FIFO: wait_fifo(gil); break;
    default:
        /* Priority only over a holder that did not wake this thread. */
        if (gil->locked)
            wait_timed(gil, reason == GIL_AFTER_BLOCKING && gil->design == GIL_DESIGN_MINI &&
                                ts->woken_by != gil->holder);
        break;
    }
    ts->woken_by = NULL;
    gil->locked = true;
    gil->holder = ts;
    bool switched_in = gil->last_holder != ts;
    gil->last_holder = ts;
    gil->switch_number++;
    atomic_fetch_add_explicit(&gil->switches, 1, memory_order_relaxed);
    /* A drop request meant for the previous holder is stale now, unless
     * others still wait. */
    if (gil->cpu_waiters == 0 && gil->io_waiters == 0)
        atomic_fetch_and(&ts->eval_breaker, ~(unsigned)BREAK_GIL_DROP);
    else if (gil->io_waiters > 0)
        atomic_fetch_or(&ts->eval_breaker, BREAK_GIL_DROP);
    if (gil->design == GIL_DESIGN_LEGACY) atomic_fetch_or(&ts->eval_breaker, BREAK_GIL_TICK);
    COND_BROADCAST(&gil->switched);
    MUTEX_UNLOCK(&gil->mutex);

    uint64_t now = gil_now_ns();
    uint64_t waited = now - start;
    GilThreadStats *st = &ts->gil_stats;
    st->wait_ns += waited;
    st->acquisitions++;
    if (switched_in) st->switches_in++;
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
    if (forced) st->checks++;
    MUTEX_LOCK(&gil->mutex);
    gil->locked = false;
    gil->holder = NULL;
    if (gil->design == GIL_DESIGN_FIFO) {
        gil->now_serving++;
        /* Only the next ticket may go on; each waiter looks. */
        COND_BROADCAST(&gil->released);
    } else if (gil->io_waiters > 0) {
        COND_SIGNAL(&gil->released_io);
    } else {
        COND_SIGNAL(&gil->released);
    }
    if (forced && (gil->cpu_waiters > 0 || gil->io_waiters > 0)) {
        uint64_t seen = gil->switch_number;
        while (gil->switch_number == seen && (gil->cpu_waiters > 0 || gil->io_waiters > 0))
            COND_WAIT(&gil->switched, &gil->mutex);
    }
    MUTEX_UNLOCK(&gil->mutex);
}

bool gil_tick_due(Gil *gil, TState *ts) {
    if (--ts->gil_ticks > 0) return false;
    ts->gil_ticks = atomic_load_explicit(&gil->check_interval, memory_order_relaxed);
    ts->gil_stats.checks++;
    return true;
}

void gil_reinit_after_fork(Gil *gil, TState *ts) {
    GilDesign design = gil->design;
    uint64_t interval = atomic_load(&gil->interval_ns);
    int check_interval = atomic_load(&gil->check_interval);
    gil_init(gil);
    gil->design = design;
    atomic_store(&gil->interval_ns, interval);
    atomic_store(&gil->check_interval, check_interval);
    gil->locked = true;
    gil->holder = ts;
    gil->last_holder = ts;
    gil->next_ticket = 1; /* the forking thread's */
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
    const Gil *gil = &interp->gil;
    if (gil->design == GIL_DESIGN_LEGACY)
        fprintf(out, "GIL statistics (legacy design, check interval %d ticks):\n", atomic_load(&gil->check_interval));
    else
        fprintf(out, "GIL statistics (%s%sswitch interval %.1f ms):\n",
                gil->design == GIL_DESIGN_MINI ? "" : gil_design_name(gil->design),
                gil->design == GIL_DESIGN_MINI ? "" : " design, ", (double)atomic_load(&gil->interval_ns) / 1e6);
    fprintf(out, "%-28s %10s %10s %13s %14s\n", "thread", "running s", "waiting s", "acquisitions",
            "longest wait ms");
    print_row(out, "MainThread", &main_stats);
    MUTEX_LOCK(&interp->threads_lock);
    for (size_t i = 0; i < interp->gil_record_count; i++)
        print_row(out, interp->gil_records[i].name, &interp->gil_records[i].stats);
    MUTEX_UNLOCK(&interp->threads_lock);
    fprintf(out, "GIL switches: %llu\n", (unsigned long long)atomic_load(&interp->gil.switches));
}

void gil_each_thread_stats(Interp *interp, TState *caller,
                           void (*visit)(void *ctx, const char *name, const GilThreadStats *st), void *ctx) {
    MUTEX_LOCK(&interp->threads_lock);
    for (TState *t = interp->threads; t; t = t->next) {
        /* Every thread writes its numbers while holding the GIL, as the
         * caller does now: reading them is not a race. */
        GilThreadStats st = t->gil_stats;
        if (t == caller) st.run_ns += gil_now_ns() - st.held_since_ns;
        const char *name = t == interp->main_thread ? "MainThread" : t->name[0] ? t->name : "(unnamed)";
        visit(ctx, name, &st);
    }
    for (size_t i = 0; i < interp->gil_record_count; i++)
        visit(ctx, interp->gil_records[i].name, &interp->gil_records[i].stats);
    MUTEX_UNLOCK(&interp->threads_lock);
}
