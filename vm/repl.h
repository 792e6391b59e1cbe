#ifndef MINI_VM_REPL_H
#define MINI_VM_REPL_H

/* The interactive prompt (vm/repl.c), in the __main__ module (the
 * program's, after mini -i). On a terminal lines are edited with libedit;
 * otherwise they are read as they come, the prompts going to stderr, as
 * CPython does. Returns at end of input, or with SystemExit pending on the
 * thread (sys.exit() at the prompt). */

#include "vm/interp.h"

void repl_run(TState *ts, bool banner);

#endif
