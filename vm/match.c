#include "vm/match.h"

#include <string.h>

#include "runtime/class.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/list.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "vm/interp.h"
#include "vm/vm.h"

bool match_is_sequence(TState *ts, Value v) {
    BuiltinTypes *t = &ts->interp->types;
    if (IS_LIST(v) || IS_TUPLE(v)) return true;
    ObjType *type = val_type(ts, v);
    if (type->flags & TYPEF_MAPPING) return false;
    return (type->flags & TYPEF_SEQUENCE) || type_is_subtype(type, t->list) || type_is_subtype(type, t->tuple) ||
           type_is_subtype(type, t->range);
}

bool match_is_mapping(TState *ts, Value v) {
    ObjType *type = val_type(ts, v);
    if (type->flags & TYPEF_SEQUENCE) return false;
    return (type->flags & TYPEF_MAPPING) || type_is_subtype(type, ts->interp->types.dict);
}

/* map.get(key, sentinel) for a dict subclass (it may define get), a plain
 * lookup for a dict. EMPTY_VAL when missing. */
static Value lookup(TState *ts, Value map, Value key, Value get, Value sentinel) {
    if (IS_EMPTY(get)) return dict_get(ts, AS_DICT(map), key);
    Value r = vm_call(ts, get, (Value[]){key, sentinel}, 2, NULL);
    return r == sentinel ? EMPTY_VAL : r;
}

Value match_keys(TState *ts, Value map, ObjTuple *keys) {
    Interp *interp = ts->interp;
    ObjTuple *values = tuple_new(ts, keys->len);
    if (!values) return ERROR_VAL;
    for (size_t i = 0; i < keys->len; i++) values->items[i] = NONE_VAL;
    vm_push(ts, OBJ_VAL(values));
    Value get = EMPTY_VAL, sentinel = EMPTY_VAL, r = OBJ_VAL(values);
    ObjDict *seen = dict_new(ts);
    if (!seen) r = ERROR_VAL;
    else vm_push(ts, OBJ_VAL(seen));
    if (!IS_ERROR(r) && val_type(ts, map) != interp->types.dict) {
        get = ops_getattr(ts, map, str_intern_cstr(ts, "get"));
        ObjList *marker = IS_ERROR(get) ? NULL : list_new(ts, 0);
        if (!marker) r = ERROR_VAL;
        else sentinel = OBJ_VAL(marker);
    }
    if (!IS_EMPTY(get) && !IS_ERROR(get)) vm_push(ts, get);
    if (!IS_EMPTY(sentinel)) vm_push(ts, sentinel);
    for (size_t i = 0; i < keys->len && IS_OBJ(r); i++) {
        Value key = keys->items[i];
        Value dup = dict_get(ts, seen, key);
        if (IS_ERROR(dup) || dict_set(ts, seen, key, NONE_VAL) < 0) {
            r = ERROR_VAL;
        } else if (!IS_EMPTY(dup)) {
            Value rep = ops_repr(ts, key);
            r = IS_ERROR(rep) ? rep
                              : err_format(ts, interp->exc.ValueError, "mapping pattern checks duplicate key (%s)",
                                           AS_STR(rep)->data);
        } else {
            Value v = lookup(ts, map, key, get, sentinel);
            if (IS_ERROR(v)) r = v;
            else if (IS_EMPTY(v)) r = NONE_VAL;
            else values->items[i] = v;
        }
    }
    if (!IS_EMPTY(sentinel)) vm_pop(ts);
    if (!IS_EMPTY(get) && !IS_ERROR(get)) vm_pop(ts);
    if (seen) vm_pop(ts);
    vm_pop(ts);
    return r;
}

Value match_rest(TState *ts, Value map, ObjTuple *keys) {
    /* A mapping that is no dict (a collections.abc.Mapping) is copied as
     * dict(map) does. */
    ObjDict *rest = NULL;
    if (IS_DICT(map)) {
        rest = dict_copy(ts, AS_DICT(map));
    } else {
        Value d = ops_call(ts, OBJ_VAL(ts->interp->types.dict), &map, 1, NULL);
        if (IS_ERROR(d)) return d;
        rest = AS_DICT(d);
    }
    if (!rest) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(rest));
    bool ok = true;
    for (size_t i = 0; i < keys->len && ok; i++) ok = dict_delete(ts, rest, keys->items[i]) >= 0;
    vm_pop(ts);
    return ok ? OBJ_VAL(rest) : ERROR_VAL;
}

/* Built-in types whose one positional sub-pattern matches the subject
 * itself (`case int(x)`), and their subclasses. */
static bool matches_self(TState *ts, ObjType *cls) {
    BuiltinTypes *t = &ts->interp->types;
    ObjType *const selfish[] = {t->bool_, t->bytes, t->dict, t->float_, t->frozenset, t->int_,
                                t->list,  t->set,   t->str,  t->tuple};
    for (size_t i = 0; i < sizeof selfish / sizeof selfish[0]; i++)
        if (selfish[i] && type_is_subtype(cls, selfish[i])) return true;
    return false;
}

/* getattr(subject, name), or EMPTY_VAL when it has none (no match). */
static Value attribute(TState *ts, Value subject, ObjStr *name) {
    Value v = ops_getattr(ts, subject, name);
    if (IS_ERROR(v) && err_matches(ts, ts->interp->exc.AttributeError)) {
        err_clear(ts);
        return EMPTY_VAL;
    }
    return v;
}

Value match_class(TState *ts, Value subject, Value cls, uint32_t npos, ObjTuple *names) {
    Interp *interp = ts->interp;
    if (!IS_TYPE(cls)) return err_format(ts, interp->exc.TypeError, "called match pattern must be a type");
    ObjType *type = AS_TYPE(cls);
    if (!ops_isinstance(ts, subject, type)) return err_occurred(ts) ? ERROR_VAL : NONE_VAL;
    ObjTuple *out = tuple_new(ts, npos + names->len);
    if (!out) return ERROR_VAL;
    for (size_t i = 0; i < out->len; i++) out->items[i] = NONE_VAL;
    vm_push(ts, OBJ_VAL(out));
    Value r = OBJ_VAL(out);
    Value match_args = EMPTY_VAL;
    if (npos > 0) {
        match_args = ops_getattr_opt(ts, cls, str_intern_cstr(ts, "__match_args__"));
        if (IS_ERROR(match_args)) r = ERROR_VAL;
    }
    if (IS_ERROR(r)) {
        /* raised while looking __match_args__ up */
    } else if (npos > 0 && IS_EMPTY(match_args) && matches_self(ts, type)) {
        if (npos > 1)
            r = err_format(ts, interp->exc.TypeError, "%s() accepts 1 positional sub-pattern (%u given)",
                           type->name->data, npos);
        else out->items[0] = subject;
    } else if (npos > 0) {
        size_t allowed = 0;
        if (!IS_EMPTY(match_args) && !IS_TUPLE(match_args))
            r = err_format(ts, interp->exc.TypeError, "%s.__match_args__ must be a tuple (got %s)", type->name->data,
                           ops_type_name(ts, match_args));
        else if (!IS_EMPTY(match_args)) allowed = AS_TUPLE(match_args)->len;
        if (!IS_ERROR(r) && npos > allowed)
            r = err_format(ts, interp->exc.TypeError, "%s() accepts %zu positional sub-pattern%s (%u given)",
                           type->name->data, allowed, allowed == 1 ? "" : "s", npos);
        for (uint32_t i = 0; i < npos && !IS_ERROR(r) && !IS_NONE(r); i++) {
            Value name = AS_TUPLE(match_args)->items[i];
            if (!IS_STR(name)) {
                r = err_format(ts, interp->exc.TypeError, "__match_args__ elements must be strings (got %s)",
                               ops_type_name(ts, name));
                break;
            }
            for (size_t k = 0; k < names->len; k++)
                if (str_equal(AS_STR(name), AS_STR(names->items[k])))
                    r = err_format(ts, interp->exc.TypeError, "%s() got multiple sub-patterns for attribute '%s'",
                                   type->name->data, AS_STR(name)->data);
            for (uint32_t k = 0; k < i && !IS_ERROR(r); k++)
                if (str_equal(AS_STR(name), AS_STR(AS_TUPLE(match_args)->items[k])))
                    r = err_format(ts, interp->exc.TypeError, "%s() got multiple sub-patterns for attribute '%s'",
                                   type->name->data, AS_STR(name)->data);
            if (IS_ERROR(r)) break;
            ObjStr *attr = str_intern_obj(ts, AS_STR(name));
            Value v = attr ? attribute(ts, subject, attr) : ERROR_VAL;
            if (IS_ERROR(v)) r = v;
            else if (IS_EMPTY(v)) r = NONE_VAL;
            else out->items[i] = v;
        }
    }
    for (size_t k = 0; k < names->len && !IS_ERROR(r) && !IS_NONE(r); k++) {
        Value v = attribute(ts, subject, AS_STR(names->items[k]));
        if (IS_ERROR(v)) r = v;
        else if (IS_EMPTY(v)) r = NONE_VAL;
        else out->items[npos + k] = v;
    }
    vm_pop(ts);
    return r;
}
