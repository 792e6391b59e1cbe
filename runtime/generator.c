#include "runtime/generator.h"

#include <string.h>

#include "runtime/args.h"
#include "runtime/error.h"
#include "runtime/function.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "vm/code.h"
#include "vm/gc.h"
#include "vm/vm.h"

ObjGenerator *generator_new(TState *ts, ObjFunction *fn, const Value *locals) {
    ObjCode *code = fn->code;
    size_t n = CODE_FRAME_SIZE(code);
    ObjGenerator *gen = (ObjGenerator *)gc_alloc(ts, sizeof(ObjGenerator) + n * sizeof(Value),
                                                 OBJ_GENERATOR, ts->interp->types.generator);
    if (!gen) return NULL;
    gen->fn = fn;
    gen->ip = code->instrs;
    memcpy(gen->values, locals, code->nlocals * sizeof(Value));
    gen->sp = gen->values + code->nlocals;
    gen->nvalues = n;
    gen->name = fn->name;
    gen->qualname = fn->qualname;
    atomic_init(&gen->state, GEN_CREATED);
    return gen;
}

static void generator_trace(GcMarker *m, Obj *self) {
    ObjGenerator *gen = (ObjGenerator *)self;
    gc_mark_obj(m, (Obj *)gen->fn);
    gc_mark_obj(m, (Obj *)gen->name);
    gc_mark_obj(m, (Obj *)gen->qualname);
    /* A running generator's live values are scanned through its frame;
     * only the suspended part below the saved top is valid here. */
    int state = atomic_load(&gen->state);
    if (state != GEN_CLOSED && gen->sp >= gen->values)
        gc_mark_values(m, gen->values, (size_t)(gen->sp - gen->values));
}

static Value generator_repr(TState *ts, Value self) {
    ObjGenerator *gen = AS_GENERATOR(self);
    return OBJ_VAL(str_printf(ts, "<generator object %s at %p>", gen->qualname->data, (void *)gen));
}

static Value generator_iter(TState *ts, Value self) {
    (void)ts;
    return self;
}

static Value generator_next(TState *ts, Value self) {
    Value result;
    return generator_resume(ts, AS_GENERATOR(self), NONE_VAL, &result);
}

/* Turns "the generator returned `result`" into StopIteration(result). */
static Value stop_iteration(TState *ts, Value result) {
    if (IS_NONE(result)) {
        Value exc = exc_new(ts, ts->interp->exc.StopIteration, NULL, 0);
        if (IS_ERROR(exc)) return exc;
        return err_raise(ts, exc);
    }
    return err_set_value(ts, ts->interp->exc.StopIteration, result);
}

static Value generator_next_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__next__", nargs, kwnames, 1, 1)) return ERROR_VAL;
    Value result = NONE_VAL;
    Value v = generator_resume(ts, AS_GENERATOR(args[0]), NONE_VAL, &result);
    if (IS_EMPTY(v)) return stop_iteration(ts, result);
    return v;
}

static Value generator_send(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "send", nargs, kwnames, 2, 2)) return ERROR_VAL;
    Value result = NONE_VAL;
    Value v = generator_resume(ts, AS_GENERATOR(args[0]), args[1], &result);
    if (IS_EMPTY(v)) return stop_iteration(ts, result);
    return v;
}

static Value generator_throw(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "throw", nargs, kwnames, 2, 4)) return ERROR_VAL;
    Value exc = args[1];
    if (IS_KIND(exc, OBJ_TYPE)) {
        exc = vm_call(ts, exc, nargs > 2 ? &args[2] : NULL, nargs > 2 ? 1 : 0, NULL);
        if (IS_ERROR(exc)) return exc;
    }
    if (!IS_EXCEPTION(exc))
        return err_format(ts, ts->interp->exc.TypeError,
                          "exceptions must be classes or instances deriving from BaseException, not %s",
                          ops_type_name(ts, exc));
    vm_push(ts, exc);
    Value result = NONE_VAL;
    Value v = vm_generator_throw(ts, AS_GENERATOR(args[0]), exc, &result);
    vm_pop(ts);
    if (IS_EMPTY(v)) return stop_iteration(ts, result);
    return v;
}

static Value generator_close(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "close", nargs, kwnames, 1, 1)) return ERROR_VAL;
    ObjGenerator *gen = AS_GENERATOR(args[0]);
    int state = atomic_load(&gen->state);
    if (state == GEN_CREATED || state == GEN_CLOSED) {
        atomic_store(&gen->state, GEN_CLOSED);
        return NONE_VAL;
    }
    Value exc = exc_new(ts, ts->interp->exc.GeneratorExit, NULL, 0);
    if (IS_ERROR(exc)) return exc;
    Value result;
    Value v = vm_generator_throw(ts, gen, exc, &result);
    if (IS_ERROR(v)) {
        if (err_matches(ts, ts->interp->exc.GeneratorExit) || err_matches(ts, ts->interp->exc.StopIteration)) {
            err_clear(ts);
            return NONE_VAL;
        }
        return ERROR_VAL;
    }
    if (IS_EMPTY(v)) return NONE_VAL;
    return err_format(ts, ts->interp->exc.RuntimeError, "generator ignored GeneratorExit");
}

static Value gen_get_name(TState *ts, Value self) { (void)ts; return OBJ_VAL(AS_GENERATOR(self)->name); }
static Value gen_get_qualname(TState *ts, Value self) { (void)ts; return OBJ_VAL(AS_GENERATOR(self)->qualname); }
static Value gen_get_running(TState *ts, Value self) {
    (void)ts;
    return BOOL_VAL(atomic_load(&AS_GENERATOR(self)->state) == GEN_RUNNING);
}

static const NativeDef generator_methods[] = {
    {"__next__", generator_next_method},
    {"send", generator_send},
    {"throw", generator_throw},
    {"close", generator_close},
    {NULL, NULL},
};

static const GetSetDef generator_getsets[] = {
    {"__name__", gen_get_name, NULL},
    {"__qualname__", gen_get_qualname, NULL},
    {"gi_running", gen_get_running, NULL},
    {NULL, NULL, NULL},
};

const TypeSpec generator_type_spec = {
    .name = "generator",
    .kind = OBJ_GENERATOR,
    .repr = generator_repr,
    .iter = generator_iter,
    .next = generator_next,
    .trace = generator_trace,
    .methods = generator_methods,
    .getsets = generator_getsets,
};
