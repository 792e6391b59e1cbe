#ifndef MINI_RUNTIME_STR_H
#define MINI_RUNTIME_STR_H

/* str: immutable UTF-8 text. The hash is computed at creation (strings are
 * immutable, so no thread ever writes it later); the length in code points
 * is kept for len() and indexing, with an ASCII fast path. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/object.h"

typedef struct ObjStr {
    Obj obj;
    int64_t hash;
    size_t len;    /* bytes */
    size_t nchars; /* code points */
    char data[];   /* NUL-terminated */
} ObjStr;

#define STR_ASCII 0x1    /* Obj.aux: every byte < 0x80 */
#define STR_INTERNED 0x2 /* Obj.aux: the canonical copy in the intern table */

#define IS_STR(v) IS_KIND(v, OBJ_STR)
#define AS_STR(v) ((ObjStr *)AS_OBJ(v))
#define STR_IS_ASCII(s) (((s)->obj.aux & STR_ASCII) != 0)

/* New strings from valid UTF-8. Return NULL after raising MemoryError. */
ObjStr *str_new(TState *ts, const char *utf8, size_t len);
ObjStr *str_from_cstr(TState *ts, const char *cstr);
/* printf-style formatting into a new str. */
ObjStr *str_printf(TState *ts, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The canonical copy of a name: equal interned strings are the same
 * object, so attribute and global lookups compare pointers. */
ObjStr *str_intern(TState *ts, const char *utf8, size_t len);
ObjStr *str_intern_cstr(TState *ts, const char *cstr);
ObjStr *str_intern_obj(TState *ts, ObjStr *s);

bool str_equal(const ObjStr *a, const ObjStr *b);
/* str's hash slot (the hash made at creation); ops_hash tests for it. */
int str_hash_slot(TState *ts, Value self, int64_t *out);
/* The start/end arguments of find, count, startswith... (args[first] and
 * args[first + 1], None allowed) clamped to a sequence of n items, as
 * CPython's slice rules. False after raising. Shared by str and bytes. */
bool str_range_args(TState *ts, Value *args, int nargs, int first, size_t n, int64_t *start, int64_t *end);
/* The last occurrence of needle in hay (hay + hlen for an empty needle),
 * or NULL: memmem from the right. */
const char *str_rmemmem(const char *hay, size_t hlen, const char *needle, size_t nlen);
/* -1, 0, 1 by code point order (equal to byte order in UTF-8). */
int str_compare(const ObjStr *a, const ObjStr *b);
ObjStr *str_concat(TState *ts, const ObjStr *a, const ObjStr *b);
/* Byte offset of code point `index` (0 <= index <= nchars). */
size_t str_byte_offset(const ObjStr *s, size_t index);
/* Validates UTF-8; used for data from files, argv, the environment. */
bool str_utf8_valid(const char *p, size_t len);
int64_t str_hash_bytes(const char *p, size_t len);

/* repr(s) as Python writes it. */
ObjStr *str_repr(TState *ts, const ObjStr *s);

void str_init_interned(TState *ts); /* interns runtime/names.def */

/* Code points of valid UTF-8. str_utf8_decode reads the sequence at p
 * (at most `avail` bytes; a truncated one reads as its first byte) and
 * stores its length in *nbytes. str_utf8_encode writes 1..4 bytes. */
uint32_t str_utf8_decode(const char *p, size_t avail, size_t *nbytes);
size_t str_utf8_encode(uint32_t cp, char *out);
/* chr(cp); cp must be below 0x110000. */
ObjStr *str_from_codepoint(TState *ts, uint32_t cp);
/* A new str from a StrBuf's contents; frees the buffer either way. NULL
 * after raising MemoryError. */
struct StrBuf;
ObjStr *str_from_sb(TState *ts, struct StrBuf *sb);
/* Appends repr(v) to sb (fast for ints, strs, floats, None and bools):
 * what container reprs are made of. False after raising. */
bool str_append_repr(TState *ts, struct StrBuf *sb, Value v);
/* ascii(v): repr(v) with non-ASCII code points escaped. */
Value str_ascii(TState *ts, Value v);
/* fmt % args (printf-style formatting). */
Value str_mod(TState *ts, ObjStr *fmt, Value args);

extern const struct TypeSpec str_type_spec;

#endif
