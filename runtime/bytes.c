/* bytes and bytearray: see bytes.h for the layout and the GIL-off rules.
 *
 * Map of this file:
 *   - storage: allocation, the bytearray's store (grown, retired) and its
 *     atomic byte accessors;
 *   - the buffer protocol of both types;
 *   - slots shared by both (repr, comparison, +, *, %, len, in, iteration,
 *     indexing), then bytearray's item and slice assignment;
 *   - constructors (bytes(x), bytearray(x));
 *   - the non-mutating methods, shared: each reads self through a buffer
 *     view and builds its result in self's type;
 *   - bytearray's mutating methods. */
#include "runtime/bytes.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/args.h"
#include "runtime/buffer.h"
#include "runtime/codec.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/int.h"
#include "runtime/iterator.h"
#include "runtime/list.h"
#include "runtime/numfmt.h"
#include "runtime/ops.h"
#include "runtime/range.h"
#include "runtime/str.h"
#include "runtime/strbuf.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/vm.h"

#define EXC(ts) (&(ts)->interp->exc)

/* ---- storage ------------------------------------------------------------ */

static ObjBytes *bytes_alloc_typed(TState *ts, ObjType *type, size_t len) {
    if (len > (size_t)PTRDIFF_MAX - sizeof(ObjBytes) - 1) {
        err_no_memory(ts);
        return NULL;
    }
    ObjBytes *b = (ObjBytes *)gc_alloc(ts, sizeof(ObjBytes) + len + 1, OBJ_BYTES,
                                       type ? type : ts->interp->types.bytes);
    if (!b) return NULL;
    atomic_init(&b->hash, -1);
    b->len = len;
    b->data[len] = '\0';
    return b;
}

ObjBytes *bytes_alloc(TState *ts, size_t len) { return bytes_alloc_typed(ts, NULL, len); }

ObjBytes *bytes_new(TState *ts, const char *p, size_t len) {
    ObjBytes *b = bytes_alloc(ts, len);
    if (b && len) memcpy(b->data, p, len);
    return b;
}

static inline size_t ba_len(const ObjByteArray *a) {
    return atomic_load_explicit(&((ObjByteArray *)a)->len, memory_order_acquire);
}
static inline ByteStore *ba_store(const ObjByteArray *a) {
    return atomic_load_explicit(&((ObjByteArray *)a)->store, memory_order_acquire);
}
static inline size_t store_bytes(size_t cap) { return sizeof(ByteStore) + cap; }

/* Byte accessors: atomic when other threads may read the same store
 * without the lock (relaxed: a byte carries no pointer to publish). */
static inline unsigned char byte_get(const char *p) {
    return (unsigned char)__atomic_load_n(p, __ATOMIC_RELAXED);
}
static inline void byte_put(char *p, unsigned char v) { __atomic_store_n(p, (char)v, __ATOMIC_RELAXED); }

/* memmove for a bytearray's bytes (lock held): bytewise atomics when the
 * GIL is off, as list.c's move_items. */
static void move_bytes(TState *ts, char *dst, const char *src, size_t n) {
    if (n == 0 || dst == src) return;
    if (ts->interp->gil_enabled) {
        memmove(dst, src, n);
    } else if (dst < src) {
        for (size_t i = 0; i < n; i++) byte_put(&dst[i], byte_get(&src[i]));
    } else {
        for (size_t i = n; i-- > 0;) byte_put(&dst[i], byte_get(&src[i]));
    }
}

#define MAX_BYTES ((size_t)PTRDIFF_MAX - sizeof(ByteStore))

/* Grows the store to hold `need` bytes (lock held). False when memory runs
 * out; nothing raised, since the caller holds the lock. */
static bool reserve_locked(TState *ts, ObjByteArray *a, size_t need) {
    ByteStore *s = atomic_load_explicit(&a->store, memory_order_relaxed);
    size_t cap = s ? s->cap : 0;
    if (need <= cap) return true;
    if (need > MAX_BYTES) return false;
    size_t new_cap = cap + (cap >> 1) + 16;
    if (new_cap < need || new_cap > MAX_BYTES) new_cap = need;
    ByteStore *n = gc_alloc_buffer(ts, store_bytes(new_cap));
    if (!n) return false;
    n->cap = new_cap;
    size_t len = atomic_load_explicit(&a->len, memory_order_relaxed);
    if (len) memcpy(n->data, s->data, len);
    atomic_store_explicit(&a->store, n, memory_order_release);
    if (s) gc_retire_buffer(ts, s, store_bytes(s->cap));
    return true;
}

static inline void len_publish(ObjByteArray *a, size_t n) {
    atomic_store_explicit(&a->len, n, memory_order_release);
}

static ObjByteArray *bytearray_alloc(TState *ts, ObjType *type) {
    ObjByteArray *a = (ObjByteArray *)gc_alloc(ts, sizeof(ObjByteArray), OBJ_BYTEARRAY,
                                               type ? type : ts->interp->types.bytearray);
    if (!a) return NULL;
    atomic_init(&a->len, 0);
    atomic_init(&a->store, NULL);
    atomic_init(&a->exports, NULL);
    return a;
}

/* Sets the contents of a fresh (unshared) bytearray. */
static bool bytearray_fill(TState *ts, ObjByteArray *a, const char *p, size_t len) {
    if (!len) return true;
    if (!reserve_locked(ts, a, len)) {
        err_no_memory(ts);
        return false;
    }
    memcpy(atomic_load_explicit(&a->store, memory_order_relaxed)->data, p, len);
    len_publish(a, len);
    return true;
}

ObjByteArray *bytearray_new(TState *ts, const char *p, size_t len) {
    ObjByteArray *a = bytearray_alloc(ts, NULL);
    return a && bytearray_fill(ts, a, p, len) ? a : NULL;
}

/* The resize check (lock held): CPython's BufferError while views exist. */
static bool resizable_locked(TState *ts, ObjByteArray *a) {
    if (buffer_views(&a->exports) == 0) return true;
    obj_unlock(ts, &a->obj);
    err_format(ts, EXC(ts)->BufferError, "Existing exports of data: object cannot be re-sized");
    return false;
}

int bytearray_append_bytes(TState *ts, ObjByteArray *a, const char *p, size_t n) {
    obj_lock(ts, &a->obj);
    if (!resizable_locked(ts, a)) return -1;
    size_t len = atomic_load_explicit(&a->len, memory_order_relaxed);
    if (n > MAX_BYTES - len || !reserve_locked(ts, a, len + n)) {
        obj_unlock(ts, &a->obj);
        err_no_memory(ts);
        return -1;
    }
    ByteStore *s = atomic_load_explicit(&a->store, memory_order_relaxed);
    if (ts->interp->gil_enabled) memcpy(s->data + len, p, n);
    else
        for (size_t i = 0; i < n; i++) byte_put(&s->data[len + i], (unsigned char)p[i]);
    len_publish(a, len + n);
    obj_unlock(ts, &a->obj);
    return 0;
}

/* ---- the buffer protocol ----------------------------------------------- */

static int bytes_getbuffer(TState *ts, Value self, Buffer *view, int flags) {
    ObjBytes *b = AS_BYTES(self);
    return buffer_fill(ts, view, self, b->data, b->len, true, flags, false) ? 0 : -1;
}

static int bytearray_getbuffer(TState *ts, Value self, Buffer *view, int flags) {
    ObjByteArray *a = AS_BYTEARRAY(self);
    obj_lock(ts, &a->obj);
    size_t len = atomic_load_explicit(&a->len, memory_order_relaxed);
    ByteStore *s = atomic_load_explicit(&a->store, memory_order_relaxed);
    static char empty[1];
    char *p = s ? s->data : empty;
    /* BUF_READ with the GIL off: a snapshot (readers never hold a lock
     * past the call); BUF_WRITE keeps the lock until release. */
    bool copy = flags == BUF_READ && !ts->interp->gil_enabled;
    bool ok = buffer_fill(ts, view, self, p, len, false, flags, copy) &&
              (flags != BUF_EXPORT || buffer_export(ts, &a->exports, view));
    if (!ok || flags != BUF_WRITE) obj_unlock(ts, &a->obj);
    return ok ? 0 : -1;
}

static void bytearray_releasebuffer(TState *ts, Buffer *view) {
    ObjByteArray *a = AS_BYTEARRAY(view->obj);
    if (view->flags == BUF_WRITE) obj_unlock(ts, &a->obj);
}

Value bytes_from_buffer(TState *ts, Value v) {
    if (IS_BYTES(v) && OBJ_TYPE(v) == ts->interp->types.bytes) return v;
    Buffer b;
    if (!buffer_get(ts, v, &b, BUF_READ)) return ERROR_VAL;
    ObjBytes *r = bytes_new(ts, b.buf, b.len);
    buffer_release(ts, &b);
    return r ? OBJ_VAL(r) : ERROR_VAL;
}

/* ---- helpers -------------------------------------------------------------- */

static inline bool is_bytearray_type(Value v) { return IS_BYTEARRAY(v); }

/* A result in self's type (bytearray methods return bytearrays). */
static Value make_like(TState *ts, Value self, const char *p, size_t n) {
    Obj *o = is_bytearray_type(self) ? (Obj *)bytearray_new(ts, p, n) : (Obj *)bytes_new(ts, p, n);
    return o ? OBJ_VAL(o) : ERROR_VAL;
}

static Value make_like_sb(TState *ts, Value self, StrBuf *sb, bool ok) {
    Value r = ok ? make_like(ts, self, sb->data ? sb->data : "", sb->len) : err_no_memory(ts);
    sb_free(sb);
    return r;
}

/* A view of self (always a bytes-like of ours). */
static bool self_view(TState *ts, Value self, Buffer *b) { return buffer_get(ts, self, b, BUF_READ); }

/* A byte value 0..255 from an int-like value. */
static bool byte_value(TState *ts, Value v, unsigned char *out) {
    int64_t i;
    if (!ops_index(ts, v, &i)) return false;
    if (i < 0 || i > 255) {
        err_set_str(ts, EXC(ts)->ValueError, "byte must be in range(0, 256)");
        return false;
    }
    *out = (unsigned char)i;
    return true;
}

/* A "sub" argument: an int (one byte, kept in *one) or a bytes-like. */
static bool sub_arg(TState *ts, Value v, Buffer *b, char *one) {
    if (IS_INTLIKE(v) && !IS_BOOL(v)) {
        unsigned char c;
        if (!byte_value(ts, v, &c)) return false;
        *one = (char)c;
        memset(b, 0, sizeof *b);
        b->obj = NONE_VAL;
        b->buf = one;
        b->len = 1;
        return true;
    }
    if (!buffer_check(ts, v)) {
        err_format(ts, EXC(ts)->TypeError,
                   "argument should be integer or bytes-like object, not '%s'", ops_type_name(ts, v));
        return false;
    }
    return buffer_get(ts, v, b, BUF_READ);
}

/* Optional start/end at args[first], args[first + 1], clamped as CPython's
 * ADJUST_INDICES. */
static inline bool is_space(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\x0b' || c == '\x0c';
}
static inline bool is_lower(unsigned char c) { return c >= 'a' && c <= 'z'; }
static inline bool is_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
static inline bool is_alpha(unsigned char c) { return is_lower(c) || is_upper(c); }
static inline bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static inline unsigned char to_lower(unsigned char c) { return is_upper(c) ? c + 32 : c; }
static inline unsigned char to_upper(unsigned char c) { return is_lower(c) ? c - 32 : c; }

/* ---- slots -------------------------------------------------------------- */

static Value repr_of(TState *ts, Value self, const char *p, size_t n) {
    StrBuf sb;
    sb_init(&sb);
    bool ba = is_bytearray_type(self);
    bool ok = (!ba || sb_appendf(&sb, "%s(", OBJ_TYPE(self)->name->data)) && numfmt_repr_bytes(p, n, &sb);
    /* CPython's bytearray repr escapes ' even inside double quotes. */
    size_t body = ba ? strlen(OBJ_TYPE(self)->name->data) + 1 : 0;
    if (ok && ba && sb.data[body + 1] == '"') {
        StrBuf esc;
        sb_init(&esc);
        for (size_t i = 0; ok && i < sb.len; i++)
            ok = (sb.data[i] != '\'' || sb_append_char(&esc, '\\')) && sb_append_char(&esc, sb.data[i]);
        sb_free(&sb);
        sb = esc;
    }
    ok = ok && (!ba || sb_append_char(&sb, ')'));
    if (!ok) {
        sb_free(&sb);
        return err_no_memory(ts);
    }
    ObjStr *s = str_from_sb(ts, &sb);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static Value bytes_repr(TState *ts, Value self) {
    Buffer b;
    if (!self_view(ts, self, &b)) return ERROR_VAL;
    Value r = repr_of(ts, self, b.buf, b.len);
    buffer_release(ts, &b);
    return r;
}

static int bytes_hash(TState *ts, Value self, int64_t *out) {
    (void)ts;
    ObjBytes *b = AS_BYTES(self);
    int64_t h = atomic_load_explicit(&b->hash, memory_order_relaxed);
    if (h == -1) {
        h = str_hash_bytes(b->data, b->len);
        atomic_store_explicit(&b->hash, h, memory_order_relaxed);
    }
    *out = h;
    return 0;
}

static inline bool is_ours(Value v) { return IS_BYTES(v) || IS_BYTEARRAY(v); }

static Value bytes_richcmp(TState *ts, Value a, Value b, CmpOp op) {
    if (!is_ours(a) || !is_ours(b)) return NOT_IMPLEMENTED_VAL;
    Buffer x, y;
    if (!self_view(ts, a, &x)) return ERROR_VAL;
    if (!self_view(ts, b, &y)) {
        buffer_release(ts, &x);
        return ERROR_VAL;
    }
    size_t n = x.len < y.len ? x.len : y.len;
    int c = n ? memcmp(x.buf, y.buf, n) : 0;
    if (c == 0) c = x.len < y.len ? -1 : x.len > y.len;
    buffer_release(ts, &x);
    buffer_release(ts, &y);
    bool r;
    switch (op) {
    case CMP_LT: r = c < 0; break;
    case CMP_LE: r = c <= 0; break;
    case CMP_EQ: r = c == 0; break;
    case CMP_NE: r = c != 0; break;
    case CMP_GT: r = c > 0; break;
    default: r = c >= 0; break;
    }
    return BOOL_VAL(r);
}

static Value repeat(TState *ts, Value self, int64_t count) {
    Buffer b;
    if (!self_view(ts, self, &b)) return ERROR_VAL;
    if (count < 0) count = 0;
    if (b.len && (uint64_t)count > MAX_BYTES / b.len) {
        buffer_release(ts, &b);
        return err_no_memory(ts);
    }
    size_t total = b.len * (size_t)count;
    Value r;
    if (is_bytearray_type(self)) {
        ObjByteArray *a = bytearray_alloc(ts, NULL);
        if (a && total && !reserve_locked(ts, a, total)) a = NULL, err_no_memory(ts);
        if (a) {
            char *d = atomic_load_explicit(&a->store, memory_order_relaxed) ? a->store->data : NULL;
            for (int64_t i = 0; d && i < count; i++) memcpy(d + (size_t)i * b.len, b.buf, b.len);
            len_publish(a, total);
        }
        r = a ? OBJ_VAL(a) : ERROR_VAL;
    } else {
        ObjBytes *o = bytes_alloc(ts, total);
        for (int64_t i = 0; o && i < count; i++) memcpy(o->data + (size_t)i * b.len, b.buf, b.len);
        r = o ? OBJ_VAL(o) : ERROR_VAL;
    }
    buffer_release(ts, &b);
    return r;
}

static Value concat(TState *ts, Value a, Value b) {
    if (!buffer_check(ts, b)) {
        if (IS_OBJ(b) && (OBJ_TYPE(b)->flags & TYPEF_HEAPTYPE)) return NOT_IMPLEMENTED_VAL;
        return err_format(ts, EXC(ts)->TypeError, "can't concat %s to %s", ops_type_name(ts, b),
                          ops_type_name(ts, a));
    }
    Buffer x, y;
    if (!self_view(ts, a, &x)) return ERROR_VAL;
    if (!buffer_get(ts, b, &y, BUF_READ)) {
        buffer_release(ts, &x);
        return ERROR_VAL;
    }
    Value r = ERROR_VAL;
    if (x.len > MAX_BYTES - y.len) {
        err_no_memory(ts);
    } else if (is_bytearray_type(a)) {
        ObjByteArray *o = bytearray_new(ts, x.buf, x.len);
        if (o && bytearray_append_bytes(ts, o, y.buf, y.len) == 0) r = OBJ_VAL(o);
    } else {
        ObjBytes *o = bytes_alloc(ts, x.len + y.len);
        if (o) {
            memcpy(o->data, x.buf, x.len);
            memcpy(o->data + x.len, y.buf, y.len);
            r = OBJ_VAL(o);
        }
    }
    buffer_release(ts, &x);
    buffer_release(ts, &y);
    return r;
}

static Value bytes_mod(TState *ts, Value self, Value args);
static Value bytes_format(TState *ts, Value self, Value fmt, Value args);

static Value bytes_binop(TState *ts, BinOp op, Value a, Value b) {
    int64_t count;
    switch (op) {
    case BIN_ADD:
        if (!is_ours(a)) {
            if (IS_KIND(a, OBJ_MEMORYVIEW) || !buffer_check(ts, a)) return NOT_IMPLEMENTED_VAL;
            return err_format(ts, EXC(ts)->TypeError, "can't concat %s to %s", ops_type_name(ts, b),
                              ops_type_name(ts, a));
        }
        return concat(ts, a, b);
    case BIN_MUL: {
        bool right = !is_ours(a);
        Value seq = right ? b : a, n = right ? a : b;
        switch (seq_repeat_count(ts, n, &count)) {
        case 1: return repeat(ts, seq, count);
        case 0: return seq_repeat_error(ts, n, !right);
        default: return ERROR_VAL;
        }
    }
    case BIN_MOD:
        if (!is_ours(a)) return NOT_IMPLEMENTED_VAL;
        return bytes_mod(ts, a, b);
    default:
        return NOT_IMPLEMENTED_VAL;
    }
}

static int bytes_truth(TState *ts, Value self) {
    (void)ts;
    return IS_BYTES(self) ? AS_BYTES(self)->len != 0 : ba_len(AS_BYTEARRAY(self)) != 0;
}

static int64_t bytes_len(TState *ts, Value self) {
    (void)ts;
    return IS_BYTES(self) ? (int64_t)AS_BYTES(self)->len : (int64_t)ba_len(AS_BYTEARRAY(self));
}

static Value bytes_slice(TState *ts, Value self, ObjSlice *slice) {
    Buffer b;
    if (!self_view(ts, self, &b)) return ERROR_VAL;
    int64_t start, stop, step, count;
    Value r = ERROR_VAL;
    if (slice_indices(ts, slice, (int64_t)b.len, &start, &stop, &step, &count) == 0) {
        if (count <= 0) {
            r = make_like(ts, self, "", 0);
        } else if (step == 1) {
            r = make_like(ts, self, b.buf + start, (size_t)count);
        } else {
            char *tmp = malloc((size_t)count);
            if (!tmp) {
                r = err_no_memory(ts);
            } else {
                for (int64_t k = 0, i = start; k < count; k++, i += step) tmp[k] = b.buf[i];
                r = make_like(ts, self, tmp, (size_t)count);
                free(tmp);
            }
        }
    }
    buffer_release(ts, &b);
    return r;
}

static Value bytes_getitem(TState *ts, Value self, Value key) {
    int64_t i;
    switch (seq_subscript(ts, key, &i)) {
    case 1:
        if (IS_BYTES(self)) {
            ObjBytes *b = AS_BYTES(self);
            if (i < 0) i += (int64_t)b->len;
            if (i < 0 || i >= (int64_t)b->len) return err_set_str(ts, EXC(ts)->IndexError, "index out of range");
            return INT_VAL((unsigned char)b->data[i]);
        } else {
            ObjByteArray *a = AS_BYTEARRAY(self);
            size_t n = ba_len(a);
            ByteStore *s = ba_store(a);
            if (i < 0) i += (int64_t)n;
            if (i < 0 || (size_t)i >= n || !s || (size_t)i >= s->cap)
                return err_set_str(ts, EXC(ts)->IndexError, "bytearray index out of range");
            return INT_VAL(byte_get(&s->data[i]));
        }
    case 2:
        return bytes_slice(ts, self, AS_SLICE(key));
    case 0:
        return err_format(ts, EXC(ts)->TypeError, "%s indices must be integers or slices, not %s",
                          IS_BYTES(self) ? "byte" : "bytearray", ops_type_name(ts, key));
    default:
        return ERROR_VAL;
    }
}

static int bytes_contains(TState *ts, Value self, Value item) {
    Buffer sub;
    char one;
    if (IS_INTLIKE(item)) {
        unsigned char c;
        if (!byte_value(ts, item, &c)) return -1;
        one = (char)c;
        memset(&sub, 0, sizeof sub);
        sub.obj = NONE_VAL;
        sub.buf = &one;
        sub.len = 1;
    } else if (!buffer_get(ts, item, &sub, BUF_READ)) {
        return -1;
    }
    Buffer b;
    if (!self_view(ts, self, &b)) {
        buffer_release(ts, &sub);
        return -1;
    }
    int r = sub.len == 0 || memmem(b.buf, b.len, sub.buf, sub.len) != NULL;
    buffer_release(ts, &b);
    buffer_release(ts, &sub);
    return r;
}

static Value iter_bytes_step(TState *ts, ObjIterator *it) {
    (void)ts;
    Value src = __atomic_load_n(&it->source, __ATOMIC_ACQUIRE);
    if (!is_ours(src)) return EMPTY_VAL;
    int64_t i = __atomic_fetch_add(&it->index, 1, __ATOMIC_RELAXED);
    if (IS_BYTES(src)) {
        ObjBytes *b = AS_BYTES(src);
        if (i < (int64_t)b->len) return INT_VAL((unsigned char)b->data[i]);
    } else {
        ObjByteArray *a = AS_BYTEARRAY(src);
        size_t n = ba_len(a);
        ByteStore *s = ba_store(a);
        if ((size_t)i < n && s && (size_t)i < s->cap) return INT_VAL(byte_get(&s->data[i]));
    }
    __atomic_store_n(&it->source, NONE_VAL, __ATOMIC_RELEASE);
    return EMPTY_VAL;
}

static Value bytes_iter(TState *ts, Value self) {
    ObjIterator *it = iterator_new(ts, IS_BYTES(self) ? "bytes_iterator" : "bytearray_iterator",
                                   iter_bytes_step, self, NONE_VAL);
    return it ? OBJ_VAL(it) : ERROR_VAL;
}

/* ---- collecting bytes from values ---------------------------------------- */

/* The bytes of an iterable of ints, appended to out. The iterable is rooted
 * on the VM stack while items run mini code (__index__, generators). */
static bool collect_ints(TState *ts, Value iterable, StrBuf *out, bool bytearray) {
    Value it = ops_iter(ts, iterable);
    if (IS_ERROR(it)) return false;
    vm_push(ts, it);
    bool ok = true;
    for (;;) {
        Value v = ops_next(ts, it);
        if (IS_EMPTY(v)) break;
        unsigned char c;
        if (IS_ERROR(v) || !byte_value(ts, v, &c)) {
            if (!IS_ERROR(v) && !bytearray && err_matches(ts, EXC(ts)->ValueError)) {
                err_clear(ts);
                err_set_str(ts, EXC(ts)->ValueError, "bytes must be in range(0, 256)");
            }
            ok = false;
            break;
        }
        if (!sb_append_char(out, (char)c)) {
            err_no_memory(ts);
            ok = false;
            break;
        }
    }
    vm_pop(ts);
    return ok;
}

/* The bytes a value stands for on the right of a bytearray assignment,
 * extend or +=: a bytes-like (snapshot) or an iterable of ints. */
static bool value_bytes(TState *ts, Value v, StrBuf *out, const char *what) {
    if (buffer_check(ts, v)) {
        Buffer b;
        if (!buffer_get(ts, v, &b, BUF_READ)) return false;
        bool ok = sb_append(out, b.buf, b.len);
        buffer_release(ts, &b);
        if (!ok) err_no_memory(ts);
        return ok;
    }
    if (IS_STR(v) || IS_INTLIKE(v)) {
        err_format(ts, EXC(ts)->TypeError, "%s", what);
        return false;
    }
    return collect_ints(ts, v, out, true);
}

/* ---- bytearray assignment ------------------------------------------------ */

/* Replaces a[start:start+dlen] with p[0..n) (lock held; released on return). */
static int replace_range_locked(TState *ts, ObjByteArray *a, size_t start, size_t dlen, const char *p,
                                size_t n) {
    size_t len = atomic_load_explicit(&a->len, memory_order_relaxed);
    if (n != dlen && !resizable_locked(ts, a)) return -1;
    if (n > dlen && (n - dlen > MAX_BYTES - len || !reserve_locked(ts, a, len + n - dlen))) {
        obj_unlock(ts, &a->obj);
        err_no_memory(ts);
        return -1;
    }
    ByteStore *s = atomic_load_explicit(&a->store, memory_order_relaxed);
    if (s) {
        move_bytes(ts, s->data + start + n, s->data + start + dlen, len - start - dlen);
        for (size_t i = 0; i < n; i++) byte_put(&s->data[start + i], (unsigned char)p[i]);
    }
    len_publish(a, len + n - dlen);
    obj_unlock(ts, &a->obj);
    return 0;
}

static int bytearray_setslice(TState *ts, ObjByteArray *a, ObjSlice *slice, Value value) {
    StrBuf sb;
    sb_init(&sb);
    if (!IS_EMPTY(value) &&
        !value_bytes(ts, value, &sb, "can assign only bytes, buffers, or iterables of ints in range(0, 256)")) {
        sb_free(&sb);
        return -1;
    }
    const char *p = sb.data ? sb.data : "";
    obj_lock(ts, &a->obj);
    size_t len = atomic_load_explicit(&a->len, memory_order_relaxed);
    int64_t start, stop, step, count;
    obj_unlock(ts, &a->obj);
    /* slice_indices may run __index__: computed unlocked, then checked. */
    if (slice_indices(ts, slice, (int64_t)len, &start, &stop, &step, &count) < 0) {
        sb_free(&sb);
        return -1;
    }
    obj_lock(ts, &a->obj);
    if (atomic_load_explicit(&a->len, memory_order_relaxed) != len) {
        /* Another thread changed the size meanwhile: start again. */
        obj_unlock(ts, &a->obj);
        sb_free(&sb);
        return bytearray_setslice(ts, a, slice, value);
    }
    int r;
    if (count < 0) count = 0;
    if (step == 1) {
        r = replace_range_locked(ts, a, (size_t)start, (size_t)count, p, sb.len);
    } else if (IS_EMPTY(value) || sb.len == 0) {
        /* Assigning nothing to an extended slice deletes it, as CPython. */
        if (count && !resizable_locked(ts, a)) {
            sb_free(&sb);
            return -1;
        }
        ByteStore *s = atomic_load_explicit(&a->store, memory_order_relaxed);
        if (step < 0) {
            start = start + step * (count - 1);
            step = -step;
        }
        size_t w = (size_t)start;
        for (size_t i = (size_t)start, k = 0; i < len; i++) {
            if (k < (size_t)count && i == (size_t)start + k * (size_t)step) {
                k++;
                continue;
            }
            byte_put(&s->data[w++], byte_get(&s->data[i]));
        }
        if (count) len_publish(a, len - (size_t)count);
        obj_unlock(ts, &a->obj);
        r = 0;
    } else if ((size_t)count != sb.len) {
        obj_unlock(ts, &a->obj);
        err_format(ts, EXC(ts)->ValueError, "attempt to assign bytes of size %zu to extended slice of size %lld",
                   sb.len, (long long)count);
        r = -1;
    } else {
        ByteStore *s = atomic_load_explicit(&a->store, memory_order_relaxed);
        for (int64_t k = 0, i = start; k < count; k++, i += step) byte_put(&s->data[i], (unsigned char)p[k]);
        obj_unlock(ts, &a->obj);
        r = 0;
    }
    sb_free(&sb);
    return r;
}

static int bytearray_setitem(TState *ts, Value self, Value key, Value value) {
    ObjByteArray *a = AS_BYTEARRAY(self);
    int64_t i;
    switch (seq_subscript(ts, key, &i)) {
    case 1: {
        unsigned char c = 0;
        if (!IS_EMPTY(value) && !byte_value(ts, value, &c)) return -1;
        obj_lock(ts, &a->obj);
        size_t n = atomic_load_explicit(&a->len, memory_order_relaxed);
        if (i < 0) i += (int64_t)n;
        if (i < 0 || (size_t)i >= n) {
            obj_unlock(ts, &a->obj);
            err_set_str(ts, EXC(ts)->IndexError, "bytearray index out of range");
            return -1;
        }
        if (IS_EMPTY(value)) return replace_range_locked(ts, a, (size_t)i, 1, "", 0);
        byte_put(&atomic_load_explicit(&a->store, memory_order_relaxed)->data[i], c);
        obj_unlock(ts, &a->obj);
        return 0;
    }
    case 2:
        return bytearray_setslice(ts, a, AS_SLICE(key), value);
    case 0:
        err_format(ts, EXC(ts)->TypeError, "bytearray indices must be integers or slices, not %s",
                   ops_type_name(ts, key));
        return -1;
    default:
        return -1;
    }
}

static Value bytearray_inplace(TState *ts, BinOp op, Value a, Value b) {
    ObjByteArray *self = AS_BYTEARRAY(a);
    if (op == BIN_ADD) {
        if (!buffer_check(ts, b))
            return err_format(ts, EXC(ts)->TypeError, "can't concat %s to %s", ops_type_name(ts, b),
                              ops_type_name(ts, a));
        Buffer y;
        if (!buffer_get(ts, b, &y, BUF_READ)) return ERROR_VAL;
        int r = bytearray_append_bytes(ts, self, y.buf, y.len);
        buffer_release(ts, &y);
        return r == 0 ? a : ERROR_VAL;
    }
    if (op == BIN_MUL) {
        int64_t count;
        switch (seq_repeat_count(ts, b, &count)) {
        case 0: return seq_repeat_error(ts, b, true);
        case -1: return ERROR_VAL;
        default: break;
        }
        obj_lock(ts, &self->obj);
        size_t len = atomic_load_explicit(&self->len, memory_order_relaxed);
        if (count < 0) count = 0;
        if ((size_t)count != 1 && len && !resizable_locked(ts, self)) return ERROR_VAL;
        if (len && (uint64_t)count > MAX_BYTES / len) {
            obj_unlock(ts, &self->obj);
            return err_no_memory(ts);
        }
        size_t total = len * (size_t)count;
        if (!reserve_locked(ts, self, total)) {
            obj_unlock(ts, &self->obj);
            return err_no_memory(ts);
        }
        ByteStore *s = atomic_load_explicit(&self->store, memory_order_relaxed);
        for (size_t k = len; s && k < total; k++) byte_put(&s->data[k], byte_get(&s->data[k - len]));
        len_publish(self, total);
        obj_unlock(ts, &self->obj);
        return a;
    }
    return NOT_IMPLEMENTED_VAL;
}

/* ---- constructors ------------------------------------------------------------ */

/* The bytes bytes(source, encoding, errors) stands for, appended to out. */
static bool source_bytes(TState *ts, const char *tname, Value *a, StrBuf *out) {
    Value src = a[0];
    if (IS_EMPTY(src)) {
        if (!IS_EMPTY(a[1]) || !IS_EMPTY(a[2])) {
            err_format(ts, EXC(ts)->TypeError, "%s", IS_EMPTY(a[1]) ? "errors without a string argument"
                                                                    : "encoding without a string argument");
            return false;
        }
        return true;
    }
    if (IS_STR(src)) {
        if (IS_EMPTY(a[1])) {
            err_set_str(ts, EXC(ts)->TypeError, "string argument without an encoding");
            return false;
        }
        Value e = codec_encode(ts, AS_STR(src), a[1], a[2]);
        if (IS_ERROR(e)) return false;
        if (!sb_append(out, AS_BYTES(e)->data, AS_BYTES(e)->len)) {
            err_no_memory(ts);
            return false;
        }
        return true;
    }
    if (!IS_EMPTY(a[1]) || !IS_EMPTY(a[2])) {
        err_format(ts, EXC(ts)->TypeError, "%s", IS_EMPTY(a[1]) ? "errors without a string argument"
                                                                : "encoding without a string argument");
        return false;
    }
    if (strcmp(tname, "bytes") == 0 && IS_OBJ(src)) {
        Value m = type_lookup(OBJ_TYPE(src), str_intern_cstr(ts, "__bytes__"));
        if (!IS_EMPTY(m)) {
            Value r = vm_call_method(ts, m, src, NULL, 0, NULL);
            if (IS_ERROR(r)) return false;
            if (!IS_BYTES(r)) {
                err_format(ts, EXC(ts)->TypeError, "__bytes__ returned non-bytes (type %s)", ops_type_name(ts, r));
                return false;
            }
            bool ok = sb_append(out, AS_BYTES(r)->data, AS_BYTES(r)->len);
            if (!ok) err_no_memory(ts);
            return ok;
        }
    }
    if (buffer_check(ts, src)) return value_bytes(ts, src, out, "");
    if (IS_INTLIKE(src) || (IS_OBJ(src) && !IS_EMPTY(type_lookup(OBJ_TYPE(src), ts->interp->names.index)))) {
        int64_t n;
        if (!ops_index(ts, src, &n)) return false;
        if (n < 0) {
            err_set_str(ts, EXC(ts)->ValueError, "negative count");
            return false;
        }
        if (!sb_append_repeat(out, '\0', (size_t)n)) {
            err_no_memory(ts);
            return false;
        }
        return true;
    }
    if (IS_FLOAT(src) || IS_NONE(src)) {
        err_format(ts, EXC(ts)->TypeError, "cannot convert '%s' object to %s", ops_type_name(ts, src), tname);
        return false;
    }
    return collect_ints(ts, src, out, strcmp(tname, "bytearray") == 0);
}

static Value bytes_new_slot(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"source", "encoding", "errors"};
    Value a[3];
    if (!args_bind(ts, "bytes", args, nargs, kwnames, names, 3, 0, 3, a)) return ERROR_VAL;
    if (type == ts->interp->types.bytes && IS_BYTES(a[0]) && OBJ_TYPE(a[0]) == type && IS_EMPTY(a[1]))
        return a[0];
    StrBuf sb;
    sb_init(&sb);
    if (!source_bytes(ts, "bytes", a, &sb)) {
        sb_free(&sb);
        return ERROR_VAL;
    }
    ObjBytes *b = bytes_alloc_typed(ts, type, sb.len);
    if (b && sb.len) memcpy(b->data, sb.data, sb.len);
    sb_free(&sb);
    return b ? OBJ_VAL(b) : ERROR_VAL;
}

static Value bytearray_new_slot(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"source", "encoding", "errors"};
    Value a[3];
    if (!args_bind(ts, "bytearray", args, nargs, kwnames, names, 3, 0, 3, a)) return ERROR_VAL;
    StrBuf sb;
    sb_init(&sb);
    if (!source_bytes(ts, "bytearray", a, &sb)) {
        sb_free(&sb);
        return ERROR_VAL;
    }
    ObjByteArray *o = bytearray_alloc(ts, type);
    bool ok = o && bytearray_fill(ts, o, sb.data, sb.len);
    sb_free(&sb);
    return ok ? OBJ_VAL(o) : ERROR_VAL;
}

/* ---- non-mutating methods (bytes and bytearray) ------------------------------- */

/* Each method opens a view of self as `s` and must reach `done`. */
#define SELF_VIEW(s)                                                                                  \
    Buffer s;                                                                                         \
    if (!self_view(ts, args[0], &s)) return ERROR_VAL

static Value find_common(TState *ts, Value *args, int nargs, ObjTuple *kwnames, const char *name, bool last,
                         bool raise, bool count) {
    ARGS_CHECK_METHOD(name, 1, 3);
    /* start and end are checked before sub, as CPython parses them. */
    int64_t start, end;
    if (!str_range_args(ts, args, nargs, 2, (size_t)bytes_len(ts, args[0]), &start, &end)) return ERROR_VAL;
    Buffer sub;
    char one;
    if (!sub_arg(ts, args[1], &sub, &one)) return ERROR_VAL;
    SELF_VIEW(s);
    Value r = ERROR_VAL;
    if (start > (int64_t)s.len) start = (int64_t)s.len + 1;
    if (end > (int64_t)s.len) end = (int64_t)s.len;
    {
        int64_t res = count ? 0 : -1;
        if (start <= (int64_t)s.len && end - start >= (int64_t)sub.len) {
            const char *hay = s.buf + start;
            size_t hlen = (size_t)(end - start);
            if (count) {
                if (sub.len == 0) {
                    res = (int64_t)hlen + 1;
                } else {
                    const char *p = hay, *stop = hay + hlen;
                    while ((p = memmem(p, (size_t)(stop - p), sub.buf, sub.len)) != NULL) {
                        res++;
                        p += sub.len;
                    }
                }
            } else {
                const char *hit = last ? str_rmemmem(hay, hlen, sub.buf, sub.len)
                                       : (sub.len ? memmem(hay, hlen, sub.buf, sub.len) : hay);
                if (hit) res = (int64_t)(hit - s.buf);
            }
        }
        if (res < 0 && raise) err_set_str(ts, EXC(ts)->ValueError, "subsection not found");
        else r = INT_VAL(res);
    }
    buffer_release(ts, &s);
    buffer_release(ts, &sub);
    return r;
}

static Value m_find(TState *ts, Value *args, int nargs, ObjTuple *kw) {
    return find_common(ts, args, nargs, kw, "find", false, false, false);
}
static Value m_rfind(TState *ts, Value *args, int nargs, ObjTuple *kw) {
    return find_common(ts, args, nargs, kw, "rfind", true, false, false);
}
static Value m_index(TState *ts, Value *args, int nargs, ObjTuple *kw) {
    return find_common(ts, args, nargs, kw, "index", false, true, false);
}
static Value m_rindex(TState *ts, Value *args, int nargs, ObjTuple *kw) {
    return find_common(ts, args, nargs, kw, "rindex", true, true, false);
}
static Value m_count(TState *ts, Value *args, int nargs, ObjTuple *kw) {
    return find_common(ts, args, nargs, kw, "count", false, false, true);
}

static Value match_common(TState *ts, Value *args, int nargs, ObjTuple *kwnames, const char *name, bool at_end) {
    ARGS_CHECK_METHOD(name, 1, 3);
    int64_t start, end;
    if (!str_range_args(ts, args, nargs, 2, (size_t)bytes_len(ts, args[0]), &start, &end)) return ERROR_VAL;
    Value pat = args[1];
    size_t n = IS_KIND(pat, OBJ_TUPLE) ? AS_TUPLE(pat)->len : 1;
    for (size_t i = 0; i < n; i++) {
        Value p = IS_KIND(pat, OBJ_TUPLE) ? AS_TUPLE(pat)->items[i] : pat;
        if (!buffer_check(ts, p))
            return err_format(ts, EXC(ts)->TypeError,
                              IS_KIND(pat, OBJ_TUPLE) ? "a bytes-like object is required, not '%s'"
                                                      : "%s first arg must be bytes or a tuple of bytes, not %s",
                              IS_KIND(pat, OBJ_TUPLE) ? ops_type_name(ts, p) : name, ops_type_name(ts, p));
    }
    SELF_VIEW(s);
    Value r = ERROR_VAL;
    if (end > (int64_t)s.len) end = (int64_t)s.len;
    {
        r = FALSE_VAL;
        for (size_t i = 0; i < n && r == FALSE_VAL; i++) {
            Buffer sub;
            if (!buffer_get(ts, IS_KIND(pat, OBJ_TUPLE) ? AS_TUPLE(pat)->items[i] : pat, &sub, BUF_READ)) {
                r = ERROR_VAL;
                break;
            }
            if (start <= (int64_t)s.len && end - start >= (int64_t)sub.len) {
                const char *at = at_end ? s.buf + end - sub.len : s.buf + start;
                if (sub.len == 0 || memcmp(at, sub.buf, sub.len) == 0) r = TRUE_VAL;
            }
            buffer_release(ts, &sub);
        }
    }
    buffer_release(ts, &s);
    return r;
}

static Value m_startswith(TState *ts, Value *args, int nargs, ObjTuple *kw) {
    return match_common(ts, args, nargs, kw, "startswith", false);
}
static Value m_endswith(TState *ts, Value *args, int nargs, ObjTuple *kw) {
    return match_common(ts, args, nargs, kw, "endswith", true);
}

static bool add_piece(TState *ts, ObjList *out, Value self, const char *p, size_t n) {
    Value v = make_like(ts, self, p, n);
    return !IS_ERROR(v) && list_append(ts, out, v) == 0;
}

static void reverse_list(ObjList *l) {
    size_t n = list_len(l);
    if (n < 2) return;
    Value *items = atomic_load_explicit(&l->array, memory_order_relaxed)->items;
    for (size_t i = 0; i < n / 2; i++) {
        Value t = items[i];
        items[i] = items[n - 1 - i];
        items[n - 1 - i] = t;
    }
}

static bool split_into(TState *ts, ObjList *out, Value self, const char *s, size_t n, const Buffer *sep,
                       int64_t maxsplit, bool right) {
    if (!sep) {
        if (!right) {
            size_t i = 0;
            while (i < n) {
                while (i < n && is_space((unsigned char)s[i])) i++;
                if (i == n) break;
                if (maxsplit-- == 0) return add_piece(ts, out, self, s + i, n - i);
                size_t j = i;
                while (j < n && !is_space((unsigned char)s[j])) j++;
                if (!add_piece(ts, out, self, s + i, j - i)) return false;
                i = j;
            }
            return true;
        }
        size_t i = n;
        while (i > 0) {
            while (i > 0 && is_space((unsigned char)s[i - 1])) i--;
            if (i == 0) break;
            if (maxsplit-- == 0) {
                if (!add_piece(ts, out, self, s, i)) return false;
                break;
            }
            size_t j = i;
            while (j > 0 && !is_space((unsigned char)s[j - 1])) j--;
            if (!add_piece(ts, out, self, s + j, i - j)) return false;
            i = j;
        }
        reverse_list(out);
        return true;
    }
    if (!right) {
        const char *p = s, *end = s + n, *hit;
        while (maxsplit-- != 0 && (hit = memmem(p, (size_t)(end - p), sep->buf, sep->len)) != NULL) {
            if (!add_piece(ts, out, self, p, (size_t)(hit - p))) return false;
            p = hit + sep->len;
        }
        return add_piece(ts, out, self, p, (size_t)(end - p));
    }
    const char *end = s + n, *hit;
    while (maxsplit-- != 0 && (hit = str_rmemmem(s, (size_t)(end - s), sep->buf, sep->len)) != NULL) {
        if (!add_piece(ts, out, self, hit + sep->len, (size_t)(end - hit - sep->len))) return false;
        end = hit;
    }
    if (!add_piece(ts, out, self, s, (size_t)(end - s))) return false;
    reverse_list(out);
    return true;
}

static Value split_common(TState *ts, Value *args, int nargs, ObjTuple *kwnames, bool right) {
    static const char *const names[] = {"sep", "maxsplit"};
    Value a[2];
    if (!args_bind(ts, right ? "rsplit" : "split", args + 1, nargs - 1, kwnames, names, 2, 0, 2, a))
        return ERROR_VAL;
    int64_t maxsplit = -1;
    if (!IS_EMPTY(a[1]) && !ops_index(ts, a[1], &maxsplit)) return ERROR_VAL;
    Buffer sep;
    bool have_sep = !IS_EMPTY(a[0]) && !IS_NONE(a[0]);
    if (have_sep && !buffer_get(ts, a[0], &sep, BUF_READ)) return ERROR_VAL;
    if (have_sep && sep.len == 0) {
        buffer_release(ts, &sep);
        return err_set_str(ts, EXC(ts)->ValueError, "empty separator");
    }
    Buffer s;
    if (!self_view(ts, args[0], &s)) {
        if (have_sep) buffer_release(ts, &sep);
        return ERROR_VAL;
    }
    ObjList *out = list_new(ts, 0);
    bool ok = out && split_into(ts, out, args[0], s.buf, s.len, have_sep ? &sep : NULL, maxsplit, right);
    buffer_release(ts, &s);
    if (have_sep) buffer_release(ts, &sep);
    return ok ? OBJ_VAL(out) : ERROR_VAL;
}

static Value m_split(TState *ts, Value *args, int nargs, ObjTuple *kw) { return split_common(ts, args, nargs, kw, false); }
static Value m_rsplit(TState *ts, Value *args, int nargs, ObjTuple *kw) { return split_common(ts, args, nargs, kw, true); }

static Value m_splitlines(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"keepends"};
    Value a[1];
    if (!args_bind(ts, "splitlines", args + 1, nargs - 1, kwnames, names, 1, 0, 1, a)) return ERROR_VAL;
    int64_t keep = 0;
    if (!IS_EMPTY(a[0]) && !ops_index(ts, a[0], &keep)) return ERROR_VAL;
    SELF_VIEW(s);
    ObjList *out = list_new(ts, 0);
    bool ok = out != NULL;
    size_t i = 0;
    while (ok && i < s.len) {
        size_t j = i;
        while (j < s.len && s.buf[j] != '\n' && s.buf[j] != '\r') j++;
        size_t eol = j;
        if (j < s.len) j += s.buf[j] == '\r' && j + 1 < s.len && s.buf[j + 1] == '\n' ? 2 : 1;
        ok = add_piece(ts, out, args[0], s.buf + i, (keep ? j : eol) - i);
        i = j;
    }
    buffer_release(ts, &s);
    return ok ? OBJ_VAL(out) : ERROR_VAL;
}

static Value m_join(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("join", 1, 1);
    /* A fresh list no other thread sees; no mini code runs below (buffer
     * views are C), so it needs no rooting. */
    ObjList *items = ops_to_list(ts, args[1]);
    if (!items) return ERROR_VAL;
    SELF_VIEW(sep);
    StrBuf sb;
    sb_init(&sb);
    bool ok = true;
    size_t n = list_len(items);
    for (size_t i = 0; ok && i < n; i++) {
        Value v = list_get(items, i);
        if (!buffer_check(ts, v)) {
            err_format(ts, EXC(ts)->TypeError, "sequence item %zu: expected a bytes-like object, %s found", i,
                       ops_type_name(ts, v));
            ok = false;
            break;
        }
        Buffer b;
        if (!buffer_get(ts, v, &b, BUF_READ)) {
            ok = false;
            break;
        }
        ok = (i == 0 || sb_append(&sb, sep.buf, sep.len)) && sb_append(&sb, b.buf, b.len);
        buffer_release(ts, &b);
        if (!ok) err_no_memory(ts);
    }
    buffer_release(ts, &sep);
    if (!ok) {
        sb_free(&sb);
        return ERROR_VAL;
    }
    return make_like_sb(ts, args[0], &sb, true);
}

static Value partition_common(TState *ts, Value *args, int nargs, ObjTuple *kwnames, bool right) {
    ARGS_CHECK_METHOD(right ? "rpartition" : "partition", 1, 1);
    Buffer sep;
    if (!buffer_get(ts, args[1], &sep, BUF_READ)) return ERROR_VAL;
    if (sep.len == 0) {
        buffer_release(ts, &sep);
        return err_set_str(ts, EXC(ts)->ValueError, "empty separator");
    }
    Buffer s;
    if (!self_view(ts, args[0], &s)) {
        buffer_release(ts, &sep);
        return ERROR_VAL;
    }
    const char *hit = right ? str_rmemmem(s.buf, s.len, sep.buf, sep.len) : memmem(s.buf, s.len, sep.buf, sep.len);
    Value parts[3];
    Value self = args[0];
    if (!hit) {
        parts[0] = right ? make_like(ts, self, "", 0) : make_like(ts, self, s.buf, s.len);
        parts[1] = make_like(ts, self, "", 0);
        parts[2] = right ? make_like(ts, self, s.buf, s.len) : make_like(ts, self, "", 0);
    } else {
        size_t at = (size_t)(hit - s.buf);
        parts[0] = make_like(ts, self, s.buf, at);
        parts[1] = make_like(ts, self, sep.buf, sep.len);
        parts[2] = make_like(ts, self, hit + sep.len, s.len - at - sep.len);
    }
    buffer_release(ts, &s);
    buffer_release(ts, &sep);
    if (IS_ERROR(parts[0]) || IS_ERROR(parts[1]) || IS_ERROR(parts[2])) return ERROR_VAL;
    ObjTuple *t = tuple_from(ts, parts, 3);
    return t ? OBJ_VAL(t) : ERROR_VAL;
}

static Value m_partition(TState *ts, Value *args, int nargs, ObjTuple *kw) {
    return partition_common(ts, args, nargs, kw, false);
}
static Value m_rpartition(TState *ts, Value *args, int nargs, ObjTuple *kw) {
    return partition_common(ts, args, nargs, kw, true);
}

static Value m_replace(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("replace", 2, 3);
    if (!buffer_check(ts, args[1]) || !buffer_check(ts, args[2]))
        return err_format(ts, EXC(ts)->TypeError, "a bytes-like object is required, not '%s'",
                          ops_type_name(ts, buffer_check(ts, args[1]) ? args[2] : args[1]));
    int64_t count = -1;
    if (nargs > 3 && !ops_index(ts, args[3], &count)) return ERROR_VAL;
    Buffer old, new_;
    if (!buffer_get(ts, args[1], &old, BUF_READ)) return ERROR_VAL;
    if (!buffer_get(ts, args[2], &new_, BUF_READ)) {
        buffer_release(ts, &old);
        return ERROR_VAL;
    }
    Buffer s;
    if (!self_view(ts, args[0], &s)) {
        buffer_release(ts, &old);
        buffer_release(ts, &new_);
        return ERROR_VAL;
    }
    StrBuf sb;
    sb_init(&sb);
    bool ok = true;
    if (old.len == 0) {
        size_t i = 0;
        for (; i <= s.len && count != 0 && ok; i++, count--) {
            ok = sb_append(&sb, new_.buf, new_.len) && (i == s.len || sb_append_char(&sb, s.buf[i]));
        }
        if (ok && i < s.len) ok = sb_append(&sb, s.buf + i, s.len - i);
    } else {
        const char *p = s.buf, *end = s.buf + s.len, *hit;
        while (ok && count != 0 && (hit = memmem(p, (size_t)(end - p), old.buf, old.len)) != NULL) {
            ok = sb_append(&sb, p, (size_t)(hit - p)) && sb_append(&sb, new_.buf, new_.len);
            p = hit + old.len;
            count--;
        }
        if (ok) ok = sb_append(&sb, p, (size_t)(end - p));
    }
    buffer_release(ts, &s);
    buffer_release(ts, &old);
    buffer_release(ts, &new_);
    return make_like_sb(ts, args[0], &sb, ok);
}

/* which: 1 left, 2 right, 3 both. */
static Value strip_common(TState *ts, Value *args, int nargs, ObjTuple *kwnames, int which, const char *name) {
    ARGS_CHECK_METHOD(name, 0, 1);
    bool set[256] = {false};
    if (nargs > 1 && !IS_NONE(args[1])) {
        Buffer chars;
        if (!buffer_get(ts, args[1], &chars, BUF_READ)) return ERROR_VAL;
        for (size_t i = 0; i < chars.len; i++) set[(unsigned char)chars.buf[i]] = true;
        buffer_release(ts, &chars);
    } else {
        for (int c = 0; c < 256; c++) set[c] = is_space((unsigned char)c);
    }
    SELF_VIEW(s);
    size_t b = 0, e = s.len;
    if (which & 1)
        while (b < e && set[(unsigned char)s.buf[b]]) b++;
    if (which & 2)
        while (e > b && set[(unsigned char)s.buf[e - 1]]) e--;
    Value r = make_like(ts, args[0], s.buf + b, e - b);
    buffer_release(ts, &s);
    return r;
}

static Value m_strip(TState *ts, Value *args, int nargs, ObjTuple *kw) { return strip_common(ts, args, nargs, kw, 3, "strip"); }
static Value m_lstrip(TState *ts, Value *args, int nargs, ObjTuple *kw) { return strip_common(ts, args, nargs, kw, 1, "lstrip"); }
static Value m_rstrip(TState *ts, Value *args, int nargs, ObjTuple *kw) { return strip_common(ts, args, nargs, kw, 2, "rstrip"); }

/* how: 0 ljust, 1 rjust, 2 center. */
static Value justify(TState *ts, Value *args, int nargs, ObjTuple *kwnames, int how, const char *name) {
    ARGS_CHECK_METHOD(name, 1, 2);
    int64_t width;
    if (!ops_index(ts, args[1], &width)) return ERROR_VAL;
    char fill = ' ';
    if (nargs > 2) {
        bool ok = (IS_BYTES(args[2]) && AS_BYTES(args[2])->len == 1) ||
                  (IS_BYTEARRAY(args[2]) && ba_len(AS_BYTEARRAY(args[2])) == 1);
        if (!ok)
            return err_format(ts, EXC(ts)->TypeError, "%s() argument 2 must be a byte string of length 1, not %s",
                              name, ops_type_name(ts, args[2]));
        Value c = bytes_getitem(ts, args[2], INT_VAL(0));
        if (IS_ERROR(c)) return c;
        fill = (char)AS_INT(c);
    }
    SELF_VIEW(s);
    size_t left = 0, right = 0;
    if (width > (int64_t)s.len) {
        size_t pad = (size_t)width - s.len;
        if (how == 0) right = pad;
        else if (how == 1) left = pad;
        else {
            left = pad / 2 + (pad & (size_t)width & 1);
            right = pad - left;
        }
    }
    StrBuf sb;
    sb_init(&sb);
    bool ok = sb_append_repeat(&sb, fill, left) && sb_append(&sb, s.buf, s.len) && sb_append_repeat(&sb, fill, right);
    buffer_release(ts, &s);
    return make_like_sb(ts, args[0], &sb, ok);
}

static Value m_ljust(TState *ts, Value *args, int nargs, ObjTuple *kw) { return justify(ts, args, nargs, kw, 0, "ljust"); }
static Value m_rjust(TState *ts, Value *args, int nargs, ObjTuple *kw) { return justify(ts, args, nargs, kw, 1, "rjust"); }
static Value m_center(TState *ts, Value *args, int nargs, ObjTuple *kw) { return justify(ts, args, nargs, kw, 2, "center"); }

static Value m_zfill(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("zfill", 1, 1);
    int64_t width;
    if (!ops_index(ts, args[1], &width)) return ERROR_VAL;
    SELF_VIEW(s);
    StrBuf sb;
    sb_init(&sb);
    size_t pad = width > (int64_t)s.len ? (size_t)width - s.len : 0;
    bool sign = s.len && (s.buf[0] == '+' || s.buf[0] == '-');
    bool ok = (!sign || sb_append_char(&sb, s.buf[0])) && sb_append_repeat(&sb, '0', pad) &&
              sb_append(&sb, s.buf + sign, s.len - sign);
    buffer_release(ts, &s);
    return make_like_sb(ts, args[0], &sb, ok);
}

static Value m_expandtabs(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"tabsize"};
    Value a[1];
    if (!args_bind(ts, "expandtabs", args + 1, nargs - 1, kwnames, names, 1, 0, 1, a)) return ERROR_VAL;
    int64_t tab = 8;
    if (!IS_EMPTY(a[0]) && !ops_index(ts, a[0], &tab)) return ERROR_VAL;
    SELF_VIEW(s);
    StrBuf sb;
    sb_init(&sb);
    bool ok = true;
    size_t col = 0;
    for (size_t i = 0; ok && i < s.len; i++) {
        char c = s.buf[i];
        if (c == '\t') {
            if (tab > 0) {
                size_t n = (size_t)tab - col % (size_t)tab;
                ok = sb_append_repeat(&sb, ' ', n);
                col += n;
            }
        } else {
            ok = sb_append_char(&sb, c);
            col = c == '\n' || c == '\r' ? 0 : col + 1;
        }
    }
    buffer_release(ts, &s);
    return make_like_sb(ts, args[0], &sb, ok);
}

/* mode: 0 upper, 1 lower, 2 swapcase, 3 capitalize, 4 title. */
static Value recase(TState *ts, Value *args, int nargs, ObjTuple *kwnames, int mode, const char *name) {
    ARGS_CHECK_METHOD(name, 0, 0);
    SELF_VIEW(s);
    char *out = malloc(s.len ? s.len : 1);
    if (!out) {
        buffer_release(ts, &s);
        return err_no_memory(ts);
    }
    bool prev_cased = false;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.buf[i];
        switch (mode) {
        case 0: c = to_upper(c); break;
        case 1: c = to_lower(c); break;
        case 2: c = is_upper(c) ? to_lower(c) : to_upper(c); break;
        case 3: c = i == 0 ? to_upper(c) : to_lower(c); break;
        default:
            c = prev_cased ? to_lower(c) : to_upper(c);
            prev_cased = is_alpha(c);
            break;
        }
        out[i] = (char)c;
    }
    Value r = make_like(ts, args[0], out, s.len);
    free(out);
    buffer_release(ts, &s);
    return r;
}

static Value m_upper(TState *ts, Value *args, int nargs, ObjTuple *kw) { return recase(ts, args, nargs, kw, 0, "upper"); }
static Value m_lower(TState *ts, Value *args, int nargs, ObjTuple *kw) { return recase(ts, args, nargs, kw, 1, "lower"); }
static Value m_swapcase(TState *ts, Value *args, int nargs, ObjTuple *kw) { return recase(ts, args, nargs, kw, 2, "swapcase"); }
static Value m_capitalize(TState *ts, Value *args, int nargs, ObjTuple *kw) { return recase(ts, args, nargs, kw, 3, "capitalize"); }
static Value m_title(TState *ts, Value *args, int nargs, ObjTuple *kw) { return recase(ts, args, nargs, kw, 4, "title"); }

/* kind: 0 digit, 1 alpha, 2 alnum, 3 space, 4 ascii, 5 lower, 6 upper, 7 title. */
static Value predicate(TState *ts, Value *args, int nargs, ObjTuple *kwnames, int kind, const char *name) {
    ARGS_CHECK_METHOD(name, 0, 0);
    SELF_VIEW(s);
    bool r = kind == 4 || s.len > 0;
    bool cased = false, prev_cased = false;
    for (size_t i = 0; r && i < s.len; i++) {
        unsigned char c = (unsigned char)s.buf[i];
        switch (kind) {
        case 0: r = is_digit(c); break;
        case 1: r = is_alpha(c); break;
        case 2: r = is_alpha(c) || is_digit(c); break;
        case 3: r = is_space(c); break;
        case 4: r = c < 0x80; break;
        case 5: r = !is_upper(c); cased |= is_lower(c); break;
        case 6: r = !is_lower(c); cased |= is_upper(c); break;
        default:
            if (is_upper(c)) {
                r = !prev_cased;
                prev_cased = cased = true;
            } else if (is_lower(c)) {
                r = prev_cased;
                prev_cased = true;
            } else {
                prev_cased = false;
            }
            break;
        }
    }
    if (kind >= 5) r = r && cased;
    buffer_release(ts, &s);
    return BOOL_VAL(r);
}

#define PREDICATE(name, kind) \
    static Value m_##name(TState *ts, Value *args, int nargs, ObjTuple *kw) { return predicate(ts, args, nargs, kw, kind, #name); }
PREDICATE(isdigit, 0)
PREDICATE(isalpha, 1)
PREDICATE(isalnum, 2)
PREDICATE(isspace, 3)
PREDICATE(isascii, 4)
PREDICATE(islower, 5)
PREDICATE(isupper, 6)
PREDICATE(istitle, 7)

static Value m_translate(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"$table", "delete"};
    Value a[2];
    if (!args_bind(ts, "translate", args + 1, nargs - 1, kwnames, names, 2, 1, 2, a)) return ERROR_VAL;
    unsigned char table[256];
    for (int c = 0; c < 256; c++) table[c] = (unsigned char)c;
    if (!IS_NONE(a[0])) {
        Buffer t;
        if (!buffer_get(ts, a[0], &t, BUF_READ)) return ERROR_VAL;
        if (t.len != 256) {
            buffer_release(ts, &t);
            return err_set_str(ts, EXC(ts)->ValueError, "translation table must be 256 characters long");
        }
        memcpy(table, t.buf, 256);
        buffer_release(ts, &t);
    }
    bool del[256] = {false};
    if (!IS_EMPTY(a[1])) {
        Buffer d;
        if (!buffer_get(ts, a[1], &d, BUF_READ)) return ERROR_VAL;
        for (size_t i = 0; i < d.len; i++) del[(unsigned char)d.buf[i]] = true;
        buffer_release(ts, &d);
    }
    SELF_VIEW(s);
    StrBuf sb;
    sb_init(&sb);
    bool ok = sb_reserve(&sb, s.len);
    for (size_t i = 0; ok && i < s.len; i++) {
        unsigned char c = (unsigned char)s.buf[i];
        if (!del[c]) ok = sb_append_char(&sb, (char)table[c]);
    }
    buffer_release(ts, &s);
    return make_like_sb(ts, args[0], &sb, ok);
}

/* bytes.maketrans(frm, to): a static method (args[0] is the class). */
static Value m_maketrans(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("maketrans", 2, 2);
    Buffer f, t;
    if (!buffer_get(ts, args[1], &f, BUF_READ)) return ERROR_VAL;
    if (!buffer_get(ts, args[2], &t, BUF_READ)) {
        buffer_release(ts, &f);
        return ERROR_VAL;
    }
    Value r;
    if (f.len != t.len) {
        r = err_set_str(ts, EXC(ts)->ValueError, "maketrans arguments must have same length");
    } else {
        ObjBytes *b = bytes_alloc(ts, 256);
        if (b) {
            for (int c = 0; c < 256; c++) b->data[c] = (char)c;
            for (size_t i = 0; i < f.len; i++) b->data[(unsigned char)f.buf[i]] = t.buf[i];
        }
        r = b ? OBJ_VAL(b) : ERROR_VAL;
    }
    buffer_release(ts, &f);
    buffer_release(ts, &t);
    return r;
}

static Value affix(TState *ts, Value *args, int nargs, ObjTuple *kwnames, bool suffix) {
    ARGS_CHECK_METHOD(suffix ? "removesuffix" : "removeprefix", 1, 1);
    Buffer a;
    if (!buffer_get(ts, args[1], &a, BUF_READ)) return ERROR_VAL;
    Buffer s;
    if (!self_view(ts, args[0], &s)) {
        buffer_release(ts, &a);
        return ERROR_VAL;
    }
    size_t b = 0, e = s.len;
    if (a.len <= s.len && memcmp(suffix ? s.buf + s.len - a.len : s.buf, a.buf, a.len) == 0) {
        if (suffix) e -= a.len;
        else b = a.len;
    }
    Value r = make_like(ts, args[0], s.buf + b, e - b);
    buffer_release(ts, &s);
    buffer_release(ts, &a);
    return r;
}

static Value m_removeprefix(TState *ts, Value *args, int nargs, ObjTuple *kw) { return affix(ts, args, nargs, kw, false); }
static Value m_removesuffix(TState *ts, Value *args, int nargs, ObjTuple *kw) { return affix(ts, args, nargs, kw, true); }

/* bytes.hex([sep[, bytes_per_sep]]), shared with memoryview.hex. */
Value bytes_hex(TState *ts, const char *p, size_t n, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"sep", "bytes_per_sep"};
    Value a[2];
    if (!args_bind(ts, "hex", args, nargs, kwnames, names, 2, 0, 2, a)) return ERROR_VAL;
    char sep = 0;
    int64_t per = 1;
    if (!IS_EMPTY(a[0])) {
        const char *sp = NULL;
        size_t sl = 0;
        if (IS_STR(a[0])) sp = AS_STR(a[0])->data, sl = AS_STR(a[0])->len;
        else if (IS_BYTES(a[0])) sp = AS_BYTES(a[0])->data, sl = AS_BYTES(a[0])->len;
        else return err_set_str(ts, EXC(ts)->TypeError, "sep must be str or bytes.");
        if (sl != 1) return err_set_str(ts, EXC(ts)->ValueError, "sep must be length 1.");
        if ((unsigned char)sp[0] >= 0x80) return err_set_str(ts, EXC(ts)->ValueError, "sep must be ASCII.");
        sep = sp[0];
    }
    if (!IS_EMPTY(a[1]) && !ops_index(ts, a[1], &per)) return ERROR_VAL;
    static const char digits[] = "0123456789abcdef";
    StrBuf sb;
    sb_init(&sb);
    bool ok = sb_reserve(&sb, n * 3);
    uint64_t group = per < 0 ? (uint64_t)-per : (uint64_t)per;
    for (size_t i = 0; ok && i < n; i++) {
        if (sep && i > 0 && group) {
            /* Positive counts group from the right, negative from the left. */
            bool cut = per > 0 ? (n - i) % group == 0 : i % group == 0;
            if (cut) ok = sb_append_char(&sb, sep);
        }
        unsigned char c = (unsigned char)p[i];
        ok = ok && sb_append_char(&sb, digits[c >> 4]) && sb_append_char(&sb, digits[c & 15]);
    }
    if (!ok) {
        sb_free(&sb);
        return err_no_memory(ts);
    }
    ObjStr *s = str_from_sb(ts, &sb);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static Value m_hex(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    SELF_VIEW(s);
    Value r = bytes_hex(ts, s.buf, s.len, args + 1, nargs - 1, kwnames);
    buffer_release(ts, &s);
    return r;
}

static int hexval(unsigned char c) {
    if (is_digit(c)) return c - '0';
    c = to_lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* bytes.fromhex(string) and bytearray.fromhex: args[0] is the class. */
static Value m_fromhex(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("fromhex", 1, 1);
    ObjStr *s;
    if (!args_str(ts, args[1], "fromhex", &s)) return ERROR_VAL;
    StrBuf sb;
    sb_init(&sb);
    bool ok = true;
    size_t i = 0;
    while (ok && i < s->len) {
        unsigned char c = (unsigned char)s->data[i];
        if (is_space(c)) {
            i++;
            continue;
        }
        int hi = hexval(c), lo = i + 1 < s->len ? hexval((unsigned char)s->data[i + 1]) : -1;
        if (hi < 0 || lo < 0) {
            sb_free(&sb);
            return err_format(ts, EXC(ts)->ValueError, "non-hexadecimal number found in fromhex() arg at position %zu",
                              hi < 0 ? i : i + 1);
        }
        ok = sb_append_char(&sb, (char)(hi * 16 + lo));
        i += 2;
    }
    if (!ok) {
        sb_free(&sb);
        return err_no_memory(ts);
    }
    ObjType *cls = IS_KIND(args[0], OBJ_TYPE) ? (ObjType *)AS_OBJ(args[0]) : ts->interp->types.bytes;
    bool ba = type_is_subtype(cls, ts->interp->types.bytearray);
    Obj *o = ba ? (Obj *)bytearray_new(ts, sb.data, sb.len) : (Obj *)bytes_new(ts, sb.data ? sb.data : "", sb.len);
    sb_free(&sb);
    if (!o) return ERROR_VAL;
    Value r = OBJ_VAL(o);
    /* A subclass gets cls(result), as CPython. */
    if (cls == ts->interp->types.bytes || cls == ts->interp->types.bytearray) return r;
    return ops_call(ts, OBJ_VAL(cls), &r, 1, NULL);
}

static Value m_decode(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"encoding", "errors"};
    Value a[2];
    if (!args_bind(ts, "decode", args + 1, nargs - 1, kwnames, names, 2, 0, 2, a)) return ERROR_VAL;
    SELF_VIEW(s);
    Value r = codec_decode(ts, s.buf, s.len, a[0], a[1]);
    buffer_release(ts, &s);
    return r;
}

/* ---- printf-style formatting (bytes % args) ------------------------------ */

static bool pad_append(StrBuf *out, const char *p, size_t n, int64_t width, bool left) {
    size_t pad = width > (int64_t)n ? (size_t)width - n : 0;
    return (left || sb_append_repeat(out, ' ', pad)) && sb_append(out, p, n) &&
           (!left || sb_append_repeat(out, ' ', pad));
}

/* The bytes of %b / %s: a bytes-like or an object with __bytes__. */
static Value pct_bytes_arg(TState *ts, Value v) {
    if (buffer_check(ts, v)) return bytes_from_buffer(ts, v);
    Value m = IS_OBJ(v) ? type_lookup(OBJ_TYPE(v), str_intern_cstr(ts, "__bytes__")) : EMPTY_VAL;
    if (!IS_EMPTY(m)) {
        Value r = vm_call_method(ts, m, v, NULL, 0, NULL);
        if (IS_ERROR(r) || IS_BYTES(r)) return r;
        return err_format(ts, EXC(ts)->TypeError, "__bytes__ returned non-bytes (type %s)", ops_type_name(ts, r));
    }
    return err_format(ts, EXC(ts)->TypeError,
                      "%%b requires a bytes-like object, or an object that implements __bytes__, not '%s'",
                      ops_type_name(ts, v));
}

static Value bytes_mod(TState *ts, Value self, Value args) {
    /* Arguments may run mini code (__bytes__, __index__, __repr__): the
     * format is read from a rooted bytes object, never from a bytearray's
     * store that such code could resize and the collector free. */
    Value fmt = IS_BYTEARRAY(self) ? bytes_from_buffer(ts, self) : self;
    if (IS_ERROR(fmt)) return fmt;
    vm_push(ts, fmt);
    Value r = bytes_format(ts, self, fmt, args);
    vm_pop(ts);
    return r;
}

static Value bytes_format(TState *ts, Value self, Value fmt, Value args) {
    Buffer f;
    if (!self_view(ts, fmt, &f)) return ERROR_VAL;
    bool is_tuple = IS_KIND(args, OBJ_TUPLE);
    bool mapping = !is_tuple && !buffer_check(ts, args) && !IS_STR(args) && IS_OBJ(args) && OBJ_TYPE(args)->getitem;
    size_t nitems = is_tuple ? AS_TUPLE(args)->len : 1, next = 0;
    StrBuf out;
    sb_init(&out);
    bool ok = sb_reserve(&out, f.len + 8 * nitems) || (err_no_memory(ts), false);
    const char *p = f.buf, *end = f.buf + f.len;
    while (ok && p < end) {
        const char *pct = memchr(p, '%', (size_t)(end - p));
        if (!pct) {
            ok = sb_append(&out, p, (size_t)(end - p)) || (err_no_memory(ts), false);
            break;
        }
        if (!sb_append(&out, p, (size_t)(pct - p))) {
            err_no_memory(ts);
            ok = false;
            break;
        }
        const char *q = pct + 1;
        Value arg = EMPTY_VAL;
        if (q < end && *q == '(') {
            const char *k = ++q;
            int depth = 1;
            while (q < end && depth) {
                if (*q == '(') depth++;
                else if (*q == ')') depth--;
                q++;
            }
            if (depth) {
                err_set_str(ts, EXC(ts)->ValueError, "incomplete format key");
                ok = false;
                break;
            }
            if (!mapping) {
                err_set_str(ts, EXC(ts)->TypeError, "format requires a mapping");
                ok = false;
                break;
            }
            ObjBytes *key = bytes_new(ts, k, (size_t)(q - 1 - k));
            arg = key ? ops_getitem(ts, args, OBJ_VAL(key)) : ERROR_VAL;
            if (IS_ERROR(arg)) {
                ok = false;
                break;
            }
        }
        char flags[8];
        size_t nflags = 0;
        while (q < end && strchr("-+ #0", *q) && *q) {
            if (nflags < sizeof flags - 1) flags[nflags++] = *q;
            q++;
        }
        flags[nflags] = '\0';
        int64_t width = -1, prec = -1;
        for (int part = 0; part < 2 && ok; part++) {
            int64_t *dst = part ? &prec : &width;
            if (part) {
                if (q < end && *q == '.') q++, prec = 0;
                else break;
            }
            if (q < end && *q == '*') {
                q++;
                Value w = next < nitems ? (is_tuple ? AS_TUPLE(args)->items[next] : args) : EMPTY_VAL;
                next++;
                if (IS_EMPTY(w)) {
                    err_set_str(ts, EXC(ts)->TypeError, "not enough arguments for format string");
                    ok = false;
                } else if (!IS_INT(w)) {
                    err_set_str(ts, EXC(ts)->TypeError, "* wants int");
                    ok = false;
                } else {
                    *dst = AS_INT(w);
                    if (!part && *dst < 0) {
                        *dst = -*dst;
                        if (nflags < sizeof flags - 1) flags[nflags++] = '-', flags[nflags] = '\0';
                    }
                }
            } else {
                while (q < end && is_digit((unsigned char)*q)) {
                    *dst = (*dst < 0 ? 0 : *dst) * 10 + (*q++ - '0');
                    if (*dst > INT32_MAX) *dst = (int64_t)INT32_MAX + 1; /* refused below */
                }
            }
            if (ok && *dst > INT32_MAX) {
                /* As str's % (CPython would try to build the string). */
                err_set_str(ts, EXC(ts)->ValueError, part ? "precision too big" : "width too big");
                ok = false;
            }
        }
        if (!ok) break;
        while (q < end && (*q == 'h' || *q == 'l' || *q == 'L')) q++;
        if (q >= end) {
            err_set_str(ts, EXC(ts)->ValueError, "incomplete format");
            ok = false;
            break;
        }
        char conv = *q++;
        p = q;
        if (conv == '%') {
            ok = sb_append_char(&out, '%') || (err_no_memory(ts), false);
            continue;
        }
        if (IS_EMPTY(arg)) {
            if (mapping) {
                arg = args;
            } else if (next >= nitems) {
                err_set_str(ts, EXC(ts)->TypeError, "not enough arguments for format string");
                ok = false;
                break;
            } else {
                arg = is_tuple ? AS_TUPLE(args)->items[next] : args;
                next++;
            }
        }
        bool left = strchr(flags, '-') != NULL;
        switch (conv) {
        case 's':
        case 'b':
        case 'r':
        case 'a': {
            Value b;
            if (conv == 'r' || conv == 'a') {
                Value s = str_ascii(ts, arg);
                b = IS_ERROR(s) ? s : OBJ_VAL(bytes_new(ts, AS_STR(s)->data, AS_STR(s)->len));
            } else {
                b = pct_bytes_arg(ts, arg);
            }
            if (IS_ERROR(b) || !IS_OBJ(b)) {
                ok = false;
                break;
            }
            size_t n = AS_BYTES(b)->len;
            if (prec >= 0 && (size_t)prec < n) n = (size_t)prec;
            ok = pad_append(&out, AS_BYTES(b)->data, n, width, left) || (err_no_memory(ts), false);
            break;
        }
        case 'c': {
            char c;
            if (IS_BYTES(arg) && AS_BYTES(arg)->len == 1) {
                c = AS_BYTES(arg)->data[0];
            } else if (IS_BYTEARRAY(arg) && ba_len(AS_BYTEARRAY(arg)) == 1) {
                c = (char)AS_INT(bytes_getitem(ts, arg, INT_VAL(0)));
            } else if (IS_INTLIKE(arg)) {
                int64_t i;
                if (!int_to_i64(arg, &i) || i < 0 || i > 255) {
                    err_set_str(ts, EXC(ts)->OverflowError, "%c arg not in range(256)");
                    ok = false;
                    break;
                }
                c = (char)i;
            } else {
                err_set_str(ts, EXC(ts)->TypeError, "%c requires an integer in range(256) or a single byte");
                ok = false;
                break;
            }
            ok = pad_append(&out, &c, 1, width, left) || (err_no_memory(ts), false);
            break;
        }
        case 'd': case 'i': case 'u': case 'o': case 'x': case 'X':
        case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': {
            if ((conv == 'd' || conv == 'i' || conv == 'u') && IS_INT(arg) && prec < 0 && !strchr(flags, '#')) {
                /* %d of a small int: C's printf flags - + space 0 mean what
                 * Python's do, so no str round trip. */
                char cspec[16], text[64];
                snprintf(cspec, sizeof cspec, "%%%s*lld", flags);
                int n = width < 40 ? snprintf(text, sizeof text, cspec, (int)(width < 0 ? 0 : width),
                                              (long long)AS_INT(arg))
                                   : -1;
                ok = n >= 0 ? sb_append(&out, text, (size_t)n)
                            : sb_appendf(&out, cspec, (int)width, (long long)AS_INT(arg));
                if (!ok) err_no_memory(ts);
                break;
            }
            /* Numbers format as str's % does, then become ASCII bytes. */
            char spec[64];
            int sl = snprintf(spec, sizeof spec, "%%%s", flags);
            if (width >= 0) sl += snprintf(spec + sl, sizeof spec - (size_t)sl, "%lld", (long long)width);
            if (prec >= 0) sl += snprintf(spec + sl, sizeof spec - (size_t)sl, ".%lld", (long long)prec);
            snprintf(spec + sl, sizeof spec - (size_t)sl, "%c", conv);
            ObjStr *fs = str_from_cstr(ts, spec);
            ObjTuple *one = fs ? tuple_from(ts, &arg, 1) : NULL;
            Value s = ERROR_VAL;
            if (one) {
                /* str_mod may run __index__ or __float__: root its inputs. */
                vm_push(ts, OBJ_VAL(fs));
                vm_push(ts, OBJ_VAL(one));
                s = str_mod(ts, fs, OBJ_VAL(one));
                vm_pop(ts);
                vm_pop(ts);
            }
            if (IS_ERROR(s)) {
                ok = false;
                break;
            }
            ok = sb_append(&out, AS_STR(s)->data, AS_STR(s)->len) || (err_no_memory(ts), false);
            break;
        }
        default:
            err_format(ts, EXC(ts)->ValueError, "unsupported format character '%c' (0x%x) at index %zu",
                       (unsigned char)conv >= 0x20 && (unsigned char)conv < 0x7f ? conv : '?',
                       (unsigned char)conv, (size_t)(q - 1 - f.buf));
            ok = false;
            break;
        }
    }
    if (ok && !mapping && next < nitems) {
        err_set_str(ts, EXC(ts)->TypeError, "not all arguments converted during bytes formatting");
        ok = false;
    }
    buffer_release(ts, &f);
    if (!ok) {
        sb_free(&out);
        return ERROR_VAL;
    }
    return make_like_sb(ts, self, &out, true);
}

/* ---- bytearray's mutating methods ------------------------------------------- */

#define SELF_BA AS_BYTEARRAY(args[0])

static Value ba_append(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("append", 1, 1);
    unsigned char c;
    if (!byte_value(ts, args[1], &c)) return ERROR_VAL;
    char ch = (char)c;
    return bytearray_append_bytes(ts, SELF_BA, &ch, 1) == 0 ? NONE_VAL : ERROR_VAL;
}

static Value ba_extend(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("extend", 1, 1);
    StrBuf sb;
    sb_init(&sb);
    if (IS_INTLIKE(args[1]) || IS_FLOAT(args[1]))
        return err_format(ts, EXC(ts)->TypeError, "can't extend bytearray with %s", ops_type_name(ts, args[1]));
    Value src = args[1];
    if (!IS_STR(src) && !buffer_check(ts, src)) {
        src = ops_iter(ts, src);
        if (IS_ERROR(src)) {
            if (!err_matches(ts, EXC(ts)->TypeError)) return src;
            err_clear(ts);
            return err_format(ts, EXC(ts)->TypeError, "can't extend bytearray with %s", ops_type_name(ts, args[1]));
        }
        vm_push(ts, src);
    }
    bool ok = IS_STR(src) ? collect_ints(ts, src, &sb, true) : value_bytes(ts, src, &sb, "");
    if (src != args[1]) vm_pop(ts);
    if (ok) ok = bytearray_append_bytes(ts, SELF_BA, sb.data ? sb.data : "", sb.len) == 0;
    sb_free(&sb);
    return ok ? NONE_VAL : ERROR_VAL;
}

static Value ba_insert(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("insert", 2, 2);
    int64_t i;
    unsigned char c;
    if (!ops_index(ts, args[1], &i) || !byte_value(ts, args[2], &c)) return ERROR_VAL;
    ObjByteArray *a = SELF_BA;
    obj_lock(ts, &a->obj);
    int64_t n = (int64_t)atomic_load_explicit(&a->len, memory_order_relaxed);
    if (i < 0 && (i += n) < 0) i = 0;
    if (i > n) i = n;
    char ch = (char)c;
    return replace_range_locked(ts, a, (size_t)i, 0, &ch, 1) == 0 ? NONE_VAL : ERROR_VAL;
}

static Value ba_pop(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("pop", 0, 1);
    int64_t i = -1;
    if (nargs > 1 && !ops_index(ts, args[1], &i)) return ERROR_VAL;
    ObjByteArray *a = SELF_BA;
    obj_lock(ts, &a->obj);
    int64_t n = (int64_t)atomic_load_explicit(&a->len, memory_order_relaxed);
    if (n == 0) {
        obj_unlock(ts, &a->obj);
        return err_set_str(ts, EXC(ts)->IndexError, "pop from empty bytearray");
    }
    if (i < 0) i += n;
    if (i < 0 || i >= n) {
        obj_unlock(ts, &a->obj);
        return err_set_str(ts, EXC(ts)->IndexError, "pop index out of range");
    }
    unsigned char c = byte_get(&atomic_load_explicit(&a->store, memory_order_relaxed)->data[i]);
    return replace_range_locked(ts, a, (size_t)i, 1, "", 0) == 0 ? INT_VAL(c) : ERROR_VAL;
}

static Value ba_remove(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("remove", 1, 1);
    unsigned char c;
    if (!byte_value(ts, args[1], &c)) return ERROR_VAL;
    ObjByteArray *a = SELF_BA;
    obj_lock(ts, &a->obj);
    size_t n = atomic_load_explicit(&a->len, memory_order_relaxed);
    ByteStore *s = atomic_load_explicit(&a->store, memory_order_relaxed);
    const char *hit = s ? memchr(s->data, c, n) : NULL;
    if (!hit) {
        obj_unlock(ts, &a->obj);
        return err_set_str(ts, EXC(ts)->ValueError, "value not found in bytearray");
    }
    return replace_range_locked(ts, a, (size_t)(hit - s->data), 1, "", 0) == 0 ? NONE_VAL : ERROR_VAL;
}

static Value ba_clear(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("clear", 0, 0);
    ObjByteArray *a = SELF_BA;
    obj_lock(ts, &a->obj);
    size_t n = atomic_load_explicit(&a->len, memory_order_relaxed);
    return replace_range_locked(ts, a, 0, n, "", 0) == 0 ? NONE_VAL : ERROR_VAL;
}

static Value ba_reverse(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("reverse", 0, 0);
    ObjByteArray *a = SELF_BA;
    obj_lock(ts, &a->obj);
    size_t n = atomic_load_explicit(&a->len, memory_order_relaxed);
    ByteStore *s = atomic_load_explicit(&a->store, memory_order_relaxed);
    for (size_t i = 0; s && i < n / 2; i++) {
        unsigned char x = byte_get(&s->data[i]), y = byte_get(&s->data[n - 1 - i]);
        byte_put(&s->data[i], y);
        byte_put(&s->data[n - 1 - i], x);
    }
    obj_unlock(ts, &a->obj);
    return NONE_VAL;
}

static Value ba_copy(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("copy", 0, 0);
    SELF_VIEW(s);
    ObjByteArray *r = bytearray_new(ts, s.buf, s.len);
    buffer_release(ts, &s);
    return r ? OBJ_VAL(r) : ERROR_VAL;
}

/* ---- dunder methods and the type specs ------------------------------------------ */

static Value m_len(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__len__", 0, 0);
    return INT_VAL(bytes_len(ts, args[0]));
}
static Value m_getitem(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__getitem__", 1, 1);
    return bytes_getitem(ts, args[0], args[1]);
}
static Value m_contains(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__contains__", 1, 1);
    int r = bytes_contains(ts, args[0], args[1]);
    return r < 0 ? ERROR_VAL : BOOL_VAL(r);
}
static Value m_iter(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__iter__", 0, 0);
    return bytes_iter(ts, args[0]);
}
static Value m_add(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__add__", 1, 1);
    return concat(ts, args[0], args[1]);
}
static Value m_mul(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__mul__", 1, 1);
    return bytes_binop(ts, BIN_MUL, args[0], args[1]);
}
static Value m_mod(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__mod__", 1, 1);
    return bytes_mod(ts, args[0], args[1]);
}
static Value m_repr(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__repr__", 0, 0);
    return bytes_repr(ts, args[0]);
}
static Value m_hash(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__hash__", 0, 0);
    int64_t h;
    bytes_hash(ts, args[0], &h);
    return int_from_i64(ts, h);
}
static Value ba_setitem(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__setitem__", 2, 2);
    return bytearray_setitem(ts, args[0], args[1], args[2]) == 0 ? NONE_VAL : ERROR_VAL;
}
static Value ba_delitem(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__delitem__", 1, 1);
    return bytearray_setitem(ts, args[0], args[1], EMPTY_VAL) == 0 ? NONE_VAL : ERROR_VAL;
}
static Value ba_iadd(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__iadd__", 1, 1);
    return bytearray_inplace(ts, BIN_ADD, args[0], args[1]);
}

#define COMMON_METHODS                                                                                   \
    {"find", m_find}, {"rfind", m_rfind}, {"index", m_index}, {"rindex", m_rindex}, {"count", m_count},   \
    {"startswith", m_startswith}, {"endswith", m_endswith}, {"split", m_split}, {"rsplit", m_rsplit},     \
    {"splitlines", m_splitlines}, {"join", m_join}, {"partition", m_partition},                           \
    {"rpartition", m_rpartition}, {"replace", m_replace}, {"strip", m_strip}, {"lstrip", m_lstrip},       \
    {"rstrip", m_rstrip}, {"ljust", m_ljust}, {"rjust", m_rjust}, {"center", m_center},                   \
    {"zfill", m_zfill}, {"expandtabs", m_expandtabs}, {"upper", m_upper}, {"lower", m_lower},             \
    {"swapcase", m_swapcase}, {"capitalize", m_capitalize}, {"title", m_title},                           \
    {"isdigit", m_isdigit}, {"isalpha", m_isalpha}, {"isalnum", m_isalnum}, {"isspace", m_isspace},       \
    {"isascii", m_isascii}, {"islower", m_islower}, {"isupper", m_isupper}, {"istitle", m_istitle},       \
    {"translate", m_translate}, {"removeprefix", m_removeprefix}, {"removesuffix", m_removesuffix},       \
    {"hex", m_hex}, {"decode", m_decode}, {"__len__", m_len}, {"__getitem__", m_getitem},                 \
    {"__contains__", m_contains}, {"__iter__", m_iter}, {"__add__", m_add}, {"__mul__", m_mul},           \
    {"__rmul__", m_mul}, {"__mod__", m_mod}, {"__repr__", m_repr}

static const NativeDef bytes_methods[] = {
    COMMON_METHODS,
    {"__hash__", m_hash},
    {NULL, NULL},
};

static const NativeDef bytearray_methods[] = {
    COMMON_METHODS,
    {"append", ba_append},
    {"extend", ba_extend},
    {"insert", ba_insert},
    {"pop", ba_pop},
    {"remove", ba_remove},
    {"clear", ba_clear},
    {"reverse", ba_reverse},
    {"copy", ba_copy},
    {"__setitem__", ba_setitem},
    {"__delitem__", ba_delitem},
    {"__iadd__", ba_iadd},
    {NULL, NULL},
};

static const NativeDef bytes_classmethods[] = {
    {"fromhex", m_fromhex},
    {"maketrans", m_maketrans},
    {NULL, NULL},
};

static size_t bytes_obj_size(Obj *self) { return sizeof(ObjBytes) + ((ObjBytes *)self)->len + 1; }

static void bytes_trace(GcMarker *m, Obj *self) {
    (void)m;
    (void)self;
}

static size_t bytearray_obj_size(Obj *self) {
    (void)self;
    return sizeof(ObjByteArray);
}

static void bytearray_finalize(Obj *self) {
    ByteStore *s = atomic_load_explicit(&((ObjByteArray *)self)->store, memory_order_relaxed);
    if (s) gc_free_buffer(s, store_bytes(s->cap));
    buffer_exports_drop(atomic_load_explicit(&((ObjByteArray *)self)->exports, memory_order_relaxed));
}

const TypeSpec bytes_type_spec = {
    .name = "bytes",
    .kind = OBJ_BYTES,
    .obj_size = bytes_obj_size,
    .flags = TYPEF_BASETYPE,
    .repr = bytes_repr,
    .str = bytes_repr,
    .hash = bytes_hash,
    .richcmp = bytes_richcmp,
    .binop = bytes_binop,
    .truth = bytes_truth,
    .len = bytes_len,
    .getitem = bytes_getitem,
    .contains = bytes_contains,
    .iter = bytes_iter,
    .new_ = bytes_new_slot,
    .trace = bytes_trace,
    .getbuffer = bytes_getbuffer,
    .methods = bytes_methods,
    .classmethods = bytes_classmethods,
};

const TypeSpec bytearray_type_spec = {
    .name = "bytearray",
    .kind = OBJ_BYTEARRAY,
    .obj_size = bytearray_obj_size,
    .flags = TYPEF_BASETYPE,
    .repr = bytes_repr,
    .str = bytes_repr,
    .richcmp = bytes_richcmp,
    .binop = bytes_binop,
    .inplace = bytearray_inplace,
    .truth = bytes_truth,
    .len = bytes_len,
    .getitem = bytes_getitem,
    .setitem = bytearray_setitem,
    .contains = bytes_contains,
    .iter = bytes_iter,
    .new_ = bytearray_new_slot,
    .trace = bytes_trace,
    .finalize = bytearray_finalize,
    .getbuffer = bytearray_getbuffer,
    .releasebuffer = bytearray_releasebuffer,
    .methods = bytearray_methods,
    .classmethods = bytes_classmethods,
};

/* ---- int.to_bytes and int.from_bytes ------------------------------------------------ */

static bool byteorder_arg(TState *ts, Value v, bool *little) {
    *little = false;
    if (IS_EMPTY(v)) return true;
    if (IS_STR(v) && strcmp(AS_STR(v)->data, "little") == 0) *little = true;
    else if (!IS_STR(v) || strcmp(AS_STR(v)->data, "big") != 0) {
        if (!IS_STR(v)) {
            err_format(ts, EXC(ts)->TypeError, "to_bytes() argument 'byteorder' must be str, not %s",
                       ops_type_name(ts, v));
            return false;
        }
        err_set_str(ts, EXC(ts)->ValueError, "byteorder must be either 'little' or 'big'");
        return false;
    }
    return true;
}

/* int.to_bytes(length=1, byteorder='big', *, signed=False) */
Value bytes_int_to_bytes(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"length", "byteorder", "signed"};
    Value a[3];
    if (!args_bind(ts, "to_bytes", args + 1, nargs - 1, kwnames, names, 3, 0, 2, a)) return ERROR_VAL;
    int64_t length = 1;
    bool little;
    if (!IS_EMPTY(a[0]) && !ops_index(ts, a[0], &length)) return ERROR_VAL;
    if (!byteorder_arg(ts, a[1], &little)) return ERROR_VAL;
    int is_signed = IS_EMPTY(a[2]) ? 0 : ops_truth(ts, a[2]);
    if (is_signed < 0) return ERROR_VAL;
    if (length < 0) return err_set_str(ts, EXC(ts)->ValueError, "length argument must be non-negative");
    mpz_t z, v;
    mp_limb_t tmp[2];
    int_as_mpz(args[0], z, tmp);
    if (mpz_sgn(z) < 0 && !is_signed)
        return err_set_str(ts, EXC(ts)->OverflowError, "can't convert negative int to unsigned");
    /* Two's complement: a negative value is 2**(8*length) + value. */
    mpz_init_set(v, z);
    bool fits;
    if (mpz_sgn(v) < 0) {
        mpz_t m;
        mpz_init(m);
        mpz_ui_pow_ui(m, 2, (unsigned long)length * 8);
        mpz_add(v, v, m);
        mpz_clear(m);
        fits = length > 0 && mpz_sgn(v) >= 0 && mpz_sizeinbase(v, 2) == (size_t)length * 8;
    } else {
        size_t bits = mpz_sgn(v) ? mpz_sizeinbase(v, 2) : 0;
        fits = bits + (is_signed && bits ? 1 : 0) <= (size_t)length * 8;
    }
    if (!fits) {
        mpz_clear(v);
        return err_set_str(ts, EXC(ts)->OverflowError, "int too big to convert");
    }
    ObjBytes *b = bytes_alloc(ts, (size_t)length);
    if (!b) {
        mpz_clear(v);
        return ERROR_VAL;
    }
    memset(b->data, 0, (size_t)length);
    size_t count = 0;
    if (mpz_sgn(v)) {
        size_t need = (mpz_sizeinbase(v, 2) + 7) / 8;
        mpz_export(b->data + (size_t)length - need, &count, 1, 1, 1, 0, v);
    }
    mpz_clear(v);
    if (little)
        for (size_t i = 0; i < (size_t)length / 2; i++) {
            char t = b->data[i];
            b->data[i] = b->data[length - 1 - (int64_t)i];
            b->data[length - 1 - (int64_t)i] = t;
        }
    return OBJ_VAL(b);
}

/* int.from_bytes(bytes, byteorder='big', *, signed=False): a classmethod. */
Value bytes_int_from_bytes(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"bytes", "byteorder", "signed"};
    Value a[3];
    if (!args_bind(ts, "from_bytes", args + 1, nargs - 1, kwnames, names, 3, 1, 2, a)) return ERROR_VAL;
    bool little;
    if (!byteorder_arg(ts, a[1], &little)) return ERROR_VAL;
    int is_signed = IS_EMPTY(a[2]) ? 0 : ops_truth(ts, a[2]);
    if (is_signed < 0) return ERROR_VAL;
    StrBuf sb;
    sb_init(&sb);
    if (!value_bytes(ts, a[0], &sb, "cannot convert 'str' object to bytes")) {
        sb_free(&sb);
        return ERROR_VAL;
    }
    mpz_t z;
    mpz_init(z);
    if (sb.len) mpz_import(z, sb.len, little ? -1 : 1, 1, 1, 0, sb.data);
    if (is_signed && sb.len && ((unsigned char)sb.data[little ? sb.len - 1 : 0] & 0x80)) {
        mpz_t m;
        mpz_init(m);
        mpz_ui_pow_ui(m, 2, (unsigned long)sb.len * 8);
        mpz_sub(z, z, m);
        mpz_clear(m);
    }
    sb_free(&sb);
    Value r = int_from_mpz(ts, z);
    mpz_clear(z);
    if (IS_ERROR(r)) return r;
    ObjType *cls = IS_KIND(args[0], OBJ_TYPE) ? (ObjType *)AS_OBJ(args[0]) : ts->interp->types.int_;
    if (cls == ts->interp->types.int_) return r;
    return ops_call(ts, OBJ_VAL(cls), &r, 1, NULL);
}
