#ifndef MINI_RUNTIME_XID_H
#define MINI_RUNTIME_XID_H

/* Unicode's identifier classes (XID_Start, XID_Continue), as CPython 3.11. */

#include <stdbool.h>
#include <stdint.h>

/* May c start an identifier ('_' included)? */
bool xid_start(uint32_t c);
/* May c continue one? */
bool xid_continue(uint32_t c);

#endif
