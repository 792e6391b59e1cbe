/* The libFuzzer harness: each input is a mini program, run in a fresh
 * interpreter that is torn down afterwards (so a crash reproduces from the
 * input alone, and leaks show up as leaks). tests/README.md says how to run
 * it; tests/fuzz/crashes/ holds every crash it found.
 *
 * Built with MINI_FUZZ_PICKLE (the fuzz_pickle target), the input is a
 * pickle instead: pickle.loads' opcode reader is the parser of untrusted
 * bytes that users feed most. It loads through an Unpickler that finds
 * only harmless globals (builtins' types, the containers of collections,
 * datetime's types), so no input can reach os.system. tests/fuzz/pickles/
 * holds its seeds (pickles made by CPython) and the inputs that once
 * crashed it.
 *
 * - Endless programs: a watchdog thread sets BREAK_BUDGET in the running
 *   thread's eval breaker once MINI_FUZZ_BUDGET_MS have passed; from then on
 *   every safepoint raises, so loops, recursion and handlers that catch the
 *   exception all end. It then signals the thread every MINI_FUZZ_REPOKE_MS
 *   so that sleeps and lock waits return too. Work in C that never reaches a
 *   safepoint (10**10**9) is left to libFuzzer's -timeout.
 * - The program runs in the fuzzer's process, so the interpreter is
 *   sandboxed (Interp.sandboxed): starting threads, forking, os._exit,
 *   os.kill and os.chdir raise RuntimeError. Files it writes land in the
 *   current directory: run the fuzzer in a scratch one.
 * - MINI_FUZZ_GC_STRESS=1 in the environment collects at every safepoint
 *   after an allocation (as mini --gc-stress): slower, but a missing GC
 *   root becomes a use-after-free that ASan reports at once.
 * - Output: run with -close_fd_mask=3 (stdout and stderr to /dev/null,
 *   libFuzzer's and the sanitizers' reports still shown). Standard input is
 *   /dev/null. */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtime/bytes.h"
#include "runtime/error.h"
#include "runtime/file.h"
#include "runtime/module.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/types.h"
#include "vm/boot.h"
#include "vm/config.h"
#include "vm/interp.h"
#include "vm/sync.h"
#include "vm/vm.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The watchdog's view of the current run, under `lock`. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond;
static TState *running;           /* NULL between runs */
static pthread_t runner;
static bool gc_stress;            /* MINI_FUZZ_GC_STRESS=1 */
static struct timespec deadline;  /* CLOCK_MONOTONIC */

static void add_ms(struct timespec *t, long ms) {
    t->tv_sec += ms / 1000;
    t->tv_nsec += (ms % 1000) * 1000000L;
    if (t->tv_nsec >= 1000000000L) {
        t->tv_sec++;
        t->tv_nsec -= 1000000000L;
    }
}

static bool reached(const struct timespec *t) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

static void *watchdog(void *arg) {
    (void)arg;
    MUTEX_LOCK(&lock);
    for (;;) {
        if (!running) {
            COND_WAIT(&cond, &lock);
            continue;
        }
        int r = pthread_cond_timedwait(&cond, &lock, &deadline);
        if (r != 0 && r != ETIMEDOUT) abort();
        if (!running || !reached(&deadline)) continue;
        atomic_fetch_or(&running->eval_breaker, BREAK_BUDGET);
        pthread_kill(runner, SIGURG);
        add_ms(&deadline, MINI_FUZZ_REPOKE_MS);
    }
    return NULL;
}

/* SIGURG only interrupts blocking calls (no SA_RESTART): the budget bit
 * does the rest. */
static void on_poke(int sig) { (void)sig; }

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    const char *stress = getenv("MINI_FUZZ_GC_STRESS");
    gc_stress = stress && !strcmp(stress, "1");
    int null = open("/dev/null", O_RDONLY);
    if (null < 0 || dup2(null, STDIN_FILENO) < 0) abort();
    close(null);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_poke;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGURG, &sa, NULL);
    pthread_condattr_t attr;
    PT_CHECK(pthread_condattr_init(&attr));
    PT_CHECK(pthread_condattr_setclock(&attr, CLOCK_MONOTONIC));
    PT_CHECK(pthread_cond_init(&cond, &attr));
    PT_CHECK(pthread_condattr_destroy(&attr));
    pthread_t tid;
    PT_CHECK(pthread_create(&tid, NULL, watchdog, NULL));
    PT_CHECK(pthread_detach(tid));
    return 0;
}

static void arm(TState *ts) {
    MUTEX_LOCK(&lock);
    running = ts;
    runner = pthread_self();
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    add_ms(&deadline, MINI_FUZZ_BUDGET_MS);
    COND_SIGNAL(&cond);
    MUTEX_UNLOCK(&lock);
}

static void disarm(TState *ts) {
    MUTEX_LOCK(&lock);
    running = NULL;
    MUTEX_UNLOCK(&lock);
    atomic_fetch_and(&ts->eval_breaker, ~(unsigned)BREAK_BUDGET);
}

#ifdef MINI_FUZZ_PICKLE
static const char loader_source[] =
    "import io, pickle\n"
    "ALLOWED = {\n"
    "    'builtins': {'bool', 'bytearray', 'bytes', 'complex', 'dict', 'float', 'frozenset', 'int', 'list',\n"
    "                 'object', 'range', 'set', 'slice', 'str', 'tuple', 'ValueError', 'KeyError'},\n"
    "    'collections': {'OrderedDict', 'deque', 'defaultdict', 'Counter'},\n"
    "    'datetime': {'date', 'time', 'datetime', 'timedelta', 'timezone'},\n"
    "    'copyreg': {'_reconstructor'},\n"
    "    '_codecs': {'encode'},\n"
    "}\n"
    "ALLOWED['__builtin__'] = ALLOWED['builtins'] | {'xrange'}\n"
    "class Loader(pickle.Unpickler):\n"
    "    def find_class(self, module, name):\n"
    "        if name in ALLOWED.get(module, ()):\n"
    "            return super().find_class(module, name)\n"
    "        raise pickle.UnpicklingError(f'{module}.{name} is not loaded here')\n"
    "def load(data):\n"
    "    return repr(Loader(io.BytesIO(data)).load())\n";

/* load(data) of the loader module above. */
static Value run_input(TState *ts, const uint8_t *data, size_t size) {
    Value m = module_run_source(ts, loader_source, sizeof loader_source - 1, "<fuzz_pickle>", "fuzz_pickle");
    if (IS_ERROR(m)) return m;
    vm_push(ts, m);
    ObjStr *name = str_intern_cstr(ts, "load");
    Value fn = name ? ops_getattr(ts, m, name) : ERROR_VAL;
    ObjBytes *b = IS_ERROR(fn) ? NULL : bytes_new(ts, (const char *)data, size);
    Value r = b ? vm_call(ts, fn, (Value[]){OBJ_VAL(b)}, 1, NULL) : ERROR_VAL;
    vm_pop(ts);
    return r;
}
#else
static Value run_input(TState *ts, const uint8_t *data, size_t size) {
    return module_run_source(ts, (const char *)data, size, "<fuzz>", "__main__");
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Interp *interp = interp_new(GIL_DESIGN_MINI);
    if (!interp) abort();
    interp->sandboxed = true;
    TState *ts = interp->main_thread;
    BootConfig boot = {.argv0 = "fuzz_mini", .script_name = "<fuzz>", .path0 = "."};
    if (!boot_interp(ts, &boot)) abort();
    /* Only the program runs under stress: booting is the same every time. */
    if (gc_stress) interp->gc.stress = true;
    arm(ts);
    Value r = run_input(ts, data, size);
    if (IS_ERROR(r)) {
        /* Formatting the traceback is code to exercise too. */
        Value exc = err_fetch(ts);
        file_flush_std(ts);
        err_print(ts, exc);
    }
    disarm(ts);
    file_flush_std(ts);
    interp_free(interp);
    return 0;
}
