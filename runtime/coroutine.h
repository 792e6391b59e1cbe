#ifndef MINI_RUNTIME_COROUTINE_H
#define MINI_RUNTIME_COROUTINE_H

/* Coroutines and async generators (PEP 492, PEP 525): their types, and the
 * await protocol the VM's GET_AWAITABLE, GET_AITER and GET_ANEXT use. */

#include "runtime/object.h"
#include "vm/interp.h"

/* What `await v` delegates to: a coroutine itself, else the iterator
 * type(v).__await__(v) returns. `source` names where v came from for
 * the TypeError: 0 an await expression, 1 __aenter__, 2 __aexit__. */
Value coro_get_awaitable(TState *ts, Value v, int source);
/* `async for`: v.__aiter__(), which must have __anext__. */
Value coro_get_aiter(TState *ts, Value v);
/* `async for`: the awaitable of aiter.__anext__(). */
Value coro_get_anext(TState *ts, Value aiter);

/* The built-ins aiter(v) and anext(aiter[, default]) (default EMPTY_VAL
 * when not given). */
Value coro_aiter(TState *ts, Value v);
Value coro_anext(TState *ts, Value aiter, Value default_value);

extern const struct TypeSpec coroutine_type_spec;
extern const struct TypeSpec coroutine_wrapper_type_spec;
extern const struct TypeSpec async_generator_type_spec;
extern const struct TypeSpec async_generator_asend_type_spec;
extern const struct TypeSpec async_generator_athrow_type_spec;
extern const struct TypeSpec anext_awaitable_type_spec;

#endif
