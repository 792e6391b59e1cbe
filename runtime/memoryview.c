/* memoryview: a window on another object's buffer, without copying.
 *
 * A memoryview holds a long-lived export (BUF_EXPORT, runtime/buffer.h) of
 * the object it was made from, so a bytearray under a view cannot resize
 * (BufferError). A view is one-dimensional: `n` items of `itemsize` bytes,
 * `stride` bytes apart from `start` (slicing with a step only changes the
 * stride and the count; no byte is copied). Each view, slices included,
 * holds its own export, released by release(), `with`, or the collector. */
#include "runtime/memoryview.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/args.h"
#include "runtime/buffer.h"
#include "runtime/bytes.h"
#include "runtime/error.h"
#include "runtime/int.h"
#include "runtime/iterator.h"
#include "runtime/list.h"
#include "runtime/ops.h"
#include "runtime/range.h"
#include "runtime/str.h"
#include "runtime/strbuf.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "vm/gc.h"
#include "vm/interp.h"

#define EXC(ts) (&(ts)->interp->exc)

typedef struct ObjMemoryView {
    Obj obj;
    Buffer view;     /* the export; view.obj is the exporter (traced) */
    char *start;     /* the first item */
    int64_t n;       /* items */
    int64_t stride;  /* bytes from one item to the next */
    size_t itemsize;
    char format;     /* a native struct format character */
    bool released;
} ObjMemoryView;

#define AS_MV(v) ((ObjMemoryView *)AS_OBJ(v))

static ObjMemoryView *mv_from(TState *ts, Value obj) {
    Value base = IS_KIND(obj, OBJ_MEMORYVIEW) ? AS_MV(obj)->view.obj : obj;
    ObjMemoryView *mv = (ObjMemoryView *)gc_alloc(ts, sizeof(ObjMemoryView), OBJ_MEMORYVIEW,
                                                  ts->interp->types.memoryview);
    if (!mv) return NULL;
    memset(&mv->view, 0, sizeof mv->view);
    mv->view.obj = NONE_VAL;
    mv->released = true;
    if (!buffer_get(ts, base, &mv->view, BUF_EXPORT)) return NULL;
    mv->released = false;
    if (IS_KIND(obj, OBJ_MEMORYVIEW)) {
        ObjMemoryView *src = AS_MV(obj);
        mv->start = src->start;
        mv->n = src->n;
        mv->stride = src->stride;
        mv->itemsize = src->itemsize;
        mv->format = src->format;
    } else {
        mv->start = mv->view.buf;
        mv->itemsize = mv->view.itemsize;
        mv->n = (int64_t)(mv->view.len / mv->itemsize);
        mv->stride = (int64_t)mv->itemsize;
        mv->format = mv->view.format[0];
    }
    return mv;
}

Value memoryview_new(TState *ts, Value obj) {
    ObjMemoryView *mv = mv_from(ts, obj);
    return mv ? OBJ_VAL(mv) : ERROR_VAL;
}

static bool alive(TState *ts, ObjMemoryView *mv) {
    if (!mv->released) return true;
    err_set_str(ts, EXC(ts)->ValueError, "operation forbidden on released memoryview object");
    return false;
}

static inline char *item_at(ObjMemoryView *mv, int64_t i) { return mv->start + i * mv->stride; }
static inline bool contiguous(ObjMemoryView *mv) { return mv->stride == (int64_t)mv->itemsize || mv->n <= 1; }

/* The viewed bytes, in order (a copy for the caller to free). */
static char *gather(TState *ts, ObjMemoryView *mv, size_t *len) {
    *len = (size_t)mv->n * mv->itemsize;
    char *p = malloc(*len ? *len : 1);
    if (!p) {
        err_no_memory(ts);
        return NULL;
    }
    for (int64_t i = 0; i < mv->n; i++) memcpy(p + (size_t)i * mv->itemsize, item_at(mv, i), mv->itemsize);
    return p;
}

/* ---- slots ------------------------------------------------------------------ */

static Value mv_new_slot(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    (void)type;
    static const char *const names[] = {"object"};
    Value a[1];
    if (!args_bind(ts, "memoryview", args, nargs, kwnames, names, 1, 1, 1, a)) return ERROR_VAL;
    if (!buffer_check(ts, a[0]))
        return err_format(ts, EXC(ts)->TypeError, "memoryview: a bytes-like object is required, not '%s'",
                          ops_type_name(ts, a[0]));
    if (IS_KIND(a[0], OBJ_MEMORYVIEW) && !alive(ts, AS_MV(a[0]))) return ERROR_VAL;
    return memoryview_new(ts, a[0]);
}

static Value mv_repr(TState *ts, Value self) {
    ObjStr *s = str_printf(ts, "<%smemory at %p>", AS_MV(self)->released ? "released " : "", (void *)AS_OBJ(self));
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static int64_t mv_len(TState *ts, Value self) {
    ObjMemoryView *mv = AS_MV(self);
    return alive(ts, mv) ? mv->n : -1;
}

static Value mv_getitem(TState *ts, Value self, Value key) {
    ObjMemoryView *mv = AS_MV(self);
    if (!alive(ts, mv)) return ERROR_VAL;
    int64_t i;
    switch (seq_subscript(ts, key, &i)) {
    case 1:
        if (i < 0) i += mv->n;
        if (i < 0 || i >= mv->n) return err_set_str(ts, EXC(ts)->IndexError, "index out of bounds on dimension 1");
        return buffer_unpack_item(ts, mv->format, item_at(mv, i));
    case 2: {
        int64_t start, stop, step, count;
        if (slice_indices(ts, AS_SLICE(key), mv->n, &start, &stop, &step, &count) < 0) return ERROR_VAL;
        ObjMemoryView *r = mv_from(ts, self);
        if (!r) return ERROR_VAL;
        r->start = item_at(mv, start);
        r->n = count < 0 ? 0 : count;
        r->stride = mv->stride * step;
        return OBJ_VAL(r);
    }
    case 0:
        return err_format(ts, EXC(ts)->TypeError, "memoryview: invalid slice key");
    default:
        return ERROR_VAL;
    }
}

/* Writes one item, with memoryview's error wording. */
static bool put_item(TState *ts, ObjMemoryView *mv, char *p, Value v) {
    char tmp[16];
    int r = buffer_pack_item(ts, mv->format, v, tmp);
    if (r == 1) {
        memcpy(p, tmp, mv->itemsize);
        return true;
    }
    if (r == 0)
        err_format(ts, EXC(ts)->ValueError, "memoryview: invalid value for format '%c'", mv->format);
    else if (r == -2)
        err_format(ts, EXC(ts)->TypeError, "memoryview: invalid type for format '%c'", mv->format);
    return false;
}

static int mv_setitem(TState *ts, Value self, Value key, Value value) {
    ObjMemoryView *mv = AS_MV(self);
    if (!alive(ts, mv)) return -1;
    if (mv->view.readonly) {
        err_set_str(ts, EXC(ts)->TypeError, "cannot modify read-only memory");
        return -1;
    }
    if (IS_EMPTY(value)) {
        err_set_str(ts, EXC(ts)->TypeError, "cannot delete memory");
        return -1;
    }
    int64_t i;
    switch (seq_subscript(ts, key, &i)) {
    case 1:
        if (i < 0) i += mv->n;
        if (i < 0 || i >= mv->n) {
            err_set_str(ts, EXC(ts)->IndexError, "index out of bounds on dimension 1");
            return -1;
        }
        return put_item(ts, mv, item_at(mv, i), value) ? 0 : -1;
    case 2: {
        int64_t start, stop, step, count;
        if (slice_indices(ts, AS_SLICE(key), mv->n, &start, &stop, &step, &count) < 0) return -1;
        Buffer src;
        if (!buffer_get(ts, value, &src, BUF_READ)) return -1;
        bool ok = src.len == (size_t)count * mv->itemsize && src.itemsize == mv->itemsize;
        if (!ok)
            err_set_str(ts, EXC(ts)->ValueError,
                        "memoryview assignment: lvalue and rvalue have different structures");
        for (int64_t k = 0; ok && k < count; k++)
            memmove(item_at(mv, start + k * step), src.buf + (size_t)k * mv->itemsize, mv->itemsize);
        buffer_release(ts, &src);
        return ok ? 0 : -1;
    }
    case 0:
        err_set_str(ts, EXC(ts)->TypeError, "memoryview: invalid slice key");
        return -1;
    default:
        return -1;
    }
}

static Value mv_richcmp(TState *ts, Value a, Value b, CmpOp op) {
    if ((op != CMP_EQ && op != CMP_NE) || !buffer_check(ts, b)) return NOT_IMPLEMENTED_VAL;
    ObjMemoryView *mv = AS_MV(a);
    if (mv->released || (IS_KIND(b, OBJ_MEMORYVIEW) && AS_MV(b)->released))
        return BOOL_VAL((a == b) == (op == CMP_EQ));
    /* Equal when the items compare equal, as tolist() would. */
    Value x = ops_call(ts, ops_getattr(ts, a, str_intern_cstr(ts, "tolist")), NULL, 0, NULL);
    if (IS_ERROR(x)) return x;
    Value other = IS_KIND(b, OBJ_MEMORYVIEW) ? b : memoryview_new(ts, b);
    if (IS_ERROR(other)) return other;
    Value y = ops_call(ts, ops_getattr(ts, other, str_intern_cstr(ts, "tolist")), NULL, 0, NULL);
    if (other != b) buffer_release_export(&AS_MV(other)->view), AS_MV(other)->released = true;
    if (IS_ERROR(y)) return y;
    int eq = ops_equal(ts, x, y);
    if (eq < 0) return ERROR_VAL;
    return BOOL_VAL((eq != 0) == (op == CMP_EQ));
}

static int mv_hash(TState *ts, Value self, int64_t *out) {
    ObjMemoryView *mv = AS_MV(self);
    if (!alive(ts, mv)) return -1;
    if (!mv->view.readonly) {
        err_set_str(ts, EXC(ts)->ValueError, "cannot hash writable memoryview object");
        return -1;
    }
    size_t len;
    char *p = gather(ts, mv, &len);
    if (!p) return -1;
    *out = str_hash_bytes(p, len);
    free(p);
    return 0;
}

/* memoryview exports what it views (contiguous views only). */
static int mv_getbuffer(TState *ts, Value self, Buffer *view, int flags) {
    ObjMemoryView *mv = AS_MV(self);
    if (!alive(ts, mv)) return -1;
    if (!contiguous(mv)) {
        if (flags != BUF_READ) {
            err_set_str(ts, EXC(ts)->BufferError, "memoryview: underlying buffer is not C-contiguous");
            return -1;
        }
        /* Read views of a strided view get its items gathered. */
        size_t len;
        char *p = gather(ts, mv, &len);
        if (!p || !buffer_fill(ts, view, self, p, len, true, flags, false)) {
            free(p);
            return -1;
        }
        view->copy = p;
        view->itemsize = mv->itemsize;
        return 0;
    }
    if (!buffer_get(ts, mv->view.obj, view, flags)) return -1;
    size_t off = (size_t)(mv->start - mv->view.buf);
    view->buf += off;
    view->len = (size_t)mv->n * mv->itemsize;
    view->itemsize = mv->itemsize;
    view->format = mv->format == 'B' ? "B" : mv->view.format;
    return 0;
}

static Value iter_mv_step(TState *ts, ObjIterator *it) {
    ObjMemoryView *mv = AS_MV(it->source);
    int64_t i = __atomic_fetch_add(&it->index, 1, __ATOMIC_RELAXED);
    if (!alive(ts, mv)) return ERROR_VAL;
    return i < mv->n ? buffer_unpack_item(ts, mv->format, item_at(mv, i)) : EMPTY_VAL;
}

static Value mv_iter(TState *ts, Value self) {
    if (!alive(ts, AS_MV(self))) return ERROR_VAL;
    ObjIterator *it = iterator_new(ts, "memory_iterator", iter_mv_step, self, NONE_VAL);
    return it ? OBJ_VAL(it) : ERROR_VAL;
}

static void mv_trace(GcMarker *m, Obj *self) { gc_mark_value(m, ((ObjMemoryView *)self)->view.obj); }

static void mv_finalize(Obj *self) { buffer_release_export(&((ObjMemoryView *)self)->view); }

static size_t mv_obj_size(Obj *self) {
    (void)self;
    return sizeof(ObjMemoryView);
}

/* ---- methods -------------------------------------------------------------------- */

#define SELF_MV AS_MV(args[0])

static Value mv_tobytes(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"order"};
    Value a[1];
    if (!args_bind(ts, "tobytes", args + 1, nargs - 1, kwnames, names, 1, 0, 1, a)) return ERROR_VAL;
    if (!alive(ts, SELF_MV)) return ERROR_VAL;
    size_t len;
    char *p = gather(ts, SELF_MV, &len);
    if (!p) return ERROR_VAL;
    ObjBytes *b = bytes_new(ts, p, len);
    free(p);
    return b ? OBJ_VAL(b) : ERROR_VAL;
}

static Value mv_tolist(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("tolist", 0, 0);
    ObjMemoryView *mv = SELF_MV;
    if (!alive(ts, mv)) return ERROR_VAL;
    ObjList *l = list_new(ts, (size_t)mv->n);
    for (int64_t i = 0; l && i < mv->n; i++) {
        Value v = buffer_unpack_item(ts, mv->format, item_at(mv, i));
        if (IS_ERROR(v) || list_append(ts, l, v) < 0) return ERROR_VAL;
    }
    return l ? OBJ_VAL(l) : ERROR_VAL;
}

static Value mv_hex(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!alive(ts, SELF_MV)) return ERROR_VAL;
    size_t len;
    char *p = gather(ts, SELF_MV, &len);
    if (!p) return ERROR_VAL;
    Value r = bytes_hex(ts, p, len, args + 1, nargs - 1, kwnames);
    free(p);
    return r;
}

static Value mv_release(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("release", 0, 0);
    ObjMemoryView *mv = SELF_MV;
    if (!mv->released) {
        mv->released = true;
        buffer_release_export(&mv->view);
    }
    return NONE_VAL;
}

static Value mv_enter(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__enter__", 0, 0);
    return alive(ts, SELF_MV) ? args[0] : ERROR_VAL;
}

static Value mv_exit(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    (void)nargs;
    (void)kwnames;
    return mv_release(ts, args, 1, NULL);
}

static Value mv_cast(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"format", "shape"};
    Value a[2];
    if (!args_bind(ts, "cast", args + 1, nargs - 1, kwnames, names, 2, 1, 2, a)) return ERROR_VAL;
    ObjMemoryView *mv = SELF_MV;
    if (!alive(ts, mv)) return ERROR_VAL;
    ObjStr *f;
    if (!args_str(ts, a[0], "cast", &f)) return ERROR_VAL;
    const char *fs = f->data;
    if (fs[0] == '@') fs++;
    size_t size = strlen(fs) == 1 ? buffer_item_size(fs[0]) : 0;
    if (!size)
        return err_set_str(ts, EXC(ts)->ValueError,
                           "memoryview: destination format must be a native single character format prefixed "
                           "with an optional '@'");
    if (!IS_EMPTY(a[1]))
        return err_set_str(ts, EXC(ts)->NotImplementedError, "memoryview: cast with a shape is not supported by mini");
    if (!contiguous(mv)) return err_set_str(ts, EXC(ts)->TypeError, "memoryview: casts are restricted to C-contiguous views");
    size_t total = (size_t)mv->n * mv->itemsize;
    if (total % size) return err_set_str(ts, EXC(ts)->TypeError, "memoryview: length is not a multiple of itemsize");
    ObjMemoryView *r = mv_from(ts, args[0]);
    if (!r) return ERROR_VAL;
    r->format = fs[0];
    r->itemsize = size;
    r->n = (int64_t)(total / size);
    r->stride = (int64_t)size;
    return OBJ_VAL(r);
}

static Value mv_len_m(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__len__", 0, 0);
    int64_t n = mv_len(ts, args[0]);
    return n < 0 ? ERROR_VAL : INT_VAL(n);
}

static Value mv_getitem_m(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__getitem__", 1, 1);
    return mv_getitem(ts, args[0], args[1]);
}

static Value mv_setitem_m(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__setitem__", 2, 2);
    return mv_setitem(ts, args[0], args[1], args[2]) == 0 ? NONE_VAL : ERROR_VAL;
}

static Value mv_iter_m(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__iter__", 0, 0);
    return mv_iter(ts, args[0]);
}

static Value g_obj(TState *ts, Value self) { return alive(ts, AS_MV(self)) ? AS_MV(self)->view.obj : ERROR_VAL; }
static Value g_nbytes(TState *ts, Value self) {
    return alive(ts, AS_MV(self)) ? INT_VAL(AS_MV(self)->n * (int64_t)AS_MV(self)->itemsize) : ERROR_VAL;
}
static Value g_readonly(TState *ts, Value self) {
    return alive(ts, AS_MV(self)) ? BOOL_VAL(AS_MV(self)->view.readonly) : ERROR_VAL;
}
static Value g_itemsize(TState *ts, Value self) {
    return alive(ts, AS_MV(self)) ? INT_VAL((int64_t)AS_MV(self)->itemsize) : ERROR_VAL;
}
static Value g_format(TState *ts, Value self) {
    if (!alive(ts, AS_MV(self))) return ERROR_VAL;
    ObjStr *s = str_new(ts, &AS_MV(self)->format, 1);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}
static Value g_ndim(TState *ts, Value self) { return alive(ts, AS_MV(self)) ? INT_VAL(1) : ERROR_VAL; }
static Value g_shape(TState *ts, Value self) {
    if (!alive(ts, AS_MV(self))) return ERROR_VAL;
    Value n = INT_VAL(AS_MV(self)->n);
    ObjTuple *t = tuple_from(ts, &n, 1);
    return t ? OBJ_VAL(t) : ERROR_VAL;
}
static Value g_strides(TState *ts, Value self) {
    if (!alive(ts, AS_MV(self))) return ERROR_VAL;
    Value n = INT_VAL(AS_MV(self)->stride);
    ObjTuple *t = tuple_from(ts, &n, 1);
    return t ? OBJ_VAL(t) : ERROR_VAL;
}
static Value g_released(TState *ts, Value self) {
    (void)ts;
    return BOOL_VAL(AS_MV(self)->released);
}
static Value g_contiguous(TState *ts, Value self) {
    return alive(ts, AS_MV(self)) ? BOOL_VAL(contiguous(AS_MV(self))) : ERROR_VAL;
}

static const NativeDef mv_methods[] = {
    {"tobytes", mv_tobytes}, {"tolist", mv_tolist},     {"hex", mv_hex},
    {"release", mv_release}, {"cast", mv_cast},         {"__enter__", mv_enter},
    {"__exit__", mv_exit},   {"__len__", mv_len_m},     {"__getitem__", mv_getitem_m},
    {"__setitem__", mv_setitem_m}, {"__iter__", mv_iter_m},
    {NULL, NULL},
};

static const GetSetDef mv_getsets[] = {
    {"obj", g_obj, NULL},           {"nbytes", g_nbytes, NULL},     {"readonly", g_readonly, NULL},
    {"itemsize", g_itemsize, NULL}, {"format", g_format, NULL},     {"ndim", g_ndim, NULL},
    {"shape", g_shape, NULL},       {"strides", g_strides, NULL},   {"released", g_released, NULL},
    {"contiguous", g_contiguous, NULL}, {"c_contiguous", g_contiguous, NULL},
    {NULL, NULL, NULL},
};

const TypeSpec memoryview_type_spec = {
    .name = "memoryview",
    .kind = OBJ_MEMORYVIEW,
    .obj_size = mv_obj_size,
    .flags = TYPEF_SEQUENCE,
    .repr = mv_repr,
    .hash = mv_hash,
    .richcmp = mv_richcmp,
    .len = mv_len,
    .getitem = mv_getitem,
    .setitem = mv_setitem,
    .iter = mv_iter,
    .new_ = mv_new_slot,
    .trace = mv_trace,
    .finalize = mv_finalize,
    .getbuffer = mv_getbuffer,
    .methods = mv_methods,
    .getsets = mv_getsets,
};
