/* The mini command line: runs a script, a -c string, standard input, or
 * (on a terminal, with no script) the interactive prompt. */

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "grammar/arena.h"
#include "grammar/parse.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/file.h"
#include "runtime/function.h"
#include "runtime/int.h"
#include "runtime/list.h"
#include "runtime/module.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "vm/boot.h"
#include "vm/code.h"
#include "vm/compiler.h"
#include "vm/config.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/repl.h"
#include "vm/signals.h"
#include "vm/sync.h"
#include "vm/thread.h"
#include "vm/vm.h"

typedef struct Options {
    const char *command;  /* -c */
    const char *module;   /* -m */
    const char *script;   /* FILE, DIR or "-" for standard input */
    int script_argc;
    char **script_argv;
    int gil;              /* a GilDesign, -1 not given */
    bool dump_ast;
    bool disassemble;
    bool gc_stress;
    bool gil_stats;
    bool compare;              /* --gil=compare */
    int compare_count;         /* designs of --gil=compare=A,B,..., 0: on and off */
    GilDesign compare_designs[MINI_GIL_COMPARE_MAX];
    const char *gil_trace;     /* Chrome trace JSON path */
    const char *gil_timeline;  /* SVG path */
    bool inspect;              /* -i */
    bool quiet;                /* -q */
    bool unbuffered;           /* -u */
    bool ignore_environment;   /* -E, -I */
    bool isolated;             /* -I */
    bool dont_write_bytecode;  /* -B */
    int optimize;              /* -O, -OO */
    const char **warnoptions;  /* -W, in order */
    int warnoption_count;
} Options;

/* The help text; the man page (share/man/man1/mini.1) is generated from it
 * at build time (docs/man.cmake): a line ending in ':' at the left margin
 * starts a section there. */
static void usage(FILE *out) {
    fputs("usage: mini [option] ... [-c cmd | -m mod | file | dir | -] [arg] ...\n"
          "Options:\n"
          "  -c cmd         run the program passed in as a string (ends the options)\n"
          "  -m mod         run module mod (a package: its __main__) as the program, as\n"
          "                 python -m (ends the options)\n"
          "  -              read the program from standard input (also when it is a pipe)\n"
          "                 (with no program and a terminal: the interactive prompt)\n"
          "  -i             after running the program, open the interactive prompt with\n"
          "                 its globals (after an uncaught exception too, traceback first)\n"
          "  -q             no version banner at the interactive prompt\n"
          "  -u             unbuffered standard output and error (also MINI_UNBUFFERED)\n"
          "  -E             ignore the MINI* environment variables\n"
          "  -I             isolate: -E, and leave the program's folder off sys.path\n"
          "  -B, -O         accepted for CPython's sake: mini writes no bytecode files;\n"
          "                 -O sets sys.flags.optimize (asserts still run)\n"
          "  -W arg         a warning filter action:message:category:module:lineno\n"
          "                 (as python -W: -W error, -W ignore::DeprecationWarning)\n"
          "  -X opt         an implementation option; mini knows gil=DESIGN as --gil\n"
          "                 (gil=0 and gil=1 are --gil=off and --gil=on)\n"
          "  --gil=DESIGN   the global interpreter lock's design: mini (the default,\n"
          "                 also on), cpython (CPython 3.2+), legacy (CPython 2),\n"
          "                 fifo (strictly fair) or off (no GIL); also -X gil=DESIGN\n"
          "                 and the environment variable MINI_GIL=DESIGN (or 1|0)\n"
          "  --gil=compare  run the program twice, GIL on then off, and show the two\n"
          "                 outputs side by side with their wall times; both runs get\n"
          "                 the same standard input, and trace files get .on/.off\n"
          "                 before their extension (t.json: t.on.json, t.off.json)\n"
          "  --gil=compare=DESIGN,...  the same, once per design (t.cpython.json, ...)\n"
          "  --gil-trace=FILE.json     write each thread's running / waiting-for-GIL /\n"
          "                 blocked intervals as a Chrome trace (Perfetto, chrome://tracing)\n"
          "  --gil-timeline=FILE.svg  draw the same as an SVG timeline, a lane per thread\n"
          "                 (both include the threads of child processes)\n"
          "  --gil-stats    at exit, print per thread the time running and waiting for\n"
          "                 the GIL, acquisitions, longest wait, and the switch count\n"
          "  --dump-ast     print the syntax tree instead of running\n"
          "  --dis          print the bytecode instead of running\n"
          "  --gc-stress    collect garbage at every safepoint after an allocation (slow)\n"
          "  -V, --version  print the version and exit\n"
          "  -h, --help     print this help and exit\n"
          "Short options combine (-qi); a long option takes its value after '=' or\n"
          "as the next argument (--gil-trace FILE.json).\n"
          "Arguments:\n"
          "  file           the program to run; the args after it are sys.argv[1:]\n"
          "  dir            a folder holding __main__.mini or __main__.py: that file runs,\n"
          "                 with the folder first on sys.path\n"
          "Environment variables:\n"
          "  MINI_GIL=DESIGN     the GIL's design, as --gil; 0|1 off or on (a flag wins)\n"
          "  MINI_UNBUFFERED=x   a non-empty value acts as -u (so does PYTHONUNBUFFERED)\n"
          "  MINIWARNINGS=A,B    warning filters as -W (PYTHONWARNINGS), before -W's\n"
          "Exit status:\n"
          "  0 on success, 1 after an uncaught exception or a syntax error, 2 on a\n"
          "  usage error or a program file that can't be read, 130 after Ctrl-C\n"
          "  (KeyboardInterrupt), or the code given to sys.exit().\n",
          out);
}

static bool has_suffix(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n > k && strcmp(s + n - k, suffix) == 0;
}

static int usage_error(const char *fmt, const char *arg) {
    fputs("mini: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nusage: mini [option] ... [-c cmd | file | dir | -] [arg] ...\nTry `mini --help' for more information.\n",
          stderr);
    return 2;
}

static bool parse_gil(const char *value, int *out) {
    GilDesign design;
    if (!gil_design_parse(value, &design)) return false;
    *out = (int)design;
    return true;
}

/* "" or "=mini,cpython,off": what --gil=compare runs. */
static bool parse_compare(const char *list, Options *o) {
    o->compare = true;
    o->compare_count = 0;
    if (!*list) return true;
    char buf[128];
    if (strlen(list + 1) >= sizeof buf) return false;
    snprintf(buf, sizeof buf, "%s", list + 1);
    for (char *save = NULL, *name = strtok_r(buf, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        if (o->compare_count == MINI_GIL_COMPARE_MAX ||
            !gil_design_parse(name, &o->compare_designs[o->compare_count]))
            return false;
        o->compare_count++;
    }
    return o->compare_count > 0;
}

typedef enum LongOption {
    LONG_HELP,
    LONG_VERSION,
    LONG_GIL,
    LONG_GIL_TRACE,
    LONG_GIL_TIMELINE,
    LONG_GIL_STATS,
    LONG_DUMP_AST,
    LONG_DIS,
    LONG_GC_STRESS,
} LongOption;

static const struct {
    const char *name;
    bool takes_value;
    LongOption id;
} long_options[] = {
    {"help", false, LONG_HELP},
    {"version", false, LONG_VERSION},
    {"gil", true, LONG_GIL},
    {"gil-trace", true, LONG_GIL_TRACE},
    {"gil-timeline", true, LONG_GIL_TIMELINE},
    {"gil-stats", false, LONG_GIL_STATS},
    {"dump-ast", false, LONG_DUMP_AST},
    {"dis", false, LONG_DIS},
    {"gc-stress", false, LONG_GC_STRESS},
};

static int print_version(void) {
    printf("mini %s (Python %s semantics)\n", MINI_VERSION, MINI_LANGUAGE_VERSION);
    return 0;
}

/* One --name[=value] option at argv[*i] (GNU style: the value may also be
 * the next argument). Returns -1 to go on, else an exit status. */
static int parse_long_option(int argc, char **argv, int *i, Options *o) {
    const char *a = argv[*i] + 2;
    const char *eq = strchr(a, '=');
    size_t n = eq ? (size_t)(eq - a) : strlen(a);
    for (size_t k = 0; k < sizeof long_options / sizeof long_options[0]; k++) {
        if (strlen(long_options[k].name) != n || strncmp(long_options[k].name, a, n) != 0) continue;
        const char *value = NULL;
        if (long_options[k].takes_value) {
            if (eq) value = eq + 1;
            else if (*i + 1 < argc) value = argv[++*i];
            else return usage_error("option %s needs a value", argv[*i]);
        } else if (eq) {
            return usage_error("option --%s takes no value", long_options[k].name);
        }
        switch (long_options[k].id) {
        case LONG_HELP: usage(stdout); return 0;
        case LONG_VERSION: return print_version();
        case LONG_GIL:
            if (!strncmp(value, "compare", 7) && (value[7] == '\0' || value[7] == '=')) {
                if (!parse_compare(value + 7, o))
                    return usage_error("invalid --gil=compare list '%s' (use compare=DESIGN,DESIGN,...)", value + 7);
            } else if (!parse_gil(value, &o->gil))
                return usage_error("invalid --gil value '%s' (use mini, cpython, legacy, fifo, on, off or compare)", value);
            return -1;
        case LONG_GIL_TRACE:
        case LONG_GIL_TIMELINE:
            if (!*value) return usage_error("--%s needs a file name", long_options[k].name);
            /* What is written is JSON or SVG whatever the name says: a name
             * ending otherwise (x.png) is a mistake to report now. */
            if (!has_suffix(value, long_options[k].id == LONG_GIL_TRACE ? ".json" : ".svg"))
                return usage_error(long_options[k].id == LONG_GIL_TRACE
                                       ? "--gil-trace writes a Chrome trace (JSON): its file name must end in .json, not '%s'"
                                       : "--gil-timeline draws an SVG picture: its file name must end in .svg, not '%s'",
                                   value);
            if (long_options[k].id == LONG_GIL_TRACE) o->gil_trace = value;
            else o->gil_timeline = value;
            return -1;
        case LONG_GIL_STATS: o->gil_stats = true; return -1;
        case LONG_DUMP_AST: o->dump_ast = true; return -1;
        case LONG_DIS: o->disassemble = true; return -1;
        case LONG_GC_STRESS: o->gc_stress = true; return -1;
        }
    }
    return usage_error("unknown option %s", argv[*i]);
}

/* One cluster of short options at argv[*i] (-qi, -Wdefault, -X gil=0).
 * Returns -1 to go on, -2 when -c ended the options, else an exit status. */
static int parse_short_options(int argc, char **argv, int *i, Options *o) {
    const char *a = argv[*i];
    for (int j = 1; a[j]; j++) {
        char c = a[j];
        if (c == 'c' || c == 'm' || c == 'W' || c == 'X') {
            /* The value is the rest of this argument, or the next one. */
            const char *value = a[j + 1] ? a + j + 1 : NULL;
            if (!value) {
                if (*i + 1 >= argc) {
                    char msg[] = "Argument expected for the -? option";
                    *strchr(msg, '?') = c;
                    return usage_error("%s", msg);
                }
                value = argv[++*i];
            }
            if (c == 'c' || c == 'm') {
                if (c == 'c') o->command = value;
                else o->module = value;
                return -2;
            }
            if (c == 'W') {
                o->warnoptions[o->warnoption_count++] = value;
            } else if (strncmp(value, "gil=", 4) || !parse_gil(value + 4, &o->gil)) {
                return usage_error("unknown -X option '%s' (mini knows gil=DESIGN, gil=0 and gil=1)", value);
            }
            return -1;
        }
        switch (c) {
        case 'h': usage(stdout); return 0;
        case 'V': return print_version();
        case 'i': o->inspect = true; break;
        case 'q': o->quiet = true; break;
        case 'u': o->unbuffered = true; break;
        case 'E': o->ignore_environment = true; break;
        case 'I': o->isolated = o->ignore_environment = true; break;
        case 'B': o->dont_write_bytecode = true; break;
        case 'O': o->optimize++; break;
        default: {
            char opt[3] = {'-', c, '\0'};
            return usage_error("unknown option %s", opt);
        }
        }
    }
    return -1;
}

/* Returns -1 to go on, else an exit status. */
static int parse_options(int argc, char **argv, Options *o) {
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || !strcmp(a, "-")) break;
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        int r = a[1] == '-' ? parse_long_option(argc, argv, &i, o) : parse_short_options(argc, argv, &i, o);
        if (r == -2) {
            i++;
            break;
        }
        if (r >= 0) return r;
    }
    if (!o->command && !o->module && i < argc) o->script = argv[i++];
    o->script_argc = argc - i;
    o->script_argv = argv + i;
    return -1;
}

/* A program's own sys.excepthook reports an uncaught exception; when the
 * hook fails, both tracebacks print, as CPython's. False: the default. */
static bool run_excepthook(TState *ts, Value exc) {
    Value sys = ts->interp->sys_module;
    if (!IS_MODULE(sys) || !IS_EXCEPTION(exc)) return false;
    ObjDict *ns = AS_MODULE(sys)->dict;
    Value hook = dict_get_str(ns, str_intern_cstr(ts, "excepthook"));
    if (IS_EMPTY(hook) || hook == dict_get_str(ns, str_intern_cstr(ts, "__excepthook__"))) return false;
    vm_push(ts, exc);
    Value args[3] = {OBJ_VAL(OBJ_TYPE(exc)), exc, AS_EXCEPTION(exc)->traceback};
    Value r = vm_call(ts, hook, args, 3, NULL);
    file_flush_std(ts);
    if (IS_ERROR(r)) {
        Value err = err_fetch(ts);
        vm_push(ts, err);
        fputs("Error in sys.excepthook:\n", stderr);
        err_print(ts, err);
        fputs("\nOriginal exception was:\n", stderr);
        err_print(ts, exc);
        vm_pop(ts);
    }
    vm_pop(ts);
    return true;
}

/* The exit status for an uncaught exception: SystemExit carries its own. */
static int report_exception(TState *ts) {
    Value exc = err_fetch(ts);
    if (IS_EXCEPTION(exc) && type_is_subtype(OBJ_TYPE(exc), ts->interp->exc.SystemExit)) {
        Value args = AS_EXCEPTION(exc)->args;
        Value code = IS_TUPLE(args) && AS_TUPLE(args)->len > 0 ? AS_TUPLE(args)->items[0] : NONE_VAL;
        if (IS_NONE(code)) return 0;
        int64_t status;
        if (IS_INT(code) || IS_BOOL(code)) {
            status = IS_INT(code) ? AS_INT(code) : AS_BOOL(code);
            return (int)(status & 0xff);
        }
        Value msg = ops_str(ts, code);
        file_flush_std(ts);
        if (IS_STR(msg)) fprintf(stderr, "%s\n", AS_STR(msg)->data);
        else err_clear(ts);
        return 1;
    }
    file_flush_std(ts);
    if (!run_excepthook(ts, exc)) err_print(ts, exc);
    if (IS_EXCEPTION(exc) && type_is_subtype(OBJ_TYPE(exc), ts->interp->exc.KeyboardInterrupt)) return 130;
    return 1;
}

static int debug_output(TState *ts, const Options *o, const char *source, size_t len, const char *filename) {
    Arena arena;
    arena_init(&arena);
    ParseResult pr = parse_module(&arena, filename, source, len);
    int status = 0;
    if (pr.status != PARSE_OK) {
        parse_print_error(&pr.error, filename, source, len, stderr);
        status = 1;
    } else if (o->dump_ast) {
        ast_dump(pr.ast, stdout);
        putchar('\n');
    } else {
        SyntaxErrorInfo err;
        ObjCode *code = compile_module(ts, pr.ast, filename, COMPILE_MODULE, &err);
        if (code) {
            code_disassemble(code, stdout);
        } else if (err.msg[0]) {
            parse_print_error(&err, filename, source, len, stderr);
            status = 1;
        } else {
            status = report_exception(ts);
        }
    }
    arena_free(&arena);
    return status;
}

/* Calls module.function() if the program imported the module; an error it
 * raises is reported and becomes the exit status unless one is set. */
static int run_exit_hook(TState *ts, int status, ObjStr *module, ObjStr *function) {
    Interp *interp = ts->interp;
    Value m = dict_get(ts, interp->modules, OBJ_VAL(module));
    if (!IS_OBJ(m)) return status;
    Value hook = ops_getattr_opt(ts, m, function);
    if (!IS_OBJ(hook)) return status;
    Value r = vm_call(ts, hook, NULL, 0, NULL);
    if (IS_ERROR(r)) {
        int s = report_exception(ts);
        return status ? status : s;
    }
    return status;
}

/* Python's exit, in CPython's order: threading's shutdown (its own
 * _register_atexit hooks, then wait for every non-daemon thread), then the
 * atexit module's handlers, each only if the program imported the module. */
static int finish_threads(TState *ts, int status) {
    Interp *interp = ts->interp;
    status = run_exit_hook(ts, status, interp->names.threading, interp->names.shutdown);
    return run_exit_hook(ts, status, interp->names.atexit, interp->names.run_exitfuncs);
}

/* PATH with ".LABEL" before its extension (t.json -> t.on.json), for a
 * --gil=compare run's own trace file; malloc'd, in the child. */
static char *suffixed(const char *path, const char *label) {
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    size_t stem = dot && (!slash || dot > slash + 1) ? (size_t)(dot - path) : strlen(path);
    size_t n = strlen(path) + strlen(label) + 2;
    char *out = malloc(n);
    if (out) snprintf(out, n, "%.*s.%s%s", (int)stem, path, label, path + stem);
    return out;
}

/* Runs this binary on the same program with the GIL on or off; returns
 * its stdout (malloc'd) and sets *seconds and *status. Options up to
 * argv[options_end] are mini's: the trace and timeline files among them get
 * the mode in their names. stdin_fd: the captured standard input, or -1. */
static char *run_mode(char **argv, int argc, int options_end, int stdin_fd, const char *mode, const char *label,
                      double *seconds, int *status) {
    int fds[2];
    if (pipe(fds) != 0) return NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (stdin_fd >= 0 && lseek(stdin_fd, 0, SEEK_SET) != 0) return NULL;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        if (stdin_fd >= 0) dup2(stdin_fd, STDIN_FILENO);
        char **args = calloc((size_t)argc + 2, sizeof *args);
        if (!args) _exit(127);
        int n = 0;
        args[n++] = "/proc/self/exe";
        args[n++] = (char *)mode;
        for (int i = 1; i < argc; i++) {
            char *a = argv[i];
            if (i < options_end && !strncmp(a, "--gil=compare", 13)) continue;
            bool path_next = i > 1 && i < options_end &&
                             (!strcmp(argv[i - 1], "--gil-trace") || !strcmp(argv[i - 1], "--gil-timeline"));
            char *eq = i < options_end && (!strncmp(a, "--gil-trace=", 12) || !strncmp(a, "--gil-timeline=", 15))
                           ? strchr(a, '=') + 1
                           : NULL;
            if (path_next) a = suffixed(a, label);
            else if (eq) {
                char *path = suffixed(eq, label);
                size_t size = (size_t)(eq - argv[i]) + (path ? strlen(path) : 0) + 1;
                a = path ? malloc(size) : NULL;
                if (a) snprintf(a, size, "%.*s%s", (int)(eq - argv[i]), argv[i], path);
            }
            if (!a) _exit(127);
            args[n++] = a;
        }
        execv("/proc/self/exe", args);
        _exit(127);
    }
    close(fds[1]);
    size_t len = 0;
    FILE *in = fdopen(fds[0], "r");
    char *out = in ? file_slurp(in, &len) : NULL;
    if (in) fclose(in);
    int st = 0;
    if (pid > 0) waitpid(pid, &st, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    *seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (out) out[len] = '\0';
    return out;
}

static size_t display_width(const char *s, size_t n) {
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) w++;
    return w;
}

/* One cell of --gil=compare's table: padded to width and a separator, or
 * the last of its row. */
static void print_cell(const char *text, size_t width, bool last) {
    if (last) printf("%s\n", text);
    else printf("%-*s | ", (int)width, text);
}

/* --gil=compare: the two runs' output lines side by side. Standard input
 * (and with it a program read from "-") is read once and given to both. */
static int compare_modes(int argc, char **argv, const Options *o) {
    if (!o->script && !o->command && isatty(STDIN_FILENO))
        return usage_error("--gil=compare needs a program (a file, -c CMD, or %s on standard input)", "one");
    int stdin_fd = -1;
    FILE *captured = NULL;
    if (!isatty(STDIN_FILENO)) {
        captured = tmpfile();
        size_t len = 0;
        char *all = captured ? file_slurp(stdin, &len) : NULL;
        if (!all || fwrite(all, 1, len, captured) != len || fflush(captured) != 0) {
            fputs("mini: --gil=compare could not capture standard input\n", stderr);
            free(all);
            if (captured) fclose(captured);
            return 1;
        }
        free(all);
        stdin_fd = fileno(captured);
    }
    int options_end = (int)(o->script_argv - argv);
    /* Each run: its --gil= flag, its column header, its files' label. */
    int runs = o->compare_count ? o->compare_count : 2;
    char modes[MINI_GIL_COMPARE_MAX][32], headers[MINI_GIL_COMPARE_MAX][32];
    const char *labels[MINI_GIL_COMPARE_MAX];
    char *outs[MINI_GIL_COMPARE_MAX] = {NULL};
    double seconds[MINI_GIL_COMPARE_MAX];
    int statuses[MINI_GIL_COMPARE_MAX];
    bool ran = true;
    for (int r = 0; r < runs; r++) {
        labels[r] = o->compare_count ? gil_design_name(o->compare_designs[r]) : r == 0 ? "on" : "off";
        snprintf(modes[r], sizeof modes[r], "--gil=%s", labels[r]);
        snprintf(headers[r], sizeof headers[r], "GIL %s", labels[r]);
        outs[r] = run_mode(argv, argc, options_end, stdin_fd, modes[r], labels[r], &seconds[r], &statuses[r]);
        if (!outs[r]) ran = false;
    }
    if (captured) fclose(captured);
    if (!ran) {
        fputs("mini: --gil=compare could not run the program\n", stderr);
        for (int r = 0; r < runs; r++) free(outs[r]);
        return 1;
    }
    /* Every column but the last is as wide as its widest line. */
    char footers[MINI_GIL_COMPARE_MAX][64];
    size_t widths[MINI_GIL_COMPARE_MAX];
    for (int r = 0; r < runs; r++) {
        snprintf(footers[r], sizeof footers[r], "wall %.2f s, exit %d", seconds[r], statuses[r]);
        widths[r] = 10;
        for (const char *p = outs[r]; *p;) {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            if (display_width(p, n) > widths[r]) widths[r] = display_width(p, n);
            p += n + (nl != NULL);
        }
        if (r < runs - 1 && strlen(footers[r]) > widths[r]) widths[r] = strlen(footers[r]);
    }
    for (int r = 0; r < runs; r++) print_cell(headers[r], widths[r], r == runs - 1);
    for (int r = 0; r < runs; r++) {
        for (size_t i = 0; i < (r < runs - 1 ? widths[r] : 20); i++) putchar('-');
        fputs(r < runs - 1 ? "-+-" : "\n", stdout);
    }
    const char *at[MINI_GIL_COMPARE_MAX];
    for (int r = 0; r < runs; r++) at[r] = outs[r];
    for (;;) {
        bool more = false;
        for (int r = 0; r < runs; r++) more = more || *at[r];
        if (!more) break;
        for (int r = 0; r < runs; r++) {
            const char *nl = strchr(at[r], '\n');
            size_t n = nl ? (size_t)(nl - at[r]) : strlen(at[r]);
            if (r < runs - 1) printf("%.*s%*s | ", (int)n, at[r], (int)(widths[r] - display_width(at[r], n)), "");
            else printf("%.*s\n", (int)n, at[r]);
            at[r] += n + (nl != NULL);
        }
    }
    for (int r = 0; r < runs - 1; r++) printf("%-*s | ", (int)widths[r], "");
    putchar('\n');
    int status = 0;
    for (int r = 0; r < runs; r++) {
        print_cell(footers[r], widths[r], r == runs - 1);
        if (!status) status = statuses[r];
        free(outs[r]);
    }
    return status;
}

/* The file to run for `mini DIR`: DIR/__main__.mini, else DIR/__main__.py
 * (malloc'd), or NULL. */
static char *main_in_dir(const char *dir) {
    static const char *names[] = {"__main__.mini", "__main__.py"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t n = strlen(dir) + strlen(names[i]) + 2;
        char *path = malloc(n);
        if (!path) return NULL;
        snprintf(path, n, "%s/%s", dir, names[i]);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) return path;
        free(path);
    }
    return NULL;
}

static bool is_zip_archive(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    unsigned char magic[4] = {0};
    bool zip = fread(magic, 1, 4, f) == 4 && !memcmp(magic, "PK\x03\x04", 4);
    fclose(f);
    return zip;
}

/* Reads the program into *source; returns -1 on success, else an exit
 * status (after a message). *filename is what tracebacks show. */
static int read_program(const Options *o, const char *run_path, char **source, size_t *len, const char **filename) {
    if (o->command) {
        *filename = "<string>";
        *len = strlen(o->command);
        *source = malloc(*len + 1);
        if (*source) memcpy(*source, o->command, *len + 1);
    } else if (!run_path) {
        *filename = "<stdin>";
        *source = file_slurp(stdin, len);
    } else {
        *filename = run_path;
        FILE *f = fopen(run_path, "rb");
        *source = f ? file_slurp(f, len) : NULL;
        int err = errno;
        if (f) fclose(f);
        if (!*source) {
            fprintf(stderr, "mini: can't open file '%s': [Errno %d] %s\n", run_path, err, strerror(err));
            return 2;
        }
    }
    if (!*source) {
        fprintf(stderr, "mini: cannot read the program: %s\n", strerror(errno));
        return 1;
    }
    return -1;
}

/* The prompt after the program (-i) or instead of it; its status. */
static int interactive(TState *ts, const Options *o, bool banner) {
    repl_run(ts, banner && !o->quiet);
    return err_occurred(ts) ? report_exception(ts) : 0;
}

/* The end of every run, a session at the prompt included: the program's
 * threads, then --gil-stats, --gil-trace and --gil-timeline, then the
 * interpreter. */
static int finish_run(TState *ts, const Options *o, int status) {
    Interp *interp = ts->interp;
    if (status == 130) {
        /* After Ctrl-C, don't wait for worker threads: leave now; stop the
         * child processes rather than wait for them. */
        run_exit_hook(ts, status, interp->names.mp_process, interp->names.exit_after_interrupt);
        run_exit_hook(ts, status, interp->names.atexit, interp->names.run_exitfuncs);
    } else {
        status = finish_threads(ts, status);
    }
    gc_finalize_all(ts);
    file_flush_std(ts);
    if (o->gil_stats || interp->tracing) thread_wait_teardown(ts);
    if (o->gil_stats) gil_print_stats(interp, ts, stderr);
    if (interp->tracing && !trace_write(interp, o->gil_trace, o->gil_timeline) && status == 0) status = 1;
    /* Threads that ended are joined (sanitizers count an unjoined one as
     * leaked). Daemon threads may still run: tearing the interpreter down
     * under them would pull their objects away, so leave that to the OS. */
    thread_exiting(interp);
    MUTEX_LOCK(&interp->threads_lock);
    bool others = interp->thread_count > 1;
    MUTEX_UNLOCK(&interp->threads_lock);
    if (others) _exit(status);
    interp_free(interp);
    return status;
}

int main(int argc, char **argv) {
    /* -W values point into argv; at most one per argument. */
    const char *warnoptions[argc];
    Options o = {.gil = -1, .warnoptions = warnoptions};
    int status = parse_options(argc, argv, &o);
    if (status >= 0) return status;
    if (o.compare && o.gil >= 0)
        return usage_error("--gil=compare runs the program with the GIL on and off: drop --gil=%s",
                           gil_design_name((GilDesign)o.gil));
    if (o.compare) return compare_modes(argc, argv, &o);
    if (!o.ignore_environment) {
        const char *env = getenv("MINI_GIL");
        if (o.gil < 0 && env && *env && !parse_gil(env, &o.gil)) {
            fprintf(stderr, "mini: invalid MINI_GIL value '%s' (use 0, 1 or a --gil design)\n", env);
            return 2;
        }
        /* PYTHONUNBUFFERED too: the same scripts run under python3, often
         * with it set, and their stdout and stderr should interleave alike. */
        const char *unbuffered[] = {"MINI_UNBUFFERED", "PYTHONUNBUFFERED"};
        for (size_t i = 0; i < sizeof unbuffered / sizeof *unbuffered; i++) {
            env = getenv(unbuffered[i]);
            if (env && *env) o.unbuffered = true;
        }
    }

    /* The program file, and sys.path[0]: its folder (a DIR itself), or the
     * current one for -c, standard input and the prompt; none with -I. */
    char *run_path = NULL;
    char folder[PATH_MAX];
    snprintf(folder, sizeof folder, ".");
    if (o.module && !getcwd(folder, sizeof folder)) snprintf(folder, sizeof folder, ".");
    if (o.script && strcmp(o.script, "-") != 0) {
        struct stat st;
        if (stat(o.script, &st) == 0 && S_ISDIR(st.st_mode)) {
            run_path = main_in_dir(o.script);
            if (!run_path) {
                fprintf(stderr, "mini: can't find '__main__' module in '%s'\n", o.script);
                return 1;
            }
            snprintf(folder, sizeof folder, "%s", o.script);
        } else if (is_zip_archive(o.script)) {
            fprintf(stderr, "mini: can't run '%s': mini does not run zip archives (see docs/language.md)\n",
                    o.script);
            return 2;
        } else {
            /* The script's folder made absolute, as CPython's sys.path[0]. */
            run_path = strdup(o.script);
            /* dirname works in place: on a copy of the path. */
            char given[PATH_MAX];
            snprintf(given, sizeof given, "%s", o.script);
            if (!realpath(dirname(given), folder)) {
                snprintf(given, sizeof given, "%s", o.script);
                snprintf(folder, sizeof folder, "%s", dirname(given));
            }
        }
        if (!run_path) {
            fputs("mini: out of memory\n", stderr);
            return 1;
        }
    }

    Interp *interp = interp_new(o.gil < 0 ? GIL_DESIGN_MINI : (GilDesign)o.gil);
    if (!interp) {
        fputs("mini: cannot create the interpreter (out of memory)\n", stderr);
        return 1;
    }
    if (o.gc_stress) interp->gc.stress = true;
    interp->gil_stats = o.gil_stats;
    interp->unbuffered_std = o.unbuffered;
    if (o.gil_trace || o.gil_timeline) trace_start(interp);
    TState *ts = interp->main_thread;
    signals_install(interp);
    BootConfig boot = {
        .argv0 = argv[0],
        .script_name = o.command ? "-c" : o.module ? "-m" : o.script ? o.script : "",
        .argc = o.script_argc,
        .argv = o.script_argv,
        .path0 = o.isolated ? NULL : folder,
        .inspect = o.inspect,
        .quiet = o.quiet,
        .ignore_environment = o.ignore_environment,
        .isolated = o.isolated,
        .optimize = o.optimize,
        .warnoptions = o.warnoptions,
        .warnoption_count = o.warnoption_count,
        .orig_argc = argc,
        .orig_argv = argv,
    };
    if (!boot_interp(ts, &boot)) {
        status = report_exception(ts);
        interp_free(interp);
        return status;
    }

    if (!o.command && !o.script && isatty(STDIN_FILENO) && !o.dump_ast && !o.disassemble)
        return finish_run(ts, &o, interactive(ts, &o, true));

    char *source = NULL;
    size_t len = 0;
    const char *filename = NULL;
    status = o.module ? -1 : read_program(&o, run_path, &source, &len, &filename);
    if (status >= 0) {
        free(run_path);
        interp_free(interp);
        return status;
    }

    if (o.module) {
        /* As runpy: the module (a package's __main__) runs as __main__; one
         * that cannot be found is a one-line message. */
        bool not_found;
        Value r = module_run_main(ts, o.module, true, &not_found);
        if (IS_ERROR(r) && not_found) {
            Value msg = ops_str(ts, err_fetch(ts));
            fprintf(stderr, "mini: %s\n", IS_STR(msg) ? AS_STR(msg)->data : "cannot run the module");
            err_clear(ts);
            status = 1;
        } else {
            status = IS_ERROR(r) ? report_exception(ts) : 0;
        }
    } else if (o.dump_ast || o.disassemble) {
        status = debug_output(ts, &o, source, len, filename);
    } else {
        Value r = module_run_source(ts, source, len, filename, "__main__");
        if (IS_ERROR(r) && o.inspect) {
            /* -i shows even a SystemExit's traceback, then the prompt. */
            Value exc = err_fetch(ts);
            file_flush_std(ts);
            err_print(ts, exc);
        }
        status = IS_ERROR(r) && !o.inspect ? report_exception(ts) : 0;
    }
    free(source);
    free(run_path);
    /* -i: the prompt opens whatever happened, as in CPython. */
    if (o.inspect && !o.dump_ast && !o.disassemble) status = interactive(ts, &o, false);
    return finish_run(ts, &o, status);
}
