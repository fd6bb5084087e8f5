/*
 * ring_race.c: the races between a worker's idle loop and its driver, run
 * from test_ring.c's main, with its fixture (ring_harness.h).
 *
 * Each case repeats one hand-off thousands of times with a worker that is
 * awake and looking at its ring, so that the driver's stores land at every
 * point of the worker's loop; a round never depends on how fast it runs.
 * Between rounds the worker thread is started again on the same ring (it
 * resumes at `done`, as a replacement worker does).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "shared/core/disp.h"
#include "shared/core/ring.h"
#include "shared/work/work.h"

#include "ring_cases.h"
#include "ring_harness.h"

/* Start worker 0 again after it returned: a fresh thread on the same ring. */
static void restart_worker(struct harness *h, uint64_t max_jobs)
{
    struct pvt_ring *r = h->g.rings[0];

    h->started[0] = 0;
    h->joined[0] = 0;
    atomic_store(&r->stop, 0);
    r->max_jobs = max_jobs;
    h_start(h, 0); /* pthread_create orders the stores above before the thread */
}

/* Let a few hundred cycles pass, a different number each round, so the
 * driver's next stores land at a different point of the worker's loop. */
static void jitter(int round)
{
    int k, n = (round * 37) % 251;

    for (k = 0; k < n; k++)
        atomic_signal_fence(memory_order_seq_cst);
}

/* One job, submitted and collected: the worker is then idle and awake,
 * spinning on its ring (ring.c: wait_for_work). */
static void warm_up(struct harness *h, uint64_t id)
{
    struct pvt_job job = {.id = id, .workload = PVT_WL_NOOP};
    struct pvt_result res[1];

    assert_int_equal(pvt_disp_submit(&h->d, &job, 1), 1);
    collect_n(h, res, 1);
    assert_true(res[0].id == id);
}

/* One job, submitted and seen done (its result stays in the ring): the
 * worker is then idle and awake. No driver sleep, so the worker is caught
 * early in its spin. */
static void warm_up_spin(struct harness *h, uint64_t id)
{
    struct pvt_job job = {.id = id, .workload = PVT_WL_NOOP};
    uint64_t end = pvt_now_ns() + (uint64_t)WAIT_MS * 1000000u;
    int k = 0;

    assert_int_equal(pvt_disp_submit(&h->d, &job, 1), 1);
    while (done_of(h, 0) != tail_of(h, 0)) {
        if ((++k & 1023) == 0 && pvt_now_ns() > end)
            fail_msg("the worker never ran job %llu", (unsigned long long)id);
        atomic_signal_fence(memory_order_seq_cst);
    }
}

/*
 * A graceful stop right behind a last batch: the driver publishes the jobs
 * (tail), then asks stop 1, while the worker spins on its empty ring. The
 * worker may see the new stop on the same pass in which it saw the old
 * tail; it must still run every job published before the stop, so it
 * exits with done == tail, and nothing comes back dropped.
 */
void test_stop_race_queued(void **state)
{
    enum { ROUNDS = 4000 };
    struct harness *h = *state;
    struct pvt_job jobs[16];
    struct pvt_result res[64];
    uint64_t id = 0, left_total = 0;
    int round, k, n, bad_rounds = 0, dropped = 0;

    h_open(h, 1, 64);
    for (round = 0; round < ROUNDS; round++) {
        struct pvt_ring *r = h->g.rings[0];
        uint64_t left;

        restart_worker(h, 0);
        warm_up_spin(h, id++);
        jitter(round);
        k = 1 + round % 16;
        make_jobs(jobs, k, id, PVT_WL_NOOP, 0);
        id += (uint64_t)k;
        assert_int_equal(pvt_disp_submit(&h->d, jobs, k), k);
        pvt_disp_flush(&h->d); /* as a backend's stop: the backlog into the ring */
        pvt_ring_request_stop(r, 1);
        h_join(h, 0);

        left = tail_of(h, 0) - done_of(h, 0);
        if (left) {
            bad_rounds++;
            left_total += left;
            pvt_disp_drop_queued(&h->d, 0); /* as a backend does after its worker left */
        }
        while (pvt_disp_outstanding(&h->d) > 0) {
            n = pvt_disp_collect(&h->d, res, 64, 0, wait_cb, h);
            if (n <= 0)
                fail_msg("round %d: collect returned %d with the worker gone", round, n);
            for (int i = 0; i < n; i++)
                dropped += res[i].status == PVT_JOB_DROPPED;
        }
    }
    if (bad_rounds || dropped)
        fail_msg("in %d of %d rounds the worker left on stop 1 with jobs queued (%llu in all, "
                 "%d reported dropped): it saw the stop but not the tail published before it",
                 bad_rounds, ROUNDS, (unsigned long long)left_total, dropped);
}

/*
 * The driver's sleep against a worker's last job. The worker takes one job
 * and then leaves (max_jobs: it never idles again, so no later kick covers
 * for a missed one). The driver arms its waker while the job finishes: the
 * worker stores done and then looks at `waiting`, the driver stores
 * `waiting` and then looks at done. At least one of them must see the
 * other's store, or the driver sleeps on a finished job; collect_live
 * turns that sleep into a failure after WAIT_MS.
 */
void test_wake_last_job(void **state)
{
    enum { ROUNDS = 4000 };
    struct harness *h = *state;
    struct pvt_job job;
    struct pvt_result res[1];
    uint64_t id = 0;
    int round;

    h_open(h, 1, 64);
    for (round = 0; round < ROUNDS; round++) {
        uint64_t arg = (uint64_t)(round * 53) % 700 + 1;

        restart_worker(h, 2); /* the warm-up and one more */
        warm_up(h, id++);
        jitter(round);
        job = (struct pvt_job){.id = id++, .workload = PVT_WL_CPU, .arg = arg};
        assert_int_equal(pvt_disp_submit(&h->d, &job, 1), 1);
        collect_n(h, res, 1);
        if (res[0].id != job.id || res[0].status != PVT_JOB_OK ||
            res[0].value != pvt_work_expected(PVT_WL_CPU, arg))
            fail_msg("round %d: result id %llu status %d", round, (unsigned long long)res[0].id,
                     res[0].status);
        h_join(h, 0);
    }
    print_message("      %d rounds, %d driver waits\n", ROUNDS, h->waits);
}
