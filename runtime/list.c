/* list: a growable array of values.
 *
 * GIL-off discipline (see list.h): every mutation holds the list's mutex;
 * readers take no lock, load `len` then `array` (acquire), and bounds-check
 * against both. Writers publish a grown array before the length that needs
 * it, so a reader that sees the new length sees the new array. Item slots
 * are written with release and read with acquire: a racing reader gets an
 * old or a new value, never a torn one, and sees the object it loads whole. Replaced arrays are retired to the
 * collector, never freed while a reader may hold them. */
#include "runtime/list.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/args.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/function.h"
#include "runtime/generic.h"
#include "runtime/int.h"
#include "runtime/iterator.h"
#include "runtime/ops.h"
#include "runtime/range.h"
#include "runtime/str.h"
#include "runtime/strbuf.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/vm.h"

#define EXC(ts) (&(ts)->interp->exc)

/* ---- storage ---------------------------------------------------------- */

static inline size_t len_acquire(const ObjList *l) {
    return atomic_load_explicit(&((ObjList *)l)->len, memory_order_acquire);
}
static inline ValueArray *array_acquire(const ObjList *l) {
    return atomic_load_explicit(&((ObjList *)l)->array, memory_order_acquire);
}
/* Under the lock the writer's own fields need no ordering. */
static inline size_t len_locked(ObjList *l) { return atomic_load_explicit(&l->len, memory_order_relaxed); }
static inline ValueArray *array_locked(ObjList *l) {
    return atomic_load_explicit(&l->array, memory_order_relaxed);
}
static inline void len_publish(ObjList *l, size_t n) { atomic_store_explicit(&l->len, n, memory_order_release); }

/* Release and acquire: an object stored by one thread is seen whole by
 * another that loads it (free on x86-64; needed on ARM). */
static inline Value slot_get(const Value *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void slot_put(Value *p, Value v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

static inline size_t array_bytes(size_t cap) { return sizeof(ValueArray) + cap * sizeof(Value); }

#define MAX_ITEMS (((size_t)PTRDIFF_MAX - sizeof(ValueArray)) / sizeof(Value))

/* Grows the array to hold `need` items (lock held). False when memory or
 * the size runs out; nothing is raised, since the caller holds the lock. */
static bool reserve_locked(TState *ts, ObjList *l, size_t need) {
    ValueArray *a = array_locked(l);
    size_t cap = a ? a->cap : 0;
    if (need <= cap) return true;
    if (need > MAX_ITEMS) return false;
    /* 1.5x: every replaced array stays allocated until the next collection. */
    size_t new_cap = cap + (cap >> 1) + 4;
    if (new_cap < need || new_cap > MAX_ITEMS) new_cap = need;
    ValueArray *b = gc_alloc_buffer(ts, array_bytes(new_cap));
    if (!b) return false;
    b->cap = new_cap;
    size_t n = len_locked(l);
    if (n) memcpy(b->items, a->items, n * sizeof(Value));
    atomic_store_explicit(&l->array, b, memory_order_release);
    if (a) gc_retire_buffer(ts, a, array_bytes(a->cap));
    return true;
}

/* memmove for item slots; element-wise atomics when other threads may be
 * reading the same array. */
static void move_items(TState *ts, Value *dst, const Value *src, size_t n) {
    if (n == 0 || dst == src) return;
    if (ts->interp->gil_enabled) {
        memmove(dst, src, n * sizeof(Value));
    } else if (dst < src) {
        for (size_t i = 0; i < n; i++) slot_put(&dst[i], slot_get(&src[i]));
    } else {
        for (size_t i = n; i-- > 0;) slot_put(&dst[i], slot_get(&src[i]));
    }
}

static ObjList *list_alloc(TState *ts, ObjType *type, size_t capacity) {
    ObjList *l = (ObjList *)gc_alloc(ts, sizeof(ObjList), OBJ_LIST, type ? type : ts->interp->types.list);
    if (!l) return NULL;
    atomic_init(&l->len, 0);
    atomic_init(&l->array, NULL);
    if (capacity) {
        if (capacity > MAX_ITEMS) {
            err_no_memory(ts);
            return NULL;
        }
        ValueArray *a = gc_alloc_buffer(ts, array_bytes(capacity));
        if (!a) {
            err_no_memory(ts);
            return NULL;
        }
        a->cap = capacity;
        atomic_init(&l->array, a);
    }
    return l;
}

ObjList *list_new(TState *ts, size_t capacity) { return list_alloc(ts, NULL, capacity); }

ObjList *list_from(TState *ts, const Value *items, size_t n) {
    ObjList *l = list_alloc(ts, NULL, n);
    if (l && n) {
        memcpy(atomic_load_explicit(&l->array, memory_order_relaxed)->items, items, n * sizeof(Value));
        atomic_store_explicit(&l->len, n, memory_order_relaxed);
    }
    return l;
}

size_t list_len(const ObjList *list) {
    return atomic_load_explicit(&((ObjList *)list)->len, memory_order_relaxed);
}

Value list_get(const ObjList *list, size_t index) {
    size_t n = len_acquire(list);
    ValueArray *a = array_acquire(list);
    if (index >= n || !a || index >= a->cap) return EMPTY_VAL;
    return slot_get(&a->items[index]);
}

bool list_set_index(TState *ts, ObjList *list, int64_t index, Value v) {
    obj_lock(ts, &list->obj);
    int64_t n = (int64_t)len_locked(list);
    if (index < 0) index += n;
    bool in_range = index >= 0 && index < n;
    if (in_range) slot_put(&array_locked(list)->items[index], v);
    obj_unlock(ts, &list->obj);
    return in_range;
}

void list_set(TState *ts, ObjList *list, size_t index, Value v) {
    obj_lock(ts, &list->obj);
    if (index < len_locked(list)) slot_put(&array_locked(list)->items[index], v);
    obj_unlock(ts, &list->obj);
}

int list_append(TState *ts, ObjList *list, Value v) {
    obj_lock(ts, &list->obj);
    size_t n = len_locked(list);
    ValueArray *a = array_locked(list);
    if (!a || n >= a->cap) {
        if (!reserve_locked(ts, list, n + 1)) {
            obj_unlock(ts, &list->obj);
            err_no_memory(ts);
            return -1;
        }
        a = array_locked(list);
    }
    slot_put(&a->items[n], v);
    len_publish(list, n + 1);
    obj_unlock(ts, &list->obj);
    return 0;
}

Value *list_snapshot(TState *ts, ObjList *list, size_t *n) {
    obj_lock(ts, &list->obj);
    size_t len = len_locked(list);
    *n = len;
    Value *items = NULL;
    if (len) {
        items = gc_alloc_buffer(ts, len * sizeof(Value));
        if (items) memcpy(items, array_locked(list)->items, len * sizeof(Value));
    }
    obj_unlock(ts, &list->obj);
    if (len && !items) err_no_memory(ts);
    return items;
}

bool list_unpack(TState *ts, ObjList *list, Value *dst, size_t n) {
    obj_lock(ts, &list->obj);
    bool fits = len_locked(list) == n;
    if (fits) {
        const Value *items = n ? array_locked(list)->items : NULL;
        for (size_t i = 0; i < n; i++) dst[n - 1 - i] = items[i];
    }
    obj_unlock(ts, &list->obj);
    return fits;
}

size_t list_copy_items(TState *ts, ObjList *list, Value *dst, size_t room) {
    obj_lock(ts, &list->obj);
    size_t len = len_locked(list);
    if (len && len <= room) memcpy(dst, array_locked(list)->items, len * sizeof(Value));
    obj_unlock(ts, &list->obj);
    return len;
}

ObjList *list_copy(TState *ts, ObjList *list) {
    ObjList *r = list_alloc(ts, NULL, 0);
    if (!r) return NULL;
    obj_lock(ts, &list->obj);
    size_t n = len_locked(list);
    ValueArray *a = n ? gc_alloc_buffer(ts, array_bytes(n)) : NULL;
    if (a) {
        a->cap = n;
        memcpy(a->items, array_locked(list)->items, n * sizeof(Value));
        atomic_init(&r->array, a);
        atomic_init(&r->len, n);
    }
    obj_unlock(ts, &list->obj);
    if (n && !a) {
        err_no_memory(ts);
        return NULL;
    }
    return r;
}

/* Replaces items [lo, hi) by src[0..m) (lock held, lo <= hi <= len, src
 * not inside the list). False when out of memory. */
static bool replace_locked(TState *ts, ObjList *l, size_t lo, size_t hi, const Value *src, size_t m) {
    size_t n = len_locked(l), new_n = n - (hi - lo) + m;
    if (new_n > n && !reserve_locked(ts, l, new_n)) return false;
    ValueArray *a = array_locked(l);
    if (!a) return true; /* empty, and nothing to insert */
    move_items(ts, &a->items[lo + m], &a->items[hi], n - hi);
    for (size_t k = 0; k < m; k++) slot_put(&a->items[lo + k], src[k]);
    len_publish(l, new_n);
    return true;
}

static void clear_locked(TState *ts, ObjList *l) {
    ValueArray *a = array_locked(l);
    len_publish(l, 0);
    atomic_store_explicit(&l->array, NULL, memory_order_release);
    if (a) gc_retire_buffer(ts, a, array_bytes(a->cap));
}

/* ---- repr guard --------------------------------------------------------- */

/* The reprs in progress on this thread, chained through the C frames
 * doing them (ts->repr_guard), so no node outlives its repr. */
bool list_repr_enter(TState *ts, ReprGuard *g, Obj *o) {
    for (ReprGuard *p = ts->repr_guard; p; p = p->prev)
        if (p->obj == o) return false;
    g->obj = o;
    g->prev = ts->repr_guard;
    ts->repr_guard = g;
    vm_push(ts, OBJ_VAL(o));
    return true;
}

Value list_repr_leave(TState *ts, ReprGuard *g, StrBuf *sb, bool ok) {
    vm_pop(ts);
    ts->repr_guard = g->prev;
    if (!ok) {
        sb_free(sb);
        return ERROR_VAL;
    }
    ObjStr *s = str_from_sb(ts, sb);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

/* ---- slots ------------------------------------------------------------ */

static inline Value list_or_error(ObjList *l) { return l ? OBJ_VAL(l) : ERROR_VAL; }

/* Equality of elements: identity first, as CPython's containers. */
static inline int item_eq(TState *ts, Value a, Value b) { return a == b ? 1 : ops_equal(ts, a, b); }

/* The scan behind index, remove, count and `in`: the items of
 * l[start:stop] that equal x (CPython's list.index clamping), visited
 * holding l's mutex so that the answer is about one state of the list
 * (remove then deletes the very item it found). The mutex is released
 * only while a user __eq__ runs; if the list changed meanwhile, so that
 * the item compared is no longer at its position, the scan starts again.
 * Returns with the mutex held: the first match's position (or, with
 * `count`, how many matched, in *count), -1 if none, -2 after raising. */
static int64_t scan_locked(TState *ts, ObjList *l, Value x, int64_t start, int64_t stop, int64_t *count) {
restart:;
    int64_t n = (int64_t)len_locked(l), lo = start, hi = stop, found = 0;
    if (lo < 0 && (lo += n) < 0) lo = 0;
    if (hi < 0 && (hi += n) < 0) hi = 0;
    for (int64_t i = lo; i < hi && i < (int64_t)len_locked(l); i++) {
        Value v = slot_get(&array_locked(l)->items[i]);
        bool released;
        int eq = ops_equal_holding(ts, &l->obj, v, x, &released);
        if (eq < 0) return -2;
        if (released && (i >= (int64_t)len_locked(l) || slot_get(&array_locked(l)->items[i]) != v)) goto restart;
        if (eq && !count) return i;
        found += eq;
    }
    if (count) *count = found;
    return -1;
}

static bool sb_put(TState *ts, StrBuf *sb, const char *s, size_t n) {
    if (sb_append(sb, s, n)) return true;
    err_no_memory(ts);
    return false;
}

static Value list_repr(TState *ts, Value self) {
    ObjList *l = AS_LIST(self);
    if (list_len(l) == 0) return OBJ_VAL(str_new(ts, "[]", 2));
    ReprGuard g;
    if (!list_repr_enter(ts, &g, &l->obj)) return OBJ_VAL(str_new(ts, "[...]", 5));
    StrBuf sb;
    sb_init(&sb);
    bool ok = sb_put(ts, &sb, "[", 1);
    for (size_t i = 0; ok; i++) {
        Value v = list_get(l, i);
        if (IS_EMPTY(v)) break;
        ok = (i == 0 || sb_put(ts, &sb, ", ", 2)) && str_append_repr(ts, &sb, v);
    }
    ok = ok && sb_put(ts, &sb, "]", 1);
    return list_repr_leave(ts, &g, &sb, ok);
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

/* The list a comparison walks (see dict_for_reading): with the GIL off, a
 * private copy of one state of l, since other threads may be changing it;
 * with the GIL on, l itself. NULL after raising. */
static ObjList *for_reading(TState *ts, ObjList *l) { return ts->interp->gil_enabled ? l : list_copy(ts, l); }

static Value list_richcmp(TState *ts, Value a, Value b, CmpOp op) {
    if (!IS_LIST(a) || !IS_LIST(b)) return NOT_IMPLEMENTED_VAL;
    ObjList *x = AS_LIST(a), *y = AS_LIST(b);
    if ((op == CMP_EQ || op == CMP_NE) && list_len(x) != list_len(y)) return BOOL_VAL(op == CMP_NE);
    vm_push(ts, a);
    vm_push(ts, b);
    if (!(x = for_reading(ts, x))) goto fail;
    vm_push(ts, OBJ_VAL(x));
    if (!(y = for_reading(ts, y))) {
        vm_pop(ts);
        goto fail;
    }
    vm_push(ts, OBJ_VAL(y));
    Value xi = EMPTY_VAL, yi = EMPTY_VAL;
    int eq = 1;
    /* The lists may change while __eq__ runs: re-read every item. */
    for (size_t i = 0;; i++) {
        xi = list_get(x, i);
        yi = list_get(y, i);
        if (IS_EMPTY(xi) || IS_EMPTY(yi)) break;
        if ((eq = item_eq(ts, xi, yi)) != 1) break;
    }
    Value r;
    if (eq < 0) r = ERROR_VAL;
    else if (eq == 1) r = compare_lengths(list_len(x), list_len(y), op);
    else if (op == CMP_EQ || op == CMP_NE) r = BOOL_VAL(op == CMP_NE);
    else r = ops_compare(ts, xi, yi, op);
    vm_pop(ts);
    vm_pop(ts);
    vm_pop(ts);
    vm_pop(ts);
    return r;
fail:
    vm_pop(ts);
    vm_pop(ts);
    return ERROR_VAL;
}

static Value list_repeat(TState *ts, ObjList *l, int64_t count) {
    size_t n;
    Value *items = list_snapshot(ts, l, &n);
    if (!items && n) return ERROR_VAL;
    if (count <= 0 || n == 0) {
        gc_free_buffer(items, n * sizeof(Value));
        return list_or_error(list_new(ts, 0));
    }
    if ((uint64_t)count > MAX_ITEMS / n) {
        gc_free_buffer(items, n * sizeof(Value));
        return err_no_memory(ts);
    }
    ObjList *r = list_new(ts, n * (size_t)count);
    if (r) {
        Value *dst = array_locked(r)->items;
        for (int64_t k = 0; k < count; k++) memcpy(dst + (size_t)k * n, items, n * sizeof(Value));
        len_publish(r, n * (size_t)count);
    }
    gc_free_buffer(items, n * sizeof(Value));
    return list_or_error(r);
}

static Value list_concat(TState *ts, ObjList *x, ObjList *y) {
    size_t n, m;
    Value *a = list_snapshot(ts, x, &n);
    if (!a && n) return ERROR_VAL;
    Value *b = list_snapshot(ts, y, &m);
    ObjList *r = (b || !m) ? list_new(ts, n + m) : NULL;
    if (r && n + m) {
        Value *dst = array_locked(r)->items;
        if (n) memcpy(dst, a, n * sizeof(Value));
        if (m) memcpy(dst + n, b, m * sizeof(Value));
        len_publish(r, n + m);
    }
    gc_free_buffer(a, n * sizeof(Value));
    gc_free_buffer(b, m * sizeof(Value));
    return list_or_error(r);
}

static Value list_binop(TState *ts, BinOp op, Value a, Value b) {
    if (op == BIN_ADD) {
        if (!IS_LIST(a)) return NOT_IMPLEMENTED_VAL;
        if (!IS_LIST(b)) return seq_concat_error(ts, b, "list");
        return list_concat(ts, AS_LIST(a), AS_LIST(b));
    }
    if (op == BIN_MUL) {
        Value seq = IS_LIST(a) ? a : b, n = IS_LIST(a) ? b : a;
        int64_t count;
        int r = seq_repeat_count(ts, n, &count);
        if (r < 0) return ERROR_VAL;
        if (r == 0) return seq_repeat_error(ts, n, n == b);
        return list_repeat(ts, AS_LIST(seq), count);
    }
    return NOT_IMPLEMENTED_VAL;
}

static int list_truth(TState *ts, Value self) {
    (void)ts;
    return list_len(AS_LIST(self)) != 0;
}

static int64_t list_len_slot(TState *ts, Value self) {
    (void)ts;
    return (int64_t)list_len(AS_LIST(self));
}

static Value list_getitem(TState *ts, Value self, Value key) {
    ObjList *l = AS_LIST(self);
    int64_t i;
    switch (seq_subscript(ts, key, &i)) {
    case 1: {
        if (i < 0) i += (int64_t)list_len(l);
        Value v = i < 0 ? EMPTY_VAL : list_get(l, (size_t)i);
        if (IS_EMPTY(v)) return err_format(ts, EXC(ts)->IndexError, "list index out of range");
        return v;
    }
    case 2: {
        int64_t start, stop, step, count;
        if (slice_indices(ts, AS_SLICE(key), (int64_t)list_len(l), &start, &stop, &step, &count) < 0)
            return ERROR_VAL;
        ObjList *r = list_new(ts, count > 0 ? (size_t)count : 0);
        if (!r || count <= 0) return list_or_error(r);
        Value *dst = array_locked(r)->items;
        size_t k = 0;
        obj_lock(ts, &l->obj);
        size_t n = len_locked(l);
        ValueArray *a = array_locked(l);
        /* The list may have shrunk since the indices were computed. */
        for (int64_t j = start; k < (size_t)count && j >= 0 && (size_t)j < n; j += step)
            dst[k++] = a->items[j];
        obj_unlock(ts, &l->obj);
        len_publish(r, k);
        return OBJ_VAL(r);
    }
    case 0:
        return err_format(ts, EXC(ts)->TypeError, "list indices must be integers or slices, not %s",
                          ops_type_name(ts, key));
    default:
        return ERROR_VAL;
    }
}

/* Items a slice assignment copies from a list: short ones (fannkuch's
 * prefix reversals) go to the C stack instead of a malloc'd snapshot. */
#define SMALL_SNAPSHOT 16

/* The items of an assigned value: a tuple's own array, a snapshot in
 * `small` (SMALL_SNAPSHOT values) when they fit, or a snapshot the caller
 * frees (*owned). No allocation that may collect comes between, so the
 * values stay reachable from the source. False after raising. */
static bool assigned_items(TState *ts, Value value, const char *not_iterable, Value *small, Value **src,
                           size_t *m, Value **owned) {
    *owned = *src = NULL;
    *m = 0;
    if (IS_TUPLE(value)) {
        *src = AS_TUPLE(value)->items;
        *m = AS_TUPLE(value)->len;
        return true;
    }
    ObjList *from;
    if (IS_LIST(value)) {
        from = AS_LIST(value);
    } else {
        ObjType *t = val_type(ts, value);
        if (!t->iter && !(t->getitem && (t->flags & TYPEF_HEAPTYPE))) {
            err_format(ts, EXC(ts)->TypeError, "%s", not_iterable);
            return false;
        }
        from = ops_to_list(ts, value);
        if (!from) return false;
    }
    obj_lock(ts, &from->obj);
    size_t n = len_locked(from);
    if (n <= SMALL_SNAPSHOT) {
        if (n) memcpy(small, array_locked(from)->items, n * sizeof(Value));
        obj_unlock(ts, &from->obj);
        *src = small;
        *m = n;
        return true;
    }
    obj_unlock(ts, &from->obj);
    *owned = *src = list_snapshot(ts, from, m);
    return *src || *m == 0;
}

static int slice_assign(TState *ts, ObjList *l, ObjSlice *slice, Value value) {
    int64_t start, stop, step, count;
    if (slice_indices(ts, slice, (int64_t)list_len(l), &start, &stop, &step, &count) < 0) return -1;
    size_t m;
    Value small[SMALL_SNAPSHOT], *src, *owned;
    if (!assigned_items(ts, value,
                        step == 1 ? "can only assign an iterable" : "must assign iterable to extended slice",
                        small, &src, &m, &owned))
        return -1;
    int r = 0;
    if (step == 1) {
        obj_lock(ts, &l->obj);
        size_t n = len_locked(l);
        size_t lo = start < 0 ? 0 : (size_t)start > n ? n : (size_t)start;
        size_t hi = stop < (int64_t)lo ? lo : (size_t)stop > n ? n : (size_t)stop;
        bool ok = replace_locked(ts, l, lo, hi, src, m);
        obj_unlock(ts, &l->obj);
        if (!ok) {
            err_no_memory(ts);
            r = -1;
        }
    } else if ((int64_t)m != count) {
        err_format(ts, EXC(ts)->ValueError, "attempt to assign sequence of size %zu to extended slice of size %lld",
                   m, (long long)count);
        r = -1;
    } else {
        obj_lock(ts, &l->obj);
        size_t n = len_locked(l);
        ValueArray *a = array_locked(l);
        for (int64_t k = 0, j = start; k < count; k++, j += step)
            if (j >= 0 && (size_t)j < n) slot_put(&a->items[j], src[k]);
        obj_unlock(ts, &l->obj);
    }
    if (owned) gc_free_buffer(owned, m * sizeof(Value));
    return r;
}

static int slice_delete(TState *ts, ObjList *l, ObjSlice *slice) {
    int64_t start, stop, step, count;
    if (slice_indices(ts, slice, (int64_t)list_len(l), &start, &stop, &step, &count) < 0) return -1;
    if (count <= 0) return 0;
    if (step < 0) {
        /* The same items, visited upwards. */
        start += (count - 1) * step;
        step = -step;
    }
    obj_lock(ts, &l->obj);
    size_t n = len_locked(l);
    if (step == 1) {
        size_t lo = (size_t)start < n ? (size_t)start : n;
        size_t hi = (size_t)(start + count) < n ? (size_t)(start + count) : n;
        replace_locked(ts, l, lo, hi, NULL, 0);
    } else {
        ValueArray *a = array_locked(l);
        size_t w = (size_t)start < n ? (size_t)start : n;
        for (size_t i = w; i < n; i++) {
            size_t off = i - (size_t)start;
            if (off % (size_t)step == 0 && off / (size_t)step < (size_t)count) continue;
            slot_put(&a->items[w++], slot_get(&a->items[i]));
        }
        len_publish(l, w);
    }
    obj_unlock(ts, &l->obj);
    return 0;
}

static int list_setitem(TState *ts, Value self, Value key, Value value) {
    ObjList *l = AS_LIST(self);
    int64_t i;
    switch (seq_subscript(ts, key, &i)) {
    case 1: {
        if (!IS_EMPTY(value)) {
            if (list_set_index(ts, l, i, value)) return 0;
            err_format(ts, EXC(ts)->IndexError, "list assignment index out of range");
            return -1;
        }
        obj_lock(ts, &l->obj);
        int64_t n = (int64_t)len_locked(l);
        if (i < 0) i += n;
        if (i < 0 || i >= n) {
            obj_unlock(ts, &l->obj);
            err_format(ts, EXC(ts)->IndexError, "list assignment index out of range");
            return -1;
        }
        replace_locked(ts, l, (size_t)i, (size_t)i + 1, NULL, 0);
        obj_unlock(ts, &l->obj);
        return 0;
    }
    case 2:
        return IS_EMPTY(value) ? slice_delete(ts, l, AS_SLICE(key)) : slice_assign(ts, l, AS_SLICE(key), value);
    case 0:
        err_format(ts, EXC(ts)->TypeError, "list indices must be integers or slices, not %s",
                   ops_type_name(ts, key));
        return -1;
    default:
        return -1;
    }
}

static int list_contains(TState *ts, Value self, Value item) {
    ObjList *l = AS_LIST(self);
    vm_push(ts, self);
    obj_lock(ts, &l->obj);
    int64_t i = scan_locked(ts, l, item, 0, INT64_MAX, NULL);
    obj_unlock(ts, &l->obj);
    vm_pop(ts);
    return i >= 0 ? 1 : i == -1 ? 0 : -1;
}

static Value list_iter(TState *ts, Value self) {
    ObjIterator *it = iterator_new(ts, "list_iterator", iter_list_step, self, NONE_VAL);
    return it ? OBJ_VAL(it) : ERROR_VAL;
}

Value list_reversed(TState *ts, ObjList *list) {
    ObjIterator *it = iterator_new(ts, "list_reverseiterator", iter_list_reverse_step, OBJ_VAL(list), NONE_VAL);
    if (!it) return ERROR_VAL;
    it->index = (int64_t)list_len(list) - 1;
    return OBJ_VAL(it);
}

int list_extend(TState *ts, ObjList *list, Value iterable) {
    if (IS_LIST_ITER(ts, iterable) || IS_TUPLE_ITER(ts, iterable)) {
        size_t m;
        Value *owned = NULL, *src;
        if (IS_LIST(iterable)) {
            owned = src = list_snapshot(ts, AS_LIST(iterable), &m); /* l.extend(l) too */
            if (!src && m) return -1;
        } else {
            src = AS_TUPLE(iterable)->items;
            m = AS_TUPLE(iterable)->len;
        }
        obj_lock(ts, &list->obj);
        size_t n = len_locked(list);
        bool ok = replace_locked(ts, list, n, n, src, m);
        obj_unlock(ts, &list->obj);
        if (owned) gc_free_buffer(owned, m * sizeof(Value));
        if (!ok) err_no_memory(ts);
        return ok ? 0 : -1;
    }
    if (IS_RANGE(iterable) && !AS_RANGE(iterable)->big) {
        ObjRange *r = AS_RANGE(iterable);
        obj_lock(ts, &list->obj);
        size_t n = len_locked(list);
        bool ok = r->len <= 0 || reserve_locked(ts, list, n + (size_t)r->len);
        if (ok && r->len > 0) {
            Value *dst = array_locked(list)->items + n;
            int64_t v = r->start;
            for (int64_t k = 0; k < r->len; k++, v = (int64_t)((uint64_t)v + (uint64_t)r->step)) {
                Value x = SMALL_INT_FITS(v) ? INT_VAL(v) : int_from_i64(ts, v);
                if (IS_ERROR(x)) {
                    len_publish(list, n + (size_t)k);
                    obj_unlock(ts, &list->obj);
                    return -1;
                }
                slot_put(&dst[k], x);
            }
            len_publish(list, n + (size_t)r->len);
        }
        obj_unlock(ts, &list->obj);
        if (!ok) err_no_memory(ts);
        return ok ? 0 : -1;
    }
    Value it = ops_iter(ts, iterable);
    if (IS_ERROR(it)) return -1;
    vm_push(ts, it);
    int r = 0;
    for (;;) {
        Value v = ops_next(ts, it);
        if (IS_EMPTY(v)) break;
        if (IS_ERROR(v) || list_append(ts, list, v) < 0) {
            r = -1;
            break;
        }
    }
    vm_pop(ts);
    return r;
}

/* list += iterable and list *= n: mutate in place, return the list. */
static Value list_inplace_concat(TState *ts, ObjList *list, Value iterable) {
    return list_extend(ts, list, iterable) < 0 ? ERROR_VAL : OBJ_VAL(list);
}

static Value list_inplace_repeat(TState *ts, ObjList *list, Value count) {
    int64_t k;
    int r = seq_repeat_count(ts, count, &k);
    if (r < 0) return ERROR_VAL;
    if (r == 0)
        return err_format(ts, EXC(ts)->TypeError, "can't multiply sequence by non-int of type '%s'",
                          ops_type_name(ts, count));
    obj_lock(ts, &list->obj);
    size_t n = len_locked(list);
    bool ok = true;
    if (k <= 0) {
        clear_locked(ts, list);
    } else if (k > 1 && n) {
        ok = (uint64_t)k <= MAX_ITEMS / n && reserve_locked(ts, list, n * (size_t)k);
        if (ok) {
            Value *items = array_locked(list)->items;
            for (int64_t j = 1; j < k; j++)
                for (size_t i = 0; i < n; i++) slot_put(&items[(size_t)j * n + i], items[i]);
            len_publish(list, n * (size_t)k);
        }
    }
    obj_unlock(ts, &list->obj);
    if (!ok) return err_no_memory(ts);
    return OBJ_VAL(list);
}

static Value list_inplace(TState *ts, BinOp op, Value self, Value other) {
    if (op == BIN_ADD) return list_inplace_concat(ts, AS_LIST(self), other);
    if (op == BIN_MUL) return list_inplace_repeat(ts, AS_LIST(self), other);
    return NOT_IMPLEMENTED_VAL;
}

static Value list_new_slot(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    /* A subclass whose mini __init__ takes the arguments gets an empty
     * list; that __init__ fills it (list.__init__ via super()). */
    bool init_consumes = type != ts->interp->types.list &&
                         IS_FUNCTION(type_lookup(type, ts->interp->names.init));
    if (!init_consumes && !args_check(ts, "list", nargs, kwnames, 0, 1)) return ERROR_VAL;
    ObjList *l = list_alloc(ts, type, 0);
    if (!l || init_consumes || nargs == 0) return list_or_error(l);
    vm_push(ts, OBJ_VAL(l));
    int r = list_extend(ts, l, args[0]);
    vm_pop(ts);
    return r < 0 ? ERROR_VAL : OBJ_VAL(l);
}

static void list_trace(GcMarker *m, Obj *self) {
    ObjList *l = (ObjList *)self;
    ValueArray *a = array_locked(l);
    if (a) gc_mark_values(m, a->items, len_locked(l));
}

static void list_finalize(Obj *self) {
    ValueArray *a = array_locked((ObjList *)self);
    if (a) gc_free_buffer(a, array_bytes(a->cap));
}

static size_t list_obj_size(Obj *self) {
    (void)self;
    return sizeof(ObjList);
}

/* ---- sorting ------------------------------------------------------------- */

/* A stable merge sort of a permutation, comparing keys with `<` only (as
 * CPython), so user classes need nothing but __lt__. */
typedef struct SortCtx {
    TState *ts;
    const Value *keys;
    bool reverse;
} SortCtx;

/* Nested tuples deeper than this take the general path, whose recursion
 * is counted. */
#define PLAIN_LESS_DEPTH 8

/* a < b without dispatch for the keys sorts meet most: ints, floats, bools,
 * exact strs, and exact tuples of them (the first unequal items decide, as
 * in tuple.__lt__, `(name, age)` keys for instance). 1 or 0; -1 when the
 * answer needs the general comparison. */
static int plain_less(TState *ts, Value a, Value b, int depth) {
    if (IS_INT(a) && IS_INT(b)) return AS_INT(a) < AS_INT(b);
    if (IS_FLOAT(a) && IS_FLOAT(b)) return AS_FLOAT(a) < AS_FLOAT(b);
    if (IS_BOOL(a) && IS_BOOL(b)) return !AS_BOOL(a) && AS_BOOL(b);
    if (!IS_OBJ(a) || !IS_OBJ(b) || OBJ_TYPE(a) != OBJ_TYPE(b)) return -1;
    ObjType *t = OBJ_TYPE(a);
    if (t == ts->interp->types.str) return str_compare(AS_STR(a), AS_STR(b)) < 0;
    if (t != ts->interp->types.tuple || depth >= PLAIN_LESS_DEPTH) return -1;
    ObjTuple *x = AS_TUPLE(a), *y = AS_TUPLE(b);
    for (size_t i = 0; i < x->len && i < y->len; i++) {
        int eq = dict_key_eq_fast(ts, x->items[i], y->items[i]);
        if (eq < 0) return -1;
        if (!eq) return plain_less(ts, x->items[i], y->items[i], depth + 1);
    }
    return x->len < y->len;
}

/* Is keys[x] ordered before keys[y]? 1, 0, or -1 after raising. */
static int sort_before(SortCtx *c, size_t x, size_t y) {
    Value a = c->keys[c->reverse ? y : x], b = c->keys[c->reverse ? x : y];
    TState *ts = c->ts;
    int less = plain_less(ts, a, b, 0);
    if (less >= 0) return less;
    Value r = ops_compare(ts, a, b, CMP_LT);
    if (IS_ERROR(r)) return -1;
    if (IS_BOOL(r)) return AS_BOOL(r);
    return ops_truth(ts, r);
}

/* Binary insertion: equal keys go after their peers (stability). An item
 * not before its left neighbour stays: one comparison each on sorted runs. */
static int insertion_sort(SortCtx *c, size_t *perm, size_t lo, size_t hi) {
    for (size_t i = lo + 1; i < hi; i++) {
        size_t x = perm[i], left = lo, right = i - 1;
        int moves = sort_before(c, x, perm[right]);
        if (moves <= 0) {
            if (moves < 0) return -1;
            continue;
        }
        while (left < right) {
            size_t mid = left + (right - left) / 2;
            int before = sort_before(c, x, perm[mid]);
            if (before < 0) return -1;
            if (before) right = mid;
            else left = mid + 1;
        }
        memmove(perm + left + 1, perm + left, (i - left) * sizeof *perm);
        perm[left] = x;
    }
    return 0;
}

static int merge_sort(SortCtx *c, size_t *perm, size_t *tmp, size_t lo, size_t hi) {
    if (hi - lo <= 16) return insertion_sort(c, perm, lo, hi);
    size_t mid = lo + (hi - lo) / 2;
    if (merge_sort(c, perm, tmp, lo, mid) < 0 || merge_sort(c, perm, tmp, mid, hi) < 0) return -1;
    int before = sort_before(c, perm[mid], perm[mid - 1]);
    if (before <= 0) return before; /* already in order (or raised) */
    memcpy(tmp + lo, perm + lo, (mid - lo) * sizeof *perm);
    size_t i = lo, j = mid, k = lo;
    while (i < mid && j < hi) {
        before = sort_before(c, perm[j], tmp[i]);
        if (before < 0) return -1;
        perm[k++] = before ? perm[j++] : tmp[i++];
    }
    while (i < mid) perm[k++] = tmp[i++];
    return 0;
}

/* Sorts perm[0..n): keys already in order cost n - 1 comparisons, and
 * strictly descending ones are reversed (stable: no two are equal), as
 * CPython's sort finds such runs; anything else is merge-sorted. */
static int sort_perm(SortCtx *c, size_t *perm, size_t *tmp, size_t n) {
    size_t run = 1;
    int before = sort_before(c, perm[1], perm[0]);
    if (before < 0) return -1;
    bool descending = before;
    while (run < n - 1) {
        before = sort_before(c, perm[run + 1], perm[run]);
        if (before < 0) return -1;
        if (before != descending) break;
        run++;
    }
    if (run == n - 1) {
        for (size_t i = 0; descending && i < n / 2; i++) {
            size_t t = perm[i];
            perm[i] = perm[n - 1 - i];
            perm[n - 1 - i] = t;
        }
        return 0;
    }
    return merge_sort(c, perm, tmp, 0, n);
}

/* Can sort_before order these values without running mini code? All ints,
 * all floats, or all exact strs. */
static bool plainly_ordered(TState *ts, const Value *v, size_t n) {
    ObjType *str = ts->interp->types.str;
    bool ints = true, floats = true, strs = true;
    for (size_t i = 0; i < n && (ints || floats || strs); i++) {
        ints = ints && IS_INT(v[i]);
        floats = floats && IS_FLOAT(v[i]);
        strs = strs && IS_STR(v[i]) && OBJ_TYPE(v[i]) == str;
    }
    return ints || floats || strs;
}

/* Sorts a list of plainly ordered items in place holding its mutex, so the
 * sort is one step for other threads, as in free-threaded CPython (they
 * wait rather than make it fail). 1 sorted; 0 when the items need mini
 * code to compare (the caller sorts a copy); -1 after raising. */
static int sort_locked(TState *ts, ObjList *list, bool reverse) {
    obj_lock(ts, &list->obj);
    size_t n = len_locked(list);
    ValueArray *a = array_locked(list);
    if (n < 2 || !plainly_ordered(ts, a->items, n)) {
        obj_unlock(ts, &list->obj);
        return n < 2;
    }
    size_t *perm = malloc(n * sizeof *perm), *tmp = malloc(n * sizeof *tmp);
    Value *sorted = malloc(n * sizeof *sorted);
    if (perm && tmp && sorted) {
        for (size_t i = 0; i < n; i++) perm[i] = i;
        SortCtx c = {ts, a->items, reverse};
        sort_perm(&c, perm, tmp, n); /* cannot fail: no mini code runs */
        for (size_t i = 0; i < n; i++) sorted[i] = a->items[perm[i]];
        for (size_t i = 0; i < n; i++) slot_put(&a->items[i], sorted[i]);
    }
    obj_unlock(ts, &list->obj);
    bool ok = perm && tmp && sorted;
    free(perm);
    free(tmp);
    free(sorted);
    if (!ok) err_no_memory(ts);
    return ok ? 1 : -1;
}

int list_sort(TState *ts, ObjList *list, Value key, bool reverse) {
    if (IS_NONE(key)) {
        int r = sort_locked(ts, list, reverse);
        if (r != 0) return r < 0 ? -1 : 0;
    }
    size_t n;
    Value *snap = list_snapshot(ts, list, &n);
    if (!snap) return n ? -1 : 0;
    /* Values and keys live in private lists on the VM stack, so they stay
     * alive whatever the comparisons do to the list being sorted. */
    ObjList *vals = list_from(ts, snap, n);
    if (!vals) {
        gc_free_buffer(snap, n * sizeof(Value));
        return -1;
    }
    vm_push(ts, OBJ_VAL(vals));
    ObjList *keys = vals;
    int r = 0;
    if (!IS_NONE(key)) {
        keys = list_new(ts, n);
        if (!keys) {
            r = -1;
        } else {
            vm_push(ts, OBJ_VAL(keys));
            for (size_t i = 0; i < n && r == 0; i++) {
                Value arg = snap[i];
                Value k = ops_call(ts, key, &arg, 1, NULL);
                r = IS_ERROR(k) ? -1 : list_append(ts, keys, k);
            }
        }
    }
    size_t *perm = NULL, *tmp = NULL;
    if (r == 0 && n > 1) {
        perm = malloc(n * sizeof *perm);
        tmp = malloc(n * sizeof *tmp);
        if (!perm || !tmp) {
            err_no_memory(ts);
            r = -1;
        } else {
            for (size_t i = 0; i < n; i++) perm[i] = i;
            SortCtx c = {ts, array_locked(keys)->items, reverse};
            r = sort_perm(&c, perm, tmp, n);
        }
    }
    if (r == 0 && n > 1) {
        obj_lock(ts, &list->obj);
        ValueArray *a = array_locked(list);
        bool unchanged = len_locked(list) == n && a && memcmp(a->items, snap, n * sizeof(Value)) == 0;
        if (unchanged) {
            const Value *v = array_locked(vals)->items;
            for (size_t i = 0; i < n; i++) slot_put(&a->items[i], v[perm[i]]);
        }
        obj_unlock(ts, &list->obj);
        if (!unchanged) {
            err_format(ts, EXC(ts)->ValueError, "list modified during sort");
            r = -1;
        }
    }
    free(perm);
    free(tmp);
    if (keys && keys != vals) vm_pop(ts);
    vm_pop(ts);
    gc_free_buffer(snap, n * sizeof(Value));
    return r;
}

/* ---- methods ------------------------------------------------------------ */

#define SELF AS_LIST(args[0])

static Value list_m_append(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("list.append", 1, 1);
    return list_append(ts, SELF, args[1]) < 0 ? ERROR_VAL : NONE_VAL;
}

static Value list_m_extend(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("list.extend", 1, 1);
    return list_extend(ts, SELF, args[1]) < 0 ? ERROR_VAL : NONE_VAL;
}

static Value list_m_insert(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_CLINIC("list", "insert", 2, 2);
    int64_t i;
    if (!ops_index(ts, args[1], &i)) return ERROR_VAL;
    ObjList *l = SELF;
    obj_lock(ts, &l->obj);
    int64_t n = (int64_t)len_locked(l);
    if (i < 0 && (i += n) < 0) i = 0;
    if (i > n) i = n;
    bool ok = replace_locked(ts, l, (size_t)i, (size_t)i, &args[2], 1);
    obj_unlock(ts, &l->obj);
    return ok ? NONE_VAL : err_no_memory(ts);
}

static Value list_m_pop(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_CLINIC("list", "pop", 0, 1);
    int64_t i = -1;
    if (nargs > 1 && !ops_index(ts, args[1], &i)) return ERROR_VAL;
    ObjList *l = SELF;
    obj_lock(ts, &l->obj);
    int64_t n = (int64_t)len_locked(l);
    if (n == 0) {
        obj_unlock(ts, &l->obj);
        return err_format(ts, EXC(ts)->IndexError, "pop from empty list");
    }
    if (i < 0) i += n;
    if (i < 0 || i >= n) {
        obj_unlock(ts, &l->obj);
        return err_format(ts, EXC(ts)->IndexError, "pop index out of range");
    }
    Value v = slot_get(&array_locked(l)->items[i]);
    replace_locked(ts, l, (size_t)i, (size_t)i + 1, NULL, 0);
    obj_unlock(ts, &l->obj);
    return v;
}

static Value list_m_index(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_CLINIC("list", "index", 1, 3);
    int64_t start = 0, stop = INT64_MAX;
    if (nargs > 2 && !slice_index_value(ts, args[2], false, &start)) return ERROR_VAL;
    if (nargs > 3 && !slice_index_value(ts, args[3], false, &stop)) return ERROR_VAL;
    ObjList *l = SELF;
    obj_lock(ts, &l->obj);
    int64_t i = scan_locked(ts, l, args[1], start, stop, NULL);
    obj_unlock(ts, &l->obj);
    if (i == -2) return ERROR_VAL;
    if (i >= 0) return INT_VAL(i);
    Value r = ops_repr(ts, args[1]);
    if (IS_ERROR(r)) return r;
    return err_format(ts, EXC(ts)->ValueError, "%s is not in list", AS_STR(r)->data);
}

static Value list_m_count(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("list.count", 1, 1);
    ObjList *l = SELF;
    int64_t n = 0;
    obj_lock(ts, &l->obj);
    int64_t r = scan_locked(ts, l, args[1], 0, INT64_MAX, &n);
    obj_unlock(ts, &l->obj);
    return r == -2 ? ERROR_VAL : INT_VAL(n);
}

static Value list_m_remove(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("list.remove", 1, 1);
    ObjList *l = SELF;
    obj_lock(ts, &l->obj);
    int64_t i = scan_locked(ts, l, args[1], 0, INT64_MAX, NULL);
    if (i >= 0) replace_locked(ts, l, (size_t)i, (size_t)i + 1, NULL, 0);
    obj_unlock(ts, &l->obj);
    if (i == -2) return ERROR_VAL;
    if (i < 0) return err_format(ts, EXC(ts)->ValueError, "list.remove(x): x not in list");
    return NONE_VAL;
}

static Value list_m_sort(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"key", "reverse"};
    Value a[2];
    if (!args_bind(ts, "sort", args + 1, nargs - 1, kwnames, names, 2, 0, 0, a)) return ERROR_VAL;
    int reverse = 0;
    if (!IS_EMPTY(a[1]) && (reverse = ops_truth(ts, a[1])) < 0) return ERROR_VAL;
    Value key = IS_EMPTY(a[0]) ? NONE_VAL : a[0];
    return list_sort(ts, SELF, key, reverse) < 0 ? ERROR_VAL : NONE_VAL;
}

static Value list_m_reverse(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("list.reverse", 0, 0);
    ObjList *l = SELF;
    obj_lock(ts, &l->obj);
    size_t n = len_locked(l);
    ValueArray *a = array_locked(l);
    for (size_t i = 0; i < n / 2; i++) {
        Value t = slot_get(&a->items[i]);
        slot_put(&a->items[i], slot_get(&a->items[n - 1 - i]));
        slot_put(&a->items[n - 1 - i], t);
    }
    obj_unlock(ts, &l->obj);
    return NONE_VAL;
}

static Value list_m_copy(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("list.copy", 0, 0);
    return list_or_error(list_copy(ts, SELF));
}

static Value list_m_clear(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("list.clear", 0, 0);
    obj_lock(ts, &SELF->obj);
    clear_locked(ts, SELF);
    obj_unlock(ts, &SELF->obj);
    return NONE_VAL;
}

static Value list_m_init(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("list", 0, 1);
    ObjList *l = SELF;
    obj_lock(ts, &l->obj);
    clear_locked(ts, l);
    obj_unlock(ts, &l->obj);
    if (nargs > 1 && list_extend(ts, l, args[1]) < 0) return ERROR_VAL;
    return NONE_VAL;
}

static Value list_m_reversed(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("list.__reversed__", 0, 0);
    return list_reversed(ts, SELF);
}

static Value list_m_len(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("list.__len__", 0, 0);
    return INT_VAL((int64_t)list_len(SELF));
}
static Value list_m_getitem(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("list.__getitem__", 1, 1);
    return list_getitem(ts, args[0], args[1]);
}
static Value list_m_setitem(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("list.__setitem__", 2, 2);
    return list_setitem(ts, args[0], args[1], args[2]) < 0 ? ERROR_VAL : NONE_VAL;
}
static Value list_m_delitem(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("list.__delitem__", 1, 1);
    return list_setitem(ts, args[0], args[1], EMPTY_VAL) < 0 ? ERROR_VAL : NONE_VAL;
}
static Value list_m_contains(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("list.__contains__", 1, 1);
    int r = list_contains(ts, args[0], args[1]);
    return r < 0 ? ERROR_VAL : BOOL_VAL(r);
}
static Value list_m_iter(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("list.__iter__", 0, 0);
    return list_iter(ts, args[0]);
}
static Value list_m_add(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("list.__add__", 1, 1);
    return list_binop(ts, BIN_ADD, args[0], args[1]);
}
static Value list_m_mul(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("list.__mul__", 1, 1);
    return list_binop(ts, BIN_MUL, args[0], args[1]);
}
static Value list_m_iadd(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("list.__iadd__", 1, 1);
    return list_inplace_concat(ts, SELF, args[1]);
}
static Value list_m_imul(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("list.__imul__", 1, 1);
    return list_inplace_repeat(ts, SELF, args[1]);
}
static Value list_m_repr(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("list.__repr__", 0, 0);
    return list_repr(ts, args[0]);
}

#define LIST_CMP_METHOD(fn, op)                                                     \
    static Value fn(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {        \
        ARGS_CHECK_METHOD("list." #op, 1, 1);                                       \
        return list_richcmp(ts, args[0], args[1], op);                              \
    }
LIST_CMP_METHOD(list_m_eq, CMP_EQ)
LIST_CMP_METHOD(list_m_ne, CMP_NE)
LIST_CMP_METHOD(list_m_lt, CMP_LT)
LIST_CMP_METHOD(list_m_le, CMP_LE)
LIST_CMP_METHOD(list_m_gt, CMP_GT)
LIST_CMP_METHOD(list_m_ge, CMP_GE)

static const NativeDef list_methods[] = {
    {"append", list_m_append},
    {"extend", list_m_extend},
    {"insert", list_m_insert},
    {"pop", list_m_pop},
    {"remove", list_m_remove},
    {"index", list_m_index},
    {"count", list_m_count},
    {"sort", list_m_sort},
    {"reverse", list_m_reverse},
    {"copy", list_m_copy},
    {"clear", list_m_clear},
    {"__init__", list_m_init},
    {"__reversed__", list_m_reversed},
    {"__len__", list_m_len},
    {"__getitem__", list_m_getitem},
    {"__setitem__", list_m_setitem},
    {"__delitem__", list_m_delitem},
    {"__contains__", list_m_contains},
    {"__iter__", list_m_iter},
    {"__add__", list_m_add},
    {"__mul__", list_m_mul},
    {"__rmul__", list_m_mul},
    {"__iadd__", list_m_iadd},
    {"__imul__", list_m_imul},
    {"__repr__", list_m_repr},
    {"__eq__", list_m_eq},
    {"__ne__", list_m_ne},
    {"__lt__", list_m_lt},
    {"__le__", list_m_le},
    {"__gt__", list_m_gt},
    {"__ge__", list_m_ge},
    {NULL, NULL},
};

const TypeSpec list_type_spec = {
    .classmethods = generic_classmethods,
    .name = "list",
    .kind = OBJ_LIST,
    .obj_size = list_obj_size,
    .flags = TYPEF_BASETYPE,
    .repr = list_repr,
    .richcmp = list_richcmp,
    .binop = list_binop,
    .inplace = list_inplace,
    .truth = list_truth,
    .len = list_len_slot,
    .getitem = list_getitem,
    .setitem = list_setitem,
    .contains = list_contains,
    .iter = list_iter,
    .new_ = list_new_slot,
    .trace = list_trace,
    .finalize = list_finalize,
    .methods = list_methods,
};
