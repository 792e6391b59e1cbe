#include "runtime/generic.h"

#include "runtime/args.h"
#include "runtime/module.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "vm/interp.h"

Value generic_class_getitem(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__class_getitem__", nargs - 1, kwnames, 1, 1)) return ERROR_VAL;
    return module_call(ts, "types", "GenericAlias", args, 2);
}

const NativeDef generic_classmethods[] = {
    {"__class_getitem__", generic_class_getitem},
    {NULL, NULL},
};

Value generic_type_binop(TState *ts, BinOp op, Value a, Value b) {
    if (op != BIN_OR) return NOT_IMPLEMENTED_VAL;
    Value args[2] = {a, b};
    return module_call(ts, "types", "_union", args, 2);
}
