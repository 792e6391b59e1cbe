#ifndef MINI_RUNTIME_SHAPE_H
#define MINI_RUNTIME_SHAPE_H

/* Inline attribute values of user class instances (CPython 3.11's shared
 * keys with inline values).
 *
 * Layout. An instance of a user class with a __dict__ is its ObjInstance
 * header, its __slots__ values, then `cap` inline values (cap in Obj.aux,
 * fixed at allocation). The class owns a ShapeKeys: the attribute names
 * its instances have stored, in the order first stored, append-only (a
 * name never changes index or leaves). Inline value i is the attribute
 * keys->names[i]; EMPTY_VAL means unset. An instance's attributes are in
 * its inline values while its dict pointer is NULL; once a dict exists
 * (someone asked for __dict__, an attribute did not fit, was added out of
 * the class's key order, or its name is not interned), every attribute
 * is in that dict for good and the inline values are all EMPTY_VAL.
 * Insertion order: the present inline values are always in key order
 * (an addition that would break it makes the dict instead), so the dict
 * made from them has CPython's order.
 *
 * GIL off. Values are single words stored with release and loaded with
 * acquire, so a reader sees an old or a new value, whole. Keys are
 * appended lock-free (compare-and-swap on the next name, then on the
 * length; a name is visible only below the length), so index i always
 * names the same attribute: a reader never finds a value under the wrong
 * name. Every write to an instance's inline values or dict pointer holds
 * the instance's object lock (a no-op with the GIL on), and making the
 * dict copies the values, publishes the dict, then clears the values, all
 * under that lock: a store either lands before the copy or sees the dict,
 * so no attribute is lost. Readers take no lock: one that finds a value
 * EMPTY_VAL reloads the dict pointer (the clearing stores were release,
 * so a cleared value implies the published dict is visible). The lock is
 * never held across mini code; making the dict allocates under it. */

#include <stdbool.h>
#include <stdint.h>

#include "runtime/class.h"
#include "runtime/str.h"
#include "vm/config.h"

struct ObjDict;

typedef struct ShapeKeys {
    _Atomic uint32_t len;
    /* Bit (hash & 63) of every name: a name whose bit is clear is surely
     * absent (the cached method call's shadowing test). */
    _Atomic uint64_t key_bits;
    _Atomic bool sized_first; /* the first instance was made (shape_alloc_cap) */
    ObjStr *_Atomic names[MINI_SHAPE_MAX_KEYS];
} ShapeKeys;

/* The bytes a user class's type object carries after its ObjType for
 * its keys (class_new), and their initialisation. */
#define SHAPE_KEYS_BYTES sizeof(ShapeKeys)
void shape_keys_init(ShapeKeys *keys);

/* The keys of a class whose instances have inline values, else NULL. */
static inline ShapeKeys *shape_keys_of(ObjType *type) {
    return (type->flags & (TYPEF_HEAPTYPE | TYPEF_NO_DICT)) == TYPEF_HEAPTYPE && type->instance_kind == OBJ_INSTANCE
               ? (ShapeKeys *)(type + 1)
               : NULL;
}

/* The inline values of such an instance, and how many it has. */
static inline Value *shape_values(ObjInstance *inst) { return instance_slots(inst) + inst->obj.type->nslots; }
static inline uint32_t shape_cap(ObjInstance *inst) { return inst->obj.aux; }

/* How many inline values a new instance of `type` gets. */
uint32_t shape_alloc_cap(ObjType *type);

/* The index of a name in the keys, or -1. */
int shape_find(ShapeKeys *keys, ObjStr *name);

/* The attribute `name` of inst (a user class instance with keys):
 * EMPTY_VAL when absent. Takes no lock. */
Value shape_get(ObjInstance *inst, ObjStr *name);
/* Stores (value EMPTY_VAL: deletes) attribute `name`. 1 done, 0 absent
 * (a delete of a missing name: nothing raised), -1 after raising. */
int shape_set(TState *ts, ObjInstance *inst, ObjStr *name, Value value);
/* inst.__dict__: the dict, made from the inline values on first use.
 * NULL after raising MemoryError. */
struct ObjDict *shape_dict(TState *ts, ObjInstance *inst);
/* inst.__dict__ = d. */
void shape_set_dict(TState *ts, ObjInstance *inst, struct ObjDict *d);

/* obj.__class__ = to (layouts checked by the caller). With the world
 * stopped, as every thread reads an object's type without a lock: an
 * instance with inline values first moves them to its dict (they are
 * keyed by its old class). False after raising MemoryError. */
bool shape_set_class(TState *ts, Obj *obj, ObjType *to);

/* For the VM's inline caches. The value at index i if inst keeps it
 * inline (EMPTY_VAL otherwise: the caller takes the slow path). */
static inline Value shape_cached_get(ObjInstance *inst, uint32_t i) {
    return i < shape_cap(inst) ? __atomic_load_n(&shape_values(inst)[i], __ATOMIC_ACQUIRE) : EMPTY_VAL;
}
/* Stores at index i (the key of `name` in inst's class) when that keeps
 * the layout: false, nothing stored, when the slow path must decide. */
bool shape_cached_set(TState *ts, ObjInstance *inst, uint32_t i, Value value);
/* Whether inst has an attribute `name` (a method call's shadowing test).
 * shape_may_have is the inline first step, false when it surely has not:
 * without a dict, a name whose bit is clear in the keys is not inline. */
static inline bool shape_may_have(ObjInstance *inst, ShapeKeys *keys, ObjStr *name) {
    return __atomic_load_n(&inst->dict, __ATOMIC_ACQUIRE) ||
           (atomic_load_explicit(&keys->key_bits, memory_order_relaxed) & ((uint64_t)1 << ((uint64_t)name->hash & 63)));
}
bool shape_has(ObjInstance *inst, ObjStr *name);

#endif
