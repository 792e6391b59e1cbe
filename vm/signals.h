#ifndef MINI_VM_SIGNALS_H
#define MINI_VM_SIGNALS_H

/* Ctrl-C. The handler only records the signal and sets BREAK_SIGNAL in the
 * main thread's eval breaker; the main thread raises KeyboardInterrupt at
 * its next safepoint, as CPython runs Python-level handlers. Other threads
 * block SIGINT, so blocking calls in the main thread are the ones that
 * return EINTR, and its lock waits poll for the signal. */

#include <stdbool.h>

#include "vm/interp.h"

/* Installs the SIGINT handler for the interpreter's main thread. */
void signals_install(Interp *interp);
/* Called by threads mini starts: they leave SIGINT to the main thread. */
void signals_block_in_thread(void);
/* Has a SIGINT arrived that no safepoint has handled yet? */
bool signals_pending(void);
/* Takes the pending SIGINT (at a safepoint of the main thread). */
bool signals_take(void);

#endif
