/* The _platform module (mini only): what stdlib/platform.mini asks of the
 * C library, which mini's os module does not otherwise offer:
 *  - uname(): (sysname, nodename, release, version, machine), uname(2);
 *  - libc(): ("glibc", version) from gnu_get_libc_version, or ("", "");
 *  - compiler(): the compiler that built mini, as CPython names it. */
#include <sys/utsname.h>
#if defined(__GLIBC__)
#include <gnu/libc-version.h>
#endif

#include "runtime/args.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "stdlib/builtins.h"
#include "stdlib/modules.h"
#include "vm/interp.h"

static Value str_tuple(TState *ts, const char **items, size_t n) {
    ObjTuple *t = tuple_new(ts, n);
    if (!t) return ERROR_VAL;
    /* Allocation never collects (vm/gc.h): t needs no root meanwhile. */
    for (size_t i = 0; i < n; i++) {
        ObjStr *s = str_from_cstr(ts, items[i]);
        if (!s) return ERROR_VAL;
        t->items[i] = OBJ_VAL(s);
    }
    return OBJ_VAL(t);
}

static Value platmod_uname(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    (void)args;
    if (!args_check(ts, "uname", nargs, kwnames, 0, 0)) return ERROR_VAL;
    struct utsname u;
    if (uname(&u) != 0) return err_set_str(ts, ts->interp->exc.OSError, "uname() failed");
    const char *items[] = {u.sysname, u.nodename, u.release, u.version, u.machine};
    return str_tuple(ts, items, 5);
}

static Value platmod_libc(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    (void)args;
    if (!args_check(ts, "libc", nargs, kwnames, 0, 0)) return ERROR_VAL;
#if defined(__GLIBC__)
    const char *items[] = {"glibc", gnu_get_libc_version()};
#else
    const char *items[] = {"", ""};
#endif
    return str_tuple(ts, items, 2);
}

static Value platmod_compiler(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    (void)args;
    if (!args_check(ts, "compiler", nargs, kwnames, 0, 0)) return ERROR_VAL;
#if defined(__clang__)
    ObjStr *s = str_from_cstr(ts, "Clang " __clang_version__);
#elif defined(__GNUC__)
    ObjStr *s = str_from_cstr(ts, "GCC " __VERSION__);
#else
    ObjStr *s = str_from_cstr(ts, "");
#endif
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static const NativeDef platform_functions[] = {
    {"uname", platmod_uname},
    {"libc", platmod_libc},
    {"compiler", platmod_compiler},
    {NULL, NULL},
};

bool mod_platform_init(TState *ts, ObjDict *ns) { return builtins_add_natives(ts, ns, platform_functions); }
