#ifndef MINI_RUNTIME_GENERIC_H
#define MINI_RUNTIME_GENERIC_H

/* Run-time generics (PEP 585, PEP 604): list[int] is a types.GenericAlias
 * and int | None a types.UnionType. Both classes are written in mini
 * (stdlib/types.mini); the built-in classes reach them from here. */

#include "runtime/object.h"
#include "runtime/types.h"

/* cls.__class_getitem__(item), a classmethod: types.GenericAlias(cls, item). */
Value generic_class_getitem(TState *ts, Value *args, int nargs, struct ObjTuple *kwnames);

/* The classmethods of a built-in class that is generic and has no others:
 * list, tuple, set, frozenset, type. */
extern const NativeDef generic_classmethods[];

/* type's binary operators: a | b is types._union(a, b) (NotImplemented when
 * an operand is neither a class, None, an alias nor a union). */
Value generic_type_binop(TState *ts, BinOp op, Value a, Value b);

#endif
