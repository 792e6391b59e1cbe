/* select, as CPython's on Linux: select(), poll objects and epoll objects.
 * Every wait runs detached (the GIL released) through thread_wait, in
 * slices that let Ctrl-C through in the main thread. select() is built on
 * poll(2), so descriptors above FD_SETSIZE work too. */

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "runtime/args.h"
#include "runtime/class.h"
#include "runtime/dict.h"
#include "runtime/module.h"
#include "runtime/error.h"
#include "runtime/file.h"
#include "runtime/list.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "stdlib/builtins.h"
#include "stdlib/modules.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/sync.h"
#include "vm/thread.h"
#include "vm/vm.h"

/* The descriptor of an int or of an object with fileno(), as CPython's
 * PyObject_AsFileDescriptor. -1 after raising. */
static int as_fd(TState *ts, Value v) {
    int64_t fd;
    if (IS_INT(v) || IS_BOOL(v)) {
        if (!args_int(ts, v, &fd)) return -1;
    } else {
        Value method = ops_getattr_opt(ts, v, str_intern_cstr(ts, "fileno"));
        if (IS_ERROR(method)) return -1;
        if (IS_EMPTY(method)) {
            err_set_str(ts, ts->interp->exc.TypeError, "argument must be an int, or have a fileno() method.");
            return -1;
        }
        Value r = vm_call(ts, method, NULL, 0, NULL);
        if (IS_ERROR(r)) return -1;
        if (!IS_INT(r)) {
            err_set_str(ts, ts->interp->exc.TypeError, "fileno() returned a non-integer");
            return -1;
        }
        if (!args_int(ts, r, &fd)) return -1;
    }
    if (fd < 0) {
        err_format(ts, ts->interp->exc.ValueError, "file descriptor cannot be a negative integer (%lld)",
                   (long long)fd);
        return -1;
    }
    if (fd > INT32_MAX) {
        err_set_str(ts, ts->interp->exc.OverflowError, "file descriptor is too large");
        return -1;
    }
    return (int)fd;
}

/* A timeout in seconds (None: -1, no limit). */
static bool seconds_arg(TState *ts, Value v, double scale, double *out) {
    if (IS_EMPTY(v) || IS_NONE(v)) {
        *out = -1;
        return true;
    }
    if (!args_float(ts, v, out)) {
        if (err_occurred(ts)) {
            err_clear(ts);
            err_set_str(ts, ts->interp->exc.TypeError, "timeout must be an integer or None");
        }
        return false;
    }
    if (isnan(*out)) {
        err_set_str(ts, ts->interp->exc.ValueError, "Invalid value NaN (not a number)");
        return false;
    }
    *out *= scale;
    return true;
}

/* ---- select() ---------------------------------------------------------------- */

static void pop_n(TState *ts, int n) {
    while (n-- > 0) vm_pop(ts);
}

/* select(rlist, wlist, xlist[, timeout]) -> the three lists of objects
 * that are ready. */
static Value f_select(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "select", nargs, kwnames, 3, 4)) return ERROR_VAL;
    double timeout = -1;
    if (nargs == 4 && !seconds_arg(ts, args[3], 1, &timeout)) return ERROR_VAL;
    if (timeout < 0 && nargs == 4 && !IS_NONE(args[3]))
        return err_set_str(ts, ts->interp->exc.ValueError, "timeout must be non-negative");
    static const short events[3] = {POLLIN, POLLOUT, POLLPRI};
    ObjList *lists[3];
    size_t total = 0;
    for (int k = 0; k < 3; k++) {
        ObjList *l = list_new(ts, 0);
        if (!l) {
            pop_n(ts, k);
            return ERROR_VAL;
        }
        vm_push(ts, OBJ_VAL(l));
        if (list_extend(ts, l, args[k]) < 0) {
            if (err_matches(ts, ts->interp->exc.TypeError)) {
                err_clear(ts);
                err_set_str(ts, ts->interp->exc.TypeError, "arguments 1-3 must be sequences");
            }
            pop_n(ts, k + 1);
            return ERROR_VAL;
        }
        lists[k] = l;
        total += list_len(lists[k]);
    }
    struct pollfd *fds = calloc(total ? total : 1, sizeof *fds);
    if (!fds) {
        pop_n(ts, 3);
        return err_no_memory(ts);
    }
    size_t n = 0;
    for (int k = 0; k < 3; k++)
        for (size_t i = 0; i < list_len(lists[k]); i++) {
            int fd = as_fd(ts, list_get(lists[k], i));
            if (fd < 0) {
                free(fds);
                pop_n(ts, 3);
                return ERROR_VAL;
            }
            fds[n].fd = fd;
            fds[n].events = events[k];
            n++;
        }
    int r = thread_poll(ts, fds, (nfds_t)n, timeout);
    Value result = ERROR_VAL;
    if (r >= 0) {
        ObjTuple *t = tuple_new(ts, 3);
        if (t) {
            result = OBJ_VAL(t);
            vm_push(ts, result);
            size_t at = 0;
            for (int k = 0; k < 3 && !IS_ERROR(result); k++) {
                ObjList *ready = list_new(ts, 0);
                if (!ready) {
                    result = ERROR_VAL;
                    break;
                }
                t->items[k] = OBJ_VAL(ready);
                short wanted = events[k] | (k == 0 ? POLLHUP | POLLERR : k == 1 ? POLLERR : 0);
                for (size_t i = 0; i < list_len(lists[k]); i++, at++)
                    if (r > 0 && (fds[at].revents & (wanted | POLLNVAL)) &&
                        list_append(ts, ready, list_get(lists[k], i)) < 0) {
                        result = ERROR_VAL;
                        break;
                    }
            }
            for (size_t i = 0; i < n && !IS_ERROR(result); i++)
                if (fds[i].revents & POLLNVAL) result = file_raise_oserror(ts, EBADF, NONE_VAL);
            vm_pop(ts);
        }
    }
    free(fds);
    pop_n(ts, 3);
    return result;
}

/* ---- poll objects -------------------------------------------------------------- */

typedef struct ObjPoll {
    Obj obj;
    struct pollfd *fds; /* registered: fd and events */
    size_t n, cap;
    bool polling;       /* one poll() at a time, as CPython */
} ObjPoll;

#define AS_POLL(v) ((ObjPoll *)AS_OBJ(v))

static void poll_finalize(Obj *self) { free(((ObjPoll *)self)->fds); }

static Value f_poll(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    (void)args;
    if (!args_check(ts, "poll", nargs, kwnames, 0, 0)) return ERROR_VAL;
    ObjType *type = module_type(ts, "select", "_poll");
    if (!type) return ERROR_VAL;
    ObjPoll *p = (ObjPoll *)gc_alloc(ts, sizeof(ObjPoll), OBJ_OPAQUE, type);
    if (!p) return ERROR_VAL;
    p->fds = NULL;
    p->n = p->cap = 0;
    p->polling = false;
    return OBJ_VAL(p);
}

static size_t poll_find(ObjPoll *p, int fd) {
    for (size_t i = 0; i < p->n; i++)
        if (p->fds[i].fd == fd) return i;
    return p->n;
}

static bool mask_arg(TState *ts, Value *args, int nargs, int at, int64_t dflt, short *out) {
    int64_t mask = dflt;
    if (nargs > at && !args_int(ts, args[at], &mask)) return false;
    if (mask < 0 || mask > 0xffff) {
        err_set_str(ts, ts->interp->exc.OverflowError, "Python int too large for C unsigned short");
        return false;
    }
    *out = (short)mask;
    return true;
}

static Value poll_register(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("register", 1, 2);
    ObjPoll *p = AS_POLL(args[0]);
    int fd = as_fd(ts, args[1]);
    short mask;
    if (fd < 0 || !mask_arg(ts, args, nargs, 2, POLLIN | POLLPRI | POLLOUT, &mask)) return ERROR_VAL;
    size_t i = poll_find(p, fd);
    if (i == p->n) {
        if (p->n == p->cap) {
            size_t cap = p->cap ? p->cap * 2 : 8;
            struct pollfd *fds = realloc(p->fds, cap * sizeof *fds);
            if (!fds) return err_no_memory(ts);
            p->fds = fds;
            p->cap = cap;
        }
        p->n++;
    }
    p->fds[i] = (struct pollfd){.fd = fd, .events = mask};
    return NONE_VAL;
}

static Value poll_modify(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("modify", 2, 2);
    ObjPoll *p = AS_POLL(args[0]);
    int fd = as_fd(ts, args[1]);
    short mask;
    if (fd < 0 || !mask_arg(ts, args, nargs, 2, 0, &mask)) return ERROR_VAL;
    size_t i = poll_find(p, fd);
    if (i == p->n) return file_raise_oserror(ts, ENOENT, NONE_VAL);
    p->fds[i].events = mask;
    return NONE_VAL;
}

static Value poll_unregister(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("unregister", 1, 1);
    ObjPoll *p = AS_POLL(args[0]);
    int fd = as_fd(ts, args[1]);
    if (fd < 0) return ERROR_VAL;
    size_t i = poll_find(p, fd);
    if (i == p->n) return err_set_value(ts, ts->interp->exc.KeyError, args[1]);
    p->fds[i] = p->fds[--p->n];
    return NONE_VAL;
}

/* The (fd, events) pairs of the ready descriptors. */
static Value ready_list(TState *ts, const struct pollfd *fds, size_t n, bool any) {
    ObjList *out = list_new(ts, 0);
    if (!out) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(out));
    for (size_t i = 0; any && i < n; i++) {
        if (!fds[i].revents) continue;
        ObjTuple *t = tuple_pack2(ts, INT_VAL(fds[i].fd), INT_VAL((uint16_t)fds[i].revents));
        if (!t || list_append(ts, out, OBJ_VAL(t)) < 0) {
            vm_pop(ts);
            return ERROR_VAL;
        }
    }
    vm_pop(ts);
    return OBJ_VAL(out);
}

/* poll([timeout]) with timeout in milliseconds (None or negative: none). */
static Value poll_poll(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("poll", 0, 1);
    ObjPoll *p = AS_POLL(args[0]);
    double timeout;
    if (!seconds_arg(ts, nargs == 2 ? args[1] : EMPTY_VAL, 0.001, &timeout)) return ERROR_VAL;
    if (p->polling) return err_set_str(ts, ts->interp->exc.RuntimeError, "concurrent poll() invocation");
    /* A copy: another thread may register meanwhile. */
    struct pollfd *fds = malloc((p->n ? p->n : 1) * sizeof *fds);
    if (!fds) return err_no_memory(ts);
    size_t n = p->n;
    memcpy(fds, p->fds, n * sizeof *fds);
    p->polling = true;
    int r = thread_poll(ts, fds, (nfds_t)n, timeout < 0 ? -1 : timeout);
    p->polling = false;
    Value out = r < 0 ? ERROR_VAL : ready_list(ts, fds, n, r > 0);
    free(fds);
    return out;
}

static const NativeDef poll_methods[] = {
    {"register", poll_register},
    {"modify", poll_modify},
    {"unregister", poll_unregister},
    {"poll", poll_poll},
    {NULL, NULL},
};

static const TypeSpec poll_spec = {
    .name = "poll",
    .kind = OBJ_OPAQUE,
    .finalize = poll_finalize,
    .methods = poll_methods,
};

/* ---- epoll objects ------------------------------------------------------------- */

typedef struct ObjEpoll {
    Obj obj;
    _Atomic int epfd; /* -1 once closed */
} ObjEpoll;

#define AS_EPOLL(v) ((ObjEpoll *)AS_OBJ(v))

static void epoll_finalize(Obj *self) {
    int fd = atomic_exchange(&((ObjEpoll *)self)->epfd, -1);
    if (fd >= 0) close(fd);
}

static Value epoll_type_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"sizehint", "flags"};
    Value v[2];
    if (!args_bind(ts, "epoll", args, nargs, kwnames, names, 2, 0, 2, v)) return ERROR_VAL;
    int64_t sizehint = -1;
    if (!IS_EMPTY(v[0]) && !args_int(ts, v[0], &sizehint)) return ERROR_VAL;
    if (sizehint == 0 || sizehint < -1) return err_set_str(ts, ts->interp->exc.ValueError, "negative sizehint");
    int fd = epoll_create1(EPOLL_CLOEXEC);
    if (fd < 0) return file_raise_oserror(ts, errno, NONE_VAL);
    ObjEpoll *e = (ObjEpoll *)gc_alloc(ts, sizeof(ObjEpoll), OBJ_OPAQUE, type);
    if (!e) {
        close(fd);
        return ERROR_VAL;
    }
    atomic_init(&e->epfd, fd);
    return OBJ_VAL(e);
}

static bool epoll_open(TState *ts, Value self, int *fd) {
    *fd = atomic_load(&AS_EPOLL(self)->epfd);
    if (*fd >= 0) return true;
    err_set_str(ts, ts->interp->exc.ValueError, "I/O operation on closed epoll object");
    return false;
}

static Value epoll_ctl_common(TState *ts, Value *args, int nargs, int op) {
    int epfd, fd;
    if (!epoll_open(ts, args[0], &epfd) || (fd = as_fd(ts, args[1])) < 0) return ERROR_VAL;
    int64_t mask = EPOLLIN | EPOLLPRI | EPOLLOUT;
    if (nargs > 2 && !args_int(ts, args[2], &mask)) return ERROR_VAL;
    struct epoll_event ev = {.events = (uint32_t)mask, .data.fd = fd};
    if (epoll_ctl(epfd, op, fd, &ev) != 0) return file_raise_oserror(ts, errno, NONE_VAL);
    return NONE_VAL;
}

static Value epoll_register(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("register", 1, 2);
    return epoll_ctl_common(ts, args, nargs, EPOLL_CTL_ADD);
}

static Value epoll_modify(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("modify", 2, 2);
    return epoll_ctl_common(ts, args, nargs, EPOLL_CTL_MOD);
}

static Value epoll_unregister(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("unregister", 1, 1);
    return epoll_ctl_common(ts, args, 2, EPOLL_CTL_DEL);
}

typedef struct EpollWait {
    int epfd;
    struct epoll_event *events;
    int max;
    int got;
} EpollWait;

static int epoll_step(void *ctx, const struct timespec *until) {
    EpollWait *w = ctx;
    int r = epoll_wait(w->epfd, w->events, w->max, sync_ms_until(until));
    if (r > 0) {
        w->got = r;
        return 1;
    }
    if (r == 0 || errno == EINTR) return 0;
    return -errno;
}

/* poll(timeout=None, maxevents=-1), timeout in seconds. */
static Value epoll_poll(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"$self", "timeout", "maxevents"};
    Value v[3];
    if (!args_bind(ts, "poll", args, nargs, kwnames, names, 3, 1, 3, v)) return ERROR_VAL;
    int epfd;
    double timeout;
    int64_t maxevents = -1;
    if (!epoll_open(ts, v[0], &epfd) || !seconds_arg(ts, v[1], 1, &timeout)) return ERROR_VAL;
    if (!IS_EMPTY(v[2]) && !args_int(ts, v[2], &maxevents)) return ERROR_VAL;
    if (maxevents == -1) maxevents = FD_SETSIZE - 1;
    else if (maxevents < 1)
        return err_format(ts, ts->interp->exc.ValueError, "maxevents must be greater than 0, got %lld",
                          (long long)maxevents);
    EpollWait w = {.epfd = epfd, .max = (int)maxevents, .got = 0};
    w.events = malloc((size_t)maxevents * sizeof *w.events);
    if (!w.events) return err_no_memory(ts);
    int r = epoll_wait(epfd, w.events, w.max, 0);
    if (r > 0) w.got = r;
    else if (r < 0 && errno != EINTR) r = -1, file_raise_oserror(ts, errno, NONE_VAL);
    else if (timeout != 0) r = thread_wait(ts, epoll_step, &w, timeout < 0 ? -1 : timeout);
    Value out = ERROR_VAL;
    if (r >= 0) {
        ObjList *l = list_new(ts, 0);
        out = l ? OBJ_VAL(l) : ERROR_VAL;
        if (l) vm_push(ts, out);
        for (int i = 0; l && i < w.got; i++) {
            ObjTuple *t = tuple_pack2(ts, INT_VAL(w.events[i].data.fd), INT_VAL(w.events[i].events));
            if (!t || list_append(ts, l, OBJ_VAL(t)) < 0) {
                out = ERROR_VAL;
                break;
            }
        }
        if (l) vm_pop(ts);
    }
    free(w.events);
    return out;
}

static Value epoll_close(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("close", 0, 0);
    int fd = atomic_exchange(&AS_EPOLL(args[0])->epfd, -1);
    if (fd >= 0 && close(fd) != 0) return file_raise_oserror(ts, errno, NONE_VAL);
    return NONE_VAL;
}

static Value epoll_fileno(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("fileno", 0, 0);
    int fd;
    return epoll_open(ts, args[0], &fd) ? INT_VAL(fd) : ERROR_VAL;
}

static Value epoll_enter(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("__enter__", 0, 0);
    int fd;
    return epoll_open(ts, args[0], &fd) ? args[0] : ERROR_VAL;
}

static Value epoll_exit(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    (void)kwnames;
    Value self[1] = {args[0]};
    (void)nargs;
    return epoll_close(ts, self, 1, NULL);
}

static Value epoll_get_closed(TState *ts, Value self) {
    (void)ts;
    return BOOL_VAL(atomic_load(&AS_EPOLL(self)->epfd) < 0);
}

static const NativeDef epoll_methods[] = {
    {"register", epoll_register},
    {"modify", epoll_modify},
    {"unregister", epoll_unregister},
    {"poll", epoll_poll},
    {"close", epoll_close},
    {"fileno", epoll_fileno},
    {"__enter__", epoll_enter},
    {"__exit__", epoll_exit},
    {NULL, NULL},
};

static const GetSetDef epoll_getsets[] = {
    {"closed", epoll_get_closed, NULL},
    {NULL, NULL, NULL},
};

static const TypeSpec epoll_spec = {
    .name = "epoll",
    .kind = OBJ_OPAQUE,
    .new_ = epoll_type_new,
    .finalize = epoll_finalize,
    .methods = epoll_methods,
    .getsets = epoll_getsets,
};

static const NativeDef select_functions[] = {
    {"select", f_select},
    {"poll", f_poll},
    {NULL, NULL},
};

static const IntConstant select_constants[] = {
    {"POLLIN", POLLIN},       {"POLLPRI", POLLPRI},     {"POLLOUT", POLLOUT},       {"POLLERR", POLLERR},
    {"POLLHUP", POLLHUP},     {"POLLNVAL", POLLNVAL},   {"POLLRDNORM", POLLRDNORM}, {"POLLRDBAND", POLLRDBAND},
    {"POLLWRNORM", POLLWRNORM}, {"POLLWRBAND", POLLWRBAND}, {"POLLMSG", POLLMSG},   {"POLLRDHUP", POLLRDHUP},
    {"EPOLLIN", EPOLLIN},     {"EPOLLOUT", EPOLLOUT},   {"EPOLLPRI", EPOLLPRI},     {"EPOLLERR", EPOLLERR},
    {"EPOLLHUP", EPOLLHUP},   {"EPOLLET", EPOLLET},     {"EPOLLONESHOT", EPOLLONESHOT},
    {"EPOLLEXCLUSIVE", EPOLLEXCLUSIVE}, {"EPOLLRDHUP", EPOLLRDHUP}, {"EPOLLRDNORM", EPOLLRDNORM},
    {"EPOLLRDBAND", EPOLLRDBAND}, {"EPOLLWRNORM", EPOLLWRNORM}, {"EPOLLWRBAND", EPOLLWRBAND}, {"EPOLLMSG", EPOLLMSG},
    {"EPOLL_CLOEXEC", EPOLL_CLOEXEC},
    {NULL, 0},
};

bool mod_select_init(TState *ts, ObjDict *ns) {
    ObjStr *module = str_intern_cstr(ts, "select");
    if (!module || !builtins_add_natives(ts, ns, select_functions)) return false;
    const TypeSpec *specs[] = {&poll_spec, &epoll_spec};
    const char *names[] = {"_poll", "epoll"};
    for (int i = 0; i < 2; i++) {
        ObjType *t = type_from_spec(ts, specs[i], NULL);
        if (!t) return false;
        t->module = OBJ_VAL(module);
        if (!builtins_add_value(ts, ns, names[i], OBJ_VAL(t))) return false;
    }
    if (!builtins_add_ints(ts, ns, select_constants)) return false;
    return builtins_add_value(ts, ns, "error", OBJ_VAL(ts->interp->exc.OSError));
}
