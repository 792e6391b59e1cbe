#ifndef MINI_VM_TRACE_H
#define MINI_VM_TRACE_H

/* GIL timelines: with --gil-trace or --gil-timeline, every thread records
 * when it runs, waits for the GIL, or is blocked in a call that released
 * it. At exit the intervals are written as a Chrome Trace Event file
 * (Perfetto, chrome://tracing) and/or a self-contained SVG.
 *
 * Child processes (multiprocessing) trace too: each appends its lanes, in
 * one write, to a spool file that the parent created unlinked before any
 * fork, and the parent draws them under its own. A child killed before it
 * could write has no lanes. */

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
    ACTIVITY_COMPUTING, /* in C code that works without the GIL (hashing, compressing) */
} ThreadActivity;

typedef struct TraceInterval {
    uint64_t start_ns, end_ns;
    uint8_t activity;
} TraceInterval;

typedef struct ThreadTrace {
    char process[64];   /* "" in the tracing process, else the child's name */
    char name[64];
    uint64_t tid;
    TraceInterval *intervals;
    size_t count, capacity;
    uint8_t activity;   /* the open interval's */
    uint64_t since_ns;  /* when it began */
    uint64_t group_start_ns; /* a child's lanes: when its process began */
    size_t spool_index;      /* ... and where the lane was in the spool */
} ThreadTrace;

/* A phase marker (gil.mark): an instant on the trace, a labelled vertical
 * line on the timeline. */
typedef struct TraceMark {
    uint64_t ns;
    char label[64];
} TraceMark;

/* Records a marker now (a no-op unless tracing is on); false if out of
 * memory. Markers of child processes are not drawn. */
bool trace_mark(TState *ts, const char *label);

/* Turns tracing on, the calling (main) thread running; makes the spool. */
void trace_start(struct Interp *interp);
/* In a forked child: the parent's lanes are the parent's to write; the
 * child's start at `forked_ns` (taken before fork), the forking thread
 * running. */
void trace_after_fork(TState *ts, uint64_t forked_ns);
/* A forked child leaves: its lanes go to the spool, under the name
 * `process` (such as "Process-1"). Its other threads have ended. */
void trace_spool_child(TState *ts, const char *process);
/* Moves a thread to a new activity, closing the open interval. A no-op
 * unless tracing is on. */
void trace_activity(TState *ts, ThreadActivity activity);
/* A thread ends: its intervals join the interpreter's finished traces. */
void trace_thread_end(TState *ts);
/* Writes the files asked for. Returns false (after printing why) when a
 * file cannot be written. */
bool trace_write(struct Interp *interp, const char *json_path, const char *svg_path);

#endif
