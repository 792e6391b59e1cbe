/* int (runtime/int.c): arbitrary-precision arithmetic at the edges of the
 * unboxed 48-bit range and of 64 bits, Python's floor division and modulo
 * signs, powers, shifts and bitwise operators on negative numbers, hashes,
 * string conversion, and the canonical form of every result (a value that
 * fits the small range is always unboxed). Expected values come from
 * CPython 3.11. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/error.h"
#include "runtime/float.h"
#include "runtime/int.h"
#include "runtime/str.h"
#include "vm/interp.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

typedef struct BinCase {
    BinOp op;
    const char *a, *b, *result;
} BinCase;

typedef struct UnCase {
    UnOp op;
    const char *a, *result;
} UnCase;

typedef struct HashCase {
    const char *a;
    int64_t hash;
} HashCase;

static const BinCase bin_cases[] = {
    {BIN_ADD, "140737488355327", "1", "140737488355328"},
    {BIN_SUB, "-140737488355328", "1", "-140737488355329"},
    {BIN_ADD, "140737488355328", "-1", "140737488355327"},
    {BIN_SUB, "-140737488355329", "-1", "-140737488355328"},
    {BIN_ADD, "140737488355327", "140737488355327", "281474976710654"},
    {BIN_SUB, "-140737488355328", "140737488355328", "-281474976710656"},
    {BIN_MUL, "140737488355327", "140737488355327", "19807040628565802923409276929"},
    {BIN_MUL, "-140737488355328", "140737488355328", "-19807040628566084398385987584"},
    {BIN_MUL, "4294967296", "4294967296", "18446744073709551616"},
    {BIN_MUL, "-4294967296", "2147483648", "-9223372036854775808"},
    {BIN_ADD, "9223372036854775807", "1", "9223372036854775808"},
    {BIN_ADD, "18446744073709551615", "1", "18446744073709551616"},
    {BIN_SUB, "-18446744073709551616", "1", "-18446744073709551617"},
    {BIN_SUB, "18446744073709551616", "1", "18446744073709551615"},
    {BIN_ADD, "-9223372036854775808", "-1", "-9223372036854775809"},
    {BIN_MUL, "18446744073709551615", "18446744073709551615", "340282366920938463426481119284349108225"},
    {BIN_MUL, "-9223372036854775808", "9223372036854775808", "-85070591730234615865843651857942052864"},
    {BIN_MUL, "18446744073709551616", "-18446744073709551616", "-340282366920938463463374607431768211456"},
    {BIN_MUL, "1267650600228229401496703205376", "0", "0"},
    {BIN_ADD, "340282366920938463463374607431768211455", "1", "340282366920938463463374607431768211456"},
    {BIN_SUB, "340282366920938463463374607431768211456", "1", "340282366920938463463374607431768211455"},
    {BIN_SUB, "1267650600228229401496703205376", "1267650600228229401496703205371", "5"},
    {BIN_ADD, "-1267650600228229401496703205376", "1267650600228229401496703205376", "0"},
    {BIN_ADD, "1606938044258990275541962092341162602522202993782792835313721", "-1606938044258990275541962092341162602522202993782792835301376", "12345"},
    {BIN_SUB, "10000000000000000000000000000000000000000", "10000000000000000000000000000000000000001", "-1"},
    {BIN_FLOORDIV, "-7", "2", "-4"},
    {BIN_FLOORDIV, "7", "-2", "-4"},
    {BIN_MOD, "-7", "2", "1"},
    {BIN_MOD, "7", "-2", "-1"},
    {BIN_FLOORDIV, "-7", "-2", "3"},
    {BIN_MOD, "-7", "-2", "-1"},
    {BIN_FLOORDIV, "-1000000000000000000000000000000", "7", "-142857142857142857142857142858"},
    {BIN_MOD, "-1000000000000000000000000000000", "7", "6"},
    {BIN_FLOORDIV, "1000000000000000000000000000000", "-7", "-142857142857142857142857142858"},
    {BIN_MOD, "1000000000000000000000000000000", "-7", "-6"},
    {BIN_FLOORDIV, "-18446744073709551616", "4294967296", "-4294967296"},
    {BIN_MOD, "18446744073709551617", "-4294967296", "-4294967295"},
    {BIN_FLOORDIV, "100000000000000000000000000000000000000000000000000", "10000000000000000000000003", "9999999999999999999999997"},
    {BIN_MOD, "-100000000000000000000000000000000000000000000000000", "10000000000000000000000003", "9999999999999999999999994"},
    {BIN_FLOORDIV, "9223372036854775808", "-1", "-9223372036854775808"},
    {BIN_MOD, "-9223372036854775808", "-1", "0"},
    {BIN_FLOORDIV, "5", "1000000000000000000000000000000", "0"},
    {BIN_FLOORDIV, "-5", "1000000000000000000000000000000", "-1"},
    {BIN_MOD, "-5", "1000000000000000000000000000000", "999999999999999999999999999995"},
    {BIN_POW, "2", "100", "1267650600228229401496703205376"},
    {BIN_POW, "-3", "41", "-36472996377170786403"},
    {BIN_POW, "0", "0", "1"},
    {BIN_POW, "10", "30", "1000000000000000000000000000000"},
    {BIN_POW, "-2", "63", "-9223372036854775808"},
    {BIN_POW, "2", "47", "140737488355328"},
    {BIN_POW, "-2", "47", "-140737488355328"},
    {BIN_POW, "7", "0", "1"},
    {BIN_POW, "-1", "1180591620717411303425", "-1"},
    {BIN_POW, "1", "1267650600228229401496703205376", "1"},
    {BIN_POW, "0", "1267650600228229401496703205376", "0"},
    {BIN_POW, "18446744073709551616", "3", "6277101735386680763835789423207666416102355444464034512896"},
    {BIN_LSHIFT, "1", "100", "1267650600228229401496703205376"},
    {BIN_LSHIFT, "-1", "100", "-1267650600228229401496703205376"},
    {BIN_LSHIFT, "3", "46", "211106232532992"},
    {BIN_LSHIFT, "3", "47", "422212465065984"},
    {BIN_LSHIFT, "-5", "63", "-46116860184273879040"},
    {BIN_LSHIFT, "1267650600228229401496703205376", "64", "23384026197294446691258957323460528314494920687616"},
    {BIN_RSHIFT, "-1267650600228229401496703205376", "99", "-2"},
    {BIN_RSHIFT, "-1267650600228229401496703205377", "100", "-2"},
    {BIN_RSHIFT, "1606938044258990275541962092341162602522202993782792835301376", "300", "0"},
    {BIN_RSHIFT, "-1606938044258990275541962092341162602522202993782792835301376", "300", "-1"},
    {BIN_RSHIFT, "-1", "5", "-1"},
    {BIN_RSHIFT, "-18446744073709551616", "1", "-9223372036854775808"},
    {BIN_RSHIFT, "18446744073709551619", "64", "1"},
    {BIN_RSHIFT, "-340282366920938463463374607431768211457", "64", "-18446744073709551617"},
    {BIN_AND, "-1180591620717411303424", "1180591620717411303429", "1180591620717411303424"},
    {BIN_OR, "-1180591620717411303424", "3", "-1180591620717411303421"},
    {BIN_XOR, "-36893488147419103232", "-1", "36893488147419103231"},
    {BIN_AND, "-1", "1267650600228229401496703205383", "1267650600228229401496703205383"},
    {BIN_XOR, "18446744073709551616", "18446744073709551617", "1"},
    {BIN_OR, "-18446744073709551617", "18446744073709551616", "-1"},
    {BIN_AND, "-1000000000000000000000000000000", "-10000000000000000000000000", "-1000000307047208028401167237120"},
    {BIN_XOR, "-140737488355328", "140737488355327", "-1"},
    {BIN_AND, "-5", "3", "3"},
    {BIN_OR, "-8", "5", "-3"},
};
static const UnCase un_cases[] = {
    {UN_NEG, "140737488355328", "-140737488355328"},
    {UN_NEG, "-140737488355328", "140737488355328"},
    {UN_NEG, "-9223372036854775808", "9223372036854775808"},
    {UN_NEG, "18446744073709551616", "-18446744073709551616"},
    {UN_INVERT, "18446744073709551616", "-18446744073709551617"},
    {UN_INVERT, "-18446744073709551616", "18446744073709551615"},
    {UN_INVERT, "140737488355327", "-140737488355328"},
    {UN_INVERT, "-140737488355328", "140737488355327"},
    {UN_INVERT, "-1267650600228229401496703205377", "1267650600228229401496703205376"},
    {UN_POS, "-1208925819614629174706176", "-1208925819614629174706176"},
    {UN_NEG, "0", "0"},
};
static const HashCase hash_cases[] = {
    {"0", INT64_C(0)},
    {"1", INT64_C(1)},
    {"-1", INT64_C(-2)},
    {"-2", INT64_C(-2)},
    {"140737488355327", INT64_C(140737488355327)},
    {"-140737488355328", INT64_C(-140737488355328)},
    {"2305843009213693950", INT64_C(2305843009213693950)},
    {"2305843009213693951", INT64_C(0)},
    {"2305843009213693952", INT64_C(1)},
    {"-2305843009213693952", INT64_C(-2)},
    {"-2305843009213693951", INT64_C(0)},
    {"18446744073709551616", INT64_C(8)},
    {"-18446744073709551616", INT64_C(-8)},
    {"1000000000000000000000000000000", INT64_C(465258685558744706)},
    {"-1000000000000000000000000000000", INT64_C(-465258685558744706)},
    {"1606938044258990275541962092341162602522202993782792835301377", INT64_C(131073)},
    {"9223372036854775807", INT64_C(3)},
};

static Interp *interp;
static TState *ts;

static int setup(void **state) {
    (void)state;
    interp = interp_new(GIL_DESIGN_MINI);
    ts = interp->main_thread;
    return interp ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    interp_free(interp);
    return 0;
}

/* An int from decimal text (or 0x... hex, for values past the decimal
 * conversion limit). */
static Value num(const char *text) {
    ObjStr *s = str_from_cstr(ts, text);
    assert_non_null(s);
    Value v = int_new_value(ts, OBJ_VAL(s), INT_VAL(0));
    assert_false(IS_ERROR(v));
    return v;
}

/* A result must be canonical: unboxed exactly when it fits 48 bits. */
static void assert_canonical(Value v) {
    assert_true(IS_INT(v) || IS_BIGINT(v));
    if (IS_BIGINT(v)) {
        int64_t i;
        assert_false(int_to_i64(v, &i) && SMALL_INT_FITS(i));
    }
}

static void assert_int_equals(Value v, const char *expected) {
    assert_false(IS_ERROR(v));
    assert_canonical(v);
    ObjStr *s = int_to_str(ts, v, 10, false);
    assert_non_null(s);
    if (strcmp(s->data, expected) != 0) fail_msg("got %s, expected %s", s->data, expected);
}

static void assert_raised(Value v, ObjType *type, const char *message) {
    assert_true(IS_ERROR(v));
    assert_true(err_matches(ts, type));
    ObjStr *m = err_message(ts, ts->exc);
    assert_non_null(m);
    assert_string_equal(m->data, message);
    err_clear(ts);
}

static void assert_float_equals(Value v, double expected) {
    assert_false(IS_ERROR(v));
    assert_true(IS_FLOAT(v));
    assert_memory_equal(&(double){AS_FLOAT(v)}, &expected, sizeof expected);
}

static void test_binary_ops(void **state) {
    (void)state;
    for (size_t i = 0; i < N(bin_cases); i++) {
        const BinCase *c = &bin_cases[i];
        Value r = int_binop(ts, c->op, num(c->a), num(c->b));
        if (IS_ERROR(r)) fail_msg("case %zu raised", i);
        assert_int_equals(r, c->result);
    }
}

static void test_unary_ops(void **state) {
    (void)state;
    for (size_t i = 0; i < N(un_cases); i++)
        assert_int_equals(int_unop(ts, un_cases[i].op, num(un_cases[i].a)), un_cases[i].result);
}

static void test_normalization(void **state) {
    (void)state;
    /* Results that shrink back into the small range come back unboxed. */
    Value big = num("1267650600228229401496703205376"); /* 2**100 */
    assert_true(IS_BIGINT(big));
    Value r = int_binop(ts, BIN_SUB, big, num("1267650600228229401496703205371"));
    assert_true(IS_INT(r));
    assert_int_equal(AS_INT(r), 5);
    r = int_binop(ts, BIN_MUL, big, INT_VAL(0));
    assert_true(IS_INT(r) && AS_INT(r) == 0);
    r = int_binop(ts, BIN_RSHIFT, big, INT_VAL(90));
    assert_true(IS_INT(r) && AS_INT(r) == 1024);
    r = int_binop(ts, BIN_FLOORDIV, big, num("633825300114114700748351602688")); /* 2**99 */
    assert_true(IS_INT(r) && AS_INT(r) == 2);
    /* The ends of the small range. */
    r = int_binop(ts, BIN_ADD, INT_VAL(SMALL_INT_MAX), INT_VAL(1));
    assert_true(IS_BIGINT(r));
    r = int_binop(ts, BIN_SUB, r, INT_VAL(1));
    assert_true(IS_INT(r) && AS_INT(r) == SMALL_INT_MAX);
    r = int_unop(ts, UN_NEG, INT_VAL(SMALL_INT_MIN));
    assert_true(IS_BIGINT(r));
    r = int_unop(ts, UN_NEG, r);
    assert_true(IS_INT(r) && AS_INT(r) == SMALL_INT_MIN);
    assert_true(IS_INT(int_from_i64(ts, SMALL_INT_MIN)));
    assert_true(IS_BIGINT(int_from_i64(ts, SMALL_INT_MIN - 1)));
    assert_true(IS_BIGINT(int_from_u64(ts, UINT64_MAX)));
    assert_int_equals(int_from_i64(ts, INT64_MIN), "-9223372036854775808");
    assert_int_equals(int_from_u64(ts, UINT64_MAX), "18446744073709551615");
}

static void test_bools(void **state) {
    (void)state;
    Value r = int_binop(ts, BIN_ADD, TRUE_VAL, TRUE_VAL);
    assert_true(IS_INT(r) && AS_INT(r) == 2);
    assert_true(int_binop(ts, BIN_AND, TRUE_VAL, TRUE_VAL) == TRUE_VAL);
    assert_true(int_binop(ts, BIN_OR, FALSE_VAL, FALSE_VAL) == FALSE_VAL);
    assert_true(int_binop(ts, BIN_XOR, TRUE_VAL, FALSE_VAL) == TRUE_VAL);
    r = int_binop(ts, BIN_AND, TRUE_VAL, INT_VAL(3));
    assert_true(IS_INT(r) && AS_INT(r) == 1);
    r = int_unop(ts, UN_INVERT, TRUE_VAL);
    assert_true(IS_INT(r) && AS_INT(r) == -2);
    assert_float_equals(int_binop(ts, BIN_TRUEDIV, TRUE_VAL, INT_VAL(2)), 0.5);
    assert_int_equal(int_hash(TRUE_VAL), 1);
    assert_int_equal(int_compare(TRUE_VAL, INT_VAL(1)), 0);
}

static void test_true_division(void **state) {
    (void)state;
    assert_float_equals(int_binop(ts, BIN_TRUEDIV, num("1000000000000000000000000000000"),
                                  num("10000000000")), 1e20);
    assert_float_equals(int_binop(ts, BIN_TRUEDIV, INT_VAL(1), INT_VAL(3)), 1.0 / 3.0);
    assert_float_equals(int_binop(ts, BIN_TRUEDIV, INT_VAL(-7), INT_VAL(2)), -3.5);
    /* Correct rounding: 2**53 + 1 is a tie, rounded to even. */
    assert_float_equals(int_binop(ts, BIN_TRUEDIV, num("9007199254740993"), INT_VAL(1)), 9007199254740992.0);
    assert_float_equals(int_binop(ts, BIN_TRUEDIV, num("9007199254740995"), INT_VAL(1)), 9007199254740996.0);
    /* Subnormal results: 1 / 2**1074 and 3 / 2**1075 (a tie, to even). */
    Value p1074 = int_binop(ts, BIN_LSHIFT, INT_VAL(1), INT_VAL(1074));
    Value p1075 = int_binop(ts, BIN_LSHIFT, INT_VAL(1), INT_VAL(1075));
    assert_float_equals(int_binop(ts, BIN_TRUEDIV, INT_VAL(1), p1074), 5e-324);
    assert_float_equals(int_binop(ts, BIN_TRUEDIV, INT_VAL(3), p1075), 1e-323);
    assert_float_equals(int_binop(ts, BIN_TRUEDIV, INT_VAL(0), INT_VAL(-5)), -0.0);
    Value huge = int_binop(ts, BIN_POW, INT_VAL(10), INT_VAL(400));
    assert_raised(int_binop(ts, BIN_TRUEDIV, huge, INT_VAL(1)), interp->exc.OverflowError,
                  "integer division result too large for a float");
    assert_float_equals(int_binop(ts, BIN_TRUEDIV, INT_VAL(1), huge), 0.0);
    assert_float_equals(int_binop(ts, BIN_TRUEDIV, huge, int_binop(ts, BIN_POW, INT_VAL(10), INT_VAL(399))), 10.0);
}

static void test_errors(void **state) {
    (void)state;
    ExcTypes *exc = &interp->exc;
    assert_raised(int_binop(ts, BIN_TRUEDIV, INT_VAL(1), INT_VAL(0)), exc->ZeroDivisionError, "division by zero");
    assert_raised(int_binop(ts, BIN_FLOORDIV, INT_VAL(1), INT_VAL(0)), exc->ZeroDivisionError,
                  "integer division or modulo by zero");
    assert_raised(int_binop(ts, BIN_MOD, INT_VAL(1), INT_VAL(0)), exc->ZeroDivisionError,
                  "integer modulo by zero");
    assert_raised(int_binop(ts, BIN_MOD, num("100000000000000000000"), FALSE_VAL), exc->ZeroDivisionError,
                  "integer modulo by zero");
    assert_raised(int_divmod(ts, INT_VAL(1), INT_VAL(0)), exc->ZeroDivisionError,
                  "integer division or modulo by zero");
    assert_raised(int_binop(ts, BIN_POW, INT_VAL(0), INT_VAL(-1)), exc->ZeroDivisionError,
                  "0.0 cannot be raised to a negative power");
    assert_raised(int_binop(ts, BIN_LSHIFT, INT_VAL(1), INT_VAL(-1)), exc->ValueError, "negative shift count");
    assert_raised(int_binop(ts, BIN_RSHIFT, num("100000000000000000000"), INT_VAL(-3)), exc->ValueError,
                  "negative shift count");
    double d;
    Value huge = int_binop(ts, BIN_POW, INT_VAL(10), INT_VAL(400));
    assert_raised(int_to_float(ts, huge, &d), exc->OverflowError, "int too large to convert to float");
    assert_raised(int_from_double(ts, INFINITY), exc->OverflowError, "cannot convert float infinity to integer");
    assert_raised(int_from_double(ts, NAN), exc->ValueError, "cannot convert float NaN to integer");
    assert_raised(int_pow_mod(ts, INT_VAL(2), INT_VAL(-1), INT_VAL(4)), exc->ValueError,
                  "base is not invertible for the given modulus");
    assert_raised(int_pow_mod(ts, INT_VAL(2), INT_VAL(3), INT_VAL(0)), exc->ValueError,
                  "pow() 3rd argument cannot be 0");
    /* Non-int operands are for the other operand's type to handle. */
    assert_true(int_binop(ts, BIN_ADD, INT_VAL(1), FLOAT_VAL(1.5)) == NOT_IMPLEMENTED_VAL);
    assert_true(int_binop(ts, BIN_MATMUL, INT_VAL(1), INT_VAL(2)) == NOT_IMPLEMENTED_VAL);
}

static void test_negative_powers_and_modular(void **state) {
    (void)state;
    assert_float_equals(int_binop(ts, BIN_POW, INT_VAL(2), INT_VAL(-1)), 0.5);
    assert_float_equals(int_binop(ts, BIN_POW, INT_VAL(10), INT_VAL(-2)), 0.01);
    assert_float_equals(int_binop(ts, BIN_POW, INT_VAL(2), INT_VAL(-10000)), 0.0);
    assert_int_equals(int_pow_mod(ts, INT_VAL(3), INT_VAL(-1), INT_VAL(7)), "5");
    assert_int_equals(int_pow_mod(ts, INT_VAL(5), INT_VAL(3), INT_VAL(-7)), "-1");
    assert_int_equals(int_pow_mod(ts, num("123456789012345678901234567890"), num("98765432109876543210"),
                                  num("1000000000000000000000007")),
                      "512139344591361872278912");
}

static void test_compare(void **state) {
    (void)state;
    Value a = num("1267650600228229401496703205376"), b = num("-1267650600228229401496703205376");
    assert_int_equal(int_compare(a, b), 1);
    assert_int_equal(int_compare(b, a), -1);
    assert_int_equal(int_compare(a, num("1267650600228229401496703205376")), 0);
    assert_int_equal(int_compare(INT_VAL(-1), a), -1);
    assert_int_equal(int_compare(b, INT_VAL(SMALL_INT_MIN)), -1);
    /* Exact comparison with floats: 1e30 is 1000000000000000019884624838656. */
    Value e30 = num("1000000000000000000000000000000");
    assert_int_equal(float_compare_int(1e30, e30), 1);
    assert_int_equal(float_compare_int(1e30, num("1000000000000000019884624838656")), 0);
    assert_int_equal(float_compare_int(9007199254740992.0, num("9007199254740993")), -1);
    assert_int_equal(float_compare_int(INFINITY, int_binop(ts, BIN_POW, INT_VAL(10), INT_VAL(400))), 1);
    assert_int_equal(float_compare_int(-INFINITY, INT_VAL(0)), -1);
    assert_int_equal(float_compare_int(NAN, INT_VAL(0)), FLOAT_CMP_UNORDERED);
    assert_int_equal(float_compare_int(-0.5, INT_VAL(0)), -1);
}

static void test_hash(void **state) {
    (void)state;
    for (size_t i = 0; i < N(hash_cases); i++) {
        int64_t h = int_hash(num(hash_cases[i].a));
        if (h != hash_cases[i].hash)
            fail_msg("hash(%s) = %lld, expected %lld", hash_cases[i].a, (long long)h,
                     (long long)hash_cases[i].hash);
    }
    /* Integral floats hash as the equal int. */
    assert_int_equal(float_hash(1180591620717411303424.0), int_hash(num("1180591620717411303424")));
    assert_int_equal(float_hash(-1.0), -2);
    assert_int_equal(float_hash(1.5), INT64_C(1152921504606846977));
    assert_int_equal(float_hash(-0.5), INT64_C(-1152921504606846976));
    assert_int_equal(float_hash(1e100), INT64_C(1822893315824342674));
    assert_int_equal(float_hash(INFINITY), 314159);
}

static void assert_str(Value v, int base, bool prefix, const char *expected) {
    ObjStr *s = int_to_str(ts, v, base, prefix);
    assert_non_null(s);
    assert_string_equal(s->data, expected);
}

static void test_to_str(void **state) {
    (void)state;
    assert_str(INT_VAL(-255), 16, true, "-0xff");
    assert_str(INT_VAL(-5), 2, true, "-0b101");
    assert_str(num("18446744073709551616"), 8, true, "0o2000000000000000000000");
    assert_str(num("18446744073709551616"), 16, true, "0x10000000000000000");
    assert_str(num("-18446744073709551616"), 16, false, "-10000000000000000");
    assert_str(INT_VAL(0), 10, false, "0");
    assert_str(INT_VAL(SMALL_INT_MIN), 10, false, "-140737488355328");
    assert_str(num("-340282366920938463463374607431768211456"), 10, false,
               "-340282366920938463463374607431768211456");
    /* CPython 3.11's 4300-digit limit on decimal conversion. */
    Value limit = int_binop(ts, BIN_POW, INT_VAL(10), INT_VAL(4300));
    assert_null(int_to_str(ts, limit, 10, false));
    assert_true(err_matches(ts, interp->exc.ValueError));
    assert_string_equal(err_message(ts, ts->exc)->data,
                        "Exceeds the limit (4300 digits) for integer string conversion; "
                        "use sys.set_int_max_str_digits() to increase the limit");
    err_clear(ts);
    Value below = int_binop(ts, BIN_SUB, limit, INT_VAL(1)); /* 4300 nines */
    ObjStr *s = int_to_str(ts, int_unop(ts, UN_NEG, below), 10, false);
    assert_non_null(s);
    assert_int_equal(s->len, 4301);
    assert_non_null(int_to_str(ts, limit, 16, true)); /* no limit for hex */
}

static void test_from_text(void **state) {
    (void)state;
    assert_int_equals(int_from_literal(ts, "1_000_000", 9, 10), "1000000");
    assert_int_equals(int_from_literal(ts, "123456789012345678901234567890", 30, 10),
                      "123456789012345678901234567890");
    assert_int_equals(int_from_literal(ts, "18446744073709551616", 20, 10), "18446744073709551616");
    assert_int_equals(int_from_literal(ts, "ff_ff", 5, 16), "65535");
    assert_int_equals(int_from_literal(ts, "1_0000_0000_0000_0000", 21, 16), "18446744073709551616");
    assert_int_equals(int_from_literal(ts, "777", 3, 8), "511");
    assert_int_equals(int_from_literal(ts, "101", 3, 2), "5");
    ObjStr *text = str_from_cstr(ts, "  -0x_1f ");
    assert_int_equals(int_new_value(ts, OBJ_VAL(text), INT_VAL(0)), "-31");
    text = str_from_cstr(ts, "abc");
    assert_raised(int_new_value(ts, OBJ_VAL(text), EMPTY_VAL), interp->exc.ValueError,
                  "invalid literal for int() with base 10: 'abc'");
    assert_raised(int_new_value(ts, OBJ_VAL(text), INT_VAL(1)), interp->exc.ValueError,
                  "int() base must be >= 2 and <= 36, or 0");
    assert_raised(int_new_value(ts, FLOAT_VAL(1.5), INT_VAL(10)), interp->exc.TypeError,
                  "int() can't convert non-string with explicit base");
    assert_int_equals(int_new_value(ts, FLOAT_VAL(-2.9), EMPTY_VAL), "-2");
    assert_int_equals(int_new_value(ts, FLOAT_VAL(1e20), EMPTY_VAL), "100000000000000000000");
    assert_int_equals(int_new_value(ts, TRUE_VAL, EMPTY_VAL), "1");
}

static void test_to_float(void **state) {
    (void)state;
    double d;
    assert_false(IS_ERROR(int_to_float(ts, num("9007199254740993"), &d)));
    assert_true(d == 9007199254740992.0);
    assert_false(IS_ERROR(int_to_float(ts, num("9007199254740995"), &d)));
    assert_true(d == 9007199254740996.0);
    assert_false(IS_ERROR(int_to_float(ts, num("-18446744073709551615"), &d)));
    assert_true(d == -18446744073709551616.0);
    int64_t i;
    assert_true(int_to_i64(num("-9223372036854775808"), &i) && i == INT64_MIN);
    assert_true(int_to_i64(num("9223372036854775807"), &i) && i == INT64_MAX);
    assert_false(int_to_i64(num("9223372036854775808"), &i));
    assert_false(int_to_i64(num("-9223372036854775809"), &i));
}

static void test_round(void **state) {
    (void)state;
    assert_int_equals(int_round(ts, INT_VAL(12345), INT_VAL(-2)), "12300");
    assert_int_equals(int_round(ts, INT_VAL(25), INT_VAL(-1)), "20");
    assert_int_equals(int_round(ts, INT_VAL(35), INT_VAL(-1)), "40");
    assert_int_equals(int_round(ts, INT_VAL(-25), INT_VAL(-1)), "-20");
    assert_int_equals(int_round(ts, num("1000000000000000000005000000000"), INT_VAL(-10)),
                      "1000000000000000000000000000000");
    assert_int_equals(int_round(ts, INT_VAL(7), INT_VAL(-100)), "0");
    assert_int_equals(float_round(ts, 2.5, EMPTY_VAL), "2");
    assert_int_equals(float_round(ts, -3.5, NONE_VAL), "-4");
    assert_float_equals(float_round(ts, 2.675, INT_VAL(2)), 2.67);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary_ops),
        cmocka_unit_test(test_unary_ops),
        cmocka_unit_test(test_normalization),
        cmocka_unit_test(test_bools),
        cmocka_unit_test(test_true_division),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_negative_powers_and_modular),
        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_to_str),
        cmocka_unit_test(test_from_text),
        cmocka_unit_test(test_to_float),
        cmocka_unit_test(test_round),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
