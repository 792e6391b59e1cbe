/* str: immutable UTF-8 text.
 *
 * Every string knows its byte length, its length in code points and its
 * hash from birth. Indexing walks the UTF-8 bytes, except for ASCII strings
 * (flag STR_ASCII), where byte and code point positions coincide. Case
 * mapping and character classes cover ASCII exactly and the rest of Unicode
 * through small range tables (Latin, Greek, Cyrillic, Armenian, CJK...),
 * which is what scripts meet in practice. */
#include "runtime/str.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/args.h"
#include "runtime/buffer.h"
#include "runtime/codec.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/int.h"
#include "runtime/iterator.h"
#include "runtime/list.h"
#include "runtime/numfmt.h"
#include "runtime/ops.h"
#include "runtime/range.h"
#include "runtime/strbuf.h"
#include "runtime/tuple.h"
#include "runtime/xid.h"
#include "runtime/types.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/sync.h"
#include "vm/vm.h"

#define EXC(ts) (&(ts)->interp->exc)

static inline Value str_or_error(ObjStr *s) { return s ? OBJ_VAL(s) : ERROR_VAL; }

/* ---- UTF-8 ------------------------------------------------------------ */

static inline bool is_cont(unsigned char c) { return (c & 0xC0) == 0x80; }

static inline size_t lead_len(unsigned char c) {
    if (c < 0xC0) return 1; /* ASCII, or a stray continuation byte */
    if (c < 0xE0) return 2;
    if (c < 0xF0) return 3;
    return 4;
}

uint32_t str_utf8_decode(const char *p, size_t avail, size_t *nbytes) {
    const unsigned char *s = (const unsigned char *)p;
    size_t n = lead_len(s[0]);
    if (n > avail) n = 1;
    *nbytes = n;
    switch (n) {
    case 1: return s[0];
    case 2: return ((uint32_t)(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
    case 3: return ((uint32_t)(s[0] & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    default:
        return ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
               ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
    }
}

size_t str_utf8_encode(uint32_t cp, char *out) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes the code point at p, never reading at or past end. */
static inline uint32_t decode_at(const char *p, const char *end, size_t *n) {
    if ((unsigned char)*p < 0x80) {
        *n = 1;
        return (unsigned char)*p;
    }
    return str_utf8_decode(p, (size_t)(end - p), n);
}

/* Start of the code point that ends just before p (p > start). */
static inline const char *prev_char(const char *start, const char *p) {
    p--;
    while (p > start && is_cont((unsigned char)*p)) p--;
    return p;
}

/* Code points in [p, p + len): bytes that are not continuation bytes. */
static size_t count_chars(const char *p, size_t len) {
    size_t cont = 0, i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        /* continuation bytes have bit 7 set and bit 6 clear */
        uint64_t c = w & ~(w << 1) & 0x8080808080808080ULL;
        cont += (size_t)__builtin_popcountll(c);
    }
    for (; i < len; i++) cont += is_cont((unsigned char)p[i]);
    return len - cont;
}

static bool all_ascii(const char *p, size_t len) {
    size_t i = 0;
    uint64_t acc = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        acc |= w;
    }
    for (; i < len; i++) acc |= (unsigned char)p[i];
    return (acc & 0x8080808080808080ULL) == 0;
}

bool str_utf8_valid(const char *p, size_t len) {
    const unsigned char *s = (const unsigned char *)p, *end = s + len;
    while (s < end) {
        unsigned char c = *s;
        if (c < 0x80) {
            s++;
            continue;
        }
        size_t n;
        uint32_t cp, min;
        if (c >= 0xC2 && c <= 0xDF) n = 2, cp = c & 0x1F, min = 0x80;
        else if (c >= 0xE0 && c <= 0xEF) n = 3, cp = c & 0x0F, min = 0x800;
        else if (c >= 0xF0 && c <= 0xF4) n = 4, cp = c & 0x07, min = 0x10000;
        else return false;
        if ((size_t)(end - s) < n) return false;
        for (size_t i = 1; i < n; i++) {
            if (!is_cont(s[i])) return false;
            cp = (cp << 6) | (s[i] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        s += n;
    }
    return true;
}

size_t str_byte_offset(const ObjStr *s, size_t index) {
    if (STR_IS_ASCII(s) || index == 0) return index < s->len ? index : s->len;
    if (index >= s->nchars) return s->len;
    const unsigned char *p = (const unsigned char *)s->data;
    size_t seen = 0;
    for (size_t off = 0; off < s->len; off++) {
        if (is_cont(p[off])) continue;
        if (seen == index) return off;
        seen++;
    }
    return s->len;
}

/* Code point index of byte offset `off` (at a character boundary). */
static size_t char_index(const ObjStr *s, size_t off) {
    return STR_IS_ASCII(s) ? off : count_chars(s->data, off);
}

/* Byte offsets of the code point range [cs, ce), cs <= ce <= nchars. */
static void char_range(const ObjStr *s, size_t cs, size_t ce, size_t *bs, size_t *be) {
    if (STR_IS_ASCII(s)) {
        *bs = cs;
        *be = ce;
        return;
    }
    *bs = str_byte_offset(s, cs);
    if (ce >= s->nchars) {
        *be = s->len;
        return;
    }
    const unsigned char *p = (const unsigned char *)s->data;
    size_t seen = cs, off = *bs;
    for (; off < s->len; off++) {
        if (is_cont(p[off])) continue;
        if (seen == ce) break;
        seen++;
    }
    *be = off;
}

/* ---- hashing ------------------------------------------------------------ */

/* A wyhash-style hash: 64x64->128 multiply-fold mixing, 16 bytes a round. */
static inline uint64_t mix(uint64_t a, uint64_t b) {
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t rd64(const unsigned char *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t rd32(const unsigned char *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

int64_t str_hash_bytes(const char *data, size_t len) {
    static const uint64_t k0 = 0xa0761d6478bd642fULL, k1 = 0xe7037ed1a0b428dbULL,
                          k2 = 0x8ebc6af09c88c6e3ULL, k3 = 0x589965cc75374cc3ULL;
    const unsigned char *p = (const unsigned char *)data;
    uint64_t seed = mix(k0 ^ 0x2d358dccaa6c78a5ULL, k1);
    uint64_t a, b;
    if (len <= 16) {
        if (len >= 4) {
            size_t q = (len >> 3) << 2;
            a = (rd32(p) << 32) | rd32(p + q);
            b = (rd32(p + len - 4) << 32) | rd32(p + len - 4 - q);
        } else if (len > 0) {
            a = ((uint64_t)p[0] << 16) | ((uint64_t)p[len >> 1] << 8) | p[len - 1];
            b = 0;
        } else {
            a = b = 0;
        }
    } else {
        size_t i = len;
        if (i > 48) {
            uint64_t s1 = seed, s2 = seed;
            do {
                seed = mix(rd64(p) ^ k1, rd64(p + 8) ^ seed);
                s1 = mix(rd64(p + 16) ^ k2, rd64(p + 24) ^ s1);
                s2 = mix(rd64(p + 32) ^ k3, rd64(p + 40) ^ s2);
                p += 48;
                i -= 48;
            } while (i > 48);
            seed ^= s1 ^ s2;
        }
        while (i > 16) {
            seed = mix(rd64(p) ^ k1, rd64(p + 8) ^ seed);
            i -= 16;
            p += 16;
        }
        a = rd64(p + i - 16);
        b = rd64(p + i - 8);
    }
    uint64_t h = mix(k1 ^ (uint64_t)len, mix(a ^ k1, b ^ seed));
    int64_t r = (int64_t)h;
    return r == -1 ? -2 : r; /* -1 is the error value of hash slots */
}

/* ---- allocation --------------------------------------------------------- */

/* A string of `len` bytes whose contents the caller fills, then seals. */
static ObjStr *str_alloc(TState *ts, ObjType *type, size_t len) {
    if (len > (size_t)PTRDIFF_MAX - sizeof(ObjStr) - 1) {
        err_no_memory(ts);
        return NULL;
    }
    ObjStr *s = (ObjStr *)gc_alloc(ts, sizeof(ObjStr) + len + 1, OBJ_STR,
                                   type ? type : ts->interp->types.str);
    if (!s) return NULL;
    s->len = len;
    s->data[len] = '\0';
    return s;
}

/* Computes the derived fields once the bytes are in place. */
static ObjStr *str_seal(ObjStr *s) {
    bool ascii = all_ascii(s->data, s->len);
    s->nchars = ascii ? s->len : count_chars(s->data, s->len);
    s->obj.aux = ascii ? STR_ASCII : 0;
    s->hash = str_hash_bytes(s->data, s->len);
    return s;
}

/* Sealing when the caller knows the code point count. */
static ObjStr *str_seal_known(ObjStr *s, size_t nchars) {
    s->nchars = nchars;
    s->obj.aux = nchars == s->len ? STR_ASCII : 0;
    s->hash = str_hash_bytes(s->data, s->len);
    return s;
}

static ObjStr *str_new_typed(TState *ts, ObjType *type, const char *utf8, size_t len) {
    ObjStr *s = str_alloc(ts, type, len);
    if (!s) return NULL;
    if (len) memcpy(s->data, utf8, len);
    return str_seal(s);
}

ObjStr *str_new(TState *ts, const char *utf8, size_t len) {
    if (len == 0 && ts->interp->names.empty) return ts->interp->names.empty;
    return str_new_typed(ts, NULL, utf8, len);
}

ObjStr *str_from_cstr(TState *ts, const char *cstr) { return str_new(ts, cstr, strlen(cstr)); }

ObjStr *str_from_sb(TState *ts, StrBuf *sb) {
    ObjStr *s = str_new(ts, sb->data ? sb->data : "", sb->len);
    sb_free(sb);
    return s;
}

ObjStr *str_printf(TState *ts, const char *fmt, ...) {
    StrBuf sb;
    sb_init(&sb);
    va_list ap;
    va_start(ap, fmt);
    bool ok = sb_vappendf(&sb, fmt, ap);
    va_end(ap);
    if (!ok) {
        sb_free(&sb);
        err_no_memory(ts);
        return NULL;
    }
    return str_from_sb(ts, &sb);
}

ObjStr *str_from_codepoint(TState *ts, uint32_t cp) {
    char buf[4];
    return str_new(ts, buf, str_utf8_encode(cp, buf));
}

/* Bytes [off, off + len) of s as a new exact str; s itself when that is
 * all of an exact str (strings are immutable, so sharing is safe). */
static ObjStr *substr(TState *ts, const ObjStr *s, size_t off, size_t len) {
    if (off == 0 && len == s->len && s->obj.type == ts->interp->types.str) return (ObjStr *)s;
    if (len == 0) return str_new(ts, "", 0);
    ObjStr *r = str_alloc(ts, NULL, len);
    if (!r) return NULL;
    memcpy(r->data, s->data + off, len);
    if (STR_IS_ASCII(s)) return str_seal_known(r, len);
    return str_seal(r);
}

/* self as an exact str: methods that change nothing return it. */
static Value same_str(TState *ts, const ObjStr *s) { return str_or_error(substr(ts, s, 0, s->len)); }

ObjStr *str_concat(TState *ts, const ObjStr *a, const ObjStr *b) {
    if (b->len == 0 && a->obj.type == ts->interp->types.str) return (ObjStr *)a;
    if (a->len == 0 && b->obj.type == ts->interp->types.str) return (ObjStr *)b;
    if (a->len > (size_t)PTRDIFF_MAX - b->len) {
        err_no_memory(ts);
        return NULL;
    }
    ObjStr *r = str_alloc(ts, NULL, a->len + b->len);
    if (!r) return NULL;
    memcpy(r->data, a->data, a->len);
    memcpy(r->data + a->len, b->data, b->len);
    return str_seal_known(r, a->nchars + b->nchars);
}

bool str_equal(const ObjStr *a, const ObjStr *b) {
    return a == b || (a->hash == b->hash && a->len == b->len && memcmp(a->data, b->data, a->len) == 0);
}

int str_compare(const ObjStr *a, const ObjStr *b) {
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->data, b->data, n);
    if (c) return c < 0 ? -1 : 1;
    return a->len < b->len ? -1 : a->len > b->len ? 1 : 0;
}

/* ---- interning ------------------------------------------------------------ */

/* Open addressing with linear probing over ObjStr pointers; the table only
 * grows (interned strings are immortal). */
static bool intern_grow(InternTable *t) {
    size_t cap = t->capacity ? t->capacity * 2 : 1024;
    ObjStr **slots = calloc(cap, sizeof *slots);
    if (!slots) return false;
    for (size_t i = 0; i < t->capacity; i++) {
        ObjStr *s = t->slots[i];
        if (!s) continue;
        size_t j = (size_t)s->hash & (cap - 1);
        while (slots[j]) j = (j + 1) & (cap - 1);
        slots[j] = s;
    }
    free(t->slots); /* interp_free releases the final table with free() */
    t->slots = slots;
    t->capacity = cap;
    return true;
}

ObjStr *str_intern(TState *ts, const char *utf8, size_t len) {
    InternTable *t = &ts->interp->interned;
    int64_t h = str_hash_bytes(utf8, len);
    MUTEX_LOCK(&t->lock);
    if (t->capacity) {
        for (size_t i = (size_t)h & (t->capacity - 1);; i = (i + 1) & (t->capacity - 1)) {
            ObjStr *s = t->slots[i];
            if (!s) break;
            if (s->hash == h && s->len == len && memcmp(s->data, utf8, len) == 0) {
                MUTEX_UNLOCK(&t->lock);
                return s;
            }
        }
    }
    if ((t->count + 1) * 3 >= t->capacity * 2 && !intern_grow(t)) {
        MUTEX_UNLOCK(&t->lock);
        err_no_memory(ts);
        return NULL;
    }
    ObjStr *s = str_alloc(ts, NULL, len);
    if (!s) {
        MUTEX_UNLOCK(&t->lock);
        return NULL;
    }
    if (len) memcpy(s->data, utf8, len);
    str_seal(s);
    s->obj.aux |= STR_INTERNED;
    s->obj.flags |= OBJF_IMMORTAL;
    size_t i = (size_t)h & (t->capacity - 1);
    while (t->slots[i]) i = (i + 1) & (t->capacity - 1);
    t->slots[i] = s;
    t->count++;
    MUTEX_UNLOCK(&t->lock);
    return s;
}

ObjStr *str_intern_cstr(TState *ts, const char *cstr) { return str_intern(ts, cstr, strlen(cstr)); }

ObjStr *str_intern_obj(TState *ts, ObjStr *s) {
    if (s->obj.aux & STR_INTERNED) return s;
    return str_intern(ts, s->data, s->len);
}

void str_init_interned(TState *ts) {
    CommonNames *names = &ts->interp->names;
#define NAME(field, text)                                       \
    if (!(names->field = str_intern(ts, text, sizeof text - 1))) \
        abort(); /* out of memory before the interpreter exists */
#include "runtime/names.def"
#undef NAME
}

/* ---- character classes -------------------------------------------------- */

typedef struct CpRange {
    uint32_t lo, hi;
} CpRange;

static bool in_ranges(const CpRange *r, size_t n, uint32_t c) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c < r[mid].lo) hi = mid;
        else if (c > r[mid].hi) lo = mid + 1;
        else return true;
    }
    return false;
}

#define IN_TABLE(table, c) in_ranges(table, sizeof table / sizeof table[0], c)

/* Letters (Unicode categories L*), approximately: the scripts in common
 * use plus the CJK blocks. */
static const CpRange alpha_ranges[] = {
    {0x41, 0x5A}, {0x61, 0x7A}, {0xAA, 0xAA}, {0xB5, 0xB5}, {0xBA, 0xBA}, {0xC0, 0xD6},
    {0xD8, 0xF6}, {0xF8, 0x2C1}, {0x2C6, 0x2D1}, {0x2E0, 0x2E4}, {0x2EC, 0x2EC},
    {0x2EE, 0x2EE}, {0x370, 0x374}, {0x376, 0x377}, {0x37A, 0x37D}, {0x37F, 0x37F},
    {0x386, 0x386}, {0x388, 0x38A}, {0x38C, 0x38C}, {0x38E, 0x3A1}, {0x3A3, 0x3F5},
    {0x3F7, 0x481}, {0x48A, 0x52F}, {0x531, 0x556}, {0x559, 0x559}, {0x560, 0x588},
    {0x5D0, 0x5EA}, {0x5EF, 0x5F2}, {0x620, 0x64A}, {0x66E, 0x66F}, {0x671, 0x6D3},
    {0x6D5, 0x6D5}, {0x6E5, 0x6E6}, {0x6EE, 0x6EF}, {0x6FA, 0x6FC}, {0x6FF, 0x6FF},
    {0x904, 0x939}, {0x93D, 0x93D}, {0x950, 0x950}, {0x958, 0x961}, {0x971, 0x980},
    {0x985, 0x9B9}, {0xE01, 0xE30}, {0xE32, 0xE33}, {0xE40, 0xE46}, {0x10A0, 0x10C5},
    {0x10D0, 0x10FA}, {0x10FC, 0x1248}, {0x13A0, 0x13F5}, {0x1E00, 0x1F15},
    {0x1F18, 0x1F1D}, {0x1F20, 0x1F45}, {0x1F48, 0x1F4D}, {0x1F50, 0x1F57},
    {0x1F59, 0x1F7D}, {0x1F80, 0x1FB4}, {0x1FB6, 0x1FBC}, {0x1FC2, 0x1FC4},
    {0x1FC6, 0x1FCC}, {0x1FD0, 0x1FD3}, {0x1FD6, 0x1FDB}, {0x1FE0, 0x1FEC},
    {0x1FF2, 0x1FF4}, {0x1FF6, 0x1FFC}, {0x2071, 0x2071}, {0x207F, 0x207F},
    {0x2090, 0x209C}, {0x2102, 0x2102}, {0x2107, 0x2107}, {0x210A, 0x2113},
    {0x2115, 0x2115}, {0x2119, 0x211D}, {0x2124, 0x2124}, {0x2126, 0x2126},
    {0x2128, 0x2128}, {0x212A, 0x212D}, {0x212F, 0x2139}, {0x2C00, 0x2CE4},
    {0x2D00, 0x2D25}, {0x3005, 0x3006}, {0x3031, 0x3035}, {0x303B, 0x303C},
    {0x3041, 0x3096}, {0x309D, 0x309F}, {0x30A1, 0x30FA}, {0x30FC, 0x30FF},
    {0x3105, 0x312F}, {0x3131, 0x318E}, {0x31A0, 0x31BF}, {0x31F0, 0x31FF},
    {0x3400, 0x4DBF}, {0x4E00, 0x9FFF}, {0xA000, 0xA48C}, {0xA640, 0xA66E},
    {0xA680, 0xA69D}, {0xA722, 0xA788}, {0xAC00, 0xD7A3}, {0xF900, 0xFA6D},
    {0xFB00, 0xFB06}, {0xFB1D, 0xFB1D}, {0xFB1F, 0xFB28}, {0xFB2A, 0xFB4F},
    {0xFB50, 0xFBB1}, {0xFE70, 0xFEFC}, {0xFF21, 0xFF3A}, {0xFF41, 0xFF5A},
    {0xFF66, 0xFFBE}, {0x10400, 0x1049D}, {0x1D400, 0x1D6A5}, {0x20000, 0x2A6DF},
    {0x2A700, 0x2EBE0}, {0x2F800, 0x2FA1D}, {0x30000, 0x3134A},
};

/* Decimal digits (category Nd). */
static const CpRange decimal_ranges[] = {
    {0x30, 0x39}, {0x660, 0x669}, {0x6F0, 0x6F9}, {0x7C0, 0x7C9}, {0x966, 0x96F},
    {0x9E6, 0x9EF}, {0xA66, 0xA6F}, {0xAE6, 0xAEF}, {0xB66, 0xB6F}, {0xBE6, 0xBEF},
    {0xC66, 0xC6F}, {0xCE6, 0xCEF}, {0xD66, 0xD6F}, {0xDE6, 0xDEF}, {0xE50, 0xE59},
    {0xED0, 0xED9}, {0xF20, 0xF29}, {0x1040, 0x1049}, {0x1090, 0x1099}, {0x17E0, 0x17E9},
    {0x1810, 0x1819}, {0x1946, 0x194F}, {0xFF10, 0xFF19}, {0x104A0, 0x104A9},
    {0x1D7CE, 0x1D7FF},
};

/* Digits that are not decimal (superscripts, circled digits...). */
static const CpRange digit_ranges[] = {
    {0xB2, 0xB3}, {0xB9, 0xB9}, {0x1369, 0x1371}, {0x2070, 0x2070}, {0x2074, 0x2079},
    {0x2080, 0x2089}, {0x2460, 0x2468}, {0x2474, 0x247C}, {0x2488, 0x2490},
    {0x24EA, 0x24EA}, {0x24F5, 0x24FD}, {0x24FF, 0x24FF}, {0x2776, 0x277E},
    {0x2780, 0x2788}, {0x278A, 0x2792},
};

/* Numeric characters that are not digits (fractions, Roman numerals, CJK
 * numerals...). */
static const CpRange numeric_ranges[] = {
    {0xBC, 0xBE}, {0x2150, 0x2182}, {0x2185, 0x2189}, {0x2469, 0x2473}, {0x247D, 0x2487},
    {0x2491, 0x249B}, {0x24EB, 0x24F4}, {0x24FE, 0x24FE}, {0x277F, 0x277F},
    {0x2789, 0x2789}, {0x2793, 0x2793}, {0x3007, 0x3007}, {0x3021, 0x3029},
    {0x3038, 0x303A}, {0x3192, 0x3195}, {0x3220, 0x3229}, {0x3248, 0x324F},
    {0x3251, 0x325F}, {0x3280, 0x3289}, {0x32B1, 0x32BF}, {0x4E00, 0x4E00},
    {0x4E03, 0x4E03}, {0x4E07, 0x4E07}, {0x4E09, 0x4E09}, {0x4E5D, 0x4E5D},
    {0x4E8C, 0x4E8C}, {0x4E94, 0x4E94}, {0x516B, 0x516B}, {0x516D, 0x516D},
    {0x5341, 0x5341}, {0x5343, 0x5343}, {0x56DB, 0x56DB}, {0x767E, 0x767E},
    {0x96F6, 0x96F6},
};

/* Whitespace beyond ASCII (Python's str.isspace / split()). */
static const CpRange space_ranges[] = {
    {0x85, 0x85}, {0xA0, 0xA0}, {0x1680, 0x1680}, {0x2000, 0x200A}, {0x2028, 0x2029},
    {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000},
};

/* Not printable: controls, format characters, separators other than the
 * space, surrogates and private use. */
static const CpRange nonprintable_ranges[] = {
    {0x0, 0x1F}, {0x7F, 0xA0}, {0xAD, 0xAD}, {0x378, 0x379}, {0x380, 0x383},
    {0x38B, 0x38B}, {0x38D, 0x38D}, {0x3A2, 0x3A2}, {0x600, 0x605}, {0x61C, 0x61C},
    {0x6DD, 0x6DD}, {0x70F, 0x70F}, {0x1680, 0x1680}, {0x180E, 0x180E}, {0x2000, 0x200F},
    {0x2028, 0x202F}, {0x205F, 0x2064}, {0x2066, 0x206F}, {0x3000, 0x3000},
    {0xD800, 0xF8FF}, {0xFEFF, 0xFEFF}, {0xFFF0, 0xFFFB}, {0xFFFE, 0xFFFF},
    {0xE0000, 0xE0FFF}, {0xF0000, 0x10FFFF},
};

/* ASCII whitespace as Python sees it: \t \n \v \f \r, 0x1C-0x1F, space. */
static inline bool ascii_space(unsigned char c) {
    return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
}

static bool uni_isspace(uint32_t c) {
    return c < 0x80 ? ascii_space((unsigned char)c) : IN_TABLE(space_ranges, c);
}
static bool uni_isdecimal(uint32_t c) {
    return c < 0x80 ? (c >= '0' && c <= '9') : IN_TABLE(decimal_ranges, c);
}
static bool uni_isdigit(uint32_t c) { return uni_isdecimal(c) || IN_TABLE(digit_ranges, c); }
static bool uni_isnumeric(uint32_t c) { return uni_isdigit(c) || IN_TABLE(numeric_ranges, c); }
static bool uni_isalpha(uint32_t c) {
    if (c < 0x80) return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
    return IN_TABLE(alpha_ranges, c);
}
static bool uni_isalnum(uint32_t c) { return uni_isalpha(c) || uni_isnumeric(c); }
static bool uni_isprintable(uint32_t c) {
    if (c < 0x80) return c >= 0x20 && c < 0x7F;
    return !IN_TABLE(nonprintable_ranges, c);
}

/* Simple (one to one) case mappings: each range maps upper case to lower
 * case by adding `delta`, or, for `pairs`, alternates upper/lower code
 * points starting with an upper one at `lo`. */
typedef struct CaseRange {
    uint32_t lo, hi;
    int32_t delta;
    bool pairs;
} CaseRange;

static const CaseRange case_ranges[] = {
    {0x41, 0x5A, 32, false},      {0xC0, 0xD6, 32, false},      {0xD8, 0xDE, 32, false},
    {0x100, 0x12F, 1, true},      {0x132, 0x137, 1, true},      {0x139, 0x148, 1, true},
    {0x14A, 0x177, 1, true},      {0x178, 0x178, -121, false},  {0x179, 0x17E, 1, true},
    {0x1CD, 0x1DC, 1, true},      {0x1DE, 0x1EF, 1, true},      {0x1F8, 0x21F, 1, true},
    {0x222, 0x233, 1, true},      {0x246, 0x24F, 1, true},      {0x386, 0x386, 38, false},
    {0x388, 0x38A, 37, false},    {0x38C, 0x38C, 64, false},    {0x38E, 0x38F, 63, false},
    {0x391, 0x3A1, 32, false},    {0x3A3, 0x3AB, 32, false},    {0x3D8, 0x3EF, 1, true},
    {0x400, 0x40F, 80, false},    {0x410, 0x42F, 32, false},    {0x460, 0x481, 1, true},
    {0x48A, 0x4BF, 1, true},      {0x4C0, 0x4C0, 15, false},    {0x4C1, 0x4CE, 1, true},
    {0x4D0, 0x52F, 1, true},      {0x531, 0x556, 48, false},    {0x10A0, 0x10C5, 7264, false},
    {0x1E00, 0x1E95, 1, true},    {0x1EA0, 0x1EFF, 1, true},    {0x1F08, 0x1F0F, -8, false},
    {0x1F18, 0x1F1D, -8, false},  {0x1F28, 0x1F2F, -8, false},  {0x1F38, 0x1F3F, -8, false},
    {0x1F48, 0x1F4D, -8, false},  {0x1F68, 0x1F6F, -8, false},  {0x2160, 0x216F, 16, false},
    {0x24B6, 0x24CF, 26, false},  {0x2C00, 0x2C2F, 48, false},  {0x2C80, 0x2CE3, 1, true},
    {0xA640, 0xA66D, 1, true},    {0xA680, 0xA69B, 1, true},    {0xA722, 0xA72F, 1, true},
    {0xA732, 0xA76F, 1, true},    {0xFF21, 0xFF3A, 32, false},  {0x10400, 0x10427, 40, false},
};

#define CASE_RANGE_COUNT (sizeof case_ranges / sizeof case_ranges[0])

/* The Latin digraphs DŽ Dž dž, LJ Lj lj, NJ Nj nj, DZ Dz dz come in threes:
 * upper, title, lower. The upper one's code point, or 0. */
static uint32_t digraph_base(uint32_t c) {
    if (c >= 0x1C4 && c <= 0x1CC) return 0x1C4 + (c - 0x1C4) / 3 * 3;
    if (c >= 0x1F1 && c <= 0x1F3) return 0x1F1;
    return 0;
}

static uint32_t uni_lower(uint32_t c) {
    if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    if (c == 0x130) return 'i'; /* I with dot above (lower() appends U+0307) */
    uint32_t d = digraph_base(c);
    if (d) return d + 2;
    for (size_t i = 0; i < CASE_RANGE_COUNT; i++) {
        const CaseRange *r = &case_ranges[i];
        if (c < r->lo) break;
        if (c > r->hi) continue;
        if (r->pairs) return ((c - r->lo) & 1) ? c : c + 1;
        return (uint32_t)((int64_t)c + r->delta);
    }
    return c;
}

static uint32_t uni_upper(uint32_t c) {
    if (c < 0x80) return (c >= 'a' && c <= 'z') ? c - 32 : c;
    switch (c) {
    case 0xB5: return 0x39C;  /* micro sign */
    case 0xFF: return 0x178;
    case 0x131: return 'I';   /* dotless i */
    case 0x17F: return 'S';   /* long s */
    case 0x3C2: return 0x3A3; /* final sigma */
    default: break;
    }
    uint32_t d = digraph_base(c);
    if (d) return d;
    for (size_t i = 0; i < CASE_RANGE_COUNT; i++) {
        const CaseRange *r = &case_ranges[i];
        if (r->pairs) {
            if (c >= r->lo && c <= r->hi && ((c - r->lo) & 1)) return c - 1;
            continue;
        }
        int64_t up = (int64_t)c - r->delta;
        if (up >= r->lo && up <= r->hi) return (uint32_t)up;
    }
    return c;
}

/* Characters whose upper case (and title case, case fold) is more than
 * one character. */
typedef struct SpecialCase {
    uint32_t c;
    const char *upper, *title, *fold;
} SpecialCase;

static const SpecialCase special_cases[] = {
    {0xDF, "SS", "Ss", "ss"},
    {0x149, "\xca\xbcN", "\xca\xbcN", "\xca\xbcn"},
    {0xFB00, "FF", "Ff", "ff"},
    {0xFB01, "FI", "Fi", "fi"},
    {0xFB02, "FL", "Fl", "fl"},
    {0xFB03, "FFI", "Ffi", "ffi"},
    {0xFB04, "FFL", "Ffl", "ffl"},
    {0xFB05, "ST", "St", "st"},
    {0xFB06, "ST", "St", "st"},
};

static const SpecialCase *special_case(uint32_t c) {
    if (c != 0xDF && c != 0x149 && (c < 0xFB00 || c > 0xFB06)) return NULL;
    for (size_t i = 0; i < sizeof special_cases / sizeof special_cases[0]; i++)
        if (special_cases[i].c == c) return &special_cases[i];
    return NULL;
}

static bool uni_isupper(uint32_t c) {
    uint32_t d = digraph_base(c);
    return d ? c == d : uni_lower(c) != c;
}
static bool uni_islower(uint32_t c) {
    uint32_t d = digraph_base(c);
    return d ? c == d + 2 : uni_upper(c) != c || special_case(c) != NULL;
}
static bool uni_istitle(uint32_t c) {
    uint32_t d = digraph_base(c);
    return d && c == d + 1;
}
static bool uni_iscased(uint32_t c) { return uni_isupper(c) || uni_islower(c) || uni_istitle(c); }

enum CaseMode { CASE_LOWER, CASE_UPPER, CASE_TITLE, CASE_FOLD };

/* Appends c mapped to the case; a few characters map to several (ß ->
 * SS). `final` asks for the word-final form of a capital sigma. */
static bool append_cased(StrBuf *sb, uint32_t c, enum CaseMode mode, bool final) {
    char buf[4];
    const SpecialCase *sc = mode != CASE_LOWER ? special_case(c) : NULL;
    if (sc) {
        const char *r = mode == CASE_UPPER ? sc->upper : mode == CASE_TITLE ? sc->title : sc->fold;
        return sb_append_cstr(sb, r);
    }
    switch (mode) {
    case CASE_UPPER:
        c = uni_upper(c);
        break;
    case CASE_TITLE: {
        uint32_t d = digraph_base(c);
        c = d ? d + 1 : uni_upper(c);
        break;
    }
    case CASE_FOLD:
    case CASE_LOWER:
        if (c == 0x130) return sb_append(sb, "i\xcc\x87", 3); /* I with dot above */
        c = c == 0x3A3 && final && mode == CASE_LOWER ? 0x3C2 : uni_lower(c);
        break;
    }
    return sb_append(sb, buf, str_utf8_encode(c, buf));
}

/* Python's Final_Sigma condition for a capital sigma at p (just before
 * `next`): a cased letter comes before it and none follows (combining
 * marks are skipped). */
static bool sigma_is_final(bool cased_before, const char *next, const char *end) {
    if (!cased_before) return false;
    while (next < end) {
        size_t n;
        uint32_t c = decode_at(next, end, &n);
        if (c < 0x300 || c > 0x36F) return !uni_iscased(c);
        next += n;
    }
    return true;
}

static bool append_char(StrBuf *sb, uint32_t c) {
    char buf[4];
    return sb_append(sb, buf, str_utf8_encode(c, buf));
}

/* Length in bytes of the whitespace character at p, 0 if p is not one. */
static inline size_t space_at(const char *p, const char *end) {
    unsigned char c = (unsigned char)*p;
    if (c < 0x80) return ascii_space(c) ? 1 : 0;
    size_t n;
    uint32_t cp = decode_at(p, end, &n);
    return uni_isspace(cp) ? n : 0;
}

/* ---- repr, ascii --------------------------------------------------------- */

static ObjStr *finish_sb(TState *ts, StrBuf *sb, bool ok) {
    if (!ok) {
        sb_free(sb);
        err_no_memory(ts);
        return NULL;
    }
    return str_from_sb(ts, sb);
}

/* A StrBuf step's result: false (after raising MemoryError) when it ran
 * out of memory. */
static bool grew(TState *ts, bool ok) {
    if (!ok) err_no_memory(ts);
    return ok;
}

ObjStr *str_repr(TState *ts, const ObjStr *s) {
    StrBuf sb;
    sb_init(&sb);
    bool ok = numfmt_repr_str(s->data, s->len, &sb);
    return finish_sb(ts, &sb, ok);
}

Value str_ascii(TState *ts, Value v) {
    Value r = ops_repr(ts, v);
    if (IS_ERROR(r) || STR_IS_ASCII(AS_STR(r))) return r;
    ObjStr *s = AS_STR(r);
    StrBuf sb;
    sb_init(&sb);
    bool ok = true;
    const char *p = s->data, *end = p + s->len;
    while (p < end) {
        size_t n;
        uint32_t c = decode_at(p, end, &n);
        if (c < 0x80) ok &= sb_append_char(&sb, (char)c);
        else if (c < 0x100) ok &= sb_appendf(&sb, "\\x%02x", (unsigned)c);
        else if (c < 0x10000) ok &= sb_appendf(&sb, "\\u%04x", (unsigned)c);
        else ok &= sb_appendf(&sb, "\\U%08x", (unsigned)c);
        p += n;
    }
    return str_or_error(finish_sb(ts, &sb, ok));
}

bool str_append_repr(TState *ts, StrBuf *sb, Value v) {
    bool ok;
    if (IS_INT(v)) {
        ok = sb_appendf(sb, "%lld", (long long)AS_INT(v));
    } else if (IS_STR(v) && OBJ_TYPE(v) == ts->interp->types.str) {
        ok = numfmt_repr_str(AS_STR(v)->data, AS_STR(v)->len, sb);
    } else if (IS_FLOAT(v)) {
        char buf[NUMFMT_REPR_BUFSIZE];
        size_t n = numfmt_float_repr(AS_FLOAT(v), buf);
        ok = sb_append(sb, buf, n);
    } else if (IS_NONE(v) || IS_BOOL(v)) {
        ok = sb_append_cstr(sb, IS_NONE(v) ? "None" : AS_BOOL(v) ? "True" : "False");
    } else {
        Value r = ops_repr(ts, v);
        if (IS_ERROR(r)) return false;
        ok = sb_append(sb, AS_STR(r)->data, AS_STR(r)->len);
    }
    if (!ok) err_no_memory(ts);
    return ok;
}

/* ---- slots ------------------------------------------------------------- */

static Value str_repr_slot(TState *ts, Value self) { return str_or_error(str_repr(ts, AS_STR(self))); }

static Value str_str_slot(TState *ts, Value self) { return same_str(ts, AS_STR(self)); }

int str_hash_slot(TState *ts, Value self, int64_t *out) {
    (void)ts;
    *out = AS_STR(self)->hash;
    return 0;
}

static Value str_richcmp(TState *ts, Value a, Value b, CmpOp op) {
    (void)ts;
    if (!IS_STR(a) || !IS_STR(b)) return NOT_IMPLEMENTED_VAL;
    ObjStr *x = AS_STR(a), *y = AS_STR(b);
    if (op == CMP_EQ) return BOOL_VAL(str_equal(x, y));
    if (op == CMP_NE) return BOOL_VAL(!str_equal(x, y));
    int c = str_compare(x, y);
    switch (op) {
    case CMP_LT: return BOOL_VAL(c < 0);
    case CMP_LE: return BOOL_VAL(c <= 0);
    case CMP_GT: return BOOL_VAL(c > 0);
    default: return BOOL_VAL(c >= 0);
    }
}

static Value str_repeat(TState *ts, ObjStr *s, int64_t count) {
    if (count <= 0 || s->len == 0) return OBJ_VAL(str_new(ts, "", 0));
    if (count == 1) return same_str(ts, s);
    if ((uint64_t)count > (uint64_t)PTRDIFF_MAX / s->len)
        return err_format(ts, EXC(ts)->OverflowError, "repeated string is too long");
    size_t total = s->len * (size_t)count;
    ObjStr *r = str_alloc(ts, NULL, total);
    if (!r) return ERROR_VAL;
    memcpy(r->data, s->data, s->len);
    size_t done = s->len;
    while (done < total) {
        size_t n = done <= total - done ? done : total - done;
        memcpy(r->data + done, r->data, n);
        done += n;
    }
    return OBJ_VAL(str_seal_known(r, s->nchars * (size_t)count));
}

static Value str_binop(TState *ts, BinOp op, Value a, Value b) {
    switch (op) {
    case BIN_ADD:
        if (!IS_STR(a)) return NOT_IMPLEMENTED_VAL;
        if (!IS_STR(b)) return seq_concat_error(ts, b, "str");
        return str_or_error(str_concat(ts, AS_STR(a), AS_STR(b)));
    case BIN_MUL: {
        Value seq = IS_STR(a) ? a : b, n = IS_STR(a) ? b : a;
        int64_t count;
        int r = seq_repeat_count(ts, n, &count);
        if (r < 0) return ERROR_VAL;
        if (r == 0) return seq_repeat_error(ts, n, n == b);
        return str_repeat(ts, AS_STR(seq), count);
    }
    case BIN_MOD:
        if (!IS_STR(a)) return NOT_IMPLEMENTED_VAL;
        return str_mod(ts, AS_STR(a), b);
    default:
        return NOT_IMPLEMENTED_VAL;
    }
}

static int str_truth(TState *ts, Value self) {
    (void)ts;
    return AS_STR(self)->len != 0;
}

static int64_t str_len(TState *ts, Value self) {
    (void)ts;
    return (int64_t)AS_STR(self)->nchars;
}

static Value str_slice(TState *ts, ObjStr *s, ObjSlice *slice) {
    int64_t start, stop, step, count;
    if (slice_indices(ts, slice, (int64_t)s->nchars, &start, &stop, &step, &count) < 0)
        return ERROR_VAL;
    if (count <= 0) return OBJ_VAL(str_new(ts, "", 0));
    if (step == 1) {
        size_t bs, be;
        char_range(s, (size_t)start, (size_t)stop, &bs, &be);
        return str_or_error(substr(ts, s, bs, be - bs));
    }
    if (STR_IS_ASCII(s)) {
        ObjStr *r = str_alloc(ts, NULL, (size_t)count);
        if (!r) return ERROR_VAL;
        for (int64_t k = 0, i = start; k < count; k++, i += step) r->data[k] = s->data[i];
        return OBJ_VAL(str_seal_known(r, (size_t)count));
    }
    /* Byte offset of every code point, then gather. */
    size_t *offs = malloc((s->nchars + 1) * sizeof *offs);
    if (!offs) return err_no_memory(ts);
    size_t ci = 0;
    for (size_t off = 0; off < s->len; off++)
        if (!is_cont((unsigned char)s->data[off])) offs[ci++] = off;
    offs[ci] = s->len;
    StrBuf sb;
    sb_init(&sb);
    bool ok = true;
    for (int64_t k = 0, i = start; k < count; k++, i += step)
        ok &= sb_append(&sb, s->data + offs[i], offs[i + 1] - offs[i]);
    free(offs);
    return str_or_error(finish_sb(ts, &sb, ok));
}

static Value str_getitem(TState *ts, Value self, Value key) {
    ObjStr *s = AS_STR(self);
    int64_t i;
    switch (seq_subscript(ts, key, &i)) {
    case 1: {
        int64_t n = (int64_t)s->nchars;
        if (i < 0) i += n;
        if (i < 0 || i >= n) return err_format(ts, EXC(ts)->IndexError, "string index out of range");
        size_t off = str_byte_offset(s, (size_t)i), w = lead_len((unsigned char)s->data[off]);
        return str_or_error(str_new(ts, s->data + off, w < s->len - off ? w : s->len - off));
    }
    case 2:
        return str_slice(ts, s, AS_SLICE(key));
    case 0:
        return err_format(ts, EXC(ts)->TypeError, "string indices must be integers, not '%s'",
                          ops_type_name(ts, key));
    default:
        return ERROR_VAL;
    }
}

static int str_contains(TState *ts, Value self, Value item) {
    if (!IS_STR(item)) {
        err_format(ts, EXC(ts)->TypeError, "'in <string>' requires string as left operand, not %s",
                   ops_type_name(ts, item));
        return -1;
    }
    ObjStr *s = AS_STR(self), *sub = AS_STR(item);
    if (sub->len == 0) return 1;
    return memmem(s->data, s->len, sub->data, sub->len) != NULL;
}

static Value str_iter(TState *ts, Value self) {
    ObjStr *s = AS_STR(self);
    ObjIterator *it = iterator_new(ts, STR_IS_ASCII(s) ? "str_ascii_iterator" : "str_iterator",
                                   iter_str_step, self, NONE_VAL);
    if (!it) return ERROR_VAL;
    it->end = (int64_t)s->len;
    return OBJ_VAL(it);
}

/* str(object='') and str(object, encoding, errors). */
static Value str_new_slot(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"object", "encoding", "errors"};
    Value a[3];
    if (!args_bind(ts, "str", args, nargs, kwnames, names, 3, 0, 3, a)) return ERROR_VAL;
    Value r;
    if (IS_EMPTY(a[0])) {
        r = OBJ_VAL(str_new(ts, "", 0));
    } else if (!IS_EMPTY(a[1]) || !IS_EMPTY(a[2])) {
        Buffer b;
        /* The arguments' types first, as CPython's. */
        for (int i = 1; i < 3; i++)
            if (!IS_EMPTY(a[i]) && !IS_STR(a[i]))
                return err_format(ts, EXC(ts)->TypeError, "str() argument '%s' must be str, not %s", names[i],
                                  ops_type_name(ts, a[i]));
        if (IS_STR(a[0])) return err_format(ts, EXC(ts)->TypeError, "decoding str is not supported");
        if (!buffer_check(ts, a[0]))
            return err_format(ts, EXC(ts)->TypeError,
                              "decoding to str: need a bytes-like object, %s found",
                              ops_type_name(ts, a[0]));
        if (!buffer_get(ts, a[0], &b, BUF_READ)) return ERROR_VAL;
        r = codec_decode(ts, b.buf, b.len, a[1], a[2]);
        buffer_release(ts, &b);
        if (IS_ERROR(r)) return r;
    } else {
        r = ops_str(ts, a[0]);
        if (IS_ERROR(r)) return r;
    }
    if (type == ts->interp->types.str) return r;
    ObjStr *src = AS_STR(r);
    ObjStr *sub = str_alloc(ts, type, src->len);
    if (!sub) return ERROR_VAL;
    memcpy(sub->data, src->data, src->len);
    return OBJ_VAL(str_seal_known(sub, src->nchars));
}

/* ---- method helpers ------------------------------------------------------ */

#define SELF AS_STR(args[0])

/* A str argument, or TypeError "<what>must be str, not X". */
static ObjStr *need_str(TState *ts, Value v, const char *what) {
    if (IS_STR(v)) return AS_STR(v);
    err_format(ts, EXC(ts)->TypeError, "%smust be str, not %s", what, ops_type_name(ts, v));
    return NULL;
}

/* Optional start/end arguments at args[first], args[first + 1], clamped as
 * CPython's ADJUST_INDICES (start may still exceed the length). */
bool str_range_args(TState *ts, Value *args, int nargs, int first, size_t n, int64_t *start, int64_t *end) {
    int64_t len = (int64_t)n;
    *start = 0;
    *end = len;
    if (nargs > first && !IS_NONE(args[first]) && !slice_index_value(ts, args[first], true, start))
        return false;
    if (nargs > first + 1 && !IS_NONE(args[first + 1]) &&
        !slice_index_value(ts, args[first + 1], true, end))
        return false;
    if (*end > len) *end = len;
    else if (*end < 0 && (*end += len) < 0) *end = 0;
    if (*start < 0 && (*start += len) < 0) *start = 0;
    return true;
}

const char *str_rmemmem(const char *hay, size_t hlen, const char *needle, size_t nlen) {
    if (nlen == 0) return hay + hlen;
    if (nlen > hlen) return NULL;
    const char *last = hay + (hlen - nlen);
    for (;;) {
        const char *q = memrchr(hay, needle[0], (size_t)(last - hay) + 1);
        if (!q) return NULL;
        if (memcmp(q, needle, nlen) == 0) return q;
        if (q == hay) return NULL;
        last = q - 1;
    }
}

/* Code point position of sub in s[start:end] (first or last), or -1. */
static int64_t find_sub(const ObjStr *s, const ObjStr *sub, int64_t start, int64_t end, bool last) {
    if (start > (int64_t)s->nchars || end - start < (int64_t)sub->nchars) return -1;
    if (sub->len == 0) return last ? end : start;
    size_t bs, be;
    char_range(s, (size_t)start, (size_t)end, &bs, &be);
    const char *hit = last ? str_rmemmem(s->data + bs, be - bs, sub->data, sub->len)
                           : memmem(s->data + bs, be - bs, sub->data, sub->len);
    return hit ? (int64_t)char_index(s, (size_t)(hit - s->data)) : -1;
}

static int64_t count_sub(const ObjStr *s, const ObjStr *sub, int64_t start, int64_t end) {
    if (start > (int64_t)s->nchars || end - start < (int64_t)sub->nchars) return 0;
    if (sub->len == 0) return end - start + 1;
    size_t bs, be;
    char_range(s, (size_t)start, (size_t)end, &bs, &be);
    int64_t n = 0;
    const char *p = s->data + bs, *stop = s->data + be;
    while ((p = memmem(p, (size_t)(stop - p), sub->data, sub->len)) != NULL) {
        n++;
        p += sub->len;
    }
    return n;
}

/* ---- searching ------------------------------------------------------------ */

static Value find_common(TState *ts, Value *args, int nargs, ObjTuple *kwnames, const char *name,
                         bool last, bool raise) {
    ARGS_CHECK_METHOD(name, 1, 3);
    ObjStr *sub = need_str(ts, args[1], "");
    int64_t start, end;
    if (!sub || !str_range_args(ts, args, nargs, 2, SELF->nchars, &start, &end)) return ERROR_VAL;
    int64_t r = find_sub(SELF, sub, start, end, last);
    if (r < 0 && raise) return err_format(ts, EXC(ts)->ValueError, "substring not found");
    return INT_VAL(r);
}

static Value str_m_find(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return find_common(ts, args, nargs, kwnames, "str.find", false, false);
}
static Value str_m_rfind(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return find_common(ts, args, nargs, kwnames, "str.rfind", true, false);
}
static Value str_m_index(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return find_common(ts, args, nargs, kwnames, "str.index", false, true);
}
static Value str_m_rindex(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return find_common(ts, args, nargs, kwnames, "str.rindex", true, true);
}

static Value str_m_count(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("str.count", 1, 3);
    ObjStr *sub = need_str(ts, args[1], "");
    int64_t start, end;
    if (!sub || !str_range_args(ts, args, nargs, 2, SELF->nchars, &start, &end)) return ERROR_VAL;
    return INT_VAL(count_sub(SELF, sub, start, end));
}

static bool tail_match(const ObjStr *s, const ObjStr *sub, int64_t start, int64_t end, bool at_end) {
    if (start > (int64_t)s->nchars || end - start < (int64_t)sub->nchars) return false;
    if (sub->len == 0) return true;
    size_t bs, be;
    char_range(s, (size_t)start, (size_t)end, &bs, &be);
    if (be - bs < sub->len) return false;
    const char *p = at_end ? s->data + be - sub->len : s->data + bs;
    return memcmp(p, sub->data, sub->len) == 0;
}

static Value match_common(TState *ts, Value *args, int nargs, ObjTuple *kwnames, const char *name,
                          bool at_end) {
    ARGS_CHECK_METHOD(at_end ? "str.endswith" : "str.startswith", 1, 3);
    int64_t start, end;
    if (!str_range_args(ts, args, nargs, 2, SELF->nchars, &start, &end)) return ERROR_VAL;
    Value x = args[1];
    if (IS_STR(x)) return BOOL_VAL(tail_match(SELF, AS_STR(x), start, end, at_end));
    if (!IS_TUPLE(x))
        return err_format(ts, EXC(ts)->TypeError, "%s first arg must be str or a tuple of str, not %s",
                          name, ops_type_name(ts, x));
    ObjTuple *t = AS_TUPLE(x);
    for (size_t i = 0; i < t->len; i++) {
        if (!IS_STR(t->items[i]))
            return err_format(ts, EXC(ts)->TypeError, "tuple for %s must only contain str, not %s",
                              name, ops_type_name(ts, t->items[i]));
        if (tail_match(SELF, AS_STR(t->items[i]), start, end, at_end)) return TRUE_VAL;
    }
    return FALSE_VAL;
}

static Value str_m_startswith(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return match_common(ts, args, nargs, kwnames, "startswith", false);
}
static Value str_m_endswith(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return match_common(ts, args, nargs, kwnames, "endswith", true);
}

/* ---- splitting and joining ----------------------------------------------- */

static bool append_piece(TState *ts, ObjList *out, const ObjStr *s, const char *p, const char *q) {
    ObjStr *piece = substr(ts, s, (size_t)(p - s->data), (size_t)(q - p));
    return piece && list_append(ts, out, OBJ_VAL(piece)) == 0;
}

static void reverse_list(ObjList *l) {
    size_t n = list_len(l);
    ValueArray *a = atomic_load_explicit(&l->array, memory_order_relaxed);
    for (size_t i = 0; i < n / 2; i++) {
        Value t = a->items[i];
        a->items[i] = a->items[n - 1 - i];
        a->items[n - 1 - i] = t;
    }
}

static bool split_whitespace(TState *ts, ObjList *out, const ObjStr *s, int64_t maxsplit) {
    const char *p = s->data, *end = s->data + s->len;
    size_t n;
    for (; maxsplit > 0; maxsplit--) {
        while (p < end && (n = space_at(p, end)) != 0) p += n;
        if (p == end) return true;
        const char *q = p;
        while (q < end && space_at(q, end) == 0) q += lead_len((unsigned char)*q);
        if (q > end) q = end;
        if (!append_piece(ts, out, s, p, q)) return false;
        p = q;
    }
    while (p < end && (n = space_at(p, end)) != 0) p += n;
    return p == end || append_piece(ts, out, s, p, end);
}

static bool rsplit_whitespace(TState *ts, ObjList *out, const ObjStr *s, int64_t maxsplit) {
    const char *start = s->data, *q = s->data + s->len, *end = q;
    for (; maxsplit > 0; maxsplit--) {
        while (q > start) {
            const char *c = prev_char(start, q);
            if (!space_at(c, end)) break;
            q = c;
        }
        if (q == start) break;
        const char *p = q;
        while (p > start) {
            const char *c = prev_char(start, p);
            if (space_at(c, end)) break;
            p = c;
        }
        if (!append_piece(ts, out, s, p, q)) return false;
        q = p;
    }
    while (q > start) {
        const char *c = prev_char(start, q);
        if (!space_at(c, end)) break;
        q = c;
    }
    if (q > start && !append_piece(ts, out, s, start, q)) return false;
    reverse_list(out);
    return true;
}

static bool split_sep(TState *ts, ObjList *out, const ObjStr *s, const ObjStr *sep, int64_t maxsplit,
                      bool right) {
    const char *start = s->data, *end = s->data + s->len;
    if (!right) {
        const char *p = start, *hit;
        for (; maxsplit > 0 && (hit = memmem(p, (size_t)(end - p), sep->data, sep->len)); maxsplit--) {
            if (!append_piece(ts, out, s, p, hit)) return false;
            p = hit + sep->len;
        }
        return append_piece(ts, out, s, p, end);
    }
    const char *q = end, *hit;
    for (; maxsplit > 0 && (hit = str_rmemmem(start, (size_t)(q - start), sep->data, sep->len)); maxsplit--) {
        if (!append_piece(ts, out, s, hit + sep->len, q)) return false;
        q = hit;
    }
    if (!append_piece(ts, out, s, start, q)) return false;
    reverse_list(out);
    return true;
}

static Value split_common(TState *ts, Value *args, int nargs, ObjTuple *kwnames, bool right) {
    static const char *const names[] = {"sep", "maxsplit"};
    Value a[2];
    if (!args_bind(ts, right ? "rsplit" : "split", args + 1, nargs - 1, kwnames, names, 2, 0, 2, a))
        return ERROR_VAL;
    ObjStr *s = SELF;
    int64_t maxsplit = -1;
    if (!IS_EMPTY(a[1]) && !ops_index(ts, a[1], &maxsplit)) return ERROR_VAL;
    if (maxsplit < 0) maxsplit = INT64_MAX;
    ObjStr *sep = NULL;
    if (!IS_EMPTY(a[0]) && !IS_NONE(a[0])) {
        if (!IS_STR(a[0]))
            return err_format(ts, EXC(ts)->TypeError, "must be str or None, not %s",
                              ops_type_name(ts, a[0]));
        sep = AS_STR(a[0]);
        if (sep->len == 0) return err_format(ts, EXC(ts)->ValueError, "empty separator");
    }
    ObjList *out = list_new(ts, 0);
    if (!out) return ERROR_VAL;
    bool ok = sep ? split_sep(ts, out, s, sep, maxsplit, right)
                  : right ? rsplit_whitespace(ts, out, s, maxsplit) : split_whitespace(ts, out, s, maxsplit);
    return ok ? OBJ_VAL(out) : ERROR_VAL;
}

static Value str_m_split(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return split_common(ts, args, nargs, kwnames, false);
}
static Value str_m_rsplit(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return split_common(ts, args, nargs, kwnames, true);
}

/* Length of the line break at p (\r\n counts 2), 0 if none. */
static size_t line_break_at(const char *p, const char *end) {
    unsigned char c = (unsigned char)*p;
    if (c == '\r') return (p + 1 < end && p[1] == '\n') ? 2 : 1;
    if (c == '\n' || c == 0x0B || c == 0x0C || (c >= 0x1C && c <= 0x1E)) return 1;
    if (c < 0x80) return 0;
    size_t n;
    uint32_t cp = decode_at(p, end, &n);
    return (cp == 0x85 || cp == 0x2028 || cp == 0x2029) ? n : 0;
}

static Value str_m_splitlines(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"keepends"};
    Value a[1];
    if (!args_bind(ts, "splitlines", args + 1, nargs - 1, kwnames, names, 1, 0, 1, a)) return ERROR_VAL;
    int64_t keepends = 0;
    if (!IS_EMPTY(a[0]) && !ops_index(ts, a[0], &keepends)) return ERROR_VAL;
    ObjStr *s = SELF;
    ObjList *out = list_new(ts, 0);
    if (!out) return ERROR_VAL;
    const char *p = s->data, *end = s->data + s->len;
    while (p < end) {
        const char *q = p;
        size_t br = 0;
        while (q < end && (br = line_break_at(q, end)) == 0) q += lead_len((unsigned char)*q);
        if (q > end) q = end;
        if (!append_piece(ts, out, s, p, keepends ? q + br : q)) return ERROR_VAL;
        p = q + br;
    }
    return OBJ_VAL(out);
}

static Value str_m_join(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("str.join", 1, 1);
    ObjStr *sep = SELF;
    Value seq = args[1];
    Value *items;
    size_t n;
    Value *owned = NULL; /* snapshot to free */
    if (IS_TUPLE_ITER(ts, seq)) {
        items = AS_TUPLE(seq)->items;
        n = AS_TUPLE(seq)->len;
    } else {
        ObjList *list;
        if (IS_LIST_ITER(ts, seq)) {
            list = AS_LIST(seq);
        } else {
            ObjType *t = val_type(ts, seq);
            if (!t->iter && !(t->getitem && (t->flags & TYPEF_HEAPTYPE)))
                return err_format(ts, EXC(ts)->TypeError, "can only join an iterable");
            list = ops_to_list(ts, seq);
            if (!list) return ERROR_VAL;
        }
        owned = items = list_snapshot(ts, list, &n);
        if (!items && n) return ERROR_VAL;
    }
    /* Sizes first, so the result is allocated once. */
    size_t total = n ? sep->len * (n - 1) : 0, chars = n ? sep->nchars * (n - 1) : 0;
    Value result = ERROR_VAL;
    for (size_t i = 0; i < n; i++) {
        if (!IS_STR(items[i])) {
            err_format(ts, EXC(ts)->TypeError, "sequence item %zu: expected str instance, %s found", i,
                       ops_type_name(ts, items[i]));
            goto done;
        }
        total += AS_STR(items[i])->len;
        chars += AS_STR(items[i])->nchars;
    }
    if (n == 1) {
        result = same_str(ts, AS_STR(items[0]));
        goto done;
    }
    ObjStr *r = str_alloc(ts, NULL, total);
    if (!r) goto done;
    char *w = r->data;
    for (size_t i = 0; i < n; i++) {
        if (i) {
            memcpy(w, sep->data, sep->len);
            w += sep->len;
        }
        ObjStr *it = AS_STR(items[i]);
        memcpy(w, it->data, it->len);
        w += it->len;
    }
    result = OBJ_VAL(str_seal_known(r, chars));
done:
    if (owned) gc_free_buffer(owned, n * sizeof(Value));
    return result;
}

static Value partition_common(TState *ts, Value *args, int nargs, ObjTuple *kwnames, bool right) {
    ARGS_CHECK_METHOD(right ? "str.rpartition" : "str.partition", 1, 1);
    ObjStr *s = SELF, *sep = need_str(ts, args[1], "");
    if (!sep) return ERROR_VAL;
    if (sep->len == 0) return err_format(ts, EXC(ts)->ValueError, "empty separator");
    const char *hit = right ? str_rmemmem(s->data, s->len, sep->data, sep->len)
                            : memmem(s->data, s->len, sep->data, sep->len);
    ObjStr *empty = str_new(ts, "", 0);
    ObjTuple *t = tuple_new(ts, 3);
    if (!t) return ERROR_VAL;
    if (!hit) {
        ObjStr *whole = substr(ts, s, 0, s->len);
        if (!whole) return ERROR_VAL;
        t->items[0] = OBJ_VAL(right ? empty : whole);
        t->items[1] = OBJ_VAL(empty);
        t->items[2] = OBJ_VAL(right ? whole : empty);
        return OBJ_VAL(t);
    }
    size_t at = (size_t)(hit - s->data);
    ObjStr *head = substr(ts, s, 0, at), *mid = substr(ts, sep, 0, sep->len);
    ObjStr *tail = substr(ts, s, at + sep->len, s->len - at - sep->len);
    if (!head || !mid || !tail) return ERROR_VAL;
    t->items[0] = OBJ_VAL(head);
    t->items[1] = OBJ_VAL(mid);
    t->items[2] = OBJ_VAL(tail);
    return OBJ_VAL(t);
}

static Value str_m_partition(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return partition_common(ts, args, nargs, kwnames, false);
}
static Value str_m_rpartition(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return partition_common(ts, args, nargs, kwnames, true);
}

/* ---- transforming --------------------------------------------------------- */

static Value str_m_replace(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_CLINIC("str", "replace", 2, 3);
    ObjStr *s = SELF;
    ObjStr *old = need_str(ts, args[1], "replace() argument 1 ");
    if (!old) return ERROR_VAL;
    ObjStr *new_ = need_str(ts, args[2], "replace() argument 2 ");
    if (!new_) return ERROR_VAL;
    int64_t count = -1;
    if (nargs > 3 && !ops_index(ts, args[3], &count)) return ERROR_VAL;
    if (count < 0) count = INT64_MAX;
    if (count == 0) return same_str(ts, s);
    StrBuf sb;
    sb_init(&sb);
    bool ok = true;
    const char *p = s->data, *end = s->data + s->len;
    if (old->len == 0) {
        /* Insert `new` before every character and at the end. */
        for (; count > 0 && p <= end; count--) {
            ok &= sb_append(&sb, new_->data, new_->len);
            if (p == end) {
                p++;
                break;
            }
            size_t n = lead_len((unsigned char)*p);
            if (n > (size_t)(end - p)) n = (size_t)(end - p);
            ok &= sb_append(&sb, p, n);
            p += n;
        }
        if (p < end) ok &= sb_append(&sb, p, (size_t)(end - p));
        return str_or_error(finish_sb(ts, &sb, ok));
    }
    const char *hit = memmem(p, s->len, old->data, old->len);
    if (!hit) return same_str(ts, s);
    for (; count > 0 && hit; count--) {
        ok &= sb_append(&sb, p, (size_t)(hit - p));
        ok &= sb_append(&sb, new_->data, new_->len);
        p = hit + old->len;
        hit = memmem(p, (size_t)(end - p), old->data, old->len);
    }
    ok &= sb_append(&sb, p, (size_t)(end - p));
    return str_or_error(finish_sb(ts, &sb, ok));
}

/* Membership in a strip() character set. */
typedef struct CharSet {
    const ObjStr *chars; /* NULL: whitespace */
    bool ascii[128];
} CharSet;

static void charset_init(CharSet *cs, const ObjStr *chars) {
    cs->chars = chars;
    memset(cs->ascii, 0, sizeof cs->ascii);
    if (!chars) return;
    for (size_t i = 0; i < chars->len; i++)
        if ((unsigned char)chars->data[i] < 0x80) cs->ascii[(unsigned char)chars->data[i]] = true;
}

static bool charset_has(const CharSet *cs, const char *p, const char *end) {
    unsigned char c = (unsigned char)*p;
    if (!cs->chars) return space_at(p, end) != 0;
    if (c < 0x80) return cs->ascii[c];
    if (STR_IS_ASCII(cs->chars)) return false;
    size_t n = lead_len(c);
    if (n > (size_t)(end - p)) n = (size_t)(end - p);
    const char *q = cs->chars->data, *qend = q + cs->chars->len;
    while (q < qend) {
        size_t m = lead_len((unsigned char)*q);
        if (m == n && memcmp(p, q, n) == 0) return true;
        q += m;
    }
    return false;
}

enum { STRIP_LEFT = 1, STRIP_RIGHT = 2 };

static Value strip_common(TState *ts, Value *args, int nargs, ObjTuple *kwnames, int which,
                          const char *name) {
    ARGS_CHECK_METHOD(name, 0, 1);
    ObjStr *s = SELF, *chars = NULL;
    if (nargs > 1 && !IS_NONE(args[1])) {
        if (!IS_STR(args[1]))
            return err_format(ts, EXC(ts)->TypeError, "%s arg must be None or str", name + 4);
        chars = AS_STR(args[1]);
    }
    CharSet cs;
    charset_init(&cs, chars);
    const char *p = s->data, *q = s->data + s->len, *end = q;
    if (which & STRIP_LEFT)
        while (p < q && charset_has(&cs, p, end)) p += lead_len((unsigned char)*p);
    if (p > q) p = q;
    if (which & STRIP_RIGHT) {
        while (q > p) {
            const char *c = prev_char(p, q);
            if (!charset_has(&cs, c, end)) break;
            q = c;
        }
    }
    return str_or_error(substr(ts, s, (size_t)(p - s->data), (size_t)(q - p)));
}

static Value str_m_strip(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return strip_common(ts, args, nargs, kwnames, STRIP_LEFT | STRIP_RIGHT, "str.strip");
}
static Value str_m_lstrip(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return strip_common(ts, args, nargs, kwnames, STRIP_LEFT, "str.lstrip");
}
static Value str_m_rstrip(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return strip_common(ts, args, nargs, kwnames, STRIP_RIGHT, "str.rstrip");
}

/* Pads s to `width` code points with fill, `left` of them before it. */
static Value pad(TState *ts, ObjStr *s, size_t left, size_t right, const char *fill, size_t fill_len) {
    if (left == 0 && right == 0) return same_str(ts, s);
    size_t total = s->len + (left + right) * fill_len;
    ObjStr *r = str_alloc(ts, NULL, total);
    if (!r) return ERROR_VAL;
    char *w = r->data;
    for (size_t i = 0; i < left; i++, w += fill_len) memcpy(w, fill, fill_len);
    memcpy(w, s->data, s->len);
    w += s->len;
    for (size_t i = 0; i < right; i++, w += fill_len) memcpy(w, fill, fill_len);
    return OBJ_VAL(str_seal_known(r, s->nchars + left + right));
}

enum { JUST_LEFT, JUST_RIGHT, JUST_CENTER };

static Value justify(TState *ts, Value *args, int nargs, ObjTuple *kwnames, int how, const char *name) {
    ARGS_CHECK_METHOD(name, 1, 2);
    ObjStr *s = SELF;
    int64_t width;
    if (!ops_index(ts, args[1], &width)) return ERROR_VAL;
    const char *fill = " ";
    size_t fill_len = 1;
    if (nargs > 2) {
        if (!IS_STR(args[2]))
            return err_format(ts, EXC(ts)->TypeError, "The fill character must be a unicode character, not %s",
                              ops_type_name(ts, args[2]));
        if (AS_STR(args[2])->nchars != 1)
            return err_format(ts, EXC(ts)->TypeError,
                              "The fill character must be exactly one character long");
        fill = AS_STR(args[2])->data;
        fill_len = AS_STR(args[2])->len;
    }
    if (width <= (int64_t)s->nchars) return same_str(ts, s);
    size_t marg = (size_t)width - s->nchars;
    if (marg > (size_t)PTRDIFF_MAX / 4) return err_no_memory(ts);
    switch (how) {
    case JUST_LEFT: return pad(ts, s, 0, marg, fill, fill_len);
    case JUST_RIGHT: return pad(ts, s, marg, 0, fill, fill_len);
    default: {
        size_t left = marg / 2 + (marg & (size_t)width & 1);
        return pad(ts, s, left, marg - left, fill, fill_len);
    }
    }
}

static Value str_m_ljust(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return justify(ts, args, nargs, kwnames, JUST_LEFT, "str.ljust");
}
static Value str_m_rjust(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return justify(ts, args, nargs, kwnames, JUST_RIGHT, "str.rjust");
}
static Value str_m_center(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return justify(ts, args, nargs, kwnames, JUST_CENTER, "str.center");
}

static Value str_m_zfill(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("str.zfill", 1, 1);
    ObjStr *s = SELF;
    int64_t width;
    if (!ops_index(ts, args[1], &width)) return ERROR_VAL;
    if (width <= (int64_t)s->nchars) return same_str(ts, s);
    size_t fill = (size_t)width - s->nchars;
    Value r = pad(ts, s, fill, 0, "0", 1);
    if (IS_ERROR(r)) return r;
    ObjStr *z = AS_STR(r);
    if (s->len && (s->data[0] == '+' || s->data[0] == '-')) {
        /* The sign moves in front of the zeros; the hash must follow. */
        z->data[0] = s->data[0];
        z->data[fill] = '0';
        z->hash = str_hash_bytes(z->data, z->len);
    }
    return r;
}

static Value str_m_expandtabs(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"tabsize"};
    Value a[1];
    if (!args_bind(ts, "expandtabs", args + 1, nargs - 1, kwnames, names, 1, 0, 1, a)) return ERROR_VAL;
    int64_t tabsize = 8;
    if (!IS_EMPTY(a[0]) && !ops_index(ts, a[0], &tabsize)) return ERROR_VAL;
    ObjStr *s = SELF;
    if (!memchr(s->data, '\t', s->len)) return same_str(ts, s);
    StrBuf sb;
    sb_init(&sb);
    bool ok = true;
    int64_t col = 0;
    const char *p = s->data, *end = p + s->len;
    while (p < end) {
        char c = *p;
        if (c == '\t') {
            if (tabsize > 0) {
                int64_t spaces = tabsize - col % tabsize;
                ok &= sb_append_repeat(&sb, ' ', (size_t)spaces);
                col += spaces;
            }
            p++;
            continue;
        }
        size_t n = lead_len((unsigned char)c);
        if (n > (size_t)(end - p)) n = (size_t)(end - p);
        ok &= sb_append(&sb, p, n);
        col = (c == '\n' || c == '\r') ? 0 : col + 1;
        p += n;
    }
    return str_or_error(finish_sb(ts, &sb, ok));
}

static Value case_convert(TState *ts, ObjStr *s, enum CaseMode mode) {
    if (STR_IS_ASCII(s)) {
        ObjStr *r = str_alloc(ts, NULL, s->len);
        if (!r) return ERROR_VAL;
        for (size_t i = 0; i < s->len; i++) {
            char c = s->data[i];
            if (mode == CASE_UPPER) r->data[i] = (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
            else r->data[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
        }
        return OBJ_VAL(str_seal_known(r, s->len));
    }
    StrBuf sb;
    sb_init(&sb);
    bool ok = true;
    const char *p = s->data, *end = p + s->len;
    bool cased_before = false;
    while (p < end) {
        size_t n;
        uint32_t c = decode_at(p, end, &n);
        ok &= append_cased(&sb, c, mode, c == 0x3A3 && sigma_is_final(cased_before, p + n, end));
        if (c < 0x300 || c > 0x36F) cased_before = uni_iscased(c);
        p += n;
    }
    return str_or_error(finish_sb(ts, &sb, ok));
}

static Value str_m_upper(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("str.upper", 0, 0);
    return case_convert(ts, SELF, CASE_UPPER);
}
static Value str_m_lower(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("str.lower", 0, 0);
    return case_convert(ts, SELF, CASE_LOWER);
}
static Value str_m_casefold(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("str.casefold", 0, 0);
    return case_convert(ts, SELF, CASE_FOLD);
}

/* title, capitalize and swapcase decide per character. */
enum { RECASE_TITLE, RECASE_CAPITALIZE, RECASE_SWAP };

static Value recase(TState *ts, ObjStr *s, int how) {
    StrBuf sb;
    sb_init(&sb);
    bool ok = true, prev_cased = false, first = true;
    const char *p = s->data, *end = p + s->len;
    while (p < end) {
        size_t n;
        uint32_t c = decode_at(p, end, &n);
        bool cased_before = prev_cased;
        enum CaseMode mode;
        if (c < 0x300 || c > 0x36F) prev_cased = uni_iscased(c);
        switch (how) {
        case RECASE_TITLE:
            mode = cased_before ? CASE_LOWER : CASE_TITLE;
            break;
        case RECASE_CAPITALIZE:
            mode = first ? CASE_TITLE : CASE_LOWER;
            break;
        default:
            if (uni_isupper(c)) mode = CASE_LOWER;
            else if (uni_islower(c)) mode = CASE_UPPER;
            else {
                ok &= sb_append(&sb, p, n);
                p += n;
                continue;
            }
            break;
        }
        ok &= append_cased(&sb, c, mode, c == 0x3A3 && sigma_is_final(cased_before, p + n, end));
        first = false;
        p += n;
    }
    return str_or_error(finish_sb(ts, &sb, ok));
}

static Value str_m_title(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("str.title", 0, 0);
    return recase(ts, SELF, RECASE_TITLE);
}
static Value str_m_capitalize(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("str.capitalize", 0, 0);
    return recase(ts, SELF, RECASE_CAPITALIZE);
}
static Value str_m_swapcase(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("str.swapcase", 0, 0);
    return recase(ts, SELF, RECASE_SWAP);
}

static Value affix_common(TState *ts, Value *args, int nargs, ObjTuple *kwnames, bool suffix) {
    const char *name = suffix ? "removesuffix" : "removeprefix";
    ARGS_CHECK_METHOD(suffix ? "str.removesuffix" : "str.removeprefix", 1, 1);
    ObjStr *s = SELF;
    if (!IS_STR(args[1]))
        return err_format(ts, EXC(ts)->TypeError, "%s() argument must be str, not %s", name,
                          ops_type_name(ts, args[1]));
    ObjStr *a = AS_STR(args[1]);
    if (a->len == 0 || a->len > s->len) return same_str(ts, s);
    if (!suffix && memcmp(s->data, a->data, a->len) == 0)
        return str_or_error(substr(ts, s, a->len, s->len - a->len));
    if (suffix && memcmp(s->data + s->len - a->len, a->data, a->len) == 0)
        return str_or_error(substr(ts, s, 0, s->len - a->len));
    return same_str(ts, s);
}

static Value str_m_removeprefix(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return affix_common(ts, args, nargs, kwnames, false);
}
static Value str_m_removesuffix(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return affix_common(ts, args, nargs, kwnames, true);
}

/* str.maketrans(x[, y[, z]]): a dict from code points to replacements. */
static Value str_m_maketrans(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("maketrans", 1, 3);
    ObjDict *d = dict_new(ts);
    if (!d) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(d));
    Value result = ERROR_VAL;
    if (nargs == 2) {
        if (!IS_DICT(args[1])) {
            err_format(ts, EXC(ts)->TypeError,
                       "if you give only one argument to maketrans it must be a dict");
            goto done;
        }
        size_t pos = 0;
        Value k, v;
        while (dict_next(AS_DICT(args[1]), &pos, &k, &v)) {
            if (IS_STR(k)) {
                if (AS_STR(k)->nchars != 1) {
                    err_format(ts, EXC(ts)->ValueError,
                               "string keys in translate table must be of length 1");
                    goto done;
                }
                size_t n;
                k = INT_VAL(str_utf8_decode(AS_STR(k)->data, AS_STR(k)->len, &n));
            } else if (!IS_INT(k)) {
                err_format(ts, EXC(ts)->TypeError, "keys in translate table must be strings or integers");
                goto done;
            }
            if (dict_set(ts, d, k, v) < 0) goto done;
        }
        result = OBJ_VAL(d);
        goto done;
    }
    if (!IS_STR(args[1]) || !IS_STR(args[2])) {
        err_format(ts, EXC(ts)->TypeError, "maketrans() argument %d must be str, not %s",
                   IS_STR(args[1]) ? 2 : 1, ops_type_name(ts, IS_STR(args[1]) ? args[2] : args[1]));
        goto done;
    }
    ObjStr *x = AS_STR(args[1]), *y = AS_STR(args[2]);
    if (x->nchars != y->nchars) {
        err_format(ts, EXC(ts)->ValueError, "the first two maketrans arguments must have equal length");
        goto done;
    }
    const char *p = x->data, *q = y->data;
    for (size_t i = 0; i < x->nchars; i++) {
        size_t n, m;
        uint32_t a = str_utf8_decode(p, (size_t)(x->data + x->len - p), &n);
        uint32_t b = str_utf8_decode(q, (size_t)(y->data + y->len - q), &m);
        if (dict_set(ts, d, INT_VAL(a), INT_VAL(b)) < 0) goto done;
        p += n;
        q += m;
    }
    if (nargs > 3) {
        if (!IS_STR(args[3])) {
            err_format(ts, EXC(ts)->TypeError, "maketrans() argument 3 must be str, not %s",
                       ops_type_name(ts, args[3]));
            goto done;
        }
        ObjStr *z = AS_STR(args[3]);
        for (const char *r = z->data, *zend = z->data + z->len; r < zend;) {
            size_t n;
            uint32_t c = str_utf8_decode(r, (size_t)(zend - r), &n);
            if (dict_set(ts, d, INT_VAL(c), NONE_VAL) < 0) goto done;
            r += n;
        }
    }
    result = OBJ_VAL(d);
done:
    vm_pop(ts);
    return result;
}

static Value str_m_translate(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("str.translate", 1, 1);
    ObjStr *s = SELF;
    Value table = args[1];
    StrBuf sb;
    sb_init(&sb);
    bool ok = true;
    const char *p = s->data, *end = p + s->len;
    while (p < end) {
        size_t n;
        uint32_t c = decode_at(p, end, &n);
        Value r = ops_getitem(ts, table, INT_VAL(c));
        if (IS_ERROR(r)) {
            if (!err_matches(ts, EXC(ts)->LookupError)) {
                sb_free(&sb);
                return ERROR_VAL;
            }
            err_clear(ts);
            ok &= sb_append(&sb, p, n);
        } else if (IS_NONE(r)) {
            /* deleted */
        } else if (IS_STR(r)) {
            ok &= sb_append(&sb, AS_STR(r)->data, AS_STR(r)->len);
        } else if (IS_INT(r)) {
            int64_t cp = AS_INT(r);
            if (cp < 0 || cp > 0x10FFFF) {
                sb_free(&sb);
                return err_format(ts, EXC(ts)->ValueError, "character mapping must be in range(0x110000)");
            }
            ok &= append_char(&sb, (uint32_t)cp);
        } else {
            sb_free(&sb);
            return err_format(ts, EXC(ts)->TypeError, "character mapping must return integer, None or str");
        }
        p += n;
    }
    return str_or_error(finish_sb(ts, &sb, ok));
}

/* ---- predicates ------------------------------------------------------------ */

typedef bool (*CharPred)(uint32_t);

static Value all_chars(ObjStr *s, CharPred pred, bool empty_result) {
    if (s->len == 0) return BOOL_VAL(empty_result);
    const char *p = s->data, *end = p + s->len;
    while (p < end) {
        size_t n;
        if (!pred(decode_at(p, end, &n))) return FALSE_VAL;
        p += n;
    }
    return TRUE_VAL;
}

#define PREDICATE(method, pred, empty)                                             \
    static Value str_m_##method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) { \
        ARGS_CHECK_METHOD("str." #method, 0, 0);                                   \
        return all_chars(SELF, pred, empty);                                       \
    }

PREDICATE(isdigit, uni_isdigit, false)
PREDICATE(isdecimal, uni_isdecimal, false)
PREDICATE(isnumeric, uni_isnumeric, false)
PREDICATE(isalpha, uni_isalpha, false)
PREDICATE(isalnum, uni_isalnum, false)
PREDICATE(isspace, uni_isspace, false)
PREDICATE(isprintable, uni_isprintable, true)

static Value str_m_isascii(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("str.isascii", 0, 0);
    return BOOL_VAL(STR_IS_ASCII(SELF));
}

/* isupper / islower: some cased character, none of the other case. */
static Value cased_only(ObjStr *s, bool upper) {
    bool cased = false;
    const char *p = s->data, *end = p + s->len;
    while (p < end) {
        size_t n;
        uint32_t c = decode_at(p, end, &n);
        if (upper ? uni_islower(c) : uni_isupper(c)) return FALSE_VAL;
        if (upper ? uni_isupper(c) : uni_islower(c)) cased = true;
        p += n;
    }
    return BOOL_VAL(cased);
}

static Value str_m_isupper(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("str.isupper", 0, 0);
    return cased_only(SELF, true);
}
static Value str_m_islower(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("str.islower", 0, 0);
    return cased_only(SELF, false);
}

static Value str_m_istitle(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("str.istitle", 0, 0);
    ObjStr *s = SELF;
    bool cased = false, prev_cased = false;
    const char *p = s->data, *end = p + s->len;
    while (p < end) {
        size_t n;
        uint32_t c = decode_at(p, end, &n);
        p += n;
        if (uni_isupper(c) || uni_istitle(c)) {
            if (prev_cased) return FALSE_VAL;
            prev_cased = cased = true;
        } else if (uni_islower(c)) {
            if (!prev_cased) return FALSE_VAL;
            prev_cased = cased = true;
        } else {
            prev_cased = false;
        }
    }
    return BOOL_VAL(cased);
}

static Value str_m_isidentifier(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("str.isidentifier", 0, 0);
    ObjStr *s = SELF;
    if (s->len == 0) return FALSE_VAL;
    const char *p = s->data, *end = p + s->len;
    bool first = true;
    while (p < end) {
        size_t n;
        uint32_t c = decode_at(p, end, &n);
        p += n;
        if (!(first ? xid_start(c) : xid_continue(c))) return FALSE_VAL;
        first = false;
    }
    return TRUE_VAL;
}

/* ---- printf-style formatting (str % args) --------------------------------- */

typedef struct PctSpec {
    bool left, plus, space, alt, zero;
    int64_t width; /* -1: none */
    int64_t prec;  /* -1: none */
} PctSpec;

/* Appends text (nchars code points), padded with spaces to the width. */
static bool pct_pad(StrBuf *out, const char *text, size_t len, size_t nchars, const PctSpec *sp) {
    size_t fill = sp->width > (int64_t)nchars ? (size_t)sp->width - nchars : 0;
    bool ok = true;
    if (!sp->left) ok &= sb_append_repeat(out, ' ', fill);
    ok &= sb_append(out, text, len);
    if (sp->left) ok &= sb_append_repeat(out, ' ', fill);
    return ok;
}

/* %s %r %a (and %c): precision truncates to that many code points. */
static bool pct_text(StrBuf *out, const ObjStr *s, const PctSpec *sp) {
    size_t len = s->len, nchars = s->nchars;
    if (sp->prec >= 0 && (size_t)sp->prec < nchars) {
        nchars = (size_t)sp->prec;
        len = str_byte_offset(s, nchars);
    }
    return pct_pad(out, s->data, len, nchars, sp);
}

/* Sign, prefix, zeros and digits, laid out as CPython's %d/%x/%o. */
static bool pct_digits(StrBuf *out, const char *digits, size_t ndigits, bool negative,
                       const char *prefix, const PctSpec *sp) {
    const char *sign = negative ? "-" : sp->plus ? "+" : sp->space ? " " : "";
    size_t sign_len = strlen(sign), prefix_len = strlen(prefix);
    size_t prec_zeros = sp->prec > (int64_t)ndigits ? (size_t)sp->prec - ndigits : 0;
    size_t body = sign_len + prefix_len + prec_zeros + ndigits;
    size_t fill = sp->width > (int64_t)body ? (size_t)sp->width - body : 0;
    bool ok = true;
    if (!sp->left && !sp->zero) ok &= sb_append_repeat(out, ' ', fill);
    ok &= sb_append(out, sign, sign_len);
    ok &= sb_append(out, prefix, prefix_len);
    if (!sp->left && sp->zero) ok &= sb_append_repeat(out, '0', fill);
    ok &= sb_append_repeat(out, '0', prec_zeros);
    ok &= sb_append(out, digits, ndigits);
    if (sp->left) ok &= sb_append_repeat(out, ' ', fill);
    return ok;
}

/* The integer a %d/%x/%o conversion formats, or ERROR_VAL after raising. */
static Value pct_int_arg(TState *ts, Value v, char conv) {
    if (IS_INT(v) || IS_BIGINT(v)) return v;
    if (IS_BOOL(v)) return INT_VAL(AS_BOOL(v));
    bool decimal = conv == 'd' || conv == 'i' || conv == 'u';
    if (decimal && IS_FLOAT(v)) {
        double d = AS_FLOAT(v);
        if (d != d) return err_format(ts, EXC(ts)->ValueError, "cannot convert float NaN to integer");
        if (d == HUGE_VAL || d == -HUGE_VAL)
            return err_format(ts, EXC(ts)->OverflowError, "cannot convert float infinity to integer");
        if (d > -9.0e15 && d < 9.0e15) return int_from_i64(ts, (int64_t)d);
        mpz_t z;
        mpz_init_set_d(z, d);
        Value r = int_from_mpz(ts, z);
        mpz_clear(z);
        return r;
    }
    ObjType *t = val_type(ts, v);
    if ((t->flags & TYPEF_HEAPTYPE) && !IS_EMPTY(type_lookup(t, ts->interp->names.index))) {
        int64_t i;
        return ops_index(ts, v, &i) ? int_from_i64(ts, i) : ERROR_VAL;
    }
    /* %d takes what int() takes: __int__ too (%x and %o need __index__). */
    Value to_int = decimal && (t->flags & TYPEF_HEAPTYPE) ? type_lookup(t, str_intern_cstr(ts, "__int__")) : EMPTY_VAL;
    if (!IS_EMPTY(to_int)) {
        Value r = vm_call_method(ts, to_int, v, NULL, 0, NULL);
        if (IS_ERROR(r) || IS_INT(r) || IS_BIGINT(r)) return r;
        return err_format(ts, EXC(ts)->TypeError, "__int__ returned non-int (type %s)", ops_type_name(ts, r));
    }
    if (decimal)
        return err_format(ts, EXC(ts)->TypeError, "%%%c format: a real number is required, not %s", conv,
                          ops_tp_name(ts, t));
    return err_format(ts, EXC(ts)->TypeError, "%%%c format: an integer is required, not %s", conv,
                      ops_tp_name(ts, t));
}

static bool pct_int(TState *ts, StrBuf *out, Value v, char conv, const PctSpec *sp) {
    Value n = pct_int_arg(ts, v, conv);
    if (IS_ERROR(n)) return false;
    int base = (conv == 'x' || conv == 'X') ? 16 : conv == 'o' ? 8 : 10;
    char small[32];
    const char *digits;
    size_t ndigits;
    bool negative;
    if (IS_INT(n)) {
        int64_t i = AS_INT(n);
        negative = i < 0;
        unsigned long long u = negative ? (unsigned long long)-i : (unsigned long long)i;
        ndigits = (size_t)snprintf(small, sizeof small, base == 16 ? "%llx" : base == 8 ? "%llo" : "%llu", u);
        digits = small;
    } else {
        ObjStr *s = int_to_str(ts, n, base, false);
        if (!s) return false;
        negative = s->data[0] == '-';
        digits = s->data + negative;
        ndigits = s->len - negative;
    }
    const char *prefix = !sp->alt ? "" : conv == 'x' ? "0x" : conv == 'X' ? "0X" : conv == 'o' ? "0o" : "";
    size_t start = out->len;
    if (!pct_digits(out, digits, ndigits, negative, prefix, sp)) {
        err_no_memory(ts);
        return false;
    }
    if (conv == 'X')
        for (size_t i = start; i < out->len; i++)
            if (out->data[i] >= 'a' && out->data[i] <= 'f') out->data[i] = (char)(out->data[i] - 32);
    return true;
}

static bool pct_float(TState *ts, StrBuf *out, Value v, char conv, const PctSpec *sp) {
    double d;
    if (IS_FLOAT(v)) {
        d = AS_FLOAT(v);
    } else if (IS_INT(v)) {
        d = (double)AS_INT(v);
    } else if (IS_BOOL(v)) {
        d = AS_BOOL(v);
    } else if (IS_BIGINT(v)) {
        if (IS_ERROR(int_to_float(ts, v, &d))) return false;
    } else {
        ObjType *t = val_type(ts, v);
        Value fn = (t->flags & TYPEF_HEAPTYPE) ? type_lookup(t, ts->interp->names.float_) : EMPTY_VAL;
        if (IS_EMPTY(fn)) {
            err_format(ts, EXC(ts)->TypeError, "must be real number, not %s", ops_tp_name(ts, t));
            return false;
        }
        Value r = vm_call_method(ts, fn, v, NULL, 0, NULL);
        if (IS_ERROR(r)) return false;
        if (!IS_FLOAT(r)) {
            err_format(ts, EXC(ts)->TypeError, "%s.__float__ returned non-float (type %s)",
                       t->name->data, ops_type_name(ts, r));
            return false;
        }
        d = AS_FLOAT(r);
    }
    if (!isfinite(d) && sp->zero && !sp->left && sp->width > 0) {
        /* CPython pads inf and nan with zeros too, after the sign. */
        char body[8];
        int n = snprintf(body, sizeof body, "%s%s", d < 0 ? "-" : sp->plus ? "+" : sp->space ? " " : "",
                         isnan(d) ? "nan" : "inf");
        if (conv == 'E' || conv == 'F' || conv == 'G')
            for (char *c = body; *c; c++) *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
        size_t sign = body[0] == '-' || body[0] == '+' || body[0] == ' ';
        size_t fill = (size_t)sp->width > (size_t)n ? (size_t)sp->width - (size_t)n : 0;
        if (!sb_append(out, body, sign) || !sb_append_repeat(out, '0', fill) ||
            !sb_append(out, body + sign, (size_t)n - sign)) {
            err_no_memory(ts);
            return false;
        }
        return true;
    }
    char fmt[16], *f = fmt;
    *f++ = '%';
    if (sp->left) *f++ = '-';
    if (sp->plus) *f++ = '+';
    if (sp->space) *f++ = ' ';
    if (sp->alt) *f++ = '#';
    if (sp->zero) *f++ = '0';
    memcpy(f, "*.*", 3);
    f += 3;
    *f++ = conv;
    *f = '\0';
    int width = sp->width < 0 ? 0 : (int)sp->width;
    int prec = sp->prec < 0 ? 6 : (int)sp->prec;
    if (!sb_appendf(out, fmt, width, prec, d)) {
        err_no_memory(ts);
        return false;
    }
    return true;
}

static bool pct_char(TState *ts, StrBuf *out, Value v, const PctSpec *sp) {
    char buf[4];
    size_t n;
    if (IS_STR(v) && AS_STR(v)->nchars == 1) {
        return grew(ts, pct_pad(out, AS_STR(v)->data, AS_STR(v)->len, 1, sp));
    }
    if (IS_INT(v) || IS_BOOL(v) || IS_BIGINT(v)) {
        int64_t cp;
        if (!int_to_i64(IS_BOOL(v) ? INT_VAL(AS_BOOL(v)) : v, &cp) || cp < 0 || cp > 0x10FFFF) {
            err_format(ts, EXC(ts)->OverflowError, "%%c arg not in range(0x110000)");
            return false;
        }
        n = str_utf8_encode((uint32_t)cp, buf);
        return grew(ts, pct_pad(out, buf, n, 1, sp));
    }
    err_format(ts, EXC(ts)->TypeError, "%%c requires int or char");
    return false;
}

/* A width or precision of digits; false after raising. */
static bool pct_number(TState *ts, const char **pp, const char *end, int64_t *out, const char *what) {
    int64_t n = 0;
    const char *p = *pp;
    while (p < end && *p >= '0' && *p <= '9') {
        if (n > (INT32_MAX - (*p - '0')) / 10) {
            err_format(ts, EXC(ts)->ValueError, "%s too big", what);
            return false;
        }
        n = n * 10 + (*p++ - '0');
    }
    *pp = p;
    *out = n;
    return true;
}

/* The value for a '*' width or precision. */
static bool pct_star(TState *ts, Value v, int64_t *out) {
    if (!IS_INT(v) && !IS_BOOL(v)) {
        err_format(ts, EXC(ts)->TypeError, "* wants int");
        return false;
    }
    int64_t n = IS_BOOL(v) ? AS_BOOL(v) : AS_INT(v);
    if (n > INT32_MAX || n < -INT32_MAX) {
        err_format(ts, EXC(ts)->ValueError, "width too big");
        return false;
    }
    *out = n;
    return true;
}

Value str_mod(TState *ts, ObjStr *fmt, Value args) {
    Value *items = &args;
    size_t nitems = 1, next = 0;
    if (IS_TUPLE(args)) {
        items = AS_TUPLE(args)->items;
        nitems = AS_TUPLE(args)->len;
    }
    /* Anything subscriptable but a tuple or str may serve %(name)s. */
    ObjType *at = val_type(ts, args);
    bool mapping = !IS_TUPLE(args) && !IS_STR(args) && at->getitem;
    StrBuf out;
    sb_init(&out);
    const char *p = fmt->data, *end = p + fmt->len;
    while (p < end) {
        const char *pct = memchr(p, '%', (size_t)(end - p));
        if (!pct) {
            if (!sb_append(&out, p, (size_t)(end - p))) goto nomem;
            break;
        }
        if (!sb_append(&out, p, (size_t)(pct - p))) goto nomem;
        p = pct + 1;
        if (p < end && *p == '%') {
            if (!sb_append_char(&out, '%')) goto nomem;
            p++;
            continue;
        }
        Value arg = EMPTY_VAL;
        if (p < end && *p == '(') {
            if (!mapping) {
                err_format(ts, EXC(ts)->TypeError, "format requires a mapping");
                goto fail;
            }
            const char *key = ++p;
            int depth = 1;
            while (p < end && depth > 0) {
                if (*p == '(') depth++;
                else if (*p == ')') depth--;
                p++;
            }
            if (depth > 0) {
                err_format(ts, EXC(ts)->ValueError, "incomplete format key");
                goto fail;
            }
            ObjStr *k = str_new(ts, key, (size_t)(p - 1 - key));
            if (!k) goto fail;
            arg = ops_getitem(ts, args, OBJ_VAL(k));
            if (IS_ERROR(arg)) goto fail;
            next = nitems; /* as CPython: a keyed value takes the one positional slot */
        }
        PctSpec sp = {false, false, false, false, false, -1, -1};
        for (; p < end; p++) {
            if (*p == '-') sp.left = true;
            else if (*p == '+') sp.plus = true;
            else if (*p == ' ') sp.space = true;
            else if (*p == '#') sp.alt = true;
            else if (*p == '0') sp.zero = true;
            else break;
        }
        if (p < end && *p == '*') {
            p++;
            if (next >= nitems) goto not_enough;
            if (!pct_star(ts, items[next++], &sp.width)) goto fail;
            if (sp.width < 0) {
                sp.left = true;
                sp.width = -sp.width;
            }
        } else if (p < end && *p >= '0' && *p <= '9') {
            if (!pct_number(ts, &p, end, &sp.width, "width")) goto fail;
        }
        if (p < end && *p == '.') {
            p++;
            if (p < end && *p == '*') {
                p++;
                if (next >= nitems) goto not_enough;
                if (!pct_star(ts, items[next++], &sp.prec)) goto fail;
                if (sp.prec < 0) sp.prec = 0;
            } else if (!pct_number(ts, &p, end, &sp.prec, "precision")) {
                goto fail;
            }
        }
        while (p < end && (*p == 'h' || *p == 'l' || *p == 'L')) p++;
        if (p >= end) {
            err_format(ts, EXC(ts)->ValueError, "incomplete format");
            goto fail;
        }
        const char *conv_at = p;
        char conv = *p++;
        if (IS_EMPTY(arg)) {
            if (next >= nitems) goto not_enough;
            arg = items[next++];
        }
        bool ok;
        switch (conv) {
        case 's':
        case 'r':
        case 'a': {
            Value sv = conv == 's' ? ops_str(ts, arg) : conv == 'r' ? ops_repr(ts, arg) : str_ascii(ts, arg);
            if (IS_ERROR(sv)) goto fail;
            if (!pct_text(&out, AS_STR(sv), &sp)) goto nomem;
            continue;
        }
        case 'd':
        case 'i':
        case 'u':
        case 'x':
        case 'X':
        case 'o':
            ok = pct_int(ts, &out, arg, conv, &sp);
            break;
        case 'e':
        case 'E':
        case 'f':
        case 'F':
        case 'g':
        case 'G':
            ok = pct_float(ts, &out, arg, conv, &sp);
            break;
        case 'c':
            ok = pct_char(ts, &out, arg, &sp);
            break;
        case '%':
            ok = grew(ts, sb_append_char(&out, '%'));
            break;
        default: {
            size_t n;
            uint32_t cp = decode_at(conv_at, end, &n);
            err_format(ts, EXC(ts)->ValueError, "unsupported format character '%.*s' (0x%x) at index %zu",
                       (int)n, conv_at, (unsigned)cp, count_chars(fmt->data, (size_t)(conv_at - fmt->data)));
            goto fail;
        }
        }
        if (!ok) goto fail;
    }
    if (next < nitems && !mapping) {
        err_format(ts, EXC(ts)->TypeError, "not all arguments converted during string formatting");
        goto fail;
    }
    return str_or_error(str_from_sb(ts, &out));
not_enough:
    err_format(ts, EXC(ts)->TypeError, "not enough arguments for format string");
    goto fail;
nomem:
    err_no_memory(ts);
fail:
    sb_free(&out);
    return ERROR_VAL;
}

/* ---- str.format and format specs ----------------------------------------- */

static void raise_numfmt(TState *ts, const char *msg) {
    switch (numfmt_error_kind(msg)) {
    case NUMFMT_OVERFLOW_ERROR: err_set_str(ts, EXC(ts)->OverflowError, msg); break;
    case NUMFMT_MEMORY_ERROR: err_no_memory(ts); break;
    default: err_set_str(ts, EXC(ts)->ValueError, msg); break;
    }
}

/* format(s, spec) for a str, appended to out; false after raising. */
static bool format_str_spec(TState *ts, const ObjStr *s, const char *spec, size_t spec_len, StrBuf *out) {
    if (spec_len == 0) return grew(ts, sb_append(out, s->data, s->len));
    FormatSpec fs;
    char err[NUMFMT_ERRLEN];
    if (!numfmt_parse_spec(spec, spec_len, &fs, err, sizeof err) ||
        !numfmt_format_str(&fs, s->data, s->len, "str", out, err, sizeof err)) {
        raise_numfmt(ts, err);
        return false;
    }
    return true;
}

static Value str_m_format_spec(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("str.__format__", 1, 1);
    if (!IS_STR(args[1]))
        return err_format(ts, EXC(ts)->TypeError, "__format__() argument must be str, not %s",
                          ops_type_name(ts, args[1]));
    ObjStr *spec = AS_STR(args[1]);
    if (spec->len == 0) return same_str(ts, SELF);
    StrBuf sb;
    sb_init(&sb);
    if (!format_str_spec(ts, SELF, spec->data, spec->len, &sb)) {
        sb_free(&sb);
        return ERROR_VAL;
    }
    return str_or_error(str_from_sb(ts, &sb));
}

enum { AUTO_INIT, AUTO_ON, AUTO_MANUAL };

/* What the replacement fields of a format string draw from. */
typedef struct FormatCtx {
    Value *pos;        /* positional arguments; NULL for format_map */
    size_t npos;
    ObjTuple *kwnames; /* keyword arguments of format(), or NULL */
    Value *kwvalues;
    Value mapping;     /* format_map's argument, or EMPTY_VAL */
    int auto_state;
    int64_t auto_next;
} FormatCtx;

/* A field name part made only of digits: its value; -1 otherwise; -2
 * after raising (too many digits). */
static int64_t field_integer(TState *ts, const char *p, size_t n) {
    if (n == 0) return -1;
    int64_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        int d = p[i] - '0';
        if (acc > (INT64_MAX - d) / 10) {
            err_format(ts, EXC(ts)->ValueError, "Too many decimal digits in format string");
            return -2;
        }
        acc = acc * 10 + d;
    }
    return acc;
}

static Value field_keyword(TState *ts, FormatCtx *c, const char *p, size_t n) {
    ObjStr *key = str_new(ts, p, n);
    if (!key) return ERROR_VAL;
    if (!IS_EMPTY(c->mapping)) return ops_getitem(ts, c->mapping, OBJ_VAL(key));
    for (size_t k = 0; c->kwnames && k < c->kwnames->len; k++) {
        ObjStr *name = AS_STR(c->kwnames->items[k]);
        if (name->len == n && memcmp(name->data, p, n) == 0) return c->kwvalues[k];
    }
    return err_set_value(ts, EXC(ts)->KeyError, OBJ_VAL(key));
}

/* The object a field name designates: an argument, then .attr and [key]. */
static Value field_object(TState *ts, FormatCtx *c, const char *p, size_t n) {
    size_t i = 0;
    while (i < n && p[i] != '.' && p[i] != '[') i++;
    int64_t index = field_integer(ts, p, i);
    if (index == -2) return ERROR_VAL;
    bool empty = i == 0;
    if (empty || index >= 0) {
        if (c->auto_state == AUTO_INIT) c->auto_state = empty ? AUTO_ON : AUTO_MANUAL;
        if (c->auto_state == AUTO_MANUAL && empty)
            return err_format(ts, EXC(ts)->ValueError,
                              "cannot switch from manual field specification to automatic field numbering");
        if (c->auto_state == AUTO_ON && !empty)
            return err_format(ts, EXC(ts)->ValueError,
                              "cannot switch from automatic field numbering to manual field specification");
        if (empty) index = c->auto_next++;
    }
    Value obj;
    if (index < 0) {
        obj = field_keyword(ts, c, p, i);
    } else if (!c->pos) {
        return err_format(ts, EXC(ts)->ValueError, "Format string contains positional fields");
    } else if ((uint64_t)index >= c->npos) {
        return err_format(ts, EXC(ts)->IndexError,
                          "Replacement index %lld out of range for positional args tuple",
                          (long long)index);
    } else {
        obj = c->pos[index];
    }
    while (!IS_ERROR(obj) && i < n) {
        char ch = p[i++];
        const char *name = p + i;
        size_t len;
        if (ch == '.') {
            while (i < n && p[i] != '.' && p[i] != '[') i++;
            len = (size_t)(p + i - name);
        } else if (ch == '[') {
            while (i < n && p[i] != ']') i++;
            if (i >= n) return err_format(ts, EXC(ts)->ValueError, "Missing ']' in format string");
            len = (size_t)(p + i - name);
            i++;
        } else {
            return err_format(ts, EXC(ts)->ValueError,
                              "Only '.' or '[' may follow ']' in format field specifier");
        }
        if (len == 0) return err_format(ts, EXC(ts)->ValueError, "Empty attribute in format string");
        if (ch == '.') {
            ObjStr *attr = str_intern(ts, name, len);
            obj = attr ? ops_getattr(ts, obj, attr) : ERROR_VAL;
            continue;
        }
        int64_t k = field_integer(ts, name, len);
        if (k == -2) return ERROR_VAL;
        Value key;
        if (k >= 0) {
            key = int_from_i64(ts, k);
        } else {
            ObjStr *ks = str_new(ts, name, len);
            key = str_or_error(ks);
        }
        obj = IS_ERROR(key) ? key : ops_getitem(ts, obj, key);
    }
    return obj;
}

static Value convert_field(TState *ts, Value obj, uint32_t conversion) {
    switch (conversion) {
    case 'r': return ops_repr(ts, obj);
    case 's': return ops_str(ts, obj);
    case 'a': return str_ascii(ts, obj);
    default:
        if (conversion > 32 && conversion < 127)
            return err_format(ts, EXC(ts)->ValueError, "Unknown conversion specifier %c", (char)conversion);
        return err_format(ts, EXC(ts)->ValueError, "Unknown conversion specifier \\x%x",
                          (unsigned)conversion);
    }
}

/* Formats obj with the spec and appends the result. */
static bool render_field(TState *ts, Value obj, const char *spec, size_t spec_len, StrBuf *out) {
    if (IS_STR(obj) && OBJ_TYPE(obj) == ts->interp->types.str)
        return format_str_spec(ts, AS_STR(obj), spec, spec_len, out);
    ObjStr *spec_str = str_new(ts, spec, spec_len);
    if (!spec_str) return false;
    Value r = ops_format(ts, obj, OBJ_VAL(spec_str));
    if (IS_ERROR(r)) return false;
    if (!sb_append(out, AS_STR(r)->data, AS_STR(r)->len)) {
        err_no_memory(ts);
        return false;
    }
    return true;
}

static bool format_into(TState *ts, FormatCtx *c, const char *s, size_t len, int depth, StrBuf *out);

/* One replacement field: p is just past its '{'; on success *pp is just
 * past its closing '}'. */
static bool format_field(TState *ts, FormatCtx *c, const char **pp, const char *end, int depth,
                         StrBuf *out) {
    const char *p = *pp, *name = p;
    char term = 0;
    while (p < end) {
        term = *p++;
        if (term == '{') {
            err_format(ts, EXC(ts)->ValueError, "unexpected '{' in field name");
            return false;
        }
        if (term == '[') {
            while (p < end && *p != ']') p++;
            continue;
        }
        if (term == '}' || term == ':' || term == '!') break;
    }
    const char *name_end = p - 1;
    uint32_t conversion = 0;
    const char *spec = p;
    size_t spec_len = 0;
    bool spec_nested = false;
    if (term == '!' || term == ':') {
        bool has_spec = true;
        if (term == '!') {
            if (p >= end) {
                err_format(ts, EXC(ts)->ValueError, "end of string while looking for conversion specifier");
                return false;
            }
            size_t n;
            conversion = decode_at(p, end, &n);
            p += n;
            if (p < end) {
                char after = *p++;
                if (after == '}') has_spec = false;
                else if (after != ':') {
                    err_format(ts, EXC(ts)->ValueError, "expected ':' after conversion specifier");
                    return false;
                }
            }
            spec = p;
        }
        if (has_spec) {
            int count = 1;
            while (p < end) {
                char ch = *p++;
                if (ch == '{') {
                    spec_nested = true;
                    count++;
                } else if (ch == '}' && --count == 0) {
                    break;
                }
            }
            if (count != 0) {
                err_format(ts, EXC(ts)->ValueError, "unmatched '{' in format spec");
                return false;
            }
            spec_len = (size_t)(p - 1 - spec);
        }
    } else if (term != '}') {
        err_format(ts, EXC(ts)->ValueError, "expected '}' before end of string");
        return false;
    }
    *pp = p;

    Value obj = field_object(ts, c, name, (size_t)(name_end - name));
    if (!IS_ERROR(obj) && conversion) obj = convert_field(ts, obj, conversion);
    if (IS_ERROR(obj)) return false;
    /* obj may be fresh (an attribute, a repr): keep it alive while the
     * nested spec and the formatting run mini code. */
    vm_push(ts, obj);
    bool ok;
    if (spec_nested) {
        StrBuf expanded;
        sb_init(&expanded);
        ok = format_into(ts, c, spec, spec_len, depth - 1, &expanded) &&
             render_field(ts, obj, expanded.data ? expanded.data : "", expanded.len, out);
        sb_free(&expanded);
    } else {
        ok = render_field(ts, obj, spec, spec_len, out);
    }
    vm_pop(ts);
    return ok;
}

static bool format_into(TState *ts, FormatCtx *c, const char *s, size_t len, int depth, StrBuf *out) {
    if (depth <= 0) {
        err_format(ts, EXC(ts)->ValueError, "Max string recursion exceeded");
        return false;
    }
    const char *p = s, *end = s + len;
    while (p < end) {
        const char *q = p;
        while (q < end && *q != '{' && *q != '}') q++;
        if (!sb_append(out, p, (size_t)(q - p))) goto nomem;
        if (q == end) break;
        char ch = *q;
        if (q + 1 < end && q[1] == ch) {
            if (!sb_append_char(out, ch)) goto nomem;
            p = q + 2;
            continue;
        }
        if (ch == '}') {
            err_format(ts, EXC(ts)->ValueError, "Single '}' encountered in format string");
            return false;
        }
        if (q + 1 == end) {
            err_format(ts, EXC(ts)->ValueError, "Single '{' encountered in format string");
            return false;
        }
        p = q + 1;
        if (!format_field(ts, c, &p, end, depth, out)) return false;
    }
    return true;
nomem:
    err_no_memory(ts);
    return false;
}

static Value str_m_format(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    FormatCtx c = {args + 1, (size_t)(nargs - 1), kwnames, args + nargs, EMPTY_VAL, AUTO_INIT, 0};
    StrBuf out;
    sb_init(&out);
    if (!format_into(ts, &c, SELF->data, SELF->len, 2, &out)) {
        sb_free(&out);
        return ERROR_VAL;
    }
    return str_or_error(str_from_sb(ts, &out));
}

static Value str_m_format_map(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("str.format_map", 1, 1);
    FormatCtx c = {NULL, 0, NULL, NULL, args[1], AUTO_INIT, 0};
    StrBuf out;
    sb_init(&out);
    if (!format_into(ts, &c, SELF->data, SELF->len, 2, &out)) {
        sb_free(&out);
        return ERROR_VAL;
    }
    return str_or_error(str_from_sb(ts, &out));
}

/* ---- dunder methods (for subclasses and super()) ----------------------- */

static Value str_m_len(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("str.__len__", 0, 0);
    return INT_VAL((int64_t)SELF->nchars);
}
static Value str_m_getitem(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("str.__getitem__", 1, 1);
    return str_getitem(ts, args[0], args[1]);
}
static Value str_m_contains(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("str.__contains__", 1, 1);
    int r = str_contains(ts, args[0], args[1]);
    return r < 0 ? ERROR_VAL : BOOL_VAL(r);
}
static Value str_m_iter(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("str.__iter__", 0, 0);
    return str_iter(ts, args[0]);
}
static Value str_m_add(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("str.__add__", 1, 1);
    return str_binop(ts, BIN_ADD, args[0], args[1]);
}
static Value str_m_mul(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("str.__mul__", 1, 1);
    return str_binop(ts, BIN_MUL, args[0], args[1]);
}
static Value str_m_mod(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("str.__mod__", 1, 1);
    return str_mod(ts, SELF, args[1]);
}
static Value str_m_hash(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("str.__hash__", 0, 0);
    return int_from_i64(ts, SELF->hash);
}
static Value str_m_str(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("str.__str__", 0, 0);
    return same_str(ts, SELF);
}
static Value str_m_repr(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("str.__repr__", 0, 0);
    return str_repr_slot(ts, args[0]);
}

#define STR_CMP_METHOD(fn, op)                                                      \
    static Value fn(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {        \
        ARGS_CHECK_METHOD("str." #op, 1, 1);                                        \
        return str_richcmp(ts, args[0], args[1], op);                               \
    }
STR_CMP_METHOD(str_m_eq, CMP_EQ)
STR_CMP_METHOD(str_m_ne, CMP_NE)
STR_CMP_METHOD(str_m_lt, CMP_LT)
STR_CMP_METHOD(str_m_le, CMP_LE)
STR_CMP_METHOD(str_m_gt, CMP_GT)
STR_CMP_METHOD(str_m_ge, CMP_GE)

static const NativeDef str_methods[] = {
    {"join", str_m_join},
    {"encode", codec_str_encode},
    {"split", str_m_split},
    {"rsplit", str_m_rsplit},
    {"splitlines", str_m_splitlines},
    {"strip", str_m_strip},
    {"lstrip", str_m_lstrip},
    {"rstrip", str_m_rstrip},
    {"replace", str_m_replace},
    {"startswith", str_m_startswith},
    {"endswith", str_m_endswith},
    {"find", str_m_find},
    {"rfind", str_m_rfind},
    {"index", str_m_index},
    {"rindex", str_m_rindex},
    {"count", str_m_count},
    {"upper", str_m_upper},
    {"lower", str_m_lower},
    {"casefold", str_m_casefold},
    {"title", str_m_title},
    {"capitalize", str_m_capitalize},
    {"swapcase", str_m_swapcase},
    {"isdigit", str_m_isdigit},
    {"isdecimal", str_m_isdecimal},
    {"isnumeric", str_m_isnumeric},
    {"isalpha", str_m_isalpha},
    {"isalnum", str_m_isalnum},
    {"isspace", str_m_isspace},
    {"isprintable", str_m_isprintable},
    {"isascii", str_m_isascii},
    {"isupper", str_m_isupper},
    {"islower", str_m_islower},
    {"istitle", str_m_istitle},
    {"isidentifier", str_m_isidentifier},
    {"center", str_m_center},
    {"ljust", str_m_ljust},
    {"rjust", str_m_rjust},
    {"zfill", str_m_zfill},
    {"partition", str_m_partition},
    {"rpartition", str_m_rpartition},
    {"format", str_m_format},
    {"format_map", str_m_format_map},
    {"expandtabs", str_m_expandtabs},
    {"removeprefix", str_m_removeprefix},
    {"removesuffix", str_m_removesuffix},
    {"translate", str_m_translate},
    {"__format__", str_m_format_spec},
    {"__len__", str_m_len},
    {"__getitem__", str_m_getitem},
    {"__contains__", str_m_contains},
    {"__iter__", str_m_iter},
    {"__add__", str_m_add},
    {"__mul__", str_m_mul},
    {"__rmul__", str_m_mul},
    {"__mod__", str_m_mod},
    {"__hash__", str_m_hash},
    {"__str__", str_m_str},
    {"__repr__", str_m_repr},
    {"__eq__", str_m_eq},
    {"__ne__", str_m_ne},
    {"__lt__", str_m_lt},
    {"__le__", str_m_le},
    {"__gt__", str_m_gt},
    {"__ge__", str_m_ge},
    {NULL, NULL},
};

static const NativeDef str_classmethods[] = {
    {"maketrans", str_m_maketrans},
    {NULL, NULL},
};

static size_t str_obj_size(Obj *self) { return sizeof(ObjStr) + ((ObjStr *)self)->len + 1; }

/* A str holds no references; the empty trace keeps object's from being
 * inherited. */
static void str_trace(GcMarker *m, Obj *self) {
    (void)m;
    (void)self;
}

const TypeSpec str_type_spec = {
    .name = "str",
    .kind = OBJ_STR,
    .obj_size = str_obj_size,
    .flags = TYPEF_BASETYPE,
    .repr = str_repr_slot,
    .str = str_str_slot,
    .hash = str_hash_slot,
    .richcmp = str_richcmp,
    .binop = str_binop,
    .truth = str_truth,
    .len = str_len,
    .getitem = str_getitem,
    .contains = str_contains,
    .iter = str_iter,
    .new_ = str_new_slot,
    .trace = str_trace,
    .methods = str_methods,
    .classmethods = str_classmethods,
};
