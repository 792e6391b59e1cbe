/* The _re module: regular expressions on PCRE2, under stdlib/re.mini (which
 * holds Pattern, Match, the cache, the flags and the template parser).
 *
 * - Translation. Python's syntax is parsed here as CPython's re/_parser.py
 *   parses it, with its error messages and positions, and rewritten into
 *   PCRE2 syntax that PCRE2 cannot read differently: every literal that is
 *   not a letter or digit is written as \x{..}; named groups become numbered
 *   groups (the names stay in our own table, so PCRE2's rules for names
 *   never apply); \Z becomes \z; {,n} becomes {0,n}; verbose mode and
 *   (?#...) comments are removed; \s is written as the exact set of
 *   str.isspace(); scoped (?a:...) spells out its ASCII classes. Anything
 *   PCRE2 would read as its own extension ((*VERB), \K, \Q, (?|...)) is a
 *   Python syntax error before PCRE2 sees it.
 * - Compilation: str patterns in UTF mode with Unicode properties (unless
 *   ASCII), bytes patterns byte-wise; JIT-compiled when the JIT is there.
 * - Matching: positions in the Python API are code points; the subject is
 *   UTF-8, so byte offsets are converted with a cursor that walks from the
 *   last conversion (an ASCII str needs none). Successive matches follow
 *   CPython 3.7+: after an empty match the next one may not be empty at the
 *   same place (PCRE2_NOTEMPTY_ATSTART).
 * - findall, sub with a template, split run their whole loop here.
 * - The GIL: a match over an immutable subject (str, bytes) that takes
 *   more than a few thousand steps starts again detached (run_match); a
 *   mutable subject (bytearray...) is read through a snapshot. */

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

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
#include "runtime/strbuf.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "stdlib/builtins.h"
#include "stdlib/modules.h"
#include "vm/config.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/thread.h"

#define EXC(ts) (&(ts)->interp->exc)

/* Python's flag values (re.I, re.M...). */
enum {
    F_TEMPLATE = 1, F_IGNORECASE = 2, F_LOCALE = 4, F_MULTILINE = 8, F_DOTALL = 16,
    F_UNICODE = 32, F_VERBOSE = 64, F_DEBUG = 128, F_ASCII = 256,
};

/* ---- translation: Python syntax to PCRE2 syntax ---------------------------------------------- */

typedef struct Range {
    uint32_t lo, hi;
} Range;

/* str.isspace() (bidirectional whitespace or Zs): Python's \s for str. */
static const Range SPACE_UNI[] = {{0x9, 0xd},       {0x1c, 0x20},     {0x85, 0x85},     {0xa0, 0xa0},
                                  {0x1680, 0x1680}, {0x2000, 0x200a}, {0x2028, 0x2029}, {0x202f, 0x202f},
                                  {0x205f, 0x205f}, {0x3000, 0x3000}};
static const Range SPACE_ASCII[] = {{0x9, 0xd}, {0x20, 0x20}};
static const Range DIGIT_ASCII[] = {{0x30, 0x39}};
static const Range WORD_ASCII[] = {{0x30, 0x39}, {0x41, 0x5a}, {0x5f, 0x5f}, {0x61, 0x7a}};
#define NRANGES(a) (sizeof(a) / sizeof(a)[0])

/* The width range of a piece of pattern, in characters (W_INF: no bound),
 * for CPython's rule that a look-behind has a fixed width. */
typedef struct Width {
    uint64_t lo, hi;
} Width;
#define W_INF UINT64_MAX

static uint64_t w_add(uint64_t a, uint64_t b) { return a > W_INF - b ? W_INF : a + b; }
static uint64_t w_mul(uint64_t a, uint64_t b) { return a && b > W_INF / a ? W_INF : a * b; }

typedef struct Name {
    char *name; /* UTF-8 */
    size_t len;
    int index;
} Name;

typedef struct Tr {
    const char *p;
    size_t n, i;       /* pattern bytes, cursor */
    bool text;         /* a str pattern (UTF-8) */
    bool ascii;        /* \d, \w, \s, \b are ASCII for the whole pattern */
    int flags;         /* global flags, inline ones included */
    StrBuf out;
    size_t *map;       /* pairs (output offset, pattern offset) for PCRE2's errors */
    size_t nmap, capmap;
    int groups;        /* capturing groups opened so far */
    int *parent;       /* enclosing group of each group (0: none); [0] unused */
    bool *open;
    Width *widths;     /* of each closed group, for back references */
    Width item;        /* the width of the item parse_group just read */
    bool variable_lookbehind; /* CPython's compile error, once parsing succeeds */
    int cap_groups;
    int cur;           /* innermost open capturing group */
    int lookbehind;    /* inside a look-behind: its first group, else 0 */
    Name *names;
    size_t nnames, capnames;
    int *cond_refs;    /* (group, position) of conditional references, checked at the end */
    size_t ncond, capcond;
    bool oom;
    bool overflow; /* the error is CPython's OverflowError, not re.error */
    /* CPython's FutureWarnings about sets that may change meaning: their
     * kinds (WARN_*) and pattern offsets */
    int nwarn;
    int wkind[8];
    size_t wpos[8];
    char msg[256];
    size_t errpos; /* byte offset in the pattern */
    bool failed;
} Tr;

typedef struct Scope {
    bool verbose;
    int mode;    /* 0: the pattern's own, 1: ASCII, 2: Unicode */
    bool icase;  /* IGNORECASE */
} Scope;

static bool tr_error(Tr *t, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool tr_error(Tr *t, size_t pos, const char *fmt, ...) {
    if (t->failed) return false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->msg, sizeof t->msg, fmt, ap);
    va_end(ap);
    t->errpos = pos;
    t->failed = true;
    return false;
}

static bool tr_oom(Tr *t) {
    t->oom = true;
    t->failed = true;
    return false;
}

enum { WARN_NESTED, WARN_DIFFERENCE, WARN_INTERSECTION, WARN_SYMMETRIC, WARN_UNION };

static void tr_warn(Tr *t, int kind, size_t pos) {
    if (t->nwarn < 8) {
        t->wkind[t->nwarn] = kind;
        t->wpos[t->nwarn++] = pos;
    }
}

static bool emit(Tr *t, const char *s, size_t n) { return sb_append(&t->out, s, n) || tr_oom(t); }
static bool emits(Tr *t, const char *s) { return emit(t, s, strlen(s)); }

/* Records that what is emitted next comes from pattern offset `src`. */
static bool mark(Tr *t, size_t src) {
    if (t->nmap + 2 > t->capmap) {
        size_t cap = t->capmap ? t->capmap * 2 : 64;
        size_t *m = realloc(t->map, cap * sizeof *m);
        if (!m) return tr_oom(t);
        t->map = m;
        t->capmap = cap;
    }
    t->map[t->nmap++] = t->out.len;
    t->map[t->nmap++] = src;
    return true;
}

static bool at_end(const Tr *t) { return t->i >= t->n; }
static int peek(const Tr *t) { return t->i < t->n ? (unsigned char)t->p[t->i] : -1; }

/* The code point at the cursor (a byte for bytes patterns); advances. */
static uint32_t next_cp(Tr *t) {
    if (!t->text) return (unsigned char)t->p[t->i++];
    size_t k;
    uint32_t c = str_utf8_decode(t->p + t->i, t->n - t->i, &k);
    t->i += k;
    return c;
}

static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_octal(int c) { return c >= '0' && c <= '7'; }
static bool is_hex(int c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
static bool is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

static bool emit_cp(Tr *t, uint32_t c) {
    char buf[16];
    if (is_alpha((int)c) || is_digit((int)c) || c == '_') {
        buf[0] = (char)c;
        return emit(t, buf, 1);
    }
    if (c >= 0x80 && t->text) return emit(t, buf, str_utf8_encode(c, buf));
    int n = snprintf(buf, sizeof buf, "\\x{%x}", c);
    return emit(t, buf, (size_t)n);
}

/* CPython's case-insensitive Unicode matching also makes i, I, dotless
 * i (U+0131) and dotted I (U+0130) one letter; PCRE2's folding does not. */
static bool turkish_i(Tr *t, Scope sc) {
    bool unicode = sc.mode == 2 || (sc.mode == 0 && !t->ascii);
    return sc.icase && t->text && unicode;
}

/* With ASCII and IGNORECASE, CPython folds ASCII letters only; PCRE2 in
 * UTF mode folds every letter. Such a str pattern's non-ASCII literals
 * are matched exactly, and its sets are matched exactly with the other
 * case of their ASCII letters added. */
static bool ascii_icase(Tr *t, Scope sc) {
    bool ascii = sc.mode == 1 || (sc.mode == 0 && t->ascii);
    return sc.icase && t->text && ascii;
}

/* A literal outside a set. */
static bool emit_literal(Tr *t, Scope sc, uint32_t c) {
    if (turkish_i(t, sc) && (c == 'i' || c == 'I' || c == 0x130 || c == 0x131)) return emits(t, "[i\\x{130}\\x{131}]");
    if (c >= 0x80 && ascii_icase(t, sc)) return emits(t, "(?-i:") && emit_cp(t, c) && emits(t, ")");
    /* k and s also fold to the Kelvin sign and the long s in PCRE2 */
    if ((c | 0x20) == 'k' && ascii_icase(t, sc)) return emits(t, "(?-i:[kK])");
    if ((c | 0x20) == 's' && ascii_icase(t, sc)) return emits(t, "(?-i:[sS])");
    return emit_cp(t, c);
}

/* The extra set items a set item lo-hi needs for the same reasons. */
static bool emit_class_extra(Tr *t, Scope sc, uint32_t lo, uint32_t hi) {
    if (ascii_icase(t, sc)) {
        /* the other case of the ASCII letters in lo-hi */
        for (int upper = 0; upper < 2; upper++) {
            uint32_t a = upper ? 'A' : 'a', z = upper ? 'Z' : 'z';
            uint32_t from = lo > a ? lo : a, to = hi < z ? hi : z;
            if (from > to) continue;
            if (!emit_cp(t, from ^ 0x20) || !emits(t, "-") || !emit_cp(t, to ^ 0x20)) return false;
        }
        return true;
    }
    if (!turkish_i(t, sc)) return true;
    bool has_i = (lo <= 'i' && 'i' <= hi) || (lo <= 'I' && 'I' <= hi);
    bool has_dotted = lo <= 0x131 && 0x130 <= hi;
    if (has_i && !emits(t, "\\x{130}\\x{131}")) return false;
    return !has_dotted || emits(t, "i");
}

/* Ranges as a class (outside one) or as class items (inside one); negated
 * inside a class means the complement ranges. */
static bool emit_ranges(Tr *t, const Range *r, size_t n, bool negate, bool in_class) {
    if (!in_class && !emits(t, negate ? "[^" : "[")) return false;
    uint32_t top = t->text ? 0x10ffff : 0xff;
    if (in_class && negate) {
        uint32_t from = 0;
        for (size_t k = 0; k <= n; k++) {
            uint32_t to = k < n ? r[k].lo : top + 1;
            if (to > from) {
                if (!emit_cp(t, from) || !emits(t, "-") || !emit_cp(t, to - 1)) return false;
            }
            if (k < n) from = r[k].hi + 1;
        }
    } else {
        for (size_t k = 0; k < n; k++) {
            if (!emit_cp(t, r[k].lo)) return false;
            if (r[k].hi != r[k].lo && (!emits(t, "-") || !emit_cp(t, r[k].hi))) return false;
        }
    }
    return in_class || emits(t, "]");
}

/* \d \D \w \W \s \S in a scope: PCRE2's own escape where its meaning is
 * Python's (with PCRE2_UCP for Unicode patterns), explicit sets elsewhere. */
static bool emit_category(Tr *t, int c, Scope sc, bool in_class) {
    bool ascii = sc.mode == 1 || (sc.mode == 0 && t->ascii);
    bool native = sc.mode == 0 || (sc.mode == 1) == t->ascii;
    bool neg = c == 'D' || c == 'W' || c == 'S';
    int lc = c | 0x20;
    if (lc == 's') {
        if (ascii) return emit_ranges(t, SPACE_ASCII, NRANGES(SPACE_ASCII), neg, in_class);
        return emit_ranges(t, SPACE_UNI, NRANGES(SPACE_UNI), neg, in_class);
    }
    if (native) {
        char e[3] = {'\\', (char)c, 0};
        return emits(t, e);
    }
    if (ascii) {
        if (lc == 'd') return emit_ranges(t, DIGIT_ASCII, NRANGES(DIGIT_ASCII), neg, in_class);
        return emit_ranges(t, WORD_ASCII, NRANGES(WORD_ASCII), neg, in_class);
    }
    /* Unicode inside an ASCII pattern: \p classes. A negated \w inside a
     * class cannot be spelled as class items: it keeps the pattern's. */
    if (lc == 'd') return emits(t, neg ? "\\P{Nd}" : "\\p{Nd}");
    if (in_class) return emits(t, neg ? "\\W" : "\\p{L}\\p{N}_");
    return emits(t, neg ? "[^\\p{L}\\p{N}_]" : "[\\p{L}\\p{N}_]");
}

static bool emit_boundary(Tr *t, int c, Scope sc) {
    bool native = sc.mode == 0 || (sc.mode == 1) == t->ascii;
    if (native) return emits(t, c == 'b' ? "\\b" : "\\B");
    const char *w = sc.mode == 1 ? "[A-Za-z0-9_]" : "[\\p{L}\\p{N}_]";
    char buf[160];
    if (c == 'b')
        snprintf(buf, sizeof buf, "(?:(?<=%s)(?!%s)|(?<!%s)(?=%s))", w, w, w, w);
    else
        snprintf(buf, sizeof buf, "(?:(?<=%s)(?=%s)|(?<!%s)(?!%s))", w, w, w, w);
    return emits(t, buf);
}

/* Reads exactly `want` hex digits (fewer: Python's "incomplete escape"). */
static bool read_hex(Tr *t, size_t start, int want, uint32_t *out) {
    uint32_t v = 0;
    int k = 0;
    while (k < want && is_hex(peek(t))) {
        int c = t->p[t->i++];
        v = v * 16 + (uint32_t)(is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
        k++;
    }
    if (k != want) return tr_error(t, start, "incomplete escape %.*s", (int)(t->i - start), t->p + start);
    *out = v;
    return true;
}

/* An escape that stands for one character, shared by classes and the rest:
 * 1 with *cp set, 0 if it is not one of those, -1 after an error. */
static int char_escape(Tr *t, size_t start, int c, uint32_t *cp) {
    switch (c) {
    case 'a': *cp = 7; return 1;
    case 'f': *cp = 12; return 1;
    case 'n': *cp = 10; return 1;
    case 'r': *cp = 13; return 1;
    case 't': *cp = 9; return 1;
    case 'v': *cp = 11; return 1;
    case '\\': *cp = '\\'; return 1;
    case 'x': return read_hex(t, start, 2, cp) ? 1 : -1;
    case 'u':
    case 'U':
        if (!t->text) return 0;
        if (!read_hex(t, start, c == 'u' ? 4 : 8, cp)) return -1;
        if (*cp > 0x10ffff) {
            tr_error(t, start, "bad escape %.*s", (int)(t->i - start), t->p + start);
            return -1;
        }
        if (*cp >= 0xd800 && *cp <= 0xdfff) {
            tr_error(t, start, "surrogate code points are not supported in patterns");
            return -1;
        }
        return 1;
    case 'N':
        if (!t->text) return 0;
        if (peek(t) != '{') {
            tr_error(t, t->i, "missing {");
            return -1;
        }
        {
            size_t name = ++t->i;
            while (!at_end(t) && peek(t) != '}') t->i++;
            if (at_end(t)) {
                tr_error(t, name, "missing }, unterminated name");
                return -1;
            }
            tr_error(t, start, "undefined character name '%.*s'", (int)(t->i - name), t->p + name);
            return -1;
        }
    default: return 0;
    }
}

/* The escape after a backslash inside a class: a character (1, *cp) or a
 * category (2, *cat), or -1 after an error. */
static int class_escape(Tr *t, size_t start, uint32_t *cp, int *cat) {
    if (at_end(t)) return tr_error(t, start, "bad escape (end of pattern)"), -1;
    size_t before = t->i;
    int c = peek(t);
    if (c < 0x80) t->i++;
    else {
        *cp = next_cp(t);
        return 1;
    }
    if (strchr("dDsSwW", c)) {
        *cat = c;
        return 2;
    }
    if (c == 'b') {
        *cp = 8;
        return 1;
    }
    int r = char_escape(t, start, c, cp);
    if (r) return r;
    if (is_octal(c)) {
        uint32_t v = (uint32_t)(c - '0');
        for (int k = 0; k < 2 && is_octal(peek(t)); k++) v = v * 8 + (uint32_t)(t->p[t->i++] - '0');
        if (v > 0377)
            return tr_error(t, start, "octal escape value %.*s outside of range 0-0o377", (int)(t->i - start),
                            t->p + start), -1;
        *cp = v;
        return 1;
    }
    if (is_digit(c) || is_alpha(c)) return tr_error(t, start, "bad escape \\%c", c), -1;
    t->i = before;
    *cp = next_cp(t);
    return 1;
}

/* Bytes of CPython's token at `at`: a character, or a backslash and the
 * character after it. */
static size_t token_len(const Tr *t, size_t at) {
    size_t k = 0;
    if (t->p[at] == '\\' && at + 1 < t->n) k = 1;
    if (!t->text) return k + 1;
    size_t n;
    str_utf8_decode(t->p + at + k, t->n - at - k, &n);
    return k + n;
}

static bool parse_class(Tr *t, Scope sc) {
    size_t start = t->i - 1;
    bool exact = ascii_icase(t, sc);
    if (!mark(t, start) || !emits(t, exact ? "(?-i:[" : "[")) return false;
    if (peek(t) == '[') tr_warn(t, WARN_NESTED, t->i);
    if (peek(t) == '^') {
        t->i++;
        if (!emits(t, "^")) return false;
    }
    bool first = true;
    for (;;) {
        if (at_end(t)) return tr_error(t, start, "unterminated character set");
        size_t here = t->i;
        if (peek(t) == ']' && !first) {
            t->i++;
            return emits(t, exact ? "])" : "]");
        }
        uint32_t lo = 0;
        int cat = 0;
        if (peek(t) == '\\') {
            t->i++;
            int r = class_escape(t, here, &lo, &cat);
            if (r < 0) return false;
        } else {
            int c = peek(t);
            /* a doubled -, &, ~ or | after the first item: a set operation
             * in some future Python */
            if (!first && t->i + 1 < t->n && t->p[t->i + 1] == c && strchr("-&~|", c) && c)
                tr_warn(t, c == '-' ? WARN_DIFFERENCE : c == '&' ? WARN_INTERSECTION
                           : c == '~' ? WARN_SYMMETRIC : WARN_UNION, t->i);
            lo = next_cp(t);
        }
        first = false;
        if (peek(t) == '-' && t->i + 1 < t->n && t->p[t->i + 1] != ']') {
            t->i++;
            size_t hi_start = t->i;
            if (peek(t) == '-') tr_warn(t, WARN_DIFFERENCE, t->i - 1);
            uint32_t hi = 0;
            int hcat = 0;
            if (peek(t) == '\\') {
                t->i++;
                if (class_escape(t, hi_start, &hi, &hcat) < 0) return false;
            } else {
                hi = next_cp(t);
            }
            if (cat || hcat || hi < lo) {
                /* CPython names the range by its first tokens (a backslash
                 * and one character for an escape) and counts back from
                 * its end by their length */
                size_t a = token_len(t, here), b = token_len(t, hi_start);
                return tr_error(t, t->i - (a + 1 + b), "bad character range %.*s-%.*s", (int)a, t->p + here,
                                (int)b, t->p + hi_start);
            }
            if (!emit_cp(t, lo) || !emits(t, "-") || !emit_cp(t, hi) || !emit_class_extra(t, sc, lo, hi)) return false;
            continue;
        }
        if (cat ? !emit_category(t, cat, sc, true) : !emit_cp(t, lo) || !emit_class_extra(t, sc, lo, lo)) return false;
    }
}

static int find_name(const Tr *t, const char *s, size_t len) {
    for (size_t k = 0; k < t->nnames; k++)
        if (t->names[k].len == len && memcmp(t->names[k].name, s, len) == 0) return t->names[k].index;
    return 0;
}

/* A name from the pattern as a str: a bytes pattern's read as Latin-1, as
 * CPython reads it. NULL after raising. */
static ObjStr *name_str(TState *ts, const Tr *t, const char *s, size_t len) {
    if (t->text) return str_new(ts, s, len);
    StrBuf sb;
    sb_init(&sb);
    bool ok = true;
    for (size_t k = 0; ok && k < len; k++) {
        char u[4];
        ok = sb_append(&sb, u, str_utf8_encode((unsigned char)s[k], u));
    }
    if (!ok) {
        sb_free(&sb);
        err_no_memory(ts);
        return NULL;
    }
    return str_from_sb(ts, &sb);
}

/* Python's rule for group names: str.isidentifier(). */
static bool valid_name(TState *ts, Tr *t, const char *s, size_t len) {
    if (len == 0) return false;
    ObjStr *name = name_str(ts, t, s, len);
    Value m = name ? ops_getattr(ts, OBJ_VAL(name), str_intern_cstr(ts, "isidentifier")) : ERROR_VAL;
    Value r = IS_ERROR(m) ? m : ops_call(ts, m, NULL, 0, NULL);
    if (IS_ERROR(r)) {
        err_clear(ts);
        return tr_oom(t);
    }
    return IS_BOOL(r) && AS_BOOL(r);
}

/* An error naming a group name as CPython does, with its repr (a bytes
 * pattern's name read as Latin-1). */
static bool tr_name_error(TState *ts, Tr *t, size_t pos, const char *before, const char *name, size_t len,
                          const char *after) {
    ObjStr *str = name_str(ts, t, name, len);
    Value r = str ? ops_repr(ts, OBJ_VAL(str)) : ERROR_VAL;
    if (IS_ERROR(r)) {
        err_clear(ts);
        return tr_oom(t);
    }
    /* a bytes pattern's messages are bytes read as Latin-1 (compile_error
     * escapes them): the repr back to Latin-1 */
    char latin[256];
    size_t n = 0;
    const char *q = AS_STR(r)->data, *e = q + AS_STR(r)->len;
    while (!t->text && q < e && n + 1 < sizeof latin) {
        size_t k;
        latin[n++] = (char)str_utf8_decode(q, (size_t)(e - q), &k);
        q += k;
    }
    latin[n] = 0;
    return tr_error(t, pos, "%s%s%s", before, t->text ? AS_STR(r)->data : latin, after);
}

/* Reads a group name up to `term` into (*s, *len). */
static bool read_name(Tr *t, char term, const char **s, size_t *len, const char *terms) {
    size_t from = t->i;
    /* CPython reads names token by token: a backslash takes the next
     * character with it */
    while (!at_end(t) && peek(t) != term) t->i += peek(t) == '\\' && t->i + 1 < t->n ? 2 : 1;
    if (at_end(t) && t->i == from) return tr_error(t, from, "missing group name");
    if (at_end(t)) return tr_error(t, from, "missing %s, unterminated name", terms);
    *s = t->p + from;
    *len = t->i - from;
    t->i++;
    if (*len == 0) return tr_error(t, from, "missing group name");
    return true;
}

static bool open_group(Tr *t) {
    if (t->groups + 1 >= t->cap_groups) {
        int cap = t->cap_groups ? t->cap_groups * 2 : 16;
        int *p = realloc(t->parent, (size_t)cap * sizeof *p);
        if (!p) return tr_oom(t);
        t->parent = p;
        bool *o = realloc(t->open, (size_t)cap * sizeof *o);
        if (!o) return tr_oom(t);
        t->open = o;
        Width *w = realloc(t->widths, (size_t)cap * sizeof *w);
        if (!w) return tr_oom(t);
        t->widths = w;
        t->cap_groups = cap;
    }
    if (t->groups >= MINI_RE_MAX_GROUPS) return tr_error(t, t->i, "too many groups");
    t->groups++;
    t->parent[t->groups] = t->cur;
    t->open[t->groups] = true;
    t->widths[t->groups] = (Width){0, 0};
    t->cur = t->groups;
    return emits(t, "(");
}

static bool group_ref(Tr *t, int g, size_t pos) {
    if (t->open[g]) return tr_error(t, pos, "cannot refer to an open group");
    char buf[32];
    snprintf(buf, sizeof buf, "(?:\\g{%d})", g);
    return emits(t, buf);
}

static bool parse_sub(TState *ts, Tr *t, Scope sc, int nested, int *branches, size_t *second_bar, Width *w);

/* Inline flags after "(?": global (then `*global` is set) or scoped (the
 * scope is updated and "(?flags:" emitted). */
static bool parse_flags(Tr *t, Scope *sc, bool *global, int *add_out) {
    int add = 0, del = 0;
    int c = peek(t);
    static const char letters[] = "aiLmsux";
    static const int values[] = {F_ASCII, F_IGNORECASE, F_LOCALE, F_MULTILINE, F_DOTALL, F_UNICODE, F_VERBOSE};
    if (c != '-') {
        for (;;) {
            const char *l = strchr(letters, c);
            int f = values[l - letters];
            if (t->text && c == 'L')
                return tr_error(t, t->i + 1, "bad inline flags: cannot use 'L' flag with a str pattern");
            if (!t->text && c == 'u')
                return tr_error(t, t->i + 1, "bad inline flags: cannot use 'u' flag with a bytes pattern");
            add |= f;
            int type = add & (F_ASCII | F_LOCALE | F_UNICODE);
            if ((f & (F_ASCII | F_LOCALE | F_UNICODE)) && type != f)
                return tr_error(t, t->i + 1, "bad inline flags: flags 'a', 'u' and 'L' are incompatible");
            t->i++;
            if (at_end(t)) return tr_error(t, t->i, "missing -, : or )");
            c = peek(t);
            if (c == ')' || c == '-' || c == ':') break;
            if (!(c < 0x80 && c && strchr(letters, c))) {
                size_t at = t->i;
                bool alpha = c >= 0x80 || is_alpha(c);
                return tr_error(t, at, alpha ? "unknown flag" : "missing -, : or )");
            }
        }
    }
    if (c == ')') {
        t->i++;
        *global = true;
        *add_out = add;
        return true;
    }
    if (c == '-') {
        t->i++;
        if (at_end(t)) return tr_error(t, t->i, "missing flag");
        c = peek(t);
        if (!(c < 0x80 && c && strchr(letters, c)))
            return tr_error(t, t->i, (c >= 0x80 || is_alpha(c)) ? "unknown flag" : "missing flag");
        for (;;) {
            const char *l = strchr(letters, c);
            int f = values[l - letters];
            if (f & (F_ASCII | F_LOCALE | F_UNICODE))
                return tr_error(t, t->i + 1, "bad inline flags: cannot turn off flags 'a', 'u' and 'L'");
            del |= f;
            t->i++;
            if (at_end(t)) return tr_error(t, t->i, "missing :");
            c = peek(t);
            if (c == ':') break;
            if (!(c < 0x80 && c && strchr(letters, c)))
                return tr_error(t, t->i, (c >= 0x80 || is_alpha(c)) ? "unknown flag" : "missing :");
        }
    }
    t->i++; /* ':' */
    if (add & del) return tr_error(t, t->i - 1, "bad inline flags: flag turned on and off");
    *global = false;
    if (add & F_VERBOSE) sc->verbose = true;
    if (del & F_VERBOSE) sc->verbose = false;
    if (add & F_IGNORECASE) sc->icase = true;
    if (del & F_IGNORECASE) sc->icase = false;
    if (add & (F_ASCII | F_LOCALE)) sc->mode = 1;
    if (add & F_UNICODE) sc->mode = 2;
    char buf[16];
    size_t k = 0;
    buf[k++] = '(';
    buf[k++] = '?';
    if (add & F_IGNORECASE) buf[k++] = 'i';
    if (add & F_MULTILINE) buf[k++] = 'm';
    if (add & F_DOTALL) buf[k++] = 's';
    if (del & (F_IGNORECASE | F_MULTILINE | F_DOTALL)) {
        buf[k++] = '-';
        if (del & F_IGNORECASE) buf[k++] = 'i';
        if (del & F_MULTILINE) buf[k++] = 'm';
        if (del & F_DOTALL) buf[k++] = 's';
    }
    buf[k++] = ':';
    return emit(t, buf, k);
}

/* What the last item of a sequence is, for the quantifier rules. */
enum { IT_NONE, IT_ATOM, IT_AT, IT_REPEAT };

/* The group after '(' (t->i is past it). */
static bool parse_group(TState *ts, Tr *t, Scope sc, int nested, int *kind, bool first_item) {
    size_t start = t->i - 1;
    if (!mark(t, start)) return false;
    Scope inner = sc;
    int capture = 0, saved_lb = t->lookbehind;
    bool lookbehind = false;
    *kind = IT_ATOM;
    if (peek(t) == '?') {
        t->i++;
        if (at_end(t)) return tr_error(t, t->i, "unexpected end of pattern");
        int c = t->p[t->i++];
        switch (c) {
        case ':': if (!emits(t, "(?:")) return false; break;
        case '=': if (!emits(t, "(?=")) return false; break;
        case '!': if (!emits(t, "(?!")) return false; break;
        case '>': if (!emits(t, "(?>")) return false; break;
        case '<': {
            if (at_end(t)) return tr_error(t, t->i, "unexpected end of pattern");
            int d = t->p[t->i++];
            if (d != '=' && d != '!') {
                size_t k = t->i - 1;
                return tr_error(t, start + 1, "unknown extension ?<%.*s", (int)token_len(t, k), t->p + k);
            }
            if (!emits(t, d == '=' ? "(?<=" : "(?<!")) return false;
            lookbehind = true;
            if (!t->lookbehind) t->lookbehind = t->groups + 1;
            break;
        }
        case 'P': {
            if (at_end(t)) return tr_error(t, t->i, "unexpected end of pattern");
            int d = t->p[t->i++];
            const char *name;
            size_t len;
            if (d == '<') {
                size_t at = t->i;
                if (!read_name(t, '>', &name, &len, ">")) return false;
                if (!valid_name(ts, t, name, len))
                    return tr_name_error(ts, t, at, "bad character in group name ", name, len, "");
                int old = find_name(t, name, len);
                if (old) {
                    char tail[64];
                    snprintf(tail, sizeof tail, " as group %d; was group %d", t->groups + 1, old);
                    return tr_name_error(ts, t, at, "redefinition of group name ", name, len, tail);
                }
                if (t->nnames == t->capnames) {
                    size_t cap = t->capnames ? t->capnames * 2 : 8;
                    Name *nn = realloc(t->names, cap * sizeof *nn);
                    if (!nn) return tr_oom(t);
                    t->names = nn;
                    t->capnames = cap;
                }
                char *copy = malloc(len);
                if (!copy) return tr_oom(t);
                memcpy(copy, name, len);
                t->names[t->nnames++] = (Name){copy, len, t->groups + 1};
                if (!open_group(t)) return false;
                capture = t->groups;
            } else if (d == '=') {
                size_t at = t->i;
                if (!read_name(t, ')', &name, &len, ")")) return false;
                if (!valid_name(ts, t, name, len))
                    return tr_name_error(ts, t, at, "bad character in group name ", name, len, "");
                int g = find_name(t, name, len);
                if (!g) return tr_name_error(ts, t, at, "unknown group name ", name, len, "");
                if (t->open[g]) return tr_error(t, at, "cannot refer to an open group");
                if (t->lookbehind && g >= t->lookbehind)
                    return tr_error(t, t->i, "cannot refer to group defined in the same lookbehind subpattern");
                t->item = t->widths[g];
                return group_ref(t, g, at);
            } else {
                size_t k = t->i - 1;
                return tr_error(t, start + 1, "unknown extension ?P%.*s", (int)token_len(t, k), t->p + k);
            }
            break;
        }
        case '#': {
            while (!at_end(t) && peek(t) != ')') t->i += peek(t) == '\\' && t->i + 1 < t->n ? 2 : 1;
            if (at_end(t)) return tr_error(t, start, "missing ), unterminated comment");
            t->i++;
            *kind = IT_NONE;
            return true;
        }
        case '(': {
            size_t at = t->i;
            const char *name;
            size_t len;
            if (!read_name(t, ')', &name, &len, ")")) return false;
            int g = 0;
            if (valid_name(ts, t, name, len)) {
                g = find_name(t, name, len);
                if (!g) return tr_name_error(ts, t, at, "unknown group name ", name, len, "");
            } else {
                if (t->failed) return false;
                for (size_t k = 0; k < len; k++)
                    if (!is_digit(name[k]))
                        return tr_name_error(ts, t, at, "bad character in group name ", name, len, "");
                for (size_t k = 0; k < len && g <= MINI_RE_MAX_GROUPS; k++) g = g * 10 + name[k] - '0';
                if (g == 0) return tr_error(t, at, "bad group number");
                if (g > MINI_RE_MAX_GROUPS) return tr_error(t, at, "invalid group reference %.*s", (int)len, name);
                if (t->ncond + 2 > t->capcond) {
                    size_t cap = t->capcond ? t->capcond * 2 : 8;
                    int *nc = realloc(t->cond_refs, cap * sizeof *nc);
                    if (!nc) return tr_oom(t);
                    t->cond_refs = nc;
                    t->capcond = cap;
                }
                t->cond_refs[t->ncond++] = g;
                t->cond_refs[t->ncond++] = (int)at;
            }
            if (t->lookbehind) {
                if (g >= t->lookbehind)
                    return tr_error(t, t->i, "cannot refer to group defined in the same lookbehind subpattern");
            }
            char buf[32];
            snprintf(buf, sizeof buf, "(?(%d)", g);
            if (!emits(t, buf)) return false;
            int branches = 0;
            size_t bar = 0;
            Width cw;
            if (!parse_sub(ts, t, sc, nested + 1, &branches, &bar, &cw)) return false;
            if (branches > 2) return tr_error(t, bar, "conditional backref with more than two branches");
            if (at_end(t)) return tr_error(t, start, "missing ), unterminated subpattern");
            t->i++;
            if (branches == 1) cw.lo = 0; /* no "no" branch: it matches nothing */
            t->item = cw;
            return emits(t, ")");
        }
        default:
            if (c < 0x80 && strchr("aiLmsux-", c)) {
                t->i--;
                bool global = false;
                int add = 0;
                if (!parse_flags(t, &inner, &global, &add)) return false;
                if (global) {
                    if (!first_item)
                        return tr_error(t, start, "global flags not at the start of the expression");
                    t->flags |= add;
                    *kind = IT_NONE;
                    return true;
                }
                break;
            }
            {
                size_t k = t->i - 1;
                return tr_error(t, start + 1, "unknown extension ?%.*s", (int)token_len(t, k), t->p + k);
            }
        }
    } else {
        if (!open_group(t)) return false;
        capture = t->groups;
    }
    int branches = 0;
    size_t bar = 0;
    Width cw;
    if (!parse_sub(ts, t, inner, nested + 1, &branches, &bar, &cw)) return false;
    if (at_end(t)) return tr_error(t, start, "missing ), unterminated subpattern");
    t->i++;
    if (capture) {
        t->open[capture] = false;
        t->cur = t->parent[capture];
        t->widths[capture] = cw;
    }
    if (lookbehind) {
        t->lookbehind = saved_lb;
        if (cw.lo != cw.hi || cw.hi == W_INF) t->variable_lookbehind = true;
    }
    bool assertion = lookbehind || (t->p[start + 1] == '?' && (t->p[start + 2] == '=' || t->p[start + 2] == '!'));
    t->item = assertion ? (Width){0, 0} : cw;
    return emits(t, ")");
}

/* A quantifier at t->i ('*', '+', '?' or a valid '{...}'), or 0 when '{'
 * does not start one (it is then a literal). */
static int parse_quantifier(Tr *t, uint32_t *lo, uint32_t *hi, bool *has_hi) {
    int c = peek(t);
    if (c != '{') {
        t->i++;
        return c;
    }
    size_t save = t->i++;
    size_t a = t->i;
    while (is_digit(peek(t))) t->i++;
    size_t alen = t->i - a;
    size_t b = 0, blen = 0;
    bool comma = false;
    if (peek(t) == ',') {
        comma = true;
        t->i++;
        b = t->i;
        while (is_digit(peek(t))) t->i++;
        blen = t->i - b;
    }
    if (peek(t) != '}' || (!alen && !comma)) {
        t->i = save;
        return 0;
    }
    t->i++;
    uint64_t v = 0;
    for (size_t k = 0; k < alen; k++) v = v > 0xffffffffu ? v : v * 10 + (uint64_t)(t->p[a + k] - '0');
    *lo = v > 0xffffffffu ? 0xffffffffu : (uint32_t)v;
    *has_hi = true;
    if (comma && !blen) *has_hi = false;
    v = 0;
    for (size_t k = 0; k < (comma ? blen : alen); k++)
        v = v > 0xffffffffu ? v : v * 10 + (uint64_t)(t->p[(comma ? b : a) + k] - '0');
    *hi = v > 0xffffffffu ? 0xffffffffu : (uint32_t)v;
    return '{';
}

/* One alternative: items up to '|', ')' or the end. */
static bool parse_seq(TState *ts, Tr *t, Scope *sc, int nested, bool first, Width *w) {
    int last = IT_NONE;
    /* the width so far, before the last item, and the last item's */
    Width total = {0, 0}, before = {0, 0}, lastw = {0, 0};
    for (;;) {
        if (t->failed) return false;
        *w = total;
        if (at_end(t)) return true;
        int c = peek(t);
        if (c == '|' || c == ')') {
            if (c == ')' && nested == 0) return tr_error(t, t->i, "unbalanced parenthesis");
            return true;
        }
        size_t here = t->i;
        if (sc->verbose && (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f')) {
            t->i++;
            continue;
        }
        if (sc->verbose && c == '#') {
            while (!at_end(t) && peek(t) != '\n') t->i++;
            continue;
        }
        if (c == '*' || c == '+' || c == '?' || c == '{') {
            uint32_t lo = 0, hi = 0;
            bool has_hi = true;
            int q = parse_quantifier(t, &lo, &hi, &has_hi);
            if (q == 0) {
                t->i++;
                if (!mark(t, here) || !emit_cp(t, '{')) return false;
                last = IT_ATOM;
                before = total;
                lastw = (Width){1, 1};
                total = (Width){w_add(total.lo, 1), w_add(total.hi, 1)};
                continue;
            }
            /* in CPython's order: the count is checked before what it repeats */
            if (q == '{' && (lo == 0xffffffffu || (has_hi && hi == 0xffffffffu))) {
                t->overflow = true;
                return tr_error(t, here, "the repetition number is too large");
            }
            if (q == '{' && has_hi && hi < lo) return tr_error(t, here + 1, "min repeat greater than max repeat");
            if (last == IT_NONE || last == IT_AT) return tr_error(t, here, "nothing to repeat");
            if (last == IT_REPEAT) return tr_error(t, here, "multiple repeat");
            if (!mark(t, here)) return false;
            char buf[48];
            if (q != '{') {
                buf[0] = (char)q;
                buf[1] = 0;
            } else if (has_hi) {
                snprintf(buf, sizeof buf, "{%u,%u}", lo, hi);
            } else {
                snprintf(buf, sizeof buf, "{%u,}", lo);
            }
            if (!emits(t, buf)) return false;
            if (peek(t) == '?' || peek(t) == '+') {
                char m[2] = {(char)t->p[t->i++], 0};
                if (!emits(t, m)) return false;
            }
            uint64_t qlo = q == '{' ? lo : q == '+' ? 1 : 0;
            uint64_t qhi = q == '{' ? (has_hi ? hi : W_INF) : q == '?' ? 1 : W_INF;
            Width rw = {w_mul(lastw.lo, qlo), qhi == W_INF ? (lastw.hi ? W_INF : 0) : w_mul(lastw.hi, qhi)};
            total = (Width){w_add(before.lo, rw.lo), w_add(before.hi, rw.hi)};
            lastw = rw;
            last = IT_REPEAT;
            continue;
        }
        t->i++;
        Width iw = {1, 1};
        switch (c) {
        case '(': {
            int kind;
            if (!parse_group(ts, t, *sc, nested, &kind, first && last == IT_NONE)) return false;
            if (kind == IT_NONE) {
                /* global flags at the start: they decide the whole pattern's mode */
                if (t->flags & F_VERBOSE) sc->verbose = true;
                if (t->flags & F_IGNORECASE) sc->icase = true;
                if (t->flags & (F_ASCII | F_LOCALE)) t->ascii = true;
                if (!t->text && (t->flags & F_LOCALE)) t->ascii = true;
                continue;
            }
            last = kind;
            iw = t->item;
            break;
        }
        case '[':
            if (!parse_class(t, *sc)) return false;
            last = IT_ATOM;
            break;
        case '.':
            if (!mark(t, here) || !emits(t, ".")) return false;
            last = IT_ATOM;
            break;
        case '^':
        case '$':
            if (!mark(t, here) || !emits(t, c == '^' ? "^" : "$")) return false;
            last = IT_AT;
            iw = (Width){0, 0};
            break;
        case '\\': {
            if (!mark(t, here)) return false;
            if (at_end(t)) return tr_error(t, here, "bad escape (end of pattern)");
            int e = peek(t);
            if (e >= 0x80) {
                if (!emit_literal(t, *sc, next_cp(t))) return false;
                last = IT_ATOM;
                break;
            }
            t->i++;
            if (e == 'A' || e == 'Z') {
                if (!emits(t, e == 'A' ? "\\A" : "\\z")) return false;
                last = IT_AT;
                iw = (Width){0, 0};
                break;
            }
            if (e == 'b' || e == 'B') {
                if (!emit_boundary(t, e, *sc)) return false;
                last = IT_AT;
                iw = (Width){0, 0};
                break;
            }
            if (strchr("dDsSwW", e)) {
                if (!emit_category(t, e, *sc, false)) return false;
                last = IT_ATOM;
                break;
            }
            uint32_t cp;
            int r = char_escape(t, here, e, &cp);
            if (r < 0) return false;
            if (r == 0 && e == '0') {
                cp = 0;
                for (int k = 0; k < 2 && is_octal(peek(t)); k++) cp = cp * 8 + (uint32_t)(t->p[t->i++] - '0');
                r = 1;
            } else if (r == 0 && is_digit(e)) {
                if (is_digit(peek(t))) {
                    int d = t->p[t->i++];
                    if (is_octal(e) && is_octal(d) && is_octal(peek(t))) {
                        cp = (uint32_t)((e - '0') * 64 + (d - '0') * 8 + (t->p[t->i++] - '0'));
                        if (cp > 0377)
                            return tr_error(t, here, "octal escape value %.*s outside of range 0-0o377",
                                            (int)(t->i - here), t->p + here);
                        r = 1;
                    } else {
                        int g = (e - '0') * 10 + (d - '0');
                        if (g > t->groups) return tr_error(t, here + 1, "invalid group reference %d", g);
                        if (t->lookbehind && g >= t->lookbehind)
                            return tr_error(t, t->i, "cannot refer to group defined in the same lookbehind subpattern");
                        if (!group_ref(t, g, here)) return false;
                        last = IT_ATOM;
                        iw = t->widths[g];
                        break;
                    }
                } else {
                    int g = e - '0';
                    if (g > t->groups) return tr_error(t, here + 1, "invalid group reference %d", g);
                    if (t->lookbehind && g >= t->lookbehind)
                        return tr_error(t, t->i, "cannot refer to group defined in the same lookbehind subpattern");
                    if (!group_ref(t, g, here)) return false;
                    last = IT_ATOM;
                    iw = t->widths[g];
                    break;
                }
            }
            if (r == 0) {
                if (is_alpha(e) || is_digit(e)) return tr_error(t, here, "bad escape \\%c", e);
                cp = (uint32_t)e;
            }
            if (!emit_literal(t, *sc, cp)) return false;
            last = IT_ATOM;
            break;
        }
        default:
            t->i = here;
            if (!mark(t, here) || !emit_literal(t, *sc, next_cp(t))) return false;
            last = IT_ATOM;
            break;
        }
        before = total;
        lastw = iw;
        total = (Width){w_add(total.lo, iw.lo), w_add(total.hi, iw.hi)};
    }
}

/* Alternatives separated by '|'; *branches counts them, *second_bar is
 * where the second '|' was (for conditionals' error), *w their widths. */
static bool parse_sub(TState *ts, Tr *t, Scope sc, int nested, int *branches, size_t *second_bar, Width *w) {
    Scope cur = sc;
    bool first = nested == 0;
    for (;;) {
        (*branches)++;
        Width bw;
        if (!parse_seq(ts, t, &cur, nested, first, &bw)) return false;
        if (*branches == 1 || bw.lo < w->lo) w->lo = bw.lo;
        if (*branches == 1 || bw.hi > w->hi) w->hi = bw.hi;
        if (peek(t) != '|') return true;
        if (*branches == 2) *second_bar = t->i;
        t->i++;
        if (!mark(t, t->i - 1) || !emits(t, "|")) return false;
        first = false;
        /* a top-level (?x) applies to every later alternative */
        if (nested == 0) {
            cur.verbose = cur.verbose || (t->flags & F_VERBOSE);
            cur.icase = cur.icase || (t->flags & F_IGNORECASE);
        }
    }
}

static void tr_free(Tr *t) {
    sb_free(&t->out);
    free(t->map);
    free(t->parent);
    free(t->open);
    free(t->widths);
    for (size_t k = 0; k < t->nnames; k++) free(t->names[k].name);
    free(t->names);
    free(t->cond_refs);
}

/* ---- the compiled pattern ---------------------------------------------------------------------- */

typedef struct ObjRegex {
    Obj obj;
    pcre2_code *code;
    pcre2_match_context *mctx;          /* the full step limit */
    pcre2_match_context *mctx_attached; /* the limit of a match run holding the GIL */
    int groups;
    int *parent;       /* enclosing group of each group, for lastindex */
    int flags;         /* Python's flags, inline ones and UNICODE included */
    bool text;         /* a str pattern */
    Value groupindex;  /* dict name -> index */
    Value match_type;  /* _re.Match, looked up once */
    Value warnings;    /* FutureWarning messages for re.mini to give, a list */
} ObjRegex;

#define AS_REGEX(v) ((ObjRegex *)AS_OBJ(v))

static void regex_trace(GcMarker *m, Obj *self) {
    gc_mark_value(m, ((ObjRegex *)self)->groupindex);
    gc_mark_value(m, ((ObjRegex *)self)->match_type);
    gc_mark_value(m, ((ObjRegex *)self)->warnings);
}
static void regex_finalize(Obj *self) {
    ObjRegex *r = (ObjRegex *)self;
    pcre2_code_free(r->code);
    pcre2_match_context_free(r->mctx);
    pcre2_match_context_free(r->mctx_attached);
    free(r->parent);
}

static Value g_groups(TState *ts, Value self) {
    (void)ts;
    return INT_VAL(AS_REGEX(self)->groups);
}
static Value g_flags(TState *ts, Value self) {
    (void)ts;
    return INT_VAL(AS_REGEX(self)->flags);
}
static Value g_groupindex(TState *ts, Value self) {
    (void)ts;
    return AS_REGEX(self)->groupindex;
}
static Value g_warnings(TState *ts, Value self) {
    (void)ts;
    return AS_REGEX(self)->warnings;
}

/* Code points in a str before byte offset `off` (0..len). */
static size_t pattern_chars(const char *p, size_t off) {
    size_t n = 0;
    for (size_t k = 0; k < off; k++) n += ((unsigned char)p[k] & 0xc0) != 0x80;
    return n;
}

/* The FutureWarnings a pattern gives, as messages (CPython gives them while
 * parsing, so before any error). NULL after raising. */
static ObjList *warning_list(TState *ts, const Tr *t) {
    static const char *const what[] = {"nested set", "set difference", "set intersection",
                                       "set symmetric difference", "set union"};
    ObjList *warns = list_new(ts, 0);
    for (int k = 0; warns && k < t->nwarn; k++) {
        size_t pos = t->text ? pattern_chars(t->p, t->wpos[k]) : t->wpos[k];
        ObjStr *msg = str_printf(ts, "Possible %s at position %zu", what[t->wkind[k]], pos);
        if (!msg || list_append(ts, warns, OBJ_VAL(msg)) < 0) return NULL;
    }
    return warns;
}

static Value compile_error(TState *ts, Tr *t, bool text) {
    if (t->oom) {
        tr_free(t);
        return err_occurred(ts) ? ERROR_VAL : err_no_memory(ts);
    }
    if (t->overflow) {
        Value r = err_set_str(ts, EXC(ts)->OverflowError, t->msg);
        tr_free(t);
        return r;
    }
    if (!text) {
        /* as CPython: bytes in the message backslash-escaped */
        char esc[sizeof t->msg];
        size_t n = 0;
        for (const char *q = t->msg; *q && n + 5 < sizeof esc; q++) {
            unsigned char c = (unsigned char)*q;
            if (c < 0x80) esc[n++] = (char)c;
            else n += (size_t)snprintf(esc + n, sizeof esc - n, "\\x%02x", c);
        }
        esc[n] = 0;
        memcpy(t->msg, esc, n + 1);
    }
    ObjStr *msg = str_from_cstr(ts, t->msg);
    ObjList *warns = msg ? warning_list(ts, t) : NULL;
    bool nopos = t->errpos == (size_t)-1;
    size_t pos = nopos ? 0 : text ? pattern_chars(t->p, t->errpos) : t->errpos;
    tr_free(t);
    if (!warns) return ERROR_VAL;
    Value items[3] = {OBJ_VAL(msg), nopos ? NONE_VAL : INT_VAL((int64_t)pos), OBJ_VAL(warns)};
    ObjTuple *r = tuple_from(ts, items, 3);
    return r ? OBJ_VAL(r) : ERROR_VAL;
}

/* PCRE2's message for what our translation let through (limits, mostly),
 * at the pattern offset the output offset came from. */
static Value pcre2_compile_error(TState *ts, Tr *t, int code, size_t erroff) {
    char buf[200];
    if (code == 125 /* lookbehind not fixed length */) {
        snprintf(t->msg, sizeof t->msg, "look-behind requires fixed-width pattern");
        t->errpos = (size_t)-1;
        return compile_error(ts, t, t->text);
    }
    pcre2_get_error_message(code, (PCRE2_UCHAR *)buf, sizeof buf);
    size_t src = 0;
    for (size_t k = 0; k + 1 < t->nmap; k += 2)
        if (t->map[k] <= erroff) src = t->map[k + 1];
    snprintf(t->msg, sizeof t->msg, "%s", buf);
    t->errpos = src;
    return compile_error(ts, t, t->text);
}


/* compile(pattern, flags): a Regex, or (message, position, warnings) for
 * re.error. */
static Value f_compile(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "compile", nargs, kwnames, 2, 2)) return ERROR_VAL;
    Value pat = args[0];
    int64_t flags;
    if (!args_int(ts, args[1], &flags)) return ERROR_VAL;
    Tr t;
    memset(&t, 0, sizeof t);
    sb_init(&t.out);
    Buffer b;
    bool have_buf = false;
    if (IS_STR(pat)) {
        t.p = AS_STR(pat)->data;
        t.n = AS_STR(pat)->len;
        t.text = true;
    } else {
        if (!buffer_get(ts, pat, &b, BUF_READ)) return ERROR_VAL;
        have_buf = true;
        t.p = b.buf;
        t.n = b.len;
    }
    t.flags = (int)flags;
    t.ascii = !t.text || (flags & (F_ASCII | F_LOCALE));
    Scope sc = {(flags & F_VERBOSE) != 0, 0, (flags & F_IGNORECASE) != 0};
    t.parent = malloc(16 * sizeof *t.parent);
    t.open = malloc(16 * sizeof *t.open);
    t.widths = malloc(16 * sizeof *t.widths);
    if (!t.parent || !t.open || !t.widths) goto oom;
    t.cap_groups = 16;
    t.parent[0] = 0; /* slot 0: the whole match */
    t.open[0] = false;
    int branches = 0;
    size_t bar = 0;
    Width whole;
    if (parse_sub(ts, &t, sc, 0, &branches, &bar, &whole) && t.variable_lookbehind)
        tr_error(&t, (size_t)-1, "look-behind requires fixed-width pattern");
    if (!t.failed) {
        for (size_t k = 0; k < t.ncond; k += 2)
            if (t.cond_refs[k] > t.groups) {
                tr_error(&t, (size_t)t.cond_refs[k + 1], "invalid group reference %d", t.cond_refs[k]);
                break;
            }
    }
    /* CPython's tokenizer reads one token ahead: a lone backslash at the
     * end is its error as soon as parsing reaches the token before it. */
    if (!t.oom && !t.overflow) {
        size_t trail = t.n, k = t.n;
        while (k > 0 && t.p[k - 1] == '\\') k--;
        if ((t.n - k) % 2 == 1) trail = t.n - 1;
        if (trail < t.n && (!t.failed || t.i >= trail)) {
            t.failed = false;
            tr_error(&t, trail, "bad escape (end of pattern)");
        }
    }
    if (!t.failed && t.text && (t.flags & F_LOCALE)) {
        Value r = err_set_str(ts, EXC(ts)->ValueError, "cannot use LOCALE flag with a str pattern");
        tr_free(&t);
        return r;
    }
    if (t.failed) goto fail;
    {
        int pflags = t.flags;
        if (t.text && (pflags & F_ASCII) && (pflags & F_UNICODE)) {
            tr_free(&t);
            return err_set_str(ts, EXC(ts)->ValueError, "ASCII and UNICODE flags are incompatible");
        }
        if (!t.text && (pflags & F_UNICODE)) {
            if (have_buf) buffer_release(ts, &b);
            tr_free(&t);
            return err_set_str(ts, EXC(ts)->ValueError, "cannot use UNICODE flag with a bytes pattern");
        }
        if (!t.text && (pflags & F_ASCII) && (pflags & F_LOCALE)) {
            if (have_buf) buffer_release(ts, &b);
            tr_free(&t);
            return err_set_str(ts, EXC(ts)->ValueError, "ASCII and LOCALE flags are incompatible");
        }
        if (t.text && !(pflags & F_ASCII)) pflags |= F_UNICODE;
        uint32_t opts = PCRE2_ALT_CIRCUMFLEX;
        if (t.text) opts |= PCRE2_UTF | PCRE2_NO_UTF_CHECK | (t.ascii ? 0 : PCRE2_UCP);
        if (pflags & F_IGNORECASE) opts |= PCRE2_CASELESS;
        if (pflags & F_MULTILINE) opts |= PCRE2_MULTILINE;
        if (pflags & F_DOTALL) opts |= PCRE2_DOTALL;
        pcre2_compile_context *cctx = pcre2_compile_context_create(NULL);
        if (!cctx) goto oom;
        pcre2_set_newline(cctx, PCRE2_NEWLINE_LF);
        int ecode;
        PCRE2_SIZE eoff;
        pcre2_code *code = pcre2_compile((PCRE2_SPTR)(t.out.data ? t.out.data : ""), t.out.len, opts, &ecode, &eoff,
                                         cctx);
        pcre2_compile_context_free(cctx);
        if (!code) {
            if (ecode == PCRE2_ERROR_NOMEMORY) goto oom;
            Value r = pcre2_compile_error(ts, &t, ecode, eoff);
            if (have_buf) buffer_release(ts, &b);
            return r;
        }
        pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
        pcre2_match_context *mctx = pcre2_match_context_create(NULL);
        pcre2_match_context *mctx_attached = pcre2_match_context_create(NULL);
        int *parent = malloc((size_t)(t.groups + 1) * sizeof *parent);
        ObjDict *gi = dict_new(ts);
        ObjList *warns = gi ? warning_list(ts, &t) : NULL;
        ObjType *type = module_type(ts, "_re", "Regex");
        ObjType *mtype = type ? module_type(ts, "_re", "Match") : NULL;
        ObjRegex *r = warns && mctx && mctx_attached && parent && mtype ? (ObjRegex *)gc_alloc(ts, sizeof(ObjRegex), OBJ_OPAQUE, type)
                                                   : NULL;
        if (!r) {
            pcre2_code_free(code);
            pcre2_match_context_free(mctx);
            pcre2_match_context_free(mctx_attached);
            free(parent);
            goto oom;
        }
        pcre2_set_match_limit(mctx, MINI_RE_MATCH_LIMIT);
        pcre2_set_match_limit(mctx_attached, MINI_RE_ATTACHED_LIMIT);
        memcpy(parent, t.parent, (size_t)(t.groups + 1) * sizeof *parent);
        r->code = code;
        r->mctx = mctx;
        r->mctx_attached = mctx_attached;
        r->parent = parent;
        r->groups = t.groups;
        r->flags = pflags;
        r->text = t.text;
        r->groupindex = OBJ_VAL(gi);
        r->match_type = OBJ_VAL(mtype);
        r->warnings = OBJ_VAL(warns);
        for (size_t k = 0; k < t.nnames; k++) {
            ObjStr *name = name_str(ts, &t, t.names[k].name, t.names[k].len);
            if (!name || dict_set(ts, gi, OBJ_VAL(name), INT_VAL(t.names[k].index)) < 0) {
                tr_free(&t);
                if (have_buf) buffer_release(ts, &b);
                return ERROR_VAL;
            }
        }
        tr_free(&t);
        if (have_buf) buffer_release(ts, &b);
        return OBJ_VAL(r);
    }
oom:
    tr_free(&t);
    if (have_buf) buffer_release(ts, &b);
    return err_no_memory(ts);
fail: {
    Value r = compile_error(ts, &t, t.text);
    if (have_buf) buffer_release(ts, &b);
    return r;
}
}

/* ---- subjects ------------------------------------------------------------------------------------ */

typedef struct Subject {
    const char *data;
    size_t len;     /* bytes */
    bool text;
    bool ascii;     /* byte offsets are code point offsets */
    bool immutable; /* str or bytes: may be read detached */
    Buffer buf;
    bool has_buf;
    /* the cursor for byte -> code point conversions */
    size_t cur_byte, cur_char;
} Subject;

static bool subject_get(TState *ts, ObjRegex *re, Value v, Subject *s) {
    memset(s, 0, sizeof *s);
    if (IS_STR(v)) {
        if (!re->text) {
            err_set_str(ts, EXC(ts)->TypeError, "cannot use a bytes pattern on a string-like object");
            return false;
        }
        s->data = AS_STR(v)->data;
        s->len = AS_STR(v)->len;
        s->text = true;
        s->ascii = STR_IS_ASCII(AS_STR(v));
        s->immutable = true;
        return true;
    }
    if (!buffer_check(ts, v)) {
        err_format(ts, EXC(ts)->TypeError, "expected string or bytes-like object, got '%s'", ops_type_name(ts, v));
        return false;
    }
    if (re->text) {
        err_set_str(ts, EXC(ts)->TypeError, "cannot use a string pattern on a bytes-like object");
        return false;
    }
    if (!buffer_get(ts, v, &s->buf, BUF_READ)) return false;
    s->has_buf = true;
    s->data = s->buf.buf;
    s->len = s->buf.len;
    s->ascii = true;
    s->immutable = IS_BYTES(v);
    return true;
}

static void subject_release(TState *ts, Subject *s) {
    if (s->has_buf) buffer_release(ts, &s->buf);
    s->has_buf = false;
}

/* Code point index of byte offset `off` (a character boundary). */
static size_t subject_chars(Subject *s, size_t off) {
    if (s->ascii) return off;
    size_t b = s->cur_byte, c = s->cur_char;
    if (off >= b) {
        for (; b < off; b++) c += ((unsigned char)s->data[b] & 0xc0) != 0x80;
    } else if (off < b / 2) {
        b = 0;
        c = 0;
        for (; b < off; b++) c += ((unsigned char)s->data[b] & 0xc0) != 0x80;
    } else {
        for (; b > off; b--) c -= ((unsigned char)s->data[b - 1] & 0xc0) != 0x80;
    }
    s->cur_byte = b;
    s->cur_char = c;
    return c;
}

/* Byte offset of code point index `idx`, clamped to the subject. */
static size_t subject_bytes(Subject *s, int64_t idx) {
    if (idx <= 0) return 0;
    if (s->ascii) return (size_t)idx < s->len ? (size_t)idx : s->len;
    size_t b = 0, c = 0;
    if (s->cur_char <= (size_t)idx) {
        b = s->cur_byte;
        c = s->cur_char;
    }
    while (b < s->len && c < (size_t)idx) {
        b++;
        while (b < s->len && ((unsigned char)s->data[b] & 0xc0) == 0x80) b++;
        c++;
    }
    s->cur_byte = b;
    s->cur_char = c;
    return b;
}

static Value subject_slice(TState *ts, const Subject *s, size_t a, size_t b) {
    if (s->text) {
        ObjStr *r = str_new(ts, s->data + a, b - a);
        return r ? OBJ_VAL(r) : ERROR_VAL;
    }
    ObjBytes *r = bytes_new(ts, s->data + a, b - a);
    return r ? OBJ_VAL(r) : ERROR_VAL;
}

/* ---- matching ------------------------------------------------------------------------------------ */

/* One pcre2_match with a match context; retries with a larger JIT stack,
 * then without the JIT, when the JIT's stack is too small. */
static int match_with(ObjRegex *re, const Subject *s, size_t end, size_t start, uint32_t opts, pcre2_match_data *md,
                      pcre2_match_context *mctx) {
    opts |= s->text ? PCRE2_NO_UTF_CHECK : 0;
    int rc = pcre2_match(re->code, (PCRE2_SPTR)s->data, end, start, opts, md, mctx);
    if (rc != PCRE2_ERROR_JIT_STACKLIMIT) return rc;
    pcre2_match_context *mc = pcre2_match_context_copy(mctx);
    pcre2_jit_stack *js = mc ? pcre2_jit_stack_create(64 * 1024, MINI_RE_JIT_STACK_MAX, NULL) : NULL;
    if (js) {
        pcre2_jit_stack_assign(mc, NULL, js);
        rc = pcre2_match(re->code, (PCRE2_SPTR)s->data, end, start, opts, md, mc);
    }
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT || !js)
        rc = pcre2_match(re->code, (PCRE2_SPTR)s->data, end, start, opts | PCRE2_NO_JIT, md, mctx);
    pcre2_jit_stack_free(js);
    pcre2_match_context_free(mc);
    return rc;
}

/* One match. Over an immutable subject it first runs attached with a
 * small step limit (most matches end well within it, and detaching costs
 * more than they do); one that needs more starts again detached, so a
 * long search releases the GIL. A mutable subject is a snapshot or is
 * only read attached, so it never needs to. */
static int run_match(TState *ts, ObjRegex *re, const Subject *s, size_t end, size_t start, uint32_t opts,
                     pcre2_match_data *md) {
    if (!s->immutable) return match_with(re, s, end, start, opts, md, re->mctx);
    int rc = match_with(re, s, end, start, opts, md, re->mctx_attached);
    if (rc != PCRE2_ERROR_MATCHLIMIT) return rc;
    thread_detach_to_compute(ts);
    rc = match_with(re, s, end, start, opts, md, re->mctx);
    thread_attach(ts);
    return rc;
}

/* rc < 0 other than "no match" as an exception. */
static Value match_failure(TState *ts, int rc) {
    if (rc == PCRE2_ERROR_NOMEMORY || rc == PCRE2_ERROR_HEAPLIMIT) return err_no_memory(ts);
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT)
        return err_set_str(ts, EXC(ts)->RecursionError, "maximum recursion limit exceeded");
    char buf[200];
    pcre2_get_error_message(rc, (PCRE2_UCHAR *)buf, sizeof buf);
    return err_format(ts, EXC(ts)->RuntimeError, "regular expression engine: %s", buf);
}

/* Successive matches over [pos, end) with CPython's empty-match rule. */
typedef struct Scan {
    ObjRegex *re;
    Subject *s;
    size_t pos, end;
    bool after_empty;
    pcre2_match_data *md;
    PCRE2_SIZE *ov;
} Scan;

static bool scan_init(TState *ts, Scan *sc, ObjRegex *re, Subject *s, size_t pos, size_t end) {
    sc->re = re;
    sc->s = s;
    sc->pos = pos;
    sc->end = end;
    sc->after_empty = false;
    sc->md = pcre2_match_data_create_from_pattern(re->code, NULL);
    if (!sc->md) {
        err_no_memory(ts);
        return false;
    }
    sc->ov = pcre2_get_ovector_pointer(sc->md);
    return true;
}

/* 1: a match in sc->ov; 0: no more; -1 after raising. */
static int scan_next(TState *ts, Scan *sc) {
    if (sc->pos > sc->end) return 0;
    int rc = run_match(ts, sc->re, sc->s, sc->end, sc->pos, sc->after_empty ? PCRE2_NOTEMPTY_ATSTART : 0, sc->md);
    if (rc == PCRE2_ERROR_NOMATCH) return 0;
    if (rc < 0) {
        match_failure(ts, rc);
        return -1;
    }
    sc->pos = sc->ov[1];
    sc->after_empty = sc->ov[0] == sc->ov[1];
    return 1;
}

static bool group_set(const PCRE2_SIZE *ov, int g) { return ov[2 * g] != PCRE2_UNSET; }

/* The group that closed last, as sre's lastindex; 0 when none matched. */
static int last_index(const ObjRegex *re, const PCRE2_SIZE *ov) {
    int best = 0;
    for (int g = 1; g <= re->groups; g++) {
        if (!group_set(ov, g)) continue;
        if (!best || ov[2 * g + 1] > ov[2 * best + 1]) {
            best = g;
            continue;
        }
        if (ov[2 * g + 1] < ov[2 * best + 1]) continue;
        int a = re->parent[g];
        while (a && a != best) a = re->parent[a];
        if (a != best) best = g;
    }
    return best;
}

/* pos/endpos arguments (code points) as byte offsets. */
static bool range_args(TState *ts, Subject *s, Value posv, Value endv, size_t *pos, size_t *end) {
    int64_t p = 0, e = INT64_MAX;
    if (!IS_EMPTY(posv) && !ops_index(ts, posv, &p)) return false;
    if (!IS_EMPTY(endv) && !ops_index(ts, endv, &e)) return false;
    *pos = subject_bytes(s, p);
    *end = subject_bytes(s, e);
    return true;
}

static const char *const RANGE_NAMES[] = {"string", "pos", "endpos"};

/* ---- Match objects ------------------------------------------------------------------------------ */

/* re.Match: the spans of every group in code points (-1 for a group that
 * did not match) and in bytes, and their values. A str or bytes subject's
 * values are sliced on first use (most matches read one group, or none);
 * another subject's are made at once, as it may change. */
typedef struct ObjMatch {
    Obj obj;
    Value pattern;     /* the re.Pattern */
    Value string;      /* the subject as given */
    Value regex;       /* the ObjRegex */
    int64_t pos, endpos;
    int lastindex;     /* 0: none */
    int ng;            /* groups + 1 */
    Value items[];     /* start0, end0, start1, end1, ...; byte spans alike; value0, value1, ...
                        * (EMPTY_VAL: not sliced yet) */
} ObjMatch;

#define AS_MATCH(v) ((ObjMatch *)AS_OBJ(v))
#define M_START(m, g) AS_INT((m)->items[2 * (g)])
#define M_END(m, g) AS_INT((m)->items[2 * (g) + 1])
#define M_BYTE_START(m, g) AS_INT((m)->items[2 * (m)->ng + 2 * (g)])
#define M_BYTE_END(m, g) AS_INT((m)->items[2 * (m)->ng + 2 * (g) + 1])
#define M_VALUE(m, g) ((m)->items[4 * (m)->ng + (g)])

/* A Match from the ovector of a match over s (whose cursor it moves). */
static Value match_new(TState *ts, Value pattern, Value string, Value regex, Subject *s, const PCRE2_SIZE *ov,
                       int64_t pos, int64_t endpos) {
    ObjRegex *re = AS_REGEX(regex);
    int ng = re->groups + 1;
    ObjMatch *m = (ObjMatch *)gc_alloc(ts, sizeof(ObjMatch) + 5 * (size_t)ng * sizeof(Value), OBJ_OPAQUE,
                                       AS_TYPE(re->match_type));
    if (!m) return ERROR_VAL;
    m->pattern = pattern;
    m->string = string;
    m->regex = regex;
    m->ng = ng;
    m->lastindex = last_index(re, ov);
    int64_t len = (int64_t)(s->ascii ? s->len : (s->text ? AS_STR(string)->nchars : s->len));
    m->pos = pos < 0 ? 0 : pos > len ? len : pos;
    m->endpos = endpos < 0 ? 0 : endpos > len ? len : endpos;
    bool lazy = IS_STR(string) || IS_BYTES(string);
    for (int g = 0; g < ng; g++) M_VALUE(m, g) = NONE_VAL;
    for (int g = 0; g < ng; g++) {
        bool set = group_set(ov, g);
        m->items[2 * g] = INT_VAL(set ? (int64_t)subject_chars(s, ov[2 * g]) : -1);
        m->items[2 * g + 1] = INT_VAL(set ? (int64_t)subject_chars(s, ov[2 * g + 1]) : -1);
        m->items[2 * ng + 2 * g] = INT_VAL(set ? (int64_t)ov[2 * g] : -1);
        m->items[2 * ng + 2 * g + 1] = INT_VAL(set ? (int64_t)ov[2 * g + 1] : -1);
        if (set && lazy) {
            M_VALUE(m, g) = EMPTY_VAL;
        } else if (set) {
            Value v = subject_slice(ts, s, ov[2 * g], ov[2 * g + 1]);
            if (IS_ERROR(v)) return v;
            M_VALUE(m, g) = v;
        }
    }
    return OBJ_VAL(m);
}

/* Group g's value, sliced on first use. Two threads may both slice it:
 * each publishes an equal value whole (one word, release). */
static Value match_value(TState *ts, ObjMatch *m, int g) {
    Value v = __atomic_load_n(&M_VALUE(m, g), __ATOMIC_ACQUIRE);
    if (!IS_EMPTY(v)) return v;
    size_t a = (size_t)M_BYTE_START(m, g), b = (size_t)M_BYTE_END(m, g);
    if (IS_STR(m->string)) {
        ObjStr *r = str_new(ts, AS_STR(m->string)->data + a, b - a);
        v = r ? OBJ_VAL(r) : ERROR_VAL;
    } else {
        ObjBytes *r = bytes_new(ts, AS_BYTES(m->string)->data + a, b - a);
        v = r ? OBJ_VAL(r) : ERROR_VAL;
    }
    if (!IS_ERROR(v)) __atomic_store_n(&M_VALUE(m, g), v, __ATOMIC_RELEASE);
    return v;
}

static void match_trace(GcMarker *mk, Obj *self) {
    ObjMatch *m = (ObjMatch *)self;
    gc_mark_value(mk, m->pattern);
    gc_mark_value(mk, m->string);
    gc_mark_value(mk, m->regex);
    for (int g = 0; g < m->ng; g++) gc_mark_value(mk, M_VALUE(m, g));
}

static size_t match_obj_size(Obj *self) { return sizeof(ObjMatch) + 5 * (size_t)((ObjMatch *)self)->ng * sizeof(Value); }

/* A group argument (number, name, or an object with __index__) as a
 * group number, or -1 after raising IndexError. */
static int match_index(TState *ts, ObjMatch *m, Value g) {
    int64_t i = -1;
    if (IS_INT(g)) {
        i = AS_INT(g);
    } else if (IS_BOOL(g)) {
        i = AS_BOOL(g);
    } else if (IS_STR(g)) {
        Value v = dict_get(ts, AS_DICT(AS_REGEX(m->regex)->groupindex), g);
        if (IS_ERROR(v)) return -1;
        if (IS_INT(v)) i = AS_INT(v);
    } else if (!IS_BYTES(g) && !IS_FLOAT(g)) {
        if (!ops_index(ts, g, &i)) {
            err_clear(ts);
            i = -1;
        }
    }
    if (i < 0 || i >= m->ng) {
        err_set_str(ts, EXC(ts)->IndexError, "no such group");
        return -1;
    }
    return (int)i;
}

static Value m_group(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "group", 0, kwnames, 0, 0)) return ERROR_VAL;
    ObjMatch *m = AS_MATCH(args[0]);
    if (nargs == 1) return match_value(ts, m, 0);
    if (nargs == 2) {
        int g = match_index(ts, m, args[1]);
        return g < 0 ? ERROR_VAL : match_value(ts, m, g);
    }
    ObjTuple *t = tuple_new(ts, (size_t)nargs - 1);
    if (!t) return ERROR_VAL;
    for (int k = 1; k < nargs; k++) {
        int g = match_index(ts, m, args[k]);
        Value v = g < 0 ? ERROR_VAL : match_value(ts, m, g);
        if (IS_ERROR(v)) return v;
        t->items[k - 1] = v;
    }
    return OBJ_VAL(t);
}

static Value m_getitem(TState *ts, Value self, Value key) {
    int g = match_index(ts, AS_MATCH(self), key);
    return g < 0 ? ERROR_VAL : match_value(ts, AS_MATCH(self), g);
}

static const char *const DEFAULT_NAME[] = {"default"};

static Value m_groups(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    Value d;
    if (!args_bind(ts, "groups", args + 1, nargs - 1, kwnames, DEFAULT_NAME, 1, 0, 1, &d)) return ERROR_VAL;
    if (IS_EMPTY(d)) d = NONE_VAL;
    ObjMatch *m = AS_MATCH(args[0]);
    ObjTuple *t = tuple_new(ts, (size_t)m->ng - 1);
    if (!t) return ERROR_VAL;
    for (int g = 1; g < m->ng; g++) {
        Value v = match_value(ts, m, g);
        if (IS_ERROR(v)) return v;
        t->items[g - 1] = IS_NONE(v) ? d : v;
    }
    return OBJ_VAL(t);
}

static Value m_groupdict(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    Value d;
    if (!args_bind(ts, "groupdict", args + 1, nargs - 1, kwnames, DEFAULT_NAME, 1, 0, 1, &d)) return ERROR_VAL;
    if (IS_EMPTY(d)) d = NONE_VAL;
    ObjMatch *m = AS_MATCH(args[0]);
    ObjDict *gi = AS_DICT(AS_REGEX(m->regex)->groupindex);
    ObjDict *out = dict_new(ts);
    if (!out) return ERROR_VAL;
    size_t it = 0;
    Value k, v;
    while (dict_next(gi, &it, &k, &v)) {
        Value x = match_value(ts, m, (int)AS_INT(v));
        if (IS_ERROR(x)) return x;
        if (dict_set(ts, out, k, IS_NONE(x) ? d : x) < 0) return ERROR_VAL;
    }
    return OBJ_VAL(out);
}

/* start, end, span: which == 0, 1, 2. */
static Value m_position(TState *ts, Value *args, int nargs, ObjTuple *kwnames, const char *name, int which) {
    if (!args_check(ts, name, nargs - 1, kwnames, 0, 1)) return ERROR_VAL;
    ObjMatch *m = AS_MATCH(args[0]);
    int g = nargs > 1 ? match_index(ts, m, args[1]) : 0;
    if (g < 0) return ERROR_VAL;
    if (which < 2) return m->items[2 * g + which];
    ObjTuple *t = tuple_pack2(ts, m->items[2 * g], m->items[2 * g + 1]);
    return t ? OBJ_VAL(t) : ERROR_VAL;
}
static Value m_start(TState *ts, Value *args, int nargs, ObjTuple *kw) { return m_position(ts, args, nargs, kw, "start", 0); }
static Value m_end(TState *ts, Value *args, int nargs, ObjTuple *kw) { return m_position(ts, args, nargs, kw, "end", 1); }
static Value m_span(TState *ts, Value *args, int nargs, ObjTuple *kw) { return m_position(ts, args, nargs, kw, "span", 2); }

/* expand's template parsing lives in re.mini (re._expand_match). */
static Value m_expand(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("expand", 1, 1);
    return module_call(ts, "re", "_expand_match", args, 2);
}

static Value m_self(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    (void)ts;
    (void)nargs;
    (void)kwnames;
    return args[0];
}

static Value m_repr(TState *ts, Value self) {
    ObjMatch *m = AS_MATCH(self);
    Value g0 = match_value(ts, m, 0);
    Value r = IS_ERROR(g0) ? g0 : ops_repr(ts, g0);
    if (IS_ERROR(r)) return r;
    /* the match's repr cut at 50 characters, as CPython's %.50R */
    ObjStr *rs = AS_STR(r);
    size_t cut = rs->nchars > 50 ? str_byte_offset(rs, 50) : rs->len;
    ObjStr *o = str_printf(ts, "<re.Match object; span=(%lld, %lld), match=%.*s>", (long long)M_START(m, 0),
                           (long long)M_END(m, 0), (int)cut, rs->data);
    return o ? OBJ_VAL(o) : ERROR_VAL;
}

static Value g_m_string(TState *ts, Value self) { (void)ts; return AS_MATCH(self)->string; }
static Value g_m_re(TState *ts, Value self) { (void)ts; return AS_MATCH(self)->pattern; }
static Value g_m_pos(TState *ts, Value self) { (void)ts; return INT_VAL(AS_MATCH(self)->pos); }
static Value g_m_endpos(TState *ts, Value self) { (void)ts; return INT_VAL(AS_MATCH(self)->endpos); }
static Value g_m_lastindex(TState *ts, Value self) {
    (void)ts;
    int i = AS_MATCH(self)->lastindex;
    return i ? INT_VAL(i) : NONE_VAL;
}
static Value g_m_lastgroup(TState *ts, Value self) {
    (void)ts;
    ObjMatch *m = AS_MATCH(self);
    if (!m->lastindex) return NONE_VAL;
    ObjDict *gi = AS_DICT(AS_REGEX(m->regex)->groupindex);
    size_t it = 0;
    Value k, v;
    while (dict_next(gi, &it, &k, &v))
        if (IS_INT(v) && AS_INT(v) == m->lastindex) return k;
    return NONE_VAL;
}
static Value g_m_regs(TState *ts, Value self) {
    ObjMatch *m = AS_MATCH(self);
    ObjTuple *t = tuple_new(ts, (size_t)m->ng);
    if (!t) return ERROR_VAL;
    for (int g = 0; g < m->ng; g++) {
        ObjTuple *p = tuple_pack2(ts, m->items[2 * g], m->items[2 * g + 1]);
        if (!p) return ERROR_VAL;
        t->items[g] = OBJ_VAL(p);
    }
    return OBJ_VAL(t);
}

static const NativeDef match_methods[] = {
    {"group", m_group},   {"groups", m_groups},  {"groupdict", m_groupdict}, {"start", m_start},
    {"end", m_end},       {"span", m_span},      {"expand", m_expand},       {"__copy__", m_self},
    {"__deepcopy__", m_self}, {NULL, NULL},
};

static const GetSetDef match_getsets[] = {
    {"string", g_m_string, NULL},       {"re", g_m_re, NULL},           {"pos", g_m_pos, NULL},
    {"endpos", g_m_endpos, NULL},       {"lastindex", g_m_lastindex, NULL}, {"lastgroup", g_m_lastgroup, NULL},
    {"regs", g_m_regs, NULL},           {NULL, NULL, NULL},
};

static const TypeSpec match_spec = {
    .name = "Match",
    .kind = OBJ_OPAQUE,
    .obj_size = match_obj_size,
    .repr = m_repr,
    .getitem = m_getitem,
    .trace = match_trace,
    .methods = match_methods,
    .getsets = match_getsets,
};

/* ---- searching -------------------------------------------------------------------------------------- */

/* Regex._match(pattern, string, pos, endpos, mode[, shown_pos]): a Match
 * or None. mode bits: 1 anchored at pos, 2 anchored at endpos, 4 not empty
 * at pos. shown_pos is the Match's pos when it is not where the search
 * starts (a scanner's later matches). */
static Value rx_match(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("_match", 5, 6);
    ObjRegex *re = AS_REGEX(args[0]);
    int64_t mode, posarg = 0, endarg = INT64_MAX, shown;
    if (!args_int(ts, args[5], &mode) || !ops_index(ts, args[3], &posarg) || !ops_index(ts, args[4], &endarg))
        return ERROR_VAL;
    shown = posarg;
    if (nargs == 7 && !args_int(ts, args[6], &shown)) return ERROR_VAL;
    Subject s;
    if (!subject_get(ts, re, args[2], &s)) return ERROR_VAL;
    size_t pos = subject_bytes(&s, posarg), end = subject_bytes(&s, endarg);
    if (pos > end) {
        subject_release(ts, &s);
        return NONE_VAL;
    }
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re->code, NULL);
    if (!md) {
        subject_release(ts, &s);
        return err_no_memory(ts);
    }
    uint32_t opts = ((mode & 1) ? PCRE2_ANCHORED : 0) | ((mode & 2) ? PCRE2_ENDANCHORED : 0) |
                    ((mode & 4) ? PCRE2_NOTEMPTY_ATSTART : 0);
    int rc = run_match(ts, re, &s, end, pos, opts, md);
    Value r = rc == PCRE2_ERROR_NOMATCH ? NONE_VAL
            : rc < 0                    ? match_failure(ts, rc)
                                        : match_new(ts, args[1], args[2], args[0], &s, pcre2_get_ovector_pointer(md),
                                                    shown, endarg);
    pcre2_match_data_free(md);
    subject_release(ts, &s);
    return r;
}

/* finditer's iterator. source: the subject (a bytes snapshot of a mutable
 * one); aux: (pattern, regex, the subject as given, pos, endpos, endpos in
 * bytes); index: where the next search starts (bytes, -1 when done); end:
 * the code point index of that byte (the conversion cursor); step_by: 4
 * after an empty match. */
static Value finditer_step(TState *ts, ObjIterator *it) {
    if (it->index < 0) return EMPTY_VAL;
    ObjTuple *aux = AS_TUPLE(it->aux);
    ObjRegex *re = AS_REGEX(aux->items[1]);
    Subject s;
    if (!subject_get(ts, re, it->source, &s)) return ERROR_VAL;
    s.cur_byte = (size_t)it->index;
    s.cur_char = (size_t)it->end;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re->code, NULL);
    if (!md) {
        subject_release(ts, &s);
        return err_no_memory(ts);
    }
    size_t end = (size_t)AS_INT(aux->items[5]);
    int rc = (size_t)it->index > end ? PCRE2_ERROR_NOMATCH
                                     : run_match(ts, re, &s, end, (size_t)it->index,
                                                 it->step_by ? PCRE2_NOTEMPTY_ATSTART : 0, md);
    Value r;
    if (rc == PCRE2_ERROR_NOMATCH) {
        it->index = -1;
        r = EMPTY_VAL;
    } else if (rc < 0) {
        it->index = -1;
        r = match_failure(ts, rc);
    } else {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        r = match_new(ts, aux->items[0], aux->items[2], aux->items[1], &s, ov, AS_INT(aux->items[3]),
                      AS_INT(aux->items[4]));
        it->step_by = ov[0] == ov[1] ? 4 : 0;
        it->index = (int64_t)ov[1];
        it->end = (int64_t)subject_chars(&s, ov[1]);
    }
    pcre2_match_data_free(md);
    subject_release(ts, &s);
    return r;
}

/* Regex._finditer(pattern, string, pos, endpos). */
static Value rx_finditer(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("_finditer", 4, 4);
    ObjRegex *re = AS_REGEX(args[0]);
    int64_t posarg = 0, endarg = INT64_MAX;
    if (!ops_index(ts, args[3], &posarg) || !ops_index(ts, args[4], &endarg)) return ERROR_VAL;
    Subject s;
    if (!subject_get(ts, re, args[2], &s)) return ERROR_VAL;
    size_t pos = subject_bytes(&s, posarg);
    int64_t pos_chars = (int64_t)s.cur_char;
    if (s.ascii) pos_chars = (int64_t)pos;
    size_t end = subject_bytes(&s, endarg);
    bool snapshot = !s.immutable;
    subject_release(ts, &s);
    Value src = snapshot ? bytes_from_buffer(ts, args[2]) : args[2];
    if (IS_ERROR(src)) return src;
    Value items[6] = {args[1], args[0], args[2], INT_VAL(posarg), INT_VAL(endarg), INT_VAL((int64_t)end)};
    ObjTuple *aux = tuple_from(ts, items, 6);
    ObjIterator *it = aux ? iterator_new(ts, "callable_iterator", finditer_step, src, OBJ_VAL(aux)) : NULL;
    if (!it) return ERROR_VAL;
    it->index = (int64_t)pos;
    it->end = pos_chars;
    it->step_by = 0;
    return OBJ_VAL(it);
}

/* Regex._check(string): raises the TypeError a match would raise. */
static Value rx_check(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("_check", 1, 1);
    Subject s;
    if (!subject_get(ts, AS_REGEX(args[0]), args[1], &s)) return ERROR_VAL;
    subject_release(ts, &s);
    return NONE_VAL;
}

/* The value findall gives for one match. */
static Value findall_item(TState *ts, ObjRegex *re, const Subject *s, const PCRE2_SIZE *ov) {
    if (re->groups == 0) return subject_slice(ts, s, ov[0], ov[1]);
    if (re->groups == 1)
        return group_set(ov, 1) ? subject_slice(ts, s, ov[2], ov[3]) : subject_slice(ts, s, 0, 0);
    ObjTuple *t = tuple_new(ts, (size_t)re->groups);
    if (!t) return ERROR_VAL;
    for (int g = 1; g <= re->groups; g++) {
        Value v = group_set(ov, g) ? subject_slice(ts, s, ov[2 * g], ov[2 * g + 1]) : subject_slice(ts, s, 0, 0);
        if (IS_ERROR(v)) return v;
        t->items[g - 1] = v;
    }
    return OBJ_VAL(t);
}

static Value rx_findall(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    Value a[3];
    if (!args_bind(ts, "findall", args + 1, nargs - 1, kwnames, RANGE_NAMES, 3, 1, 3, a)) return ERROR_VAL;
    ObjRegex *re = AS_REGEX(args[0]);
    Subject s;
    if (!subject_get(ts, re, a[0], &s)) return ERROR_VAL;
    size_t pos, end;
    ObjList *out = NULL;
    Scan sc = {0};
    if (!range_args(ts, &s, a[1], a[2], &pos, &end) || !(out = list_new(ts, 0)) ||
        !scan_init(ts, &sc, re, &s, pos, end)) {
        subject_release(ts, &s);
        return ERROR_VAL;
    }
    Value r = OBJ_VAL(out);
    int k;
    while ((k = scan_next(ts, &sc)) > 0) {
        Value v = findall_item(ts, re, &s, sc.ov);
        if (IS_ERROR(v) || list_append(ts, out, v) < 0) {
            r = ERROR_VAL;
            break;
        }
    }
    if (k < 0) r = ERROR_VAL;
    pcre2_match_data_free(sc.md);
    subject_release(ts, &s);
    return r;
}

/* Appends a callable's result to a substitution; *pieces counts the items
 * of CPython's join, whose error message this repeats. */
static bool sub_append_result(TState *ts, StrBuf *sb, bool text, Value r, int64_t *pieces) {
    if (IS_NONE(r)) return true;
    if (text) {
        if (!IS_STR(r)) {
            err_format(ts, EXC(ts)->TypeError, "sequence item %lld: expected str instance, %s found",
                       (long long)*pieces, ops_type_name(ts, r));
            return false;
        }
        (*pieces)++;
        return sb_append(sb, AS_STR(r)->data, AS_STR(r)->len) || (err_no_memory(ts), false);
    }
    if (IS_STR(r) || !buffer_check(ts, r)) {
        err_format(ts, EXC(ts)->TypeError, "sequence item %lld: expected a bytes-like object, %s found",
                   (long long)*pieces, ops_type_name(ts, r));
        return false;
    }
    Buffer b;
    if (!buffer_get(ts, r, &b, BUF_READ)) return false;
    bool ok = sb_append(sb, b.buf, b.len);
    buffer_release(ts, &b);
    (*pieces)++;
    return ok || (err_no_memory(ts), false);
}

/* Regex._sub(pattern, repl, string, count, shown): (result, number of
 * substitutions). repl is a str/bytes (a literal), a list of literals and
 * group numbers (re.mini parses templates), or a function of the Match;
 * string is a str or bytes (re.mini snapshots other bytes-like subjects,
 * which the function could change) and shown is what Match.string gives. */
static Value rx_sub(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("_sub", 5, 5);
    ObjRegex *re = AS_REGEX(args[0]);
    Value tmpl = args[2];
    bool is_list = IS_LIST(tmpl), is_func = !is_list && !IS_STR(tmpl) && !IS_BYTES(tmpl);
    int64_t count;
    if (!args_int(ts, args[4], &count)) return ERROR_VAL;
    Subject s;
    if (!subject_get(ts, re, args[3], &s)) return ERROR_VAL;
    Scan sc = {0};
    if (!scan_init(ts, &sc, re, &s, 0, s.len)) {
        subject_release(ts, &s);
        return ERROR_VAL;
    }
    size_t nitems = is_list ? list_len(AS_LIST(tmpl)) : 1;
    StrBuf sb;
    sb_init(&sb);
    size_t last = 0;
    int64_t n = 0, pieces = 0;
    int k = 0;
    bool ok = true;
    while (ok && (count == 0 || n < count) && (k = scan_next(ts, &sc)) > 0) {
        const PCRE2_SIZE *ov = sc.ov;
        ok = sb_append(&sb, s.data + last, ov[0] - last);
        if (!ok) err_no_memory(ts);
        pieces += ov[0] > last;
        if (ok && is_func) {
            /* mini code runs here: what this loop holds is C memory, the
             * subject (immutable) and the arguments (on the caller's stack) */
            Value m = match_new(ts, args[1], args[5], args[0], &s, ov, 0, INT64_MAX);
            Value r = IS_ERROR(m) ? m : ops_call(ts, tmpl, &m, 1, NULL);
            ok = !IS_ERROR(r) && sub_append_result(ts, &sb, s.text, r, &pieces);
        }
        for (size_t i = 0; ok && !is_func && i < nitems; i++) {
            Value it = is_list ? list_get(AS_LIST(tmpl), i) : tmpl;
            if (IS_INT(it)) {
                int g = (int)AS_INT(it);
                if (g >= 0 && g <= re->groups && group_set(ov, g))
                    ok = sb_append(&sb, s.data + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
            } else if (IS_STR(it)) {
                ok = sb_append(&sb, AS_STR(it)->data, AS_STR(it)->len);
            } else if (IS_BYTES(it)) {
                ok = sb_append(&sb, AS_BYTES(it)->data, AS_BYTES(it)->len);
            }
            if (!ok) err_no_memory(ts);
        }
        last = ov[1];
        n++;
    }
    pcre2_match_data_free(sc.md);
    if (ok && k >= 0 && !sb_append(&sb, s.data + last, s.len - last)) ok = (err_no_memory(ts), false);
    Value res = ERROR_VAL;
    if (ok && k >= 0) {
        if (s.text) {
            ObjStr *o = str_new(ts, sb.data ? sb.data : "", sb.len);
            res = o ? OBJ_VAL(o) : ERROR_VAL;
        } else {
            ObjBytes *o = bytes_new(ts, sb.data ? sb.data : "", sb.len);
            res = o ? OBJ_VAL(o) : ERROR_VAL;
        }
    }
    sb_free(&sb);
    subject_release(ts, &s);
    if (IS_ERROR(res)) return res;
    ObjTuple *t = tuple_pack2(ts, res, INT_VAL(n));
    return t ? OBJ_VAL(t) : ERROR_VAL;
}

/* Regex._split(string, maxsplit). */
static Value rx_split(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("_split", 2, 2);
    ObjRegex *re = AS_REGEX(args[0]);
    int64_t maxsplit;
    if (!args_int(ts, args[2], &maxsplit)) return ERROR_VAL;
    Subject s;
    if (!subject_get(ts, re, args[1], &s)) return ERROR_VAL;
    Scan sc = {0};
    ObjList *out = list_new(ts, 0);
    if (!out || !scan_init(ts, &sc, re, &s, 0, s.len)) {
        subject_release(ts, &s);
        return ERROR_VAL;
    }
    size_t last = 0;
    int64_t n = 0;
    int k = 0;
    bool ok = true;
    while (ok && (maxsplit == 0 || n < maxsplit) && (k = scan_next(ts, &sc)) > 0) {
        const PCRE2_SIZE *ov = sc.ov;
        Value piece = subject_slice(ts, &s, last, ov[0]);
        ok = !IS_ERROR(piece) && list_append(ts, out, piece) >= 0;
        for (int g = 1; ok && g <= re->groups; g++) {
            Value v = group_set(ov, g) ? subject_slice(ts, &s, ov[2 * g], ov[2 * g + 1]) : NONE_VAL;
            ok = !IS_ERROR(v) && list_append(ts, out, v) >= 0;
        }
        last = ov[1];
        n++;
    }
    pcre2_match_data_free(sc.md);
    Value r = OBJ_VAL(out);
    if (ok && k >= 0) {
        Value piece = subject_slice(ts, &s, last, s.len);
        ok = !IS_ERROR(piece) && list_append(ts, out, piece) >= 0;
    }
    if (!ok || k < 0) r = ERROR_VAL;
    subject_release(ts, &s);
    return r;
}

static const NativeDef regex_methods[] = {
    {"_match", rx_match}, {"_finditer", rx_finditer}, {"_check", rx_check}, {"findall", rx_findall}, {"_sub", rx_sub}, {"_split", rx_split}, {NULL, NULL},
};

static const GetSetDef regex_getsets[] = {
    {"groups", g_groups, NULL},
    {"flags", g_flags, NULL},
    {"groupindex", g_groupindex, NULL},
    {"_warnings", g_warnings, NULL},
    {NULL, NULL, NULL},
};

static const TypeSpec regex_spec = {
    .name = "Regex",
    .kind = OBJ_OPAQUE,
    .trace = regex_trace,
    .finalize = regex_finalize,
    .methods = regex_methods,
    .getsets = regex_getsets,
};

static const NativeDef re_functions[] = {
    {"compile", f_compile},
    {NULL, NULL},
};

bool mod_re_init(TState *ts, ObjDict *ns) {
    ObjStr *module = str_intern_cstr(ts, "_re");
    if (!module || !builtins_add_natives(ts, ns, re_functions)) return false;
    ObjType *t = type_from_spec(ts, &regex_spec, NULL);
    ObjType *mt = t ? type_from_spec(ts, &match_spec, NULL) : NULL;
    ObjStr *re_name = mt ? str_intern_cstr(ts, "re") : NULL;
    if (!re_name) return false;
    t->module = OBJ_VAL(module);
    mt->module = OBJ_VAL(re_name); /* re.Match, as CPython names it */
    return dict_set_str(ts, ns, t->name, OBJ_VAL(t)) == 0 && dict_set_str(ts, ns, mt->name, OBJ_VAL(mt)) == 0;
}
