/*
 * ring_harness.c: the fixture declared in ring_harness.h. No cmocka assert is
 * ever called on a worker thread; the test thread checks after the fact.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ring_harness.h"


static void *worker_cb(void *arg)
{
    /* Only the loop: no asserts on this thread. */
    pvt_ring_worker_loop(arg);
    return NULL;
}

/* The backend's wait, as the thread backend does it: poll the waker's efd. */
int wait_cb(void *arg, int timeout_ms)
{
    struct harness *h = arg;
    struct pollfd pfd = {.fd = h->g.waker->efd, .events = POLLIN};
    int rc;

    h->waits++;
    if (timeout_ms == 0)
        h->zero_waits++;
    rc = poll(&pfd, 1, timeout_ms);
    if (rc < 0 && errno != EINTR)
        return -errno;
    if (rc == 0)
        h->poll_timeouts++;
    return h->wait_rc;
}

int setup(void **state)
{
    struct harness *h = calloc(1, sizeof(*h));

    if (!h)
        return -1;
    *state = h;
    return 0;
}

/* Join worker i by the deadline. 1 if joined (now or before). */
int join_one(struct harness *h, int i, const struct timespec *deadline)
{
    if (!h->started[i] || h->joined[i])
        return 1;
    if (pthread_timedjoin_np(h->tid[i], NULL, deadline) != 0)
        return 0;
    h->joined[i] = 1;
    return 1;
}

int teardown(void **state)
{
    struct harness *h = *state;
    struct timespec ts;
    int i, stuck = 0;

    pvt_realtime_after(&ts, JOIN_MS);
    for (i = 0; i < MAX_RINGS; i++) {
        if (h->started[i] && !h->joined[i]) {
            pvt_ring_request_stop(h->g.rings[i], 2);
            if (!join_one(h, i, &ts)) {
                pthread_detach(h->tid[i]);
                stuck = 1;
            }
        }
    }
    if (h->disp_ok)
        pvt_disp_fini(&h->d);
    if (h->mapped && !stuck)
        pvt_region_unmap(&h->g);
    free(h->seen);
    free(h);
    return stuck ? -1 : 0;
}

/* Map n rings of depth slots, a dispatcher over them, every ring live. */
void h_open(struct harness *h, int n, uint32_t depth)
{
    int i;

    assert_true(n >= 1 && n <= MAX_RINGS);
    assert_int_equal(pvt_region_map(&h->g, n, depth, 0), 0);
    h->mapped = 1;
    assert_int_equal(pvt_disp_init(&h->d, n, depth, h->g.rings, h->g.waker), 0);
    h->disp_ok = 1;
    for (i = 0; i < n; i++)
        h->d.live[i] = 1;
}

void h_start(struct harness *h, int i)
{
    assert_false(h->started[i]);
    assert_int_equal(pthread_create(&h->tid[i], NULL, worker_cb, h->g.rings[i]), 0);
    h->started[i] = 1;
}

/* Ask worker i to stop (how: 1 or 2) and join it; fails the test if it does
 * not exit within JOIN_MS. */
void h_stop_join(struct harness *h, int i, unsigned how)
{
    struct timespec ts;

    assert_true(h->started[i]);
    pvt_ring_request_stop(h->g.rings[i], how);
    pvt_realtime_after(&ts, JOIN_MS);
    if (!join_one(h, i, &ts))
        fail_msg("worker %d did not exit within %d ms of request_stop(%u)", i, JOIN_MS, how);
}

/* Join worker i, which was told to stop before it started. */
void h_join(struct harness *h, int i)
{
    struct timespec ts;

    pvt_realtime_after(&ts, JOIN_MS);
    if (!join_one(h, i, &ts))
        fail_msg("worker %d did not exit within %d ms", i, JOIN_MS);
}

void make_jobs(struct pvt_job *jobs, int n, uint64_t first_id, uint32_t wl, uint64_t arg)
{
    int k;

    for (k = 0; k < n; k++)
        jobs[k] = (struct pvt_job){.id = first_id + (uint64_t)k, .workload = wl, .arg = arg};
}

uint64_t tail_of(struct harness *h, int i)
{
    return atomic_load(&h->g.rings[i]->tail);
}

uint64_t done_of(struct harness *h, int i)
{
    return atomic_load(&h->g.rings[i]->done);
}

/* Wait (bounded) until worker i has announced it is going to sleep. */
int wait_sleeping(struct harness *h, int i, int ms)
{
    uint64_t end = pvt_now_ns() + (uint64_t)ms * 1000000u;
    struct timespec pause = {.tv_nsec = 20000};

    while (pvt_now_ns() < end) {
        if (atomic_load(&h->g.rings[i]->sleeping))
            return 1;
        nanosleep(&pause, NULL);
    }
    return 0;
}

int wait_idle(struct harness *h, int i, int ms)
{
    uint64_t end = pvt_now_ns() + (uint64_t)ms * 1000000u;
    struct timespec pause = {.tv_nsec = 20000};

    while (pvt_now_ns() < end) {
        if (done_of(h, i) == tail_of(h, i) && atomic_load(&h->g.rings[i]->sleeping))
            return 1;
        nanosleep(&pause, NULL);
    }
    return 0;
}

/*
 * collect with a WAIT_MS timeout, while workers serve every ring with work:
 * the driver's wait must end with a kick from a worker (its ring reached the
 * wake point, or it went idle), never by running out its time. A poll that
 * times out, or a collect that returns nothing, means the driver slept
 * WAIT_MS through finished work: a lost wake-up.
 */
int collect_live(struct harness *h, struct pvt_result *res, int max)
{
    int n = pvt_disp_collect(&h->d, res, max, WAIT_MS, wait_cb, h);

    if (n <= 0 || h->poll_timeouts > 0)
        fail_msg("collect returned %d, %d waits timed out, with %llu outstanding "
                 "(done %llu/%llu of %llu/%llu): a lost wake-up",
                 n, h->poll_timeouts, (unsigned long long)pvt_disp_outstanding(&h->d),
                 (unsigned long long)atomic_load(&h->g.rings[0]->done),
                 (unsigned long long)(h->g.n > 1 ? atomic_load(&h->g.rings[1]->done) : 0),
                 (unsigned long long)atomic_load(&h->g.rings[0]->tail),
                 (unsigned long long)(h->g.n > 1 ? atomic_load(&h->g.rings[1]->tail) : 0));
    return n;
}

/* Collect exactly want results into res, as collect_live. */
void collect_n(struct harness *h, struct pvt_result *res, int want)
{
    int got = 0;

    while (got < want)
        got += collect_live(h, res + got, want - got);
}
