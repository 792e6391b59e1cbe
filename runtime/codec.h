#ifndef MINI_RUNTIME_CODEC_H
#define MINI_RUNTIME_CODEC_H

/* Text encodings: str.encode, bytes.decode, bytes(str, encoding) and
 * str(bytes, encoding). The codecs are CPython's utf-8, utf-8-sig, ascii and latin-1
 * (with their aliases); error handlers strict, ignore, replace,
 * backslashreplace and (encoding) xmlcharrefreplace. Errors are CPython's
 * UnicodeEncodeError / UnicodeDecodeError with its messages and the
 * encoding, object, start, end and reason attributes. */

#include <stddef.h>

#include "runtime/object.h"

struct ObjStr;
struct ObjTuple;

/* encoding and errors: str values, or EMPTY_VAL for the defaults. */
Value codec_encode(TState *ts, struct ObjStr *s, Value encoding, Value errors);
Value codec_decode(TState *ts, const char *p, size_t len, Value encoding, Value errors);
/* str.encode(encoding='utf-8', errors='strict') */
Value codec_str_encode(TState *ts, Value *args, int nargs, struct ObjTuple *kwnames);

#endif
