/* Built-in iterators: one object kind, a C step function and its state
 * (see iterator.h for what each step function keeps where).
 *
 * Sharing one iterator between threads is a race at the language level
 * (as in CPython) but must not crash: the state fields are read and
 * written with relaxed atomics, and every step re-validates positions
 * against the iterated object before using them. */
#include "runtime/iterator.h"

#include "runtime/args.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/int.h"
#include "runtime/list.h"
#include "runtime/set.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "vm/gc.h"
#include "vm/interp.h"

#define EXC(ts) (&(ts)->interp->exc)

static inline int64_t load_i(const int64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline void store_i(int64_t *p, int64_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }
static inline Value load_v(const Value *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
/* An exhausted iterator drops its source: it stays exhausted, and the
 * source can be collected. */
static inline Value exhausted(ObjIterator *it) {
    __atomic_store_n(&it->source, NONE_VAL, __ATOMIC_RELAXED);
    return EMPTY_VAL;
}

ObjIterator *iterator_new(TState *ts, const char *type_name, IterStepFn step, Value source, Value aux) {
    ObjIterator *it = (ObjIterator *)gc_alloc(ts, sizeof(ObjIterator), OBJ_ITERATOR, ts->interp->types.iterator);
    if (!it) return NULL;
    it->step = step;
    it->type_name = type_name;
    it->source = source;
    it->aux = aux;
    it->index = it->end = it->step_by = 0;
    return it;
}

/* ---- sequences -------------------------------------------------------------- */

/* Forwards (delta 1) or backwards (-1) over a list. */
static inline Value list_step(ObjIterator *it, int64_t delta) {
    Value src = load_v(&it->source);
    if (!IS_LIST(src)) return EMPTY_VAL;
    int64_t i = load_i(&it->index);
    /* Before the start, or past the current end (the list may have
     * shrunk): done. */
    Value v = i < 0 ? EMPTY_VAL : list_get(AS_LIST(src), (size_t)i);
    if (IS_EMPTY(v)) return exhausted(it);
    store_i(&it->index, i + delta);
    return v;
}

Value iter_list_step(TState *ts, ObjIterator *it) {
    (void)ts;
    return list_step(it, 1);
}

Value iter_list_reverse_step(TState *ts, ObjIterator *it) {
    (void)ts;
    return list_step(it, -1);
}

Value iter_tuple_step(TState *ts, ObjIterator *it) {
    (void)ts;
    Value src = load_v(&it->source);
    if (!IS_TUPLE(src)) return EMPTY_VAL;
    int64_t i = load_i(&it->index);
    ObjTuple *t = AS_TUPLE(src);
    if (i < 0 || (size_t)i >= t->len) return exhausted(it);
    store_i(&it->index, i + 1);
    return t->items[i];
}

Value iter_str_step(TState *ts, ObjIterator *it) {
    Value src = load_v(&it->source);
    if (!IS_STR(src)) return EMPTY_VAL;
    ObjStr *s = AS_STR(src);
    int64_t off = load_i(&it->index);
    if (off < 0 || (size_t)off >= s->len) return exhausted(it);
    size_t n = 1;
    if (!STR_IS_ASCII(s)) str_utf8_decode(s->data + off, s->len - (size_t)off, &n);
    ObjStr *c = str_new(ts, s->data + off, n);
    if (!c) return ERROR_VAL;
    store_i(&it->index, off + (int64_t)n);
    return OBJ_VAL(c);
}

/* ---- dicts and sets ------------------------------------------------------------- */

/* Moves to the next entry: 1 (in *k, *v), 0 at the end, -1 after raising
 * because the size changed since iteration began, or more items came than
 * the dict had (CPython's two checks). */
static int table_step(TState *ts, ObjIterator *it, ObjDict *d, bool backwards, Value *k, Value *v) {
    int64_t expect = load_i(&it->end);
    if ((int64_t)dict_len(d) != expect) {
        store_i(&it->end, -1); /* and every later call fails too */
        err_format(ts, EXC(ts)->RuntimeError, "dictionary changed size during iteration");
        return -1;
    }
    size_t pos = (size_t)load_i(&it->index);
    bool more = backwards ? dict_prev(d, &pos, k, v) : dict_next(d, &pos, k, v);
    if (!more) {
        exhausted(it);
        return 0;
    }
    store_i(&it->index, (int64_t)pos);
    int64_t left = load_i(&it->step_by);
    if (left <= 0) {
        err_format(ts, EXC(ts)->RuntimeError, "dictionary keys changed during iteration");
        return -1;
    }
    store_i(&it->step_by, left - 1);
    return 1;
}

/* What a dict iterator yields, by mode: 0 keys, 1 values, 2 items. */
static Value dict_step(TState *ts, ObjIterator *it, int mode, bool backwards) {
    Value src = load_v(&it->source);
    if (!IS_DICT(src)) return EMPTY_VAL;
    Value k, v;
    int r = table_step(ts, it, AS_DICT(src), backwards, &k, &v);
    if (r <= 0) return r < 0 ? ERROR_VAL : EMPTY_VAL;
    if (mode == 0) return k;
    if (mode == 1) return v;
    ObjTuple *t = tuple_pack2(ts, k, v);
    return t ? OBJ_VAL(t) : ERROR_VAL;
}

Value iter_dict_keys_step(TState *ts, ObjIterator *it) { return dict_step(ts, it, 0, false); }
Value iter_dict_values_step(TState *ts, ObjIterator *it) { return dict_step(ts, it, 1, false); }
Value iter_dict_items_step(TState *ts, ObjIterator *it) { return dict_step(ts, it, 2, false); }

Value iter_dict_reverse_step(TState *ts, ObjIterator *it) {
    Value mode = load_v(&it->aux);
    return dict_step(ts, it, IS_INT(mode) ? (int)AS_INT(mode) : 0, true);
}

Value iter_set_step(TState *ts, ObjIterator *it) {
    Value src = load_v(&it->source);
    if (!IS_SET(src)) return EMPTY_VAL;
    ObjSet *s = AS_SET(src);
    if ((int64_t)set_len(s) != load_i(&it->end)) {
        store_i(&it->end, -1); /* and every later call fails too */
        return err_format(ts, EXC(ts)->RuntimeError, "Set changed size during iteration");
    }
    size_t pos = (size_t)load_i(&it->index);
    Value k;
    if (!set_next(s, &pos, &k, NULL)) return exhausted(it);
    store_i(&it->index, (int64_t)pos);
    return k;
}

/* ---- range ---------------------------------------------------------------------- */

Value iter_range_step(TState *ts, ObjIterator *it) {
    int64_t left = load_i(&it->end);
    if (left <= 0) return EMPTY_VAL;
    int64_t v = load_i(&it->index);
    store_i(&it->end, left - 1);
    store_i(&it->index, (int64_t)((uint64_t)v + (uint64_t)load_i(&it->step_by)));
    return SMALL_INT_FITS(v) ? INT_VAL(v) : int_from_i64(ts, v);
}

/* ---- the iterator type ----------------------------------------------------------- */

static Value iterator_repr(TState *ts, Value self) {
    ObjStr *s = str_printf(ts, "<%s object at %p>", AS_ITERATOR(self)->type_name, (void *)AS_OBJ(self));
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static Value iterator_iter(TState *ts, Value self) {
    (void)ts;
    return self;
}

static Value iterator_next(TState *ts, Value self) {
    ObjIterator *it = AS_ITERATOR(self);
    return it->step(ts, it);
}

static void iterator_trace(GcMarker *m, Obj *self) {
    ObjIterator *it = (ObjIterator *)self;
    gc_mark_value(m, it->source);
    gc_mark_value(m, it->aux);
}

static size_t iterator_obj_size(Obj *self) {
    (void)self;
    return sizeof(ObjIterator);
}

static Value iterator_m_iter(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__iter__", nargs - 1, kwnames, 0, 0)) return ERROR_VAL;
    return args[0];
}

static Value iterator_m_next(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__next__", nargs - 1, kwnames, 0, 0)) return ERROR_VAL;
    Value v = iterator_next(ts, args[0]);
    if (IS_EMPTY(v)) return err_raise(ts, OBJ_VAL(EXC(ts)->StopIteration));
    return v;
}

static const NativeDef iterator_methods[] = {
    {"__iter__", iterator_m_iter},
    {"__next__", iterator_m_next},
    {NULL, NULL},
};

const TypeSpec iterator_type_spec = {
    .name = "iterator",
    .kind = OBJ_ITERATOR,
    .obj_size = iterator_obj_size,
    .repr = iterator_repr,
    .iter = iterator_iter,
    .next = iterator_next,
    .trace = iterator_trace,
    .methods = iterator_methods,
};
