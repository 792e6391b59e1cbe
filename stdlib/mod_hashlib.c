/* hashlib's C half, _hashlib: message digests on OpenSSL's libcrypto (md5,
 * sha1, the sha2 and sha3 families, shake) and BLAKE2 on libb2, which
 * takes every parameter of CPython's blake2b/blake2s (OpenSSL 3.0's BLAKE2
 * has a fixed digest size and no key). Also pbkdf2_hmac, scrypt and
 * compare_digest.
 *
 * The GIL. As CPython, a hash object releases the GIL while it digests a
 * buffer of MINI_HASH_GIL_MIN_BYTES or more, so threads hashing large
 * buffers run in parallel with the GIL on; each object has a mutex, so two
 * threads updating the same object take turns (with the GIL on or off),
 * and a long view (BUF_EXPORT) keeps a bytearray from resizing meanwhile. */

#include <blake2.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runtime/args.h"
#include "runtime/buffer.h"
#include "runtime/bytes.h"
#include "runtime/class.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/int.h"
#include "runtime/list.h"
#include "runtime/module.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "stdlib/builtins.h"
#include "stdlib/modules.h"
#include "vm/config.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/sync.h"
#include "vm/thread.h"
#include "vm/vm.h"

typedef enum HashKind { HASH_EVP, HASH_BLAKE2B, HASH_BLAKE2S } HashKind;

/* Python's name of each OpenSSL digest hashlib offers, and OpenSSL's. */
typedef struct EvpName {
    const char *python, *openssl;
} EvpName;

static const EvpName evp_names[] = {
    {"md5", "MD5"},           {"sha1", "SHA1"},           {"sha224", "SHA224"},     {"sha256", "SHA256"},
    {"sha384", "SHA384"},     {"sha512", "SHA512"},       {"sha512_224", "SHA512-224"},
    {"sha512_256", "SHA512-256"}, {"sha3_224", "SHA3-224"}, {"sha3_256", "SHA3-256"}, {"sha3_384", "SHA3-384"},
    {"sha3_512", "SHA3-512"}, {"shake_128", "SHAKE128"},  {"shake_256", "SHAKE256"}, {"md5-sha1", "MD5-SHA1"},
    {"sm3", "SM3"},
};

typedef struct ObjHash {
    Obj obj;
    pthread_mutex_t mutex; /* one update, digest or copy at a time */
    HashKind kind;
    const char *name;      /* Python's name: static storage */
    union {
        EVP_MD_CTX *evp;
        blake2b_state b2b;
        blake2s_state b2s;
    } u;
    size_t digest_size;    /* BLAKE2: the requested size */
} ObjHash;

#define AS_HASH(v) ((ObjHash *)AS_OBJ(v))

static void hash_finalize(Obj *self) {
    ObjHash *h = (ObjHash *)self;
    pthread_mutex_destroy(&h->mutex);
    if (h->kind == HASH_EVP) EVP_MD_CTX_free(h->u.evp);
}

/* A parent thread may have held the mutex at the fork. */
static void hash_after_fork(Obj *self) { PT_CHECK(pthread_mutex_init(&((ObjHash *)self)->mutex, NULL)); }

static ObjHash *hash_alloc(TState *ts, ObjType *type, HashKind kind, const char *name) {
    if (!type) return NULL;
    ObjHash *h = (ObjHash *)gc_alloc(ts, sizeof(ObjHash), OBJ_OPAQUE, type);
    if (!h) return NULL;
    PT_CHECK(pthread_mutex_init(&h->mutex, NULL));
    h->kind = kind;
    h->name = name;
    h->u.evp = NULL;
    h->digest_size = 0;
    if (kind == HASH_EVP && !(h->u.evp = EVP_MD_CTX_new())) {
        err_no_memory(ts);
        return NULL;
    }
    return h;
}

static bool is_xof(const ObjHash *h) {
    return h->kind == HASH_EVP && (EVP_MD_get_flags(EVP_MD_CTX_get0_md(h->u.evp)) & EVP_MD_FLAG_XOF);
}

/* Feeds p[0..n) to the object; its mutex held. */
static void hash_feed(ObjHash *h, const char *p, size_t n) {
    switch (h->kind) {
    case HASH_EVP: EVP_DigestUpdate(h->u.evp, p, n); break;
    case HASH_BLAKE2B: blake2b_update(&h->u.b2b, (const uint8_t *)p, n); break;
    case HASH_BLAKE2S: blake2s_update(&h->u.b2s, (const uint8_t *)p, n); break;
    }
}

/* The buffer of a bytes-like argument, with CPython's TypeErrors for str
 * and other objects. flags: BUF_READ, or BUF_EXPORT for a view that stays
 * valid while the GIL is released. */
static bool data_buffer(TState *ts, Value v, Buffer *view, int flags) {
    if (IS_STR(v)) {
        err_set_str(ts, ts->interp->exc.TypeError, "Strings must be encoded before hashing");
        return false;
    }
    if (!buffer_check(ts, v)) {
        err_set_str(ts, ts->interp->exc.TypeError, "object supporting the buffer API required");
        return false;
    }
    return buffer_get(ts, v, view, flags);
}

/* Hashes a bytes-like value into h: without the GIL for large buffers. */
static bool hash_update_value(TState *ts, ObjHash *h, Value data) {
    Buffer view;
    if (!data_buffer(ts, data, &view, BUF_READ)) return false;
    if (view.len < MINI_HASH_GIL_MIN_BYTES) {
        thread_lock_mutex(ts, &h->mutex);
        hash_feed(h, view.buf, view.len);
        MUTEX_UNLOCK(&h->mutex);
        buffer_release(ts, &view);
        return true;
    }
    /* A long view: its pointers stay valid (no resize) with the GIL
     * released. */
    buffer_release(ts, &view);
    if (!data_buffer(ts, data, &view, BUF_EXPORT)) return false;
    thread_detach_to_compute(ts);
    MUTEX_LOCK(&h->mutex);
    hash_feed(h, view.buf, view.len);
    MUTEX_UNLOCK(&h->mutex);
    thread_attach(ts);
    buffer_release(ts, &view);
    return true;
}

/* The digest so far (the object can go on being updated): length bytes
 * for a shake, else the digest size. NULL after raising. */
static ObjBytes *hash_digest_bytes(TState *ts, ObjHash *h, size_t length) {
    unsigned char fixed[EVP_MAX_MD_SIZE];
    unsigned char *out = fixed;
    bool xof = is_xof(h);
    if (xof && length > sizeof fixed && !(out = malloc(length))) {
        err_no_memory(ts);
        return NULL;
    }
    bool ok = true;
    size_t n = length;
    thread_lock_mutex(ts, &h->mutex);
    switch (h->kind) {
    case HASH_EVP: {
        EVP_MD_CTX *tmp = EVP_MD_CTX_new();
        unsigned int got = 0;
        ok = tmp && EVP_MD_CTX_copy_ex(tmp, h->u.evp) &&
             (xof ? EVP_DigestFinalXOF(tmp, out, length) : EVP_DigestFinal_ex(tmp, out, &got));
        if (!xof) n = got;
        EVP_MD_CTX_free(tmp);
        break;
    }
    case HASH_BLAKE2B: {
        blake2b_state tmp = h->u.b2b;
        n = h->digest_size;
        blake2b_final(&tmp, out, n);
        break;
    }
    case HASH_BLAKE2S: {
        blake2s_state tmp = h->u.b2s;
        n = h->digest_size;
        blake2s_final(&tmp, out, n);
        break;
    }
    }
    MUTEX_UNLOCK(&h->mutex);
    ObjBytes *b = NULL;
    if (!ok) err_set_str(ts, ts->interp->exc.ValueError, "the digest could not be computed (OpenSSL failed)");
    else b = bytes_new(ts, (const char *)out, n);
    if (out != fixed) free(out);
    return b;
}

/* digest() / hexdigest(), and a shake's digest(length) / hexdigest(length). */
static bool digest_length(TState *ts, const char *fname, Value *args, int nargs, ObjTuple *kwnames,
                          size_t *length) {
    ObjHash *h = AS_HASH(args[0]);
    *length = 0;
    if (!is_xof(h)) return args_check(ts, fname, nargs - 1, kwnames, 0, 0);
    static const char *const names[] = {"$self", "length"};
    Value v[2];
    if (!args_bind(ts, fname, args, nargs, kwnames, names, 2, 2, 2, v)) return false;
    int64_t n;
    if (!args_int(ts, v[1], &n)) return false;
    /* CPython asks its allocator for a negative size: MemoryError. */
    if (n < 0) {
        err_no_memory(ts);
        return false;
    }
    if ((uint64_t)n > (uint64_t)1 << 29) {
        err_set_str(ts, ts->interp->exc.ValueError, "digest length is too large");
        return false;
    }
    *length = (size_t)n;
    return true;
}

static Value hash_digest(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    size_t length;
    if (!digest_length(ts, "digest", args, nargs, kwnames, &length)) return ERROR_VAL;
    ObjBytes *b = hash_digest_bytes(ts, AS_HASH(args[0]), length);
    return b ? OBJ_VAL(b) : ERROR_VAL;
}

static Value hash_hexdigest(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    size_t length;
    if (!digest_length(ts, "hexdigest", args, nargs, kwnames, &length)) return ERROR_VAL;
    ObjBytes *b = hash_digest_bytes(ts, AS_HASH(args[0]), length);
    if (!b) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(b));
    Value r = bytes_hex(ts, b->data, b->len, NULL, 0, NULL);
    vm_pop(ts);
    return r;
}

static Value hash_update(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("update", 1, 1);
    return hash_update_value(ts, AS_HASH(args[0]), args[1]) ? NONE_VAL : ERROR_VAL;
}

static Value hash_copy(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("copy", 0, 0);
    ObjHash *h = AS_HASH(args[0]);
    ObjHash *c = hash_alloc(ts, OBJ_TYPE(args[0]), h->kind, h->name);
    if (!c) return ERROR_VAL;
    c->digest_size = h->digest_size;
    thread_lock_mutex(ts, &h->mutex);
    bool ok = true;
    switch (h->kind) {
    case HASH_EVP: ok = EVP_MD_CTX_copy_ex(c->u.evp, h->u.evp); break;
    case HASH_BLAKE2B: c->u.b2b = h->u.b2b; break;
    case HASH_BLAKE2S: c->u.b2s = h->u.b2s; break;
    }
    MUTEX_UNLOCK(&h->mutex);
    if (!ok) return err_no_memory(ts);
    return OBJ_VAL(c);
}

static Value hash_get_name(TState *ts, Value self) {
    ObjStr *s = str_from_cstr(ts, AS_HASH(self)->name);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static Value hash_get_digest_size(TState *ts, Value self) {
    (void)ts;
    ObjHash *h = AS_HASH(self);
    if (h->kind != HASH_EVP) return INT_VAL((int64_t)h->digest_size);
    return INT_VAL(is_xof(h) ? 0 : EVP_MD_get_size(EVP_MD_CTX_get0_md(h->u.evp)));
}

static Value hash_get_block_size(TState *ts, Value self) {
    (void)ts;
    ObjHash *h = AS_HASH(self);
    switch (h->kind) {
    case HASH_BLAKE2B: return INT_VAL(BLAKE2B_BLOCKBYTES);
    case HASH_BLAKE2S: return INT_VAL(BLAKE2S_BLOCKBYTES);
    default: return INT_VAL(EVP_MD_get_block_size(EVP_MD_CTX_get0_md(h->u.evp)));
    }
}

static Value hash_repr(TState *ts, Value self) {
    ObjHash *h = AS_HASH(self);
    ObjStr *s = h->kind == HASH_EVP
                    ? str_printf(ts, "<%s _hashlib.%s object @ %p>", h->name, OBJ_TYPE(self)->name->data, (void *)h)
                    : str_printf(ts, "<_blake2.%s object at %p>", OBJ_TYPE(self)->name->data, (void *)h);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static const NativeDef hash_methods[] = {
    {"update", hash_update},
    {"digest", hash_digest},
    {"hexdigest", hash_hexdigest},
    {"copy", hash_copy},
    {NULL, NULL},
};

static const GetSetDef hash_getsets[] = {
    {"name", hash_get_name, NULL},
    {"digest_size", hash_get_digest_size, NULL},
    {"block_size", hash_get_block_size, NULL},
    {NULL, NULL, NULL},
};

/* ---- OpenSSL digests: new(name, data=b'') ------------------------------ */

static const EvpName *evp_lookup(const char *name) {
    char lower[32];
    size_t n = strlen(name);
    if (n >= sizeof lower) return NULL;
    for (size_t i = 0; i <= n; i++) lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    for (size_t i = 0; i < sizeof evp_names / sizeof evp_names[0]; i++)
        if (strcmp(lower, evp_names[i].python) == 0 || strcasecmp(name, evp_names[i].openssl) == 0)
            return &evp_names[i];
    return NULL;
}

/* The OpenSSL digest for a Python name, or NULL after raising CPython's
 * ValueError. EVP_get_digestbyname returns a static object: nothing to
 * free. */
static const EVP_MD *evp_digest(TState *ts, Value name, const EvpName **entry) {
    ObjStr *s;
    if (!args_str(ts, name, "new", &s)) return NULL;
    const EvpName *e = evp_lookup(s->data);
    const EVP_MD *md = e ? EVP_get_digestbyname(e->openssl) : NULL;
    if (!md) {
        err_format(ts, ts->interp->exc.ValueError, "unsupported hash type %s", s->data);
        return NULL;
    }
    if (entry) *entry = e;
    return md;
}

static Value hash_new(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"name", "string", "usedforsecurity", "data"};
    Value v[4];
    if (!args_bind(ts, "new", args, nargs, kwnames, names, 4, 1, 2, v)) return ERROR_VAL;
    if (!IS_EMPTY(v[1]) && !IS_EMPTY(v[3]))
        return err_set_str(ts, ts->interp->exc.TypeError, "'data' and 'string' are mutually exclusive and support for "
                                                   "'string' keyword parameter is slated for removal in a future "
                                                   "version.");
    Value data = IS_EMPTY(v[1]) ? v[3] : v[1];
    const EvpName *e;
    const EVP_MD *md = evp_digest(ts, v[0], &e);
    if (!md) return ERROR_VAL;
    bool xof = EVP_MD_get_flags(md) & EVP_MD_FLAG_XOF;
    ObjHash *h = hash_alloc(ts, module_type(ts, "_hashlib", xof ? "HASHXOF" : "HASH"), HASH_EVP, e->python);
    if (!h) return ERROR_VAL;
    if (!EVP_DigestInit_ex(h->u.evp, md, NULL)) return err_set_str(ts, ts->interp->exc.ValueError, "unsupported hash type");
    if (!IS_EMPTY(data) && !IS_NONE(data)) {
        vm_push(ts, OBJ_VAL(h));
        bool ok = hash_update_value(ts, h, data);
        vm_pop(ts);
        if (!ok) return ERROR_VAL;
    }
    return OBJ_VAL(h);
}

/* ---- BLAKE2: blake2b(data=b'', *, digest_size=64, key=b'', ...) -------- */

typedef struct Blake2Limits {
    const char *name;
    size_t out, key, salt, person;
} Blake2Limits;

static const Blake2Limits blake2b_limits = {"blake2b", BLAKE2B_OUTBYTES, BLAKE2B_KEYBYTES, BLAKE2B_SALTBYTES,
                                            BLAKE2B_PERSONALBYTES};
static const Blake2Limits blake2s_limits = {"blake2s", BLAKE2S_OUTBYTES, BLAKE2S_KEYBYTES, BLAKE2S_SALTBYTES,
                                            BLAKE2S_PERSONALBYTES};

/* An optional bytes-like parameter of at most max bytes, into out (zeroed
 * first); *len its length. */
static bool blake2_bytes(TState *ts, Value v, const char *what, size_t max, uint8_t *out, size_t *len) {
    memset(out, 0, max);
    *len = 0;
    if (IS_EMPTY(v)) return true;
    Buffer view;
    if (!data_buffer(ts, v, &view, BUF_READ)) return false;
    bool ok = view.len <= max;
    if (ok) {
        memcpy(out, view.buf, view.len);
        *len = view.len;
    } else {
        err_format(ts, ts->interp->exc.ValueError, "maximum %s length is %zu bytes", what, max);
    }
    buffer_release(ts, &view);
    return ok;
}

static bool blake2_int(TState *ts, Value v, int64_t dflt, int64_t lo, int64_t hi, const char *msg, int64_t *out) {
    *out = dflt;
    if (IS_EMPTY(v)) return true;
    if (!args_int(ts, v, out)) return false;
    if (*out < lo || *out > hi) {
        err_set_str(ts, ts->interp->exc.ValueError, msg);
        return false;
    }
    return true;
}

static Value blake2_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames,
                        const Blake2Limits *lim, HashKind kind) {
    static const char *const names[] = {"data", "digest_size", "key", "salt", "person", "fanout", "depth",
                                        "leaf_size", "node_offset", "node_depth", "inner_size", "last_node",
                                        "usedforsecurity", "string"};
    Value v[14];
    if (!args_bind(ts, lim->name, args, nargs, kwnames, names, 14, 0, 1, v)) return ERROR_VAL;
    uint8_t key[BLAKE2B_KEYBYTES], salt[BLAKE2B_SALTBYTES], person[BLAKE2B_PERSONALBYTES];
    size_t key_len, salt_len, person_len;
    int64_t digest_size, fanout, depth, leaf_size, node_offset, node_depth, inner_size;
    char msg[64];
    snprintf(msg, sizeof msg, "digest_size must be between 1 and %zu bytes", lim->out);
    if (!blake2_int(ts, v[1], (int64_t)lim->out, 1, (int64_t)lim->out, msg, &digest_size) ||
        !blake2_bytes(ts, v[2], "key", lim->key, key, &key_len) ||
        !blake2_bytes(ts, v[3], "salt", lim->salt, salt, &salt_len) ||
        !blake2_bytes(ts, v[4], "person", lim->person, person, &person_len) ||
        !blake2_int(ts, v[5], 1, 0, 255, "fanout must be between 0 and 255", &fanout) ||
        !blake2_int(ts, v[6], 1, 1, 255, "depth must be between 1 and 255", &depth) ||
        !blake2_int(ts, v[7], 0, 0, UINT32_MAX, "leaf_size is too large", &leaf_size) ||
        !blake2_int(ts, v[8], 0, 0, kind == HASH_BLAKE2S ? ((int64_t)1 << 48) - 1 : INT64_MAX,
                    "node_offset is too large", &node_offset) ||
        !blake2_int(ts, v[9], 0, 0, 255, "node_depth must be between 0 and 255", &node_depth))
        return ERROR_VAL;
    snprintf(msg, sizeof msg, "inner_size must be between 0 and is %zu", lim->out);
    if (!blake2_int(ts, v[10], 0, 0, (int64_t)lim->out, msg, &inner_size)) return ERROR_VAL;
    int last_node = 0;
    if (!IS_EMPTY(v[11]) && (last_node = ops_truth(ts, v[11])) < 0) return ERROR_VAL;
    if (!IS_EMPTY(v[0]) && !IS_EMPTY(v[13]))
        return err_set_str(ts, ts->interp->exc.TypeError, "'data' and 'string' are mutually exclusive and support for "
                                                   "'string' keyword parameter is slated for removal in a future "
                                                   "version.");
    Value data = IS_EMPTY(v[0]) ? v[13] : v[0];

    ObjHash *h = hash_alloc(ts, type, kind, lim->name);
    if (!h) return ERROR_VAL;
    h->digest_size = (size_t)digest_size;
    if (kind == HASH_BLAKE2B) {
        blake2b_param p;
        memset(&p, 0, sizeof p);
        p.digest_length = (uint8_t)digest_size;
        p.key_length = (uint8_t)key_len;
        p.fanout = (uint8_t)fanout;
        p.depth = (uint8_t)depth;
        p.leaf_length = (uint32_t)leaf_size;
        p.node_offset = (uint64_t)node_offset;
        p.node_depth = (uint8_t)node_depth;
        p.inner_length = (uint8_t)inner_size;
        memcpy(p.salt, salt, sizeof p.salt);
        memcpy(p.personal, person, sizeof p.personal);
        blake2b_init_param(&h->u.b2b, &p);
        h->u.b2b.last_node = (uint8_t)last_node;
        if (key_len) {
            uint8_t block[BLAKE2B_BLOCKBYTES] = {0};
            memcpy(block, key, key_len);
            blake2b_update(&h->u.b2b, block, sizeof block);
        }
    } else {
        blake2s_param p;
        memset(&p, 0, sizeof p);
        p.digest_length = (uint8_t)digest_size;
        p.key_length = (uint8_t)key_len;
        p.fanout = (uint8_t)fanout;
        p.depth = (uint8_t)depth;
        p.leaf_length = (uint32_t)leaf_size;
        for (int i = 0; i < 6; i++) p.node_offset[i] = (uint8_t)((uint64_t)node_offset >> (8 * i));
        p.node_depth = (uint8_t)node_depth;
        p.inner_length = (uint8_t)inner_size;
        memcpy(p.salt, salt, sizeof p.salt);
        memcpy(p.personal, person, sizeof p.personal);
        blake2s_init_param(&h->u.b2s, &p);
        h->u.b2s.last_node = (uint8_t)last_node;
        if (key_len) {
            uint8_t block[BLAKE2S_BLOCKBYTES] = {0};
            memcpy(block, key, key_len);
            blake2s_update(&h->u.b2s, block, sizeof block);
        }
    }
    if (!IS_EMPTY(data) && !IS_NONE(data)) {
        vm_push(ts, OBJ_VAL(h));
        bool ok = hash_update_value(ts, h, data);
        vm_pop(ts);
        if (!ok) return ERROR_VAL;
    }
    return OBJ_VAL(h);
}

static Value blake2b_type_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    return blake2_new(ts, type, args, nargs, kwnames, &blake2b_limits, HASH_BLAKE2B);
}

static Value blake2s_type_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    return blake2_new(ts, type, args, nargs, kwnames, &blake2s_limits, HASH_BLAKE2S);
}

/* ---- key derivation ---------------------------------------------------- */

/* A bytes-like argument copied out (the work runs without the GIL). */
static bool copy_bytes_arg(TState *ts, Value v, char **out, size_t *len) {
    Buffer view;
    if (!data_buffer(ts, v, &view, BUF_READ)) return false;
    *out = malloc(view.len ? view.len : 1);
    if (*out) {
        memcpy(*out, view.buf, view.len);
        *len = view.len;
    }
    buffer_release(ts, &view);
    if (!*out) err_no_memory(ts);
    return *out != NULL;
}

static Value derived_key(TState *ts, unsigned char *key, size_t n, int ok) {
    Value r;
    if (ok) {
        ObjBytes *b = bytes_new(ts, (const char *)key, n);
        r = b ? OBJ_VAL(b) : ERROR_VAL;
    } else {
        r = err_set_str(ts, ts->interp->exc.ValueError, "key derivation failed (OpenSSL)");
    }
    free(key);
    return r;
}

static Value f_pbkdf2_hmac(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"hash_name", "password", "salt", "iterations", "dklen"};
    Value v[5];
    if (!args_bind(ts, "pbkdf2_hmac", args, nargs, kwnames, names, 5, 4, 5, v)) return ERROR_VAL;
    const EVP_MD *md = evp_digest(ts, v[0], NULL);
    if (!md) return ERROR_VAL;
    int64_t iterations, dklen = EVP_MD_get_size(md);
    if (!args_int(ts, v[3], &iterations)) return ERROR_VAL;
    if (iterations < 1) return err_set_str(ts, ts->interp->exc.ValueError, "iteration value must be greater than 0.");
    if (iterations > INT32_MAX) return err_set_str(ts, ts->interp->exc.OverflowError, "iteration value is too great.");
    if (!IS_EMPTY(v[4]) && !IS_NONE(v[4])) {
        if (!args_int(ts, v[4], &dklen)) return ERROR_VAL;
        if (dklen < 1) return err_set_str(ts, ts->interp->exc.ValueError, "key length must be greater than 0.");
        if (dklen > INT32_MAX) return err_set_str(ts, ts->interp->exc.OverflowError, "key length is too great.");
    }
    char *password, *salt;
    size_t password_len, salt_len;
    if (!copy_bytes_arg(ts, v[1], &password, &password_len)) return ERROR_VAL;
    if (!copy_bytes_arg(ts, v[2], &salt, &salt_len)) {
        free(password);
        return ERROR_VAL;
    }
    unsigned char *key = malloc((size_t)dklen);
    int ok = 0;
    if (key) {
        thread_detach_to_compute(ts);
        ok = PKCS5_PBKDF2_HMAC(password, (int)password_len, (unsigned char *)salt, (int)salt_len, (int)iterations,
                               md, (int)dklen, key);
        thread_attach(ts);
    }
    free(password);
    free(salt);
    if (!key) return err_no_memory(ts);
    return derived_key(ts, key, (size_t)dklen, ok);
}

static Value f_scrypt(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"password", "salt", "n", "r", "p", "maxmem", "dklen"};
    Value v[7];
    if (!args_bind(ts, "scrypt", args, nargs, kwnames, names, 7, 1, 1, v)) return ERROR_VAL;
    if (IS_EMPTY(v[1])) return err_set_str(ts, ts->interp->exc.TypeError, "salt is required");
    if (IS_EMPTY(v[2])) return err_set_str(ts, ts->interp->exc.TypeError, "n is required and must be an unsigned int");
    if (IS_EMPTY(v[3])) return err_set_str(ts, ts->interp->exc.TypeError, "r is required and must be an unsigned int");
    if (IS_EMPTY(v[4])) return err_set_str(ts, ts->interp->exc.TypeError, "p is required and must be an unsigned int");
    int64_t n, r, p, maxmem = 0, dklen = 64;
    if (!args_int(ts, v[2], &n) || !args_int(ts, v[3], &r) || !args_int(ts, v[4], &p)) return ERROR_VAL;
    if (n < 2 || (n & (n - 1)))
        return err_set_str(ts, ts->interp->exc.ValueError, "n must be a power of 2.");
    if (!IS_EMPTY(v[5]) && !args_int(ts, v[5], &maxmem)) return ERROR_VAL;
    if (maxmem < 0 || maxmem > INT32_MAX)
        return err_format(ts, ts->interp->exc.ValueError, "maxmem must be positive and smaller than %d", INT32_MAX);
    if (!IS_EMPTY(v[6]) && !args_int(ts, v[6], &dklen)) return ERROR_VAL;
    if (dklen < 1 || dklen > INT32_MAX)
        return err_format(ts, ts->interp->exc.ValueError, "dklen must be greater than 0 and smaller than %d", INT32_MAX);
    if (!EVP_PBE_scrypt(NULL, 0, NULL, 0, (uint64_t)n, (uint64_t)r, (uint64_t)p, (uint64_t)maxmem, NULL, 0))
        return err_set_str(ts, ts->interp->exc.ValueError, "Invalid parameter combination for n, r, p, maxmem.");
    char *password, *salt;
    size_t password_len, salt_len;
    if (!copy_bytes_arg(ts, v[0], &password, &password_len)) return ERROR_VAL;
    if (!copy_bytes_arg(ts, v[1], &salt, &salt_len)) {
        free(password);
        return ERROR_VAL;
    }
    unsigned char *key = malloc((size_t)dklen);
    int ok = 0;
    if (key) {
        thread_detach_to_compute(ts);
        ok = EVP_PBE_scrypt(password, password_len, (unsigned char *)salt, salt_len, (uint64_t)n, (uint64_t)r,
                            (uint64_t)p, (uint64_t)maxmem, key, (size_t)dklen);
        thread_attach(ts);
    }
    free(password);
    free(salt);
    if (!key) return err_no_memory(ts);
    return derived_key(ts, key, (size_t)dklen, ok);
}

/* compare_digest(a, b): time independent of where they differ. */
static Value f_compare_digest(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "compare_digest", nargs, kwnames, 2, 2)) return ERROR_VAL;
    Value a = args[0], b = args[1];
    Buffer va, vb;
    if (IS_STR(a) && IS_STR(b)) {
        ObjStr *x = AS_STR(a), *y = AS_STR(b);
        for (size_t i = 0; i < x->len; i++)
            if ((unsigned char)x->data[i] >= 0x80) goto non_ascii;
        for (size_t i = 0; i < y->len; i++)
            if ((unsigned char)y->data[i] >= 0x80) goto non_ascii;
        va.buf = x->data, va.len = x->len, vb.buf = y->data, vb.len = y->len;
    } else if (buffer_check(ts, a) || buffer_check(ts, b)) {
        if (!buffer_get(ts, a, &va, BUF_READ)) return ERROR_VAL;
        if (!buffer_get(ts, b, &vb, BUF_READ)) {
            buffer_release(ts, &va);
            return ERROR_VAL;
        }
    } else {
        return err_format(ts, ts->interp->exc.TypeError, "unsupported operand types(s) or combination of types: '%s' and '%s'",
                          ops_type_name(ts, a), ops_type_name(ts, b));
    }
    /* Every byte of b is looked at, whatever the lengths and contents. */
    const volatile unsigned char *left = (const unsigned char *)(va.len == vb.len ? va.buf : vb.buf);
    const unsigned char *right = (const unsigned char *)vb.buf;
    unsigned char diff = va.len != vb.len;
    for (size_t i = 0; i < vb.len; i++) diff |= left[i] ^ right[i];
    if (!IS_STR(a)) {
        buffer_release(ts, &va);
        buffer_release(ts, &vb);
    }
    return BOOL_VAL(diff == 0);
non_ascii:
    return err_set_str(ts, ts->interp->exc.TypeError, "comparing strings with non-ASCII characters is not supported");
}

static const NativeDef hashlib_functions[] = {
    {"new", hash_new},
    {"pbkdf2_hmac", f_pbkdf2_hmac},
    {"scrypt", f_scrypt},
    {"compare_digest", f_compare_digest},
    {NULL, NULL},
};

/* The four hash types differ only in name and constructor: HASH and
 * HASHXOF are made by new()/the named constructors, blake2b/blake2s are
 * classes called directly. */
#define HASH_SPEC(NAME, NEW)                                                                                           \
    {                                                                                                                  \
        .name = NAME, .kind = OBJ_OPAQUE, .repr = hash_repr, .new_ = NEW, .finalize = hash_finalize,                   \
        .after_fork = hash_after_fork, .methods = hash_methods, .getsets = hash_getsets,                               \
    }

static const TypeSpec hash_specs[] = {
    HASH_SPEC("HASH", NULL),
    HASH_SPEC("HASHXOF", NULL),
    HASH_SPEC("blake2b", blake2b_type_new),
    HASH_SPEC("blake2s", blake2s_type_new),
};

bool mod_hashlib_init(TState *ts, ObjDict *ns) {
    if (!builtins_add_natives(ts, ns, hashlib_functions)) return false;
    const char *modules[] = {"_hashlib", "_hashlib", "_blake2", "_blake2"};
    ObjType *base = NULL;
    for (size_t i = 0; i < sizeof hash_specs / sizeof hash_specs[0]; i++) {
        /* HASHXOF derives from HASH, as in CPython. */
        ObjType *t = type_from_spec(ts, &hash_specs[i], i == 1 ? base : NULL);
        ObjStr *module = str_intern_cstr(ts, modules[i]);
        if (!t || !module) return false;
        if (i == 0) base = t;
        t->module = OBJ_VAL(module);
        if (dict_set_str(ts, ns, t->name, OBJ_VAL(t)) < 0) return false;
    }
    ObjList *names = list_new(ts, 0);
    if (!names || !builtins_add_value(ts, ns, "openssl_md_meth_names", OBJ_VAL(names))) return false;
    for (size_t i = 0; i < sizeof evp_names / sizeof evp_names[0]; i++) {
        if (!EVP_get_digestbyname(evp_names[i].openssl)) continue;
        ObjStr *s = str_from_cstr(ts, evp_names[i].python);
        if (!s || list_append(ts, names, OBJ_VAL(s)) < 0) return false;
    }
    return true;
}
