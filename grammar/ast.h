#ifndef MINI_GRAMMAR_AST_H
#define MINI_GRAMMAR_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "grammar/arena.h"

/* Deepest expression nesting the parser accepts ("too many nested
 * expressions" beyond it), so that recursive walks over the tree have a
 * bounded stack depth. */
#define AST_MAX_DEPTH 1000

typedef enum AstKind {
    /* Expressions. */
    AST_NAME,
    AST_INT,
    AST_FLOAT,
    AST_STR,
    AST_BYTES,
    AST_JOINED_STR,
    AST_FORMATTED_VALUE,
    AST_CONSTANT,
    AST_BOOL_OP,
    AST_BIN_OP,
    AST_UNARY_OP,
    AST_COMPARE,
    AST_CALL,
    AST_ATTRIBUTE,
    AST_SUBSCRIPT,
    AST_SLICE,
    AST_LIST,
    AST_TUPLE,
    AST_DICT,
    AST_SET,
    AST_LIST_COMP,
    AST_SET_COMP,
    AST_DICT_COMP,
    AST_GENERATOR_EXP,
    AST_LAMBDA,
    AST_IF_EXP,
    AST_STARRED,
    AST_YIELD,
    AST_YIELD_FROM,
    AST_NAMED_EXPR,
    AST_AWAIT,
    /* Statements. */
    AST_FUNCTION_DEF,
    AST_CLASS_DEF,
    AST_RETURN,
    AST_DELETE,
    AST_ASSIGN,
    AST_AUG_ASSIGN,
    AST_ANN_ASSIGN,
    AST_EXPR,
    AST_IF,
    AST_WHILE,
    AST_FOR,
    AST_BREAK,
    AST_CONTINUE,
    AST_PASS,
    AST_GLOBAL,
    AST_NONLOCAL,
    AST_IMPORT,
    AST_IMPORT_FROM,
    AST_RAISE,
    AST_TRY,
    AST_WITH,
    AST_ASSERT,
    AST_MATCH,
    /* Everything else. */
    AST_MODULE,
    AST_ARGUMENTS,
    AST_ARG,
    AST_KEYWORD,
    AST_COMPREHENSION,
    AST_ALIAS,
    AST_EXCEPT_HANDLER,
    AST_WITH_ITEM,
    AST_MATCH_CASE,
    /* Patterns (of a match statement's cases). */
    AST_MATCH_VALUE,
    AST_MATCH_SINGLETON,
    AST_MATCH_SEQUENCE,
    AST_MATCH_MAPPING,
    AST_MATCH_CLASS,
    AST_MATCH_STAR,
    AST_MATCH_AS,
    AST_MATCH_OR,
    AST_KIND_COUNT
} AstKind;

/* How a Name, Attribute, Subscript, Starred, List or Tuple is used. */
typedef enum AstCtx { AST_LOAD, AST_STORE, AST_DEL } AstCtx;

typedef enum AstConstant {
    AST_CONST_NONE,
    AST_CONST_TRUE,
    AST_CONST_FALSE,
    AST_CONST_ELLIPSIS
} AstConstant;

typedef enum AstBoolOpKind { AST_BOOL_AND, AST_BOOL_OR } AstBoolOpKind;

/* Binary operators; also the operator of an augmented assignment. */
typedef enum AstOperator {
    AST_OP_ADD,
    AST_OP_SUB,
    AST_OP_MULT,
    AST_OP_MATMULT,
    AST_OP_DIV,
    AST_OP_FLOORDIV,
    AST_OP_MOD,
    AST_OP_POW,
    AST_OP_LSHIFT,
    AST_OP_RSHIFT,
    AST_OP_BITOR,
    AST_OP_BITXOR,
    AST_OP_BITAND
} AstOperator;

typedef enum AstUnaryOpKind {
    AST_UNARY_NOT,
    AST_UNARY_NEG,
    AST_UNARY_POS,
    AST_UNARY_INVERT
} AstUnaryOpKind;

typedef enum AstCmpOp {
    AST_CMP_EQ,
    AST_CMP_NOT_EQ,
    AST_CMP_LT,
    AST_CMP_LT_E,
    AST_CMP_GT,
    AST_CMP_GT_E,
    AST_CMP_IS,
    AST_CMP_IS_NOT,
    AST_CMP_IN,
    AST_CMP_NOT_IN
} AstCmpOp;

typedef struct AstNode AstNode;

/* Identifier or string payload: LEN bytes at S, followed by a NUL (string
 * payloads may also contain NULs). S is NULL when absent. */
typedef struct AstStr {
    const char *s;
    size_t len;
} AstStr;

/* A sequence of nodes. Items are never NULL except where noted. */
typedef struct AstSeq {
    size_t count;
    AstNode **items;
} AstSeq;

struct AstNode {
    AstKind kind;
    int line, col;         /* 1-based position of the first token; col counts bytes */
    int end_line, end_col; /* position just past the last byte of the node */
    int depth;             /* nesting depth of an expression subtree (0 for statements) */
    union {
        /* Expressions. */
        struct { AstStr id; AstCtx ctx; } name;
        /* Digits without prefix or underscores, in BASE (2, 8, 10 or 16). */
        struct { AstStr digits; int base; } int_lit;
        struct { double value; bool imag; } float_lit; /* imag: 2.5j */
        /* Str (UTF-8) and Bytes, escapes decoded, adjacent literals joined. */
        struct { AstStr value; } str;
        /* f-string: Str and FormattedValue parts. */
        struct { AstSeq values; } joined_str;
        /* CONVERSION is 0, 'r', 's' or 'a'; FORMAT_SPEC a JoinedStr or NULL. */
        struct { AstNode *value; int conversion; AstNode *format_spec; } formatted_value;
        struct { AstConstant value; } constant;
        struct { AstBoolOpKind op; AstSeq values; } bool_op;
        struct { AstNode *left; AstOperator op; AstNode *right; } bin_op;
        struct { AstUnaryOpKind op; AstNode *operand; } unary_op;
        /* OPS has comparators.count entries. */
        struct { AstNode *left; AstCmpOp *ops; AstSeq comparators; } compare;
        /* ARGS may contain Starred; KEYWORDS are Keyword nodes. */
        struct { AstNode *func; AstSeq args; AstSeq keywords; } call;
        struct { AstNode *value; AstStr attr; AstCtx ctx; } attribute;
        /* INDEX may be a Slice, or a Tuple containing Slices. */
        struct { AstNode *value; AstNode *index; AstCtx ctx; } subscript;
        /* Each part is NULL when omitted. */
        struct { AstNode *lower, *upper, *step; } slice;
        /* List, Tuple. */
        struct { AstSeq elts; AstCtx ctx; } seq;
        /* A NULL key means the value is unpacked (`**value`). */
        struct { AstSeq keys; AstSeq values; } dict;
        struct { AstSeq elts; } set;
        /* ListComp, SetComp, GeneratorExp (VALUE NULL) and DictComp (ELT is
         * the key); GENERATORS are Comprehension nodes. */
        struct { AstNode *elt; AstNode *value; AstSeq generators; } comp;
        struct { AstNode *args; AstNode *body; } lambda;
        struct { AstNode *test, *body, *orelse; } if_exp;
        struct { AstNode *value; AstCtx ctx; } starred;
        /* Yield (VALUE may be NULL), YieldFrom, Await. */
        struct { AstNode *value; } yield;
        /* TARGET is a Name. */
        struct { AstNode *target, *value; } named_expr;

        /* Statements. ARGS is an Arguments node. */
        /* RETURNS (the `->` annotation) may be NULL. */
        /* IS_ASYNC: `async def`, likewise `async for`, `async with` and a
         * comprehension's `async for` clause. */
        struct { AstStr name; AstNode *args; AstNode *returns; AstSeq body; AstSeq decorators; bool is_async; } function_def;
        struct { AstStr name; AstSeq bases; AstSeq keywords; AstSeq body; AstSeq decorators; } class_def;
        /* Return (VALUE may be NULL), Expr. */
        struct { AstNode *value; } value_stmt;
        struct { AstSeq targets; } delete_stmt;
        /* `a = b = c` has targets a, b. */
        struct { AstSeq targets; AstNode *value; } assign;
        struct { AstNode *target; AstOperator op; AstNode *value; } aug_assign;
        /* VALUE may be NULL; SIMPLE: the target is a bare name, whose
         * annotation a module or class body records in __annotations__. */
        struct { AstNode *target; AstNode *annotation; AstNode *value; bool simple; } ann_assign;
        /* If, While: `elif` is an If alone in ORELSE. */
        struct { AstNode *test; AstSeq body; AstSeq orelse; } cond_stmt;
        struct { AstNode *target, *iter; AstSeq body; AstSeq orelse; bool is_async; } for_stmt;
        /* Global, Nonlocal: NAMES are Name nodes. */
        struct { AstSeq names; } scope_stmt;
        /* NAMES are Alias nodes. */
        struct { AstSeq names; } import;
        /* MODULE.s is NULL for `from . import x`; LEVEL counts the dots. */
        struct { AstStr module; AstSeq names; int level; } import_from;
        struct { AstNode *exc, *cause; } raise;
        /* STAR: the handlers are `except*` clauses (CPython's TryStar). */
        struct { AstSeq body; AstSeq handlers; AstSeq orelse; AstSeq finalbody; bool star; } try_stmt;
        /* ITEMS are WithItem nodes. */
        struct { AstSeq items; AstSeq body; bool is_async; } with;
        struct { AstNode *test, *msg; } assert_stmt;
        /* CASES are MatchCase nodes. */
        struct { AstNode *subject; AstSeq cases; } match;

        /* Everything else. FILENAME is as given to parse_module. */
        struct { AstSeq body; AstStr filename; } module;
        /* Function and lambda parameters. DEFAULTS belong to the last
         * parameters of POSONLYARGS + ARGS; KW_DEFAULTS has one entry per
         * KWONLYARGS item, NULL where there is no default. VARARG and KWARG
         * may be NULL. All parameters are Arg nodes. */
        struct {
            AstSeq posonlyargs, args, defaults;
            AstNode *vararg;
            AstSeq kwonlyargs, kw_defaults;
            AstNode *kwarg;
        } arguments;
        /* ANNOTATION may be NULL. */
        struct { AstStr name; AstNode *annotation; } arg;
        /* NAME.s is NULL for `**value`. */
        struct { AstStr name; AstNode *value; } keyword;
        struct { AstNode *target, *iter; AstSeq ifs; bool is_async; } comprehension;
        /* NAME is dotted ("a.b.c") or "*"; ASNAME.s may be NULL. */
        struct { AstStr name; AstStr asname; } alias;
        /* TYPE and NAME.s may be NULL; STAR: an `except*` clause. */
        struct { AstNode *type; AstStr name; AstSeq body; bool star; } except_handler;
        struct { AstNode *context_expr, *optional_vars; } with_item;
        /* GUARD may be NULL. */
        struct { AstNode *pattern, *guard; AstSeq body; } match_case;

        /* Patterns. MatchValue: an expression compared with ==; MatchSingleton:
         * a None/True/False Constant compared with `is`. */
        struct { AstNode *value; } match_value;
        /* MatchSequence (at most one MatchStar among PATTERNS), MatchOr. */
        struct { AstSeq patterns; } match_seq;
        /* KEYS are expressions; REST.s is NULL without `**rest`. */
        struct { AstSeq keys, patterns; AstStr rest; } match_mapping;
        /* KWD_ATTRS are Name nodes, one per KWD_PATTERNS item. */
        struct { AstNode *cls; AstSeq patterns, kwd_attrs, kwd_patterns; } match_class;
        /* MatchAs: PATTERN NULL is a capture (or with NAME.s NULL the
         * wildcard `_`); MatchStar uses NAME only (NULL for `*_`). */
        struct { AstNode *pattern; AstStr name; } match_as;
    } u;
};

/* What an expression is being used as, for ast_invalid_target. */
typedef enum AstTargetKind {
    AST_TARGET_STORE, /* assignment, for, with, comprehension targets */
    AST_TARGET_DEL    /* del statement targets */
} AstTargetKind;

/* Returns a zeroed node of KIND at LINE:COL allocated in ARENA. */
AstNode *ast_new(Arena *arena, AstKind kind, int line, int col);

/* Calls FN on every direct child node of NODE, in source order. */
void ast_visit_children(const AstNode *node, void (*fn)(AstNode *child, void *data), void *data);

/* Sets NODE->depth from its children's depths (children must be final). */
void ast_update_depth(AstNode *node);

/* The name CPython uses for an expression in error messages, e.g.
 * "function call", "literal", "True", "expression". */
const char *ast_expr_name(const AstNode *expr);

/* Returns the first part of EXPR that cannot be a target of KIND (EXPR
 * itself when it is e.g. a call), or NULL when EXPR is a valid target. */
const AstNode *ast_invalid_target(const AstNode *expr, AstTargetKind kind);

/* Marks EXPR and its target parts (List/Tuple elements, Starred values)
 * with CTX. */
void ast_set_context(AstNode *expr, AstCtx ctx);

const char *ast_kind_name(AstKind kind);
const char *ast_operator_symbol(AstOperator op);

/* Writes NODE as one line of S-expressions, e.g.
 * (Module (Assign (targets (Name x Store)) (Int 1))). NULL prints as _. */
void ast_dump(const AstNode *node, FILE *out);

/* ast_dump into a NUL-terminated string allocated in ARENA. */
char *ast_dump_string(const AstNode *node, Arena *arena);

#endif
