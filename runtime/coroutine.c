/* Coroutines and async generators (PEP 492, PEP 525).
 *
 * - A coroutine is an ObjGenerator whose code is CODE_COROUTINE: calling an
 *   `async def` makes one, and the generator machinery (resume, throw,
 *   close, delegation) runs it. It is not an iterator: `await` delegates to
 *   it with YIELD_FROM as `yield from` does, and __await__() hands an event
 *   loop written in mini a coroutine_wrapper iterator over it.
 * - An async generator is an ObjGenerator whose code is
 *   CODE_ASYNC_GENERATOR. Its frame suspends for two reasons: its own
 *   `yield` (YIELD_VALUE) and an `await` inside it passing a value up to the
 *   event loop (YIELD_FROM, where its saved ip then stands). CPython wraps
 *   the first kind of value to tell them apart; here the suspended frame
 *   says which it was. __anext__()/asend() return an async_generator_asend
 *   awaitable, athrow()/aclose() an async_generator_athrow: awaiting one
 *   resumes the generator, passes awaited values up unchanged, and ends with
 *   StopIteration(value) at the generator's own yield or StopAsyncIteration
 *   when it returns.
 * - coro_get_awaitable, coro_get_aiter, coro_get_anext: the await and
 *   `async for` protocol, with CPython's TypeErrors.
 * - aiter(), anext(): the built-ins; anext() with a default returns an
 *   anext_awaitable, which awaits __anext__()'s result and turns its
 *   StopAsyncIteration into the default.
 *
 * Not done: the "coroutine ... was never awaited" RuntimeWarning. A
 * coroutine is collected in a sweep, where the names it would print may
 * already be freed, and at no point a user could place; for the same
 * reason sys.set_asyncgen_hooks' finalizer is never called (its firstiter
 * is, see agen_init_hooks), and cr_origin tracking does not exist. */

#include "runtime/coroutine.h"

#include <stdio.h>
#include <string.h>

#include "runtime/args.h"
#include "runtime/class.h"
#include "runtime/error.h"
#include "runtime/generator.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "vm/code.h"
#include "vm/gc.h"
#include "vm/opcodes.h"
#include "vm/vm.h"

#define EXC(ts) (&(ts)->interp->exc)

/* The arguments of a slot method (__await__, __anext__, __next__...):
 * none besides self, or CPython's slot-wrapper error. */
static bool no_args(TState *ts, int nargs, ObjTuple *kwnames) {
    int n = nargs - 1 + (kwnames ? (int)kwnames->len : 0);
    if (n == 0) return true;
    err_format(ts, EXC(ts)->TypeError, "expected 0 arguments, got %d", n);
    return false;
}

static bool is_coroutine(Value v) { return IS_GENERATOR(v) && generator_is_coroutine(AS_GENERATOR(v)); }

static bool is_async_generator(Value v) { return IS_GENERATOR(v) && generator_is_async(AS_GENERATOR(v)); }

/* ---- the await protocol -------------------------------------------------- */

/* Calls the special method `name` of v's type, or returns EMPTY_VAL when the
 * type has none. */
static Value call_special(TState *ts, Value v, ObjStr *name) {
    Value meth = type_lookup(val_type(ts, v), name);
    if (IS_EMPTY(meth)) return EMPTY_VAL;
    return vm_call_method(ts, meth, v, NULL, 0, NULL);
}

Value coro_get_awaitable(TState *ts, Value v, int source) {
    if (is_coroutine(v)) {
        if (!IS_EMPTY(vm_generator_delegate(AS_GENERATOR(v))))
            return err_format(ts, EXC(ts)->RuntimeError, "coroutine is being awaited already");
        return v;
    }
    Value it = call_special(ts, v, ts->interp->names.await);
    if (IS_EMPTY(it)) {
        if (source == 0)
            return err_format(ts, EXC(ts)->TypeError, "object %s can't be used in 'await' expression",
                              ops_type_name(ts, v));
        return err_format(ts, EXC(ts)->TypeError,
                          "'async with' received an object from __a%s__ that does not implement __await__: %s",
                          source == 1 ? "enter" : "exit", ops_type_name(ts, v));
    }
    if (IS_ERROR(it)) return it;
    if (is_coroutine(it)) return err_format(ts, EXC(ts)->TypeError, "__await__() returned a coroutine");
    if (!val_type(ts, it)->next)
        return err_format(ts, EXC(ts)->TypeError, "__await__() returned non-iterator of type '%s'",
                          ops_type_name(ts, it));
    return it;
}

Value coro_get_aiter(TState *ts, Value v) {
    Value it = call_special(ts, v, ts->interp->names.aiter);
    if (IS_EMPTY(it))
        return err_format(ts, EXC(ts)->TypeError, "'async for' requires an object with __aiter__ method, got %s",
                          ops_type_name(ts, v));
    if (IS_ERROR(it)) return it;
    if (IS_EMPTY(type_lookup(val_type(ts, it), ts->interp->names.anext)))
        return err_format(ts, EXC(ts)->TypeError,
                          "'async for' received an object from __aiter__ that does not implement __anext__: %s",
                          ops_type_name(ts, it));
    return it;
}

static Value agen_await_new(TState *ts, ObjType *type, ObjGenerator *gen, Value arg);

Value coro_get_anext(TState *ts, Value aiter) {
    if (is_async_generator(aiter))
        return agen_await_new(ts, ts->interp->types.async_generator_asend, AS_GENERATOR(aiter), NONE_VAL);
    Value next = call_special(ts, aiter, ts->interp->names.anext);
    if (IS_EMPTY(next))
        return err_format(ts, EXC(ts)->TypeError, "'async for' requires an iterator with __anext__ method, got %s",
                          ops_type_name(ts, aiter));
    if (IS_ERROR(next)) return next;
    vm_push(ts, next);
    Value aw = coro_get_awaitable(ts, next, 0);
    if (IS_ERROR(aw) && err_matches(ts, EXC(ts)->TypeError)) {
        /* CPython chains the awaitable's error as the cause. */
        Value cause = err_fetch(ts);
        vm_push(ts, cause);
        err_format(ts, EXC(ts)->TypeError, "'async for' received an invalid object from __anext__: %s",
                   ops_type_name(ts, next));
        if (IS_EXCEPTION(ts->exc)) {
            AS_EXCEPTION(ts->exc)->cause = cause;
            AS_EXCEPTION(ts->exc)->context = cause;
            AS_EXCEPTION(ts->exc)->suppress_context = true;
        }
        vm_pop(ts);
    }
    vm_pop(ts);
    return aw;
}

/* ---- coroutine ------------------------------------------------------------- */

/* coroutine.__await__(): an iterator that runs the coroutine. */
typedef struct ObjCoroWrapper {
    Obj obj;
    ObjGenerator *coro;
} ObjCoroWrapper;

#define AS_CORO_WRAPPER(v) ((ObjCoroWrapper *)AS_OBJ(v))

static Value coro_repr(TState *ts, Value self) {
    ObjGenerator *gen = AS_GENERATOR(self);
    return OBJ_VAL(str_printf(ts, "<%s object %s at %p>", val_type(ts, self)->name->data, gen->qualname->data,
                              (void *)gen));
}

static Value coro_await(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!no_args(ts, nargs, kwnames)) return ERROR_VAL;
    ObjCoroWrapper *w = (ObjCoroWrapper *)gc_alloc(ts, sizeof(ObjCoroWrapper), OBJ_OPAQUE,
                                                   ts->interp->types.coroutine_wrapper);
    if (!w) return ERROR_VAL;
    w->coro = AS_GENERATOR(args[0]);
    return OBJ_VAL(w);
}

static Value coro_get_origin(TState *ts, Value self) {
    (void)ts;
    (void)self;
    return NONE_VAL;
}

static const NativeDef coroutine_methods[] = {
    {"send", generator_send_method},
    {"throw", generator_throw_method},
    {"close", generator_close_method},
    {"__await__", coro_await},
    {NULL, NULL},
};

static const GetSetDef coroutine_getsets[] = {
    {"__name__", generator_get_name, NULL},
    {"__qualname__", generator_get_qualname, NULL},
    {"cr_running", generator_get_running, NULL},
    {"cr_suspended", generator_get_suspended, NULL},
    {"cr_frame", generator_get_frame, NULL},
    {"cr_code", generator_get_code, NULL},
    {"cr_await", generator_get_delegate, NULL},
    {"cr_origin", coro_get_origin, NULL},
    {NULL, NULL, NULL},
};

const TypeSpec coroutine_type_spec = {
    .name = "coroutine",
    .kind = OBJ_GENERATOR,
    .repr = coro_repr,
    .trace = generator_trace,
    .methods = coroutine_methods,
    .getsets = coroutine_getsets,
};

static void wrapper_trace(GcMarker *m, Obj *self) { gc_mark_obj(m, (Obj *)((ObjCoroWrapper *)self)->coro); }

static Value wrapper_iter(TState *ts, Value self) {
    (void)ts;
    return self;
}

/* Like next(coroutine): its return value ends the iteration in StopIteration. */
static Value wrapper_next(TState *ts, Value self) {
    Value result = NONE_VAL;
    Value v = generator_resume(ts, AS_CORO_WRAPPER(self)->coro, NONE_VAL, &result);
    return IS_EMPTY(v) ? generator_stop_iteration(ts, result) : v;
}

static Value wrapper_next_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!no_args(ts, nargs, kwnames)) return ERROR_VAL;
    return wrapper_next(ts, args[0]);
}

/* The wrapper's send/throw/close are the coroutine's, called on it. */
static Value wrapper_forward(TState *ts, NativeFn fn, Value *args, int nargs, ObjTuple *kwnames) {
    Value a[4]; /* the callers checked: at most self and three */
    for (int i = 1; i < nargs; i++) a[i] = args[i];
    a[0] = OBJ_VAL(AS_CORO_WRAPPER(args[0])->coro);
    return fn(ts, a, nargs, kwnames);
}

static Value wrapper_send(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("coroutine_wrapper.send", 1, 1);
    return wrapper_forward(ts, generator_send_method, args, nargs, kwnames);
}
static Value wrapper_throw(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("throw", 1, 3);
    return wrapper_forward(ts, generator_throw_method, args, nargs, kwnames);
}
static Value wrapper_close(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("coroutine_wrapper.close", 0, 0);
    return wrapper_forward(ts, generator_close_method, args, nargs, kwnames);
}

static const NativeDef wrapper_methods[] = {
    {"__next__", wrapper_next_method},
    {"send", wrapper_send},
    {"throw", wrapper_throw},
    {"close", wrapper_close},
    {NULL, NULL},
};

const TypeSpec coroutine_wrapper_type_spec = {
    .name = "coroutine_wrapper",
    .kind = OBJ_OPAQUE,
    .iter = wrapper_iter,
    .next = wrapper_next,
    .trace = wrapper_trace,
    .methods = wrapper_methods,
};

/* ---- async generator ------------------------------------------------------- */

typedef enum AwaitState { AW_INIT, AW_ITER, AW_CLOSED } AwaitState;

/* async_generator_asend (ARG: the value to send) and async_generator_athrow
 * (ARG: throw()'s arguments as a tuple, or EMPTY_VAL for aclose()). */
typedef struct ObjAGenAwait {
    Obj obj;
    ObjGenerator *gen;
    Value arg;
    AwaitState state;
} ObjAGenAwait;

#define AS_AGEN_AWAIT(v) ((ObjAGenAwait *)AS_OBJ(v))

/* The first __anext__/asend/athrow/aclose of an async generator calls the
 * thread's firstiter hook with it (an event loop records the generator to
 * close it at shutdown). */
static bool agen_init_hooks(TState *ts, ObjGenerator *gen) {
    if (gen->async_flags & AG_HOOKS_INITED) return true;
    gen->async_flags |= AG_HOOKS_INITED;
    Value hook = ts->asyncgen_firstiter;
    if (IS_NONE(hook)) return true;
    Value arg = OBJ_VAL(gen);
    vm_push(ts, arg);
    Value r = ops_call(ts, hook, &arg, 1, NULL);
    vm_pop(ts);
    return !IS_ERROR(r);
}

static Value agen_await_new(TState *ts, ObjType *type, ObjGenerator *gen, Value arg) {
    vm_push(ts, arg);
    ObjAGenAwait *o = agen_init_hooks(ts, gen)
                          ? (ObjAGenAwait *)gc_alloc(ts, sizeof(ObjAGenAwait), OBJ_OPAQUE, type)
                          : NULL;
    vm_pop(ts);
    if (!o) return ERROR_VAL;
    o->gen = gen;
    o->arg = arg;
    o->state = AW_INIT;
    return OBJ_VAL(o);
}

static void agen_await_trace(GcMarker *m, Obj *self) {
    ObjAGenAwait *o = (ObjAGenAwait *)self;
    gc_mark_obj(m, (Obj *)o->gen);
    gc_mark_value(m, o->arg);
}

/* Did the generator stop at its own yield (not at an await inside it)? */
static bool at_own_yield(ObjGenerator *gen) { return IS_EMPTY(vm_generator_delegate(gen)); }

/* A step of the generator as its awaitable passes it on: a value an await
 * inside it yields goes up to the event loop as it is; its own yield ends
 * the awaitable (StopIteration carrying the value); its return is
 * StopAsyncIteration. */
static Value agen_unwrap(TState *ts, ObjGenerator *gen, Value v) {
    if (IS_EMPTY(v)) {
        err_raise(ts, OBJ_VAL(EXC(ts)->StopAsyncIteration));
        v = ERROR_VAL;
    }
    if (IS_ERROR(v)) {
        if (err_matches(ts, EXC(ts)->StopAsyncIteration) || err_matches(ts, EXC(ts)->GeneratorExit))
            gen->async_flags |= AG_CLOSED;
        gen->async_flags &= (uint8_t)~AG_RUNNING_ASYNC;
        return v;
    }
    if (!at_own_yield(gen)) return v;
    gen->async_flags &= (uint8_t)~AG_RUNNING_ASYNC;
    return err_set_value(ts, EXC(ts)->StopIteration, v);
}

static Value agen_aiter(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!no_args(ts, nargs, kwnames)) return ERROR_VAL;
    return args[0];
}

static Value agen_anext(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!no_args(ts, nargs, kwnames)) return ERROR_VAL;
    return agen_await_new(ts, ts->interp->types.async_generator_asend, AS_GENERATOR(args[0]), NONE_VAL);
}

static Value agen_asend(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("async_generator.asend", 1, 1);
    return agen_await_new(ts, ts->interp->types.async_generator_asend, AS_GENERATOR(args[0]), args[1]);
}

static Value agen_athrow(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    /* The arguments are checked when it is awaited, as CPython 3.11 does. */
    if (!args_check(ts, "athrow", 0, kwnames, 0, 0)) return ERROR_VAL;
    ObjTuple *t = tuple_from(ts, args + 1, nargs - 1);
    if (!t) return ERROR_VAL;
    return agen_await_new(ts, ts->interp->types.async_generator_athrow, AS_GENERATOR(args[0]), OBJ_VAL(t));
}

static Value agen_aclose(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("async_generator.aclose", 0, 0);
    return agen_await_new(ts, ts->interp->types.async_generator_athrow, AS_GENERATOR(args[0]), EMPTY_VAL);
}

static Value agen_get_running(TState *ts, Value self) {
    (void)ts;
    return BOOL_VAL(AS_GENERATOR(self)->async_flags & AG_RUNNING_ASYNC);
}

static const NativeDef async_generator_methods[] = {
    {"__aiter__", agen_aiter},
    {"__anext__", agen_anext},
    {"asend", agen_asend},
    {"athrow", agen_athrow},
    {"aclose", agen_aclose},
    {NULL, NULL},
};

static const GetSetDef async_generator_getsets[] = {
    {"__name__", generator_get_name, NULL},
    {"__qualname__", generator_get_qualname, NULL},
    {"ag_running", agen_get_running, NULL},
    {"ag_frame", generator_get_frame, NULL},
    {"ag_code", generator_get_code, NULL},
    {"ag_await", generator_get_delegate, NULL},
    {NULL, NULL, NULL},
};

const TypeSpec async_generator_type_spec = {
    .name = "async_generator",
    .kind = OBJ_GENERATOR,
    .repr = coro_repr,
    .trace = generator_trace,
    .methods = async_generator_methods,
    .getsets = async_generator_getsets,
};

/* ---- asend / athrow awaitables -------------------------------------------- */

static Value await_iter(TState *ts, Value self) {
    (void)ts;
    return self;
}

static Value await_self(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!no_args(ts, nargs, kwnames)) return ERROR_VAL;
    return args[0];
}

static Value await_close(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    char name[64];
    snprintf(name, sizeof name, "%s.close", val_type(ts, args[0])->name->data);
    ARGS_CHECK_METHOD(name, 0, 0);
    AS_AGEN_AWAIT(args[0])->state = AW_CLOSED;
    return NONE_VAL;
}

static Value asend_send(TState *ts, ObjAGenAwait *o, Value arg) {
    ObjGenerator *gen = o->gen;
    if (o->state == AW_CLOSED)
        return err_format(ts, EXC(ts)->RuntimeError, "cannot reuse already awaited __anext__()/asend()");
    if (o->state == AW_INIT) {
        if (gen->async_flags & AG_RUNNING_ASYNC)
            return err_format(ts, EXC(ts)->RuntimeError, "anext(): asynchronous generator is already running");
        if (IS_NONE(arg)) arg = o->arg;
        o->state = AW_ITER;
    }
    gen->async_flags |= AG_RUNNING_ASYNC;
    Value result;
    Value v = agen_unwrap(ts, gen, generator_resume(ts, gen, arg, &result));
    if (IS_ERROR(v)) o->state = AW_CLOSED;
    return v;
}

static Value asend_next(TState *ts, Value self) { return asend_send(ts, AS_AGEN_AWAIT(self), NONE_VAL); }

static Value asend_next_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!no_args(ts, nargs, kwnames)) return ERROR_VAL;
    return asend_send(ts, AS_AGEN_AWAIT(args[0]), NONE_VAL);
}

static Value asend_send_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("async_generator_asend.send", 1, 1);
    return asend_send(ts, AS_AGEN_AWAIT(args[0]), args[1]);
}

/* throw()'s arguments after self: checked and made into the exception. */
static Value throw_args_exception(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("throw", 1, 3);
    return generator_throw_exception(ts, args + 1, nargs - 1);
}

static Value asend_throw_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ObjAGenAwait *o = AS_AGEN_AWAIT(args[0]);
    if (o->state == AW_CLOSED)
        return err_format(ts, EXC(ts)->RuntimeError, "cannot reuse already awaited __anext__()/asend()");
    Value exc = throw_args_exception(ts, args, nargs, kwnames);
    if (IS_ERROR(exc)) return exc;
    Value result;
    Value v = agen_unwrap(ts, o->gen, generator_throw_into(ts, o->gen, exc, args + 1, nargs - 1, &result));
    if (IS_ERROR(v)) o->state = AW_CLOSED;
    return v;
}

static const NativeDef asend_methods[] = {
    {"__next__", asend_next_method},
    {"send", asend_send_method},
    {"throw", asend_throw_method},
    {"close", await_close},
    {"__await__", await_self},
    {NULL, NULL},
};

const TypeSpec async_generator_asend_type_spec = {
    .name = "async_generator_asend",
    .kind = OBJ_OPAQUE,
    .iter = await_iter,
    .next = asend_next,
    .trace = agen_await_trace,
    .methods = asend_methods,
};

/* aclose() is done: the generator ended (by GeneratorExit, or
 * StopAsyncIteration), which its awaitable reports as plain StopIteration. */
static Value athrow_error(TState *ts, ObjAGenAwait *o) {
    o->gen->async_flags &= (uint8_t)~AG_RUNNING_ASYNC;
    o->state = AW_CLOSED;
    if (IS_EMPTY(o->arg) &&
        (err_matches(ts, EXC(ts)->StopAsyncIteration) || err_matches(ts, EXC(ts)->GeneratorExit))) {
        err_clear(ts);
        return err_raise(ts, OBJ_VAL(EXC(ts)->StopIteration));
    }
    return ERROR_VAL;
}

/* What a step of the generator under athrow()/aclose() comes to. */
static Value athrow_step(TState *ts, ObjAGenAwait *o, Value v) {
    if (!IS_EMPTY(o->arg)) {
        v = agen_unwrap(ts, o->gen, v);
        if (IS_ERROR(v)) o->state = AW_CLOSED;
        return v;
    }
    if (IS_EMPTY(v)) {
        err_raise(ts, OBJ_VAL(EXC(ts)->StopAsyncIteration));
        v = ERROR_VAL;
    }
    if (IS_ERROR(v)) return athrow_error(ts, o);
    if (!at_own_yield(o->gen)) return v;
    o->gen->async_flags &= (uint8_t)~AG_RUNNING_ASYNC;
    o->state = AW_CLOSED;
    return err_format(ts, EXC(ts)->RuntimeError, "async generator ignored GeneratorExit");
}

static Value athrow_send(TState *ts, ObjAGenAwait *o, Value arg) {
    ObjGenerator *gen = o->gen;
    bool closing = IS_EMPTY(o->arg);
    if (o->state == AW_CLOSED)
        return err_format(ts, EXC(ts)->RuntimeError, "cannot reuse already awaited aclose()/athrow()");
    if (atomic_load(&gen->state) == GEN_CLOSED) {
        o->state = AW_CLOSED;
        return err_raise(ts, OBJ_VAL(EXC(ts)->StopIteration));
    }
    Value result;
    if (o->state == AW_ITER) return athrow_step(ts, o, generator_resume(ts, gen, arg, &result));
    if (gen->async_flags & AG_RUNNING_ASYNC) {
        o->state = AW_CLOSED;
        return err_format(ts, EXC(ts)->RuntimeError, "%s(): asynchronous generator is already running",
                          closing ? "aclose" : "athrow");
    }
    if (gen->async_flags & AG_CLOSED) {
        o->state = AW_CLOSED;
        return err_raise(ts, OBJ_VAL(EXC(ts)->StopAsyncIteration));
    }
    if (!IS_NONE(arg))
        return err_format(ts, EXC(ts)->RuntimeError, "can't send non-None value to a just-started coroutine");
    o->state = AW_ITER;
    gen->async_flags |= AG_RUNNING_ASYNC;
    Value exc;
    Value *targs;
    int ntargs;
    if (closing) {
        gen->async_flags |= AG_CLOSED;
        exc = exc_new(ts, EXC(ts)->GeneratorExit, NULL, 0);
        targs = &exc;
        ntargs = 1;
    } else {
        ObjTuple *t = AS_TUPLE(o->arg);
        exc = args_check(ts, "athrow", (int)t->len, NULL, 1, 3) ? generator_throw_exception(ts, t->items, (int)t->len)
                                                                : ERROR_VAL;
        targs = t->items;
        ntargs = (int)t->len;
    }
    if (IS_ERROR(exc)) return athrow_error(ts, o);
    vm_push(ts, exc);
    Value v = athrow_step(ts, o, generator_throw_into(ts, gen, exc, targs, ntargs, &result));
    vm_pop(ts);
    return v;
}

static Value athrow_next(TState *ts, Value self) { return athrow_send(ts, AS_AGEN_AWAIT(self), NONE_VAL); }

static Value athrow_next_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!no_args(ts, nargs, kwnames)) return ERROR_VAL;
    return athrow_send(ts, AS_AGEN_AWAIT(args[0]), NONE_VAL);
}

static Value athrow_send_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("async_generator_athrow.send", 1, 1);
    return athrow_send(ts, AS_AGEN_AWAIT(args[0]), args[1]);
}

static Value athrow_throw_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ObjAGenAwait *o = AS_AGEN_AWAIT(args[0]);
    if (o->state == AW_CLOSED)
        return err_format(ts, EXC(ts)->RuntimeError, "cannot reuse already awaited aclose()/athrow()");
    Value exc = throw_args_exception(ts, args, nargs, kwnames);
    if (IS_ERROR(exc)) return exc;
    Value result;
    return athrow_step(ts, o, generator_throw_into(ts, o->gen, exc, args + 1, nargs - 1, &result));
}

static const NativeDef athrow_methods[] = {
    {"__next__", athrow_next_method},
    {"send", athrow_send_method},
    {"throw", athrow_throw_method},
    {"close", await_close},
    {"__await__", await_self},
    {NULL, NULL},
};

const TypeSpec async_generator_athrow_type_spec = {
    .name = "async_generator_athrow",
    .kind = OBJ_OPAQUE,
    .iter = await_iter,
    .next = athrow_next,
    .trace = agen_await_trace,
    .methods = athrow_methods,
};

/* ---- aiter(), anext() ---------------------------------------------------- */

Value coro_aiter(TState *ts, Value v) {
    Value it = call_special(ts, v, ts->interp->names.aiter);
    if (IS_EMPTY(it))
        return err_format(ts, EXC(ts)->TypeError, "'%s' object is not an async iterable", ops_type_name(ts, v));
    if (IS_ERROR(it)) return it;
    if (IS_EMPTY(type_lookup(val_type(ts, it), ts->interp->names.anext)))
        return err_format(ts, EXC(ts)->TypeError, "aiter() returned not an async iterator of type '%s'",
                          ops_type_name(ts, it));
    return it;
}

/* anext(aiter, default): awaits aiter.__anext__() and gives `default` in
 * place of its StopAsyncIteration. */
typedef struct ObjANextAwaitable {
    Obj obj;
    Value wrapped;       /* what __anext__() returned */
    Value default_value;
    Value it;            /* the iterator awaiting `wrapped` runs, once made */
} ObjANextAwaitable;

#define AS_ANEXT(v) ((ObjANextAwaitable *)AS_OBJ(v))

Value coro_anext(TState *ts, Value aiter, Value default_value) {
    Value next = call_special(ts, aiter, ts->interp->names.anext);
    if (IS_EMPTY(next))
        return err_format(ts, EXC(ts)->TypeError, "'%s' object is not an async iterator", ops_type_name(ts, aiter));
    if (IS_ERROR(next) || IS_EMPTY(default_value)) return next;
    vm_push(ts, next);
    ObjANextAwaitable *o = (ObjANextAwaitable *)gc_alloc(ts, sizeof(ObjANextAwaitable), OBJ_OPAQUE,
                                                         ts->interp->types.anext_awaitable);
    vm_pop(ts);
    if (!o) return ERROR_VAL;
    o->wrapped = next;
    o->default_value = default_value;
    o->it = EMPTY_VAL;
    return OBJ_VAL(o);
}

static void anext_trace(GcMarker *m, Obj *self) {
    ObjANextAwaitable *o = (ObjANextAwaitable *)self;
    gc_mark_value(m, o->wrapped);
    gc_mark_value(m, o->default_value);
    gc_mark_value(m, o->it);
}

/* The iterator that runs the wrapped awaitable (a coroutine's wrapper). */
static Value anext_iter_of(TState *ts, ObjANextAwaitable *o) {
    if (!IS_EMPTY(o->it)) return o->it;
    Value it = coro_get_awaitable(ts, o->wrapped, 0);
    if (IS_ERROR(it)) return it;
    if (is_coroutine(it)) {
        ObjCoroWrapper *w = (ObjCoroWrapper *)gc_alloc(ts, sizeof(ObjCoroWrapper), OBJ_OPAQUE,
                                                       ts->interp->types.coroutine_wrapper);
        if (!w) return ERROR_VAL;
        w->coro = AS_GENERATOR(it);
        it = OBJ_VAL(w);
    }
    o->it = it;
    return it;
}

/* The awaited iterator's step, its StopAsyncIteration made the end of this
 * awaitable with the default as its value. */
static Value anext_result(TState *ts, ObjANextAwaitable *o, Value v) {
    if (IS_EMPTY(v)) return err_raise(ts, OBJ_VAL(EXC(ts)->StopIteration));
    if (IS_ERROR(v) && err_matches(ts, EXC(ts)->StopAsyncIteration)) {
        err_clear(ts);
        return err_set_value(ts, EXC(ts)->StopIteration, o->default_value);
    }
    return v;
}

/* Calls the awaited iterator's method `name` (send, throw or close). */
static Value anext_forward(TState *ts, Value self, const char *name, Value *args, int nargs) {
    ObjANextAwaitable *o = AS_ANEXT(self);
    Value it = anext_iter_of(ts, o);
    if (IS_ERROR(it)) return it;
    Value meth = ops_getattr_opt(ts, it, str_intern_cstr(ts, name));
    if (IS_ERROR(meth)) return meth;
    if (IS_EMPTY(meth)) {
        if (strcmp(name, "close") == 0) return NONE_VAL;
        if (strcmp(name, "send") == 0 && IS_NONE(args[0])) return anext_result(ts, o, ops_next(ts, it));
        return err_format(ts, EXC(ts)->AttributeError, "'%s' object has no attribute '%s'", ops_type_name(ts, it),
                          name);
    }
    return anext_result(ts, o, vm_call(ts, meth, args, nargs, NULL));
}

static Value anext_next(TState *ts, Value self) {
    Value none = NONE_VAL;
    return anext_forward(ts, self, "send", &none, 1);
}

static Value anext_next_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!no_args(ts, nargs, kwnames)) return ERROR_VAL;
    return anext_next(ts, args[0]);
}

static Value anext_send(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("anext_awaitable.send", 1, 1);
    return anext_forward(ts, args[0], "send", args + 1, 1);
}

static Value anext_throw(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("throw", 1, 3);
    return anext_forward(ts, args[0], "throw", args + 1, nargs - 1);
}

static Value anext_close(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("anext_awaitable.close", 0, 0);
    return anext_forward(ts, args[0], "close", NULL, 0);
}

static const NativeDef anext_methods[] = {
    {"__next__", anext_next_method},
    {"send", anext_send},
    {"throw", anext_throw},
    {"close", anext_close},
    {"__await__", await_self},
    {NULL, NULL},
};

const TypeSpec anext_awaitable_type_spec = {
    .name = "anext_awaitable",
    .kind = OBJ_OPAQUE,
    .iter = await_iter,
    .next = anext_next,
    .trace = anext_trace,
    .methods = anext_methods,
};
