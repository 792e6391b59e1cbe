/* The _random module: the Mersenne Twister (MT19937) core under
 * stdlib/random.mini, as CPython's _random is under its random.py.
 *
 * random.mini does the seeding policy (which int a str or float seed
 * becomes) and every distribution; this file holds the generator state and
 * the hot draws: random() (53 bits from two 32-bit outputs, CPython's
 * formula), getrandbits(k), randbelow(n) (CPython's rejection sampling on
 * getrandbits(n.bit_length())) and the state as CPython's 625-int tuple.
 *
 * Each generator has a mutex so that a draw is atomic with the GIL on or
 * off, as a C method of CPython's is under its GIL: threads sharing the
 * module's generator never corrupt it or see the same output twice. */

#include <gmp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "runtime/args.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/function.h"
#include "runtime/gmpalloc.h"
#include "runtime/int.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "stdlib/modules.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/sync.h"
#include "vm/vm.h"

#define MT_N 624
#define MT_M 397
#define MT_MATRIX_A 0x9908b0dfU
#define MT_UPPER_MASK 0x80000000U
#define MT_LOWER_MASK 0x7fffffffU

typedef struct ObjTwister {
    Obj obj;
    pthread_mutex_t mutex;
    uint32_t state[MT_N];
    int index;
} ObjTwister;

static void init_genrand(ObjTwister *g, uint32_t s) {
    g->state[0] = s;
    for (int i = 1; i < MT_N; i++)
        g->state[i] = 1812433253U * (g->state[i - 1] ^ (g->state[i - 1] >> 30)) + (uint32_t)i;
    g->index = MT_N;
}

static void init_by_array(ObjTwister *g, const uint32_t *key, size_t len) {
    uint32_t *mt = g->state;
    init_genrand(g, 19650218U);
    size_t i = 1, j = 0;
    for (size_t k = MT_N > len ? MT_N : len; k; k--) {
        mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1664525U)) + key[j] + (uint32_t)j;
        i++;
        j++;
        if (i >= MT_N) {
            mt[0] = mt[MT_N - 1];
            i = 1;
        }
        if (j >= len) j = 0;
    }
    for (size_t k = MT_N - 1; k; k--) {
        mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1566083941U)) - (uint32_t)i;
        i++;
        if (i >= MT_N) {
            mt[0] = mt[MT_N - 1];
            i = 1;
        }
    }
    mt[0] = 0x80000000U;
}

/* Called with the mutex held. */
static uint32_t genrand_uint32(ObjTwister *g) {
    uint32_t *mt = g->state, y;
    if (g->index >= MT_N) {
        int kk;
        for (kk = 0; kk < MT_N - MT_M; kk++) {
            y = (mt[kk] & MT_UPPER_MASK) | (mt[kk + 1] & MT_LOWER_MASK);
            mt[kk] = mt[kk + MT_M] ^ (y >> 1) ^ ((y & 1) ? MT_MATRIX_A : 0);
        }
        for (; kk < MT_N - 1; kk++) {
            y = (mt[kk] & MT_UPPER_MASK) | (mt[kk + 1] & MT_LOWER_MASK);
            mt[kk] = mt[kk + (MT_M - MT_N)] ^ (y >> 1) ^ ((y & 1) ? MT_MATRIX_A : 0);
        }
        y = (mt[MT_N - 1] & MT_UPPER_MASK) | (mt[0] & MT_LOWER_MASK);
        mt[MT_N - 1] = mt[MT_M - 1] ^ (y >> 1) ^ ((y & 1) ? MT_MATRIX_A : 0);
        g->index = 0;
    }
    y = mt[g->index++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680U;
    y ^= (y << 15) & 0xefc60000U;
    y ^= y >> 18;
    return y;
}

/* k <= 64 random bits, CPython's word order (the first output lowest). */
static uint64_t genrand_bits64(ObjTwister *g, int k) {
    if (k <= 32) return k ? genrand_uint32(g) >> (32 - k) : 0;
    uint64_t lo = genrand_uint32(g);
    uint64_t hi = genrand_uint32(g) >> (64 - k);
    return lo | (hi << 32);
}

static Value twister_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    (void)args;
    if (!args_check(ts, "MersenneTwister", nargs, kwnames, 0, 0)) return ERROR_VAL;
    ObjTwister *g = (ObjTwister *)gc_alloc(ts, sizeof(ObjTwister), OBJ_OPAQUE, type);
    if (!g) return ERROR_VAL;
    PT_CHECK(pthread_mutex_init(&g->mutex, NULL));
    init_genrand(g, 5489U);
    return OBJ_VAL(g);
}

static void twister_finalize(Obj *self) {
    pthread_mutex_destroy(&((ObjTwister *)self)->mutex);
}

static void twister_after_fork(Obj *self) {
    PT_CHECK(pthread_mutex_init(&((ObjTwister *)self)->mutex, NULL));
}

static ObjTwister *self_of(Value *args) {
    return (ObjTwister *)AS_OBJ(args[0]);
}

/* seed(n): init_by_array on the 32-bit words of the int n >= 0, lowest
 * first (random.mini turns every other seed into such an int). */
static Value twister_seed(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "seed", nargs, kwnames, 2, 2)) return ERROR_VAL;
    if (!IS_INTLIKE(args[1])) return err_format(ts, ts->interp->exc.TypeError, "seed must be an int");
    mpz_t view;
    mp_limb_t tmp[2];
    int_as_mpz(args[1], view, tmp);
    if (mpz_sgn(view) < 0) return err_format(ts, ts->interp->exc.ValueError, "seed must be non-negative");
    size_t words = (mpz_sizeinbase(view, 2) + 31) / 32;
    uint32_t *key = calloc(words ? words : 1, sizeof *key);
    if (!key) return err_no_memory(ts);
    size_t count = 0;
    if (mpz_sgn(view) != 0) mpz_export(key, &count, -1, sizeof *key, 0, 0, view);
    ObjTwister *g = self_of(args);
    MUTEX_LOCK(&g->mutex);
    init_by_array(g, key, count ? count : 1);
    MUTEX_UNLOCK(&g->mutex);
    free(key);
    return NONE_VAL;
}

static Value twister_random(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "random", nargs, kwnames, 1, 1)) return ERROR_VAL;
    ObjTwister *g = self_of(args);
    MUTEX_LOCK(&g->mutex);
    uint32_t a = genrand_uint32(g) >> 5, b = genrand_uint32(g) >> 6;
    MUTEX_UNLOCK(&g->mutex);
    return FLOAT_VAL((a * 67108864.0 + b) * (1.0 / 9007199254740992.0));
}

/* k random bits as an int; beyond 64 bits through GMP. */
static Value random_bits(TState *ts, ObjTwister *g, int64_t k) {
    if (k <= 64) {
        MUTEX_LOCK(&g->mutex);
        uint64_t r = genrand_bits64(g, (int)k);
        MUTEX_UNLOCK(&g->mutex);
        return int_from_u64(ts, r);
    }
    size_t words = (size_t)((k - 1) / 32 + 1);
    uint32_t *w = malloc(words * sizeof *w);
    if (!w) return err_no_memory(ts);
    MUTEX_LOCK(&g->mutex);
    for (size_t i = 0; i < words; i++, k -= 32) {
        uint32_t r = genrand_uint32(g);
        w[i] = k < 32 ? r >> (32 - k) : r;
    }
    MUTEX_UNLOCK(&g->mutex);
    mpz_t z;
    mpz_init(z);
    GmpGuard guard;
    gmpalloc_begin(&guard);
    if (setjmp(guard.env)) {
        free(w);
        return err_no_memory(ts);
    }
    mpz_import(z, words, -1, sizeof *w, 0, 0, w);
    gmpalloc_end(&guard);
    free(w);
    Value r = int_from_mpz(ts, z);
    mpz_clear(z);
    return r;
}

static Value twister_getrandbits(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "getrandbits", nargs, kwnames, 2, 2)) return ERROR_VAL;
    int64_t k;
    if (!args_int(ts, args[1], &k)) return ERROR_VAL;
    if (k < 0) return err_format(ts, ts->interp->exc.ValueError, "number of bits must be non-negative");
    return random_bits(ts, self_of(args), k);
}

/* randbelow(n) for 0 < n < 2**63: getrandbits(n.bit_length()) until below n,
 * all under one lock. Larger n is random.mini's loop over getrandbits. */
static Value twister_randbelow(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "randbelow", nargs, kwnames, 2, 2)) return ERROR_VAL;
    int64_t n;
    if (!IS_INTLIKE(args[1]) || !int_to_i64(args[1], &n) || n <= 0)
        return err_format(ts, ts->interp->exc.ValueError, "randbelow() needs 0 < n < 2**63");
    int k = 64 - __builtin_clzll((uint64_t)n);
    ObjTwister *g = self_of(args);
    MUTEX_LOCK(&g->mutex);
    uint64_t r = genrand_bits64(g, k);
    while (r >= (uint64_t)n) r = genrand_bits64(g, k);
    MUTEX_UNLOCK(&g->mutex);
    return int_from_i64(ts, (int64_t)r);
}

/* The state as CPython's getstate()[1]: 624 words and the index. */
static Value twister_getstate(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "getstate", nargs, kwnames, 1, 1)) return ERROR_VAL;
    ObjTuple *t = tuple_new(ts, MT_N + 1);
    if (!t) return ERROR_VAL;
    ObjTwister *g = self_of(args);
    MUTEX_LOCK(&g->mutex);
    for (int i = 0; i < MT_N; i++) t->items[i] = INT_VAL((int64_t)g->state[i]);
    t->items[MT_N] = INT_VAL((int64_t)g->index);
    MUTEX_UNLOCK(&g->mutex);
    return OBJ_VAL(t);
}

static Value twister_setstate(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "setstate", nargs, kwnames, 2, 2)) return ERROR_VAL;
    if (!IS_TUPLE(args[1])) return err_format(ts, ts->interp->exc.TypeError, "state vector must be a tuple");
    ObjTuple *t = AS_TUPLE(args[1]);
    if (t->len != MT_N + 1) return err_format(ts, ts->interp->exc.ValueError, "state vector is the wrong size");
    uint32_t state[MT_N];
    int64_t v;
    for (int i = 0; i < MT_N; i++) {
        if (!IS_INTLIKE(t->items[i]))
            return err_format(ts, ts->interp->exc.TypeError, "state vector items must be integers");
        if (!int_to_i64(t->items[i], &v) || v < 0 || v > (int64_t)UINT32_MAX)
            return err_format(ts, ts->interp->exc.OverflowError, "Python int too large to convert to C unsigned long");
        state[i] = (uint32_t)v;
    }
    if (!IS_INTLIKE(t->items[MT_N]))
        return err_format(ts, ts->interp->exc.TypeError, "state vector items must be integers");
    if (!int_to_i64(t->items[MT_N], &v) || v < 0 || v > MT_N)
        return err_format(ts, ts->interp->exc.ValueError, "invalid state");
    ObjTwister *g = self_of(args);
    MUTEX_LOCK(&g->mutex);
    for (int i = 0; i < MT_N; i++) g->state[i] = state[i];
    g->index = (int)v;
    MUTEX_UNLOCK(&g->mutex);
    return NONE_VAL;
}

static const NativeDef twister_methods[] = {
    {"seed", twister_seed},
    {"random", twister_random},
    {"getrandbits", twister_getrandbits},
    {"randbelow", twister_randbelow},
    {"getstate", twister_getstate},
    {"setstate", twister_setstate},
    {NULL, NULL},
};

static const TypeSpec twister_spec = {
    .name = "MersenneTwister",
    .kind = OBJ_OPAQUE,
    .new_ = twister_new,
    .finalize = twister_finalize,
    .after_fork = twister_after_fork,
    .methods = twister_methods,
};

bool mod_random_init(TState *ts, ObjDict *ns) {
    ObjType *t = type_from_spec(ts, &twister_spec, NULL);
    if (!t) return false;
    t->module = OBJ_VAL(str_intern_cstr(ts, "_random"));
    return dict_set_str(ts, ns, t->name, OBJ_VAL(t)) == 0;
}
