#ifndef MINI_RUNTIME_FLOAT_H
#define MINI_RUNTIME_FLOAT_H

/* float: an unboxed IEEE double (runtime/value.h). Mixed int/float
 * arithmetic converts the int exactly as Python does (OverflowError when it
 * is too large). */

#include "runtime/object.h"

/* An instance of a user subclass of float: floats themselves are unboxed,
 * so a subclass's instances carry the value in this box (and their
 * __dict__ in the usual prefix). Arithmetic on them gives plain floats. */
typedef struct ObjFloat {
    Obj obj;
    double value;
} ObjFloat;

#define IS_FLOATLIKE(v) (IS_FLOAT(v) || IS_KIND(v, OBJ_FLOAT))
static inline double float_value(Value v) { return IS_FLOAT(v) ? AS_FLOAT(v) : ((ObjFloat *)AS_OBJ(v))->value; }

Value float_binop(TState *ts, BinOp op, Value a, Value b);
Value float_unop(TState *ts, UnOp op, Value a);
int64_t float_hash(double d); /* equal to int_hash for integral values */
/* Python's comparison of a float with an int-like, exact for big ints:
 * -1, 0 or 1 as d is below, equal to or above i, FLOAT_CMP_UNORDERED when
 * d is NaN. */
#define FLOAT_CMP_UNORDERED 2
int float_compare_int(double d, Value i);

struct ObjStr;

/* divmod(a, b) with a float operand, as a tuple; NOT_IMPLEMENTED_VAL unless
 * both are floats or int-likes. */
Value float_divmod(TState *ts, Value a, Value b);
/* round(x, ndigits): ndigits EMPTY_VAL or None rounds half to even to an
 * int; otherwise a float rounded to ndigits decimal places. */
Value float_round(TState *ts, double x, Value ndigits);
/* format(x, spec) (float.__format__; the empty spec gives str(x)). */
Value float_format(TState *ts, double x, struct ObjStr *spec);
/* repr(x) == str(x) */
Value float_repr_value(TState *ts, double x);
/* A real number as a double, as CPython's PyFloat_AsDouble: floats,
 * int-likes (OverflowError when too large), user objects with __float__
 * or __index__; else TypeError "must be real number, not X". */
bool float_coerce(TState *ts, Value v, double *out);

extern const struct TypeSpec float_type_spec;

#endif
