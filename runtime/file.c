/* Text file objects: UTF-8 over a descriptor, with our own buffers.
 *
 * Locking: every operation holds the file's mutex while it touches the
 * descriptor or the buffers. A thread blocks on that mutex only while
 * detached (trylock first; if that fails, detach, lock, attach), and every
 * read(2)/write(2) runs detached touching only the file's own C buffers,
 * so a thread stuck on a full pipe or an empty terminal never holds the
 * GIL or delays a collection. Holding the mutex while attached is fine
 * because nobody waits for it attached. Mini code never runs under it: a
 * signal (EINTR) drops the lock around the safepoint, and callers re-read
 * the buffer state afterwards. */
#include "runtime/file.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/args.h"
#include "runtime/buffer.h"
#include "runtime/bytes.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/int.h"
#include "runtime/list.h"
#include "runtime/module.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/strbuf.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/sync.h"
#include "vm/thread.h"
#include "vm/vm.h"

/* Buffer size when the file system gives no better hint (CPython's
 * DEFAULT_BUFFER_SIZE). */
#define FILE_DEFAULT_BUFFER 8192

enum {
    FILE_READABLE = 1 << 0,
    FILE_WRITABLE = 1 << 1,
    FILE_CLOSEFD = 1 << 2, /* closing the object closes the descriptor */
    FILE_LINE_BUFFERED = 1 << 3,
    FILE_WRITE_THROUGH = 1 << 4, /* every write goes out at once (mini -u) */
    FILE_BINARY = 1 << 5,        /* 'b' in the mode: bytes in and out, no newline translation */
    FILE_SHARED = 1 << 6,        /* a text file's .buffer: its descriptor, lock and buffers are the peer's */
};

/* open(newline=...): where lines end when reading, what "\n" becomes when
 * writing. */
typedef enum Newline {
    NL_UNIVERSAL,    /* None: \r\n and \r read as \n */
    NL_UNTRANSLATED, /* '': lines end at \n, \r or \r\n, kept as they are */
    NL_LF,           /* '\n' */
    NL_CR,           /* '\r': lines end at \r; \n is written as \r */
    NL_CRLF,         /* '\r\n': lines end at \r\n; \n is written as \r\n */
} Newline;

/* open(errors=...) for undecodable input. */
typedef enum DecodeErrors { DEC_STRICT, DEC_REPLACE, DEC_IGNORE } DecodeErrors;

typedef struct ObjFile {
    Obj obj;
    pthread_mutex_t lock;       /* guards fd and the buffers */
    _Atomic int fd;             /* -1 once closed */
    Value name, mode, encoding; /* fixed at creation */
    uint32_t flags;             /* FILE_* */
    uint8_t newline;            /* Newline */
    uint8_t errors;             /* DecodeErrors */
    char *rbuf;                 /* read-ahead: the unread bytes are [rpos, rlen) */
    size_t rcap, rpos, rlen;
    char *wbuf;                 /* output not yet written: [0, wlen) */
    size_t wcap, wlen;
    /* FILE_SHARED: the text file it is the .buffer of; a text file: its
     * .buffer once made (so sys.stdout and sys.stdout.buffer write through
     * one buffer, in order). */
    Value peer;
} ObjFile;

#define AS_FILE(v) ((ObjFile *)AS_OBJ(v))

/* The object whose descriptor and buffers an operation on v uses. */
static inline ObjFile *io_of(Value v) {
    ObjFile *f = AS_FILE(v);
    return (f->flags & FILE_SHARED) ? AS_FILE(f->peer) : f;
}
static inline bool is_binary(Value v) { return (AS_FILE(v)->flags & FILE_BINARY) != 0; }

static inline int file_fd(ObjFile *f) { return atomic_load_explicit(&f->fd, memory_order_relaxed); }

/* ---- errors ---------------------------------------------------------- */

Value file_raise_oserror(TState *ts, int err, Value filename) {
    return file_raise_oserror2(ts, err, filename, NONE_VAL);
}

Value file_raise_oserror2(TState *ts, int err, Value filename, Value filename2) {
    Interp *interp = ts->interp;
    char buf[256];
    const char *msg = strerror_r(err, buf, sizeof buf);
    ObjStr *strerr = str_from_cstr(ts, msg);
    if (!strerr) return ERROR_VAL;
    Value args[5] = {INT_VAL(err), OBJ_VAL(strerr), filename, NONE_VAL, filename2};
    int nargs = !IS_NONE(filename2) ? 5 : !IS_NONE(filename) ? 3 : 2;
    Value exc = vm_call(ts, OBJ_VAL(interp->exc.OSError), args, nargs, NULL);
    if (IS_ERROR(exc)) return exc;
    return err_raise(ts, exc);
}

Value file_fspath(TState *ts, Value path) {
    if (IS_STR(path) || IS_BYTES(path)) return path;
    ObjStr *name = str_intern_cstr(ts, "__fspath__");
    ObjType *type = val_type(ts, path);
    Value method = name ? type_lookup(type, name) : EMPTY_VAL;
    if (IS_EMPTY(method) || IS_NONE(method))
        return err_format(ts, ts->interp->exc.TypeError, "expected str, bytes or os.PathLike object, not %s",
                          type->name->data);
    Value r = vm_call(ts, method, &path, 1, NULL);
    if (IS_ERROR(r) || IS_STR(r) || IS_BYTES(r)) return r;
    return err_format(ts, ts->interp->exc.TypeError, "expected %s.__fspath__() to return str or bytes, not %s",
                      type->name->data, ops_type_name(ts, r));
}

/* io.UnsupportedOperation derives from OSError and ValueError; mini's
 * exception classes have one base, so it is raised as OSError. */
static bool unsupported(TState *ts, const char *what) {
    err_format(ts, ts->interp->exc.OSError, "%s", what);
    return false;
}

static bool check_open(TState *ts, ObjFile *f) {
    if (file_fd(f) >= 0) return true;
    err_format(ts, ts->interp->exc.ValueError, "I/O operation on closed file.");
    return false;
}

/* ---- locking ----------------------------------------------------------- */

static void file_lock(TState *ts, ObjFile *f) {
    int r = pthread_mutex_trylock(&f->lock);
    if (r == 0) return;
    if (r != EBUSY) sync_fail("pthread_mutex_trylock", r, __FILE__, __LINE__);
    thread_detach(ts);
    MUTEX_LOCK(&f->lock);
    thread_attach(ts);
}

static void file_unlock(ObjFile *f) { MUTEX_UNLOCK(&f->lock); }

/* A blocking call returned EINTR: run the safepoint, which raises
 * KeyboardInterrupt for Ctrl-C. It may run mini code that uses this very
 * file, so the lock is dropped meanwhile; false after raising. */
static bool file_interrupted(TState *ts, ObjFile *f) {
    file_unlock(f);
    bool ok = vm_safepoint(ts);
    file_lock(ts, f);
    return ok;
}

/* ---- writing ----------------------------------------------------------- */

/* write(2)s all of p[0..n) detached. Returns how many bytes went out; *err
 * is 0 when all did, else the errno that stopped it (EINTR included). */
static size_t write_detached(TState *ts, int fd, const char *p, size_t n, int *err) {
    size_t done = 0;
    *err = 0;
    thread_detach(ts);
    while (done < n) {
        ssize_t w = write(fd, p + done, n - done);
        if (w < 0) {
            *err = errno;
            break;
        }
        done += (size_t)w;
    }
    thread_attach(ts);
    return done;
}

/* Empties the write buffer. Lock held. */
static bool flush_locked(TState *ts, ObjFile *f) {
    while (f->wlen > 0) {
        if (!check_open(ts, f)) return false;
        int err;
        size_t done = write_detached(ts, file_fd(f), f->wbuf, f->wlen, &err);
        memmove(f->wbuf, f->wbuf + done, f->wlen - done);
        f->wlen -= done;
        if (err == 0) break;
        if (err == EINTR) {
            if (!file_interrupted(ts, f)) return false;
            continue;
        }
        /* Keeping bytes that cannot be written would only fail again at
         * every later flush, and at exit. */
        f->wlen = 0;
        file_raise_oserror(ts, err, NONE_VAL);
        return false;
    }
    return true;
}

/* Before writing to a file that is also read (modes with '+'): move the
 * descriptor back over the read-ahead so the write lands where the reader
 * is. Lock held. */
static bool drop_readahead(TState *ts, ObjFile *f) {
    size_t unread = f->rlen - f->rpos;
    f->rpos = f->rlen = 0;
    if (unread && lseek(file_fd(f), -(off_t)unread, SEEK_CUR) < 0) {
        file_raise_oserror(ts, errno, NONE_VAL);
        return false;
    }
    return true;
}

static bool write_locked(TState *ts, ObjFile *f, const char *data, size_t len) {
    if (!check_open(ts, f)) return false;
    if (!(f->flags & FILE_WRITABLE)) return unsupported(ts, "not writable");
    if (f->rlen > f->rpos && !drop_readahead(ts, f)) return false;
    bool flush_after = (f->flags & FILE_WRITE_THROUGH) ||
                       ((f->flags & FILE_LINE_BUFFERED) && (memchr(data, '\n', len) || memchr(data, '\r', len)));
    if (f->wlen + len > f->wcap && !flush_locked(ts, f)) return false;
    if (!check_open(ts, f)) return false;
    if (len > f->wcap) {
        /* Too big to buffer: straight out, after what was buffered. */
        while (len > 0) {
            int err;
            size_t done = write_detached(ts, file_fd(f), data, len, &err);
            data += done;
            len -= done;
            if (err == 0) break;
            if (err != EINTR) {
                file_raise_oserror(ts, err, NONE_VAL);
                return false;
            }
            if (!file_interrupted(ts, f) || !check_open(ts, f)) return false;
        }
        return true;
    }
    /* flush_locked left the buffer empty, or it had room. */
    memcpy(f->wbuf + f->wlen, data, len);
    f->wlen += len;
    return flush_after ? flush_locked(ts, f) : true;
}

/* "\n" as the file's newline= says it is written ("\r" or "\r\n"); NULL
 * when the text goes out unchanged. */
static char *translate_for_write(ObjFile *f, const char *data, size_t len, size_t *out_len,
                                 bool *nomem) {
    *nomem = false;
    if ((f->newline != NL_CR && f->newline != NL_CRLF) || !memchr(data, '\n', len)) return NULL;
    StrBuf sb;
    sb_init(&sb);
    const char *eol = f->newline == NL_CR ? "\r" : "\r\n";
    bool ok = true;
    for (const char *p = data, *end = data + len; ok && p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) {
            ok = sb_append(&sb, p, (size_t)(end - p));
            break;
        }
        ok = sb_append(&sb, p, (size_t)(nl - p)) && sb_append_cstr(&sb, eol);
        p = nl + 1;
    }
    if (!ok) {
        sb_free(&sb);
        *nomem = true;
        return NULL;
    }
    return sb_take(&sb, out_len);
}

bool file_write_str(TState *ts, Value file, const char *data, size_t len) {
    ObjFile *f = AS_FILE(file);
    size_t tlen;
    bool nomem;
    char *translated = translate_for_write(f, data, len, &tlen, &nomem);
    if (nomem) {
        err_no_memory(ts);
        return false;
    }
    file_lock(ts, f);
    bool ok = translated ? write_locked(ts, f, translated, tlen) : write_locked(ts, f, data, len);
    file_unlock(f);
    free(translated);
    return ok;
}

bool file_flush(TState *ts, Value file) {
    ObjFile *f = AS_FILE(file);
    file_lock(ts, f);
    bool ok = check_open(ts, f) && flush_locked(ts, f);
    file_unlock(f);
    return ok;
}

/* ---- reading ----------------------------------------------------------- */

/* Reads more input into the buffer, detached. 1: bytes were added (or a
 * signal was handled; either way the caller looks again), 0: end of file,
 * -1: raised. Lock held. */
static int fill_locked(TState *ts, ObjFile *f) {
    if (!check_open(ts, f)) return -1;
    if (!(f->flags & FILE_READABLE)) {
        unsupported(ts, "not readable");
        return -1;
    }
    if (f->wlen > 0 && !flush_locked(ts, f)) return -1;
    if (f->rpos > 0) {
        memmove(f->rbuf, f->rbuf + f->rpos, f->rlen - f->rpos);
        f->rlen -= f->rpos;
        f->rpos = 0;
    }
    if (f->rlen == f->rcap) {
        size_t cap = f->rcap ? f->rcap * 2 : FILE_DEFAULT_BUFFER;
        char *p = gc_realloc_buffer(ts, f->rbuf, f->rcap, cap);
        if (!p) {
            err_no_memory(ts);
            return -1;
        }
        f->rbuf = p;
        f->rcap = cap;
    }
    int fd = file_fd(f);
    thread_detach(ts);
    ssize_t n = read(fd, f->rbuf + f->rlen, f->rcap - f->rlen);
    int err = errno;
    thread_attach(ts);
    if (n > 0) {
        f->rlen += (size_t)n;
        return 1;
    }
    if (n == 0) return 0;
    if (err == EINTR) return file_interrupted(ts, f) ? 1 : -1;
    file_raise_oserror(ts, err, NONE_VAL);
    return -1;
}

/* The unread buffered input (rlen - rpos bytes); the read buffer is made
 * at the first read, and NULL + 0 is undefined. */
static const char *read_pos(const ObjFile *f) { return f->rbuf ? f->rbuf + f->rpos : ""; }

/* Bytes in the UTF-8 sequence a lead byte starts (1 for bytes that cannot
 * start one: decoding reports them). */
static size_t utf8_lead_len(unsigned char c) {
    if (c >= 0xC2 && c <= 0xDF) return 2;
    if (c >= 0xE0 && c <= 0xEF) return 3;
    if (c >= 0xF0 && c <= 0xF4) return 4;
    return 1;
}

/* Appends up to `limit` code points (-1: no limit) of input to sb, stopping
 * after a line end when `line` is set, with newlines translated as the
 * file's newline= says. Lock held. */
static bool take_locked(TState *ts, ObjFile *f, int64_t limit, bool line, StrBuf *sb) {
    Newline nl = (Newline)f->newline;
    bool lf_ends_line = line && (nl == NL_UNIVERSAL || nl == NL_UNTRANSLATED || nl == NL_LF);
    int64_t chars = 0;
    bool at_eof = false, ok = true;
    while (ok && (limit < 0 || chars < limit)) {
        if (!check_open(ts, f)) return false;
        size_t avail = f->rlen - f->rpos;
        const char *p = read_pos(f);
        unsigned char c = avail ? (unsigned char)p[0] : 0;
        size_t need = !avail ? 1 : c == '\r' && nl != NL_LF && nl != NL_CR ? 2 : utf8_lead_len(c);
        if (avail < need && !at_eof) {
            /* Refill: the next character (or what follows a \r) is not all
             * here yet. */
            int r = fill_locked(ts, f);
            if (r < 0) return false;
            if (r == 0) at_eof = true;
            continue;
        }
        if (!avail) break;
        if (c == '\r' && nl != NL_LF) {
            bool crlf = avail >= 2 && p[1] == '\n';
            bool room_for_two = limit < 0 || limit - chars >= 2;
            size_t used = 1;
            if (nl == NL_UNIVERSAL) {
                ok = sb_append_char(sb, '\n');
                used = crlf ? 2 : 1;
                chars++;
            } else {
                used = crlf && nl != NL_CR && room_for_two ? 2 : 1;
                ok = sb_append(sb, p, used);
                chars += (int64_t)used;
            }
            f->rpos += used;
            bool ended = nl == NL_UNIVERSAL || nl == NL_CR || used == 2 || (nl == NL_UNTRANSLATED && !crlf);
            if (line && ended) break;
            continue;
        }
        if (c == '\n' && lf_ends_line) {
            ok = sb_append_char(sb, '\n');
            f->rpos++;
            break;
        }
        if (c < 0x80) {
            /* A run of plain ASCII up to the next byte that needs a look. */
            size_t max = avail;
            if (limit >= 0 && (uint64_t)(limit - chars) < max) max = (size_t)(limit - chars);
            size_t run = 1;
            while (run < max) {
                unsigned char d = (unsigned char)p[run];
                if (d >= 0x80 || (d == '\r' && nl != NL_LF) || (d == '\n' && lf_ends_line)) break;
                run++;
            }
            ok = sb_append(sb, p, run);
            f->rpos += run;
            chars += (int64_t)run;
            continue;
        }
        size_t n = need <= avail ? need : avail; /* short only at end of file */
        ok = sb_append(sb, p, n);
        f->rpos += n;
        chars++;
    }
    if (!ok) err_no_memory(ts);
    return ok;
}

/* Length of the valid UTF-8 sequence at p, or 0 with CPython's reason and
 * the length of the maximal invalid prefix (what errors='replace' turns
 * into one U+FFFD). */
static size_t utf8_check(const unsigned char *p, size_t avail, const char **reason, size_t *bad) {
    unsigned char c = p[0];
    if (c < 0x80) return 1;
    size_t n = utf8_lead_len(c);
    unsigned char lo = 0x80, hi = 0xBF;
    if (c == 0xE0) lo = 0xA0;
    else if (c == 0xED) hi = 0x9F; /* no surrogates */
    else if (c == 0xF0) lo = 0x90;
    else if (c == 0xF4) hi = 0x8F;
    *bad = 1;
    if (n == 1) {
        *reason = "invalid start byte";
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if (i >= avail) {
            *reason = "unexpected end of data";
            *bad = i;
            return 0;
        }
        unsigned char b = p[i];
        if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xBF)) {
            *reason = "invalid continuation byte";
            *bad = i;
            return 0;
        }
    }
    return n;
}

/* A str from bytes read from the file, decoded as its errors= says. */
static Value decode_text(TState *ts, ObjFile *f, const char *data, size_t len) {
    const unsigned char *p = (const unsigned char *)data;
    size_t i = 0;
    const char *reason = NULL;
    size_t bad = 0;
    while (i < len) {
        if (p[i] < 0x80) {
            /* ASCII runs a word at a time. */
            uint64_t word;
            while (i + 8 <= len && (memcpy(&word, p + i, 8), (word & 0x8080808080808080ULL) == 0)) i += 8;
            while (i < len && p[i] < 0x80) i++;
            continue;
        }
        size_t n = utf8_check(p + i, len - i, &reason, &bad);
        if (!n) break;
        i += n;
    }
    if (i == len) {
        ObjStr *s = str_new(ts, data, len);
        return s ? OBJ_VAL(s) : ERROR_VAL;
    }
    if (f->errors == DEC_STRICT)
        return err_format(ts, ts->interp->exc.UnicodeDecodeError,
                          "'utf-8' codec can't decode byte 0x%02x in position %zu: %s", p[i], i, reason);
    StrBuf sb;
    sb_init(&sb);
    bool ok = sb_append(&sb, data, i);
    while (ok && i < len) {
        size_t n = p[i] < 0x80 ? 1 : utf8_check(p + i, len - i, &reason, &bad);
        if (n) {
            ok = sb_append(&sb, data + i, n);
            i += n;
        } else {
            if (f->errors == DEC_REPLACE) ok = sb_append(&sb, "\xEF\xBF\xBD", 3);
            i += bad;
        }
    }
    if (!ok) {
        sb_free(&sb);
        return err_no_memory(ts);
    }
    ObjStr *s = str_from_sb(ts, &sb);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

/* readline() when the whole line is already buffered and needs no
 * translation: the str is made straight from the buffer. EMPTY_VAL when
 * the general path is needed. Lock held. */
static Value buffered_line(TState *ts, ObjFile *f) {
    if (file_fd(f) < 0 || !(f->flags & FILE_READABLE) || f->wlen > 0) return EMPTY_VAL;
    const char *p = read_pos(f);
    size_t avail = f->rlen - f->rpos;
    const char *eol = avail ? memchr(p, '\n', avail) : NULL;
    if (!eol) return EMPTY_VAL;
    size_t n = (size_t)(eol - p) + 1;
    bool plain = f->newline == NL_LF ||
                 ((f->newline == NL_UNIVERSAL || f->newline == NL_UNTRANSLATED) && !memchr(p, '\r', n));
    if (!plain) return EMPTY_VAL;
    f->rpos += n;
    return decode_text(ts, f, p, n);
}

static Value take_text(TState *ts, ObjFile *f, int64_t limit, bool line) {
    file_lock(ts, f);
    if (line && limit < 0) {
        Value fast = buffered_line(ts, f);
        if (!IS_EMPTY(fast)) {
            file_unlock(f);
            return fast;
        }
    }
    StrBuf sb;
    sb_init(&sb);
    bool ok = take_locked(ts, f, limit, line, &sb);
    file_unlock(f);
    Value r = ok ? decode_text(ts, f, sb.data ? sb.data : "", sb.len) : ERROR_VAL;
    sb_free(&sb);
    return r;
}

/* Grows the read buffer to hold the rest of a regular file, so read()
 * takes one read(2) plus the one that sees the end. Lock held. */
static bool reserve_rest(TState *ts, ObjFile *f) {
    struct stat st;
    int fd = file_fd(f);
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) return true;
    off_t pos = lseek(fd, 0, SEEK_CUR);
    if (pos < 0 || st.st_size <= pos) return true;
    size_t want = f->rlen + (size_t)(st.st_size - pos) + 1;
    if (want <= f->rcap) return true;
    char *p = gc_realloc_buffer(ts, f->rbuf, f->rcap, want);
    if (!p) {
        err_no_memory(ts);
        return false;
    }
    f->rbuf = p;
    f->rcap = want;
    return true;
}

/* read() with no size: everything up to the end of the file. */
static Value read_all(TState *ts, ObjFile *f) {
    file_lock(ts, f);
    bool ok = check_open(ts, f) && (!(f->flags & FILE_READABLE) || reserve_rest(ts, f));
    int r = 1;
    while (ok && r > 0) {
        r = fill_locked(ts, f);
        ok = r >= 0;
    }
    Value result = ERROR_VAL;
    if (ok) {
        const char *p = read_pos(f);
        size_t n = f->rlen - f->rpos;
        if (f->newline == NL_UNIVERSAL && n && memchr(p, '\r', n)) {
            /* Translate \r\n and \r: take_locked knows how, and all the
             * input is buffered now. */
            StrBuf sb;
            sb_init(&sb);
            ok = take_locked(ts, f, -1, false, &sb);
            file_unlock(f);
            result = ok ? decode_text(ts, f, sb.data ? sb.data : "", sb.len) : ERROR_VAL;
            sb_free(&sb);
            return result;
        }
        result = decode_text(ts, f, p, n);
        f->rpos = f->rlen;
    }
    file_unlock(f);
    return result;
}

Value file_readline(TState *ts, Value file) { return take_text(ts, AS_FILE(file), -1, true); }

/* Binary reading: up to `limit` bytes (-1: to the end of the file), or one
 * line through its b'\n' when `line` is set. */
static Value take_bytes(TState *ts, ObjFile *f, int64_t limit, bool line) {
    file_lock(ts, f);
    StrBuf sb;
    sb_init(&sb);
    bool ok = check_open(ts, f);
    while (ok && (limit < 0 || (int64_t)sb.len < limit)) {
        size_t avail = f->rlen - f->rpos;
        if (avail) {
            const char *p = f->rbuf + f->rpos;
            size_t n = avail;
            if (limit >= 0 && (uint64_t)(limit - (int64_t)sb.len) < n) n = (size_t)(limit - (int64_t)sb.len);
            const char *nl = line ? memchr(p, '\n', n) : NULL;
            if (nl) n = (size_t)(nl - p) + 1;
            if (!sb_append(&sb, p, n)) {
                ok = false;
                err_no_memory(ts);
                break;
            }
            f->rpos += n;
            if (nl) break;
            continue;
        }
        int r = fill_locked(ts, f);
        if (r < 0) ok = false;
        if (r <= 0) break;
    }
    file_unlock(f);
    ObjBytes *b = ok ? bytes_new(ts, sb.data ? sb.data : "", sb.len) : NULL;
    sb_free(&sb);
    return b ? OBJ_VAL(b) : ERROR_VAL;
}

/* ---- creation ---------------------------------------------------------- */

static ObjFile *file_alloc(TState *ts, int fd, Value name, Value mode, Value encoding,
                           uint32_t flags, Newline newline, DecodeErrors errors, size_t wcap) {
    char *wbuf = NULL;
    if ((flags & FILE_WRITABLE) && wcap) {
        wbuf = gc_alloc_buffer(ts, wcap);
        if (!wbuf) {
            err_no_memory(ts);
            return NULL;
        }
    }
    ObjFile *f = (ObjFile *)gc_alloc(ts, sizeof(ObjFile), OBJ_FILE, ts->interp->types.file);
    if (!f) {
        gc_free_buffer(wbuf, wcap);
        return NULL;
    }
    PT_CHECK(pthread_mutex_init(&f->lock, NULL));
    atomic_init(&f->fd, fd);
    f->name = name;
    f->mode = mode;
    f->encoding = encoding;
    f->flags = flags;
    f->newline = (uint8_t)newline;
    f->errors = (uint8_t)errors;
    f->rbuf = NULL;
    f->rcap = f->rpos = f->rlen = 0;
    f->wbuf = wbuf;
    f->wcap = wbuf ? wcap : 0;
    f->wlen = 0;
    f->peer = NONE_VAL;
    return f;
}

Value file_new_fd(TState *ts, int fd, const char *name, const char *mode) {
    ObjStr *n = str_from_cstr(ts, name);
    ObjStr *m = n ? str_from_cstr(ts, mode) : NULL;
    ObjStr *e = m ? str_from_cstr(ts, "utf-8") : NULL;
    if (!e) return ERROR_VAL;
    uint32_t flags = strchr(mode, 'r') ? FILE_READABLE : FILE_WRITABLE;
    /* stderr is line-buffered even when redirected, as in CPython 3.9+. */
    if (isatty(fd) || fd == STDERR_FILENO) flags |= FILE_LINE_BUFFERED;
    if (ts->interp->unbuffered_std && (flags & FILE_WRITABLE)) flags |= FILE_WRITE_THROUGH;
    /* newline='\n', as CPython's standard streams on POSIX: no translation. */
    ObjFile *f = file_alloc(ts, fd, OBJ_VAL(n), OBJ_VAL(m), OBJ_VAL(e), flags, NL_LF, DEC_STRICT,
                            FILE_DEFAULT_BUFFER);
    return f ? OBJ_VAL(f) : ERROR_VAL;
}

/* The mode string of open(): O_* flags and FILE_* flags. */
static bool parse_mode(TState *ts, ObjStr *mode, int *oflags, uint32_t *flags) {
    ObjType *value_error = ts->interp->exc.ValueError;
    bool creating = false, reading = false, writing = false, appending = false;
    bool updating = false, text = false, binary = false;
    for (size_t i = 0; i < mode->len; i++) {
        char c = mode->data[i];
        bool *seen;
        switch (c) {
        case 'x': seen = &creating; break;
        case 'r': seen = &reading; break;
        case 'w': seen = &writing; break;
        case 'a': seen = &appending; break;
        case '+': seen = &updating; break;
        case 't': seen = &text; break;
        case 'b': seen = &binary; break;
        default: seen = NULL; break;
        }
        if (!seen || *seen) {
            err_format(ts, value_error, "invalid mode: '%s'", mode->data);
            return false;
        }
        *seen = true;
    }
    int kinds = creating + reading + writing + appending;
    if (text && binary) {
        err_format(ts, value_error, "can't have text and binary mode at once");
        return false;
    }
    if (kinds > 1) {
        err_format(ts, value_error, "must have exactly one of create/read/write/append mode");
        return false;
    }
    if (kinds == 0) {
        err_format(ts, value_error,
                   "Must have exactly one of create/read/write/append mode and at most one plus");
        return false;
    }
    *flags = 0;
    if (reading) {
        *oflags = O_RDONLY;
        *flags = FILE_READABLE;
    } else {
        *oflags = O_WRONLY | O_CREAT;
        if (writing) *oflags |= O_TRUNC;
        if (appending) *oflags |= O_APPEND;
        if (creating) *oflags |= O_EXCL;
        *flags = FILE_WRITABLE;
    }
    if (updating) {
        *oflags = (*oflags & ~(O_RDONLY | O_WRONLY)) | O_RDWR;
        *flags = FILE_READABLE | FILE_WRITABLE;
    }
    if (binary) *flags |= FILE_BINARY;
    return true;
}

/* str or None arguments of open(). */
static bool optional_str_arg(TState *ts, Value v, const char *what) {
    if (IS_EMPTY(v) || IS_NONE(v) || IS_STR(v)) return true;
    err_format(ts, ts->interp->exc.TypeError, "open() argument '%s' must be str or None, not %s",
               what, ops_type_name(ts, v));
    return false;
}

bool file_is_utf8_encoding(const char *name) {
    char norm[16];
    size_t n = strlen(name);
    if (n >= sizeof norm) return false;
    for (size_t i = 0; i <= n; i++) norm[i] = name[i] == '_' ? '-' : name[i];
    return !strcasecmp(norm, "utf-8") || !strcasecmp(norm, "utf8") || !strcasecmp(norm, "u8") ||
           !strcasecmp(norm, "utf") || !strcasecmp(norm, "cp65001");
}

/* Encodings CPython knows but mini does not decode (ascii, latin-1 and
 * utf-8-sig come here only when open() is called from C: the built-in
 * open serves them through io.TextIOWrapper). */
static bool is_known_encoding(const char *name) {
    static const char *const known[] = {
        "ascii", "us-ascii", "latin-1", "latin1", "iso-8859-1", "iso8859-1", "cp1252",
        "utf-16", "utf-32", "utf-8-sig", "cp437", "iso-8859-15", "mbcs", NULL,
    };
    for (size_t i = 0; known[i]; i++)
        if (!strcasecmp(name, known[i])) return true;
    return false;
}

/* What open() checks once the descriptor exists (CPython checks these in
 * TextIOWrapper, after opening): buffering, encoding, newline. */
static bool check_text_options(TState *ts, int64_t buffering, Value encoding, Value newline,
                               Newline *nl) {
    Interp *interp = ts->interp;
    if (buffering == 0) {
        err_format(ts, interp->exc.ValueError, "can't have unbuffered text I/O");
        return false;
    }
    if (IS_STR(encoding) && !file_is_utf8_encoding(AS_STR(encoding)->data)) {
        const char *name = AS_STR(encoding)->data;
        if (is_known_encoding(name))
            err_format(ts, interp->exc.ValueError,
                       "encoding '%s' is not supported: mini reads and writes UTF-8 text only", name);
        else
            err_format(ts, interp->exc.LookupError, "unknown encoding: %s", name);
        return false;
    }
    *nl = NL_UNIVERSAL;
    if (IS_STR(newline)) {
        const char *s = AS_STR(newline)->data;
        size_t n = AS_STR(newline)->len;
        if (n == 0) *nl = NL_UNTRANSLATED;
        else if (n == 1 && s[0] == '\n') *nl = NL_LF;
        else if (n == 1 && s[0] == '\r') *nl = NL_CR;
        else if (n == 2 && s[0] == '\r' && s[1] == '\n') *nl = NL_CRLF;
        else {
            err_format(ts, interp->exc.ValueError, "illegal newline value: %s", s);
            return false;
        }
    }
    return true;
}

/* open(2) detached, retrying after signals. -1 after raising. */
static int open_path(TState *ts, Value file, int oflags) {
    const char *data = IS_STR(file) ? AS_STR(file)->data : AS_BYTES(file)->data;
    size_t len = IS_STR(file) ? AS_STR(file)->len : AS_BYTES(file)->len;
    if (memchr(data, '\0', len)) {
        err_format(ts, ts->interp->exc.ValueError, "embedded null byte");
        return -1;
    }
    char *cpath = strdup(data);
    if (!cpath) {
        err_no_memory(ts);
        return -1;
    }
    int fd, err;
    for (;;) {
        thread_detach(ts);
        fd = open(cpath, oflags | O_CLOEXEC, 0666);
        err = errno;
        thread_attach(ts);
        if (fd >= 0 || err != EINTR) break;
        if (!vm_safepoint(ts)) {
            free(cpath);
            return -1;
        }
    }
    free(cpath);
    if (fd < 0) file_raise_oserror(ts, err, file);
    return fd;
}

static int call_opener(TState *ts, Value opener, Value file, int oflags) {
    Value args[2] = {file, INT_VAL(oflags | O_CLOEXEC)};
    Value r = ops_call(ts, opener, args, 2, NULL);
    if (IS_ERROR(r)) return -1;
    int64_t fd;
    if (!args_int(ts, r, &fd)) return -1;
    if (fd < 0 || fd > INT32_MAX) {
        err_format(ts, ts->interp->exc.ValueError, "opener returned %lld", (long long)fd);
        return -1;
    }
    return (int)fd;
}

/* open() once its arguments are bound: a[0] is a descriptor, or (by_path)
 * a str or bytes path. */
static Value open_file(TState *ts, Value *a, bool by_path) {
    Interp *interp = ts->interp;
    Value file = a[0];
    Value mode = IS_EMPTY(a[1]) ? EMPTY_VAL : a[1];
    if (!IS_EMPTY(mode) && !IS_STR(mode))
        return err_format(ts, interp->exc.TypeError, "open() argument 'mode' must be str, not %s",
                          ops_type_name(ts, mode));
    if (IS_EMPTY(mode)) {
        ObjStr *r = str_intern_cstr(ts, "r");
        if (!r) return ERROR_VAL;
        mode = OBJ_VAL(r);
    }
    int64_t buffering = -1;
    if (!IS_EMPTY(a[2]) && !args_int(ts, a[2], &buffering)) return ERROR_VAL;
    if (!optional_str_arg(ts, a[3], "encoding") || !optional_str_arg(ts, a[4], "errors") ||
        !optional_str_arg(ts, a[5], "newline"))
        return ERROR_VAL;
    bool closefd = true;
    if (!IS_EMPTY(a[6])) {
        int t = ops_truth(ts, a[6]);
        if (t < 0) return ERROR_VAL;
        closefd = t;
    }
    Value opener = IS_EMPTY(a[7]) ? NONE_VAL : a[7];

    int oflags;
    uint32_t flags;
    if (!parse_mode(ts, AS_STR(mode), &oflags, &flags)) return ERROR_VAL;
    if (by_path && !closefd)
        return err_format(ts, interp->exc.ValueError, "Cannot use closefd=False with file name");
    if (flags & FILE_BINARY) {
        /* A binary file's mode is its raw FileIO's, in CPython's words:
         * 'w+b' reads 'rb+'. */
        bool rw = (flags & FILE_READABLE) && (flags & FILE_WRITABLE);
        const char *raw = (oflags & O_EXCL)     ? (rw ? "xb+" : "xb")
                          : (oflags & O_APPEND) ? (rw ? "ab+" : "ab")
                          : (flags & FILE_READABLE) ? (rw ? "rb+" : "rb")
                                                    : "wb";
        ObjStr *m = str_intern_cstr(ts, raw);
        if (!m) return ERROR_VAL;
        mode = OBJ_VAL(m);
    }

    int fd;
    if (!by_path) {
        int64_t n;
        if (!args_int(ts, file, &n)) return ERROR_VAL;
        if (n < 0 || n > INT32_MAX) return err_format(ts, interp->exc.ValueError, "negative file descriptor");
        fd = (int)n;
    } else if (!IS_NONE(opener)) {
        fd = call_opener(ts, opener, file, oflags);
    } else {
        fd = open_path(ts, file, oflags);
    }
    if (fd < 0) return ERROR_VAL;

    struct stat st;
    bool have_stat = fstat(fd, &st) == 0;
    if (have_stat && S_ISDIR(st.st_mode)) {
        if (closefd) close(fd);
        return file_raise_oserror(ts, EISDIR, file);
    }
    if ((oflags & O_APPEND) && lseek(fd, 0, SEEK_END) < 0 && errno != ESPIPE) {
        int err = errno;
        if (closefd) close(fd);
        return file_raise_oserror(ts, err, file);
    }
    Newline nl = NL_LF;
    Value encoding = IS_EMPTY(a[3]) ? NONE_VAL : a[3];
    Value newline = IS_EMPTY(a[5]) ? NONE_VAL : a[5];
    const char *binary_refuses = !(flags & FILE_BINARY) ? NULL
                                 : !IS_NONE(encoding)    ? "encoding"
                                 : !IS_EMPTY(a[4]) && !IS_NONE(a[4]) ? "errors"
                                 : !IS_NONE(newline)     ? "newline"
                                                         : NULL;
    if (binary_refuses) {
        if (closefd) close(fd);
        return err_format(ts, interp->exc.ValueError, "binary mode doesn't take %s %s argument",
                          binary_refuses[0] == 'n' ? "a" : "an", binary_refuses);
    }
    if (!(flags & FILE_BINARY) && !check_text_options(ts, buffering, encoding, newline, &nl)) {
        if (closefd) close(fd);
        return ERROR_VAL;
    }
    DecodeErrors errors = DEC_STRICT;
    if (IS_STR(a[4])) {
        if (!strcmp(AS_STR(a[4])->data, "replace")) errors = DEC_REPLACE;
        else if (!strcmp(AS_STR(a[4])->data, "ignore")) errors = DEC_IGNORE;
    }
    size_t wcap = FILE_DEFAULT_BUFFER;
    if (buffering > 1) wcap = (size_t)buffering;
    else if (buffering < 0 && have_stat && st.st_blksize > 1) wcap = (size_t)st.st_blksize;
    if (!(flags & FILE_BINARY) && (buffering == 1 || (buffering < 0 && isatty(fd)))) flags |= FILE_LINE_BUFFERED;
    if ((flags & FILE_BINARY) && buffering == 0) flags |= FILE_WRITE_THROUGH;
    if (closefd) flags |= FILE_CLOSEFD;
    if (IS_NONE(encoding) && !(flags & FILE_BINARY)) {
        ObjStr *e = str_intern_cstr(ts, "UTF-8");
        if (!e) {
            if (closefd) close(fd);
            return ERROR_VAL;
        }
        encoding = OBJ_VAL(e);
    }
    ObjFile *f = file_alloc(ts, fd, file, mode, encoding, flags, nl, errors, wcap);
    if (!f) {
        if (closefd) close(fd);
        return ERROR_VAL;
    }
    return OBJ_VAL(f);
}

Value file_open(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"file", "mode", "buffering", "encoding",
                                        "errors", "newline", "closefd", "opener"};
    Value a[8];
    if (!args_bind(ts, "open", args, nargs, kwnames, names, 8, 1, 8, a)) return ERROR_VAL;
    if (IS_INT(a[0]) || IS_BOOL(a[0])) return open_file(ts, a, false);
    /* A path: str or bytes, or what an os.PathLike's __fspath__ gives
     * (kept on the stack: an opener may run mini code). */
    a[0] = file_fspath(ts, a[0]);
    if (IS_ERROR(a[0])) return ERROR_VAL;
    vm_push(ts, a[0]);
    Value r = open_file(ts, a, true);
    vm_pop(ts);
    return r;
}

/* ---- methods ----------------------------------------------------------- */

/* read(size=-1) and readline(size=-1): the size argument. */
static bool size_arg(TState *ts, Value *args, int nargs, bool none_ok, int64_t *size) {
    *size = -1;
    if (nargs < 2 || (none_ok && IS_NONE(args[1]))) return true;
    Value v = args[1];
    if (none_ok && !IS_INTLIKE(v)) {
        err_format(ts, ts->interp->exc.TypeError, "argument should be integer or None, not '%s'",
                   ops_type_name(ts, v));
        return false;
    }
    return args_int(ts, v, size);
}

static Value file_read(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "read", nargs - 1, kwnames, 0, 1)) return ERROR_VAL;
    int64_t size;
    if (!size_arg(ts, args, nargs, true, &size)) return ERROR_VAL;
    if (is_binary(args[0])) return take_bytes(ts, io_of(args[0]), size, false);
    ObjFile *f = AS_FILE(args[0]);
    return size < 0 ? read_all(ts, f) : take_text(ts, f, size, false);
}

static Value file_readline_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "readline", nargs - 1, kwnames, 0, 1)) return ERROR_VAL;
    int64_t size;
    if (!size_arg(ts, args, nargs, false, &size)) return ERROR_VAL;
    if (is_binary(args[0])) return take_bytes(ts, io_of(args[0]), size, true);
    return take_text(ts, AS_FILE(args[0]), size, true);
}

static Value file_readlines(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "readlines", nargs - 1, kwnames, 0, 1)) return ERROR_VAL;
    int64_t hint;
    if (!size_arg(ts, args, nargs, true, &hint)) return ERROR_VAL;
    ObjList *lines = list_new(ts, 0);
    if (!lines) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(lines));
    Value result = OBJ_VAL(lines);
    int64_t total = 0;
    for (;;) {
        bool binary = is_binary(args[0]);
        Value line = binary ? take_bytes(ts, io_of(args[0]), -1, true) : file_readline(ts, args[0]);
        if (IS_ERROR(line)) {
            result = ERROR_VAL;
            break;
        }
        size_t len = binary ? AS_BYTES(line)->len : AS_STR(line)->len;
        if (len == 0) break;
        if (list_append(ts, lines, line) < 0) {
            result = ERROR_VAL;
            break;
        }
        total += binary ? (int64_t)len : (int64_t)AS_STR(line)->nchars;
        if (hint > 0 && total > hint) break;
    }
    vm_pop(ts);
    return result;
}

/* Binary write: a bytes copy of any buffer (rooted: writing detaches, and
 * a bytearray's store could be replaced and freed meanwhile). */
static Value write_bytes(TState *ts, Value file, Value data) {
    Value b = bytes_from_buffer(ts, data);
    if (IS_ERROR(b)) return b;
    vm_push(ts, b);
    ObjFile *f = io_of(file);
    file_lock(ts, f);
    bool ok = write_locked(ts, f, AS_BYTES(b)->data, AS_BYTES(b)->len);
    file_unlock(f);
    vm_pop(ts);
    return ok ? int_from_u64(ts, AS_BYTES(b)->len) : ERROR_VAL;
}

static Value file_write(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "write", nargs - 1, kwnames, 1, 1)) return ERROR_VAL;
    if (is_binary(args[0])) return write_bytes(ts, args[0], args[1]);
    if (!IS_STR(args[1]))
        return err_format(ts, ts->interp->exc.TypeError, "write() argument must be str, not %s",
                          ops_type_name(ts, args[1]));
    ObjStr *s = AS_STR(args[1]);
    if (!file_write_str(ts, args[0], s->data, s->len)) return ERROR_VAL;
    return s->nchars <= (size_t)SMALL_INT_MAX ? INT_VAL((int64_t)s->nchars) : int_from_u64(ts, s->nchars);
}

static Value file_writelines(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "writelines", nargs - 1, kwnames, 1, 1)) return ERROR_VAL;
    if (!check_open(ts, io_of(args[0]))) return ERROR_VAL;
    Value it = ops_iter(ts, args[1]);
    if (IS_ERROR(it)) return it;
    vm_push(ts, it);
    Value result = NONE_VAL;
    for (;;) {
        Value line = ops_next(ts, it);
        if (IS_EMPTY(line)) break;
        if (IS_ERROR(line)) {
            result = ERROR_VAL;
            break;
        }
        if (is_binary(args[0])) {
            vm_push(ts, line);
            bool ok = !IS_ERROR(write_bytes(ts, args[0], line));
            vm_pop(ts);
            if (!ok) {
                result = ERROR_VAL;
                break;
            }
            continue;
        }
        if (!IS_STR(line)) {
            result = err_format(ts, ts->interp->exc.TypeError, "write() argument must be str, not %s",
                                ops_type_name(ts, line));
            break;
        }
        vm_push(ts, line); /* writing may detach, and a collection run */
        bool ok = file_write_str(ts, args[0], AS_STR(line)->data, AS_STR(line)->len);
        vm_pop(ts);
        if (!ok) {
            result = ERROR_VAL;
            break;
        }
    }
    vm_pop(ts);
    return result;
}

static Value file_flush_method(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "flush", nargs - 1, kwnames, 0, 0)) return ERROR_VAL;
    return file_flush(ts, args[0]) ? NONE_VAL : ERROR_VAL;
}

static void release_buffers(ObjFile *f) {
    gc_free_buffer(f->rbuf, f->rcap);
    gc_free_buffer(f->wbuf, f->wcap);
    f->rbuf = f->wbuf = NULL;
    f->rcap = f->rpos = f->rlen = f->wcap = f->wlen = 0;
}

/* Flushes and closes; closing twice does nothing. A failed flush still
 * closes, then reports the error, as CPython. */
static bool close_file(TState *ts, ObjFile *f) {
    file_lock(ts, f);
    if (file_fd(f) < 0) {
        file_unlock(f);
        return true;
    }
    bool ok = flush_locked(ts, f);
    int fd = file_fd(f);
    atomic_store_explicit(&f->fd, -1, memory_order_relaxed);
    release_buffers(f);
    file_unlock(f);
    if ((f->flags & FILE_CLOSEFD) && close(fd) < 0 && ok && errno != EINTR) {
        file_raise_oserror(ts, errno, NONE_VAL);
        ok = false;
    }
    return ok;
}

static Value file_close(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "close", nargs - 1, kwnames, 0, 0)) return ERROR_VAL;
    return close_file(ts, io_of(args[0])) ? NONE_VAL : ERROR_VAL;
}

/* The position the reader or writer is at: the descriptor's, less the
 * read-ahead. Lock held, write buffer flushed. */
static off_t position_locked(TState *ts, ObjFile *f) {
    off_t pos = lseek(file_fd(f), 0, SEEK_CUR);
    if (pos < 0) {
        file_raise_oserror(ts, errno, NONE_VAL);
        return -1;
    }
    return pos - (off_t)(f->rlen - f->rpos);
}

static Value file_seek(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "seek", nargs - 1, kwnames, 1, 2)) return ERROR_VAL;
    int64_t offset, whence = SEEK_SET;
    if (!args_int(ts, args[1], &offset) || (nargs > 2 && !args_int(ts, args[2], &whence)))
        return ERROR_VAL;
    Interp *interp = ts->interp;
    if (whence < 0 || whence > 2)
        return err_format(ts, interp->exc.ValueError, "invalid whence (%lld, should be 0, 1 or 2)",
                          (long long)whence);
    /* A text file's positions are opaque cookies; a binary file's are
     * byte offsets, relative to anything. */
    bool binary = is_binary(args[0]);
    if (!binary && whence == SEEK_CUR && offset != 0) {
        unsupported(ts, "can't do nonzero cur-relative seeks");
        return ERROR_VAL;
    }
    if (!binary && whence == SEEK_END && offset != 0) {
        unsupported(ts, "can't do nonzero end-relative seeks");
        return ERROR_VAL;
    }
    if (!binary && whence == SEEK_SET && offset < 0)
        return err_format(ts, interp->exc.ValueError, "negative seek position %lld", (long long)offset);
    ObjFile *f = io_of(args[0]);
    file_lock(ts, f);
    off_t pos = -1;
    if (check_open(ts, f) && flush_locked(ts, f)) {
        off_t target = (off_t)offset;
        int how = (int)whence;
        bool ok = true;
        if (how == SEEK_CUR) {
            /* From where the reader is, not the descriptor (read-ahead). */
            off_t here = position_locked(ts, f);
            ok = here >= 0;
            target = here + (off_t)offset;
            how = SEEK_SET;
        }
        if (ok) {
            f->rpos = f->rlen = 0;
            pos = lseek(file_fd(f), target, how);
            if (pos < 0) file_raise_oserror(ts, errno, NONE_VAL);
        }
    }
    file_unlock(f);
    return pos < 0 ? ERROR_VAL : int_from_i64(ts, (int64_t)pos);
}

static Value file_tell(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "tell", nargs - 1, kwnames, 0, 0)) return ERROR_VAL;
    ObjFile *f = io_of(args[0]);
    file_lock(ts, f);
    off_t pos = check_open(ts, f) && flush_locked(ts, f) ? position_locked(ts, f) : -1;
    file_unlock(f);
    return pos < 0 ? ERROR_VAL : int_from_i64(ts, (int64_t)pos);
}

static Value file_truncate(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "truncate", nargs - 1, kwnames, 0, 1)) return ERROR_VAL;
    int64_t size = -1;
    if (nargs > 1 && !IS_NONE(args[1]) && !args_int(ts, args[1], &size)) return ERROR_VAL;
    ObjFile *f = io_of(args[0]);
    file_lock(ts, f);
    bool ok = check_open(ts, f) && flush_locked(ts, f);
    if (ok && !(f->flags & FILE_WRITABLE)) ok = unsupported(ts, "File not open for writing");
    if (ok && size < 0) {
        size = (int64_t)position_locked(ts, f);
        ok = size >= 0;
    }
    if (ok && ftruncate(file_fd(f), (off_t)size) < 0) {
        file_raise_oserror(ts, errno, NONE_VAL);
        ok = false;
    }
    file_unlock(f);
    return ok ? int_from_i64(ts, size) : ERROR_VAL;
}

static Value file_fileno(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "fileno", nargs - 1, kwnames, 0, 0)) return ERROR_VAL;
    ObjFile *f = io_of(args[0]);
    return check_open(ts, f) ? INT_VAL(file_fd(f)) : ERROR_VAL;
}

static Value file_isatty(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "isatty", nargs - 1, kwnames, 0, 0)) return ERROR_VAL;
    ObjFile *f = io_of(args[0]);
    return check_open(ts, f) ? BOOL_VAL(isatty(file_fd(f))) : ERROR_VAL;
}

static Value file_readable(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "readable", nargs - 1, kwnames, 0, 0)) return ERROR_VAL;
    ObjFile *f = io_of(args[0]);
    return check_open(ts, f) ? BOOL_VAL(f->flags & FILE_READABLE) : ERROR_VAL;
}

static Value file_writable(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "writable", nargs - 1, kwnames, 0, 0)) return ERROR_VAL;
    ObjFile *f = io_of(args[0]);
    return check_open(ts, f) ? BOOL_VAL(f->flags & FILE_WRITABLE) : ERROR_VAL;
}

static Value file_seekable(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "seekable", nargs - 1, kwnames, 0, 0)) return ERROR_VAL;
    ObjFile *f = io_of(args[0]);
    return check_open(ts, f) ? BOOL_VAL(lseek(file_fd(f), 0, SEEK_CUR) >= 0) : ERROR_VAL;
}

static Value file_enter(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__enter__", nargs - 1, kwnames, 0, 0)) return ERROR_VAL;
    return check_open(ts, io_of(args[0])) ? args[0] : ERROR_VAL;
}

static Value file_exit(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (kwnames && kwnames->len)
        return err_format(ts, ts->interp->exc.TypeError, "__exit__() takes no keyword arguments");
    return close_file(ts, io_of(args[0])) ? NONE_VAL : ERROR_VAL;
}

/* ---- slots and attributes ---------------------------------------------- */

static Value file_iter(TState *ts, Value self) {
    return check_open(ts, io_of(self)) ? self : ERROR_VAL;
}

static Value file_next(TState *ts, Value self) {
    if (is_binary(self)) {
        Value b = take_bytes(ts, io_of(self), -1, true);
        return IS_ERROR(b) || AS_BYTES(b)->len ? b : EMPTY_VAL;
    }
    Value line = file_readline(ts, self);
    if (IS_ERROR(line)) return line;
    return AS_STR(line)->len ? line : EMPTY_VAL;
}

/* readinto(b): reads up to len(b) bytes into a writable buffer. */
static Value file_readinto(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "readinto", nargs - 1, kwnames, 1, 1)) return ERROR_VAL;
    Buffer b;
    if (!buffer_get(ts, args[1], &b, BUF_WRITE)) return ERROR_VAL;
    size_t room = b.len;
    buffer_release(ts, &b);
    /* Read unlocked (reading detaches), then copied in under the lock. */
    Value data = take_bytes(ts, io_of(args[0]), (int64_t)room, false);
    if (IS_ERROR(data)) return data;
    vm_push(ts, data);
    bool ok = buffer_get(ts, args[1], &b, BUF_WRITE);
    size_t n = AS_BYTES(data)->len;
    if (ok) {
        if (n > b.len) n = b.len;
        memcpy(b.buf, AS_BYTES(data)->data, n);
        buffer_release(ts, &b);
    }
    vm_pop(ts);
    return ok ? INT_VAL((int64_t)n) : ERROR_VAL;
}

/* text.buffer: the binary file over the same descriptor and buffers. */
static Value get_buffer(TState *ts, Value self) {
    ObjFile *f = AS_FILE(self);
    if (f->flags & FILE_BINARY)
        return err_format(ts, ts->interp->exc.AttributeError, "'_io.Buffered' object has no attribute 'buffer'");
    Value cached = __atomic_load_n(&f->peer, __ATOMIC_ACQUIRE);
    if (IS_FILE(cached)) return cached;
    bool reading = (f->flags & FILE_READABLE) && !(f->flags & FILE_WRITABLE);
    ObjStr *mode = str_from_cstr(ts, reading ? "rb" : (f->flags & FILE_READABLE) ? "rb+" : "wb");
    if (!mode) return ERROR_VAL;
    uint32_t flags = (f->flags & (FILE_READABLE | FILE_WRITABLE)) | FILE_BINARY | FILE_SHARED;
    ObjFile *b = file_alloc(ts, file_fd(f), f->name, OBJ_VAL(mode), NONE_VAL, flags, NL_LF, DEC_STRICT, 0);
    if (!b) return ERROR_VAL;
    b->peer = self;
    Value expected = NONE_VAL;
    if (!__atomic_compare_exchange_n(&f->peer, &expected, OBJ_VAL(b), false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return expected;
    return OBJ_VAL(b);
}

static Value file_repr(TState *ts, Value self) {
    ObjFile *f = AS_FILE(self);
    StrBuf sb;
    sb_init(&sb);
    if (f->flags & FILE_BINARY) {
        const char *kind = (f->flags & FILE_READABLE) && (f->flags & FILE_WRITABLE) ? "BufferedRandom"
                           : (f->flags & FILE_READABLE)                              ? "BufferedReader"
                                                                                     : "BufferedWriter";
        if (!sb_appendf(&sb, "<_io.%s name=", kind)) goto nomem;
        if (!str_append_repr(ts, &sb, f->name)) goto fail;
        if (!sb_append_char(&sb, '>')) goto nomem;
        ObjStr *s = str_from_sb(ts, &sb);
        return s ? OBJ_VAL(s) : ERROR_VAL;
    }
    bool ok = sb_append_cstr(&sb, "<_io.TextIOWrapper name=");
    if (!ok) goto nomem;
    if (!str_append_repr(ts, &sb, f->name)) goto fail;
    if (!sb_append_cstr(&sb, " mode=")) goto nomem;
    if (!str_append_repr(ts, &sb, f->mode)) goto fail;
    if (!sb_append_cstr(&sb, " encoding=")) goto nomem;
    if (!str_append_repr(ts, &sb, f->encoding)) goto fail;
    if (!sb_append_char(&sb, '>')) goto nomem;
    ObjStr *s = str_from_sb(ts, &sb);
    return s ? OBJ_VAL(s) : ERROR_VAL;
nomem:
    err_no_memory(ts);
fail:
    sb_free(&sb);
    return ERROR_VAL;
}

static Value get_name(TState *ts, Value self) { (void)ts; return AS_FILE(self)->name; }
static Value get_mode(TState *ts, Value self) { (void)ts; return AS_FILE(self)->mode; }
static Value get_encoding(TState *ts, Value self) { (void)ts; return AS_FILE(self)->encoding; }
static Value get_closed(TState *ts, Value self) { (void)ts; return BOOL_VAL(file_fd(io_of(self)) < 0); }
static Value get_line_buffering(TState *ts, Value self) {
    (void)ts;
    return BOOL_VAL(AS_FILE(self)->flags & FILE_LINE_BUFFERED);
}
static Value get_errors(TState *ts, Value self) {
    static const char *const names[] = {"strict", "replace", "ignore"};
    ObjStr *s = str_intern_cstr(ts, names[AS_FILE(self)->errors]);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static void file_trace(GcMarker *m, Obj *self) {
    ObjFile *f = (ObjFile *)self;
    gc_mark_value(m, f->name);
    gc_mark_value(m, f->mode);
    gc_mark_value(m, f->encoding);
    gc_mark_value(m, f->peer);
}

/* An unreachable open file: write out what is buffered and close it, as
 * CPython does when a file object dies. No thread can be using it. */
/* The lock is made anew (a parent thread may have held it). Output still
 * buffered is the parent's to write: fork_process flushed the standard
 * streams, but with the GIL off another thread may have printed between
 * that flush and the fork, and the child would write it a second time. */
static void file_after_fork(Obj *self) {
    ObjFile *f = (ObjFile *)self;
    PT_CHECK(pthread_mutex_init(&f->lock, NULL));
    f->wlen = 0;
}

static void file_finalize(Obj *self) {
    ObjFile *f = (ObjFile *)self;
    int fd = file_fd(f);
    if (fd >= 0) {
        size_t done = 0;
        while (done < f->wlen) {
            ssize_t w = write(fd, f->wbuf + done, f->wlen - done);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) break;
            done += (size_t)w;
        }
        if (f->flags & FILE_CLOSEFD) close(fd);
    }
    release_buffers(f);
    pthread_mutex_destroy(&f->lock);
}

static size_t file_obj_size(Obj *self) {
    ObjFile *f = (ObjFile *)self;
    return sizeof(ObjFile) + f->rcap + f->wcap;
}

static const NativeDef file_methods[] = {
    {"read", file_read},
    {"readline", file_readline_method},
    {"readlines", file_readlines},
    {"readinto", file_readinto},
    {"write", file_write},
    {"writelines", file_writelines},
    {"flush", file_flush_method},
    {"close", file_close},
    {"seek", file_seek},
    {"tell", file_tell},
    {"truncate", file_truncate},
    {"fileno", file_fileno},
    {"isatty", file_isatty},
    {"readable", file_readable},
    {"writable", file_writable},
    {"seekable", file_seekable},
    {"__enter__", file_enter},
    {"__exit__", file_exit},
    {NULL, NULL},
};

static const GetSetDef file_getsets[] = {
    {"name", get_name, NULL},
    {"mode", get_mode, NULL},
    {"encoding", get_encoding, NULL},
    {"errors", get_errors, NULL},
    {"closed", get_closed, NULL},
    {"line_buffering", get_line_buffering, NULL},
    {"buffer", get_buffer, NULL},
    {NULL, NULL, NULL},
};

const TypeSpec file_type_spec = {
    .name = "TextIOWrapper",
    .kind = OBJ_FILE,
    .obj_size = file_obj_size,
    .repr = file_repr,
    .iter = file_iter,
    .next = file_next,
    .trace = file_trace,
    .finalize = file_finalize,
    .after_fork = file_after_fork,
    .methods = file_methods,
    .getsets = file_getsets,
};

/* ---- the standard streams ---------------------------------------------- */

/* sys.<name> straight from the module's namespace (no mini code runs),
 * or EMPTY_VAL. */
static Value sys_stream(TState *ts, const char *name) {
    Value sys = ts->interp->sys_module;
    if (!IS_MODULE(sys)) return EMPTY_VAL;
    ObjStr *key = str_intern_cstr(ts, name);
    if (!key) {
        err_clear(ts);
        return EMPTY_VAL;
    }
    return dict_get_str(AS_MODULE(sys)->dict, key);
}

static const char *const std_stream_names[] = {"stdout", "stderr", "__stdout__", "__stderr__"};

void file_flush_std(TState *ts) {
    Value pending = err_fetch(ts);
    vm_push(ts, pending);
    for (size_t i = 0; i < sizeof std_stream_names / sizeof std_stream_names[0]; i++) {
        Value f = sys_stream(ts, std_stream_names[i]);
        if (!IS_FILE(f) || file_fd(AS_FILE(f)) < 0) continue;
        vm_push(ts, f);
        if (!file_flush(ts, f)) err_clear(ts);
        vm_pop(ts);
    }
    vm_pop(ts);
    if (!IS_EMPTY(pending)) err_restore(ts, pending);
}

char *file_slurp(FILE *f, size_t *len) {
    size_t cap = 8192, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
        if (n == cap - 1) {
            char *grown = realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                errno = ENOMEM;
                return NULL;
            }
            buf = grown;
            cap *= 2;
        }
    }
    if (!buf) {
        errno = ENOMEM;
        return NULL;
    }
    if (ferror(f)) {
        int err = errno;
        free(buf);
        errno = err;
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}
