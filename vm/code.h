#ifndef MINI_VM_CODE_H
#define MINI_VM_CODE_H

/* Code objects: the compiler's output, one per function, class body,
 * comprehension and module. Immutable once built, except the inline
 * caches, which are single words written atomically. */

#include <stdio.h>

#include "runtime/object.h"

struct ObjStr;
struct ObjTuple;

#define CODE_GENERATOR 0x01 /* contains yield or is async: calling it makes a generator (or coroutine) */
#define CODE_VARARGS 0x02   /* has *args */
#define CODE_VARKW 0x04     /* has **kwargs */
#define CODE_NESTED 0x08    /* has free variables */
#define CODE_CLASS_BODY 0x10
/* Positional parameters only, no cells, free variables or generator:
 * calls with the exact number of arguments bind by leaving them in place. */
#define CODE_SIMPLE 0x20
#define CODE_HAS_DOC 0x40   /* consts[0] is the function's docstring */
/* async def (with CODE_GENERATOR: its frame suspends like a generator's):
 * calling it makes a coroutine, or an async generator when it yields. */
#define CODE_COROUTINE 0x80
#define CODE_ASYNC_GENERATOR 0x100

/* One protected range of instructions [start, end): an exception raised
 * there unwinds the stack to `depth` values, pushes the exception and
 * jumps to `handler` (zero-cost: nothing runs on entry to a try). */
typedef struct ExcHandler {
    uint32_t start, end, handler, depth;
} ExcHandler;

typedef struct ObjCode {
    Obj obj;
    uint32_t *instrs;
    uint32_t ninstrs;
    uint32_t *lines;             /* source line of each instruction */
    _Atomic uint64_t *caches;    /* inline cache words */
    uint32_t ncaches;
    Value *consts;
    uint32_t nconsts;
    struct ObjStr **names;       /* globals, attributes, imports */
    uint32_t nnames;
    struct ObjStr **varnames;    /* locals: parameters first */
    uint32_t nlocals;
    uint32_t ncells;             /* locals that are cells (after params) */
    uint32_t *cell_locals;       /* which locals become cells at entry */
    uint32_t nfree;              /* free variables: the last nfree locals */
    ExcHandler *handlers;
    uint32_t nhandlers;
    uint32_t stack_size;         /* max evaluation stack depth */
    uint32_t argcount;           /* positional parameters */
    uint32_t kwonlycount;
    uint32_t posonlycount;
    uint32_t flags;              /* CODE_* */
    int first_line;
    struct ObjStr *name;
    struct ObjStr *qualname;
    struct ObjStr *filename;
} ObjCode;

#define IS_CODE(v) IS_KIND(v, OBJ_CODE)
#define AS_CODE(v) ((ObjCode *)AS_OBJ(v))

/* Frame size in values: locals plus the deepest evaluation stack. */
#define CODE_FRAME_SIZE(c) ((c)->nlocals + (c)->stack_size)

ObjCode *code_new(TState *ts);
/* Writes a listing of the code and of the code objects in its constants. */
void code_disassemble(ObjCode *code, FILE *out);

extern const struct TypeSpec code_type_spec;

#endif
