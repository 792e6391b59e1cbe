#ifndef MINI_RUNTIME_VALUE_H
#define MINI_RUNTIME_VALUE_H

/* A mini value is one 64-bit word (NaN boxing).
 *
 * Why one word: with the GIL off, threads read and write list slots, dict
 * entries, globals and attributes concurrently. An aligned 64-bit store is
 * atomic, so a racing reader sees either the old or the new value, never a
 * torn mix of a tag and someone else's payload. Races stay at the language
 * level (lost updates), never corrupt the interpreter.
 *
 * Layout, by the top 16 bits:
 *   0x0000..0xFFF8  a double, stored as is (NaNs canonicalised to 0x7FF8...)
 *   0xFFF9          a pointer to a heap object (48-bit address)
 *   0xFFFA          a small int, 48-bit two's complement payload
 *   0xFFFB          a special constant: None, True, False, and the
 *                   interpreter's internal markers (ERROR, EMPTY, ...)
 * Ints outside the small range live on the heap (runtime/int.h).
 */

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef uint64_t Value;

#define VAL_TAG_SHIFT 48
#define VAL_TAG_OBJ ((uint64_t)0xFFF9 << VAL_TAG_SHIFT)
#define VAL_TAG_INT ((uint64_t)0xFFFA << VAL_TAG_SHIFT)
#define VAL_TAG_SPECIAL ((uint64_t)0xFFFB << VAL_TAG_SHIFT)
#define VAL_PAYLOAD_MASK (((uint64_t)1 << VAL_TAG_SHIFT) - 1)
#define VAL_TAG_MASK (~VAL_PAYLOAD_MASK)

#define SMALL_INT_MAX (((int64_t)1 << 47) - 1)
#define SMALL_INT_MIN (-((int64_t)1 << 47))

/* Specials. ERROR is what a function returns when it raised (the exception
 * is on the thread); EMPTY marks unbound locals and deleted dict entries;
 * NOT_IMPLEMENTED is Python's NotImplemented. */
#define NONE_VAL (VAL_TAG_SPECIAL | 0)
#define FALSE_VAL (VAL_TAG_SPECIAL | 2)
#define TRUE_VAL (VAL_TAG_SPECIAL | 3)
#define ERROR_VAL (VAL_TAG_SPECIAL | 4)
#define EMPTY_VAL (VAL_TAG_SPECIAL | 5)
#define NOT_IMPLEMENTED_VAL (VAL_TAG_SPECIAL | 6)
#define ELLIPSIS_VAL (VAL_TAG_SPECIAL | 7)

#define IS_FLOAT(v) ((v) < VAL_TAG_OBJ)
#define IS_OBJ(v) (((v) & VAL_TAG_MASK) == VAL_TAG_OBJ)
#define IS_INT(v) (((v) & VAL_TAG_MASK) == VAL_TAG_INT)
#define IS_SPECIAL(v) (((v) & VAL_TAG_MASK) == VAL_TAG_SPECIAL)
#define IS_NONE(v) ((v) == NONE_VAL)
#define IS_BOOL(v) (((v) | 1) == TRUE_VAL)
#define IS_ERROR(v) ((v) == ERROR_VAL)
#define IS_EMPTY(v) ((v) == EMPTY_VAL)
#define IS_NOT_IMPLEMENTED(v) ((v) == NOT_IMPLEMENTED_VAL)

#define AS_OBJ(v) ((struct Obj *)(uintptr_t)((v) & VAL_PAYLOAD_MASK))
#define AS_INT(v) (((int64_t)((v) << 16)) >> 16)
#define AS_BOOL(v) ((v) == TRUE_VAL)

#define OBJ_VAL(o) (VAL_TAG_OBJ | (uint64_t)(uintptr_t)(o))
#define INT_VAL(i) (VAL_TAG_INT | ((uint64_t)(i) & VAL_PAYLOAD_MASK))
#define BOOL_VAL(b) ((b) ? TRUE_VAL : FALSE_VAL)

#define SMALL_INT_FITS(i) ((i) >= SMALL_INT_MIN && (i) <= SMALL_INT_MAX)

static inline double AS_FLOAT(Value v) {
    double d;
    memcpy(&d, &v, sizeof d);
    return d;
}

static inline Value FLOAT_VAL(double d) {
    Value v;
    if (d != d) return (Value)0x7FF8000000000000ULL; /* one canonical NaN */
    memcpy(&v, &d, sizeof v);
    return v;
}

#endif
