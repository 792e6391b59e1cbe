#include "vm/settrace.h"

#include <sys/mman.h>

#include "runtime/args.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/function.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "vm/code.h"
#include "vm/gc.h"
#include "vm/opcodes.h"
#include "vm/vm.h"

/* The tracer's record of frame f (which has FRAME_TRACED). */
#define TRACE(ts, f) (&(ts)->frame_trace[(f) - (ts)->frames])

/* A frame as a tracer sees it. It reads the live frame while that frame
 * runs (f_locals, f_back, f_trace); once the frame is gone only what was
 * copied stays (f_code, f_globals, the last f_lineno). */
typedef struct ObjFrame {
    Obj obj;
    TState *ts;
    int index;          /* in ts->frames, while `live` says it is still this frame */
    ObjFunction *fn;
    int lineno;
} ObjFrame;

#define AS_FRAME(v) ((ObjFrame *)AS_OBJ(v))

/* The running Frame a frame object stands for, or NULL once it is gone
 * (a new frame in the same slot has a frame object of its own). */
static Frame *live(ObjFrame *fo) {
    TState *ts = fo->ts;
    if (fo->index <= 0 || fo->index >= ts->frame_count) return NULL;
    Frame *f = &ts->frames[fo->index];
    return (f->flags & FRAME_TRACED) && TRACE(ts, f)->obj == OBJ_VAL(fo) ? f : NULL;
}

/* The thread's FrameTrace array, reserved like its frames (pages are used
 * as frames go deep) the first time a tracer or sys._getframe needs it. */
static bool reserve_frame_trace(TState *ts) {
    if (ts->frame_trace) return true;
    void *p = mmap(NULL, (size_t)ts->frame_cap * sizeof(FrameTrace), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return !IS_ERROR(err_no_memory(ts));
    ts->frame_trace = p;
    return true;
}

/* Marks f seen, without events: frames running when tracing begins. */
static void mark_seen(TState *ts, Frame *f) {
    if (f->flags & FRAME_TRACED) return;
    f->flags |= FRAME_TRACED;
    TRACE(ts, f)->fn = NONE_VAL;
    TRACE(ts, f)->obj = EMPTY_VAL;
    TRACE(ts, f)->line = -1;
    TRACE(ts, f)->pc = UINT32_MAX;
}

static Value frame_object(TState *ts, int index) {
    Frame *f = &ts->frames[index];
    mark_seen(ts, f);
    if (!IS_EMPTY(TRACE(ts, f)->obj)) return TRACE(ts, f)->obj;
    ObjFrame *fo = (ObjFrame *)gc_alloc(ts, sizeof(ObjFrame), OBJ_FRAME, ts->interp->types.frame);
    if (!fo) return ERROR_VAL;
    fo->ts = ts;
    fo->index = index;
    fo->fn = f->fn;
    fo->lineno = f->fn->code->first_line;
    TRACE(ts, f)->obj = OBJ_VAL(fo);
    return TRACE(ts, f)->obj;
}

Value frame_snapshot(TState *ts, ObjFunction *fn, int line) {
    /* Index 0 is never a live frame: the object only keeps what was copied. */
    ObjFrame *fo = (ObjFrame *)gc_alloc(ts, sizeof(ObjFrame), OBJ_FRAME, ts->interp->types.frame);
    if (!fo) return ERROR_VAL;
    fo->ts = ts;
    fo->index = 0;
    fo->fn = fn;
    fo->lineno = line;
    return OBJ_VAL(fo);
}

static void frame_trace(GcMarker *m, Obj *self) { gc_mark_obj(m, (Obj *)((ObjFrame *)self)->fn); }

static Value frame_repr(TState *ts, Value self) {
    ObjFrame *fo = AS_FRAME(self);
    ObjCode *code = fo->fn->code;
    return OBJ_VAL(str_printf(ts, "<frame at %p, file '%s', line %d, code %s>", (void *)fo, code->filename->data,
                              fo->lineno, code->name->data));
}

static Value frame_get_code(TState *ts, Value self) {
    (void)ts;
    return OBJ_VAL(AS_FRAME(self)->fn->code);
}

static Value frame_get_lineno(TState *ts, Value self) {
    (void)ts;
    ObjFrame *fo = AS_FRAME(self);
    Frame *f = live(fo);
    if (f && !ts->in_tracer) {
        /* Read while it runs (sys._getframe): the line it is at. */
        ObjCode *code = f->fn->code;
        uint32_t pc = f->ip > code->instrs ? (uint32_t)(f->ip - code->instrs) - 1 : 0;
        if (code->lines[pc]) fo->lineno = (int)code->lines[pc];
    }
    return INT_VAL(fo->lineno);
}

static Value frame_get_globals(TState *ts, Value self) {
    (void)ts;
    return OBJ_VAL(AS_FRAME(self)->fn->globals);
}

static Value frame_get_builtins(TState *ts, Value self) {
    (void)ts;
    return OBJ_VAL(AS_FRAME(self)->fn->builtins);
}

static Value frame_get_locals(TState *ts, Value self) {
    Frame *f = live(AS_FRAME(self));
    if (!f) return OBJ_VAL(dict_new(ts));
    return vm_frame_locals(ts, f);
}

static Value frame_get_back(TState *ts, Value self) {
    ObjFrame *fo = AS_FRAME(self);
    if (!live(fo)) return NONE_VAL;
    for (int i = fo->index - 1; i > 0; i--)
        if (ts->frames[i].fn) return frame_object(ts, i);
    return NONE_VAL;
}

static Value frame_get_trace(TState *ts, Value self) {
    (void)ts;
    Frame *f = live(AS_FRAME(self));
    return f ? TRACE(ts, f)->fn : NONE_VAL;
}

static int frame_set_trace(TState *ts, Value self, Value value) {
    (void)ts;
    Frame *f = live(AS_FRAME(self));
    if (f) TRACE(ts, f)->fn = IS_EMPTY(value) ? NONE_VAL : value;
    return 0;
}

static const GetSetDef frame_getsets[] = {
    {"f_code", frame_get_code, NULL},
    {"f_lineno", frame_get_lineno, NULL},
    {"f_globals", frame_get_globals, NULL},
    {"f_builtins", frame_get_builtins, NULL},
    {"f_locals", frame_get_locals, NULL},
    {"f_back", frame_get_back, NULL},
    {"f_trace", frame_get_trace, frame_set_trace},
    {NULL, NULL, NULL},
};

const TypeSpec frame_type_spec = {
    .name = "frame",
    .kind = OBJ_FRAME,
    .repr = frame_repr,
    .trace = frame_trace,
    .getsets = frame_getsets,
};

/* ---- events ------------------------------------------------------------ */

static void stop_tracing(TState *ts) {
    ts->tracefunc = NONE_VAL;
    ts->profilefunc = NONE_VAL;
    if (ts->tracing) {
        ts->tracing = false;
        vm_count_traced_thread(ts, -1);
    }
}

/* fn(frame, event, arg) with tracing off meanwhile; the pending exception
 * (if any) is kept aside. The result, or ERROR_VAL after the tracer raised
 * (then tracing stops, as in CPython). */
static Value call_tracer(TState *ts, Value fn, Frame *f, const char *event, Value arg) {
    int index = (int)(f - ts->frames);
    Value frame = frame_object(ts, index);
    ObjStr *name = IS_ERROR(frame) ? NULL : str_intern_cstr(ts, event);
    if (!name) return ERROR_VAL;
    /* The line running; a function's call event is on its def line. */
    ObjCode *code = f->fn->code;
    uint32_t pc = f->ip > code->instrs ? (uint32_t)(f->ip - code->instrs) - 1 : 0;
    bool at_def = pc == 0 && event[0] == 'c';
    AS_FRAME(frame)->lineno = at_def || !code->lines[pc] ? code->first_line : (int)code->lines[pc];
    Value pending = err_fetch(ts);
    vm_push(ts, pending);
    ts->in_tracer = true;
    Value r = vm_call(ts, fn, (Value[]){frame, OBJ_VAL(name), arg}, 3, NULL);
    ts->in_tracer = false;
    vm_pop(ts);
    if (IS_ERROR(r)) {
        stop_tracing(ts);
        return r;
    }
    if (!IS_EMPTY(pending)) err_restore(ts, pending);
    return r;
}

/* The call event on a frame's first traced instruction: the profiler is
 * told, and the tracer's answer becomes the frame's local trace function. */
static bool enter(TState *ts, Frame *f) {
    mark_seen(ts, f);
    /* A generator resumes inside the line of its yield: no line event
     * until the next line, as CPython. */
    ObjCode *code = f->fn->code;
    uint32_t pc = (uint32_t)(f->ip - code->instrs) - 1;
    if (pc > 0) {
        TRACE(ts, f)->line = (int)code->lines[pc];
        TRACE(ts, f)->pc = pc - 1;
    }
    if (!IS_NONE(ts->profilefunc) && IS_ERROR(call_tracer(ts, ts->profilefunc, f, "call", NONE_VAL))) return false;
    if (!IS_NONE(ts->tracefunc)) {
        Value local = call_tracer(ts, ts->tracefunc, f, "call", NONE_VAL);
        if (IS_ERROR(local)) return false;
        TRACE(ts, f)->fn = local;
    }
    return true;
}

/* A local trace function's answer other than None replaces it. */
static bool local_event(TState *ts, Frame *f, const char *event, Value arg) {
    if (IS_NONE(TRACE(ts, f)->fn)) return true;
    Value r = call_tracer(ts, TRACE(ts, f)->fn, f, event, arg);
    if (IS_ERROR(r)) return false;
    if (!IS_NONE(r)) TRACE(ts, f)->fn = r;
    return true;
}

static bool leave(TState *ts, Frame *f, Value value) {
    if (!local_event(ts, f, "return", value)) return false;
    if (!IS_NONE(ts->profilefunc) && IS_ERROR(call_tracer(ts, ts->profilefunc, f, "return", value))) return false;
    return true;
}

bool tracer_instruction(TState *ts, Frame *f, uint32_t ins) {
    if (ts->in_tracer || !f->fn) return true;
    if (!(f->flags & FRAME_TRACED) && !enter(ts, f)) return false;
    ObjCode *code = f->fn->code;
    uint32_t pc = (uint32_t)(f->ip - code->instrs) - 1;
    int line = (int)code->lines[pc];
    /* A line event where the line changes, and after every jump back
     * (each turn of a loop), as CPython. */
    bool new_line = line != TRACE(ts, f)->line || pc <= TRACE(ts, f)->pc;
    TRACE(ts, f)->pc = pc;
    if (new_line && line > 0) {
        TRACE(ts, f)->line = line;
        if (!local_event(ts, f, "line", NONE_VAL)) return false;
    }
    Opcode op = INSTR_OP(ins);
    if (op == OP_RETURN_VALUE || op == OP_YIELD_VALUE) return leave(ts, f, f->sp[-1]);
    return true;
}

bool tracer_exception(TState *ts, Frame *f) {
    if (ts->in_tracer || !f->fn || !(f->flags & FRAME_TRACED) || IS_NONE(TRACE(ts, f)->fn)) return true;
    Value exc = ts->exc;
    if (!IS_EXCEPTION(exc)) return true;
    ObjTuple *info = tuple_new(ts, 3);
    if (!info) return false;
    info->items[0] = OBJ_VAL(OBJ_TYPE(exc));
    info->items[1] = exc;
    info->items[2] = AS_EXCEPTION(exc)->traceback;
    vm_push(ts, OBJ_VAL(info));
    bool ok = local_event(ts, f, "exception", OBJ_VAL(info));
    vm_pop(ts);
    return ok;
}

bool tracer_unwind(TState *ts, Frame *f) {
    if (ts->in_tracer || !f->fn || !(f->flags & FRAME_TRACED)) return true;
    return leave(ts, f, NONE_VAL);
}

/* What the profiler sees for a call of callee: the built-in function, a
 * bound built-in method (made for a method called with its self first, as
 * CPython does), or EMPTY_VAL when the call gives no c_ events. */
static Value builtin_shown(TState *ts, Value callee, Value *args, int nargs) {
    if (IS_BOUND_METHOD(callee)) return IS_NATIVE(AS_BOUND_METHOD(callee)->func) ? callee : EMPTY_VAL;
    if (!IS_NATIVE(callee)) return EMPTY_VAL;
    if (!AS_NATIVE(callee)->owner) return callee;
    if (nargs == 0) return EMPTY_VAL; /* no self: the call raises TypeError by itself */
    ObjBoundMethod *bound = bound_method_new(ts, args[0], callee);
    return bound ? OBJ_VAL(bound) : ERROR_VAL;
}

Value tracer_call(TState *ts, Frame *f, Value callee, Value *args, int nargs, ObjTuple *kwnames) {
    ObjType *t = val_type(ts, callee);
    if (IS_NONE(ts->profilefunc) || ts->in_tracer) return t->call(ts, callee, args, nargs, kwnames);
    Value shown = builtin_shown(ts, callee, args, nargs);
    if (IS_EMPTY(shown)) return t->call(ts, callee, args, nargs, kwnames);
    if (IS_ERROR(shown)) return shown;
    vm_push(ts, shown);
    Value r = ERROR_VAL;
    if (!IS_ERROR(call_tracer(ts, ts->profilefunc, f, "c_call", shown))) {
        r = t->call(ts, callee, args, nargs, kwnames);
        /* The profiler may have been removed meanwhile (setprofile(None)). */
        if (!IS_NONE(ts->profilefunc)) {
            vm_push(ts, r);
            bool raised = IS_ERROR(r);
            if (IS_ERROR(call_tracer(ts, ts->profilefunc, f, raised ? "c_exception" : "c_return", shown)))
                r = ERROR_VAL;
            vm_pop(ts);
        }
    }
    vm_pop(ts);
    return r;
}

/* ---- sys.settrace / sys.setprofile ---------------------------------------- */

/* Turns tracing on or off for the thread. The frames running now are not
 * traced (they get no call event, nor line events without an f_trace). */
static Value set_hook(TState *ts, Value *slot, Value fn) {
    if (!IS_NONE(fn) && !reserve_frame_trace(ts)) return ERROR_VAL;
    *slot = fn;
    bool on = !IS_NONE(ts->tracefunc) || !IS_NONE(ts->profilefunc);
    if (on && !ts->tracing)
        for (int i = 1; i < ts->frame_count; i++)
            if (ts->frames[i].fn) mark_seen(ts, &ts->frames[i]);
    if (on != ts->tracing) {
        ts->tracing = on;
        vm_count_traced_thread(ts, on ? 1 : -1);
    }
    return NONE_VAL;
}

Value tracer_settrace(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "settrace", nargs, kwnames, 1, 1)) return ERROR_VAL;
    return set_hook(ts, &ts->tracefunc, args[0]);
}

Value tracer_gettrace(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    (void)args;
    if (!args_check(ts, "gettrace", nargs, kwnames, 0, 0)) return ERROR_VAL;
    return ts->tracefunc;
}

Value tracer_setprofile(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "setprofile", nargs, kwnames, 1, 1)) return ERROR_VAL;
    return set_hook(ts, &ts->profilefunc, args[0]);
}

Value tracer_getprofile(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    (void)args;
    if (!args_check(ts, "getprofile", nargs, kwnames, 0, 0)) return ERROR_VAL;
    return ts->profilefunc;
}

Value tracer_getframe(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "_getframe", nargs, kwnames, 0, 1)) return ERROR_VAL;
    int64_t depth = 0;
    if (nargs == 1 && !args_int(ts, args[0], &depth)) return ERROR_VAL;
    if (!reserve_frame_trace(ts)) return ERROR_VAL;
    for (int i = ts->frame_count - 1; i > 0; i--) {
        if (!ts->frames[i].fn) continue;
        if (depth-- == 0) {
            Value fo = frame_object(ts, i);
            if (!IS_ERROR(fo)) frame_get_lineno(ts, fo);
            return fo;
        }
    }
    return err_format(ts, ts->interp->exc.ValueError, "call stack is not deep enough");
}
