/* The _struct module (stdlib/struct.mini re-exports it, as CPython's
 * struct.py): pack, unpack, pack_into, unpack_from, iter_unpack, calcsize,
 * the Struct class and struct.error, with CPython's formats and messages.
 *
 * A format is parsed once into a Layout: one Code per item (repeat counts
 * expanded, except for 's', 'p' and 'x', whose count is a length), each
 * with its offset and size. '@' (the default) is native: native sizes and
 * alignment; '=', '<', '>' and '!' use the standard sizes without
 * alignment. Native byte order is the machine's (little-endian on the
 * machines mini builds for). Every buffer goes through the buffer protocol
 * (runtime/buffer.h): pack_into writes under the exporter's lock, and
 * unpack_from reads a view. */

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/args.h"
#include "runtime/buffer.h"
#include "runtime/bytes.h"
#include "runtime/class.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/int.h"
#include "runtime/iterator.h"
#include "runtime/list.h"
#include "runtime/module.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "stdlib/builtins.h"
#include "stdlib/modules.h"
#include "vm/gc.h"
#include "vm/interp.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "mod_struct.c assumes a little-endian machine for native order"
#endif

#define EXC(ts) (&(ts)->interp->exc)

typedef struct Code {
    char c;
    size_t offset;
    size_t size;  /* of one item; for s, p, x: the whole field */
} Code;

typedef struct Layout {
    bool little, native;
    size_t size;   /* calcsize */
    size_t ncodes; /* Codes, pad fields ('x') included */
    size_t nitems; /* values packed or unpacked */
    Code *codes;
} Layout;

/* ---- struct.error ---------------------------------------------------------- */

static Value struct_error(TState *ts, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static Value struct_error(TState *ts, const char *fmt, ...) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    Value e = module_attr(ts, "_struct", "error");
    return err_set_str(ts, IS_TYPE(e) ? AS_TYPE(e) : EXC(ts)->ValueError, msg);
}

/* ---- formats ----------------------------------------------------------------- */

static size_t std_size(char c) {
    switch (c) {
    case 'x': case 'c': case 'b': case 'B': case '?': case 's': case 'p': return 1;
    case 'h': case 'H': case 'e': return 2;
    case 'i': case 'I': case 'l': case 'L': case 'f': return 4;
    case 'q': case 'Q': case 'd': return 8;
    default: return 0;
    }
}

static void layout_free(Layout *l) {
    free(l->codes);
    l->codes = NULL;
}

static bool parse_format(TState *ts, const char *f, size_t flen, Layout *l) {
    memset(l, 0, sizeof *l);
    const char *p = f, *end = f + flen;
    l->native = true;
    l->little = true;
    if (p < end && strchr("@=<>!", *p)) {
        l->native = *p == '@';
        l->little = *p == '@' || *p == '=' || *p == '<';
        p++;
    }
    size_t cap = 0, off = 0;
    while (p < end) {
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\v' || *p == '\f') {
            p++;
            continue;
        }
        size_t count = 1;
        bool have_count = false;
        if (*p >= '0' && *p <= '9') {
            count = 0;
            while (p < end && *p >= '0' && *p <= '9') {
                if (count > ((size_t)PTRDIFF_MAX - 9) / 10) {
                    layout_free(l);
                    struct_error(ts, "total struct size too long");
                    return false;
                }
                count = count * 10 + (size_t)(*p++ - '0');
            }
            have_count = true;
            if (p >= end) {
                layout_free(l);
                struct_error(ts, "repeat count given without format specifier");
                return false;
            }
        }
        char c = *p++;
        size_t size = l->native ? (c == 's' || c == 'p' || c == 'x' ? 1 : buffer_item_size(c)) : std_size(c);
        if (!size) {
            layout_free(l);
            struct_error(ts, "bad char in struct format");
            return false;
        }
        (void)have_count;
        if (l->native && c != 's' && c != 'p' && c != 'x' && size > 1) off = (off + size - 1) / size * size;
        size_t reps = c == 's' || c == 'p' || c == 'x' ? (count ? 1 : c == 'x' ? 0 : 1) : count;
        size_t field = c == 's' || c == 'p' || c == 'x' ? count : size;
        for (size_t r = 0; r < reps; r++) {
            if (l->ncodes == cap) {
                cap = cap ? cap * 2 : 8;
                Code *n = realloc(l->codes, cap * sizeof *n);
                if (!n) {
                    layout_free(l);
                    err_no_memory(ts);
                    return false;
                }
                l->codes = n;
            }
            l->codes[l->ncodes++] = (Code){c, off, field};
            if (c != 'x') l->nitems++;
            off += field;
        }
        if (c == 'x' && count == 0) continue;
        if (reps == 0 && c != 'x') continue;
    }
    l->size = off;
    return true;
}

/* ---- packing one item ---------------------------------------------------------- */

static void put_uint(char *p, uint64_t u, size_t n, bool little) {
    for (size_t i = 0; i < n; i++) p[little ? i : n - 1 - i] = (char)(u >> (8 * i));
}

static uint64_t get_uint(const char *p, size_t n, bool little) {
    uint64_t u = 0;
    for (size_t i = 0; i < n; i++) u |= (uint64_t)(unsigned char)p[little ? i : n - 1 - i] << (8 * i);
    return u;
}

/* CPython's wording, which depends on the item size and byte order: the
 * native and little-endian tables name bytes and shorts, the big-endian
 * one names the format character from shorts up. */
static Value range_error(TState *ts, const Layout *l, char c, size_t size, bool is_signed, bool negative) {
    bool big = !l->native && !l->little;
    if (size == 1)
        return struct_error(ts, is_signed ? "byte format requires -128 <= number <= 127"
                                          : "ubyte format requires 0 <= number <= 255");
    if (size == 2 && !big)
        return struct_error(ts, is_signed ? "short format requires -32768 <= number <= 32767"
                                          : "ushort format requires 0 <= number <= 65535");
    if (size == 2 && (is_signed || !negative))
        return struct_error(ts, is_signed ? "'%c' format requires -32768 <= number <= 32767"
                                          : "'%c' format requires 0 <= number <= 65535", c);
    if (size == 4 && is_signed) return struct_error(ts, "'%c' format requires -2147483648 <= number <= 2147483647", c);
    if (size == 4 && !negative) return struct_error(ts, "'%c' format requires 0 <= number <= 4294967295", c);
    return struct_error(ts, "argument out of range");
}

static bool pack_one(TState *ts, const Layout *l, const Code *k, Value v, char *p) {
    char c = k->c;
    switch (c) {
    case 's':
    case 'p': {
        if (!IS_BYTES(v) && !IS_BYTEARRAY(v)) {
            struct_error(ts, "argument for '%c' must be a bytes object", c);
            return false;
        }
        Buffer b;
        if (!buffer_get(ts, v, &b, BUF_READ)) return false;
        size_t room = c == 'p' ? (k->size ? k->size - 1 : 0) : k->size;
        size_t n = b.len < room ? b.len : room;
        memset(p, 0, k->size);
        if (c == 'p' && k->size) {
            memcpy(p + 1, b.buf, n);
            p[0] = (char)(n < 255 ? n : 255);
        } else {
            memcpy(p, b.buf, n);
        }
        buffer_release(ts, &b);
        return true;
    }
    case 'c':
    case '?': {
        int r = buffer_pack_item(ts, c, v, p);
        if (r == -2) struct_error(ts, "char format requires a bytes object of length 1");
        return r == 1;
    }
    case 'e':
    case 'f':
    case 'd': {
        if (!IS_FLOAT(v) && !IS_INTLIKE(v)) {
            struct_error(ts, "required argument is not a float");
            return false;
        }
        double d;
        if (!args_float(ts, v, &d)) return false;
        if (c == 'd') {
            uint64_t u;
            memcpy(&u, &d, 8);
            put_uint(p, u, 8, l->little);
            return true;
        }
        char tmp[4];
        if (c == 'f') {
            float f = (float)d;
            if (!l->native && isinf(f) && !isinf(d)) {
                err_set_str(ts, EXC(ts)->OverflowError, "float too large to pack with f format");
                return false;
            }
            memcpy(tmp, &f, 4);
        } else if (buffer_pack_item(ts, 'e', v, tmp) != 1) {
            if (!err_occurred(ts))
                err_set_str(ts, EXC(ts)->OverflowError, "float too large to pack with e format");
            return false;
        }
        put_uint(p, get_uint(tmp, k->size, true), k->size, l->little);
        return true;
    }
    default:
        break;
    }
    /* Integers. */
    if (!IS_INTLIKE(v)) {
        if (!IS_OBJ(v) || IS_EMPTY(type_lookup(OBJ_TYPE(v), ts->interp->names.index))) {
            struct_error(ts, "required argument is not an integer");
            return false;
        }
        v = int_index(ts, v);
        if (IS_ERROR(v)) return false;
    }
    bool is_signed = c == 'b' || c == 'h' || c == 'i' || c == 'l' || c == 'q' || c == 'n' || c == 'P';
    size_t n = k->size;
    mpz_t z;
    mp_limb_t tmp[2];
    int_as_mpz(v, z, tmp);
    bool negative = mpz_sgn(z) < 0;
    uint64_t u;
    if (c == 'P') {
        /* Pointers take any value that fits a machine word, as CPython. */
        int64_t s;
        if (int_to_i64(v, &s)) u = (uint64_t)s;
        else if (!negative && mpz_sizeinbase(z, 2) <= 64) u = mpz_get_ui(z);
        else {
            range_error(ts, l, c, 8, false, negative);
            return false;
        }
    } else {
        int64_t s;
        bool in_i64 = int_to_i64(v, &s);
        if (!in_i64 && (is_signed || negative || mpz_sizeinbase(z, 2) > 64)) {
            /* Beyond a C long: CPython's conversion fails before any range check. */
            struct_error(ts, "%s", !l->native && !l->little && n == 8 && is_signed ? "int too large to convert"
                                                                                : "argument out of range");
            return false;
        }
        bool ok;
        if (is_signed) {
            int64_t lim = n < 8 ? (int64_t)1 << (n * 8 - 1) : 0;
            ok = n == 8 || (s >= -lim && s < lim);
            u = (uint64_t)s;
        } else {
            ok = !negative && mpz_sizeinbase(z, 2) <= n * 8;
            u = ok ? mpz_get_ui(z) : 0;
        }
        if (!ok) {
            range_error(ts, l, c, n, is_signed, negative);
            return false;
        }
    }
    put_uint(p, u, n, l->little);
    return true;
}

static Value unpack_one(TState *ts, const Layout *l, const Code *k, const char *p) {
    char c = k->c;
    size_t n = k->size;
    switch (c) {
    case 's': {
        ObjBytes *b = bytes_new(ts, p, n);
        return b ? OBJ_VAL(b) : ERROR_VAL;
    }
    case 'p': {
        size_t len = n ? (unsigned char)p[0] : 0;
        if (n && len > n - 1) len = n - 1;
        ObjBytes *b = bytes_new(ts, n ? p + 1 : p, len);
        return b ? OBJ_VAL(b) : ERROR_VAL;
    }
    case 'c':
    case '?':
        return buffer_unpack_item(ts, c, p);
    case 'f':
    case 'd':
    case 'e': {
        char tmp[8];
        put_uint(tmp, get_uint(p, n, l->little), n, true);
        return buffer_unpack_item(ts, c, tmp);
    }
    default:
        break;
    }
    uint64_t u = get_uint(p, n, l->little);
    bool is_signed = c == 'b' || c == 'h' || c == 'i' || c == 'l' || c == 'q' || c == 'n';
    if (is_signed) {
        if (n < 8 && (u >> (n * 8 - 1)) & 1) u |= ~(uint64_t)0 << (n * 8);
        return int_from_i64(ts, (int64_t)u);
    }
    return int_from_u64(ts, u);
}

/* ---- the operations, over a parsed layout ---------------------------------------------- */

static bool pack_to(TState *ts, const Layout *l, Value *vals, int nvals, char *out) {
    if ((size_t)nvals != l->nitems) {
        struct_error(ts, "pack expected %zu items for packing (got %d)", l->nitems, nvals);
        return false;
    }
    memset(out, 0, l->size);
    size_t vi = 0;
    for (size_t i = 0; i < l->ncodes; i++) {
        const Code *k = &l->codes[i];
        if (k->c == 'x') continue;
        if (!pack_one(ts, l, k, vals[vi++], out + k->offset)) return false;
    }
    return true;
}

static Value do_pack(TState *ts, const Layout *l, Value *vals, int nvals) {
    /* Packed aside: packing may run __index__, and a collection then. */
    char *tmp = malloc(l->size ? l->size : 1);
    if (!tmp) return err_no_memory(ts);
    ObjBytes *b = pack_to(ts, l, vals, nvals, tmp) ? bytes_new(ts, tmp, l->size) : NULL;
    free(tmp);
    return b ? OBJ_VAL(b) : ERROR_VAL;
}

static Value unpack_at(TState *ts, const Layout *l, const char *p) {
    ObjTuple *t = tuple_new(ts, l->nitems);
    if (!t) return ERROR_VAL;
    size_t vi = 0;
    for (size_t i = 0; i < l->ncodes; i++) {
        const Code *k = &l->codes[i];
        if (k->c == 'x') continue;
        Value v = unpack_one(ts, l, k, p + k->offset);
        if (IS_ERROR(v)) return v;
        t->items[vi++] = v;
    }
    return OBJ_VAL(t);
}

static Value do_unpack(TState *ts, const Layout *l, Value buffer) {
    Buffer b;
    if (!buffer_get(ts, buffer, &b, BUF_READ)) return ERROR_VAL;
    Value r = b.len != l->size ? struct_error(ts, "unpack requires a buffer of %zu bytes", l->size)
                               : unpack_at(ts, l, b.buf);
    buffer_release(ts, &b);
    return r;
}

static Value do_unpack_from(TState *ts, const Layout *l, Value buffer, Value offset_v) {
    int64_t offset = 0;
    if (!IS_EMPTY(offset_v) && !ops_index(ts, offset_v, &offset)) return ERROR_VAL;
    Buffer b;
    if (!buffer_get(ts, buffer, &b, BUF_READ)) return ERROR_VAL;
    Value r;
    if (offset < 0) {
        if ((size_t)-offset > b.len || b.len - (size_t)-offset + l->size > b.len) {
            r = (size_t)-offset > b.len
                    ? struct_error(ts, "offset %lld out of range for %zu-byte buffer", (long long)offset, b.len)
                    : struct_error(ts, "not enough data to unpack %zu bytes at offset %lld", l->size,
                                   (long long)offset);
            buffer_release(ts, &b);
            return r;
        }
        offset += (int64_t)b.len;
    }
    if ((size_t)offset > b.len || b.len - (size_t)offset < l->size)
        r = struct_error(ts,
                         "unpack_from requires a buffer of at least %zu bytes for unpacking %zu bytes at offset %lld "
                         "(actual buffer size is %zu)",
                         l->size + (size_t)offset, l->size, (long long)offset, b.len);
    else
        r = unpack_at(ts, l, b.buf + offset);
    buffer_release(ts, &b);
    return r;
}

static Value do_pack_into(TState *ts, const Layout *l, Value buffer, Value offset_v, Value *vals, int nvals) {
    /* Packed aside first: packing may run mini code (__index__), and the
     * writable view holds the exporter's lock. */
    char *tmp = malloc(l->size ? l->size : 1);
    if (!tmp) return err_no_memory(ts);
    int64_t offset;
    if (!pack_to(ts, l, vals, nvals, tmp) || !ops_index(ts, offset_v, &offset)) {
        free(tmp);
        return ERROR_VAL;
    }
    if (!buffer_check(ts, buffer) || !(IS_BYTEARRAY(buffer) || IS_KIND(buffer, OBJ_MEMORYVIEW) ||
                                       IS_KIND(buffer, OBJ_ARRAY))) {
        free(tmp);
        return err_format(ts, EXC(ts)->TypeError, "argument must be read-write bytes-like object, not %s",
                          ops_type_name(ts, buffer));
    }
    Buffer b;
    if (!buffer_get(ts, buffer, &b, BUF_WRITE)) {
        free(tmp);
        return ERROR_VAL;
    }
    Value r = NONE_VAL;
    if (offset < 0) {
        if ((size_t)-offset > b.len || (size_t)-offset < l->size) {
            size_t len = b.len;
            buffer_release(ts, &b);
            free(tmp);
            return (size_t)-offset > len
                       ? struct_error(ts, "offset %lld out of range for %zu-byte buffer", (long long)offset, len)
                       : struct_error(ts, "no space to pack %zu bytes at offset %lld", l->size, (long long)offset);
        }
        offset += (int64_t)b.len;
    }
    if ((size_t)offset > b.len || b.len - (size_t)offset < l->size)
        r = struct_error(ts,
                         "pack_into requires a buffer of at least %zu bytes for packing %zu bytes at offset %lld "
                         "(actual buffer size is %zu)",
                         l->size + (size_t)offset, l->size, (long long)offset, b.len);
    else
        memcpy(b.buf + offset, tmp, l->size);
    buffer_release(ts, &b);
    free(tmp);
    return r;
}

/* ---- iter_unpack ------------------------------------------------------------------------------ */

/* The iterator's source is a bytes snapshot of the buffer; aux is the
 * Struct object holding the layout. */
typedef struct ObjStruct {
    Obj obj;
    Layout layout;
    Value format; /* str */
} ObjStruct;

#define AS_STRUCT(v) ((ObjStruct *)AS_OBJ(v))

static Value iter_unpack_step(TState *ts, ObjIterator *it) {
    Value src = it->source;
    if (!IS_BYTES(src)) return EMPTY_VAL;
    const Layout *l = &AS_STRUCT(it->aux)->layout;
    int64_t i = __atomic_fetch_add(&it->index, 1, __ATOMIC_RELAXED);
    if ((size_t)i >= AS_BYTES(src)->len / l->size) return EMPTY_VAL;
    return unpack_at(ts, l, AS_BYTES(src)->data + (size_t)i * l->size);
}

static Value do_iter_unpack(TState *ts, Value st, Value buffer) {
    const Layout *l = &AS_STRUCT(st)->layout;
    if (l->size == 0) return struct_error(ts, "cannot iteratively unpack with a struct of length 0");
    Value snap = bytes_from_buffer(ts, buffer);
    if (IS_ERROR(snap)) return snap;
    if (AS_BYTES(snap)->len % l->size)
        return struct_error(ts, "iterative unpacking requires a buffer of a multiple of %zu bytes", l->size);
    ObjIterator *it = iterator_new(ts, "unpack_iterator", iter_unpack_step, snap, st);
    return it ? OBJ_VAL(it) : ERROR_VAL;
}

/* ---- Struct ------------------------------------------------------------------------------------- */

static Value struct_make(TState *ts, ObjType *type, Value format) {
    const char *f;
    size_t n;
    if (IS_STR(format)) f = AS_STR(format)->data, n = AS_STR(format)->len;
    else if (IS_BYTES(format)) f = AS_BYTES(format)->data, n = AS_BYTES(format)->len;
    else
        return err_format(ts, EXC(ts)->TypeError, "Struct() argument 1 must be a str or bytes object, not %s",
                          ops_type_name(ts, format));
    Layout l;
    if (!parse_format(ts, f, n, &l)) return ERROR_VAL;
    ObjStr *fs = str_new(ts, f, n);
    ObjStruct *s = fs ? (ObjStruct *)gc_alloc(ts, sizeof(ObjStruct), OBJ_OPAQUE, type) : NULL;
    if (!s) {
        layout_free(&l);
        return ERROR_VAL;
    }
    s->layout = l;
    s->format = OBJ_VAL(fs);
    return OBJ_VAL(s);
}

/* The Struct for a module-level call's format (a Struct made per call:
 * CPython caches them, parsing is cheap here). */
static Value struct_for(TState *ts, Value format) {
    ObjType *t = module_type(ts, "_struct", "Struct");
    return t ? struct_make(ts, t, format) : ERROR_VAL;
}

static Value struct_new_slot(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"format"};
    Value a[1];
    if (!args_bind(ts, "Struct", args, nargs, kwnames, names, 1, 1, 1, a)) return ERROR_VAL;
    return struct_make(ts, type, a[0]);
}

static void struct_trace(GcMarker *m, Obj *self) { gc_mark_value(m, ((ObjStruct *)self)->format); }
static void struct_finalize(Obj *self) { layout_free(&((ObjStruct *)self)->layout); }

static Value st_pack(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "pack", 0, kwnames, 0, 0)) return ERROR_VAL;
    return do_pack(ts, &AS_STRUCT(args[0])->layout, args + 1, nargs - 1);
}
static Value st_unpack(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("unpack", 1, 1);
    return do_unpack(ts, &AS_STRUCT(args[0])->layout, args[1]);
}
static Value st_unpack_from(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"buffer", "offset"};
    Value a[2];
    if (!args_bind(ts, "unpack_from", args + 1, nargs - 1, kwnames, names, 2, 1, 2, a)) return ERROR_VAL;
    return do_unpack_from(ts, &AS_STRUCT(args[0])->layout, a[0], a[1]);
}
static Value st_pack_into(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "pack_into", nargs - 1, kwnames, 2, -1)) return ERROR_VAL;
    return do_pack_into(ts, &AS_STRUCT(args[0])->layout, args[1], args[2], args + 3, nargs - 3);
}
static Value st_iter_unpack(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("iter_unpack", 1, 1);
    return do_iter_unpack(ts, args[0], args[1]);
}
static Value st_repr(TState *ts, Value self) {
    Value r = ops_repr(ts, AS_STRUCT(self)->format);
    if (IS_ERROR(r)) return r;
    ObjStr *s = str_printf(ts, "Struct(%s)", AS_STR(r)->data);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}
static Value g_format(TState *ts, Value self) {
    (void)ts;
    return AS_STRUCT(self)->format;
}
static Value g_size(TState *ts, Value self) {
    (void)ts;
    return INT_VAL((int64_t)AS_STRUCT(self)->layout.size);
}

static const NativeDef struct_methods[] = {
    {"pack", st_pack},           {"unpack", st_unpack},           {"unpack_from", st_unpack_from},
    {"pack_into", st_pack_into}, {"iter_unpack", st_iter_unpack}, {NULL, NULL},
};

static const GetSetDef struct_getsets[] = {
    {"format", g_format, NULL},
    {"size", g_size, NULL},
    {NULL, NULL, NULL},
};

static const TypeSpec struct_spec = {
    .name = "Struct",
    .kind = OBJ_OPAQUE,
    .flags = TYPEF_BASETYPE,
    .repr = st_repr,
    .new_ = struct_new_slot,
    .trace = struct_trace,
    .finalize = struct_finalize,
    .methods = struct_methods,
    .getsets = struct_getsets,
};

/* ---- module functions: a Struct per call, then its method -------------------------------------- */

static Value with_struct(TState *ts, const char *name, Value *args, int nargs, ObjTuple *kwnames, NativeFn method,
                         int min) {
    if (nargs < 1) return err_format(ts, EXC(ts)->TypeError, "%s expected at least %d arguments, got %d", name, min,
                                     nargs);
    Value st = struct_for(ts, args[0]);
    if (IS_ERROR(st)) return st;
    Value saved = args[0];
    args[0] = st;
    Value r = method(ts, args, nargs, kwnames);
    args[0] = saved;
    return r;
}

static Value f_pack(TState *ts, Value *args, int nargs, ObjTuple *kw) {
    return with_struct(ts, "pack", args, nargs, kw, st_pack, 1);
}
static Value f_unpack(TState *ts, Value *args, int nargs, ObjTuple *kw) {
    return with_struct(ts, "unpack", args, nargs, kw, st_unpack, 2);
}
static Value f_unpack_from(TState *ts, Value *args, int nargs, ObjTuple *kw) {
    return with_struct(ts, "unpack_from", args, nargs, kw, st_unpack_from, 2);
}
static Value f_pack_into(TState *ts, Value *args, int nargs, ObjTuple *kw) {
    return with_struct(ts, "pack_into", args, nargs, kw, st_pack_into, 3);
}
static Value f_iter_unpack(TState *ts, Value *args, int nargs, ObjTuple *kw) {
    return with_struct(ts, "iter_unpack", args, nargs, kw, st_iter_unpack, 2);
}
static Value f_calcsize(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "calcsize", nargs, kwnames, 1, 1)) return ERROR_VAL;
    Value st = struct_for(ts, args[0]);
    return IS_ERROR(st) ? st : INT_VAL((int64_t)AS_STRUCT(st)->layout.size);
}

static const NativeDef struct_functions[] = {
    {"pack", f_pack},
    {"unpack", f_unpack},
    {"unpack_from", f_unpack_from},
    {"pack_into", f_pack_into},
    {"iter_unpack", f_iter_unpack},
    {"calcsize", f_calcsize},
    {NULL, NULL},
};

bool mod_struct_init(TState *ts, ObjDict *ns) {
    ObjStr *module = str_intern_cstr(ts, "_struct");
    if (!module || !builtins_add_natives(ts, ns, struct_functions) ||
        IS_ERROR(module_add_exception(ts, ns, module, "error", ts->interp->exc.Exception, NULL)))
        return false;
    ObjType *t = type_from_spec(ts, &struct_spec, NULL);
    if (!t) return false;
    t->module = OBJ_VAL(module);
    return dict_set_str(ts, ns, t->name, OBJ_VAL(t)) == 0;
}
