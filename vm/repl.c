/* The interactive prompt: `mini` with no script on a terminal. Lines are
 * read with libedit (editing and history), gathered until they form a
 * complete statement, compiled in interactive mode (expression values are
 * printed) and run in the __main__ module. */

#include "vm/repl.h"

#include <errno.h>
#include <histedit.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grammar/arena.h"
#include "grammar/parse.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/file.h"
#include "runtime/module.h"
#include "runtime/str.h"
#include "runtime/types.h"
#include "vm/compiler.h"
#include "vm/config.h"
#include "vm/signals.h"
#include "vm/thread.h"
#include "vm/vm.h"

typedef struct ReplState {
    const char *prompt;
    int held_byte; /* read ahead while decoding UTF-8, or -1 */
} ReplState;

static const char *current_prompt(EditLine *el) {
    ReplState *st;
    el_get(el, EL_CLIENTDATA, &st);
    return st->prompt;
}

/* Waits until standard input is readable or SIGINT is pending, with no
 * window between the check and the wait: SIGINT stays blocked except
 * inside ppoll. Returns false when a Ctrl-C came. */
static bool wait_for_key(void) {
    sigset_t sigint, before;
    sigemptyset(&sigint);
    sigaddset(&sigint, SIGINT);
    sigprocmask(SIG_BLOCK, &sigint, &before);
    bool readable = false;
    while (!signals_pending()) {
        struct pollfd p = {STDIN_FILENO, POLLIN, 0};
        if (ppoll(&p, 1, NULL, &before) > 0) {
            readable = true;
            break;
        }
        if (errno != EINTR) break;
    }
    sigprocmask(SIG_SETMASK, &before, NULL);
    return readable || !signals_pending();
}

/* libedit's own reader retries a read that a signal interrupted and blocks
 * again, so a Ctrl-C at the prompt went unseen until the next key (seen in
 * CI). This one gives up at once on Ctrl-C, and decodes UTF-8 itself. */
static int read_byte(unsigned char *b) {
    for (;;) {
        if (!wait_for_key()) {
            errno = EINTR;
            return -1;
        }
        ssize_t n = read(STDIN_FILENO, b, 1);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        return (int)n;
    }
}

static int read_key(EditLine *el, wchar_t *out) {
    ReplState *st;
    el_get(el, EL_CLIENTDATA, &st);
    unsigned char lead;
    if (st->held_byte >= 0) {
        lead = (unsigned char)st->held_byte;
        st->held_byte = -1;
    } else {
        int r = read_byte(&lead);
        if (r != 1) return r;
    }
    int need = lead < 0x80 ? 1 : (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : (lead & 0xF8) == 0xF0 ? 4 : 1;
    static const unsigned char lead_bits[] = {0, 0xFF, 0x1F, 0x0F, 0x07};
    wchar_t c = lead & lead_bits[need];
    for (int i = 1; i < need; i++) {
        unsigned char b;
        int r = read_byte(&b);
        if (r != 1) return r;
        if ((b & 0xC0) != 0x80) {
            /* Not UTF-8: the lead byte as it is; this one comes next. */
            st->held_byte = b;
            c = lead;
            break;
        }
        c = (c << 6) | (b & 0x3F);
    }
    *out = c;
    return 1;
}

/* Does the input need more lines? Unfinished brackets or strings, or a
 * block opened on the first line and not yet ended by a blank line. */
static bool needs_more(const char *src, size_t len, bool last_line_blank) {
    Arena arena;
    arena_init(&arena);
    ParseResult pr = parse_module(&arena, "<stdin>", src, len);
    arena_free(&arena);
    if (pr.status == PARSE_INCOMPLETE) return true;
    if (pr.status != PARSE_OK || last_line_blank) return false;
    const char *end = memchr(src, '\n', len);
    if (!end) end = src + len;
    while (end > src && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r')) end--;
    return end > src && end[-1] == ':';
}

static void run_input(TState *ts, ObjDict *globals, const char *src, size_t len) {
    Arena arena;
    arena_init(&arena);
    ParseResult pr = parse_module(&arena, "<stdin>", src, len);
    if (pr.status != PARSE_OK) {
        err_syntax(ts, &pr.error, "<stdin>", src, len);
    } else {
        SyntaxErrorInfo err;
        ObjCode *code = compile_module(ts, pr.ast, "<stdin>", COMPILE_INTERACTIVE, &err);
        if (code) {
            Value r = vm_run_module(ts, code, globals);
            (void)r;
        } else if (err.msg[0]) {
            err_syntax(ts, &err, "<stdin>", src, len);
        }
    }
    arena_free(&arena);
    file_flush_std(ts);
    if (err_occurred(ts)) {
        Value exc = err_fetch(ts);
        if (type_is_subtype(OBJ_TYPE(exc), ts->interp->exc.SystemExit)) {
            err_restore(ts, exc);
            return;
        }
        err_print(ts, exc);
    }
}

void repl_run(TState *ts, bool banner) {
    Interp *interp = ts->interp;
    Value main = module_run_source(ts, "", 0, "<stdin>", "__main__");
    if (IS_ERROR(main)) return;
    ObjDict *globals = AS_MODULE(main)->dict;
    vm_push(ts, main);

    printf("mini %s (Python %s semantics, GIL %s)\n", MINI_VERSION, MINI_LANGUAGE_VERSION,
           interp->gil_enabled ? "on" : "off");
    puts("Type Ctrl-D to leave, Ctrl-C to cancel the current input.");
    fflush(stdout);

    /* libedit turns the wide characters it edits back into bytes by the
     * C library's LC_CTYPE, which is ASCII until set. mini reads UTF-8
     * whatever the user's locale, and nothing else in mini depends on it. */
    setlocale(LC_CTYPE, "C.UTF-8");
    ReplState st = {">>> ", -1};
    EditLine *el = el_init("mini", stdin, stdout, stderr);
    History *hist = history_init();
    HistEvent ev;
    history(hist, &ev, H_SETSIZE, 1000);
    el_set(el, EL_CLIENTDATA, &st);
    el_set(el, EL_PROMPT, current_prompt);
    el_set(el, EL_EDITOR, "emacs");
    el_set(el, EL_HIST, history, hist);
    /* Keep the terminal in libedit's mode between prompts: switching it
     * back and forth around each read lets a key typed in between be
     * eaten by the terminal's cooked mode (a Ctrl-D right after a prompt
     * was lost that way). */
    el_set(el, EL_PREP_TERM, 1);
    el_set(el, EL_GETCFN, read_key);

    char *buf = NULL;
    size_t len = 0;
    for (;;) {
        st.prompt = len ? "... " : ">>> ";
        int count = 0;
        errno = 0;
        /* Other threads run while the user types. */
        thread_detach(ts);
        const char *line = el_gets(el, &count);
        thread_attach(ts);
        if (signals_take()) {
            /* Ctrl-C: drop what was typed so far. */
            fputs("\nKeyboardInterrupt\n", stdout);
            fflush(stdout);
            len = 0;
            el_reset(el);
            continue;
        }
        if (!line || count <= 0) {
            if (errno == EINTR) continue;
            fputc('\n', stdout);
            break;
        }
        size_t n = strlen(line);
        char *grown = realloc(buf, len + n + 2);
        if (!grown) break;
        buf = grown;
        memcpy(buf + len, line, n);
        len += n;
        if (len == 0 || buf[len - 1] != '\n') buf[len++] = '\n';
        buf[len] = '\0';
        bool blank = strspn(line, " \t\r\n") == n;
        if (len == 1 && blank) {
            len = 0;
            continue;
        }
        if (needs_more(buf, len, blank)) continue;
        if (n > 1) history(hist, &ev, H_ENTER, buf);
        run_input(ts, globals, buf, len);
        len = 0;
        /* SystemExit is left pending: the caller exits with its status. */
        if (err_occurred(ts)) break;
    }
    free(buf);
    el_set(el, EL_PREP_TERM, 0);
    history_end(hist);
    el_end(el);
    vm_pop(ts);
}
