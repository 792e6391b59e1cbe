#include "vm/sync.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sync_fail(const char *call, int err, const char *file, int line) {
    fprintf(stderr, "mini: fatal: %s failed at %s:%d: %s\n", call, file, line, strerror(err));
    abort();
}

void sync_cond_init(pthread_cond_t *cond) {
    pthread_condattr_t attr;
    PT_CHECK(pthread_condattr_init(&attr));
    PT_CHECK(pthread_condattr_setclock(&attr, CLOCK_MONOTONIC));
    PT_CHECK(pthread_cond_init(cond, &attr));
    PT_CHECK(pthread_condattr_destroy(&attr));
}

bool sync_cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *mutex, const struct timespec *until) {
    int r = until ? pthread_cond_timedwait(cond, mutex, until) : pthread_cond_wait(cond, mutex);
    if (r == EOWNERDEAD) r = pthread_mutex_consistent(mutex);
    if (r == ETIMEDOUT) return false;
    if (r) sync_fail(until ? "pthread_cond_timedwait" : "pthread_cond_wait", r, __FILE__, __LINE__);
    return true;
}

struct timespec sync_deadline(double seconds) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    /* About 30 years: far enough to mean "never", near enough for time_t. */
    if (seconds > 1e9) seconds = 1e9;
    double whole = (double)(time_t)seconds;
    t.tv_sec += (time_t)whole;
    t.tv_nsec += (long)((seconds - whole) * 1e9);
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

bool sync_before(const struct timespec *a, const struct timespec *b) {
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

double sync_seconds_until(const struct timespec *deadline) {
    struct timespec now = sync_deadline(0);
    if (!sync_before(&now, deadline)) return 0;
    return (double)(deadline->tv_sec - now.tv_sec) + (double)(deadline->tv_nsec - now.tv_nsec) / 1e9;
}

int sync_ms_until(const struct timespec *until) {
    if (!until) return -1;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!sync_before(&now, until)) return 0;
    int64_t ns = (int64_t)(until->tv_sec - now.tv_sec) * 1000000000 + (until->tv_nsec - now.tv_nsec);
    int64_t ms = (ns + 999999) / 1000000;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}
