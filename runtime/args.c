#include "runtime/args.h"

#include <string.h>

#include "runtime/error.h"
#include "runtime/float.h"
#include "runtime/int.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "vm/interp.h"

/* Also reached by a good call with an empty kwnames tuple. */
bool args_check_failed(TState *ts, const char *fname, int nargs, ObjTuple *kwnames, int min, int max) {
    ObjType *type_error = ts->interp->exc.TypeError;
    if (kwnames && kwnames->len > 0) {
        err_format(ts, type_error, "%s() takes no keyword arguments", fname);
        return false;
    }
    if (nargs >= min && (max < 0 || nargs <= max)) return true;
    if (min == max) {
        if (min == 0) err_format(ts, type_error, "%s() takes no arguments (%d given)", fname, nargs);
        else if (min == 1) err_format(ts, type_error, "%s() takes exactly one argument (%d given)", fname, nargs);
        else err_format(ts, type_error, "%s expected %d arguments, got %d", fname, min, nargs);
    } else if (nargs < min) {
        err_format(ts, type_error, "%s expected at least %d argument%s, got %d", fname, min,
                   min == 1 ? "" : "s", nargs);
    } else {
        err_format(ts, type_error, "%s expected at most %d argument%s, got %d", fname, max,
                   max == 1 ? "" : "s", nargs);
    }
    return false;
}

static const char *param_name(const char *name) { return name[0] == '$' ? name + 1 : name; }

bool args_bind(TState *ts, const char *fname, Value *args, int nargs, ObjTuple *kwnames,
               const char *const *names, int n, int required, int positional, Value *out) {
    ObjType *type_error = ts->interp->exc.TypeError;
    for (int i = 0; i < n; i++) out[i] = EMPTY_VAL;
    int given = nargs + (kwnames ? (int)kwnames->len : 0);
    if (given > n) {
        /* Argument Clinic counts every argument first ("keyword" when all
         * were given by name). */
        err_format(ts, type_error, "%s() takes at most %d %sargument%s (%d given)", fname, n,
                   nargs == 0 ? "keyword " : "", n == 1 ? "" : "s", given);
        return false;
    }
    if (nargs > positional) {
        if (positional == 0)
            err_format(ts, type_error, "%s() takes no positional arguments", fname);
        else
            err_format(ts, type_error, "%s() takes at most %d positional argument%s (%d given)", fname,
                       positional, positional == 1 ? "" : "s", nargs);
        return false;
    }
    for (int i = 0; i < nargs; i++) out[i] = args[i];
    size_t nkw = kwnames ? kwnames->len : 0;
    for (size_t k = 0; k < nkw; k++) {
        ObjStr *key = AS_STR(kwnames->items[k]);
        int found = -1;
        for (int i = 0; i < n; i++) {
            if (names[i][0] == '$') continue;
            if (strcmp(names[i], key->data) == 0) {
                found = i;
                break;
            }
        }
        if (found < 0) {
            /* Argument Clinic's wording, which CPython's built-ins use. */
            err_format(ts, type_error, "'%s' is an invalid keyword argument for %s()", key->data, fname);
            return false;
        }
        if (!IS_EMPTY(out[found])) {
            err_format(ts, type_error, "argument for %s() given by name ('%s') and position (%d)",
                       fname, key->data, found + 1);
            return false;
        }
        out[found] = args[nargs + (int)k];
    }
    for (int i = 0; i < required; i++) {
        if (IS_EMPTY(out[i])) {
            err_format(ts, type_error, "%s() missing required argument '%s' (pos %d)", fname,
                       param_name(names[i]), i + 1);
            return false;
        }
    }
    return true;
}

bool args_int(TState *ts, Value v, int64_t *out) {
    if (IS_FLOAT(v)) {
        err_format(ts, ts->interp->exc.TypeError, "'float' object cannot be interpreted as an integer");
        return false;
    }
    return ops_index(ts, v, out);
}

bool args_float(TState *ts, Value v, double *out) {
    if (IS_FLOAT(v)) {
        *out = AS_FLOAT(v);
        return true;
    }
    if (IS_INTLIKE(v)) return !IS_ERROR(int_to_float(ts, v, out));
    err_format(ts, ts->interp->exc.TypeError, "must be real number, not %s", ops_type_name(ts, v));
    return false;
}

bool args_str(TState *ts, Value v, const char *fname, ObjStr **out) {
    if (IS_STR(v)) {
        *out = AS_STR(v);
        return true;
    }
    err_format(ts, ts->interp->exc.TypeError, "%s() argument must be str, not %s", fname,
               ops_type_name(ts, v));
    return false;
}

bool args_ssize(TState *ts, Value v, int64_t *out) {
    if (IS_BIGINT(v) ? int_to_i64(v, out) : ops_index(ts, v, out)) return true;
    if (!err_occurred(ts)) err_format(ts, ts->interp->exc.OverflowError, "Python int too large to convert to C ssize_t");
    return false;
}
