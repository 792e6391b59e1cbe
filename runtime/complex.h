#ifndef MINI_RUNTIME_COMPLEX_H
#define MINI_RUNTIME_COMPLEX_H

/* complex: a heap object holding two doubles. Arithmetic, repr, hashing
 * and the constructor follow CPython's Objects/complexobject.c (the same
 * division, power and formatting algorithms, so results print alike). */

#include <stdbool.h>

#include "runtime/object.h"

typedef struct ObjComplex {
    Obj obj;
    double real, imag;
} ObjComplex;

#define IS_COMPLEX(v) IS_KIND(v, OBJ_COMPLEX)
#define AS_COMPLEX(v) ((ObjComplex *)AS_OBJ(v))

/* A new exact complex; ERROR_VAL after raising MemoryError. */
Value complex_new_value(TState *ts, double real, double imag);
/* A number as a complex, as CPython's PyComplex_AsCComplex: complex,
 * objects with __complex__, then real numbers (float_coerce). Raises
 * TypeError "must be real number, not X" otherwise. */
bool complex_coerce(TState *ts, Value v, double *real, double *imag);
/* a ** b on complex numbers (CPython's complex_pow, errors included). */
Value complex_pow_values(TState *ts, double ar, double ai, double br, double bi);
/* a / b with CPython's algorithm; false when b is zero. */
bool complex_quot(double ar, double ai, double br, double bi, double *qr, double *qi);

extern const struct TypeSpec complex_type_spec;

#endif
