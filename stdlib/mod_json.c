/* The _json module: the scanner and the encoder under stdlib/json/ (the
 * Python-level half, as CPython's json package over its _json), with
 * CPython 3.11's results, messages and error positions.
 *
 * - Scanner (`make_scanner(context)`): reads the decoder's hooks once
 *   (strict, object_hook, object_pairs_hook, parse_float, parse_int,
 *   parse_constant); called as scanner(string, idx) it returns
 *   (value, end) or raises StopIteration(idx) when no value starts at idx,
 *   which JSONDecoder.raw_decode turns into "Expecting value". Every other
 *   malformed input raises json.decoder.JSONDecodeError(msg, doc, pos).
 * - scanstring(s, end, strict=True): one string literal, as json.decoder's.
 * - Encoder (`make_encoder(markers, default, encoder, indent,
 *   key_separator, item_separator, sort_keys, skipkeys, allow_nan)`):
 *   called as encoder(obj, indent_level) it returns a 1-tuple holding the
 *   whole document (CPython returns its chunks; JSONEncoder joins either).
 *   Unlike CPython 3.11's it also does `indent`.
 * - encode_basestring / encode_basestring_ascii: a str as a JSON literal.
 *
 * The scanner works on the string's UTF-8 bytes: every byte JSON's syntax
 * looks at is ASCII, and the bytes of a non-ASCII code point are all 0x80
 * or above. Indices crossing the Python interface count code points, so
 * offsets are converted where they enter and leave (free for ASCII
 * strings). Keys go through a memo, as CPython's: one str per distinct key
 * of a document. The encoder's circular-reference check (when markers is
 * not None) is a stack of the containers being encoded, not the markers
 * dict itself.
 *
 * Nesting recurses in C. Both halves count the levels against the
 * recursion limit, as CPython does (RecursionError "maximum recursion
 * depth exceeded while decoding a JSON array from a unicode string"), and
 * never beyond MINI_JSON_MAX_DEPTH levels, which bounds the C stack.
 * Containers under construction and objects being encoded are rooted on
 * the VM stack while hooks, default() or a custom string encoder (mini
 * code) run. */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/args.h"
#include "runtime/class.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/function.h"
#include "runtime/int.h"
#include "runtime/float.h"
#include "runtime/list.h"
#include "runtime/module.h"
#include "runtime/numfmt.h"
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
#include "vm/vm.h"

#define EXC(ts) (&(ts)->interp->exc)

/* Levels of nesting a scan or an encoding may still open: what the
 * recursion limit leaves above the running frames, at most
 * MINI_JSON_MAX_DEPTH. */
static int depth_allowed(TState *ts) {
    int left = atomic_load_explicit(&ts->interp->recursion_limit, memory_order_relaxed) - ts->frame_count;
    return left < MINI_JSON_MAX_DEPTH ? left : MINI_JSON_MAX_DEPTH;
}

static bool no_memory(TState *ts) {
    err_no_memory(ts);
    return false;
}

/* ---- positions ---------------------------------------------------------- */

/* The code point index of byte offset off of s. */
static size_t char_index(const ObjStr *s, size_t off) {
    /* (size_t)-1, the quote before scanstring(s, 0)'s start, stays -1. */
    if (STR_IS_ASCII(s) || off > s->len) return off;
    size_t n = 0;
    for (size_t i = 0; i < off; i++) n += ((unsigned char)s->data[i] & 0xC0) != 0x80;
    return n;
}

/* The byte offset of code point index idx (idx <= nchars). */
static size_t byte_offset(const ObjStr *s, size_t idx) {
    return STR_IS_ASCII(s) ? idx : str_byte_offset(s, idx);
}

/* ---- errors --------------------------------------------------------------- */

/* Raises json.decoder.JSONDecodeError(msg, doc, pos) (a ValueError with
 * the same text if json.decoder is not loaded). */
static Value decode_error(TState *ts, const char *msg, ObjStr *doc, size_t off) {
    size_t pos = char_index(doc, off);
    Value cls = module_attr(ts, "json.decoder", "JSONDecodeError");
    if (IS_ERROR(cls)) return cls;
    if (!IS_TYPE(cls)) return err_format(ts, EXC(ts)->ValueError, "%s: char %zu", msg, pos);
    ObjStr *ms = str_from_cstr(ts, msg);
    if (!ms) return ERROR_VAL;
    Value args[3] = {OBJ_VAL(ms), OBJ_VAL(doc), INT_VAL((int64_t)pos)};
    Value exc = vm_call(ts, cls, args, 3, NULL);
    return IS_ERROR(exc) ? exc : err_raise(ts, exc);
}

static Value stop_iteration(TState *ts, ObjStr *doc, size_t off) {
    return err_set_value(ts, EXC(ts)->StopIteration, INT_VAL((int64_t)char_index(doc, off)));
}

/* ---- the scanner ------------------------------------------------------------ */

typedef struct ObjScanner {
    Obj obj;
    bool strict;
    Value object_hook, object_pairs_hook, parse_float, parse_int, parse_constant;
} ObjScanner;

/* The keys one scan has made, by their bytes: a key met again is the same
 * str (CPython's memo), so a document of many records holds one copy of
 * each key and allocates it once. An open-addressed table of strs that the
 * list `keep` (on the VM stack) keeps alive while hooks run. */
typedef struct KeyMemo {
    ObjStr **slots;
    size_t cap, count; /* cap: 0 or a power of two */
    ObjList *keep;
} KeyMemo;

typedef struct Scan {
    TState *ts;
    ObjScanner *sc;
    ObjStr *doc;
    const char *p;
    size_t n;        /* bytes */
    int depth_left;
    KeyMemo memo;
} Scan;

#define IS_WS(c) ((c) == ' ' || (c) == '\t' || (c) == '\n' || (c) == '\r')
#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')

static size_t skip_ws(const Scan *s, size_t i) {
    while (i < s->n && IS_WS(s->p[i])) i++;
    return i;
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Four hex digits at p, or -1. */
static int32_t hex4(const char *p) {
    int32_t v = 0;
    for (int k = 0; k < 4; k++) {
        int d = hex_value(p[k]);
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

/* The string literal whose opening quote is at begin - 1 of doc's bytes
 * p[0..n); *end gets the offset after its closing quote. */
static Value scan_string(TState *ts, ObjStr *doc, const char *p, size_t n, size_t begin, bool strict,
                         size_t *end) {
    size_t i = begin;
    while (i < n && p[i] != '"' && p[i] != '\\' && (unsigned char)p[i] >= 0x20) i++;
    if (i < n && p[i] == '"') {
        *end = i + 1;
        ObjStr *r = str_new(ts, p + begin, i - begin);
        return r ? OBJ_VAL(r) : ERROR_VAL;
    }
    StrBuf sb;
    sb_init(&sb);
    size_t chunk = begin;
    for (;;) {
        while (i < n && p[i] != '"' && p[i] != '\\') {
            if ((unsigned char)p[i] < 0x20 && strict) {
                sb_free(&sb);
                return decode_error(ts, "Invalid control character at", doc, i);
            }
            i++;
        }
        if (!sb_append(&sb, p + chunk, i - chunk)) goto nomem;
        if (i >= n) {
            sb_free(&sb);
            return decode_error(ts, "Unterminated string starting at", doc, begin - 1);
        }
        if (p[i] == '"') break;
        if (++i >= n) { /* a backslash ends the document */
            sb_free(&sb);
            return decode_error(ts, "Unterminated string starting at", doc, begin - 1);
        }
        char c = p[i];
        if (c != 'u') {
            switch (c) {
            case '"': case '\\': case '/': break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            default:
                sb_free(&sb);
                return decode_error(ts, "Invalid \\escape", doc, i - 1);
            }
            if (!sb_append_char(&sb, c)) goto nomem;
            chunk = ++i;
            continue;
        }
        /* \uXXXX: CPython wants a character after the four digits (the
         * closing quote at least), and reports the position of the 'u'. */
        size_t u = i++;
        int32_t cp = i + 4 < n ? hex4(p + i) : -1;
        if (cp < 0) {
            sb_free(&sb);
            return decode_error(ts, "Invalid \\uXXXX escape", doc, u);
        }
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < n && p[i] == '\\' && p[i + 1] == 'u') {
            int32_t lo = hex4(p + i + 2);
            if (lo < 0) {
                sb_free(&sb);
                return decode_error(ts, "Invalid \\uXXXX escape", doc, i + 1);
            }
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            }
        }
        char buf[4];
        if (!sb_append(&sb, buf, str_utf8_encode((uint32_t)cp, buf))) goto nomem;
        chunk = i;
    }
    *end = i + 1;
    ObjStr *r = str_from_sb(ts, &sb);
    return r ? OBJ_VAL(r) : ERROR_VAL;
nomem:
    sb_free(&sb);
    return err_no_memory(ts);
}

static Value scan_value(Scan *s, size_t i, size_t *end);

static bool memo_grow(KeyMemo *m) {
    size_t cap = m->cap ? m->cap * 2 : 64;
    ObjStr **slots = calloc(cap, sizeof *slots);
    if (!slots) return false;
    for (size_t k = 0; k < m->cap; k++) {
        ObjStr *key = m->slots[k];
        if (!key) continue;
        size_t j = (size_t)key->hash & (cap - 1);
        while (slots[j]) j = (j + 1) & (cap - 1);
        slots[j] = key;
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return true;
}

/* A key whose opening quote is at begin - 1, through the memo: made once
 * per distinct text (a key with escapes is decoded first). */
static Value scan_key(Scan *s, size_t begin, size_t *end) {
    const char *p = s->p, *text = p + begin;
    size_t i = begin;
    while (i < s->n && p[i] != '"' && p[i] != '\\' && (unsigned char)p[i] >= 0x20) i++;
    Value decoded = EMPTY_VAL;
    size_t len = i - begin;
    if (i < s->n && p[i] == '"') {
        *end = i + 1;
    } else {
        decoded = scan_string(s->ts, s->doc, p, s->n, begin, s->sc->strict, end);
        if (IS_ERROR(decoded)) return decoded;
        text = AS_STR(decoded)->data;
        len = AS_STR(decoded)->len;
    }
    KeyMemo *m = &s->memo;
    if (2 * (m->count + 1) > m->cap && !memo_grow(m)) return err_no_memory(s->ts);
    int64_t h = str_hash_bytes(text, len);
    size_t j = (size_t)h & (m->cap - 1);
    for (ObjStr *k; (k = m->slots[j]); j = (j + 1) & (m->cap - 1))
        if (k->hash == h && k->len == len && memcmp(k->data, text, len) == 0) return OBJ_VAL(k);
    ObjStr *key = IS_EMPTY(decoded) ? str_new(s->ts, text, len) : AS_STR(decoded);
    if (!key || list_append(s->ts, m->keep, OBJ_VAL(key)) < 0) return ERROR_VAL;
    m->slots[j] = key;
    m->count++;
    return OBJ_VAL(key);
}

static bool enter_level(Scan *s, const char *what) {
    if (--s->depth_left >= 0) return true;
    s->depth_left++;
    err_format(s->ts, EXC(s->ts)->RecursionError,
               "maximum recursion depth exceeded while decoding a JSON %s from a unicode string", what);
    return false;
}

static Value call1(TState *ts, Value fn, Value arg) { return vm_call(ts, fn, &arg, 1, NULL); }

/* The object whose '{' is at i - 1. */
static Value scan_object(Scan *s, size_t i, size_t *end) {
    TState *ts = s->ts;
    if (!enter_level(s, "object")) return ERROR_VAL;
    bool pairs = !IS_NONE(s->sc->object_pairs_hook);
    Obj *acc = pairs ? (Obj *)list_new(ts, 0) : (Obj *)dict_new(ts);
    if (!acc) {
        s->depth_left++;
        return ERROR_VAL;
    }
    vm_push(ts, OBJ_VAL(acc));
    Value r = ERROR_VAL;
    i = skip_ws(s, i);
    if (i >= s->n || s->p[i] != '}') {
        for (;;) {
            if (i >= s->n || s->p[i] != '"') {
                decode_error(ts, "Expecting property name enclosed in double quotes", s->doc, i);
                goto done;
            }
            Value key = scan_key(s, i + 1, &i);
            if (IS_ERROR(key)) goto done;
            i = skip_ws(s, i);
            if (i >= s->n || s->p[i] != ':') {
                decode_error(ts, "Expecting ':' delimiter", s->doc, i);
                goto done;
            }
            i = skip_ws(s, i + 1);
            vm_push(ts, key);
            Value val = scan_value(s, i, &i);
            vm_pop(ts);
            if (IS_ERROR(val)) goto done;
            if (pairs) {
                ObjTuple *t = tuple_pack2(ts, key, val);
                if (!t || list_append(ts, (ObjList *)acc, OBJ_VAL(t)) < 0) goto done;
            } else if (dict_set(ts, (ObjDict *)acc, key, val) < 0) {
                goto done;
            }
            i = skip_ws(s, i);
            if (i < s->n && s->p[i] == '}') break;
            if (i >= s->n || s->p[i] != ',') {
                decode_error(ts, "Expecting ',' delimiter", s->doc, i);
                goto done;
            }
            i = skip_ws(s, i + 1);
        }
    }
    *end = i + 1;
    r = OBJ_VAL(acc);
    if (pairs) r = call1(ts, s->sc->object_pairs_hook, r);
    else if (!IS_NONE(s->sc->object_hook)) r = call1(ts, s->sc->object_hook, r);
done:
    vm_pop(ts);
    s->depth_left++;
    return r;
}

/* The array whose '[' is at i - 1. */
static Value scan_array(Scan *s, size_t i, size_t *end) {
    TState *ts = s->ts;
    if (!enter_level(s, "array")) return ERROR_VAL;
    ObjList *l = list_new(ts, 0);
    if (!l) {
        s->depth_left++;
        return ERROR_VAL;
    }
    vm_push(ts, OBJ_VAL(l));
    Value r = ERROR_VAL;
    i = skip_ws(s, i);
    if (i >= s->n || s->p[i] != ']') {
        for (;;) {
            Value v = scan_value(s, i, &i);
            if (IS_ERROR(v) || list_append(ts, l, v) < 0) goto done;
            i = skip_ws(s, i);
            if (i < s->n && s->p[i] == ']') break;
            if (i >= s->n || s->p[i] != ',') {
                decode_error(ts, "Expecting ',' delimiter", s->doc, i);
                goto done;
            }
            i = skip_ws(s, i + 1);
        }
    }
    *end = i + 1;
    r = OBJ_VAL(l);
done:
    vm_pop(ts);
    s->depth_left++;
    return r;
}

static bool is_type(Value v, ObjType *t) {
    return IS_OBJ(v) && AS_OBJ(v) == &t->obj;
}

/* A number at i (CPython's grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?,
 * where a fraction or exponent without digits is left unread). */
static Value scan_number(Scan *s, size_t start, size_t *end) {
    TState *ts = s->ts;
    const char *p = s->p;
    size_t n = s->n, i = start;
    if (p[i] == '-' && ++i >= n) return stop_iteration(ts, s->doc, start);
    if (p[i] >= '1' && p[i] <= '9') {
        while (++i < n && IS_DIGIT(p[i])) {}
    } else if (p[i] == '0') {
        i++;
    } else {
        return stop_iteration(ts, s->doc, start);
    }
    bool is_float = false;
    if (i + 1 < n && p[i] == '.' && IS_DIGIT(p[i + 1])) {
        is_float = true;
        i += 2;
        while (i < n && IS_DIGIT(p[i])) i++;
    }
    if (i + 1 < n && (p[i] == 'e' || p[i] == 'E')) {
        size_t e = i++;
        if (i + 1 < n && (p[i] == '-' || p[i] == '+')) i++;
        while (i < n && IS_DIGIT(p[i])) i++;
        if (IS_DIGIT(p[i - 1])) is_float = true;
        else i = e;
    }
    *end = i;
    size_t len = i - start;
    Value hook = is_float ? s->sc->parse_float : s->sc->parse_int;
    if (!is_type(hook, is_float ? ts->interp->types.float_ : ts->interp->types.int_)) {
        ObjStr *text = str_new(ts, p + start, len);
        return text ? call1(ts, hook, OBJ_VAL(text)) : ERROR_VAL;
    }
    if (is_float) {
        char small[64];
        char *buf = len < sizeof small ? small : malloc(len + 1);
        if (!buf) return err_no_memory(ts);
        memcpy(buf, p + start, len);
        buf[len] = '\0';
        double d = strtod(buf, NULL);
        if (buf != small) free(buf);
        return FLOAT_VAL(d);
    }
    bool neg = p[start] == '-';
    size_t ndig = len - neg;
    if (ndig <= 18) {
        int64_t v = 0;
        for (size_t k = start + neg; k < i; k++) v = v * 10 + (p[k] - '0');
        return int_from_i64(ts, neg ? -v : v);
    }
    /* int(text): CPython's limit on the digits of a decimal conversion. */
    ObjStr *text = str_new(ts, p + start, len);
    return text ? int_new_value(ts, OBJ_VAL(text), EMPTY_VAL) : ERROR_VAL;
}

static Value scan_constant(Scan *s, const char *name, size_t i, size_t *end) {
    *end = i + strlen(name);
    ObjStr *str = str_from_cstr(s->ts, name);
    return str ? call1(s->ts, s->sc->parse_constant, OBJ_VAL(str)) : ERROR_VAL;
}

static bool word_at(const Scan *s, size_t i, const char *w, size_t len) {
    return i + len <= s->n && memcmp(s->p + i, w, len) == 0;
}

static Value scan_value(Scan *s, size_t i, size_t *end) {
    if (i >= s->n) return stop_iteration(s->ts, s->doc, i);
    switch (s->p[i]) {
    case '"': return scan_string(s->ts, s->doc, s->p, s->n, i + 1, s->sc->strict, end);
    case '{': return scan_object(s, i + 1, end);
    case '[': return scan_array(s, i + 1, end);
    case 'n':
        if (word_at(s, i, "null", 4)) {
            *end = i + 4;
            return NONE_VAL;
        }
        break;
    case 't':
        if (word_at(s, i, "true", 4)) {
            *end = i + 4;
            return TRUE_VAL;
        }
        break;
    case 'f':
        if (word_at(s, i, "false", 5)) {
            *end = i + 5;
            return FALSE_VAL;
        }
        break;
    case 'N':
        if (word_at(s, i, "NaN", 3)) return scan_constant(s, "NaN", i, end);
        break;
    case 'I':
        if (word_at(s, i, "Infinity", 8)) return scan_constant(s, "Infinity", i, end);
        break;
    case '-':
        if (word_at(s, i, "-Infinity", 9)) return scan_constant(s, "-Infinity", i, end);
        break;
    default:
        break;
    }
    return scan_number(s, i, end);
}

static void scanner_trace(GcMarker *m, Obj *self) {
    ObjScanner *sc = (ObjScanner *)self;
    gc_mark_value(m, sc->object_hook);
    gc_mark_value(m, sc->object_pairs_hook);
    gc_mark_value(m, sc->parse_float);
    gc_mark_value(m, sc->parse_int);
    gc_mark_value(m, sc->parse_constant);
}

static Value scanner_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"context"};
    Value ctx;
    if (!args_bind(ts, "make_scanner", args, nargs, kwnames, names, 1, 1, 1, &ctx)) return ERROR_VAL;
    static const char *const attrs[] = {"strict", "object_hook", "object_pairs_hook", "parse_float", "parse_int",
                                        "parse_constant"};
    Value v[6];
    for (int k = 0; k < 6; k++) {
        ObjStr *name = str_intern_cstr(ts, attrs[k]);
        v[k] = name ? ops_getattr(ts, ctx, name) : ERROR_VAL;
        if (IS_ERROR(v[k])) return ERROR_VAL;
    }
    int strict = ops_truth(ts, v[0]);
    if (strict < 0) return ERROR_VAL;
    ObjScanner *sc = (ObjScanner *)gc_alloc(ts, sizeof(ObjScanner), OBJ_OPAQUE, type);
    if (!sc) return ERROR_VAL;
    sc->strict = strict;
    sc->object_hook = v[1];
    sc->object_pairs_hook = v[2];
    sc->parse_float = v[3];
    sc->parse_int = v[4];
    sc->parse_constant = v[5];
    return OBJ_VAL(sc);
}

/* scanner(string, idx) -> (value, end) */
static Value scanner_call(TState *ts, Value self, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"string", "idx"};
    Value a[2];
    if (!args_bind(ts, "scan_once", args, nargs, kwnames, names, 2, 2, 2, a)) return ERROR_VAL;
    if (!IS_STR(a[0]))
        return err_format(ts, EXC(ts)->TypeError, "first argument must be a string, not %.80s",
                          ops_type_name(ts, a[0]));
    int64_t idx;
    if (!args_int(ts, a[1], &idx)) return ERROR_VAL;
    ObjStr *doc = AS_STR(a[0]);
    if (idx < 0) return err_set_str(ts, EXC(ts)->ValueError, "idx cannot be negative");
    if ((uint64_t)idx >= doc->nchars) return err_set_value(ts, EXC(ts)->StopIteration, INT_VAL(idx));
    ObjList *keep = list_new(ts, 0);
    if (!keep) return ERROR_VAL;
    Scan s = {ts, (ObjScanner *)AS_OBJ(self), doc, doc->data, doc->len, depth_allowed(ts), {NULL, 0, 0, keep}};
    vm_push(ts, OBJ_VAL(keep));
    size_t start = byte_offset(doc, (size_t)idx), end;
    Value v = scan_value(&s, start, &end);
    vm_pop(ts);
    free(s.memo.slots);
    if (IS_ERROR(v)) return v;
    size_t endc = STR_IS_ASCII(doc) ? end : (size_t)idx + (char_index(doc, end) - char_index(doc, start));
    ObjTuple *t = tuple_pack2(ts, v, INT_VAL((int64_t)endc));
    return t ? OBJ_VAL(t) : ERROR_VAL;
}

static const TypeSpec scanner_spec = {
    .name = "Scanner",
    .kind = OBJ_OPAQUE,
    .flags = TYPEF_BASETYPE,
    .new_ = scanner_new,
    .call = scanner_call,
    .trace = scanner_trace,
};

/* scanstring(s, end, strict=True) -> (str, end): the literal whose opening
 * quote is at end - 1. */
static Value f_scanstring(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"s", "end", "strict"};
    Value a[3];
    if (!args_bind(ts, "scanstring", args, nargs, kwnames, names, 3, 2, 3, a)) return ERROR_VAL;
    if (!IS_STR(a[0]))
        return err_format(ts, EXC(ts)->TypeError, "first argument must be a string, not %.80s",
                          ops_type_name(ts, a[0]));
    int64_t idx;
    if (!args_int(ts, a[1], &idx)) return ERROR_VAL;
    int strict = IS_EMPTY(a[2]) ? 1 : ops_truth(ts, a[2]);
    if (strict < 0) return ERROR_VAL;
    ObjStr *doc = AS_STR(a[0]);
    if (idx < 0 || (uint64_t)idx > doc->nchars) return err_set_str(ts, EXC(ts)->ValueError, "end is out of bounds");
    size_t start = byte_offset(doc, (size_t)idx), end;
    Value v = scan_string(ts, doc, doc->data, doc->len, start, strict, &end);
    if (IS_ERROR(v)) return v;
    ObjTuple *t = tuple_pack2(ts, v, INT_VAL((int64_t)char_index(doc, end)));
    return t ? OBJ_VAL(t) : ERROR_VAL;
}

/* ---- string literals ----------------------------------------------------------- */

/* What a byte below 0x80 becomes inside a literal: 0 itself, 'u' \u00XX,
 * else the letter after the backslash. */
static const char escape_of[128] = {
    ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't',
    [0x00] = 'u', [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u', [0x05] = 'u', [0x06] = 'u',
    [0x07] = 'u', [0x0B] = 'u', [0x0E] = 'u', [0x0F] = 'u', [0x10] = 'u', [0x11] = 'u', [0x12] = 'u',
    [0x13] = 'u', [0x14] = 'u', [0x15] = 'u', [0x16] = 'u', [0x17] = 'u', [0x18] = 'u', [0x19] = 'u',
    [0x1A] = 'u', [0x1B] = 'u', [0x1C] = 'u', [0x1D] = 'u', [0x1E] = 'u', [0x1F] = 'u',
    ['"'] = '"', ['\\'] = '\\',
};

static bool put_u(StrBuf *sb, uint32_t cp) {
    static const char hex[] = "0123456789abcdef";
    char b[6] = {'\\', 'u', hex[(cp >> 12) & 15], hex[(cp >> 8) & 15], hex[(cp >> 4) & 15], hex[cp & 15]};
    return sb_append(sb, b, 6);
}

/* Appends s as a JSON literal: with ascii, every code point from 0x7F up
 * as \uXXXX (above 0xFFFF a surrogate pair), as CPython's encoders. */
static bool put_literal(StrBuf *sb, const char *p, size_t n, bool ascii) {
    if (!sb_reserve(sb, n + 2)) return false;
    sb->data[sb->len++] = '"';
    size_t i = 0, chunk = 0;
    while (i < n) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x7F ? !escape_of[c] : !ascii) {
            i++;
            continue;
        }
        if (!sb_append(sb, p + chunk, i - chunk)) return false;
        bool ok;
        if (c < 0x80) {
            ok = c == 0x7F || escape_of[c] == 'u' ? put_u(sb, c) : sb_append(sb, (char[]){'\\', escape_of[c]}, 2);
            i++;
        } else {
            size_t len;
            uint32_t cp = str_utf8_decode(p + i, n - i, &len);
            i += len;
            if (cp >= 0x10000) {
                cp -= 0x10000;
                ok = put_u(sb, 0xD800 | (cp >> 10)) && put_u(sb, 0xDC00 | (cp & 0x3FF));
            } else {
                ok = put_u(sb, cp);
            }
        }
        if (!ok) return false;
        chunk = i;
    }
    return sb_append(sb, p + chunk, n - chunk) && sb_append_char(sb, '"');
}

static Value encode_basestring(TState *ts, Value *args, int nargs, ObjTuple *kwnames, bool ascii) {
    if (!args_check(ts, ascii ? "encode_basestring_ascii" : "encode_basestring", nargs, kwnames, 1, 1))
        return ERROR_VAL;
    if (!IS_STR(args[0]))
        return err_format(ts, EXC(ts)->TypeError, "first argument must be a string, not %.80s",
                          ops_type_name(ts, args[0]));
    StrBuf sb;
    sb_init(&sb);
    if (!put_literal(&sb, AS_STR(args[0])->data, AS_STR(args[0])->len, ascii)) {
        sb_free(&sb);
        return err_no_memory(ts);
    }
    ObjStr *r = str_from_sb(ts, &sb);
    return r ? OBJ_VAL(r) : ERROR_VAL;
}

static Value f_encode_basestring_ascii(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return encode_basestring(ts, args, nargs, kwnames, true);
}
static Value f_encode_basestring(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return encode_basestring(ts, args, nargs, kwnames, false);
}

/* ---- the encoder ------------------------------------------------------------------ */

typedef enum { FAST_NONE, FAST_ASCII, FAST_UNICODE } FastEncode;

typedef struct ObjEncoder {
    Obj obj;
    Value markers, default_fn, encoder, indent, key_sep, item_sep;
    bool sort_keys, skipkeys, allow_nan;
    FastEncode fast; /* encoder is one of ours: call no function per string */
} ObjEncoder;

/* One encoding: the output and the containers being encoded (the circular
 * reference check, when markers is not None). */
typedef struct Enc {
    TState *ts;
    ObjEncoder *e;
    StrBuf out;
    Obj **open;
    size_t nopen, capopen;
    int depth_left;
} Enc;

static bool put(Enc *en, const char *s, size_t n) {
    return sb_append(&en->out, s, n) || no_memory(en->ts);
}

static bool put_str(Enc *en, Value s) { return put(en, AS_STR(s)->data, AS_STR(s)->len); }

/* A newline and level times the indent. */
static bool put_newline_indent(Enc *en, int64_t level) {
    if (!put(en, "\n", 1)) return false;
    for (int64_t k = 0; k < level; k++)
        if (!put_str(en, en->e->indent)) return false;
    return true;
}

static bool mark_open(Enc *en, Obj *o) {
    if (IS_NONE(en->e->markers)) return true;
    for (size_t k = 0; k < en->nopen; k++)
        if (en->open[k] == o) {
            err_set_str(en->ts, EXC(en->ts)->ValueError, "Circular reference detected");
            return false;
        }
    if (en->nopen == en->capopen) {
        size_t cap = en->capopen ? en->capopen * 2 : 16;
        Obj **n = realloc(en->open, cap * sizeof *n);
        if (!n) return no_memory(en->ts);
        en->open = n;
        en->capopen = cap;
    }
    en->open[en->nopen++] = o;
    return true;
}

static void mark_closed(Enc *en) {
    if (!IS_NONE(en->e->markers)) en->nopen--;
}

/* A float's text: repr, or NaN/Infinity/-Infinity when allow_nan (buf
 * holds NUMFMT_REPR_BUFSIZE bytes). NULL after raising. */
static const char *float_text(Enc *en, double d, char *buf, size_t *n) {
    if (isfinite(d)) {
        *n = numfmt_float_repr(d, buf);
        return buf;
    }
    if (!en->e->allow_nan) {
        /* CPython's Python encoder, which it uses for indent, names the value. */
        if (IS_NONE(en->e->indent))
            err_set_str(en->ts, EXC(en->ts)->ValueError, "Out of range float values are not JSON compliant");
        else
            err_format(en->ts, EXC(en->ts)->ValueError, "Out of range float values are not JSON compliant: %s",
                       isnan(d) ? "nan" : d > 0 ? "inf" : "-inf");
        return NULL;
    }
    const char *t = isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity";
    *n = strlen(t);
    return t;
}

static bool encode_float(Enc *en, double d) {
    char buf[NUMFMT_REPR_BUFSIZE];
    size_t n;
    const char *t = float_text(en, d, buf, &n);
    return t && put(en, t, n);
}

static bool encode_int(Enc *en, Value v) {
    if (IS_INT(v)) { /* digits right to left: no printf on the hot path */
        char buf[24], *p = buf + sizeof buf;
        int64_t i = AS_INT(v);
        uint64_t u = i < 0 ? 0 - (uint64_t)i : (uint64_t)i;
        do *--p = (char)('0' + u % 10);
        while (u /= 10);
        if (i < 0) *--p = '-';
        return put(en, p, (size_t)(buf + sizeof buf - p));
    }
    ObjStr *s = int_to_str(en->ts, v, 10, false); /* int.__repr__, whatever a subclass says */
    return s && put(en, s->data, s->len);
}

static bool encode_string(Enc *en, Value s) {
    if (en->e->fast != FAST_NONE) {
        ObjStr *str = AS_STR(s);
        return put_literal(&en->out, str->data, str->len, en->e->fast == FAST_ASCII) || no_memory(en->ts);
    }
    Value r = call1(en->ts, en->e->encoder, s);
    if (IS_ERROR(r)) return false;
    if (!IS_STR(r)) {
        err_format(en->ts, EXC(en->ts)->TypeError, "encoder() must return a string, not %.80s",
                   ops_type_name(en->ts, r));
        return false;
    }
    return put_str(en, r);
}

static bool encode_value(Enc *en, Value v, int64_t level);

/* Opens a container: '[' or '{', then the first line's indent. */
static bool open_container(Enc *en, char c, int64_t *level) {
    if (!put(en, &c, 1)) return false;
    if (IS_NONE(en->e->indent)) return true;
    return put_newline_indent(en, ++*level);
}

static bool close_container(Enc *en, char c, int64_t level) {
    if (!IS_NONE(en->e->indent) && !put_newline_indent(en, level - 1)) return false;
    return put(en, &c, 1);
}

static bool put_item_separator(Enc *en, int64_t level) {
    return put_str(en, en->e->item_sep) && (IS_NONE(en->e->indent) || put_newline_indent(en, level));
}

/* The items of a list or tuple subclass: iterated, as CPython's
 * PySequence_Fast (exact lists and tuples are read in place). */
static Value sequence_items(TState *ts, Value v) {
    ObjType *t = OBJ_TYPE(v);
    if (t == ts->interp->types.list || t == ts->interp->types.tuple) return v;
    ObjList *l = list_new(ts, 0);
    if (!l) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(l));
    int r = list_extend(ts, l, v);
    vm_pop(ts);
    return r < 0 ? ERROR_VAL : OBJ_VAL(l);
}

static bool encode_sequence(Enc *en, Value v, int64_t level) {
    size_t n = IS_LIST(v) ? list_len(AS_LIST(v)) : AS_TUPLE(v)->len;
    if (n == 0) return put(en, "[]", 2);
    if (!mark_open(en, AS_OBJ(v))) return false;
    Value seq = sequence_items(en->ts, v);
    bool ok = !IS_ERROR(seq);
    if (ok) vm_push(en->ts, seq);
    bool is_list = IS_LIST(seq);
    ok = ok && open_container(en, '[', &level);
    for (size_t i = 0; ok; i++) {
        Value item;
        if (is_list) item = list_get(AS_LIST(seq), i);
        else item = i < AS_TUPLE(seq)->len ? AS_TUPLE(seq)->items[i] : EMPTY_VAL;
        if (IS_EMPTY(item)) break;
        ok = (i == 0 || put_item_separator(en, level)) && encode_value(en, item, level);
    }
    ok = ok && close_container(en, ']', level);
    if (!IS_ERROR(seq)) vm_pop(en->ts);
    mark_closed(en);
    return ok;
}

/* A key as text: a str, or a float, bool, None or int converted as
 * CPython does; EMPTY_VAL to skip it (skipkeys). */
static Value key_text(Enc *en, Value k) {
    TState *ts = en->ts;
    if (IS_STR(k)) return k;
    char buf[NUMFMT_REPR_BUFSIZE];
    size_t n = 0;
    const char *text = NULL;
    if (IS_FLOATLIKE(k) && !(text = float_text(en, float_value(k), buf, &n))) return ERROR_VAL;
    if (IS_BOOL(k)) text = AS_BOOL(k) ? "true" : "false", n = AS_BOOL(k) ? 4 : 5;
    else if (IS_NONE(k)) text = "null", n = 4;
    if (text) {
        ObjStr *s = str_new(ts, text, n);
        return s ? OBJ_VAL(s) : ERROR_VAL;
    }
    if (IS_INT(k) || IS_BIGINT(k)) {
        ObjStr *s = int_to_str(ts, k, 10, false);
        return s ? OBJ_VAL(s) : ERROR_VAL;
    }
    if (en->e->skipkeys) return EMPTY_VAL;
    return err_format(ts, EXC(ts)->TypeError, "keys must be str, int, float, bool or None, not %.100s",
                      ops_type_name(ts, k));
}

static bool encode_item(Enc *en, Value k, Value v, bool *first, int64_t level) {
    Value kt = key_text(en, k);
    if (IS_ERROR(kt)) return false;
    if (IS_EMPTY(kt)) return true;
    if (!*first && !put_item_separator(en, level)) return false;
    *first = false;
    return encode_string(en, kt) && put_str(en, en->e->key_sep) && encode_value(en, v, level);
}

/* The items of a dict as a list of pairs: d.items() for a subclass (which
 * may override it, as CPython's PyMapping_Items), sorted by key if asked. */
static ObjList *dict_items_list(Enc *en, Value d) {
    TState *ts = en->ts;
    ObjList *items = list_new(ts, 0);
    if (!items) return NULL;
    vm_push(ts, OBJ_VAL(items));
    bool ok;
    if (OBJ_TYPE(d) == ts->interp->types.dict) {
        ObjDict *src = dict_for_reading(ts, AS_DICT(d)); /* one state of it, with the GIL off */
        size_t pos = 0;
        Value k, v;
        ok = src != NULL;
        while (ok && dict_next(src, &pos, &k, &v)) {
            ObjTuple *t = tuple_pack2(ts, k, v);
            ok = t && list_append(ts, items, OBJ_VAL(t)) == 0;
        }
    } else {
        Value meth = ops_getattr(ts, d, str_intern_cstr(ts, "items"));
        Value it = IS_ERROR(meth) ? meth : vm_call(ts, meth, NULL, 0, NULL);
        ok = !IS_ERROR(it) && list_extend(ts, items, it) == 0;
    }
    ok = ok && (!en->e->sort_keys || list_sort(ts, items, NONE_VAL, false) == 0);
    vm_pop(ts);
    return ok ? items : NULL;
}

static bool encode_dict(Enc *en, Value d, int64_t level) {
    TState *ts = en->ts;
    if (dict_len(AS_DICT(d)) == 0) return put(en, "{}", 2);
    if (!mark_open(en, AS_OBJ(d))) return false;
    bool ok = open_container(en, '{', &level), first = true;
    if (ok && OBJ_TYPE(d) == ts->interp->types.dict && !en->e->sort_keys) {
        ObjDict *src = dict_for_reading(ts, AS_DICT(d));
        ok = src != NULL;
        if (ok) vm_push(ts, OBJ_VAL(src));
        size_t pos = 0;
        Value k, v;
        while (ok && dict_next(src, &pos, &k, &v)) ok = encode_item(en, k, v, &first, level);
        if (src) vm_pop(ts);
    } else if (ok) {
        ObjList *items = dict_items_list(en, d);
        ok = items != NULL;
        if (ok) vm_push(ts, OBJ_VAL(items));
        for (size_t i = 0; ok; i++) {
            Value item = list_get(items, i);
            if (IS_EMPTY(item)) break;
            if (!IS_TUPLE(item) || AS_TUPLE(item)->len != 2) {
                err_set_str(ts, EXC(ts)->ValueError, "items must return 2-tuples");
                ok = false;
                break;
            }
            ok = encode_item(en, AS_TUPLE(item)->items[0], AS_TUPLE(item)->items[1], &first, level);
        }
        if (items) vm_pop(ts);
    }
    ok = ok && close_container(en, '}', level);
    mark_closed(en);
    return ok;
}

/* default(o), encoded in o's place. */
static bool encode_default(Enc *en, Value v, int64_t level) {
    TState *ts = en->ts;
    if (!mark_open(en, AS_OBJ(v))) return false;
    Value r = call1(ts, en->e->default_fn, v);
    bool ok = !IS_ERROR(r);
    if (ok) {
        vm_push(ts, r);
        ok = encode_value(en, r, level);
        vm_pop(ts);
    }
    mark_closed(en);
    return ok;
}

static bool encode_value(Enc *en, Value v, int64_t level) {
    if (IS_NONE(v)) return put(en, "null", 4);
    if (v == TRUE_VAL) return put(en, "true", 4);
    if (v == FALSE_VAL) return put(en, "false", 5);
    if (IS_STR(v)) return encode_string(en, v);
    if (IS_INT(v) || IS_BIGINT(v)) return encode_int(en, v);
    if (IS_FLOATLIKE(v)) return encode_float(en, float_value(v));
    if (--en->depth_left < 0) {
        en->depth_left++;
        err_set_str(en->ts, EXC(en->ts)->RecursionError,
                    IS_NONE(en->e->indent) ? "maximum recursion depth exceeded while encoding a JSON object"
                                           : "maximum recursion depth exceeded while calling a Python object");
        return false;
    }
    vm_push(en->ts, v);
    bool ok = IS_LIST(v) || IS_TUPLE(v) ? encode_sequence(en, v, level)
              : IS_DICT(v)              ? encode_dict(en, v, level)
                                        : encode_default(en, v, level);
    vm_pop(en->ts);
    en->depth_left++;
    return ok;
}

static void encoder_trace(GcMarker *m, Obj *self) {
    ObjEncoder *e = (ObjEncoder *)self;
    gc_mark_value(m, e->markers);
    gc_mark_value(m, e->default_fn);
    gc_mark_value(m, e->encoder);
    gc_mark_value(m, e->indent);
    gc_mark_value(m, e->key_sep);
    gc_mark_value(m, e->item_sep);
}

static Value encoder_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"markers",   "default",   "encoder",  "indent",   "key_separator",
                                        "item_separator", "sort_keys", "skipkeys", "allow_nan"};
    Value a[9];
    if (!args_bind(ts, "make_encoder", args, nargs, kwnames, names, 9, 9, 9, a)) return ERROR_VAL;
    if (!IS_NONE(a[0]) && !IS_DICT(a[0]))
        return err_format(ts, EXC(ts)->TypeError, "make_encoder() argument 1 must be dict or None, not %.200s",
                          ops_type_name(ts, a[0]));
    if (!IS_NONE(a[3]) && !IS_STR(a[3]))
        return err_format(ts, EXC(ts)->TypeError, "make_encoder() argument 4 must be str or None, not %.200s",
                          ops_type_name(ts, a[3]));
    for (int k = 4; k < 6; k++)
        if (!IS_STR(a[k]))
            return err_format(ts, EXC(ts)->TypeError, "make_encoder() argument %d must be str, not %.200s", k + 1,
                              ops_type_name(ts, a[k]));
    int flags[3];
    for (int k = 0; k < 3; k++)
        if ((flags[k] = ops_truth(ts, a[6 + k])) < 0) return ERROR_VAL;
    ObjEncoder *e = (ObjEncoder *)gc_alloc(ts, sizeof(ObjEncoder), OBJ_OPAQUE, type);
    if (!e) return ERROR_VAL;
    e->markers = a[0];
    e->default_fn = a[1];
    e->encoder = a[2];
    e->indent = a[3];
    e->key_sep = a[4];
    e->item_sep = a[5];
    e->sort_keys = flags[0];
    e->skipkeys = flags[1];
    e->allow_nan = flags[2];
    e->fast = FAST_NONE;
    if (IS_NATIVE(a[2])) {
        NativeFn fn = ((ObjNative *)AS_OBJ(a[2]))->fn;
        e->fast = fn == f_encode_basestring_ascii ? FAST_ASCII : fn == f_encode_basestring ? FAST_UNICODE : FAST_NONE;
    }
    return OBJ_VAL(e);
}

/* encoder(obj, indent_level) -> (document,) */
static Value encoder_call(TState *ts, Value self, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"obj", "_current_indent_level"};
    Value a[2];
    if (!args_bind(ts, "_iterencode", args, nargs, kwnames, names, 2, 2, 2, a)) return ERROR_VAL;
    int64_t level;
    if (!args_int(ts, a[1], &level)) return ERROR_VAL;
    Enc en = {.ts = ts, .e = (ObjEncoder *)AS_OBJ(self), .depth_left = depth_allowed(ts)};
    sb_init(&en.out);
    bool ok = encode_value(&en, a[0], level);
    free(en.open);
    if (!ok) {
        sb_free(&en.out);
        return ERROR_VAL;
    }
    ObjStr *s = str_from_sb(ts, &en.out);
    if (!s) return ERROR_VAL;
    ObjTuple *t = tuple_from(ts, (Value[]){OBJ_VAL(s)}, 1);
    return t ? OBJ_VAL(t) : ERROR_VAL;
}

static const TypeSpec encoder_spec = {
    .name = "Encoder",
    .kind = OBJ_OPAQUE,
    .flags = TYPEF_BASETYPE,
    .new_ = encoder_new,
    .call = encoder_call,
    .trace = encoder_trace,
};

/* ---- the module -------------------------------------------------------------------- */

static const NativeDef json_functions[] = {
    {"scanstring", f_scanstring},
    {"encode_basestring", f_encode_basestring},
    {"encode_basestring_ascii", f_encode_basestring_ascii},
    {NULL, NULL},
};

bool mod_json_init(TState *ts, ObjDict *ns) {
    ObjStr *module = str_intern_cstr(ts, "_json");
    if (!module || !builtins_add_natives(ts, ns, json_functions)) return false;
    const TypeSpec *specs[] = {&scanner_spec, &encoder_spec};
    const char *exported[] = {"make_scanner", "make_encoder"};
    for (int k = 0; k < 2; k++) {
        ObjType *t = type_from_spec(ts, specs[k], NULL);
        if (!t) return false;
        t->module = OBJ_VAL(module);
        ObjStr *name = str_intern_cstr(ts, exported[k]);
        if (!name || dict_set_str(ts, ns, name, OBJ_VAL(t)) != 0) return false;
    }
    return true;
}
