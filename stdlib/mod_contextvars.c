/* The _contextvars module: the thread's current context, the one piece of
 * contextvars (PEP 567) that must live in the thread state, and the base of
 * Context with its run(), which asyncio calls for every callback it runs.
 * contextvars.mini builds Context, ContextVar and Token on it.
 *
 * _contextvars.get() is the context the thread runs in, or None before it
 * has one (a new thread starts without, as CPython's starts with an empty
 * context); _contextvars.set(ctx) makes ctx (a Context, or None) current.
 *
 * A context's data is a dict that is never changed once shared (see
 * contextvars.mini). `entered` is taken with a compare-and-swap: with the
 * GIL off, two threads running the same context race for it, and the loser
 * gets CPython's RuntimeError. */
#include <stdatomic.h>

#include "runtime/args.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "stdlib/builtins.h"
#include "stdlib/modules.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/vm.h"

typedef struct ObjContext {
    Obj obj;
    Value data;           /* dict: ContextVar -> value */
    atomic_bool entered;
} ObjContext;

#define CTX(v) ((ObjContext *)AS_OBJ(v))

static void ctx_trace(GcMarker *m, Obj *self) { gc_mark_value(m, ((ObjContext *)self)->data); }

static size_t ctx_size(Obj *self) {
    (void)self;
    return sizeof(ObjContext);
}

static Value ctx_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    (void)args;
    if (nargs || (kwnames && kwnames->len))
        return err_format(ts, ts->interp->exc.TypeError, "Context() does not accept any arguments");
    ObjDict *data = dict_new(ts);
    if (!data) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(data));
    ObjContext *c = (ObjContext *)gc_alloc(ts, sizeof(ObjContext), OBJ_OPAQUE, type);
    vm_pop(ts);
    if (!c) return ERROR_VAL;
    c->data = OBJ_VAL(data);
    atomic_init(&c->entered, false);
    return OBJ_VAL(c);
}

/* run(callable, *args, **kwargs): callable's result, called with this
 * context current. */
static Value ctx_run(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (nargs < 2) return err_format(ts, ts->interp->exc.TypeError, "run() missing 1 required positional argument");
    ObjContext *c = CTX(args[0]);
    bool expected = false;
    if (!atomic_compare_exchange_strong(&c->entered, &expected, true)) {
        Value r = ops_repr(ts, args[0]);
        if (IS_ERROR(r)) return r;
        return err_format(ts, ts->interp->exc.RuntimeError, "cannot enter context: %s is already entered",
                          AS_STR(r)->data);
    }
    Value prev = ts->context;
    vm_push(ts, prev);
    ts->context = args[0];
    Value r = ops_call(ts, args[1], args + 2, nargs - 2, kwnames);
    ts->context = prev;
    vm_pop(ts);
    atomic_store(&c->entered, false);
    return r;
}

static Value ctx_get_data(TState *ts, Value self) {
    (void)ts;
    return CTX(self)->data;
}

static int ctx_set_data(TState *ts, Value self, Value v) {
    if (!IS_KIND(v, OBJ_DICT)) {
        err_format(ts, ts->interp->exc.TypeError, "a context's data must be a dict");
        return -1;
    }
    CTX(self)->data = v;
    return 0;
}

static const NativeDef ctx_methods[] = {
    {"run", ctx_run},
    {NULL, NULL},
};

static const GetSetDef ctx_getsets[] = {
    {"_data", ctx_get_data, ctx_set_data},
    {NULL, NULL, NULL},
};

static const TypeSpec ctx_spec = {
    .name = "Context",
    .kind = OBJ_OPAQUE,
    .flags = TYPEF_BASETYPE,
    .obj_size = ctx_size,
    .new_ = ctx_new,
    .trace = ctx_trace,
    .methods = ctx_methods,
    .getsets = ctx_getsets,
};

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

bool mod_contextvars_init(TState *ts, ObjDict *ns) {
    ObjType *t = type_from_spec(ts, &ctx_spec, NULL);
    if (!t) return false;
    t->module = OBJ_VAL(str_intern_cstr(ts, "_contextvars"));
    return dict_set_str(ts, ns, t->name, OBJ_VAL(t)) == 0 && builtins_add_natives(ts, ns, ctxmod_functions);
}
