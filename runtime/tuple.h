#ifndef MINI_RUNTIME_TUPLE_H
#define MINI_RUNTIME_TUPLE_H

#include <stddef.h>

#include "runtime/object.h"

typedef struct ObjTuple {
    Obj obj;
    size_t len;
    Value items[];
} ObjTuple;

#define IS_TUPLE(v) IS_KIND(v, OBJ_TUPLE)
/* The same for tuples (see IS_LIST_ITER). */
#define IS_TUPLE_ITER(ts, v) (IS_TUPLE(v) && AS_OBJ(v)->type->iter == (ts)->interp->types.tuple->iter)
#define AS_TUPLE(v) ((ObjTuple *)AS_OBJ(v))

/* A tuple of n items, each None until the caller fills it. */
ObjTuple *tuple_new(TState *ts, size_t n);
/* A tuple of n Nones whose type is `type`, a subclass of tuple (with the
 * __dict__ its instances have): how C code makes a named result such as
 * os.stat_result without running the class's __new__. */
ObjTuple *tuple_new_of(TState *ts, ObjType *type, size_t n);
ObjTuple *tuple_from(TState *ts, const Value *items, size_t n);
ObjTuple *tuple_pack2(TState *ts, Value a, Value b);

extern const struct TypeSpec tuple_type_spec;

#endif
