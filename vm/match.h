#ifndef MINI_VM_MATCH_H
#define MINI_VM_MATCH_H

/* The run-time half of the match statement: what the MATCH_* instructions
 * ask of the subject (the compiler's half is compile_match). */

#include <stdbool.h>
#include <stdint.h>

#include "runtime/object.h"

struct ObjTuple;

/* Whether v is matched by sequence patterns (list, tuple, range and their
 * subclasses; never str) or by mapping patterns (dict and subclasses). */
bool match_is_sequence(TState *ts, Value v);
bool match_is_mapping(TState *ts, Value v);
/* The values of `keys` in the mapping, as a tuple; None when one is
 * missing; ERROR_VAL after raising (a key repeated: ValueError). */
Value match_keys(TState *ts, Value map, struct ObjTuple *keys);
/* A dict of the mapping's items whose keys are not in `keys`. */
Value match_rest(TState *ts, Value map, struct ObjTuple *keys);
/* Class pattern: whether subject is an instance of cls; then its npos
 * positional sub-pattern attributes (through __match_args__) and the named
 * ones, as a tuple; None when it does not match. */
Value match_class(TState *ts, Value subject, Value cls, uint32_t npos, struct ObjTuple *names);

#endif
