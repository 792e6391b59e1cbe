#ifndef MINI_RUNTIME_SET_H
#define MINI_RUNTIME_SET_H

/* set and frozenset: CPython's set table (open addressing with linear
 * probing, the same growth, deletion and merge rules), so a set iterates,
 * prints and pops in the order CPython's would after the same operations:
 * sets of ints look exactly as in CPython.
 *
 * GIL-off: the discipline of dict.h. Writers hold the set's mutex; readers
 * take no lock. An entry's hash is stored before its key (release), so a
 * reader that sees the key sees its hash. A replaced table is retired, not
 * freed; __eq__ runs with the mutex released and the probe restarts if the
 * set changed meanwhile. */

#include "runtime/dict.h"

typedef struct SetEntry {
    Value key;    /* EMPTY_VAL: never used; a private marker: deleted */
    int64_t hash; /* -1 for a deleted entry */
} SetEntry;

typedef struct SetTable {
    size_t mask; /* size - 1; the size is a power of two */
    SetEntry entries[];
} SetTable;

typedef struct ObjSet {
    Obj obj;
    SetTable *_Atomic table;  /* NULL: empty, with the minimum size */
    _Atomic size_t used;      /* live items */
    _Atomic size_t fill;      /* live and deleted entries */
    size_t finger;            /* where pop() starts looking (writers only) */
    _Atomic uint32_t version; /* changes whenever an item comes or goes, or
                                 the table is rebuilt */
} ObjSet;

#define IS_SET(v) (IS_KIND(v, OBJ_SET))
#define AS_SET(v) ((ObjSet *)AS_OBJ(v))

ObjSet *set_new(TState *ts, ObjType *type); /* set or frozenset */
int set_add(TState *ts, ObjSet *s, Value v);
/* 1, 0, or -1 after raising. */
int set_contains(TState *ts, ObjSet *s, Value v);
size_t set_len(const ObjSet *s);
/* Iteration in table order: *pos starts at 0. */
bool set_next(ObjSet *s, size_t *pos, Value *key, int64_t *hash);

/* A new set or frozenset (type or a subclass) of the iterable's items. */
Value set_from_iterable(TState *ts, ObjType *type, Value iterable);
/* s & it (a new set of s's base type) with any iterable. */
Value set_intersection(TState *ts, ObjSet *s, Value iterable);
/* s.update(it), s.difference_update(it), s.symmetric_difference_update(it)
 * with any iterable: 0, or -1 after raising. */
int set_update(TState *ts, ObjSet *s, Value iterable);
int set_difference_update(TState *ts, ObjSet *s, Value iterable);
int set_symmetric_difference_update(TState *ts, ObjSet *s, Value iterable);

extern const struct TypeSpec set_type_spec;
extern const struct TypeSpec frozenset_type_spec;

#endif
