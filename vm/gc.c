#include "vm/gc.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/list.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "runtime/generator.h"
#include "runtime/weakref.h"
#include "vm/interp.h"
#include "vm/sync.h"
#include "vm/thread.h"
#include "vm/vm.h"

struct GcMarker {
    Obj **stack;
    size_t count;
    size_t capacity;
    bool overflowed; /* the gray stack could not grow: rescan needed */
};

/* Buffers retired by gc_retire_buffer wait here for the next collection. */
typedef struct Retired {
    struct Retired *next;
    void *ptr;
} Retired;

static void publish_allocation(TState *ts, size_t bytes) {
    ts->alloc_local += bytes;
    if (ts->alloc_local < MINI_GC_LOCAL_QUANTUM && !ts->interp->gc.stress) return;
    GcState *gc = &ts->interp->gc;
    size_t total = atomic_fetch_add_explicit(&gc->allocated, ts->alloc_local,
                                             memory_order_relaxed) + ts->alloc_local;
    ts->alloc_local = 0;
    if (total >= gc->threshold || gc->stress)
        atomic_fetch_or_explicit(&ts->eval_breaker, BREAK_GC, memory_order_relaxed);
}

/* Small objects: per-thread free lists, one per 16-byte size class,
 * carved from big chunks. No lock on the fast path; the collector pushes
 * what it frees back on the owning thread's lists while the world is
 * stopped. Sanitizer builds use malloc for every object so that
 * AddressSanitizer sees each use after free. */
typedef struct Chunk {
    struct Chunk *next;
} Chunk;

#define SIZE_CLASS_COUNT (MINI_GC_SMALL_MAX / 16 + 1)

static size_t size_class(size_t size) {
#ifdef MINI_SYSTEM_MALLOC
    (void)size;
    return 0;
#else
    return size <= MINI_GC_SMALL_MAX ? (size + 15) / 16 : 0;
#endif
}

static void *carve(TState *ts, size_t cls) {
    size_t bytes = cls * 16;
    GcState *gc = &ts->interp->gc;
    if (atomic_load_explicit(&gc->spare_lists[cls], memory_order_relaxed)) {
        MUTEX_LOCK(&gc->lock);
        void *list = atomic_exchange_explicit(&gc->spare_lists[cls], NULL, memory_order_relaxed);
        MUTEX_UNLOCK(&gc->lock);
        if (list) {
            ts->free_lists[cls] = *(void **)list;
            return list;
        }
    }
    if (ts->chunk_next + bytes > ts->chunk_end) {
        Chunk *c = malloc(MINI_GC_CHUNK_BYTES);
        if (!c) return NULL;
        MUTEX_LOCK(&gc->lock);
        c->next = gc->chunks;
        gc->chunks = c;
        MUTEX_UNLOCK(&gc->lock);
        /* Keep the objects 16-byte aligned after the chunk header. */
        ts->chunk_next = (char *)c + 16;
        ts->chunk_end = (char *)c + MINI_GC_CHUNK_BYTES;
    }
    void *p = ts->chunk_next;
    ts->chunk_next += bytes;
    return p;
}

static void *alloc_block(TState *ts, size_t size, size_t *cls_out) {
    size_t cls = size_class(size);
    *cls_out = cls;
    if (cls == 0) return malloc(size);
    void *p = ts->free_lists[cls];
    if (p) {
        ts->free_lists[cls] = *(void **)p;
        return p;
    }
    p = carve(ts, cls);
    if (p) return p;
    /* No room for a new chunk: the object alone may still fit. */
    *cls_out = 0;
    return malloc(size);
}

/* Memory ran out: the next safepoint collects whatever the threshold says,
 * so that what a MemoryError left unreachable is given back at once. */
static void memory_short(TState *ts) {
    atomic_store_explicit(&ts->interp->gc.memory_short, true, memory_order_relaxed);
    atomic_fetch_or_explicit(&ts->eval_breaker, BREAK_GC, memory_order_relaxed);
}

/* Where an object's block starts: before its dict prefix if it has one. */
static void *block_of(Obj *o) { return (o->flags & OBJF_DICT_PREFIX) ? (char *)o - GC_DICT_PREFIX : (void *)o; }

static void release_block(TState *owner, Obj *o) {
    size_t cls = (size_t)(o->flags >> OBJF_SIZE_SHIFT);
    void *block = block_of(o);
    if (cls == 0) {
        free(block);
        return;
    }
    *(void **)block = owner->free_lists[cls];
    owner->free_lists[cls] = block;
}

static size_t object_bytes(Obj *o) {
    size_t cls = (size_t)(o->flags >> OBJF_SIZE_SHIFT);
    return cls ? cls * 16 : malloc_usable_size(block_of(o));
}

Obj *gc_alloc(TState *ts, size_t size, ObjKind kind, ObjType *type) {
    Obj *o = gc_try_alloc(ts, size, kind, type);
    if (!o) err_no_memory(ts);
    return o;
}

Obj *gc_try_alloc(TState *ts, size_t size, ObjKind kind, ObjType *type) {
    size_t cls;
    /* Instances of a user subclass of a built-in type without a dict field
     * (list, str, int...) carry their __dict__ pointer just before the
     * header, so the built-in layout is unchanged. */
    bool prefix = type && (type->flags & TYPEF_DICT_PREFIX);
    char *block = alloc_block(ts, size + (prefix ? GC_DICT_PREFIX : 0), &cls);
    if (!block) {
        memory_short(ts);
        return NULL;
    }
    if (prefix) {
        memset(block, 0, GC_DICT_PREFIX);
        block += GC_DICT_PREFIX;
    }
    Obj *o = (Obj *)block;
    o->kind = (uint8_t)kind;
    o->gc_mark = 0;
    o->flags = (uint8_t)(cls << OBJF_SIZE_SHIFT | (prefix ? OBJF_DICT_PREFIX : 0));
    atomic_init(&o->mutex, 0);
    o->aux = 0;
    o->type = type;
    o->gc_next = ts->heap;
    ts->heap = o;
    publish_allocation(ts, size);
    return o;
}

void *gc_alloc_buffer(TState *ts, size_t size) {
    void *p = malloc(size ? size : 1);
    if (p) publish_allocation(ts, size);
    else memory_short(ts);
    return p;
}

void *gc_realloc_buffer(TState *ts, void *old, size_t old_size, size_t new_size) {
    void *p = realloc(old, new_size ? new_size : 1);
    if (p && new_size > old_size) publish_allocation(ts, new_size - old_size);
    if (!p) memory_short(ts);
    return p;
}

void gc_free_buffer(void *p, size_t size) {
    (void)size;
    free(p);
}

void gc_retire_buffer(TState *ts, void *p, size_t size) {
    (void)size;
    if (!p) return;
    /* The node is separate: a racing reader may still read every byte of
     * the buffer. If it can't be had, leaking is safe; freeing now is not. */
    Retired *r = malloc(sizeof *r);
    if (!r) return;
    r->ptr = p;
    GcState *gc = &ts->interp->gc;
    MUTEX_LOCK(&gc->lock);
    r->next = gc->retired;
    gc->retired = r;
    MUTEX_UNLOCK(&gc->lock);
}

void gc_mark_obj(GcMarker *m, Obj *o) {
    if (!o || o->gc_mark) return;
    o->gc_mark = 1;
    if (m->count == m->capacity) {
        size_t cap = m->capacity ? m->capacity * 2 : 1024;
        Obj **grown = realloc(m->stack, cap * sizeof *grown);
        if (!grown) {
            /* Marked but not traced: a later full rescan traces it. */
            m->overflowed = true;
            return;
        }
        m->stack = grown;
        m->capacity = cap;
    }
    m->stack[m->count++] = o;
}

void gc_mark_value(GcMarker *m, Value v) {
    if (IS_OBJ(v)) gc_mark_obj(m, AS_OBJ(v));
}

void gc_mark_values(GcMarker *m, const Value *v, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (IS_OBJ(v[i])) gc_mark_obj(m, AS_OBJ(v[i]));
}

static void trace_object(GcMarker *m, Obj *o) {
    gc_mark_obj(m, (Obj *)o->type);
    if (o->flags & OBJF_DICT_PREFIX) gc_mark_obj(m, *(Obj **)((char *)o - GC_DICT_PREFIX));
    if (o->type && o->type->trace) o->type->trace(m, o);
}

static void drain(GcMarker *m) {
    while (m->count > 0) trace_object(m, m->stack[--m->count]);
}

/* After the gray stack failed to grow, every marked object is traced
 * again until no new object gets marked. */
static void rescan_heap_list(GcMarker *m, Obj *list) {
    for (Obj *o = list; o; o = o->gc_next) {
        if (!o->gc_mark) continue;
        trace_object(m, o);
        drain(m);
    }
}

static void mark_thread(GcMarker *m, TState *t) {
    for (int i = 0; i < t->frame_count; i++) {
        Frame *f = &t->frames[i];
        if (f->fn) gc_mark_obj(m, (Obj *)f->fn);
        if (f->locals) gc_mark_obj(m, (Obj *)f->locals);
        if (f->gen) gc_mark_obj(m, (Obj *)f->gen);
        if (f->sp > f->base) gc_mark_values(m, f->base, (size_t)(f->sp - f->base));
        if (f->flags & FRAME_TRACED) {
            gc_mark_value(m, t->frame_trace[i].fn);
            gc_mark_value(m, t->frame_trace[i].obj);
        }
    }
    gc_mark_value(m, t->tracefunc);
    gc_mark_value(m, t->profilefunc);
    gc_mark_value(m, t->asyncgen_firstiter);
    gc_mark_value(m, t->asyncgen_finalizer);
    gc_mark_value(m, t->context);
    gc_mark_value(m, t->exc);
    gc_mark_value(m, t->handled);
    gc_mark_value(m, t->gen_caller_handled);
    gc_mark_value(m, t->thread_obj);
}

static void mark_roots(GcMarker *m, Interp *interp) {
    ObjType **types = (ObjType **)&interp->types;
    for (size_t i = 0; i < sizeof interp->types / sizeof(ObjType *); i++)
        gc_mark_obj(m, (Obj *)types[i]);
    ObjType **excs = (ObjType **)&interp->exc;
    for (size_t i = 0; i < sizeof interp->exc / sizeof(ObjType *); i++)
        gc_mark_obj(m, (Obj *)excs[i]);
    gc_mark_obj(m, (Obj *)interp->modules);
    gc_mark_obj(m, (Obj *)interp->builtins);
    gc_mark_value(m, interp->sys_module);
    gc_mark_value(m, interp->argv);
    gc_mark_value(m, interp->orig_argv);
    gc_mark_value(m, interp->memory_error);
    gc_mark_value(m, interp->no_args);
    gc_mark_value(m, interp->gc.callbacks);
    gc_mark_values(m, interp->signal_handlers, NSIG);
    weakref_mark_pending(m, interp);
    for (ObjGenerator *g = interp->gc.finalize_pending; g; g = g->finalize_next) gc_mark_obj(m, &g->obj);
    for (TState *t = interp->threads; t; t = t->next) mark_thread(m, t);
}

/* Types have no finalizer (they hold only collected objects), and a dead
 * type's own metatype may be freed before it: don't look. */
static void free_object(TState *owner, Obj *o) {
    if (o->kind != OBJ_TYPE && o->type->finalize) o->type->finalize(o);
    release_block(owner, o);
}

/* Frees the unmarked objects of one list and unmarks the rest. Immortal
 * objects (interned names) stay whatever the marks say. Dead types go to
 * *dead_types, freed after every list is swept: a finalizer may look at its
 * object's type, which can sit in another thread's list. */
static Obj *sweep_list(TState *owner, Obj *list, size_t *live_bytes, Obj **dead_types, size_t *freed) {
    Obj *kept = NULL;
    Obj **tail = &kept;
    Obj *next;
    for (Obj *o = list; o; o = next) {
        next = o->gc_next;
        if (o->gc_mark || (o->flags & OBJF_IMMORTAL)) {
            o->gc_mark = 0;
            *live_bytes += object_bytes(o);
            *tail = o;
            tail = &o->gc_next;
        } else if (o->kind == OBJ_TYPE) {
            (*freed)++;
            o->gc_next = *dead_types;
            *dead_types = o;
        } else {
            (*freed)++;
            free_object(owner, o);
        }
    }
    *tail = NULL;
    return kept;
}

static void free_chain(TState *owner, Obj *o) {
    while (o) {
        Obj *next = o->gc_next;
        free_object(owner, o);
        o = next;
    }
}

static void free_retired(GcState *gc) {
    Retired *r = gc->retired;
    gc->retired = NULL;
    while (r) {
        Retired *next = r->next;
        free(r->ptr);
        free(r);
        r = next;
    }
}

/* Marks from the gray stack until every object reachable from a marked
 * one is marked, rescanning the heaps when the stack could not grow. */
static void mark_all(GcMarker *m, Interp *interp) {
    drain(m);
    while (m->overflowed) {
        m->overflowed = false;
        for (TState *t = interp->threads; t; t = t->next) rescan_heap_list(m, t->heap);
        rescan_heap_list(m, interp->gc.orphans);
    }
}

/* The dead generators of one finalizable list that need a finalizer,
 * flagged and linked onto *found. */
static void find_finalizable(ObjGenerator *list, ObjGenerator **found) {
    for (ObjGenerator *g = list; g; g = g->finalizable_next) {
        if (g->obj.gc_mark || (g->obj.flags & (OBJF_FINALIZED | OBJF_IMMORTAL))) continue;
        if (!generator_needs_finalizer(g)) continue;
        g->obj.flags |= OBJF_FINALIZED;
        g->finalize_next = *found;
        *found = g;
    }
}

/* Unlinks the generators the sweep is about to free. */
static void prune_finalizable(ObjGenerator **list) {
    while (*list) {
        if ((*list)->obj.gc_mark || ((*list)->obj.flags & OBJF_IMMORTAL)) list = &(*list)->finalizable_next;
        else *list = (*list)->finalizable_next;
    }
}

/* Marks the found generators and everything they reach, and queues them. */
static void queue_finalizable(GcMarker *m, Interp *interp, ObjGenerator *found) {
    ObjGenerator *last = found;
    for (ObjGenerator *g = found; g; g = g->finalize_next) {
        gc_mark_obj(m, &g->obj);
        last = g;
    }
    mark_all(m, interp);
    last->finalize_next = interp->gc.finalize_pending;
    interp->gc.finalize_pending = found;
}

/* Resurrects the dead generators that need a finalizer, with everything
 * they reach, and queues them for gc_run (see vm/gc.h); then drops the
 * dead ones from the finalizable lists. */
static void resurrect_finalizable(GcMarker *m, Interp *interp) {
    ObjGenerator *found = NULL;
    for (TState *t = interp->threads; t; t = t->next) find_finalizable(t->finalizable, &found);
    find_finalizable(interp->gc.orphan_finalizable, &found);
    if (found) queue_finalizable(m, interp, found);
    for (TState *t = interp->threads; t; t = t->next) prune_finalizable(&t->finalizable);
    prune_finalizable(&interp->gc.orphan_finalizable);
}

void gc_collect(TState *ts) {
    Interp *interp = ts->interp;
    GcState *gc = &interp->gc;
    thread_stop_world(ts);
    /* Held while the thread list is walked: a thread that is ending
     * (detached, so counted as stopped) still unlinks itself from it. */
    MUTEX_LOCK(&interp->threads_lock);

    GcMarker m = {0};
    mark_roots(&m, interp);
    mark_all(&m, interp);
    resurrect_finalizable(&m, interp);
    free(m.stack);
    weakref_sweep(interp);

    size_t live = 0, freed = 0;
    Obj *dead_types = NULL;
    for (TState *t = interp->threads; t; t = t->next)
        t->heap = sweep_list(t, t->heap, &live, &dead_types, &freed);
    gc->orphans = sweep_list(ts, gc->orphans, &live, &dead_types, &freed);
    free_chain(ts, dead_types);
    MUTEX_LOCK(&gc->lock);
    free_retired(gc);
    MUTEX_UNLOCK(&gc->lock);

    gc->live_bytes = live;
    gc->last_found = freed;
    gc->total_found += freed;
    gc->collections++;
    atomic_store_explicit(&gc->memory_short, false, memory_order_relaxed);
    size_t next = live * MINI_GC_GROWTH;
    gc->threshold = next > gc->min_threshold ? next : gc->min_threshold;
    atomic_store(&gc->allocated, 0);
    atomic_fetch_and(&ts->eval_breaker, ~(unsigned)BREAK_GC);
    MUTEX_UNLOCK(&interp->threads_lock);
    thread_resume_world(ts);
}

/* Calls every gc.callbacks entry with (phase, info); an exception in one is
 * printed, as CPython does, and the others still run. */
static void run_callbacks(TState *ts, const char *phase, size_t found) {
    GcState *gc = &ts->interp->gc;
    if (!IS_LIST(gc->callbacks) || list_len(AS_LIST(gc->callbacks)) == 0) return;
    size_t n;
    Value *items = list_snapshot(ts, AS_LIST(gc->callbacks), &n);
    ObjTuple *snapshot = items || !n ? tuple_from(ts, items, n) : NULL;
    if (items) gc_free_buffer(items, n * sizeof(Value));
    ObjDict *info = snapshot ? dict_new(ts) : NULL;
    ObjStr *name = info ? str_intern_cstr(ts, phase) : NULL;
    if (!name || dict_set_str(ts, info, str_intern_cstr(ts, "generation"), INT_VAL(2)) < 0 ||
        dict_set_str(ts, info, str_intern_cstr(ts, "collected"), INT_VAL((int64_t)found)) < 0 ||
        dict_set_str(ts, info, str_intern_cstr(ts, "uncollectable"), INT_VAL(0)) < 0) {
        err_write_unraisable(ts, gc->callbacks);
        return;
    }
    vm_push(ts, OBJ_VAL(snapshot));
    vm_push(ts, OBJ_VAL(info));
    for (size_t i = 0; i < snapshot->len; i++) {
        Value args[2] = {OBJ_VAL(name), OBJ_VAL(info)};
        if (IS_ERROR(vm_call(ts, snapshot->items[i], args, 2, NULL))) err_write_unraisable(ts, snapshot->items[i]);
    }
    vm_pop(ts);
    vm_pop(ts);
}

size_t gc_run(TState *ts) {
    GcState *gc = &ts->interp->gc;
    /* A callback that allocates may reach a safepoint that collects: that
     * collection calls no callback of its own. */
    bool outer = !atomic_exchange(&gc->running, true);
    Value saved = err_fetch(ts);
    vm_push(ts, saved);
    if (outer) run_callbacks(ts, "start", 0);
    gc_collect(ts);
    size_t found = gc->last_found;
    weakref_run_callbacks(ts);
    gc_run_finalizers(ts);
    if (outer) {
        run_callbacks(ts, "stop", found);
        atomic_store(&gc->running, false);
    }
    vm_pop(ts);
    if (!IS_EMPTY(saved)) err_restore(ts, saved);
    return found;
}

static size_t count_list(Obj *list, Value *out, size_t n) {
    for (Obj *o = list; o; o = o->gc_next) {
        if (out) out[n] = OBJ_VAL(o);
        n++;
    }
    return n;
}

void gc_run_finalizers(TState *ts) {
    GcState *gc = &ts->interp->gc;
    for (;;) {
        MUTEX_LOCK(&gc->weak_lock);
        ObjGenerator *g = gc->finalize_pending;
        if (g) gc->finalize_pending = g->finalize_next;
        MUTEX_UNLOCK(&gc->weak_lock);
        if (!g) break;
        g->finalize_next = NULL;
        vm_push(ts, OBJ_VAL(g));
        generator_finalize(ts, g);
        vm_pop(ts);
    }
}

void gc_finalize_all(TState *ts) {
    GcState *gc = &ts->interp->gc;
    if (!atomic_load_explicit(&gc->finalizers, memory_order_relaxed)) return;
    size_t n;
    Value *all = gc_all_objects(ts, &n);
    if (!all) return;
    /* Queued (so rooted) before any mini code runs; oldest first. */
    MUTEX_LOCK(&gc->weak_lock);
    for (size_t i = 0; i < n; i++) {
        Obj *o = AS_OBJ(all[i]);
        if (o->kind != OBJ_GENERATOR || (o->flags & OBJF_FINALIZED)) continue;
        ObjGenerator *g = (ObjGenerator *)o;
        if (!generator_needs_finalizer(g)) continue;
        o->flags |= OBJF_FINALIZED;
        g->finalize_next = gc->finalize_pending;
        gc->finalize_pending = g;
    }
    MUTEX_UNLOCK(&gc->weak_lock);
    free(all);
    gc_run_finalizers(ts);
}

Value *gc_all_objects(TState *ts, size_t *count) {
    Interp *interp = ts->interp;
    thread_stop_world(ts);
    MUTEX_LOCK(&interp->threads_lock);
    size_t n = count_list(interp->gc.orphans, NULL, 0);
    for (TState *t = interp->threads; t; t = t->next) n = count_list(t->heap, NULL, n);
    Value *out = malloc((n ? n : 1) * sizeof *out);
    if (out) {
        size_t i = count_list(interp->gc.orphans, out, 0);
        for (TState *t = interp->threads; t; t = t->next) i = count_list(t->heap, out, i);
    }
    MUTEX_UNLOCK(&interp->threads_lock);
    thread_resume_world(ts);
    *count = out ? n : 0;
    return out;
}

/* An exiting thread's free blocks become spares other threads take. */
static void adopt_free_lists(TState *ts, GcState *gc) {
    for (size_t cls = 1; cls < SIZE_CLASS_COUNT; cls++) {
        void *list = ts->free_lists[cls];
        if (!list) continue;
        void *last = list;
        while (*(void **)last) last = *(void **)last;
        *(void **)last = atomic_load_explicit(&gc->spare_lists[cls], memory_order_relaxed);
        atomic_store_explicit(&gc->spare_lists[cls], list, memory_order_relaxed);
        ts->free_lists[cls] = NULL;
    }
}

void gc_adopt_thread_heap(TState *ts) {
    GcState *gc = &ts->interp->gc;
    MUTEX_LOCK(&gc->lock);
    adopt_free_lists(ts, gc);
    if (ts->finalizable) {
        ObjGenerator *last = ts->finalizable;
        while (last->finalizable_next) last = last->finalizable_next;
        last->finalizable_next = gc->orphan_finalizable;
        gc->orphan_finalizable = ts->finalizable;
        ts->finalizable = NULL;
    }
    MUTEX_UNLOCK(&gc->lock);
    if (!ts->heap) return;
    Obj *last = ts->heap;
    while (last->gc_next) last = last->gc_next;
    MUTEX_LOCK(&gc->lock);
    last->gc_next = gc->orphans;
    gc->orphans = ts->heap;
    MUTEX_UNLOCK(&gc->lock);
    ts->heap = NULL;
}

/* Teardown: finalizes every object, frees the large ones, then the chunks
 * the small ones live in. */
void gc_free_all(Interp *interp) {
    size_t live = 0, freed = 0;
    Obj *dead_types = NULL;
    TState *main = interp->main_thread;
    for (TState *t = interp->threads; t; t = t->next) {
        free_chain(t, sweep_list(t, t->heap, &live, &dead_types, &freed));
        t->heap = NULL;
    }
    free_chain(main, sweep_list(main, interp->gc.orphans, &live, &dead_types, &freed));
    interp->gc.orphans = NULL;
    free_chain(main, dead_types);
    free_retired(&interp->gc);
    Chunk *c = interp->gc.chunks;
    while (c) {
        Chunk *next = c->next;
        free(c);
        c = next;
    }
    interp->gc.chunks = NULL;
    for (TState *t = interp->threads; t; t = t->next) {
        memset(t->free_lists, 0, sizeof t->free_lists);
        t->chunk_next = t->chunk_end = NULL;
    }
}
