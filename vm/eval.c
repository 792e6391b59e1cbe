#include "vm/eval.h"

#include <string.h>

#include "grammar/arena.h"
#include "grammar/parse.h"
#include "runtime/args.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/function.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "vm/code.h"
#include "vm/interp.h"
#include "vm/vm.h"

ObjCode *eval_compile(TState *ts, const char *source, size_t len, const char *filename, CompileMode mode) {
    if (memchr(source, '\0', len)) {
        SyntaxErrorInfo err = {.kind = "SyntaxError", .msg = "source code string cannot contain null bytes"};
        err_syntax(ts, &err, filename, source, len);
        return NULL;
    }
    Arena arena;
    arena_init(&arena);
    ParseResult pr = mode == COMPILE_EVAL ? parse_expression(&arena, source, len)
                                          : parse_module(&arena, filename, source, len);
    ObjCode *code = NULL;
    if (pr.status == PARSE_OK && mode == COMPILE_INTERACTIVE && pr.ast->u.module.body.count > 1) {
        /* Placed, as CPython's, at the end of the first statement's line. */
        int line = pr.ast->u.module.body.items[0]->line;
        const char *at = source;
        for (int i = 1; i < line && at; i++) {
            at = memchr(at, '\n', len - (size_t)(at - source));
            if (at) at++;
        }
        const char *eol = at ? memchr(at, '\n', len - (size_t)(at - source)) : NULL;
        int col = at ? (int)((eol ? eol : source + len) - at) + 1 : 1;
        SyntaxErrorInfo err = {.kind = "SyntaxError", .line = line, .col = col};
        snprintf(err.msg, sizeof err.msg, "multiple statements found while compiling a single statement");
        err_syntax(ts, &err, filename, source, len);
    } else if (pr.status == PARSE_OK) {
        SyntaxErrorInfo err = {0};
        code = compile_module(ts, pr.ast, filename, mode, &err);
        if (!code && err.msg[0]) err_syntax(ts, &err, filename, source, len);
    } else {
        err_syntax(ts, &pr.error, filename, source, len);
    }
    arena_free(&arena);
    return code;
}

/* The code to run: a code object as it is, a str compiled in `mode`. */
static ObjCode *code_of(TState *ts, const char *fname, Value source, CompileMode mode) {
    if (IS_CODE(source)) return AS_CODE(source);
    if (!IS_STR(source)) {
        err_format(ts, ts->interp->exc.TypeError, "%s() arg 1 must be a string, bytes or code object", fname);
        return NULL;
    }
    const char *text = AS_STR(source)->data;
    size_t len = AS_STR(source)->len;
    if (mode == COMPILE_EVAL)
        /* eval() drops leading blanks, which would be an indentation. */
        while (len && (*text == ' ' || *text == '\t')) text++, len--;
    return eval_compile(ts, text, len, "<string>", mode);
}

/* Whether v looks like a mapping (has __getitem__), for the messages. */
static bool has_getitem(TState *ts, Value v) {
    ObjStr *name = str_intern_cstr(ts, "__getitem__");
    Value m = name ? ops_getattr_opt(ts, v, name) : ERROR_VAL;
    if (IS_ERROR(m)) err_clear(ts);
    return !IS_EMPTY(m) && !IS_ERROR(m);
}

/* exec and eval: the namespaces (the caller's when not given), then the
 * code run in them. */
static Value run_in(TState *ts, const char *fname, Value *args, int nargs, ObjTuple *kwnames, CompileMode mode) {
    Interp *interp = ts->interp;
    if (kwnames && kwnames->len > 0)
        return err_format(ts, interp->exc.TypeError, "'%s' is an invalid keyword argument for %s()",
                          AS_STR(kwnames->items[0])->data, fname);
    if (!args_check(ts, fname, nargs, NULL, 1, 3)) return ERROR_VAL;
    Value globals = nargs > 1 ? args[1] : NONE_VAL;
    Value locals = nargs > 2 ? args[2] : NONE_VAL;
    bool is_eval = mode == COMPILE_EVAL;
    if (!IS_NONE(globals) && !IS_DICT(globals)) {
        if (is_eval)
            return err_format(ts, interp->exc.TypeError,
                              has_getitem(ts, globals)
                                  ? "globals must be a real dict; try eval(expr, {}, mapping)"
                                  : "globals must be a dict");
        return err_format(ts, interp->exc.TypeError, "exec() globals must be a dict, not %s", ops_type_name(ts, globals));
    }
    if (!IS_NONE(locals) && !IS_DICT(locals) && !has_getitem(ts, locals))
        return is_eval ? err_format(ts, interp->exc.TypeError, "locals must be a mapping")
                       : err_format(ts, interp->exc.TypeError, "locals must be a mapping or None, not %s",
                                    ops_type_name(ts, locals));
    if (IS_NONE(globals)) {
        globals = vm_globals(ts);
        if (IS_NONE(locals)) locals = vm_locals(ts);
        if (IS_ERROR(locals)) return locals;
    }
    if (IS_NONE(locals)) locals = globals;
    vm_push(ts, locals);
    /* As CPython: globals without __builtins__ get the running code's. */
    ObjDict *g = AS_DICT(globals);
    if (IS_EMPTY(dict_get_str(g, interp->names.builtins_))) {
        Value current = vm_globals(ts);
        ObjDict *builtins = IS_DICT(current) ? function_builtins(ts, AS_DICT(current)) : interp->builtins;
        if (dict_set_str(ts, g, interp->names.builtins_, OBJ_VAL(builtins)) < 0) {
            vm_pop(ts);
            return ERROR_VAL;
        }
    }
    ObjCode *code = code_of(ts, fname, args[0], mode);
    Value r = ERROR_VAL;
    if (code && code->nfree > 0)
        err_format(ts, interp->exc.TypeError, "code object passed to %s() may not contain free variables", fname);
    else if (code) {
        vm_push(ts, OBJ_VAL(code));
        r = vm_run_code(ts, code, g, locals);
        vm_pop(ts);
    }
    vm_pop(ts);
    if (IS_ERROR(r)) return r;
    return is_eval ? r : NONE_VAL;
}

Value eval_builtin_exec(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return run_in(ts, "exec", args, nargs, kwnames, COMPILE_EXEC);
}

Value eval_builtin_eval(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return run_in(ts, "eval", args, nargs, kwnames, COMPILE_EVAL);
}

Value eval_builtin_compile(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"source", "filename", "mode", "flags", "dont_inherit", "optimize"};
    Value a[6];
    if (!args_bind(ts, "compile", args, nargs, kwnames, names, 6, 3, 6, a)) return ERROR_VAL;
    Interp *interp = ts->interp;
    if (!IS_STR(a[1]))
        return err_format(ts, interp->exc.TypeError, "expected str, bytes or os.PathLike object, not %s",
                          ops_type_name(ts, a[1]));
    if (!IS_STR(a[2])) return err_format(ts, interp->exc.TypeError, "compile() argument 'mode' must be str, not %s",
                                         ops_type_name(ts, a[2]));
    const char *m = AS_STR(a[2])->data;
    CompileMode mode;
    if (!strcmp(m, "exec")) mode = COMPILE_EXEC;
    else if (!strcmp(m, "eval")) mode = COMPILE_EVAL;
    else if (!strcmp(m, "single")) mode = COMPILE_INTERACTIVE;
    else return err_format(ts, interp->exc.ValueError, "compile() mode must be 'exec', 'eval' or 'single'");
    if (!IS_STR(a[0]))
        return err_format(ts, interp->exc.TypeError, "compile() arg 1 must be a string, bytes or AST object");
    const char *text = AS_STR(a[0])->data;
    size_t len = AS_STR(a[0])->len;
    if (mode == COMPILE_EVAL)
        while (len && (*text == ' ' || *text == '\t')) text++, len--;
    ObjCode *code = eval_compile(ts, text, len, AS_STR(a[1])->data, mode);
    return code ? OBJ_VAL(code) : ERROR_VAL;
}
