#ifndef MINI_VM_BOOT_H
#define MINI_VM_BOOT_H

/* Readying a new interpreter to run a program: what the command line and
 * the fuzz harness (tests/fuzz/) both need before the first line runs. */

#include <stdbool.h>

#include "vm/interp.h"

/* What the command line decides about the sys module. */
typedef struct BootConfig {
    const char *argv0;       /* finds the binary when /proc cannot */
    const char *script_name; /* sys.argv[0] */
    int argc;                /* sys.argv[1:] */
    char **argv;
    const char *path0;       /* sys.path[0] (the program's folder), or NULL for none (-I) */
    bool inspect, quiet, ignore_environment, isolated; /* sys.flags */
    int optimize;
    const char **warnoptions; /* sys.warnoptions */
    int warnoption_count;
    int orig_argc;           /* sys.orig_argv: the interpreter's own command line */
    char **orig_argv;
} BootConfig;

/* Fills the builtins (__build_class__, super, and exit, quit, help... as
 * CPython's site module), imports sys and sets sys.argv, sys.flags,
 * sys.warnoptions and sys.path (path0, MINIPATH's folders unless
 * ignore_environment, then the stdlib folder beside the binary or in the
 * source tree). False with the exception set. */
bool boot_interp(TState *ts, const BootConfig *c);

#endif
