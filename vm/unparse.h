#ifndef MINI_VM_UNPARSE_H
#define MINI_VM_UNPARSE_H

/* An expression's source text rebuilt from its tree, as CPython's
 * ast.unparse writes it: what `from __future__ import annotations` stores
 * in __annotations__ instead of the annotation's value (PEP 563). */

#include <stdbool.h>

#include "grammar/ast.h"
#include "runtime/strbuf.h"
#include "vm/interp.h"

/* Appends E's text to OUT. False when E holds a form the unparser does not
 * write (lambda, comprehension, f-string, walrus, yield), or when memory
 * ran out; OUT is then incomplete. */
bool unparse_expr(TState *ts, const AstNode *e, StrBuf *out);

#endif
