/* The dispatch loop.
 *
 * Hot state lives in C locals (ip, sp, locals, the code's constants) and is
 * written back to the frame only when control leaves the loop's view: a
 * call, a safepoint, an error. Calls between mini functions push a frame
 * and continue in the same loop (no C recursion); C code that calls mini
 * code (vm_call) starts a nested run that ends when its entry frame
 * returns. Dispatch is computed goto or a switch, chosen by CMake
 * (MINI_COMPUTED_GOTO); both are generated from vm/opcodes.def. */

#include "vm/vm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/class.h"
#include "runtime/coroutine.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/excgroup.h"
#include "runtime/float.h"
#include "runtime/function.h"
#include "runtime/generator.h"
#include "runtime/int.h"
#include "runtime/iterator.h"
#include "runtime/list.h"
#include "runtime/module.h"
#include "runtime/ops.h"
#include "runtime/range.h"
#include "runtime/set.h"
#include "runtime/shape.h"
#include "runtime/str.h"
#include "runtime/strbuf.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "vm/code.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/match.h"
#include "vm/settrace.h"
#include "vm/opcodes.h"
#include "vm/signals.h"
#include "vm/thread.h"

/* ---- stack helpers for C code ----------------------------------------- */

/* The frame whose stack top is the first free slot of the thread's value
 * stack: the innermost frame not running a generator (a generator's values
 * live in the generator object, not on the thread stack). */
static Frame *stack_owner(TState *ts) {
    Frame *f = &ts->frames[ts->frame_count - 1];
    return f->gen ? f->owner : f;
}

void vm_push(TState *ts, Value v) {
    Frame *f = stack_owner(ts);
    *f->sp++ = v;
}

Value vm_pop(TState *ts) {
    Frame *f = stack_owner(ts);
    return *--f->sp;
}

bool vm_enter_native(TState *ts) {
    if (++ts->native_depth > MINI_MAX_NATIVE_DEPTH) {
        ts->native_depth--;
        err_format(ts, ts->interp->exc.RecursionError, "maximum recursion depth exceeded");
        return false;
    }
    return true;
}

void vm_leave_native(TState *ts) { ts->native_depth--; }

int vm_current_line(TState *ts) {
    for (int i = ts->frame_count - 1; i > 0; i--) {
        Frame *f = &ts->frames[i];
        if (f->fn) return (int)f->fn->code->lines[f->ip > f->fn->code->instrs ? f->ip - f->fn->code->instrs - 1 : 0];
    }
    return 0;
}

const char *vm_super_context(TState *ts, ObjType **type, Value *self) {
    Frame *f = &ts->frames[ts->frame_count - 1];
    if (!f->fn) return "super(): no current frame";
    ObjCode *code = f->fn->code;
    if (code->argcount < 1) return "super(): no arguments";
    Value first = f->base[0];
    if (IS_CELL(first)) first = cell_get(AS_CELL(first));
    if (IS_EMPTY(first)) return "super(): arg[0] deleted";
    /* The __class__ cell the compiler gave the function (a free variable). */
    for (uint32_t i = code->nlocals - code->nfree; i < code->nlocals; i++) {
        if (code->varnames[i] != ts->interp->names.class_) continue;
        Value cls = IS_CELL(f->base[i]) ? cell_get(AS_CELL(f->base[i])) : EMPTY_VAL;
        if (IS_EMPTY(cls)) return "super(): empty __class__ cell";
        if (!IS_TYPE(cls)) return "super(): __class__ is not a type";
        *type = AS_TYPE(cls);
        *self = first;
        return NULL;
    }
    return "super(): __class__ cell not found";
}

static void safepoint_gc(TState *ts) {
    thread_park(ts);
    GcState *gc = &ts->interp->gc;
    size_t threshold = gc->threshold;
    /* gc.disable(), or gc.set_threshold(0): fewer collections, never none
     * (see MINI_GC_DISABLED_FACTOR). */
    if (atomic_load_explicit(&gc->disabled, memory_order_relaxed))
        threshold *= MINI_GC_DISABLED_FACTOR;
    if (gc->stress || atomic_load_explicit(&gc->allocated, memory_order_relaxed) >= threshold ||
        atomic_load_explicit(&gc->memory_short, memory_order_relaxed))
        gc_run(ts);
}

bool vm_safepoint(TState *ts) {
    /* The legacy GIL's tick alone, at nearly every check point: count it
     * and go on, as cheaply as CPython 2 decremented its ticker. */
    if (atomic_load_explicit(&ts->eval_breaker, memory_order_relaxed) == BREAK_GIL_TICK) {
        if (gil_tick_due(&ts->interp->gil, ts)) thread_yield_gil(ts, false);
        return true;
    }
    unsigned bits = atomic_fetch_and(&ts->eval_breaker, ~(unsigned)(BREAK_GC | BREAK_SIGNAL));
    if (bits & BREAK_GIL_DROP) thread_yield_gil(ts, true);
    else if (bits & BREAK_GIL_TICK && gil_tick_due(&ts->interp->gil, ts)) thread_yield_gil(ts, false);
    if (bits & BREAK_GC) safepoint_gc(ts);
    if (bits & BREAK_BUDGET) {
        err_set_value(ts, ts->interp->exc.KeyboardInterrupt, NONE_VAL);
        AS_EXCEPTION(ts->exc)->args = ts->interp->no_args;
        return false;
    }
    return ts != ts->interp->main_thread || signals_run_handlers(ts);
}

/* ---- argument binding -------------------------------------------------- */

/* "f() got some positional-only arguments passed as keyword arguments:
 * 'a, b'", CPython's message when keywords name positional-only
 * parameters of a function without **kwargs. False: none did. */
static bool posonly_passed_as_keyword(TState *ts, ObjFunction *fn, ObjTuple *kwnames) {
    ObjCode *code = fn->code;
    StrBuf sb;
    sb_init(&sb);
    bool any = false, ok = true;
    for (uint32_t i = 0; ok && i < code->posonlycount; i++)
        for (size_t k = 0; k < kwnames->len; k++)
            if (str_equal(code->varnames[i], AS_STR(kwnames->items[k]))) {
                ok = sb_appendf(&sb, "%s%s", any ? ", " : "", code->varnames[i]->data);
                any = true;
                break;
            }
    if (any && ok)
        err_format(ts, ts->interp->exc.TypeError,
                   "%s() got some positional-only arguments passed as keyword arguments: '%s'",
                   fn->qualname->data, sb.data);
    else if (any)
        err_no_memory(ts);
    sb_free(&sb);
    return any;
}

static Value too_many_positional(TState *ts, ObjFunction *fn, int given, int kwgiven) {
    ObjCode *code = fn->code;
    int max = (int)code->argcount;
    int ndefaults = fn->defaults ? (int)fn->defaults->len : 0;
    int min = max - ndefaults;
    char expected[64];
    if (ndefaults > 0) snprintf(expected, sizeof expected, "from %d to %d", min, max);
    else snprintf(expected, sizeof expected, "%d", max);
    if (kwgiven > 0)
        return err_format(ts, ts->interp->exc.TypeError,
                          "%s() takes %s positional argument%s but %d positional argument%s (and %d keyword-only argument%s) were given",
                          fn->qualname->data, expected, max == 1 && !ndefaults ? "" : "s", given,
                          given == 1 ? "" : "s", kwgiven, kwgiven == 1 ? "" : "s");
    return err_format(ts, ts->interp->exc.TypeError, "%s() takes %s positional argument%s but %d %s given",
                      fn->qualname->data, expected, max == 1 && !ndefaults ? "" : "s", given,
                      given == 1 ? "was" : "were");
}

static Value missing_arguments(TState *ts, ObjFunction *fn, Value *locals, uint32_t from,
                               uint32_t to, const char *kind) {
    ObjCode *code = fn->code;
    char names[512] = "";
    size_t len = 0;
    int count = 0, total = 0;
    for (uint32_t i = from; i < to; i++)
        if (IS_EMPTY(locals[i])) total++;
    for (uint32_t i = from; i < to; i++) {
        if (!IS_EMPTY(locals[i])) continue;
        count++;
        const char *sep = count == 1 ? "" : (count == total ? (total == 2 ? " and " : ", and ") : ", ");
        len += (size_t)snprintf(names + len, len < sizeof names ? sizeof names - len : 0, "%s'%s'",
                                sep, code->varnames[i]->data);
        if (len >= sizeof names) len = sizeof names - 1;
    }
    return err_format(ts, ts->interp->exc.TypeError, "%s() missing %d required %s argument%s: %s",
                      fn->qualname->data, total, kind, total == 1 ? "" : "s", names);
}

/* Where keyword `key` binds among the parameters that take keywords (not
 * the positional-only ones), or UINT32_MAX: names are interned, so a
 * pointer comparison finds it first (as CPython). */
static uint32_t keyword_position(ObjCode *code, ObjStr *key) {
    uint32_t end = code->argcount + code->kwonlycount;
    for (uint32_t i = code->posonlycount; i < end; i++)
        if (code->varnames[i] == key) return i;
    for (uint32_t i = code->posonlycount; i < end; i++)
        if (str_equal(code->varnames[i], key)) return i;
    return UINT32_MAX;
}

/* Lays out the arguments as the function's first locals, in CPython's
 * order and with its errors: positional parameters, *args, **kwargs, the
 * keywords, then defaults and keyword-only defaults. The positional
 * arguments are at `args`, which is `dst` (already in place) or does not
 * overlap it; the keyword values follow them. */
static bool bind_general(TState *ts, ObjFunction *fn, Value *dst, Value *args, int nargs, ObjTuple *kwnames) {
    ObjCode *code = fn->code;
    Interp *interp = ts->interp;
    uint32_t npos = code->argcount, nkwonly = code->kwonlycount;
    uint32_t slot = npos + nkwonly;
    int nkw = kwnames ? (int)kwnames->len : 0;
    /* The keyword values lie where the frame's locals go: set aside. */
    Value small[16];
    Value *kwvalues = nkw <= 16 ? small : malloc((size_t)nkw * sizeof(Value));
    if (!kwvalues) {
        err_no_memory(ts);
        return false;
    }
    if (nkw) memcpy(kwvalues, args + nargs, (size_t)nkw * sizeof(Value));
    bool ok = false;
    int take = nargs < (int)npos ? nargs : (int)npos;
    if (args != dst) memcpy(dst, args, (size_t)take * sizeof(Value));
    ObjTuple *rest = NULL;
    if ((code->flags & CODE_VARARGS) && !(rest = tuple_from(ts, args + take, (size_t)(nargs - take)))) goto done;
    for (uint32_t i = (uint32_t)take; i < code->nlocals; i++) dst[i] = EMPTY_VAL;
    if (rest) dst[slot++] = OBJ_VAL(rest);
    ObjDict *kwargs = NULL;
    if (code->flags & CODE_VARKW) {
        if (!(kwargs = dict_new(ts))) goto done;
        dst[slot++] = OBJ_VAL(kwargs);
    }
    for (int k = 0; k < nkw; k++) {
        ObjStr *key = AS_STR(kwnames->items[k]);
        uint32_t found = keyword_position(code, key);
        if (found == UINT32_MAX) {
            if (!kwargs) {
                if (!posonly_passed_as_keyword(ts, fn, kwnames))
                    err_format(ts, interp->exc.TypeError, "%s() got an unexpected keyword argument '%s'",
                               fn->qualname->data, key->data);
                goto done;
            }
            if (dict_set(ts, kwargs, OBJ_VAL(key), kwvalues[k]) < 0) goto done;
            continue;
        }
        if (!IS_EMPTY(dst[found])) {
            err_format(ts, interp->exc.TypeError, "%s() got multiple values for argument '%s'", fn->qualname->data,
                       key->data);
            goto done;
        }
        dst[found] = kwvalues[k];
    }
    if (nargs > (int)npos && !rest) {
        int kwonly_given = 0;
        for (uint32_t i = npos; i < npos + nkwonly; i++) kwonly_given += !IS_EMPTY(dst[i]);
        too_many_positional(ts, fn, nargs, kwonly_given);
        goto done;
    }
    if (take < (int)npos) {
        uint32_t ndefaults = fn->defaults ? (uint32_t)fn->defaults->len : 0;
        uint32_t first_default = npos - ndefaults;
        for (uint32_t i = (uint32_t)take; i < npos; i++)
            if (IS_EMPTY(dst[i]) && i >= first_default) dst[i] = fn->defaults->items[i - first_default];
        for (uint32_t i = (uint32_t)take; i < npos; i++)
            if (IS_EMPTY(dst[i])) {
                missing_arguments(ts, fn, dst, (uint32_t)take, npos, "positional");
                goto done;
            }
    }
    for (uint32_t i = npos; i < npos + nkwonly; i++) {
        if (!IS_EMPTY(dst[i]) || !fn->kwdefaults) continue;
        Value d = dict_get_str(fn->kwdefaults, code->varnames[i]);
        if (!IS_EMPTY(d)) dst[i] = d;
    }
    for (uint32_t i = npos; i < npos + nkwonly; i++)
        if (IS_EMPTY(dst[i])) {
            missing_arguments(ts, fn, dst, npos, npos + nkwonly, "keyword-only");
            goto done;
        }
    ok = true;
done:
    if (kwvalues != small) free(kwvalues);
    return ok;
}

/* Makes the cells a frame needs: captured parameters are wrapped, fresh
 * cells are made for captured locals, free variables come from the
 * function's closure (the last nfree locals). */
static bool setup_cells(TState *ts, ObjFunction *fn, Value *locals) {
    ObjCode *code = fn->code;
    for (uint32_t i = 0; i < code->ncells; i++) {
        uint32_t slot = code->cell_locals[i];
        ObjCell *cell = cell_new(ts, locals[slot]);
        if (!cell) return false;
        locals[slot] = OBJ_VAL(cell);
    }
    if (code->nfree) {
        uint32_t first = code->nlocals - code->nfree;
        for (uint32_t i = 0; i < code->nfree; i++) locals[first + i] = fn->closure->items[i];
    }
    return true;
}

/* Binds arguments into `base` (where the frame's locals will live).
 * `args` may equal `base` (the caller's stack already holds them in place)
 * or lie anywhere else. */
static bool bind_arguments(TState *ts, ObjFunction *fn, Value *base, Value *args, int nargs,
                           ObjTuple *kwnames) {
    ObjCode *code = fn->code;
    uint32_t ndefaults;
    /* Positional arguments only, the missing ones all defaulted. */
    if (!kwnames && nargs <= (int)code->argcount && !(code->flags & (CODE_VARARGS | CODE_VARKW)) &&
        code->kwonlycount == 0 &&
        (uint32_t)nargs + (ndefaults = fn->defaults ? (uint32_t)fn->defaults->len : 0) >= code->argcount) {
        if (nargs && args != base) memmove(base, args, (size_t)nargs * sizeof(Value));
        uint32_t first_default = code->argcount - ndefaults;
        for (uint32_t i = (uint32_t)nargs; i < code->argcount; i++) base[i] = fn->defaults->items[i - first_default];
        for (uint32_t i = code->argcount; i < code->nlocals; i++) base[i] = EMPTY_VAL;
    } else if (!bind_general(ts, fn, base, args, nargs, kwnames)) {
        return false;
    }
    if (code->ncells || code->nfree) return setup_cells(ts, fn, base);
    return true;
}

static bool check_recursion(TState *ts) {
    int limit = atomic_load_explicit(&ts->interp->recursion_limit, memory_order_relaxed);
    /* Frame 0 is the root, not a mini frame. */
    if (ts->frame_count > limit || ts->frame_count >= ts->frame_cap - 1) {
        err_format(ts, ts->interp->exc.RecursionError, "maximum recursion depth exceeded");
        return false;
    }
    return true;
}

/* Pushes a frame for `fn` with locals at `base`; arguments already bound.
 * Returns NULL after raising (stack overflow). */
static Frame *push_frame(TState *ts, ObjFunction *fn, Value *base) {
    if (!check_recursion(ts)) return NULL;
    if (base + CODE_FRAME_SIZE(fn->code) > ts->stack_end) {
        err_format(ts, ts->interp->exc.RecursionError, "maximum recursion depth exceeded");
        return NULL;
    }
    Frame *f = &ts->frames[ts->frame_count++];
    f->fn = fn;
    f->ip = fn->code->instrs;
    f->base = base;
    f->sp = base + fn->code->nlocals;
    f->locals = NULL;
    f->gen = NULL;
    f->flags = 0;
    return f;
}

/* Pushes the frame that resumes gen (the caller checked the depth). ip
 * and sp are loaded one by one (__atomic_load_n is never merged): the
 * compiler copied fn and ip with one 16-byte load, which stalls when the
 * yield has just stored ip (store forwarding fails), 6% of a generator
 * pipeline's time. */
static Frame *push_generator_frame(TState *ts, ObjGenerator *gen) {
    Frame *owner = stack_owner(ts);
    Frame *f = &ts->frames[ts->frame_count++];
    f->fn = gen->fn;
    f->ip = __atomic_load_n(&gen->ip, __ATOMIC_RELAXED);
    f->base = gen->values;
    f->sp = __atomic_load_n(&gen->sp, __ATOMIC_RELAXED);
    f->locals = NULL;
    f->gen = gen;
    f->owner = owner;
    f->flags = FRAME_ENTRY;
    return f;
}

static Value run(TState *ts);

/* While a generator runs, the handled exception is the one it was
 * handling where it last stopped, if it was in a handler, else its
 * resumer's; the resumer's is back when it stops (CPython's gi_exc_state).
 * The resumer's stays rooted as ts->gen_caller_handled, the one before
 * that in the generator (outer_handled), which is running and so
 * referenced by its frame. */
static void enter_generator(TState *ts, ObjGenerator *gen) {
    gen->outer_handled = ts->gen_caller_handled;
    ts->gen_caller_handled = ts->handled;
    if (!IS_EMPTY(gen->handled)) ts->handled = gen->handled;
}

/* Its frame stops (returns, yields or raises): called before the state
 * store that releases the generator, since once it is SUSPENDED another
 * thread may resume it (enter_generator writes outer_handled). */
static void leave_generator(TState *ts, ObjGenerator *gen) {
    ts->handled = ts->gen_caller_handled;
    ts->gen_caller_handled = gen->outer_handled;
    gen->outer_handled = EMPTY_VAL;
}

static Value run_generator(TState *ts, ObjGenerator *gen, bool throwing);

/* Calls a generator function: binds into a scratch area on the thread
 * stack, then moves the locals into a new generator object. */
static Value make_generator(TState *ts, ObjFunction *fn, Value *args, int nargs,
                            ObjTuple *kwnames) {
    Frame *owner = stack_owner(ts);
    Value *scratch = owner->sp;
    int total = nargs + (kwnames ? (int)kwnames->len : 0);
    if (scratch + total + fn->code->nlocals > ts->stack_end)
        return err_format(ts, ts->interp->exc.RecursionError, "maximum recursion depth exceeded");
    /* Keep the arguments rooted while binding may allocate. */
    Value *arg_copy = scratch;
    if (total) memmove(arg_copy, args, (size_t)total * sizeof(Value));
    Value *locals = scratch + total;
    owner->sp = locals;
    if (!bind_arguments(ts, fn, locals, arg_copy, nargs, kwnames)) {
        owner->sp = scratch;
        return ERROR_VAL;
    }
    owner->sp = locals + fn->code->nlocals;
    ObjGenerator *gen = generator_new(ts, fn, locals);
    owner->sp = scratch;
    return gen ? OBJ_VAL(gen) : ERROR_VAL;
}

Value vm_call_function(TState *ts, ObjFunction *fn, Value *args, int nargs, ObjTuple *kwnames) {
    if (fn->code->flags & CODE_GENERATOR) return make_generator(ts, fn, args, nargs, kwnames);
    Frame *owner = stack_owner(ts);
    Value *base = owner->sp;
    int total = nargs + (kwnames ? (int)kwnames->len : 0);
    if (base + total + CODE_FRAME_SIZE(fn->code) > ts->stack_end)
        return err_format(ts, ts->interp->exc.RecursionError, "maximum recursion depth exceeded");
    /* Arguments from C may live anywhere (keyword values follow the
     * positional ones): move them where the frame goes, and bind in place. */
    if (total && args != base) memmove(base, args, (size_t)total * sizeof(Value));
    if (!bind_arguments(ts, fn, base, base, nargs, kwnames)) return ERROR_VAL;
    if (!vm_enter_native(ts)) return ERROR_VAL;
    Frame *f = push_frame(ts, fn, base);
    if (!f) {
        vm_leave_native(ts);
        return ERROR_VAL;
    }
    f->flags = FRAME_ENTRY;
    Value r = run(ts);
    vm_leave_native(ts);
    return r;
}

Value vm_call(TState *ts, Value callee, Value *args, int nargs, ObjTuple *kwnames) {
    if (IS_FUNCTION(callee)) return vm_call_function(ts, AS_FUNCTION(callee), args, nargs, kwnames);
    ObjType *t = val_type(ts, callee);
    if (!t->call) return err_type_not(ts, callee, "callable");
    if (!vm_enter_native(ts)) return ERROR_VAL;
    Value r = t->call(ts, callee, args, nargs, kwnames);
    vm_leave_native(ts);
    return r;
}

Value vm_call_method(TState *ts, Value func, Value self, Value *args, int nargs, ObjTuple *kwnames) {
    Frame *owner = stack_owner(ts);
    Value *base = owner->sp;
    int total = nargs + (kwnames ? (int)kwnames->len : 0);
    if (base + total + 1 > ts->stack_end)
        return err_format(ts, ts->interp->exc.RecursionError, "maximum recursion depth exceeded");
    if (total) memmove(base + 1, args, (size_t)total * sizeof(Value));
    base[0] = self;
    owner->sp = base + total + 1;
    Value r = vm_call(ts, func, base, nargs + 1, kwnames);
    owner->sp = base;
    return r;
}

Value vm_run_class_body(TState *ts, ObjFunction *body, ObjDict *ns) {
    Frame *owner = stack_owner(ts);
    Value *base = owner->sp;
    if (!bind_arguments(ts, body, base, base, 0, NULL)) return ERROR_VAL;
    if (!vm_enter_native(ts)) return ERROR_VAL;
    Frame *f = push_frame(ts, body, base);
    if (!f) {
        vm_leave_native(ts);
        return ERROR_VAL;
    }
    f->flags = FRAME_ENTRY;
    f->locals = &ns->obj;
    Value r = run(ts);
    vm_leave_native(ts);
    return r;
}

Value vm_run_code(TState *ts, ObjCode *code, ObjDict *globals, Value locals) {
    ObjFunction *fn = function_new(ts, code, globals);
    if (!fn) return ERROR_VAL;
    Frame *owner = stack_owner(ts);
    Value *base = owner->sp;
    *base = OBJ_VAL(fn);
    base++;
    owner->sp = base;
    Value r = ERROR_VAL;
    if (bind_arguments(ts, fn, base, base, 0, NULL) && vm_enter_native(ts)) {
        Frame *f = push_frame(ts, fn, base);
        if (f) {
            f->flags = FRAME_ENTRY;
            f->locals = AS_OBJ(locals);
            r = run(ts);
        }
        vm_leave_native(ts);
    }
    owner->sp = base - 1;
    return r;
}

Value vm_run_module(TState *ts, ObjCode *code, ObjDict *globals) { return vm_run_code(ts, code, globals, OBJ_VAL(globals)); }

/* A generator's frame raised: it is closed, and a StopIteration escaping
 * the body becomes RuntimeError (PEP 479), however it was entered. */
static void generator_raised(TState *ts, ObjGenerator *gen) {
    atomic_store(&gen->state, GEN_CLOSED);
    /* And an async generator's StopAsyncIteration (PEP 525). */
    bool stop = err_matches(ts, ts->interp->exc.StopIteration);
    if (stop || (generator_is_async(gen) && err_matches(ts, ts->interp->exc.StopAsyncIteration))) {
        Value exc = err_fetch(ts);
        vm_push(ts, exc);
        err_format(ts, ts->interp->exc.RuntimeError, "%s raised %s", generator_kind(gen),
                   stop ? "StopIteration" : "StopAsyncIteration");
        AS_EXCEPTION(ts->exc)->cause = exc;
        AS_EXCEPTION(ts->exc)->context = exc;
        vm_pop(ts);
    }
}

/* What a generator's run came to: the frame's exit said how it ended (a
 * return or a yield, in ts->gen_returned). */
static Value generator_outcome(TState *ts, ObjGenerator *gen, Value r, Value *result) {
    if (IS_ERROR(r)) {
        generator_raised(ts, gen);
        return ERROR_VAL;
    }
    if (ts->gen_returned) {
        *result = r;
        return EMPTY_VAL;
    }
    return r;
}

Value generator_resume(TState *ts, ObjGenerator *gen, Value sent, Value *result) {
    int expected = GEN_SUSPENDED;
    bool first = false;
    if (!atomic_compare_exchange_strong(&gen->state, &expected, GEN_RUNNING)) {
        if (expected == GEN_CREATED) {
            if (!IS_NONE(sent))
                return err_format(ts, ts->interp->exc.TypeError, "can't send non-None value to a just-started %s",
                                  generator_kind(gen));
            if (!atomic_compare_exchange_strong(&gen->state, &expected, GEN_RUNNING))
                return err_format(ts, ts->interp->exc.ValueError, "%s already executing", generator_kind(gen));
            first = true;
        } else if (expected == GEN_RUNNING) {
            return err_format(ts, ts->interp->exc.ValueError, "%s already executing", generator_kind(gen));
        } else if (generator_is_coroutine(gen)) {
            return err_format(ts, ts->interp->exc.RuntimeError, "cannot reuse already awaited coroutine");
        } else {
            *result = NONE_VAL;
            return EMPTY_VAL;
        }
    }
    if (!vm_enter_native(ts)) {
        atomic_store(&gen->state, first ? GEN_CREATED : GEN_SUSPENDED);
        return ERROR_VAL;
    }
    if (!check_recursion(ts)) {
        vm_leave_native(ts);
        atomic_store(&gen->state, first ? GEN_CREATED : GEN_SUSPENDED);
        return ERROR_VAL;
    }
    Frame *f = push_generator_frame(ts, gen);
    if (!first) *f->sp++ = sent;
    Value r = run_generator(ts, gen, false);
    vm_leave_native(ts);
    return generator_outcome(ts, gen, r, result);
}

/* ---- the loop ----------------------------------------------------------- */

/* A small or big int that is not an instance of a subclass (whose dunders
 * must run): int arithmetic can go straight to runtime/int.c. */
#define IS_EXACT_INT(ts, v) (IS_INT(v) || (IS_BIGINT(v) && OBJ_TYPE(v) == (ts)->interp->types.int_))

static Value unbound_local(TState *ts, ObjCode *code, uint32_t slot) {
    if (slot >= code->nlocals - code->nfree)
        return err_format(ts, ts->interp->exc.NameError,
                          "cannot access free variable '%s' where it is not associated with a value in enclosing scope",
                          code->varnames[slot]->data);
    return err_format(ts, ts->interp->exc.UnboundLocalError,
                      "cannot access local variable '%s' where it is not associated with a value",
                      code->varnames[slot]->data);
}

static Value name_error(TState *ts, ObjStr *name) {
    err_format(ts, ts->interp->exc.NameError, "name '%s' is not defined", name->data);
    return err_set_missing_name(ts, name, EMPTY_VAL);
}

/* Globals then builtins, remembering where the name was found. The cache
 * word: bit 63 clear = entry index + 1 in globals; set = builtins entry
 * index in the low 32 bits, valid while the globals' key set is unchanged
 * (bits 32..62 hold its version). */
/* Inlined in the loop whatever its size: every global read goes here. */
static inline __attribute__((always_inline)) Value load_global(TState *ts, ObjFunction *fn, ObjStr *name,
                                                                _Atomic uint64_t *cache) {
    uint64_t c = atomic_load_explicit(cache, memory_order_relaxed);
    ObjDict *globals = fn->globals, *builtins = fn->builtins;
    if (c) {
        if (!(c >> 63)) {
            Value v = dict_cached_get(globals, name, (int64_t)(c - 1));
            if (!IS_EMPTY(v)) return v;
        } else if (((c >> 32) & 0x7fffffff) ==
                   (atomic_load_explicit(&globals->keys_version, memory_order_relaxed) & 0x7fffffff)) {
            Value v = dict_cached_get(builtins, name, (int64_t)(c & 0xffffffff));
            if (!IS_EMPTY(v)) return v;
        }
    }
    int64_t idx = dict_find_str_index(globals, name);
    if (idx >= 0) {
        atomic_store_explicit(cache, (uint64_t)idx + 1, memory_order_relaxed);
        return dict_cached_get(globals, name, idx);
    }
    uint32_t version = atomic_load_explicit(&globals->keys_version, memory_order_relaxed);
    idx = dict_find_str_index(builtins, name);
    if (idx >= 0) {
        atomic_store_explicit(cache, ((uint64_t)1 << 63) | ((uint64_t)(version & 0x7fffffff) << 32) |
                                         (uint64_t)(uint32_t)idx,
                              memory_order_relaxed);
        return dict_cached_get(builtins, name, idx);
    }
    return name_error(ts, name);
}

/* The namespace a body runs in when it is not exactly a dict (a class's
 * __prepare__ made a dict subclass, exec got a mapping): its
 * __getitem__/__setitem__/__delitem__ run, as CPython's item protocol
 * (enum's member dict sees each name the body binds). NULL for a plain
 * dict. */
static Obj *custom_namespace(TState *ts, Frame *frame) {
    Obj *l = frame->locals;
    return l && l->type != ts->interp->types.dict ? l : NULL;
}

/* Where STORE_NAME and friends write when the namespace is a plain dict. */
static ObjDict *plain_namespace(Frame *frame) {
    return frame->locals ? (ObjDict *)frame->locals : frame->fn->globals;
}

static Value load_name(TState *ts, Frame *frame, ObjStr *name) {
    Obj *custom = custom_namespace(ts, frame);
    if (custom) {
        Value v = ops_getitem(ts, OBJ_VAL(custom), OBJ_VAL(name));
        if (!IS_ERROR(v)) return v;
        if (!err_matches(ts, ts->interp->exc.KeyError)) return v;
        err_clear(ts);
    } else if (frame->locals) {
        Value v = dict_get(ts, (ObjDict *)frame->locals, OBJ_VAL(name));
        if (!IS_EMPTY(v)) return v;
    }
    Value v = dict_get_str(frame->fn->globals, name);
    if (!IS_EMPTY(v)) return v;
    v = dict_get_str(frame->fn->builtins, name);
    if (!IS_EMPTY(v)) return v;
    return name_error(ts, name);
}

/* Inline caches for attributes: the word holds the id of the type it was
 * filled for, the low 16 bits of the type epoch then (any class change
 * invalidates every cache), and where the attribute was found. */
#define ATTR_CACHE(id, epoch, payload) \
    (((uint64_t)(id) << 32) | ((uint64_t)((epoch) & 0xffff) << 16) | ((uint64_t)(payload) & 0xffff))
#define ATTR_CACHE_HIT(c, type, epoch) \
    ((c) != 0 && (uint32_t)((c) >> 32) == (type)->id && (((c) >> 16) & 0xffff) == ((epoch) & 0xffff))
#define ATTR_CACHE_PAYLOAD(c) ((uint32_t)((c) & 0xffff))

static uint32_t type_epoch(TState *ts) {
    return atomic_load_explicit(&ts->interp->type_epoch, memory_order_relaxed);
}

/* Finds the way of a site's cache (MINI_ATTR_CACHE_WAYS entries) filled
 * for `type` under `epoch`: its entry in *out. */
static bool attr_cache_way(_Atomic uint64_t *cache, ObjType *type, uint32_t epoch, uint64_t *out) {
    for (int w = 0; w < MINI_ATTR_CACHE_WAYS; w++) {
        uint64_t c = atomic_load_explicit(&cache[w], memory_order_relaxed);
        if (ATTR_CACHE_HIT(c, type, epoch)) {
            *out = c;
            return true;
        }
    }
    return false;
}

/* Puts a fresh entry first in a site's cache. The entries of other types
 * move one way down (the last falls off) unless the first is stale or for
 * the same type, which the new entry replaces. Each way is one atomic word
 * naming its own type and epoch, so with the GIL off a reader that sees
 * ways from before and after a store still only uses entries that match. */
static void attr_cache_store(_Atomic uint64_t *cache, uint64_t entry, uint32_t epoch) {
    uint64_t first = atomic_load_explicit(&cache[0], memory_order_relaxed);
    bool live = first != 0 && ((first >> 16) & 0xffff) == (epoch & 0xffff);
    if (live && (first >> 32) != (entry >> 32))
        for (int w = MINI_ATTR_CACHE_WAYS - 1; w > 0; w--)
            atomic_store_explicit(&cache[w], atomic_load_explicit(&cache[w - 1], memory_order_relaxed),
                                  memory_order_relaxed);
    atomic_store_explicit(&cache[0], entry, memory_order_relaxed);
}

/* An attribute cache payload with this bit names a __slots__ value (the
 * index after the instance header), with ATTR_INLINE an inline value (the
 * index in the class's keys, runtime/shape.h), with neither an instance
 * dict entry. */
#define ATTR_SLOT 0x8000u
#define ATTR_INLINE 0x4000u

/* An instance's attribute where its cache entry says, or EMPTY_VAL when it
 * is not there (unset slot, entry moved): the caller takes the slow path.
 * A slot is one word, loaded whole (GIL off: old or new value, no mix). */
static inline __attribute__((always_inline)) Value attr_cached_get(Value obj, ObjStr *name, uint32_t pos) {
    if (pos & ATTR_SLOT)
        return __atomic_load_n(&instance_slots(AS_INSTANCE(obj))[pos & ~ATTR_SLOT], __ATOMIC_ACQUIRE);
    if (pos & ATTR_INLINE) return shape_cached_get(AS_INSTANCE(obj), pos & ~ATTR_INLINE);
    ObjDict *idict = instance_dict_fast(obj);
    return idict ? dict_cached_get(idict, name, pos) : EMPTY_VAL;
}

static bool attr_cached_set(TState *ts, Value obj, ObjStr *name, uint32_t pos, Value value) {
    if (pos & ATTR_SLOT) {
        __atomic_store_n(&instance_slots(AS_INSTANCE(obj))[pos & ~ATTR_SLOT], value, __ATOMIC_RELEASE);
        return true;
    }
    if (pos & ATTR_INLINE) return shape_cached_set(ts, AS_INSTANCE(obj), pos & ~ATTR_INLINE, value);
    ObjDict *idict = instance_dict_fast(obj);
    return idict && dict_cached_set(ts, idict, name, pos, value);
}

/* After a slow attribute load or store on an instance whose class uses the
 * generic protocol, remembers where the attribute lives: a __slots__ member
 * of the class (a data descriptor, so it wins over any dict), or, when the
 * class has nothing of that name, the entry in the instance dict. `epoch`
 * is the one read before the access, so a class changed meanwhile leaves a
 * stale entry that never hits. */
static void attr_cache_fill(TState *ts, _Atomic uint64_t *cache, Value obj, ObjStr *name, uint32_t epoch,
                            bool store) {
    ObjType *type = OBJ_TYPE(obj), *object = ts->interp->types.object;
    if (store ? type->setattr != object->setattr : type->getattr != object->getattr) return;
    Value attr = type_lookup(type, name);
    uint32_t pos;
    if (IS_KIND(attr, OBJ_MEMBER)) {
        ObjMember *m = (ObjMember *)AS_OBJ(attr);
        if (m->index >= ATTR_SLOT || !type_is_subtype(type, m->owner)) return;
        pos = m->index | ATTR_SLOT;
    } else if (!IS_EMPTY(attr)) {
        return;
    } else if (instance_dict_fast(obj)) {
        int64_t idx = dict_find_str_index(instance_dict_fast(obj), name);
        if (idx < 0 || idx >= ATTR_INLINE) return;
        pos = (uint32_t)idx;
    } else {
        /* Inline: where the class keeps the name, whatever this instance
         * holds (shape_cached_get/set check it). */
        ShapeKeys *keys = shape_keys_of(type);
        int idx = keys ? shape_find(keys, name) : -1;
        if (idx < 0) return;
        pos = (uint32_t)idx | ATTR_INLINE;
    }
    attr_cache_store(cache, ATTR_CACHE(type->id, epoch, pos), epoch);
}

static bool shadowed_by_instance(Value obj, ObjStr *name) {
    if (!IS_OBJ(obj)) return false;
    if (IS_INSTANCE(obj)) {
        ShapeKeys *keys = shape_keys_of(OBJ_TYPE(obj));
        return keys && shape_may_have(AS_INSTANCE(obj), keys, name) && shape_has(AS_INSTANCE(obj), name);
    }
    ObjDict **slot = obj_dict_slot(AS_OBJ(obj));
    ObjDict *d = slot ? obj_dict_load(slot) : NULL;
    return d && dict_may_have_hash(d, name->hash) && !IS_EMPTY(dict_get_str(d, name));
}

/* Attribute load for method calls: [function, self] when the attribute is
 * a plain function found on the type (no bound method is made), else
 * [EMPTY, value]. */
static bool load_method(TState *ts, Value obj, ObjStr *name, Value *out_func, Value *out_self,
                        _Atomic uint64_t *cache) {
    ObjType *type = val_type(ts, obj);
    if (type->getattr == ts->interp->types.object->getattr) {
        uint32_t epoch = type_epoch(ts);
        Value attr = type_lookup(type, name);
        if ((IS_FUNCTION(attr) || (IS_NATIVE(attr) && AS_NATIVE(attr)->owner)) &&
            !shadowed_by_instance(obj, name)) {
            *out_func = attr;
            *out_self = obj;
            uint32_t pos;
            if (type_lookup_position(type, name, &pos)) attr_cache_store(cache, ATTR_CACHE(type->id, epoch, pos), epoch);
            return true;
        }
    }
    Value v = ops_getattr(ts, obj, name);
    if (IS_ERROR(v)) return false;
    *out_func = EMPTY_VAL;
    *out_self = v;
    return true;
}

static bool exc_matches(TState *ts, Value exc, Value type) {
    ObjType *t = val_type(ts, exc);
    if (IS_TUPLE(type)) {
        ObjTuple *tuple = AS_TUPLE(type);
        for (size_t i = 0; i < tuple->len; i++)
            if (exc_matches(ts, exc, tuple->items[i])) return true;
        return false;
    }
    return IS_TYPE(type) && type_is_subtype(t, AS_TYPE(type));
}

static bool valid_except_type(Value type) {
    if (IS_TUPLE(type)) {
        ObjTuple *tuple = AS_TUPLE(type);
        for (size_t i = 0; i < tuple->len; i++)
            if (!valid_except_type(tuple->items[i])) return false;
        return true;
    }
    return IS_TYPE(type) && (AS_TYPE(type)->flags & TYPEF_EXCEPTION);
}

/* Exactly a list or a tuple, not an instance of a subclass (which may
 * override __getitem__, __setitem__ or __iter__): the fast paths' test. */
#define IS_EXACT_LIST(ts, v) (IS_LIST(v) && OBJ_TYPE(v) == (ts)->interp->types.list)
#define IS_EXACT_TUPLE(ts, v) (IS_TUPLE(v) && OBJ_TYPE(v) == (ts)->interp->types.tuple)

/* A number the loop can work on without a call: a small int or a float
 * (both unboxed, so never an instance of a subclass). As a double, a small
 * int is exact (48 bits). */
static inline __attribute__((always_inline)) bool unboxed_double(Value v, double *out) {
    if (IS_FLOAT(v)) *out = AS_FLOAT(v);
    else if (IS_INT(v)) *out = (double)AS_INT(v);
    else return false;
    return true;
}

/* The arithmetic the loop does inline: small ints whose result stays
 * small, and floats with floats or small ints. False leaves everything
 * else (overflow, division by zero, other operators and types) to
 * arith(). Ints and floats have no in-place operators, so BINARY_OP and
 * INPLACE_OP share it. */
static inline __attribute__((always_inline)) bool arith_fast(BinOp op, Value a, Value b, Value *out) {
    if (IS_INT(a) && IS_INT(b)) {
        int64_t x = AS_INT(a), y = AS_INT(b), r;
        switch (op) {
        case BIN_ADD: r = x + y; break;
        case BIN_SUB: r = x - y; break;
        case BIN_MUL:
            if (__builtin_mul_overflow(x, y, &r)) return false;
            break;
        case BIN_TRUEDIV:
            /* Both exact as doubles, so one IEEE division rounds the true
             * quotient correctly, as int.__truediv__ must. */
            if (y == 0) return false;
            *out = FLOAT_VAL((double)x / (double)y);
            return true;
        case BIN_FLOORDIV:
            if (y == 0) return false;
            r = x / y;
            if ((x % y != 0) && ((x < 0) != (y < 0))) r--;
            break; /* MIN // -1 does not fit */
        case BIN_MOD:
            if (y == 0) return false;
            r = x % y;
            if (r != 0 && ((r < 0) != (y < 0))) r += y;
            break;
        case BIN_LSHIFT:
            if (y < 0 || y >= VAL_TAG_SHIFT || __builtin_mul_overflow(x, (int64_t)1 << y, &r)) return false;
            break;
        case BIN_RSHIFT:
            if (y < 0) return false;
            r = x >> (y < 63 ? y : 63);
            break;
        case BIN_AND: r = x & y; break;
        case BIN_OR: r = x | y; break;
        case BIN_XOR: r = x ^ y; break;
        default: return false;
        }
        if (!SMALL_INT_FITS(r)) return false;
        *out = INT_VAL(r);
        return true;
    }
    double x, y;
    if (!unboxed_double(a, &x) || !unboxed_double(b, &y)) return false;
    switch (op) {
    case BIN_ADD: *out = FLOAT_VAL(x + y); return true;
    case BIN_SUB: *out = FLOAT_VAL(x - y); return true;
    case BIN_MUL: *out = FLOAT_VAL(x * y); return true;
    case BIN_TRUEDIV:
        if (y == 0.0) return false;
        *out = FLOAT_VAL(x / y);
        return true;
    default: return false;
    }
}

/* The rest of BINARY_OP and INPLACE_OP: exact ints and floats go straight
 * to their type's code (no dunder of a subclass can apply), others through
 * the operator protocol. */
static inline __attribute__((always_inline)) Value arith(TState *ts, BinOp op, Value a, Value b, bool inplace) {
    Value r = NOT_IMPLEMENTED_VAL;
    if (IS_EXACT_INT(ts, a) && IS_EXACT_INT(ts, b)) r = int_binop(ts, op, a, b);
    else if ((IS_FLOAT(a) || IS_INT(a)) && (IS_FLOAT(b) || IS_INT(b))) r = float_binop(ts, op, a, b);
    if (IS_NOT_IMPLEMENTED(r)) r = inplace ? ops_inplace(ts, op, a, b) : ops_binary(ts, op, a, b);
    return r;
}

/* Comparisons of small ints, floats, and the two mixed (a small int is
 * exact as a double; NaN compares as Python's does: only != holds). -1
 * for the general path. */
static inline __attribute__((always_inline)) int compare_fast(CmpOp op, Value a, Value b) {
    if (IS_INT(a) && IS_INT(b)) {
        int64_t x = AS_INT(a), y = AS_INT(b);
        switch (op) {
        case CMP_LT: return x < y;
        case CMP_LE: return x <= y;
        case CMP_EQ: return x == y;
        case CMP_NE: return x != y;
        case CMP_GT: return x > y;
        default: return x >= y;
        }
    }
    double x, y;
    if (!unboxed_double(a, &x) || !unboxed_double(b, &y)) return -1;
    switch (op) {
    case CMP_LT: return x < y;
    case CMP_LE: return x <= y;
    case CMP_EQ: return x == y;
    case CMP_NE: return x != y;
    case CMP_GT: return x > y;
    default: return x >= y;
    }
}

/* UNPACK_SEQUENCE / UNPACK_EX: writes the items, first on top. */
static bool unpack(TState *ts, Value seq, Value *dst, int before, int after, bool starred) {
    Interp *interp = ts->interp;
    Value *items = NULL;
    size_t n = 0;
    Value *owned = NULL;
    if (IS_TUPLE_ITER(ts, seq)) {
        items = AS_TUPLE(seq)->items;
        n = AS_TUPLE(seq)->len;
    } else if (IS_LIST_ITER(ts, seq)) {
        owned = list_snapshot(ts, AS_LIST(seq), &n);
        if (!owned && n) return false;
        items = owned;
    } else {
        ObjList *list = ops_to_list(ts, seq);
        if (!list) {
            if (err_matches(ts, interp->exc.TypeError) && !val_type(ts, seq)->iter)
                err_format(ts, interp->exc.TypeError, "cannot unpack non-iterable %s object",
                           ops_type_name(ts, seq));
            return false;
        }
        owned = list_snapshot(ts, list, &n);
        if (!owned && n) return false;
        items = owned;
    }
    int total = before + after;
    bool ok = true;
    if (!starred && n != (size_t)total) {
        if (n < (size_t)total)
            err_format(ts, interp->exc.ValueError, "not enough values to unpack (expected %d, got %zu)",
                       total, n);
        else
            err_format(ts, interp->exc.ValueError, "too many values to unpack (expected %d)", total);
        ok = false;
    } else if (starred && n < (size_t)total) {
        err_format(ts, interp->exc.ValueError,
                   "not enough values to unpack (expected at least %d, got %zu)", total, n);
        ok = false;
    } else {
        /* dst[0] is the deepest slot: the last target; the first is on top. */
        int slots = total + (starred ? 1 : 0);
        for (int i = 0; i < before; i++) dst[slots - 1 - i] = items[i];
        if (starred) {
            size_t nstar = n - (size_t)total;
            ObjList *rest = list_from(ts, items + before, nstar);
            if (!rest) ok = false;
            else dst[slots - 1 - before] = OBJ_VAL(rest);
            for (int i = 0; i < after; i++) dst[after - 1 - i] = items[(size_t)before + nstar + (size_t)i];
        }
    }
    if (owned) gc_free_buffer(owned, n * sizeof(Value));
    return ok;
}

static Value build_string(TState *ts, Value *parts, int n) {
    size_t len = 0;
    for (int i = 0; i < n; i++) len += AS_STR(parts[i])->len;
    char small[256];
    char *buf = len < sizeof small ? small : malloc(len + 1);
    if (!buf) return err_no_memory(ts);
    size_t pos = 0;
    for (int i = 0; i < n; i++) {
        memcpy(buf + pos, AS_STR(parts[i])->data, AS_STR(parts[i])->len);
        pos += AS_STR(parts[i])->len;
    }
    ObjStr *s = str_new(ts, buf, len);
    if (buf != small) free(buf);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static Value format_value(TState *ts, Value v, int conversion, Value spec) {
    switch (conversion) {
    case 1: v = ops_str(ts, v); break;
    case 2: v = ops_repr(ts, v); break;
    case 3: v = str_ascii(ts, v); break;
    default: break;
    }
    if (IS_ERROR(v)) return v;
    if (IS_EMPTY(spec)) {
        /* format(v, ''): str(v), unless v's class has its own __format__. */
        if (IS_STR(v) || !IS_OBJ(v) || !(OBJ_TYPE(v)->flags & TYPEF_HEAPTYPE)) return ops_str(ts, v);
        spec = OBJ_VAL(ts->interp->names.empty);
    }
    return ops_format(ts, v, spec);
}

static Value import_from(TState *ts, Value module, ObjStr *name) {
    Value v = ops_getattr_opt(ts, module, name);
    /* An AttributeError (from a module's __getattr__) means missing. */
    if (IS_ERROR(v) && err_matches(ts, ts->interp->exc.AttributeError)) {
        err_clear(ts);
        v = EMPTY_VAL;
    }
    if (!IS_EMPTY(v)) return v;
    if (!IS_MODULE(module))
        return err_format(ts, ts->interp->exc.ImportError, "cannot import name '%s'", name->data);
    Interp *interp = ts->interp;
    ObjModule *m = AS_MODULE(module);
    ObjStr *full = str_printf(ts, "%s.%s", m->name->data, name->data);
    if (!full) return ERROR_VAL;
    /* A package's submodule not imported yet: `from pkg import sub`
     * imports it, as Python's fromlist handling. */
    if (!IS_EMPTY(dict_get_str(m->dict, interp->names.path))) {
        /* The submodule's body runs mini code, which may collect: keep the
         * name alive to look the submodule up afterwards. */
        vm_push(ts, OBJ_VAL(full));
        ObjTuple *no_names = tuple_new(ts, 0);
        Value sub = no_names ? module_import(ts, full, OBJ_VAL(no_names), 0, m->dict) : ERROR_VAL;
        Value v2 = IS_ERROR(sub) ? EMPTY_VAL : dict_get(ts, interp->modules, OBJ_VAL(full));
        vm_pop(ts);
        if (!IS_ERROR(sub)) {
            if (!IS_EMPTY(v2) && !IS_ERROR(v2)) return v2;
        } else if (!err_matches(ts, interp->exc.ModuleNotFoundError)) {
            return ERROR_VAL;
        } else {
            err_clear(ts);
        }
    }
    Value file = dict_get_str(m->dict, interp->names.file);
    const char *partly = m->initializing ? "partially initialized module " : "";
    const char *why = m->initializing ? " (most likely due to a circular import)" : "";
    return err_import(ts, interp->exc.ImportError, m->name, "cannot import name '%s' from %s'%s'%s (%s)", name->data,
                      partly, m->name->data, why, IS_STR(file) ? AS_STR(file)->data : "unknown location");
}

/* Binds a name in a namespace: a dict, or any mapping (exec's locals). */
static bool namespace_set(TState *ts, Value target, Value name, Value v) {
    if (IS_DICT(target) && AS_OBJ(target)->type == ts->interp->types.dict)
        return dict_set(ts, AS_DICT(target), name, v) == 0;
    return ops_setitem(ts, target, name, v) == 0;
}

static bool import_star(TState *ts, Value module, Value target) {
    if (!IS_MODULE(module)) {
        err_format(ts, ts->interp->exc.TypeError, "import * needs a module");
        return false;
    }
    ObjDict *ns = AS_MODULE(module)->dict;
    Value all = dict_get_str(ns, ts->interp->names.all);
    if (!IS_EMPTY(all)) {
        ObjTuple *names = ops_to_tuple(ts, all);
        if (!names) return false;
        vm_push(ts, OBJ_VAL(names));
        for (size_t i = 0; i < names->len; i++) {
            if (!IS_STR(names->items[i])) continue;
            ObjStr *name = str_intern_obj(ts, AS_STR(names->items[i]));
            Value v = ops_getattr(ts, module, name);
            if (IS_ERROR(v) || !namespace_set(ts, target, OBJ_VAL(name), v)) {
                vm_pop(ts);
                return false;
            }
        }
        vm_pop(ts);
        return true;
    }
    size_t pos = 0;
    Value key, value;
    while (dict_next(ns, &pos, &key, &value)) {
        if (IS_STR(key) && AS_STR(key)->data[0] != '_')
            if (!namespace_set(ts, target, key, value)) return false;
    }
    return true;
}

/* Finds the innermost handler covering instruction pc. */
static const ExcHandler *find_handler(const ObjCode *code, uint32_t pc) {
    for (uint32_t i = 0; i < code->nhandlers; i++) {
        const ExcHandler *h = &code->handlers[i];
        if (pc >= h->start && pc < h->end) return h;
    }
    return NULL;
}

/* Lays out the arguments of callee(..., *posargs, **kwargs) at dst: the
 * positional values, the keyword values, then the tuple of their names
 * (also in *kwnames; NULL when there are none). posargs is any iterable (a
 * tuple or list is read directly), kwargs a dict or EMPTY_VAL. Both may
 * lie where dst is, rooted there until read: converting posargs may run
 * mini code, but nothing runs once copying starts. `alone`: posargs is
 * all the positional arguments (CPython's messages differ). Returns the
 * number of positional values, or -1 after raising. */
static int spread_arguments(TState *ts, Value callee, Value posargs, Value kwargs, Value *dst, ObjTuple **kwnames,
                            bool alone) {
    Interp *interp = ts->interp;
    ObjDict *kw = IS_DICT(kwargs) ? AS_DICT(kwargs) : NULL;
    if (!IS_TUPLE_ITER(ts, posargs) && !IS_LIST_ITER(ts, posargs)) {
        ObjType *t = val_type(ts, posargs);
        /* CPython's test before it iterates (ops_iter's own). */
        if (!t->iter && !(t->getitem && (t->flags & TYPEF_HEAPTYPE))) {
            ObjStr *fname = alone ? function_display_name(ts, callee) : NULL;
            if (fname)
                err_format(ts, interp->exc.TypeError, "%s argument after * must be an iterable, not %s", fname->data,
                           ops_type_name(ts, posargs));
            else if (!alone)
                err_format(ts, interp->exc.TypeError, "Value after * must be an iterable, not %s",
                           ops_type_name(ts, posargs));
            return -1;
        }
        ObjTuple *tuple = ops_to_tuple(ts, posargs);
        if (!tuple) return -1;
        posargs = OBJ_VAL(tuple);
    }
    /* With the GIL off, a copy of the dict if other threads may change it. */
    if (kw && !(kw = dict_for_reading(ts, kw))) return -1;
    size_t nkw = kw ? dict_len(kw) : 0;
    /* Room for the positional values once the keywords' are set aside. */
    size_t avail = (size_t)(ts->stack_end - dst), npos;
    size_t room = avail > nkw + 1 ? avail - nkw - 1 : 0;
    if (IS_LIST(posargs)) {
        npos = list_copy_items(ts, AS_LIST(posargs), dst, room);
    } else {
        npos = AS_TUPLE(posargs)->len;
        if (npos <= room) memcpy(dst, AS_TUPLE(posargs)->items, npos * sizeof(Value));
    }
    if (npos > room || avail < nkw + 1) {
        err_format(ts, interp->exc.RecursionError, "maximum recursion depth exceeded");
        return -1;
    }
    *kwnames = NULL;
    if (!nkw) return (int)npos;
    ObjTuple *names = tuple_new(ts, nkw);
    if (!names) return -1;
    size_t it = 0, k = 0;
    Value key, value;
    while (k < nkw && dict_next(kw, &it, &key, &value)) {
        if (!IS_STR(key)) {
            err_format(ts, interp->exc.TypeError, "keywords must be strings");
            return -1;
        }
        ObjStr *name = str_intern_obj(ts, AS_STR(key));
        if (!name) return -1;
        names->items[k] = OBJ_VAL(name);
        dst[npos + k++] = value;
    }
    /* Fewer than counted: another thread emptied the dict meanwhile. */
    if (k < nkw && !(names = tuple_from(ts, names->items, k))) return -1;
    dst[npos + k] = OBJ_VAL(names);
    *kwnames = k ? names : NULL;
    return (int)npos;
}

/* Merges a call's **src into dst (CPython's DICT_MERGE), with its
 * TypeErrors naming the callable: src not a mapping, a key given twice.
 * The name is made only for an error: a fresh string would not be rooted
 * across the mapping's methods. */
static bool merge_call_kwargs(TState *ts, ObjDict *dst, Value src, Value callee) {
    Value dup = EMPTY_VAL;
    int r = dict_merge_kwargs(ts, dst, src, &dup);
    if (r <= 0) return r == 0;
    /* The key as str() shows it (that may run mini code, before the name
     * is made). */
    Value key = r == 1 ? ops_str(ts, dup) : NONE_VAL;
    if (IS_ERROR(key)) return false;
    vm_push(ts, key);
    ObjStr *fname = function_display_name(ts, callee);
    if (fname && r == 2)
        err_format(ts, ts->interp->exc.TypeError, "%s argument after ** must be a mapping, not %s", fname->data,
                   ops_type_name(ts, src));
    else if (fname)
        err_format(ts, ts->interp->exc.TypeError, "%s got multiple values for keyword argument '%s'", fname->data,
                   AS_STR(key)->data);
    vm_pop(ts);
    return false;
}

/* callee(*pre, *posargs, **kwargs) from C, or from a generator's frame
 * (whose values are not on the thread stack): the arguments go to the
 * free end of the thread stack, and the call runs in a nested loop. */
static Value call_ex(TState *ts, Value callee, const Value *pre, int npre, Value posargs, Value kwargs) {
    Frame *owner = stack_owner(ts);
    Value *base = owner->sp;
    if (base + npre >= ts->stack_end)
        return err_format(ts, ts->interp->exc.RecursionError, "maximum recursion depth exceeded");
    if (npre) memcpy(base, pre, (size_t)npre * sizeof(Value));
    owner->sp = base + npre;
    ObjTuple *kwnames;
    int n = spread_arguments(ts, callee, posargs, kwargs, base + npre, &kwnames, npre == 0);
    Value r = ERROR_VAL;
    if (n >= 0) {
        owner->sp = base + npre + n + (kwnames ? (int)kwnames->len + 1 : 0);
        r = vm_call(ts, callee, base, n + npre, kwnames);
    }
    owner->sp = base;
    return r;
}

Value vm_call_ex(TState *ts, Value callee, Value posargs, Value kwargs) {
    return call_ex(ts, callee, NULL, 0, posargs, kwargs);
}

static Value run_loop(TState *ts, bool throwing);

static Value run(TState *ts) { return run_loop(ts, false); }

/* FOR_ITER over a generator pushes its frame and goes on in the same loop
 * run, with no C call per item (the caller saved its state): the frame is
 * FRAME_GEN_INLINE, so its yield hands the value back to the FOR_ITER's
 * frame, its return ends that frame's loop, and an exception escaping it
 * unwinds into that frame. The handled exception is switched as
 * run_generator switches it. False, changing nothing, where
 * generator_resume must do it (not suspended, or too deep: it raises). */
static bool resume_inline(TState *ts, ObjGenerator *gen) {
    int limit = atomic_load_explicit(&ts->interp->recursion_limit, memory_order_relaxed);
    if (OBJ_TYPE(OBJ_VAL(gen)) != ts->interp->types.generator || ts->frame_count > limit ||
        ts->frame_count >= ts->frame_cap - 1)
        return false;
    int expected = GEN_SUSPENDED;
    if (!atomic_compare_exchange_strong(&gen->state, &expected, GEN_RUNNING) &&
        !(expected == GEN_CREATED && atomic_compare_exchange_strong(&gen->state, &expected, GEN_RUNNING)))
        return false;
    Frame *f = push_generator_frame(ts, gen);
    f->flags = FRAME_GEN_INLINE;
    if (expected == GEN_SUSPENDED) *f->sp++ = NONE_VAL; /* what the yield evaluates to */
    enter_generator(ts, gen);
    return true;
}

/* Runs a generator's frame, just pushed, until it yields, returns or
 * raises, with its own handled exception (enter_generator; the loop calls
 * leave_generator where the frame stops). */
static Value run_generator(TState *ts, ObjGenerator *gen, bool throwing) {
    enter_generator(ts, gen);
    return run_loop(ts, throwing);
}

Value vm_generator_throw(TState *ts, ObjGenerator *gen, Value exc, Value *result) {
    int expected = GEN_SUSPENDED;
    if (!atomic_compare_exchange_strong(&gen->state, &expected, GEN_RUNNING)) {
        if (expected == GEN_RUNNING)
            return err_format(ts, ts->interp->exc.ValueError, "%s already executing", generator_kind(gen));
        if (expected == GEN_CLOSED && generator_is_coroutine(gen))
            return err_format(ts, ts->interp->exc.RuntimeError, "cannot reuse already awaited coroutine");
        if (expected == GEN_CREATED) {
            atomic_store(&gen->state, GEN_CLOSED);
            err_restore(ts, exc);
            return ERROR_VAL;
        }
        err_restore(ts, exc);
        return ERROR_VAL;
    }
    if (!vm_enter_native(ts)) {
        atomic_store(&gen->state, GEN_SUSPENDED);
        return ERROR_VAL;
    }
    push_generator_frame(ts, gen);
    err_restore(ts, exc);
    Value r = run_generator(ts, gen, true);
    vm_leave_native(ts);
    return generator_outcome(ts, gen, r, result);
}

Value vm_generator_delegate(ObjGenerator *gen) {
    if (atomic_load(&gen->state) != GEN_SUSPENDED || INSTR_OP(*gen->ip) != OP_YIELD_FROM) return EMPTY_VAL;
    return gen->sp[-1];
}

void vm_generator_finish_delegation(ObjGenerator *gen) {
    gen->sp--;
    gen->ip++;
}

#ifdef MINI_COMPUTED_GOTO
#define TARGET(op) L_##op:
#define DISPATCH()                                        \
    do {                                                  \
        ins = *ip++;                                      \
        arg = INSTR_ARG(ins);                             \
        goto *dispatch_table[INSTR_OP(ins)];              \
    } while (0)
#else
#define TARGET(op) case OP_##op:
#define DISPATCH() goto dispatch
#endif

#ifdef MINI_COMPUTED_GOTO
/* The loop's dispatch table is one for the process, so that dispatching
 * stays one indexed jump whether or not anything traces. While a thread
 * traces (sys.settrace/setprofile), every entry leads to the tracer, which
 * goes on to the instruction's own code (at once for threads that do not
 * trace). The table is rewritten only with the world stopped, when no
 * thread of the interpreter reads it. */
static const void **loop_dispatch;       /* run_loop's table */
static const void *const *loop_handlers; /* the instructions' own entries */
static const void *const *loop_tracer;   /* every entry: the tracer */
static int traced_threads;               /* changed with the world stopped */

void vm_count_traced_thread(TState *ts, int delta) {
    thread_stop_world(ts);
    traced_threads += delta;
    if (loop_dispatch)
        memcpy(loop_dispatch, traced_threads > 0 ? loop_tracer : loop_handlers, OP_COUNT * sizeof(void *));
    thread_resume_world(ts);
}
#else
void vm_count_traced_thread(TState *ts, int delta) {
    (void)ts;
    (void)delta;
}
#endif

#define LOAD_FRAME()                                      \
    do {                                                  \
        frame = &ts->frames[ts->frame_count - 1];         \
        code = frame->fn->code;                           \
        ip = frame->ip;                                   \
        sp = frame->sp;                                   \
        locals = frame->base;                             \
        consts = code->consts;                            \
    } while (0)
#define SAVE_STATE() (frame->ip = ip, frame->sp = sp)
#define PC() ((uint32_t)(ip - code->instrs) - 1)
#define CACHE_SLOT() (&code->caches[*ip++])
#define TOP() (sp[-1])
#define POP() (*--sp)
#define PUSH(v) (*sp++ = (v))
#define CHECK(v)                                          \
    do {                                                  \
        if (IS_ERROR(v)) goto error;                      \
    } while (0)
/* The eval breaker: one relaxed load at backward jumps and calls. */
#define SAFEPOINT()                                                                \
    do {                                                                           \
        if (atomic_load_explicit(&ts->eval_breaker, memory_order_relaxed)) {       \
            SAVE_STATE();                                                          \
            if (!vm_safepoint(ts)) goto error;                                     \
        }                                                                          \
    } while (0)

static Value run_loop(TState *ts, bool throwing) {
    Frame *frame;
    ObjCode *code;
    const uint32_t *ip;
    Value *sp;
    Value *locals;
    Value *consts;
    uint32_t ins, arg;
    bool add_traceback = true;
    /* Call state shared by the CALL family, set before `goto do_call`. */
    Value callee;
    Value *call_args;
    int call_nargs;
    ObjTuple *call_kwnames;
    Value *call_result;
    Value yielded; /* set before `goto suspend` */
    /* And for enter_function. */
    ObjFunction *call_fn;
    Value call_self;
    uint8_t call_flags;

#ifdef MINI_COMPUTED_GOTO
    static const void *dispatch_table[OP_COUNT] = {
#define OP(name, words, effect, doc) &&L_##name,
#include "vm/opcodes.def"
#undef OP
    };
    static const void *const handler_table[OP_COUNT] = {
#define OP(name, words, effect, doc) &&L_##name,
#include "vm/opcodes.def"
#undef OP
    };
    static const void *const trace_table[OP_COUNT] = {
#define OP(name, words, effect, doc) &&trace_instruction,
#include "vm/opcodes.def"
#undef OP
    };
    /* The first run, on the main thread before any other starts. */
    if (!loop_dispatch) {
        loop_handlers = handler_table;
        loop_tracer = trace_table;
        loop_dispatch = dispatch_table;
    }
#endif

    LOAD_FRAME();
    if (throwing) goto error; /* PC() is then the yield that suspended it */
#ifdef MINI_COMPUTED_GOTO
    DISPATCH();
#else
dispatch:
    ins = *ip++;
    arg = INSTR_ARG(ins);
    if (ts->tracing) goto trace_instruction;
dispatch_op:
    switch (INSTR_OP(ins)) {
#endif

    TARGET(NOP) { DISPATCH(); }
    TARGET(POP_TOP) {
        sp--;
        DISPATCH();
    }
    TARGET(COPY) {
        Value v = sp[-(int)arg];
        PUSH(v);
        DISPATCH();
    }
    TARGET(SWAP) {
        Value v = sp[-1];
        sp[-1] = sp[-(int)arg];
        sp[-(int)arg] = v;
        DISPATCH();
    }
    TARGET(LOAD_CONST) {
        PUSH(consts[arg]);
        DISPATCH();
    }
    TARGET(LOAD_SMALL_INT) {
        int32_t v = (int32_t)(arg << 8) >> 8;
        PUSH(INT_VAL(v));
        DISPATCH();
    }
    TARGET(LOAD_NONE) {
        PUSH(NONE_VAL);
        DISPATCH();
    }
    TARGET(LOAD_FAST) {
        Value v = locals[arg];
        if (IS_EMPTY(v)) {
            SAVE_STATE();
            unbound_local(ts, code, arg);
            goto error;
        }
        PUSH(v);
        DISPATCH();
    }
    TARGET(LOAD_FAST_PAIR) {
        Value a = locals[arg & 0xfff], b = locals[arg >> 12];
        if (IS_EMPTY(a) || IS_EMPTY(b)) {
            SAVE_STATE();
            unbound_local(ts, code, IS_EMPTY(a) ? arg & 0xfff : arg >> 12);
            goto error;
        }
        PUSH(a);
        PUSH(b);
        DISPATCH();
    }
    TARGET(STORE_FAST) {
        locals[arg] = POP();
        DISPATCH();
    }
    TARGET(DELETE_FAST) {
        if (IS_EMPTY(locals[arg])) {
            SAVE_STATE();
            unbound_local(ts, code, arg);
            goto error;
        }
        locals[arg] = EMPTY_VAL;
        DISPATCH();
    }
    TARGET(LOAD_DEREF) {
        Value v = cell_get(AS_CELL(locals[arg]));
        if (IS_EMPTY(v)) {
            SAVE_STATE();
            unbound_local(ts, code, arg);
            goto error;
        }
        PUSH(v);
        DISPATCH();
    }
    TARGET(STORE_DEREF) {
        cell_set(AS_CELL(locals[arg]), POP());
        DISPATCH();
    }
    TARGET(DELETE_DEREF) {
        ObjCell *cell = AS_CELL(locals[arg]);
        if (IS_EMPTY(cell_get(cell))) {
            SAVE_STATE();
            unbound_local(ts, code, arg);
            goto error;
        }
        cell_set(cell, EMPTY_VAL);
        DISPATCH();
    }
    TARGET(LOAD_CLOSURE) {
        PUSH(locals[arg]);
        DISPATCH();
    }
    TARGET(LOAD_GLOBAL) {
        _Atomic uint64_t *cache = CACHE_SLOT();
        SAVE_STATE();
        Value v = load_global(ts, frame->fn, code->names[arg], cache);
        CHECK(v);
        PUSH(v);
        DISPATCH();
    }
    TARGET(STORE_GLOBAL) {
        SAVE_STATE();
        if (dict_set_str(ts, frame->fn->globals, code->names[arg], TOP()) < 0) goto error;
        sp--;
        DISPATCH();
    }
    TARGET(DELETE_GLOBAL) {
        SAVE_STATE();
        int r = dict_delete(ts, frame->fn->globals, OBJ_VAL(code->names[arg]));
        if (r < 0) goto error;
        if (r == 0) {
            name_error(ts, code->names[arg]);
            goto error;
        }
        DISPATCH();
    }
    TARGET(LOAD_NAME) {
        SAVE_STATE();
        Value v = load_name(ts, frame, code->names[arg]);
        CHECK(v);
        PUSH(v);
        DISPATCH();
    }
    TARGET(STORE_NAME) {
        SAVE_STATE();
        ObjDict *ns = plain_namespace(frame);
        Obj *custom = custom_namespace(ts, frame);
        if (custom ? ops_setitem(ts, OBJ_VAL(custom), OBJ_VAL(code->names[arg]), TOP()) < 0
                   : dict_set_str(ts, ns, code->names[arg], TOP()) < 0)
            goto error;
        sp--;
        DISPATCH();
    }
    TARGET(SETUP_ANNOTATIONS) {
        SAVE_STATE();
        Obj *custom = custom_namespace(ts, frame);
        Value name = OBJ_VAL(ts->interp->names.annotations);
        Value have = custom ? ops_getitem(ts, OBJ_VAL(custom), name)
                            : dict_get_str(plain_namespace(frame), ts->interp->names.annotations);
        if (IS_ERROR(have)) {
            if (!err_matches(ts, ts->interp->exc.KeyError)) goto error;
            err_clear(ts);
            have = EMPTY_VAL;
        }
        if (IS_EMPTY(have)) {
            ObjDict *d = dict_new(ts);
            if (!d) goto error;
            if (custom ? ops_setitem(ts, OBJ_VAL(custom), name, OBJ_VAL(d)) < 0
                       : dict_set_str(ts, plain_namespace(frame), ts->interp->names.annotations, OBJ_VAL(d)) < 0)
                goto error;
        }
        DISPATCH();
    }
    TARGET(DELETE_NAME) {
        SAVE_STATE();
        ObjDict *ns = plain_namespace(frame);
        Obj *custom = custom_namespace(ts, frame);
        int r;
        if (custom) {
            r = ops_setitem(ts, OBJ_VAL(custom), OBJ_VAL(code->names[arg]), EMPTY_VAL) < 0 ? -1 : 1;
            if (r < 0 && err_matches(ts, ts->interp->exc.KeyError)) {
                err_clear(ts);
                r = 0;
            }
        } else {
            r = dict_delete(ts, ns, OBJ_VAL(code->names[arg]));
        }
        if (r < 0) goto error;
        if (r == 0) {
            name_error(ts, code->names[arg]);
            goto error;
        }
        DISPATCH();
    }
    TARGET(LOAD_CLASSDEREF) {
        SAVE_STATE();
        ObjStr *name = code->varnames[arg >> 12];
        Obj *custom = custom_namespace(ts, frame);
        Value v = custom ? ops_getitem(ts, OBJ_VAL(custom), OBJ_VAL(name))
                  : frame->locals ? dict_get_str((ObjDict *)frame->locals, name) : EMPTY_VAL;
        if (IS_ERROR(v)) {
            if (!err_matches(ts, ts->interp->exc.KeyError)) goto error;
            err_clear(ts);
            v = EMPTY_VAL;
        }
        if (IS_EMPTY(v)) {
            v = cell_get(AS_CELL(locals[arg >> 12]));
            if (IS_EMPTY(v)) {
                SAVE_STATE();
                unbound_local(ts, code, arg >> 12);
                goto error;
            }
        }
        PUSH(v);
        DISPATCH();
    }
    TARGET(LOAD_ATTR) {
        _Atomic uint64_t *cache = CACHE_SLOT();
        Value obj = TOP();
        ObjStr *name = code->names[arg];
        if (IS_INSTANCE(obj)) {
            uint32_t epoch = type_epoch(ts);
            uint64_t c;
            if (attr_cache_way(cache, OBJ_TYPE(obj), epoch, &c)) {
                Value v = attr_cached_get(obj, name, ATTR_CACHE_PAYLOAD(c));
                if (!IS_EMPTY(v)) {
                    TOP() = v;
                    DISPATCH();
                }
            }
            SAVE_STATE();
            Value v = ops_getattr(ts, obj, name);
            CHECK(v);
            attr_cache_fill(ts, cache, obj, name, epoch, false);
            TOP() = v;
            DISPATCH();
        }
        SAVE_STATE();
        Value v = ops_getattr(ts, obj, name);
        CHECK(v);
        TOP() = v;
        DISPATCH();
    }
    TARGET(STORE_ATTR) {
        _Atomic uint64_t *cache = CACHE_SLOT();
        Value obj = sp[-1];
        ObjStr *name = code->names[arg];
        uint32_t epoch = type_epoch(ts);
        uint64_t c;
        if (IS_INSTANCE(obj) && attr_cache_way(cache, OBJ_TYPE(obj), epoch, &c) &&
            attr_cached_set(ts, obj, name, ATTR_CACHE_PAYLOAD(c), sp[-2])) {
            sp -= 2;
            DISPATCH();
        }
        SAVE_STATE();
        if (ops_setattr(ts, obj, name, sp[-2]) < 0) goto error;
        if (IS_INSTANCE(obj)) attr_cache_fill(ts, cache, obj, name, epoch, true);
        sp -= 2;
        DISPATCH();
    }
    TARGET(DELETE_ATTR) {
        SAVE_STATE();
        if (ops_setattr(ts, TOP(), code->names[arg], EMPTY_VAL) < 0) goto error;
        sp--;
        DISPATCH();
    }
    TARGET(LOAD_METHOD) {
        _Atomic uint64_t *cache = CACHE_SLOT();
        Value obj = TOP();
        ObjStr *name = code->names[arg];
        ObjType *type = val_type(ts, obj);
        uint64_t c;
        if (attr_cache_way(cache, type, type_epoch(ts), &c)) {
            Value m = type_at_position(type, name, ATTR_CACHE_PAYLOAD(c));
            if (!IS_EMPTY(m) && !shadowed_by_instance(obj, name)) {
                sp[-1] = m;
                PUSH(obj);
                DISPATCH();
            }
        }
        SAVE_STATE();
        Value func, self;
        if (!load_method(ts, obj, name, &func, &self, cache)) goto error;
        sp[-1] = func;
        PUSH(self);
        DISPATCH();
    }
    TARGET(BINARY_SUBSCR) {
        Value key = sp[-1], obj = sp[-2];
        /* Exact types only: a subclass may override __getitem__. */
        if (IS_INT(key)) {
            int64_t i = AS_INT(key);
            if (IS_EXACT_LIST(ts, obj)) {
                ObjList *list = AS_LIST(obj);
                int64_t n = (int64_t)list_len(list);
                if (i < 0) i += n;
                Value v = i >= 0 ? list_get(list, (size_t)i) : EMPTY_VAL;
                if (!IS_EMPTY(v)) {
                    sp--;
                    TOP() = v;
                    DISPATCH();
                }
            } else if (IS_EXACT_TUPLE(ts, obj)) {
                ObjTuple *t = AS_TUPLE(obj);
                if (i < 0) i += (int64_t)t->len;
                if (i >= 0 && i < (int64_t)t->len) {
                    sp--;
                    TOP() = t->items[i];
                    DISPATCH();
                }
            }
        }
        SAVE_STATE();
        Value v = ops_getitem(ts, obj, key);
        CHECK(v);
        sp--;
        TOP() = v;
        DISPATCH();
    }
    TARGET(STORE_SUBSCR) {
        Value key = sp[-1], obj = sp[-2], value = sp[-3];
        if (IS_INT(key) && IS_EXACT_LIST(ts, obj) && list_set_index(ts, AS_LIST(obj), AS_INT(key), value)) {
            sp -= 3;
            DISPATCH();
        }
        SAVE_STATE();
        if (ops_setitem(ts, obj, key, value) < 0) goto error;
        sp -= 3;
        DISPATCH();
    }
    TARGET(DELETE_SUBSCR) {
        SAVE_STATE();
        if (ops_setitem(ts, sp[-2], sp[-1], EMPTY_VAL) < 0) goto error;
        sp -= 2;
        DISPATCH();
    }
    TARGET(BUILD_SLICE) {
        Value step = arg == 3 ? POP() : NONE_VAL;
        Value stop = POP();
        Value start = TOP();
        SAVE_STATE();
        ObjSlice *s = slice_new(ts, start, stop, step);
        if (!s) goto error;
        TOP() = OBJ_VAL(s);
        DISPATCH();
    }
    TARGET(BINARY_OP) {
        Value r;
        if (arith_fast((BinOp)arg, sp[-2], sp[-1], &r)) {
            sp--;
            TOP() = r;
            DISPATCH();
        }
        SAVE_STATE();
        r = arith(ts, (BinOp)arg, sp[-2], sp[-1], false);
        CHECK(r);
        sp--;
        TOP() = r;
        DISPATCH();
    }
    TARGET(INPLACE_OP) {
        Value r;
        if (arith_fast((BinOp)arg, sp[-2], sp[-1], &r)) {
            sp--;
            TOP() = r;
            DISPATCH();
        }
        SAVE_STATE();
        r = arith(ts, (BinOp)arg, sp[-2], sp[-1], true);
        CHECK(r);
        sp--;
        TOP() = r;
        DISPATCH();
    }
    TARGET(UNARY_OP) {
        Value a = TOP();
        if (IS_INT(a) && arg == UN_NEG && AS_INT(a) != SMALL_INT_MIN) {
            TOP() = INT_VAL(-AS_INT(a));
            DISPATCH();
        }
        if (IS_FLOAT(a) && arg == UN_NEG) {
            TOP() = FLOAT_VAL(-AS_FLOAT(a));
            DISPATCH();
        }
        SAVE_STATE();
        Value r = ops_unary(ts, (UnOp)arg, a);
        CHECK(r);
        TOP() = r;
        DISPATCH();
    }
    TARGET(UNARY_NOT) {
        Value a = TOP();
        if (IS_BOOL(a)) {
            TOP() = BOOL_VAL(!AS_BOOL(a));
            DISPATCH();
        }
        SAVE_STATE();
        int t = ops_truth(ts, a);
        if (t < 0) goto error;
        TOP() = BOOL_VAL(!t);
        DISPATCH();
    }
    TARGET(COMPARE_OP) {
        Value b = sp[-1], a = sp[-2];
        int fast = compare_fast((CmpOp)arg, a, b);
        if (fast >= 0) {
            sp--;
            TOP() = BOOL_VAL(fast);
            DISPATCH();
        }
        SAVE_STATE();
        Value r = ops_compare(ts, a, b, (CmpOp)arg);
        CHECK(r);
        sp--;
        TOP() = r;
        DISPATCH();
    }
    TARGET(COMPARE_JUMP_IF_FALSE) {
        uint32_t target = *ip++;
        Value b = sp[-1], a = sp[-2];
        int truth = compare_fast((CmpOp)(arg & 0xff), a, b);
        if (truth < 0) {
            SAVE_STATE();
            Value r = ops_compare(ts, a, b, (CmpOp)(arg & 0xff));
            CHECK(r);
            if (IS_BOOL(r)) {
                truth = AS_BOOL(r);
            } else {
                sp[-2] = r; /* keep it rooted while __bool__ runs */
                truth = ops_truth(ts, r);
                if (truth < 0) goto error;
            }
        }
        sp -= 2;
        if (!truth) ip = code->instrs + target;
        DISPATCH();
    }
    TARGET(IS_OP) {
        Value b = POP();
        bool r = TOP() == b;
        TOP() = BOOL_VAL(arg ? !r : r);
        DISPATCH();
    }
    TARGET(GET_LEN) {
        SAVE_STATE();
        int64_t n = ops_len(ts, TOP());
        if (n < 0) goto error;
        Value v = int_from_i64(ts, n);
        CHECK(v);
        PUSH(v);
        DISPATCH();
    }
    TARGET(MATCH_SEQUENCE) {
        Value v = TOP();
        PUSH(BOOL_VAL(match_is_sequence(ts, v)));
        DISPATCH();
    }
    TARGET(MATCH_MAPPING) {
        Value v = TOP();
        PUSH(BOOL_VAL(match_is_mapping(ts, v)));
        DISPATCH();
    }
    TARGET(MATCH_KEYS) {
        SAVE_STATE();
        Value v = match_keys(ts, sp[-2], AS_TUPLE(sp[-1]));
        CHECK(v);
        PUSH(v);
        DISPATCH();
    }
    TARGET(COPY_DICT_WITHOUT_KEYS) {
        SAVE_STATE();
        Value v = match_rest(ts, sp[-2], AS_TUPLE(sp[-1]));
        CHECK(v);
        TOP() = v;
        DISPATCH();
    }
    TARGET(MATCH_CLASS) {
        SAVE_STATE();
        Value v = match_class(ts, sp[-3], sp[-2], arg, AS_TUPLE(sp[-1]));
        CHECK(v);
        sp -= 2;
        TOP() = v;
        DISPATCH();
    }
    TARGET(CONTAINS_OP) {
        Value container = sp[-1], item = sp[-2];
        SAVE_STATE();
        int r = ops_contains(ts, container, item);
        if (r < 0) goto error;
        sp--;
        TOP() = BOOL_VAL(arg ? !r : r);
        DISPATCH();
    }
    TARGET(JUMP) {
        ip = code->instrs + arg;
        DISPATCH();
    }
    TARGET(JUMP_BACK) {
        ip = code->instrs + arg;
        SAFEPOINT();
        DISPATCH();
    }
    TARGET(POP_JUMP_IF_FALSE) {
        Value v = TOP();
        int t;
        if (IS_BOOL(v)) t = AS_BOOL(v);
        else {
            SAVE_STATE();
            t = ops_truth(ts, v);
            if (t < 0) goto error;
        }
        sp--;
        if (!t) ip = code->instrs + arg;
        DISPATCH();
    }
    TARGET(POP_JUMP_IF_TRUE) {
        Value v = TOP();
        int t;
        if (IS_BOOL(v)) t = AS_BOOL(v);
        else {
            SAVE_STATE();
            t = ops_truth(ts, v);
            if (t < 0) goto error;
        }
        sp--;
        if (t) ip = code->instrs + arg;
        DISPATCH();
    }
    TARGET(JUMP_IF_FALSE_OR_POP) {
        SAVE_STATE();
        int t = ops_truth(ts, TOP());
        if (t < 0) goto error;
        if (!t) ip = code->instrs + arg;
        else sp--;
        DISPATCH();
    }
    TARGET(JUMP_IF_TRUE_OR_POP) {
        SAVE_STATE();
        int t = ops_truth(ts, TOP());
        if (t < 0) goto error;
        if (t) ip = code->instrs + arg;
        else sp--;
        DISPATCH();
    }
    TARGET(GET_ITER) {
        SAVE_STATE();
        Value it = ops_iter(ts, TOP());
        CHECK(it);
        TOP() = it;
        DISPATCH();
    }
    TARGET(FOR_ITER) {
        Value it = TOP();
        Value v;
        SAVE_STATE();
        if (IS_ITERATOR(it)) {
            v = AS_ITERATOR(it)->step(ts, AS_ITERATOR(it));
        } else if (IS_GENERATOR(it)) {
            if (resume_inline(ts, AS_GENERATOR(it))) {
                LOAD_FRAME();
                DISPATCH();
            }
            Value result;
            v = generator_resume(ts, AS_GENERATOR(it), NONE_VAL, &result);
        } else {
            v = ops_next(ts, it);
        }
        if (IS_EMPTY(v)) {
            sp--;
            ip = code->instrs + arg;
            DISPATCH();
        }
        CHECK(v);
        PUSH(v);
        DISPATCH();
    }
    TARGET(BUILD_TUPLE) {
        SAVE_STATE();
        ObjTuple *t = tuple_from(ts, sp - arg, arg);
        if (!t) goto error;
        sp -= arg;
        PUSH(OBJ_VAL(t));
        DISPATCH();
    }
    TARGET(BUILD_LIST) {
        SAVE_STATE();
        ObjList *l = list_from(ts, sp - arg, arg);
        if (!l) goto error;
        sp -= arg;
        PUSH(OBJ_VAL(l));
        DISPATCH();
    }
    TARGET(BUILD_SET) {
        SAVE_STATE();
        ObjSet *s = set_new(ts, ts->interp->types.set);
        if (!s) goto error;
        Value *items = sp - arg;
        /* Keep the new set rooted above the items while hashing runs. */
        PUSH(OBJ_VAL(s));
        SAVE_STATE();
        for (uint32_t i = 0; i < arg; i++)
            if (set_add(ts, s, items[i]) < 0) goto error;
        sp = items;
        PUSH(OBJ_VAL(s));
        DISPATCH();
    }
    TARGET(BUILD_MAP) {
        SAVE_STATE();
        ObjDict *d = dict_new(ts);
        if (!d) goto error;
        Value *items = sp - 2 * arg;
        PUSH(OBJ_VAL(d));
        SAVE_STATE();
        for (uint32_t i = 0; i < arg; i++)
            if (dict_set(ts, d, items[2 * i], items[2 * i + 1]) < 0) goto error;
        sp = items;
        PUSH(OBJ_VAL(d));
        DISPATCH();
    }
    TARGET(BUILD_STRING) {
        SAVE_STATE();
        Value s = build_string(ts, sp - arg, (int)arg);
        CHECK(s);
        sp -= arg;
        PUSH(s);
        DISPATCH();
    }
    TARGET(LIST_APPEND) {
        Value v = TOP();
        SAVE_STATE();
        if (list_append(ts, AS_LIST(sp[-2 - (int)arg]), v) < 0) goto error;
        sp--;
        DISPATCH();
    }
    TARGET(SET_ADD) {
        SAVE_STATE();
        if (set_add(ts, AS_SET(sp[-2 - (int)arg]), TOP()) < 0) goto error;
        sp--;
        DISPATCH();
    }
    TARGET(MAP_ADD) {
        SAVE_STATE();
        if (dict_set(ts, AS_DICT(sp[-3 - (int)arg]), sp[-2], sp[-1]) < 0) goto error;
        sp -= 2;
        DISPATCH();
    }
    TARGET(LIST_EXTEND) {
        SAVE_STATE();
        Value iterable = TOP();
        if (list_extend(ts, AS_LIST(sp[-2 - (int)arg]), iterable) < 0) {
            if (err_matches(ts, ts->interp->exc.TypeError) && !val_type(ts, iterable)->iter) {
                err_clear(ts);
                err_format(ts, ts->interp->exc.TypeError, "Value after * must be an iterable, not %s",
                           ops_type_name(ts, iterable));
            }
            goto error;
        }
        sp--;
        DISPATCH();
    }
    TARGET(SET_UPDATE) {
        SAVE_STATE();
        ObjSet *s = AS_SET(sp[-2 - (int)arg]);
        Value it = ops_iter(ts, TOP());
        CHECK(it);
        TOP() = it;
        for (;;) {
            Value v = ops_next(ts, it);
            CHECK(v);
            if (IS_EMPTY(v)) break;
            if (set_add(ts, s, v) < 0) goto error;
        }
        sp--;
        DISPATCH();
    }
    TARGET(DICT_UPDATE) {
        SAVE_STATE();
        if (dict_update(ts, AS_DICT(sp[-2 - (int)arg]), TOP()) < 0) goto error;
        sp--;
        DISPATCH();
    }
    TARGET(DICT_MERGE) {
        SAVE_STATE();
        /* The callable, for messages: A = 1 when LOAD_METHOD's two slots
         * hold it ([method, self] or [EMPTY, callable]). */
        Value *call_at = sp - 4 - (arg && !IS_EMPTY(sp[-5]));
        if (!merge_call_kwargs(ts, AS_DICT(sp[-2]), TOP(), *call_at)) goto error;
        sp--;
        DISPATCH();
    }
    TARGET(LIST_TO_TUPLE) {
        SAVE_STATE();
        ObjTuple *t = ops_to_tuple(ts, TOP());
        if (!t) goto error;
        TOP() = OBJ_VAL(t);
        DISPATCH();
    }
    TARGET(FORMAT_VALUE) {
        Value spec = (arg & 4) ? POP() : EMPTY_VAL;
        if ((arg & 4)) sp++; /* keep the spec rooted during formatting */
        SAVE_STATE();
        Value v = format_value(ts, (arg & 4) ? sp[-2] : sp[-1], (int)(arg & 3), spec);
        CHECK(v);
        if (arg & 4) sp--;
        TOP() = v;
        DISPATCH();
    }
    TARGET(UNPACK_SEQUENCE) {
        Value seq = TOP();
        if (IS_TUPLE_ITER(ts, seq) && AS_TUPLE(seq)->len == arg) {
            ObjTuple *t = AS_TUPLE(seq);
            sp--;
            for (uint32_t i = arg; i > 0; i--) PUSH(t->items[i - 1]);
            DISPATCH();
        }
        if (IS_LIST_ITER(ts, seq) && list_unpack(ts, AS_LIST(seq), sp - 1, arg)) {
            sp += (int)arg - 1;
            DISPATCH();
        }
        SAVE_STATE();
        if (!unpack(ts, seq, sp - 1, (int)arg, 0, false)) goto error;
        sp += (int)arg - 1; /* signed: arg is 0 for `[] = []` */
        DISPATCH();
    }
    TARGET(UNPACK_EX) {
        int before = (int)(arg & 0xff), after = (int)(arg >> 8);
        Value seq = TOP();
        SAVE_STATE();
        if (!unpack(ts, seq, sp - 1, before, after, true)) goto error;
        sp += before + after;
        DISPATCH();
    }
    TARGET(CALL) {
        call_nargs = (int)arg;
        call_args = sp - arg;
        callee = call_args[-1];
        call_kwnames = NULL;
        call_result = call_args - 1;
        goto do_call;
    }
    TARGET(CALL_KW) {
        call_kwnames = AS_TUPLE(POP());
        call_nargs = (int)arg - (int)call_kwnames->len;
        call_args = sp - arg;
        callee = call_args[-1];
        call_result = call_args - 1;
        goto do_call;
    }
    TARGET(CALL_METHOD) {
        call_kwnames = NULL;
        goto call_method;
    }
    TARGET(CALL_METHOD_KW) {
        call_kwnames = AS_TUPLE(POP());
    call_method:
        call_args = sp - arg;
        call_nargs = (int)arg - (call_kwnames ? (int)call_kwnames->len : 0);
        call_result = call_args - 2;
        if (IS_EMPTY(call_args[-2])) {
            callee = call_args[-1];
        } else {
            callee = call_args[-2];
            call_args--;
            call_nargs++;
        }
        goto do_call;
    }
    TARGET(CALL_EX) {
        /* A & 1: a dict of keyword arguments on top; A & 2: LOAD_METHOD's
         * two slots hold the callable; A >> 2: positional values pushed
         * before the iterable of the others. */
        int before = (int)(arg >> 2);
        Value *slot = sp - 1 - (arg & 1);
        call_result = slot - before - 1 - ((arg >> 1) & 1);
        int bound = (arg & 2) && !IS_EMPTY(call_result[0]);
        callee = bound || !(arg & 2) ? call_result[0] : call_result[1];
        Value *first = slot - before - bound;
        SAVE_STATE();
        /* **m alone is m itself (else a dict the call made): a dict is read
         * as it is, unless iterating *args may run mini code first (CPython
         * copies it before); anything else is merged into a new one. */
        if ((arg & 1) && (!dict_is_plain_mapping(sp[-1]) || (!IS_TUPLE_ITER(ts, *slot) && !IS_LIST_ITER(ts, *slot)))) {
            ObjDict *kw = dict_new(ts);
            if (!kw) goto error;
            vm_push(ts, OBJ_VAL(kw));
            bool ok = merge_call_kwargs(ts, kw, sp[-1], callee);
            vm_pop(ts);
            if (!ok) goto error;
            sp[-1] = OBJ_VAL(kw);
        }
        Value kwargs = arg & 1 ? sp[-1] : EMPTY_VAL;
        if (frame->gen) {
            Value r = call_ex(ts, callee, first, before + bound, *slot, kwargs);
            CHECK(r);
            sp = call_result;
            PUSH(r);
            DISPATCH();
        }
        /* The arguments are spread in place, as a CALL's would be. */
        int n = spread_arguments(ts, callee, *slot, kwargs, slot, &call_kwnames, before == 0);
        if (n < 0) goto error;
        sp = slot + n + (call_kwnames ? (int)call_kwnames->len + 1 : 0);
        call_args = first;
        call_nargs = n + before + bound;
        goto do_call;
    }
    TARGET(MAKE_FUNCTION) {
        ObjCode *fcode = AS_CODE(consts[arg >> 4]);
        SAVE_STATE();
        ObjFunction *fn = function_new(ts, fcode, frame->fn->globals);
        if (!fn) goto error;
        if (arg & 4) fn->closure = AS_TUPLE(POP());
        if (arg & 8) fn->annotations = AS_DICT(POP());
        if (arg & 2) fn->kwdefaults = AS_DICT(POP());
        if (arg & 1) fn->defaults = AS_TUPLE(POP());
        PUSH(OBJ_VAL(fn));
        DISPATCH();
    }
    TARGET(RETURN_VALUE) {
        Value r = POP();
        uint8_t flags = frame->flags;
        ObjGenerator *gen = frame->gen;
        if (gen) {
            leave_generator(ts, gen);
            atomic_store(&gen->state, GEN_CLOSED);
            ts->gen_returned = true;
        }
        ts->frame_count--;
        if (flags & (FRAME_ENTRY | FRAME_INIT)) {
            if (flags & FRAME_ENTRY) return r;
            /* An __init__ run by a class call: the instance is on the
             * caller's stack already. */
            LOAD_FRAME();
            if (!IS_NONE(r)) {
                SAVE_STATE();
                class_init_returned(ts, r);
                goto error;
            }
            DISPATCH();
        }
        LOAD_FRAME();
        if (flags & FRAME_GEN_INLINE) {
            /* Exhausted: the FOR_ITER that resumed it (just before ip)
             * pops the generator and leaves its loop. */
            sp--;
            ip = code->instrs + INSTR_ARG(ip[-1]);
            DISPATCH();
        }
        PUSH(r);
        DISPATCH();
    }
    TARGET(YIELD_VALUE) {
        yielded = POP();
        frame->gen->ip = ip;
        goto suspend;
    }
    TARGET(YIELD_FROM) {
        Value sent = sp[-1], sub = sp[-2];
        Value result = NONE_VAL;
        Value v;
        SAVE_STATE();
        bool heap = IS_OBJ(sub) && (OBJ_TYPE(sub)->flags & TYPEF_HEAPTYPE);
        if (IS_GENERATOR(sub)) {
            v = generator_resume(ts, AS_GENERATOR(sub), sent, &result);
        } else {
            if (IS_NONE(sent) && !heap) {
                v = ops_next(ts, sub);
            } else {
                Value send = ops_getattr(ts, sub, IS_NONE(sent) ? ts->interp->names.next : ts->interp->names.send);
                CHECK(send);
                v = vm_call(ts, send, IS_NONE(sent) ? NULL : &sent, IS_NONE(sent) ? 0 : 1, NULL);
            }
            /* send(), a class's __next__ or a built-in awaitable's: its
             * StopIteration carries the result of the yield from. */
            if (IS_ERROR(v) && err_matches(ts, ts->interp->exc.StopIteration)) {
                Value exc = err_fetch(ts);
                ObjTuple *a = AS_TUPLE(AS_EXCEPTION(exc)->args);
                result = a->len ? a->items[0] : NONE_VAL;
                v = EMPTY_VAL;
            }
        }
        CHECK(v);
        if (IS_EMPTY(v)) {
            sp -= 2;
            PUSH(result);
            DISPATCH();
        }
        /* Yield outward; resuming re-runs YIELD_FROM with the new value. */
        sp--;
        yielded = v;
        frame->gen->ip = ip - 1;
        goto suspend;
    }
    TARGET(GET_AWAITABLE) {
        SAVE_STATE();
        Value aw = coro_get_awaitable(ts, TOP(), (int)arg);
        CHECK(aw);
        TOP() = aw;
        DISPATCH();
    }
    TARGET(GET_AITER) {
        SAVE_STATE();
        Value it = coro_get_aiter(ts, TOP());
        CHECK(it);
        TOP() = it;
        DISPATCH();
    }
    TARGET(GET_ANEXT) {
        SAVE_STATE();
        Value aw = coro_get_anext(ts, TOP());
        CHECK(aw);
        PUSH(aw);
        DISPATCH();
    }
    TARGET(END_ASYNC_FOR) {
        Value exc = POP();
        sp--;
        if (exc_matches(ts, exc, OBJ_VAL(ts->interp->exc.StopAsyncIteration))) DISPATCH();
        SAVE_STATE();
        err_restore(ts, exc);
        add_traceback = false;
        goto error;
    }
    TARGET(IMPORT_NAME) {
        /* fromlist stays on the stack (a root) while a replaced __import__ runs. */
        Value fromlist = TOP();
        Value level = sp[-2];
        SAVE_STATE();
        Value m = module_import_statement(ts, code->names[arg], fromlist, (int)AS_INT(level), frame->fn->globals,
                                          frame->locals, frame->fn->builtins);
        CHECK(m);
        sp--;
        TOP() = m;
        DISPATCH();
    }
    TARGET(IMPORT_FROM) {
        SAVE_STATE();
        Value v = import_from(ts, TOP(), code->names[arg]);
        CHECK(v);
        PUSH(v);
        DISPATCH();
    }
    TARGET(IMPORT_STAR) {
        SAVE_STATE();
        if (!import_star(ts, TOP(), frame->locals ? OBJ_VAL(frame->locals) : OBJ_VAL(frame->fn->globals))) goto error;
        sp--;
        DISPATCH();
    }
    TARGET(RAISE) {
        SAVE_STATE();
        if (arg == 0) {
            if (!IS_EXCEPTION(ts->handled)) {
                err_format(ts, ts->interp->exc.RuntimeError, "No active exception to reraise");
                goto error;
            }
            err_restore(ts, ts->handled);
            add_traceback = false;
            goto error;
        }
        Value cause = arg == 2 ? POP() : EMPTY_VAL;
        Value exc = POP();
        if (arg == 2 && !IS_NONE(cause)) {
            if (IS_TYPE(cause) && (AS_TYPE(cause)->flags & TYPEF_EXCEPTION)) {
                cause = vm_call(ts, cause, NULL, 0, NULL);
                CHECK(cause);
            } else if (!IS_EXCEPTION(cause)) {
                err_format(ts, ts->interp->exc.TypeError, "exception causes must derive from BaseException");
                goto error;
            }
        }
        if (IS_ERROR(err_raise(ts, exc)) && arg == 2 && !IS_EMPTY(cause) && IS_EXCEPTION(ts->exc) &&
            (IS_EXCEPTION(exc) || IS_TYPE(exc))) {
            ObjException *e = AS_EXCEPTION(ts->exc);
            e->cause = cause;
            e->suppress_context = true;
        }
        goto error;
    }
    TARGET(PUSH_EXC_INFO) {
        Value exc = TOP();
        TOP() = frame->gen && ts->handled == ts->gen_caller_handled ? EMPTY_VAL : ts->handled;
        PUSH(exc);
        ts->handled = exc;
        DISPATCH();
    }
    TARGET(POP_EXCEPT) {
        Value prev = POP();
        ts->handled = IS_EMPTY(prev) ? ts->gen_caller_handled : prev;
        DISPATCH();
    }
    TARGET(CHECK_EXC_MATCH) {
        Value type = TOP();
        if (!valid_except_type(type)) {
            SAVE_STATE();
            err_format(ts, ts->interp->exc.TypeError,
                       "catching classes that do not inherit from BaseException is not allowed");
            goto error;
        }
        TOP() = BOOL_VAL(exc_matches(ts, sp[-2], type));
        DISPATCH();
    }
    TARGET(CHECK_EG_MATCH) {
        Value type = TOP(), rest;
        SAVE_STATE();
        if (!valid_except_type(type)) {
            err_format(ts, ts->interp->exc.TypeError,
                       "catching classes that do not inherit from BaseException is not allowed");
            goto error;
        }
        Value match = eg_except_star_match(ts, sp[-2], type, &rest);
        CHECK(match);
        sp[-2] = rest;
        TOP() = match;
        if (!IS_NONE(match)) ts->handled = match;
        DISPATCH();
    }
    TARGET(PREP_RERAISE_STAR) {
        SAVE_STATE();
        Value r = eg_prep_reraise_star(ts, sp[-2], AS_LIST(TOP()));
        CHECK(r);
        sp--;
        TOP() = r;
        DISPATCH();
    }
    TARGET(RERAISE) {
        Value exc = POP();
        SAVE_STATE();
        err_restore(ts, exc);
        add_traceback = false;
        goto error;
    }
    TARGET(LOAD_ASSERTION_ERROR) {
        PUSH(OBJ_VAL(ts->interp->exc.AssertionError));
        DISPATCH();
    }
    TARGET(BEFORE_WITH) {
        Value mgr = TOP();
        Interp *interp = ts->interp;
        SAVE_STATE();
        Value enter = type_lookup(val_type(ts, mgr), arg ? interp->names.aenter : interp->names.enter);
        Value exitfn = type_lookup(val_type(ts, mgr), arg ? interp->names.aexit : interp->names.exit);
        if (IS_EMPTY(enter) || IS_EMPTY(exitfn)) {
            /* 3.11 names the missing method when only __exit__ is. */
            err_format(ts, interp->exc.TypeError,
                       "'%s' object does not support the %scontext manager protocol%s",
                       ops_type_name(ts, mgr), arg ? "asynchronous " : "",
                       IS_EMPTY(enter) ? "" : arg ? " (missed __aexit__ method)" : " (missed __exit__ method)");
            goto error;
        }
        Value bound_exit = class_bind(ts, exitfn, mgr, val_type(ts, mgr));
        CHECK(bound_exit);
        PUSH(bound_exit);
        SAVE_STATE();
        Value entered = vm_call_method(ts, enter, mgr, NULL, 0, NULL);
        CHECK(entered);
        sp[-2] = bound_exit;
        sp[-1] = entered;
        DISPATCH();
    }
    TARGET(WITH_EXCEPT) {
        /* Stack: [exit, previous handled, exc]: exit(type, exc, tb). */
        Value exc = sp[-1];
        Value exitfn = sp[-3];
        Value args[3] = {OBJ_VAL(val_type(ts, exc)), exc,
                         IS_EXCEPTION(exc) ? AS_EXCEPTION(exc)->traceback : NONE_VAL};
        SAVE_STATE();
        Value r = vm_call(ts, exitfn, args, 3, NULL);
        CHECK(r);
        PUSH(r);
        DISPATCH();
    }
    TARGET(LOAD_BUILD_CLASS) {
        Value v = dict_get_str(ts->interp->builtins, str_intern_cstr(ts, "__build_class__"));
        if (IS_EMPTY(v)) {
            SAVE_STATE();
            err_format(ts, ts->interp->exc.NameError, "__build_class__ not found");
            goto error;
        }
        PUSH(v);
        DISPATCH();
    }
    TARGET(PRINT_EXPR) {
        Value v = TOP();
        if (!IS_NONE(v)) {
            SAVE_STATE();
            Value r = ops_repr(ts, v);
            CHECK(r);
            Value builtins_print = dict_get_str(ts->interp->builtins, str_intern_cstr(ts, "print"));
            if (!IS_EMPTY(builtins_print)) {
                sp[-1] = r;
                Value pr = vm_call(ts, builtins_print, &sp[-1], 1, NULL);
                CHECK(pr);
            }
            dict_set_str(ts, ts->interp->builtins, str_intern_cstr(ts, "_"), v);
        }
        sp--;
        DISPATCH();
    }

#ifndef MINI_COMPUTED_GOTO
    default:
        break;
    }
    SAVE_STATE();
    err_format(ts, ts->interp->exc.SystemError, "unknown opcode %u", INSTR_OP(ins));
    goto error;
#endif

suspend: {
    /* YIELD_VALUE and YIELD_FROM (arg as theirs), with gen->ip set. */
    ObjGenerator *gen = frame->gen;
    uint8_t flags = frame->flags;
    gen->sp = sp;
    gen->handled = arg ? ts->handled : EMPTY_VAL;
    ts->gen_returned = false;
    leave_generator(ts, gen);
    /* Release: a thread that resumes it next sees ip, sp and handled. */
    atomic_store_explicit(&gen->state, GEN_SUSPENDED, memory_order_release);
    ts->frame_count--;
    if (!(flags & FRAME_GEN_INLINE)) return yielded;
    LOAD_FRAME();
    PUSH(yielded);
    DISPATCH();
}

do_call:
    if (IS_FUNCTION(callee)) {
        ObjFunction *fn = AS_FUNCTION(callee);
        ObjCode *fcode = fn->code;
        if ((fcode->flags & CODE_SIMPLE) && !call_kwnames && call_nargs == (int)fcode->argcount &&
            !frame->gen && ts->frame_count < ts->frame_cap - 1 &&
            ts->frame_count <= atomic_load_explicit(&ts->interp->recursion_limit, memory_order_relaxed) &&
            call_args + CODE_FRAME_SIZE(fcode) <= ts->stack_end) {
            /* The common call: the arguments already sit where the callee's
             * first locals go. */
            frame->ip = ip;
            frame->sp = call_result;
            for (uint32_t i = (uint32_t)call_nargs; i < fcode->nlocals; i++) call_args[i] = EMPTY_VAL;
            Frame *f = &ts->frames[ts->frame_count++];
            f->fn = fn;
            f->ip = fcode->instrs;
            f->base = call_args;
            f->sp = call_args + fcode->nlocals;
            f->locals = NULL;
            f->gen = NULL;
            f->flags = 0;
            LOAD_FRAME();
            SAFEPOINT();
            DISPATCH();
        }
        if (!(fn->code->flags & CODE_GENERATOR)) {
            call_fn = fn;
            call_self = EMPTY_VAL;
            call_flags = 0;
            goto enter_function;
        }
    } else if (IS_BOUND_METHOD(callee) && IS_FUNCTION(AS_BOUND_METHOD(callee)->func) &&
               !(AS_FUNCTION(AS_BOUND_METHOD(callee)->func)->code->flags & CODE_GENERATOR)) {
        /* A bound method of a mini function (a stored callback, super()'s
         * methods): its function with its self first, in this loop. */
        call_fn = AS_FUNCTION(AS_BOUND_METHOD(callee)->func);
        call_self = AS_BOUND_METHOD(callee)->self;
        call_flags = 0;
        goto enter_function;
    } else if (IS_TYPE(callee) && OBJ_TYPE(callee)->call == ts->interp->types.type->call) {
        /* A class called the default way: __new__ here, then its mini
         * __init__ in this loop, as a frame whose return checks for None
         * and leaves the instance (kept in the callee's slot meanwhile). */
        SAVE_STATE();
        Value init;
        Value obj = class_construct(ts, AS_TYPE(callee), call_args, call_nargs, call_kwnames, &init);
        CHECK(obj);
        *call_result = obj;
        if (!IS_EMPTY(init) && !(AS_FUNCTION(init)->code->flags & CODE_GENERATOR)) {
            call_fn = AS_FUNCTION(init);
            call_self = obj;
            call_flags = FRAME_INIT;
            goto enter_function;
        }
        if (!IS_EMPTY(init)) CHECK(class_init_returned(ts, vm_call_method(ts, init, obj, call_args, call_nargs, call_kwnames)));
        sp = call_result + 1;
        SAFEPOINT();
        DISPATCH();
    }
    {
        SAVE_STATE();
        ObjType *t = val_type(ts, callee);
        Value r;
        if (IS_FUNCTION(callee)) {
            r = make_generator(ts, AS_FUNCTION(callee), call_args, call_nargs, call_kwnames);
        } else if (!t->call) {
            r = err_type_not(ts, callee, "callable");
        } else if (ts->tracing) {
            r = tracer_call(ts, frame, callee, call_args, call_nargs, call_kwnames);
        } else if (IS_NATIVE(callee)) {
            r = native_invoke(ts, AS_NATIVE(callee), call_args, call_nargs, call_kwnames);
        } else {
            r = t->call(ts, callee, call_args, call_nargs, call_kwnames);
        }
        CHECK(r);
        sp = call_result;
        PUSH(r);
        /* As CPython after a call: what the callee set off (a signal it
         * sent, a collection it asked for) is handled before the next
         * instruction. */
        SAFEPOINT();
        DISPATCH();
    }

    /* Pushes a frame for call_fn, its arguments call_self (unless empty)
     * then those at call_args, and goes on in it; the caller's stack ends
     * below call_result meanwhile, or just above it for a FRAME_INIT call,
     * whose slot there holds the instance. */
enter_function:
    {
        ObjFunction *fn = call_fn;
        int self = IS_EMPTY(call_self) ? 0 : 1;
        int total = call_nargs + (call_kwnames ? (int)call_kwnames->len : 0);
        Value *keep = call_result + (call_flags & FRAME_INIT ? 1 : 0);
        /* A generator's frame is not on the thread stack: the callee's
         * frame goes at the free end of it. */
        Value *base = frame->gen ? stack_owner(ts)->sp : call_args - (call_args - self >= keep ? self : 0);
        if (base + self + total + CODE_FRAME_SIZE(fn->code) > ts->stack_end) {
            SAVE_STATE();
            err_format(ts, ts->interp->exc.RecursionError, "maximum recursion depth exceeded");
            goto error;
        }
        if (base + self != call_args) memmove(base + self, call_args, (size_t)total * sizeof(Value));
        if (self) base[0] = call_self;
        frame->ip = ip;
        frame->sp = keep;
        if (!bind_arguments(ts, fn, base, base, call_nargs + self, call_kwnames)) {
            sp = call_result + 1;
            goto error_at_call;
        }
        Frame *callee_frame = push_frame(ts, fn, base);
        if (!callee_frame) {
            sp = call_result + 1;
            goto error_at_call;
        }
        callee_frame->flags = call_flags;
        LOAD_FRAME();
        SAFEPOINT();
        DISPATCH();
    }

trace_instruction:
    if (ts->tracing) {
        SAVE_STATE();
        if (!tracer_instruction(ts, frame, ins)) goto error;
    }
#ifdef MINI_COMPUTED_GOTO
    goto *handler_table[INSTR_OP(ins)];
#else
    goto dispatch_op;
#endif

error_at_call:
    frame->sp = sp;
error:
    {
        /* The safepoint on function entry runs before the first
         * instruction: no handler of the body covers it yet. */
        bool at_entry = ip == code->instrs;
        uint32_t pc = at_entry ? 0 : PC();
        if (add_traceback) err_add_traceback(ts, frame->fn, (int)code->lines[pc]);
        /* The tracer's exception event, not for a re-raise. */
        if (ts->tracing && add_traceback) {
            SAVE_STATE();
            tracer_exception(ts, frame);
        }
        add_traceback = true;
        const ExcHandler *h = at_entry ? NULL : find_handler(code, pc);
        if (h) {
            sp = locals + code->nlocals + h->depth;
            PUSH(err_fetch(ts));
            ip = code->instrs + h->handler;
            /* After a MemoryError, give back what the unwound frames held
             * before the handler needs memory (a safepoint: all is rooted). */
            if (atomic_load_explicit(&ts->interp->gc.memory_short, memory_order_relaxed)) {
                SAVE_STATE();
                safepoint_gc(ts);
            }
            DISPATCH();
        }
        if (ts->tracing) {
            SAVE_STATE();
            tracer_unwind(ts, frame);
        }
        uint8_t flags = frame->flags;
        ObjGenerator *gen = frame->gen;
        if (gen) {
            leave_generator(ts, gen);
            atomic_store(&gen->state, GEN_CLOSED);
        }
        ts->frame_count--;
        if (flags & FRAME_ENTRY) return ERROR_VAL;
        if (flags & FRAME_GEN_INLINE) generator_raised(ts, gen); /* PEP 479, as generator_outcome */
        LOAD_FRAME();
        goto error;
    }
}

Value vm_globals(TState *ts) {
    for (int i = ts->frame_count - 1; i > 0; i--)
        if (ts->frames[i].fn) return OBJ_VAL(ts->frames[i].fn->globals);
    return OBJ_VAL(ts->interp->builtins);
}

Value vm_locals(TState *ts) {
    Frame *f = NULL;
    for (int i = ts->frame_count - 1; i > 0 && !f; i--)
        if (ts->frames[i].fn) f = &ts->frames[i];
    if (!f) return OBJ_VAL(ts->interp->builtins);
    return vm_frame_locals(ts, f);
}

Value vm_frame_locals(TState *ts, Frame *f) {
    if (f->locals && !(f->flags & FRAME_LOCALS_DICT)) return OBJ_VAL(f->locals);
    /* A function's locals live in its frame: its dict (made at the first
     * call, kept by the frame, as CPython's f_locals) gets the bound ones,
     * cells and free variables read through, and loses the unbound ones;
     * other names (put there by exec) stay. */
    ObjCode *code = f->fn->code;
    if (!f->locals) {
        ObjDict *made = dict_new(ts);
        if (!made) return ERROR_VAL;
        f->locals = &made->obj;
        f->flags |= FRAME_LOCALS_DICT;
    }
    ObjDict *d = (ObjDict *)f->locals;
    uint32_t first_free = code->nlocals - code->nfree;
    for (uint32_t i = 0; i < code->nlocals; i++) {
        Value v = f->base[i];
        bool cell = i >= first_free;
        for (uint32_t k = 0; k < code->ncells && !cell; k++) cell = code->cell_locals[k] == i;
        if (cell && IS_CELL(v)) v = AS_CELL(v)->value;
        else if (cell) v = EMPTY_VAL; /* not made yet: the frame has not started */
        if (IS_EMPTY(v) ? dict_delete(ts, d, OBJ_VAL(code->varnames[i])) < 0
                        : dict_set_str(ts, d, code->varnames[i], v) < 0)
            return ERROR_VAL;
    }
    return OBJ_VAL(d);
}
