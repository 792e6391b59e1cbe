/* The math module: CPython's mathmodule.c semantics (special values,
 * "math domain error" / "math range error", exact big-int functions on
 * GMP, correctly rounded fsum). */

#include <float.h>
#include <gmp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/args.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/gmpalloc.h"
#include "runtime/float.h"
#include "runtime/function.h"
#include "runtime/int.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "stdlib/modules.h"
#include "vm/interp.h"
#include "vm/vm.h"

/* Results of factorial, comb and perm above this many bits raise
 * MemoryError before GMP starts (it aborts the process when it cannot
 * allocate). Matches int.c's limit on int results. */
#define MATH_MAX_RESULT_BITS 3.4e10

static Value domain_error(TState *ts) {
    return err_format(ts, ts->interp->exc.ValueError, "math domain error");
}

static Value range_error(TState *ts) {
    return err_format(ts, ts->interp->exc.OverflowError, "math range error");
}

/* Calls type(v).<name>(v) if the type defines it: EMPTY_VAL when absent. */
static Value call_special(TState *ts, Value v, const char *name) {
    ObjStr *s = str_intern_cstr(ts, name);
    if (!s) return ERROR_VAL;
    Value fn = type_lookup(val_type(ts, v), s);
    if (IS_EMPTY(fn)) return EMPTY_VAL;
    return vm_call_method(ts, fn, v, NULL, 0, NULL);
}

/* ---- one-argument functions --------------------------------------------- */

/* CPython's math_1: a NaN from a non-NaN argument is a domain error; an
 * infinity from a finite argument is an overflow if the function can
 * overflow, else a domain error (a pole, like log1p(-1)). */
static Value math_1(TState *ts, const char *name, double (*fn)(double), bool can_overflow, Value *args,
                    int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, name, nargs, kwnames, 1, 1)) return ERROR_VAL;
    double x;
    if (!float_coerce(ts, args[0], &x)) return ERROR_VAL;
    double r = fn(x);
    if (isnan(r) && !isnan(x)) return domain_error(ts);
    if (isinf(r) && isfinite(x)) return can_overflow ? range_error(ts) : domain_error(ts);
    return FLOAT_VAL(r);
}

#define MATH_FUNC1(name, cfn, can_overflow)                                               \
    static Value math_##name(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {     \
        return math_1(ts, "math." #name, cfn, can_overflow, args, nargs, kwnames);        \
    }
MATH_FUNC1(acos, acos, false)
MATH_FUNC1(acosh, acosh, false)
MATH_FUNC1(asin, asin, false)
MATH_FUNC1(asinh, asinh, false)
MATH_FUNC1(atan, atan, false)
MATH_FUNC1(atanh, atanh, false)
MATH_FUNC1(cbrt, cbrt, false)
MATH_FUNC1(cos, cos, false)
MATH_FUNC1(cosh, cosh, true)
MATH_FUNC1(erf, erf, false)
MATH_FUNC1(erfc, erfc, false)
MATH_FUNC1(exp, exp, true)
MATH_FUNC1(exp2, exp2, true)
MATH_FUNC1(expm1, expm1, true)
MATH_FUNC1(fabs, fabs, false)
MATH_FUNC1(log1p, log1p, false)
MATH_FUNC1(sin, sin, false)
MATH_FUNC1(sinh, sinh, true)
MATH_FUNC1(sqrt, sqrt, false)
MATH_FUNC1(tan, tan, false)
MATH_FUNC1(tanh, tanh, false)
#undef MATH_FUNC1

/* degrees and radians are plain products: no range errors, as CPython. */
static Value math_degrees(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    double x;
    if (!args_check(ts, "math.degrees", nargs, kwnames, 1, 1) || !float_coerce(ts, args[0], &x))
        return ERROR_VAL;
    return FLOAT_VAL(x * (180.0 / M_PI));
}

static Value math_radians(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    double x;
    if (!args_check(ts, "math.radians", nargs, kwnames, 1, 1) || !float_coerce(ts, args[0], &x))
        return ERROR_VAL;
    return FLOAT_VAL(x * (M_PI / 180.0));
}

/* Gamma(n) = (n-1)! is exact in a double up to n = 23 (the odd part of 22!
 * fits 53 bits). */
#define GAMMA_EXACT_MAX 23

/* gamma and lgamma follow CPython's own algorithm rather than libm's, so
 * that results agree to the last bit: the Lanczos approximation with
 * N = 13, g = 6.024680040776729583740234375 (Godfrey's coefficients, the
 * denominator being x(x+1)...(x+11) expanded), evaluated as a rational
 * function in x (x < 5) or in 1/x (x >= 5), with a reflection through
 * sin(pi x) for negative arguments. */
#define LANCZOS_N 13
static const double lanczos_g = 6.024680040776729583740234375;
static const double lanczos_g_minus_half = 5.524680040776729583740234375;
static const double lanczos_num[LANCZOS_N] = {
    23531376880.410759688572007674451636754734846804940,
    42919803642.649098768957899047001988850926355848959,
    35711959237.355668049440185451547166705960488635843,
    17921034426.037209699919755754458931112671403265390,
    6039542586.3520280050642916443072979210699388420708,
    1439720407.3117216736632230727949123939715485786772,
    248874557.86205415651146038641322942321632125127801,
    31426415.585400194380614231628318205362874684987640,
    2876370.6289353724412254090516208496135991145378768,
    186056.26539522349504029498971604569928220784236328,
    8071.6720023658162106380029022722506138218516325024,
    210.82427775157934587250973392071336271166969580291,
    2.5066282746310002701649081771338373386264310793408,
};
static const double lanczos_den[LANCZOS_N] = {
    0.0, 39916800.0, 120543840.0, 150917976.0, 105258076.0, 45995730.0, 13339535.0,
    2637558.0, 357423.0, 32670.0, 1925.0, 66.0, 1.0,
};
static const double LOG_PI = 1.144729885849400174143427351353058711647;

static double lanczos_sum(double x) {
    double num = 0.0, den = 0.0;
    if (x < 5.0) {
        for (int i = LANCZOS_N - 1; i >= 0; i--) {
            num = num * x + lanczos_num[i];
            den = den * x + lanczos_den[i];
        }
    } else {
        for (int i = 0; i < LANCZOS_N; i++) {
            num = num / x + lanczos_num[i];
            den = den / x + lanczos_den[i];
        }
    }
    return num / den;
}

/* sin(pi * x), exact at the integers and half-integers. */
static double sin_pi(double x) {
    double y = fmod(fabs(x), 2.0), r = 0.0;
    switch ((int)round(2.0 * y)) {
    case 0: r = sin(M_PI * y); break;
    case 1: r = cos(M_PI * (y - 0.5)); break;
    case 2: r = sin(M_PI * (1.0 - y)); break;
    case 3: r = -cos(M_PI * (y - 1.5)); break;
    default: r = sin(M_PI * (y - 2.0)); break;
    }
    return copysign(1.0, x) * r;
}

/* Gamma of a finite, non-integral (or large integral) x with |x| <= 200. */
static double lanczos_gamma(double x) {
    double absx = fabs(x), y = absx + lanczos_g_minus_half, q, z, r;
    if (absx > lanczos_g_minus_half) {
        q = y - absx;
        z = q - lanczos_g_minus_half;
    } else {
        q = y - lanczos_g_minus_half;
        z = q - absx;
    }
    z = z * lanczos_g / y;
    if (x < 0.0) {
        r = -M_PI / sin_pi(absx) / absx * exp(y) / lanczos_sum(absx);
        r -= z * r;
        if (absx < 140.0) {
            r /= pow(y, absx - 0.5);
        } else {
            double sqrtpow = pow(y, absx / 2.0 - 0.25);
            r /= sqrtpow;
            r /= sqrtpow;
        }
    } else {
        r = lanczos_sum(absx) / exp(y);
        r += z * r;
        if (absx < 140.0) {
            r *= pow(y, absx - 0.5);
        } else {
            double sqrtpow = pow(y, absx / 2.0 - 0.25);
            r *= sqrtpow;
            r *= sqrtpow;
        }
    }
    return r;
}

/* Poles at 0 and the negative integers are domain errors; results too
 * big for a double are range errors (tiny ones quietly underflow). */
static Value gamma_like(TState *ts, const char *name, bool logarithm, Value *args, int nargs,
                        ObjTuple *kwnames) {
    if (!args_check(ts, name, nargs, kwnames, 1, 1)) return ERROR_VAL;
    double x;
    if (!float_coerce(ts, args[0], &x)) return ERROR_VAL;
    if (isnan(x)) return FLOAT_VAL(x);
    if (isinf(x)) {
        if (x < 0 && !logarithm) return domain_error(ts);
        return FLOAT_VAL(INFINITY);
    }
    if (x == floor(x) && x <= 0) return domain_error(ts);
    double absx = fabs(x), r;
    if (logarithm) {
        if (x == floor(x) && x <= 2.0) return FLOAT_VAL(0.0);
        if (absx < 1e-20) return FLOAT_VAL(-log(absx));
        r = log(lanczos_sum(absx)) - lanczos_g;
        r += (absx - 0.5) * (log(absx + lanczos_g - 0.5) - 1);
        if (x < 0.0) r = LOG_PI - log(fabs(sin_pi(absx))) - log(absx) - r;
    } else if (x == floor(x) && x <= GAMMA_EXACT_MAX) {
        r = 1.0;
        for (int i = 2; i < (int)x; i++) r *= i;
    } else if (absx < 1e-20) {
        r = 1.0 / x;
    } else if (absx > 200.0) {
        if (x > 0.0) return range_error(ts);
        r = 0.0 / sin_pi(x);
    } else {
        r = lanczos_gamma(x);
    }
    if (isinf(r)) return range_error(ts);
    return FLOAT_VAL(r);
}

static Value math_gamma(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return gamma_like(ts, "math.gamma", false, args, nargs, kwnames);
}

static Value math_lgamma(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return gamma_like(ts, "math.lgamma", true, args, nargs, kwnames);
}

static Value math_isnan(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    double x;
    if (!args_check(ts, "math.isnan", nargs, kwnames, 1, 1) || !float_coerce(ts, args[0], &x))
        return ERROR_VAL;
    return BOOL_VAL(isnan(x));
}

static Value math_isinf(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    double x;
    if (!args_check(ts, "math.isinf", nargs, kwnames, 1, 1) || !float_coerce(ts, args[0], &x))
        return ERROR_VAL;
    return BOOL_VAL(isinf(x));
}

static Value math_isfinite(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    double x;
    if (!args_check(ts, "math.isfinite", nargs, kwnames, 1, 1) || !float_coerce(ts, args[0], &x))
        return ERROR_VAL;
    return BOOL_VAL(isfinite(x));
}

/* floor, ceil and trunc return ints: ints pass through, floats convert
 * (big floats exactly), other objects use their __floor__ / __ceil__ /
 * __trunc__. */
static Value round_to_int(TState *ts, const char *name, const char *special, double (*fn)(double),
                          bool special_only, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, name, nargs, kwnames, 1, 1)) return ERROR_VAL;
    Value x = args[0];
    if (IS_FLOAT(x)) return int_from_double(ts, fn(AS_FLOAT(x)));
    if (IS_INTLIKE(x)) return int_unop(ts, UN_POS, x);
    Value r = call_special(ts, x, special);
    if (!IS_EMPTY(r)) return r;
    if (special_only)
        return err_format(ts, ts->interp->exc.TypeError, "type %s doesn't define __trunc__ method",
                          ops_type_name(ts, x));
    double d;
    if (!float_coerce(ts, x, &d)) return ERROR_VAL;
    return int_from_double(ts, fn(d));
}

static Value math_floor(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return round_to_int(ts, "math.floor", "__floor__", floor, false, args, nargs, kwnames);
}

static Value math_ceil(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return round_to_int(ts, "math.ceil", "__ceil__", ceil, false, args, nargs, kwnames);
}

static Value math_trunc(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return round_to_int(ts, "math.trunc", "__trunc__", trunc, true, args, nargs, kwnames);
}

/* ---- logarithms ----------------------------------------------------------- */

/* fn(x) for a float or any int (ints too large for a double are split as
 * m * 2**e, as CPython's loghelper does). False after raising. */
static bool log_helper(TState *ts, Value x, double (*fn)(double), double *out) {
    if (IS_INTLIKE(x)) {
        if (int_compare(x, INT_VAL(0)) <= 0) {
            domain_error(ts);
            return false;
        }
        double d;
        if (!IS_ERROR(int_to_float(ts, x, &d))) {
            *out = fn(d);
            return true;
        }
        err_clear(ts);
        /* Too large for a double: |x| = m * 2**e with m in [0.5, 1], m
         * rounded half-even from x's top bits and a sticky bit. */
        mp_limb_t tmp[2];
        mpz_t z, top;
        int_as_mpz(x, z, tmp);
        size_t bits = mpz_sizeinbase(z, 2);
        size_t shift = bits - (DBL_MANT_DIG + 2);
        mpz_init(top);
        mpz_tdiv_q_2exp(top, z, shift);
        uint64_t m = mpz_get_ui(top) | (mpz_scan1(z, 0) < shift);
        mpz_clear(top);
        double frac = ldexp((double)m, -(DBL_MANT_DIG + 2));
        int64_t e = (int64_t)bits;
        if (frac == 1.0) {
            frac = 0.5;
            e++;
        }
        *out = fn(frac) + fn(2.0) * (double)e;
        return true;
    }
    double d;
    if (!float_coerce(ts, x, &d)) return false;
    if (isnan(d) || (isinf(d) && d > 0)) {
        *out = d;
        return true;
    }
    if (d <= 0) {
        domain_error(ts);
        return false;
    }
    *out = fn(d);
    return true;
}

static Value math_log(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (kwnames && kwnames->len > 0)
        return err_format(ts, ts->interp->exc.TypeError, "log() takes no keyword arguments");
    if (nargs < 1 || nargs > 2)
        return err_format(ts, ts->interp->exc.TypeError, "math.log requires 1 to 2 arguments");
    double num, den;
    if (!log_helper(ts, args[0], log, &num)) return ERROR_VAL;
    if (nargs == 1) return FLOAT_VAL(num);
    if (!log_helper(ts, args[1], log, &den)) return ERROR_VAL;
    if (den == 0.0) return err_format(ts, ts->interp->exc.ZeroDivisionError, "float division by zero");
    return FLOAT_VAL(num / den);
}

static Value math_log2(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    double r;
    if (!args_check(ts, "math.log2", nargs, kwnames, 1, 1) || !log_helper(ts, args[0], log2, &r))
        return ERROR_VAL;
    return FLOAT_VAL(r);
}

static Value math_log10(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    double r;
    if (!args_check(ts, "math.log10", nargs, kwnames, 1, 1) || !log_helper(ts, args[0], log10, &r))
        return ERROR_VAL;
    return FLOAT_VAL(r);
}

/* ---- two-argument functions ------------------------------------------------ */

static bool two_doubles(TState *ts, const char *name, Value *args, int nargs, ObjTuple *kwnames,
                        double *x, double *y) {
    return args_check(ts, name, nargs, kwnames, 2, 2) && float_coerce(ts, args[0], x) &&
           float_coerce(ts, args[1], y);
}

/* CPython's math_pow: IEEE special values handled explicitly, libm for
 * finite operands. */
static Value math_pow(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    double x, y, r;
    if (!two_doubles(ts, "pow", args, nargs, kwnames, &x, &y)) return ERROR_VAL;
    if (!isfinite(x) || !isfinite(y)) {
        if (isnan(x)) {
            r = y == 0.0 ? 1.0 : x;
        } else if (isnan(y)) {
            r = x == 1.0 ? 1.0 : y;
        } else if (isinf(x)) {
            bool odd_y = isfinite(y) && fmod(fabs(y), 2.0) == 1.0;
            if (y > 0.0) r = odd_y ? x : fabs(x);
            else if (y == 0.0) r = 1.0;
            else r = odd_y ? copysign(0.0, x) : 0.0;
        } else if (fabs(x) == 1.0) {
            r = 1.0;
        } else if ((y > 0.0) == (fabs(x) > 1.0)) {
            r = INFINITY;
        } else {
            r = 0.0;
        }
        return FLOAT_VAL(r);
    }
    r = pow(x, y);
    if (isnan(r)) return domain_error(ts);          /* (-x) ** non-integer */
    if (isinf(r)) return x == 0.0 ? domain_error(ts) /* 0 ** negative */
                                  : range_error(ts);
    return FLOAT_VAL(r);
}

static Value math_atan2(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    double y, x;
    if (!two_doubles(ts, "atan2", args, nargs, kwnames, &y, &x)) return ERROR_VAL;
    return FLOAT_VAL(atan2(y, x));
}

static Value math_copysign(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    double x, y;
    if (!two_doubles(ts, "copysign", args, nargs, kwnames, &x, &y)) return ERROR_VAL;
    return FLOAT_VAL(copysign(x, y));
}

static Value math_fmod(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    double x, y;
    if (!two_doubles(ts, "fmod", args, nargs, kwnames, &x, &y)) return ERROR_VAL;
    if (isinf(y) && isfinite(x)) return FLOAT_VAL(x);
    double r = fmod(x, y);
    if (isnan(r) && !isnan(x) && !isnan(y)) return domain_error(ts);
    return FLOAT_VAL(r);
}

static Value math_remainder(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    double x, y;
    if (!two_doubles(ts, "remainder", args, nargs, kwnames, &x, &y)) return ERROR_VAL;
    double r = remainder(x, y);
    if (isnan(r) && !isnan(x) && !isnan(y)) return domain_error(ts);
    return FLOAT_VAL(r);
}

static Value math_nextafter(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    double x, y;
    if (!two_doubles(ts, "nextafter", args, nargs, kwnames, &x, &y)) return ERROR_VAL;
    return FLOAT_VAL(nextafter(x, y));
}

static Value math_ulp(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    double x;
    if (!args_check(ts, "math.ulp", nargs, kwnames, 1, 1) || !float_coerce(ts, args[0], &x))
        return ERROR_VAL;
    if (isnan(x)) return FLOAT_VAL(x);
    x = fabs(x);
    if (isinf(x)) return FLOAT_VAL(x);
    double up = nextafter(x, INFINITY);
    if (isinf(up)) return FLOAT_VAL(x - nextafter(x, -INFINITY)); /* x is DBL_MAX */
    return FLOAT_VAL(up - x);
}

static Value math_ldexp(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    double x;
    if (!args_check(ts, "ldexp", nargs, kwnames, 2, 2) || !float_coerce(ts, args[0], &x))
        return ERROR_VAL;
    Value i = args[1];
    if (!IS_INTLIKE(i))
        return err_format(ts, ts->interp->exc.TypeError,
                          "Expected an int as second argument to ldexp.");
    int64_t e;
    if (!int_to_i64(i, &e)) e = int_compare(i, INT_VAL(0)) > 0 ? INT64_MAX : INT64_MIN;
    if (x == 0.0 || !isfinite(x)) return FLOAT_VAL(x);
    if (e > INT32_MAX) return range_error(ts);
    if (e < INT32_MIN) return FLOAT_VAL(copysign(0.0, x));
    double r = ldexp(x, (int)e);
    if (isinf(r)) return range_error(ts);
    return FLOAT_VAL(r);
}

static Value math_modf(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    double x;
    if (!args_check(ts, "math.modf", nargs, kwnames, 1, 1) || !float_coerce(ts, args[0], &x))
        return ERROR_VAL;
    double ip, frac;
    if (isinf(x)) {
        ip = x;
        frac = copysign(0.0, x);
    } else {
        frac = modf(x, &ip);
    }
    ObjTuple *t = tuple_pack2(ts, FLOAT_VAL(frac), FLOAT_VAL(ip));
    return t ? OBJ_VAL(t) : ERROR_VAL;
}

static Value math_frexp(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    double x;
    if (!args_check(ts, "math.frexp", nargs, kwnames, 1, 1) || !float_coerce(ts, args[0], &x))
        return ERROR_VAL;
    int e = 0;
    double m = isfinite(x) && x != 0.0 ? frexp(x, &e) : x;
    ObjTuple *t = tuple_pack2(ts, FLOAT_VAL(m), INT_VAL(e));
    return t ? OBJ_VAL(t) : ERROR_VAL;
}

static Value math_isclose(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"$a", "$b", "rel_tol", "abs_tol"};
    Value v[4];
    if (!args_bind(ts, "isclose", args, nargs, kwnames, names, 4, 2, 2, v)) return ERROR_VAL;
    double a, b, rel_tol = 1e-09, abs_tol = 0.0;
    if (!float_coerce(ts, v[0], &a) || !float_coerce(ts, v[1], &b)) return ERROR_VAL;
    if (!IS_EMPTY(v[2]) && !float_coerce(ts, v[2], &rel_tol)) return ERROR_VAL;
    if (!IS_EMPTY(v[3]) && !float_coerce(ts, v[3], &abs_tol)) return ERROR_VAL;
    if (rel_tol < 0.0 || abs_tol < 0.0)
        return err_format(ts, ts->interp->exc.ValueError, "tolerances must be non-negative");
    if (a == b) return TRUE_VAL;
    if (isinf(a) || isinf(b)) return FALSE_VAL;
    double diff = fabs(b - a);
    return BOOL_VAL(diff <= fabs(rel_tol * b) || diff <= fabs(rel_tol * a) || diff <= abs_tol);
}

/* ---- hypot and dist ------------------------------------------------------- */

typedef struct DoubleLength {
    double hi, lo;
} DoubleLength;

/* Error-free transformations: hi + lo equals the exact sum / product. */
static DoubleLength dl_fast_sum(double a, double b) {
    double x = a + b;
    return (DoubleLength){x, (a - x) + b};
}

static DoubleLength dl_mul(double x, double y) {
    double z = x * y;
    return (DoubleLength){z, fma(x, y, -z)};
}

/* CPython's vector_norm: the Euclidean norm of vec (|entries| <= max),
 * scaled losslessly by a power of two, squared and summed with error-free
 * transformations, then corrected by one Newton step: accurate to within
 * one ulp and independent of the order of the coordinates' magnitudes. */
static double vector_norm(size_t n, double *vec, double max, bool found_nan) {
    if (isinf(max)) return max;
    if (found_nan) return NAN;
    if (max == 0.0 || n <= 1) return max;
    int max_e;
    frexp(max, &max_e);
    if (max_e < -1023) {
        /* ldexp(1.0, -max_e) would overflow: make subnormals normal first. */
        for (size_t i = 0; i < n; i++) vec[i] /= DBL_MIN;
        return DBL_MIN * vector_norm(n, vec, max / DBL_MIN, found_nan);
    }
    double scale = ldexp(1.0, -max_e);
    double csum = 1.0, frac1 = 0.0, frac2 = 0.0;
    for (size_t i = 0; i < n; i++) {
        double x = vec[i] * scale; /* lossless */
        DoubleLength pr = dl_mul(x, x);
        DoubleLength sm = dl_fast_sum(csum, pr.hi);
        csum = sm.hi;
        frac1 += pr.lo;
        frac2 += sm.lo;
    }
    double h = sqrt(csum - 1.0 + (frac1 + frac2));
    DoubleLength pr = dl_mul(-h, h);
    DoubleLength sm = dl_fast_sum(csum, pr.hi);
    csum = sm.hi;
    frac1 += pr.lo;
    frac2 += sm.lo;
    double x = csum - 1.0 + (frac1 + frac2);
    h += x / (2.0 * h); /* differential correction */
    return h / scale;
}

/* Coordinates for vector_norm: a stack buffer for the usual few, else
 * malloc. */
#define NORM_STACK_COORDS 16

static double *coords_buffer(TState *ts, double *stack, size_t n) {
    if (n <= NORM_STACK_COORDS) return stack;
    double *p = malloc(n * sizeof(double));
    if (!p) err_no_memory(ts);
    return p;
}

static Value math_hypot(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (kwnames && kwnames->len > 0)
        return err_format(ts, ts->interp->exc.TypeError, "math.hypot() takes no keyword arguments");
    double stack[NORM_STACK_COORDS];
    double *coords = coords_buffer(ts, stack, (size_t)nargs);
    if (!coords) return ERROR_VAL;
    double max = 0.0;
    bool found_nan = false;
    Value r = ERROR_VAL;
    for (int i = 0; i < nargs; i++) {
        double x;
        if (!float_coerce(ts, args[i], &x)) goto done;
        x = fabs(x);
        coords[i] = x;
        found_nan |= isnan(x);
        if (x > max) max = x;
    }
    r = FLOAT_VAL(vector_norm((size_t)nargs, coords, max, found_nan));
done:
    if (coords != stack) free(coords);
    return r;
}

static Value math_dist(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "dist", nargs, kwnames, 2, 2)) return ERROR_VAL;
    ObjTuple *p = ops_to_tuple(ts, args[0]);
    if (!p) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(p));
    ObjTuple *q = ops_to_tuple(ts, args[1]);
    if (!q) {
        vm_pop(ts);
        return ERROR_VAL;
    }
    vm_push(ts, OBJ_VAL(q));
    Value r = ERROR_VAL;
    double stack[NORM_STACK_COORDS];
    double *diffs = NULL;
    if (p->len != q->len) {
        err_format(ts, ts->interp->exc.ValueError,
                   "both points must have the same number of dimensions");
        goto done;
    }
    diffs = coords_buffer(ts, stack, p->len);
    if (!diffs) goto done;
    double max = 0.0;
    bool found_nan = false;
    for (size_t i = 0; i < p->len; i++) {
        double px, qx;
        if (!float_coerce(ts, p->items[i], &px) || !float_coerce(ts, q->items[i], &qx)) goto done;
        double x = fabs(px - qx);
        diffs[i] = x;
        found_nan |= isnan(x);
        if (x > max) max = x;
    }
    r = FLOAT_VAL(vector_norm(p->len, diffs, max, found_nan));
done:
    if (diffs && diffs != stack) free(diffs);
    vm_pop(ts);
    vm_pop(ts);
    return r;
}

/* ---- fsum ------------------------------------------------------------------ */

/* Shewchuk's algorithm as in CPython's math_fsum: the running sum is kept
 * exactly as a list of non-overlapping partials, then rounded once
 * (half-even across partials). */
static Value math_fsum(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "math.fsum", nargs, kwnames, 1, 1)) return ERROR_VAL;
    Value it = ops_iter(ts, args[0]);
    if (IS_ERROR(it)) return it;
    vm_push(ts, it);
    double stack[32];
    double *p = stack;
    size_t n = 0, cap = sizeof stack / sizeof stack[0];
    double special_sum = 0.0, inf_sum = 0.0;
    Value result = ERROR_VAL;
    for (;;) {
        Value item = ops_next(ts, it);
        if (IS_ERROR(item)) goto done;
        if (IS_EMPTY(item)) break;
        double x;
        if (!float_coerce(ts, item, &x)) goto done;
        double xsave = x;
        size_t i = 0;
        for (size_t j = 0; j < n; j++) {
            double y = p[j];
            if (fabs(x) < fabs(y)) {
                double t = x;
                x = y;
                y = t;
            }
            double hi = x + y;
            double lo = y - (hi - x);
            if (lo != 0.0) p[i++] = lo;
            x = hi;
        }
        n = i;
        if (x == 0.0) continue;
        if (!isfinite(x)) {
            /* From an overflow of finite summands, or an inf or nan. */
            if (isfinite(xsave)) {
                err_format(ts, ts->interp->exc.OverflowError, "intermediate overflow in fsum");
                goto done;
            }
            if (isinf(xsave)) inf_sum += xsave;
            special_sum += xsave;
            n = 0;
            continue;
        }
        if (n == cap) {
            size_t new_cap = cap * 2;
            double *grown = malloc(new_cap * sizeof(double));
            if (!grown) {
                err_no_memory(ts);
                goto done;
            }
            memcpy(grown, p, n * sizeof(double));
            if (p != stack) free(p);
            p = grown;
            cap = new_cap;
        }
        p[n++] = x;
    }
    if (special_sum != 0.0) {
        if (isnan(inf_sum)) err_format(ts, ts->interp->exc.ValueError, "-inf + inf in fsum");
        else result = FLOAT_VAL(special_sum);
        goto done;
    }
    double hi = 0.0;
    if (n > 0) {
        double lo = 0.0;
        hi = p[--n];
        /* Sum from the top down while the sum stays exact. */
        while (n > 0) {
            double x = hi;
            double y = p[--n];
            hi = x + y;
            lo = y - (hi - x);
            if (lo != 0.0) break;
        }
        /* Half-even rounding across partials: the remaining partials may
         * break a tie that hi + lo alone rounded the wrong way. */
        if (n > 0 && ((lo < 0.0 && p[n - 1] < 0.0) || (lo > 0.0 && p[n - 1] > 0.0))) {
            double y = lo * 2.0;
            double x = hi + y;
            if (y == x - hi) hi = x;
        }
    }
    result = FLOAT_VAL(hi);
done:
    if (p != stack) free(p);
    vm_pop(ts);
    return result;
}

static Value math_prod(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"$iterable", "start"};
    Value v[2];
    if (nargs != 1)
        return err_format(ts, ts->interp->exc.TypeError,
                          "prod() takes exactly 1 positional argument (%d given)", nargs);
    if (!args_bind(ts, "prod", args, nargs, kwnames, names, 2, 1, 1, v)) return ERROR_VAL;
    Value it = ops_iter(ts, v[0]);
    if (IS_ERROR(it)) return it;
    vm_push(ts, it);
    Value acc = IS_EMPTY(v[1]) ? INT_VAL(1) : v[1];
    vm_push(ts, acc);
    for (;;) {
        Value item = ops_next(ts, it);
        if (IS_EMPTY(item)) break;
        if (!IS_ERROR(item)) item = ops_binary(ts, BIN_MUL, acc, item);
        if (IS_ERROR(item)) {
            acc = ERROR_VAL;
            break;
        }
        acc = item;
        vm_pop(ts);
        vm_push(ts, acc);
    }
    vm_pop(ts);
    vm_pop(ts);
    return acc;
}

/* ---- integer functions ------------------------------------------------------- */

/* int_index(v) keeping `keep` rooted: __index__ may run mini code. */
static Value index_arg(TState *ts, Value v, Value keep) {
    if (IS_INTLIKE(v)) return int_index(ts, v);
    vm_push(ts, keep);
    Value r = int_index(ts, v);
    vm_pop(ts);
    return r;
}

static Value int_gcd2(TState *ts, Value a, Value b) {
    int64_t x, y;
    if (int_to_i64(a, &x) && int_to_i64(b, &y) && x != INT64_MIN && y != INT64_MIN) {
        uint64_t u = (uint64_t)(x < 0 ? -x : x), w = (uint64_t)(y < 0 ? -y : y);
        while (w) {
            uint64_t t = u % w;
            u = w;
            w = t;
        }
        return int_from_u64(ts, u);
    }
    mp_limb_t ta[2], tb[2];
    mpz_t za, zb, r;
    int_as_mpz(a, za, ta);
    int_as_mpz(b, zb, tb);
    mpz_init(r);
    GmpGuard g;
    gmpalloc_begin(&g);
    if (setjmp(g.env)) return err_no_memory(ts);
    mpz_gcd(r, za, zb);
    gmpalloc_end(&g);
    Value v = int_from_mpz(ts, r);
    mpz_clear(r);
    return v;
}

static Value int_lcm2(TState *ts, Value a, Value b) {
    mp_limb_t ta[2], tb[2];
    mpz_t za, zb, r;
    int_as_mpz(a, za, ta);
    int_as_mpz(b, zb, tb);
    mpz_init(r);
    GmpGuard g;
    gmpalloc_begin(&g);
    if (setjmp(g.env)) return err_no_memory(ts);
    mpz_lcm(r, za, zb); /* non-negative; 0 if either is 0 */
    gmpalloc_end(&g);
    Value v = int_from_mpz(ts, r);
    mpz_clear(r);
    return v;
}

static Value gcd_lcm(TState *ts, const char *name, bool lcm, Value *args, int nargs,
                     ObjTuple *kwnames) {
    if (kwnames && kwnames->len > 0)
        return err_format(ts, ts->interp->exc.TypeError, "%s() takes no keyword arguments", name);
    if (nargs == 0) return INT_VAL(lcm ? 1 : 0);
    Value acc = int_index(ts, args[0]);
    if (IS_ERROR(acc)) return acc;
    if (nargs == 1) return int_abs(ts, acc);
    for (int i = 1; i < nargs; i++) {
        Value x = index_arg(ts, args[i], acc);
        if (IS_ERROR(x)) return x;
        acc = lcm ? int_lcm2(ts, acc, x) : int_gcd2(ts, acc, x);
        if (IS_ERROR(acc)) return acc;
    }
    return acc;
}

static Value math_gcd(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return gcd_lcm(ts, "math.gcd", false, args, nargs, kwnames);
}

static Value math_lcm(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return gcd_lcm(ts, "math.lcm", true, args, nargs, kwnames);
}

static Value math_factorial(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "math.factorial", nargs, kwnames, 1, 1)) return ERROR_VAL;
    Value v = int_index(ts, args[0]);
    if (IS_ERROR(v)) return v;
    int64_t n;
    bool fits = int_to_i64(v, &n);
    if (fits ? n < 0 : int_compare(v, INT_VAL(0)) < 0)
        return err_format(ts, ts->interp->exc.ValueError, "factorial() not defined for negative values");
    if (!fits)
        return err_format(ts, ts->interp->exc.OverflowError,
                          "factorial() argument should not exceed %lld", (long long)INT64_MAX);
    if (n > 2 && (double)n * log2((double)n) > MATH_MAX_RESULT_BITS) return err_no_memory(ts);
    mpz_t r;
    mpz_init(r);
    GmpGuard g;
    gmpalloc_begin(&g);
    if (setjmp(g.env)) return err_no_memory(ts);
    mpz_fac_ui(r, (unsigned long)n);
    gmpalloc_end(&g);
    Value result = int_from_mpz(ts, r);
    mpz_clear(r);
    return result;
}

static Value math_isqrt(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "math.isqrt", nargs, kwnames, 1, 1)) return ERROR_VAL;
    Value v = int_index(ts, args[0]);
    if (IS_ERROR(v)) return v;
    mp_limb_t tmp[2];
    mpz_t z, r;
    int_as_mpz(v, z, tmp);
    if (mpz_sgn(z) < 0)
        return err_format(ts, ts->interp->exc.ValueError, "isqrt() argument must be nonnegative");
    mpz_init(r);
    GmpGuard g;
    gmpalloc_begin(&g);
    if (setjmp(g.env)) return err_no_memory(ts);
    mpz_sqrt(r, z);
    gmpalloc_end(&g);
    Value result = int_from_mpz(ts, r);
    mpz_clear(r);
    return result;
}

/* The n and k of comb and perm as non-negative ints. False after
 * raising. */
static bool comb_args(TState *ts, Value n_arg, Value k_arg, Value *n, Value *k) {
    *n = int_index(ts, n_arg);
    if (IS_ERROR(*n)) return false;
    *k = index_arg(ts, k_arg, *n);
    if (IS_ERROR(*k)) return false;
    if (int_compare(*n, INT_VAL(0)) < 0) {
        err_format(ts, ts->interp->exc.ValueError, "n must be a non-negative integer");
        return false;
    }
    if (int_compare(*k, INT_VAL(0)) < 0) {
        err_format(ts, ts->interp->exc.ValueError, "k must be a non-negative integer");
        return false;
    }
    return true;
}

/* r = C(zn, kk); false after raising MemoryError (r is then 0). */
static bool guarded_bin_ui(TState *ts, mpz_t r, const mpz_t zn, unsigned long kk) {
    GmpGuard g;
    gmpalloc_begin(&g);
    if (setjmp(g.env)) {
        mpz_init(r); /* its limbs went with the guard: the caller clears it */
        err_no_memory(ts);
        return false;
    }
    mpz_bin_ui(r, zn, kk);
    gmpalloc_end(&g);
    return true;
}

/* r *= kk!; false after raising MemoryError (r and f are then 0). */
static bool guarded_mul_fac(TState *ts, mpz_t r, mpz_t f, unsigned long kk) {
    GmpGuard g;
    gmpalloc_begin(&g);
    if (setjmp(g.env)) {
        mpz_inits(r, f, NULL); /* their limbs went with the guard: the caller clears them */
        err_no_memory(ts);
        return false;
    }
    mpz_fac_ui(f, kk);
    mpz_mul(r, r, f);
    gmpalloc_end(&g);
    return true;
}

/* C(n, k) into r, for 0 <= k <= n; false after raising. */
static bool binomial(TState *ts, Value n, Value k, mpz_t r) {
    mp_limb_t tn[2], tk[2];
    mpz_t zn, zk, nk;
    int_as_mpz(n, zn, tn);
    int_as_mpz(k, zk, tk);
    mpz_init(nk);
    mpz_sub(nk, zn, zk);
    if (mpz_cmp(nk, zk) > 0) mpz_set(nk, zk); /* min(k, n - k) */
    if (mpz_sizeinbase(nk, 2) > 63) {
        mpz_clear(nk);
        err_format(ts, ts->interp->exc.OverflowError, "min(n - k, k) must not exceed %lld",
                   (long long)INT64_MAX);
        return false;
    }
    unsigned long kk = mpz_get_ui(nk);
    mpz_clear(nk);
    if ((double)kk * (double)mpz_sizeinbase(zn, 2) > MATH_MAX_RESULT_BITS) {
        err_no_memory(ts);
        return false;
    }
    return guarded_bin_ui(ts, r, zn, kk);
}

static Value math_comb(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    Value n, k;
    if (!args_check(ts, "comb", nargs, kwnames, 2, 2) || !comb_args(ts, args[0], args[1], &n, &k))
        return ERROR_VAL;
    if (int_compare(k, n) > 0) return INT_VAL(0);
    mpz_t r;
    mpz_init(r);
    Value result = binomial(ts, n, k, r) ? int_from_mpz(ts, r) : ERROR_VAL;
    mpz_clear(r);
    return result;
}

static Value math_perm(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    Value n, k;
    if (!args_check(ts, "perm", nargs, kwnames, 1, 2)) return ERROR_VAL;
    if (nargs == 1 || IS_NONE(args[1])) return math_factorial(ts, args, 1, NULL); /* perm(n) == n! */
    if (!comb_args(ts, args[0], args[1], &n, &k)) return ERROR_VAL;
    if (int_compare(k, n) > 0) return INT_VAL(0);
    int64_t kk;
    if (!int_to_i64(k, &kk))
        return err_format(ts, ts->interp->exc.OverflowError, "k must not exceed %lld",
                          (long long)INT64_MAX);
    /* P(n, k) = C(n, k) * k! */
    mpz_t r, f;
    mpz_inits(r, f, NULL);
    Value result = ERROR_VAL;
    if (binomial(ts, n, k, r)) {
        if (kk > 2 && (double)kk * log2((double)kk) > MATH_MAX_RESULT_BITS) {
            err_no_memory(ts);
        } else if (guarded_mul_fac(ts, r, f, (unsigned long)kk)) {
            result = int_from_mpz(ts, r);
        }
    }
    mpz_clears(r, f, NULL);
    return result;
}

/* ---- the module --------------------------------------------------------------- */

static const NativeDef math_functions[] = {
    {"acos", math_acos},
    {"acosh", math_acosh},
    {"asin", math_asin},
    {"asinh", math_asinh},
    {"atan", math_atan},
    {"atan2", math_atan2},
    {"atanh", math_atanh},
    {"cbrt", math_cbrt},
    {"ceil", math_ceil},
    {"comb", math_comb},
    {"copysign", math_copysign},
    {"cos", math_cos},
    {"cosh", math_cosh},
    {"degrees", math_degrees},
    {"dist", math_dist},
    {"erf", math_erf},
    {"erfc", math_erfc},
    {"exp", math_exp},
    {"exp2", math_exp2},
    {"expm1", math_expm1},
    {"fabs", math_fabs},
    {"factorial", math_factorial},
    {"floor", math_floor},
    {"fmod", math_fmod},
    {"frexp", math_frexp},
    {"fsum", math_fsum},
    {"gamma", math_gamma},
    {"gcd", math_gcd},
    {"hypot", math_hypot},
    {"isclose", math_isclose},
    {"isfinite", math_isfinite},
    {"isinf", math_isinf},
    {"isnan", math_isnan},
    {"isqrt", math_isqrt},
    {"lcm", math_lcm},
    {"ldexp", math_ldexp},
    {"lgamma", math_lgamma},
    {"log", math_log},
    {"log10", math_log10},
    {"log1p", math_log1p},
    {"log2", math_log2},
    {"modf", math_modf},
    {"nextafter", math_nextafter},
    {"perm", math_perm},
    {"pow", math_pow},
    {"prod", math_prod},
    {"radians", math_radians},
    {"remainder", math_remainder},
    {"sin", math_sin},
    {"sinh", math_sinh},
    {"sqrt", math_sqrt},
    {"tan", math_tan},
    {"tanh", math_tanh},
    {"trunc", math_trunc},
    {"ulp", math_ulp},
    {NULL, NULL},
};

static bool set_constant(TState *ts, ObjDict *ns, const char *name, double value) {
    ObjStr *key = str_intern_cstr(ts, name);
    return key && dict_set_str(ts, ns, key, FLOAT_VAL(value)) == 0;
}

bool mod_math_init(TState *ts, ObjDict *module_dict) {
    for (const NativeDef *d = math_functions; d->name; d++) {
        ObjNative *fn = native_new(ts, d->name, d->fn, NULL);
        if (!fn) return false;
        ObjStr *key = str_intern_cstr(ts, d->name);
        if (!key || dict_set_str(ts, module_dict, key, OBJ_VAL(fn)) < 0) return false;
    }
    return set_constant(ts, module_dict, "pi", M_PI) && set_constant(ts, module_dict, "e", M_E) &&
           set_constant(ts, module_dict, "tau", 2.0 * M_PI) &&
           set_constant(ts, module_dict, "inf", INFINITY) && set_constant(ts, module_dict, "nan", NAN);
}
