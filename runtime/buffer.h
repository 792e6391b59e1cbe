#ifndef MINI_RUNTIME_BUFFER_H
#define MINI_RUNTIME_BUFFER_H

/* The buffer protocol, as CPython's: one way for C code to reach the bytes
 * of any bytes-like object (bytes, bytearray, memoryview, array.array).
 * bytes(x), bytearray(x), memoryview(x), b''.join, bytes methods taking
 * bytes-like arguments, struct.pack_into/unpack_from, io.BytesIO and binary
 * files all read and write through it, so a new exporter works everywhere
 * at once. An exporter implements the getbuffer (and, if it must undo
 * something, releasebuffer) type slots.
 *
 * Three kinds of request:
 *   BUF_READ   a read-only view for C code that runs no mini code before
 *              releasing it (so the collector cannot run meanwhile). With
 *              the GIL off, a mutable exporter hands out a snapshot taken
 *              under its lock (the GIL-off container rule "one lock at a
 *              time": never hold one exporter's lock while taking another's).
 *   BUF_WRITE  writable, for the same short C-only use: a mutable exporter
 *              is locked until buffer_release (take no other buffer
 *              meanwhile). Read-only exporters refuse it with TypeError.
 *   BUF_EXPORT a long-lived view (memoryview): direct pointers, the
 *              exporter refuses to resize until it is released
 *              (BufferError, as CPython). */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "runtime/object.h"

#define BUF_READ 0
#define BUF_WRITE 1
#define BUF_EXPORT 2

/* How many long-lived views a mutable exporter has. A small refcounted
 * cell shared by the exporter and its views, so a view collected in the
 * same cycle as its exporter (the sweep follows no order) never touches
 * freed memory: each side drops its reference, the last frees it. */
typedef struct BufferExports {
    atomic_int views;
    atomic_int refs;
} BufferExports;

typedef struct Buffer {
    char *buf;          /* the first byte */
    size_t len;         /* in bytes */
    Value obj;          /* the exporter */
    const char *format; /* struct format of one item: "B" for bytes */
    size_t itemsize;
    bool readonly;
    int flags;          /* the request */
    char *copy;         /* a snapshot to free on release, or NULL */
    BufferExports *exports; /* BUF_EXPORT of a mutable exporter, or NULL */
} Buffer;

/* Does v export a buffer? */
bool buffer_check(TState *ts, Value v);
/* Fills *view, or raises TypeError "a bytes-like object is required, not
 * 'X'" (CPython's words) and returns false. */
bool buffer_get(TState *ts, Value v, Buffer *view, int flags);
void buffer_release(TState *ts, Buffer *view);
/* For exporters: a view of `len` bytes at p; with copy, p is copied into a
 * snapshot freed on release (false after raising MemoryError). */
bool buffer_fill(TState *ts, Buffer *view, Value obj, char *p, size_t len, bool readonly,
                 int flags, bool copy);

/* Items in native layout (struct's '@' mode), shared by memoryview, array
 * and struct: the size of format char c (0: not a native item format:
 * bBhHiIlLqQnNfd?cPe), and one item read from / written to p. */
size_t buffer_item_size(char c);
Value buffer_unpack_item(TState *ts, char c, const char *p);
/* 1 packed; 0 the value is out of the format's range, -2 of a wrong
 * type (nothing raised: the caller words the error as its module does);
 * -1 after raising. */
int buffer_pack_item(TState *ts, char c, Value v, char *p);

/* For mutable exporters: counts one more view on the cell in *slot (made
 * on first use; the exporter's lock held), recorded in view->exports.
 * False after raising MemoryError. */
bool buffer_export(TState *ts, BufferExports *_Atomic *slot, Buffer *view);
/* Live views of a mutable exporter (0 with no cell): it may resize only
 * when this is 0. */
int buffer_views(BufferExports *_Atomic *slot);
/* Drops one reference to a cell (the exporter's own, when it is freed). */
void buffer_exports_drop(BufferExports *e);
/* Ends a long-lived view without a thread (a memoryview being freed). */
void buffer_release_export(Buffer *view);

#endif
