#ifndef MINI_RUNTIME_CLASS_H
#define MINI_RUNTIME_CLASS_H

/* User classes (the class statement), their instances, the generic
 * attribute protocol, and the descriptor types property, staticmethod and
 * classmethod. */

#include "runtime/object.h"

struct ObjDict;
struct ObjStr;
struct ObjTuple;

typedef struct ObjInstance {
    Obj obj;
    struct ObjDict *dict; /* NULL until the first attribute is set */
} ObjInstance;

/* A property: mini functions fget/fset/fdel, or a C getter and setter
 * (getset, for built-in types' attributes). */
typedef struct ObjProperty {
    Obj obj;
    Value fget, fset, fdel, doc;
    const struct GetSetDef *getset;
    struct ObjStr *name; /* from __set_name__, for its messages; NULL before */
    bool getter_doc;     /* doc came from fget: a new getter brings its own */
} ObjProperty;

/* staticmethod and classmethod wrap one callable. */
typedef struct ObjWrapper {
    Obj obj;
    Value func;
} ObjWrapper;

/* A __slots__ entry: reads and writes value `index` of the instance's
 * slots (the Values after its ObjInstance header). */
typedef struct ObjMember {
    Obj obj;
    struct ObjStr *name;
    ObjType *owner;
    uint32_t index;
} ObjMember;

#define IS_INSTANCE(v) IS_KIND(v, OBJ_INSTANCE)
#define AS_INSTANCE(v) ((ObjInstance *)AS_OBJ(v))
#define IS_TYPE(v) IS_KIND(v, OBJ_TYPE)
#define AS_TYPE(v) ((ObjType *)AS_OBJ(v))

/* The values of a user class instance's __slots__. */
static inline Value *instance_slots(ObjInstance *inst) { return (Value *)(inst + 1); }
/* A fresh instance of a user class whose layout is ObjInstance: no dict
 * yet, every slot unset. NULL after raising MemoryError. */
ObjInstance *class_instance_alloc(TState *ts, ObjType *type);
/* The kinds whose objects may have an instance dict (obj_dict_slot's
 * cases), besides those flagged OBJF_DICT_PREFIX. */
#define OBJ_KINDS_WITH_DICT \
    (1ull << OBJ_INSTANCE | 1ull << OBJ_EXCEPTION | 1ull << OBJ_MODULE | 1ull << OBJ_FUNCTION)
struct ObjDict **obj_dict_slot_of(Obj *o);
/* The instance dict slot of objects that have one, else NULL. Inline: a
 * method call on a list, dict or set asks it (is the method shadowed?). */
static inline struct ObjDict **obj_dict_slot(Obj *o) {
    if (!(o->flags & OBJF_DICT_PREFIX) && !(OBJ_KINDS_WITH_DICT >> o->kind & 1)) return NULL;
    return obj_dict_slot_of(o);
}
/* Calling a class the default way (type.__call__), in two halves so that
 * the VM can run __init__ in its own loop: class_construct runs __new__
 * and returns the new object (or ERROR_VAL), with *init the mini __init__
 * to call next on it with the same arguments, or EMPTY_VAL when none runs
 * (no mini __init__, or __new__ returned an object of another class).
 * What that __init__ returned then goes through class_init_returned:
 * TypeError unless None. */
Value class_construct(TState *ts, ObjType *type, Value *args, int nargs, struct ObjTuple *kwnames, Value *init);
Value class_init_returned(TState *ts, Value r);
/* The dict in such a slot, read with acquire: a dict another thread has
 * just made is seen whole (GIL off). NULL while there is none. */
static inline struct ObjDict *obj_dict_load(struct ObjDict **slot) { return __atomic_load_n(slot, __ATOMIC_ACQUIRE); }
/* The dict of a user class instance, for the VM's attribute caches: NULL
 * when it cannot have one, and while its attributes are inline values
 * (runtime/shape.h: shape_get/shape_has see both). */
static inline struct ObjDict *instance_dict_fast(Value v) {
    return IS_KIND(v, OBJ_INSTANCE) && (OBJ_TYPE(v)->flags & TYPEF_HEAPTYPE) ? obj_dict_load(&AS_INSTANCE(v)->dict) : NULL;
}

/* The dict in the slot, made on first use. Two threads making it at once
 * agree on one (compare-and-swap), so neither's attributes are lost. NULL
 * after raising MemoryError. */
struct ObjDict *obj_dict_ensure(TState *ts, struct ObjDict **slot);

/* Python's generic attribute lookup and assignment (object.__getattribute__
 * / __setattr__): data descriptors, then the instance dict, then the class.
 * Returns EMPTY_VAL when absent without raising. */
Value class_generic_getattr(TState *ts, Value obj, struct ObjStr *name);
int class_generic_setattr(TState *ts, Value obj, struct ObjStr *name, Value value);
/* The generic lookup without the instance dict (for objects whose own
 * getattr slot handled their namespace, like modules). */
Value class_generic_getattr_type_only(TState *ts, Value obj, struct ObjStr *name);
/* The descriptor protocol's __get__ for what was found on `type`: obj is
 * the instance, or EMPTY_VAL when the attribute is read on the class itself.
 * Functions become bound methods, classmethods bind the class, properties
 * run their getter, a user descriptor's __get__(obj or None, type) runs. */
Value class_bind(TState *ts, Value attr, Value obj, ObjType *type);

/* The built-in descriptors' __get__(self, obj, type=None) method. */
Value class_descr_get_method(TState *ts, Value *args, int nargs, struct ObjTuple *kwnames);

/* type(name, bases, namespace) and the class statement. */
Value class_new(TState *ts, ObjType *meta, struct ObjStr *name, struct ObjTuple *bases,
                struct ObjDict *ns);
/* The native __build_class__(func, name, *bases). */
Value class_build(TState *ts, Value *args, int nargs, struct ObjTuple *kwnames);
/* super() and super(type, obj). */
Value class_super(TState *ts, Value *args, int nargs, struct ObjTuple *kwnames);

/* Slot functions a user class gets when its body defines the dunder. */
void class_install_slots(TState *ts, ObjType *type);
/* A type's __qualname__ (its name unless a class says otherwise). */
struct ObjStr *class_qualname(const ObjType *t);

/* CPython's private name mangling: inside class CLS, NAME `__x` (not
 * `__x__`, not dotted) becomes `_` + CLS without its leading underscores
 * + NAME. Returns that stripped class name's length (0: NAME stays as it
 * is) and points *prefix at it. The compiler and __slots__ share it. */
size_t class_private_prefix(const char *cls, size_t cls_len, const char *name, size_t len, const char **prefix);
/* Whether t's unary operators are its class's dunders: their unop slot
 * returns EMPTY_VAL for a missing method, and a NotImplemented the method
 * returned is a result (built-in slots return NotImplemented for an
 * unsupported operator). */
bool class_unop_is_user(const ObjType *t);

extern const struct TypeSpec object_type_spec;
extern const struct TypeSpec type_type_spec;
extern const struct TypeSpec property_type_spec;
extern const struct TypeSpec staticmethod_type_spec;
extern const struct TypeSpec classmethod_type_spec;
extern const struct TypeSpec super_type_spec;
extern const struct TypeSpec member_type_spec;

#endif
