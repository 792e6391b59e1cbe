/* _socket, the C half of socket (stdlib/socket.mini is the other, as in
 * CPython): TCP and UDP over IPv4 and IPv6, Unix sockets, name lookups.
 *
 * Blocking. Every descriptor is non-blocking underneath, whatever the
 * socket's mode; the mode is its timeout (None: block, 0: never block, t:
 * at most t seconds), as CPython keeps it. A call that would block waits
 * for readiness in thread_poll, detached (the GIL released), in slices
 * that let Ctrl-C through in the main thread, then tries again; a timeout
 * raises TimeoutError("timed out"). Data being sent or received into is a
 * long view (BUF_EXPORT), so a bytearray cannot be resized under a wait. */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "runtime/args.h"
#include "runtime/buffer.h"
#include "runtime/bytes.h"
#include "runtime/class.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/file.h"
#include "runtime/float.h"
#include "runtime/list.h"
#include "runtime/module.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "stdlib/builtins.h"
#include "stdlib/mod_socket.h"
#include "stdlib/modules.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/sync.h"
#include "vm/thread.h"
#include "vm/vm.h"

typedef struct ObjSocket {
    Obj obj;
    _Atomic int fd;   /* -1 once closed or detached */
    int family, type, proto;
    double timeout;   /* < 0: blocking (None) */
} ObjSocket;

#define AS_SOCKET(v) ((ObjSocket *)AS_OBJ(v))

/* The default timeout of new sockets (setdefaulttimeout): per interpreter,
 * kept in the module's namespace as _default_timeout. */
static double default_timeout(TState *ts) {
    Value t = module_attr(ts, "_socket", "_default_timeout");
    if (IS_ERROR(t)) err_clear(ts);
    return IS_FLOAT(t) && AS_FLOAT(t) >= 0 ? AS_FLOAT(t) : -1;
}

/* ---- errors ---------------------------------------------------------------- */

static Value raise_errno(TState *ts, int err) { return file_raise_oserror(ts, err, NONE_VAL); }

static Value raise_timeout(TState *ts) { return err_set_str(ts, ts->interp->exc.TimeoutError, "timed out"); }

/* socket.gaierror(code, message), as CPython: "[Errno -2] Name or service
 * not known". */
static Value raise_gai(TState *ts, int code) {
    if (code == EAI_SYSTEM) return raise_errno(ts, errno);
    ObjType *t = module_type(ts, "_socket", "gaierror");
    ObjStr *msg = str_from_cstr(ts, gai_strerror(code));
    if (!t || !msg) return ERROR_VAL;
    Value args[2] = {INT_VAL(code), OBJ_VAL(msg)};
    Value exc = vm_call(ts, OBJ_VAL(t), args, 2, NULL);
    return IS_ERROR(exc) ? exc : err_raise(ts, exc);
}

static bool check_open(TState *ts, ObjSocket *s, int *fd) {
    *fd = atomic_load(&s->fd);
    if (*fd >= 0) return true;
    raise_errno(ts, EBADF);
    return false;
}

/* ---- addresses --------------------------------------------------------------- */

typedef union SockAddr {
    struct sockaddr sa;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
    struct sockaddr_un un;
    struct sockaddr_storage storage;
} SockAddr;

/* A host name or address for family: '' is any address, '<broadcast>'
 * the broadcast address, a numeric address is taken as it is, else it is
 * looked up (detached: a lookup may take long). */
static bool resolve_host(TState *ts, const char *host, int family, SockAddr *out) {
    if (family == AF_INET) {
        if (!*host) {
            out->in.sin_addr.s_addr = htonl(INADDR_ANY);
            return true;
        }
        if (!strcmp(host, "<broadcast>") || !strcmp(host, "255.255.255.255")) {
            out->in.sin_addr.s_addr = htonl(INADDR_BROADCAST);
            return true;
        }
        if (inet_pton(AF_INET, host, &out->in.sin_addr) == 1) return true;
    } else {
        if (!*host) {
            out->in6.sin6_addr = in6addr_any;
            return true;
        }
        if (inet_pton(AF_INET6, host, &out->in6.sin6_addr) == 1) return true;
    }
    struct addrinfo hints = {.ai_family = family}, *res = NULL;
    thread_detach(ts);
    int code = getaddrinfo(host, NULL, &hints, &res);
    thread_attach(ts);
    if (code != 0) {
        raise_gai(ts, code);
        return false;
    }
    if (family == AF_INET) out->in.sin_addr = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
    else out->in6.sin6_addr = ((struct sockaddr_in6 *)res->ai_addr)->sin6_addr;
    freeaddrinfo(res);
    return true;
}

static bool port_arg(TState *ts, const char *fname, Value v, uint16_t *out) {
    int64_t port;
    if (!IS_INT(v) && !IS_BOOL(v)) {
        err_format(ts, ts->interp->exc.TypeError, "'%s' object cannot be interpreted as an integer",
                   ops_type_name(ts, v));
        return false;
    }
    if (!args_int(ts, v, &port)) return false;
    if (port < 0 || port > 65535) {
        err_format(ts, ts->interp->exc.OverflowError, "%s(): port must be 0-65535.", fname);
        return false;
    }
    *out = (uint16_t)port;
    return true;
}

/* A Python address for the socket's family into *out. */
static bool addr_from_value(TState *ts, ObjSocket *s, const char *fname, Value v, SockAddr *out, socklen_t *len) {
    memset(out, 0, sizeof *out);
    if (s->family == AF_UNIX) {
        Buffer view;
        ObjStr *path = NULL;
        const char *p;
        size_t n;
        if (IS_STR(v)) {
            path = AS_STR(v);
            p = path->data, n = path->len;
        } else if (buffer_check(ts, v)) {
            if (!buffer_get(ts, v, &view, BUF_READ)) return false;
            p = view.buf, n = view.len;
        } else {
            err_format(ts, ts->interp->exc.TypeError, "%s(): AF_UNIX address must be str or bytes, not %s", fname,
                       ops_type_name(ts, v));
            return false;
        }
        bool fits = n < sizeof out->un.sun_path;
        if (fits) memcpy(out->un.sun_path, p, n);
        if (!path) buffer_release(ts, &view);
        if (!fits) {
            err_set_str(ts, ts->interp->exc.OSError, "AF_UNIX path too long");
            return false;
        }
        out->un.sun_family = AF_UNIX;
        *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (n && p[0] != '\0'));
        return true;
    }
    size_t want = s->family == AF_INET ? 2 : 4;
    if (!IS_TUPLE(v)) {
        err_format(ts, ts->interp->exc.TypeError, "%s(): %s address must be tuple, not %s", fname,
                   s->family == AF_INET ? "AF_INET" : "AF_INET6", ops_type_name(ts, v));
        return false;
    }
    ObjTuple *t = AS_TUPLE(v);
    if (t->len < 2 || t->len > want || (s->family == AF_INET && t->len != 2)) {
        if (s->family == AF_INET)
            err_format(ts, ts->interp->exc.TypeError, "AF_INET address must be a pair (host, port)");
        else
            err_format(ts, ts->interp->exc.TypeError, "AF_INET6 address must be a tuple (host, port[, flowinfo[, scopeid]])");
        return false;
    }
    if (!IS_STR(t->items[0])) {
        err_format(ts, ts->interp->exc.TypeError, "str, bytes or bytearray expected, not %s",
                   ops_type_name(ts, t->items[0]));
        return false;
    }
    uint16_t port;
    if (!port_arg(ts, fname, t->items[1], &port)) return false;
    if (!resolve_host(ts, AS_STR(t->items[0])->data, s->family, out)) return false;
    if (s->family == AF_INET) {
        out->in.sin_family = AF_INET;
        out->in.sin_port = htons(port);
        *len = sizeof out->in;
    } else {
        int64_t flow = 0, scope = 0;
        if (t->len > 2 && !args_int(ts, t->items[2], &flow)) return false;
        if (t->len > 3 && !args_int(ts, t->items[3], &scope)) return false;
        if (flow < 0 || flow > 0xfffff) {
            err_format(ts, ts->interp->exc.OverflowError, "%s(): flowinfo must be 0-1048575.", fname);
            return false;
        }
        out->in6.sin6_family = AF_INET6;
        out->in6.sin6_port = htons(port);
        out->in6.sin6_flowinfo = htonl((uint32_t)flow);
        out->in6.sin6_scope_id = (uint32_t)scope;
        *len = sizeof out->in6;
    }
    return true;
}

/* The Python form of an address: (host, port), (host, port, flowinfo,
 * scope_id), or a Unix path (str; bytes for the abstract namespace). */
static Value addr_to_value(TState *ts, const SockAddr *a, socklen_t len) {
    char host[INET6_ADDRSTRLEN];
    switch (a->sa.sa_family) {
    case AF_INET: {
        inet_ntop(AF_INET, &a->in.sin_addr, host, sizeof host);
        ObjStr *h = str_from_cstr(ts, host);
        if (!h) return ERROR_VAL;
        Value items[2] = {OBJ_VAL(h), INT_VAL(ntohs(a->in.sin_port))};
        ObjTuple *t = tuple_from(ts, items, 2);
        return t ? OBJ_VAL(t) : ERROR_VAL;
    }
    case AF_INET6: {
        inet_ntop(AF_INET6, &a->in6.sin6_addr, host, sizeof host);
        ObjStr *h = str_from_cstr(ts, host);
        if (!h) return ERROR_VAL;
        Value items[4] = {OBJ_VAL(h), INT_VAL(ntohs(a->in6.sin6_port)), INT_VAL(ntohl(a->in6.sin6_flowinfo)),
                          INT_VAL(a->in6.sin6_scope_id)};
        ObjTuple *t = tuple_from(ts, items, 4);
        return t ? OBJ_VAL(t) : ERROR_VAL;
    }
    case AF_UNIX: {
        size_t n = len > offsetof(struct sockaddr_un, sun_path) ? len - offsetof(struct sockaddr_un, sun_path) : 0;
        if (n > 0 && a->un.sun_path[0] == '\0') {
            ObjBytes *b = bytes_new(ts, a->un.sun_path, n);
            return b ? OBJ_VAL(b) : ERROR_VAL;
        }
        ObjStr *p = str_new(ts, a->un.sun_path, strnlen(a->un.sun_path, n));
        return p ? OBJ_VAL(p) : ERROR_VAL;
    }
    default:
        return NONE_VAL;
    }
}

/* ---- the blocking loop ------------------------------------------------------- */

/* One non-blocking attempt: >= 0 done, else -errno. */
typedef ssize_t (*SockOp)(int fd, void *ctx);

/* Runs op until it is done, waiting (detached) for `events` on the socket
 * between attempts within its timeout. The result, or -1 after raising. */
static ssize_t sock_call(TState *ts, ObjSocket *s, short events, SockOp op, void *ctx) {
    int fd;
    if (!check_open(ts, s, &fd)) return -1;
    struct timespec deadline = sync_deadline(s->timeout > 0 ? s->timeout : 0);
    for (;;) {
        ssize_t r = op(fd, ctx);
        if (r >= 0) return r;
        int err = (int)-r;
        if (err == EINTR) {
            if (!vm_safepoint(ts)) return -1;
            continue;
        }
        if (err != EAGAIN && err != EWOULDBLOCK && err != EINPROGRESS) {
            raise_errno(ts, err);
            return -1;
        }
        if (s->timeout == 0) {
            raise_errno(ts, err);
            return -1;
        }
        double left = s->timeout < 0 ? -1 : sync_seconds_until(&deadline);
        if (s->timeout > 0 && left <= 0) {
            raise_timeout(ts);
            return -1;
        }
        struct pollfd pfd = {.fd = fd, .events = events};
        int ready = thread_poll(ts, &pfd, 1, left);
        if (ready < 0) return -1;
        if (ready == 0) {
            raise_timeout(ts);
            return -1;
        }
        if (atomic_load(&s->fd) != fd) {
            raise_errno(ts, EBADF);
            return -1;
        }
    }
}

/* ---- the socket type --------------------------------------------------------- */

static void socket_finalize(Obj *self) {
    ObjSocket *s = (ObjSocket *)self;
    int fd = atomic_exchange(&s->fd, -1);
    if (fd >= 0) close(fd);
}

static bool set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL);
    return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

static bool sockopt_int(int fd, int opt, int *out) {
    socklen_t n = sizeof *out;
    return getsockopt(fd, SOL_SOCKET, opt, out, &n) == 0;
}

static Value socket_type_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"family", "type", "proto", "fileno"};
    Value v[4];
    if (!args_bind(ts, "socket", args, nargs, kwnames, names, 4, 0, 4, v)) return ERROR_VAL;
    if (interp_sandbox_refuses(ts, "opening a socket")) return ERROR_VAL;
    int64_t family = -1, stype = -1, proto = -1;
    if (!IS_EMPTY(v[0]) && !IS_NONE(v[0]) && !args_int(ts, v[0], &family)) return ERROR_VAL;
    if (!IS_EMPTY(v[1]) && !IS_NONE(v[1]) && !args_int(ts, v[1], &stype)) return ERROR_VAL;
    if (!IS_EMPTY(v[2]) && !IS_NONE(v[2]) && !args_int(ts, v[2], &proto)) return ERROR_VAL;
    int fd;
    if (!IS_EMPTY(v[3]) && !IS_NONE(v[3])) {
        int64_t given;
        if (!args_int(ts, v[3], &given)) return ERROR_VAL;
        if (given < 0) return err_set_str(ts, ts->interp->exc.ValueError, "negative file descriptor");
        fd = (int)given;
        int value;
        if (family < 0) {
            if (!sockopt_int(fd, SO_DOMAIN, &value)) return raise_errno(ts, errno);
            family = value;
        }
        if (stype < 0) {
            if (!sockopt_int(fd, SO_TYPE, &value)) return raise_errno(ts, errno);
            stype = value;
        }
        if (proto < 0) proto = sockopt_int(fd, SO_PROTOCOL, &value) ? value : 0;
    } else {
        if (family < 0) family = AF_INET;
        if (stype < 0) stype = SOCK_STREAM;
        if (proto < 0) proto = 0;
        fd = socket((int)family, (int)stype | SOCK_CLOEXEC, (int)proto);
        if (fd < 0) return raise_errno(ts, errno);
    }
    if (!set_nonblocking(fd)) {
        int err = errno;
        if (IS_EMPTY(v[3]) || IS_NONE(v[3])) close(fd);
        return raise_errno(ts, err);
    }
    ObjSocket *s = (ObjSocket *)gc_alloc(ts, sizeof(ObjSocket), OBJ_OPAQUE, type);
    if (!s) {
        if (IS_EMPTY(v[3]) || IS_NONE(v[3])) close(fd);
        return ERROR_VAL;
    }
    atomic_init(&s->fd, fd);
    s->family = (int)family;
    s->type = (int)(stype & ~(SOCK_NONBLOCK | SOCK_CLOEXEC));
    s->proto = (int)proto;
    s->timeout = default_timeout(ts);
    return OBJ_VAL(s);
}

bool socket_peek(TState *ts, Value v, int *fd, double *timeout) {
    ObjType *t = module_type(ts, "_socket", "socket");
    if (!t) return false;
    if (!IS_OBJ(v) || !type_is_subtype(OBJ_TYPE(v), t)) {
        err_format(ts, ts->interp->exc.TypeError, "a socket is required, not %s", ops_type_name(ts, v));
        return false;
    }
    *fd = atomic_load(&AS_SOCKET(v)->fd);
    *timeout = AS_SOCKET(v)->timeout;
    return true;
}

/* Methods take their socket as args[0]: of this type or a subclass. */
#define SELF AS_SOCKET(args[0])

static Value sock_bind(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("bind", 1, 1);
    int fd;
    SockAddr a;
    socklen_t len;
    if (!addr_from_value(ts, SELF, "bind", args[1], &a, &len) || !check_open(ts, SELF, &fd)) return ERROR_VAL;
    if (bind(fd, &a.sa, len) != 0) return raise_errno(ts, errno);
    return NONE_VAL;
}

static Value sock_listen(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("listen", 0, 1);
    int fd;
    int64_t backlog = SOMAXCONN < 128 ? SOMAXCONN : 128;
    if (nargs == 2 && !args_int(ts, args[1], &backlog)) return ERROR_VAL;
    if (backlog < 0) backlog = 0;
    if (!check_open(ts, SELF, &fd)) return ERROR_VAL;
    if (listen(fd, (int)backlog) != 0) return raise_errno(ts, errno);
    return NONE_VAL;
}

typedef struct AcceptCtx {
    SockAddr addr;
    socklen_t len;
} AcceptCtx;

static ssize_t accept_op(int fd, void *ctx) {
    AcceptCtx *c = ctx;
    c->len = sizeof c->addr;
    int r = accept4(fd, &c->addr.sa, &c->len, SOCK_CLOEXEC);
    return r >= 0 ? r : -errno;
}

/* _accept() -> (fd, address): socket.mini's accept() wraps the fd. */
static Value sock_accept(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("_accept", 0, 0);
    AcceptCtx c;
    ssize_t fd = sock_call(ts, SELF, POLLIN, accept_op, &c);
    if (fd < 0) return ERROR_VAL;
    Value addr = addr_to_value(ts, &c.addr, c.len);
    if (IS_ERROR(addr)) {
        close((int)fd);
        return ERROR_VAL;
    }
    Value items[2] = {INT_VAL(fd), addr};
    ObjTuple *t = tuple_from(ts, items, 2);
    if (!t) close((int)fd);
    return t ? OBJ_VAL(t) : ERROR_VAL;
}

typedef struct ConnectCtx {
    SockAddr addr;
    socklen_t len;
    bool started;
} ConnectCtx;

static ssize_t connect_op(int fd, void *ctx) {
    ConnectCtx *c = ctx;
    if (!c->started) {
        c->started = true;
        return connect(fd, &c->addr.sa, c->len) == 0 ? 0 : -errno;
    }
    /* Ready again after EINPROGRESS: the outcome is in SO_ERROR. */
    int err;
    if (!sockopt_int(fd, SO_ERROR, &err)) return -errno;
    return err ? -err : 0;
}

/* connect, or connect_ex (errors as the result, not raised). */
static Value connect_common(TState *ts, Value *args, int nargs, ObjTuple *kwnames, bool ex) {
    ARGS_CHECK_METHOD(ex ? "connect_ex" : "connect", 1, 1);
    ConnectCtx c = {.started = false};
    if (!addr_from_value(ts, SELF, ex ? "connect_ex" : "connect", args[1], &c.addr, &c.len)) return ERROR_VAL;
    if (sock_call(ts, SELF, POLLOUT, connect_op, &c) >= 0) return ex ? INT_VAL(0) : NONE_VAL;
    if (!ex) return ERROR_VAL;
    /* connect_ex reports OS errors by number; others (Ctrl-C) propagate. */
    Value exc = err_fetch(ts);
    Value no = ops_getattr_opt(ts, exc, str_intern_cstr(ts, "errno"));
    if (type_is_subtype(OBJ_TYPE(exc), ts->interp->exc.OSError) && IS_INT(no)) return no;
    if (type_is_subtype(OBJ_TYPE(exc), ts->interp->exc.TimeoutError)) return INT_VAL(EAGAIN);
    return err_raise(ts, exc);
}

static Value sock_connect(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return connect_common(ts, args, nargs, kwnames, false);
}

static Value sock_connect_ex(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return connect_common(ts, args, nargs, kwnames, true);
}

typedef struct IoCtx {
    char *buf;
    size_t len;
    int flags;
    SockAddr addr;
    socklen_t addr_len;
    bool to;
} IoCtx;

static ssize_t send_op(int fd, void *ctx) {
    IoCtx *c = ctx;
    ssize_t r = c->to ? sendto(fd, c->buf, c->len, c->flags | MSG_NOSIGNAL, &c->addr.sa, c->addr_len)
                      : send(fd, c->buf, c->len, c->flags | MSG_NOSIGNAL);
    return r >= 0 ? r : -errno;
}

static ssize_t recv_op(int fd, void *ctx) {
    IoCtx *c = ctx;
    c->addr_len = sizeof c->addr;
    ssize_t r = c->to ? recvfrom(fd, c->buf, c->len, c->flags, &c->addr.sa, &c->addr_len)
                      : recv(fd, c->buf, c->len, c->flags);
    return r >= 0 ? r : -errno;
}

static bool flags_arg(TState *ts, Value *args, int nargs, int at, int *flags) {
    int64_t f = 0;
    if (nargs > at && !args_int(ts, args[at], &f)) return false;
    *flags = (int)f;
    return true;
}

/* send(data[, flags]) and sendall(data[, flags]). */
static Value send_common(TState *ts, Value *args, int nargs, ObjTuple *kwnames, bool all) {
    ARGS_CHECK_METHOD(all ? "sendall" : "send", 1, 2);
    IoCtx c = {.to = false};
    if (!flags_arg(ts, args, nargs, 2, &c.flags)) return ERROR_VAL;
    Buffer view;
    if (!buffer_get(ts, args[1], &view, BUF_EXPORT)) return ERROR_VAL;
    size_t done = 0;
    ssize_t r = 0;
    do {
        c.buf = view.buf + done;
        c.len = view.len - done;
        r = sock_call(ts, SELF, POLLOUT, send_op, &c);
        if (r > 0) done += (size_t)r;
    } while (all && r >= 0 && done < view.len);
    buffer_release(ts, &view);
    if (r < 0) return ERROR_VAL;
    return all ? NONE_VAL : INT_VAL((int64_t)done);
}

static Value sock_send(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return send_common(ts, args, nargs, kwnames, false);
}

static Value sock_sendall(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return send_common(ts, args, nargs, kwnames, true);
}

/* sendto(data[, flags], address) */
static Value sock_sendto(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("sendto", 2, 3);
    IoCtx c = {.to = true};
    Value addr = args[nargs - 1];
    if (nargs == 4 && !flags_arg(ts, args, nargs, 2, &c.flags)) return ERROR_VAL;
    if (!addr_from_value(ts, SELF, "sendto", addr, &c.addr, &c.addr_len)) return ERROR_VAL;
    Buffer view;
    if (!buffer_get(ts, args[1], &view, BUF_EXPORT)) return ERROR_VAL;
    c.buf = view.buf;
    c.len = view.len;
    ssize_t r = sock_call(ts, SELF, POLLOUT, send_op, &c);
    buffer_release(ts, &view);
    return r < 0 ? ERROR_VAL : INT_VAL(r);
}

/* recvfrom's and recvfrom_into's (result, address): the address None when
 * the sender has none (an unnamed Unix socket). */
static Value with_sender(TState *ts, Value result, const IoCtx *c) {
    Value addr = c->addr_len ? addr_to_value(ts, &c->addr, c->addr_len) : NONE_VAL;
    if (IS_ERROR(addr)) return addr;
    Value items[2] = {result, addr};
    ObjTuple *t = tuple_from(ts, items, 2);
    return t ? OBJ_VAL(t) : ERROR_VAL;
}

/* recv(bufsize[, flags]) and recvfrom(bufsize[, flags]). */
static Value recv_common(TState *ts, Value *args, int nargs, ObjTuple *kwnames, bool from) {
    const char *name = from ? "recvfrom" : "recv";
    ARGS_CHECK_METHOD(name, 1, 2);
    int64_t size;
    IoCtx c = {.to = from};
    if (!args_int(ts, args[1], &size) || !flags_arg(ts, args, nargs, 2, &c.flags)) return ERROR_VAL;
    if (size < 0) return err_format(ts, ts->interp->exc.ValueError, "negative buffersize in %s", name);
    c.buf = malloc(size ? (size_t)size : 1);
    if (!c.buf) return err_no_memory(ts);
    c.len = (size_t)size;
    ssize_t r = sock_call(ts, SELF, POLLIN, recv_op, &c);
    ObjBytes *b = r < 0 ? NULL : bytes_new(ts, c.buf, (size_t)r);
    free(c.buf);
    if (!b) return ERROR_VAL;
    return from ? with_sender(ts, OBJ_VAL(b), &c) : OBJ_VAL(b);
}

static Value sock_recv(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return recv_common(ts, args, nargs, kwnames, false);
}

static Value sock_recvfrom(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return recv_common(ts, args, nargs, kwnames, true);
}

/* recv_into(buffer[, nbytes[, flags]]) and recvfrom_into(...). */
static Value recv_into_common(TState *ts, Value *args, int nargs, ObjTuple *kwnames, bool from) {
    static const char *const names[] = {"$self", "buffer", "nbytes", "flags"};
    const char *name = from ? "recvfrom_into" : "recv_into";
    Value v[4];
    if (!args_bind(ts, name, args, nargs, kwnames, names, 4, 2, 4, v)) return ERROR_VAL;
    int64_t nbytes = 0, flags = 0;
    if (!IS_EMPTY(v[2]) && !args_int(ts, v[2], &nbytes)) return ERROR_VAL;
    if (!IS_EMPTY(v[3]) && !args_int(ts, v[3], &flags)) return ERROR_VAL;
    if (nbytes < 0) return err_format(ts, ts->interp->exc.ValueError, "negative buffersize in %s", name);
    Buffer view;
    if (!buffer_get(ts, v[1], &view, BUF_EXPORT)) return ERROR_VAL;
    if (view.readonly) {
        buffer_release(ts, &view);
        return err_format(ts, ts->interp->exc.TypeError, "%s() argument 'buffer' must be read-write bytes-like object, "
                          "not %s", name, ops_type_name(ts, v[1]));
    }
    if ((size_t)nbytes > view.len) {
        buffer_release(ts, &view);
        return err_format(ts, ts->interp->exc.ValueError, "%s too small for requested bytes",
                          from ? "nbytes is greater than the length of the buffer" : "buffer");
    }
    IoCtx c = {.buf = view.buf, .len = nbytes ? (size_t)nbytes : view.len, .flags = (int)flags, .to = from};
    ssize_t r = sock_call(ts, AS_SOCKET(v[0]), POLLIN, recv_op, &c);
    buffer_release(ts, &view);
    if (r < 0) return ERROR_VAL;
    return from ? with_sender(ts, INT_VAL(r), &c) : INT_VAL(r);
}

static Value sock_recv_into(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return recv_into_common(ts, args, nargs, kwnames, false);
}

static Value sock_recvfrom_into(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return recv_into_common(ts, args, nargs, kwnames, true);
}

static Value sock_close(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("close", 0, 0);
    int fd = atomic_exchange(&SELF->fd, -1);
    /* ECONNRESET at close is not an error worth raising, as CPython. */
    if (fd >= 0 && close(fd) != 0 && errno != ECONNRESET && errno != EINTR) return raise_errno(ts, errno);
    return NONE_VAL;
}

static Value sock_detach(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("detach", 0, 0);
    return INT_VAL(atomic_exchange(&SELF->fd, -1));
}

static Value sock_fileno(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("fileno", 0, 0);
    return INT_VAL(atomic_load(&SELF->fd));
}

static Value name_common(TState *ts, Value *args, int nargs, ObjTuple *kwnames, bool peer) {
    ARGS_CHECK_METHOD(peer ? "getpeername" : "getsockname", 0, 0);
    int fd;
    if (!check_open(ts, SELF, &fd)) return ERROR_VAL;
    SockAddr a;
    socklen_t len = sizeof a;
    memset(&a, 0, sizeof a);
    if ((peer ? getpeername(fd, &a.sa, &len) : getsockname(fd, &a.sa, &len)) != 0) return raise_errno(ts, errno);
    if (a.sa.sa_family == AF_UNSPEC) a.sa.sa_family = (sa_family_t)SELF->family;
    return addr_to_value(ts, &a, len);
}

static Value sock_getsockname(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return name_common(ts, args, nargs, kwnames, false);
}

static Value sock_getpeername(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return name_common(ts, args, nargs, kwnames, true);
}

/* setsockopt(level, option, value: int | buffer) or (level, option, None, optlen). */
static Value sock_setsockopt(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("setsockopt", 3, 4);
    int fd;
    int64_t level, opt;
    if (!check_open(ts, SELF, &fd) || !args_int(ts, args[1], &level) || !args_int(ts, args[2], &opt))
        return ERROR_VAL;
    int r;
    if (nargs == 5) {
        int64_t optlen;
        if (!IS_NONE(args[3]))
            return err_set_str(ts, ts->interp->exc.TypeError, "setsockopt() takes an int, a buffer, or None and an "
                                                              "optlen");
        if (!args_int(ts, args[4], &optlen)) return ERROR_VAL;
        r = setsockopt(fd, (int)level, (int)opt, NULL, (socklen_t)optlen);
    } else if (IS_INT(args[3]) || IS_BOOL(args[3])) {
        int64_t value;
        if (!args_int(ts, args[3], &value)) return ERROR_VAL;
        int flag = (int)value;
        r = setsockopt(fd, (int)level, (int)opt, &flag, sizeof flag);
    } else {
        Buffer view;
        if (!buffer_get(ts, args[3], &view, BUF_READ)) return ERROR_VAL;
        r = setsockopt(fd, (int)level, (int)opt, view.buf, (socklen_t)view.len);
        buffer_release(ts, &view);
    }
    return r == 0 ? NONE_VAL : raise_errno(ts, errno);
}

static Value sock_getsockopt(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("getsockopt", 2, 3);
    int fd;
    int64_t level, opt, buflen = 0;
    if (!check_open(ts, SELF, &fd) || !args_int(ts, args[1], &level) || !args_int(ts, args[2], &opt))
        return ERROR_VAL;
    if (nargs == 4 && !args_int(ts, args[3], &buflen)) return ERROR_VAL;
    if (buflen == 0) {
        int value = 0;
        socklen_t n = sizeof value;
        if (getsockopt(fd, (int)level, (int)opt, &value, &n) != 0) return raise_errno(ts, errno);
        return INT_VAL(value);
    }
    if (buflen < 0 || buflen > 1024) return err_set_str(ts, ts->interp->exc.OSError, "getsockopt buflen out of range");
    char buf[1024];
    socklen_t n = (socklen_t)buflen;
    if (getsockopt(fd, (int)level, (int)opt, buf, &n) != 0) return raise_errno(ts, errno);
    ObjBytes *b = bytes_new(ts, buf, n);
    return b ? OBJ_VAL(b) : ERROR_VAL;
}

/* A timeout argument: None (< 0 stored), or seconds >= 0. */
static bool timeout_arg(TState *ts, Value v, double *out) {
    if (IS_NONE(v)) {
        *out = -1;
        return true;
    }
    if (!IS_FLOATLIKE(v) && !IS_INT(v) && !IS_BOOL(v)) {
        err_format(ts, ts->interp->exc.TypeError, "'%s' object cannot be interpreted as an integer",
                   ops_type_name(ts, v));
        return false;
    }
    if (!args_float(ts, v, out)) return false;
    if (isnan(*out)) {
        err_set_str(ts, ts->interp->exc.ValueError, "Invalid value NaN (not a number)");
        return false;
    }
    if (*out < 0) {
        err_set_str(ts, ts->interp->exc.ValueError, "Timeout value out of range");
        return false;
    }
    return true;
}

static Value sock_settimeout(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("settimeout", 1, 1);
    double t;
    if (!timeout_arg(ts, args[1], &t)) return ERROR_VAL;
    SELF->timeout = t;
    return NONE_VAL;
}

static Value timeout_value(TState *ts, double t) {
    if (t < 0) return NONE_VAL;
    (void)ts;
    return FLOAT_VAL(t);
}

static Value sock_gettimeout(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("gettimeout", 0, 0);
    return timeout_value(ts, SELF->timeout);
}

static Value sock_setblocking(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("setblocking", 1, 1);
    int flag = ops_truth(ts, args[1]);
    if (flag < 0) return ERROR_VAL;
    SELF->timeout = flag ? -1 : 0;
    return NONE_VAL;
}

static Value sock_getblocking(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("getblocking", 0, 0);
    return BOOL_VAL(SELF->timeout != 0);
}

static Value sock_shutdown(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("shutdown", 1, 1);
    int fd;
    int64_t how;
    if (!check_open(ts, SELF, &fd) || !args_int(ts, args[1], &how)) return ERROR_VAL;
    if (shutdown(fd, (int)how) != 0) return raise_errno(ts, errno);
    return NONE_VAL;
}

static Value get_family(TState *ts, Value self) {
    (void)ts;
    return INT_VAL(AS_SOCKET(self)->family);
}
static Value get_type(TState *ts, Value self) {
    (void)ts;
    return INT_VAL(AS_SOCKET(self)->type);
}
static Value get_proto(TState *ts, Value self) {
    (void)ts;
    return INT_VAL(AS_SOCKET(self)->proto);
}
static Value get_timeout(TState *ts, Value self) { return timeout_value(ts, AS_SOCKET(self)->timeout); }

static const NativeDef socket_methods[] = {
    {"bind", sock_bind},
    {"listen", sock_listen},
    {"_accept", sock_accept},
    {"connect", sock_connect},
    {"connect_ex", sock_connect_ex},
    {"send", sock_send},
    {"sendall", sock_sendall},
    {"sendto", sock_sendto},
    {"recv", sock_recv},
    {"recvfrom", sock_recvfrom},
    {"recv_into", sock_recv_into},
    {"recvfrom_into", sock_recvfrom_into},
    {"close", sock_close},
    {"detach", sock_detach},
    {"fileno", sock_fileno},
    {"getsockname", sock_getsockname},
    {"getpeername", sock_getpeername},
    {"setsockopt", sock_setsockopt},
    {"getsockopt", sock_getsockopt},
    {"settimeout", sock_settimeout},
    {"gettimeout", sock_gettimeout},
    {"setblocking", sock_setblocking},
    {"getblocking", sock_getblocking},
    {"shutdown", sock_shutdown},
    {NULL, NULL},
};

static const GetSetDef socket_getsets[] = {
    {"family", get_family, NULL},
    {"type", get_type, NULL},
    {"proto", get_proto, NULL},
    {"timeout", get_timeout, NULL},
    {NULL, NULL, NULL},
};

static const TypeSpec socket_spec = {
    .name = "socket",
    .kind = OBJ_OPAQUE,
    .flags = TYPEF_BASETYPE,
    .new_ = socket_type_new,
    .finalize = socket_finalize,
    .methods = socket_methods,
    .getsets = socket_getsets,
};

/* ---- module functions ---------------------------------------------------------- */

/* socketpair(family=AF_UNIX, type=SOCK_STREAM, proto=0) -> (fd, fd). */
static Value f_socketpair(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "socketpair", nargs, kwnames, 0, 3)) return ERROR_VAL;
    if (interp_sandbox_refuses(ts, "opening a socket")) return ERROR_VAL;
    int64_t family = AF_UNIX, stype = SOCK_STREAM, proto = 0;
    if ((nargs > 0 && !IS_NONE(args[0]) && !args_int(ts, args[0], &family)) ||
        (nargs > 1 && !IS_NONE(args[1]) && !args_int(ts, args[1], &stype)) ||
        (nargs > 2 && !IS_NONE(args[2]) && !args_int(ts, args[2], &proto)))
        return ERROR_VAL;
    int fds[2];
    if (socketpair((int)family, (int)stype | SOCK_CLOEXEC, (int)proto, fds) != 0) return raise_errno(ts, errno);
    Value items[2] = {INT_VAL(fds[0]), INT_VAL(fds[1])};
    ObjTuple *t = tuple_from(ts, items, 2);
    if (!t) {
        close(fds[0]);
        close(fds[1]);
    }
    return t ? OBJ_VAL(t) : ERROR_VAL;
}

/* getaddrinfo(host, port, family=0, type=0, proto=0, flags=0) -> a list of
 * (family, type, proto, canonname, sockaddr). */
static Value f_getaddrinfo(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"host", "port", "family", "type", "proto", "flags"};
    Value v[6];
    if (!args_bind(ts, "getaddrinfo", args, nargs, kwnames, names, 6, 2, 6, v)) return ERROR_VAL;
    const char *host = NULL, *service = NULL;
    char port_text[24];
    if (IS_STR(v[0])) host = AS_STR(v[0])->data;
    else if (IS_BYTES(v[0])) host = AS_BYTES(v[0])->data;
    else if (!IS_NONE(v[0]))
        return err_set_str(ts, ts->interp->exc.TypeError, "getaddrinfo() argument 1 must be string or None");
    if (IS_INT(v[1])) {
        int64_t p;
        if (!args_int(ts, v[1], &p)) return ERROR_VAL;
        snprintf(port_text, sizeof port_text, "%lld", (long long)p);
        service = port_text;
    } else if (IS_STR(v[1])) {
        service = AS_STR(v[1])->data;
    } else if (IS_BYTES(v[1])) {
        service = AS_BYTES(v[1])->data;
    } else if (!IS_NONE(v[1])) {
        return err_set_str(ts, ts->interp->exc.OSError, "Int or String expected");
    }
    int64_t opt[4] = {0, 0, 0, 0};
    for (int i = 0; i < 4; i++)
        if (!IS_EMPTY(v[2 + i]) && !args_int(ts, v[2 + i], &opt[i])) return ERROR_VAL;
    struct addrinfo hints = {.ai_family = (int)opt[0], .ai_socktype = (int)opt[1], .ai_protocol = (int)opt[2],
                             .ai_flags = (int)opt[3]};
    /* The lookup can take long: the strings are copied out first. */
    char *h = host ? strdup(host) : NULL, *sv = service ? strdup(service) : NULL;
    if ((host && !h) || (service && !sv)) {
        free(h);
        free(sv);
        return err_no_memory(ts);
    }
    struct addrinfo *res = NULL;
    thread_detach(ts);
    int code = getaddrinfo(h, sv, &hints, &res);
    thread_attach(ts);
    free(h);
    free(sv);
    if (code != 0) return raise_gai(ts, code);
    ObjList *out = list_new(ts, 0);
    if (!out) {
        freeaddrinfo(res);
        return ERROR_VAL;
    }
    vm_push(ts, OBJ_VAL(out));
    bool ok = true;
    for (struct addrinfo *ai = res; ok && ai; ai = ai->ai_next) {
        Value addr = addr_to_value(ts, (const SockAddr *)ai->ai_addr, ai->ai_addrlen);
        ObjStr *canon = IS_ERROR(addr) ? NULL : str_from_cstr(ts, ai->ai_canonname ? ai->ai_canonname : "");
        if (!canon) {
            ok = false;
            break;
        }
        Value items[5] = {INT_VAL(ai->ai_family), INT_VAL(ai->ai_socktype), INT_VAL(ai->ai_protocol), OBJ_VAL(canon),
                          addr};
        ObjTuple *t = tuple_from(ts, items, 5);
        ok = t && list_append(ts, out, OBJ_VAL(t)) == 0;
    }
    vm_pop(ts);
    freeaddrinfo(res);
    return ok ? OBJ_VAL(out) : ERROR_VAL;
}

static Value f_gethostname(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "gethostname", nargs, kwnames, 0, 0)) return ERROR_VAL;
    char name[256];
    if (gethostname(name, sizeof name) != 0) return raise_errno(ts, errno);
    name[sizeof name - 1] = '\0';
    ObjStr *s = str_from_cstr(ts, name);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

/* inet_pton(family, text) and inet_ntop(family, packed). */
static Value f_inet_pton(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "inet_pton", nargs, kwnames, 2, 2)) return ERROR_VAL;
    int64_t family;
    ObjStr *text;
    if (!args_int(ts, args[0], &family) || !args_str(ts, args[1], "inet_pton", &text)) return ERROR_VAL;
    unsigned char out[16];
    int r = inet_pton((int)family, text->data, out);
    if (r < 0) return raise_errno(ts, errno);
    if (r == 0) return err_set_str(ts, ts->interp->exc.OSError, "illegal IP address string passed to inet_pton");
    ObjBytes *b = bytes_new(ts, (const char *)out, family == AF_INET ? 4 : 16);
    return b ? OBJ_VAL(b) : ERROR_VAL;
}

static Value f_inet_ntop(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "inet_ntop", nargs, kwnames, 2, 2)) return ERROR_VAL;
    int64_t family;
    if (!args_int(ts, args[0], &family)) return ERROR_VAL;
    Buffer view;
    if (!buffer_get(ts, args[1], &view, BUF_READ)) return ERROR_VAL;
    size_t want = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
    char text[INET6_ADDRSTRLEN];
    bool ok = want && view.len == want && inet_ntop((int)family, view.buf, text, sizeof text);
    size_t got = view.len;
    buffer_release(ts, &view);
    if (!want) return err_set_str(ts, ts->interp->exc.ValueError, "unknown address family");
    if (got != want) return err_set_str(ts, ts->interp->exc.ValueError, "invalid length of packed IP address string");
    if (!ok) return raise_errno(ts, errno);
    ObjStr *s = str_from_cstr(ts, text);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static Value f_inet_aton(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "inet_aton", nargs, kwnames, 1, 1)) return ERROR_VAL;
    ObjStr *text;
    if (!args_str(ts, args[0], "inet_aton", &text)) return ERROR_VAL;
    struct in_addr a;
    if (!inet_aton(text->data, &a))
        return err_set_str(ts, ts->interp->exc.OSError, "illegal IP address string passed to inet_aton");
    ObjBytes *b = bytes_new(ts, (const char *)&a, 4);
    return b ? OBJ_VAL(b) : ERROR_VAL;
}

static Value f_inet_ntoa(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "inet_ntoa", nargs, kwnames, 1, 1)) return ERROR_VAL;
    Value packed[2] = {INT_VAL(AF_INET), args[0]};
    Buffer view;
    if (!buffer_get(ts, args[0], &view, BUF_READ)) return ERROR_VAL;
    size_t n = view.len;
    buffer_release(ts, &view);
    if (n != 4) return err_set_str(ts, ts->interp->exc.OSError, "packed IP wrong length for inet_ntoa");
    return f_inet_ntop(ts, packed, 2, NULL);
}

/* htons and friends: CPython's range checks. */
static Value byte_order(TState *ts, Value *args, int nargs, ObjTuple *kwnames, const char *name, bool wide) {
    if (!args_check(ts, name, nargs, kwnames, 1, 1)) return ERROR_VAL;
    int64_t x;
    if (!args_int(ts, args[0], &x)) return ERROR_VAL;
    if (x < 0) return err_format(ts, ts->interp->exc.OverflowError, "%s: can't convert negative Python int to C %s",
                                 name, wide ? "unsigned long" : "16-bit unsigned integer");
    if (!wide && x > 0xffff)
        return err_format(ts, ts->interp->exc.OverflowError, "%s: Python int too large to convert to C 16-bit unsigned "
                          "integer", name);
    if (wide && x > 0xffffffffLL) return err_set_str(ts, ts->interp->exc.OverflowError, "int larger than 32 bits");
    return INT_VAL(wide ? (int64_t)htonl((uint32_t)x) : (int64_t)htons((uint16_t)x));
}

static Value f_htons(TState *ts, Value *a, int n, ObjTuple *k) { return byte_order(ts, a, n, k, "htons", false); }
static Value f_ntohs(TState *ts, Value *a, int n, ObjTuple *k) { return byte_order(ts, a, n, k, "ntohs", false); }
static Value f_htonl(TState *ts, Value *a, int n, ObjTuple *k) { return byte_order(ts, a, n, k, "htonl", true); }
static Value f_ntohl(TState *ts, Value *a, int n, ObjTuple *k) { return byte_order(ts, a, n, k, "ntohl", true); }

static const NativeDef socket_functions[] = {
    {"socketpair", f_socketpair},
    {"getaddrinfo", f_getaddrinfo},
    {"gethostname", f_gethostname},
    {"inet_pton", f_inet_pton},
    {"inet_ntop", f_inet_ntop},
    {"inet_aton", f_inet_aton},
    {"inet_ntoa", f_inet_ntoa},
    {"htons", f_htons},
    {"ntohs", f_ntohs},
    {"htonl", f_htonl},
    {"ntohl", f_ntohl},
    {NULL, NULL},
};

static const IntConstant socket_constants[] = {
    {"AF_UNSPEC", AF_UNSPEC}, {"AF_INET", AF_INET}, {"AF_INET6", AF_INET6}, {"AF_UNIX", AF_UNIX},
    {"SOCK_STREAM", SOCK_STREAM}, {"SOCK_DGRAM", SOCK_DGRAM}, {"SOCK_RAW", SOCK_RAW},
    {"SOCK_SEQPACKET", SOCK_SEQPACKET}, {"SOCK_NONBLOCK", SOCK_NONBLOCK}, {"SOCK_CLOEXEC", SOCK_CLOEXEC},
    {"SOL_SOCKET", SOL_SOCKET}, {"SO_REUSEADDR", SO_REUSEADDR}, {"SO_REUSEPORT", SO_REUSEPORT},
    {"SO_KEEPALIVE", SO_KEEPALIVE}, {"SO_BROADCAST", SO_BROADCAST}, {"SO_LINGER", SO_LINGER},
    {"SO_RCVBUF", SO_RCVBUF}, {"SO_SNDBUF", SO_SNDBUF}, {"SO_ERROR", SO_ERROR}, {"SO_TYPE", SO_TYPE},
    {"SO_RCVTIMEO", SO_RCVTIMEO}, {"SO_SNDTIMEO", SO_SNDTIMEO}, {"SO_DOMAIN", SO_DOMAIN},
    {"SO_PROTOCOL", SO_PROTOCOL}, {"SOMAXCONN", SOMAXCONN},
    {"IPPROTO_IP", IPPROTO_IP}, {"IPPROTO_TCP", IPPROTO_TCP}, {"IPPROTO_UDP", IPPROTO_UDP},
    {"IPPROTO_IPV6", IPPROTO_IPV6}, {"IPV6_V6ONLY", IPV6_V6ONLY}, {"TCP_NODELAY", TCP_NODELAY},
    {"TCP_KEEPIDLE", TCP_KEEPIDLE}, {"TCP_KEEPINTVL", TCP_KEEPINTVL}, {"TCP_KEEPCNT", TCP_KEEPCNT},
    {"IP_TTL", IP_TTL}, {"IP_MULTICAST_TTL", IP_MULTICAST_TTL}, {"IP_ADD_MEMBERSHIP", IP_ADD_MEMBERSHIP},
    {"SHUT_RD", SHUT_RD}, {"SHUT_WR", SHUT_WR}, {"SHUT_RDWR", SHUT_RDWR},
    {"MSG_PEEK", MSG_PEEK}, {"MSG_DONTWAIT", MSG_DONTWAIT}, {"MSG_WAITALL", MSG_WAITALL}, {"MSG_OOB", MSG_OOB},
    {"MSG_NOSIGNAL", MSG_NOSIGNAL},
    {"AI_PASSIVE", AI_PASSIVE}, {"AI_CANONNAME", AI_CANONNAME}, {"AI_NUMERICHOST", AI_NUMERICHOST},
    {"AI_NUMERICSERV", AI_NUMERICSERV}, {"AI_ADDRCONFIG", AI_ADDRCONFIG}, {"AI_V4MAPPED", AI_V4MAPPED},
    {"AI_ALL", AI_ALL}, {"NI_NUMERICHOST", NI_NUMERICHOST}, {"NI_NUMERICSERV", NI_NUMERICSERV},
    {"EAI_NONAME", EAI_NONAME}, {"EAI_AGAIN", EAI_AGAIN}, {"EAI_FAIL", EAI_FAIL}, {"EAI_SERVICE", EAI_SERVICE},
    {"INADDR_ANY", INADDR_ANY}, {"INADDR_LOOPBACK", INADDR_LOOPBACK}, {"INADDR_BROADCAST", INADDR_BROADCAST},
    {"INADDR_NONE", INADDR_NONE},
    {NULL, 0},
};

bool mod_socket_init(TState *ts, ObjDict *ns) {
    ObjStr *module = str_intern_cstr(ts, "socket");
    ObjStr *c_module = str_intern_cstr(ts, "_socket");
    if (!module || !c_module || !builtins_add_natives(ts, ns, socket_functions)) return false;
    ObjType *t = type_from_spec(ts, &socket_spec, NULL);
    if (!t) return false;
    t->module = OBJ_VAL(c_module);
    if (!builtins_add_value(ts, ns, "socket", OBJ_VAL(t)) || !builtins_add_value(ts, ns, "SocketType", OBJ_VAL(t)))
        return false;
    Value gai = module_add_exception(ts, ns, module, "gaierror", ts->interp->exc.OSError, NULL);
    Value herror = IS_ERROR(gai) ? gai : module_add_exception(ts, ns, module, "herror", ts->interp->exc.OSError, NULL);
    if (IS_ERROR(herror)) return false;
    if (!builtins_add_ints(ts, ns, socket_constants)) return false;
    return builtins_add_value(ts, ns, "_default_timeout", NONE_VAL) && builtins_add_value(ts, ns, "has_ipv6", TRUE_VAL);
}
