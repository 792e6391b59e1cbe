#include "runtime/int.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/args.h"
#include "runtime/buffer.h"
#include "runtime/bytes.h"
#include "runtime/error.h"
#include "runtime/gmpalloc.h"
#include "runtime/float.h"
#include "runtime/numfmt.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/strbuf.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/vm.h"

_Static_assert(GMP_NUMB_BITS == 64 && GMP_NAIL_BITS == 0,
               "int.c assumes 64-bit GMP limbs without nail bits");

typedef __int128 i128;
typedef unsigned __int128 u128;

/* CPython 3.11's default sys.get_int_max_str_digits(): decimal conversion
 * of longer ints raises ValueError (it guards against quadratic-time
 * conversions of untrusted input). Power-of-two bases are not limited. */
#define INT_MAX_STR_DIGITS 4300

/* Largest result we attempt, in bits (4 GiB). GMP aborts the process when
 * an mpz outgrows its int-sized limb count (2**31 limbs), so results that
 * could get near it raise MemoryError before we start computing. */
#define INT_MAX_BITS ((uint64_t)1 << 35)
#define INT_MAX_LIMBS (INT_MAX_BITS / GMP_NUMB_BITS)

#define HASH_BITS 61
#define HASH_MODULUS (((uint64_t)1 << HASH_BITS) - 1)

static const char digit_chars[] = "0123456789abcdefghijklmnopqrstuvwxyz";

/* ---- representation ---------------------------------------------------- */

/* Sign and magnitude of any int-like value, the form the mpn layer works
 * on. Unboxed values keep their magnitude in `small`, so an IntParts must
 * not be copied (limbs may point into it). */
typedef struct IntParts {
    const mp_limb_t *limbs;
    mp_size_t n;      /* magnitude limbs, no high zero limb */
    bool neg;         /* never set for zero */
    mp_limb_t small;
} IntParts;

static inline void int_parts(Value v, IntParts *p) {
    if (IS_OBJ(v)) {
        const ObjInt *o = (const ObjInt *)AS_OBJ(v);
        p->neg = o->size < 0;
        p->n = p->neg ? -(mp_size_t)o->size : (mp_size_t)o->size;
        p->limbs = o->limbs;
        return;
    }
    int64_t i = IS_INT(v) ? AS_INT(v) : (int64_t)(v == TRUE_VAL);
    p->neg = i < 0;
    p->small = p->neg ? (mp_limb_t)0 - (mp_limb_t)i : (mp_limb_t)i;
    p->n = i != 0;
    p->limbs = &p->small;
}

static inline mp_limb_t low_limb(const IntParts *p) { return p->n ? p->limbs[0] : 0; }

/* The value of a part whose magnitude is below 2**127 (one or two limbs,
 * the commonest big ints: 64-bit hashes, products of them); false for a
 * larger one. Arithmetic on such values needs no GMP call. */
static inline bool parts_to_i128(const IntParts *p, i128 *out) {
    u128 m;
    if (p->n <= 1) m = low_limb(p);
    else if (p->n == 2 && !(p->limbs[1] >> 63)) m = (u128)p->limbs[1] << 64 | p->limbs[0];
    else return false;
    *out = p->neg ? -(i128)m : (i128)m;
    return true;
}

static inline void parts_mpz(const IntParts *p, mpz_t view) {
    mpz_roinit_n(view, p->limbs, p->neg ? -p->n : p->n);
}

/* Bit length of the magnitude (0 for zero). */
static uint64_t parts_bits(const IntParts *p) {
    if (p->n == 0) return 0;
    return (uint64_t)(p->n - 1) * GMP_NUMB_BITS +
           (uint64_t)(GMP_NUMB_BITS - __builtin_clzll(p->limbs[p->n - 1]));
}

static int mag_cmp(const IntParts *a, const IntParts *b) {
    if (a->n != b->n) return a->n < b->n ? -1 : 1;
    if (a->n == 0) return 0;
    int c = mpn_cmp(a->limbs, b->limbs, a->n);
    return (c > 0) - (c < 0);
}

void int_as_mpz(Value v, mpz_t view, mp_limb_t tmp[2]) {
    if (IS_OBJ(v)) {
        const ObjInt *o = (const ObjInt *)AS_OBJ(v);
        mpz_roinit_n(view, o->limbs, o->size);
        return;
    }
    int64_t i = IS_INT(v) ? AS_INT(v) : (int64_t)(v == TRUE_VAL);
    tmp[0] = i < 0 ? (mp_limb_t)0 - (mp_limb_t)i : (mp_limb_t)i;
    mpz_roinit_n(view, tmp, i < 0 ? -1 : i > 0);
}

/* ---- construction (every result canonical) ---------------------------- */

static ObjInt *bigint_alloc(TState *ts, ObjType *type, uint64_t nlimbs) {
    if (nlimbs > INT_MAX_LIMBS) {
        err_no_memory(ts);
        return NULL;
    }
    ObjInt *o = (ObjInt *)gc_alloc(ts, sizeof(ObjInt) + nlimbs * sizeof(mp_limb_t), OBJ_INT, type);
    if (o) o->size = 0;
    return o;
}

static inline ObjInt *int_alloc(TState *ts, uint64_t nlimbs) {
    return bigint_alloc(ts, ts->interp->types.int_, nlimbs);
}

static inline bool small_from_mag(uint64_t mag, bool neg, Value *out) {
    if (mag <= (uint64_t)SMALL_INT_MAX) {
        *out = INT_VAL(neg ? -(int64_t)mag : (int64_t)mag);
        return true;
    }
    if (neg && mag == (uint64_t)SMALL_INT_MAX + 1) {
        *out = INT_VAL(SMALL_INT_MIN);
        return true;
    }
    return false;
}

/* The canonical value of a magnitude computed into o->limbs[0..n). When it
 * fits the small range `o` is simply dropped (the collector frees it). */
static Value int_finish(ObjInt *o, mp_size_t n, bool neg) {
    while (n > 0 && o->limbs[n - 1] == 0) n--;
    Value v;
    if (n <= 1 && small_from_mag(n ? o->limbs[0] : 0, neg, &v)) return v;
    o->size = (int32_t)(neg ? -n : n);
    return OBJ_VAL(o);
}

static Value int_from_limbs(TState *ts, const mp_limb_t *limbs, mp_size_t n, bool neg) {
    while (n > 0 && limbs[n - 1] == 0) n--;
    Value v;
    if (n <= 1 && small_from_mag(n ? limbs[0] : 0, neg, &v)) return v;
    ObjInt *o = int_alloc(ts, (uint64_t)n);
    if (!o) return ERROR_VAL;
    memcpy(o->limbs, limbs, (size_t)n * sizeof(mp_limb_t));
    o->size = (int32_t)(neg ? -n : n);
    return OBJ_VAL(o);
}

static Value int_from_mag128(TState *ts, u128 mag, bool neg) {
    Value v;
    if (mag >> 64 == 0 && small_from_mag((uint64_t)mag, neg, &v)) return v;
    mp_size_t n = mag >> 64 ? 2 : 1;
    ObjInt *o = int_alloc(ts, (uint64_t)n);
    if (!o) return ERROR_VAL;
    o->limbs[0] = (mp_limb_t)mag;
    if (n == 2) o->limbs[1] = (mp_limb_t)(mag >> 64);
    o->size = (int32_t)(neg ? -n : n);
    return OBJ_VAL(o);
}

static inline Value int_from_i128(TState *ts, i128 x) {
    if (x >= SMALL_INT_MIN && x <= SMALL_INT_MAX) return INT_VAL((int64_t)x);
    return int_from_mag128(ts, x < 0 ? -(u128)x : (u128)x, x < 0);
}

Value int_from_i64(TState *ts, int64_t i) {
    if (SMALL_INT_FITS(i)) return INT_VAL(i);
    uint64_t mag = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
    return int_from_mag128(ts, mag, i < 0);
}

Value int_from_u64(TState *ts, uint64_t u) { return int_from_mag128(ts, u, false); }

Value int_from_mpz(TState *ts, const mpz_t z) {
    return int_from_limbs(ts, mpz_limbs_read(z), (mp_size_t)mpz_size(z), mpz_sgn(z) < 0);
}

/* Converts an mpz result and releases it. */
static Value int_take_mpz(TState *ts, mpz_t z) {
    Value v = int_from_mpz(ts, z);
    mpz_clear(z);
    return v;
}

/* A plain int equal to v (an int subclass instance or bool becomes int). */
static Value int_exact(TState *ts, Value v) {
    if (IS_INT(v)) return v;
    if (IS_BOOL(v)) return INT_VAL(v == TRUE_VAL);
    if (OBJ_TYPE(v) == ts->interp->types.int_) return v;
    IntParts p;
    int_parts(v, &p);
    return int_from_limbs(ts, p.limbs, p.n, p.neg);
}

/* An instance of the int subclass `type` holding v (not canonicalised:
 * even small values are boxed, since they carry their type). */
static Value int_to_subtype(TState *ts, ObjType *type, Value v) {
    IntParts p;
    int_parts(v, &p);
    ObjInt *o = bigint_alloc(ts, type, (uint64_t)p.n);
    if (!o) return ERROR_VAL;
    if (p.n) memcpy(o->limbs, p.limbs, (size_t)p.n * sizeof(mp_limb_t));
    o->size = (int32_t)(p.neg ? -p.n : p.n);
    return OBJ_VAL(o);
}

Value int_from_double(TState *ts, double d) {
    Interp *interp = ts->interp;
    if (isnan(d)) return err_format(ts, interp->exc.ValueError, "cannot convert float NaN to integer");
    if (isinf(d))
        return err_format(ts, interp->exc.OverflowError, "cannot convert float infinity to integer");
    d = trunc(d);
    if (fabs(d) < 9223372036854775808.0) return int_from_i64(ts, (int64_t)d);
    mpz_t z;
    mpz_init_set_d(z, d); /* exact: d is integral */
    return int_take_mpz(ts, z);
}

/* ---- conversions ------------------------------------------------------- */

bool int_to_i64(Value v, int64_t *out) {
    if (IS_INT(v)) {
        *out = AS_INT(v);
        return true;
    }
    if (IS_BOOL(v)) {
        *out = v == TRUE_VAL;
        return true;
    }
    if (!IS_BIGINT(v)) return false;
    IntParts p;
    int_parts(v, &p);
    if (p.n > 1) return false;
    uint64_t m = low_limb(&p);
    if (!p.neg && m <= (uint64_t)INT64_MAX) {
        *out = (int64_t)m;
        return true;
    }
    if (p.neg && m <= (uint64_t)INT64_MAX + 1) {
        *out = m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m;
        return true;
    }
    return false;
}

static Value int_too_large_for_float(TState *ts) {
    return err_format(ts, ts->interp->exc.OverflowError, "int too large to convert to float");
}

Value int_to_float(TState *ts, Value v, double *out) {
    if (IS_INT(v) || IS_BOOL(v)) {
        *out = IS_INT(v) ? (double)AS_INT(v) : (double)(v == TRUE_VAL);
        return FLOAT_VAL(*out);
    }
    IntParts p;
    int_parts(v, &p);
    if (p.n <= 1) {
        double d = (double)low_limb(&p); /* the conversion rounds half-even */
        *out = p.neg ? -d : d;
        return FLOAT_VAL(*out);
    }
    mpz_t z;
    parts_mpz(&p, z);
    if (!numfmt_int_to_double(z, out)) return int_too_large_for_float(ts);
    return FLOAT_VAL(*out);
}

/* Raises the error numfmt described in `err`. */
static Value raise_numfmt(TState *ts, const char *err) {
    switch (numfmt_error_kind(err)) {
    case NUMFMT_MEMORY_ERROR: return err_no_memory(ts);
    case NUMFMT_OVERFLOW_ERROR: return err_set_str(ts, ts->interp->exc.OverflowError, err);
    default: return err_set_str(ts, ts->interp->exc.ValueError, err);
    }
}

static Value str_digits_limit_error(TState *ts) {
    return err_format(ts, ts->interp->exc.ValueError,
                      "Exceeds the limit (%d digits) for integer string conversion; "
                      "use sys.set_int_max_str_digits() to increase the limit",
                      INT_MAX_STR_DIGITS);
}

/* Does |z| have more decimal digits than CPython converts? */
static bool exceeds_str_digits(const mpz_t z) {
    size_t estimate = mpz_sizeinbase(z, 10); /* exact, or one too many */
    if (estimate <= INT_MAX_STR_DIGITS) return false;
    if (estimate > INT_MAX_STR_DIGITS + 1) return true;
    mpz_t limit;
    mpz_init(limit);
    mpz_ui_pow_ui(limit, 10, INT_MAX_STR_DIGITS);
    bool over = mpz_cmpabs(z, limit) >= 0;
    mpz_clear(limit);
    return over;
}

/* Writes the digits of m in `base` ending just before `end`; returns the
 * first digit's position. */
static char *u64_digits(uint64_t m, int base, char *end) {
    char *p = end;
    if (base == 10) {
        do {
            *--p = (char)('0' + m % 10);
            m /= 10;
        } while (m);
    } else {
        unsigned shift = base == 16 ? 4 : base == 8 ? 3 : 1;
        do {
            *--p = digit_chars[m & (uint64_t)(base - 1)];
            m >>= shift;
        } while (m);
    }
    return p;
}

ObjStr *int_to_str(TState *ts, Value v, int base, bool prefix) {
    IntParts p;
    int_parts(v, &p);
    const char *pre = !prefix ? "" : base == 16 ? "0x" : base == 8 ? "0o" : base == 2 ? "0b" : "";
    size_t pre_len = strlen(pre);
    if (p.n <= 1) {
        char buf[80];
        char *end = buf + sizeof buf;
        char *s = u64_digits(low_limb(&p), base, end);
        s -= pre_len;
        memcpy(s, pre, pre_len);
        if (p.neg) *--s = '-';
        return str_new(ts, s, (size_t)(end - s));
    }
    mpz_t z;
    mpz_roinit_n(z, p.limbs, p.n); /* the magnitude: the sign goes before the prefix */
    if (base == 10 && exceeds_str_digits(z)) {
        str_digits_limit_error(ts);
        return NULL;
    }
    size_t cap = mpz_sizeinbase(z, base) + pre_len + 2;
    char *buf = malloc(cap);
    if (!buf) {
        err_no_memory(ts);
        return NULL;
    }
    size_t off = 0;
    if (p.neg) buf[off++] = '-';
    memcpy(buf + off, pre, pre_len);
    off += pre_len;
    GmpGuard g;
    gmpalloc_begin(&g);
    if (setjmp(g.env)) {
        free(buf);
        err_no_memory(ts);
        return NULL;
    }
    mpz_get_str(buf + off, base, z);
    gmpalloc_end(&g);
    ObjStr *s = str_new(ts, buf, off + strlen(buf + off));
    free(buf);
    return s;
}

static int digit_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'z') return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
    return 99;
}

Value int_from_literal(TState *ts, const char *digits, size_t len, int base) {
    uint64_t acc = 0;
    bool fits = len > 0;
    for (size_t i = 0; i < len && fits; i++) {
        if (digits[i] == '_') continue;
        int d = digit_value(digits[i]);
        if (d >= base || acc > (UINT64_MAX - (uint64_t)d) / (uint64_t)base) fits = false;
        else acc = acc * (uint64_t)base + (uint64_t)d;
    }
    if (fits) return int_from_u64(ts, acc);
    mpz_t z;
    mpz_init(z);
    GmpGuard g;
    gmpalloc_begin(&g);
    if (setjmp(g.env)) return err_no_memory(ts);
    bool parsed = numfmt_parse_int_literal(digits, len, base, z);
    gmpalloc_end(&g);
    if (!parsed) {
        mpz_clear(z);
        return err_format(ts, ts->interp->exc.ValueError, "invalid integer literal '%.*s'",
                          (int)(len > 100 ? 100 : len), digits);
    }
    return int_take_mpz(ts, z);
}

/* ---- arithmetic -------------------------------------------------------- */

/* rp = |big| + |little|, |big| having at least as many limbs (and at least
 * one). Returns the carry. */
static mp_limb_t mag_add(mp_limb_t *rp, const IntParts *big, const IntParts *little) {
    if (little->n == 0) {
        memcpy(rp, big->limbs, (size_t)big->n * sizeof(mp_limb_t));
        return 0;
    }
    if (little->n == 1) return mpn_add_1(rp, big->limbs, big->n, little->limbs[0]);
    return mpn_add(rp, big->limbs, big->n, little->limbs, little->n);
}

/* rp = |big| - |little|, with |big| >= |little|. */
static void mag_sub(mp_limb_t *rp, const IntParts *big, const IntParts *little) {
    if (little->n == 0) memcpy(rp, big->limbs, (size_t)big->n * sizeof(mp_limb_t));
    else if (little->n == 1) mpn_sub_1(rp, big->limbs, big->n, little->limbs[0]);
    else mpn_sub(rp, big->limbs, big->n, little->limbs, little->n);
}

static Value int_addsub(TState *ts, Value a, Value b, bool subtract) {
    IntParts pa, pb;
    int_parts(a, &pa);
    int_parts(b, &pb);
    if (subtract && pb.n) pb.neg = !pb.neg;
    i128 x, y, sum;
    if (parts_to_i128(&pa, &x) && parts_to_i128(&pb, &y) && !__builtin_add_overflow(x, y, &sum))
        return int_from_i128(ts, sum);
    const IntParts *big = &pa, *little = &pb;
    if (pa.neg == pb.neg) {
        if (pa.n < pb.n) {
            big = &pb;
            little = &pa;
        }
        ObjInt *r = int_alloc(ts, (uint64_t)big->n + 1);
        if (!r) return ERROR_VAL;
        r->limbs[big->n] = mag_add(r->limbs, big, little);
        return int_finish(r, big->n + 1, big->neg);
    }
    int c = mag_cmp(&pa, &pb);
    if (c == 0) return INT_VAL(0);
    if (c < 0) {
        big = &pb;
        little = &pa;
    }
    ObjInt *r = int_alloc(ts, (uint64_t)big->n);
    if (!r) return ERROR_VAL;
    mag_sub(r->limbs, big, little);
    return int_finish(r, big->n, big->neg);
}

/* rp = big * little (big->n + little->n limbs); false if GMP found no
 * memory for its scratch space. */
static bool mul_limbs(mp_limb_t *rp, const IntParts *big, const IntParts *little) {
    GmpGuard g;
    gmpalloc_begin(&g);
    if (setjmp(g.env)) return false;
    if (little->n == 1)
        rp[big->n] = mpn_mul_1(rp, big->limbs, big->n, little->limbs[0]);
    else if (big->limbs == little->limbs && big->n == little->n)
        mpn_sqr(rp, big->limbs, big->n);
    else
        mpn_mul(rp, big->limbs, big->n, little->limbs, little->n);
    gmpalloc_end(&g);
    return true;
}

static Value int_mul(TState *ts, Value a, Value b) {
    IntParts pa, pb;
    int_parts(a, &pa);
    int_parts(b, &pb);
    bool neg = pa.neg != pb.neg;
    if (pa.n <= 1 && pb.n <= 1) return int_from_mag128(ts, (u128)low_limb(&pa) * low_limb(&pb), neg);
    if (pa.n == 0 || pb.n == 0) return INT_VAL(0);
    i128 x, y, product;
    if (parts_to_i128(&pa, &x) && parts_to_i128(&pb, &y) && !__builtin_mul_overflow(x, y, &product))
        return int_from_i128(ts, product);
    const IntParts *big = &pa, *little = &pb;
    if (pa.n < pb.n) {
        big = &pb;
        little = &pa;
    }
    mp_size_t n = big->n + little->n;
    ObjInt *r = int_alloc(ts, (uint64_t)n);
    if (!r) return ERROR_VAL;
    if (!mul_limbs(r->limbs, big, little)) return err_no_memory(ts);
    return int_finish(r, n, neg);
}

/* Floor division and modulo: sets *q and/or *r (either may be NULL).
 * False after raising ZeroDivisionError with `zero_msg`. */
static bool int_divrem(TState *ts, Value a, Value b, Value *q, Value *r, const char *zero_msg) {
    IntParts pa, pb;
    int_parts(a, &pa);
    int_parts(b, &pb);
    if (pb.n == 0) {
        err_set_str(ts, ts->interp->exc.ZeroDivisionError, zero_msg);
        return false;
    }
    i128 x, y;
    if (parts_to_i128(&pa, &x) && parts_to_i128(&pb, &y)) {
        i128 qq = x / y, rr = x % y; /* no overflow: |x| < 2**127 */
        if (rr != 0 && (rr < 0) != (y < 0)) {
            qq -= 1;
            rr += y;
        }
        if (q && IS_ERROR(*q = int_from_i128(ts, qq))) return false;
        if (r && IS_ERROR(*r = int_from_i128(ts, rr))) return false;
        return true;
    }
    mpz_t za, zb, zq, zr;
    parts_mpz(&pa, za);
    parts_mpz(&pb, zb);
    mpz_inits(zq, zr, NULL);
    GmpGuard g;
    gmpalloc_begin(&g);
    if (setjmp(g.env)) {
        err_no_memory(ts);
        return false;
    }
    mpz_fdiv_qr(zq, zr, za, zb);
    gmpalloc_end(&g);
    bool ok = true;
    if (q && IS_ERROR(*q = int_from_mpz(ts, zq))) ok = false;
    if (ok && r && IS_ERROR(*r = int_from_mpz(ts, zr))) ok = false;
    mpz_clears(zq, zr, NULL);
    return ok;
}

/* a / b correctly rounded, as CPython's long_true_divide: scale so that
 * the integer quotient keeps two or three bits beyond the double's
 * precision (fewer for subnormal results), fold the remainder into a
 * sticky bit, round half-even by hand, and scale back exactly. */
static Value int_truediv(TState *ts, Value a, Value b) {
    IntParts pa, pb;
    int_parts(a, &pa);
    int_parts(b, &pb);
    if (pb.n == 0) return err_format(ts, ts->interp->exc.ZeroDivisionError, "division by zero");
    bool negate = pa.neg != pb.neg;
    const uint64_t exact_limit = (uint64_t)1 << DBL_MANT_DIG;
    if (pa.n <= 1 && pb.n <= 1 && low_limb(&pa) <= exact_limit && low_limb(&pb) <= exact_limit) {
        double x = (double)low_limb(&pa), y = (double)low_limb(&pb);
        return FLOAT_VAL(negate ? -(x / y) : x / y);
    }
    if (pa.n == 0) return FLOAT_VAL(negate ? -0.0 : 0.0);
    int64_t diff = (int64_t)parts_bits(&pa) - (int64_t)parts_bits(&pb);
    if (diff > DBL_MAX_EXP) goto overflow;
    if (diff < DBL_MIN_EXP - DBL_MANT_DIG - 1) return FLOAT_VAL(negate ? -0.0 : 0.0);
    int64_t shift = (diff > DBL_MIN_EXP ? diff : DBL_MIN_EXP) - DBL_MANT_DIG - 2;
    mpz_t za, zb, x, rem;
    mpz_roinit_n(za, pa.limbs, pa.n);
    mpz_roinit_n(zb, pb.limbs, pb.n);
    mpz_inits(x, rem, NULL);
    bool inexact = false;
    if (shift <= 0) {
        mpz_mul_2exp(x, za, (mp_bitcnt_t)-shift);
    } else {
        inexact = mpz_scan1(za, 0) < (mp_bitcnt_t)shift;
        mpz_tdiv_q_2exp(x, za, (mp_bitcnt_t)shift);
    }
    mpz_tdiv_qr(x, rem, x, zb);
    inexact |= mpz_sgn(rem) != 0;
    uint64_t q = mpz_get_ui(x); /* at most DBL_MANT_DIG + 3 bits */
    mpz_clears(x, rem, NULL);
    int64_t q_bits = 64 - __builtin_clzll(q);
    int64_t keep_from = DBL_MIN_EXP - shift;
    int64_t extra_bits = (q_bits > keep_from ? q_bits : keep_from) - DBL_MANT_DIG;
    uint64_t mask = (uint64_t)1 << (extra_bits - 1);
    uint64_t low = q | (uint64_t)inexact;
    if ((low & mask) && (low & (3 * mask - 1))) low += mask;
    low &= ~(2 * mask - 1);
    double dx = (double)low; /* exact */
    if (shift + q_bits >= DBL_MAX_EXP &&
        (shift + q_bits > DBL_MAX_EXP || dx == ldexp(1.0, (int)q_bits)))
        goto overflow;
    double result = ldexp(dx, (int)shift);
    return FLOAT_VAL(negate ? -result : result);
overflow:
    return err_format(ts, ts->interp->exc.OverflowError,
                      "integer division result too large for a float");
}

static Value int_pow(TState *ts, Value a, Value b) {
    IntParts pa, pb;
    int_parts(a, &pa);
    int_parts(b, &pb);
    if (pb.neg) {
        /* A negative exponent gives a float, computed as float ** float. */
        double x, y;
        if (IS_ERROR(int_to_float(ts, a, &x)) || IS_ERROR(int_to_float(ts, b, &y))) return ERROR_VAL;
        return float_binop(ts, BIN_POW, FLOAT_VAL(x), FLOAT_VAL(y));
    }
    if (pb.n == 0) return INT_VAL(1);
    if (pa.n == 0) return INT_VAL(0);
    if (pa.n == 1 && pa.limbs[0] == 1) return INT_VAL(pa.neg && (pb.limbs[0] & 1) ? -1 : 1);
    /* |a| >= 2: the result has at least exponent * (bits(a) - 1) bits. */
    uint64_t abits = parts_bits(&pa);
    if (pb.n > 1 || pb.limbs[0] > INT_MAX_BITS / (abits - 1)) return err_no_memory(ts);
    uint64_t e = pb.limbs[0];
    if (pa.n == 1 && pa.limbs[0] <= (uint64_t)INT64_MAX) {
        int64_t base = pa.neg ? -(int64_t)pa.limbs[0] : (int64_t)pa.limbs[0];
        int64_t result = 1;
        bool overflow = false;
        for (uint64_t bits = e;;) {
            if (bits & 1) overflow |= __builtin_mul_overflow(result, base, &result);
            bits >>= 1;
            if (!bits || overflow) break;
            overflow |= __builtin_mul_overflow(base, base, &base);
        }
        if (!overflow) return int_from_i64(ts, result);
    }
    mpz_t za, r;
    parts_mpz(&pa, za);
    mpz_init(r);
    GmpGuard g;
    gmpalloc_begin(&g);
    if (setjmp(g.env)) return err_no_memory(ts);
    mpz_pow_ui(r, za, e);
    gmpalloc_end(&g);
    return int_take_mpz(ts, r);
}

static Value negative_shift(TState *ts) {
    return err_format(ts, ts->interp->exc.ValueError, "negative shift count");
}

static Value int_lshift(TState *ts, Value a, Value b) {
    IntParts pa, pb;
    int_parts(a, &pa);
    int_parts(b, &pb);
    if (pb.neg) return negative_shift(ts);
    if (pa.n == 0) return INT_VAL(0);
    if (pb.n > 1 || low_limb(&pb) > (uint64_t)INT64_MAX)
        return err_format(ts, ts->interp->exc.OverflowError, "too many digits in integer");
    uint64_t count = low_limb(&pb);
    if (parts_bits(&pa) + count < 128) {
        u128 mag = (u128)pa.limbs[0] << count;
        if (pa.n == 2) mag |= (u128)pa.limbs[1] << 64 << count;
        return int_from_mag128(ts, mag, pa.neg);
    }
    if (count > INT_MAX_BITS) return err_no_memory(ts);
    uint64_t limb_shift = count / GMP_NUMB_BITS;
    unsigned bit_shift = (unsigned)(count % GMP_NUMB_BITS);
    mp_size_t n = pa.n + (mp_size_t)limb_shift + 1;
    ObjInt *r = int_alloc(ts, (uint64_t)n);
    if (!r) return ERROR_VAL;
    memset(r->limbs, 0, limb_shift * sizeof(mp_limb_t));
    if (bit_shift) {
        r->limbs[n - 1] = mpn_lshift(r->limbs + limb_shift, pa.limbs, pa.n, bit_shift);
    } else {
        memcpy(r->limbs + limb_shift, pa.limbs, (size_t)pa.n * sizeof(mp_limb_t));
        r->limbs[n - 1] = 0;
    }
    return int_finish(r, n, pa.neg);
}

/* Arithmetic shift: floor(a / 2**b), so negative values round down. */
static Value int_rshift(TState *ts, Value a, Value b) {
    IntParts pa, pb;
    int_parts(a, &pa);
    int_parts(b, &pb);
    if (pb.neg) return negative_shift(ts);
    if (pa.n == 0) return INT_VAL(0);
    uint64_t count = low_limb(&pb);
    if (pb.n > 1 || count >= (uint64_t)pa.n * GMP_NUMB_BITS) return INT_VAL(pa.neg ? -1 : 0);
    i128 x;
    if (parts_to_i128(&pa, &x)) return int_from_i128(ts, x >> count); /* count < 128 here */
    mp_size_t limb_shift = (mp_size_t)(count / GMP_NUMB_BITS);
    unsigned bit_shift = (unsigned)(count % GMP_NUMB_BITS);
    mp_size_t n = pa.n - limb_shift;
    ObjInt *r = int_alloc(ts, (uint64_t)n + 1);
    if (!r) return ERROR_VAL;
    bool dropped = false;
    if (bit_shift) {
        dropped = mpn_rshift(r->limbs, pa.limbs + limb_shift, n, bit_shift) != 0;
    } else {
        memcpy(r->limbs, pa.limbs + limb_shift, (size_t)n * sizeof(mp_limb_t));
    }
    for (mp_size_t i = 0; i < limb_shift && !dropped; i++) dropped = pa.limbs[i] != 0;
    r->limbs[n] = 0;
    /* floor(-m / 2**k) = -ceil(m / 2**k) */
    if (pa.neg && dropped) r->limbs[n] = mpn_add_1(r->limbs, r->limbs, n, 1);
    return int_finish(r, n + 1, pa.neg);
}

/* & | ^ on two's complement values of unbounded width; bool op bool is a
 * bool. */
static Value int_bitwise(TState *ts, BinOp op, Value a, Value b) {
    if (IS_BOOL(a) && IS_BOOL(b)) {
        bool x = a == TRUE_VAL, y = b == TRUE_VAL;
        return BOOL_VAL(op == BIN_AND ? (x & y) : op == BIN_OR ? (x | y) : (x ^ y));
    }
    IntParts pa, pb;
    int_parts(a, &pa);
    int_parts(b, &pb);
    i128 x, y;
    if (parts_to_i128(&pa, &x) && parts_to_i128(&pb, &y))
        return int_from_i128(ts, op == BIN_AND ? (x & y) : op == BIN_OR ? (x | y) : (x ^ y));
    mpz_t za, zb, r;
    parts_mpz(&pa, za);
    parts_mpz(&pb, zb);
    mpz_init(r);
    GmpGuard g;
    gmpalloc_begin(&g);
    if (setjmp(g.env)) return err_no_memory(ts);
    if (op == BIN_AND) mpz_and(r, za, zb);
    else if (op == BIN_OR) mpz_ior(r, za, zb);
    else mpz_xor(r, za, zb);
    gmpalloc_end(&g);
    return int_take_mpz(ts, r);
}

Value int_binop(TState *ts, BinOp op, Value a, Value b) {
    if (!IS_INTLIKE(a) || !IS_INTLIKE(b)) return NOT_IMPLEMENTED_VAL;
    Value r;
    switch (op) {
    case BIN_ADD: return int_addsub(ts, a, b, false);
    case BIN_SUB: return int_addsub(ts, a, b, true);
    case BIN_MUL: return int_mul(ts, a, b);
    case BIN_TRUEDIV: return int_truediv(ts, a, b);
    case BIN_FLOORDIV:
        return int_divrem(ts, a, b, &r, NULL, "integer division or modulo by zero") ? r : ERROR_VAL;
    case BIN_MOD: return int_divrem(ts, a, b, NULL, &r, "integer modulo by zero") ? r : ERROR_VAL;
    case BIN_POW: return int_pow(ts, a, b);
    case BIN_LSHIFT: return int_lshift(ts, a, b);
    case BIN_RSHIFT: return int_rshift(ts, a, b);
    case BIN_AND:
    case BIN_OR:
    case BIN_XOR: return int_bitwise(ts, op, a, b);
    default: return NOT_IMPLEMENTED_VAL;
    }
}

Value int_divmod(TState *ts, Value a, Value b) {
    if (!IS_INTLIKE(a) || !IS_INTLIKE(b)) return NOT_IMPLEMENTED_VAL;
    Value q, r;
    if (!int_divrem(ts, a, b, &q, &r, "integer division or modulo by zero")) return ERROR_VAL;
    ObjTuple *t = tuple_pack2(ts, q, r);
    return t ? OBJ_VAL(t) : ERROR_VAL;
}

Value int_pow_mod(TState *ts, Value base, Value exp, Value mod) {
    Interp *interp = ts->interp;
    if (!IS_INTLIKE(base) || !IS_INTLIKE(exp) || !IS_INTLIKE(mod))
        return err_format(ts, interp->exc.TypeError,
                          "pow() 3rd argument not allowed unless all arguments are integers");
    IntParts pb, pe, pm;
    int_parts(base, &pb);
    int_parts(exp, &pe);
    int_parts(mod, &pm);
    if (pm.n == 0) return err_format(ts, interp->exc.ValueError, "pow() 3rd argument cannot be 0");
    mpz_t zb, ze, zm, r;
    parts_mpz(&pb, zb);
    mpz_roinit_n(ze, pe.limbs, pe.n); /* |exp| */
    mpz_roinit_n(zm, pm.limbs, pm.n); /* |mod| */
    mpz_init(r);
    GmpGuard g;
    gmpalloc_begin(&g);
    if (setjmp(g.env)) return err_no_memory(ts);
    bool invertible = !pe.neg || mpz_invert(r, zb, zm);
    if (invertible) mpz_powm(r, pe.neg ? r : zb, ze, zm);
    /* mpz_powm gives 0 <= r < |mod|; Python's result takes the modulus's sign. */
    if (invertible && pm.neg && mpz_sgn(r) != 0) mpz_sub(r, r, zm);
    gmpalloc_end(&g);
    if (!invertible) {
        mpz_clear(r);
        return err_format(ts, interp->exc.ValueError, "base is not invertible for the given modulus");
    }
    return int_take_mpz(ts, r);
}

static Value int_negate(TState *ts, Value a) {
    IntParts p;
    int_parts(a, &p);
    return int_from_limbs(ts, p.limbs, p.n, p.n && !p.neg);
}

Value int_abs(TState *ts, Value v) {
    IntParts p;
    int_parts(v, &p);
    return p.neg ? int_negate(ts, v) : int_exact(ts, v);
}

Value int_unop(TState *ts, UnOp op, Value a) {
    if (!IS_INTLIKE(a)) return NOT_IMPLEMENTED_VAL;
    if (!IS_OBJ(a)) {
        int64_t i = IS_INT(a) ? AS_INT(a) : (int64_t)(a == TRUE_VAL);
        switch (op) {
        case UN_NEG: return int_from_i64(ts, -i);
        case UN_POS: return INT_VAL(i);
        case UN_INVERT: return INT_VAL(~i); /* stays in the small range */
        }
    }
    switch (op) {
    case UN_NEG: return int_negate(ts, a);
    case UN_POS: return int_exact(ts, a);
    case UN_INVERT: {
        /* ~a == -(a + 1) */
        IntParts p;
        int_parts(a, &p);
        ObjInt *r = int_alloc(ts, (uint64_t)p.n + 1);
        if (!r) return ERROR_VAL;
        if (p.neg) {
            mpn_sub_1(r->limbs, p.limbs, p.n, 1);
            r->limbs[p.n] = 0;
        } else {
            r->limbs[p.n] = mpn_add_1(r->limbs, p.limbs, p.n, 1);
        }
        return int_finish(r, p.n + 1, !p.neg);
    }
    }
    return NOT_IMPLEMENTED_VAL;
}

int int_compare(Value a, Value b) {
    if (IS_INT(a) && IS_INT(b)) {
        int64_t x = AS_INT(a), y = AS_INT(b);
        return (x > y) - (x < y);
    }
    IntParts pa, pb;
    int_parts(a, &pa);
    int_parts(b, &pb);
    if (pa.neg != pb.neg) return pa.neg ? -1 : 1;
    int c = mag_cmp(&pa, &pb);
    return pa.neg ? -c : c;
}

/* x mod 2**61 - 1 for any 64-bit x: 2**61 is 1 modulo the modulus. */
static inline uint64_t hash_reduce(uint64_t x) {
    uint64_t r = (x & HASH_MODULUS) + (x >> HASH_BITS);
    return r >= HASH_MODULUS ? r - HASH_MODULUS : r;
}

int64_t int_hash(Value v) {
    if (IS_INT(v)) {
        int64_t i = AS_INT(v); /* |i| < 2**61 - 1 already */
        return i == -1 ? -2 : i;
    }
    if (IS_BOOL(v)) return v == TRUE_VAL;
    IntParts p;
    int_parts(v, &p);
    uint64_t h = 0;
    /* Horner over the limbs: h = h * 2**64 + limb, and 2**64 = 2**3 modulo
     * 2**61 - 1. */
    for (mp_size_t i = p.n; i-- > 0;) h = hash_reduce(hash_reduce(h << 3) + hash_reduce(p.limbs[i]));
    int64_t r = p.neg ? -(int64_t)h : (int64_t)h;
    return r == -1 ? -2 : r;
}

Value int_round(TState *ts, Value v, Value ndigits) {
    if (IS_EMPTY(ndigits) || IS_NONE(ndigits)) return int_exact(ts, v);
    int64_t n;
    if (IS_BIGINT(ndigits) && !int_to_i64(ndigits, &n)) {
        /* Huge positive: unchanged; huge negative: 0. */
        return AS_BIGINT(ndigits)->size > 0 ? int_exact(ts, v) : INT_VAL(0);
    }
    if (!args_int(ts, ndigits, &n)) return ERROR_VAL;
    if (n >= 0) return int_exact(ts, v);
    IntParts p;
    int_parts(v, &p);
    mpz_t z, unit, q, r;
    parts_mpz(&p, z);
    /* 10**-n above 2 * |v| rounds everything to 0 (ties impossible). */
    if ((uint64_t)-(n + 1) >= parts_bits(&p)) return INT_VAL(0);
    mpz_inits(unit, q, r, NULL);
    mpz_ui_pow_ui(unit, 10, (unsigned long)-n);
    mpz_fdiv_qr(q, r, z, unit);
    /* Round half to even: compare 2r with the unit. */
    mpz_mul_2exp(r, r, 1);
    int c = mpz_cmp(r, unit);
    if (c > 0 || (c == 0 && mpz_odd_p(q))) mpz_add_ui(q, q, 1);
    mpz_mul(q, q, unit);
    mpz_clears(unit, r, NULL);
    return int_take_mpz(ts, q);
}

Value int_format(TState *ts, Value v, ObjStr *spec) {
    if (spec->len == 0) return ops_str(ts, v);
    FormatSpec fs;
    char err[NUMFMT_ERRLEN];
    if (!numfmt_parse_spec(spec->data, spec->len, &fs, err, sizeof err)) return raise_numfmt(ts, err);
    mp_limb_t tmp[2];
    mpz_t z;
    int_as_mpz(v, z, tmp);
    bool decimal = fs.type == 0 || fs.type == 'd' || fs.type == 'n';
    if (decimal && exceeds_str_digits(z)) return str_digits_limit_error(ts);
    StrBuf sb;
    sb_init(&sb);
    if (!numfmt_format_int(&fs, z, ops_type_name(ts, v), &sb, err, sizeof err)) {
        sb_free(&sb);
        return raise_numfmt(ts, err);
    }
    ObjStr *s = str_from_sb(ts, &sb);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

/* ---- int(x), int(s, base) ---------------------------------------------- */

/* Calls type(v).<name>(v) if the type defines it: EMPTY_VAL when absent. */
static Value call_special(TState *ts, Value v, ObjStr *name) {
    Value fn = type_lookup(val_type(ts, v), name);
    if (IS_EMPTY(fn)) return EMPTY_VAL;
    return vm_call_method(ts, fn, v, NULL, 0, NULL);
}

Value int_index(TState *ts, Value v) {
    if (IS_INTLIKE(v)) return int_exact(ts, v);
    if (!IS_FLOAT(v) && (val_type(ts, v)->flags & TYPEF_HEAPTYPE)) {
        Value r = call_special(ts, v, ts->interp->names.index);
        if (IS_ERROR(r)) return r;
        if (!IS_EMPTY(r)) {
            if (IS_INTLIKE(r)) return int_exact(ts, r);
            return err_format(ts, ts->interp->exc.TypeError, "__index__ returned non-int (type %s)",
                              ops_type_name(ts, r));
        }
    }
    return err_format(ts, ts->interp->exc.TypeError, "'%s' object cannot be interpreted as an integer",
                      ops_type_name(ts, v));
}

/* Is the text's base (after resolving base 0 from its prefix) one whose
 * digits CPython limits? Only non-power-of-two bases are. */
static bool parse_is_limited(const char *s, size_t len, int base) {
    if (base != 0) return (base & (base - 1)) != 0;
    size_t i = 0;
    while (i < len && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r'))) i++;
    if (i < len && (s[i] == '+' || s[i] == '-')) i++;
    if (i + 1 < len && s[i] == '0') {
        char c = (char)(s[i + 1] | 0x20);
        if (c == 'x' || c == 'o' || c == 'b') return false;
    }
    return true;
}

static Value int_from_string(TState *ts, ObjStr *s, int base) {
    mpz_t z;
    mpz_init(z);
    char err[NUMFMT_ERRLEN];
    if (!numfmt_parse_int(s->data, s->len, base, z, err, sizeof err)) {
        mpz_clear(z);
        return raise_numfmt(ts, err);
    }
    if (s->len > INT_MAX_STR_DIGITS && parse_is_limited(s->data, s->len, base)) {
        size_t digits = 0;
        for (size_t i = 0; i < s->len; i++) digits += digit_value(s->data[i]) < 36;
        if (digits > INT_MAX_STR_DIGITS) {
            mpz_clear(z);
            return err_format(ts, ts->interp->exc.ValueError,
                              "Exceeds the limit (%d digits) for integer string conversion: "
                              "value has %zu digits; use sys.set_int_max_str_digits() "
                              "to increase the limit",
                              INT_MAX_STR_DIGITS, digits);
        }
    }
    return int_take_mpz(ts, z);
}

/* int(x) and int(x, base); base is EMPTY_VAL when not given. */
/* int(b'12'), int(bytearray(b'ff'), 16): the text of any bytes-like, with
 * CPython's message quoting the bytes when it is not a number. */
static Value int_from_bytes_like(TState *ts, Value x, int base) {
    Buffer b;
    if (!buffer_get(ts, x, &b, BUF_READ)) return ERROR_VAL;
    /* Only ASCII can spell a number in bytes (no Unicode digits). */
    bool ascii = true;
    for (size_t i = 0; i < b.len && ascii; i++) ascii = (unsigned char)b.buf[i] < 0x80;
    ObjStr *text = ascii ? str_new(ts, b.buf, b.len) : NULL;
    buffer_release(ts, &b);
    if (ascii && !text) return ERROR_VAL;
    Value r = text ? int_from_string(ts, text, base) : err_set_str(ts, ts->interp->exc.ValueError, "");
    if (IS_ERROR(r) && err_matches(ts, ts->interp->exc.ValueError)) {
        err_clear(ts);
        Value q = bytes_from_buffer(ts, x);
        Value rep = IS_ERROR(q) ? q : ops_repr(ts, q);
        if (IS_ERROR(rep)) return rep;
        return err_format(ts, ts->interp->exc.ValueError, "invalid literal for int() with base %d: %s", base,
                          AS_STR(rep)->data);
    }
    return r;
}

Value int_new_value(TState *ts, Value x, Value base) {
    Interp *interp = ts->interp;
    if (!IS_EMPTY(base)) {
        int64_t b;
        if (!args_int(ts, base, &b)) return ERROR_VAL;
        if (IS_EMPTY(x)) return err_format(ts, interp->exc.TypeError, "int() missing string argument");
        if ((b != 0 && b < 2) || b > 36)
            return err_format(ts, interp->exc.ValueError, "int() base must be >= 2 and <= 36, or 0");
        if (IS_BYTES(x) || IS_BYTEARRAY(x)) return int_from_bytes_like(ts, x, (int)b);
        if (!IS_STR(x))
            return err_format(ts, interp->exc.TypeError,
                              "int() can't convert non-string with explicit base");
        return int_from_string(ts, AS_STR(x), (int)b);
    }
    if (IS_EMPTY(x)) return INT_VAL(0);
    if (IS_INTLIKE(x)) return int_exact(ts, x);
    if (IS_FLOAT(x)) return int_from_double(ts, AS_FLOAT(x));
    if (IS_STR(x)) return int_from_string(ts, AS_STR(x), 10);
    if (buffer_check(ts, x)) return int_from_bytes_like(ts, x, 10);
    if (val_type(ts, x)->flags & TYPEF_HEAPTYPE) {
        ObjStr *trunc_name = str_intern_cstr(ts, "__trunc__");
        if (!trunc_name) return ERROR_VAL;
        ObjStr *const specials[] = {interp->names.int_, interp->names.index, trunc_name};
        for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++) {
            Value r = call_special(ts, x, specials[i]);
            if (IS_ERROR(r)) return r;
            if (IS_EMPTY(r)) continue;
            if (IS_INTLIKE(r)) return int_exact(ts, r);
            if (specials[i] == trunc_name) return int_index(ts, r); /* any Integral will do */
            return err_format(ts, interp->exc.TypeError, "%s returned non-int (type %s)",
                              specials[i]->data, ops_type_name(ts, r));
        }
    }
    return err_format(ts, interp->exc.TypeError,
                      "int() argument must be a string, a bytes-like object or a real number, not '%s'",
                      ops_type_name(ts, x));
}

static Value int_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"$x", "base"};
    Value a[2];
    if (!args_bind(ts, "int", args, nargs, kwnames, names, 2, 0, 2, a)) return ERROR_VAL;
    Value r = int_new_value(ts, a[0], a[1]);
    if (IS_ERROR(r) || type == ts->interp->types.int_) return r;
    return int_to_subtype(ts, type, r);
}

/* ---- slots ------------------------------------------------------------- */

static Value int_repr(TState *ts, Value self) {
    ObjStr *s = int_to_str(ts, self, 10, false);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static int int_hash_slot(TState *ts, Value self, int64_t *out) {
    (void)ts;
    *out = int_hash(self);
    return 0;
}

static Value int_richcmp(TState *ts, Value a, Value b, CmpOp op) {
    (void)ts;
    if (!IS_INTLIKE(a)) return NOT_IMPLEMENTED_VAL;
    int c;
    if (IS_INTLIKE(b)) {
        c = int_compare(a, b);
    } else if (IS_FLOAT(b)) {
        c = float_compare_int(AS_FLOAT(b), a);
        if (c == FLOAT_CMP_UNORDERED) return BOOL_VAL(op == CMP_NE);
        c = -c;
    } else {
        return NOT_IMPLEMENTED_VAL;
    }
    return BOOL_VAL(int_cmp_holds(c, op));
}

static int int_truth(TState *ts, Value self) {
    (void)ts;
    if (IS_INT(self)) return AS_INT(self) != 0;
    if (IS_BOOL(self)) return self == TRUE_VAL;
    return AS_BIGINT(self)->size != 0;
}

/* An int holds no references; the empty trace keeps object's from being
 * inherited. */
static void int_trace(GcMarker *m, Obj *self) {
    (void)m;
    (void)self;
}

static size_t int_obj_size(Obj *self) {
    int32_t n = ((ObjInt *)self)->size;
    return sizeof(ObjInt) + (size_t)(n < 0 ? -(int64_t)n : n) * sizeof(mp_limb_t);
}

/* ---- methods ----------------------------------------------------------- */

/* Checks a method's argument count (self included) and that self is an
 * int, as CPython's method descriptors do. */
static bool int_method_args(TState *ts, const char *name, Value *args, int nargs, ObjTuple *kwnames,
                            int min, int max) {
    if (!args_check(ts, name, nargs, kwnames, min, max)) return false;
    if (IS_INTLIKE(args[0])) return true;
    err_format(ts, ts->interp->exc.TypeError,
               "descriptor '%s' for 'int' objects doesn't apply to a '%s' object", name,
               ops_type_name(ts, args[0]));
    return false;
}

static Value int_dunder_binop(TState *ts, const char *name, BinOp op, bool reflected, Value *args,
                              int nargs, ObjTuple *kwnames) {
    if (!int_method_args(ts, name, args, nargs, kwnames, 2, 2)) return ERROR_VAL;
    return reflected ? int_binop(ts, op, args[1], args[0]) : int_binop(ts, op, args[0], args[1]);
}

#define INT_BINOP_METHODS(op, fwd, refl)                                                            \
    static Value int_m_##fwd(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {             \
        return int_dunder_binop(ts, "__" #fwd "__", op, false, args, nargs, kwnames);              \
    }                                                                                              \
    static Value int_m_##refl(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {            \
        return int_dunder_binop(ts, "__" #refl "__", op, true, args, nargs, kwnames);              \
    }
INT_BINOP_METHODS(BIN_ADD, add, radd)
INT_BINOP_METHODS(BIN_SUB, sub, rsub)
INT_BINOP_METHODS(BIN_MUL, mul, rmul)
INT_BINOP_METHODS(BIN_TRUEDIV, truediv, rtruediv)
INT_BINOP_METHODS(BIN_FLOORDIV, floordiv, rfloordiv)
INT_BINOP_METHODS(BIN_MOD, mod, rmod)
INT_BINOP_METHODS(BIN_LSHIFT, lshift, rlshift)
INT_BINOP_METHODS(BIN_RSHIFT, rshift, rrshift)
INT_BINOP_METHODS(BIN_AND, and, rand)
INT_BINOP_METHODS(BIN_OR, or, ror)
INT_BINOP_METHODS(BIN_XOR, xor, rxor)
#undef INT_BINOP_METHODS

static Value int_pow_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!int_method_args(ts, "__pow__", args, nargs, kwnames, 2, 3)) return ERROR_VAL;
    if (nargs == 3 && !IS_NONE(args[2])) {
        if (!IS_INTLIKE(args[1]) || !IS_INTLIKE(args[2])) return NOT_IMPLEMENTED_VAL;
        return int_pow_mod(ts, args[0], args[1], args[2]);
    }
    return int_binop(ts, BIN_POW, args[0], args[1]);
}

static Value int_rpow_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!int_method_args(ts, "__rpow__", args, nargs, kwnames, 2, 3)) return ERROR_VAL;
    if (nargs == 3 && !IS_NONE(args[2])) {
        if (!IS_INTLIKE(args[1]) || !IS_INTLIKE(args[2])) return NOT_IMPLEMENTED_VAL;
        return int_pow_mod(ts, args[1], args[0], args[2]);
    }
    return int_binop(ts, BIN_POW, args[1], args[0]);
}

static Value int_divmod_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!int_method_args(ts, "__divmod__", args, nargs, kwnames, 2, 2)) return ERROR_VAL;
    return int_divmod(ts, args[0], args[1]);
}

static Value int_rdivmod_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!int_method_args(ts, "__rdivmod__", args, nargs, kwnames, 2, 2)) return ERROR_VAL;
    return int_divmod(ts, args[1], args[0]);
}

static Value int_dunder_cmp(TState *ts, const char *name, CmpOp op, Value *args, int nargs,
                            ObjTuple *kwnames) {
    if (!int_method_args(ts, name, args, nargs, kwnames, 2, 2)) return ERROR_VAL;
    return int_richcmp(ts, args[0], args[1], op);
}

#define INT_CMP_METHOD(op, name)                                                        \
    static Value int_m_##name(TState *ts, Value *args, int nargs, ObjTuple *kwnames) { \
        return int_dunder_cmp(ts, "__" #name "__", op, args, nargs, kwnames);           \
    }
INT_CMP_METHOD(CMP_EQ, eq)
INT_CMP_METHOD(CMP_NE, ne)
INT_CMP_METHOD(CMP_LT, lt)
INT_CMP_METHOD(CMP_LE, le)
INT_CMP_METHOD(CMP_GT, gt)
INT_CMP_METHOD(CMP_GE, ge)
#undef INT_CMP_METHOD

static Value int_dunder_unop(TState *ts, const char *name, UnOp op, Value *args, int nargs,
                             ObjTuple *kwnames) {
    if (!int_method_args(ts, name, args, nargs, kwnames, 1, 1)) return ERROR_VAL;
    return int_unop(ts, op, args[0]);
}

static Value int_neg_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return int_dunder_unop(ts, "__neg__", UN_NEG, args, nargs, kwnames);
}

static Value int_pos_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return int_dunder_unop(ts, "__pos__", UN_POS, args, nargs, kwnames);
}

static Value int_invert_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return int_dunder_unop(ts, "__invert__", UN_INVERT, args, nargs, kwnames);
}

static Value int_abs_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!int_method_args(ts, "__abs__", args, nargs, kwnames, 1, 1)) return ERROR_VAL;
    return int_abs(ts, args[0]);
}

static Value int_bool_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!int_method_args(ts, "__bool__", args, nargs, kwnames, 1, 1)) return ERROR_VAL;
    return BOOL_VAL(int_truth(ts, args[0]));
}

/* __int__, __index__, __trunc__, __floor__, __ceil__, conjugate, numerator
 * and real all give the value itself as a plain int. */
static Value int_self_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!int_method_args(ts, "__int__", args, nargs, kwnames, 1, 1)) return ERROR_VAL;
    return int_exact(ts, args[0]);
}

static Value int_float_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!int_method_args(ts, "__float__", args, nargs, kwnames, 1, 1)) return ERROR_VAL;
    double d;
    return int_to_float(ts, args[0], &d);
}

static Value int_round_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!int_method_args(ts, "__round__", args, nargs, kwnames, 1, 2)) return ERROR_VAL;
    return int_round(ts, args[0], nargs > 1 ? args[1] : EMPTY_VAL);
}

static Value int_hash_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!int_method_args(ts, "__hash__", args, nargs, kwnames, 1, 1)) return ERROR_VAL;
    return int_from_i64(ts, int_hash(args[0]));
}

static Value int_repr_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!int_method_args(ts, "__repr__", args, nargs, kwnames, 1, 1)) return ERROR_VAL;
    return int_repr(ts, args[0]);
}

static Value int_format_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!int_method_args(ts, "__format__", args, nargs, kwnames, 2, 2)) return ERROR_VAL;
    if (!IS_STR(args[1]))
        return err_format(ts, ts->interp->exc.TypeError, "__format__() argument must be str, not %s",
                          ops_type_name(ts, args[1]));
    return int_format(ts, args[0], AS_STR(args[1]));
}

static Value int_bit_length(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!int_method_args(ts, "bit_length", args, nargs, kwnames, 1, 1)) return ERROR_VAL;
    IntParts p;
    int_parts(args[0], &p);
    return int_from_u64(ts, parts_bits(&p));
}

static Value int_bit_count(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!int_method_args(ts, "bit_count", args, nargs, kwnames, 1, 1)) return ERROR_VAL;
    IntParts p;
    int_parts(args[0], &p);
    return int_from_u64(ts, p.n ? mpn_popcount(p.limbs, p.n) : 0);
}

static Value int_as_integer_ratio(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!int_method_args(ts, "as_integer_ratio", args, nargs, kwnames, 1, 1)) return ERROR_VAL;
    Value n = int_exact(ts, args[0]);
    if (IS_ERROR(n)) return n;
    ObjTuple *t = tuple_pack2(ts, n, INT_VAL(1));
    return t ? OBJ_VAL(t) : ERROR_VAL;
}

static Value int_get_self(TState *ts, Value self) { return int_exact(ts, self); }

static Value int_get_zero(TState *ts, Value self) {
    (void)ts;
    (void)self;
    return INT_VAL(0);
}

static Value int_get_one(TState *ts, Value self) {
    (void)ts;
    (void)self;
    return INT_VAL(1);
}

static const NativeDef int_methods[] = {
    {"to_bytes", bytes_int_to_bytes},
    {"__add__", int_m_add},
    {"__radd__", int_m_radd},
    {"__sub__", int_m_sub},
    {"__rsub__", int_m_rsub},
    {"__mul__", int_m_mul},
    {"__rmul__", int_m_rmul},
    {"__truediv__", int_m_truediv},
    {"__rtruediv__", int_m_rtruediv},
    {"__floordiv__", int_m_floordiv},
    {"__rfloordiv__", int_m_rfloordiv},
    {"__mod__", int_m_mod},
    {"__rmod__", int_m_rmod},
    {"__pow__", int_pow_method},
    {"__rpow__", int_rpow_method},
    {"__lshift__", int_m_lshift},
    {"__rlshift__", int_m_rlshift},
    {"__rshift__", int_m_rshift},
    {"__rrshift__", int_m_rrshift},
    {"__and__", int_m_and},
    {"__rand__", int_m_rand},
    {"__or__", int_m_or},
    {"__ror__", int_m_ror},
    {"__xor__", int_m_xor},
    {"__rxor__", int_m_rxor},
    {"__divmod__", int_divmod_method},
    {"__rdivmod__", int_rdivmod_method},
    {"__eq__", int_m_eq},
    {"__ne__", int_m_ne},
    {"__lt__", int_m_lt},
    {"__le__", int_m_le},
    {"__gt__", int_m_gt},
    {"__ge__", int_m_ge},
    {"__neg__", int_neg_method},
    {"__pos__", int_pos_method},
    {"__invert__", int_invert_method},
    {"__abs__", int_abs_method},
    {"__bool__", int_bool_method},
    {"__int__", int_self_method},
    {"__index__", int_self_method},
    {"__trunc__", int_self_method},
    {"__floor__", int_self_method},
    {"__ceil__", int_self_method},
    {"__float__", int_float_method},
    {"__round__", int_round_method},
    {"__hash__", int_hash_method},
    {"__repr__", int_repr_method},
    {"__format__", int_format_method},
    {"conjugate", int_self_method},
    {"bit_length", int_bit_length},
    {"bit_count", int_bit_count},
    {"as_integer_ratio", int_as_integer_ratio},
    {NULL, NULL},
};

static const GetSetDef int_getsets[] = {
    {"real", int_get_self, NULL},
    {"imag", int_get_zero, NULL},
    {"numerator", int_get_self, NULL},
    {"denominator", int_get_one, NULL},
    {NULL, NULL, NULL},
};

static const NativeDef int_classmethods[] = {
    {"from_bytes", bytes_int_from_bytes},
    {NULL, NULL},
};

const TypeSpec int_type_spec = {
    .name = "int",
    .kind = OBJ_INT,
    .obj_size = int_obj_size,
    .flags = TYPEF_BASETYPE,
    .repr = int_repr,
    .hash = int_hash_slot,
    .richcmp = int_richcmp,
    .binop = int_binop,
    .unop = int_unop,
    .truth = int_truth,
    .new_ = int_new,
    .trace = int_trace,
    .classmethods = int_classmethods,
    .methods = int_methods,
    .getsets = int_getsets,
};

/* ---- bool -------------------------------------------------------------- */

static Value bool_repr(TState *ts, Value self) {
    ObjStr *s = str_intern_cstr(ts, self == TRUE_VAL ? "True" : "False");
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static Value bool_repr_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__repr__", nargs, kwnames, 1, 1)) return ERROR_VAL;
    if (!IS_BOOL(args[0]))
        return err_format(ts, ts->interp->exc.TypeError,
                          "descriptor '__repr__' for 'bool' objects doesn't apply to a '%s' object",
                          ops_type_name(ts, args[0]));
    return bool_repr(ts, args[0]);
}

static Value bool_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    (void)type;
    if (kwnames && kwnames->len > 0)
        return err_format(ts, ts->interp->exc.TypeError, "bool() takes no keyword arguments");
    if (!args_check(ts, "bool", nargs, NULL, 0, 1)) return ERROR_VAL;
    if (nargs == 0) return FALSE_VAL;
    int t = ops_truth(ts, args[0]);
    return t < 0 ? ERROR_VAL : BOOL_VAL(t);
}

static const NativeDef bool_methods[] = {
    {"__repr__", bool_repr_method},
    {NULL, NULL},
};

/* bool derives from int (types_init passes int as the base): every other
 * slot and method is int's, which treat True and False as 1 and 0 and keep
 * & | ^ of two bools a bool. */
const TypeSpec bool_type_spec = {
    .name = "bool",
    .kind = OBJ_INT,
    .flags = 0, /* bool cannot be subclassed */
    .repr = bool_repr,
    .new_ = bool_new,
    .methods = bool_methods,
};
