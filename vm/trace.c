#include "vm/trace.h"

#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vm/config.h"
#include "vm/gil.h"
#include "vm/interp.h"
#include "vm/sync.h"
#include "vm/thread.h"

/* A trace keeps at most this many intervals per thread; beyond, the rest
 * of the thread's life is one interval (a cap on memory, stated in the
 * file). */
#define TRACE_MAX_INTERVALS (4u << 20)

static void append(ThreadTrace *t, uint64_t start, uint64_t end, uint8_t activity) {
    if (activity == ACTIVITY_NONE || end <= start) return;
    if (t->count > 0) {
        TraceInterval *last = &t->intervals[t->count - 1];
        if (last->activity == activity && last->end_ns == start) {
            last->end_ns = end;
            return;
        }
    }
    if (t->count == t->capacity) {
        if (t->capacity >= TRACE_MAX_INTERVALS) {
            t->intervals[t->count - 1].end_ns = end;
            return;
        }
        size_t cap = t->capacity ? t->capacity * 2 : 256;
        TraceInterval *grown = realloc(t->intervals, cap * sizeof *grown);
        if (!grown) return;
        t->intervals = grown;
        t->capacity = cap;
    }
    t->intervals[t->count++] = (TraceInterval){start, end, activity};
}

void trace_activity(TState *ts, ThreadActivity activity) {
    if (!ts->interp->tracing) return;
    ThreadTrace *t = &ts->trace;
    uint64_t now = gil_now_ns();
    append(t, t->since_ns, now, t->activity);
    t->activity = (uint8_t)activity;
    t->since_ns = now;
}

bool trace_mark(TState *ts, const char *label) {
    Interp *interp = ts->interp;
    if (!interp->tracing) return true;
    MUTEX_LOCK(&interp->threads_lock);
    TraceMark *grown = realloc(interp->trace_marks, (interp->trace_mark_count + 1) * sizeof *grown);
    if (grown) {
        interp->trace_marks = grown;
        TraceMark *m = &grown[interp->trace_mark_count++];
        m->ns = gil_now_ns();
        snprintf(m->label, sizeof m->label, "%s", label);
    }
    MUTEX_UNLOCK(&interp->threads_lock);
    return grown != NULL;
}

void trace_thread_end(TState *ts) {
    Interp *interp = ts->interp;
    if (!interp->tracing) return;
    trace_activity(ts, ACTIVITY_NONE);
    snprintf(ts->trace.name, sizeof ts->trace.name, "%s", ts->name[0] ? ts->name : "(thread)");
    ts->trace.tid = ts->ident;
    MUTEX_LOCK(&interp->threads_lock);
    ThreadTrace *grown = realloc(interp->finished_traces, (interp->finished_trace_count + 1) * sizeof *grown);
    if (grown) {
        interp->finished_traces = grown;
        grown[interp->finished_trace_count++] = ts->trace;
    } else {
        free(ts->trace.intervals);
    }
    MUTEX_UNLOCK(&interp->threads_lock);
    memset(&ts->trace, 0, sizeof ts->trace);
}

void trace_start(Interp *interp) {
    interp->tracing = true;
    trace_activity(interp->main_thread, ACTIVITY_RUNNING);
    /* Unlinked at once: it goes away with the last process that has it.
     * Appending: records of children that end at once do not interleave. */
    int fd = open("/tmp", O_TMPFILE | O_RDWR | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        char path[] = "/tmp/mini-trace-XXXXXX";
        fd = mkostemp(path, O_APPEND | O_CLOEXEC);
        if (fd >= 0) unlink(path);
    }
    interp->trace_spool_fd = fd;
}

static void forget_finished(Interp *interp) {
    for (size_t i = 0; i < interp->finished_trace_count; i++) free(interp->finished_traces[i].intervals);
    free(interp->finished_traces);
    interp->finished_traces = NULL;
    interp->finished_trace_count = 0;
}

void trace_after_fork(TState *ts, uint64_t forked_ns) {
    Interp *interp = ts->interp;
    if (!interp->tracing) return;
    forget_finished(interp);
    free(ts->trace.intervals);
    memset(&ts->trace, 0, sizeof ts->trace);
    ts->trace.activity = ACTIVITY_RUNNING;
    ts->trace.since_ns = forked_ns;
}

/* A spool record: this header, then `count` TraceIntervals. Writer and
 * reader are the same binary on the same machine. */
typedef struct SpoolHeader {
    char process[64];
    char thread[64];
    uint64_t tid;
    uint64_t count;
} SpoolHeader;

static bool spool_add(char **buf, size_t *len, size_t *cap, const void *p, size_t n) {
    if (*len + n > *cap) {
        size_t want = (*len + n) * 2;
        char *grown = realloc(*buf, want);
        if (!grown) return false;
        *buf = grown;
        *cap = want;
    }
    memcpy(*buf + *len, p, n);
    *len += n;
    return true;
}

static bool spool_thread(char **buf, size_t *len, size_t *cap, const char *process, const ThreadTrace *t) {
    SpoolHeader h;
    memset(&h, 0, sizeof h);
    snprintf(h.process, sizeof h.process, "%s", process);
    snprintf(h.thread, sizeof h.thread, "%s", t->name);
    h.tid = t->tid;
    h.count = t->count;
    return spool_add(buf, len, cap, &h, sizeof h) &&
           spool_add(buf, len, cap, t->intervals, t->count * sizeof *t->intervals);
}

/* The lanes the children spooled, appended to *all. */
static bool read_spool(Interp *interp, ThreadTrace **all, size_t *n) {
    int fd = interp->trace_spool_fd;
    if (fd < 0) return true;
    off_t size = lseek(fd, 0, SEEK_END);
    if (size <= 0) return true;
    char *data = malloc((size_t)size);
    if (!data) return false;
    size_t got = 0;
    while (got < (size_t)size) {
        ssize_t r = pread(fd, data + got, (size_t)size - got, (off_t)got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    bool ok = true;
    size_t first = *n;
    for (size_t at = 0; ok && got - at >= sizeof(SpoolHeader);) {
        SpoolHeader h;
        memcpy(&h, data + at, sizeof h);
        at += sizeof h;
        if (h.count > (got - at) / sizeof(TraceInterval)) break;
        ThreadTrace t;
        memset(&t, 0, sizeof t);
        memcpy(t.process, h.process, sizeof t.process - 1);
        memcpy(t.name, h.thread, sizeof t.name - 1);
        t.tid = h.tid;
        t.count = t.capacity = (size_t)h.count;
        t.intervals = malloc(t.count * sizeof *t.intervals + 1);
        ThreadTrace *grown = realloc(*all, (*n + 1) * sizeof *grown);
        if (!t.intervals || !grown) {
            free(t.intervals);
            if (grown) *all = grown;
            ok = false;
            break;
        }
        memcpy(t.intervals, data + at, t.count * sizeof *t.intervals);
        at += t.count * sizeof *t.intervals;
        *all = grown;
        t.spool_index = *n - first;
        /* A child's lanes are spooled together, its main thread first. */
        bool new_process = *n == first || strcmp((*all)[*n - 1].process, t.process) != 0;
        t.group_start_ns = new_process ? (t.count ? t.intervals[0].start_ns : 0) : (*all)[*n - 1].group_start_ns;
        (*all)[(*n)++] = t;
    }
    free(data);
    return ok;
}

/* Children's lanes: processes in the order they started, each one's
 * threads in the order they were spooled. */
static int by_process_start(const void *a, const void *b) {
    const ThreadTrace *x = a, *y = b;
    if (x->group_start_ns != y->group_start_ns) return x->group_start_ns < y->group_start_ns ? -1 : 1;
    return x->spool_index < y->spool_index ? -1 : x->spool_index > y->spool_index;
}

static const char *const activity_names[] = {"", "running", "waiting for the GIL", "blocked (GIL released)",
                                             "running C code (GIL released)"};
static const char *const activity_colors[] = {"", "#2e7d32", "#c62828", "#b0bec5", "#00acc1"};

static uint64_t first_start(const ThreadTrace *t) { return t->count ? t->intervals[0].start_ns : UINT64_MAX; }

static int by_start(const void *a, const void *b) {
    uint64_t x = first_start(a), y = first_start(b);
    return x < y ? -1 : x > y;
}

/* This process's threads, the main thread first, the others in the order
 * they started; then, with `children`, the spooled lanes of the child
 * processes (which own their intervals: they start at index *own_from). */
static ThreadTrace *gather(Interp *interp, bool children, size_t *count, size_t *own_from) {
    TState *main_ts = interp->main_thread;
    trace_activity(main_ts, ACTIVITY_NONE);
    snprintf(main_ts->trace.name, sizeof main_ts->trace.name, "%s", main_ts->name[0] ? main_ts->name : "MainThread");
    main_ts->trace.tid = main_ts->ident;
    size_t n = interp->finished_trace_count + 1;
    ThreadTrace *all = malloc(n * sizeof *all);
    if (!all) return NULL;
    all[0] = main_ts->trace;
    /* No finished thread: finished_traces is NULL, which memcpy may not get. */
    if (interp->finished_trace_count)
        memcpy(all + 1, interp->finished_traces, interp->finished_trace_count * sizeof *all);
    qsort(all + 1, n - 1, sizeof *all, by_start);
    *own_from = n;
    if (children && read_spool(interp, &all, &n)) qsort(all + *own_from, n - *own_from, sizeof *all, by_process_start);
    *count = n;
    return all;
}

static void release(ThreadTrace *all, size_t n, size_t own_from) {
    for (size_t i = own_from; i < n; i++) free(all[i].intervals);
    free(all);
}

static void time_span(const ThreadTrace *all, size_t n, uint64_t *t0, uint64_t *t1) {
    *t0 = UINT64_MAX;
    *t1 = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < all[i].count; k++) {
            if (all[i].intervals[k].start_ns < *t0) *t0 = all[i].intervals[k].start_ns;
            if (all[i].intervals[k].end_ns > *t1) *t1 = all[i].intervals[k].end_ns;
        }
    if (*t0 == UINT64_MAX) *t0 = *t1 = 0;
}

void trace_spool_child(TState *ts, const char *process) {
    Interp *interp = ts->interp;
    if (!interp->tracing || interp->trace_spool_fd < 0) return;
    /* A thread the child joined may not have handed over its lane yet. */
    thread_wait_teardown(ts);
    size_t n, own_from;
    ThreadTrace *all = gather(interp, false, &n, &own_from);
    if (!all) return;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) ok = spool_thread(&buf, &len, &cap, process, &all[i]);
    /* One write to the appending spool: a child's lanes stay together. */
    if (ok) {
        size_t done = 0;
        while (done < len) {
            ssize_t w = write(interp->trace_spool_fd, buf + done, len - done);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) break;
            done += (size_t)w;
        }
    }
    free(buf);
    release(all, n, own_from);
}

static void json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

/* Chrome's trace model: one "process" per mini process (1 is the one that
 * traced, children follow in the order their lanes come), a track per
 * thread. */
static void write_json(FILE *f, ThreadTrace *all, size_t n, uint64_t t0, const Interp *interp) {
    bool gil_on = interp->gil_enabled;
    fputs("{\"displayTimeUnit\": \"ms\", \"otherData\": {\"gil\": ", f);
    fprintf(f, "\"%s\", \"design\": \"%s\"", gil_on ? "on" : "off",
            gil_design_name(gil_on ? interp->gil.design : GIL_DESIGN_OFF));
    fputs("}, \"traceEvents\": [\n", f);
    fputs("  {\"name\": \"process_name\", \"ph\": \"M\", \"pid\": 1, \"args\": {\"name\": \"mini\"}}", f);
    size_t pid = 1;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strcmp(all[i].process, all[i - 1].process) != 0) {
            pid++;
            fprintf(f, ",\n  {\"name\": \"process_name\", \"ph\": \"M\", \"pid\": %zu, \"args\": {\"name\": ", pid);
            json_string(f, all[i].process);
            fputs("}}", f);
        }
        fprintf(f, ",\n  {\"name\": \"thread_name\", \"ph\": \"M\", \"pid\": %zu, \"tid\": %zu, \"args\": {\"name\": ",
                pid, i + 1);
        json_string(f, all[i].name);
        fputs("}}", f);
        fprintf(f, ",\n  {\"name\": \"thread_sort_index\", \"ph\": \"M\", \"pid\": %zu, \"tid\": %zu, \"args\": {\"sort_index\": %zu}}",
                pid, i + 1, i);
        for (size_t k = 0; k < all[i].count; k++) {
            TraceInterval *iv = &all[i].intervals[k];
            fprintf(f, ",\n  {\"name\": \"%s\", \"cat\": \"gil\", \"ph\": \"X\", \"pid\": %zu, \"tid\": %zu, \"ts\": %.3f, \"dur\": %.3f}",
                    activity_names[iv->activity], pid, i + 1, (double)(iv->start_ns - t0) / 1000.0,
                    (double)(iv->end_ns - iv->start_ns) / 1000.0);
        }
    }
    for (size_t i = 0; i < interp->trace_mark_count; i++) {
        const TraceMark *m = &interp->trace_marks[i];
        if (m->ns < t0) continue;
        fputs(",\n  {\"name\": ", f);
        json_string(f, m->label);
        fprintf(f, ", \"cat\": \"mark\", \"ph\": \"i\", \"s\": \"g\", \"pid\": 1, \"tid\": 1, \"ts\": %.3f}",
                (double)(m->ns - t0) / 1000.0);
    }
    fputs("\n]}\n", f);
}

static void xml_text(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '<') fputs("&lt;", f);
        else if (*s == '>') fputs("&gt;", f);
        else if (*s == '&') fputs("&amp;", f);
        else if (*s == '"') fputs("&quot;", f);
        else fputc(*s, f);
    }
}

static void lane_label(const ThreadTrace *t, char *out, size_t size) {
    if (t->process[0]) snprintf(out, size, "%s: %s", t->process, t->name);
    else snprintf(out, size, "%s", t->name);
}

/* The time axis's step, in seconds: 1, 2 or 5 times a power of ten, the
 * smallest that needs at most 10 steps for the span (round labels). */
static double tick_step(double span_s) {
    double unit = pow(10, floor(log10(span_s / 10)));
    static const double multiples[] = {1, 2, 5};
    for (size_t i = 0; i < sizeof multiples / sizeof multiples[0]; i++)
        if (multiples[i] * unit * 10 >= span_s) return multiples[i] * unit;
    return 10 * unit;
}

/* One lane per thread, a rectangle per interval, a time axis below. */
static void write_svg(FILE *f, ThreadTrace *all, size_t n, uint64_t t0, uint64_t t1, const Interp *interp) {
    bool gil_on = interp->gil_enabled;
    char label[160];
    size_t longest = 10;
    for (size_t i = 0; i < n; i++) {
        lane_label(&all[i], label, sizeof label);
        if (strlen(label) > longest) longest = strlen(label);
    }
    /* About 7 pixels per character of the 12-pixel sans-serif font. */
    const double label_w = 20 + 7.0 * (double)longest, plot_w = 900, lane_h = 26, top = 40;
    double width = label_w + plot_w + 20;
    bool other_processes = false;
    for (size_t i = 0; i < n; i++)
        if (all[i].process[0]) other_processes = true;
    double height = top + (double)n * lane_h + (other_processes ? 90 : 70);
    double span = t1 > t0 ? (double)(t1 - t0) : 1.0;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n",
            width, height, width, height);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    fprintf(f, "<text x=\"10\" y=\"22\" font-size=\"15\">mini GIL timeline (GIL %s), %.3f s</text>\n",
            gil_design_name(gil_on ? interp->gil.design : GIL_DESIGN_OFF), span / 1e9);
    for (size_t i = 0; i < n; i++) {
        double y = top + (double)i * lane_h;
        lane_label(&all[i], label, sizeof label);
        fprintf(f, "<g class=\"lane\" data-thread=\"");
        xml_text(f, label);
        fprintf(f, "\">\n<text x=\"10\" y=\"%.1f\">", y + lane_h * 0.65);
        xml_text(f, label);
        fprintf(f, "</text>\n<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#f5f5f5\"/>\n", label_w,
                y + 3, plot_w, lane_h - 6);
        /* A rectangle is drawn once it can grow no more: an interval of the
         * same activity that touches it, or one too narrow to see, joins
         * it (the legacy design releases the GIL every 100 ticks: drawn one
         * by one, its lanes made SVGs of megabytes that showed no more). */
        int act = -1;
        double x0 = 0, x1 = 0;
        for (size_t k = 0; k <= all[i].count; k++) {
            TraceInterval *iv = k < all[i].count ? &all[i].intervals[k] : NULL;
            double x = iv ? label_w + (double)(iv->start_ns - t0) / span * plot_w : 0;
            double end = iv ? label_w + (double)(iv->end_ns - t0) / span * plot_w : 0;
            if (iv && act >= 0 && x - x1 < MINI_TIMELINE_MIN_PX) {
                bool joins = iv->activity == act || end - x < MINI_TIMELINE_MIN_PX;
                /* Too narrow to see itself, the rectangle so far joins this one. */
                if (!joins && x1 - x0 < MINI_TIMELINE_MIN_PX) {
                    act = (int)iv->activity;
                    joins = true;
                }
                if (joins) {
                    if (end > x1) x1 = end;
                    continue;
                }
            }
            if (act >= 0)
                fprintf(f, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" fill=\"%s\"/>\n", x0, y + 3,
                        x1 - x0 < MINI_TIMELINE_MIN_PX ? MINI_TIMELINE_MIN_PX : x1 - x0, lane_h - 6,
                        activity_colors[act]);
            if (iv) {
                act = (int)iv->activity;
                x0 = x;
                x1 = end;
            }
        }
        fputs("</g>\n", f);
    }
    double axis_y = top + (double)n * lane_h + 8;
    for (size_t i = 0; i < interp->trace_mark_count; i++) {
        const TraceMark *m = &interp->trace_marks[i];
        if (m->ns < t0 || m->ns > t1) continue;
        double x = label_w + (double)(m->ns - t0) / span * plot_w;
        fprintf(f, "<g class=\"mark\"><line x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\" stroke=\"#1565c0\" "
                   "stroke-dasharray=\"4 3\"/>\n<text x=\"%.2f\" y=\"%.1f\" font-size=\"11\" fill=\"#1565c0\">",
                x, top - 2, x, axis_y, x + 3, top - 4);
        xml_text(f, m->label);
        fputs("</text></g>\n", f);
    }
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", label_w, axis_y,
            label_w + plot_w, axis_y);
    double step = tick_step(span / 1e9);
    bool in_ms = span < 2e9;
    for (int k = 0; k * step <= span / 1e9 * (1 + 1e-9); k++) {
        double x = label_w + k * step * 1e9 / span * plot_w;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", x, axis_y, x,
                axis_y + 5);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.6g %s</text>\n", x, axis_y + 18,
                in_ms ? k * step * 1e3 : k * step, in_ms ? "ms" : "s");
    }
    double legend_y = axis_y + 40;
    for (int a = ACTIVITY_RUNNING; a <= ACTIVITY_COMPUTING; a++) {
        double x = label_w + (a - 1) * 220.0;
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"14\" fill=\"%s\"/>\n", x, legend_y - 11,
                activity_colors[a]);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", x + 20, legend_y, activity_names[a]);
    }
    /* Each process has a GIL of its own: its lanes say nothing of the
     * other processes', which run at the same time on other cores. */
    if (other_processes)
        fprintf(f, "<text class=\"note\" x=\"%.1f\" y=\"%.1f\">Each process has its own GIL: a process's lanes show "
                   "its threads' GIL, not the CPU (processes run at once).</text>\n",
                label_w, legend_y + 22);
    fputs("</svg>\n", f);
}

bool trace_write(Interp *interp, const char *json_path, const char *svg_path) {
    size_t n, own_from;
    ThreadTrace *all = gather(interp, true, &n, &own_from);
    if (!all) return false;
    uint64_t t0, t1;
    time_span(all, n, &t0, &t1);
    bool ok = true;
    const char *paths[2] = {json_path, svg_path};
    for (int i = 0; i < 2; i++) {
        if (!paths[i]) continue;
        FILE *f = fopen(paths[i], "w");
        if (!f) {
            fprintf(stderr, "mini: cannot write %s: %s\n", paths[i], strerror(errno));
            ok = false;
            continue;
        }
        if (i == 0) write_json(f, all, n, t0, interp);
        else write_svg(f, all, n, t0, t1, interp);
        if (fclose(f) != 0) {
            fprintf(stderr, "mini: cannot write %s: %s\n", paths[i], strerror(errno));
            ok = false;
        }
    }
    release(all, n, own_from);
    return ok;
}
