/*
 * clock.c: the monotonic clock, deadlines, and the futex wrappers.
 */
#include "clock.h"

#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

void pvt_realtime_after(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

uint64_t pvt_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int pvt_futex_wait(atomic_uint *word, unsigned val, int shared, int timeout_ms)
{
    struct timespec ts, *tp = NULL;
    int op = shared ? FUTEX_WAIT : FUTEX_WAIT_PRIVATE;

    if (timeout_ms >= 0) {
        ts.tv_sec = timeout_ms / 1000;
        ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000;
        tp = &ts;
    }
    if (syscall(SYS_futex, (unsigned *)word, op, val, tp, NULL, 0) == 0)
        return 0;
    if (errno == EAGAIN)
        return 0;
    return -errno;
}

void pvt_futex_wake(atomic_uint *word, int n, int shared)
{
    int op = shared ? FUTEX_WAKE : FUTEX_WAKE_PRIVATE;

    syscall(SYS_futex, (unsigned *)word, op, n, NULL, NULL, 0);
}
