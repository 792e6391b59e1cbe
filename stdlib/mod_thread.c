/* The _thread module: OS threads and the locks everything else in
 * threading, queue and concurrent.futures is built on (those are written
 * in mini, in stdlib/). Every wait here detaches the thread, so it releases
 * the GIL and never holds up a collection. */

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/args.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/function.h"
#include "runtime/int.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "stdlib/modules.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/signals.h"
#include "vm/sync.h"
#include "vm/thread.h"
#include "vm/vm.h"

/* ---- locks ------------------------------------------------------------- */

/* A lock that any thread may release (Python's Lock), re-entrant when
 * `recursive` (RLock: an owner and a count). */
typedef struct ObjLock {
    Obj obj;
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    bool locked;          /* guarded by mutex */
    bool recursive;
    _Atomic uint64_t owner; /* RLock: the holder's ident, 0 when free */
    TState *releaser;     /* the last releaser, for TState.woken_by; guarded by mutex */
    uint64_t count;       /* RLock: touched only by the holder */
} ObjLock;

static void lock_finalize(Obj *self) {
    ObjLock *l = (ObjLock *)self;
    pthread_mutex_destroy(&l->mutex);
    pthread_cond_destroy(&l->cond);
}

static void lock_after_fork(Obj *self) {
    ObjLock *l = (ObjLock *)self;
    PT_CHECK(pthread_mutex_init(&l->mutex, NULL));
    sync_cond_init(&l->cond);
}

static ObjLock *lock_new(TState *ts, ObjType *type, bool recursive) {
    ObjLock *l = (ObjLock *)gc_alloc(ts, sizeof(ObjLock), OBJ_OPAQUE, type);
    if (!l) return NULL;
    PT_CHECK(pthread_mutex_init(&l->mutex, NULL));
    sync_cond_init(&l->cond);
    l->locked = false;
    l->recursive = recursive;
    atomic_init(&l->owner, 0);
    l->count = 0;
    l->releaser = NULL;
    return l;
}

typedef struct LockWait {
    ObjLock *lock;
    TState *waiter;
} LockWait;

/* One wait for the lock (see ThreadWaitStep): takes it if it is free. */
static int lock_step(void *ctx, const struct timespec *until) {
    LockWait *w = ctx;
    ObjLock *l = w->lock;
    MUTEX_LOCK(&l->mutex);
    while (l->locked && sync_cond_wait_until(&l->cond, &l->mutex, until)) {}
    bool got = !l->locked;
    if (got) {
        l->locked = true;
        w->waiter->woken_by = l->releaser;
    }
    MUTEX_UNLOCK(&l->mutex);
    return got;
}

static bool lock_try(ObjLock *l) {
    MUTEX_LOCK(&l->mutex);
    bool got = !l->locked;
    if (got) l->locked = true;
    MUTEX_UNLOCK(&l->mutex);
    return got;
}

/* acquire(blocking=True, timeout=-1), Python's argument rules. */
static Value lock_acquire(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"$self", "blocking", "timeout"};
    Value v[3];
    if (!args_bind(ts, "acquire", args, nargs, kwnames, names, 3, 1, 3, v)) return ERROR_VAL;
    ObjLock *l = (ObjLock *)AS_OBJ(v[0]);
    int blocking = 1;
    if (!IS_EMPTY(v[1]) && (blocking = ops_truth(ts, v[1])) < 0) return ERROR_VAL;
    double timeout = -1;
    if (!IS_EMPTY(v[2]) && !args_float(ts, v[2], &timeout)) return ERROR_VAL;
    if (!blocking && timeout != -1)
        return err_format(ts, ts->interp->exc.ValueError, "can't specify a timeout for a non-blocking call");
    if (timeout < 0 && timeout != -1)
        return err_format(ts, ts->interp->exc.ValueError, "timeout value must be a non-negative number");
    if (l->recursive && atomic_load(&l->owner) == ts->ident) {
        l->count++;
        return TRUE_VAL;
    }
    bool got = lock_try(l);
    if (!got && blocking) {
        LockWait w = {l, ts};
        int r = thread_wait(ts, lock_step, &w, timeout);
        if (r < 0) return ERROR_VAL;
        got = r == 1;
    }
    if (got && l->recursive) {
        atomic_store(&l->owner, ts->ident);
        l->count = 1;
    }
    return BOOL_VAL(got);
}

static bool lock_release_raw(TState *ts, ObjLock *l) {
    if (l->recursive) {
        if (atomic_load(&l->owner) != ts->ident) {
            err_format(ts, ts->interp->exc.RuntimeError, "cannot release un-acquired lock");
            return false;
        }
        if (--l->count > 0) return true;
        atomic_store(&l->owner, 0);
    }
    MUTEX_LOCK(&l->mutex);
    bool was = l->locked;
    l->locked = false;
    l->releaser = ts;
    if (was) COND_SIGNAL(&l->cond);
    MUTEX_UNLOCK(&l->mutex);
    if (!was) err_format(ts, ts->interp->exc.RuntimeError, "release unlocked lock");
    return was;
}

static Value lock_release(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "release", nargs, kwnames, 1, 1)) return ERROR_VAL;
    return lock_release_raw(ts, (ObjLock *)AS_OBJ(args[0])) ? NONE_VAL : ERROR_VAL;
}

static Value lock_exit(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__exit__", nargs, kwnames, 1, 4)) return ERROR_VAL;
    return lock_release_raw(ts, (ObjLock *)AS_OBJ(args[0])) ? NONE_VAL : ERROR_VAL;
}

static Value lock_locked(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "locked", nargs, kwnames, 1, 1)) return ERROR_VAL;
    ObjLock *l = (ObjLock *)AS_OBJ(args[0]);
    MUTEX_LOCK(&l->mutex);
    bool locked = l->locked;
    MUTEX_UNLOCK(&l->mutex);
    return BOOL_VAL(locked);
}

/* RLock internals used by Condition: whether the caller owns it, and
 * release-all / re-acquire-with-count around a wait. */
static Value rlock_is_owned(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "_is_owned", nargs, kwnames, 1, 1)) return ERROR_VAL;
    ObjLock *l = (ObjLock *)AS_OBJ(args[0]);
    return BOOL_VAL(atomic_load(&l->owner) == ts->ident);
}

static Value rlock_release_save(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "_release_save", nargs, kwnames, 1, 1)) return ERROR_VAL;
    ObjLock *l = (ObjLock *)AS_OBJ(args[0]);
    if (atomic_load(&l->owner) != ts->ident)
        return err_format(ts, ts->interp->exc.RuntimeError, "cannot release un-acquired lock");
    uint64_t count = l->count;
    l->count = 1;
    if (!lock_release_raw(ts, l)) return ERROR_VAL;
    return INT_VAL((int64_t)count);
}

static Value rlock_acquire_restore(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "_acquire_restore", nargs, kwnames, 2, 2)) return ERROR_VAL;
    ObjLock *l = (ObjLock *)AS_OBJ(args[0]);
    int64_t count;
    if (!args_int(ts, args[1], &count)) return ERROR_VAL;
    if (!lock_try(l)) {
        /* Re-taking a Condition's lock is not interruptible: the waiter
         * must own it again before any exception can propagate. */
        LockWait w = {l, ts};
        thread_detach(ts);
        lock_step(&w, NULL);
        thread_attach(ts);
    }
    atomic_store(&l->owner, ts->ident);
    l->count = (uint64_t)count;
    return NONE_VAL;
}

static Value lock_repr(TState *ts, Value self) {
    ObjLock *l = (ObjLock *)AS_OBJ(self);
    MUTEX_LOCK(&l->mutex);
    bool locked = l->locked;
    MUTEX_UNLOCK(&l->mutex);
    if (l->recursive) {
        uint64_t owner = atomic_load(&l->owner);
        return OBJ_VAL(str_printf(ts, "<%s _thread.RLock object owner=%llu count=%llu at %p>",
                                  locked ? "locked" : "unlocked", (unsigned long long)owner,
                                  (unsigned long long)(owner == ts->ident ? l->count : 0), (void *)l));
    }
    return OBJ_VAL(str_printf(ts, "<%s _thread.lock object at %p>", locked ? "locked" : "unlocked",
                              (void *)l));
}

static Value lock_type_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, type->name->data, nargs, kwnames, 0, 0)) return ERROR_VAL;
    ObjLock *l = lock_new(ts, type, strcmp(type->name->data, "RLock") == 0);
    return l ? OBJ_VAL(l) : ERROR_VAL;
}

static const NativeDef lock_methods[] = {
    {"acquire", lock_acquire},
    {"acquire_lock", lock_acquire},
    {"__enter__", lock_acquire},
    {"release", lock_release},
    {"release_lock", lock_release},
    {"__exit__", lock_exit},
    {"locked", lock_locked},
    {"locked_lock", lock_locked},
    {NULL, NULL},
};

static const NativeDef rlock_methods[] = {
    {"acquire", lock_acquire},
    {"__enter__", lock_acquire},
    {"release", lock_release},
    {"__exit__", lock_exit},
    {"_is_owned", rlock_is_owned},
    {"_release_save", rlock_release_save},
    {"_acquire_restore", rlock_acquire_restore},
    {NULL, NULL},
};

const TypeSpec lock_type_spec = {
    .name = "lock",
    .kind = OBJ_OPAQUE,
    .repr = lock_repr,
    .new_ = lock_type_new,
    .finalize = lock_finalize,
    .after_fork = lock_after_fork,
    .methods = lock_methods,
};

const TypeSpec rlock_type_spec = {
    .name = "RLock",
    .kind = OBJ_OPAQUE,
    .repr = lock_repr,
    .new_ = lock_type_new,
    .finalize = lock_finalize,
    .after_fork = lock_after_fork,
    .methods = rlock_methods,
};

/* ---- threads ----------------------------------------------------------- */

/* One Python thread's life on this OS thread: its callable and arguments
 * were pushed on its own root frame by the starter, so they are rooted
 * from the start. Returns whether this OS thread stays as a spare. */
static bool run_thread(TState *ts) {
    ts->pthread = pthread_self();
    ts->ident = (uint64_t)pthread_self();
    thread_attach(ts);

    Frame *root = &ts->frames[0];
    Value fn = root->base[0];
    ObjTuple *args = AS_TUPLE(root->base[1]);
    Value kwargs = root->base[2];
    Value r;
    if (IS_DICT(kwargs) && dict_len(AS_DICT(kwargs)) > 0) {
        r = vm_call_ex(ts, fn, OBJ_VAL(args), kwargs);
    } else {
        r = vm_call(ts, fn, args->items, (int)args->len, NULL);
    }
    if (IS_ERROR(r)) {
        Value exc = err_fetch(ts);
        if (!type_is_subtype(OBJ_TYPE(exc), ts->interp->exc.SystemExit)) {
            fputs("Unhandled exception in thread started by ", stderr);
            Value rep = ops_repr(ts, fn);
            if (IS_STR(rep)) fputs(AS_STR(rep)->data, stderr);
            fputc('\n', stderr);
            err_print(ts, exc);
        }
    }
    root->sp = root->base;
    /* A thread that ends while tracing no longer counts as tracing. */
    if (ts->tracing) {
        ts->tracing = false;
        vm_count_traced_thread(ts, -1);
    }
    if (ts->interp->gil_stats) {
        ts->gil_stats.run_ns += gil_now_ns() - ts->gil_stats.held_since_ns;
        gil_record_thread(ts->interp, ts);
    }
    gc_adopt_thread_heap(ts);
    bool spare = thread_keep_as_spare(ts);
    if (!spare) thread_will_end(ts);
    thread_detach(ts);
    trace_thread_end(ts);
    tstate_free(ts);
    return spare;
}

/* An OS thread: runs Python threads until it is not kept as a spare. */
static void *thread_main(void *arg) {
    TState *ts = arg;
    Interp *interp = ts->interp;
    signals_block_in_thread();
    while (run_thread(ts)) ts = thread_park_as_spare(interp);
    return NULL;
}

static Value thread_start_new(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "start_new_thread", nargs, kwnames, 2, 3)) return ERROR_VAL;
    Interp *interp = ts->interp;
    if (!IS_TUPLE(args[1]))
        return err_format(ts, interp->exc.TypeError, "2nd arg must be a tuple");
    if (nargs == 3 && !IS_DICT(args[2]))
        return err_format(ts, interp->exc.TypeError, "optional 3rd arg must be a dictionary");
    if (interp_sandbox_refuses(ts, "starting a thread")) return ERROR_VAL;
    thread_join_ended(interp);
    TState *child = tstate_new(interp);
    if (!child) return err_format(ts, interp->exc.RuntimeError, "can't start new thread");
    Frame *root = &child->frames[0];
    root->base[0] = args[0];
    root->base[1] = args[1];
    root->base[2] = nargs == 3 ? args[2] : NONE_VAL;
    root->sp = root->base + 3;
    /* Started by this thread: no priority over it for the GIL. */
    child->woken_by = ts;

    uint64_t ident;
    if (thread_hand_to_spare(interp, child, &ident)) return int_from_u64(ts, ident);
    pthread_attr_t attr;
    PT_CHECK(pthread_attr_init(&attr));
    PT_CHECK(pthread_attr_setstacksize(&attr, MINI_THREAD_STACK_BYTES));
    pthread_t tid;
    int err = pthread_create(&tid, &attr, thread_main, child);
    PT_CHECK(pthread_attr_destroy(&attr));
    if (err != 0) {
        root->sp = root->base;
        tstate_free(child);
        return err_format(ts, interp->exc.RuntimeError, "can't start new thread");
    }
    /* The new thread's ident is its pthread_t, which pthread_self gives it
     * too: no need to wait for it to run. */
    return int_from_u64(ts, (uint64_t)tid);
}

static Value thread_get_ident(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    (void)args;
    if (!args_check(ts, "get_ident", nargs, kwnames, 0, 0)) return ERROR_VAL;
    return int_from_u64(ts, ts->ident);
}

static Value thread_count(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    (void)args;
    if (!args_check(ts, "_count", nargs, kwnames, 0, 0)) return ERROR_VAL;
    MUTEX_LOCK(&ts->interp->threads_lock);
    int n = ts->interp->thread_count - 1;
    MUTEX_UNLOCK(&ts->interp->threads_lock);
    return INT_VAL(n);
}

/* The operating system's id of the calling thread (gettid). */
static Value thread_get_native_id(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    (void)args;
    if (!args_check(ts, "get_native_id", nargs, kwnames, 0, 0)) return ERROR_VAL;
    return INT_VAL((int64_t)syscall(SYS_gettid));
}

static Value thread_allocate_lock(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    (void)args;
    if (!args_check(ts, "allocate_lock", nargs, kwnames, 0, 0)) return ERROR_VAL;
    ObjLock *l = lock_new(ts, ts->interp->types.lock, false);
    return l ? OBJ_VAL(l) : ERROR_VAL;
}

static Value thread_stack_size(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "stack_size", nargs, kwnames, 0, 1)) return ERROR_VAL;
    if (nargs == 1 && !(IS_INT(args[0]) && AS_INT(args[0]) == 0))
        return err_format(ts, ts->interp->exc.ValueError,
                          "mini threads have a fixed stack size of %d bytes", MINI_THREAD_STACK_BYTES);
    /* 0, as CPython's: the default size (for mini, always). */
    return INT_VAL(0);
}

/* Prints an exception's traceback to stderr (threading's excepthook). */
static Value thread_print_exception(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "_print_exception", nargs, kwnames, 1, 1)) return ERROR_VAL;
    if (!IS_EXCEPTION(args[0])) return err_type_not(ts, args[0], "an exception");
    err_print(ts, args[0]);
    return NONE_VAL;
}

/* threading tells the C side a thread's name, for --gil-stats. */
static Value thread_set_name(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "_set_name", nargs, kwnames, 1, 1)) return ERROR_VAL;
    if (!IS_STR(args[0])) return err_type_not(ts, args[0], "a str");
    snprintf(ts->name, sizeof ts->name, "%s", AS_STR(args[0])->data);
    return NONE_VAL;
}

static const NativeDef thread_functions[] = {
    {"_set_name", thread_set_name},
    {"_print_exception", thread_print_exception},
    {"start_new_thread", thread_start_new},
    {"start_new", thread_start_new},
    {"get_ident", thread_get_ident},
    {"get_native_id", thread_get_native_id},
    {"_count", thread_count},
    {"allocate_lock", thread_allocate_lock},
    {"allocate", thread_allocate_lock},
    {"stack_size", thread_stack_size},
    {NULL, NULL},
};

bool mod_thread_init(TState *ts, ObjDict *ns) {
    for (const NativeDef *d = thread_functions; d->name; d++) {
        ObjNative *fn = native_new(ts, d->name, d->fn, NULL);
        if (!fn || dict_set_str(ts, ns, str_intern_cstr(ts, d->name), OBJ_VAL(fn)) < 0) return false;
    }
    Interp *interp = ts->interp;
    return dict_set_str(ts, ns, str_intern_cstr(ts, "LockType"), OBJ_VAL(interp->types.lock)) == 0 &&
           dict_set_str(ts, ns, str_intern_cstr(ts, "RLock"), OBJ_VAL(interp->types.rlock)) == 0 &&
           dict_set_str(ts, ns, str_intern_cstr(ts, "error"), OBJ_VAL(interp->exc.RuntimeError)) == 0 &&
           dict_set_str(ts, ns, str_intern_cstr(ts, "TIMEOUT_MAX"), FLOAT_VAL(4294967.0)) == 0;
}
