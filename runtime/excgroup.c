/* BaseExceptionGroup and ExceptionGroup (PEP 654), CPython 3.11's:
 *  - construction: BaseExceptionGroup(message, exceptions) checks its
 *    arguments with CPython's messages, keeps the message and a tuple of the
 *    exceptions (args keeps them as given), and is an ExceptionGroup when
 *    every exception is an Exception;
 *  - split and subgroup: one recursive walk (eg_split) that keeps the
 *    group's nesting, building each part with derive() and giving it the
 *    group's __traceback__, __cause__, __context__ and a copy of __notes__;
 *  - what `except*` asks (the CHECK_EG_MATCH and PREP_RERAISE_STAR
 *    instructions): the part of an exception a clause takes, and what the
 *    statement re-raises at its end, the exceptions the clauses raised
 *    grouped with the unhandled rest, kept in the original group's shape.
 * The groups print in tracebacks through runtime/error.c. */
#include "runtime/excgroup.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/args.h"
#include "runtime/class.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/function.h"
#include "runtime/generic.h"
#include "runtime/list.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "vm/interp.h"
#include "vm/vm.h"

bool eg_is_group(TState *ts, Value v) {
    return IS_EXCEPTION(v) && type_is_subtype(OBJ_TYPE(v), ts->interp->exc.BaseExceptionGroup) &&
           IS_TUPLE(AS_EXCEPTION(v)->group_excs);
}

ObjTuple *eg_exceptions(Value group) { return AS_TUPLE(AS_EXCEPTION(group)->group_excs); }

/* PySequence_Check: a type with item access that is not a mapping. */
static bool is_sequence(TState *ts, Value v) {
    ObjType *t = val_type(ts, v);
    return t->getitem && !(t->flags & TYPEF_MAPPING) && !type_is_subtype(t, ts->interp->types.dict);
}

Value eg_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    Interp *interp = ts->interp;
    if (kwnames && kwnames->len > 0)
        return err_format(ts, interp->exc.TypeError, "%s() takes no keyword arguments", type->name->data);
    if (nargs != 2)
        return err_format(ts, interp->exc.TypeError, "BaseExceptionGroup.__new__() takes exactly 2 arguments (%d given)",
                          nargs);
    if (!IS_STR(args[0]))
        return err_format(ts, interp->exc.TypeError, "BaseExceptionGroup.__new__() argument 1 must be str, not %s",
                          ops_type_name(ts, args[0]));
    if (!is_sequence(ts, args[1]))
        return err_format(ts, interp->exc.TypeError, "second argument (exceptions) must be a sequence");
    ObjTuple *excs = ops_to_tuple(ts, args[1]);
    if (!excs) return ERROR_VAL;
    if (excs->len == 0)
        return err_format(ts, interp->exc.ValueError, "second argument (exceptions) must be a non-empty sequence");
    bool nested_base = false;
    for (size_t i = 0; i < excs->len; i++) {
        if (!IS_EXCEPTION(excs->items[i]))
            return err_format(ts, interp->exc.ValueError, "Item %zu of second argument (exceptions) is not an exception",
                              i);
        nested_base |= !type_is_subtype(OBJ_TYPE(excs->items[i]), interp->exc.Exception);
    }
    if (type == interp->exc.ExceptionGroup && nested_base)
        return err_format(ts, interp->exc.TypeError, "Cannot nest BaseExceptions in an ExceptionGroup");
    if (type == interp->exc.BaseExceptionGroup && !nested_base) type = interp->exc.ExceptionGroup;
    if (nested_base && type_is_subtype(type, interp->exc.Exception))
        return err_format(ts, interp->exc.TypeError, "Cannot nest BaseExceptions in '%s'", type->name->data);
    vm_push(ts, OBJ_VAL(excs));
    Value e = exc_new(ts, type, args, nargs);
    vm_pop(ts);
    if (IS_ERROR(e)) return e;
    AS_EXCEPTION(e)->group_msg = args[0];
    AS_EXCEPTION(e)->group_excs = OBJ_VAL(excs);
    return e;
}

Value eg_str(TState *ts, Value self) {
    ObjException *e = AS_EXCEPTION(self);
    if (!IS_STR(e->group_msg) || !IS_TUPLE(e->group_excs)) return OBJ_VAL(ts->interp->names.empty);
    size_t n = AS_TUPLE(e->group_excs)->len;
    return OBJ_VAL(str_printf(ts, "%s (%zu sub-exception%s)", AS_STR(e->group_msg)->data, n, n > 1 ? "s" : ""));
}

/* ---- split ---------------------------------------------------------------- */

typedef enum MatchKind {
    MATCH_TYPE,      /* an exception class or a tuple of them */
    MATCH_PREDICATE, /* a function, true for the exceptions it takes */
    MATCH_LEAVES,    /* these very exceptions (the leaves `except*` re-raises) */
} MatchKind;

typedef struct Matcher {
    MatchKind kind;
    Value value;
    Obj **leaves; /* MATCH_LEAVES: sorted */
    size_t nleaves;
} Matcher;

static bool is_exception_class(Value v) { return IS_TYPE(v) && (AS_TYPE(v)->flags & TYPEF_EXCEPTION); }

static bool matcher_of(TState *ts, Value v, Matcher *m) {
    m->value = v;
    m->leaves = NULL;
    m->nleaves = 0;
    if (IS_FUNCTION(v)) {
        m->kind = MATCH_PREDICATE;
        return true;
    }
    bool ok = is_exception_class(v);
    if (IS_TUPLE(v) && OBJ_TYPE(v) == ts->interp->types.tuple) {
        ok = true;
        for (size_t i = 0; i < AS_TUPLE(v)->len; i++) ok = ok && is_exception_class(AS_TUPLE(v)->items[i]);
    }
    if (!ok) {
        err_format(ts, ts->interp->exc.TypeError, "expected a function, exception type or tuple of exception types");
        return false;
    }
    m->kind = MATCH_TYPE;
    return true;
}

static bool type_matches(ObjType *t, Value type) {
    if (IS_TUPLE(type)) {
        for (size_t i = 0; i < AS_TUPLE(type)->len; i++)
            if (type_matches(t, AS_TUPLE(type)->items[i])) return true;
        return false;
    }
    return IS_TYPE(type) && type_is_subtype(t, AS_TYPE(type));
}

static int compare_ptr(const void *a, const void *b) {
    uintptr_t x = (uintptr_t)*(Obj *const *)a, y = (uintptr_t)*(Obj *const *)b;
    return (x > y) - (x < y);
}

/* 1 when the matcher takes exc whole, 0 when not, -1 after raising. */
static int matches(TState *ts, const Matcher *m, Value exc) {
    switch (m->kind) {
    case MATCH_TYPE: return type_matches(OBJ_TYPE(exc), m->value);
    case MATCH_PREDICATE: {
        Value r = vm_call(ts, m->value, &exc, 1, NULL);
        return IS_ERROR(r) ? -1 : ops_truth(ts, r);
    }
    case MATCH_LEAVES: {
        Obj *key = AS_OBJ(exc);
        return m->nleaves && bsearch(&key, m->leaves, m->nleaves, sizeof key, compare_ptr) != NULL;
    }
    }
    return 0;
}

/* orig.derive(excs) with orig's traceback, cause, context and notes (a
 * copy), as CPython's exceptiongroup_subset; EMPTY_VAL for no exceptions. */
static Value subset(TState *ts, Value orig, ObjList *excs) {
    if (list_len(excs) == 0) return EMPTY_VAL;
    Interp *interp = ts->interp;
    Value derive = ops_getattr(ts, orig, str_intern_cstr(ts, "derive"));
    if (IS_ERROR(derive)) return derive;
    vm_push(ts, derive);
    Value arg = OBJ_VAL(excs);
    Value eg = vm_call(ts, derive, &arg, 1, NULL);
    vm_pop(ts);
    if (IS_ERROR(eg)) return eg;
    if (!eg_is_group(ts, eg))
        return err_format(ts, interp->exc.TypeError, "derive must return an instance of BaseExceptionGroup");
    ObjException *from = AS_EXCEPTION(orig), *to = AS_EXCEPTION(eg);
    to->traceback = from->traceback;
    to->context = from->context;
    to->cause = from->cause;
    to->suppress_context = true; /* CPython sets the cause, which sets this */
    vm_push(ts, eg);
    ObjStr *name = str_intern_cstr(ts, "__notes__");
    Value notes = ops_getattr_opt(ts, orig, name);
    if (!IS_ERROR(notes) && !IS_EMPTY(notes) && is_sequence(ts, notes)) {
        ObjList *copy = ops_to_list(ts, notes);
        if (!copy || ops_setattr(ts, eg, name, OBJ_VAL(copy)) < 0) notes = ERROR_VAL;
    }
    vm_pop(ts);
    return IS_ERROR(notes) ? notes : eg;
}

/* Splits exc by m into *match and (with rest) *rest, each EMPTY_VAL when
 * there is nothing, keeping the nesting of groups. */
static bool split(TState *ts, Value exc, const Matcher *m, bool rest_too, Value *match, Value *rest) {
    *match = *rest = EMPTY_VAL;
    int whole = matches(ts, m, exc);
    if (whole < 0) return false;
    if (whole) {
        *match = exc;
        return true;
    }
    if (!eg_is_group(ts, exc)) {
        if (rest_too) *rest = exc;
        return true;
    }
    if (!vm_enter_native(ts)) return false;
    ObjList *matched = list_new(ts, 0);
    ObjList *others = matched ? list_new(ts, 0) : NULL;
    if (!others) {
        vm_leave_native(ts);
        return false;
    }
    vm_push(ts, OBJ_VAL(matched));
    vm_push(ts, OBJ_VAL(others));
    ObjTuple *excs = eg_exceptions(exc);
    bool ok = true;
    for (size_t i = 0; ok && i < excs->len; i++) {
        Value part_match, part_rest;
        ok = split(ts, excs->items[i], m, rest_too, &part_match, &part_rest) &&
             (IS_EMPTY(part_match) || list_append(ts, matched, part_match) == 0) &&
             (IS_EMPTY(part_rest) || list_append(ts, others, part_rest) == 0);
    }
    if (ok) {
        *match = subset(ts, exc, matched);
        ok = !IS_ERROR(*match);
    }
    if (ok && rest_too) {
        vm_push(ts, *match);
        *rest = subset(ts, exc, others);
        vm_pop(ts);
        ok = !IS_ERROR(*rest);
    }
    vm_pop(ts);
    vm_pop(ts);
    vm_leave_native(ts);
    return ok;
}

static Value split_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames, const char *name, bool rest_too) {
    if (kwnames && kwnames->len > 0)
        return err_format(ts, ts->interp->exc.TypeError, "%s() takes no keyword arguments", name);
    if (nargs != 2)
        return err_format(ts, ts->interp->exc.TypeError, "%s expected 1 argument, got %d", name, nargs - 1);
    if (!eg_is_group(ts, args[0]))
        return err_format(ts, ts->interp->exc.TypeError, "descriptor '%s' requires a 'BaseExceptionGroup' object", name);
    Matcher m;
    Value match, rest;
    if (!matcher_of(ts, args[1], &m) || !split(ts, args[0], &m, rest_too, &match, &rest)) return ERROR_VAL;
    if (IS_EMPTY(match)) match = NONE_VAL;
    if (!rest_too) return match;
    ObjTuple *pair = tuple_pack2(ts, match, IS_EMPTY(rest) ? NONE_VAL : rest);
    return pair ? OBJ_VAL(pair) : ERROR_VAL;
}

static Value eg_split_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return split_method(ts, args, nargs, kwnames, "split", true);
}

static Value eg_subgroup(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return split_method(ts, args, nargs, kwnames, "subgroup", false);
}

/* derive(excs): BaseExceptionGroup(self.message, excs), which a subclass
 * overrides so that split() makes parts of its own class. */
static Value eg_derive(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (kwnames && kwnames->len > 0)
        return err_format(ts, ts->interp->exc.TypeError, "derive() takes no keyword arguments");
    if (nargs != 2)
        return err_format(ts, ts->interp->exc.TypeError, "function takes exactly 1 argument (%d given)", nargs - 1);
    if (!eg_is_group(ts, args[0]))
        return err_format(ts, ts->interp->exc.TypeError, "descriptor 'derive' requires a 'BaseExceptionGroup' object");
    Value call[2] = {AS_EXCEPTION(args[0])->group_msg, args[1]};
    return vm_call(ts, OBJ_VAL(ts->interp->exc.BaseExceptionGroup), call, 2, NULL);
}

static Value get_message(TState *ts, Value self) {
    (void)ts;
    return AS_EXCEPTION(self)->group_msg;
}

static Value get_exceptions(TState *ts, Value self) {
    (void)ts;
    return AS_EXCEPTION(self)->group_excs;
}

static int set_readonly(TState *ts, Value self, Value v) {
    (void)self;
    (void)v;
    err_format(ts, ts->interp->exc.AttributeError, "readonly attribute");
    return -1;
}

static const NativeDef eg_methods[] = {
    {"derive", eg_derive},
    {"split", eg_split_method},
    {"subgroup", eg_subgroup},
    {NULL, NULL},
};

static const NativeDef eg_classmethods[] = {
    {"__class_getitem__", generic_class_getitem},
    {NULL, NULL},
};

static const GetSetDef eg_getsets[] = {
    {"message", get_message, set_readonly},
    {"exceptions", get_exceptions, set_readonly},
    {NULL, NULL, NULL},
};

void eg_spec(TypeSpec *spec) {
    spec->methods = eg_methods;
    spec->classmethods = eg_classmethods;
    spec->getsets = eg_getsets;
}

bool eg_init_types(TState *ts) {
    ExcTypes *exc = &ts->interp->exc;
    ObjType *group = exc->ExceptionGroup;
    Value mro[5] = {OBJ_VAL(group), OBJ_VAL(exc->BaseExceptionGroup), OBJ_VAL(exc->Exception),
                    OBJ_VAL(exc->BaseException), OBJ_VAL(ts->interp->types.object)};
    ObjTuple *t = tuple_from(ts, mro, 5);
    ObjTuple *bases = t ? tuple_pack2(ts, mro[1], mro[2]) : NULL;
    if (!bases) return false;
    group->mro = t;
    group->bases = bases;
    atomic_fetch_add(&ts->interp->type_epoch, 1);
    return true;
}

/* ---- except* -------------------------------------------------------------- */

Value eg_except_star_match(TState *ts, Value exc, Value type, Value *rest) {
    Interp *interp = ts->interp;
    bool group_class = false;
    if (IS_TUPLE(type)) {
        for (size_t i = 0; i < AS_TUPLE(type)->len; i++)
            group_class |= IS_TYPE(AS_TUPLE(type)->items[i]) &&
                           type_is_subtype(AS_TYPE(AS_TUPLE(type)->items[i]), interp->exc.BaseExceptionGroup);
    } else {
        group_class = IS_TYPE(type) && type_is_subtype(AS_TYPE(type), interp->exc.BaseExceptionGroup);
    }
    if (group_class)
        return err_format(ts, interp->exc.TypeError,
                          "catching ExceptionGroup with except* is not allowed. Use except instead.");
    *rest = exc;
    if (IS_NONE(exc)) return NONE_VAL;
    if (type_matches(OBJ_TYPE(exc), type)) {
        *rest = NONE_VAL;
        if (eg_is_group(ts, exc)) return exc;
        /* A naked exception is taken wrapped: ExceptionGroup("", (exc,)). */
        ObjTuple *one = tuple_from(ts, &exc, 1);
        if (!one) return ERROR_VAL;
        vm_push(ts, OBJ_VAL(one));
        Value wrap[2] = {OBJ_VAL(interp->names.empty), OBJ_VAL(one)};
        Value group = vm_call(ts, OBJ_VAL(interp->exc.BaseExceptionGroup), wrap, 2, NULL);
        vm_pop(ts);
        return group;
    }
    if (!eg_is_group(ts, exc)) return NONE_VAL;
    Matcher m = {MATCH_TYPE, type, NULL, 0};
    Value match;
    if (!split(ts, exc, &m, true, &match, rest)) return ERROR_VAL;
    if (IS_EMPTY(match)) {
        *rest = exc; /* the group itself stays, not a copy */
        return NONE_VAL;
    }
    if (IS_EMPTY(*rest)) *rest = NONE_VAL;
    return match;
}

/* Appends the leaves of exc (itself, or those of the groups in it). */
static bool collect_leaves(TState *ts, Value exc, Obj ***leaves, size_t *n, size_t *cap) {
    if (IS_NONE(exc)) return true;
    if (eg_is_group(ts, exc)) {
        ObjTuple *excs = eg_exceptions(exc);
        for (size_t i = 0; i < excs->len; i++)
            if (!collect_leaves(ts, excs->items[i], leaves, n, cap)) return false;
        return true;
    }
    if (*n == *cap) {
        size_t more = *cap ? *cap * 2 : 16;
        Obj **grown = realloc(*leaves, more * sizeof **leaves);
        if (!grown) return false;
        *leaves = grown;
        *cap = more;
    }
    (*leaves)[(*n)++] = AS_OBJ(exc);
    return true;
}

/* Was e re-raised as it was caught (the same traceback and chain as the
 * group it came from), rather than raised anew? Notes are not compared:
 * split gives each part a copy, and CPython 3.11 compares a field that
 * stays empty. */
static bool same_metadata(Value e, Value orig) {
    ObjException *a = AS_EXCEPTION(e), *b = AS_EXCEPTION(orig);
    return a->traceback == b->traceback && a->cause == b->cause && a->context == b->context;
}

Value eg_prep_reraise_star(TState *ts, Value orig, ObjList *excs) {
    size_t n = list_len(excs);
    if (n == 0) return NONE_VAL;
    /* A naked exception: only one clause ran, so one exception at most. */
    if (!eg_is_group(ts, orig)) return list_get(excs, 0);
    ObjList *raised = list_new(ts, 0);
    if (!raised) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(raised));
    Matcher m = {MATCH_LEAVES, NONE_VAL, NULL, 0};
    size_t cap = 0;
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        Value e = list_get(excs, i);
        if (IS_NONE(e)) continue;
        ok = same_metadata(e, orig) ? collect_leaves(ts, e, &m.leaves, &m.nleaves, &cap)
                                        : list_append(ts, raised, e) == 0;
    }
    Value result = ERROR_VAL;
    if (!ok && !err_occurred(ts)) err_no_memory(ts);
    if (ok) {
        if (m.nleaves) qsort(m.leaves, m.nleaves, sizeof *m.leaves, compare_ptr);
        Value reraised = EMPTY_VAL, unused;
        /* The re-raised leaves keep the shape they had in the original. */
        ok = split(ts, orig, &m, false, &reraised, &unused);
        if (ok && !IS_EMPTY(reraised)) ok = list_append(ts, raised, reraised) == 0;
        if (ok) result = list_len(raised) == 0 ? NONE_VAL : list_len(raised) == 1 ? list_get(raised, 0) : EMPTY_VAL;
        if (ok && IS_EMPTY(result)) {
            Value wrap[2] = {OBJ_VAL(ts->interp->names.empty), OBJ_VAL(raised)};
            result = vm_call(ts, OBJ_VAL(ts->interp->exc.BaseExceptionGroup), wrap, 2, NULL);
        }
    }
    free(m.leaves);
    vm_pop(ts);
    return result;
}
