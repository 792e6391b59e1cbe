#include "runtime/gmpalloc.h"

#include <gmp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "vm/sync.h"

/* Every GMP block starts with its GmpBlock links (16 bytes: the limbs stay
 * 16-byte aligned): linked into the active guard's list, or NULL links. */
static _Thread_local GmpGuard *active;

static void link_block(GmpBlock *b) {
    if (!active) {
        b->prev = b->next = NULL;
        return;
    }
    GmpBlock *head = &active->blocks;
    b->prev = head;
    b->next = head->next;
    head->next->prev = b;
    head->next = b;
}

static void unlink_block(GmpBlock *b) {
    if (!b->prev) return;
    b->prev->next = b->next;
    b->next->prev = b->prev;
}

static _Noreturn void out_of_memory(void) {
    GmpGuard *g = active;
    if (!g) {
        fputs("mini: fatal: out of memory in GMP\n", stderr);
        abort();
    }
    for (GmpBlock *b = g->blocks.next, *next; b != &g->blocks; b = next) {
        next = b->next;
        free(b);
    }
    active = g->outer;
    longjmp(g->env, 1);
}

static void *gmp_alloc(size_t size) {
    GmpBlock *b = malloc(sizeof *b + size);
    if (!b) out_of_memory();
    link_block(b);
    return b + 1;
}

static void *gmp_realloc(void *p, size_t old_size, size_t new_size) {
    (void)old_size;
    GmpBlock *b = (GmpBlock *)p - 1;
    unlink_block(b);
    GmpBlock *nb = realloc(b, sizeof *nb + new_size);
    if (!nb) {
        /* Still the caller's: freed with the guard's other blocks. */
        link_block(b);
        out_of_memory();
    }
    link_block(nb);
    return nb + 1;
}

static void gmp_free(void *p, size_t size) {
    (void)size;
    GmpBlock *b = (GmpBlock *)p - 1;
    unlink_block(b);
    free(b);
}

static void install(void) { mp_set_memory_functions(gmp_alloc, gmp_realloc, gmp_free); }

void gmpalloc_install(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    PT_CHECK(pthread_once(&once, install));
}

void gmpalloc_begin(GmpGuard *g) {
    g->blocks.prev = g->blocks.next = &g->blocks;
    g->outer = active;
    active = g;
}

void gmpalloc_end(GmpGuard *g) {
    active = g->outer;
    /* An enclosing guard takes over the blocks; else they are untracked. */
    for (GmpBlock *b = g->blocks.next, *next; b != &g->blocks; b = next) {
        next = b->next;
        link_block(b);
    }
}
