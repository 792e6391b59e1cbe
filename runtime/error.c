#include "runtime/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grammar/parse.h"
#include "runtime/args.h"
#include "runtime/class.h"
#include "runtime/dict.h"
#include "runtime/excgroup.h"
#include "runtime/function.h"
#include "runtime/list.h"
#include "runtime/module.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/strbuf.h"
#include "runtime/suggest.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "vm/code.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/settrace.h"
#include "vm/vm.h"

bool err_occurred(const TState *ts) { return !IS_EMPTY(ts->exc); }

Value err_fetch(TState *ts) {
    Value e = ts->exc;
    ts->exc = EMPTY_VAL;
    return e;
}

void err_restore(TState *ts, Value exc) { ts->exc = exc; }

void err_clear(TState *ts) { ts->exc = EMPTY_VAL; }

bool err_matches(const TState *ts, ObjType *type) {
    if (IS_EMPTY(ts->exc)) return false;
    return type_is_subtype(OBJ_TYPE(ts->exc), type);
}

static ObjException *exc_alloc(TState *ts, ObjType *type, ObjTuple *args) {
    ObjException *e = (ObjException *)gc_alloc(ts, sizeof(ObjException), OBJ_EXCEPTION, type);
    if (!e) return NULL;
    e->dict = NULL;
    e->args = OBJ_VAL(args);
    e->traceback = NONE_VAL;
    e->cause = NONE_VAL;
    e->context = NONE_VAL;
    e->group_msg = NONE_VAL;
    e->group_excs = NONE_VAL;
    e->suppress_context = false;
    return e;
}

/* Setting an exception records the one being handled as its context, as
 * Python's implicit chaining ("During handling of the above exception..."). */
static Value set_exception(TState *ts, Value exc) {
    ObjException *e = AS_EXCEPTION(exc);
    if (IS_NONE(e->context) && IS_EXCEPTION(ts->handled) && ts->handled != exc)
        e->context = ts->handled;
    ts->exc = exc;
    return ERROR_VAL;
}

/* MemoryError must be raisable without memory. A fresh instance comes
 * first (its args the empty tuple made up front): the reserved instance is
 * shared by every raise and every thread, so it is reused (reset) only when
 * not even a fresh one can be had. */
Value err_no_memory(TState *ts) {
    Interp *interp = ts->interp;
    ObjException *e = (ObjException *)gc_try_alloc(ts, sizeof(ObjException), OBJ_EXCEPTION,
                                                   interp->exc.MemoryError);
    if (!e) e = AS_EXCEPTION(interp->memory_error);
    e->dict = NULL;
    e->args = interp->no_args;
    e->traceback = NONE_VAL;
    e->cause = NONE_VAL;
    e->context = NONE_VAL;
    e->group_msg = NONE_VAL;
    e->group_excs = NONE_VAL;
    e->suppress_context = false;
    return set_exception(ts, OBJ_VAL(e));
}

Value exc_new(TState *ts, ObjType *type, Value *args, int nargs) {
    ObjTuple *t = tuple_from(ts, args, (size_t)nargs);
    if (!t) return ERROR_VAL;
    ObjException *e = exc_alloc(ts, type, t);
    return e ? OBJ_VAL(e) : ERROR_VAL;
}

Value err_set_value(TState *ts, ObjType *type, Value arg) {
    Value e = exc_new(ts, type, &arg, 1);
    if (IS_ERROR(e)) return e;
    return set_exception(ts, e);
}

Value err_set_str(TState *ts, ObjType *type, const char *msg) {
    ObjStr *s = str_from_cstr(ts, msg);
    if (!s) return ERROR_VAL;
    return err_set_value(ts, type, OBJ_VAL(s));
}

Value err_format(TState *ts, ObjType *type, const char *fmt, ...) {
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return err_set_str(ts, type, fmt);
    if ((size_t)n < sizeof small) return err_set_str(ts, type, small);
    char *big = malloc((size_t)n + 1);
    if (!big) return err_no_memory(ts);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    Value r = err_set_str(ts, type, big);
    free(big);
    return r;
}

Value err_import(TState *ts, ObjType *type, ObjStr *module, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (IS_ERROR(err_set_str(ts, type, msg))) {
        ObjException *e = AS_EXCEPTION(ts->exc);
        if (!e->dict) e->dict = dict_new(ts);
        if (e->dict) dict_set_str(ts, e->dict, str_intern_cstr(ts, "name"), module ? OBJ_VAL(module) : NONE_VAL);
    }
    return ERROR_VAL;
}

Value err_instantiate(TState *ts, Value type, Value *args, int nargs, bool class_repr) {
    Value exc = vm_call(ts, type, args, nargs, NULL);
    if (IS_ERROR(exc) || IS_EXCEPTION(exc)) return exc;
    vm_push(ts, exc);
    Value want = ops_repr(ts, type);
    vm_push(ts, want);
    Value got = IS_ERROR(want) || !class_repr ? want : ops_repr(ts, OBJ_VAL(val_type(ts, exc)));
    if (!IS_ERROR(got))
        err_format(ts, ts->interp->exc.TypeError, "calling %s should have returned an instance of BaseException, not %s",
                   AS_STR(want)->data, class_repr ? AS_STR(got)->data : ops_type_name(ts, exc));
    vm_pop(ts);
    vm_pop(ts);
    return ERROR_VAL;
}

Value err_raise(TState *ts, Value exc_or_type) {
    Interp *interp = ts->interp;
    Value exc = exc_or_type;
    if (IS_TYPE(exc_or_type)) {
        if (!(AS_TYPE(exc_or_type)->flags & TYPEF_EXCEPTION))
            return err_format(ts, interp->exc.TypeError,
                              "exceptions must derive from BaseException");
        exc = err_instantiate(ts, exc_or_type, NULL, 0, true);
        if (IS_ERROR(exc)) return exc;
    } else if (!IS_EXCEPTION(exc)) {
        return err_format(ts, interp->exc.TypeError, "exceptions must derive from BaseException");
    }
    return set_exception(ts, exc);
}

static const char *const binop_symbols[BIN_COUNT] = {
    "+", "-", "*", "/", "//", "%", "** or pow()", "<<", ">>", "&", "|", "^", "@",
};

Value err_unsupported_binop(TState *ts, BinOp op, Value a, Value b) {
    Interp *interp = ts->interp;
    if (op == BIN_ADD && IS_STR(a) && !IS_STR(b))
        return err_format(ts, interp->exc.TypeError, "can only concatenate str (not \"%s\") to str",
                          ops_type_name(ts, b));
    if (op == BIN_ADD && IS_KIND(a, OBJ_LIST) && !IS_KIND(b, OBJ_LIST))
        return err_format(ts, interp->exc.TypeError, "can only concatenate list (not \"%s\") to list",
                          ops_type_name(ts, b));
    if (op == BIN_ADD && IS_KIND(a, OBJ_TUPLE) && !IS_KIND(b, OBJ_TUPLE))
        return err_format(ts, interp->exc.TypeError, "can only concatenate tuple (not \"%s\") to tuple",
                          ops_type_name(ts, b));
    return err_format(ts, interp->exc.TypeError, "unsupported operand type(s) for %s: '%s' and '%s'",
                      binop_symbols[op], ops_type_name(ts, a), ops_type_name(ts, b));
}

static const char *const inplace_symbols[BIN_COUNT] = {
    "+=", "-=", "*=", "/=", "//=", "%=", "**=", "<<=", ">>=", "&=", "|=", "^=", "@=",
};

Value err_unsupported_inplace(TState *ts, BinOp op, Value a, Value b) {
    if (op == BIN_ADD && IS_STR(a) && !IS_STR(b))
        return err_format(ts, ts->interp->exc.TypeError, "can only concatenate str (not \"%s\") to str",
                          ops_type_name(ts, b));
    if (op == BIN_ADD && IS_KIND(a, OBJ_TUPLE) && !IS_KIND(b, OBJ_TUPLE))
        return err_format(ts, ts->interp->exc.TypeError, "can only concatenate tuple (not \"%s\") to tuple",
                          ops_type_name(ts, b));
    return err_format(ts, ts->interp->exc.TypeError, "unsupported operand type(s) for %s: '%s' and '%s'",
                      inplace_symbols[op], ops_type_name(ts, a), ops_type_name(ts, b));
}

Value err_type_not(TState *ts, Value v, const char *what) {
    return err_format(ts, ts->interp->exc.TypeError, "'%s' object is not %s", ops_type_name(ts, v),
                      what);
}

void err_add_traceback(TState *ts, ObjFunction *fn, int line) {
    if (!IS_EXCEPTION(ts->exc)) return;
    /* Without memory the traceback stays shorter: the exception stands. */
    ObjTraceback *tb = (ObjTraceback *)gc_try_alloc(ts, sizeof(ObjTraceback), OBJ_TRACEBACK,
                                                    ts->interp->types.traceback);
    if (tb) {
        ObjException *e = AS_EXCEPTION(ts->exc);
        tb->next = e->traceback;
        tb->code = fn->code;
        tb->fn = fn;
        tb->line = line;
        e->traceback = OBJ_VAL(tb);
    }
}

ObjStr *err_message(TState *ts, Value exc) {
    Value s = ops_str(ts, exc);
    if (IS_ERROR(s)) {
        err_clear(ts);
        return str_from_cstr(ts, "<exception str() failed>");
    }
    return AS_STR(s);
}

/* The source line `line` (1-based) of a buffer, without its newline. */
static ObjStr *line_of(TState *ts, const char *source, size_t len, int line) {
    const char *p = source, *end = source + len;
    for (int n = 1; n < line && p < end; n++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) return NULL;
        p = nl + 1;
    }
    if (p >= end) return NULL;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
    if (n > 0 && p[n - 1] == '\r') n--;
    if (!str_utf8_valid(p, n)) return NULL;
    return str_new(ts, p, n);
}

Value err_syntax(TState *ts, const SyntaxErrorInfo *err, const char *filename, const char *source,
                 size_t len) {
    Interp *interp = ts->interp;
    ObjType *type = strcmp(err->kind, "IndentationError") == 0 ? interp->exc.IndentationError
                    : strcmp(err->kind, "TabError") == 0       ? interp->exc.TabError
                                                               : interp->exc.SyntaxError;
    ObjStr *msg = str_from_cstr(ts, err->msg);
    if (!msg) return ERROR_VAL;
    Value exc = exc_new(ts, type, (Value[]){OBJ_VAL(msg)}, 1);
    if (IS_ERROR(exc)) return exc;
    vm_push(ts, exc);
    /* Line 0: an error about the whole text (null bytes), placed nowhere. */
    bool placed = err->line > 0;
    ObjStr *file = str_from_cstr(ts, filename ? filename : "<string>");
    ObjStr *text = source && placed ? line_of(ts, source, len, err->line) : NULL;
    ObjDict *d = dict_new(ts);
    AS_EXCEPTION(exc)->dict = d;
    bool ok = file && d && dict_set_str(ts, d, str_intern_cstr(ts, "msg"), OBJ_VAL(msg)) == 0 &&
              dict_set_str(ts, d, str_intern_cstr(ts, "filename"), placed ? OBJ_VAL(file) : NONE_VAL) == 0 &&
              dict_set_str(ts, d, str_intern_cstr(ts, "lineno"), placed ? INT_VAL(err->line) : NONE_VAL) == 0 &&
              dict_set_str(ts, d, str_intern_cstr(ts, "offset"), placed ? INT_VAL(err->col) : NONE_VAL) == 0 &&
              dict_set_str(ts, d, str_intern_cstr(ts, "text"), text ? OBJ_VAL(text) : NONE_VAL) == 0;
    vm_pop(ts);
    if (!ok) return ERROR_VAL;
    return set_exception(ts, exc);
}

/* ---- printing -------------------------------------------------------- */

/* Line `line` (1-based) of an embedded stdlib module, copied into buf. */
static bool embedded_line(const char *path, int line, char *buf, size_t size) {
    const char *src;
    size_t len;
    if (!module_embedded_source(path, &src, &len)) return false;
    const char *end = src + len;
    for (int n = 1; n < line && src < end; n++) {
        const char *nl = memchr(src, '\n', (size_t)(end - src));
        if (!nl) return false;
        src = nl + 1;
    }
    const char *nl = memchr(src, '\n', (size_t)(end - src));
    size_t n = (size_t)((nl ? nl : end) - src);
    if (n >= size) n = size - 1;
    memcpy(buf, src, n);
    buf[n] = '\0';
    return true;
}

/* Reads line `line` (1-based) of a file (or of a stdlib module compiled
 * into the binary), stripped of surrounding spaces, into buf. Files are
 * re-read per line: tracebacks are rare and short. */
bool err_source_line(const char *path, int line, char *buf, size_t size) {
    if (!path) return false;
    bool found = false;
    if (path[0] == '<') {
        found = embedded_line(path, line, buf, size);
    } else {
        FILE *f = fopen(path, "r");
        if (!f) return false;
        int n = 1;
        while (fgets(buf, (int)size, f)) {
            size_t len = strlen(buf);
            bool whole = len > 0 && buf[len - 1] == '\n';
            if (n == line) {
                found = true;
                break;
            }
            if (whole) n++;
        }
        fclose(f);
    }
    if (!found) return false;
    char *start = buf;
    while (*start == ' ' || *start == '\t') start++;
    size_t len = strlen(start);
    while (len > 0 && (start[len - 1] == '\n' || start[len - 1] == '\r' || start[len - 1] == ' '))
        len--;
    memmove(buf, start, len);
    buf[len] = '\0';
    return len > 0;
}

/* The chain runs from the outermost frame to the one that raised: each
 * frame the exception leaves puts its entry in front, as Python's tb_next. */
/* sys.tracebacklimit when it is set to an int: how many of the innermost
 * entries a traceback shows (none at all when <= 0), as CPython. */
static int64_t traceback_limit(TState *ts) {
    Value sys = ts->interp->sys_module;
    if (!IS_OBJ(sys)) return INT64_MAX;
    Value limit = dict_get_str(AS_MODULE(sys)->dict, str_intern_cstr(ts, "tracebacklimit"));
    return IS_INT(limit) ? AS_INT(limit) : INT64_MAX;
}

/* The entries of a traceback, after `header` (when there are any). */
static void print_traceback(TState *ts, Value tb, FILE *out, const char *header) {
    size_t n = 0;
    for (Value t = tb; IS_KIND(t, OBJ_TRACEBACK); t = ((ObjTraceback *)AS_OBJ(t))->next) n++;
    int64_t limit = traceback_limit(ts);
    size_t skip = limit <= 0 ? n : (uint64_t)limit < n ? n - (size_t)limit : 0;
    if (n == skip) return;
    ObjTraceback **entries = malloc(n * sizeof *entries);
    if (!entries) return;
    size_t i = 0;
    for (Value t = tb; IS_KIND(t, OBJ_TRACEBACK); t = ((ObjTraceback *)AS_OBJ(t))->next)
        if (i++ >= skip) entries[i - 1 - skip] = (ObjTraceback *)AS_OBJ(t);
    n -= skip;
    if (header) fputs(header, out);
    char line[MINI_SOURCE_LINE_MAX];
    size_t repeat = 0;
    for (i = 0; i < n; i++) {
        ObjTraceback *e = entries[i];
        bool same = i > 0 && entries[i - 1]->code == e->code && entries[i - 1]->line == e->line;
        repeat = same ? repeat + 1 : 0;
        if (same && repeat >= MINI_TRACEBACK_REPEAT_FOLD) {
            bool next_same = i + 1 < n && entries[i + 1]->code == e->code && entries[i + 1]->line == e->line;
            if (!next_same) {
                size_t more = repeat - MINI_TRACEBACK_REPEAT_FOLD + 1;
                fprintf(out, "  [Previous line repeated %zu more time%s]\n", more, more == 1 ? "" : "s");
            }
            continue;
        }
        fprintf(out, "  File \"%s\", line %d, in %s\n", e->code->filename->data, e->line,
                e->code->name->data);
        if (err_source_line(e->code->filename->data, e->line, line, sizeof line))
            fprintf(out, "    %s\n", line);
    }
    free(entries);
}

static Value attr_of(TState *ts, Value exc, const char *name) {
    ObjDict *d = AS_EXCEPTION(exc)->dict;
    return d ? dict_get_str(d, str_intern_cstr(ts, name)) : EMPTY_VAL;
}

/* A syntax error prints as a compiler diagnostic: file:line:col, then the
 * line and a caret under the column. */
static bool print_syntax_error(TState *ts, Value exc, FILE *out) {
    if (!type_is_subtype(OBJ_TYPE(exc), ts->interp->exc.SyntaxError)) return false;
    Value file = attr_of(ts, exc, "filename"), line = attr_of(ts, exc, "lineno");
    Value col = attr_of(ts, exc, "offset"), text = attr_of(ts, exc, "text");
    Value msg = attr_of(ts, exc, "msg");
    if (!IS_STR(file) || !IS_INT(line) || !IS_STR(msg)) return false;
    fprintf(out, "%s:%lld:%lld: %s: %s\n", AS_STR(file)->data, (long long)AS_INT(line),
            IS_INT(col) ? (long long)AS_INT(col) : 0LL, OBJ_TYPE(exc)->name->data, AS_STR(msg)->data);
    if (IS_STR(text)) {
        const char *t = AS_STR(text)->data;
        size_t skipped = 0;
        while (t[skipped] == ' ' || t[skipped] == '\t' || t[skipped] == '\f') skipped++;
        if (t[skipped]) {
            fprintf(out, "    %s\n", t + skipped);
            long long caret = IS_INT(col) ? (long long)AS_INT(col) - 1 - (long long)skipped : 0;
            if (caret < 0) caret = 0;
            /* Count display columns: one per UTF-8 character. */
            long long width = 0;
            for (long long i = 0; i < caret && t[skipped + (size_t)i]; i++)
                if (((unsigned char)t[skipped + (size_t)i] & 0xC0) != 0x80) width++;
            fprintf(out, "    %*s^\n", (int)width, "");
        }
    }
    return true;
}

Value err_set_missing_name(TState *ts, ObjStr *name, Value obj) {
    Value exc = err_fetch(ts);
    if (!IS_EXCEPTION(exc)) {
        err_restore(ts, exc);
        return ERROR_VAL;
    }
    vm_push(ts, exc);
    ObjException *e = AS_EXCEPTION(exc);
    if (!e->dict) e->dict = dict_new(ts);
    bool ok = e->dict && dict_set_str(ts, e->dict, ts->interp->names.name_attr, OBJ_VAL(name)) == 0 &&
              (IS_EMPTY(obj) || dict_set_str(ts, e->dict, ts->interp->names.obj, obj) == 0);
    vm_pop(ts);
    if (!ok) return ERROR_VAL;
    err_restore(ts, exc);
    return ERROR_VAL;
}

/* The keys of d, in a new malloc'ed array (*n of them). */
static Value *dict_keys_array(ObjDict *d, size_t *n) {
    size_t cap = dict_len(d) + 1, pos = 0;
    Value *keys = malloc(cap * sizeof *keys);
    Value k, v;
    *n = 0;
    while (keys && *n < cap && dict_next(d, &pos, &k, &v)) keys[(*n)++] = k;
    return keys;
}

static ObjStr *closest_key(ObjStr *name, ObjDict *d) {
    size_t n;
    Value *keys = dict_keys_array(d, &n);
    ObjStr *s = keys ? suggest_closest(name, keys, n) : NULL;
    free(keys);
    return s;
}

/* CPython 3.11's suggestion for an uncaught NameError (the innermost
 * frame's local variables, then its globals, then its builtins) or
 * AttributeError (dir() of the object), or NULL. */
static ObjStr *suggestion(TState *ts, Value exc) {
    Interp *interp = ts->interp;
    ObjException *e = AS_EXCEPTION(exc);
    bool name_error = type_is_subtype(OBJ_TYPE(exc), interp->exc.NameError);
    if (!e->dict || (!name_error && !type_is_subtype(OBJ_TYPE(exc), interp->exc.AttributeError))) return NULL;
    Value name = dict_get_str(e->dict, interp->names.name_attr);
    if (!IS_STR(name)) return NULL;
    if (name_error) {
        Value tb = e->traceback;
        while (IS_KIND(tb, OBJ_TRACEBACK) && IS_KIND(((ObjTraceback *)AS_OBJ(tb))->next, OBJ_TRACEBACK))
            tb = ((ObjTraceback *)AS_OBJ(tb))->next;
        if (!IS_KIND(tb, OBJ_TRACEBACK) || !((ObjTraceback *)AS_OBJ(tb))->fn) return NULL;
        ObjFunction *fn = ((ObjTraceback *)AS_OBJ(tb))->fn;
        ObjCode *code = fn->code;
        /* Parameters and locals, as co_varnames (not the free variables). */
        size_t nvars = code->nlocals - code->nfree;
        Value *vars = malloc((nvars + 1) * sizeof *vars);
        if (!vars) return NULL;
        for (size_t i = 0; i < nvars; i++) vars[i] = OBJ_VAL(code->varnames[i]);
        ObjStr *s = suggest_closest(AS_STR(name), vars, nvars);
        free(vars);
        if (!s) s = closest_key(AS_STR(name), fn->globals);
        if (!s) s = closest_key(AS_STR(name), fn->builtins);
        return s;
    }
    Value obj = dict_get_str(e->dict, interp->names.obj);
    Value dir = dict_get_str(interp->builtins, str_intern_cstr(ts, "dir"));
    if (IS_EMPTY(obj) || IS_EMPTY(dir)) return NULL;
    Value saved = err_fetch(ts);
    Value names = vm_call(ts, dir, &obj, 1, NULL);
    ObjStr *s = NULL;
    if (IS_LIST(names)) {
        size_t n;
        Value *items = list_snapshot(ts, AS_LIST(names), &n);
        if (items) s = suggest_closest(AS_STR(name), items, n);
        if (items) gc_free_buffer(items, n * sizeof(Value));
    }
    err_clear(ts);
    err_restore(ts, saved);
    return s;
}

static void print_message(TState *ts, Value exc, FILE *out, bool hint);

static void print_note(TState *ts, Value note, FILE *out, bool as_repr, const char *failed) {
    Value s = IS_STR(note) ? note : as_repr ? ops_repr(ts, note) : ops_str(ts, note);
    if (IS_STR(s)) fwrite(AS_STR(s)->data, 1, AS_STR(s)->len, out);
    else fputs(failed, out);
    err_clear(ts);
    fputc('\n', out);
}

/* The lines of __notes__ after the message (3.11's print_exception_notes):
 * each note by its str(), a __notes__ that is no sequence by its repr. */
static void print_notes(TState *ts, Value exc, FILE *out) {
    Value saved = err_fetch(ts);
    vm_push(ts, saved);
    Value notes = ops_getattr_opt(ts, exc, str_intern_cstr(ts, "__notes__"));
    err_clear(ts);
    if (!IS_ERROR(notes) && !IS_EMPTY(notes)) {
        vm_push(ts, notes);
        ObjList *list = IS_LIST(notes) || IS_TUPLE(notes) || IS_STR(notes) ? ops_to_list(ts, notes) : NULL;
        if (list) {
            vm_push(ts, OBJ_VAL(list));
            for (size_t i = 0; i < list_len(list); i++)
                print_note(ts, list_get(list, i), out, false, "<note str() failed>");
            vm_pop(ts);
        } else {
            print_note(ts, notes, out, true, "<__notes__ repr() failed>");
        }
        vm_pop(ts);
    }
    vm_pop(ts);
    err_restore(ts, saved);
}

void err_print_exception_only(TState *ts, Value exc, FILE *out, bool hint) {
    if (!print_syntax_error(ts, exc, out)) print_message(ts, exc, out, hint);
    print_notes(ts, exc, out);
}

static void print_message(TState *ts, Value exc, FILE *out, bool hint) {
    ObjType *type = OBJ_TYPE(exc);
    ObjStr *msg = err_message(ts, exc);
    const char *module = IS_STR(type->module) ? AS_STR(type->module)->data : NULL;
    if (module && strcmp(module, "builtins") != 0 && strcmp(module, "__main__") != 0)
        fprintf(out, "%s.", module);
    ObjStr *close = hint ? suggestion(ts, exc) : NULL;
    const char *shown = class_qualname(type)->data;
    if (msg && msg->len > 0) fprintf(out, "%s: %s", shown, msg->data);
    else fprintf(out, "%s", shown);
    if (close) fprintf(out, ". Did you mean: '%s'?", close->data);
    fputc('\n', out);
}

/* ---- printing exception groups and chains ------------------------------
 *
 * CPython 3.11's layout: inside an exception group every line gets a
 * margin ("  | ") indented two columns per level of nesting, each member
 * is introduced by a separator ("+-+---------------- 1 ----------------"),
 * and the last member of a group closes the box. The parts of one
 * exception (its traceback, its last line) are printed to memory first and
 * then copied out line by line behind the margin. */

typedef struct PrintCtx {
    FILE *out;
    int group_depth;  /* 0 outside any group */
    bool need_close;  /* the last member of a group is open */
    Obj **seen;       /* exceptions printed or being printed: a chain cycle stops */
    size_t nseen, cap_seen;
} PrintCtx;

static const char traceback_header[] = "Traceback (most recent call last):\n";
static const char group_traceback_header[] = "Exception Group Traceback (most recent call last):\n";

/* Copies text out, each line behind the margin when inside a group. */
static void ctx_write(PrintCtx *ctx, const char *text, size_t len, char margin) {
    if (ctx->group_depth == 0) {
        fwrite(text, 1, len, ctx->out);
        return;
    }
    for (const char *p = text, *end = text + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        fprintf(ctx->out, "%*s%c ", 2 * ctx->group_depth, "", margin);
        fwrite(p, 1, n, ctx->out);
        p += n;
    }
}

static void ctx_puts(PrintCtx *ctx, const char *text, char margin) { ctx_write(ctx, text, strlen(text), margin); }

/* A part printed to memory (or straight out, outside groups or without
 * memory for it). */
typedef struct Part {
    FILE *f;
    char *buf;
    size_t len;
} Part;

static FILE *part_open(PrintCtx *ctx, Part *p) {
    p->buf = NULL;
    p->len = 0;
    p->f = ctx->group_depth ? open_memstream(&p->buf, &p->len) : NULL;
    return p->f ? p->f : ctx->out;
}

static void part_close(PrintCtx *ctx, Part *p, char margin) {
    if (!p->f) return;
    if (fclose(p->f) == 0 && p->buf) ctx_write(ctx, p->buf, p->len, margin);
    free(p->buf);
}

static bool ctx_seen(PrintCtx *ctx, Value exc) {
    for (size_t i = 0; i < ctx->nseen; i++)
        if (ctx->seen[i] == AS_OBJ(exc)) return true;
    return false;
}

static void ctx_see(PrintCtx *ctx, Value exc) {
    if (ctx->nseen == ctx->cap_seen) {
        size_t cap = ctx->cap_seen ? ctx->cap_seen * 2 : 16;
        Obj **grown = realloc(ctx->seen, cap * sizeof *grown);
        if (!grown) return; /* without memory a cycle prints up to the depth cap */
        ctx->seen = grown;
        ctx->cap_seen = cap;
    }
    ctx->seen[ctx->nseen++] = AS_OBJ(exc);
}

static void print_recursive(TState *ts, PrintCtx *ctx, Value exc, int depth);

/* One exception without its chain: traceback and last line, or for a
 * group the box of its members. */
static void print_one(TState *ts, PrintCtx *ctx, Value exc, int depth) {
    ObjException *e = AS_EXCEPTION(exc);
    Part p;
    if (!eg_is_group(ts, exc)) {
        FILE *f = part_open(ctx, &p);
        print_traceback(ts, e->traceback, f, traceback_header);
        err_print_exception_only(ts, exc, f, true);
        part_close(ctx, &p, '|');
        return;
    }
    if (ctx->group_depth > MINI_EXC_GROUP_DEPTH) {
        char line[64];
        snprintf(line, sizeof line, "... (max_group_depth is %d)\n", MINI_EXC_GROUP_DEPTH);
        ctx_puts(ctx, line, '|');
        return;
    }
    bool top = ctx->group_depth == 0;
    if (top) ctx->group_depth++;
    FILE *f = part_open(ctx, &p);
    print_traceback(ts, e->traceback, f, NULL);
    if (p.f) fflush(p.f);
    if (p.len > 0) ctx_puts(ctx, group_traceback_header, top ? '+' : '|');
    part_close(ctx, &p, '|');
    f = part_open(ctx, &p);
    err_print_exception_only(ts, exc, f, true);
    part_close(ctx, &p, '|');
    ObjTuple *excs = eg_exceptions(exc);
    size_t n = excs->len > MINI_EXC_GROUP_WIDTH ? MINI_EXC_GROUP_WIDTH + 1 : excs->len;
    ctx->need_close = false;
    for (size_t i = 0; i < n; i++) {
        bool last = i + 1 == n, truncated = i >= MINI_EXC_GROUP_WIDTH;
        if (last) ctx->need_close = true;
        char title[32];
        if (truncated) snprintf(title, sizeof title, "...");
        else snprintf(title, sizeof title, "%zu", i + 1);
        fprintf(ctx->out, "%*s%s+---------------- %s ----------------\n", 2 * ctx->group_depth, "",
                i == 0 ? "+-" : "  ", title);
        ctx->group_depth++;
        if (!truncated) {
            print_recursive(ts, ctx, excs->items[i], depth + 1);
        } else {
            char line[96];
            size_t more = excs->len - MINI_EXC_GROUP_WIDTH;
            snprintf(line, sizeof line, "and %zu more exception%s\n", more, more > 1 ? "s" : "");
            ctx_puts(ctx, line, '|');
        }
        if (last && ctx->need_close) {
            fprintf(ctx->out, "%*s+------------------------------------\n", 2 * ctx->group_depth, "");
            ctx->need_close = false;
        }
        ctx->group_depth--;
    }
    if (top) ctx->group_depth = 0;
}

/* An exception after what caused it (its __cause__, or else its unsuppressed
 * __context__), each shown once. */
static void print_recursive(TState *ts, PrintCtx *ctx, Value exc, int depth) {
    ObjException *e = AS_EXCEPTION(exc);
    ctx_see(ctx, exc);
    bool follow = depth < MINI_EXC_CHAIN_DEPTH;
    if (follow && !vm_enter_native(ts)) {
        err_clear(ts); /* the guard's RecursionError is not the one printed */
        follow = false;
    }
    if (follow) {
        if (IS_EXCEPTION(e->cause) && !ctx_seen(ctx, e->cause)) {
            print_recursive(ts, ctx, e->cause, depth + 1);
            ctx_puts(ctx, "\nThe above exception was the direct cause of the following exception:\n\n", '|');
        } else if (IS_EXCEPTION(e->context) && !e->suppress_context && !ctx_seen(ctx, e->context)) {
            print_recursive(ts, ctx, e->context, depth + 1);
            ctx_puts(ctx, "\nDuring handling of the above exception, another exception occurred:\n\n", '|');
        }
        vm_leave_native(ts);
    }
    print_one(ts, ctx, exc, depth);
}

static void print_chain(TState *ts, Value exc, FILE *out) {
    PrintCtx ctx = {.out = out};
    print_recursive(ts, &ctx, exc, 0);
    free(ctx.seen);
}

void err_write_unraisable(TState *ts, Value obj) {
    Value exc = err_fetch(ts);
    vm_push(ts, exc);
    Value r = ops_repr(ts, obj);
    if (IS_ERROR(r)) {
        err_clear(ts);
        fprintf(stderr, "Exception ignored in: <object repr() failed>\n");
    } else {
        fprintf(stderr, "Exception ignored in: %s\n", AS_STR(r)->data);
    }
    /* CPython's default unraisable hook prints no chained exceptions. */
    if (IS_EXCEPTION(exc)) {
        fflush(stdout);
        print_traceback(ts, AS_EXCEPTION(exc)->traceback, stderr, traceback_header);
        err_print_exception_only(ts, exc, stderr, false);
        fflush(stderr);
    } else {
        err_print(ts, exc);
    }
    vm_pop(ts);
}

void err_print(TState *ts, Value exc) {
    fflush(stdout);
    if (!IS_EXCEPTION(exc)) {
        fputs("mini: error with no exception set\n", stderr);
        return;
    }
    vm_push(ts, exc);
    print_chain(ts, exc, stderr);
    vm_pop(ts);
    fflush(stderr);
}

/* ---- the exception types --------------------------------------------- */

ObjType *exc_oserror_type(Interp *interp, int err) {
    switch (err) {
    case ENOENT: return interp->exc.FileNotFoundError;
    case EEXIST: return interp->exc.FileExistsError;
    case EACCES:
    case EPERM: return interp->exc.PermissionError;
    case EISDIR: return interp->exc.IsADirectoryError;
    case ETIMEDOUT: return interp->exc.TimeoutError;
    case EPIPE:
    case ESHUTDOWN: return interp->exc.BrokenPipeError;
    case ECHILD: return interp->exc.ChildProcessError;
    case EAGAIN:
    case EALREADY:
    case EINPROGRESS: return interp->exc.BlockingIOError;
    case ECONNABORTED: return interp->exc.ConnectionAbortedError;
    case ECONNREFUSED: return interp->exc.ConnectionRefusedError;
    case ECONNRESET: return interp->exc.ConnectionResetError;
    case EINTR: return interp->exc.InterruptedError;
    case ENOTDIR: return interp->exc.NotADirectoryError;
    case ESRCH: return interp->exc.ProcessLookupError;
    default: return interp->exc.OSError;
    }
}

/* OSError(errno, strerror[, filename[, winerror[, filename2]]]): with 2 to
 * 5 arguments the attributes are set, args keeps the first two, and
 * OSError itself becomes the subclass for the errno (FileNotFoundError). */
static Value oserror_new(TState *ts, ObjType *type, Value *args, int nargs) {
    Interp *interp = ts->interp;
    bool numbered = nargs >= 2 && nargs <= 5;
    if (numbered && type == interp->exc.OSError && IS_INT(args[0]))
        type = exc_oserror_type(interp, (int)AS_INT(args[0]));
    ObjTuple *t = tuple_from(ts, args, numbered ? 2 : (size_t)nargs);
    ObjException *e = t ? exc_alloc(ts, type, t) : NULL;
    if (!e) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(e));
    e->dict = dict_new(ts);
    static const char *const fields[] = {"errno", "strerror", "filename", "filename2"};
    const int from[] = {0, 1, 2, 4};
    bool ok = e->dict != NULL;
    for (int i = 0; i < 4 && ok; i++) {
        Value v = numbered && from[i] < nargs ? args[from[i]] : NONE_VAL;
        ObjStr *key = str_intern_cstr(ts, fields[i]);
        ok = key && dict_set_str(ts, e->dict, key, v) == 0;
    }
    vm_pop(ts);
    return ok ? OBJ_VAL(e) : ERROR_VAL;
}

/* "[Errno 2] No such file or directory: 'x'" when errno and strerror are
 * set; EMPTY_VAL otherwise (the usual str of the arguments). */
static Value oserror_str(TState *ts, ObjException *e) {
    if (!e->dict) return EMPTY_VAL;
    Value no = dict_get_str(e->dict, str_intern_cstr(ts, "errno"));
    Value msg = dict_get_str(e->dict, str_intern_cstr(ts, "strerror"));
    Value file = dict_get_str(e->dict, str_intern_cstr(ts, "filename"));
    Value file2 = dict_get_str(e->dict, str_intern_cstr(ts, "filename2"));
    if (IS_EMPTY(no) || IS_NONE(no) || IS_EMPTY(msg) || IS_NONE(msg)) return EMPTY_VAL;
    Value parts[4] = {ops_str(ts, no), ops_str(ts, msg), NONE_VAL, NONE_VAL};
    if (!IS_EMPTY(file) && !IS_NONE(file)) parts[2] = ops_repr(ts, file);
    if (!IS_EMPTY(file2) && !IS_NONE(file2)) parts[3] = ops_repr(ts, file2);
    for (int i = 0; i < 4; i++)
        if (IS_ERROR(parts[i])) return ERROR_VAL;
    if (IS_NONE(parts[2]))
        return OBJ_VAL(str_printf(ts, "[Errno %s] %s", AS_STR(parts[0])->data, AS_STR(parts[1])->data));
    if (IS_NONE(parts[3]))
        return OBJ_VAL(str_printf(ts, "[Errno %s] %s: %s", AS_STR(parts[0])->data, AS_STR(parts[1])->data,
                                  AS_STR(parts[2])->data));
    return OBJ_VAL(str_printf(ts, "[Errno %s] %s: %s -> %s", AS_STR(parts[0])->data, AS_STR(parts[1])->data,
                              AS_STR(parts[2])->data, AS_STR(parts[3])->data));
}

/* The keyword arguments of ImportError (name, path), AttributeError (name,
 * obj) and NameError (name): attributes that default to None. Other
 * exceptions take none. */
static const char *const *exception_keywords(Interp *interp, ObjType *type) {
    static const char *const import_kw[] = {"name", "path", NULL};
    static const char *const attribute_kw[] = {"name", "obj", NULL};
    static const char *const name_kw[] = {"name", NULL};
    if (type_is_subtype(type, interp->exc.ImportError)) return import_kw;
    if (type_is_subtype(type, interp->exc.AttributeError)) return attribute_kw;
    if (type_is_subtype(type, interp->exc.NameError)) return name_kw;
    return NULL;
}

static Value exception_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    if (type_is_subtype(type, ts->interp->exc.BaseExceptionGroup)) return eg_new(ts, type, args, nargs, kwnames);
    if (type_is_subtype(type, ts->interp->exc.OSError)) {
        if (kwnames && kwnames->len > 0)
            return err_format(ts, ts->interp->exc.TypeError, "%s() takes no keyword arguments", type->name->data);
        return oserror_new(ts, type, args, nargs);
    }
    const char *const *keywords = exception_keywords(ts->interp, type);
    if (!keywords && kwnames && kwnames->len > 0 && !IS_FUNCTION(type_lookup(type, ts->interp->names.init)))
        return err_format(ts, ts->interp->exc.TypeError, "%s() takes no keyword arguments", type->name->data);
    ObjTuple *t = tuple_from(ts, args, (size_t)nargs);
    if (!t) return ERROR_VAL;
    ObjException *e = exc_alloc(ts, type, t);
    if (!e) return ERROR_VAL;
    if (keywords) {
        vm_push(ts, OBJ_VAL(e));
        e->dict = dict_new(ts);
        bool ok = e->dict != NULL;
        for (const char *const *k = keywords; ok && *k; k++)
            ok = dict_set_str(ts, e->dict, str_intern_cstr(ts, *k), NONE_VAL) == 0;
        for (size_t k = 0; ok && kwnames && k < kwnames->len; k++) {
            ObjStr *key = AS_STR(kwnames->items[k]);
            bool known = false;
            for (const char *const *kw = keywords; *kw; kw++) known = known || strcmp(key->data, *kw) == 0;
            if (!known) {
                err_format(ts, ts->interp->exc.TypeError, "'%s' is an invalid keyword argument for %s()",
                           key->data, type->name->data);
                ok = false;
            } else {
                ok = dict_set_str(ts, e->dict, key, args[nargs + (int)k]) == 0;
            }
        }
        vm_pop(ts);
        return ok ? OBJ_VAL(e) : ERROR_VAL;
    }
    return OBJ_VAL(e);
}

static Value exception_str(TState *ts, Value self) {
    ObjException *e = AS_EXCEPTION(self);
    if (eg_is_group(ts, self)) return eg_str(ts, self);
    if (type_is_subtype(OBJ_TYPE(self), ts->interp->exc.OSError)) {
        Value s = oserror_str(ts, e);
        if (!IS_EMPTY(s)) return s;
    }
    ObjTuple *args = IS_TUPLE(e->args) ? AS_TUPLE(e->args) : NULL;
    if (!args || args->len == 0) return OBJ_VAL(ts->interp->names.empty);
    if (args->len == 1) {
        /* KeyError shows the key's repr: KeyError: 'x'. */
        if (type_is_subtype(OBJ_TYPE(self), ts->interp->exc.KeyError)) return ops_repr(ts, args->items[0]);
        return ops_str(ts, args->items[0]);
    }
    return ops_repr(ts, e->args);
}

static Value exception_repr(TState *ts, Value self) {
    ObjException *e = AS_EXCEPTION(self);
    const char *name = OBJ_TYPE(self)->name->data;
    ObjTuple *args = IS_TUPLE(e->args) ? AS_TUPLE(e->args) : NULL;
    if (!args || args->len == 0) return OBJ_VAL(str_printf(ts, "%s()", name));
    Value r = args->len == 1 ? ops_repr(ts, args->items[0]) : ops_repr(ts, e->args);
    if (IS_ERROR(r)) return r;
    if (args->len == 1) return OBJ_VAL(str_printf(ts, "%s(%s)", name, AS_STR(r)->data));
    return OBJ_VAL(str_printf(ts, "%s%s", name, AS_STR(r)->data));
}

static void exception_trace(GcMarker *m, Obj *self) {
    ObjException *e = (ObjException *)self;
    gc_mark_obj(m, (Obj *)e->dict);
    gc_mark_value(m, e->args);
    gc_mark_value(m, e->traceback);
    gc_mark_value(m, e->cause);
    gc_mark_value(m, e->context);
    gc_mark_value(m, e->group_msg);
    gc_mark_value(m, e->group_excs);
}

static Value exception_init(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (nargs < 1 || !IS_EXCEPTION(args[0]))
        return err_format(ts, ts->interp->exc.TypeError, "descriptor '__init__' requires an exception");
    if (kwnames)
        return err_format(ts, ts->interp->exc.TypeError, "%s() takes no keyword arguments",
                          ops_type_name(ts, args[0]));
    ObjTuple *t = tuple_from(ts, args + 1, (size_t)(nargs - 1));
    if (!t) return ERROR_VAL;
    AS_EXCEPTION(args[0])->args = OBJ_VAL(t);
    return NONE_VAL;
}

static Value exception_with_traceback(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "with_traceback", nargs, kwnames, 2, 2)) return ERROR_VAL;
    AS_EXCEPTION(args[0])->traceback = args[1];
    return args[0];
}

static Value get_args(TState *ts, Value self) { (void)ts; return AS_EXCEPTION(self)->args; }
static int set_args(TState *ts, Value self, Value v) {
    ObjTuple *t = ops_to_tuple(ts, v);
    if (!t) return -1;
    AS_EXCEPTION(self)->args = OBJ_VAL(t);
    return 0;
}
static Value get_cause(TState *ts, Value self) { (void)ts; return AS_EXCEPTION(self)->cause; }
static int set_cause(TState *ts, Value self, Value v) {
    if (!IS_NONE(v) && !IS_EXCEPTION(v)) {
        err_format(ts, ts->interp->exc.TypeError, "exception cause must be None or derive from BaseException");
        return -1;
    }
    AS_EXCEPTION(self)->cause = v;
    AS_EXCEPTION(self)->suppress_context = true;
    return 0;
}
static Value get_context(TState *ts, Value self) { (void)ts; return AS_EXCEPTION(self)->context; }
static int set_context(TState *ts, Value self, Value v) {
    (void)ts;
    AS_EXCEPTION(self)->context = v;
    return 0;
}
static Value get_traceback(TState *ts, Value self) { (void)ts; return AS_EXCEPTION(self)->traceback; }
static Value get_suppress(TState *ts, Value self) { (void)ts; return BOOL_VAL(AS_EXCEPTION(self)->suppress_context); }
static int set_suppress(TState *ts, Value self, Value v) {
    int t = ops_truth(ts, v);
    if (t < 0) return -1;
    AS_EXCEPTION(self)->suppress_context = t;
    return 0;
}

/* StopIteration.value, SystemExit.code, KeyError etc. read args[0]. */
static Value get_first_arg(TState *ts, Value self) {
    (void)ts;
    Value args = AS_EXCEPTION(self)->args;
    if (IS_TUPLE(args) && AS_TUPLE(args)->len > 0) return AS_TUPLE(args)->items[0];
    return NONE_VAL;
}

/* BaseException.__reduce__: (type, args), with the instance dict as
 * state when it has attributes, as CPython's (for pickle and copy). */
static Value exception_reduce(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__reduce__", nargs - 1, kwnames, 0, 0)) return ERROR_VAL;
    ObjException *e = AS_EXCEPTION(args[0]);
    Value parts[3] = {OBJ_VAL(val_type(ts, args[0])), e->args, e->dict ? OBJ_VAL(e->dict) : NONE_VAL};
    bool state = e->dict && dict_len(e->dict) > 0;
    ObjTuple *r = tuple_from(ts, parts, state ? 3 : 2);
    return r ? OBJ_VAL(r) : ERROR_VAL;
}

/* BaseException.add_note(note): appends to __notes__, made on first use. */
static Value exception_add_note(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "add_note", nargs - 1, kwnames, 1, 1)) return ERROR_VAL;
    if (!IS_STR(args[1]))
        return err_format(ts, ts->interp->exc.TypeError, "note must be a str, not '%s'", ops_type_name(ts, args[1]));
    ObjStr *name = str_intern_cstr(ts, "__notes__");
    Value notes = ops_getattr_opt(ts, args[0], name);
    if (IS_ERROR(notes)) return notes;
    if (IS_EMPTY(notes)) {
        ObjList *list = list_new(ts, 0);
        if (!list) return ERROR_VAL;
        notes = OBJ_VAL(list);
        vm_push(ts, notes);
        int r = ops_setattr(ts, args[0], name, notes);
        vm_pop(ts);
        if (r < 0) return ERROR_VAL;
    }
    if (!IS_LIST(notes))
        return err_format(ts, ts->interp->exc.TypeError, "Cannot add note: __notes__ is not a list");
    return list_append(ts, AS_LIST(notes), args[1]) < 0 ? ERROR_VAL : NONE_VAL;
}

/* BaseException.__str__ and __repr__, which a subclass's own reaches
 * through super(). */
static Value exception_str_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__str__", nargs - 1, kwnames, 0, 0)) return ERROR_VAL;
    return exception_str(ts, args[0]);
}

static Value exception_repr_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__repr__", nargs - 1, kwnames, 0, 0)) return ERROR_VAL;
    return exception_repr(ts, args[0]);
}

static const NativeDef exception_methods[] = {
    {"add_note", exception_add_note},
    {"__repr__", exception_repr_method},
    {"__str__", exception_str_method},
    {"__init__", exception_init},
    {"__reduce__", exception_reduce},
    {"with_traceback", exception_with_traceback},
    {NULL, NULL},
};

static const GetSetDef exception_getsets[] = {
    {"args", get_args, set_args},
    {"__cause__", get_cause, set_cause},
    {"__context__", get_context, set_context},
    {"__traceback__", get_traceback, NULL},
    {"__suppress_context__", get_suppress, set_suppress},
    {NULL, NULL, NULL},
};

const TypeSpec exception_type_spec = {
    .name = "BaseException",
    .kind = OBJ_EXCEPTION,
    .flags = TYPEF_BASETYPE | TYPEF_EXCEPTION,
    .repr = exception_repr,
    .str = exception_str,
    .new_ = exception_new,
    .trace = exception_trace,
    .methods = exception_methods,
    .getsets = exception_getsets,
};

static const GetSetDef value_getsets[] = {
    {"value", get_first_arg, NULL},
    {NULL, NULL, NULL},
};

static const GetSetDef code_getsets[] = {
    {"code", get_first_arg, NULL},
    {NULL, NULL, NULL},
};

static void traceback_trace(GcMarker *m, Obj *self) {
    ObjTraceback *tb = (ObjTraceback *)self;
    gc_mark_value(m, tb->next);
    gc_mark_obj(m, (Obj *)tb->code);
    gc_mark_obj(m, (Obj *)tb->fn);
}

static Value traceback_lineno(TState *ts, Value self) {
    (void)ts;
    return INT_VAL(((ObjTraceback *)AS_OBJ(self))->line);
}

static Value traceback_next(TState *ts, Value self) {
    (void)ts;
    Value next = ((ObjTraceback *)AS_OBJ(self))->next;
    return IS_KIND(next, OBJ_TRACEBACK) ? next : NONE_VAL;
}

/* The entry's frame has ended by the time anyone reads this: a snapshot. */
static Value traceback_frame(TState *ts, Value self) {
    ObjTraceback *tb = (ObjTraceback *)AS_OBJ(self);
    return tb->fn ? frame_snapshot(ts, tb->fn, tb->line) : NONE_VAL;
}

static const GetSetDef traceback_getsets[] = {
    {"tb_lineno", traceback_lineno, NULL},
    {"tb_next", traceback_next, NULL},
    {"tb_frame", traceback_frame, NULL},
    {NULL, NULL, NULL},
};

const TypeSpec traceback_type_spec = {
    .name = "traceback",
    .kind = OBJ_TRACEBACK,
    .trace = traceback_trace,
    .getsets = traceback_getsets,
};

typedef struct ExcEntry {
    const char *name;
    const char *base;
    size_t offset;
} ExcEntry;

static const ExcEntry exc_entries[] = {
#define EXC(name, base, doc) {#name, #base, offsetof(ExcTypes, name)},
#include "runtime/exceptions.def"
#undef EXC
};

#define EXC_FIELD(interp, off) ((ObjType **)((char *)&(interp)->exc + (off)))

static ObjType *exc_base(Interp *interp, const char *base) {
    for (size_t i = 0; i < sizeof exc_entries / sizeof exc_entries[0]; i++)
        if (strcmp(exc_entries[i].name, base) == 0) return *EXC_FIELD(interp, exc_entries[i].offset);
    return interp->types.object;
}

void err_init_types(TState *ts) {
    Interp *interp = ts->interp;
    ObjStr *builtins = str_intern_cstr(ts, "builtins");
    for (size_t i = 0; i < sizeof exc_entries / sizeof exc_entries[0]; i++) {
        const ExcEntry *e = &exc_entries[i];
        TypeSpec spec = exception_type_spec;
        spec.name = e->name;
        bool root = strcmp(e->name, "BaseException") == 0;
        spec.methods = root ? exception_methods : NULL;
        spec.getsets = root ? exception_getsets
                       : strcmp(e->name, "StopIteration") == 0 ? value_getsets
                       : strcmp(e->name, "SystemExit") == 0    ? code_getsets
                                                               : NULL;
        if (strcmp(e->name, "BaseExceptionGroup") == 0) eg_spec(&spec);
        ObjType *t = type_from_spec(ts, &spec, exc_base(interp, e->base));
        if (!t) abort(); /* out of memory while creating the interpreter */
        t->module = OBJ_VAL(builtins);
        *EXC_FIELD(interp, e->offset) = t;
    }
    if (!eg_init_types(ts)) abort(); /* out of memory while creating the interpreter */
    ObjTuple *no_args = tuple_new(ts, 0);
    ObjException *reserved = no_args ? exc_alloc(ts, interp->exc.MemoryError, no_args) : NULL;
    if (!reserved) abort(); /* out of memory while creating the interpreter */
    interp->no_args = OBJ_VAL(no_args);
    interp->memory_error = OBJ_VAL(reserved);
}
