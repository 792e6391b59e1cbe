#ifndef MINI_RUNTIME_SERIALIZE_H
#define MINI_RUNTIME_SERIALIZE_H

/* The binary serialization of mini values, for values that cross process
 * boundaries (multiprocessing queues and pipes, the process pool).
 *
 * Format (all integers little-endian; "len" is a uint64):
 *
 *   message   := 'm' VERSION(=1) value
 *   value     := 'N' | 'T' | 'F'                       None, True, False
 *              | 'i' int64                              an int that fits 64 bits
 *              | 'I' sign(u8: 0 or 1) len magnitude     any other int: len bytes, LE
 *              | 'f' binary64                           a float, its IEEE-754 bits
 *              | 'c' binary64 binary64                  a complex: real, imaginary
 *              | 's' len utf8                           a str
 *              | 't' len value*                         a tuple
 *              | 'l' len value*                         a list        (memoized)
 *              | 'd' len (value value)*                 a dict        (memoized)
 *              | 'S' len value*                         a set         (memoized)
 *              | 'z' len value*                         a frozenset
 *              | 'g' len module len qualname            a function or class
 *              | 'e' len module len qualname value      an exception: its type, args
 *              | 'o' len module len qualname value      an instance of a user class:
 *                                                       its class, its attribute dict
 *                                                       (memoized)
 *              | 'r' len                                the n-th memoized container
 *   message   := 'm' VERSION 'P' len pickle                a value the above cannot hold
 *
 * Memoized values are numbered in the order their tag appears; a
 * container met again (shared, or a cycle through lists and dicts) is
 * written as 'r' with its number, so sharing and cycles survive the trip.
 * An instance is made without calling __init__ (as pickle does), then its
 * attributes are set from the dict.
 * Functions and classes travel by name: the receiver imports `module` and
 * follows the dotted qualified name, so they must be reachable that way
 * (no lambdas, no nested functions) and the receiver must have the same
 * code (a forked child has). Built-in functions and types are module
 * "builtins". A value with anything else in it (instances with __slots__
 * or their own __reduce__/__getstate__..., subclasses of the built-in
 * types, range, slice...) travels whole as a pickle (protocol 5), so the
 * common values pay nothing for it; what pickle cannot take either
 * (generators, files, locks) raises the format's TypeError "cannot
 * serialize 'X' object" in the caller. */

#include <stdbool.h>
#include <stddef.h>

#include "runtime/object.h"

struct StrBuf;

/* Appends the message for v to out (which may already hold a header).
 * Runs mini code only for a value that falls back to pickle. False after
 * raising TypeError, RecursionError or MemoryError; out may then hold a
 * partial message. */
bool serialize_dump(TState *ts, Value v, struct StrBuf *out);

/* Rebuilds the value of the message data[0..len). May import modules, so
 * it may run mini code. ERROR_VAL after raising (ValueError for data that
 * is not a valid message; ImportError/AttributeError when a function or
 * class cannot be found). */
Value serialize_load(TState *ts, const char *data, size_t len);

#endif
