/* The operator module: CPython 3.11's functions and its three callable
 * types, in C as CPython's _operator is.
 *
 * - The functions are thin: each checks its arguments as CPython does and
 *   hands over to the generic object protocol (runtime/ops.h), so
 *   operator.add(a, b) is exactly `a + b` and operator.iadd(a, b) exactly
 *   `a += b`. Tables of them (binary, in-place, comparison, unary) are
 *   generated from one list each; the dunder aliases (__add__, ...) are the
 *   same function objects, as in CPython.
 * - itemgetter, attrgetter and methodcaller share one layout, ObjGetter:
 *   what to fetch (a tuple), and for methodcaller the call's arguments. */

#include <string.h>

#include "runtime/args.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/function.h"
#include "runtime/int.h"
#include "runtime/list.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/strbuf.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "stdlib/modules.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/vm.h"

#define EXCS(ts) (&(ts)->interp->exc)

/* "NAME expected N arguments, got M" (CPython's positional-only check);
 * `prefix` qualifies the name in the no-keywords message. */
static bool check_counts(TState *ts, const char *prefix, const char *name, int nargs, ObjTuple *kwnames, int min,
                         int max) {
    if (kwnames && kwnames->len) {
        err_format(ts, EXCS(ts)->TypeError, "%s%s() takes no keyword arguments", prefix, name);
        return false;
    }
    if (nargs >= min && (max < 0 || nargs <= max)) return true;
    const char *bound = min == max || max < 0 ? "" : nargs < min ? "at least " : "at most ";
    int n = nargs < min ? min : max;
    err_format(ts, EXCS(ts)->TypeError, "%s expected %s%d argument%s, got %d", name, bound, n, n == 1 ? "" : "s",
               nargs);
    return false;
}

/* The module's functions, and the getter types. */
static bool check_args(TState *ts, const char *name, int nargs, ObjTuple *kwnames, int min, int max) {
    return check_counts(ts, "_operator.", name, nargs, kwnames, min, max);
}

static bool check_getter(TState *ts, const char *name, int nargs, ObjTuple *kwnames, int min, int max) {
    return check_counts(ts, "", name, nargs, kwnames, min, max);
}

/* The one-argument functions (CPython's METH_O). */
static bool check_one(TState *ts, const char *name, int nargs, ObjTuple *kwnames) {
    if (kwnames && kwnames->len) {
        err_format(ts, EXCS(ts)->TypeError, "_operator.%s() takes no keyword arguments", name);
        return false;
    }
    if (nargs == 1) return true;
    err_format(ts, EXCS(ts)->TypeError, "_operator.%s() takes exactly one argument (%d given)", name, nargs);
    return false;
}

/* ---- operators ------------------------------------------------------------ */

#define BINARY_OPS(X)                                                                                        \
    X(add, BIN_ADD) X(sub, BIN_SUB) X(mul, BIN_MUL) X(truediv, BIN_TRUEDIV) X(floordiv, BIN_FLOORDIV)         \
    X(mod, BIN_MOD) X(pow, BIN_POW) X(lshift, BIN_LSHIFT) X(rshift, BIN_RSHIFT) X(and_, BIN_AND)              \
    X(or_, BIN_OR) X(xor, BIN_XOR) X(matmul, BIN_MATMUL)

#define INPLACE_OPS(X)                                                                                       \
    X(iadd, BIN_ADD) X(isub, BIN_SUB) X(imul, BIN_MUL) X(itruediv, BIN_TRUEDIV) X(ifloordiv, BIN_FLOORDIV)    \
    X(imod, BIN_MOD) X(ipow, BIN_POW) X(ilshift, BIN_LSHIFT) X(irshift, BIN_RSHIFT) X(iand, BIN_AND)          \
    X(ior, BIN_OR) X(ixor, BIN_XOR) X(imatmul, BIN_MATMUL)

#define COMPARE_OPS(X) X(lt, CMP_LT) X(le, CMP_LE) X(eq, CMP_EQ) X(ne, CMP_NE) X(gt, CMP_GT) X(ge, CMP_GE)

#define UNARY_OPS(X) X(neg, UN_NEG) X(pos, UN_POS) X(invert, UN_INVERT) X(inv, UN_INVERT)

/* Two small ints go straight to the int type's own operation (the VM's
 * fast path too), skipping the generic dispatch. */
#define DEFINE_BINARY(NAME, OP)                                                                              \
    static Value op_##NAME(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {                          \
        if (!check_args(ts, #NAME, nargs, kwnames, 2, 2)) return ERROR_VAL;                                  \
        if (IS_INT(args[0]) && IS_INT(args[1])) {                                                            \
            Value r = int_binop(ts, OP, args[0], args[1]);                                                   \
            if (!IS_NOT_IMPLEMENTED(r)) return r;                                                            \
        }                                                                                                    \
        return ops_binary(ts, OP, args[0], args[1]);                                                         \
    }
#define DEFINE_INPLACE(NAME, OP)                                                                             \
    static Value op_##NAME(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {                          \
        if (!check_args(ts, #NAME, nargs, kwnames, 2, 2)) return ERROR_VAL;                                  \
        return ops_inplace(ts, OP, args[0], args[1]);                                                        \
    }
#define DEFINE_COMPARE(NAME, OP)                                                                             \
    static Value op_##NAME(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {                          \
        if (!check_args(ts, #NAME, nargs, kwnames, 2, 2)) return ERROR_VAL;                                  \
        if (IS_INT(args[0]) && IS_INT(args[1])) return BOOL_VAL(int_cmp_holds(int_compare(args[0], args[1]), OP)); \
        return ops_compare(ts, args[0], args[1], OP);                                                        \
    }
#define DEFINE_UNARY(NAME, OP)                                                                               \
    static Value op_##NAME(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {                          \
        if (!check_one(ts, #NAME, nargs, kwnames)) return ERROR_VAL;                                         \
        return ops_unary(ts, OP, args[0]);                                                                   \
    }

BINARY_OPS(DEFINE_BINARY)
INPLACE_OPS(DEFINE_INPLACE)
COMPARE_OPS(DEFINE_COMPARE)
UNARY_OPS(DEFINE_UNARY)

static Value op_truth(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!check_one(ts, "truth", nargs, kwnames)) return ERROR_VAL;
    int t = ops_truth(ts, args[0]);
    return t < 0 ? ERROR_VAL : BOOL_VAL(t);
}

static Value op_not_(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!check_one(ts, "not_", nargs, kwnames)) return ERROR_VAL;
    int t = ops_truth(ts, args[0]);
    return t < 0 ? ERROR_VAL : BOOL_VAL(!t);
}

static Value op_index(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!check_one(ts, "index", nargs, kwnames)) return ERROR_VAL;
    return int_index(ts, args[0]);
}

static Value op_is_(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!check_args(ts, "is_", nargs, kwnames, 2, 2)) return ERROR_VAL;
    return BOOL_VAL(args[0] == args[1]);
}

static Value op_is_not(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!check_args(ts, "is_not", nargs, kwnames, 2, 2)) return ERROR_VAL;
    return BOOL_VAL(args[0] != args[1]);
}

/* ---- sequences ------------------------------------------------------------- */

/* CPython's PySequence_Check: has __getitem__ and is not a dict. */
static bool is_sequence(TState *ts, Value v) {
    ObjType *t = val_type(ts, v);
    return t->getitem && !type_is_subtype(t, ts->interp->types.dict);
}

static Value concat(TState *ts, const char *name, Value *args, int nargs, ObjTuple *kwnames, bool inplace) {
    if (!check_args(ts, name, nargs, kwnames, 2, 2)) return ERROR_VAL;
    if (!is_sequence(ts, args[0]))
        return err_format(ts, EXCS(ts)->TypeError, "'%s' object can't be concatenated", ops_type_name(ts, args[0]));
    return inplace ? ops_inplace(ts, BIN_ADD, args[0], args[1]) : ops_binary(ts, BIN_ADD, args[0], args[1]);
}

static Value op_concat(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return concat(ts, "concat", args, nargs, kwnames, false);
}

static Value op_iconcat(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return concat(ts, "iconcat", args, nargs, kwnames, true);
}

static Value op_contains(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!check_args(ts, "contains", nargs, kwnames, 2, 2)) return ERROR_VAL;
    int r = ops_contains(ts, args[0], args[1]);
    return r < 0 ? ERROR_VAL : BOOL_VAL(r);
}

/* countOf and indexOf: the items of a that are (or equal) b. */
static Value scan(TState *ts, Value a, Value b, bool first) {
    Value it = ops_iter(ts, a);
    if (IS_ERROR(it)) {
        if (err_matches(ts, EXCS(ts)->TypeError)) {
            err_clear(ts);
            return err_format(ts, EXCS(ts)->TypeError, "argument of type '%s' is not iterable", ops_type_name(ts, a));
        }
        return it;
    }
    vm_push(ts, it);
    int64_t n = 0, i = 0;
    Value r = EMPTY_VAL;
    for (;; i++) {
        Value x = ops_next(ts, it);
        if (IS_EMPTY(x)) break;
        int eq = IS_ERROR(x) ? -1 : x == b ? 1 : ops_equal(ts, x, b);
        if (eq < 0) {
            r = ERROR_VAL;
            break;
        }
        if (eq && first) {
            r = int_from_i64(ts, i);
            break;
        }
        n += eq;
    }
    vm_pop(ts);
    if (!IS_EMPTY(r)) return r;
    if (first) return err_format(ts, EXCS(ts)->ValueError, "sequence.index(x): x not in sequence");
    return int_from_i64(ts, n);
}

static Value op_countOf(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!check_args(ts, "countOf", nargs, kwnames, 2, 2)) return ERROR_VAL;
    return scan(ts, args[0], args[1], false);
}

static Value op_indexOf(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!check_args(ts, "indexOf", nargs, kwnames, 2, 2)) return ERROR_VAL;
    return scan(ts, args[0], args[1], true);
}

static Value op_getitem(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!check_args(ts, "getitem", nargs, kwnames, 2, 2)) return ERROR_VAL;
    return ops_getitem(ts, args[0], args[1]);
}

static Value op_setitem(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!check_args(ts, "setitem", nargs, kwnames, 3, 3)) return ERROR_VAL;
    return ops_setitem(ts, args[0], args[1], args[2]) < 0 ? ERROR_VAL : NONE_VAL;
}

static Value op_delitem(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!check_args(ts, "delitem", nargs, kwnames, 2, 2)) return ERROR_VAL;
    return ops_setitem(ts, args[0], args[1], EMPTY_VAL) < 0 ? ERROR_VAL : NONE_VAL;
}

/* length_hint(obj, default=0), PEP 424: len(obj), else
 * obj.__length_hint__(), else default. */
static Value op_length_hint(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!check_args(ts, "length_hint", nargs, kwnames, 1, 2)) return ERROR_VAL;
    int64_t dflt = 0;
    if (nargs == 2 && !args_int(ts, args[1], &dflt)) return ERROR_VAL;
    Value obj = args[0];
    ObjType *t = val_type(ts, obj);
    if (t->len) {
        int64_t n = ops_len(ts, obj);
        if (n >= 0) return int_from_i64(ts, n);
        if (!err_matches(ts, EXCS(ts)->TypeError)) return ERROR_VAL;
        err_clear(ts);
    }
    Value hint = type_lookup(t, str_intern_cstr(ts, "__length_hint__"));
    if (IS_EMPTY(hint)) return int_from_i64(ts, dflt);
    Value r = vm_call_method(ts, hint, obj, NULL, 0, NULL);
    if (IS_ERROR(r)) {
        if (!err_matches(ts, EXCS(ts)->TypeError)) return r;
        err_clear(ts);
        return int_from_i64(ts, dflt);
    }
    if (IS_NOT_IMPLEMENTED(r)) return int_from_i64(ts, dflt);
    if (!IS_INT(r) && !IS_BIGINT(r) && !IS_BOOL(r))
        return err_format(ts, EXCS(ts)->TypeError, "__length_hint__ must be an integer, not %s", ops_type_name(ts, r));
    int64_t n;
    if (!int_to_i64(r, &n))
        return err_format(ts, EXCS(ts)->OverflowError, "cannot fit 'int' into an index-sized integer");
    if (n < 0) return err_format(ts, EXCS(ts)->ValueError, "__length_hint__() should return >= 0");
    return int_from_i64(ts, n);
}

static Value op_call(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (nargs < 1)
        return err_format(ts, EXCS(ts)->TypeError, "call expected at least 1 argument, got %d", nargs);
    return ops_call(ts, args[0], args + 1, nargs - 1, kwnames);
}

/* ---- itemgetter, attrgetter, methodcaller -----------------------------------
 * items: itemgetter's keys; attrgetter's names, each a tuple of the interned
 * parts of a dotted name; methodcaller's name then its positional and
 * keyword argument values. kwnames: methodcaller's keyword names (NULL
 * for the others). */

typedef struct ObjGetter {
    Obj obj;
    ObjTuple *items;
    ObjTuple *kwnames;
    int nargs; /* methodcaller's positional arguments */
} ObjGetter;

#define GETTER(v) ((ObjGetter *)AS_OBJ(v))

static void getter_trace(GcMarker *m, Obj *self) {
    ObjGetter *g = (ObjGetter *)self;
    gc_mark_obj(m, (Obj *)g->items);
    gc_mark_obj(m, (Obj *)g->kwnames);
}

static size_t getter_size(Obj *self) {
    (void)self;
    return sizeof(ObjGetter);
}

static ObjGetter *getter_new(TState *ts, ObjType *type, ObjTuple *items) {
    vm_push(ts, OBJ_VAL(items));
    ObjGetter *g = (ObjGetter *)gc_alloc(ts, sizeof(ObjGetter), OBJ_OPAQUE, type);
    vm_pop(ts);
    if (!g) return NULL;
    g->items = items;
    g->kwnames = NULL;
    g->nargs = 0;
    return g;
}

/* NAME(repr(item), ...): every getter's repr. */
static Value getter_repr_of(TState *ts, const char *name, Value *items, int n, ObjTuple *kwnames) {
    StrBuf sb;
    sb_init(&sb);
    bool ok = sb_appendf(&sb, "operator.%s(", name);
    int nkw = kwnames ? (int)kwnames->len : 0;
    for (int i = 0; ok && i < n; i++) {
        if (i) ok = sb_append_cstr(&sb, ", ");
        if (ok && i >= n - nkw) {
            ObjStr *k = AS_STR(kwnames->items[i - (n - nkw)]);
            ok = sb_append(&sb, k->data, k->len) && sb_append_char(&sb, '=');
        }
        Value r = ok ? ops_repr(ts, items[i]) : ERROR_VAL;
        if (IS_ERROR(r)) {
            sb_free(&sb);
            return ok ? ERROR_VAL : err_no_memory(ts);
        }
        ok = sb_append(&sb, AS_STR(r)->data, AS_STR(r)->len);
    }
    if (!ok || !sb_append_char(&sb, ')')) {
        sb_free(&sb);
        return err_no_memory(ts);
    }
    ObjStr *s = str_from_sb(ts, &sb);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static Value itemgetter_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    if (!check_getter(ts, "itemgetter", nargs, kwnames, 1, -1)) return ERROR_VAL;
    ObjTuple *items = tuple_from(ts, args, (size_t)nargs);
    ObjGetter *g = items ? getter_new(ts, type, items) : NULL;
    return g ? OBJ_VAL(g) : ERROR_VAL;
}

static Value itemgetter_call(TState *ts, Value self, Value *args, int nargs, ObjTuple *kwnames) {
    if (!check_getter(ts, "itemgetter", nargs, kwnames, 1, 1)) return ERROR_VAL;
    ObjTuple *items = GETTER(self)->items;
    if (items->len == 1) return ops_getitem(ts, args[0], items->items[0]);
    ObjTuple *r = tuple_new(ts, items->len);
    if (!r) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(r));
    Value out = OBJ_VAL(r);
    for (size_t i = 0; i < items->len; i++) {
        Value v = ops_getitem(ts, args[0], items->items[i]);
        if (IS_ERROR(v)) {
            out = v;
            break;
        }
        r->items[i] = v;
    }
    vm_pop(ts);
    return out;
}

static Value itemgetter_repr(TState *ts, Value self) {
    ObjTuple *items = GETTER(self)->items;
    return getter_repr_of(ts, "itemgetter", items->items, (int)items->len, NULL);
}

/* attrgetter keeps each name split at its dots, as interned parts. */
static Value attrgetter_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    if (!check_getter(ts, "attrgetter", nargs, kwnames, 1, -1)) return ERROR_VAL;
    for (int i = 0; i < nargs; i++)
        if (!IS_STR(args[i])) return err_format(ts, EXCS(ts)->TypeError, "attribute name must be a string");
    ObjTuple *items = tuple_new(ts, (size_t)nargs);
    if (!items) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(items));
    ObjGetter *g = NULL;
    int i = 0;
    for (; i < nargs; i++) {
        ObjStr *name = AS_STR(args[i]);
        size_t parts = 1;
        for (size_t k = 0; k < name->len; k++) parts += name->data[k] == '.';
        ObjTuple *path = tuple_new(ts, parts);
        if (!path) break;
        items->items[i] = OBJ_VAL(path);
        size_t start = 0, p = 0;
        for (size_t k = 0; k <= name->len; k++) {
            if (k < name->len && name->data[k] != '.') continue;
            ObjStr *part = str_intern(ts, name->data + start, k - start);
            if (!part) break;
            path->items[p++] = OBJ_VAL(part);
            start = k + 1;
        }
        if (p < parts) break;
    }
    if (i == nargs) g = getter_new(ts, type, items);
    vm_pop(ts);
    return g ? OBJ_VAL(g) : ERROR_VAL;
}

static Value attr_path(TState *ts, Value obj, ObjTuple *path) {
    for (size_t i = 0; i < path->len && !IS_ERROR(obj); i++) {
        vm_push(ts, obj);
        obj = ops_getattr(ts, obj, AS_STR(path->items[i]));
        vm_pop(ts);
    }
    return obj;
}

static Value attrgetter_call(TState *ts, Value self, Value *args, int nargs, ObjTuple *kwnames) {
    if (!check_getter(ts, "attrgetter", nargs, kwnames, 1, 1)) return ERROR_VAL;
    ObjTuple *items = GETTER(self)->items;
    if (items->len == 1) return attr_path(ts, args[0], AS_TUPLE(items->items[0]));
    ObjTuple *r = tuple_new(ts, items->len);
    if (!r) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(r));
    Value out = OBJ_VAL(r);
    for (size_t i = 0; i < items->len; i++) {
        Value v = attr_path(ts, args[0], AS_TUPLE(items->items[i]));
        if (IS_ERROR(v)) {
            out = v;
            break;
        }
        r->items[i] = v;
    }
    vm_pop(ts);
    return out;
}

/* The dotted names again, from their parts. */
static Value attrgetter_repr(TState *ts, Value self) {
    ObjTuple *items = GETTER(self)->items;
    ObjTuple *names = tuple_new(ts, items->len);
    if (!names) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(names));
    Value r = NONE_VAL;
    for (size_t i = 0; i < items->len && !IS_ERROR(r); i++) {
        ObjTuple *path = AS_TUPLE(items->items[i]);
        StrBuf sb;
        sb_init(&sb);
        bool ok = true;
        for (size_t k = 0; ok && k < path->len; k++)
            ok = (k == 0 || sb_append_char(&sb, '.')) &&
                 sb_append(&sb, AS_STR(path->items[k])->data, AS_STR(path->items[k])->len);
        ObjStr *s = ok ? str_from_sb(ts, &sb) : NULL;
        if (!ok) sb_free(&sb);
        if (!s) r = ok ? ERROR_VAL : err_no_memory(ts);
        else names->items[i] = OBJ_VAL(s);
    }
    if (!IS_ERROR(r)) r = getter_repr_of(ts, "attrgetter", names->items, (int)names->len, NULL);
    vm_pop(ts);
    return r;
}

static Value methodcaller_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    if (nargs < 1)
        return err_format(ts, EXCS(ts)->TypeError, "methodcaller needs at least one argument, the method name");
    if (!IS_STR(args[0])) return err_format(ts, EXCS(ts)->TypeError, "method name must be a string");
    int nkw = kwnames ? (int)kwnames->len : 0;
    ObjStr *name = str_intern_obj(ts, AS_STR(args[0]));
    ObjTuple *items = name ? tuple_from(ts, args, (size_t)(nargs + nkw)) : NULL;
    if (!items) return ERROR_VAL;
    items->items[0] = OBJ_VAL(name);
    ObjGetter *g = getter_new(ts, type, items);
    if (!g) return ERROR_VAL;
    g->kwnames = nkw ? kwnames : NULL;
    g->nargs = nargs - 1;
    return OBJ_VAL(g);
}

static Value methodcaller_call(TState *ts, Value self, Value *args, int nargs, ObjTuple *kwnames) {
    if (!check_getter(ts, "methodcaller", nargs, kwnames, 1, 1)) return ERROR_VAL;
    ObjGetter *g = GETTER(self);
    Value method = ops_getattr(ts, args[0], AS_STR(g->items->items[0]));
    if (IS_ERROR(method)) return method;
    vm_push(ts, method);
    Value r = ops_call(ts, method, g->items->items + 1, g->nargs, g->kwnames);
    vm_pop(ts);
    return r;
}

static Value methodcaller_repr(TState *ts, Value self) {
    ObjGetter *g = GETTER(self);
    return getter_repr_of(ts, "methodcaller", g->items->items, (int)g->items->len, g->kwnames);
}

/* ---- the module ------------------------------------------------------------ */

#define FN_ENTRY(NAME, OP) {#NAME, op_##NAME},

static const NativeDef operator_functions[] = {
    BINARY_OPS(FN_ENTRY) INPLACE_OPS(FN_ENTRY) COMPARE_OPS(FN_ENTRY) UNARY_OPS(FN_ENTRY)
    {"truth", op_truth},
    {"not_", op_not_},
    {"index", op_index},
    {"is_", op_is_},
    {"is_not", op_is_not},
    {"concat", op_concat},
    {"iconcat", op_iconcat},
    {"contains", op_contains},
    {"countOf", op_countOf},
    {"indexOf", op_indexOf},
    {"getitem", op_getitem},
    {"setitem", op_setitem},
    {"delitem", op_delitem},
    {"length_hint", op_length_hint},
    {"call", op_call},
    {NULL, NULL},
};

/* CPython's dunder aliases: the same objects under a second name. */
static const char *const operator_aliases[][2] = {
    {"__lt__", "lt"}, {"__le__", "le"}, {"__eq__", "eq"}, {"__ne__", "ne"}, {"__ge__", "ge"},
    {"__gt__", "gt"}, {"__not__", "not_"}, {"__abs__", "abs"}, {"__add__", "add"}, {"__and__", "and_"},
    {"__floordiv__", "floordiv"}, {"__index__", "index"}, {"__inv__", "inv"}, {"__invert__", "invert"},
    {"__lshift__", "lshift"}, {"__mod__", "mod"}, {"__mul__", "mul"}, {"__matmul__", "matmul"},
    {"__neg__", "neg"}, {"__or__", "or_"}, {"__pos__", "pos"}, {"__pow__", "pow"}, {"__rshift__", "rshift"},
    {"__sub__", "sub"}, {"__truediv__", "truediv"}, {"__xor__", "xor"}, {"__concat__", "concat"},
    {"__contains__", "contains"}, {"__delitem__", "delitem"}, {"__getitem__", "getitem"},
    {"__setitem__", "setitem"}, {"__iadd__", "iadd"}, {"__iand__", "iand"}, {"__iconcat__", "iconcat"},
    {"__ifloordiv__", "ifloordiv"}, {"__ilshift__", "ilshift"}, {"__imod__", "imod"}, {"__imul__", "imul"},
    {"__imatmul__", "imatmul"}, {"__ior__", "ior"}, {"__ipow__", "ipow"}, {"__irshift__", "irshift"},
    {"__isub__", "isub"}, {"__itruediv__", "itruediv"}, {"__ixor__", "ixor"}, {"__call__", "call"},
};

static const TypeSpec getter_specs[] = {
    {.name = "itemgetter", .kind = OBJ_OPAQUE, .obj_size = getter_size, .new_ = itemgetter_new,
     .call = itemgetter_call, .repr = itemgetter_repr, .trace = getter_trace},
    {.name = "attrgetter", .kind = OBJ_OPAQUE, .obj_size = getter_size, .new_ = attrgetter_new,
     .call = attrgetter_call, .repr = attrgetter_repr, .trace = getter_trace},
    {.name = "methodcaller", .kind = OBJ_OPAQUE, .obj_size = getter_size, .new_ = methodcaller_new,
     .call = methodcaller_call, .repr = methodcaller_repr, .trace = getter_trace},
};

bool mod_operator_init(TState *ts, ObjDict *ns) {
    for (const NativeDef *d = operator_functions; d->name; d++) {
        ObjNative *fn = native_new(ts, d->name, d->fn, NULL);
        if (!fn || dict_set_str(ts, ns, str_intern_cstr(ts, d->name), OBJ_VAL(fn)) < 0) return false;
    }
    /* abs is the built-in one (CPython's operator.abs behaves the same). */
    Value abs = dict_get_str(ts->interp->builtins, str_intern_cstr(ts, "abs"));
    if (IS_EMPTY(abs) || dict_set_str(ts, ns, str_intern_cstr(ts, "abs"), abs) < 0) return false;
    for (size_t i = 0; i < sizeof operator_aliases / sizeof *operator_aliases; i++) {
        Value fn = dict_get_str(ns, str_intern_cstr(ts, operator_aliases[i][1]));
        if (dict_set_str(ts, ns, str_intern_cstr(ts, operator_aliases[i][0]), fn) < 0) return false;
    }
    ObjStr *module = str_intern_cstr(ts, "operator");
    for (size_t i = 0; i < sizeof getter_specs / sizeof *getter_specs; i++) {
        ObjType *t = type_from_spec(ts, &getter_specs[i], NULL);
        if (!t) return false;
        t->module = OBJ_VAL(module);
        if (dict_set_str(ts, ns, t->name, OBJ_VAL(t)) < 0) return false;
    }
    /* __all__: every public name, sorted, as CPython's list is. */
    ObjList *all = list_new(ts, 0);
    if (!all || dict_set_str(ts, ns, str_intern_cstr(ts, "__all__"), OBJ_VAL(all)) < 0) return false;
    size_t pos = 0;
    Value key, value;
    while (dict_next(ns, &pos, &key, &value))
        if (IS_STR(key) && AS_STR(key)->data[0] != '_' && list_append(ts, all, key) < 0) return false;
    return list_sort(ts, all, NONE_VAL, false) == 0;
}
