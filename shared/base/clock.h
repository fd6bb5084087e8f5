/*
 * clock.h: time and sleeping, for every layer: the monotonic clock in
 * nanoseconds, a CLOCK_REALTIME deadline, and the futex wait and wake the
 * rings and the message channel are built on.
 */
#ifndef PVT_CLOCK_H
#define PVT_CLOCK_H

#include <stdatomic.h>
#include <stdint.h>

/* CLOCK_REALTIME ms from now, as pthread_timedjoin_np wants its deadline. */
struct timespec;
void pvt_realtime_after(struct timespec *ts, int ms);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t pvt_now_ns(void);

/*
 * Futex helpers: wait while *word == val (timeout_ms < 0: forever), wake n.
 * The wait returns 0 when woken or the value differed, -ETIMEDOUT, -EINTR.
 */
int pvt_futex_wait(atomic_uint *word, unsigned val, int shared, int timeout_ms);
void pvt_futex_wake(atomic_uint *word, int n, int shared);

#endif
