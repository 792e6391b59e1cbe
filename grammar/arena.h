#ifndef MINI_GRAMMAR_ARENA_H
#define MINI_GRAMMAR_ARENA_H

#include <stddef.h>

typedef struct ArenaChunk ArenaChunk;

/* A bump allocator: many small allocations, released together by arena_free.
 * An arena is not thread-safe; each parse (and each thread) uses its own.
 * Allocation failure aborts the process, so callers never see NULL. */
typedef struct Arena {
    ArenaChunk *chunks; /* most recently added first */
    char *ptr;          /* free space in the current chunk */
    char *end;
} Arena;

void arena_init(Arena *arena);

/* Returns SIZE zeroed bytes aligned for any object type. */
void *arena_alloc(Arena *arena, size_t size);

/* Returns a block of NEW_SIZE bytes holding the first OLD_SIZE bytes of OLD
 * (which may be NULL); the rest is zeroed. OLD stays valid but is wasted. */
void *arena_grow(Arena *arena, void *old, size_t old_size, size_t new_size);

/* Copies LEN bytes of S and appends a NUL. */
char *arena_strndup(Arena *arena, const char *s, size_t len);

/* Frees every allocation; the arena may be used again afterwards. */
void arena_free(Arena *arena);

#endif
