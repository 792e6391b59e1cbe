#include "grammar/parse.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parser.tab.h"
#include "lexer.yy.h"

/* f-strings inside f-string expressions, each level one sub-parse. */
#define FSTRING_MAX_DEPTH 16

void parse_report(ParseContext *ctx, bool from_lexer, const char *kind, int line, int col,
                  const char *fmt, ...)
{
    ParseContext *root = ctx->root;
    /* The first error wins, except that the tokenizer errors found while
     * draining replace a parser error, as in CPython. */
    if (root->has_error && !(from_lexer && root->draining))
        return;
    SyntaxErrorInfo *e = root->error;
    size_t n = 0;
    if (ctx->fstring_depth > 0 && strncmp(fmt, "f-string", 8) != 0)
        n = (size_t)snprintf(e->msg, sizeof e->msg, "f-string: ");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg + n, sizeof e->msg - n, fmt, ap);
    va_end(ap);
    e->kind = kind;
    e->line = line;
    e->col = col;
    root->has_error = true;
    root->error_from_lexer = from_lexer;
    /* CPython blames an unclosed bracket instead when the parser had read
     * past the bracket's line (see lexer_drain). */
    root->error_token_line = root->hist_loc[0].first_line;
}

static void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p) {
        fputs("mini: out of memory\n", stderr);
        abort();
    }
    return p;
}

/* Growable byte buffer for decoded string contents. */
typedef struct StrBuf {
    char *data;
    size_t len, cap;
} StrBuf;

static void sb_add(StrBuf *b, const char *s, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n)
            cap *= 2;
        char *data = realloc(b->data, cap);
        if (!data) {
            fputs("mini: out of memory\n", stderr);
            abort();
        }
        b->data = data;
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, s, n);
    b->len += n;
}

static void sb_addc(StrBuf *b, char c)
{
    sb_add(b, &c, 1);
}

static void sb_utf8(StrBuf *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (char)(0xf0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    sb_add(b, u, n);
}

static AstStr sb_to_arena(Arena *arena, const StrBuf *b)
{
    AstStr s = { arena_strndup(arena, b->data ? b->data : "", b->len), b->len };
    return s;
}

static int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Decodes the escapes of S[0..N), a piece of PIECE's body starting at byte
 * OFFSET of it, appending UTF-8 (or bytes) to OUT. */
static bool decode_literal(ParseContext *ctx, StrBuf *out, const char *s, size_t n,
                           const LexString *piece, size_t offset)
{
    bool bytes = piece->flags & LEXSTR_BYTES;
    if (bytes) {
        for (size_t i = 0; i < n; i++) {
            if ((unsigned char)s[i] >= 0x80) {
                parse_report(ctx, false, "SyntaxError", piece->line, piece->col,
                             "bytes can only contain ASCII literal characters");
                return false;
            }
        }
    }
    if (piece->flags & LEXSTR_RAW) {
        sb_add(out, s, n);
        return true;
    }
    const char *codec = "(unicode error) 'unicodeescape' codec can't decode bytes in position";
    for (size_t i = 0; i < n;) {
        char c = s[i];
        if (c != '\\' || i + 1 >= n) {
            sb_addc(out, c);
            i++;
            continue;
        }
        size_t start = i;
        char e = s[i + 1];
        i += 2;
        switch (e) {
        case '\n': break;
        case '\\': sb_addc(out, '\\'); break;
        case '\'': sb_addc(out, '\''); break;
        case '"': sb_addc(out, '"'); break;
        case 'a': sb_addc(out, '\a'); break;
        case 'b': sb_addc(out, '\b'); break;
        case 'f': sb_addc(out, '\f'); break;
        case 'n': sb_addc(out, '\n'); break;
        case 'r': sb_addc(out, '\r'); break;
        case 't': sb_addc(out, '\t'); break;
        case 'v': sb_addc(out, '\v'); break;
        case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
            uint32_t v = (uint32_t)(e - '0');
            for (int k = 0; k < 2 && i < n && s[i] >= '0' && s[i] <= '7'; k++)
                v = v * 8 + (uint32_t)(s[i++] - '0');
            if (bytes)
                sb_addc(out, (char)(v & 0xff));
            else
                sb_utf8(out, v);
            break;
        }
        case 'x':
        case 'u':
        case 'U': {
            if (bytes && e != 'x') {
                sb_addc(out, '\\');
                sb_addc(out, e);
                break;
            }
            int want = e == 'x' ? 2 : e == 'u' ? 4 : 8;
            uint32_t v = 0;
            int got = 0;
            while (got < want && i < n && hex_value((unsigned char)s[i]) >= 0) {
                v = v * 16 + (uint32_t)hex_value((unsigned char)s[i++]);
                got++;
            }
            if (got < want) {
                if (bytes)
                    parse_report(ctx, false, "SyntaxError", piece->line, piece->col,
                                 "(value error) invalid \\x escape at position %zu", offset + start);
                else
                    parse_report(ctx, false, "SyntaxError", piece->line, piece->col,
                                 "%s %zu-%zu: truncated \\%c%s escape", codec, offset + start,
                                 offset + i - 1, e,
                                 e == 'x' ? "XX" : e == 'u' ? "XXXX" : "XXXXXXXX");
                return false;
            }
            if (bytes) {
                sb_addc(out, (char)v);
            } else if (v > 0x10ffff) {
                parse_report(ctx, false, "SyntaxError", piece->line, piece->col,
                             "%s %zu-%zu: illegal Unicode character", codec, offset + start,
                             offset + i - 1);
                return false;
            } else if (v >= 0xd800 && v <= 0xdfff) {
                parse_report(ctx, false, "SyntaxError", piece->line, piece->col,
                             "%s %zu-%zu: surrogate characters are not supported", codec,
                             offset + start, offset + i - 1);
                return false;
            } else {
                sb_utf8(out, v);
            }
            break;
        }
        case 'N':
            if (!bytes) {
                parse_report(ctx, false, "SyntaxError", piece->line, piece->col,
                             "%s %zu-%zu: \\N{...} escapes are not supported", codec, offset + start,
                             offset + i - 1);
                return false;
            }
            sb_addc(out, '\\');
            sb_addc(out, e);
            break;
        default:
            /* Unknown escapes stay as written, as in Python. */
            sb_addc(out, '\\');
            sb_addc(out, e);
            break;
        }
    }
    return true;
}

/* f-strings. The splitting follows CPython 3.11's fstring_find_literal and
 * fstring_find_expr; each expression is parsed by a nested parser. */

typedef struct Cursor {
    const char *p, *end;
    int line, col;
} Cursor;

static void cur_adv(Cursor *c, size_t n)
{
    for (; n > 0 && c->p < c->end; n--) {
        if (*c->p == '\n') {
            c->line++;
            c->col = 1;
        } else {
            c->col++;
        }
        c->p++;
    }
}

/* Parts of a JoinedStr under construction; LIT is the pending literal. */
typedef struct FBuilder {
    NodeList *parts;
    StrBuf lit;
    int lit_line, lit_col;
} FBuilder;

static void fb_push(ParseContext *ctx, FBuilder *fb, AstNode *n)
{
    if (!fb->parts)
        fb->parts = arena_alloc(ctx->arena, sizeof(NodeList));
    LIST_PUSH(ctx->arena, fb->parts, n);
}

static void fb_note_literal(FBuilder *fb, const Cursor *c)
{
    if (fb->lit.len == 0) {
        fb->lit_line = c->line;
        fb->lit_col = c->col;
    }
}

static void fb_flush(ParseContext *ctx, FBuilder *fb)
{
    if (fb->lit.len == 0)
        return;
    AstNode *s = ast_new(ctx->arena, AST_STR, fb->lit_line, fb->lit_col);
    s->u.str.value = sb_to_arena(ctx->arena, &fb->lit);
    s->depth = 1;
    fb_push(ctx, fb, s);
    fb->lit.len = 0;
}

static AstNode *fb_finish(ParseContext *ctx, FBuilder *fb, int line, int col)
{
    fb_flush(ctx, fb);
    free(fb->lit.data);
    fb->lit.data = NULL;
    AstNode *n = ast_new(ctx->arena, AST_JOINED_STR, line, col);
    if (fb->parts) {
        n->u.joined_str.values.count = fb->parts->count;
        n->u.joined_str.values.items = fb->parts->items;
    }
    ast_update_depth(n);
    return n;
}

static bool fstring_error(ParseContext *ctx, const Cursor *c, const char *msg)
{
    parse_report(ctx, false, "SyntaxError", c->line, c->col, "%s", msg);
    return false;
}

static AstNode *parse_fstring_expr(ParseContext *outer, const char *text, size_t len, int line,
                                   int col);

/* Literal text up to a '{' that starts a field, or a '}' that ends a
 * format spec (RECURSE > 0). */
static bool fstring_literal(ParseContext *ctx, Cursor *c, const LexString *piece, int recurse,
                            FBuilder *fb)
{
    bool raw = piece->flags & LEXSTR_RAW;
    StrBuf chunk = { 0 };
    Cursor start = *c;
    size_t offset = (size_t)(c->p - piece->body);
    bool ok = true;
    while (c->p < c->end) {
        char ch = *c->p;
        if (!raw && ch == '\\' && c->p + 1 < c->end) {
            char next = c->p[1];
            if (next == 'N' && c->p + 2 < c->end && c->p[2] == '{') {
                /* \N{NAME} braces are not a field. */
                const char *q = c->p + 3;
                while (q < c->end && *q != '}')
                    q++;
                if (q < c->end)
                    q++;
                sb_add(&chunk, c->p, (size_t)(q - c->p));
                cur_adv(c, (size_t)(q - c->p));
                continue;
            }
            if (next == '{' || next == '}') {
                sb_addc(&chunk, '\\');
                cur_adv(c, 1);
                continue;
            }
            sb_add(&chunk, c->p, 2);
            cur_adv(c, 2);
            continue;
        }
        if (ch == '{' || ch == '}') {
            if (recurse == 0) {
                if (c->p + 1 < c->end && c->p[1] == ch) {
                    sb_addc(&chunk, ch);
                    cur_adv(c, 2);
                    continue;
                }
                if (ch == '}') {
                    ok = fstring_error(ctx, c, "f-string: single '}' is not allowed");
                    break;
                }
            }
            break;
        }
        sb_addc(&chunk, ch);
        cur_adv(c, 1);
    }
    if (ok && chunk.len) {
        fb_note_literal(fb, &start);
        ok = decode_literal(ctx, &fb->lit, chunk.data, chunk.len, piece, offset);
    }
    free(chunk.data);
    return ok;
}

static bool fstring_parts(ParseContext *ctx, Cursor *c, const LexString *piece, int recurse,
                          FBuilder *fb);

/* One replacement field; C is at its '{'. */
static bool fstring_field(ParseContext *ctx, Cursor *c, const LexString *piece, int recurse,
                          FBuilder *fb)
{
    Cursor open = *c;
    if (recurse >= 2)
        return fstring_error(ctx, c, "f-string: expressions nested too deeply");
    cur_adv(c, 1);
    Cursor expr = *c;
    char quote = 0;
    bool triple = false;
    char stack[LEX_MAX_PAREN];
    int depth = 0;
    while (c->p < c->end) {
        char ch = *c->p;
        if (ch == '\\')
            return fstring_error(ctx, c, "f-string expression part cannot include a backslash");
        if (quote) {
            if (ch == quote) {
                if (!triple) {
                    quote = 0;
                } else if (c->p + 2 < c->end && c->p[1] == ch && c->p[2] == ch) {
                    cur_adv(c, 3);
                    quote = 0;
                    continue;
                }
            }
            cur_adv(c, 1);
            continue;
        }
        if (ch == '\'' || ch == '"') {
            triple = c->p + 2 < c->end && c->p[1] == ch && c->p[2] == ch;
            quote = ch;
            cur_adv(c, triple ? 3 : 1);
            continue;
        }
        if (ch == '(' || ch == '[' || ch == '{') {
            if (depth >= LEX_MAX_PAREN)
                return fstring_error(ctx, c, "f-string: too many nested parenthesis");
            stack[depth++] = ch;
            cur_adv(c, 1);
            continue;
        }
        if (ch == '#')
            return fstring_error(ctx, c, "f-string expression part cannot include '#'");
        if (depth == 0 && ch && strchr("!:}=<>", ch)) {
            /* ==, !=, <=, >= belong to the expression. */
            if (c->p + 1 < c->end && c->p[1] == '=' && ch != ':' && ch != '}') {
                cur_adv(c, 2);
                continue;
            }
            if (ch == '<' || ch == '>') {
                cur_adv(c, 1);
                continue;
            }
            break;
        }
        if (ch == ')' || ch == ']' || ch == '}') {
            char msg[96];
            if (depth == 0) {
                snprintf(msg, sizeof msg, "f-string: unmatched '%c'", ch);
                return fstring_error(ctx, c, msg);
            }
            char o = stack[--depth];
            if ((o == '(' && ch != ')') || (o == '[' && ch != ']') || (o == '{' && ch != '}')) {
                snprintf(msg, sizeof msg,
                         "f-string: closing parenthesis '%c' does not match opening parenthesis '%c'",
                         ch, o);
                return fstring_error(ctx, c, msg);
            }
        }
        cur_adv(c, 1);
    }
    if (quote)
        return fstring_error(ctx, &expr, "f-string: unterminated string");
    if (depth) {
        char msg[64];
        snprintf(msg, sizeof msg, "f-string: unmatched '%c'", stack[depth - 1]);
        return fstring_error(ctx, &expr, msg);
    }
    if (c->p >= c->end)
        return fstring_error(ctx, c, "f-string: expecting '}'");
    const char *expr_end = c->p;
    bool blank = true;
    for (const char *q = expr.p; q < expr_end; q++)
        if (!*q || !strchr(" \t\n\f\r", *q))
            blank = false;
    if (blank)
        return fstring_error(ctx, &expr, "f-string: empty expression not allowed");

    AstNode *value = parse_fstring_expr(ctx, expr.p, (size_t)(expr_end - expr.p), expr.line, expr.col);
    if (!value)
        return false;

    bool debug = false;
    if (*c->p == '=') {
        /* f"{x = }": the text up to here, spaces included, is a literal. */
        debug = true;
        cur_adv(c, 1);
        while (c->p < c->end && *c->p && strchr(" \t\n\f\r", *c->p))
            cur_adv(c, 1);
        fb_note_literal(fb, &expr);
        sb_add(&fb->lit, expr.p, (size_t)(c->p - expr.p));
    }
    int conversion = 0;
    if (c->p < c->end && *c->p == '!') {
        cur_adv(c, 1);
        if (c->p >= c->end)
            return fstring_error(ctx, c, "f-string: expecting '}'");
        conversion = (unsigned char)*c->p;
        if (conversion != 's' && conversion != 'r' && conversion != 'a')
            return fstring_error(ctx, c,
                                 "f-string: invalid conversion character: expected 's', 'r', or 'a'");
        cur_adv(c, 1);
    }
    AstNode *spec = NULL;
    if (c->p < c->end && *c->p == ':') {
        Cursor spec_start = *c;
        cur_adv(c, 1);
        FBuilder sub = { 0 };
        bool ok = fstring_parts(ctx, c, piece, recurse + 1, &sub);
        spec = fb_finish(ctx, &sub, spec_start.line, spec_start.col + 1);
        if (!ok)
            return false;
    }
    if (c->p >= c->end || *c->p != '}')
        return fstring_error(ctx, c, "f-string: expecting '}'");
    cur_adv(c, 1);
    if (debug && !conversion && !spec)
        conversion = 'r';

    AstNode *fv = ast_new(ctx->arena, AST_FORMATTED_VALUE, open.line, open.col);
    fv->end_line = c->line;
    fv->end_col = c->col;
    fv->u.formatted_value.value = value;
    fv->u.formatted_value.conversion = conversion;
    fv->u.formatted_value.format_spec = spec;
    ast_update_depth(fv);
    fb_flush(ctx, fb);
    fb_push(ctx, fb, fv);
    return true;
}

static bool fstring_parts(ParseContext *ctx, Cursor *c, const LexString *piece, int recurse,
                          FBuilder *fb)
{
    for (;;) {
        if (!fstring_literal(ctx, c, piece, recurse, fb))
            return false;
        if (c->p >= c->end || *c->p == '}')
            break;
        if (!fstring_field(ctx, c, piece, recurse, fb))
            return false;
    }
    if (recurse > 0 && (c->p >= c->end || *c->p != '}'))
        return fstring_error(ctx, c, "f-string: expecting '}'");
    return true;
}

AstNode *parse_join_strings(ParseContext *ctx, StrList *pieces, const YYLTYPE *loc)
{
    bool any_bytes = false, any_text = false, any_format = false;
    for (size_t i = 0; i < pieces->count; i++) {
        unsigned flags = pieces->items[i]->flags;
        if (flags & LEXSTR_BYTES)
            any_bytes = true;
        else
            any_text = true;
        if (flags & LEXSTR_FORMAT)
            any_format = true;
    }
    if (any_bytes && any_text) {
        parse_report(ctx, false, "SyntaxError", loc->first_line, loc->first_column,
                     "cannot mix bytes and nonbytes literals");
        return NULL;
    }
    AstNode *n;
    if (!any_format) {
        StrBuf b = { 0 };
        for (size_t i = 0; i < pieces->count; i++) {
            const LexString *p = pieces->items[i];
            if (!decode_literal(ctx, &b, p->body, p->len, p, 0)) {
                free(b.data);
                return NULL;
            }
        }
        n = ast_new(ctx->arena, any_bytes ? AST_BYTES : AST_STR, loc->first_line, loc->first_column);
        n->u.str.value = sb_to_arena(ctx->arena, &b);
        n->depth = 1;
        free(b.data);
    } else {
        FBuilder fb = { 0 };
        for (size_t i = 0; i < pieces->count; i++) {
            const LexString *p = pieces->items[i];
            Cursor c = { p->body, p->body + p->len, p->body_line, p->body_col };
            bool ok;
            if (p->flags & LEXSTR_FORMAT) {
                ok = fstring_parts(ctx, &c, p, 0, &fb);
            } else {
                fb_note_literal(&fb, &c);
                ok = decode_literal(ctx, &fb.lit, p->body, p->len, p, 0);
            }
            if (!ok) {
                free(fb.lit.data);
                return NULL;
            }
        }
        n = fb_finish(ctx, &fb, loc->first_line, loc->first_column);
    }
    n->end_line = loc->last_line;
    n->end_col = loc->last_column;
    return n;
}

/* Source preparation. */

/* Line and column of byte OFFSET, counting \n, \r\n and \r as line ends. */
static void locate(const char *s, size_t offset, int *line, int *col)
{
    int l = 1;
    size_t start = 0;
    for (size_t i = 0; i < offset; i++) {
        if (s[i] == '\n' || (s[i] == '\r' && s[i + 1] != '\n')) {
            l++;
            start = i + 1;
        }
    }
    *line = l;
    *col = (int)(offset - start) + 1;
}

/* Returns the offset of the first byte that is not valid UTF-8, or LEN. */
static size_t utf8_check(const unsigned char *s, size_t len, const char **why)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        unsigned lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) {
            n = 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 3;
            if (c == 0xe0)
                lo = 0xa0;
            else if (c == 0xed)
                hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 4;
            if (c == 0xf0)
                lo = 0x90;
            else if (c == 0xf4)
                hi = 0x8f;
        } else {
            *why = "invalid start byte";
            return i;
        }
        for (size_t k = 1; k < n; k++) {
            if (i + k >= len) {
                *why = "unexpected end of data";
                return i;
            }
            unsigned cc = s[i + k];
            if (cc < (k == 1 ? lo : 0x80) || cc > (k == 1 ? hi : 0xbf)) {
                *why = "invalid continuation byte";
                return i;
            }
        }
        i += n;
    }
    return len;
}

/* Checks SOURCE and copies it, line ends turned into \n, into a buffer
 * the scanner can use in place: "\n" + source + "\n" (when missing) and
 * flex's two terminating NULs. The leading newline lets the first line's
 * indentation be measured like any other's. */
static char *prepare(const char *source, size_t length, SyntaxErrorInfo *err, size_t *out_len,
                     bool *blank_end)
{
    if (length >= 3 && memcmp(source, "\xef\xbb\xbf", 3) == 0) {
        source += 3;
        length -= 3;
    }
    const char *nul = memchr(source, '\0', length);
    if (nul) {
        locate(source, (size_t)(nul - source), &err->line, &err->col);
        snprintf(err->msg, sizeof err->msg, "source code cannot contain null bytes");
        return NULL;
    }
    const char *why = NULL;
    size_t bad = utf8_check((const unsigned char *)source, length, &why);
    if (bad < length) {
        locate(source, bad, &err->line, &err->col);
        snprintf(err->msg, sizeof err->msg,
                 "(unicode error) 'utf-8' codec can't decode byte 0x%02x in position %d: %s",
                 (unsigned char)source[bad], err->col - 1, why);
        return NULL;
    }
    char *buf = xmalloc(length + 4);
    size_t n = 0;
    buf[n++] = '\n';
    for (size_t i = 0; i < length; i++) {
        if (source[i] == '\r') {
            if (i + 1 < length && source[i + 1] == '\n')
                continue;
            buf[n++] = '\n';
        } else {
            buf[n++] = source[i];
        }
    }
    if (buf[n - 1] != '\n')
        buf[n++] = '\n';
    /* A blank last line ends an interactive block. */
    size_t j = n - 1;
    while (j > 0 && (buf[j - 1] == ' ' || buf[j - 1] == '\t' || buf[j - 1] == '\f'))
        j--;
    *blank_end = j >= 2 && buf[j - 1] == '\n';
    buf[n] = buf[n + 1] = '\0';
    *out_len = n;
    return buf;
}

static ParseContext *context_new(Arena *arena, ParseContext *root, SyntaxErrorInfo *err)
{
    ParseContext *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        fputs("mini: out of memory\n", stderr);
        abort();
    }
    ctx->arena = arena;
    ctx->root = root ? root : ctx;
    ctx->error = err;
    return ctx;
}

static yyscan_t scanner_new(ParseContext *ctx, char *buf, size_t len, YY_BUFFER_STATE *state)
{
    yyscan_t scanner;
    if (mini_yylex_init_extra(ctx, &scanner) != 0) {
        fputs("mini: out of memory\n", stderr);
        abort();
    }
    *state = mini_yy_scan_buffer(buf, len + 2, scanner);
    return scanner;
}

static void scanner_free(yyscan_t scanner, YY_BUFFER_STATE state)
{
    mini_yy_delete_buffer(state, scanner);
    mini_yylex_destroy(scanner);
}

static AstNode *parse_fstring_expr(ParseContext *outer, const char *text, size_t len, int line, int col)
{
    if (outer->fstring_depth >= FSTRING_MAX_DEPTH) {
        parse_report(outer, false, "SyntaxError", line, col, "f-string: expressions nested too deeply");
        return NULL;
    }
    char *buf = xmalloc(len + 2);
    memcpy(buf, text, len);
    buf[len] = buf[len + 1] = '\0';
    ParseContext *ctx = context_new(outer->arena, outer->root, outer->root->error);
    ctx->fstring_depth = outer->fstring_depth + 1;
    lexer_setup(ctx, buf, len, PARSE_MODE_FSTRING, line, col);
    YY_BUFFER_STATE state;
    yyscan_t scanner = scanner_new(ctx, buf, len, &state);
    int rc = mini_yyparse(scanner, ctx);
    AstNode *result = rc == 0 ? ctx->result : NULL;
    if (!result && !ctx->root->has_error)
        parse_report(ctx, false, "SyntaxError", line, col, "invalid syntax");
    scanner_free(scanner, state);
    free(ctx);
    free(buf);
    return result;
}

static void dump_float(StrBuf *b, double v)
{
    char num[64];
    if (isinf(v)) {
        snprintf(num, sizeof num, "inf");
    } else {
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(num, sizeof num, "%.*g", prec, v);
            if (strtod(num, NULL) == v)
                break;
        }
    }
    sb_add(b, num, strlen(num));
}

static void dump_token(StrBuf *b, int tok, const YYSTYPE *val, const YYLTYPE *loc, bool positions)
{
    char tmp[64];
    const char *name = lexer_token_name(tok);
    if (b->len)
        sb_addc(b, ' ');
    if (tok == TOK_NAME) {
        sb_add(b, "NAME(", 5);
        sb_add(b, val->ident.s, val->ident.len);
        sb_addc(b, ')');
    } else if (tok == TOK_NUMBER) {
        const AstNode *n = val->node;
        if (n->kind == AST_INT) {
            int base = n->u.int_lit.base;
            snprintf(tmp, sizeof tmp, "INT(%s", base == 16 ? "0x" : base == 8 ? "0o" : base == 2 ? "0b" : "");
            sb_add(b, tmp, strlen(tmp));
            sb_add(b, n->u.int_lit.digits.s, n->u.int_lit.digits.len);
        } else {
            sb_add(b, "FLOAT(", 6);
            dump_float(b, n->u.float_lit.value);
            if (n->u.float_lit.imag) sb_addc(b, 'j');
        }
        sb_addc(b, ')');
    } else if (tok == TOK_STRING) {
        sb_add(b, "STRING(", 7);
        for (size_t i = 0; i < val->str->text_len; i++) {
            if (val->str->text[i] == '\n')
                sb_add(b, "\\n", 2);
            else
                sb_addc(b, val->str->text[i]);
        }
        sb_addc(b, ')');
    } else if (name) {
        sb_add(b, name, strlen(name));
    } else {
        sb_addc(b, (char)tok);
    }
    if (positions) {
        snprintf(tmp, sizeof tmp, "@%d:%d", loc->first_line, loc->first_column);
        sb_add(b, tmp, strlen(tmp));
    }
}

static ParseResult run(Arena *arena, const char *filename, const char *source, size_t length,
                       int mode, const char **dump, bool positions)
{
    ParseResult res;
    memset(&res, 0, sizeof res);
    res.error.kind = "SyntaxError";
    size_t len;
    bool blank_end = false;
    char *buf = prepare(source ? source : "", source ? length : 0, &res.error, &len, &blank_end);
    if (!buf) {
        res.status = PARSE_ERROR;
        if (dump)
            *dump = arena_strndup(arena, "", 0);
        return res;
    }
    ParseContext *ctx = context_new(arena, NULL, &res.error);
    ctx->ends_with_blank_line = blank_end;
    lexer_setup(ctx, buf, len, mode, 0, 1);
    YY_BUFFER_STATE state;
    yyscan_t scanner = scanner_new(ctx, buf, len, &state);

    if (dump) {
        StrBuf b = { 0 };
        for (;;) {
            YYSTYPE val;
            YYLTYPE loc;
            int tok = mini_yylex(&val, &loc, scanner);
            if (tok == TOK_LEXERROR)
                break;
            if (tok != TOK_START_FILE)
                dump_token(&b, tok, &val, &loc, positions);
            if (tok == 0)
                break;
        }
        *dump = sb_to_arena(arena, &b).s;
        free(b.data);
    } else {
        int rc = mini_yyparse(scanner, ctx);
        if (rc != 0 && !ctx->has_error)
            parse_report(ctx, false, "SyntaxError", ctx->line, 1, "invalid syntax");
        if (ctx->has_error && !ctx->error_from_lexer)
            lexer_drain(scanner);
    }

    if (ctx->has_error) {
        res.status = ctx->incomplete ? PARSE_INCOMPLETE : PARSE_ERROR;
    } else {
        res.status = PARSE_OK;
        res.ast = ctx->result;
        if (res.ast && res.ast->kind == AST_MODULE && filename)
            res.ast->u.module.filename =
                (AstStr){ arena_strndup(arena, filename, strlen(filename)), strlen(filename) };
    }
    scanner_free(scanner, state);
    free(ctx);
    free(buf);
    return res;
}

ParseResult parse_module(Arena *arena, const char *filename, const char *source, size_t length)
{
    return run(arena, filename, source, length, PARSE_MODE_FILE, NULL, false);
}

ParseResult parse_expression(Arena *arena, const char *source, size_t length)
{
    return run(arena, NULL, source, length, PARSE_MODE_EXPR, NULL, false);
}

ParseResult parse_tokens(Arena *arena, const char *source, size_t length, bool with_positions,
                         const char **dump)
{
    return run(arena, NULL, source, length, PARSE_MODE_FILE, dump, with_positions);
}

/* Error rendering. */

int parse_format_error(const SyntaxErrorInfo *err, const char *filename, const char *source,
                       size_t length, char *buf, size_t size)
{
    StrBuf b = { 0 };
    char head[512];
    int n = snprintf(head, sizeof head, "%s:%d:%d: %s: %s\n", filename ? filename : "<string>",
                     err->line, err->col, err->kind ? err->kind : "SyntaxError", err->msg);
    sb_add(&b, head, (size_t)n < sizeof head ? (size_t)n : sizeof head - 1);

    if (source && length >= 3 && memcmp(source, "\xef\xbb\xbf", 3) == 0) {
        source += 3;
        length -= 3;
    }
    /* Find the line. */
    size_t start = 0;
    int line = 1;
    for (size_t i = 0; source && i < length && line < err->line; i++) {
        if (source[i] == '\n' || source[i] == '\r') {
            if (source[i] == '\r' && i + 1 < length && source[i + 1] == '\n')
                i++;
            line++;
            start = i + 1;
        }
    }
    if (source && line == err->line && err->line >= 1 && start <= length) {
        size_t end = start;
        while (end < length && source[end] != '\n' && source[end] != '\r')
            end++;
        size_t text = start;
        while (text < end && (source[text] == ' ' || source[text] == '\t' || source[text] == '\f'))
            text++;
        if (text < end) {
            sb_add(&b, "    ", 4);
            sb_add(&b, source + text, end - text);
            sb_addc(&b, '\n');
            /* The caret goes under the character at COL, counted in
             * characters from the stripped start. */
            size_t at = err->col > 0 ? start + (size_t)(err->col - 1) : start;
            if (at > end)
                at = end;
            size_t spaces = 4;
            for (size_t i = text; i < at; i++)
                if (((unsigned char)source[i] & 0xc0) != 0x80)
                    spaces++;
            for (size_t i = 0; i < spaces; i++)
                sb_addc(&b, ' ');
            sb_add(&b, "^\n", 2);
        }
    }
    if (size > 0) {
        size_t copy = b.len < size - 1 ? b.len : size - 1;
        if (copy)
            memcpy(buf, b.data, copy);
        buf[copy] = '\0';
    }
    int total = (int)b.len;
    free(b.data);
    return total;
}

void parse_print_error(const SyntaxErrorInfo *err, const char *filename, const char *source,
                       size_t length, FILE *out)
{
    int need = parse_format_error(err, filename, source, length, NULL, 0);
    char *text = xmalloc((size_t)need + 1);
    parse_format_error(err, filename, source, length, text, (size_t)need + 1);
    fputs(text, out);
    free(text);
}
