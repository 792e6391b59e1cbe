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
} ObjModule;

#define IS_MODULE(v) IS_KIND(v, OBJ_MODULE)
#define AS_MODULE(v) ((ObjModule *)AS_OBJ(v))

ObjModule *module_new(TState *ts, struct ObjStr *name);
/* import name (dotted): the top-level package when fromlist is empty, as
 * Python's __import__. ERROR_VAL after raising ImportError etc. */
Value module_import(TState *ts, struct ObjStr *name, Value fromlist, int level,
                    struct ObjDict *globals);
/* Runs a file as __main__ (or a given name); returns the module. */
Value module_run_file(TState *ts, const char *path, const char *name);
Value module_run_source(TState *ts, const char *source, size_t len, const char *filename,
                        const char *name);
/* The source of the stdlib module compiled into the binary whose code
 * carries `filename` (such as "<stdlib/threading.mini>"): for tracebacks. */
bool module_embedded_source(const char *filename, const char **source, size_t *length);

/* For C modules: class NAME(base) in namespace ns, its __module__ set to
 * `module` and its __doc__ to doc (NULL: none); the class, or ERROR_VAL. */
Value module_add_exception(TState *ts, struct ObjDict *ns, struct ObjStr *module, const char *name,
                           ObjType *base, const char *doc);

extern const struct TypeSpec module_type_spec;

#endif
