#ifndef MINI_RUNTIME_INT_H
#define MINI_RUNTIME_INT_H

/* int: arbitrary precision. Values in the 48-bit small range are unboxed
 * (runtime/value.h); larger ones are heap objects whose limbs are stored
 * inline and worked on with GMP's mpn layer, so a big result costs one
 * allocation. Every operation returns the canonical form: a result that fits
 * the small range is always unboxed. bool is a subclass of int. */

#include <gmp.h>
#include <stdbool.h>

#include "runtime/object.h"

typedef struct ObjInt {
    Obj obj;
    int32_t size;       /* number of limbs, negative for negative values */
    mp_limb_t limbs[];  /* magnitude, little-endian, no high zero limbs */
} ObjInt;

#define IS_BIGINT(v) IS_KIND(v, OBJ_INT)
#define AS_BIGINT(v) ((ObjInt *)AS_OBJ(v))
/* small int, big int or bool */
#define IS_INTLIKE(v) (IS_INT(v) || IS_BOOL(v) || IS_BIGINT(v))

Value int_from_i64(TState *ts, int64_t i);
Value int_from_u64(TState *ts, uint64_t u);
Value int_from_mpz(TState *ts, const mpz_t z);
/* A read-only mpz view of any int-like value (small, big or bool); `tmp`
 * provides storage for the small case. Don't mpz_clear it. */
void int_as_mpz(Value v, mpz_t view, mp_limb_t tmp[2]);
/* The value as int64; false (no exception) if it does not fit. */
bool int_to_i64(Value v, int64_t *out);
/* Python's conversion: OverflowError "int too large to convert to float". */
Value int_to_float(TState *ts, Value v, double *out);
/* int from a literal's digits (grammar keeps int literals as text). */
Value int_from_literal(TState *ts, const char *digits, size_t len, int base);

/* Arithmetic on two int-likes with Python's semantics (floor division and
 * modulo round towards minus infinity; ZeroDivisionError; negative shift
 * ValueError; ** with a negative exponent gives a float). */
Value int_binop(TState *ts, BinOp op, Value a, Value b);
Value int_unop(TState *ts, UnOp op, Value a);
int int_compare(Value a, Value b); /* -1, 0, 1 */
int64_t int_hash(Value v);         /* Python's: modulo 2**61 - 1 */
/* str(i) in a base (10, 16, 8, 2), Python's prefixes when `prefix`.
 * Base 10 refuses more than 4300 digits (ValueError), as CPython 3.11's
 * default int_max_str_digits. NULL after raising. */
struct ObjStr *int_to_str(TState *ts, Value v, int base, bool prefix);

/* Whether a three-way comparison result (-1, 0, 1) satisfies `op`. */
static inline bool int_cmp_holds(int cmp, CmpOp op) {
    switch (op) {
    case CMP_LT: return cmp < 0;
    case CMP_LE: return cmp <= 0;
    case CMP_EQ: return cmp == 0;
    case CMP_NE: return cmp != 0;
    case CMP_GT: return cmp > 0;
    default: return cmp >= 0;
    }
}

/* int(d) for a float: truncates; OverflowError for infinities, ValueError
 * for NaN, as CPython words them. */
Value int_from_double(TState *ts, double d);
/* abs(i), divmod(a, b) as a tuple (NOT_IMPLEMENTED_VAL unless both are
 * int-likes), pow(base, exp, mod) (TypeError unless all three are
 * int-likes; a negative exponent takes the modular inverse). */
Value int_abs(TState *ts, Value v);
Value int_divmod(TState *ts, Value a, Value b);
Value int_pow_mod(TState *ts, Value base, Value exp, Value mod);
/* round(i, ndigits): ndigits EMPTY_VAL or None gives i; negative ndigits
 * round half to even at that decimal position. */
Value int_round(TState *ts, Value v, Value ndigits);
/* format(i, spec) (int.__format__; the empty spec gives str(i)). */
Value int_format(TState *ts, Value v, struct ObjStr *spec);
/* operator.index(v) as a plain int: int-likes, or a user class's
 * __index__; TypeError "'X' object cannot be interpreted as an integer". */
Value int_index(TState *ts, Value v);
/* int(x) / int(x, base), base EMPTY_VAL when not given (x EMPTY_VAL: int()). */
Value int_new_value(TState *ts, Value x, Value base);

extern const struct TypeSpec int_type_spec;
extern const struct TypeSpec bool_type_spec;

#endif
