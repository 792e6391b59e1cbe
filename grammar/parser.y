/* Grammar of mini: Python 3.11's syntax. Pure LALR(1) parser; the token
 * stream, with NEWLINE/INDENT/DEDENT, comes from lexer.l. */

%require "3.6"
%define api.pure full
%define api.prefix {mini_yy}
%define api.token.prefix {TOK_}
%define parse.error custom
%locations
%lex-param {yyscan_t scanner}
%parse-param {yyscan_t scanner} {ParseContext *ctx}
%expect 0

%code requires {
#include <stdbool.h>
#include <stddef.h>

#include "grammar/arena.h"
#include "grammar/ast.h"
#include "grammar/parse.h"

#ifndef YY_TYPEDEF_YY_SCANNER_T
#define YY_TYPEDEF_YY_SCANNER_T
typedef void *yyscan_t;
#endif

typedef struct ParseContext ParseContext;

/* Growable arrays in the parse arena, used while a rule is being built. */
typedef struct NodeList { AstNode **items; size_t count, cap; } NodeList;
typedef struct IntList { int *items; size_t count, cap; } IntList;

#define LIST_PUSH(arena, list, item)                                              \
    do {                                                                          \
        if ((list)->count == (list)->cap) {                                       \
            size_t ncap_ = (list)->cap ? (list)->cap * 2 : 4;                     \
            (list)->items = arena_grow((arena), (list)->items,                    \
                                       (list)->cap * sizeof *(list)->items,       \
                                       ncap_ * sizeof *(list)->items);            \
            (list)->cap = ncap_;                                                  \
        }                                                                         \
        (list)->items[(list)->count++] = (item);                                  \
    } while (0)

/* Flags of a string literal token. */
enum { LEXSTR_RAW = 1, LEXSTR_BYTES = 2, LEXSTR_FORMAT = 4 };

/* A string literal token as written: BODY is the text between the quotes,
 * undecoded, pointing into the scanner's buffer (valid during the parse). */
typedef struct LexString {
    const char *text; /* the whole token, prefix and quotes included */
    size_t text_len;
    const char *body;
    size_t len;
    unsigned flags;
    int line, col;
    int body_line, body_col;
} LexString;

typedef struct StrList { LexString **items; size_t count, cap; } StrList;

/* `a, b` sequences: COMMA tells whether any comma was written. */
typedef struct ExprSeq { NodeList *items; bool comma; } ExprSeq;

/* Contents of (...), [...] or {...}: ITEMS are elements (for dicts, keys
 * and values alternately, a NULL key for **), GENS the comprehension
 * clauses when it is a comprehension. */
typedef struct Collection { NodeList *items; NodeList *gens; bool comma; bool is_dict; } Collection;

/* Call arguments: positional nodes, Starred, and Keyword nodes. */
typedef struct ArgList { NodeList *items; AstNode *bare_genexp; bool comma; } ArgList;

/* One item of a parameter list before it is sorted into Arguments. */
enum { PARAM_PLAIN, PARAM_STAR, PARAM_DSTAR, PARAM_SLASH };
typedef struct Param { int kind; AstNode *arg; AstNode *def; int line, col; } Param;
typedef struct ParamList { Param *items; size_t count, cap; } ParamList;

typedef struct CmpChain { IntList *ops; NodeList *exprs; } CmpChain;

/* `= a = b` after the first target; BARE_YIELD is the last item when it is
 * an unparenthesized yield, which cannot be followed by another `=`. */
typedef struct AssignTail { NodeList *items; AstNode *bare_yield; } AssignTail;
}

%union {
    AstNode *node;
    NodeList *list;
    AstStr ident;
    LexString *str;
    StrList *strs;
    ExprSeq seq;
    Collection coll;
    ArgList args;
    ParamList *params;
    Param param;
    CmpChain chain;
    AssignTail tail;
    int op;
}

%code provides {
#define YYSTYPE MINI_YYSTYPE
#define YYLTYPE MINI_YYLTYPE

enum ParseMode { PARSE_MODE_FILE, PARSE_MODE_EXPR, PARSE_MODE_FSTRING };

#define LEX_MAX_INDENT 100
#define LEX_MAX_PAREN 200
#define LEX_QUEUE_MAX (LEX_MAX_INDENT + 8)

typedef struct LexToken { int tok; YYSTYPE val; YYLTYPE loc; } LexToken;

/* Everything one parse (or one f-string expression parse) needs; there is
 * no global state. Errors are recorded in ROOT, the outermost context. */
struct ParseContext {
    Arena *arena;
    int mode;
    ParseContext *root;
    int fstring_depth;
    AstNode *result;

    /* Error state, used in the root context only. */
    SyntaxErrorInfo *error;
    bool has_error;
    bool error_from_lexer;
    bool incomplete;
    bool ends_with_blank_line;
    int error_token_line; /* line of the last token read when the parser failed */

    /* Scanner position: BUF is the scanned buffer, LINE_START the offset of
     * the current line's first byte (negative when the first line starts in
     * the middle of a source line, as f-string expressions do). */
    const char *buf;
    const char *buf_end;
    long line_start;
    int line;

    /* Token driver state (see mini_yylex in lexer.l). */
    int indent[LEX_MAX_INDENT + 1], alt_indent[LEX_MAX_INDENT + 1];
    int indent_top;
    int pending_col, pending_alt, pending_line_len;
    char paren[LEX_MAX_PAREN];
    int paren_line[LEX_MAX_PAREN], paren_col[LEX_MAX_PAREN];
    int paren_depth;
    bool at_line_start, need_newline, after_continuation, at_eof, draining, drained_any;
    char next_char; /* the byte after the last raw token (flex put a NUL there) */
    int match_indent[LEX_MAX_INDENT]; /* indent levels of the open match statements */
    int nmatch;
    YYLTYPE newline_loc, continuation_loc;
    int start_token;
    LexToken queue[LEX_QUEUE_MAX];
    int queue_head, queue_count;
    /* The last three tokens handed to the parser, most recent first. */
    int hist_tok[3];
    YYLTYPE hist_loc[3];
    AstStr hist_name[3]; /* the identifier of NAME tokens */
    /* First token and line of the current and of the previous logical line,
     * for "expected an indented block after 'if' statement on line 3". */
    int line_first_tok, line_first_line;
    int block_tok, block_line;
};

int mini_yylex(YYSTYPE *lval, YYLTYPE *lloc, yyscan_t scanner);
int mini_yyparse(yyscan_t scanner, ParseContext *ctx);

/* lexer.l */
void lexer_setup(ParseContext *ctx, const char *buf, size_t len, int mode, int line, int col);
void lexer_drain(yyscan_t scanner);
const char *lexer_token_name(int tok);

/* parse.c */
void parse_report(ParseContext *ctx, bool from_lexer, const char *kind, int line, int col,
                  const char *fmt, ...) __attribute__((format(printf, 6, 7)));
AstNode *parse_join_strings(ParseContext *ctx, StrList *pieces, const YYLTYPE *loc);
}

%code {
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void mini_yyerror(YYLTYPE *loc, yyscan_t scanner, ParseContext *ctx, const char *msg);

#define ERR_AT(line, col, ...) parse_report(ctx, false, "SyntaxError", (line), (col), __VA_ARGS__)
#define FAIL_NODE(n, ...) do { ERR_AT((n)->line, (n)->col, __VA_ARGS__); YYABORT; } while (0)
#define FAIL_LOC(l, ...) do { ERR_AT((l).first_line, (l).first_column, __VA_ARGS__); YYABORT; } while (0)
#define TRY(x) do { if (!(x)) YYABORT; } while (0)

static AstNode *mk(ParseContext *ctx, AstKind kind, const YYLTYPE *loc)
{
    AstNode *n = ast_new(ctx->arena, kind, loc->first_line, loc->first_column);
    n->end_line = loc->last_line;
    n->end_col = loc->last_column;
    return n;
}

/* Finishes an expression node: depth bookkeeping and the nesting limit. */
static bool fin(ParseContext *ctx, AstNode *n)
{
    ast_update_depth(n);
    if (n->depth > AST_MAX_DEPTH) {
        ERR_AT(n->line, n->col, "too many nested expressions");
        return false;
    }
    return true;
}

static NodeList *nl_new(ParseContext *ctx)
{
    return arena_alloc(ctx->arena, sizeof(NodeList));
}

static NodeList *nl_push(ParseContext *ctx, NodeList *l, AstNode *n)
{
    if (!l)
        l = nl_new(ctx);
    LIST_PUSH(ctx->arena, l, n);
    return l;
}

static NodeList *nl_extend(ParseContext *ctx, NodeList *l, NodeList *more)
{
    for (size_t i = 0; more && i < more->count; i++)
        l = nl_push(ctx, l, more->items[i]);
    return l;
}

static AstSeq seq(const NodeList *l)
{
    AstSeq s = { 0, NULL };
    if (l) {
        s.count = l->count;
        s.items = l->items;
    }
    return s;
}

static AstNode *name_node(ParseContext *ctx, AstStr id, const YYLTYPE *loc)
{
    AstNode *n = mk(ctx, AST_NAME, loc);
    n->u.name.id = id;
    n->depth = 1;
    return n;
}

static AstNode *constant(ParseContext *ctx, AstConstant v, const YYLTYPE *loc)
{
    AstNode *n = mk(ctx, AST_CONSTANT, loc);
    n->u.constant.value = v;
    n->depth = 1;
    return n;
}

/* A Tuple or List of ITEMS (possibly none). */
static AstNode *sequence(ParseContext *ctx, AstKind kind, NodeList *items, const YYLTYPE *loc)
{
    AstNode *n = mk(ctx, kind, loc);
    n->u.seq.elts = seq(items);
    return fin(ctx, n) ? n : NULL;
}

/* `a` stays itself, `a,` and `a, b` become a Tuple. */
static AstNode *seq_node(ParseContext *ctx, ExprSeq s, const YYLTYPE *loc)
{
    if (!s.comma && s.items->count == 1)
        return s.items->items[0];
    return sequence(ctx, AST_TUPLE, s.items, loc);
}

static AstNode *binop(ParseContext *ctx, AstNode *l, AstOperator op, AstNode *r, const YYLTYPE *loc)
{
    AstNode *n = mk(ctx, AST_BIN_OP, loc);
    n->u.bin_op.left = l;
    n->u.bin_op.op = op;
    n->u.bin_op.right = r;
    return fin(ctx, n) ? n : NULL;
}

static AstNode *unop(ParseContext *ctx, AstUnaryOpKind op, AstNode *operand, const YYLTYPE *loc)
{
    AstNode *n = mk(ctx, AST_UNARY_OP, loc);
    n->u.unary_op.op = op;
    n->u.unary_op.operand = operand;
    return fin(ctx, n) ? n : NULL;
}

static AstNode *boolop(ParseContext *ctx, AstBoolOpKind op, AstNode *first, NodeList *rest,
                       const YYLTYPE *loc)
{
    AstNode *n = mk(ctx, AST_BOOL_OP, loc);
    NodeList *all = nl_push(ctx, NULL, first);
    n->u.bool_op.op = op;
    n->u.bool_op.values = seq(nl_extend(ctx, all, rest));
    return fin(ctx, n) ? n : NULL;
}

/* Whether E could be what CPython's grammar calls a bitwise_or, the
 * operand level of comparisons. */
static bool bitwise_or_level(const AstNode *e)
{
    switch (e->kind) {
    case AST_LAMBDA:
    case AST_IF_EXP:
    case AST_BOOL_OP:
    case AST_COMPARE:
    case AST_NAMED_EXPR:
    case AST_STARRED:
    case AST_YIELD:
    case AST_YIELD_FROM:
        return false;
    case AST_UNARY_OP:
        return e->u.unary_op.op != AST_UNARY_NOT;
    default:
        return true;
    }
}

/* Whether the source of E starts with a bitwise_or. */
static bool starts_with_bitwise_or(const AstNode *e)
{
    for (;;) {
        if (e->kind == AST_TUPLE && e->u.seq.elts.count)
            e = e->u.seq.elts.items[0];
        else if (e->kind == AST_IF_EXP)
            e = e->u.if_exp.body;
        else if (e->kind == AST_BOOL_OP)
            e = e->u.bool_op.values.items[0];
        else if (e->kind == AST_COMPARE)
            e = e->u.compare.left;
        else
            return bitwise_or_level(e);
    }
}

/* Whether an invalid target E, followed by `=`, could be read by CPython as
 * the left operand of a mistyped `==`. */
static bool comparison_operand(const AstNode *e)
{
    switch (e->kind) {
    case AST_LAMBDA:
    case AST_IF_EXP:
    case AST_BOOL_OP:
    case AST_COMPARE:
    case AST_STARRED:
    case AST_GENERATOR_EXP:
    case AST_LIST:
    case AST_TUPLE:
        return false;
    case AST_UNARY_OP:
        return e->u.unary_op.op != AST_UNARY_NOT;
    case AST_CONSTANT:
        return e->u.constant.value == AST_CONST_ELLIPSIS;
    default:
        return true;
    }
}

/* Reports why T cannot be assigned to (or deleted), in CPython's words.
 * VALUE is the assigned value of a lone `target = value`, else NULL. */
static bool bad_target(ParseContext *ctx, AstNode *t, AstTargetKind kind, const AstNode *value)
{
    const AstNode *bad = ast_invalid_target(t, kind);
    if (!bad)
        return false;
    if (kind == AST_TARGET_DEL) {
        ERR_AT(bad->line, bad->col, "cannot delete %s", ast_expr_name(bad));
        return true;
    }
    /* CPython suspects a mistyped comparison in `x = y` when the invalid
     * part is an operand written just before the `=` (alone, or last in an
     * unparenthesized tuple) and the right side starts like one. */
    bool before_eq = bad == t;
    if (t->kind == AST_TUPLE && t->u.seq.elts.count) {
        const AstNode *first = t->u.seq.elts.items[0];
        bool parenthesized = first->line != t->line || first->col != t->col;
        before_eq = !parenthesized && bad == t->u.seq.elts.items[t->u.seq.elts.count - 1];
    }
    if (value && before_eq && comparison_operand(bad) && starts_with_bitwise_or(value))
        ERR_AT(bad->line, bad->col, "cannot assign to %s here. Maybe you meant '==' instead of '='?",
               ast_expr_name(bad));
    else
        ERR_AT(bad->line, bad->col, "cannot assign to %s", ast_expr_name(bad));
    return true;
}

/* Starred targets must sit, one per level, inside a List or Tuple. */
static bool bad_starred(ParseContext *ctx, AstNode *t, bool in_sequence)
{
    if (t->kind == AST_STARRED) {
        if (!in_sequence) {
            ERR_AT(t->line, t->col, "starred assignment target must be in a list or tuple");
            return true;
        }
        return bad_starred(ctx, t->u.starred.value, false);
    }
    if (t->kind != AST_LIST && t->kind != AST_TUPLE)
        return false;
    bool seen = false;
    for (size_t i = 0; i < t->u.seq.elts.count; i++) {
        AstNode *e = t->u.seq.elts.items[i];
        if (e->kind == AST_STARRED) {
            if (seen) {
                ERR_AT(t->line, t->col, "multiple starred expressions in assignment");
                return true;
            }
            seen = true;
        }
        if (bad_starred(ctx, e, true))
            return true;
    }
    return false;
}

/* Validates a store target and marks it AST_STORE. */
static bool store_target(ParseContext *ctx, AstNode *t)
{
    if (bad_target(ctx, t, AST_TARGET_STORE, NULL) || bad_starred(ctx, t, false))
        return false;
    ast_set_context(t, AST_STORE);
    return true;
}

static AstNode *assign_stmt(ParseContext *ctx, AstNode *first, NodeList *rest, const YYLTYPE *loc)
{
    NodeList *targets = nl_push(ctx, NULL, first);
    for (size_t i = 0; i + 1 < rest->count; i++)
        targets = nl_push(ctx, targets, rest->items[i]);
    AstNode *value = rest->items[rest->count - 1];
    for (size_t i = 0; i < targets->count; i++) {
        AstNode *t = targets->items[i];
        if (bad_target(ctx, t, AST_TARGET_STORE, targets->count == 1 ? value : NULL) ||
            bad_starred(ctx, t, false))
            return NULL;
        ast_set_context(t, AST_STORE);
    }
    AstNode *n = mk(ctx, AST_ASSIGN, loc);
    n->u.assign.targets = seq(targets);
    n->u.assign.value = value;
    return n;
}

static bool simple_target(const AstNode *t)
{
    return t->kind == AST_NAME || t->kind == AST_ATTRIBUTE || t->kind == AST_SUBSCRIPT;
}

static AstNode *aug_assign_stmt(ParseContext *ctx, AstNode *target, int op, AstNode *value,
                                const YYLTYPE *loc)
{
    if (!simple_target(target)) {
        ERR_AT(target->line, target->col, "'%s' is an illegal expression for augmented assignment",
               ast_expr_name(target));
        return NULL;
    }
    ast_set_context(target, AST_STORE);
    AstNode *n = mk(ctx, AST_AUG_ASSIGN, loc);
    n->u.aug_assign.target = target;
    n->u.aug_assign.op = (AstOperator)op;
    n->u.aug_assign.value = value;
    return n;
}

static AstNode *ann_assign_stmt(ParseContext *ctx, AstNode *target, AstNode *annotation, AstNode *value,
                                const YYLTYPE *loc)
{
    if (!simple_target(target)) {
        if (target->kind == AST_TUPLE || target->kind == AST_LIST)
            ERR_AT(target->line, target->col, "only single target (not %s) can be annotated",
                   ast_expr_name(target));
        else
            ERR_AT(target->line, target->col, "illegal target for annotation");
        return NULL;
    }
    ast_set_context(target, AST_STORE);
    AstNode *n = mk(ctx, AST_ANN_ASSIGN, loc);
    n->u.ann_assign.target = target;
    n->u.ann_assign.annotation = annotation;
    n->u.ann_assign.value = value;
    n->u.ann_assign.simple = target->kind == AST_NAME;
    return n;
}

static AstNode *comprehension(ParseContext *ctx, AstNode *target, AstNode *iter, NodeList *ifs,
                              const YYLTYPE *loc)
{
    if (!store_target(ctx, target))
        return NULL;
    AstNode *n = mk(ctx, AST_COMPREHENSION, loc);
    n->u.comprehension.target = target;
    n->u.comprehension.iter = iter;
    n->u.comprehension.ifs = seq(ifs);
    return fin(ctx, n) ? n : NULL;
}

static AstNode *comp_node(ParseContext *ctx, AstKind kind, AstNode *elt, AstNode *value,
                          NodeList *gens, const YYLTYPE *loc)
{
    if (elt->kind == AST_STARRED) {
        ERR_AT(elt->line, elt->col, "iterable unpacking cannot be used in comprehension");
        return NULL;
    }
    AstNode *n = mk(ctx, kind, loc);
    n->u.comp.elt = elt;
    n->u.comp.value = value;
    n->u.comp.generators = seq(gens);
    return fin(ctx, n) ? n : NULL;
}

/* The node for ( ... ): a parenthesized expression, a Tuple or a GeneratorExp. */
static AstNode *paren_node(ParseContext *ctx, Collection c, const YYLTYPE *loc)
{
    if (c.gens)
        return comp_node(ctx, AST_GENERATOR_EXP, c.items->items[0], NULL, c.gens, loc);
    if (!c.comma && c.items->count == 1) {
        AstNode *e = c.items->items[0];
        if (e->kind == AST_STARRED) {
            ERR_AT(e->line, e->col, "cannot use starred expression here");
            return NULL;
        }
        return e;
    }
    return sequence(ctx, AST_TUPLE, c.items, loc);
}

/* with (a as x, b): a parenthesized list of context managers (3.10) is
 * parsed as a tuple whose items may be `expr as target` (withitem nodes);
 * it becomes the statement's items. `with (a, b) as t` stays a tuple. */
static NodeList *with_paren_items(ParseContext *ctx, NodeList *items)
{
    AstNode *item = items->items[0];
    AstNode *e = item->u.with_item.context_expr;
    if (items->count != 1 || item->u.with_item.optional_vars)
        return items;
    if (e->kind == AST_WITH_ITEM)
        return nl_push(ctx, NULL, e);
    if (e->kind != AST_TUPLE || e->u.seq.elts.count == 0)
        return items;
    NodeList *out = NULL;
    for (size_t i = 0; i < e->u.seq.elts.count; i++) {
        AstNode *elt = e->u.seq.elts.items[i];
        if (elt->kind != AST_WITH_ITEM) {
            AstNode *w = ast_new(ctx->arena, AST_WITH_ITEM, elt->line, elt->col);
            w->end_line = elt->end_line;
            w->end_col = elt->end_col;
            w->u.with_item.context_expr = elt;
            elt = w;
        }
        out = nl_push(ctx, out, elt);
    }
    return out;
}

static AstNode *list_node(ParseContext *ctx, Collection c, const YYLTYPE *loc)
{
    if (c.gens)
        return comp_node(ctx, AST_LIST_COMP, c.items->items[0], NULL, c.gens, loc);
    return sequence(ctx, AST_LIST, c.items, loc);
}

static AstNode *brace_node(ParseContext *ctx, Collection c, const YYLTYPE *loc)
{
    if (c.is_dict) {
        if (c.gens)
            return comp_node(ctx, AST_DICT_COMP, c.items->items[0], c.items->items[1], c.gens, loc);
        AstNode *n = mk(ctx, AST_DICT, loc);
        size_t pairs = c.items->count / 2;
        AstNode **keys = arena_alloc(ctx->arena, pairs * sizeof *keys);
        AstNode **values = arena_alloc(ctx->arena, pairs * sizeof *values);
        for (size_t i = 0; i < pairs; i++) {
            keys[i] = c.items->items[2 * i];
            values[i] = c.items->items[2 * i + 1];
        }
        n->u.dict.keys = (AstSeq){ pairs, keys };
        n->u.dict.values = (AstSeq){ pairs, values };
        return fin(ctx, n) ? n : NULL;
    }
    if (c.gens)
        return comp_node(ctx, AST_SET_COMP, c.items->items[0], NULL, c.gens, loc);
    AstNode *n = mk(ctx, AST_SET, loc);
    n->u.set.elts = seq(c.items);
    return fin(ctx, n) ? n : NULL;
}

/* The name of an Arg or a Keyword node. */
static const AstStr *node_name(const AstNode *n)
{
    return n->kind == AST_ARG ? &n->u.arg.name : &n->u.keyword.name;
}

static bool same_name(const AstNode *a, const AstNode *b)
{
    const AstStr *x = node_name(a), *y = node_name(b);
    return x->len == y->len && memcmp(x->s, y->s, x->len) == 0;
}

static bool before(const AstNode *a, const AstNode *b)
{
    return a->line < b->line || (a->line == b->line && a->col < b->col);
}

static int compare_names(const void *pa, const void *pb)
{
    const AstNode *a = *(AstNode *const *)pa, *b = *(AstNode *const *)pb;
    const AstStr *x = node_name(a), *y = node_name(b);
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    int c = memcmp(x->s, y->s, x->len);
    if (c)
        return c;
    return before(a, b) ? -1 : before(b, a) ? 1 : 0;
}

/* Returns the earliest repeat of a name among N Arg or Keyword nodes, or
 * NULL. Sorting keeps huge parameter lists from taking quadratic time. */
static const AstNode *repeated_name(ParseContext *ctx, AstNode **nodes, size_t n)
{
    if (n < 2)
        return NULL;
    AstNode **sorted = arena_alloc(ctx->arena, n * sizeof *sorted);
    memcpy(sorted, nodes, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, compare_names);
    const AstNode *first = NULL;
    for (size_t i = 1; i < n; i++)
        if (same_name(sorted[i - 1], sorted[i]) && (!first || before(sorted[i], first)))
            first = sorted[i];
    return first;
}

/* Checks the order of call arguments and splits them into positional
 * arguments and keywords. */
static bool split_args(ParseContext *ctx, ArgList a, AstSeq *args, AstSeq *keywords)
{
    NodeList *pos = NULL, *kws = NULL, *named = NULL;
    bool seen_kw = false, seen_dstar = false;
    if (a.bare_genexp && (a.items->count > 1 || a.comma)) {
        ERR_AT(a.bare_genexp->line, a.bare_genexp->col, "Generator expression must be parenthesized");
        return false;
    }
    for (size_t i = 0; a.items && i < a.items->count; i++) {
        AstNode *e = a.items->items[i];
        if (e->kind == AST_KEYWORD) {
            if (e->u.keyword.name.s) {
                seen_kw = true;
                named = nl_push(ctx, named, e);
            } else {
                seen_dstar = true;
            }
            kws = nl_push(ctx, kws, e);
            continue;
        }
        if (e->kind == AST_STARRED) {
            if (seen_dstar) {
                ERR_AT(e->line, e->col, "iterable argument unpacking follows keyword argument unpacking");
                return false;
            }
        } else if (seen_dstar) {
            ERR_AT(e->line, e->col, "positional argument follows keyword argument unpacking");
            return false;
        } else if (seen_kw) {
            ERR_AT(e->line, e->col, "positional argument follows keyword argument");
            return false;
        }
        pos = nl_push(ctx, pos, e);
    }
    const AstNode *dup = named ? repeated_name(ctx, named->items, named->count) : NULL;
    if (dup) {
        ERR_AT(dup->line, dup->col, "keyword argument repeated: %s", dup->u.keyword.name.s);
        return false;
    }
    *args = seq(pos);
    *keywords = seq(kws);
    return true;
}

static AstNode *call_node(ParseContext *ctx, AstNode *func, ArgList a, const YYLTYPE *loc)
{
    AstNode *n = mk(ctx, AST_CALL, loc);
    n->u.call.func = func;
    if (!split_args(ctx, a, &n->u.call.args, &n->u.call.keywords))
        return NULL;
    return fin(ctx, n) ? n : NULL;
}

static AstNode *keyword_arg(ParseContext *ctx, AstNode *key, AstNode *value, const YYLTYPE *loc)
{
    if (key->kind != AST_NAME) {
        if (key->kind == AST_CONSTANT && key->u.constant.value != AST_CONST_ELLIPSIS)
            ERR_AT(key->line, key->col, "cannot assign to %s", ast_expr_name(key));
        else
            ERR_AT(key->line, key->col, "expression cannot contain assignment, perhaps you meant \"==\"?");
        return NULL;
    }
    AstNode *n = mk(ctx, AST_KEYWORD, loc);
    n->u.keyword.name = key->u.name.id;
    n->u.keyword.value = value;
    return fin(ctx, n) ? n : NULL;
}

static ParamList *param_push(ParseContext *ctx, ParamList *l, Param p)
{
    if (!l)
        l = arena_alloc(ctx->arena, sizeof(ParamList));
    LIST_PUSH(ctx->arena, l, p);
    return l;
}

static Param param(ParseContext *ctx, int kind, const AstStr *name, AstNode *annotation, AstNode *def,
                   const YYLTYPE *loc)
{
    Param p = { kind, NULL, def, loc->first_line, loc->first_column };
    if (name) {
        p.arg = mk(ctx, AST_ARG, loc);
        p.arg->u.arg.name = *name;
        p.arg->u.arg.annotation = annotation;
        p.arg->depth = 1;
    }
    return p;
}

/* Sorts a flat parameter list into an Arguments node, with CPython's
 * checks and messages. */
static AstNode *arguments(ParseContext *ctx, ParamList *l, const YYLTYPE *loc)
{
    NodeList *posonly = NULL, *args = NULL, *defaults = NULL, *kwonly = NULL, *kwdefaults = NULL;
    NodeList *names = NULL;
    AstNode *n = mk(ctx, AST_ARGUMENTS, loc);
    bool seen_slash = false, seen_star = false, seen_dstar = false;
    for (size_t i = 0; l && i < l->count; i++) {
        Param *p = &l->items[i];
        if (seen_dstar) {
            ERR_AT(p->line, p->col, "arguments cannot follow var-keyword argument");
            return NULL;
        }
        switch (p->kind) {
        case PARAM_SLASH:
            if (seen_slash) {
                ERR_AT(p->line, p->col, "/ may appear only once");
                return NULL;
            }
            if (seen_star) {
                ERR_AT(p->line, p->col, "/ must be ahead of *");
                return NULL;
            }
            if (!args) {
                ERR_AT(p->line, p->col, "at least one argument must precede /");
                return NULL;
            }
            seen_slash = true;
            posonly = args;
            args = NULL;
            break;
        case PARAM_STAR:
            if (seen_star) {
                ERR_AT(p->line, p->col, "* argument may appear only once");
                return NULL;
            }
            seen_star = true;
            n->u.arguments.vararg = p->arg;
            if (!p->arg && (i + 1 == l->count || l->items[i + 1].kind == PARAM_DSTAR)) {
                ERR_AT(p->line, p->col, "named arguments must follow bare *");
                return NULL;
            }
            break;
        case PARAM_DSTAR:
            seen_dstar = true;
            n->u.arguments.kwarg = p->arg;
            break;
        default:
            if (seen_star) {
                kwonly = nl_push(ctx, kwonly, p->arg);
                kwdefaults = nl_push(ctx, kwdefaults, p->def);
            } else {
                if (p->def)
                    defaults = nl_push(ctx, defaults, p->def);
                else if (defaults) {
                    ERR_AT(p->line, p->col, "non-default argument follows default argument");
                    return NULL;
                }
                args = nl_push(ctx, args, p->arg);
            }
            break;
        }
        if (p->arg)
            names = nl_push(ctx, names, p->arg);
    }
    const AstNode *dup = names ? repeated_name(ctx, names->items, names->count) : NULL;
    if (dup) {
        ERR_AT(dup->line, dup->col, "duplicate argument '%s' in function definition",
               dup->u.arg.name.s);
        return NULL;
    }
    n->u.arguments.posonlyargs = seq(posonly);
    n->u.arguments.args = seq(args);
    n->u.arguments.defaults = seq(defaults);
    n->u.arguments.kwonlyargs = seq(kwonly);
    n->u.arguments.kw_defaults = seq(kwdefaults);
    return fin(ctx, n) ? n : NULL;
}

static AstNode *if_stmt(ParseContext *ctx, AstNode *test, NodeList *body, const YYLTYPE *loc)
{
    AstNode *n = mk(ctx, AST_IF, loc);
    n->u.cond_stmt.test = test;
    n->u.cond_stmt.body = seq(body);
    return n;
}

/* Hangs each elif, innermost last, on the orelse of the one before. */
static AstNode *if_chain(ParseContext *ctx, AstNode *top, NodeList *elifs, NodeList *orelse)
{
    /* Each elif nests one level deeper in the tree. */
    if (elifs && elifs->count > AST_MAX_DEPTH) {
        AstNode *e = elifs->items[AST_MAX_DEPTH];
        ERR_AT(e->line, e->col, "too many 'elif' branches");
        return NULL;
    }
    AstSeq tail = seq(orelse);
    for (size_t i = elifs ? elifs->count : 0; i-- > 0;) {
        AstNode *e = elifs->items[i];
        e->u.cond_stmt.orelse = tail;
        tail = seq(nl_push(ctx, NULL, e));
    }
    top->u.cond_stmt.orelse = tail;
    return top;
}

static AstNode *alias(ParseContext *ctx, AstStr name, const AstStr *asname, const YYLTYPE *loc)
{
    AstNode *n = mk(ctx, AST_ALIAS, loc);
    n->u.alias.name = name;
    if (asname)
        n->u.alias.asname = *asname;
    return n;
}

static AstStr join_dotted(ParseContext *ctx, AstStr a, AstStr b)
{
    char *s = arena_alloc(ctx->arena, a.len + b.len + 2);
    memcpy(s, a.s, a.len);
    s[a.len] = '.';
    memcpy(s + a.len + 1, b.s, b.len);
    s[a.len + b.len + 1] = '\0';
    return (AstStr){ s, a.len + b.len + 1 };
}

static AstNode *import_from(ParseContext *ctx, int level, const AstStr *module, NodeList *names,
                            const YYLTYPE *loc)
{
    AstNode *n = mk(ctx, AST_IMPORT_FROM, loc);
    n->u.import_from.level = level;
    if (module)
        n->u.import_from.module = *module;
    n->u.import_from.names = seq(names);
    return n;
}

static AstNode *except_handler(ParseContext *ctx, AstNode *type, const AstStr *name, NodeList *body,
                               const YYLTYPE *loc, bool star)
{
    AstNode *n = mk(ctx, AST_EXCEPT_HANDLER, loc);
    n->u.except_handler.type = type;
    n->u.except_handler.star = star;
    if (name)
        n->u.except_handler.name = *name;
    n->u.except_handler.body = seq(body);
    return n;
}

static AstNode *try_stmt(ParseContext *ctx, NodeList *body, NodeList *handlers, NodeList *orelse,
                         NodeList *finalbody, const YYLTYPE *loc)
{
    for (size_t i = 0; handlers && i + 1 < handlers->count; i++) {
        AstNode *h = handlers->items[i];
        if (!h->u.except_handler.type) {
            ERR_AT(h->line, h->col, "default 'except:' must be last");
            return NULL;
        }
    }
    bool star = handlers && handlers->count && handlers->items[0]->u.except_handler.star;
    for (size_t i = 1; handlers && i < handlers->count; i++) {
        AstNode *h = handlers->items[i];
        if (h->u.except_handler.star != star) {
            ERR_AT(h->line, h->col, "cannot have both 'except' and 'except*' on the same 'try'");
            return NULL;
        }
    }
    AstNode *n = mk(ctx, AST_TRY, loc);
    n->u.try_stmt.star = star;
    n->u.try_stmt.body = seq(body);
    n->u.try_stmt.handlers = seq(handlers);
    n->u.try_stmt.orelse = seq(orelse);
    n->u.try_stmt.finalbody = seq(finalbody);
    return n;
}

/* `async def`, `async for`, `async with`: the statement starts at `async`. */
static AstNode *async_stmt(AstNode *st, const YYLTYPE *loc)
{
    if (st->kind == AST_FUNCTION_DEF)
        st->u.function_def.is_async = true;
    else if (st->kind == AST_FOR)
        st->u.for_stmt.is_async = true;
    else
        st->u.with.is_async = true;
    st->line = loc->first_line;
    st->col = loc->first_column;
    return st;
}

static AstNode *decorate(AstNode *def, NodeList *decorators, const YYLTYPE *loc)
{
    if (def->kind == AST_FUNCTION_DEF)
        def->u.function_def.decorators = seq(decorators);
    else
        def->u.class_def.decorators = seq(decorators);
    /* Like CPython, the statement starts at its first decorator. */
    def->line = loc->first_line;
    def->col = loc->first_column;
    return def;
}

/* ---- match patterns ------------------------------------------------------ */

static AstNode *pattern_as(ParseContext *ctx, AstKind kind, AstNode *pattern, AstStr name, const YYLTYPE *loc)
{
    AstNode *n = mk(ctx, kind, loc);
    n->u.match_as.pattern = pattern;
    bool wildcard = name.len == 1 && name.s[0] == '_';
    n->u.match_as.name = wildcard ? (AstStr){ NULL, 0 } : name;
    return n;
}

/* A sequence pattern; at most one starred item. */
static AstNode *pattern_sequence(ParseContext *ctx, NodeList *items, const YYLTYPE *loc)
{
    AstNode *n = mk(ctx, AST_MATCH_SEQUENCE, loc);
    n->u.match_seq.patterns = seq(items);
    int stars = 0;
    for (size_t i = 0; items && i < items->count; i++)
        if (items->items[i]->kind == AST_MATCH_STAR && ++stars > 1) {
            ERR_AT(n->line, n->col, "multiple starred names in sequence pattern");
            return NULL;
        }
    return n;
}

/* The items of a bracketless or parenthesized list: one item without a
 * trailing comma is that pattern itself. */
static AstNode *pattern_group(ParseContext *ctx, NodeList *items, bool comma, const YYLTYPE *loc)
{
    if (items->count == 1 && !comma) {
        AstNode *only = items->items[0];
        if (only->kind == AST_MATCH_STAR) {
            ERR_AT(only->end_line, only->end_col, "invalid syntax");
            return NULL;
        }
        return only;
    }
    return pattern_sequence(ctx, items, loc);
}

/* A mapping pattern from (key, pattern) pairs; a NULL key is `**rest`,
 * which must come last. */
static AstNode *pattern_mapping(ParseContext *ctx, NodeList *pairs, const YYLTYPE *loc)
{
    AstNode *n = mk(ctx, AST_MATCH_MAPPING, loc);
    NodeList *keys = NULL, *patterns = NULL;
    for (size_t i = 0; pairs && i < pairs->count; i += 2) {
        AstNode *key = pairs->items[i], *pattern = pairs->items[i + 1];
        if (!key) {
            if (i + 2 < pairs->count) {
                ERR_AT(pairs->items[i + 2]->line, pairs->items[i + 2]->col, "invalid syntax");
                return NULL;
            }
            n->u.match_mapping.rest = pattern->u.match_as.name;
            continue;
        }
        keys = nl_push(ctx, keys, key);
        patterns = nl_push(ctx, patterns, pattern);
    }
    n->u.match_mapping.keys = seq(keys);
    n->u.match_mapping.patterns = seq(patterns);
    return n;
}

/* A class pattern: positional patterns, then Keyword nodes (attr=pattern). */
static AstNode *pattern_class(ParseContext *ctx, AstNode *cls, NodeList *args, const YYLTYPE *loc)
{
    AstNode *n = mk(ctx, AST_MATCH_CLASS, loc);
    n->u.match_class.cls = cls;
    NodeList *pos = NULL, *attrs = NULL, *kwd = NULL;
    for (size_t i = 0; args && i < args->count; i++) {
        AstNode *a = args->items[i];
        if (a->kind == AST_KEYWORD) {
            YYLTYPE at = { a->line, a->col, a->line, a->col + (int)a->u.keyword.name.len };
            attrs = nl_push(ctx, attrs, name_node(ctx, a->u.keyword.name, &at));
            kwd = nl_push(ctx, kwd, a->u.keyword.value);
        } else if (kwd) {
            ERR_AT(a->line, a->col, "positional patterns follow keyword patterns");
            return NULL;
        } else {
            pos = nl_push(ctx, pos, a);
        }
    }
    n->u.match_class.patterns = seq(pos);
    n->u.match_class.kwd_attrs = seq(attrs);
    n->u.match_class.kwd_patterns = seq(kwd);
    return n;
}

static AstNode *pattern_value(ParseContext *ctx, AstKind kind, AstNode *value, const YYLTYPE *loc)
{
    if (value->kind == AST_JOINED_STR) {
        ERR_AT(value->line, value->col, "patterns may only match literals and attribute lookups");
        return NULL;
    }
    AstNode *n = mk(ctx, kind, loc);
    n->u.match_value.value = value;
    return n;
}

static void mini_yyerror(YYLTYPE *loc, yyscan_t scanner, ParseContext *ctx, const char *msg)
{
    /* Only reached when the parser stack overflows. */
    ERR_AT(loc->first_line, loc->first_column, "too many nested expressions");
}
}

%token <ident> NAME
%token <node> NUMBER
%token <str> STRING
%token NEWLINE INDENT DEDENT LEXERROR START_FILE START_EXPR START_FSTRING
%token FALSE NONE TRUE AND AS ASSERT ASYNC AWAIT BREAK CLASS CONTINUE DEF DEL ELIF ELSE EXCEPT
%token FINALLY FOR FROM GLOBAL IF IMPORT IN IS LAMBDA NONLOCAL NOT OR PASS RAISE RETURN TRY
%token WHILE WITH YIELD MATCH CASE
%token POW FLOORDIV LSHIFT RSHIFT LE GE EQ NE ARROW COLONEQ ELLIPSIS
%token PLUSEQ MINUSEQ STAREQ SLASHEQ FLOORDIVEQ PERCENTEQ POWEQ RSHIFTEQ LSHIFTEQ AMPEQ
%token PIPEEQ CARETEQ ATEQ

%type <list> file_input stmts stmt simple_stmt small_stmts suite name_list
%type <list> dotted_as_names import_as_names import_targets elif_clauses else_clause
%type <list> except_clauses finally_clause with_items decorators comp_for comp_ifs
%type <list> tc_items dict_items dict_item or_chain and_chain sub_items
%type <node> small_stmt compound_stmt expr_stmt assign_rhs del_stmt return_stmt raise_stmt
%type <node> global_stmt nonlocal_stmt assert_stmt import_stmt dotted_as_name import_as_name
%type <node> if_stmt while_stmt for_stmt try_stmt except_clause with_stmt with_item
%type <node> funcdef classdef decorated decorator ret_annot
%type <node> namedexpr_test test or_test and_test not_test comparison star_expr expr xor_expr
%type <node> and_expr shift_expr arith_expr term factor power await_primary atom_expr atom
%type <node> testlist_star_expr tse_elem tc_elem yield_expr lambdef comp_clause
%type <node> subscriptlist subscript opt_test argument
%type <node> elif_head genexp_arg
%type <seq> exprlist el_items tse_items
%type <coll> testlist_comp dictorsetmaker
%type <args> arglist arg_items class_args
%type <params> params param_items lparams lparam_items
%type <param> param lparam
%type <chain> comp_chain
%type <tail> assign_tail
%type <op> augassign comp_op import_dots
%type <ident> dotted_name
%type <node> match_stmt case_block patterns pattern or_pattern closed_pattern maybe_star_pattern
%type <node> signed_number literal_value name_or_attr attr cls_pattern_arg
%type <list> case_blocks pattern_items or_alts mapping_items key_pattern cls_pattern_args
%type <strs> strings

%start start

%%

start
    : START_FILE file_input {
        AstNode *m = ast_new(ctx->arena, AST_MODULE, 1, 1);
        m->u.module.body = seq($2);
        ctx->result = m;
    }
    | START_EXPR testlist_star_expr newlines { ctx->result = $2; }
    | START_FSTRING testlist_star_expr { ctx->result = $2; }
    | START_FSTRING yield_expr { ctx->result = $2; }
    ;

newlines
    : %empty
    | newlines NEWLINE
    ;

file_input
    : %empty { $$ = NULL; }
    | stmts
    ;

stmts
    : stmt
    | stmts stmt { $$ = nl_extend(ctx, $1, $2); }
    ;

stmt
    : simple_stmt
    | compound_stmt { $$ = nl_push(ctx, NULL, $1); }
    ;

simple_stmt
    : small_stmts NEWLINE
    | small_stmts ';' NEWLINE
    ;

small_stmts
    : small_stmt { $$ = nl_push(ctx, NULL, $1); }
    | small_stmts ';' small_stmt { $$ = nl_push(ctx, $1, $3); }
    ;

small_stmt
    : expr_stmt
    | del_stmt
    | PASS { $$ = mk(ctx, AST_PASS, &@$); }
    | BREAK { $$ = mk(ctx, AST_BREAK, &@$); }
    | CONTINUE { $$ = mk(ctx, AST_CONTINUE, &@$); }
    | return_stmt
    | raise_stmt
    | global_stmt
    | nonlocal_stmt
    | import_stmt
    | assert_stmt
    ;

expr_stmt
    : testlist_star_expr {
        $$ = mk(ctx, AST_EXPR, &@$);
        $$->u.value_stmt.value = $1;
    }
    | yield_expr {
        $$ = mk(ctx, AST_EXPR, &@$);
        $$->u.value_stmt.value = $1;
    }
    | testlist_star_expr augassign assign_rhs { TRY($$ = aug_assign_stmt(ctx, $1, $2, $3, &@$)); }
    | testlist_star_expr ':' test { TRY($$ = ann_assign_stmt(ctx, $1, $3, NULL, &@$)); }
    | testlist_star_expr ':' test '=' assign_rhs { TRY($$ = ann_assign_stmt(ctx, $1, $3, $5, &@$)); }
    | testlist_star_expr assign_tail { TRY($$ = assign_stmt(ctx, $1, $2.items, &@$)); }
    ;

assign_tail
    : '=' yield_expr { $$ = (AssignTail){ nl_push(ctx, NULL, $2), $2 }; }
    | '=' testlist_star_expr { $$ = (AssignTail){ nl_push(ctx, NULL, $2), NULL }; }
    | assign_tail '=' yield_expr {
        if ($1.bare_yield)
            FAIL_NODE($1.bare_yield, "assignment to yield expression not possible");
        $$ = (AssignTail){ nl_push(ctx, $1.items, $3), $3 };
    }
    | assign_tail '=' testlist_star_expr {
        if ($1.bare_yield)
            FAIL_NODE($1.bare_yield, "assignment to yield expression not possible");
        $$ = (AssignTail){ nl_push(ctx, $1.items, $3), NULL };
    }
    ;

assign_rhs
    : yield_expr
    | testlist_star_expr
    ;

augassign
    : PLUSEQ { $$ = AST_OP_ADD; }
    | MINUSEQ { $$ = AST_OP_SUB; }
    | STAREQ { $$ = AST_OP_MULT; }
    | ATEQ { $$ = AST_OP_MATMULT; }
    | SLASHEQ { $$ = AST_OP_DIV; }
    | FLOORDIVEQ { $$ = AST_OP_FLOORDIV; }
    | PERCENTEQ { $$ = AST_OP_MOD; }
    | POWEQ { $$ = AST_OP_POW; }
    | LSHIFTEQ { $$ = AST_OP_LSHIFT; }
    | RSHIFTEQ { $$ = AST_OP_RSHIFT; }
    | AMPEQ { $$ = AST_OP_BITAND; }
    | PIPEEQ { $$ = AST_OP_BITOR; }
    | CARETEQ { $$ = AST_OP_BITXOR; }
    ;

del_stmt
    : DEL exprlist {
        NodeList *targets = $2.comma ? $2.items : nl_push(ctx, NULL, seq_node(ctx, $2, &@2));
        for (size_t i = 0; i < targets->count; i++) {
            if (bad_target(ctx, targets->items[i], AST_TARGET_DEL, NULL))
                YYABORT;
            ast_set_context(targets->items[i], AST_DEL);
        }
        $$ = mk(ctx, AST_DELETE, &@$);
        $$->u.delete_stmt.targets = seq(targets);
    }
    ;

return_stmt
    : RETURN { $$ = mk(ctx, AST_RETURN, &@$); }
    | RETURN testlist_star_expr {
        $$ = mk(ctx, AST_RETURN, &@$);
        $$->u.value_stmt.value = $2;
    }
    ;

raise_stmt
    : RAISE { $$ = mk(ctx, AST_RAISE, &@$); }
    | RAISE test {
        $$ = mk(ctx, AST_RAISE, &@$);
        $$->u.raise.exc = $2;
    }
    | RAISE test FROM test {
        $$ = mk(ctx, AST_RAISE, &@$);
        $$->u.raise.exc = $2;
        $$->u.raise.cause = $4;
    }
    ;

global_stmt
    : GLOBAL name_list {
        $$ = mk(ctx, AST_GLOBAL, &@$);
        $$->u.scope_stmt.names = seq($2);
    }
    ;

nonlocal_stmt
    : NONLOCAL name_list {
        $$ = mk(ctx, AST_NONLOCAL, &@$);
        $$->u.scope_stmt.names = seq($2);
    }
    ;

name_list
    : NAME { $$ = nl_push(ctx, NULL, name_node(ctx, $1, &@1)); }
    | name_list ',' NAME { $$ = nl_push(ctx, $1, name_node(ctx, $3, &@3)); }
    ;

assert_stmt
    : ASSERT test {
        $$ = mk(ctx, AST_ASSERT, &@$);
        $$->u.assert_stmt.test = $2;
    }
    | ASSERT test ',' test {
        $$ = mk(ctx, AST_ASSERT, &@$);
        $$->u.assert_stmt.test = $2;
        $$->u.assert_stmt.msg = $4;
    }
    ;

import_stmt
    : IMPORT dotted_as_names {
        $$ = mk(ctx, AST_IMPORT, &@$);
        $$->u.import.names = seq($2);
    }
    | FROM dotted_name IMPORT import_targets { $$ = import_from(ctx, 0, &$2, $4, &@$); }
    | FROM import_dots dotted_name IMPORT import_targets { $$ = import_from(ctx, $2, &$3, $5, &@$); }
    | FROM import_dots IMPORT import_targets { $$ = import_from(ctx, $2, NULL, $4, &@$); }
    ;

import_dots
    : '.' { $$ = 1; }
    | ELLIPSIS { $$ = 3; }
    | import_dots '.' { $$ = $1 + 1; }
    | import_dots ELLIPSIS { $$ = $1 + 3; }
    ;

dotted_as_names
    : dotted_as_name { $$ = nl_push(ctx, NULL, $1); }
    | dotted_as_names ',' dotted_as_name { $$ = nl_push(ctx, $1, $3); }
    ;

dotted_as_name
    : dotted_name { $$ = alias(ctx, $1, NULL, &@$); }
    | dotted_name AS NAME { $$ = alias(ctx, $1, &$3, &@$); }
    ;

dotted_name
    : NAME
    | dotted_name '.' NAME { $$ = join_dotted(ctx, $1, $3); }
    ;

import_targets
    : '*' { $$ = nl_push(ctx, NULL, alias(ctx, (AstStr){ arena_strndup(ctx->arena, "*", 1), 1 }, NULL, &@$)); }
    | '(' import_as_names ')' { $$ = $2; }
    | '(' import_as_names ',' ')' { $$ = $2; }
    | import_as_names
    | import_as_names ',' { FAIL_LOC(@2, "trailing comma not allowed without surrounding parentheses"); }
    ;

import_as_names
    : import_as_name { $$ = nl_push(ctx, NULL, $1); }
    | import_as_names ',' import_as_name { $$ = nl_push(ctx, $1, $3); }
    ;

import_as_name
    : NAME { $$ = alias(ctx, $1, NULL, &@$); }
    | NAME AS NAME { $$ = alias(ctx, $1, &$3, &@$); }
    ;

compound_stmt
    : if_stmt
    | while_stmt
    | for_stmt
    | try_stmt
    | with_stmt
    | funcdef
    | classdef
    | decorated
    | match_stmt
    | ASYNC funcdef { $$ = async_stmt($2, &@$); }
    | ASYNC for_stmt { $$ = async_stmt($2, &@$); }
    | ASYNC with_stmt { $$ = async_stmt($2, &@$); }
    ;

match_stmt
    : MATCH testlist_star_expr ':' NEWLINE INDENT case_blocks DEDENT {
        $$ = mk(ctx, AST_MATCH, &@$);
        $$->u.match.subject = $2;
        $$->u.match.cases = seq($6);
    }
    ;

case_blocks
    : case_block { $$ = nl_push(ctx, NULL, $1); }
    | case_blocks case_block { $$ = nl_push(ctx, $1, $2); }
    ;

case_block
    : CASE patterns ':' suite {
        $$ = mk(ctx, AST_MATCH_CASE, &@$);
        $$->u.match_case.pattern = $2;
        $$->u.match_case.body = seq($4);
    }
    | CASE patterns IF namedexpr_test ':' suite {
        $$ = mk(ctx, AST_MATCH_CASE, &@$);
        $$->u.match_case.pattern = $2;
        $$->u.match_case.guard = $4;
        $$->u.match_case.body = seq($6);
    }
    ;

patterns
    : pattern_items { TRY($$ = pattern_group(ctx, $1, false, &@$)); }
    | pattern_items ',' { TRY($$ = pattern_group(ctx, $1, true, &@$)); }
    ;

pattern_items
    : maybe_star_pattern { $$ = nl_push(ctx, NULL, $1); }
    | pattern_items ',' maybe_star_pattern { $$ = nl_push(ctx, $1, $3); }
    ;

maybe_star_pattern
    : pattern
    | '*' NAME { $$ = pattern_as(ctx, AST_MATCH_STAR, NULL, $2, &@$); }
    ;

pattern
    : or_pattern
    | or_pattern AS NAME {
        if ($3.len == 1 && $3.s[0] == '_')
            FAIL_LOC(@3, "cannot use '_' as a target");
        $$ = pattern_as(ctx, AST_MATCH_AS, $1, $3, &@$);
    }
    ;

or_pattern
    : or_alts {
        if ($1->count == 1) {
            $$ = $1->items[0];
        } else {
            $$ = mk(ctx, AST_MATCH_OR, &@$);
            $$->u.match_seq.patterns = seq($1);
        }
    }
    ;

or_alts
    : closed_pattern { $$ = nl_push(ctx, NULL, $1); }
    | or_alts '|' closed_pattern { $$ = nl_push(ctx, $1, $3); }
    ;

closed_pattern
    : literal_value { TRY($$ = pattern_value(ctx, AST_MATCH_VALUE, $1, &@$)); }
    | NONE { $$ = pattern_value(ctx, AST_MATCH_SINGLETON, constant(ctx, AST_CONST_NONE, &@$), &@$); }
    | TRUE { $$ = pattern_value(ctx, AST_MATCH_SINGLETON, constant(ctx, AST_CONST_TRUE, &@$), &@$); }
    | FALSE { $$ = pattern_value(ctx, AST_MATCH_SINGLETON, constant(ctx, AST_CONST_FALSE, &@$), &@$); }
    | NAME { $$ = pattern_as(ctx, AST_MATCH_AS, NULL, $1, &@$); }
    | attr { $$ = pattern_value(ctx, AST_MATCH_VALUE, $1, &@$); }
    | '(' ')' { TRY($$ = pattern_sequence(ctx, NULL, &@$)); }
    | '(' pattern_items ')' { TRY($$ = pattern_group(ctx, $2, false, &@$)); }
    | '(' pattern_items ',' ')' { TRY($$ = pattern_group(ctx, $2, true, &@$)); }
    | '[' ']' { TRY($$ = pattern_sequence(ctx, NULL, &@$)); }
    | '[' pattern_items ']' { TRY($$ = pattern_sequence(ctx, $2, &@$)); }
    | '[' pattern_items ',' ']' { TRY($$ = pattern_sequence(ctx, $2, &@$)); }
    | '{' '}' { TRY($$ = pattern_mapping(ctx, NULL, &@$)); }
    | '{' mapping_items '}' { TRY($$ = pattern_mapping(ctx, $2, &@$)); }
    | '{' mapping_items ',' '}' { TRY($$ = pattern_mapping(ctx, $2, &@$)); }
    | name_or_attr '(' ')' { TRY($$ = pattern_class(ctx, $1, NULL, &@$)); }
    | name_or_attr '(' cls_pattern_args ')' { TRY($$ = pattern_class(ctx, $1, $3, &@$)); }
    | name_or_attr '(' cls_pattern_args ',' ')' { TRY($$ = pattern_class(ctx, $1, $3, &@$)); }
    ;

literal_value
    : signed_number
    | signed_number '+' NUMBER { FAIL_LOC(@3, "imaginary number required in complex literal"); }
    | signed_number '-' NUMBER { FAIL_LOC(@3, "imaginary number required in complex literal"); }
    | strings { TRY($$ = parse_join_strings(ctx, $1, &@$)); }
    ;

signed_number
    : NUMBER
    | '-' NUMBER {
        $$ = mk(ctx, AST_UNARY_OP, &@$);
        $$->u.unary_op.op = AST_UNARY_NEG;
        $$->u.unary_op.operand = $2;
        TRY(fin(ctx, $$));
    }
    ;

name_or_attr
    : attr
    | NAME { $$ = name_node(ctx, $1, &@$); }
    ;

attr
    : name_or_attr '.' NAME {
        $$ = mk(ctx, AST_ATTRIBUTE, &@$);
        $$->u.attribute.value = $1;
        $$->u.attribute.attr = $3;
        TRY(fin(ctx, $$));
    }
    ;

mapping_items
    : key_pattern
    | mapping_items ',' key_pattern { $$ = nl_extend(ctx, $1, $3); }
    ;

key_pattern
    : literal_value ':' pattern { $$ = nl_push(ctx, nl_push(ctx, NULL, $1), $3); }
    | attr ':' pattern { $$ = nl_push(ctx, nl_push(ctx, NULL, $1), $3); }
    | NONE ':' pattern { $$ = nl_push(ctx, nl_push(ctx, NULL, constant(ctx, AST_CONST_NONE, &@1)), $3); }
    | TRUE ':' pattern { $$ = nl_push(ctx, nl_push(ctx, NULL, constant(ctx, AST_CONST_TRUE, &@1)), $3); }
    | FALSE ':' pattern { $$ = nl_push(ctx, nl_push(ctx, NULL, constant(ctx, AST_CONST_FALSE, &@1)), $3); }
    | POW NAME { $$ = nl_push(ctx, nl_push(ctx, NULL, NULL), pattern_as(ctx, AST_MATCH_STAR, NULL, $2, &@$)); }
    ;

cls_pattern_args
    : cls_pattern_arg { $$ = nl_push(ctx, NULL, $1); }
    | cls_pattern_args ',' cls_pattern_arg { $$ = nl_push(ctx, $1, $3); }
    ;

cls_pattern_arg
    : pattern
    | NAME '=' pattern {
        $$ = mk(ctx, AST_KEYWORD, &@$);
        $$->u.keyword.name = $1;
        $$->u.keyword.value = $3;
    }
    ;

if_stmt
    : IF namedexpr_test ':' suite elif_clauses else_clause {
        TRY($$ = if_chain(ctx, if_stmt(ctx, $2, $4, &@$), $5, $6));
    }
    ;

elif_clauses
    : %empty { $$ = NULL; }
    | elif_clauses elif_head { $$ = nl_push(ctx, $1, $2); }
    ;

elif_head
    : ELIF namedexpr_test ':' suite { $$ = if_stmt(ctx, $2, $4, &@$); }
    ;

else_clause
    : %empty { $$ = NULL; }
    | ELSE ':' suite { $$ = $3; }
    ;

while_stmt
    : WHILE namedexpr_test ':' suite else_clause {
        $$ = mk(ctx, AST_WHILE, &@$);
        $$->u.cond_stmt.test = $2;
        $$->u.cond_stmt.body = seq($4);
        $$->u.cond_stmt.orelse = seq($5);
    }
    ;

for_stmt
    : FOR exprlist IN testlist_star_expr ':' suite else_clause {
        AstNode *target = seq_node(ctx, $2, &@2);
        TRY(target && store_target(ctx, target));
        $$ = mk(ctx, AST_FOR, &@$);
        $$->u.for_stmt.target = target;
        $$->u.for_stmt.iter = $4;
        $$->u.for_stmt.body = seq($6);
        $$->u.for_stmt.orelse = seq($7);
    }
    ;

try_stmt
    : TRY ':' suite except_clauses else_clause finally_clause {
        TRY($$ = try_stmt(ctx, $3, $4, $5, $6, &@$));
    }
    | TRY ':' suite FINALLY ':' suite { TRY($$ = try_stmt(ctx, $3, NULL, NULL, $6, &@$)); }
    ;

except_clauses
    : except_clause { $$ = nl_push(ctx, NULL, $1); }
    | except_clauses except_clause { $$ = nl_push(ctx, $1, $2); }
    ;

except_clause
    : EXCEPT ':' suite { $$ = except_handler(ctx, NULL, NULL, $3, &@$, false); }
    | EXCEPT test ':' suite { $$ = except_handler(ctx, $2, NULL, $4, &@$, false); }
    | EXCEPT test AS NAME ':' suite { $$ = except_handler(ctx, $2, &$4, $6, &@$, false); }
    | EXCEPT test ',' testlist_star_expr ':' suite {
        FAIL_NODE($2, "multiple exception types must be parenthesized");
    }
    | EXCEPT '*' ':' { FAIL_LOC(@3, "expected one or more exception types"); }
    | EXCEPT '*' test ':' suite { $$ = except_handler(ctx, $3, NULL, $5, &@$, true); }
    | EXCEPT '*' test AS NAME ':' suite { $$ = except_handler(ctx, $3, &$5, $7, &@$, true); }
    | EXCEPT '*' test ',' testlist_star_expr ':' suite {
        FAIL_NODE($3, "multiple exception types must be parenthesized");
    }
    ;

finally_clause
    : %empty { $$ = NULL; }
    | FINALLY ':' suite { $$ = $3; }
    ;

with_stmt
    : WITH with_items ':' suite {
        $$ = mk(ctx, AST_WITH, &@$);
        $$->u.with.items = seq(with_paren_items(ctx, $2));
        $$->u.with.body = seq($4);
    }
    ;

with_items
    : with_item { $$ = nl_push(ctx, NULL, $1); }
    | with_items ',' with_item { $$ = nl_push(ctx, $1, $3); }
    ;

with_item
    : test {
        $$ = mk(ctx, AST_WITH_ITEM, &@$);
        $$->u.with_item.context_expr = $1;
    }
    | test AS expr {
        TRY(store_target(ctx, $3));
        $$ = mk(ctx, AST_WITH_ITEM, &@$);
        $$->u.with_item.context_expr = $1;
        $$->u.with_item.optional_vars = $3;
    }
    ;

funcdef
    : DEF NAME '(' params ')' ret_annot ':' suite {
        AstNode *args = arguments(ctx, $4, &@4);
        TRY(args);
        $$ = mk(ctx, AST_FUNCTION_DEF, &@$);
        $$->u.function_def.name = $2;
        $$->u.function_def.args = args;
        $$->u.function_def.returns = $6;
        $$->u.function_def.body = seq($8);
    }
    ;

ret_annot
    : %empty { $$ = NULL; }
    | ARROW test { $$ = $2; }
    ;

params
    : %empty { $$ = NULL; }
    | param_items
    | param_items ','
    ;

param_items
    : param { $$ = param_push(ctx, NULL, $1); }
    | param_items ',' param { $$ = param_push(ctx, $1, $3); }
    ;

param
    : NAME { $$ = param(ctx, PARAM_PLAIN, &$1, NULL, NULL, &@$); }
    | NAME ':' test { $$ = param(ctx, PARAM_PLAIN, &$1, $3, NULL, &@$); }
    | NAME '=' test { $$ = param(ctx, PARAM_PLAIN, &$1, NULL, $3, &@$); }
    | NAME ':' test '=' test { $$ = param(ctx, PARAM_PLAIN, &$1, $3, $5, &@$); }
    | '*' { $$ = param(ctx, PARAM_STAR, NULL, NULL, NULL, &@$); }
    | '*' NAME { $$ = param(ctx, PARAM_STAR, &$2, NULL, NULL, &@$); }
    | '*' NAME ':' test { $$ = param(ctx, PARAM_STAR, &$2, $4, NULL, &@$); }
    | POW NAME { $$ = param(ctx, PARAM_DSTAR, &$2, NULL, NULL, &@$); }
    | POW NAME ':' test { $$ = param(ctx, PARAM_DSTAR, &$2, $4, NULL, &@$); }
    | '/' { $$ = param(ctx, PARAM_SLASH, NULL, NULL, NULL, &@$); }
    | '*' NAME '=' test { FAIL_LOC(@3, "var-positional argument cannot have default value"); }
    | '*' NAME ':' test '=' test { FAIL_LOC(@5, "var-positional argument cannot have default value"); }
    | POW NAME '=' test { FAIL_LOC(@3, "var-keyword argument cannot have default value"); }
    | POW NAME ':' test '=' test { FAIL_LOC(@5, "var-keyword argument cannot have default value"); }
    ;

classdef
    : CLASS NAME class_args ':' suite {
        $$ = mk(ctx, AST_CLASS_DEF, &@$);
        $$->u.class_def.name = $2;
        TRY(split_args(ctx, $3, &$$->u.class_def.bases, &$$->u.class_def.keywords));
        $$->u.class_def.body = seq($5);
    }
    ;

class_args
    : %empty { $$ = (ArgList){ NULL, NULL, false }; }
    | '(' ')' { $$ = (ArgList){ NULL, NULL, false }; }
    | '(' arglist ')' { $$ = $2; }
    ;

decorated
    : decorators funcdef { $$ = decorate($2, $1, &@$); }
    | decorators classdef { $$ = decorate($2, $1, &@$); }
    | decorators ASYNC funcdef { $$ = decorate(async_stmt($3, &@3), $1, &@$); }
    ;

decorators
    : decorator { $$ = nl_push(ctx, NULL, $1); }
    | decorators decorator { $$ = nl_push(ctx, $1, $2); }
    ;

decorator
    : '@' namedexpr_test NEWLINE { $$ = $2; }
    ;

suite
    : simple_stmt
    | NEWLINE INDENT stmts DEDENT { $$ = $3; }
    ;

/* Expressions, loosest binding first. */

namedexpr_test
    : test
    | test COLONEQ test {
        if ($1->kind != AST_NAME)
            FAIL_NODE($1, "cannot use assignment expressions with %s", ast_expr_name($1));
        ast_set_context($1, AST_STORE);
        $$ = mk(ctx, AST_NAMED_EXPR, &@$);
        $$->u.named_expr.target = $1;
        $$->u.named_expr.value = $3;
        TRY(fin(ctx, $$));
    }
    ;

test
    : or_test
    | or_test IF or_test ELSE test {
        $$ = mk(ctx, AST_IF_EXP, &@$);
        $$->u.if_exp.test = $3;
        $$->u.if_exp.body = $1;
        $$->u.if_exp.orelse = $5;
        TRY(fin(ctx, $$));
    }
    | lambdef
    ;

lambdef
    : LAMBDA ':' test {
        AstNode *args = arguments(ctx, NULL, &@1);
        TRY(args);
        $$ = mk(ctx, AST_LAMBDA, &@$);
        $$->u.lambda.args = args;
        $$->u.lambda.body = $3;
        TRY(fin(ctx, $$));
    }
    | LAMBDA lparams ':' test {
        AstNode *args = arguments(ctx, $2, &@2);
        TRY(args);
        $$ = mk(ctx, AST_LAMBDA, &@$);
        $$->u.lambda.args = args;
        $$->u.lambda.body = $4;
        TRY(fin(ctx, $$));
    }
    ;

lparams
    : lparam_items
    | lparam_items ','
    ;

lparam_items
    : lparam { $$ = param_push(ctx, NULL, $1); }
    | lparam_items ',' lparam { $$ = param_push(ctx, $1, $3); }
    ;

lparam
    : NAME { $$ = param(ctx, PARAM_PLAIN, &$1, NULL, NULL, &@$); }
    | NAME '=' test { $$ = param(ctx, PARAM_PLAIN, &$1, NULL, $3, &@$); }
    | '*' { $$ = param(ctx, PARAM_STAR, NULL, NULL, NULL, &@$); }
    | '*' NAME { $$ = param(ctx, PARAM_STAR, &$2, NULL, NULL, &@$); }
    | POW NAME { $$ = param(ctx, PARAM_DSTAR, &$2, NULL, NULL, &@$); }
    | '/' { $$ = param(ctx, PARAM_SLASH, NULL, NULL, NULL, &@$); }
    | '*' NAME '=' test { FAIL_LOC(@3, "var-positional argument cannot have default value"); }
    | POW NAME '=' test { FAIL_LOC(@3, "var-keyword argument cannot have default value"); }
    ;

or_test
    : and_test
    | and_test or_chain { TRY($$ = boolop(ctx, AST_BOOL_OR, $1, $2, &@$)); }
    ;

or_chain
    : OR and_test { $$ = nl_push(ctx, NULL, $2); }
    | or_chain OR and_test { $$ = nl_push(ctx, $1, $3); }
    ;

and_test
    : not_test
    | not_test and_chain { TRY($$ = boolop(ctx, AST_BOOL_AND, $1, $2, &@$)); }
    ;

and_chain
    : AND not_test { $$ = nl_push(ctx, NULL, $2); }
    | and_chain AND not_test { $$ = nl_push(ctx, $1, $3); }
    ;

not_test
    : NOT not_test { TRY($$ = unop(ctx, AST_UNARY_NOT, $2, &@$)); }
    | comparison
    ;

comparison
    : expr
    | expr comp_chain {
        $$ = mk(ctx, AST_COMPARE, &@$);
        $$->u.compare.left = $1;
        $$->u.compare.ops = arena_alloc(ctx->arena, $2.ops->count * sizeof(AstCmpOp));
        for (size_t i = 0; i < $2.ops->count; i++)
            $$->u.compare.ops[i] = (AstCmpOp)$2.ops->items[i];
        $$->u.compare.comparators = seq($2.exprs);
        TRY(fin(ctx, $$));
    }
    ;

comp_chain
    : comp_op expr {
        $$.ops = arena_alloc(ctx->arena, sizeof(IntList));
        $$.exprs = nl_push(ctx, NULL, $2);
        LIST_PUSH(ctx->arena, $$.ops, $1);
    }
    | comp_chain comp_op expr {
        $$ = $1;
        LIST_PUSH(ctx->arena, $$.ops, $2);
        nl_push(ctx, $$.exprs, $3);
    }
    ;

comp_op
    : '<' { $$ = AST_CMP_LT; }
    | '>' { $$ = AST_CMP_GT; }
    | EQ { $$ = AST_CMP_EQ; }
    | GE { $$ = AST_CMP_GT_E; }
    | LE { $$ = AST_CMP_LT_E; }
    | NE { $$ = AST_CMP_NOT_EQ; }
    | IN { $$ = AST_CMP_IN; }
    | NOT IN { $$ = AST_CMP_NOT_IN; }
    | IS { $$ = AST_CMP_IS; }
    | IS NOT { $$ = AST_CMP_IS_NOT; }
    ;

star_expr
    : '*' expr {
        $$ = mk(ctx, AST_STARRED, &@$);
        $$->u.starred.value = $2;
        TRY(fin(ctx, $$));
    }
    ;

expr
    : xor_expr
    | expr '|' xor_expr { TRY($$ = binop(ctx, $1, AST_OP_BITOR, $3, &@$)); }
    ;

xor_expr
    : and_expr
    | xor_expr '^' and_expr { TRY($$ = binop(ctx, $1, AST_OP_BITXOR, $3, &@$)); }
    ;

and_expr
    : shift_expr
    | and_expr '&' shift_expr { TRY($$ = binop(ctx, $1, AST_OP_BITAND, $3, &@$)); }
    ;

shift_expr
    : arith_expr
    | shift_expr LSHIFT arith_expr { TRY($$ = binop(ctx, $1, AST_OP_LSHIFT, $3, &@$)); }
    | shift_expr RSHIFT arith_expr { TRY($$ = binop(ctx, $1, AST_OP_RSHIFT, $3, &@$)); }
    ;

arith_expr
    : term
    | arith_expr '+' term { TRY($$ = binop(ctx, $1, AST_OP_ADD, $3, &@$)); }
    | arith_expr '-' term { TRY($$ = binop(ctx, $1, AST_OP_SUB, $3, &@$)); }
    ;

term
    : factor
    | term '*' factor { TRY($$ = binop(ctx, $1, AST_OP_MULT, $3, &@$)); }
    | term '@' factor { TRY($$ = binop(ctx, $1, AST_OP_MATMULT, $3, &@$)); }
    | term '/' factor { TRY($$ = binop(ctx, $1, AST_OP_DIV, $3, &@$)); }
    | term FLOORDIV factor { TRY($$ = binop(ctx, $1, AST_OP_FLOORDIV, $3, &@$)); }
    | term '%' factor { TRY($$ = binop(ctx, $1, AST_OP_MOD, $3, &@$)); }
    ;

factor
    : '+' factor { TRY($$ = unop(ctx, AST_UNARY_POS, $2, &@$)); }
    | '-' factor { TRY($$ = unop(ctx, AST_UNARY_NEG, $2, &@$)); }
    | '~' factor { TRY($$ = unop(ctx, AST_UNARY_INVERT, $2, &@$)); }
    | power
    ;

power
    : await_primary
    | await_primary POW factor { TRY($$ = binop(ctx, $1, AST_OP_POW, $3, &@$)); }
    ;

await_primary
    : atom_expr
    | AWAIT atom_expr {
        $$ = mk(ctx, AST_AWAIT, &@$);
        $$->u.yield.value = $2;
        TRY(fin(ctx, $$));
    }
    ;

atom_expr
    : atom
    | atom_expr '(' ')' { TRY($$ = call_node(ctx, $1, (ArgList){ NULL, NULL, false }, &@$)); }
    | atom_expr '(' arglist ')' { TRY($$ = call_node(ctx, $1, $3, &@$)); }
    | atom_expr '[' subscriptlist ']' {
        $$ = mk(ctx, AST_SUBSCRIPT, &@$);
        $$->u.subscript.value = $1;
        $$->u.subscript.index = $3;
        TRY(fin(ctx, $$));
    }
    | atom_expr '.' NAME {
        $$ = mk(ctx, AST_ATTRIBUTE, &@$);
        $$->u.attribute.value = $1;
        $$->u.attribute.attr = $3;
        TRY(fin(ctx, $$));
    }
    ;

atom
    : '(' ')' { TRY($$ = sequence(ctx, AST_TUPLE, NULL, &@$)); }
    | '(' yield_expr ')' { $$ = $2; }
    | '(' testlist_comp ')' { TRY($$ = paren_node(ctx, $2, &@$)); }
    | '[' ']' { TRY($$ = sequence(ctx, AST_LIST, NULL, &@$)); }
    | '[' testlist_comp ']' { TRY($$ = list_node(ctx, $2, &@$)); }
    | '{' '}' {
        $$ = mk(ctx, AST_DICT, &@$);
        $$->depth = 1;
    }
    | '{' dictorsetmaker '}' { TRY($$ = brace_node(ctx, $2, &@$)); }
    | NAME { $$ = name_node(ctx, $1, &@$); }
    | NUMBER { $$ = $1; }
    | strings { TRY($$ = parse_join_strings(ctx, $1, &@$)); }
    | ELLIPSIS { $$ = constant(ctx, AST_CONST_ELLIPSIS, &@$); }
    | NONE { $$ = constant(ctx, AST_CONST_NONE, &@$); }
    | TRUE { $$ = constant(ctx, AST_CONST_TRUE, &@$); }
    | FALSE { $$ = constant(ctx, AST_CONST_FALSE, &@$); }
    ;

strings
    : STRING {
        $$ = arena_alloc(ctx->arena, sizeof(StrList));
        LIST_PUSH(ctx->arena, $$, $1);
    }
    | strings STRING {
        $$ = $1;
        LIST_PUSH(ctx->arena, $$, $2);
    }
    ;

testlist_comp
    : tc_elem comp_for { $$ = (Collection){ nl_push(ctx, NULL, $1), $2, false, false }; }
    | tc_items { $$ = (Collection){ $1, NULL, false, false }; }
    | tc_items ',' { $$ = (Collection){ $1, NULL, true, false }; }
    ;

tc_items
    : tc_elem { $$ = nl_push(ctx, NULL, $1); }
    | tc_items ',' tc_elem { $$ = nl_push(ctx, $1, $3); }
    ;

tc_elem
    : namedexpr_test
    | star_expr
    | namedexpr_test AS expr {
        /* Only a with statement's parenthesized items take this form
         * (vm/compiler.c refuses it anywhere else). */
        TRY(store_target(ctx, $3));
        $$ = mk(ctx, AST_WITH_ITEM, &@$);
        $$->u.with_item.context_expr = $1;
        $$->u.with_item.optional_vars = $3;
    }
    ;

dictorsetmaker
    : dict_item comp_for {
        if (!$1->items[0])
            FAIL_LOC(@1, "dict unpacking cannot be used in dict comprehension");
        $$ = (Collection){ $1, $2, false, true };
    }
    | dict_items { $$ = (Collection){ $1, NULL, false, true }; }
    | dict_items ',' { $$ = (Collection){ $1, NULL, true, true }; }
    | tc_elem comp_for { $$ = (Collection){ nl_push(ctx, NULL, $1), $2, false, false }; }
    | tc_items { $$ = (Collection){ $1, NULL, false, false }; }
    | tc_items ',' { $$ = (Collection){ $1, NULL, true, false }; }
    ;

dict_items
    : dict_item
    | dict_items ',' dict_item { $$ = nl_extend(ctx, $1, $3); }
    ;

dict_item
    : test ':' test { $$ = nl_push(ctx, nl_push(ctx, NULL, $1), $3); }
    | POW expr { $$ = nl_push(ctx, nl_push(ctx, NULL, NULL), $2); }
    ;

comp_for
    : comp_clause { $$ = nl_push(ctx, NULL, $1); }
    | comp_for comp_clause { $$ = nl_push(ctx, $1, $2); }
    ;

comp_clause
    : FOR exprlist IN or_test comp_ifs {
        AstNode *target = seq_node(ctx, $2, &@2);
        TRY(target);
        TRY($$ = comprehension(ctx, target, $4, $5, &@$));
    }
    | ASYNC FOR exprlist IN or_test comp_ifs {
        AstNode *target = seq_node(ctx, $3, &@3);
        TRY(target);
        TRY($$ = comprehension(ctx, target, $5, $6, &@$));
        $$->u.comprehension.is_async = true;
    }
    ;

comp_ifs
    : %empty { $$ = NULL; }
    | comp_ifs IF or_test { $$ = nl_push(ctx, $1, $3); }
    ;

subscriptlist
    : sub_items {
        /* a[*b] is a[(*b,)], as in Python 3.11. */
        if ($1->count == 1 && $1->items[0]->kind != AST_STARRED)
            $$ = $1->items[0];
        else
            TRY($$ = sequence(ctx, AST_TUPLE, $1, &@$));
    }
    | sub_items ',' { TRY($$ = sequence(ctx, AST_TUPLE, $1, &@$)); }
    ;

sub_items
    : subscript { $$ = nl_push(ctx, NULL, $1); }
    | sub_items ',' subscript { $$ = nl_push(ctx, $1, $3); }
    ;

subscript
    : namedexpr_test
    | star_expr
    | opt_test ':' opt_test {
        $$ = mk(ctx, AST_SLICE, &@$);
        $$->u.slice.lower = $1;
        $$->u.slice.upper = $3;
        TRY(fin(ctx, $$));
    }
    | opt_test ':' opt_test ':' opt_test {
        $$ = mk(ctx, AST_SLICE, &@$);
        $$->u.slice.lower = $1;
        $$->u.slice.upper = $3;
        $$->u.slice.step = $5;
        TRY(fin(ctx, $$));
    }
    ;

opt_test
    : %empty { $$ = NULL; }
    | test
    ;

arglist
    : arg_items
    | arg_items ',' { $$ = $1; $$.comma = true; }
    ;

arg_items
    : argument { $$ = (ArgList){ nl_push(ctx, NULL, $1), NULL, false }; }
    | arg_items ',' argument {
        $$ = $1;
        nl_push(ctx, $$.items, $3);
    }
    | genexp_arg { $$ = (ArgList){ nl_push(ctx, NULL, $1), $1, false }; }
    | arg_items ',' genexp_arg {
        $$ = $1;
        nl_push(ctx, $$.items, $3);
        if (!$$.bare_genexp)
            $$.bare_genexp = $3;
    }
    ;

genexp_arg
    : namedexpr_test comp_for { TRY($$ = comp_node(ctx, AST_GENERATOR_EXP, $1, NULL, $2, &@$)); }
    ;

argument
    : namedexpr_test
    | test '=' test { TRY($$ = keyword_arg(ctx, $1, $3, &@$)); }
    | '*' test {
        $$ = mk(ctx, AST_STARRED, &@$);
        $$->u.starred.value = $2;
        TRY(fin(ctx, $$));
    }
    | POW test {
        $$ = mk(ctx, AST_KEYWORD, &@$);
        $$->u.keyword.value = $2;
        TRY(fin(ctx, $$));
    }
    ;

yield_expr
    : YIELD {
        $$ = mk(ctx, AST_YIELD, &@$);
        $$->depth = 1;
    }
    | YIELD FROM test {
        $$ = mk(ctx, AST_YIELD_FROM, &@$);
        $$->u.yield.value = $3;
        TRY(fin(ctx, $$));
    }
    | YIELD testlist_star_expr {
        $$ = mk(ctx, AST_YIELD, &@$);
        $$->u.yield.value = $2;
        TRY(fin(ctx, $$));
    }
    ;

testlist_star_expr
    : tse_items { TRY($$ = seq_node(ctx, $1, &@$)); }
    | tse_items ',' { $1.comma = true; TRY($$ = seq_node(ctx, $1, &@$)); }
    ;

tse_items
    : tse_elem { $$ = (ExprSeq){ nl_push(ctx, NULL, $1), false }; }
    | tse_items ',' tse_elem { $$ = $1; $$.comma = true; nl_push(ctx, $$.items, $3); }
    ;

tse_elem
    : test
    | star_expr
    ;

exprlist
    : el_items
    | el_items ',' { $$ = $1; $$.comma = true; }
    ;

el_items
    : expr { $$ = (ExprSeq){ nl_push(ctx, NULL, $1), false }; }
    | star_expr { $$ = (ExprSeq){ nl_push(ctx, NULL, $1), false }; }
    | el_items ',' expr { $$ = $1; $$.comma = true; nl_push(ctx, $$.items, $3); }
    | el_items ',' star_expr { $$ = $1; $$.comma = true; nl_push(ctx, $$.items, $3); }
    ;

%%

static bool contains(const yysymbol_kind_t *kinds, int n, yysymbol_kind_t k)
{
    for (int i = 0; i < n; i++)
        if (kinds[i] == k)
            return true;
    return false;
}

static const char *block_name(int tok)
{
    switch (tok) {
    case TOK_IF: return "'if' statement";
    case TOK_ELIF: return "'elif' statement";
    case TOK_ELSE: return "'else' statement";
    case TOK_WHILE: return "'while' statement";
    case TOK_FOR: return "'for' statement";
    case TOK_TRY: return "'try' statement";
    case TOK_EXCEPT: return "'except' statement";
    case TOK_FINALLY: return "'finally' statement";
    case TOK_WITH: return "'with' statement";
    case TOK_DEF: return "function definition";
    case TOK_CLASS: return "class definition";
    default: return NULL;
    }
}

/* Tokens after which CPython reads `NAME = value` as a mistyped `==`. */
static bool named_expr_context(int tok)
{
    return tok == TOK_IF || tok == TOK_ELIF || tok == TOK_WHILE || tok == '(' || tok == '[' ||
           tok == '{' || tok == ',';
}

/* Whether the innermost open bracket holds expressions (not an import list
 * or a parameter list), where CPython hints at a missing comma. */
static bool in_expression_brackets(const ParseContext *ctx)
{
    if (ctx->paren_depth == 0)
        return false;
    if (ctx->line_first_tok == TOK_FROM || ctx->line_first_tok == TOK_IMPORT)
        return false;
    return !(ctx->line_first_tok == TOK_DEF && ctx->paren_depth == 1);
}

static bool ends_operand(int tok)
{
    return tok == TOK_NAME || tok == TOK_NUMBER || tok == TOK_STRING || tok == ')' || tok == ']' ||
           tok == '}' || tok == TOK_NONE || tok == TOK_TRUE || tok == TOK_FALSE || tok == TOK_ELLIPSIS;
}

/* Tokens that start an operand and cannot continue one. */
static bool starts_operand(int tok)
{
    return tok == TOK_NAME || tok == TOK_NUMBER || tok == TOK_STRING || tok == TOK_NONE ||
           tok == TOK_TRUE || tok == TOK_FALSE || tok == TOK_ELLIPSIS || tok == TOK_LAMBDA ||
           tok == TOK_NOT || tok == '~';
}

/* `print "x"`: Python 2 habits get CPython's hint. */
static bool legacy_print(const ParseContext *ctx)
{
    const AstStr *name = &ctx->hist_name[1];
    if (ctx->hist_tok[1] != TOK_NAME || !name->s)
        return false;
    if (strcmp(name->s, "print") != 0 && strcmp(name->s, "exec") != 0)
        return false;
    return starts_operand(ctx->hist_tok[0]) && ctx->hist_tok[0] != TOK_NOT;
}

/* Turns bison's "unexpected X" into CPython's message for the situation. */
static int yyreport_syntax_error(const yypcontext_t *yyctx, yyscan_t scanner, ParseContext *ctx)
{
    ParseContext *root = ctx->root;
    if (root->has_error)
        return 0;
    yysymbol_kind_t la = yypcontext_token(yyctx);
    const YYLTYPE *loc = yypcontext_location(yyctx);
    yysymbol_kind_t expected[YYNTOKENS];
    int n = yypcontext_expected_tokens(yyctx, expected, YYNTOKENS);
    bool at_end = la == YYSYMBOL_YYEOF || (la == YYSYMBOL_DEDENT && ctx->at_eof);
    int line = loc->first_line, col = loc->first_column;
    const char *kind = "SyntaxError";
    /* Like CPython, an error at the end of input is placed at the end of
     * the last line rather than after it. */
    if (at_end && ctx->mode == PARSE_MODE_FILE && ctx->newline_loc.first_line > 0) {
        line = ctx->newline_loc.first_line;
        col = ctx->newline_loc.first_column;
    }
    char msg[160];

    if (la == YYSYMBOL_INDENT) {
        kind = "IndentationError";
        snprintf(msg, sizeof msg, "unexpected indent");
        /* CPython points at the last character of the indentation. */
        if (col > 1)
            col--;
    } else if (contains(expected, n, YYSYMBOL_INDENT)) {
        const char *what = block_name(ctx->block_tok);
        kind = "IndentationError";
        if (what)
            snprintf(msg, sizeof msg, "expected an indented block after %s on line %d", what,
                     ctx->block_line);
        else
            snprintf(msg, sizeof msg, "expected an indented block");
    } else if (contains(expected, n, YYSYMBOL_EXCEPT) && contains(expected, n, YYSYMBOL_FINALLY)) {
        snprintf(msg, sizeof msg, "expected 'except' or 'finally' block");
    } else if (n == 1 && expected[0] == YYSYMBOL_ELSE) {
        snprintf(msg, sizeof msg, "expected 'else' after 'if' expression");
    } else if (legacy_print(ctx)) {
        line = ctx->hist_loc[1].first_line;
        col = ctx->hist_loc[1].first_column;
        snprintf(msg, sizeof msg, "Missing parentheses in call to '%s'. Did you mean %s(...)?",
                 ctx->hist_name[1].s, ctx->hist_name[1].s);
    } else if (ctx->hist_tok[0] == '=' && ctx->hist_tok[1] == TOK_NAME &&
               named_expr_context(ctx->hist_tok[2])) {
        line = ctx->hist_loc[1].first_line;
        col = ctx->hist_loc[1].first_column;
        snprintf(msg, sizeof msg, "invalid syntax. Maybe you meant '==' or ':=' instead of '='?");
    } else if (la == YYSYMBOL_YYEOF && ctx->mode != PARSE_MODE_FSTRING) {
        snprintf(msg, sizeof msg, "unexpected EOF while parsing");
    } else if (contains(expected, n, YYTRANSLATE(':')) &&
               (ctx->hist_tok[0] == '}' || (ctx->hist_tok[0] == ',' && ctx->paren_depth > 0 &&
                                            ctx->paren[ctx->paren_depth - 1] == '{'))) {
        line = ctx->hist_loc[1].first_line;
        col = ctx->hist_loc[1].first_column;
        snprintf(msg, sizeof msg, "':' expected after dictionary key");
    } else if (in_expression_brackets(ctx) && ends_operand(ctx->hist_tok[1]) &&
               starts_operand(ctx->hist_tok[0]) &&
               !(ctx->hist_tok[1] == TOK_NAME && ctx->hist_tok[0] == TOK_STRING)) {
        line = ctx->hist_loc[1].first_line;
        col = ctx->hist_loc[1].first_column;
        snprintf(msg, sizeof msg, "invalid syntax. Perhaps you forgot a comma?");
    } else {
        snprintf(msg, sizeof msg, "invalid syntax");
    }
    parse_report(ctx, false, kind, line, col, "%s", msg);
    if (at_end && ctx == root && !root->ends_with_blank_line)
        root->incomplete = true;
    return 0;
}
