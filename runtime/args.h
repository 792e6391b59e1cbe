#ifndef MINI_RUNTIME_ARGS_H
#define MINI_RUNTIME_ARGS_H

/* Argument binding for native functions, with Python's error messages. */

#include <stdbool.h>

#include "runtime/object.h"

struct ObjTuple;

/* Binds args (nargs positional, then one value per kwnames entry) to the
 * parameters `names[0..n)`: out[i] gets the argument or EMPTY_VAL when it
 * was not given. The first `required` parameters are required; the first
 * `positional` may be given positionally (the rest are keyword-only), and
 * names starting with '$' are positional-only (the '$' is not part of the
 * name). Raises TypeError as CPython words it, e.g.
 * "sorted() takes no positional arguments" or "f() missing required
 * argument 'x' (pos 1)", and returns false. */
bool args_bind(TState *ts, const char *fname, Value *args, int nargs,
               struct ObjTuple *kwnames, const char *const *names, int n,
               int required, int positional, Value *out);

/* For functions without keyword parameters: checks kwnames is empty and
 * min <= nargs <= max (max -1: unbounded), raising as CPython: "len() takes
 * exactly one argument (2 given)", "expected at most 3 arguments, got 4". */
bool args_check_failed(TState *ts, const char *fname, int nargs, struct ObjTuple *kwnames,
                       int min, int max);
/* Inline: every native function starts with it, and the bounds are
 * constants there, so a good call costs a compare or two. */
static inline bool args_check(TState *ts, const char *fname, int nargs, struct ObjTuple *kwnames,
                              int min, int max) {
    if (!kwnames && nargs >= min && (max < 0 || nargs <= max)) return true;
    return args_check_failed(ts, fname, nargs, kwnames, min, max);
}

/* args_check for a method (self in args[0]) without keyword parameters:
 * returns ERROR_VAL from the caller unless it got min..max arguments
 * besides self. Expects the NativeFn parameters ts, nargs and kwnames. */
#define ARGS_CHECK_METHOD(name, min, max)                                                 \
    do {                                                                                  \
        if (!args_check(ts, name, nargs - 1, kwnames, min, max)) return ERROR_VAL;        \
    } while (0)

/* The same for a method CPython's Argument Clinic checks: its count
 * messages name it alone ("get expected at least 1 argument, got 0"), the
 * keyword one with its type ("dict.get() takes no keyword arguments"). */
#define ARGS_CHECK_CLINIC(type, name, min, max)                                                      \
    do {                                                                                             \
        if ((kwnames || nargs - 1 < (min) || ((max) >= 0 && nargs - 1 > (max))) &&                   \
            !args_check_failed(ts, kwnames && kwnames->len > 0 ? type "." name : name, nargs - 1, kwnames, \
                               min, max))                                                            \
            return ERROR_VAL;                                                                        \
    } while (0)

/* Conversions with TypeErrors naming the function and parameter. */
bool args_int(TState *ts, Value v, int64_t *out);       /* via __index__ */
bool args_float(TState *ts, Value v, double *out);      /* int or float */
/* An index-sized int (via __index__), with CPython's OverflowError
 * "Python int too large to convert to C ssize_t" for a bigger int. */
bool args_ssize(TState *ts, Value v, int64_t *out);
bool args_str(TState *ts, Value v, const char *fname, struct ObjStr **out);

#endif
