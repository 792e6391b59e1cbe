/* The _posixshmem module, under multiprocessing.shared_memory: POSIX
 * shared memory objects by name (shm_open, shm_unlink, as CPython's
 * _posixshmem) and mmap(fd, size), a shared read-write mapping of one
 * that exports its bytes to memoryview (CPython maps it with the mmap
 * module, which mini does not have).
 *
 * Every view of a mapping is counted, the short ones C code takes too: with
 * the GIL off another thread could otherwise unmap the memory under a
 * reader. close() refuses while any view is alive (BufferError, CPython's
 * words), so a memoryview can never point at unmapped memory. */

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime/args.h"
#include "runtime/buffer.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/file.h"
#include "runtime/function.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "stdlib/builtins.h"
#include "stdlib/modules.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/vm.h"

#define EXC(ts) (&(ts)->interp->exc)

/* shm_open(path, flags, mode=0o777): a descriptor (close-on-exec, as
 * shm_open makes it); OSError naming the path. */
static Value shm_open_fn(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"path", "flags", "mode"};
    Value v[3];
    if (!args_bind(ts, "shm_open", args, nargs, kwnames, names, 3, 2, 3, v)) return ERROR_VAL;
    ObjStr *path;
    int64_t flags, mode = 0777;
    if (!args_str(ts, v[0], "shm_open", &path) || !args_int(ts, v[1], &flags)) return ERROR_VAL;
    if (!IS_EMPTY(v[2]) && !args_int(ts, v[2], &mode)) return ERROR_VAL;
    if (interp_sandbox_refuses(ts, "shm_open()")) return ERROR_VAL;
    if (strlen(path->data) != path->len) return err_format(ts, EXC(ts)->ValueError, "embedded null character");
    int fd, err;
    do {
        fd = shm_open(path->data, (int)flags, (mode_t)mode);
        err = errno;
    } while (fd < 0 && err == EINTR);
    if (fd < 0) return file_raise_oserror(ts, err, v[0]);
    return INT_VAL(fd);
}

static Value shm_unlink_fn(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"path"};
    Value v[1];
    if (!args_bind(ts, "shm_unlink", args, nargs, kwnames, names, 1, 1, 1, v)) return ERROR_VAL;
    ObjStr *path;
    if (!args_str(ts, v[0], "shm_unlink", &path)) return ERROR_VAL;
    if (interp_sandbox_refuses(ts, "shm_unlink()")) return ERROR_VAL;
    if (strlen(path->data) != path->len) return err_format(ts, EXC(ts)->ValueError, "embedded null character");
    if (shm_unlink(path->data) != 0) return file_raise_oserror(ts, errno, v[0]);
    return NONE_VAL;
}

/* ---- mmap ------------------------------------------------------------------ */

typedef struct ObjMapping {
    Obj obj;
    char *addr; /* NULL once closed */
    size_t len;
    BufferExports *_Atomic exports;
} ObjMapping;

#define AS_MAPPING(v) ((ObjMapping *)AS_OBJ(v))

/* mmap(fd, size): the first size bytes of fd, shared and writable. */
static Value mapping_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"fileno", "length"};
    Value v[2];
    if (!args_bind(ts, "mmap", args, nargs, kwnames, names, 2, 2, 2, v)) return ERROR_VAL;
    int64_t fd, len;
    if (!args_int(ts, v[0], &fd) || !args_int(ts, v[1], &len)) return ERROR_VAL;
    if (len < 0) return err_format(ts, EXC(ts)->OverflowError, "memory mapped length must be positive");
    if (len == 0) return err_format(ts, EXC(ts)->ValueError, "cannot mmap an empty file");
    if (fd < 0 || fd > INT32_MAX) return file_raise_oserror(ts, EBADF, NONE_VAL);
    void *addr = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED, (int)fd, 0);
    if (addr == MAP_FAILED) return file_raise_oserror(ts, errno, NONE_VAL);
    ObjMapping *m = (ObjMapping *)gc_alloc(ts, sizeof(ObjMapping), OBJ_OPAQUE, type);
    if (!m) {
        munmap(addr, (size_t)len);
        return ERROR_VAL;
    }
    m->addr = addr;
    m->len = (size_t)len;
    atomic_init(&m->exports, NULL);
    return OBJ_VAL(m);
}

static int mapping_getbuffer(TState *ts, Value self, Buffer *view, int flags) {
    ObjMapping *m = AS_MAPPING(self);
    obj_lock(ts, &m->obj);
    bool ok = m->addr != NULL;
    if (!ok) err_format(ts, EXC(ts)->ValueError, "mmap closed or invalid");
    ok = ok && buffer_fill(ts, view, self, m->addr, m->len, false, flags, false) &&
         buffer_export(ts, &m->exports, view);
    obj_unlock(ts, &m->obj);
    if (ok) view->format = "B";
    return ok ? 0 : -1;
}

static void mapping_finalize(Obj *self) {
    ObjMapping *m = (ObjMapping *)self;
    /* A view keeps its exporter alive, so none is left when this runs. */
    if (m->addr) munmap(m->addr, m->len);
    m->addr = NULL;
    buffer_exports_drop(atomic_load_explicit(&m->exports, memory_order_relaxed));
}

static Value mapping_close(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "close", nargs, kwnames, 1, 1)) return ERROR_VAL;
    ObjMapping *m = AS_MAPPING(args[0]);
    obj_lock(ts, &m->obj);
    bool busy = buffer_views(&m->exports) > 0;
    if (!busy && m->addr) {
        munmap(m->addr, m->len);
        m->addr = NULL;
    }
    obj_unlock(ts, &m->obj);
    if (busy) return err_format(ts, EXC(ts)->BufferError, "cannot close exported pointers exist");
    return NONE_VAL;
}

/* Is the mapping still there? (Under its lock: close() may run in another
 * thread with the GIL off.) */
static bool mapping_open(TState *ts, ObjMapping *m) {
    obj_lock(ts, &m->obj);
    bool open = m->addr != NULL;
    obj_unlock(ts, &m->obj);
    return open;
}

static int64_t mapping_len(TState *ts, Value self) {
    ObjMapping *m = AS_MAPPING(self);
    if (mapping_open(ts, m)) return (int64_t)m->len;
    err_format(ts, EXC(ts)->ValueError, "mmap closed or invalid");
    return -1;
}

static Value mapping_get_closed(TState *ts, Value self) { return BOOL_VAL(!mapping_open(ts, AS_MAPPING(self))); }

static const NativeDef mapping_methods[] = {
    {"close", mapping_close},
    {NULL, NULL},
};

static const GetSetDef mapping_getsets[] = {
    {"closed", mapping_get_closed, NULL},
    {NULL, NULL, NULL},
};

static const TypeSpec mapping_spec = {
    .name = "mmap",
    .kind = OBJ_OPAQUE,
    .new_ = mapping_new,
    .len = mapping_len,
    .finalize = mapping_finalize,
    .methods = mapping_methods,
    .getsets = mapping_getsets,
    .getbuffer = mapping_getbuffer,
};

static const NativeDef posixshmem_functions[] = {
    {"shm_open", shm_open_fn},
    {"shm_unlink", shm_unlink_fn},
    {NULL, NULL},
};

bool mod_posixshmem_init(TState *ts, ObjDict *ns) {
    if (!builtins_add_natives(ts, ns, posixshmem_functions)) return false;
    ObjType *t = type_from_spec(ts, &mapping_spec, NULL);
    ObjStr *module = str_intern_cstr(ts, "_posixshmem");
    if (!t || !module) return false;
    t->module = OBJ_VAL(module);
    return dict_set_str(ts, ns, t->name, OBJ_VAL(t)) >= 0;
}
