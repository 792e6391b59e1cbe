#ifndef MINI_RUNTIME_LIST_H
#define MINI_RUNTIME_LIST_H

/* list: a growable array of values.
 *
 * GIL-off safety: mutations hold the list's object mutex (obj_lock); the
 * item array carries its own capacity, and a replaced array is retired
 * (gc_retire_buffer), not freed, so a reader that loaded the old array
 * pointer still reads valid memory, bounds-checked against that array's own
 * capacity. A racing reader sees an old or a new item, never garbage. */

#include <stdbool.h>
#include <stddef.h>

#include "runtime/object.h"

typedef struct ValueArray {
    size_t cap;
    Value items[];
} ValueArray;

typedef struct ObjList {
    Obj obj;
    _Atomic size_t len;
    ValueArray *_Atomic array; /* NULL while empty with no capacity */
} ObjList;

#define IS_LIST(v) IS_KIND(v, OBJ_LIST)
/* A list whose type iterates it as list does (list itself, or a subclass
 * that leaves __iter__ alone), so C code may read its items instead:
 * CPython's fast paths check for the exact type. */
#define IS_LIST_ITER(ts, v) (IS_LIST(v) && AS_OBJ(v)->type->iter == (ts)->interp->types.list->iter)
#define AS_LIST(v) ((ObjList *)AS_OBJ(v))

ObjList *list_new(TState *ts, size_t capacity);
ObjList *list_from(TState *ts, const Value *items, size_t n);
/* 0, or -1 after raising MemoryError. */
int list_append(TState *ts, ObjList *list, Value v);
size_t list_len(const ObjList *list);
/* EMPTY_VAL when index is out of range (no exception raised). */
Value list_get(const ObjList *list, size_t index);
void list_set(TState *ts, ObjList *list, size_t index, Value v);
/* list[index] = v as one step (a negative index counts from the end);
 * false, raising nothing, when index is out of range. */
bool list_set_index(TState *ts, ObjList *list, int64_t index, Value v);
/* A snapshot of the items, for C code that iterates while mini code may
 * run: the caller frees it with gc_free_buffer(items, n * sizeof(Value)). */
Value *list_snapshot(TState *ts, ObjList *list, size_t *n);
/* When `list` holds exactly n items, copies them (one state, under its
 * mutex) to dst in reverse, the last item to dst[0], as unpacking leaves
 * them on the VM stack; false, raising nothing, otherwise. */
bool list_unpack(TState *ts, ObjList *list, Value *dst, size_t n);
/* Copies the items of one state of `list` to dst when there are at most
 * `room` of them; returns how many there are (nothing copied if more). */
size_t list_copy_items(TState *ts, ObjList *list, Value *dst, size_t room);
/* A new list with the items of one state of `list` (copied under its
 * mutex). NULL after raising. */
ObjList *list_copy(TState *ts, ObjList *list);
/* sort in place; key may be NONE_VAL. 0, or -1 after raising. */
int list_sort(TState *ts, ObjList *list, Value key, bool reverse);
/* Extend with any iterable. 0, or -1 after raising. */
int list_extend(TState *ts, ObjList *list, Value iterable);

/* reversed(list): a list_reverseiterator. */
Value list_reversed(TState *ts, ObjList *list);

/* Cycle guard for the repr of containers ("[...]", "{...}"): the objects
 * whose repr is in progress on the running thread, chained through the C
 * stack frames doing them. list_repr_enter returns false (and does not
 * link g) when o is already being repr'd; otherwise it keeps o on the
 * value stack, and list_repr_leave ends the repr: it unlinks g and makes a
 * str of the text in sb, or frees sb and returns ERROR_VAL when !ok. */
typedef struct ReprGuard {
    struct ReprGuard *prev;
    Obj *obj;
} ReprGuard;
struct StrBuf;
bool list_repr_enter(TState *ts, ReprGuard *g, Obj *o);
Value list_repr_leave(TState *ts, ReprGuard *g, struct StrBuf *sb, bool ok);

extern const struct TypeSpec list_type_spec;

#endif
