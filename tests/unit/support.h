/* What several unit tests share: an interpreter for a group of tests, and
 * the check of parse errors against their expected kind, message and
 * position. Include it after cmocka.h. */
#ifndef MINI_TESTS_UNIT_SUPPORT_H
#define MINI_TESTS_UNIT_SUPPORT_H

#include <stddef.h>

#include "grammar/parse.h"
#include "vm/interp.h"

/* cmocka group setup and teardown: *state is a fresh interpreter. */
int support_setup(void **state);
int support_teardown(void **state);
/* The main thread of the interpreter support_setup made. */
TState *support_thread(void **state);

typedef struct ErrCase {
    const char *src;
    ParseStatus status;
    const char *kind;
    const char *msg;
    int line, col;
} ErrCase;

/* Parses each source as a module; fails the test after printing every case
 * whose status, error kind, message or position differs. */
void support_check_errors(const ErrCase *cases, size_t n);

#endif
