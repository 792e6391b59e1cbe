#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "support.h"

int support_setup(void **state) {
    Interp *interp = interp_new(GIL_DESIGN_MINI);
    if (!interp) return -1;
    *state = interp;
    return 0;
}

int support_teardown(void **state) {
    interp_free(*state);
    return 0;
}

TState *support_thread(void **state) { return ((Interp *)*state)->main_thread; }

void support_check_errors(const ErrCase *cases, size_t n)
{
    int failures = 0;
    for (size_t i = 0; i < n; i++) {
        const ErrCase *c = &cases[i];
        Arena arena;
        arena_init(&arena);
        ParseResult r = parse_module(&arena, "t.mini", c->src, strlen(c->src));
        if (r.status != c->status || strcmp(r.error.kind, c->kind) != 0 ||
            strcmp(r.error.msg, c->msg) != 0 || r.error.line != c->line || r.error.col != c->col) {
            print_error("source:   %s\nexpected: %d %s: %s at %d:%d\ngot:      %d %s: %s at %d:%d\n",
                        c->src, c->status, c->kind, c->msg, c->line, c->col, r.status,
                        r.status == PARSE_OK ? "-" : r.error.kind, r.error.msg, r.error.line,
                        r.error.col);
            failures++;
        }
        arena_free(&arena);
    }
    assert_int_equal(failures, 0);
}
