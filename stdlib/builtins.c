/* The built-in functions, with CPython 3.11's semantics and messages.
 *
 * GC discipline: anything that can run mini code (ops_call, ops_next on an
 * arbitrary iterator, comparisons and str() of user objects) can reach a
 * safepoint, so values still needed across such calls are kept reachable:
 * arguments are (they live on the VM stack), and everything else is pushed
 * with vm_push or kept in a small scratch tuple that is itself pushed. */

#include "stdlib/builtins.h"

#include <gmp.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "runtime/args.h"
#include "runtime/buffer.h"
#include "runtime/bytes.h"
#include "runtime/class.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/file.h"
#include "runtime/float.h"
#include "runtime/function.h"
#include "runtime/coroutine.h"
#include "runtime/generator.h"
#include "runtime/int.h"
#include "runtime/iterator.h"
#include "runtime/list.h"
#include "runtime/codec.h"
#include "runtime/module.h"
#include "runtime/numfmt.h"
#include "runtime/ops.h"
#include "runtime/range.h"
#include "runtime/shape.h"
#include "runtime/str.h"
#include "runtime/strbuf.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "vm/eval.h"
#include "vm/interp.h"
#include "vm/vm.h"

#define EXCS(ts) (&(ts)->interp->exc)

/* Long C loops over lists and ranges (sum, min, any...) run no mini code,
 * so they visit the safepoint themselves every this many items + 1. */
#define WALK_SAFEPOINT_MASK 0xFFFu

/* ---- helpers ------------------------------------------------------------ */

static bool is_exact_int(TState *ts, Value v) {
    return IS_INT(v) || (IS_BIGINT(v) && OBJ_TYPE(v) == ts->interp->types.int_);
}

static bool has_keyword(ObjTuple *kwnames, const char *name) {
    for (size_t k = 0; kwnames && k < kwnames->len; k++)
        if (!strcmp(AS_STR(kwnames->items[k])->data, name)) return true;
    return false;
}

/* sys.<name> from the sys module's namespace: EMPTY_VAL if missing,
 * ERROR_VAL after raising. */
static Value sys_value(TState *ts, const char *name) {
    Value sys = ts->interp->sys_module;
    if (!IS_MODULE(sys)) return EMPTY_VAL;
    ObjStr *key = str_intern_cstr(ts, name);
    if (!key) return ERROR_VAL;
    return dict_get_str(AS_MODULE(sys)->dict, key);
}

/* obj.<method>(*args) for a method named by a C string. */
static Value call_method(TState *ts, Value obj, const char *method, Value *args, int nargs) {
    ObjStr *name = str_intern_cstr(ts, method);
    if (!name) return ERROR_VAL;
    Value m = ops_getattr(ts, obj, name);
    if (IS_ERROR(m)) return m;
    vm_push(ts, m);
    Value r = ops_call(ts, m, args, nargs, NULL);
    vm_pop(ts);
    return r;
}

/* file.write(text) for mini files and any object with a write method.
 * The caller keeps file and text reachable. */
static bool write_text(TState *ts, Value file, Value text) {
    if (IS_FILE(file)) return file_write_str(ts, file, AS_STR(text)->data, AS_STR(text)->len);
    return !IS_ERROR(call_method(ts, file, "write", &text, 1));
}

static bool flush_stream(TState *ts, Value file) {
    if (IS_FILE(file)) return file_flush(ts, file);
    return !IS_ERROR(call_method(ts, file, "flush", NULL, 0));
}

/* A fresh list of the str keys of a dict, sorted. */
static Value sorted_keys(TState *ts, ObjDict *d) {
    ObjList *list = list_new(ts, dict_len(d));
    if (!list) return ERROR_VAL;
    size_t pos = 0;
    Value k, v;
    while (dict_next(d, &pos, &k, &v))
        if (IS_STR(k) && list_append(ts, list, k) < 0) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(list));
    int r = list_sort(ts, list, NONE_VAL, false);
    vm_pop(ts);
    return r < 0 ? ERROR_VAL : OBJ_VAL(list);
}

/* ---- walking an iterable from C ------------------------------------------ */

/* Iterates lists, tuples and ranges directly, anything else through its
 * iterator (pushed on the VM stack until walk_end). */
typedef enum WalkKind { WALK_ARRAY, WALK_LIST, WALK_RANGE, WALK_ITER } WalkKind;

typedef struct Walker {
    WalkKind kind;
    Value src;          /* WALK_LIST: the list; WALK_ITER: the iterator */
    const Value *items; /* WALK_ARRAY: a tuple's items or the arguments */
    int64_t index;      /* next position */
    int64_t left;       /* WALK_ARRAY: item count; WALK_RANGE: items left */
    int64_t value, step;
    uint32_t ticks;
} Walker;

static void walk_array(Walker *w, const Value *items, int64_t n) {
    *w = (Walker){.kind = WALK_ARRAY, .items = items, .left = n};
}

/* The iterable must stay reachable (it is an argument) until walk_end. */
static bool walk_begin(TState *ts, Walker *w, Value iterable) {
    BuiltinTypes *types = &ts->interp->types;
    *w = (Walker){.kind = WALK_ITER, .src = iterable};
    if (IS_OBJ(iterable)) {
        ObjType *t = OBJ_TYPE(iterable);
        if (t == types->list) {
            w->kind = WALK_LIST;
            return true;
        }
        if (t == types->tuple) {
            walk_array(w, AS_TUPLE(iterable)->items, (int64_t)AS_TUPLE(iterable)->len);
            return true;
        }
        if (t == types->range && !AS_RANGE(iterable)->big) {
            ObjRange *r = AS_RANGE(iterable);
            w->kind = WALK_RANGE;
            w->value = r->start;
            w->left = r->len;
            w->step = r->step;
            return true;
        }
    }
    Value it = ops_iter(ts, iterable);
    if (IS_ERROR(it)) return false;
    vm_push(ts, it);
    w->src = it;
    return true;
}

static void walk_end(TState *ts, Walker *w) {
    if (w->kind == WALK_ITER) vm_pop(ts);
}

/* The next item, EMPTY_VAL at the end, ERROR_VAL after raising. Callers
 * hold no unrooted values here: it may run the safepoint. */
static Value walk_next(TState *ts, Walker *w) {
    if ((++w->ticks & WALK_SAFEPOINT_MASK) == 0 && !vm_safepoint(ts)) return ERROR_VAL;
    switch (w->kind) {
    case WALK_ARRAY:
        return w->index < w->left ? w->items[w->index++] : EMPTY_VAL;
    case WALK_LIST: {
        Value v = list_get(AS_LIST(w->src), (size_t)w->index);
        if (!IS_EMPTY(v)) w->index++;
        return v;
    }
    case WALK_RANGE: {
        if (w->left <= 0) return EMPTY_VAL;
        int64_t v = w->value;
        if (--w->left > 0) w->value += w->step;
        return SMALL_INT_FITS(v) ? INT_VAL(v) : int_from_i64(ts, v);
    }
    case WALK_ITER:
        break;
    }
    return ops_next(ts, w->src);
}

/* ---- print, input, open ---------------------------------------------------- */

/* Appends str(v) to sb, without making a str object for the common
 * types. False after raising. */
static bool append_str(TState *ts, StrBuf *sb, Value v) {
    bool ok;
    if (IS_STR(v) && OBJ_TYPE(v) == ts->interp->types.str) {
        ok = sb_append(sb, AS_STR(v)->data, AS_STR(v)->len);
    } else if (IS_INT(v)) {
        /* Digits by hand: print() of many ints is common and printf slow. */
        char buf[24], *p = buf + sizeof buf;
        int64_t i = AS_INT(v);
        uint64_t u = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
        do *--p = (char)('0' + u % 10);
        while ((u /= 10) != 0);
        if (i < 0) *--p = '-';
        ok = sb_append(sb, p, (size_t)(buf + sizeof buf - p));
    } else if (IS_FLOAT(v)) {
        char buf[NUMFMT_REPR_BUFSIZE];
        size_t n = numfmt_float_repr(AS_FLOAT(v), buf);
        ok = sb_append(sb, buf, n);
    } else if (IS_NONE(v) || IS_BOOL(v)) {
        ok = sb_append_cstr(sb, IS_NONE(v) ? "None" : AS_BOOL(v) ? "True" : "False");
    } else {
        Value s = ops_str(ts, v);
        if (IS_ERROR(s)) return false;
        ok = sb_append(sb, AS_STR(s)->data, AS_STR(s)->len);
    }
    if (!ok) err_no_memory(ts);
    return ok;
}

/* print() to a mini file: the whole line is built first and written with
 * one call, so lines printed by concurrent threads do not interleave. */
static bool print_line(TState *ts, Value file, Value *items, int n, Value sep, Value end) {
    StrBuf sb;
    sb_init(&sb);
    bool ok = true;
    for (int i = 0; ok && i < n; i++) {
        if (i > 0) {
            ok = IS_NONE(sep) ? sb_append_char(&sb, ' ') : sb_append(&sb, AS_STR(sep)->data, AS_STR(sep)->len);
            if (!ok) {
                err_no_memory(ts);
                break;
            }
        }
        ok = append_str(ts, &sb, items[i]);
    }
    if (ok) {
        ok = IS_NONE(end) ? sb_append_char(&sb, '\n') : sb_append(&sb, AS_STR(end)->data, AS_STR(end)->len);
        if (!ok) err_no_memory(ts);
    }
    if (ok && sb.len) ok = file_write_str(ts, file, sb.data, sb.len);
    sb_free(&sb);
    return ok;
}

/* print() to any other object: its write() per piece, as CPython. */
static bool print_pieces(TState *ts, Value file, Value *items, int n, Value sep, Value end) {
    ObjStr *space = str_intern_cstr(ts, " ");
    ObjStr *newline = str_intern_cstr(ts, "\n");
    if (!space || !newline) return false;
    for (int i = 0; i < n; i++) {
        if (i > 0 && !write_text(ts, file, IS_NONE(sep) ? OBJ_VAL(space) : sep)) return false;
        Value s = ops_str(ts, items[i]);
        if (IS_ERROR(s)) return false;
        vm_push(ts, s);
        bool ok = write_text(ts, file, s);
        vm_pop(ts);
        if (!ok) return false;
    }
    return write_text(ts, file, IS_NONE(end) ? OBJ_VAL(newline) : end);
}

static Value builtin_print(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    Value sep = NONE_VAL, end = NONE_VAL, file = NONE_VAL, flush = FALSE_VAL;
    for (size_t k = 0; kwnames && k < kwnames->len; k++) {
        const char *key = AS_STR(kwnames->items[k])->data;
        Value v = args[nargs + (int)k];
        if (!strcmp(key, "sep")) sep = v;
        else if (!strcmp(key, "end")) end = v;
        else if (!strcmp(key, "file")) file = v;
        else if (!strcmp(key, "flush")) flush = v;
        else return err_format(ts, EXCS(ts)->TypeError, "'%s' is an invalid keyword argument for print()", key);
    }
    if (!IS_NONE(sep) && !IS_STR(sep))
        return err_format(ts, EXCS(ts)->TypeError, "sep must be None or a string, not %s", ops_type_name(ts, sep));
    if (!IS_NONE(end) && !IS_STR(end))
        return err_format(ts, EXCS(ts)->TypeError, "end must be None or a string, not %s", ops_type_name(ts, end));
    if (IS_NONE(file)) {
        file = sys_value(ts, "stdout");
        if (IS_ERROR(file)) return file;
        if (IS_EMPTY(file)) return err_format(ts, EXCS(ts)->RuntimeError, "lost sys.stdout");
        if (IS_NONE(file)) return NONE_VAL;
    }
    vm_push(ts, file); /* another thread may rebind sys.stdout meanwhile */
    bool ok = IS_FILE(file) ? print_line(ts, file, args, nargs, sep, end)
                            : print_pieces(ts, file, args, nargs, sep, end);
    if (ok && flush != FALSE_VAL) {
        int t = ops_truth(ts, flush);
        ok = t >= 0 && (t == 0 || flush_stream(ts, file));
    }
    vm_pop(ts);
    return ok ? NONE_VAL : ERROR_VAL;
}

static Value builtin_input(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "input", nargs, kwnames, 0, 1)) return ERROR_VAL;
    Value in = sys_value(ts, "stdin");
    Value out = sys_value(ts, "stdout");
    Value err = sys_value(ts, "stderr");
    if (IS_ERROR(in) || IS_ERROR(out) || IS_ERROR(err)) return ERROR_VAL;
    if (IS_EMPTY(in) || IS_NONE(in)) return err_format(ts, EXCS(ts)->RuntimeError, "input(): lost sys.stdin");
    if (IS_EMPTY(out) || IS_NONE(out)) return err_format(ts, EXCS(ts)->RuntimeError, "input(): lost sys.stdout");
    ObjTuple *roots = tuple_new(ts, 3);
    if (!roots) return ERROR_VAL;
    roots->items[0] = in;
    roots->items[1] = out;
    roots->items[2] = IS_EMPTY(err) ? NONE_VAL : err;
    vm_push(ts, OBJ_VAL(roots));
    Value result = ERROR_VAL;
    /* CPython flushes stderr first and ignores a failure to. */
    if (!IS_EMPTY(err) && !IS_NONE(err) && !flush_stream(ts, err)) err_clear(ts);
    if (nargs == 1) {
        Value prompt = ops_str(ts, args[0]);
        if (IS_ERROR(prompt)) goto done;
        vm_push(ts, prompt);
        bool ok = write_text(ts, out, prompt);
        vm_pop(ts);
        if (!ok) goto done;
    }
    if (!flush_stream(ts, out)) goto done;
    Value line = IS_FILE(in) ? file_readline(ts, in) : call_method(ts, in, "readline", NULL, 0);
    if (IS_ERROR(line)) goto done;
    if (!IS_STR(line)) {
        err_format(ts, EXCS(ts)->TypeError, "object.readline() returned non-string");
        goto done;
    }
    ObjStr *s = AS_STR(line);
    if (s->len == 0) {
        err_format(ts, EXCS(ts)->EOFError, "EOF when reading a line");
        goto done;
    }
    if (s->data[s->len - 1] == '\n') {
        ObjStr *stripped = str_new(ts, s->data, s->len - 1);
        result = stripped ? OBJ_VAL(stripped) : ERROR_VAL;
    } else {
        result = line;
    }
done:
    vm_pop(ts);
    return result;
}

/* open(): mini's C files are UTF-8 text (or bytes). A text file in
 * another codec mini knows (ascii, latin-1, utf-8-sig) is, as in CPython's
 * layering, an io.TextIOWrapper over the file opened in binary mode. */
static Value builtin_open(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"file", "mode", "buffering", "encoding",
                                        "errors", "newline", "closefd", "opener"};
    Value a[8];
    if (!args_bind(ts, "open", args, nargs, kwnames, names, 8, 1, 8, a)) return ERROR_VAL;
    Value mode = a[1], enc = a[3];
    bool text = IS_EMPTY(mode) || (IS_STR(mode) && !memchr(AS_STR(mode)->data, 'b', AS_STR(mode)->len));
    if (!text || !IS_STR(enc) || file_is_utf8_encoding(AS_STR(enc)->data) ||
        (!IS_EMPTY(mode) && AS_STR(mode)->len > 8))
        return file_open(ts, args, nargs, kwnames);
    Value probe = codec_decode(ts, "", 0, enc, EMPTY_VAL);
    if (IS_ERROR(probe)) {
        /* Not a codec of mini's: file_open says so as CPython would. */
        err_clear(ts);
        return file_open(ts, args, nargs, kwnames);
    }
    char bmode[10] = "rb";
    if (!IS_EMPTY(mode)) {
        size_t n = 0;
        for (const char *c = AS_STR(mode)->data; *c; c++)
            if (*c != 't') bmode[n++] = *c;
        bmode[n++] = 'b';
        bmode[n] = '\0';
    }
    ObjStr *bmode_str = str_from_cstr(ts, bmode);
    if (!bmode_str) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(bmode_str));
    int64_t buffering = -1;
    bool ok = IS_EMPTY(a[2]) || args_int(ts, a[2], &buffering);
    Value bin_args[8] = {a[0], OBJ_VAL(bmode_str), buffering == 1 ? INT_VAL(-1) : IS_EMPTY(a[2]) ? INT_VAL(-1) : a[2],
                         NONE_VAL, NONE_VAL, NONE_VAL, IS_EMPTY(a[6]) ? TRUE_VAL : a[6],
                         IS_EMPTY(a[7]) ? NONE_VAL : a[7]};
    Value binary = ok ? file_open(ts, bin_args, 8, NULL) : ERROR_VAL;
    vm_pop(ts);
    if (IS_ERROR(binary)) return binary;
    vm_push(ts, binary);
    ObjStr *io_name = str_intern_cstr(ts, "io"), *cls_name = str_intern_cstr(ts, "TextIOWrapper");
    ObjStr *mode_name = str_intern_cstr(ts, "mode"), *r_mode = str_intern_cstr(ts, "r");
    Value io = io_name && cls_name && mode_name && r_mode ? module_import(ts, io_name, NONE_VAL, 0, NULL) : ERROR_VAL;
    Value cls = IS_ERROR(io) ? ERROR_VAL : ops_getattr(ts, io, cls_name);
    Value wrap_args[5] = {binary, enc, IS_EMPTY(a[4]) ? NONE_VAL : a[4], IS_EMPTY(a[5]) ? NONE_VAL : a[5],
                          BOOL_VAL(buffering == 1)};
    Value r = IS_ERROR(cls) ? ERROR_VAL : vm_call(ts, cls, wrap_args, 5, NULL);
    /* CPython's open() sets the wrapper's mode to the one asked for. */
    if (!IS_ERROR(r) && ops_setattr(ts, r, mode_name, IS_EMPTY(mode) ? OBJ_VAL(r_mode) : mode) < 0) r = ERROR_VAL;
    if (IS_ERROR(r)) {
        /* Nothing will close the binary file: close it now, keeping the error. */
        vm_push(ts, err_fetch(ts));
        ObjStr *close_name = str_intern_cstr(ts, "close");
        Value close = close_name ? ops_getattr(ts, binary, close_name) : ERROR_VAL;
        if (!IS_ERROR(close)) vm_call(ts, close, NULL, 0, NULL);
        err_clear(ts);
        err_restore(ts, vm_pop(ts));
    }
    vm_pop(ts);
    return r;
}

/* ---- sum, min, max, any, all -------------------------------------------- */

static void mpz_add_i64(mpz_t z, int64_t v) {
    if (v >= 0) mpz_add_ui(z, z, (unsigned long)v);
    else mpz_sub_ui(z, z, -(unsigned long)v);
}

/* Adds ints while the items are exact ints (or bools): an int64 running
 * sum that spills into a GMP accumulator on overflow, so no object is made
 * per item. *pending gets the first other item (EMPTY_VAL at the end). */
static Value sum_ints(TState *ts, Walker *w, Value start, Value *pending) {
    ObjType *int_type = ts->interp->types.int_;
    int64_t small = 0;
    mpz_t big;
    bool have_big = false;
    if (IS_INT(start)) {
        small = AS_INT(start);
    } else {
        mp_limb_t tmp[2];
        mpz_t view;
        int_as_mpz(start, view, tmp);
        mpz_init_set(big, view);
        have_big = true;
    }
    Value item;
    for (;;) {
        item = walk_next(ts, w);
        int64_t x;
        if (IS_INT(item)) {
            x = AS_INT(item);
        } else if (IS_BOOL(item)) {
            x = AS_BOOL(item);
        } else if (IS_BIGINT(item) && OBJ_TYPE(item) == int_type) {
            mp_limb_t tmp[2];
            mpz_t view;
            int_as_mpz(item, view, tmp);
            if (!have_big) {
                mpz_init(big);
                have_big = true;
            }
            mpz_add(big, big, view);
            continue;
        } else {
            break;
        }
        int64_t t;
        if (!__builtin_add_overflow(small, x, &t)) {
            small = t;
            continue;
        }
        if (!have_big) {
            mpz_init(big);
            have_big = true;
        }
        mpz_add_i64(big, small);
        small = x;
    }
    *pending = item;
    Value total = ERROR_VAL;
    if (!IS_ERROR(item)) {
        if (have_big) {
            mpz_add_i64(big, small);
            total = int_from_mpz(ts, big);
        } else {
            total = int_from_i64(ts, small);
        }
    }
    if (have_big) mpz_clear(big);
    return total;
}

/* Adds floats and ints that fit int64 into a double (CPython's float
 * loop). *pending gets the first other item. */
static Value sum_floats(TState *ts, Walker *w, double f, Value *pending) {
    Value item;
    for (;;) {
        item = walk_next(ts, w);
        int64_t x;
        if (IS_FLOAT(item)) f += AS_FLOAT(item);
        else if (IS_INT(item)) f += (double)AS_INT(item);
        else if (IS_BOOL(item)) f += AS_BOOL(item);
        else if (IS_BIGINT(item) && int_to_i64(item, &x)) f += (double)x;
        else break;
    }
    *pending = item;
    return IS_ERROR(item) ? ERROR_VAL : FLOAT_VAL(f);
}

static Value add_rooted(TState *ts, Value a, Value b) {
    vm_push(ts, a);
    vm_push(ts, b);
    Value r = ops_binary(ts, BIN_ADD, a, b);
    vm_pop(ts);
    vm_pop(ts);
    return r;
}

static Value sum_generic(TState *ts, Walker *w, Value acc) {
    vm_push(ts, acc);
    for (;;) {
        Value item = walk_next(ts, w);
        if (IS_EMPTY(item)) break;
        Value r = IS_ERROR(item) ? item : add_rooted(ts, acc, item);
        if (IS_ERROR(r)) {
            acc = r;
            break;
        }
        vm_pop(ts);
        vm_push(ts, r);
        acc = r;
    }
    vm_pop(ts);
    return acc;
}

/* CPython's order: an int loop while the total is an exact int, then a
 * float loop while it is a float, then the generic protocol. */
static Value sum_walk(TState *ts, Walker *w, Value acc) {
    Value pending;
    if (is_exact_int(ts, acc)) {
        acc = sum_ints(ts, w, acc, &pending);
        if (IS_ERROR(acc) || IS_EMPTY(pending)) return acc;
        acc = add_rooted(ts, acc, pending);
        if (IS_ERROR(acc)) return acc;
    }
    if (IS_FLOAT(acc)) {
        acc = sum_floats(ts, w, AS_FLOAT(acc), &pending);
        if (IS_ERROR(acc) || IS_EMPTY(pending)) return acc;
        acc = add_rooted(ts, acc, pending);
        if (IS_ERROR(acc)) return acc;
    }
    return sum_generic(ts, w, acc);
}

/* sum(range(...), start) in closed form: n*first + step*n*(n-1)/2. */
static Value sum_range(TState *ts, ObjRange *r, Value start) {
    if (r->len == 0) return start;
    mpz_t total, t, view;
    mp_limb_t tmp[2];
    mpz_init_set_si(total, r->len);
    mpz_mul_si(total, total, r->start);
    mpz_init_set_si(t, r->len);
    mpz_mul_si(t, t, r->len - 1);
    mpz_divexact_ui(t, t, 2);
    mpz_mul_si(t, t, r->step);
    mpz_add(total, total, t);
    int_as_mpz(start, view, tmp);
    mpz_add(total, total, view);
    Value v = int_from_mpz(ts, total);
    mpz_clear(total);
    mpz_clear(t);
    return v;
}

static Value builtin_sum(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (nargs == 0)
        return err_format(ts, EXCS(ts)->TypeError, "sum() takes at least 1 positional argument (0 given)");
    if (nargs > 2)
        return err_format(ts, EXCS(ts)->TypeError, "sum() takes at most 2 arguments (%d given)", nargs);
    static const char *const names[] = {"$iterable", "start"};
    Value a[2];
    if (!args_bind(ts, "sum", args, nargs, kwnames, names, 2, 1, 2, a)) return ERROR_VAL;
    Value start = IS_EMPTY(a[1]) ? INT_VAL(0) : a[1];
    if (IS_STR(start))
        return err_format(ts, EXCS(ts)->TypeError, "sum() can't sum strings [use ''.join(seq) instead]");
    Value iterable = a[0];
    if (IS_RANGE(iterable) && !AS_RANGE(iterable)->big && (is_exact_int(ts, start) || IS_BOOL(start)))
        return sum_range(ts, AS_RANGE(iterable), start);
    Walker w;
    if (!walk_begin(ts, &w, iterable)) return ERROR_VAL;
    Value r = sum_walk(ts, &w, start);
    walk_end(ts, &w);
    return r;
}

/* Does `a op b` hold? 1, 0, or -1 after raising. */
static int compare_holds(TState *ts, Value a, Value b, CmpOp op) {
    if (IS_INT(a) && IS_INT(b)) return int_cmp_holds(AS_INT(a) < AS_INT(b) ? -1 : AS_INT(a) > AS_INT(b), op);
    if (IS_FLOAT(a) && IS_FLOAT(b)) return op == CMP_LT ? AS_FLOAT(a) < AS_FLOAT(b) : AS_FLOAT(a) > AS_FLOAT(b);
    ObjType *str_type = ts->interp->types.str;
    if (IS_STR(a) && IS_STR(b) && OBJ_TYPE(a) == str_type && OBJ_TYPE(b) == str_type)
        return int_cmp_holds(str_compare(AS_STR(a), AS_STR(b)), op);
    Value r = ops_compare(ts, a, b, op);
    if (IS_ERROR(r)) return -1;
    return IS_BOOL(r) ? AS_BOOL(r) : ops_truth(ts, r);
}

static Value min_max(TState *ts, Value *args, int nargs, ObjTuple *kwnames, bool is_max) {
    const char *name = is_max ? "max" : "min";
    Value key = NONE_VAL, dflt = EMPTY_VAL;
    for (size_t k = 0; kwnames && k < kwnames->len; k++) {
        const char *kw = AS_STR(kwnames->items[k])->data;
        if (!strcmp(kw, "key")) key = args[nargs + (int)k];
        else if (!strcmp(kw, "default")) dflt = args[nargs + (int)k];
        else return err_format(ts, EXCS(ts)->TypeError, "'%s' is an invalid keyword argument for %s()", kw, name);
    }
    if (nargs == 0) return err_format(ts, EXCS(ts)->TypeError, "%s expected at least 1 argument, got 0", name);
    if (nargs > 1 && !IS_EMPTY(dflt))
        return err_format(ts, EXCS(ts)->TypeError,
                          "Cannot specify a default for %s() with multiple positional arguments", name);
    Walker w;
    if (nargs == 1) {
        if (!walk_begin(ts, &w, args[0])) return ERROR_VAL;
    } else {
        walk_array(&w, args, nargs);
    }
    /* best, its key, the candidate, its key */
    ObjTuple *roots = tuple_new(ts, 4);
    if (!roots) {
        walk_end(ts, &w);
        return ERROR_VAL;
    }
    vm_push(ts, OBJ_VAL(roots));
    Value *slot = roots->items;
    CmpOp op = is_max ? CMP_GT : CMP_LT;
    bool have = false;
    Value result = ERROR_VAL;
    for (;;) {
        Value item = walk_next(ts, &w);
        if (IS_ERROR(item)) goto done;
        if (IS_EMPTY(item)) break;
        slot[2] = item;
        Value k = item;
        if (!IS_NONE(key)) {
            Value arg = item;
            k = ops_call(ts, key, &arg, 1, NULL);
            if (IS_ERROR(k)) goto done;
        }
        if (!have) {
            slot[0] = item;
            slot[1] = k;
            have = true;
            continue;
        }
        slot[3] = k;
        int better = compare_holds(ts, k, slot[1], op);
        if (better < 0) goto done;
        if (better) {
            slot[0] = item;
            slot[1] = k;
        }
    }
    if (have) result = slot[0];
    else if (!IS_EMPTY(dflt)) result = dflt;
    else result = err_format(ts, EXCS(ts)->ValueError, "%s() arg is an empty sequence", name);
done:
    vm_pop(ts);
    walk_end(ts, &w);
    return result;
}

static Value builtin_max(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return min_max(ts, args, nargs, kwnames, true);
}

static Value builtin_min(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return min_max(ts, args, nargs, kwnames, false);
}

/* any() (want = true) and all() (want = false): stops at the first item
 * whose truth is `want`. */
static Value any_all(TState *ts, const char *name, Value *args, int nargs, ObjTuple *kwnames, bool want) {
    if (!args_check(ts, name, nargs, kwnames, 1, 1)) return ERROR_VAL;
    Walker w;
    if (!walk_begin(ts, &w, args[0])) return ERROR_VAL;
    Value result = BOOL_VAL(!want);
    for (;;) {
        Value item = walk_next(ts, &w);
        if (IS_EMPTY(item)) break;
        int t = IS_ERROR(item) ? -1 : ops_truth(ts, item);
        if (t < 0) {
            result = ERROR_VAL;
            break;
        }
        if ((t != 0) == want) {
            result = BOOL_VAL(want);
            break;
        }
    }
    walk_end(ts, &w);
    return result;
}

static Value builtin_any(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return any_all(ts, "any", args, nargs, kwnames, true);
}

static Value builtin_all(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return any_all(ts, "all", args, nargs, kwnames, false);
}

/* ---- sorted and the lazy iterators --------------------------------------- */

static Value builtin_sorted(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (nargs != 1) return err_format(ts, EXCS(ts)->TypeError, "sorted expected 1 argument, got %d", nargs);
    /* The keywords are list.sort's, and so are the messages. */
    for (size_t k = 0; kwnames && k < kwnames->len; k++) {
        const char *kw = AS_STR(kwnames->items[k])->data;
        if (strcmp(kw, "key") != 0 && strcmp(kw, "reverse") != 0)
            return err_format(ts, EXCS(ts)->TypeError, "'%s' is an invalid keyword argument for sort()", kw);
    }
    static const char *const names[] = {"$iterable", "key", "reverse"};
    Value a[3];
    if (!args_bind(ts, "sort", args, nargs, kwnames, names, 3, 1, 1, a)) return ERROR_VAL;
    int64_t reverse = 0;
    if (!IS_EMPTY(a[2]) && !args_int(ts, a[2], &reverse)) return ERROR_VAL;
    ObjList *list = ops_to_list(ts, args[0]);
    if (!list) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(list));
    int r = list_sort(ts, list, IS_EMPTY(a[1]) ? NONE_VAL : a[1], reverse != 0);
    vm_pop(ts);
    return r < 0 ? ERROR_VAL : OBJ_VAL(list);
}

/* reversed(tuple): source = the tuple, index = next position, counting down. */
static Value reversed_tuple_step(TState *ts, ObjIterator *it) {
    ObjTuple *t = AS_TUPLE(it->source);
    if (it->index < 0 || (size_t)it->index >= t->len) return EMPTY_VAL;
    return t->items[it->index--];
}

/* reversed(str): source = the str, index = byte offset where the
 * characters not yet produced end. */
static Value reversed_str_step(TState *ts, ObjIterator *it) {
    ObjStr *s = AS_STR(it->source);
    if (it->index <= 0) return EMPTY_VAL;
    size_t end = (size_t)it->index, start = end - 1;
    while (start > 0 && ((unsigned char)s->data[start] & 0xC0) == 0x80) start--;
    it->index = (int64_t)start;
    ObjStr *c = str_new(ts, s->data + start, end - start);
    return c ? OBJ_VAL(c) : ERROR_VAL;
}

/* reversed() by the sequence protocol: source[index] for index = len-1
 * down to 0; IndexError or StopIteration ends it early. */
static Value reversed_seq_step(TState *ts, ObjIterator *it) {
    if (it->index < 0) return EMPTY_VAL;
    Value v = ops_getitem(ts, it->source, int_from_i64(ts, it->index));
    if (IS_ERROR(v)) {
        if (!err_matches(ts, EXCS(ts)->IndexError) && !err_matches(ts, EXCS(ts)->StopIteration)) return v;
        err_clear(ts);
        it->index = -1;
        return EMPTY_VAL;
    }
    it->index--;
    return v;
}

static bool type_has(ObjType *t, bool slot, ObjStr *dunder) {
    return slot || !IS_EMPTY(type_lookup(t, dunder));
}

static Value builtin_reversed(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (kwnames && kwnames->len) return err_format(ts, EXCS(ts)->TypeError, "reversed() takes no keyword arguments");
    if (nargs != 1) return err_format(ts, EXCS(ts)->TypeError, "reversed expected 1 argument, got %d", nargs);
    Interp *interp = ts->interp;
    Value seq = args[0];
    ObjType *t = val_type(ts, seq);
    if (t == interp->types.list) return list_reversed(ts, AS_LIST(seq));
    if (t == interp->types.range) return range_reversed(ts, AS_RANGE(seq));
    if (t == interp->types.dict) return dict_reversed(ts, AS_DICT(seq));
    ObjStr *name = str_intern_cstr(ts, "__reversed__");
    if (!name) return ERROR_VAL;
    Value fn = type_lookup(t, name);
    if (IS_NONE(fn)) return err_format(ts, EXCS(ts)->TypeError, "'%s' object is not reversible", ops_tp_name(ts, t));
    if (!IS_EMPTY(fn)) return vm_call_method(ts, fn, seq, NULL, 0, NULL);
    ObjIterator *it;
    if (t == interp->types.tuple) {
        it = iterator_new(ts, "reversed", reversed_tuple_step, seq, NONE_VAL);
        if (it) it->index = (int64_t)AS_TUPLE(seq)->len - 1;
    } else if (t == interp->types.str) {
        it = iterator_new(ts, "reversed", reversed_str_step, seq, NONE_VAL);
        if (it) it->index = (int64_t)AS_STR(seq)->len;
    } else if (t->instance_kind != OBJ_DICT && type_has(t, t->getitem != NULL, interp->names.getitem)) {
        /* A sequence, as CPython's PySequence_Check: __getitem__ and not a
         * dict; one without __len__ fails in len(), as there. */
        int64_t n = ops_len(ts, seq);
        if (n < 0) return ERROR_VAL;
        it = iterator_new(ts, "reversed", reversed_seq_step, seq, NONE_VAL);
        if (it) it->index = n - 1;
    } else {
        return err_format(ts, EXCS(ts)->TypeError, "'%s' object is not reversible", ops_tp_name(ts, t));
    }
    return it ? OBJ_VAL(it) : ERROR_VAL;
}

/* enumerate: source = the iterator; the count is `index` while it fits
 * int64, then a big int in `aux` (aux is None until then). */
static Value enumerate_step(TState *ts, ObjIterator *it) {
    Value item = ops_next(ts, it->source);
    if (IS_EMPTY(item) || IS_ERROR(item)) return item;
    Value count;
    if (IS_NONE(it->aux)) {
        count = int_from_i64(ts, it->index);
        if (IS_ERROR(count)) return count;
        if (it->index == INT64_MAX) {
            Value next = int_binop(ts, BIN_ADD, count, INT_VAL(1));
            if (IS_ERROR(next)) return next;
            it->aux = next;
        } else {
            it->index++;
        }
    } else {
        count = it->aux;
        Value next = int_binop(ts, BIN_ADD, count, INT_VAL(1));
        if (IS_ERROR(next)) return next;
        it->aux = next;
    }
    ObjTuple *pair = tuple_pack2(ts, count, item);
    return pair ? OBJ_VAL(pair) : ERROR_VAL;
}

static Value builtin_enumerate(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (nargs == 0 && !has_keyword(kwnames, "iterable"))
        return err_format(ts, EXCS(ts)->TypeError, "enumerate() missing required argument 'iterable'");
    static const char *const names[] = {"iterable", "start"};
    Value a[2];
    if (!args_bind(ts, "enumerate", args, nargs, kwnames, names, 2, 1, 2, a)) return ERROR_VAL;
    Value src = ops_iter(ts, a[0]);
    if (IS_ERROR(src)) return src;
    vm_push(ts, src);
    Value start = IS_EMPTY(a[1]) ? INT_VAL(0) : int_index(ts, a[1]);
    ObjIterator *it = IS_ERROR(start) ? NULL : iterator_new(ts, "enumerate", enumerate_step, src, NONE_VAL);
    vm_pop(ts);
    if (!it) return ERROR_VAL;
    int64_t first;
    if (int_to_i64(start, &first)) it->index = first;
    else it->aux = start;
    return OBJ_VAL(it);
}

/* A tuple of iter(x) for each argument: zip's and map's state. */
static ObjTuple *iterators_of(TState *ts, Value *args, int n) {
    ObjTuple *its = tuple_new(ts, (size_t)n);
    if (!its) return NULL;
    vm_push(ts, OBJ_VAL(its));
    for (int i = 0; i < n; i++) {
        Value it = ops_iter(ts, args[i]);
        if (IS_ERROR(it)) {
            its = NULL;
            break;
        }
        its->items[i] = it;
    }
    vm_pop(ts);
    return its;
}

/* "argument 1" or "arguments 1-n", for zip(strict=True)'s messages. */
static void zip_arguments(char *buf, size_t size, size_t n) {
    if (n == 1) snprintf(buf, size, "argument 1");
    else snprintf(buf, size, "arguments 1-%zu", n);
}

/* zip: source = a tuple of the iterators, aux = strict. */
static Value zip_step(TState *ts, ObjIterator *it) {
    ObjTuple *its = AS_TUPLE(it->source);
    size_t n = its->len;
    if (n == 0) return EMPTY_VAL;
    ObjTuple *result = tuple_new(ts, n);
    if (!result) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(result));
    size_t i = 0;
    Value v = NONE_VAL;
    for (; i < n; i++) {
        v = ops_next(ts, its->items[i]);
        if (IS_ERROR(v) || IS_EMPTY(v)) break;
        result->items[i] = v;
    }
    vm_pop(ts);
    if (i == n) return OBJ_VAL(result);
    if (IS_ERROR(v) || !AS_BOOL(it->aux)) return v;
    char others[48];
    if (i > 0) {
        zip_arguments(others, sizeof others, i);
        return err_format(ts, EXCS(ts)->ValueError, "zip() argument %zu is shorter than %s", i + 1, others);
    }
    for (size_t j = 1; j < n; j++) {
        v = ops_next(ts, its->items[j]);
        if (IS_ERROR(v)) return v;
        if (!IS_EMPTY(v)) {
            zip_arguments(others, sizeof others, j);
            return err_format(ts, EXCS(ts)->ValueError, "zip() argument %zu is longer than %s", j + 1, others);
        }
    }
    return EMPTY_VAL;
}

static Value builtin_zip(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    Value strict = FALSE_VAL;
    for (size_t k = 0; kwnames && k < kwnames->len; k++) {
        const char *kw = AS_STR(kwnames->items[k])->data;
        if (strcmp(kw, "strict") != 0)
            return err_format(ts, EXCS(ts)->TypeError, "'%s' is an invalid keyword argument for zip()", kw);
        int t = ops_truth(ts, args[nargs + (int)k]);
        if (t < 0) return ERROR_VAL;
        strict = BOOL_VAL(t);
    }
    ObjTuple *its = iterators_of(ts, args, nargs);
    if (!its) return ERROR_VAL;
    ObjIterator *it = iterator_new(ts, "zip", zip_step, OBJ_VAL(its), strict);
    return it ? OBJ_VAL(it) : ERROR_VAL;
}

/* map: source = a tuple of the iterators, aux = the function. */
static Value map_step(TState *ts, ObjIterator *it) {
    ObjTuple *its = AS_TUPLE(it->source);
    size_t n = its->len;
    if (n == 1) {
        Value v = ops_next(ts, its->items[0]);
        if (IS_EMPTY(v) || IS_ERROR(v)) return v;
        vm_push(ts, v);
        Value r = ops_call(ts, it->aux, &v, 1, NULL);
        vm_pop(ts);
        return r;
    }
    ObjTuple *call_args = tuple_new(ts, n);
    if (!call_args) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(call_args));
    Value r = NONE_VAL;
    for (size_t i = 0; i < n; i++) {
        Value v = ops_next(ts, its->items[i]);
        if (IS_EMPTY(v) || IS_ERROR(v)) {
            r = v;
            break;
        }
        call_args->items[i] = v;
    }
    if (!IS_EMPTY(r) && !IS_ERROR(r)) r = ops_call(ts, it->aux, call_args->items, (int)n, NULL);
    vm_pop(ts);
    return r;
}

static Value builtin_map(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (kwnames && kwnames->len) return err_format(ts, EXCS(ts)->TypeError, "map() takes no keyword arguments");
    if (nargs < 2) return err_format(ts, EXCS(ts)->TypeError, "map() must have at least two arguments.");
    ObjTuple *its = iterators_of(ts, args + 1, nargs - 1);
    if (!its) return ERROR_VAL;
    ObjIterator *it = iterator_new(ts, "map", map_step, OBJ_VAL(its), args[0]);
    return it ? OBJ_VAL(it) : ERROR_VAL;
}

/* filter: source = the iterator, aux = the predicate or None. */
static Value filter_step(TState *ts, ObjIterator *it) {
    for (uint32_t n = 1;; n++) {
        if ((n & WALK_SAFEPOINT_MASK) == 0 && !vm_safepoint(ts)) return ERROR_VAL;
        Value v = ops_next(ts, it->source);
        if (IS_EMPTY(v) || IS_ERROR(v)) return v;
        vm_push(ts, v);
        Value verdict = v;
        if (!IS_NONE(it->aux)) verdict = ops_call(ts, it->aux, &v, 1, NULL);
        int t = IS_ERROR(verdict) ? -1 : ops_truth(ts, verdict);
        vm_pop(ts);
        if (t < 0) return ERROR_VAL;
        if (t) return v;
    }
}

static Value builtin_filter(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "filter", nargs, kwnames, 2, 2)) return ERROR_VAL;
    Value src = ops_iter(ts, args[1]);
    if (IS_ERROR(src)) return src;
    ObjIterator *it = iterator_new(ts, "filter", filter_step, src, args[0]);
    return it ? OBJ_VAL(it) : ERROR_VAL;
}

/* iter(callable, sentinel): source = the callable (None once finished),
 * aux = the sentinel. */
static Value callable_iter_step(TState *ts, ObjIterator *it) {
    if (IS_NONE(it->source)) return EMPTY_VAL;
    Value v = ops_call(ts, it->source, NULL, 0, NULL);
    if (IS_ERROR(v)) {
        if (!err_matches(ts, EXCS(ts)->StopIteration)) return v;
        err_clear(ts);
        it->source = NONE_VAL;
        return EMPTY_VAL;
    }
    vm_push(ts, v);
    int eq = ops_equal(ts, it->aux, v);
    vm_pop(ts);
    if (eq < 0) return ERROR_VAL;
    if (!eq) return v;
    it->source = NONE_VAL;
    it->aux = NONE_VAL;
    return EMPTY_VAL;
}

static bool is_callable(TState *ts, Value v) { return val_type(ts, v)->call != NULL; }

static Value builtin_iter(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "iter", nargs, kwnames, 1, 2)) return ERROR_VAL;
    if (nargs == 1) return ops_iter(ts, args[0]);
    if (!is_callable(ts, args[0])) return err_format(ts, EXCS(ts)->TypeError, "iter(v, w): v must be callable");
    ObjIterator *it = iterator_new(ts, "callable_iterator", callable_iter_step, args[0], args[1]);
    return it ? OBJ_VAL(it) : ERROR_VAL;
}

static Value builtin_next(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "next", nargs, kwnames, 1, 2)) return ERROR_VAL;
    ObjType *t = val_type(ts, args[0]);
    if (!t->next) return err_format(ts, EXCS(ts)->TypeError, "'%s' object is not an iterator", ops_tp_name(ts, t));
    /* A generator's return value travels in StopIteration.value. */
    Value result = NONE_VAL;
    Value v = IS_GENERATOR(args[0]) ? generator_resume(ts, AS_GENERATOR(args[0]), NONE_VAL, &result)
                                    : ops_next(ts, args[0]);
    if (IS_ERROR(v) && nargs == 2 && err_matches(ts, EXCS(ts)->StopIteration)) {
        err_clear(ts);
        return args[1];
    }
    if (!IS_EMPTY(v)) return v;
    if (nargs == 2) return args[1];
    Value exc = IS_NONE(result) ? exc_new(ts, EXCS(ts)->StopIteration, NULL, 0)
                                : exc_new(ts, EXCS(ts)->StopIteration, &result, 1);
    return IS_ERROR(exc) ? exc : err_raise(ts, exc);
}

static Value builtin_aiter(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "aiter", nargs, kwnames, 1, 1)) return ERROR_VAL;
    return coro_aiter(ts, args[0]);
}

static Value builtin_anext(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "anext", nargs, kwnames, 1, 2)) return ERROR_VAL;
    return coro_anext(ts, args[0], nargs == 2 ? args[1] : EMPTY_VAL);
}

/* ---- numbers ---------------------------------------------------------------- */

static Value builtin_abs(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "abs", nargs, kwnames, 1, 1)) return ERROR_VAL;
    Value v = args[0];
    if (IS_INT(v)) return AS_INT(v) < 0 ? int_from_i64(ts, -AS_INT(v)) : v;
    if (IS_FLOAT(v)) return FLOAT_VAL(fabs(AS_FLOAT(v)));
    if (IS_BOOL(v)) return INT_VAL(AS_BOOL(v));
    if (is_exact_int(ts, v)) return int_abs(ts, v);
    ObjType *t = val_type(ts, v);
    Value fn = type_lookup(t, ts->interp->names.abs);
    if (IS_EMPTY(fn))
        return err_format(ts, EXCS(ts)->TypeError, "bad operand type for abs(): '%s'", ops_tp_name(ts, t));
    return vm_call_method(ts, fn, v, NULL, 0, NULL);
}

/* a.__divmod__(b), then b.__rdivmod__(a): NOT_IMPLEMENTED_VAL if neither
 * handles it. */
static Value divmod_dunders(TState *ts, Value a, Value b) {
    ObjStr *fwd = str_intern_cstr(ts, "__divmod__");
    ObjStr *rev = str_intern_cstr(ts, "__rdivmod__");
    if (!fwd || !rev) return ERROR_VAL;
    ObjType *ta = val_type(ts, a), *tb = val_type(ts, b);
    Value fn = type_lookup(ta, fwd);
    if (!IS_EMPTY(fn)) {
        Value r = vm_call_method(ts, fn, a, &b, 1, NULL);
        if (!IS_NOT_IMPLEMENTED(r)) return r;
    }
    if (tb == ta) return NOT_IMPLEMENTED_VAL;
    fn = type_lookup(tb, rev);
    if (IS_EMPTY(fn)) return NOT_IMPLEMENTED_VAL;
    return vm_call_method(ts, fn, b, &a, 1, NULL);
}

static Value builtin_divmod(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "divmod", nargs, kwnames, 2, 2)) return ERROR_VAL;
    Value a = args[0], b = args[1];
    bool a_int = is_exact_int(ts, a) || IS_BOOL(a), b_int = is_exact_int(ts, b) || IS_BOOL(b);
    if (a_int && b_int) return int_divmod(ts, a, b);
    if ((IS_FLOAT(a) || a_int) && (IS_FLOAT(b) || b_int)) return float_divmod(ts, a, b);
    Value r = divmod_dunders(ts, a, b);
    if (!IS_NOT_IMPLEMENTED(r)) return r;
    return err_format(ts, EXCS(ts)->TypeError, "unsupported operand type(s) for divmod(): '%s' and '%s'",
                      ops_type_name(ts, a), ops_type_name(ts, b));
}

static Value builtin_pow(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"base", "exp", "mod"};
    Value a[3];
    if (!args_bind(ts, "pow", args, nargs, kwnames, names, 3, 2, 3, a)) return ERROR_VAL;
    if (IS_EMPTY(a[2]) || IS_NONE(a[2])) return ops_binary(ts, BIN_POW, a[0], a[1]);
    /* A class of the user's may take pow's third argument itself. */
    ObjStr *name = str_intern_cstr(ts, "__pow__");
    if (!name) return ERROR_VAL;
    Value fn = type_lookup(val_type(ts, a[0]), name);
    if (IS_FUNCTION(fn)) {
        Value r = vm_call_method(ts, fn, a[0], a + 1, 2, NULL);
        if (!IS_NOT_IMPLEMENTED(r)) return r;
    }
    return int_pow_mod(ts, a[0], a[1], a[2]);
}

static Value builtin_round(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"number", "ndigits"};
    Value a[2];
    if (!args_bind(ts, "round", args, nargs, kwnames, names, 2, 1, 2, a)) return ERROR_VAL;
    Value v = a[0], ndigits = a[1];
    if (IS_FLOAT(v)) return float_round(ts, AS_FLOAT(v), ndigits);
    if (is_exact_int(ts, v) || IS_BOOL(v)) return int_round(ts, v, ndigits);
    ObjType *t = val_type(ts, v);
    ObjStr *name = str_intern_cstr(ts, "__round__");
    if (!name) return ERROR_VAL;
    Value fn = type_lookup(t, name);
    if (IS_EMPTY(fn))
        return err_format(ts, EXCS(ts)->TypeError, "type %s doesn't define __round__ method", ops_tp_name(ts, t));
    if (IS_EMPTY(ndigits) || IS_NONE(ndigits)) return vm_call_method(ts, fn, v, NULL, 0, NULL);
    return vm_call_method(ts, fn, v, &ndigits, 1, NULL);
}

static Value int_in_base(TState *ts, const char *fname, Value *args, int nargs, ObjTuple *kwnames, int base) {
    if (!args_check(ts, fname, nargs, kwnames, 1, 1)) return ERROR_VAL;
    Value i = int_index(ts, args[0]);
    if (IS_ERROR(i)) return i;
    ObjStr *s = int_to_str(ts, i, base, true);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static Value builtin_hex(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return int_in_base(ts, "hex", args, nargs, kwnames, 16);
}

static Value builtin_oct(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return int_in_base(ts, "oct", args, nargs, kwnames, 8);
}

static Value builtin_bin(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return int_in_base(ts, "bin", args, nargs, kwnames, 2);
}

/* ---- strings ---------------------------------------------------------------- */

static Value builtin_ord(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "ord", nargs, kwnames, 1, 1)) return ERROR_VAL;
    Value v = args[0];
    size_t len;
    int64_t code = -1;
    if (IS_STR(v)) {
        ObjStr *s = AS_STR(v);
        size_t n;
        len = s->nchars;
        if (len == 1) code = str_utf8_decode(s->data, s->len, &n);
    } else if (IS_BYTES(v) || IS_BYTEARRAY(v)) {
        Buffer view;
        if (!buffer_get(ts, v, &view, BUF_READ)) return ERROR_VAL;
        len = view.len;
        if (len == 1) code = (unsigned char)view.buf[0];
        buffer_release(ts, &view);
    } else {
        return err_format(ts, EXCS(ts)->TypeError, "ord() expected string of length 1, but %s found",
                          ops_type_name(ts, v));
    }
    if (code < 0)
        return err_format(ts, EXCS(ts)->TypeError, "ord() expected a character, but string of length %zu found",
                          len);
    return INT_VAL(code);
}

static Value builtin_chr(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "chr", nargs, kwnames, 1, 1)) return ERROR_VAL;
    Value i = int_index(ts, args[0]);
    if (IS_ERROR(i)) return i;
    int64_t cp;
    if (!int_to_i64(i, &cp) || cp < INT32_MIN || cp > INT32_MAX)
        return err_format(ts, EXCS(ts)->OverflowError, "Python int too large to convert to C int");
    if (cp < 0 || cp > 0x10FFFF) return err_format(ts, EXCS(ts)->ValueError, "chr() arg not in range(0x110000)");
    ObjStr *s = str_from_codepoint(ts, (uint32_t)cp);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static Value builtin_repr(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "repr", nargs, kwnames, 1, 1)) return ERROR_VAL;
    return ops_repr(ts, args[0]);
}

static Value builtin_ascii(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "ascii", nargs, kwnames, 1, 1)) return ERROR_VAL;
    return str_ascii(ts, args[0]);
}

static Value builtin_format(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "format", nargs, kwnames, 1, 2)) return ERROR_VAL;
    Value spec = nargs > 1 ? args[1] : OBJ_VAL(ts->interp->names.empty);
    if (!IS_STR(spec))
        return err_format(ts, EXCS(ts)->TypeError, "format() argument 2 must be str, not %s", ops_type_name(ts, spec));
    return ops_format(ts, args[0], spec);
}

/* ---- objects and attributes ------------------------------------------------- */

static Value builtin_len(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "len", nargs, kwnames, 1, 1)) return ERROR_VAL;
    int64_t n = ops_len(ts, args[0]);
    return n < 0 ? ERROR_VAL : int_from_i64(ts, n);
}

static Value builtin_hash(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "hash", nargs, kwnames, 1, 1)) return ERROR_VAL;
    int64_t h;
    if (ops_hash(ts, args[0], &h) < 0) return ERROR_VAL;
    return int_from_i64(ts, h);
}

/* An object's address; for unboxed values (small ints, floats, None...)
 * the value's bits, which are as stable as the value. */
static Value builtin_id(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "id", nargs, kwnames, 1, 1)) return ERROR_VAL;
    Value v = args[0];
    return int_from_u64(ts, IS_OBJ(v) ? (uint64_t)(uintptr_t)AS_OBJ(v) : v);
}

static Value builtin_callable(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "callable", nargs, kwnames, 1, 1)) return ERROR_VAL;
    return BOOL_VAL(is_callable(ts, args[0]));
}

/* A user metaclass's __instancecheck__ / __subclasscheck__ (abc.ABCMeta's
 * registry), or for a CLS that is not a class, its own class's
 * (types.UnionType, typing's aliases): 1, 0, -1 after raising, or 2 when
 * there is none. */
static int meta_check(TState *ts, Value cls, const char *dunder, Value arg) {
    ObjType *meta = val_type(ts, cls);
    if (!(meta->flags & TYPEF_HEAPTYPE)) return 2;
    Value fn = type_lookup(meta, str_intern_cstr(ts, dunder));
    if (!IS_FUNCTION(fn)) return 2;
    Value r = vm_call_method(ts, fn, cls, &arg, 1, NULL);
    return IS_ERROR(r) ? -1 : ops_truth(ts, r);
}

static int instance_of(TState *ts, Value obj, Value cls, int depth) {
    if (IS_TYPE(cls)) {
        if (ops_isinstance(ts, obj, AS_TYPE(cls))) return 1;
        int r = meta_check(ts, cls, "__instancecheck__", obj);
        return r == 2 ? 0 : r;
    }
    if (IS_TUPLE(cls)) {
        if (depth >= MINI_MAX_NATIVE_DEPTH) {
            err_format(ts, EXCS(ts)->RecursionError, "maximum recursion depth exceeded in __instancecheck__");
            return -1;
        }
        ObjTuple *t = AS_TUPLE(cls);
        for (size_t i = 0; i < t->len; i++) {
            int r = instance_of(ts, obj, t->items[i], depth + 1);
            if (r != 0) return r;
        }
        return 0;
    }
    int r = meta_check(ts, cls, "__instancecheck__", obj);
    if (r != 2) return r;
    err_format(ts, EXCS(ts)->TypeError, "isinstance() arg 2 must be a type, a tuple of types, or a union");
    return -1;
}

static int subclass_of(TState *ts, Value derived, Value cls, int depth) {
    if (IS_TUPLE(cls)) {
        if (depth >= MINI_MAX_NATIVE_DEPTH) {
            err_format(ts, EXCS(ts)->RecursionError, "maximum recursion depth exceeded in __subclasscheck__");
            return -1;
        }
        ObjTuple *t = AS_TUPLE(cls);
        for (size_t i = 0; i < t->len; i++) {
            int r = subclass_of(ts, derived, t->items[i], depth + 1);
            if (r != 0) return r;
        }
        return 0;
    }
    if (!IS_TYPE(cls)) {
        int r = meta_check(ts, cls, "__subclasscheck__", derived);
        if (r != 2) return r;
    }
    if (!IS_TYPE(derived)) {
        err_format(ts, EXCS(ts)->TypeError, "issubclass() arg 1 must be a class");
        return -1;
    }
    if (!IS_TYPE(cls)) {
        err_format(ts, EXCS(ts)->TypeError, "issubclass() arg 2 must be a class, a tuple of classes, or a union");
        return -1;
    }
    int r = meta_check(ts, cls, "__subclasscheck__", derived);
    return r == 2 ? type_is_subtype(AS_TYPE(derived), AS_TYPE(cls)) : r;
}

static Value builtin_isinstance(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "isinstance", nargs, kwnames, 2, 2)) return ERROR_VAL;
    int r = instance_of(ts, args[0], args[1], 0);
    return r < 0 ? ERROR_VAL : BOOL_VAL(r);
}

static Value builtin_issubclass(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "issubclass", nargs, kwnames, 2, 2)) return ERROR_VAL;
    int r = subclass_of(ts, args[0], args[1], 0);
    return r < 0 ? ERROR_VAL : BOOL_VAL(r);
}

/* The interned attribute name of getattr() and friends; NULL after
 * raising. */
static ObjStr *attr_name(TState *ts, Value name) {
    if (!IS_STR(name)) {
        err_format(ts, EXCS(ts)->TypeError, "attribute name must be string, not '%s'", ops_type_name(ts, name));
        return NULL;
    }
    return str_intern_obj(ts, AS_STR(name));
}

/* getattr(obj, name) with AttributeError turned into EMPTY_VAL. */
static Value getattr_or_empty(TState *ts, Value obj, ObjStr *name) {
    Value v = ops_getattr_opt(ts, obj, name);
    if (IS_ERROR(v) && err_matches(ts, EXCS(ts)->AttributeError)) {
        err_clear(ts);
        return EMPTY_VAL;
    }
    return v;
}

static Value builtin_getattr(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "getattr", nargs, kwnames, 2, 3)) return ERROR_VAL;
    ObjStr *name = attr_name(ts, args[1]);
    if (!name) return ERROR_VAL;
    if (nargs == 2) return ops_getattr(ts, args[0], name);
    Value v = getattr_or_empty(ts, args[0], name);
    return IS_EMPTY(v) ? args[2] : v;
}

static Value builtin_hasattr(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "hasattr", nargs, kwnames, 2, 2)) return ERROR_VAL;
    ObjStr *name = attr_name(ts, args[1]);
    if (!name) return ERROR_VAL;
    Value v = getattr_or_empty(ts, args[0], name);
    return IS_ERROR(v) ? v : BOOL_VAL(!IS_EMPTY(v));
}

static Value builtin_setattr(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "setattr", nargs, kwnames, 3, 3)) return ERROR_VAL;
    ObjStr *name = attr_name(ts, args[1]);
    if (!name) return ERROR_VAL;
    return ops_setattr(ts, args[0], name, args[2]) < 0 ? ERROR_VAL : NONE_VAL;
}

static Value builtin_delattr(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "delattr", nargs, kwnames, 2, 2)) return ERROR_VAL;
    ObjStr *name = attr_name(ts, args[1]);
    if (!name) return ERROR_VAL;
    return ops_setattr(ts, args[0], name, EMPTY_VAL) < 0 ? ERROR_VAL : NONE_VAL;
}

static Value builtin_globals(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "globals", nargs, kwnames, 0, 0)) return ERROR_VAL;
    return vm_globals(ts);
}

static Value builtin_locals(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "locals", nargs, kwnames, 0, 0)) return ERROR_VAL;
    return vm_locals(ts);
}

static Value builtin_vars(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "vars", nargs, kwnames, 0, 1)) return ERROR_VAL;
    if (nargs == 0) return vm_locals(ts);
    Value d = getattr_or_empty(ts, args[0], ts->interp->names.dict);
    if (IS_EMPTY(d)) return err_format(ts, EXCS(ts)->TypeError, "vars() argument must have __dict__ attribute");
    return d;
}

/* Adds the str keys of d to `names` (a dict used as a set). */
static bool add_keys(TState *ts, ObjDict *names, ObjDict *d) {
    size_t pos = 0;
    Value k, v;
    while (dict_next(d, &pos, &k, &v))
        if (IS_STR(k) && dict_set(ts, names, k, NONE_VAL) < 0) return false;
    return true;
}

/* dir(obj): the instance's attributes and its class's (and theirs, up the
 * MRO); for a class, its own and its bases'; for a module, its names. */
static Value dir_of(TState *ts, Value obj) {
    ObjType *t = val_type(ts, obj);
    if (t->flags & TYPEF_HEAPTYPE) {
        ObjStr *dunder = str_intern_cstr(ts, "__dir__");
        if (!dunder) return ERROR_VAL;
        Value fn = type_lookup(t, dunder);
        if (IS_FUNCTION(fn)) {
            Value r = vm_call_method(ts, fn, obj, NULL, 0, NULL);
            if (IS_ERROR(r)) return r;
            vm_push(ts, r);
            ObjList *list = ops_to_list(ts, r);
            vm_pop(ts);
            if (!list) return ERROR_VAL;
            vm_push(ts, OBJ_VAL(list));
            int sorted = list_sort(ts, list, NONE_VAL, false);
            vm_pop(ts);
            return sorted < 0 ? ERROR_VAL : OBJ_VAL(list);
        }
    }
    ObjDict *names = dict_new(ts);
    if (!names) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(names));
    bool ok = true;
    if (IS_MODULE(obj)) {
        ok = add_keys(ts, names, AS_MODULE(obj)->dict);
    } else {
        ObjDict **own = IS_OBJ(obj) && !IS_TYPE(obj) ? obj_dict_slot(AS_OBJ(obj)) : NULL;
        ObjDict *attrs = !own ? NULL : IS_INSTANCE(obj) ? shape_dict(ts, AS_INSTANCE(obj)) : obj_dict_load(own);
        if (own && IS_INSTANCE(obj) && !attrs) ok = false;
        if (attrs) ok = add_keys(ts, names, attrs);
        ObjType *start = IS_TYPE(obj) ? AS_TYPE(obj) : t;
        ObjTuple *mro = start->mro;
        if (mro) {
            for (size_t i = 0; ok && i < mro->len; i++)
                if (IS_TYPE(mro->items[i]) && AS_TYPE(mro->items[i])->dict)
                    ok = add_keys(ts, names, AS_TYPE(mro->items[i])->dict);
        } else {
            for (ObjType *k = start; ok && k; k = k->base)
                if (k->dict) ok = add_keys(ts, names, k->dict);
        }
        if (ok) ok = dict_set(ts, names, OBJ_VAL(ts->interp->names.class_), NONE_VAL) == 0;
    }
    Value r = ok ? sorted_keys(ts, names) : ERROR_VAL;
    vm_pop(ts);
    return r;
}

static Value builtin_dir(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "dir", nargs, kwnames, 0, 1)) return ERROR_VAL;
    if (nargs == 1) return dir_of(ts, args[0]);
    Value g = vm_locals(ts);
    if (IS_ERROR(g)) return g;
    if (IS_DICT(g)) return sorted_keys(ts, AS_DICT(g));
    ObjList *empty = list_new(ts, 0);
    return empty ? OBJ_VAL(empty) : ERROR_VAL;
}

/* ---- the interpreter ---------------------------------------------------------- */

Value builtins_import(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"name", "globals", "locals", "fromlist", "level"};
    Value a[5];
    if (!args_bind(ts, "__import__", args, nargs, kwnames, names, 5, 1, 5, a)) return ERROR_VAL;
    if (!IS_STR(a[0]))
        return err_format(ts, EXCS(ts)->TypeError, "__import__() argument 1 must be str, not %s",
                          ops_type_name(ts, a[0]));
    int64_t level = 0;
    if (!IS_EMPTY(a[4]) && !args_int(ts, a[4], &level)) return ERROR_VAL;
    if (level < 0) return err_format(ts, EXCS(ts)->ValueError, "level must be >= 0");
    if (level > INT32_MAX) level = INT32_MAX;
    if (AS_STR(a[0])->len == 0 && level == 0) return err_format(ts, EXCS(ts)->ValueError, "Empty module name");
    ObjDict *globals;
    if (IS_DICT(a[1])) {
        globals = AS_DICT(a[1]);
    } else {
        /* No globals: no package to be relative to. */
        globals = dict_new(ts);
        if (!globals) return ERROR_VAL;
    }
    vm_push(ts, OBJ_VAL(globals));
    ObjStr *name = str_intern_obj(ts, AS_STR(a[0]));
    Value r = name ? module_import(ts, name, IS_EMPTY(a[3]) ? NONE_VAL : a[3], (int)level, globals) : ERROR_VAL;
    vm_pop(ts);
    return r;
}

/* ---- the namespace ------------------------------------------------------------- */

static const NativeDef builtin_functions[] = {
    {"print", builtin_print},
    {"input", builtin_input},
    {"open", builtin_open},
    {"len", builtin_len},
    {"abs", builtin_abs},
    {"min", builtin_min},
    {"max", builtin_max},
    {"sum", builtin_sum},
    {"any", builtin_any},
    {"all", builtin_all},
    {"round", builtin_round},
    {"divmod", builtin_divmod},
    {"pow", builtin_pow},
    {"sorted", builtin_sorted},
    {"reversed", builtin_reversed},
    {"enumerate", builtin_enumerate},
    {"zip", builtin_zip},
    {"map", builtin_map},
    {"filter", builtin_filter},
    {"iter", builtin_iter},
    {"next", builtin_next},
    {"aiter", builtin_aiter},
    {"anext", builtin_anext},
    {"isinstance", builtin_isinstance},
    {"issubclass", builtin_issubclass},
    {"hasattr", builtin_hasattr},
    {"getattr", builtin_getattr},
    {"setattr", builtin_setattr},
    {"delattr", builtin_delattr},
    {"callable", builtin_callable},
    {"id", builtin_id},
    {"hash", builtin_hash},
    {"ord", builtin_ord},
    {"chr", builtin_chr},
    {"hex", builtin_hex},
    {"oct", builtin_oct},
    {"bin", builtin_bin},
    {"format", builtin_format},
    {"repr", builtin_repr},
    {"ascii", builtin_ascii},
    {"vars", builtin_vars},
    {"dir", builtin_dir},
    {"globals", builtin_globals},
    {"locals", builtin_locals},
    {"exec", eval_builtin_exec},
    {"eval", eval_builtin_eval},
    {"compile", eval_builtin_compile},
    {"__import__", builtins_import},
    {NULL, NULL},
};

bool builtins_add_natives(TState *ts, ObjDict *ns, const NativeDef *defs) {
    for (const NativeDef *d = defs; d->name; d++) {
        ObjNative *fn = native_new(ts, d->name, d->fn, NULL);
        if (!fn || dict_set_str(ts, ns, fn->name, OBJ_VAL(fn)) < 0) return false;
    }
    return true;
}

bool builtins_add_value(TState *ts, ObjDict *ns, const char *name, Value value) {
    ObjStr *key = str_intern_cstr(ts, name);
    return key && dict_set_str(ts, ns, key, value) == 0;
}

bool builtins_add_ints(TState *ts, ObjDict *ns, const IntConstant *table) {
    for (const IntConstant *c = table; c->name; c++)
        if (!builtins_add_value(ts, ns, c->name, INT_VAL(c->value))) return false;
    return true;
}

static bool add_type(TState *ts, ObjDict *ns, const char *name, ObjType *type) {
    return !type || builtins_add_value(ts, ns, name, OBJ_VAL(type));
}

bool builtins_init(TState *ts, ObjDict *ns) {
    Interp *interp = ts->interp;
    ObjStr *module_name = str_intern_cstr(ts, "builtins");
    if (!module_name) return false;
    BuiltinTypes *types = &interp->types;
    if (!builtins_add_natives(ts, ns, builtin_functions)) return false;
    struct {
        const char *name;
        ObjType *type;
    } const named_types[] = {
        {"object", types->object},   {"type", types->type},
        {"int", types->int_},        {"bool", types->bool_},
        {"float", types->float_},    {"str", types->str},
        {"bytes", types->bytes},     {"list", types->list},
        {"tuple", types->tuple},     {"dict", types->dict},
        {"set", types->set},         {"frozenset", types->frozenset},
        {"complex", types->complex},
        {"range", types->range},     {"slice", types->slice},
        {"property", types->property}, {"staticmethod", types->staticmethod},
        {"classmethod", types->classmethod}, {"bytearray", types->bytearray},
        {"memoryview", types->memoryview},
    };
    for (size_t i = 0; i < sizeof named_types / sizeof named_types[0]; i++)
        if (!add_type(ts, ns, named_types[i].name, named_types[i].type)) return false;
#define EXC(name, base, doc) \
    if (!add_type(ts, ns, #name, interp->exc.name)) return false;
#include "runtime/exceptions.def"
#undef EXC
    return add_type(ts, ns, "EnvironmentError", interp->exc.OSError) &&
           add_type(ts, ns, "IOError", interp->exc.OSError) &&
           builtins_add_value(ts, ns, "NotImplemented", NOT_IMPLEMENTED_VAL) &&
           builtins_add_value(ts, ns, "Ellipsis", ELLIPSIS_VAL) &&
           builtins_add_value(ts, ns, "__debug__", TRUE_VAL) &&
           builtins_add_value(ts, ns, "__name__", OBJ_VAL(module_name));
}
