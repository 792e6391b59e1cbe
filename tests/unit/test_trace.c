/* --gil-trace and --gil-timeline: the JSON file parses (a small strict
 * JSON reader below) and names one track per thread; the SVG is
 * well-formed XML (balanced tags) with one lane per thread, child
 * processes' threads included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf) buf[n] = '\0';
    fclose(f);
    return buf;
}

static int run_mini(const char *flags_json, const char *flags_svg, const char *script) {
    pid_t pid = fork();
    if (pid == 0) {
        execl(MINI_BINARY, MINI_BINARY, flags_json, flags_svg, script, (char *)NULL);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ---- a strict JSON reader: true if the text is one valid value -------- */

static const char *ws(const char *p) {
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') p++;
    return p;
}

static const char *value(const char *p, int depth);

static const char *string(const char *p) {
    if (*p != '"') return NULL;
    for (p++; *p != '"'; p++) {
        if (!*p || (unsigned char)*p < 0x20) return NULL;
        if (*p == '\\') {
            p++;
            if (*p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!isxdigit((unsigned char)p[i])) return NULL;
                p += 4;
            } else if (!strchr("\"\\/bfnrt", *p)) {
                return NULL;
            }
        }
    }
    return p + 1;
}

static const char *number(const char *p) {
    const char *start = p;
    if (*p == '-') p++;
    if (!isdigit((unsigned char)*p)) return NULL;
    while (isdigit((unsigned char)*p)) p++;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p)) return NULL;
        while (isdigit((unsigned char)*p)) p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!isdigit((unsigned char)*p)) return NULL;
        while (isdigit((unsigned char)*p)) p++;
    }
    return p > start ? p : NULL;
}

static const char *container(const char *p, int depth, char close, bool object) {
    p = ws(p + 1);
    if (*p == close) return p + 1;
    for (;;) {
        if (object) {
            p = string(ws(p));
            if (!p) return NULL;
            p = ws(p);
            if (*p++ != ':') return NULL;
        }
        p = value(p, depth + 1);
        if (!p) return NULL;
        p = ws(p);
        if (*p == close) return p + 1;
        if (*p++ != ',') return NULL;
    }
}

static const char *value(const char *p, int depth) {
    if (depth > 64) return NULL;
    p = ws(p);
    switch (*p) {
    case '{': return container(p, depth, '}', true);
    case '[': return container(p, depth, ']', false);
    case '"': return string(p);
    case 't': return strncmp(p, "true", 4) ? NULL : p + 4;
    case 'f': return strncmp(p, "false", 5) ? NULL : p + 5;
    case 'n': return strncmp(p, "null", 4) ? NULL : p + 4;
    default: return number(p);
    }
}

static int count(const char *text, const char *needle) {
    int n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

/* Balanced tags: every <x ...> closes with </x> in order, or is <x/>. */
static bool well_formed_xml(const char *p) {
    char stack[64][32];
    int depth = 0;
    bool root_seen = false;
    while ((p = strchr(p, '<'))) {
        if (p[1] == '?') {
            p = strstr(p, "?>");
            if (!p) return false;
            continue;
        }
        const char *end = strchr(p, '>');
        if (!end) return false;
        if (p[1] == '/') {
            size_t n = strcspn(p + 2, " >");
            if (depth == 0 || strlen(stack[depth - 1]) != n || strncmp(stack[depth - 1], p + 2, n)) return false;
            depth--;
        } else if (end[-1] != '/') {
            size_t n = strcspn(p + 1, " />\n");
            if (depth == 64 || n >= 32 || (depth == 0 && root_seen)) return false;
            memcpy(stack[depth], p + 1, n);
            stack[depth][n] = '\0';
            depth++;
            root_seen = true;
        }
        p = end + 1;
    }
    return depth == 0 && root_seen;
}

typedef struct Span {
    int tid;
    double start, end;
} Span;

static int by_start(const void *a, const void *b) {
    double x = ((const Span *)a)->start, y = ((const Span *)b)->start;
    return x < y ? -1 : x > y;
}

/* With the GIL on, no two threads run at once: the "running" spans of
 * different threads never overlap (a holder records its change before it
 * releases the GIL, the next one after it acquires). */
static void assert_exclusive_running(const char *json) {
    size_t cap = 1024, n = 0;
    Span *spans = malloc(cap * sizeof *spans);
    assert_non_null(spans);
    for (const char *p = strstr(json, "\"name\": \"running\""); p; p = strstr(p + 1, "\"name\": \"running\"")) {
        Span sp;
        const char *tid = strstr(p, "\"tid\": "), *ts = strstr(p, "\"ts\": "), *dur = strstr(p, "\"dur\": ");
        assert_non_null(tid);
        assert_non_null(ts);
        assert_non_null(dur);
        sp.tid = atoi(tid + 7);
        sp.start = atof(ts + 6);
        sp.end = sp.start + atof(dur + 7);
        if (n == cap) {
            cap *= 2;
            spans = realloc(spans, cap * sizeof *spans);
            assert_non_null(spans);
        }
        spans[n++] = sp;
    }
    assert_true(n >= 4);
    qsort(spans, n, sizeof *spans, by_start);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n && spans[j].start < spans[i].end; j++)
            if (spans[j].tid != spans[i].tid) {
                fprintf(stderr, "threads %d and %d both ran at %.3f us\n", spans[i].tid, spans[j].tid, spans[j].start);
                fail();
            }
    free(spans);
}

typedef struct Outputs {
    char json_path[64], svg_path[64];
    char *json, *svg;
} Outputs;

/* Runs the fixture with both flags; the files must exist and be valid. */
static void trace_run(Outputs *o, const char *script) {
    snprintf(o->json_path, sizeof o->json_path, "/tmp/mini-trace-%d.json", (int)getpid());
    snprintf(o->svg_path, sizeof o->svg_path, "/tmp/mini-trace-%d.svg", (int)getpid());
    char json_flag[80], svg_flag[80];
    snprintf(json_flag, sizeof json_flag, "--gil-trace=%s", o->json_path);
    snprintf(svg_flag, sizeof svg_flag, "--gil-timeline=%s", o->svg_path);
    assert_int_equal(run_mini(json_flag, svg_flag, script), 0);
    o->json = slurp(o->json_path);
    assert_non_null(o->json);
    const char *end = value(o->json, 0);
    assert_non_null(end);
    assert_int_equal(*ws(end), '\0');
    o->svg = slurp(o->svg_path);
    assert_non_null(o->svg);
    assert_true(well_formed_xml(o->svg));
}

static void trace_done(Outputs *o) {
    free(o->json);
    free(o->svg);
    unlink(o->json_path);
    unlink(o->svg_path);
}

static void test_trace_and_timeline(void **state) {
    (void)state;
    Outputs o;
    trace_run(&o, "fixtures/three_threads.mini");
    assert_int_equal(count(o.json, "\"thread_name\""), 4);
    assert_true(count(o.json, "\"name\": \"running\"") >= 4);
    assert_non_null(strstr(o.json, "\"args\": {\"name\": \"MainThread\"}"));
    assert_exclusive_running(o.json);
    assert_int_equal(count(o.svg, "<g class=\"lane\""), 4);
    assert_non_null(strstr(o.svg, "waiting for the GIL"));
    trace_done(&o);
}

/* Each child process is a process of the trace, its threads its tracks;
 * the timeline has a lane per thread of every process. */
static void test_child_processes(void **state) {
    (void)state;
    Outputs o;
    trace_run(&o, "fixtures/two_processes.mini");
    assert_int_equal(count(o.json, "\"process_name\""), 3);
    assert_non_null(strstr(o.json, "\"pid\": 2, \"args\": {\"name\": \"Process-1\"}"));
    assert_non_null(strstr(o.json, "\"pid\": 3, \"args\": {\"name\": \"Process-2\"}"));
    assert_int_equal(count(o.json, "\"thread_name\""), 4);
    assert_int_equal(count(o.svg, "<g class=\"lane\""), 4);
    const char *lanes[] = {"data-thread=\"MainThread\"", "data-thread=\"Process-1: MainThread\"",
                           "data-thread=\"Process-2: MainThread\"", "data-thread=\"Process-2: Helper\""};
    const char *at = o.svg;
    for (size_t i = 0; i < sizeof lanes / sizeof lanes[0]; i++) {
        at = strstr(at, lanes[i]);
        assert_non_null(at);
    }
    trace_done(&o);
}

/* gil.mark(): an instant event in the trace, a labelled line on the
 * timeline, the label escaped in both. */
static void test_phase_marks(void **state) {
    (void)state;
    Outputs o;
    trace_run(&o, "fixtures/marks.mini");
    assert_int_equal(count(o.json, "\"cat\": \"mark\""), 2);
    assert_non_null(strstr(o.json, "{\"name\": \"sequential\", \"cat\": \"mark\", \"ph\": \"i\""));
    assert_non_null(strstr(o.json, "\"name\": \"threads <2> \\\"&\\\"\""));
    assert_int_equal(count(o.svg, "<g class=\"mark\">"), 2);
    assert_non_null(strstr(o.svg, ">threads &lt;2&gt; &quot;&amp;&quot;</text>"));
    trace_done(&o);
}

/* C code that works without the GIL (hashlib on a large buffer) has a
 * lane state of its own, apart from blocking calls. */
static void test_c_code_without_gil(void **state) {
    (void)state;
    Outputs o;
    trace_run(&o, "fixtures/hashing_threads.mini");
    assert_true(count(o.json, "\"name\": \"running C code (GIL released)\"") >= 2);
    assert_non_null(strstr(o.svg, "fill=\"#00acc1\""));
    trace_done(&o);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trace_and_timeline),
        cmocka_unit_test(test_child_processes),
        cmocka_unit_test(test_phase_marks),
        cmocka_unit_test(test_c_code_without_gil),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
