#include "grammar/ast.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

AstNode *ast_new(Arena *arena, AstKind kind, int line, int col)
{
    AstNode *node = arena_alloc(arena, sizeof(AstNode));
    node->kind = kind;
    node->line = line;
    node->col = col;
    node->end_line = line;
    node->end_col = col;
    return node;
}

static void visit(AstNode *child, void (*fn)(AstNode *, void *), void *data)
{
    if (child)
        fn(child, data);
}

static void visit_seq(const AstSeq *seq, void (*fn)(AstNode *, void *), void *data)
{
    for (size_t i = 0; i < seq->count; i++)
        visit(seq->items[i], fn, data);
}

void ast_visit_children(const AstNode *n, void (*fn)(AstNode *child, void *data), void *data)
{
    switch (n->kind) {
    case AST_NAME:
    case AST_INT:
    case AST_FLOAT:
    case AST_STR:
    case AST_BYTES:
    case AST_CONSTANT:
    case AST_BREAK:
    case AST_CONTINUE:
    case AST_PASS:
    case AST_ALIAS:
    case AST_KIND_COUNT:
        break;
    case AST_ARG:
        visit(n->u.arg.annotation, fn, data);
        break;
    case AST_JOINED_STR:
        visit_seq(&n->u.joined_str.values, fn, data);
        break;
    case AST_FORMATTED_VALUE:
        visit(n->u.formatted_value.value, fn, data);
        visit(n->u.formatted_value.format_spec, fn, data);
        break;
    case AST_BOOL_OP:
        visit_seq(&n->u.bool_op.values, fn, data);
        break;
    case AST_BIN_OP:
        visit(n->u.bin_op.left, fn, data);
        visit(n->u.bin_op.right, fn, data);
        break;
    case AST_UNARY_OP:
        visit(n->u.unary_op.operand, fn, data);
        break;
    case AST_COMPARE:
        visit(n->u.compare.left, fn, data);
        visit_seq(&n->u.compare.comparators, fn, data);
        break;
    case AST_CALL:
        visit(n->u.call.func, fn, data);
        visit_seq(&n->u.call.args, fn, data);
        visit_seq(&n->u.call.keywords, fn, data);
        break;
    case AST_ATTRIBUTE:
        visit(n->u.attribute.value, fn, data);
        break;
    case AST_SUBSCRIPT:
        visit(n->u.subscript.value, fn, data);
        visit(n->u.subscript.index, fn, data);
        break;
    case AST_SLICE:
        visit(n->u.slice.lower, fn, data);
        visit(n->u.slice.upper, fn, data);
        visit(n->u.slice.step, fn, data);
        break;
    case AST_LIST:
    case AST_TUPLE:
        visit_seq(&n->u.seq.elts, fn, data);
        break;
    case AST_DICT:
        for (size_t i = 0; i < n->u.dict.keys.count; i++) {
            visit(n->u.dict.keys.items[i], fn, data);
            visit(n->u.dict.values.items[i], fn, data);
        }
        break;
    case AST_SET:
        visit_seq(&n->u.set.elts, fn, data);
        break;
    case AST_LIST_COMP:
    case AST_SET_COMP:
    case AST_DICT_COMP:
    case AST_GENERATOR_EXP:
        visit(n->u.comp.elt, fn, data);
        visit(n->u.comp.value, fn, data);
        visit_seq(&n->u.comp.generators, fn, data);
        break;
    case AST_LAMBDA:
        visit(n->u.lambda.args, fn, data);
        visit(n->u.lambda.body, fn, data);
        break;
    case AST_IF_EXP:
        visit(n->u.if_exp.test, fn, data);
        visit(n->u.if_exp.body, fn, data);
        visit(n->u.if_exp.orelse, fn, data);
        break;
    case AST_STARRED:
        visit(n->u.starred.value, fn, data);
        break;
    case AST_YIELD:
    case AST_YIELD_FROM:
    case AST_AWAIT:
        visit(n->u.yield.value, fn, data);
        break;
    case AST_NAMED_EXPR:
        visit(n->u.named_expr.target, fn, data);
        visit(n->u.named_expr.value, fn, data);
        break;
    case AST_FUNCTION_DEF:
        visit_seq(&n->u.function_def.decorators, fn, data);
        visit(n->u.function_def.args, fn, data);
        visit(n->u.function_def.returns, fn, data);
        visit_seq(&n->u.function_def.body, fn, data);
        break;
    case AST_CLASS_DEF:
        visit_seq(&n->u.class_def.decorators, fn, data);
        visit_seq(&n->u.class_def.bases, fn, data);
        visit_seq(&n->u.class_def.keywords, fn, data);
        visit_seq(&n->u.class_def.body, fn, data);
        break;
    case AST_RETURN:
    case AST_EXPR:
        visit(n->u.value_stmt.value, fn, data);
        break;
    case AST_DELETE:
        visit_seq(&n->u.delete_stmt.targets, fn, data);
        break;
    case AST_ASSIGN:
        visit_seq(&n->u.assign.targets, fn, data);
        visit(n->u.assign.value, fn, data);
        break;
    case AST_AUG_ASSIGN:
        visit(n->u.aug_assign.target, fn, data);
        visit(n->u.aug_assign.value, fn, data);
        break;
    case AST_ANN_ASSIGN:
        visit(n->u.ann_assign.target, fn, data);
        visit(n->u.ann_assign.annotation, fn, data);
        visit(n->u.ann_assign.value, fn, data);
        break;
    case AST_IF:
    case AST_WHILE:
        visit(n->u.cond_stmt.test, fn, data);
        visit_seq(&n->u.cond_stmt.body, fn, data);
        visit_seq(&n->u.cond_stmt.orelse, fn, data);
        break;
    case AST_FOR:
        visit(n->u.for_stmt.target, fn, data);
        visit(n->u.for_stmt.iter, fn, data);
        visit_seq(&n->u.for_stmt.body, fn, data);
        visit_seq(&n->u.for_stmt.orelse, fn, data);
        break;
    case AST_GLOBAL:
    case AST_NONLOCAL:
        visit_seq(&n->u.scope_stmt.names, fn, data);
        break;
    case AST_IMPORT:
        visit_seq(&n->u.import.names, fn, data);
        break;
    case AST_IMPORT_FROM:
        visit_seq(&n->u.import_from.names, fn, data);
        break;
    case AST_RAISE:
        visit(n->u.raise.exc, fn, data);
        visit(n->u.raise.cause, fn, data);
        break;
    case AST_TRY:
        visit_seq(&n->u.try_stmt.body, fn, data);
        visit_seq(&n->u.try_stmt.handlers, fn, data);
        visit_seq(&n->u.try_stmt.orelse, fn, data);
        visit_seq(&n->u.try_stmt.finalbody, fn, data);
        break;
    case AST_WITH:
        visit_seq(&n->u.with.items, fn, data);
        visit_seq(&n->u.with.body, fn, data);
        break;
    case AST_ASSERT:
        visit(n->u.assert_stmt.test, fn, data);
        visit(n->u.assert_stmt.msg, fn, data);
        break;
    case AST_MODULE:
        visit_seq(&n->u.module.body, fn, data);
        break;
    case AST_ARGUMENTS: {
        /* Source order is hard to recover here; parameters then defaults. */
        visit_seq(&n->u.arguments.posonlyargs, fn, data);
        visit_seq(&n->u.arguments.args, fn, data);
        visit_seq(&n->u.arguments.defaults, fn, data);
        visit(n->u.arguments.vararg, fn, data);
        visit_seq(&n->u.arguments.kwonlyargs, fn, data);
        visit_seq(&n->u.arguments.kw_defaults, fn, data);
        visit(n->u.arguments.kwarg, fn, data);
        break;
    }
    case AST_KEYWORD:
        visit(n->u.keyword.value, fn, data);
        break;
    case AST_COMPREHENSION:
        visit(n->u.comprehension.target, fn, data);
        visit(n->u.comprehension.iter, fn, data);
        visit_seq(&n->u.comprehension.ifs, fn, data);
        break;
    case AST_EXCEPT_HANDLER:
        visit(n->u.except_handler.type, fn, data);
        visit_seq(&n->u.except_handler.body, fn, data);
        break;
    case AST_WITH_ITEM:
        visit(n->u.with_item.context_expr, fn, data);
        visit(n->u.with_item.optional_vars, fn, data);
        break;
    case AST_MATCH:
        visit(n->u.match.subject, fn, data);
        visit_seq(&n->u.match.cases, fn, data);
        break;
    case AST_MATCH_CASE:
        visit(n->u.match_case.pattern, fn, data);
        visit(n->u.match_case.guard, fn, data);
        visit_seq(&n->u.match_case.body, fn, data);
        break;
    case AST_MATCH_VALUE:
    case AST_MATCH_SINGLETON:
        visit(n->u.match_value.value, fn, data);
        break;
    case AST_MATCH_SEQUENCE:
    case AST_MATCH_OR:
        visit_seq(&n->u.match_seq.patterns, fn, data);
        break;
    case AST_MATCH_MAPPING:
        for (size_t i = 0; i < n->u.match_mapping.keys.count; i++) {
            visit(n->u.match_mapping.keys.items[i], fn, data);
            visit(n->u.match_mapping.patterns.items[i], fn, data);
        }
        break;
    case AST_MATCH_CLASS:
        visit(n->u.match_class.cls, fn, data);
        visit_seq(&n->u.match_class.patterns, fn, data);
        visit_seq(&n->u.match_class.kwd_patterns, fn, data);
        break;
    case AST_MATCH_AS:
        visit(n->u.match_as.pattern, fn, data);
        break;
    case AST_MATCH_STAR:
        break;
    }
}

static void max_depth(AstNode *child, void *data)
{
    int *depth = data;
    if (child->depth > *depth)
        *depth = child->depth;
}

void ast_update_depth(AstNode *node)
{
    int depth = 0;
    ast_visit_children(node, max_depth, &depth);
    node->depth = depth + 1;
}

const char *ast_expr_name(const AstNode *e)
{
    switch (e->kind) {
    case AST_ATTRIBUTE: return "attribute";
    case AST_SUBSCRIPT: return "subscript";
    case AST_STARRED: return "starred";
    case AST_NAME: return "name";
    case AST_LIST: return "list";
    case AST_TUPLE: return "tuple";
    case AST_LAMBDA: return "lambda";
    case AST_CALL: return "function call";
    case AST_BOOL_OP:
    case AST_BIN_OP:
    case AST_UNARY_OP: return "expression";
    case AST_GENERATOR_EXP: return "generator expression";
    case AST_YIELD:
    case AST_YIELD_FROM: return "yield expression";
    case AST_AWAIT: return "await expression";
    case AST_LIST_COMP: return "list comprehension";
    case AST_SET_COMP: return "set comprehension";
    case AST_DICT_COMP: return "dict comprehension";
    case AST_DICT: return "dict literal";
    case AST_SET: return "set display";
    case AST_JOINED_STR:
    case AST_FORMATTED_VALUE: return "f-string expression";
    case AST_CONSTANT:
        switch (e->u.constant.value) {
        case AST_CONST_NONE: return "None";
        case AST_CONST_TRUE: return "True";
        case AST_CONST_FALSE: return "False";
        case AST_CONST_ELLIPSIS: return "ellipsis";
        }
        return "literal";
    case AST_INT:
    case AST_FLOAT:
    case AST_STR:
    case AST_BYTES: return "literal";
    case AST_COMPARE: return "comparison";
    case AST_IF_EXP: return "conditional expression";
    case AST_NAMED_EXPR: return "named expression";
    default: return "expression";
    }
}

const AstNode *ast_invalid_target(const AstNode *e, AstTargetKind kind)
{
    switch (e->kind) {
    case AST_NAME:
    case AST_ATTRIBUTE:
    case AST_SUBSCRIPT:
        return NULL;
    case AST_STARRED:
        if (kind == AST_TARGET_DEL)
            return e;
        return ast_invalid_target(e->u.starred.value, kind);
    case AST_LIST:
    case AST_TUPLE:
        for (size_t i = 0; i < e->u.seq.elts.count; i++) {
            const AstNode *bad = ast_invalid_target(e->u.seq.elts.items[i], kind);
            if (bad)
                return bad;
        }
        return NULL;
    default:
        return e;
    }
}

void ast_set_context(AstNode *e, AstCtx ctx)
{
    switch (e->kind) {
    case AST_NAME:
        e->u.name.ctx = ctx;
        break;
    case AST_ATTRIBUTE:
        e->u.attribute.ctx = ctx;
        break;
    case AST_SUBSCRIPT:
        e->u.subscript.ctx = ctx;
        break;
    case AST_STARRED:
        e->u.starred.ctx = ctx;
        ast_set_context(e->u.starred.value, ctx);
        break;
    case AST_LIST:
    case AST_TUPLE:
        e->u.seq.ctx = ctx;
        for (size_t i = 0; i < e->u.seq.elts.count; i++)
            ast_set_context(e->u.seq.elts.items[i], ctx);
        break;
    default:
        break;
    }
}

static const char *const kind_names[AST_KIND_COUNT] = {
    [AST_NAME] = "Name",
    [AST_INT] = "Int",
    [AST_FLOAT] = "Float",
    [AST_STR] = "Str",
    [AST_BYTES] = "Bytes",
    [AST_JOINED_STR] = "JoinedStr",
    [AST_FORMATTED_VALUE] = "FormattedValue",
    [AST_CONSTANT] = "Constant",
    [AST_BOOL_OP] = "BoolOp",
    [AST_BIN_OP] = "BinOp",
    [AST_UNARY_OP] = "UnaryOp",
    [AST_COMPARE] = "Compare",
    [AST_CALL] = "Call",
    [AST_ATTRIBUTE] = "Attribute",
    [AST_SUBSCRIPT] = "Subscript",
    [AST_SLICE] = "Slice",
    [AST_LIST] = "List",
    [AST_TUPLE] = "Tuple",
    [AST_DICT] = "Dict",
    [AST_SET] = "Set",
    [AST_LIST_COMP] = "ListComp",
    [AST_SET_COMP] = "SetComp",
    [AST_DICT_COMP] = "DictComp",
    [AST_GENERATOR_EXP] = "GeneratorExp",
    [AST_LAMBDA] = "Lambda",
    [AST_IF_EXP] = "IfExp",
    [AST_STARRED] = "Starred",
    [AST_YIELD] = "Yield",
    [AST_YIELD_FROM] = "YieldFrom",
    [AST_NAMED_EXPR] = "NamedExpr",
    [AST_AWAIT] = "Await",
    [AST_FUNCTION_DEF] = "FunctionDef",
    [AST_CLASS_DEF] = "ClassDef",
    [AST_RETURN] = "Return",
    [AST_DELETE] = "Delete",
    [AST_ASSIGN] = "Assign",
    [AST_AUG_ASSIGN] = "AugAssign",
    [AST_ANN_ASSIGN] = "AnnAssign",
    [AST_EXPR] = "Expr",
    [AST_IF] = "If",
    [AST_WHILE] = "While",
    [AST_FOR] = "For",
    [AST_BREAK] = "Break",
    [AST_CONTINUE] = "Continue",
    [AST_PASS] = "Pass",
    [AST_GLOBAL] = "Global",
    [AST_NONLOCAL] = "Nonlocal",
    [AST_IMPORT] = "Import",
    [AST_IMPORT_FROM] = "ImportFrom",
    [AST_RAISE] = "Raise",
    [AST_TRY] = "Try",
    [AST_WITH] = "With",
    [AST_ASSERT] = "Assert",
    [AST_MODULE] = "Module",
    [AST_ARGUMENTS] = "arguments",
    [AST_ARG] = "arg",
    [AST_KEYWORD] = "keyword",
    [AST_COMPREHENSION] = "comprehension",
    [AST_ALIAS] = "alias",
    [AST_EXCEPT_HANDLER] = "ExceptHandler",
    [AST_WITH_ITEM] = "withitem",
    [AST_MATCH] = "Match",
    [AST_MATCH_CASE] = "match_case",
    [AST_MATCH_VALUE] = "MatchValue",
    [AST_MATCH_SINGLETON] = "MatchSingleton",
    [AST_MATCH_SEQUENCE] = "MatchSequence",
    [AST_MATCH_MAPPING] = "MatchMapping",
    [AST_MATCH_CLASS] = "MatchClass",
    [AST_MATCH_STAR] = "MatchStar",
    [AST_MATCH_AS] = "MatchAs",
    [AST_MATCH_OR] = "MatchOr",
};

const char *ast_kind_name(AstKind kind)
{
    if ((unsigned)kind >= AST_KIND_COUNT)
        return "?";
    return kind_names[kind];
}

const char *ast_operator_symbol(AstOperator op)
{
    static const char *const symbols[] = {
        [AST_OP_ADD] = "+",     [AST_OP_SUB] = "-",      [AST_OP_MULT] = "*",
        [AST_OP_MATMULT] = "@", [AST_OP_DIV] = "/",      [AST_OP_FLOORDIV] = "//",
        [AST_OP_MOD] = "%",     [AST_OP_POW] = "**",     [AST_OP_LSHIFT] = "<<",
        [AST_OP_RSHIFT] = ">>", [AST_OP_BITOR] = "|",    [AST_OP_BITXOR] = "^",
        [AST_OP_BITAND] = "&",
    };
    if ((unsigned)op >= sizeof symbols / sizeof symbols[0])
        return "?";
    return symbols[op];
}

static const char *unary_symbol(AstUnaryOpKind op)
{
    switch (op) {
    case AST_UNARY_NOT: return "not";
    case AST_UNARY_NEG: return "-";
    case AST_UNARY_POS: return "+";
    case AST_UNARY_INVERT: return "~";
    }
    return "?";
}

static const char *cmp_symbol(AstCmpOp op)
{
    switch (op) {
    case AST_CMP_EQ: return "==";
    case AST_CMP_NOT_EQ: return "!=";
    case AST_CMP_LT: return "<";
    case AST_CMP_LT_E: return "<=";
    case AST_CMP_GT: return ">";
    case AST_CMP_GT_E: return ">=";
    case AST_CMP_IS: return "is";
    case AST_CMP_IS_NOT: return "is not";
    case AST_CMP_IN: return "in";
    case AST_CMP_NOT_IN: return "not in";
    }
    return "?";
}

static void dump_node(const AstNode *n, FILE *out);

static void dump_quoted(const AstStr *s, FILE *out)
{
    fputc('"', out);
    for (size_t i = 0; i < s->len; i++) {
        unsigned char c = (unsigned char)s->s[i];
        switch (c) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\t': fputs("\\t", out); break;
        case '\r': fputs("\\r", out); break;
        default:
            if (c < 0x20 || c >= 0x7f)
                fprintf(out, "\\x%02x", c);
            else
                fputc(c, out);
        }
    }
    fputc('"', out);
}

/* Prints the shortest %g form that reads back as the same double. */
static void dump_float(double v, FILE *out)
{
    char buf[64];
    if (isinf(v)) {
        fputs(v > 0 ? "inf" : "-inf", out);
        return;
    }
    if (isnan(v)) {
        fputs("nan", out);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    fputs(buf, out);
}

static void dump_ctx(AstCtx ctx, FILE *out)
{
    if (ctx == AST_STORE)
        fputs(" Store", out);
    else if (ctx == AST_DEL)
        fputs(" Del", out);
}

static void dump_child(const AstNode *n, FILE *out)
{
    fputc(' ', out);
    dump_node(n, out);
}

static void dump_items(const AstSeq *seq, FILE *out)
{
    for (size_t i = 0; i < seq->count; i++)
        dump_child(seq->items[i], out);
}

/* " (LABEL items...)", omitted when empty unless ALWAYS. */
static void dump_section(const char *label, const AstSeq *seq, int always, FILE *out)
{
    if (!seq->count && !always)
        return;
    fprintf(out, " (%s", label);
    dump_items(seq, out);
    fputc(')', out);
}

static void dump_param(const AstNode *arg, const AstNode *def, FILE *out)
{
    fprintf(out, " %s", arg->u.arg.name.s);
    if (def) {
        fputc('=', out);
        dump_node(def, out);
    }
}

static void dump_arguments(const AstNode *n, FILE *out)
{
    const AstSeq *po = &n->u.arguments.posonlyargs, *args = &n->u.arguments.args;
    const AstSeq *defs = &n->u.arguments.defaults;
    size_t npos = po->count + args->count;
    size_t first_default = npos - defs->count;
    fputs("(arguments", out);
    for (size_t i = 0; i < npos; i++) {
        const AstNode *arg = i < po->count ? po->items[i] : args->items[i - po->count];
        dump_param(arg, i >= first_default ? defs->items[i - first_default] : NULL, out);
        if (i + 1 == po->count)
            fputs(" /", out);
    }
    if (n->u.arguments.vararg)
        fprintf(out, " *%s", n->u.arguments.vararg->u.arg.name.s);
    else if (n->u.arguments.kwonlyargs.count)
        fputs(" *", out);
    for (size_t i = 0; i < n->u.arguments.kwonlyargs.count; i++)
        dump_param(n->u.arguments.kwonlyargs.items[i], n->u.arguments.kw_defaults.items[i], out);
    if (n->u.arguments.kwarg)
        fprintf(out, " **%s", n->u.arguments.kwarg->u.arg.name.s);
    fputc(')', out);
}

static void dump_node(const AstNode *n, FILE *out)
{
    if (!n) {
        fputc('_', out);
        return;
    }
    if (n->kind == AST_ARGUMENTS) {
        dump_arguments(n, out);
        return;
    }
    fprintf(out, "(%s", n->kind == AST_TRY && n->u.try_stmt.star ? "TryStar" : ast_kind_name(n->kind));
    switch (n->kind) {
    case AST_NAME:
        fprintf(out, " %s", n->u.name.id.s);
        dump_ctx(n->u.name.ctx, out);
        break;
    case AST_INT: {
        const char *prefix = n->u.int_lit.base == 16 ? "0x"
                           : n->u.int_lit.base == 8 ? "0o"
                           : n->u.int_lit.base == 2 ? "0b" : "";
        fprintf(out, " %s%s", prefix, n->u.int_lit.digits.s);
        break;
    }
    case AST_FLOAT:
        fputc(' ', out);
        dump_float(n->u.float_lit.value, out);
        if (n->u.float_lit.imag) fputc('j', out);
        break;
    case AST_STR:
    case AST_BYTES:
        fputc(' ', out);
        dump_quoted(&n->u.str.value, out);
        break;
    case AST_JOINED_STR:
        dump_items(&n->u.joined_str.values, out);
        break;
    case AST_FORMATTED_VALUE:
        dump_child(n->u.formatted_value.value, out);
        if (n->u.formatted_value.conversion)
            fprintf(out, " !%c", n->u.formatted_value.conversion);
        if (n->u.formatted_value.format_spec)
            dump_child(n->u.formatted_value.format_spec, out);
        break;
    case AST_CONSTANT:
        fprintf(out, " %s", n->u.constant.value == AST_CONST_ELLIPSIS ? "Ellipsis" : ast_expr_name(n));
        break;
    case AST_BOOL_OP:
        fputs(n->u.bool_op.op == AST_BOOL_AND ? " and" : " or", out);
        dump_items(&n->u.bool_op.values, out);
        break;
    case AST_BIN_OP:
        fprintf(out, " %s", ast_operator_symbol(n->u.bin_op.op));
        dump_child(n->u.bin_op.left, out);
        dump_child(n->u.bin_op.right, out);
        break;
    case AST_UNARY_OP:
        fprintf(out, " %s", unary_symbol(n->u.unary_op.op));
        dump_child(n->u.unary_op.operand, out);
        break;
    case AST_COMPARE:
        dump_child(n->u.compare.left, out);
        for (size_t i = 0; i < n->u.compare.comparators.count; i++) {
            fprintf(out, " %s", cmp_symbol(n->u.compare.ops[i]));
            dump_child(n->u.compare.comparators.items[i], out);
        }
        break;
    case AST_CALL:
        dump_child(n->u.call.func, out);
        dump_items(&n->u.call.args, out);
        dump_items(&n->u.call.keywords, out);
        break;
    case AST_ATTRIBUTE:
        dump_child(n->u.attribute.value, out);
        fprintf(out, " %s", n->u.attribute.attr.s);
        dump_ctx(n->u.attribute.ctx, out);
        break;
    case AST_SUBSCRIPT:
        dump_child(n->u.subscript.value, out);
        dump_child(n->u.subscript.index, out);
        dump_ctx(n->u.subscript.ctx, out);
        break;
    case AST_SLICE:
        dump_child(n->u.slice.lower, out);
        dump_child(n->u.slice.upper, out);
        dump_child(n->u.slice.step, out);
        break;
    case AST_LIST:
    case AST_TUPLE:
        dump_items(&n->u.seq.elts, out);
        dump_ctx(n->u.seq.ctx, out);
        break;
    case AST_DICT:
        for (size_t i = 0; i < n->u.dict.keys.count; i++) {
            if (n->u.dict.keys.items[i])
                dump_child(n->u.dict.keys.items[i], out);
            else
                fputs(" **", out);
            dump_child(n->u.dict.values.items[i], out);
        }
        break;
    case AST_SET:
        dump_items(&n->u.set.elts, out);
        break;
    case AST_LIST_COMP:
    case AST_SET_COMP:
    case AST_DICT_COMP:
    case AST_GENERATOR_EXP:
        dump_child(n->u.comp.elt, out);
        if (n->kind == AST_DICT_COMP)
            dump_child(n->u.comp.value, out);
        dump_items(&n->u.comp.generators, out);
        break;
    case AST_LAMBDA:
        dump_child(n->u.lambda.args, out);
        dump_child(n->u.lambda.body, out);
        break;
    case AST_IF_EXP:
        dump_child(n->u.if_exp.test, out);
        dump_child(n->u.if_exp.body, out);
        dump_child(n->u.if_exp.orelse, out);
        break;
    case AST_STARRED:
        dump_child(n->u.starred.value, out);
        dump_ctx(n->u.starred.ctx, out);
        break;
    case AST_YIELD:
    case AST_YIELD_FROM:
    case AST_AWAIT:
        if (n->u.yield.value)
            dump_child(n->u.yield.value, out);
        break;
    case AST_RETURN:
    case AST_EXPR:
        if (n->u.value_stmt.value)
            dump_child(n->u.value_stmt.value, out);
        break;
    case AST_NAMED_EXPR:
        dump_child(n->u.named_expr.target, out);
        dump_child(n->u.named_expr.value, out);
        break;
    case AST_FUNCTION_DEF:
        fprintf(out, " %s", n->u.function_def.name.s);
        dump_child(n->u.function_def.args, out);
        dump_section("decorators", &n->u.function_def.decorators, 0, out);
        dump_section("body", &n->u.function_def.body, 1, out);
        break;
    case AST_CLASS_DEF:
        fprintf(out, " %s", n->u.class_def.name.s);
        dump_section("bases", &n->u.class_def.bases, 0, out);
        dump_section("keywords", &n->u.class_def.keywords, 0, out);
        dump_section("decorators", &n->u.class_def.decorators, 0, out);
        dump_section("body", &n->u.class_def.body, 1, out);
        break;
    case AST_DELETE:
        dump_items(&n->u.delete_stmt.targets, out);
        break;
    case AST_ASSIGN:
        dump_section("targets", &n->u.assign.targets, 1, out);
        dump_child(n->u.assign.value, out);
        break;
    case AST_AUG_ASSIGN:
        dump_child(n->u.aug_assign.target, out);
        fprintf(out, " %s=", ast_operator_symbol(n->u.aug_assign.op));
        dump_child(n->u.aug_assign.value, out);
        break;
    case AST_ANN_ASSIGN:
        dump_child(n->u.ann_assign.target, out);
        if (n->u.ann_assign.value)
            dump_child(n->u.ann_assign.value, out);
        break;
    case AST_IF:
    case AST_WHILE:
        dump_child(n->u.cond_stmt.test, out);
        dump_section("body", &n->u.cond_stmt.body, 1, out);
        dump_section("orelse", &n->u.cond_stmt.orelse, 0, out);
        break;
    case AST_FOR:
        dump_child(n->u.for_stmt.target, out);
        dump_child(n->u.for_stmt.iter, out);
        dump_section("body", &n->u.for_stmt.body, 1, out);
        dump_section("orelse", &n->u.for_stmt.orelse, 0, out);
        break;
    case AST_BREAK:
    case AST_CONTINUE:
    case AST_PASS:
        break;
    case AST_GLOBAL:
    case AST_NONLOCAL:
        for (size_t i = 0; i < n->u.scope_stmt.names.count; i++)
            fprintf(out, " %s", n->u.scope_stmt.names.items[i]->u.name.id.s);
        break;
    case AST_IMPORT:
        dump_items(&n->u.import.names, out);
        break;
    case AST_IMPORT_FROM:
        fputc(' ', out);
        for (int i = 0; i < n->u.import_from.level; i++)
            fputc('.', out);
        if (n->u.import_from.module.s)
            fputs(n->u.import_from.module.s, out);
        dump_items(&n->u.import_from.names, out);
        break;
    case AST_RAISE:
        if (n->u.raise.exc)
            dump_child(n->u.raise.exc, out);
        if (n->u.raise.cause)
            dump_child(n->u.raise.cause, out);
        break;
    case AST_TRY:
        dump_section("body", &n->u.try_stmt.body, 1, out);
        dump_items(&n->u.try_stmt.handlers, out);
        dump_section("orelse", &n->u.try_stmt.orelse, 0, out);
        dump_section("finalbody", &n->u.try_stmt.finalbody, 0, out);
        break;
    case AST_WITH:
        dump_items(&n->u.with.items, out);
        dump_section("body", &n->u.with.body, 1, out);
        break;
    case AST_ASSERT:
        dump_child(n->u.assert_stmt.test, out);
        if (n->u.assert_stmt.msg)
            dump_child(n->u.assert_stmt.msg, out);
        break;
    case AST_MODULE:
        dump_items(&n->u.module.body, out);
        break;
    case AST_ARG:
        fprintf(out, " %s", n->u.arg.name.s);
        break;
    case AST_KEYWORD:
        fprintf(out, " %s", n->u.keyword.name.s ? n->u.keyword.name.s : "**");
        dump_child(n->u.keyword.value, out);
        break;
    case AST_COMPREHENSION:
        dump_child(n->u.comprehension.target, out);
        dump_child(n->u.comprehension.iter, out);
        dump_items(&n->u.comprehension.ifs, out);
        break;
    case AST_ALIAS:
        fprintf(out, " %s", n->u.alias.name.s);
        if (n->u.alias.asname.s)
            fprintf(out, " %s", n->u.alias.asname.s);
        break;
    case AST_EXCEPT_HANDLER:
        dump_child(n->u.except_handler.type, out);
        if (n->u.except_handler.name.s)
            fprintf(out, " %s", n->u.except_handler.name.s);
        dump_section("body", &n->u.except_handler.body, 1, out);
        break;
    case AST_WITH_ITEM:
        dump_child(n->u.with_item.context_expr, out);
        if (n->u.with_item.optional_vars)
            dump_child(n->u.with_item.optional_vars, out);
        break;
    case AST_MATCH:
        dump_child(n->u.match.subject, out);
        dump_items(&n->u.match.cases, out);
        break;
    case AST_MATCH_CASE:
        dump_child(n->u.match_case.pattern, out);
        if (n->u.match_case.guard)
            dump_child(n->u.match_case.guard, out);
        dump_section("body", &n->u.match_case.body, 1, out);
        break;
    case AST_MATCH_VALUE:
    case AST_MATCH_SINGLETON:
        dump_child(n->u.match_value.value, out);
        break;
    case AST_MATCH_SEQUENCE:
    case AST_MATCH_OR:
        dump_items(&n->u.match_seq.patterns, out);
        break;
    case AST_MATCH_MAPPING:
        dump_section("keys", &n->u.match_mapping.keys, 0, out);
        dump_section("patterns", &n->u.match_mapping.patterns, 0, out);
        if (n->u.match_mapping.rest.s)
            fprintf(out, " **%s", n->u.match_mapping.rest.s);
        break;
    case AST_MATCH_CLASS:
        dump_child(n->u.match_class.cls, out);
        dump_section("patterns", &n->u.match_class.patterns, 0, out);
        dump_section("kwd_attrs", &n->u.match_class.kwd_attrs, 0, out);
        dump_section("kwd_patterns", &n->u.match_class.kwd_patterns, 0, out);
        break;
    case AST_MATCH_AS:
        if (n->u.match_as.pattern)
            dump_child(n->u.match_as.pattern, out);
        fprintf(out, " %s", n->u.match_as.name.s ? n->u.match_as.name.s : "_");
        break;
    case AST_MATCH_STAR:
        fprintf(out, " %s", n->u.match_as.name.s ? n->u.match_as.name.s : "_");
        break;
    case AST_ARGUMENTS:
    case AST_KIND_COUNT:
        break;
    }
    fputc(')', out);
}

void ast_dump(const AstNode *node, FILE *out)
{
    dump_node(node, out);
}

char *ast_dump_string(const AstNode *node, Arena *arena)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (!out)
        return arena_strndup(arena, "", 0);
    dump_node(node, out);
    fclose(out);
    char *copy = arena_strndup(arena, buf, len);
    free(buf);
    return copy;
}
