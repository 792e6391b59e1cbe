#include "vm/fork.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "runtime/file.h"
#include "vm/gc.h"
#include "vm/gil.h"
#include "vm/signals.h"
#include "vm/sync.h"
#include "vm/thread.h"
#include "vm/trace.h"

/* In the child, the threads that stopped for the fork are gone, and any of
 * them may have held a runtime lock at that instant (a detached thread can
 * be inside threads_lock or the GIL's mutex). Nobody else runs in the
 * child yet, so every such lock is simply made anew; objects_after_fork
 * does the same for the locks inside objects. */
static void reinit_runtime_locks(TState *ts) {
    Interp *interp = ts->interp;
    PT_CHECK(pthread_mutex_init(&interp->threads_lock, NULL));
    PT_CHECK(pthread_cond_init(&interp->world_cond, NULL));
    PT_CHECK(pthread_mutex_init(&interp->gc.lock, NULL));
    PT_CHECK(pthread_mutex_init(&interp->gc.weak_lock, NULL));
    PT_CHECK(pthread_mutex_init(&interp->interned.lock, NULL));
    if (interp->gil_enabled) gil_reinit_after_fork(&interp->gil, ts);
}

/* Only the forking thread exists in the child. The others' objects stay
 * (other objects may refer to them) and join the orphan list; their
 * frames stop being roots, so what only they referred to is collected. */
static void drop_other_threads(TState *ts) {
    Interp *interp = ts->interp;
    TState *t = interp->threads;
    while (t) {
        TState *next = t->next;
        if (t != ts) {
            gc_adopt_thread_heap(t);
            tstate_free(t);
        }
        t = next;
    }
    interp->world_stopped = false;
    interp->stopper = NULL;
    interp->main_thread = ts;
    thread_spares_after_fork(interp);
    atomic_fetch_and(&ts->eval_breaker, ~(unsigned)BREAK_GIL_DROP);
}

/* Objects with mutexes or condition variables of their own (locks, files)
 * rebuild them: a parent thread may have held one, or still count as a
 * waiter on one (destroying such a condition variable later would wait for
 * that thread for ever). Runs after drop_other_threads, so every object
 * is on the forking thread's heap or the orphan list. */
static void objects_after_fork(TState *ts) {
    Obj *lists[2] = {ts->heap, ts->interp->gc.orphans};
    for (int i = 0; i < 2; i++)
        for (Obj *o = lists[i]; o; o = o->gc_next)
            if (o->type->after_fork) o->type->after_fork(o);
}

pid_t fork_process(TState *ts) {
    if (interp_sandbox_refuses(ts, "forking")) return -1;
    /* Output printed before the fork comes out before the child's. (What
     * is still buffered at the fork stays the parent's: file_after_fork.) */
    file_flush_std(ts);
    bool was_main = ts == ts->interp->main_thread;
    thread_stop_world(ts);
    thread_settle_spares(ts->interp);
    thread_join_ended(ts->interp);
    uint64_t forked_ns = gil_now_ns();
    pid_t pid = fork();
    if (pid != 0) {
        int err = errno;
        thread_resume_world(ts);
        if (pid < 0) {
            file_raise_oserror(ts, err, NONE_VAL);
            return -1;
        }
        return pid;
    }
    reinit_runtime_locks(ts);
    drop_other_threads(ts);
    objects_after_fork(ts);
    trace_after_fork(ts, forked_ns);
    signals_adopt_after_fork(ts, was_main);
    return 0;
}
