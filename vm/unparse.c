#include "vm/unparse.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/numfmt.h"
#include "runtime/str.h"

/* Binding strength, weakest first, as CPython's ast._Precedence: an operand
 * weaker than its operator's slot is parenthesised. */
enum {
    PREC_TUPLE, PREC_TEST, PREC_OR, PREC_AND, PREC_NOT, PREC_CMP, PREC_BOR, PREC_BXOR,
    PREC_BAND, PREC_SHIFT, PREC_ARITH, PREC_TERM, PREC_FACTOR, PREC_POWER, PREC_ATOM
};

static int binop_prec(AstOperator op) {
    switch (op) {
    case AST_OP_BITOR: return PREC_BOR;
    case AST_OP_BITXOR: return PREC_BXOR;
    case AST_OP_BITAND: return PREC_BAND;
    case AST_OP_LSHIFT:
    case AST_OP_RSHIFT: return PREC_SHIFT;
    case AST_OP_ADD:
    case AST_OP_SUB: return PREC_ARITH;
    case AST_OP_POW: return PREC_POWER;
    default: return PREC_TERM;
    }
}

static const char *const cmp_symbols[] = {
    [AST_CMP_EQ] = " == ", [AST_CMP_NOT_EQ] = " != ", [AST_CMP_LT] = " < ",   [AST_CMP_LT_E] = " <= ",
    [AST_CMP_GT] = " > ",  [AST_CMP_GT_E] = " >= ",   [AST_CMP_IS] = " is ",  [AST_CMP_IS_NOT] = " is not ",
    [AST_CMP_IN] = " in ", [AST_CMP_NOT_IN] = " not in ",
};

static bool unparse(TState *ts, const AstNode *e, int prec, StrBuf *out);

static bool items(TState *ts, const AstSeq *seq, StrBuf *out) {
    for (size_t i = 0; i < seq->count; i++) {
        if (i && !sb_append_cstr(out, ", ")) return false;
        if (!unparse(ts, seq->items[i], PREC_TEST, out)) return false;
    }
    return true;
}

/* A str constant as repr() writes it. */
static bool str_literal(TState *ts, AstStr s, StrBuf *out) {
    ObjStr *str = str_new(ts, s.s, s.len);
    ObjStr *r = str ? str_repr(ts, str) : NULL;
    return r && sb_append(out, r->data, r->len);
}

/* An int literal in decimal, as the value prints; a literal too big for 64
 * bits keeps its base prefix (the value is the same). */
static bool int_literal(const AstNode *e, StrBuf *out) {
    AstStr d = e->u.int_lit.digits;
    if (e->u.int_lit.base == 10) return sb_append(out, d.s, d.len);
    char buf[80];
    if (d.len < 60) {
        memcpy(buf, d.s, d.len);
        buf[d.len] = '\0';
        char *end;
        unsigned long long v = strtoull(buf, &end, e->u.int_lit.base);
        if (*end == '\0' && d.len <= 15) return sb_appendf(out, "%llu", v);
    }
    const char *prefix = e->u.int_lit.base == 16 ? "0x" : e->u.int_lit.base == 8 ? "0o" : "0b";
    return sb_append_cstr(out, prefix) && sb_append(out, d.s, d.len);
}

static bool unparse_slice(TState *ts, const AstNode *e, StrBuf *out) {
    if (e->kind != AST_SLICE) return unparse(ts, e, PREC_TEST, out);
    if (e->u.slice.lower && !unparse(ts, e->u.slice.lower, PREC_TEST, out)) return false;
    if (!sb_append_char(out, ':')) return false;
    if (e->u.slice.upper && !unparse(ts, e->u.slice.upper, PREC_TEST, out)) return false;
    if (e->u.slice.step)
        return sb_append_char(out, ':') && unparse(ts, e->u.slice.step, PREC_TEST, out);
    return true;
}

static bool unparse(TState *ts, const AstNode *e, int prec, StrBuf *out) {
    switch (e->kind) {
    case AST_NAME: return sb_append(out, e->u.name.id.s, e->u.name.id.len);
    case AST_CONSTANT: {
        static const char *const names[] = {
            [AST_CONST_NONE] = "None", [AST_CONST_TRUE] = "True",
            [AST_CONST_FALSE] = "False", [AST_CONST_ELLIPSIS] = "...",
        };
        return sb_append_cstr(out, names[e->u.constant.value]);
    }
    case AST_STR: return str_literal(ts, e->u.str.value, out);
    case AST_INT: return int_literal(e, out);
    case AST_FLOAT: {
        char buf[64];
        size_t n = numfmt_float_repr(e->u.float_lit.value, buf);
        return sb_append(out, buf, n) && (!e->u.float_lit.imag || sb_append_char(out, 'j'));
    }
    case AST_ATTRIBUTE:
        return unparse(ts, e->u.attribute.value, PREC_ATOM, out) && sb_append_char(out, '.') &&
               sb_append(out, e->u.attribute.attr.s, e->u.attribute.attr.len);
    case AST_SUBSCRIPT: {
        const AstNode *index = e->u.subscript.index;
        if (!unparse(ts, e->u.subscript.value, PREC_ATOM, out) || !sb_append_char(out, '[')) return false;
        if (index->kind == AST_TUPLE && index->u.seq.elts.count) {
            for (size_t i = 0; i < index->u.seq.elts.count; i++) {
                if (i && !sb_append_cstr(out, ", ")) return false;
                if (!unparse_slice(ts, index->u.seq.elts.items[i], out)) return false;
            }
        } else if (!unparse_slice(ts, index, out)) {
            return false;
        }
        return sb_append_char(out, ']');
    }
    case AST_TUPLE: {
        size_t n = e->u.seq.elts.count;
        return sb_append_char(out, '(') && items(ts, &e->u.seq.elts, out) &&
               (n != 1 || sb_append_char(out, ',')) && sb_append_char(out, ')');
    }
    case AST_LIST: return sb_append_char(out, '[') && items(ts, &e->u.seq.elts, out) && sb_append_char(out, ']');
    case AST_SET: return sb_append_char(out, '{') && items(ts, &e->u.set.elts, out) && sb_append_char(out, '}');
    case AST_DICT: {
        if (!sb_append_char(out, '{')) return false;
        for (size_t i = 0; i < e->u.dict.keys.count; i++) {
            if (i && !sb_append_cstr(out, ", ")) return false;
            const AstNode *k = e->u.dict.keys.items[i];
            if (k ? !(unparse(ts, k, PREC_TEST, out) && sb_append_cstr(out, ": ")) : !sb_append_cstr(out, "**"))
                return false;
            if (!unparse(ts, e->u.dict.values.items[i], k ? PREC_TEST : PREC_BOR, out)) return false;
        }
        return sb_append_char(out, '}');
    }
    case AST_STARRED: return sb_append_char(out, '*') && unparse(ts, e->u.starred.value, PREC_BOR, out);
    case AST_BIN_OP: {
        int p = binop_prec(e->u.bin_op.op);
        bool right_assoc = e->u.bin_op.op == AST_OP_POW;
        bool paren = p < prec;
        return (!paren || sb_append_char(out, '(')) &&
               unparse(ts, e->u.bin_op.left, right_assoc ? p + 1 : p, out) && sb_append_char(out, ' ') &&
               sb_append_cstr(out, ast_operator_symbol(e->u.bin_op.op)) && sb_append_char(out, ' ') &&
               unparse(ts, e->u.bin_op.right, right_assoc ? p : p + 1, out) && (!paren || sb_append_char(out, ')'));
    }
    case AST_UNARY_OP: {
        bool is_not = e->u.unary_op.op == AST_UNARY_NOT;
        int p = is_not ? PREC_NOT : PREC_FACTOR;
        static const char *const ops[] = {
            [AST_UNARY_NOT] = "not ", [AST_UNARY_NEG] = "-", [AST_UNARY_POS] = "+", [AST_UNARY_INVERT] = "~",
        };
        bool paren = p < prec;
        return (!paren || sb_append_char(out, '(')) && sb_append_cstr(out, ops[e->u.unary_op.op]) &&
               unparse(ts, e->u.unary_op.operand, p, out) && (!paren || sb_append_char(out, ')'));
    }
    case AST_BOOL_OP: {
        bool is_and = e->u.bool_op.op == AST_BOOL_AND;
        int p = is_and ? PREC_AND : PREC_OR;
        bool paren = p < prec;
        if (paren && !sb_append_char(out, '(')) return false;
        for (size_t i = 0; i < e->u.bool_op.values.count; i++) {
            if (i && !sb_append_cstr(out, is_and ? " and " : " or ")) return false;
            if (!unparse(ts, e->u.bool_op.values.items[i], p + 1, out)) return false;
        }
        return !paren || sb_append_char(out, ')');
    }
    case AST_COMPARE: {
        bool paren = PREC_CMP < prec;
        if ((paren && !sb_append_char(out, '(')) || !unparse(ts, e->u.compare.left, PREC_CMP + 1, out)) return false;
        for (size_t i = 0; i < e->u.compare.comparators.count; i++)
            if (!sb_append_cstr(out, cmp_symbols[e->u.compare.ops[i]]) ||
                !unparse(ts, e->u.compare.comparators.items[i], PREC_CMP + 1, out))
                return false;
        return !paren || sb_append_char(out, ')');
    }
    case AST_IF_EXP: {
        bool paren = PREC_TEST < prec;
        return (!paren || sb_append_char(out, '(')) && unparse(ts, e->u.if_exp.body, PREC_TEST + 1, out) &&
               sb_append_cstr(out, " if ") && unparse(ts, e->u.if_exp.test, PREC_TEST + 1, out) &&
               sb_append_cstr(out, " else ") && unparse(ts, e->u.if_exp.orelse, PREC_TEST, out) &&
               (!paren || sb_append_char(out, ')'));
    }
    case AST_CALL: {
        if (!unparse(ts, e->u.call.func, PREC_ATOM, out) || !sb_append_char(out, '(') ||
            !items(ts, &e->u.call.args, out))
            return false;
        for (size_t i = 0; i < e->u.call.keywords.count; i++) {
            const AstNode *kw = e->u.call.keywords.items[i];
            if ((i || e->u.call.args.count) && !sb_append_cstr(out, ", ")) return false;
            if (kw->u.keyword.name.s ? !(sb_append(out, kw->u.keyword.name.s, kw->u.keyword.name.len) &&
                                         sb_append_char(out, '='))
                                     : !sb_append_cstr(out, "**"))
                return false;
            if (!unparse(ts, kw->u.keyword.value, PREC_TEST, out)) return false;
        }
        return sb_append_char(out, ')');
    }
    default: return false;
    }
}

bool unparse_expr(TState *ts, const AstNode *e, StrBuf *out) {
    return unparse(ts, e, PREC_TEST, out);
}
