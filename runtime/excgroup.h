#ifndef MINI_RUNTIME_EXCGROUP_H
#define MINI_RUNTIME_EXCGROUP_H

/* BaseExceptionGroup and ExceptionGroup (PEP 654): their construction and
 * methods, and what the `except*` instructions ask of them. */

#include <stdbool.h>

#include "runtime/object.h"

struct ObjList;
struct ObjTuple;
struct TypeSpec;

/* Is v an exception group (an instance of BaseExceptionGroup)? */
bool eg_is_group(TState *ts, Value v);
/* A group's exceptions (a non-empty tuple). */
struct ObjTuple *eg_exceptions(Value group);
/* BaseExceptionGroup(message, exceptions) and its subclasses, with
 * CPython's checks: BaseException's new_ slot hands groups here. */
Value eg_new(TState *ts, ObjType *type, Value *args, int nargs, struct ObjTuple *kwnames);
/* str(group): "message (2 sub-exceptions)". */
Value eg_str(TState *ts, Value self);
/* Gives BaseExceptionGroup's spec its methods and attributes. */
void eg_spec(struct TypeSpec *spec);
/* After the exception types exist: ExceptionGroup derives from both
 * BaseExceptionGroup and Exception. */
bool eg_init_types(TState *ts);

/* CHECK_EG_MATCH: the part of exc that an `except* type` clause takes
 * (NONE_VAL for none; a naked exception comes wrapped in a group), *rest
 * what is left (NONE_VAL for nothing). TypeError for a group class. */
Value eg_except_star_match(TState *ts, Value exc, Value type, Value *rest);
/* PREP_RERAISE_STAR: what a try-except* statement raises at its end, from
 * the exception it caught and the list of the exceptions its clauses raised
 * or re-raised (and the unhandled rest): NONE_VAL for nothing. */
Value eg_prep_reraise_star(TState *ts, Value orig, struct ObjList *excs);

#endif
