#include "runtime/generator.h"

#include <string.h>

#include "runtime/args.h"
#include "runtime/class.h"
#include "runtime/error.h"
#include "runtime/function.h"
#include "runtime/module.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "vm/code.h"
#include "vm/gc.h"
#include "vm/opcodes.h"
#include "vm/settrace.h"
#include "vm/vm.h"

ObjGenerator *generator_new(TState *ts, ObjFunction *fn, const Value *locals) {
    ObjCode *code = fn->code;
    size_t n = CODE_FRAME_SIZE(code);
    BuiltinTypes *types = &ts->interp->types;
    ObjType *type = (code->flags & CODE_COROUTINE)         ? types->coroutine
                    : (code->flags & CODE_ASYNC_GENERATOR) ? types->async_generator
                                                           : types->generator;
    ObjGenerator *gen = (ObjGenerator *)gc_alloc(ts, sizeof(ObjGenerator) + n * sizeof(Value), OBJ_GENERATOR, type);
    if (!gen) return NULL;
    gen->fn = fn;
    gen->ip = code->instrs;
    memcpy(gen->values, locals, code->nlocals * sizeof(Value));
    gen->sp = gen->values + code->nlocals;
    gen->nvalues = n;
    gen->name = fn->name;
    gen->qualname = fn->qualname;
    gen->async_flags = 0;
    gen->handled = EMPTY_VAL;
    gen->outer_handled = EMPTY_VAL;
    gen->finalize_next = NULL;
    atomic_init(&gen->state, GEN_CREATED);
    GcState *gc = &ts->interp->gc;
    if (code->nhandlers || (code->flags & CODE_COROUTINE)) {
        gen->finalizable_next = ts->finalizable;
        ts->finalizable = gen;
        if (!atomic_load_explicit(&gc->finalizers, memory_order_relaxed)) atomic_store(&gc->finalizers, true);
    }
    return gen;
}

bool generator_needs_finalizer(const ObjGenerator *gen) {
    int state = atomic_load(&gen->state);
    if (state == GEN_CREATED) return generator_is_coroutine(gen); /* never awaited: a warning */
    if (state != GEN_SUSPENDED) return false;
    const ObjCode *code = gen->fn->code;
    /* ip is past the instruction it stopped at, as in the dispatch loop. */
    uint32_t pc = (uint32_t)(gen->ip - code->instrs) - 1;
    for (uint32_t i = 0; i < code->nhandlers; i++)
        if (pc >= code->handlers[i].start && pc < code->handlers[i].end) return true;
    return false;
}

void generator_finalize(TState *ts, ObjGenerator *gen) {
    int state = atomic_load(&gen->state);
    bool unawaited = state == GEN_CREATED && generator_is_coroutine(gen);
    if (state != GEN_SUSPENDED && !unawaited) return;
    Value saved = err_fetch(ts);
    vm_push(ts, saved);
    Value arg = OBJ_VAL(gen);
    if (unawaited ? IS_ERROR(module_call(ts, "warnings", "_warn_unawaited_coroutine", &arg, 1))
                  : IS_ERROR(generator_close(ts, gen)))
        err_write_unraisable(ts, OBJ_VAL(gen));
    vm_pop(ts);
    if (!IS_EMPTY(saved)) err_restore(ts, saved);
}

const char *generator_kind(const ObjGenerator *gen) {
    uint32_t flags = gen->fn->code->flags;
    return (flags & CODE_COROUTINE) ? "coroutine" : (flags & CODE_ASYNC_GENERATOR) ? "async generator" : "generator";
}

bool generator_is_coroutine(const ObjGenerator *gen) { return gen->fn->code->flags & CODE_COROUTINE; }

bool generator_is_async(const ObjGenerator *gen) { return gen->fn->code->flags & CODE_ASYNC_GENERATOR; }

void generator_trace(GcMarker *m, Obj *self) {
    ObjGenerator *gen = (ObjGenerator *)self;
    gc_mark_obj(m, (Obj *)gen->fn);
    gc_mark_obj(m, (Obj *)gen->name);
    gc_mark_obj(m, (Obj *)gen->qualname);
    gc_mark_value(m, gen->handled);
    gc_mark_value(m, gen->outer_handled);
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
Value generator_stop_iteration(TState *ts, Value result) {
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
    if (IS_EMPTY(v)) return generator_stop_iteration(ts, result);
    return v;
}

Value generator_send_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "send", nargs, kwnames, 2, 2)) return ERROR_VAL;
    Value result = NONE_VAL;
    Value v = generator_resume(ts, AS_GENERATOR(args[0]), args[1], &result);
    if (IS_EMPTY(v)) return generator_stop_iteration(ts, result);
    return v;
}

Value generator_throw_exception(TState *ts, Value *args, int nargs) {
    Interp *interp = ts->interp;
    Value typ = args[0], val = nargs > 1 ? args[1] : NONE_VAL;
    if (IS_KIND(typ, OBJ_TYPE) && type_is_subtype(AS_TYPE(typ), interp->exc.BaseException)) {
        if (IS_EXCEPTION(val) && type_is_subtype(OBJ_TYPE(val), AS_TYPE(typ))) return val;
        if (IS_NONE(val)) return err_instantiate(ts, typ, NULL, 0, false);
        if (IS_TUPLE(val)) return err_instantiate(ts, typ, AS_TUPLE(val)->items, (int)AS_TUPLE(val)->len, false);
        return err_instantiate(ts, typ, &val, 1, false);
    }
    if (IS_EXCEPTION(typ)) {
        if (!IS_NONE(val))
            return err_format(ts, interp->exc.TypeError, "instance exception may not have a separate value");
        return typ;
    }
    return err_format(ts, interp->exc.TypeError,
                      "exceptions must be classes or instances deriving from BaseException, not %s",
                      ops_type_name(ts, typ));
}

/* iterator.close() of the delegate of a `yield from`, when it has one. */
static Value close_iterator(TState *ts, Value it) {
    if (IS_GENERATOR(it)) return generator_close(ts, AS_GENERATOR(it));
    Value meth = ops_getattr_opt(ts, it, str_intern_cstr(ts, "close"));
    if (IS_ERROR(meth) || IS_EMPTY(meth)) return meth;
    return vm_call(ts, meth, NULL, 0, NULL);
}

/* Throws exc into gen. While gen delegates (it waits in `yield from sub`),
 * the throw goes to sub first, as in CPython: GeneratorExit closes sub and
 * then reaches gen; another exception is thrown into sub (a generator, or
 * an iterator with a throw method, which gets the arguments as given),
 * and gen sees what comes of it: a value sub yields is yielded, sub's
 * return (StopIteration) ends the `yield from`, an exception is raised in
 * gen at the `yield from`. */
Value generator_throw_into(TState *ts, ObjGenerator *gen, Value exc, Value *args, int nargs, Value *result) {
    Interp *interp = ts->interp;
    Value sub = vm_generator_delegate(gen);
    vm_push(ts, exc);
    int expected = GEN_SUSPENDED;
    if (!IS_EMPTY(sub) && !atomic_compare_exchange_strong(&gen->state, &expected, GEN_RUNNING)) {
        vm_pop(ts);
        return err_format(ts, interp->exc.ValueError, "%s already executing", generator_kind(gen));
    }
    /* Ours now (RUNNING): read the delegate again, another thread may have
     * moved the generator on before the exchange. */
    if (!IS_EMPTY(sub) && INSTR_OP(*gen->ip) != OP_YIELD_FROM) {
        atomic_store(&gen->state, GEN_SUSPENDED);
        sub = EMPTY_VAL;
    }
    if (!IS_EMPTY(sub)) {
        sub = gen->sp[-1];
        /* Running while the delegate works: re-entering gen is an error. */
        Value r = EMPTY_VAL, sub_result = NONE_VAL;
        if (ops_isinstance(ts, exc, interp->exc.GeneratorExit)) {
            r = close_iterator(ts, sub);
            atomic_store(&gen->state, GEN_SUSPENDED);
            if (IS_ERROR(r)) exc = err_fetch(ts);
        } else {
            bool thrown = true;
            if (IS_GENERATOR(sub)) {
                r = generator_throw_into(ts, AS_GENERATOR(sub), exc, args, nargs, &sub_result);
            } else {
                Value meth = ops_getattr_opt(ts, sub, str_intern_cstr(ts, "throw"));
                if (IS_ERROR(meth) && err_matches(ts, interp->exc.AttributeError)) {
                    err_clear(ts);
                    meth = EMPTY_VAL;
                }
                if (IS_EMPTY(meth)) thrown = false;
                else r = IS_ERROR(meth) ? meth : vm_call(ts, meth, args, nargs, NULL);
            }
            atomic_store(&gen->state, GEN_SUSPENDED);
            if (thrown) {
                vm_pop(ts);
                if (!IS_ERROR(r) && !IS_EMPTY(r)) return r;
                if (IS_ERROR(r) && err_matches(ts, interp->exc.StopIteration)) {
                    Value stop = err_fetch(ts);
                    Value a = AS_EXCEPTION(stop)->args;
                    sub_result = IS_TUPLE(a) && AS_TUPLE(a)->len ? AS_TUPLE(a)->items[0] : NONE_VAL;
                    r = EMPTY_VAL;
                }
                if (IS_EMPTY(r)) {
                    vm_generator_finish_delegation(gen);
                    return generator_resume(ts, gen, sub_result, result);
                }
                exc = err_fetch(ts);
                vm_push(ts, exc);
            }
        }
    }
    Value v = vm_generator_throw(ts, gen, exc, result);
    vm_pop(ts);
    return v;
}

Value generator_throw_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "throw", nargs, kwnames, 1, INT32_MAX)) return ERROR_VAL;
    if (nargs < 2 || nargs > 4)
        return err_format(ts, ts->interp->exc.TypeError, "throw expected at %s %d argument%s, got %d",
                          nargs < 2 ? "least" : "most", nargs < 2 ? 1 : 3, nargs < 2 ? "" : "s", nargs - 1);
    Value exc = generator_throw_exception(ts, args + 1, nargs - 1);
    if (IS_ERROR(exc)) return exc;
    Value result = NONE_VAL;
    Value v = generator_throw_into(ts, AS_GENERATOR(args[0]), exc, args + 1, nargs - 1, &result);
    if (IS_EMPTY(v)) return generator_stop_iteration(ts, result);
    return v;
}

Value generator_close(TState *ts, ObjGenerator *gen) {
    int state = atomic_load(&gen->state);
    if (state == GEN_CREATED || state == GEN_CLOSED) {
        atomic_store(&gen->state, GEN_CLOSED);
        return NONE_VAL;
    }
    Value exc = exc_new(ts, ts->interp->exc.GeneratorExit, NULL, 0);
    if (IS_ERROR(exc)) return exc;
    Value result;
    Value v = generator_throw_into(ts, gen, exc, &exc, 1, &result);
    if (IS_ERROR(v)) {
        if (err_matches(ts, ts->interp->exc.GeneratorExit) || err_matches(ts, ts->interp->exc.StopIteration)) {
            err_clear(ts);
            return NONE_VAL;
        }
        return ERROR_VAL;
    }
    if (IS_EMPTY(v)) return NONE_VAL;
    return err_format(ts, ts->interp->exc.RuntimeError, "%s ignored GeneratorExit", generator_kind(gen));
}

Value generator_close_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "close", nargs, kwnames, 1, 1)) return ERROR_VAL;
    return generator_close(ts, AS_GENERATOR(args[0]));
}

Value generator_get_name(TState *ts, Value self) { (void)ts; return OBJ_VAL(AS_GENERATOR(self)->name); }
Value generator_get_qualname(TState *ts, Value self) { (void)ts; return OBJ_VAL(AS_GENERATOR(self)->qualname); }
Value generator_get_running(TState *ts, Value self) {
    (void)ts;
    return BOOL_VAL(atomic_load(&AS_GENERATOR(self)->state) == GEN_RUNNING);
}
/* gi_suspended/cr_suspended (3.11): paused at a yield or await, which
 * inspect.getgeneratorstate tells from a generator not yet started. */
Value generator_get_suspended(TState *ts, Value self) {
    (void)ts;
    return BOOL_VAL(atomic_load(&AS_GENERATOR(self)->state) == GEN_SUSPENDED);
}

/* gi_frame: None once it has ended; else a snapshot of the frame where it
 * stands (its code and line), which does not follow it as it runs on. */
Value generator_get_frame(TState *ts, Value self) {
    ObjGenerator *gen = AS_GENERATOR(self);
    if (atomic_load(&gen->state) == GEN_CLOSED) return NONE_VAL;
    ObjCode *code = gen->fn->code;
    size_t pc = (size_t)(gen->ip - code->instrs);
    int line = pc == 0 ? code->first_line : (int)code->lines[pc - 1];
    return frame_snapshot(ts, gen->fn, line);
}

Value generator_get_code(TState *ts, Value self) {
    (void)ts;
    return OBJ_VAL(AS_GENERATOR(self)->fn->code);
}

Value generator_get_delegate(TState *ts, Value self) {
    (void)ts;
    Value sub = vm_generator_delegate(AS_GENERATOR(self));
    return IS_EMPTY(sub) ? NONE_VAL : sub;
}

static const NativeDef generator_methods[] = {
    {"__next__", generator_next_method},
    {"send", generator_send_method},
    {"throw", generator_throw_method},
    {"close", generator_close_method},
    {NULL, NULL},
};

static const GetSetDef generator_getsets[] = {
    {"__name__", generator_get_name, NULL},
    {"__qualname__", generator_get_qualname, NULL},
    {"gi_running", generator_get_running, NULL},
    {"gi_suspended", generator_get_suspended, NULL},
    {"gi_frame", generator_get_frame, NULL},
    {"gi_code", generator_get_code, NULL},
    {"gi_yieldfrom", generator_get_delegate, NULL},
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
