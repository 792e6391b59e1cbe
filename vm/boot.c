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
#include "stdlib/builtins.h"

bool boot_interp(TState *ts, const char *argv0, const char *script_name, const char *script_path, int argc,
                 char **argv) {
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
    ObjStr *s = str_from_cstr(ts, script_name);
    if (!s || list_append(ts, args, OBJ_VAL(s)) < 0) return false;
    for (int i = 0; i < argc; i++) {
        s = str_from_cstr(ts, argv[i]);
        if (!s || list_append(ts, args, OBJ_VAL(s)) < 0) return false;
    }

    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
    } else {
        snprintf(exe, sizeof exe, "%s", argv0);
    }
    interp->exe_dir = strdup(dirname(exe));

    Value sys = module_import(ts, str_intern_cstr(ts, "sys"), NONE_VAL, 0, interp->builtins);
    if (IS_ERROR(sys)) return false;
    interp->sys_module = sys;
    /* sys.path: the script's folder (or the current one), then the
     * stdlib folder beside the binary or in the source tree. */
    ObjList *path = list_new(ts, 0);
    if (!path || ops_setattr(ts, sys, str_intern_cstr(ts, "path"), OBJ_VAL(path)) < 0) return false;
    char dir[PATH_MAX];
    if (script_path) {
        snprintf(dir, sizeof dir, "%s", script_path);
        s = str_from_cstr(ts, dirname(dir));
    } else {
        s = str_from_cstr(ts, ".");
    }
    if (!s || list_append(ts, path, OBJ_VAL(s)) < 0) return false;
    if (IS_ERROR(module_import(ts, str_intern_cstr(ts, "_sysinfo"), NONE_VAL, 0, interp->builtins)))
        return false;
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
