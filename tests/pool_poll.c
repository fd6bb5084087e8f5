/*
 * pool_poll.c: event_fd and poll (pvt.h), for every backend with
 * PVT_CAP_POLL, as a driver with an event loop of its own uses them: its
 * epoll set holds the pool's event_fd, it sleeps there, and polls when the
 * descriptor turns readable.
 *  - Every job submitted comes back exactly once, with its value, and the
 *    descriptor turns readable for each batch (the loop never polls blind).
 *  - More results than one poll takes: the descriptor stays readable.
 *  - With nothing outstanding poll says -ENOENT.
 *  - PROCESSES: a job that crashes its worker comes back PVT_JOB_FAILED
 *    through the same descriptor, and the pool takes jobs again.
 *  - Without the bit (the reference pools) both slots are NULL.
 * No test here times anything: every wait is bounded and only its outcome
 * is asserted.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "bench/backends/backends.h"
#include "pool_cases.h"
#include "pool_harness.h"
#include "shared/core/pvt.h"
#include "shared/work/work.h"

#define WAIT_MS 20000 /* a bound on one wait, never a figure */

/* An epoll set with the pool's event_fd in it. */
static int loop_new(const struct pvt_pool_ops *ops, struct pvt_pool *p)
{
    struct epoll_event ev = {.events = EPOLLIN};
    int ep = epoll_create1(EPOLL_CLOEXEC);

    assert_true(ep >= 0);
    assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, ops->event_fd(p), &ev), 0);
    return ep;
}

/* Sleep in the loop until the descriptor is readable; 1 if it was. */
static int loop_wait(int ep)
{
    struct epoll_event ev;
    int n;

    do
        n = epoll_wait(ep, &ev, 1, WAIT_MS);
    while (n < 0 && errno == EINTR);
    return n == 1;
}

/* Poll until want results came back, waiting in the loop between polls.
 * Each result's id is counted in seen[]; returns how many came. */
static int drain_all(const struct pvt_pool_ops *ops, struct pvt_pool *p, int ep, int want,
                     struct pvt_result *out, int max_per_poll)
{
    int got = 0, rc;

    while (got < want) {
        rc = ops->poll(p, out + got, max_per_poll < want - got ? max_per_poll : want - got);
        if (rc < 0)
            fail_msg("[%s] poll: %s after %d of %d results", ops->name, strerror(-rc), got,
                     want);
        got += rc;
        if (got < want && !loop_wait(ep))
            fail_msg("[%s] the event descriptor never turned readable: %d of %d results", ops->name,
                     got, want);
    }
    return got;
}

static void expect_round_trip(const struct pvt_pool_ops *ops)
{
    enum { N = 40 };
    struct pvt_pool *p = pool_new(ops, 2, 0);
    struct pvt_result res[N];
    struct pvt_job jobs[N];
    int seen[N] = {0}, ep, i, n = 0, rc;

    ep = loop_new(ops, p);
    for (i = 0; i < N; i++)
        jobs[i] = (struct pvt_job){.id = (uint64_t)i, .workload = PVT_WL_CPU, .arg = 1000 + i};
    while (n < N) {
        rc = ops->submit(p, jobs + n, N - n);
        if (rc < 0)
            fail_msg("[%s] submit: %s", ops->name, strerror(-rc));
        n += rc;
    }
    /* Three at a time: the descriptor must stay readable while results wait. */
    assert_int_equal(drain_all(ops, p, ep, N, res, 3), N);
    for (i = 0; i < N; i++) {
        int id = (int)res[i].id;
        assert_true(id >= 0 && id < N);
        seen[id]++;
        assert_int_equal(res[i].status, PVT_JOB_OK);
        struct pvt_job j = jobs[id];
        assert_true(res[i].value == pvt_work_expected(j.workload, j.arg));
    }
    for (i = 0; i < N; i++)
        if (seen[i] != 1)
            fail_msg("[%s] job %d came back %d times", ops->name, i, seen[i]);
    assert_int_equal(ops->poll(p, res, N), -ENOENT);
    close(ep);
    pool_close(p);
}

static void expect_crash_fails_one(const struct pvt_pool_ops *ops)
{
    struct pvt_pool *p = pool_new(ops, 2, 0);
    struct pvt_job crash = {.id = 7, .workload = PVT_WL_CRASH};
    struct pvt_job ok = {.id = 8, .workload = PVT_WL_CPU, .arg = 5000};
    struct pvt_result res[1];
    int ep = loop_new(ops, p);

    assert_int_equal(ops->submit(p, &crash, 1), 1);
    assert_int_equal(drain_all(ops, p, ep, 1, res, 1), 1);
    assert_true(res[0].id == 7);
    assert_int_equal(res[0].status, PVT_JOB_FAILED);
    /* The pool replaced the worker and answers through the same descriptor. */
    assert_int_equal(ops->submit(p, &ok, 1), 1);
    assert_int_equal(drain_all(ops, p, ep, 1, res, 1), 1);
    assert_true(res[0].id == 8);
    assert_int_equal(res[0].status, PVT_JOB_OK);
    assert_true(res[0].value == pvt_work_expected(PVT_WL_CPU, 5000));
    close(ep);
    pool_close(p);
}

void test_poll_contract(void **state)
{
    const struct pvt_pool_ops *const *bp;

    (void)state;
    for (bp = pvt_backends; *bp; bp++) {
        const struct pvt_pool_ops *ops = *bp;
        if (!(ops->caps & PVT_CAP_POLL)) {
            assert_null(ops->event_fd);
            assert_null(ops->poll);
            continue;
        }
        assert_non_null(ops->event_fd);
        assert_non_null(ops->poll);
        expect_round_trip(ops);
        if (ops->caps & PVT_CAP_PROCESSES)
            expect_crash_fails_one(ops);
    }
    for (bp = pvt_references; *bp; bp++)
        if (!((*bp)->caps & PVT_CAP_POLL)) {
            assert_null((*bp)->event_fd);
            assert_null((*bp)->poll);
        }
}
