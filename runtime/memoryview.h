#ifndef MINI_RUNTIME_MEMORYVIEW_H
#define MINI_RUNTIME_MEMORYVIEW_H

/* memoryview: a one-dimensional view of any exporter of the buffer
 * protocol (runtime/buffer.h), sharing its memory. */

#include "runtime/object.h"

/* memoryview(obj), obj a bytes-like; ERROR_VAL after raising. */
Value memoryview_new(TState *ts, Value obj);

extern const struct TypeSpec memoryview_type_spec;

#endif
