#include "vm/boot.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/class.h"
#include "runtime/dict.h"
#include "runtime/function.h"
#include "runtime/list.h"
#include "runtime/module.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "stdlib/builtins.h"

/* sys.flags in CPython's order (stdlib/_sysinfo.mini names the fields). */
static bool set_flags(TState *ts, Value sys, const BootConfig *c) {
    const int64_t values[] = {
        0,                            /* debug */
        c->inspect,                   /* inspect */
        c->inspect,                   /* interactive */
        c->optimize,                  /* optimize */
        1,                            /* dont_write_bytecode: mini writes none */
        1,                            /* no_user_site: mini has no site-packages */
        1,                            /* no_site: nor a site module */
        c->ignore_environment,        /* ignore_environment */
        0,                            /* verbose */
        0,                            /* bytes_warning */
        c->quiet,                     /* quiet */
        0,                            /* hash_randomization */
        c->isolated,                  /* isolated */
        0,                            /* dev_mode (a bool) */
        1,                            /* utf8_mode: mini reads and writes UTF-8 */
        0,                            /* warn_default_encoding */
        c->isolated,                  /* safe_path (a bool) */
        0,                            /* int_max_str_digits: no limit */
    };
    size_t n = sizeof values / sizeof values[0];
    ObjTuple *flags = tuple_new(ts, n);
    if (!flags) return false;
    for (size_t i = 0; i < n; i++)
        flags->items[i] = i == 13 || i == 16 ? BOOL_VAL(values[i] != 0) : INT_VAL(values[i]);
    if (ops_setattr(ts, sys, str_intern_cstr(ts, "flags"), OBJ_VAL(flags)) < 0) return false;
    ObjList *warn = list_new(ts, 0);
    if (!warn || ops_setattr(ts, sys, str_intern_cstr(ts, "warnoptions"), OBJ_VAL(warn)) < 0) return false;
    /* $MINIWARNINGS (CPython's PYTHONWARNINGS): comma-separated filters,
     * before the -W ones so that those take precedence. */
    const char *env = c->ignore_environment ? NULL : getenv("MINIWARNINGS");
    while (env && *env) {
        const char *end = strchr(env, ',');
        size_t n = end ? (size_t)(end - env) : strlen(env);
        while (n > 0 && *env == ' ') env++, n--;
        while (n > 0 && env[n - 1] == ' ') n--;
        ObjStr *w = n ? str_new(ts, env, n) : NULL;
        if (n && (!w || list_append(ts, warn, OBJ_VAL(w)) < 0)) return false;
        env = end ? end + 1 : NULL;
    }
    for (int i = 0; i < c->warnoption_count; i++) {
        ObjStr *w = str_from_cstr(ts, c->warnoptions[i]);
        if (!w || list_append(ts, warn, OBJ_VAL(w)) < 0) return false;
    }
    return true;
}

bool boot_interp(TState *ts, const BootConfig *c) {
    Interp *interp = ts->interp;
    if (!builtins_init(ts, interp->builtins)) return false;
    ObjNative *build = native_new(ts, "__build_class__", class_build, NULL);
    if (!build || dict_set_str(ts, interp->builtins, str_intern_cstr(ts, "__build_class__"), OBJ_VAL(build)) < 0)
        return false;
    if (dict_set_str(ts, interp->builtins, str_intern_cstr(ts, "super"), OBJ_VAL(interp->types.super)) < 0)
        return false;

    ObjList *args = list_new(ts, 0);
    if (!args) return false;
    interp->argv = OBJ_VAL(args);
    ObjStr *s = str_from_cstr(ts, c->script_name);
    if (!s || list_append(ts, args, OBJ_VAL(s)) < 0) return false;
    for (int i = 0; i < c->argc; i++) {
        s = str_from_cstr(ts, c->argv[i]);
        if (!s || list_append(ts, args, OBJ_VAL(s)) < 0) return false;
    }

    ObjList *orig = list_new(ts, 0);
    if (!orig) return false;
    interp->orig_argv = OBJ_VAL(orig);
    for (int i = 0; i < c->orig_argc; i++) {
        s = str_from_cstr(ts, c->orig_argv[i]);
        if (!s || list_append(ts, orig, OBJ_VAL(s)) < 0) return false;
    }

    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        interp->exe_dir = strdup(dirname(exe));
    } else {
        interp->exe_dir = strdup(dirname(strdup(c->argv0)));
    }

    Value sys = module_import(ts, str_intern_cstr(ts, "sys"), NONE_VAL, 0, interp->builtins);
    if (IS_ERROR(sys)) return false;
    interp->sys_module = sys;
    /* sys.path: the script's folder (or the current one), then the
     * stdlib folder beside the binary or in the source tree. */
    ObjList *path = list_new(ts, 0);
    if (!path || ops_setattr(ts, sys, str_intern_cstr(ts, "path"), OBJ_VAL(path)) < 0) return false;
    char dir[PATH_MAX];
    if (c->path0) {
        s = str_from_cstr(ts, c->path0);
        if (!s || list_append(ts, path, OBJ_VAL(s)) < 0) return false;
    }
    /* MINIPATH's folders, as PYTHONPATH's: made absolute ("" is the
     * current folder); not with -E. */
    const char *minipath = c->ignore_environment ? NULL : getenv("MINIPATH");
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) strcpy(cwd, ".");
    while (minipath && *minipath) {
        size_t len = strcspn(minipath, ":");
        if (len == 0) s = str_from_cstr(ts, cwd);
        else if (minipath[0] == '/') s = str_new(ts, minipath, len);
        else s = str_printf(ts, "%s/%.*s", cwd, (int)len, minipath);
        if (!s || list_append(ts, path, OBJ_VAL(s)) < 0) return false;
        minipath += len + (minipath[len] == ':');
    }
    if (!set_flags(ts, sys, c)) return false;
    /* sys.version_info's fields; exit, quit, help, copyright, credits and
     * license, as CPython's site module. */
    if (IS_ERROR(module_import(ts, str_intern_cstr(ts, "_sysinfo"), NONE_VAL, 0, interp->builtins))) return false;
    Value site = module_import(ts, str_intern_cstr(ts, "_sitebuiltins"), NONE_VAL, 0, interp->builtins);
    if (IS_ERROR(site)) return false;
    Value names = dict_get_str(AS_MODULE(site)->dict, str_intern_cstr(ts, "__all__"));
    for (size_t i = 0; IS_TUPLE(names) && i < AS_TUPLE(names)->len; i++) {
        Value name = AS_TUPLE(names)->items[i];
        Value v = IS_STR(name) ? dict_get_str(AS_MODULE(site)->dict, AS_STR(name)) : EMPTY_VAL;
        if (IS_EMPTY(v) || dict_set_str(ts, interp->builtins, AS_STR(name), v) < 0) return false;
    }
    const char *candidates[] = {"%s/../stdlib", "%s/../share/mini/stdlib"};
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0] && interp->exe_dir; i++) {
        snprintf(dir, sizeof dir, candidates[i], interp->exe_dir);
        char real[PATH_MAX];
        if (!realpath(dir, real)) continue;
        s = str_from_cstr(ts, real);
        if (!s || list_append(ts, path, OBJ_VAL(s)) < 0) return false;
    }
    return true;
}
