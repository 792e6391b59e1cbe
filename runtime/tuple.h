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
#define AS_TUPLE(v) ((ObjTuple *)AS_OBJ(v))

/* A tuple of n items, each None until the caller fills it. */
ObjTuple *tuple_new(TState *ts, size_t n);
ObjTuple *tuple_from(TState *ts, const Value *items, size_t n);
ObjTuple *tuple_pack2(TState *ts, Value a, Value b);

extern const struct TypeSpec tuple_type_spec;

#endif
