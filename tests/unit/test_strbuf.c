/* Unit tests for runtime/strbuf.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "runtime/strbuf.h"

static void assert_contents(const StrBuf *sb, const char *want) {
    assert_int_equal(sb->len, strlen(want));
    assert_non_null(sb->data);
    assert_memory_equal(sb->data, want, sb->len + 1); /* incl. the NUL */
    assert_true(sb->cap > sb->len);
}

static void test_init_is_empty(void **state) {
    (void)state;
    StrBuf sb;
    sb_init(&sb);
    assert_null(sb.data);
    assert_int_equal(sb.len, 0);
    assert_int_equal(sb.cap, 0);
    sb_free(&sb); /* freeing an empty buffer is fine */
    sb_clear(&sb);
    assert_null(sb.data);
}

static void test_appends(void **state) {
    (void)state;
    StrBuf sb;
    sb_init(&sb);
    assert_true(sb_append(&sb, "abc", 3));
    assert_contents(&sb, "abc");
    assert_true(sb_append(&sb, "dXXX", 1));
    assert_contents(&sb, "abcd");
    assert_true(sb_append(&sb, NULL, 0));
    assert_contents(&sb, "abcd");
    assert_true(sb_append_cstr(&sb, "ef"));
    assert_true(sb_append_char(&sb, 'g'));
    assert_contents(&sb, "abcdefg");
    assert_true(sb_append_repeat(&sb, '-', 3));
    assert_true(sb_append_repeat(&sb, '+', 0));
    assert_contents(&sb, "abcdefg---");
    /* Embedded NULs are ordinary bytes. */
    assert_true(sb_append(&sb, "\0z", 2));
    assert_int_equal(sb.len, 12);
    assert_memory_equal(sb.data + 10, "\0z\0", 3);
    sb_free(&sb);
    assert_null(sb.data);
    assert_int_equal(sb.len, 0);
}

static void test_empty_append_allocates(void **state) {
    (void)state;
    StrBuf sb;
    sb_init(&sb);
    assert_true(sb_append_cstr(&sb, ""));
    assert_contents(&sb, "");
    sb_free(&sb);
}

static void test_growth(void **state) {
    (void)state;
    StrBuf sb;
    sb_init(&sb);
    for (int i = 0; i < 10000; i++)
        assert_true(sb_append_char(&sb, (char)('a' + i % 26)));
    assert_int_equal(sb.len, 10000);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(sb.data[i], 'a' + i % 26);
    assert_int_equal(sb.data[10000], '\0');
    sb_free(&sb);
}

static void test_reserve(void **state) {
    (void)state;
    StrBuf sb;
    sb_init(&sb);
    assert_true(sb_reserve(&sb, 0));
    assert_true(sb_append_cstr(&sb, "hi"));
    assert_true(sb_reserve(&sb, 1000));
    assert_true(sb.cap >= sb.len + 1000 + 1);
    const char *before = sb.data;
    for (int i = 0; i < 1000; i++)
        assert_true(sb_append_char(&sb, 'x'));
    assert_ptr_equal(sb.data, before); /* no reallocation within the reserve */
    assert_int_equal(sb.len, 1002);
    assert_int_equal(sb.data[1002], '\0');
    sb_free(&sb);
}

/* Impossible sizes fail cleanly and leave the buffer as it was. */
static void test_overflow_fails(void **state) {
    (void)state;
    StrBuf sb;
    sb_init(&sb);
    assert_false(sb_reserve(&sb, SIZE_MAX));
    assert_null(sb.data);
    assert_true(sb_append_cstr(&sb, "keep"));
    char *data = sb.data;
    size_t cap = sb.cap;
    assert_false(sb_reserve(&sb, SIZE_MAX));
    assert_false(sb_reserve(&sb, SIZE_MAX - 3));
    assert_false(sb_reserve(&sb, (size_t)PTRDIFF_MAX));
    assert_false(sb_append(&sb, "x", SIZE_MAX));
    assert_false(sb_append_repeat(&sb, 'x', SIZE_MAX - 1));
    assert_false(sb_append_repeat(&sb, 'x', (size_t)PTRDIFF_MAX - 4));
    assert_ptr_equal(sb.data, data);
    assert_int_equal(sb.cap, cap);
    assert_contents(&sb, "keep");
    sb_free(&sb);
}

static void test_appendf(void **state) {
    (void)state;
    StrBuf sb;
    sb_init(&sb);
    assert_true(sb_appendf(&sb, "%d-%s-%c-%%-%.2f", 42, "str", 'c', 1.5));
    assert_contents(&sb, "42-str-c-%-1.50");
    assert_true(sb_appendf(&sb, "%s", ""));
    assert_contents(&sb, "42-str-c-%-1.50");
    sb_free(&sb);

    /* Longer than any spare room: exercises the second vsnprintf pass. */
    char big[3000];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    sb_init(&sb);
    assert_true(sb_append_cstr(&sb, "<"));
    assert_true(sb_appendf(&sb, "%s|%s>", big, big));
    assert_int_equal(sb.len, 1 + 2 * (sizeof big - 1) + 2);
    assert_int_equal(sb.data[0], '<');
    assert_int_equal(sb.data[sizeof big], '|');
    assert_int_equal(sb.data[sb.len - 1], '>');
    assert_int_equal(sb.data[sb.len], '\0');
    sb_free(&sb);
}

static bool appendf_via_v(StrBuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static bool appendf_via_v(StrBuf *sb, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    bool ok = sb_vappendf(sb, fmt, ap);
    va_end(ap);
    return ok;
}

static void test_vappendf(void **state) {
    (void)state;
    StrBuf sb;
    sb_init(&sb);
    assert_true(appendf_via_v(&sb, "%s=%zu", "n", (size_t)7));
    assert_contents(&sb, "n=7");
    sb_free(&sb);
}

static void test_take(void **state) {
    (void)state;
    StrBuf sb;
    sb_init(&sb);
    assert_true(sb_append_cstr(&sb, "owned"));
    size_t len = 99;
    char *s = sb_take(&sb, &len);
    assert_string_equal(s, "owned");
    assert_int_equal(len, 5);
    assert_null(sb.data);
    assert_int_equal(sb.len, 0);
    assert_int_equal(sb.cap, 0);
    free(s);

    /* An empty buffer still yields a string the caller can free. */
    s = sb_take(&sb, &len);
    assert_non_null(s);
    assert_string_equal(s, "");
    assert_int_equal(len, 0);
    free(s);

    /* The buffer is reusable afterwards; len_out is optional. */
    assert_true(sb_append_cstr(&sb, "again"));
    s = sb_take(&sb, NULL);
    assert_string_equal(s, "again");
    free(s);
}

static void test_clear(void **state) {
    (void)state;
    StrBuf sb;
    sb_init(&sb);
    assert_true(sb_append_cstr(&sb, "some text"));
    size_t cap = sb.cap;
    sb_clear(&sb);
    assert_int_equal(sb.len, 0);
    assert_int_equal(sb.cap, cap);
    assert_string_equal(sb.data, "");
    assert_true(sb_append_cstr(&sb, "new"));
    assert_contents(&sb, "new");
    sb_free(&sb);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_is_empty),
        cmocka_unit_test(test_appends),
        cmocka_unit_test(test_empty_append_allocates),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_reserve),
        cmocka_unit_test(test_overflow_fails),
        cmocka_unit_test(test_appendf),
        cmocka_unit_test(test_vappendf),
        cmocka_unit_test(test_take),
        cmocka_unit_test(test_clear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
