#ifndef MINI_STDLIB_MOD_SOCKET_H
#define MINI_STDLIB_MOD_SOCKET_H

/* What other C modules (_ssl) read of a _socket.socket. */

#include <stdbool.h>

#include "runtime/object.h"

/* The descriptor (-1 once closed) and timeout (< 0: blocking) of a
 * _socket.socket or subclass instance; false after raising TypeError. */
bool socket_peek(TState *ts, Value v, int *fd, double *timeout);

#endif
