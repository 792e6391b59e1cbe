#ifndef MINI_RUNTIME_FILE_H
#define MINI_RUNTIME_FILE_H

/* Text files (open(), sys.stdin/stdout/stderr): UTF-8 text over a file
 * descriptor, buffered here rather than by stdio so that the blocking
 * read(2)/write(2) calls run detached (the GIL released, the collector free
 * to run) and so that each file has its own lock for GIL-off threads.
 *
 * Writes are line-buffered on terminals (and always on stderr, as CPython)
 * and block-buffered otherwise; file_flush_std empties the standard
 * streams at exit and before fork. */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "runtime/object.h"

struct ObjTuple;

#define IS_FILE(v) IS_KIND(v, OBJ_FILE)

/* A file object over an open descriptor that it does not own (closing the
 * object leaves fd open): sys.stdin/stdout/stderr. mode is "r" or "w". */
Value file_new_fd(TState *ts, int fd, const char *name, const char *mode);

/* The built-in open(file, mode='r', buffering=-1, encoding=None,
 * errors=None, newline=None, closefd=True, opener=None). */
Value file_open(TState *ts, Value *args, int nargs, struct ObjTuple *kwnames);

/* Is this an encoding name of UTF-8 ("utf-8", "UTF8", "u8", ...)? */
bool file_is_utf8_encoding(const char *name);

/* Writes UTF-8 text to a file object (translating newlines as its mode
 * says). The caller keeps `file` reachable; `data` must stay valid while
 * the thread is detached: a C buffer, or the bytes of an object the caller
 * keeps reachable (objects never move). False after raising. */
bool file_write_str(TState *ts, Value file, const char *data, size_t len);
/* Writes out the file's buffer. False after raising. */
bool file_flush(TState *ts, Value file);
/* One line including its terminator; "" at end of file. ERROR_VAL after
 * raising. */
Value file_readline(TState *ts, Value file);

/* Flushes sys.stdout and sys.stderr (and the original streams, if they
 * were replaced). Errors are dropped: there is nowhere left to report
 * them. Called at exit and before fork. */
void file_flush_std(TState *ts);

/* The rest of a stdio stream, in a malloc'd buffer (NUL-terminated, not
 * counted in *len); NULL with errno set after a read error or when memory
 * runs out. */
char *file_slurp(FILE *f, size_t *len);

/* Raises the OSError subclass that matches errno `err` (FileNotFoundError
 * for ENOENT, PermissionError for EACCES...), with CPython's message
 * "[Errno 2] No such file or directory: 'x.txt'" and the attributes errno,
 * strerror and filename. filename may be NONE_VAL. Returns ERROR_VAL. */
Value file_raise_oserror(TState *ts, int err, Value filename);
/* The same with a second file name (rename's destination): "[Errno 2] No
 * such file or directory: 'a' -> 'b'". */
Value file_raise_oserror2(TState *ts, int err, Value filename, Value filename2);

/* os.fspath(path): a str or bytes path as it is, else what the type's
 * __fspath__ returns (which must be str or bytes). ERROR_VAL after raising
 * CPython's TypeError. */
Value file_fspath(TState *ts, Value path);

extern const struct TypeSpec file_type_spec;

#endif
