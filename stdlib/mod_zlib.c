/* zlib, on the zlib library, as CPython's: compress/decompress, streaming
 * compress and decompress objects, crc32 and adler32, zlib.error with
 * CPython's messages.
 *
 * The GIL. Like hashlib (stdlib/mod_hashlib.c), the work on an input of
 * MINI_HASH_GIL_MIN_BYTES or more runs without the GIL: the input is a long
 * view (a bytearray cannot resize under it), the output grows in C memory,
 * and a stream object's mutex keeps two threads out of one z_stream. */

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "runtime/args.h"
#include "runtime/buffer.h"
#include "runtime/bytes.h"
#include "runtime/class.h"
#include "runtime/dict.h"
#include "runtime/error.h"
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

#define DEF_BUF_SIZE (16 * 1024)
#define DEF_MEM_LEVEL 8

/* ---- errors -------------------------------------------------------------- */

static ObjType *zlib_error_type(TState *ts) {
    Value t = module_attr(ts, "zlib", "error");
    return IS_TYPE(t) ? AS_TYPE(t) : ts->interp->exc.RuntimeError;
}

/* "Error -3 while decompressing data: incorrect header check", as CPython
 * words it: zlib's own message, else one for the code. */
static Value zlib_raise(TState *ts, const z_stream *zs, int err, const char *what) {
    if (err == Z_MEM_ERROR) return err_no_memory(ts);
    const char *msg = err == Z_VERSION_ERROR ? "library version mismatch" : zs->msg;
    if (!msg) {
        switch (err) {
        case Z_BUF_ERROR: msg = "incomplete or truncated stream"; break;
        case Z_STREAM_ERROR: msg = "inconsistent stream state"; break;
        case Z_DATA_ERROR: msg = "invalid input data"; break;
        }
    }
    if (msg) return err_format(ts, zlib_error_type(ts), "Error %d %s: %.200s", err, what, msg);
    return err_format(ts, zlib_error_type(ts), "Error %d %s", err, what);
}

/* ---- input and output ------------------------------------------------------ */

/* The input of one call: a view, and whether the work may go without the
 * GIL (a long view of a large input). */
typedef struct Input {
    Buffer view;
    bool nogil;
} Input;

static bool input_get(TState *ts, Value v, Input *in) {
    if (!buffer_get(ts, v, &in->view, BUF_READ)) return false;
    in->nogil = in->view.len >= MINI_HASH_GIL_MIN_BYTES;
    if (!in->nogil) return true;
    buffer_release(ts, &in->view);
    return buffer_get(ts, v, &in->view, BUF_EXPORT);
}

/* Output gathered in C memory, so the work needs no object. */
typedef struct Output {
    unsigned char *buf;
    size_t len, cap;
    size_t limit;  /* 0: none */
    int blocks;    /* how many times it grew */
} Output;

/* The output grows by these steps, CPython's (its blocks output buffer):
 * what deflate writes for a stored block (level 0) depends on the room it
 * is given, so the same steps give the same bytes. */
static const size_t output_steps[] = {
    32u << 10, 64u << 10, 256u << 10, 1u << 20, 4u << 20, 8u << 20, 16u << 20, 16u << 20,
    32u << 20, 32u << 20, 32u << 20, 32u << 20, 64u << 20, 64u << 20, 128u << 20, 128u << 20, 256u << 20,
};

/* Room for the stream's next output; false when out of memory (or when
 * the limit is reached: *full). */
static bool output_room(Output *o, z_stream *zs, bool *full) {
    *full = false;
    if (o->limit && o->len >= o->limit) {
        *full = true;
        return true;
    }
    if (o->len == o->cap) {
        size_t n = sizeof output_steps / sizeof output_steps[0];
        size_t step = output_steps[o->blocks < (int)n ? o->blocks : (int)n - 1];
        if (o->limit && o->cap + step > o->limit) step = o->limit - o->cap;
        unsigned char *p = realloc(o->buf, o->cap + step);
        if (!p) return false;
        o->buf = p;
        o->cap += step;
        o->blocks++;
    }
    size_t room = o->cap - o->len;
    zs->next_out = o->buf + o->len;
    zs->avail_out = room > UINT_MAX ? UINT_MAX : (unsigned)room;
    return true;
}

/* Runs deflate(flush) or inflate(flush) until the input is used up (and,
 * for a flush, the output is complete), the stream ends, or the output
 * reaches its limit. Returns zlib's last code, or Z_MEM_ERROR. Touches
 * only C memory: may run without the GIL. */
static int pump(z_stream *zs, Output *o, bool inflating, int flush) {
    for (;;) {
        bool full;
        if (!output_room(o, zs, &full)) return Z_MEM_ERROR;
        if (full) return Z_OK;
        unsigned before = zs->avail_out;
        int err = inflating ? inflate(zs, flush) : deflate(zs, flush);
        o->len += before - zs->avail_out;
        if (err == Z_STREAM_END || err == Z_NEED_DICT) return err;
        if (err != Z_OK && err != Z_BUF_ERROR) return err;
        /* Done when zlib left output room unused: it has nothing more. */
        if (zs->avail_out != 0) return zs->avail_in == 0 || err == Z_BUF_ERROR ? Z_BUF_ERROR : Z_OK;
    }
}

/* One call's run of a stream: what to flush with, a dictionary to give
 * when an inflating stream asks for one, and (out) the input left over. */
typedef struct Run {
    z_stream *zs;
    bool inflating;
    int flush;                 /* for the last chunk of the input */
    const unsigned char *dict; /* a C copy: given without the GIL */
    size_t dict_len;
    const unsigned char *rest; /* out: the input not consumed */
    size_t rest_len;
} Run;

/* Feeds the input (NULL: none, a flush) through the stream into o, in
 * zlib's chunks of at most UINT_MAX bytes, without the GIL when it is
 * large. The caller holds the stream object's mutex, if it has one.
 * Returns zlib's last code. */
static int stream_run(TState *ts, Run *r, Output *o, const Input *in) {
    bool nogil = in && in->nogil;
    if (nogil) thread_detach_to_compute(ts);
    const unsigned char *p = in ? (const unsigned char *)in->view.buf : NULL;
    size_t left = in ? in->view.len : 0;
    int err;
    for (;;) {
        unsigned chunk = left > UINT_MAX ? UINT_MAX : (unsigned)left;
        r->zs->next_in = (unsigned char *)p;
        r->zs->avail_in = chunk;
        if (chunk) p += chunk;
        left -= chunk;
        int flush = r->inflating || !left ? r->flush : Z_NO_FLUSH;
        for (;;) {
            err = pump(r->zs, o, r->inflating, flush);
            if (err != Z_NEED_DICT || !r->dict) break;
            err = inflateSetDictionary(r->zs, r->dict, (uInt)r->dict_len);
            if (err != Z_OK) break;
        }
        if (!left || (err != Z_OK && err != Z_BUF_ERROR) || (o->limit && o->len >= o->limit)) break;
    }
    r->rest = r->zs->next_in;
    r->rest_len = r->zs->avail_in + left;
    if (nogil) thread_attach(ts);
    return err;
}

static Value output_bytes(TState *ts, Output *o) {
    ObjBytes *b = bytes_new(ts, (const char *)o->buf, o->len);
    free(o->buf);
    o->buf = NULL;
    return b ? OBJ_VAL(b) : ERROR_VAL;
}

static bool int_arg(TState *ts, Value v, int dflt, int *out) {
    int64_t n = dflt;
    if (!IS_EMPTY(v) && !args_int(ts, v, &n)) return false;
    if (n < INT_MIN || n > INT_MAX) {
        err_set_str(ts, ts->interp->exc.OverflowError, "Python int too large to convert to C int");
        return false;
    }
    *out = (int)n;
    return true;
}

/* ---- one-shot functions ------------------------------------------------------ */

static Value f_compress(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"$data", "level", "wbits"};
    Value v[3];
    if (!args_bind(ts, "compress", args, nargs, kwnames, names, 3, 1, 3, v)) return ERROR_VAL;
    int level, wbits;
    if (!int_arg(ts, v[1], Z_DEFAULT_COMPRESSION, &level) || !int_arg(ts, v[2], MAX_WBITS, &wbits)) return ERROR_VAL;
    Input in;
    if (!input_get(ts, v[0], &in)) return ERROR_VAL;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    int err = deflateInit2(&zs, level, Z_DEFLATED, wbits, DEF_MEM_LEVEL, Z_DEFAULT_STRATEGY);
    if (err != Z_OK) {
        buffer_release(ts, &in.view);
        if (err == Z_MEM_ERROR) return err_set_str(ts, ts->interp->exc.MemoryError, "Out of memory while compressing data");
        if (err == Z_STREAM_ERROR) return err_set_str(ts, zlib_error_type(ts), "Bad compression level");
        return zlib_raise(ts, &zs, err, "while compressing data");
    }
    Output o = {0};
    Run r = {.zs = &zs, .flush = Z_FINISH};
    err = stream_run(ts, &r, &o, &in);
    deflateEnd(&zs);
    buffer_release(ts, &in.view);
    if (err != Z_STREAM_END) {
        free(o.buf);
        return zlib_raise(ts, &zs, err, "while compressing data");
    }
    return output_bytes(ts, &o);
}

static Value f_decompress(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"$data", "wbits", "bufsize"};
    Value v[3];
    if (!args_bind(ts, "decompress", args, nargs, kwnames, names, 3, 1, 3, v)) return ERROR_VAL;
    int wbits;
    int64_t bufsize = DEF_BUF_SIZE;
    if (!int_arg(ts, v[1], MAX_WBITS, &wbits)) return ERROR_VAL;
    if (!IS_EMPTY(v[2]) && !args_int(ts, v[2], &bufsize)) return ERROR_VAL;
    if (bufsize < 0) return err_set_str(ts, ts->interp->exc.ValueError, "bufsize must be non-negative");
    Input in;
    if (!input_get(ts, v[0], &in)) return ERROR_VAL;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    int err = inflateInit2(&zs, wbits);
    if (err != Z_OK) {
        buffer_release(ts, &in.view);
        if (err == Z_MEM_ERROR) return err_set_str(ts, ts->interp->exc.MemoryError, "Out of memory while decompressing data");
        return zlib_raise(ts, &zs, err, "while preparing to decompress data");
    }
    Output o = {0};
    Run r = {.zs = &zs, .inflating = true, .flush = Z_SYNC_FLUSH};
    err = stream_run(ts, &r, &o, &in);
    inflateEnd(&zs);
    buffer_release(ts, &in.view);
    if (err != Z_STREAM_END) {
        free(o.buf);
        /* Input that ran out before the end of the stream. */
        if (err == Z_OK) err = Z_BUF_ERROR;
        return zlib_raise(ts, &zs, err, "while decompressing data");
    }
    return output_bytes(ts, &o);
}

/* crc32 and adler32: the running checksum, without the GIL when large. */
static Value checksum(TState *ts, const char *name, Value *args, int nargs, ObjTuple *kwnames, uint32_t start,
                      uLong (*fn)(uLong, const Bytef *, uInt)) {
    if (!args_check(ts, name, nargs, kwnames, 1, 2)) return ERROR_VAL;
    uint64_t value = start;
    if (nargs == 2) {
        /* Any int: its low 32 bits, as CPython. */
        Value masked = ops_binary(ts, BIN_AND, args[1], INT_VAL(0xffffffff));
        int64_t n;
        if (IS_ERROR(masked) || !args_int(ts, masked, &n)) return ERROR_VAL;
        value = (uint64_t)n;
    }
    Input in;
    if (!input_get(ts, args[0], &in)) return ERROR_VAL;
    if (in.nogil) thread_detach_to_compute(ts);
    const unsigned char *p = (const unsigned char *)in.view.buf;
    for (size_t left = in.view.len; left;) {
        unsigned chunk = left > UINT_MAX ? UINT_MAX : (unsigned)left;
        value = fn((uLong)value, p, chunk);
        p += chunk;
        left -= chunk;
    }
    if (in.nogil) thread_attach(ts);
    buffer_release(ts, &in.view);
    return INT_VAL((int64_t)(value & 0xffffffffu));
}

static Value f_crc32(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return checksum(ts, "crc32", args, nargs, kwnames, 0, crc32);
}

static Value f_adler32(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return checksum(ts, "adler32", args, nargs, kwnames, 1, adler32);
}

/* ---- streams: Compress and Decompress objects ---------------------------- */

typedef struct ObjZStream {
    Obj obj;
    /* Held through each method call, so one call's input and output and
     * the fields below are never mixed with another thread's. */
    pthread_mutex_t mutex;
    z_stream zs;
    bool inflating;
    bool initialised;      /* false after a compressor's final flush */
    bool eof;              /* a decompressor saw the end of the stream */
    Value unused_data;     /* bytes after the end of the stream */
    Value unconsumed_tail; /* input left over by max_length */
    unsigned char *dict;   /* zdict, copied: NULL for none */
    size_t dict_len;
} ObjZStream;

#define AS_ZSTREAM(v) ((ObjZStream *)AS_OBJ(v))

static void zstream_trace(GcMarker *m, Obj *self) {
    ObjZStream *z = (ObjZStream *)self;
    gc_mark_value(m, z->unused_data);
    gc_mark_value(m, z->unconsumed_tail);
}

static void zstream_finalize(Obj *self) {
    ObjZStream *z = (ObjZStream *)self;
    if (z->initialised) {
        if (z->inflating) inflateEnd(&z->zs);
        else deflateEnd(&z->zs);
    }
    free(z->dict);
    pthread_mutex_destroy(&z->mutex);
}

static void zstream_after_fork(Obj *self) { PT_CHECK(pthread_mutex_init(&((ObjZStream *)self)->mutex, NULL)); }

static ObjZStream *zstream_new(TState *ts, bool inflating) {
    ObjType *type = module_type(ts, "zlib", inflating ? "_Decompress" : "_Compress");
    if (!type) return NULL;
    ObjBytes *empty = bytes_new(ts, "", 0);
    ObjZStream *z = empty ? (ObjZStream *)gc_alloc(ts, sizeof(ObjZStream), OBJ_OPAQUE, type) : NULL;
    if (!z) return NULL;
    PT_CHECK(pthread_mutex_init(&z->mutex, NULL));
    memset(&z->zs, 0, sizeof z->zs);
    z->inflating = inflating;
    z->initialised = false;
    z->eof = false;
    z->unused_data = z->unconsumed_tail = OBJ_VAL(empty);
    z->dict = NULL;
    z->dict_len = 0;
    return z;
}

/* Copies a zdict argument (None or absent: none) into the stream. */
static bool take_zdict(TState *ts, ObjZStream *z, Value v) {
    if (IS_EMPTY(v) || IS_NONE(v)) return true;
    if (!buffer_check(ts, v)) {
        err_set_str(ts, ts->interp->exc.TypeError, "zdict argument must support the buffer protocol");
        return false;
    }
    Buffer view;
    if (!buffer_get(ts, v, &view, BUF_READ)) return false;
    z->dict = malloc(view.len ? view.len : 1);
    if (z->dict) {
        memcpy(z->dict, view.buf, view.len);
        z->dict_len = view.len;
    }
    buffer_release(ts, &view);
    if (!z->dict) err_no_memory(ts);
    return z->dict != NULL;
}

static Value f_compressobj(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"level", "method", "wbits", "memLevel", "strategy", "zdict"};
    Value v[6];
    if (!args_bind(ts, "compressobj", args, nargs, kwnames, names, 6, 0, 6, v)) return ERROR_VAL;
    int level, method, wbits, mem_level, strategy;
    if (!int_arg(ts, v[0], Z_DEFAULT_COMPRESSION, &level) || !int_arg(ts, v[1], Z_DEFLATED, &method) ||
        !int_arg(ts, v[2], MAX_WBITS, &wbits) || !int_arg(ts, v[3], DEF_MEM_LEVEL, &mem_level) ||
        !int_arg(ts, v[4], Z_DEFAULT_STRATEGY, &strategy))
        return ERROR_VAL;
    ObjZStream *z = zstream_new(ts, false);
    if (!z || !take_zdict(ts, z, v[5])) return ERROR_VAL;
    int err = deflateInit2(&z->zs, level, method, wbits, mem_level, strategy);
    if (err == Z_MEM_ERROR)
        return err_set_str(ts, ts->interp->exc.MemoryError, "Can't allocate memory for compression object");
    if (err == Z_STREAM_ERROR) return err_set_str(ts, ts->interp->exc.ValueError, "Invalid initialization option");
    if (err != Z_OK) return zlib_raise(ts, &z->zs, err, "while creating compression object");
    z->initialised = true;
    if (z->dict && deflateSetDictionary(&z->zs, z->dict, (uInt)z->dict_len) != Z_OK)
        return err_set_str(ts, ts->interp->exc.ValueError, "Invalid dictionary");
    return OBJ_VAL(z);
}

static Value f_decompressobj(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"wbits", "zdict"};
    Value v[2];
    if (!args_bind(ts, "decompressobj", args, nargs, kwnames, names, 2, 0, 2, v)) return ERROR_VAL;
    int wbits;
    if (!int_arg(ts, v[0], MAX_WBITS, &wbits)) return ERROR_VAL;
    ObjZStream *z = zstream_new(ts, true);
    if (!z || !take_zdict(ts, z, v[1])) return ERROR_VAL;
    int err = inflateInit2(&z->zs, wbits);
    if (err == Z_MEM_ERROR)
        return err_set_str(ts, ts->interp->exc.MemoryError, "Can't allocate memory for decompression object");
    if (err == Z_STREAM_ERROR) return err_set_str(ts, ts->interp->exc.ValueError, "Invalid initialization option");
    if (err != Z_OK) return zlib_raise(ts, &z->zs, err, "while creating decompression object");
    z->initialised = true;
    /* A raw stream takes its dictionary now; a zlib stream asks for it. */
    if (z->dict && wbits < 0 && (err = inflateSetDictionary(&z->zs, z->dict, (uInt)z->dict_len)) != Z_OK)
        return zlib_raise(ts, &z->zs, err, "while setting zdict");
    return OBJ_VAL(z);
}

/* A compressor's compress(data) or flush(mode) (data EMPTY_VAL), with its
 * mutex held. */
static Value compress_locked(TState *ts, ObjZStream *z, Value data, int mode) {
    if (!z->initialised) return zlib_raise(ts, &z->zs, Z_STREAM_ERROR, IS_EMPTY(data) ? "while flushing"
                                                                                     : "while compressing data");
    Input in;
    if (!IS_EMPTY(data) && !input_get(ts, data, &in)) return ERROR_VAL;
    Output o = {0};
    Run r = {.zs = &z->zs, .flush = mode};
    int err = stream_run(ts, &r, &o, IS_EMPTY(data) ? NULL : &in);
    if (!IS_EMPTY(data)) buffer_release(ts, &in.view);
    if (err == Z_STREAM_END && mode == Z_FINISH) {
        err = deflateEnd(&z->zs);
        z->initialised = false;
        if (err != Z_OK) {
            free(o.buf);
            return zlib_raise(ts, &z->zs, err, "while finishing compression");
        }
    } else if (err != Z_OK && err != Z_BUF_ERROR) {
        free(o.buf);
        return zlib_raise(ts, &z->zs, err, IS_EMPTY(data) ? "while flushing" : "while compressing data");
    }
    return output_bytes(ts, &o);
}

static Value compress_compress(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("compress", 1, 1);
    ObjZStream *z = AS_ZSTREAM(args[0]);
    thread_lock_mutex(ts, &z->mutex);
    Value r = compress_locked(ts, z, args[1], Z_NO_FLUSH);
    MUTEX_UNLOCK(&z->mutex);
    return r;
}

static Value compress_flush(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("flush", 0, 1);
    ObjZStream *z = AS_ZSTREAM(args[0]);
    int mode = Z_FINISH;
    if (nargs == 2 && !int_arg(ts, args[1], Z_FINISH, &mode)) return ERROR_VAL;
    if (mode == Z_NO_FLUSH) {
        ObjBytes *empty = bytes_new(ts, "", 0);
        return empty ? OBJ_VAL(empty) : ERROR_VAL;
    }
    thread_lock_mutex(ts, &z->mutex);
    Value r = compress_locked(ts, z, EMPTY_VAL, mode);
    MUTEX_UNLOCK(&z->mutex);
    return r;
}

/* Appends p[0..n) to the bytes *slot (unused_data grows over calls). */
static bool bytes_append(TState *ts, Value *slot, const unsigned char *p, size_t n) {
    if (n == 0) return true;
    ObjBytes *old = AS_BYTES(*slot);
    ObjBytes *b = bytes_alloc(ts, old->len + n);
    if (!b) return false;
    memcpy(b->data, old->data, old->len);
    memcpy(b->data + old->len, p, n);
    *slot = OBJ_VAL(b);
    return true;
}

/* After a decompress call: what is left of the input, rest[0..n), goes to
 * unused_data (after the end of the stream) or unconsumed_tail (not yet
 * read because of max_length). */
static bool keep_leftover(TState *ts, ObjZStream *z, int err, const unsigned char *rest, size_t n) {
    if (err == Z_STREAM_END) {
        z->eof = true;
        ObjBytes *empty = bytes_new(ts, "", 0);
        if (!empty) return false;
        z->unconsumed_tail = OBJ_VAL(empty);
        return bytes_append(ts, &z->unused_data, rest, n);
    }
    ObjBytes *tail = bytes_new(ts, (const char *)rest, n);
    if (!tail) return false;
    z->unconsumed_tail = OBJ_VAL(tail);
    return true;
}

/* decompress(data, max_length) and flush(length) (of unconsumed_tail),
 * with the mutex held: after the end of the stream, input is unused data. */
static Value decompress_locked(TState *ts, ObjZStream *z, Value data, size_t limit, const char *what) {
    Input in;
    if (!input_get(ts, data, &in)) return ERROR_VAL;
    Output o = {.limit = limit};
    Run r = {.zs = &z->zs, .inflating = true, .flush = Z_SYNC_FLUSH, .dict = z->dict, .dict_len = z->dict_len,
             .rest = (const unsigned char *)in.view.buf, .rest_len = in.view.len};
    int err = z->eof ? Z_STREAM_END : stream_run(ts, &r, &o, &in);
    bool ok = keep_leftover(ts, z, err, r.rest, r.rest_len);
    buffer_release(ts, &in.view);
    if (ok && err != Z_OK && err != Z_BUF_ERROR && err != Z_STREAM_END) {
        zlib_raise(ts, &z->zs, err, what);
        ok = false;
    }
    if (!ok) {
        free(o.buf);
        return ERROR_VAL;
    }
    return output_bytes(ts, &o);
}

static Value decompress_decompress(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"$self", "$data", "max_length"};
    Value v[3];
    if (!args_bind(ts, "decompress", args, nargs, kwnames, names, 3, 2, 3, v)) return ERROR_VAL;
    int64_t max_length = 0;
    if (!IS_EMPTY(v[2]) && !args_int(ts, v[2], &max_length)) return ERROR_VAL;
    if (max_length < 0) return err_set_str(ts, ts->interp->exc.ValueError, "max_length must be non-negative");
    ObjZStream *z = AS_ZSTREAM(v[0]);
    thread_lock_mutex(ts, &z->mutex);
    Value r = decompress_locked(ts, z, v[1], (size_t)max_length, "while decompressing data");
    MUTEX_UNLOCK(&z->mutex);
    return r;
}

static Value decompress_flush(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("flush", 0, 1);
    ObjZStream *z = AS_ZSTREAM(args[0]);
    int64_t length = DEF_BUF_SIZE;
    if (nargs == 2 && !args_int(ts, args[1], &length)) return ERROR_VAL;
    if (length <= 0) return err_set_str(ts, ts->interp->exc.ValueError, "length must be greater than zero");
    thread_lock_mutex(ts, &z->mutex);
    /* The tail is replaced as it is read: rooted meanwhile. */
    Value tail = z->unconsumed_tail;
    vm_push(ts, tail);
    Value r = decompress_locked(ts, z, tail, 0, "while flushing");
    vm_pop(ts);
    MUTEX_UNLOCK(&z->mutex);
    return r;
}

static Value zstream_copy(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("copy", 0, 0);
    ObjZStream *z = AS_ZSTREAM(args[0]);
    ObjZStream *c = zstream_new(ts, z->inflating);
    if (!c) return ERROR_VAL;
    thread_lock_mutex(ts, &z->mutex);
    int err = Z_STREAM_ERROR;
    if (z->initialised) {
        err = z->inflating ? inflateCopy(&c->zs, &z->zs) : deflateCopy(&c->zs, &z->zs);
        if (err == Z_OK && z->dict && (c->dict = malloc(z->dict_len))) {
            memcpy(c->dict, z->dict, z->dict_len);
            c->dict_len = z->dict_len;
        }
        c->initialised = err == Z_OK;
        c->eof = z->eof;
        c->unused_data = z->unused_data;
        c->unconsumed_tail = z->unconsumed_tail;
    }
    bool lost_dict = z->dict && !c->dict;
    MUTEX_UNLOCK(&z->mutex);
    if (err == Z_STREAM_ERROR) return err_set_str(ts, ts->interp->exc.ValueError, "Inconsistent stream state");
    if (err == Z_MEM_ERROR || lost_dict)
        return err_set_str(ts, ts->interp->exc.MemoryError, "Can't allocate memory for compression object");
    if (err != Z_OK) return zlib_raise(ts, &z->zs, err, "while copying compression object");
    return OBJ_VAL(c);
}

static Value get_unused_data(TState *ts, Value self) {
    (void)ts;
    return AS_ZSTREAM(self)->unused_data;
}
static Value get_unconsumed_tail(TState *ts, Value self) {
    (void)ts;
    return AS_ZSTREAM(self)->unconsumed_tail;
}
static Value get_eof(TState *ts, Value self) {
    (void)ts;
    return BOOL_VAL(AS_ZSTREAM(self)->eof);
}

static const NativeDef compress_methods[] = {
    {"compress", compress_compress},
    {"flush", compress_flush},
    {"copy", zstream_copy},
    {"__copy__", zstream_copy},
    {NULL, NULL},
};

static const NativeDef decompress_methods[] = {
    {"decompress", decompress_decompress},
    {"flush", decompress_flush},
    {"copy", zstream_copy},
    {"__copy__", zstream_copy},
    {NULL, NULL},
};

static const GetSetDef decompress_getsets[] = {
    {"unused_data", get_unused_data, NULL},
    {"unconsumed_tail", get_unconsumed_tail, NULL},
    {"eof", get_eof, NULL},
    {NULL, NULL, NULL},
};

static const TypeSpec compress_spec = {
    .name = "Compress",
    .kind = OBJ_OPAQUE,
    .trace = zstream_trace,
    .finalize = zstream_finalize,
    .after_fork = zstream_after_fork,
    .methods = compress_methods,
};

static const TypeSpec decompress_spec = {
    .name = "Decompress",
    .kind = OBJ_OPAQUE,
    .trace = zstream_trace,
    .finalize = zstream_finalize,
    .after_fork = zstream_after_fork,
    .methods = decompress_methods,
    .getsets = decompress_getsets,
};

static const NativeDef zlib_functions[] = {
    {"compress", f_compress},
    {"decompress", f_decompress},
    {"compressobj", f_compressobj},
    {"decompressobj", f_decompressobj},
    {"crc32", f_crc32},
    {"adler32", f_adler32},
    {NULL, NULL},
};

static const IntConstant zlib_constants[] = {
    {"MAX_WBITS", MAX_WBITS},
    {"DEFLATED", Z_DEFLATED},
    {"DEF_MEM_LEVEL", DEF_MEM_LEVEL},
    {"DEF_BUF_SIZE", DEF_BUF_SIZE},
    {"Z_NO_COMPRESSION", Z_NO_COMPRESSION},
    {"Z_BEST_SPEED", Z_BEST_SPEED},
    {"Z_BEST_COMPRESSION", Z_BEST_COMPRESSION},
    {"Z_DEFAULT_COMPRESSION", Z_DEFAULT_COMPRESSION},
    {"Z_FILTERED", Z_FILTERED},
    {"Z_HUFFMAN_ONLY", Z_HUFFMAN_ONLY},
    {"Z_RLE", Z_RLE},
    {"Z_FIXED", Z_FIXED},
    {"Z_DEFAULT_STRATEGY", Z_DEFAULT_STRATEGY},
    {"Z_NO_FLUSH", Z_NO_FLUSH},
    {"Z_PARTIAL_FLUSH", Z_PARTIAL_FLUSH},
    {"Z_SYNC_FLUSH", Z_SYNC_FLUSH},
    {"Z_FULL_FLUSH", Z_FULL_FLUSH},
    {"Z_FINISH", Z_FINISH},
    {"Z_BLOCK", Z_BLOCK},
    {"Z_TREES", Z_TREES},
    {NULL, 0},
};

bool mod_zlib_init(TState *ts, ObjDict *ns) {
    ObjStr *module = str_intern_cstr(ts, "zlib");
    if (!module || !builtins_add_natives(ts, ns, zlib_functions) ||
        IS_ERROR(module_add_exception(ts, ns, module, "error", ts->interp->exc.Exception, NULL)))
        return false;
    const TypeSpec *specs[] = {&compress_spec, &decompress_spec};
    const char *names[] = {"_Compress", "_Decompress"};
    for (size_t i = 0; i < 2; i++) {
        ObjType *t = type_from_spec(ts, specs[i], NULL);
        if (!t) return false;
        t->module = OBJ_VAL(module);
        if (!builtins_add_value(ts, ns, names[i], OBJ_VAL(t))) return false;
    }
    if (!builtins_add_ints(ts, ns, zlib_constants)) return false;
    ObjStr *version = str_from_cstr(ts, ZLIB_VERSION);
    if (!version || !builtins_add_value(ts, ns, "ZLIB_VERSION", OBJ_VAL(version))) return false;
    ObjStr *runtime = str_from_cstr(ts, zlibVersion());
    return runtime && builtins_add_value(ts, ns, "ZLIB_RUNTIME_VERSION", OBJ_VAL(runtime));
}
