#include "vm/interp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/gmpalloc.h"
#include "runtime/str.h"
#include "runtime/types.h"
#include "vm/gc.h"
#include "vm/sync.h"
#include "vm/thread.h"

/* The value stack is reserved once at its full size and never moves, so
 * pointers into it (frame bases, native argument arrays) stay valid; the
 * kernel commits pages only as deep recursion touches them. */
#define VALUE_STACK_SLOTS ((size_t)MINI_MAX_RECURSION_LIMIT * 40)
#define FRAME_SLOTS ((size_t)MINI_MAX_RECURSION_LIMIT + 64)

static void *reserve(size_t bytes) {
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void init_mutex(pthread_mutex_t *m) { PT_CHECK(pthread_mutex_init(m, NULL)); }

static void unmap_stacks(Value *stack, Frame *frames) {
    if (stack) munmap(stack, VALUE_STACK_SLOTS * sizeof(Value));
    if (frames) munmap(frames, FRAME_SLOTS * sizeof(Frame));
}

TState *tstate_new(Interp *interp) {
    TState *ts = calloc(1, sizeof *ts);
    if (!ts) return NULL;
    ts->interp = interp;
    /* Stacks of threads that ended are reused: mapping and unmapping tens
     * of MiB per thread start is what made starting threads slow. */
    MUTEX_LOCK(&interp->threads_lock);
    if (interp->spare_stack_count > 0) {
        interp->spare_stack_count--;
        ts->stack = interp->spare_stacks[interp->spare_stack_count].stack;
        ts->frames = interp->spare_stacks[interp->spare_stack_count].frames;
    }
    MUTEX_UNLOCK(&interp->threads_lock);
    if (!ts->stack) {
        ts->stack = reserve(VALUE_STACK_SLOTS * sizeof(Value));
        ts->frames = reserve(FRAME_SLOTS * sizeof(Frame));
    }
    if (!ts->stack || !ts->frames) {
        tstate_free(ts);
        return NULL;
    }
    ts->stack_end = ts->stack + VALUE_STACK_SLOTS;
    ts->frame_cap = (int)FRAME_SLOTS;
    /* Frame 0 is the root: native code's pushes before any mini frame. */
    ts->frames[0] = (Frame){.base = ts->stack, .sp = ts->stack};
    ts->frame_count = 1;
    ts->exc = EMPTY_VAL;
    ts->handled = NONE_VAL;
    ts->gen_caller_handled = NONE_VAL;
    ts->thread_obj = NONE_VAL;
    ts->tracefunc = NONE_VAL;
    ts->profilefunc = NONE_VAL;
    ts->asyncgen_firstiter = NONE_VAL;
    ts->asyncgen_finalizer = NONE_VAL;
    ts->context = NONE_VAL;
    atomic_init(&ts->eval_breaker, 0);
    atomic_init(&ts->status, THREAD_DETACHED);
    ts->pthread = pthread_self();
    ts->ident = (uint64_t)pthread_self();

    MUTEX_LOCK(&interp->threads_lock);
    ts->next = interp->threads;
    if (interp->threads) interp->threads->prev = ts;
    interp->threads = ts;
    interp->thread_count++;
    MUTEX_UNLOCK(&interp->threads_lock);
    return ts;
}

void tstate_free(TState *ts) {
    Interp *interp = ts->interp;
    free(ts->trace.intervals);
    if (ts->stack || ts->frames) {
        MUTEX_LOCK(&interp->threads_lock);
        if (ts->prev) ts->prev->next = ts->next;
        else if (interp->threads == ts) interp->threads = ts->next;
        if (ts->next) ts->next->prev = ts->prev;
        interp->thread_count--;
        MUTEX_UNLOCK(&interp->threads_lock);
    }
    bool kept = false;
    if (ts->stack && ts->frames && !interp->in_teardown) {
        MUTEX_LOCK(&interp->threads_lock);
        if (interp->spare_stack_count < MINI_SPARE_THREAD_STACKS) {
            interp->spare_stacks[interp->spare_stack_count].stack = ts->stack;
            interp->spare_stacks[interp->spare_stack_count].frames = ts->frames;
            interp->spare_stack_count++;
            kept = true;
        }
        MUTEX_UNLOCK(&interp->threads_lock);
    }
    if (!kept) unmap_stacks(ts->stack, ts->frames);
    if (ts->frame_trace) munmap(ts->frame_trace, (size_t)ts->frame_cap * sizeof(FrameTrace));
    free(ts);
}

bool interp_sandbox_refuses(TState *ts, const char *what) {
    if (!ts->interp->sandboxed) return false;
    err_format(ts, ts->interp->exc.RuntimeError, "%s is not allowed in the fuzzing sandbox", what);
    return true;
}

Interp *interp_new(GilDesign design) {
    gmpalloc_install();
    Interp *interp = calloc(1, sizeof *interp);
    if (!interp) return NULL;
    interp->gil_enabled = design != GIL_DESIGN_OFF;
    interp->trace_spool_fd = -1;
    atomic_init(&interp->recursion_limit, MINI_DEFAULT_RECURSION_LIMIT);
    init_mutex(&interp->threads_lock);
    PT_CHECK(pthread_cond_init(&interp->world_cond, NULL));
    init_mutex(&interp->interned.lock);
    init_mutex(&interp->gc.lock);
    interp->gc.threshold = MINI_GC_INITIAL_THRESHOLD;
    interp->gc.min_threshold = MINI_GC_INITIAL_THRESHOLD;
    interp->gc.thresholds[0] = MINI_GC_THRESHOLD0;
    interp->gc.thresholds[1] = interp->gc.thresholds[2] = 10;
    interp->gc.callbacks = NONE_VAL;
    init_mutex(&interp->gc.weak_lock);
    for (int sig = 0; sig < NSIG; sig++) interp->signal_handlers[sig] = NONE_VAL;
    gil_init(&interp->gil);
    if (interp->gil_enabled) interp->gil.design = design;
#ifdef MINI_GC_STRESS
    interp->gc.stress = true;
#endif
    interp->sys_module = NONE_VAL;
    interp->argv = NONE_VAL;
    interp->orig_argv = NONE_VAL;
    interp->memory_error = NONE_VAL;
    interp->no_args = NONE_VAL;

    TState *ts = tstate_new(interp);
    if (!ts) {
        free(interp);
        return NULL;
    }
    interp->main_thread = ts;
    thread_attach(ts);
    types_init(ts);
    str_init_interned(ts);
    interp->modules = dict_new(ts);
    interp->builtins = dict_new(ts);
    if (!interp->modules || !interp->builtins) {
        interp_free(interp);
        return NULL;
    }
    return interp;
}

void interp_free(Interp *interp) {
    interp->in_teardown = true;
    thread_join_ended(interp);
    gc_free_all(interp);
    while (interp->threads) tstate_free(interp->threads);
    for (int i = 0; i < interp->spare_stack_count; i++)
        unmap_stacks(interp->spare_stacks[i].stack, interp->spare_stacks[i].frames);
    free(interp->interned.slots);
    free(interp->exe_dir);
    free(interp->gil_records);
    for (size_t i = 0; i < interp->finished_trace_count; i++) free(interp->finished_traces[i].intervals);
    free(interp->finished_traces);
    free(interp->trace_marks);
    if (interp->trace_spool_fd >= 0) close(interp->trace_spool_fd);
    pthread_mutex_destroy(&interp->threads_lock);
    pthread_cond_destroy(&interp->world_cond);
    pthread_mutex_destroy(&interp->interned.lock);
    pthread_mutex_destroy(&interp->gc.lock);
    pthread_mutex_destroy(&interp->gc.weak_lock);
    gil_destroy(&interp->gil);
    free(interp);
}
