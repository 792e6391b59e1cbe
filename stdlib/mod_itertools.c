/* The itertools module, as CPython 3.11's C module of the same name.
 *
 * - One object layout, ObjIt, serves every iterator type: a few traced
 *   values, a few counters and (for the combinatoric ones) an index array.
 *   Each type's comment says what it keeps where; one trace and one
 *   finalizer serve all of them.
 * - Every type is lazy: construction only takes iter() of its arguments
 *   (product, permutations and the combinations take tuple() of them, as
 *   CPython does), and each __next__ does one step.
 * - GC: a step that runs mini code (ops_next on a generator, a key
 *   function) keeps the values it still needs on the VM stack; everything
 *   else lives in the iterator object, which its caller roots.
 * - GIL off: sharing one iterator between threads is a race at the language
 *   level (as in CPython) but never a crash. Counters are relaxed atomics,
 *   values are stored with release and loaded with acquire. The
 *   combinatoric iterators run no mini code in a step, so they hold their
 *   own lock for the whole step. tee's shared
 *   buffer has one lock per tee family (on its _tee_source), held only
 *   while no mini code runs; a thread finding another thread fetching from
 *   the source waits for it while that thread runs, and otherwise (the
 *   fetcher blocked, or the same thread re-entering) raises CPython's
 *   RuntimeError. */

#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/args.h"
#include "runtime/class.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/function.h"
#include "runtime/int.h"
#include "runtime/list.h"
#include "runtime/module.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/strbuf.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "stdlib/modules.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/thread.h"
#include "vm/vm.h"

#define EXCS(ts) (&(ts)->interp->exc)
/* Long C-only loops (islice skipping, dropwhile) reach a safepoint this
 * often, so a GC or GIL hand-off is never held up for long. */
#define IT_SAFEPOINT_MASK 0xFFFu
/* Items per tee buffer block: CPython's LINKCELLS. */
#define TEE_BLOCK 57

typedef struct ObjIt {
    Obj obj;
    Value src;         /* the source iterator, NONE_VAL once exhausted */
    Value fn;          /* a function, a fill value, a pool tuple */
    Value a, b, c, d;  /* per-type state */
    Value helper;      /* the type of the objects it makes (groupby's _grouper) */
    int64_t i, j, k, n;
    int64_t *idx;      /* combinatorics: indices then cycles (malloc'd) */
} ObjIt;

typedef struct TeeBlock {
    Obj obj;
    struct TeeBlock *next;
    int64_t count;        /* items filled */
    Value items[TEE_BLOCK];
} TeeBlock;

static inline int64_t load_i(const int64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline void store_i(int64_t *p, int64_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }
/* Values are published (release) and read (acquire): another thread may
 * load an object this one just made (ARCHITECTURE.md, "Publication"). */
static inline Value load_v(const Value *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void store_v(Value *p, Value v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

#define IT(v) ((ObjIt *)AS_OBJ(v))

static void it_trace(GcMarker *m, Obj *self) {
    ObjIt *it = (ObjIt *)self;
    gc_mark_value(m, it->src);
    gc_mark_value(m, it->fn);
    gc_mark_value(m, it->a);
    gc_mark_value(m, it->b);
    gc_mark_value(m, it->c);
    gc_mark_value(m, it->d);
    gc_mark_value(m, it->helper);
}

static void it_finalize(Obj *self) { free(((ObjIt *)self)->idx); }

static size_t it_size(Obj *self) {
    (void)self;
    return sizeof(ObjIt);
}

static Value it_self(TState *ts, Value self) {
    (void)ts;
    return self;
}

static ObjIt *it_new(TState *ts, ObjType *type, Value src) {
    ObjIt *it = (ObjIt *)gc_alloc(ts, sizeof(ObjIt), OBJ_OPAQUE, type);
    if (!it) return NULL;
    it->src = src;
    it->fn = it->a = it->b = it->c = it->d = it->helper = NONE_VAL;
    it->i = it->j = it->k = it->n = 0;
    it->idx = NULL;
    return it;
}

static Value it_value(ObjIt *it) { return it ? OBJ_VAL(it) : ERROR_VAL; }

/* "NAME expected N arguments, got M" and friends, for the types whose
 * CPython constructors take positional arguments only. */
static bool positional_only(TState *ts, const char *name, int nargs, ObjTuple *kwnames, int min, int max) {
    if (kwnames && kwnames->len) {
        err_format(ts, EXCS(ts)->TypeError, "%s() takes no keyword arguments", name);
        return false;
    }
    if (nargs >= min && nargs <= max) return true;
    if (min == max)
        err_format(ts, EXCS(ts)->TypeError, "%s expected %d argument%s, got %d", name, min, min == 1 ? "" : "s",
                   nargs);
    else if (nargs < min)
        err_format(ts, EXCS(ts)->TypeError, "%s expected at least %d argument%s, got %d", name, min,
                   min == 1 ? "" : "s", nargs);
    else
        err_format(ts, EXCS(ts)->TypeError, "%s expected at most %d argument%s, got %d", name, max,
                   max == 1 ? "" : "s", nargs);
    return false;
}

/* NAME(repr(v0), repr(v1)...): the reprs of count and repeat (NAME: the
 * type's, a subclass's included, as CPython's). */
static Value call_repr(TState *ts, const char *name, const Value *vals, int n, int64_t times) {
    StrBuf sb;
    sb_init(&sb);
    bool ok = sb_append_cstr(&sb, name) && sb_append_char(&sb, '(');
    for (int i = 0; ok && i < n; i++) {
        if (i) ok = sb_append_cstr(&sb, ", ");
        Value r = ok ? ops_repr(ts, vals[i]) : ERROR_VAL;
        if (IS_ERROR(r)) {
            sb_free(&sb);
            return ERROR_VAL;
        }
        ok = sb_append(&sb, AS_STR(r)->data, AS_STR(r)->len);
    }
    if (ok && times >= 0) ok = sb_appendf(&sb, ", %lld", (long long)times);
    ok = ok && sb_append_char(&sb, ')');
    if (!ok) {
        sb_free(&sb);
        return err_no_memory(ts);
    }
    ObjStr *s = str_from_sb(ts, &sb);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

/* The source is exhausted: drop it, so the iterator stays exhausted. */
static Value finished(ObjIt *it) {
    store_v(&it->src, NONE_VAL);
    return EMPTY_VAL;
}

/* ---- count(start=0, step=1): a = the next value, fn = step --------------- */

static bool is_number(TState *ts, Value v) {
    if (IS_INT(v) || IS_FLOAT(v) || IS_BOOL(v) || IS_BIGINT(v) || IS_KIND(v, OBJ_COMPLEX) ||
        IS_KIND(v, OBJ_FLOAT))
        return true;
    ObjType *t = val_type(ts, v);
    static const char *const hooks[] = {"__index__", "__int__", "__float__", "__complex__"};
    for (size_t i = 0; i < sizeof hooks / sizeof *hooks; i++)
        if (!IS_EMPTY(type_lookup(t, str_intern_cstr(ts, hooks[i])))) return true;
    return false;
}

static Value count_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"start", "step"};
    Value v[2];
    if (!args_bind(ts, "count", args, nargs, kwnames, names, 2, 0, 2, v)) return ERROR_VAL;
    Value start = IS_EMPTY(v[0]) ? INT_VAL(0) : v[0];
    Value step = IS_EMPTY(v[1]) ? INT_VAL(1) : v[1];
    if (!is_number(ts, start) || !is_number(ts, step))
        return err_format(ts, EXCS(ts)->TypeError, "a number is required");
    ObjIt *it = it_new(ts, type, NONE_VAL);
    if (it) {
        it->a = start;
        it->fn = step;
    }
    return it_value(it);
}

static Value count_next(TState *ts, Value self) {
    ObjIt *it = IT(self);
    Value cur = load_v(&it->a), step = load_v(&it->fn);
    Value next;
    if (IS_INT(cur) && IS_INT(step)) {
        next = int_from_i64(ts, AS_INT(cur) + AS_INT(step));
    } else {
        vm_push(ts, cur);
        next = ops_binary(ts, BIN_ADD, cur, step);
        vm_pop(ts);
    }
    if (IS_ERROR(next)) return next;
    store_v(&it->a, next);
    return cur;
}

static Value count_repr(TState *ts, Value self) {
    ObjIt *it = IT(self);
    Value vals[2] = {load_v(&it->a), it->fn};
    bool unit_step = (IS_INT(it->fn) && AS_INT(it->fn) == 1) || (IS_BOOL(it->fn) && AS_BOOL(it->fn));
    return call_repr(ts, OBJ_TYPE(self)->name->data, vals, unit_step ? 1 : 2, -1);
}

/* ---- cycle(iterable): a = the saved items, i = replaying, j = position --- */

static Value cycle_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    if (!positional_only(ts, "cycle", nargs, kwnames, 1, 1)) return ERROR_VAL;
    Value src = ops_iter(ts, args[0]);
    if (IS_ERROR(src)) return src;
    vm_push(ts, src);
    ObjList *saved = list_new(ts, 0);
    ObjIt *it = NULL;
    if (saved) {
        vm_push(ts, OBJ_VAL(saved));
        it = it_new(ts, type, src);
        if (it) it->a = OBJ_VAL(saved);
        vm_pop(ts);
    }
    vm_pop(ts);
    return it_value(it);
}

static Value cycle_next(TState *ts, Value self) {
    ObjIt *it = IT(self);
    ObjList *saved = AS_LIST(it->a);
    if (!load_i(&it->i)) {
        Value src = load_v(&it->src);
        Value v = IS_NONE(src) ? EMPTY_VAL : ops_next(ts, src);
        if (IS_ERROR(v)) return v;
        if (!IS_EMPTY(v)) return list_append(ts, saved, v) < 0 ? ERROR_VAL : v;
        finished(it);
        store_i(&it->i, 1);
    }
    size_t n = list_len(saved);
    if (n == 0) return EMPTY_VAL;
    int64_t pos = load_i(&it->j);
    if (pos < 0 || (size_t)pos >= n) pos = 0;
    store_i(&it->j, (size_t)pos + 1 >= n ? 0 : pos + 1);
    return list_get(saved, (size_t)pos);
}

/* ---- repeat(object[, times]): a = the object, i = times left (-1: ever) -- */

static Value repeat_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"object", "times"};
    Value v[2];
    if (!args_bind(ts, "repeat", args, nargs, kwnames, names, 2, 1, 2, v)) return ERROR_VAL;
    int64_t times = -1;
    if (!IS_EMPTY(v[1])) {
        if (!args_int(ts, v[1], &times)) return ERROR_VAL;
        if (times < 0) times = 0;
    }
    ObjIt *it = it_new(ts, type, NONE_VAL);
    if (it) {
        it->a = v[0];
        it->i = times;
    }
    return it_value(it);
}

static Value repeat_next(TState *ts, Value self) {
    (void)ts;
    ObjIt *it = IT(self);
    int64_t left = load_i(&it->i);
    do {
        if (left == 0) return EMPTY_VAL;
        if (left < 0) return it->a;
    } while (!__atomic_compare_exchange_n(&it->i, &left, left - 1, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    return it->a;
}

static Value repeat_repr(TState *ts, Value self) {
    ObjIt *it = IT(self);
    return call_repr(ts, OBJ_TYPE(self)->name->data, &it->a, 1, load_i(&it->i));
}

static Value repeat_length_hint(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__length_hint__", 0, 0);
    int64_t left = load_i(&IT(args[0])->i);
    if (left < 0) return err_format(ts, EXCS(ts)->TypeError, "len() of unsized object");
    return INT_VAL(left);
}

/* ---- accumulate(iterable, func=None, *, initial=None) --------------------
 * fn = func or None, a = the running total (EMPTY before the first item),
 * b = the initial value still to yield (EMPTY when none). */

static Value accumulate_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"iterable", "func", "initial"};
    Value v[3];
    if (!args_bind(ts, "accumulate", args, nargs, kwnames, names, 3, 1, 2, v)) return ERROR_VAL;
    Value src = ops_iter(ts, v[0]);
    if (IS_ERROR(src)) return src;
    ObjIt *it = it_new(ts, type, src);
    if (it) {
        it->fn = IS_EMPTY(v[1]) ? NONE_VAL : v[1];
        it->a = EMPTY_VAL;
        it->b = IS_EMPTY(v[2]) || IS_NONE(v[2]) ? EMPTY_VAL : v[2];
    }
    return it_value(it);
}

static Value accumulate_next(TState *ts, Value self) {
    ObjIt *it = IT(self);
    Value initial = load_v(&it->b);
    if (!IS_EMPTY(initial)) {
        store_v(&it->b, EMPTY_VAL);
        store_v(&it->a, initial);
        return initial;
    }
    Value src = load_v(&it->src);
    Value v = IS_NONE(src) ? EMPTY_VAL : ops_next(ts, src);
    if (IS_EMPTY(v)) return finished(it);
    if (IS_ERROR(v)) return v;
    Value total = load_v(&it->a);
    if (IS_EMPTY(total)) {
        store_v(&it->a, v);
        return v;
    }
    vm_push(ts, v);
    vm_push(ts, total);
    Value pair[2] = {total, v};
    Value r = IS_NONE(it->fn) ? ops_binary(ts, BIN_ADD, total, v) : ops_call(ts, it->fn, pair, 2, NULL);
    vm_pop(ts);
    vm_pop(ts);
    if (!IS_ERROR(r)) store_v(&it->a, r);
    return r;
}

/* ---- chain(*iterables), chain.from_iterable(iterable) --------------------
 * src = the iterator over the iterables, a = the current one (NONE). */

static Value chain_make(TState *ts, ObjType *type, Value iterables) {
    Value src = ops_iter(ts, iterables);
    if (IS_ERROR(src)) return src;
    return it_value(it_new(ts, type, src));
}

static Value chain_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    if (kwnames && kwnames->len) return err_format(ts, EXCS(ts)->TypeError, "chain() takes no keyword arguments");
    ObjTuple *all = tuple_from(ts, args, (size_t)nargs);
    if (!all) return ERROR_VAL;
    return chain_make(ts, type, OBJ_VAL(all));
}

static Value chain_from_iterable(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "from_iterable", nargs - 1, kwnames, 1, 1)) return ERROR_VAL;
    return chain_make(ts, AS_TYPE(args[0]), args[1]);
}

static Value chain_next(TState *ts, Value self) {
    ObjIt *it = IT(self);
    for (;;) {
        Value cur = load_v(&it->a);
        if (!IS_NONE(cur)) {
            Value v = ops_next(ts, cur);
            if (!IS_EMPTY(v)) return v;
            store_v(&it->a, NONE_VAL);
        }
        Value src = load_v(&it->src);
        if (IS_NONE(src)) return EMPTY_VAL;
        Value iterable = ops_next(ts, src);
        if (IS_EMPTY(iterable)) return finished(it);
        if (IS_ERROR(iterable)) return iterable;
        vm_push(ts, iterable);
        Value next = ops_iter(ts, iterable);
        vm_pop(ts);
        if (IS_ERROR(next)) return next;
        store_v(&it->a, next);
    }
}

/* ---- compress(data, selectors): src = data, a = the selectors ------------ */

static Value compress_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"data", "selectors"};
    Value v[2];
    if (!args_bind(ts, "compress", args, nargs, kwnames, names, 2, 2, 2, v)) return ERROR_VAL;
    Value data = ops_iter(ts, v[0]);
    if (IS_ERROR(data)) return data;
    vm_push(ts, data);
    Value sel = ops_iter(ts, v[1]);
    ObjIt *it = IS_ERROR(sel) ? NULL : it_new(ts, type, data);
    if (it) it->a = sel;
    vm_pop(ts);
    return it_value(it);
}

static Value compress_next(TState *ts, Value self) {
    ObjIt *it = IT(self);
    for (uint32_t n = 1;; n++) {
        if ((n & IT_SAFEPOINT_MASK) == 0 && !vm_safepoint(ts)) return ERROR_VAL;
        Value src = load_v(&it->src);
        if (IS_NONE(src)) return EMPTY_VAL;
        Value d = ops_next(ts, src);
        if (IS_EMPTY(d)) return finished(it);
        if (IS_ERROR(d)) return d;
        vm_push(ts, d);
        Value s = ops_next(ts, it->a);
        int t = IS_ERROR(s) ? -1 : IS_EMPTY(s) ? 2 : ops_truth(ts, s);
        vm_pop(ts);
        if (t < 0) return ERROR_VAL;
        if (t == 2) return finished(it);
        if (t) return d;
    }
}

/* ---- dropwhile, takewhile, filterfalse: src, fn = the predicate ----------
 * i = dropwhile has stopped dropping / takewhile has stopped. */

static Value predicate_new(TState *ts, ObjType *type, const char *name, Value *args, int nargs,
                           ObjTuple *kwnames) {
    if (!positional_only(ts, name, nargs, kwnames, 2, 2)) return ERROR_VAL;
    Value src = ops_iter(ts, args[1]);
    if (IS_ERROR(src)) return src;
    ObjIt *it = it_new(ts, type, src);
    if (it) it->fn = args[0];
    return it_value(it);
}

/* pred(v) as -1, 0, 1; filterfalse's None predicate is truth itself. */
static int predicate(TState *ts, ObjIt *it, Value v) {
    vm_push(ts, v);
    Value r = IS_NONE(it->fn) ? v : ops_call(ts, it->fn, &v, 1, NULL);
    int t = IS_ERROR(r) ? -1 : ops_truth(ts, r);
    vm_pop(ts);
    return t;
}

static Value dropwhile_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    return predicate_new(ts, type, "dropwhile", args, nargs, kwnames);
}

static Value takewhile_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    return predicate_new(ts, type, "takewhile", args, nargs, kwnames);
}

static Value filterfalse_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    return predicate_new(ts, type, "filterfalse", args, nargs, kwnames);
}

static Value dropwhile_next(TState *ts, Value self) {
    ObjIt *it = IT(self);
    for (uint32_t n = 1;; n++) {
        if ((n & IT_SAFEPOINT_MASK) == 0 && !vm_safepoint(ts)) return ERROR_VAL;
        Value src = load_v(&it->src);
        if (IS_NONE(src)) return EMPTY_VAL;
        Value v = ops_next(ts, src);
        if (IS_EMPTY(v)) return finished(it);
        if (IS_ERROR(v) || load_i(&it->i)) return v;
        int t = predicate(ts, it, v);
        if (t < 0) return ERROR_VAL;
        if (!t) {
            store_i(&it->i, 1);
            return v;
        }
    }
}

static Value takewhile_next(TState *ts, Value self) {
    ObjIt *it = IT(self);
    Value src = load_v(&it->src);
    if (IS_NONE(src) || load_i(&it->i)) return EMPTY_VAL;
    Value v = ops_next(ts, src);
    if (IS_EMPTY(v)) return finished(it);
    if (IS_ERROR(v)) return v;
    int t = predicate(ts, it, v);
    if (t < 0) return ERROR_VAL;
    if (t) return v;
    store_i(&it->i, 1);
    return EMPTY_VAL;
}

static Value filterfalse_next(TState *ts, Value self) {
    ObjIt *it = IT(self);
    for (uint32_t n = 1;; n++) {
        if ((n & IT_SAFEPOINT_MASK) == 0 && !vm_safepoint(ts)) return ERROR_VAL;
        Value src = load_v(&it->src);
        if (IS_NONE(src)) return EMPTY_VAL;
        Value v = ops_next(ts, src);
        if (IS_EMPTY(v)) return finished(it);
        if (IS_ERROR(v)) return v;
        int t = predicate(ts, it, v);
        if (t < 0) return ERROR_VAL;
        if (!t) return v;
    }
}

/* ---- starmap(function, iterable): src, fn ------------------------------- */

static Value starmap_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    if (!positional_only(ts, "starmap", nargs, kwnames, 2, 2)) return ERROR_VAL;
    Value src = ops_iter(ts, args[1]);
    if (IS_ERROR(src)) return src;
    ObjIt *it = it_new(ts, type, src);
    if (it) it->fn = args[0];
    return it_value(it);
}

static Value starmap_next(TState *ts, Value self) {
    ObjIt *it = IT(self);
    Value src = load_v(&it->src);
    if (IS_NONE(src)) return EMPTY_VAL;
    Value v = ops_next(ts, src);
    if (IS_EMPTY(v)) return finished(it);
    if (IS_ERROR(v)) return v;
    ObjTuple *targs;
    if (IS_TUPLE(v)) {
        targs = AS_TUPLE(v);
    } else {
        vm_push(ts, v);
        targs = ops_to_tuple(ts, v);
        vm_pop(ts);
        if (!targs) return ERROR_VAL;
    }
    vm_push(ts, OBJ_VAL(targs));
    Value r = ops_call(ts, it->fn, targs->items, (int)targs->len, NULL);
    vm_pop(ts);
    return r;
}

/* ---- groupby(iterable, key=None) -----------------------------------------
 * src, fn = the key function, a = tgtkey, b = currkey, c = currvalue, d =
 * the current _grouper (a grouper whose parent has moved on is exhausted).
 * CPython's algorithm; EMPTY marks its NULLs. A _grouper: src = the
 * groupby, a = its key. */

/* Reads the next value and its key into currvalue/currkey: 1, 0 at the
 * end, -1 after raising. */
static int groupby_step(TState *ts, ObjIt *g) {
    Value src = load_v(&g->src);
    Value v = IS_NONE(src) ? EMPTY_VAL : ops_next(ts, src);
    if (IS_EMPTY(v)) {
        finished(g);
        return 0;
    }
    if (IS_ERROR(v)) return -1;
    Value key = v;
    if (!IS_NONE(g->fn)) {
        vm_push(ts, v);
        key = ops_call(ts, g->fn, &v, 1, NULL);
        vm_pop(ts);
        if (IS_ERROR(key)) return -1;
    }
    store_v(&g->c, v);
    store_v(&g->b, key);
    return 1;
}

static Value groupby_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"iterable", "key"};
    Value v[2];
    if (!args_bind(ts, "groupby", args, nargs, kwnames, names, 2, 1, 2, v)) return ERROR_VAL;
    ObjType *grouper = module_type(ts, "itertools", "_grouper");
    if (!grouper) return ERROR_VAL;
    Value src = ops_iter(ts, v[0]);
    if (IS_ERROR(src)) return src;
    ObjIt *it = it_new(ts, type, src);
    if (it) {
        it->fn = IS_EMPTY(v[1]) ? NONE_VAL : v[1];
        it->a = it->b = it->c = EMPTY_VAL;
        it->helper = OBJ_VAL(grouper);
    }
    return it_value(it);
}

static Value groupby_next(TState *ts, Value self) {
    ObjIt *g = IT(self);
    store_v(&g->d, NONE_VAL);
    for (;;) {
        Value cur = load_v(&g->b), tgt = load_v(&g->a);
        if (!IS_EMPTY(cur)) {
            if (IS_EMPTY(tgt)) break;
            int eq = ops_equal(ts, tgt, cur);
            if (eq < 0) return ERROR_VAL;
            if (!eq) break;
        }
        int r = groupby_step(ts, g);
        if (r <= 0) return r < 0 ? ERROR_VAL : EMPTY_VAL;
    }
    Value key = load_v(&g->b);
    store_v(&g->a, key);
    ObjIt *grouper = it_new(ts, AS_TYPE(g->helper), self);
    if (!grouper) return ERROR_VAL;
    grouper->a = key;
    store_v(&g->d, OBJ_VAL(grouper));
    ObjTuple *pair = tuple_pack2(ts, key, OBJ_VAL(grouper));
    return pair ? OBJ_VAL(pair) : ERROR_VAL;
}

static Value grouper_next(TState *ts, Value self) {
    ObjIt *gr = IT(self);
    ObjIt *g = IT(gr->src);
    if (load_v(&g->d) != self) return EMPTY_VAL;
    if (IS_EMPTY(load_v(&g->c))) {
        int r = groupby_step(ts, g);
        if (r <= 0) return r < 0 ? ERROR_VAL : EMPTY_VAL;
    }
    int eq = ops_equal(ts, gr->a, load_v(&g->b));
    if (eq <= 0) return eq < 0 ? ERROR_VAL : EMPTY_VAL;
    Value v = load_v(&g->c);
    store_v(&g->c, EMPTY_VAL);
    store_v(&g->b, EMPTY_VAL);
    return v;
}

/* ---- islice(iterable, stop) / islice(iterable, start, stop[, step]) ------
 * src, i = the index of the next item to yield, j = stop (-1: none), k =
 * step, n = items consumed so far. CPython's algorithm. */

/* None or an int in 0..sys.maxsize into *out (dflt for None). */
static bool islice_index(TState *ts, Value v, int64_t dflt, int64_t *out) {
    if (IS_NONE(v)) {
        *out = dflt;
        return true;
    }
    if (!args_int(ts, v, out)) {
        err_clear(ts);
        return false;
    }
    return *out >= 0;
}

static Value islice_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    if (!positional_only(ts, "islice", nargs, kwnames, 2, 4)) return ERROR_VAL;
    int64_t start = 0, stop = -1, step = 1;
    if (nargs == 2) {
        if (!islice_index(ts, args[1], -1, &stop))
            return err_format(ts, EXCS(ts)->ValueError,
                              "Stop argument for islice() must be None or an integer: 0 <= x <= sys.maxsize.");
    } else {
        bool start_ok = islice_index(ts, args[1], 0, &start);
        bool stop_ok = islice_index(ts, args[2], -1, &stop);
        if (!start_ok)
            return err_format(ts, EXCS(ts)->ValueError,
                              "Indices for islice() must be None or an integer: 0 <= x <= sys.maxsize.");
        if (!stop_ok)
            return err_format(ts, EXCS(ts)->ValueError,
                              "Stop argument for islice() must be None or an integer: 0 <= x <= sys.maxsize.");
        if (nargs == 4 && (!islice_index(ts, args[3], 1, &step) || step == 0))
            return err_format(ts, EXCS(ts)->ValueError, "Step for islice() must be a positive integer or None.");
    }
    Value src = ops_iter(ts, args[0]);
    if (IS_ERROR(src)) return src;
    ObjIt *it = it_new(ts, type, src);
    if (it) {
        it->i = start;
        it->j = stop;
        it->k = step;
    }
    return it_value(it);
}

static Value islice_next(TState *ts, Value self) {
    ObjIt *it = IT(self);
    Value src = load_v(&it->src);
    if (IS_NONE(src)) return EMPTY_VAL;
    int64_t stop = it->j;
    for (uint32_t n = 1; load_i(&it->n) < load_i(&it->i); n++) {
        if ((n & IT_SAFEPOINT_MASK) == 0 && !vm_safepoint(ts)) return ERROR_VAL;
        Value skipped = ops_next(ts, src);
        if (IS_EMPTY(skipped)) return finished(it);
        if (IS_ERROR(skipped)) return skipped;
        __atomic_add_fetch(&it->n, 1, __ATOMIC_RELAXED);
    }
    if (stop != -1 && load_i(&it->n) >= stop) return finished(it);
    Value v = ops_next(ts, src);
    if (IS_EMPTY(v)) return finished(it);
    if (IS_ERROR(v)) return v;
    __atomic_add_fetch(&it->n, 1, __ATOMIC_RELAXED);
    int64_t old = load_i(&it->i);
    int64_t next = (int64_t)((uint64_t)old + (uint64_t)it->k);
    if (next < old || (stop != -1 && next > stop)) next = stop;
    store_i(&it->i, next);
    return v;
}

/* ---- pairwise(iterable): src, a = the previous item (EMPTY at first) ---- */

static Value pairwise_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    if (!positional_only(ts, "pairwise", nargs, kwnames, 1, 1)) return ERROR_VAL;
    Value src = ops_iter(ts, args[0]);
    if (IS_ERROR(src)) return src;
    ObjIt *it = it_new(ts, type, src);
    if (it) it->a = EMPTY_VAL;
    return it_value(it);
}

static Value pairwise_next(TState *ts, Value self) {
    ObjIt *it = IT(self);
    Value src = load_v(&it->src);
    if (IS_NONE(src)) return EMPTY_VAL;
    Value old = load_v(&it->a);
    if (IS_EMPTY(old)) {
        old = ops_next(ts, src);
        if (IS_EMPTY(old)) return finished(it);
        if (IS_ERROR(old)) return old;
        store_v(&it->a, old);
    }
    vm_push(ts, old);
    Value v = ops_next(ts, src);
    vm_pop(ts);
    if (IS_ERROR(v)) return v;
    if (IS_EMPTY(v)) {
        store_v(&it->a, EMPTY_VAL);
        return finished(it);
    }
    ObjTuple *pair = tuple_pack2(ts, old, v);
    if (!pair) return ERROR_VAL;
    store_v(&it->a, v);
    return OBJ_VAL(pair);
}

/* ---- zip_longest(*iterables, fillvalue=None) -----------------------------
 * src = a tuple of the iterators (NONE once one is exhausted), fn = the fill
 * value, i = how many are still active (0: done). */

static Value zip_longest_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    Value fill = NONE_VAL;
    for (size_t k = 0; kwnames && k < kwnames->len; k++) {
        if (strcmp(AS_STR(kwnames->items[k])->data, "fillvalue") != 0)
            return err_format(ts, EXCS(ts)->TypeError, "zip_longest() got an unexpected keyword argument");
        fill = args[nargs + (int)k];
    }
    ObjTuple *its = tuple_new(ts, (size_t)nargs);
    if (!its) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(its));
    ObjIt *it = NULL;
    int i = 0;
    for (; i < nargs; i++) {
        Value sub = ops_iter(ts, args[i]);
        if (IS_ERROR(sub)) break;
        its->items[i] = sub;
    }
    if (i == nargs && (it = it_new(ts, type, OBJ_VAL(its)))) {
        it->fn = fill;
        it->i = nargs;
    }
    vm_pop(ts);
    return it_value(it);
}

static Value zip_longest_next(TState *ts, Value self) {
    ObjIt *it = IT(self);
    Value src = load_v(&it->src);
    if (IS_NONE(src) || load_i(&it->i) == 0) return EMPTY_VAL;
    ObjTuple *its = AS_TUPLE(src);
    size_t n = its->len;
    ObjTuple *result = tuple_new(ts, n);
    if (!result) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(result));
    Value r = OBJ_VAL(result);
    for (size_t i = 0; i < n; i++) {
        Value sub = load_v(&its->items[i]);
        Value v = IS_NONE(sub) ? EMPTY_VAL : ops_next(ts, sub);
        if (IS_ERROR(v)) {
            r = v;
            break;
        }
        if (IS_EMPTY(v)) {
            if (!IS_NONE(sub)) {
                store_v(&its->items[i], NONE_VAL);
                if (__atomic_sub_fetch(&it->i, 1, __ATOMIC_RELAXED) <= 0) {
                    finished(it);
                    r = EMPTY_VAL;
                    break;
                }
            }
            v = it->fn;
        }
        result->items[i] = v;
    }
    vm_pop(ts);
    return r;
}

/* ---- product, permutations, combinations, combinations_with_replacement --
 * fn = the pool tuple (product: a tuple of pool tuples, repeated), i = r,
 * j = 0 before the first result, 1 running, 2 done; idx = the indices
 * (permutations: then the cycles). A step runs no mini code, so it holds
 * the iterator's lock throughout. */

static bool it_alloc_idx(TState *ts, ObjIt *it, size_t n) {
    it->idx = calloc(n ? n : 1, sizeof(int64_t));
    if (!it->idx) err_no_memory(ts);
    return it->idx != NULL;
}

static Value tuple_of_indices(TState *ts, ObjTuple *pool, const int64_t *idx, int64_t r) {
    ObjTuple *t = tuple_new(ts, (size_t)r);
    if (!t) return ERROR_VAL;
    for (int64_t i = 0; i < r; i++) t->items[i] = pool->items[idx[i]];
    return OBJ_VAL(t);
}

static bool r_argument(TState *ts, Value v, int64_t *r) {
    if (!IS_INT(v) && !IS_BIGINT(v) && !IS_BOOL(v)) {
        err_format(ts, EXCS(ts)->TypeError, "Expected int as r");
        return false;
    }
    if (!args_int(ts, v, r)) return false;
    if (*r < 0) {
        err_format(ts, EXCS(ts)->ValueError, "r must be non-negative");
        return false;
    }
    return true;
}

static Value product_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    int64_t repeat = 1;
    for (size_t k = 0; kwnames && k < kwnames->len; k++) {
        const char *kw = AS_STR(kwnames->items[k])->data;
        if (strcmp(kw, "repeat") != 0)
            return err_format(ts, EXCS(ts)->TypeError, "'%s' is an invalid keyword argument for product()", kw);
        if (!args_int(ts, args[nargs + (int)k], &repeat)) return ERROR_VAL;
        if (repeat < 0) return err_format(ts, EXCS(ts)->ValueError, "repeat argument cannot be negative");
    }
    if (repeat && nargs > INT64_MAX / 8 / repeat)
        return err_format(ts, EXCS(ts)->OverflowError, "repeat argument too large");
    size_t npools = (size_t)nargs * (size_t)repeat;
    ObjTuple *pools = tuple_new(ts, npools);
    if (!pools) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(pools));
    ObjIt *it = NULL;
    int i = 0;
    for (; i < nargs; i++) {
        ObjTuple *pool = ops_to_tuple(ts, args[i]);
        if (!pool) break;
        for (int64_t k = 0; k < repeat; k++) pools->items[(size_t)k * (size_t)nargs + (size_t)i] = OBJ_VAL(pool);
    }
    if (i == nargs && (it = it_new(ts, type, NONE_VAL))) {
        it->fn = OBJ_VAL(pools);
        it->i = (int64_t)npools;
        if (!it_alloc_idx(ts, it, npools)) it = NULL;
    }
    vm_pop(ts);
    return it_value(it);
}

static Value product_step(TState *ts, ObjIt *it) {
    ObjTuple *pools = AS_TUPLE(it->fn);
    int64_t n = it->i;
    if (it->j == 2) return EMPTY_VAL;
    if (it->j == 0) {
        it->j = 1;
        for (int64_t i = 0; i < n; i++)
            if (AS_TUPLE(pools->items[i])->len == 0) {
                it->j = 2;
                return EMPTY_VAL;
            }
    } else {
        int64_t i = n - 1;
        for (; i >= 0; i--) {
            if (++it->idx[i] < (int64_t)AS_TUPLE(pools->items[i])->len) break;
            it->idx[i] = 0;
        }
        if (i < 0) {
            it->j = 2;
            return EMPTY_VAL;
        }
    }
    ObjTuple *t = tuple_new(ts, (size_t)n);
    if (!t) return ERROR_VAL;
    for (int64_t i = 0; i < n; i++) t->items[i] = AS_TUPLE(pools->items[i])->items[it->idx[i]];
    return OBJ_VAL(t);
}

/* pool = tuple(iterable) and r: the combinatoric constructors' common part. */
static ObjIt *pool_iterator(TState *ts, ObjType *type, Value iterable, Value rv, bool r_default) {
    int64_t r = 0;
    if (!IS_EMPTY(rv) && !(r_default && IS_NONE(rv)) && !r_argument(ts, rv, &r)) return NULL;
    ObjTuple *pool = ops_to_tuple(ts, iterable);
    if (!pool) return NULL;
    if (r_default && (IS_EMPTY(rv) || IS_NONE(rv))) r = (int64_t)pool->len;
    vm_push(ts, OBJ_VAL(pool));
    ObjIt *it = it_new(ts, type, NONE_VAL);
    vm_pop(ts);
    if (!it) return NULL;
    it->fn = OBJ_VAL(pool);
    it->i = r;
    size_t n = pool->len > (size_t)r ? pool->len : (size_t)r;
    return it_alloc_idx(ts, it, n) ? it : NULL;
}

static Value permutations_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"iterable", "r"};
    Value v[2];
    if (!args_bind(ts, "permutations", args, nargs, kwnames, names, 2, 1, 2, v)) return ERROR_VAL;
    /* idx: the n indices, then the r cycles. */
    ObjIt *it = pool_iterator(ts, type, v[0], v[1], true);
    if (!it) return ERROR_VAL;
    int64_t n = (int64_t)AS_TUPLE(it->fn)->len, r = it->i;
    if (r > n) {
        it->j = 2;
    } else {
        free(it->idx);
        if (!it_alloc_idx(ts, it, (size_t)(n + r))) return ERROR_VAL;
        for (int64_t i = 0; i < n; i++) it->idx[i] = i;
        for (int64_t i = 0; i < r; i++) it->idx[n + i] = n - i;
    }
    return OBJ_VAL(it);
}

static Value permutations_step(TState *ts, ObjIt *it) {
    ObjTuple *pool = AS_TUPLE(it->fn);
    int64_t n = (int64_t)pool->len, r = it->i;
    int64_t *indices = it->idx, *cycles = it->idx + n;
    if (it->j == 2) return EMPTY_VAL;
    if (it->j == 0) {
        it->j = 1;
        return tuple_of_indices(ts, pool, indices, r);
    }
    if (n == 0) {
        it->j = 2;
        return EMPTY_VAL;
    }
    for (int64_t i = r - 1; i >= 0; i--) {
        if (--cycles[i] == 0) {
            int64_t first = indices[i];
            memmove(indices + i, indices + i + 1, (size_t)(n - i - 1) * sizeof(int64_t));
            indices[n - 1] = first;
            cycles[i] = n - i;
        } else {
            int64_t j = cycles[i];
            int64_t tmp = indices[i];
            indices[i] = indices[n - j];
            indices[n - j] = tmp;
            return tuple_of_indices(ts, pool, indices, r);
        }
    }
    it->j = 2;
    return EMPTY_VAL;
}

static Value combinations_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"iterable", "r"};
    Value v[2];
    if (!args_bind(ts, "combinations", args, nargs, kwnames, names, 2, 2, 2, v)) return ERROR_VAL;
    ObjIt *it = pool_iterator(ts, type, v[0], v[1], false);
    if (!it) return ERROR_VAL;
    if (it->i > (int64_t)AS_TUPLE(it->fn)->len) it->j = 2;
    for (int64_t i = 0; i < it->i; i++) it->idx[i] = i;
    return OBJ_VAL(it);
}

static Value combinations_step(TState *ts, ObjIt *it) {
    ObjTuple *pool = AS_TUPLE(it->fn);
    int64_t n = (int64_t)pool->len, r = it->i, *idx = it->idx;
    if (it->j == 2) return EMPTY_VAL;
    if (it->j == 0) {
        it->j = 1;
        return tuple_of_indices(ts, pool, idx, r);
    }
    int64_t i = r - 1;
    while (i >= 0 && idx[i] == i + n - r) i--;
    if (i < 0) {
        it->j = 2;
        return EMPTY_VAL;
    }
    idx[i]++;
    for (int64_t j = i + 1; j < r; j++) idx[j] = idx[j - 1] + 1;
    return tuple_of_indices(ts, pool, idx, r);
}

static Value cwr_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"iterable", "r"};
    Value v[2];
    if (!args_bind(ts, "combinations_with_replacement", args, nargs, kwnames, names, 2, 2, 2, v)) return ERROR_VAL;
    ObjIt *it = pool_iterator(ts, type, v[0], v[1], false);
    if (!it) return ERROR_VAL;
    if (AS_TUPLE(it->fn)->len == 0 && it->i > 0) it->j = 2;
    return OBJ_VAL(it);
}

static Value cwr_step(TState *ts, ObjIt *it) {
    ObjTuple *pool = AS_TUPLE(it->fn);
    int64_t n = (int64_t)pool->len, r = it->i, *idx = it->idx;
    if (it->j == 2) return EMPTY_VAL;
    if (it->j == 0) {
        it->j = 1;
        return tuple_of_indices(ts, pool, idx, r);
    }
    int64_t i = r - 1;
    while (i >= 0 && idx[i] == n - 1) i--;
    if (i < 0) {
        it->j = 2;
        return EMPTY_VAL;
    }
    int64_t v = idx[i] + 1;
    for (int64_t j = i; j < r; j++) idx[j] = v;
    return tuple_of_indices(ts, pool, idx, r);
}

/* One step of a combinatoric iterator under its lock. */
static Value locked_step(TState *ts, Value self, Value (*step)(TState *, ObjIt *)) {
    ObjIt *it = IT(self);
    obj_lock(ts, &it->obj);
    Value r = step(ts, it);
    obj_unlock(ts, &it->obj);
    return r;
}

static Value product_next(TState *ts, Value self) { return locked_step(ts, self, product_step); }
static Value permutations_next(TState *ts, Value self) { return locked_step(ts, self, permutations_step); }
static Value combinations_next(TState *ts, Value self) { return locked_step(ts, self, combinations_step); }
static Value cwr_next(TState *ts, Value self) { return locked_step(ts, self, cwr_step); }

/* ---- tee(iterable, n=2) ---------------------------------------------------
 * As CPython's: the items fetched from the source sit in a chain of
 * blocks (_tee_dataobject) that the tee objects walk, each with its own
 * block and position; a block no tee points at any more is garbage. The
 * family's _tee_source holds the source (src), the block type (helper),
 * i = a fetch is running (the
 * fetching thread's TState, as an integer), j = the source is exhausted.
 * A _tee: src = the _tee_source (never changes), a = its block, i = its
 * position in it (both under the _tee_source's lock). */

static void tee_block_trace(GcMarker *m, Obj *self) {
    TeeBlock *b = (TeeBlock *)self;
    gc_mark_obj(m, (Obj *)b->next);
    gc_mark_values(m, b->items, (size_t)b->count);
}

static size_t tee_block_size(Obj *self) {
    (void)self;
    return sizeof(TeeBlock);
}

static TeeBlock *tee_block_new(TState *ts, ObjIt *shared) {
    TeeBlock *b = (TeeBlock *)gc_alloc(ts, sizeof(TeeBlock), OBJ_OPAQUE, AS_TYPE(shared->helper));
    if (!b) return NULL;
    b->next = NULL;
    b->count = 0;
    return b;
}

static Value tee_copy_of(TState *ts, Value self);

static Value tee_from_iterator(TState *ts, ObjType *tee_type, Value src) {
    ObjType *st = module_type(ts, "itertools", "_tee_source");
    ObjType *bt = st ? module_type(ts, "itertools", "_tee_dataobject") : NULL;
    if (!bt) return ERROR_VAL;
    vm_push(ts, src);
    ObjIt *shared = it_new(ts, st, src);
    Value r = ERROR_VAL;
    if (shared) {
        shared->helper = OBJ_VAL(bt);
        vm_push(ts, OBJ_VAL(shared));
        TeeBlock *b = tee_block_new(ts, shared);
        ObjIt *tee = b ? it_new(ts, tee_type, OBJ_VAL(shared)) : NULL;
        if (tee) {
            tee->a = OBJ_VAL(b);
            r = OBJ_VAL(tee);
        }
        vm_pop(ts);
    }
    vm_pop(ts);
    return r;
}

static Value tee_type_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    if (!positional_only(ts, "_tee", nargs, kwnames, 1, 1)) return ERROR_VAL;
    Value src = ops_iter(ts, args[0]);
    if (IS_ERROR(src)) return src;
    if (val_type(ts, src) == type) return tee_copy_of(ts, src);
    return tee_from_iterator(ts, type, src);
}

static Value tee_copy_of(TState *ts, Value self) {
    ObjIt *tee = IT(self);
    ObjIt *shared = IT(tee->src);
    ObjIt *copy = it_new(ts, tee->obj.type, tee->src);
    if (!copy) return ERROR_VAL;
    obj_lock(ts, &shared->obj);
    copy->a = tee->a;
    copy->i = tee->i;
    obj_unlock(ts, &shared->obj);
    return OBJ_VAL(copy);
}

static Value tee_copy(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__copy__", 0, 0);
    return tee_copy_of(ts, args[0]);
}

static Value tee_next(TState *ts, Value self) {
    ObjIt *tee = IT(self);
    ObjIt *shared = IT(tee->src);
    int64_t me = (int64_t)(intptr_t)ts;
    obj_lock(ts, &shared->obj);
    for (;;) {
        TeeBlock *b = (TeeBlock *)AS_OBJ(tee->a);
        int64_t i = tee->i;
        if (i == TEE_BLOCK && b->next) {
            tee->a = OBJ_VAL(b->next);
            tee->i = 0;
            continue;
        }
        if (i < b->count) {
            tee->i = i + 1;
            Value v = b->items[i];
            obj_unlock(ts, &shared->obj);
            return v;
        }
        if (shared->j) break;
        /* A fetch under way: this thread's own (the source reads its tee),
         * or another thread's that is not running, blocked or waiting for
         * the GIL (with the GIL on, always so), is CPython's error; one
         * running on another core (GIL off) is waited for. The fetcher
         * clears shared->i under this lock before it can end, so its
         * TState is alive here. */
        TState *fetcher = (TState *)(intptr_t)shared->i;
        if (fetcher == ts || (fetcher && atomic_load(&fetcher->status) != THREAD_ATTACHED &&
                              atomic_load(&fetcher->status) != THREAD_PARKED)) {
            obj_unlock(ts, &shared->obj);
            return err_format(ts, EXCS(ts)->RuntimeError, "cannot re-enter the tee iterator");
        }
        if (fetcher) {
            obj_unlock(ts, &shared->obj);
            thread_detach(ts);
            sched_yield();
            thread_attach(ts);
            if (!vm_safepoint(ts)) return ERROR_VAL;
            obj_lock(ts, &shared->obj);
            continue;
        }
        shared->i = me;
        obj_unlock(ts, &shared->obj);
        Value v = ops_next(ts, shared->src);
        obj_lock(ts, &shared->obj);
        shared->i = 0;
        if (IS_ERROR(v)) break;
        if (IS_EMPTY(v)) {
            shared->j = 1;
            break;
        }
        /* Nobody appended meanwhile (the fetch excludes others), so the
         * tee's block is the last one. */
        b = (TeeBlock *)AS_OBJ(tee->a);
        if (b->count == TEE_BLOCK) {
            TeeBlock *nb = tee_block_new(ts, shared);
            if (!nb) {
                obj_unlock(ts, &shared->obj);
                return ERROR_VAL;
            }
            b->next = nb;
            b = nb;
            tee->a = OBJ_VAL(nb);
            tee->i = 0;
        }
        b->items[b->count++] = v;
        continue;
    }
    obj_unlock(ts, &shared->obj);
    return shared->j ? EMPTY_VAL : ERROR_VAL;
}

static Value itertools_tee(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "tee", nargs, kwnames, 1, 2)) return ERROR_VAL;
    int64_t n = 2;
    if (nargs == 2 && !args_int(ts, args[1], &n)) return ERROR_VAL;
    if (n < 0) return err_format(ts, EXCS(ts)->ValueError, "n must be >= 0");
    ObjType *tee_type = module_type(ts, "itertools", "_tee");
    if (!tee_type) return ERROR_VAL;
    Value src = ops_iter(ts, args[0]);
    if (IS_ERROR(src)) return src;
    vm_push(ts, src);
    ObjTuple *result = tuple_new(ts, (size_t)n);
    Value r = result ? OBJ_VAL(result) : ERROR_VAL;
    if (result && n > 0) {
        vm_push(ts, r);
        /* CPython's rule: an iterator with __copy__ is copied with it (a
         * tee among them); any other is wrapped in a new tee first. */
        Value first = src, copy_fn = EMPTY_VAL;
        if (val_type(ts, src) != tee_type) {
            copy_fn = ops_getattr_opt(ts, src, str_intern_cstr(ts, "__copy__"));
            if (IS_EMPTY(copy_fn)) first = tee_from_iterator(ts, tee_type, src);
            else if (IS_ERROR(copy_fn)) first = ERROR_VAL;
        }
        vm_push(ts, copy_fn);
        if (!IS_ERROR(first)) result->items[0] = first;
        for (int64_t i = 1; i < n && !IS_ERROR(first); i++) {
            Value c = IS_EMPTY(copy_fn) ? tee_copy_of(ts, first) : vm_call(ts, copy_fn, NULL, 0, NULL);
            if (IS_ERROR(c)) first = c;
            else result->items[i] = c;
        }
        if (IS_ERROR(first)) r = ERROR_VAL;
        vm_pop(ts);
        vm_pop(ts);
    }
    vm_pop(ts);
    return r;
}

/* ---- the module ------------------------------------------------------------ */

/* __iter__ and __next__ as methods, for code that calls them by name. */
static Value it_m_iter(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__iter__", 0, 0);
    return args[0];
}

static Value it_m_next(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__next__", 0, 0);
    /* The itertools type's own step, also under a subclass that defines
     * __next__ (and calls this through super()). */
    ObjType *t = OBJ_TYPE(args[0]);
    while (t->flags & TYPEF_HEAPTYPE) t = t->base;
    Value v = t->next(ts, args[0]);
    return IS_EMPTY(v) ? err_raise(ts, OBJ_VAL(EXCS(ts)->StopIteration)) : v;
}

#define IT_PROTOCOL {"__iter__", it_m_iter}, {"__next__", it_m_next}

static const NativeDef it_methods[] = {
    IT_PROTOCOL,
    {NULL, NULL},
};

static const NativeDef repeat_methods[] = {
    IT_PROTOCOL,
    {"__length_hint__", repeat_length_hint},
    {NULL, NULL},
};

static const NativeDef chain_classmethods[] = {
    {"from_iterable", chain_from_iterable},
    {NULL, NULL},
};

static const NativeDef tee_methods[] = {
    IT_PROTOCOL,
    {"__copy__", tee_copy},
    {NULL, NULL},
};

#define IT_TYPE_FLAGS(NAME, NEW, NEXT, METHODS, FLAGS, ...)                                                \
    {.name = NAME, .kind = OBJ_OPAQUE, .obj_size = it_size, .new_ = NEW, .iter = it_self, .next = NEXT,   \
     .trace = it_trace, .finalize = it_finalize, .methods = METHODS, .flags = FLAGS, __VA_ARGS__}
/* The public types may be subclassed, as CPython's; the helpers not. */
#define IT_TYPE(NAME, NEW, NEXT, METHODS, ...) IT_TYPE_FLAGS(NAME, NEW, NEXT, METHODS, TYPEF_BASETYPE, __VA_ARGS__)

static const TypeSpec itertools_types[] = {
    IT_TYPE("count", count_new, count_next, it_methods, .repr = count_repr),
    IT_TYPE("cycle", cycle_new, cycle_next, it_methods),
    IT_TYPE("repeat", repeat_new, repeat_next, repeat_methods, .repr = repeat_repr),
    IT_TYPE("accumulate", accumulate_new, accumulate_next, it_methods),
    IT_TYPE("chain", chain_new, chain_next, it_methods, .classmethods = chain_classmethods),
    IT_TYPE("compress", compress_new, compress_next, it_methods),
    IT_TYPE("dropwhile", dropwhile_new, dropwhile_next, it_methods),
    IT_TYPE("filterfalse", filterfalse_new, filterfalse_next, it_methods),
    IT_TYPE("groupby", groupby_new, groupby_next, it_methods),
    IT_TYPE_FLAGS("_grouper", NULL, grouper_next, it_methods, 0),
    IT_TYPE("islice", islice_new, islice_next, it_methods),
    IT_TYPE("pairwise", pairwise_new, pairwise_next, it_methods),
    IT_TYPE("starmap", starmap_new, starmap_next, it_methods),
    IT_TYPE("takewhile", takewhile_new, takewhile_next, it_methods),
    IT_TYPE("zip_longest", zip_longest_new, zip_longest_next, it_methods),
    IT_TYPE("product", product_new, product_next, it_methods),
    IT_TYPE("permutations", permutations_new, permutations_next, it_methods),
    IT_TYPE("combinations", combinations_new, combinations_next, it_methods),
    IT_TYPE("combinations_with_replacement", cwr_new, cwr_next, it_methods),
    IT_TYPE_FLAGS("_tee", tee_type_new, tee_next, tee_methods, 0),
    {.name = "_tee_source", .kind = OBJ_OPAQUE, .obj_size = it_size, .trace = it_trace, .finalize = it_finalize},
    {.name = "_tee_dataobject", .kind = OBJ_OPAQUE, .obj_size = tee_block_size, .trace = tee_block_trace},
};

bool mod_itertools_init(TState *ts, ObjDict *ns) {
    ObjStr *module = str_intern_cstr(ts, "itertools");
    if (!module) return false;
    for (size_t i = 0; i < sizeof itertools_types / sizeof *itertools_types; i++) {
        ObjType *t = type_from_spec(ts, &itertools_types[i], NULL);
        if (!t) return false;
        t->module = OBJ_VAL(module);
        if (dict_set_str(ts, ns, t->name, OBJ_VAL(t)) < 0) return false;
    }
    ObjNative *tee = native_new(ts, "tee", itertools_tee, NULL);
    return tee && dict_set_str(ts, ns, str_intern_cstr(ts, "tee"), OBJ_VAL(tee)) == 0;
}
