/* cmath: mathematical functions for complex numbers, on C99's complex
 * functions (Annex G gives CPython's special values). As CPython: a finite
 * argument whose result is infinite is an OverflowError ("math range
 * error"), a singularity (log(0), atanh(1), atan(1j)) a ValueError ("math
 * domain error"). */

#include <complex.h>
#include <float.h>
/* The field interp->types.complex needs the name back. */
#undef complex
#include <math.h>

#include "runtime/args.h"
#include "runtime/complex.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/float.h"
#include "runtime/function.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "stdlib/modules.h"
#include "vm/interp.h"

/* glibc defines CMPLX for gcc only (clang builds the fuzz harness); both
 * compilers have the builtin it stands for. */
#ifndef CMPLX
#define CMPLX(x, y) __builtin_complex((double)(x), (double)(y))
#endif

static bool one_complex(TState *ts, const char *name, Value *args, int nargs, ObjTuple *kwnames,
                        double _Complex *z) {
    if (!args_check(ts, name, nargs, kwnames, 1, 1)) return false;
    double re, im;
    if (!complex_coerce(ts, args[0], &re, &im)) return false;
    *z = CMPLX(re, im);
    return true;
}

static Value domain_error(TState *ts) { return err_format(ts, ts->interp->exc.ValueError, "math domain error"); }

/* The result of fn(z), with CPython's errors. */
static Value finish(TState *ts, double _Complex z, double _Complex r) {
    bool finite_in = isfinite(creal(z)) && isfinite(cimag(z));
    if (finite_in && (isinf(creal(r)) || isinf(cimag(r))))
        return err_format(ts, ts->interp->exc.OverflowError, "math range error");
    if (finite_in && (isnan(creal(r)) || isnan(cimag(r)))) return domain_error(ts);
    return complex_new_value(ts, creal(r), cimag(r));
}

/* CPython's own formulas (Modules/cmathmodule.c) for finite arguments, so
 * results agree to the last digit; C99's functions give the special values
 * of infinite and NaN arguments, which Annex G defines as CPython does. */
#define LARGE_DOUBLE (DBL_MAX / 4.)
#define SQRT_LARGE_DOUBLE 6.703903964971298e+153 /* sqrt(LARGE_DOUBLE) */
#define LOG_LARGE_DOUBLE 708.3964185322641      /* log(LARGE_DOUBLE) */
#define SQRT_DBL_MIN 1.4916681462400413e-154
#define SCALE_UP (2 * (DBL_MANT_DIG / 2) + 1)
#define SCALE_DOWN (-(SCALE_UP + 1) / 2)

typedef double _Complex Cx;


static bool finite_cx(Cx z) { return isfinite(creal(z)) && isfinite(cimag(z)); }

static Cx c_sqrt(Cx z) {
    if (!finite_cx(z)) return csqrt(z);
    if (creal(z) == 0. && cimag(z) == 0.) return CMPLX(0., cimag(z));
    double ax = fabs(creal(z)), ay = fabs(cimag(z)), s;
    if (ax < DBL_MIN && ay < DBL_MIN) {
        ax = ldexp(ax, SCALE_UP);
        s = ldexp(sqrt(ax + hypot(ax, ldexp(ay, SCALE_UP))), SCALE_DOWN);
    } else {
        ax /= 8.;
        s = 2. * sqrt(ax + hypot(ax, ay / 8.));
    }
    double d = ay / (2. * s);
    return creal(z) >= 0. ? CMPLX(s, copysign(d, cimag(z))) : CMPLX(d, copysign(s, cimag(z)));
}

static Cx c_tanh(Cx z) {
    if (!finite_cx(z)) return ctanh(z);
    double x = creal(z), y = cimag(z);
    if (fabs(x) > LOG_LARGE_DOUBLE) return CMPLX(copysign(1., x), 4. * sin(y) * cos(y) * exp(-2. * fabs(x)));
    double tx = tanh(x), ty = tan(y), cx = 1. / cosh(x), txty = tx * ty, denom = 1. + txty * txty;
    return CMPLX(tx * (1. + ty * ty) / denom, ((ty / denom) * cx) * cx);
}

/* f(z) = -i g(iz) for the circular functions from the hyperbolic ones. */
static Cx via_i(Cx (*g)(Cx), Cx z) {
    Cx s = g(CMPLX(-cimag(z), creal(z)));
    return CMPLX(cimag(s), -creal(s));
}

static Cx c_tan(Cx z) { return via_i(c_tanh, z); }

static Cx c_asinh(Cx z) {
    if (!finite_cx(z)) return casinh(z);
    double x = creal(z), y = cimag(z), re, im;
    if (fabs(x) > LARGE_DOUBLE || fabs(y) > LARGE_DOUBLE) {
        double l = log(hypot(x / 2., y / 2.)) + M_LN2 * 2.;
        re = y >= 0. ? copysign(l, x) : -copysign(l, -x);
        im = atan2(y, fabs(x));
    } else {
        Cx s1 = c_sqrt(CMPLX(1. + y, -x)), s2 = c_sqrt(CMPLX(1. - y, x));
        re = asinh(creal(s1) * cimag(s2) - creal(s2) * cimag(s1));
        im = atan2(y, creal(s1) * creal(s2) - cimag(s1) * cimag(s2));
    }
    return CMPLX(re, im);
}

static Cx c_asin(Cx z) { return via_i(c_asinh, z); }

static Cx c_acos(Cx z) {
    if (!finite_cx(z)) return cacos(z);
    double x = creal(z), y = cimag(z), re, im;
    if (fabs(x) > LARGE_DOUBLE || fabs(y) > LARGE_DOUBLE) {
        double l = log(hypot(x / 2., y / 2.)) + M_LN2 * 2.;
        re = atan2(fabs(y), x);
        im = x < 0. ? -copysign(l, y) : copysign(l, -y);
    } else {
        Cx s1 = c_sqrt(CMPLX(1. - x, -y)), s2 = c_sqrt(CMPLX(1. + x, y));
        re = 2. * atan2(creal(s1), creal(s2));
        im = asinh(creal(s2) * cimag(s1) - cimag(s2) * creal(s1));
    }
    return CMPLX(re, im);
}

static Cx c_acosh(Cx z) {
    if (!finite_cx(z)) return cacosh(z);
    double x = creal(z), y = cimag(z);
    if (fabs(x) > LARGE_DOUBLE || fabs(y) > LARGE_DOUBLE)
        return CMPLX(log(hypot(x / 2., y / 2.)) + M_LN2 * 2., atan2(y, x));
    Cx s1 = c_sqrt(CMPLX(x - 1., y)), s2 = c_sqrt(CMPLX(x + 1., y));
    return CMPLX(asinh(creal(s1) * creal(s2) + cimag(s1) * cimag(s2)), 2. * atan2(cimag(s1), creal(s2)));
}

static Cx c_atanh(Cx z) {
    if (!finite_cx(z)) return catanh(z);
    double x = creal(z), y = cimag(z);
    if (x < 0.) return -c_atanh(-z);
    double ay = fabs(y);
    if (x > SQRT_LARGE_DOUBLE || ay > SQRT_LARGE_DOUBLE) {
        double h = hypot(x / 2., y / 2.);
        return CMPLX(x / 4. / h / h, -copysign(M_PI / 2., -y));
    }
    if (x == 1. && ay < SQRT_DBL_MIN) /* ay == 0 is a domain error, refused before */
        return CMPLX(-log(sqrt(ay) / sqrt(hypot(ay, 2.))), copysign(atan2(2., -ay) / 2, y));
    return CMPLX(log1p(4. * x / ((1 - x) * (1 - x) + ay * ay)) / 4., -atan2(-2. * y, (1 - x) * (1 + x) - ay * ay) / 2.);
}

static Cx c_atan(Cx z) { return via_i(c_atanh, z); }

static Cx c_log(Cx z) {
    if (!finite_cx(z)) return clog(z);
    double ax = fabs(creal(z)), ay = fabs(cimag(z)), re;
    if (ax > LARGE_DOUBLE || ay > LARGE_DOUBLE) {
        re = log(hypot(ax / 2., ay / 2.)) + M_LN2;
    } else if (ax < DBL_MIN && ay < DBL_MIN) {
        re = log(hypot(ldexp(ax, DBL_MANT_DIG), ldexp(ay, DBL_MANT_DIG))) - DBL_MANT_DIG * M_LN2;
    } else {
        double h = hypot(ax, ay);
        if (0.71 <= h && h <= 1.73) {
            double am = ax > ay ? ax : ay, an = ax > ay ? ay : ax;
            re = log1p((am - 1) * (am + 1) + an * an) / 2.;
        } else {
            re = log(h);
        }
    }
    return CMPLX(re, atan2(cimag(z), creal(z)));
}

#define CMATH_UNARY(name, cfn)                                                                   \
    static Value cmath_##name(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {           \
        double _Complex z;                                                                        \
        if (!one_complex(ts, #name, args, nargs, kwnames, &z)) return ERROR_VAL;                 \
        return finish(ts, z, cfn(z));                                                            \
    }

CMATH_UNARY(sqrt, c_sqrt)
CMATH_UNARY(exp, cexp)
CMATH_UNARY(sin, csin)
CMATH_UNARY(cos, ccos)
CMATH_UNARY(tan, c_tan)
CMATH_UNARY(asin, c_asin)
CMATH_UNARY(acos, c_acos)
CMATH_UNARY(sinh, csinh)
CMATH_UNARY(cosh, ccosh)
CMATH_UNARY(tanh, c_tanh)
CMATH_UNARY(asinh, c_asinh)
CMATH_UNARY(acosh, c_acosh)

/* The singular points are domain errors, not overflows. */
static Value cmath_atan(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    double _Complex z;
    if (!one_complex(ts, "atan", args, nargs, kwnames, &z)) return ERROR_VAL;
    if (creal(z) == 0.0 && fabs(cimag(z)) == 1.0) return domain_error(ts);
    return finish(ts, z, c_atan(z));
}

static Value cmath_atanh(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    double _Complex z;
    if (!one_complex(ts, "atanh", args, nargs, kwnames, &z)) return ERROR_VAL;
    if (cimag(z) == 0.0 && fabs(creal(z)) == 1.0) return domain_error(ts);
    return finish(ts, z, c_atanh(z));
}

static bool log_of(TState *ts, Value v, double _Complex *out) {
    double re, im;
    if (!complex_coerce(ts, v, &re, &im)) return false;
    if (re == 0.0 && im == 0.0) {
        domain_error(ts);
        return false;
    }
    *out = c_log(CMPLX(re, im));
    return true;
}

/* log(z[, base]) */
static Value cmath_log(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "log", nargs, kwnames, 1, 2)) return ERROR_VAL;
    double _Complex x, b;
    if (!log_of(ts, args[0], &x)) return ERROR_VAL;
    if (nargs == 2) {
        if (!log_of(ts, args[1], &b)) return ERROR_VAL;
        double qr, qi;
        if (!complex_quot(creal(x), cimag(x), creal(b), cimag(b), &qr, &qi))
            return err_format(ts, ts->interp->exc.ZeroDivisionError, "complex division by zero");
        x = CMPLX(qr, qi);
    }
    return complex_new_value(ts, creal(x), cimag(x));
}

static Value cmath_log10(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "log10", nargs, kwnames, 1, 1)) return ERROR_VAL;
    double _Complex x;
    if (!log_of(ts, args[0], &x)) return ERROR_VAL;
    return complex_new_value(ts, creal(x) / M_LN10, cimag(x) / M_LN10);
}

static Value cmath_phase(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    double _Complex z;
    if (!one_complex(ts, "phase", args, nargs, kwnames, &z)) return ERROR_VAL;
    return FLOAT_VAL(atan2(cimag(z), creal(z)));
}

static Value cmath_polar(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    double _Complex z;
    if (!one_complex(ts, "polar", args, nargs, kwnames, &z)) return ERROR_VAL;
    double r = hypot(creal(z), cimag(z));
    if (isinf(r) && isfinite(creal(z)) && isfinite(cimag(z)))
        return err_format(ts, ts->interp->exc.OverflowError, "math range error");
    Value items[2] = {FLOAT_VAL(r), FLOAT_VAL(atan2(cimag(z), creal(z)))};
    ObjTuple *t = tuple_from(ts, items, 2);
    return t ? OBJ_VAL(t) : ERROR_VAL;
}

/* rect(r, phi) = r * (cos(phi) + i sin(phi)); phi == 0 keeps the sign of
 * zero in the imaginary part, as CPython. */
static Value cmath_rect(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "rect", nargs, kwnames, 2, 2)) return ERROR_VAL;
    double r, phi;
    if (!float_coerce(ts, args[0], &r) || !float_coerce(ts, args[1], &phi)) return ERROR_VAL;
    if (isfinite(r) && isinf(phi)) return domain_error(ts);
    if (phi == 0.0) return complex_new_value(ts, r, isinf(r) ? phi : r * phi);
    return complex_new_value(ts, r * cos(phi), r * sin(phi));
}

static Value cmath_isclose(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"$a", "$b", "rel_tol", "abs_tol"};
    Value v[4];
    if (!args_bind(ts, "isclose", args, nargs, kwnames, names, 4, 2, 2, v)) return ERROR_VAL;
    double ar, ai, br, bi, rel_tol = 1e-09, abs_tol = 0.0;
    if (!complex_coerce(ts, v[0], &ar, &ai) || !complex_coerce(ts, v[1], &br, &bi)) return ERROR_VAL;
    if (!IS_EMPTY(v[2]) && !float_coerce(ts, v[2], &rel_tol)) return ERROR_VAL;
    if (!IS_EMPTY(v[3]) && !float_coerce(ts, v[3], &abs_tol)) return ERROR_VAL;
    if (rel_tol < 0.0 || abs_tol < 0.0)
        return err_format(ts, ts->interp->exc.ValueError, "tolerances must be non-negative");
    if (ar == br && ai == bi) return TRUE_VAL;
    if (isinf(ar) || isinf(ai) || isinf(br) || isinf(bi)) return FALSE_VAL;
    double diff = hypot(br - ar, bi - ai);
    return BOOL_VAL(diff <= rel_tol * hypot(br, bi) || diff <= rel_tol * hypot(ar, ai) || diff <= abs_tol);
}

static Value cmath_isnan(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    double _Complex z;
    if (!one_complex(ts, "isnan", args, nargs, kwnames, &z)) return ERROR_VAL;
    return BOOL_VAL(isnan(creal(z)) || isnan(cimag(z)));
}

static Value cmath_isinf(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    double _Complex z;
    if (!one_complex(ts, "isinf", args, nargs, kwnames, &z)) return ERROR_VAL;
    return BOOL_VAL(isinf(creal(z)) || isinf(cimag(z)));
}

static Value cmath_isfinite(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    double _Complex z;
    if (!one_complex(ts, "isfinite", args, nargs, kwnames, &z)) return ERROR_VAL;
    return BOOL_VAL(isfinite(creal(z)) && isfinite(cimag(z)));
}

static const NativeDef cmath_functions[] = {
    {"acos", cmath_acos},     {"acosh", cmath_acosh}, {"asin", cmath_asin},
    {"asinh", cmath_asinh},   {"atan", cmath_atan},   {"atanh", cmath_atanh},
    {"cos", cmath_cos},       {"cosh", cmath_cosh},   {"exp", cmath_exp},
    {"isclose", cmath_isclose}, {"isfinite", cmath_isfinite}, {"isinf", cmath_isinf},
    {"isnan", cmath_isnan},   {"log", cmath_log},     {"log10", cmath_log10},
    {"phase", cmath_phase},   {"polar", cmath_polar}, {"rect", cmath_rect},
    {"sin", cmath_sin},       {"sinh", cmath_sinh},   {"sqrt", cmath_sqrt},
    {"tan", cmath_tan},       {"tanh", cmath_tanh},   {NULL, NULL},
};

static bool set_value(TState *ts, ObjDict *ns, const char *name, Value v) {
    ObjStr *key = str_intern_cstr(ts, name);
    return !IS_ERROR(v) && key && dict_set_str(ts, ns, key, v) == 0;
}

bool mod_cmath_init(TState *ts, ObjDict *ns) {
    for (const NativeDef *d = cmath_functions; d->name; d++) {
        ObjNative *fn = native_new(ts, d->name, d->fn, NULL);
        if (!fn || !set_value(ts, ns, d->name, OBJ_VAL(fn))) return false;
    }
    return set_value(ts, ns, "pi", FLOAT_VAL(M_PI)) && set_value(ts, ns, "e", FLOAT_VAL(M_E)) &&
           set_value(ts, ns, "tau", FLOAT_VAL(2.0 * M_PI)) && set_value(ts, ns, "inf", FLOAT_VAL(INFINITY)) &&
           set_value(ts, ns, "nan", FLOAT_VAL(NAN)) && set_value(ts, ns, "infj", complex_new_value(ts, 0.0, INFINITY)) &&
           set_value(ts, ns, "nanj", complex_new_value(ts, 0.0, NAN));
}
