/*
 * test_disp: the dispatcher's window and backlog (disp.h), without a backend.
 *
 * The window decides how much of a worker's queue sits in its ring; the
 * backlog holds the rest of what submit accepted. These tests pin the window
 * by hand (it is normally measured) and check that capacity, order, flushing
 * and dropping behave as disp.h says. No test asserts speed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>

#include "shared/core/pvt.h"
#include "ring_harness.h"
#include "shared/work/work.h"

static uint64_t backlog_of(struct harness *h)
{
    return h->d.bl_tail - h->d.bl_head;
}

/* Capacity is depth per live worker, whatever the window. */
static void test_capacity_is_depth(void **state)
{
    struct harness *h = *state;
    struct pvt_job jobs[80];

    h_open(h, 1, 64);
    h->d.window = 4;
    make_jobs(jobs, 80, 0, PVT_WL_NOOP, 0);
    assert_int_equal(pvt_disp_submit(&h->d, jobs, 80), 64);
    assert_int_equal(tail_of(h, 0), 4);
    assert_int_equal(backlog_of(h), 60);
    assert_int_equal(pvt_disp_outstanding(&h->d), 64);
    assert_int_equal(pvt_disp_submit(&h->d, jobs, 1), -EAGAIN);
}

/*
 * Jobs come back once each, in submission order, through ring and backlog.
 * Jobs as long as the slack keep the measured window at its floor of 4
 * (twice the slack holds 2 of them), so the ring never holds more than 4.
 */
static void test_backlog_order(void **state)
{
    struct harness *h = *state;
    struct pvt_job jobs[30];
    struct pvt_result res[30];
    uint64_t ms = (uint64_t)(PVT_DISP_SLACK_NS / 1e6);
    int k, sent = 0;

    h_open(h, 1, 64);
    h->d.window = 4;
    make_jobs(jobs, 30, 1000, PVT_WL_SLEEP, ms);
    h_start(h, 0);
    for (k = 0; k < 30;) {
        while (sent < 30) {
            int n = pvt_disp_submit(&h->d, jobs + sent, 30 - sent);
            if (n == -EAGAIN)
                break;
            assert_true(n > 0);
            sent += n;
        }
        assert_int_equal(h->d.window, 4);
        assert_true(tail_of(h, 0) - h->d.head[0] <= 4);
        k += collect_live(h, res + k, 30 - k);
    }
    for (k = 0; k < 30; k++) {
        assert_int_equal(res[k].id, 1000 + (uint64_t)k);
        assert_int_equal(res[k].status, PVT_JOB_OK);
        assert_int_equal(res[k].value, ms);
    }
    assert_int_equal(backlog_of(h), 0);
    assert_int_equal(pvt_disp_collect(&h->d, res, 1, 0, wait_cb, h), -ENOENT);
    h_stop_join(h, 0, 1);
}

/* Submit puts new jobs behind the backlog, never before it. */
static void test_no_overtaking(void **state)
{
    struct harness *h = *state;
    struct pvt_job jobs[12];

    h_open(h, 1, 16);
    h->d.window = 4;
    make_jobs(jobs, 12, 0, PVT_WL_NOOP, 0);
    assert_int_equal(pvt_disp_submit(&h->d, jobs, 10), 10);
    assert_int_equal(tail_of(h, 0), 4);
    assert_int_equal(backlog_of(h), 6);
    assert_int_equal(pvt_disp_submit(&h->d, jobs + 10, 2), 2);
    /* The ring still holds jobs 0..3; 10 and 11 wait behind 4..9. */
    assert_int_equal(tail_of(h, 0), 4);
    assert_int_equal(h->d.bl[(h->d.bl_tail - 1) % h->d.bl_cap].id, 11);
    assert_int_equal(h->d.bl[h->d.bl_head % h->d.bl_cap].id, 4);
}

/* Flush moves the whole backlog into the rings, up to their depth, so a
 * graceful stop runs everything that was accepted. */
static void test_flush_for_stop(void **state)
{
    struct harness *h = *state;
    struct pvt_job jobs[40];
    struct pvt_result res[40];
    int k;

    h_open(h, 2, 32);
    h->d.window = 4;
    make_jobs(jobs, 40, 0, PVT_WL_NOOP, 0);
    assert_int_equal(pvt_disp_submit(&h->d, jobs, 40), 40);
    assert_int_equal(tail_of(h, 0) + tail_of(h, 1), 8);
    pvt_disp_flush(&h->d);
    assert_int_equal(backlog_of(h), 0);
    assert_int_equal(tail_of(h, 0) + tail_of(h, 1), 40);
    assert_true(tail_of(h, 0) <= 32 && tail_of(h, 1) <= 32);
    /* Stop before they start: they exit only once their queues are empty. */
    pvt_ring_request_stop(h->g.rings[0], 1);
    pvt_ring_request_stop(h->g.rings[1], 1);
    h_start(h, 0);
    h_start(h, 1);
    h_join(h, 0);
    h_join(h, 1);
    k = pvt_disp_drain(&h->d, res, 40);
    assert_int_equal(k, 40);
    for (k = 0; k < 40; k++)
        assert_int_equal(res[k].status, PVT_JOB_OK);
}

/* With no live worker, backlog jobs come back dropped, each exactly once. */
static void test_backlog_dropped_without_workers(void **state)
{
    struct harness *h = *state;
    struct pvt_job jobs[20];
    struct pvt_result res[32];
    unsigned char seen[20] = {0};
    int k, got = 0, n;

    h_open(h, 1, 32);
    h->d.window = 4;
    make_jobs(jobs, 20, 0, PVT_WL_NOOP, 0);
    assert_int_equal(pvt_disp_submit(&h->d, jobs, 20), 20);
    /* The worker is gone for good: its ring's jobs and the backlog drop. */
    h->d.live[0] = 0;
    pvt_disp_drop_queued(&h->d, 0);
    while ((n = pvt_disp_drain(&h->d, res + got, 32 - got)) > 0)
        got += n;
    assert_int_equal(got, 20);
    for (k = 0; k < got; k++) {
        assert_int_equal(res[k].status, PVT_JOB_DROPPED);
        assert_true(res[k].id < 20);
        assert_int_equal(seen[res[k].id], 0);
        seen[res[k].id] = 1;
    }
    assert_int_equal(h->d.dropped, 20);
    assert_int_equal(h->d.failed, 0);
    assert_int_equal(pvt_disp_outstanding(&h->d), 0);
}

/* The window follows measured job time: long jobs shrink it to its floor,
 * and it never exceeds the depth. */
static void test_window_learns(void **state)
{
    struct harness *h = *state;
    struct pvt_job jobs[8];
    struct pvt_result res[8];

    h_open(h, 1, 256);
    assert_int_equal(h->d.window, PVT_DISP_START_WINDOW);
    make_jobs(jobs, 8, 0, PVT_WL_SLEEP, (uint64_t)(PVT_DISP_SLACK_NS / 1e6));
    h_start(h, 0);
    assert_int_equal(pvt_disp_submit(&h->d, jobs, 8), 8);
    collect_n(h, res, 8);
    /* Jobs as long as the slack: two fit in the window, below its floor. */
    assert_true(h->d.job_ns >= PVT_DISP_SLACK_NS);
    assert_int_equal(h->d.window, PVT_DISP_MIN_WINDOW);
    h_stop_join(h, 0, 1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_capacity_is_depth),
        T(test_backlog_order),
        T(test_no_overtaking),
        T(test_flush_for_stop),
        T(test_backlog_dropped_without_workers),
        T(test_window_learns),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
