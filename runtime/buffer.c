/* The buffer protocol: see buffer.h. */
#include "runtime/buffer.h"

#include <math.h>
#include <stdlib.h>
#include <sys/types.h>
#include <string.h>

#include "runtime/args.h"
#include "runtime/bytes.h"
#include "runtime/error.h"
#include "runtime/float.h"
#include "runtime/int.h"
#include "runtime/ops.h"
#include "runtime/types.h"
#include "vm/interp.h"

bool buffer_check(TState *ts, Value v) {
    (void)ts;
    return IS_OBJ(v) && OBJ_TYPE(v)->getbuffer != NULL;
}

bool buffer_get(TState *ts, Value v, Buffer *view, int flags) {
    GetBufferFn get = IS_OBJ(v) ? OBJ_TYPE(v)->getbuffer : NULL;
    if (!get) {
        err_format(ts, ts->interp->exc.TypeError, "a bytes-like object is required, not '%s'",
                   ops_type_name(ts, v));
        return false;
    }
    memset(view, 0, sizeof *view);
    return get(ts, v, view, flags) == 0;
}

void buffer_release(TState *ts, Buffer *view) {
    buffer_release_export(view);
    if (IS_OBJ(view->obj)) {
        ReleaseBufferFn rel = OBJ_TYPE(view->obj)->releasebuffer;
        if (rel) rel(ts, view);
    }
    free(view->copy);
    view->copy = NULL;
    view->obj = NONE_VAL;
}

bool buffer_fill(TState *ts, Buffer *view, Value obj, char *p, size_t len, bool readonly,
                 int flags, bool copy) {
    if ((flags & BUF_WRITE) && readonly) {
        err_format(ts, ts->interp->exc.TypeError, "cannot use a %s object as a writable buffer",
                   ops_type_name(ts, obj));
        return false;
    }
    view->obj = obj;
    view->len = len;
    view->format = "B";
    view->itemsize = 1;
    view->readonly = readonly;
    view->flags = flags;
    view->copy = NULL;
    view->buf = p;
    if (copy) {
        view->copy = malloc(len ? len : 1);
        if (!view->copy) {
            err_no_memory(ts);
            return false;
        }
        if (len) memcpy(view->copy, p, len);
        view->buf = view->copy;
    }
    return true;
}

bool buffer_export(TState *ts, BufferExports *_Atomic *slot, Buffer *view) {
    BufferExports *e = atomic_load_explicit(slot, memory_order_acquire);
    if (!e) {
        e = malloc(sizeof *e);
        if (!e) {
            err_no_memory(ts);
            return false;
        }
        atomic_init(&e->views, 0);
        atomic_init(&e->refs, 1); /* the exporter's */
        atomic_store_explicit(slot, e, memory_order_release);
    }
    atomic_fetch_add(&e->views, 1);
    atomic_fetch_add(&e->refs, 1);
    view->exports = e;
    return true;
}

int buffer_views(BufferExports *_Atomic *slot) {
    BufferExports *e = atomic_load_explicit(slot, memory_order_acquire);
    return e ? atomic_load(&e->views) : 0;
}

void buffer_exports_drop(BufferExports *e) {
    if (e && atomic_fetch_sub(&e->refs, 1) == 1) free(e);
}

void buffer_release_export(Buffer *view) {
    BufferExports *e = view->exports;
    if (!e) return;
    view->exports = NULL;
    atomic_fetch_sub(&e->views, 1);
    buffer_exports_drop(e);
}

/* ---- native items -------------------------------------------------------- */

size_t buffer_item_size(char c) {
    switch (c) {
    case 'b': case 'B': case 'c': case '?': return 1;
    case 'h': case 'H': case 'e': return 2;
    case 'i': case 'I': case 'f': return 4;
    case 'l': case 'L': return sizeof(long);
    case 'q': case 'Q': case 'd': return 8;
    case 'n': case 'N': return sizeof(size_t);
    case 'P': return sizeof(void *);
    default: return 0;
    }
}

/* IEEE half precision, as CPython's PyFloat_Pack2/Unpack2 (round half even). */
static double half_to_double(uint16_t h) {
    int e = (h >> 10) & 0x1f;
    double m = h & 0x3ff;
    double r = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(m + 1024, e - 25);
    return (h & 0x8000) ? -r : r;
}

static bool double_to_half(double d, uint16_t *out) {
    uint16_t sign = signbit(d) ? 0x8000 : 0;
    double a = fabs(d);
    if (isnan(d)) {
        *out = sign | 0x7e00;
        return true;
    }
    if (isinf(d)) {
        *out = sign | 0x7c00;
        return true;
    }
    int e;
    double f = frexp(a, &e); /* a = f * 2^e, 0.5 <= f < 1 */
    if (a == 0) {
        *out = sign;
        return true;
    }
    double scaled;
    int bits;
    if (e < -13) { /* subnormal: units of 2^-24 */
        scaled = ldexp(a, 24);
        bits = 0;
    } else {
        scaled = ldexp(f, 11) - 1024; /* 10 mantissa bits */
        bits = e + 14;
    }
    double r = nearbyint(scaled);
    if (bits == 0) {
        if (r >= 1024) { bits = 1; r -= 1024; }
    } else if (r >= 1024) {
        r = 0;
        bits++;
    }
    if (bits >= 31) return false;
    *out = sign | (uint16_t)(bits << 10) | (uint16_t)r;
    return true;
}

Value buffer_unpack_item(TState *ts, char c, const char *p) {
    union {
        int8_t b; uint8_t B; int16_t h; uint16_t H; int32_t i; uint32_t I; long l; unsigned long L;
        int64_t q; uint64_t Q; ssize_t n; size_t N; float f; double d; void *P;
    } u;
    size_t n = buffer_item_size(c);
    memcpy(&u, p, n);
    switch (c) {
    case 'b': return INT_VAL(u.b);
    case 'B': return INT_VAL(u.B);
    case 'c': {
        ObjBytes *b = bytes_new(ts, p, 1);
        return b ? OBJ_VAL(b) : ERROR_VAL;
    }
    case '?': return BOOL_VAL(u.B != 0);
    case 'h': return INT_VAL(u.h);
    case 'H': return INT_VAL(u.H);
    case 'i': return INT_VAL(u.i);
    case 'I': return INT_VAL(u.I);
    case 'l': return int_from_i64(ts, u.l);
    case 'L': return int_from_u64(ts, u.L);
    case 'q': return int_from_i64(ts, u.q);
    case 'Q': return int_from_u64(ts, u.Q);
    case 'n': return int_from_i64(ts, u.n);
    case 'N': return int_from_u64(ts, u.N);
    case 'P': return int_from_u64(ts, (uint64_t)(uintptr_t)u.P);
    case 'f': return FLOAT_VAL(u.f);
    case 'd': return FLOAT_VAL(u.d);
    case 'e': return FLOAT_VAL(half_to_double(u.H));
    default: return err_format(ts, ts->interp->exc.ValueError, "unsupported format '%c'", c);
    }
}

int buffer_pack_item(TState *ts, char c, Value v, char *p) {
    size_t n = buffer_item_size(c);
    if (c == 'f' || c == 'd' || c == 'e') {
        double d;
        if (!IS_FLOAT(v) && !IS_INTLIKE(v)) return -2;
        if (!args_float(ts, v, &d)) return -1;
        if (c == 'd') {
            memcpy(p, &d, 8);
        } else if (c == 'f') {
            float f = (float)d;
            if (isinf(f) && !isinf(d)) return 0;
            memcpy(p, &f, 4);
        } else {
            uint16_t h;
            if (!double_to_half(d, &h)) return 0;
            memcpy(p, &h, 2);
        }
        return 1;
    }
    if (c == 'c') {
        if (!IS_BYTES(v) && !IS_BYTEARRAY(v)) return -2;
        Buffer b;
        if (!buffer_get(ts, v, &b, BUF_READ)) return -1;
        bool one = b.len == 1;
        if (one) *p = b.buf[0];
        buffer_release(ts, &b);
        return one ? 1 : -2;
    }
    if (c == '?') {
        int t = ops_truth(ts, v);
        if (t < 0) return -1;
        *p = (char)t;
        return 1;
    }
    if (!IS_INTLIKE(v)) {
        if (!IS_OBJ(v) || IS_EMPTY(type_lookup(OBJ_TYPE(v), ts->interp->names.index))) return -2;
        v = int_index(ts, v);
        if (IS_ERROR(v)) return -1;
    }
    bool is_signed = c == 'b' || c == 'h' || c == 'i' || c == 'l' || c == 'q' || c == 'n';
    uint64_t u;
    if (is_signed) {
        int64_t s;
        if (!int_to_i64(v, &s)) return 0;
        if (n < 8) {
            int64_t lim = (int64_t)1 << (n * 8 - 1);
            if (s < -lim || s >= lim) return 0;
        }
        u = (uint64_t)s;
    } else {
        mpz_t z;
        mp_limb_t tmp[2];
        int_as_mpz(v, z, tmp);
        if (mpz_sgn(z) < 0 || mpz_sizeinbase(z, 2) > n * 8) return 0;
        u = mpz_get_ui(z);
    }
    /* A little-endian machine: the low n bytes. */
    memcpy(p, &u, n);
    return 1;
}
