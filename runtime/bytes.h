#ifndef MINI_RUNTIME_BYTES_H
#define MINI_RUNTIME_BYTES_H

/* bytes and bytearray, one file since they share every non-mutating
 * method (each works on a buffer view of self, runtime/buffer.h, and
 * returns its result in self's type).
 *
 * bytes is immutable: its bytes follow the header; the hash is computed on
 * first use (every thread computes the same value, so the racing store is
 * benign and atomic).
 *
 * bytearray follows the list's GIL-off discipline (runtime/list.c): every
 * mutation holds the object's lock and writes bytes with atomic stores
 * (element-wise, as list.c moves its slots, when the GIL is off); readers
 * of one item take no lock and load the length, then the store (acquire),
 * and bounds-check against the store's own capacity; a store replaced by a
 * growth is retired to the collector, never freed under a reader.
 * Multi-byte reads (methods, copies, comparisons) read under the lock or a
 * snapshot taken under it. While memoryviews export its buffer, a
 * bytearray refuses to change size (BufferError), as CPython. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/object.h"

typedef struct ObjBytes {
    Obj obj;
    _Atomic int64_t hash; /* -1: not computed yet */
    size_t len;
    char data[]; /* NUL-terminated */
} ObjBytes;

typedef struct ByteStore {
    size_t cap;
    char data[];
} ByteStore;

typedef struct ObjByteArray {
    Obj obj;
    _Atomic size_t len;
    ByteStore *_Atomic store;
    struct BufferExports *_Atomic exports; /* live BUF_EXPORT views (runtime/buffer.h) */
} ObjByteArray;

#define IS_BYTES(v) IS_KIND(v, OBJ_BYTES)
#define AS_BYTES(v) ((ObjBytes *)AS_OBJ(v))
#define IS_BYTEARRAY(v) IS_KIND(v, OBJ_BYTEARRAY)
#define AS_BYTEARRAY(v) ((ObjByteArray *)AS_OBJ(v))

/* New bytes holding a copy of p[0..len): NULL after raising MemoryError. */
ObjBytes *bytes_new(TState *ts, const char *p, size_t len);
/* New bytes of `len` bytes for the caller to fill. */
ObjBytes *bytes_alloc(TState *ts, size_t len);
ObjByteArray *bytearray_new(TState *ts, const char *p, size_t len);
/* Appends p[0..n) to a bytearray (its lock taken): 0, or -1 after raising. */
int bytearray_append_bytes(TState *ts, ObjByteArray *ba, const char *p, size_t n);
/* A bytes value from any bytes-like value (a copy unless it is a bytes). */
Value bytes_from_buffer(TState *ts, Value v);
/* bytes.hex's arguments (sep, bytes_per_sep) applied to p[0..n). */
Value bytes_hex(TState *ts, const char *p, size_t n, Value *args, int nargs, struct ObjTuple *kwnames);

/* Methods of other types that belong to the bytes world. */
Value bytes_int_to_bytes(TState *ts, Value *args, int nargs, struct ObjTuple *kwnames);
Value bytes_int_from_bytes(TState *ts, Value *args, int nargs, struct ObjTuple *kwnames);

extern const struct TypeSpec bytes_type_spec;
extern const struct TypeSpec bytearray_type_spec;

#endif
