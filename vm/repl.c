/* The interactive prompt: `mini` with no script on a terminal, or after the
 * program with -i. Lines are read with libedit (editing, history kept in
 * ~/.mini_history, Tab completion) or, when standard input is not a
 * terminal, as they come; they are gathered until the parser says the input
 * is complete, compiled in interactive mode (expression values are printed)
 * and run in the __main__ module. */

#include "vm/repl.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <histedit.h>
#include <wchar.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "grammar/arena.h"
#include "grammar/parse.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/file.h"
#include "runtime/list.h"
#include "runtime/module.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/types.h"
#include "stdlib/embedded.h"
#include "vm/compiler.h"
#include "vm/config.h"
#include "vm/signals.h"
#include "vm/thread.h"
#include "vm/vm.h"

typedef struct ReplState {
    TState *ts;
    ObjDict *globals;
    char prompt[256];
    int held_byte;          /* read ahead while decoding UTF-8, or -1 */
    int bad_byte;           /* the line's first byte that is not UTF-8, or -1 */
    const char *bad_reason; /* why, in the words of CPython's codec */
} ReplState;

static const char *current_prompt(EditLine *el) {
    ReplState *st;
    el_get(el, EL_CLIENTDATA, &st);
    return st->prompt;
}

/* sys.ps1 or sys.ps2, as str() makes them, into st->prompt. */
static void set_prompt(ReplState *st, const char *which, const char *fallback) {
    TState *ts = st->ts;
    snprintf(st->prompt, sizeof st->prompt, "%s", fallback);
    Value p = ops_getattr_opt(ts, ts->interp->sys_module, str_intern_cstr(ts, which));
    if (IS_EMPTY(p) || IS_ERROR(p)) {
        err_clear(ts);
        return;
    }
    Value s = ops_str(ts, p);
    if (IS_STR(s)) snprintf(st->prompt, sizeof st->prompt, "%s", AS_STR(s)->data);
    else err_clear(ts);
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

/* Remembers the line's first byte that is not UTF-8: the line is then a
 * SyntaxError, as CPython's decoding of it fails. */
static void note_bad_byte(ReplState *st, unsigned char b, const char *reason) {
    if (st->bad_byte >= 0) return;
    st->bad_byte = b;
    st->bad_reason = reason;
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
    if (lead >= 0x80 && need == 1) note_bad_byte(st, lead, "invalid start byte");
    static const unsigned char lead_bits[] = {0, 0xFF, 0x1F, 0x0F, 0x07};
    wchar_t c = lead & lead_bits[need];
    for (int i = 1; i < need; i++) {
        unsigned char b;
        int r = read_byte(&b);
        if (r != 1) return r;
        if ((b & 0xC0) != 0x80) {
            /* Not UTF-8: the lead byte as it is; this one comes next. */
            note_bad_byte(st, lead, "invalid continuation byte");
            st->held_byte = b;
            c = lead;
            break;
        }
        c = (c << 6) | (b & 0x3F);
    }
    *out = c;
    return 1;
}

/* ---- Tab completion --------------------------------------------------- */

typedef struct Matches {
    char **items;
    size_t count, cap;
} Matches;

static void add_match(Matches *m, const char *text, size_t len, const char *suffix) {
    for (size_t i = 0; i < m->count; i++)
        if (strncmp(m->items[i], text, len) == 0 && strcmp(m->items[i] + len, suffix) == 0) return;
    if (m->count == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 32;
        char **grown = realloc(m->items, cap * sizeof *grown);
        if (!grown) return;
        m->items = grown;
        m->cap = cap;
    }
    size_t n = len + strlen(suffix);
    char *s = malloc(n + 1);
    if (!s) return;
    memcpy(s, text, len);
    strcpy(s + len, suffix);
    m->items[m->count++] = s;
}

static bool is_word_char(char c) { return isalnum((unsigned char)c) || c == '_' || c == '.' || (unsigned char)c >= 0x80; }

static bool starts_with(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

/* A module name, cut after the part being completed ("concurrent" for
 * "concurrent.futures" when completing "con"). */
static void add_module(Matches *m, const char *name, const char *word) {
    size_t wl = strlen(word);
    if (strncmp(name, word, wl) != 0 || name[0] == '_') return;
    const char *dot = strchr(name + wl, '.');
    add_match(m, name, dot ? (size_t)(dot - name) : strlen(name), "");
}

/* Modules that `import` could find: the embedded ones, those loaded, and
 * the files and packages in the folders of sys.path. */
static void module_matches(TState *ts, const char *word, Matches *m) {
    for (const EmbeddedModule *e = embedded_modules; e->name; e++) add_module(m, e->name, word);
    size_t pos = 0;
    Value key, value;
    while (dict_next(ts->interp->modules, &pos, &key, &value))
        if (IS_STR(key)) add_module(m, AS_STR(key)->data, word);
    if (strchr(word, '.')) return;
    Value path = ops_getattr_opt(ts, ts->interp->sys_module, str_intern_cstr(ts, "path"));
    if (!IS_LIST(path)) return;
    for (size_t i = 0; i < list_len(AS_LIST(path)); i++) {
        Value dir = list_get(AS_LIST(path), i);
        DIR *d = IS_STR(dir) ? opendir(AS_STR(dir)->data) : NULL;
        if (!d) continue;
        for (struct dirent *e; (e = readdir(d));) {
            char *ext = strrchr(e->d_name, '.');
            char full[4096];
            snprintf(full, sizeof full, "%s/%s/__init__.mini", AS_STR(dir)->data, e->d_name);
            struct stat sb;
            bool package = !ext && (stat(full, &sb) == 0 ||
                                    (snprintf(full, sizeof full, "%s/%s/__init__.py", AS_STR(dir)->data, e->d_name),
                                     stat(full, &sb) == 0));
            if (package || (ext && (!strcmp(ext, ".mini") || !strcmp(ext, ".py")))) {
                char name[256];
                snprintf(name, sizeof name, "%.*s", ext ? (int)(ext - e->d_name) : (int)strlen(e->d_name), e->d_name);
                add_module(m, name, word);
            }
        }
        closedir(d);
    }
}

static bool is_callable(TState *ts, Value v) {
    Value fn = dict_get_str(ts->interp->builtins, str_intern_cstr(ts, "callable"));
    Value r = IS_EMPTY(fn) ? ERROR_VAL : vm_call(ts, fn, &v, 1, NULL);
    if (IS_ERROR(r)) err_clear(ts);
    return IS_BOOL(r) && AS_BOOL(r);
}

/* Keywords, then the names in scope, as CPython's rlcompleter: a keyword
 * gets the space or colon that follows it, a callable its "(". */
static void global_matches(ReplState *st, const char *word, Matches *m) {
    size_t wl = strlen(word);
    for (size_t i = 0; parse_keyword(i); i++) {
        const char *k = parse_keyword(i);
        if (strncmp(k, word, wl) != 0) continue;
        static const char *bare[] = {"False", "None", "True", "break", "continue", "pass", "else"};
        const char *suffix = !strcmp(k, "try") || !strcmp(k, "finally") ? ":" : " ";
        for (size_t b = 0; b < sizeof bare / sizeof bare[0]; b++)
            if (!strcmp(k, bare[b])) suffix = "";
        add_match(m, k, strlen(k), suffix);
    }
    ObjDict *scopes[] = {st->globals, st->ts->interp->builtins};
    for (size_t s = 0; s < 2; s++) {
        size_t pos = 0;
        Value key, value;
        while (dict_next(scopes[s], &pos, &key, &value)) {
            if (!IS_STR(key) || strncmp(AS_STR(key)->data, word, wl) != 0) continue;
            if (wl == 0 && AS_STR(key)->data[0] == '_') continue;
            add_match(m, AS_STR(key)->data, AS_STR(key)->len, is_callable(st->ts, value) ? "(" : "");
        }
    }
}

/* "a.b.c" completes c among dir(a.b); a.b is only looked up, never called,
 * as CPython's rlcompleter (it evaluates plain dotted names only). */
static void attr_matches(ReplState *st, const char *word, Matches *m) {
    TState *ts = st->ts;
    const char *last = strrchr(word, '.');
    const char *attr = last + 1;
    Value obj = EMPTY_VAL;
    for (const char *p = word; p <= last;) {
        const char *dot = strchr(p, '.');
        ObjStr *name = str_intern(ts, p, (size_t)(dot - p));
        if (!name || dot == p) return;
        if (p == word) {
            obj = dict_get_str(st->globals, name);
            if (IS_EMPTY(obj)) obj = dict_get_str(ts->interp->builtins, name);
        } else {
            obj = ops_getattr_opt(ts, obj, name);
        }
        if (IS_EMPTY(obj) || IS_ERROR(obj)) return;
        p = dot + 1;
    }
    Value dir = dict_get_str(ts->interp->builtins, str_intern_cstr(ts, "dir"));
    vm_push(ts, obj);
    Value names = IS_EMPTY(dir) ? ERROR_VAL : vm_call(ts, dir, &obj, 1, NULL);
    vm_pop(ts);
    if (!IS_LIST(names)) return;
    size_t al = strlen(attr), prefix = (size_t)(attr - word);
    for (size_t i = 0; i < list_len(AS_LIST(names)); i++) {
        Value n = list_get(AS_LIST(names), i);
        if (!IS_STR(n) || strncmp(AS_STR(n)->data, attr, al) != 0) continue;
        /* Private names only when asked for: "_" shows them, "__" dunders. */
        const char *s = AS_STR(n)->data;
        if ((al == 0 && s[0] == '_') || (al == 1 && attr[0] == '_' && s[1] == '_')) continue;
        char full[1024];
        snprintf(full, sizeof full, "%.*s%s", (int)prefix, word, s);
        add_match(m, full, strlen(full), "");
    }
}

/* Is the word at `start` a module name: after `import` (and its commas),
 * or right after `from`? */
static bool in_import(const char *line, const char *start) {
    const char *p = line;
    while (p < start && isspace((unsigned char)*p)) p++;
    bool import = starts_with(p, "import ") || starts_with(p, "import\t");
    if (!import && !starts_with(p, "from ") && !starts_with(p, "from\t")) return false;
    p += import ? 6 : 4;
    if (!import) {
        while (p < start && isspace((unsigned char)*p)) p++;
        return p == start;
    }
    for (; p < start; p++)
        if (!is_word_char(*p) && *p != ',' && !isspace((unsigned char)*p)) return false;
    return true;
}

static int compare_strings(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Tab: indents when only blanks come before the cursor; else completes the
 * word before it (keywords and names in scope, attributes after a dotted
 * name, module names after import), listing the choices when several
 * remain. */
static unsigned char complete(EditLine *el, int ch) {
    (void)ch;
    ReplState *st;
    el_get(el, EL_CLIENTDATA, &st);
    const LineInfo *li = el_line(el);
    const char *start = li->cursor;
    while (start > li->buffer && is_word_char(start[-1])) start--;
    const char *p = li->buffer;
    while (p < start && isspace((unsigned char)*p)) p++;
    if (p == li->cursor) {
        char indent[] = "        ";
        indent[MINI_REPL_INDENT < 8 ? MINI_REPL_INDENT : 8] = '\0';
        el_insertstr(el, indent);
        return CC_REFRESH;
    }
    char word[512];
    snprintf(word, sizeof word, "%.*s", (int)(li->cursor - start), start);
    bool import = in_import(li->buffer, start);

    Matches m = {0};
    thread_attach(st->ts);
    if (import) module_matches(st->ts, word, &m);
    else if (strchr(word, '.')) attr_matches(st, word, &m);
    else global_matches(st, word, &m);
    err_clear(st->ts);
    thread_detach(st->ts);

    unsigned char result = CC_REFRESH_BEEP;
    if (m.count > 0) {
        qsort(m.items, m.count, sizeof *m.items, compare_strings);
        size_t common = strlen(m.items[0]);
        for (size_t i = 1; i < m.count; i++) {
            size_t k = 0;
            while (k < common && m.items[i][k] == m.items[0][k]) k++;
            common = k;
        }
        size_t wl = strlen(word);
        if (common > wl) {
            char *rest = strndup(m.items[0] + wl, common - wl);
            if (rest) el_insertstr(el, rest);
            free(rest);
            result = CC_REFRESH;
        } else if (m.count > 1) {
            fputc('\n', stdout);
            for (size_t i = 0; i < m.count; i++) printf("%s%s", m.items[i], i + 1 < m.count ? "  " : "\n");
            fflush(stdout);
            result = CC_REDISPLAY;
        }
    }
    for (size_t i = 0; i < m.count; i++) free(m.items[i]);
    free(m.items);
    return result;
}

/* ---- history ---------------------------------------------------------- */

/* ~/.mini_history (malloc'd), or NULL without a home. */
static char *history_path(void) {
    const char *home = getenv("HOME");
    if (!home || !*home) return NULL;
    size_t n = strlen(home) + sizeof "/.mini_history";
    char *path = malloc(n);
    if (path) snprintf(path, n, "%s/.mini_history", home);
    return path;
}

/* Loads the history of earlier sessions; a file that can't be read or is
 * not a history file is ignored with one warning line. */
static void history_read(History *hist, const char *path) {
    struct stat sb;
    if (!path || stat(path, &sb) != 0) return;
    HistEvent ev;
    const char *why = NULL;
    FILE *probe = S_ISREG(sb.st_mode) ? fopen(path, "r") : NULL;
    if (!S_ISREG(sb.st_mode)) why = "not a regular file";
    else if (!probe) why = strerror(errno);
    if (probe) fclose(probe);
    if (!why && history(hist, &ev, H_LOAD, path) < 0) why = "not a history file";
    if (!why) return;
    history(hist, &ev, H_CLEAR);
    fprintf(stderr, "mini: ignoring the history file %s: %s\n", path, why);
}

/* ---- reading and running input ---------------------------------------- */

/* Does the input need more lines? Unfinished brackets, strings or blocks
 * (the parser says), or a compound statement not yet ended by a blank
 * line: its one-line form may still get an else/elif/except/finally. */
static bool needs_more(const char *src, size_t len, bool last_line_blank) {
    Arena arena;
    arena_init(&arena);
    ParseResult pr = parse_module(&arena, "<stdin>", src, len);
    bool more = pr.status == PARSE_INCOMPLETE;
    if (pr.status == PARSE_OK && !last_line_blank && pr.ast->u.module.body.count > 0) {
        switch (pr.ast->u.module.body.items[0]->kind) {
        case AST_FUNCTION_DEF:
        case AST_CLASS_DEF:
        case AST_IF:
        case AST_WHILE:
        case AST_FOR:
        case AST_TRY:
        case AST_WITH: more = true; break;
        default: break;
        }
    }
    arena_free(&arena);
    return more;
}

/* Prints the pending exception, if any, unless it is SystemExit: that one
 * stays pending for the caller to exit with. */
static void report_pending(TState *ts) {
    file_flush_std(ts);
    if (!err_occurred(ts)) return;
    Value exc = err_fetch(ts);
    if (type_is_subtype(OBJ_TYPE(exc), ts->interp->exc.SystemExit)) {
        err_restore(ts, exc);
        return;
    }
    err_print(ts, exc);
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
    report_pending(ts);
}

/* CPython's error for a line that is not UTF-8 (byte `bad` at offset pos). */
static void raise_not_utf8(TState *ts, int bad, size_t pos, const char *reason) {
    err_format(ts, ts->interp->exc.SyntaxError, "(unicode error) 'utf-8' codec can't decode byte 0x%02x in position %zu: %s",
               bad, pos, reason);
    report_pending(ts);
}

/* Where libedit's line holds the bad byte: it came through as the code
 * point of the same number, UTF-8 encoded; earlier characters count as the
 * bytes they were typed as. */
static size_t bad_byte_offset(const char *line, int bad) {
    size_t pos = 0;
    for (size_t i = 0; line[i];) {
        size_t n;
        uint32_t cp = str_utf8_decode(line + i, strlen(line + i), &n);
        if (cp == (uint32_t)bad) return pos;
        pos += n ? n : 1;
        i += n ? n : 1;
    }
    return pos;
}

/* The first byte of line[0..len) that is not UTF-8: -1, or the byte with
 * its offset and CPython's reason. */
static int first_bad_byte(const char *line, size_t len, size_t *pos, const char **reason) {
    for (size_t i = 0; i < len;) {
        unsigned char b = (unsigned char)line[i];
        size_t need = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 && b >= 0xC2 ? 2 : (b & 0xF0) == 0xE0 ? 3
                                 : (b & 0xF8) == 0xF0 && b <= 0xF4 ? 4 : 0;
        *pos = i;
        if (need == 0) {
            *reason = "invalid start byte";
            return b;
        }
        for (size_t k = 1; k < need; k++) {
            if (i + k >= len || ((unsigned char)line[i + k] & 0xC0) != 0x80) {
                *reason = i + k >= len ? "unexpected end of data" : "invalid continuation byte";
                return b;
            }
        }
        i += need;
    }
    return -1;
}

typedef struct Reader {
    EditLine *el; /* NULL when standard input is not a terminal */
    History *hist;
    char *plain;  /* the last line read without libedit */
    size_t plain_cap;
} Reader;

/* The next line, or NULL at end of input (errno EINTR after Ctrl-C on a
 * terminal). A line that is not UTF-8 is reported and read as empty. */
static const char *read_line(ReplState *st, Reader *rd) {
    TState *ts = st->ts;
    const char *line;
    st->bad_byte = -1;
    errno = 0;
    /* Other threads run while the user types. */
    thread_detach(ts);
    if (rd->el) {
        int count = 0;
        line = el_gets(rd->el, &count);
        if (count <= 0) line = NULL;
    } else {
        /* As CPython: the prompt on stderr when input is not a terminal. */
        fputs(st->prompt, stderr);
        fflush(stderr);
        ssize_t n = getline(&rd->plain, &rd->plain_cap, stdin);
        line = n < 0 ? NULL : rd->plain;
        if (line) {
            size_t pos;
            const char *reason;
            int bad = first_bad_byte(line, (size_t)n, &pos, &reason);
            if (bad >= 0) {
                st->bad_byte = bad;
                st->bad_reason = reason;
                rd->plain[pos] = '\0';
            }
        }
    }
    thread_attach(ts);
    if (line && st->bad_byte >= 0) {
        size_t pos = rd->el ? bad_byte_offset(line, st->bad_byte) : strlen(line);
        raise_not_utf8(ts, st->bad_byte, pos, st->bad_reason);
        return "";
    }
    return line;
}

static void print_banner(Interp *interp) {
    printf("mini %s (Python %s semantics, GIL %s)\n", MINI_VERSION, MINI_LANGUAGE_VERSION,
           interp->gil_enabled ? "on" : "off");
    puts("Type \"help\", \"copyright\", \"credits\" or \"license\" for more information.");
    puts("Ctrl-D leaves, Ctrl-C cancels the current input.");
    fflush(stdout);
}

/* sys.ps1 and sys.ps2 exist while the prompt runs, as in CPython. */
static bool set_default_prompts(TState *ts) {
    static const char *names[][2] = {{"ps1", ">>> "}, {"ps2", "... "}};
    for (size_t i = 0; i < 2; i++) {
        ObjStr *name = str_intern_cstr(ts, names[i][0]);
        Value v = ops_getattr_opt(ts, ts->interp->sys_module, name);
        if (IS_ERROR(v)) return false;
        if (!IS_EMPTY(v)) continue;
        ObjStr *s = str_from_cstr(ts, names[i][1]);
        if (!s || ops_setattr(ts, ts->interp->sys_module, name, OBJ_VAL(s)) < 0) return false;
    }
    return true;
}

static void reader_open(ReplState *st, Reader *rd, const char *history_file) {
    /* libedit turns the wide characters it edits back into bytes by the
     * C library's LC_CTYPE, which is ASCII until set. mini reads UTF-8
     * whatever the user's locale, and nothing else in mini depends on it. */
    setlocale(LC_CTYPE, "C.UTF-8");
    EditLine *el = el_init("mini", stdin, stdout, stderr);
    History *hist = history_init();
    if (!el || !hist) {
        if (el) el_end(el);
        if (hist) history_end(hist);
        return;
    }
    HistEvent ev;
    history(hist, &ev, H_SETSIZE, MINI_HISTORY_SIZE);
    history_read(hist, history_file);
    el_set(el, EL_CLIENTDATA, st);
    el_set(el, EL_PROMPT, current_prompt);
    el_set(el, EL_EDITOR, "emacs");
    el_set(el, EL_HIST, history, hist);
    /* The wide form: el_set copies narrow names into wide strings that
     * el_end never frees (LeakSanitizer reports them). */
    el_wset(el, EL_ADDFN, L"mini-complete", L"complete the word or indent", complete);
    el_set(el, EL_BIND, "^I", "mini-complete", NULL);
    /* Keep the terminal in libedit's mode between prompts: switching it
     * back and forth around each read lets a key typed in between be
     * eaten by the terminal's cooked mode (a Ctrl-D right after a prompt
     * was lost that way). */
    el_set(el, EL_PREP_TERM, 1);
    el_set(el, EL_GETCFN, read_key);
    rd->el = el;
    rd->hist = hist;
}

static void reader_close(Reader *rd, const char *history_file) {
    if (rd->el) {
        HistEvent ev;
        /* Nothing is saved when the file can't be written. */
        if (history_file) history(rd->hist, &ev, H_SAVE, history_file);
        el_set(rd->el, EL_PREP_TERM, 0);
        history_end(rd->hist);
        el_end(rd->el);
    }
    free(rd->plain);
}

void repl_run(TState *ts, bool banner) {
    Interp *interp = ts->interp;
    Value main = dict_get(ts, interp->modules, OBJ_VAL(str_intern_cstr(ts, "__main__")));
    if (!IS_OBJ(main) || !IS_MODULE(main)) main = module_run_source(ts, "", 0, "<stdin>", "__main__");
    if (IS_ERROR(main) || !set_default_prompts(ts)) return;
    vm_push(ts, main);
    ReplState st = {.ts = ts, .globals = AS_MODULE(main)->dict, .held_byte = -1, .bad_byte = -1};
    bool terminal = isatty(STDIN_FILENO);
    if (banner) print_banner(interp);

    char *history_file = terminal ? history_path() : NULL;
    Reader rd = {0};
    if (terminal) reader_open(&st, &rd, history_file);

    char *buf = NULL;
    size_t len = 0;
    for (;;) {
        if (len) set_prompt(&st, "ps2", "... ");
        else set_prompt(&st, "ps1", ">>> ");
        const char *line = read_line(&st, &rd);
        if (err_occurred(ts)) break;
        if (signals_take_sigint()) {
            /* Ctrl-C: drop what was typed so far. */
            fputs("\nKeyboardInterrupt\n", stdout);
            fflush(stdout);
            len = 0;
            if (rd.el) el_reset(rd.el);
            continue;
        }
        if (!line) {
            if (errno == EINTR) continue;
            if (rd.el) fputc('\n', stdout);
            else fputc('\n', stderr);
            break;
        }
        if (st.bad_byte >= 0) {
            len = 0;
            continue;
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
        if (rd.hist) {
            HistEvent ev;
            buf[len - 1] = '\0';
            if (len > 1) history(rd.hist, &ev, H_ENTER, buf);
            buf[len - 1] = '\n';
        }
        run_input(ts, st.globals, buf, len);
        len = 0;
        /* SystemExit is left pending: the caller exits with its status. */
        if (err_occurred(ts)) break;
    }
    free(buf);
    reader_close(&rd, history_file);
    free(history_file);
    vm_pop(ts);
}
