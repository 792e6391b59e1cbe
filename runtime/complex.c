#include "runtime/complex.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "runtime/args.h"
#include "runtime/class.h"
#include "runtime/error.h"
#include "runtime/float.h"
#include "runtime/int.h"
#include "runtime/numfmt.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/vm.h"

static Value complex_alloc(TState *ts, ObjType *type, double real, double imag) {
    ObjComplex *c = (ObjComplex *)gc_alloc(ts, sizeof(ObjComplex), OBJ_COMPLEX, type);
    if (!c) return ERROR_VAL;
    c->real = real;
    c->imag = imag;
    return OBJ_VAL(c);
}

Value complex_new_value(TState *ts, double real, double imag) {
    return complex_alloc(ts, ts->interp->types.complex, real, imag);
}

bool complex_coerce(TState *ts, Value v, double *real, double *imag) {
    if (IS_COMPLEX(v)) {
        *real = AS_COMPLEX(v)->real;
        *imag = AS_COMPLEX(v)->imag;
        return true;
    }
    ObjType *t = val_type(ts, v);
    if (t->flags & TYPEF_HEAPTYPE) {
        Value fn = type_lookup(t, str_intern_cstr(ts, "__complex__"));
        if (!IS_EMPTY(fn)) {
            Value r = vm_call_method(ts, fn, v, NULL, 0, NULL);
            if (IS_ERROR(r)) return false;
            if (!IS_COMPLEX(r)) {
                err_format(ts, ts->interp->exc.TypeError, "__complex__ returned non-complex (type %s)",
                           ops_type_name(ts, r));
                return false;
            }
            *real = AS_COMPLEX(r)->real;
            *imag = AS_COMPLEX(r)->imag;
            return true;
        }
    }
    *imag = 0.0;
    return float_coerce(ts, v, real);
}

/* An operand of complex arithmetic: complex, int-like or float; false
 * (without raising) for anything else, which makes the operator
 * NotImplemented. */
static bool operand(TState *ts, Value v, double *re, double *im, bool *ok) {
    *ok = true;
    if (IS_COMPLEX(v)) {
        *re = AS_COMPLEX(v)->real;
        *im = AS_COMPLEX(v)->imag;
        return true;
    }
    if (IS_FLOAT(v) || IS_INTLIKE(v)) {
        *im = 0.0;
        *ok = float_coerce(ts, v, re);
        return true;
    }
    return false;
}

bool complex_quot(double ar, double ai, double br, double bi, double *qr, double *qi) {
    double abs_br = fabs(br), abs_bi = fabs(bi);
    if (abs_br >= abs_bi) {
        if (abs_br == 0.0) return false;
        double ratio = bi / br, denom = br + bi * ratio;
        *qr = (ar + ai * ratio) / denom;
        *qi = (ai - ar * ratio) / denom;
    } else if (abs_bi >= abs_br) {
        double ratio = br / bi, denom = br * ratio + bi;
        *qr = (ar * ratio + ai) / denom;
        *qi = (ai * ratio - ar) / denom;
    } else { /* a NaN in b */
        *qr = *qi = NAN;
    }
    return true;
}

typedef struct Cplx {
    double re, im;
} Cplx;

static Cplx c_prod(Cplx a, Cplx b) {
    return (Cplx){a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re};
}

/* CPython's _Py_c_pow; *domain set for 0 to a negative or complex power. */
static Cplx c_pow(Cplx a, Cplx b, bool *domain) {
    if (b.re == 0.0 && b.im == 0.0) return (Cplx){1.0, 0.0};
    if (a.re == 0.0 && a.im == 0.0) {
        if (b.im != 0.0 || b.re < 0.0) *domain = true;
        return (Cplx){0.0, 0.0};
    }
    double vabs = hypot(a.re, a.im), len = pow(vabs, b.re), at = atan2(a.im, a.re), phase = at * b.re;
    if (b.im != 0.0) {
        len /= exp(at * b.im);
        phase += b.im * log(vabs);
    }
    return (Cplx){len * cos(phase), len * sin(phase)};
}

static Cplx c_powu(Cplx x, long n) {
    Cplx r = {1.0, 0.0}, p = x;
    for (long mask = 1; mask > 0 && n >= mask; mask <<= 1) {
        if (n & mask) r = c_prod(r, p);
        p = c_prod(p, p);
    }
    return r;
}

Value complex_pow_values(TState *ts, double ar, double ai, double br, double bi) {
    Cplx a = {ar, ai}, b = {br, bi}, p;
    bool domain = false;
    long n = (long)br;
    /* Small integral exponents by repeated multiplication, as CPython. */
    if (bi == 0.0 && br == (double)n && n >= -100 && n <= 100) {
        if (n >= 0) {
            p = c_powu(a, n);
        } else {
            Cplx d = c_powu(a, -n);
            domain = !complex_quot(1.0, 0.0, d.re, d.im, &p.re, &p.im);
        }
    } else {
        p = c_pow(a, b, &domain);
    }
    if (domain)
        return err_format(ts, ts->interp->exc.ZeroDivisionError, "0.0 to a negative or complex power");
    if (isinf(p.re) || isinf(p.im))
        return err_format(ts, ts->interp->exc.OverflowError, "complex exponentiation");
    return complex_new_value(ts, p.re, p.im);
}

static Value complex_binop(TState *ts, BinOp op, Value a, Value b) {
    double ar, ai, br, bi;
    bool ok_a, ok_b;
    if (!operand(ts, a, &ar, &ai, &ok_a) || !operand(ts, b, &br, &bi, &ok_b)) return NOT_IMPLEMENTED_VAL;
    if (!ok_a || !ok_b) return ERROR_VAL;
    switch (op) {
    case BIN_ADD: return complex_new_value(ts, ar + br, ai + bi);
    case BIN_SUB: return complex_new_value(ts, ar - br, ai - bi);
    case BIN_MUL: {
        Cplx p = c_prod((Cplx){ar, ai}, (Cplx){br, bi});
        return complex_new_value(ts, p.re, p.im);
    }
    case BIN_TRUEDIV: {
        double qr, qi;
        if (!complex_quot(ar, ai, br, bi, &qr, &qi))
            return err_format(ts, ts->interp->exc.ZeroDivisionError, "complex division by zero");
        return complex_new_value(ts, qr, qi);
    }
    case BIN_POW: return complex_pow_values(ts, ar, ai, br, bi);
    default: return NOT_IMPLEMENTED_VAL;
    }
}

static Value complex_unop(TState *ts, UnOp op, Value a) {
    ObjComplex *c = AS_COMPLEX(a);
    switch (op) {
    case UN_NEG: return complex_new_value(ts, -c->real, -c->imag);
    case UN_POS: return OBJ_TYPE(a) == ts->interp->types.complex ? a : complex_new_value(ts, c->real, c->imag);
    default: return NOT_IMPLEMENTED_VAL;
    }
}

static int complex_truth(TState *ts, Value self) {
    (void)ts;
    return AS_COMPLEX(self)->real != 0.0 || AS_COMPLEX(self)->imag != 0.0;
}

/* == and != only; an int operand compares exactly (big ints included). */
static Value complex_richcmp(TState *ts, Value a, Value b, CmpOp op) {
    if (op != CMP_EQ && op != CMP_NE) return NOT_IMPLEMENTED_VAL;
    if (!IS_COMPLEX(a)) {
        Value t = a;
        a = b;
        b = t;
    }
    ObjComplex *c = AS_COMPLEX(a);
    bool eq;
    if (IS_COMPLEX(b)) {
        eq = c->real == AS_COMPLEX(b)->real && c->imag == AS_COMPLEX(b)->imag;
    } else if (IS_FLOAT(b)) {
        eq = c->imag == 0.0 && c->real == AS_FLOAT(b);
    } else if (IS_INTLIKE(b)) {
        eq = c->imag == 0.0 && float_compare_int(c->real, b) == 0;
    } else {
        return NOT_IMPLEMENTED_VAL;
    }
    return BOOL_VAL(op == CMP_EQ ? eq : !eq);
}

/* hash(re) + 1000003 * hash(im), as CPython: equal to the hash of an equal
 * int or float. */
static int complex_hash(TState *ts, Value self, int64_t *out) {
    (void)ts;
    uint64_t h = (uint64_t)float_hash(AS_COMPLEX(self)->real) + 1000003u * (uint64_t)float_hash(AS_COMPLEX(self)->imag);
    *out = (int64_t)h == -1 ? -2 : (int64_t)h;
    return 0;
}

/* CPython's repr(float) without the ".0" it adds to integral values. */
static size_t part_repr(double x, char *buf) {
    size_t n = numfmt_float_repr(x, buf);
    if (n >= 2 && buf[n - 2] == '.' && buf[n - 1] == '0') buf[n -= 2] = '\0';
    return n;
}

static Value complex_repr(TState *ts, Value self) {
    ObjComplex *c = AS_COMPLEX(self);
    char re[NUMFMT_REPR_BUFSIZE], im[NUMFMT_REPR_BUFSIZE];
    part_repr(c->imag, im);
    /* A real part of +0 is left out, and so are the parentheses. */
    if (c->real == 0.0 && !signbit(c->real)) return OBJ_VAL(str_printf(ts, "%sj", im));
    part_repr(c->real, re);
    const char *sign = im[0] == '-' ? "" : "+";
    return OBJ_VAL(str_printf(ts, "(%s%s%sj)", re, sign, im));
}

/* complex('1+2j'): optional whitespace and parentheses around a real part,
 * an imaginary part ending in j, or both; no whitespace inside. */
static bool parse_part(const char *s, size_t len, double *out) {
    if (len == 0 || len >= 256) return false;
    char err[NUMFMT_ERRLEN];
    return numfmt_parse_float(s, len, out, err, sizeof err);
}

static bool parse_complex(const char *s, size_t len, double *re, double *im) {
    while (len && isspace((unsigned char)*s)) s++, len--;
    while (len && isspace((unsigned char)s[len - 1])) len--;
    if (len >= 2 && s[0] == '(' && s[len - 1] == ')') {
        s++;
        len -= 2;
        while (len && isspace((unsigned char)*s)) s++, len--;
        while (len && isspace((unsigned char)s[len - 1])) len--;
    }
    if (len == 0) return false;
    for (size_t i = 0; i < len; i++)
        if (isspace((unsigned char)s[i])) return false;
    *re = *im = 0.0;
    if ((s[len - 1] | 0x20) != 'j') return parse_part(s, len, re);
    len--;
    /* The imaginary part starts at the last sign that is not an exponent's. */
    size_t split = 0;
    for (size_t i = len; i > 0; i--) {
        char ch = s[i - 1];
        if ((ch == '+' || ch == '-') && i - 1 > 0 && (s[i - 2] | 0x20) != 'e') {
            split = i - 1;
            break;
        }
    }
    if (split && !parse_part(s, split, re)) return false;
    const char *is = s + split;
    size_t ilen = len - split;
    if (ilen == 0 || (ilen == 1 && (is[0] == '+' || is[0] == '-'))) {
        *im = ilen && is[0] == '-' ? -1.0 : 1.0;
        return true;
    }
    return parse_part(is, ilen, im);
}

static Value complex_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"real", "imag"};
    Value v[2];
    Interp *interp = ts->interp;
    if (!args_bind(ts, "complex", args, nargs, kwnames, names, 2, 0, 2, v)) return ERROR_VAL;
    Value r = v[0], i = v[1];
    if (IS_EMPTY(r)) r = INT_VAL(0);
    if (IS_STR(r)) {
        if (!IS_EMPTY(i))
            return err_format(ts, interp->exc.TypeError, "complex() can't take second arg if first is a string");
        double re, im;
        if (!parse_complex(AS_STR(r)->data, AS_STR(r)->len, &re, &im))
            return err_format(ts, interp->exc.ValueError, "complex() arg is a malformed string");
        return complex_alloc(ts, type, re, im);
    }
    if (IS_STR(i)) return err_format(ts, interp->exc.TypeError, "complex() second arg can't be a string");
    if (IS_EMPTY(i) && IS_COMPLEX(r) && OBJ_TYPE(r) == interp->types.complex && type == interp->types.complex) return r;
    /* CPython's complex_new: r + i*1j, where a complex r or i contributes
     * both its parts (and a real one no imaginary zero to add). */
    double rr, ri, ir = 0.0, ii = 0.0;
    bool r_complex = IS_COMPLEX(r) || (val_type(ts, r)->flags & TYPEF_HEAPTYPE);
    if (!IS_COMPLEX(r) && !IS_FLOAT(r) && !IS_INTLIKE(r) && !(val_type(ts, r)->flags & TYPEF_HEAPTYPE))
        return err_format(ts, interp->exc.TypeError,
                          "complex() first argument must be a string or a number, not '%s'", ops_type_name(ts, r));
    if (!complex_coerce(ts, r, &rr, &ri)) {
        if (err_matches(ts, interp->exc.TypeError)) {
            err_clear(ts);
            return err_format(ts, interp->exc.TypeError,
                              "complex() first argument must be a string or a number, not '%s'", ops_type_name(ts, r));
        }
        return ERROR_VAL;
    }
    if (IS_EMPTY(i)) return complex_alloc(ts, type, rr, ri);
    if (!complex_coerce(ts, i, &ir, &ii)) {
        if (err_matches(ts, interp->exc.TypeError)) {
            err_clear(ts);
            return err_format(ts, interp->exc.TypeError,
                              "complex() second argument must be a number, not '%s'", ops_type_name(ts, i));
        }
        return ERROR_VAL;
    }
    if (IS_COMPLEX(i)) rr -= ii;
    if (r_complex) ir += ri;
    return complex_alloc(ts, type, rr, ir);
}

static Value complex_real(TState *ts, Value self) {
    (void)ts;
    return FLOAT_VAL(AS_COMPLEX(self)->real);
}

static Value complex_imag(TState *ts, Value self) {
    (void)ts;
    return FLOAT_VAL(AS_COMPLEX(self)->imag);
}

static Value complex_self_arg(TState *ts, const char *name, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, name, nargs, kwnames, 1, 1)) return ERROR_VAL;
    if (!IS_COMPLEX(args[0])) return err_type_not(ts, args[0], "a complex");
    return args[0];
}

static Value complex_conjugate(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    Value self = complex_self_arg(ts, "conjugate", args, nargs, kwnames);
    if (IS_ERROR(self)) return self;
    return complex_new_value(ts, AS_COMPLEX(self)->real, -AS_COMPLEX(self)->imag);
}

static Value complex_abs(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    Value self = complex_self_arg(ts, "__abs__", args, nargs, kwnames);
    if (IS_ERROR(self)) return self;
    double re = AS_COMPLEX(self)->real, im = AS_COMPLEX(self)->imag, r = hypot(re, im);
    if (isinf(r) && isfinite(re) && isfinite(im))
        return err_format(ts, ts->interp->exc.OverflowError, "absolute value too large");
    return FLOAT_VAL(r);
}

static Value complex_complex(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    Value self = complex_self_arg(ts, "__complex__", args, nargs, kwnames);
    if (IS_ERROR(self)) return self;
    return OBJ_TYPE(self) == ts->interp->types.complex ? self
                                                       : complex_new_value(ts, AS_COMPLEX(self)->real, AS_COMPLEX(self)->imag);
}

static Value complex_getnewargs(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    Value self = complex_self_arg(ts, "__getnewargs__", args, nargs, kwnames);
    if (IS_ERROR(self)) return self;
    Value items[2] = {FLOAT_VAL(AS_COMPLEX(self)->real), FLOAT_VAL(AS_COMPLEX(self)->imag)};
    ObjTuple *t = tuple_from(ts, items, 2);
    return t ? OBJ_VAL(t) : ERROR_VAL;
}

/* The slots as dunder methods, for subclasses reaching them through
 * super() and for explicit calls like complex.__add__(a, b). */
static Value complex_repr_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    Value self = complex_self_arg(ts, "__repr__", args, nargs, kwnames);
    return IS_ERROR(self) ? self : complex_repr(ts, self);
}

static Value complex_hash_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    Value self = complex_self_arg(ts, "__hash__", args, nargs, kwnames);
    if (IS_ERROR(self)) return self;
    int64_t h;
    complex_hash(ts, self, &h);
    return int_from_i64(ts, h);
}

static Value complex_dunder_binop(TState *ts, const char *name, BinOp op, bool reflected, Value *args,
                                  int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, name, nargs, kwnames, 2, 2)) return ERROR_VAL;
    if (!IS_COMPLEX(args[0])) return err_type_not(ts, args[0], "a complex");
    return reflected ? complex_binop(ts, op, args[1], args[0]) : complex_binop(ts, op, args[0], args[1]);
}

#define COMPLEX_BINOP_METHODS(op, fwd, refl)                                                      \
    static Value complex_m_##fwd(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {        \
        return complex_dunder_binop(ts, "__" #fwd "__", op, false, args, nargs, kwnames);        \
    }                                                                                            \
    static Value complex_m_##refl(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {       \
        return complex_dunder_binop(ts, "__" #refl "__", op, true, args, nargs, kwnames);        \
    }
COMPLEX_BINOP_METHODS(BIN_ADD, add, radd)
COMPLEX_BINOP_METHODS(BIN_SUB, sub, rsub)
COMPLEX_BINOP_METHODS(BIN_MUL, mul, rmul)
COMPLEX_BINOP_METHODS(BIN_TRUEDIV, truediv, rtruediv)
COMPLEX_BINOP_METHODS(BIN_POW, pow, rpow)

static Value complex_cmp_method(TState *ts, const char *name, CmpOp op, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, name, nargs, kwnames, 2, 2)) return ERROR_VAL;
    if (!IS_COMPLEX(args[0])) return err_type_not(ts, args[0], "a complex");
    return complex_richcmp(ts, args[0], args[1], op);
}

static Value complex_m_eq(TState *ts, Value *a, int n, ObjTuple *k) { return complex_cmp_method(ts, "__eq__", CMP_EQ, a, n, k); }
static Value complex_m_ne(TState *ts, Value *a, int n, ObjTuple *k) { return complex_cmp_method(ts, "__ne__", CMP_NE, a, n, k); }

static Value complex_m_neg(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    Value self = complex_self_arg(ts, "__neg__", args, nargs, kwnames);
    return IS_ERROR(self) ? self : complex_unop(ts, UN_NEG, self);
}

static Value complex_m_bool(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    Value self = complex_self_arg(ts, "__bool__", args, nargs, kwnames);
    return IS_ERROR(self) ? self : BOOL_VAL(complex_truth(ts, self));
}

static const NativeDef complex_methods[] = {
    {"__repr__", complex_repr_method},
    {"__str__", complex_repr_method},
    {"__hash__", complex_hash_method},
    {"__eq__", complex_m_eq},
    {"__ne__", complex_m_ne},
    {"__add__", complex_m_add},
    {"__radd__", complex_m_radd},
    {"__sub__", complex_m_sub},
    {"__rsub__", complex_m_rsub},
    {"__mul__", complex_m_mul},
    {"__rmul__", complex_m_rmul},
    {"__truediv__", complex_m_truediv},
    {"__rtruediv__", complex_m_rtruediv},
    {"__pow__", complex_m_pow},
    {"__rpow__", complex_m_rpow},
    {"__neg__", complex_m_neg},
    {"__bool__", complex_m_bool},
    {"conjugate", complex_conjugate},
    {"__abs__", complex_abs},
    {"__complex__", complex_complex},
    {"__getnewargs__", complex_getnewargs},
    {NULL, NULL},
};

static const GetSetDef complex_getsets[] = {
    {"real", complex_real, NULL},
    {"imag", complex_imag, NULL},
    {NULL, NULL, NULL},
};

const TypeSpec complex_type_spec = {
    .name = "complex",
    .kind = OBJ_COMPLEX,
    .flags = TYPEF_BASETYPE,
    .repr = complex_repr,
    .hash = complex_hash,
    .richcmp = complex_richcmp,
    .binop = complex_binop,
    .unop = complex_unop,
    .truth = complex_truth,
    .new_ = complex_new,
    .methods = complex_methods,
    .getsets = complex_getsets,
};
