#ifndef MINI_VM_THREAD_H
#define MINI_VM_THREAD_H

/* Attaching and detaching a thread from the interpreter.
 *
 * An attached thread may touch mini objects; a detached one may not, and a
 * collection does not wait for it. Blocking calls detach around the wait
 * (and so release the GIL when it is on): copy what you need out of mini
 * objects, thread_detach, block, thread_attach, then touch objects again. */

#include <poll.h>

#include "vm/interp.h"

void thread_detach(TState *ts);
void thread_attach(TState *ts);
/* Takes a C mutex that a thread working without the GIL may hold for a
 * while (a hash or zlib object's): waits for it detached, so the GIL is
 * not held meanwhile. */
void thread_lock_mutex(TState *ts, pthread_mutex_t *m);

/* thread_detach for C code that goes on computing without the GIL
 * (hashing, compressing a large buffer): --gil-timeline draws it as
 * running C code, not as blocked. */
void thread_detach_to_compute(TState *ts);

/* One attempt at a blocking operation, made detached: it waits at most
 * until *until (CLOCK_MONOTONIC; NULL: no limit). Returns 1 done, 0 not yet
 * (timed out, or woken to look for Ctrl-C), -errno on failure. It touches
 * only C memory. */
typedef int (*ThreadWaitStep)(void *ctx, const struct timespec *until);

/* Runs step, detached, until it is done or `timeout` seconds pass (< 0: no
 * limit). The main thread waits in slices of MINI_SIGNAL_POLL_SECONDS so a
 * Ctrl-C raises KeyboardInterrupt. Returns 1 done, 0 timed out, -1 after
 * raising (KeyboardInterrupt, or OSError for -errno). */
int thread_wait(TState *ts, ThreadWaitStep step, void *ctx, double timeout);

/* Waiting for file descriptors: a ThreadWaitStep over poll(2), and
 * thread_wait with it. thread_poll returns 1 when a descriptor is ready
 * (see the revents), 0 after timeout seconds (< 0: no limit), -1 after
 * raising. */
typedef struct ThreadPoll {
    struct pollfd *fds;
    nfds_t n;
} ThreadPoll;
int thread_poll_step(void *ctx, const struct timespec *until);
int thread_poll(TState *ts, struct pollfd *fds, nfds_t n, double timeout);

/* Stop-the-world for the collector (and, later, fork): returns with every
 * other thread parked or detached and unable to attach until
 * thread_resume_world. The caller is attached. */
void thread_stop_world(TState *ts);
void thread_resume_world(TState *ts);

/* At a safepoint: drop the GIL and take it back. forced: another thread
 * asked for it, and this one waits until it has run; not forced (the
 * legacy design's check): release and at once compete again. */
void thread_yield_gil(TState *ts, bool forced);

/* At a safepoint when BREAK_GC is set by someone else's stop request. */
void thread_park(TState *ts);

/* A thread started by _thread ends with thread_will_end (attached, as
 * its last step with objects) and is joined later by thread_join_ended,
 * called before a fork and before starting another thread. Fork must wait
 * for an ending thread to be gone entirely: the C teardown after its
 * detach (its frames, the C library's and a sanitizer's per-thread state)
 * may hold an allocator lock, which the child would then wait on for ever.
 * Joining at thread start bounds the ended threads not yet joined. */
void thread_will_end(TState *ts);
void thread_join_ended(Interp *interp);
/* At exit: no thread is kept as a spare any more, those on their way to
 * park have parked, and the threads that ended are joined; from then on an
 * ending thread detaches itself instead (nobody will join it, and a
 * sanitizer counts an ended, unjoined thread as leaked). */
void thread_exiting(Interp *interp);

/* Spare OS threads. A thread whose Python work ended may stay, parked,
 * for the next start_new_thread (MINI_SPARE_THREADS of them at most):
 * thread_keep_as_spare (attached, instead of thread_will_end) reserves a
 * place, and after its teardown thread_park_as_spare waits for the next
 * TState to run. thread_hand_to_spare gives a new thread's TState to a
 * parked one (false: none; *ident: that OS thread's ident).
 * thread_settle_spares, before a fork (world stopped) and at exit, waits until every
 * reserved thread is parked, so none is in its teardown at the fork;
 * thread_spares_after_fork forgets them in the child. */
bool thread_keep_as_spare(TState *ts);
TState *thread_park_as_spare(Interp *interp);
bool thread_hand_to_spare(Interp *interp, TState *child, uint64_t *ident);
void thread_settle_spares(Interp *interp);
void thread_spares_after_fork(Interp *interp);

/* Joined threads still run a few instructions of C teardown, where they
 * hand over their statistics and trace: gives them up to 200 ms (daemon
 * threads that still run are left out). */
void thread_wait_teardown(TState *ts);

#endif
