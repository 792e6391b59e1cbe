#ifndef MINI_RUNTIME_TYPES_H
#define MINI_RUNTIME_TYPES_H

/* Built-in types are described by constant TypeSpecs (no mutable global
 * state); types_init turns them into per-interpreter ObjType objects whose
 * dicts hold the methods as native functions. */

#include "runtime/dict.h"
#include "runtime/object.h"
#include "runtime/tuple.h"

typedef struct GetSetDef {
    const char *name;
    Value (*get)(TState *ts, Value self);
    int (*set)(TState *ts, Value self, Value value); /* NULL: read-only */
} GetSetDef;

typedef struct TypeSpec {
    const char *name;
    ObjKind kind;
    size_t (*obj_size)(Obj *self); /* bytes, for GC accounting */
    uint32_t flags;                /* TYPEF_* */
    UnaryFn repr;
    UnaryFn str;
    HashFn hash;
    RichCmpFn richcmp;
    BinOpFn binop;
    BinOpFn inplace;
    UnOpFn unop;
    InquiryFn truth;
    LenFn len;
    BinaryFn getitem;
    SetItemFn setitem;
    ContainsFn contains;
    UnaryFn iter;
    UnaryFn next;
    CallFn call;
    GetAttrFn getattr;
    SetAttrFn setattr;
    NewFn new_;
    TraceFn trace;
    FinalizeFn finalize;
    AfterForkFn after_fork;
    GetBufferFn getbuffer;
    ReleaseBufferFn releasebuffer;
    const NativeDef *methods;   /* NULL-terminated, or NULL */
    const NativeDef *classmethods;
    const GetSetDef *getsets;   /* NULL-terminated, or NULL */
} TypeSpec;

/* Creates every built-in type and exception type of the interpreter. */
void types_init(TState *ts);
/* Makes a type from a spec, deriving from base (NULL: object). */
ObjType *type_from_spec(TState *ts, const TypeSpec *spec, ObjType *base);
/* The type of an unboxed value (int, float, bool, None, ...). */
ObjType *val_type_unboxed(TState *ts, Value v);
/* The type of any value, including unboxed ones. Inline: the VM and the
 * generic operations ask it on every step. */
static inline ObjType *val_type(TState *ts, Value v) {
    return IS_OBJ(v) ? AS_OBJ(v)->type : val_type_unboxed(ts, v);
}
/* Is `type` `base` or a subclass of it? */
bool type_is_subtype(const ObjType *type, const ObjType *base);
/* Attribute lookup along the MRO, no descriptors applied: EMPTY_VAL if
 * absent. */
Value type_lookup(ObjType *type, struct ObjStr *name);
/* Where along the MRO type_lookup finds `name`, for caches: the MRO index
 * << 12 | the entry in that class's dict (false when absent or beyond what
 * 16 bits hold). The MRO tuple never changes, so the position names the
 * same class for as long as the cache's epoch says nothing changed. */
bool type_lookup_position(ObjType *type, struct ObjStr *name, uint32_t *out);
/* The value at such a position, or EMPTY_VAL when that entry no longer
 * holds `name` (the caller then looks it up again). Inline: the VM's
 * method calls ask it every time. */
static inline Value type_at_position(ObjType *type, struct ObjStr *name, uint32_t pos) {
    ObjTuple *mro = type->mro;
    if ((pos >> 12) >= mro->len) return EMPTY_VAL;
    ObjType *owner = (ObjType *)AS_OBJ(mro->items[pos >> 12]);
    if (!owner->dict) return EMPTY_VAL;
    return dict_cached_get(owner->dict, name, pos & 0xfff);
}

#endif
