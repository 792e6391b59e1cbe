/* The _functools module: the C half of functools (stdlib/functools.mini),
 * as CPython's module of the same name. It holds what is hot in user code:
 *
 * - reduce.
 * - partial: argument freezing, called wherever a callback is (key=,
 *   map, sorted). functools.mini subclasses it for its __dict__ and repr.
 * - _lru_cache_wrapper, the memoising callable behind lru_cache and cache.
 *   functools.mini subclasses it (so its instances get a __dict__ for
 *   update_wrapper's attributes) and builds it.
 *
 * The cache maps each call's key to a link of a circular recency list,
 * oldest first (an unbounded cache maps keys to results directly). The
 * dict is safe to share between threads by itself; the list and the
 * counters are guarded by the wrapper's lock, which is never held while
 * mini code runs (a key's __hash__ and __eq__, the user's function). So
 * with the GIL off two threads may both miss on one key and both call the
 * function, as in CPython; a link the dict no longer holds is evicted in
 * its turn, and the list never grows past maxsize. */

#include <stdlib.h>
#include <string.h>

#include "runtime/args.h"
#include "runtime/class.h"
#include "runtime/dict.h"
#include "runtime/module.h"
#include "runtime/error.h"
#include "runtime/function.h"
#include "runtime/int.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "vm/gc.h"
#include "stdlib/modules.h"
#include "vm/interp.h"
#include "vm/vm.h"

#define EXCS(ts) (&(ts)->interp->exc)

/* reduce(function, iterable[, initial]): the accumulator stays on the VM
 * stack (in its slot under the iterator) while the function runs. */
static Value functools_reduce(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (kwnames && kwnames->len) return err_format(ts, EXCS(ts)->TypeError, "reduce() takes no keyword arguments");
    if (nargs < 2) return err_format(ts, EXCS(ts)->TypeError, "reduce expected at least 2 arguments, got %d", nargs);
    if (nargs > 3) return err_format(ts, EXCS(ts)->TypeError, "reduce expected at most 3 arguments, got %d", nargs);
    Value it = ops_iter(ts, args[1]);
    if (IS_ERROR(it)) {
        if (!err_matches(ts, EXCS(ts)->TypeError)) return it;
        err_clear(ts);
        return err_format(ts, EXCS(ts)->TypeError, "reduce() arg 2 must support iteration");
    }
    vm_push(ts, it);
    Value acc = nargs == 3 ? args[2] : EMPTY_VAL;
    vm_push(ts, acc);
    for (;;) {
        Value x = ops_next(ts, it);
        if (IS_EMPTY(x)) break;
        if (IS_ERROR(x)) {
            acc = x;
            break;
        }
        if (IS_EMPTY(acc)) {
            acc = x;
        } else {
            vm_push(ts, x);
            Value pair[2] = {acc, x};
            acc = ops_call(ts, args[0], pair, 2, NULL);
            vm_pop(ts);
            if (IS_ERROR(acc)) break;
        }
        vm_pop(ts);
        vm_push(ts, acc);
    }
    vm_pop(ts);
    vm_pop(ts);
    if (IS_EMPTY(acc))
        return err_format(ts, EXCS(ts)->TypeError, "reduce() of empty iterable with no initial value");
    return acc;
}

/* ---- partial ------------------------------------------------------------------- */

typedef struct ObjPartial {
    Obj obj;
    Value func;
    ObjTuple *args;
    ObjDict *kw;
} ObjPartial;

#define PARTIAL(v) ((ObjPartial *)AS_OBJ(v))

static void partial_trace(GcMarker *m, Obj *self) {
    ObjPartial *p = (ObjPartial *)self;
    gc_mark_value(m, p->func);
    gc_mark_obj(m, (Obj *)p->args);
    gc_mark_obj(m, (Obj *)p->kw);
}

static size_t partial_size(Obj *self) {
    (void)self;
    return sizeof(ObjPartial);
}

static Value partial_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames);

/* A partial (of any subclass keeping partial's constructor) with no
 * attributes of its own is flattened into a new one, as in CPython. */
static bool flattens(Value func) {
    if (!IS_OBJ(func) || OBJ_TYPE(func)->new_ != partial_new) return false;
    Obj *o = AS_OBJ(func);
    ObjDict *d = (o->flags & OBJF_DICT_PREFIX) ? *(ObjDict **)((char *)o - GC_DICT_PREFIX) : NULL;
    return !d || dict_len(d) == 0;
}

static Value partial_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    if (nargs < 1) return err_format(ts, EXCS(ts)->TypeError, "type 'partial' takes at least one argument");
    Value func = args[0];
    if (!val_type(ts, func)->call) return err_format(ts, EXCS(ts)->TypeError, "the first argument must be callable");
    ObjTuple *inner_args = NULL;
    ObjDict *inner_kw = NULL;
    if (flattens(func)) {
        inner_args = PARTIAL(func)->args;
        inner_kw = PARTIAL(func)->kw;
        func = PARTIAL(func)->func;
    }
    size_t n0 = inner_args ? inner_args->len : 0;
    ObjTuple *frozen = tuple_new(ts, n0 + (size_t)(nargs - 1));
    if (!frozen) return ERROR_VAL;
    for (size_t i = 0; i < n0; i++) frozen->items[i] = inner_args->items[i];
    for (int i = 1; i < nargs; i++) frozen->items[n0 + (size_t)i - 1] = args[i];
    vm_push(ts, OBJ_VAL(frozen));
    ObjDict *kw = inner_kw ? dict_copy(ts, inner_kw) : dict_new(ts);
    Value r = ERROR_VAL;
    if (kw) {
        vm_push(ts, OBJ_VAL(kw));
        bool ok = true;
        for (size_t k = 0; ok && kwnames && k < kwnames->len; k++)
            ok = dict_set(ts, kw, kwnames->items[k], args[nargs + (int)k]) == 0;
        ObjPartial *p = ok ? (ObjPartial *)gc_alloc(ts, sizeof(ObjPartial), OBJ_OPAQUE, type) : NULL;
        if (p) {
            p->func = func;
            p->args = frozen;
            p->kw = kw;
            r = OBJ_VAL(p);
        }
        vm_pop(ts);
    }
    vm_pop(ts);
    return r;
}

static bool keyword_given(ObjTuple *kwnames, Value key) {
    for (size_t k = 0; kwnames && k < kwnames->len; k++)
        if (kwnames->items[k] == key || (IS_STR(key) && str_equal(AS_STR(kwnames->items[k]), AS_STR(key))))
            return true;
    return false;
}

/* func(*frozen, *args, **{**keywords, **kw}): one argument array, the
 * frozen keywords first unless the call gives them again. */
static Value partial_call(TState *ts, Value self, Value *args, int nargs, ObjTuple *kwnames) {
    ObjPartial *p = PARTIAL(self);
    size_t nfrozen = p->args->len, nkw = kwnames ? kwnames->len : 0, nstored = dict_len(p->kw);
    if (nfrozen == 0 && nstored == 0) return ops_call(ts, p->func, args, nargs, kwnames);
    size_t total = nfrozen + (size_t)nargs + nstored + nkw;
    Value small[16];
    Value *argv = total <= 16 ? small : malloc(total * sizeof(Value));
    if (!argv) return err_no_memory(ts);
    for (size_t i = 0; i < nfrozen; i++) argv[i] = p->args->items[i];
    for (int i = 0; i < nargs; i++) argv[nfrozen + (size_t)i] = args[i];
    size_t npos = nfrozen + (size_t)nargs, nk = 0;
    ObjTuple *names = kwnames;
    if (nstored) {
        /* The stored keywords the call does not give again, then the call's. */
        size_t pos = 0, kept = 0;
        Value key, value;
        while (dict_next(p->kw, &pos, &key, &value)) kept += !keyword_given(kwnames, key);
        names = tuple_new(ts, kept + nkw);
        if (!names) {
            if (argv != small) free(argv);
            return ERROR_VAL;
        }
        pos = 0;
        while (nk < kept && dict_next(p->kw, &pos, &key, &value)) {
            if (keyword_given(kwnames, key)) continue;
            names->items[nk] = key;
            argv[npos + nk++] = value;
        }
    }
    for (size_t k = 0; k < nkw; k++) {
        if (names != kwnames) names->items[nk + k] = kwnames->items[k];
        argv[npos + nk + k] = args[nargs + (int)k];
    }
    if (names) vm_push(ts, OBJ_VAL(names));
    Value r = ops_call(ts, p->func, argv, (int)npos, names && names->len ? names : NULL);
    if (names) vm_pop(ts);
    if (argv != small) free(argv);
    return r;
}

static Value partial_func(TState *ts, Value self) {
    (void)ts;
    return PARTIAL(self)->func;
}

static Value partial_args(TState *ts, Value self) {
    (void)ts;
    return OBJ_VAL(PARTIAL(self)->args);
}

static Value partial_keywords(TState *ts, Value self) {
    (void)ts;
    return OBJ_VAL(PARTIAL(self)->kw);
}

static const GetSetDef partial_getsets[] = {
    {"func", partial_func, NULL},
    {"args", partial_args, NULL},
    {"keywords", partial_keywords, NULL},
    {NULL, NULL, NULL},
};

static const TypeSpec partial_spec = {
    .name = "partial",
    .kind = OBJ_OPAQUE,
    .flags = TYPEF_BASETYPE,
    .obj_size = partial_size,
    .new_ = partial_new,
    .call = partial_call,
    .trace = partial_trace,
    .getsets = partial_getsets,
};

/* ---- _lru_cache_wrapper ------------------------------------------------------ */

typedef struct LruLink {
    Obj obj;
    struct LruLink *prev, *next; /* NULL once out of the list */
    Value key, result;
    int64_t hash;
} LruLink;

typedef struct ObjLru {
    Obj obj;
    Value func;
    Value cache_info_type;
    Value kwd_mark;     /* separates positional from keyword arguments in keys */
    ObjDict *cache;
    LruLink *root;      /* the list's sentinel */
    int64_t maxsize;    /* -1: unbounded */
    int64_t len;        /* links in the list */
    int64_t hits, misses;
    bool typed;
} ObjLru;

#define LRU(v) ((ObjLru *)AS_OBJ(v))

static void link_trace(GcMarker *m, Obj *self) {
    LruLink *l = (LruLink *)self;
    gc_mark_obj(m, (Obj *)l->prev);
    gc_mark_obj(m, (Obj *)l->next);
    gc_mark_value(m, l->key);
    gc_mark_value(m, l->result);
}

static size_t link_size(Obj *self) {
    (void)self;
    return sizeof(LruLink);
}

static void lru_trace(GcMarker *m, Obj *self) {
    ObjLru *w = (ObjLru *)self;
    gc_mark_value(m, w->func);
    gc_mark_value(m, w->cache_info_type);
    gc_mark_value(m, w->kwd_mark);
    gc_mark_obj(m, (Obj *)w->cache);
    gc_mark_obj(m, (Obj *)w->root);
}

static size_t lru_size(Obj *self) {
    (void)self;
    return sizeof(ObjLru);
}

static const TypeSpec lru_link_spec = {
    .name = "_lru_list_elem",
    .kind = OBJ_OPAQUE,
    .obj_size = link_size,
    .trace = link_trace,
};

static LruLink *link_new(TState *ts, ObjType *type) {
    LruLink *l = (LruLink *)gc_alloc(ts, sizeof(LruLink), OBJ_OPAQUE, type);
    if (!l) return NULL;
    l->prev = l->next = NULL;
    l->key = l->result = NONE_VAL;
    l->hash = 0;
    return l;
}

/* Under the wrapper's lock. */
static void link_unlink(LruLink *l) {
    l->prev->next = l->next;
    l->next->prev = l->prev;
    l->prev = l->next = NULL;
}

static void link_append(LruLink *root, LruLink *l) {
    l->prev = root->prev;
    l->next = root;
    root->prev->next = l;
    root->prev = l;
}

/* _lru_cache_wrapper(user_function, maxsize, typed, cache_info_type) */
static Value lru_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"user_function", "maxsize", "typed", "cache_info_type"};
    Value v[4];
    if (!args_bind(ts, "_lru_cache_wrapper", args, nargs, kwnames, names, 4, 4, 4, v)) return ERROR_VAL;
    if (!val_type(ts, v[0])->call) return err_format(ts, EXCS(ts)->TypeError, "the first argument must be callable");
    int64_t maxsize = -1;
    if (!IS_NONE(v[1])) {
        if (!IS_INT(v[1]) && !IS_BIGINT(v[1]) && !IS_BOOL(v[1]))
            return err_format(ts, EXCS(ts)->TypeError, "maxsize should be integer or None");
        if (!int_to_i64(v[1], &maxsize)) maxsize = INT64_MAX;
        if (maxsize < 0) maxsize = 0;
    }
    int typed = ops_truth(ts, v[2]);
    if (typed < 0) return ERROR_VAL;
    ObjType *link_type = module_type(ts, "_functools", "_lru_list_elem");
    if (!link_type) return ERROR_VAL;
    ObjDict *cache = dict_new(ts);
    if (!cache) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(cache));
    LruLink *root = link_new(ts, link_type);
    ObjLru *w = root ? (ObjLru *)gc_alloc(ts, sizeof(ObjLru), OBJ_OPAQUE, type) : NULL;
    vm_pop(ts);
    if (!w) return ERROR_VAL;
    root->prev = root->next = root;
    w->func = v[0];
    w->cache_info_type = v[3];
    /* The sentinel doubles as the keyword mark: no argument can be it. */
    w->kwd_mark = OBJ_VAL(root);
    w->cache = cache;
    w->root = root;
    w->maxsize = maxsize;
    w->len = 0;
    __atomic_store_n(&w->hits, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&w->misses, 0, __ATOMIC_RELAXED);
    w->typed = typed;
    return OBJ_VAL(w);
}
/* The cache key of a call, CPython's: the positional arguments, then the
 * mark and the keyword names and values, then (typed) the arguments'
 * types; a lone int or str argument is its own key. */
static Value lru_key(TState *ts, ObjLru *w, Value *args, int nargs, ObjTuple *kwnames) {
    int nkw = kwnames ? (int)kwnames->len : 0;
    if (nkw == 0 && !w->typed && nargs == 1) {
        Value a = args[0];
        if (IS_INT(a) || IS_BIGINT(a) || (IS_OBJ(a) && OBJ_TYPE(a) == ts->interp->types.str)) return a;
    }
    size_t n = (size_t)nargs + (nkw ? 1 + 2 * (size_t)nkw : 0);
    if (w->typed) n += (size_t)nargs + (size_t)nkw;
    ObjTuple *key = tuple_new(ts, n);
    if (!key) return ERROR_VAL;
    size_t k = 0;
    for (int i = 0; i < nargs; i++) key->items[k++] = args[i];
    if (nkw) {
        key->items[k++] = w->kwd_mark;
        for (int i = 0; i < nkw; i++) {
            key->items[k++] = kwnames->items[i];
            key->items[k++] = args[nargs + i];
        }
    }
    if (w->typed)
        for (int i = 0; i < nargs + nkw; i++) key->items[k++] = OBJ_VAL(val_type(ts, args[i]));
    return OBJ_VAL(key);
}

/* Drops the oldest links while the list is longer than maxsize. */
static bool lru_evict(TState *ts, ObjLru *w) {
    for (;;) {
        obj_lock(ts, &w->obj);
        LruLink *old = w->len > w->maxsize && w->root->next != w->root ? w->root->next : NULL;
        if (old) {
            link_unlink(old);
            w->len--;
        }
        obj_unlock(ts, &w->obj);
        if (!old) return true;
        /* Only if the dict still maps the key to this very link. */
        vm_push(ts, OBJ_VAL(old));
        Value cur = dict_get_hashed(ts, w->cache, old->key, old->hash);
        int r = cur == OBJ_VAL(old) ? dict_delete_hashed(ts, w->cache, old->key, old->hash, NULL) : 0;
        vm_pop(ts);
        if (IS_ERROR(cur) || r < 0) return false;
    }
}

static Value lru_call(TState *ts, Value self, Value *args, int nargs, ObjTuple *kwnames) {
    ObjLru *w = LRU(self);
    if (w->maxsize == 0) {
        __atomic_add_fetch(&w->misses, 1, __ATOMIC_RELAXED);
        return ops_call(ts, w->func, args, nargs, kwnames);
    }
    Value key = lru_key(ts, w, args, nargs, kwnames);
    if (IS_ERROR(key)) return key;
    vm_push(ts, key);
    int64_t hash;
    Value found = ops_hash(ts, key, &hash) < 0 ? ERROR_VAL : dict_get_hashed(ts, w->cache, key, hash);
    vm_pop(ts);
    if (IS_ERROR(found)) return found;
    if (!IS_EMPTY(found)) {
        if (w->maxsize < 0) {
            __atomic_add_fetch(&w->hits, 1, __ATOMIC_RELAXED);
            return found;
        }
        LruLink *l = (LruLink *)AS_OBJ(found);
        obj_lock(ts, &w->obj);
        /* A link evicted by another thread before this key's dict entry
         * was stored (GIL off) goes back in, so that it is evicted in
         * its turn. */
        bool relinked = !l->prev;
        if (l->prev) link_unlink(l);
        else w->len++;
        link_append(w->root, l);
        __atomic_add_fetch(&w->hits, 1, __ATOMIC_RELAXED);
        Value result = l->result;
        obj_unlock(ts, &w->obj);
        if (!relinked) return result;
        vm_push(ts, result);
        bool ok = lru_evict(ts, w);
        vm_pop(ts);
        return ok ? result : ERROR_VAL;
    }
    __atomic_add_fetch(&w->misses, 1, __ATOMIC_RELAXED);
    vm_push(ts, key);
    Value result = ops_call(ts, w->func, args, nargs, kwnames);
    if (IS_ERROR(result)) {
        vm_pop(ts);
        return result;
    }
    vm_push(ts, result);
    bool ok;
    if (w->maxsize < 0) {
        ok = dict_set_hashed(ts, w->cache, key, hash, result) == 0;
    } else {
        /* A call that ran meanwhile may have stored the key already. */
        Value again = dict_get_hashed(ts, w->cache, key, hash);
        ok = !IS_ERROR(again);
        if (ok && IS_EMPTY(again)) {
            LruLink *l = link_new(ts, w->root->obj.type);
            ok = l != NULL;
            if (ok) {
                l->key = key;
                l->result = result;
                l->hash = hash;
                vm_push(ts, OBJ_VAL(l));
                obj_lock(ts, &w->obj);
                link_append(w->root, l);
                w->len++;
                obj_unlock(ts, &w->obj);
                ok = dict_set_hashed(ts, w->cache, key, hash, OBJ_VAL(l)) == 0 && lru_evict(ts, w);
                vm_pop(ts);
            }
        }
    }
    vm_pop(ts);
    vm_pop(ts);
    return ok ? result : ERROR_VAL;
}

static Value lru_cache_info(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("cache_info", 0, 0);
    ObjLru *w = LRU(args[0]);
    Value info[4] = {
        int_from_i64(ts, __atomic_load_n(&w->hits, __ATOMIC_RELAXED)),
        int_from_i64(ts, __atomic_load_n(&w->misses, __ATOMIC_RELAXED)),
        w->maxsize < 0 ? NONE_VAL : int_from_i64(ts, w->maxsize),
        int_from_i64(ts, (int64_t)dict_len(w->cache)),
    };
    for (int i = 0; i < 4; i++)
        if (IS_ERROR(info[i])) return ERROR_VAL;
    return ops_call(ts, w->cache_info_type, info, 4, NULL);
}

static Value lru_cache_clear(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("cache_clear", 0, 0);
    ObjLru *w = LRU(args[0]);
    obj_lock(ts, &w->obj);
    /* Links other threads still hold must read as out of the list. */
    while (w->root->next != w->root) link_unlink(w->root->next);
    w->len = 0;
    __atomic_store_n(&w->hits, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&w->misses, 0, __ATOMIC_RELAXED);
    obj_unlock(ts, &w->obj);
    dict_clear(ts, w->cache);
    return NONE_VAL;
}

/* A method's cache: binds like a function. */
static Value lru_get(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__get__", 1, 2);
    if (IS_NONE(args[1])) return args[0];
    ObjBoundMethod *m = bound_method_new(ts, args[1], args[0]);
    return m ? OBJ_VAL(m) : ERROR_VAL;
}

static const NativeDef lru_methods[] = {
    {"cache_info", lru_cache_info},
    {"cache_clear", lru_cache_clear},
    {"__get__", lru_get},
    {NULL, NULL},
};

static const TypeSpec lru_spec = {
    .name = "_lru_cache_wrapper",
    .kind = OBJ_OPAQUE,
    .flags = TYPEF_BASETYPE,
    .obj_size = lru_size,
    .new_ = lru_new,
    .call = lru_call,
    .trace = lru_trace,
    .methods = lru_methods,
};

static bool add_type(TState *ts, ObjDict *ns, const TypeSpec *spec) {
    ObjType *t = type_from_spec(ts, spec, NULL);
    if (!t) return false;
    t->module = OBJ_VAL(str_intern_cstr(ts, "functools"));
    return dict_set_str(ts, ns, t->name, OBJ_VAL(t)) == 0;
}

bool mod_functools_init(TState *ts, ObjDict *ns) {
    ObjNative *fn = native_new(ts, "reduce", functools_reduce, NULL);
    return fn && dict_set_str(ts, ns, str_intern_cstr(ts, "reduce"), OBJ_VAL(fn)) == 0 &&
           add_type(ts, ns, &partial_spec) && add_type(ts, ns, &lru_spec) && add_type(ts, ns, &lru_link_spec);
}
