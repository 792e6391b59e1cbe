#ifndef MINI_RUNTIME_SUGGEST_H
#define MINI_RUNTIME_SUGGEST_H

/* "Did you mean" for NameError and AttributeError, computed as CPython
 * 3.11's Python/suggestions.c does when it prints an uncaught exception. */

#include <stddef.h>

#include "runtime/object.h"

struct ObjStr;

/* The str among `candidates` closest to `name` (a Levenshtein distance in
 * which a case change costs half a move; at most a third of the characters
 * changed), or NULL. Non-str candidates are skipped; 750 candidates or more
 * give no suggestion, as in CPython. */
struct ObjStr *suggest_closest(const struct ObjStr *name, const Value *candidates, size_t n);

#endif
