/* The interactive prompt: `mini` with no script on a terminal. Lines are
 * read with libedit (editing and history), gathered until they form a
 * complete statement, compiled in interactive mode (expression values are
 * printed) and run in the __main__ module. */

#include "vm/repl.h"

#include <errno.h>
#include <histedit.h>
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
#include "vm/vm.h"

typedef struct ReplState {
    const char *prompt;
} ReplState;

static const char *current_prompt(EditLine *el) {
    ReplState *st;
    el_get(el, EL_CLIENTDATA, &st);
    return st->prompt;
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

void repl_run(TState *ts) {
    Interp *interp = ts->interp;
    Value main = module_run_source(ts, "", 0, "<stdin>", "__main__");
    if (IS_ERROR(main)) return;
    ObjDict *globals = AS_MODULE(main)->dict;
    vm_push(ts, main);

    printf("mini %s (Python %s semantics, GIL %s)\n", MINI_VERSION, MINI_LANGUAGE_VERSION,
           interp->gil_enabled ? "on" : "off");
    puts("Type Ctrl-D to leave, Ctrl-C to cancel the current input.");
    fflush(stdout);

    ReplState st = {">>> "};
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

    char *buf = NULL;
    size_t len = 0;
    for (;;) {
        st.prompt = len ? "... " : ">>> ";
        int count = 0;
        errno = 0;
        const char *line = el_gets(el, &count);
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
