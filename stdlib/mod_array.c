/* The array module: array.array, a growable array of C numbers (typecodes
 * b B u h H i I l L q Q f d) in native layout, exporting the buffer
 * protocol (runtime/buffer.h) so bytes(a), memoryview(a), struct.pack_into
 * and binary files see its memory.
 *
 * GIL off: every operation holds the array's lock from its first read to
 * its last write (reads included: items are several bytes wide), and never
 * across mini code (values are converted before the lock is taken). A store
 * replaced by growth is retired, as list.c's; a live memoryview blocks
 * resizing with BufferError, as CPython. */

#include <stdlib.h>
#include <string.h>

#include "runtime/args.h"
#include "runtime/buffer.h"
#include "runtime/bytes.h"
#include "runtime/class.h"
#include "runtime/dict.h"
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
#include "stdlib/modules.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/vm.h"

#define EXC(ts) (&(ts)->interp->exc)

typedef struct ObjArray {
    Obj obj;
    char typecode;
    size_t itemsize;
    size_t len;   /* items; under the lock */
    size_t cap;   /* bytes of data */
    char *data;
    BufferExports *_Atomic exports;
} ObjArray;

#define AS_ARRAY(v) ((ObjArray *)AS_OBJ(v))
#define IS_ARRAY(v) IS_KIND(v, OBJ_ARRAY)

static const char typecodes[] = "bBuhHiIlLqQfd";

static size_t item_size(char tc) { return tc == 'u' ? 4 : buffer_item_size(tc); }

/* ---- items -------------------------------------------------------------------- */

/* Range messages, CPython's (they differ per typecode). */
static bool check_range(TState *ts, char tc, Value v) {
    mpz_t z;
    mp_limb_t tmp[2];
    int_as_mpz(v, z, tmp);
    bool neg = mpz_sgn(z) < 0;
    size_t bits = mpz_sizeinbase(z, 2);
    const char *msg = NULL;
    struct {
        char tc;
        int64_t lo, hi;
        const char *name;
    } small[] = {{'b', -128, 127, "signed char"},
                 {'B', 0, 255, "unsigned byte integer"},
                 {'h', -32768, 32767, "signed short integer"},
                 {'H', 0, 65535, "unsigned short"},
                 {'i', INT32_MIN, INT32_MAX, "signed integer"}};
    for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) {
        if (small[i].tc != tc) continue;
        int64_t x;
        bool fits = int_to_i64(v, &x);
        if (fits && x >= small[i].lo && x <= small[i].hi) return true;
        err_format(ts, EXC(ts)->OverflowError, "%s is %s", small[i].name,
                   neg ? "less than minimum" : "greater than maximum");
        return false;
    }
    switch (tc) {
    case 'I':
        if (neg) msg = "can't convert negative value to unsigned int";
        else if (bits > 32) msg = "unsigned int is greater than maximum";
        break;
    case 'l':
        if (neg ? mpz_cmp_si(z, INT64_MIN) < 0 : bits > 63) msg = "Python int too large to convert to C long";
        break;
    case 'L':
        if (neg) msg = "can't convert negative value to unsigned int";
        else if (bits > 64) msg = "Python int too large to convert to C unsigned long";
        break;
    case 'q':
        if (neg ? mpz_cmp_si(z, INT64_MIN) < 0 : bits > 63) msg = "int too big to convert";
        break;
    case 'Q':
        if (neg) msg = "can't convert negative int to unsigned";
        else if (bits > 64) msg = "int too big to convert";
        break;
    default: break;
    }
    if (msg) err_set_str(ts, EXC(ts)->OverflowError, msg);
    return msg == NULL;
}

/* One value in the array's layout; runs __index__, so never under the lock. */
static bool pack_value(TState *ts, char tc, Value v, char *p) {
    if (tc == 'u') {
        if (!IS_STR(v) || AS_STR(v)->nchars != 1) {
            err_set_str(ts, EXC(ts)->TypeError, "array item must be unicode character");
            return false;
        }
        size_t n;
        uint32_t cp = str_utf8_decode(AS_STR(v)->data, AS_STR(v)->len, &n);
        memcpy(p, &cp, 4);
        return true;
    }
    if (tc != 'f' && tc != 'd') {
        if (!IS_INTLIKE(v) || IS_BOOL(v)) {
            v = int_index(ts, v);
            if (IS_ERROR(v)) return false;
        }
        if (!check_range(ts, tc, v)) return false;
    }
    int r = buffer_pack_item(ts, tc, v, p);
    if (r == -2)
        err_format(ts, EXC(ts)->TypeError, "must be real number, not %s", ops_type_name(ts, v));
    return r == 1;
}

static Value unpack_value(TState *ts, char tc, const char *p) {
    if (tc == 'u') {
        uint32_t cp;
        memcpy(&cp, p, 4);
        if (cp >= 0x110000) return err_format(ts, EXC(ts)->ValueError, "character U+%x is not in range [U+0000; U+10ffff]", cp);
        ObjStr *s = str_from_codepoint(ts, cp);
        return s ? OBJ_VAL(s) : ERROR_VAL;
    }
    return buffer_unpack_item(ts, tc, p);
}

/* ---- storage (lock held) ---------------------------------------------------------- */

static bool reserve_locked(TState *ts, ObjArray *a, size_t items) {
    if (items > (size_t)PTRDIFF_MAX / a->itemsize) return false;
    size_t need = items * a->itemsize;
    if (need <= a->cap) return true;
    size_t cap = a->cap + (a->cap >> 1) + 16;
    if (cap < need) cap = need;
    char *d = gc_alloc_buffer(ts, cap);
    if (!d) return false;
    if (a->len) memcpy(d, a->data, a->len * a->itemsize);
    if (a->data) gc_retire_buffer(ts, a->data, a->cap);
    a->data = d;
    a->cap = cap;
    return true;
}

/* Replaces items [at, at+del) by n items from p (lock held; released). */
static bool splice_locked(TState *ts, ObjArray *a, size_t at, size_t del, const char *p, size_t n) {
    if (n != del && buffer_views(&a->exports) > 0) {
        obj_unlock(ts, &a->obj);
        err_set_str(ts, EXC(ts)->BufferError, "cannot resize an array that is exporting buffers");
        return false;
    }
    if (n > del && !reserve_locked(ts, a, a->len + n - del)) {
        obj_unlock(ts, &a->obj);
        err_no_memory(ts);
        return false;
    }
    size_t w = a->itemsize;
    if (a->data) memmove(a->data + (at + n) * w, a->data + (at + del) * w, (a->len - at - del) * w);
    if (n) memcpy(a->data + at * w, p, n * w);
    a->len = a->len + n - del;
    obj_unlock(ts, &a->obj);
    return true;
}

static ObjArray *array_alloc(TState *ts, ObjType *type, char tc) {
    ObjArray *a = (ObjArray *)gc_alloc(ts, sizeof(ObjArray), OBJ_ARRAY, type);
    if (!a) return NULL;
    a->typecode = tc;
    a->itemsize = item_size(tc);
    a->len = a->cap = 0;
    a->data = NULL;
    atomic_init(&a->exports, NULL);
    return a;
}

/* array.array itself: slices, concatenations and copies of a subclass's
 * instances are plain arrays, as CPython's. */
static ObjType *plain_type(ObjType *t) {
    while (t->base && t->base->instance_kind == OBJ_ARRAY) t = t->base;
    return t;
}

static Value array_make(TState *ts, ObjType *type, char tc, const char *p, size_t n) {
    ObjArray *a = array_alloc(ts, type, tc);
    if (!a) return ERROR_VAL;
    obj_lock(ts, &a->obj);
    return splice_locked(ts, a, 0, 0, p, n) ? OBJ_VAL(a) : ERROR_VAL;
}

/* A copy of the items (the caller frees it): reads never hold the lock
 * past the call. */
static char *snapshot(TState *ts, ObjArray *a, size_t *n) {
    obj_lock(ts, &a->obj);
    *n = a->len;
    char *p = malloc(a->len * a->itemsize + 1);
    if (p && a->len) memcpy(p, a->data, a->len * a->itemsize);
    obj_unlock(ts, &a->obj);
    if (!p) err_no_memory(ts);
    return p;
}

/* The packed items of an iterable, for extend/fromlist/the constructor. */
static bool pack_iterable(TState *ts, char tc, Value iterable, StrBuf *out) {
    ObjList *l = ops_to_list(ts, iterable);
    if (!l) return false;
    vm_push(ts, OBJ_VAL(l));
    size_t n = list_len(l), w = item_size(tc);
    bool ok = sb_reserve(out, n * w);
    if (!ok) err_no_memory(ts);
    for (size_t i = 0; ok && i < n; i++) {
        char tmp[8];
        ok = pack_value(ts, tc, list_get(l, i), tmp) && sb_append(out, tmp, w);
    }
    vm_pop(ts);
    return ok;
}

/* ---- type slots ------------------------------------------------------------------------ */

static Value array_new_slot(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    if (kwnames && kwnames->len) return err_set_str(ts, EXC(ts)->TypeError, "array.array() takes no keyword arguments");
    if (nargs < 1 || nargs > 2)
        return err_format(ts, EXC(ts)->TypeError, "array() takes at most 2 arguments (%d given)", nargs);
    if (!IS_STR(args[0]) || AS_STR(args[0])->nchars != 1)
        return err_format(ts, EXC(ts)->TypeError, "array() argument 1 must be a unicode character, not %s",
                          ops_type_name(ts, args[0]));
    char tc = AS_STR(args[0])->data[0];
    if (!strchr(typecodes, tc) || !tc)
        return err_set_str(ts, EXC(ts)->ValueError, "bad typecode (must be b, B, u, h, H, i, I, l, L, q, Q, f or d)");
    StrBuf sb;
    sb_init(&sb);
    bool ok = true;
    if (nargs == 2) {
        Value init = args[1];
        if (IS_STR(init)) {
            if (tc != 'u') {
                return err_format(ts, EXC(ts)->TypeError,
                                  "cannot use a str to initialize an array with typecode '%c'", tc);
            }
            ok = pack_iterable(ts, tc, init, &sb);
        } else if (IS_ARRAY(init) && AS_ARRAY(init)->typecode != tc && (tc == 'u' || AS_ARRAY(init)->typecode == 'u')) {
            return err_format(ts, EXC(ts)->TypeError, "cannot use a unicode array to initialize an array with typecode '%c'", tc);
        } else if (buffer_check(ts, init) && !IS_ARRAY(init)) {
            Buffer b;
            ok = buffer_get(ts, init, &b, BUF_READ);
            if (ok) {
                if (b.len % item_size(tc)) {
                    err_set_str(ts, EXC(ts)->ValueError, "bytes length not a multiple of item size");
                    ok = false;
                }
                if (ok) ok = sb_append(&sb, b.buf, b.len) || (err_no_memory(ts), false);
                buffer_release(ts, &b);
            }
        } else {
            ok = pack_iterable(ts, tc, init, &sb);
        }
    }
    Value r = ok ? array_make(ts, type, tc, sb.data, sb.len / item_size(tc)) : ERROR_VAL;
    sb_free(&sb);
    return r;
}

static Value array_repr(TState *ts, Value self) {
    ObjArray *a = AS_ARRAY(self);
    size_t n;
    char *p = snapshot(ts, a, &n);
    if (!p) return ERROR_VAL;
    StrBuf sb;
    sb_init(&sb);
    bool ok = sb_appendf(&sb, "%s('%c'", OBJ_TYPE(self)->name->data, a->typecode);
    if (n && a->typecode == 'u') {
        Value s = OBJ_VAL(str_from_cstr(ts, ""));
        StrBuf text;
        sb_init(&text);
        for (size_t i = 0; ok && i < n; i++) {
            uint32_t cp;
            memcpy(&cp, p + i * 4, 4);
            char u[4];
            ok = cp < 0x110000 && sb_append(&text, u, str_utf8_encode(cp, u));
        }
        ObjStr *t = ok ? str_from_sb(ts, &text) : NULL;
        if (!t) sb_free(&text);
        s = t ? ops_repr(ts, OBJ_VAL(t)) : ERROR_VAL;
        ok = !IS_ERROR(s) && sb_append_cstr(&sb, ", ") && sb_append(&sb, AS_STR(s)->data, AS_STR(s)->len);
    } else if (n) {
        ok = ok && sb_append_cstr(&sb, ", [");
        for (size_t i = 0; ok && i < n; i++) {
            Value v = unpack_value(ts, a->typecode, p + i * a->itemsize);
            ok = !IS_ERROR(v) && (i == 0 || sb_append_cstr(&sb, ", ")) && str_append_repr(ts, &sb, v);
        }
        ok = ok && sb_append_char(&sb, ']');
    }
    ok = ok && sb_append_char(&sb, ')');
    free(p);
    if (!ok) {
        sb_free(&sb);
        return err_occurred(ts) ? ERROR_VAL : err_no_memory(ts);
    }
    ObjStr *s = str_from_sb(ts, &sb);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static int64_t array_len(TState *ts, Value self) {
    ObjArray *a = AS_ARRAY(self);
    obj_lock(ts, &a->obj);
    int64_t n = (int64_t)a->len;
    obj_unlock(ts, &a->obj);
    return n;
}

static Value array_getitem(TState *ts, Value self, Value key) {
    ObjArray *a = AS_ARRAY(self);
    int64_t i;
    switch (seq_subscript(ts, key, &i)) {
    case 1: {
        char tmp[8];
        obj_lock(ts, &a->obj);
        if (i < 0) i += (int64_t)a->len;
        bool ok = i >= 0 && (size_t)i < a->len;
        if (ok) memcpy(tmp, a->data + (size_t)i * a->itemsize, a->itemsize);
        obj_unlock(ts, &a->obj);
        if (!ok) return err_set_str(ts, EXC(ts)->IndexError, "array index out of range");
        return unpack_value(ts, a->typecode, tmp);
    }
    case 2: {
        size_t n;
        char *p = snapshot(ts, a, &n);
        if (!p) return ERROR_VAL;
        int64_t start, stop, step, count;
        Value r = ERROR_VAL;
        if (slice_indices(ts, AS_SLICE(key), (int64_t)n, &start, &stop, &step, &count) == 0) {
            if (count < 0) count = 0;
            char *out = malloc((size_t)count * a->itemsize + 1);
            if (out) {
                for (int64_t k = 0, at = start; k < count; k++, at += step)
                    memcpy(out + (size_t)k * a->itemsize, p + (size_t)at * a->itemsize, a->itemsize);
                r = array_make(ts, plain_type(OBJ_TYPE(self)), a->typecode, out, (size_t)count);
                free(out);
            } else {
                err_no_memory(ts);
            }
        }
        free(p);
        return r;
    }
    case 0:
        return err_set_str(ts, EXC(ts)->TypeError, "array indices must be integers");
    default:
        return ERROR_VAL;
    }
}

static int array_setitem(TState *ts, Value self, Value key, Value value) {
    ObjArray *a = AS_ARRAY(self);
    int64_t i;
    switch (seq_subscript(ts, key, &i)) {
    case 1: {
        char tmp[8];
        if (!IS_EMPTY(value) && !pack_value(ts, a->typecode, value, tmp)) return -1;
        obj_lock(ts, &a->obj);
        if (i < 0) i += (int64_t)a->len;
        if (i < 0 || (size_t)i >= a->len) {
            obj_unlock(ts, &a->obj);
            err_set_str(ts, EXC(ts)->IndexError,
                        IS_EMPTY(value) ? "array assignment index out of range" : "array assignment index out of range");
            return -1;
        }
        if (IS_EMPTY(value)) return splice_locked(ts, a, (size_t)i, 1, NULL, 0) ? 0 : -1;
        memcpy(a->data + (size_t)i * a->itemsize, tmp, a->itemsize);
        obj_unlock(ts, &a->obj);
        return 0;
    }
    case 2: {
        char *src = NULL;
        size_t m = 0;
        if (!IS_EMPTY(value)) {
            if (!IS_ARRAY(value) || AS_ARRAY(value)->typecode != a->typecode) {
                if (IS_ARRAY(value)) err_set_str(ts, EXC(ts)->TypeError, "bad argument type for built-in operation");
                else
                    err_format(ts, EXC(ts)->TypeError, "can only assign array (not \"%s\") to array slice",
                               ops_type_name(ts, value));
                return -1;
            }
            src = snapshot(ts, AS_ARRAY(value), &m);
            if (!src) return -1;
        }
        obj_lock(ts, &a->obj);
        size_t len = a->len;
        obj_unlock(ts, &a->obj);
        int64_t start, stop, step, count;
        if (slice_indices(ts, AS_SLICE(key), (int64_t)len, &start, &stop, &step, &count) < 0) {
            free(src);
            return -1;
        }
        if (count < 0) count = 0;
        obj_lock(ts, &a->obj);
        if (a->len != len) {
            obj_unlock(ts, &a->obj);
            free(src);
            return array_setitem(ts, self, key, value);
        }
        bool ok;
        size_t w = a->itemsize;
        if (step == 1) {
            ok = splice_locked(ts, a, (size_t)start, (size_t)count, src, m);
        } else if (IS_EMPTY(value) && count && buffer_views(&a->exports) > 0) {
            obj_unlock(ts, &a->obj);
            err_set_str(ts, EXC(ts)->BufferError, "cannot resize an array that is exporting buffers");
            ok = false;
        } else if (IS_EMPTY(value)) {
            if (step < 0) {
                start += step * (count - 1);
                step = -step;
            }
            size_t out = (size_t)start;
            for (size_t at = (size_t)start, k = 0; at < len; at++) {
                if (k < (size_t)count && at == (size_t)start + k * (size_t)step) {
                    k++;
                    continue;
                }
                memmove(a->data + out * w, a->data + at * w, w);
                out++;
            }
            /* The moved items are in place; drop the tail (a resize). */
            a->len = len;
            ok = splice_locked(ts, a, len - (size_t)count, (size_t)count, NULL, 0);
        } else if ((size_t)count != m) {
            obj_unlock(ts, &a->obj);
            err_format(ts, EXC(ts)->ValueError, "attempt to assign array of size %zu to extended slice of size %lld", m,
                       (long long)count);
            ok = false;
        } else {
            for (int64_t k = 0, at = start; k < count; k++, at += step)
                memcpy(a->data + (size_t)at * w, src + (size_t)k * w, w);
            obj_unlock(ts, &a->obj);
            ok = true;
        }
        free(src);
        return ok ? 0 : -1;
    }
    case 0:
        err_set_str(ts, EXC(ts)->TypeError, "array indices must be integers");
        return -1;
    default:
        return -1;
    }
}

static int array_contains(TState *ts, Value self, Value item) {
    size_t n;
    ObjArray *a = AS_ARRAY(self);
    char *p = snapshot(ts, a, &n);
    if (!p) return -1;
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        Value v = unpack_value(ts, a->typecode, p + i * a->itemsize);
        r = IS_ERROR(v) ? -1 : ops_equal(ts, v, item);
    }
    free(p);
    return r;
}

static Value iter_array_step(TState *ts, ObjIterator *it) {
    Value src = it->source;
    if (!IS_ARRAY(src)) return EMPTY_VAL;
    ObjArray *a = AS_ARRAY(src);
    int64_t i = __atomic_fetch_add(&it->index, 1, __ATOMIC_RELAXED);
    char tmp[8];
    obj_lock(ts, &a->obj);
    bool ok = (size_t)i < a->len;
    if (ok) memcpy(tmp, a->data + (size_t)i * a->itemsize, a->itemsize);
    obj_unlock(ts, &a->obj);
    return ok ? unpack_value(ts, a->typecode, tmp) : EMPTY_VAL;
}

static Value array_iter(TState *ts, Value self) {
    ObjIterator *it = iterator_new(ts, "arrayiterator", iter_array_step, self, NONE_VAL);
    return it ? OBJ_VAL(it) : ERROR_VAL;
}

static Value array_tolist_value(TState *ts, ObjArray *a) {
    size_t n;
    char *p = snapshot(ts, a, &n);
    if (!p) return ERROR_VAL;
    ObjList *l = list_new(ts, n);
    for (size_t i = 0; l && i < n; i++) {
        Value v = unpack_value(ts, a->typecode, p + i * a->itemsize);
        if (IS_ERROR(v) || list_append(ts, l, v) < 0) l = NULL;
    }
    free(p);
    return l ? OBJ_VAL(l) : ERROR_VAL;
}

static Value array_richcmp(TState *ts, Value a, Value b, CmpOp op) {
    if (!IS_ARRAY(a) || !IS_ARRAY(b)) return NOT_IMPLEMENTED_VAL;
    Value x = array_tolist_value(ts, AS_ARRAY(a));
    if (IS_ERROR(x)) return x;
    vm_push(ts, x);
    Value y = array_tolist_value(ts, AS_ARRAY(b));
    Value r = IS_ERROR(y) ? y : ops_compare(ts, x, y, op);
    vm_pop(ts);
    return r;
}

static Value concat_or_repeat(TState *ts, BinOp op, Value a, Value b, bool inplace) {
    if (op == BIN_ADD) {
        if (!IS_ARRAY(a)) return NOT_IMPLEMENTED_VAL;
        if (!IS_ARRAY(b))
            return err_format(ts, EXC(ts)->TypeError, "can only %s array (not \"%s\") to array",
                              inplace ? "extend" : "append", ops_type_name(ts, b));
        if (AS_ARRAY(a)->typecode != AS_ARRAY(b)->typecode)
            return err_set_str(ts, EXC(ts)->TypeError, inplace ? "can only extend with array of same kind"
                                                               : "bad argument type for built-in operation");
        size_t m;
        char *src = snapshot(ts, AS_ARRAY(b), &m);
        if (!src) return ERROR_VAL;
        Value r;
        ObjArray *x = AS_ARRAY(a);
        if (inplace) {
            obj_lock(ts, &x->obj);
            r = splice_locked(ts, x, x->len, 0, src, m) ? a : ERROR_VAL;
        } else {
            size_t n;
            char *p = snapshot(ts, x, &n);
            r = ERROR_VAL;
            if (p) {
                char *all = realloc(p, (n + m) * x->itemsize + 1);
                if (all) {
                    memcpy(all + n * x->itemsize, src, m * x->itemsize);
                    r = array_make(ts, plain_type(OBJ_TYPE(a)), x->typecode, all, n + m);
                    free(all);
                } else {
                    free(p);
                    err_no_memory(ts);
                }
            }
        }
        free(src);
        return r;
    }
    if (op == BIN_MUL) {
        bool right = !IS_ARRAY(a);
        Value arr = right ? b : a, nv = right ? a : b;
        int64_t count;
        switch (seq_repeat_count(ts, nv, &count)) {
        case 0: return seq_repeat_error(ts, nv, !right);
        case -1: return ERROR_VAL;
        default: break;
        }
        if (count < 0) count = 0;
        ObjArray *x = AS_ARRAY(arr);
        size_t n;
        char *p = snapshot(ts, x, &n);
        if (!p) return ERROR_VAL;
        size_t bytes = n * x->itemsize;
        if (bytes && (uint64_t)count > (uint64_t)PTRDIFF_MAX / bytes) {
            free(p);
            return err_no_memory(ts);
        }
        char *all = malloc(bytes * (size_t)count + 1);
        for (int64_t k = 0; all && k < count; k++) memcpy(all + (size_t)k * bytes, p, bytes);
        free(p);
        if (!all) return err_no_memory(ts);
        Value r;
        if (inplace) {
            obj_lock(ts, &x->obj);
            r = splice_locked(ts, x, 0, x->len, all, n * (size_t)count) ? arr : ERROR_VAL;
        } else {
            r = array_make(ts, plain_type(OBJ_TYPE(arr)), x->typecode, all, n * (size_t)count);
        }
        free(all);
        return r;
    }
    return NOT_IMPLEMENTED_VAL;
}

static Value array_binop(TState *ts, BinOp op, Value a, Value b) { return concat_or_repeat(ts, op, a, b, false); }
static Value array_inplace(TState *ts, BinOp op, Value a, Value b) { return concat_or_repeat(ts, op, a, b, true); }

static int array_getbuffer(TState *ts, Value self, Buffer *view, int flags) {
    ObjArray *a = AS_ARRAY(self);
    obj_lock(ts, &a->obj);
    static char empty[8];
    bool copy = flags == BUF_READ && !ts->interp->gil_enabled;
    bool ok = buffer_fill(ts, view, self, a->data ? a->data : empty, a->len * a->itemsize, false, flags, copy) &&
              (flags != BUF_EXPORT || buffer_export(ts, &a->exports, view));
    if (ok) {
        static const char formats[] = "bBIhHiIlLqQfd";
        view->itemsize = a->itemsize;
        view->format = &formats[strchr(typecodes, a->typecode) - typecodes];
    }
    if (!ok || flags != BUF_WRITE) obj_unlock(ts, &a->obj);
    return ok ? 0 : -1;
}

static void array_releasebuffer(TState *ts, Buffer *view) {
    if (view->flags == BUF_WRITE) obj_unlock(ts, &AS_ARRAY(view->obj)->obj);
}

static void array_trace(GcMarker *m, Obj *self) {
    (void)m;
    (void)self;
}

static void array_finalize(Obj *self) {
    ObjArray *a = (ObjArray *)self;
    if (a->data) gc_free_buffer(a->data, a->cap);
    buffer_exports_drop(atomic_load_explicit(&a->exports, memory_order_relaxed));
}

static size_t array_obj_size(Obj *self) { return sizeof(ObjArray) + ((ObjArray *)self)->cap; }

/* ---- methods ------------------------------------------------------------------------------- */

#define SELF AS_ARRAY(args[0])

static Value m_append(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("append", 1, 1);
    char tmp[8];
    if (!pack_value(ts, SELF->typecode, args[1], tmp)) return ERROR_VAL;
    obj_lock(ts, &SELF->obj);
    return splice_locked(ts, SELF, SELF->len, 0, tmp, 1) ? NONE_VAL : ERROR_VAL;
}

static Value m_extend(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("extend", 1, 1);
    if (IS_ARRAY(args[1])) {
        Value r = concat_or_repeat(ts, BIN_ADD, args[0], args[1], true);
        return IS_ERROR(r) ? r : NONE_VAL;
    }
    StrBuf sb;
    sb_init(&sb);
    bool ok = pack_iterable(ts, SELF->typecode, args[1], &sb);
    if (ok) {
        obj_lock(ts, &SELF->obj);
        ok = splice_locked(ts, SELF, SELF->len, 0, sb.data, sb.len / SELF->itemsize);
    }
    sb_free(&sb);
    return ok ? NONE_VAL : ERROR_VAL;
}

static Value m_fromlist(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("fromlist", 1, 1);
    if (!IS_KIND(args[1], OBJ_LIST)) return err_set_str(ts, EXC(ts)->TypeError, "arg must be list");
    return m_extend(ts, args, nargs, kwnames);
}

static Value m_insert(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("insert", 2, 2);
    int64_t i;
    char tmp[8];
    if (!ops_index(ts, args[1], &i) || !pack_value(ts, SELF->typecode, args[2], tmp)) return ERROR_VAL;
    obj_lock(ts, &SELF->obj);
    int64_t n = (int64_t)SELF->len;
    if (i < 0 && (i += n) < 0) i = 0;
    if (i > n) i = n;
    return splice_locked(ts, SELF, (size_t)i, 0, tmp, 1) ? NONE_VAL : ERROR_VAL;
}

static Value m_pop(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("pop", 0, 1);
    int64_t i = -1;
    if (nargs > 1 && !ops_index(ts, args[1], &i)) return ERROR_VAL;
    ObjArray *a = SELF;
    obj_lock(ts, &a->obj);
    int64_t n = (int64_t)a->len;
    if (n == 0) {
        obj_unlock(ts, &a->obj);
        return err_set_str(ts, EXC(ts)->IndexError, "pop from empty array");
    }
    if (i < 0) i += n;
    if (i < 0 || i >= n) {
        obj_unlock(ts, &a->obj);
        return err_set_str(ts, EXC(ts)->IndexError, "pop index out of range");
    }
    char tmp[8];
    memcpy(tmp, a->data + (size_t)i * a->itemsize, a->itemsize);
    if (!splice_locked(ts, a, (size_t)i, 1, NULL, 0)) return ERROR_VAL;
    return unpack_value(ts, a->typecode, tmp);
}

/* The position of the first item equal to x in self, or -1. */
static int64_t find_item(TState *ts, ObjArray *a, Value x, int64_t start) {
    size_t n;
    char *p = snapshot(ts, a, &n);
    if (!p) return -2;
    int64_t r = -1;
    for (size_t i = (size_t)start; i < n && r == -1; i++) {
        Value v = unpack_value(ts, a->typecode, p + i * a->itemsize);
        int eq = IS_ERROR(v) ? -1 : ops_equal(ts, v, x);
        if (eq < 0) r = -2;
        else if (eq) r = (int64_t)i;
    }
    free(p);
    return r;
}

static Value m_remove(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("remove", 1, 1);
    for (;;) {
        int64_t i = find_item(ts, SELF, args[1], 0);
        if (i == -2) return ERROR_VAL;
        if (i < 0) return err_set_str(ts, EXC(ts)->ValueError, "array.remove(x): x not in array");
        obj_lock(ts, &SELF->obj);
        /* Removed by position: still there? Otherwise look again. */
        if ((size_t)i < SELF->len) return splice_locked(ts, SELF, (size_t)i, 1, NULL, 0) ? NONE_VAL : ERROR_VAL;
        obj_unlock(ts, &SELF->obj);
    }
}

static Value m_index(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("index", 1, 3);
    int64_t start = 0;
    if (nargs > 2 && !ops_index(ts, args[2], &start)) return ERROR_VAL;
    if (start < 0 && (start += array_len(ts, args[0])) < 0) start = 0;
    int64_t i = find_item(ts, SELF, args[1], start);
    if (nargs > 3) {
        int64_t stop;
        if (!ops_index(ts, args[3], &stop)) return ERROR_VAL;
        if (stop < 0) stop += array_len(ts, args[0]);
        if (i >= stop) i = -1;
    }
    if (i == -2) return ERROR_VAL;
    if (i < 0) return err_set_str(ts, EXC(ts)->ValueError, "array.index(x): x not in array");
    return INT_VAL(i);
}

static Value m_count(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("count", 1, 1);
    size_t n;
    ObjArray *a = SELF;
    char *p = snapshot(ts, a, &n);
    if (!p) return ERROR_VAL;
    int64_t c = 0;
    for (size_t i = 0; i < n; i++) {
        Value v = unpack_value(ts, a->typecode, p + i * a->itemsize);
        int eq = IS_ERROR(v) ? -1 : ops_equal(ts, v, args[1]);
        if (eq < 0) {
            free(p);
            return ERROR_VAL;
        }
        c += eq;
    }
    free(p);
    return INT_VAL(c);
}

static Value m_reverse(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("reverse", 0, 0);
    ObjArray *a = SELF;
    obj_lock(ts, &a->obj);
    size_t w = a->itemsize;
    for (size_t i = 0; i < a->len / 2; i++) {
        char t[8];
        memcpy(t, a->data + i * w, w);
        memcpy(a->data + i * w, a->data + (a->len - 1 - i) * w, w);
        memcpy(a->data + (a->len - 1 - i) * w, t, w);
    }
    obj_unlock(ts, &a->obj);
    return NONE_VAL;
}

static Value m_byteswap(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("byteswap", 0, 0);
    ObjArray *a = SELF;
    obj_lock(ts, &a->obj);
    size_t w = a->itemsize;
    for (size_t i = 0; i < a->len; i++) {
        char *p = a->data + i * w;
        for (size_t k = 0; k < w / 2; k++) {
            char t = p[k];
            p[k] = p[w - 1 - k];
            p[w - 1 - k] = t;
        }
    }
    obj_unlock(ts, &a->obj);
    return NONE_VAL;
}

static Value m_tobytes(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("tobytes", 0, 0);
    size_t n;
    char *p = snapshot(ts, SELF, &n);
    if (!p) return ERROR_VAL;
    ObjBytes *b = bytes_new(ts, p, n * SELF->itemsize);
    free(p);
    return b ? OBJ_VAL(b) : ERROR_VAL;
}

static Value m_frombytes(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("frombytes", 1, 1);
    Value b = bytes_from_buffer(ts, args[1]);
    if (IS_ERROR(b)) return b;
    size_t len = AS_BYTES(b)->len;
    if (len % SELF->itemsize) return err_set_str(ts, EXC(ts)->ValueError, "bytes length not a multiple of item size");
    obj_lock(ts, &SELF->obj);
    return splice_locked(ts, SELF, SELF->len, 0, AS_BYTES(b)->data, len / SELF->itemsize) ? NONE_VAL : ERROR_VAL;
}

static Value m_tolist(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("tolist", 0, 0);
    return array_tolist_value(ts, SELF);
}

static Value m_tounicode(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("tounicode", 0, 0);
    if (SELF->typecode != 'u')
        return err_set_str(ts, EXC(ts)->ValueError, "tounicode() may only be called on unicode type arrays");
    Value l = array_tolist_value(ts, SELF);
    if (IS_ERROR(l)) return l;
    ObjStr *empty = str_from_cstr(ts, "");
    if (!empty) return ERROR_VAL;
    Value join = ops_getattr(ts, OBJ_VAL(empty), str_intern_cstr(ts, "join"));
    return IS_ERROR(join) ? join : ops_call(ts, join, &l, 1, NULL);
}

static Value m_fromunicode(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("fromunicode", 1, 1);
    if (SELF->typecode != 'u')
        return err_set_str(ts, EXC(ts)->ValueError, "fromunicode() may only be called on unicode type arrays");
    if (!IS_STR(args[1]))
        return err_format(ts, EXC(ts)->TypeError, "fromunicode() argument must be str, not %s", ops_type_name(ts, args[1]));
    return m_extend(ts, args, nargs, kwnames);
}

static Value m_buffer_info(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("buffer_info", 0, 0);
    obj_lock(ts, &SELF->obj);
    Value addr = int_from_u64(ts, (uint64_t)(uintptr_t)SELF->data), n = INT_VAL((int64_t)SELF->len);
    obj_unlock(ts, &SELF->obj);
    ObjTuple *t = IS_ERROR(addr) ? NULL : tuple_pack2(ts, addr, n);
    return t ? OBJ_VAL(t) : ERROR_VAL;
}

static Value m_copy(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    (void)kwnames;
    (void)nargs;
    size_t n;
    char *p = snapshot(ts, SELF, &n);
    if (!p) return ERROR_VAL;
    Value r = array_make(ts, plain_type(OBJ_TYPE(args[0])), SELF->typecode, p, n);
    free(p);
    return r;
}

static Value g_typecode(TState *ts, Value self) {
    ObjStr *s = str_new(ts, &AS_ARRAY(self)->typecode, 1);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}
static Value g_itemsize(TState *ts, Value self) {
    (void)ts;
    return INT_VAL((int64_t)AS_ARRAY(self)->itemsize);
}

static Value m_len(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__len__", 0, 0);
    return INT_VAL(array_len(ts, args[0]));
}
static Value m_getitem(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__getitem__", 1, 1);
    return array_getitem(ts, args[0], args[1]);
}
static Value m_setitem(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__setitem__", 2, 2);
    return array_setitem(ts, args[0], args[1], args[2]) == 0 ? NONE_VAL : ERROR_VAL;
}
static Value m_delitem(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__delitem__", 1, 1);
    return array_setitem(ts, args[0], args[1], EMPTY_VAL) == 0 ? NONE_VAL : ERROR_VAL;
}

static Value m_add(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__add__", 1, 1);
    return array_binop(ts, BIN_ADD, args[0], args[1]);
}
static Value m_mul(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__mul__", 1, 1);
    return array_binop(ts, BIN_MUL, args[0], args[1]);
}
static Value m_iadd(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__iadd__", 1, 1);
    return array_inplace(ts, BIN_ADD, args[0], args[1]);
}
static Value m_imul(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__imul__", 1, 1);
    return array_inplace(ts, BIN_MUL, args[0], args[1]);
}
static Value m_contains(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__contains__", 1, 1);
    int r = array_contains(ts, args[0], args[1]);
    return r < 0 ? ERROR_VAL : BOOL_VAL(r);
}
static Value m_iter(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__iter__", 0, 0);
    return array_iter(ts, args[0]);
}

#define ARRAY_CMP(fname, name, op)                                                  \
    static Value fname(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {      \
        ARGS_CHECK_METHOD(name, 1, 1);                                              \
        return array_richcmp(ts, args[0], args[1], op);                             \
    }
ARRAY_CMP(m___eq__, "__eq__", CMP_EQ)
ARRAY_CMP(m___ne__, "__ne__", CMP_NE)
ARRAY_CMP(m___lt__, "__lt__", CMP_LT)
ARRAY_CMP(m___le__, "__le__", CMP_LE)
ARRAY_CMP(m___gt__, "__gt__", CMP_GT)
ARRAY_CMP(m___ge__, "__ge__", CMP_GE)

static const NativeDef array_methods[] = {
    {"append", m_append},       {"extend", m_extend},         {"fromlist", m_fromlist},
    {"insert", m_insert},       {"pop", m_pop},               {"remove", m_remove},
    {"index", m_index},         {"count", m_count},           {"reverse", m_reverse},
    {"byteswap", m_byteswap},   {"tobytes", m_tobytes},       {"frombytes", m_frombytes},
    {"tolist", m_tolist},       {"tounicode", m_tounicode},   {"fromunicode", m_fromunicode},
    {"buffer_info", m_buffer_info}, {"__copy__", m_copy},     {"__len__", m_len},
    {"__getitem__", m_getitem}, {"__setitem__", m_setitem},   {"__delitem__", m_delitem},
    {"__add__", m_add},         {"__mul__", m_mul},           {"__rmul__", m_mul},
    {"__iadd__", m_iadd},       {"__imul__", m_imul},         {"__contains__", m_contains},
    {"__iter__", m_iter},       {"__eq__", m___eq__},         {"__ne__", m___ne__},
    {"__lt__", m___lt__},       {"__le__", m___le__},         {"__gt__", m___gt__},
    {"__ge__", m___ge__},
    {NULL, NULL},
};

static const GetSetDef array_getsets[] = {
    {"typecode", g_typecode, NULL},
    {"itemsize", g_itemsize, NULL},
    {NULL, NULL, NULL},
};

static const TypeSpec array_spec = {
    .name = "array",
    .kind = OBJ_ARRAY,
    .obj_size = array_obj_size,
    .flags = TYPEF_BASETYPE | TYPEF_SEQUENCE,
    .repr = array_repr,
    .richcmp = array_richcmp,
    .binop = array_binop,
    .inplace = array_inplace,
    .len = array_len,
    .getitem = array_getitem,
    .setitem = array_setitem,
    .contains = array_contains,
    .iter = array_iter,
    .new_ = array_new_slot,
    .trace = array_trace,
    .finalize = array_finalize,
    .getbuffer = array_getbuffer,
    .releasebuffer = array_releasebuffer,
    .methods = array_methods,
    .getsets = array_getsets,
};

bool mod_array_init(TState *ts, ObjDict *ns) {
    ObjStr *module = str_intern_cstr(ts, "array");
    ObjType *t = module ? type_from_spec(ts, &array_spec, NULL) : NULL;
    if (!t) return false;
    t->module = OBJ_VAL(module);
    ObjStr *codes = str_from_cstr(ts, typecodes);
    return codes && dict_set_str(ts, ns, t->name, OBJ_VAL(t)) == 0 &&
           dict_set_str(ts, ns, str_intern_cstr(ts, "ArrayType"), OBJ_VAL(t)) == 0 &&
           dict_set_str(ts, ns, str_intern_cstr(ts, "typecodes"), OBJ_VAL(codes)) == 0;
}
