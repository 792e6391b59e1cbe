#ifndef MINI_VM_FORK_H
#define MINI_VM_FORK_H

/* fork(2) for an interpreter that may be running other threads.
 *
 * The parent flushes the standard streams and stops the world (every other
 * thread parked at a safepoint or detached in a blocking call), so no
 * thread is half-way through changing the heap or the runtime's own
 * structures when the address space is copied. The child then rebuilds
 * what the vanished threads may have left locked: the GIL (held by the
 * forking thread), the thread registry (only the forking thread remains;
 * the others' objects join the orphan list and their stacks stop being
 * roots) and every runtime mutex and condition variable. */

#include <sys/types.h>

#include "vm/interp.h"

/* Forks the process. Returns the child's pid in the parent, 0 in the child
 * (where the calling thread is now the interpreter's only thread, and its
 * main thread), or -1 after raising OSError. A child forked from a thread
 * other than the main one must leave with _exit (it cannot return to that
 * thread's start routine). */
pid_t fork_process(TState *ts);

#endif
