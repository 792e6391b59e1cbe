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

typedef struct Gil {
    pthread_mutex_t mutex;
    pthread_cond_t released;      /* a CPU-bound waiter may try again */
    pthread_cond_t released_io;   /* a thread back from a blocking call may */
    pthread_cond_t switched;      /* the forced dropper may go on */
    bool locked;                  /* guarded by mutex */
    TState *holder;               /* guarded by mutex */
    uint64_t switch_number;       /* hand-offs so far, guarded by mutex */
    int cpu_waiters;              /* guarded by mutex */
    int io_waiters;               /* guarded by mutex */
    _Atomic uint64_t interval_ns; /* sys.setswitchinterval */
    _Atomic uint64_t switches;    /* for --gil-stats */
} Gil;

/* Why a thread takes the GIL: back from a blocking call (it gets priority,
 * the cure for the convoy effect) or after a forced drop. */
typedef enum GilReason { GIL_AFTER_BLOCKING, GIL_AFTER_DROP } GilReason;

void gil_init(Gil *gil);
void gil_destroy(Gil *gil);
void gil_take(Gil *gil, TState *ts, GilReason reason);
/* forced: the holder was asked to drop; it then waits until another thread
 * has taken the GIL, so it cannot grab it straight back. */
void gil_drop(Gil *gil, TState *ts, bool forced);
/* After fork, in the child: a fresh GIL held by the forking thread. */
void gil_reinit_after_fork(Gil *gil, TState *ts);

uint64_t gil_now_ns(void);

struct Interp;
/* --gil-stats: keeps an ending thread's numbers, and prints the table. */
void gil_record_thread(struct Interp *interp, TState *ts);
void gil_print_stats(struct Interp *interp, TState *main_ts, FILE *out);

#endif
