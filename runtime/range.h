#ifndef MINI_RUNTIME_RANGE_H
#define MINI_RUNTIME_RANGE_H

#include "runtime/object.h"

/* A range has one of two forms. The int64 form (big false) is used whenever
 * start, stop, step and the length all fit int64: the VM and the builtins'
 * fast paths read these int64 fields. Otherwise big is true, the four are
 * int Values of any size in big_*, and the int64 fields describe an empty
 * range (0, 0, 1, len 0): code reading them must check big first. */
typedef struct ObjRange {
    Obj obj;
    int64_t start, stop, step, len;
    bool big;
    Value big_start, big_stop, big_step, big_len;
} ObjRange;

#define IS_RANGE(v) IS_KIND(v, OBJ_RANGE)
#define AS_RANGE(v) ((ObjRange *)AS_OBJ(v))

typedef struct ObjSlice {
    Obj obj;
    Value start, stop, step;
} ObjSlice;

#define IS_SLICE(v) IS_KIND(v, OBJ_SLICE)
#define AS_SLICE(v) ((ObjSlice *)AS_OBJ(v))

ObjSlice *slice_new(TState *ts, Value start, Value stop, Value step);
/* Python's slice.indices(len): 0, or -1 after raising. Returns the number
 * of selected items in *count. */
int slice_indices(TState *ts, ObjSlice *s, int64_t len, int64_t *start, int64_t *stop,
                  int64_t *step, int64_t *count);

/* Iterating a range backwards (reversed()): a range_iterator, or a
 * longrange_iterator when the reversed range needs the big form. */
Value range_reversed(TState *ts, ObjRange *r);

/* ---- helpers shared by the sequence types (str, list, tuple, range) ---- */

/* Classifies a subscript: 1 an integer (in *index), 2 a slice, 0 neither
 * (nothing raised: the caller words the TypeError), -1 after raising (an
 * int too big for an index: IndexError, as CPython). */
int seq_subscript(TState *ts, Value key, int64_t *index);
/* A start/end argument or slice bound: ints (big ones clamped to int64,
 * as CPython's _PyEval_SliceIndex) or objects with __index__. TypeError
 * "slice indices must be integers or None or have an __index__ method"
 * (without "or None" when none_ok is false). */
bool slice_index_value(TState *ts, Value v, bool none_ok, int64_t *out);
/* The count of seq * n: 1 (in *count), 0 when n is not an integer
 * (nothing raised), -1 after raising. */
int seq_repeat_count(TState *ts, Value n, int64_t *count);
/* seq * n with a non-integer n: NotImplemented when n's class has a
 * reflected method that may handle it, else CPython's TypeError "can't
 * multiply sequence by non-int of type 'X'". */
Value seq_repeat_error(TState *ts, Value n, bool n_is_right);
/* seq + other with other not of seq's type: NotImplemented when other's
 * class defines __radd__, else 'can only concatenate <type_name> (not "X")
 * to <type_name>'. */
Value seq_concat_error(TState *ts, Value other, const char *type_name);

extern const struct TypeSpec range_type_spec;
extern const struct TypeSpec slice_type_spec;

#endif
