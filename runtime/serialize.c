/* The binary serialization of values between processes; the format is
 * described in serialize.h (and ARCHITECTURE.md). */

#include "runtime/serialize.h"

#include <gmp.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/buffer.h"
#include "runtime/bytes.h"
#include "runtime/class.h"
#include "runtime/complex.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/gmpalloc.h"
#include "runtime/function.h"
#include "runtime/int.h"
#include "runtime/list.h"
#include "runtime/module.h"
#include "runtime/ops.h"
#include "runtime/set.h"
#include "runtime/shape.h"
#include "runtime/str.h"
#include "runtime/strbuf.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/vm.h"

#define SER_MAGIC 'm'
#define SER_VERSION 1
/* Nesting deeper than this raises RecursionError instead of overflowing
 * the C stack (a thread's stack is 16 MiB; a level takes a few hundred
 * bytes). */
#define SER_MAX_DEPTH 20000
/* What a value the format cannot hold is pickled with. */
#define SER_PICKLE_PROTOCOL 5

/* ---- writing ------------------------------------------------------------ */

/* Containers already written, by address: their memo numbers. */
typedef struct MemoMap {
    const Obj **keys;
    size_t *numbers;
    size_t cap; /* power of two, or 0 */
    size_t count;
} MemoMap;

typedef struct Dumper {
    TState *ts;
    StrBuf *out;
    MemoMap memo;
    int depth;
    int max_depth;
    bool unsupported; /* failed on a type the format has no tag for */
    ObjType *plain;   /* the last class own_pickling cleared: lists of like
                         instances look once */
} Dumper;

static size_t memo_slot(const MemoMap *m, const Obj *o) {
    size_t h = (size_t)((uintptr_t)o >> 4) * 0x9E3779B97F4A7C15u;
    size_t i = h & (m->cap - 1);
    while (m->keys[i] && m->keys[i] != o) i = (i + 1) & (m->cap - 1);
    return i;
}

/* The memo number of o, or -1 when o was not written yet. */
static int64_t memo_find(const MemoMap *m, const Obj *o) {
    if (!m->cap) return -1;
    size_t i = memo_slot(m, o);
    return m->keys[i] ? (int64_t)m->numbers[i] : -1;
}

static bool memo_add(MemoMap *m, const Obj *o) {
    if ((m->count + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        MemoMap grown = {calloc(cap, sizeof *grown.keys), calloc(cap, sizeof *grown.numbers), cap,
                         m->count};
        if (!grown.keys || !grown.numbers) {
            free(grown.keys);
            free(grown.numbers);
            return false;
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->keys[i]) continue;
            size_t j = memo_slot(&grown, m->keys[i]);
            grown.keys[j] = m->keys[i];
            grown.numbers[j] = m->numbers[i];
        }
        free(m->keys);
        free(m->numbers);
        *m = grown;
    }
    size_t i = memo_slot(m, o);
    m->keys[i] = o;
    m->numbers[i] = m->count++;
    return true;
}

static bool put_bytes(Dumper *d, const void *p, size_t n) {
    if (sb_append(d->out, p, n)) return true;
    err_no_memory(d->ts);
    return false;
}

static bool put_tag(Dumper *d, char tag) { return put_bytes(d, &tag, 1); }

static bool put_u64(Dumper *d, uint64_t v) {
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
    return put_bytes(d, b, 8);
}

static bool put_tagged_u64(Dumper *d, char tag, uint64_t v) { return put_tag(d, tag) && put_u64(d, v); }

static bool put_text(Dumper *d, const char *s, size_t n) { return put_u64(d, n) && put_bytes(d, s, n); }

static bool cannot(Dumper *d, Value v) {
    d->unsupported = true;
    err_format(d->ts, d->ts->interp->exc.TypeError, "cannot serialize '%s' object", ops_type_name(d->ts, v));
    return false;
}

/* The module a function or class can be imported from, and its qualified
 * name; false when it has none. */
static bool global_names(TState *ts, Value v, ObjStr **module, ObjStr **qualname) {
    if (IS_FUNCTION(v)) {
        ObjFunction *fn = AS_FUNCTION(v);
        if (!IS_STR(fn->module)) return false;
        *module = AS_STR(fn->module);
        *qualname = fn->qualname;
        return true;
    }
    if (IS_NATIVE(v)) {
        /* Only the built-in functions have a findable home. */
        if (AS_NATIVE(v)->owner) return false;
        *module = str_intern_cstr(ts, "builtins");
        *qualname = AS_NATIVE(v)->name;
        return *module != NULL;
    }
    ObjType *t = AS_TYPE(v);
    if (IS_STR(t->module)) {
        *module = AS_STR(t->module);
    } else {
        *module = str_intern_cstr(ts, "builtins");
        if (!*module) return false;
    }
    *qualname = class_qualname(t);
    return true;
}

/* Looks name up the way the receiver will (without running mini code):
 * EMPTY_VAL when it is not there. */
static Value find_attr(TState *ts, Value in, ObjStr *name) {
    if (IS_MODULE(in)) return dict_get_str(AS_MODULE(in)->dict, name);
    if (IS_TYPE(in)) return type_lookup(AS_TYPE(in), name);
    return EMPTY_VAL;
}

/* Does module.qualname lead back to v in this process (and so, after a
 * fork, in the receiver)? */
static bool resolves_to(TState *ts, Value v, ObjStr *module, ObjStr *qualname) {
    Interp *interp = ts->interp;
    bool builtins = strcmp(module->data, "builtins") == 0;
    Value at = builtins ? EMPTY_VAL : dict_get_str(interp->modules, module);
    if (!builtins && !IS_MODULE(at)) return false;
    const char *p = qualname->data;
    for (bool first = true;; first = false) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        ObjStr *part = str_intern(ts, p, n);
        if (!part) {
            err_clear(ts);
            return false;
        }
        at = first && builtins ? dict_get_str(interp->builtins, part) : find_attr(ts, at, part);
        if (IS_EMPTY(at)) return false;
        if (!dot) return at == v;
        p = dot + 1;
    }
}

/* Writes the function or class v by name. `sent` is the value being
 * serialized, for the error message: v itself, or an instance of class v. */
static bool dump_global(Dumper *d, char tag, Value v, Value sent) {
    ObjStr *module, *qualname;
    bool named = global_names(d->ts, v, &module, &qualname);
    if (named && resolves_to(d->ts, v, module, qualname))
        return put_tag(d, tag) && put_text(d, module->data, module->len) &&
               put_text(d, qualname->data, qualname->len);
    if (!named || IS_NATIVE(v)) return cannot(d, sent);
    err_format(d->ts, d->ts->interp->exc.TypeError,
               "cannot serialize '%s' object: %s is not reachable by name from module %s",
               ops_type_name(d->ts, sent), qualname->data, module->data);
    return false;
}

static bool dump_value(Dumper *d, Value v);

static bool dump_items(Dumper *d, const Value *items, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!dump_value(d, items[i])) return false;
    return true;
}

static bool dump_bigint(Dumper *d, Value v) {
    mpz_t z;
    mp_limb_t tmp[2];
    int_as_mpz(v, z, tmp);
    /* Our own buffer: GMP's would have to be freed through GMP. */
    size_t n = (mpz_sizeinbase(z, 2) + 7) / 8;
    unsigned char *mag = malloc(n);
    if (!mag) {
        err_no_memory(d->ts);
        return false;
    }
    mpz_export(mag, &n, -1, 1, 0, 0, z);
    bool ok = put_tag(d, 'I') && put_bytes(d, &(unsigned char){mpz_sgn(z) < 0}, 1) && put_u64(d, n) &&
              put_bytes(d, mag, n);
    free(mag);
    return ok;
}

/* A list's, set's or dict's items copied out, so that the count written
 * first matches the items written after it even if GIL-off threads change
 * the container meanwhile. (No mini code runs while dumping, so no
 * collection can free what the copy points to.) */
static bool dump_list(Dumper *d, ObjList *l) {
    size_t n;
    Value *items = list_snapshot(d->ts, l, &n);
    if (!items && n) return false;
    bool ok = put_tagged_u64(d, 'l', n) && dump_items(d, items, n);
    gc_free_buffer(items, n * sizeof(Value));
    return ok;
}

static bool dump_set(Dumper *d, ObjSet *s, char tag) {
    size_t cap = set_len(s) + 8, n = 0, pos = 0;
    Value *items = malloc(cap * sizeof *items);
    if (!items) {
        err_no_memory(d->ts);
        return false;
    }
    Value key;
    int64_t hash;
    while (n < cap && set_next(s, &pos, &key, &hash)) items[n++] = key;
    bool ok = put_tagged_u64(d, tag, n) && dump_items(d, items, n);
    free(items);
    return ok;
}

static bool dump_dict(Dumper *d, ObjDict *dict) {
    size_t cap = 2 * (dict_len(dict) + 8), n = 0, pos = 0;
    Value *items = malloc(cap * sizeof *items);
    if (!items) {
        err_no_memory(d->ts);
        return false;
    }
    Value key, value;
    while (n + 2 <= cap && dict_next(dict, &pos, &key, &value)) {
        items[n++] = key;
        items[n++] = value;
    }
    bool ok = put_tagged_u64(d, 'd', n / 2) && dump_items(d, items, n);
    free(items);
    return ok;
}

static bool dump_exception(Dumper *d, Value v) {
    ObjException *e = AS_EXCEPTION(v);
    if (!dump_global(d, 'e', OBJ_VAL(e->obj.type), v)) return false;
    if (IS_TUPLE(e->args)) return dump_value(d, e->args);
    return put_tagged_u64(d, 't', 0);
}

/* Memoized containers: a back-reference when already written. 1 written
 * as a reference, 0 registered (write it now), -1 after raising. */
static int memo_container(Dumper *d, Value v) {
    int64_t number = memo_find(&d->memo, AS_OBJ(v));
    if (number >= 0) return put_tagged_u64(d, 'r', (uint64_t)number) ? 1 : -1;
    if (!memo_add(&d->memo, AS_OBJ(v))) {
        err_no_memory(d->ts);
        return -1;
    }
    return 0;
}

/* Does the class define (or inherit from a class of its own) one of the
 * methods pickle would use instead of its attribute dict? */
static bool own_pickling(Dumper *d, ObjType *type) {
    if (type == d->plain) return false;
    Interp *interp = d->ts->interp;
    ObjStr *const names[] = {interp->names.reduce_ex,     interp->names.reduce,     interp->names.getstate,
                             interp->names.getnewargs_ex, interp->names.getnewargs, interp->names.setstate};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        Value m = type_lookup(type, names[i]);
        if (!IS_EMPTY(m) && m != type_lookup(interp->types.object, names[i])) return true;
    }
    d->plain = type;
    return false;
}

/* An instance of a plain user class travels as pickle's default does: its
 * class by name, then its attributes; the receiver makes the instance
 * without calling __init__. */
static bool dump_instance(Dumper *d, Value v) {
    ObjType *type = OBJ_TYPE(v);
    /* The format carries an instance's dict, not its __slots__ values,
     * and knows nothing of a class's own pickling methods: those go to
     * pickle (serialize_dump). */
    if (!(type->flags & TYPEF_HEAPTYPE) || type->nslots || own_pickling(d, type)) return cannot(d, v);
    int m = memo_container(d, v);
    if (m != 0) return m == 1;
    ObjDict *attrs = shape_dict(d->ts, AS_INSTANCE(v));
    if (!attrs) return false;
    if (!dump_global(d, 'o', OBJ_VAL(type), v)) return false;
    return dump_value(d, OBJ_VAL(attrs));
}

static bool dump_object(Dumper *d, Value v) {
    Interp *interp = d->ts->interp;
    ObjType *type = OBJ_TYPE(v);
    BuiltinTypes *types = &interp->types;
    switch (OBJ_KIND(v)) {
    case OBJ_COMPLEX: {
        if (type != types->complex) return cannot(d, v);
        uint64_t re, im;
        memcpy(&re, &AS_COMPLEX(v)->real, sizeof re);
        memcpy(&im, &AS_COMPLEX(v)->imag, sizeof im);
        return put_tagged_u64(d, 'c', re) && put_u64(d, im);
    }
    case OBJ_STR:
        if (type != types->str) return cannot(d, v);
        return put_tag(d, 's') && put_text(d, AS_STR(v)->data, AS_STR(v)->len);
    case OBJ_BYTES:
        if (type != types->bytes) return cannot(d, v);
        return put_tag(d, 'b') && put_text(d, AS_BYTES(v)->data, AS_BYTES(v)->len);
    case OBJ_BYTEARRAY: {
        if (type != types->bytearray) return cannot(d, v);
        Buffer b;
        if (!buffer_get(d->ts, v, &b, BUF_READ)) return false;
        bool ok = put_tag(d, 'B') && put_text(d, b.buf, b.len);
        buffer_release(d->ts, &b);
        return ok;
    }
    case OBJ_INT: {
        if (type != types->int_) return cannot(d, v);
        int64_t i;
        if (int_to_i64(v, &i)) return put_tagged_u64(d, 'i', (uint64_t)i);
        return dump_bigint(d, v);
    }
    case OBJ_TUPLE:
        if (type != types->tuple) return cannot(d, v);
        return put_tagged_u64(d, 't', AS_TUPLE(v)->len) &&
               dump_items(d, AS_TUPLE(v)->items, AS_TUPLE(v)->len);
    case OBJ_LIST: {
        if (type != types->list) return cannot(d, v);
        int m = memo_container(d, v);
        return m < 0 ? false : m == 1 ? true : dump_list(d, AS_LIST(v));
    }
    case OBJ_DICT: {
        if (type != types->dict) return cannot(d, v);
        int m = memo_container(d, v);
        return m < 0 ? false : m == 1 ? true : dump_dict(d, AS_DICT(v));
    }
    case OBJ_SET: {
        if (type == types->frozenset) return dump_set(d, AS_SET(v), 'z');
        if (type != types->set) return cannot(d, v);
        int m = memo_container(d, v);
        return m < 0 ? false : m == 1 ? true : dump_set(d, AS_SET(v), 'S');
    }
    case OBJ_FUNCTION:
    case OBJ_NATIVE:
    case OBJ_TYPE:
        return dump_global(d, 'g', v, v);
    case OBJ_EXCEPTION:
        return dump_exception(d, v);
    case OBJ_INSTANCE:
        return dump_instance(d, v);
    default:
        return cannot(d, v);
    }
}

static bool dump_value(Dumper *d, Value v) {
    if (IS_NONE(v)) return put_tag(d, 'N');
    if (IS_BOOL(v)) return put_tag(d, AS_BOOL(v) ? 'T' : 'F');
    if (IS_INT(v)) return put_tagged_u64(d, 'i', (uint64_t)AS_INT(v));
    if (IS_FLOAT(v)) return put_tagged_u64(d, 'f', v);
    if (!IS_OBJ(v)) return cannot(d, v);
    if (++d->depth > d->max_depth) {
        err_format(d->ts, d->ts->interp->exc.RecursionError,
                   "maximum recursion depth exceeded while serializing an object");
        return false;
    }
    bool ok = dump_object(d, v);
    d->depth--;
    return ok;
}

bool serialize_dump(TState *ts, Value v, StrBuf *out) {
    int limit = atomic_load(&ts->interp->recursion_limit);
    Dumper d = {.ts = ts, .out = out, .max_depth = limit < SER_MAX_DEPTH ? limit : SER_MAX_DEPTH};
    const char header[2] = {SER_MAGIC, SER_VERSION};
    size_t start = out->len;
    bool ok = put_bytes(&d, header, 2) && dump_value(&d, v);
    free(d.memo.keys);
    free(d.memo.numbers);
    if (ok || !d.unsupported) return ok;
    /* A type the format has no tag for: the value travels as a pickle
     * when pickle can take it, else the format's own error stands. */
    Value why = err_fetch(ts);
    vm_push(ts, why);
    Value args[2] = {v, INT_VAL(SER_PICKLE_PROTOCOL)};
    Value pickled = module_call(ts, "pickle", "dumps", args, 2);
    vm_pop(ts);
    if (IS_ERROR(pickled) || !IS_KIND(pickled, OBJ_BYTES)) {
        err_clear(ts);
        err_restore(ts, why);
        return false;
    }
    out->len = start;
    ObjBytes *b = AS_BYTES(pickled);
    return put_bytes(&d, header, 2) && put_tag(&d, 'P') && put_text(&d, b->data, b->len);
}

/* ---- reading ------------------------------------------------------------ */

typedef struct Loader {
    TState *ts;
    const unsigned char *p;
    const unsigned char *end;
    ObjList *memo; /* rooted on the VM stack while loading */
    int depth;
} Loader;

static Value malformed(Loader *l) {
    return err_format(l->ts, l->ts->interp->exc.ValueError, "malformed serialized data");
}

static bool get_u64(Loader *l, uint64_t *out) {
    if (l->end - l->p < 8) {
        malformed(l);
        return false;
    }
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)l->p[i] << (8 * i);
    l->p += 8;
    *out = v;
    return true;
}

/* A count of items that each take at least one byte: bounded by what is
 * left, so a corrupt count cannot make us allocate gigabytes. */
static bool get_count(Loader *l, uint64_t *out) {
    if (!get_u64(l, out)) return false;
    if (*out > (uint64_t)(l->end - l->p)) {
        malformed(l);
        return false;
    }
    return true;
}

static bool get_text(Loader *l, const char **s, size_t *n) {
    uint64_t len;
    if (!get_count(l, &len)) return false;
    *s = (const char *)l->p;
    *n = (size_t)len;
    l->p += len;
    return true;
}

static Value load_value(Loader *l);

/* Imports `module` and follows the dotted qualname in it. */
static Value resolve_global(Loader *l) {
    TState *ts = l->ts;
    Interp *interp = ts->interp;
    const char *mod, *qual;
    size_t mod_len, qual_len;
    if (!get_text(l, &mod, &mod_len) || !get_text(l, &qual, &qual_len)) return ERROR_VAL;
    bool builtins = mod_len == 8 && memcmp(mod, "builtins", 8) == 0;
    Value at = EMPTY_VAL;
    if (!builtins) {
        ObjStr *name = str_intern(ts, mod, mod_len);
        if (!name) return ERROR_VAL;
        at = dict_get_str(interp->modules, name);
        if (IS_EMPTY(at)) {
            Value top = module_import(ts, name, NONE_VAL, 0, interp->builtins);
            if (IS_ERROR(top)) return top;
            at = dict_get_str(interp->modules, name);
            if (IS_EMPTY(at)) return err_format(ts, interp->exc.ImportError, "No module named '%s'", name->data);
        }
    }
    const char *p = qual, *end = qual + qual_len;
    for (bool first = true;; first = false) {
        const char *dot = memchr(p, '.', (size_t)(end - p));
        size_t n = dot ? (size_t)(dot - p) : (size_t)(end - p);
        ObjStr *part = str_intern(ts, p, n);
        if (!part) return ERROR_VAL;
        if (first && builtins) {
            at = dict_get_str(interp->builtins, part);
            if (IS_EMPTY(at))
                return err_format(ts, interp->exc.AttributeError,
                                  "module 'builtins' has no attribute '%s'", part->data);
        } else {
            vm_push(ts, at);
            at = ops_getattr(ts, at, part);
            vm_pop(ts);
            if (IS_ERROR(at)) return at;
        }
        if (!dot) return at;
        p = dot + 1;
    }
}

static Value load_exception(Loader *l) {
    TState *ts = l->ts;
    Value type = resolve_global(l);
    if (IS_ERROR(type)) return type;
    if (!IS_TYPE(type) || !(AS_TYPE(type)->flags & TYPEF_EXCEPTION)) return malformed(l);
    vm_push(ts, type);
    Value args = load_value(l);
    vm_pop(ts);
    if (IS_ERROR(args)) return args;
    if (!IS_TUPLE(args)) return malformed(l);
    return exc_new(ts, AS_TYPE(type), AS_TUPLE(args)->items, (int)AS_TUPLE(args)->len);
}

static Value load_str(Loader *l) {
    const char *s;
    size_t n;
    if (!get_text(l, &s, &n)) return ERROR_VAL;
    if (!str_utf8_valid(s, n)) return malformed(l);
    ObjStr *str = str_new(l->ts, s, n);
    return str ? OBJ_VAL(str) : ERROR_VAL;
}

static Value load_bigint(Loader *l) {
    if (l->p >= l->end) return malformed(l);
    bool negative = *l->p++ != 0;
    uint64_t n;
    if (!get_count(l, &n)) return ERROR_VAL;
    mpz_t z;
    mpz_init(z);
    GmpGuard g;
    gmpalloc_begin(&g);
    if (setjmp(g.env)) return err_no_memory(l->ts);
    mpz_import(z, (size_t)n, -1, 1, 0, 0, l->p);
    gmpalloc_end(&g);
    l->p += n;
    if (negative) mpz_neg(z, z);
    Value v = int_from_mpz(l->ts, z);
    mpz_clear(z);
    return v;
}

static bool remember(Loader *l, Value container) {
    return list_append(l->ts, l->memo, container) == 0;
}

static Value load_instance(Loader *l) {
    TState *ts = l->ts;
    Value type = resolve_global(l);
    if (IS_ERROR(type)) return type;
    if (!IS_TYPE(type) || !(AS_TYPE(type)->flags & TYPEF_HEAPTYPE) ||
        AS_TYPE(type)->instance_kind != OBJ_INSTANCE)
        return malformed(l);
    vm_push(ts, type);
    ObjInstance *inst = class_instance_alloc(ts, AS_TYPE(type));
    vm_pop(ts);
    if (!inst) return ERROR_VAL;
    if (!remember(l, OBJ_VAL(inst))) return ERROR_VAL;
    Value attrs = load_value(l);
    if (IS_ERROR(attrs)) return attrs;
    if (!IS_DICT(attrs)) return malformed(l);
    shape_set_dict(ts, inst, AS_DICT(attrs));
    return OBJ_VAL(inst);
}

static Value load_tuple(Loader *l) {
    uint64_t n;
    if (!get_count(l, &n)) return ERROR_VAL;
    ObjTuple *t = tuple_new(l->ts, (size_t)n);
    if (!t) return ERROR_VAL;
    vm_push(l->ts, OBJ_VAL(t));
    Value r = OBJ_VAL(t);
    for (uint64_t i = 0; i < n; i++) {
        Value item = load_value(l);
        if (IS_ERROR(item)) {
            r = item;
            break;
        }
        t->items[i] = item;
    }
    vm_pop(l->ts);
    return r;
}

static Value load_list(Loader *l) {
    uint64_t n;
    if (!get_count(l, &n)) return ERROR_VAL;
    ObjList *list = list_new(l->ts, (size_t)n);
    if (!list || !remember(l, OBJ_VAL(list))) return ERROR_VAL;
    for (uint64_t i = 0; i < n; i++) {
        Value item = load_value(l);
        if (IS_ERROR(item) || list_append(l->ts, list, item) < 0) return ERROR_VAL;
    }
    return OBJ_VAL(list);
}

static Value load_dict(Loader *l) {
    uint64_t n;
    if (!get_count(l, &n)) return ERROR_VAL;
    ObjDict *d = dict_new(l->ts);
    if (!d || !remember(l, OBJ_VAL(d))) return ERROR_VAL;
    for (uint64_t i = 0; i < n; i++) {
        Value key = load_value(l);
        if (IS_ERROR(key)) return key;
        vm_push(l->ts, key);
        Value value = load_value(l);
        vm_pop(l->ts);
        if (IS_ERROR(value) || dict_set(l->ts, d, key, value) < 0) return ERROR_VAL;
    }
    return OBJ_VAL(d);
}

static Value load_set(Loader *l, bool frozen) {
    uint64_t n;
    if (!get_count(l, &n)) return ERROR_VAL;
    Interp *interp = l->ts->interp;
    ObjSet *s = set_new(l->ts, frozen ? interp->types.frozenset : interp->types.set);
    if (!s) return ERROR_VAL;
    /* A frozenset is not memoized but must stay rooted while filled. */
    if (frozen) vm_push(l->ts, OBJ_VAL(s));
    else if (!remember(l, OBJ_VAL(s))) return ERROR_VAL;
    Value r = OBJ_VAL(s);
    for (uint64_t i = 0; i < n; i++) {
        Value item = load_value(l);
        if (IS_ERROR(item) || set_add(l->ts, s, item) < 0) {
            r = ERROR_VAL;
            break;
        }
    }
    if (frozen) vm_pop(l->ts);
    return r;
}

static Value load_tagged(Loader *l, unsigned char tag) {
    uint64_t u;
    switch (tag) {
    case 'N': return NONE_VAL;
    case 'T': return TRUE_VAL;
    case 'F': return FALSE_VAL;
    case 'i': return get_u64(l, &u) ? int_from_i64(l->ts, (int64_t)u) : ERROR_VAL;
    case 'I': return load_bigint(l);
    case 'f':
        if (!get_u64(l, &u)) return ERROR_VAL;
        double f;
        memcpy(&f, &u, sizeof f);
        return FLOAT_VAL(f);
    case 'c': {
        uint64_t im;
        if (!get_u64(l, &u) || !get_u64(l, &im)) return ERROR_VAL;
        double re_d, im_d;
        memcpy(&re_d, &u, sizeof re_d);
        memcpy(&im_d, &im, sizeof im_d);
        return complex_new_value(l->ts, re_d, im_d);
    }
    case 's': return load_str(l);
    case 'b':
    case 'B': {
        const char *p;
        size_t n;
        if (!get_text(l, &p, &n)) return ERROR_VAL;
        Obj *o = tag == 'b' ? (Obj *)bytes_new(l->ts, p, n) : (Obj *)bytearray_new(l->ts, p, n);
        return o ? OBJ_VAL(o) : ERROR_VAL;
    }
    case 't': return load_tuple(l);
    case 'l': return load_list(l);
    case 'd': return load_dict(l);
    case 'S': return load_set(l, false);
    case 'z': return load_set(l, true);
    case 'g': return resolve_global(l);
    case 'e': return load_exception(l);
    case 'o': return load_instance(l);
    case 'r': {
        if (!get_u64(l, &u)) return ERROR_VAL;
        Value v = u < list_len(l->memo) ? list_get(l->memo, (size_t)u) : EMPTY_VAL;
        return IS_EMPTY(v) ? malformed(l) : v;
    }
    default: return malformed(l);
    }
}

static Value load_value(Loader *l) {
    if (l->p >= l->end) return malformed(l);
    if (++l->depth > SER_MAX_DEPTH)
        return err_format(l->ts, l->ts->interp->exc.RecursionError,
                          "maximum recursion depth exceeded while loading serialized data");
    Value v = load_tagged(l, *l->p++);
    l->depth--;
    return v;
}

Value serialize_load(TState *ts, const char *data, size_t len) {
    Loader l = {.ts = ts, .p = (const unsigned char *)data, .end = (const unsigned char *)data + len};
    if (len < 2 || data[0] != SER_MAGIC || data[1] != SER_VERSION) return malformed(&l);
    l.p += 2;
    if (l.p < l.end && *l.p == 'P') {
        l.p++;
        uint64_t n;
        if (!get_u64(&l, &n) || n != (uint64_t)(l.end - l.p)) return malformed(&l);
        ObjBytes *b = bytes_new(ts, (const char *)l.p, n);
        if (!b) return ERROR_VAL;
        vm_push(ts, OBJ_VAL(b));
        Value arg = OBJ_VAL(b);
        Value v = module_call(ts, "pickle", "loads", &arg, 1);
        vm_pop(ts);
        return v;
    }
    l.memo = list_new(ts, 0);
    if (!l.memo) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(l.memo));
    Value v = load_value(&l);
    vm_pop(ts);
    if (!IS_ERROR(v) && l.p != l.end) return malformed(&l);
    return v;
}
