#ifndef MINI_VM_TRACE_H
#define MINI_VM_TRACE_H

/* GIL timelines: with --gil-trace or --gil-timeline, every thread records
 * when it runs, waits for the GIL, or is blocked in a call that released
 * it. At exit the intervals are written as a Chrome Trace Event file
 * (Perfetto, chrome://tracing) and/or a self-contained SVG. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct TState TState;
struct Interp;

typedef enum ThreadActivity {
    ACTIVITY_NONE,
    ACTIVITY_RUNNING,  /* holds the GIL (or runs, with the GIL off) */
    ACTIVITY_WAITING,  /* waits for the GIL */
    ACTIVITY_BLOCKED,  /* in a blocking call, GIL released */
} ThreadActivity;

typedef struct TraceInterval {
    uint64_t start_ns, end_ns;
    uint8_t activity;
} TraceInterval;

typedef struct ThreadTrace {
    char name[64];
    uint64_t tid;
    TraceInterval *intervals;
    size_t count, capacity;
    uint8_t activity;   /* the open interval's */
    uint64_t since_ns;  /* when it began */
} ThreadTrace;

/* Moves a thread to a new activity, closing the open interval. A no-op
 * unless tracing is on. */
void trace_activity(TState *ts, ThreadActivity activity);
/* A thread ends: its intervals join the interpreter's finished traces. */
void trace_thread_end(TState *ts);
/* Writes the files asked for. Returns false (after printing why) when a
 * file cannot be written. */
bool trace_write(struct Interp *interp, const char *json_path, const char *svg_path);

#endif
