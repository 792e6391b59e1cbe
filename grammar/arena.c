#include "grammar/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK_SIZE (64 * 1024)
#define ARENA_ALIGN alignof(max_align_t)

struct ArenaChunk {
    ArenaChunk *next;
    alignas(max_align_t) char data[];
};

void arena_init(Arena *arena)
{
    arena->chunks = NULL;
    arena->ptr = NULL;
    arena->end = NULL;
}

static ArenaChunk *chunk_new(size_t size)
{
    if (size > SIZE_MAX - sizeof(ArenaChunk)) {
        fputs("mini: out of memory\n", stderr);
        abort();
    }
    ArenaChunk *chunk = malloc(sizeof(ArenaChunk) + size);
    if (!chunk) {
        fputs("mini: out of memory\n", stderr);
        abort();
    }
    return chunk;
}

void *arena_alloc(Arena *arena, size_t size)
{
    size_t rounded = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (rounded < size)
        rounded = SIZE_MAX; /* overflow: let chunk_new report it */
    if (rounded == 0)
        rounded = ARENA_ALIGN; /* distinct pointers even for empty blocks */
    if (arena->ptr && (size_t)(arena->end - arena->ptr) >= rounded) {
        void *p = arena->ptr;
        arena->ptr += rounded;
        memset(p, 0, size);
        return p;
    }
    if (rounded > ARENA_CHUNK_SIZE / 4) {
        /* A big block gets a chunk of its own, linked behind the current one
         * so that the current chunk's free space is not abandoned. */
        ArenaChunk *chunk = chunk_new(rounded);
        if (arena->chunks) {
            chunk->next = arena->chunks->next;
            arena->chunks->next = chunk;
        } else {
            chunk->next = NULL;
            arena->chunks = chunk;
            arena->ptr = arena->end = chunk->data + rounded;
        }
        memset(chunk->data, 0, size);
        return chunk->data;
    }
    ArenaChunk *chunk = chunk_new(ARENA_CHUNK_SIZE);
    chunk->next = arena->chunks;
    arena->chunks = chunk;
    arena->ptr = chunk->data + rounded;
    arena->end = chunk->data + ARENA_CHUNK_SIZE;
    memset(chunk->data, 0, size);
    return chunk->data;
}

void *arena_grow(Arena *arena, void *old, size_t old_size, size_t new_size)
{
    void *p = arena_alloc(arena, new_size);
    if (old && old_size)
        memcpy(p, old, old_size < new_size ? old_size : new_size);
    return p;
}

char *arena_strndup(Arena *arena, const char *s, size_t len)
{
    char *p = arena_alloc(arena, len + 1);
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void arena_free(Arena *arena)
{
    ArenaChunk *chunk = arena->chunks;
    while (chunk) {
        ArenaChunk *next = chunk->next;
        free(chunk);
        chunk = next;
    }
    arena_init(arena);
}
