#ifndef MINI_VM_BOOT_H
#define MINI_VM_BOOT_H

/* Readying a new interpreter to run a program: what the command line and
 * the fuzz harness (tests/fuzz/) both need before the first line runs. */

#include <stdbool.h>

#include "vm/interp.h"

/* Fills the builtins (with __build_class__ and super), imports sys and sets
 * sys.argv to script_name then argv[0..argc), and sys.path to the folder of
 * script_path (the current one when NULL) then the stdlib folder beside the
 * binary or in the source tree. argv0 finds the binary when /proc cannot.
 * False with the exception set. */
bool boot_interp(TState *ts, const char *argv0, const char *script_name, const char *script_path, int argc,
                 char **argv);

#endif
