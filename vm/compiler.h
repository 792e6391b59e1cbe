#ifndef MINI_VM_COMPILER_H
#define MINI_VM_COMPILER_H

/* The compiler: a syntax tree in, code objects out. One pass over the tree
 * works out each function's scopes (local, cell, free, global), a second
 * emits bytecode, tracking the evaluation stack depth so each code object
 * knows its frame size and each try block its handler's depth. */

#include "grammar/ast.h"
#include "grammar/parse.h"
#include "vm/code.h"

typedef enum CompileMode {
    COMPILE_MODULE,      /* a file: statements */
    COMPILE_INTERACTIVE, /* a REPL input or compile(..., 'single'): expression statements print */
    COMPILE_EXEC,        /* compile(..., 'exec') / exec(): statements */
    COMPILE_EVAL,        /* compile(..., 'eval') / eval(): one expression, whose value it returns */
} CompileMode;

/* Returns the module's code object, or NULL: after raising (MemoryError)
 * when err->msg is empty, or with a syntax error described in *err.
 * `module` is a Module node, or for COMPILE_EVAL an expression. Outside
 * COMPILE_MODULE the top level's names are looked up in the locals mapping
 * first (LOAD_NAME), as the namespaces of exec/eval may differ. */
ObjCode *compile_module(TState *ts, const AstNode *module, const char *filename, CompileMode mode,
                        SyntaxErrorInfo *err);

#endif
