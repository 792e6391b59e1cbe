#ifndef MINI_RUNTIME_ERROR_H
#define MINI_RUNTIME_ERROR_H

/* Raising and inspecting exceptions. Errors are return values: a function
 * that fails stores the exception on its thread (ts->exc) and returns
 * ERROR_VAL (or -1, or NULL); its caller passes the failure up. No longjmp,
 * so no lock is ever left held by an unwinding error. */

#include <stdbool.h>
#include <stdio.h>

#include "runtime/object.h"

typedef struct ObjException {
    Obj obj;
    struct ObjDict *dict;  /* instance attributes, as any instance */
    Value args;            /* tuple */
    Value traceback;       /* ObjTraceback chain or NONE_VAL */
    Value cause;           /* __cause__ or NONE_VAL */
    Value context;         /* __context__ or NONE_VAL */
    /* An exception group's message (str) and exceptions (a non-empty
     * tuple), read-only as CPython's; NONE_VAL in other exceptions
     * (runtime/excgroup.h). */
    Value group_msg;
    Value group_excs;
    bool suppress_context;
} ObjException;

/* One traceback entry: the innermost is last in the chain, as Python. */
typedef struct ObjTraceback {
    Obj obj;
    Value next;            /* the entry of the callee, or NONE_VAL */
    struct ObjCode *code;
    struct ObjFunction *fn; /* the running function: its namespaces, for "Did you mean" */
    int line;
} ObjTraceback;

#define IS_EXCEPTION(v) IS_KIND(v, OBJ_EXCEPTION)
#define AS_EXCEPTION(v) ((ObjException *)AS_OBJ(v))

/* Raise `type` with a message formatted printf-style (%s takes C strings;
 * use err_format_value for mini values). Always return ERROR_VAL so the
 * caller can `return err_format(...)`. */
Value err_format(TState *ts, ObjType *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
Value err_set_str(TState *ts, ObjType *type, const char *msg);
/* Raise with an arbitrary value as the single argument (KeyError(key)). */
Value err_set_value(TState *ts, ObjType *type, Value arg);
/* Raise an exception instance or class (the `raise` statement). */
Value err_raise(TState *ts, Value exc_or_type);
/* Call an exception class (`raise C`, gen.throw(C, v)); a TypeError when it makes no
 * exception. CPython names the result's class by its repr for `raise`
 * (class_repr), by its name for throw. */
Value err_instantiate(TState *ts, Value type, Value *args, int nargs, bool class_repr);
Value err_no_memory(TState *ts);
/* ImportError or ModuleNotFoundError with its .name (the module). */
Value err_import(TState *ts, ObjType *type, struct ObjStr *module, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "TypeError: unsupported operand type(s) for +: 'int' and 'str'" */
Value err_unsupported_binop(TState *ts, BinOp op, Value a, Value b);
/* The same for augmented assignment: "for -=: 'str' and 'str'". */
Value err_unsupported_inplace(TState *ts, BinOp op, Value a, Value b);
/* "TypeError: 'X' object is not callable", "... is not iterable", etc. */
Value err_type_not(TState *ts, Value v, const char *what);

bool err_occurred(const TState *ts);
/* Takes the pending exception off the thread (EMPTY_VAL if none). */
Value err_fetch(TState *ts);
void err_restore(TState *ts, Value exc);
/* Does the pending exception derive from `type`? */
bool err_matches(const TState *ts, ObjType *type);
void err_clear(TState *ts);

/* Appends a traceback entry (the VM does this while unwinding). */
void err_add_traceback(TState *ts, struct ObjFunction *fn, int line);
/* Records on the pending NameError/AttributeError the name that was not
 * found (and the object it was looked up on, or EMPTY_VAL), as CPython's
 * .name and .obj, from which its traceback suggests a close name. Returns
 * ERROR_VAL. */
Value err_set_missing_name(TState *ts, struct ObjStr *name, Value obj);
/* Prints "Traceback (most recent call last):" ... to stderr, Python's
 * layout, with the source lines when the file is readable. */
void err_print(TState *ts, Value exc);
/* Takes the pending exception and prints it after "Exception ignored in:
 * <repr of obj>", as CPython reports an exception nobody can catch (a
 * weakref or gc callback's). */
void err_write_unraisable(TState *ts, Value obj);
/* The exception's last line ("TypeError: msg"), as err_print ends;
 * traceback.format_exception_only uses it without the "Did you mean" hint
 * (CPython 3.11 gives that hint only to an uncaught exception). */
void err_print_exception_only(TState *ts, Value exc, FILE *out, bool hint);
/* Line `line` (1-based) of a file or an embedded stdlib module, stripped
 * of surrounding blanks, into buf; false when there is none. */
bool err_source_line(const char *path, int line, char *buf, size_t size);
/* str(exc) as Python gives it (the message, or the repr of the key for
 * KeyError). */
struct ObjStr *err_message(TState *ts, Value exc);

/* Creates the exception types of runtime/exceptions.def. */
void err_init_types(TState *ts);

/* Raises SyntaxError (or IndentationError/TabError, per err->kind) with
 * Python's attributes: msg, filename, lineno, offset, text. */
struct SyntaxErrorInfo;
Value err_syntax(TState *ts, const struct SyntaxErrorInfo *err, const char *filename,
                 const char *source, size_t len);

/* Create an exception instance: type(*args). */
Value exc_new(TState *ts, ObjType *type, Value *args, int nargs);
/* The OSError subclass for an errno (FileNotFoundError for ENOENT...). */
ObjType *exc_oserror_type(struct Interp *interp, int err);

extern const struct TypeSpec exception_type_spec;
extern const struct TypeSpec traceback_type_spec;

#endif
