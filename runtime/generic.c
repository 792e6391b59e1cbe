#include "runtime/generic.h"

#include "runtime/args.h"
#include "runtime/module.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "vm/interp.h"
#include "vm/vm.h"

/* Calls types.NAME(args): the module is imported on first use, so a
 * program that never writes list[int] or int | None never loads it. */
static Value call_types(TState *ts, const char *name, Value *args, int nargs) {
    Value m = module_import(ts, str_intern_cstr(ts, "types"), NONE_VAL, 0, NULL);
    if (IS_ERROR(m)) return m;
    vm_push(ts, m);
    Value fn = ops_getattr(ts, m, str_intern_cstr(ts, name));
    vm_pop(ts);
    if (IS_ERROR(fn)) return fn;
    vm_push(ts, fn);
    Value r = vm_call(ts, fn, args, nargs, NULL);
    vm_pop(ts);
    return r;
}

Value generic_class_getitem(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__class_getitem__", nargs - 1, kwnames, 1, 1)) return ERROR_VAL;
    return call_types(ts, "GenericAlias", args, 2);
}

const NativeDef generic_classmethods[] = {
    {"__class_getitem__", generic_class_getitem},
    {NULL, NULL},
};

Value generic_type_binop(TState *ts, BinOp op, Value a, Value b) {
    if (op != BIN_OR) return NOT_IMPLEMENTED_VAL;
    Value args[2] = {a, b};
    return call_types(ts, "_union", args, 2);
}
