/* The _functools module: the C half of functools (stdlib/functools.mini),
 * as CPython's module of the same name. It holds reduce, whose loop is
 * hot in user code; the rest of functools is written in mini. */

#include "runtime/args.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/function.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "stdlib/modules.h"
#include "vm/interp.h"
#include "vm/vm.h"

#define EXCS(ts) (&(ts)->interp->exc)

/* reduce(function, iterable[, initial]): the accumulator stays on the VM
 * stack (in its slot under the iterator) while the function runs. */
static Value functools_reduce(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (kwnames && kwnames->len) return err_format(ts, EXCS(ts)->TypeError, "reduce() takes no keyword arguments");
    if (nargs < 2) return err_format(ts, EXCS(ts)->TypeError, "reduce expected at least 2 arguments, got %d", nargs);
    if (nargs > 3) return err_format(ts, EXCS(ts)->TypeError, "reduce expected at most 3 arguments, got %d", nargs);
    Value it = ops_iter(ts, args[1]);
    if (IS_ERROR(it)) {
        if (!err_matches(ts, EXCS(ts)->TypeError)) return it;
        err_clear(ts);
        return err_format(ts, EXCS(ts)->TypeError, "reduce() arg 2 must support iteration");
    }
    vm_push(ts, it);
    Value acc = nargs == 3 ? args[2] : EMPTY_VAL;
    vm_push(ts, acc);
    for (;;) {
        Value x = ops_next(ts, it);
        if (IS_EMPTY(x)) break;
        if (IS_ERROR(x)) {
            acc = x;
            break;
        }
        if (IS_EMPTY(acc)) {
            acc = x;
        } else {
            vm_push(ts, x);
            Value pair[2] = {acc, x};
            acc = ops_call(ts, args[0], pair, 2, NULL);
            vm_pop(ts);
            if (IS_ERROR(acc)) break;
        }
        vm_pop(ts);
        vm_push(ts, acc);
    }
    vm_pop(ts);
    vm_pop(ts);
    if (IS_EMPTY(acc))
        return err_format(ts, EXCS(ts)->TypeError, "reduce() of empty iterable with no initial value");
    return acc;
}

bool mod_functools_init(TState *ts, ObjDict *ns) {
    ObjNative *fn = native_new(ts, "reduce", functools_reduce, NULL);
    return fn && dict_set_str(ts, ns, str_intern_cstr(ts, "reduce"), OBJ_VAL(fn)) == 0;
}
