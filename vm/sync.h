#ifndef MINI_VM_SYNC_H
#define MINI_VM_SYNC_H

/* Checked pthread calls. A failing mutex or condition call means the
 * interpreter's own locking is broken (EINVAL, EDEADLK...): continuing
 * would corrupt state, so report where and abort. */

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

void sync_fail(const char *call, int err, const char *file, int line);

/* A condition variable whose timed waits use CLOCK_MONOTONIC: setting the
 * wall clock must not stretch or cut a timeout. */
void sync_cond_init(pthread_cond_t *cond);
/* One wait on cond until `until` (CLOCK_MONOTONIC, from sync_deadline; NULL:
 * no limit), the mutex held. False once the deadline has passed. A robust
 * mutex whose holder died is made consistent (the waiter now holds it). */
bool sync_cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *mutex, const struct timespec *until);
/* CLOCK_MONOTONIC now plus `seconds` (>= 0). */
struct timespec sync_deadline(double seconds);
bool sync_before(const struct timespec *a, const struct timespec *b);
/* Milliseconds from now until *until, rounded up (poll's unit); -1: no
 * deadline (NULL). */
int sync_ms_until(const struct timespec *until);
/* Seconds from now to a sync_deadline, 0 once it has passed. */
double sync_seconds_until(const struct timespec *deadline);

#define PT_CHECK(call)                                          \
    do {                                                        \
        int pt_err_ = (call);                                   \
        if (pt_err_ != 0) sync_fail(#call, pt_err_, __FILE__, __LINE__); \
    } while (0)

#define MUTEX_LOCK(m) PT_CHECK(pthread_mutex_lock(m))
#define MUTEX_UNLOCK(m) PT_CHECK(pthread_mutex_unlock(m))
#define COND_WAIT(c, m) PT_CHECK(pthread_cond_wait(c, m))
#define COND_BROADCAST(c) PT_CHECK(pthread_cond_broadcast(c))
#define COND_SIGNAL(c) PT_CHECK(pthread_cond_signal(c))

#endif
