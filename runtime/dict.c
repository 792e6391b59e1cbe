/* dict: CPython's compact, insertion-ordered hash table.
 *
 * A table is one buffer: the header, the index slots (int32: an entry
 * position, IX_EMPTY or IX_DUMMY) and the dense entry array. Probing is
 * CPython's perturbed sequence.
 *
 * GIL-off discipline (see dict.h): writers hold the dict's mutex; readers
 * take no lock. A writer fills an entry before publishing its index slot
 * (release), so a reader that finds the slot sees the entry; keys and values
 * are stored with release and loaded with acquire (an object stored by one
 * thread is seen whole by another), hashes relaxed. A rebuilt table is
 * published whole and the old one retired, never freed under a reader.
 * Comparing keys may run mini code (__eq__): the mutex is released around
 * it and the probe restarts if the table changed meanwhile, as CPython's
 * lookdict does. keys_version changes with every added or removed key and
 * every rebuild, which is what "changed meanwhile" checks. */
#include "runtime/dict.h"

#include <math.h>
#include <string.h>

#include "runtime/args.h"
#include "runtime/error.h"
#include "runtime/float.h"
#include "runtime/function.h"
#include "runtime/generic.h"
#include "runtime/int.h"
#include "runtime/iterator.h"
#include "runtime/list.h"
#include "runtime/module.h"
#include "runtime/ops.h"
#include "runtime/set.h"
#include "runtime/str.h"
#include "runtime/strbuf.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "vm/config.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/vm.h"

#define EXC(ts) (&(ts)->interp->exc)

#define IX_EMPTY (-1)
#define IX_DUMMY (-2)
/* Entry positions are int32 index slots. */
#define MAX_USABLE ((size_t)INT32_MAX)

/* ---- atomics ----------------------------------------------------------- */

static inline DictTable *table_acquire(const ObjDict *d) {
    return atomic_load_explicit(&((ObjDict *)d)->table, memory_order_acquire);
}
static inline DictTable *table_locked(ObjDict *d) { return atomic_load_explicit(&d->table, memory_order_relaxed); }
static inline int32_t ix_get(const DictTable *t, size_t i) { return __atomic_load_n(&t->indices[i], __ATOMIC_ACQUIRE); }
static inline void ix_put(DictTable *t, size_t i, int32_t ix) { __atomic_store_n(&t->indices[i], ix, __ATOMIC_RELEASE); }
/* Keys and values: release and acquire, so an object stored by one thread
 * (a global, an attribute, a dict value) is seen whole by another. */
static inline Value v_get(const Value *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void v_put(Value *p, Value v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline int64_t h_get(const int64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline void h_put(int64_t *p, int64_t h) { __atomic_store_n(p, h, __ATOMIC_RELAXED); }
static inline size_t nentries_get(const DictTable *t) { return __atomic_load_n(&t->nentries, __ATOMIC_ACQUIRE); }
static inline void nentries_put(DictTable *t, size_t n) { __atomic_store_n(&t->nentries, n, __ATOMIC_RELEASE); }
static inline uint32_t version_get(ObjDict *d) { return atomic_load_explicit(&d->keys_version, memory_order_acquire); }
static inline void version_bump(ObjDict *d) { atomic_fetch_add_explicit(&d->keys_version, 1, memory_order_release); }
static inline void count_add(ObjDict *d, long delta) {
    atomic_store_explicit(&d->count, atomic_load_explicit(&d->count, memory_order_relaxed) + (size_t)delta,
                          memory_order_relaxed);
}

/* ---- tables ------------------------------------------------------------- */

static inline size_t usable_for(size_t nslots) { return nslots * 2 / 3; }
static inline size_t indices_bytes(size_t nslots) { return (nslots * sizeof(int32_t) + 7) & ~(size_t)7; }
static inline size_t table_bytes(size_t nslots) {
    return sizeof(DictTable) + indices_bytes(nslots) + usable_for(nslots) * sizeof(DictEntry);
}

static DictTable *table_new(TState *ts, size_t nslots) {
    DictTable *t = gc_alloc_buffer(ts, table_bytes(nslots));
    if (!t) return NULL;
    t->nslots = nslots;
    t->nentries = 0;
    t->capacity = t->usable = usable_for(nslots);
    atomic_init(&t->key_bits, 0);
    memset(t->indices, 0xFF, nslots * sizeof(int32_t)); /* IX_EMPTY */
    t->entries = (DictEntry *)((char *)t->indices + indices_bytes(nslots));
    return t;
}

/* The smallest table that takes `want` entries. */
static size_t slots_for(size_t want) {
    size_t nslots = MINI_DICT_MIN_SLOTS;
    while (usable_for(nslots) < want) nslots *= 2;
    return nslots;
}

/* The table a full dict of `used` items grows into: CPython's growth
 * rate, index slots for three times the items. */
static size_t growth_slots(size_t used) {
    size_t nslots = MINI_DICT_MIN_SLOTS;
    while (nslots < used * 3) nslots *= 2;
    return nslots;
}

/* An index slot that holds no entry (IX_EMPTY or IX_DUMMY), for a key
 * known to be absent. */
static size_t free_slot(const DictTable *t, int64_t hash) {
    size_t mask = t->nslots - 1, i = (size_t)hash & mask;
    uint64_t perturb = (uint64_t)hash;
    while (ix_get(t, i) >= 0) {
        perturb >>= 5;
        i = (i * 5 + perturb + 1) & mask;
    }
    return i;
}

/* Appends an entry and publishes it at index slot `slot` (lock held). */
static void add_key_bit(DictTable *t, int64_t hash) {
    atomic_store_explicit(&t->key_bits, atomic_load_explicit(&t->key_bits, memory_order_relaxed) | dict_key_bit(hash),
                          memory_order_relaxed);
}

static void append_entry(DictTable *t, size_t slot, Value key, int64_t hash, Value value) {
    size_t pos = t->nentries;
    DictEntry *e = &t->entries[pos];
    add_key_bit(t, hash);
    h_put(&e->hash, hash);
    v_put(&e->value, value);
    v_put(&e->key, key);
    ix_put(t, slot, (int32_t)pos);
    nentries_put(t, pos + 1);
    t->usable--;
}

/* Adds the live entries of `src` to the fresh, unpublished table t. */
static void copy_entries(DictTable *t, const DictTable *src) {
    for (size_t i = 0; i < src->nentries; i++) {
        const DictEntry *e = &src->entries[i];
        if (IS_EMPTY(e->key)) continue;
        size_t slot = free_slot(t, e->hash);
        t->entries[t->nentries] = *e;
        t->indices[slot] = (int32_t)t->nentries++;
        t->usable--;
        add_key_bit(t, e->hash);
    }
}

/* Rebuilds d's table with `nslots` index slots, dropping deleted entries
 * (lock held). False when out of memory; nothing is raised. */
static bool rebuild_locked(TState *ts, ObjDict *d, size_t nslots) {
    if (usable_for(nslots) > MAX_USABLE) return false;
    DictTable *old = table_locked(d);
    DictTable *t = table_new(ts, nslots);
    if (!t) return false;
    if (old) {
        copy_entries(t, old);
    }
    atomic_store_explicit(&d->table, t, memory_order_release);
    version_bump(d);
    if (old) gc_retire_buffer(ts, old, table_bytes(old->nslots));
    return true;
}

/* ---- keys ---------------------------------------------------------------- */

/* Built-in values whose equality needs no mini code. */
static inline bool is_plain(TState *ts, Value v) {
    if (!IS_OBJ(v)) return true;
    ObjType *t = OBJ_TYPE(v);
    return t == ts->interp->types.str || t == ts->interp->types.int_;
}

static bool numbers_equal(Value a, Value b) {
    if (IS_BOOL(a)) a = INT_VAL(AS_BOOL(a));
    if (IS_BOOL(b)) b = INT_VAL(AS_BOOL(b));
    if (IS_FLOAT(a) && IS_FLOAT(b)) return AS_FLOAT(a) == AS_FLOAT(b);
    if (IS_FLOAT(a)) return !isnan(AS_FLOAT(a)) && float_compare_int(AS_FLOAT(a), b) == 0;
    if (IS_FLOAT(b)) return !isnan(AS_FLOAT(b)) && float_compare_int(AS_FLOAT(b), a) == 0;
    return int_compare(a, b) == 0;
}

static inline bool is_number(Value v) { return IS_INT(v) || IS_FLOAT(v) || IS_BOOL(v) || IS_BIGINT(v); }

/* Both compare by identity: object's __eq__, not overridden (see ops.h). */
static inline bool identity_eq(Value a, Value b) {
    return IS_OBJ(a) && IS_OBJ(b) && OBJ_TYPE(a)->richcmp == ops_identity_richcmp &&
           OBJ_TYPE(b)->richcmp == ops_identity_richcmp;
}

int dict_key_eq_fast(TState *ts, Value a, Value b) {
    if (a == b) return 1;
    if (!is_plain(ts, a) || !is_plain(ts, b)) return identity_eq(a, b) ? 0 : -1;
    if (IS_STR(a) || IS_STR(b)) return IS_STR(a) && IS_STR(b) && str_equal(AS_STR(a), AS_STR(b));
    if (is_number(a) && is_number(b)) return numbers_equal(a, b);
    return 0; /* None and the like equal only themselves */
}

/* Where a key is, or would go. */
typedef struct Slot {
    DictTable *table;
    size_t slot;
    int32_t ix;
} Slot;

/* Looks key up. 1: found (at->ix, at->slot); 0: absent (at->slot is a free
 * index slot, at->table NULL if there is no table); -1 after raising.
 * With `locked`, the caller holds d's mutex: it is released around __eq__
 * calls and held again on return. `keep` is a value the caller needs alive
 * across those calls (the value being stored), or EMPTY_VAL. */
static int lookup(TState *ts, ObjDict *d, Value key, int64_t hash, bool locked, Value keep, Slot *at) {
restart:;
    DictTable *t = locked ? table_locked(d) : table_acquire(d);
    at->table = t;
    if (!t) return 0;
    size_t mask = t->nslots - 1, i = (size_t)hash & mask, first_free = SIZE_MAX;
    uint64_t perturb = (uint64_t)hash;
    for (;;) {
        int32_t ix = ix_get(t, i);
        if (ix == IX_EMPTY) {
            at->slot = first_free != SIZE_MAX ? first_free : i;
            return 0;
        }
        if (ix == IX_DUMMY) {
            if (first_free == SIZE_MAX) first_free = i;
        } else if ((size_t)ix < t->capacity) {
            DictEntry *e = &t->entries[ix];
            Value ek = v_get(&e->key);
            int eq = ek == key;
            if (!eq && !IS_EMPTY(ek) && h_get(&e->hash) == hash) {
                eq = dict_key_eq_fast(ts, ek, key);
                if (eq < 0) {
                    uint32_t version = version_get(d);
                    if (locked) obj_unlock(ts, &d->obj);
                    vm_push(ts, key);
                    vm_push(ts, keep);
                    eq = ops_equal(ts, ek, key);
                    vm_pop(ts);
                    vm_pop(ts);
                    if (locked) obj_lock(ts, &d->obj);
                    if (eq < 0) return -1;
                    /* t is only touched again if it is still d's table. */
                    if (table_acquire(d) != t || version_get(d) != version || v_get(&e->key) != ek)
                        goto restart;
                }
            }
            if (eq) {
                at->slot = i;
                at->ix = ix;
                return 1;
            }
        }
        perturb >>= 5;
        i = (i * 5 + perturb + 1) & mask;
    }
}

/* ---- core operations ------------------------------------------------------ */

static ObjDict *dict_alloc(TState *ts, ObjType *type) {
    ObjDict *d = (ObjDict *)gc_alloc(ts, sizeof(ObjDict), OBJ_DICT, type ? type : ts->interp->types.dict);
    if (!d) return NULL;
    atomic_init(&d->count, 0);
    atomic_init(&d->table, NULL);
    atomic_init(&d->keys_version, 0);
    return d;
}

ObjDict *dict_new(TState *ts) { return dict_alloc(ts, NULL); }

size_t dict_len(const ObjDict *d) { return atomic_load_explicit(&((ObjDict *)d)->count, memory_order_relaxed); }

Value dict_get_hashed(TState *ts, ObjDict *d, Value key, int64_t hash) {
    Slot at;
    int r = lookup(ts, d, key, hash, false, EMPTY_VAL, &at);
    if (r < 0) return ERROR_VAL;
    if (r == 0) return EMPTY_VAL;
    /* A racing delete leaves EMPTY_VAL: the key is gone. */
    return v_get(&at.table->entries[at.ix].value);
}

Value dict_get(TState *ts, ObjDict *d, Value key) {
    int64_t h;
    if (ops_hash(ts, key, &h) < 0) return ERROR_VAL;
    return dict_get_hashed(ts, d, key, h);
}

/* d[key] = value as one step with respect to other threads; with
 * `only_if_absent` (setdefault) a present key keeps its value, which is
 * stored in *found. 0, or -1 after raising. */
static int store(TState *ts, ObjDict *d, Value key, int64_t hash, Value value, bool only_if_absent, Value *found) {
    obj_lock(ts, &d->obj);
    Slot at;
    int r = lookup(ts, d, key, hash, true, value, &at);
    if (r < 0) {
        obj_unlock(ts, &d->obj);
        return -1;
    }
    if (r == 1) {
        Value *slot = &at.table->entries[at.ix].value;
        if (only_if_absent) *found = v_get(slot);
        else v_put(slot, value);
        obj_unlock(ts, &d->obj);
        return 0;
    }
    DictTable *t = at.table;
    size_t slot = at.slot;
    if (!t || t->usable == 0) {
        if (!rebuild_locked(ts, d, growth_slots(dict_len(d)))) {
            obj_unlock(ts, &d->obj);
            err_no_memory(ts);
            return -1;
        }
        t = table_locked(d);
        slot = free_slot(t, hash);
    }
    append_entry(t, slot, key, hash, value);
    count_add(d, 1);
    version_bump(d);
    obj_unlock(ts, &d->obj);
    if (only_if_absent) *found = value;
    return 0;
}

int dict_set_hashed(TState *ts, ObjDict *d, Value key, int64_t hash, Value value) {
    return store(ts, d, key, hash, value, false, NULL);
}

int dict_set(TState *ts, ObjDict *d, Value key, Value value) {
    int64_t h;
    int r;
    if (ops_hash_direct(key, &h)) {
        r = 0;
    } else if (!IS_OBJ(key)) {
        r = ops_hash_slot(ts, key, &h); /* numbers and constants: no mini code */
    } else {
        /* A user __hash__ may collect: keep the value alive. */
        vm_push(ts, value);
        r = ops_hash_slot(ts, key, &h);
        vm_pop(ts);
    }
    return r < 0 ? -1 : dict_set_hashed(ts, d, key, h, value);
}

int dict_delete_hashed(TState *ts, ObjDict *d, Value key, int64_t hash, Value *old) {
    obj_lock(ts, &d->obj);
    Slot at;
    int r = lookup(ts, d, key, hash, true, EMPTY_VAL, &at);
    if (r == 1) {
        DictEntry *e = &at.table->entries[at.ix];
        if (old) *old = v_get(&e->value);
        ix_put(at.table, at.slot, IX_DUMMY);
        v_put(&e->key, EMPTY_VAL);
        v_put(&e->value, EMPTY_VAL);
        count_add(d, -1);
        version_bump(d);
    }
    obj_unlock(ts, &d->obj);
    return r;
}

int dict_delete(TState *ts, ObjDict *d, Value key) {
    int64_t h;
    if (ops_hash(ts, key, &h) < 0) return -1;
    return dict_delete_hashed(ts, d, key, h, NULL);
}

/* ---- interned-string fast paths (never run mini code) --------------------- */

/* Entry position of a str key, -1 if absent. Keys compare by pointer,
 * then by contents for strs with the same hash. */
static int64_t find_str(const DictTable *t, ObjStr *key) {
    int64_t hash = key->hash;
    Value kv = OBJ_VAL(key);
    size_t mask = t->nslots - 1, i = (size_t)hash & mask;
    uint64_t perturb = (uint64_t)hash;
    for (;;) {
        int32_t ix = ix_get(t, i);
        if (ix == IX_EMPTY) return -1;
        if (ix >= 0 && (size_t)ix < t->capacity) {
            const DictEntry *e = &t->entries[ix];
            Value ek = v_get(&e->key);
            if (ek == kv || (h_get(&e->hash) == hash && IS_STR(ek) && str_equal(AS_STR(ek), key))) return ix;
        }
        perturb >>= 5;
        i = (i * 5 + perturb + 1) & mask;
    }
}

Value dict_get_str(ObjDict *d, ObjStr *key) {
    DictTable *t = table_acquire(d);
    if (!t) return EMPTY_VAL;
    int64_t ix = find_str(t, key);
    return ix < 0 ? EMPTY_VAL : v_get(&t->entries[ix].value);
}

int64_t dict_find_str_index(ObjDict *d, ObjStr *key) {
    DictTable *t = table_acquire(d);
    return t ? find_str(t, key) : -1;
}

Value dict_cached_get_slow(ObjDict *d, ObjStr *key, int64_t index) {
    DictTable *t = table_acquire(d);
    if (!t || index < 0 || (size_t)index >= nentries_get(t)) return EMPTY_VAL;
    const DictEntry *e = &t->entries[index];
    Value ek = v_get(&e->key);
    if (ek != OBJ_VAL(key) && !(IS_STR(ek) && h_get(&e->hash) == key->hash && str_equal(AS_STR(ek), key)))
        return EMPTY_VAL;
    return v_get(&e->value);
}

bool dict_cached_set(TState *ts, ObjDict *d, ObjStr *key, int64_t index, Value value) {
    obj_lock(ts, &d->obj);
    DictTable *t = table_locked(d);
    bool hit = t && index >= 0 && (size_t)index < nentries_get(t) &&
               v_get(&t->entries[index].key) == OBJ_VAL(key);
    if (hit) v_put(&t->entries[index].value, value);
    obj_unlock(ts, &d->obj);
    return hit;
}

int dict_set_str(TState *ts, ObjDict *d, ObjStr *key, Value value) {
    obj_lock(ts, &d->obj);
    DictTable *t = table_locked(d);
    int64_t hash = key->hash;
    if (t) {
        int64_t ix = find_str(t, key);
        if (ix >= 0) {
            v_put(&t->entries[ix].value, value);
            obj_unlock(ts, &d->obj);
            return 0;
        }
    }
    if (!t || t->usable == 0) {
        if (!rebuild_locked(ts, d, growth_slots(dict_len(d)))) {
            obj_unlock(ts, &d->obj);
            err_no_memory(ts);
            return -1;
        }
        t = table_locked(d);
    }
    append_entry(t, free_slot(t, hash), OBJ_VAL(key), hash, value);
    count_add(d, 1);
    version_bump(d);
    obj_unlock(ts, &d->obj);
    return 0;
}

/* ---- iteration and bulk operations ---------------------------------------- */

bool dict_next_hashed(ObjDict *d, size_t *pos, Value *key, Value *value, int64_t *hash) {
    DictTable *t = table_acquire(d);
    if (!t) return false;
    size_t n = nentries_get(t);
    while (*pos < n) {
        DictEntry *e = &t->entries[(*pos)++];
        Value k = v_get(&e->key);
        if (IS_EMPTY(k)) continue;
        Value v = v_get(&e->value);
        if (IS_EMPTY(v)) continue; /* deleted under us */
        *key = k;
        *value = v;
        if (hash) *hash = h_get(&e->hash);
        return true;
    }
    return false;
}

bool dict_next(ObjDict *d, size_t *pos, Value *key, Value *value) {
    return dict_next_hashed(d, pos, key, value, NULL);
}

size_t dict_end(ObjDict *d) {
    DictTable *t = table_acquire(d);
    return t ? nentries_get(t) : 0;
}

bool dict_prev(ObjDict *d, size_t *pos, Value *key, Value *value) {
    DictTable *t = table_acquire(d);
    if (!t) return false;
    size_t n = nentries_get(t);
    if (*pos > n) *pos = n;
    while (*pos > 0) {
        DictEntry *e = &t->entries[--*pos];
        Value k = v_get(&e->key), v = v_get(&e->value);
        if (IS_EMPTY(k) || IS_EMPTY(v)) continue;
        *key = k;
        *value = v;
        return true;
    }
    return false;
}

bool dict_popitem(TState *ts, ObjDict *d, Value *key, Value *value) {
    obj_lock(ts, &d->obj);
    DictTable *t = table_locked(d);
    if (!t || dict_len(d) == 0) {
        obj_unlock(ts, &d->obj);
        return false;
    }
    size_t pos = t->nentries;
    while (pos > 0 && IS_EMPTY(t->entries[pos - 1].key)) pos--;
    DictEntry *e = &t->entries[pos - 1];
    *key = e->key;
    *value = e->value;
    size_t mask = t->nslots - 1, i = (size_t)e->hash & mask;
    uint64_t perturb = (uint64_t)e->hash;
    while (ix_get(t, i) != (int32_t)(pos - 1)) {
        perturb >>= 5;
        i = (i * 5 + perturb + 1) & mask;
    }
    ix_put(t, i, IX_DUMMY);
    v_put(&e->key, EMPTY_VAL);
    v_put(&e->value, EMPTY_VAL);
    /* The last positions are free again; `usable` stays as it is, so the
     * index slots still can't fill up. */
    nentries_put(t, pos - 1);
    count_add(d, -1);
    version_bump(d);
    obj_unlock(ts, &d->obj);
    return true;
}

void dict_clear(TState *ts, ObjDict *d) {
    obj_lock(ts, &d->obj);
    DictTable *old = table_locked(d);
    atomic_store_explicit(&d->table, NULL, memory_order_release);
    atomic_store_explicit(&d->count, 0, memory_order_relaxed);
    version_bump(d);
    obj_unlock(ts, &d->obj);
    if (old) gc_retire_buffer(ts, old, table_bytes(old->nslots));
}

ObjDict *dict_copy(TState *ts, ObjDict *d) {
    ObjDict *r = dict_new(ts);
    if (!r) return NULL;
    obj_lock(ts, &d->obj);
    DictTable *src = table_locked(d);
    size_t n = dict_len(d);
    bool ok = true;
    if (src && n) {
        DictTable *t = table_new(ts, slots_for(n));
        ok = t != NULL;
        if (t) {
            copy_entries(t, src);
            atomic_store_explicit(&r->table, t, memory_order_relaxed);
            atomic_store_explicit(&r->count, t->nentries, memory_order_relaxed);
        }
    }
    obj_unlock(ts, &d->obj);
    if (!ok) {
        err_no_memory(ts);
        return NULL;
    }
    return r;
}

ObjDict *dict_for_reading(TState *ts, ObjDict *d) {
    return ts->interp->gil_enabled ? d : dict_copy(ts, d);
}

static Value dict_iter(TState *ts, Value self);

/* A key of the source that dst already has: with `dup` (a call's
 * **mappings), merging stops there with 1 and the key in *dup; without,
 * the source's value replaces dst's. */
static int merge_dup(TState *ts, ObjDict *dst, Value k, Value *dup) {
    Value old = dict_get(ts, dst, k);
    if (IS_ERROR(old)) return -1;
    if (IS_EMPTY(old)) return 0;
    *dup = k;
    return 1;
}

static int merge_dict(TState *ts, ObjDict *dst, ObjDict *src, Value *dup) {
    if (dst == src && !dup) return 0;
    if (!(src = dict_for_reading(ts, src))) return -1;
    vm_push(ts, OBJ_VAL(src));
    size_t pos = 0;
    Value k, v;
    int64_t h;
    int r = 0;
    while (r == 0 && dict_next_hashed(src, &pos, &k, &v, &h))
        if (!dup || (r = merge_dup(ts, dst, k, dup)) == 0) r = dict_set_hashed(ts, dst, k, h, v);
    vm_pop(ts);
    return r;
}

/* Any object with keys(): for k in src.keys(): dst[k] = src[k]. */
static int merge_mapping(TState *ts, ObjDict *dst, Value src, Value keys_fn, Value *dup) {
    vm_push(ts, keys_fn);
    Value keys = ops_call(ts, keys_fn, NULL, 0, NULL);
    vm_pop(ts);
    if (IS_ERROR(keys)) return -1;
    vm_push(ts, keys);
    Value it = ops_iter(ts, keys);
    vm_pop(ts);
    if (IS_ERROR(it)) return -1;
    vm_push(ts, it);
    int r = 0;
    for (;;) {
        Value k = ops_next(ts, it);
        if (IS_EMPTY(k)) break;
        if (IS_ERROR(k)) {
            r = -1;
            break;
        }
        vm_push(ts, k);
        if (dup) r = merge_dup(ts, dst, k, dup);
        if (r == 0) {
            Value v = ops_getitem(ts, src, k);
            r = IS_ERROR(v) ? -1 : dict_set(ts, dst, k, v);
        }
        vm_pop(ts);
        if (r != 0) break;
    }
    vm_pop(ts);
    return r;
}

/* The two items of one element of dict(pairs). */
static bool pair_items(TState *ts, Value item, size_t index, Value *k, Value *v) {
    size_t n;
    if (IS_TUPLE_ITER(ts, item)) {
        n = AS_TUPLE(item)->len;
        if (n == 2) {
            *k = AS_TUPLE(item)->items[0];
            *v = AS_TUPLE(item)->items[1];
            return true;
        }
    } else {
        ObjList *seq;
        if (IS_LIST_ITER(ts, item)) {
            seq = AS_LIST(item);
        } else {
            ObjType *t = val_type(ts, item);
            if (!t->iter && !(t->getitem && (t->flags & TYPEF_HEAPTYPE))) {
                err_format(ts, EXC(ts)->TypeError,
                           "cannot convert dictionary update sequence element #%zu to a sequence", index);
                return false;
            }
            seq = ops_to_list(ts, item);
            if (!seq) return false;
        }
        n = list_len(seq);
        *k = list_get(seq, 0);
        *v = list_get(seq, 1);
        if (n == 2 && !IS_EMPTY(*k) && !IS_EMPTY(*v)) return true;
    }
    err_format(ts, EXC(ts)->ValueError, "dictionary update sequence element #%zu has length %zu; 2 is required",
               index, n);
    return false;
}

static int merge_pairs(TState *ts, ObjDict *dst, Value src) {
    Value it = ops_iter(ts, src);
    if (IS_ERROR(it)) return -1;
    vm_push(ts, it);
    int r = 0;
    for (size_t index = 0;; index++) {
        Value item = ops_next(ts, it);
        if (IS_EMPTY(item)) break;
        if (IS_ERROR(item)) {
            r = -1;
            break;
        }
        vm_push(ts, item);
        Value k, v;
        r = pair_items(ts, item, index, &k, &v) ? dict_set(ts, dst, k, v) : -1;
        vm_pop(ts);
        if (r < 0) break;
    }
    vm_pop(ts);
    return r;
}

/* The keys() of a source that is not a dict iterated as one: EMPTY_VAL
 * when it has none. */
static Value keys_method(TState *ts, Value src) {
    ObjStr *keys_name = str_intern_cstr(ts, "keys");
    return keys_name ? ops_getattr_opt(ts, src, keys_name) : ERROR_VAL;
}

int dict_update(TState *ts, ObjDict *dst, Value src) {
    if (IS_DICT(src) && OBJ_TYPE(src)->iter == dict_iter) return merge_dict(ts, dst, AS_DICT(src), NULL);
    Value keys_fn = keys_method(ts, src);
    if (IS_ERROR(keys_fn)) return -1;
    if (!IS_EMPTY(keys_fn)) return merge_mapping(ts, dst, src, keys_fn, NULL);
    return merge_pairs(ts, dst, src);
}

bool dict_is_plain_mapping(Value v) {
    return IS_DICT(v) && OBJ_TYPE(v)->iter == dict_iter;
}

int dict_merge_kwargs(TState *ts, ObjDict *dst, Value src, Value *dup) {
    if (dict_is_plain_mapping(src)) return merge_dict(ts, dst, AS_DICT(src), dup);
    Value keys_fn = keys_method(ts, src);
    if (IS_ERROR(keys_fn)) return -1;
    return IS_EMPTY(keys_fn) ? 2 : merge_mapping(ts, dst, src, keys_fn, dup);
}

/* update(arg, **kwargs), the constructor's and update()'s arguments. */
static int update_args(TState *ts, ObjDict *d, Value arg, ObjTuple *kwnames, Value *kwvalues) {
    if (!IS_EMPTY(arg) && dict_update(ts, d, arg) < 0) return -1;
    for (size_t i = 0; kwnames && i < kwnames->len; i++)
        if (dict_set(ts, d, kwnames->items[i], kwvalues[i]) < 0) return -1;
    return 0;
}

/* d |= other (any mapping or iterable of pairs); returns d. */
static Value dict_inplace(TState *ts, BinOp op, Value self, Value other) {
    if (op != BIN_OR) return NOT_IMPLEMENTED_VAL;
    return dict_update(ts, AS_DICT(self), other) < 0 ? ERROR_VAL : self;
}

/* ---- slots ---------------------------------------------------------------- */

static bool sb_put(TState *ts, StrBuf *sb, const char *s, size_t n) {
    if (sb_append(sb, s, n)) return true;
    err_no_memory(ts);
    return false;
}

static Value dict_repr(TState *ts, Value self) {
    ObjDict *d = AS_DICT(self);
    if (dict_len(d) == 0) return OBJ_VAL(str_new(ts, "{}", 2));
    ReprGuard g;
    if (!list_repr_enter(ts, &g, &d->obj)) return OBJ_VAL(str_new(ts, "{...}", 5));
    StrBuf sb;
    sb_init(&sb);
    bool ok = sb_put(ts, &sb, "{", 1), first = true;
    size_t pos = 0;
    Value k, v;
    while (ok && dict_next(d, &pos, &k, &v)) {
        /* The key's repr may run code that drops the value from d. */
        vm_push(ts, v);
        ok = (first || sb_put(ts, &sb, ", ", 2)) && str_append_repr(ts, &sb, k) && sb_put(ts, &sb, ": ", 2) &&
             str_append_repr(ts, &sb, v);
        vm_pop(ts);
        first = false;
    }
    ok = ok && sb_put(ts, &sb, "}", 1);
    return list_repr_leave(ts, &g, &sb, ok);
}

/* 1 equal, 0 not, -1 after raising. */
static int dict_equal(TState *ts, ObjDict *a, ObjDict *b) {
    if (a == b) return 1;
    if (dict_len(a) != dict_len(b)) return 0;
    if (!(a = dict_for_reading(ts, a))) return -1;
    vm_push(ts, OBJ_VAL(a));
    size_t pos = 0;
    Value k, v;
    int64_t h;
    int eq = 1;
    while (eq == 1 && dict_next_hashed(a, &pos, &k, &v, &h)) {
        vm_push(ts, k);
        vm_push(ts, v);
        Value bv = dict_get_hashed(ts, b, k, h);
        eq = IS_ERROR(bv) ? -1 : IS_EMPTY(bv) ? 0 : v == bv ? 1 : ops_equal(ts, v, bv);
        vm_pop(ts);
        vm_pop(ts);
    }
    vm_pop(ts);
    return eq;
}

static Value dict_richcmp(TState *ts, Value a, Value b, CmpOp op) {
    if (!IS_DICT(a) || !IS_DICT(b) || (op != CMP_EQ && op != CMP_NE)) return NOT_IMPLEMENTED_VAL;
    vm_push(ts, a);
    vm_push(ts, b);
    int eq = dict_equal(ts, AS_DICT(a), AS_DICT(b));
    vm_pop(ts);
    vm_pop(ts);
    if (eq < 0) return ERROR_VAL;
    return BOOL_VAL(op == CMP_EQ ? eq : !eq);
}

static Value dict_binop(TState *ts, BinOp op, Value a, Value b) {
    if (op != BIN_OR || !IS_DICT(a) || !IS_DICT(b)) return NOT_IMPLEMENTED_VAL;
    ObjDict *r = dict_copy(ts, AS_DICT(a));
    if (!r) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(r));
    int rc = dict_update(ts, r, b);
    vm_pop(ts);
    return rc < 0 ? ERROR_VAL : OBJ_VAL(r);
}

static int dict_truth(TState *ts, Value self) {
    (void)ts;
    return dict_len(AS_DICT(self)) != 0;
}

static int64_t dict_len_slot(TState *ts, Value self) {
    (void)ts;
    return (int64_t)dict_len(AS_DICT(self));
}

static Value dict_getitem(TState *ts, Value self, Value key) {
    Value v = dict_get(ts, AS_DICT(self), key);
    if (!IS_EMPTY(v)) return v;
    ObjType *t = OBJ_TYPE(self);
    if (t != ts->interp->types.dict) {
        /* Subclasses may supply missing keys (defaultdict, Counter...). */
        ObjStr *name = str_intern_cstr(ts, "__missing__");
        Value missing = name ? type_lookup(t, name) : EMPTY_VAL;
        if (!IS_EMPTY(missing)) return vm_call_method(ts, missing, self, &key, 1, NULL);
    }
    return err_set_value(ts, EXC(ts)->KeyError, key);
}

static int dict_setitem(TState *ts, Value self, Value key, Value value) {
    if (!IS_EMPTY(value)) return dict_set(ts, AS_DICT(self), key, value);
    int r = dict_delete(ts, AS_DICT(self), key);
    if (r == 0) err_set_value(ts, EXC(ts)->KeyError, key);
    return r == 1 ? 0 : -1;
}

static int dict_contains(TState *ts, Value self, Value key) {
    Value v = dict_get(ts, AS_DICT(self), key);
    return IS_ERROR(v) ? -1 : !IS_EMPTY(v);
}

static ObjIterator *dict_iterator(TState *ts, const char *name, IterStepFn step, ObjDict *d, Value mode) {
    ObjIterator *it = iterator_new(ts, name, step, OBJ_VAL(d), mode);
    if (!it) return NULL;
    it->end = it->step_by = (int64_t)dict_len(d);
    return it;
}

static Value dict_iter(TState *ts, Value self) {
    ObjIterator *it = dict_iterator(ts, "dict_keyiterator", iter_dict_keys_step, AS_DICT(self), NONE_VAL);
    return it ? OBJ_VAL(it) : ERROR_VAL;
}

/* The reverse iterators share one step function; aux says what it yields:
 * 0 keys, 1 values, 2 items. */
static Value reverse_iterator(TState *ts, ObjDict *d, const char *name, int mode) {
    ObjIterator *it = dict_iterator(ts, name, iter_dict_reverse_step, d, INT_VAL(mode));
    if (!it) return ERROR_VAL;
    it->index = (int64_t)dict_end(d);
    return OBJ_VAL(it);
}

Value dict_reversed(TState *ts, ObjDict *d) { return reverse_iterator(ts, d, "dict_reversekeyiterator", 0); }

static Value dict_new_slot(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    /* A subclass whose mini __init__ takes the arguments gets an empty
     * dict; that __init__ fills it (dict.__init__ via super()). */
    bool init_consumes = type != ts->interp->types.dict &&
                         IS_FUNCTION(type_lookup(type, ts->interp->names.init));
    if (!init_consumes && nargs > 1)
        return err_format(ts, EXC(ts)->TypeError, "dict expected at most 1 argument, got %d", nargs);
    ObjDict *d = dict_alloc(ts, type);
    if (!d) return ERROR_VAL;
    if (init_consumes || (nargs == 0 && !kwnames)) return OBJ_VAL(d);
    vm_push(ts, OBJ_VAL(d));
    int r = update_args(ts, d, nargs ? args[0] : EMPTY_VAL, kwnames, args + nargs);
    vm_pop(ts);
    return r < 0 ? ERROR_VAL : OBJ_VAL(d);
}

static void dict_trace(GcMarker *m, Obj *self) {
    DictTable *t = table_locked((ObjDict *)self);
    if (!t) return;
    for (size_t i = 0; i < t->nentries; i++) {
        DictEntry *e = &t->entries[i];
        if (IS_EMPTY(e->key)) continue;
        gc_mark_value(m, e->key);
        gc_mark_value(m, e->value);
    }
}

static void dict_finalize(Obj *self) {
    DictTable *t = table_locked((ObjDict *)self);
    if (t) gc_free_buffer(t, table_bytes(t->nslots));
}

static size_t dict_obj_size(Obj *self) {
    (void)self;
    return sizeof(ObjDict);
}

/* ---- methods -------------------------------------------------------------- */

#define SELF AS_DICT(args[0])

static Value dict_m_get(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_CLINIC("dict", "get", 1, 2);
    Value v = dict_get(ts, SELF, args[1]);
    if (IS_EMPTY(v)) return nargs > 2 ? args[2] : NONE_VAL;
    return v;
}

static Value dict_m_setdefault(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_CLINIC("dict", "setdefault", 1, 2);
    int64_t h;
    if (ops_hash(ts, args[1], &h) < 0) return ERROR_VAL;
    Value v = EMPTY_VAL;
    return store(ts, SELF, args[1], h, nargs > 2 ? args[2] : NONE_VAL, true, &v) < 0 ? ERROR_VAL : v;
}

static Value dict_m_pop(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_CLINIC("dict", "pop", 1, 2);
    int64_t h;
    if (ops_hash(ts, args[1], &h) < 0) return ERROR_VAL;
    Value old = EMPTY_VAL;
    int r = dict_delete_hashed(ts, SELF, args[1], h, &old);
    if (r < 0) return ERROR_VAL;
    if (r == 1) return old;
    if (nargs > 2) return args[2];
    return err_set_value(ts, EXC(ts)->KeyError, args[1]);
}

static Value dict_m_popitem(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("dict.popitem", 0, 0);
    Value k, v;
    if (!dict_popitem(ts, SELF, &k, &v))
        return err_format(ts, EXC(ts)->KeyError, "popitem(): dictionary is empty");
    ObjTuple *t = tuple_pack2(ts, k, v);
    return t ? OBJ_VAL(t) : ERROR_VAL;
}

static Value dict_m_update(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (nargs > 2)
        return err_format(ts, EXC(ts)->TypeError, "update expected at most 1 argument, got %d", nargs - 1);
    return update_args(ts, SELF, nargs > 1 ? args[1] : EMPTY_VAL, kwnames, args + nargs) < 0 ? ERROR_VAL
                                                                                              : NONE_VAL;
}

static Value dict_m_init(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (nargs > 2)
        return err_format(ts, EXC(ts)->TypeError, "dict expected at most 1 argument, got %d", nargs - 1);
    return update_args(ts, SELF, nargs > 1 ? args[1] : EMPTY_VAL, kwnames, args + nargs) < 0 ? ERROR_VAL
                                                                                              : NONE_VAL;
}

static Value dict_m_copy(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("dict.copy", 0, 0);
    ObjDict *r = dict_copy(ts, SELF);
    return r ? OBJ_VAL(r) : ERROR_VAL;
}

static Value dict_m_clear(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("dict.clear", 0, 0);
    dict_clear(ts, SELF);
    return NONE_VAL;
}

static Value make_view(TState *ts, Value dict, ObjType *type) {
    ObjDictView *v = (ObjDictView *)gc_alloc(ts, sizeof(ObjDictView), OBJ_OPAQUE, type);
    if (!v) return ERROR_VAL;
    v->dict = AS_DICT(dict);
    return OBJ_VAL(v);
}

static Value dict_m_keys(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("dict.keys", 0, 0);
    return make_view(ts, args[0], ts->interp->types.dict_keys);
}
static Value dict_m_values(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("dict.values", 0, 0);
    return make_view(ts, args[0], ts->interp->types.dict_values);
}
static Value dict_m_items(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("dict.items", 0, 0);
    return make_view(ts, args[0], ts->interp->types.dict_items);
}

/* dict.fromkeys(iterable, value=None), a classmethod: args[0] is the class. */
static Value dict_m_fromkeys(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("fromkeys", 1, 2);
    Value value = nargs > 2 ? args[2] : NONE_VAL;
    bool exact = args[0] == OBJ_VAL(ts->interp->types.dict);
    Value d;
    if (exact) {
        ObjDict *nd = dict_new(ts);
        d = nd ? OBJ_VAL(nd) : ERROR_VAL;
    } else {
        d = ops_call(ts, args[0], NULL, 0, NULL);
    }
    if (IS_ERROR(d)) return d;
    vm_push(ts, d);
    Value it = ops_iter(ts, args[1]);
    int r = IS_ERROR(it) ? -1 : 0;
    if (r == 0) {
        vm_push(ts, it);
        for (;;) {
            Value k = ops_next(ts, it);
            if (IS_EMPTY(k)) break;
            if (IS_ERROR(k)) r = -1;
            else if (exact) r = dict_set(ts, AS_DICT(d), k, value);
            else r = ops_setitem(ts, d, k, value);
            if (r < 0) break;
        }
        vm_pop(ts);
    }
    vm_pop(ts);
    return r < 0 ? ERROR_VAL : d;
}

static Value dict_m_reversed(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("dict.__reversed__", 0, 0);
    return dict_reversed(ts, SELF);
}
static Value dict_m_len(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("dict.__len__", 0, 0);
    return INT_VAL((int64_t)dict_len(SELF));
}
static Value dict_m_getitem(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("dict.__getitem__", 1, 1);
    return dict_getitem(ts, args[0], args[1]);
}
static Value dict_m_setitem(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("dict.__setitem__", 2, 2);
    return dict_setitem(ts, args[0], args[1], args[2]) < 0 ? ERROR_VAL : NONE_VAL;
}
static Value dict_m_delitem(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("dict.__delitem__", 1, 1);
    return dict_setitem(ts, args[0], args[1], EMPTY_VAL) < 0 ? ERROR_VAL : NONE_VAL;
}
static Value dict_m_contains(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("dict.__contains__", 1, 1);
    int r = dict_contains(ts, args[0], args[1]);
    return r < 0 ? ERROR_VAL : BOOL_VAL(r);
}
static Value dict_m_iter(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("dict.__iter__", 0, 0);
    return dict_iter(ts, args[0]);
}
static Value dict_m_repr(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("dict.__repr__", 0, 0);
    return dict_repr(ts, args[0]);
}
static Value dict_m_eq(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("dict.__eq__", 1, 1);
    return dict_richcmp(ts, args[0], args[1], CMP_EQ);
}
static Value dict_m_ne(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("dict.__ne__", 1, 1);
    return dict_richcmp(ts, args[0], args[1], CMP_NE);
}
static Value dict_m_or(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("dict.__or__", 1, 1);
    return dict_binop(ts, BIN_OR, args[0], args[1]);
}
static Value dict_m_ior(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("dict.__ior__", 1, 1);
    return dict_inplace(ts, BIN_OR, args[0], args[1]);
}

static const NativeDef dict_methods[] = {
    {"get", dict_m_get},
    {"keys", dict_m_keys},
    {"values", dict_m_values},
    {"items", dict_m_items},
    {"pop", dict_m_pop},
    {"popitem", dict_m_popitem},
    {"setdefault", dict_m_setdefault},
    {"update", dict_m_update},
    {"copy", dict_m_copy},
    {"clear", dict_m_clear},
    {"__init__", dict_m_init},
    {"__reversed__", dict_m_reversed},
    {"__len__", dict_m_len},
    {"__getitem__", dict_m_getitem},
    {"__setitem__", dict_m_setitem},
    {"__delitem__", dict_m_delitem},
    {"__contains__", dict_m_contains},
    {"__iter__", dict_m_iter},
    {"__repr__", dict_m_repr},
    {"__eq__", dict_m_eq},
    {"__ne__", dict_m_ne},
    {"__or__", dict_m_or},
    {"__ior__", dict_m_ior},
    {NULL, NULL},
};

static const NativeDef dict_classmethods[] = {
    {"fromkeys", dict_m_fromkeys},
    {"__class_getitem__", generic_class_getitem},
    {NULL, NULL},
};

const TypeSpec dict_type_spec = {
    .name = "dict",
    .kind = OBJ_DICT,
    .obj_size = dict_obj_size,
    .flags = TYPEF_BASETYPE,
    .repr = dict_repr,
    .richcmp = dict_richcmp,
    .binop = dict_binop,
    .inplace = dict_inplace,
    .truth = dict_truth,
    .len = dict_len_slot,
    .getitem = dict_getitem,
    .setitem = dict_setitem,
    .contains = dict_contains,
    .iter = dict_iter,
    .new_ = dict_new_slot,
    .trace = dict_trace,
    .finalize = dict_finalize,
    .methods = dict_methods,
    .classmethods = dict_classmethods,
};

/* ---- views ------------------------------------------------------------------ */

#define VIEW(v) ((ObjDictView *)AS_OBJ(v))

static inline bool is_view(Value v, ObjType *type) { return IS_OBJ(v) && OBJ_TYPE(v) == type; }

enum { VIEW_KEYS, VIEW_VALUES, VIEW_ITEMS };

static int view_kind(TState *ts, Value self) {
    ObjType *t = OBJ_TYPE(self);
    return t == ts->interp->types.dict_keys ? VIEW_KEYS : t == ts->interp->types.dict_values ? VIEW_VALUES : VIEW_ITEMS;
}

static Value view_repr(TState *ts, Value self) {
    static const char *const names[] = {"dict_keys([", "dict_values([", "dict_items(["};
    int kind = view_kind(ts, self);
    ObjDict *d = VIEW(self)->dict;
    ReprGuard g;
    if (!list_repr_enter(ts, &g, AS_OBJ(self))) return OBJ_VAL(str_new(ts, "...", 3));
    StrBuf sb;
    sb_init(&sb);
    bool ok = sb_put(ts, &sb, names[kind], strlen(names[kind])), first = true;
    size_t pos = 0;
    Value k, v;
    while (ok && dict_next(d, &pos, &k, &v)) {
        vm_push(ts, v);
        ok = first || sb_put(ts, &sb, ", ", 2);
        if (ok && kind == VIEW_ITEMS)
            ok = sb_put(ts, &sb, "(", 1) && str_append_repr(ts, &sb, k) && sb_put(ts, &sb, ", ", 2) &&
                 str_append_repr(ts, &sb, v) && sb_put(ts, &sb, ")", 1);
        else if (ok)
            ok = str_append_repr(ts, &sb, kind == VIEW_KEYS ? k : v);
        vm_pop(ts);
        first = false;
    }
    ok = ok && sb_put(ts, &sb, "])", 2);
    return list_repr_leave(ts, &g, &sb, ok);
}

static int64_t view_len(TState *ts, Value self) {
    (void)ts;
    return (int64_t)dict_len(VIEW(self)->dict);
}

static Value view_iter(TState *ts, Value self) {
    static const char *const names[] = {"dict_keyiterator", "dict_valueiterator", "dict_itemiterator"};
    static const IterStepFn steps[] = {iter_dict_keys_step, iter_dict_values_step, iter_dict_items_step};
    int kind = view_kind(ts, self);
    ObjIterator *it = dict_iterator(ts, names[kind], steps[kind], VIEW(self)->dict, NONE_VAL);
    return it ? OBJ_VAL(it) : ERROR_VAL;
}

static int view_contains(TState *ts, Value self, Value item) {
    ObjDict *d = VIEW(self)->dict;
    if (view_kind(ts, self) == VIEW_KEYS) return dict_contains(ts, OBJ_VAL(d), item);
    /* items: (key, value) is in the view if d[key] == value */
    if (!IS_TUPLE(item) || AS_TUPLE(item)->len != 2) return 0;
    Value v = dict_get(ts, d, AS_TUPLE(item)->items[0]);
    if (IS_ERROR(v)) return -1;
    if (IS_EMPTY(v)) return 0;
    Value want = AS_TUPLE(item)->items[1];
    return v == want ? 1 : ops_equal(ts, v, want);
}

/* Keys and items views act as sets in comparisons and set operators. */
static bool setlike(TState *ts, Value v) {
    return IS_SET(v) || is_view(v, ts->interp->types.dict_keys) || is_view(v, ts->interp->types.dict_items);
}

static bool is_setlike_view(TState *ts, Value v) {
    return is_view(v, ts->interp->types.dict_keys) || is_view(v, ts->interp->types.dict_items);
}

static Value view_richcmp(TState *ts, Value a, Value b, CmpOp op) {
    if (!setlike(ts, a) || !setlike(ts, b)) return NOT_IMPLEMENTED_VAL;
    Value sa = IS_SET(a) ? a : set_from_iterable(ts, ts->interp->types.set, a);
    if (IS_ERROR(sa)) return sa;
    vm_push(ts, sa);
    Value sb = IS_SET(b) ? b : set_from_iterable(ts, ts->interp->types.set, b);
    Value r = IS_ERROR(sb) ? sb : ops_compare(ts, sa, sb, op);
    vm_pop(ts);
    return r;
}

/* view & other, as CPython's _PyDictView_Intersect: walk the smaller side
 * and test membership in the view. */
static Value view_intersect(TState *ts, Value self, Value other) {
    if (!is_setlike_view(ts, self)) {
        Value t = self;
        self = other;
        other = t;
    }
    size_t len_self = dict_len(VIEW(self)->dict);
    if (IS_SET(other) && OBJ_TYPE(other) == ts->interp->types.set && len_self <= set_len(AS_SET(other)))
        return set_intersection(ts, AS_SET(other), self);
    if (is_setlike_view(ts, other) && dict_len(VIEW(other)->dict) > len_self) {
        Value t = self;
        self = other;
        other = t;
    }
    ObjSet *result = set_new(ts, ts->interp->types.set);
    if (!result) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(result));
    Value it = ops_iter(ts, other);
    int r = IS_ERROR(it) ? -1 : 0;
    if (r == 0) {
        vm_push(ts, it);
        for (;;) {
            Value x = ops_next(ts, it);
            if (IS_EMPTY(x)) break;
            int c = IS_ERROR(x) ? -1 : view_contains(ts, self, x);
            if (c < 0 || (c > 0 && set_add(ts, result, x) < 0)) {
                r = -1;
                break;
            }
        }
        vm_pop(ts);
    }
    vm_pop(ts);
    return r < 0 ? ERROR_VAL : OBJ_VAL(result);
}

/* view | other, view - other, view ^ other: a set of the left operand's
 * items, updated with the right one (any iterable), as CPython. */
static Value view_binop(TState *ts, BinOp op, Value a, Value b) {
    if (op == BIN_AND) return view_intersect(ts, a, b);
    if (op != BIN_OR && op != BIN_SUB && op != BIN_XOR) return NOT_IMPLEMENTED_VAL;
    /* A keys view of a plain dict becomes a set the way the dict would. */
    Value left = a;
    if (is_view(a, ts->interp->types.dict_keys) && VIEW(a)->dict->obj.type == ts->interp->types.dict)
        left = OBJ_VAL(VIEW(a)->dict);
    Value r = set_from_iterable(ts, ts->interp->types.set, left);
    if (IS_ERROR(r)) return r;
    vm_push(ts, r);
    int rc = op == BIN_OR    ? set_update(ts, AS_SET(r), b)
             : op == BIN_SUB ? set_difference_update(ts, AS_SET(r), b)
                             : set_symmetric_difference_update(ts, AS_SET(r), b);
    vm_pop(ts);
    return rc < 0 ? ERROR_VAL : r;
}

static Value view_m_reversed(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"dict_reversekeyiterator", "dict_reversevalueiterator",
                                        "dict_reverseitemiterator"};
    ARGS_CHECK_METHOD("__reversed__", 0, 0);
    int kind = view_kind(ts, args[0]);
    return reverse_iterator(ts, VIEW(args[0])->dict, names[kind], kind);
}

static Value view_m_isdisjoint(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("isdisjoint", 1, 1);
    Value it = ops_iter(ts, args[1]);
    if (IS_ERROR(it)) return it;
    vm_push(ts, it);
    Value r = TRUE_VAL;
    for (;;) {
        Value x = ops_next(ts, it);
        if (IS_EMPTY(x)) break;
        int found = IS_ERROR(x) ? -1 : view_contains(ts, args[0], x);
        if (found != 0) {
            r = found < 0 ? ERROR_VAL : FALSE_VAL;
            break;
        }
    }
    vm_pop(ts);
    return r;
}

static void view_trace(GcMarker *m, Obj *self) { gc_mark_obj(m, &((ObjDictView *)self)->dict->obj); }

static size_t view_obj_size(Obj *self) {
    (void)self;
    return sizeof(ObjDictView);
}

/* view.mapping: a read-only proxy of the view's dict (types.MappingProxyType). */
static Value view_mapping(TState *ts, Value self) {
    Value d = OBJ_VAL(VIEW(self)->dict);
    return module_call(ts, "types", "MappingProxyType", &d, 1);
}

static const GetSetDef view_getsets[] = {
    {"mapping", view_mapping, NULL},
    {NULL, NULL, NULL},
};

static const NativeDef setlike_view_methods[] = {
    {"__reversed__", view_m_reversed},
    {"isdisjoint", view_m_isdisjoint},
    {NULL, NULL},
};

static const NativeDef values_view_methods[] = {
    {"__reversed__", view_m_reversed},
    {NULL, NULL},
};

const TypeSpec dict_keys_type_spec = {
    .name = "dict_keys",
    .kind = OBJ_OPAQUE,
    .obj_size = view_obj_size,
    .repr = view_repr,
    .richcmp = view_richcmp,
    .binop = view_binop,
    .len = view_len,
    .contains = view_contains,
    .iter = view_iter,
    .trace = view_trace,
    .methods = setlike_view_methods,
    .getsets = view_getsets,
};

const TypeSpec dict_values_type_spec = {
    .name = "dict_values",
    .kind = OBJ_OPAQUE,
    .obj_size = view_obj_size,
    .repr = view_repr,
    .len = view_len,
    .iter = view_iter,
    .trace = view_trace,
    .methods = values_view_methods,
    .getsets = view_getsets,
};

const TypeSpec dict_items_type_spec = {
    .name = "dict_items",
    .kind = OBJ_OPAQUE,
    .obj_size = view_obj_size,
    .repr = view_repr,
    .richcmp = view_richcmp,
    .binop = view_binop,
    .len = view_len,
    .contains = view_contains,
    .iter = view_iter,
    .trace = view_trace,
    .methods = setlike_view_methods,
    .getsets = view_getsets,
};
