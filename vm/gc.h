#ifndef MINI_VM_GC_H
#define MINI_VM_GC_H

/* The garbage collector: precise, non-moving, stop-the-world mark-sweep.
 *
 * Invariants
 *  1. Collections start only at a safepoint: the eval-breaker check in the
 *     dispatch loop. Allocation never collects; it counts bytes and, past
 *     the threshold (or when an allocation fails), sets GC_REQUESTED in the
 *     allocating thread's breaker.
 *     So C code may hold fresh objects in C locals freely, as long as it
 *     does not run mini code (vm_call) or block while holding them.
 *  2. C code that calls back into mini code or releases the thread
 *     (blocking calls) first roots what it still needs: on the thread's VM
 *     stack (vm_push) or in an object that is itself reachable.
 *  3. While a collection runs every other thread is stopped: parked at its
 *     own safepoint or detached (blocked in a call, touching no object).
 *     A detached thread re-attaches only after the collection ends, and
 *     an ending thread leaves the thread list only after it (the collector
 *     holds threads_lock while it walks the list).
 *  4. The frame stack records each frame's stack top (frame->sp) whenever
 *     its thread leaves the dispatch loop's registers, so the collector
 *     scans exactly the live slots [base, sp) of every frame.
 *
 * Root set: every thread's frames ([base, sp) of each), its pending and
 * handled exceptions and its thread object; the interpreter's module table,
 * built-in types, interned strings and the constants of loaded code (held by
 * the functions and modules that refer to them).
 *
 * Allocation has no global lock: each thread links new objects into its
 * own list (TState.heap) and counts bytes locally, publishing the count to
 * the shared atomic counter every MINI_GC_LOCAL_QUANTUM bytes. The sweep
 * walks every thread's list during the stop-the-world pause; objects of
 * threads that have exited move to the interpreter's orphan list.
 *
 * Weak references (runtime/weakref.h) are cleared after marking, with the
 * world still stopped; their callbacks run after the world resumes, at the
 * collecting thread's safepoint (gc_run), like gc.callbacks.
 *
 * Finalizers (PEP 442, for generators, coroutines and async generators
 * that die suspended inside a try/with block: close()). After marking, with
 * the world still stopped, the collector flags each dead object that needs
 * one (OBJF_FINALIZED: at most once per object, even if resurrected),
 * marks it and everything it reaches, so nothing it may touch is freed,
 * and queues it on GcState.finalize_pending, which is a root until the
 * finalizer has run. The finalizers run after the world resumes, at the
 * collecting thread's safepoint (gc_run, after the weak reference
 * callbacks), as ordinary mini code: they may allocate, collect and
 * resurrect. An object whose finalizer ran is freed by the first
 * collection that finds it dead again. At exit (after atexit's handlers)
 * every generator still suspended in such a block is finalized, as
 * CPython's teardown of the modules does.
 *
 * Stress mode (MINI_GC_STRESS, and `mini --gc-stress`) requests a collection
 * at every allocation, so the next safepoint collects: a missing root shows
 * up at once as a use-after-free under AddressSanitizer. */

#include <stddef.h>

#include "runtime/object.h"

/* Allocates `size` bytes of a new object of the given kind and type, links
 * it into the thread's heap. Returns NULL after raising MemoryError. */
Obj *gc_alloc(TState *ts, size_t size, ObjKind kind, ObjType *type);
/* The same, returning NULL without raising: for raising MemoryError itself. */
Obj *gc_try_alloc(TState *ts, size_t size, ObjKind kind, ObjType *type);

/* Resize helpers for an object's out-of-line buffers (items of a list, a
 * dict's table...): they count the bytes towards the next collection. */
void *gc_alloc_buffer(TState *ts, size_t size);
void *gc_realloc_buffer(TState *ts, void *old, size_t old_size, size_t new_size);
void gc_free_buffer(void *p, size_t size);
/* Hands over a buffer that other threads may still be reading (a list's
 * old item array after it grew): it is freed at the next collection, when
 * every thread is stopped and so none can hold a pointer into it. This is
 * what lets GIL-off readers race with a resize safely. */
void gc_retire_buffer(TState *ts, void *p, size_t size);

/* Called at a safepoint when GC_REQUESTED is set: stops the world,
 * collects, resumes. */
void gc_collect(TState *ts);

/* A collection with what the language adds around it, at a safepoint or
 * from gc.collect(): gc.callbacks with "start", the collection, the weak
 * reference callbacks, gc.callbacks with "stop". Returns how many objects
 * it freed. Runs mini code: the caller's values must be rooted. */
size_t gc_run(TState *ts);

/* Runs the queued finalizers (see above); mini code: the caller's values
 * must be rooted. */
void gc_run_finalizers(TState *ts);
/* At exit: finalizes every generator suspended where it needs it, dead or
 * alive. */
void gc_finalize_all(TState *ts);

/* Every object of every thread's heap (gc.get_objects), gathered with the
 * world stopped; a malloc'd array the caller frees (NULL: no memory). The
 * objects stay alive while the caller reaches no safepoint. */
Value *gc_all_objects(TState *ts, size_t *count);

/* Marking interface used by TraceFn slots. */
void gc_mark_value(GcMarker *m, Value v);
void gc_mark_obj(GcMarker *m, Obj *o);
void gc_mark_values(GcMarker *m, const Value *v, size_t n);

/* Called when a thread exits: its heap list joins the orphan list. */
void gc_adopt_thread_heap(TState *ts);
/* Frees every object (interpreter teardown). */
void gc_free_all(Interp *interp);

typedef struct GcStats {
    size_t collections;
    size_t live_bytes;
    size_t freed_objects;
} GcStats;

#endif
