/* The _asyncio module: asyncio's Future and Task in C, as CPython's module
 * of the same name. asyncio.futures and asyncio.tasks keep their versions
 * written in mini and use these when the import succeeds, as CPython's do.
 * Every task switch runs through here:
 *
 * - Future: state, result or exception, the done callbacks (each a
 *   (callback, context) pair scheduled with loop.call_soon(cb, fut,
 *   context=ctx) when the future is done), cancellation with a message.
 * - FutureIter: what `await fut` iterates: it yields the future once
 *   (with _asyncio_future_blocking set, the Task's sign to wait on it) and
 *   then returns its result.
 * - Task: a Future driving a coroutine. Its step sends into the coroutine
 *   (or throws into it) inside its context, and looks at what the
 *   coroutine yielded: a future to wait on (the task's wakeup becomes one
 *   of its done callbacks), None (run again soon) or a mistake.
 * - TaskStepMethWrapper, TaskWakeupMethWrapper: the callables the loop
 *   calls for a step and a wakeup. Each task makes its two once and
 *   reuses them, where CPython makes one per switch.
 * - _enter_task, _leave_task, _current_tasks: which task each loop runs
 *   (asyncio.tasks.current_task reads _current_tasks).
 *
 * What stays in mini and is called from here: reprs (format_helpers), the
 * loop (events), copy_context, the registry of all tasks (a WeakSet in
 * asyncio.tasks), and the report of an exception nobody retrieved
 * (futures._exception_logger: mini has no __del__, a weakref.finalize
 * stands in).
 *
 * A future belongs to one loop and is changed only from that loop's
 * thread (other threads go through call_soon_threadsafe), as in CPython:
 * with the GIL off, the fields need no lock (the state is atomic, for
 * done() and cancelled() asked from elsewhere). */

#include <stdatomic.h>
#include <string.h>

#include "runtime/args.h"
#include "runtime/class.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/function.h"
#include "runtime/generator.h"
#include "runtime/list.h"
#include "runtime/module.h"
#include "runtime/ops.h"
#include "runtime/shape.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "stdlib/builtins.h"
#include "stdlib/modules.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/vm.h"

#define EXCS(ts) (&(ts)->interp->exc)

enum { FUT_PENDING, FUT_CANCELLED, FUT_FINISHED };

/* What the module's code shares, one per interpreter (the module's
 * `_state`): every future points to it, so that a task switch looks
 * nothing up by name. */
typedef struct AioState {
    Obj obj;
    ObjDict *current_tasks;  /* _current_tasks */
    ObjType *future_iter, *step_type, *wakeup_type;
    ObjTuple *kw_context, *kw_msg;  /* ("context",), ("msg",) */
    ObjStr *call_soon, *blocking, *add_done_callback, *cancel, *result, *send, *throw_;
} AioState;

typedef struct ObjFuture {
    Obj obj;
    AioState *st;
    Value loop;            /* None until __init__ */
    /* The first done callback and its context inline (EMPTY_VAL: none;
     * filled only while there are no others), the later ones as
     * (callback, context) tuples (NULL: none): most futures get one, and a
     * task switch then allocates no list. */
    Value cb0, ctx0;
    ObjList *callbacks;
    Value result, exception, exception_tb;
    Value cancel_message, cancelled_exc;
    Value logger;          /* what reports an unretrieved exception, or None */
    /* Atomic: another thread may ask done() or cancelled() (the callback
     * that wrap_future chains to an executor's future does). */
    _Atomic uint8_t state;
    bool blocking;         /* _asyncio_future_blocking */
    bool log_tb;           /* _log_traceback */
    bool is_task;
} ObjFuture;

typedef struct ObjTask {
    ObjFuture fut;
    Value coro, context, name, fut_waiter;
    Value step, wakeup;    /* this task's wrappers, made once */
    int64_t num_cancels_requested;
    bool must_cancel, log_destroy_pending;
} ObjTask;

/* A task's step (with an exception to throw in, or EMPTY) or wakeup. */
typedef struct ObjTaskMeth {
    Obj obj;
    Value task;
    Value arg;
} ObjTaskMeth;

typedef struct ObjFutureIter {
    Obj obj;
    Value fut;  /* None once it returned */
} ObjFutureIter;

#define FUT(v) ((ObjFuture *)AS_OBJ(v))
#define TASK(v) ((ObjTask *)AS_OBJ(v))

/* ---- state shared with the mini half -------------------------------------------- */

static void state_trace(GcMarker *m, Obj *self) {
    AioState *st = (AioState *)self;
    Obj *objs[] = {(Obj *)st->current_tasks, (Obj *)st->future_iter, (Obj *)st->step_type, (Obj *)st->wakeup_type,
                   (Obj *)st->kw_context, (Obj *)st->kw_msg, (Obj *)st->call_soon, (Obj *)st->blocking,
                   (Obj *)st->add_done_callback, (Obj *)st->cancel, (Obj *)st->result, (Obj *)st->send,
                   (Obj *)st->throw_};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++) gc_mark_obj(m, objs[i]);
}

static size_t state_size(Obj *self) {
    (void)self;
    return sizeof(AioState);
}

static const TypeSpec state_spec = {
    .name = "_State",
    .kind = OBJ_OPAQUE,
    .obj_size = state_size,
    .trace = state_trace,
};

static AioState *state_get(TState *ts) {
    Value st = module_attr(ts, "_asyncio", "_state");
    if (IS_KIND(st, OBJ_OPAQUE) && AS_OBJ(st)->type->trace == state_trace) return (AioState *)AS_OBJ(st);
    if (!IS_ERROR(st)) err_format(ts, EXCS(ts)->RuntimeError, "_asyncio._state is missing");
    return NULL;
}

static ObjType *aio_exc(TState *ts, const char *name) { return module_type(ts, "asyncio.exceptions", name); }

static void future_trace(GcMarker *m, Obj *self);
static void task_trace(GcMarker *m, Obj *self);

/* Is v a Future (Task when task) of this module or of a subclass? The
 * layout's trace function tells, without looking the types up. */
static bool is_future_kind(Value v, bool task) {
    if (!IS_KIND(v, OBJ_OPAQUE)) return false;
    for (ObjType *t = OBJ_TYPE(v); t; t = t->base)
        if (t->trace == task_trace || (!task && t->trace == future_trace)) return true;
    return false;
}

#define is_future(ts, v) is_future_kind(v, false)

static Value raise_type(TState *ts, ObjType *t, const char *msg) {
    if (!t) return ERROR_VAL;
    return err_set_str(ts, t, msg);
}

/* obj.name(*args), without making a bound method when name is a
 * function of obj's class that obj's own attributes do not shadow (a loop's
 * call_soon, on every task switch). */
static Value call_method(TState *ts, Value obj, ObjStr *name, Value *args, int nargs, ObjTuple *kwnames) {
    if (IS_KIND(obj, OBJ_INSTANCE) && OBJ_TYPE(obj)->getattr == ts->interp->types.object->getattr) {
        Value func = type_lookup(OBJ_TYPE(obj), name);
        ShapeKeys *keys = shape_keys_of(OBJ_TYPE(obj));
        if (IS_FUNCTION(func) && !(keys && shape_has(AS_INSTANCE(obj), name)))
            return vm_call_method(ts, func, obj, args, nargs, kwnames);
    }
    Value meth = ops_getattr(ts, obj, name);
    if (IS_ERROR(meth)) return meth;
    vm_push(ts, meth);
    Value r = ops_call(ts, meth, args, nargs, kwnames);
    vm_pop(ts);
    return r;
}

/* loop.call_soon(callback, arg, context=ctx); arg EMPTY: none. */
static bool call_soon(TState *ts, AioState *st, Value loop, Value callback, Value arg, Value ctx) {
    Value argv[3];
    int n = 0;
    argv[n++] = callback;
    if (!IS_EMPTY(arg)) argv[n++] = arg;
    argv[n] = ctx;
    return !IS_ERROR(call_method(ts, loop, st->call_soon, argv, n, IS_NONE(ctx) ? NULL : st->kw_context));
}

/* ---- Future --------------------------------------------------------------------- */

static void future_trace_fields(GcMarker *m, ObjFuture *f) {
    gc_mark_obj(m, (Obj *)f->st);
    gc_mark_value(m, f->loop);
    gc_mark_value(m, f->cb0);
    gc_mark_value(m, f->ctx0);
    gc_mark_obj(m, (Obj *)f->callbacks);
    gc_mark_value(m, f->result);
    gc_mark_value(m, f->exception);
    gc_mark_value(m, f->exception_tb);
    gc_mark_value(m, f->cancel_message);
    gc_mark_value(m, f->cancelled_exc);
    gc_mark_value(m, f->logger);
}

static void future_trace(GcMarker *m, Obj *self) { future_trace_fields(m, (ObjFuture *)self); }

static size_t future_size(Obj *self) {
    (void)self;
    return sizeof(ObjFuture);
}

static void future_clear(ObjFuture *f, bool is_task) {
    f->loop = NONE_VAL;
    f->cb0 = f->ctx0 = EMPTY_VAL;
    f->callbacks = NULL;
    f->result = f->exception = f->exception_tb = NONE_VAL;
    f->cancel_message = f->cancelled_exc = f->logger = NONE_VAL;
    f->state = FUT_PENDING;
    f->blocking = f->log_tb = false;
    f->is_task = is_task;
}

/* Future.__init__(*, loop=None). */
static bool future_init(TState *ts, ObjFuture *f, Value loop) {
    if (IS_EMPTY(loop) || IS_NONE(loop)) {
        loop = module_call(ts, "asyncio.events", "_get_event_loop", NULL, 0);
        if (IS_ERROR(loop)) return false;
    }
    f->loop = loop;
    f->cb0 = f->ctx0 = EMPTY_VAL;
    f->callbacks = NULL;
    return true;
}

static bool future_init_args(TState *ts, ObjFuture *f, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"loop"};
    Value v[1];
    if (!args_bind(ts, "Future", args, nargs, kwnames, names, 1, 0, 0, v)) return false;
    return future_init(ts, f, v[0]);
}

static ObjFuture *future_alloc(TState *ts, ObjType *type, size_t size, bool task) {
    AioState *st = state_get(ts);
    ObjFuture *f = st ? (ObjFuture *)gc_alloc(ts, size, OBJ_OPAQUE, type) : NULL;
    if (!f) return NULL;
    f->st = st;
    future_clear(f, task);
    return f;
}

static Value future_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    bool consumes = IS_FUNCTION(type_lookup(type, ts->interp->names.init));
    ObjFuture *f = future_alloc(ts, type, sizeof(ObjFuture), false);
    if (!f) return ERROR_VAL;
    if (consumes) return OBJ_VAL(f);
    vm_push(ts, OBJ_VAL(f));
    bool ok = future_init_args(ts, f, args, nargs, kwnames);
    vm_pop(ts);
    return ok ? OBJ_VAL(f) : ERROR_VAL;
}

static Value future_m_init(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return future_init_args(ts, FUT(args[0]), args + 1, nargs - 1, kwnames) ? NONE_VAL : ERROR_VAL;
}

static bool future_ready(TState *ts, ObjFuture *f) {
    if (IS_NONE(f->loop)) {
        err_format(ts, EXCS(ts)->RuntimeError, "Future object is not initialized.");
        return false;
    }
    return true;
}

/* Clearing _log_traceback also disarms the report of the exception. */
static bool clear_log_tb(TState *ts, ObjFuture *f) {
    f->log_tb = false;
    if (IS_NONE(f->logger)) return true;
    Value logger = f->logger;
    f->logger = NONE_VAL;
    ObjStr *active = str_intern_cstr(ts, "active");
    return active && ops_setattr(ts, logger, active, FALSE_VAL) == 0;
}

/* Schedules the done callbacks, in the order they were added. */
static bool schedule_callbacks(TState *ts, Value self) {
    ObjFuture *f = FUT(self);
    Value cb0 = f->cb0, ctx0 = f->ctx0;
    ObjList *cbs = f->callbacks;
    f->cb0 = f->ctx0 = EMPTY_VAL;
    f->callbacks = NULL;
    if (IS_EMPTY(cb0) && !cbs) return true;
    vm_push(ts, cb0);
    vm_push(ts, ctx0);
    vm_push(ts, cbs ? OBJ_VAL(cbs) : NONE_VAL);
    bool ok = IS_EMPTY(cb0) || call_soon(ts, f->st, f->loop, cb0, self, ctx0);
    if (!cbs) {
        vm_pop(ts);
        vm_pop(ts);
        vm_pop(ts);
        return ok;
    }
    for (size_t i = 0; ok && i < list_len(cbs); i++) {
        ObjTuple *pair = AS_TUPLE(list_get(cbs, i));
        ok = call_soon(ts, f->st, f->loop, pair->items[0], self, pair->items[1]);
    }
    vm_pop(ts);
    vm_pop(ts);
    vm_pop(ts);
    return ok;
}

static Value make_cancelled_error(TState *ts, ObjFuture *f) {
    if (!IS_NONE(f->cancelled_exc)) {
        Value exc = f->cancelled_exc;
        f->cancelled_exc = NONE_VAL;
        return exc;
    }
    ObjType *t = aio_exc(ts, "CancelledError");
    if (!t) return ERROR_VAL;
    return exc_new(ts, t, IS_NONE(f->cancel_message) ? NULL : &f->cancel_message, IS_NONE(f->cancel_message) ? 0 : 1);
}

static Value raise_cancelled(TState *ts, ObjFuture *f) {
    Value exc = make_cancelled_error(ts, f);
    return IS_ERROR(exc) ? exc : err_raise(ts, exc);
}

static Value future_result(TState *ts, Value self) {
    ObjFuture *f = FUT(self);
    if (f->state == FUT_CANCELLED) return raise_cancelled(ts, f);
    if (f->state != FUT_FINISHED) return raise_type(ts, aio_exc(ts, "InvalidStateError"), "Result is not set.");
    if (!IS_NONE(f->exception)) {
        if (!clear_log_tb(ts, f)) return ERROR_VAL;
        AS_EXCEPTION(f->exception)->traceback = f->exception_tb;
        return err_raise(ts, f->exception);
    }
    return f->result;
}

static bool future_set_result(TState *ts, Value self, Value result) {
    ObjFuture *f = FUT(self);
    if (!future_ready(ts, f)) return false;
    if (f->state != FUT_PENDING) {
        raise_type(ts, aio_exc(ts, "InvalidStateError"), "invalid state");
        return false;
    }
    f->result = result;
    f->state = FUT_FINISHED;
    return schedule_callbacks(ts, self);
}

static bool future_set_exception(TState *ts, Value self, Value exc) {
    ObjFuture *f = FUT(self);
    if (!future_ready(ts, f)) return false;
    if (f->state != FUT_PENDING) {
        raise_type(ts, aio_exc(ts, "InvalidStateError"), "invalid state");
        return false;
    }
    if (IS_TYPE(exc)) {
        exc = ops_call(ts, exc, NULL, 0, NULL);
        if (IS_ERROR(exc)) return false;
    }
    if (!IS_EXCEPTION(exc)) {
        err_format(ts, EXCS(ts)->TypeError, "invalid exception object");
        return false;
    }
    if (OBJ_TYPE(exc) == EXCS(ts)->StopIteration) {
        err_format(ts, EXCS(ts)->TypeError,
                   "StopIteration interacts badly with generators and cannot be raised into a Future");
        return false;
    }
    f->exception = exc;
    f->exception_tb = AS_EXCEPTION(exc)->traceback;
    f->state = FUT_FINISHED;
    if (!schedule_callbacks(ts, self)) return false;
    f->log_tb = true;
    Value logger = module_call(ts, "asyncio.futures", "_exception_logger", &self, 1);
    if (IS_ERROR(logger)) return false;
    if (f->log_tb) f->logger = logger;
    return true;
}

static bool future_cancel(TState *ts, Value self, Value msg, bool *done) {
    ObjFuture *f = FUT(self);
    if (!clear_log_tb(ts, f)) return false;
    if (f->state != FUT_PENDING) {
        *done = false;
        return true;
    }
    f->state = FUT_CANCELLED;
    f->cancel_message = msg;
    *done = true;
    return schedule_callbacks(ts, self);
}

static bool future_add_callback(TState *ts, Value self, Value fn, Value ctx) {
    ObjFuture *f = FUT(self);
    if (!future_ready(ts, f)) return false;
    if (f->state != FUT_PENDING) return call_soon(ts, f->st, f->loop, fn, self, ctx);
    if (IS_NONE(ctx)) {
        ctx = module_call(ts, "contextvars", "copy_context", NULL, 0);
        if (IS_ERROR(ctx)) return false;
    }
    if (IS_EMPTY(f->cb0) && !f->callbacks) {
        f->cb0 = fn;
        f->ctx0 = ctx;
        return true;
    }
    vm_push(ts, ctx);
    ObjTuple *pair = tuple_pack2(ts, fn, ctx);
    bool ok = pair != NULL;
    if (ok) {
        vm_push(ts, OBJ_VAL(pair));
        if (!f->callbacks) f->callbacks = list_new(ts, 1);
        ok = f->callbacks && list_append(ts, f->callbacks, OBJ_VAL(pair)) == 0;
        vm_pop(ts);
    }
    vm_pop(ts);
    return ok;
}

static Value future_m_result(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("Future.result", 0, 0);
    return future_result(ts, args[0]);
}

static Value future_m_exception(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("Future.exception", 0, 0);
    ObjFuture *f = FUT(args[0]);
    if (f->state == FUT_CANCELLED) return raise_cancelled(ts, f);
    if (f->state != FUT_FINISHED) return raise_type(ts, aio_exc(ts, "InvalidStateError"), "Exception is not set.");
    if (!clear_log_tb(ts, f)) return ERROR_VAL;
    return f->exception;
}

static Value future_m_set_result(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("Future.set_result", 1, 1);
    return future_set_result(ts, args[0], args[1]) ? NONE_VAL : ERROR_VAL;
}

static Value future_m_set_exception(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("Future.set_exception", 1, 1);
    return future_set_exception(ts, args[0], args[1]) ? NONE_VAL : ERROR_VAL;
}

static Value future_m_cancel(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"msg"};
    Value v[1];
    if (!args_bind(ts, "cancel", args + 1, nargs - 1, kwnames, names, 1, 0, 1, v)) return ERROR_VAL;
    bool done;
    if (!future_cancel(ts, args[0], IS_EMPTY(v[0]) ? NONE_VAL : v[0], &done)) return ERROR_VAL;
    return BOOL_VAL(done);
}

static Value future_m_cancelled(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("Future.cancelled", 0, 0);
    return BOOL_VAL(FUT(args[0])->state == FUT_CANCELLED);
}

static Value future_m_done(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("Future.done", 0, 0);
    return BOOL_VAL(FUT(args[0])->state != FUT_PENDING);
}

static Value future_m_get_loop(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("Future.get_loop", 0, 0);
    return future_ready(ts, FUT(args[0])) ? FUT(args[0])->loop : ERROR_VAL;
}

static Value future_m_add_done_callback(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"$fn", "context"};
    Value v[2];
    if (nargs < 2)
        return err_format(ts, EXCS(ts)->TypeError, "add_done_callback() takes exactly 1 positional argument (0 given)");
    if (!args_bind(ts, "add_done_callback", args + 1, nargs - 1, kwnames, names, 2, 1, 1, v)) return ERROR_VAL;
    return future_add_callback(ts, args[0], v[0], IS_EMPTY(v[1]) ? NONE_VAL : v[1]) ? NONE_VAL : ERROR_VAL;
}

/* Removes every (fn, ctx) with a callback equal to fn; their count. */
static Value future_m_remove_done_callback(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("Future.remove_done_callback", 1, 1);
    ObjFuture *f = FUT(args[0]);
    size_t removed = 0;
    if (!IS_EMPTY(f->cb0)) {
        int eq = ops_equal(ts, f->cb0, args[1]);
        if (eq < 0) return ERROR_VAL;
        if (eq) {
            f->cb0 = f->ctx0 = EMPTY_VAL;
            removed++;
        }
    }
    ObjList *old = f->callbacks;
    if (!old) return INT_VAL((int64_t)removed);
    vm_push(ts, OBJ_VAL(old));
    ObjList *kept = list_new(ts, 0);
    Value r = ERROR_VAL;
    if (kept) {
        vm_push(ts, OBJ_VAL(kept));
        size_t i, n = 0;
        for (i = 0; i < list_len(old); i++) {
            Value pair = list_get(old, i);
            int eq = ops_equal(ts, AS_TUPLE(pair)->items[0], args[1]);
            if (eq < 0) break;
            if (eq) n++;
            else if (list_append(ts, kept, pair) != 0) break;
        }
        if (i == list_len(old)) {
            /* Callbacks added meanwhile (by an __eq__) stay, as CPython's. */
            if (n && f->callbacks == old) f->callbacks = list_len(kept) ? kept : NULL;
            r = INT_VAL((int64_t)(removed + n));
        }
        vm_pop(ts);
    }
    vm_pop(ts);
    return r;
}

static Value future_m_make_cancelled_error(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("Future._make_cancelled_error", 0, 0);
    return make_cancelled_error(ts, FUT(args[0]));
}

static Value future_iter_new(TState *ts, Value fut);

static Value future_m_await(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("Future.__await__", 0, 0);
    return future_iter_new(ts, args[0]);
}

static Value future_iter_slot(TState *ts, Value self) { return future_iter_new(ts, self); }

static Value future_m_repr_info(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("Future._repr_info", 0, 0);
    return module_call(ts, "asyncio.format_helpers", FUT(args[0])->is_task ? "task_repr_info" : "future_repr_info",
                       args, 1);
}

/* '<Class info...>', the info from self._repr_info(). */
static Value future_repr(TState *ts, Value self) {
    ObjStr *name = str_intern_cstr(ts, "_repr_info"), *space = str_intern_cstr(ts, " "),
           *join_name = str_intern_cstr(ts, "join");
    if (!name || !space || !join_name) return ERROR_VAL;
    Value meth = ops_getattr(ts, self, name);
    if (IS_ERROR(meth)) return meth;
    vm_push(ts, meth);
    Value info = ops_call(ts, meth, NULL, 0, NULL);
    vm_pop(ts);
    if (IS_ERROR(info)) return info;
    vm_push(ts, info);
    Value join = ops_getattr(ts, OBJ_VAL(space), join_name);
    Value text = IS_ERROR(join) ? join : ops_call(ts, join, &info, 1, NULL);
    vm_pop(ts);
    if (IS_ERROR(text)) return text;
    if (!IS_STR(text)) return err_format(ts, EXCS(ts)->TypeError, "_repr_info() must give strings");
    ObjStr *s = str_printf(ts, "<%s %s>", OBJ_TYPE(self)->name->data, AS_STR(text)->data);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static Value future_class_getitem(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__class_getitem__", nargs, kwnames, 2, 2)) return ERROR_VAL;
    return module_call(ts, "types", "GenericAlias", args, 2);
}

static const char *const state_names[] = {"PENDING", "CANCELLED", "FINISHED"};

static Value future_get_state(TState *ts, Value self) {
    ObjStr *s = str_intern_cstr(ts, state_names[FUT(self)->state]);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static Value future_get_loop(TState *ts, Value self) {
    (void)ts;
    return FUT(self)->loop;
}

static Value future_get_result(TState *ts, Value self) {
    (void)ts;
    return FUT(self)->result;
}

static Value future_get_exception(TState *ts, Value self) {
    (void)ts;
    return FUT(self)->exception;
}

static Value future_get_callbacks(TState *ts, Value self) {
    ObjFuture *f = FUT(self);
    if (IS_EMPTY(f->cb0) && !f->callbacks) return NONE_VAL;
    ObjList *all = list_new(ts, 1);
    if (!all) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(all));
    bool ok = true;
    if (!IS_EMPTY(f->cb0)) {
        ObjTuple *pair = tuple_pack2(ts, f->cb0, f->ctx0);
        ok = pair && list_append(ts, all, OBJ_VAL(pair)) == 0;
    }
    for (size_t i = 0; ok && f->callbacks && i < list_len(f->callbacks); i++)
        ok = list_append(ts, all, list_get(f->callbacks, i)) == 0;
    vm_pop(ts);
    return ok ? OBJ_VAL(all) : ERROR_VAL;
}

static Value future_get_none(TState *ts, Value self) {
    (void)ts;
    (void)self;
    return NONE_VAL;
}

static Value future_get_cancel_message(TState *ts, Value self) {
    (void)ts;
    return FUT(self)->cancel_message;
}

static int future_set_cancel_message(TState *ts, Value self, Value v) {
    if (IS_EMPTY(v)) {
        err_format(ts, EXCS(ts)->AttributeError, "cannot delete attribute");
        return -1;
    }
    FUT(self)->cancel_message = v;
    return 0;
}

static Value future_get_cancelled_exc(TState *ts, Value self) {
    (void)ts;
    return FUT(self)->cancelled_exc;
}

static int future_set_cancelled_exc(TState *ts, Value self, Value v) {
    FUT(self)->cancelled_exc = IS_EMPTY(v) ? NONE_VAL : v;
    (void)ts;
    return 0;
}

static Value future_get_blocking(TState *ts, Value self) {
    (void)ts;
    return BOOL_VAL(FUT(self)->blocking);
}

static int future_set_blocking(TState *ts, Value self, Value v) {
    if (IS_EMPTY(v)) {
        err_format(ts, EXCS(ts)->AttributeError, "cannot delete attribute");
        return -1;
    }
    int t = ops_truth(ts, v);
    if (t < 0) return -1;
    FUT(self)->blocking = t;
    return 0;
}

static Value future_get_log_tb(TState *ts, Value self) {
    (void)ts;
    return BOOL_VAL(FUT(self)->log_tb);
}

static int future_set_log_tb(TState *ts, Value self, Value v) {
    if (IS_EMPTY(v)) {
        err_format(ts, EXCS(ts)->AttributeError, "cannot delete attribute");
        return -1;
    }
    int t = ops_truth(ts, v);
    if (t < 0) return -1;
    if (t) {
        err_format(ts, EXCS(ts)->ValueError, "_log_traceback can only be set to False");
        return -1;
    }
    return clear_log_tb(ts, FUT(self)) ? 0 : -1;
}

static const NativeDef future_methods[] = {
    {"__init__", future_m_init},
    {"result", future_m_result},
    {"exception", future_m_exception},
    {"set_result", future_m_set_result},
    {"set_exception", future_m_set_exception},
    {"add_done_callback", future_m_add_done_callback},
    {"remove_done_callback", future_m_remove_done_callback},
    {"cancel", future_m_cancel},
    {"cancelled", future_m_cancelled},
    {"done", future_m_done},
    {"get_loop", future_m_get_loop},
    {"_make_cancelled_error", future_m_make_cancelled_error},
    {"_repr_info", future_m_repr_info},
    {"__await__", future_m_await},
    {"__iter__", future_m_await},
    {NULL, NULL},
};

static const NativeDef future_classmethods[] = {
    {"__class_getitem__", future_class_getitem},
    {NULL, NULL},
};

static const GetSetDef future_getsets[] = {
    {"_state", future_get_state, NULL},
    {"_loop", future_get_loop, NULL},
    {"_result", future_get_result, NULL},
    {"_exception", future_get_exception, NULL},
    {"_callbacks", future_get_callbacks, NULL},
    {"_source_traceback", future_get_none, NULL},
    {"_cancel_message", future_get_cancel_message, future_set_cancel_message},
    {"_cancelled_exc", future_get_cancelled_exc, future_set_cancelled_exc},
    {"_asyncio_future_blocking", future_get_blocking, future_set_blocking},
    {"_log_traceback", future_get_log_tb, future_set_log_tb},
    {NULL, NULL, NULL},
};

static const TypeSpec future_spec = {
    .name = "Future",
    .kind = OBJ_OPAQUE,
    .flags = TYPEF_BASETYPE,
    .obj_size = future_size,
    .new_ = future_new,
    .repr = future_repr,
    .iter = future_iter_slot,
    .trace = future_trace,
    .methods = future_methods,
    .classmethods = future_classmethods,
    .getsets = future_getsets,
};

/* ---- FutureIter ----------------------------------------------------------------- */

static void future_iter_trace(GcMarker *m, Obj *self) { gc_mark_value(m, ((ObjFutureIter *)self)->fut); }

static size_t future_iter_size(Obj *self) {
    (void)self;
    return sizeof(ObjFutureIter);
}

static Value future_iter_new(TState *ts, Value fut) {
    ObjFutureIter *it = (ObjFutureIter *)gc_alloc(ts, sizeof(ObjFutureIter), OBJ_OPAQUE, FUT(fut)->st->future_iter);
    if (!it) return ERROR_VAL;
    it->fut = fut;
    return OBJ_VAL(it);
}

/* The future itself while it is pending (the first time, as the sign to
 * wait), then StopIteration with its result. */
static Value future_iter_next(TState *ts, Value self) {
    ObjFutureIter *it = (ObjFutureIter *)AS_OBJ(self);
    Value fut = it->fut;
    if (IS_NONE(fut)) return EMPTY_VAL;
    ObjFuture *f = FUT(fut);
    if (f->state == FUT_PENDING) {
        if (!f->blocking) {
            f->blocking = true;
            return fut;
        }
        return err_format(ts, EXCS(ts)->RuntimeError, "await wasn't used with future");
    }
    it->fut = NONE_VAL;
    vm_push(ts, fut);
    Value r = future_result(ts, fut);
    vm_pop(ts);
    if (IS_ERROR(r)) return r;
    /* Exhausted with None needs no StopIteration: `await fut` reads the
     * end of the iterator as None. */
    return IS_NONE(r) ? EMPTY_VAL : generator_stop_iteration(ts, r);
}

static Value future_iter_self(TState *ts, Value self) {
    (void)ts;
    return self;
}

static Value future_iter_m_send(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "send", nargs, kwnames, 2, 2)) return ERROR_VAL;
    Value r = future_iter_next(ts, args[0]);
    return IS_EMPTY(r) ? generator_stop_iteration(ts, NONE_VAL) : r;
}

/* throw(exc): the iterator is done, and the exception goes on to the
 * awaiting coroutine. */
static Value future_iter_m_throw(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "throw", nargs, kwnames, 2, 4)) return ERROR_VAL;
    Value exc = generator_throw_exception(ts, args + 1, nargs - 1);
    if (IS_ERROR(exc)) return exc;
    ((ObjFutureIter *)AS_OBJ(args[0]))->fut = NONE_VAL;
    return err_raise(ts, exc);
}

static Value future_iter_m_close(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "close", nargs, kwnames, 1, 1)) return ERROR_VAL;
    ((ObjFutureIter *)AS_OBJ(args[0]))->fut = NONE_VAL;
    return NONE_VAL;
}

static const NativeDef future_iter_methods[] = {
    {"send", future_iter_m_send},
    {"throw", future_iter_m_throw},
    {"close", future_iter_m_close},
    {NULL, NULL},
};

static const TypeSpec future_iter_spec = {
    .name = "FutureIter",
    .kind = OBJ_OPAQUE,
    .obj_size = future_iter_size,
    .iter = future_iter_self,
    .next = future_iter_next,
    .trace = future_iter_trace,
    .methods = future_iter_methods,
};

/* ---- current task per loop ------------------------------------------------------ */

static ObjDict *current_tasks(TState *ts) {
    AioState *st = state_get(ts);
    return st ? st->current_tasks : NULL;
}

static bool enter_task(TState *ts, ObjDict *cur, Value loop, Value task) {
    Value other = dict_get(ts, cur, loop);
    if (IS_ERROR(other)) return false;
    if (!IS_EMPTY(other)) {
        Value a = ops_repr(ts, task);
        if (IS_ERROR(a)) return false;
        vm_push(ts, a);
        Value b = ops_repr(ts, other);
        vm_pop(ts);
        if (IS_ERROR(b)) return false;
        err_format(ts, EXCS(ts)->RuntimeError, "Cannot enter into task %s while another task %s is being executed.",
                   AS_STR(a)->data, AS_STR(b)->data);
        return false;
    }
    return dict_set(ts, cur, loop, task) == 0;
}

static bool leave_task(TState *ts, ObjDict *cur, Value loop, Value task) {
    Value other = dict_get(ts, cur, loop);
    if (IS_ERROR(other)) return false;
    if (other != task) {
        Value a = ops_repr(ts, task);
        if (IS_ERROR(a)) return false;
        vm_push(ts, a);
        Value b = ops_repr(ts, IS_EMPTY(other) ? NONE_VAL : other);
        vm_pop(ts);
        if (IS_ERROR(b)) return false;
        err_format(ts, EXCS(ts)->RuntimeError, "Leaving task %s does not match the current task %s.",
                   AS_STR(a)->data, AS_STR(b)->data);
        return false;
    }
    return dict_delete(ts, cur, loop) >= 0;
}

static Value aio_enter_task(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "_enter_task", nargs, kwnames, 2, 2)) return ERROR_VAL;
    ObjDict *cur = current_tasks(ts);
    return cur && enter_task(ts, cur, args[0], args[1]) ? NONE_VAL : ERROR_VAL;
}

static Value aio_leave_task(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "_leave_task", nargs, kwnames, 2, 2)) return ERROR_VAL;
    ObjDict *cur = current_tasks(ts);
    return cur && leave_task(ts, cur, args[0], args[1]) ? NONE_VAL : ERROR_VAL;
}

/* ---- Task ----------------------------------------------------------------------- */

static void task_trace(GcMarker *m, Obj *self) {
    ObjTask *t = (ObjTask *)self;
    future_trace_fields(m, &t->fut);
    gc_mark_value(m, t->coro);
    gc_mark_value(m, t->context);
    gc_mark_value(m, t->name);
    gc_mark_value(m, t->fut_waiter);
    gc_mark_value(m, t->step);
    gc_mark_value(m, t->wakeup);
}

static size_t task_size(Obj *self) {
    (void)self;
    return sizeof(ObjTask);
}

static void task_meth_trace(GcMarker *m, Obj *self) {
    ObjTaskMeth *w = (ObjTaskMeth *)self;
    gc_mark_value(m, w->task);
    gc_mark_value(m, w->arg);
}

static size_t task_meth_size(Obj *self) {
    (void)self;
    return sizeof(ObjTaskMeth);
}

static Value task_meth_new(TState *ts, ObjType *type, Value task, Value arg) {
    ObjTaskMeth *w = (ObjTaskMeth *)gc_alloc(ts, sizeof(ObjTaskMeth), OBJ_OPAQUE, type);
    if (!w) return ERROR_VAL;
    w->task = task;
    w->arg = arg;
    return OBJ_VAL(w);
}

/* Schedules the task's next step: with exc thrown into the coroutine, or
 * (exc EMPTY) sending None. */
static bool schedule_step(TState *ts, Value self, Value exc) {
    ObjTask *t = TASK(self);
    Value step = t->step;
    if (!IS_EMPTY(exc)) {
        step = task_meth_new(ts, t->fut.st->step_type, self, exc);
        if (IS_ERROR(step)) return false;
    }
    vm_push(ts, step);
    bool ok = call_soon(ts, t->fut.st, t->fut.loop, step, EMPTY_VAL, t->context);
    vm_pop(ts);
    return ok;
}

static bool is_coroutine(TState *ts, Value coro, int *out) {
    if (IS_GENERATOR(coro) && generator_is_coroutine(AS_GENERATOR(coro))) {
        *out = 1;
        return true;
    }
    Value r = module_call(ts, "asyncio.coroutines", "iscoroutine", &coro, 1);
    if (IS_ERROR(r)) return false;
    *out = ops_truth(ts, r);
    return *out >= 0;
}

static bool task_init_args(TState *ts, Value self, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"coro", "loop", "name", "context"};
    Value v[4];
    if (!args_bind(ts, "Task", args, nargs, kwnames, names, 4, 1, 1, v)) return false;
    ObjTask *t = TASK(self);
    if (!future_init(ts, &t->fut, v[1])) return false;
    int is_coro;
    if (!is_coroutine(ts, v[0], &is_coro)) return false;
    if (!is_coro) {
        t->log_destroy_pending = false;
        Value r = ops_repr(ts, v[0]);
        if (IS_ERROR(r)) return false;
        err_format(ts, EXCS(ts)->TypeError, "a coroutine was expected, got %s", AS_STR(r)->data);
        return false;
    }
    Value name = v[2];
    if (IS_EMPTY(name) || IS_NONE(name)) {
        Value n = module_call(ts, "asyncio.tasks", "_task_name_counter", NULL, 0);
        if (IS_ERROR(n)) return false;
        vm_push(ts, n);
        Value s = ops_str(ts, n);
        vm_pop(ts);
        if (IS_ERROR(s)) return false;
        ObjStr *full = str_printf(ts, "Task-%s", AS_STR(s)->data);
        if (!full) return false;
        name = OBJ_VAL(full);
    } else if (!IS_STR(name)) {
        name = ops_str(ts, name);
        if (IS_ERROR(name)) return false;
    }
    t->name = name;
    t->num_cancels_requested = 0;
    t->must_cancel = false;
    t->fut_waiter = NONE_VAL;
    t->coro = v[0];
    Value ctx = v[3];
    if (IS_EMPTY(ctx) || IS_NONE(ctx)) {
        ctx = module_call(ts, "contextvars", "copy_context", NULL, 0);
        if (IS_ERROR(ctx)) return false;
    }
    t->context = ctx;
    t->step = task_meth_new(ts, t->fut.st->step_type, self, EMPTY_VAL);
    if (IS_ERROR(t->step)) return false;
    t->wakeup = task_meth_new(ts, t->fut.st->wakeup_type, self, EMPTY_VAL);
    if (IS_ERROR(t->wakeup)) return false;
    if (!call_soon(ts, t->fut.st, t->fut.loop, t->step, EMPTY_VAL, t->context)) return false;
    return !IS_ERROR(module_call(ts, "asyncio.tasks", "_register_task", &self, 1));
}

static Value task_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    bool consumes = IS_FUNCTION(type_lookup(type, ts->interp->names.init));
    ObjTask *t = (ObjTask *)future_alloc(ts, type, sizeof(ObjTask), true);
    if (!t) return ERROR_VAL;
    t->coro = t->context = t->name = t->fut_waiter = NONE_VAL;
    t->step = t->wakeup = NONE_VAL;
    t->num_cancels_requested = 0;
    t->must_cancel = false;
    t->log_destroy_pending = true;
    if (consumes) return OBJ_VAL(t);
    vm_push(ts, OBJ_VAL(t));
    bool ok = task_init_args(ts, OBJ_VAL(t), args, nargs, kwnames);
    vm_pop(ts);
    return ok ? OBJ_VAL(t) : ERROR_VAL;
}

static Value task_m_init(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return task_init_args(ts, args[0], args + 1, nargs - 1, kwnames) ? NONE_VAL : ERROR_VAL;
}

static Value task_step_error(TState *ts, Value self, const char *fmt, Value a, Value b) {
    Value ra = ops_repr(ts, a);
    if (IS_ERROR(ra)) return ra;
    vm_push(ts, ra);
    Value rb = IS_EMPTY(b) ? NONE_VAL : ops_repr(ts, b);
    vm_pop(ts);
    if (IS_ERROR(rb)) return rb;
    ObjStr *msg = IS_EMPTY(b) ? str_printf(ts, fmt, AS_STR(ra)->data) : str_printf(ts, fmt, AS_STR(ra)->data, AS_STR(rb)->data);
    if (!msg) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(msg));
    Value argv[1] = {OBJ_VAL(msg)};
    Value exc = exc_new(ts, EXCS(ts)->RuntimeError, argv, 1);
    vm_pop(ts);
    if (IS_ERROR(exc)) return exc;
    return schedule_step(ts, self, exc) ? NONE_VAL : ERROR_VAL;
}

/* What the coroutine yielded: a future to wait on, None (run again
 * soon), or a mistake, reported by throwing RuntimeError in next step. */
static Value task_handle_yield(TState *ts, Value self, Value result) {
    ObjTask *t = TASK(self);
    AioState *st = t->fut.st;
    Value loop = t->fut.loop;
    int blocking = -1; /* -1: no _asyncio_future_blocking */
    bool c_future = is_future(ts, result);
    Value result_loop;
    if (c_future) {
        blocking = FUT(result)->blocking;
        result_loop = FUT(result)->loop;
    } else if (!IS_NONE(result)) {
        Value b = ops_getattr_opt(ts, result, st->blocking);
        if (IS_ERROR(b)) return b;
        if (!IS_EMPTY(b) && !IS_NONE(b)) {
            blocking = ops_truth(ts, b);
            if (blocking < 0) return ERROR_VAL;
        }
    }
    if (blocking >= 0) {
        if (!c_future) {
            result_loop = module_call(ts, "asyncio.futures", "_get_loop", &result, 1);
            if (IS_ERROR(result_loop)) return result_loop;
        }
        if (result_loop != loop)
            return task_step_error(ts, self, "Task %s got Future %s attached to a different loop", self, result);
        if (!blocking)
            return task_step_error(ts, self, "yield was used instead of yield from in task %s with %s", self, result);
        if (result == self) return task_step_error(ts, self, "Task cannot await on itself: %s", self, EMPTY_VAL);
        if (c_future && OBJ_TYPE(result)->new_ == future_new && !(OBJ_TYPE(result)->flags & TYPEF_HEAPTYPE)) {
            FUT(result)->blocking = false;
            if (!future_add_callback(ts, result, t->wakeup, t->context)) return ERROR_VAL;
        } else {
            if (ops_setattr(ts, result, st->blocking, FALSE_VAL) != 0) return ERROR_VAL;
            Value argv[2] = {t->wakeup, t->context};
            Value r = call_method(ts, result, st->add_done_callback, argv, 1, st->kw_context);
            if (IS_ERROR(r)) return r;
        }
        t->fut_waiter = result;
        if (t->must_cancel) {
            Value r = call_method(ts, result, st->cancel, &t->fut.cancel_message, 0, st->kw_msg);
            if (IS_ERROR(r)) return r;
            int yes = ops_truth(ts, r);
            if (yes < 0) return ERROR_VAL;
            if (yes) t->must_cancel = false;
        }
        return NONE_VAL;
    }
    if (IS_NONE(result)) return schedule_step(ts, self, EMPTY_VAL) ? NONE_VAL : ERROR_VAL;
    if (IS_GENERATOR(result) && !generator_is_coroutine(AS_GENERATOR(result)) && !generator_is_async(AS_GENERATOR(result)))
        return task_step_error(ts, self, "yield was used instead of yield from for generator in task %s with %s", self,
                               result);
    return task_step_error(ts, self, "Task got bad yield: %s", result, EMPTY_VAL);
}

/* Sends None into the coroutine (exc EMPTY) or throws exc into it. */
static Value coro_step(TState *ts, AioState *st, Value coro, Value exc, Value *result) {
    if (IS_GENERATOR(coro)) {
        if (IS_EMPTY(exc)) return generator_resume(ts, AS_GENERATOR(coro), NONE_VAL, result);
        return generator_throw_into(ts, AS_GENERATOR(coro), exc, &exc, 1, result);
    }
    Value arg = IS_EMPTY(exc) ? NONE_VAL : exc;
    Value v = call_method(ts, coro, IS_EMPTY(exc) ? st->send : st->throw_, &arg, 1, NULL);
    if (IS_ERROR(v) && err_matches(ts, EXCS(ts)->StopIteration)) {
        Value stop = err_fetch(ts);
        Value a = AS_EXCEPTION(stop)->args;
        *result = IS_TUPLE(a) && AS_TUPLE(a)->len ? AS_TUPLE(a)->items[0] : NONE_VAL;
        return EMPTY_VAL;
    }
    return v;
}

/* One step of the task (Task.__step): exc EMPTY or None sends None. */
static Value task_step(TState *ts, Value self, Value exc) {
    ObjTask *t = TASK(self);
    if (t->fut.state != FUT_PENDING) {
        Value a = ops_repr(ts, self);
        if (IS_ERROR(a)) return a;
        vm_push(ts, a);
        Value b = ops_repr(ts, IS_EMPTY(exc) ? NONE_VAL : exc);
        vm_pop(ts);
        if (IS_ERROR(b)) return b;
        ObjType *ise = aio_exc(ts, "InvalidStateError");
        if (!ise) return ERROR_VAL;
        return err_format(ts, ise, "_step(): already done: %s, %s", AS_STR(a)->data, AS_STR(b)->data);
    }
    if (IS_NONE(exc)) exc = EMPTY_VAL;
    if (t->must_cancel) {
        ObjType *ce = aio_exc(ts, "CancelledError");
        if (!ce) return ERROR_VAL;
        if (IS_EMPTY(exc) || !ops_isinstance(ts, exc, ce)) {
            exc = make_cancelled_error(ts, &t->fut);
            if (IS_ERROR(exc)) return exc;
        }
        t->must_cancel = false;
    }
    vm_push(ts, IS_EMPTY(exc) ? NONE_VAL : exc);
    t->fut_waiter = NONE_VAL;
    Value loop = t->fut.loop;
    ObjDict *cur = t->fut.st->current_tasks;
    Value r = ERROR_VAL;
    if (enter_task(ts, cur, loop, self)) {
        Value result = NONE_VAL;
        Value v = coro_step(ts, t->fut.st, t->coro, exc, &result);
        if (IS_EMPTY(v)) {
            if (t->must_cancel) {
                /* Cancelled right before the coroutine returned. */
                t->must_cancel = false;
                bool done;
                r = future_cancel(ts, self, t->fut.cancel_message, &done) ? NONE_VAL : ERROR_VAL;
            } else {
                r = future_set_result(ts, self, result) ? NONE_VAL : ERROR_VAL;
            }
        } else if (IS_ERROR(v)) {
            Value e = err_fetch(ts);
            vm_push(ts, e);
            ObjType *ce = aio_exc(ts, "CancelledError");
            if (!ce) {
                r = ERROR_VAL;
            } else if (ops_isinstance(ts, e, ce)) {
                /* Kept to be chained to the CancelledError result() raises. */
                t->fut.cancelled_exc = e;
                bool done;
                r = future_cancel(ts, self, NONE_VAL, &done) ? NONE_VAL : ERROR_VAL;
            } else {
                r = future_set_exception(ts, self, e) ? NONE_VAL : ERROR_VAL;
                if (!IS_ERROR(r) && (ops_isinstance(ts, e, EXCS(ts)->KeyboardInterrupt) ||
                                     ops_isinstance(ts, e, EXCS(ts)->SystemExit)))
                    r = err_raise(ts, e);
            }
            vm_pop(ts);
        } else {
            vm_push(ts, v);
            r = task_handle_yield(ts, self, v);
            vm_pop(ts);
        }
        Value pending = IS_ERROR(r) ? err_fetch(ts) : EMPTY_VAL;
        vm_push(ts, IS_EMPTY(pending) ? NONE_VAL : pending);
        bool left = leave_task(ts, cur, loop, self);
        vm_pop(ts);
        if (!IS_EMPTY(pending)) {
            if (left) err_restore(ts, pending);
            r = ERROR_VAL;
        } else if (!left) {
            r = ERROR_VAL;
        }
    }
    vm_pop(ts);
    return r;
}

static Value task_wakeup(TState *ts, Value self, Value fut) {
    Value r;
    if (is_future(ts, fut)) {
        r = future_result(ts, fut);
    } else {
        r = call_method(ts, fut, TASK(self)->fut.st->result, NULL, 0, NULL);
    }
    if (!IS_ERROR(r)) return task_step(ts, self, EMPTY_VAL);
    /* Thrown into the coroutine: it may be a cancellation too. */
    Value exc = err_fetch(ts);
    vm_push(ts, exc);
    r = task_step(ts, self, exc);
    vm_pop(ts);
    return r;
}

static Value task_step_call(TState *ts, Value self, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "TaskStepMethWrapper", nargs, kwnames, 0, 0)) return ERROR_VAL;
    ObjTaskMeth *w = (ObjTaskMeth *)AS_OBJ(self);
    return task_step(ts, w->task, w->arg);
}

static Value task_wakeup_call(TState *ts, Value self, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "task_wakeup", nargs, kwnames, 1, 1)) return ERROR_VAL;
    return task_wakeup(ts, ((ObjTaskMeth *)AS_OBJ(self))->task, args[0]);
}

static Value task_meth_self(TState *ts, Value self) {
    (void)ts;
    return ((ObjTaskMeth *)AS_OBJ(self))->task;
}

/* The step shows as CPython's TaskStepMethWrapper, the wakeup as its
 * bound method Task.task_wakeup (in a future's callbacks). */
static Value task_step_repr(TState *ts, Value self) {
    ObjStr *s = str_printf(ts, "<TaskStepMethWrapper object at %p>", (void *)AS_OBJ(self));
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static Value task_wakeup_repr(TState *ts, Value self) {
    ObjStr *s = str_printf(ts, "<built-in method task_wakeup of %s object at %p>",
                           ops_tp_name(ts, val_type(ts, ((ObjTaskMeth *)AS_OBJ(self))->task)),
                           (void *)AS_OBJ(((ObjTaskMeth *)AS_OBJ(self))->task));
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static Value task_wakeup_name(TState *ts, Value self) {
    (void)self;
    ObjStr *s = str_intern_cstr(ts, "task_wakeup");
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static Value task_wakeup_qualname(TState *ts, Value self) {
    (void)self;
    ObjStr *s = str_intern_cstr(ts, "Task.task_wakeup");
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static const GetSetDef task_step_getsets[] = {
    {"__self__", task_meth_self, NULL},
    {NULL, NULL, NULL},
};

static const GetSetDef task_wakeup_getsets[] = {
    {"__self__", task_meth_self, NULL},
    {"__name__", task_wakeup_name, NULL},
    {"__qualname__", task_wakeup_qualname, NULL},
    {NULL, NULL, NULL},
};

static const TypeSpec task_step_spec = {
    .name = "TaskStepMethWrapper",
    .kind = OBJ_OPAQUE,
    .obj_size = task_meth_size,
    .repr = task_step_repr,
    .call = task_step_call,
    .trace = task_meth_trace,
    .getsets = task_step_getsets,
};

static const TypeSpec task_wakeup_spec = {
    .name = "TaskWakeupMethWrapper",
    .kind = OBJ_OPAQUE,
    .obj_size = task_meth_size,
    .repr = task_wakeup_repr,
    .call = task_wakeup_call,
    .trace = task_meth_trace,
    .getsets = task_wakeup_getsets,
};

static Value task_m_cancel(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"msg"};
    Value v[1];
    if (!args_bind(ts, "cancel", args + 1, nargs - 1, kwnames, names, 1, 0, 1, v)) return ERROR_VAL;
    Value msg = IS_EMPTY(v[0]) ? NONE_VAL : v[0];
    ObjTask *t = TASK(args[0]);
    if (!clear_log_tb(ts, &t->fut)) return ERROR_VAL;
    if (t->fut.state != FUT_PENDING) return FALSE_VAL;
    t->num_cancels_requested++;
    if (!IS_NONE(t->fut_waiter)) {
        Value r = call_method(ts, t->fut_waiter, t->fut.st->cancel, &msg, 0, t->fut.st->kw_msg);
        if (IS_ERROR(r)) return r;
        int yes = ops_truth(ts, r);
        if (yes < 0) return ERROR_VAL;
        /* The waiter stays: it may be a task that ignores the
         * cancellation, to be cancelled again later. */
        if (yes) return TRUE_VAL;
    }
    t->must_cancel = true;
    t->fut.cancel_message = msg;
    return TRUE_VAL;
}

static Value task_m_cancelling(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("Task.cancelling", 0, 0);
    return INT_VAL(TASK(args[0])->num_cancels_requested);
}

static Value task_m_uncancel(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("Task.uncancel", 0, 0);
    ObjTask *t = TASK(args[0]);
    if (t->num_cancels_requested > 0) t->num_cancels_requested--;
    return INT_VAL(t->num_cancels_requested);
}

static Value task_m_get_coro(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("Task.get_coro", 0, 0);
    return TASK(args[0])->coro;
}

static Value task_m_get_name(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("Task.get_name", 0, 0);
    return TASK(args[0])->name;
}

static Value task_m_set_name(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("Task.set_name", 1, 1);
    Value s = IS_STR(args[1]) ? args[1] : ops_str(ts, args[1]);
    if (IS_ERROR(s)) return s;
    TASK(args[0])->name = s;
    return NONE_VAL;
}

static Value task_m_set_result(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("Task.set_result", 1, 1);
    return err_format(ts, EXCS(ts)->RuntimeError, "Task does not support set_result operation");
}

static Value task_m_set_exception(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("Task.set_exception", 1, 1);
    return err_format(ts, EXCS(ts)->RuntimeError, "Task does not support set_exception operation");
}

/* get_stack and print_stack: asyncio.tasks' helpers, as CPython's call
 * asyncio.base_tasks'. */
static Value task_m_get_stack(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"limit"};
    Value v[2] = {args[0], NONE_VAL};
    if (!args_bind(ts, "get_stack", args + 1, nargs - 1, kwnames, names, 1, 0, 0, v + 1)) return ERROR_VAL;
    if (IS_EMPTY(v[1])) v[1] = NONE_VAL;
    return module_call(ts, "asyncio.tasks", "_task_get_stack", v, 2);
}

static Value task_m_print_stack(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"limit", "file"};
    Value v[3] = {args[0], NONE_VAL, NONE_VAL};
    if (!args_bind(ts, "print_stack", args + 1, nargs - 1, kwnames, names, 2, 0, 0, v + 1)) return ERROR_VAL;
    for (int i = 1; i < 3; i++)
        if (IS_EMPTY(v[i])) v[i] = NONE_VAL;
    return module_call(ts, "asyncio.tasks", "_task_print_stack", v, 3);
}

static Value task_get_coro(TState *ts, Value self) {
    (void)ts;
    return TASK(self)->coro;
}

static Value task_get_context(TState *ts, Value self) {
    (void)ts;
    return TASK(self)->context;
}

static Value task_get_fut_waiter(TState *ts, Value self) {
    (void)ts;
    return TASK(self)->fut_waiter;
}

static Value task_get_must_cancel(TState *ts, Value self) {
    (void)ts;
    return BOOL_VAL(TASK(self)->must_cancel);
}

static Value task_get_num_cancels(TState *ts, Value self) {
    (void)ts;
    return INT_VAL(TASK(self)->num_cancels_requested);
}

static Value task_get_log_destroy_pending(TState *ts, Value self) {
    (void)ts;
    return BOOL_VAL(TASK(self)->log_destroy_pending);
}

static int task_set_log_destroy_pending(TState *ts, Value self, Value v) {
    if (IS_EMPTY(v)) {
        err_format(ts, EXCS(ts)->AttributeError, "can't delete attribute");
        return -1;
    }
    int t = ops_truth(ts, v);
    if (t < 0) return -1;
    TASK(self)->log_destroy_pending = t;
    return 0;
}

static const NativeDef task_methods[] = {
    {"__init__", task_m_init},
    {"cancel", task_m_cancel},
    {"cancelling", task_m_cancelling},
    {"uncancel", task_m_uncancel},
    {"get_coro", task_m_get_coro},
    {"get_name", task_m_get_name},
    {"set_name", task_m_set_name},
    {"set_result", task_m_set_result},
    {"set_exception", task_m_set_exception},
    {"get_stack", task_m_get_stack},
    {"print_stack", task_m_print_stack},
    {NULL, NULL},
};

static const GetSetDef task_getsets[] = {
    {"_coro", task_get_coro, NULL},
    {"_context", task_get_context, NULL},
    {"_fut_waiter", task_get_fut_waiter, NULL},
    {"_must_cancel", task_get_must_cancel, NULL},
    {"_num_cancels_requested", task_get_num_cancels, NULL},
    {"_log_destroy_pending", task_get_log_destroy_pending, task_set_log_destroy_pending},
    {NULL, NULL, NULL},
};

static const TypeSpec task_spec = {
    .name = "Task",
    .kind = OBJ_OPAQUE,
    .flags = TYPEF_BASETYPE,
    .obj_size = task_size,
    .new_ = task_new,
    .repr = future_repr,
    .iter = future_iter_slot,
    .trace = task_trace,
    .methods = task_methods,
    .getsets = task_getsets,
};

/* ---- module --------------------------------------------------------------------- */

static const NativeDef aio_functions[] = {
    {"_enter_task", aio_enter_task},
    {"_leave_task", aio_leave_task},
    {NULL, NULL},
};

static ObjType *add_type(TState *ts, ObjDict *ns, const TypeSpec *spec, ObjType *base) {
    ObjType *t = type_from_spec(ts, spec, base);
    if (!t) return NULL;
    t->module = OBJ_VAL(str_intern_cstr(ts, "_asyncio"));
    return dict_set_str(ts, ns, t->name, OBJ_VAL(t)) == 0 ? t : NULL;
}

static ObjTuple *kwnames1(TState *ts, const char *name) {
    ObjStr *s = str_intern_cstr(ts, name);
    ObjTuple *t = s ? tuple_new(ts, 1) : NULL;
    if (t) t->items[0] = OBJ_VAL(s);
    return t;
}

/* The state first, in the module's dict (which roots it), then filled:
 * every allocation may collect. */
bool mod_asyncio_init(TState *ts, ObjDict *ns) {
    ObjType *state_type = type_from_spec(ts, &state_spec, NULL);
    if (!state_type) return false;
    vm_push(ts, OBJ_VAL(state_type));
    AioState *st = (AioState *)gc_alloc(ts, sizeof(AioState), OBJ_OPAQUE, state_type);
    vm_pop(ts);
    if (!st) return false;
    memset((char *)st + sizeof(Obj), 0, sizeof(AioState) - sizeof(Obj));
    ObjStr *state_name = str_intern_cstr(ts, "_state"), *tasks_name = str_intern_cstr(ts, "_current_tasks");
    if (!state_name || !tasks_name || dict_set_str(ts, ns, state_name, OBJ_VAL(st)) != 0) return false;
    ObjType *future = add_type(ts, ns, &future_spec, NULL);
    if (!future || !add_type(ts, ns, &task_spec, future) || !builtins_add_natives(ts, ns, aio_functions) ||
        !(st->future_iter = add_type(ts, ns, &future_iter_spec, NULL)) ||
        !(st->step_type = add_type(ts, ns, &task_step_spec, NULL)) ||
        !(st->wakeup_type = add_type(ts, ns, &task_wakeup_spec, NULL)) || !(st->current_tasks = dict_new(ts)) ||
        dict_set_str(ts, ns, tasks_name, OBJ_VAL(st->current_tasks)) != 0 ||
        !(st->kw_context = kwnames1(ts, "context")) || !(st->kw_msg = kwnames1(ts, "msg")))
        return false;
    return (st->call_soon = str_intern_cstr(ts, "call_soon")) && (st->blocking = str_intern_cstr(ts, "_asyncio_future_blocking")) &&
           (st->add_done_callback = str_intern_cstr(ts, "add_done_callback")) &&
           (st->cancel = str_intern_cstr(ts, "cancel")) && (st->result = str_intern_cstr(ts, "result")) &&
           (st->send = str_intern_cstr(ts, "send")) && (st->throw_ = str_intern_cstr(ts, "throw"));
}
