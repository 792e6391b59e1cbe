/* The mini command line: runs a script, a -c string, standard input, or
 * (on a terminal, with no script) the interactive prompt. */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
#include "vm/interp.h"
#include "vm/repl.h"
#include "vm/signals.h"
#include "vm/sync.h"
#include "vm/thread.h"
#include "vm/vm.h"

typedef struct Options {
    const char *command;  /* -c */
    const char *script;   /* FILE, or "-" for standard input */
    int script_argc;
    char **script_argv;
    int gil;              /* 1 on, 0 off, -1 not given */
    bool dump_ast;
    bool disassemble;
    bool gc_stress;
    bool gil_stats;
    bool compare;              /* --gil=compare */
    const char *gil_trace;     /* Chrome trace JSON path */
    const char *gil_timeline;  /* SVG path */
} Options;

static void usage(FILE *out) {
    fputs("usage: mini [option] ... [-c cmd | file | -] [arg] ...\n"
          "Options:\n"
          "  -c cmd         run the program passed in as a string\n"
          "  -              read the program from standard input (also when it is a pipe)\n"
          "                 (with no program and a terminal: the interactive prompt)\n"
          "  --gil=on|off   run with the global interpreter lock on (default) or off;\n"
          "                 also -X gil=1|0 and the environment variable MINI_GIL=1|0\n"
          "  -X gil=0|1     the same as --gil=off|on\n"
          "  --gil=compare  run the program twice, GIL on then off, and show the two\n"
          "                 outputs side by side with their wall times\n"
          "  --gil-trace=FILE.json     write each thread's running / waiting-for-GIL /\n"
          "                 blocked intervals as a Chrome trace (Perfetto, chrome://tracing)\n"
          "  --gil-timeline=FILE.svg  draw the same as an SVG timeline, a lane per thread\n"
          "                 (both include the threads of child processes)\n"
          "  --gil-stats    at exit, print per thread the time running and waiting for\n"
          "                 the GIL, acquisitions, longest wait, and the switch count\n"
          "  --dump-ast     print the syntax tree instead of running\n"
          "  --dis          print the bytecode instead of running\n"
          "  --gc-stress    collect garbage at every safepoint after an allocation (slow)\n"
          "  --version      print the version and exit\n"
          "  -h, --help     print this help and exit\n"
          "file             the program to run; the args after it are sys.argv[1:]\n"
          "\n"
          "Exit status: 0 on success, 1 after an uncaught exception or a syntax\n"
          "error, 2 on a usage error, the code given to sys.exit().\n",
          out);
}

static int usage_error(const char *fmt, const char *arg) {
    fputs("mini: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nusage: mini [option] ... [-c cmd | file | -] [arg] ...\nTry `mini --help' for more information.\n",
          stderr);
    return 2;
}

static bool parse_gil(const char *value, int *out) {
    if (!strcmp(value, "on") || !strcmp(value, "1")) *out = 1;
    else if (!strcmp(value, "off") || !strcmp(value, "0")) *out = 0;
    else return false;
    return true;
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
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
            printf("mini %s (Python %s semantics)\n", MINI_VERSION, MINI_LANGUAGE_VERSION);
            return 0;
        }
        if (!strcmp(a, "-c")) {
            if (i + 1 >= argc) return usage_error("%s", "Argument expected for the -c option");
            o->command = argv[++i];
            i++;
            break;
        }
        if (!strcmp(a, "--gil=compare")) {
            o->compare = true;
            continue;
        }
        if (!strncmp(a, "--gil=", 6)) {
            if (!parse_gil(a + 6, &o->gil))
                return usage_error("invalid --gil value '%s' (use on, off or compare)", a + 6);
            continue;
        }
        if (!strcmp(a, "-X")) {
            if (i + 1 >= argc) return usage_error("%s", "Argument expected for the -X option");
            const char *x = argv[++i];
            if (strncmp(x, "gil=", 4) || !parse_gil(x + 4, &o->gil))
                return usage_error("unknown -X option '%s' (mini knows gil=0 and gil=1)", x);
            continue;
        }
        if (!strncmp(a, "--gil-trace=", 12) || !strncmp(a, "--gil-timeline=", 15)) {
            const char *path = strchr(a, '=') + 1;
            if (!*path) return usage_error("%s needs a file name", a);
            if (a[6] == 't' && a[7] == 'r') o->gil_trace = path;
            else o->gil_timeline = path;
            continue;
        }
        if (!strcmp(a, "--gil-stats")) {
            o->gil_stats = true;
            continue;
        }
        if (!strcmp(a, "--dump-ast")) {
            o->dump_ast = true;
            continue;
        }
        if (!strcmp(a, "--dis")) {
            o->disassemble = true;
            continue;
        }
        if (!strcmp(a, "--gc-stress")) {
            o->gc_stress = true;
            continue;
        }
        return usage_error("unknown option %s", a);
    }
    if (!o->command && i < argc) o->script = argv[i++];
    o->script_argc = argc - i;
    o->script_argv = argv + i;
    return -1;
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
    err_print(ts, exc);
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
static int run_exit_hook(TState *ts, int status, const char *module, const char *function) {
    Interp *interp = ts->interp;
    Value m = dict_get(ts, interp->modules, OBJ_VAL(str_intern_cstr(ts, module)));
    if (!IS_OBJ(m)) return status;
    Value hook = ops_getattr_opt(ts, m, str_intern_cstr(ts, function));
    if (!IS_OBJ(hook)) return status;
    Value r = vm_call(ts, hook, NULL, 0, NULL);
    if (IS_ERROR(r)) {
        int s = report_exception(ts);
        return status ? status : s;
    }
    return status;
}

/* Python's exit: run threading's shutdown (atexit hooks, then wait for
 * every non-daemon thread), if the program used threading. */
static int finish_threads(TState *ts, int status) { return run_exit_hook(ts, status, "threading", "_shutdown"); }

/* Runs this binary on the same program with the GIL on or off; returns
 * its stdout (malloc'd) and sets *seconds and *status. */
static char *run_mode(char **argv, int argc, const char *mode, double *seconds, int *status) {
    int fds[2];
    if (pipe(fds) != 0) return NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        char **args = calloc((size_t)argc + 2, sizeof *args);
        if (!args) _exit(127);
        int n = 0;
        args[n++] = "/proc/self/exe";
        args[n++] = (char *)mode;
        for (int i = 1; i < argc; i++)
            if (strcmp(argv[i], "--gil=compare") != 0) args[n++] = argv[i];
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

/* --gil=compare: the two runs' output lines side by side. */
static int compare_modes(int argc, char **argv) {
    double t_on, t_off;
    int s_on, s_off;
    char *on = run_mode(argv, argc, "--gil=on", &t_on, &s_on);
    char *off = run_mode(argv, argc, "--gil=off", &t_off, &s_off);
    if (!on || !off) {
        fputs("mini: --gil=compare could not run the program\n", stderr);
        free(on);
        free(off);
        return 1;
    }
    size_t width = 10;
    for (const char *p = on; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (display_width(p, n) > width) width = display_width(p, n);
        p += n + (nl != NULL);
    }
    printf("%-*s | %s\n", (int)width, "GIL on", "GIL off");
    for (size_t i = 0; i < width; i++) putchar('-');
    puts("-+-" "--------------------");
    const char *a = on, *b = off;
    while (*a || *b) {
        const char *na = strchr(a, '\n'), *nb = strchr(b, '\n');
        size_t la = na ? (size_t)(na - a) : strlen(a), lb = nb ? (size_t)(nb - b) : strlen(b);
        printf("%.*s%*s | %.*s\n", (int)la, a, (int)(width - display_width(a, la)), "", (int)lb, b);
        a += la + (na != NULL);
        b += lb + (nb != NULL);
    }
    printf("%-*s | %s\n", (int)width, "", "");
    char left[64];
    snprintf(left, sizeof left, "wall %.2f s, exit %d", t_on, s_on);
    printf("%-*s | wall %.2f s, exit %d\n", (int)width, left, t_off, s_off);
    free(on);
    free(off);
    return s_on ? s_on : s_off;
}

int main(int argc, char **argv) {
    Options o = {.gil = -1};
    int status = parse_options(argc, argv, &o);
    if (status >= 0) return status;
    if (o.compare) return compare_modes(argc, argv);
    if (o.gil < 0) {
        const char *env = getenv("MINI_GIL");
        if (env && *env && !parse_gil(env, &o.gil)) {
            fprintf(stderr, "mini: invalid MINI_GIL value '%s' (use 0 or 1)\n", env);
            return 2;
        }
    }
    Interp *interp = interp_new(o.gil != 0);
    if (!interp) {
        fputs("mini: cannot create the interpreter (out of memory)\n", stderr);
        return 1;
    }
    if (o.gc_stress) interp->gc.stress = true;
    interp->gil_stats = o.gil_stats;
    if (o.gil_trace || o.gil_timeline) trace_start(interp);
    TState *ts = interp->main_thread;
    signals_install(interp);
    const char *script_name = o.command ? "-c" : o.script ? o.script : "";
    const char *script_path = o.script && strcmp(o.script, "-") != 0 ? o.script : NULL;
    if (!boot_interp(ts, argv[0], script_name, script_path, o.script_argc, o.script_argv)) {
        status = report_exception(ts);
        interp_free(interp);
        return status;
    }

    if (!o.command && !o.script && isatty(STDIN_FILENO) && !o.dump_ast && !o.disassemble) {
        repl_run(ts);
        status = err_occurred(ts) ? report_exception(ts) : 0;
        status = finish_threads(ts, status);
        file_flush_std(ts);
        interp_free(interp);
        return status;
    }

    char *source = NULL;
    size_t len = 0;
    const char *filename;
    if (o.command) {
        filename = "<string>";
        len = strlen(o.command);
        source = malloc(len + 1);
        if (source) memcpy(source, o.command, len + 1);
    } else if (!o.script || !strcmp(o.script, "-")) {
        filename = "<stdin>";
        source = file_slurp(stdin, &len);
    } else {
        filename = o.script;
        FILE *f = fopen(o.script, "rb");
        source = f ? file_slurp(f, &len) : NULL;
        int err = errno;
        if (f) fclose(f);
        if (!source) {
            fprintf(stderr, "mini: can't open file '%s': [Errno %d] %s\n", o.script, err, strerror(err));
            interp_free(interp);
            return 2;
        }
    }
    if (!source) {
        fprintf(stderr, "mini: cannot read the program: %s\n", strerror(errno));
        interp_free(interp);
        return 1;
    }

    if (o.dump_ast || o.disassemble) {
        status = debug_output(ts, &o, source, len, filename);
    } else {
        Value r = module_run_source(ts, source, len, filename, "__main__");
        status = IS_ERROR(r) ? report_exception(ts) : 0;
    }
    free(source);
    /* After Ctrl-C, don't wait for worker threads: leave now; stop the
     * child processes rather than wait for them. */
    if (status == 130) run_exit_hook(ts, status, "multiprocessing.process", "_exit_after_interrupt");
    else status = finish_threads(ts, status);
    file_flush_std(ts);
    if (o.gil_stats || interp->tracing) thread_wait_teardown(interp);
    if (o.gil_stats) gil_print_stats(interp, ts, stderr);
    if (interp->tracing && !trace_write(interp, o.gil_trace, o.gil_timeline) && status == 0) status = 1;
    /* Daemon threads may still run: tearing the interpreter down under
     * them would pull their objects away, so leave that to the OS. */
    MUTEX_LOCK(&interp->threads_lock);
    bool others = interp->thread_count > 1;
    MUTEX_UNLOCK(&interp->threads_lock);
    if (others) _exit(status);
    interp_free(interp);
    return status;
}
