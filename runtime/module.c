#include "runtime/module.h"

#include <errno.h>
#include <limits.h>
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
#include "runtime/set.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "runtime/function.h"
#include "stdlib/builtins.h"
#include "stdlib/embedded.h"
#include "stdlib/modules.h"
#include "vm/compiler.h"
#include "vm/eval.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/vm.h"

ObjModule *module_new(TState *ts, ObjStr *name) {
    ObjModule *m = (ObjModule *)gc_alloc(ts, sizeof(ObjModule), OBJ_MODULE, ts->interp->types.module);
    if (!m) return NULL;
    m->name = name;
    m->dict = NULL;
    m->initializing = false;
    vm_push(ts, OBJ_VAL(m));
    m->dict = dict_new(ts);
    bool ok = m->dict && dict_set_str(ts, m->dict, ts->interp->names.name, OBJ_VAL(name)) == 0 &&
              dict_set_str(ts, m->dict, ts->interp->names.doc, NONE_VAL) == 0;
    vm_pop(ts);
    return ok ? m : NULL;
}

Value module_call(TState *ts, const char *module, const char *name, Value *args, int nargs) {
    ObjStr *fn_name = str_intern_cstr(ts, name);
    if (!fn_name) return ERROR_VAL;
    /* A non-empty fromlist makes the import give a dotted module itself,
     * not its top-level package. */
    Value fromlist = NONE_VAL;
    if (strchr(module, '.')) {
        ObjTuple *t = tuple_from(ts, &(Value){OBJ_VAL(fn_name)}, 1);
        if (!t) return ERROR_VAL;
        fromlist = OBJ_VAL(t);
    }
    vm_push(ts, fromlist);
    Value m = module_import(ts, str_intern_cstr(ts, module), fromlist, 0, NULL);
    vm_pop(ts);
    if (IS_ERROR(m)) return m;
    vm_push(ts, m);
    Value fn = ops_getattr(ts, m, fn_name);
    vm_pop(ts);
    if (IS_ERROR(fn)) return fn;
    vm_push(ts, fn);
    Value r = vm_call(ts, fn, args, nargs, NULL);
    vm_pop(ts);
    return r;
}

Value module_attr(TState *ts, const char *module, const char *name) {
    ObjStr *mod_name = str_intern_cstr(ts, module);
    ObjStr *attr = mod_name ? str_intern_cstr(ts, name) : NULL;
    if (!attr) return ERROR_VAL;
    Value m = dict_get_str(ts->interp->modules, mod_name);
    return IS_OBJ(m) ? ops_getattr_opt(ts, m, attr) : EMPTY_VAL;
}

ObjType *module_type(TState *ts, const char *module, const char *name) {
    Value t = module_attr(ts, module, name);
    if (IS_TYPE(t)) return AS_TYPE(t);
    if (!IS_ERROR(t)) err_format(ts, ts->interp->exc.RuntimeError, "%s.%s is missing", module, name);
    return NULL;
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
    v = class_generic_getattr_type_only(ts, self, name);
    if (!IS_EMPTY(v)) return v;
    /* PEP 562: the module's own __getattr__ answers for what it lacks. */
    Value hook = dict_get_str(m->dict, ts->interp->names.getattr);
    if (IS_EMPTY(hook)) return EMPTY_VAL;
    Value arg = OBJ_VAL(name);
    return vm_call(ts, hook, &arg, 1, NULL);
}

const TypeSpec module_type_spec = {
    .name = "module",
    .kind = OBJ_MODULE,
    .repr = module_repr,
    .getattr = module_getattr,
    .trace = module_trace,
};

/* ---- running source -------------------------------------------------- */

static Value exec_in_module(TState *ts, ObjModule *m, const char *source, size_t len,
                            const char *filename) {
    Interp *interp = ts->interp;
    ObjStr *file = str_from_cstr(ts, filename);
    if (!file || dict_set_str(ts, m->dict, interp->names.file, OBJ_VAL(file)) < 0) return ERROR_VAL;
    /* As CPython's: the module's builtins are the builtins module's. */
    Value builtins = module_import(ts, str_intern_cstr(ts, "builtins"), NONE_VAL, 0, m->dict);
    if (IS_ERROR(builtins) || dict_set_str(ts, m->dict, interp->names.builtins_, builtins) < 0) return ERROR_VAL;
    ObjCode *code = eval_compile(ts, source, len, filename, COMPILE_MODULE);
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

/* Runs source as a new module `name` (registered first, as an import
 * would) with __package__ `package` (None for a script). */
static Value run_source_as(TState *ts, const char *source, size_t len, const char *filename, const char *name,
                           Value package) {
    ObjStr *mod_name = str_intern_cstr(ts, name);
    if (!mod_name) return ERROR_VAL;
    ObjModule *m = module_new(ts, mod_name);
    if (!m) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(m));
    Value r = register_module(ts, m);
    if (!IS_ERROR(r) && dict_set_str(ts, m->dict, ts->interp->names.package, package) < 0) r = ERROR_VAL;
    if (!IS_ERROR(r)) r = exec_in_module(ts, m, source, len, filename);
    vm_pop(ts);
    return r;
}

Value module_run_source(TState *ts, const char *source, size_t len, const char *filename,
                        const char *name) {
    return run_source_as(ts, source, len, filename, name, NONE_VAL);
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
    {"builtins", NULL},
    {"sys", mod_sys_init},
    {"time", mod_time_init},
    {"math", mod_math_init},
    {"cmath", mod_cmath_init},
    {"posix", mod_posix_init},
    {"errno", mod_errno_init},
    {"_thread", mod_thread_init},
    {"_mp", mod_mp_init},
    {"_posixshmem", mod_posixshmem_init},
    {"_queue", mod_queue_init},
    {"_collections", mod_collections_init},
    {"_random", mod_random_init},
    {"_struct", mod_struct_init},
    {"_json", mod_json_init},
    {"array", mod_array_init},
    {"_re", mod_re_init},
    {"gil", mod_gil_init},
    {"_hashlib", mod_hashlib_init},
    {"zlib", mod_zlib_init},
    {"_socket", mod_socket_init},
    {"_ssl", mod_ssl_init},
    {"select", mod_select_init},
    {"_traceback", mod_traceback_init},
    {"_platform", mod_platform_init},
    {"itertools", mod_itertools_init},
    {"operator", mod_operator_init},
    {"_functools", mod_functools_init},
    {"_posixsubprocess", mod_subprocess_init},
    {"_signal", mod_signal_init},
    {"gc", mod_gc_init},
    {"_weakref", mod_weakref_init},
    {"_contextvars", mod_contextvars_init},
    {"_asyncio", mod_asyncio_init},
    {NULL, NULL},
};

static Value load_builtin(TState *ts, ObjStr *name, const BuiltinModule *b) {
    ObjModule *m = module_new(ts, name);
    if (!m) return ERROR_VAL;
    /* `builtins` is the namespace every lookup falls back to. */
    if (!b->init) m->dict = ts->interp->builtins;
    vm_push(ts, OBJ_VAL(m));
    Value r = register_module(ts, m);
    if (!IS_ERROR(r) && b->init && !b->init(ts, m->dict)) r = ERROR_VAL;
    vm_pop(ts);
    if (IS_ERROR(r)) dict_delete(ts, ts->interp->modules, OBJ_VAL(name));
    return r;
}

static bool is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Runs source as module `name`; on failure the half-made module is taken
 * out of sys.modules again, as Python does. While its body runs the module
 * is `initializing`: a `from` import of a name it has not bound yet then
 * says it is partially initialized (a circular import). */
static Value load_source(TState *ts, ObjStr *name, const char *source, size_t len,
                         const char *filename, const char *package_dir) {
    Interp *interp = ts->interp;
    ObjModule *m = module_new(ts, name);
    if (!m) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(m));
    Value r = register_module(ts, m);
    /* __package__: a package is its own; a module's is its parent's name. */
    const char *dot = strrchr(name->data, '.');
    ObjStr *package = package_dir ? name : str_intern(ts, name->data, dot ? (size_t)(dot - name->data) : 0);
    if (!package || dict_set_str(ts, m->dict, interp->names.package, OBJ_VAL(package)) < 0) r = ERROR_VAL;
    if (!IS_ERROR(r) && package_dir) {
        ObjStr *dir = str_from_cstr(ts, package_dir);
        ObjList *path = dir ? list_from(ts, (Value[]){OBJ_VAL(dir)}, 1) : NULL;
        if (!path || dict_set_str(ts, m->dict, interp->names.path, OBJ_VAL(path)) < 0) r = ERROR_VAL;
    }
    if (!IS_ERROR(r)) {
        m->initializing = true;
        r = exec_in_module(ts, m, source, len, filename);
        m->initializing = false;
    }
    vm_pop(ts);
    if (IS_ERROR(r)) {
        Value exc = err_fetch(ts);
        dict_delete(ts, interp->modules, OBJ_VAL(name));
        err_restore(ts, exc);
        return r;
    }
    /* The module may have put something else in sys.modules under its
     * name; the import returns that, as CPython's does. */
    Value final = dict_get(ts, interp->modules, OBJ_VAL(name));
    if (IS_EMPTY(final))
        return err_format(ts, interp->exc.ImportError, "Loaded module %s not found in sys.modules", name->data);
    return final;
}

static Value load_file(TState *ts, ObjStr *name, const char *path, const char *package_dir) {
    size_t len;
    char *source = read_file(path, &len);
    if (!source) return err_format(ts, ts->interp->exc.ImportError, "cannot read '%s'", path);
    Value r = load_source(ts, name, source, len, path, package_dir);
    free(source);
    return r;
}

static bool is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The suffixes of source files, in the order they win within one folder:
 * a .mini file is written for mini, so it can stand in for a .py module
 * of the same name beside it (as CPython prefers an extension module to a
 * .py file in the same folder). */
static const char *const source_suffixes[] = {".mini", ".py"};
#define N_SUFFIXES (sizeof source_suffixes / sizeof source_suffixes[0])

/* Where a module's source is: its file, and for a package its folder. */
typedef struct Location {
    char *file;        /* NULL: not found */
    char *package_dir; /* NULL: a plain module */
} Location;

static void location_free(Location *loc) {
    free(loc->file);
    free(loc->package_dir);
    *loc = (Location){0};
}

/* Looks for `leaf` in `dir` as CPython's FileFinder does: a package
 * (NAME/__init__.mini or NAME/__init__.py) first, then NAME.mini, then
 * NAME.py. A folder NAME without __init__ is a portion of a namespace
 * package: it is added to `portions` and the search goes on. False after
 * raising (out of memory). */
static bool locate_in_dir(TState *ts, const char *leaf, const char *dir, ObjList *portions, Location *loc) {
    /* A relative folder (and "", the current one) is taken from the current
     * folder, so __file__ and __path__ are absolute, as CPython's. */
    char cwd[PATH_MAX];
    const char *base = "";
    if (dir[0] != '/' && getcwd(cwd, sizeof cwd)) base = cwd;
    size_t need = strlen(base) + strlen(dir) + strlen(leaf) + 32;
    char *path = malloc(need);
    if (!path) return !IS_ERROR(err_no_memory(ts));
    char *full_dir = malloc(need);
    if (!full_dir) {
        free(path);
        return !IS_ERROR(err_no_memory(ts));
    }
    snprintf(full_dir, need, "%s%s%s", base, *base && *dir ? "/" : "", dir);
    dir = full_dir;
    bool oom = false;
    snprintf(path, need, "%s/%s", dir, leaf);
    bool folder = is_dir(path);
    for (size_t i = 0; folder && i < N_SUFFIXES && !loc->file; i++) {
        snprintf(path, need, "%s/%s/__init__%s", dir, leaf, source_suffixes[i]);
        if (is_file(path)) {
            loc->file = strdup(path);
            snprintf(path, need, "%s/%s", dir, leaf);
            loc->package_dir = strdup(path);
            oom = !loc->file || !loc->package_dir;
        }
    }
    for (size_t i = 0; i < N_SUFFIXES && !loc->file && !oom; i++) {
        snprintf(path, need, "%s/%s%s", dir, leaf, source_suffixes[i]);
        if (is_file(path)) oom = !(loc->file = strdup(path));
    }
    if (!loc->file && folder && !oom) {
        snprintf(path, need, "%s/%s", dir, leaf);
        ObjStr *s = str_from_cstr(ts, path);
        if (!s || list_append(ts, portions, OBJ_VAL(s)) < 0) {
            free(path);
            free(full_dir);
            return false;
        }
    }
    free(path);
    free(full_dir);
    if (oom) {
        location_free(loc);
        return !IS_ERROR(err_no_memory(ts));
    }
    return true;
}

/* A namespace package (PEP 420): folders of that name without __init__ on
 * the path, and no module of that name. Its __path__ lists the folders;
 * it has no __file__. */
static Value load_namespace(TState *ts, ObjStr *name, ObjList *portions) {
    Interp *interp = ts->interp;
    ObjModule *m = module_new(ts, name);
    if (!m) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(m));
    Value r = register_module(ts, m);
    if (!IS_ERROR(r) && (dict_set_str(ts, m->dict, interp->names.path, OBJ_VAL(portions)) < 0 ||
                         dict_set_str(ts, m->dict, interp->names.package, OBJ_VAL(name)) < 0 ||
                         dict_set_str(ts, m->dict, interp->names.file, NONE_VAL) < 0))
        r = ERROR_VAL;
    vm_pop(ts);
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

/* Searches the parent package's __path__ (or sys.path) for the source of
 * module `full`: fills `loc`, or leaves it empty with the namespace
 * portions found. ERROR_VAL after raising. */
static Value locate(TState *ts, ObjStr *full, Value parent, ObjList *portions, Location *loc) {
    Interp *interp = ts->interp;
    const char *dot = strrchr(full->data, '.');
    const char *leaf = dot ? dot + 1 : full->data;
    Value path = EMPTY_VAL;
    if (!IS_EMPTY(parent)) path = ops_getattr_opt(ts, parent, interp->names.path);
    else if (IS_OBJ(interp->sys_module)) path = ops_getattr_opt(ts, interp->sys_module, str_intern_cstr(ts, "path"));
    if (IS_ERROR(path)) return path;
    if (!IS_EMPTY(parent) && IS_EMPTY(path))
        return err_import(ts, interp->exc.ModuleNotFoundError, full, "No module named '%s'; '%.*s' is not a package",
                          full->data, (int)(dot - full->data), full->data);
    if (!IS_LIST(path)) return NONE_VAL;
    size_t n;
    Value *dirs = list_snapshot(ts, AS_LIST(path), &n);
    if (!dirs && n) return ERROR_VAL;
    bool ok = true;
    for (size_t i = 0; i < n && ok && !loc->file; i++)
        if (IS_STR(dirs[i])) ok = locate_in_dir(ts, leaf, AS_STR(dirs[i])->data, portions, loc);
    gc_free_buffer(dirs, n * sizeof(Value));
    return ok ? NONE_VAL : ERROR_VAL;
}

/* Finds and loads one module whose parent (if any) is loaded already. */
static Value load_module(TState *ts, ObjStr *full, Value parent) {
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
    Location loc = {0};
    ObjList *portions = list_new(ts, 0);
    if (!portions) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(portions));
    Value r = locate(ts, full, parent, portions, &loc);
    if (!IS_ERROR(r)) {
        if (loc.file) r = load_file(ts, full, loc.file, loc.package_dir);
        else if (portions->len > 0) r = load_namespace(ts, full, portions);
        else r = err_import(ts, interp->exc.ModuleNotFoundError, full, "No module named '%s'", full->data);
    }
    vm_pop(ts);
    location_free(&loc);
    return r;
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
        if (IS_NONE(module))
            return err_import(ts, interp->exc.ModuleNotFoundError, full, "import of %s halted; None in sys.modules",
                              full->data);
        if (IS_EMPTY(module)) {
            char leaf[256];
            size_t leaf_len = prefix - (size_t)(p - dotted);
            if (leaf_len >= sizeof leaf)
                return err_import(ts, interp->exc.ModuleNotFoundError, full, "No module named '%s'", full->data);
            memcpy(leaf, p, leaf_len);
            leaf[leaf_len] = '\0';
            module = load_module(ts, full, parent);
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

Value module_import_statement(TState *ts, ObjStr *name, Value fromlist, int level, ObjDict *globals,
                              Obj *locals, ObjDict *builtins) {
    Value hook = builtins ? dict_get_str(builtins, str_intern_cstr(ts, "__import__")) : EMPTY_VAL;
    if (IS_EMPTY(hook)) return err_format(ts, ts->interp->exc.ImportError, "__import__ not found");
    if (IS_KIND(hook, OBJ_NATIVE) && AS_NATIVE(hook)->fn == builtins_import)
        return module_import(ts, name, fromlist, level, globals);
    Value args[5] = {OBJ_VAL(name), OBJ_VAL(globals), locals ? OBJ_VAL(locals) : NONE_VAL, fromlist, INT_VAL(level)};
    return vm_call(ts, hook, args, 5, NULL);
}

Value module_import(TState *ts, ObjStr *name, Value fromlist, int level, ObjDict *globals) {
    ObjStr *target = name;
    if (level > 0) {
        target = resolve_relative(ts, name, level, globals);
        if (!target) return ERROR_VAL;
    }
    /* Read before the import runs mini code, which may collect: callers
     * need not root fromlist. */
    bool has_fromlist = IS_TUPLE(fromlist) && AS_TUPLE(fromlist)->len > 0;
    Value leaf = import_dotted(ts, target->data);
    if (IS_ERROR(leaf)) return leaf;
    if (has_fromlist || level > 0 || !strchr(target->data, '.')) return leaf;
    /* `import a.b` binds `a`. */
    const char *dot = strchr(target->data, '.');
    ObjStr *top = str_intern(ts, target->data, (size_t)(dot - target->data));
    if (!top) return ERROR_VAL;
    Value m = dict_get(ts, ts->interp->modules, OBJ_VAL(top));
    return IS_EMPTY(m) ? leaf : m;
}

/* ---- running a module as the program (mini -m, mini DIR) ------------- */

/* Raises the ImportError runpy reports when module `name` cannot be run. */
static Value not_runnable(TState *ts, bool *not_found, const char *fmt, const char *a, const char *b) {
    *not_found = true;
    return err_format(ts, ts->interp->exc.ImportError, fmt, a, b);
}

Value module_run_main(TState *ts, const char *name, bool set_argv0, bool *not_found) {
    Interp *interp = ts->interp;
    *not_found = false;
    ObjStr *full = str_intern_cstr(ts, name);
    if (!full) return ERROR_VAL;
    const char *dot = strrchr(name, '.');
    ObjStr *package = str_intern(ts, name, dot ? (size_t)(dot - name) : 0);
    if (!package) return ERROR_VAL;
    Value parent = EMPTY_VAL;
    if (dot) {
        parent = import_dotted(ts, package->data);
        if (IS_ERROR(parent)) {
            if (!err_matches(ts, interp->exc.ImportError)) return parent;
            Value exc = err_fetch(ts);
            vm_push(ts, exc);
            Value msg = ops_str(ts, exc);
            vm_pop(ts);
            if (IS_ERROR(msg)) return msg;
            ObjStr *why = str_printf(ts, "%s: %s", OBJ_TYPE(exc)->name->data, AS_STR(msg)->data);
            if (!why) return ERROR_VAL;
            return not_runnable(ts, not_found, "Error while finding module specification for '%s' (%s)", name,
                                why->data);
        }
    }
    if (dot && IS_EMPTY(ops_getattr_opt(ts, parent, interp->names.path))) {
        ObjStr *why = str_printf(ts, "ModuleNotFoundError: __path__ attribute not found on '%s' while trying to find '%s'",
                                 package->data, name);
        if (!why) return ERROR_VAL;
        return not_runnable(ts, not_found, "Error while finding module specification for '%s' (%s)", name, why->data);
    }
    if (!dot)
        for (const BuiltinModule *b = builtin_modules; b->name; b++)
            if (strcmp(b->name, name) == 0)
                return not_runnable(ts, not_found, "No code object available for %s%s", name, "");
    for (const EmbeddedModule *e = embedded_modules; e->name; e++)
        if (strcmp(e->name, name) == 0 && !e->is_package) {
            char filename[160];
            embedded_filename(e, filename, sizeof filename);
            return run_source_as(ts, e->source, e->length, filename, "__main__", OBJ_VAL(package));
        }
    Location loc = {0};
    ObjList *portions = list_new(ts, 0);
    if (!portions) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(portions));
    Value r = locate(ts, full, parent, portions, &loc);
    vm_pop(ts);
    if (IS_ERROR(r)) return r;
    bool is_embedded_package = false;
    for (const EmbeddedModule *e = embedded_modules; e->name; e++)
        if (strcmp(e->name, name) == 0) is_embedded_package = true;
    if (loc.package_dir || (!loc.file && portions->len > 0) || is_embedded_package) {
        /* A package runs its __main__ submodule, after its __init__. */
        location_free(&loc);
        if (IS_ERROR(import_dotted(ts, name))) return ERROR_VAL;
        ObjStr *sub = str_printf(ts, "%s.__main__", name);
        if (!sub) return ERROR_VAL;
        r = module_run_main(ts, sub->data, set_argv0, not_found);
        if (IS_ERROR(r) && *not_found) {
            err_clear(ts);
            return not_runnable(ts, not_found,
                                "No module named %s.__main__; '%s' is a package and cannot be directly executed", name,
                                name);
        }
        return r;
    }
    if (!loc.file) return not_runnable(ts, not_found, "No module named %s%s", name, "");
    size_t len;
    char *source = read_file(loc.file, &len);
    if (!source) {
        r = err_format(ts, interp->exc.ImportError, "cannot read '%s'", loc.file);
    } else {
        r = NONE_VAL;
        if (set_argv0 && IS_LIST(interp->argv) && AS_LIST(interp->argv)->len > 0) {
            ObjStr *argv0 = str_from_cstr(ts, loc.file);
            if (argv0) list_set(ts, AS_LIST(interp->argv), 0, OBJ_VAL(argv0));
            else r = ERROR_VAL;
        }
        if (!IS_ERROR(r)) r = run_source_as(ts, source, len, loc.file, "__main__", OBJ_VAL(package));
        free(source);
    }
    location_free(&loc);
    return r;
}

static int by_name(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

Value module_builtin_names(TState *ts) {
    size_t n = 0;
    while (builtin_modules[n].name) n++;
    const char *names[n + 2];
    for (size_t i = 0; i < n; i++) names[i] = builtin_modules[i].name;
    names[n++] = "builtins";
    qsort(names, n, sizeof names[0], by_name);
    ObjTuple *t = tuple_new(ts, n);
    if (!t) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(t));
    for (size_t i = 0; i < n; i++) {
        ObjStr *s = str_intern_cstr(ts, names[i]);
        if (!s) {
            vm_pop(ts);
            return ERROR_VAL;
        }
        t->items[i] = OBJ_VAL(s);
    }
    vm_pop(ts);
    return OBJ_VAL(t);
}

Value module_stdlib_names(TState *ts) {
    ObjList *names = list_new(ts, 0);
    if (!names) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(names));
    bool ok = true;
    for (const BuiltinModule *b = builtin_modules; ok && b->name; b++) {
        ObjStr *s = str_intern_cstr(ts, b->name);
        ok = s && list_append(ts, names, OBJ_VAL(s)) == 0;
    }
    for (const EmbeddedModule *e = embedded_modules; ok && e->name; e++) {
        const char *dot = strchr(e->name, '.');
        ObjStr *s = str_new(ts, e->name, dot ? (size_t)(dot - e->name) : strlen(e->name));
        ok = s && list_append(ts, names, OBJ_VAL(s)) == 0;
    }
    Value set = ok ? set_from_iterable(ts, ts->interp->types.frozenset, OBJ_VAL(names)) : ERROR_VAL;
    vm_pop(ts);
    return set;
}
