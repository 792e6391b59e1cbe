/* The _traceback module (mini only): what the runtime's own traceback
 * printer (runtime/error.c) knows, for stdlib/traceback.mini and
 * stdlib/warnings.mini, so that their output and an uncaught exception's
 * come from one piece of code:
 *  - source_line(filename, lineno): the line, stripped, from a file or from
 *    a stdlib module compiled into the binary; "" when there is none;
 *  - format_exception_only(exc): the exception's last line(s) exactly as an
 *    uncaught exception ends (mini's SyntaxError form), without the "Did
 *    you mean" hint, which CPython 3.11 gives only to uncaught exceptions;
 *  - embedded_source(filename): the whole source of a stdlib module compiled
 *    into the binary ("<stdlib/NAME.mini>"), or None: linecache's lines;
 *  - REPEAT_FOLD: how many repeats of one line show before they fold. */
#include <stdio.h>
#include <stdlib.h>

#include "runtime/args.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/module.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "stdlib/builtins.h"
#include "stdlib/modules.h"
#include "vm/config.h"
#include "vm/interp.h"

static Value tbmod_source_line(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "source_line", nargs, kwnames, 2, 2)) return ERROR_VAL;
    ObjStr *path;
    int64_t line;
    if (!args_str(ts, args[0], "source_line", &path) || !args_int(ts, args[1], &line)) return ERROR_VAL;
    char buf[MINI_SOURCE_LINE_MAX];
    bool found = line > 0 && line <= INT32_MAX && err_source_line(path->data, (int)line, buf, sizeof buf);
    ObjStr *s = str_from_cstr(ts, found ? buf : "");
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static Value tbmod_format_exception_only(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "format_exception_only", nargs, kwnames, 1, 1)) return ERROR_VAL;
    if (!IS_EXCEPTION(args[0])) return err_type_not(ts, args[0], "an exception");
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out) return err_no_memory(ts);
    err_print_exception_only(ts, args[0], out, false);
    bool ok = fclose(out) == 0 && text;
    ObjStr *s = ok ? str_new(ts, text, len) : NULL;
    free(text);
    if (!ok) return err_no_memory(ts);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static Value tbmod_embedded_source(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "embedded_source", nargs, kwnames, 1, 1)) return ERROR_VAL;
    ObjStr *path;
    if (!args_str(ts, args[0], "embedded_source", &path)) return ERROR_VAL;
    const char *src;
    size_t len;
    if (!module_embedded_source(path->data, &src, &len)) return NONE_VAL;
    ObjStr *s = str_new(ts, src, len);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static const NativeDef traceback_functions[] = {
    {"source_line", tbmod_source_line},
    {"format_exception_only", tbmod_format_exception_only},
    {"embedded_source", tbmod_embedded_source},
    {NULL, NULL},
};

bool mod_traceback_init(TState *ts, ObjDict *ns) {
    /* How many repeats of one line a traceback shows before it folds them. */
    return builtins_add_natives(ts, ns, traceback_functions) &&
           dict_set_str(ts, ns, str_intern_cstr(ts, "REPEAT_FOLD"), INT_VAL(MINI_TRACEBACK_REPEAT_FOLD)) == 0;
}
