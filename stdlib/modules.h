#ifndef MINI_STDLIB_MODULES_H
#define MINI_STDLIB_MODULES_H

/* The built-in modules written in C. Each init function fills the module's
 * namespace `ns` (the import system creates the module and registers it in
 * sys.modules first) and returns false after raising. */

#include <stdbool.h>

#include "runtime/object.h"

struct ObjDict;

bool mod_sys_init(TState *ts, struct ObjDict *ns);
bool mod_time_init(TState *ts, struct ObjDict *ns);
bool mod_signal_init(TState *ts, struct ObjDict *ns);
bool mod_gc_init(TState *ts, struct ObjDict *ns);
bool mod_weakref_init(TState *ts, struct ObjDict *ns);
bool mod_math_init(TState *ts, struct ObjDict *ns);
bool mod_cmath_init(TState *ts, struct ObjDict *ns);
bool mod_posix_init(TState *ts, struct ObjDict *ns);
bool mod_errno_init(TState *ts, struct ObjDict *ns);
bool mod_thread_init(TState *ts, struct ObjDict *ns);
bool mod_mp_init(TState *ts, struct ObjDict *ns);
bool mod_posixshmem_init(TState *ts, struct ObjDict *ns);
bool mod_queue_init(TState *ts, struct ObjDict *ns);
bool mod_collections_init(TState *ts, struct ObjDict *ns);
bool mod_random_init(TState *ts, struct ObjDict *ns);
bool mod_struct_init(TState *ts, struct ObjDict *ns);
bool mod_array_init(TState *ts, struct ObjDict *ns);
bool mod_gil_init(TState *ts, struct ObjDict *ns);
bool mod_contextvars_init(TState *ts, struct ObjDict *ns);
bool mod_asyncio_init(TState *ts, struct ObjDict *ns);
bool mod_hashlib_init(TState *ts, struct ObjDict *ns);
bool mod_zlib_init(TState *ts, struct ObjDict *ns);
bool mod_socket_init(TState *ts, struct ObjDict *ns);
bool mod_select_init(TState *ts, struct ObjDict *ns);
bool mod_traceback_init(TState *ts, struct ObjDict *ns);
bool mod_platform_init(TState *ts, struct ObjDict *ns);
bool mod_itertools_init(TState *ts, struct ObjDict *ns);
bool mod_operator_init(TState *ts, struct ObjDict *ns);
bool mod_functools_init(TState *ts, struct ObjDict *ns);
bool mod_subprocess_init(TState *ts, struct ObjDict *ns);
bool mod_re_init(TState *ts, struct ObjDict *ns);
bool mod_json_init(TState *ts, struct ObjDict *ns);
bool mod_ssl_init(TState *ts, struct ObjDict *ns);

#endif
