/* The _weakref module: the reference type (runtime/weakref.c) and the
 * functions CPython's C half gives weakref.mini. */
#include "runtime/args.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "runtime/weakref.h"
#include "stdlib/builtins.h"
#include "stdlib/modules.h"
#include "vm/interp.h"

static Value wr_getweakrefcount(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "getweakrefcount", nargs, kwnames, 1, 1)) return ERROR_VAL;
    return INT_VAL(weakref_count(ts, args[0]));
}

static Value wr_getweakrefs(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "getweakrefs", nargs, kwnames, 1, 1)) return ERROR_VAL;
    return weakref_list(ts, args[0]);
}

/* _remove_dead_weakref(dict, key): deletes dict[key] if it is a dead
 * reference (WeakValueDictionary's callbacks). */
static Value wr_remove_dead_weakref(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "_remove_dead_weakref", nargs, kwnames, 2, 2)) return ERROR_VAL;
    if (!IS_DICT(args[0]))
        return err_format(ts, ts->interp->exc.TypeError, "_remove_dead_weakref() argument 1 must be dict");
    Value v = dict_get(ts, AS_DICT(args[0]), args[1]);
    if (IS_ERROR(v)) return ERROR_VAL;
    if (IS_WEAKREF(v) && IS_NONE(AS_WEAKREF(v)->referent) && dict_delete(ts, AS_DICT(args[0]), args[1]) < 0)
        return ERROR_VAL;
    return NONE_VAL;
}

static const NativeDef weakref_functions[] = {
    {"getweakrefcount", wr_getweakrefcount},
    {"getweakrefs", wr_getweakrefs},
    {"_remove_dead_weakref", wr_remove_dead_weakref},
    {NULL, NULL},
};

bool mod_weakref_init(TState *ts, ObjDict *ns) {
    ObjType *ref = ts->interp->types.weakref;
    ObjStr *module = str_intern_cstr(ts, "weakref");
    if (!module) return false;
    ref->module = OBJ_VAL(module);
    return builtins_add_natives(ts, ns, weakref_functions) && builtins_add_value(ts, ns, "ref", OBJ_VAL(ref)) &&
           builtins_add_value(ts, ns, "ReferenceType", OBJ_VAL(ref));
}
