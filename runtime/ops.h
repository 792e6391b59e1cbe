#ifndef MINI_RUNTIME_OPS_H
#define MINI_RUNTIME_OPS_H

/* The generic object protocol: what the VM and the built-ins call on values
 * of any type. Each dispatches on the value's type slots; fast paths for
 * the common unboxed cases are inline in the VM, not here. */

#include <stdbool.h>

#include "runtime/object.h"
#include "runtime/str.h"
#include "runtime/types.h"

struct ObjTuple;

Value ops_repr(TState *ts, Value v);  /* a str value */
Value ops_str(TState *ts, Value v);
Value ops_format(TState *ts, Value v, Value spec); /* format(v, spec) */
/* object's hash and comparison slots: identity. A type that keeps them
 * (a class defining neither __hash__ nor __eq__, __slots__ classes, most
 * built-in types) has these very functions in its slots, so hashing and
 * key equality test the slot's address and skip the call (ops_hash,
 * dict_key_eq_fast): sets and dicts of such objects never dispatch. The
 * slots follow __hash__ and __eq__ when a class changes
 * (class_install_slots), so the test is always current. */
int ops_identity_hash(TState *ts, Value self, int64_t *out);
Value ops_identity_richcmp(TState *ts, Value a, Value b, CmpOp op);
/* Addresses are 16-byte aligned: the hash drops the constant low bits. */
static inline int64_t ops_identity_hash_of(Value v) {
    uint64_t bits = IS_OBJ(v) ? (uint64_t)(uintptr_t)AS_OBJ(v) : v;
    int64_t h = (int64_t)((bits >> 4) | (bits << 60));
    return h == -1 ? -2 : h;
}
/* hash(v) when it needs no call (small ints, strs, identity hashing):
 * true with *out set. */
static inline bool ops_hash_direct(Value v, int64_t *out) {
    if (IS_OBJ(v)) {
        HashFn h = AS_OBJ(v)->type->hash;
        if (h == ops_identity_hash) *out = ops_identity_hash_of(v);
        else if (h == str_hash_slot) *out = AS_STR(v)->hash;
        else return false;
        return true;
    }
    if (!IS_INT(v)) return false;
    int64_t i = AS_INT(v); /* Python's hash of an int this small is itself */
    *out = i == -1 ? -2 : i;
    return true;
}
/* hash(v) through v's type slot; TypeError for an unhashable type. */
int ops_hash_slot(TState *ts, Value v, int64_t *out);
/* hash(v): 0, or -1 after raising. */
static inline int ops_hash(TState *ts, Value v, int64_t *out) {
    return ops_hash_direct(v, out) ? 0 : ops_hash_slot(ts, v, out);
}
/* -1 error, 0 false, 1 true */
int ops_truth(TState *ts, Value v);
int ops_equal(TState *ts, Value a, Value b);
/* item == x for a container's scan (index, count, remove, `in`) holding
 * owner's lock: decided under the lock when no mini code is needed;
 * otherwise the lock is released while __eq__ runs (it may use the
 * container) and *released is set, so the caller checks the container
 * again. -1 after raising; the lock is held on return either way. */
int ops_equal_holding(TState *ts, Obj *owner, Value item, Value x, bool *released);
/* a <op> b as a value (may be any object for user __lt__) */
Value ops_compare(TState *ts, Value a, Value b, CmpOp op);
Value ops_binary(TState *ts, BinOp op, Value a, Value b);
Value ops_inplace(TState *ts, BinOp op, Value a, Value b);
Value ops_unary(TState *ts, UnOp op, Value a);
int64_t ops_len(TState *ts, Value v);      /* -1 after raising */
Value ops_getitem(TState *ts, Value obj, Value key);
int ops_setitem(TState *ts, Value obj, Value key, Value value); /* EMPTY: delete */
/* `item in container` for a type without a contains slot: by iteration. */
int ops_contains_by_iter(TState *ts, Value container, Value item);
/* `item in container`: -1 after raising, 0, 1. Inline, so that `in` on a
 * set, dict or list goes from the VM straight to the type's lookup. */
static inline int ops_contains(TState *ts, Value container, Value item) {
    ObjType *t = val_type(ts, container);
    return t->contains ? t->contains(ts, container, item) : ops_contains_by_iter(ts, container, item);
}
Value ops_iter(TState *ts, Value v);
/* Next item, EMPTY_VAL when exhausted, ERROR_VAL after raising. */
Value ops_next(TState *ts, Value iterator);
Value ops_getattr(TState *ts, Value obj, struct ObjStr *name);
/* Like ops_getattr but EMPTY_VAL (no exception) when the attribute is
 * missing: hasattr, getattr with default, method lookup. */
Value ops_getattr_opt(TState *ts, Value obj, struct ObjStr *name);
int ops_setattr(TState *ts, Value obj, struct ObjStr *name, Value value);
Value ops_call(TState *ts, Value callee, Value *args, int nargs, struct ObjTuple *kwnames);
/* Index conversion (__index__): false after raising TypeError. */
bool ops_index(TState *ts, Value v, int64_t *out);
/* Python-style name of a value's type, for messages. */
const char *ops_type_name(TState *ts, Value v);
/* The same for a type: CPython's tp_name ("collections.deque"), for messages. */
const char *ops_tp_name(TState *ts, ObjType *t);
/* isinstance(v, type) */
bool ops_isinstance(TState *ts, Value v, ObjType *type);
/* Collects any iterable into a new list / tuple; NULL after raising. */
struct ObjList *ops_to_list(TState *ts, Value iterable);
struct ObjTuple *ops_to_tuple(TState *ts, Value iterable);

#endif
