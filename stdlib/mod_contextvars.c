/* The _contextvars module (mini only): the thread's current context, the
 * one piece of contextvars (PEP 567) that must live in the thread state.
 * contextvars.mini builds Context, ContextVar and Token on it.
 *
 * _contextvars.get() is the context the thread runs in, or None before it
 * has one (a new thread starts without, as CPython's starts with an empty
 * context); _contextvars.set(ctx) makes ctx (a Context, or None) current. */
#include "runtime/args.h"
#include "runtime/dict.h"
#include "runtime/tuple.h"
#include "stdlib/builtins.h"
#include "stdlib/modules.h"
#include "vm/interp.h"

static Value ctxmod_get(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    (void)args;
    if (!args_check(ts, "get", nargs, kwnames, 0, 0)) return ERROR_VAL;
    return ts->context;
}

static Value ctxmod_set(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "set", nargs, kwnames, 1, 1)) return ERROR_VAL;
    ts->context = args[0];
    return NONE_VAL;
}

static const NativeDef ctxmod_functions[] = {
    {"get", ctxmod_get},
    {"set", ctxmod_set},
    {NULL, NULL},
};

bool mod_contextvars_init(TState *ts, ObjDict *ns) { return builtins_add_natives(ts, ns, ctxmod_functions); }
