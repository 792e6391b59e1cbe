/* The gc module: the collector (vm/gc.c) as CPython's gc module shows it.
 *
 * mini's collector is not generational and counts bytes, not objects, so
 * the generation-based numbers are mapped (docs/language.md): collect()
 * always does a full collection and returns the objects it freed;
 * set_threshold(n) scales the smallest byte threshold by n / 700 (0 holds
 * automatic collections back, as gc.disable() does); get_count() reports
 * the bytes allocated since the last collection as objects of
 * MINI_GC_COUNT_BYTES. As mini has no reference counting, disabling never
 * stops collections altogether (MINI_GC_DISABLED_FACTOR). */
#include <stdlib.h>

#include "runtime/args.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/list.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "stdlib/builtins.h"
#include "stdlib/modules.h"
#include "vm/gc.h"
#include "vm/interp.h"

/* collect(generation=2) */
static Value gcmod_collect(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"generation"};
    Value v[1];
    if (!args_bind(ts, "collect", args, nargs, kwnames, names, 1, 0, 1, v)) return ERROR_VAL;
    int64_t generation = 2;
    if (!IS_EMPTY(v[0]) && !args_int(ts, v[0], &generation)) return ERROR_VAL;
    if (generation < 0 || generation > 2) return err_format(ts, ts->interp->exc.ValueError, "invalid generation");
    return INT_VAL((int64_t)gc_run(ts));
}

static Value gcmod_enable(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    (void)args;
    if (!args_check(ts, "enable", nargs, kwnames, 0, 0)) return ERROR_VAL;
    atomic_fetch_and(&ts->interp->gc.disabled, ~(unsigned)GC_OFF_DISABLED);
    return NONE_VAL;
}

static Value gcmod_disable(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    (void)args;
    if (!args_check(ts, "disable", nargs, kwnames, 0, 0)) return ERROR_VAL;
    atomic_fetch_or(&ts->interp->gc.disabled, GC_OFF_DISABLED);
    return NONE_VAL;
}

static Value gcmod_isenabled(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    (void)args;
    if (!args_check(ts, "isenabled", nargs, kwnames, 0, 0)) return ERROR_VAL;
    return BOOL_VAL(!(atomic_load(&ts->interp->gc.disabled) & GC_OFF_DISABLED));
}

static Value gcmod_get_threshold(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    (void)args;
    if (!args_check(ts, "get_threshold", nargs, kwnames, 0, 0)) return ERROR_VAL;
    GcState *gc = &ts->interp->gc;
    Value items[3] = {INT_VAL(atomic_load(&gc->thresholds[0])), INT_VAL(atomic_load(&gc->thresholds[1])),
                      INT_VAL(atomic_load(&gc->thresholds[2]))};
    ObjTuple *t = tuple_from(ts, items, 3);
    return t ? OBJ_VAL(t) : ERROR_VAL;
}

static Value gcmod_set_threshold(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (kwnames && kwnames->len)
        return err_format(ts, ts->interp->exc.TypeError, "set_threshold() takes no keyword arguments");
    if (nargs < 1)
        return err_format(ts, ts->interp->exc.TypeError, "set_threshold() takes at least 1 argument (0 given)");
    if (nargs > 3)
        return err_format(ts, ts->interp->exc.TypeError, "set_threshold() takes at most 3 arguments (%d given)", nargs);
    int64_t n[3];
    for (int i = 0; i < nargs; i++) {
        if (!args_int(ts, args[i], &n[i])) return ERROR_VAL;
        if (n[i] > INT32_MAX || n[i] < INT32_MIN)
            return err_format(ts, ts->interp->exc.OverflowError, "signed integer is greater than maximum");
    }
    GcState *gc = &ts->interp->gc;
    for (int i = 0; i < nargs; i++) atomic_store(&gc->thresholds[i], (int)n[i]);
    /* Read by the collector only, which runs while this thread is parked. */
    gc->min_threshold = n[0] > 0 ? (size_t)((double)MINI_GC_INITIAL_THRESHOLD * (double)n[0] / MINI_GC_THRESHOLD0)
                                 : MINI_GC_INITIAL_THRESHOLD;
    if (gc->min_threshold < MINI_GC_LOCAL_QUANTUM) gc->min_threshold = MINI_GC_LOCAL_QUANTUM;
    if (n[0] <= 0) atomic_fetch_or(&gc->disabled, GC_OFF_THRESHOLD);
    else atomic_fetch_and(&gc->disabled, ~(unsigned)GC_OFF_THRESHOLD);
    return NONE_VAL;
}

static Value gcmod_get_count(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    (void)args;
    if (!args_check(ts, "get_count", nargs, kwnames, 0, 0)) return ERROR_VAL;
    size_t bytes = atomic_load_explicit(&ts->interp->gc.allocated, memory_order_relaxed) + ts->alloc_local;
    Value items[3] = {INT_VAL((int64_t)(bytes / MINI_GC_COUNT_BYTES)), INT_VAL(0), INT_VAL(0)};
    ObjTuple *t = tuple_from(ts, items, 3);
    return t ? OBJ_VAL(t) : ERROR_VAL;
}

static Value gcmod_get_stats(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    (void)args;
    if (!args_check(ts, "get_stats", nargs, kwnames, 0, 0)) return ERROR_VAL;
    GcState *gc = &ts->interp->gc;
    ObjList *list = list_new(ts, 3);
    if (!list) return ERROR_VAL;
    /* Every collection is a full one: CPython's generation 2. */
    for (int generation = 0; generation < 3; generation++) {
        ObjDict *d = dict_new(ts);
        bool full = generation == 2;
        if (!d || dict_set_str(ts, d, str_intern_cstr(ts, "collections"), INT_VAL(full ? (int64_t)gc->collections : 0)) < 0 ||
            dict_set_str(ts, d, str_intern_cstr(ts, "collected"), INT_VAL(full ? (int64_t)gc->total_found : 0)) < 0 ||
            dict_set_str(ts, d, str_intern_cstr(ts, "uncollectable"), INT_VAL(0)) < 0 ||
            list_append(ts, list, OBJ_VAL(d)) < 0)
            return ERROR_VAL;
    }
    return OBJ_VAL(list);
}

/* CPython's _PyObject_GC_MAY_BE_TRACKED: could v hold a reference cycle? */
static bool may_be_tracked(Value v);

static bool tuple_tracked(ObjTuple *t) {
    for (size_t i = 0; i < t->len; i++)
        if (may_be_tracked(t->items[i])) return true;
    return false;
}

static bool may_be_tracked(Value v) {
    if (!IS_OBJ(v)) return false;
    Obj *o = AS_OBJ(v);
    if (o->type->flags & TYPEF_HEAPTYPE) return true;
    switch ((ObjKind)o->kind) {
    case OBJ_STR:
    case OBJ_BYTES:
    case OBJ_INT:
    case OBJ_FLOAT:
    case OBJ_COMPLEX:
    case OBJ_RANGE:
    case OBJ_CODE:
    case OBJ_BYTEARRAY:
        return false;
    case OBJ_TUPLE:
        return tuple_tracked((ObjTuple *)o);
    default:
        return true;
    }
}

/* As CPython: a dict holding only atomic keys and values is untracked. */
static bool is_tracked(Value v) {
    if (IS_DICT(v) && !(AS_OBJ(v)->type->flags & TYPEF_HEAPTYPE)) {
        size_t pos = 0;
        Value key, value;
        while (dict_next(AS_DICT(v), &pos, &key, &value))
            if (may_be_tracked(key) || may_be_tracked(value)) return true;
        return false;
    }
    return may_be_tracked(v);
}

static Value gcmod_is_tracked(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "is_tracked", nargs, kwnames, 1, 1)) return ERROR_VAL;
    return BOOL_VAL(is_tracked(args[0]));
}

static Value gcmod_get_objects(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"generation"};
    Value v[1];
    if (!args_bind(ts, "get_objects", args, nargs, kwnames, names, 1, 0, 1, v)) return ERROR_VAL;
    int64_t generation = -1;
    if (!IS_EMPTY(v[0]) && !IS_NONE(v[0])) {
        if (!args_int(ts, v[0], &generation)) return ERROR_VAL;
        if (generation >= 3) return err_format(ts, ts->interp->exc.ValueError, "generation parameter must be less than the number of available generations (3)");
        if (generation < 0) return err_format(ts, ts->interp->exc.ValueError, "generation parameter cannot be negative");
    }
    size_t n = 0;
    Value *objs = gc_all_objects(ts, &n);
    if (!objs && n) return err_no_memory(ts);
    ObjList *list = list_new(ts, 0);
    bool ok = list != NULL;
    /* Nothing collects before the list holds them: no safepoint here. */
    for (size_t i = 0; ok && i < n; i++)
        if (generation < 0 || generation == 2)
            if (is_tracked(objs[i])) ok = list_append(ts, list, objs[i]) == 0;
    free(objs);
    return ok ? OBJ_VAL(list) : ERROR_VAL;
}

static const NativeDef gc_functions[] = {
    {"collect", gcmod_collect},
    {"enable", gcmod_enable},
    {"disable", gcmod_disable},
    {"isenabled", gcmod_isenabled},
    {"get_threshold", gcmod_get_threshold},
    {"set_threshold", gcmod_set_threshold},
    {"get_count", gcmod_get_count},
    {"get_stats", gcmod_get_stats},
    {"is_tracked", gcmod_is_tracked},
    {"get_objects", gcmod_get_objects},
    {NULL, NULL},
};

bool mod_gc_init(TState *ts, ObjDict *ns) {
    if (!builtins_add_natives(ts, ns, gc_functions)) return false;
    ObjList *garbage = list_new(ts, 0);
    if (!garbage || !builtins_add_value(ts, ns, "garbage", OBJ_VAL(garbage))) return false;
    GcState *gc = &ts->interp->gc;
    /* One list for the life of the interpreter (a second import of gc
     * after a `del sys.modules['gc']` shares it). */
    if (!IS_LIST(gc->callbacks)) {
        ObjList *callbacks = list_new(ts, 0);
        if (!callbacks) return false;
        gc->callbacks = OBJ_VAL(callbacks);
    }
    return builtins_add_value(ts, ns, "callbacks", gc->callbacks);
}
