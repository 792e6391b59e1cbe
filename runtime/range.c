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

static const NativeDef slice_methods[] = {
    {"indices", slice_m_indices},
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

/* Number of items of range(start, stop, step); false if it exceeds int64. */
static bool range_length(int64_t start, int64_t stop, int64_t step, int64_t *len) {
    __int128 n;
    if (step > 0) n = start < stop ? ((__int128)stop - start - 1) / step + 1 : 0;
    else n = start > stop ? ((__int128)start - stop - 1) / -(__int128)step + 1 : 0;
    if (n > INT64_MAX) return false;
    *len = (int64_t)n;
    return true;
}

static Value range_make(TState *ts, int64_t start, int64_t stop, int64_t step) {
    int64_t len;
    if (!range_length(start, stop, step, &len))
        return err_format(ts, EXC(ts)->OverflowError, "Python int too large to convert to C ssize_t");
    ObjRange *r = (ObjRange *)gc_alloc(ts, sizeof(ObjRange), OBJ_RANGE, ts->interp->types.range);
    if (!r) return ERROR_VAL;
    r->start = start;
    r->stop = stop;
    r->step = step;
    r->len = len;
    return OBJ_VAL(r);
}

/* A range() argument: an int (within int64) or an object with __index__. */
static bool range_arg(TState *ts, Value v, int64_t *out) {
    if (IS_BIGINT(v)) {
        if (int_to_i64(v, out)) return true;
        err_format(ts, EXC(ts)->OverflowError, "Python int too large to convert to C ssize_t");
        return false;
    }
    return ops_index(ts, v, out);
}

static Value range_new_slot(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    (void)type;
    if (kwnames && kwnames->len) return err_format(ts, EXC(ts)->TypeError, "range() takes no keyword arguments");
    if (nargs < 1) return err_format(ts, EXC(ts)->TypeError, "range expected at least 1 argument, got 0");
    if (nargs > 3)
        return err_format(ts, EXC(ts)->TypeError, "range expected at most 3 arguments, got %d", nargs);
    int64_t start = 0, stop, step = 1;
    if (nargs == 1) {
        if (!range_arg(ts, args[0], &stop)) return ERROR_VAL;
    } else {
        if (!range_arg(ts, args[0], &start) || !range_arg(ts, args[1], &stop)) return ERROR_VAL;
        if (nargs == 3 && !range_arg(ts, args[2], &step)) return ERROR_VAL;
        if (step == 0) return err_format(ts, EXC(ts)->ValueError, "range() arg 3 must not be zero");
    }
    return range_make(ts, start, stop, step);
}

static Value range_repr(TState *ts, Value self) {
    ObjRange *r = AS_RANGE(self);
    ObjStr *s = r->step == 1 ? str_printf(ts, "range(%lld, %lld)", (long long)r->start, (long long)r->stop)
                             : str_printf(ts, "range(%lld, %lld, %lld)", (long long)r->start,
                                          (long long)r->stop, (long long)r->step);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

/* Ranges are equal when they are equal sequences. */
static bool range_equal(const ObjRange *a, const ObjRange *b) {
    if (a == b) return true;
    if (a->len != b->len) return false;
    if (a->len == 0) return true;
    if (a->start != b->start) return false;
    return a->len == 1 || a->step == b->step;
}

static Value range_richcmp(TState *ts, Value a, Value b, CmpOp op) {
    (void)ts;
    if (!IS_RANGE(a) || !IS_RANGE(b) || (op != CMP_EQ && op != CMP_NE)) return NOT_IMPLEMENTED_VAL;
    bool eq = range_equal(AS_RANGE(a), AS_RANGE(b));
    return BOOL_VAL(op == CMP_EQ ? eq : !eq);
}

/* As CPython: the hash of (len, start, step), with start and step None
 * where they don't matter, so equal ranges hash equal. */
static int range_hash(TState *ts, Value self, int64_t *out) {
    ObjRange *r = AS_RANGE(self);
    ObjTuple *t = tuple_new(ts, 3);
    if (!t) return -1;
    t->items[0] = int_val(ts, r->len);
    t->items[1] = r->len == 0 ? NONE_VAL : int_val(ts, r->start);
    t->items[2] = r->len <= 1 ? NONE_VAL : int_val(ts, r->step);
    for (int i = 0; i < 3; i++)
        if (IS_ERROR(t->items[i])) {
            t->items[i] = NONE_VAL;
            return -1;
        }
    return ops_hash(ts, OBJ_VAL(t), out);
}

static int range_truth(TState *ts, Value self) {
    (void)ts;
    return AS_RANGE(self)->len != 0;
}

static int64_t range_len_slot(TState *ts, Value self) {
    (void)ts;
    return AS_RANGE(self)->len;
}

static inline int64_t range_item(const ObjRange *r, int64_t i) {
    return (int64_t)((uint64_t)r->start + (uint64_t)i * (uint64_t)r->step);
}

static Value range_getitem(TState *ts, Value self, Value key) {
    ObjRange *r = AS_RANGE(self);
    int64_t i;
    switch (seq_subscript(ts, key, &i)) {
    case 1:
        if (i < 0) i += r->len;
        if (i < 0 || i >= r->len) return err_format(ts, EXC(ts)->IndexError, "range object index out of range");
        return int_val(ts, range_item(r, i));
    case 2: {
        int64_t start, stop, step, count;
        if (slice_indices(ts, AS_SLICE(key), r->len, &start, &stop, &step, &count) < 0) return ERROR_VAL;
        __int128 nstart = (__int128)r->start + (__int128)start * r->step;
        __int128 nstop = (__int128)r->start + (__int128)stop * r->step;
        __int128 nstep = (__int128)r->step * step;
        if (nstart < INT64_MIN || nstart > INT64_MAX || nstop < INT64_MIN || nstop > INT64_MAX ||
            nstep < INT64_MIN || nstep > INT64_MAX)
            return err_format(ts, EXC(ts)->OverflowError, "Python int too large to convert to C ssize_t");
        return range_make(ts, (int64_t)nstart, (int64_t)nstop, (int64_t)nstep);
    }
    case 0:
        return err_format(ts, EXC(ts)->TypeError, "range indices must be integers or slices, not %s",
                          ops_type_name(ts, key));
    default:
        return ERROR_VAL;
    }
}

static bool range_has(const ObjRange *r, int64_t v) {
    if (r->len == 0) return false;
    if (r->step > 0 ? (v < r->start || v >= r->stop) : (v > r->start || v <= r->stop)) return false;
    return ((__int128)v - r->start) % r->step == 0;
}

/* An int-like value as int64 for membership tests: 1, or 0 when it is
 * not an int (or too large for any range). */
static int range_int_key(Value v, int64_t *out) {
    if (IS_INT(v)) *out = AS_INT(v);
    else if (IS_BOOL(v)) *out = AS_BOOL(v);
    else if (!IS_BIGINT(v) || !int_to_i64(v, out)) return IS_BIGINT(v) ? -1 : 0;
    return 1;
}

/* Position of item (any value, compared with ==), -1 if absent, -2
 * after raising. */
static int64_t range_find(TState *ts, ObjRange *r, Value item) {
    int64_t v;
    int k = range_int_key(item, &v);
    if (k < 0) return -1;
    if (k > 0) return range_has(r, v) ? (int64_t)(((__int128)v - r->start) / r->step) : -1;
    for (int64_t i = 0; i < r->len; i++) {
        Value x = int_val(ts, range_item(r, i));
        if (IS_ERROR(x)) return -2;
        int eq = item_eq(ts, x, item);
        if (eq < 0) return -2;
        if (eq) return i;
    }
    return -1;
}

static int range_contains(TState *ts, Value self, Value item) {
    vm_push(ts, self);
    int64_t i = range_find(ts, AS_RANGE(self), item);
    vm_pop(ts);
    return i == -2 ? -1 : i >= 0;
}

static Value range_iter(TState *ts, Value self) {
    ObjRange *r = AS_RANGE(self);
    ObjIterator *it = iterator_new(ts, "range_iterator", iter_range_step, NONE_VAL, NONE_VAL);
    if (!it) return ERROR_VAL;
    it->index = r->start;
    it->end = r->len;
    it->step_by = r->step;
    return OBJ_VAL(it);
}

Value range_reversed(TState *ts, ObjRange *r) {
    ObjIterator *it = iterator_new(ts, "range_iterator", iter_range_step, NONE_VAL, NONE_VAL);
    if (!it) return ERROR_VAL;
    it->index = r->len > 0 ? range_item(r, r->len - 1) : r->start;
    it->end = r->len;
    it->step_by = (int64_t)(0 - (uint64_t)r->step);
    return OBJ_VAL(it);
}

/* A range holds no references; the empty trace keeps object's from being
 * inherited. */
static void range_trace(GcMarker *m, Obj *self) {
    (void)m;
    (void)self;
}

static size_t range_obj_size(Obj *self) {
    (void)self;
    return sizeof(ObjRange);
}

static Value range_get_start(TState *ts, Value self) { return int_val(ts, AS_RANGE(self)->start); }
static Value range_get_stop(TState *ts, Value self) { return int_val(ts, AS_RANGE(self)->stop); }
static Value range_get_step(TState *ts, Value self) { return int_val(ts, AS_RANGE(self)->step); }

#define CHECK_ARGS(name, min, max)                                             \
    do {                                                                       \
        if (!args_check(ts, name, nargs - 1, kwnames, min, max)) return ERROR_VAL; \
    } while (0)

static Value range_m_index(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    CHECK_ARGS("range.index", 1, 1);
    int64_t i = range_find(ts, AS_RANGE(args[0]), args[1]);
    if (i == -2) return ERROR_VAL;
    if (i >= 0) return int_val(ts, i);
    Value r = ops_repr(ts, args[1]);
    if (IS_ERROR(r)) return r;
    return err_format(ts, EXC(ts)->ValueError, "%s is not in range", AS_STR(r)->data);
}

static Value range_m_count(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    CHECK_ARGS("range.count", 1, 1);
    ObjRange *r = AS_RANGE(args[0]);
    int64_t v;
    int k = range_int_key(args[1], &v);
    if (k != 0) return INT_VAL(k > 0 && range_has(r, v));
    int64_t n = 0;
    for (int64_t i = 0; i < r->len; i++) {
        Value x = int_val(ts, range_item(r, i));
        if (IS_ERROR(x)) return x;
        int eq = item_eq(ts, x, args[1]);
        if (eq < 0) return ERROR_VAL;
        n += eq;
    }
    return int_val(ts, n);
}

static Value range_m_reversed(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    CHECK_ARGS("range.__reversed__", 0, 0);
    return range_reversed(ts, AS_RANGE(args[0]));
}
static Value range_m_len(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    CHECK_ARGS("range.__len__", 0, 0);
    return int_val(ts, AS_RANGE(args[0])->len);
}
static Value range_m_getitem(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    CHECK_ARGS("range.__getitem__", 1, 1);
    return range_getitem(ts, args[0], args[1]);
}
static Value range_m_contains(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    CHECK_ARGS("range.__contains__", 1, 1);
    int r = range_contains(ts, args[0], args[1]);
    return r < 0 ? ERROR_VAL : BOOL_VAL(r);
}
static Value range_m_iter(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    CHECK_ARGS("range.__iter__", 0, 0);
    return range_iter(ts, args[0]);
}
static Value range_m_eq(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    CHECK_ARGS("range.__eq__", 1, 1);
    return range_richcmp(ts, args[0], args[1], CMP_EQ);
}
static Value range_m_ne(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    CHECK_ARGS("range.__ne__", 1, 1);
    return range_richcmp(ts, args[0], args[1], CMP_NE);
}

static const NativeDef range_methods[] = {
    {"index", range_m_index},
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
