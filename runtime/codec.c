/* Text encodings: see codec.h. mini's str is valid UTF-8, so encoding to
 * UTF-8 is a copy and decoding from it a validation; ascii and latin-1 map
 * code points 0..127 and 0..255 to single bytes. */
#include "runtime/codec.h"

#include <ctype.h>
#include <string.h>

#include "runtime/args.h"
#include "runtime/bytes.h"
#include "runtime/error.h"
#include "runtime/int.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/strbuf.h"
#include "runtime/tuple.h"
#include "vm/interp.h"

#define EXC(ts) (&(ts)->interp->exc)

typedef enum Codec { CODEC_UTF8, CODEC_ASCII, CODEC_LATIN1, CODEC_UTF8_SIG } Codec;
typedef enum Handler { H_STRICT, H_IGNORE, H_REPLACE, H_BACKSLASH, H_XMLCHARREF, H_UNKNOWN } Handler;

/* As error messages name them (utf-8-sig reports as utf-8, as CPython). */
static const char *const codec_names[] = {"utf-8", "ascii", "latin-1", "utf-8"};

/* CPython's normalisation: lower case, '-' and ' ' as '_'. */
static bool lookup_codec(TState *ts, Value encoding, Codec *out, const char *fname) {
    if (IS_EMPTY(encoding)) {
        *out = CODEC_UTF8;
        return true;
    }
    if (!IS_STR(encoding)) {
        err_format(ts, EXC(ts)->TypeError, "%s() argument 'encoding' must be str, not %s", fname,
                   IS_NONE(encoding) ? "None" : ops_type_name(ts, encoding));
        return false;
    }
    ObjStr *e = AS_STR(encoding);
    char n[32];
    size_t len = e->len < sizeof n - 1 ? e->len : sizeof n - 1;
    for (size_t i = 0; i < len; i++) {
        char c = (char)tolower((unsigned char)e->data[i]);
        n[i] = c == '-' || c == ' ' ? '_' : c;
    }
    n[len] = '\0';
    static const struct {
        const char *name;
        Codec codec;
    } aliases[] = {
        {"utf_8", CODEC_UTF8},       {"utf8", CODEC_UTF8},          {"u8", CODEC_UTF8},
        {"utf", CODEC_UTF8},         {"cp65001", CODEC_UTF8},       {"ascii", CODEC_ASCII},
        {"us_ascii", CODEC_ASCII},   {"646", CODEC_ASCII},          {"us", CODEC_ASCII},
        {"latin_1", CODEC_LATIN1},   {"latin1", CODEC_LATIN1},      {"latin", CODEC_LATIN1},
        {"iso_8859_1", CODEC_LATIN1}, {"iso8859_1", CODEC_LATIN1},  {"8859", CODEC_LATIN1},
        {"cp819", CODEC_LATIN1},     {"l1", CODEC_LATIN1},          {"iso_ir_100", CODEC_LATIN1},
        {"utf_8_sig", CODEC_UTF8_SIG}, {"utf8_sig", CODEC_UTF8_SIG},
    };
    if (e->len < sizeof n)
        for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
            if (strcmp(n, aliases[i].name) == 0) {
                *out = aliases[i].codec;
                return true;
            }
    err_format(ts, EXC(ts)->LookupError, "unknown encoding: %s", e->data);
    return false;
}

static bool lookup_handler(TState *ts, Value errors, Handler *out, const char *fname) {
    *out = H_STRICT;
    if (IS_EMPTY(errors)) return true;
    if (!IS_STR(errors)) {
        err_format(ts, EXC(ts)->TypeError, "%s() argument 'errors' must be str, not %s", fname,
                   IS_NONE(errors) ? "None" : ops_type_name(ts, errors));
        return false;
    }
    static const char *const names[] = {"strict", "ignore", "replace", "backslashreplace", "xmlcharrefreplace"};
    *out = H_UNKNOWN;
    for (int i = 0; i < 5; i++)
        if (strcmp(AS_STR(errors)->data, names[i]) == 0) *out = (Handler)i;
    return true;
}

/* An unknown handler is an error only once it is needed, as CPython. */
static bool handler_usable(TState *ts, Handler h, Value errors, bool decoding) {
    if (h == H_UNKNOWN || (decoding && h == H_XMLCHARREF)) {
        if (h == H_XMLCHARREF)
            err_set_str(ts, EXC(ts)->TypeError, "don't know how to handle UnicodeDecodeError in error callback");
        else
            err_format(ts, EXC(ts)->LookupError, "unknown error handler name '%s'", AS_STR(errors)->data);
        return false;
    }
    return true;
}

/* Raises UnicodeEncodeError / UnicodeDecodeError with CPython's message
 * and attributes. */
static void raise_unicode(TState *ts, bool decoding, Codec codec, Value object, size_t start, size_t end,
                          const char *reason, uint32_t what) {
    ObjStr *msg;
    const char *name = codec_names[codec];
    if (decoding) {
        msg = end - start == 1 ? str_printf(ts, "'%s' codec can't decode byte 0x%02x in position %zu: %s", name,
                                            (unsigned)what, start, reason)
                               : str_printf(ts, "'%s' codec can't decode bytes in position %zu-%zu: %s", name,
                                            start, end - 1, reason);
    } else if (end - start == 1) {
        msg = what < 0x100     ? str_printf(ts, "'%s' codec can't encode character '\\x%02x' in position %zu: %s",
                                            name, (unsigned)what, start, reason)
              : what < 0x10000 ? str_printf(ts, "'%s' codec can't encode character '\\u%04x' in position %zu: %s",
                                            name, (unsigned)what, start, reason)
                               : str_printf(ts, "'%s' codec can't encode character '\\U%08x' in position %zu: %s",
                                            name, (unsigned)what, start, reason);
    } else {
        msg = str_printf(ts, "'%s' codec can't encode characters in position %zu-%zu: %s", name, start, end - 1,
                         reason);
    }
    if (!msg) return;
    ObjType *type = decoding ? EXC(ts)->UnicodeDecodeError : EXC(ts)->UnicodeEncodeError;
    Value exc = exc_new(ts, type, (Value[]){OBJ_VAL(msg)}, 1);
    if (IS_ERROR(exc)) return;
    ObjStr *enc = str_from_cstr(ts, name), *why = str_from_cstr(ts, reason);
    if (!enc || !why || ops_setattr(ts, exc, str_intern_cstr(ts, "encoding"), OBJ_VAL(enc)) < 0 ||
        ops_setattr(ts, exc, str_intern_cstr(ts, "object"), object) < 0 ||
        ops_setattr(ts, exc, str_intern_cstr(ts, "start"), INT_VAL((int64_t)start)) < 0 ||
        ops_setattr(ts, exc, str_intern_cstr(ts, "end"), INT_VAL((int64_t)end)) < 0 ||
        ops_setattr(ts, exc, str_intern_cstr(ts, "reason"), OBJ_VAL(why)) < 0)
        return;
    err_raise(ts, exc);
}

static bool append_escape(StrBuf *sb, uint32_t cp, Handler h) {
    char tmp[16];
    if (h == H_XMLCHARREF) snprintf(tmp, sizeof tmp, "&#%u;", (unsigned)cp);
    else if (cp < 0x100) snprintf(tmp, sizeof tmp, "\\x%02x", (unsigned)cp);
    else if (cp < 0x10000) snprintf(tmp, sizeof tmp, "\\u%04x", (unsigned)cp);
    else snprintf(tmp, sizeof tmp, "\\U%08x", (unsigned)cp);
    return sb_append_cstr(sb, tmp);
}

Value codec_encode(TState *ts, ObjStr *s, Value encoding, Value errors) {
    Codec codec;
    Handler h;
    if (!lookup_codec(ts, encoding, &codec, "encode") || !lookup_handler(ts, errors, &h, "encode")) return ERROR_VAL;
    if (codec == CODEC_UTF8_SIG) {
        ObjBytes *b = bytes_alloc(ts, s->len + 3);
        if (!b) return ERROR_VAL;
        memcpy(b->data, "\xEF\xBB\xBF", 3);
        memcpy(b->data + 3, s->data, s->len);
        return OBJ_VAL(b);
    }
    if (codec == CODEC_UTF8 || STR_IS_ASCII(s)) {
        ObjBytes *b = bytes_new(ts, s->data, s->len);
        return b ? OBJ_VAL(b) : ERROR_VAL;
    }
    uint32_t limit = codec == CODEC_ASCII ? 0x80 : 0x100;
    StrBuf sb;
    sb_init(&sb);
    bool ok = sb_reserve(&sb, s->nchars);
    size_t off = 0, pos = 0;
    while (ok && off < s->len) {
        size_t n;
        uint32_t cp = str_utf8_decode(s->data + off, s->len - off, &n);
        if (cp < limit) {
            ok = sb_append_char(&sb, (char)cp);
            off += n;
            pos++;
            continue;
        }
        if (!handler_usable(ts, h, errors, false)) {
            sb_free(&sb);
            return ERROR_VAL;
        }
        if (h == H_STRICT) {
            /* The error covers the whole run of unencodable characters. */
            size_t end = pos, o = off;
            while (o < s->len) {
                size_t m;
                if (str_utf8_decode(s->data + o, s->len - o, &m) < limit) break;
                o += m;
                end++;
            }
            sb_free(&sb);
            raise_unicode(ts, false, codec, OBJ_VAL(s), pos, end,
                          codec == CODEC_ASCII ? "ordinal not in range(128)" : "ordinal not in range(256)", cp);
            return ERROR_VAL;
        }
        if (h == H_REPLACE) ok = sb_append_char(&sb, '?');
        else if (h != H_IGNORE) ok = append_escape(&sb, cp, h);
        off += n;
        pos++;
    }
    ObjBytes *b = ok ? bytes_new(ts, sb.data ? sb.data : "", sb.len) : NULL;
    if (!ok) err_no_memory(ts);
    sb_free(&sb);
    return b ? OBJ_VAL(b) : ERROR_VAL;
}

/* The length of the valid UTF-8 sequence at p, or 0: then *bad is how
 * many bytes the error covers (CPython's: the start byte and the valid
 * continuation bytes after it; all that is left at the end of data). */
static size_t utf8_sequence(const unsigned char *p, size_t n, size_t *bad, const char **reason) {
    unsigned char c = p[0];
    if (c < 0x80) return 1;
    if (c < 0xC2 || c > 0xF4) {
        *bad = 1;
        *reason = "invalid start byte";
        return 0;
    }
    size_t need = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    unsigned char lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
    unsigned char hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
    for (size_t k = 1; k < need; k++) {
        if (k >= n) {
            *bad = n;
            *reason = "unexpected end of data";
            return 0;
        }
        if (p[k] < (k == 1 ? lo : 0x80) || p[k] > (k == 1 ? hi : 0xBF)) {
            *bad = k;
            *reason = "invalid continuation byte";
            return 0;
        }
    }
    return need;
}

Value codec_decode(TState *ts, const char *data, size_t len, Value encoding, Value errors) {
    Codec codec;
    Handler h;
    if (!lookup_codec(ts, encoding, &codec, "decode") || !lookup_handler(ts, errors, &h, "decode")) return ERROR_VAL;
    if (codec == CODEC_UTF8_SIG) {
        /* A leading byte order mark is dropped; the rest is UTF-8. */
        if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) data += 3, len -= 3;
        codec = CODEC_UTF8;
    }
    const unsigned char *p = (const unsigned char *)data;
    if (codec == CODEC_UTF8 && str_utf8_valid(data, len)) {
        ObjStr *s = str_new(ts, data, len);
        return s ? OBJ_VAL(s) : ERROR_VAL;
    }
    StrBuf sb;
    sb_init(&sb);
    bool ok = sb_reserve(&sb, len);
    size_t i = 0;
    while (ok && i < len) {
        size_t bad = 1, n = 1;
        const char *reason = "ordinal not in range(128)";
        if (codec == CODEC_LATIN1) {
            char out[4];
            ok = sb_append(&sb, out, str_utf8_encode(p[i], out));
            i++;
            continue;
        }
        n = codec == CODEC_UTF8 ? utf8_sequence(p + i, len - i, &bad, &reason) : p[i] < 0x80;
        if (n) {
            ok = sb_append(&sb, data + i, n);
            i += n;
            continue;
        }
        if (!handler_usable(ts, h, errors, true)) {
            sb_free(&sb);
            return ERROR_VAL;
        }
        if (h == H_STRICT) {
            sb_free(&sb);
            ObjBytes *obj = bytes_new(ts, data, len);
            if (obj) raise_unicode(ts, true, codec, OBJ_VAL(obj), i, i + bad, reason, p[i]);
            return ERROR_VAL;
        }
        if (h == H_REPLACE) ok = sb_append_cstr(&sb, "\xEF\xBF\xBD");
        else if (h == H_BACKSLASH)
            for (size_t k = 0; ok && k < bad; k++) ok = append_escape(&sb, p[i + k], h);
        i += bad;
    }
    if (!ok) {
        sb_free(&sb);
        return err_no_memory(ts);
    }
    ObjStr *s = str_from_sb(ts, &sb);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

Value codec_str_encode(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"encoding", "errors"};
    Value a[2];
    if (!args_bind(ts, "encode", args + 1, nargs - 1, kwnames, names, 2, 0, 2, a)) return ERROR_VAL;
    return codec_encode(ts, AS_STR(args[0]), a[0], a[1]);
}
