/* The _collections module, as CPython's C module of the same name
 * (collections/__init__.mini builds on it):
 *   - deque, re-exported by collections with module 'collections';
 *   - _count_elements, Counter's counting loop;
 *   - _tupleitem, the callable behind a namedtuple's field properties;
 *   - _set_collection_flag, which abc.ABCMeta calls to mark the classes
 *     that collections.abc.Sequence or Mapping derive or register, for
 *     match's patterns (CPython's _abc does this).
 *
 * Layout: a ring buffer. `items` holds `cap` slots (a power of two, or 0
 * with no buffer); the deque's items are items[(head + k) & (cap - 1)]
 * for k in [0, len). Both ends grow and shrink in O(1); the buffer doubles
 * when full and halves when mostly empty.
 *
 * GIL-off discipline (ARCHITECTURE.md, "The GIL-off container
 * guarantee"): every operation, reads included, holds the deque's obj lock
 * from its first read to its last write, so append/appendleft/pop/popleft
 * and the rest are each atomic with respect to other threads. Since no
 * reader goes without the lock, a replaced buffer is freed at once. The
 * lock never spans mini code: a user __eq__ (count, index, remove, `in`)
 * runs with it released, and on return the operation checks the deque's
 * `state` (bumped by every change of length or order), raising CPython's
 * "deque mutated" error if it moved meanwhile. Comparisons, copies and
 * reprs work on a snapshot tuple taken under the lock (one lock at a
 * time). `len` reads one atomic word.
 *
 * Iterators check `state` at every step, as CPython's: a deque changed in
 * size or order while iterated raises "deque mutated during iteration". */

#include <stdlib.h>
#include <string.h>

#include "runtime/args.h"
#include "runtime/class.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/generic.h"
#include "runtime/function.h"
#include "runtime/iterator.h"
#include "runtime/list.h"
#include "runtime/module.h"
#include "runtime/ops.h"
#include "runtime/range.h"
#include "runtime/str.h"
#include "runtime/strbuf.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "stdlib/modules.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/vm.h"

#define EXC(ts) (&(ts)->interp->exc)

typedef struct ObjDeque {
    Obj obj;
    Value *items;       /* cap slots, or NULL */
    size_t cap, head;   /* cap: a power of two, or 0 */
    _Atomic size_t len; /* read without the lock by len() */
    int64_t maxlen;     /* -1: unbounded */
    uint64_t state;     /* bumped by every change of length or order */
} ObjDeque;

/* Smallest buffer; a buffer shrinks only while it stays above it. */
#define DEQUE_MIN_CAP 8
#define DEQUE_MAX_ITEMS ((size_t)1 << 58)

static void deque_trace(GcMarker *m, Obj *self);

/* A deque or an instance of a subclass: subclasses copy their base's
 * slots, so the trace function tells them apart without a type global. */
static bool is_deque(TState *ts, Value v) {
    (void)ts;
    return IS_KIND(v, OBJ_OPAQUE) && OBJ_TYPE(v)->trace == deque_trace;
}

/* deque itself, not a subclass. */
static bool exact_deque(ObjType *t) { return t->trace == deque_trace && !(t->flags & TYPEF_HEAPTYPE); }

#define AS_DEQUE(v) ((ObjDeque *)AS_OBJ(v))

static inline size_t dq_len(ObjDeque *d) { return atomic_load_explicit(&d->len, memory_order_relaxed); }
static inline void dq_set_len(ObjDeque *d, size_t n) { atomic_store_explicit(&d->len, n, memory_order_relaxed); }
static inline Value *dq_at(ObjDeque *d, size_t k) { return &d->items[(d->head + k) & (d->cap - 1)]; }
/* maxlen is written under the lock (by __init__) but read without it. */
static inline int64_t dq_maxlen(ObjDeque *d) { return __atomic_load_n(&d->maxlen, __ATOMIC_RELAXED); }

/* ---- storage (lock held) ------------------------------------------------ */

/* Moves the items to a buffer of new_cap slots (>= len). False when out of
 * memory: nothing is raised, since the caller holds the lock. */
static bool resize_locked(TState *ts, ObjDeque *d, size_t new_cap) {
    size_t n = dq_len(d);
    Value *b = gc_alloc_buffer(ts, new_cap * sizeof(Value));
    if (!b) return false;
    for (size_t k = 0; k < n; k++) b[k] = *dq_at(d, k);
    if (d->items) gc_free_buffer(d->items, d->cap * sizeof(Value));
    d->items = b;
    d->cap = new_cap;
    d->head = 0;
    return true;
}

static bool reserve_locked(TState *ts, ObjDeque *d, size_t need) {
    if (need <= d->cap) return true;
    if (need > DEQUE_MAX_ITEMS) return false;
    size_t cap = d->cap ? d->cap : DEQUE_MIN_CAP;
    while (cap < need) cap <<= 1;
    return resize_locked(ts, d, cap);
}

/* After a removal: halve a buffer that is less than a quarter full (a
 * failed allocation just keeps the larger one). */
static void trim_locked(TState *ts, ObjDeque *d) {
    if (d->cap > DEQUE_MIN_CAP && dq_len(d) * 4 < d->cap) resize_locked(ts, d, d->cap / 2);
}

static Value pop_right_locked(TState *ts, ObjDeque *d) {
    size_t n = dq_len(d);
    Value v = *dq_at(d, n - 1);
    dq_set_len(d, n - 1);
    d->state++;
    trim_locked(ts, d);
    return v;
}

static Value pop_left_locked(TState *ts, ObjDeque *d) {
    Value v = *dq_at(d, 0);
    d->head = (d->head + 1) & (d->cap - 1);
    dq_set_len(d, dq_len(d) - 1);
    d->state++;
    trim_locked(ts, d);
    return v;
}

/* Appends at the right (or left) end; past maxlen the other end's item
 * is dropped. False when out of memory. */
static bool push_locked(TState *ts, ObjDeque *d, Value v, bool left) {
    if (dq_maxlen(d) == 0) return true;
    size_t n = dq_len(d);
    if (dq_maxlen(d) > 0 && n == (size_t)dq_maxlen(d)) {
        if (left) dq_set_len(d, n - 1);
        else d->head = (d->head + 1) & (d->cap - 1);
        n--;
    } else if (!reserve_locked(ts, d, n + 1)) {
        return false;
    }
    if (left) {
        d->head = (d->head - 1) & (d->cap - 1);
        d->items[d->head] = v;
    } else {
        *dq_at(d, n) = v;
    }
    dq_set_len(d, n + 1);
    d->state++;
    return true;
}

static void clear_locked(ObjDeque *d) {
    if (d->items) gc_free_buffer(d->items, d->cap * sizeof(Value));
    d->items = NULL;
    d->cap = d->head = 0;
    dq_set_len(d, 0);
    d->state++;
}

/* Rotates n steps to the right (negative: left), moving the fewer items. */
static void rotate_locked(ObjDeque *d, int64_t n) {
    int64_t len = (int64_t)dq_len(d);
    if (len <= 1) return;
    n %= len;
    if (n < 0) n += len;
    if (n == 0) return;
    d->state++;
    size_t mask = d->cap - 1;
    if (n <= len / 2) {
        for (int64_t k = 0; k < n; k++) {
            Value v = *dq_at(d, (size_t)len - 1);
            d->head = (d->head - 1) & mask;
            d->items[d->head] = v;
        }
    } else {
        for (int64_t k = 0; k < len - n; k++) {
            Value v = d->items[d->head];
            d->head = (d->head + 1) & mask;
            *dq_at(d, (size_t)len - 1) = v;
        }
    }
}

/* Removes the item at k (< len), moving the shorter side. */
static void delete_locked(TState *ts, ObjDeque *d, size_t k) {
    size_t n = dq_len(d);
    if (k < n / 2) {
        for (size_t j = k; j > 0; j--) *dq_at(d, j) = *dq_at(d, j - 1);
        d->head = (d->head + 1) & (d->cap - 1);
    } else {
        for (size_t j = k; j + 1 < n; j++) *dq_at(d, j) = *dq_at(d, j + 1);
    }
    dq_set_len(d, n - 1);
    d->state++;
    trim_locked(ts, d);
}

/* Inserts v before position k (<= len); room already reserved. */
static void insert_locked(ObjDeque *d, size_t k, Value v) {
    size_t n = dq_len(d);
    if (k < n / 2) {
        d->head = (d->head - 1) & (d->cap - 1);
        for (size_t j = 0; j < k; j++) *dq_at(d, j) = *dq_at(d, j + 1);
    } else {
        for (size_t j = n; j > k; j--) *dq_at(d, j) = *dq_at(d, j - 1);
    }
    *dq_at(d, k) = v;
    dq_set_len(d, n + 1);
    d->state++;
}

/* The items as a new tuple: one state of the deque. NULL after raising. */
static ObjTuple *snapshot(TState *ts, ObjDeque *d) {
    for (;;) {
        size_t n = dq_len(d);
        ObjTuple *t = tuple_new(ts, n);
        if (!t) return NULL;
        obj_lock(ts, &d->obj);
        bool fits = dq_len(d) == n;
        if (fits)
            for (size_t k = 0; k < n; k++) t->items[k] = *dq_at(d, k);
        obj_unlock(ts, &d->obj);
        if (fits) return t;
    }
}

/* ---- scanning with user __eq__ ------------------------------------------ */

/* The first item of d[start:stop] equal to x (with `count`, how many
 * are), holding d's lock except while a user __eq__ runs. Returns with
 * the lock held: the position, -1 if none, -2 after raising. A change of
 * the deque during __eq__ raises `mutated` (CPython's words for the
 * calling method). */
static int64_t scan_locked(TState *ts, ObjDeque *d, Value x, int64_t start, int64_t stop, int64_t *count,
                           ObjType *mutated_type, const char *mutated) {
    uint64_t state = d->state;
    int64_t found = 0;
    for (int64_t i = start; i < stop && i < (int64_t)dq_len(d); i++) {
        Value v = *dq_at(d, (size_t)i);
        bool released;
        int eq = ops_equal_holding(ts, &d->obj, v, x, &released);
        if (eq < 0) return -2;
        if (released && d->state != state) {
            err_format(ts, mutated_type, "%s", mutated);
            return -2;
        }
        if (eq && !count) return i;
        found += eq;
    }
    if (count) *count = found;
    return -1;
}

/* ---- construction ------------------------------------------------------- */

/* maxlen=None or a non-negative int, as CPython's deque(). */
static bool parse_maxlen(TState *ts, Value v, int64_t *out) {
    *out = -1;
    if (IS_EMPTY(v) || IS_NONE(v)) return true;
    if (!ops_isinstance(ts, v, ts->interp->types.int_)) {
        err_format(ts, EXC(ts)->TypeError, "an integer is required");
        return false;
    }
    if (!args_ssize(ts, v, out)) return false;
    if (*out < 0) {
        err_format(ts, EXC(ts)->ValueError, "maxlen must be non-negative");
        return false;
    }
    return true;
}

/* Appends every item of iterable at one end. The items of a list, tuple
 * or deque (the deque itself too) are taken as one snapshot and appended
 * under one hold of the lock. */
static int extend(TState *ts, ObjDeque *d, Value iterable, bool left) {
    Value snap = EMPTY_VAL;
    if (is_deque(ts, iterable)) {
        ObjTuple *t = snapshot(ts, AS_DEQUE(iterable));
        if (!t) return -1;
        snap = OBJ_VAL(t);
    } else if (IS_LIST(iterable)) {
        ObjTuple *t = ops_to_tuple(ts, iterable);
        if (!t) return -1;
        snap = OBJ_VAL(t);
    } else if (IS_TUPLE(iterable)) {
        snap = iterable;
    }
    if (!IS_EMPTY(snap)) {
        ObjTuple *t = AS_TUPLE(snap);
        bool ok = true;
        obj_lock(ts, &d->obj);
        for (size_t k = 0; ok && k < t->len; k++) ok = push_locked(ts, d, t->items[k], left);
        obj_unlock(ts, &d->obj);
        return ok ? 0 : (err_no_memory(ts), -1);
    }
    Value it = ops_iter(ts, iterable);
    if (IS_ERROR(it)) return -1;
    vm_push(ts, it);
    int r = 0;
    for (;;) {
        Value v = ops_next(ts, it);
        if (IS_EMPTY(v)) break;
        if (IS_ERROR(v)) {
            r = -1;
            break;
        }
        obj_lock(ts, &d->obj);
        bool ok = push_locked(ts, d, v, left);
        obj_unlock(ts, &d->obj);
        if (!ok) {
            err_no_memory(ts);
            r = -1;
            break;
        }
    }
    vm_pop(ts);
    return r;
}

/* deque.__init__(iterable=(), maxlen=None): empties the deque, then fills it. */
static bool deque_init_args(TState *ts, ObjDeque *d, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"iterable", "maxlen"};
    Value v[2];
    /* CPython's wording (its argument parser's), not args_bind's. */
    if (nargs > 2) {
        err_format(ts, EXC(ts)->TypeError, "deque() takes at most 2 arguments (%d given)",
                   nargs + (kwnames ? (int)kwnames->len : 0));
        return false;
    }
    for (size_t k = 0; kwnames && k < kwnames->len; k++) {
        const char *kw = AS_STR(kwnames->items[k])->data;
        if (strcmp(kw, "iterable") != 0 && strcmp(kw, "maxlen") != 0) {
            err_format(ts, EXC(ts)->TypeError, "'%s' is an invalid keyword argument for deque()", kw);
            return false;
        }
    }
    if (!args_bind(ts, "deque", args, nargs, kwnames, names, 2, 0, 2, v)) return false;
    int64_t maxlen;
    if (!parse_maxlen(ts, v[1], &maxlen)) return false;
    obj_lock(ts, &d->obj);
    __atomic_store_n(&d->maxlen, maxlen, __ATOMIC_RELAXED);
    if (dq_len(d)) clear_locked(d);
    obj_unlock(ts, &d->obj);
    return IS_EMPTY(v[0]) || extend(ts, d, v[0], false) == 0;
}

static ObjDeque *deque_alloc(TState *ts, ObjType *type, int64_t maxlen) {
    ObjDeque *d = (ObjDeque *)gc_alloc(ts, sizeof(ObjDeque), OBJ_OPAQUE, type);
    if (!d) return NULL;
    d->items = NULL;
    d->cap = d->head = 0;
    atomic_init(&d->len, 0);
    d->maxlen = maxlen;
    d->state = 0;
    return d;
}

static Value deque_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    /* A subclass whose mini __init__ takes the arguments gets an empty
     * deque; that __init__ fills it (deque.__init__ via super()). */
    bool init_consumes = !exact_deque(type) && IS_FUNCTION(type_lookup(type, ts->interp->names.init));
    ObjDeque *d = deque_alloc(ts, type, -1);
    if (!d) return ERROR_VAL;
    if (init_consumes) return OBJ_VAL(d);
    vm_push(ts, OBJ_VAL(d));
    bool ok = deque_init_args(ts, d, args, nargs, kwnames);
    vm_pop(ts);
    return ok ? OBJ_VAL(d) : ERROR_VAL;
}

/* A copy of d with its maxlen: of d's own class, made by calling it as
 * CPython's deque.copy does for subclasses. */
static Value deque_copy_of(TState *ts, Value self) {
    ObjDeque *d = AS_DEQUE(self);
    if (exact_deque(OBJ_TYPE(self))) {
        ObjDeque *r = deque_alloc(ts, OBJ_TYPE(self), dq_maxlen(d));
        if (!r) return ERROR_VAL;
        vm_push(ts, OBJ_VAL(r));
        int ok = extend(ts, r, self, false);
        vm_pop(ts);
        return ok == 0 ? OBJ_VAL(r) : ERROR_VAL;
    }
    Value cls = OBJ_VAL(OBJ_TYPE(self));
    Value argv[2] = {self, INT_VAL(dq_maxlen(d))};
    Value r = ops_call(ts, cls, argv, dq_maxlen(d) < 0 ? 1 : 2, NULL);
    if (IS_ERROR(r) || is_deque(ts, r)) return r;
    return err_format(ts, EXC(ts)->TypeError, "%s() must return a deque, not %s", OBJ_TYPE(self)->name->data,
                      ops_type_name(ts, r));
}

/* ---- slots -------------------------------------------------------------- */

static Value deque_repr(TState *ts, Value self) {
    ObjDeque *d = AS_DEQUE(self);
    ReprGuard g;
    if (!list_repr_enter(ts, &g, &d->obj)) return OBJ_VAL(str_new(ts, "[...]", 5));
    StrBuf sb;
    sb_init(&sb);
    ObjTuple *t = snapshot(ts, d);
    bool ok = t != NULL;
    if (ok) {
        vm_push(ts, OBJ_VAL(t));
        const char *name = OBJ_TYPE(self)->name->data;
        ok = sb_append(&sb, name, strlen(name)) && sb_append(&sb, "([", 2);
        for (size_t k = 0; ok && k < t->len; k++)
            ok = (k == 0 || sb_append(&sb, ", ", 2)) && str_append_repr(ts, &sb, t->items[k]);
        vm_pop(ts);
        if (ok && dq_maxlen(d) >= 0) {
            char buf[48];
            int n = snprintf(buf, sizeof buf, "], maxlen=%lld)", (long long)dq_maxlen(d));
            ok = sb_append(&sb, buf, (size_t)n);
        } else if (ok) {
            ok = sb_append(&sb, "])", 2);
        }
        if (!ok && !tstate_has_exc(ts)) err_no_memory(ts);
    }
    return list_repr_leave(ts, &g, &sb, ok);
}

static Value deque_richcmp(TState *ts, Value a, Value b, CmpOp op) {
    if (!is_deque(ts, a) || !is_deque(ts, b)) return NOT_IMPLEMENTED_VAL;
    if ((op == CMP_EQ || op == CMP_NE) && dq_len(AS_DEQUE(a)) != dq_len(AS_DEQUE(b))) return BOOL_VAL(op == CMP_NE);
    ObjTuple *x = snapshot(ts, AS_DEQUE(a));
    if (!x) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(x));
    ObjTuple *y = snapshot(ts, AS_DEQUE(b));
    if (!y) {
        vm_pop(ts);
        return ERROR_VAL;
    }
    /* Both snapshots stay rooted while a user __eq__ or __lt__ runs. */
    vm_push(ts, OBJ_VAL(y));
    Value r = ops_compare(ts, OBJ_VAL(x), OBJ_VAL(y), op);
    vm_pop(ts);
    vm_pop(ts);
    return r;
}

/* d * n and d *= n: n - 1 more copies of the items at the right, as
 * appends (so a maxlen keeps the last ones). */
static int repeat_in_place(TState *ts, ObjDeque *d, Value count) {
    int64_t k;
    int r = seq_repeat_count(ts, count, &k);
    if (r < 0) return -1;
    if (r == 0) {
        err_format(ts, EXC(ts)->TypeError, "can't multiply sequence by non-int of type '%s'", ops_type_name(ts, count));
        return -1;
    }
    ObjTuple *t = snapshot(ts, d);
    if (!t) return -1;
    size_t n = t->len;
    obj_lock(ts, &d->obj);
    bool ok = true;
    if (k <= 0) {
        clear_locked(d);
    } else if (k > 1 && n) {
        if ((uint64_t)k > DEQUE_MAX_ITEMS / n) {
            ok = false;
        } else {
            size_t total = n * (size_t)k, from = n;
            /* Past maxlen only the last maxlen items stay: append just those. */
            if (dq_maxlen(d) >= 0 && total - n > (size_t)dq_maxlen(d)) from = total - (size_t)dq_maxlen(d);
            for (size_t j = from; ok && j < total; j++) ok = push_locked(ts, d, t->items[j % n], false);
        }
    }
    obj_unlock(ts, &d->obj);
    if (!ok) err_no_memory(ts);
    return ok ? 0 : -1;
}

static Value deque_binop(TState *ts, BinOp op, Value a, Value b) {
    if (op == BIN_ADD) {
        if (!is_deque(ts, a)) return NOT_IMPLEMENTED_VAL;
        if (!is_deque(ts, b))
            return err_format(ts, EXC(ts)->TypeError, "can only concatenate deque (not \"%s\") to deque",
                              ops_type_name(ts, b));
        Value r = deque_copy_of(ts, a);
        if (IS_ERROR(r)) return r;
        vm_push(ts, r);
        int ok = extend(ts, AS_DEQUE(r), b, false);
        vm_pop(ts);
        return ok == 0 ? r : ERROR_VAL;
    }
    if (op == BIN_MUL) {
        bool left = is_deque(ts, a);
        Value seq = left ? a : b, n = left ? b : a;
        int64_t k;
        int c = seq_repeat_count(ts, n, &k);
        if (c < 0) return ERROR_VAL;
        if (c == 0) return seq_repeat_error(ts, n, left);
        Value r = deque_copy_of(ts, seq);
        if (IS_ERROR(r)) return r;
        vm_push(ts, r);
        int ok = repeat_in_place(ts, AS_DEQUE(r), n);
        vm_pop(ts);
        return ok == 0 ? r : ERROR_VAL;
    }
    return NOT_IMPLEMENTED_VAL;
}

static Value deque_inplace(TState *ts, BinOp op, Value self, Value other) {
    if (op == BIN_ADD) return extend(ts, AS_DEQUE(self), other, false) < 0 ? ERROR_VAL : self;
    if (op == BIN_MUL) return repeat_in_place(ts, AS_DEQUE(self), other) < 0 ? ERROR_VAL : self;
    return NOT_IMPLEMENTED_VAL;
}

static int deque_truth(TState *ts, Value self) {
    (void)ts;
    return dq_len(AS_DEQUE(self)) != 0;
}

static int64_t deque_len(TState *ts, Value self) {
    (void)ts;
    return (int64_t)dq_len(AS_DEQUE(self));
}

/* An index key as CPython's deque takes it: an int (via __index__). 1, or
 * 0 after raising. */
static int deque_index_key(TState *ts, Value key, int64_t *i) {
    int r = seq_subscript(ts, key, i);
    if (r == 1) return 1;
    if (r == 2 || r == 0)
        err_format(ts, EXC(ts)->TypeError, "sequence index must be integer, not '%s'", ops_type_name(ts, key));
    return 0;
}

static Value deque_getitem(TState *ts, Value self, Value key) {
    ObjDeque *d = AS_DEQUE(self);
    int64_t i;
    if (!deque_index_key(ts, key, &i)) return ERROR_VAL;
    obj_lock(ts, &d->obj);
    int64_t n = (int64_t)dq_len(d);
    if (i < 0) i += n;
    Value v = i >= 0 && i < n ? *dq_at(d, (size_t)i) : EMPTY_VAL;
    obj_unlock(ts, &d->obj);
    if (IS_EMPTY(v)) return err_format(ts, EXC(ts)->IndexError, "deque index out of range");
    return v;
}

static int deque_setitem(TState *ts, Value self, Value key, Value value) {
    ObjDeque *d = AS_DEQUE(self);
    int64_t i;
    if (!deque_index_key(ts, key, &i)) return -1;
    obj_lock(ts, &d->obj);
    int64_t n = (int64_t)dq_len(d);
    if (i < 0) i += n;
    bool in = i >= 0 && i < n;
    if (in && IS_EMPTY(value)) delete_locked(ts, d, (size_t)i);
    else if (in) *dq_at(d, (size_t)i) = value;
    obj_unlock(ts, &d->obj);
    if (!in) {
        err_format(ts, EXC(ts)->IndexError, "deque index out of range");
        return -1;
    }
    return 0;
}

static int deque_contains(TState *ts, Value self, Value item) {
    ObjDeque *d = AS_DEQUE(self);
    vm_push(ts, self);
    obj_lock(ts, &d->obj);
    int64_t i = scan_locked(ts, d, item, 0, INT64_MAX, NULL, EXC(ts)->RuntimeError, "deque mutated during iteration");
    obj_unlock(ts, &d->obj);
    vm_pop(ts);
    return i >= 0 ? 1 : i == -1 ? 0 : -1;
}

/* Iterator state (ObjIterator): source = the deque, index = next position,
 * end = the deque's state when iteration began, step_by = items left. */
static Value deque_iter_step(TState *ts, ObjIterator *it, bool reverse) {
    /* Relaxed atomics: threads sharing one iterator race (as in CPython)
     * but never tear a field; the position is masked into the buffer. */
    Value src = __atomic_load_n(&it->source, __ATOMIC_RELAXED);
    int64_t left = __atomic_load_n(&it->step_by, __ATOMIC_RELAXED);
    if (!is_deque(ts, src) || left <= 0) return EMPTY_VAL;
    ObjDeque *d = AS_DEQUE(src);
    int64_t i = __atomic_load_n(&it->index, __ATOMIC_RELAXED);
    obj_lock(ts, &d->obj);
    bool same = d->state == (uint64_t)it->end && i >= 0 && (size_t)i < dq_len(d);
    Value v = same ? *dq_at(d, (size_t)i) : EMPTY_VAL;
    obj_unlock(ts, &d->obj);
    if (!same) {
        __atomic_store_n(&it->step_by, 0, __ATOMIC_RELAXED);
        return err_format(ts, EXC(ts)->RuntimeError, "deque mutated during iteration");
    }
    __atomic_store_n(&it->index, reverse ? i - 1 : i + 1, __ATOMIC_RELAXED);
    __atomic_store_n(&it->step_by, left - 1, __ATOMIC_RELAXED);
    if (left == 1) __atomic_store_n(&it->source, NONE_VAL, __ATOMIC_RELAXED);
    return v;
}

static Value deque_forward_step(TState *ts, ObjIterator *it) { return deque_iter_step(ts, it, false); }
static Value deque_reverse_step(TState *ts, ObjIterator *it) { return deque_iter_step(ts, it, true); }

static Value make_iter(TState *ts, Value self, bool reverse) {
    ObjDeque *d = AS_DEQUE(self);
    ObjIterator *it = iterator_new(ts, reverse ? "_collections._deque_reverse_iterator" : "_collections._deque_iterator",
                                   reverse ? deque_reverse_step : deque_forward_step, self, NONE_VAL);
    if (!it) return ERROR_VAL;
    obj_lock(ts, &d->obj);
    it->end = (int64_t)d->state;
    it->step_by = (int64_t)dq_len(d);
    it->index = reverse ? it->step_by - 1 : 0;
    obj_unlock(ts, &d->obj);
    return OBJ_VAL(it);
}

static Value deque_iter(TState *ts, Value self) { return make_iter(ts, self, false); }

static void deque_trace(GcMarker *m, Obj *self) {
    ObjDeque *d = (ObjDeque *)self;
    size_t n = dq_len(d);
    for (size_t k = 0; k < n; k++) gc_mark_value(m, *dq_at(d, k));
}

static void deque_finalize(Obj *self) {
    ObjDeque *d = (ObjDeque *)self;
    if (d->items) gc_free_buffer(d->items, d->cap * sizeof(Value));
}

/* The ring buffer is accounted for by gc_alloc_buffer, as a list's array. */
static size_t deque_obj_size(Obj *self) {
    (void)self;
    return sizeof(ObjDeque);
}

/* ---- methods ------------------------------------------------------------ */

#define SELF AS_DEQUE(args[0])

static Value push_method(TState *ts, Value *args, bool left) {
    ObjDeque *d = SELF;
    obj_lock(ts, &d->obj);
    bool ok = push_locked(ts, d, args[1], left);
    obj_unlock(ts, &d->obj);
    return ok ? NONE_VAL : err_no_memory(ts);
}

static Value deque_m_append(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("deque.append", 1, 1);
    return push_method(ts, args, false);
}

static Value deque_m_appendleft(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("deque.appendleft", 1, 1);
    return push_method(ts, args, true);
}

static Value pop_method(TState *ts, Value *args, bool left) {
    ObjDeque *d = SELF;
    obj_lock(ts, &d->obj);
    Value v = dq_len(d) == 0 ? EMPTY_VAL : left ? pop_left_locked(ts, d) : pop_right_locked(ts, d);
    obj_unlock(ts, &d->obj);
    if (IS_EMPTY(v)) return err_format(ts, EXC(ts)->IndexError, "pop from an empty deque");
    return v;
}

static Value deque_m_pop(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("deque.pop", 0, 0);
    return pop_method(ts, args, false);
}

static Value deque_m_popleft(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("deque.popleft", 0, 0);
    return pop_method(ts, args, true);
}

static Value deque_m_extend(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("deque.extend", 1, 1);
    return extend(ts, SELF, args[1], false) < 0 ? ERROR_VAL : NONE_VAL;
}

static Value deque_m_extendleft(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("deque.extendleft", 1, 1);
    return extend(ts, SELF, args[1], true) < 0 ? ERROR_VAL : NONE_VAL;
}

static Value deque_m_rotate(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("deque.rotate", 0, 1);
    int64_t n = 1;
    if (nargs > 1 && !args_ssize(ts, args[1], &n)) return ERROR_VAL;
    obj_lock(ts, &SELF->obj);
    rotate_locked(SELF, n);
    obj_unlock(ts, &SELF->obj);
    return NONE_VAL;
}

static Value deque_m_clear(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("deque.clear", 0, 0);
    obj_lock(ts, &SELF->obj);
    clear_locked(SELF);
    obj_unlock(ts, &SELF->obj);
    return NONE_VAL;
}

static Value deque_m_copy(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("deque.copy", 0, 0);
    return deque_copy_of(ts, args[0]);
}

static Value deque_m_count(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("deque.count", 1, 1);
    ObjDeque *d = SELF;
    int64_t n = 0;
    obj_lock(ts, &d->obj);
    int64_t r = scan_locked(ts, d, args[1], 0, INT64_MAX, &n, EXC(ts)->RuntimeError, "deque mutated during iteration");
    obj_unlock(ts, &d->obj);
    return r == -2 ? ERROR_VAL : INT_VAL(n);
}

static Value not_in_deque(TState *ts, Value x) {
    Value r = ops_repr(ts, x);
    if (IS_ERROR(r)) return r;
    return err_format(ts, EXC(ts)->ValueError, "%s is not in deque", AS_STR(r)->data);
}

static Value deque_m_index(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("deque.index", 1, 3);
    int64_t start = 0, stop = INT64_MAX;
    if (nargs > 2 && !slice_index_value(ts, args[2], false, &start)) return ERROR_VAL;
    if (nargs > 3 && !slice_index_value(ts, args[3], false, &stop)) return ERROR_VAL;
    ObjDeque *d = SELF;
    obj_lock(ts, &d->obj);
    int64_t n = (int64_t)dq_len(d);
    if (start < 0 && (start += n) < 0) start = 0;
    if (stop < 0 && (stop += n) < 0) stop = 0;
    int64_t i = scan_locked(ts, d, args[1], start, stop, NULL, EXC(ts)->RuntimeError, "deque mutated during iteration");
    obj_unlock(ts, &d->obj);
    if (i == -2) return ERROR_VAL;
    if (i >= 0) return INT_VAL(i);
    return not_in_deque(ts, args[1]);
}

static Value deque_m_remove(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("deque.remove", 1, 1);
    ObjDeque *d = SELF;
    obj_lock(ts, &d->obj);
    int64_t i = scan_locked(ts, d, args[1], 0, INT64_MAX, NULL, EXC(ts)->IndexError, "deque mutated during iteration");
    if (i >= 0) delete_locked(ts, d, (size_t)i);
    obj_unlock(ts, &d->obj);
    if (i == -2) return ERROR_VAL;
    if (i < 0) return not_in_deque(ts, args[1]);
    return NONE_VAL;
}

static Value deque_m_insert(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("deque.insert", 2, 2);
    int64_t i;
    if (!args_ssize(ts, args[1], &i)) return ERROR_VAL;
    ObjDeque *d = SELF;
    obj_lock(ts, &d->obj);
    int64_t n = (int64_t)dq_len(d);
    if (dq_maxlen(d) >= 0 && n >= dq_maxlen(d)) {
        obj_unlock(ts, &d->obj);
        return err_format(ts, EXC(ts)->IndexError, "deque already at its maximum size");
    }
    if (i < 0 && (i += n) < 0) i = 0;
    if (i > n) i = n;
    bool ok = reserve_locked(ts, d, (size_t)n + 1);
    if (ok) insert_locked(d, (size_t)i, args[2]);
    obj_unlock(ts, &d->obj);
    return ok ? NONE_VAL : err_no_memory(ts);
}

static Value deque_m_reverse(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("deque.reverse", 0, 0);
    ObjDeque *d = SELF;
    obj_lock(ts, &d->obj);
    size_t n = dq_len(d);
    for (size_t k = 0; k < n / 2; k++) {
        Value t = *dq_at(d, k);
        *dq_at(d, k) = *dq_at(d, n - 1 - k);
        *dq_at(d, n - 1 - k) = t;
    }
    obj_unlock(ts, &d->obj);
    return NONE_VAL;
}

static Value deque_m_init(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (nargs < 1 || !is_deque(ts, args[0]))
        return err_format(ts, EXC(ts)->TypeError, "descriptor '__init__' requires a 'collections.deque' object");
    return deque_init_args(ts, SELF, args + 1, nargs - 1, kwnames) ? NONE_VAL : ERROR_VAL;
}

/* (cls, (), None, iter) or (cls, ((), maxlen), None, iter), as CPython:
 * copy and deepcopy rebuild a deque through it. */
static Value deque_m_reduce(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("deque.__reduce__", 0, 0);
    ObjDeque *d = SELF;
    ObjTuple *empty = tuple_new(ts, 0);
    if (!empty) return ERROR_VAL;
    Value ctor_args = OBJ_VAL(empty);
    if (dq_maxlen(d) >= 0) {
        ObjTuple *a = tuple_pack2(ts, ctor_args, INT_VAL(dq_maxlen(d)));
        if (!a) return ERROR_VAL;
        ctor_args = OBJ_VAL(a);
    }
    vm_push(ts, ctor_args);
    Value it = deque_iter(ts, args[0]);
    vm_pop(ts);
    if (IS_ERROR(it)) return it;
    vm_push(ts, it);
    vm_push(ts, ctor_args);
    ObjTuple *r = tuple_new(ts, 4);
    vm_pop(ts);
    vm_pop(ts);
    if (!r) return ERROR_VAL;
    r->items[0] = OBJ_VAL(OBJ_TYPE(args[0]));
    r->items[1] = ctor_args;
    r->items[2] = NONE_VAL;
    r->items[3] = it;
    return OBJ_VAL(r);
}

static Value deque_m_reversed(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("deque.__reversed__", 0, 0);
    return make_iter(ts, args[0], true);
}

static Value deque_m_len(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("deque.__len__", 0, 0);
    return INT_VAL((int64_t)dq_len(SELF));
}

static Value deque_m_getitem(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("deque.__getitem__", 1, 1);
    return deque_getitem(ts, args[0], args[1]);
}

static Value deque_m_setitem(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("deque.__setitem__", 2, 2);
    return deque_setitem(ts, args[0], args[1], args[2]) < 0 ? ERROR_VAL : NONE_VAL;
}

static Value deque_m_delitem(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("deque.__delitem__", 1, 1);
    return deque_setitem(ts, args[0], args[1], EMPTY_VAL) < 0 ? ERROR_VAL : NONE_VAL;
}

static Value deque_m_contains(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("deque.__contains__", 1, 1);
    int r = deque_contains(ts, args[0], args[1]);
    return r < 0 ? ERROR_VAL : BOOL_VAL(r);
}

static Value deque_m_iter(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("deque.__iter__", 0, 0);
    return deque_iter(ts, args[0]);
}

static Value deque_m_add(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("deque.__add__", 1, 1);
    return deque_binop(ts, BIN_ADD, args[0], args[1]);
}

static Value deque_m_mul(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("deque.__mul__", 1, 1);
    return deque_binop(ts, BIN_MUL, args[0], args[1]);
}

static Value deque_m_iadd(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("deque.__iadd__", 1, 1);
    return deque_inplace(ts, BIN_ADD, args[0], args[1]);
}

static Value deque_m_imul(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("deque.__imul__", 1, 1);
    return deque_inplace(ts, BIN_MUL, args[0], args[1]);
}

static Value deque_m_repr(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("deque.__repr__", 0, 0);
    return deque_repr(ts, args[0]);
}

#define DEQUE_CMP_METHOD(fn, op)                                              \
    static Value fn(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {  \
        ARGS_CHECK_METHOD("deque." #op, 1, 1);                                \
        return deque_richcmp(ts, args[0], args[1], op);                       \
    }
DEQUE_CMP_METHOD(deque_m_eq, CMP_EQ)
DEQUE_CMP_METHOD(deque_m_ne, CMP_NE)
DEQUE_CMP_METHOD(deque_m_lt, CMP_LT)
DEQUE_CMP_METHOD(deque_m_le, CMP_LE)
DEQUE_CMP_METHOD(deque_m_gt, CMP_GT)
DEQUE_CMP_METHOD(deque_m_ge, CMP_GE)

static Value deque_maxlen_get(TState *ts, Value self) {
    (void)ts;
    int64_t m = dq_maxlen(AS_DEQUE(self));
    return m < 0 ? NONE_VAL : INT_VAL(m);
}

static const GetSetDef deque_getsets[] = {
    {"maxlen", deque_maxlen_get, NULL},
    {NULL, NULL, NULL},
};

static const NativeDef deque_methods[] = {
    {"append", deque_m_append},
    {"appendleft", deque_m_appendleft},
    {"pop", deque_m_pop},
    {"popleft", deque_m_popleft},
    {"extend", deque_m_extend},
    {"extendleft", deque_m_extendleft},
    {"rotate", deque_m_rotate},
    {"clear", deque_m_clear},
    {"copy", deque_m_copy},
    {"__copy__", deque_m_copy},
    {"count", deque_m_count},
    {"index", deque_m_index},
    {"insert", deque_m_insert},
    {"remove", deque_m_remove},
    {"reverse", deque_m_reverse},
    {"__init__", deque_m_init},
    {"__reduce__", deque_m_reduce},
    {"__reversed__", deque_m_reversed},
    {"__len__", deque_m_len},
    {"__getitem__", deque_m_getitem},
    {"__setitem__", deque_m_setitem},
    {"__delitem__", deque_m_delitem},
    {"__contains__", deque_m_contains},
    {"__iter__", deque_m_iter},
    {"__add__", deque_m_add},
    {"__mul__", deque_m_mul},
    {"__rmul__", deque_m_mul},
    {"__iadd__", deque_m_iadd},
    {"__imul__", deque_m_imul},
    {"__repr__", deque_m_repr},
    {"__eq__", deque_m_eq},
    {"__ne__", deque_m_ne},
    {"__lt__", deque_m_lt},
    {"__le__", deque_m_le},
    {"__gt__", deque_m_gt},
    {"__ge__", deque_m_ge},
    {NULL, NULL},
};

static const TypeSpec deque_spec = {
    .name = "deque",
    .kind = OBJ_OPAQUE,
    .obj_size = deque_obj_size,
    .flags = TYPEF_BASETYPE | TYPEF_SEQUENCE,
    .repr = deque_repr,
    .richcmp = deque_richcmp,
    .binop = deque_binop,
    .inplace = deque_inplace,
    .truth = deque_truth,
    .len = deque_len,
    .getitem = deque_getitem,
    .setitem = deque_setitem,
    .contains = deque_contains,
    .iter = deque_iter,
    .new_ = deque_new,
    .trace = deque_trace,
    .finalize = deque_finalize,
    .methods = deque_methods,
    .classmethods = generic_classmethods,
    .getsets = deque_getsets,
};

/* ---- _count_elements ------------------------------------------------------ */

/* _count_elements(mapping, iterable): mapping[x] = mapping.get(x, 0) + 1
 * for each x. A dict (Counter) whose get and __setitem__ are dict's own is
 * updated directly, as in CPython's C helper. */
static Value count_elements(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "_count_elements", nargs, kwnames, 2, 2)) return ERROR_VAL;
    Value mapping = args[0];
    Interp *interp = ts->interp;
    ObjStr *get_name = str_intern_cstr(ts, "get"), *set_name = str_intern_cstr(ts, "__setitem__");
    if (!get_name || !set_name) return ERROR_VAL;
    ObjType *dict_type = interp->types.dict;
    bool fast = IS_DICT(mapping) && type_lookup(OBJ_TYPE(mapping), get_name) == type_lookup(dict_type, get_name) &&
                type_lookup(OBJ_TYPE(mapping), set_name) == type_lookup(dict_type, set_name);
    Value get = EMPTY_VAL;
    if (!fast) {
        get = ops_getattr(ts, mapping, get_name);
        if (IS_ERROR(get)) return get;
    }
    vm_push(ts, get);
    Value it = ops_iter(ts, args[1]);
    Value r = IS_ERROR(it) ? ERROR_VAL : NONE_VAL;
    if (!IS_ERROR(it)) vm_push(ts, it);
    while (!IS_ERROR(r)) {
        Value x = ops_next(ts, it);
        if (IS_EMPTY(x)) break;
        if (IS_ERROR(x)) {
            r = ERROR_VAL;
            break;
        }
        vm_push(ts, x);
        Value old = fast ? dict_get(ts, AS_DICT(mapping), x) : vm_call(ts, get, (Value[]){x, INT_VAL(0)}, 2, NULL);
        Value n = IS_ERROR(old)                                        ? old
                  : IS_EMPTY(old)                                      ? INT_VAL(1)
                  : IS_INT(old) && SMALL_INT_FITS(AS_INT(old) + 1) ? INT_VAL(AS_INT(old) + 1)
                                                                       : ops_binary(ts, BIN_ADD, old, INT_VAL(1));
        if (IS_ERROR(n)) {
            r = ERROR_VAL;
        } else {
            /* Storing may run a user __hash__ or __setitem__: n stays rooted. */
            vm_push(ts, n);
            if ((fast ? dict_set(ts, AS_DICT(mapping), x, n) : ops_setitem(ts, mapping, x, n)) < 0) r = ERROR_VAL;
            vm_pop(ts);
        }
        vm_pop(ts);
    }
    if (!IS_ERROR(it)) vm_pop(ts);
    vm_pop(ts);
    return r;
}

/* ---- _tupleitem ----------------------------------------------------------- */

/* _tupleitem(i): a callable returning item i of the tuple it is given; a
 * namedtuple's fields are property(_tupleitem(i), doc), read without
 * running mini code (CPython's _tuplegetter is a descriptor of its own). */
typedef struct ObjTupleItem {
    Obj obj;
    int64_t index;
} ObjTupleItem;

static Value tupleitem_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "_tupleitem", nargs, kwnames, 1, 1)) return ERROR_VAL;
    int64_t index;
    if (!ops_index(ts, args[0], &index)) return ERROR_VAL;
    ObjTupleItem *g = (ObjTupleItem *)gc_alloc(ts, sizeof(ObjTupleItem), OBJ_OPAQUE, type);
    if (!g) return ERROR_VAL;
    g->index = index;
    return OBJ_VAL(g);
}

static Value tupleitem_call(TState *ts, Value callee, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "_tupleitem", nargs, kwnames, 1, 1)) return ERROR_VAL;
    int64_t i = ((ObjTupleItem *)AS_OBJ(callee))->index;
    if (!IS_TUPLE(args[0]))
        return err_format(ts, EXC(ts)->TypeError, "descriptor for index '%lld' for tuple subclasses doesn't apply to '%s' object",
                          (long long)i, ops_type_name(ts, args[0]));
    ObjTuple *t = AS_TUPLE(args[0]);
    if (i < 0 || (size_t)i >= t->len) return err_format(ts, EXC(ts)->IndexError, "tuple index out of range");
    return t->items[i];
}

static const TypeSpec tupleitem_spec = {
    .name = "_tupleitem",
    .kind = OBJ_OPAQUE,
    .new_ = tupleitem_new,
    .call = tupleitem_call,
};

/* ---- _set_collection_flag -------------------------------------------------- */

/* _set_collection_flag(cls, flags): CPython's __abc_tpflags__ values, 32
 * for a sequence and 64 for a mapping. Built-in types keep their own
 * (CPython leaves immutable types alone too). */
static Value set_collection_flag(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "_set_collection_flag", nargs, kwnames, 2, 2)) return ERROR_VAL;
    if (!IS_TYPE(args[0])) return err_type_not(ts, args[0], "a type");
    int64_t flags;
    if (!args_int(ts, args[1], &flags)) return ERROR_VAL;
    ObjType *t = AS_TYPE(args[0]);
    uint32_t flag = flags == 32 ? TYPEF_SEQUENCE : flags == 64 ? TYPEF_MAPPING : 0;
    if (flag && (t->flags & TYPEF_HEAPTYPE)) t->flags = (t->flags & ~(TYPEF_SEQUENCE | TYPEF_MAPPING)) | flag;
    return NONE_VAL;
}

static const NativeDef module_functions[] = {
    {"_count_elements", count_elements},
    {"_set_collection_flag", set_collection_flag},
    {NULL, NULL},
};

bool mod_collections_init(TState *ts, ObjDict *ns) {
    ObjType *t = type_from_spec(ts, &deque_spec, NULL);
    if (!t) return false;
    ObjStr *module = str_intern_cstr(ts, "collections");
    if (!module) return false;
    t->module = OBJ_VAL(module);
    if (dict_set_str(ts, ns, t->name, OBJ_VAL(t)) < 0) return false;
    ObjType *item = type_from_spec(ts, &tupleitem_spec, NULL);
    ObjStr *own = str_intern_cstr(ts, "_collections");
    if (!item || !own) return false;
    item->module = OBJ_VAL(own);
    if (dict_set_str(ts, ns, item->name, OBJ_VAL(item)) < 0) return false;
    for (const NativeDef *d = module_functions; d->name; d++) {
        ObjNative *fn = native_new(ts, d->name, d->fn, NULL);
        ObjStr *key = str_intern_cstr(ts, d->name);
        if (!fn || !key || dict_set_str(ts, ns, key, OBJ_VAL(fn)) < 0) return false;
    }
    return true;
}
