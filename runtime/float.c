#include "runtime/float.h"

#include <float.h>
#include <gmp.h>
#include <math.h>

#include "runtime/args.h"
#include "runtime/buffer.h"
#include "runtime/bytes.h"
#include "runtime/complex.h"
#include "runtime/error.h"
#include "runtime/int.h"
#include "runtime/numfmt.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/strbuf.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/vm.h"

/* CPython's numeric hash: reduction modulo the Mersenne prime 2**61 - 1,
 * so equal ints and floats hash alike. */
#define HASH_BITS 61
#define HASH_MODULUS (((uint64_t)1 << HASH_BITS) - 1)
#define HASH_INF 314159

/* Beyond this many decimal places round() no longer changes a double
 * (numfmt_round_double saturates at about 400); clamping keeps the count
 * an int. */
#define ROUND_NDIGITS_CLAMP 10000

/* Calls type(v).<name>(v) if the type defines it: EMPTY_VAL when absent. */
static Value call_special(TState *ts, Value v, ObjStr *name) {
    Value fn = type_lookup(val_type(ts, v), name);
    if (IS_EMPTY(fn)) return EMPTY_VAL;
    return vm_call_method(ts, fn, v, NULL, 0, NULL);
}

static inline bool is_number(Value v) { return IS_FLOATLIKE(v) || IS_INTLIKE(v); }

/* A float or int-like operand as a double; false after raising
 * OverflowError for an int too large. */
static bool operand_double(TState *ts, Value v, double *out) {
    if (IS_FLOATLIKE(v)) {
        *out = float_value(v);
        return true;
    }
    return !IS_ERROR(int_to_float(ts, v, out));
}

/* ---- arithmetic -------------------------------------------------------- */

/* CPython's _float_div_mod: the remainder takes the divisor's sign and the
 * quotient is corrected so that q * w + r stays as close to v as doubles
 * allow. w must not be zero. */
static void float_div_mod(double v, double w, double *floordiv, double *mod) {
    double m = fmod(v, w);
    double div = (v - m) / w;
    if (m != 0.0) {
        if ((w < 0) != (m < 0)) {
            m += w;
            div -= 1.0;
        }
    } else {
        m = copysign(0.0, w);
    }
    double q;
    if (div != 0.0) {
        q = floor(div);
        if (div - q > 0.5) q += 1.0;
    } else {
        q = copysign(0.0, v / w);
    }
    *floordiv = q;
    *mod = m;
}

static double float_rem(double v, double w) {
    double m = fmod(v, w);
    if (m != 0.0) {
        if ((w < 0) != (m < 0)) m += w;
    } else {
        m = copysign(0.0, w);
    }
    return m;
}

static bool is_odd_integer(double x) { return fmod(fabs(x), 2.0) == 1.0; }

/* CPython's float_pow, special cases included. A negative base with a
 * non-integral exponent has a complex result in Python; mini has no
 * complex type and raises ValueError instead. */
static Value float_pow(TState *ts, double v, double w) {
    if (w == 0.0) return FLOAT_VAL(1.0);
    if (isnan(v)) return FLOAT_VAL(v);
    if (isnan(w)) return FLOAT_VAL(v == 1.0 ? 1.0 : w);
    if (isinf(w)) {
        v = fabs(v);
        if (v == 1.0) return FLOAT_VAL(1.0);
        if ((w > 0.0) == (v > 1.0)) return FLOAT_VAL(fabs(w));
        return FLOAT_VAL(0.0);
    }
    if (isinf(v)) {
        bool odd = is_odd_integer(w);
        if (w > 0.0) return FLOAT_VAL(odd ? v : fabs(v));
        return FLOAT_VAL(odd ? copysign(0.0, v) : 0.0);
    }
    if (v == 0.0) {
        if (w < 0.0)
            return err_format(ts, ts->interp->exc.ZeroDivisionError,
                              "0.0 cannot be raised to a negative power");
        return FLOAT_VAL(is_odd_integer(w) ? v : 0.0);
    }
    bool negate = false;
    if (v < 0.0) {
        /* As CPython: a complex result. */
        if (w != floor(w)) return complex_pow_values(ts, v, 0.0, w, 0.0);
        v = -v;
        negate = is_odd_integer(w);
    }
    if (v == 1.0) return FLOAT_VAL(negate ? -1.0 : 1.0);
    double r = pow(v, w);
    /* Both operands are finite here, so an infinite result is an overflow
     * (an underflow to zero is not an error). */
    if (isinf(r))
        return err_format(ts, ts->interp->exc.OverflowError, "(34, 'Numerical result out of range')");
    return FLOAT_VAL(negate ? -r : r);
}

Value float_binop(TState *ts, BinOp op, Value a, Value b) {
    if (op > BIN_POW || !is_number(a) || !is_number(b) || (!IS_FLOATLIKE(a) && !IS_FLOATLIKE(b)))
        return NOT_IMPLEMENTED_VAL;
    double x, y;
    if (!operand_double(ts, a, &x) || !operand_double(ts, b, &y)) return ERROR_VAL;
    ObjType *zero_div = ts->interp->exc.ZeroDivisionError;
    double q, r;
    switch (op) {
    case BIN_ADD: return FLOAT_VAL(x + y);
    case BIN_SUB: return FLOAT_VAL(x - y);
    case BIN_MUL: return FLOAT_VAL(x * y);
    case BIN_TRUEDIV:
        if (y == 0.0) return err_format(ts, zero_div, "float division by zero");
        return FLOAT_VAL(x / y);
    case BIN_FLOORDIV:
        if (y == 0.0) return err_format(ts, zero_div, "float floor division by zero");
        float_div_mod(x, y, &q, &r);
        return FLOAT_VAL(q);
    case BIN_MOD:
        if (y == 0.0) return err_format(ts, zero_div, "float modulo");
        return FLOAT_VAL(float_rem(x, y));
    case BIN_POW: return float_pow(ts, x, y);
    default: return NOT_IMPLEMENTED_VAL;
    }
}

Value float_divmod(TState *ts, Value a, Value b) {
    if (!is_number(a) || !is_number(b) || (!IS_FLOATLIKE(a) && !IS_FLOATLIKE(b))) return NOT_IMPLEMENTED_VAL;
    double x, y, q, r;
    if (!operand_double(ts, a, &x) || !operand_double(ts, b, &y)) return ERROR_VAL;
    if (y == 0.0) return err_format(ts, ts->interp->exc.ZeroDivisionError, "float divmod()");
    float_div_mod(x, y, &q, &r);
    ObjTuple *t = tuple_pack2(ts, FLOAT_VAL(q), FLOAT_VAL(r));
    return t ? OBJ_VAL(t) : ERROR_VAL;
}

Value float_unop(TState *ts, UnOp op, Value a) {
    (void)ts;
    if (!IS_FLOATLIKE(a)) return NOT_IMPLEMENTED_VAL;
    switch (op) {
    case UN_NEG: return FLOAT_VAL(-float_value(a));
    case UN_POS: return FLOAT_VAL(float_value(a));
    default: return NOT_IMPLEMENTED_VAL;
    }
}

/* ---- hashing and comparison --------------------------------------------- */

/* CPython's _Py_HashDouble: the value modulo 2**61 - 1, computed 28 bits
 * of mantissa at a time, so an integral float hashes as the equal int.
 * NaN hashes to 0 (CPython uses the object's identity; mini's NaNs are
 * unboxed). */
int64_t float_hash(double v) {
    if (!isfinite(v)) {
        if (isinf(v)) return v > 0 ? HASH_INF : -HASH_INF;
        return 0;
    }
    int e;
    double m = frexp(v, &e);
    uint64_t sign = 1;
    if (m < 0) {
        sign = (uint64_t)-1;
        m = -m;
    }
    uint64_t x = 0;
    while (m != 0.0) {
        x = ((x << 28) & HASH_MODULUS) | x >> (HASH_BITS - 28);
        m *= 268435456.0; /* 2**28 */
        e -= 28;
        uint64_t y = (uint64_t)m;
        m -= (double)y;
        x += y;
        if (x >= HASH_MODULUS) x -= HASH_MODULUS;
    }
    e = e >= 0 ? e % HASH_BITS : HASH_BITS - 1 - ((-1 - e) % HASH_BITS);
    x = ((x << e) & HASH_MODULUS) | x >> (HASH_BITS - e);
    x *= sign;
    if (x == (uint64_t)-1) x = (uint64_t)-2;
    return (int64_t)x;
}

int float_compare_int(double d, Value i) {
    if (isnan(d)) return FLOAT_CMP_UNORDERED;
    if (IS_INT(i) || IS_BOOL(i)) {
        double x = IS_INT(i) ? (double)AS_INT(i) : (double)(i == TRUE_VAL); /* exact: 48 bits */
        return (d > x) - (d < x);
    }
    mp_limb_t tmp[2];
    mpz_t z;
    int_as_mpz(i, z, tmp);
    int c = mpz_cmp_d(z, d); /* exact, infinities included */
    return (c < 0) - (c > 0);
}

static Value float_richcmp(TState *ts, Value a, Value b, CmpOp op) {
    (void)ts;
    if (!IS_FLOATLIKE(a)) return NOT_IMPLEMENTED_VAL;
    double x = float_value(a);
    if (IS_FLOATLIKE(b)) {
        double y = float_value(b);
        switch (op) {
        case CMP_LT: return BOOL_VAL(x < y);
        case CMP_LE: return BOOL_VAL(x <= y);
        case CMP_EQ: return BOOL_VAL(x == y);
        case CMP_NE: return BOOL_VAL(x != y);
        case CMP_GT: return BOOL_VAL(x > y);
        default: return BOOL_VAL(x >= y);
        }
    }
    if (!IS_INTLIKE(b)) return NOT_IMPLEMENTED_VAL;
    int c = float_compare_int(x, b);
    if (c == FLOAT_CMP_UNORDERED) return BOOL_VAL(op == CMP_NE);
    return BOOL_VAL(int_cmp_holds(c, op));
}

/* ---- conversions -------------------------------------------------------- */

Value float_repr_value(TState *ts, double x) {
    char buf[NUMFMT_REPR_BUFSIZE];
    size_t n = numfmt_float_repr(x, buf);
    ObjStr *s = str_new(ts, buf, n);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

Value float_round(TState *ts, double x, Value ndigits) {
    if (IS_EMPTY(ndigits) || IS_NONE(ndigits)) {
        double r = round(x);
        if (fabs(x - r) == 0.5) r = 2.0 * round(x / 2.0); /* half to even */
        return int_from_double(ts, r);
    }
    int64_t n;
    if (IS_BIGINT(ndigits) && !int_to_i64(ndigits, &n)) {
        /* CPython clamps ndigits to the index range. */
        n = AS_BIGINT(ndigits)->size > 0 ? INT64_MAX : INT64_MIN;
    } else if (!args_int(ts, ndigits, &n)) {
        return ERROR_VAL;
    }
    if (n > ROUND_NDIGITS_CLAMP) n = ROUND_NDIGITS_CLAMP;
    if (n < -ROUND_NDIGITS_CLAMP) n = -ROUND_NDIGITS_CLAMP;
    double r;
    if (!numfmt_round_double(x, (int)n, &r))
        return err_format(ts, ts->interp->exc.OverflowError, "rounded value too large to represent");
    return FLOAT_VAL(r);
}

static Value raise_numfmt(TState *ts, const char *err) {
    switch (numfmt_error_kind(err)) {
    case NUMFMT_MEMORY_ERROR: return err_no_memory(ts);
    case NUMFMT_OVERFLOW_ERROR: return err_set_str(ts, ts->interp->exc.OverflowError, err);
    default: return err_set_str(ts, ts->interp->exc.ValueError, err);
    }
}

Value float_format(TState *ts, double x, ObjStr *spec) {
    if (spec->len == 0) return float_repr_value(ts, x);
    FormatSpec fs;
    char err[NUMFMT_ERRLEN];
    if (!numfmt_parse_spec(spec->data, spec->len, &fs, err, sizeof err)) return raise_numfmt(ts, err);
    StrBuf sb;
    sb_init(&sb);
    if (!numfmt_format_float(&fs, x, "float", &sb, err, sizeof err)) {
        sb_free(&sb);
        return raise_numfmt(ts, err);
    }
    ObjStr *s = str_from_sb(ts, &sb);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

/* A user object's __float__, else its __index__: 1 converted, 0 neither
 * defined, -1 raised. */
static int float_from_special(TState *ts, Value v, double *out) {
    if (!(val_type(ts, v)->flags & TYPEF_HEAPTYPE)) return 0;
    Interp *interp = ts->interp;
    Value r = call_special(ts, v, interp->names.float_);
    if (IS_ERROR(r)) return -1;
    if (!IS_EMPTY(r)) {
        if (IS_FLOAT(r)) {
            *out = AS_FLOAT(r);
            return 1;
        }
        err_format(ts, interp->exc.TypeError, "%s.__float__ returned non-float (type %s)",
                   ops_type_name(ts, v), ops_type_name(ts, r));
        return -1;
    }
    r = call_special(ts, v, interp->names.index);
    if (IS_ERROR(r)) return -1;
    if (IS_EMPTY(r)) return 0;
    if (!IS_INTLIKE(r)) {
        err_format(ts, interp->exc.TypeError, "__index__ returned non-int (type %s)",
                   ops_type_name(ts, r));
        return -1;
    }
    return IS_ERROR(int_to_float(ts, r, out)) ? -1 : 1;
}

bool float_coerce(TState *ts, Value v, double *out) {
    if (is_number(v)) return operand_double(ts, v, out);
    int r = float_from_special(ts, v, out);
    if (r == 0)
        err_format(ts, ts->interp->exc.TypeError, "must be real number, not %s", ops_type_name(ts, v));
    return r > 0;
}

static Value float_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    if (type != ts->interp->types.float_) {
        Value v = float_new(ts, ts->interp->types.float_, args, nargs, kwnames);
        if (IS_ERROR(v)) return v;
        ObjFloat *f = (ObjFloat *)gc_alloc(ts, sizeof(ObjFloat), OBJ_FLOAT, type);
        if (!f) return ERROR_VAL;
        f->value = AS_FLOAT(v);
        return OBJ_VAL(f);
    }
    if (!args_check(ts, "float", nargs, kwnames, 0, 1)) return ERROR_VAL;
    if (nargs == 0) return FLOAT_VAL(0.0);
    Value x = args[0];
    double d;
    if (IS_FLOATLIKE(x)) return FLOAT_VAL(float_value(x));
    if (IS_INTLIKE(x)) return int_to_float(ts, x, &d);
    if (IS_STR(x)) {
        char err[NUMFMT_ERRLEN];
        if (!numfmt_parse_float(AS_STR(x)->data, AS_STR(x)->len, &d, err, sizeof err))
            return raise_numfmt(ts, err);
        return FLOAT_VAL(d);
    }
    if (buffer_check(ts, x) && (!IS_OBJ(x) || !(OBJ_TYPE(x)->flags & TYPEF_HEAPTYPE))) {
        /* float(b'1.5'): the bytes as ASCII text, quoted as bytes when bad. */
        Value b = bytes_from_buffer(ts, x);
        if (IS_ERROR(b)) return b;
        char err[NUMFMT_ERRLEN];
        if (numfmt_parse_float(AS_BYTES(b)->data, AS_BYTES(b)->len, &d, err, sizeof err)) return FLOAT_VAL(d);
        Value rep = ops_repr(ts, b);
        if (IS_ERROR(rep)) return rep;
        return err_format(ts, ts->interp->exc.ValueError, "could not convert string to float: %s", AS_STR(rep)->data);
    }
    int r = float_from_special(ts, x, &d);
    if (r > 0) return FLOAT_VAL(d);
    if (r < 0) return ERROR_VAL;
    return err_format(ts, ts->interp->exc.TypeError,
                      "float() argument must be a string or a real number, not '%s'",
                      ops_type_name(ts, x));
}

/* ---- slots -------------------------------------------------------------- */

static Value float_repr(TState *ts, Value self) { return float_repr_value(ts, float_value(self)); }

static int float_hash_slot(TState *ts, Value self, int64_t *out) {
    (void)ts;
    *out = float_hash(float_value(self));
    return 0;
}

static int float_truth(TState *ts, Value self) {
    (void)ts;
    return float_value(self) != 0.0;
}

/* ---- methods ------------------------------------------------------------ */

/* Checks a method's argument count (self included) and that self is a
 * float, as CPython's method descriptors do. */
static bool float_method_args(TState *ts, const char *name, Value *args, int nargs, ObjTuple *kwnames,
                              int min, int max) {
    if (!args_check(ts, name, nargs, kwnames, min, max)) return false;
    if (IS_FLOATLIKE(args[0])) return true;
    err_format(ts, ts->interp->exc.TypeError,
               "descriptor '%s' for 'float' objects doesn't apply to a '%s' object", name,
               ops_type_name(ts, args[0]));
    return false;
}

static Value float_dunder_binop(TState *ts, const char *name, BinOp op, bool reflected, Value *args,
                                int nargs, ObjTuple *kwnames) {
    if (!float_method_args(ts, name, args, nargs, kwnames, 2, 2)) return ERROR_VAL;
    return reflected ? float_binop(ts, op, args[1], args[0]) : float_binop(ts, op, args[0], args[1]);
}

#define FLOAT_BINOP_METHODS(op, fwd, refl)                                                      \
    static Value float_m_##fwd(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {        \
        return float_dunder_binop(ts, "__" #fwd "__", op, false, args, nargs, kwnames);        \
    }                                                                                          \
    static Value float_m_##refl(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {       \
        return float_dunder_binop(ts, "__" #refl "__", op, true, args, nargs, kwnames);        \
    }
FLOAT_BINOP_METHODS(BIN_ADD, add, radd)
FLOAT_BINOP_METHODS(BIN_SUB, sub, rsub)
FLOAT_BINOP_METHODS(BIN_MUL, mul, rmul)
FLOAT_BINOP_METHODS(BIN_TRUEDIV, truediv, rtruediv)
FLOAT_BINOP_METHODS(BIN_FLOORDIV, floordiv, rfloordiv)
FLOAT_BINOP_METHODS(BIN_MOD, mod, rmod)
#undef FLOAT_BINOP_METHODS

/* float.__pow__(x, y, mod): a modulus is only allowed for ints. */
static Value float_pow_dunder(TState *ts, const char *name, bool reflected, Value *args, int nargs,
                              ObjTuple *kwnames) {
    if (!float_method_args(ts, name, args, nargs, kwnames, 2, 3)) return ERROR_VAL;
    if (nargs == 3 && !IS_NONE(args[2]))
        return err_format(ts, ts->interp->exc.TypeError,
                          "pow() 3rd argument not allowed unless all arguments are integers");
    return reflected ? float_binop(ts, BIN_POW, args[1], args[0])
                     : float_binop(ts, BIN_POW, args[0], args[1]);
}

static Value float_m_pow(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return float_pow_dunder(ts, "__pow__", false, args, nargs, kwnames);
}

static Value float_m_rpow(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return float_pow_dunder(ts, "__rpow__", true, args, nargs, kwnames);
}

static Value float_m_divmod(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!float_method_args(ts, "__divmod__", args, nargs, kwnames, 2, 2)) return ERROR_VAL;
    return float_divmod(ts, args[0], args[1]);
}

static Value float_m_rdivmod(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!float_method_args(ts, "__rdivmod__", args, nargs, kwnames, 2, 2)) return ERROR_VAL;
    return float_divmod(ts, args[1], args[0]);
}

static Value float_dunder_cmp(TState *ts, const char *name, CmpOp op, Value *args, int nargs,
                              ObjTuple *kwnames) {
    if (!float_method_args(ts, name, args, nargs, kwnames, 2, 2)) return ERROR_VAL;
    return float_richcmp(ts, args[0], args[1], op);
}

#define FLOAT_CMP_METHOD(op, name)                                                          \
    static Value float_m_##name(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {   \
        return float_dunder_cmp(ts, "__" #name "__", op, args, nargs, kwnames);             \
    }
FLOAT_CMP_METHOD(CMP_EQ, eq)
FLOAT_CMP_METHOD(CMP_NE, ne)
FLOAT_CMP_METHOD(CMP_LT, lt)
FLOAT_CMP_METHOD(CMP_LE, le)
FLOAT_CMP_METHOD(CMP_GT, gt)
FLOAT_CMP_METHOD(CMP_GE, ge)
#undef FLOAT_CMP_METHOD

/* Checks a method that takes only self and binds self's value to x. */
#define FLOAT_SELF(name)                                                                   \
    if (!float_method_args(ts, name, args, nargs, kwnames, 1, 1)) return ERROR_VAL;       \
    double x = float_value(args[0])

static Value float_m_neg(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    FLOAT_SELF("__neg__");
    return FLOAT_VAL(-x);
}

static Value float_m_pos(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    FLOAT_SELF("__pos__");
    return FLOAT_VAL(x);
}

static Value float_m_abs(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    FLOAT_SELF("__abs__");
    return FLOAT_VAL(fabs(x));
}

static Value float_m_bool(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    FLOAT_SELF("__bool__");
    return BOOL_VAL(x != 0.0);
}

static Value float_m_trunc(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    FLOAT_SELF("__trunc__");
    return int_from_double(ts, x);
}

static Value float_m_floor(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    FLOAT_SELF("__floor__");
    return int_from_double(ts, floor(x));
}

static Value float_m_ceil(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    FLOAT_SELF("__ceil__");
    return int_from_double(ts, ceil(x));
}

/* __float__, conjugate and real: the value itself. */
static Value float_m_self(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    FLOAT_SELF("__float__");
    return FLOAT_VAL(x);
}

static Value float_m_hash(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    FLOAT_SELF("__hash__");
    return int_from_i64(ts, float_hash(x));
}

static Value float_m_repr(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    FLOAT_SELF("__repr__");
    return float_repr_value(ts, x);
}

static Value float_m_is_integer(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    FLOAT_SELF("is_integer");
    return BOOL_VAL(isfinite(x) && floor(x) == x);
}

static Value float_m_round(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!float_method_args(ts, "__round__", args, nargs, kwnames, 1, 2)) return ERROR_VAL;
    return float_round(ts, float_value(args[0]), nargs > 1 ? args[1] : EMPTY_VAL);
}

static Value float_m_format(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!float_method_args(ts, "__format__", args, nargs, kwnames, 2, 2)) return ERROR_VAL;
    if (!IS_STR(args[1]))
        return err_format(ts, ts->interp->exc.TypeError, "__format__() argument must be str, not %s",
                          ops_type_name(ts, args[1]));
    return float_format(ts, float_value(args[0]), AS_STR(args[1]));
}

/* x == numerator / denominator exactly, in lowest terms (CPython's
 * float_as_integer_ratio: scale the mantissa up until it is integral). */
static Value float_m_as_integer_ratio(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    FLOAT_SELF("as_integer_ratio");
    Interp *interp = ts->interp;
    if (isinf(x))
        return err_format(ts, interp->exc.OverflowError, "cannot convert Infinity to integer ratio");
    if (isnan(x)) return err_format(ts, interp->exc.ValueError, "cannot convert NaN to integer ratio");
    int exponent;
    double m = frexp(x, &exponent);
    for (int i = 0; i < 300 && m != floor(m); i++) {
        m *= 2.0;
        exponent--;
    }
    Value num = int_from_double(ts, m);
    if (IS_ERROR(num)) return num;
    Value den = INT_VAL(1);
    Value shift = INT_VAL(exponent > 0 ? exponent : -exponent);
    if (exponent > 0) num = int_binop(ts, BIN_LSHIFT, num, shift);
    else den = int_binop(ts, BIN_LSHIFT, den, shift);
    if (IS_ERROR(num) || IS_ERROR(den)) return ERROR_VAL;
    ObjTuple *t = tuple_pack2(ts, num, den);
    return t ? OBJ_VAL(t) : ERROR_VAL;
}

/* float.hex(): CPython's layout, one hex digit before the point and 13
 * after, subnormals with a leading 0. */
static Value float_m_hex(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    FLOAT_SELF("hex");
    if (!isfinite(x)) return float_repr_value(ts, x);
    if (x == 0.0) {
        ObjStr *s = str_from_cstr(ts, copysign(1.0, x) < 0 ? "-0x0.0p+0" : "0x0.0p+0");
        return s ? OBJ_VAL(s) : ERROR_VAL;
    }
    int e;
    double m = frexp(fabs(x), &e);
    int shift = 1 - (DBL_MIN_EXP - e > 0 ? DBL_MIN_EXP - e : 0);
    m = ldexp(m, shift);
    e -= shift;
    char digits[(DBL_MANT_DIG + 3) / 4 + 2];
    size_t n = 0;
    static const char hex[] = "0123456789abcdef";
    digits[n++] = hex[(int)m];
    m -= (int)m;
    digits[n++] = '.';
    for (int i = 0; i < (DBL_MANT_DIG - 1) / 4; i++) {
        m *= 16.0;
        digits[n++] = hex[(int)m];
        m -= (int)m;
    }
    digits[n] = '\0';
    ObjStr *s = str_printf(ts, "%s0x%sp%+d", x < 0 ? "-" : "", digits, e);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static Value float_get_real(TState *ts, Value self) {
    (void)ts;
    return FLOAT_VAL(float_value(self));
}

static Value float_get_imag(TState *ts, Value self) {
    (void)ts;
    (void)self;
    return FLOAT_VAL(0.0);
}

static const NativeDef float_methods[] = {
    {"__add__", float_m_add},
    {"__radd__", float_m_radd},
    {"__sub__", float_m_sub},
    {"__rsub__", float_m_rsub},
    {"__mul__", float_m_mul},
    {"__rmul__", float_m_rmul},
    {"__truediv__", float_m_truediv},
    {"__rtruediv__", float_m_rtruediv},
    {"__floordiv__", float_m_floordiv},
    {"__rfloordiv__", float_m_rfloordiv},
    {"__mod__", float_m_mod},
    {"__rmod__", float_m_rmod},
    {"__pow__", float_m_pow},
    {"__rpow__", float_m_rpow},
    {"__divmod__", float_m_divmod},
    {"__rdivmod__", float_m_rdivmod},
    {"__eq__", float_m_eq},
    {"__ne__", float_m_ne},
    {"__lt__", float_m_lt},
    {"__le__", float_m_le},
    {"__gt__", float_m_gt},
    {"__ge__", float_m_ge},
    {"__neg__", float_m_neg},
    {"__pos__", float_m_pos},
    {"__abs__", float_m_abs},
    {"__bool__", float_m_bool},
    {"__int__", float_m_trunc},
    {"__trunc__", float_m_trunc},
    {"__floor__", float_m_floor},
    {"__ceil__", float_m_ceil},
    {"__float__", float_m_self},
    {"__round__", float_m_round},
    {"__hash__", float_m_hash},
    {"__repr__", float_m_repr},
    {"__format__", float_m_format},
    {"conjugate", float_m_self},
    {"is_integer", float_m_is_integer},
    {"as_integer_ratio", float_m_as_integer_ratio},
    {"hex", float_m_hex},
    {NULL, NULL},
};

static const GetSetDef float_getsets[] = {
    {"real", float_get_real, NULL},
    {"imag", float_get_imag, NULL},
    {NULL, NULL, NULL},
};

/* Floats are unboxed values; a subclass's instances are ObjFloat boxes. */
const TypeSpec float_type_spec = {
    .name = "float",
    .kind = OBJ_FLOAT,
    .flags = TYPEF_BASETYPE,
    .repr = float_repr,
    .hash = float_hash_slot,
    .richcmp = float_richcmp,
    .binop = float_binop,
    .unop = float_unop,
    .truth = float_truth,
    .new_ = float_new,
    .methods = float_methods,
    .getsets = float_getsets,
};
