#include "vm/code.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/opcodes.h"

const char *const opcode_names[OP_COUNT] = {
#define OP(name, words, effect, doc) #name,
#include "vm/opcodes.def"
#undef OP
};

const uint8_t opcode_words[OP_COUNT] = {
#define OP(name, words, effect, doc) words,
#include "vm/opcodes.def"
#undef OP
};

static const int8_t fixed_effects[OP_COUNT] = {
#define OP(name, words, effect, doc) effect,
#include "vm/opcodes.def"
#undef OP
};

int opcode_stack_effect(Opcode op, uint32_t arg, int jump) {
    int a = (int)arg;
    switch (op) {
    case OP_BUILD_SLICE: return 1 - a;
    case OP_JUMP_IF_FALSE_OR_POP:
    case OP_JUMP_IF_TRUE_OR_POP: return jump ? 0 : -1;
    case OP_FOR_ITER: return jump ? -1 : 1;
    case OP_BUILD_TUPLE:
    case OP_BUILD_LIST:
    case OP_BUILD_SET:
    case OP_BUILD_STRING: return 1 - a;
    case OP_BUILD_MAP: return 1 - 2 * a;
    case OP_FORMAT_VALUE: return (a & 4) ? -1 : 0;
    case OP_UNPACK_SEQUENCE: return a - 1;
    case OP_UNPACK_EX: return (a & 0xff) + (a >> 8);
    case OP_CALL: return -a;
    case OP_CALL_KW: return -a - 1;
    case OP_CALL_METHOD: return -a - 1;
    case OP_CALL_METHOD_KW: return -a - 2;
    case OP_CALL_EX: return -1 - (int)(a & 1) - (int)((a >> 1) & 1) - (int)(a >> 2);
    case OP_MAKE_FUNCTION: return 1 - ((a & 1) != 0) - ((a & 2) != 0) - ((a & 4) != 0) - ((a & 8) != 0);
    case OP_RAISE: return -a;
    default: return fixed_effects[op];
    }
}

ObjCode *code_new(TState *ts) {
    ObjCode *c = (ObjCode *)gc_alloc(ts, sizeof(ObjCode), OBJ_CODE, ts->interp->types.code);
    if (!c) return NULL;
    memset((char *)c + sizeof(Obj), 0, sizeof(ObjCode) - sizeof(Obj));
    return c;
}

static void code_trace(GcMarker *m, Obj *self) {
    ObjCode *c = (ObjCode *)self;
    gc_mark_values(m, c->consts, c->nconsts);
    for (uint32_t i = 0; i < c->nnames; i++) gc_mark_obj(m, (Obj *)c->names[i]);
    for (uint32_t i = 0; i < c->nlocals; i++) gc_mark_obj(m, (Obj *)c->varnames[i]);
    gc_mark_obj(m, (Obj *)c->name);
    gc_mark_obj(m, (Obj *)c->qualname);
    gc_mark_obj(m, (Obj *)c->filename);
}

static void code_finalize(Obj *self) {
    ObjCode *c = (ObjCode *)self;
    free(c->instrs);
    free(c->lines);
    free(c->caches);
    free(c->consts);
    free(c->names);
    free(c->varnames);
    free(c->cell_locals);
    free(c->handlers);
}

static Value code_repr(TState *ts, Value self) {
    ObjCode *c = AS_CODE(self);
    return OBJ_VAL(str_printf(ts, "<code object %s at %p, file \"%s\", line %d>", c->name->data,
                              (void *)c, c->filename->data, c->first_line));
}

static Value code_get_name(TState *ts, Value self) { (void)ts; return OBJ_VAL(AS_CODE(self)->name); }
static Value code_get_qualname(TState *ts, Value self) { (void)ts; return OBJ_VAL(AS_CODE(self)->qualname); }
static Value code_get_nlocals(TState *ts, Value self) { (void)ts; return INT_VAL(AS_CODE(self)->nlocals); }
static Value code_get_filename(TState *ts, Value self) { (void)ts; return OBJ_VAL(AS_CODE(self)->filename); }
static Value code_get_firstlineno(TState *ts, Value self) { (void)ts; return INT_VAL(AS_CODE(self)->first_line); }
static Value code_get_argcount(TState *ts, Value self) { (void)ts; return INT_VAL(AS_CODE(self)->argcount); }
static Value code_get_posonlyargcount(TState *ts, Value self) { (void)ts; return INT_VAL(AS_CODE(self)->posonlycount); }
static Value code_get_kwonlyargcount(TState *ts, Value self) { (void)ts; return INT_VAL(AS_CODE(self)->kwonlycount); }

/* The parameters and the other locals, as CPython's co_varnames (cell and
 * free variables are listed there too here). */
static Value code_get_varnames(TState *ts, Value self) {
    ObjCode *c = AS_CODE(self);
    ObjTuple *t = tuple_new(ts, c->nlocals);
    if (!t) return ERROR_VAL;
    for (uint32_t i = 0; i < c->nlocals; i++) t->items[i] = OBJ_VAL(c->varnames[i]);
    return OBJ_VAL(t);
}

/* co_flags with CPython's bit values (inspect reads them). */
static Value code_get_flags(TState *ts, Value self) {
    (void)ts;
    uint32_t f = AS_CODE(self)->flags, out = 0;
    if (f & CODE_VARARGS) out |= 0x04;
    if (f & CODE_VARKW) out |= 0x08;
    if (f & CODE_NESTED) out |= 0x10;
    if (f & CODE_COROUTINE) out |= 0x80;
    else if (f & CODE_ASYNC_GENERATOR) out |= 0x200;
    else if (f & CODE_GENERATOR) out |= 0x20;
    return INT_VAL(out);
}

static const GetSetDef code_getsets[] = {
    {"co_name", code_get_name, NULL},
    {"co_qualname", code_get_qualname, NULL},
    {"co_nlocals", code_get_nlocals, NULL},
    {"co_filename", code_get_filename, NULL},
    {"co_firstlineno", code_get_firstlineno, NULL},
    {"co_argcount", code_get_argcount, NULL},
    {"co_posonlyargcount", code_get_posonlyargcount, NULL},
    {"co_kwonlyargcount", code_get_kwonlyargcount, NULL},
    {"co_varnames", code_get_varnames, NULL},
    {"co_flags", code_get_flags, NULL},
    {NULL, NULL, NULL},
};

const TypeSpec code_type_spec = {
    .name = "code",
    .kind = OBJ_CODE,
    .repr = code_repr,
    .getsets = code_getsets,
    .trace = code_trace,
    .finalize = code_finalize,
};

static void print_const(Value v, FILE *out) {
    if (IS_INT(v)) fprintf(out, "%lld", (long long)AS_INT(v));
    else if (IS_FLOAT(v)) fprintf(out, "%g", AS_FLOAT(v));
    else if (IS_NONE(v)) fputs("None", out);
    else if (IS_BOOL(v)) fputs(AS_BOOL(v) ? "True" : "False", out);
    else if (IS_STR(v)) fprintf(out, "'%s'", AS_STR(v)->data);
    else if (IS_CODE(v)) fprintf(out, "<code %s>", AS_CODE(v)->name->data);
    else fputs("<const>", out);
}

void code_disassemble(ObjCode *code, FILE *out) {
    fprintf(out, "Disassembly of %s (%s:%d): %u locals, stack %u\n", code->qualname->data,
            code->filename->data, code->first_line, code->nlocals, code->stack_size);
    for (uint32_t pc = 0; pc < code->ninstrs;) {
        uint32_t ins = code->instrs[pc];
        Opcode op = INSTR_OP(ins);
        uint32_t arg = INSTR_ARG(ins);
        fprintf(out, "%5u %6u  %-22s %u", code->lines[pc], pc, opcode_names[op], arg);
        switch (op) {
        case OP_LOAD_CONST: fputs("  (", out); print_const(code->consts[arg], out); fputs(")", out); break;
        case OP_LOAD_GLOBAL: case OP_STORE_GLOBAL: case OP_DELETE_GLOBAL: case OP_LOAD_NAME:
        case OP_STORE_NAME: case OP_DELETE_NAME: case OP_LOAD_ATTR: case OP_STORE_ATTR:
        case OP_DELETE_ATTR: case OP_LOAD_METHOD: case OP_IMPORT_NAME: case OP_IMPORT_FROM:
            fprintf(out, "  (%s)", code->names[arg]->data);
            break;
        case OP_LOAD_FAST: case OP_STORE_FAST: case OP_DELETE_FAST: case OP_LOAD_DEREF:
        case OP_STORE_DEREF: case OP_DELETE_DEREF: case OP_LOAD_CLOSURE:
            fprintf(out, "  (%s)", code->varnames[arg]->data);
            break;
        case OP_LOAD_FAST_PAIR:
            fprintf(out, "  (%s, %s)", code->varnames[arg & 0xfff]->data, code->varnames[arg >> 12]->data);
            break;
        default: break;
        }
        fputc('\n', out);
        pc += opcode_words[op];
    }
    for (uint32_t i = 0; i < code->nhandlers; i++)
        fprintf(out, "  handler [%u, %u) -> %u depth %u\n", code->handlers[i].start,
                code->handlers[i].end, code->handlers[i].handler, code->handlers[i].depth);
    for (uint32_t i = 0; i < code->nconsts; i++)
        if (IS_CODE(code->consts[i])) {
            fputc('\n', out);
            code_disassemble(AS_CODE(code->consts[i]), out);
        }
}
