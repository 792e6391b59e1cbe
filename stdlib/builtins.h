#ifndef MINI_STDLIB_BUILTINS_H
#define MINI_STDLIB_BUILTINS_H

/* The builtins namespace: the built-in functions (print, len, sorted...),
 * the built-in types and exception classes by name, and the constants. */

#include <stdbool.h>

#include "runtime/object.h"

struct ObjDict;

/* Fills `ns` (interp->builtins). False after raising. */
bool builtins_init(TState *ts, struct ObjDict *ns);

/* builtins.__import__ as mini defines it: the import statement calls a
 * replacement instead (runtime/module.c). */
Value builtins_import(TState *ts, Value *args, int nargs, struct ObjTuple *kwnames);

/* For the C modules' init functions: ns[name] = a native function for each
 * entry of a NULL-terminated table, and ns[name] = value. False after
 * raising. */
bool builtins_add_natives(TState *ts, struct ObjDict *ns, const NativeDef *defs);
bool builtins_add_value(TState *ts, struct ObjDict *ns, const char *name, Value value);

/* A C module's integer constant (socket.AF_INET, zlib.MAX_WBITS...). */
typedef struct IntConstant {
    const char *name;
    int64_t value;
} IntConstant;

/* ns[name] = value for each entry of a table ended by {NULL, 0}. False
 * after raising. */
bool builtins_add_ints(TState *ts, struct ObjDict *ns, const IntConstant *table);

#endif
