#include "runtime/ops.h"

#include <string.h>

#include "runtime/class.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/float.h"
#include "runtime/function.h"
#include "runtime/int.h"
#include "runtime/iterator.h"
#include "runtime/list.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/vm.h"

/* As CPython's tp_name: a built-in type defined by a module other than
 * builtins carries the module ("collections.deque"); classes do not. */
const char *ops_type_name(TState *ts, Value v) { return ops_tp_name(ts, val_type(ts, v)); }

const char *ops_tp_name(TState *ts, ObjType *t) {
    if ((t->flags & TYPEF_HEAPTYPE) || !IS_STR(t->module)) return t->name->data;
    ObjStr *full = atomic_load_explicit(&t->full_name, memory_order_acquire);
    if (full) return full->data;
    const char *module = AS_STR(t->module)->data;
    if (strcmp(module, "builtins") == 0) return t->name->data;
    /* Usually called while an error is being made: keep the pending one. */
    Value pending = err_fetch(ts);
    full = str_printf(ts, "%s.%s", module, t->name->data);
    if (!full) err_clear(ts);
    if (!IS_EMPTY(pending)) err_restore(ts, pending);
    if (!full) return t->name->data;
    ObjStr *expected = NULL;
    if (!atomic_compare_exchange_strong(&t->full_name, &expected, full)) full = expected;
    return full->data;
}

Value ops_repr(TState *ts, Value v) {
    ObjType *t = val_type(ts, v);
    if (IS_STR(v) && t == ts->interp->types.str) return OBJ_VAL(str_repr(ts, AS_STR(v)));
    if (!t->repr) return err_format(ts, ts->interp->exc.TypeError, "cannot repr '%s'", ops_tp_name(ts, t));
    if (!vm_enter_native(ts)) return ERROR_VAL;
    Value r = t->repr(ts, v);
    vm_leave_native(ts);
    return r;
}

Value ops_str(TState *ts, Value v) {
    if (IS_STR(v) && AS_OBJ(v)->type == ts->interp->types.str) return v;
    ObjType *t = val_type(ts, v);
    if (t->str) {
        if (!vm_enter_native(ts)) return ERROR_VAL;
        Value r = t->str(ts, v);
        vm_leave_native(ts);
        return r;
    }
    return ops_repr(ts, v);
}

Value ops_format(TState *ts, Value v, Value spec) {
    if (IS_STR(spec) && AS_STR(spec)->len == 0 && !(IS_OBJ(v) && (OBJ_TYPE(v)->flags & TYPEF_HEAPTYPE)))
        return ops_str(ts, v);
    Value fn = type_lookup(val_type(ts, v), ts->interp->names.format);
    if (IS_EMPTY(fn))
        return err_format(ts, ts->interp->exc.TypeError, "cannot format '%s'", ops_type_name(ts, v));
    Value r = vm_call_method(ts, fn, v, &spec, 1, NULL);
    if (!IS_ERROR(r) && !IS_STR(r))
        return err_format(ts, ts->interp->exc.TypeError, "__format__ must return a str, not %s",
                          ops_type_name(ts, r));
    return r;
}

int ops_identity_hash(TState *ts, Value self, int64_t *out) {
    (void)ts;
    *out = ops_identity_hash_of(self);
    return 0;
}

Value ops_identity_richcmp(TState *ts, Value a, Value b, CmpOp op) {
    (void)ts;
    if (op == CMP_EQ) return a == b ? TRUE_VAL : NOT_IMPLEMENTED_VAL;
    if (op == CMP_NE) return a == b ? FALSE_VAL : NOT_IMPLEMENTED_VAL;
    return NOT_IMPLEMENTED_VAL;
}

int ops_hash_slot(TState *ts, Value v, int64_t *out) {
    ObjType *t = val_type(ts, v);
    if (!t->hash) {
        err_format(ts, ts->interp->exc.TypeError, "unhashable type: '%s'", ops_tp_name(ts, t));
        return -1;
    }
    return t->hash(ts, v, out);
}

int ops_truth(TState *ts, Value v) {
    if (v == TRUE_VAL) return 1;
    if (v == FALSE_VAL || v == NONE_VAL) return 0;
    if (IS_INT(v)) return AS_INT(v) != 0;
    if (IS_FLOAT(v)) return AS_FLOAT(v) != 0.0;
    ObjType *t = val_type(ts, v);
    if (t->truth) return t->truth(ts, v);
    if (t->len) {
        int64_t n = t->len(ts, v);
        return n < 0 ? -1 : n > 0;
    }
    return 1;
}

static CmpOp swapped(CmpOp op) {
    switch (op) {
    case CMP_LT: return CMP_GT;
    case CMP_LE: return CMP_GE;
    case CMP_GT: return CMP_LT;
    case CMP_GE: return CMP_LE;
    default: return op;
    }
}

static const char *const cmp_symbols[] = {"<", "<=", "==", "!=", ">", ">="};

Value ops_compare(TState *ts, Value a, Value b, CmpOp op) {
    ObjType *ta = val_type(ts, a), *tb = val_type(ts, b);
    if (!vm_enter_native(ts)) return ERROR_VAL;
    Value r = NOT_IMPLEMENTED_VAL;
    /* A subclass's reflected method wins, as in Python. */
    bool reflected_first = ta != tb && tb->richcmp && type_is_subtype(tb, ta) && tb->richcmp != ta->richcmp;
    if (reflected_first) r = tb->richcmp(ts, b, a, swapped(op));
    if (IS_NOT_IMPLEMENTED(r) && ta->richcmp) r = ta->richcmp(ts, a, b, op);
    if (IS_NOT_IMPLEMENTED(r) && !reflected_first && tb->richcmp) r = tb->richcmp(ts, b, a, swapped(op));
    vm_leave_native(ts);
    if (!IS_NOT_IMPLEMENTED(r)) return r;
    if (op == CMP_EQ) return BOOL_VAL(a == b);
    if (op == CMP_NE) return BOOL_VAL(a != b);
    return err_format(ts, ts->interp->exc.TypeError,
                      "'%s' not supported between instances of '%s' and '%s'", cmp_symbols[op],
                      ops_tp_name(ts, ta), ops_tp_name(ts, tb));
}

int ops_equal(TState *ts, Value a, Value b) {
    if (a == b && !IS_FLOAT(a)) return 1;
    if (IS_INT(a) && IS_INT(b)) return 0;
    if (IS_STR(a) && IS_STR(b)) return str_equal(AS_STR(a), AS_STR(b));
    Value r = ops_compare(ts, a, b, CMP_EQ);
    if (IS_ERROR(r)) return -1;
    if (IS_BOOL(r)) return AS_BOOL(r);
    return ops_truth(ts, r);
}

int ops_equal_holding(TState *ts, Obj *owner, Value item, Value x, bool *released) {
    /* Small ints are equal only when identical: the common case. */
    int eq = item == x ? 1 : IS_INT(item) && IS_INT(x) ? 0 : dict_key_eq_fast(ts, item, x);
    *released = eq < 0;
    if (eq >= 0) return eq;
    obj_unlock(ts, owner);
    vm_push(ts, item);
    eq = ops_equal(ts, item, x);
    vm_pop(ts);
    obj_lock(ts, owner);
    return eq;
}

/* Each operand's type gets its turn; NOT_IMPLEMENTED_VAL when neither
 * supports the operation. */
static Value binary_dispatch(TState *ts, BinOp op, Value a, Value b) {
    ObjType *ta = val_type(ts, a), *tb = val_type(ts, b);
    if (!vm_enter_native(ts)) return ERROR_VAL;
    Value r = NOT_IMPLEMENTED_VAL;
    /* As CPython: the right operand goes first when its type is a subclass
     * of the left's that changes the operator ({} | defaultdict(...) is a
     * defaultdict, through its __ror__). */
    bool other_slot = tb->binop && tb->binop != ta->binop;
    bool right_first = other_slot && tb != ta && type_is_subtype(tb, ta);
    if (right_first) r = tb->binop(ts, op, a, b);
    if (IS_NOT_IMPLEMENTED(r) && ta->binop) r = ta->binop(ts, op, a, b);
    if (IS_NOT_IMPLEMENTED(r) && other_slot && !right_first) r = tb->binop(ts, op, a, b);
    vm_leave_native(ts);
    return r;
}

Value ops_binary(TState *ts, BinOp op, Value a, Value b) {
    Value r = binary_dispatch(ts, op, a, b);
    if (IS_NOT_IMPLEMENTED(r)) return err_unsupported_binop(ts, op, a, b);
    return r;
}

Value ops_inplace(TState *ts, BinOp op, Value a, Value b) {
    ObjType *ta = val_type(ts, a);
    Value r = ta->inplace ? ta->inplace(ts, op, a, b) : NOT_IMPLEMENTED_VAL;
    if (IS_NOT_IMPLEMENTED(r)) r = binary_dispatch(ts, op, a, b);
    /* The message names the augmented operator, as CPython's. */
    if (IS_NOT_IMPLEMENTED(r)) return err_unsupported_inplace(ts, op, a, b);
    return r;
}

static const char *const unop_names[] = {"unary -", "unary +", "unary ~"};

Value ops_unary(TState *ts, UnOp op, Value a) {
    ObjType *t = val_type(ts, a);
    Value r = NOT_IMPLEMENTED_VAL;
    if (t->unop) r = t->unop(ts, op, a);
    if (IS_EMPTY(r) || (IS_NOT_IMPLEMENTED(r) && !class_unop_is_user(t)))
        return err_format(ts, ts->interp->exc.TypeError, "bad operand type for %s: '%s'",
                          unop_names[op], ops_tp_name(ts, t));
    return r;
}

int64_t ops_len(TState *ts, Value v) {
    ObjType *t = val_type(ts, v);
    if (!t->len) {
        err_format(ts, ts->interp->exc.TypeError, "object of type '%s' has no len()", ops_tp_name(ts, t));
        return -1;
    }
    return t->len(ts, v);
}

Value ops_getitem(TState *ts, Value obj, Value key) {
    ObjType *t = val_type(ts, obj);
    if (t->getitem) return t->getitem(ts, obj, key);
    if (IS_TYPE(obj)) {
        Value fn = type_lookup(AS_TYPE(obj), ts->interp->names.class_getitem);
        if (!IS_EMPTY(fn)) {
            fn = class_bind(ts, fn, EMPTY_VAL, AS_TYPE(obj));
            return IS_ERROR(fn) ? fn : vm_call(ts, fn, &key, 1, NULL);
        }
        return err_format(ts, ts->interp->exc.TypeError, "type '%s' is not subscriptable",
                          AS_TYPE(obj)->name->data);
    }
    return err_format(ts, ts->interp->exc.TypeError, "'%s' object is not subscriptable", ops_tp_name(ts, t));
}

int ops_setitem(TState *ts, Value obj, Value key, Value value) {
    ObjType *t = val_type(ts, obj);
    if (t->setitem) return t->setitem(ts, obj, key, value);
    /* CPython words it by whether the type has the sequence protocol
     * (every class statement's type does). */
    if (IS_EMPTY(value))
        err_format(ts, ts->interp->exc.TypeError, "'%s' object %s support item deletion", ops_tp_name(ts, t),
                   t->getitem || t->contains || (t->flags & TYPEF_HEAPTYPE) ? "doesn't" : "does not");
    else
        err_format(ts, ts->interp->exc.TypeError, "'%s' object does not support item assignment",
                   ops_tp_name(ts, t));
    return -1;
}

int ops_contains_by_iter(TState *ts, Value container, Value item) {
    ObjType *t = val_type(ts, container);
    if (!t->iter && !(t->getitem && (t->flags & TYPEF_HEAPTYPE))) {
        err_format(ts, ts->interp->exc.TypeError, "argument of type '%s' is not iterable",
                   ops_tp_name(ts, t));
        return -1;
    }
    Value it = ops_iter(ts, container);
    if (IS_ERROR(it)) return -1;
    vm_push(ts, it);
    int found = 0;
    for (;;) {
        Value x = ops_next(ts, it);
        if (IS_ERROR(x)) {
            found = -1;
            break;
        }
        if (IS_EMPTY(x)) break;
        int eq = ops_equal(ts, x, item);
        if (eq != 0) {
            found = eq;
            break;
        }
    }
    vm_pop(ts);
    return found;
}

Value ops_iter(TState *ts, Value v) {
    ObjType *t = val_type(ts, v);
    if (t->iter) return t->iter(ts, v);
    if (t->getitem && (t->flags & TYPEF_HEAPTYPE)) return seq_iter_new(ts, v);
    return err_format(ts, ts->interp->exc.TypeError, "'%s' object is not iterable", ops_tp_name(ts, t));
}

Value ops_next(TState *ts, Value iterator) {
    ObjType *t = val_type(ts, iterator);
    if (!t->next)
        return err_format(ts, ts->interp->exc.TypeError, "'%s' object is not an iterator",
                          ops_tp_name(ts, t));
    return t->next(ts, iterator);
}

Value ops_getattr_opt(TState *ts, Value obj, ObjStr *name) {
    ObjType *t = val_type(ts, obj);
    if (t->getattr) return t->getattr(ts, obj, name);
    return class_generic_getattr(ts, obj, name);
}

Value ops_getattr(TState *ts, Value obj, ObjStr *name) {
    Value v = ops_getattr_opt(ts, obj, name);
    if (IS_ERROR(v)) {
        /* An AttributeError from __getattr__ or a property learns the name
         * and object it was about, unless it says (CPython 3.10). */
        Value exc = ts->exc;
        if (IS_EXCEPTION(exc) && type_is_subtype(OBJ_TYPE(exc), ts->interp->exc.AttributeError)) {
            ObjDict *d = AS_EXCEPTION(exc)->dict;
            Value had_name = d ? dict_get_str(d, ts->interp->names.name_attr) : EMPTY_VAL;
            Value had_obj = d ? dict_get_str(d, ts->interp->names.obj) : EMPTY_VAL;
            if ((IS_EMPTY(had_name) || IS_NONE(had_name)) && (IS_EMPTY(had_obj) || IS_NONE(had_obj)))
                return err_set_missing_name(ts, name, obj);
        }
        return v;
    }
    if (!IS_EMPTY(v)) return v;
    Interp *interp = ts->interp;
    if (IS_TYPE(obj)) {
        err_format(ts, interp->exc.AttributeError, "type object '%s' has no attribute '%s'", AS_TYPE(obj)->name->data,
                   name->data);
    } else if (IS_KIND(obj, OBJ_MODULE)) {
        Value mod_name = ops_getattr_opt(ts, obj, interp->names.name);
        err_format(ts, interp->exc.AttributeError, "module '%s' has no attribute '%s'",
                   IS_STR(mod_name) ? AS_STR(mod_name)->data : "?", name->data);
    } else {
        err_format(ts, interp->exc.AttributeError, "'%s' object has no attribute '%s'", ops_type_name(ts, obj),
                   name->data);
    }
    return err_set_missing_name(ts, name, obj);
}

int ops_setattr(TState *ts, Value obj, ObjStr *name, Value value) {
    ObjType *t = val_type(ts, obj);
    if (t->setattr) return t->setattr(ts, obj, name, value);
    return class_generic_setattr(ts, obj, name, value);
}

Value ops_call(TState *ts, Value callee, Value *args, int nargs, ObjTuple *kwnames) {
    return vm_call(ts, callee, args, nargs, kwnames);
}

bool ops_index(TState *ts, Value v, int64_t *out) {
    if (IS_INT(v)) {
        *out = AS_INT(v);
        return true;
    }
    if (IS_BOOL(v)) {
        *out = AS_BOOL(v);
        return true;
    }
    if (IS_BIGINT(v)) {
        if (int_to_i64(v, out)) return true;
        err_format(ts, ts->interp->exc.IndexError, "cannot fit 'int' into an index-sized integer");
        return false;
    }
    ObjType *t = val_type(ts, v);
    if (t->flags & TYPEF_HEAPTYPE) {
        Value fn = type_lookup(t, ts->interp->names.index);
        if (!IS_EMPTY(fn)) {
            Value r = vm_call_method(ts, fn, v, NULL, 0, NULL);
            if (IS_ERROR(r)) return false;
            if (IS_INT(r) || IS_BIGINT(r)) return ops_index(ts, r, out);
            err_format(ts, ts->interp->exc.TypeError, "__index__ returned non-int (type %s)",
                       ops_type_name(ts, r));
            return false;
        }
    }
    err_format(ts, ts->interp->exc.TypeError, "'%s' object cannot be interpreted as an integer",
               ops_tp_name(ts, t));
    return false;
}

bool ops_isinstance(TState *ts, Value v, ObjType *type) {
    return type_is_subtype(val_type(ts, v), type);
}

ObjList *ops_to_list(TState *ts, Value iterable) {
    ObjList *list = list_new(ts, 0);
    if (!list) return NULL;
    vm_push(ts, OBJ_VAL(list));
    int r = list_extend(ts, list, iterable);
    vm_pop(ts);
    return r < 0 ? NULL : list;
}

ObjTuple *ops_to_tuple(TState *ts, Value iterable) {
    if (IS_TUPLE_ITER(ts, iterable)) return AS_TUPLE(iterable);
    if (IS_LIST_ITER(ts, iterable)) {
        size_t n;
        Value *items = list_snapshot(ts, AS_LIST(iterable), &n);
        if (!items && n) return NULL;
        ObjTuple *t = tuple_from(ts, items, n);
        gc_free_buffer(items, n * sizeof(Value));
        return t;
    }
    ObjList *list = ops_to_list(ts, iterable);
    if (!list) return NULL;
    vm_push(ts, OBJ_VAL(list));
    size_t n;
    Value *items = list_snapshot(ts, list, &n);
    ObjTuple *t = (items || !n) ? tuple_from(ts, items, n) : NULL;
    gc_free_buffer(items, n * sizeof(Value));
    vm_pop(ts);
    return t;
}
