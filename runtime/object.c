#include "runtime/object.h"

#include <sched.h>

#include "runtime/error.h"
#include "runtime/str.h"
#include "runtime/types.h"
#include "vm/interp.h"

void obj_lock_contended(Obj *o) {
    /* Critical sections are a few dozen instructions and never block, so
     * spinning briefly beats parking; yield if the holder was preempted. */
    unsigned spins = 0;
    for (;;) {
        unsigned char expected = 0;
        if (atomic_compare_exchange_weak_explicit(&o->mutex, &expected, 1, memory_order_acquire,
                                                  memory_order_relaxed))
            return;
        if (++spins > 64) {
            sched_yield();
            spins = 0;
        }
    }
}

/* ---- None, NotImplemented, Ellipsis: unboxed singletons --------------- */

static Value none_repr(TState *ts, Value self) {
    (void)self;
    return OBJ_VAL(str_intern_cstr(ts, "None"));
}

static int none_truth(TState *ts, Value self) {
    (void)ts;
    (void)self;
    return 0;
}

static int singleton_hash(TState *ts, Value self, int64_t *out) {
    (void)ts;
    *out = (int64_t)(self >> 1);
    return 0;
}

static Value none_new(TState *ts, ObjType *type, Value *args, int nargs, struct ObjTuple *kwnames) {
    (void)type;
    (void)args;
    if (nargs || kwnames) return err_format(ts, ts->interp->exc.TypeError, "NoneType takes no arguments");
    return NONE_VAL;
}

const TypeSpec none_type_spec = {
    .name = "NoneType",
    .kind = OBJ_INSTANCE,
    .repr = none_repr,
    .hash = singleton_hash,
    .truth = none_truth,
    .new_ = none_new,
};

static Value not_implemented_repr(TState *ts, Value self) {
    (void)self;
    return OBJ_VAL(str_intern_cstr(ts, "NotImplemented"));
}

const TypeSpec not_implemented_type_spec = {
    .name = "NotImplementedType",
    .kind = OBJ_INSTANCE,
    .repr = not_implemented_repr,
    .hash = singleton_hash,
};

static Value ellipsis_repr(TState *ts, Value self) {
    (void)self;
    return OBJ_VAL(str_intern_cstr(ts, "Ellipsis"));
}

const TypeSpec ellipsis_type_spec = {
    .name = "ellipsis",
    .kind = OBJ_INSTANCE,
    .repr = ellipsis_repr,
    .hash = singleton_hash,
};
