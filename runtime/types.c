#include "runtime/types.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/class.h"
#include "runtime/complex.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/float.h"
#include "runtime/function.h"
#include "runtime/int.h"
#include "runtime/iterator.h"
#include "runtime/list.h"
#include "runtime/module.h"
#include "runtime/ops.h"
#include "runtime/range.h"
#include "runtime/set.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "runtime/file.h"
#include "runtime/coroutine.h"
#include "runtime/generator.h"
#include "vm/code.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/settrace.h"

extern const TypeSpec none_type_spec;
extern const TypeSpec not_implemented_type_spec;
extern const TypeSpec ellipsis_type_spec;
extern const TypeSpec lock_type_spec;
extern const TypeSpec dict_keys_type_spec;
extern const TypeSpec dict_values_type_spec;
extern const TypeSpec dict_items_type_spec;
extern const TypeSpec rlock_type_spec;
extern const TypeSpec bytes_type_spec;
extern const TypeSpec bytearray_type_spec;
extern const TypeSpec memoryview_type_spec;
extern const TypeSpec weakref_type_spec;

/* Allocates a type object and copies the spec's slots; name, dict and MRO
 * come later (finish_type), since during bootstrap the str, dict and tuple
 * types they need may not exist yet. */
static ObjType *alloc_type(TState *ts, const TypeSpec *spec, ObjType *base) {
    ObjType *t = (ObjType *)gc_alloc(ts, sizeof(ObjType), OBJ_TYPE, ts->interp->types.type);
    if (!t) return NULL;
    memset((char *)t + sizeof(Obj), 0, sizeof(ObjType) - sizeof(Obj));
    t->base = base;
    t->flags = spec->flags;
    t->instance_kind = (uint8_t)spec->kind;
    t->module = NONE_VAL;
    t->id = atomic_fetch_add(&ts->interp->next_type_id, 1) + 1;
    t->interp = ts->interp;
#define SLOT(s) t->s = spec->s ? spec->s : (base ? base->s : NULL)
    SLOT(repr);
    SLOT(str);
    SLOT(richcmp);
    SLOT(binop);
    SLOT(inplace);
    SLOT(unop);
    SLOT(truth);
    SLOT(len);
    SLOT(getitem);
    SLOT(setitem);
    SLOT(contains);
    SLOT(iter);
    SLOT(next);
    SLOT(call);
    SLOT(getattr);
    SLOT(setattr);
    SLOT(new_);
    SLOT(getbuffer);
    SLOT(releasebuffer);
#undef SLOT
    /* Tracing and finalizing depend on the object layout: inherit them
     * only from a base whose instances have the same layout. */
    bool same_layout = base && base->instance_kind == spec->kind;
    t->trace = spec->trace ? spec->trace : same_layout ? base->trace : NULL;
    t->finalize = spec->finalize ? spec->finalize : same_layout ? base->finalize : NULL;
    t->after_fork = spec->after_fork ? spec->after_fork : same_layout ? base->after_fork : NULL;
    /* As in Python, a type that defines equality but not hashing is
     * unhashable rather than inheriting identity hashing. */
    if (spec->hash) t->hash = spec->hash;
    else if (!spec->richcmp && base) t->hash = base->hash;
    return t;
}

static bool install_natives(TState *ts, ObjType *t, const NativeDef *defs, bool classmethods) {
    for (const NativeDef *d = defs; d && d->name; d++) {
        /* A classmethod receives the class, not an instance: no owner
         * check for it. */
        ObjNative *fn = native_new(ts, d->name, d->fn, classmethods ? NULL : t);
        if (!fn) return false;
        Value v = OBJ_VAL(fn);
        if (classmethods) {
            ObjWrapper *w = (ObjWrapper *)gc_alloc(ts, sizeof(ObjWrapper), OBJ_CLASSMETHOD,
                                                   ts->interp->types.classmethod);
            if (!w) return false;
            w->func = v;
            v = OBJ_VAL(w);
        }
        if (dict_set_str(ts, t->dict, str_intern_cstr(ts, d->name), v) < 0) return false;
    }
    return true;
}

static bool install_getsets(TState *ts, ObjType *t, const GetSetDef *defs) {
    for (const GetSetDef *d = defs; d && d->name; d++) {
        ObjProperty *p = (ObjProperty *)gc_alloc(ts, sizeof(ObjProperty), OBJ_PROPERTY,
                                                 ts->interp->types.property);
        if (!p) return false;
        p->fget = p->fset = p->fdel = p->doc = NONE_VAL;
        p->getset = d;
        p->name = NULL;
        p->getter_doc = false;
        if (dict_set_str(ts, t->dict, str_intern_cstr(ts, d->name), OBJ_VAL(p)) < 0) return false;
    }
    return true;
}

static bool build_mro(TState *ts, ObjType *t) {
    size_t n = 0;
    for (ObjType *b = t; b; b = b->base) n++;
    ObjTuple *mro = tuple_new(ts, n);
    if (!mro) return false;
    size_t i = 0;
    for (ObjType *b = t; b; b = b->base) mro->items[i++] = OBJ_VAL(b);
    t->mro = mro;
    return true;
}

/* T.__new__(cls, *args): the built-in allocation of the type, which a
 * user __new__ reaches through super().__new__(cls). */
static Value type_new_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (nargs < 1 || !IS_KIND(args[0], OBJ_TYPE))
        return err_format(ts, ts->interp->exc.TypeError, "__new__(X): X is not a type object");
    ObjType *cls = (ObjType *)AS_OBJ(args[0]);
    if (!cls->new_) return err_format(ts, ts->interp->exc.TypeError, "cannot create '%s' instances", ops_tp_name(ts, cls));
    return cls->new_(ts, cls, args + 1, nargs - 1, kwnames);
}

static bool install_new(TState *ts, ObjType *t) {
    ObjNative *fn = native_new(ts, "__new__", type_new_method, NULL);
    if (!fn) return false;
    ObjWrapper *w = (ObjWrapper *)gc_alloc(ts, sizeof(ObjWrapper), OBJ_STATICMETHOD,
                                           ts->interp->types.staticmethod);
    if (!w) return false;
    w->func = OBJ_VAL(fn);
    return dict_set_str(ts, t->dict, ts->interp->names.new_, OBJ_VAL(w)) == 0;
}

static bool finish_type(TState *ts, ObjType *t, const TypeSpec *spec) {
    t->name = str_intern_cstr(ts, spec->name);
    t->dict = dict_new(ts);
    if (!t->name || !t->dict || !build_mro(ts, t)) return false;
    if (spec->new_ && !install_new(ts, t)) return false;
    bool ok = install_natives(ts, t, spec->methods, false) && install_natives(ts, t, spec->classmethods, true) &&
              install_getsets(ts, t, spec->getsets);
    /* An unhashable type says so in its __dict__, as in CPython:
     * collections.abc.Hashable looks there. */
    if (ok && !t->hash && t->base) {
        ObjStr *hash = str_intern_cstr(ts, "__hash__");
        ok = hash && dict_set_str(ts, t->dict, hash, NONE_VAL) == 0;
    }
    /* Lookups cached while the type was being filled are stale now. */
    atomic_fetch_add(&ts->interp->type_epoch, 1);
    return ok;
}

ObjType *type_from_spec(TState *ts, const TypeSpec *spec, ObjType *base) {
    if (!base) base = ts->interp->types.object;
    ObjType *t = alloc_type(ts, spec, base);
    if (!t || !finish_type(ts, t, spec)) return NULL;
    return t;
}

typedef struct BuiltinEntry {
    size_t offset;   /* of the ObjType* field in BuiltinTypes */
    const TypeSpec *spec;
    size_t base_offset; /* field of the base type; object's own for none */
} BuiltinEntry;

#define FIELD(f) offsetof(BuiltinTypes, f)

/* Bootstrap order: object and type first, then everything else. */
static const BuiltinEntry builtin_entries[] = {
    {FIELD(object), &object_type_spec, (size_t)-1},
    {FIELD(type), &type_type_spec, FIELD(object)},
    {FIELD(str), &str_type_spec, FIELD(object)},
    {FIELD(bytes), &bytes_type_spec, FIELD(object)},
    {FIELD(bytearray), &bytearray_type_spec, FIELD(object)},
    {FIELD(memoryview), &memoryview_type_spec, FIELD(object)},
    {FIELD(dict), &dict_type_spec, FIELD(object)},
    {FIELD(tuple), &tuple_type_spec, FIELD(object)},
    {FIELD(int_), &int_type_spec, FIELD(object)},
    {FIELD(bool_), &bool_type_spec, FIELD(int_)},
    {FIELD(float_), &float_type_spec, FIELD(object)},
    {FIELD(none), &none_type_spec, FIELD(object)},
    {FIELD(list), &list_type_spec, FIELD(object)},
    {FIELD(set), &set_type_spec, FIELD(object)},
    {FIELD(frozenset), &frozenset_type_spec, FIELD(object)},
    {FIELD(range), &range_type_spec, FIELD(object)},
    {FIELD(slice), &slice_type_spec, FIELD(object)},
    {FIELD(code), &code_type_spec, FIELD(object)},
    {FIELD(function), &function_type_spec, FIELD(object)},
    {FIELD(cell), &cell_type_spec, FIELD(object)},
    {FIELD(native), &native_type_spec, FIELD(object)},
    {FIELD(bound_method), &bound_method_type_spec, FIELD(object)},
    {FIELD(module), &module_type_spec, FIELD(object)},
    {FIELD(generator), &generator_type_spec, FIELD(object)},
    {FIELD(coroutine), &coroutine_type_spec, FIELD(object)},
    {FIELD(coroutine_wrapper), &coroutine_wrapper_type_spec, FIELD(object)},
    {FIELD(async_generator), &async_generator_type_spec, FIELD(object)},
    {FIELD(async_generator_asend), &async_generator_asend_type_spec, FIELD(object)},
    {FIELD(async_generator_athrow), &async_generator_athrow_type_spec, FIELD(object)},
    {FIELD(anext_awaitable), &anext_awaitable_type_spec, FIELD(object)},
    {FIELD(iterator), &iterator_type_spec, FIELD(object)},
    {FIELD(traceback), &traceback_type_spec, FIELD(object)},
    {FIELD(frame), &frame_type_spec, FIELD(object)},
    {FIELD(property), &property_type_spec, FIELD(object)},
    {FIELD(staticmethod), &staticmethod_type_spec, FIELD(object)},
    {FIELD(classmethod), &classmethod_type_spec, FIELD(object)},
    {FIELD(super), &super_type_spec, FIELD(object)},
    {FIELD(file), &file_type_spec, FIELD(object)},
    {FIELD(not_implemented), &not_implemented_type_spec, FIELD(object)},
    {FIELD(ellipsis), &ellipsis_type_spec, FIELD(object)},
    {FIELD(dict_keys), &dict_keys_type_spec, FIELD(object)},
    {FIELD(dict_values), &dict_values_type_spec, FIELD(object)},
    {FIELD(dict_items), &dict_items_type_spec, FIELD(object)},
    {FIELD(lock), &lock_type_spec, FIELD(object)},
    {FIELD(rlock), &rlock_type_spec, FIELD(object)},
    {FIELD(member), &member_type_spec, FIELD(object)},
    {FIELD(complex), &complex_type_spec, FIELD(object)},
    {FIELD(weakref), &weakref_type_spec, FIELD(object)},
};

#define TYPE_FIELD(types, off) ((ObjType **)((char *)(types) + (off)))

void types_init(TState *ts) {
    BuiltinTypes *types = &ts->interp->types;
    size_t n = sizeof builtin_entries / sizeof builtin_entries[0];
    for (size_t i = 0; i < n; i++) {
        const BuiltinEntry *e = &builtin_entries[i];
        ObjType *base = e->base_offset == (size_t)-1 ? NULL : *TYPE_FIELD(types, e->base_offset);
        ObjType *t = alloc_type(ts, e->spec, base);
        if (!t) abort(); /* out of memory before the interpreter exists */
        *TYPE_FIELD(types, e->offset) = t;
    }
    /* object and type were allocated before `type` existed. */
    types->object->obj.type = types->type;
    types->type->obj.type = types->type;
    str_init_interned(ts);
    for (size_t i = 0; i < n; i++) {
        if (!finish_type(ts, *TYPE_FIELD(types, builtin_entries[i].offset), builtin_entries[i].spec))
            abort();
    }
    err_init_types(ts);
}

ObjType *val_type_unboxed(TState *ts, Value v) {
    BuiltinTypes *types = &ts->interp->types;
    if (IS_INT(v)) return types->int_;
    if (IS_FLOAT(v)) return types->float_;
    if (IS_BOOL(v)) return types->bool_;
    if (IS_NONE(v)) return types->none;
    if (v == NOT_IMPLEMENTED_VAL) return types->not_implemented;
    return types->ellipsis;
}

/* Both walk the MRO tuple; only during bootstrap, before a type has its
 * MRO, do they follow the single-base chain. */
bool type_is_subtype(const ObjType *type, const ObjType *base) {
    if (type == base) return true;
    if (!type->mro) {
        for (const ObjType *t = type->base; t; t = t->base)
            if (t == base) return true;
        return false;
    }
    ObjTuple *mro = type->mro;
    for (size_t i = 1; i < mro->len; i++)
        if (AS_OBJ(mro->items[i]) == (const Obj *)base) return true;
    return false;
}

static Value mro_lookup(ObjTuple *mro, ObjStr *name) {
    for (size_t i = 0; i < mro->len; i++) {
        ObjType *t = AS_TYPE(mro->items[i]);
        if (!t->dict) continue;
        Value v = dict_get_str(t->dict, name);
        if (!IS_EMPTY(v)) return v;
    }
    return EMPTY_VAL;
}

/* The MRO walk goes through the interpreter's type cache: an entry holds
 * (type id, epoch, name) -> result, absent included. Type ids are never
 * reused and names are interned (immortal), and every change to a class
 * after its creation bumps the epoch, so an entry that matches is the walk's
 * current answer. */
Value type_lookup(ObjType *type, ObjStr *name) {
    if (!type->mro) {
        for (ObjType *t = type; t; t = t->base) {
            if (!t->dict) continue;
            Value v = dict_get_str(t->dict, name);
            if (!IS_EMPTY(v)) return v;
        }
        return EMPTY_VAL;
    }
    Interp *interp = type->interp;
    uint32_t epoch = atomic_load_explicit(&interp->type_epoch, memory_order_acquire);
    size_t h = ((size_t)type->id * 2654435761u ^ ((uintptr_t)name >> 4)) & (MINI_TYPE_CACHE_SIZE - 1);
    TypeCacheEntry *e = &interp->type_cache[h];
    uint32_t seq = atomic_load_explicit(&e->seq, memory_order_acquire);
    if (!(seq & 1)) {
        uint32_t id = __atomic_load_n(&e->type_id, __ATOMIC_RELAXED);
        uint32_t ep = __atomic_load_n(&e->epoch, __ATOMIC_RELAXED);
        ObjStr *nm = __atomic_load_n(&e->name, __ATOMIC_RELAXED);
        Value v = __atomic_load_n(&e->value, __ATOMIC_RELAXED);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&e->seq, memory_order_relaxed) == seq && id == type->id && ep == epoch && nm == name)
            return v;
    }
    Value v = mro_lookup(type->mro, name);
    /* Fill the entry unless another thread is filling it. */
    if (!(seq & 1) && atomic_compare_exchange_strong_explicit(&e->seq, &seq, seq + 1, memory_order_acquire,
                                                              memory_order_relaxed)) {
        atomic_thread_fence(memory_order_release);
        __atomic_store_n(&e->type_id, type->id, __ATOMIC_RELAXED);
        __atomic_store_n(&e->epoch, epoch, __ATOMIC_RELAXED);
        __atomic_store_n(&e->name, name, __ATOMIC_RELAXED);
        __atomic_store_n(&e->value, v, __ATOMIC_RELAXED);
        atomic_store_explicit(&e->seq, seq + 2, memory_order_release);
    }
    return v;
}

bool type_lookup_position(ObjType *type, ObjStr *name, uint32_t *out) {
    ObjTuple *mro = type->mro;
    for (uint32_t i = 0; mro && i < mro->len && i < 16; i++) {
        ObjType *t = AS_TYPE(mro->items[i]);
        if (!t->dict) continue;
        int64_t idx = dict_find_str_index(t->dict, name);
        if (idx >= 0) {
            if (idx >= 4096) return false;
            *out = i << 12 | (uint32_t)idx;
            return true;
        }
    }
    return false;
}
