/* set and frozenset (see set.h): the algorithms of CPython 3.11's
 * Objects/setobject.c, so that iteration order matches, on mini's locking
 * discipline. */
#include "runtime/set.h"

#include <stdio.h>
#include <string.h>

#include "runtime/args.h"
#include "runtime/error.h"
#include "runtime/function.h"
#include "runtime/generic.h"
#include "runtime/int.h"
#include "runtime/iterator.h"
#include "runtime/list.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/strbuf.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/vm.h"

#define EXC(ts) (&(ts)->interp->exc)

#define SET_MINSIZE 8
#define LINEAR_PROBES 9
#define PERTURB_SHIFT 5
/* The key of a deleted entry: a special value that no mini value is. */
#define DUMMY_KEY (VAL_TAG_SPECIAL | 0x100)

/* ---- atomics ------------------------------------------------------------- */

static inline SetTable *table_acquire(const ObjSet *s) {
    return atomic_load_explicit(&((ObjSet *)s)->table, memory_order_acquire);
}
static inline SetTable *table_locked(ObjSet *s) { return atomic_load_explicit(&s->table, memory_order_relaxed); }
static inline void table_publish(ObjSet *s, SetTable *t) { atomic_store_explicit(&s->table, t, memory_order_release); }
static inline Value key_get(const Value *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void key_put(Value *p, Value v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline int64_t hash_get(const int64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline void hash_put(int64_t *p, int64_t h) { __atomic_store_n(p, h, __ATOMIC_RELAXED); }
static inline size_t used_get(const ObjSet *s) { return atomic_load_explicit(&((ObjSet *)s)->used, memory_order_relaxed); }
static inline void used_put(ObjSet *s, size_t n) { atomic_store_explicit(&s->used, n, memory_order_relaxed); }
static inline size_t fill_get(const ObjSet *s) { return atomic_load_explicit(&((ObjSet *)s)->fill, memory_order_relaxed); }
static inline void fill_put(ObjSet *s, size_t n) { atomic_store_explicit(&s->fill, n, memory_order_relaxed); }
static inline uint32_t version_get(ObjSet *s) { return atomic_load_explicit(&s->version, memory_order_acquire); }
static inline void version_bump(ObjSet *s) { atomic_fetch_add_explicit(&s->version, 1, memory_order_release); }

static inline bool is_live(Value k) { return k != EMPTY_VAL && k != DUMMY_KEY; }
/* A set without a table behaves as the minimum-size empty table. */
static inline size_t mask_of(const SetTable *t) { return t ? t->mask : SET_MINSIZE - 1; }

size_t set_len(const ObjSet *s) { return used_get(s); }

/* ---- tables --------------------------------------------------------------- */

static inline size_t table_bytes(size_t mask) { return sizeof(SetTable) + (mask + 1) * sizeof(SetEntry); }

static SetTable *table_new(TState *ts, size_t size) {
    SetTable *t = gc_alloc_buffer(ts, table_bytes(size - 1));
    if (!t) return NULL;
    t->mask = size - 1;
    for (size_t i = 0; i < size; i++) {
        t->entries[i].key = EMPTY_VAL;
        t->entries[i].hash = 0;
    }
    return t;
}

/* The never-used entry where an item known to be absent goes, in a table
 * without deleted entries (CPython's set_insert_clean). */
static SetEntry *clean_slot(SetTable *t, int64_t hash) {
    size_t mask = t->mask, i = (size_t)hash & mask;
    uint64_t perturb = (uint64_t)hash;
    for (;;) {
        SetEntry *e = &t->entries[i];
        size_t probes = i + LINEAR_PROBES <= mask ? LINEAR_PROBES : 0;
        for (size_t j = 0; j <= probes; j++, e++)
            if (key_get(&e->key) == EMPTY_VAL) return e;
        perturb >>= PERTURB_SHIFT;
        i = (i * 5 + 1 + perturb) & mask;
    }
}

static inline void put_entry(SetEntry *e, Value key, int64_t hash) {
    hash_put(&e->hash, hash);
    key_put(&e->key, key); /* last: publishes the entry */
}

/* The smallest power-of-two table size above minused (at least
 * SET_MINSIZE); 0 when too large. */
static size_t table_size_above(size_t minused) {
    size_t newsize = SET_MINSIZE;
    while (newsize <= minused) {
        if (newsize > ((size_t)PTRDIFF_MAX - sizeof(SetTable)) / sizeof(SetEntry) / 2) return 0;
        newsize <<= 1;
    }
    return newsize;
}

/* CPython's set_table_resize (lock held): the smallest power-of-two table
 * above minused, live items re-inserted in table order. False when out of
 * memory; nothing is raised, since the caller holds the lock. */
static bool resize_locked(TState *ts, ObjSet *s, size_t minused) {
    size_t newsize = table_size_above(minused);
    if (!newsize) return false;
    SetTable *old = table_locked(s);
    size_t used = used_get(s);
    if (newsize == SET_MINSIZE && mask_of(old) == SET_MINSIZE - 1 && fill_get(s) == used) return true;
    SetTable *t = table_new(ts, newsize);
    if (!t) return false;
    for (size_t i = 0; old && i <= old->mask; i++) {
        SetEntry *e = &old->entries[i];
        if (is_live(e->key)) *clean_slot(t, e->hash) = *e;
    }
    fill_put(s, used);
    table_publish(s, t);
    version_bump(s);
    if (old) gc_retire_buffer(ts, old, table_bytes(old->mask));
    return true;
}

/* Where a probe ended. */
typedef struct Probe {
    SetTable *table;
    SetEntry *entry; /* the item, or the never-used entry that ended the probe */
    SetEntry *free;  /* the last deleted entry passed: an insertion reuses it */
} Probe;

/* The comparison of a probe that needs __eq__ (out of line: the probe's
 * loop stays short). 1, 0, -1 after raising, or PROBE_RESTART when s
 * changed meanwhile. */
#define PROBE_RESTART 2
static __attribute__((noinline)) int probe_compare(TState *ts, ObjSet *s, SetTable *t, SetEntry *e, Value k,
                                                   Value key, bool locked) {
    uint32_t version = version_get(s);
    if (locked) obj_unlock(ts, &s->obj);
    vm_push(ts, key);
    int eq = ops_equal(ts, k, key);
    vm_pop(ts);
    if (locked) obj_lock(ts, &s->obj);
    if (eq < 0) return -1;
    /* t is only touched again if it is still s's table. */
    if (table_acquire(s) != t || version_get(s) != version || key_get(&e->key) != k) return PROBE_RESTART;
    return eq;
}

/* CPython's probe sequence (linear runs, then perturbation). 1: found;
 * 0: absent; -1 after raising. With `locked`, the caller holds s's mutex:
 * it is released around __eq__ and held again on return. The key itself
 * is found without a comparison, as in CPython. */
static int probe_full(TState *ts, ObjSet *s, Value key, int64_t hash, bool locked, Probe *p) {
restart:;
    SetTable *t = locked ? table_locked(s) : table_acquire(s);
    p->table = t;
    p->entry = p->free = NULL;
    if (!t) return 0;
    size_t mask = t->mask, i = (size_t)hash & mask;
    uint64_t perturb = (uint64_t)hash;
    for (;;) {
        SetEntry *e = &t->entries[i];
        size_t n = i + LINEAR_PROBES <= mask ? LINEAR_PROBES + 1 : 1;
        for (; n; n--, e++) {
            Value k = key_get(&e->key);
            if (k == key) break;
            if (k == EMPTY_VAL) {
                p->entry = e;
                return 0;
            }
            if (k == DUMMY_KEY) {
                p->free = e;
                continue;
            }
            if (hash_get(&e->hash) != hash) continue;
            int eq = dict_key_eq_fast(ts, k, key);
            if (eq < 0) eq = probe_compare(ts, s, t, e, k, key, locked);
            if (eq == PROBE_RESTART) goto restart;
            if (eq < 0) return -1;
            if (eq) break;
        }
        if (n) {
            p->entry = e;
            return 1;
        }
        perturb >>= PERTURB_SHIFT;
        i = (i * 5 + 1 + perturb) & mask;
    }
}

/* probe_full's usual course, inline and without calls: the sequence
 * ends at the key itself or at a never-used entry; anything else (a
 * deleted entry, an equal hash) is left to probe_full. */
static inline int probe(TState *ts, ObjSet *s, Value key, int64_t hash, bool locked, Probe *p) {
    SetTable *t = locked ? table_locked(s) : table_acquire(s);
    if (t) {
        size_t mask = t->mask, i = (size_t)hash & mask;
        uint64_t perturb = (uint64_t)hash;
        for (;;) {
            SetEntry *e = &t->entries[i];
            size_t n = i + LINEAR_PROBES <= mask ? LINEAR_PROBES + 1 : 1;
            for (; n; n--, e++) {
                Value k = key_get(&e->key);
                if (k == key || k == EMPTY_VAL) {
                    p->table = t;
                    p->entry = e;
                    p->free = NULL;
                    return k == key;
                }
                if (k == DUMMY_KEY || hash_get(&e->hash) == hash) return probe_full(ts, s, key, hash, locked, p);
            }
            perturb >>= PERTURB_SHIFT;
            i = (i * 5 + 1 + perturb) & mask;
        }
    }
    return probe_full(ts, s, key, hash, locked, p);
}

/* ---- items ---------------------------------------------------------------- */

/* CPython's set_add_entry, with s's mutex held (released only around a
 * user __eq__): 0, -1 after raising, or ADD_NO_MEMORY, which the caller
 * raises once it has released the mutex. */
#define ADD_NO_MEMORY (-2)
static int add_locked(TState *ts, ObjSet *s, Value key, int64_t hash) {
    Probe p;
    int r = probe(ts, s, key, hash, true, &p);
    if (r != 0) return r < 0 ? -1 : 0;
    bool ok = true;
    if (p.free) {
        put_entry(p.free, key, hash);
        used_put(s, used_get(s) + 1);
    } else {
        SetTable *t = p.table;
        SetEntry *e = p.entry;
        if (!t) {
            t = table_new(ts, SET_MINSIZE);
            if (!t) return ADD_NO_MEMORY;
            table_publish(s, t);
            e = &t->entries[(size_t)hash & t->mask];
        }
        put_entry(e, key, hash);
        size_t fill = fill_get(s) + 1, used = used_get(s) + 1;
        fill_put(s, fill);
        used_put(s, used);
        if (fill * 5 >= t->mask * 3) ok = resize_locked(ts, s, used > 50000 ? used * 2 : used * 4);
    }
    version_bump(s);
    return ok ? 0 : ADD_NO_MEMORY;
}

/* Ends an add_locked run: releases the mutex and raises a deferred
 * MemoryError. */
static int add_done(TState *ts, ObjSet *s, int r) {
    obj_unlock(ts, &s->obj);
    if (r == ADD_NO_MEMORY) {
        err_no_memory(ts);
        return -1;
    }
    return r;
}

static int add_entry(TState *ts, ObjSet *s, Value key, int64_t hash) {
    obj_lock(ts, &s->obj);
    return add_done(ts, s, add_locked(ts, s, key, hash));
}

/* 1 removed, 0 absent, -1 after raising. */
static int discard_entry(TState *ts, ObjSet *s, Value key, int64_t hash) {
    obj_lock(ts, &s->obj);
    Probe p;
    int r = probe(ts, s, key, hash, true, &p);
    if (r == 1) {
        key_put(&p.entry->key, DUMMY_KEY);
        hash_put(&p.entry->hash, -1);
        used_put(s, used_get(s) - 1);
        version_bump(s);
    }
    obj_unlock(ts, &s->obj);
    return r;
}

static int contains_entry(TState *ts, ObjSet *s, Value key, int64_t hash) {
    Probe p;
    return probe(ts, s, key, hash, false, &p);
}

static void clear_set(TState *ts, ObjSet *s) {
    obj_lock(ts, &s->obj);
    SetTable *old = table_locked(s);
    table_publish(s, NULL);
    used_put(s, 0);
    fill_put(s, 0);
    version_bump(s);
    obj_unlock(ts, &s->obj);
    if (old) gc_retire_buffer(ts, old, table_bytes(old->mask));
}

bool set_next(ObjSet *s, size_t *pos, Value *key, int64_t *hash) {
    SetTable *t = table_acquire(s);
    if (!t) return false;
    while (*pos <= t->mask) {
        SetEntry *e = &t->entries[(*pos)++];
        Value k = key_get(&e->key);
        if (!is_live(k)) continue;
        *key = k;
        if (hash) *hash = hash_get(&e->hash);
        return true;
    }
    return false;
}

int set_add(TState *ts, ObjSet *s, Value v) {
    int64_t h;
    if (ops_hash(ts, v, &h) < 0) return -1;
    return add_entry(ts, s, v, h);
}

/* The key and hash to look an element up with. A set (unhashable) is
 * looked up as the frozenset of its items, as CPython does; that frozenset
 * is then pushed on the VM stack and *pushed is set. */
static int lookup_key(TState *ts, Value *key, int64_t *hash, bool *pushed) {
    *pushed = false;
    if (ops_hash(ts, *key, hash) == 0) return 0;
    if (!IS_SET(*key) || !err_matches(ts, EXC(ts)->TypeError)) return -1;
    err_clear(ts);
    Value f = set_from_iterable(ts, ts->interp->types.frozenset, *key);
    if (IS_ERROR(f)) return -1;
    vm_push(ts, f);
    *pushed = true;
    *key = f;
    return ops_hash(ts, f, hash);
}

int set_contains(TState *ts, ObjSet *s, Value v) {
    int64_t h;
    if (ops_hash_direct(v, &h)) return contains_entry(ts, s, v, h);
    bool pushed;
    int r = lookup_key(ts, &v, &h, &pushed);
    if (r == 0) r = contains_entry(ts, s, v, h);
    if (pushed) vm_pop(ts);
    return r;
}

/* set.discard / set.remove: 1 removed, 0 absent, -1 after raising. */
static int set_discard(TState *ts, ObjSet *s, Value v) {
    int64_t h;
    bool pushed;
    int r = lookup_key(ts, &v, &h, &pushed);
    if (r == 0) r = discard_entry(ts, s, v, h);
    if (pushed) vm_pop(ts);
    return r;
}

/* ---- bulk operations (CPython's set_merge, set_update_internal...) -------- */

static inline bool is_frozen(TState *ts, const ObjSet *s) {
    return type_is_subtype(s->obj.type, ts->interp->types.frozenset);
}

/* The built-in type results of operations on s take: set or frozenset,
 * never a subclass (as CPython). */
static inline ObjType *base_type(TState *ts, const ObjSet *s) {
    return is_frozen(ts, s) ? ts->interp->types.frozenset : ts->interp->types.set;
}

ObjSet *set_new(TState *ts, ObjType *type) {
    ObjSet *s = (ObjSet *)gc_alloc(ts, sizeof(ObjSet), OBJ_SET, type ? type : ts->interp->types.set);
    if (!s) return NULL;
    atomic_init(&s->table, NULL);
    atomic_init(&s->used, 0);
    atomic_init(&s->fill, 0);
    atomic_init(&s->version, 0);
    s->finger = 0;
    return s;
}

static inline Value set_or_error(ObjSet *s) { return s ? OBJ_VAL(s) : ERROR_VAL; }

/* A private copy of s, its table copied under s's mutex, for operations
 * that read a set other threads may be changing: they see one state of
 * it, whose size agrees with its table. A set object rather than a bare
 * table, so that the collector keeps its items alive while mini code
 * (__eq__) runs. NULL after raising. */
static ObjSet *snapshot(TState *ts, ObjSet *s) {
    ObjSet *copy = set_new(ts, ts->interp->types.set);
    if (!copy) return NULL;
    obj_lock(ts, &s->obj);
    SetTable *t = table_locked(s), *ct = NULL;
    size_t used = used_get(s);
    if (t && used && (ct = gc_alloc_buffer(ts, table_bytes(t->mask)))) {
        memcpy(ct, t, table_bytes(t->mask));
        atomic_init(&copy->table, ct);
        atomic_init(&copy->used, used);
        atomic_init(&copy->fill, fill_get(s));
    }
    obj_unlock(ts, &s->obj);
    if (used && !ct) {
        err_no_memory(ts);
        return NULL;
    }
    return copy;
}

/* s takes src's table (src is private and is left empty), s's mutex held:
 * what intersection_update and a merge into an empty set do, as CPython's
 * set_swap_bodies. Returns s's old table, for the caller to retire once
 * it has released the mutex. */
static SetTable *take_table_locked(ObjSet *s, ObjSet *src) {
    SetTable *old = table_locked(s);
    table_publish(s, table_locked(src));
    fill_put(s, fill_get(src));
    used_put(s, used_get(src));
    version_bump(s);
    table_publish(src, NULL);
    fill_put(src, 0);
    used_put(src, 0);
    return old;
}

static void take_table(TState *ts, ObjSet *s, ObjSet *src) {
    obj_lock(ts, &s->obj);
    SetTable *old = take_table_locked(s, src);
    obj_unlock(ts, &s->obj);
    if (old) gc_retire_buffer(ts, old, table_bytes(old->mask));
}

/* A walk over the items of a set that may be shared. With the GIL off it
 * reads one state of the set, even while other threads change it: the
 * live keys and their hashes, gathered under the set's mutex into a
 * private list (which the collector sees on the VM stack) and a hash
 * array. With the GIL on, no other thread runs C code meanwhile, so it
 * walks the set's table itself, as CPython does. */
typedef struct SetWalk {
    ObjSet *set;     /* GIL on: the set walked */
    ObjList *keys;   /* GIL off: its keys... */
    int64_t *hashes; /* ...and their hashes */
    size_t pos;
    bool pushed;     /* something is on the VM stack until walk_end */
} SetWalk;

static bool walk_begin(TState *ts, ObjSet *s, SetWalk *w) {
    *w = (SetWalk){0};
    if (ts->interp->gil_enabled) {
        w->set = s;
    } else {
        obj_lock(ts, &s->obj);
        SetTable *t = table_locked(s);
        size_t n = used_get(s), k = 0;
        w->keys = list_new(ts, n); /* allocating never collects */
        w->hashes = w->keys && n ? gc_alloc_buffer(ts, n * sizeof(int64_t)) : NULL;
        if (w->keys && (w->hashes || !n)) {
            /* Filled in place: the list is private until walk_begin returns. */
            ValueArray *a = atomic_load_explicit(&w->keys->array, memory_order_relaxed);
            Value *items = a ? a->items : NULL;
            for (size_t i = 0; t && i <= t->mask; i++) {
                if (!is_live(t->entries[i].key)) continue;
                items[k] = t->entries[i].key;
                w->hashes[k++] = t->entries[i].hash;
            }
            atomic_store_explicit(&w->keys->len, k, memory_order_relaxed);
        }
        obj_unlock(ts, &s->obj);
        if (!w->keys || (n && !w->hashes)) {
            err_no_memory(ts);
            return false;
        }
    }
    vm_push(ts, w->set ? OBJ_VAL(w->set) : OBJ_VAL(w->keys));
    w->pushed = true;
    return true;
}

static inline bool walk_next(SetWalk *w, Value *key, int64_t *hash) {
    if (w->set) return set_next(w->set, &w->pos, key, hash);
    *key = list_get(w->keys, w->pos);
    if (IS_EMPTY(*key)) return false;
    *hash = w->hashes[w->pos++];
    return true;
}

static inline void walk_end(TState *ts, SetWalk *w) {
    if (!w->pushed) return;
    vm_pop(ts);
    if (w->hashes) gc_free_buffer(w->hashes, list_len(w->keys) * sizeof(int64_t));
}

/* Copies the items of `from` (a snapshot) into so's table when so is
 * empty: no comparisons needed (lock held). False when out of memory. */
static bool copy_into_empty(TState *ts, ObjSet *so, const SetTable *from, size_t used, size_t fill) {
    SetTable *st = table_locked(so);
    if (!st) {
        if (!(st = table_new(ts, SET_MINSIZE))) return false;
        table_publish(so, st);
    }
    /* Same size and no deleted entries: the same slots. */
    bool same_layout = st->mask == from->mask && fill == used;
    for (size_t i = 0; i <= from->mask; i++) {
        const SetEntry *e = &from->entries[i];
        if (is_live(e->key)) put_entry(same_layout ? &st->entries[i] : clean_slot(st, e->hash), e->key, e->hash);
    }
    fill_put(so, used);
    used_put(so, used);
    version_bump(so);
    return true;
}

/* CPython's set_merge: so |= other, as one step with respect to other
 * threads (other is read through a snapshot, so's mutex is held). */
static int merge(TState *ts, ObjSet *so, ObjSet *other) {
    if (other == so) return 0;
    /* Read through a snapshot with the GIL off (see SetWalk): a whole
     * table, which an empty so may simply take. */
    ObjSet *from = ts->interp->gil_enabled ? other : snapshot(ts, other);
    if (!from) return -1;
    vm_push(ts, OBJ_VAL(from));
    size_t used = used_get(from);
    obj_lock(ts, &so->obj);
    SetTable *ft = table_locked(from);
    if (from != other && fill_get(so) == 0 && ft && fill_get(from) == used &&
        ft->mask + 1 == ((used * 5 < mask_of(table_locked(so)) * 3) ? mask_of(table_locked(so)) + 1
                                                                     : table_size_above(used * 2))) {
        /* An empty set merging a private snapshot that has no deleted
         * entries and the size so would get: copying it would fill the very
         * same slots, so so takes the snapshot's table instead. */
        SetTable *old = take_table_locked(so, from);
        obj_unlock(ts, &so->obj);
        if (old) gc_retire_buffer(ts, old, table_bytes(old->mask));
        vm_pop(ts);
        return 0;
    }
    /* One resize up front rather than several on the way. */
    int r = used == 0 || (fill_get(so) + used) * 5 < mask_of(table_locked(so)) * 3 ||
                    resize_locked(ts, so, (used_get(so) + used) * 2)
                ? 0
                : ADD_NO_MEMORY;
    if (r == 0 && used && fill_get(so) == 0) {
        r = copy_into_empty(ts, so, table_acquire(from), used, fill_get(from)) ? 0 : ADD_NO_MEMORY;
    } else {
        size_t pos = 0;
        Value k;
        int64_t h;
        while (r == 0 && set_next(from, &pos, &k, &h)) r = add_locked(ts, so, k, h);
    }
    r = add_done(ts, so, r);
    vm_pop(ts);
    return r;
}

int set_update(TState *ts, ObjSet *s, Value iterable) {
    if (IS_SET(iterable)) return merge(ts, s, AS_SET(iterable));
    if (IS_DICT(iterable) && OBJ_TYPE(iterable) == ts->interp->types.dict) {
        ObjDict *d = dict_for_reading(ts, AS_DICT(iterable));
        if (!d) return -1;
        vm_push(ts, OBJ_VAL(d));
        size_t n = dict_len(d);
        obj_lock(ts, &s->obj);
        int r = (fill_get(s) + n) * 5 < mask_of(table_locked(s)) * 3 || resize_locked(ts, s, (used_get(s) + n) * 2)
                    ? 0
                    : ADD_NO_MEMORY;
        size_t pos = 0;
        Value k, v;
        int64_t h;
        while (r == 0 && dict_next_hashed(d, &pos, &k, &v, &h)) r = add_locked(ts, s, k, h);
        r = add_done(ts, s, r);
        vm_pop(ts);
        return r;
    }
    Value it = ops_iter(ts, iterable);
    if (IS_ERROR(it)) return -1;
    vm_push(ts, it);
    int r = 0;
    for (;;) {
        Value x = ops_next(ts, it);
        if (IS_EMPTY(x)) break;
        if (IS_ERROR(x) || set_add(ts, s, x) < 0) {
            r = -1;
            break;
        }
    }
    vm_pop(ts);
    return r;
}

Value set_from_iterable(TState *ts, ObjType *type, Value iterable) {
    ObjSet *s = set_new(ts, type);
    if (!s) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(s));
    int r = set_update(ts, s, iterable);
    vm_pop(ts);
    return r < 0 ? ERROR_VAL : OBJ_VAL(s);
}

static Value copy_as(TState *ts, ObjSet *s, ObjType *type) { return set_from_iterable(ts, type, OBJ_VAL(s)); }

Value set_intersection(TState *ts, ObjSet *so, Value other) {
    ObjSet *result = set_new(ts, base_type(ts, so));
    if (!result) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(result));
    int r = 0;
    if (IS_SET(other)) {
        /* Walk the smaller set, look up in the other. */
        ObjSet *big = so, *small = AS_SET(other);
        if (set_len(small) > set_len(big)) {
            big = small;
            small = so;
        }
        SetWalk w;
        Value k;
        int64_t h;
        r = walk_begin(ts, small, &w) ? 0 : -1;
        while (r == 0 && walk_next(&w, &k, &h)) {
            int c = contains_entry(ts, big, k, h);
            r = c < 0 ? -1 : c ? add_entry(ts, result, k, h) : 0;
        }
        walk_end(ts, &w);
    } else {
        Value it = ops_iter(ts, other);
        r = IS_ERROR(it) ? -1 : 0;
        if (r == 0) vm_push(ts, it);
        while (r == 0) {
            Value x = ops_next(ts, it);
            if (IS_EMPTY(x)) break;
            int64_t h;
            if (IS_ERROR(x) || ops_hash(ts, x, &h) < 0) {
                r = -1;
                break;
            }
            int c = contains_entry(ts, so, x, h);
            r = c < 0 ? -1 : c ? add_entry(ts, result, x, h) : 0;
        }
        if (!IS_ERROR(it)) vm_pop(ts);
    }
    vm_pop(ts);
    return r < 0 ? ERROR_VAL : OBJ_VAL(result);
}

static int intersection_update(TState *ts, ObjSet *s, Value other) {
    Value tmp = set_intersection(ts, s, other);
    if (IS_ERROR(tmp)) return -1;
    take_table(ts, s, AS_SET(tmp));
    return 0;
}

int set_difference_update(TState *ts, ObjSet *so, Value other) {
    if (IS_SET(other) && AS_SET(other) == so) {
        clear_set(ts, so);
        return 0;
    }
    int r = 0;
    if (IS_SET(other)) {
        /* Much bigger than so: only the common items matter. */
        Value src = other;
        if ((set_len(AS_SET(other)) >> 3) > set_len(so)) {
            src = set_intersection(ts, so, other);
            if (IS_ERROR(src)) return -1;
        }
        vm_push(ts, src);
        SetWalk w;
        Value k;
        int64_t h;
        r = walk_begin(ts, AS_SET(src), &w) ? 0 : -1;
        while (r == 0 && walk_next(&w, &k, &h)) r = discard_entry(ts, so, k, h) < 0 ? -1 : 0;
        walk_end(ts, &w);
        vm_pop(ts);
    } else {
        Value it = ops_iter(ts, other);
        if (IS_ERROR(it)) return -1;
        vm_push(ts, it);
        for (;;) {
            Value x = ops_next(ts, it);
            if (IS_EMPTY(x)) break;
            int64_t h;
            if (IS_ERROR(x) || ops_hash(ts, x, &h) < 0 || discard_entry(ts, so, x, h) < 0) {
                r = -1;
                break;
            }
        }
        vm_pop(ts);
    }
    if (r < 0) return -1;
    /* More than a quarter deleted entries: rebuild. */
    obj_lock(ts, &so->obj);
    size_t used = used_get(so);
    bool ok = fill_get(so) - used <= mask_of(table_locked(so)) / 4 ||
              resize_locked(ts, so, used > 50000 ? used * 2 : used * 4);
    obj_unlock(ts, &so->obj);
    if (!ok) err_no_memory(ts);
    return ok ? 0 : -1;
}

/* Each item of src: removed from so if there, added if not. */
static int toggle_items(TState *ts, ObjSet *so, ObjSet *src) {
    SetWalk w;
    if (!walk_begin(ts, src, &w)) return -1;
    Value k;
    int64_t h;
    int r = 0;
    while (r == 0 && walk_next(&w, &k, &h)) {
        r = discard_entry(ts, so, k, h);
        r = r < 0 ? -1 : r == 0 ? add_entry(ts, so, k, h) : 0;
    }
    walk_end(ts, &w);
    return r;
}

int set_symmetric_difference_update(TState *ts, ObjSet *so, Value other) {
    if (IS_SET(other) && AS_SET(other) == so) {
        clear_set(ts, so);
        return 0;
    }
    if (IS_DICT(other) && OBJ_TYPE(other) == ts->interp->types.dict) {
        ObjDict *d = dict_for_reading(ts, AS_DICT(other));
        if (!d) return -1;
        vm_push(ts, OBJ_VAL(d));
        size_t pos = 0;
        Value k, v;
        int64_t h;
        int r = 0;
        while (r == 0 && dict_next_hashed(d, &pos, &k, &v, &h)) {
            r = discard_entry(ts, so, k, h);
            r = r < 0 ? -1 : r == 0 ? add_entry(ts, so, k, h) : 0;
        }
        vm_pop(ts);
        return r;
    }
    if (IS_SET(other)) return toggle_items(ts, so, AS_SET(other));
    Value tmp = set_from_iterable(ts, base_type(ts, so), other);
    if (IS_ERROR(tmp)) return -1;
    vm_push(ts, tmp);
    int r = toggle_items(ts, so, AS_SET(tmp));
    vm_pop(ts);
    return r;
}

static Value union_of(TState *ts, ObjSet *so, Value other) {
    Value r = copy_as(ts, so, base_type(ts, so));
    if (IS_ERROR(r)) return r;
    vm_push(ts, r);
    int rc = set_update(ts, AS_SET(r), other);
    vm_pop(ts);
    return rc < 0 ? ERROR_VAL : r;
}

static Value difference_of(TState *ts, ObjSet *so, Value other) {
    size_t other_size;
    bool is_dict = IS_DICT(other) && OBJ_TYPE(other) == ts->interp->types.dict;
    if (IS_SET(other)) other_size = set_len(AS_SET(other));
    else if (is_dict) other_size = dict_len(AS_DICT(other));
    else other_size = 0;
    if ((!IS_SET(other) && !is_dict) || (set_len(so) >> 2) > other_size) {
        /* Copy, then remove other's items. */
        Value r = copy_as(ts, so, base_type(ts, so));
        if (IS_ERROR(r)) return r;
        vm_push(ts, r);
        int rc = set_difference_update(ts, AS_SET(r), other);
        vm_pop(ts);
        return rc < 0 ? ERROR_VAL : r;
    }
    ObjSet *result = set_new(ts, base_type(ts, so));
    if (!result) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(result));
    SetWalk w;
    Value k;
    int64_t h;
    int r = walk_begin(ts, so, &w) ? 0 : -1;
    while (r == 0 && walk_next(&w, &k, &h)) {
        int present;
        if (is_dict) {
            Value v = dict_get_hashed(ts, AS_DICT(other), k, h);
            present = IS_ERROR(v) ? -1 : !IS_EMPTY(v);
        } else {
            present = contains_entry(ts, AS_SET(other), k, h);
        }
        r = present < 0 ? -1 : present ? 0 : add_entry(ts, result, k, h);
    }
    walk_end(ts, &w);
    vm_pop(ts);
    return r < 0 ? ERROR_VAL : OBJ_VAL(result);
}

static Value symmetric_difference_of(TState *ts, ObjSet *so, Value other) {
    Value r = set_from_iterable(ts, base_type(ts, so), other);
    if (IS_ERROR(r)) return r;
    vm_push(ts, r);
    int rc = toggle_items(ts, AS_SET(r), so);
    vm_pop(ts);
    return rc < 0 ? ERROR_VAL : r;
}

/* Is every item of a in b? 1, 0, -1 after raising. */
static int is_subset(TState *ts, ObjSet *a, ObjSet *b) {
    if (set_len(a) > set_len(b)) return 0;
    SetWalk w;
    if (!walk_begin(ts, a, &w)) return -1;
    Value k;
    int64_t h;
    int c = 1;
    while (c == 1 && walk_next(&w, &k, &h)) c = contains_entry(ts, b, k, h);
    walk_end(ts, &w);
    return c;
}

/* s |= t, s &= t, s -= t, s ^= t on a set (not a frozenset): mutates s and
 * returns it; NotImplemented when other is not a set or frozenset. */
static Value set_inplace_binop(TState *ts, BinOp op, Value self, Value other) {
    ObjSet *s = AS_SET(self);
    if (!IS_SET(other) || is_frozen(ts, s)) return NOT_IMPLEMENTED_VAL;
    int r;
    switch (op) {
    case BIN_OR: r = set_update(ts, s, other); break;
    case BIN_AND: r = intersection_update(ts, s, other); break;
    case BIN_SUB: r = set_difference_update(ts, s, other); break;
    case BIN_XOR: r = set_symmetric_difference_update(ts, s, other); break;
    default: return NOT_IMPLEMENTED_VAL;
    }
    return r < 0 ? ERROR_VAL : OBJ_VAL(s);
}

/* ---- slots ------------------------------------------------------------------ */

static bool sb_put(TState *ts, StrBuf *sb, const char *s, size_t n) {
    if (sb_append(sb, s, n)) return true;
    err_no_memory(ts);
    return false;
}

static Value set_repr(TState *ts, Value self) {
    ObjSet *s = AS_SET(self);
    /* set() and frozenset() print as {...}, subclasses as Name({...}). */
    bool bare = s->obj.type == ts->interp->types.set;
    const char *name = s->obj.type->name->data;
    if (set_len(s) == 0) {
        ObjStr *r = str_printf(ts, "%s()", name);
        return r ? OBJ_VAL(r) : ERROR_VAL;
    }
    ReprGuard g;
    if (!list_repr_enter(ts, &g, &s->obj)) {
        ObjStr *r = str_printf(ts, "%s(...)", name);
        return r ? OBJ_VAL(r) : ERROR_VAL;
    }
    StrBuf sb;
    sb_init(&sb);
    bool ok = bare || (sb_put(ts, &sb, name, strlen(name)) && sb_put(ts, &sb, "(", 1));
    ok = ok && sb_put(ts, &sb, "{", 1);
    size_t pos = 0;
    Value k;
    for (bool first = true; ok && set_next(s, &pos, &k, NULL); first = false)
        ok = (first || sb_put(ts, &sb, ", ", 2)) && str_append_repr(ts, &sb, k);
    ok = ok && sb_put(ts, &sb, "}", 1) && (bare || sb_put(ts, &sb, ")", 1));
    return list_repr_leave(ts, &g, &sb, ok);
}

/* CPython's frozenset hash: an order-independent mix of the item hashes. */
static int frozenset_hash(TState *ts, Value self, int64_t *out) {
    (void)ts;
    ObjSet *s = AS_SET(self);
    uint64_t hash = 0;
    size_t pos = 0;
    Value k;
    int64_t h;
    while (set_next(s, &pos, &k, &h)) {
        uint64_t x = (uint64_t)h;
        hash ^= ((x ^ 89869747ULL) ^ (x << 16)) * 3644798167ULL;
    }
    hash ^= ((uint64_t)set_len(s) + 1) * 1927868237ULL;
    hash ^= (hash >> 11) ^ (hash >> 25);
    hash = hash * 69069U + 907133923ULL;
    if (hash == (uint64_t)-1) hash = 590923713ULL;
    *out = (int64_t)hash;
    return 0;
}

static Value set_richcmp(TState *ts, Value a, Value b, CmpOp op) {
    if (!IS_SET(a) || !IS_SET(b)) return NOT_IMPLEMENTED_VAL;
    ObjSet *x = AS_SET(a), *y = AS_SET(b);
    size_t nx = set_len(x), ny = set_len(y);
    int r;
    vm_push(ts, a);
    vm_push(ts, b);
    switch (op) {
    case CMP_EQ:
    case CMP_NE:
        r = nx == ny ? is_subset(ts, x, y) : 0;
        if (r >= 0 && op == CMP_NE) r = !r;
        break;
    case CMP_LE: r = is_subset(ts, x, y); break;
    case CMP_LT: r = nx < ny ? is_subset(ts, x, y) : 0; break;
    case CMP_GE: r = is_subset(ts, y, x); break;
    default: r = ny < nx ? is_subset(ts, y, x) : 0; break;
    }
    vm_pop(ts);
    vm_pop(ts);
    return r < 0 ? ERROR_VAL : BOOL_VAL(r);
}

static Value set_binop(TState *ts, BinOp op, Value a, Value b) {
    if (!IS_SET(a) || !IS_SET(b)) return NOT_IMPLEMENTED_VAL;
    ObjSet *x = AS_SET(a);
    vm_push(ts, a);
    vm_push(ts, b);
    Value r;
    switch (op) {
    case BIN_OR: r = union_of(ts, x, b); break;
    case BIN_AND: r = set_intersection(ts, x, b); break;
    case BIN_SUB: r = difference_of(ts, x, b); break;
    case BIN_XOR: r = symmetric_difference_of(ts, x, b); break;
    default: r = NOT_IMPLEMENTED_VAL; break;
    }
    vm_pop(ts);
    vm_pop(ts);
    return r;
}

static int set_truth(TState *ts, Value self) {
    (void)ts;
    return set_len(AS_SET(self)) != 0;
}

static int64_t set_len_slot(TState *ts, Value self) {
    (void)ts;
    return (int64_t)set_len(AS_SET(self));
}

static int set_contains_slot(TState *ts, Value self, Value item) { return set_contains(ts, AS_SET(self), item); }

static Value set_iter(TState *ts, Value self) {
    ObjIterator *it = iterator_new(ts, "set_iterator", iter_set_step, self, NONE_VAL);
    if (!it) return ERROR_VAL;
    it->end = (int64_t)set_len(AS_SET(self));
    return OBJ_VAL(it);
}

static Value set_new_slot(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    /* A subclass whose mini __init__ takes the arguments gets an empty set
     * (set.__init__ via super() fills it). */
    bool init_consumes = type != ts->interp->types.set && IS_FUNCTION(type_lookup(type, ts->interp->names.init));
    if (!init_consumes && !args_check(ts, "set", nargs, kwnames, 0, 1)) return ERROR_VAL;
    if (init_consumes || nargs == 0) return set_or_error(set_new(ts, type));
    return set_from_iterable(ts, type, args[0]);
}

static Value frozenset_new_slot(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "frozenset", nargs, kwnames, 0, 1)) return ERROR_VAL;
    if (nargs == 1 && IS_SET(args[0]) && OBJ_TYPE(args[0]) == type && type == ts->interp->types.frozenset)
        return args[0];
    if (nargs == 0) return set_or_error(set_new(ts, type));
    return set_from_iterable(ts, type, args[0]);
}

static void set_trace(GcMarker *m, Obj *self) {
    SetTable *t = table_locked((ObjSet *)self);
    for (size_t i = 0; t && i <= t->mask; i++)
        if (is_live(t->entries[i].key)) gc_mark_value(m, t->entries[i].key);
}

static void set_finalize(Obj *self) {
    SetTable *t = table_locked((ObjSet *)self);
    if (t) gc_free_buffer(t, table_bytes(t->mask));
}

static size_t set_obj_size(Obj *self) {
    (void)self;
    return sizeof(ObjSet);
}

/* ---- methods ------------------------------------------------------------ */

#define SELF AS_SET(args[0])

/* A failed argument check of a method set and frozenset share, naming it
 * by self's base type as CPython does ("frozenset.issubset()"). */
static bool set_args_failed(TState *ts, Value self, const char *name, int nargs, ObjTuple *kwnames, int min, int max) {
    char full[64];
    snprintf(full, sizeof full, "%s.%s", base_type(ts, AS_SET(self))->name->data, name);
    return args_check_failed(ts, full, nargs, kwnames, min, max);
}
#define SET_ARGS_CHECK(name, min, max)                                                               \
    do {                                                                                             \
        if ((kwnames || nargs - 1 < (min) || ((max) >= 0 && nargs - 1 > (max))) &&                   \
            !set_args_failed(ts, args[0], name, nargs - 1, kwnames, min, max))                       \
            return ERROR_VAL;                                                                        \
    } while (0)

static Value set_m_add(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("set.add", 1, 1);
    return set_add(ts, SELF, args[1]) < 0 ? ERROR_VAL : NONE_VAL;
}

static Value set_m_remove(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("set.remove", 1, 1);
    int r = set_discard(ts, SELF, args[1]);
    if (r < 0) return ERROR_VAL;
    if (r == 0) return err_set_value(ts, EXC(ts)->KeyError, args[1]);
    return NONE_VAL;
}

static Value set_m_discard(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("set.discard", 1, 1);
    return set_discard(ts, SELF, args[1]) < 0 ? ERROR_VAL : NONE_VAL;
}

/* CPython's set.pop: the next item from a moving finger. */
static Value set_m_pop(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("set.pop", 0, 0);
    ObjSet *s = SELF;
    obj_lock(ts, &s->obj);
    SetTable *t = table_locked(s);
    if (used_get(s) == 0 || !t) {
        obj_unlock(ts, &s->obj);
        return err_format(ts, EXC(ts)->KeyError, "pop from an empty set");
    }
    size_t i = s->finger & t->mask;
    while (!is_live(t->entries[i].key)) i = (i + 1) & t->mask;
    Value k = t->entries[i].key;
    key_put(&t->entries[i].key, DUMMY_KEY);
    hash_put(&t->entries[i].hash, -1);
    used_put(s, used_get(s) - 1);
    s->finger = i + 1;
    version_bump(s);
    obj_unlock(ts, &s->obj);
    return k;
}

static Value set_m_clear(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("set.clear", 0, 0);
    clear_set(ts, SELF);
    return NONE_VAL;
}

static Value set_m_copy(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    SET_ARGS_CHECK("copy", 0, 0);
    ObjSet *s = SELF;
    if (s->obj.type == ts->interp->types.frozenset) return args[0];
    return copy_as(ts, s, base_type(ts, s));
}

static Value set_m_init(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("set", 0, 1);
    clear_set(ts, SELF);
    if (nargs > 1 && set_update(ts, SELF, args[1]) < 0) return ERROR_VAL;
    return NONE_VAL;
}

/* self.update(*others) and the other in-place methods taking iterables. */
static Value update_with_each(TState *ts, Value *args, int nargs, int (*update)(TState *, ObjSet *, Value)) {
    for (int i = 1; i < nargs; i++)
        if (update(ts, SELF, args[i]) < 0) return ERROR_VAL;
    return NONE_VAL;
}

static Value set_m_update(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("set.update", 0, -1);
    return update_with_each(ts, args, nargs, set_update);
}

static Value set_m_union(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    SET_ARGS_CHECK("union", 0, -1);
    ObjSet *s = SELF;
    Value r = copy_as(ts, s, base_type(ts, s));
    if (IS_ERROR(r)) return r;
    vm_push(ts, r);
    for (int i = 1; i < nargs && !IS_ERROR(r); i++)
        if (set_update(ts, AS_SET(r), args[i]) < 0) r = ERROR_VAL;
    vm_pop(ts);
    return r;
}

static Value set_m_intersection(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    SET_ARGS_CHECK("intersection", 0, -1);
    if (nargs == 1) return copy_as(ts, SELF, base_type(ts, SELF));
    Value acc = args[0];
    for (int i = 1; i < nargs; i++) {
        vm_push(ts, acc);
        Value next = set_intersection(ts, AS_SET(acc), args[i]);
        vm_pop(ts);
        if (IS_ERROR(next)) return next;
        acc = next;
    }
    return acc;
}

static Value set_m_difference(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    SET_ARGS_CHECK("difference", 0, -1);
    if (nargs == 1) return copy_as(ts, SELF, base_type(ts, SELF));
    Value r = difference_of(ts, SELF, args[1]);
    if (IS_ERROR(r)) return r;
    vm_push(ts, r);
    for (int i = 2; i < nargs && !IS_ERROR(r); i++)
        if (set_difference_update(ts, AS_SET(r), args[i]) < 0) r = ERROR_VAL;
    vm_pop(ts);
    return r;
}

static Value set_m_symmetric_difference(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    SET_ARGS_CHECK("symmetric_difference", 1, 1);
    return symmetric_difference_of(ts, SELF, args[1]);
}

static Value set_m_intersection_update(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    SET_ARGS_CHECK("intersection_update", 0, -1);
    return update_with_each(ts, args, nargs, intersection_update);
}

static Value set_m_difference_update(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    SET_ARGS_CHECK("difference_update", 0, -1);
    return update_with_each(ts, args, nargs, set_difference_update);
}

static Value set_m_symmetric_difference_update(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    SET_ARGS_CHECK("symmetric_difference_update", 1, 1);
    return set_symmetric_difference_update(ts, SELF, args[1]) < 0 ? ERROR_VAL : NONE_VAL;
}

/* Does `it` (any iterable) contain only items of s? */
static Value all_in(TState *ts, ObjSet *s, Value iterable) {
    Value it = ops_iter(ts, iterable);
    if (IS_ERROR(it)) return it;
    vm_push(ts, it);
    Value r = TRUE_VAL;
    for (;;) {
        Value x = ops_next(ts, it);
        if (IS_EMPTY(x)) break;
        int c = IS_ERROR(x) ? -1 : set_contains(ts, s, x);
        if (c <= 0) {
            r = c < 0 ? ERROR_VAL : FALSE_VAL;
            break;
        }
    }
    vm_pop(ts);
    return r;
}

static Value set_m_issubset(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    SET_ARGS_CHECK("issubset", 1, 1);
    Value other = args[1];
    if (!IS_SET(other)) {
        other = set_from_iterable(ts, ts->interp->types.set, other);
        if (IS_ERROR(other)) return other;
    }
    vm_push(ts, other);
    int r = is_subset(ts, SELF, AS_SET(other));
    vm_pop(ts);
    return r < 0 ? ERROR_VAL : BOOL_VAL(r);
}

static Value set_m_issuperset(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    SET_ARGS_CHECK("issuperset", 1, 1);
    if (IS_SET(args[1])) {
        int r = is_subset(ts, AS_SET(args[1]), SELF);
        return r < 0 ? ERROR_VAL : BOOL_VAL(r);
    }
    return all_in(ts, SELF, args[1]);
}

static Value set_m_isdisjoint(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    SET_ARGS_CHECK("isdisjoint", 1, 1);
    ObjSet *s = SELF;
    if (!IS_SET(args[1])) {
        Value it = ops_iter(ts, args[1]);
        if (IS_ERROR(it)) return it;
        vm_push(ts, it);
        Value r = TRUE_VAL;
        for (;;) {
            Value x = ops_next(ts, it);
            if (IS_EMPTY(x)) break;
            int c = IS_ERROR(x) ? -1 : set_contains(ts, s, x);
            if (c != 0) {
                r = c < 0 ? ERROR_VAL : FALSE_VAL;
                break;
            }
        }
        vm_pop(ts);
        return r;
    }
    ObjSet *small = s, *big = AS_SET(args[1]);
    if (set_len(small) > set_len(big)) {
        small = big;
        big = s;
    }
    SetWalk w;
    if (!walk_begin(ts, small, &w)) return ERROR_VAL;
    Value k;
    int64_t h;
    int c = 0;
    while (c == 0 && walk_next(&w, &k, &h)) c = contains_entry(ts, big, k, h);
    walk_end(ts, &w);
    return c < 0 ? ERROR_VAL : BOOL_VAL(c == 0);
}

static Value set_m_len(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__len__", 0, 0);
    return INT_VAL((int64_t)set_len(SELF));
}
static Value set_m_contains(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__contains__", 1, 1);
    int r = set_contains(ts, SELF, args[1]);
    return r < 0 ? ERROR_VAL : BOOL_VAL(r);
}
static Value set_m_iter(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__iter__", 0, 0);
    return set_iter(ts, args[0]);
}
static Value set_m_repr(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__repr__", 0, 0);
    return set_repr(ts, args[0]);
}
static Value frozenset_m_hash(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__hash__", 0, 0);
    int64_t h;
    frozenset_hash(ts, args[0], &h);
    return int_from_i64(ts, h);
}

#define SET_CMP_METHOD(fn, op)                                                      \
    static Value fn(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {        \
        ARGS_CHECK_METHOD(#op, 1, 1);                                               \
        return set_richcmp(ts, args[0], args[1], op);                               \
    }
SET_CMP_METHOD(set_m_eq, CMP_EQ)
SET_CMP_METHOD(set_m_ne, CMP_NE)
SET_CMP_METHOD(set_m_lt, CMP_LT)
SET_CMP_METHOD(set_m_le, CMP_LE)
SET_CMP_METHOD(set_m_gt, CMP_GT)
SET_CMP_METHOD(set_m_ge, CMP_GE)

#define SET_BINOP_METHOD(fn, op)                                                    \
    static Value fn(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {        \
        ARGS_CHECK_METHOD(#op, 1, 1);                                               \
        return set_binop(ts, op, args[0], args[1]);                                 \
    }
SET_BINOP_METHOD(set_m_or, BIN_OR)
SET_BINOP_METHOD(set_m_and, BIN_AND)
SET_BINOP_METHOD(set_m_sub, BIN_SUB)
SET_BINOP_METHOD(set_m_xor, BIN_XOR)

#define SET_INPLACE_METHOD(fn, op)                                                  \
    static Value fn(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {        \
        ARGS_CHECK_METHOD(#op, 1, 1);                                               \
        return set_inplace_binop(ts, op, args[0], args[1]);                         \
    }
SET_INPLACE_METHOD(set_m_ior, BIN_OR)
SET_INPLACE_METHOD(set_m_iand, BIN_AND)
SET_INPLACE_METHOD(set_m_isub, BIN_SUB)
SET_INPLACE_METHOD(set_m_ixor, BIN_XOR)

#define COMMON_SET_METHODS                                              \
    {"copy", set_m_copy},                                               \
    {"union", set_m_union},                                             \
    {"intersection", set_m_intersection},                               \
    {"difference", set_m_difference},                                   \
    {"symmetric_difference", set_m_symmetric_difference},               \
    {"issubset", set_m_issubset},                                       \
    {"issuperset", set_m_issuperset},                                   \
    {"isdisjoint", set_m_isdisjoint},                                   \
    {"__len__", set_m_len},                                             \
    {"__contains__", set_m_contains},                                   \
    {"__iter__", set_m_iter},                                           \
    {"__repr__", set_m_repr},                                           \
    {"__eq__", set_m_eq},                                               \
    {"__ne__", set_m_ne},                                               \
    {"__lt__", set_m_lt},                                               \
    {"__le__", set_m_le},                                               \
    {"__gt__", set_m_gt},                                               \
    {"__ge__", set_m_ge},                                               \
    {"__or__", set_m_or},                                               \
    {"__and__", set_m_and},                                             \
    {"__sub__", set_m_sub},                                             \
    {"__xor__", set_m_xor}

static const NativeDef set_methods[] = {
    COMMON_SET_METHODS,
    {"add", set_m_add},
    {"remove", set_m_remove},
    {"discard", set_m_discard},
    {"pop", set_m_pop},
    {"clear", set_m_clear},
    {"update", set_m_update},
    {"intersection_update", set_m_intersection_update},
    {"difference_update", set_m_difference_update},
    {"symmetric_difference_update", set_m_symmetric_difference_update},
    {"__init__", set_m_init},
    {"__ior__", set_m_ior},
    {"__iand__", set_m_iand},
    {"__isub__", set_m_isub},
    {"__ixor__", set_m_ixor},
    {NULL, NULL},
};

static const NativeDef frozenset_methods[] = {
    COMMON_SET_METHODS,
    {"__hash__", frozenset_m_hash},
    {NULL, NULL},
};

const TypeSpec set_type_spec = {
    .classmethods = generic_classmethods,
    .name = "set",
    .kind = OBJ_SET,
    .obj_size = set_obj_size,
    .flags = TYPEF_BASETYPE,
    .repr = set_repr,
    .richcmp = set_richcmp,
    .binop = set_binop,
    .inplace = set_inplace_binop,
    .truth = set_truth,
    .len = set_len_slot,
    .contains = set_contains_slot,
    .iter = set_iter,
    .new_ = set_new_slot,
    .trace = set_trace,
    .finalize = set_finalize,
    .methods = set_methods,
};

const TypeSpec frozenset_type_spec = {
    .classmethods = generic_classmethods,
    .name = "frozenset",
    .kind = OBJ_SET,
    .obj_size = set_obj_size,
    .flags = TYPEF_BASETYPE,
    .repr = set_repr,
    .hash = frozenset_hash,
    .richcmp = set_richcmp,
    .binop = set_binop,
    .truth = set_truth,
    .len = set_len_slot,
    .contains = set_contains_slot,
    .iter = set_iter,
    .new_ = frozenset_new_slot,
    .trace = set_trace,
    .finalize = set_finalize,
    .methods = frozenset_methods,
};
