#ifndef MINI_RUNTIME_OBJECT_H
#define MINI_RUNTIME_OBJECT_H

/* The object model: every heap object starts with an Obj header that names
 * its type. Types are objects too (ObjType); a type's slots are C function
 * pointers, so built-in behaviour is a direct call and user classes get
 * generic slots that look up dunder methods (runtime/class.c).
 *
 * Built-in type objects belong to an interpreter (Interp.types), never to a
 * process-wide global: see ARCHITECTURE.md, "no global interpreter". */

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/value.h"

typedef struct Interp Interp;
typedef struct TState TState;
typedef struct GcMarker GcMarker;

/* Layout of an object's body. A user class's instances have the layout of
 * the built-in type it derives from (OBJ_INSTANCE for plain classes). */
typedef enum ObjKind {
    OBJ_STR,
    OBJ_BYTES,
    OBJ_BYTEARRAY,
    OBJ_MEMORYVIEW,
    OBJ_ARRAY,
    OBJ_INT,
    OBJ_TUPLE,
    OBJ_LIST,
    OBJ_DICT,
    OBJ_SET,
    OBJ_RANGE,
    OBJ_SLICE,
    OBJ_CODE,
    OBJ_FUNCTION,
    OBJ_CELL,
    OBJ_NATIVE,
    OBJ_BOUND_METHOD,
    OBJ_TYPE,
    OBJ_INSTANCE,
    OBJ_EXCEPTION,
    OBJ_MODULE,
    OBJ_GENERATOR,
    OBJ_ITERATOR, /* built-in iterators: a C next function plus state */
    OBJ_TRACEBACK,
    OBJ_PROPERTY,
    OBJ_STATICMETHOD,
    OBJ_CLASSMETHOD,
    OBJ_FILE,
    OBJ_OPAQUE, /* native state owned by a C module (locks, queues, ...) */
    OBJ_MEMBER, /* a __slots__ entry's descriptor */
    OBJ_COMPLEX,
    OBJ_FLOAT, /* an instance of a float subclass (floats themselves are unboxed) */
    OBJ_FRAME,  /* a running frame as sys.settrace's tracers see it */
    OBJ_WEAKREF, /* weakref.ref (runtime/weakref.h) */
    OBJ_KIND_COUNT
} ObjKind;

typedef struct Obj {
    uint8_t kind;          /* ObjKind */
    uint8_t gc_mark;       /* set by the collector; see vm/gc.h */
    uint8_t flags;         /* OBJF_* */
    atomic_uchar mutex;    /* per-object lock for GIL-off mutation */
    uint32_t aux;          /* spare per-kind bits (e.g. str is_ascii) */
    struct ObjType *type;
    struct Obj *gc_next;   /* the owning thread's allocation list */
} Obj;

#define OBJF_IMMORTAL 0x01 /* never freed: interned names */
#define OBJF_DICT_PREFIX 0x02 /* the __dict__ pointer sits GC_DICT_PREFIX bytes before the header */
#define OBJF_FINALIZED 0x04 /* its finalizer ran or is queued: never again (PEP 442); see vm/gc.h */
/* 16, not 8: objects stay 16-byte aligned. */
#define GC_DICT_PREFIX 16
/* Bits 3..7: the allocator's size class (0: allocated with malloc). */
#define OBJF_SIZE_SHIFT 3

/* Comparison operators, in the order of the COMPARE_OP argument. */
typedef enum CmpOp { CMP_LT, CMP_LE, CMP_EQ, CMP_NE, CMP_GT, CMP_GE } CmpOp;

/* Binary and unary operators, shared by BINARY_OP and augmented assignment. */
typedef enum BinOp {
    BIN_ADD, BIN_SUB, BIN_MUL, BIN_TRUEDIV, BIN_FLOORDIV, BIN_MOD, BIN_POW,
    BIN_LSHIFT, BIN_RSHIFT, BIN_AND, BIN_OR, BIN_XOR, BIN_MATMUL,
    BIN_COUNT
} BinOp;
typedef enum UnOp { UN_NEG, UN_POS, UN_INVERT } UnOp;

struct ObjTuple;
struct ObjStr;
struct ObjDict;
struct Buffer;

/* Slot signatures. A Value-returning slot returns ERROR_VAL after raising
 * (the exception is on the thread); int-returning ones return -1. */
typedef Value (*UnaryFn)(TState *ts, Value self);
typedef Value (*BinaryFn)(TState *ts, Value a, Value b);
typedef Value (*RichCmpFn)(TState *ts, Value a, Value b, CmpOp op);
typedef Value (*BinOpFn)(TState *ts, BinOp op, Value a, Value b);
typedef Value (*UnOpFn)(TState *ts, UnOp op, Value a);
typedef int (*HashFn)(TState *ts, Value self, int64_t *out);
typedef int (*InquiryFn)(TState *ts, Value self);
typedef int64_t (*LenFn)(TState *ts, Value self);
typedef int (*ContainsFn)(TState *ts, Value self, Value item);
/* value EMPTY_VAL means delete. Returns 0, or -1 after raising. */
typedef int (*SetItemFn)(TState *ts, Value self, Value key, Value value);
typedef Value (*CallFn)(TState *ts, Value callee, Value *args, int nargs,
                        struct ObjTuple *kwnames);
typedef Value (*GetAttrFn)(TState *ts, Value self, struct ObjStr *name);
typedef int (*SetAttrFn)(TState *ts, Value self, struct ObjStr *name, Value value);
typedef Value (*NewFn)(TState *ts, struct ObjType *type, Value *args, int nargs,
                       struct ObjTuple *kwnames);
typedef void (*TraceFn)(GcMarker *m, Obj *self);
typedef void (*FinalizeFn)(Obj *self);
typedef void (*AfterForkFn)(Obj *self);
/* The buffer protocol (runtime/buffer.h): fill *view, 0 or -1 after raising. */
typedef int (*GetBufferFn)(TState *ts, Value self, struct Buffer *view, int flags);
typedef void (*ReleaseBufferFn)(TState *ts, struct Buffer *view);

#define TYPEF_BASETYPE 0x01  /* may be subclassed */
#define TYPEF_HEAPTYPE 0x02  /* a user class (class statement) */
#define TYPEF_EXCEPTION 0x04 /* BaseException or a subclass */
#define TYPEF_ABSTRACT 0x20    /* __abstractmethods__ is set and not empty: object() refuses it */
#define TYPEF_NO_DICT 0x10     /* a user class whose __slots__ leave its instances without __dict__ */
#define TYPEF_DICT_PREFIX 0x08 /* a user subclass of a built-in type whose layout has no dict field:
                                 instances get OBJF_DICT_PREFIX */
/* A sequence (mapping) for match's sequence (mapping) patterns, as CPython's
 * Py_TPFLAGS_SEQUENCE/MAPPING: deque, and the classes collections.abc's
 * Sequence (Mapping) derive or register; list, tuple, range and dict are
 * recognised by type. Inherited by subclasses. */
#define TYPEF_SEQUENCE 0x40
#define TYPEF_MAPPING 0x80

typedef struct ObjType {
    Obj obj;
    struct ObjStr *name;
    struct ObjType *base;         /* the base whose instance layout this type has */
    struct ObjDict *dict;         /* attributes and methods */
    struct ObjTuple *mro;         /* C3 linearization: this type, ..., object; never changes */
    struct ObjTuple *bases;       /* a user class's bases; NULL: (base,) */
    uint32_t id;                  /* unique per interpreter: inline caches */
    struct Interp *interp;        /* the interpreter the type belongs to (its type cache) */
    uint32_t flags;               /* TYPEF_* */
    uint8_t instance_kind;        /* ObjKind of instances */
    /* Set once a class names this one in its MRO: a dunder assigned here
     * must then re-derive the slots of subclasses too. */
    _Atomic uint8_t subclassed;
    uint16_t nslots;              /* __slots__ values after an ObjInstance's dict field */
    Value module;                 /* __module__ as str, or NONE_VAL */
    struct ObjStr *qualname;      /* a class's __qualname__ (not in its dict, as CPython); NULL: name */
    /* "module.name" for a built-in type of a module other than builtins,
     * made when a message first names it (ops_type_name), else NULL. */
    struct ObjStr *_Atomic full_name;
    /* What calling the class needs to know, remembered by class_construct
     * (runtime/class.c) under a type epoch; 0 until then. One word. */
    _Atomic uint64_t construct_memo;

    UnaryFn repr;
    UnaryFn str;
    HashFn hash;
    RichCmpFn richcmp;
    BinOpFn binop;                /* either operand may be of this type */
    BinOpFn inplace;              /* a op= b, a of this type (may mutate a); NotImplemented: binop */
    UnOpFn unop;
    InquiryFn truth;
    LenFn len;
    BinaryFn getitem;
    SetItemFn setitem;
    ContainsFn contains;
    UnaryFn iter;
    UnaryFn next;                 /* returns EMPTY_VAL when exhausted */
    CallFn call;
    GetAttrFn getattr;            /* NULL: the generic lookup */
    SetAttrFn setattr;
    NewFn new_;                   /* calling the type */
    TraceFn trace;
    FinalizeFn finalize;
    /* In a forked child, before anything runs: rebuild the OS-level state
     * (mutexes, condition variables) that a thread of the parent, gone in
     * the child, may have held or waited on. */
    AfterForkFn after_fork;
    GetBufferFn getbuffer;         /* bytes-like objects (runtime/buffer.h) */
    ReleaseBufferFn releasebuffer;
} ObjType;

/* A native function's signature: args[0..nargs) positional, then one value
 * per name in kwnames (NULL when there are none). Methods get self in
 * args[0]. Returns ERROR_VAL after raising. */
typedef Value (*NativeFn)(TState *ts, Value *args, int nargs, struct ObjTuple *kwnames);

typedef struct NativeDef {
    const char *name;
    NativeFn fn;
} NativeDef;

/* The per-object mutex that guards list/dict/set mutation when the GIL is
 * off: obj_lock and obj_unlock, inline in vm/interp.h. */
void obj_lock_contended(Obj *o);

#define OBJ_KIND(v) ((ObjKind)AS_OBJ(v)->kind)
#define IS_KIND(v, k) (IS_OBJ(v) && AS_OBJ(v)->kind == (k))
#define OBJ_TYPE(v) (AS_OBJ(v)->type)

#endif
