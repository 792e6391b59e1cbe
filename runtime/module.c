#include "runtime/module.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "grammar/arena.h"
#include "grammar/parse.h"
#include "runtime/class.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/file.h"
#include "runtime/list.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "stdlib/embedded.h"
#include "stdlib/modules.h"
#include "vm/compiler.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/vm.h"

ObjModule *module_new(TState *ts, ObjStr *name) {
    ObjModule *m = (ObjModule *)gc_alloc(ts, sizeof(ObjModule), OBJ_MODULE, ts->interp->types.module);
    if (!m) return NULL;
    m->name = name;
    m->dict = NULL;
    vm_push(ts, OBJ_VAL(m));
    m->dict = dict_new(ts);
    bool ok = m->dict && dict_set_str(ts, m->dict, ts->interp->names.name, OBJ_VAL(name)) == 0 &&
              dict_set_str(ts, m->dict, ts->interp->names.doc, NONE_VAL) == 0;
    vm_pop(ts);
    return ok ? m : NULL;
}

static Value module_repr(TState *ts, Value self) {
    ObjModule *m = AS_MODULE(self);
    Value file = dict_get_str(m->dict, ts->interp->names.file);
    if (IS_STR(file))
        return OBJ_VAL(str_printf(ts, "<module '%s' from '%s'>", m->name->data, AS_STR(file)->data));
    return OBJ_VAL(str_printf(ts, "<module '%s' (built-in)>", m->name->data));
}

static void module_trace(GcMarker *mk, Obj *self) {
    ObjModule *m = (ObjModule *)self;
    gc_mark_obj(mk, (Obj *)m->dict);
    gc_mark_obj(mk, (Obj *)m->name);
}

static Value module_getattr(TState *ts, Value self, ObjStr *name) {
    ObjModule *m = AS_MODULE(self);
    Value v = dict_get_str(m->dict, name);
    if (!IS_EMPTY(v)) return v;
    if (name == ts->interp->names.dict) return OBJ_VAL(m->dict);
    return class_generic_getattr_type_only(ts, self, name);
}

const TypeSpec module_type_spec = {
    .name = "module",
    .kind = OBJ_MODULE,
    .repr = module_repr,
    .getattr = module_getattr,
    .trace = module_trace,
};

/* ---- running source -------------------------------------------------- */

/* Parses and compiles; raises SyntaxError (with filename, lineno, offset
 * and text, as Python's) on bad source. */
static ObjCode *compile_source(TState *ts, const char *source, size_t len, const char *filename) {
    Arena arena;
    arena_init(&arena);
    ParseResult pr = parse_module(&arena, filename, source, len);
    ObjCode *code = NULL;
    if (pr.status == PARSE_OK) {
        SyntaxErrorInfo err = {0};
        code = compile_module(ts, pr.ast, filename, COMPILE_MODULE, &err);
        if (!code && err.msg[0]) err_syntax(ts, &err, filename, source, len);
    } else {
        err_syntax(ts, &pr.error, filename, source, len);
    }
    arena_free(&arena);
    return code;
}

static Value exec_in_module(TState *ts, ObjModule *m, const char *source, size_t len,
                            const char *filename) {
    ObjStr *file = str_from_cstr(ts, filename);
    if (!file || dict_set_str(ts, m->dict, ts->interp->names.file, OBJ_VAL(file)) < 0) return ERROR_VAL;
    ObjCode *code = compile_source(ts, source, len, filename);
    if (!code) return ERROR_VAL;
    Value r = vm_run_module(ts, code, m->dict);
    return IS_ERROR(r) ? r : OBJ_VAL(m);
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = file_slurp(f, len);
    fclose(f);
    return buf;
}

static Value register_module(TState *ts, ObjModule *m) {
    if (dict_set(ts, ts->interp->modules, OBJ_VAL(m->name), OBJ_VAL(m)) < 0) return ERROR_VAL;
    return OBJ_VAL(m);
}

Value module_run_source(TState *ts, const char *source, size_t len, const char *filename,
                        const char *name) {
    ObjStr *mod_name = str_intern_cstr(ts, name);
    if (!mod_name) return ERROR_VAL;
    ObjModule *m = module_new(ts, mod_name);
    if (!m) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(m));
    Value r = register_module(ts, m);
    if (!IS_ERROR(r)) r = exec_in_module(ts, m, source, len, filename);
    vm_pop(ts);
    return r;
}

Value module_run_file(TState *ts, const char *path, const char *name) {
    size_t len;
    char *source = read_file(path, &len);
    if (!source) {
        int e = errno;
        return err_format(ts, ts->interp->exc.FileNotFoundError, "[Errno %d] %s: '%s'", e, strerror(e), path);
    }
    Value r = module_run_source(ts, source, len, path, name);
    free(source);
    return r;
}

/* ---- the import system ----------------------------------------------- */

Value module_add_exception(TState *ts, ObjDict *ns, ObjStr *module, const char *name, ObjType *base,
                           const char *doc) {
    Interp *interp = ts->interp;
    Value b = OBJ_VAL(base);
    ObjTuple *bases = tuple_from(ts, &b, 1);
    if (!bases) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(bases));
    ObjDict *body = dict_new(ts);
    Value cls = ERROR_VAL;
    if (body) {
        vm_push(ts, OBJ_VAL(body));
        ObjStr *d = doc ? str_intern_cstr(ts, doc) : NULL;
        bool ok = (!doc || d) && dict_set_str(ts, body, interp->names.module, OBJ_VAL(module)) == 0 &&
                  dict_set_str(ts, body, str_intern_cstr(ts, "__doc__"), d ? OBJ_VAL(d) : NONE_VAL) == 0;
        ObjStr *n = ok ? str_intern_cstr(ts, name) : NULL;
        cls = n ? class_new(ts, interp->types.type, n, bases, body) : ERROR_VAL;
        if (!IS_ERROR(cls) && dict_set_str(ts, ns, n, cls) < 0) cls = ERROR_VAL;
        vm_pop(ts);
    }
    vm_pop(ts);
    return cls;
}

typedef bool (*ModuleInit)(TState *ts, ObjDict *ns);

typedef struct BuiltinModule {
    const char *name;
    ModuleInit init;
} BuiltinModule;

static const BuiltinModule builtin_modules[] = {
    {"sys", mod_sys_init},
    {"time", mod_time_init},
    {"math", mod_math_init},
    {"cmath", mod_cmath_init},
    {"os", mod_os_init},
    {"_thread", mod_thread_init},
    {"_mp", mod_mp_init},
    {"_queue", mod_queue_init},
    {"_struct", mod_struct_init},
    {"array", mod_array_init},
    {NULL, NULL},
};

static Value load_builtin(TState *ts, ObjStr *name, const BuiltinModule *b) {
    ObjModule *m = module_new(ts, name);
    if (!m) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(m));
    Value r = register_module(ts, m);
    if (!IS_ERROR(r) && !b->init(ts, m->dict)) r = ERROR_VAL;
    vm_pop(ts);
    if (IS_ERROR(r)) dict_delete(ts, ts->interp->modules, OBJ_VAL(name));
    return r;
}

static bool is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Runs source as module `name`; on failure the half-made module is taken
 * out of sys.modules again, as Python does. */
static Value load_source(TState *ts, ObjStr *name, const char *source, size_t len,
                         const char *filename, const char *package_dir) {
    ObjModule *m = module_new(ts, name);
    if (!m) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(m));
    Value r = register_module(ts, m);
    if (!IS_ERROR(r) && package_dir) {
        ObjStr *dir = str_from_cstr(ts, package_dir);
        ObjList *path = dir ? list_from(ts, (Value[]){OBJ_VAL(dir)}, 1) : NULL;
        if (!path || dict_set_str(ts, m->dict, ts->interp->names.path, OBJ_VAL(path)) < 0) r = ERROR_VAL;
    }
    if (!IS_ERROR(r)) r = exec_in_module(ts, m, source, len, filename);
    vm_pop(ts);
    if (IS_ERROR(r)) {
        Value exc = err_fetch(ts);
        dict_delete(ts, ts->interp->modules, OBJ_VAL(name));
        err_restore(ts, exc);
    }
    return r;
}

static Value load_file(TState *ts, ObjStr *name, const char *path, const char *package_dir) {
    size_t len;
    char *source = read_file(path, &len);
    if (!source) return err_format(ts, ts->interp->exc.ImportError, "cannot read '%s'", path);
    Value r = load_source(ts, name, source, len, path, package_dir);
    free(source);
    return r;
}

/* Looks for `leaf` as NAME.mini or NAME/__init__.mini in `dir`. */
static Value find_in_dir(TState *ts, ObjStr *full, const char *leaf, const char *dir) {
    size_t need = strlen(dir) + strlen(leaf) + 32;
    char *path = malloc(need);
    if (!path) return err_no_memory(ts);
    Value r = EMPTY_VAL;
    snprintf(path, need, "%s/%s.mini", dir, leaf);
    if (is_file(path)) {
        r = load_file(ts, full, path, NULL);
    } else {
        snprintf(path, need, "%s/%s/__init__.mini", dir, leaf);
        if (is_file(path)) {
            char *pkg = strdup(path);
            if (!pkg) {
                free(path);
                return err_no_memory(ts);
            }
            pkg[strlen(pkg) - strlen("/__init__.mini")] = '\0';
            r = load_file(ts, full, path, pkg);
            free(pkg);
        }
    }
    free(path);
    return r;
}

/* The file name an embedded module's code carries, as in tracebacks: by its
 * path in stdlib/, so multiprocessing.process is
 * <stdlib/multiprocessing/process.mini>. */
static void embedded_filename(const EmbeddedModule *e, char *out, size_t size) {
    snprintf(out, size, "<stdlib/%s%s>", e->name, e->is_package ? "/__init__.mini" : ".mini");
    for (char *c = out + 8; *c; c++)
        if (*c == '.' && strcmp(c, ".mini>") != 0) *c = '/';
}

bool module_embedded_source(const char *filename, const char **source, size_t *length) {
    char name[160];
    for (const EmbeddedModule *e = embedded_modules; e->name; e++) {
        embedded_filename(e, name, sizeof name);
        if (strcmp(name, filename) == 0) {
            *source = e->source;
            *length = e->length;
            return true;
        }
    }
    return false;
}

/* Finds and loads one module whose parent (if any) is loaded already. */
static Value load_module(TState *ts, ObjStr *full, const char *leaf, Value parent) {
    Interp *interp = ts->interp;
    if (IS_EMPTY(parent))
        for (const BuiltinModule *b = builtin_modules; b->name; b++)
            if (strcmp(b->name, full->data) == 0) return load_builtin(ts, full, b);
    for (const EmbeddedModule *e = embedded_modules; e->name; e++)
        if (strcmp(e->name, full->data) == 0) {
            char filename[160];
            embedded_filename(e, filename, sizeof filename);
            /* An embedded package's submodules are embedded too. */
            return load_source(ts, full, e->source, e->length, filename, e->is_package ? "<stdlib>" : NULL);
        }
    /* Search the parent package's __path__, or sys.path. */
    Value path = IS_EMPTY(parent) ? EMPTY_VAL : ops_getattr_opt(ts, parent, interp->names.path);
    if (IS_EMPTY(parent) && IS_OBJ(interp->sys_module))
        path = ops_getattr_opt(ts, interp->sys_module, str_intern_cstr(ts, "path"));
    if (IS_ERROR(path)) return path;
    if (IS_LIST(path)) {
        size_t n;
        Value *dirs = list_snapshot(ts, AS_LIST(path), &n);
        if (!dirs && n) return ERROR_VAL;
        Value r = EMPTY_VAL;
        for (size_t i = 0; i < n && IS_EMPTY(r); i++)
            if (IS_STR(dirs[i])) r = find_in_dir(ts, full, leaf, AS_STR(dirs[i])->data);
        gc_free_buffer(dirs, n * sizeof(Value));
        if (!IS_EMPTY(r)) return r;
    }
    return err_import(ts, interp->exc.ModuleNotFoundError, full, "No module named '%s'", full->data);
}

static Value import_dotted(TState *ts, const char *dotted) {
    Interp *interp = ts->interp;
    Value parent = EMPTY_VAL;
    Value module = EMPTY_VAL;
    const char *p = dotted;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t prefix = dot ? (size_t)(dot - dotted) : strlen(dotted);
        ObjStr *full = str_intern(ts, dotted, prefix);
        if (!full) return ERROR_VAL;
        module = dict_get(ts, interp->modules, OBJ_VAL(full));
        if (IS_ERROR(module)) return module;
        if (IS_EMPTY(module)) {
            char leaf[256];
            size_t leaf_len = prefix - (size_t)(p - dotted);
            if (leaf_len >= sizeof leaf)
                return err_import(ts, interp->exc.ModuleNotFoundError, full, "No module named '%s'", full->data);
            memcpy(leaf, p, leaf_len);
            leaf[leaf_len] = '\0';
            module = load_module(ts, full, leaf, parent);
            if (IS_ERROR(module)) return module;
            if (!IS_EMPTY(parent)) {
                ObjStr *leaf_name = str_intern_cstr(ts, leaf);
                if (ops_setattr(ts, parent, leaf_name, module) < 0) return ERROR_VAL;
            }
        }
        if (!dot) return module;
        parent = module;
        p = dot + 1;
    }
}

/* Resolves `from ..x import y` against the importing module's package. */
static ObjStr *resolve_relative(TState *ts, ObjStr *name, int level, ObjDict *globals) {
    Interp *interp = ts->interp;
    Value package = dict_get_str(globals, interp->names.package);
    Value mod_name = dict_get_str(globals, interp->names.name);
    const char *base;
    size_t base_len;
    if (IS_STR(package)) {
        base = AS_STR(package)->data;
        base_len = AS_STR(package)->len;
    } else if (IS_STR(mod_name)) {
        base = AS_STR(mod_name)->data;
        base_len = AS_STR(mod_name)->len;
        /* A package's own __init__ is its package; else drop the leaf. */
        if (IS_EMPTY(dict_get_str(globals, interp->names.path))) {
            const char *dot = memrchr(base, '.', base_len);
            base_len = dot ? (size_t)(dot - base) : 0;
        }
    } else {
        base = "";
        base_len = 0;
    }
    for (int i = 1; i < level; i++) {
        const char *dot = memrchr(base, '.', base_len);
        if (!dot) {
            base_len = 0;
            break;
        }
        base_len = (size_t)(dot - base);
    }
    if (base_len == 0) {
        err_format(ts, interp->exc.ImportError, "attempted relative import with no known parent package");
        return NULL;
    }
    if (name->len == 0) return str_intern(ts, base, base_len);
    return str_printf(ts, "%.*s.%s", (int)base_len, base, name->data);
}

Value module_import(TState *ts, ObjStr *name, Value fromlist, int level, ObjDict *globals) {
    ObjStr *target = name;
    if (level > 0) {
        target = resolve_relative(ts, name, level, globals);
        if (!target) return ERROR_VAL;
    }
    Value leaf = import_dotted(ts, target->data);
    if (IS_ERROR(leaf)) return leaf;
    bool has_fromlist = IS_TUPLE(fromlist) && AS_TUPLE(fromlist)->len > 0;
    if (has_fromlist || level > 0 || !strchr(target->data, '.')) return leaf;
    /* `import a.b` binds `a`. */
    const char *dot = strchr(target->data, '.');
    ObjStr *top = str_intern(ts, target->data, (size_t)(dot - target->data));
    if (!top) return ERROR_VAL;
    Value m = dict_get(ts, ts->interp->modules, OBJ_VAL(top));
    return IS_EMPTY(m) ? leaf : m;
}
