/* Unit tests for runtime/dict.c: the hash table, its fast paths for
 * interned strings, deletion and reuse of entries, iteration order, and
 * that a collection keeps what a rooted dict holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/int.h"
#include "runtime/list.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/vm.h"

#include "support.h"

static Value str_val(TState *ts, const char *s) {
    ObjStr *o = str_from_cstr(ts, s);
    assert_non_null(o);
    return OBJ_VAL(o);
}

static void test_int_keys(void **state) {
    TState *ts = support_thread(state);
    ObjDict *d = dict_new(ts);
    assert_non_null(d);
    for (int i = 0; i < 1000; i++) assert_int_equal(dict_set(ts, d, INT_VAL(i), INT_VAL(i * 3)), 0);
    assert_int_equal(dict_len(d), 1000);
    for (int i = 0; i < 1000; i++) assert_true(dict_get(ts, d, INT_VAL(i)) == INT_VAL(i * 3));
    assert_true(IS_EMPTY(dict_get(ts, d, INT_VAL(1000))));
    assert_true(IS_EMPTY(dict_get(ts, d, INT_VAL(-1))));
    /* Overwriting keeps the count. */
    assert_int_equal(dict_set(ts, d, INT_VAL(5), NONE_VAL), 0);
    assert_int_equal(dict_len(d), 1000);
    assert_true(IS_NONE(dict_get(ts, d, INT_VAL(5))));
}

static void test_equal_numbers_share_a_key(void **state) {
    TState *ts = support_thread(state);
    ObjDict *d = dict_new(ts);
    assert_int_equal(dict_set(ts, d, INT_VAL(1), str_val(ts, "int")), 0);
    assert_int_equal(dict_set(ts, d, FLOAT_VAL(1.0), str_val(ts, "float")), 0);
    assert_int_equal(dict_set(ts, d, TRUE_VAL, str_val(ts, "bool")), 0);
    assert_int_equal(dict_len(d), 1);
    Value v = dict_get(ts, d, INT_VAL(1));
    assert_true(IS_STR(v));
    assert_string_equal(AS_STR(v)->data, "bool");
    /* The first key stays (as in Python). */
    size_t pos = 0;
    Value k;
    assert_true(dict_next(d, &pos, &k, &v));
    assert_true(k == INT_VAL(1));
    assert_true(IS_EMPTY(dict_get(ts, d, FLOAT_VAL(1.5))));
    /* A big int and the float of the same value. */
    Value big = int_from_i64(ts, (int64_t)1 << 60);
    assert_int_equal(dict_set(ts, d, big, INT_VAL(7)), 0);
    assert_true(dict_get(ts, d, FLOAT_VAL(1152921504606846976.0)) == INT_VAL(7));
    assert_true(dict_get(ts, d, int_from_i64(ts, (int64_t)1 << 60)) == INT_VAL(7));
}

static void test_str_keys_interned_or_not(void **state) {
    TState *ts = support_thread(state);
    ObjDict *d = dict_new(ts);
    ObjStr *name = str_intern_cstr(ts, "attribute_name");
    ObjStr *copy = str_from_cstr(ts, "attribute_name");
    assert_ptr_not_equal(name, copy);
    assert_int_equal(dict_set_str(ts, d, name, INT_VAL(1)), 0);
    /* Found by a non-interned equal string, by either path. */
    assert_true(dict_get(ts, d, OBJ_VAL(copy)) == INT_VAL(1));
    assert_true(dict_get_str(d, copy) == INT_VAL(1));
    /* A non-interned key is found by the interned fast path. */
    ObjStr *other = str_from_cstr(ts, "plain_key");
    assert_int_equal(dict_set(ts, d, OBJ_VAL(other), INT_VAL(2)), 0);
    assert_true(dict_get_str(d, str_intern_cstr(ts, "plain_key")) == INT_VAL(2));
    /* dict_set_str on an existing equal key updates it. */
    assert_int_equal(dict_set_str(ts, d, str_intern_cstr(ts, "plain_key"), INT_VAL(3)), 0);
    assert_int_equal(dict_len(d), 2);
    assert_true(dict_get(ts, d, OBJ_VAL(other)) == INT_VAL(3));
    assert_true(IS_EMPTY(dict_get_str(d, str_intern_cstr(ts, "missing"))));
    /* Many interned names (attribute dicts grow too). */
    for (int i = 0; i < 200; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "name%d", i);
        assert_int_equal(dict_set_str(ts, d, str_intern_cstr(ts, buf), INT_VAL(i)), 0);
    }
    for (int i = 0; i < 200; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "name%d", i);
        assert_true(dict_get_str(d, str_intern_cstr(ts, buf)) == INT_VAL(i));
    }
}

static void test_order_delete_reinsert(void **state) {
    TState *ts = support_thread(state);
    ObjDict *d = dict_new(ts);
    for (int i = 0; i < 50; i++) assert_int_equal(dict_set(ts, d, INT_VAL(i), INT_VAL(i)), 0);
    for (int i = 0; i < 50; i += 2) assert_int_equal(dict_delete(ts, d, INT_VAL(i)), 1);
    assert_int_equal(dict_delete(ts, d, INT_VAL(0)), 0);
    assert_int_equal(dict_len(d), 25);
    assert_int_equal(dict_set(ts, d, INT_VAL(0), INT_VAL(100)), 0);
    /* Insertion order: the odd keys, then the re-inserted 0. */
    size_t pos = 0;
    Value k, v;
    int64_t want = 1;
    while (dict_next(d, &pos, &k, &v)) {
        if (want < 50) {
            assert_true(k == INT_VAL(want));
            want += 2;
        } else {
            assert_true(k == INT_VAL(0));
            assert_true(v == INT_VAL(100));
            want = -1;
        }
    }
    assert_int_equal(want, -1);
    /* Backwards: 0 first, then 49, 47, ... */
    pos = dict_end(d);
    assert_true(dict_prev(d, &pos, &k, &v));
    assert_true(k == INT_VAL(0));
    assert_true(dict_prev(d, &pos, &k, &v));
    assert_true(k == INT_VAL(49));
}

static void test_popitem_is_lifo_and_churn_terminates(void **state) {
    TState *ts = support_thread(state);
    ObjDict *d = dict_new(ts);
    for (int i = 0; i < 5; i++) assert_int_equal(dict_set(ts, d, INT_VAL(i), INT_VAL(i)), 0);
    Value k, v;
    assert_true(dict_popitem(ts, d, &k, &v));
    assert_true(k == INT_VAL(4));
    assert_true(dict_popitem(ts, d, &k, &v));
    assert_true(k == INT_VAL(3));
    /* popitem then insert, many times: index slots must never run out
     * of empty ones (a probe would not end) and the table stays small. */
    for (int i = 0; i < 20000; i++) {
        assert_int_equal(dict_set(ts, d, INT_VAL(1000 + i), INT_VAL(i)), 0);
        assert_true(dict_popitem(ts, d, &k, &v));
        assert_true(k == INT_VAL(1000 + i));
    }
    /* Delete and insert distinct keys: the same. */
    for (int i = 0; i < 20000; i++) {
        assert_int_equal(dict_set(ts, d, INT_VAL(50000 + i), INT_VAL(i)), 0);
        assert_int_equal(dict_delete(ts, d, INT_VAL(50000 + i)), 1);
        assert_true(IS_EMPTY(dict_get(ts, d, INT_VAL(50000 + i))));
    }
    assert_int_equal(dict_len(d), 3);
    DictTable *t = atomic_load(&d->table);
    assert_true(t->nslots <= 64);
    while (dict_popitem(ts, d, &k, &v)) {
    }
    assert_int_equal(dict_len(d), 0);
    assert_false(dict_popitem(ts, d, &k, &v));
}

static void test_cached_index(void **state) {
    TState *ts = support_thread(state);
    ObjDict *d = dict_new(ts);
    ObjStr *x = str_intern_cstr(ts, "x"), *y = str_intern_cstr(ts, "y");
    assert_int_equal(dict_set_str(ts, d, x, INT_VAL(1)), 0);
    assert_int_equal(dict_set_str(ts, d, y, INT_VAL(2)), 0);
    int64_t ix = dict_find_str_index(d, y);
    assert_true(ix >= 0);
    assert_true(dict_cached_get(d, y, ix) == INT_VAL(2));
    assert_true(IS_EMPTY(dict_cached_get(d, x, ix))); /* another key's entry */
    assert_int_equal(dict_find_str_index(d, str_intern_cstr(ts, "absent")), -1);
    /* Rebuilds move entries: a stale index never yields a wrong value. */
    for (int i = 0; i < 100; i++) assert_int_equal(dict_set(ts, d, INT_VAL(i), INT_VAL(i)), 0);
    assert_int_equal(dict_delete(ts, d, OBJ_VAL(x)), 1);
    for (int i = 100; i < 300; i++) assert_int_equal(dict_set(ts, d, INT_VAL(i), INT_VAL(i)), 0);
    Value v = dict_cached_get(d, y, ix);
    assert_true(IS_EMPTY(v) || v == INT_VAL(2));
    int64_t ix2 = dict_find_str_index(d, y);
    assert_true(dict_cached_get(d, y, ix2) == INT_VAL(2));
    assert_int_equal(dict_delete(ts, d, OBJ_VAL(y)), 1);
    assert_true(IS_EMPTY(dict_cached_get(d, y, ix2)));
}

static void test_copy_update_clear(void **state) {
    TState *ts = support_thread(state);
    ObjDict *a = dict_new(ts);
    for (int i = 0; i < 20; i++) assert_int_equal(dict_set(ts, a, INT_VAL(i), INT_VAL(-i)), 0);
    assert_int_equal(dict_delete(ts, a, INT_VAL(3)), 1);
    ObjDict *b = dict_copy(ts, a);
    assert_non_null(b);
    assert_int_equal(dict_len(b), 19);
    assert_int_equal(dict_set(ts, b, INT_VAL(100), INT_VAL(1)), 0);
    assert_true(IS_EMPTY(dict_get(ts, a, INT_VAL(100))));
    assert_true(dict_get(ts, b, INT_VAL(19)) == INT_VAL(-19));
    /* update: overwrites and appends, in the source's order */
    ObjDict *c = dict_new(ts);
    assert_int_equal(dict_set(ts, c, INT_VAL(19), str_val(ts, "kept position")), 0);
    assert_int_equal(dict_update(ts, c, OBJ_VAL(a)), 0);
    assert_int_equal(dict_len(c), 19);
    size_t pos = 0;
    Value k, v;
    assert_true(dict_next(c, &pos, &k, &v));
    assert_true(k == INT_VAL(19));
    assert_true(v == INT_VAL(-19));
    dict_clear(ts, c);
    assert_int_equal(dict_len(c), 0);
    assert_true(IS_EMPTY(dict_get(ts, c, INT_VAL(1))));
    assert_int_equal(dict_set(ts, c, INT_VAL(1), INT_VAL(2)), 0);
    assert_true(dict_get(ts, c, INT_VAL(1)) == INT_VAL(2));
}

static void test_unhashable_key(void **state) {
    TState *ts = support_thread(state);
    ObjDict *d = dict_new(ts);
    ObjList *l = list_new(ts, 0);
    assert_int_equal(dict_set(ts, d, OBJ_VAL(l), INT_VAL(1)), -1);
    assert_true(err_matches(ts, ts->interp->exc.TypeError));
    err_clear(ts);
    assert_true(IS_ERROR(dict_get(ts, d, OBJ_VAL(l))));
    err_clear(ts);
    assert_int_equal(dict_len(d), 0);
}

static void test_tuple_keys_compare_by_value(void **state) {
    TState *ts = support_thread(state);
    ObjDict *d = dict_new(ts);
    ObjTuple *t1 = tuple_pack2(ts, INT_VAL(1), str_val(ts, "a"));
    ObjTuple *t2 = tuple_pack2(ts, INT_VAL(1), str_val(ts, "a"));
    assert_ptr_not_equal(t1, t2);
    assert_int_equal(dict_set(ts, d, OBJ_VAL(t1), INT_VAL(1)), 0);
    assert_int_equal(dict_set(ts, d, OBJ_VAL(t2), INT_VAL(2)), 0);
    assert_int_equal(dict_len(d), 1);
    assert_true(dict_get(ts, d, OBJ_VAL(t1)) == INT_VAL(2));
}

static void test_collection_keeps_rooted_dict(void **state) {
    TState *ts = support_thread(state);
    ObjDict *d = dict_new(ts);
    vm_push(ts, OBJ_VAL(d));
    for (int i = 0; i < 300; i++) {
        char key[32], val[32];
        snprintf(key, sizeof key, "key-%d", i);
        snprintf(val, sizeof val, "value-%d", i);
        assert_int_equal(dict_set(ts, d, str_val(ts, key), str_val(ts, val)), 0);
    }
    for (int i = 0; i < 300; i += 3) {
        char key[32];
        snprintf(key, sizeof key, "key-%d", i);
        assert_int_equal(dict_delete(ts, d, str_val(ts, key)), 1);
    }
    gc_collect(ts);
    assert_int_equal(dict_len(d), 200);
    for (int i = 0; i < 300; i++) {
        char key[32], val[32];
        snprintf(key, sizeof key, "key-%d", i);
        snprintf(val, sizeof val, "value-%d", i);
        Value v = dict_get(ts, d, str_val(ts, key));
        if (i % 3 == 0) {
            assert_true(IS_EMPTY(v));
        } else {
            assert_true(IS_STR(v));
            assert_string_equal(AS_STR(v)->data, val);
        }
    }
    vm_pop(ts);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_int_keys),
        cmocka_unit_test(test_equal_numbers_share_a_key),
        cmocka_unit_test(test_str_keys_interned_or_not),
        cmocka_unit_test(test_order_delete_reinsert),
        cmocka_unit_test(test_popitem_is_lifo_and_churn_terminates),
        cmocka_unit_test(test_cached_index),
        cmocka_unit_test(test_copy_update_clear),
        cmocka_unit_test(test_unhashable_key),
        cmocka_unit_test(test_tuple_keys_compare_by_value),
        cmocka_unit_test(test_collection_keeps_rooted_dict),
    };
    return cmocka_run_group_tests(tests, support_setup, support_teardown);
}
