#include "runtime/weakref.h"

#include <stdlib.h>

#include "runtime/args.h"
#include "runtime/class.h"
#include "runtime/error.h"
#include "runtime/function.h"
#include "runtime/generic.h"
#include "runtime/list.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/sync.h"
#include "vm/vm.h"

/* CPython's rule: objects with a weak reference list. Built-in ints, strs,
 * bytes, tuples (and their subclasses: variable-sized) and built-in lists
 * and dicts (their subclasses may) cannot be. */
bool weakref_allowed(Value v) {
    if (!IS_OBJ(v)) return false;
    Obj *o = AS_OBJ(v);
    bool builtin = !(o->type->flags & TYPEF_HEAPTYPE);
    switch ((ObjKind)o->kind) {
    case OBJ_INSTANCE:
    case OBJ_FUNCTION:
    case OBJ_TYPE:
    case OBJ_SET:
    case OBJ_NATIVE:
    case OBJ_BOUND_METHOD:
    case OBJ_CODE:
    case OBJ_MODULE:
    case OBJ_GENERATOR:
    case OBJ_EXCEPTION:
    case OBJ_FILE:
    case OBJ_OPAQUE:
    case OBJ_MEMORYVIEW:
    case OBJ_ARRAY:
    case OBJ_PROPERTY:
        return true;
    case OBJ_LIST:
    case OBJ_DICT:
    case OBJ_FLOAT:
    case OBJ_COMPLEX:
    case OBJ_BYTEARRAY:
    case OBJ_WEAKREF: /* WeakMethod, KeyedRef */
        return !builtin;
    default:
        return false;
    }
}

static void link_ref(Interp *interp, ObjWeakref *w) {
    MUTEX_LOCK(&interp->gc.weak_lock);
    w->next = interp->gc.weakrefs;
    interp->gc.weakrefs = w;
    MUTEX_UNLOCK(&interp->gc.weak_lock);
}

/* ref(obj) without a callback is shared, as in CPython: the first plain
 * reference to obj, if there is one. */
static ObjWeakref *find_plain(Interp *interp, Value referent) {
    ObjWeakref *found = NULL;
    MUTEX_LOCK(&interp->gc.weak_lock);
    for (ObjWeakref *w = interp->gc.weakrefs; w && !found; w = w->next)
        if (w->referent == referent && IS_NONE(w->callback) && w->obj.type == interp->types.weakref) found = w;
    MUTEX_UNLOCK(&interp->gc.weak_lock);
    return found;
}

static Value weakref_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    if (kwnames && kwnames->len)
        return err_format(ts, ts->interp->exc.TypeError, "%s() takes no keyword arguments", type->name->data);
    if (nargs < 1 || nargs > 2)
        return err_format(ts, ts->interp->exc.TypeError, "__new__ expected at most 2 arguments, got %d", nargs);
    Value referent = args[0];
    Value callback = nargs > 1 ? args[1] : NONE_VAL;
    if (!weakref_allowed(referent))
        return err_format(ts, ts->interp->exc.TypeError, "cannot create weak reference to '%s' object",
                          val_type(ts, referent)->name->data);
    Interp *interp = ts->interp;
    if (IS_NONE(callback) && type == interp->types.weakref) {
        ObjWeakref *same = find_plain(interp, referent);
        if (same) return OBJ_VAL(same);
    }
    ObjWeakref *w = (ObjWeakref *)gc_alloc(ts, sizeof(ObjWeakref), OBJ_WEAKREF, type);
    if (!w) return ERROR_VAL;
    w->referent = referent;
    w->callback = callback;
    atomic_init(&w->hashed, false);
    atomic_init(&w->hash, 0);
    link_ref(interp, w);
    return OBJ_VAL(w);
}

static void weakref_trace(GcMarker *m, Obj *self) { gc_mark_value(m, ((ObjWeakref *)self)->callback); }

static Value weakref_call(TState *ts, Value callee, Value *args, int nargs, ObjTuple *kwnames) {
    (void)args;
    if (!args_check(ts, "weakref", nargs, kwnames, 0, 0)) return ERROR_VAL;
    return AS_WEAKREF(callee)->referent;
}

static Value weakref_repr(TState *ts, Value self) {
    ObjWeakref *w = AS_WEAKREF(self);
    Value r = w->referent;
    ObjStr *s = IS_NONE(r) ? str_printf(ts, "<weakref at %p; dead>", (void *)w)
                           : str_printf(ts, "<weakref at %p; to '%s' at %p>", (void *)w,
                                        val_type(ts, r)->name->data, (void *)AS_OBJ(r));
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static int weakref_hash(TState *ts, Value self, int64_t *out) {
    ObjWeakref *w = AS_WEAKREF(self);
    if (!atomic_load_explicit(&w->hashed, memory_order_acquire)) {
        Value r = w->referent;
        if (IS_NONE(r)) {
            err_format(ts, ts->interp->exc.TypeError, "weak object has gone away");
            return -1;
        }
        int64_t h;
        if (ops_hash(ts, r, &h) < 0) return -1;
        atomic_store_explicit(&w->hash, h, memory_order_relaxed);
        atomic_store_explicit(&w->hashed, true, memory_order_release);
    }
    *out = atomic_load_explicit(&w->hash, memory_order_relaxed);
    return 0;
}

/* Two live references compare their referents; otherwise identity. */
static Value weakref_richcmp(TState *ts, Value a, Value b, CmpOp op) {
    if ((op != CMP_EQ && op != CMP_NE) || !IS_WEAKREF(a) || !IS_WEAKREF(b)) return NOT_IMPLEMENTED_VAL;
    Value ra = AS_WEAKREF(a)->referent, rb = AS_WEAKREF(b)->referent;
    if (IS_NONE(ra) || IS_NONE(rb)) return BOOL_VAL((a == b) == (op == CMP_EQ));
    return ops_compare(ts, ra, rb, op);
}

static Value weakref_get_callback(TState *ts, Value self) {
    (void)ts;
    return AS_WEAKREF(self)->callback;
}

/* Subclasses (weakref.KeyedRef, WeakMethod) call it with their arguments. */
static Value weakref_init(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    (void)ts, (void)args, (void)nargs, (void)kwnames;
    return NONE_VAL;
}

/* ref.__call__(r), as WeakMethod calls it. */
static Value weakref_call_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__call__", nargs, kwnames, 1, 1)) return ERROR_VAL;
    if (!IS_WEAKREF(args[0])) return err_type_not(ts, args[0], "weakref");
    return AS_WEAKREF(args[0])->referent;
}

static const NativeDef weakref_methods[] = {
    {"__init__", weakref_init},
    {"__call__", weakref_call_method},
    {NULL, NULL},
};

static const NativeDef weakref_classmethods[] = {
    {"__class_getitem__", generic_class_getitem},
    {NULL, NULL},
};

static const GetSetDef weakref_getsets[] = {
    {"__callback__", weakref_get_callback, NULL},
    {NULL, NULL, NULL},
};

const TypeSpec weakref_type_spec = {
    .name = "ReferenceType",
    .kind = OBJ_WEAKREF,
    .flags = TYPEF_BASETYPE,
    .new_ = weakref_new,
    .call = weakref_call,
    .repr = weakref_repr,
    .hash = weakref_hash,
    .richcmp = weakref_richcmp,
    .trace = weakref_trace,
    .methods = weakref_methods,
    .classmethods = weakref_classmethods,
    .getsets = weakref_getsets,
};

int64_t weakref_count(TState *ts, Value v) {
    Interp *interp = ts->interp;
    int64_t n = 0;
    MUTEX_LOCK(&interp->gc.weak_lock);
    for (ObjWeakref *w = interp->gc.weakrefs; w; w = w->next) n += w->referent == v;
    MUTEX_UNLOCK(&interp->gc.weak_lock);
    return n;
}

Value weakref_list(TState *ts, Value v) {
    /* Gathered under the lock, then made a list: nothing allocates under
     * it, and nothing collects in between (no safepoint). */
    Interp *interp = ts->interp;
    size_t n = 0, cap = 0;
    Value *items = NULL;
    bool ok = true;
    MUTEX_LOCK(&interp->gc.weak_lock);
    for (ObjWeakref *w = interp->gc.weakrefs; w && ok; w = w->next) {
        if (w->referent != v) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 4;
            Value *grown = realloc(items, cap * sizeof *items);
            if (!grown) {
                ok = false;
                break;
            }
            items = grown;
        }
        items[n++] = OBJ_VAL(w);
    }
    MUTEX_UNLOCK(&interp->gc.weak_lock);
    ObjList *list = ok ? list_from(ts, items, n) : NULL;
    free(items);
    if (!ok) return err_no_memory(ts);
    return list ? OBJ_VAL(list) : ERROR_VAL;
}

void weakref_sweep(Interp *interp) {
    GcState *gc = &interp->gc;
    ObjWeakref **link = &gc->weakrefs;
    while (*link) {
        ObjWeakref *w = *link;
        Value r = w->referent;
        if (!w->obj.gc_mark) {
            /* Garbage itself: no callback, as in CPython. */
            *link = w->next;
        } else if (IS_OBJ(r) && !AS_OBJ(r)->gc_mark && !(AS_OBJ(r)->flags & OBJF_IMMORTAL)) {
            w->referent = NONE_VAL;
            *link = w->next;
            if (!IS_NONE(w->callback)) {
                w->next = gc->weak_pending;
                gc->weak_pending = w;
            }
        } else {
            link = &w->next;
        }
    }
}

void weakref_mark_pending(GcMarker *m, Interp *interp) {
    for (ObjWeakref *w = interp->gc.weak_pending; w; w = w->next) gc_mark_obj(m, &w->obj);
}

void weakref_run_callbacks(TState *ts) {
    GcState *gc = &ts->interp->gc;
    /* Under the lock: another thread's collection may be taking from the
     * list (each collecting thread runs the callbacks it finds). */
    MUTEX_LOCK(&gc->weak_lock);
    bool any = gc->weak_pending != NULL;
    MUTEX_UNLOCK(&gc->weak_lock);
    if (!any) return;
    Value saved = err_fetch(ts);
    vm_push(ts, saved);
    for (;;) {
        MUTEX_LOCK(&gc->weak_lock);
        ObjWeakref *w = gc->weak_pending;
        if (w) gc->weak_pending = w->next;
        MUTEX_UNLOCK(&gc->weak_lock);
        if (!w) break;
        w->next = NULL;
        Value callback = w->callback;
        w->callback = NONE_VAL;
        vm_push(ts, OBJ_VAL(w));
        vm_push(ts, callback);
        Value arg = OBJ_VAL(w);
        if (IS_ERROR(vm_call(ts, callback, &arg, 1, NULL))) err_write_unraisable(ts, callback);
        vm_pop(ts);
        vm_pop(ts);
    }
    vm_pop(ts);
    if (!IS_EMPTY(saved)) err_restore(ts, saved);
}
