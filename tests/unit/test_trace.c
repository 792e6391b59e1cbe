/* --gil-trace and --gil-timeline: the JSON file parses (a small strict
 * JSON reader below) and names one track per thread; the SVG is
 * well-formed XML (balanced tags) with one lane per thread. The program
 * runs four threads: the main one and three workers. */
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

static int run_mini(const char *flags_json, const char *flags_svg) {
    pid_t pid = fork();
    if (pid == 0) {
        execl(MINI_BINARY, MINI_BINARY, flags_json, flags_svg, "fixtures/three_threads.mini", (char *)NULL);
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

static void test_trace_and_timeline(void **state) {
    (void)state;
    char json[64], svg[64];
    snprintf(json, sizeof json, "/tmp/mini-trace-%d.json", (int)getpid());
    snprintf(svg, sizeof svg, "/tmp/mini-trace-%d.svg", (int)getpid());
    char json_flag[80], svg_flag[80];
    snprintf(json_flag, sizeof json_flag, "--gil-trace=%s", json);
    snprintf(svg_flag, sizeof svg_flag, "--gil-timeline=%s", svg);
    assert_int_equal(run_mini(json_flag, svg_flag), 0);

    char *j = slurp(json);
    assert_non_null(j);
    const char *end = value(j, 0);
    assert_non_null(end);
    assert_int_equal(*ws(end), '\0');
    assert_int_equal(count(j, "\"thread_name\""), 4);
    assert_true(count(j, "\"name\": \"running\"") >= 4);
    assert_non_null(strstr(j, "\"args\": {\"name\": \"MainThread\"}"));
    assert_exclusive_running(j);

    char *s = slurp(svg);
    assert_non_null(s);
    assert_true(well_formed_xml(s));
    assert_int_equal(count(s, "<g class=\"lane\""), 4);
    assert_non_null(strstr(s, "waiting for the GIL"));

    free(j);
    free(s);
    unlink(json);
    unlink(svg);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trace_and_timeline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
