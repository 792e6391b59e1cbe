#ifndef MINI_RUNTIME_MODULE_H
#define MINI_RUNTIME_MODULE_H

/* Module objects and the import system: built-in modules written in C,
 * modules written in mini embedded in the binary (the .mini files of stdlib/), and
 * modules found next to the script or in sys.path. */

#include "runtime/object.h"

struct ObjDict;
struct ObjStr;

typedef struct ObjModule {
    Obj obj;
    struct ObjDict *dict;
    struct ObjStr *name;
    bool initializing; /* its body is running (for circular-import messages) */
} ObjModule;

#define IS_MODULE(v) IS_KIND(v, OBJ_MODULE)
#define AS_MODULE(v) ((ObjModule *)AS_OBJ(v))

ObjModule *module_new(TState *ts, struct ObjStr *name);
/* import name (dotted): the top-level package when fromlist is empty, as
 * Python's __import__. ERROR_VAL after raising ImportError etc. */
Value module_import(TState *ts, struct ObjStr *name, Value fromlist, int level,
                    struct ObjDict *globals);
/* The import statement: module_import, or the builtins' __import__ when a
 * program replaced it (called as CPython does, with the globals, the
 * locals or None, the fromlist and the level). */
Value module_import_statement(TState *ts, struct ObjStr *name, Value fromlist, int level,
                              struct ObjDict *globals, Obj *locals, struct ObjDict *builtins);
/* module.NAME(args), the module (for a dotted name, that submodule)
 * imported on first use: for a runtime method whose body is written in
 * mini (types.GenericAlias, copyreg's object.__reduce_ex__). */
Value module_call(TState *ts, const char *module, const char *name, Value *args, int nargs);
/* MODULE.NAME of a loaded module, without importing it: how a C module
 * finds its own types and exceptions (they belong to an interpreter, not to
 * C globals). EMPTY_VAL when the module or the name is missing, ERROR_VAL
 * after raising. */
Value module_attr(TState *ts, const char *module, const char *name);
/* The type MODULE.NAME; NULL after raising RuntimeError "MODULE.NAME is
 * missing" (or MemoryError). */
ObjType *module_type(TState *ts, const char *module, const char *name);
/* Runs a file as __main__ (or a given name); returns the module. */
Value module_run_file(TState *ts, const char *path, const char *name);
Value module_run_source(TState *ts, const char *source, size_t len, const char *filename,
                        const char *name);
/* Runs module `name` as __main__, as `python -m` (runpy): its parent
 * packages are imported first, a package runs its __main__ submodule, and
 * with set_argv0 sys.argv[0] becomes the module's file. When the module
 * cannot be found or run, raises ImportError with CPython's message and
 * sets *not_found (the caller prints it without a traceback). */
Value module_run_main(TState *ts, const char *name, bool set_argv0, bool *not_found);
/* The source of the stdlib module compiled into the binary whose code
 * carries `filename` (such as "<stdlib/threading.mini>"): for tracebacks. */
bool module_embedded_source(const char *filename, const char **source, size_t *length);
/* sys.builtin_module_names (a sorted tuple of the C modules' names) and
 * sys.stdlib_module_names (a frozenset of the top-level names of every
 * module mini brings, C or mini); ERROR_VAL after raising. */
Value module_builtin_names(TState *ts);
Value module_stdlib_names(TState *ts);

/* For C modules: class NAME(base) in namespace ns, its __module__ set to
 * `module` and its __doc__ to doc (NULL: none); the class, or ERROR_VAL. */
Value module_add_exception(TState *ts, struct ObjDict *ns, struct ObjStr *module, const char *name,
                           ObjType *base, const char *doc);

extern const struct TypeSpec module_type_spec;

#endif
