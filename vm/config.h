#ifndef MINI_VM_CONFIG_H
#define MINI_VM_CONFIG_H

/* Every limit and tunable of the interpreter, each with the reason for its
 * value. Build-time flags (CMake options) arrive here as MINI_* macros. */

#define MINI_VERSION "0.1.0"
#define MINI_LANGUAGE_VERSION "3.11" /* the Python whose semantics we follow */

/* Default recursion limit, as CPython's sys.getrecursionlimit(). */
#define MINI_DEFAULT_RECURSION_LIMIT 1000
/* Hard ceiling for sys.setrecursionlimit: each mini call uses no C stack,
 * but native re-entry (map, sorted(key=...), __eq__ from dict lookup) does,
 * and each of those costs at most a few hundred bytes, so 100k fits 8 MiB. */
#define MINI_MAX_RECURSION_LIMIT 100000
/* Nested native->VM re-entries before RecursionError: bounds C stack use. */
#define MINI_MAX_NATIVE_DEPTH 200
/* Nesting json's C scanner and encoder follow at most (below that, the
 * recursion limit bounds them as in CPython): each level is two C frames
 * of well under 200 bytes, so 10000 levels fit the 8 MiB main stack even
 * with sanitizers' larger frames. */
#define MINI_JSON_MAX_DEPTH 10000

/* Initial VM value stack per thread, in values; it grows on demand. */
#define MINI_STACK_INITIAL 1024

/* Bytes a thread allocates before it adds them to the shared counter: keeps
 * the allocation fast path free of atomics. */
#define MINI_GC_LOCAL_QUANTUM (64 * 1024)
/* Entries of the interpreter's type attribute cache (a power of two): the
 * result of an MRO walk, per (class, name), valid while no class changes.
 * 4096 covers the working set of class-heavy programs in 128 KiB. */
#define MINI_TYPE_CACHE_SIZE 4096
/* Entries (ways) of each attribute and method inline cache in the bytecode,
 * one per class: a base class's method that runs on instances of a few
 * subclasses (a scheduler's task kinds, a solver's constraint kinds) reads
 * self's attributes and calls self's methods at sites that see each of
 * those classes in turn, and keeps hitting with one way per class. */
#define MINI_ATTR_CACHE_WAYS 4
/* Objects up to this size come from per-thread free lists of 16-byte size
 * classes (no malloc, no lock); larger ones from malloc. */
#define MINI_GC_SMALL_MAX 256
/* The free lists are carved from chunks of this size. */
#define MINI_GC_CHUNK_BYTES (256 * 1024)

/* First collection after this many bytes; later ones when the heap has
 * grown by MINI_GC_GROWTH times what survived the last collection, and
 * never sooner than this. Small, so that a program with little live data
 * reuses freed blocks while they are still in the CPU's cache (about the
 * size of one core's L2): sweeping and re-allocating 8 MiB of cold blocks
 * cost programs that make many short-lived objects up to half their time
 * (bench/README.md), while a collection of a small heap costs about 30 us. */
#define MINI_GC_INITIAL_THRESHOLD (1024 * 1024)
#define MINI_GC_GROWTH 2
/* gc.get_threshold()'s first number as CPython's default (700 objects);
 * gc.set_threshold(n) scales the smallest byte threshold above by
 * n / MINI_GC_THRESHOLD0, so a program that raises it collects less often. */
#define MINI_GC_THRESHOLD0 700
/* Bytes per object gc.get_count() assumes when it reports the allocations
 * since the last collection as CPython's object count. */
#define MINI_GC_COUNT_BYTES 64
/* With gc.disable() mini still collects (it has no reference counting to
 * free memory otherwise), but only once this many times the threshold is
 * allocated: a program that disables the collector for speed gets fewer
 * pauses, never unbounded memory. */
#define MINI_GC_DISABLED_FACTOR 8

/* C stack of threads mini starts: nested C->mini re-entries
 * (MINI_MAX_NATIVE_DEPTH) must fit, a few KiB each. */
#define MINI_THREAD_STACK_BYTES (16 * 1024 * 1024)

/* Value and frame stacks of ended threads kept for new ones: starting a
 * thread then maps nothing. Beyond this many, they are unmapped. */
#define MINI_SPARE_THREAD_STACKS 16

/* OS threads kept parked after their Python thread ended, for the next
 * start_new_thread: starting one then creates no OS thread (a third of the
 * cost of start+join). Beyond this many, ended threads exit. */
#define MINI_SPARE_THREADS 8

/* Default GIL switch interval, microseconds (CPython: 5 ms). */
#define MINI_SWITCH_INTERVAL_US 5000
/* --gil=legacy: ticks (eval-breaker check points) between checks, where
 * the holder releases the GIL and competes again; CPython 2's default
 * sys.setcheckinterval, the value its "GIL battle" was measured with. */
#define MINI_GIL_CHECK_INTERVAL 100
/* --gil=compare=A,B,...: at most one run per design (mini, cpython, legacy,
 * fifo, off); more columns would not fit a terminal anyway. */
#define MINI_GIL_COMPARE_MAX 5

/* How often a main thread blocked on a lock, queue or child process wakes
 * to look for Ctrl-C, seconds: condition and semaphore waits do not return
 * on a signal. 20 ms feels immediate and costs nothing measurable. */
#define MINI_SIGNAL_POLL_SECONDS 0.02

/* Parser nesting limit, as CPython's "too many nested parentheses". */
#define MINI_MAX_PAREN_NESTING 200

/* Dicts start with this many slots (power of two) and resize at 2/3 load,
 * the load CPython found to keep probe sequences short. */
#define MINI_DICT_MIN_SLOTS 8

/* Attribute names a class's instances keep inline (runtime/shape.h), as
 * CPython 3.11's shared keys: past it an instance's attributes go to a
 * dict. */
#define MINI_SHAPE_MAX_KEYS 30
/* Inline values an instance gets at least before its class has learned its
 * attribute names: one 64-byte block with the header. */
#define MINI_SHAPE_MIN_INLINE 4

/* Frames shown at the head and tail of a long traceback, as CPython folds
 * repeated lines ("[Previous line repeated N more times]"). */
#define MINI_TRACEBACK_REPEAT_FOLD 3
/* The longest source line a traceback or a warning shows (the rest is cut):
 * read into a stack buffer per line. */
#define MINI_SOURCE_LINE_MAX 1024
/* An exception group's traceback shows at most this many of its exceptions
 * ("and N more exceptions") and this many levels of nested groups ("...
 * (max_group_depth is 10)"): CPython 3.11's defaults. */
#define MINI_EXC_GROUP_WIDTH 15
#define MINI_EXC_GROUP_DEPTH 10
/* How many causes and contexts of an exception a traceback follows: each
 * is a C-level recursion. */
#define MINI_EXC_CHAIN_DEPTH 32

/* --gil-timeline: the narrowest rectangle drawn, in pixels of a 900-pixel
 * plot. Narrower intervals join their neighbour (vm/trace.c, write_svg):
 * what can't be seen need not be written. */
#define MINI_TIMELINE_MIN_PX 0.25

/* hashlib and zlib release the GIL for buffers at least this large (as
 * CPython's HASHLIB_GIL_MINSIZE): below it, a hand-off costs more than the
 * work. */
#define MINI_HASH_GIL_MIN_BYTES 2048

/* Entries the prompt keeps in ~/.mini_history: enough for weeks of use,
 * small enough to load at once (CPython's readline keeps what it is given;
 * a cap stops the file growing forever). */
#define MINI_HISTORY_SIZE 1000
/* Tab at the start of a prompt line inserts this many spaces (PEP 8). */
#define MINI_REPL_INDENT 4

/* The fuzz harness (tests/fuzz/) cuts a program off after this long, in
 * milliseconds: the eval breaker's BREAK_BUDGET then raises at every
 * safepoint. Long enough for any honest small program, short enough that
 * endless loops cost the fuzzer little. */
#define MINI_FUZZ_BUDGET_MS 250
/* After the budget is spent, the harness pokes the running thread this
 * often (milliseconds) so that sleeps and waits end too. */
#define MINI_FUZZ_REPOKE_MS 10

/* re (stdlib/mod_re.c). Capturing groups in one pattern: PCRE2's own
 * ceiling (CPython allows more; none of its users come near). */
#define MINI_RE_MAX_GROUPS 65535
/* Backtracking steps of one match before it gives up with RecursionError:
 * CPython's engine would run on for hours on such a pattern; 10x PCRE2's
 * default leaves every reasonable pattern alone. */
#define MINI_RE_MATCH_LIMIT 100000000u
/* Largest JIT stack a match may grow to before running without the JIT. */
#define MINI_RE_JIT_STACK_MAX (8 * 1024 * 1024)
/* Steps a match makes holding the GIL; one that needs more starts again
 * detached (releasing the GIL). Detaching costs about a microsecond, more
 * than most matches take; 20000 steps are tens of microseconds, so the
 * work done twice stays small next to a search that long. */
#define MINI_RE_ATTACHED_LIMIT 20000u

#endif
