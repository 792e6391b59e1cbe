/* Much of this is a port of CPython 3.11's Python/formatter_unicode.c and
 * Python/pystrtod.c (format_float_short), with glibc's correctly rounded
 * snprintf/strtod standing in for David Gay's dtoa. */
#include "runtime/numfmt.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(long) >= sizeof(int64_t), "mpz_set_si takes long");

static bool fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail(char *err, size_t errlen, const char *fmt, ...) {
    if (errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return false;
}

static bool nomem(char *err, size_t errlen) {
    return fail(err, errlen, "%s", NUMFMT_MSG_NOMEM);
}

/* Undo a partial append so failures leave the output untouched. */
static void sb_truncate(StrBuf *sb, size_t len) {
    sb->len = len;
    if (sb->data)
        sb->data[len] = '\0';
}

static const char *const overflow_msgs[] = {
    "int too large to convert to float",
    "%c arg not in range(0x110000)",
    "Python int too large to convert to C long",
    "rounded value too large to represent",
};

NumfmtErrorKind numfmt_error_kind(const char *err) {
    if (strcmp(err, NUMFMT_MSG_NOMEM) == 0)
        return NUMFMT_MEMORY_ERROR;
    for (size_t i = 0; i < sizeof overflow_msgs / sizeof *overflow_msgs; i++)
        if (strcmp(err, overflow_msgs[i]) == 0)
            return NUMFMT_OVERFLOW_ERROR;
    return NUMFMT_VALUE_ERROR;
}

/* ---- UTF-8 ----------------------------------------------------------- */

/* Decodes the code point at s (n > 0 bytes).  A malformed byte decodes as
 * itself with *adv = 1 (and *bad set, if given). */
static uint32_t utf8_decode(const char *s, size_t n, size_t *adv, bool *bad) {
    const unsigned char *u = (const unsigned char *)s;
    uint32_t c = u[0], min;
    size_t len;
    if (c < 0x80) {
        *adv = 1;
        if (bad)
            *bad = false;
        return c;
    }
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, c &= 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, c &= 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, c &= 0x07, min = 0x10000;
    else
        goto malformed;
    if (n < len)
        goto malformed;
    for (size_t i = 1; i < len; i++) {
        if ((u[i] & 0xC0) != 0x80)
            goto malformed;
        c = c << 6 | (u[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF)
        goto malformed;
    *adv = len;
    if (bad)
        *bad = false;
    return c;
malformed:
    *adv = 1;
    if (bad)
        *bad = true;
    return u[0];
}

static size_t utf8_encode(uint32_t c, char *out) {
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xC0 | c >> 6);
        out[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | c >> 12);
        out[1] = (char)(0x80 | (c >> 6 & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | c >> 18);
    out[1] = (char)(0x80 | (c >> 12 & 0x3F));
    out[2] = (char)(0x80 | (c >> 6 & 0x3F));
    out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* Byte length of the whitespace character at s, or 0.  int()/float()
 * strip ASCII " \t\n\v\f\r" and non-ASCII Unicode whitespace (but not
 * \x1c-\x1f, which CPython passes through unchanged and then rejects). */
static size_t space_len(const char *s, size_t n) {
    if (*s && strchr(" \t\n\v\f\r", *s))
        return 1;
    if ((unsigned char)*s < 0x80)
        return 0;
    size_t adv;
    bool bad;
    uint32_t c = utf8_decode(s, n, &adv, &bad);
    if (bad)
        return 0;
    bool sp = c == 0x85 || c == 0xA0 || c == 0x1680 ||
              (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
              c == 0x202F || c == 0x205F || c == 0x3000;
    return sp ? adv : 0;
}

/* Narrows [*s, *end) to exclude surrounding whitespace. */
static void strip_spaces(const char **s, const char **end) {
    size_t k;
    while (*s < *end && (k = space_len(*s, (size_t)(*end - *s))) > 0)
        *s += k;
    /* Whitespace characters are 1 to 3 bytes long in UTF-8. */
    for (k = 1; k <= 3;) {
        if ((size_t)(*end - *s) >= k && space_len(*end - k, k) == k) {
            *end -= k;
            k = 1;
        } else {
            k++;
        }
    }
}

/* ---- repr ------------------------------------------------------------ */

/* Non-printable assigned code points >= 0xA0 (Unicode 14, as in Python
 * 3.11's str.isprintable); the unassigned ones are left out to keep the
 * table small. */
static const uint32_t nonprintable[][2] = {
    {0xA0, 0xA0},       {0xAD, 0xAD},       {0x600, 0x605},
    {0x61C, 0x61C},     {0x6DD, 0x6DD},     {0x70F, 0x70F},
    {0x890, 0x891},     {0x8E2, 0x8E2},     {0x1680, 0x1680},
    {0x180E, 0x180E},   {0x2000, 0x200F},   {0x2028, 0x202F},
    {0x205F, 0x2064},   {0x2066, 0x206F},   {0x3000, 0x3000},
    {0xD800, 0xF8FF},   {0xFEFF, 0xFEFF},   {0xFFF9, 0xFFFB},
    {0x110BD, 0x110BD}, {0x110CD, 0x110CD}, {0x13430, 0x13438},
    {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A}, {0xE0001, 0xE0001},
    {0xE0020, 0xE007F}, {0xF0000, 0xFFFFD}, {0x100000, 0x10FFFD},
};

static bool is_printable(uint32_t c) {
    if (c < 0x20 || (c >= 0x7F && c < 0xA0))
        return false;
    for (size_t i = 0; i < sizeof nonprintable / sizeof *nonprintable; i++)
        if (c >= nonprintable[i][0] && c <= nonprintable[i][1])
            return false;
    return true;
}

static char pick_quote(const char *s, size_t len) {
    return memchr(s, '\'', len) && !memchr(s, '"', len) ? '"' : '\'';
}

/* The escape for c (quote being the enclosing quote) or NULL if c is
 * copied as is; tmp holds the escape when it is built. */
static const char *escape_char(uint32_t c, char quote, bool is_bytes,
                               char tmp[12]) {
    if (c == (uint32_t)quote || c == '\\') {
        tmp[0] = '\\', tmp[1] = (char)c, tmp[2] = '\0';
        return tmp;
    }
    if (c == '\t')
        return "\\t";
    if (c == '\n')
        return "\\n";
    if (c == '\r')
        return "\\r";
    if (is_bytes ? c >= 0x20 && c < 0x7F : is_printable(c))
        return NULL;
    if (c <= 0xFF)
        snprintf(tmp, 12, "\\x%02x", (unsigned)c);
    else if (c <= 0xFFFF)
        snprintf(tmp, 12, "\\u%04x", (unsigned)c);
    else
        snprintf(tmp, 12, "\\U%08x", (unsigned)c);
    return tmp;
}

static bool repr_common(const char *s, size_t len, bool is_bytes,
                        StrBuf *out) {
    size_t mark = out->len;
    char quote = pick_quote(s, len);
    char tmp[12];
    bool ok = (!is_bytes || sb_append_char(out, 'b')) &&
              sb_append_char(out, quote) && sb_reserve(out, len + 1);
    size_t i = 0;
    while (ok && i < len) {
        size_t adv = 1;
        bool bad = false;
        uint32_t c = is_bytes ? (unsigned char)s[i]
                              : utf8_decode(s + i, len - i, &adv, &bad);
        const char *esc = tmp;
        if (bad)
            snprintf(tmp, sizeof tmp, "\\x%02x", (unsigned)c);
        else
            esc = escape_char(c, quote, is_bytes, tmp);
        ok = esc ? sb_append_cstr(out, esc) : sb_append(out, s + i, adv);
        i += adv;
    }
    if (ok && sb_append_char(out, quote))
        return true;
    sb_truncate(out, mark);
    return false;
}

bool numfmt_repr_str(const char *utf8, size_t len, StrBuf *out) {
    return repr_common(utf8, len, false, out);
}

bool numfmt_repr_bytes(const char *bytes, size_t len, StrBuf *out) {
    return repr_common(bytes, len, true, out);
}

/* ---- float to decimal digits ------------------------------------------ */

/* Limits that keep snprintf output bounded without changing results: a
 * double's exact expansion has at most 767 significant digits and 1074
 * fractional digits; further requested digits are zeros, which the
 * layout code re-adds. */
enum { MAX_SIG_DIGITS = 800, MAX_FRAC_DIGITS = 1100, DIGBUF = 1536 };

/* Adds one unit in the last digit of buf's "%e" mantissa.  False if that
 * carries into a new leading digit (then it is a power of ten, a short
 * decimal that was tried before). */
static bool bump_mantissa(char *buf) {
    for (char *p = strchr(buf, 'e'); p > buf;) {
        if (*--p == '.')
            continue;
        if (*p != '9') {
            (*p)++;
            return true;
        }
        *p = '0';
    }
    return false;
}

/* "%.{p-1}e" of a double (p = 15 or 16) from its 17-digit "%.16e" text
 * `full`, without another conversion: the dropped digits decide the
 * rounding unless they read exactly half (5, or 50), where the exact
 * value may lie on either side. False in that case. */
static bool round_e(const char *full, int p, char *out) {
    char dig[17];
    dig[0] = full[0];
    memcpy(dig + 1, full + 2, 16);
    int tail = p == 16 ? dig[16] - '0' : (dig[15] - '0') * 10 + (dig[16] - '0');
    int half = p == 16 ? 5 : 50;
    if (tail == half)
        return false;
    long exp = strtol(full + 19, NULL, 10); /* after "D.DDDDDDDDDDDDDDDDe" */
    if (tail > half) {
        int k = p - 1;
        while (k >= 0 && dig[k] == '9')
            dig[k--] = '0';
        if (k < 0) { /* 9.99..9 rounds up to 1.00..0e(exp+1) */
            dig[0] = '1';
            exp++;
        } else {
            dig[k]++;
        }
    }
    char *o = out;
    *o++ = dig[0];
    *o++ = '.';
    memcpy(o, dig + 1, (size_t)p - 1);
    o += p - 1;
    snprintf(o, 8, "e%+03ld", exp);
    return true;
}

/* snprintf "%.{p-1}e" of |d| with the fewest digits p that reads back as
 * |d|, i.e. the shortest repr; among equally short ones the closest to d,
 * half-even on ties, as dtoa's mode 0.  For normal doubles DBL_DIG
 * guarantees that if some <= 15-digit decimal round-trips, the 15-digit
 * rounding is that decimal padded with zeros, so only 15, 16 and 17 need
 * trying; the 15- and 16-digit texts are derived from the 17-digit one
 * (one binary-to-decimal conversion instead of three), and 17 digits
 * always read back.  Subnormals have less precision and need the full
 * search. */
static void shortest_e(double d, char *buf) {
    int e;
    bool pow2 = d >= 2 * DBL_MIN && frexp(d, &e) == 0.5;
    char full[32];
    bool normal = d >= DBL_MIN;
    if (normal)
        snprintf(full, sizeof full, "%.16e", d);
    for (int p = normal ? 15 : 1; p <= 17; p++) {
        if (normal && p == 17) {
            strcpy(buf, full);
            return;
        }
        if (!normal || !round_e(full, p, buf))
            snprintf(buf, DIGBUF, "%.*e", p - 1, d);
        double back = strtod(buf, NULL);
        if (back == d)
            return;
        /* Above a power of two doubles are twice as far apart as below it,
         * so when the nearest decimal lies below and misses, the next one
         * up may still round-trip. */
        if (pow2 && back < d && bump_mantissa(buf) && strtod(buf, NULL) == d)
            return;
    }
}

/* The decimal digits of finite |d| as dtoa returns them: no leading or
 * trailing zeros ("0" for zero), value = 0.DIGITS * 10**decpt.  Mode 0:
 * shortest round-trip; mode 2: nd significant digits; mode 3: nd digits
 * after the point.  Rounding is correct, half-even on the exact value. */
static const char *float_digits(double d, int mode, int64_t nd, char *buf,
                                size_t *ndig, int64_t *decpt) {
    char *start, *stop;
    d = fabs(d);
    if (mode == 3) {
        int n = snprintf(buf, DIGBUF, "%.*f",
                         (int)(nd > MAX_FRAC_DIGITS ? MAX_FRAC_DIGITS : nd), d);
        char *dot = strchr(buf, '.');
        size_t intlen = dot ? (size_t)(dot - buf) : (size_t)n;
        memmove(buf + 1, buf, intlen); /* drop the point */
        start = buf + 1;
        stop = buf + 1 + n - (dot != NULL);
        *decpt = (int64_t)intlen;
        while (start < stop && *start == '0')
            start++, (*decpt)--;
    } else {
        if (mode == 0)
            shortest_e(d, buf);
        else
            snprintf(buf, DIGBUF, "%.*e",
                     (int)(nd > MAX_SIG_DIGITS ? MAX_SIG_DIGITS : nd) - 1, d);
        stop = strchr(buf, 'e');
        *decpt = strtol(stop + 1, NULL, 10) + 1;
        start = buf;
        if (buf[1] == '.') { /* "D.DDD": move D next to the fraction */
            buf[1] = buf[0];
            start = buf + 1;
        }
    }
    while (stop > start && stop[-1] == '0')
        stop--;
    if (stop == start) {
        *ndig = 1;
        *decpt = 1;
        return "0";
    }
    *ndig = (size_t)(stop - start);
    return start;
}

/* A float rendered per CPython's format_float_short: code 'e', 'f', 'g' or
 * 'r' (repr).  The text is [-]<zeros><digits><zeros>[exponent] with one
 * point somewhere, described by a slice [vstart, vend) of the digits
 * padded with infinitely many zeros on both sides. */
typedef struct FloatText {
    char buf[DIGBUF];
    const char *special; /* "inf", "nan" etc. instead of digits, or NULL */
    const char *digits;
    size_t ndig;
    int64_t decpt, vstart, vend;
    int exp;
    bool neg, use_exp, alt;
    char e;
} FloatText;

static void float_text(FloatText *t, double d, char code, int64_t precision,
                       bool add_dot_0, bool alt, bool no_neg_0, bool upper) {
    t->alt = alt;
    t->e = upper ? 'E' : 'e';
    if (isnan(d)) {
        t->special = upper ? "NAN" : "nan";
        return;
    }
    if (isinf(d)) {
        t->special = d > 0 ? (upper ? "INF" : "inf") : (upper ? "-INF" : "-inf");
        return;
    }
    t->special = NULL;
    int mode = 0;
    switch (code) {
    case 'e':
        mode = 2;
        precision++;
        break;
    case 'f':
        mode = 3;
        break;
    case 'g':
        mode = 2;
        if (precision == 0)
            precision = 1;
        break;
    }
    t->digits = float_digits(d, mode, precision, t->buf, &t->ndig, &t->decpt);
    t->neg = signbit(d) && !(no_neg_0 && t->digits[0] == '0');

    int64_t decpt = t->decpt, vend = (int64_t)t->ndig;
    bool use_exp = false;
    switch (code) {
    case 'e':
        use_exp = true;
        vend = precision;
        break;
    case 'f':
        vend = decpt + precision;
        break;
    case 'g':
        if (decpt <= -4 || decpt > (add_dot_0 ? precision - 1 : precision))
            use_exp = true;
        if (alt)
            vend = precision;
        break;
    default:
        /* Exponent from 1e16: 16-digit reprs padded with zeros would look
         * like bogus precision. */
        if (decpt <= -4 || decpt > 16)
            use_exp = true;
        break;
    }
    t->exp = 0;
    if (use_exp) {
        t->exp = (int)(decpt - 1);
        decpt = 1;
    }
    /* The point must fall inside the slice (strictly before its end when a
     * ".0" is wanted). */
    t->vstart = decpt <= 0 ? decpt - 1 : 0;
    int64_t min_end = !use_exp && add_dot_0 ? decpt + 1 : decpt;
    t->vend = vend > min_end ? vend : min_end;
    t->decpt = decpt;
    t->use_exp = use_exp;
}

/* Upper bound of the text's length. */
static size_t float_text_size(const FloatText *t) {
    if (t->special)
        return 4;
    return (size_t)(t->vend - t->vstart) + 2 + (t->use_exp ? 5 : 0);
}

/* Writes the text and a NUL to p (float_text_size() + 1 bytes); returns
 * the length. */
static size_t float_text_write(const FloatText *t, char *p) {
    char *p0 = p;
    if (t->special) {
        strcpy(p, t->special);
        return strlen(p);
    }
    int64_t decpt = t->decpt, nd = (int64_t)t->ndig;
    if (t->neg)
        *p++ = '-';
    if (decpt <= 0) {
        memset(p, '0', (size_t)(decpt - t->vstart));
        p += decpt - t->vstart;
        *p++ = '.';
        memset(p, '0', (size_t)-decpt);
        p += -decpt;
    }
    if (decpt > 0 && decpt <= nd) {
        memcpy(p, t->digits, (size_t)decpt);
        p += decpt;
        *p++ = '.';
        memcpy(p, t->digits + decpt, (size_t)(nd - decpt));
        p += nd - decpt;
    } else {
        memcpy(p, t->digits, (size_t)nd);
        p += nd;
    }
    if (nd < decpt) {
        memset(p, '0', (size_t)(decpt - nd));
        p += decpt - nd;
        *p++ = '.';
        memset(p, '0', (size_t)(t->vend - decpt));
        p += t->vend - decpt;
    } else {
        memset(p, '0', (size_t)(t->vend - nd));
        p += t->vend - nd;
    }
    if (p[-1] == '.' && !t->alt)
        p--;
    if (t->use_exp) {
        *p++ = t->e;
        p += snprintf(p, 6, "%+.02d", t->exp);
    }
    *p = '\0';
    return (size_t)(p - p0);
}

size_t numfmt_float_repr(double x, char *buf) {
    FloatText t;
    float_text(&t, x, 'r', 0, true, false, false, false);
    return float_text_write(&t, buf);
}

/* ---- format specs ------------------------------------------------------ */

static bool is_align(uint32_t c) {
    return c == '<' || c == '>' || c == '=' || c == '^';
}

/* Port of get_integer(): ASCII digits only (CPython also takes other
 * Unicode decimal digits). */
static bool get_integer(const char *s, size_t len, size_t *pos,
                        int64_t *result, bool *any, char *err, size_t errlen) {
    int64_t acc = 0;
    size_t p = *pos;
    for (; p < len && s[p] >= '0' && s[p] <= '9'; p++) {
        int dv = s[p] - '0';
        if (acc > (INT64_MAX - dv) / 10)
            return fail(err, errlen,
                        "Too many decimal digits in format string");
        acc = acc * 10 + dv;
    }
    *any = p > *pos;
    *pos = p;
    *result = acc;
    return true;
}

static bool both_separators(char *err, size_t errlen) {
    return fail(err, errlen, "Cannot specify both ',' and '_'.");
}

bool numfmt_parse_spec(const char *spec, size_t len, FormatSpec *out,
                       char *err, size_t errlen) {
    FormatSpec f = {.fill = ' ', .width = -1, .precision = -1,
                    .text = spec, .text_len = len};
    size_t pos = 0, a1, a2;
    bool any = false;

    if (len > 0) {
        uint32_t c0 = utf8_decode(spec, len, &a1, NULL);
        if (a1 < len && is_align(utf8_decode(spec + a1, len - a1, &a2, NULL))) {
            f.fill = c0;
            f.fill_given = true;
            f.align = spec[a1];
            pos = a1 + a2;
        } else if (is_align(c0)) {
            f.align = (char)c0;
            pos = 1;
        }
    }
    if (pos < len && (spec[pos] == '+' || spec[pos] == '-' || spec[pos] == ' '))
        f.sign = spec[pos++];
    if (pos < len && spec[pos] == 'z') {
        f.no_neg_0 = true;
        pos++;
    }
    if (pos < len && spec[pos] == '#') {
        f.alternate = true;
        pos++;
    }
    if (!f.fill_given && pos < len && spec[pos] == '0') {
        f.zero = true;
        pos++;
    }
    if (!get_integer(spec, len, &pos, &f.width, &any, err, errlen))
        return false;
    if (!any)
        f.width = -1;
    if (pos < len && spec[pos] == ',') {
        f.grouping = ',';
        pos++;
    }
    if (pos < len && spec[pos] == '_') {
        if (f.grouping)
            return both_separators(err, errlen);
        f.grouping = '_';
        pos++;
    }
    if (pos < len && spec[pos] == ',' && f.grouping == '_')
        return both_separators(err, errlen);
    if (pos < len && spec[pos] == '.') {
        pos++;
        if (!get_integer(spec, len, &pos, &f.precision, &any, err, errlen))
            return false;
        if (!any)
            return fail(err, errlen, "Format specifier missing precision");
    }
    if (pos < len) {
        uint32_t type = utf8_decode(spec + pos, len - pos, &a1, NULL);
        if (pos + a1 < len)
            f.invalid = true;
        else
            f.type = type;
    }
    *out = f;
    return true;
}

/* A FormatSpec with the object's defaults applied and checked. */
typedef struct Resolved {
    uint32_t type;
    int64_t width, precision;
    char align, sign;
    bool alt, no_neg_0;
    int group; /* digits per group: 0 (none), 3 or 4 */
    char sep;
    bool fill_is_zero;
    char fill[4];
    size_t fill_len;
} Resolved;

/* Formats a presentation type for messages as CPython's %c or \x%x. */
static const char *type_repr(uint32_t type, char buf[16]) {
    if (type > 32 && type < 128)
        snprintf(buf, 16, "%c", (char)type);
    else
        snprintf(buf, 16, "\\x%x", (unsigned)type);
    return buf;
}

static bool unknown_type(uint32_t type, const char *type_name, char *err,
                         size_t errlen) {
    char tb[16];
    return fail(err, errlen, "Unknown format code '%s' for object of type '%.200s'",
                type_repr(type, tb), type_name);
}

static bool resolve(const FormatSpec *s, uint32_t default_type,
                    char default_align, const char *type_name, Resolved *r,
                    char *err, size_t errlen) {
    if (s->invalid)
        return fail(err, errlen,
                    "Invalid format specifier '%.*s' for object of type '%.200s'",
                    s->text_len > INT_MAX ? INT_MAX : (int)s->text_len, s->text,
                    type_name);
    uint32_t fill = s->fill_given ? s->fill : s->zero ? '0' : ' ';
    *r = (Resolved){
        .type = s->type ? s->type : default_type,
        .width = s->width,
        .precision = s->precision,
        .sign = s->sign,
        .alt = s->alternate,
        .no_neg_0 = s->no_neg_0,
        .fill_is_zero = fill == '0',
    };
    r->fill_len = utf8_encode(fill, r->fill);
    /* A bare '0' means sign-aware zero padding, for numbers only. */
    r->align = s->align                              ? s->align
               : s->zero && default_align == '>' ? '='
                                                     : default_align;
    if (s->grouping) {
        r->sep = s->grouping;
        switch (r->type) {
        case 'd': case 'e': case 'f': case 'g': case 'E': case 'G':
        case '%': case 'F': case 0:
            r->group = 3;
            break;
        case 'b': case 'o': case 'x': case 'X':
            if (s->grouping == '_') { /* PEP 515: every four digits */
                r->group = 4;
                break;
            }
            /* fall through */
        default: {
            char tb[16];
            return fail(err, errlen, "Cannot specify '%c' with '%s'.",
                        s->grouping, type_repr(r->type, tb));
        }
        }
    }
    return true;
}

static bool append_fill(StrBuf *out, const Resolved *r, int64_t n) {
    if (n <= 0)
        return true;
    if (r->fill_len == 1)
        return sb_append_repeat(out, r->fill[0], (size_t)n);
    if ((uint64_t)n > SIZE_MAX / 4 || !sb_reserve(out, (size_t)n * r->fill_len))
        return false;
    for (int64_t i = 0; i < n; i++)
        sb_append(out, r->fill, r->fill_len);
    return true;
}

/* Port of _PyUnicode_InsertThousandsGrouping: digits grouped from the
 * right, left-padded with zeros (and separators between them) up to
 * min_width.  Returns the length; if dst_end is non-NULL also writes the
 * text backwards, ending just before dst_end. */
static int64_t group_digits(char *dst_end, const char *digits, int64_t n,
                            int64_t min_width, int group, char sep) {
    int64_t count = 0, remaining = n;
    const char *src = digits + n;
    bool use_sep = false;
    for (;;) {
        if (!dst_end && group && remaining == 0 && min_width > group) {
            /* Only whole groups of zeros remain: count them at once, as
             * the width may be astronomically large. */
            int64_t k = (min_width - group - 1) / (group + 1) + 1;
            count += k * (group + 1);
            min_width -= k * (group + 1);
        }
        int64_t len = remaining > min_width ? remaining : min_width;
        if (len < 1)
            len = 1;
        if (group && len > group)
            len = group;
        int64_t n_zeros = len > remaining ? len - remaining : 0;
        int64_t n_chars = remaining < len ? remaining : len;
        count += use_sep + n_zeros + n_chars;
        if (dst_end) {
            if (use_sep)
                *--dst_end = sep;
            dst_end -= n_chars;
            src -= n_chars;
            memcpy(dst_end, src, (size_t)n_chars);
            dst_end -= n_zeros;
            memset(dst_end, '0', (size_t)n_zeros);
        }
        use_sep = true;
        remaining -= n_chars;
        min_width -= len;
        if (!group || (remaining <= 0 && min_width <= 0))
            return count;
        min_width -= 1;
    }
}

/* Port of calc_number_widths + fill_number: writes
 * [lpad][sign][prefix][spad][grouped digits][point][rest][rpad], where
 * rest (rest_bytes long) counts as rest_chars characters. */
static bool emit_number(StrBuf *out, const Resolved *r, bool negative,
                        const char *prefix, const char *digits,
                        int64_t n_digits, bool has_point, const char *rest,
                        size_t rest_bytes, int64_t rest_chars) {
    char sign = negative ? '-' : r->sign == '+' || r->sign == ' ' ? r->sign : 0;
    int64_t n_prefix = (int64_t)strlen(prefix);
    int64_t n_other = (sign != 0) + n_prefix + has_point + rest_chars;
    int64_t min_width = r->fill_is_zero && r->align == '=' ? r->width - n_other : 0;
    int64_t n_grouped =
        n_digits ? group_digits(NULL, digits, n_digits, min_width, r->group, r->sep)
                 : 0;
    int64_t pad = r->width - n_other - n_grouped; /* cannot overflow */
    int64_t lpad = 0, spad = 0, rpad = 0;
    if (pad > 0) {
        switch (r->align) {
        case '<': rpad = pad; break;
        case '^': lpad = pad / 2; rpad = pad - lpad; break;
        case '=': spad = pad; break;
        default: lpad = pad; break;
        }
    }
    if (!append_fill(out, r, lpad) || (sign && !sb_append_char(out, sign)) ||
        !sb_append(out, prefix, (size_t)n_prefix) || !append_fill(out, r, spad) ||
        !sb_reserve(out, (size_t)n_grouped))
        return false;
    if (n_digits) {
        group_digits(out->data + out->len + n_grouped, digits, n_digits,
                     min_width, r->group, r->sep);
        out->len += (size_t)n_grouped;
        out->data[out->len] = '\0';
    }
    return (!has_point || sb_append_char(out, '.')) &&
           sb_append(out, rest, rest_bytes) && append_fill(out, r, rpad);
}

/* Port of format_float_internal. */
static bool format_double(const Resolved *r, double val, StrBuf *out,
                          char *err, size_t errlen) {
    if (r->precision > INT_MAX)
        return fail(err, errlen, "precision too big");
    int64_t precision = r->precision, default_precision = 6;
    uint32_t type = r->type;
    bool add_dot_0 = false, add_pct = false;
    if (type == 0) {
        /* Like repr() without a precision, else like 'g' but with at
         * least one digit after the point. */
        add_dot_0 = true;
        type = 'r';
        default_precision = 0;
    }
    if (type == 'n') /* 'g' in the C locale */
        type = 'g';
    if (type == '%') {
        type = 'f';
        val *= 100;
        add_pct = true;
    }
    if (precision < 0)
        precision = default_precision;
    else if (type == 'r')
        type = 'g';
    bool upper = type == 'E' || type == 'F' || type == 'G';

    FloatText t;
    float_text(&t, val, upper ? (char)(type + 32) : (char)type, precision,
               add_dot_0, r->alt, r->no_neg_0, upper);
    size_t size = float_text_size(&t);
    char small[64], *text = size + 2 <= sizeof small ? small : malloc(size + 2);
    if (!text)
        return nomem(err, errlen);
    size_t n = float_text_write(&t, text);
    if (add_pct)
        text[n++] = '%';

    /* Split into sign, leading digits, point and the rest (fraction,
     * exponent, '%', or "inf"/"nan" with no digits at all). */
    const char *p = text, *end = text + n;
    bool negative = *p == '-';
    p += negative;
    const char *digits = p;
    while (p < end && *p >= '0' && *p <= '9')
        p++;
    int64_t n_digits = p - digits;
    bool has_point = p < end && *p == '.';
    p += has_point;

    size_t mark = out->len;
    bool ok = emit_number(out, r, negative, "", digits, n_digits, has_point, p,
                          (size_t)(end - p), end - p);
    if (text != small)
        free(text);
    if (!ok) {
        sb_truncate(out, mark);
        return nomem(err, errlen);
    }
    return true;
}

bool numfmt_format_float(const FormatSpec *spec, double value,
                         const char *type_name, StrBuf *out, char *err,
                         size_t errlen) {
    Resolved r;
    if (!resolve(spec, 0, '>', type_name, &r, err, errlen))
        return false;
    switch (r.type) {
    case 0: case 'e': case 'E': case 'f': case 'F': case 'g': case 'G':
    case 'n': case '%':
        return format_double(&r, value, out, err, errlen);
    default:
        return unknown_type(r.type, type_name, err, errlen);
    }
}

bool numfmt_int_to_double(const mpz_t v, double *out) {
    size_t bits = mpz_sizeinbase(v, 2);
    if (bits <= DBL_MANT_DIG) {
        *out = mpz_get_d(v); /* exact */
        return true;
    }
    if (bits > DBL_MAX_EXP)
        return false;
    /* Keep 54 bits plus a sticky bit, then round half-even to 53. */
    size_t shift = bits - (DBL_MANT_DIG + 1);
    mpz_t t;
    mpz_init(t);
    mpz_abs(t, v);
    bool sticky = mpz_scan1(t, 0) < shift;
    mpz_tdiv_q_2exp(t, t, shift);
    uint64_t m = mpz_get_ui(t);
    mpz_clear(t);
    bool half = m & 1;
    m >>= 1;
    if (half && (sticky || (m & 1)))
        m++;
    double d = ldexp((double)m, (int)shift + 1);
    if (isinf(d))
        return false;
    *out = mpz_sgn(v) < 0 ? -d : d;
    return true;
}

/* Port of format_long_internal. */
bool numfmt_format_int(const FormatSpec *spec, const mpz_t value,
                       const char *type_name, StrBuf *out, char *err,
                       size_t errlen) {
    Resolved r;
    if (!resolve(spec, 'd', '>', type_name, &r, err, errlen))
        return false;
    int base = 10;
    const char *prefix = "";
    switch (r.type) {
    case 'c': case 'd': case 'n':
        break;
    case 'b':
        base = 2, prefix = "0b";
        break;
    case 'o':
        base = 8, prefix = "0o";
        break;
    case 'x':
        base = 16, prefix = "0x";
        break;
    case 'X':
        base = -16, prefix = "0X"; /* GMP: negative base = upper case */
        break;
    case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': case '%': {
        double d;
        if (!numfmt_int_to_double(value, &d))
            return fail(err, errlen, "%s", overflow_msgs[0]);
        return format_double(&r, d, out, err, errlen);
    }
    default:
        return unknown_type(r.type, type_name, err, errlen);
    }
    if (r.precision != -1)
        return fail(err, errlen, "Precision not allowed in integer format specifier");
    if (r.no_neg_0)
        return fail(err, errlen, "Negative zero coercion (z) not allowed in "
                                 "integer format specifier");
    size_t mark = out->len;
    bool ok;
    if (r.type == 'c') {
        if (r.sign)
            return fail(err, errlen,
                        "Sign not allowed with integer format specifier 'c'");
        if (r.alt)
            return fail(err, errlen, "Alternate form (#) not allowed with "
                                     "integer format specifier 'c'");
        if (!mpz_fits_slong_p(value))
            return fail(err, errlen, "%s", overflow_msgs[2]);
        long x = mpz_get_si(value);
        if (x < 0 || x > 0x10FFFF)
            return fail(err, errlen, "%s", overflow_msgs[1]);
        char u[4];
        /* Lone surrogates come out as their 3-byte (WTF-8) encoding. */
        size_t n = utf8_encode((uint32_t)x, u);
        ok = emit_number(out, &r, false, "", "", 0, false, u, n, 1);
    } else {
        char *digits = malloc(mpz_sizeinbase(value, base < 0 ? -base : base) + 2);
        if (!digits)
            return nomem(err, errlen);
        mpz_get_str(digits, base, value);
        bool negative = digits[0] == '-';
        const char *d = digits + negative;
        ok = emit_number(out, &r, negative, r.alt ? prefix : "", d,
                         (int64_t)strlen(d), false, "", 0, 0);
        free(digits);
    }
    if (!ok) {
        sb_truncate(out, mark);
        return nomem(err, errlen);
    }
    return true;
}

bool numfmt_format_i64(const FormatSpec *spec, int64_t value,
                       const char *type_name, StrBuf *out, char *err,
                       size_t errlen) {
    mpz_t v;
    mpz_init_set_si(v, (long)value);
    bool ok = numfmt_format_int(spec, v, type_name, out, err, errlen);
    mpz_clear(v);
    return ok;
}

/* Port of format_string_internal. */
bool numfmt_format_str(const FormatSpec *spec, const char *utf8, size_t len,
                       const char *type_name, StrBuf *out, char *err,
                       size_t errlen) {
    Resolved r;
    if (!resolve(spec, 's', '<', type_name, &r, err, errlen))
        return false;
    if (r.type != 's')
        return unknown_type(r.type, type_name, err, errlen);
    if (r.sign == ' ')
        return fail(err, errlen, "Space not allowed in string format specifier");
    if (r.sign)
        return fail(err, errlen, "Sign not allowed in string format specifier");
    if (r.no_neg_0)
        return fail(err, errlen, "Negative zero coercion (z) not allowed in "
                                 "string format specifier");
    if (r.alt)
        return fail(err, errlen, "Alternate form (#) not allowed in string "
                                 "format specifier");
    if (r.align == '=')
        return fail(err, errlen, "'=' alignment not allowed in string format "
                                 "specifier");
    /* Count code points, stopping at the precision. */
    int64_t nchars = 0;
    size_t bytes = 0, adv;
    while (bytes < len && (r.precision < 0 || nchars < r.precision)) {
        utf8_decode(utf8 + bytes, len - bytes, &adv, NULL);
        bytes += adv;
        nchars++;
    }
    int64_t total = r.width > nchars ? r.width : nchars;
    int64_t lpad = r.align == '>' ? total - nchars
                   : r.align == '^' ? (total - nchars) / 2
                                    : 0;
    size_t mark = out->len;
    if (append_fill(out, &r, lpad) && sb_append(out, utf8, bytes) &&
        append_fill(out, &r, total - nchars - lpad))
        return true;
    sb_truncate(out, mark);
    return nomem(err, errlen);
}

/* ---- parsing ----------------------------------------------------------- */

static int digit_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    return 99;
}

enum { PARSE_OK, PARSE_BAD, PARSE_NOMEM };

/* Port of PyLong_FromString's syntax. */
static int parse_int_core(const char *s, size_t len, int base, mpz_t out) {
    const char *p = s, *end = s + len;
    strip_spaces(&p, &end);
    bool negative = false, error_if_nonzero = false;
    if (p < end && (*p == '+' || *p == '-'))
        negative = *p++ == '-';
    char c1 = end - p >= 2 ? p[1] | 0x20 : 0; /* lower-cased prefix letter */
    if (base == 0) {
        if (p == end || *p != '0')
            base = 10;
        else if (c1 == 'x')
            base = 16;
        else if (c1 == 'o')
            base = 8;
        else if (c1 == 'b')
            base = 2;
        else { /* old C-style octal: only zero is allowed */
            error_if_nonzero = true;
            base = 10;
        }
    }
    if (p < end && *p == '0' &&
        ((base == 16 && c1 == 'x') || (base == 8 && c1 == 'o') ||
         (base == 2 && c1 == 'b'))) {
        p += 2;
        if (p < end && *p == '_') /* one underscore allowed here */
            p++;
    }
    if (p < end && *p == '_')
        return PARSE_BAD;

    /* Copy the digits without underscores for mpz_set_str. */
    char small[64], *buf = (size_t)(end - p) < sizeof small ? small
                                                            : malloc((size_t)(end - p) + 1);
    if (!buf)
        return PARSE_NOMEM;
    size_t n = 0;
    char prev = 0;
    for (; p < end; prev = *p++) {
        if (*p == '_') {
            if (prev == '_')
                break;
        } else if (digit_value(*p) < base) {
            buf[n++] = *p;
        } else {
            break;
        }
    }
    buf[n] = '\0';
    int rc = PARSE_BAD;
    if (p == end && prev != '_' && n > 0 &&
        (!error_if_nonzero || strspn(buf, "0") == n)) {
        mpz_set_str(out, buf, base);
        if (negative)
            mpz_neg(out, out);
        rc = PARSE_OK;
    }
    if (buf != small)
        free(buf);
    return rc;
}

/* Appends repr(s), cut to at most max_chars code points (CPython's
 * "%.200R"; max_chars 0 = no limit). */
static bool append_repr(StrBuf *sb, const char *s, size_t len,
                        size_t max_chars) {
    size_t mark = sb->len;
    if (!numfmt_repr_str(s, len, sb))
        return false;
    if (max_chars) {
        size_t i = mark, chars = 0;
        while (i < sb->len && chars < max_chars) {
            size_t adv;
            utf8_decode(sb->data + i, sb->len - i, &adv, NULL);
            i += adv;
            chars++;
        }
        sb_truncate(sb, i);
    }
    return true;
}

/* Writes "<prefix><repr(s)>" to err. */
static bool fail_with_repr(char *err, size_t errlen, const char *prefix,
                           const char *s, size_t len, size_t max_chars) {
    StrBuf sb;
    sb_init(&sb);
    if (!sb_append_cstr(&sb, prefix) || !append_repr(&sb, s, len, max_chars)) {
        sb_free(&sb);
        return nomem(err, errlen);
    }
    fail(err, errlen, "%s", sb.data);
    sb_free(&sb);
    return false;
}

bool numfmt_parse_int(const char *s, size_t len, int base, mpz_t out,
                      char *err, size_t errlen) {
    if ((base != 0 && base < 2) || base > 36)
        return fail(err, errlen, "int() base must be >= 2 and <= 36, or 0");
    int rc = parse_int_core(s, len, base, out);
    if (rc == PARSE_OK)
        return true;
    if (rc == PARSE_NOMEM)
        return nomem(err, errlen);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "invalid literal for int() with base %d: ",
             base);
    return fail_with_repr(err, errlen, prefix, s, len, 200);
}

bool numfmt_parse_int_literal(const char *text, size_t len, int base,
                              mpz_t out) {
    return parse_int_core(text, len, base, out) == PARSE_OK;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static bool match_nocase(const char *p, const char *end, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(end - p) < n)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((p[i] | 0x20) != word[i])
            return false;
    return true;
}

enum { FLOAT_BAD, FLOAT_DECIMAL, FLOAT_SPECIAL };

/* Checks p (underscores removed) against Python's float syntax.  inf and
 * nan are decoded here into *special: strtod would also take forms Python
 * rejects ("nan(...)", hex). */
static int float_syntax(const char *p, const char *end, double *special) {
    bool negative = false;
    if (p < end && (*p == '+' || *p == '-'))
        negative = *p++ == '-';
    if (match_nocase(p, end, "inf")) {
        p += 3;
        if (match_nocase(p, end, "inity"))
            p += 5;
        *special = negative ? -HUGE_VAL : HUGE_VAL;
        return p == end ? FLOAT_SPECIAL : FLOAT_BAD;
    }
    if (match_nocase(p, end, "nan")) {
        *special = negative ? -NAN : NAN;
        return p + 3 == end ? FLOAT_SPECIAL : FLOAT_BAD;
    }
    size_t ndig = 0;
    for (; p < end && is_digit(*p); p++)
        ndig++;
    if (p < end && *p == '.')
        for (p++; p < end && is_digit(*p); p++)
            ndig++;
    if (ndig == 0)
        return FLOAT_BAD;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p == end || !is_digit(*p))
            return FLOAT_BAD;
        while (p < end && is_digit(*p))
            p++;
    }
    return p == end ? FLOAT_DECIMAL : FLOAT_BAD;
}

static int parse_float_core(const char *s, size_t len, double *out) {
    const char *p = s, *end = s + len;
    strip_spaces(&p, &end);
    size_t n = (size_t)(end - p);
    char small[64], *buf = n < sizeof small ? small : malloc(n + 1);
    if (!buf)
        return PARSE_NOMEM;
    /* Underscores only between digits. */
    size_t k = 0;
    int rc = PARSE_BAD;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '_')
            buf[k++] = p[i];
        else if (i == 0 || !is_digit(p[i - 1]) || i + 1 == n || !is_digit(p[i + 1]))
            goto done;
    }
    buf[k] = '\0';
    double special;
    switch (float_syntax(buf, buf + k, &special)) {
    case FLOAT_DECIMAL:
        *out = strtod(buf, NULL);
        rc = PARSE_OK;
        break;
    case FLOAT_SPECIAL:
        *out = special;
        rc = PARSE_OK;
        break;
    }
done:
    if (buf != small)
        free(buf);
    return rc;
}

bool numfmt_parse_float(const char *s, size_t len, double *out, char *err,
                        size_t errlen) {
    int rc = parse_float_core(s, len, out);
    if (rc == PARSE_OK)
        return true;
    if (rc == PARSE_NOMEM)
        return nomem(err, errlen);
    return fail_with_repr(err, errlen, "could not convert string to float: ", s,
                          len, 0);
}

/* ---- round() ------------------------------------------------------------ */

bool numfmt_round_double(double x, int ndigits, double *out) {
    /* Beyond these bounds x rounds to itself or to +-0 (CPython's
     * NDIGITS_MAX/NDIGITS_MIN). */
    if (!isfinite(x) || ndigits > (int)((DBL_MANT_DIG - DBL_MIN_EXP) * 0.30103)) {
        *out = x;
        return true;
    }
    if (ndigits < -(int)((DBL_MAX_EXP + 1) * 0.30103)) {
        *out = 0.0 * x;
        return true;
    }
    if (ndigits >= 0) {
        /* Correctly rounded decimal string, read back correctly rounded. */
        char buf[DIGBUF];
        snprintf(buf, sizeof buf, "%.*f", ndigits, x);
        *out = strtod(buf, NULL);
        return true;
    }
    /* Round |x| to a multiple of 10**-ndigits, half-even, exactly: only
     * the integer part matters, except that a fraction breaks a tie. */
    double ax = fabs(x), ip = trunc(ax);
    mpz_t n, q, unit;
    mpz_inits(n, q, unit, NULL);
    mpz_set_d(n, ip);
    mpz_ui_pow_ui(unit, 10, (unsigned long)-ndigits);
    mpz_tdiv_qr(q, n, n, unit);
    mpz_mul_2exp(n, n, 1);
    int c = mpz_cmp(n, unit);
    if (c > 0 || (c == 0 && (ax > ip || mpz_odd_p(q))))
        mpz_add_ui(q, q, 1);
    mpz_mul(q, q, unit);
    double r;
    bool ok = numfmt_int_to_double(q, &r);
    mpz_clears(n, q, unit, NULL);
    if (ok)
        *out = signbit(x) ? -r : r;
    return ok;
}
