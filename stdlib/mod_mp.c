/* The _mp module: what the multiprocessing package and the process pool
 * (stdlib/multiprocessing/, stdlib/concurrent/futures.mini) are built on.
 *
 *  - exit_child() (the fork itself is os.fork, over vm/fork.c); Child, a
 *    handle on a forked process that reaps it exactly once (waitpid under
 *    a mutex) and waits on it through a pidfd, so join(timeout) needs no
 *    polling.
 *  - Synchronisation between processes, in shared memory mapped before
 *    fork (MAP_SHARED | MAP_ANONYMOUS, so children inherit it and it dies
 *    with the last process): Lock and RLock are robust process-shared
 *    pthread mutexes (a holder that dies hands the lock to the next
 *    acquirer: EOWNERDEAD, pthread_mutex_consistent), Semaphore and
 *    BoundedSemaphore POSIX semaphores, Event a flag under a robust mutex
 *    with a process-shared condition variable.
 *  - SharedValue and SharedArray: C numbers in shared memory (Value, Array,
 *    RawValue, RawArray), each access under the optional lock.
 *  - Channel: the core of multiprocessing.Queue, a pipe whose messages are
 *    framed and serialized (runtime/serialize.h) in the caller, with a
 *    reader lock, a writer lock and, for a maxsize, a semaphore of free
 *    slots, all in shared memory.
 *  - Connection (Pipe(), the process pool's channels) and Message (a value
 *    serialized once, sent later).
 *
 * Every wait detaches the thread (the GIL is released, a collection does
 * not wait for it). The main thread waits in slices so that Ctrl-C raises
 * KeyboardInterrupt. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime/args.h"
#include "runtime/buffer.h"
#include "runtime/bytes.h"
#include "runtime/class.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/file.h"
#include "runtime/float.h"
#include "runtime/function.h"
#include "runtime/int.h"
#include "runtime/iterator.h"
#include "runtime/list.h"
#include "runtime/module.h"
#include "runtime/ops.h"
#include "runtime/range.h"
#include "runtime/serialize.h"
#include "runtime/str.h"
#include "runtime/strbuf.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "stdlib/modules.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/signals.h"
#include "vm/sync.h"
#include "vm/thread.h"
#include "vm/vm.h"

/* ---- time and waiting ---------------------------------------------------- */

/* The CLOCK_REALTIME time of a CLOCK_MONOTONIC deadline, for the waits
 * that only take the former (pthread_mutex_timedlock, sem_timedwait: their
 * clock-choosing variants are not seen by ThreadSanitizer). */
static struct timespec realtime_of(const struct timespec *until) {
    struct timespec now, rt;
    clock_gettime(CLOCK_MONOTONIC, &now);
    clock_gettime(CLOCK_REALTIME, &rt);
    int64_t left = (int64_t)(until->tv_sec - now.tv_sec) * 1000000000 + (until->tv_nsec - now.tv_nsec);
    if (left < 0) left = 0;
    int64_t ns = rt.tv_nsec + left % 1000000000;
    rt.tv_sec += (time_t)(left / 1000000000 + ns / 1000000000);
    rt.tv_nsec = (long)(ns % 1000000000);
    return rt;
}

/* The timeout argument of the acquire/get/wait family: None (or absent) is
 * no limit, a number is seconds (negative counts as 0, as CPython's
 * multiprocessing). Returns false after raising. */
static bool timeout_arg(TState *ts, Value v, double *out) {
    *out = -1;
    if (IS_EMPTY(v) || IS_NONE(v)) return true;
    if (!args_float(ts, v, out)) return false;
    if (*out < 0) *out = 0;
    return true;
}

/* block=True, timeout=None folded into one timeout: 0 when not blocking. */
static bool block_timeout_args(TState *ts, Value block, Value timeout, double *out) {
    int blocking = 1;
    if (!IS_EMPTY(block) && (blocking = ops_truth(ts, block)) < 0) return false;
    if (!timeout_arg(ts, timeout, out)) return false;
    if (!blocking) *out = 0;
    return true;
}

/* ---- shared memory and its locks ----------------------------------------- */

/* Memory shared with every process forked after it was mapped. With
 * spawnable, the memory is a memory file whose descriptor (*fd, else -1)
 * can be passed to a spawned child, which maps it again (shm_attach): an
 * object made in a spawn or forkserver context. */
static void *shm_map(TState *ts, size_t size, bool spawnable, int *fd) {
    *fd = -1;
    if (!spawnable) {
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p != MAP_FAILED) return p;
        file_raise_oserror(ts, errno, NONE_VAL);
        return NULL;
    }
    int f = memfd_create("mini-mp-shared", MFD_CLOEXEC);
    if (f < 0 || ftruncate(f, (off_t)size) != 0) {
        int err = errno;
        if (f >= 0) close(f);
        file_raise_oserror(ts, err, NONE_VAL);
        return NULL;
    }
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
    if (p == MAP_FAILED) {
        int err = errno;
        close(f);
        file_raise_oserror(ts, err, NONE_VAL);
        return NULL;
    }
    *fd = f;
    return p;
}

/* The memory of a passed memory file (see shm_map), which must hold at
 * least size bytes. */
static void *shm_attach(TState *ts, int fd, size_t size) {
    struct stat st;
    if (fstat(fd, &st) != 0) {
        file_raise_oserror(ts, errno, NONE_VAL);
        return NULL;
    }
    if ((size_t)st.st_size < size) {
        err_format(ts, ts->interp->exc.ValueError, "shared memory descriptor %d is too small", fd);
        return NULL;
    }
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        file_raise_oserror(ts, errno, NONE_VAL);
        return NULL;
    }
    return p;
}

/* The spawnable argument of the constructors (False when not given). */
static bool spawnable_arg(TState *ts, Value v, bool *out) {
    int r = IS_EMPTY(v) ? 0 : ops_truth(ts, v);
    *out = r > 0;
    return r >= 0;
}

/* obj.__reduce__(): how a spawned child rebuilds obj, decided by
 * multiprocessing.context (which refuses when no child is being spawned,
 * or when the object was made for fork only: fds[0] < 0, and collects the
 * descriptors to pass): (_mp._rebuild, (type(obj), fds, params)). */
static Value reduce_for_child(TState *ts, Value self, const int *fds, int nfds, Value params) {
    vm_push(ts, params);
    Value fdv = NONE_VAL;
    if (fds[0] >= 0) {
        ObjTuple *t = tuple_new(ts, (size_t)nfds);
        if (!t) {
            vm_pop(ts);
            return ERROR_VAL;
        }
        for (int i = 0; i < nfds; i++) t->items[i] = INT_VAL(fds[i]);
        fdv = OBJ_VAL(t);
    }
    Value args[3] = {self, fdv, params};
    vm_push(ts, fdv);
    Value r = module_call(ts, "multiprocessing.context", "_reduce_for_child", args, 3);
    vm_pop(ts);
    vm_pop(ts);
    return r;
}

/* A robust, process-shared mutex: if its holder dies, the next locker
 * gets it (EOWNERDEAD) and makes it consistent. */
static int shared_mutex_init(pthread_mutex_t *m, int type) {
    pthread_mutexattr_t a;
    int r = pthread_mutexattr_init(&a);
    if (r) return r;
    if (!(r = pthread_mutexattr_settype(&a, type)) &&
        !(r = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED)) &&
        !(r = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST)))
        r = pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
    return r;
}

static int shared_cond_init(pthread_cond_t *c) {
    pthread_condattr_t a;
    int r = pthread_condattr_init(&a);
    if (r) return r;
    if (!(r = pthread_condattr_setpshared(&a, PTHREAD_PROCESS_SHARED)) &&
        !(r = pthread_condattr_setclock(&a, CLOCK_MONOTONIC)))
        r = pthread_cond_init(c, &a);
    pthread_condattr_destroy(&a);
    return r;
}

/* Locks briefly-held internal mutexes (never held across a wait for
 * something else), recovering one whose holder died. */
static void shared_mutex_lock(pthread_mutex_t *m) {
    int r = pthread_mutex_lock(m);
    if (r == EOWNERDEAD) r = pthread_mutex_consistent(m);
    if (r) sync_fail("pthread_mutex_lock", r, __FILE__, __LINE__);
}

/* The thread id that holds the mutex (glibc keeps it in the mutex), or 0. */
static pid_t mutex_owner(pthread_mutex_t *m) {
    return (pid_t)(__atomic_load_n(&m->__data.__owner, __ATOMIC_RELAXED) & 0x3fffffff);
}

/* Is the mutex held by a thread of this process? Then it sits on that
 * thread's robust list (linked through the mutex itself), and unmapping
 * it would corrupt the list. */
static bool held_in_this_process(pthread_mutex_t *m) {
    pid_t owner = mutex_owner(m);
    return owner != 0 && syscall(SYS_tgkill, getpid(), owner, 0) == 0;
}

static int mutex_step(void *ctx, const struct timespec *until) {
    pthread_mutex_t *m = ctx;
    struct timespec rt;
    if (until) rt = realtime_of(until);
    int r = until ? pthread_mutex_timedlock(m, &rt) : pthread_mutex_lock(m);
    if (r == EOWNERDEAD) r = pthread_mutex_consistent(m);
    if (r == 0) return 1;
    if (r == ETIMEDOUT || r == EINTR) return 0;
    if (r == EDEADLK) {
        /* A Lock acquired again by its holder: Python's Lock waits (for
         * ever, or until the timeout), so wait. */
        struct timespec t = until ? *until : sync_deadline(1.0);
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR && !until) {
        }
        return 0;
    }
    return -r;
}

/* Takes the mutex: at once when it is free, else waiting detached.
 * 1 acquired, 0 timed out, -1 after raising. */
static int shared_mutex_acquire(TState *ts, pthread_mutex_t *m, double timeout) {
    int r = pthread_mutex_trylock(m);
    if (r == EOWNERDEAD) r = pthread_mutex_consistent(m);
    if (r == 0) return 1;
    if (r != EBUSY) {
        file_raise_oserror(ts, r, NONE_VAL);
        return -1;
    }
    if (timeout == 0) return 0;
    return thread_wait(ts, mutex_step, m, timeout);
}

static int sem_step(void *ctx, const struct timespec *until) {
    sem_t *s = ctx;
    struct timespec rt;
    if (until) rt = realtime_of(until);
    int r = until ? sem_timedwait(s, &rt) : sem_wait(s);
    if (r == 0) return 1;
    return errno == ETIMEDOUT || errno == EINTR ? 0 : -errno;
}

static int sem_acquire(TState *ts, sem_t *s, double timeout) {
    if (sem_trywait(s) == 0) return 1;
    if (errno != EAGAIN && errno != EINTR) {
        file_raise_oserror(ts, errno, NONE_VAL);
        return -1;
    }
    if (timeout == 0) return 0;
    return thread_wait(ts, sem_step, s, timeout);
}

/* ---- Lock and RLock ------------------------------------------------------ */

typedef struct ObjMutex {
    Obj obj;
    pthread_mutex_t *m; /* in its own shared page */
    int shm_fd;         /* its memory file (see shm_map), or -1 */
    bool recursive;
    /* Which thread of this process holds it, and how many times: only the
     * holder may unlock a pthread mutex, and asking the kernel who we are
     * (gettid) would cost a system call per release. */
    _Atomic uint64_t owner; /* TState.ident, 0 when not held here */
    uint64_t depth;         /* touched by the owner only */
} ObjMutex;

static void mutex_finalize(Obj *self) {
    ObjMutex *l = (ObjMutex *)self;
    if (l->m && !held_in_this_process(l->m)) munmap(l->m, sizeof *l->m);
    if (l->shm_fd >= 0) close(l->shm_fd);
}

/* A Lock or RLock object around no mutex yet. */
static ObjMutex *mutex_alloc(TState *ts, ObjType *type) {
    ObjMutex *l = (ObjMutex *)gc_alloc(ts, sizeof(ObjMutex), OBJ_OPAQUE, type);
    if (!l) return NULL;
    l->m = NULL;
    l->shm_fd = -1;
    l->recursive = strcmp(type->name->data, "RLock") == 0;
    atomic_init(&l->owner, 0);
    l->depth = 0;
    return l;
}

/* Lock(spawnable=False), RLock(spawnable=False) */
static Value mutex_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"spawnable"};
    Value v[1];
    bool spawnable;
    if (!args_bind(ts, type->name->data, args, nargs, kwnames, names, 1, 0, 1, v) ||
        !spawnable_arg(ts, v[0], &spawnable))
        return ERROR_VAL;
    ObjMutex *l = mutex_alloc(ts, type);
    if (!l) return ERROR_VAL;
    l->m = shm_map(ts, sizeof *l->m, spawnable, &l->shm_fd);
    if (!l->m) return ERROR_VAL;
    int r = shared_mutex_init(l->m, l->recursive ? PTHREAD_MUTEX_RECURSIVE : PTHREAD_MUTEX_ERRORCHECK);
    if (r) return file_raise_oserror(ts, r, NONE_VAL);
    return OBJ_VAL(l);
}

static bool is_mutex(Value v) { return IS_OBJ(v) && OBJ_TYPE(v)->finalize == mutex_finalize; }

/* 1 acquired, 0 timed out, -1 after raising. */
static int mutex_acquire_raw(TState *ts, ObjMutex *l, double timeout) {
    int r = shared_mutex_acquire(ts, l->m, timeout);
    if (r == 1) {
        if (atomic_load_explicit(&l->owner, memory_order_relaxed) == ts->ident) {
            l->depth++;
        } else {
            atomic_store_explicit(&l->owner, ts->ident, memory_order_relaxed);
            l->depth = 1;
        }
    }
    return r;
}

/* acquire(block=True, timeout=None) */
static Value mutex_acquire(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"$self", "block", "timeout"};
    Value v[3];
    if (!args_bind(ts, "acquire", args, nargs, kwnames, names, 3, 1, 3, v)) return ERROR_VAL;
    double timeout;
    if (!block_timeout_args(ts, v[1], v[2], &timeout)) return ERROR_VAL;
    int r = mutex_acquire_raw(ts, (ObjMutex *)AS_OBJ(v[0]), timeout);
    return r < 0 ? ERROR_VAL : BOOL_VAL(r == 1);
}

static bool mutex_release_raw(TState *ts, ObjMutex *l) {
    /* Only the holder may unlock a pthread mutex: refuse the others
     * without trying (ThreadSanitizer reports the attempt itself). */
    int r = EPERM;
    if (atomic_load_explicit(&l->owner, memory_order_relaxed) == ts->ident) {
        if (--l->depth == 0) atomic_store_explicit(&l->owner, 0, memory_order_relaxed);
        r = pthread_mutex_unlock(l->m);
    }
    if (r == 0) return true;
    if (r != EPERM) {
        file_raise_oserror(ts, r, NONE_VAL);
        return false;
    }
    if (l->recursive)
        err_format(ts, ts->interp->exc.AssertionError, "attempt to release recursive lock not owned by thread");
    else
        err_format(ts, ts->interp->exc.ValueError, "semaphore or lock released too many times");
    return false;
}

static Value mutex_release(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "release", nargs, kwnames, 1, 1)) return ERROR_VAL;
    return mutex_release_raw(ts, (ObjMutex *)AS_OBJ(args[0])) ? NONE_VAL : ERROR_VAL;
}

static Value mutex_exit(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__exit__", nargs, kwnames, 1, 4)) return ERROR_VAL;
    return mutex_release_raw(ts, (ObjMutex *)AS_OBJ(args[0])) ? NONE_VAL : ERROR_VAL;
}

static Value mutex_repr(TState *ts, Value self) {
    ObjMutex *l = (ObjMutex *)AS_OBJ(self);
    pid_t owner = mutex_owner(l->m);
    if (l->recursive) {
        unsigned count = owner ? __atomic_load_n(&l->m->__data.__count, __ATOMIC_RELAXED) : 0;
        if (!owner) return OBJ_VAL(str_printf(ts, "<RLock(None, 0)>"));
        return OBJ_VAL(str_printf(ts, "<RLock(%d, %u)>", (int)owner, count));
    }
    if (!owner) return OBJ_VAL(str_printf(ts, "<Lock(owner=None)>"));
    return OBJ_VAL(str_printf(ts, "<Lock(owner=%d)>", (int)owner));
}

/* For multiprocessing.Condition: does this thread hold the lock, and how
 * many times? */
static Value mutex_is_mine(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "_is_mine", nargs, kwnames, 1, 1)) return ERROR_VAL;
    ObjMutex *l = (ObjMutex *)AS_OBJ(args[0]);
    return BOOL_VAL(atomic_load_explicit(&l->owner, memory_order_relaxed) == ts->ident);
}

static Value mutex_count(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "_count", nargs, kwnames, 1, 1)) return ERROR_VAL;
    ObjMutex *l = (ObjMutex *)AS_OBJ(args[0]);
    bool mine = atomic_load_explicit(&l->owner, memory_order_relaxed) == ts->ident;
    return INT_VAL(mine ? (int64_t)l->depth : 0);
}

static Value mutex_reduce(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__reduce__", nargs, kwnames, 1, 1)) return ERROR_VAL;
    ObjTuple *params = tuple_new(ts, 0);
    if (!params) return ERROR_VAL;
    return reduce_for_child(ts, args[0], &((ObjMutex *)AS_OBJ(args[0]))->shm_fd, 1, OBJ_VAL(params));
}

static const NativeDef mutex_methods[] = {
    {"__reduce__", mutex_reduce},
    {"acquire", mutex_acquire},
    {"__enter__", mutex_acquire},
    {"release", mutex_release},
    {"__exit__", mutex_exit},
    {"_is_mine", mutex_is_mine},
    {"_count", mutex_count},
    {NULL, NULL},
};

static const TypeSpec mp_lock_spec = {
    .name = "Lock",
    .kind = OBJ_OPAQUE,
    .repr = mutex_repr,
    .new_ = mutex_new,
    .finalize = mutex_finalize,
    .methods = mutex_methods,
};

static const TypeSpec mp_rlock_spec = {
    .name = "RLock",
    .kind = OBJ_OPAQUE,
    .repr = mutex_repr,
    .new_ = mutex_new,
    .finalize = mutex_finalize,
    .methods = mutex_methods,
};

/* ---- Semaphore and BoundedSemaphore -------------------------------------- */

typedef struct ObjSemaphore {
    Obj obj;
    sem_t *sem;       /* in its own shared page */
    int shm_fd;       /* its memory file (see shm_map), or -1 */
    int64_t maxvalue; /* BoundedSemaphore's bound, else -1 */
} ObjSemaphore;

static void semaphore_finalize(Obj *self) {
    ObjSemaphore *s = (ObjSemaphore *)self;
    if (s->shm_fd >= 0) close(s->shm_fd);
    if (!s->sem) return;
    sem_destroy(s->sem);
    munmap(s->sem, sizeof *s->sem);
}

static Value semaphore_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"value", "spawnable"};
    Value v[2];
    bool spawnable;
    if (!args_bind(ts, type->name->data, args, nargs, kwnames, names, 2, 0, 2, v) ||
        !spawnable_arg(ts, v[1], &spawnable))
        return ERROR_VAL;
    int64_t value = 1;
    if (!IS_EMPTY(v[0]) && !args_int(ts, v[0], &value)) return ERROR_VAL;
    if (value < 0) return err_format(ts, ts->interp->exc.ValueError, "semaphore initial value must be >= 0");
    if (value > SEM_VALUE_MAX) return err_format(ts, ts->interp->exc.ValueError, "semaphore value too large");
    ObjSemaphore *s = (ObjSemaphore *)gc_alloc(ts, sizeof(ObjSemaphore), OBJ_OPAQUE, type);
    if (!s) return ERROR_VAL;
    s->sem = NULL;
    s->shm_fd = -1;
    s->maxvalue = strcmp(type->name->data, "BoundedSemaphore") == 0 ? value : -1;
    sem_t *sem = shm_map(ts, sizeof *sem, spawnable, &s->shm_fd);
    if (!sem) return ERROR_VAL;
    if (sem_init(sem, 1, (unsigned)value) != 0) {
        int err = errno;
        munmap(sem, sizeof *sem);
        return file_raise_oserror(ts, err, NONE_VAL);
    }
    s->sem = sem;
    return OBJ_VAL(s);
}

static Value semaphore_acquire(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"$self", "block", "timeout"};
    Value v[3];
    if (!args_bind(ts, "acquire", args, nargs, kwnames, names, 3, 1, 3, v)) return ERROR_VAL;
    double timeout;
    if (!block_timeout_args(ts, v[1], v[2], &timeout)) return ERROR_VAL;
    int r = sem_acquire(ts, ((ObjSemaphore *)AS_OBJ(v[0]))->sem, timeout);
    return r < 0 ? ERROR_VAL : BOOL_VAL(r == 1);
}

static bool semaphore_release_raw(TState *ts, ObjSemaphore *s) {
    if (s->maxvalue >= 0) {
        int value;
        if (sem_getvalue(s->sem, &value) == 0 && value >= s->maxvalue) {
            err_format(ts, ts->interp->exc.ValueError, "semaphore or lock released too many times");
            return false;
        }
    }
    if (sem_post(s->sem) == 0) return true;
    if (errno == EOVERFLOW)
        err_format(ts, ts->interp->exc.OverflowError, "semaphore value too large");
    else
        file_raise_oserror(ts, errno, NONE_VAL);
    return false;
}

static Value semaphore_release(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "release", nargs, kwnames, 1, 1)) return ERROR_VAL;
    return semaphore_release_raw(ts, (ObjSemaphore *)AS_OBJ(args[0])) ? NONE_VAL : ERROR_VAL;
}

static Value semaphore_exit(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__exit__", nargs, kwnames, 1, 4)) return ERROR_VAL;
    return semaphore_release_raw(ts, (ObjSemaphore *)AS_OBJ(args[0])) ? NONE_VAL : ERROR_VAL;
}

static Value semaphore_get_value(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "get_value", nargs, kwnames, 1, 1)) return ERROR_VAL;
    int value = 0;
    sem_getvalue(((ObjSemaphore *)AS_OBJ(args[0]))->sem, &value);
    return INT_VAL(value < 0 ? 0 : value);
}

static Value semaphore_repr(TState *ts, Value self) {
    ObjSemaphore *s = (ObjSemaphore *)AS_OBJ(self);
    int value = 0;
    sem_getvalue(s->sem, &value);
    if (s->maxvalue >= 0)
        return OBJ_VAL(str_printf(ts, "<BoundedSemaphore(value=%d, maxvalue=%lld)>", value,
                                  (long long)s->maxvalue));
    return OBJ_VAL(str_printf(ts, "<Semaphore(value=%d)>", value));
}

static Value semaphore_reduce(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__reduce__", nargs, kwnames, 1, 1)) return ERROR_VAL;
    ObjSemaphore *s = (ObjSemaphore *)AS_OBJ(args[0]);
    Value max = INT_VAL(s->maxvalue);
    ObjTuple *params = tuple_from(ts, &max, 1);
    if (!params) return ERROR_VAL;
    return reduce_for_child(ts, args[0], &s->shm_fd, 1, OBJ_VAL(params));
}

static const NativeDef semaphore_methods[] = {
    {"__reduce__", semaphore_reduce},
    {"acquire", semaphore_acquire},
    {"__enter__", semaphore_acquire},
    {"release", semaphore_release},
    {"__exit__", semaphore_exit},
    {"get_value", semaphore_get_value},
    {NULL, NULL},
};

static const TypeSpec mp_semaphore_spec = {
    .name = "Semaphore",
    .kind = OBJ_OPAQUE,
    .repr = semaphore_repr,
    .new_ = semaphore_new,
    .finalize = semaphore_finalize,
    .methods = semaphore_methods,
};

static const TypeSpec mp_bounded_semaphore_spec = {
    .name = "BoundedSemaphore",
    .kind = OBJ_OPAQUE,
    .repr = semaphore_repr,
    .new_ = semaphore_new,
    .finalize = semaphore_finalize,
    .methods = semaphore_methods,
};

/* ---- Event ---------------------------------------------------------------- */

typedef struct SharedFlag {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    int flag;
} SharedFlag;

typedef struct ObjEvent {
    Obj obj;
    SharedFlag *shared;
    int shm_fd; /* its memory file (see shm_map), or -1 */
} ObjEvent;

static void event_finalize(Obj *self) {
    ObjEvent *e = (ObjEvent *)self;
    if (e->shared && !held_in_this_process(&e->shared->mutex)) munmap(e->shared, sizeof *e->shared);
    if (e->shm_fd >= 0) close(e->shm_fd);
}

/* Event(spawnable=False) */
static Value event_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"spawnable"};
    Value v[1];
    bool spawnable;
    if (!args_bind(ts, "Event", args, nargs, kwnames, names, 1, 0, 1, v) || !spawnable_arg(ts, v[0], &spawnable))
        return ERROR_VAL;
    ObjEvent *e = (ObjEvent *)gc_alloc(ts, sizeof(ObjEvent), OBJ_OPAQUE, type);
    if (!e) return ERROR_VAL;
    e->shm_fd = -1;
    e->shared = shm_map(ts, sizeof *e->shared, spawnable, &e->shm_fd);
    if (!e->shared) return ERROR_VAL;
    int r = shared_mutex_init(&e->shared->mutex, PTHREAD_MUTEX_NORMAL);
    if (!r) r = shared_cond_init(&e->shared->cond);
    if (r) return file_raise_oserror(ts, r, NONE_VAL);
    return OBJ_VAL(e);
}

static int event_step(void *ctx, const struct timespec *until) {
    SharedFlag *f = ctx;
    shared_mutex_lock(&f->mutex);
    while (!f->flag && sync_cond_wait_until(&f->cond, &f->mutex, until)) {}
    int set = f->flag;
    PT_CHECK(pthread_mutex_unlock(&f->mutex));
    return set ? 1 : 0;
}

static void event_store(ObjEvent *e, int flag) {
    SharedFlag *f = e->shared;
    shared_mutex_lock(&f->mutex);
    __atomic_store_n(&f->flag, flag, __ATOMIC_RELEASE);
    if (flag) PT_CHECK(pthread_cond_broadcast(&f->cond));
    PT_CHECK(pthread_mutex_unlock(&f->mutex));
}

static Value event_set(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "set", nargs, kwnames, 1, 1)) return ERROR_VAL;
    event_store((ObjEvent *)AS_OBJ(args[0]), 1);
    return NONE_VAL;
}

static Value event_clear(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "clear", nargs, kwnames, 1, 1)) return ERROR_VAL;
    event_store((ObjEvent *)AS_OBJ(args[0]), 0);
    return NONE_VAL;
}

static Value event_is_set(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "is_set", nargs, kwnames, 1, 1)) return ERROR_VAL;
    return BOOL_VAL(__atomic_load_n(&((ObjEvent *)AS_OBJ(args[0]))->shared->flag, __ATOMIC_ACQUIRE));
}

static Value event_wait(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"$self", "timeout"};
    Value v[2];
    if (!args_bind(ts, "wait", args, nargs, kwnames, names, 2, 1, 2, v)) return ERROR_VAL;
    double timeout;
    if (!timeout_arg(ts, v[1], &timeout)) return ERROR_VAL;
    SharedFlag *f = ((ObjEvent *)AS_OBJ(v[0]))->shared;
    if (__atomic_load_n(&f->flag, __ATOMIC_ACQUIRE)) return TRUE_VAL;
    int r = thread_wait(ts, event_step, f, timeout);
    return r < 0 ? ERROR_VAL : BOOL_VAL(r == 1);
}

static Value event_reduce(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__reduce__", nargs, kwnames, 1, 1)) return ERROR_VAL;
    ObjTuple *params = tuple_new(ts, 0);
    if (!params) return ERROR_VAL;
    return reduce_for_child(ts, args[0], &((ObjEvent *)AS_OBJ(args[0]))->shm_fd, 1, OBJ_VAL(params));
}

static const NativeDef event_methods[] = {
    {"__reduce__", event_reduce},
    {"set", event_set},
    {"clear", event_clear},
    {"is_set", event_is_set},
    {"wait", event_wait},
    {NULL, NULL},
};

static const TypeSpec mp_event_spec = {
    .name = "Event",
    .kind = OBJ_OPAQUE,
    .new_ = event_new,
    .finalize = event_finalize,
    .methods = event_methods,
};

/* ---- framed messages over file descriptors -------------------------------- */

/* A message on a pipe or socket: an 8-byte little-endian length, then a
 * serialized value. */
#define FRAME_HEADER 8

static bool frame_begin(TState *ts, StrBuf *sb) {
    sb_init(sb);
    if (sb_append(sb, "\0\0\0\0\0\0\0\0", FRAME_HEADER)) return true;
    err_no_memory(ts);
    return false;
}

/* Serializes v into a complete frame; false after raising. */
static bool frame_value(TState *ts, Value v, StrBuf *sb) {
    if (!frame_begin(ts, sb)) return false;
    if (!serialize_dump(ts, v, sb)) {
        sb_free(sb);
        return false;
    }
    uint64_t n = sb->len - FRAME_HEADER;
    for (int i = 0; i < FRAME_HEADER; i++) sb->data[i] = (char)(n >> (8 * i));
    return true;
}

/* Writes all of buf; returns 0 or an errno. Called detached. The whole
 * frame goes out even if a signal arrives, or the stream would be torn. */
static int write_all(int fd, bool is_socket, const char *buf, size_t n) {
    while (n > 0) {
        ssize_t w = is_socket ? send(fd, buf, n, MSG_NOSIGNAL) : write(fd, buf, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads exactly n bytes: 0, -1 at end of file before the first byte, -2
 * at end of file in the middle, or an errno. Called detached. */
static int read_all(int fd, char *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        if (r == 0) return got == 0 ? -1 : -2;
        got += (size_t)r;
    }
    return 0;
}

/* The payload length a frame header gives. */
static uint64_t frame_length(const unsigned char h[FRAME_HEADER]) {
    uint64_t n = 0;
    for (int i = 0; i < FRAME_HEADER; i++) n |= (uint64_t)h[i] << (8 * i);
    return n;
}

/* Reads a payload of n bytes (malloc'd into *out): 0, -2 at end of file,
 * EPROTO for a length no message has, ENOMEM, or an errno. Detached. */
static int read_payload(int fd, uint64_t n, char **out, size_t *len) {
    if (n > ((uint64_t)1 << 40)) return EPROTO;
    char *buf = malloc(n ? (size_t)n : 1);
    if (!buf) return ENOMEM;
    int r = read_all(fd, buf, (size_t)n);
    if (r) {
        free(buf);
        return r == -1 ? -2 : r;
    }
    *out = buf;
    *len = (size_t)n;
    return 0;
}

/* Reads one frame's payload (malloc'd into *out); same results as
 * read_all, and read_payload's. Called detached. */
static int read_frame(int fd, char **out, size_t *len) {
    unsigned char h[FRAME_HEADER];
    int r = read_all(fd, (char *)h, FRAME_HEADER);
    return r ? r : read_payload(fd, frame_length(h), out, len);
}

/* Raises for a failed read_frame. */
static Value frame_error(TState *ts, int r) {
    if (r == -1) return err_raise(ts, OBJ_VAL(ts->interp->exc.EOFError));
    if (r == -2) return err_format(ts, ts->interp->exc.EOFError, "connection closed in the middle of a message");
    if (r == ENOMEM) return err_no_memory(ts);
    return file_raise_oserror(ts, r, NONE_VAL);
}

static Value load_payload(TState *ts, char *buf, size_t len) {
    Value v = serialize_load(ts, buf, len);
    free(buf);
    return v;
}

/* Is fd readable (data or end of file) within timeout seconds (< 0: no
 * limit)? 1 yes, 0 no, -1 after raising. */
static int wait_readable(TState *ts, int fd, double timeout) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    return thread_poll(ts, &pfd, 1, timeout);
}

/* ---- Message: a value serialized now, sent later ------------------------- */

typedef struct ObjMessage {
    Obj obj;
    char *frame; /* header and payload */
    size_t len;
} ObjMessage;

static void message_finalize(Obj *self) { free(((ObjMessage *)self)->frame); }

static Value message_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "Message", nargs, kwnames, 1, 1)) return ERROR_VAL;
    StrBuf sb;
    if (!frame_value(ts, args[0], &sb)) return ERROR_VAL;
    ObjMessage *m = (ObjMessage *)gc_alloc(ts, sizeof(ObjMessage), OBJ_OPAQUE, type);
    if (!m) {
        sb_free(&sb);
        return ERROR_VAL;
    }
    m->frame = sb_take(&sb, &m->len);
    return OBJ_VAL(m);
}

static Value message_load(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "load", nargs, kwnames, 1, 1)) return ERROR_VAL;
    ObjMessage *m = (ObjMessage *)AS_OBJ(args[0]);
    return serialize_load(ts, m->frame + FRAME_HEADER, m->len - FRAME_HEADER);
}

static const NativeDef message_methods[] = {
    {"load", message_load},
    {NULL, NULL},
};

static const TypeSpec mp_message_spec = {
    .name = "Message",
    .kind = OBJ_OPAQUE,
    .new_ = message_new,
    .finalize = message_finalize,
    .methods = message_methods,
};

static bool is_message(Value v) { return IS_OBJ(v) && OBJ_TYPE(v)->finalize == message_finalize; }

/* ---- Connection ------------------------------------------------------------ */

typedef struct ObjConnection {
    Obj obj;
    _Atomic int fd; /* -1 once closed */
    bool readable;
    bool writable;
    bool is_socket;
} ObjConnection;

static void connection_finalize(Obj *self) {
    int fd = atomic_exchange(&((ObjConnection *)self)->fd, -1);
    if (fd >= 0) close(fd);
}

/* Connection(fd, readable=True, writable=True): owns fd from now on. */
static Value connection_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"fd", "readable", "writable"};
    Value v[3];
    if (!args_bind(ts, "Connection", args, nargs, kwnames, names, 3, 1, 3, v)) return ERROR_VAL;
    int64_t fd;
    if (!args_int(ts, v[0], &fd)) return ERROR_VAL;
    int readable = 1, writable = 1;
    if (!IS_EMPTY(v[1]) && (readable = ops_truth(ts, v[1])) < 0) return ERROR_VAL;
    if (!IS_EMPTY(v[2]) && (writable = ops_truth(ts, v[2])) < 0) return ERROR_VAL;
    if (fd < 0 || fd > INT32_MAX) return err_format(ts, ts->interp->exc.ValueError, "invalid file descriptor");
    struct stat st;
    if (fstat((int)fd, &st) != 0) return file_raise_oserror(ts, errno, NONE_VAL);
    ObjConnection *c = (ObjConnection *)gc_alloc(ts, sizeof(ObjConnection), OBJ_OPAQUE, type);
    if (!c) return ERROR_VAL;
    atomic_init(&c->fd, (int)fd);
    c->readable = readable;
    c->writable = writable;
    c->is_socket = S_ISSOCK(st.st_mode);
    return OBJ_VAL(c);
}

/* The descriptor of an open connection, else raises OSError "handle is
 * closed" (CPython's wording) and returns -1. */
static int connection_fd(TState *ts, ObjConnection *c, bool want_read) {
    int fd = atomic_load(&c->fd);
    if (fd < 0) {
        err_format(ts, ts->interp->exc.OSError, "handle is closed");
        return -1;
    }
    if (want_read && !c->readable) {
        err_format(ts, ts->interp->exc.OSError, "connection is write-only");
        return -1;
    }
    if (!want_read && !c->writable) {
        err_format(ts, ts->interp->exc.OSError, "connection is read-only");
        return -1;
    }
    return fd;
}

static bool send_frame(TState *ts, ObjConnection *c, int fd, const char *frame, size_t len) {
    thread_detach(ts);
    int err = write_all(fd, c->is_socket, frame, len);
    thread_attach(ts);
    if (err) file_raise_oserror(ts, err, NONE_VAL);
    return err == 0;
}

/* send(obj): serialized here, so a value that cannot travel raises at
 * once. send(Message) sends what the Message holds. */
static Value connection_send(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "send", nargs, kwnames, 2, 2)) return ERROR_VAL;
    ObjConnection *c = (ObjConnection *)AS_OBJ(args[0]);
    int fd = connection_fd(ts, c, false);
    if (fd < 0) return ERROR_VAL;
    if (is_message(args[1])) {
        ObjMessage *m = (ObjMessage *)AS_OBJ(args[1]);
        return send_frame(ts, c, fd, m->frame, m->len) ? NONE_VAL : ERROR_VAL;
    }
    StrBuf sb;
    if (!frame_value(ts, args[1], &sb)) return ERROR_VAL;
    bool ok = send_frame(ts, c, fd, sb.data, sb.len);
    sb_free(&sb);
    return ok ? NONE_VAL : ERROR_VAL;
}

static Value connection_recv(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "recv", nargs, kwnames, 1, 1)) return ERROR_VAL;
    ObjConnection *c = (ObjConnection *)AS_OBJ(args[0]);
    int fd = connection_fd(ts, c, true);
    if (fd < 0) return ERROR_VAL;
    int ready = wait_readable(ts, fd, -1);
    if (ready < 0) return ERROR_VAL;
    char *buf = NULL;
    size_t len = 0;
    thread_detach(ts);
    int r = read_frame(fd, &buf, &len);
    thread_attach(ts);
    if (r) return frame_error(ts, r);
    return load_payload(ts, buf, len);
}

/* poll(timeout=0.0): is there something to read (or end of file)? */
static Value connection_poll(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"$self", "timeout"};
    Value v[2];
    if (!args_bind(ts, "poll", args, nargs, kwnames, names, 2, 1, 2, v)) return ERROR_VAL;
    double timeout = 0;
    if (!IS_EMPTY(v[1]) && !timeout_arg(ts, v[1], &timeout)) return ERROR_VAL;
    int fd = connection_fd(ts, (ObjConnection *)AS_OBJ(v[0]), true);
    if (fd < 0) return ERROR_VAL;
    int r = wait_readable(ts, fd, timeout);
    return r < 0 ? ERROR_VAL : BOOL_VAL(r == 1);
}

static Value connection_close(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "close", nargs, kwnames, 1, 4)) return ERROR_VAL;
    connection_finalize(AS_OBJ(args[0]));
    return NONE_VAL;
}

static Value connection_fileno(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "fileno", nargs, kwnames, 1, 1)) return ERROR_VAL;
    ObjConnection *c = (ObjConnection *)AS_OBJ(args[0]);
    int fd = atomic_load(&c->fd);
    if (fd < 0) return err_format(ts, ts->interp->exc.OSError, "handle is closed");
    return INT_VAL(fd);
}

static Value connection_enter(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__enter__", nargs, kwnames, 1, 1)) return ERROR_VAL;
    return args[0];
}

static Value connection_get_closed(TState *ts, Value self) {
    return BOOL_VAL(atomic_load(&((ObjConnection *)AS_OBJ(self))->fd) < 0);
}

static Value connection_get_readable(TState *ts, Value self) {
    return BOOL_VAL(((ObjConnection *)AS_OBJ(self))->readable);
}

static Value connection_get_writable(TState *ts, Value self) {
    return BOOL_VAL(((ObjConnection *)AS_OBJ(self))->writable);
}

/* A connection always travels to a spawned child (its descriptor is
 * passed), whatever the context it was made in. */
static Value connection_reduce(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__reduce__", nargs, kwnames, 1, 1)) return ERROR_VAL;
    ObjConnection *c = (ObjConnection *)AS_OBJ(args[0]);
    int fd = connection_fd(ts, c, c->readable);
    if (fd < 0) return ERROR_VAL;
    Value items[2] = {BOOL_VAL(c->readable), BOOL_VAL(c->writable)};
    ObjTuple *params = tuple_from(ts, items, 2);
    if (!params) return ERROR_VAL;
    return reduce_for_child(ts, args[0], &fd, 1, OBJ_VAL(params));
}

static const NativeDef connection_methods[] = {
    {"__reduce__", connection_reduce},
    {"send", connection_send},
    {"recv", connection_recv},
    {"poll", connection_poll},
    {"close", connection_close},
    {"fileno", connection_fileno},
    {"__enter__", connection_enter},
    {"__exit__", connection_close},
    {NULL, NULL},
};

static const GetSetDef connection_getsets[] = {
    {"closed", connection_get_closed, NULL},
    {"readable", connection_get_readable, NULL},
    {"writable", connection_get_writable, NULL},
    {NULL, NULL, NULL},
};

static const TypeSpec mp_connection_spec = {
    .name = "Connection",
    .kind = OBJ_OPAQUE,
    .new_ = connection_new,
    .finalize = connection_finalize,
    .methods = connection_methods,
    .getsets = connection_getsets,
};

/* ---- Channel: the core of multiprocessing.Queue -------------------------- */

/* A queue never makes put() wait for a reader (only a maxsize does), so a
 * process that put items can always end and be joined. Frames go into a
 * pipe while they fit in it at once; a frame that does not fit (the pipe
 * is full, or the frame is larger than PIPE_BUF, the most a pipe takes in
 * one piece) goes to the spill, a memory file, followed by a marker frame
 * in the pipe to wake a reader. While the spill holds frames, every frame
 * goes there, so all frames in the pipe are older than all frames in the
 * spill: a reader takes from the pipe while it has data (skipping
 * markers), then from the spill. */
typedef struct ChannelShared {
    pthread_mutex_t rlock;  /* one reader at a time reads a whole frame */
    pthread_mutex_t wlock;  /* one writer at a time writes a whole frame */
    sem_t slots;            /* free places, when maxsize > 0 */
    _Atomic int64_t count;  /* frames put and not yet taken */
    pthread_mutex_t tasks_lock; /* JoinableQueue: unfinished tasks */
    pthread_cond_t tasks_done;
    int64_t unfinished;
    pthread_mutex_t spill_lock; /* the three fields below */
    uint64_t spill_head, spill_tail; /* byte offsets of the frames in the spill */
    int64_t spilled;                 /* frames in the spill */
} ChannelShared;

typedef struct ObjChannel {
    Obj obj;
    int rfd, wfd; /* wfd is non-blocking: only whole frames go in */
    int spill_fd;
    int shm_fd; /* the memory file of shared (see shm_map), or -1 */
    int64_t maxsize;
    ChannelShared *shared;
} ObjChannel;

/* The pipe's capacity, raised as far as the system lets an unprivileged
 * process (1 MiB by default): frames beyond it wait in the spill. */
#define CHANNEL_PIPE_BYTES (1 << 20)

/* The length field of a marker frame: "a frame waits in the spill". */
#define SPILL_MARKER UINT64_MAX

static void channel_finalize(Obj *self) {
    ObjChannel *c = (ObjChannel *)self;
    if (c->rfd >= 0) close(c->rfd);
    if (c->wfd >= 0) close(c->wfd);
    if (c->spill_fd >= 0) close(c->spill_fd);
    if (c->shm_fd >= 0) close(c->shm_fd);
    ChannelShared *s = c->shared;
    if (s && !held_in_this_process(&s->rlock) && !held_in_this_process(&s->wlock) &&
        !held_in_this_process(&s->tasks_lock) && !held_in_this_process(&s->spill_lock))
        munmap(s, sizeof *s);
}

/* Channel(maxsize=0, spawnable=False) */
static Value channel_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"maxsize", "spawnable"};
    Value v[2];
    bool spawnable;
    if (!args_bind(ts, "Channel", args, nargs, kwnames, names, 2, 0, 2, v) || !spawnable_arg(ts, v[1], &spawnable))
        return ERROR_VAL;
    int64_t maxsize = 0;
    if (!IS_EMPTY(v[0]) && !args_int(ts, v[0], &maxsize)) return ERROR_VAL;
    if (maxsize <= 0) maxsize = 0;
    if (maxsize > SEM_VALUE_MAX) maxsize = SEM_VALUE_MAX;
    ObjChannel *c = (ObjChannel *)gc_alloc(ts, sizeof(ObjChannel), OBJ_OPAQUE, type);
    if (!c) return ERROR_VAL;
    c->rfd = c->wfd = c->spill_fd = c->shm_fd = -1;
    c->maxsize = maxsize;
    c->shared = NULL;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return file_raise_oserror(ts, errno, NONE_VAL);
    c->rfd = fds[0];
    c->wfd = fds[1];
    fcntl(c->wfd, F_SETPIPE_SZ, CHANNEL_PIPE_BYTES);
    if (fcntl(c->wfd, F_SETFL, O_NONBLOCK) != 0) return file_raise_oserror(ts, errno, NONE_VAL);
    c->spill_fd = memfd_create("mini-queue-spill", MFD_CLOEXEC);
    if (c->spill_fd < 0) return file_raise_oserror(ts, errno, NONE_VAL);
    ChannelShared *s = shm_map(ts, sizeof *s, spawnable, &c->shm_fd);
    if (!s) return ERROR_VAL;
    c->shared = s;
    int r = shared_mutex_init(&s->rlock, PTHREAD_MUTEX_NORMAL);
    if (!r) r = shared_mutex_init(&s->wlock, PTHREAD_MUTEX_NORMAL);
    if (!r) r = shared_mutex_init(&s->tasks_lock, PTHREAD_MUTEX_NORMAL);
    if (!r) r = shared_cond_init(&s->tasks_done);
    if (!r) r = shared_mutex_init(&s->spill_lock, PTHREAD_MUTEX_NORMAL);
    if (!r && sem_init(&s->slots, 1, (unsigned)maxsize) != 0) r = errno;
    if (r) return file_raise_oserror(ts, r, NONE_VAL);
    atomic_init(&s->count, 0);
    s->unfinished = 0;
    s->spill_head = s->spill_tail = 0;
    s->spilled = 0;
    return OBJ_VAL(c);
}

static int pwrite_all(int fd, const char *buf, size_t n, uint64_t at) {
    while (n > 0) {
        ssize_t w = pwrite(fd, buf, n, (off_t)at);
        if (w < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        buf += w;
        at += (uint64_t)w;
        n -= (size_t)w;
    }
    return 0;
}

static int pread_all(int fd, char *buf, size_t n, uint64_t at) {
    while (n > 0) {
        ssize_t r = pread(fd, buf, n, (off_t)at);
        if (r < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        if (r == 0) return EPROTO;
        buf += r;
        at += (uint64_t)r;
        n -= (size_t)r;
    }
    return 0;
}

/* One frame into the pipe, whole and without waiting, or into the spill
 * (see ChannelShared). Called detached, with wlock held. 0 or an errno. */
static int channel_write(ObjChannel *c, const char *frame, size_t len) {
    ChannelShared *s = c->shared;
    shared_mutex_lock(&s->spill_lock);
    int err = 0;
    bool spill = s->spilled > 0 || len > PIPE_BUF;
    if (!spill) {
        ssize_t w;
        do w = write(c->wfd, frame, len);
        while (w < 0 && errno == EINTR);
        if (w < 0 && errno == EAGAIN) spill = true;
        else if (w < 0) err = errno;
    }
    if (spill) {
        err = pwrite_all(c->spill_fd, frame, len, s->spill_tail);
        if (!err) {
            s->spill_tail += len;
            s->spilled++;
            /* A full pipe needs no marker: its reader is not waiting. */
            unsigned char marker[FRAME_HEADER];
            memset(marker, 0xff, sizeof marker);
            ssize_t w;
            do w = write(c->wfd, marker, sizeof marker);
            while (w < 0 && errno == EINTR);
        }
    }
    PT_CHECK(pthread_mutex_unlock(&s->spill_lock));
    return err;
}

/* Takes the oldest spilled frame's payload if the spill has one: 1 taken,
 * 0 none, or an errno. Called detached, with rlock held. */
static int channel_take_spilled(ObjChannel *c, char **out, size_t *len) {
    ChannelShared *s = c->shared;
    shared_mutex_lock(&s->spill_lock);
    int r = 0;
    if (s->spilled > 0) {
        unsigned char h[FRAME_HEADER];
        r = pread_all(c->spill_fd, (char *)h, FRAME_HEADER, s->spill_head);
        uint64_t n = frame_length(h);
        char *buf = NULL;
        if (!r && !(buf = malloc(n ? (size_t)n : 1))) r = ENOMEM;
        if (!r) r = pread_all(c->spill_fd, buf, (size_t)n, s->spill_head + FRAME_HEADER);
        if (!r) {
            s->spill_head += FRAME_HEADER + n;
            if (--s->spilled == 0) {
                /* Empty again: give the memory back. */
                s->spill_head = s->spill_tail = 0;
                while (ftruncate(c->spill_fd, 0) < 0 && errno == EINTR) {}
            }
            *out = buf;
            *len = (size_t)n;
            r = 1;
        } else {
            free(buf);
        }
    }
    PT_CHECK(pthread_mutex_unlock(&s->spill_lock));
    return r;
}

/* The next frame's payload, from the pipe or the spill: 1 and the payload,
 * 0 nothing in time, -1 after raising. It waits until `deadline` when
 * timeout > 0, not at all when it is 0, without limit when it is < 0.
 * Called attached, with rlock held. */
static int channel_read(TState *ts, ObjChannel *c, double timeout, const struct timespec *deadline, char **out,
                        size_t *len) {
    for (;;) {
        struct pollfd pfd = {.fd = c->rfd, .events = POLLIN};
        if (poll(&pfd, 1, 0) <= 0) {
            thread_detach(ts);
            int r = channel_take_spilled(c, out, len);
            thread_attach(ts);
            if (r == 1) return 1;
            if (r > 0) {
                frame_error(ts, r);
                return -1;
            }
            double left = timeout > 0 ? sync_seconds_until(deadline) : timeout;
            int ready = wait_readable(ts, c->rfd, left);
            if (ready <= 0) return ready;
        }
        unsigned char h[FRAME_HEADER];
        thread_detach(ts);
        int r = read_all(c->rfd, (char *)h, FRAME_HEADER);
        bool marker = !r && frame_length(h) == SPILL_MARKER;
        if (!r && !marker) r = read_payload(c->rfd, frame_length(h), out, len);
        thread_attach(ts);
        if (r) {
            frame_error(ts, r);
            return -1;
        }
        if (!marker) return 1;
    }
}

/* put(obj, block=True, timeout=None) -> False when full. The value is
 * serialized first, so one that cannot travel raises TypeError here. */
static Value channel_put(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"$self", "obj", "block", "timeout"};
    Value v[4];
    if (!args_bind(ts, "put", args, nargs, kwnames, names, 4, 2, 4, v)) return ERROR_VAL;
    ObjChannel *c = (ObjChannel *)AS_OBJ(v[0]);
    double timeout;
    if (!block_timeout_args(ts, v[2], v[3], &timeout)) return ERROR_VAL;
    StrBuf sb;
    if (!frame_value(ts, v[1], &sb)) return ERROR_VAL;
    ChannelShared *s = c->shared;
    int r = c->maxsize > 0 ? sem_acquire(ts, &s->slots, timeout) : 1;
    if (r == 1) r = shared_mutex_acquire(ts, &s->wlock, -1);
    if (r != 1) {
        sb_free(&sb);
        return r < 0 ? ERROR_VAL : FALSE_VAL;
    }
    shared_mutex_lock(&s->tasks_lock);
    s->unfinished++;
    PT_CHECK(pthread_mutex_unlock(&s->tasks_lock));
    atomic_fetch_add(&s->count, 1);
    thread_detach(ts);
    int err = channel_write(c, sb.data, sb.len);
    PT_CHECK(pthread_mutex_unlock(&s->wlock));
    thread_attach(ts);
    sb_free(&sb);
    if (err) return file_raise_oserror(ts, err, NONE_VAL);
    return TRUE_VAL;
}

/* get(block=True, timeout=None) -> (True, obj), or (False, None) when
 * nothing came in time. */
static Value channel_get(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"$self", "block", "timeout"};
    Value v[3];
    if (!args_bind(ts, "get", args, nargs, kwnames, names, 3, 1, 3, v)) return ERROR_VAL;
    ObjChannel *c = (ObjChannel *)AS_OBJ(v[0]);
    double timeout;
    if (!block_timeout_args(ts, v[1], v[2], &timeout)) return ERROR_VAL;
    struct timespec deadline = sync_deadline(timeout < 0 ? 0 : timeout);
    ChannelShared *s = c->shared;
    int r = shared_mutex_acquire(ts, &s->rlock, timeout);
    if (r < 0) return ERROR_VAL;
    char *buf = NULL;
    size_t len = 0;
    if (r == 1) {
        r = channel_read(ts, c, timeout, &deadline, &buf, &len);
        if (r == 1) atomic_fetch_sub(&s->count, 1);
        PT_CHECK(pthread_mutex_unlock(&s->rlock));
        if (r == 1 && c->maxsize > 0) sem_post(&s->slots);
        if (r < 0) return ERROR_VAL;
    }
    if (r == 0) {
        ObjTuple *t = tuple_pack2(ts, FALSE_VAL, NONE_VAL);
        return t ? OBJ_VAL(t) : ERROR_VAL;
    }
    Value item = load_payload(ts, buf, len);
    if (IS_ERROR(item)) return item;
    vm_push(ts, item);
    ObjTuple *t = tuple_pack2(ts, TRUE_VAL, item);
    vm_pop(ts);
    return t ? OBJ_VAL(t) : ERROR_VAL;
}

static Value channel_qsize(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "qsize", nargs, kwnames, 1, 1)) return ERROR_VAL;
    int64_t n = atomic_load(&((ObjChannel *)AS_OBJ(args[0]))->shared->count);
    return INT_VAL(n < 0 ? 0 : n);
}

/* No frame put and not yet taken (the pipe may hold only markers). */
static Value channel_empty(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "empty", nargs, kwnames, 1, 1)) return ERROR_VAL;
    return BOOL_VAL(atomic_load(&((ObjChannel *)AS_OBJ(args[0]))->shared->count) <= 0);
}

static Value channel_full(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "full", nargs, kwnames, 1, 1)) return ERROR_VAL;
    ObjChannel *c = (ObjChannel *)AS_OBJ(args[0]);
    if (c->maxsize <= 0) return FALSE_VAL;
    int value = 1;
    sem_getvalue(&c->shared->slots, &value);
    return BOOL_VAL(value <= 0);
}

static Value channel_task_done(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "task_done", nargs, kwnames, 1, 1)) return ERROR_VAL;
    ChannelShared *s = ((ObjChannel *)AS_OBJ(args[0]))->shared;
    shared_mutex_lock(&s->tasks_lock);
    bool too_many = s->unfinished <= 0;
    if (!too_many && --s->unfinished == 0) PT_CHECK(pthread_cond_broadcast(&s->tasks_done));
    PT_CHECK(pthread_mutex_unlock(&s->tasks_lock));
    if (too_many) return err_format(ts, ts->interp->exc.ValueError, "task_done() called too many times");
    return NONE_VAL;
}

static int tasks_step(void *ctx, const struct timespec *until) {
    ChannelShared *s = ctx;
    shared_mutex_lock(&s->tasks_lock);
    while (s->unfinished > 0 && sync_cond_wait_until(&s->tasks_done, &s->tasks_lock, until)) {}
    bool done = s->unfinished <= 0;
    PT_CHECK(pthread_mutex_unlock(&s->tasks_lock));
    return done ? 1 : 0;
}

static Value channel_join(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "join", nargs, kwnames, 1, 1)) return ERROR_VAL;
    int r = thread_wait(ts, tasks_step, ((ObjChannel *)AS_OBJ(args[0]))->shared, -1);
    return r < 0 ? ERROR_VAL : NONE_VAL;
}

static Value channel_reduce(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__reduce__", nargs, kwnames, 1, 1)) return ERROR_VAL;
    ObjChannel *c = (ObjChannel *)AS_OBJ(args[0]);
    Value max = INT_VAL(c->maxsize);
    ObjTuple *params = tuple_from(ts, &max, 1);
    if (!params) return ERROR_VAL;
    int fds[4] = {c->shm_fd, c->rfd, c->wfd, c->spill_fd};
    return reduce_for_child(ts, args[0], fds, 4, OBJ_VAL(params));
}

static const NativeDef channel_methods[] = {
    {"__reduce__", channel_reduce},
    {"put", channel_put},
    {"get", channel_get},
    {"qsize", channel_qsize},
    {"empty", channel_empty},
    {"full", channel_full},
    {"task_done", channel_task_done},
    {"join", channel_join},
    {NULL, NULL},
};

static const TypeSpec mp_channel_spec = {
    .name = "Channel",
    .kind = OBJ_OPAQUE,
    .new_ = channel_new,
    .finalize = channel_finalize,
    .methods = channel_methods,
};

/* ---- SharedValue and SharedArray ----------------------------------------- */

typedef struct CType {
    char code;
    unsigned char size;
    bool is_signed;
    bool is_float;
    const char *name; /* ctypes' */
} CType;

static const CType ctypes_table[] = {
    {'b', 1, true, false, "c_byte"},      {'B', 1, false, false, "c_ubyte"},
    {'h', 2, true, false, "c_short"},     {'H', 2, false, false, "c_ushort"},
    {'i', 4, true, false, "c_int"},       {'I', 4, false, false, "c_uint"},
    {'l', 8, true, false, "c_long"},      {'L', 8, false, false, "c_ulong"},
    {'q', 8, true, false, "c_longlong"},  {'Q', 8, false, false, "c_ulonglong"},
    {'f', 4, true, true, "c_float"},      {'d', 8, true, true, "c_double"},
    {'c', 1, false, false, "c_char"},
};

static const CType *ctype_find(TState *ts, Value code) {
    if (IS_STR(code) && AS_STR(code)->len == 1)
        for (size_t i = 0; i < sizeof ctypes_table / sizeof ctypes_table[0]; i++)
            if (ctypes_table[i].code == AS_STR(code)->data[0]) return &ctypes_table[i];
    if (IS_STR(code)) {
        err_format(ts, ts->interp->exc.TypeError,
                   "bad typecode (must be b, B, c, h, H, i, I, l, L, q, Q, f or d)");
        return NULL;
    }
    err_format(ts, ts->interp->exc.TypeError, "typecode must be a str, not %s", ops_type_name(ts, code));
    return NULL;
}

/* A Python value as the C number `t` stores: ints wrap around as ctypes
 * does; floats are refused for integer types. */
static bool ctype_convert(TState *ts, const CType *t, Value v, unsigned char out[8]) {
    if (t->code == 'c') {
        /* c_char takes one byte, as CPython's: a bytes or bytearray of
         * length 1, or an int below 256. */
        if (IS_INT(v) && AS_INT(v) >= 0 && AS_INT(v) < 256) {
            out[0] = (unsigned char)AS_INT(v);
            return true;
        }
        if (IS_BYTES(v) || IS_BYTEARRAY(v)) {
            Buffer b;
            if (!buffer_get(ts, v, &b, BUF_READ)) return false;
            bool one = b.len == 1;
            if (one) out[0] = (unsigned char)b.buf[0];
            buffer_release(ts, &b);
            if (one) return true;
        }
        err_format(ts, ts->interp->exc.TypeError, "one character bytes, bytearray or integer expected");
        return false;
    }
    if (t->is_float) {
        double d;
        if (!IS_FLOAT(v) && !IS_INTLIKE(v)) {
            err_format(ts, ts->interp->exc.TypeError, "must be real number, not %s", ops_type_name(ts, v));
            return false;
        }
        if (!float_coerce(ts, v, &d)) return false;
        if (t->size == 4) {
            float f = (float)d;
            memcpy(out, &f, 4);
        } else {
            memcpy(out, &d, 8);
        }
        return true;
    }
    if (!IS_INTLIKE(v)) {
        err_format(ts, ts->interp->exc.TypeError, "'%s' object cannot be interpreted as an integer",
                   ops_type_name(ts, v));
        return false;
    }
    uint64_t u;
    if (IS_BOOL(v)) {
        u = AS_BOOL(v);
    } else if (IS_INT(v)) {
        u = (uint64_t)AS_INT(v);
    } else {
        mpz_t z;
        mp_limb_t tmp[2];
        int_as_mpz(v, z, tmp);
        u = (uint64_t)mpz_getlimbn(z, 0);
        if (mpz_sgn(z) < 0) u = (uint64_t)0 - u;
    }
    switch (t->size) {
    case 1: out[0] = (unsigned char)u; break;
    case 2: { uint16_t x = (uint16_t)u; memcpy(out, &x, 2); break; }
    case 4: { uint32_t x = (uint32_t)u; memcpy(out, &x, 4); break; }
    default: memcpy(out, &u, 8); break;
    }
    return true;
}

static Value ctype_read(TState *ts, const CType *t, const unsigned char *p) {
    switch (t->code) {
    case 'b': return INT_VAL(*(const int8_t *)p);
    case 'B': return INT_VAL(*p);
    case 'h': { int16_t x; memcpy(&x, p, 2); return INT_VAL(x); }
    case 'H': { uint16_t x; memcpy(&x, p, 2); return INT_VAL(x); }
    case 'i': { int32_t x; memcpy(&x, p, 4); return INT_VAL(x); }
    case 'I': { uint32_t x; memcpy(&x, p, 4); return INT_VAL(x); }
    case 'l':
    case 'q': { int64_t x; memcpy(&x, p, 8); return int_from_i64(ts, x); }
    case 'L':
    case 'Q': { uint64_t x; memcpy(&x, p, 8); return int_from_u64(ts, x); }
    case 'f': { float x; memcpy(&x, p, 4); return FLOAT_VAL((double)x); }
    case 'd': { double x; memcpy(&x, p, 8); return FLOAT_VAL(x); }
    default: {
        ObjBytes *b = bytes_new(ts, (const char *)p, 1);
        return b ? OBJ_VAL(b) : ERROR_VAL;
    }
    }
}

/* Value(...) and Array(...) share one layout: count items of one C type
 * in shared memory, and the lock that guards each access (NONE_VAL for
 * the raw ones). */
typedef struct ObjShared {
    Obj obj;
    const CType *ctype;
    int64_t count;
    unsigned char *data;
    size_t map_bytes;
    int shm_fd; /* the memory file of data (see shm_map), or -1 */
    Value lock;
} ObjShared;

static void shared_trace(GcMarker *m, Obj *self) { gc_mark_value(m, ((ObjShared *)self)->lock); }

static void shared_finalize(Obj *self) {
    ObjShared *s = (ObjShared *)self;
    if (s->data) munmap(s->data, s->map_bytes);
    if (s->shm_fd >= 0) close(s->shm_fd);
}

/* Acquire or release the object's lock; false after raising. */
static bool shared_lock(TState *ts, ObjShared *s, bool acquire) {
    if (IS_NONE(s->lock)) return true;
    if (is_mutex(s->lock)) {
        ObjMutex *l = (ObjMutex *)AS_OBJ(s->lock);
        if (acquire) return mutex_acquire_raw(ts, l, -1) == 1;
        return mutex_release_raw(ts, l);
    }
    ObjStr *name = str_intern_cstr(ts, acquire ? "acquire" : "release");
    if (!name) return false;
    Value method = ops_getattr(ts, s->lock, name);
    if (IS_ERROR(method)) return false;
    return !IS_ERROR(ops_call(ts, method, NULL, 0, NULL));
}

/* The object over count items of ct: new shared memory (see shm_map), or
 * with fd >= 0, that of a passed memory file. */
static ObjShared *shared_alloc(TState *ts, ObjType *type, const CType *ct, int64_t count, Value lock,
                               bool spawnable, int fd) {
    size_t bytes = (size_t)count * ct->size;
    if (!bytes) bytes = 1;
    int shm_fd = fd;
    unsigned char *data = fd >= 0 ? shm_attach(ts, fd, bytes) : shm_map(ts, bytes, spawnable, &shm_fd);
    if (!data) return NULL;
    vm_push(ts, lock);
    ObjShared *s = (ObjShared *)gc_alloc(ts, sizeof(ObjShared), OBJ_OPAQUE, type);
    vm_pop(ts);
    if (!s) {
        munmap(data, bytes);
        if (shm_fd >= 0) close(shm_fd);
        return NULL;
    }
    s->ctype = ct;
    s->count = count;
    s->data = data;
    s->map_bytes = bytes;
    s->shm_fd = shm_fd;
    s->lock = lock;
    return s;
}

/* The lock argument of SharedValue and SharedArray: None, or an object
 * with acquire() and release() (multiprocessing makes an RLock for
 * lock=True). */
static Value lock_arg(Value lock) { return IS_EMPTY(lock) ? NONE_VAL : lock; }

/* SharedValue(typecode, value=0, lock=None, spawnable=False) */
static Value shared_value_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"typecode", "value", "lock", "spawnable"};
    Value v[4];
    bool spawnable;
    if (!args_bind(ts, "Value", args, nargs, kwnames, names, 4, 1, 4, v) || !spawnable_arg(ts, v[3], &spawnable))
        return ERROR_VAL;
    const CType *ct = ctype_find(ts, v[0]);
    if (!ct) return ERROR_VAL;
    unsigned char bytes[8] = {0};
    if (!IS_EMPTY(v[1]) && !ctype_convert(ts, ct, v[1], bytes)) return ERROR_VAL;
    ObjShared *s = shared_alloc(ts, type, ct, 1, lock_arg(v[2]), spawnable, -1);
    if (!s) return ERROR_VAL;
    memcpy(s->data, bytes, ct->size);
    return OBJ_VAL(s);
}

static Value shared_get_value(TState *ts, Value self) {
    ObjShared *s = (ObjShared *)AS_OBJ(self);
    if (!shared_lock(ts, s, true)) return ERROR_VAL;
    Value v = ctype_read(ts, s->ctype, s->data);
    if (!shared_lock(ts, s, false)) return ERROR_VAL;
    return v;
}

static int shared_set_value(TState *ts, Value self, Value value) {
    ObjShared *s = (ObjShared *)AS_OBJ(self);
    unsigned char bytes[8];
    if (!ctype_convert(ts, s->ctype, value, bytes)) return -1;
    if (!shared_lock(ts, s, true)) return -1;
    memcpy(s->data, bytes, s->ctype->size);
    return shared_lock(ts, s, false) ? 0 : -1;
}

static Value shared_get_lock(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "get_lock", nargs, kwnames, 1, 1)) return ERROR_VAL;
    ObjShared *s = (ObjShared *)AS_OBJ(args[0]);
    if (IS_NONE(s->lock))
        return err_format(ts, ts->interp->exc.AttributeError, "'%s' object has no attribute 'get_lock'",
                          s->ctype->name);
    return s->lock;
}

static Value shared_get_obj(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "get_obj", nargs, kwnames, 1, 1)) return ERROR_VAL;
    return args[0];
}

static Value shared_enter(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__enter__", nargs, kwnames, 1, 1)) return ERROR_VAL;
    ObjShared *s = (ObjShared *)AS_OBJ(args[0]);
    return shared_lock(ts, s, true) ? TRUE_VAL : ERROR_VAL;
}

static Value shared_exit(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__exit__", nargs, kwnames, 1, 4)) return ERROR_VAL;
    ObjShared *s = (ObjShared *)AS_OBJ(args[0]);
    return shared_lock(ts, s, false) ? NONE_VAL : ERROR_VAL;
}

static Value shared_value_repr(TState *ts, Value self) {
    ObjShared *s = (ObjShared *)AS_OBJ(self);
    Value v = shared_get_value(ts, self);
    if (IS_ERROR(v)) return v;
    Value r = ops_repr(ts, v);
    if (IS_ERROR(r)) return r;
    if (IS_NONE(s->lock)) return OBJ_VAL(str_printf(ts, "%s(%s)", s->ctype->name, AS_STR(r)->data));
    return OBJ_VAL(str_printf(ts, "<Synchronized wrapper for %s(%s)>", s->ctype->name, AS_STR(r)->data));
}

static Value shared_reduce(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__reduce__", nargs, kwnames, 1, 1)) return ERROR_VAL;
    ObjShared *s = (ObjShared *)AS_OBJ(args[0]);
    ObjStr *code = str_new(ts, &s->ctype->code, 1);
    if (!code) return ERROR_VAL;
    Value items[3] = {OBJ_VAL(code), INT_VAL(s->count), s->lock};
    vm_push(ts, OBJ_VAL(code));
    ObjTuple *params = tuple_from(ts, items, 3);
    vm_pop(ts);
    if (!params) return ERROR_VAL;
    return reduce_for_child(ts, args[0], &s->shm_fd, 1, OBJ_VAL(params));
}

static const NativeDef shared_value_methods[] = {
    {"__reduce__", shared_reduce},
    {"get_lock", shared_get_lock},
    {"get_obj", shared_get_obj},
    {"acquire", shared_enter},
    {"release", shared_exit},
    {"__enter__", shared_enter},
    {"__exit__", shared_exit},
    {NULL, NULL},
};

static const GetSetDef shared_value_getsets[] = {
    {"value", shared_get_value, shared_set_value},
    {NULL, NULL, NULL},
};

static const TypeSpec mp_shared_value_spec = {
    .name = "SharedValue",
    .kind = OBJ_OPAQUE,
    .repr = shared_value_repr,
    .new_ = shared_value_new,
    .trace = shared_trace,
    .finalize = shared_finalize,
    .methods = shared_value_methods,
    .getsets = shared_value_getsets,
};

/* SharedArray(typecode, size_or_initializer, lock=None, spawnable=False) */
static Value shared_array_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"typecode", "size_or_initializer", "lock", "spawnable"};
    Value v[4];
    bool spawnable;
    if (!args_bind(ts, "Array", args, nargs, kwnames, names, 4, 2, 4, v) || !spawnable_arg(ts, v[3], &spawnable))
        return ERROR_VAL;
    const CType *ct = ctype_find(ts, v[0]);
    if (!ct) return ERROR_VAL;
    ObjList *init = NULL;
    int64_t count;
    if (IS_INTLIKE(v[1])) {
        if (!args_int(ts, v[1], &count)) return ERROR_VAL;
        if (count < 0) return err_format(ts, ts->interp->exc.ValueError, "array size must be non-negative");
    } else {
        init = ops_to_list(ts, v[1]);
        if (!init) return ERROR_VAL;
        count = (int64_t)list_len(init);
    }
    if (count > ((int64_t)1 << 40) / ct->size) return err_no_memory(ts);
    if (init) vm_push(ts, OBJ_VAL(init));
    unsigned char *bytes = calloc((size_t)count + 1, ct->size);
    bool ok = bytes != NULL;
    if (!ok) err_no_memory(ts);
    for (int64_t i = 0; ok && init && i < count; i++)
        ok = ctype_convert(ts, ct, list_get(init, (size_t)i), bytes + i * ct->size);
    if (init) vm_pop(ts);
    ObjShared *s = ok ? shared_alloc(ts, type, ct, count, lock_arg(v[2]), spawnable, -1) : NULL;
    if (s) memcpy(s->data, bytes, (size_t)count * ct->size);
    free(bytes);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static int64_t shared_array_len(TState *ts, Value self) { return ((ObjShared *)AS_OBJ(self))->count; }

/* An index into the array, negative ones counting from the end. */
static bool array_index(TState *ts, ObjShared *s, int64_t i, int64_t *out) {
    if (i < 0) i += s->count;
    if (i < 0 || i >= s->count) {
        err_format(ts, ts->interp->exc.IndexError, "invalid index");
        return false;
    }
    *out = i;
    return true;
}

static Value shared_array_getitem(TState *ts, Value self, Value key) {
    ObjShared *s = (ObjShared *)AS_OBJ(self);
    int64_t i;
    int kind = seq_subscript(ts, key, &i);
    if (kind < 0) return ERROR_VAL;
    if (kind == 0)
        return err_format(ts, ts->interp->exc.TypeError, "indices must be integers");
    size_t size = s->ctype->size;
    if (kind == 1) {
        if (!array_index(ts, s, i, &i) || !shared_lock(ts, s, true)) return ERROR_VAL;
        Value v = ctype_read(ts, s->ctype, s->data + i * size);
        return shared_lock(ts, s, false) ? v : ERROR_VAL;
    }
    int64_t start, stop, step, n;
    if (slice_indices(ts, AS_SLICE(key), s->count, &start, &stop, &step, &n) < 0) return ERROR_VAL;
    if (s->ctype->code == 'c') {
        /* A slice of chars is bytes, as CPython's. */
        ObjBytes *b = bytes_alloc(ts, n > 0 ? (size_t)n : 0);
        if (!b || !shared_lock(ts, s, true)) return ERROR_VAL;
        for (int64_t k = 0, at = start; k < n; k++, at += step) b->data[k] = (char)s->data[at];
        return shared_lock(ts, s, false) ? OBJ_VAL(b) : ERROR_VAL;
    }
    ObjList *list = list_new(ts, (size_t)n);
    if (!list) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(list));
    bool ok = shared_lock(ts, s, true);
    for (int64_t k = 0, at = start; ok && k < n; k++, at += step) {
        Value v = ctype_read(ts, s->ctype, s->data + at * size);
        ok = !IS_ERROR(v) && list_append(ts, list, v) == 0;
    }
    if (!shared_lock(ts, s, false)) ok = false;
    vm_pop(ts);
    return ok ? OBJ_VAL(list) : ERROR_VAL;
}

static int shared_array_setitem(TState *ts, Value self, Value key, Value value) {
    ObjShared *s = (ObjShared *)AS_OBJ(self);
    if (IS_EMPTY(value)) {
        err_format(ts, ts->interp->exc.TypeError, "Array does not support item deletion");
        return -1;
    }
    int64_t i;
    int kind = seq_subscript(ts, key, &i);
    if (kind < 0) return -1;
    if (kind == 0) {
        err_format(ts, ts->interp->exc.TypeError, "indices must be integers");
        return -1;
    }
    size_t size = s->ctype->size;
    if (kind == 1) {
        unsigned char bytes[8];
        if (!array_index(ts, s, i, &i) || !ctype_convert(ts, s->ctype, value, bytes)) return -1;
        if (!shared_lock(ts, s, true)) return -1;
        memcpy(s->data + i * size, bytes, size);
        return shared_lock(ts, s, false) ? 0 : -1;
    }
    int64_t start, stop, step, n;
    if (slice_indices(ts, AS_SLICE(key), s->count, &start, &stop, &step, &n) < 0) return -1;
    ObjList *items = ops_to_list(ts, value);
    if (!items) return -1;
    if ((int64_t)list_len(items) != n) {
        err_format(ts, ts->interp->exc.ValueError, "Can only assign sequence of same size");
        return -1;
    }
    vm_push(ts, OBJ_VAL(items));
    unsigned char *bytes = malloc((size_t)n * size + 1);
    bool ok = bytes != NULL;
    if (!ok) err_no_memory(ts);
    for (int64_t k = 0; ok && k < n; k++) ok = ctype_convert(ts, s->ctype, list_get(items, (size_t)k), bytes + k * size);
    vm_pop(ts);
    if (ok && (ok = shared_lock(ts, s, true))) {
        for (int64_t k = 0, at = start; k < n; k++, at += step) memcpy(s->data + at * size, bytes + k * size, size);
        ok = shared_lock(ts, s, false);
    }
    free(bytes);
    return ok ? 0 : -1;
}

static Value shared_array_iter(TState *ts, Value self) { return seq_iter_new(ts, self); }

/* Array('c').value (up to the first NUL) and .raw (every byte). */
static Value chars_get(TState *ts, Value self, bool raw) {
    ObjShared *s = (ObjShared *)AS_OBJ(self);
    if (s->ctype->code != 'c')
        return err_format(ts, ts->interp->exc.AttributeError, "'%s' object has no attribute '%s'",
                          ops_type_name(ts, self), raw ? "raw" : "value");
    if (!shared_lock(ts, s, true)) return ERROR_VAL;
    size_t n = (size_t)s->count;
    if (!raw) {
        const unsigned char *nul = memchr(s->data, 0, n);
        if (nul) n = (size_t)(nul - s->data);
    }
    ObjBytes *b = bytes_new(ts, (const char *)s->data, n);
    return shared_lock(ts, s, false) && b ? OBJ_VAL(b) : ERROR_VAL;
}

static int chars_set(TState *ts, Value self, Value v, bool raw) {
    ObjShared *s = (ObjShared *)AS_OBJ(self);
    if (s->ctype->code != 'c') {
        err_format(ts, ts->interp->exc.AttributeError, "'%s' object has no attribute '%s'",
                   ops_type_name(ts, self), raw ? "raw" : "value");
        return -1;
    }
    Value b = bytes_from_buffer(ts, v);
    if (IS_ERROR(b)) return -1;
    size_t n = AS_BYTES(b)->len;
    if (n > (size_t)s->count) {
        err_format(ts, ts->interp->exc.ValueError, "byte string too long");
        return -1;
    }
    if (!shared_lock(ts, s, true)) return -1;
    memcpy(s->data, AS_BYTES(b)->data, n);
    if (!raw && n < (size_t)s->count) s->data[n] = 0;
    return shared_lock(ts, s, false) ? 0 : -1;
}

static Value chars_get_value(TState *ts, Value self) { return chars_get(ts, self, false); }
static Value chars_get_raw(TState *ts, Value self) { return chars_get(ts, self, true); }
static int chars_set_value(TState *ts, Value self, Value v) { return chars_set(ts, self, v, false); }
static int chars_set_raw(TState *ts, Value self, Value v) { return chars_set(ts, self, v, true); }

static const GetSetDef shared_array_getsets[] = {
    {"value", chars_get_value, chars_set_value},
    {"raw", chars_get_raw, chars_set_raw},
    {NULL, NULL, NULL},
};

static Value shared_array_repr(TState *ts, Value self) {
    ObjShared *s = (ObjShared *)AS_OBJ(self);
    ObjSlice *all = slice_new(ts, NONE_VAL, NONE_VAL, NONE_VAL);
    if (!all) return ERROR_VAL;
    Value items = shared_array_getitem(ts, self, OBJ_VAL(all));
    if (IS_ERROR(items)) return items;
    Value r = ops_repr(ts, items);
    if (IS_ERROR(r)) return r;
    const char *fmt = IS_NONE(s->lock) ? "<%s_Array_%lld %s>" : "<SynchronizedArray wrapper for %s_Array_%lld %s>";
    return OBJ_VAL(str_printf(ts, fmt, s->ctype->name, (long long)s->count, AS_STR(r)->data));
}

static const TypeSpec mp_shared_array_spec = {
    .name = "SharedArray",
    .kind = OBJ_OPAQUE,
    .repr = shared_array_repr,
    .len = shared_array_len,
    .getitem = shared_array_getitem,
    .setitem = shared_array_setitem,
    .iter = shared_array_iter,
    .new_ = shared_array_new,
    .trace = shared_trace,
    .finalize = shared_finalize,
    .methods = shared_value_methods,
    .getsets = shared_array_getsets,
};

/* ---- Child: a forked process ---------------------------------------------- */

typedef struct ObjChild {
    Obj obj;
    pid_t pid;
    int pidfd;            /* readable once the child ends; -1 if unavailable or released */
    pthread_mutex_t lock; /* reaping happens once, under it */
    bool reaped;
    int returncode;       /* once reaped: the exit status, or -signal */
} ObjChild;

static void child_finalize(Obj *self) {
    ObjChild *c = (ObjChild *)self;
    if (c->pidfd >= 0) close(c->pidfd);
    pthread_mutex_destroy(&c->lock);
}

static void child_after_fork(Obj *self) {
    PT_CHECK(pthread_mutex_init(&((ObjChild *)self)->lock, NULL));
}

/* Child(pid): the caller forked pid and nobody else reaps it. */
static Value child_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "Child", nargs, kwnames, 1, 1)) return ERROR_VAL;
    int64_t pid;
    if (!args_int(ts, args[0], &pid)) return ERROR_VAL;
    if (pid <= 0 || pid > INT32_MAX) return err_format(ts, ts->interp->exc.ValueError, "invalid pid");
    ObjChild *c = (ObjChild *)gc_alloc(ts, sizeof(ObjChild), OBJ_OPAQUE, type);
    if (!c) return ERROR_VAL;
    c->pid = (pid_t)pid;
    c->pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
    if (c->pidfd >= 0) fcntl(c->pidfd, F_SETFD, FD_CLOEXEC);
    PT_CHECK(pthread_mutex_init(&c->lock, NULL));
    c->reaped = false;
    c->returncode = 0;
    return OBJ_VAL(c);
}

/* Reaps the child if it has ended. True when its return code is known. */
static bool child_reap(ObjChild *c) {
    MUTEX_LOCK(&c->lock);
    if (!c->reaped) {
        int status;
        pid_t r;
        do r = waitpid(c->pid, &status, WNOHANG);
        while (r < 0 && errno == EINTR);
        if (r == c->pid) {
            c->reaped = true;
            c->returncode = WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
        } else if (r < 0) {
            /* Not our child any more (ECHILD): nothing to wait for. */
            c->reaped = true;
            c->returncode = 255;
        }
    }
    bool known = c->reaped;
    MUTEX_UNLOCK(&c->lock);
    return known;
}

static Value child_returncode(ObjChild *c) { return c->reaped ? INT_VAL(c->returncode) : NONE_VAL; }

static Value child_poll(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "poll", nargs, kwnames, 1, 1)) return ERROR_VAL;
    ObjChild *c = (ObjChild *)AS_OBJ(args[0]);
    child_reap(c);
    return child_returncode(c);
}

/* Until the child has ended (without reaping it). */
static int child_step(void *ctx, const struct timespec *until) {
    ObjChild *c = ctx;
    /* Released only once reaped: then readable for good, or the waitid below ends at once. */
    int pidfd = c->pidfd;
    if (pidfd >= 0) {
        struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
        ThreadPoll p = {&pfd, 1};
        return thread_poll_step(&p, until);
    }
    /* No pidfd (an old kernel): look every millisecond. */
    for (;;) {
        siginfo_t info = {0};
        if (waitid(P_PID, (id_t)c->pid, &info, WEXITED | WNOHANG | WNOWAIT) < 0)
            return errno == EINTR ? 0 : 1;
        if (info.si_pid == c->pid) return 1;
        struct timespec t = sync_deadline(0.001);
        if (until && sync_before(until, &t)) return 0;
        if (clock_nanosleep(CLOCK_MONOTONIC, 0, &(struct timespec){0, 1000000}, NULL) == EINTR) return 0;
    }
}

/* wait(timeout=None) -> the return code, or None if it did not end in time. */
static Value child_wait(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"$self", "timeout"};
    Value v[2];
    if (!args_bind(ts, "wait", args, nargs, kwnames, names, 2, 1, 2, v)) return ERROR_VAL;
    double timeout;
    if (!timeout_arg(ts, v[1], &timeout)) return ERROR_VAL;
    ObjChild *c = (ObjChild *)AS_OBJ(v[0]);
    if (child_reap(c)) return child_returncode(c);
    if (timeout == 0) return NONE_VAL;
    int r = thread_wait(ts, child_step, c, timeout);
    if (r < 0) return ERROR_VAL;
    child_reap(c);
    return child_returncode(c);
}

static Value child_send_signal(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "send_signal", nargs, kwnames, 2, 2)) return ERROR_VAL;
    ObjChild *c = (ObjChild *)AS_OBJ(args[0]);
    int64_t sig;
    if (!args_int(ts, args[1], &sig)) return ERROR_VAL;
    /* Under the lock: a reaped pid may belong to another process by now. */
    MUTEX_LOCK(&c->lock);
    int r = c->reaped ? 0 : kill(c->pid, (int)sig);
    int err = errno;
    MUTEX_UNLOCK(&c->lock);
    if (r < 0 && err != ESRCH) return file_raise_oserror(ts, err, NONE_VAL);
    return NONE_VAL;
}

/* release(): closes the pidfd once the child is reaped (join and close
 * call it), so that running many processes one after another does not pile
 * up descriptors until the collector finalizes their handles. */
static Value child_release(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "release", nargs, kwnames, 1, 1)) return ERROR_VAL;
    ObjChild *c = (ObjChild *)AS_OBJ(args[0]);
    MUTEX_LOCK(&c->lock);
    int fd = c->reaped ? c->pidfd : -1;
    if (fd >= 0) c->pidfd = -1;
    MUTEX_UNLOCK(&c->lock);
    if (fd >= 0) close(fd);
    return NONE_VAL;
}

static Value child_get_pid(TState *ts, Value self) { return INT_VAL(((ObjChild *)AS_OBJ(self))->pid); }

static Value child_get_sentinel(TState *ts, Value self) {
    int fd = ((ObjChild *)AS_OBJ(self))->pidfd;
    return fd >= 0 ? INT_VAL(fd) : NONE_VAL;
}

static const NativeDef child_methods[] = {
    {"poll", child_poll},
    {"wait", child_wait},
    {"send_signal", child_send_signal},
    {"release", child_release},
    {NULL, NULL},
};

static const GetSetDef child_getsets[] = {
    {"pid", child_get_pid, NULL},
    {"sentinel", child_get_sentinel, NULL},
    {NULL, NULL, NULL},
};

static const TypeSpec mp_child_spec = {
    .name = "Child",
    .kind = OBJ_OPAQUE,
    .new_ = child_new,
    .finalize = child_finalize,
    .after_fork = child_after_fork,
    .methods = child_methods,
    .getsets = child_getsets,
};

/* ---- module functions ------------------------------------------------------ */

/* exit_child(code): the end of a forked child. Flushes the standard
 * streams and leaves at once: no parent code runs after the target. */
static Value mp_exit_child(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "exit_child", nargs, kwnames, 2, 2)) return ERROR_VAL;
    if (interp_sandbox_refuses(ts, "exit_child()")) return ERROR_VAL;
    int64_t code = 1;
    if (IS_INT(args[0])) code = AS_INT(args[0]);
    else if (IS_BOOL(args[0])) code = AS_BOOL(args[0]);
    file_flush_std(ts);
    trace_spool_child(ts, IS_STR(args[1]) ? AS_STR(args[1])->data : "process");
    _exit((int)(code & 0xff));
}

static Value mp_cpu_count(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "cpu_count", nargs, kwnames, 0, 0)) return ERROR_VAL;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return INT_VAL(n > 0 ? n : 1);
}

static Value fd_pair(TState *ts, int fds[2]) {
    ObjTuple *t = tuple_pack2(ts, INT_VAL(fds[0]), INT_VAL(fds[1]));
    if (t) return OBJ_VAL(t);
    close(fds[0]);
    close(fds[1]);
    return ERROR_VAL;
}

/* socketpair() -> (fd, fd): a duplex stream, as Pipe(duplex=True). */
static Value mp_socketpair(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "socketpair", nargs, kwnames, 0, 0)) return ERROR_VAL;
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return file_raise_oserror(ts, errno, NONE_VAL);
    return fd_pair(ts, fds);
}

/* pipe(nonblocking=False) -> (read fd, write fd) */
static Value mp_pipe(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "pipe", nargs, kwnames, 0, 1)) return ERROR_VAL;
    int nonblocking = nargs == 1 ? ops_truth(ts, args[0]) : 0;
    if (nonblocking < 0) return ERROR_VAL;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | (nonblocking ? O_NONBLOCK : 0)) != 0) return file_raise_oserror(ts, errno, NONE_VAL);
    return fd_pair(ts, fds);
}

static bool fd_arg(TState *ts, Value v, int *out) {
    int64_t fd;
    if (!args_int(ts, v, &fd)) return false;
    if (fd < 0 || fd > INT32_MAX) {
        err_format(ts, ts->interp->exc.ValueError, "invalid file descriptor");
        return false;
    }
    *out = (int)fd;
    return true;
}

static Value mp_close(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "close", nargs, kwnames, 1, 1)) return ERROR_VAL;
    int fd;
    if (!fd_arg(ts, args[0], &fd)) return ERROR_VAL;
    close(fd);
    return NONE_VAL;
}

/* wake(fd): one byte into a non-blocking pipe; a full pipe already wakes
 * its reader. */
static Value mp_wake(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "wake", nargs, kwnames, 1, 1)) return ERROR_VAL;
    int fd;
    if (!fd_arg(ts, args[0], &fd)) return ERROR_VAL;
    ssize_t r;
    do r = write(fd, "x", 1);
    while (r < 0 && errno == EINTR);
    return NONE_VAL;
}

/* drain(fd): empties a non-blocking pipe. */
static Value mp_drain(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "drain", nargs, kwnames, 1, 1)) return ERROR_VAL;
    int fd;
    if (!fd_arg(ts, args[0], &fd)) return ERROR_VAL;
    char buf[256];
    while (read(fd, buf, sizeof buf) > 0) {
    }
    return NONE_VAL;
}

/* wait_fds(fds, timeout=None) -> the fds that are readable (or closed),
 * after waiting at most timeout seconds for one. */
static Value mp_wait_fds(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"fds", "timeout"};
    Value v[2];
    if (!args_bind(ts, "wait_fds", args, nargs, kwnames, names, 2, 1, 2, v)) return ERROR_VAL;
    double timeout;
    if (!timeout_arg(ts, v[1], &timeout)) return ERROR_VAL;
    ObjList *fds = ops_to_list(ts, v[0]);
    if (!fds) return ERROR_VAL;
    size_t n = list_len(fds);
    struct pollfd *p = calloc(n + 1, sizeof *p);
    if (!p) return err_no_memory(ts);
    for (size_t i = 0; i < n; i++) {
        if (!fd_arg(ts, list_get(fds, i), &p[i].fd)) {
            free(p);
            return ERROR_VAL;
        }
        p[i].events = POLLIN;
    }
    int r = thread_poll(ts, p, (nfds_t)n, timeout);
    ObjList *ready = r < 0 ? NULL : list_new(ts, 0);
    for (size_t i = 0; ready && i < n; i++)
        if (p[i].revents && list_append(ts, ready, INT_VAL(p[i].fd)) < 0) ready = NULL;
    free(p);
    return ready ? OBJ_VAL(ready) : ERROR_VAL;
}

/* ---- rebuilding objects in a spawned child ------------------------------- */

/* The descriptors of _rebuild: count ints. */
static bool rebuild_fds(TState *ts, Value v, int *fds, size_t count) {
    if (!IS_TUPLE(v) || AS_TUPLE(v)->len != count) {
        err_format(ts, ts->interp->exc.ValueError, "_rebuild: expected %zu descriptors", count);
        return false;
    }
    for (size_t i = 0; i < count; i++)
        if (!fd_arg(ts, AS_TUPLE(v)->items[i], &fds[i])) return false;
    return true;
}

static Value rebuild_mutex(TState *ts, ObjType *type, const int *fds) {
    ObjMutex *l = mutex_alloc(ts, type);
    if (!l) return ERROR_VAL;
    if (!(l->m = shm_attach(ts, fds[0], sizeof *l->m))) return ERROR_VAL;
    l->shm_fd = fds[0];
    return OBJ_VAL(l);
}

static Value rebuild_semaphore(TState *ts, ObjType *type, const int *fds, ObjTuple *params) {
    int64_t max;
    if (params->len != 1 || !args_int(ts, params->items[0], &max)) return ERROR_VAL;
    ObjSemaphore *s = (ObjSemaphore *)gc_alloc(ts, sizeof(ObjSemaphore), OBJ_OPAQUE, type);
    if (!s) return ERROR_VAL;
    s->shm_fd = -1;
    s->maxvalue = max;
    if (!(s->sem = shm_attach(ts, fds[0], sizeof *s->sem))) return ERROR_VAL;
    s->shm_fd = fds[0];
    return OBJ_VAL(s);
}

static Value rebuild_event(TState *ts, ObjType *type, const int *fds) {
    ObjEvent *e = (ObjEvent *)gc_alloc(ts, sizeof(ObjEvent), OBJ_OPAQUE, type);
    if (!e) return ERROR_VAL;
    e->shm_fd = -1;
    if (!(e->shared = shm_attach(ts, fds[0], sizeof *e->shared))) return ERROR_VAL;
    e->shm_fd = fds[0];
    return OBJ_VAL(e);
}

static Value rebuild_channel(TState *ts, ObjType *type, const int *fds, ObjTuple *params) {
    int64_t maxsize;
    if (params->len != 1 || !args_int(ts, params->items[0], &maxsize)) return ERROR_VAL;
    ObjChannel *c = (ObjChannel *)gc_alloc(ts, sizeof(ObjChannel), OBJ_OPAQUE, type);
    if (!c) return ERROR_VAL;
    c->rfd = c->wfd = c->spill_fd = c->shm_fd = -1;
    c->maxsize = maxsize;
    if (!(c->shared = shm_attach(ts, fds[0], sizeof *c->shared))) return ERROR_VAL;
    c->shm_fd = fds[0];
    c->rfd = fds[1];
    c->wfd = fds[2];
    c->spill_fd = fds[3];
    return OBJ_VAL(c);
}

static Value rebuild_shared(TState *ts, ObjType *type, const int *fds, ObjTuple *params) {
    int64_t count;
    const CType *ct;
    if (params->len != 3 || !(ct = ctype_find(ts, params->items[0])) || !args_int(ts, params->items[1], &count))
        return ERROR_VAL;
    ObjShared *s = shared_alloc(ts, type, ct, count, params->items[2], false, fds[0]);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static Value rebuild_connection(TState *ts, ObjType *type, const int *fds, ObjTuple *params) {
    if (params->len != 2) return err_format(ts, ts->interp->exc.ValueError, "_rebuild: bad connection state");
    Value args[3] = {INT_VAL(fds[0]), params->items[0], params->items[1]};
    return connection_new(ts, type, args, 3, NULL);
}

/* _rebuild(type, fds, params): in a spawned child, the object whose
 * __reduce__ gave these (see reduce_for_child); it owns the passed
 * descriptors from now on. */
static Value mp_rebuild(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "_rebuild", nargs, kwnames, 3, 3)) return ERROR_VAL;
    if (!IS_TYPE(args[0]) || !IS_TUPLE(args[2])) return err_format(ts, ts->interp->exc.TypeError, "_rebuild: bad state");
    ObjType *type = (ObjType *)AS_OBJ(args[0]);
    ObjTuple *params = AS_TUPLE(args[2]);
    FinalizeFn kind = type->finalize;
    int fds[4];
    size_t count = kind == channel_finalize ? 4 : 1;
    if (!rebuild_fds(ts, args[1], fds, count)) return ERROR_VAL;
    if (kind == mutex_finalize) return rebuild_mutex(ts, type, fds);
    if (kind == semaphore_finalize) return rebuild_semaphore(ts, type, fds, params);
    if (kind == event_finalize) return rebuild_event(ts, type, fds);
    if (kind == channel_finalize) return rebuild_channel(ts, type, fds, params);
    if (kind == shared_finalize) return rebuild_shared(ts, type, fds, params);
    if (kind == connection_finalize) return rebuild_connection(ts, type, fds, params);
    return err_format(ts, ts->interp->exc.TypeError, "_rebuild: %s objects are not rebuilt", type->name->data);
}

/* At most this many descriptors go in one send_fds() (Linux's SCM_MAX_FD). */
#define MP_MAX_PASSED_FDS 253

/* send_fds(sock, fds): one byte carrying the descriptors fds (SCM_RIGHTS)
 * on a Unix socket: how a forkserver client hands over the descriptors a
 * new child needs (multiprocessing/forkserver.mini). */
static Value mp_send_fds(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "send_fds", nargs, kwnames, 2, 2)) return ERROR_VAL;
    int sock;
    if (!fd_arg(ts, args[0], &sock)) return ERROR_VAL;
    ObjList *list = ops_to_list(ts, args[1]);
    if (!list) return ERROR_VAL;
    size_t n = list_len(list);
    if (n > MP_MAX_PASSED_FDS)
        return err_format(ts, ts->interp->exc.ValueError, "cannot pass more than %d descriptors",
                          MP_MAX_PASSED_FDS);
    int fds[MP_MAX_PASSED_FDS];
    for (size_t i = 0; i < n; i++)
        if (!fd_arg(ts, list_get(list, i), &fds[i])) return ERROR_VAL;
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * MP_MAX_PASSED_FDS)];
    } control;
    memset(&control, 0, sizeof control);
    char byte = 'F';
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (n) {
        msg.msg_control = control.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * n);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
    }
    ssize_t r;
    do r = sendmsg(sock, &msg, MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    if (r < 0) return file_raise_oserror(ts, errno, NONE_VAL);
    return NONE_VAL;
}

/* recv_fds(sock) -> the descriptors of one send_fds() (a list, made
 * close-on-exec), or None at the end of the stream. Waits detached. */
static Value mp_recv_fds(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "recv_fds", nargs, kwnames, 1, 1)) return ERROR_VAL;
    int sock;
    if (!fd_arg(ts, args[0], &sock)) return ERROR_VAL;
    int w = wait_readable(ts, sock, -1);
    if (w < 0) return ERROR_VAL;
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * MP_MAX_PASSED_FDS)];
    } control;
    char byte;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                         .msg_controllen = sizeof control.buf};
    ssize_t r;
    do r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    while (r < 0 && errno == EINTR);
    if (r < 0) return file_raise_oserror(ts, errno, NONE_VAL);
    if (r == 0) return NONE_VAL;
    ObjList *out = list_new(ts, 0);
    vm_push(ts, out ? OBJ_VAL(out) : NONE_VAL);
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        int fds[MP_MAX_PASSED_FDS];
        memcpy(fds, CMSG_DATA(c), count * sizeof(int));
        for (size_t i = 0; i < count; i++)
            if (!out || list_append(ts, out, INT_VAL(fds[i])) < 0) {
                close(fds[i]);
                out = NULL;
            }
    }
    vm_pop(ts);
    if (msg.msg_flags & MSG_CTRUNC) {
        if (out)
            for (size_t i = 0; i < list_len(out); i++) close((int)AS_INT(list_get(out, i)));
        return err_format(ts, ts->interp->exc.OSError, "recv_fds: descriptors were lost (too many)");
    }
    return out ? OBJ_VAL(out) : ERROR_VAL;
}

/* run_main(path): in a spawned child, runs the parent's main script as
 * module __mp_main__ (registered in sys.modules); returns the module. */
static Value mp_run_main(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ObjStr *path;
    if (!args_check(ts, "run_main", nargs, kwnames, 1, 1) || !args_str(ts, args[0], "run_main", &path))
        return ERROR_VAL;
    return module_run_file(ts, path->data, "__mp_main__");
}

static const NativeDef mp_functions[] = {
    {"run_main", mp_run_main},
    {"send_fds", mp_send_fds},
    {"recv_fds", mp_recv_fds},
    {"_rebuild", mp_rebuild},
    {"exit_child", mp_exit_child},
    {"cpu_count", mp_cpu_count},
    {"socketpair", mp_socketpair},
    {"pipe", mp_pipe},
    {"close", mp_close},
    {"wake", mp_wake},
    {"drain", mp_drain},
    {"wait_fds", mp_wait_fds},
    {NULL, NULL},
};

static const TypeSpec *const mp_types[] = {
    &mp_lock_spec, &mp_rlock_spec,   &mp_semaphore_spec,    &mp_bounded_semaphore_spec,
    &mp_event_spec, &mp_message_spec, &mp_connection_spec, &mp_channel_spec,
    &mp_shared_value_spec, &mp_shared_array_spec, &mp_child_spec,
};

bool mod_mp_init(TState *ts, ObjDict *ns) {
    for (const NativeDef *d = mp_functions; d->name; d++) {
        ObjNative *fn = native_new(ts, d->name, d->fn, NULL);
        if (!fn || dict_set_str(ts, ns, str_intern_cstr(ts, d->name), OBJ_VAL(fn)) < 0) return false;
    }
    ObjStr *module = str_intern_cstr(ts, "_mp");
    if (!module) return false;
    for (size_t i = 0; i < sizeof mp_types / sizeof mp_types[0]; i++) {
        ObjType *t = type_from_spec(ts, mp_types[i], NULL);
        if (!t) return false;
        t->module = OBJ_VAL(module);
        if (dict_set_str(ts, ns, t->name, OBJ_VAL(t)) < 0) return false;
    }
    return true;
}
