/* Unit tests for vm/gc.c: what is rooted survives a collection with its
 * contents intact, what is not is freed, retired buffers are released,
 * and the allocation counter triggers the eval breaker. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "runtime/dict.h"
#include "runtime/int.h"
#include "runtime/list.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/vm.h"

#include "support.h"

static size_t heap_objects(TState *ts) {
    size_t n = 0;
    for (Obj *o = ts->heap; o; o = o->gc_next) n++;
    return n;
}

/* A rooted list of strings and big ints survives, contents intact. */
static void test_rooted_survives(void **state) {
    TState *ts = support_thread(state);
    ObjList *list = list_new(ts, 0);
    assert_non_null(list);
    vm_push(ts, OBJ_VAL(list));
    for (int i = 0; i < 100; i++) {
        ObjStr *s = str_printf(ts, "item-%d", i);
        assert_non_null(s);
        assert_int_equal(list_append(ts, list, OBJ_VAL(s)), 0);
        Value big = int_binop(ts, BIN_POW, INT_VAL(2), INT_VAL(100 + i));
        assert_int_equal(list_append(ts, list, big), 0);
    }
    gc_collect(ts);
    gc_collect(ts);
    assert_int_equal(list_len(list), 200);
    for (int i = 0; i < 100; i++) {
        Value s = list_get(list, (size_t)(2 * i));
        char want[32];
        snprintf(want, sizeof want, "item-%d", i);
        assert_true(IS_STR(s));
        assert_string_equal(AS_STR(s)->data, want);
        Value big = list_get(list, (size_t)(2 * i + 1));
        Value expect = int_binop(ts, BIN_POW, INT_VAL(2), INT_VAL(100 + i));
        assert_int_equal(int_compare(big, expect), 0);
    }
    assert_true(vm_pop(ts) == OBJ_VAL(list));
}

/* Unreachable objects are freed: the thread's heap list shrinks back. */
static void test_garbage_freed(void **state) {
    TState *ts = support_thread(state);
    gc_collect(ts);
    size_t before = heap_objects(ts);
    for (int i = 0; i < 5000; i++) {
        ObjTuple *t = tuple_new(ts, 3);
        assert_non_null(t);
        t->items[0] = OBJ_VAL(str_printf(ts, "garbage %d", i));
    }
    assert_true(heap_objects(ts) >= before + 10000);
    gc_collect(ts);
    assert_int_equal(heap_objects(ts), before);
}

/* A cycle reachable only from itself is freed; one reachable from a root
 * is kept. */
static void test_cycles(void **state) {
    TState *ts = support_thread(state);
    gc_collect(ts);
    size_t before = heap_objects(ts);
    ObjList *a = list_new(ts, 0), *b = list_new(ts, 0);
    assert_int_equal(list_append(ts, a, OBJ_VAL(b)), 0);
    assert_int_equal(list_append(ts, b, OBJ_VAL(a)), 0);
    gc_collect(ts);
    assert_int_equal(heap_objects(ts), before);

    ObjDict *d = dict_new(ts);
    vm_push(ts, OBJ_VAL(d));
    ObjList *c = list_new(ts, 0);
    assert_int_equal(list_append(ts, c, OBJ_VAL(d)), 0);
    assert_int_equal(dict_set(ts, d, OBJ_VAL(str_from_cstr(ts, "c")), OBJ_VAL(c)), 0);
    gc_collect(ts);
    Value back = dict_get(ts, d, OBJ_VAL(str_from_cstr(ts, "c")));
    assert_true(back == OBJ_VAL(c));
    assert_true(list_get(c, 0) == OBJ_VAL(d));
    vm_pop(ts);
}

/* Crossing the threshold sets BREAK_GC in the allocating thread. */
static void test_threshold_requests_collection(void **state) {
    TState *ts = support_thread(state);
    gc_collect(ts);
    assert_false(atomic_load(&ts->eval_breaker) & BREAK_GC);
    size_t allocated = 0;
    while (!(atomic_load(&ts->eval_breaker) & BREAK_GC) && allocated < 4 * MINI_GC_INITIAL_THRESHOLD) {
        assert_non_null(str_printf(ts, "%0512d", 7));
        allocated += 512;
    }
    assert_true(atomic_load(&ts->eval_breaker) & BREAK_GC);
    assert_true(vm_safepoint(ts));
    assert_false(atomic_load(&ts->eval_breaker) & BREAK_GC);
}

/* A retired buffer stays readable until the next collection frees it
 * (ASan reports a leak or a double free if that goes wrong). */
static void test_retired_buffers(void **state) {
    TState *ts = support_thread(state);
    char *buf = gc_alloc_buffer(ts, 64);
    assert_non_null(buf);
    memset(buf, 'x', 64);
    gc_retire_buffer(ts, buf, 64);
    assert_int_equal(buf[63], 'x');
    gc_collect(ts);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rooted_survives),
        cmocka_unit_test(test_garbage_freed),
        cmocka_unit_test(test_cycles),
        cmocka_unit_test(test_threshold_requests_collection),
        cmocka_unit_test(test_retired_buffers),
    };
    return cmocka_run_group_tests(tests, support_setup, support_teardown);
}
