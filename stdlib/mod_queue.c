/* The _queue module: SimpleQueue and Empty, as CPython's C module of the
 * same name. SimpleQueue is the thread pool's work queue, so its put and
 * get are on the path of every task: written in mini (a lock and a
 * semaphore over a deque) a put+get took several times CPython's.
 *
 * Items sit in a ring buffer guarded by a mutex. A getter that finds the
 * queue empty waits detached (the GIL released) until it is not, then
 * takes the item only after attaching again: a value held in a C local
 * while detached is no root, and a collection could free it. */

#include <pthread.h>
#include <stdlib.h>

#include "runtime/args.h"
#include "runtime/class.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/function.h"
#include "runtime/generic.h"
#include "runtime/module.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "stdlib/modules.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/sync.h"
#include "vm/thread.h"
#include "vm/vm.h"

typedef struct ObjSimpleQueue {
    Obj obj;
    pthread_mutex_t mutex;
    pthread_cond_t nonempty;
    Value *items; /* ring buffer: count items from head */
    size_t head, count, capacity;
    ObjType *empty; /* _queue.Empty, raised by get */
    TState *putter; /* the last putter, for TState.woken_by; guarded by mutex */
} ObjSimpleQueue;

static void queue_trace(GcMarker *m, Obj *self) {
    ObjSimpleQueue *q = (ObjSimpleQueue *)self;
    for (size_t i = 0; i < q->count; i++) gc_mark_value(m, q->items[(q->head + i) % q->capacity]);
    gc_mark_obj(m, (Obj *)q->empty);
}

static void queue_finalize(Obj *self) {
    ObjSimpleQueue *q = (ObjSimpleQueue *)self;
    pthread_mutex_destroy(&q->mutex);
    pthread_cond_destroy(&q->nonempty);
    free(q->items);
}

static void queue_after_fork(Obj *self) {
    ObjSimpleQueue *q = (ObjSimpleQueue *)self;
    PT_CHECK(pthread_mutex_init(&q->mutex, NULL));
    sync_cond_init(&q->nonempty);
}

static Value queue_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    (void)args;
    if (kwnames && kwnames->len > 0)
        return err_format(ts, ts->interp->exc.TypeError, "SimpleQueue() takes no keyword arguments");
    if (nargs > 0) return err_format(ts, ts->interp->exc.TypeError, "SimpleQueue() takes no positional arguments");
    ObjType *empty = module_type(ts, "_queue", "Empty");
    if (!empty) return ERROR_VAL;
    ObjSimpleQueue *q = (ObjSimpleQueue *)gc_alloc(ts, sizeof(ObjSimpleQueue), OBJ_OPAQUE, type);
    if (!q) return ERROR_VAL;
    PT_CHECK(pthread_mutex_init(&q->mutex, NULL));
    sync_cond_init(&q->nonempty);
    q->items = NULL;
    q->head = q->count = q->capacity = 0;
    q->empty = empty;
    q->putter = NULL;
    return OBJ_VAL(q);
}

/* Called attached, with the mutex held. */
static bool queue_grow(ObjSimpleQueue *q) {
    size_t capacity = q->capacity ? q->capacity * 2 : 8;
    Value *items = malloc(capacity * sizeof *items);
    if (!items) return false;
    for (size_t i = 0; i < q->count; i++) items[i] = q->items[(q->head + i) % q->capacity];
    free(q->items);
    q->items = items;
    q->head = 0;
    q->capacity = capacity;
    return true;
}

/* put(item, block=True, timeout=None): never blocks (no maxsize). */
static Value queue_put(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"$self", "item", "block", "timeout"};
    Value v[4];
    if (!args_bind(ts, "put", args, nargs, kwnames, names, 4, 2, 4, v)) return ERROR_VAL;
    ObjSimpleQueue *q = (ObjSimpleQueue *)AS_OBJ(v[0]);
    MUTEX_LOCK(&q->mutex);
    bool ok = q->count < q->capacity || queue_grow(q);
    if (ok) {
        q->items[(q->head + q->count) % q->capacity] = v[1];
        q->count++;
        q->putter = ts;
        COND_SIGNAL(&q->nonempty);
    }
    MUTEX_UNLOCK(&q->mutex);
    return ok ? NONE_VAL : err_no_memory(ts);
}

typedef struct QueueWait {
    ObjSimpleQueue *queue;
    TState *waiter;
} QueueWait;

/* Waits detached until the queue has an item (see ThreadWaitStep). */
static int nonempty_step(void *ctx, const struct timespec *until) {
    QueueWait *w = ctx;
    ObjSimpleQueue *q = w->queue;
    MUTEX_LOCK(&q->mutex);
    while (q->count == 0 && sync_cond_wait_until(&q->nonempty, &q->mutex, until)) {}
    bool ready = q->count > 0;
    if (ready) w->waiter->woken_by = q->putter;
    MUTEX_UNLOCK(&q->mutex);
    return ready;
}

static bool queue_pop(ObjSimpleQueue *q, Value *out) {
    MUTEX_LOCK(&q->mutex);
    bool got = q->count > 0;
    if (got) {
        *out = q->items[q->head];
        q->head = (q->head + 1) % q->capacity;
        q->count--;
    }
    MUTEX_UNLOCK(&q->mutex);
    return got;
}

/* get(block=True, timeout=None), CPython's argument rules. */
static Value queue_get(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"$self", "block", "timeout"};
    Value v[3];
    if (!args_bind(ts, "get", args, nargs, kwnames, names, 3, 1, 3, v)) return ERROR_VAL;
    ObjSimpleQueue *q = (ObjSimpleQueue *)AS_OBJ(v[0]);
    int block = 1;
    if (!IS_EMPTY(v[1]) && (block = ops_truth(ts, v[1])) < 0) return ERROR_VAL;
    double timeout = -1;
    if (block && !IS_EMPTY(v[2]) && !IS_NONE(v[2])) {
        if (!args_float(ts, v[2], &timeout)) return ERROR_VAL;
        if (timeout < 0) return err_format(ts, ts->interp->exc.ValueError, "'timeout' must be a non-negative number");
    }
    struct timespec deadline = sync_deadline(timeout < 0 ? 0 : timeout);
    Value item;
    while (!queue_pop(q, &item)) {
        double left = timeout < 0 ? -1 : sync_seconds_until(&deadline);
        QueueWait w = {q, ts};
        int r = block && left != 0 ? thread_wait(ts, nonempty_step, &w, left) : 0;
        if (r < 0) return ERROR_VAL;
        /* Another getter may take the item between the wait and the pop. */
        if (r == 0) return queue_pop(q, &item) ? item : err_raise(ts, OBJ_VAL(q->empty));
    }
    return item;
}

static Value queue_get_nowait(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "get_nowait", nargs, kwnames, 1, 1)) return ERROR_VAL;
    ObjSimpleQueue *q = (ObjSimpleQueue *)AS_OBJ(args[0]);
    Value item;
    return queue_pop(q, &item) ? item : err_raise(ts, OBJ_VAL(q->empty));
}

static Value queue_put_nowait(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "put_nowait", nargs, kwnames, 2, 2)) return ERROR_VAL;
    return queue_put(ts, args, nargs, NULL);
}

static size_t queue_count(ObjSimpleQueue *q) {
    MUTEX_LOCK(&q->mutex);
    size_t n = q->count;
    MUTEX_UNLOCK(&q->mutex);
    return n;
}

static Value queue_empty(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "empty", nargs, kwnames, 1, 1)) return ERROR_VAL;
    return BOOL_VAL(queue_count((ObjSimpleQueue *)AS_OBJ(args[0])) == 0);
}

static Value queue_qsize(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "qsize", nargs, kwnames, 1, 1)) return ERROR_VAL;
    return INT_VAL((int64_t)queue_count((ObjSimpleQueue *)AS_OBJ(args[0])));
}

static const NativeDef queue_methods[] = {
    {"put", queue_put},
    {"get", queue_get},
    {"put_nowait", queue_put_nowait},
    {"get_nowait", queue_get_nowait},
    {"empty", queue_empty},
    {"qsize", queue_qsize},
    {NULL, NULL},
};

static const TypeSpec simple_queue_spec = {
    .name = "SimpleQueue",
    .classmethods = generic_classmethods,
    .kind = OBJ_OPAQUE,
    .new_ = queue_new,
    .trace = queue_trace,
    .finalize = queue_finalize,
    .after_fork = queue_after_fork,
    .methods = queue_methods,
};

bool mod_queue_init(TState *ts, ObjDict *ns) {
    ObjStr *module = str_intern_cstr(ts, "_queue");
    if (!module || IS_ERROR(module_add_exception(ts, ns, module, "Empty", ts->interp->exc.Exception,
                                                 "Exception raised by Queue.get(block=0)/get_nowait().")))
        return false;
    ObjType *t = type_from_spec(ts, &simple_queue_spec, NULL);
    if (!t) return false;
    t->module = OBJ_VAL(module);
    return dict_set_str(ts, ns, t->name, OBJ_VAL(t)) == 0;
}
