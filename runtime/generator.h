#ifndef MINI_RUNTIME_GENERATOR_H
#define MINI_RUNTIME_GENERATOR_H

/* Generators: a suspended frame. The frame's values live in the generator
 * object, so suspending is saving ip and sp; resuming pushes a frame whose
 * base points back into the object. Coroutines and async generators are the
 * same object under other types (their code says which: CODE_COROUTINE,
 * CODE_ASYNC_GENERATOR); runtime/coroutine.c holds their types. */

#include "runtime/object.h"
#include "vm/interp.h"

typedef enum GenState { GEN_CREATED, GEN_SUSPENDED, GEN_RUNNING, GEN_CLOSED } GenState;

typedef struct ObjGenerator {
    Obj obj;
    struct ObjFunction *fn;
    const uint32_t *ip;
    Value *sp;             /* saved stack top inside values */
    _Atomic int state;     /* GenState; RUNNING guards against re-entry */
    uint8_t async_flags;   /* async generators: AG_* */
    /* The exception it was handling where it is suspended (a yield inside
     * an except or finally block), EMPTY_VAL if none: it is the handled
     * exception again when it resumes, and not its caller's meanwhile. */
    Value handled;
    /* While FOR_ITER runs it inline (FRAME_GEN_INLINE): the thread's
     * gen_caller_handled to put back when it stops. */
    Value outer_handled;
    struct ObjStr *name;
    struct ObjStr *qualname;
    struct ObjGenerator *finalize_next; /* on GcState.finalize_pending */
    struct ObjGenerator *finalizable_next; /* on TState.finalizable */
    size_t nvalues;
    Value values[];        /* the frame: locals then evaluation stack */
} ObjGenerator;

/* An asend()/athrow() awaitable is being awaited (ag_running). */
#define AG_RUNNING_ASYNC 0x01
/* aclose() ran, or the generator raised: __anext__ raises StopAsyncIteration. */
#define AG_CLOSED 0x02
/* sys.set_asyncgen_hooks' firstiter hook has been called for it. */
#define AG_HOOKS_INITED 0x04

/* A generator, coroutine or async generator (their frames work alike). */
#define IS_GENERATOR(v) IS_KIND(v, OBJ_GENERATOR)
#define AS_GENERATOR(v) ((ObjGenerator *)AS_OBJ(v))

/* Creates a generator whose frame holds the bound arguments `locals`
 * (nlocals values, cells already made). */
ObjGenerator *generator_new(TState *ts, struct ObjFunction *fn, const Value *locals);
/* Resumes with `sent` (None for next()); the yielded value, EMPTY_VAL when
 * it returned (the return value, if any, in *result), ERROR_VAL after
 * raising. */
Value generator_resume(TState *ts, ObjGenerator *gen, Value sent, Value *result);

/* "generator", "coroutine" or "async generator", for messages. */
const char *generator_kind(const ObjGenerator *gen);
bool generator_is_coroutine(const ObjGenerator *gen);
bool generator_is_async(const ObjGenerator *gen);
/* The exception gen.throw(typ[, val[, tb]]) raises, as CPython builds it. */
Value generator_throw_exception(TState *ts, Value *args, int nargs);
/* Throws exc into gen (through the iterator it delegates to, if any);
 * args/nargs are throw()'s arguments, passed on to a delegate's throw.
 * Returns as generator_resume does. */
Value generator_throw_into(TState *ts, ObjGenerator *gen, Value exc, Value *args, int nargs, Value *result);
/* gen.close(). */
Value generator_close(TState *ts, ObjGenerator *gen);
/* Raises StopIteration carrying `result` (none when it is None). */
Value generator_stop_iteration(TState *ts, Value result);

/* Whether gen, found dead by the collector, needs its finalizer: it is
 * suspended where a try, except, finally or with block covers its yield
 * (closing any other changes nothing a program can see), or it is a
 * coroutine that never started. */
bool generator_needs_finalizer(const ObjGenerator *gen);
/* Its finalizer: close(), or for a coroutine never awaited CPython's
 * "RuntimeWarning: coroutine '...' was never awaited" (through warnings);
 * an error printed as "Exception ignored in". */
void generator_finalize(TState *ts, ObjGenerator *gen);

/* The slots, methods and attributes the generator-like types share. */
void generator_trace(GcMarker *m, Obj *self);
Value generator_send_method(TState *ts, Value *args, int nargs, struct ObjTuple *kwnames);
Value generator_throw_method(TState *ts, Value *args, int nargs, struct ObjTuple *kwnames);
Value generator_close_method(TState *ts, Value *args, int nargs, struct ObjTuple *kwnames);
Value generator_get_name(TState *ts, Value self);
Value generator_get_qualname(TState *ts, Value self);
Value generator_get_running(TState *ts, Value self);
Value generator_get_suspended(TState *ts, Value self);
Value generator_get_frame(TState *ts, Value self);
Value generator_get_code(TState *ts, Value self);
/* What it awaits or yields from (cr_await, gi_yieldfrom), or None. */
Value generator_get_delegate(TState *ts, Value self);

extern const struct TypeSpec generator_type_spec;

#endif
