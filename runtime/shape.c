/* Inline attribute values: see shape.h for the layout and its GIL-off
 * argument. */
#include "runtime/shape.h"

#include "runtime/dict.h"
#include "runtime/str.h"
#include "vm/interp.h"
#include "vm/thread.h"

static inline Value v_get(const Value *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void v_put(Value *p, Value v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline ObjDict *dict_of(ObjInstance *inst) { return __atomic_load_n(&inst->dict, __ATOMIC_ACQUIRE); }
static inline uint64_t key_bit(ObjStr *name) { return (uint64_t)1 << ((uint64_t)name->hash & 63); }

void shape_keys_init(ShapeKeys *keys) {
    atomic_init(&keys->len, 0);
    atomic_init(&keys->key_bits, 0);
    atomic_init(&keys->sized_first, false);
    for (int i = 0; i < MINI_SHAPE_MAX_KEYS; i++) atomic_init(&keys->names[i], NULL);
}

uint32_t shape_alloc_cap(ObjType *type) {
    ShapeKeys *keys = shape_keys_of(type);
    if (!keys) return 0;
    uint32_t n = atomic_load_explicit(&keys->len, memory_order_relaxed);
    /* The class's first instance, made before it knows any name, gets
     * room for all it may learn (as CPython sizes values by the whole
     * shared key table): it would otherwise need a dict, and call sites
     * that see it and later instances would switch between the two ways
     * of finding an attribute. Not every instance made before: a class
     * whose attributes are all set through __dict__ never learns any. */
    if (n == 0 && !atomic_load_explicit(&keys->sized_first, memory_order_relaxed) &&
        !atomic_exchange_explicit(&keys->sized_first, true, memory_order_relaxed))
        n = MINI_SHAPE_MAX_KEYS;
    else if (n < MINI_SHAPE_MIN_INLINE)
        n = MINI_SHAPE_MIN_INLINE;
    /* Objects are 16-byte blocks: an odd count of values pads anyway. */
    if ((type->nslots + n) % 2) n++;
    return n;
}

static bool same_name(ObjStr *k, ObjStr *name) {
    return k == name || (k->hash == name->hash && str_equal(k, name));
}

int shape_find(ShapeKeys *keys, ObjStr *name) {
    if (!(atomic_load_explicit(&keys->key_bits, memory_order_relaxed) & key_bit(name))) return -1;
    uint32_t n = atomic_load_explicit(&keys->len, memory_order_acquire);
    for (uint32_t i = 0; i < n; i++)
        if (same_name(atomic_load_explicit(&keys->names[i], memory_order_relaxed), name)) return (int)i;
    return -1;
}

/* The index of an interned name, added at the end if new: -1 when the
 * keys are full. Lock-free; see shape.h. */
static int key_index(ShapeKeys *keys, ObjStr *name) {
    atomic_fetch_or_explicit(&keys->key_bits, key_bit(name), memory_order_relaxed);
    for (;;) {
        uint32_t n = atomic_load_explicit(&keys->len, memory_order_acquire);
        for (uint32_t i = 0; i < n; i++)
            if (same_name(atomic_load_explicit(&keys->names[i], memory_order_relaxed), name)) return (int)i;
        if (n == MINI_SHAPE_MAX_KEYS) return -1;
        /* Acquire on failure too: a thread that publishes another's name
         * (below) has then seen it, so readers of the length see it. */
        ObjStr *seen = NULL;
        atomic_compare_exchange_strong_explicit(&keys->names[n], &seen, name, memory_order_acq_rel,
                                                memory_order_acquire);
        /* Whoever filled names[n], publish it (it may have been us). */
        uint32_t expect = n;
        atomic_compare_exchange_strong_explicit(&keys->len, &expect, n + 1, memory_order_release,
                                                memory_order_relaxed);
        if (!seen || seen == name) return (int)n;
    }
}

/* Is an inline value after index i set? Then adding i breaks the order. */
static bool later_present(ObjInstance *inst, uint32_t i) {
    Value *values = shape_values(inst);
    for (uint32_t j = i + 1; j < shape_cap(inst); j++)
        if (!IS_EMPTY(values[j])) return true;
    return false;
}

/* Publishes inst's dict, then clears the inline values it took over
 * (instance lock held): a reader that finds a value cleared then finds
 * the dict. */
static void publish_dict_locked(ObjInstance *inst, ObjDict *d) {
    __atomic_store_n(&inst->dict, d, __ATOMIC_RELEASE);
    Value *values = shape_values(inst);
    for (uint32_t i = 0; i < shape_cap(inst); i++) v_put(&values[i], EMPTY_VAL);
}

/* A fresh dict of the inline values, in their (key, so insertion) order
 * (instance lock held). NULL after raising MemoryError. */
static ObjDict *materialise_locked(TState *ts, ObjInstance *inst) {
    ObjDict *d = dict_new(ts);
    if (!d) return NULL;
    ShapeKeys *keys = shape_keys_of(inst->obj.type);
    Value *values = shape_values(inst);
    for (uint32_t i = 0; i < shape_cap(inst); i++) {
        Value v = values[i];
        /* A set value's name was published before the value was stored. */
        if (!IS_EMPTY(v) && dict_set_str(ts, d, atomic_load_explicit(&keys->names[i], memory_order_relaxed), v) < 0)
            return NULL;
    }
    return d;
}

ObjDict *shape_dict(TState *ts, ObjInstance *inst) {
    ObjDict *d = dict_of(inst);
    if (d) return d;
    obj_lock(ts, &inst->obj);
    d = inst->dict;
    if (!d && (d = materialise_locked(ts, inst))) publish_dict_locked(inst, d);
    obj_unlock(ts, &inst->obj);
    return d;
}

void shape_set_dict(TState *ts, ObjInstance *inst, ObjDict *d) {
    obj_lock(ts, &inst->obj);
    publish_dict_locked(inst, d);
    obj_unlock(ts, &inst->obj);
}

Value shape_get(ObjInstance *inst, ObjStr *name) {
    ObjDict *d = dict_of(inst);
    if (!d) {
        int i = shape_find(shape_keys_of(inst->obj.type), name);
        /* Not a key, or not inline here: absent, as the dict was NULL. */
        if (i < 0 || (uint32_t)i >= shape_cap(inst)) return EMPTY_VAL;
        Value v = v_get(&shape_values(inst)[i]);
        if (!IS_EMPTY(v)) return v;
        /* Unset, or cleared by a dict made meanwhile. */
        d = dict_of(inst);
        if (!d) return EMPTY_VAL;
    }
    return dict_may_have_hash(d, name->hash) ? dict_get_str(d, name) : EMPTY_VAL;
}

bool shape_has(ObjInstance *inst, ObjStr *name) { return !IS_EMPTY(shape_get(inst, name)); }

int shape_set(TState *ts, ObjInstance *inst, ObjStr *name, Value value) {
    ShapeKeys *keys = shape_keys_of(inst->obj.type);
    bool del = IS_EMPTY(value);
    obj_lock(ts, &inst->obj);
    ObjDict *d = inst->dict;
    if (!d) {
        /* Only interned names (immortal) join the keys. */
        int i = del || !(name->obj.aux & STR_INTERNED) ? shape_find(keys, name) : key_index(keys, name);
        Value *values = shape_values(inst);
        if (i >= 0 && (uint32_t)i < shape_cap(inst)) {
            Value old = values[i];
            if (del || !IS_EMPTY(old) || !later_present(inst, (uint32_t)i)) {
                v_put(&values[i], value);
                obj_unlock(ts, &inst->obj);
                return del && IS_EMPTY(old) ? 0 : 1;
            }
        } else if (del) {
            obj_unlock(ts, &inst->obj);
            return 0;
        }
        d = materialise_locked(ts, inst);
        if (!d) {
            obj_unlock(ts, &inst->obj);
            return -1;
        }
        publish_dict_locked(inst, d);
    }
    obj_unlock(ts, &inst->obj);
    if (del) return dict_delete(ts, d, OBJ_VAL(name));
    return dict_set_str(ts, d, name, value) < 0 ? -1 : 1;
}

bool shape_cached_set(TState *ts, ObjInstance *inst, uint32_t i, Value value) {
    obj_lock(ts, &inst->obj);
    Value *values = shape_values(inst);
    bool ok = !inst->dict && i < shape_cap(inst) && (!IS_EMPTY(values[i]) || !later_present(inst, i));
    if (ok) v_put(&values[i], value);
    obj_unlock(ts, &inst->obj);
    return ok;
}

bool shape_set_class(TState *ts, Obj *obj, ObjType *to) {
    thread_stop_world(ts);
    bool ok = true;
    if (obj->kind == OBJ_INSTANCE && shape_keys_of(obj->type)) ok = shape_dict(ts, (ObjInstance *)obj) != NULL;
    if (ok) obj->type = to;
    thread_resume_world(ts);
    return ok;
}
