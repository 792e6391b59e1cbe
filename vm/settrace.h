#ifndef MINI_VM_SETTRACE_H
#define MINI_VM_SETTRACE_H

/* sys.settrace and sys.setprofile: the call, line, return and exception
 * events CPython delivers, and the frame objects tracers receive.
 *
 * Free when no tracer is set: the dispatch loop's table is one for the
 * process, and while some thread traces, its entries all lead to
 * tracer_instruction before the instruction's own code (vm.c rewrites it,
 * with the world stopped, when the first thread starts tracing and when
 * the last one stops). Threads that do not trace pay one test per
 * instruction meanwhile. Frames running when tracing begins are marked
 * seen: like CPython, only frames entered later
 * get call events and line events. */

#include <stdbool.h>
#include <stdint.h>

#include "runtime/object.h"
#include "vm/interp.h"

/* Before each instruction while tracing: the call event on a frame's
 * first instruction, line events, the return event before a return or a
 * yield. False after raising (a tracer's exception; tracing is then
 * turned off, as CPython does). */
bool tracer_instruction(TState *ts, Frame *f, uint32_t ins);
/* An exception was raised in f (pending in ts->exc): the exception event.
 * False after replacing it with the tracer's own exception. */
bool tracer_exception(TState *ts, Frame *f);
/* f is left by the pending exception: the return event with None. */
bool tracer_unwind(TState *ts, Frame *f);
/* A call from f's code to something that is not a mini function, while
 * its thread traces (the dispatch loop tests ts->tracing only there): for
 * a built-in function or method with a profiler set, the c_call event,
 * the call, then c_return or c_exception, as CPython's; else just the
 * call. */
Value tracer_call(TState *ts, Frame *f, Value callee, Value *args, int nargs, struct ObjTuple *kwnames);

extern const struct TypeSpec frame_type_spec;
/* A frame object for a frame that has ended (a traceback entry's tb_frame):
 * its code, globals and the line it was at; no locals, no f_back. */
Value frame_snapshot(TState *ts, struct ObjFunction *fn, int line);

/* sys.settrace, sys.gettrace, sys.setprofile, sys.getprofile. */
Value tracer_settrace(TState *ts, Value *args, int nargs, struct ObjTuple *kwnames);
Value tracer_gettrace(TState *ts, Value *args, int nargs, struct ObjTuple *kwnames);
Value tracer_setprofile(TState *ts, Value *args, int nargs, struct ObjTuple *kwnames);
Value tracer_getprofile(TState *ts, Value *args, int nargs, struct ObjTuple *kwnames);
/* sys._getframe([depth]): the frame object of a running frame. */
Value tracer_getframe(TState *ts, Value *args, int nargs, struct ObjTuple *kwnames);

#endif
