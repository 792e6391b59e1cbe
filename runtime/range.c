/* range and slice, and the index arithmetic the sequence types share. */
#include "runtime/range.h"

#include <string.h>

#include "runtime/args.h"
#include "runtime/error.h"
#include "runtime/int.h"
#include "runtime/iterator.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/strbuf.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/vm.h"

#define EXC(ts) (&(ts)->interp->exc)

/* ---- sequence helpers ---------------------------------------------------- */

/* Does v's class (a user class) define __index__? */
static bool has_index_method(TState *ts, Value v) {
    ObjType *t = val_type(ts, v);
    return (t->flags & TYPEF_HEAPTYPE) && !IS_EMPTY(type_lookup(t, ts->interp->names.index));
}

int seq_subscript(TState *ts, Value key, int64_t *index) {
    if (IS_INT(key)) {
        *index = AS_INT(key);
        return 1;
    }
    if (IS_SLICE(key)) return 2;
    if (IS_BOOL(key)) {
        *index = AS_BOOL(key);
        return 1;
    }
    if (IS_BIGINT(key)) {
        if (int_to_i64(key, index)) return 1;
        err_format(ts, EXC(ts)->IndexError, "cannot fit 'int' into an index-sized integer");
        return -1;
    }
    if (has_index_method(ts, key)) return ops_index(ts, key, index) ? 1 : -1;
    return 0;
}

bool slice_index_value(TState *ts, Value v, bool none_ok, int64_t *out) {
    if (IS_INT(v)) {
        *out = AS_INT(v);
        return true;
    }
    if (IS_BOOL(v)) {
        *out = AS_BOOL(v);
        return true;
    }
    if (IS_BIGINT(v)) {
        if (!int_to_i64(v, out)) *out = AS_BIGINT(v)->size < 0 ? INT64_MIN : INT64_MAX;
        return true;
    }
    if (has_index_method(ts, v)) return ops_index(ts, v, out);
    err_format(ts, EXC(ts)->TypeError, none_ok
               ? "slice indices must be integers or None or have an __index__ method"
               : "slice indices must be integers or have an __index__ method");
    return false;
}

int seq_repeat_count(TState *ts, Value n, int64_t *count) {
    if (IS_INT(n)) {
        *count = AS_INT(n);
        return 1;
    }
    if (IS_BOOL(n)) {
        *count = AS_BOOL(n);
        return 1;
    }
    if (IS_BIGINT(n)) {
        if (int_to_i64(n, count)) return 1;
        if (AS_BIGINT(n)->size < 0) {
            *count = 0;
            return 1;
        }
        err_format(ts, EXC(ts)->OverflowError, "cannot fit 'int' into an index-sized integer");
        return -1;
    }
    if (has_index_method(ts, n)) return ops_index(ts, n, count) ? 1 : -1;
    return 0;
}

Value seq_repeat_error(TState *ts, Value n, bool n_is_right) {
    ObjType *t = val_type(ts, n);
    if (n_is_right && (t->flags & TYPEF_HEAPTYPE)) {
        ObjStr *rmul = str_intern_cstr(ts, "__rmul__");
        if (rmul && !IS_EMPTY(type_lookup(t, rmul))) return NOT_IMPLEMENTED_VAL;
    }
    return err_format(ts, EXC(ts)->TypeError, "can't multiply sequence by non-int of type '%s'",
                      t->name->data);
}

Value seq_concat_error(TState *ts, Value other, const char *type_name) {
    ObjType *t = val_type(ts, other);
    if ((t->flags & TYPEF_HEAPTYPE) && !IS_EMPTY(type_lookup(t, ts->interp->names.radd)))
        return NOT_IMPLEMENTED_VAL;
    return err_format(ts, EXC(ts)->TypeError, "can only concatenate %s (not \"%s\") to %s", type_name,
                      t->name->data, type_name);
}

static inline Value int_val(TState *ts, int64_t v) { return SMALL_INT_FITS(v) ? INT_VAL(v) : int_from_i64(ts, v); }

/* Equality of elements: identity first, as CPython's containers. */
static inline int item_eq(TState *ts, Value a, Value b) { return a == b ? 1 : ops_equal(ts, a, b); }

/* ---- slice ------------------------------------------------------------------ */

ObjSlice *slice_new(TState *ts, Value start, Value stop, Value step) {
    ObjSlice *s = (ObjSlice *)gc_alloc(ts, sizeof(ObjSlice), OBJ_SLICE, ts->interp->types.slice);
    if (!s) return NULL;
    s->start = start;
    s->stop = stop;
    s->step = step;
    return s;
}

/* Python's PySlice_AdjustIndices for one bound. */
static int64_t adjust_bound(int64_t v, int64_t length, int64_t step) {
    if (v < 0) {
        v += length;
        if (v < 0) v = step < 0 ? -1 : 0;
    } else if (v >= length) {
        v = step < 0 ? length - 1 : length;
    }
    return v;
}

int slice_indices(TState *ts, ObjSlice *s, int64_t len, int64_t *start, int64_t *stop, int64_t *step,
                  int64_t *count) {
    int64_t st = 1, lo, hi;
    if (!IS_NONE(s->step)) {
        if (!slice_index_value(ts, s->step, true, &st)) return -1;
        if (st == 0) {
            err_format(ts, EXC(ts)->ValueError, "slice step cannot be zero");
            return -1;
        }
        if (st < -INT64_MAX) st = -INT64_MAX; /* so that -step exists */
    }
    if (IS_NONE(s->start)) lo = st < 0 ? INT64_MAX : 0;
    else if (!slice_index_value(ts, s->start, true, &lo)) return -1;
    if (IS_NONE(s->stop)) hi = st < 0 ? INT64_MIN : INT64_MAX;
    else if (!slice_index_value(ts, s->stop, true, &hi)) return -1;
    lo = adjust_bound(lo, len, st);
    hi = adjust_bound(hi, len, st);
    if (st < 0) *count = hi < lo ? (lo - hi - 1) / -st + 1 : 0;
    else *count = lo < hi ? (hi - lo - 1) / st + 1 : 0;
    *start = lo;
    *stop = hi;
    *step = st;
    return 0;
}

static Value slice_new_slot(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    (void)type;
    if (kwnames && kwnames->len) return err_format(ts, EXC(ts)->TypeError, "slice() takes no keyword arguments");
    if (nargs < 1) return err_format(ts, EXC(ts)->TypeError, "slice expected at least 1 argument, got 0");
    if (nargs > 3)
        return err_format(ts, EXC(ts)->TypeError, "slice expected at most 3 arguments, got %d", nargs);
    ObjSlice *s = nargs == 1 ? slice_new(ts, NONE_VAL, args[0], NONE_VAL)
                             : slice_new(ts, args[0], args[1], nargs == 3 ? args[2] : NONE_VAL);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static bool sb_put(TState *ts, StrBuf *sb, const char *s) {
    if (sb_append_cstr(sb, s)) return true;
    err_no_memory(ts);
    return false;
}

static Value slice_repr(TState *ts, Value self) {
    ObjSlice *s = AS_SLICE(self);
    vm_push(ts, self);
    StrBuf sb;
    sb_init(&sb);
    bool ok = sb_put(ts, &sb, "slice(") && str_append_repr(ts, &sb, s->start) && sb_put(ts, &sb, ", ") &&
              str_append_repr(ts, &sb, s->stop) && sb_put(ts, &sb, ", ") &&
              str_append_repr(ts, &sb, s->step) && sb_put(ts, &sb, ")");
    vm_pop(ts);
    if (!ok) {
        sb_free(&sb);
        return ERROR_VAL;
    }
    ObjStr *r = str_from_sb(ts, &sb);
    return r ? OBJ_VAL(r) : ERROR_VAL;
}

/* Slices compare as the tuples (start, stop, step). */
static Value slice_richcmp(TState *ts, Value a, Value b, CmpOp op) {
    if (!IS_SLICE(a) || !IS_SLICE(b)) return NOT_IMPLEMENTED_VAL;
    ObjSlice *x = AS_SLICE(a), *y = AS_SLICE(b);
    Value xs[3] = {x->start, x->stop, x->step}, ys[3] = {y->start, y->stop, y->step};
    ObjTuple *tx = tuple_from(ts, xs, 3);
    if (!tx) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(tx));
    ObjTuple *ty = tuple_from(ts, ys, 3);
    Value r = ty ? ops_compare(ts, OBJ_VAL(tx), OBJ_VAL(ty), op) : ERROR_VAL;
    vm_pop(ts);
    return r;
}

static void slice_trace(GcMarker *m, Obj *self) {
    ObjSlice *s = (ObjSlice *)self;
    gc_mark_value(m, s->start);
    gc_mark_value(m, s->stop);
    gc_mark_value(m, s->step);
}

static size_t slice_obj_size(Obj *self) {
    (void)self;
    return sizeof(ObjSlice);
}

static Value slice_get_start(TState *ts, Value self) {
    (void)ts;
    return AS_SLICE(self)->start;
}
static Value slice_get_stop(TState *ts, Value self) {
    (void)ts;
    return AS_SLICE(self)->stop;
}
static Value slice_get_step(TState *ts, Value self) {
    (void)ts;
    return AS_SLICE(self)->step;
}

static Value slice_m_indices(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "slice.indices", nargs - 1, kwnames, 1, 1)) return ERROR_VAL;
    int64_t len;
    if (IS_BIGINT(args[1]) ? !int_to_i64(args[1], &len) : !ops_index(ts, args[1], &len)) {
        if (!err_occurred(ts))
            err_format(ts, EXC(ts)->OverflowError, "Python int too large to convert to C ssize_t");
        return ERROR_VAL;
    }
    if (len < 0) return err_format(ts, EXC(ts)->ValueError, "length should not be negative");
    int64_t start, stop, step, count;
    if (slice_indices(ts, AS_SLICE(args[0]), len, &start, &stop, &step, &count) < 0) return ERROR_VAL;
    ObjTuple *t = tuple_new(ts, 3);
    if (!t) return ERROR_VAL;
    t->items[0] = int_val(ts, start);
    t->items[1] = int_val(ts, stop);
    t->items[2] = int_val(ts, step);
    return OBJ_VAL(t);
}

/* slice.__reduce__ and range.__reduce__: (type, (start, stop, step)), as
 * CPython's, for pickle and copy. */
static Value reduce_triple(TState *ts, Value self, const Value parts[3]) {
    ObjTuple *args = tuple_from(ts, parts, 3);
    if (!args) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(args));
    ObjTuple *r = tuple_pack2(ts, OBJ_VAL(val_type(ts, self)), OBJ_VAL(args));
    vm_pop(ts);
    return r ? OBJ_VAL(r) : ERROR_VAL;
}

static Value slice_m_reduce(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("slice.__reduce__", 0, 0);
    ObjSlice *s = AS_SLICE(args[0]);
    Value parts[3] = {s->start, s->stop, s->step};
    return reduce_triple(ts, args[0], parts);
}

static const NativeDef slice_methods[] = {
    {"indices", slice_m_indices},
    {"__reduce__", slice_m_reduce},
    {NULL, NULL},
};

static const GetSetDef slice_getsets[] = {
    {"start", slice_get_start, NULL},
    {"stop", slice_get_stop, NULL},
    {"step", slice_get_step, NULL},
    {NULL, NULL, NULL},
};

const TypeSpec slice_type_spec = {
    .name = "slice",
    .kind = OBJ_SLICE,
    .obj_size = slice_obj_size,
    .repr = slice_repr,
    .richcmp = slice_richcmp,
    .new_ = slice_new_slot,
    .trace = slice_trace,
    .methods = slice_methods,
    .getsets = slice_getsets,
};

/* ---- range ------------------------------------------------------------------ */

/* A range has two forms (range.h): the int64 one, which the fast paths
 * read, and the big one, whose bounds are int Values of any size. The big
 * form is used exactly when one of start, stop, step or the length does not
 * fit int64, so each range has one form. Operations on the big form use
 * int_binop and int_compare; hashing, slicing and comparing with a big
 * range, which are not performance-critical, convert int64 ranges to
 * Values and share the big form's code. */

static inline int int_sign(Value v) { return int_compare(v, INT_VAL(0)); }

/* a + i * s: a range's item arithmetic. */
static Value int_mul_add(TState *ts, Value a, Value i, Value s) {
    Value p = int_binop(ts, BIN_MUL, i, s);
    return IS_ERROR(p) ? p : int_binop(ts, BIN_ADD, a, p);
}

/* Python's int subclasses compare with their own __eq__: only exact ints
 * (and bools) take the arithmetic membership test, as in CPython. */
static inline bool is_exact_int(TState *ts, Value v) {
    return IS_INT(v) || IS_BOOL(v) || (IS_BIGINT(v) && OBJ_TYPE(v) == ts->interp->types.int_);
}

/* Number of items of range(start, stop, step); false if it exceeds int64. */
static bool range_length(int64_t start, int64_t stop, int64_t step, int64_t *len) {
    __int128 n;
    if (step > 0) n = start < stop ? ((__int128)stop - start - 1) / step + 1 : 0;
    else n = start > stop ? ((__int128)start - stop - 1) / -(__int128)step + 1 : 0;
    if (n > INT64_MAX) return false;
    *len = (int64_t)n;
    return true;
}

/* The same with ints of any size (CPython's compute_range_length). */
static Value range_length_value(TState *ts, Value start, Value stop, Value step) {
    Value lo = start, hi = stop;
    if (int_sign(step) < 0) {
        lo = stop;
        hi = start;
        step = int_unop(ts, UN_NEG, step);
        if (IS_ERROR(step)) return step;
    }
    if (int_compare(lo, hi) >= 0) return INT_VAL(0);
    Value n = int_binop(ts, BIN_SUB, hi, lo);
    if (!IS_ERROR(n)) n = int_binop(ts, BIN_SUB, n, INT_VAL(1));
    if (!IS_ERROR(n)) n = int_binop(ts, BIN_FLOORDIV, n, step);
    if (!IS_ERROR(n)) n = int_binop(ts, BIN_ADD, n, INT_VAL(1));
    return n;
}

static ObjRange *range_alloc(TState *ts) {
    ObjRange *r = (ObjRange *)gc_alloc(ts, sizeof(ObjRange), OBJ_RANGE, ts->interp->types.range);
    if (!r) return NULL;
    r->start = r->stop = r->len = 0;
    r->step = 1;
    r->big = false;
    r->big_start = r->big_stop = r->big_step = r->big_len = NONE_VAL;
    return r;
}

/* range(start, stop, step) from ints of any size (step nonzero), in the
 * int64 form when it fits. */
static Value range_from_values(TState *ts, Value start, Value stop, Value step) {
    int64_t s0, s1, s2, len;
    if (int_to_i64(start, &s0) && int_to_i64(stop, &s1) && int_to_i64(step, &s2) &&
        range_length(s0, s1, s2, &len)) {
        ObjRange *r = range_alloc(ts);
        if (!r) return ERROR_VAL;
        r->start = s0;
        r->stop = s1;
        r->step = s2;
        r->len = len;
        return OBJ_VAL(r);
    }
    Value n = range_length_value(ts, start, stop, step);
    if (IS_ERROR(n)) return n;
    ObjRange *r = range_alloc(ts);
    if (!r) return ERROR_VAL;
    r->big = true;
    r->big_start = start;
    r->big_stop = stop;
    r->big_step = step;
    r->big_len = n;
    return OBJ_VAL(r);
}

/* start, stop, step and len as int Values; false after raising. */
static bool range_values(TState *ts, const ObjRange *r, Value out[4]) {
    if (r->big) {
        out[0] = r->big_start;
        out[1] = r->big_stop;
        out[2] = r->big_step;
        out[3] = r->big_len;
        return true;
    }
    const int64_t in[4] = {r->start, r->stop, r->step, r->len};
    for (int k = 0; k < 4; k++) {
        out[k] = int_val(ts, in[k]);
        if (IS_ERROR(out[k])) return false;
    }
    return true;
}

/* The range's length as int64: false, with CPython's OverflowError, when
 * it does not fit. */
static bool range_len_i64(TState *ts, const ObjRange *r, int64_t *len) {
    if (!r->big) {
        *len = r->len;
        return true;
    }
    if (int_to_i64(r->big_len, len)) return true;
    err_format(ts, EXC(ts)->OverflowError, "Python int too large to convert to C ssize_t");
    return false;
}

static Value range_new_slot(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    (void)type;
    if (kwnames && kwnames->len) return err_format(ts, EXC(ts)->TypeError, "range() takes no keyword arguments");
    if (nargs < 1) return err_format(ts, EXC(ts)->TypeError, "range expected at least 1 argument, got 0");
    if (nargs > 3)
        return err_format(ts, EXC(ts)->TypeError, "range expected at most 3 arguments, got %d", nargs);
    /* Each argument may run an __index__ method: the ones already
     * converted stay on the VM stack meanwhile. */
    Value v[3];
    int k = 0;
    for (; k < nargs; k++) {
        v[k] = int_index(ts, args[k]);
        if (IS_ERROR(v[k])) break;
        vm_push(ts, v[k]);
    }
    for (int j = 0; j < k; j++) vm_pop(ts);
    if (k < nargs) return ERROR_VAL;
    if (nargs == 1) return range_from_values(ts, INT_VAL(0), v[0], INT_VAL(1));
    Value step = nargs == 3 ? v[2] : INT_VAL(1);
    if (int_sign(step) == 0) return err_format(ts, EXC(ts)->ValueError, "range() arg 3 must not be zero");
    return range_from_values(ts, v[0], v[1], step);
}

static Value range_repr(TState *ts, Value self) {
    ObjRange *r = AS_RANGE(self);
    if (!r->big) {
        ObjStr *s = r->step == 1 ? str_printf(ts, "range(%lld, %lld)", (long long)r->start, (long long)r->stop)
                                 : str_printf(ts, "range(%lld, %lld, %lld)", (long long)r->start,
                                              (long long)r->stop, (long long)r->step);
        return s ? OBJ_VAL(s) : ERROR_VAL;
    }
    StrBuf sb;
    sb_init(&sb);
    bool ok = sb_put(ts, &sb, "range(") && str_append_repr(ts, &sb, r->big_start) && sb_put(ts, &sb, ", ") &&
              str_append_repr(ts, &sb, r->big_stop);
    if (ok && int_compare(r->big_step, INT_VAL(1)) != 0)
        ok = sb_put(ts, &sb, ", ") && str_append_repr(ts, &sb, r->big_step);
    if (!ok || !sb_put(ts, &sb, ")")) {
        sb_free(&sb);
        return ERROR_VAL;
    }
    ObjStr *s = str_from_sb(ts, &sb);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

/* Ranges are equal when they are equal sequences: same length, and (when
 * not empty) same first item, and (when longer than one) same step.
 * 1 or 0, -1 after raising. */
static int range_equal(TState *ts, const ObjRange *a, const ObjRange *b) {
    if (a == b) return 1;
    if (!a->big && !b->big) {
        if (a->len != b->len) return 0;
        if (a->len == 0) return 1;
        if (a->start != b->start) return 0;
        return a->len == 1 || a->step == b->step;
    }
    Value x[4], y[4];
    if (!range_values(ts, a, x) || !range_values(ts, b, y)) return -1;
    if (int_compare(x[3], y[3]) != 0) return 0;
    if (int_sign(x[3]) == 0) return 1;
    if (int_compare(x[0], y[0]) != 0) return 0;
    return int_compare(x[3], INT_VAL(1)) == 0 || int_compare(x[2], y[2]) == 0;
}

static Value range_richcmp(TState *ts, Value a, Value b, CmpOp op) {
    if (!IS_RANGE(a) || !IS_RANGE(b) || (op != CMP_EQ && op != CMP_NE)) return NOT_IMPLEMENTED_VAL;
    int eq = range_equal(ts, AS_RANGE(a), AS_RANGE(b));
    if (eq < 0) return ERROR_VAL;
    return BOOL_VAL(op == CMP_EQ ? eq : !eq);
}

/* As CPython: the hash of (len, start, step), with start and step None
 * where they don't matter, so equal ranges hash equal. */
static int range_hash(TState *ts, Value self, int64_t *out) {
    Value v[4];
    if (!range_values(ts, AS_RANGE(self), v)) return -1;
    ObjTuple *t = tuple_new(ts, 3);
    if (!t) return -1;
    bool empty = int_sign(v[3]) == 0;
    t->items[0] = v[3];
    t->items[1] = empty ? NONE_VAL : v[0];
    t->items[2] = empty || int_compare(v[3], INT_VAL(1)) == 0 ? NONE_VAL : v[2];
    return ops_hash(ts, OBJ_VAL(t), out);
}

static int range_truth(TState *ts, Value self) {
    (void)ts;
    ObjRange *r = AS_RANGE(self);
    return r->big ? int_sign(r->big_len) != 0 : r->len != 0;
}

static int64_t range_len_slot(TState *ts, Value self) {
    int64_t len;
    return range_len_i64(ts, AS_RANGE(self), &len) ? len : -1;
}

static inline int64_t range_item(const ObjRange *r, int64_t i) {
    return (int64_t)((uint64_t)r->start + (uint64_t)i * (uint64_t)r->step);
}

/* Item i (0 <= i < len) of either form. */
static Value range_item_at(TState *ts, const ObjRange *r, int64_t i) {
    if (!r->big) return int_val(ts, range_item(r, i));
    Value iv = int_val(ts, i);
    return IS_ERROR(iv) ? iv : int_mul_add(ts, r->big_start, iv, r->big_step);
}

/* r[i] for an int i of any size. */
static Value range_index_value(TState *ts, const ObjRange *r, Value i) {
    int64_t k;
    if (!r->big && int_to_i64(i, &k)) {
        if (k < 0) k += r->len;
        if (k < 0 || k >= r->len) return err_format(ts, EXC(ts)->IndexError, "range object index out of range");
        return int_val(ts, range_item(r, k));
    }
    Value v[4];
    if (!range_values(ts, r, v)) return ERROR_VAL;
    if (int_sign(i) < 0) {
        i = int_binop(ts, BIN_ADD, i, v[3]);
        if (IS_ERROR(i)) return i;
    }
    if (int_sign(i) < 0 || int_compare(i, v[3]) >= 0)
        return err_format(ts, EXC(ts)->IndexError, "range object index out of range");
    return int_mul_add(ts, v[0], i, v[2]);
}

/* A slice's step, start and stop as ints (None stays None), evaluated in
 * CPython's order; false after raising. */
static bool slice_values(TState *ts, const ObjSlice *s, Value out[3]) {
    const Value in[3] = {s->step, s->start, s->stop};
    int pushed = 0;
    bool ok = true;
    for (int k = 0; ok && k < 3; k++) {
        out[k] = in[k];
        if (IS_NONE(in[k])) continue;
        if (!IS_INTLIKE(in[k]) && !has_index_method(ts, in[k])) {
            err_format(ts, EXC(ts)->TypeError, "slice indices must be integers or None or have an __index__ method");
            ok = false;
            break;
        }
        out[k] = int_index(ts, in[k]);
        if (IS_ERROR(out[k])) {
            ok = false;
            break;
        }
        vm_push(ts, out[k]); /* the next __index__ may run mini code */
        pushed++;
        if (k == 0 && int_sign(out[0]) == 0) {
            err_format(ts, EXC(ts)->ValueError, "slice step cannot be zero");
            ok = false;
        }
    }
    while (pushed-- > 0) vm_pop(ts);
    return ok;
}

/* One bound of a slice over `len` items (CPython's _PySlice_GetLongIndices):
 * None gives `absent`, negatives count from the end, and the result is
 * clamped to [lower, upper]. */
static Value slice_bound(TState *ts, Value v, Value absent, Value len, Value lower, Value upper) {
    if (IS_NONE(v)) return absent;
    if (int_sign(v) < 0) {
        v = int_binop(ts, BIN_ADD, v, len);
        if (IS_ERROR(v)) return v;
        return int_compare(v, lower) < 0 ? lower : v;
    }
    return int_compare(v, upper) > 0 ? upper : v;
}

/* r[s]: the range of the selected items, exact for bounds of any size. */
static Value range_slice(TState *ts, Value self, ObjSlice *s) {
    vm_push(ts, self);
    Value sv[3];
    bool ok = slice_values(ts, s, sv);
    vm_pop(ts);
    Value v[4];
    if (!ok || !range_values(ts, AS_RANGE(self), v)) return ERROR_VAL;
    Value step = IS_NONE(sv[0]) ? INT_VAL(1) : sv[0];
    bool backwards = int_sign(step) < 0;
    Value lower = backwards ? INT_VAL(-1) : INT_VAL(0);
    Value upper = backwards ? int_binop(ts, BIN_SUB, v[3], INT_VAL(1)) : v[3];
    if (IS_ERROR(upper)) return upper;
    Value start = slice_bound(ts, sv[1], backwards ? upper : lower, v[3], lower, upper);
    if (IS_ERROR(start)) return start;
    Value stop = slice_bound(ts, sv[2], backwards ? lower : upper, v[3], lower, upper);
    if (IS_ERROR(stop)) return stop;
    Value nstart = int_mul_add(ts, v[0], start, v[2]);
    if (IS_ERROR(nstart)) return nstart;
    Value nstop = int_mul_add(ts, v[0], stop, v[2]);
    if (IS_ERROR(nstop)) return nstop;
    Value nstep = int_binop(ts, BIN_MUL, v[2], step);
    if (IS_ERROR(nstep)) return nstep;
    return range_from_values(ts, nstart, nstop, nstep);
}

static Value range_getitem(TState *ts, Value self, Value key) {
    ObjRange *r = AS_RANGE(self);
    if (IS_INT(key) && !r->big) {
        int64_t i = AS_INT(key);
        if (i < 0) i += r->len;
        if (i < 0 || i >= r->len) return err_format(ts, EXC(ts)->IndexError, "range object index out of range");
        return int_val(ts, range_item(r, i));
    }
    if (IS_SLICE(key)) return range_slice(ts, self, AS_SLICE(key));
    if (!IS_INTLIKE(key) && !has_index_method(ts, key))
        return err_format(ts, EXC(ts)->TypeError, "range indices must be integers or slices, not %s",
                          ops_type_name(ts, key));
    Value i = int_index(ts, key);
    return IS_ERROR(i) ? i : range_index_value(ts, r, i);
}

/* Whether the int v is one of r's items: 1 or 0, -1 after raising. */
static int range_has_int(TState *ts, const ObjRange *r, Value v) {
    if (!r->big) {
        int64_t x;
        if (!int_to_i64(v, &x) || r->len == 0) return 0;
        if (r->step > 0 ? (x < r->start || x >= r->stop) : (x > r->start || x <= r->stop)) return 0;
        return ((__int128)x - r->start) % r->step == 0;
    }
    if (int_sign(r->big_step) > 0 ? int_compare(v, r->big_start) < 0 || int_compare(v, r->big_stop) >= 0
                                  : int_compare(v, r->big_start) > 0 || int_compare(v, r->big_stop) <= 0)
        return 0;
    Value d = int_binop(ts, BIN_SUB, v, r->big_start);
    if (!IS_ERROR(d)) d = int_binop(ts, BIN_MOD, d, r->big_step);
    return IS_ERROR(d) ? -1 : int_sign(d) == 0;
}

/* Position of the int v, which must be one of r's items. */
static Value range_position_of_int(TState *ts, const ObjRange *r, Value v) {
    if (!r->big) {
        int64_t x = 0;
        (void)int_to_i64(v, &x); /* it is an item: it fits */
        return int_val(ts, (int64_t)(((__int128)x - r->start) / r->step));
    }
    Value d = int_binop(ts, BIN_SUB, v, r->big_start);
    return IS_ERROR(d) ? d : int_binop(ts, BIN_FLOORDIV, d, r->big_step);
}

/* Compares each item with `item` (==), in order: the position of the first
 * equal one (EMPTY_VAL if none) or, with count_all, the number of equal
 * ones. ERROR_VAL after raising. r must stay reachable. */
static Value range_scan(TState *ts, const ObjRange *r, Value item, bool count_all) {
    int64_t n = r->len;
    if (r->big && !int_to_i64(r->big_len, &n)) n = INT64_MAX; /* no loop gets that far */
    int64_t found = 0;
    for (int64_t i = 0; i < n; i++) {
        Value x = range_item_at(ts, r, i);
        if (IS_ERROR(x)) return x;
        vm_push(ts, x); /* __eq__ may run mini code */
        int eq = item_eq(ts, x, item);
        vm_pop(ts);
        if (eq < 0) return ERROR_VAL;
        if (!eq) continue;
        if (!count_all) return int_val(ts, i);
        found++;
    }
    return count_all ? int_val(ts, found) : EMPTY_VAL;
}

/* Position of item, EMPTY_VAL if absent, ERROR_VAL after raising. */
static Value range_find(TState *ts, const ObjRange *r, Value item) {
    if (!is_exact_int(ts, item)) return range_scan(ts, r, item, false);
    int has = range_has_int(ts, r, item);
    if (has < 0) return ERROR_VAL;
    return has ? range_position_of_int(ts, r, item) : EMPTY_VAL;
}

static int range_contains(TState *ts, Value self, Value item) {
    ObjRange *r = AS_RANGE(self);
    if (is_exact_int(ts, item)) return range_has_int(ts, r, item);
    vm_push(ts, self);
    Value i = range_scan(ts, r, item, false);
    vm_pop(ts);
    return IS_ERROR(i) ? -1 : !IS_EMPTY(i);
}

/* The iterator over a big-form range (CPython's longrange_iterator):
 * source = the range, aux = the next value, step_by = the step's sign. */
static Value range_big_step(TState *ts, ObjIterator *it) {
    Value src = __atomic_load_n(&it->source, __ATOMIC_RELAXED);
    if (!IS_RANGE(src)) return EMPTY_VAL;
    ObjRange *r = AS_RANGE(src);
    Value v = __atomic_load_n(&it->aux, __ATOMIC_RELAXED);
    int c = int_compare(v, r->big_stop);
    if (__atomic_load_n(&it->step_by, __ATOMIC_RELAXED) > 0 ? c >= 0 : c <= 0) {
        __atomic_store_n(&it->source, NONE_VAL, __ATOMIC_RELAXED); /* stays exhausted; frees the range */
        return EMPTY_VAL;
    }
    Value next = int_binop(ts, BIN_ADD, v, r->big_step);
    if (IS_ERROR(next)) return next;
    __atomic_store_n(&it->aux, next, __ATOMIC_RELAXED);
    return v;
}

static Value range_iter(TState *ts, Value self) {
    ObjRange *r = AS_RANGE(self);
    ObjIterator *it;
    if (r->big) {
        it = iterator_new(ts, "longrange_iterator", range_big_step, self, r->big_start);
        if (it) it->step_by = int_sign(r->big_step);
    } else {
        it = iterator_new(ts, "range_iterator", iter_range_step, NONE_VAL, NONE_VAL);
        if (it) {
            it->index = r->start;
            it->end = r->len;
            it->step_by = r->step;
        }
    }
    return it ? OBJ_VAL(it) : ERROR_VAL;
}

Value range_reversed(TState *ts, ObjRange *r) {
    if (r->big) {
        /* Iterate range(last, start - step, -step), in whichever form it fits. */
        Value last = int_binop(ts, BIN_SUB, r->big_len, INT_VAL(1));
        if (!IS_ERROR(last)) last = int_mul_add(ts, r->big_start, last, r->big_step);
        if (IS_ERROR(last)) return last;
        Value stop = int_binop(ts, BIN_SUB, r->big_start, r->big_step);
        if (IS_ERROR(stop)) return stop;
        Value step = int_unop(ts, UN_NEG, r->big_step);
        if (IS_ERROR(step)) return step;
        Value rev = range_from_values(ts, last, stop, step);
        return IS_ERROR(rev) ? rev : range_iter(ts, rev);
    }
    ObjIterator *it = iterator_new(ts, "range_iterator", iter_range_step, NONE_VAL, NONE_VAL);
    if (!it) return ERROR_VAL;
    it->index = r->len > 0 ? range_item(r, r->len - 1) : r->start;
    it->end = r->len;
    it->step_by = (int64_t)(0 - (uint64_t)r->step);
    return OBJ_VAL(it);
}

static void range_trace(GcMarker *m, Obj *self) {
    ObjRange *r = (ObjRange *)self;
    if (!r->big) return;
    gc_mark_value(m, r->big_start);
    gc_mark_value(m, r->big_stop);
    gc_mark_value(m, r->big_step);
    gc_mark_value(m, r->big_len);
}

static size_t range_obj_size(Obj *self) {
    (void)self;
    return sizeof(ObjRange);
}

static Value range_get_start(TState *ts, Value self) {
    ObjRange *r = AS_RANGE(self);
    return r->big ? r->big_start : int_val(ts, r->start);
}
static Value range_get_stop(TState *ts, Value self) {
    ObjRange *r = AS_RANGE(self);
    return r->big ? r->big_stop : int_val(ts, r->stop);
}
static Value range_get_step(TState *ts, Value self) {
    ObjRange *r = AS_RANGE(self);
    return r->big ? r->big_step : int_val(ts, r->step);
}

static Value range_m_index(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("range.index", 1, 1);
    Value i = range_find(ts, AS_RANGE(args[0]), args[1]);
    if (!IS_EMPTY(i)) return i;
    Value r = ops_repr(ts, args[1]);
    if (IS_ERROR(r)) return r;
    return err_format(ts, EXC(ts)->ValueError, "%s is not in range", AS_STR(r)->data);
}

static Value range_m_count(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("range.count", 1, 1);
    ObjRange *r = AS_RANGE(args[0]);
    if (!is_exact_int(ts, args[1])) return range_scan(ts, r, args[1], true);
    int has = range_has_int(ts, r, args[1]);
    return has < 0 ? ERROR_VAL : INT_VAL(has);
}

static Value range_m_reversed(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("range.__reversed__", 0, 0);
    return range_reversed(ts, AS_RANGE(args[0]));
}
static Value range_m_len(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("range.__len__", 0, 0);
    int64_t len;
    return range_len_i64(ts, AS_RANGE(args[0]), &len) ? int_val(ts, len) : ERROR_VAL;
}
static Value range_m_getitem(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("range.__getitem__", 1, 1);
    return range_getitem(ts, args[0], args[1]);
}
static Value range_m_contains(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("range.__contains__", 1, 1);
    int r = range_contains(ts, args[0], args[1]);
    return r < 0 ? ERROR_VAL : BOOL_VAL(r);
}
static Value range_m_iter(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("range.__iter__", 0, 0);
    return range_iter(ts, args[0]);
}
static Value range_m_eq(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("range.__eq__", 1, 1);
    return range_richcmp(ts, args[0], args[1], CMP_EQ);
}
static Value range_m_ne(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("range.__ne__", 1, 1);
    return range_richcmp(ts, args[0], args[1], CMP_NE);
}

static Value range_m_reduce(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("range.__reduce__", 0, 0);
    /* A bound beyond the tagged ints is allocated: each stays on the
     * stack while the next is made. */
    Value (*const get[3])(TState *, Value) = {range_get_start, range_get_stop, range_get_step};
    Value parts[3];
    int pushed = 0;
    Value r = ERROR_VAL;
    for (; pushed < 3; pushed++) {
        parts[pushed] = get[pushed](ts, args[0]);
        if (IS_ERROR(parts[pushed])) break;
        vm_push(ts, parts[pushed]);
    }
    if (pushed == 3) r = reduce_triple(ts, args[0], parts);
    while (pushed-- > 0) vm_pop(ts);
    return r;
}

static const NativeDef range_methods[] = {
    {"index", range_m_index},
    {"__reduce__", range_m_reduce},
    {"count", range_m_count},
    {"__reversed__", range_m_reversed},
    {"__len__", range_m_len},
    {"__getitem__", range_m_getitem},
    {"__contains__", range_m_contains},
    {"__iter__", range_m_iter},
    {"__eq__", range_m_eq},
    {"__ne__", range_m_ne},
    {NULL, NULL},
};

static const GetSetDef range_getsets[] = {
    {"start", range_get_start, NULL},
    {"stop", range_get_stop, NULL},
    {"step", range_get_step, NULL},
    {NULL, NULL, NULL},
};

const TypeSpec range_type_spec = {
    .name = "range",
    .kind = OBJ_RANGE,
    .obj_size = range_obj_size,
    .repr = range_repr,
    .hash = range_hash,
    .richcmp = range_richcmp,
    .truth = range_truth,
    .len = range_len_slot,
    .getitem = range_getitem,
    .contains = range_contains,
    .iter = range_iter,
    .new_ = range_new_slot,
    .trace = range_trace,
    .methods = range_methods,
    .getsets = range_getsets,
};
