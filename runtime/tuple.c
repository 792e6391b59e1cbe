/* tuple: an immutable array of values, allocated inline with its header. */
#include "runtime/tuple.h"

#include <string.h>

#include "runtime/args.h"
#include "runtime/error.h"
#include "runtime/generic.h"
#include "runtime/int.h"
#include "runtime/iterator.h"
#include "runtime/list.h"
#include "runtime/ops.h"
#include "runtime/range.h"
#include "runtime/str.h"
#include "runtime/strbuf.h"
#include "runtime/types.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/vm.h"

#define EXC(ts) (&(ts)->interp->exc)

static ObjTuple *tuple_alloc(TState *ts, ObjType *type, size_t n) {
    if (n > ((size_t)PTRDIFF_MAX - sizeof(ObjTuple)) / sizeof(Value)) {
        err_no_memory(ts);
        return NULL;
    }
    ObjTuple *t = (ObjTuple *)gc_alloc(ts, sizeof(ObjTuple) + n * sizeof(Value), OBJ_TUPLE,
                                       type ? type : ts->interp->types.tuple);
    if (t) t->len = n;
    return t;
}

ObjTuple *tuple_new(TState *ts, size_t n) {
    return tuple_new_of(ts, NULL, n);
}

ObjTuple *tuple_new_of(TState *ts, ObjType *type, size_t n) {
    ObjTuple *t = tuple_alloc(ts, type, n);
    if (t)
        for (size_t i = 0; i < n; i++) t->items[i] = NONE_VAL;
    return t;
}

ObjTuple *tuple_from(TState *ts, const Value *items, size_t n) {
    ObjTuple *t = tuple_alloc(ts, NULL, n);
    if (t && n) memcpy(t->items, items, n * sizeof(Value));
    return t;
}

ObjTuple *tuple_pack2(TState *ts, Value a, Value b) {
    Value items[2] = {a, b};
    return tuple_from(ts, items, 2);
}

static inline Value tuple_or_error(ObjTuple *t) { return t ? OBJ_VAL(t) : ERROR_VAL; }

/* Equality of elements: identity first, as CPython's containers. */
static inline int item_eq(TState *ts, Value a, Value b) { return a == b ? 1 : ops_equal(ts, a, b); }

static bool sb_put(TState *ts, StrBuf *sb, const char *s, size_t n) {
    if (sb_append(sb, s, n)) return true;
    err_no_memory(ts);
    return false;
}

static Value tuple_repr(TState *ts, Value self) {
    ObjTuple *t = AS_TUPLE(self);
    if (t->len == 0) return OBJ_VAL(str_new(ts, "()", 2));
    ReprGuard g;
    if (!list_repr_enter(ts, &g, &t->obj)) return OBJ_VAL(str_new(ts, "(...)", 5));
    StrBuf sb;
    sb_init(&sb);
    bool ok = sb_put(ts, &sb, "(", 1);
    for (size_t i = 0; ok && i < t->len; i++)
        ok = (i == 0 || sb_put(ts, &sb, ", ", 2)) && str_append_repr(ts, &sb, t->items[i]);
    if (ok && t->len == 1) ok = sb_put(ts, &sb, ",", 1);
    ok = ok && sb_put(ts, &sb, ")", 1);
    return list_repr_leave(ts, &g, &sb, ok);
}

/* CPython's tuple hash (xxHash's mixing of the element hashes), so equal
 * tuples hash equal and tuples of ints hash as in CPython. */
#define XXPRIME_1 11400714785074694791ULL
#define XXPRIME_2 14029467366897019727ULL
#define XXPRIME_5 2870177450012600261ULL

static int tuple_hash(TState *ts, Value self, int64_t *out) {
    ObjTuple *t = AS_TUPLE(self);
    uint64_t acc = XXPRIME_5;
    int r = 0;
    vm_push(ts, self);
    for (size_t i = 0; i < t->len; i++) {
        Value v = t->items[i];
        int64_t lane;
        if (IS_STR(v)) {
            lane = AS_STR(v)->hash;
        } else if (IS_INT(v)) {
            lane = int_hash(v);
        } else {
            /* Nested containers recurse in C: count the depth. */
            if (!vm_enter_native(ts)) {
                r = -1;
                break;
            }
            r = ops_hash(ts, v, &lane);
            vm_leave_native(ts);
            if (r < 0) break;
        }
        acc += (uint64_t)lane * XXPRIME_2;
        acc = (acc << 31) | (acc >> 33);
        acc *= XXPRIME_1;
    }
    vm_pop(ts);
    if (r < 0) return -1;
    acc += t->len ^ (XXPRIME_5 ^ 3527539ULL);
    if (acc == (uint64_t)-1) acc = 1546275796;
    *out = (int64_t)acc;
    return 0;
}

static Value compare_lengths(size_t a, size_t b, CmpOp op) {
    switch (op) {
    case CMP_LT: return BOOL_VAL(a < b);
    case CMP_LE: return BOOL_VAL(a <= b);
    case CMP_EQ: return BOOL_VAL(a == b);
    case CMP_NE: return BOOL_VAL(a != b);
    case CMP_GT: return BOOL_VAL(a > b);
    default: return BOOL_VAL(a >= b);
    }
}

static Value tuple_richcmp(TState *ts, Value a, Value b, CmpOp op) {
    if (!IS_TUPLE(a) || !IS_TUPLE(b)) return NOT_IMPLEMENTED_VAL;
    ObjTuple *x = AS_TUPLE(a), *y = AS_TUPLE(b);
    if ((op == CMP_EQ || op == CMP_NE) && x->len != y->len) return BOOL_VAL(op == CMP_NE);
    vm_push(ts, a);
    vm_push(ts, b);
    size_t i = 0;
    int eq = 1;
    for (; i < x->len && i < y->len; i++)
        if ((eq = item_eq(ts, x->items[i], y->items[i])) != 1) break;
    Value r;
    if (eq < 0) r = ERROR_VAL;
    else if (i >= x->len || i >= y->len) r = compare_lengths(x->len, y->len, op);
    else if (op == CMP_EQ || op == CMP_NE) r = BOOL_VAL(op == CMP_NE);
    else r = ops_compare(ts, x->items[i], y->items[i], op);
    vm_pop(ts);
    vm_pop(ts);
    return r;
}

static Value tuple_repeat(TState *ts, ObjTuple *t, int64_t count) {
    if (count <= 0 || t->len == 0) return tuple_or_error(tuple_new(ts, 0));
    if (count == 1 && t->obj.type == ts->interp->types.tuple) return OBJ_VAL(t);
    if ((uint64_t)count > (uint64_t)PTRDIFF_MAX / sizeof(Value) / t->len) return err_no_memory(ts);
    ObjTuple *r = tuple_alloc(ts, NULL, t->len * (size_t)count);
    if (!r) return ERROR_VAL;
    for (int64_t k = 0; k < count; k++) memcpy(r->items + (size_t)k * t->len, t->items, t->len * sizeof(Value));
    return OBJ_VAL(r);
}

static Value tuple_binop(TState *ts, BinOp op, Value a, Value b) {
    if (op == BIN_ADD) {
        if (!IS_TUPLE(a)) return NOT_IMPLEMENTED_VAL;
        if (!IS_TUPLE(b)) return seq_concat_error(ts, b, "tuple");
        ObjTuple *x = AS_TUPLE(a), *y = AS_TUPLE(b);
        if (y->len == 0 && x->obj.type == ts->interp->types.tuple) return a;
        if (x->len == 0 && y->obj.type == ts->interp->types.tuple) return b;
        ObjTuple *r = tuple_alloc(ts, NULL, x->len + y->len);
        if (!r) return ERROR_VAL;
        memcpy(r->items, x->items, x->len * sizeof(Value));
        memcpy(r->items + x->len, y->items, y->len * sizeof(Value));
        return OBJ_VAL(r);
    }
    if (op == BIN_MUL) {
        Value seq = IS_TUPLE(a) ? a : b, n = IS_TUPLE(a) ? b : a;
        int64_t count;
        int r = seq_repeat_count(ts, n, &count);
        if (r < 0) return ERROR_VAL;
        if (r == 0) return seq_repeat_error(ts, n, n == b);
        return tuple_repeat(ts, AS_TUPLE(seq), count);
    }
    return NOT_IMPLEMENTED_VAL;
}

static int64_t tuple_len(TState *ts, Value self) {
    (void)ts;
    return (int64_t)AS_TUPLE(self)->len;
}

static Value tuple_getitem(TState *ts, Value self, Value key) {
    ObjTuple *t = AS_TUPLE(self);
    int64_t i;
    switch (seq_subscript(ts, key, &i)) {
    case 1:
        if (i < 0) i += (int64_t)t->len;
        if (i < 0 || i >= (int64_t)t->len)
            return err_format(ts, EXC(ts)->IndexError, "tuple index out of range");
        return t->items[i];
    case 2: {
        int64_t start, stop, step, count;
        if (slice_indices(ts, AS_SLICE(key), (int64_t)t->len, &start, &stop, &step, &count) < 0)
            return ERROR_VAL;
        if (count == (int64_t)t->len && step == 1 && t->obj.type == ts->interp->types.tuple) return self;
        ObjTuple *r = tuple_alloc(ts, NULL, count > 0 ? (size_t)count : 0);
        if (!r) return ERROR_VAL;
        for (int64_t k = 0, j = start; k < count; k++, j += step) r->items[k] = t->items[j];
        return OBJ_VAL(r);
    }
    case 0:
        return err_format(ts, EXC(ts)->TypeError, "tuple indices must be integers or slices, not %s",
                          ops_type_name(ts, key));
    default:
        return ERROR_VAL;
    }
}

static int tuple_contains(TState *ts, Value self, Value item) {
    ObjTuple *t = AS_TUPLE(self);
    int r = 0;
    vm_push(ts, self);
    for (size_t i = 0; i < t->len && r == 0; i++) r = item_eq(ts, t->items[i], item);
    vm_pop(ts);
    return r;
}

static Value tuple_iter(TState *ts, Value self) {
    ObjIterator *it = iterator_new(ts, "tuple_iterator", iter_tuple_step, self, NONE_VAL);
    return it ? OBJ_VAL(it) : ERROR_VAL;
}

static Value tuple_new_slot(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "tuple", nargs, kwnames, 0, 1)) return ERROR_VAL;
    ObjTuple *t = nargs == 0 ? tuple_new(ts, 0) : ops_to_tuple(ts, args[0]);
    if (!t) return ERROR_VAL;
    if (t->obj.type == type) return OBJ_VAL(t);
    /* An exact tuple from a subclass instance, or an instance of a
     * subclass being constructed. */
    ObjTuple *r = tuple_alloc(ts, type, t->len);
    if (!r) return ERROR_VAL;
    memcpy(r->items, t->items, t->len * sizeof(Value));
    return OBJ_VAL(r);
}

static void tuple_trace(GcMarker *m, Obj *self) {
    ObjTuple *t = (ObjTuple *)self;
    gc_mark_values(m, t->items, t->len);
}

static size_t tuple_obj_size(Obj *self) { return sizeof(ObjTuple) + ((ObjTuple *)self)->len * sizeof(Value); }

/* ---- methods ------------------------------------------------------------ */

#define SELF AS_TUPLE(args[0])

static Value tuple_m_index(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_CLINIC("tuple", "index", 1, 3);
    ObjTuple *t = SELF;
    int64_t len = (int64_t)t->len, start = 0, stop = len;
    if (nargs > 2 && !slice_index_value(ts, args[2], false, &start)) return ERROR_VAL;
    if (nargs > 3 && !slice_index_value(ts, args[3], false, &stop)) return ERROR_VAL;
    if (start < 0 && (start += len) < 0) start = 0;
    if (stop < 0 && (stop += len) < 0) stop = 0;
    if (stop > len) stop = len;
    for (int64_t i = start; i < stop; i++) {
        int eq = item_eq(ts, t->items[i], args[1]);
        if (eq < 0) return ERROR_VAL;
        if (eq) return INT_VAL(i);
    }
    return err_format(ts, EXC(ts)->ValueError, "tuple.index(x): x not in tuple");
}

static Value tuple_m_count(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("tuple.count", 1, 1);
    ObjTuple *t = SELF;
    int64_t n = 0;
    for (size_t i = 0; i < t->len; i++) {
        int eq = item_eq(ts, t->items[i], args[1]);
        if (eq < 0) return ERROR_VAL;
        n += eq;
    }
    return INT_VAL(n);
}

static Value tuple_m_len(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("tuple.__len__", 0, 0);
    return INT_VAL((int64_t)SELF->len);
}
static Value tuple_m_getitem(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("tuple.__getitem__", 1, 1);
    return tuple_getitem(ts, args[0], args[1]);
}
static Value tuple_m_contains(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("tuple.__contains__", 1, 1);
    int r = tuple_contains(ts, args[0], args[1]);
    return r < 0 ? ERROR_VAL : BOOL_VAL(r);
}
static Value tuple_m_iter(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("tuple.__iter__", 0, 0);
    return tuple_iter(ts, args[0]);
}
static Value tuple_m_add(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("tuple.__add__", 1, 1);
    return tuple_binop(ts, BIN_ADD, args[0], args[1]);
}
static Value tuple_m_mul(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("tuple.__mul__", 1, 1);
    return tuple_binop(ts, BIN_MUL, args[0], args[1]);
}
static Value tuple_m_hash(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("tuple.__hash__", 0, 0);
    int64_t h;
    return tuple_hash(ts, args[0], &h) < 0 ? ERROR_VAL : int_from_i64(ts, h);
}
static Value tuple_m_repr(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("tuple.__repr__", 0, 0);
    return tuple_repr(ts, args[0]);
}

#define TUPLE_CMP_METHOD(fn, op)                                                    \
    static Value fn(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {        \
        ARGS_CHECK_METHOD("tuple." #op, 1, 1);                                      \
        return tuple_richcmp(ts, args[0], args[1], op);                             \
    }
TUPLE_CMP_METHOD(tuple_m_eq, CMP_EQ)
TUPLE_CMP_METHOD(tuple_m_ne, CMP_NE)
TUPLE_CMP_METHOD(tuple_m_lt, CMP_LT)
TUPLE_CMP_METHOD(tuple_m_le, CMP_LE)
TUPLE_CMP_METHOD(tuple_m_gt, CMP_GT)
TUPLE_CMP_METHOD(tuple_m_ge, CMP_GE)

static const NativeDef tuple_methods[] = {
    {"index", tuple_m_index},
    {"count", tuple_m_count},
    {"__len__", tuple_m_len},
    {"__getitem__", tuple_m_getitem},
    {"__contains__", tuple_m_contains},
    {"__iter__", tuple_m_iter},
    {"__add__", tuple_m_add},
    {"__mul__", tuple_m_mul},
    {"__rmul__", tuple_m_mul},
    {"__hash__", tuple_m_hash},
    {"__repr__", tuple_m_repr},
    {"__eq__", tuple_m_eq},
    {"__ne__", tuple_m_ne},
    {"__lt__", tuple_m_lt},
    {"__le__", tuple_m_le},
    {"__gt__", tuple_m_gt},
    {"__ge__", tuple_m_ge},
    {NULL, NULL},
};

const TypeSpec tuple_type_spec = {
    .classmethods = generic_classmethods,
    .name = "tuple",
    .kind = OBJ_TUPLE,
    .obj_size = tuple_obj_size,
    .flags = TYPEF_BASETYPE,
    .repr = tuple_repr,
    .hash = tuple_hash,
    .richcmp = tuple_richcmp,
    .binop = tuple_binop,
    .len = tuple_len,
    .getitem = tuple_getitem,
    .contains = tuple_contains,
    .iter = tuple_iter,
    .new_ = tuple_new_slot,
    .trace = tuple_trace,
    .methods = tuple_methods,
};
