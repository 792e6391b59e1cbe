#include "runtime/class.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/args.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/function.h"
#include "runtime/generic.h"
#include "runtime/int.h"
#include "runtime/iterator.h"
#include "runtime/list.h"
#include "runtime/module.h"
#include "runtime/ops.h"
#include "runtime/shape.h"
#include "runtime/str.h"
#include "runtime/strbuf.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "vm/code.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/vm.h"

/* obj_dict_slot past its inline test: the kinds here are OBJ_KINDS_WITH_DICT. */
ObjDict **obj_dict_slot_of(Obj *o) {
    if (o->flags & OBJF_DICT_PREFIX) return (ObjDict **)((char *)o - GC_DICT_PREFIX);
    switch (o->kind) {
    /* Built-in types of this layout (object, super) have no dict; user
     * classes have one unless their __slots__ say otherwise. */
    case OBJ_INSTANCE:
        return (o->type->flags & (TYPEF_HEAPTYPE | TYPEF_NO_DICT)) == TYPEF_HEAPTYPE ? &((ObjInstance *)o)->dict : NULL;
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

/* The descriptor protocol. The built-in descriptors (functions, native
 * methods, property, staticmethod, classmethod) answer from their kind; an
 * instance of a user class is a descriptor when its class defines __get__,
 * and a data descriptor (one that wins over the instance dict) when it
 * defines __set__ or __delete__. */
static bool is_user_object(Value v) { return IS_OBJ(v) && (OBJ_TYPE(v)->flags & TYPEF_HEAPTYPE); }

static bool is_data_descriptor(TState *ts, Value attr) {
    if (IS_KIND(attr, OBJ_PROPERTY) || IS_KIND(attr, OBJ_MEMBER)) return true;
    if (!is_user_object(attr)) return false;
    ObjType *t = OBJ_TYPE(attr);
    return !IS_EMPTY(type_lookup(t, ts->interp->names.set)) || !IS_EMPTY(type_lookup(t, ts->interp->names.delete_));
}

/* "property 'x' of 'C' object has no setter": the name is the one
 * __set_name__ gave it, as CPython's. */
static Value property_missing(TState *ts, ObjProperty *p, Value obj, const char *what) {
    const char *owner = class_qualname(val_type(ts, obj))->data;
    if (p->name)
        return err_format(ts, ts->interp->exc.AttributeError, "property '%s' of '%s' object has no %s",
                          p->name->data, owner, what);
    return err_format(ts, ts->interp->exc.AttributeError, "property of '%s' object has no %s", owner, what);
}

static Value property_get(TState *ts, ObjProperty *p, Value obj) {
    if (p->getset) return p->getset->get(ts, obj);
    if (IS_NONE(p->fget)) return property_missing(ts, p, obj, "getter");
    return vm_call(ts, p->fget, &obj, 1, NULL);
}

/* Writes (or, value EMPTY_VAL, deletes) through a property. */
static int property_store(TState *ts, ObjProperty *p, Value obj, Value value) {
    if (p->getset) {
        if (p->getset->set) return p->getset->set(ts, obj, value);
        err_format(ts, ts->interp->exc.AttributeError, "attribute '%s' of '%s' objects is not writable",
                   p->getset->name, val_type(ts, obj)->name->data);
        return -1;
    }
    Value fn = IS_EMPTY(value) ? p->fdel : p->fset;
    if (IS_NONE(fn)) {
        property_missing(ts, p, obj, IS_EMPTY(value) ? "deleter" : "setter");
        return -1;
    }
    Value args[2] = {obj, value};
    Value r = vm_call(ts, fn, args, IS_EMPTY(value) ? 1 : 2, NULL);
    return IS_ERROR(r) ? -1 : 0;
}

/* Reads (store false) or writes a __slots__ value; writing EMPTY_VAL
 * deletes. */
static Value member_access(TState *ts, ObjMember *m, Value obj, Value value, bool store) {
    Interp *interp = ts->interp;
    if (!IS_INSTANCE(obj) || !type_is_subtype(OBJ_TYPE(obj), m->owner))
        return err_format(ts, interp->exc.TypeError, "descriptor '%s' for '%s' objects doesn't apply to a '%s' object",
                          m->name->data, m->owner->name->data, ops_type_name(ts, obj));
    Value *slot = &instance_slots(AS_INSTANCE(obj))[m->index];
    Value old = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (IS_EMPTY(old) && !store)
        return err_format(ts, interp->exc.AttributeError, "'%s' object has no attribute '%s'",
                          ops_type_name(ts, obj), m->name->data);
    if (IS_EMPTY(old) && IS_EMPTY(value)) return err_format(ts, interp->exc.AttributeError, "%s", m->name->data);
    if (!store) return old;
    __atomic_store_n(slot, value, __ATOMIC_RELEASE);
    return NONE_VAL;
}

Value class_bind(TState *ts, Value attr, Value obj, ObjType *type) {
    if (!IS_OBJ(attr)) return attr;
    if (OBJ_TYPE(attr)->flags & TYPEF_HEAPTYPE) {
        Value get = type_lookup(OBJ_TYPE(attr), ts->interp->names.get);
        if (IS_FUNCTION(get)) {
            Value args[2] = {IS_EMPTY(obj) ? NONE_VAL : obj, OBJ_VAL(type)};
            return vm_call_method(ts, get, attr, args, 2, NULL);
        }
    }
    switch (OBJ_KIND(attr)) {
    case OBJ_FUNCTION:
        return IS_EMPTY(obj) ? attr : OBJ_VAL(bound_method_new(ts, obj, attr));
    case OBJ_NATIVE:
        /* A built-in type's method: bind only when found on that type. */
        if (AS_NATIVE(attr)->owner && !IS_EMPTY(obj)) return OBJ_VAL(bound_method_new(ts, obj, attr));
        return attr;
    case OBJ_PROPERTY:
        return IS_EMPTY(obj) ? attr : property_get(ts, (ObjProperty *)AS_OBJ(attr), obj);
    case OBJ_MEMBER:
        return IS_EMPTY(obj) ? attr : member_access(ts, (ObjMember *)AS_OBJ(attr), obj, EMPTY_VAL, false);
    case OBJ_STATICMETHOD:
        return ((ObjWrapper *)AS_OBJ(attr))->func;
    case OBJ_CLASSMETHOD:
        return OBJ_VAL(bound_method_new(ts, OBJ_VAL(type), ((ObjWrapper *)AS_OBJ(attr))->func));
    default:
        return attr;
    }
}

/* descr.__get__(obj, type=None), for the built-in descriptors. */
Value class_descr_get_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__get__", nargs, kwnames, 2, 3)) return ERROR_VAL;
    Value obj = args[1];
    if (IS_NONE(obj) && (nargs < 3 || IS_NONE(args[2])))
        return err_format(ts, ts->interp->exc.TypeError, "__get__(None, None) is invalid");
    ObjType *type = nargs == 3 && IS_TYPE(args[2]) ? AS_TYPE(args[2]) : val_type(ts, obj);
    return class_bind(ts, args[0], IS_NONE(obj) ? EMPTY_VAL : obj, type);
}

/* obj.__dict__, made on first use: EMPTY_VAL if obj's kind has none. */
static Value instance_dict(TState *ts, Value obj) {
    ObjDict **slot = obj_dict_slot(AS_OBJ(obj));
    if (!slot) return EMPTY_VAL;
    ObjDict *d = IS_INSTANCE(obj) ? shape_dict(ts, AS_INSTANCE(obj)) : obj_dict_ensure(ts, slot);
    return d ? OBJ_VAL(d) : ERROR_VAL;
}

Value class_generic_getattr(TState *ts, Value obj, ObjStr *name) {
    ObjType *type = val_type(ts, obj);
    Value attr = type_lookup(type, name);
    if (!IS_EMPTY(attr) && is_data_descriptor(ts, attr)) return class_bind(ts, attr, obj, type);
    if (IS_OBJ(obj)) {
        ObjDict **slot = obj_dict_slot(AS_OBJ(obj));
        if (slot && IS_INSTANCE(obj)) {
            Value v = shape_get(AS_INSTANCE(obj), name);
            if (!IS_EMPTY(v)) return v;
        } else if (slot) {
            ObjDict *d = obj_dict_load(slot);
            Value v = d ? dict_get_str(d, name) : EMPTY_VAL;
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

static ObjType *solid_base(ObjType *t);
static bool base_has_dict(ObjType *b);

/* The __slots__ names a class adds, by index: its own member descriptors. */
static bool same_slot_names(ObjType *a, ObjType *b) {
    size_t pos = 0;
    Value k, v;
    while (dict_next(a->dict, &pos, &k, &v)) {
        if (!IS_KIND(v, OBJ_MEMBER) || ((ObjMember *)AS_OBJ(v))->owner != a) continue;
        ObjMember *m = (ObjMember *)AS_OBJ(v);
        Value other = dict_get_str(b->dict, m->name);
        if (!IS_KIND(other, OBJ_MEMBER) || ((ObjMember *)AS_OBJ(other))->owner != b ||
            ((ObjMember *)AS_OBJ(other))->index != m->index)
            return false;
    }
    return true;
}

/* Can an instance of `from` become one of `to`? CPython's rule: the same
 * layout (the same built-in base, __slots__ and __dict__). */
static bool same_layout(ObjType *from, ObjType *to) {
    if (from->instance_kind != to->instance_kind || from->nslots != to->nslots ||
        base_has_dict(from) != base_has_dict(to))
        return false;
    ObjType *a = solid_base(from), *b = solid_base(to);
    return a == b || (a->base == b->base && (a->flags & b->flags & TYPEF_HEAPTYPE) && same_slot_names(a, b) &&
                      same_slot_names(b, a));
}

/* obj.__class__ = value, for instances of user classes of the same layout
 * (CPython's object.__class__ setter). */
static int set_class(TState *ts, Value obj, Value value) {
    Interp *interp = ts->interp;
    if (IS_EMPTY(value)) {
        err_format(ts, interp->exc.TypeError, "can't delete __class__ attribute");
        return -1;
    }
    if (!IS_TYPE(value)) {
        err_format(ts, interp->exc.TypeError, "__class__ must be set to a class, not '%s' object",
                   ops_type_name(ts, value));
        return -1;
    }
    ObjType *from = val_type(ts, obj), *to = AS_TYPE(value);
    if (!IS_OBJ(obj) || !(from->flags & TYPEF_HEAPTYPE) || !(to->flags & TYPEF_HEAPTYPE)) {
        err_format(ts, interp->exc.TypeError,
                   "__class__ assignment only supported for mutable types or ModuleType subclasses");
        return -1;
    }
    if (!same_layout(from, to)) {
        err_format(ts, interp->exc.TypeError, "__class__ assignment: '%s' object layout differs from '%s'",
                   to->name->data, from->name->data);
        return -1;
    }
    return shape_set_class(ts, AS_OBJ(obj), to) ? 0 : -1;
}

int class_generic_setattr(TState *ts, Value obj, ObjStr *name, Value value) {
    ObjType *type = val_type(ts, obj);
    Value attr = type_lookup(type, name);
    if (IS_KIND(attr, OBJ_PROPERTY) && !is_user_object(attr))
        return property_store(ts, (ObjProperty *)AS_OBJ(attr), obj, value);
    if (IS_KIND(attr, OBJ_MEMBER))
        return IS_ERROR(member_access(ts, (ObjMember *)AS_OBJ(attr), obj, value, true)) ? -1 : 0;
    if (is_user_object(attr) && is_data_descriptor(ts, attr)) {
        ObjStr *dunder = IS_EMPTY(value) ? ts->interp->names.delete_ : ts->interp->names.set;
        Value fn = type_lookup(OBJ_TYPE(attr), dunder);
        if (IS_EMPTY(fn)) {
            err_format(ts, ts->interp->exc.AttributeError, "%s", dunder->data);
            return -1;
        }
        Value args[2] = {obj, value};
        Value r = vm_call_method(ts, fn, attr, args, IS_EMPTY(value) ? 1 : 2, NULL);
        return IS_ERROR(r) ? -1 : 0;
    }
    if (name == ts->interp->names.class_ && IS_EMPTY(attr)) return set_class(ts, obj, value);
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
    if (name == ts->interp->names.dict && IS_INSTANCE(obj)) {
        /* Deleting it leaves the instance a fresh, empty one. */
        if (IS_EMPTY(value)) {
            ObjDict *fresh = dict_new(ts);
            if (!fresh) return -1;
            value = OBJ_VAL(fresh);
        }
        if (!IS_DICT(value)) {
            err_format(ts, ts->interp->exc.TypeError, "__dict__ must be set to a dictionary, not a '%s'",
                       ops_type_name(ts, value));
            return -1;
        }
        shape_set_dict(ts, AS_INSTANCE(obj), AS_DICT(value));
        return 0;
    }
    int r;
    if (IS_INSTANCE(obj)) {
        r = shape_set(ts, AS_INSTANCE(obj), name, value);
    } else {
        ObjDict *d = obj_dict_ensure(ts, slot);
        if (!d) return -1;
        r = IS_EMPTY(value) ? dict_delete(ts, d, OBJ_VAL(name)) : dict_set_str(ts, d, name, value) < 0 ? -1 : 1;
    }
    if (r == 0)
        err_format(ts, ts->interp->exc.AttributeError, "'%s' object has no attribute '%s'", type->name->data,
                   name->data);
    return r > 0 ? 0 : -1;
}

/* ---- object ---------------------------------------------------------- */

ObjStr *class_qualname(const ObjType *t) { return t->qualname ? t->qualname : t->name; }

static Value object_repr(TState *ts, Value self) {
    ObjType *type = val_type(ts, self);
    Value module = type->module;
    if (IS_STR(module) && strcmp(AS_STR(module)->data, "builtins") != 0)
        return OBJ_VAL(str_printf(ts, "<%s.%s object at %p>", AS_STR(module)->data,
                                  class_qualname(type)->data, (void *)AS_OBJ(self)));
    return OBJ_VAL(str_printf(ts, "<%s object at %p>", class_qualname(type)->data, (void *)AS_OBJ(self)));
}


/* CPython's message: the sorted names of __abstractmethods__. */
static Value abstract_error(TState *ts, ObjType *type) {
    Value set = type_lookup(type, ts->interp->names.abstractmethods);
    if (IS_EMPTY(set))
        return err_format(ts, ts->interp->exc.TypeError, "Can't instantiate abstract class %s", ops_tp_name(ts, type));
    ObjList *names = ops_to_list(ts, set);
    if (!names) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(names));
    if (list_sort(ts, names, NONE_VAL, false) == 0) {
        StrBuf sb;
        sb_init(&sb);
        bool ok = true;
        for (size_t i = 0; ok && i < list_len(names); i++) {
            Value v = list_get(names, i);
            ok = sb_appendf(&sb, "%s%s", i ? ", " : "", IS_STR(v) ? AS_STR(v)->data : "?");
        }
        if (ok)
            err_format(ts, ts->interp->exc.TypeError, "Can't instantiate abstract class %s with abstract method%s %s",
                       type->name->data, list_len(names) > 1 ? "s" : "", sb.data);
        else
            err_no_memory(ts);
        sb_free(&sb);
    }
    vm_pop(ts);
    return ERROR_VAL;
}

/* object.__new__ for a class whose __init__ is `init` (type_lookup's). */
static Value object_make(TState *ts, ObjType *type, Value init, int nargs, ObjTuple *kwnames) {
    if (type->instance_kind != OBJ_INSTANCE)
        return err_format(ts, ts->interp->exc.TypeError, "cannot create '%s' instances",
                          type->name->data);
    /* object() takes no arguments unless a subclass has an __init__ that
     * takes them (checked when __init__ is called); a built-in __init__
     * here is object's own. */
    if ((nargs > 0 || kwnames) && (IS_EMPTY(init) || IS_NATIVE(init)))
        return err_format(ts, ts->interp->exc.TypeError, "%s() takes no arguments", ops_tp_name(ts, type));
    if (type->flags & TYPEF_ABSTRACT) return abstract_error(ts, type);
    ObjInstance *inst = class_instance_alloc(ts, type);
    return inst ? OBJ_VAL(inst) : ERROR_VAL;
}

static Value object_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    (void)args;
    return object_make(ts, type, type_lookup(type, ts->interp->names.init), nargs, kwnames);
}

ObjInstance *class_instance_alloc(TState *ts, ObjType *type) {
    uint32_t cap = shape_alloc_cap(type), n = type->nslots + cap;
    ObjInstance *inst = (ObjInstance *)gc_alloc(ts, sizeof(ObjInstance) + n * sizeof(Value), OBJ_INSTANCE, type);
    if (!inst) return NULL;
    inst->dict = NULL;
    inst->obj.aux = cap;
    for (uint32_t i = 0; i < n; i++) instance_slots(inst)[i] = EMPTY_VAL;
    return inst;
}

static Value object_getattr(TState *ts, Value self, ObjStr *name) {
    return class_generic_getattr(ts, self, name);
}

static void instance_trace(GcMarker *m, Obj *self) {
    gc_mark_obj(m, (Obj *)((ObjInstance *)self)->dict);
    gc_mark_values(m, instance_slots((ObjInstance *)self), self->type->nslots + shape_cap((ObjInstance *)self));
}

static Value object_init_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (nargs < 1) return err_format(ts, ts->interp->exc.TypeError, "descriptor '__init__' of 'object' object needs an argument");
    ObjType *type = val_type(ts, args[0]);
    bool overridden = type_lookup(type, ts->interp->names.init) != type_lookup(ts->interp->types.object, ts->interp->names.init);
    if ((nargs > 1 || kwnames) && !overridden)
        return err_format(ts, ts->interp->exc.TypeError, "%s() takes no arguments", ops_tp_name(ts, type));
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
    return ops_identity_richcmp(ts, args[0], args[1], CMP_EQ);
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
    return int_from_i64(ts, ops_identity_hash_of(args[0]));
}

/* The __setattr__ (VALUE given) and __delattr__ (EMPTY_VAL) methods of
 * object and of type: the name checked, then SET. */
static Value setattr_method(TState *ts, Value self, Value name, Value value,
                            int (*set)(TState *, Value, ObjStr *, Value)) {
    if (!IS_STR(name))
        return err_format(ts, ts->interp->exc.TypeError, "attribute name must be string, not '%s'",
                          ops_type_name(ts, name));
    return set(ts, self, str_intern_obj(ts, AS_STR(name)), value) < 0 ? ERROR_VAL : NONE_VAL;
}

static Value object_setattr_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__setattr__", nargs, kwnames, 3, 3)) return ERROR_VAL;
    return setattr_method(ts, args[0], args[1], args[2], class_generic_setattr);
}

static Value object_delattr_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__delattr__", nargs, kwnames, 2, 2)) return ERROR_VAL;
    return setattr_method(ts, args[0], args[1], EMPTY_VAL, class_generic_setattr);
}

static Value object_getattribute_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__getattribute__", nargs, kwnames, 2, 2)) return ERROR_VAL;
    if (!IS_STR(args[1]))
        return err_format(ts, ts->interp->exc.TypeError, "attribute name must be string, not '%s'",
                          ops_type_name(ts, args[1]));
    ObjStr *name = str_intern_obj(ts, AS_STR(args[1]));
    Value v = class_generic_getattr(ts, args[0], name);
    if (IS_EMPTY(v)) {
        err_format(ts, ts->interp->exc.AttributeError, "'%s' object has no attribute '%s'", ops_type_name(ts, args[0]),
                   name->data);
        return err_set_missing_name(ts, name, args[0]);
    }
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

/* object.__reduce_ex__(protocol), object.__reduce__() and
 * object.__getstate__(): written in mini, in copyreg (CPython's are C, but
 * call copyreg for the same helpers). */
static Value object_reduce_ex_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__reduce_ex__", nargs - 1, kwnames, 1, 1)) return ERROR_VAL;
    if (!IS_INT(args[1]))
        return err_format(ts, ts->interp->exc.TypeError, "'%s' object cannot be interpreted as an integer",
                          ops_type_name(ts, args[1]));
    return module_call(ts, "copyreg", "_object_reduce_ex", args, 2);
}

static Value object_reduce_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__reduce__", nargs - 1, kwnames, 0, 0)) return ERROR_VAL;
    Value call[3] = {args[0], INT_VAL(0), FALSE_VAL};
    return module_call(ts, "copyreg", "_object_reduce_ex", call, 3);
}

static Value object_getstate_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__getstate__", nargs - 1, kwnames, 0, 0)) return ERROR_VAL;
    return module_call(ts, "copyreg", "_object_getstate", args, 1);
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
    {"__reduce_ex__", object_reduce_ex_method},
    {"__reduce__", object_reduce_method},
    {"__getstate__", object_getstate_method},
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
    .hash = ops_identity_hash,
    .richcmp = ops_identity_richcmp,
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
        return OBJ_VAL(str_printf(ts, "<class '%s.%s'>", AS_STR(t->module)->data, class_qualname(t)->data));
    return OBJ_VAL(str_printf(ts, "<class '%s'>", class_qualname(t)->data));
}

/* A class's construct_memo: the interpreter's type epoch in the low 32
 * bits; CONSTRUCT_MEMO set when, under that epoch, its __new__ is a
 * built-in one (the new_ slot) and its __init__ is not a mini function,
 * or is one at the MRO position in bits 32-47 (CONSTRUCT_INIT). Any class
 * change bumps the epoch, so the memo then misses. */
#define CONSTRUCT_MEMO (1ull << 48)
#define CONSTRUCT_INIT (1ull << 49)

Value class_construct(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames, Value *init) {
    Interp *interp = ts->interp;
    *init = EMPTY_VAL;
    if (type == interp->types.type && nargs == 1 && !kwnames) return OBJ_VAL(val_type(ts, args[0]));
    uint32_t epoch = atomic_load_explicit(&interp->type_epoch, memory_order_acquire);
    uint64_t memo = atomic_load_explicit(&type->construct_memo, memory_order_relaxed);
    Value user_new = EMPTY_VAL, fn = EMPTY_VAL;
    if ((memo & CONSTRUCT_MEMO) && (uint32_t)memo == epoch) {
        if (memo & CONSTRUCT_INIT) fn = type_at_position(type, interp->names.init, (uint32_t)(memo >> 32) & 0xffff);
        if ((memo & CONSTRUCT_INIT) && IS_EMPTY(fn)) memo = 0; /* the entry moved: look again */
    } else {
        memo = 0;
    }
    if (!memo) {
        /* A __new__ written in mini runs; the built-in ones (object.__new__
         * and friends) are the type's new_ slot, called directly. */
        user_new = (type->flags & TYPEF_HEAPTYPE) ? type_lookup(type, interp->names.new_) : EMPTY_VAL;
        if (IS_KIND(user_new, OBJ_STATICMETHOD)) user_new = ((ObjWrapper *)AS_OBJ(user_new))->func;
        fn = type_lookup(type, interp->names.init);
        uint32_t pos = 0;
        if (!IS_FUNCTION(user_new) && (IS_FUNCTION(fn) ? type_lookup_position(type, interp->names.init, &pos)
                                                      : IS_EMPTY(fn) || IS_NATIVE(fn)))
            atomic_store_explicit(&type->construct_memo,
                                  epoch | CONSTRUCT_MEMO |
                                      (IS_FUNCTION(fn) ? CONSTRUCT_INIT | (uint64_t)pos << 32 : 0),
                                  memory_order_relaxed);
    }
    Value obj;
    if (IS_FUNCTION(user_new)) {
        obj = vm_call_method(ts, user_new, OBJ_VAL(type), args, nargs, kwnames);
    } else if (type->new_ == object_new) {
        obj = object_make(ts, type, fn, nargs, kwnames);
    } else if (type->new_) {
        obj = type->new_(ts, type, args, nargs, kwnames);
    } else {
        return err_format(ts, interp->exc.TypeError, "cannot create '%s' instances", ops_tp_name(ts, type));
    }
    if (IS_ERROR(obj) || !type_is_subtype(val_type(ts, obj), type)) return obj;
    /* As CPython, the __init__ of the object's class (a mini __new__ may
     * return a subclass's instance, or have changed the class). Built-in
     * types' new_ consumed the arguments; only a mini __init__ runs. */
    if (IS_FUNCTION(user_new) || val_type(ts, obj) != type) fn = type_lookup(val_type(ts, obj), interp->names.init);
    if (IS_FUNCTION(fn)) {
        *init = fn;
    } else if (!IS_EMPTY(fn) && !IS_NATIVE(fn)) {
        /* Any other __init__ (a callable object, a staticmethod) is bound
         * as an attribute would be and called here. */
        vm_push(ts, obj);
        Value bound = class_bind(ts, fn, obj, val_type(ts, obj));
        Value r = bound;
        if (!IS_ERROR(bound)) {
            vm_push(ts, bound);
            r = class_init_returned(ts, vm_call(ts, bound, args, nargs, kwnames));
            vm_pop(ts);
        }
        vm_pop(ts);
        if (IS_ERROR(r)) return r;
    }
    return obj;
}

Value class_init_returned(TState *ts, Value r) {
    if (IS_ERROR(r) || IS_NONE(r)) return r;
    return err_format(ts, ts->interp->exc.TypeError, "__init__() should return None, not '%s'", ops_type_name(ts, r));
}

/* Calling a class: __new__, then __init__ when the result is an instance
 * of the class. (The VM runs that __init__ in its own loop instead.) */
static Value type_call(TState *ts, Value callee, Value *args, int nargs, ObjTuple *kwnames) {
    Value init;
    Value obj = class_construct(ts, AS_TYPE(callee), args, nargs, kwnames, &init);
    if (IS_ERROR(obj) || IS_EMPTY(init)) return obj;
    vm_push(ts, obj);
    Value r = class_init_returned(ts, vm_call_method(ts, init, obj, args, nargs, kwnames));
    vm_pop(ts);
    return IS_ERROR(r) ? r : obj;
}

static Value type_getattr(TState *ts, Value self, ObjStr *name) {
    ObjType *type = AS_TYPE(self);
    Interp *interp = ts->interp;
    /* Attributes of the metatype that are data descriptors win. */
    Value meta_attr = type_lookup(val_type(ts, self), name);
    if (!IS_EMPTY(meta_attr) && is_data_descriptor(ts, meta_attr))
        return class_bind(ts, meta_attr, self, val_type(ts, self));
    /* The metatype's own data descriptors, as type.__name__ in Python:
     * they win over what the class (or its instances) define. */
    if (name == interp->names.name) return OBJ_VAL(type->name);
    if (name == interp->names.class_) return OBJ_VAL(val_type(ts, self));
    if (name == interp->names.qualname) return OBJ_VAL(class_qualname(type));
    Value attr = type_lookup(type, name);
    if (!IS_EMPTY(attr)) return class_bind(ts, attr, EMPTY_VAL, type);
    if (name == interp->names.module) return IS_NONE(type->module) ? OBJ_VAL(str_intern_cstr(ts, "builtins")) : type->module;
    if (name == interp->names.dict) return OBJ_VAL(type->dict);
    if (name == interp->names.doc) return NONE_VAL;
    if (name == interp->names.mro) return OBJ_VAL(type->mro);
    if (strcmp(name->data, "__base__") == 0) return type->base ? OBJ_VAL(type->base) : NONE_VAL;
    if (name == interp->names.bases) {
        if (type->bases) return OBJ_VAL(type->bases);
        if (!type->base) return OBJ_VAL(tuple_new(ts, 0));
        Value b = OBJ_VAL(type->base);
        return OBJ_VAL(tuple_from(ts, &b, 1));
    }
    if (!IS_EMPTY(meta_attr)) return class_bind(ts, meta_attr, self, val_type(ts, self));
    return EMPTY_VAL;
}

static int by_mro_length(const void *a, const void *b) {
    size_t la = AS_TYPE(*(const Value *)a)->mro->len, lb = AS_TYPE(*(const Value *)b)->mro->len;
    return (la > lb) - (la < lb);
}

/* A dunder of `type` changed: every subclass's slots are derived again,
 * bases before their subclasses (a slot may be a base's: a base's MRO is
 * the shorter). Subclasses are found by a walk of the heap, as
 * __subclasses__ finds them; only classes that have been subclassed pay
 * for it. 0, or -1 after raising MemoryError. */
static int install_subclass_slots(TState *ts, ObjType *type) {
    size_t n = 0;
    Value *objs = gc_all_objects(ts, &n);
    if (!objs && n) {
        err_no_memory(ts);
        return -1;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!IS_KIND(objs[i], OBJ_TYPE)) continue;
        ObjType *t = AS_TYPE(objs[i]);
        if (t != type && t->mro && (t->flags & TYPEF_HEAPTYPE) && type_is_subtype(t, type)) objs[m++] = objs[i];
    }
    qsort(objs, m, sizeof *objs, by_mro_length);
    /* Nothing here runs mini code or collects: the classes need no root. */
    for (size_t i = 0; i < m; i++) class_install_slots(ts, AS_TYPE(objs[i]));
    free(objs);
    return 0;
}

static int type_setattr(TState *ts, Value self, ObjStr *name, Value value) {
    ObjType *type = AS_TYPE(self);
    if (!(type->flags & TYPEF_HEAPTYPE)) {
        err_format(ts, ts->interp->exc.TypeError,
                   "cannot set '%s' attribute of immutable type '%s'", name->data, type->name->data);
        return -1;
    }
    if (name == ts->interp->names.qualname) {
        if (IS_EMPTY(value)) {
            err_format(ts, ts->interp->exc.TypeError, "cannot delete '__qualname__' attribute of immutable type '%s'",
                       type->name->data);
            return -1;
        }
        if (!IS_STR(value)) {
            err_format(ts, ts->interp->exc.TypeError, "can only assign string to %s.__qualname__, not '%s'",
                       type->name->data, ops_type_name(ts, value));
            return -1;
        }
        type->qualname = AS_STR(value);
        return 0;
    }
    int r;
    if (IS_EMPTY(value)) {
        int d = dict_delete(ts, type->dict, OBJ_VAL(name));
        if (d == 0)
            err_format(ts, ts->interp->exc.AttributeError, "type object '%s' has no attribute '%s'",
                       type->name->data, name->data);
        r = d > 0 ? 0 : -1;
    } else {
        /* __name__ and __module__ live in the type; __qualname__ in its
         * dict, but a str (as CPython's). */
        bool named = name == ts->interp->names.name || name == ts->interp->names.qualname;
        if (named && !IS_STR(value)) {
            err_format(ts, ts->interp->exc.TypeError, "can only assign string to %s.%s, not '%s'",
                       type->name->data, name->data, ops_type_name(ts, value));
            return -1;
        }
        if (name == ts->interp->names.module) type->module = value;
        if (name == ts->interp->names.name) type->name = AS_STR(value);
        r = name == ts->interp->names.name ? 0 : dict_set_str(ts, type->dict, name, value);
    }
    atomic_fetch_add(&ts->interp->type_epoch, 1);
    if (r == 0 && name == ts->interp->names.abstractmethods) {
        int abstract = IS_EMPTY(value) ? 0 : ops_truth(ts, value);
        if (abstract < 0) return -1;
        type->flags = abstract ? type->flags | TYPEF_ABSTRACT : type->flags & ~TYPEF_ABSTRACT;
    }
    if (r == 0 && name->data[0] == '_' && name->data[1] == '_') {
        class_install_slots(ts, type);
        if (atomic_load_explicit(&type->subclassed, memory_order_relaxed)) r = install_subclass_slots(ts, type);
    }
    return r;
}

static Value class_create(TState *ts, ObjType *meta, ObjStr *name, ObjTuple *bases, ObjDict *ns,
                          Value *kwargs, ObjTuple *kwnames);

static Value type_new(TState *ts, ObjType *meta, Value *args, int nargs, ObjTuple *kwnames) {
    if (nargs == 1 && !kwnames) return OBJ_VAL(val_type(ts, args[0]));
    if (nargs != 3)
        return err_format(ts, ts->interp->exc.TypeError, "type() takes 1 or 3 arguments");
    static const char *const wanted[] = {"str", "tuple", "dict"};
    bool right[] = {IS_STR(args[0]), IS_TUPLE(args[1]), IS_DICT(args[2])};
    for (int k = 0; k < 3; k++)
        if (!right[k])
            return err_format(ts, ts->interp->exc.TypeError, "type.__new__() argument %d must be %s, not %s", k + 1,
                              wanted[k], ops_type_name(ts, args[k]));
    ObjDict *ns = dict_copy(ts, AS_DICT(args[2]));
    if (!ns) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(ns));
    /* As CPython: __module__ is the calling code's module. */
    Value globals = vm_globals(ts);
    if (IS_EMPTY(dict_get_str(ns, ts->interp->names.module)) && IS_DICT(globals)) {
        Value module_name = dict_get_str(AS_DICT(globals), ts->interp->names.name);
        if (!IS_EMPTY(module_name) && dict_set_str(ts, ns, ts->interp->names.module, module_name) < 0) {
            vm_pop(ts);
            return ERROR_VAL;
        }
    }
    Value r = class_create(ts, meta, str_intern_obj(ts, AS_STR(args[0])), AS_TUPLE(args[1]), ns, args + 3, kwnames);
    vm_pop(ts);
    return r;
}

/* type.__init__(cls, name, bases, ns, **kwargs): the work is done in
 * __new__; a metaclass's __init__ may call it through super(). */
static Value type_init_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    (void)kwnames;
    if (nargs != 2 && nargs != 4)
        return err_format(ts, ts->interp->exc.TypeError, "type.__init__() takes 1 or 3 arguments");
    return NONE_VAL;
}

/* type.__call__(cls, *args, **kwargs), reached by a metaclass __call__
 * through super(). */
static Value type_call_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (nargs < 1 || !IS_TYPE(args[0]))
        return err_format(ts, ts->interp->exc.TypeError, "descriptor '__call__' of 'type' object needs an argument");
    return type_call(ts, args[0], args + 1, nargs - 1, kwnames);
}

static void type_trace(GcMarker *m, Obj *self) {
    ObjType *t = (ObjType *)self;
    gc_mark_obj(m, (Obj *)t->name);
    gc_mark_obj(m, (Obj *)t->base);
    gc_mark_obj(m, (Obj *)t->dict);
    gc_mark_obj(m, (Obj *)t->mro);
    gc_mark_obj(m, (Obj *)t->bases);
    gc_mark_value(m, t->module);
    gc_mark_obj(m, (Obj *)t->qualname);
    gc_mark_obj(m, (Obj *)atomic_load_explicit(&t->full_name, memory_order_relaxed));
}

static Value type_mro_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "mro", nargs, kwnames, 1, 1)) return ERROR_VAL;
    if (!IS_TYPE(args[0])) return err_type_not(ts, args[0], "a type");
    ObjTuple *mro = AS_TYPE(args[0])->mro;
    return OBJ_VAL(list_from(ts, mro->items, mro->len));
}

static bool type_has_base(ObjType *t, ObjType *base) {
    if (!t->bases) return t->base == base;
    for (size_t i = 0; i < t->bases->len; i++)
        if (AS_OBJ(t->bases->items[i]) == (Obj *)base) return true;
    return false;
}

/* The classes naming this one among their bases, oldest first, found by a
 * walk of the heap: mini keeps no per-class registry for so rare a question,
 * and the heap lists each thread's objects newest first. */
static Value type_subclasses_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__subclasses__", nargs, kwnames, 1, 1)) return ERROR_VAL;
    if (!IS_TYPE(args[0])) return err_type_not(ts, args[0], "a type");
    ObjType *self = AS_TYPE(args[0]);
    size_t n = 0;
    Value *objs = gc_all_objects(ts, &n);
    if (!objs && n) return err_no_memory(ts);
    ObjList *list = list_new(ts, 0);
    bool ok = list != NULL;
    /* Nothing collects before the list holds them: no safepoint here. */
    for (size_t i = n; ok && i-- > 0;)
        if (IS_KIND(objs[i], OBJ_TYPE) && AS_TYPE(objs[i]) != self && type_has_base(AS_TYPE(objs[i]), self))
            ok = list_append(ts, list, objs[i]) == 0;
    free(objs);
    return ok ? OBJ_VAL(list) : ERROR_VAL;
}

static Value type_subclasscheck(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__subclasscheck__", nargs, kwnames, 2, 2)) return ERROR_VAL;
    if (!IS_TYPE(args[0]) || !IS_TYPE(args[1]))
        return err_format(ts, ts->interp->exc.TypeError, "issubclass() arg 1 must be a class");
    return BOOL_VAL(type_is_subtype(AS_TYPE(args[1]), AS_TYPE(args[0])));
}

/* type.__setattr__ and __delattr__: a metaclass's super().__setattr__
 * reaches the class-changing path (caches, slots), not object's. */
static Value type_setattr_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__setattr__", nargs, kwnames, 3, 3)) return ERROR_VAL;
    if (!IS_TYPE(args[0])) return err_type_not(ts, args[0], "a type");
    return setattr_method(ts, args[0], args[1], args[2], type_setattr);
}

static Value type_delattr_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__delattr__", nargs, kwnames, 2, 2)) return ERROR_VAL;
    if (!IS_TYPE(args[0])) return err_type_not(ts, args[0], "a type");
    return setattr_method(ts, args[0], args[1], EMPTY_VAL, type_setattr);
}

/* type.__repr__, for a metaclass's super().__repr__(). */
static Value type_repr_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__repr__", nargs, kwnames, 1, 1)) return ERROR_VAL;
    if (!IS_TYPE(args[0])) return err_type_not(ts, args[0], "a type");
    return type_repr(ts, args[0]);
}

static const NativeDef type_methods[] = {
    {"__repr__", type_repr_method},
    {"__setattr__", type_setattr_method},
    {"__delattr__", type_delattr_method},
    {"mro", type_mro_method},
    {"__subclasses__", type_subclasses_method},
    {"__init__", type_init_method},
    {"__call__", type_call_method},
    {"__subclasscheck__", type_subclasscheck},
    {NULL, NULL},
};

const TypeSpec type_type_spec = {
    .classmethods = generic_classmethods,
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
    .binop = generic_type_binop,
};

/* ---- user classes ---------------------------------------------------- */

/* A special method found on self's type, called as CPython calls one: a
 * function (or a method written in C, as types made in C hold them) with
 * self, without binding it; anything else through its __get__ if it has
 * one, so that a callable object without one is called as it is, without
 * self. */
static Value call_dunder(TState *ts, Value self, ObjStr *name, Value *args, int nargs) {
    ObjType *type = val_type(ts, self);
    Value fn = type_lookup(type, name);
    if (IS_EMPTY(fn)) return EMPTY_VAL;
    if (IS_FUNCTION(fn) || IS_KIND(fn, OBJ_NATIVE))
        return vm_call_method(ts, fn, self, args, nargs, NULL);
    Value bound = class_bind(ts, fn, self, type);
    if (IS_ERROR(bound)) return bound;
    vm_push(ts, bound);
    Value r = vm_call(ts, bound, args, nargs, NULL);
    vm_pop(ts);
    return r;
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
    return call_dunder(ts, a, name, NULL, 0);
}

bool class_unop_is_user(const ObjType *t) { return t->unop == slot_unop; }

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
    /* As CPython: an AttributeError from a descriptor (a property's
     * getter) also falls back to __getattr__. */
    if (IS_ERROR(v) && err_matches(ts, ts->interp->exc.AttributeError)) {
        err_clear(ts);
        v = EMPTY_VAL;
    }
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

/* Does a user class of the MRO define `name`? (The built-in classes' slots
 * already implement their own dunders.) */
static bool defines(ObjType *type, ObjStr *name) {
    ObjTuple *mro = type->mro;
    for (size_t i = 0; i < mro->len; i++) {
        ObjType *t = AS_TYPE(mro->items[i]);
        if ((t->flags & TYPEF_HEAPTYPE) && !IS_EMPTY(dict_get_str(t->dict, name))) return true;
    }
    return false;
}

static bool defines_cstr(TState *ts, ObjType *type, const char *name) {
    return defines(type, str_intern_cstr(ts, name));
}

/* The hash slot follows the first class of the MRO that has __hash__, as
 * CPython's: None there makes instances unhashable, a user class's
 * function is called, and a built-in type that has its own hashing (not
 * its base's) gives its slot. A class statement that defines __eq__
 * without __hash__ stores __hash__ = None (class_create); assigning __eq__
 * later leaves hashing as it was, as in CPython. */
static HashFn derived_hash(ObjType *t, ObjStr *hash) {
    ObjTuple *mro = t->mro;
    for (size_t i = 0; i < mro->len; i++) {
        ObjType *c = AS_TYPE(mro->items[i]);
        if (!(c->flags & TYPEF_HEAPTYPE)) {
            if (!c->base || c->hash != c->base->hash) return c->hash;
            continue;
        }
        Value h = dict_get_str(c->dict, hash);
        if (!IS_EMPTY(h)) return IS_NONE(h) ? NULL : slot_hash;
    }
    return NULL;
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
    t->hash = derived_hash(t, n->hash);
}

/* The class up the chain whose instance layout a type has: a built-in type
 * adds fields to its parent when their layouts differ (list to object), not
 * when they agree (KeyError to BaseException). */
static ObjType *solid_base(ObjType *t) {
    while (t->base && ((t->flags & TYPEF_HEAPTYPE) ? t->nslots == t->base->nslots
                                                     : t->base->instance_kind == t->instance_kind))
        t = t->base;
    return t;
}

/* Do instances of b have a __dict__? */
static bool base_has_dict(ObjType *b) {
    switch (b->instance_kind) {
    case OBJ_INSTANCE: return (b->flags & (TYPEF_HEAPTYPE | TYPEF_NO_DICT)) == TYPEF_HEAPTYPE;
    case OBJ_EXCEPTION: case OBJ_MODULE: case OBJ_FUNCTION: case OBJ_TYPE: return true;
    default: return (b->flags & TYPEF_DICT_PREFIX) != 0;
    }
}

size_t class_private_prefix(const char *cls, size_t cls_len, const char *name, size_t len, const char **prefix) {
    if (!cls || len < 3 || name[0] != '_' || name[1] != '_') return 0;
    if ((name[len - 2] == '_' && name[len - 1] == '_') || memchr(name, '.', len)) return 0;
    while (cls_len && *cls == '_') cls++, cls_len--;
    *prefix = cls;
    return cls_len;
}

/* __slots__: a member descriptor per name, stored in the class namespace;
 * the instance gets a __dict__ only if '__dict__' is listed or a base has
 * one. Slot values live after the ObjInstance header, so only classes of
 * that layout store them; others (subclasses of list, str, exceptions...)
 * keep named slots in their dict. */
static bool install_slots(TState *ts, ObjType *t, ObjTuple *bases, ObjDict *ns) {
    Interp *interp = ts->interp;
    bool dict = false;
    for (size_t i = 0; i < bases->len; i++) dict |= base_has_dict(AS_TYPE(bases->items[i]));
    Value slots = dict_get_str(ns, interp->names.slots);
    if (IS_EMPTY(slots)) {
        dict = true;
    } else {
        ObjList *list = list_new(ts, 0);
        if (!list) return false;
        vm_push(ts, OBJ_VAL(list));
        bool ok = IS_STR(slots) ? list_append(ts, list, slots) == 0 : list_extend(ts, list, slots) == 0;
        size_t n = ok ? list_len(list) : 0;
        for (size_t i = 0; ok && i < n; i++) {
            Value v = list_get(list, i);
            if (!IS_STR(v)) {
                err_format(ts, interp->exc.TypeError, "__slots__ items must be strings, not '%s'", ops_type_name(ts, v));
                ok = false;
                break;
            }
            ObjStr *name = AS_STR(v);
            const char *prefix;
            size_t plen = class_private_prefix(t->name->data, t->name->len, name->data, name->len, &prefix);
            if (plen) {
                /* Copied out first: interning allocates, and v's text must not move under it. */
                char *text = malloc(1 + plen + name->len);
                if (text) {
                    text[0] = '_';
                    memcpy(text + 1, prefix, plen);
                    memcpy(text + 1 + plen, name->data, name->len);
                    name = str_intern(ts, text, 1 + plen + name->len);
                    free(text);
                } else {
                    name = NULL;
                    err_no_memory(ts);
                }
            } else {
                name = str_intern_obj(ts, name);
            }
            if (!name) {
                ok = false;
                break;
            }
            if (name == interp->names.dict) {
                dict = true;
                continue;
            }
            if (strcmp(name->data, "__weakref__") == 0) continue;
            Value existing = dict_get_str(ns, name);
            if (IS_KIND(existing, OBJ_MEMBER) && ((ObjMember *)AS_OBJ(existing))->owner == t) continue; /* listed twice */
            if (!IS_EMPTY(existing)) {
                err_format(ts, interp->exc.ValueError, "'%s' in __slots__ conflicts with class variable", name->data);
                ok = false;
                break;
            }
            if (t->instance_kind != OBJ_INSTANCE) {
                dict = true;
                continue;
            }
            if (t->nslots == UINT16_MAX) {
                err_format(ts, interp->exc.TypeError, "too many __slots__");
                ok = false;
                break;
            }
            ObjMember *m = (ObjMember *)gc_alloc(ts, sizeof(ObjMember), OBJ_MEMBER, interp->types.member);
            ok = m != NULL;
            if (!ok) break;
            m->name = name;
            m->owner = t;
            m->index = t->nslots++;
            ok = dict_set_str(ts, ns, name, OBJ_VAL(m)) == 0;
        }
        vm_pop(ts);
        if (!ok) return false;
    }
    if (t->instance_kind == OBJ_INSTANCE)
        t->flags = dict ? t->flags & ~TYPEF_NO_DICT : t->flags | TYPEF_NO_DICT;
    else if (!dict)
        t->flags &= ~TYPEF_DICT_PREFIX; /* layouts with a dict field of their own keep it */
    return true;
}

/* The base a new class takes its layout from, as CPython's best_base: the
 * bases' solid bases must form one chain. */
static ObjType *best_base(TState *ts, ObjTuple *bases) {
    ObjType *base = NULL, *winner = NULL;
    for (size_t i = 0; i < bases->len; i++) {
        ObjType *b = AS_TYPE(bases->items[i]);
        ObjType *candidate = solid_base(b);
        if (!winner) {
            winner = candidate;
            base = b;
        } else if (type_is_subtype(winner, candidate)) {
            continue;
        } else if (type_is_subtype(candidate, winner)) {
            winner = candidate;
            base = b;
        } else {
            err_format(ts, ts->interp->exc.TypeError, "multiple bases have instance lay-out conflict");
            return NULL;
        }
    }
    return base;
}

static void mro_error(TState *ts, ObjTuple **seqs, const size_t *heads, size_t nseq) {
    char buf[512];
    size_t len = 0;
    buf[0] = '\0';
    for (size_t s = 0; s < nseq; s++) {
        if (heads[s] >= seqs[s]->len) continue;
        Value c = seqs[s]->items[heads[s]];
        bool seen = false;
        for (size_t k = 0; k < s && !seen; k++)
            seen = heads[k] < seqs[k]->len && seqs[k]->items[heads[k]] == c;
        if (seen || len >= sizeof buf - 1) continue;
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", len ? ", " : "", AS_TYPE(c)->name->data);
        if (len >= sizeof buf) len = sizeof buf - 1;
    }
    err_format(ts, ts->interp->exc.TypeError,
               "Cannot create a consistent method resolution\norder (MRO) for bases %s", buf);
}

/* C3 linearization: t, then the merge of its bases' MROs and the list of
 * bases, taking each time the first head that is in no sequence's tail. */
static ObjTuple *c3_mro(TState *ts, ObjType *t, ObjTuple *bases) {
    size_t nseq = bases->len + 1, cap = 1;
    ObjTuple **seqs = malloc(nseq * sizeof *seqs);
    size_t *heads = calloc(nseq, sizeof *heads);
    for (size_t i = 0; seqs && i < bases->len; i++) {
        seqs[i] = AS_TYPE(bases->items[i])->mro;
        cap += seqs[i]->len;
    }
    Value *out = malloc(cap * sizeof *out);
    if (!seqs || !heads || !out) {
        free(seqs);
        free(heads);
        free(out);
        err_no_memory(ts);
        return NULL;
    }
    seqs[bases->len] = bases;
    size_t n = 0;
    out[n++] = OBJ_VAL(t);
    bool ok = true;
    for (;;) {
        bool any = false, found = false;
        for (size_t s = 0; s < nseq && !found; s++) {
            if (heads[s] >= seqs[s]->len) continue;
            any = true;
            Value cand = seqs[s]->items[heads[s]];
            bool in_tail = false;
            for (size_t k = 0; k < nseq && !in_tail; k++)
                for (size_t j = heads[k] + 1; j < seqs[k]->len && !in_tail; j++) in_tail = seqs[k]->items[j] == cand;
            if (in_tail) continue;
            out[n++] = cand;
            for (size_t k = 0; k < nseq; k++)
                if (heads[k] < seqs[k]->len && seqs[k]->items[heads[k]] == cand) heads[k]++;
            found = true;
        }
        if (!any) break;
        if (!found) {
            mro_error(ts, seqs, heads, nseq);
            ok = false;
            break;
        }
    }
    ObjTuple *mro = ok ? tuple_from(ts, out, n) : NULL;
    free(seqs);
    free(heads);
    free(out);
    return mro;
}

/* The most derived of the metaclass asked for and the bases' metaclasses. */
static ObjType *calculate_meta(TState *ts, ObjType *meta, ObjTuple *bases) {
    ObjType *winner = meta;
    for (size_t i = 0; i < bases->len; i++) {
        ObjType *bt = val_type(ts, bases->items[i]);
        if (type_is_subtype(winner, bt)) continue;
        if (type_is_subtype(bt, winner)) {
            winner = bt;
            continue;
        }
        err_format(ts, ts->interp->exc.TypeError,
                   "metaclass conflict: the metaclass of a derived class must be a (non-strict) "
                   "subclass of the metaclasses of all its bases");
        return NULL;
    }
    return winner;
}

/* The implicit wrappers of the class namespace: __new__ is a staticmethod,
 * __init_subclass__ and __class_getitem__ are classmethods. */
static bool wrap_implicit(TState *ts, ObjDict *ns, ObjStr *name, ObjType *wrapper, ObjKind kind) {
    Value fn = dict_get_str(ns, name);
    if (!IS_FUNCTION(fn)) return true;
    ObjWrapper *w = (ObjWrapper *)gc_alloc(ts, sizeof(ObjWrapper), kind, wrapper);
    if (!w) return false;
    w->func = fn;
    return dict_set_str(ts, ns, name, OBJ_VAL(w)) == 0;
}

/* Calls __set_name__(owner, name) on each attribute whose class has it,
 * over a copy of the namespace (a __set_name__ that changes the class
 * leaves the others their call); an error is wrapped in RuntimeError, its
 * cause (CPython 3.11). */
static bool set_names(TState *ts, ObjType *t) {
    ObjDict *copy = dict_copy(ts, t->dict);
    if (!copy) return false;
    vm_push(ts, OBJ_VAL(copy));
    size_t pos = 0;
    Value key, value;
    bool ok = true;
    while (ok && dict_next(copy, &pos, &key, &value)) {
        Value fn = type_lookup(val_type(ts, value), ts->interp->names.set_name);
        if (IS_EMPTY(fn)) continue;
        Value args[2] = {OBJ_VAL(t), key};
        if (!IS_ERROR(vm_call_method(ts, fn, value, args, 2, NULL))) continue;
        ok = false;
        Value cause = err_fetch(ts);
        vm_push(ts, cause);
        err_format(ts, ts->interp->exc.RuntimeError, "Error calling __set_name__ on '%s' instance '%s' in '%s'",
                   ops_type_name(ts, value), IS_STR(key) ? AS_STR(key)->data : "?", t->name->data);
        if (IS_EXCEPTION(ts->exc) && IS_EXCEPTION(cause)) {
            AS_EXCEPTION(ts->exc)->cause = cause;
            AS_EXCEPTION(ts->exc)->context = cause;
            AS_EXCEPTION(ts->exc)->suppress_context = true;
        }
        vm_pop(ts);
    }
    vm_pop(ts);
    return ok;
}

static Value class_create(TState *ts, ObjType *meta, ObjStr *name, ObjTuple *bases, ObjDict *ns,
                          Value *kwargs, ObjTuple *kwnames) {
    Interp *interp = ts->interp;
    if (!ns) return ERROR_VAL;
    ObjTuple *object_only = NULL;
    /* The metaclass first, as CPython: a base that is not a class is a
     * metaclass conflict. */
    meta = calculate_meta(ts, meta, bases);
    if (!meta) return ERROR_VAL;
    for (size_t i = 0; i < bases->len; i++) {
        if (!IS_TYPE(bases->items[i]))
            return err_format(ts, interp->exc.TypeError, "bases must be types");
        ObjType *b = AS_TYPE(bases->items[i]);
        /* Named as CPython's tp_name: with the module of a C module's type. */
        if (!(b->flags & TYPEF_BASETYPE))
            return IS_STR(b->module) && strcmp(AS_STR(b->module)->data, "builtins") != 0
                       ? err_format(ts, interp->exc.TypeError, "type '%s.%s' is not an acceptable base type",
                                    AS_STR(b->module)->data, b->name->data)
                       : err_format(ts, interp->exc.TypeError, "type '%s' is not an acceptable base type",
                                    b->name->data);
        for (size_t j = 0; j < i; j++)
            if (bases->items[j] == bases->items[i])
                return err_format(ts, interp->exc.TypeError, "duplicate base class %s", b->name->data);
    }
    if (bases->len == 0) {
        Value o = OBJ_VAL(interp->types.object);
        object_only = tuple_from(ts, &o, 1);
        if (!object_only) return ERROR_VAL;
        bases = object_only;
    }
    vm_push(ts, OBJ_VAL(bases));
    ObjType *base = best_base(ts, bases);
    /* Its instances' attribute names follow it (runtime/shape.h). */
    ObjType *t = base ? (ObjType *)gc_alloc(ts, sizeof(ObjType) + SHAPE_KEYS_BYTES, OBJ_TYPE, meta) : NULL;
    if (!t) {
        vm_pop(ts);
        return ERROR_VAL;
    }
    memcpy((char *)t + sizeof(Obj), (char *)base + sizeof(Obj), sizeof(ObjType) - sizeof(Obj));
    shape_keys_init((ShapeKeys *)(t + 1));
    t->name = name;
    atomic_store_explicit(&t->full_name, NULL, memory_order_relaxed);
    atomic_store_explicit(&t->construct_memo, 0, memory_order_relaxed);
    t->base = base;
    t->bases = bases;
    t->dict = ns;
    t->mro = NULL;
    t->flags = (base->flags & ~(TYPEF_HEAPTYPE | TYPEF_ABSTRACT)) | TYPEF_HEAPTYPE | TYPEF_BASETYPE;
    atomic_store_explicit(&t->subclassed, 0, memory_order_relaxed);
    switch (t->instance_kind) {
    case OBJ_INSTANCE: case OBJ_EXCEPTION: case OBJ_MODULE: case OBJ_FUNCTION: case OBJ_TYPE: break;
    default: t->flags |= TYPEF_DICT_PREFIX;
    }
    t->id = atomic_fetch_add(&interp->next_type_id, 1) + 1;
    Value module = dict_get_str(ns, interp->names.module);
    t->module = IS_EMPTY(module) ? NONE_VAL : module;
    t->qualname = NULL;
    vm_pop(ts);
    vm_push(ts, OBJ_VAL(t));
    /* __qualname__ leaves the namespace for the type, as CPython's. */
    Value qualname = dict_get_str(ns, interp->names.qualname);
    if (!IS_EMPTY(qualname)) {
        if (!IS_STR(qualname)) {
            err_format(ts, interp->exc.TypeError, "type __qualname__ must be a str, not %s", ops_type_name(ts, qualname));
            vm_pop(ts);
            return ERROR_VAL;
        }
        t->qualname = AS_STR(qualname);
        if (dict_delete(ts, ns, OBJ_VAL(interp->names.qualname)) < 0) {
            vm_pop(ts);
            return ERROR_VAL;
        }
    }
    /* __slots__ may be any iterable (mini code may run): t is rooted. */
    if (install_slots(ts, t, bases, ns)) t->mro = c3_mro(ts, t, bases);
    if (!t->mro || !wrap_implicit(ts, ns, interp->names.new_, interp->types.staticmethod, OBJ_STATICMETHOD) ||
        !wrap_implicit(ts, ns, interp->names.init_subclass, interp->types.classmethod, OBJ_CLASSMETHOD) ||
        !wrap_implicit(ts, ns, interp->names.class_getitem, interp->types.classmethod, OBJ_CLASSMETHOD)) {
        vm_pop(ts);
        return ERROR_VAL;
    }
    /* The class body's __class__ cell (its functions' __class__ and
     * super()) holds the class, as CPython's. */
    Value classcell = dict_get_str(ns, interp->names.classcell);
    if (!IS_EMPTY(classcell)) {
        if (!IS_CELL(classcell)) {
            err_format(ts, interp->exc.TypeError, "__classcell__ must be a nonlocal cell, not <class '%s'>",
                       ops_type_name(ts, classcell));
            vm_pop(ts);
            return ERROR_VAL;
        }
        cell_set(AS_CELL(classcell), OBJ_VAL(t));
        if (dict_delete(ts, ns, OBJ_VAL(interp->names.classcell)) < 0) {
            vm_pop(ts);
            return ERROR_VAL;
        }
    }
    /* Python: a class that defines __eq__ but not __hash__ gets
     * __hash__ = None (its instances are unhashable). */
    if (!IS_EMPTY(dict_get_str(ns, interp->names.eq)) && IS_EMPTY(dict_get_str(ns, interp->names.hash)))
        dict_set_str(ts, ns, interp->names.hash, NONE_VAL);
    /* Every class has its own __doc__ (None without a docstring), as
     * CPython's: a subclass does not inherit its base's. */
    if (IS_EMPTY(dict_get_str(ns, interp->names.doc)) && dict_set_str(ts, ns, interp->names.doc, NONE_VAL) < 0) {
        vm_pop(ts);
        return ERROR_VAL;
    }
    class_install_slots(ts, t);
    for (size_t i = 1; i < t->mro->len; i++) {
        ObjType *b = AS_TYPE(t->mro->items[i]);
        if ((b->flags & TYPEF_HEAPTYPE) && !atomic_load_explicit(&b->subclassed, memory_order_relaxed))
            atomic_store_explicit(&b->subclassed, 1, memory_order_relaxed);
    }
    if (!set_names(ts, t)) {
        vm_pop(ts);
        return ERROR_VAL;
    }
    /* super(t, t).__init_subclass__(**kwargs) */
    Value init_sub = EMPTY_VAL;
    for (size_t i = 1; i < t->mro->len && IS_EMPTY(init_sub); i++)
        init_sub = dict_get_str(AS_TYPE(t->mro->items[i])->dict, interp->names.init_subclass);
    if (IS_KIND(init_sub, OBJ_CLASSMETHOD)) init_sub = ((ObjWrapper *)AS_OBJ(init_sub))->func;
    if (IS_NATIVE(init_sub) && kwnames) {
        vm_pop(ts);
        return err_format(ts, interp->exc.TypeError, "%s.__init_subclass__() takes no keyword arguments",
                          name->data);
    }
    if (IS_FUNCTION(init_sub)) {
        Value r = vm_call_method(ts, init_sub, OBJ_VAL(t), kwargs, 0, kwnames);
        if (IS_ERROR(r)) {
            vm_pop(ts);
            return r;
        }
    }
    vm_pop(ts);
    return OBJ_VAL(t);
}

Value class_new(TState *ts, ObjType *meta, ObjStr *name, ObjTuple *bases, ObjDict *ns) {
    return class_create(ts, meta, name, bases, ns, NULL, NULL);
}

/* PEP 560: a base that is not a class (typing's Generic[T], list[int])
 * names the classes to use in its place through __mro_entries__(bases).
 * BASES itself when none does, else a new tuple; NULL after raising. */
static ObjTuple *resolve_bases(TState *ts, ObjTuple *bases) {
    ObjList *out = NULL;
    for (size_t i = 0; i < bases->len; i++) {
        Value b = bases->items[i];
        Value meth = IS_TYPE(b) ? EMPTY_VAL : ops_getattr_opt(ts, b, ts->interp->names.mro_entries);
        if (IS_ERROR(meth)) goto fail;
        if (IS_EMPTY(meth)) {
            if (out && list_append(ts, out, b) < 0) goto fail;
            continue;
        }
        if (!out) {
            vm_push(ts, meth);
            out = list_from(ts, bases->items, i);
            vm_pop(ts);
            if (!out) return NULL;
            vm_push(ts, OBJ_VAL(out));
        }
        vm_push(ts, meth);
        Value arg = OBJ_VAL(bases);
        Value entries = vm_call(ts, meth, &arg, 1, NULL);
        vm_pop(ts);
        if (IS_ERROR(entries)) goto fail;
        if (!IS_TUPLE(entries)) {
            err_format(ts, ts->interp->exc.TypeError, "__mro_entries__ must return a tuple");
            goto fail;
        }
        for (size_t j = 0; j < AS_TUPLE(entries)->len; j++)
            if (list_append(ts, out, AS_TUPLE(entries)->items[j]) < 0) goto fail;
    }
    if (!out) return bases;
    size_t n;
    Value *items = list_snapshot(ts, out, &n);
    ObjTuple *t = items ? tuple_from(ts, items, n) : NULL;
    if (items) gc_free_buffer(items, n * sizeof(Value));
    vm_pop(ts);
    return t;
fail:
    if (out) vm_pop(ts);
    return NULL;
}

/* __build_class__(func, name, *bases, metaclass=..., **kwargs): the
 * metaclass (given, or the most derived of the bases'), its __prepare__
 * namespace, the body run in it, then metaclass(name, bases, ns, **kwargs). */
Value class_build(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    Interp *interp = ts->interp;
    int npos = nargs;
    if (npos < 2 || !IS_FUNCTION(args[0]) || !IS_STR(args[1]))
        return err_format(ts, interp->exc.TypeError, "__build_class__: bad arguments");
    ObjFunction *body = AS_FUNCTION(args[0]);
    ObjStr *name = str_intern_obj(ts, AS_STR(args[1]));
    ObjTuple *orig_bases = tuple_from(ts, args + 2, (size_t)(npos - 2));
    if (!orig_bases) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(orig_bases));
    ObjTuple *bases = resolve_bases(ts, orig_bases);
    if (!bases) {
        vm_pop(ts);
        return ERROR_VAL;
    }
    vm_push(ts, OBJ_VAL(bases));
    /* The keywords other than metaclass=, for the metaclass call. */
    size_t nkw = kwnames ? kwnames->len : 0;
    Value meta = EMPTY_VAL;
    Value *kw = malloc((nkw + 3) * sizeof *kw);
    Value *kwn = malloc((nkw + 1) * sizeof *kwn);
    if (!kw || !kwn) {
        free(kw);
        free(kwn);
        vm_pop(ts);
        vm_pop(ts);
        return err_no_memory(ts);
    }
    size_t nrest = 0;
    for (size_t i = 0; i < nkw; i++) {
        if (AS_STR(kwnames->items[i]) == interp->names.metaclass) {
            meta = args[nargs + i];
        } else {
            kwn[nrest] = kwnames->items[i];
            kw[3 + nrest++] = args[nargs + i];
        }
    }
    ObjTuple *rest_names = nrest ? tuple_from(ts, kwn, nrest) : NULL;
    free(kwn);
    Value cls = ERROR_VAL;
    if (nrest && !rest_names) goto done;
    if (rest_names) vm_push(ts, OBJ_VAL(rest_names));
    if (IS_EMPTY(meta)) meta = bases->len ? OBJ_VAL(val_type(ts, bases->items[0])) : OBJ_VAL(interp->types.type);
    if (IS_TYPE(meta)) {
        ObjType *winner = calculate_meta(ts, AS_TYPE(meta), bases);
        if (!winner) goto pop_names;
        meta = OBJ_VAL(winner);
    }
    vm_push(ts, meta);
    Value ns_val;
    Value prepare = IS_TYPE(meta) && AS_TYPE(meta) == interp->types.type
                        ? EMPTY_VAL : ops_getattr_opt(ts, meta, interp->names.prepare);
    if (IS_ERROR(prepare)) goto pop_meta;
    if (IS_EMPTY(prepare)) {
        ObjDict *d = dict_new(ts);
        ns_val = d ? OBJ_VAL(d) : ERROR_VAL;
    } else {
        Value pargs[2 + 64];
        pargs[0] = args[1];
        pargs[1] = OBJ_VAL(bases);
        if (nrest > 64) {
            err_format(ts, interp->exc.TypeError, "too many class keyword arguments");
            goto pop_meta;
        }
        for (size_t i = 0; i < nrest; i++) pargs[2 + i] = kw[3 + i];
        ns_val = vm_call(ts, prepare, pargs, 2, rest_names);
    }
    if (IS_ERROR(ns_val)) goto pop_meta;
    if (!IS_DICT(ns_val)) {
        err_format(ts, interp->exc.TypeError, "%s.__prepare__() must return a mapping, not %s",
                   IS_TYPE(meta) ? AS_TYPE(meta)->name->data : "<metaclass>", ops_type_name(ts, ns_val));
        goto pop_meta;
    }
    ObjDict *ns = AS_DICT(ns_val);
    vm_push(ts, ns_val);
    Value module_name = dict_get_str(body->globals, interp->names.name);
    if (!IS_EMPTY(module_name)) dict_set_str(ts, ns, interp->names.module, module_name);
    dict_set_str(ts, ns, interp->names.qualname, OBJ_VAL(body->qualname));
    Value r = vm_run_class_body(ts, body, ns);
    if (!IS_ERROR(r) && bases != orig_bases &&
        dict_set_str(ts, ns, interp->names.orig_bases, OBJ_VAL(orig_bases)) < 0)
        r = ERROR_VAL;
    if (!IS_ERROR(r)) {
        if (IS_TYPE(meta) && AS_TYPE(meta) == interp->types.type) {
            cls = class_create(ts, AS_TYPE(meta), name, bases, ns, kw + 3, rest_names);
        } else {
            kw[0] = OBJ_VAL(name);
            kw[1] = OBJ_VAL(bases);
            kw[2] = ns_val;
            cls = vm_call(ts, meta, kw, 3, rest_names);
        }
    }
    vm_pop(ts);
pop_meta:
    vm_pop(ts);
pop_names:
    if (rest_names) vm_pop(ts);
done:
    free(kw);
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
        const char *why = vm_super_context(ts, &type, &self);
        if (why) return err_format(ts, interp->exc.RuntimeError, "%s", why);
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
 * lives on the first such class of an MRO (a user class over object without
 * __slots__, BaseException), so super() finds it only from below such a
 * class. */
static bool type_has_instance_dict(ObjType *t) {
    return ((t->flags & (TYPEF_HEAPTYPE | TYPEF_NO_DICT)) == TYPEF_HEAPTYPE && t->instance_kind == OBJ_INSTANCE) ||
           t->instance_kind == OBJ_EXCEPTION;
}

/* Looks name up in the MRO of self's type past s->type and binds it to
 * s->self (as the class would read it, for super(C, cls)); __class__ and
 * what the MRO lacks are the super object's own attributes. */
static Value super_getattr(TState *ts, Value self, ObjStr *name) {
    ObjSuper *s = (ObjSuper *)AS_OBJ(self);
    Interp *interp = ts->interp;
    ObjTuple *mro = s->self_type->mro;
    size_t i = 0;
    while (i < mro->len && AS_TYPE(mro->items[i]) != s->type) i++;
    for (i++; i < mro->len && name != interp->names.class_; i++) {
        ObjType *t = AS_TYPE(mro->items[i]);
        Value attr = dict_get_str(t->dict, name);
        if (IS_EMPTY(attr)) {
            if (name == interp->names.dict && !IS_TYPE(s->self) && IS_OBJ(s->self) && type_has_instance_dict(t)) {
                Value d = instance_dict(ts, s->self);
                if (!IS_EMPTY(d)) return d;
            }
            continue;
        }
        bool on_class = IS_TYPE(s->self) && s->self_type == AS_TYPE(s->self);
        return class_bind(ts, attr, on_class ? EMPTY_VAL : s->self, s->self_type);
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
    gc_mark_obj(m, (Obj *)p->name);
}

/* A built-in descriptor type's subclass whose mini __init__ takes the
 * arguments: its new_ only allocates, and that __init__ fills the object
 * through super().__init__ (as list's). */
static bool init_consumes(TState *ts, ObjType *type, ObjType *base) {
    return type != base && IS_FUNCTION(type_lookup(type, ts->interp->names.init));
}

/* property(fget=None, fset=None, fdel=None, doc=None); without a doc it
 * takes fget's __doc__. */
static bool property_fill(TState *ts, ObjProperty *p, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"fget", "fset", "fdel", "doc"};
    Value v[4];
    if (!args_bind(ts, "property", args, nargs, kwnames, names, 4, 0, 4, v)) return false;
    p->fget = IS_EMPTY(v[0]) ? NONE_VAL : v[0];
    p->fset = IS_EMPTY(v[1]) ? NONE_VAL : v[1];
    p->fdel = IS_EMPTY(v[2]) ? NONE_VAL : v[2];
    p->doc = IS_EMPTY(v[3]) ? NONE_VAL : v[3];
    p->getter_doc = false;
    if (IS_NONE(p->doc) && !IS_NONE(p->fget)) {
        Value doc = ops_getattr_opt(ts, p->fget, ts->interp->names.doc);
        if (IS_ERROR(doc)) return false;
        if (!IS_EMPTY(doc)) {
            p->doc = doc;
            p->getter_doc = true;
        }
    }
    /* A subclass's instance keeps its doc in its __dict__, as CPython's:
     * the subclass's own __doc__ (None) hides the getset. */
    if (p->obj.type != ts->interp->types.property &&
        ops_setattr(ts, OBJ_VAL(p), ts->interp->names.doc, p->doc) < 0)
        return false;
    return true;
}

static Value property_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    ObjProperty *p = (ObjProperty *)gc_alloc(ts, sizeof(ObjProperty), OBJ_PROPERTY, type);
    if (!p) return ERROR_VAL;
    p->fget = p->fset = p->fdel = p->doc = NONE_VAL;
    p->getset = NULL;
    p->name = NULL;
    p->getter_doc = false;
    if (init_consumes(ts, type, ts->interp->types.property)) return OBJ_VAL(p);
    vm_push(ts, OBJ_VAL(p));
    bool ok = property_fill(ts, p, args, nargs, kwnames);
    vm_pop(ts);
    return ok ? OBJ_VAL(p) : ERROR_VAL;
}

static ObjProperty *as_property(TState *ts, Value *args, int nargs) {
    if (nargs < 1 || !IS_KIND(args[0], OBJ_PROPERTY) || ((ObjProperty *)AS_OBJ(args[0]))->getset) {
        err_format(ts, ts->interp->exc.TypeError, "descriptor requires a 'property' object");
        return NULL;
    }
    return (ObjProperty *)AS_OBJ(args[0]);
}

static Value property_init(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ObjProperty *p = as_property(ts, args, nargs);
    if (!p) return ERROR_VAL;
    return property_fill(ts, p, args + 1, nargs - 1, kwnames) ? NONE_VAL : ERROR_VAL;
}

/* property.setter / deleter / getter: the property's class called with one
 * function replaced (a subclass gets an instance of itself), keeping the
 * name; a doc taken from the old getter gives way to the new one's. */
static Value property_with(TState *ts, Value *args, int nargs, ObjTuple *kwnames, int which,
                           const char *fname) {
    if (!args_check(ts, fname, nargs, kwnames, 2, 2)) return ERROR_VAL;
    ObjProperty *old = as_property(ts, args, nargs);
    if (!old) return ERROR_VAL;
    Value parts[4] = {which == 0 ? args[1] : old->fget, which == 1 ? args[1] : old->fset,
                      which == 2 ? args[1] : old->fdel, old->doc};
    if (old->getter_doc && !IS_NONE(parts[0])) parts[3] = NONE_VAL;
    Value r = vm_call(ts, OBJ_VAL(old->obj.type), parts, 4, NULL);
    if (IS_KIND(r, OBJ_PROPERTY)) ((ObjProperty *)AS_OBJ(r))->name = old->name;
    return r;
}

static Value property_getter(TState *ts, Value *a, int n, ObjTuple *k) { return property_with(ts, a, n, k, 0, "getter"); }
static Value property_setter(TState *ts, Value *a, int n, ObjTuple *k) { return property_with(ts, a, n, k, 1, "setter"); }
static Value property_deleter(TState *ts, Value *a, int n, ObjTuple *k) { return property_with(ts, a, n, k, 2, "deleter"); }

static Value property_set_name(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__set_name__", nargs, kwnames, 3, 3)) return ERROR_VAL;
    ObjProperty *p = as_property(ts, args, nargs);
    if (!p) return ERROR_VAL;
    p->name = IS_STR(args[2]) ? AS_STR(args[2]) : NULL;
    return NONE_VAL;
}

/* __set__ and __delete__, which a subclass's instances are reached by. */
static Value property_set_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__set__", nargs, kwnames, 3, 3)) return ERROR_VAL;
    if (!IS_KIND(args[0], OBJ_PROPERTY)) return err_type_not(ts, args[0], "a property");
    return property_store(ts, (ObjProperty *)AS_OBJ(args[0]), args[1], args[2]) < 0 ? ERROR_VAL : NONE_VAL;
}

static Value property_delete_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__delete__", nargs, kwnames, 2, 2)) return ERROR_VAL;
    if (!IS_KIND(args[0], OBJ_PROPERTY)) return err_type_not(ts, args[0], "a property");
    return property_store(ts, (ObjProperty *)AS_OBJ(args[0]), args[1], EMPTY_VAL) < 0 ? ERROR_VAL : NONE_VAL;
}

static const NativeDef property_methods[] = {
    {"__init__", property_init},
    {"__get__", class_descr_get_method},
    {"__set__", property_set_method},
    {"__delete__", property_delete_method},
    {"__set_name__", property_set_name},
    {"getter", property_getter},
    {"setter", property_setter},
    {"deleter", property_deleter},
    {NULL, NULL},
};

/* A function is abstract when its __isabstractmethod__ is true. */
static int is_abstract(TState *ts, Value fn) {
    if (IS_NONE(fn)) return 0;
    Value v = ops_getattr_opt(ts, fn, str_intern_cstr(ts, "__isabstractmethod__"));
    if (IS_ERROR(v)) return -1;
    return IS_EMPTY(v) ? 0 : ops_truth(ts, v);
}

static Value property_fget(TState *ts, Value self) { (void)ts; return ((ObjProperty *)AS_OBJ(self))->fget; }
static Value property_fset(TState *ts, Value self) { (void)ts; return ((ObjProperty *)AS_OBJ(self))->fset; }
static Value property_fdel(TState *ts, Value self) { (void)ts; return ((ObjProperty *)AS_OBJ(self))->fdel; }
static Value property_doc(TState *ts, Value self) { (void)ts; return ((ObjProperty *)AS_OBJ(self))->doc; }
static int property_set_doc(TState *ts, Value self, Value v) {
    (void)ts;
    ((ObjProperty *)AS_OBJ(self))->doc = IS_EMPTY(v) ? NONE_VAL : v;
    return 0;
}
static Value property_abstract(TState *ts, Value self) {
    ObjProperty *p = (ObjProperty *)AS_OBJ(self);
    Value fns[3] = {p->fget, p->fset, p->fdel};
    for (int i = 0; i < 3; i++) {
        int r = is_abstract(ts, fns[i]);
        if (r) return r < 0 ? ERROR_VAL : TRUE_VAL;
    }
    return FALSE_VAL;
}

static const GetSetDef property_getsets[] = {
    {"fget", property_fget, NULL},
    {"fset", property_fset, NULL},
    {"fdel", property_fdel, NULL},
    {"__doc__", property_doc, property_set_doc},
    {"__isabstractmethod__", property_abstract, NULL},
    {NULL, NULL, NULL},
};

const TypeSpec property_type_spec = {
    .name = "property",
    .flags = TYPEF_BASETYPE,
    .getsets = property_getsets,
    .kind = OBJ_PROPERTY,
    .new_ = property_new,
    .trace = property_trace,
    .methods = property_methods,
};

static void wrapper_trace(GcMarker *m, Obj *self) { gc_mark_value(m, ((ObjWrapper *)self)->func); }

static Value wrapper_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    ObjType *base = type_is_subtype(type, ts->interp->types.staticmethod) ? ts->interp->types.staticmethod
                                                                          : ts->interp->types.classmethod;
    bool consumes = init_consumes(ts, type, base);
    if (!consumes && !args_check(ts, base->name->data, nargs, kwnames, 1, 1)) return ERROR_VAL;
    ObjWrapper *w = (ObjWrapper *)gc_alloc(ts, sizeof(ObjWrapper), base == ts->interp->types.staticmethod
                                                                       ? OBJ_STATICMETHOD : OBJ_CLASSMETHOD, type);
    if (!w) return ERROR_VAL;
    w->func = consumes ? NONE_VAL : args[0];
    return OBJ_VAL(w);
}

static bool is_wrapper(Value v) { return IS_KIND(v, OBJ_STATICMETHOD) || IS_KIND(v, OBJ_CLASSMETHOD); }

static Value wrapper_init(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (nargs < 1 || !is_wrapper(args[0])) return err_type_not(ts, nargs ? args[0] : NONE_VAL, "a staticmethod or classmethod");
    if (!args_check(ts, OBJ_TYPE(args[0])->name->data, nargs - 1, kwnames, 1, 1)) return ERROR_VAL;
    ((ObjWrapper *)AS_OBJ(args[0]))->func = args[1];
    return NONE_VAL;
}

/* A staticmethod is callable (3.10): it calls its function. */
static Value staticmethod_call(TState *ts, Value callee, Value *args, int nargs, ObjTuple *kwnames) {
    return vm_call(ts, ((ObjWrapper *)AS_OBJ(callee))->func, args, nargs, kwnames);
}

static Value wrapper_repr(TState *ts, Value self) {
    Value inner = ops_repr(ts, ((ObjWrapper *)AS_OBJ(self))->func);
    if (IS_ERROR(inner)) return inner;
    return OBJ_VAL(str_printf(ts, "<%s(%s)>", IS_KIND(self, OBJ_STATICMETHOD) ? "staticmethod" : "classmethod",
                              AS_STR(inner)->data));
}

static Value wrapper_func_get(TState *ts, Value self) {
    (void)ts;
    return ((ObjWrapper *)AS_OBJ(self))->func;
}

/* __name__, __qualname__, __doc__, __module__: the wrapped function's, as
 * CPython 3.10 copies them. */
static Value wrapper_func_attr(TState *ts, Value self, ObjStr *name) {
    Value v = ops_getattr_opt(ts, ((ObjWrapper *)AS_OBJ(self))->func, name);
    if (IS_EMPTY(v))
        return err_format(ts, ts->interp->exc.AttributeError, "'%s' object has no attribute '%s'",
                          ops_type_name(ts, self), name->data);
    return v;
}
static Value wrapper_name(TState *ts, Value self) { return wrapper_func_attr(ts, self, ts->interp->names.name); }
static Value wrapper_qualname(TState *ts, Value self) { return wrapper_func_attr(ts, self, ts->interp->names.qualname); }
static Value wrapper_doc(TState *ts, Value self) { return wrapper_func_attr(ts, self, ts->interp->names.doc); }
static Value wrapper_module(TState *ts, Value self) { return wrapper_func_attr(ts, self, ts->interp->names.module); }
static Value wrapper_abstract(TState *ts, Value self) {
    int r = is_abstract(ts, ((ObjWrapper *)AS_OBJ(self))->func);
    return r < 0 ? ERROR_VAL : BOOL_VAL(r);
}

static const GetSetDef wrapper_getsets[] = {
    {"__func__", wrapper_func_get, NULL},
    {"__wrapped__", wrapper_func_get, NULL},
    {"__name__", wrapper_name, NULL},
    {"__qualname__", wrapper_qualname, NULL},
    {"__doc__", wrapper_doc, NULL},
    {"__module__", wrapper_module, NULL},
    {"__isabstractmethod__", wrapper_abstract, NULL},
    {NULL, NULL, NULL},
};

static const NativeDef wrapper_methods[] = {
    {"__init__", wrapper_init},
    {"__get__", class_descr_get_method},
    {NULL, NULL},
};

const TypeSpec staticmethod_type_spec = {
    .name = "staticmethod",
    .flags = TYPEF_BASETYPE,
    .methods = wrapper_methods,
    .kind = OBJ_STATICMETHOD,
    .new_ = wrapper_new,
    .call = staticmethod_call,
    .repr = wrapper_repr,
    .trace = wrapper_trace,
    .getsets = wrapper_getsets,
};

const TypeSpec classmethod_type_spec = {
    .name = "classmethod",
    .flags = TYPEF_BASETYPE,
    .methods = wrapper_methods,
    .kind = OBJ_CLASSMETHOD,
    .new_ = wrapper_new,
    .repr = wrapper_repr,
    .trace = wrapper_trace,
    .getsets = wrapper_getsets,
};

/* ---- member descriptors (__slots__) ---------------------------------- */

static Value member_repr(TState *ts, Value self) {
    ObjMember *m = (ObjMember *)AS_OBJ(self);
    return OBJ_VAL(str_printf(ts, "<member '%s' of '%s' objects>", m->name->data, m->owner->name->data));
}

static void member_trace(GcMarker *m, Obj *self) {
    gc_mark_obj(m, (Obj *)((ObjMember *)self)->name);
    gc_mark_obj(m, (Obj *)((ObjMember *)self)->owner);
}

static Value member_set_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__set__", nargs, kwnames, 3, 3)) return ERROR_VAL;
    return member_access(ts, (ObjMember *)AS_OBJ(args[0]), args[1], args[2], true);
}

static Value member_delete_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__delete__", nargs, kwnames, 2, 2)) return ERROR_VAL;
    return member_access(ts, (ObjMember *)AS_OBJ(args[0]), args[1], EMPTY_VAL, true);
}

static const NativeDef member_methods[] = {
    {"__get__", class_descr_get_method},
    {"__set__", member_set_method},
    {"__delete__", member_delete_method},
    {NULL, NULL},
};

const TypeSpec member_type_spec = {
    .name = "member_descriptor",
    .kind = OBJ_MEMBER,
    .repr = member_repr,
    .trace = member_trace,
    .methods = member_methods,
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
