#ifndef MINI_VM_SIGNALS_H
#define MINI_VM_SIGNALS_H

/* Signals, as CPython handles them. The C handler only records the signal
 * (a pending flag per signal number), sets BREAK_SIGNAL in the main
 * thread's eval breaker and writes the signal's number to the wake-up fd
 * (signal.set_wakeup_fd); the main thread runs the Python-level handler
 * (Interp.signal_handlers) at its next safepoint, between instructions.
 * With no Python handler, SIGINT raises KeyboardInterrupt there. Threads
 * mini starts block the asynchronous signals, so the main thread is the one
 * whose blocking calls return EINTR, and its lock waits poll for them. */

#include <stdbool.h>

#include "vm/interp.h"

/* Dispositions signals_set_handler installs. */
typedef enum SigDisposition { SIGD_DEFAULT, SIGD_IGNORE, SIGD_HANDLER } SigDisposition;

/* Installs the SIGINT handler for the interpreter's main thread. */
void signals_install(Interp *interp);
/* Called by threads mini starts: they leave signals to the main thread. */
void signals_block_in_thread(void);
/* In a fork's child: the forking thread becomes the main thread and
 * handles the signals (unblocking them if it was another thread); those
 * the parent had not handled yet are the parent's. */
void signals_adopt_after_fork(TState *ts, bool was_main);
/* Has a signal arrived that no safepoint has handled yet? */
bool signals_pending(void);
/* Takes a pending SIGINT alone (the prompt's Ctrl-C, a fork's child). */
bool signals_take_sigint(void);
/* At a safepoint of the main thread: runs the handler of every pending
 * signal. false after a handler raised (the signals not yet handled stay
 * pending). */
bool signals_run_handlers(TState *ts);
/* Sets the C-level disposition of sig; 0 or an errno. */
int signals_set_handler(int sig, SigDisposition how);
/* signal.siginterrupt: whether sig interrupts system calls (no SA_RESTART);
 * applied now if mini's handler is installed, and whenever it is. */
int signals_set_interrupt(int sig, bool interrupt);
/* signal.set_wakeup_fd: the fd each signal's number is written to (-1:
 * none); returns the previous one. */
int signals_set_wakeup_fd(int fd);

#endif
