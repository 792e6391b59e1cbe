#ifndef MINI_VM_REPL_H
#define MINI_VM_REPL_H

/* The interactive prompt (vm/repl.c). Returns at end of input, or with
 * SystemExit pending on the thread (sys.exit() at the prompt). */

#include "vm/interp.h"

void repl_run(TState *ts);

#endif
