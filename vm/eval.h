#ifndef MINI_VM_EVAL_H
#define MINI_VM_EVAL_H

/* Source text at run time: compiling it into a code object (what import,
 * exec, eval and compile share) and the built-ins exec, eval and compile,
 * which run code objects in namespaces given as dicts. */

#include <stddef.h>

#include "runtime/object.h"
#include "vm/compiler.h"

/* Parses and compiles; raises SyntaxError (with filename, lineno, offset
 * and text, as CPython's) on bad source. NULL after raising. */
struct ObjCode *eval_compile(TState *ts, const char *source, size_t len, const char *filename, CompileMode mode);

Value eval_builtin_exec(TState *ts, Value *args, int nargs, struct ObjTuple *kwnames);
Value eval_builtin_eval(TState *ts, Value *args, int nargs, struct ObjTuple *kwnames);
Value eval_builtin_compile(TState *ts, Value *args, int nargs, struct ObjTuple *kwnames);

#endif
