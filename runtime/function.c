#include "runtime/function.h"

#include <string.h>

#include "runtime/class.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/module.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "vm/code.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/vm.h"

ObjDict *function_builtins(TState *ts, ObjDict *globals) {
    Value b = dict_get_str(globals, ts->interp->names.builtins_);
    if (IS_DICT(b)) return AS_DICT(b);
    if (IS_MODULE(b)) return AS_MODULE(b)->dict;
    return ts->interp->builtins;
}

ObjFunction *function_new(TState *ts, ObjCode *code, ObjDict *globals) {
    ObjFunction *fn = (ObjFunction *)gc_alloc(ts, sizeof(ObjFunction), OBJ_FUNCTION,
                                              ts->interp->types.function);
    if (!fn) return NULL;
    fn->code = code;
    fn->globals = globals;
    fn->builtins = function_builtins(ts, globals);
    fn->defaults = NULL;
    fn->kwdefaults = NULL;
    fn->annotations = NULL;
    fn->closure = NULL;
    fn->dict = NULL;
    fn->name = code->name;
    fn->qualname = code->qualname;
    Value module = dict_get_str(globals, ts->interp->names.name);
    fn->module = IS_EMPTY(module) ? NONE_VAL : module;
    fn->doc = code->flags & CODE_HAS_DOC ? code->consts[0] : NONE_VAL;
    return fn;
}

static Value function_repr(TState *ts, Value self) {
    ObjFunction *fn = AS_FUNCTION(self);
    return OBJ_VAL(str_printf(ts, "<function %s at %p>", fn->qualname->data, (void *)fn));
}

static void function_trace(GcMarker *m, Obj *self) {
    ObjFunction *fn = (ObjFunction *)self;
    gc_mark_obj(m, (Obj *)fn->code);
    gc_mark_obj(m, (Obj *)fn->globals);
    gc_mark_obj(m, (Obj *)fn->builtins);
    gc_mark_obj(m, (Obj *)fn->defaults);
    gc_mark_obj(m, (Obj *)fn->kwdefaults);
    gc_mark_obj(m, (Obj *)fn->annotations);
    gc_mark_obj(m, (Obj *)fn->closure);
    gc_mark_obj(m, (Obj *)fn->dict);
    gc_mark_obj(m, (Obj *)fn->name);
    gc_mark_obj(m, (Obj *)fn->qualname);
    gc_mark_value(m, fn->module);
    gc_mark_value(m, fn->doc);
}

static Value function_call(TState *ts, Value callee, Value *args, int nargs, ObjTuple *kwnames) {
    return vm_call_function(ts, AS_FUNCTION(callee), args, nargs, kwnames);
}

static Value fn_get_name(TState *ts, Value self) { (void)ts; return OBJ_VAL(AS_FUNCTION(self)->name); }
static int fn_set_name(TState *ts, Value self, Value v) {
    if (!IS_STR(v)) {
        err_format(ts, ts->interp->exc.TypeError, "__name__ must be set to a string object");
        return -1;
    }
    AS_FUNCTION(self)->name = AS_STR(v);
    return 0;
}
static Value fn_get_qualname(TState *ts, Value self) { (void)ts; return OBJ_VAL(AS_FUNCTION(self)->qualname); }
static int fn_set_qualname(TState *ts, Value self, Value v) {
    if (!IS_STR(v)) {
        err_format(ts, ts->interp->exc.TypeError, "__qualname__ must be set to a string object");
        return -1;
    }
    AS_FUNCTION(self)->qualname = AS_STR(v);
    return 0;
}
static Value fn_get_module(TState *ts, Value self) { (void)ts; return AS_FUNCTION(self)->module; }
static int fn_set_module(TState *ts, Value self, Value v) { (void)ts; AS_FUNCTION(self)->module = v; return 0; }
static Value fn_get_doc(TState *ts, Value self) { (void)ts; return AS_FUNCTION(self)->doc; }
static int fn_set_doc(TState *ts, Value self, Value v) { (void)ts; AS_FUNCTION(self)->doc = v; return 0; }
static Value fn_get_code(TState *ts, Value self) { (void)ts; return OBJ_VAL(AS_FUNCTION(self)->code); }
static Value fn_get_defaults(TState *ts, Value self) {
    (void)ts;
    ObjTuple *d = AS_FUNCTION(self)->defaults;
    return d ? OBJ_VAL(d) : NONE_VAL;
}
static Value fn_get_kwdefaults(TState *ts, Value self) {
    (void)ts;
    ObjDict *d = AS_FUNCTION(self)->kwdefaults;
    return d ? OBJ_VAL(d) : NONE_VAL;
}
/* Made empty on first read, as CPython's. */
static Value fn_get_annotations(TState *ts, Value self) {
    ObjFunction *fn = AS_FUNCTION(self);
    if (!fn->annotations) {
        ObjDict *d = dict_new(ts);
        if (!d) return ERROR_VAL;
        fn->annotations = d;
    }
    return OBJ_VAL(fn->annotations);
}
static int fn_set_annotations(TState *ts, Value self, Value v) {
    if (!IS_NONE(v) && !IS_DICT(v)) {
        err_format(ts, ts->interp->exc.TypeError, "__annotations__ must be set to a dict object");
        return -1;
    }
    AS_FUNCTION(self)->annotations = IS_NONE(v) ? NULL : AS_DICT(v);
    return 0;
}
static Value fn_get_globals(TState *ts, Value self) { (void)ts; return OBJ_VAL(AS_FUNCTION(self)->globals); }

static const GetSetDef function_getsets[] = {
    {"__name__", fn_get_name, fn_set_name},
    {"__qualname__", fn_get_qualname, fn_set_qualname},
    {"__module__", fn_get_module, fn_set_module},
    {"__doc__", fn_get_doc, fn_set_doc},
    {"__code__", fn_get_code, NULL},
    {"__defaults__", fn_get_defaults, NULL},
    {"__kwdefaults__", fn_get_kwdefaults, NULL},
    {"__globals__", fn_get_globals, NULL},
    {"__annotations__", fn_get_annotations, fn_set_annotations},
    {NULL, NULL, NULL},
};

static const NativeDef function_methods[] = {
    {"__get__", class_descr_get_method},
    {NULL, NULL},
};

const TypeSpec function_type_spec = {
    .name = "function",
    .methods = function_methods,
    .kind = OBJ_FUNCTION,
    .repr = function_repr,
    .call = function_call,
    .trace = function_trace,
    .getsets = function_getsets,
};

ObjStr *function_display_name(TState *ts, Value callee) {
    if (IS_BOUND_METHOD(callee)) callee = AS_BOUND_METHOD(callee)->func;
    if (IS_FUNCTION(callee)) {
        ObjFunction *fn = AS_FUNCTION(callee);
        if (IS_STR(fn->module) && strcmp(AS_STR(fn->module)->data, "builtins") != 0)
            return str_printf(ts, "%s.%s()", AS_STR(fn->module)->data, fn->qualname->data);
        return str_printf(ts, "%s()", fn->qualname->data);
    }
    if (IS_NATIVE(callee)) {
        ObjNative *n = AS_NATIVE(callee);
        if (n->owner) return str_printf(ts, "%s.%s()", n->owner->name->data, n->name->data);
        return str_printf(ts, "%s()", n->name->data);
    }
    if (IS_KIND(callee, OBJ_TYPE)) return str_printf(ts, "%s()", ((ObjType *)AS_OBJ(callee))->name->data);
    return str_printf(ts, "%s object", ops_type_name(ts, callee));
}

/* ---- native functions ------------------------------------------------ */

ObjNative *native_new(TState *ts, const char *name, NativeFn fn, ObjType *owner) {
    ObjStr *s = str_intern_cstr(ts, name);
    if (!s) return NULL;
    ObjNative *n = (ObjNative *)gc_alloc(ts, sizeof(ObjNative), OBJ_NATIVE, ts->interp->types.native);
    if (!n) return NULL;
    n->fn = fn;
    n->name = s;
    n->owner = owner;
    n->self = EMPTY_VAL;
    return n;
}

static Value native_repr(TState *ts, Value self) {
    ObjNative *n = AS_NATIVE(self);
    if (n->owner)
        return OBJ_VAL(str_printf(ts, "<method '%s' of '%s' objects>", n->name->data,
                                  n->owner->name->data));
    return OBJ_VAL(str_printf(ts, "<built-in function %s>", n->name->data));
}

static void native_trace(GcMarker *m, Obj *self) {
    ObjNative *n = (ObjNative *)self;
    gc_mark_obj(m, (Obj *)n->name);
    gc_mark_obj(m, (Obj *)n->owner);
    gc_mark_value(m, n->self);
}

Value native_wrong_self(TState *ts, ObjNative *n, Value *args, int nargs) {
    if (nargs < 1)
        return err_format(ts, ts->interp->exc.TypeError, "unbound method %s.%s() needs an argument",
                          n->owner->name->data, n->name->data);
    return err_format(ts, ts->interp->exc.TypeError, "descriptor '%s' for '%s' objects doesn't apply to a '%s' object",
                      n->name->data, n->owner->name->data, ops_type_name(ts, args[0]));
}

static Value native_call(TState *ts, Value callee, Value *args, int nargs, ObjTuple *kwnames) {
    return native_invoke(ts, AS_NATIVE(callee), args, nargs, kwnames);
}

static Value native_get_name(TState *ts, Value self) { (void)ts; return OBJ_VAL(AS_NATIVE(self)->name); }

static const GetSetDef native_getsets[] = {
    {"__name__", native_get_name, NULL},
    {"__qualname__", native_get_name, NULL},
    {NULL, NULL, NULL},
};

const TypeSpec native_type_spec = {
    .name = "builtin_function_or_method",
    .kind = OBJ_NATIVE,
    .repr = native_repr,
    .call = native_call,
    .trace = native_trace,
    .getsets = native_getsets,
};

/* ---- bound methods --------------------------------------------------- */

ObjBoundMethod *bound_method_new(TState *ts, Value self, Value func) {
    ObjBoundMethod *m = (ObjBoundMethod *)gc_alloc(ts, sizeof(ObjBoundMethod), OBJ_BOUND_METHOD,
                                                   ts->interp->types.bound_method);
    if (!m) return NULL;
    m->self = self;
    m->func = func;
    return m;
}

static Value bound_method_repr(TState *ts, Value self) {
    ObjBoundMethod *m = AS_BOUND_METHOD(self);
    Value r = ops_repr(ts, m->self);
    if (IS_ERROR(r)) return r;
    ObjStr *name = IS_FUNCTION(m->func) ? AS_FUNCTION(m->func)->qualname
                   : IS_NATIVE(m->func) ? AS_NATIVE(m->func)->name
                                        : ts->interp->names.empty;
    if (IS_NATIVE(m->func))
        return OBJ_VAL(str_printf(ts, "<built-in method %s of %s object at %p>", name->data,
                                  ops_type_name(ts, m->self), (void *)AS_OBJ(m->self)));
    return OBJ_VAL(str_printf(ts, "<bound method %s of %s>", name->data, AS_STR(r)->data));
}

static void bound_method_trace(GcMarker *m, Obj *self) {
    ObjBoundMethod *b = (ObjBoundMethod *)self;
    gc_mark_value(m, b->self);
    gc_mark_value(m, b->func);
}

static Value bound_method_call(TState *ts, Value callee, Value *args, int nargs, ObjTuple *kwnames) {
    ObjBoundMethod *m = AS_BOUND_METHOD(callee);
    return vm_call_method(ts, m->func, m->self, args, nargs, kwnames);
}

static Value bound_method_richcmp(TState *ts, Value a, Value b, CmpOp op) {
    (void)ts;
    if ((op != CMP_EQ && op != CMP_NE) || !IS_BOUND_METHOD(b)) return NOT_IMPLEMENTED_VAL;
    bool eq = AS_BOUND_METHOD(a)->self == AS_BOUND_METHOD(b)->self &&
              AS_BOUND_METHOD(a)->func == AS_BOUND_METHOD(b)->func;
    return BOOL_VAL(op == CMP_EQ ? eq : !eq);
}

static int bound_method_hash(TState *ts, Value self, int64_t *out) {
    int64_t a, b;
    if (ops_hash(ts, AS_BOUND_METHOD(self)->self, &a) < 0) {
        err_clear(ts);
        a = (int64_t)(uintptr_t)AS_OBJ(self);
    }
    if (ops_hash(ts, AS_BOUND_METHOD(self)->func, &b) < 0) return -1;
    *out = a ^ (b * 1000003);
    if (*out == -1) *out = -2;
    return 0;
}

static Value bm_get_self(TState *ts, Value self) { (void)ts; return AS_BOUND_METHOD(self)->self; }
static Value bm_get_func(TState *ts, Value self) { (void)ts; return AS_BOUND_METHOD(self)->func; }
static const GetSetDef bound_method_getsets[] = {
    {"__self__", bm_get_self, NULL},
    {"__func__", bm_get_func, NULL},
    {NULL, NULL, NULL},
};

/* What the method type does not define is read from the function, as
 * CPython does: __name__, __doc__, __qualname__, __module__, and what
 * decorators set on it (unittest reads __unittest_skip__ from a bound
 * test method). */
static Value bound_method_getattr(TState *ts, Value self, ObjStr *name) {
    Value v = class_generic_getattr(ts, self, name);
    if (!IS_EMPTY(v)) return v;
    /* Missing there too, the function's AttributeError is the one raised. */
    return ops_getattr(ts, AS_BOUND_METHOD(self)->func, name);
}

const TypeSpec bound_method_type_spec = {
    .name = "method",
    .kind = OBJ_BOUND_METHOD,
    .repr = bound_method_repr,
    .hash = bound_method_hash,
    .richcmp = bound_method_richcmp,
    .call = bound_method_call,
    .getattr = bound_method_getattr,
    .trace = bound_method_trace,
    .getsets = bound_method_getsets,
};

/* ---- cells ----------------------------------------------------------- */

ObjCell *cell_new(TState *ts, Value v) {
    ObjCell *c = (ObjCell *)gc_alloc(ts, sizeof(ObjCell), OBJ_CELL, ts->interp->types.cell);
    if (!c) return NULL;
    c->value = v;
    return c;
}

static void cell_trace(GcMarker *m, Obj *self) { gc_mark_value(m, ((ObjCell *)self)->value); }

static Value cell_repr(TState *ts, Value self) {
    ObjCell *c = AS_CELL(self);
    if (IS_EMPTY(c->value)) return OBJ_VAL(str_printf(ts, "<cell at %p: empty>", (void *)c));
    return OBJ_VAL(str_printf(ts, "<cell at %p: %s object>", (void *)c, ops_type_name(ts, c->value)));
}

const TypeSpec cell_type_spec = {
    .name = "cell",
    .kind = OBJ_CELL,
    .repr = cell_repr,
    .trace = cell_trace,
};
