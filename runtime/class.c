#include "runtime/class.h"

#include <stdio.h>
#include <string.h>

#include "runtime/args.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/function.h"
#include "runtime/int.h"
#include "runtime/iterator.h"
#include "runtime/list.h"
#include "runtime/module.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "vm/code.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/vm.h"

ObjDict **obj_dict_slot(Obj *o) {
    switch (o->kind) {
    case OBJ_INSTANCE: return &((ObjInstance *)o)->dict;
    case OBJ_EXCEPTION: return &((ObjException *)o)->dict;
    case OBJ_MODULE: return &((ObjModule *)o)->dict;
    case OBJ_FUNCTION: return &((ObjFunction *)o)->dict;
    default: return NULL;
    }
}

ObjDict *obj_dict_ensure(TState *ts, ObjDict **slot) {
    ObjDict *d = obj_dict_load(slot);
    if (d) return d;
    ObjDict *fresh = dict_new(ts);
    if (!fresh) return NULL;
    if (__atomic_compare_exchange_n(slot, &d, fresh, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) return fresh;
    return d; /* another thread's, made meanwhile */
}

static bool is_data_descriptor(Value attr) {
    return IS_KIND(attr, OBJ_PROPERTY);
}

static Value property_get(TState *ts, ObjProperty *p, Value obj) {
    if (p->getset) return p->getset->get(ts, obj);
    if (IS_NONE(p->fget)) return err_format(ts, ts->interp->exc.AttributeError, "unreadable attribute");
    return vm_call(ts, p->fget, &obj, 1, NULL);
}

Value class_bind(TState *ts, Value attr, Value obj, ObjType *type) {
    if (!IS_OBJ(attr)) return attr;
    switch (OBJ_KIND(attr)) {
    case OBJ_FUNCTION:
        return OBJ_VAL(bound_method_new(ts, obj, attr));
    case OBJ_NATIVE:
        /* A built-in type's method: bind only when found on that type. */
        if (AS_NATIVE(attr)->owner) return OBJ_VAL(bound_method_new(ts, obj, attr));
        return attr;
    case OBJ_PROPERTY:
        return property_get(ts, (ObjProperty *)AS_OBJ(attr), obj);
    case OBJ_STATICMETHOD:
        return ((ObjWrapper *)AS_OBJ(attr))->func;
    case OBJ_CLASSMETHOD:
        return OBJ_VAL(bound_method_new(ts, OBJ_VAL(type), ((ObjWrapper *)AS_OBJ(attr))->func));
    default:
        return attr;
    }
}

/* obj.__dict__, made on first use: EMPTY_VAL if obj's kind has none. */
static Value instance_dict(TState *ts, Value obj) {
    ObjDict **slot = obj_dict_slot(AS_OBJ(obj));
    if (!slot) return EMPTY_VAL;
    ObjDict *d = obj_dict_ensure(ts, slot);
    return d ? OBJ_VAL(d) : ERROR_VAL;
}

Value class_generic_getattr(TState *ts, Value obj, ObjStr *name) {
    ObjType *type = val_type(ts, obj);
    Value attr = type_lookup(type, name);
    if (!IS_EMPTY(attr) && is_data_descriptor(attr)) return class_bind(ts, attr, obj, type);
    if (IS_OBJ(obj)) {
        ObjDict **slot = obj_dict_slot(AS_OBJ(obj));
        ObjDict *d = slot ? obj_dict_load(slot) : NULL;
        if (d) {
            Value v = dict_get_str(d, name);
            if (!IS_EMPTY(v)) return v;
        }
    }
    if (!IS_EMPTY(attr)) return class_bind(ts, attr, obj, type);
    Interp *interp = ts->interp;
    if (name == interp->names.class_) return OBJ_VAL(type);
    if (name == interp->names.dict && IS_OBJ(obj)) return instance_dict(ts, obj);
    return EMPTY_VAL;
}

Value class_generic_getattr_type_only(TState *ts, Value obj, ObjStr *name) {
    ObjType *type = val_type(ts, obj);
    Value attr = type_lookup(type, name);
    if (!IS_EMPTY(attr)) return class_bind(ts, attr, obj, type);
    if (name == ts->interp->names.class_) return OBJ_VAL(type);
    return EMPTY_VAL;
}

int class_generic_setattr(TState *ts, Value obj, ObjStr *name, Value value) {
    ObjType *type = val_type(ts, obj);
    Value attr = type_lookup(type, name);
    if (IS_KIND(attr, OBJ_PROPERTY)) {
        ObjProperty *p = (ObjProperty *)AS_OBJ(attr);
        if (p->getset) {
            if (!p->getset->set) goto readonly;
            return p->getset->set(ts, obj, value);
        }
        Value fn = IS_EMPTY(value) ? p->fdel : p->fset;
        if (IS_NONE(fn)) goto readonly;
        Value args[2] = {obj, value};
        Value r = vm_call(ts, fn, args, IS_EMPTY(value) ? 1 : 2, NULL);
        return IS_ERROR(r) ? -1 : 0;
    }
    ObjDict **slot = IS_OBJ(obj) ? obj_dict_slot(AS_OBJ(obj)) : NULL;
    if (!slot) {
        if (!IS_EMPTY(attr))
            err_format(ts, ts->interp->exc.AttributeError, "'%s' object attribute '%s' is read-only",
                       type->name->data, name->data);
        else
            err_format(ts, ts->interp->exc.AttributeError, "'%s' object has no attribute '%s'",
                       type->name->data, name->data);
        return -1;
    }
    ObjDict *d = obj_dict_ensure(ts, slot);
    if (!d) return -1;
    if (IS_EMPTY(value)) {
        int r = dict_delete(ts, d, OBJ_VAL(name));
        if (r == 0)
            err_format(ts, ts->interp->exc.AttributeError, "'%s' object has no attribute '%s'",
                       type->name->data, name->data);
        return r > 0 ? 0 : -1;
    }
    return dict_set_str(ts, d, name, value);
readonly:
    if (((ObjProperty *)AS_OBJ(attr))->getset)
        err_format(ts, ts->interp->exc.AttributeError, "attribute '%s' of '%s' objects is not writable",
                   name->data, type->name->data);
    else
        err_format(ts, ts->interp->exc.AttributeError, "property '%s' of '%s' object has no %s",
                   name->data, type->name->data, IS_EMPTY(value) ? "deleter" : "setter");
    return -1;
}

/* ---- object ---------------------------------------------------------- */

static Value object_repr(TState *ts, Value self) {
    ObjType *type = val_type(ts, self);
    Value module = type->module;
    if (IS_STR(module) && strcmp(AS_STR(module)->data, "builtins") != 0)
        return OBJ_VAL(str_printf(ts, "<%s.%s object at %p>", AS_STR(module)->data,
                                  type->name->data, (void *)AS_OBJ(self)));
    return OBJ_VAL(str_printf(ts, "<%s object at %p>", type->name->data, (void *)AS_OBJ(self)));
}

static int object_hash(TState *ts, Value self, int64_t *out) {
    (void)ts;
    /* Addresses are 16-byte aligned: drop the constant low bits. */
    uint64_t bits = IS_OBJ(self) ? (uint64_t)(uintptr_t)AS_OBJ(self) : self;
    *out = (int64_t)((bits >> 4) | (bits << 60));
    if (*out == -1) *out = -2;
    return 0;
}

static Value object_richcmp(TState *ts, Value a, Value b, CmpOp op) {
    (void)ts;
    if (op == CMP_EQ) return a == b ? TRUE_VAL : NOT_IMPLEMENTED_VAL;
    if (op == CMP_NE) return a == b ? FALSE_VAL : NOT_IMPLEMENTED_VAL;
    return NOT_IMPLEMENTED_VAL;
}

static Value object_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    if (type->instance_kind != OBJ_INSTANCE)
        return err_format(ts, ts->interp->exc.TypeError, "cannot create '%s' instances",
                          type->name->data);
    /* object() takes no arguments unless a subclass has an __init__ that
     * takes them (checked when __init__ is called). */
    if ((nargs > 0 || kwnames) && !IS_FUNCTION(type_lookup(type, ts->interp->names.init)))
        return err_format(ts, ts->interp->exc.TypeError, "%s() takes no arguments", type->name->data);
    ObjInstance *inst = (ObjInstance *)gc_alloc(ts, sizeof(ObjInstance), OBJ_INSTANCE, type);
    if (!inst) return ERROR_VAL;
    inst->dict = NULL;
    return OBJ_VAL(inst);
}

static Value object_getattr(TState *ts, Value self, ObjStr *name) {
    return class_generic_getattr(ts, self, name);
}

static void instance_trace(GcMarker *m, Obj *self) {
    gc_mark_obj(m, (Obj *)((ObjInstance *)self)->dict);
}

static Value object_init_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (nargs < 1) return err_format(ts, ts->interp->exc.TypeError, "descriptor '__init__' of 'object' object needs an argument");
    ObjType *type = val_type(ts, args[0]);
    bool overridden = type_lookup(type, ts->interp->names.init) != type_lookup(ts->interp->types.object, ts->interp->names.init);
    if ((nargs > 1 || kwnames) && !overridden)
        return err_format(ts, ts->interp->exc.TypeError, "%s() takes no arguments", type->name->data);
    if (nargs > 1 || kwnames)
        return err_format(ts, ts->interp->exc.TypeError,
                          "object.__init__() takes exactly one argument (the instance to initialize)");
    return NONE_VAL;
}

static Value object_repr_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__repr__", nargs, kwnames, 1, 1)) return ERROR_VAL;
    return object_repr(ts, args[0]);
}

static Value object_str_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__str__", nargs, kwnames, 1, 1)) return ERROR_VAL;
    return ops_repr(ts, args[0]);
}

static Value object_eq_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__eq__", nargs, kwnames, 2, 2)) return ERROR_VAL;
    return object_richcmp(ts, args[0], args[1], CMP_EQ);
}

static Value object_ne_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__ne__", nargs, kwnames, 2, 2)) return ERROR_VAL;
    Value eq = ops_compare(ts, args[0], args[1], CMP_EQ);
    if (IS_ERROR(eq) || IS_NOT_IMPLEMENTED(eq)) return eq;
    int t = ops_truth(ts, eq);
    return t < 0 ? ERROR_VAL : BOOL_VAL(!t);
}

static Value object_hash_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__hash__", nargs, kwnames, 1, 1)) return ERROR_VAL;
    int64_t h;
    object_hash(ts, args[0], &h);
    return INT_VAL(h >> 16);
}

static Value object_setattr_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__setattr__", nargs, kwnames, 3, 3)) return ERROR_VAL;
    if (!IS_STR(args[1]))
        return err_format(ts, ts->interp->exc.TypeError, "attribute name must be string, not '%s'",
                          ops_type_name(ts, args[1]));
    ObjStr *name = str_intern_obj(ts, AS_STR(args[1]));
    return class_generic_setattr(ts, args[0], name, args[2]) < 0 ? ERROR_VAL : NONE_VAL;
}

static Value object_delattr_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__delattr__", nargs, kwnames, 2, 2)) return ERROR_VAL;
    if (!IS_STR(args[1]))
        return err_format(ts, ts->interp->exc.TypeError, "attribute name must be string, not '%s'",
                          ops_type_name(ts, args[1]));
    ObjStr *name = str_intern_obj(ts, AS_STR(args[1]));
    return class_generic_setattr(ts, args[0], name, EMPTY_VAL) < 0 ? ERROR_VAL : NONE_VAL;
}

static Value object_getattribute_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__getattribute__", nargs, kwnames, 2, 2)) return ERROR_VAL;
    if (!IS_STR(args[1]))
        return err_format(ts, ts->interp->exc.TypeError, "attribute name must be string, not '%s'",
                          ops_type_name(ts, args[1]));
    ObjStr *name = str_intern_obj(ts, AS_STR(args[1]));
    Value v = class_generic_getattr(ts, args[0], name);
    if (IS_EMPTY(v))
        return err_format(ts, ts->interp->exc.AttributeError, "'%s' object has no attribute '%s'",
                          ops_type_name(ts, args[0]), name->data);
    return v;
}

static Value object_format_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__format__", nargs, kwnames, 2, 2)) return ERROR_VAL;
    if (!IS_STR(args[1]))
        return err_format(ts, ts->interp->exc.TypeError, "format() argument 2 must be str, not %s",
                          ops_type_name(ts, args[1]));
    if (AS_STR(args[1])->len > 0)
        return err_format(ts, ts->interp->exc.TypeError,
                          "unsupported format string passed to %s.__format__",
                          ops_type_name(ts, args[0]));
    return ops_str(ts, args[0]);
}

static Value object_init_subclass(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    (void)args;
    (void)nargs;
    if (kwnames)
        return err_format(ts, ts->interp->exc.TypeError,
                          "__init_subclass__() takes no keyword arguments");
    return NONE_VAL;
}

static const NativeDef object_methods[] = {
    {"__init__", object_init_method},
    {"__repr__", object_repr_method},
    {"__str__", object_str_method},
    {"__eq__", object_eq_method},
    {"__ne__", object_ne_method},
    {"__hash__", object_hash_method},
    {"__setattr__", object_setattr_method},
    {"__delattr__", object_delattr_method},
    {"__getattribute__", object_getattribute_method},
    {"__format__", object_format_method},
    {NULL, NULL},
};

static const NativeDef object_classmethods[] = {
    {"__init_subclass__", object_init_subclass},
    {NULL, NULL},
};

static int object_setattr(TState *ts, Value self, ObjStr *name, Value value) {
    return class_generic_setattr(ts, self, name, value);
}

const TypeSpec object_type_spec = {
    .name = "object",
    .kind = OBJ_INSTANCE,
    .flags = TYPEF_BASETYPE,
    .repr = object_repr,
    .hash = object_hash,
    .richcmp = object_richcmp,
    .getattr = object_getattr,
    .setattr = object_setattr,
    .new_ = object_new,
    .trace = instance_trace,
    .methods = object_methods,
    .classmethods = object_classmethods,
};

/* ---- type ------------------------------------------------------------ */

static Value type_repr(TState *ts, Value self) {
    ObjType *t = AS_TYPE(self);
    if (IS_STR(t->module) && strcmp(AS_STR(t->module)->data, "builtins") != 0)
        return OBJ_VAL(str_printf(ts, "<class '%s.%s'>", AS_STR(t->module)->data, t->name->data));
    return OBJ_VAL(str_printf(ts, "<class '%s'>", t->name->data));
}

/* Calling a class: __new__, then __init__ when the result is an instance
 * of the class. */
static Value type_call(TState *ts, Value callee, Value *args, int nargs, ObjTuple *kwnames) {
    ObjType *type = AS_TYPE(callee);
    Interp *interp = ts->interp;
    if (type == interp->types.type && nargs == 1 && !kwnames) return OBJ_VAL(val_type(ts, args[0]));
    /* A __new__ written in mini runs; the built-in ones (object.__new__
     * and friends) are the type's new_ slot, called directly. */
    Value user_new = (type->flags & TYPEF_HEAPTYPE) ? type_lookup(type, interp->names.new_) : EMPTY_VAL;
    if (IS_KIND(user_new, OBJ_STATICMETHOD)) user_new = ((ObjWrapper *)AS_OBJ(user_new))->func;
    Value obj;
    if (IS_FUNCTION(user_new)) {
        obj = vm_call_method(ts, user_new, callee, args, nargs, kwnames);
    } else if (type->new_) {
        obj = type->new_(ts, type, args, nargs, kwnames);
    } else {
        return err_format(ts, interp->exc.TypeError, "cannot create '%s' instances", type->name->data);
    }
    if (IS_ERROR(obj) || !type_is_subtype(val_type(ts, obj), type)) return obj;
    /* Built-in types' new_ consumed the arguments; only a mini __init__
     * runs after it. */
    Value init = type_lookup(type, interp->names.init);
    if (!IS_FUNCTION(init)) return obj;
    vm_push(ts, obj);
    Value r = vm_call_method(ts, init, obj, args, nargs, kwnames);
    vm_pop(ts);
    if (IS_ERROR(r)) return r;
    if (!IS_NONE(r))
        return err_format(ts, interp->exc.TypeError, "__init__() should return None, not '%s'",
                          ops_type_name(ts, r));
    return obj;
}

static Value type_getattr(TState *ts, Value self, ObjStr *name) {
    ObjType *type = AS_TYPE(self);
    Interp *interp = ts->interp;
    /* Attributes of the metatype that are data descriptors win. */
    Value meta_attr = type_lookup(val_type(ts, self), name);
    if (!IS_EMPTY(meta_attr) && is_data_descriptor(meta_attr))
        return class_bind(ts, meta_attr, self, val_type(ts, self));
    /* The metatype's own data descriptors, as type.__name__ in Python:
     * they win over what the class (or its instances) define. */
    if (name == interp->names.name) return OBJ_VAL(type->name);
    if (name == interp->names.qualname) {
        Value q = type->dict ? dict_get_str(type->dict, interp->names.qualname) : EMPTY_VAL;
        return IS_STR(q) ? q : OBJ_VAL(type->name);
    }
    Value attr = type_lookup(type, name);
    if (!IS_EMPTY(attr)) {
        if (IS_KIND(attr, OBJ_STATICMETHOD)) return ((ObjWrapper *)AS_OBJ(attr))->func;
        if (IS_KIND(attr, OBJ_CLASSMETHOD))
            return OBJ_VAL(bound_method_new(ts, self, ((ObjWrapper *)AS_OBJ(attr))->func));
        return attr;
    }
    if (name == interp->names.module) return IS_NONE(type->module) ? OBJ_VAL(str_intern_cstr(ts, "builtins")) : type->module;
    if (name == interp->names.dict) return OBJ_VAL(type->dict);
    if (name == interp->names.doc) return NONE_VAL;
    if (strcmp(name->data, "__mro__") == 0) return OBJ_VAL(type->mro);
    if (strcmp(name->data, "__base__") == 0) return type->base ? OBJ_VAL(type->base) : NONE_VAL;
    if (strcmp(name->data, "__bases__") == 0) {
        if (!type->base) return OBJ_VAL(tuple_new(ts, 0));
        Value b = OBJ_VAL(type->base);
        return OBJ_VAL(tuple_from(ts, &b, 1));
    }
    if (!IS_EMPTY(meta_attr)) return class_bind(ts, meta_attr, self, val_type(ts, self));
    return EMPTY_VAL;
}

static int type_setattr(TState *ts, Value self, ObjStr *name, Value value) {
    ObjType *type = AS_TYPE(self);
    if (!(type->flags & TYPEF_HEAPTYPE)) {
        err_format(ts, ts->interp->exc.TypeError,
                   "cannot set '%s' attribute of immutable type '%s'", name->data, type->name->data);
        return -1;
    }
    int r;
    if (IS_EMPTY(value)) {
        int d = dict_delete(ts, type->dict, OBJ_VAL(name));
        if (d == 0)
            err_format(ts, ts->interp->exc.AttributeError, "type object '%s' has no attribute '%s'",
                       type->name->data, name->data);
        r = d > 0 ? 0 : -1;
    } else {
        r = dict_set_str(ts, type->dict, name, value);
    }
    atomic_fetch_add(&ts->interp->type_epoch, 1);
    if (r == 0 && name->data[0] == '_' && name->data[1] == '_') class_install_slots(ts, type);
    return r;
}

static Value type_new(TState *ts, ObjType *meta, Value *args, int nargs, ObjTuple *kwnames) {
    if (nargs == 1 && !kwnames) return OBJ_VAL(val_type(ts, args[0]));
    if (nargs != 3)
        return err_format(ts, ts->interp->exc.TypeError, "type() takes 1 or 3 arguments");
    if (!IS_STR(args[0]) || !IS_TUPLE(args[1]) || !IS_DICT(args[2]))
        return err_format(ts, ts->interp->exc.TypeError,
                          "type.__new__() argument types must be (str, tuple, dict)");
    return class_new(ts, meta, str_intern_obj(ts, AS_STR(args[0])), AS_TUPLE(args[1]),
                     dict_copy(ts, AS_DICT(args[2])));
}

static void type_trace(GcMarker *m, Obj *self) {
    ObjType *t = (ObjType *)self;
    gc_mark_obj(m, (Obj *)t->name);
    gc_mark_obj(m, (Obj *)t->base);
    gc_mark_obj(m, (Obj *)t->dict);
    gc_mark_obj(m, (Obj *)t->mro);
    gc_mark_value(m, t->module);
}

static Value type_mro_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "mro", nargs, kwnames, 1, 1)) return ERROR_VAL;
    if (!IS_TYPE(args[0])) return err_type_not(ts, args[0], "a type");
    ObjTuple *mro = AS_TYPE(args[0])->mro;
    return OBJ_VAL(list_from(ts, mro->items, mro->len));
}

static Value type_subclasscheck(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__subclasscheck__", nargs, kwnames, 2, 2)) return ERROR_VAL;
    if (!IS_TYPE(args[0]) || !IS_TYPE(args[1]))
        return err_format(ts, ts->interp->exc.TypeError, "issubclass() arg 1 must be a class");
    return BOOL_VAL(type_is_subtype(AS_TYPE(args[1]), AS_TYPE(args[0])));
}

static const NativeDef type_methods[] = {
    {"mro", type_mro_method},
    {"__subclasscheck__", type_subclasscheck},
    {NULL, NULL},
};

const TypeSpec type_type_spec = {
    .name = "type",
    .kind = OBJ_TYPE,
    .flags = TYPEF_BASETYPE,
    .repr = type_repr,
    .call = type_call,
    .getattr = type_getattr,
    .setattr = type_setattr,
    .new_ = type_new,
    .trace = type_trace,
    .methods = type_methods,
};

/* ---- user classes ---------------------------------------------------- */

static Value call_dunder(TState *ts, Value self, ObjStr *name, Value *args, int nargs) {
    Value fn = type_lookup(val_type(ts, self), name);
    if (IS_EMPTY(fn)) return EMPTY_VAL;
    if (IS_KIND(fn, OBJ_STATICMETHOD)) return vm_call(ts, ((ObjWrapper *)AS_OBJ(fn))->func, args, nargs, NULL);
    if (IS_KIND(fn, OBJ_CLASSMETHOD))
        return vm_call_method(ts, ((ObjWrapper *)AS_OBJ(fn))->func, OBJ_VAL(val_type(ts, self)), args, nargs, NULL);
    return vm_call_method(ts, fn, self, args, nargs, NULL);
}

static Value dunder_result(TState *ts, Value self, ObjStr *name, Value *args, int nargs) {
    Value r = call_dunder(ts, self, name, args, nargs);
    if (IS_EMPTY(r))
        return err_format(ts, ts->interp->exc.TypeError, "'%s' object has no method '%s'",
                          ops_type_name(ts, self), name->data);
    return r;
}

static Value slot_repr(TState *ts, Value self) {
    Value r = dunder_result(ts, self, ts->interp->names.repr, NULL, 0);
    if (!IS_ERROR(r) && !IS_STR(r))
        return err_format(ts, ts->interp->exc.TypeError, "__repr__ returned non-string (type %s)",
                          ops_type_name(ts, r));
    return r;
}

static Value slot_str(TState *ts, Value self) {
    Value r = dunder_result(ts, self, ts->interp->names.str, NULL, 0);
    if (!IS_ERROR(r) && !IS_STR(r))
        return err_format(ts, ts->interp->exc.TypeError, "__str__ returned non-string (type %s)",
                          ops_type_name(ts, r));
    return r;
}

static int slot_hash(TState *ts, Value self, int64_t *out) {
    Value r = dunder_result(ts, self, ts->interp->names.hash, NULL, 0);
    if (IS_ERROR(r)) return -1;
    if (!IS_INT(r) && !IS_BOOL(r) && !IS_KIND(r, OBJ_INT)) {
        err_format(ts, ts->interp->exc.TypeError, "__hash__ method should return an integer");
        return -1;
    }
    /* As CPython: an int that fits is the hash itself; a bigger one is
     * hashed again. */
    int64_t h;
    if (int_to_i64(r, &h)) {
        *out = h == -1 ? -2 : h;
        return 0;
    }
    return ops_hash(ts, r, out);
}

static ObjStr *cmp_dunder(Interp *interp, CmpOp op) {
    switch (op) {
    case CMP_LT: return interp->names.lt;
    case CMP_LE: return interp->names.le;
    case CMP_EQ: return interp->names.eq;
    case CMP_NE: return interp->names.ne;
    case CMP_GT: return interp->names.gt;
    default: return interp->names.ge;
    }
}

static Value slot_richcmp(TState *ts, Value a, Value b, CmpOp op) {
    ObjType *ta = val_type(ts, a);
    if (!(ta->flags & TYPEF_HEAPTYPE)) return NOT_IMPLEMENTED_VAL;
    Value r = call_dunder(ts, a, cmp_dunder(ts->interp, op), &b, 1);
    if (!IS_EMPTY(r)) return r;
    return NOT_IMPLEMENTED_VAL;
}

/* Forward, reflected and in-place dunder names of each BinOp. */
static const char *const binop_names[BIN_COUNT][3] = {
    [BIN_ADD] = {"__add__", "__radd__", "__iadd__"},
    [BIN_SUB] = {"__sub__", "__rsub__", "__isub__"},
    [BIN_MUL] = {"__mul__", "__rmul__", "__imul__"},
    [BIN_TRUEDIV] = {"__truediv__", "__rtruediv__", "__itruediv__"},
    [BIN_FLOORDIV] = {"__floordiv__", "__rfloordiv__", "__ifloordiv__"},
    [BIN_MOD] = {"__mod__", "__rmod__", "__imod__"},
    [BIN_POW] = {"__pow__", "__rpow__", "__ipow__"},
    [BIN_LSHIFT] = {"__lshift__", "__rlshift__", "__ilshift__"},
    [BIN_RSHIFT] = {"__rshift__", "__rrshift__", "__irshift__"},
    [BIN_AND] = {"__and__", "__rand__", "__iand__"},
    [BIN_OR] = {"__or__", "__ror__", "__ior__"},
    [BIN_XOR] = {"__xor__", "__rxor__", "__ixor__"},
    [BIN_MATMUL] = {"__matmul__", "__rmatmul__", "__imatmul__"},
};

/* Looked up at each use, as a base may get its __iadd__ after the class
 * is made; NotImplemented (also from the method) falls back to binop. */
static Value slot_inplace(TState *ts, BinOp op, Value a, Value b) {
    Value fn = type_lookup(val_type(ts, a), str_intern_cstr(ts, binop_names[op][2]));
    if (IS_EMPTY(fn)) return NOT_IMPLEMENTED_VAL;
    return vm_call_method(ts, fn, a, &b, 1, NULL);
}

static bool is_user_binop_type(ObjType *t);

static Value slot_binop(TState *ts, BinOp op, Value a, Value b) {
    ObjType *ta = val_type(ts, a), *tb = val_type(ts, b);
    if (is_user_binop_type(ta)) {
        Value r = call_dunder(ts, a, str_intern_cstr(ts, binop_names[op][0]), &b, 1);
        if (IS_ERROR(r)) return r;
        if (!IS_EMPTY(r) && !IS_NOT_IMPLEMENTED(r)) return r;
    }
    if (tb != ta && is_user_binop_type(tb)) {
        Value r = call_dunder(ts, b, str_intern_cstr(ts, binop_names[op][1]), &a, 1);
        if (IS_ERROR(r)) return r;
        if (!IS_EMPTY(r) && !IS_NOT_IMPLEMENTED(r)) return r;
    }
    return NOT_IMPLEMENTED_VAL;
}

static bool is_user_binop_type(ObjType *t) { return t->binop == slot_binop; }

static Value slot_unop(TState *ts, UnOp op, Value a) {
    Interp *interp = ts->interp;
    ObjStr *name = op == UN_NEG ? interp->names.neg : op == UN_POS ? interp->names.pos : interp->names.invert;
    Value r = call_dunder(ts, a, name, NULL, 0);
    if (IS_EMPTY(r)) return NOT_IMPLEMENTED_VAL;
    return r;
}

/* __len__'s result as CPython takes it: any integer (__index__ included),
 * not negative, and OverflowError past an index-sized integer. */
static int64_t len_from_result(TState *ts, Value r) {
    Value i = int_index(ts, r);
    if (IS_ERROR(i)) return -1;
    int64_t n;
    if (int_compare(i, INT_VAL(0)) < 0) {
        err_format(ts, ts->interp->exc.ValueError, "__len__() should return >= 0");
        return -1;
    }
    if (!int_to_i64(i, &n)) {
        err_format(ts, ts->interp->exc.OverflowError, "cannot fit 'int' into an index-sized integer");
        return -1;
    }
    return n;
}

static int slot_truth(TState *ts, Value self) {
    Interp *interp = ts->interp;
    Value r = call_dunder(ts, self, interp->names.bool_, NULL, 0);
    if (IS_ERROR(r)) return -1;
    if (!IS_EMPTY(r)) {
        if (!IS_BOOL(r)) {
            err_format(ts, interp->exc.TypeError, "__bool__ should return bool, returned %s",
                       ops_type_name(ts, r));
            return -1;
        }
        return AS_BOOL(r);
    }
    r = call_dunder(ts, self, interp->names.len, NULL, 0);
    if (IS_ERROR(r)) return -1;
    if (IS_EMPTY(r)) return 1;
    int64_t n = len_from_result(ts, r);
    return n < 0 ? -1 : n != 0;
}

static int64_t slot_len(TState *ts, Value self) {
    Value r = dunder_result(ts, self, ts->interp->names.len, NULL, 0);
    if (IS_ERROR(r)) return -1;
    return len_from_result(ts, r);
}

static Value slot_getitem(TState *ts, Value self, Value key) {
    return dunder_result(ts, self, ts->interp->names.getitem, &key, 1);
}

static int slot_setitem(TState *ts, Value self, Value key, Value value) {
    Value r;
    if (IS_EMPTY(value)) {
        r = dunder_result(ts, self, ts->interp->names.delitem, &key, 1);
    } else {
        Value args[2] = {key, value};
        r = dunder_result(ts, self, ts->interp->names.setitem, args, 2);
    }
    return IS_ERROR(r) ? -1 : 0;
}

static int slot_contains(TState *ts, Value self, Value item) {
    Value r = dunder_result(ts, self, ts->interp->names.contains, &item, 1);
    if (IS_ERROR(r)) return -1;
    return ops_truth(ts, r);
}

static Value slot_iter(TState *ts, Value self) {
    Value r = dunder_result(ts, self, ts->interp->names.iter, NULL, 0);
    if (IS_ERROR(r)) return r;
    if (!val_type(ts, r)->next)
        return err_format(ts, ts->interp->exc.TypeError, "iter() returned non-iterator of type '%s'",
                          ops_type_name(ts, r));
    return r;
}

static Value slot_next(TState *ts, Value self) {
    Value r = dunder_result(ts, self, ts->interp->names.next, NULL, 0);
    if (IS_ERROR(r) && err_matches(ts, ts->interp->exc.StopIteration)) {
        err_clear(ts);
        return EMPTY_VAL;
    }
    return r;
}

static Value slot_call(TState *ts, Value callee, Value *args, int nargs, ObjTuple *kwnames) {
    Value fn = type_lookup(val_type(ts, callee), ts->interp->names.call);
    if (IS_EMPTY(fn)) return err_type_not(ts, callee, "callable");
    return vm_call_method(ts, fn, callee, args, nargs, kwnames);
}

static Value slot_getattr(TState *ts, Value self, ObjStr *name) {
    Value v = class_generic_getattr(ts, self, name);
    if (!IS_EMPTY(v)) return v;
    Value fallback = type_lookup(val_type(ts, self), ts->interp->names.getattr);
    if (IS_EMPTY(fallback)) return EMPTY_VAL;
    Value arg = OBJ_VAL(name);
    return vm_call_method(ts, fallback, self, &arg, 1, NULL);
}

/* A class defining __getattribute__ looks everything up through it;
 * __getattr__ still catches what it reports missing. */
static Value slot_getattribute(TState *ts, Value self, ObjStr *name) {
    Interp *interp = ts->interp;
    Value fn = type_lookup(val_type(ts, self), interp->names.getattribute);
    Value arg = OBJ_VAL(name);
    Value v = vm_call_method(ts, fn, self, &arg, 1, NULL);
    if (!IS_ERROR(v) || !err_matches(ts, interp->exc.AttributeError)) return v;
    Value fallback = type_lookup(val_type(ts, self), interp->names.getattr);
    if (IS_EMPTY(fallback)) {
        err_clear(ts);
        return EMPTY_VAL;
    }
    err_clear(ts);
    return vm_call_method(ts, fallback, self, &arg, 1, NULL);
}

static int slot_setattr(TState *ts, Value self, ObjStr *name, Value value) {
    Interp *interp = ts->interp;
    ObjStr *dunder = IS_EMPTY(value) ? interp->names.delattr : interp->names.setattr;
    Value fn = type_lookup(val_type(ts, self), dunder);
    if (IS_NATIVE(fn) && AS_NATIVE(fn)->owner == interp->types.object)
        return class_generic_setattr(ts, self, name, value);
    Value args[2] = {OBJ_VAL(name), value};
    Value r = vm_call_method(ts, fn, self, args, IS_EMPTY(value) ? 1 : 2, NULL);
    return IS_ERROR(r) ? -1 : 0;
}

static bool defines(ObjType *type, ObjStr *name) {
    for (ObjType *t = type; t; t = t->base) {
        if (!(t->flags & TYPEF_HEAPTYPE)) return false;
        if (!IS_EMPTY(dict_get_str(t->dict, name))) return true;
    }
    return false;
}

static bool defines_cstr(TState *ts, ObjType *type, const char *name) {
    return defines(type, str_intern_cstr(ts, name));
}

void class_install_slots(TState *ts, ObjType *t) {
    CommonNames *n = &ts->interp->names;
    ObjType *base = t->base;
#define INSTALL(slot, cond, fn) t->slot = (cond) ? fn : base->slot
    INSTALL(repr, defines(t, n->repr), slot_repr);
    INSTALL(str, defines(t, n->str), slot_str);
    INSTALL(richcmp, defines(t, n->eq) || defines(t, n->ne) || defines(t, n->lt) ||
                         defines(t, n->le) || defines(t, n->gt) || defines(t, n->ge),
            slot_richcmp);
    INSTALL(truth, defines(t, n->bool_) || defines(t, n->len), slot_truth);
    INSTALL(len, defines(t, n->len), slot_len);
    INSTALL(getitem, defines(t, n->getitem), slot_getitem);
    INSTALL(setitem, defines(t, n->setitem) || defines(t, n->delitem), slot_setitem);
    INSTALL(contains, defines(t, n->contains), slot_contains);
    INSTALL(iter, defines(t, n->iter), slot_iter);
    INSTALL(next, defines(t, n->next), slot_next);
    INSTALL(call, defines(t, n->call), slot_call);
    INSTALL(getattr, defines(t, n->getattr), slot_getattr);
    if (defines(t, n->getattribute)) t->getattr = slot_getattribute;
    INSTALL(setattr, defines(t, n->setattr) || defines(t, n->delattr), slot_setattr);
    INSTALL(unop, defines(t, n->neg) || defines(t, n->pos) || defines(t, n->invert), slot_unop);
#undef INSTALL
    bool numeric = false;
    for (int op = 0; op < BIN_COUNT && !numeric; op++)
        numeric = defines_cstr(ts, t, binop_names[op][0]) || defines_cstr(ts, t, binop_names[op][1]);
    t->binop = numeric ? slot_binop : base->binop;
    t->inplace = slot_inplace;
    /* Python: defining __eq__ without __hash__ makes instances unhashable;
     * __hash__ = None does too. */
    Value h = type_lookup(t, n->hash);
    if (defines(t, n->hash) && !IS_NONE(h)) t->hash = slot_hash;
    else if ((defines(t, n->eq) && !defines(t, n->hash)) || IS_NONE(h)) t->hash = NULL;
    else t->hash = base->hash;
}

Value class_new(TState *ts, ObjType *meta, ObjStr *name, ObjTuple *bases, ObjDict *ns) {
    Interp *interp = ts->interp;
    if (!ns) return ERROR_VAL;
    if (bases->len > 1)
        return err_format(ts, interp->exc.TypeError,
                          "multiple inheritance is not supported by mini (class %s)", name->data);
    ObjType *base = interp->types.object;
    if (bases->len == 1) {
        if (!IS_TYPE(bases->items[0]))
            return err_format(ts, interp->exc.TypeError, "bases must be types");
        base = AS_TYPE(bases->items[0]);
        if (!(base->flags & TYPEF_BASETYPE))
            return err_format(ts, interp->exc.TypeError, "type '%s' is not an acceptable base type",
                              base->name->data);
    }
    ObjType *t = (ObjType *)gc_alloc(ts, sizeof(ObjType), OBJ_TYPE, meta);
    if (!t) return ERROR_VAL;
    memcpy((char *)t + sizeof(Obj), (char *)base + sizeof(Obj), sizeof(ObjType) - sizeof(Obj));
    t->name = name;
    t->base = base;
    t->dict = ns;
    t->mro = NULL;
    t->flags = (base->flags & ~TYPEF_HEAPTYPE) | TYPEF_HEAPTYPE | TYPEF_BASETYPE;
    t->id = atomic_fetch_add(&interp->next_type_id, 1) + 1;
    Value module = dict_get_str(ns, interp->names.module);
    t->module = IS_EMPTY(module) ? NONE_VAL : module;
    vm_push(ts, OBJ_VAL(t));
    size_t n = 0;
    for (ObjType *b = t; b; b = b->base) n++;
    ObjTuple *mro = tuple_new(ts, n);
    if (!mro) {
        vm_pop(ts);
        return ERROR_VAL;
    }
    size_t i = 0;
    for (ObjType *b = t; b; b = b->base) mro->items[i++] = OBJ_VAL(b);
    t->mro = mro;
    /* __new__ is an implicit staticmethod, __init_subclass__ an implicit
     * classmethod, as in Python. */
    Value new_fn = dict_get_str(ns, interp->names.new_);
    if (IS_FUNCTION(new_fn)) {
        ObjWrapper *w = (ObjWrapper *)gc_alloc(ts, sizeof(ObjWrapper), OBJ_STATICMETHOD,
                                               interp->types.staticmethod);
        if (!w) {
            vm_pop(ts);
            return ERROR_VAL;
        }
        w->func = new_fn;
        dict_set_str(ts, ns, interp->names.new_, OBJ_VAL(w));
    }
    /* Methods remember their class, for super() without arguments. */
    size_t pos = 0;
    Value key, value;
    while (dict_next(ns, &pos, &key, &value)) {
        if (IS_KIND(value, OBJ_STATICMETHOD) || IS_KIND(value, OBJ_CLASSMETHOD))
            value = ((ObjWrapper *)AS_OBJ(value))->func;
        else if (IS_KIND(value, OBJ_PROPERTY))
            value = ((ObjProperty *)AS_OBJ(value))->fget;
        if (IS_FUNCTION(value) && !AS_FUNCTION(value)->klass) AS_FUNCTION(value)->klass = t;
    }
    /* Python: a class that defines __eq__ but not __hash__ gets
     * __hash__ = None (its instances are unhashable). */
    if (!IS_EMPTY(dict_get_str(ns, interp->names.eq)) && IS_EMPTY(dict_get_str(ns, interp->names.hash)))
        dict_set_str(ts, ns, interp->names.hash, NONE_VAL);
    class_install_slots(ts, t);
    Value init_sub = type_lookup(base, interp->names.init_subclass);
    if (IS_KIND(init_sub, OBJ_CLASSMETHOD)) init_sub = ((ObjWrapper *)AS_OBJ(init_sub))->func;
    if (IS_FUNCTION(init_sub)) {
        Value r = vm_call_method(ts, init_sub, OBJ_VAL(t), NULL, 0, NULL);
        if (IS_ERROR(r)) {
            vm_pop(ts);
            return r;
        }
    }
    vm_pop(ts);
    return OBJ_VAL(t);
}

Value class_build(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    Interp *interp = ts->interp;
    if (nargs < 2 || !IS_FUNCTION(args[0]) || !IS_STR(args[1]))
        return err_format(ts, interp->exc.TypeError, "__build_class__: bad arguments");
    if (kwnames)
        return err_format(ts, interp->exc.TypeError, "class keyword arguments are not supported");
    ObjFunction *body = AS_FUNCTION(args[0]);
    ObjStr *name = str_intern_obj(ts, AS_STR(args[1]));
    ObjTuple *bases = tuple_from(ts, args + 2, (size_t)(nargs - 2));
    if (!bases) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(bases));
    ObjDict *ns = dict_new(ts);
    if (!ns) {
        vm_pop(ts);
        return ERROR_VAL;
    }
    vm_push(ts, OBJ_VAL(ns));
    Value module_name = dict_get_str(body->globals, interp->names.name);
    if (!IS_EMPTY(module_name)) dict_set_str(ts, ns, interp->names.module, module_name);
    dict_set_str(ts, ns, interp->names.qualname, OBJ_VAL(body->qualname));
    Value r = vm_run_class_body(ts, body, ns);
    Value cls = ERROR_VAL;
    if (!IS_ERROR(r)) {
        ObjType *meta = interp->types.type;
        for (size_t i = 0; i < bases->len; i++)
            if (IS_TYPE(bases->items[i])) meta = val_type(ts, bases->items[i]);
        cls = class_new(ts, meta, name, bases, ns);
    }
    vm_pop(ts);
    vm_pop(ts);
    return cls;
}

/* ---- super ----------------------------------------------------------- */

/* A super object has no __dict__ of its own: its kind is OBJ_OPAQUE, so the
 * generic attribute paths (and the VM's instance-dict caches, which test
 * for OBJ_INSTANCE) never take its fields for an instance dict. */
typedef struct ObjSuper {
    Obj obj;
    ObjType *type;  /* the class whose parent to search from */
    Value self;
    ObjType *self_type;
} ObjSuper;

Value class_super(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    Interp *interp = ts->interp;
    if (kwnames) return err_format(ts, interp->exc.TypeError, "super() takes no keyword arguments");
    ObjType *type;
    Value self;
    if (nargs == 0) {
        if (!vm_super_context(ts, &type, &self))
            return err_format(ts, interp->exc.RuntimeError, "super(): no arguments");
    } else if (nargs == 2) {
        if (!IS_TYPE(args[0]))
            return err_format(ts, interp->exc.TypeError, "super() argument 1 must be a type, not %s",
                              ops_type_name(ts, args[0]));
        type = AS_TYPE(args[0]);
        self = args[1];
    } else {
        return err_format(ts, interp->exc.TypeError, "super() takes 0 or 2 arguments");
    }
    ObjType *self_type = IS_TYPE(self) && type_is_subtype(AS_TYPE(self), type) ? AS_TYPE(self)
                                                                               : val_type(ts, self);
    if (!type_is_subtype(self_type, type))
        return err_format(ts, interp->exc.TypeError,
                          "super(type, obj): obj must be an instance or subtype of type");
    ObjSuper *s = (ObjSuper *)gc_alloc(ts, sizeof(ObjSuper), OBJ_OPAQUE, interp->types.super);
    if (!s) return ERROR_VAL;
    s->type = type;
    s->self = self;
    s->self_type = self_type;
    return OBJ_VAL(s);
}

/* Does t give its instances a __dict__? In CPython the __dict__ descriptor
 * lives on the first such class of an MRO (a user class over object,
 * BaseException), so super() finds it only from below such a class. */
static bool type_has_instance_dict(ObjType *t) {
    return ((t->flags & TYPEF_HEAPTYPE) && t->instance_kind == OBJ_INSTANCE) ||
           t->instance_kind == OBJ_EXCEPTION;
}

/* Looks name up in the MRO past s->type and binds it to s->self; __class__
 * and what the MRO lacks are the super object's own attributes. */
static Value super_getattr(TState *ts, Value self, ObjStr *name) {
    ObjSuper *s = (ObjSuper *)AS_OBJ(self);
    ObjStr *dict_name = ts->interp->names.dict;
    for (ObjType *t = s->type->base; t && name != ts->interp->names.class_; t = t->base) {
        Value attr = dict_get_str(t->dict, name);
        if (IS_EMPTY(attr)) {
            if (name == dict_name && !IS_TYPE(s->self) && IS_OBJ(s->self) && type_has_instance_dict(t)) {
                Value d = instance_dict(ts, s->self);
                if (!IS_EMPTY(d)) return d;
            }
            continue;
        }
        if (IS_TYPE(s->self) && s->self_type == AS_TYPE(s->self)) {
            if (IS_KIND(attr, OBJ_CLASSMETHOD))
                return OBJ_VAL(bound_method_new(ts, s->self, ((ObjWrapper *)AS_OBJ(attr))->func));
            if (IS_KIND(attr, OBJ_STATICMETHOD)) return ((ObjWrapper *)AS_OBJ(attr))->func;
            return attr;
        }
        return class_bind(ts, attr, s->self, s->self_type);
    }
    return class_generic_getattr(ts, self, name);
}

static Value super_repr(TState *ts, Value self) {
    ObjSuper *s = (ObjSuper *)AS_OBJ(self);
    return OBJ_VAL(str_printf(ts, "<super: <class '%s'>, <%s object>>", s->type->name->data,
                              s->self_type->name->data));
}

static Value super_thisclass_get(TState *ts, Value self) {
    (void)ts;
    return OBJ_VAL(((ObjSuper *)AS_OBJ(self))->type);
}

static Value super_self_get(TState *ts, Value self) {
    (void)ts;
    return ((ObjSuper *)AS_OBJ(self))->self;
}

static Value super_self_class_get(TState *ts, Value self) {
    (void)ts;
    return OBJ_VAL(((ObjSuper *)AS_OBJ(self))->self_type);
}

static const GetSetDef super_getsets[] = {
    {"__thisclass__", super_thisclass_get, NULL},
    {"__self__", super_self_get, NULL},
    {"__self_class__", super_self_class_get, NULL},
    {NULL, NULL, NULL},
};

static void super_trace(GcMarker *m, Obj *self) {
    ObjSuper *s = (ObjSuper *)self;
    gc_mark_obj(m, (Obj *)s->type);
    gc_mark_value(m, s->self);
    gc_mark_obj(m, (Obj *)s->self_type);
}

static Value super_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    (void)type;
    return class_super(ts, args, nargs, kwnames);
}

const TypeSpec super_type_spec = {
    .name = "super",
    .kind = OBJ_OPAQUE,
    .repr = super_repr,
    .getattr = super_getattr,
    .new_ = super_new,
    .trace = super_trace,
    .getsets = super_getsets,
};

/* ---- property, staticmethod, classmethod ----------------------------- */

static void property_trace(GcMarker *m, Obj *self) {
    ObjProperty *p = (ObjProperty *)self;
    gc_mark_value(m, p->fget);
    gc_mark_value(m, p->fset);
    gc_mark_value(m, p->fdel);
    gc_mark_value(m, p->doc);
}

static Value property_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"fget", "fset", "fdel", "doc"};
    Value v[4];
    if (!args_bind(ts, "property", args, nargs, kwnames, names, 4, 0, 4, v)) return ERROR_VAL;
    ObjProperty *p = (ObjProperty *)gc_alloc(ts, sizeof(ObjProperty), OBJ_PROPERTY, type);
    if (!p) return ERROR_VAL;
    p->fget = IS_EMPTY(v[0]) ? NONE_VAL : v[0];
    p->fset = IS_EMPTY(v[1]) ? NONE_VAL : v[1];
    p->fdel = IS_EMPTY(v[2]) ? NONE_VAL : v[2];
    p->doc = IS_EMPTY(v[3]) ? NONE_VAL : v[3];
    p->getset = NULL;
    return OBJ_VAL(p);
}

/* property.setter / deleter / getter: a copy with one function replaced. */
static Value property_with(TState *ts, Value *args, int nargs, ObjTuple *kwnames, int which,
                           const char *fname) {
    if (!args_check(ts, fname, nargs, kwnames, 2, 2)) return ERROR_VAL;
    if (!IS_KIND(args[0], OBJ_PROPERTY)) return err_type_not(ts, args[0], "a property");
    ObjProperty *old = (ObjProperty *)AS_OBJ(args[0]);
    ObjProperty *p = (ObjProperty *)gc_alloc(ts, sizeof(ObjProperty), OBJ_PROPERTY, old->obj.type);
    if (!p) return ERROR_VAL;
    p->fget = which == 0 ? args[1] : old->fget;
    p->fset = which == 1 ? args[1] : old->fset;
    p->fdel = which == 2 ? args[1] : old->fdel;
    p->doc = old->doc;
    p->getset = NULL;
    return OBJ_VAL(p);
}

static Value property_getter(TState *ts, Value *a, int n, ObjTuple *k) { return property_with(ts, a, n, k, 0, "getter"); }
static Value property_setter(TState *ts, Value *a, int n, ObjTuple *k) { return property_with(ts, a, n, k, 1, "setter"); }
static Value property_deleter(TState *ts, Value *a, int n, ObjTuple *k) { return property_with(ts, a, n, k, 2, "deleter"); }

static const NativeDef property_methods[] = {
    {"getter", property_getter},
    {"setter", property_setter},
    {"deleter", property_deleter},
    {NULL, NULL},
};

const TypeSpec property_type_spec = {
    .name = "property",
    .kind = OBJ_PROPERTY,
    .new_ = property_new,
    .trace = property_trace,
    .methods = property_methods,
};

static void wrapper_trace(GcMarker *m, Obj *self) { gc_mark_value(m, ((ObjWrapper *)self)->func); }

static Value wrapper_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, type->name->data, nargs, kwnames, 1, 1)) return ERROR_VAL;
    ObjKind kind = type == ts->interp->types.staticmethod ? OBJ_STATICMETHOD : OBJ_CLASSMETHOD;
    ObjWrapper *w = (ObjWrapper *)gc_alloc(ts, sizeof(ObjWrapper), kind, type);
    if (!w) return ERROR_VAL;
    w->func = args[0];
    return OBJ_VAL(w);
}

static Value wrapper_func_get(TState *ts, Value self) {
    (void)ts;
    return ((ObjWrapper *)AS_OBJ(self))->func;
}

static const GetSetDef wrapper_getsets[] = {
    {"__func__", wrapper_func_get, NULL},
    {NULL, NULL, NULL},
};

const TypeSpec staticmethod_type_spec = {
    .name = "staticmethod",
    .kind = OBJ_STATICMETHOD,
    .new_ = wrapper_new,
    .trace = wrapper_trace,
    .getsets = wrapper_getsets,
};

const TypeSpec classmethod_type_spec = {
    .name = "classmethod",
    .kind = OBJ_CLASSMETHOD,
    .new_ = wrapper_new,
    .trace = wrapper_trace,
    .getsets = wrapper_getsets,
};

/* ---- the old sequence protocol --------------------------------------- */

static Value seq_iter_step(TState *ts, ObjIterator *it) {
    if (IS_EMPTY(it->source)) return EMPTY_VAL;
    Value v = ops_getitem(ts, it->source, INT_VAL(it->index));
    if (IS_ERROR(v)) {
        if (err_matches(ts, ts->interp->exc.IndexError) || err_matches(ts, ts->interp->exc.StopIteration)) {
            err_clear(ts);
            it->source = EMPTY_VAL;
            return EMPTY_VAL;
        }
        return v;
    }
    it->index++;
    return v;
}

Value seq_iter_new(TState *ts, Value seq) {
    ObjIterator *it = iterator_new(ts, "iterator", seq_iter_step, seq, NONE_VAL);
    return it ? OBJ_VAL(it) : ERROR_VAL;
}
