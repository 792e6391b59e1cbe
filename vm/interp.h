#ifndef MINI_VM_INTERP_H
#define MINI_VM_INTERP_H

/* Interpreter state (Interp) and per-thread state (TState).
 *
 * There is no global interpreter: every function that needs the
 * interpreter takes a TState* (the running thread) and reaches the shared
 * state through ts->interp, as Lua passes lua_State and Wren WrenVM. */

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "runtime/object.h"
#include "vm/config.h"
#include "vm/gil.h"
#include "vm/trace.h"

struct ObjStr;
struct ObjDict;
struct ObjFunction;
struct ObjGenerator;
struct ObjCode;

/* Bits of TState.eval_breaker, the one word the dispatch loop tests at
 * backward jumps and calls. */
enum {
    BREAK_GC = 1u << 0,        /* a collection is requested or running */
    BREAK_GIL_DROP = 1u << 1,  /* another thread waits for the GIL */
    BREAK_SIGNAL = 1u << 2,    /* a signal handler ran (main thread) */
    BREAK_ASYNC_EXC = 1u << 3, /* an exception was posted to this thread */
    BREAK_BUDGET = 1u << 4,    /* the run's time is up (the fuzz harness): stays set, */
                               /* so every safepoint raises until the program has ended */
    BREAK_GIL_TICK = 1u << 5,  /* legacy GIL: count a tick (set while holding it) */
};

/* One activation of mini code. Frames live in a per-thread array; their
 * values live on the thread's value stack, except a generator's, which live
 * in the generator object so they can be suspended. */
typedef struct Frame {
    struct ObjFunction *fn;
    const uint32_t *ip;       /* next instruction (saved when not running) */
    Value *base;              /* locals, then the evaluation stack */
    Value *sp;                /* stack top, saved when the loop leaves */
    /* The namespace of a module or class body or exec'd code: a dict, or
     * (exec, or a class's __prepare__) any mapping; NULL in a function
     * until locals() makes its dict (FRAME_LOCALS_DICT). */
    struct Obj *locals;
    struct ObjGenerator *gen; /* the generator this frame runs, if any */
    /* A generator's frame: the innermost frame below it whose values are on
     * the thread stack (vm.c's stack_owner), so that finding where C code
     * may push does not walk a deep `yield from` chain. */
    struct Frame *owner;
    uint8_t flags;            /* FRAME_* */
} Frame;

/* What the tracer keeps for a frame with FRAME_TRACED (vm/settrace.c), in
 * an array beside the frames (made when tracing first starts), so that a
 * Frame stays small when nothing traces. */
typedef struct FrameTrace {
    int line;       /* the line of the last line event */
    uint32_t pc;    /* the instruction traced last */
    Value fn;       /* the frame's local trace function, or None */
    Value obj;      /* its frame object for tracers, or EMPTY_VAL */
} FrameTrace;

/* The frame was entered from C (vm_call): returning ends that loop run. */
#define FRAME_ENTRY 0x01
/* The tracer has seen the frame (its call event is past, or it was running
 * when tracing began): its FrameTrace is set. */
#define FRAME_TRACED 0x02
/* locals holds the dict locals() returns for a function's frame: the same
 * dict at each call, refreshed from the fast locals (CPython 3.11). */
#define FRAME_LOCALS_DICT 0x04
/* A generator's frame that FOR_ITER resumed in the same loop run (no C
 * call): its yield hands the value to the frame below, its return ends
 * that frame's loop, and the thread's handled exception is restored from
 * the generator's outer_handled when it stops. */
#define FRAME_GEN_INLINE 0x08
/* The frame runs __init__ for a class call in the caller's loop: its
 * caller's stack top holds the new instance, which is the call's result
 * once __init__ returns None (anything else raises TypeError). */
#define FRAME_INIT 0x10

typedef enum ThreadStatus {
    THREAD_DETACHED,  /* blocked in a call or waiting for the GIL: holds no object */
    THREAD_ATTACHED,  /* running mini code */
    THREAD_PARKED,    /* stopped itself at a safepoint for a collection */
    THREAD_SUSPENDED, /* was detached when the world stopped: may not attach */
} ThreadStatus;

typedef struct GilThreadStats {
    uint64_t run_ns;
    uint64_t wait_ns;
    uint64_t acquisitions;
    uint64_t longest_wait_ns;
    uint64_t held_since_ns;
    uint64_t switches_in; /* acquisitions that took the GIL from another thread */
    uint64_t checks;      /* drops at the eval breaker: asked to, or a legacy check */
} GilThreadStats;

struct TState {
    Interp *interp;

    Value *stack;       /* fixed size, reserved once: never moves */
    Value *stack_end;
    Frame *frames;
    int frame_count;
    int frame_cap;

    Value exc;          /* the exception being raised, or EMPTY_VAL */
    Value handled;      /* the exception an except block is handling */
    /* While a generator's frame runs: what its caller was handling when it
     * resumed it. A handler in that frame entered with exactly this as the
     * handled exception saves EMPTY_VAL in its place, and leaving it
     * restores the caller's of the moment, however often the generator was
     * suspended and resumed in between (CPython chains the generator's
     * exception state to its caller's). */
    Value gen_caller_handled;
    int native_depth;   /* C re-entries into the VM */
    struct ReprGuard *repr_guard; /* containers being repr'd: cycles */
    /* How the last generator frame this thread ran ended: true for a
     * return, false for a yield. generator_resume learns it from its own
     * thread: once a yield suspends the generator, another thread may
     * resume it and change its shared state before this one looks. */
    bool gen_returned;

    atomic_uint eval_breaker;
    _Atomic int status; /* ThreadStatus */

    Obj *heap;          /* objects this thread allocated */
    /* Its generators that may need a finalizer when collected (their code
     * has a try/with block, or they are coroutines), through
     * finalizable_next: a collection looks at these, not the whole heap. */
    struct ObjGenerator *finalizable;
    size_t alloc_local; /* bytes not yet published to the shared count */
    void *free_lists[MINI_GC_SMALL_MAX / 16 + 1]; /* by size class */
    char *chunk_next;   /* unused part of the current chunk */
    char *chunk_end;

    pthread_t pthread;
    uint64_t ident;
    char name[64];      /* threading's name, for --gil-stats */
    ThreadTrace trace;  /* --gil-trace / --gil-timeline */
    Value thread_obj;   /* the threading.Thread object, or NONE_VAL */
    GilThreadStats gil_stats;
    FrameTrace *frame_trace; /* one per frame slot once tracing has started, else NULL */
    Value tracefunc;    /* sys.settrace's function, or NONE_VAL */
    Value profilefunc;  /* sys.setprofile's function, or NONE_VAL */
    Value asyncgen_firstiter; /* sys.set_asyncgen_hooks' functions, or NONE_VAL */
    Value asyncgen_finalizer;
    Value context;      /* contextvars' current Context, or NONE_VAL */
    bool tracing;       /* either is set (counted by vm_count_traced_thread) */
    bool in_tracer;     /* a trace or profile function is running: not traced */
    int gil_ticks;      /* legacy GIL: ticks left before the next check */
    /* The thread whose release (of a lock, a queue put, a start) ended this
     * thread's last wait, or NULL (a timed or I/O wait): a thread gets no
     * GIL priority over the thread that woke it (vm/gil.c, the mini
     * design). Compared, never dereferenced. */
    TState *woken_by;

    TState *next;       /* interp->threads */
    TState *prev;
};

/* Built-in exception types, listed once in runtime/exceptions.def. */
typedef struct ExcTypes {
#define EXC(name, base, doc) ObjType *name;
#include "runtime/exceptions.def"
#undef EXC
} ExcTypes;

/* One entry of the type attribute cache: a seqlock (seq is odd while a
 * writer fills the entry) so that a reader with the GIL off never takes a
 * value from one lookup with the key of another. */
typedef struct TypeCacheEntry {
    _Atomic uint32_t seq;
    uint32_t type_id;
    uint32_t epoch;
    struct ObjStr *name;
    Value value;
} TypeCacheEntry;

typedef struct BuiltinTypes {
    ObjType *object, *type, *int_, *bool_, *float_, *none, *str, *bytes;
    ObjType *tuple, *list, *dict, *set, *frozenset, *range, *slice;
    ObjType *code, *function, *cell, *native, *bound_method, *module;
    ObjType *generator, *iterator, *traceback, *property, *staticmethod;
    ObjType *classmethod, *super, *file, *not_implemented, *ellipsis;
    ObjType *lock, *rlock, *dict_keys, *dict_values, *dict_items, *member, *complex, *frame;
    ObjType *bytearray, *memoryview, *weakref;
    ObjType *coroutine, *coroutine_wrapper, *async_generator, *async_generator_asend, *async_generator_athrow;
    ObjType *anext_awaitable;
} BuiltinTypes;

/* Names the runtime looks up often, interned once. */
typedef struct CommonNames {
#define NAME(field, text) struct ObjStr *field;
#include "runtime/names.def"
#undef NAME
} CommonNames;

typedef struct InternTable {
    struct ObjStr **slots;
    size_t capacity;
    size_t count;
    pthread_mutex_t lock;
} InternTable;

/* Why automatic collections are held back (GcState.disabled). */
enum { GC_OFF_DISABLED = 1u << 0, GC_OFF_THRESHOLD = 1u << 1 };

typedef struct GcState {
    pthread_mutex_t lock;        /* one collector at a time */
    atomic_size_t allocated;     /* bytes published since the last collection */
    size_t threshold;
    Obj *orphans;                /* heaps of exited threads */
    struct Retired *retired;     /* buffers to free at the next collection */
    struct Chunk *chunks;        /* memory of the small-object free lists */
    void *_Atomic spare_lists[MINI_GC_SMALL_MAX / 16 + 1]; /* of exited threads */
    size_t collections;
    size_t live_bytes;
    bool stress;
    atomic_bool memory_short;    /* an allocation failed: collect at the next safepoint */
    atomic_uint disabled;        /* GC_OFF_* bits: automatic collections wait longer */
    _Atomic int thresholds[3];   /* gc.set_threshold's numbers, as given */
    size_t min_threshold;        /* bytes: the threshold never falls below it */
    size_t last_found;           /* objects the last collection freed */
    size_t total_found;          /* and all of them, for gc.get_stats() */
    _Atomic bool running;        /* a gc.callbacks call is under way: no nested "start" */
    Value callbacks;             /* gc.callbacks (a list), or NONE_VAL before gc is imported */
    /* Every live weak reference (runtime/weakref.c), guarded by weak_lock;
     * those whose referent died, waiting for their callback to run. */
    pthread_mutex_t weak_lock;
    struct ObjWeakref *weakrefs;
    struct ObjWeakref *weak_pending;
    /* Dead generators kept alive until their finalizer runs (vm/gc.h),
     * linked through finalize_next; guarded by weak_lock like weak_pending. */
    struct ObjGenerator *finalize_pending;
    /* A generator that may need a finalizer was made: from then on the
     * teardown looks for live ones (before, it skips the walk). */
    atomic_bool finalizers;
    /* TState.finalizable of the threads that ended (under `lock`). */
    struct ObjGenerator *orphan_finalizable;
} GcState;

struct Interp {
    BuiltinTypes types;
    ExcTypes exc;
    CommonNames names;
    InternTable interned;
    GcState gc;

    struct ObjDict *modules;     /* sys.modules */
    struct ObjDict *builtins;    /* the builtins module's namespace */
    Value sys_module;
    Value argv;                  /* list of str */
    Value orig_argv;             /* list of str: sys.orig_argv */
    Value memory_error;          /* raised when not even a MemoryError can be allocated */
    Value no_args;               /* (): MemoryError's args, made up front */
    char *exe_dir;               /* where the binary lives: stdlib lookup */

    Gil gil;                     /* used only when gil_enabled */
    struct GilRecord *gil_records; /* --gil-stats of threads that ended */
    size_t gil_record_count;

    pthread_mutex_t threads_lock;
    struct {
        Value *stack;
        Frame *frames;
    } spare_stacks[MINI_SPARE_THREAD_STACKS]; /* of ended threads, for reuse */
    int spare_stack_count;
    pthread_cond_t world_cond;   /* stop-the-world progress and resume */
    bool world_stopped;          /* guarded by threads_lock */
    TState *stopper;             /* the thread that stopped the world */
    TState *threads;
    TState *main_thread;
    int thread_count;
    struct ThreadEnd *ended;     /* threads to join: thread_join_ended; guarded by threads_lock */
    struct SpareThread *spares;  /* parked OS threads (vm/thread.c); guarded by threads_lock */
    int spare_count;             /* parked, or on their way (reserved) */
    int spares_arriving;         /* reserved, not parked yet */
    bool exiting;                /* thread_exiting was called; guarded by threads_lock */

    _Atomic int recursion_limit;
    _Atomic uint32_t next_type_id;
    /* Bumped when any class changes after creation: inline caches that
     * remember where an attribute was found check it. */
    _Atomic uint32_t type_epoch;
    /* type_lookup's results (runtime/types.c), tagged with the epoch. */
    TypeCacheEntry type_cache[MINI_TYPE_CACHE_SIZE];
    bool gil_enabled;
    bool gil_stats;
    bool unbuffered_std;         /* mini -u: sys.stdout/stderr write through */
    bool tracing;                /* --gil-trace or --gil-timeline */
    ThreadTrace *finished_traces;
    size_t finished_trace_count;
    TraceMark *trace_marks;      /* gil.mark(), in time order */
    size_t trace_mark_count;
    int trace_spool_fd;          /* children's lanes (vm/trace.h), or -1 */
    /* signal.signal's handlers by signal number: a callable, an int
     * (SIG_DFL, SIG_IGN) or None (never set: SIGINT raises KeyboardInterrupt). */
    Value signal_handlers[NSIG];
    bool in_teardown;
    /* Runs programs inside another process (the fuzz harness): refuses
     * what would leave it or outlive the run (interp_sandbox_refuses). */
    bool sandboxed;
};

/* Creates an interpreter and its main thread state (the calling thread). */
/* design: the GIL's (GIL_DESIGN_OFF for none), fixed for the run. */
Interp *interp_new(GilDesign design);
void interp_free(Interp *interp);

/* Thread states: created by the thread module, one per OS thread. */
TState *tstate_new(Interp *interp);
void tstate_free(TState *ts);

/* In a sandboxed interpreter, raises RuntimeError saying that `what`
 * (starting a thread, forking, os._exit...) is not allowed, and returns
 * true; otherwise returns false. */
bool interp_sandbox_refuses(TState *ts, const char *what);

/* Raises RecursionError, MemoryError... helpers live in runtime/error.h. */

static inline bool tstate_has_exc(const TState *ts) { return !IS_EMPTY(ts->exc); }

/* The per-object mutex guarding list/dict/set mutation when the GIL is off
 * (with it on the GIL already serialises C code). Never held while running
 * mini code or blocking; see ARCHITECTURE.md. */
static inline void obj_lock(TState *ts, Obj *o) {
    if (ts->interp->gil_enabled) return;
    unsigned char expected = 0;
    if (!atomic_compare_exchange_weak_explicit(&o->mutex, &expected, 1, memory_order_acquire,
                                               memory_order_relaxed))
        obj_lock_contended(o);
}

static inline void obj_unlock(TState *ts, Obj *o) {
    if (ts->interp->gil_enabled) return;
    atomic_store_explicit(&o->mutex, 0, memory_order_release);
}

#endif
