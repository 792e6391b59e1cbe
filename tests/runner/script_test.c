/*
 * script_test: runs one script test of mini and checks what it did.
 *
 *   script_test [--timeout SEC] [--flags "FLAGS"] [--no-memory-limit] MINI_BINARY TEST.mini
 *
 * The test file states its expectations in comments ("# expect: 3",
 * "# expect error: ...", "# args: ..."; tests/README.md lists them all).
 * The interpreter runs as "MINI_BINARY FLAGS TEST.mini ARGS" in the test
 * file's directory with stdout and stderr captured, and a report is printed
 * when anything differs from the expectations.
 *
 * --no-memory-limit skips the tests that set one ("# memory limit:"):
 * sanitizer builds reserve terabytes of address space at startup, so under
 * an address-space limit they cannot even start.
 *
 * Exit status: 0 pass, 1 fail, 2 bad usage, 77 skipped (ctest's
 * SKIP_RETURN_CODE).
 */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__GNUC__)
#define PRINTF_LIKE(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define PRINTF_LIKE(fmt, args)
#endif

enum { RESULT_PASS = 0, RESULT_FAIL = 1, RESULT_USAGE = 2, RESULT_SKIP = 77 };

#define DEFAULT_TIMEOUT_SEC 60.0
/* Output past this is read and dropped, so a runaway print loop cannot
 * exhaust memory before the timeout. */
#define CAPTURE_LIMIT ((size_t)64 << 20)
/* How much of each stream a failure report shows: half from the start,
 * half from the end (where the error usually is). */
#define DUMP_LIMIT 4096
/* After the interpreter exits, how long a process it started may keep the
 * output pipes open before being killed with the rest of the group. */
#define SETTLE_MS 1000

/* ---------------------------------------------------------------- memory */

static void *check_alloc(void *p)
{
    if (!p) {
        fputs("script_test: out of memory\n", stderr);
        exit(RESULT_FAIL);
    }
    return p;
}

static void *xrealloc(void *p, size_t size)
{
    return check_alloc(realloc(p, size ? size : 1));
}

static void *xcalloc(size_t n, size_t size)
{
    return check_alloc(calloc(n ? n : 1, size));
}

static char *xstrndup(const char *s, size_t n)
{
    char *copy = xrealloc(NULL, n + 1);
    memcpy(copy, s, n);
    copy[n] = '\0';
    return copy;
}

static char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

/* A growable byte buffer, always NUL-terminated once allocated. */
typedef struct {
    char *data;
    size_t len, cap;
} Buf;

static void buf_add(Buf *b, const void *data, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->data = xrealloc(b->data, cap);
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void buf_puts(Buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

/* A list of owned strings, kept NULL-terminated so it can serve as argv. */
typedef struct {
    char **items;
    size_t len, cap;
} StrList;

static void list_push(StrList *l, char *s)
{
    if (l->len + 2 > l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->items = xrealloc(l->items, l->cap * sizeof *l->items);
    }
    l->items[l->len++] = s;
    l->items[l->len] = NULL;
}

static void list_free(StrList *l)
{
    for (size_t i = 0; i < l->len; i++)
        free(l->items[i]);
    free(l->items);
}

/* Splits on blanks; single quotes group words ("a 'b c'" is two words). */
static bool split_words(const char *s, StrList *out)
{
    while (*s) {
        if (*s == ' ' || *s == '\t') {
            s++;
            continue;
        }
        Buf word = {0};
        buf_add(&word, "", 0);
        bool quoted = false;
        for (; *s && (quoted || (*s != ' ' && *s != '\t')); s++) {
            if (*s == '\'')
                quoted = !quoted;
            else
                buf_add(&word, s, 1);
        }
        if (quoted) {
            free(word.data);
            return false;
        }
        list_push(out, word.data);
    }
    return true;
}

static bool is_trailing_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static size_t trimmed_len(const char *s, size_t n)
{
    while (n > 0 && is_trailing_space(s[n - 1]))
        n--;
    return n;
}

/* Length of the valid UTF-8 sequence at s, or 0: text shows as text, other
 * bytes as escapes. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len = s[0] < 0x80                   ? 1
                 : s[0] >= 0xc2 && s[0] <= 0xdf ? 2
                 : s[0] >= 0xe0 && s[0] <= 0xef ? 3
                 : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4
                                                : 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    }
    return len;
}

/* Appends s with control bytes and invalid UTF-8 as \xNN. Quoted: also
 * escapes " and \, for a one-line rendering; otherwise keeps newlines and
 * tabs, for a dump. */
static void add_escaped(Buf *b, const char *s, size_t n, bool quoted)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_len(u + i, n - i);
        char esc[8];
        if (quoted && (u[i] == '"' || u[i] == '\\')) {
            snprintf(esc, sizeof esc, "\\%c", u[i]);
            buf_puts(b, esc);
        } else if (len == 0 || u[i] == 0x7f
                   || (u[i] < 0x20 && (quoted || (u[i] != '\n' && u[i] != '\t')))) {
            snprintf(esc, sizeof esc, "\\x%02x", u[i]);
            buf_puts(b, esc);
            len = 1;
        } else {
            buf_add(b, s + i, len);
        }
        i += len;
    }
}

static char *quote(const char *s, size_t n)
{
    Buf b = {0};
    buf_add(&b, "\"", 1);
    add_escaped(&b, s, n, true);
    buf_add(&b, "\"", 1);
    return b.data;
}

/* ---------------------------------------------------------------- report */

typedef struct {
    const char *test; /* the test file as given on the command line */
    int failures;
} Report;

static void fail(Report *r, const char *fmt, ...) PRINTF_LIKE(2, 3);

static void fail(Report *r, const char *fmt, ...)
{
    if (r->failures++ == 0)
        printf("FAIL %s\n", r->test);
    va_list ap;
    va_start(ap, fmt);
    fputs("  ", stdout);
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
}

/* ------------------------------------------------------------------ spec */

typedef enum { EXPECT_LINE, EXPECT_MATCH, EXPECT_UNORDERED } ExpectKind;

typedef struct {
    ExpectKind kind;
    char *text;
    size_t len;
    regex_t re; /* text compiled, for EXPECT_MATCH */
    int line;   /* where the expectation is in the test file */
} Expect;

typedef struct {
    Expect *items;
    size_t len, cap;
} Expects;

typedef struct {
    const char *name;  /* the test file's base name, for "name:line" */
    Expects out;       /* # expect, expect match, expect unordered */
    Expects err;       /* # expect stderr, expect stderr match */
    char *error;       /* # expect error */
    int error_line;
    int exit_status;   /* # expect exit, when exit_given */
    bool exit_given;
    bool has_unordered;
    StrList args, flags, env;
    Buf input;         /* # stdin lines, each ending in "\n" */
    char *skip;        /* # skip reason */
    char *run;         /* # run: the program to run instead of the test file */
    unsigned long long memory_limit_kib; /* # memory limit: RLIMIT_AS, 0 for none */
    double max_seconds; /* # expect seconds below: a generous bound for
                           programs whose point is that waits overlap */
} Spec;

typedef enum {
    D_EXPECT,
    D_EXPECT_UNORDERED,
    D_EXPECT_MATCH,
    D_EXPECT_ERROR,
    D_EXPECT_STDERR,
    D_EXPECT_STDERR_MATCH,
    D_EXPECT_EXIT,
    D_ARGS,
    D_FLAGS,
    D_STDIN,
    D_ENV,
    D_SKIP,
    D_RUN,
    D_SECONDS,
    D_MEMORY_LIMIT,
    D_COUNT,
    D_UNKNOWN_EXPECT = D_COUNT,
    D_NONE
} Directive;

static const char *const directive_names[D_COUNT] = {
    [D_EXPECT] = "expect",
    [D_EXPECT_UNORDERED] = "expect unordered",
    [D_EXPECT_MATCH] = "expect match",
    [D_EXPECT_ERROR] = "expect error",
    [D_EXPECT_STDERR] = "expect stderr",
    [D_EXPECT_STDERR_MATCH] = "expect stderr match",
    [D_EXPECT_EXIT] = "expect exit",
    [D_ARGS] = "args",
    [D_FLAGS] = "flags",
    [D_STDIN] = "stdin",
    [D_ENV] = "env",
    [D_SKIP] = "skip",
    [D_RUN] = "run",
    [D_SECONDS] = "expect seconds below",
    [D_MEMORY_LIMIT] = "memory limit",
};

/* Finds the first "# NAME:" on the line with a known NAME and points *text
 * after "NAME: " (one space dropped: the rest, leading blanks included, is
 * the text). */
static Directive find_directive(const char *line, const char **text)
{
    for (const char *p = strchr(line, '#'); p; p = strchr(p + 1, '#')) {
        if (p[1] != ' ')
            continue;
        const char *name = p + 2;
        for (int d = 0; d < D_COUNT; d++) {
            size_t n = strlen(directive_names[d]);
            if (strncmp(name, directive_names[d], n) == 0 && name[n] == ':') {
                *text = name + n + 1 + (name[n + 1] == ' ');
                return (Directive)d;
            }
        }
        /* "# expect stdout: x" is a typo that would silently check nothing. */
        if (strncmp(name, "expect ", 7) == 0
            && name[strspn(name, "abcdefghijklmnopqrstuvwxyz ")] == ':')
            return D_UNKNOWN_EXPECT;
    }
    return D_NONE;
}

/* Takes ownership of text. */
static bool add_expect(Spec *spec, Expects *list, ExpectKind kind, char *text, int lineno,
                       Report *r)
{
    Expect e = {.kind = kind, .text = text, .len = strlen(text), .line = lineno};
    if (kind == EXPECT_MATCH) {
        int rc = regcomp(&e.re, text, REG_EXTENDED);
        if (rc != 0) {
            char msg[256];
            regerror(rc, &e.re, msg, sizeof msg);
            fail(r, "%s:%d: bad regex /%s/: %s", spec->name, lineno, text, msg);
            free(text);
            return false;
        }
    }
    if (list->len == list->cap) {
        list->cap = list->cap ? list->cap * 2 : 16;
        list->items = xrealloc(list->items, list->cap * sizeof *list->items);
    }
    list->items[list->len++] = e;
    return true;
}

/* Takes ownership of text. */
static bool apply_directive(Spec *spec, Directive d, char *text, int lineno, Report *r)
{
    switch (d) {
    case D_EXPECT:
        return add_expect(spec, &spec->out, EXPECT_LINE, text, lineno, r);
    case D_EXPECT_UNORDERED:
        spec->has_unordered = true;
        return add_expect(spec, &spec->out, EXPECT_UNORDERED, text, lineno, r);
    case D_EXPECT_MATCH:
        return add_expect(spec, &spec->out, EXPECT_MATCH, text, lineno, r);
    case D_EXPECT_STDERR:
        return add_expect(spec, &spec->err, EXPECT_LINE, text, lineno, r);
    case D_EXPECT_STDERR_MATCH:
        return add_expect(spec, &spec->err, EXPECT_MATCH, text, lineno, r);
    case D_EXPECT_ERROR:
        if (spec->error) {
            fail(r, "%s:%d: second '# expect error:' (the first is on line %d)", spec->name,
                 lineno, spec->error_line);
            free(text);
            return false;
        }
        spec->error = text;
        spec->error_line = lineno;
        return true;
    case D_EXPECT_EXIT: {
        char *end;
        long status = strtol(text, &end, 10);
        bool ok = end != text && *end == '\0' && status >= 0 && status <= 255 && !spec->exit_given;
        if (!ok)
            fail(r, "%s:%d: '# expect exit:' needs one number from 0 to 255 per test, got \"%s\"",
                 spec->name, lineno, text);
        spec->exit_status = (int)status;
        spec->exit_given = true;
        free(text);
        return ok;
    }
    case D_ARGS:
    case D_FLAGS: {
        bool ok = split_words(text, d == D_ARGS ? &spec->args : &spec->flags);
        if (!ok)
            fail(r, "%s:%d: unterminated single quote", spec->name, lineno);
        free(text);
        return ok;
    }
    case D_STDIN:
        buf_puts(&spec->input, text);
        buf_add(&spec->input, "\n", 1);
        free(text);
        return true;
    case D_ENV:
        if (text[0] == '=' || !strchr(text, '=')) {
            fail(r, "%s:%d: '# env:' needs NAME=VALUE, got \"%s\"", spec->name, lineno, text);
            free(text);
            return false;
        }
        list_push(&spec->env, text);
        return true;
    case D_SKIP:
        free(spec->skip);
        spec->skip = text;
        return true;
    case D_SECONDS: {
        char *end;
        spec->max_seconds = strtod(text, &end);
        bool ok = end != text && *end == '\0' && spec->max_seconds > 0;
        if (!ok) fail(r, "%s:%d: '# expect seconds below:' needs a positive number, got \"%s\"", spec->name, lineno, text);
        free(text);
        return ok;
    }
    case D_MEMORY_LIMIT: {
        char *end;
        errno = 0;
        spec->memory_limit_kib = strtoull(text, &end, 10);
        bool ok = end != text && *end == '\0' && text[0] != '-' && errno == 0
                  && spec->memory_limit_kib > 0 && spec->memory_limit_kib <= RLIM_INFINITY / 1024;
        if (!ok)
            fail(r, "%s:%d: '# memory limit:' needs a positive number of KiB, got \"%s\"", spec->name,
                 lineno, text);
        free(text);
        return ok;
    }
    case D_RUN:
        /* The test only holds expectations; it runs this program (a
         * script that must stay unmodified, such as the article's). */
        free(spec->run);
        spec->run = text;
        return true;
    case D_UNKNOWN_EXPECT:
    case D_NONE:
        break;
    }
    free(text);
    return true;
}

/* Reads every directive of the test source (modified in place). */
static bool parse_spec(Spec *spec, char *source, Report *r)
{
    bool ok = true;
    int lineno = 0;
    for (char *line = source; line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        lineno++;
        const char *text;
        Directive d = find_directive(line, &text);
        if (d == D_UNKNOWN_EXPECT) {
            fail(r, "%s:%d: unknown expectation (tests/README.md lists them): %s", spec->name,
                 lineno, line);
            ok = false;
        } else if (d != D_NONE) {
            ok &= apply_directive(spec, d, xstrndup(text, trimmed_len(text, strlen(text))),
                                  lineno, r);
        }
        line = nl ? nl + 1 : NULL;
    }
    return ok;
}

static void free_expects(Expects *list)
{
    for (size_t i = 0; i < list->len; i++) {
        if (list->items[i].kind == EXPECT_MATCH)
            regfree(&list->items[i].re);
        free(list->items[i].text);
    }
    free(list->items);
}

static void free_spec(Spec *spec)
{
    free_expects(&spec->out);
    free_expects(&spec->err);
    free(spec->error);
    list_free(&spec->args);
    list_free(&spec->flags);
    list_free(&spec->env);
    free(spec->input.data);
    free(spec->skip);
    free(spec->run);
}

/* ------------------------------------------------------------------- run */

typedef struct {
    Buf out, err;
    size_t out_total, err_total; /* bytes written, including what was dropped */
    int status;                  /* from waitpid, when started */
    bool started;
    bool timed_out;
    const char *start_error; /* what failed when the interpreter could not start */
    int start_errno;
} Run;

/* The write end of the self-pipe SIGCHLD wakes poll() through, so a child's
 * exit is noticed even when it left its output pipes open. */
static int sigchld_pipe_w = -1;

static void on_sigchld(int sig)
{
    (void)sig;
    int saved = errno;
    if (write(sigchld_pipe_w, "", 1) < 0) {
        /* Full pipe: a wake-up is already pending. */
    }
    errno = saved;
}

/* The running interpreter's process group (0: none), for on_interrupt. */
static volatile sig_atomic_t child_group;

/* The interpreter has a process group of its own, which a terminal's ^C does
 * not reach: take it down along with the runner. */
static void on_interrupt(int sig)
{
    if (child_group > 0)
        kill(-(pid_t)child_group, SIGKILL);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void forward_interrupts(void)
{
    static const int signals[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
        struct sigaction old;
        if (sigaction(signals[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
            signal(signals[i], on_interrupt);
    }
}

static bool set_flags(int fd, bool nonblock)
{
    return fcntl(fd, F_SETFD, FD_CLOEXEC) == 0
           && (!nonblock || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0);
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Both ends close-on-exec: the child dup2()s the end it needs onto 0, 1 or
 * 2, which clears the flag there. */
static bool make_pipe(int fds[2])
{
    if (pipe(fds) != 0)
        return false;
    return set_flags(fds[0], false) && set_flags(fds[1], false);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One read; closes *fd at end of file. Returns false when there is nothing
 * more to read for now. */
static bool read_some(int *fd, Buf *b, size_t *total)
{
    char chunk[65536];
    ssize_t n = read(*fd, chunk, sizeof chunk);
    if (n > 0) {
        *total += (size_t)n;
        if (b->len < CAPTURE_LIMIT) {
            size_t room = CAPTURE_LIMIT - b->len;
            buf_add(b, chunk, (size_t)n < room ? (size_t)n : room);
        }
        return true;
    }
    if (n < 0 && errno == EINTR)
        return true;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return false;
    close_fd(fd); /* end of file, or a read error */
    return false;
}

/* Has the child exited? Leaves it a zombie so its pid, and so its process
 * group, cannot be reused before the group is killed. */
static bool has_exited(pid_t pid)
{
    siginfo_t info;
    memset(&info, 0, sizeof info);
    while (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
        if (errno != EINTR)
            return true;
    }
    return info.si_pid == pid;
}

/* The child side of the fork: never returns. Failures go to the parent
 * through report_fd as {stage, errno}. */
static void exec_child(char **argv, const char *dir, int in_fd, int out_fd, int err_fd,
                       int report_fd, unsigned long long memory_limit_kib)
{
    int failure[2] = {0, 0};
    struct rlimit limit = {(rlim_t)memory_limit_kib * 1024, (rlim_t)memory_limit_kib * 1024};
    setpgid(0, 0);
    signal(SIGPIPE, SIG_DFL); /* ignored in the runner, and that would be inherited */
    if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
        failure[0] = 1;
    else if (chdir(dir) != 0)
        failure[0] = 2;
    else if (memory_limit_kib && setrlimit(RLIMIT_AS, &limit) != 0)
        failure[0] = 4;
    else if (strchr(argv[0], '/'))
        execv(argv[0], argv);
    else
        execvp(argv[0], argv);
    if (failure[0] == 0)
        failure[0] = 3;
    failure[1] = errno;
    if (write(report_fd, failure, sizeof failure) < 0) {
        /* Nothing left to tell it with; exit status 127 still says it. */
    }
    _exit(127);
}

/* A hang seen only on another machine is fixed from its stacks: before a
 * timed-out group is killed, every process in it has its threads' C stacks
 * printed, when gdb is installed (.ci/run installs it). Bounded: gdb may
 * itself hang on a process in a bad state. */
static void dump_hung_group(pid_t group) {
    if (access("/usr/bin/gdb", X_OK) != 0)
        return;
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "for p in $(pgrep -g %d | head -8); do echo \"--- C stacks of process $p (timed out) ---\"; "
             "timeout 30 /usr/bin/gdb -batch -nx -p $p -ex 'thread apply all bt 25' 2>&1 "
             "| grep -E '^(Thread|#)'; done",
             (int)group);
    fflush(stdout);
    if (system(cmd) == -1)
        printf("(could not run gdb on the hung process group)\n");
    fflush(stdout);
}

/* Runs argv in dir, feeding input (NULL: /dev/null) and capturing output,
 * for at most timeout seconds. */
static void run_interpreter(char **argv, const char *dir, const Buf *input,
                            unsigned long long memory_limit_kib, double timeout, Run *run)
{
    static const char *const stages[] = {"cannot start", "cannot redirect the standard streams",
                                         "cannot enter the test's directory",
                                         "cannot run the interpreter",
                                         "cannot set the memory limit"};
    int out[2] = {-1, -1}, err[2] = {-1, -1}, in[2] = {-1, -1}, report[2] = {-1, -1},
        wake[2] = {-1, -1};
    int *const ends[] = {out, err, in, report, wake};
    const size_t n_ends = sizeof ends / sizeof ends[0];
    if (!make_pipe(out) || !make_pipe(err) || !make_pipe(report) || !make_pipe(wake)
        || !set_flags(wake[0], true) || !set_flags(wake[1], true)
        || (input ? !make_pipe(in) : (in[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)) {
        run->start_error = "cannot create pipes";
        run->start_errno = errno;
        for (size_t i = 0; i < n_ends; i++) {
            close_fd(&ends[i][0]);
            close_fd(&ends[i][1]);
        }
        return;
    }
    sigchld_pipe_w = wake[1];
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigchld;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, NULL);

    pid_t pid = fork();
    if (pid == 0)
        exec_child(argv, dir, in[0], out[1], err[1], report[1], memory_limit_kib);
    close_fd(&out[1]);
    close_fd(&err[1]);
    close_fd(&in[0]);
    close_fd(&report[1]);
    if (pid < 0) {
        run->start_error = "cannot fork";
        run->start_errno = errno;
        for (size_t i = 0; i < n_ends; i++) {
            close_fd(&ends[i][0]);
            close_fd(&ends[i][1]);
        }
        signal(SIGCHLD, SIG_DFL);
        sigchld_pipe_w = -1;
        return;
    }
    setpgid(pid, pid); /* also here, so a kill of the group cannot race the child's own call */
    child_group = (sig_atomic_t)pid;

    /* The report pipe closes on a successful exec, or carries why it failed. */
    int failure[2];
    ssize_t got;
    while ((got = read(report[0], failure, sizeof failure)) < 0 && errno == EINTR) {
    }
    close_fd(&report[0]);
    if (got == (ssize_t)sizeof failure) {
        run->start_error = stages[failure[0] >= 1 && failure[0] <= 4 ? failure[0] : 0];
        run->start_errno = failure[1];
    }

    int out_fd = out[0], err_fd = err[0], in_fd = in[1];
    set_flags(out_fd, true);
    set_flags(err_fd, true);
    if (in_fd >= 0)
        set_flags(in_fd, true);
    size_t in_done = 0;
    int64_t deadline = now_ms() + (int64_t)(timeout * 1000);
    int64_t settle = 0;
    bool exited = false;
    for (;;) {
        if (!exited && has_exited(pid)) {
            exited = true;
            close_fd(&in_fd);
            settle = now_ms() + SETTLE_MS < deadline ? now_ms() + SETTLE_MS : deadline;
        }
        if (exited && out_fd < 0 && err_fd < 0)
            break;
        int64_t left = (exited ? settle : deadline) - now_ms();
        if (left <= 0) {
            run->timed_out = !exited;
            break;
        }
        struct pollfd fds[4] = {
            {.fd = wake[0], .events = POLLIN},
            {.fd = out_fd, .events = POLLIN},
            {.fd = err_fd, .events = POLLIN},
            {.fd = in_fd, .events = POLLOUT},
        };
        if (poll(fds, 4, left > INT_MAX ? INT_MAX : (int)left) < 0) {
            if (errno == EINTR)
                continue;
            run->start_error = "cannot poll the interpreter's output";
            run->start_errno = errno;
            break;
        }
        char drain[64];
        if (fds[0].revents)
            while (read(wake[0], drain, sizeof drain) > 0) {
            }
        if (fds[1].revents)
            read_some(&out_fd, &run->out, &run->out_total);
        if (fds[2].revents)
            read_some(&err_fd, &run->err, &run->err_total);
        if (fds[3].revents) {
            ssize_t n = write(in_fd, input->data + in_done, input->len - in_done);
            if (n > 0)
                in_done += (size_t)n;
            /* Done, or the child closed its stdin: either way stop feeding. */
            if (in_done == input->len || (n < 0 && errno != EAGAIN && errno != EINTR))
                close_fd(&in_fd);
        }
    }

    if (run->timed_out)
        dump_hung_group(pid);
    /* A timed-out interpreter, or processes it left behind. */
    if (kill(-pid, SIGKILL) != 0)
        kill(pid, SIGKILL);
    /* Keep what is already in the pipes: it is the most useful part of a
     * timeout report. Bounded, in case a process escaped the group. */
    for (int i = 0; i < 64 && out_fd >= 0 && read_some(&out_fd, &run->out, &run->out_total); i++) {
    }
    for (int i = 0; i < 64 && err_fd >= 0 && read_some(&err_fd, &run->err, &run->err_total); i++) {
    }
    close_fd(&out_fd);
    close_fd(&err_fd);
    close_fd(&in_fd);
    while (waitpid(pid, &run->status, 0) < 0 && errno == EINTR) {
    }
    child_group = 0;
    run->started = run->start_error == NULL;
    signal(SIGCHLD, SIG_DFL);
    sigchld_pipe_w = -1;
    close_fd(&wake[0]);
    close_fd(&wake[1]);
}

/* ----------------------------------------------------------------- check */

typedef struct {
    const char *s;
    size_t len; /* trailing whitespace excluded */
} Line;

typedef struct {
    Line *items;
    size_t len;
} Lines;

/* A final line without "\n" still counts. */
static Lines split_lines(const Buf *b)
{
    Lines lines = {0};
    if (b->len == 0)
        return lines;
    size_t cap = 0;
    const char *p = b->data, *end = b->data + b->len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        if (lines.len == cap) {
            cap = cap ? cap * 2 : 64;
            lines.items = xrealloc(lines.items, cap * sizeof *lines.items);
        }
        lines.items[lines.len++] = (Line){p, trimmed_len(p, (size_t)(stop - p))};
        p = nl ? nl + 1 : end;
    }
    return lines;
}

static bool expect_matches(const Expect *e, Line line)
{
    if (e->kind != EXPECT_MATCH)
        return line.len == e->len && memcmp(line.s, e->text, e->len) == 0;
    /* regexec() stops at a NUL, so such a line cannot match whole. */
    if (memchr(line.s, '\0', line.len))
        return false;
    char *s = xstrndup(line.s, line.len);
    regmatch_t m;
    /* POSIX matching is leftmost-longest: a whole-line match, if any, is the one found. */
    bool ok = regexec(&e->re, s, 1, &m, 0) == 0 && m.rm_so == 0 && (size_t)m.rm_eo == line.len;
    free(s);
    return ok;
}

static void fail_line(Report *r, const char *stream, size_t lineno, const char *problem,
                      const Spec *spec, const Expect *e, const Line *actual)
{
    char *want = e ? quote(e->text, e->len) : NULL;
    char *got = actual ? quote(actual->s, actual->len) : NULL;
    Buf msg = {0};
    buf_add(&msg, "", 0);
    if (e) {
        char where[64];
        snprintf(where, sizeof where, "  (%s:%d)", spec->name, e->line);
        buf_puts(&msg, e->kind == EXPECT_MATCH ? "\n    expected to match: /" : "\n    expected: ");
        buf_puts(&msg, e->kind == EXPECT_MATCH ? e->text : want);
        buf_puts(&msg, e->kind == EXPECT_MATCH ? "/" : "");
        buf_puts(&msg, where);
    }
    if (got) {
        buf_puts(&msg, "\n    actual:   ");
        buf_puts(&msg, got);
    }
    if (lineno)
        fail(r, "%s line %zu: %s%s", stream, lineno, problem, msg.data);
    else
        fail(r, "%s: %s%s", stream, problem, msg.data);
    free(want);
    free(got);
    free(msg.data);
}

/* Every expected line, in order, and nothing else. Reports the first difference. */
static void check_stdout_ordered(Report *r, const Spec *spec, const Lines *out)
{
    for (size_t i = 0; i < spec->out.len || i < out->len; i++) {
        const Expect *e = i < spec->out.len ? &spec->out.items[i] : NULL;
        const Line *got = i < out->len ? &out->items[i] : NULL;
        if (!got) {
            fail_line(r, "stdout", i + 1, "missing (stdout ended)", spec, e, NULL);
            return;
        }
        if (!e) {
            fail_line(r, "stdout", i + 1, "unexpected extra line", spec, NULL, got);
            return;
        }
        if (!expect_matches(e, *got)) {
            fail_line(r, "stdout", i + 1, "differs", spec, e, got);
            return;
        }
    }
}

/* The ordered expectations as a subsequence, the unordered ones anywhere
 * among the other lines, and no line left over. */
static void check_stdout_unordered(Report *r, const Spec *spec, const Lines *out)
{
    bool *used = xcalloc(out->len, sizeof *used);
    size_t pos = 0;
    for (size_t i = 0; i < spec->out.len; i++) {
        const Expect *e = &spec->out.items[i];
        if (e->kind == EXPECT_UNORDERED)
            continue;
        while (pos < out->len && !expect_matches(e, out->items[pos]))
            pos++;
        if (pos == out->len) {
            fail_line(r, "stdout", 0, "no such line after the previous ordered one", spec, e, NULL);
            goto done;
        }
        used[pos++] = true;
    }
    for (size_t i = 0; i < spec->out.len; i++) {
        const Expect *e = &spec->out.items[i];
        if (e->kind != EXPECT_UNORDERED)
            continue;
        size_t j = 0;
        while (j < out->len && (used[j] || !expect_matches(e, out->items[j])))
            j++;
        if (j == out->len) {
            fail_line(r, "stdout", 0, "unordered line missing (or there once too few times)", spec, e,
                      NULL);
            goto done;
        }
        used[j] = true;
    }
    for (size_t j = 0; j < out->len; j++) {
        if (!used[j]) {
            fail_line(r, "stdout", j + 1, "unexpected extra line", spec, NULL, &out->items[j]);
            goto done;
        }
    }
done:
    free(used);
}

static void check_stderr(Report *r, const Spec *spec, const Lines *err, int expected_exit)
{
    if (spec->error) {
        size_t i = err->len;
        while (i > 0 && err->items[i - 1].len == 0)
            i--;
        Expect e = {.kind = EXPECT_LINE, .text = spec->error, .len = strlen(spec->error),
                    .line = spec->error_line};
        if (i == 0)
            fail_line(r, "stderr", 0, "last line: stderr is empty", spec, &e, NULL);
        else if (!expect_matches(&e, err->items[i - 1]))
            fail_line(r, "stderr", i, "last line differs", spec, &e, &err->items[i - 1]);
    }
    size_t pos = 0;
    for (size_t i = 0; i < spec->err.len; i++) {
        const Expect *e = &spec->err.items[i];
        while (pos < err->len && !expect_matches(e, err->items[pos]))
            pos++;
        if (pos == err->len) {
            fail_line(r, "stderr", 0,
                      i ? "no such line after the previous '# expect stderr' one" : "no such line",
                      spec, e, NULL);
            break;
        }
        pos++;
    }
    if (!spec->error && spec->err.len == 0 && expected_exit == 0 && err->len > 0)
        fail(r, "stderr: not empty, and the test expects no error (use '# expect stderr:' to "
                "check intended output there)");
    /* Sanitizers may exit with the status a test expects; their summary line gives them away. */
    for (size_t i = 0; i < err->len; i++) {
        const Line *l = &err->items[i];
        if (l->len > 9 && memcmp(l->s, "SUMMARY: ", 9) == 0) {
            char *s = xstrndup(l->s, l->len);
            bool sanitizer = strstr(s, "Sanitizer:") != NULL;
            free(s);
            if (sanitizer) {
                fail(r, "stderr line %zu: a sanitizer found a bug (see its report below)", i + 1);
                break;
            }
        }
    }
}

static void describe_status(int status, char *buf, size_t size)
{
    if (WIFSIGNALED(status))
        snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(buf, size, "exit status %d", WEXITSTATUS(status));
}

static void check_run(Report *r, const Spec *spec, const Run *run, double timeout)
{
    if (!run->started)
        return;
    if (run->timed_out) {
        fail(r, "timed out after %g s (the process group was killed)", timeout);
        return;
    }
    if (WIFSIGNALED(run->status)) {
        char what[128];
        describe_status(run->status, what, sizeof what);
        fail(r, "%s", what);
        return;
    }
    bool stderr_expected = spec->error || spec->err.len > 0;
    int expected_exit = spec->exit_given ? spec->exit_status : stderr_expected ? 1 : 0;
    if (WEXITSTATUS(run->status) != expected_exit)
        fail(r, "exit status %d, expected %d%s", WEXITSTATUS(run->status), expected_exit,
             spec->exit_given       ? ""
             : expected_exit == 1   ? " (implied by '# expect error/stderr:')"
                                    : " (no '# expect exit:' given)");
    if (run->out_total > run->out.len)
        fail(r, "stdout: %zu bytes, more than the %zu the runner keeps", run->out_total,
             (size_t)CAPTURE_LIMIT);
    Lines out = split_lines(&run->out);
    Lines err = split_lines(&run->err);
    if (spec->has_unordered)
        check_stdout_unordered(r, spec, &out);
    else
        check_stdout_ordered(r, spec, &out);
    check_stderr(r, spec, &err, expected_exit);
    free(out.items);
    free(err.items);
}

/* Prints a captured stream escaped, its middle cut when long. */
static void dump(const char *name, const Buf *b, size_t total)
{
    printf("--- %s (%zu bytes%s) ---\n", name, total, total > b->len ? ", the rest not kept" : "");
    Buf text = {0};
    buf_add(&text, "", 0);
    if (b->len <= DUMP_LIMIT) {
        add_escaped(&text, b->data, b->len, false);
    } else {
        char cut[64];
        snprintf(cut, sizeof cut, "\n[... %zu bytes cut ...]\n", b->len - DUMP_LIMIT);
        add_escaped(&text, b->data, DUMP_LIMIT / 2, false);
        buf_puts(&text, cut);
        add_escaped(&text, b->data + b->len - DUMP_LIMIT / 2, DUMP_LIMIT / 2, false);
    }
    fputs(text.data, stdout);
    if (b->len > 0 && b->data[b->len - 1] != '\n')
        printf("\n[no newline at end]\n");
    free(text.data);
}

/* Shell-quoted, so the command can be pasted to reproduce the run. */
static void print_shell_word(const char *s)
{
    if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-./=:,+@%")
                  == strlen(s)) {
        fputs(s, stdout);
        return;
    }
    putchar('\'');
    for (; *s; s++) {
        if (*s == '\'')
            fputs("'\\''", stdout);
        else
            putchar(*s);
    }
    putchar('\'');
}

static void print_details(char **argv, const char *dir, const Spec *spec, const Run *run)
{
    fputs("  command: cd ", stdout);
    print_shell_word(dir);
    fputs(" &&", stdout);
    if (spec->memory_limit_kib)
        printf(" ulimit -v %llu &&", spec->memory_limit_kib);
    for (size_t i = 0; i < spec->env.len; i++) {
        putchar(' ');
        print_shell_word(spec->env.items[i]);
    }
    for (char **arg = argv; *arg; arg++) {
        putchar(' ');
        print_shell_word(*arg);
    }
    if (spec->input.len)
        fputs("  (with '# stdin:' lines as input)", stdout);
    putchar('\n');
    if (run->started) {
        char what[128];
        describe_status(run->status, what, sizeof what);
        printf("  ended with: %s%s\n", what, run->timed_out ? " (timed out)" : "");
        dump("stdout", &run->out, run->out_total);
        dump("stderr", &run->err, run->err_total);
    }
}

/* ------------------------------------------------------------------ main */

static bool read_file(const char *path, Buf *b)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    char chunk[65536];
    size_t n;
    buf_add(b, "", 0);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_add(b, chunk, n);
    bool ok = !ferror(f);
    fclose(f);
    return ok;
}

static int usage(const char *why)
{
    fprintf(stderr,
            "script_test: %s\n"
            "usage: script_test [--timeout SEC] [--flags \"FLAGS\"] [--no-memory-limit] MINI_BINARY "
            "TEST.mini\n",
            why);
    return RESULT_USAGE;
}

/* A closed standard descriptor would be reused by pipe() and then clobbered
 * by the dup2() calls in the child. */
static void ensure_std_fds(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) < 0)
            break;
    }
}

static int run_test(const char *binary, const char *test, const StrList *runner_flags, double timeout,
                    bool no_memory_limit)
{
    Report report = {.test = test};
    Spec spec = {0};
    Buf source = {0};
    StrList argv = {0};
    Run run = {0};
    char *abs_test = realpath(test, NULL);
    char *abs_binary = NULL;
    int result = RESULT_FAIL;

    if (!abs_test || !read_file(abs_test, &source)) {
        fail(&report, "cannot read the test file: %s", strerror(errno));
        goto out;
    }
    char *slash = strrchr(abs_test, '/');
    spec.name = slash + 1;
    *slash = '\0';
    const char *dir = slash == abs_test ? "/" : abs_test;

    if (!parse_spec(&spec, source.data, &report))
        goto out;
    if (!spec.skip && spec.memory_limit_kib && no_memory_limit)
        spec.skip = xstrdup("it sets a memory limit, and this build cannot run under one (--no-memory-limit)");
    if (spec.skip) {
        printf("SKIP %s: %s\n", test, spec.skip);
        result = RESULT_SKIP;
        goto out;
    }
    if (spec.out.len == 0 && spec.err.len == 0 && !spec.error && !spec.exit_given) {
        fail(&report, "test checks nothing: add '# expect...' comments (for a script that must "
                      "only run cleanly: '# expect exit: 0')");
        goto out;
    }
    /* Absolute, as it runs from the test's directory; a bare name is looked up in PATH. */
    abs_binary = strchr(binary, '/') ? realpath(binary, NULL) : xstrdup(binary);
    if (!abs_binary) {
        fail(&report, "cannot run the interpreter %s: %s", binary, strerror(errno));
        goto out;
    }

    list_push(&argv, xstrdup(abs_binary));
    for (size_t i = 0; i < runner_flags->len; i++)
        list_push(&argv, xstrdup(runner_flags->items[i]));
    for (size_t i = 0; i < spec.flags.len; i++)
        list_push(&argv, xstrdup(spec.flags.items[i]));
    list_push(&argv, xstrdup(spec.run ? spec.run : spec.name));
    for (size_t i = 0; i < spec.args.len; i++)
        list_push(&argv, xstrdup(spec.args.items[i]));
    /* Set here rather than in the child: the runner itself never reads them. */
    for (size_t i = 0; i < spec.env.len; i++) {
        char *name = xstrdup(spec.env.items[i]);
        char *eq = strchr(name, '=');
        *eq = '\0';
        setenv(name, eq + 1, 1);
        free(name);
    }

    struct timespec started, ended;
    clock_gettime(CLOCK_MONOTONIC, &started);
    run_interpreter(argv.items, dir, spec.input.len ? &spec.input : NULL, spec.memory_limit_kib,
                    timeout, &run);
    clock_gettime(CLOCK_MONOTONIC, &ended);
    if (run.start_error)
        fail(&report, "%s: %s", run.start_error, strerror(run.start_errno));
    check_run(&report, &spec, &run, timeout);
    double seconds = (double)(ended.tv_sec - started.tv_sec) + (double)(ended.tv_nsec - started.tv_nsec) / 1e9;
    if (spec.max_seconds > 0 && seconds >= spec.max_seconds)
        fail(&report, "took %.2f s, expected below %.2f s", seconds, spec.max_seconds);
    if (report.failures)
        print_details(argv.items, dir, &spec, &run);
    else {
        printf("PASS %s\n", test);
        result = RESULT_PASS;
    }

out:
    fflush(stdout);
    free(run.out.data);
    free(run.err.data);
    list_free(&argv);
    free_spec(&spec);
    free(source.data);
    free(abs_test);
    free(abs_binary);
    return result;
}

int main(int argc, char **argv)
{
    double timeout = DEFAULT_TIMEOUT_SEC;
    bool no_memory_limit = false;
    StrList runner_flags = {0};
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
            char *end;
            timeout = strtod(argv[++i], &end);
            if (end == argv[i] || *end || !(timeout > 0 && timeout < 1e6)) {
                list_free(&runner_flags);
                return usage("--timeout needs a number of seconds");
            }
        } else if (strcmp(argv[i], "--no-memory-limit") == 0) {
            no_memory_limit = true;
        } else if (strcmp(argv[i], "--flags") == 0 && i + 1 < argc) {
            if (!split_words(argv[++i], &runner_flags)) {
                list_free(&runner_flags);
                return usage("unterminated single quote in --flags");
            }
        } else {
            list_free(&runner_flags);
            return usage(strcmp(argv[i], "--help") == 0 ? "runs one script test"
                                                        : "unknown option, or one without its value");
        }
    }
    if (argc - i != 2) {
        list_free(&runner_flags);
        return usage("needs the interpreter and one test file");
    }
    ensure_std_fds();
    signal(SIGPIPE, SIG_IGN); /* a child that closes its stdin must not kill the runner */
    forward_interrupts();
    int result = run_test(argv[i], argv[i + 1], &runner_flags, timeout, no_memory_limit);
    list_free(&runner_flags);
    return result;
}
