#ifndef MINI_STDLIB_EMBEDDED_H
#define MINI_STDLIB_EMBEDDED_H

#include <stddef.h>

/* Modules written in mini, compiled into the binary (see embed.cmake). */
typedef struct EmbeddedModule {
    const char *name;
    const char *source;
    size_t length;
    int is_package; /* from a package's __init__.mini */
} EmbeddedModule;

/* Terminated by an entry whose name is NULL. */
extern const EmbeddedModule embedded_modules[];

#endif
