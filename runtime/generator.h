#ifndef MINI_RUNTIME_GENERATOR_H
#define MINI_RUNTIME_GENERATOR_H

/* Generators: a suspended frame. The frame's values live in the generator
 * object, so suspending is saving ip and sp; resuming pushes a frame whose
 * base points back into the object. */

#include "runtime/object.h"
#include "vm/interp.h"

typedef enum GenState { GEN_CREATED, GEN_SUSPENDED, GEN_RUNNING, GEN_CLOSED } GenState;

typedef struct ObjGenerator {
    Obj obj;
    struct ObjFunction *fn;
    const uint32_t *ip;
    Value *sp;             /* saved stack top inside values */
    _Atomic int state;     /* GenState; RUNNING guards against re-entry */
    struct ObjStr *name;
    struct ObjStr *qualname;
    size_t nvalues;
    Value values[];        /* the frame: locals then evaluation stack */
} ObjGenerator;

#define IS_GENERATOR(v) IS_KIND(v, OBJ_GENERATOR)
#define AS_GENERATOR(v) ((ObjGenerator *)AS_OBJ(v))

/* Creates a generator whose frame holds the bound arguments `locals`
 * (nlocals values, cells already made). */
ObjGenerator *generator_new(TState *ts, struct ObjFunction *fn, const Value *locals);
/* Resumes with `sent` (None for next()); the yielded value, EMPTY_VAL when
 * it returned (the return value, if any, in *result), ERROR_VAL after
 * raising. */
Value generator_resume(TState *ts, ObjGenerator *gen, Value sent, Value *result);

extern const struct TypeSpec generator_type_spec;

#endif
