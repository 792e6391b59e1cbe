#ifndef MINI_RUNTIME_ITERATOR_H
#define MINI_RUNTIME_ITERATOR_H

/* Built-in iterators (over lists, tuples, strs, dicts, ranges, and the
 * lazy built-ins map/filter/zip/enumerate...) share one object kind: a C
 * step function plus a little state. */

#include "runtime/object.h"

struct ObjIterator;
/* Returns the next item, EMPTY_VAL when exhausted, ERROR_VAL after raising. */
typedef Value (*IterStepFn)(TState *ts, struct ObjIterator *it);

typedef struct ObjIterator {
    Obj obj;
    IterStepFn step;
    const char *type_name; /* e.g. "list_iterator", for repr and errors */
    Value source;          /* the iterated object (traced) */
    Value aux;             /* a second traced value (map's function, ...) */
    int64_t index;
    int64_t end;
    int64_t step_by;
} ObjIterator;

#define IS_ITERATOR(v) IS_KIND(v, OBJ_ITERATOR)
#define AS_ITERATOR(v) ((ObjIterator *)AS_OBJ(v))

ObjIterator *iterator_new(TState *ts, const char *type_name, IterStepFn step, Value source,
                          Value aux);

/* The old sequence protocol: iterate obj[0], obj[1], ... until IndexError
 * (classes with __getitem__ but no __iter__). */
Value seq_iter_new(TState *ts, Value seq);

/* Step functions of the built-in containers' iterators, public so the VM
 * can recognise (and inline) them. Their state:
 *   list, tuple:  source = the sequence, index = next position
 *   list reverse: source = the list, index = next position (counting down)
 *   str:          source = the str, index = next byte offset, end = length
 *   dict (keys, values, items, reversed):
 *                 source = the dict, index = next entry position, end =
 *                 size when iteration began, step_by = items left, aux =
 *                 what the reverse iterator yields (0 keys, 1 values, 2
 *                 items)
 *   set:          source = the set, index = next table slot, end = size
 *                 when iteration began
 *   range:        index = next value, end = items left, step_by = step */
Value iter_list_step(TState *ts, ObjIterator *it);
Value iter_list_reverse_step(TState *ts, ObjIterator *it);
Value iter_tuple_step(TState *ts, ObjIterator *it);
Value iter_str_step(TState *ts, ObjIterator *it);
Value iter_dict_keys_step(TState *ts, ObjIterator *it);
Value iter_dict_values_step(TState *ts, ObjIterator *it);
Value iter_dict_items_step(TState *ts, ObjIterator *it);
Value iter_dict_reverse_step(TState *ts, ObjIterator *it);
Value iter_set_step(TState *ts, ObjIterator *it);
Value iter_range_step(TState *ts, ObjIterator *it);

extern const struct TypeSpec iterator_type_spec;

#endif
