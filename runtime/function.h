#ifndef MINI_RUNTIME_FUNCTION_H
#define MINI_RUNTIME_FUNCTION_H

/* Callables: mini functions (a code object plus defaults, closure cells
 * and globals), native functions, bound methods, and the cell objects
 * closures share. */

#include "runtime/object.h"
#include "runtime/types.h"

struct ObjCode;
struct ObjDict;
struct ObjTuple;
struct ObjStr;

typedef struct ObjFunction {
    Obj obj;
    struct ObjCode *code;
    struct ObjDict *globals;
    struct ObjDict *builtins;      /* from globals' __builtins__ when made, as CPython's */
    struct ObjTuple *defaults;     /* positional defaults, or NULL */
    struct ObjDict *kwdefaults;    /* keyword-only defaults, or NULL */
    struct ObjDict *annotations;   /* __annotations__, or NULL until asked for */
    struct ObjTuple *closure;      /* cells of free variables, or NULL */
    struct ObjDict *dict;          /* function attributes, lazily */
    struct ObjStr *name;
    struct ObjStr *qualname;
    Value module;                  /* __module__ */
    Value doc;
} ObjFunction;

typedef struct ObjNative {
    Obj obj;
    NativeFn fn;
    struct ObjStr *name;
    ObjType *owner;   /* the type a method belongs to, or NULL */
    Value self;       /* module-bound data or EMPTY_VAL */
} ObjNative;

typedef struct ObjBoundMethod {
    Obj obj;
    Value self;
    Value func;
} ObjBoundMethod;

typedef struct ObjCell {
    Obj obj;
    Value value;      /* EMPTY_VAL while unbound */
} ObjCell;

/* A cell is shared by the closures of threads that may run at once (GIL
 * off): its value is stored with release and loaded with acquire, so an
 * object published through a closure variable is seen whole. */
static inline Value cell_get(const ObjCell *c) { return __atomic_load_n(&c->value, __ATOMIC_ACQUIRE); }
static inline void cell_set(ObjCell *c, Value v) { __atomic_store_n(&c->value, v, __ATOMIC_RELEASE); }

#define IS_FUNCTION(v) IS_KIND(v, OBJ_FUNCTION)
#define AS_FUNCTION(v) ((ObjFunction *)AS_OBJ(v))
#define IS_NATIVE(v) IS_KIND(v, OBJ_NATIVE)
#define AS_NATIVE(v) ((ObjNative *)AS_OBJ(v))
#define IS_BOUND_METHOD(v) IS_KIND(v, OBJ_BOUND_METHOD)
#define AS_BOUND_METHOD(v) ((ObjBoundMethod *)AS_OBJ(v))
#define IS_CELL(v) IS_KIND(v, OBJ_CELL)
#define AS_CELL(v) ((ObjCell *)AS_OBJ(v))

/* The builtins a function made with `globals` sees: globals['__builtins__']
 * (a dict or a module), else the interpreter's. */
struct ObjDict *function_builtins(TState *ts, struct ObjDict *globals);
ObjFunction *function_new(TState *ts, struct ObjCode *code, struct ObjDict *globals);
ObjNative *native_new(TState *ts, const char *name, NativeFn fn, ObjType *owner);
ObjBoundMethod *bound_method_new(TState *ts, Value self, Value func);
ObjCell *cell_new(TState *ts, Value v);

/* The TypeError for a method called on what is not an instance of its
 * type (list.append(1, 2)) or on nothing. */
Value native_wrong_self(TState *ts, ObjNative *n, Value *args, int nargs);
/* Calls a native function: a method's first argument must be an instance
 * of its type. Inline: the VM calls natives through it directly. */
static inline Value native_invoke(TState *ts, ObjNative *n, Value *args, int nargs, struct ObjTuple *kwnames) {
    if (n->owner && (nargs < 1 || (val_type(ts, args[0]) != n->owner && !type_is_subtype(val_type(ts, args[0]), n->owner))))
        return native_wrong_self(ts, n, args, nargs);
    return n->fn(ts, args, nargs, kwnames);
}

/* How CPython names a callable in call errors: "__main__.f()", "print()",
 * "A.m()". */
struct ObjStr *function_display_name(TState *ts, Value callee);

extern const struct TypeSpec function_type_spec;
extern const struct TypeSpec native_type_spec;
extern const struct TypeSpec bound_method_type_spec;
extern const struct TypeSpec cell_type_spec;

#endif
