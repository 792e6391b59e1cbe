/* The sys module: the interpreter's own state (argv, modules, path, the
 * standard streams, the recursion limit) and its identity: mini follows
 * Python 3.11, so version and version_info say 3.11, with mini's own
 * version in the text of sys.version. */

#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "runtime/args.h"
#include "runtime/class.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/file.h"
#include "runtime/function.h"
#include "runtime/int.h"
#include "runtime/list.h"
#include "runtime/module.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "stdlib/builtins.h"
#include "stdlib/modules.h"
#include "vm/settrace.h"
#include "vm/config.h"
#include "vm/interp.h"
#include "vm/vm.h"

static Value sys_exit(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "exit", nargs, kwnames, 0, 1)) return ERROR_VAL;
    Value exc = exc_new(ts, ts->interp->exc.SystemExit, args, nargs);
    return IS_ERROR(exc) ? exc : err_raise(ts, exc);
}

static Value sys_getrecursionlimit(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "getrecursionlimit", nargs, kwnames, 0, 0)) return ERROR_VAL;
    return INT_VAL(atomic_load_explicit(&ts->interp->recursion_limit, memory_order_relaxed));
}

static Value sys_setrecursionlimit(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "setrecursionlimit", nargs, kwnames, 1, 1)) return ERROR_VAL;
    Interp *interp = ts->interp;
    Value v = int_index(ts, args[0]);
    if (IS_ERROR(v)) return v;
    int64_t limit;
    if (!int_to_i64(v, &limit) || limit < INT_MIN || limit > INT_MAX)
        return err_format(ts, interp->exc.OverflowError, "Python int too large to convert to C int");
    if (limit < 1)
        return err_format(ts, interp->exc.ValueError, "recursion limit must be greater or equal than 1");
    if (limit > MINI_MAX_RECURSION_LIMIT)
        return err_format(ts, interp->exc.ValueError,
                          "recursion limit %lld is above the maximum mini supports (%d)", (long long)limit,
                          MINI_MAX_RECURSION_LIMIT);
    /* As CPython counts it: the running frames plus this call. */
    int depth = ts->frame_count;
    if (limit <= depth)
        return err_format(ts, interp->exc.RecursionError,
                          "cannot set the recursion limit to %lld at the recursion depth %d: the limit is too low",
                          (long long)limit, depth);
    atomic_store_explicit(&interp->recursion_limit, (int)limit, memory_order_relaxed);
    return NONE_VAL;
}

static Value sys_getswitchinterval(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "getswitchinterval", nargs, kwnames, 0, 0)) return ERROR_VAL;
    uint64_t ns = atomic_load_explicit(&ts->interp->gil.interval_ns, memory_order_relaxed);
    return FLOAT_VAL((double)ns / 1e9);
}

static Value sys_setswitchinterval(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "setswitchinterval", nargs, kwnames, 1, 1)) return ERROR_VAL;
    double seconds;
    if (!args_float(ts, args[0], &seconds)) return ERROR_VAL;
    if (!(seconds > 0.0))
        return err_format(ts, ts->interp->exc.ValueError, "switch interval must be strictly positive");
    double ns = seconds * 1e9;
    /* Anything below a nanosecond still switches as often as possible. */
    uint64_t interval = ns < 1.0 ? 1 : ns >= 1e18 ? (uint64_t)1e18 : (uint64_t)ns;
    atomic_store_explicit(&ts->interp->gil.interval_ns, interval, memory_order_relaxed);
    return NONE_VAL;
}

/* Python 2's check interval, under --gil=legacy only (CPython 3.9
 * removed these): ticks between the holder's checks; n <= 0 checks at
 * every tick, as in Python 2. */
static Value sys_getcheckinterval(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "getcheckinterval", nargs, kwnames, 0, 0)) return ERROR_VAL;
    return INT_VAL(atomic_load_explicit(&ts->interp->gil.check_interval, memory_order_relaxed));
}

static Value sys_setcheckinterval(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "setcheckinterval", nargs, kwnames, 1, 1)) return ERROR_VAL;
    int64_t n;
    if (!args_int(ts, args[0], &n)) return ERROR_VAL;
    int ticks = n > INT_MAX ? INT_MAX : n < INT_MIN ? INT_MIN : (int)n;
    atomic_store_explicit(&ts->interp->gil.check_interval, ticks, memory_order_relaxed);
    return NONE_VAL;
}

static const NativeDef sys_legacy_gil_functions[] = {
    {"getcheckinterval", sys_getcheckinterval},
    {"setcheckinterval", sys_setcheckinterval},
    {NULL, NULL},
};

static Value sys_is_gil_enabled(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "_is_gil_enabled", nargs, kwnames, 0, 0)) return ERROR_VAL;
    return BOOL_VAL(ts->interp->gil_enabled);
}

static Value sys_intern(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "intern", nargs, kwnames, 1, 1)) return ERROR_VAL;
    ObjStr *s;
    if (!args_str(ts, args[0], "intern", &s)) return ERROR_VAL;
    ObjStr *interned = str_intern_obj(ts, s);
    return interned ? OBJ_VAL(interned) : ERROR_VAL;
}

/* The exception being handled (an except block's), or None. */
static Value handled_exception(TState *ts) {
    Value exc = ts->handled;
    return IS_EXCEPTION(exc) ? exc : NONE_VAL;
}

static Value sys_exc_info(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "exc_info", nargs, kwnames, 0, 0)) return ERROR_VAL;
    Value exc = handled_exception(ts);
    ObjTuple *t = tuple_new(ts, 3);
    if (!t) return ERROR_VAL;
    if (!IS_NONE(exc)) {
        t->items[0] = OBJ_VAL(OBJ_TYPE(exc));
        t->items[1] = exc;
        t->items[2] = AS_EXCEPTION(exc)->traceback;
    }
    return OBJ_VAL(t);
}

static Value sys_exception(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "exception", nargs, kwnames, 0, 0)) return ERROR_VAL;
    return handled_exception(ts);
}

static Value sys_getdefaultencoding(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "getdefaultencoding", nargs, kwnames, 0, 0)) return ERROR_VAL;
    ObjStr *s = str_intern_cstr(ts, "utf-8");
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

/* sys.set_asyncgen_hooks([firstiter] [, finalizer]): the thread's hooks;
 * an argument not given leaves its hook as it is. */
static Value sys_set_asyncgen_hooks(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"firstiter", "finalizer"};
    Value a[2];
    if (!args_bind(ts, "set_asyncgen_hooks", args, nargs, kwnames, names, 2, 0, 2, a)) return ERROR_VAL;
    /* CPython checks the finalizer first. */
    for (int i = 1; i >= 0; i--)
        if (!IS_EMPTY(a[i]) && !IS_NONE(a[i]) && !val_type(ts, a[i])->call)
            return err_format(ts, ts->interp->exc.TypeError, "callable %s expected, got %s", names[i],
                              ops_type_name(ts, a[i]));
    if (!IS_EMPTY(a[0])) ts->asyncgen_firstiter = a[0];
    if (!IS_EMPTY(a[1])) ts->asyncgen_finalizer = a[1];
    return NONE_VAL;
}

/* sys.get_asyncgen_hooks(): (firstiter, finalizer), a plain tuple where
 * CPython's is a named structseq (docs/language.md). */
static Value sys_get_asyncgen_hooks(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    (void)args;
    if (!args_check(ts, "get_asyncgen_hooks", nargs, kwnames, 0, 0)) return ERROR_VAL;
    ObjTuple *t = tuple_from(ts, (Value[]){ts->asyncgen_firstiter, ts->asyncgen_finalizer}, 2);
    return t ? OBJ_VAL(t) : ERROR_VAL;
}

/* sys.excepthook(type, value, traceback): prints the exception as an
 * uncaught one is printed (sys.__excepthook__ keeps it when a program
 * installs its own, which vm/main.c then calls). */
static Value sys_excepthook(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "excepthook", nargs, kwnames, 3, 3)) return ERROR_VAL;
    file_flush_std(ts);
    /* CPython prints this complaint rather than raising it. */
    if (!IS_EXCEPTION(args[1]))
        fprintf(stderr, "TypeError: print_exception(): Exception expected for value, %s found\n",
                ops_type_name(ts, args[1]));
    else
        err_print(ts, args[1]);
    return NONE_VAL;
}

static const NativeDef sys_functions[] = {
    {"excepthook", sys_excepthook},
    {"set_asyncgen_hooks", sys_set_asyncgen_hooks},
    {"get_asyncgen_hooks", sys_get_asyncgen_hooks},
    {"exit", sys_exit},
    {"getrecursionlimit", sys_getrecursionlimit},
    {"setrecursionlimit", sys_setrecursionlimit},
    {"getswitchinterval", sys_getswitchinterval},
    {"setswitchinterval", sys_setswitchinterval},
    {"_is_gil_enabled", sys_is_gil_enabled},
    {"intern", sys_intern},
    {"exc_info", sys_exc_info},
    {"exception", sys_exception},
    {"getdefaultencoding", sys_getdefaultencoding},
    {"getfilesystemencoding", sys_getdefaultencoding},
    {"settrace", tracer_settrace},
    {"gettrace", tracer_gettrace},
    {"setprofile", tracer_setprofile},
    {"getprofile", tracer_getprofile},
    {"_getframe", tracer_getframe},
    {NULL, NULL},
};

static bool add_str(TState *ts, ObjDict *ns, const char *name, const char *text) {
    ObjStr *s = str_from_cstr(ts, text);
    return s && builtins_add_value(ts, ns, name, OBJ_VAL(s));
}

/* sys.stdin/stdout/stderr and the originals, __stdin__ etc. */
static bool add_streams(TState *ts, ObjDict *ns) {
    static const struct {
        int fd;
        const char *name, *label, *mode, *original;
    } streams[] = {
        {STDIN_FILENO, "stdin", "<stdin>", "r", "__stdin__"},
        {STDOUT_FILENO, "stdout", "<stdout>", "w", "__stdout__"},
        {STDERR_FILENO, "stderr", "<stderr>", "w", "__stderr__"},
    };
    for (size_t i = 0; i < sizeof streams / sizeof streams[0]; i++) {
        Value f = file_new_fd(ts, streams[i].fd, streams[i].label, streams[i].mode);
        if (IS_ERROR(f) || !builtins_add_value(ts, ns, streams[i].name, f) ||
            !builtins_add_value(ts, ns, streams[i].original, f))
            return false;
    }
    return true;
}

/* sys.implementation: an object with name, version and cache_tag, as
 * CPython's (a SimpleNamespace there). */
static bool add_implementation(TState *ts, ObjDict *ns, Value version_info) {
    ObjDict *attrs = dict_new(ts);
    if (!attrs) return false;
    vm_push(ts, OBJ_VAL(attrs));
    ObjStr *name = str_intern_cstr(ts, "SimpleNamespace");
    ObjTuple *bases = name ? tuple_new(ts, 0) : NULL;
    bool ok = bases && add_str(ts, attrs, "name", "mini") &&
              builtins_add_value(ts, attrs, "version", version_info) &&
              builtins_add_value(ts, attrs, "cache_tag", NONE_VAL) && add_str(ts, attrs, "__module__", "types");
    Value cls = ok ? class_new(ts, ts->interp->types.type, name, bases, attrs) : ERROR_VAL;
    vm_pop(ts);
    if (IS_ERROR(cls)) return false;
    vm_push(ts, cls);
    Value impl = ops_call(ts, cls, NULL, 0, NULL);
    vm_pop(ts);
    return !IS_ERROR(impl) && builtins_add_value(ts, ns, "implementation", impl);
}

bool mod_sys_init(TState *ts, ObjDict *ns) {
    Interp *interp = ts->interp;
    if (!builtins_add_natives(ts, ns, sys_functions) || !add_streams(ts, ns)) return false;
    if (!builtins_add_value(ts, ns, "__excepthook__", dict_get_str(ns, str_intern_cstr(ts, "excepthook"))))
        return false;
    if (interp->gil_enabled && interp->gil.design == GIL_DESIGN_LEGACY &&
        !builtins_add_natives(ts, ns, sys_legacy_gil_functions))
        return false;

    int major = 3, minor = 11;
    sscanf(MINI_LANGUAGE_VERSION, "%d.%d", &major, &minor);
    char version[64];
    snprintf(version, sizeof version, "%d.%d.0 (mini %s)", major, minor, MINI_VERSION);
    ObjStr *release = str_intern_cstr(ts, "final");
    ObjTuple *version_info = release ? tuple_new(ts, 5) : NULL;
    if (!version_info) return false;
    version_info->items[0] = INT_VAL(major);
    version_info->items[1] = INT_VAL(minor);
    version_info->items[2] = INT_VAL(0);
    version_info->items[3] = OBJ_VAL(release);
    version_info->items[4] = INT_VAL(0);
    if (!builtins_add_value(ts, ns, "version_info", OBJ_VAL(version_info)) || !add_str(ts, ns, "version", version) ||
        !builtins_add_value(ts, ns, "hexversion", INT_VAL((major << 24) | (minor << 16) | 0xF0)) ||
        !add_implementation(ts, ns, OBJ_VAL(version_info)))
        return false;

    Value argv = interp->argv;
    if (!IS_LIST(argv)) {
        ObjList *empty = list_new(ts, 0);
        if (!empty) return false;
        argv = OBJ_VAL(empty);
    }
    Value orig_argv = interp->orig_argv;
    if (!IS_LIST(orig_argv)) {
        ObjList *empty = list_new(ts, 0);
        if (!empty) return false;
        orig_argv = OBJ_VAL(empty);
    }
    ObjList *path = list_new(ts, 0);
    if (!path || !builtins_add_value(ts, ns, "argv", argv) || !builtins_add_value(ts, ns, "orig_argv", orig_argv) ||
        !builtins_add_value(ts, ns, "path", OBJ_VAL(path)) ||
        !builtins_add_value(ts, ns, "modules", OBJ_VAL(interp->modules)))
        return false;
    Value builtin_names = module_builtin_names(ts);
    if (IS_ERROR(builtin_names) || !builtins_add_value(ts, ns, "builtin_module_names", builtin_names)) return false;
    Value stdlib_names = module_stdlib_names(ts);
    if (IS_ERROR(stdlib_names) || !builtins_add_value(ts, ns, "stdlib_module_names", stdlib_names)) return false;

    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    Value maxsize = int_from_i64(ts, INT64_MAX);
    return !IS_ERROR(maxsize) && builtins_add_value(ts, ns, "maxsize", maxsize) &&
           builtins_add_value(ts, ns, "maxunicode", INT_VAL(0x10FFFF)) &&
           add_str(ts, ns, "executable", exe) && add_str(ts, ns, "platform", "linux") &&
           add_str(ts, ns, "byteorder", __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? "little" : "big");
}
