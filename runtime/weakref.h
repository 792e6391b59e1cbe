#ifndef MINI_RUNTIME_WEAKREF_H
#define MINI_RUNTIME_WEAKREF_H

/* Weak references (weakref.ref), built on the collector.
 *
 * A weak reference does not mark its referent. Every live one is listed in
 * the interpreter (GcState.weakrefs, under weak_lock). After a collection
 * has marked, with the world still stopped, weakref_sweep clears each one
 * whose referent was not marked and moves those with a callback to the
 * pending list, a root; the callbacks run later, at a safepoint of the
 * collecting thread (weakref_run_callbacks), never while the world is
 * stopped. So a thread reading a referent either does it before the
 * collection (the referent is then on its stack: marked, not cleared) or
 * after (it reads None): a racing reader never sees a freed object. */

#include <stdatomic.h>
#include <stdbool.h>

#include "runtime/object.h"

typedef struct ObjWeakref {
    Obj obj;
    Value referent;          /* None once cleared; written only with the world stopped */
    Value callback;          /* None: none, or it already ran */
    /* The referent's hash once asked (threads may ask at once: atomics). */
    _Atomic int64_t hash;
    atomic_bool hashed;
    struct ObjWeakref *next; /* GcState.weakrefs while alive, then weak_pending */
} ObjWeakref;

#define IS_WEAKREF(v) IS_KIND(v, OBJ_WEAKREF)
#define AS_WEAKREF(v) ((ObjWeakref *)AS_OBJ(v))

/* May v be weakly referenced? (CPython: not int, str, tuple, list, dict...) */
bool weakref_allowed(Value v);
/* How many weak references to v, and a list of them. */
int64_t weakref_count(TState *ts, Value v);
Value weakref_list(TState *ts, Value v);

/* The collector's part (vm/gc.c), with the world stopped: clears the weak
 * references whose referent is not marked, drops dead ones from the list. */
void weakref_sweep(Interp *interp);
/* Marks the references whose callbacks are still to run. */
void weakref_mark_pending(GcMarker *m, Interp *interp);
/* At a safepoint: runs the pending callbacks, each with its reference; an
 * exception in one is printed ("Exception ignored in: ...") as CPython does. */
void weakref_run_callbacks(TState *ts);

extern const struct TypeSpec weakref_type_spec;

#endif
