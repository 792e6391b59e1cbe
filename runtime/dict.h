#ifndef MINI_RUNTIME_DICT_H
#define MINI_RUNTIME_DICT_H

/* dict: insertion-ordered hash table (CPython's compact layout: a sparse
 * index table pointing into a dense entry array). Also the namespace of
 * modules, classes and instances.
 *
 * Lookups by interned string (attributes, globals) compare pointers first.
 * `entries` positions are stable until the table is rebuilt, so inline
 * caches remember an entry index and verify the key is still there
 * (dict_cached_get). GIL-off: like list, mutation holds the object mutex and
 * replaced tables are retired, not freed. */

#include <stdbool.h>
#include <stddef.h>

#include "runtime/object.h"

typedef struct DictEntry {
    Value key;   /* EMPTY_VAL: deleted entry */
    Value value;
    int64_t hash;
} DictEntry;

typedef struct DictTable {
    size_t nslots;    /* power of two, size of the index table */
    size_t nentries;  /* used entry positions (live or deleted) */
    size_t capacity;  /* entry array capacity */
    size_t usable;    /* insertions left before a rebuild; deletions don't
                         give any back, so empty index slots never run out */
    DictEntry *entries;
    /* Bit (hash & 63) of every key ever added (deletions clear none): a
     * key whose bit is clear is surely absent. The VM asks that of an
     * instance dict on every cached method call (is the method shadowed?). */
    _Atomic uint64_t key_bits;
    int32_t indices[]; /* -1 empty, -2 deleted, else entry position */
} DictTable;

typedef struct ObjDict {
    Obj obj;
    _Atomic size_t count;      /* live entries */
    DictTable *_Atomic table;
    _Atomic uint32_t keys_version; /* bumped when a key is added or removed */
} ObjDict;

static inline uint64_t dict_key_bit(int64_t hash) { return (uint64_t)1 << ((uint64_t)hash & 63); }
/* False when d surely has no key of this hash: one load and a test, no
 * probing. */
static inline bool dict_may_have_hash(ObjDict *d, int64_t hash) {
    DictTable *t = atomic_load_explicit(&d->table, memory_order_acquire);
    return t && (atomic_load_explicit(&t->key_bits, memory_order_relaxed) & dict_key_bit(hash));
}

#define IS_DICT(v) IS_KIND(v, OBJ_DICT)
#define AS_DICT(v) ((ObjDict *)AS_OBJ(v))

ObjDict *dict_new(TState *ts);
/* Lookup: the value, EMPTY_VAL if absent, ERROR_VAL if hashing or
 * comparing raised. */
Value dict_get(TState *ts, ObjDict *d, Value key);
/* 0, or -1 after raising. */
int dict_set(TState *ts, ObjDict *d, Value key, Value value);
/* 1 deleted, 0 absent, -1 raised. */
int dict_delete(TState *ts, ObjDict *d, Value key);
/* Fast paths for interned-string keys: never call mini code. */
Value dict_get_str(ObjDict *d, struct ObjStr *key);
int dict_set_str(TState *ts, ObjDict *d, struct ObjStr *key, Value value);
/* Inline-cache helpers: the entry position of an interned key, or -1; and
 * the value at a remembered position if that entry still holds `key`. */
int64_t dict_find_str_index(ObjDict *d, struct ObjStr *key);
Value dict_cached_get_slow(ObjDict *d, struct ObjStr *key, int64_t index);
/* Always inlined: the loop's cached attribute and global reads are made of it. */
static inline __attribute__((always_inline)) Value dict_cached_get(ObjDict *d, struct ObjStr *key, int64_t index) {
    DictTable *t = atomic_load_explicit(&d->table, memory_order_acquire);
    if (t && index >= 0 && (size_t)index < __atomic_load_n(&t->nentries, __ATOMIC_ACQUIRE)) {
        const DictEntry *e = &t->entries[index];
        if (__atomic_load_n(&e->key, __ATOMIC_ACQUIRE) == OBJ_VAL(key))
            return __atomic_load_n(&e->value, __ATOMIC_ACQUIRE);
    }
    return dict_cached_get_slow(d, key, index);
}
/* Stores into a remembered position if that entry still holds `key`;
 * false (nothing stored) otherwise. */
bool dict_cached_set(TState *ts, ObjDict *d, struct ObjStr *key, int64_t index, Value value);
size_t dict_len(const ObjDict *d);
/* Iteration by position: advances *pos; false at the end. */
bool dict_next(ObjDict *d, size_t *pos, Value *key, Value *value);
int dict_update(TState *ts, ObjDict *dst, Value src);
/* A call's **src merged into dst (CPython's DICT_MERGE): a dict's
 * entries, or any mapping's keys() and their values. 0; 1 at a key dst
 * already has (in *dup; nothing raised, dst then holds the keys before
 * it); 2 when src is not a mapping (nothing raised); -1 after raising. */
int dict_merge_kwargs(TState *ts, ObjDict *dst, Value src, Value *dup);
/* A dict whose entries are what iterating it gives (not a subclass that
 * overrides __iter__): C code may read it as a mapping directly. */
bool dict_is_plain_mapping(Value v);
ObjDict *dict_copy(TState *ts, ObjDict *d);
/* The dict an operation that reads all of d (update, ==, set(d)) walks:
 * with the GIL off, a copy taken under d's mutex, so that it sees one state
 * of d while other threads change it; with the GIL on, d itself (no other
 * thread runs C code meanwhile, as in CPython). NULL after raising; the
 * caller keeps the result on the VM stack while it may run mini code. */
ObjDict *dict_for_reading(TState *ts, ObjDict *d);

/* Key equality decided without running mini code (identity, exact strs,
 * numbers, constants): 1, 0, or -1 when __eq__ must decide. */
int dict_key_eq_fast(TState *ts, Value a, Value b);
/* Lookup, store and delete with the key's hash already known (set
 * operations reuse the hashes stored in their tables). dict_delete_hashed
 * stores the removed value in *old when old is not NULL. */
Value dict_get_hashed(TState *ts, ObjDict *d, Value key, int64_t hash);
int dict_set_hashed(TState *ts, ObjDict *d, Value key, int64_t hash, Value value);
int dict_delete_hashed(TState *ts, ObjDict *d, Value key, int64_t hash, Value *old);
/* dict_next that also yields the stored hash. */
bool dict_next_hashed(ObjDict *d, size_t *pos, Value *key, Value *value, int64_t *hash);
/* Iteration backwards: *pos starts at dict_end(d) and moves down. */
size_t dict_end(ObjDict *d);
bool dict_prev(ObjDict *d, size_t *pos, Value *key, Value *value);
/* Removes the last inserted item; false (nothing raised) when empty. */
bool dict_popitem(TState *ts, ObjDict *d, Value *key, Value *value);
void dict_clear(TState *ts, ObjDict *d);
/* reversed(d): a dict_reversekeyiterator. */
Value dict_reversed(TState *ts, ObjDict *d);

/* The views d.keys(), d.values(), d.items(). Their types live in
 * Interp.types (dict_keys, dict_values, dict_items); a view has the
 * OBJ_OPAQUE layout below. */
typedef struct ObjDictView {
    Obj obj;
    ObjDict *dict;
} ObjDictView;

extern const struct TypeSpec dict_type_spec;
extern const struct TypeSpec dict_keys_type_spec;
extern const struct TypeSpec dict_values_type_spec;
extern const struct TypeSpec dict_items_type_spec;

#endif
