#ifndef MINI_RUNTIME_GMPALLOC_H
#define MINI_RUNTIME_GMPALLOC_H

/* GMP's memory, failing softly.
 *
 * GMP cannot report an allocation failure: its allocator must return
 * memory or not return at all (by default it prints "Cannot allocate
 * memory" and aborts). So the mpz calls that may need much memory run
 * inside a guard:
 *
 *     GmpGuard g;
 *     gmpalloc_begin(&g);
 *     if (setjmp(g.env)) return err_no_memory(ts);
 *     mpz_pow_ui(r, base, e);
 *     gmpalloc_end(&g);
 *
 * If GMP's allocator finds no memory while a guard is active on the thread,
 * it frees every block GMP allocated or reallocated since gmpalloc_begin
 * and jumps back to the setjmp. Why the jump is safe: it only ever starts
 * in GMP's allocator, so the frames it skips are GMP's own and the guarded
 * statements', which take no lock and allocate nothing but GMP memory (no
 * objects, nothing of the thread's state), and what GMP held is exactly the
 * blocks the guard tracks. After the jump the mpz's the statements wrote
 * are gone (their limbs were freed): don't read or clear them.
 *
 * Outside a guard, a failure ends the process as GMP's own allocator did. */

#include <setjmp.h>

typedef struct GmpBlock {
    struct GmpBlock *prev, *next;
} GmpBlock;

typedef struct GmpGuard {
    jmp_buf env;
    GmpBlock blocks; /* list head: what GMP allocated inside the guard */
    struct GmpGuard *outer;
} GmpGuard;

/* Makes GMP allocate through this module (once per process). */
void gmpalloc_install(void);
void gmpalloc_begin(GmpGuard *g);
/* Ends the guard: what GMP still holds now belongs to the mpz's as usual. */
void gmpalloc_end(GmpGuard *g);

#endif
