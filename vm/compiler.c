#include "vm/compiler.h"
#include "vm/unparse.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/bytes.h"
#include "runtime/class.h"
#include "runtime/complex.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/float.h"
#include "runtime/int.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/opcodes.h"

/* ======================================================================
 * Scopes: which names are local, cells, free or global in each function.
 * ====================================================================== */

typedef enum ScopeKind { SCOPE_MODULE, SCOPE_FUNCTION, SCOPE_CLASS, SCOPE_COMPREHENSION } ScopeKind;

enum {
    DEF_LOCAL = 1 << 0,    /* assigned, imported, defined here */
    DEF_PARAM = 1 << 1,
    DEF_GLOBAL = 1 << 2,   /* global declaration */
    DEF_NONLOCAL = 1 << 3, /* nonlocal declaration */
    DEF_USE = 1 << 4,      /* read here */
    SYM_CELL = 1 << 5,     /* local captured by a nested function */
    SYM_FREE = 1 << 6,     /* comes from an enclosing function */
    SYM_GLOBAL = 1 << 7,   /* resolved to a global */
    SYM_PASS = 1 << 8,     /* class scope: a free variable only handed down */
};

/* A hash index over an array the caller owns (symbols, names, constants,
 * locals, scopes), so that finding an entry costs the same for the
 * hundred-thousandth name of a scope as for the first: slots hold an entry's
 * position plus one (0: empty) and its hash, at most half full. */
typedef struct PosIndex {
    struct IndexSlot {
        uint32_t pos1;
        uint32_t hash;
    } *slots;
    uint32_t cap; /* a power of two, or 0 */
    uint32_t count;
} PosIndex;

/* Does the entry at pos match the key being looked up? */
typedef bool (*IndexMatch)(const void *key, uint32_t pos);

static uint32_t hash_bytes(const char *p, size_t len) { return (uint32_t)str_hash_bytes(p, len); }

static uint32_t hash_word(uint64_t w) {
    w ^= w >> 33;
    w *= 0xff51afd7ed558ccdULL;
    w ^= w >> 33;
    return (uint32_t)w;
}

/* The position of the entry matching key, or -1. */
static int64_t index_find(const PosIndex *ix, uint32_t hash, IndexMatch match, const void *key) {
    if (!ix->cap) return -1;
    for (uint32_t i = hash & (ix->cap - 1);; i = (i + 1) & (ix->cap - 1)) {
        const struct IndexSlot *slot = &ix->slots[i];
        if (!slot->pos1) return -1;
        if (slot->hash == hash && match(key, slot->pos1 - 1)) return slot->pos1 - 1;
    }
}

static void index_place(PosIndex *ix, uint32_t hash, uint32_t pos) {
    uint32_t i = hash & (ix->cap - 1);
    while (ix->slots[i].pos1) i = (i + 1) & (ix->cap - 1);
    ix->slots[i] = (struct IndexSlot){pos + 1, hash};
    ix->count++;
}

/* Records that the entry at pos has this hash; false when out of memory. */
static bool index_add(PosIndex *ix, uint32_t hash, uint32_t pos) {
    if ((ix->count + 1) * 2 > ix->cap) {
        uint32_t cap = ix->cap ? ix->cap * 2 : 16;
        struct IndexSlot *slots = calloc(cap, sizeof *slots);
        if (!slots) return false;
        PosIndex grown = {slots, cap, 0};
        for (uint32_t i = 0; i < ix->cap; i++)
            if (ix->slots[i].pos1) index_place(&grown, ix->slots[i].hash, ix->slots[i].pos1 - 1);
        free(ix->slots);
        *ix = grown;
    }
    index_place(ix, hash, pos);
    return true;
}

static void index_free(PosIndex *ix) {
    free(ix->slots);
    *ix = (PosIndex){0};
}

typedef struct Symbol {
    const char *name;
    size_t len;
    unsigned flags;
    int line, col; /* first definition or use, for errors */
} Symbol;

typedef struct Scope {
    ScopeKind kind;
    const AstNode *node;
    struct Scope *parent;
    Symbol *syms;
    size_t nsyms, capacity;
    PosIndex sym_index;
    bool generator;
    bool coroutine; /* async def, or a comprehension that awaits: with `generator`, an async generator */
    bool has_free; /* uses free variables */
    bool class_cell; /* a class whose functions use __class__ (or super()) */
    const char *name;
    size_t name_len;
    /* The name of the innermost class around (or of this class), which
     * mangles private names (NULL: none). */
    const char *private_name;
    size_t private_len;
    struct Scope *next_all; /* every scope, for lookup by node and freeing */
} Scope;

typedef struct Compiler Compiler;

/* Errors abort compilation through this flag; the first one wins. */
typedef struct CompileState {
    TState *ts;
    const char *filename;
    SyntaxErrorInfo *err;
    bool failed;
    Scope *scopes; /* all scopes */
    Scope **by_node; /* the same, in an array indexed by their nodes */
    uint32_t nscopes, cap_scopes;
    PosIndex node_index;
    CompileMode mode;
    bool future_annotations; /* `from __future__ import annotations`: annotations are kept as text */
    char **mangled; /* the mangled names made, freed with the scopes */
    size_t nmangled, cap_mangled;
} CompileState;

static void syntax_error(CompileState *cs, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void syntax_error(CompileState *cs, int line, int col, const char *fmt, ...) {
    if (cs->failed) return;
    cs->failed = true;
    cs->err->kind = "SyntaxError";
    cs->err->line = line;
    cs->err->col = col;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cs->err->msg, sizeof cs->err->msg, fmt, ap);
    va_end(ap);
}

static void out_of_memory(CompileState *cs) {
    if (cs->failed) return;
    cs->failed = true;
    cs->err->msg[0] = '\0';
    err_no_memory(cs->ts);
}

/* Private names (class_private_prefix) are mangled in every table of
 * names (symbols, names, varnames), so a name is mangled once whichever
 * pass sees it first; a mangled name starts with one underscore, so
 * mangling it again changes nothing. */
static AstStr mangle(CompileState *cs, const Scope *s, const char *name, size_t len) {
    AstStr out = {name, len};
    const char *prefix;
    size_t plen = s ? class_private_prefix(s->private_name, s->private_len, name, len, &prefix) : 0;
    if (!plen) return out;
    for (size_t i = 0; i < cs->nmangled; i++) {
        const char *m = cs->mangled[i];
        if (strlen(m) == 1 + plen + len && memcmp(m + 1, prefix, plen) == 0 && memcmp(m + 1 + plen, name, len) == 0)
            return (AstStr){m, 1 + plen + len};
    }
    if (cs->nmangled == cs->cap_mangled) {
        size_t cap = cs->cap_mangled ? cs->cap_mangled * 2 : 8;
        char **grown = realloc(cs->mangled, cap * sizeof *grown);
        if (!grown) {
            out_of_memory(cs);
            return out;
        }
        cs->mangled = grown;
        cs->cap_mangled = cap;
    }
    char *m = malloc(1 + plen + len + 1);
    if (!m) {
        out_of_memory(cs);
        return out;
    }
    m[0] = '_';
    memcpy(m + 1, prefix, plen);
    memcpy(m + 1 + plen, name, len);
    m[1 + plen + len] = '\0';
    cs->mangled[cs->nmangled++] = m;
    return (AstStr){m, 1 + plen + len};
}

typedef struct NameKey {
    const char *name;
    size_t len;
    const void *owner; /* the Scope or Compiler searched */
} NameKey;

static bool symbol_matches(const void *key, uint32_t pos) {
    const NameKey *k = key;
    const Symbol *sym = &((const Scope *)k->owner)->syms[pos];
    return sym->len == k->len && memcmp(sym->name, k->name, k->len) == 0;
}

/* The symbol named exactly NAME (already mangled). */
static Symbol *scope_get(Scope *s, const char *name, size_t len) {
    NameKey key = {name, len, s};
    int64_t pos = index_find(&s->sym_index, hash_bytes(name, len), symbol_matches, &key);
    return pos < 0 ? NULL : &s->syms[pos];
}

/* The symbol for NAME as written in S. */
static Symbol *scope_find(CompileState *cs, Scope *s, const char *name, size_t len) {
    AstStr m = mangle(cs, s, name, len);
    return scope_get(s, m.s, m.len);
}

static Symbol *scope_add(CompileState *cs, Scope *s, const char *name, size_t len, unsigned flags,
                         int line, int col) {
    AstStr m = mangle(cs, s, name, len);
    name = m.s;
    len = m.len;
    Symbol *sym = scope_get(s, name, len);
    if (sym) {
        sym->flags |= flags;
        return sym;
    }
    if (s->nsyms == s->capacity) {
        size_t cap = s->capacity ? s->capacity * 2 : 16;
        Symbol *grown = realloc(s->syms, cap * sizeof *grown);
        if (!grown) {
            out_of_memory(cs);
            return NULL;
        }
        s->syms = grown;
        s->capacity = cap;
    }
    if (!index_add(&s->sym_index, hash_bytes(name, len), (uint32_t)s->nsyms)) {
        out_of_memory(cs);
        return NULL;
    }
    sym = &s->syms[s->nsyms++];
    *sym = (Symbol){name, len, flags, line, col};
    return sym;
}

static Scope *scope_new(CompileState *cs, ScopeKind kind, const AstNode *node, Scope *parent,
                        const char *name, size_t name_len) {
    Scope *s = calloc(1, sizeof *s);
    if (!s) {
        out_of_memory(cs);
        return NULL;
    }
    s->kind = kind;
    s->node = node;
    s->parent = parent;
    s->name = name;
    s->name_len = name_len;
    if (kind == SCOPE_CLASS) {
        s->private_name = name;
        s->private_len = name_len;
    } else if (parent) {
        s->private_name = parent->private_name;
        s->private_len = parent->private_len;
    }
    s->next_all = cs->scopes;
    cs->scopes = s;
    if (cs->nscopes == cs->cap_scopes) {
        uint32_t cap = cs->cap_scopes ? cs->cap_scopes * 2 : 16;
        Scope **grown = realloc(cs->by_node, cap * sizeof *grown);
        if (!grown) {
            out_of_memory(cs);
            return NULL;
        }
        cs->by_node = grown;
        cs->cap_scopes = cap;
    }
    if (!index_add(&cs->node_index, hash_word((uintptr_t)node), cs->nscopes)) {
        out_of_memory(cs);
        return NULL;
    }
    cs->by_node[cs->nscopes++] = s;
    return s;
}

typedef struct NodeKey {
    const CompileState *cs;
    const AstNode *node;
} NodeKey;

static bool scope_node_matches(const void *key, uint32_t pos) {
    const NodeKey *k = key;
    return k->cs->by_node[pos]->node == k->node;
}

static Scope *scope_of(CompileState *cs, const AstNode *node) {
    NodeKey key = {cs, node};
    int64_t pos = index_find(&cs->node_index, hash_word((uintptr_t)node), scope_node_matches, &key);
    return pos < 0 ? NULL : cs->by_node[pos];
}

static void free_scopes(CompileState *cs) {
    Scope *s = cs->scopes;
    while (s) {
        Scope *next = s->next_all;
        free(s->syms);
        index_free(&s->sym_index);
        free(s);
        s = next;
    }
    cs->scopes = NULL;
    free(cs->by_node);
    cs->by_node = NULL;
    cs->nscopes = cs->cap_scopes = 0;
    index_free(&cs->node_index);
    for (size_t i = 0; i < cs->nmangled; i++) free(cs->mangled[i]);
    free(cs->mangled);
    cs->mangled = NULL;
    cs->nmangled = cs->cap_mangled = 0;
}

/* ---- pass 1: collect definitions and uses ---------------------------- */

static void collect_stmts(CompileState *cs, Scope *s, const AstSeq *body);
static void collect_expr(CompileState *cs, Scope *s, const AstNode *e);
static void collect_pattern(CompileState *cs, Scope *s, const AstNode *p);

static void define(CompileState *cs, Scope *s, AstStr name, unsigned flags, const AstNode *at) {
    Symbol *sym = scope_find(cs, s, name.s, name.len);
    if (sym && (flags & DEF_LOCAL) && (sym->flags & (DEF_GLOBAL | DEF_NONLOCAL))) return;
    scope_add(cs, s, name.s, name.len, flags, at->line, at->col);
}

static void collect_target(CompileState *cs, Scope *s, const AstNode *t) {
    switch (t->kind) {
    case AST_NAME: define(cs, s, t->u.name.id, DEF_LOCAL, t); break;
    case AST_TUPLE:
    case AST_LIST:
        for (size_t i = 0; i < t->u.seq.elts.count; i++) collect_target(cs, s, t->u.seq.elts.items[i]);
        break;
    case AST_STARRED: collect_target(cs, s, t->u.starred.value); break;
    default: collect_expr(cs, s, t); break;
    }
}

static void collect_arguments_defaults(CompileState *cs, Scope *s, const AstNode *args) {
    if (!args) return;
    for (size_t i = 0; i < args->u.arguments.defaults.count; i++)
        collect_expr(cs, s, args->u.arguments.defaults.items[i]);
    for (size_t i = 0; i < args->u.arguments.kw_defaults.count; i++)
        if (args->u.arguments.kw_defaults.items[i]) collect_expr(cs, s, args->u.arguments.kw_defaults.items[i]);
}

/* Parameter annotations, in the order CPython 3.11 lists them in
 * __annotations__ (ARGS before POSONLYARGS); FN sees each Arg. */
static void for_each_annotated(const AstNode *args, void (*fn)(const AstNode *arg, void *data), void *data) {
    if (!args) return;
    const AstSeq *lists[] = {&args->u.arguments.args, &args->u.arguments.posonlyargs};
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < lists[l]->count; i++)
            if (lists[l]->items[i]->u.arg.annotation) fn(lists[l]->items[i], data);
    if (args->u.arguments.vararg && args->u.arguments.vararg->u.arg.annotation) fn(args->u.arguments.vararg, data);
    for (size_t i = 0; i < args->u.arguments.kwonlyargs.count; i++)
        if (args->u.arguments.kwonlyargs.items[i]->u.arg.annotation) fn(args->u.arguments.kwonlyargs.items[i], data);
    if (args->u.arguments.kwarg && args->u.arguments.kwarg->u.arg.annotation) fn(args->u.arguments.kwarg, data);
}

typedef struct { CompileState *cs; Scope *s; } CollectCtx;

static void collect_annotation(const AstNode *arg, void *data) {
    CollectCtx *cc = data;
    collect_expr(cc->cs, cc->s, arg->u.arg.annotation);
}

static void collect_params(CompileState *cs, Scope *fs, const AstNode *args) {
    if (!args) return;
    const AstSeq *lists[] = {&args->u.arguments.posonlyargs, &args->u.arguments.args,
                             &args->u.arguments.kwonlyargs};
    for (int l = 0; l < 3; l++)
        for (size_t i = 0; i < lists[l]->count; i++) {
            const AstNode *a = lists[l]->items[i];
            if (scope_find(cs, fs, a->u.arg.name.s, a->u.arg.name.len)) {
                syntax_error(cs, a->line, a->col, "duplicate argument '%s' in function definition",
                             a->u.arg.name.s);
                return;
            }
            define(cs, fs, a->u.arg.name, DEF_PARAM | DEF_LOCAL, a);
        }
    if (args->u.arguments.vararg) define(cs, fs, args->u.arguments.vararg->u.arg.name, DEF_PARAM | DEF_LOCAL, args->u.arguments.vararg);
    if (args->u.arguments.kwarg) define(cs, fs, args->u.arguments.kwarg->u.arg.name, DEF_PARAM | DEF_LOCAL, args->u.arguments.kwarg);
}

static void collect_comprehension(CompileState *cs, Scope *s, const AstNode *e) {
    const AstSeq *gens = &e->u.comp.generators;
    /* The first iterable is evaluated in the enclosing scope. */
    collect_expr(cs, s, gens->items[0]->u.comprehension.iter);
    Scope *cscope = scope_new(cs, SCOPE_COMPREHENSION, e, s, NULL, 0);
    if (!cscope) return;
    if (e->kind == AST_GENERATOR_EXP) cscope->generator = true;
    scope_add(cs, cscope, ".0", 2, DEF_PARAM | DEF_LOCAL, e->line, e->col);
    for (size_t i = 0; i < gens->count; i++) {
        const AstNode *g = gens->items[i];
        if (i > 0) collect_expr(cs, cscope, g->u.comprehension.iter);
        collect_target(cs, cscope, g->u.comprehension.target);
        for (size_t j = 0; j < g->u.comprehension.ifs.count; j++)
            collect_expr(cs, cscope, g->u.comprehension.ifs.items[j]);
    }
    collect_expr(cs, cscope, e->u.comp.elt);
    if (e->u.comp.value) collect_expr(cs, cscope, e->u.comp.value);
    for (size_t i = 0; i < gens->count; i++)
        if (gens->items[i]->u.comprehension.is_async) cscope->coroutine = true;
    /* A generator expression that awaits is an async generator, fine
     * anywhere; another comprehension is awaited where it is built, so its
     * own scope must be able to await. */
    if (!cscope->coroutine || e->kind == AST_GENERATOR_EXP) return;
    if (s->kind == SCOPE_COMPREHENSION) s->coroutine = true;
    else if (!(s->kind == SCOPE_FUNCTION && s->coroutine))
        syntax_error(cs, e->line, e->col, "asynchronous comprehension outside of an asynchronous function");
}

static void collect_expr(CompileState *cs, Scope *s, const AstNode *e) {
    if (!e || cs->failed) return;
    switch (e->kind) {
    case AST_WITH_ITEM:
        /* `x as y` in parentheses outside a with statement's items. */
        syntax_error(cs, e->u.with_item.context_expr->end_line, e->u.with_item.context_expr->end_col + 1,
                     "invalid syntax");
        return;
    case AST_NAME:
        if (e->u.name.ctx == AST_LOAD) scope_add(cs, s, e->u.name.id.s, e->u.name.id.len, DEF_USE, e->line, e->col);
        else define(cs, s, e->u.name.id, DEF_LOCAL, e);
        /* super() without arguments reads the __class__ cell, as CPython's. */
        if (e->u.name.ctx == AST_LOAD && s->kind != SCOPE_MODULE && s->kind != SCOPE_CLASS &&
            e->u.name.id.len == 5 && memcmp(e->u.name.id.s, "super", 5) == 0)
            scope_add(cs, s, "__class__", 9, DEF_USE, e->line, e->col);
        return;
    case AST_LAMBDA: {
        collect_arguments_defaults(cs, s, e->u.lambda.args);
        Scope *fs = scope_new(cs, SCOPE_FUNCTION, e, s, "<lambda>", 8);
        if (!fs) return;
        collect_params(cs, fs, e->u.lambda.args);
        collect_expr(cs, fs, e->u.lambda.body);
        return;
    }
    case AST_LIST_COMP:
    case AST_SET_COMP:
    case AST_DICT_COMP:
    case AST_GENERATOR_EXP:
        collect_comprehension(cs, s, e);
        return;
    case AST_YIELD:
    case AST_YIELD_FROM:
        if (s->kind == SCOPE_MODULE || s->kind == SCOPE_CLASS) {
            syntax_error(cs, e->line, e->col, "'yield' outside function");
            return;
        }
        if (s->kind == SCOPE_COMPREHENSION && s->node->kind != AST_GENERATOR_EXP) {
            syntax_error(cs, e->line, e->col, "'yield' inside list comprehension");
            return;
        }
        if (e->kind == AST_YIELD_FROM && s->kind == SCOPE_FUNCTION && s->coroutine) {
            syntax_error(cs, e->line, e->col, "'yield from' inside async function");
            return;
        }
        s->generator = true;
        collect_expr(cs, s, e->u.yield.value);
        return;
    case AST_AWAIT:
        if (s->kind == SCOPE_MODULE || s->kind == SCOPE_CLASS) {
            syntax_error(cs, e->line, e->col, "'await' outside function");
            return;
        }
        if (s->kind == SCOPE_FUNCTION && !s->coroutine) {
            syntax_error(cs, e->line, e->col, "'await' outside async function");
            return;
        }
        s->coroutine = true; /* a comprehension: collect_comprehension checks where it is */
        collect_expr(cs, s, e->u.yield.value);
        return;
    case AST_NAMED_EXPR: {
        /* := in a comprehension binds in the enclosing function. */
        Scope *target = s;
        while (target->kind == SCOPE_COMPREHENSION) target = target->parent;
        const AstNode *name = e->u.named_expr.target;
        if (target != s) {
            define(cs, target, name->u.name.id, DEF_LOCAL, name);
            /* Global in the comprehensions when it is in that function. */
            const Symbol *declared = scope_find(cs, target, name->u.name.id.s, name->u.name.id.len);
            bool global = target->kind == SCOPE_MODULE || (declared && (declared->flags & DEF_GLOBAL));
            unsigned flag = global ? DEF_GLOBAL : DEF_NONLOCAL;
            for (Scope *c = s; c != target; c = c->parent) scope_add(cs, c, name->u.name.id.s, name->u.name.id.len, flag, name->line, name->col);
        } else {
            define(cs, s, name->u.name.id, DEF_LOCAL, name);
        }
        collect_expr(cs, s, e->u.named_expr.value);
        return;
    }
    default:
        break;
    }
    /* Every other expression: visit the children. */
    switch (e->kind) {
    case AST_JOINED_STR:
        for (size_t i = 0; i < e->u.joined_str.values.count; i++) collect_expr(cs, s, e->u.joined_str.values.items[i]);
        break;
    case AST_FORMATTED_VALUE:
        collect_expr(cs, s, e->u.formatted_value.value);
        collect_expr(cs, s, e->u.formatted_value.format_spec);
        break;
    case AST_BOOL_OP:
        for (size_t i = 0; i < e->u.bool_op.values.count; i++) collect_expr(cs, s, e->u.bool_op.values.items[i]);
        break;
    case AST_BIN_OP:
        collect_expr(cs, s, e->u.bin_op.left);
        collect_expr(cs, s, e->u.bin_op.right);
        break;
    case AST_UNARY_OP: collect_expr(cs, s, e->u.unary_op.operand); break;
    case AST_COMPARE:
        collect_expr(cs, s, e->u.compare.left);
        for (size_t i = 0; i < e->u.compare.comparators.count; i++) collect_expr(cs, s, e->u.compare.comparators.items[i]);
        break;
    case AST_CALL:
        collect_expr(cs, s, e->u.call.func);
        for (size_t i = 0; i < e->u.call.args.count; i++) collect_expr(cs, s, e->u.call.args.items[i]);
        for (size_t i = 0; i < e->u.call.keywords.count; i++) collect_expr(cs, s, e->u.call.keywords.items[i]->u.keyword.value);
        break;
    case AST_ATTRIBUTE: collect_expr(cs, s, e->u.attribute.value); break;
    case AST_SUBSCRIPT:
        collect_expr(cs, s, e->u.subscript.value);
        collect_expr(cs, s, e->u.subscript.index);
        break;
    case AST_SLICE:
        collect_expr(cs, s, e->u.slice.lower);
        collect_expr(cs, s, e->u.slice.upper);
        collect_expr(cs, s, e->u.slice.step);
        break;
    case AST_LIST:
    case AST_TUPLE:
        for (size_t i = 0; i < e->u.seq.elts.count; i++) {
            if (e->u.seq.ctx == AST_LOAD) collect_expr(cs, s, e->u.seq.elts.items[i]);
            else collect_target(cs, s, e->u.seq.elts.items[i]);
        }
        break;
    case AST_SET:
        for (size_t i = 0; i < e->u.set.elts.count; i++) collect_expr(cs, s, e->u.set.elts.items[i]);
        break;
    case AST_DICT:
        for (size_t i = 0; i < e->u.dict.keys.count; i++) {
            collect_expr(cs, s, e->u.dict.keys.items[i]);
            collect_expr(cs, s, e->u.dict.values.items[i]);
        }
        break;
    case AST_IF_EXP:
        collect_expr(cs, s, e->u.if_exp.test);
        collect_expr(cs, s, e->u.if_exp.body);
        collect_expr(cs, s, e->u.if_exp.orelse);
        break;
    case AST_STARRED:
        if (e->u.starred.ctx == AST_LOAD) collect_expr(cs, s, e->u.starred.value);
        else collect_target(cs, s, e->u.starred.value);
        break;
    default: break;
    }
}

static void collect_function(CompileState *cs, Scope *s, const AstNode *st) {
    for (size_t i = 0; i < st->u.function_def.decorators.count; i++)
        collect_expr(cs, s, st->u.function_def.decorators.items[i]);
    collect_arguments_defaults(cs, s, st->u.function_def.args);
    CollectCtx cc = {cs, s};
    for_each_annotated(st->u.function_def.args, collect_annotation, &cc);
    collect_expr(cs, s, st->u.function_def.returns);
    define(cs, s, st->u.function_def.name, DEF_LOCAL, st);
    Scope *fs = scope_new(cs, SCOPE_FUNCTION, st, s, st->u.function_def.name.s, st->u.function_def.name.len);
    if (!fs) return;
    fs->coroutine = st->u.function_def.is_async;
    collect_params(cs, fs, st->u.function_def.args);
    collect_stmts(cs, fs, &st->u.function_def.body);
}

static void collect_stmt(CompileState *cs, Scope *s, const AstNode *st) {
    if (cs->failed) return;
    switch (st->kind) {
    case AST_FUNCTION_DEF: collect_function(cs, s, st); break;
    case AST_CLASS_DEF: {
        for (size_t i = 0; i < st->u.class_def.decorators.count; i++) collect_expr(cs, s, st->u.class_def.decorators.items[i]);
        for (size_t i = 0; i < st->u.class_def.bases.count; i++) collect_expr(cs, s, st->u.class_def.bases.items[i]);
        for (size_t i = 0; i < st->u.class_def.keywords.count; i++) collect_expr(cs, s, st->u.class_def.keywords.items[i]->u.keyword.value);
        define(cs, s, st->u.class_def.name, DEF_LOCAL, st);
        Scope *cls = scope_new(cs, SCOPE_CLASS, st, s, st->u.class_def.name.s, st->u.class_def.name.len);
        if (cls) collect_stmts(cs, cls, &st->u.class_def.body);
        break;
    }
    case AST_RETURN:
        if (s->kind != SCOPE_FUNCTION) {
            syntax_error(cs, st->line, st->col, "'return' outside function");
            return;
        }
        collect_expr(cs, s, st->u.value_stmt.value);
        break;
    case AST_DELETE:
        for (size_t i = 0; i < st->u.delete_stmt.targets.count; i++) collect_target(cs, s, st->u.delete_stmt.targets.items[i]);
        break;
    case AST_ASSIGN:
        collect_expr(cs, s, st->u.assign.value);
        for (size_t i = 0; i < st->u.assign.targets.count; i++) collect_target(cs, s, st->u.assign.targets.items[i]);
        break;
    case AST_AUG_ASSIGN:
        collect_expr(cs, s, st->u.aug_assign.value);
        if (st->u.aug_assign.target->kind == AST_NAME) {
            const AstNode *t = st->u.aug_assign.target;
            scope_add(cs, s, t->u.name.id.s, t->u.name.id.len, DEF_USE, t->line, t->col);
            define(cs, s, t->u.name.id, DEF_LOCAL, t);
        } else {
            collect_target(cs, s, st->u.aug_assign.target);
        }
        break;
    case AST_ANN_ASSIGN:
        /* `x: int` alone still makes x local, as CPython. */
        collect_expr(cs, s, st->u.ann_assign.annotation);
        collect_expr(cs, s, st->u.ann_assign.value);
        collect_target(cs, s, st->u.ann_assign.target);
        break;
    case AST_EXPR: collect_expr(cs, s, st->u.value_stmt.value); break;
    case AST_IF:
    case AST_WHILE:
        collect_expr(cs, s, st->u.cond_stmt.test);
        collect_stmts(cs, s, &st->u.cond_stmt.body);
        collect_stmts(cs, s, &st->u.cond_stmt.orelse);
        break;
    case AST_FOR:
        if (st->u.for_stmt.is_async && !(s->kind == SCOPE_FUNCTION && s->coroutine)) {
            syntax_error(cs, st->line, st->col, "'async for' outside async function");
            return;
        }
        collect_expr(cs, s, st->u.for_stmt.iter);
        collect_target(cs, s, st->u.for_stmt.target);
        collect_stmts(cs, s, &st->u.for_stmt.body);
        collect_stmts(cs, s, &st->u.for_stmt.orelse);
        break;
    case AST_GLOBAL:
    case AST_NONLOCAL: {
        bool global = st->kind == AST_GLOBAL;
        if (!global && s->kind == SCOPE_MODULE) {
            syntax_error(cs, st->line, st->col, "nonlocal declaration not allowed at module level");
            return;
        }
        for (size_t i = 0; i < st->u.scope_stmt.names.count; i++) {
            const AstNode *n = st->u.scope_stmt.names.items[i];
            Symbol *sym = scope_find(cs, s, n->u.name.id.s, n->u.name.id.len);
            if (sym && (sym->flags & DEF_PARAM)) {
                syntax_error(cs, n->line, n->col, "name '%s' is parameter and %s", n->u.name.id.s,
                             global ? "global" : "nonlocal");
                return;
            }
            if (sym && (sym->flags & (global ? DEF_NONLOCAL : DEF_GLOBAL))) {
                /* CPython points at the first of the two declarations. */
                syntax_error(cs, sym->line, sym->col, "name '%s' is nonlocal and global", n->u.name.id.s);
                return;
            }
            if (sym && (sym->flags & (DEF_LOCAL | DEF_USE)) && !(sym->flags & (DEF_GLOBAL | DEF_NONLOCAL))) {
                /* CPython's wording differs between the two cases. */
                if (sym->flags & DEF_LOCAL)
                    syntax_error(cs, n->line, n->col, "name '%s' is assigned to before %s declaration",
                                 n->u.name.id.s, global ? "global" : "nonlocal");
                else
                    syntax_error(cs, n->line, n->col, "name '%s' is used prior to %s declaration",
                                 n->u.name.id.s, global ? "global" : "nonlocal");
                return;
            }
            scope_add(cs, s, n->u.name.id.s, n->u.name.id.len, global ? DEF_GLOBAL : DEF_NONLOCAL, n->line, n->col);
        }
        break;
    }
    case AST_IMPORT:
        for (size_t i = 0; i < st->u.import.names.count; i++) {
            const AstNode *a = st->u.import.names.items[i];
            AstStr name = a->u.alias.asname.s ? a->u.alias.asname : a->u.alias.name;
            if (!a->u.alias.asname.s) {
                const char *dot = memchr(name.s, '.', name.len);
                if (dot) name.len = (size_t)(dot - name.s);
            }
            define(cs, s, name, DEF_LOCAL, a);
        }
        break;
    case AST_IMPORT_FROM:
        for (size_t i = 0; i < st->u.import_from.names.count; i++) {
            const AstNode *a = st->u.import_from.names.items[i];
            if (a->u.alias.name.len == 1 && a->u.alias.name.s[0] == '*') {
                if (s->kind != SCOPE_MODULE) {
                    syntax_error(cs, st->line, st->col, "import * only allowed at module level");
                    return;
                }
                continue;
            }
            define(cs, s, a->u.alias.asname.s ? a->u.alias.asname : a->u.alias.name, DEF_LOCAL, a);
        }
        break;
    case AST_RAISE:
        collect_expr(cs, s, st->u.raise.exc);
        collect_expr(cs, s, st->u.raise.cause);
        break;
    case AST_TRY:
        collect_stmts(cs, s, &st->u.try_stmt.body);
        for (size_t i = 0; i < st->u.try_stmt.handlers.count; i++) {
            const AstNode *h = st->u.try_stmt.handlers.items[i];
            collect_expr(cs, s, h->u.except_handler.type);
            if (h->u.except_handler.name.s) define(cs, s, h->u.except_handler.name, DEF_LOCAL, h);
            collect_stmts(cs, s, &h->u.except_handler.body);
        }
        collect_stmts(cs, s, &st->u.try_stmt.orelse);
        collect_stmts(cs, s, &st->u.try_stmt.finalbody);
        break;
    case AST_WITH:
        if (st->u.with.is_async && !(s->kind == SCOPE_FUNCTION && s->coroutine)) {
            syntax_error(cs, st->line, st->col, "'async with' outside async function");
            return;
        }
        for (size_t i = 0; i < st->u.with.items.count; i++) {
            const AstNode *item = st->u.with.items.items[i];
            collect_expr(cs, s, item->u.with_item.context_expr);
            if (item->u.with_item.optional_vars) collect_target(cs, s, item->u.with_item.optional_vars);
        }
        collect_stmts(cs, s, &st->u.with.body);
        break;
    case AST_ASSERT:
        collect_expr(cs, s, st->u.assert_stmt.test);
        collect_expr(cs, s, st->u.assert_stmt.msg);
        break;
    case AST_MATCH:
        collect_expr(cs, s, st->u.match.subject);
        for (size_t i = 0; i < st->u.match.cases.count; i++) {
            const AstNode *mc = st->u.match.cases.items[i];
            collect_pattern(cs, s, mc->u.match_case.pattern);
            collect_expr(cs, s, mc->u.match_case.guard);
            collect_stmts(cs, s, &mc->u.match_case.body);
        }
        break;
    default: break;
    }
}

/* A pattern binds its capture names and evaluates its values, classes
 * and keys. */
static void collect_pattern(CompileState *cs, Scope *s, const AstNode *p) {
    switch (p->kind) {
    case AST_MATCH_VALUE:
    case AST_MATCH_SINGLETON: collect_expr(cs, s, p->u.match_value.value); break;
    case AST_MATCH_SEQUENCE:
    case AST_MATCH_OR:
        for (size_t i = 0; i < p->u.match_seq.patterns.count; i++) collect_pattern(cs, s, p->u.match_seq.patterns.items[i]);
        break;
    case AST_MATCH_MAPPING:
        for (size_t i = 0; i < p->u.match_mapping.keys.count; i++) {
            collect_expr(cs, s, p->u.match_mapping.keys.items[i]);
            collect_pattern(cs, s, p->u.match_mapping.patterns.items[i]);
        }
        if (p->u.match_mapping.rest.s) define(cs, s, p->u.match_mapping.rest, DEF_LOCAL, p);
        break;
    case AST_MATCH_CLASS:
        collect_expr(cs, s, p->u.match_class.cls);
        for (size_t i = 0; i < p->u.match_class.patterns.count; i++) collect_pattern(cs, s, p->u.match_class.patterns.items[i]);
        for (size_t i = 0; i < p->u.match_class.kwd_patterns.count; i++)
            collect_pattern(cs, s, p->u.match_class.kwd_patterns.items[i]);
        break;
    case AST_MATCH_AS:
        if (p->u.match_as.pattern) collect_pattern(cs, s, p->u.match_as.pattern);
        /* fall through */
    case AST_MATCH_STAR:
        if (p->u.match_as.name.s) define(cs, s, p->u.match_as.name, DEF_LOCAL, p);
        break;
    default: break;
    }
}

static void collect_stmts(CompileState *cs, Scope *s, const AstSeq *body) {
    for (size_t i = 0; i < body->count && !cs->failed; i++) collect_stmt(cs, s, body->items[i]);
}

/* ---- pass 2: resolve ---------------------------------------------------- */

static bool binds_locally(const Symbol *sym) {
    return (sym->flags & (DEF_LOCAL | DEF_PARAM)) && !(sym->flags & (DEF_GLOBAL | DEF_NONLOCAL));
}

/* Marks sym free in s and in every scope between s and its binder p; a
 * class scope in between only passes it down to its methods. */
static void mark_path_free(CompileState *cs, Scope *s, Scope *p, Symbol *sym) {
    for (Scope *q = s; q != p; q = q->parent) {
        Symbol *mid = q == s ? sym : scope_add(cs, q, sym->name, sym->len, 0, sym->line, sym->col);
        if (!mid) return;
        if (q->kind == SCOPE_CLASS && q != s) mid->flags |= SYM_PASS;
        else if (!binds_locally(mid)) mid->flags |= SYM_FREE;
        q->has_free = true;
    }
}

/* Marks `name` free in s and every function between s and the scope that
 * binds it, and a cell there. False when no enclosing function binds it. */
static bool resolve_free(CompileState *cs, Scope *s, Symbol *sym) {
    for (Scope *p = s->parent; p; p = p->parent) {
        if (p->kind == SCOPE_CLASS) {
            /* A class binds __class__ for the functions inside it: a cell
             * of its body that the new class fills (__classcell__). */
            if (sym->len != 9 || memcmp(sym->name, "__class__", 9) != 0) continue;
            Symbol *cell = scope_add(cs, p, sym->name, sym->len, SYM_CELL, sym->line, sym->col);
            if (!cell) return false;
            p->class_cell = true;
            mark_path_free(cs, s, p, sym);
            return true;
        }
        if (p->kind == SCOPE_MODULE) return false;
        Symbol *there = scope_get(p, sym->name, sym->len);
        if (!there) continue;
        if (there->flags & DEF_GLOBAL) return false;
        if (binds_locally(there) || (there->flags & SYM_CELL)) {
            there->flags |= SYM_CELL;
            mark_path_free(cs, s, p, sym);
            return true;
        }
        if (there->flags & (DEF_NONLOCAL | SYM_FREE)) {
            /* p passes it through from further out. */
            if (!resolve_free(cs, p, there)) return false;
            there->flags |= SYM_FREE;
            mark_path_free(cs, s, p, sym);
            return true;
        }
    }
    return false;
}

static void resolve_scope(CompileState *cs, Scope *s) {
    for (size_t i = 0; i < s->nsyms && !cs->failed; i++) {
        Symbol *sym = &s->syms[i];
        if (sym->flags & DEF_NONLOCAL) {
            if (!resolve_free(cs, s, sym)) {
                syntax_error(cs, sym->line, sym->col, "no binding for nonlocal '%.*s' found", (int)sym->len, sym->name);
                return;
            }
            sym = &s->syms[i]; /* the array may have moved */
            sym->flags |= SYM_FREE;
            continue;
        }
        if (sym->flags & DEF_GLOBAL) {
            sym->flags |= SYM_GLOBAL;
            continue;
        }
        if (s->kind == SCOPE_MODULE) {
            sym->flags |= SYM_GLOBAL;
            continue;
        }
        if (binds_locally(sym)) continue;
        if (sym->flags & SYM_FREE) continue;
        if (!resolve_free(cs, s, sym)) s->syms[i].flags |= SYM_GLOBAL;
        else s->syms[i].flags |= SYM_FREE;
    }
}

/* Parents before children: a child's free variable needs to see what its
 * ancestors bind (pass 1 collected it all). Scopes were pushed on the list
 * as they were met, so children are before parents: resolve in reverse. */
static void resolve_all(CompileState *cs) {
    size_t n = 0;
    for (Scope *s = cs->scopes; s; s = s->next_all) n++;
    Scope **order = malloc((n ? n : 1) * sizeof *order);
    if (!order) {
        out_of_memory(cs);
        return;
    }
    size_t i = n;
    for (Scope *s = cs->scopes; s; s = s->next_all) order[--i] = s;
    for (i = 0; i < n && !cs->failed; i++) resolve_scope(cs, order[i]);
    free(order);
}

/* ======================================================================
 * Code generation.
 * ====================================================================== */

typedef enum FBlockKind {
    FB_LOOP,           /* while / for; for loops have the iterator on the stack */
    FB_TRY_EXCEPT,     /* the body of a try with except clauses */
    FB_FINALLY_TRY,    /* the body of a try with a finally clause */
    FB_FINALLY_END,    /* a finally body run for an exception: [prev, exc] on the stack */
    FB_HANDLER,        /* an except clause body: [prev] on the stack */
    FB_EXCEPT_STAR,    /* an except* clause body: [prev, orig, raised, rest]; no jump may leave it */
    FB_WITH,           /* a with body: [exit] on the stack */
    FB_POP_VALUE,      /* a finally body run inline by a return: the value below */
} FBlockKind;

typedef struct FBlock {
    FBlockKind kind;
    int break_label, continue_label; /* loops */
    bool for_loop;
    bool is_async;                   /* FB_WITH: `async with`, whose exit is awaited */
    int handler_label;               /* blocks that protect a range */
    uint32_t depth;                  /* stack depth the handler unwinds to */
    int64_t range_start;             /* open protected range, or -1 */
    const AstSeq *finalbody;         /* FB_FINALLY_TRY */
    AstStr handler_name;             /* FB_HANDLER: the `as` name to unbind */
} FBlock;

#define MAX_FBLOCKS 64

typedef struct PendingHandler {
    uint32_t start, end, depth;
    int label;
} PendingHandler;

typedef struct JumpFixup {
    uint32_t pos; /* index of the word holding the target */
    int label;
    bool in_arg;  /* target in the instruction's arg (else the whole word) */
} JumpFixup;

struct Compiler {
    CompileState *cs;
    Scope *scope;
    Compiler *parent;
    uint32_t *instrs;
    uint32_t *lines;
    uint32_t ninstrs, cap_instrs;
    Value *consts;
    uint32_t nconsts, cap_consts;
    PosIndex const_index; /* of the deduplicated constants */
    ObjStr **names;
    uint32_t nnames, cap_names;
    PosIndex name_index;
    ObjStr **varnames;
    uint32_t nvarnames, cap_varnames;
    PosIndex varname_index;
    uint32_t ncaches;
    int64_t *labels;
    int nlabels, cap_labels;
    JumpFixup *fixups;
    uint32_t nfixups, cap_fixups;
    PendingHandler *handlers;
    uint32_t nhandlers, cap_handlers;
    FBlock fblocks[MAX_FBLOCKS];
    int nfblocks;
    int in_with_handler; /* emitting a with block's exception path */
    int depth, max_depth;
    int line;
    ObjStr *qualname;
    /* Where a LOAD_FAST may join the LOAD_FAST just before it (see
     * emit_load_fast); anything bound at that position forbids it. */
    uint32_t pair_at;
};

static bool grow(CompileState *cs, void **p, uint32_t *cap, uint32_t need, size_t size) {
    if (need <= *cap) return true;
    uint32_t ncap = *cap ? *cap * 2 : 32;
    while (ncap < need) ncap *= 2;
    void *q = realloc(*p, (size_t)ncap * size);
    if (!q) {
        out_of_memory(cs);
        return false;
    }
    *p = q;
    *cap = ncap;
    return true;
}

static void adjust_depth(Compiler *c, int delta) {
    c->depth += delta;
    if (c->depth > c->max_depth) c->max_depth = c->depth;
}

static uint32_t emit_word(Compiler *c, uint32_t word) {
    if (c->ninstrs == c->cap_instrs) {
        uint32_t cap = c->cap_instrs ? c->cap_instrs * 2 : 64;
        uint32_t *instrs = realloc(c->instrs, (size_t)cap * sizeof *instrs);
        if (instrs) c->instrs = instrs;
        uint32_t *lines = instrs ? realloc(c->lines, (size_t)cap * sizeof *lines) : NULL;
        if (lines) c->lines = lines;
        if (!instrs || !lines) {
            out_of_memory(c->cs);
            return 0;
        }
        c->cap_instrs = cap;
    }
    c->lines[c->ninstrs] = (uint32_t)c->line;
    c->instrs[c->ninstrs] = word;
    return c->ninstrs++;
}

static uint32_t emit(Compiler *c, Opcode op, uint32_t arg) {
    if (arg > INSTR_ARG_MAX) {
        syntax_error(c->cs, c->line, 1, "too many constants, names or locals in one function");
        return 0;
    }
    uint32_t at = emit_word(c, INSTR_MAKE(op, arg));
    adjust_depth(c, opcode_stack_effect(op, arg, 0));
    if (opcode_words[op] == 2 && op != OP_COMPARE_JUMP_IF_FALSE) {
        emit_word(c, c->ncaches);
        bool attr = op == OP_LOAD_ATTR || op == OP_STORE_ATTR || op == OP_LOAD_METHOD;
        c->ncaches += attr ? MINI_ATTR_CACHE_WAYS : 1;
    }
    return at;
}

static int new_label(Compiler *c) {
    if (c->nlabels == c->cap_labels) {
        int cap = c->cap_labels ? c->cap_labels * 2 : 16;
        int64_t *l = realloc(c->labels, (size_t)cap * sizeof *l);
        if (!l) {
            out_of_memory(c->cs);
            return 0;
        }
        c->labels = l;
        c->cap_labels = cap;
    }
    c->labels[c->nlabels] = -1;
    return c->nlabels++;
}

static void bind_label(Compiler *c, int label) {
    if (label < c->nlabels) c->labels[label] = c->ninstrs;
    c->pair_at = UINT32_MAX;
}

/* Two loads of locals in a row (operands of most expressions) become one
 * LOAD_FAST_PAIR, one dispatch fewer, unless a jump target or protected
 * range starts at the second or it has another line (tracebacks and line
 * events stay as they were). */
static void emit_load_fast(Compiler *c, uint32_t slot) {
    uint32_t at = c->ninstrs - 1;
    if (c->pair_at == c->ninstrs && at < c->ninstrs && INSTR_OP(c->instrs[at]) == OP_LOAD_FAST &&
        INSTR_ARG(c->instrs[at]) < 0x1000 && slot < 0x1000 && c->lines[at] == (uint32_t)c->line) {
        c->instrs[at] = INSTR_MAKE(OP_LOAD_FAST_PAIR, INSTR_ARG(c->instrs[at]) | slot << 12);
        adjust_depth(c, 1);
        c->pair_at = UINT32_MAX;
        return;
    }
    emit(c, OP_LOAD_FAST, slot);
    c->pair_at = c->ninstrs;
}

static void add_fixup(Compiler *c, uint32_t pos, int label, bool in_arg) {
    if (!grow(c->cs, (void **)&c->fixups, &c->cap_fixups, c->nfixups + 1, sizeof *c->fixups)) return;
    c->fixups[c->nfixups++] = (JumpFixup){pos, label, in_arg};
}

static void emit_jump(Compiler *c, Opcode op, int label) {
    uint32_t at = emit(c, op, 0);
    add_fixup(c, at, label, true);
}

/* A compare-and-branch superinstruction: the target is the second word. */
static void emit_compare_jump(Compiler *c, CmpOp op, int label) {
    emit(c, OP_COMPARE_JUMP_IF_FALSE, (uint32_t)op);
    uint32_t at = emit_word(c, 0);
    add_fixup(c, at, label, false);
}

static bool resolve_jumps(Compiler *c) {
    for (uint32_t i = 0; i < c->nfixups; i++) {
        JumpFixup *f = &c->fixups[i];
        int64_t target = c->labels[f->label];
        if (target < 0) {
            syntax_error(c->cs, c->line, 1, "internal compiler error: unbound label");
            return false;
        }
        if (f->in_arg) c->instrs[f->pos] = INSTR_MAKE(INSTR_OP(c->instrs[f->pos]), (uint32_t)target);
        else c->instrs[f->pos] = (uint32_t)target;
    }
    return true;
}

/* ---- constants and names --------------------------------------------- */

static bool same_const(Value a, Value b) {
    if (IS_STR(a) && IS_STR(b)) return str_equal(AS_STR(a), AS_STR(b));
    if (IS_BYTES(a) && IS_BYTES(b))
        return AS_BYTES(a)->len == AS_BYTES(b)->len && memcmp(AS_BYTES(a)->data, AS_BYTES(b)->data, AS_BYTES(a)->len) == 0;
    if (IS_OBJ(a) || IS_OBJ(b)) return false;
    return a == b; /* same tag and bits: 1, 1.0 and True stay distinct */
}

typedef struct ConstKey {
    const Compiler *c;
    Value v;
} ConstKey;

static bool const_matches(const void *key, uint32_t pos) {
    const ConstKey *k = key;
    return same_const(k->c->consts[pos], k->v);
}

static uint32_t add_const(Compiler *c, Value v) {
    bool dedupe = !IS_OBJ(v) || IS_STR(v) || IS_BYTES(v);
    uint32_t hash = IS_STR(v)     ? hash_bytes(AS_STR(v)->data, AS_STR(v)->len)
                    : IS_BYTES(v) ? hash_bytes(AS_BYTES(v)->data, AS_BYTES(v)->len)
                                  : hash_word(v);
    ConstKey key = {c, v};
    int64_t found = dedupe ? index_find(&c->const_index, hash, const_matches, &key) : -1;
    if (found >= 0) return (uint32_t)found;
    if (!grow(c->cs, (void **)&c->consts, &c->cap_consts, c->nconsts + 1, sizeof *c->consts)) return 0;
    if (dedupe && !index_add(&c->const_index, hash, c->nconsts)) {
        out_of_memory(c->cs);
        return 0;
    }
    c->consts[c->nconsts] = v;
    return c->nconsts++;
}

static void emit_const(Compiler *c, Value v) {
    if (IS_INT(v) && AS_INT(v) >= -(1 << 23) && AS_INT(v) < (1 << 23)) {
        emit(c, OP_LOAD_SMALL_INT, (uint32_t)AS_INT(v) & 0xffffff);
        return;
    }
    if (IS_NONE(v)) {
        emit(c, OP_LOAD_NONE, 0);
        return;
    }
    emit(c, OP_LOAD_CONST, add_const(c, v));
}

static ObjStr *intern(Compiler *c, const char *s, size_t len) {
    ObjStr *str = str_intern(c->cs->ts, s, len);
    if (!str) out_of_memory(c->cs);
    return str;
}

static bool name_matches(const void *key, uint32_t pos) {
    const NameKey *k = key;
    const ObjStr *name = ((const Compiler *)k->owner)->names[pos];
    return name->len == k->len && memcmp(name->data, k->name, k->len) == 0;
}

static bool varname_matches(const void *key, uint32_t pos) {
    const NameKey *k = key;
    const ObjStr *name = ((const Compiler *)k->owner)->varnames[pos];
    return name->len == k->len && memcmp(name->data, k->name, k->len) == 0;
}

/* names (globals, attributes) and varnames (locals, cells, free
 * variables): the position of s, appended if new. */
static uint32_t add_to(Compiler *c, ObjStr ***array, uint32_t *n, uint32_t *cap, PosIndex *ix,
                       IndexMatch match, const char *s, size_t len) {
    AstStr m = mangle(c->cs, c->scope, s, len);
    s = m.s;
    len = m.len;
    NameKey key = {s, len, c};
    uint32_t hash = hash_bytes(s, len);
    int64_t found = index_find(ix, hash, match, &key);
    if (found >= 0) return (uint32_t)found;
    ObjStr *name = intern(c, s, len);
    if (!name) return 0;
    if (!grow(c->cs, (void **)array, cap, *n + 1, sizeof **array)) return 0;
    if (!index_add(ix, hash, *n)) {
        out_of_memory(c->cs);
        return 0;
    }
    (*array)[*n] = name;
    return (*n)++;
}

static uint32_t add_name(Compiler *c, const char *s, size_t len) {
    return add_to(c, &c->names, &c->nnames, &c->cap_names, &c->name_index, name_matches, s, len);
}

static int find_varname(Compiler *c, const char *s, size_t len) {
    AstStr m = mangle(c->cs, c->scope, s, len);
    s = m.s;
    len = m.len;
    NameKey key = {s, len, c};
    return (int)index_find(&c->varname_index, hash_bytes(s, len), varname_matches, &key);
}

static uint32_t add_varname(Compiler *c, const char *s, size_t len) {
    return add_to(c, &c->varnames, &c->nvarnames, &c->cap_varnames, &c->varname_index,
                  varname_matches, s, len);
}

/* ---- name access -------------------------------------------------------- */

typedef enum NameOp { NAME_LOAD, NAME_STORE, NAME_DEL } NameOp;

static void compile_name(Compiler *c, AstStr name, NameOp op) {
    Scope *s = c->scope;
    Symbol *sym = scope_find(c->cs, s, name.s, name.len);
    unsigned flags = sym ? sym->flags : SYM_GLOBAL;
    if (s->kind == SCOPE_CLASS) {
        if ((flags & SYM_FREE) && op == NAME_LOAD) {
            emit(c, OP_LOAD_CLASSDEREF, (uint32_t)find_varname(c, name.s, name.len) << 12);
            return;
        }
        if (flags & DEF_GLOBAL) {
            static const Opcode ops[] = {OP_LOAD_GLOBAL, OP_STORE_GLOBAL, OP_DELETE_GLOBAL};
            emit(c, ops[op], add_name(c, name.s, name.len));
            return;
        }
        if (flags & SYM_FREE) {
            static const Opcode ops[] = {OP_LOAD_DEREF, OP_STORE_DEREF, OP_DELETE_DEREF};
            emit(c, ops[op], (uint32_t)find_varname(c, name.s, name.len));
            return;
        }
        static const Opcode ops[] = {OP_LOAD_NAME, OP_STORE_NAME, OP_DELETE_NAME};
        emit(c, ops[op], add_name(c, name.s, name.len));
        return;
    }
    if (flags & (SYM_CELL | SYM_FREE)) {
        static const Opcode ops[] = {OP_LOAD_DEREF, OP_STORE_DEREF, OP_DELETE_DEREF};
        emit(c, ops[op], (uint32_t)find_varname(c, name.s, name.len));
        return;
    }
    if (s->kind == SCOPE_MODULE && c->cs->mode != COMPILE_MODULE && !(flags & DEF_GLOBAL)) {
        static const Opcode ops[] = {OP_LOAD_NAME, OP_STORE_NAME, OP_DELETE_NAME};
        emit(c, ops[op], add_name(c, name.s, name.len));
        return;
    }
    if ((flags & SYM_GLOBAL) || s->kind == SCOPE_MODULE) {
        static const Opcode ops[] = {OP_LOAD_GLOBAL, OP_STORE_GLOBAL, OP_DELETE_GLOBAL};
        emit(c, ops[op], add_name(c, name.s, name.len));
        return;
    }
    static const Opcode ops[] = {OP_LOAD_FAST, OP_STORE_FAST, OP_DELETE_FAST};
    if (ops[op] == OP_LOAD_FAST) emit_load_fast(c, add_varname(c, name.s, name.len));
    else emit(c, ops[op], add_varname(c, name.s, name.len));
}

/* ---- expressions -------------------------------------------------------- */

static void compile_expr(Compiler *c, const AstNode *e);
static void compile_stmts(Compiler *c, const AstSeq *body);
static void compile_store(Compiler *c, const AstNode *t);
static ObjCode *compile_scope(CompileState *cs, Compiler *parent, Scope *scope, const AstNode *args,
                              const AstSeq *body, const AstNode *expr_body, const char *name,
                              size_t name_len, int first_line);
static void compile_jump_if(Compiler *c, const AstNode *e, bool jump_when, int label);

static void set_line(Compiler *c, const AstNode *n) {
    if (n && n->line > 0) c->line = n->line;
}

static Value int_constant(Compiler *c, const AstNode *e) {
    Value v = int_from_literal(c->cs->ts, e->u.int_lit.digits.s, e->u.int_lit.digits.len, e->u.int_lit.base);
    if (IS_ERROR(v)) {
        c->cs->failed = true;
        c->cs->err->msg[0] = '\0';
        return NONE_VAL;
    }
    return v;
}

static Value bytes_constant(Compiler *c, AstStr s) {
    ObjBytes *b = bytes_new(c->cs->ts, s.s, s.len);
    if (!b) out_of_memory(c->cs);
    return b ? OBJ_VAL(b) : NONE_VAL;
}

static Value str_constant(Compiler *c, AstStr s) {
    ObjStr *str = s.len < 40 ? str_intern(c->cs->ts, s.s, s.len) : str_new(c->cs->ts, s.s, s.len);
    if (!str) {
        out_of_memory(c->cs);
        return NONE_VAL;
    }
    return OBJ_VAL(str);
}

/* NAME as the scope being compiled names it (a parameter's or annotated
 * name's key in __kwdefaults__ and __annotations__). */
static AstStr mangled(Compiler *c, AstStr name) { return mangle(c->cs, c->scope, name.s, name.len); }

static bool has_starred(const AstSeq *elts) {
    for (size_t i = 0; i < elts->count; i++)
        if (elts->items[i]->kind == AST_STARRED) return true;
    return false;
}

/* Builds a list from elements that may include *unpacking; in_call makes
 * errors name the function being called (it sits below the list). */
static void compile_list_with_stars(Compiler *c, const AstSeq *elts) {
    size_t i = 0;
    /* Leading plain items go into BUILD_LIST at once. */
    while (i < elts->count && elts->items[i]->kind != AST_STARRED) compile_expr(c, elts->items[i++]);
    emit(c, OP_BUILD_LIST, (uint32_t)i);
    for (; i < elts->count; i++) {
        const AstNode *el = elts->items[i];
        if (el->kind == AST_STARRED) {
            compile_expr(c, el->u.starred.value);
            emit(c, OP_LIST_EXTEND, 0);
        } else {
            compile_expr(c, el);
            emit(c, OP_LIST_APPEND, 0);
        }
    }
}

static void compile_sequence(Compiler *c, const AstNode *e) {
    const AstSeq *elts = &e->u.seq.elts;
    if (has_starred(elts)) {
        compile_list_with_stars(c, elts);
        if (e->kind == AST_TUPLE) emit(c, OP_LIST_TO_TUPLE, 0);
        return;
    }
    for (size_t i = 0; i < elts->count; i++) compile_expr(c, elts->items[i]);
    emit(c, e->kind == AST_TUPLE ? OP_BUILD_TUPLE : OP_BUILD_LIST, (uint32_t)elts->count);
}

static BinOp binop_of(AstOperator op) {
    switch (op) {
    case AST_OP_ADD: return BIN_ADD;
    case AST_OP_SUB: return BIN_SUB;
    case AST_OP_MULT: return BIN_MUL;
    case AST_OP_MATMULT: return BIN_MATMUL;
    case AST_OP_DIV: return BIN_TRUEDIV;
    case AST_OP_FLOORDIV: return BIN_FLOORDIV;
    case AST_OP_MOD: return BIN_MOD;
    case AST_OP_POW: return BIN_POW;
    case AST_OP_LSHIFT: return BIN_LSHIFT;
    case AST_OP_RSHIFT: return BIN_RSHIFT;
    case AST_OP_BITOR: return BIN_OR;
    case AST_OP_BITXOR: return BIN_XOR;
    default: return BIN_AND;
    }
}

/* Emits the comparison of the two values on top of the stack. */
static void emit_compare(Compiler *c, AstCmpOp op) {
    switch (op) {
    case AST_CMP_EQ: emit(c, OP_COMPARE_OP, CMP_EQ); break;
    case AST_CMP_NOT_EQ: emit(c, OP_COMPARE_OP, CMP_NE); break;
    case AST_CMP_LT: emit(c, OP_COMPARE_OP, CMP_LT); break;
    case AST_CMP_LT_E: emit(c, OP_COMPARE_OP, CMP_LE); break;
    case AST_CMP_GT: emit(c, OP_COMPARE_OP, CMP_GT); break;
    case AST_CMP_GT_E: emit(c, OP_COMPARE_OP, CMP_GE); break;
    case AST_CMP_IS: emit(c, OP_IS_OP, 0); break;
    case AST_CMP_IS_NOT: emit(c, OP_IS_OP, 1); break;
    case AST_CMP_IN: emit(c, OP_CONTAINS_OP, 0); break;
    case AST_CMP_NOT_IN: emit(c, OP_CONTAINS_OP, 1); break;
    }
}

static bool plain_comparison(AstCmpOp op, CmpOp *out) {
    switch (op) {
    case AST_CMP_EQ: *out = CMP_EQ; return true;
    case AST_CMP_NOT_EQ: *out = CMP_NE; return true;
    case AST_CMP_LT: *out = CMP_LT; return true;
    case AST_CMP_LT_E: *out = CMP_LE; return true;
    case AST_CMP_GT: *out = CMP_GT; return true;
    case AST_CMP_GT_E: *out = CMP_GE; return true;
    default: return false;
    }
}

static void compile_compare(Compiler *c, const AstNode *e) {
    compile_expr(c, e->u.compare.left);
    size_t n = e->u.compare.comparators.count;
    if (n == 1) {
        compile_expr(c, e->u.compare.comparators.items[0]);
        emit_compare(c, e->u.compare.ops[0]);
        return;
    }
    int cleanup = new_label(c), end = new_label(c);
    for (size_t i = 0; i + 1 < n; i++) {
        compile_expr(c, e->u.compare.comparators.items[i]);
        emit(c, OP_SWAP, 2);
        emit(c, OP_COPY, 2);
        emit_compare(c, e->u.compare.ops[i]);
        emit_jump(c, OP_JUMP_IF_FALSE_OR_POP, cleanup);
    }
    compile_expr(c, e->u.compare.comparators.items[n - 1]);
    emit_compare(c, e->u.compare.ops[n - 1]);
    emit_jump(c, OP_JUMP, end);
    bind_label(c, cleanup);
    adjust_depth(c, 1);
    emit(c, OP_SWAP, 2);
    emit(c, OP_POP_TOP, 0);
    bind_label(c, end);
}

static void compile_bool_op(Compiler *c, const AstNode *e) {
    int end = new_label(c);
    Opcode op = e->u.bool_op.op == AST_BOOL_AND ? OP_JUMP_IF_FALSE_OR_POP : OP_JUMP_IF_TRUE_OR_POP;
    size_t n = e->u.bool_op.values.count;
    for (size_t i = 0; i + 1 < n; i++) {
        compile_expr(c, e->u.bool_op.values.items[i]);
        emit_jump(c, op, end);
    }
    compile_expr(c, e->u.bool_op.values.items[n - 1]);
    bind_label(c, end);
}

static void compile_keywords_map(Compiler *c, const AstSeq *keywords, bool method) {
    /* A dict of keyword arguments for CALL_EX: name: value pairs, with
     * **mappings merged in order (DICT_MERGE's argument says where the
     * callable is, for its messages). */
    size_t pending = 0;
    bool have_map = false;
    for (size_t i = 0; i < keywords->count; i++) {
        const AstNode *kw = keywords->items[i];
        if (kw->u.keyword.name.s) {
            emit_const(c, str_constant(c, kw->u.keyword.name));
            compile_expr(c, kw->u.keyword.value);
            pending++;
            continue;
        }
        if (pending || !have_map) {
            emit(c, OP_BUILD_MAP, (uint32_t)pending);
            if (have_map) emit(c, OP_DICT_MERGE, method);
            have_map = true;
            pending = 0;
        }
        compile_expr(c, kw->u.keyword.value);
        emit(c, OP_DICT_MERGE, method);
    }
    if (pending || !have_map) {
        emit(c, OP_BUILD_MAP, (uint32_t)pending);
        if (have_map) emit(c, OP_DICT_MERGE, method);
    }
}

static void compile_call(Compiler *c, const AstNode *e) {
    const AstSeq *args = &e->u.call.args, *kws = &e->u.call.keywords;
    bool dynamic = has_starred(args);
    for (size_t i = 0; i < kws->count; i++)
        if (!kws->items[i]->u.keyword.name.s) dynamic = true;
    const AstNode *func = e->u.call.func;
    bool method = func->kind == AST_ATTRIBUTE;
    if (method) {
        compile_expr(c, func->u.attribute.value);
        set_line(c, func);
        emit(c, OP_LOAD_METHOD, add_name(c, func->u.attribute.attr.s, func->u.attribute.attr.len));
    } else {
        compile_expr(c, func);
    }
    if (dynamic) {
        /* f(*a) and f(x, y, *a) without keywords: the values, then a
         * itself, spread by CALL_EX (f(*a) iterates a after the keywords
         * are evaluated, as CPython); else a list of the positional ones. */
        size_t before = 0;
        bool trailing = args->count && args->items[args->count - 1]->kind == AST_STARRED &&
                        (args->count == 1 || !kws->count);
        for (size_t i = 0; trailing && i + 1 < args->count; i++) trailing = args->items[i]->kind != AST_STARRED;
        if (trailing) {
            before = args->count - 1;
            for (size_t i = 0; i < before; i++) compile_expr(c, args->items[i]);
            compile_expr(c, args->items[before]->u.starred.value);
        } else {
            compile_list_with_stars(c, args);
        }
        /* f(..., **m): m itself, read by CALL_EX; else a dict made here. */
        if (kws->count == 1 && !kws->items[0]->u.keyword.name.s)
            compile_expr(c, kws->items[0]->u.keyword.value);
        else if (kws->count)
            compile_keywords_map(c, kws, method);
        set_line(c, e);
        emit(c, OP_CALL_EX, (uint32_t)before << 2 | (kws->count ? 1u : 0u) | (method ? 2u : 0u));
        return;
    }
    for (size_t i = 0; i < args->count; i++) compile_expr(c, args->items[i]);
    for (size_t i = 0; i < kws->count; i++) compile_expr(c, kws->items[i]->u.keyword.value);
    uint32_t total = (uint32_t)(args->count + kws->count);
    set_line(c, e);
    if (kws->count) {
        ObjTuple *names = tuple_new(c->cs->ts, kws->count);
        if (!names) {
            out_of_memory(c->cs);
            return;
        }
        for (size_t i = 0; i < kws->count; i++) names->items[i] = str_constant(c, kws->items[i]->u.keyword.name);
        emit(c, OP_LOAD_CONST, add_const(c, OBJ_VAL(names)));
        emit(c, method ? OP_CALL_METHOD_KW : OP_CALL_KW, total);
    } else {
        emit(c, method ? OP_CALL_METHOD : OP_CALL, total);
    }
}

static void compile_subscript_index(Compiler *c, const AstNode *index) {
    if (index->kind == AST_SLICE) {
        if (index->u.slice.lower) compile_expr(c, index->u.slice.lower);
        else emit(c, OP_LOAD_NONE, 0);
        if (index->u.slice.upper) compile_expr(c, index->u.slice.upper);
        else emit(c, OP_LOAD_NONE, 0);
        if (index->u.slice.step) {
            compile_expr(c, index->u.slice.step);
            emit(c, OP_BUILD_SLICE, 3);
        } else {
            emit(c, OP_BUILD_SLICE, 2);
        }
        return;
    }
    compile_expr(c, index);
}

/* An annotation's value: under `from __future__ import annotations` its
 * text (PEP 563), else the expression itself. A form the unparser does not
 * write (a lambda, a comprehension) is evaluated instead. */
static void compile_annotation(Compiler *c, const AstNode *e) {
    if (c->cs->future_annotations) {
        StrBuf sb;
        sb_init(&sb);
        if (unparse_expr(c->cs->ts, e, &sb)) {
            emit_const(c, str_constant(c, (AstStr){sb.data, sb.len}));
            sb_free(&sb);
            return;
        }
        sb_free(&sb);
    }
    compile_expr(c, e);
}

typedef struct { Compiler *c; uint32_t count; } AnnotationsCtx;

static void compile_param_annotation(const AstNode *arg, void *data) {
    AnnotationsCtx *ac = data;
    emit_const(ac->c, str_constant(ac->c, mangled(ac->c, arg->u.arg.name)));
    compile_annotation(ac->c, arg->u.arg.annotation);
    ac->count++;
}

/* Defaults, keyword defaults, annotations (RETURNS is the `->` one, or NULL)
 * and closure cells, then MAKE_FUNCTION. */
static void make_function(Compiler *c, ObjCode *code, const AstNode *args, const AstNode *returns, Scope *child) {
    uint32_t flags = 0;
    if (args && args->u.arguments.defaults.count) {
        for (size_t i = 0; i < args->u.arguments.defaults.count; i++) compile_expr(c, args->u.arguments.defaults.items[i]);
        emit(c, OP_BUILD_TUPLE, (uint32_t)args->u.arguments.defaults.count);
        flags |= 1;
    }
    if (args) {
        size_t n = 0;
        for (size_t i = 0; i < args->u.arguments.kwonlyargs.count; i++) {
            const AstNode *d = args->u.arguments.kw_defaults.items[i];
            if (!d) continue;
            emit_const(c, str_constant(c, mangled(c, args->u.arguments.kwonlyargs.items[i]->u.arg.name)));
            compile_expr(c, d);
            n++;
        }
        if (n) {
            emit(c, OP_BUILD_MAP, (uint32_t)n);
            flags |= 2;
        }
    }
    AnnotationsCtx ac = {c, 0};
    for_each_annotated(args, compile_param_annotation, &ac);
    if (returns) {
        emit_const(c, str_constant(c, (AstStr){"return", 6}));
        compile_annotation(c, returns);
        ac.count++;
    }
    if (ac.count) {
        emit(c, OP_BUILD_MAP, ac.count);
        flags |= 8;
    }
    if (code->nfree) {
        uint32_t first = code->nlocals - code->nfree;
        for (uint32_t i = 0; i < code->nfree; i++) {
            ObjStr *name = code->varnames[first + i];
            int slot = find_varname(c, name->data, name->len);
            if (slot < 0) {
                syntax_error(c->cs, c->line, 1, "internal compiler error: no cell for '%s'", name->data);
                return;
            }
            emit(c, OP_LOAD_CLOSURE, (uint32_t)slot);
        }
        emit(c, OP_BUILD_TUPLE, code->nfree);
        flags |= 4;
    }
    (void)child;
    uint32_t k = add_const(c, OBJ_VAL(code));
    emit(c, OP_MAKE_FUNCTION, (k << 4) | flags);
}

/* 1 when the code being emitted runs inside an except or finally block
 * (an exception is being handled), which a yield there must know. */
static uint32_t in_handler(Compiler *c) {
    if (c->in_with_handler) return 1;
    for (int i = 0; i < c->nfblocks; i++)
        if (c->fblocks[i].kind == FB_HANDLER || c->fblocks[i].kind == FB_FINALLY_END ||
            c->fblocks[i].kind == FB_EXCEPT_STAR)
            return 1;
    return 0;
}

/* Runs the awaitable iterator on top to its end, passing what it yields
 * up and what is sent down (the `yield from` machinery). */
static void emit_delegate(Compiler *c) {
    emit(c, OP_LOAD_NONE, 0);
    emit(c, OP_YIELD_FROM, in_handler(c));
}

/* Awaits the value on top: its awaitable (`kind` names what gave it, for
 * the error: 0 an await, 1 __aenter__, 2 __aexit__), delegated to by
 * YIELD_FROM as `yield from` would. */
static void emit_await(Compiler *c, uint32_t kind) {
    emit(c, OP_GET_AWAITABLE, kind);
    emit_delegate(c);
}

static void compile_lambda(Compiler *c, const AstNode *e) {
    Scope *s = scope_of(c->cs, e);
    ObjCode *code = compile_scope(c->cs, c, s, e->u.lambda.args, NULL, e->u.lambda.body, "<lambda>", 8, e->line);
    if (!code) return;
    make_function(c, code, e->u.lambda.args, NULL, s);
}

static void compile_comprehension(Compiler *c, const AstNode *e) {
    Scope *s = scope_of(c->cs, e);
    const char *name = e->kind == AST_LIST_COMP ? "<listcomp>"
                       : e->kind == AST_SET_COMP ? "<setcomp>"
                       : e->kind == AST_DICT_COMP ? "<dictcomp>"
                                                  : "<genexpr>";
    ObjCode *code = compile_scope(c->cs, c, s, NULL, NULL, e, name, strlen(name), e->line);
    if (!code) return;
    make_function(c, code, NULL, NULL, s);
    compile_expr(c, e->u.comp.generators.items[0]->u.comprehension.iter);
    emit(c, e->u.comp.generators.items[0]->u.comprehension.is_async ? OP_GET_AITER : OP_GET_ITER, 0);
    emit(c, OP_CALL, 1);
    if (s->coroutine && e->kind != AST_GENERATOR_EXP) emit_await(c, 0);
}

static void compile_joined_str(Compiler *c, const AstNode *e) {
    const AstSeq *parts = &e->u.joined_str.values;
    if (parts->count == 0) {
        emit_const(c, str_constant(c, (AstStr){"", 0}));
        return;
    }
    for (size_t i = 0; i < parts->count; i++) {
        const AstNode *p = parts->items[i];
        if (p->kind == AST_STR) {
            emit_const(c, str_constant(c, p->u.str.value));
            continue;
        }
        compile_expr(c, p->u.formatted_value.value);
        int conv = p->u.formatted_value.conversion;
        uint32_t arg = conv == 's' ? 1 : conv == 'r' ? 2 : conv == 'a' ? 3 : 0;
        if (p->u.formatted_value.format_spec) {
            compile_joined_str(c, p->u.formatted_value.format_spec);
            arg |= 4;
        }
        emit(c, OP_FORMAT_VALUE, arg);
    }
    if (parts->count > 1) emit(c, OP_BUILD_STRING, (uint32_t)parts->count);
}

static void compile_dict(Compiler *c, const AstNode *e) {
    const AstSeq *keys = &e->u.dict.keys, *values = &e->u.dict.values;
    size_t pending = 0;
    bool have = false;
    for (size_t i = 0; i < keys->count; i++) {
        if (keys->items[i]) {
            compile_expr(c, keys->items[i]);
            compile_expr(c, values->items[i]);
            pending++;
            continue;
        }
        if (pending || !have) {
            emit(c, OP_BUILD_MAP, (uint32_t)pending);
            if (have) emit(c, OP_DICT_UPDATE, 0);
            have = true;
            pending = 0;
        }
        compile_expr(c, values->items[i]);
        emit(c, OP_DICT_UPDATE, 0);
    }
    if (pending || !have) {
        emit(c, OP_BUILD_MAP, (uint32_t)pending);
        if (have) emit(c, OP_DICT_UPDATE, 0);
    }
}

/* -<number> as one constant, as CPython folds it (`x ** -1.5` in a loop
 * then negates nothing at run time); small ints and real floats only. */
static bool compile_negative_literal(Compiler *c, const AstNode *e) {
    const AstNode *operand = e->u.unary_op.operand;
    if (e->u.unary_op.op != AST_UNARY_NEG) return false;
    if (operand->kind == AST_FLOAT && !operand->u.float_lit.imag) {
        emit(c, OP_LOAD_CONST, add_const(c, FLOAT_VAL(-operand->u.float_lit.value)));
        return true;
    }
    if (operand->kind != AST_INT) return false;
    Value v = int_constant(c, operand);
    if (!IS_INT(v)) return false;
    emit_const(c, INT_VAL(-AS_INT(v))); /* a literal is not negative: no overflow */
    return true;
}

static void compile_expr(Compiler *c, const AstNode *e) {
    if (c->cs->failed) return;
    int saved_line = c->line;
    set_line(c, e);
    switch (e->kind) {
    case AST_NAME: compile_name(c, e->u.name.id, NAME_LOAD); break;
    case AST_INT: emit_const(c, int_constant(c, e)); break;
    case AST_FLOAT:
        if (e->u.float_lit.imag) {
            Value v = complex_new_value(c->cs->ts, 0.0, e->u.float_lit.value);
            if (IS_ERROR(v)) out_of_memory(c->cs);
            else emit(c, OP_LOAD_CONST, add_const(c, v));
        } else {
            emit(c, OP_LOAD_CONST, add_const(c, FLOAT_VAL(e->u.float_lit.value)));
        }
        break;
    case AST_STR: emit_const(c, str_constant(c, e->u.str.value)); break;
    case AST_BYTES: emit_const(c, bytes_constant(c, e->u.str.value)); break;
    case AST_JOINED_STR: compile_joined_str(c, e); break;
    case AST_CONSTANT:
        switch (e->u.constant.value) {
        case AST_CONST_NONE: emit(c, OP_LOAD_NONE, 0); break;
        case AST_CONST_TRUE: emit(c, OP_LOAD_CONST, add_const(c, TRUE_VAL)); break;
        case AST_CONST_FALSE: emit(c, OP_LOAD_CONST, add_const(c, FALSE_VAL)); break;
        case AST_CONST_ELLIPSIS: emit(c, OP_LOAD_CONST, add_const(c, ELLIPSIS_VAL)); break;
        }
        break;
    case AST_BOOL_OP: compile_bool_op(c, e); break;
    case AST_BIN_OP:
        compile_expr(c, e->u.bin_op.left);
        compile_expr(c, e->u.bin_op.right);
        set_line(c, e);
        emit(c, OP_BINARY_OP, binop_of(e->u.bin_op.op));
        break;
    case AST_UNARY_OP:
        if (compile_negative_literal(c, e)) break;
        compile_expr(c, e->u.unary_op.operand);
        switch (e->u.unary_op.op) {
        case AST_UNARY_NOT: emit(c, OP_UNARY_NOT, 0); break;
        case AST_UNARY_NEG: emit(c, OP_UNARY_OP, UN_NEG); break;
        case AST_UNARY_POS: emit(c, OP_UNARY_OP, UN_POS); break;
        case AST_UNARY_INVERT: emit(c, OP_UNARY_OP, UN_INVERT); break;
        }
        break;
    case AST_COMPARE: compile_compare(c, e); break;
    case AST_CALL: compile_call(c, e); break;
    case AST_ATTRIBUTE:
        compile_expr(c, e->u.attribute.value);
        set_line(c, e);
        emit(c, OP_LOAD_ATTR, add_name(c, e->u.attribute.attr.s, e->u.attribute.attr.len));
        break;
    case AST_SUBSCRIPT:
        compile_expr(c, e->u.subscript.value);
        compile_subscript_index(c, e->u.subscript.index);
        set_line(c, e);
        emit(c, OP_BINARY_SUBSCR, 0);
        break;
    case AST_SLICE: compile_subscript_index(c, e); break;
    case AST_LIST:
    case AST_TUPLE: compile_sequence(c, e); break;
    case AST_DICT: compile_dict(c, e); break;
    case AST_SET:
        if (has_starred(&e->u.set.elts)) {
            emit(c, OP_BUILD_SET, 0);
            for (size_t i = 0; i < e->u.set.elts.count; i++) {
                const AstNode *el = e->u.set.elts.items[i];
                if (el->kind == AST_STARRED) {
                    compile_expr(c, el->u.starred.value);
                    emit(c, OP_SET_UPDATE, 0);
                } else {
                    compile_expr(c, el);
                    emit(c, OP_SET_ADD, 0);
                }
            }
        } else {
            for (size_t i = 0; i < e->u.set.elts.count; i++) compile_expr(c, e->u.set.elts.items[i]);
            emit(c, OP_BUILD_SET, (uint32_t)e->u.set.elts.count);
        }
        break;
    case AST_LIST_COMP:
    case AST_SET_COMP:
    case AST_DICT_COMP:
    case AST_GENERATOR_EXP: compile_comprehension(c, e); break;
    case AST_LAMBDA: compile_lambda(c, e); break;
    case AST_IF_EXP: {
        int orelse = new_label(c), end = new_label(c);
        compile_jump_if(c, e->u.if_exp.test, false, orelse);
        compile_expr(c, e->u.if_exp.body);
        emit_jump(c, OP_JUMP, end);
        adjust_depth(c, -1);
        bind_label(c, orelse);
        compile_expr(c, e->u.if_exp.orelse);
        bind_label(c, end);
        break;
    }
    case AST_STARRED:
        syntax_error(c->cs, e->line, e->col, "can't use starred expression here");
        break;
    case AST_YIELD:
        if (e->u.yield.value) compile_expr(c, e->u.yield.value);
        else emit(c, OP_LOAD_NONE, 0);
        emit(c, OP_YIELD_VALUE, in_handler(c));
        break;
    case AST_YIELD_FROM:
        compile_expr(c, e->u.yield.value);
        emit(c, OP_GET_ITER, 0);
        emit_delegate(c);
        break;
    case AST_AWAIT:
        compile_expr(c, e->u.yield.value);
        set_line(c, e);
        emit_await(c, 0);
        break;
    case AST_NAMED_EXPR:
        compile_expr(c, e->u.named_expr.value);
        emit(c, OP_COPY, 1);
        compile_store(c, e->u.named_expr.target);
        break;
    case AST_FORMATTED_VALUE:
    default:
        syntax_error(c->cs, e->line, e->col, "invalid syntax");
        break;
    }
    c->line = saved_line;
}

/* Jumps to label when the truth of e equals jump_when, else falls through;
 * never leaves a value on the stack. */
static void compile_jump_if(Compiler *c, const AstNode *e, bool jump_when, int label) {
    if (e->kind == AST_UNARY_OP && e->u.unary_op.op == AST_UNARY_NOT) {
        compile_jump_if(c, e->u.unary_op.operand, !jump_when, label);
        return;
    }
    if (e->kind == AST_BOOL_OP) {
        bool is_and = e->u.bool_op.op == AST_BOOL_AND;
        size_t n = e->u.bool_op.values.count;
        if (is_and != jump_when) {
            /* and-jump-if-false / or-jump-if-true: any operand decides. */
            for (size_t i = 0; i < n; i++) compile_jump_if(c, e->u.bool_op.values.items[i], jump_when, label);
        } else {
            int skip = new_label(c);
            for (size_t i = 0; i + 1 < n; i++) compile_jump_if(c, e->u.bool_op.values.items[i], !jump_when, skip);
            compile_jump_if(c, e->u.bool_op.values.items[n - 1], jump_when, label);
            bind_label(c, skip);
        }
        return;
    }
    CmpOp cmp;
    if (e->kind == AST_COMPARE && e->u.compare.comparators.count == 1 && !jump_when &&
        plain_comparison(e->u.compare.ops[0], &cmp)) {
        compile_expr(c, e->u.compare.left);
        compile_expr(c, e->u.compare.comparators.items[0]);
        set_line(c, e);
        emit_compare_jump(c, cmp, label);
        return;
    }
    compile_expr(c, e);
    emit_jump(c, jump_when ? OP_POP_JUMP_IF_TRUE : OP_POP_JUMP_IF_FALSE, label);
}

/* ---- assignment targets ------------------------------------------------ */

static void compile_unpack(Compiler *c, const AstSeq *elts, const AstNode *at) {
    size_t star = elts->count;
    for (size_t i = 0; i < elts->count; i++) {
        if (elts->items[i]->kind != AST_STARRED) continue;
        if (star != elts->count) {
            syntax_error(c->cs, elts->items[i]->line, elts->items[i]->col,
                         "multiple starred expressions in assignment");
            return;
        }
        star = i;
    }
    if (star == elts->count) {
        emit(c, OP_UNPACK_SEQUENCE, (uint32_t)elts->count);
    } else {
        size_t after = elts->count - star - 1;
        if (star > 255 || after > 0xffff) {
            syntax_error(c->cs, at->line, at->col, "too many expressions in star-unpacking assignment");
            return;
        }
        emit(c, OP_UNPACK_EX, (uint32_t)star | ((uint32_t)after << 8));
    }
    for (size_t i = 0; i < elts->count; i++) {
        const AstNode *t = elts->items[i];
        compile_store(c, t->kind == AST_STARRED ? t->u.starred.value : t);
    }
}

static void compile_store(Compiler *c, const AstNode *t) {
    if (c->cs->failed) return;
    set_line(c, t);
    switch (t->kind) {
    case AST_NAME: compile_name(c, t->u.name.id, NAME_STORE); break;
    case AST_ATTRIBUTE:
        compile_expr(c, t->u.attribute.value);
        set_line(c, t);
        emit(c, OP_STORE_ATTR, add_name(c, t->u.attribute.attr.s, t->u.attribute.attr.len));
        break;
    case AST_SUBSCRIPT:
        compile_expr(c, t->u.subscript.value);
        compile_subscript_index(c, t->u.subscript.index);
        set_line(c, t);
        emit(c, OP_STORE_SUBSCR, 0);
        break;
    case AST_TUPLE:
    case AST_LIST: compile_unpack(c, &t->u.seq.elts, t); break;
    case AST_STARRED:
        syntax_error(c->cs, t->line, t->col, "starred assignment target must be in a list or tuple");
        break;
    default:
        syntax_error(c->cs, t->line, t->col, "cannot assign to %s", ast_expr_name(t));
        break;
    }
}

static void compile_delete(Compiler *c, const AstNode *t) {
    set_line(c, t);
    switch (t->kind) {
    case AST_NAME: compile_name(c, t->u.name.id, NAME_DEL); break;
    case AST_ATTRIBUTE:
        compile_expr(c, t->u.attribute.value);
        emit(c, OP_DELETE_ATTR, add_name(c, t->u.attribute.attr.s, t->u.attribute.attr.len));
        break;
    case AST_SUBSCRIPT:
        compile_expr(c, t->u.subscript.value);
        compile_subscript_index(c, t->u.subscript.index);
        emit(c, OP_DELETE_SUBSCR, 0);
        break;
    case AST_TUPLE:
    case AST_LIST:
        for (size_t i = 0; i < t->u.seq.elts.count; i++) compile_delete(c, t->u.seq.elts.items[i]);
        break;
    default:
        syntax_error(c->cs, t->line, t->col, "cannot delete %s", ast_expr_name(t));
        break;
    }
}

static void compile_aug_assign(Compiler *c, const AstNode *st) {
    const AstNode *t = st->u.aug_assign.target;
    BinOp op = binop_of(st->u.aug_assign.op);
    switch (t->kind) {
    case AST_NAME:
        compile_name(c, t->u.name.id, NAME_LOAD);
        compile_expr(c, st->u.aug_assign.value);
        set_line(c, st);
        emit(c, OP_INPLACE_OP, op);
        compile_name(c, t->u.name.id, NAME_STORE);
        break;
    case AST_ATTRIBUTE: {
        uint32_t name = add_name(c, t->u.attribute.attr.s, t->u.attribute.attr.len);
        compile_expr(c, t->u.attribute.value);
        emit(c, OP_COPY, 1);
        emit(c, OP_LOAD_ATTR, name);
        compile_expr(c, st->u.aug_assign.value);
        set_line(c, st);
        emit(c, OP_INPLACE_OP, op);
        emit(c, OP_SWAP, 2);
        emit(c, OP_STORE_ATTR, name);
        break;
    }
    case AST_SUBSCRIPT:
        compile_expr(c, t->u.subscript.value);
        compile_subscript_index(c, t->u.subscript.index);
        emit(c, OP_COPY, 2);
        emit(c, OP_COPY, 2);
        emit(c, OP_BINARY_SUBSCR, 0);
        compile_expr(c, st->u.aug_assign.value);
        set_line(c, st);
        emit(c, OP_INPLACE_OP, op);
        emit(c, OP_SWAP, 3);
        emit(c, OP_SWAP, 2);
        emit(c, OP_STORE_SUBSCR, 0);
        break;
    default:
        syntax_error(c->cs, t->line, t->col, "'%s' is an illegal expression for augmented assignment",
                     ast_expr_name(t));
        break;
    }
}

/* ---- blocks, and leaving them early (return, break, continue) ---------- */

static FBlock *push_fblock(Compiler *c, FBlockKind kind, const AstNode *at) {
    if (c->nfblocks == MAX_FBLOCKS) {
        syntax_error(c->cs, at->line, at->col, "too many statically nested blocks");
        return NULL;
    }
    FBlock *b = &c->fblocks[c->nfblocks++];
    memset(b, 0, sizeof *b);
    b->kind = kind;
    b->range_start = -1;
    return b;
}

static void add_handler(Compiler *c, uint32_t start, uint32_t end, int label, uint32_t depth) {
    if (end <= start) return;
    if (!grow(c->cs, (void **)&c->handlers, &c->cap_handlers, c->nhandlers + 1, sizeof *c->handlers)) return;
    c->handlers[c->nhandlers++] = (PendingHandler){start, end, depth, label};
}

/* Opens the protected range of a block: exceptions raised from here jump
 * to its handler with the stack cut to `depth`. */
static void protect(Compiler *c, FBlock *b, int handler_label) {
    b->handler_label = handler_label;
    b->depth = (uint32_t)c->depth;
    b->range_start = c->ninstrs;
    c->pair_at = UINT32_MAX;
}

static void pause_protection(Compiler *c, FBlock *b) {
    if (b->range_start < 0) return;
    add_handler(c, (uint32_t)b->range_start, c->ninstrs, b->handler_label, b->depth);
    b->range_start = -1;
}

static void resume_protection(Compiler *c, FBlock *b) {
    b->range_start = c->ninstrs;
    c->pair_at = UINT32_MAX;
}

/* An except clause body has no range of its own (the section around the
 * clauses protects it): resuming one after a break in a nested handler
 * would open a range with no handler. */
static bool protects(const FBlock *b) {
    return b->kind != FB_LOOP && b->kind != FB_POP_VALUE && b->kind != FB_HANDLER;
}

/* Runs the finally body of block `index` inline while leaving it early.
 * Only the blocks around it are visible, so a return, break or continue in
 * the body leaves from there and no finally runs twice; a pending return
 * value sits in an FB_POP_VALUE block, which such a jump discards. */
static void inline_finally(Compiler *c, int index, int preserve) {
    int n = c->nfblocks;
    FBlock saved[MAX_FBLOCKS];
    memcpy(saved, &c->fblocks[index], (size_t)(n - index) * sizeof *saved);
    c->nfblocks = index;
    if (preserve) push_fblock(c, FB_POP_VALUE, NULL);
    compile_stmts(c, saved[0].finalbody);
    memcpy(&c->fblocks[index], saved, (size_t)(n - index) * sizeof *saved);
    c->nfblocks = n;
}

/* exit(None, None, None) for a with block left without an exception, its
 * result awaited for `async with`, then dropped. */
static void emit_exit_call(Compiler *c, bool is_async) {
    emit(c, OP_LOAD_NONE, 0);
    emit(c, OP_LOAD_NONE, 0);
    emit(c, OP_LOAD_NONE, 0);
    emit(c, OP_CALL, 3);
    if (is_async) emit_await(c, 2);
    emit(c, OP_POP_TOP, 0);
}

/* Emits the code that leaves block `index` early, with `preserve` values
 * (a return value) on top of the stack that must survive. */
static void unwind_block(Compiler *c, int index, int preserve) {
    FBlock *b = &c->fblocks[index];
    switch (b->kind) {
    case FB_LOOP:
        if (b->for_loop) {
            if (preserve) emit(c, OP_SWAP, 2);
            emit(c, OP_POP_TOP, 0);
        }
        break;
    case FB_TRY_EXCEPT:
    case FB_EXCEPT_STAR: break; /* never left by a jump (leaves_except_star) */
    case FB_FINALLY_TRY: inline_finally(c, index, preserve); break;
    case FB_FINALLY_END:
        /* [prev, exc] below: the exception is dropped, as Python does when
         * a finally body returns or breaks. */
        if (preserve) emit(c, OP_SWAP, 2);
        emit(c, OP_POP_TOP, 0);
        if (preserve) emit(c, OP_SWAP, 2);
        emit(c, OP_POP_EXCEPT, 0);
        break;
    case FB_HANDLER:
        if (preserve) emit(c, OP_SWAP, 2);
        emit(c, OP_POP_EXCEPT, 0);
        if (b->handler_name.s) {
            emit(c, OP_LOAD_NONE, 0);
            compile_name(c, b->handler_name, NAME_STORE);
            compile_name(c, b->handler_name, NAME_DEL);
        }
        break;
    case FB_WITH:
        if (preserve) emit(c, OP_SWAP, 2);
        emit_exit_call(c, b->is_async);
        break;
    case FB_POP_VALUE:
        if (preserve) emit(c, OP_SWAP, 2);
        emit(c, OP_POP_TOP, 0);
        break;
    }
}

/* Unwinds blocks from the innermost down to (not including) index `stop`.
 * Their protected ranges pause, so the unwinding code is covered only by
 * the blocks still around it; the caller resumes them afterwards. */
static void unwind_to(Compiler *c, int stop, int preserve) {
    for (int i = c->nfblocks - 1; i > stop; i--) {
        FBlock *b = &c->fblocks[i];
        if (protects(b)) pause_protection(c, b);
        unwind_block(c, i, preserve);
    }
}

static void resume_after_unwind(Compiler *c, int stop) {
    for (int i = c->nfblocks - 1; i > stop; i--)
        if (protects(&c->fblocks[i])) resume_protection(c, &c->fblocks[i]);
}

/* A jump out of an except* body, refused as CPython refuses it: the
 * statement must gather what every clause raised. Blocks above `stop`. */
static bool leaves_except_star(Compiler *c, const AstNode *st, int stop) {
    for (int i = c->nfblocks - 1; i > stop; i--) {
        if (c->fblocks[i].kind != FB_EXCEPT_STAR) continue;
        syntax_error(c->cs, st->line, st->col, "'break', 'continue' and 'return' cannot appear in an except* block");
        return true;
    }
    return false;
}

static void compile_return(Compiler *c, const AstNode *st) {
    if (st->u.value_stmt.value && c->scope->coroutine && c->scope->generator) {
        syntax_error(c->cs, st->line, st->col, "'return' with value in async generator");
        return;
    }
    if (leaves_except_star(c, st, -1)) return;
    int depth = c->depth;
    if (st->u.value_stmt.value) compile_expr(c, st->u.value_stmt.value);
    else emit(c, OP_LOAD_NONE, 0);
    unwind_to(c, -1, 1);
    set_line(c, st);
    emit(c, OP_RETURN_VALUE, 0);
    resume_after_unwind(c, -1);
    c->depth = depth;
}

static int innermost_loop(Compiler *c) {
    for (int i = c->nfblocks - 1; i >= 0; i--)
        if (c->fblocks[i].kind == FB_LOOP) return i;
    return -1;
}

static void compile_break_continue(Compiler *c, const AstNode *st, bool is_break) {
    int loop = innermost_loop(c);
    if (leaves_except_star(c, st, loop)) return;
    if (loop < 0) {
        syntax_error(c->cs, st->line, st->col, is_break ? "'break' outside loop" : "'continue' not properly in loop");
        return;
    }
    int depth = c->depth;
    unwind_to(c, loop, 0);
    FBlock *b = &c->fblocks[loop];
    if (is_break) {
        if (b->for_loop) emit(c, OP_POP_TOP, 0);
        emit_jump(c, OP_JUMP, b->break_label);
    } else {
        emit_jump(c, OP_JUMP_BACK, b->continue_label);
    }
    resume_after_unwind(c, loop);
    c->depth = depth;
}

/* ---- statements --------------------------------------------------------- */

static void compile_if(Compiler *c, const AstNode *st) {
    int orelse = new_label(c), end = new_label(c);
    compile_jump_if(c, st->u.cond_stmt.test, false, orelse);
    compile_stmts(c, &st->u.cond_stmt.body);
    if (st->u.cond_stmt.orelse.count) {
        emit_jump(c, OP_JUMP, end);
        bind_label(c, orelse);
        compile_stmts(c, &st->u.cond_stmt.orelse);
    } else {
        bind_label(c, orelse);
    }
    bind_label(c, end);
}

static bool is_true_constant(const AstNode *e) {
    return (e->kind == AST_CONSTANT && e->u.constant.value == AST_CONST_TRUE) ||
           (e->kind == AST_INT && !(e->u.int_lit.digits.len == 1 && e->u.int_lit.digits.s[0] == '0'));
}

static void compile_while(Compiler *c, const AstNode *st) {
    int top = new_label(c), orelse = new_label(c), end = new_label(c);
    bind_label(c, top);
    if (!is_true_constant(st->u.cond_stmt.test)) compile_jump_if(c, st->u.cond_stmt.test, false, orelse);
    FBlock *b = push_fblock(c, FB_LOOP, st);
    if (!b) return;
    b->break_label = end;
    b->continue_label = top;
    compile_stmts(c, &st->u.cond_stmt.body);
    emit_jump(c, OP_JUMP_BACK, top);
    c->nfblocks--;
    bind_label(c, orelse);
    compile_stmts(c, &st->u.cond_stmt.orelse);
    bind_label(c, end);
}

/* The head of a for loop over the iterator on the stack: pushes the next
 * item, or leaves the loop for `exhausted` with the iterator popped. An
 * `async for` awaits __anext__() under a handler that ends the loop on
 * StopAsyncIteration (END_ASYNC_FOR) and re-raises anything else. */
static void emit_for_iter(Compiler *c, bool is_async, int exhausted) {
    if (!is_async) {
        emit_jump(c, OP_FOR_ITER, exhausted);
        return;
    }
    int handler = new_label(c), body = new_label(c);
    uint32_t depth = (uint32_t)c->depth, start = c->ninstrs;
    emit(c, OP_GET_ANEXT, 0);
    emit_delegate(c);
    add_handler(c, start, c->ninstrs, handler, depth);
    int body_depth = c->depth;
    emit_jump(c, OP_JUMP, body);
    bind_label(c, handler);
    c->depth = (int)depth + 1;
    emit(c, OP_END_ASYNC_FOR, 0);
    emit_jump(c, OP_JUMP, exhausted);
    bind_label(c, body);
    c->depth = body_depth;
}

static void compile_for(Compiler *c, const AstNode *st) {
    int top = new_label(c), exhausted = new_label(c), end = new_label(c);
    bool is_async = st->u.for_stmt.is_async;
    compile_expr(c, st->u.for_stmt.iter);
    set_line(c, st);
    emit(c, is_async ? OP_GET_AITER : OP_GET_ITER, 0);
    bind_label(c, top);
    emit_for_iter(c, is_async, exhausted);
    FBlock *b = push_fblock(c, FB_LOOP, st);
    if (!b) return;
    b->break_label = end;
    b->continue_label = top;
    b->for_loop = true;
    compile_store(c, st->u.for_stmt.target);
    compile_stmts(c, &st->u.for_stmt.body);
    emit_jump(c, OP_JUMP_BACK, top);
    c->nfblocks--;
    bind_label(c, exhausted);
    adjust_depth(c, -1); /* FOR_ITER's exit pops the iterator */
    compile_stmts(c, &st->u.for_stmt.orelse);
    bind_label(c, end);
}

/* The handler's cleanup for an exception escaping an except or finally
 * body: [prev, exc2] -> restore prev as the handled exception, re-raise. */
static void emit_cleanup_handler(Compiler *c, int label, int depth_at_entry) {
    bind_label(c, label);
    c->depth = depth_at_entry + 1;
    emit(c, OP_SWAP, 2);
    emit(c, OP_POP_EXCEPT, 0);
    emit(c, OP_RERAISE, 0);
}

/* `e = None; del e` after an except clause that bound e. */
static void unbind_handler_name(Compiler *c, const AstNode *h) {
    if (!h->u.except_handler.name.s) return;
    emit(c, OP_LOAD_NONE, 0);
    compile_name(c, h->u.except_handler.name, NAME_STORE);
    compile_name(c, h->u.except_handler.name, NAME_DEL);
}

/* except clauses on [prev, exc]: the first that matches runs, and leaves
 * for `end`; none matching re-raises exc. */
static void emit_except_clauses(Compiler *c, const AstSeq *hs, int base_depth, int end) {
    for (size_t i = 0; i < hs->count; i++) {
        const AstNode *h = hs->items[i];
        set_line(c, h);
        if (!h->u.except_handler.type && i + 1 < hs->count) {
            syntax_error(c->cs, h->line, h->col, "default 'except:' must be last");
            return;
        }
        int next = new_label(c);
        if (h->u.except_handler.type) {
            compile_expr(c, h->u.except_handler.type);
            emit(c, OP_CHECK_EXC_MATCH, 0);
            emit_jump(c, OP_POP_JUMP_IF_FALSE, next);
        }
        /* [prev, exc]: bind or drop the exception, run the body. */
        if (h->u.except_handler.name.s) compile_name(c, h->u.except_handler.name, NAME_STORE);
        else emit(c, OP_POP_TOP, 0);
        FBlock *hb = push_fblock(c, FB_HANDLER, h);
        if (!hb) return;
        hb->handler_name = h->u.except_handler.name;
        compile_stmts(c, &h->u.except_handler.body);
        c->nfblocks--;
        emit(c, OP_POP_EXCEPT, 0);
        unbind_handler_name(c, h);
        emit_jump(c, OP_JUMP, end);
        bind_label(c, next);
        c->depth = base_depth + 2;
    }
    /* No clause matched: [prev, exc] re-raised through the cleanup. */
    emit(c, OP_RERAISE, 0);
}

/* Pushes whether TOS is None (`is not None` when negate), keeping TOS. */
static void emit_is_none(Compiler *c, bool negate) {
    emit(c, OP_COPY, 1);
    emit(c, OP_LOAD_NONE, 0);
    emit(c, OP_IS_OP, negate);
}

/* except* clauses on [prev, exc], CPython's scheme: the stack becomes
 * [prev, orig, raised, rest]; each clause takes its part of the rest
 * (CHECK_EG_MATCH), and what its body raises joins the list `raised`. At
 * the end the unhandled rest joins it too, and PREP_RERAISE_STAR makes
 * what the statement raises, if anything. */
static void emit_except_star_clauses(Compiler *c, const AstSeq *hs, int base_depth, int end) {
    emit(c, OP_COPY, 1);
    emit(c, OP_BUILD_LIST, 0);
    emit(c, OP_SWAP, 2);
    for (size_t i = 0; i < hs->count; i++) {
        const AstNode *h = hs->items[i];
        int no_match = new_label(c), raised = new_label(c), next = new_label(c);
        set_line(c, h);
        compile_expr(c, h->u.except_handler.type);
        emit(c, OP_CHECK_EG_MATCH, 0);
        emit_is_none(c, false);
        emit_jump(c, OP_POP_JUMP_IF_TRUE, no_match);
        if (h->u.except_handler.name.s) compile_name(c, h->u.except_handler.name, NAME_STORE);
        else emit(c, OP_POP_TOP, 0);
        FBlock *hb = push_fblock(c, FB_EXCEPT_STAR, h);
        if (!hb) return;
        protect(c, hb, raised);
        compile_stmts(c, &h->u.except_handler.body);
        pause_protection(c, &c->fblocks[c->nfblocks - 1]);
        c->nfblocks--;
        unbind_handler_name(c, h);
        emit_jump(c, OP_JUMP, next);
        /* The body raised: [prev, orig, raised, rest, exc]. */
        bind_label(c, raised);
        c->depth = base_depth + 5;
        unbind_handler_name(c, h);
        emit(c, OP_LIST_APPEND, 1);
        emit_jump(c, OP_JUMP, next);
        bind_label(c, no_match);
        c->depth = base_depth + 5;
        emit(c, OP_POP_TOP, 0);
        bind_label(c, next);
        c->depth = base_depth + 4;
    }
    int reraise = new_label(c);
    emit(c, OP_LIST_APPEND, 0);
    emit(c, OP_PREP_RERAISE_STAR, 0);
    emit_is_none(c, true);
    emit_jump(c, OP_POP_JUMP_IF_TRUE, reraise);
    emit(c, OP_POP_TOP, 0);
    emit(c, OP_POP_EXCEPT, 0);
    emit_jump(c, OP_JUMP, end);
    /* [prev, exc] re-raised through the cleanup. */
    bind_label(c, reraise);
    c->depth = base_depth + 2;
    emit(c, OP_RERAISE, 0);
}

static void compile_try_except(Compiler *c, const AstNode *st) {
    int handler = new_label(c), orelse = new_label(c), end = new_label(c), cleanup = new_label(c);
    FBlock *b = push_fblock(c, FB_TRY_EXCEPT, st);
    if (!b) return;
    protect(c, b, handler);
    int base_depth = c->depth;
    compile_stmts(c, &st->u.try_stmt.body);
    pause_protection(c, &c->fblocks[c->nfblocks - 1]);
    c->nfblocks--;
    emit_jump(c, OP_JUMP, orelse);

    /* Handler entry: [exc] -> [prev, exc], on the first except line. */
    bind_label(c, handler);
    c->depth = base_depth + 1;
    set_line(c, st->u.try_stmt.handlers.items[0]);
    emit(c, OP_PUSH_EXC_INFO, 0);
    /* The clauses are protected by the cleanup, which restores the
     * previously handled exception before anything propagates. */
    FBlock *section = push_fblock(c, FB_TRY_EXCEPT, st);
    if (!section) return;
    protect(c, section, cleanup);
    section->depth = (uint32_t)base_depth + 1;
    if (st->u.try_stmt.star) emit_except_star_clauses(c, &st->u.try_stmt.handlers, base_depth, end);
    else emit_except_clauses(c, &st->u.try_stmt.handlers, base_depth, end);
    pause_protection(c, &c->fblocks[c->nfblocks - 1]);
    c->nfblocks--;
    emit_cleanup_handler(c, cleanup, base_depth + 1);

    bind_label(c, orelse);
    c->depth = base_depth;
    compile_stmts(c, &st->u.try_stmt.orelse);
    bind_label(c, end);
    c->depth = base_depth;
}

static void compile_try_finally(Compiler *c, const AstNode *st) {
    int handler = new_label(c), end = new_label(c), cleanup = new_label(c);
    FBlock *b = push_fblock(c, FB_FINALLY_TRY, st);
    if (!b) return;
    b->finalbody = &st->u.try_stmt.finalbody;
    protect(c, b, handler);
    int base_depth = c->depth;
    if (st->u.try_stmt.handlers.count) compile_try_except(c, st);
    else compile_stmts(c, &st->u.try_stmt.body);
    pause_protection(c, &c->fblocks[c->nfblocks - 1]);
    c->nfblocks--;
    /* Normal exit: the finally body inline. */
    compile_stmts(c, &st->u.try_stmt.finalbody);
    emit_jump(c, OP_JUMP, end);

    /* Exceptional exit: [exc] -> [prev, exc], finally body, re-raise. */
    bind_label(c, handler);
    c->depth = base_depth + 1;
    set_line(c, st->u.try_stmt.finalbody.items[0]);
    emit(c, OP_PUSH_EXC_INFO, 0);
    FBlock *fb = push_fblock(c, FB_FINALLY_END, st);
    if (!fb) return;
    protect(c, fb, cleanup);
    fb->depth = (uint32_t)base_depth + 1;
    compile_stmts(c, &st->u.try_stmt.finalbody);
    pause_protection(c, &c->fblocks[c->nfblocks - 1]);
    c->nfblocks--;
    emit(c, OP_SWAP, 2);
    emit(c, OP_POP_EXCEPT, 0);
    emit(c, OP_RERAISE, 0);
    emit_cleanup_handler(c, cleanup, base_depth + 1);
    bind_label(c, end);
    c->depth = base_depth;
}

/* ---- match ---------------------------------------------------------------
 *
 * The subject stays on the stack while the cases try it in turn: each case
 * but the last matches a copy. A pattern consumes the value on top of the
 * stack; `on_top` counts the values a failure must pop (the value being
 * matched and what matching it pushed), and a failure jumps to
 * fail_pop[on_top], a chain of POP_TOPs that ends at the next case.
 * Captures are stored as soon as they match (a failed case may leave some
 * bound, which Python allows); an OR pattern's alternatives must bind the
 * same names. */

#define MAX_PATTERN_NAMES 256

typedef struct PatternCtx {
    int *fail_pop;
    uint32_t nfail_pop, cap_fail_pop;
    int on_top;
    bool allow_irrefutable;
    AstStr names[MAX_PATTERN_NAMES]; /* bound so far by this case's pattern */
    const AstNode *name_at[MAX_PATTERN_NAMES];
    int nnames;
} PatternCtx;

static int fail_label(Compiler *c, PatternCtx *pc, int n) {
    while ((int)pc->nfail_pop <= n) {
        if (!grow(c->cs, (void **)&pc->fail_pop, &pc->cap_fail_pop, pc->nfail_pop + 1, sizeof(int)))
            return 0;
        pc->fail_pop[pc->nfail_pop++] = new_label(c);
    }
    return pc->fail_pop[n];
}

/* Pops the condition; on false, fails with the values now on top. */
static void jump_if_false_fail(Compiler *c, PatternCtx *pc) {
    emit_jump(c, OP_POP_JUMP_IF_FALSE, fail_label(c, pc, pc->on_top));
}

/* The failure chain: fail_pop[n] pops n values; the stack below them is
 * `base` deep. */
static void emit_fail_pops(Compiler *c, PatternCtx *pc, int base) {
    for (int i = (int)pc->nfail_pop - 1; i > 0; i--) {
        bind_label(c, pc->fail_pop[i]);
        c->depth = base + i;
        emit(c, OP_POP_TOP, 0);
    }
    if (pc->nfail_pop > 0) bind_label(c, pc->fail_pop[0]);
    c->depth = base;
    free(pc->fail_pop);
    pc->fail_pop = NULL;
    pc->nfail_pop = pc->cap_fail_pop = 0;
}

static bool str_eq(AstStr a, AstStr b) { return a.len == b.len && memcmp(a.s, b.s, a.len) == 0; }

/* Stores the matched value on top in `name` (or drops it for `_`). */
static void pattern_store(Compiler *c, PatternCtx *pc, AstStr name, const AstNode *at) {
    pc->on_top--;
    if (!name.s) {
        emit(c, OP_POP_TOP, 0);
        return;
    }
    for (int i = 0; i < pc->nnames; i++)
        if (str_eq(pc->names[i], name)) {
            syntax_error(c->cs, at->line, at->col, "multiple assignments to name '%.*s' in pattern", (int)name.len,
                         name.s);
            return;
        }
    if (pc->nnames == MAX_PATTERN_NAMES) {
        syntax_error(c->cs, at->line, at->col, "too many names in one pattern");
        return;
    }
    pc->name_at[pc->nnames] = at;
    pc->names[pc->nnames++] = name;
    compile_name(c, name, NAME_STORE);
}

static void compile_pattern(Compiler *c, PatternCtx *pc, const AstNode *p);

/* A pattern inside another: never the whole case, so irrefutable is fine. */
static void compile_subpattern(Compiler *c, PatternCtx *pc, const AstNode *p) {
    bool saved = pc->allow_irrefutable;
    pc->allow_irrefutable = true;
    compile_pattern(c, pc, p);
    pc->allow_irrefutable = saved;
}

static bool is_wildcard(const AstNode *p) {
    return (p->kind == AST_MATCH_AS && !p->u.match_as.pattern && !p->u.match_as.name.s) ||
           (p->kind == AST_MATCH_STAR && !p->u.match_as.name.s);
}

/* Matches each of n values pushed by an unpacking, the first on top. */
static void compile_subpatterns(Compiler *c, PatternCtx *pc, const AstSeq *patterns) {
    for (size_t i = 0; i < patterns->count && !c->cs->failed; i++) {
        const AstNode *sub = patterns->items[i];
        if (sub->kind == AST_MATCH_STAR) pattern_store(c, pc, sub->u.match_as.name, sub);
        else compile_subpattern(c, pc, sub);
    }
}

static void compile_pattern_sequence(Compiler *c, PatternCtx *pc, const AstNode *p) {
    const AstSeq *items = &p->u.match_seq.patterns;
    size_t n = items->count, star = n;
    bool only_wildcards = true;
    for (size_t i = 0; i < n; i++) {
        if (items->items[i]->kind == AST_MATCH_STAR) star = i;
        if (!is_wildcard(items->items[i])) only_wildcards = false;
    }
    emit(c, OP_MATCH_SEQUENCE, 0);
    jump_if_false_fail(c, pc);
    if (star == n || n > 1) {
        emit(c, OP_GET_LEN, 0);
        emit(c, OP_LOAD_SMALL_INT, (uint32_t)(star == n ? n : n - 1));
        emit(c, OP_COMPARE_OP, star == n ? CMP_EQ : CMP_GE);
        jump_if_false_fail(c, pc);
    }
    if (only_wildcards) {
        emit(c, OP_POP_TOP, 0);
        pc->on_top--;
        return;
    }
    if (star == n) emit(c, OP_UNPACK_SEQUENCE, (uint32_t)n);
    else emit(c, OP_UNPACK_EX, (uint32_t)(star | ((n - star - 1) << 8)));
    pc->on_top += (int)n - 1;
    compile_subpatterns(c, pc, items);
}

/* Literal keys that are the same constant (str, int, None/True/False). */
static bool same_key(const AstNode *a, const AstNode *b) {
    if (a->kind != b->kind) return false;
    switch (a->kind) {
    case AST_STR: return str_eq(a->u.str.value, b->u.str.value);
    case AST_INT: return a->u.int_lit.base == b->u.int_lit.base && str_eq(a->u.int_lit.digits, b->u.int_lit.digits);
    case AST_CONSTANT: return a->u.constant.value == b->u.constant.value;
    default: return false;
    }
}

static void compile_pattern_mapping(Compiler *c, PatternCtx *pc, const AstNode *p) {
    const AstSeq *keys = &p->u.match_mapping.keys;
    size_t n = keys->count;
    AstStr rest = p->u.match_mapping.rest;
    emit(c, OP_MATCH_MAPPING, 0);
    jump_if_false_fail(c, pc);
    if (n == 0 && !rest.s) {
        emit(c, OP_POP_TOP, 0);
        pc->on_top--;
        return;
    }
    if (n > 0) {
        emit(c, OP_GET_LEN, 0);
        emit(c, OP_LOAD_SMALL_INT, (uint32_t)n);
        emit(c, OP_COMPARE_OP, CMP_GE);
        jump_if_false_fail(c, pc);
    }
    for (size_t i = 0; i < n; i++) {
        const AstNode *key = keys->items[i];
        for (size_t j = 0; j < i; j++)
            if (same_key(keys->items[j], key)) {
                if (key->kind == AST_STR)
                    syntax_error(c->cs, p->line, p->col, "mapping pattern checks duplicate key ('%.*s')",
                                 (int)key->u.str.value.len, key->u.str.value.s);
                else
                    syntax_error(c->cs, p->line, p->col, "mapping pattern checks duplicate key (%s)",
                                 key->kind == AST_INT ? key->u.int_lit.digits.s : ast_expr_name(key));
                return;
            }
        compile_expr(c, key);
    }
    emit(c, OP_BUILD_TUPLE, (uint32_t)n);
    pc->on_top++;
    if (n > 0) {
        emit(c, OP_MATCH_KEYS, 0);
        pc->on_top++;
        emit(c, OP_COPY, 1);
        emit(c, OP_LOAD_NONE, 0);
        emit(c, OP_IS_OP, 1);
        jump_if_false_fail(c, pc);
        emit(c, OP_UNPACK_SEQUENCE, (uint32_t)n);
        pc->on_top += (int)n - 1;
        compile_subpatterns(c, pc, &p->u.match_mapping.patterns);
    }
    /* [subject, keys] */
    if (rest.s) {
        emit(c, OP_COPY_DICT_WITHOUT_KEYS, 0);
        emit(c, OP_SWAP, 2);
        emit(c, OP_POP_TOP, 0);
        pc->on_top--;
        pattern_store(c, pc, rest, p);
    } else {
        emit(c, OP_POP_TOP, 0);
        emit(c, OP_POP_TOP, 0);
        pc->on_top -= 2;
    }
}

static void compile_pattern_class(Compiler *c, PatternCtx *pc, const AstNode *p) {
    const AstSeq *attrs = &p->u.match_class.kwd_attrs;
    size_t npos = p->u.match_class.patterns.count, nkw = attrs->count;
    for (size_t i = 0; i < nkw; i++)
        for (size_t j = 0; j < i; j++)
            if (str_eq(attrs->items[i]->u.name.id, attrs->items[j]->u.name.id)) {
                const AstNode *at = p->u.match_class.kwd_patterns.items[i];
                syntax_error(c->cs, at->line, at->col, "attribute name repeated in class pattern: %s",
                             attrs->items[i]->u.name.id.s);
                return;
            }
    compile_expr(c, p->u.match_class.cls);
    ObjTuple *names = tuple_new(c->cs->ts, nkw);
    if (!names) {
        out_of_memory(c->cs);
        return;
    }
    for (size_t i = 0; i < nkw; i++) names->items[i] = str_constant(c, attrs->items[i]->u.name.id);
    emit(c, OP_LOAD_CONST, add_const(c, OBJ_VAL(names)));
    set_line(c, p);
    emit(c, OP_MATCH_CLASS, (uint32_t)npos);
    emit(c, OP_COPY, 1);
    emit(c, OP_LOAD_NONE, 0);
    emit(c, OP_IS_OP, 1);
    jump_if_false_fail(c, pc);
    bool only_wildcards = true;
    for (size_t i = 0; i < npos; i++)
        if (!is_wildcard(p->u.match_class.patterns.items[i])) only_wildcards = false;
    for (size_t i = 0; i < nkw; i++)
        if (!is_wildcard(p->u.match_class.kwd_patterns.items[i])) only_wildcards = false;
    if (only_wildcards) {
        emit(c, OP_POP_TOP, 0);
        pc->on_top--;
        return;
    }
    emit(c, OP_UNPACK_SEQUENCE, (uint32_t)(npos + nkw));
    pc->on_top += (int)(npos + nkw) - 1;
    compile_subpatterns(c, pc, &p->u.match_class.patterns);
    compile_subpatterns(c, pc, &p->u.match_class.kwd_patterns);
}

/* The first capture of one alternative that the other lacks, or NULL. */
static const AstNode *name_difference(const PatternCtx *a, const PatternCtx *b, int from) {
    for (int k = 0; k < 2; k++) {
        const PatternCtx *x = k ? a : b, *y = k ? b : a;
        for (int i = from; i < x->nnames; i++) {
            bool found = false;
            for (int j = from; j < y->nnames && !found; j++) found = str_eq(x->names[i], y->names[j]);
            if (!found) return x->name_at[i];
        }
    }
    return NULL;
}

/* Each alternative matches a copy with a failure chain of its own, which
 * ends at the next alternative; the last one's failure is the pattern's. */
static void compile_pattern_or(Compiler *c, PatternCtx *pc, const AstNode *p) {
    const AstSeq *alts = &p->u.match_seq.patterns;
    int end = new_label(c);
    int base = c->depth; /* with the value being matched */
    int first = pc->nnames;
    PatternCtx *alt = calloc(2, sizeof *alt), *first_alt = alt + 1;
    if (!alt) {
        out_of_memory(c->cs);
        return;
    }
    for (size_t i = 0; i < alts->count && !c->cs->failed; i++) {
        memcpy(alt->names, pc->names, (size_t)first * sizeof *alt->names);
        memcpy(alt->name_at, pc->name_at, (size_t)first * sizeof *alt->name_at);
        alt->nnames = first;
        alt->allow_irrefutable = i + 1 == alts->count && pc->allow_irrefutable;
        alt->on_top = 1;
        c->depth = base;
        emit(c, OP_COPY, 1);
        compile_pattern(c, alt, alts->items[i]);
        const AstNode *differs = i == 0 ? NULL : name_difference(first_alt, alt, first);
        if (i == 0) *first_alt = *alt;
        if (differs)
            syntax_error(c->cs, differs->line, differs->col, "alternative patterns bind different names");
        /* Matched: drop the value; the names are bound. */
        emit(c, OP_POP_TOP, 0);
        emit_jump(c, OP_JUMP, end);
        emit_fail_pops(c, alt, base);
    }
    /* No alternative matched: the value is still on top. */
    emit_jump(c, OP_JUMP, fail_label(c, pc, pc->on_top));
    bind_label(c, end);
    c->depth = base - 1;
    pc->on_top--;
    *pc = (PatternCtx){.fail_pop = pc->fail_pop, .nfail_pop = pc->nfail_pop, .cap_fail_pop = pc->cap_fail_pop,
                       .on_top = pc->on_top, .allow_irrefutable = pc->allow_irrefutable,
                       .nnames = first_alt->nnames};
    memcpy(pc->names, first_alt->names, (size_t)first_alt->nnames * sizeof *pc->names);
    memcpy(pc->name_at, first_alt->name_at, (size_t)first_alt->nnames * sizeof *pc->name_at);
    free(alt);
}

static void compile_pattern(Compiler *c, PatternCtx *pc, const AstNode *p) {
    set_line(c, p);
    switch (p->kind) {
    case AST_MATCH_VALUE:
    case AST_MATCH_SINGLETON:
        compile_expr(c, p->u.match_value.value);
        if (p->kind == AST_MATCH_VALUE) emit(c, OP_COMPARE_OP, CMP_EQ);
        else emit(c, OP_IS_OP, 0);
        pc->on_top--;
        jump_if_false_fail(c, pc);
        break;
    case AST_MATCH_AS:
        if (!p->u.match_as.pattern) {
            if (!pc->allow_irrefutable) {
                if (p->u.match_as.name.s)
                    syntax_error(c->cs, p->line, p->col, "name capture '%s' makes remaining patterns unreachable",
                                 p->u.match_as.name.s);
                else
                    syntax_error(c->cs, p->line, p->col, "wildcard makes remaining patterns unreachable");
                return;
            }
            pattern_store(c, pc, p->u.match_as.name, p);
            break;
        }
        emit(c, OP_COPY, 1);
        pc->on_top++;
        compile_pattern(c, pc, p->u.match_as.pattern);
        pattern_store(c, pc, p->u.match_as.name, p);
        break;
    case AST_MATCH_SEQUENCE: compile_pattern_sequence(c, pc, p); break;
    case AST_MATCH_MAPPING: compile_pattern_mapping(c, pc, p); break;
    case AST_MATCH_CLASS: compile_pattern_class(c, pc, p); break;
    case AST_MATCH_OR: compile_pattern_or(c, pc, p); break;
    case AST_MATCH_STAR:
        syntax_error(c->cs, p->line, p->col, "can't use starred name here");
        break;
    default: syntax_error(c->cs, p->line, p->col, "invalid pattern"); break;
    }
}

static void compile_match(Compiler *c, const AstNode *st) {
    compile_expr(c, st->u.match.subject);
    const AstSeq *cases = &st->u.match.cases;
    int end = new_label(c);
    int base = c->depth; /* with the subject */
    size_t n = cases->count;
    /* A last `case _:` without a guard needs no matching. */
    const AstNode *last = cases->items[n - 1];
    bool has_default = is_wildcard(last->u.match_case.pattern) && !last->u.match_case.guard && n > 1;
    for (size_t i = 0; i < n - has_default && !c->cs->failed; i++) {
        const AstNode *mc = cases->items[i];
        bool last_tried = i == n - has_default - 1;
        PatternCtx *pc = calloc(1, sizeof *pc);
        if (!pc) {
            out_of_memory(c->cs);
            return;
        }
        pc->allow_irrefutable = mc->u.match_case.guard || i == n - 1;
        pc->on_top = 1;
        c->depth = base;
        if (!last_tried) emit(c, OP_COPY, 1);
        compile_pattern(c, pc, mc->u.match_case.pattern);
        if (mc->u.match_case.guard) compile_jump_if(c, mc->u.match_case.guard, false, fail_label(c, pc, 0));
        /* Matched: the subject is no longer needed. */
        if (!last_tried) emit(c, OP_POP_TOP, 0);
        compile_stmts(c, &mc->u.match_case.body);
        emit_jump(c, OP_JUMP, end);
        emit_fail_pops(c, pc, last_tried ? base - 1 : base);
        free(pc);
    }
    if (has_default) {
        c->depth = base - 1;
        set_line(c, last);
        compile_stmts(c, &last->u.match_case.body);
    }
    bind_label(c, end);
    c->depth = base - 1;
}

static void compile_with_items(Compiler *c, const AstNode *st, size_t index) {
    const AstNode *item = st->u.with.items.items[index];
    int handler = new_label(c), end = new_label(c), cleanup = new_label(c), suppress = new_label(c);
    int outer_depth = c->depth;
    bool is_async = st->u.with.is_async;
    compile_expr(c, item->u.with_item.context_expr);
    set_line(c, item);
    emit(c, OP_BEFORE_WITH, is_async);
    if (is_async) emit_await(c, 1);
    int base_depth = c->depth - 1; /* with the exit function below */
    FBlock *b = push_fblock(c, FB_WITH, st);
    if (!b) return;
    b->is_async = is_async;
    protect(c, b, handler);
    b->depth = (uint32_t)base_depth;
    if (item->u.with_item.optional_vars) compile_store(c, item->u.with_item.optional_vars);
    else emit(c, OP_POP_TOP, 0);
    if (index + 1 < st->u.with.items.count) compile_with_items(c, st, index + 1);
    else compile_stmts(c, &st->u.with.body);
    pause_protection(c, &c->fblocks[c->nfblocks - 1]);
    c->nfblocks--;
    /* Normal exit: exit(None, None, None). */
    set_line(c, st);
    emit_exit_call(c, is_async);
    emit_jump(c, OP_JUMP, end);

    /* Exception: [exit, exc] -> [exit, prev, exc]; exit(type, exc, tb). */
    bind_label(c, handler);
    c->depth = base_depth + 1;
    emit(c, OP_PUSH_EXC_INFO, 0);
    uint32_t start = c->ninstrs;
    emit(c, OP_WITH_EXCEPT, 0);
    c->in_with_handler++;
    if (is_async) emit_await(c, 2);
    c->in_with_handler--;
    emit_jump(c, OP_POP_JUMP_IF_TRUE, suppress);
    emit(c, OP_RERAISE, 0);
    add_handler(c, start, c->ninstrs, cleanup, (uint32_t)base_depth + 1);
    bind_label(c, suppress);
    c->depth = base_depth + 2;
    emit(c, OP_POP_TOP, 0);
    emit(c, OP_POP_EXCEPT, 0);
    emit(c, OP_POP_TOP, 0);
    emit_jump(c, OP_JUMP, end);
    emit_cleanup_handler(c, cleanup, base_depth + 1);
    bind_label(c, end);
    c->depth = outer_depth;
}

static void compile_import(Compiler *c, const AstNode *st) {
    for (size_t i = 0; i < st->u.import.names.count; i++) {
        const AstNode *a = st->u.import.names.items[i];
        AstStr name = a->u.alias.name;
        emit(c, OP_LOAD_SMALL_INT, 0);
        if (a->u.alias.asname.s && memchr(name.s, '.', name.len)) {
            /* `import a.b as c` binds the leaf: ask for it with a fromlist. */
            ObjTuple *from = tuple_new(c->cs->ts, 1);
            if (!from) {
                out_of_memory(c->cs);
                return;
            }
            from->items[0] = str_constant(c, (AstStr){"*", 1});
            emit(c, OP_LOAD_CONST, add_const(c, OBJ_VAL(from)));
        } else {
            emit(c, OP_LOAD_NONE, 0);
        }
        emit(c, OP_IMPORT_NAME, add_name(c, name.s, name.len));
        if (a->u.alias.asname.s) {
            compile_name(c, a->u.alias.asname, NAME_STORE);
        } else {
            const char *dot = memchr(name.s, '.', name.len);
            AstStr top = {name.s, dot ? (size_t)(dot - name.s) : name.len};
            compile_name(c, top, NAME_STORE);
        }
    }
}

static void compile_import_from(Compiler *c, const AstNode *st) {
    const AstSeq *names = &st->u.import_from.names;
    emit(c, OP_LOAD_SMALL_INT, (uint32_t)st->u.import_from.level);
    ObjTuple *from = tuple_new(c->cs->ts, names->count);
    if (!from) {
        out_of_memory(c->cs);
        return;
    }
    for (size_t i = 0; i < names->count; i++) from->items[i] = str_constant(c, names->items[i]->u.alias.name);
    emit(c, OP_LOAD_CONST, add_const(c, OBJ_VAL(from)));
    AstStr module = st->u.import_from.module;
    if (!module.s) module = (AstStr){"", 0};
    emit(c, OP_IMPORT_NAME, add_name(c, module.s, module.len));
    for (size_t i = 0; i < names->count; i++) {
        const AstNode *a = names->items[i];
        if (a->u.alias.name.len == 1 && a->u.alias.name.s[0] == '*') {
            emit(c, OP_IMPORT_STAR, 0);
            return;
        }
        emit(c, OP_IMPORT_FROM, add_name(c, a->u.alias.name.s, a->u.alias.name.len));
        compile_name(c, a->u.alias.asname.s ? a->u.alias.asname : a->u.alias.name, NAME_STORE);
    }
    emit(c, OP_POP_TOP, 0);
}

/* A module or class body records a bare name's annotation in
 * __annotations__ and evaluates any other target's (unless annotations are
 * kept as text); a function body evaluates none, as CPython. Without a
 * value, an attribute or subscript target's object (and index) is still
 * evaluated. */
static void compile_ann_assign(Compiler *c, const AstNode *st) {
    const AstNode *t = st->u.ann_assign.target;
    if (st->u.ann_assign.value) {
        compile_expr(c, st->u.ann_assign.value);
        compile_store(c, t);
    } else if (t->kind == AST_ATTRIBUTE || t->kind == AST_SUBSCRIPT) {
        compile_expr(c, t->kind == AST_ATTRIBUTE ? t->u.attribute.value : t->u.subscript.value);
        emit(c, OP_POP_TOP, 0);
        if (t->kind == AST_SUBSCRIPT) {
            compile_subscript_index(c, t->u.subscript.index);
            emit(c, OP_POP_TOP, 0);
        }
    }
    if (c->scope->kind == SCOPE_FUNCTION) return;
    if (!st->u.ann_assign.simple) {
        if (!c->cs->future_annotations) {
            compile_expr(c, st->u.ann_assign.annotation);
            emit(c, OP_POP_TOP, 0);
        }
        return;
    }
    compile_annotation(c, st->u.ann_assign.annotation);
    emit(c, OP_LOAD_NAME, add_name(c, "__annotations__", 15));
    emit_const(c, str_constant(c, mangled(c, t->u.name.id)));
    emit(c, OP_STORE_SUBSCR, 0);
}

/* Whether BODY annotates a name outside nested functions and classes, so
 * that its module or class needs __annotations__ (CPython's find_ann). */
static bool has_annotations(const AstSeq *body) {
    for (size_t i = 0; i < body->count; i++) {
        const AstNode *st = body->items[i];
        bool found = false;
        switch (st->kind) {
        case AST_ANN_ASSIGN: found = true; break;
        case AST_IF:
        case AST_WHILE:
            found = has_annotations(&st->u.cond_stmt.body) || has_annotations(&st->u.cond_stmt.orelse);
            break;
        case AST_FOR:
            found = has_annotations(&st->u.for_stmt.body) || has_annotations(&st->u.for_stmt.orelse);
            break;
        case AST_WITH: found = has_annotations(&st->u.with.body); break;
        case AST_TRY:
            found = has_annotations(&st->u.try_stmt.body) || has_annotations(&st->u.try_stmt.orelse) ||
                    has_annotations(&st->u.try_stmt.finalbody);
            for (size_t h = 0; !found && h < st->u.try_stmt.handlers.count; h++)
                found = has_annotations(&st->u.try_stmt.handlers.items[h]->u.except_handler.body);
            break;
        case AST_MATCH:
            for (size_t m = 0; !found && m < st->u.match.cases.count; m++)
                found = has_annotations(&st->u.match.cases.items[m]->u.match_case.body);
            break;
        default: break;
        }
        if (found) return true;
    }
    return false;
}

static void compile_decorated_def(Compiler *c, const AstNode *st) {
    bool is_class = st->kind == AST_CLASS_DEF;
    const AstSeq *decorators = is_class ? &st->u.class_def.decorators : &st->u.function_def.decorators;
    for (size_t i = 0; i < decorators->count; i++) compile_expr(c, decorators->items[i]);
    set_line(c, st);
    Scope *s = scope_of(c->cs, st);
    if (is_class) {
        AstStr name = st->u.class_def.name;
        ObjCode *code = compile_scope(c->cs, c, s, NULL, &st->u.class_def.body, NULL, name.s, name.len, st->line);
        if (!code) return;
        emit(c, OP_LOAD_BUILD_CLASS, 0);
        make_function(c, code, NULL, NULL, s);
        emit_const(c, str_constant(c, name));
        const AstSeq *bases = &st->u.class_def.bases, *kws = &st->u.class_def.keywords;
        if (has_starred(bases) || kws->count) {
            /* __build_class__(func, name, *bases, **kw) */
            emit(c, OP_BUILD_LIST, 2);
            for (size_t i = 0; i < bases->count; i++) {
                const AstNode *b = bases->items[i];
                if (b->kind == AST_STARRED) {
                    compile_expr(c, b->u.starred.value);
                    emit(c, OP_LIST_EXTEND, 0);
                } else {
                    compile_expr(c, b);
                    emit(c, OP_LIST_APPEND, 0);
                }
            }
            if (kws->count) compile_keywords_map(c, kws, false);
            emit(c, OP_CALL_EX, kws->count ? 1 : 0);
        } else {
            for (size_t i = 0; i < bases->count; i++) compile_expr(c, bases->items[i]);
            emit(c, OP_CALL, (uint32_t)bases->count + 2);
        }
    } else {
        AstStr name = st->u.function_def.name;
        ObjCode *code = compile_scope(c->cs, c, s, st->u.function_def.args, &st->u.function_def.body,
                                      NULL, name.s, name.len, st->line);
        if (!code) return;
        make_function(c, code, st->u.function_def.args, st->u.function_def.returns, s);
    }
    for (size_t i = 0; i < decorators->count; i++) emit(c, OP_CALL, 1);
    compile_name(c, is_class ? st->u.class_def.name : st->u.function_def.name, NAME_STORE);
}

static bool is_docstring(const AstNode *st) {
    return st->kind == AST_EXPR && st->u.value_stmt.value->kind == AST_STR;
}

static void compile_stmt(Compiler *c, const AstNode *st) {
    if (c->cs->failed) return;
    set_line(c, st);
    switch (st->kind) {
    case AST_FUNCTION_DEF:
    case AST_CLASS_DEF: compile_decorated_def(c, st); break;
    case AST_RETURN: compile_return(c, st); break;
    case AST_DELETE:
        for (size_t i = 0; i < st->u.delete_stmt.targets.count; i++) compile_delete(c, st->u.delete_stmt.targets.items[i]);
        break;
    case AST_ASSIGN: {
        compile_expr(c, st->u.assign.value);
        size_t n = st->u.assign.targets.count;
        for (size_t i = 0; i < n; i++) {
            if (i + 1 < n) emit(c, OP_COPY, 1);
            compile_store(c, st->u.assign.targets.items[i]);
        }
        break;
    }
    case AST_AUG_ASSIGN: compile_aug_assign(c, st); break;
    case AST_ANN_ASSIGN: compile_ann_assign(c, st); break;
    case AST_EXPR: {
        const AstNode *v = st->u.value_stmt.value;
        if (c->cs->mode == COMPILE_INTERACTIVE && c->scope->kind == SCOPE_MODULE) {
            compile_expr(c, v);
            emit(c, OP_PRINT_EXPR, 0);
            break;
        }
        /* A bare constant (a docstring, `...`) does nothing. */
        if (v->kind == AST_STR || v->kind == AST_CONSTANT || v->kind == AST_INT || v->kind == AST_FLOAT) break;
        compile_expr(c, v);
        emit(c, OP_POP_TOP, 0);
        break;
    }
    case AST_IF: compile_if(c, st); break;
    case AST_WHILE: compile_while(c, st); break;
    case AST_FOR: compile_for(c, st); break;
    case AST_BREAK: compile_break_continue(c, st, true); break;
    case AST_CONTINUE: compile_break_continue(c, st, false); break;
    case AST_PASS:
    case AST_GLOBAL:
    case AST_NONLOCAL: break;
    case AST_IMPORT: compile_import(c, st); break;
    case AST_IMPORT_FROM: compile_import_from(c, st); break;
    case AST_RAISE:
        if (st->u.raise.exc) {
            compile_expr(c, st->u.raise.exc);
            if (st->u.raise.cause) {
                compile_expr(c, st->u.raise.cause);
                emit(c, OP_RAISE, 2);
            } else {
                emit(c, OP_RAISE, 1);
            }
        } else {
            emit(c, OP_RAISE, 0);
        }
        break;
    case AST_TRY:
        /* The `try:` line itself, for tracers' line events (as CPython). */
        emit(c, OP_NOP, 0);
        if (st->u.try_stmt.finalbody.count) compile_try_finally(c, st);
        else compile_try_except(c, st);
        break;
    case AST_WITH: compile_with_items(c, st, 0); break;
    case AST_MATCH: compile_match(c, st); break;
    case AST_ASSERT: {
        int end = new_label(c);
        compile_jump_if(c, st->u.assert_stmt.test, true, end);
        emit(c, OP_LOAD_ASSERTION_ERROR, 0);
        if (st->u.assert_stmt.msg) {
            compile_expr(c, st->u.assert_stmt.msg);
            emit(c, OP_CALL, 1);
        }
        emit(c, OP_RAISE, 1);
        bind_label(c, end);
        break;
    }
    default:
        syntax_error(c->cs, st->line, st->col, "invalid syntax");
        break;
    }
}

static void compile_stmts(Compiler *c, const AstSeq *body) {
    for (size_t i = 0; i < body->count && !c->cs->failed; i++) compile_stmt(c, body->items[i]);
}

/* ---- code objects ------------------------------------------------------- */

static void compiler_free(Compiler *c) {
    free(c->instrs);
    free(c->lines);
    free(c->consts);
    free(c->names);
    free(c->varnames);
    index_free(&c->const_index);
    index_free(&c->name_index);
    index_free(&c->varname_index);
    free(c->labels);
    free(c->fixups);
    free(c->handlers);
}

/* Frees the rest once the code object has taken the instructions, lines,
 * constants and names. */
static void compiler_free_moved(Compiler *c) {
    c->instrs = NULL;
    c->lines = NULL;
    c->consts = NULL;
    c->names = NULL;
    c->varnames = NULL;
    compiler_free(c);
}

static void add_params(Compiler *c, const AstNode *args, ObjCode *code) {
    if (!args) return;
    const AstSeq *pos[] = {&args->u.arguments.posonlyargs, &args->u.arguments.args};
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < pos[l]->count; i++) {
            AstStr n = pos[l]->items[i]->u.arg.name;
            add_varname(c, n.s, n.len);
        }
    code->posonlycount = (uint32_t)args->u.arguments.posonlyargs.count;
    code->argcount = (uint32_t)(args->u.arguments.posonlyargs.count + args->u.arguments.args.count);
    for (size_t i = 0; i < args->u.arguments.kwonlyargs.count; i++) {
        AstStr n = args->u.arguments.kwonlyargs.items[i]->u.arg.name;
        add_varname(c, n.s, n.len);
    }
    code->kwonlycount = (uint32_t)args->u.arguments.kwonlyargs.count;
    if (args->u.arguments.vararg) {
        AstStr n = args->u.arguments.vararg->u.arg.name;
        add_varname(c, n.s, n.len);
        code->flags |= CODE_VARARGS;
    }
    if (args->u.arguments.kwarg) {
        AstStr n = args->u.arguments.kwarg->u.arg.name;
        add_varname(c, n.s, n.len);
        code->flags |= CODE_VARKW;
    }
}

/* The body of a comprehension: loops nest, the innermost adds the element
 * (or yields it). The result container sits below the iterators. */
static void compile_comprehension_body(Compiler *c, const AstNode *e, size_t gen_index, int depth_of_result) {
    const AstNode *g = e->u.comp.generators.items[gen_index];
    int top = new_label(c), exhausted = new_label(c);
    if (gen_index == 0) {
        emit(c, OP_LOAD_FAST, 0); /* .0: the first iterator, made by the caller */
    } else {
        compile_expr(c, g->u.comprehension.iter);
        emit(c, g->u.comprehension.is_async ? OP_GET_AITER : OP_GET_ITER, 0);
    }
    bind_label(c, top);
    emit_for_iter(c, g->u.comprehension.is_async, exhausted);
    compile_store(c, g->u.comprehension.target);
    for (size_t i = 0; i < g->u.comprehension.ifs.count; i++)
        compile_jump_if(c, g->u.comprehension.ifs.items[i], false, top);
    if (gen_index + 1 < e->u.comp.generators.count) {
        compile_comprehension_body(c, e, gen_index + 1, depth_of_result + 1);
    } else {
        uint32_t below = (uint32_t)(gen_index + 1); /* iterators above the result */
        switch (e->kind) {
        case AST_LIST_COMP:
            compile_expr(c, e->u.comp.elt);
            emit(c, OP_LIST_APPEND, below);
            break;
        case AST_SET_COMP:
            compile_expr(c, e->u.comp.elt);
            emit(c, OP_SET_ADD, below);
            break;
        case AST_DICT_COMP:
            compile_expr(c, e->u.comp.elt);
            compile_expr(c, e->u.comp.value);
            emit(c, OP_MAP_ADD, below);
            break;
        default:
            compile_expr(c, e->u.comp.elt);
            emit(c, OP_YIELD_VALUE, 0);
            emit(c, OP_POP_TOP, 0);
            break;
        }
    }
    emit_jump(c, OP_JUMP_BACK, top);
    bind_label(c, exhausted);
    adjust_depth(c, -1); /* FOR_ITER's exit pops the iterator */
}

static ObjStr *make_qualname(Compiler *parent, Scope *scope, const char *name, size_t len) {
    TState *ts = parent ? parent->cs->ts : NULL;
    if (!parent || parent->scope->kind == SCOPE_MODULE) return str_intern(ts, name, len);
    const char *sep = parent->scope->kind == SCOPE_CLASS ? "." : ".<locals>.";
    (void)scope;
    return str_printf(ts, "%s%s%.*s", parent->qualname->data, sep, (int)len, name);
}

static ObjCode *compile_scope(CompileState *cs, Compiler *parent, Scope *scope, const AstNode *args,
                              const AstSeq *body, const AstNode *expr_body, const char *name,
                              size_t name_len, int first_line) {
    if (!scope) {
        syntax_error(cs, first_line, 1, "internal compiler error: missing scope");
        return NULL;
    }
    TState *ts = cs->ts;
    Compiler c = {0};
    c.cs = cs;
    c.scope = scope;
    c.parent = parent;
    c.line = first_line;
    ObjCode *code = code_new(ts);
    if (!code) {
        out_of_memory(cs);
        return NULL;
    }
    c.qualname = scope->kind == SCOPE_MODULE ? str_intern_cstr(ts, "<module>")
                                              : make_qualname(parent, scope, name, name_len);
    /* Locals: parameters first, then every other local of the scope, then
     * free variables (the closure), last. */
    if (scope->kind == SCOPE_COMPREHENSION) {
        add_varname(&c, ".0", 2);
        code->argcount = 1;
    } else {
        add_params(&c, args, code);
    }
    if (scope->kind == SCOPE_FUNCTION || scope->kind == SCOPE_COMPREHENSION) {
        for (size_t i = 0; i < scope->nsyms; i++) {
            Symbol *sym = &scope->syms[i];
            if (binds_locally(sym) || (sym->flags & SYM_CELL)) add_varname(&c, sym->name, sym->len);
        }
    } else if (scope->class_cell) {
        add_varname(&c, "__class__", 9);
    }
    uint32_t first_free = c.nvarnames;
    for (size_t i = 0; i < scope->nsyms; i++) {
        Symbol *sym = &scope->syms[i];
        if (((sym->flags & SYM_FREE) && !binds_locally(sym)) || (sym->flags & SYM_PASS))
            add_varname(&c, sym->name, sym->len);
    }
    uint32_t nfree = c.nvarnames - first_free;
    if (scope->generator || scope->coroutine) code->flags |= CODE_GENERATOR;
    if (scope->coroutine) code->flags |= scope->generator ? CODE_ASYNC_GENERATOR : CODE_COROUTINE;
    if (scope->kind == SCOPE_CLASS) code->flags |= CODE_CLASS_BODY;

    if (scope->kind == SCOPE_COMPREHENSION) {
        const AstNode *e = expr_body;
        if (e->kind == AST_LIST_COMP) emit(&c, OP_BUILD_LIST, 0);
        else if (e->kind == AST_SET_COMP) emit(&c, OP_BUILD_SET, 0);
        else if (e->kind == AST_DICT_COMP) emit(&c, OP_BUILD_MAP, 0);
        compile_comprehension_body(&c, e, 0, 0);
        if (e->kind == AST_GENERATOR_EXP) emit(&c, OP_LOAD_NONE, 0);
        emit(&c, OP_RETURN_VALUE, 0);
    } else if (expr_body) {
        compile_expr(&c, expr_body);
        emit(&c, OP_RETURN_VALUE, 0);
    } else {
        if (scope->kind == SCOPE_FUNCTION && body->count && is_docstring(body->items[0])) {
            /* Kept as the first constant, as CPython's co_consts[0]. */
            add_const(&c, str_constant(&c, body->items[0]->u.value_stmt.value->u.str.value));
            code->flags |= CODE_HAS_DOC;
        } else if (body->count && is_docstring(body->items[0]) &&
                   (scope->kind == SCOPE_CLASS || cs->mode != COMPILE_INTERACTIVE)) {
            /* A module's or class's docstring is its __doc__. */
            set_line(&c, body->items[0]);
            emit(&c, OP_LOAD_CONST, add_const(&c, str_constant(&c, body->items[0]->u.value_stmt.value->u.str.value)));
            compile_name(&c, (AstStr){"__doc__", 7}, NAME_STORE);
        }
        if (scope->kind != SCOPE_FUNCTION && has_annotations(body)) emit(&c, OP_SETUP_ANNOTATIONS, 0);
        compile_stmts(&c, body);
        if (scope->class_cell) {
            /* The class creation fills the cell (type.__new__ takes it from
             * the namespace). */
            emit(&c, OP_LOAD_CLOSURE, (uint32_t)find_varname(&c, "__class__", 9));
            emit(&c, OP_STORE_NAME, add_name(&c, "__classcell__", 13));
        }
        emit(&c, OP_LOAD_NONE, 0);
        emit(&c, OP_RETURN_VALUE, 0);
    }
    if (!cs->failed && c.depth != 0)
        syntax_error(cs, c.line, 1, "internal compiler error: stack depth %d at the end of %s", c.depth,
                     c.qualname ? c.qualname->data : "?");
    if (cs->failed || !resolve_jumps(&c)) {
        compiler_free(&c);
        return NULL;
    }
    code->instrs = c.instrs;
    code->lines = c.lines;
    code->ninstrs = c.ninstrs;
    code->consts = c.consts;
    code->nconsts = c.nconsts;
    code->names = c.names;
    code->nnames = c.nnames;
    code->varnames = c.varnames;
    code->nlocals = c.nvarnames;
    code->nfree = nfree;
    code->stack_size = (uint32_t)c.max_depth + 2;
    code->first_line = first_line;
    code->name = str_intern(ts, name, name_len);
    code->qualname = c.qualname;
    code->filename = str_from_cstr(ts, cs->filename ? cs->filename : "<string>");
    code->ncaches = c.ncaches;
    code->caches = calloc(c.ncaches ? c.ncaches : 1, sizeof *code->caches);
    code->handlers = malloc((c.nhandlers ? c.nhandlers : 1) * sizeof *code->handlers);
    uint32_t ncells = 0;
    for (uint32_t i = 0; i < first_free; i++) {
        Symbol *sym = scope_get(scope, c.varnames[i]->data, c.varnames[i]->len);
        if (sym && (sym->flags & SYM_CELL)) ncells++;
    }
    code->cell_locals = malloc((ncells ? ncells : 1) * sizeof *code->cell_locals);
    if (!code->caches || !code->handlers || !code->cell_locals || !code->name || !code->filename) {
        compiler_free_moved(&c);
        out_of_memory(cs);
        return NULL;
    }
    for (uint32_t i = 0; i < first_free; i++) {
        Symbol *sym = scope_get(scope, c.varnames[i]->data, c.varnames[i]->len);
        if (sym && (sym->flags & SYM_CELL)) code->cell_locals[code->ncells++] = i;
    }
    for (uint32_t i = 0; i < c.nhandlers; i++) {
        PendingHandler *h = &c.handlers[i];
        code->handlers[i] = (ExcHandler){h->start, h->end, (uint32_t)c.labels[h->label], h->depth};
    }
    code->nhandlers = c.nhandlers;
    if (nfree) code->flags |= CODE_NESTED;
    if (!(code->flags & (CODE_GENERATOR | CODE_VARARGS | CODE_VARKW | CODE_NESTED)) &&
        code->kwonlycount == 0 && code->ncells == 0)
        code->flags |= CODE_SIMPLE;
    compiler_free_moved(&c);
    return code;
}

/* `from __future__ import ...` at the top of a module: the features
 * CPython 3.11 knows (all but annotations are always on), with its errors
 * for an unknown one and for one after other statements. */
static void check_future_imports(CompileState *cs, const AstSeq *body) {
    static const char *const features[] = {
        "nested_scopes", "generators", "division", "absolute_import", "with_statement",
        "print_function", "unicode_literals", "barry_as_FLUFL", "generator_stop", "annotations",
    };
    bool at_top = true;
    for (size_t i = 0; i < body->count && !cs->failed; i++) {
        const AstNode *st = body->items[i];
        if (i == 0 && is_docstring(st)) continue;
        bool future = st->kind == AST_IMPORT_FROM && st->u.import_from.level == 0 && st->u.import_from.module.s &&
                      strcmp(st->u.import_from.module.s, "__future__") == 0;
        if (!future) {
            at_top = false;
            continue;
        }
        if (!at_top) {
            syntax_error(cs, st->line, st->col, "from __future__ imports must occur at the beginning of the file");
            return;
        }
        const AstSeq *names = &st->u.import_from.names;
        for (size_t n = 0; n < names->count; n++) {
            const char *name = names->items[n]->u.alias.name.s;
            size_t f = 0;
            while (f < sizeof features / sizeof features[0] && strcmp(features[f], name) != 0) f++;
            if (strcmp(name, "braces") == 0) {
                syntax_error(cs, st->line, st->col, "not a chance");
                return;
            }
            if (f == sizeof features / sizeof features[0]) {
                syntax_error(cs, st->line, st->col, "future feature %s is not defined", name);
                return;
            }
            if (strcmp(name, "annotations") == 0) cs->future_annotations = true;
        }
    }
}

ObjCode *compile_module(TState *ts, const AstNode *module, const char *filename, CompileMode mode,
                        SyntaxErrorInfo *err) {
    CompileState cs = {.ts = ts, .filename = filename, .err = err, .mode = mode};
    err->msg[0] = '\0';
    bool is_expr = mode == COMPILE_EVAL;
    /* Scopes are found by their node: an expression's top scope gets a node
     * of its own, the expression may be a lambda or a comprehension. */
    AstNode top_node = {.kind = AST_MODULE, .line = module->line, .col = module->col};
    Scope *top = scope_new(&cs, SCOPE_MODULE, is_expr ? &top_node : module, NULL, "<module>", 8);
    if (!is_expr) check_future_imports(&cs, &module->u.module.body);
    if (top && is_expr) collect_expr(&cs, top, module);
    else if (top) collect_stmts(&cs, top, &module->u.module.body);
    if (!cs.failed) resolve_all(&cs);
    ObjCode *code = NULL;
    if (!cs.failed)
        code = compile_scope(&cs, NULL, top, NULL, is_expr ? NULL : &module->u.module.body, is_expr ? module : NULL,
                             "<module>", 8, 1);
    free_scopes(&cs);
    return cs.failed ? NULL : code;
}
