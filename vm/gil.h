#ifndef MINI_VM_GIL_H
#define MINI_VM_GIL_H

/* The global interpreter lock. The protocol is explained at the top of
 * vm/gil.c. Threads never call these directly: thread_attach and
 * thread_detach (vm/thread.h) do, when the GIL is on. */

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct TState TState;

/* The GIL designs, chosen once at start-up (--gil=NAME); see vm/gil.c. */
typedef enum GilDesign {
    GIL_DESIGN_OFF,     /* no GIL: Interp.gil_enabled is false */
    GIL_DESIGN_MINI,    /* the default: the convoy effect cured */
    GIL_DESIGN_CPYTHON, /* CPython 3.2+: interval, forced hand-off, no I/O priority */
    GIL_DESIGN_LEGACY,  /* CPython 2.x/3.1: a check every N ticks, no hand-off */
    GIL_DESIGN_FIFO,    /* tickets: the GIL goes to waiters in arrival order */
} GilDesign;

typedef struct Gil {
    GilDesign design;             /* set once, before any thread starts */
    pthread_mutex_t mutex;
    pthread_cond_t released;      /* a CPU-bound waiter may try again */
    pthread_cond_t released_io;   /* a thread back from a blocking call may */
    pthread_cond_t switched;      /* the forced dropper may go on */
    bool locked;                  /* guarded by mutex */
    TState *holder;               /* guarded by mutex */
    uint64_t switch_number;       /* hand-offs so far, guarded by mutex */
    int cpu_waiters;              /* guarded by mutex */
    int io_waiters;               /* guarded by mutex */
    uint64_t next_ticket;         /* fifo: guarded by mutex */
    uint64_t now_serving;         /* fifo: guarded by mutex */
    TState *last_holder;          /* for switch counts; compared, never read */
    _Atomic uint64_t interval_ns; /* sys.setswitchinterval */
    _Atomic int check_interval;   /* legacy: ticks per check, sys.setcheckinterval */
    _Atomic uint64_t switches;    /* for --gil-stats */
} Gil;

/* Why a thread takes the GIL: back from a blocking call (it gets priority,
 * the cure for the convoy effect) or after a forced drop. */
typedef enum GilReason { GIL_AFTER_BLOCKING, GIL_AFTER_DROP } GilReason;

/* "mini", "cpython", "legacy", "fifo", "off" (and "on" = "mini", "1", "0");
 * false for any other name. */
bool gil_design_parse(const char *name, GilDesign *out);
const char *gil_design_name(GilDesign design);

void gil_init(Gil *gil);
void gil_destroy(Gil *gil);
void gil_take(Gil *gil, TState *ts, GilReason reason);
/* forced: the holder was asked to drop; it then waits until another thread
 * has taken the GIL, so it cannot grab it straight back. */
void gil_drop(Gil *gil, TState *ts, bool forced);
/* Legacy design: counts one tick (an eval-breaker check point); true every
 * check_interval ticks, when the holder must drop the GIL and compete again. */
bool gil_tick_due(Gil *gil, TState *ts);
/* After fork, in the child: a fresh GIL held by the forking thread. */
void gil_reinit_after_fork(Gil *gil, TState *ts);

uint64_t gil_now_ns(void);

struct Interp;
struct GilThreadStats;
/* --gil-stats: keeps an ending thread's numbers, and prints the table. */
void gil_record_thread(struct Interp *interp, TState *ts);
void gil_print_stats(struct Interp *interp, TState *main_ts, FILE *out);
/* Calls visit for every thread's numbers so far, ended threads included,
 * the caller's current stretch of running counted; with threads_lock held,
 * so visit must not block or run mini code. */
void gil_each_thread_stats(struct Interp *interp, TState *caller,
                           void (*visit)(void *ctx, const char *name, const struct GilThreadStats *st),
                           void *ctx);

#endif
