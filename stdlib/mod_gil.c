/* The gil module (mini only): which GIL design runs, and the live numbers
 * of --gil-stats, so an experiment at the prompt can read them.
 *
 * gil.design() is the --gil= name ("mini", "cpython", "legacy", "fifo" or
 * "off"). gil.stats() is a list with a dict per thread: the running
 * threads, then those that ended (kept only under --gil-stats); empty with
 * the GIL off, where nobody waits for it. gil.mark(label) records a phase
 * marker on the --gil-trace / --gil-timeline output. */
#include "runtime/args.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/int.h"
#include "runtime/list.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "stdlib/builtins.h"
#include "stdlib/modules.h"
#include "vm/gil.h"
#include "vm/interp.h"

static Value gilmod_design(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    (void)args;
    if (!args_check(ts, "design", nargs, kwnames, 0, 0)) return ERROR_VAL;
    Interp *interp = ts->interp;
    ObjStr *s = str_intern_cstr(ts, gil_design_name(interp->gil_enabled ? interp->gil.design : GIL_DESIGN_OFF));
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

typedef struct StatsBuilder {
    TState *ts;
    ObjList *list;
    bool failed;
} StatsBuilder;

static bool put(TState *ts, ObjDict *d, const char *key, Value v) {
    ObjStr *k = str_intern_cstr(ts, key);
    return k && !IS_ERROR(v) && dict_set(ts, d, OBJ_VAL(k), v) == 0;
}

/* Allocation never collects (vm/gc.h), so the fresh dicts need no root
 * until the list holds them. */
static void add_thread(void *ctx, const char *name, const GilThreadStats *st) {
    StatsBuilder *b = ctx;
    if (b->failed) return;
    TState *ts = b->ts;
    ObjDict *d = dict_new(ts);
    ObjStr *n = d ? str_from_cstr(ts, name) : NULL;
    b->failed = !n || !put(ts, d, "name", OBJ_VAL(n)) ||
                !put(ts, d, "running", FLOAT_VAL((double)st->run_ns / 1e9)) ||
                !put(ts, d, "waiting", FLOAT_VAL((double)st->wait_ns / 1e9)) ||
                !put(ts, d, "acquisitions", int_from_u64(ts, st->acquisitions)) ||
                !put(ts, d, "longest_wait", FLOAT_VAL((double)st->longest_wait_ns / 1e9)) ||
                !put(ts, d, "switches", int_from_u64(ts, st->switches_in)) ||
                !put(ts, d, "checks", int_from_u64(ts, st->checks)) || list_append(ts, b->list, OBJ_VAL(d)) != 0;
}

static Value gilmod_stats(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    (void)args;
    if (!args_check(ts, "stats", nargs, kwnames, 0, 0)) return ERROR_VAL;
    StatsBuilder b = {ts, list_new(ts, 0), false};
    if (!b.list) return ERROR_VAL;
    if (ts->interp->gil_enabled) gil_each_thread_stats(ts->interp, ts, add_thread, &b);
    return b.failed ? ERROR_VAL : OBJ_VAL(b.list);
}

/* A phase marker on --gil-trace / --gil-timeline; nothing without them. */
static Value gilmod_mark(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "mark", nargs, kwnames, 1, 1)) return ERROR_VAL;
    ObjStr *label;
    if (!args_str(ts, args[0], "mark", &label)) return ERROR_VAL;
    if (!trace_mark(ts, label->data)) return err_no_memory(ts);
    return NONE_VAL;
}

static const NativeDef gil_functions[] = {
    {"design", gilmod_design},
    {"stats", gilmod_stats},
    {"mark", gilmod_mark},
    {NULL, NULL},
};

bool mod_gil_init(TState *ts, ObjDict *ns) { return builtins_add_natives(ts, ns, gil_functions); }
