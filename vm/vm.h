#ifndef MINI_VM_VM_H
#define MINI_VM_VM_H

/* The bytecode interpreter: runs code objects on a thread's frames. */

#include <stdbool.h>

#include "runtime/object.h"

struct ObjCode;
struct ObjDict;
struct ObjTuple;
struct ObjFunction;
struct Frame;

/* Calls any callable from C and runs it to completion (re-entering the
 * dispatch loop for mini functions). ERROR_VAL after raising. */
Value vm_call(TState *ts, Value callee, Value *args, int nargs, struct ObjTuple *kwnames);
/* callee(*posargs, **kwargs) with run-time argument collections. */
Value vm_call_ex(TState *ts, Value callee, Value posargs, Value kwargs);
/* Calls func(self, *args): methods called from C (__init__, dunders). */
Value vm_call_method(TState *ts, Value func, Value self, Value *args, int nargs,
                     struct ObjTuple *kwnames);
/* Runs a module's top-level code with `globals` as its namespace. */
Value vm_run_module(TState *ts, struct ObjCode *code, struct ObjDict *globals);
/* Runs top-level code (exec, eval) with its names in `locals` first. */
Value vm_run_code(TState *ts, struct ObjCode *code, struct ObjDict *globals, Value locals);
/* Calls a mini function: binds arguments into a new frame and runs it. */
Value vm_call_function(TState *ts, struct ObjFunction *fn, Value *args, int nargs,
                       struct ObjTuple *kwnames);

/* Raises `exc` inside a suspended generator (generator.throw). Same
 * results as generator_resume. */
struct ObjGenerator;
Value vm_generator_throw(TState *ts, struct ObjGenerator *gen, Value exc, Value *result);
/* The iterator a suspended generator delegates to (it waits in `yield
 * from`), or EMPTY_VAL. */
Value vm_generator_delegate(struct ObjGenerator *gen);
/* Ends that delegation: the next resume's sent value becomes the result of
 * the `yield from` (the delegate has returned). */
void vm_generator_finish_delegation(struct ObjGenerator *gen);

/* Runs a class body with `ns` as its namespace (the class statement). */
Value vm_run_class_body(TState *ts, struct ObjFunction *body, struct ObjDict *ns);
/* For super() without arguments: the class the running method was defined
 * in (its __class__ cell) and its first argument; NULL, or CPython's
 * RuntimeError message when there are none. */
const char *vm_super_context(TState *ts, ObjType **type, Value *self);

/* Counts a C-level re-entry (slots calling mini code recursively, e.g. a
 * __repr__ that reprs itself): false after raising RecursionError. */
bool vm_enter_native(TState *ts);
void vm_leave_native(TState *ts);

/* Roots a value on the current thread's VM stack across calls that may
 * collect (see vm/gc.h). Pops must match pushes. */
void vm_push(TState *ts, Value v);
Value vm_pop(TState *ts);

/* The safepoint: handles whatever the eval breaker asks (GC, GIL hand-off,
 * signals). Returns false after raising (KeyboardInterrupt). Called by the
 * dispatch loop, and by long-running C loops that hold no unrooted values. */
bool vm_safepoint(TState *ts);

/* The line being executed in the innermost frame (for warnings, repr). */
int vm_current_line(TState *ts);

/* The globals dict of the innermost running mini function (globals(),
 * dir() and vars() without arguments). */
Value vm_globals(TState *ts);
/* locals(): the namespace of the innermost running module or class body,
 * or a new dict of a function's bound local variables. */
Value vm_locals(TState *ts);
/* A thread starts (+1) or stops (-1) tracing: while any does, every
 * instruction of every thread goes through the tracer (vm/settrace.c).
 * Stops the world meanwhile. */
void vm_count_traced_thread(TState *ts, int delta);
/* The same for a given running frame (tracers' frame.f_locals). */
Value vm_frame_locals(TState *ts, struct Frame *f);

#endif
