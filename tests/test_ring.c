/*
 * test_ring: the job rings and the driver-side dispatcher, without a backend.
 *
 * Each test maps a private region (ring.h) and drives it with a dispatcher
 * (disp.h), as the thread backend does, but by hand: worker threads are
 * started only where a test wants them, and each only runs
 * pvt_ring_worker_loop. No cmocka assert is ever called on a worker thread;
 * the test thread checks the rings and the results after the fact.
 *
 * Waits that could hang on a lost wake-up are bounded (collect timeouts,
 * pthread_timedjoin_np), so such a bug fails a test instead of hanging it:
 * while a worker serves every ring with work, a driver's wait must end with
 * a worker's kick, and one that runs out its WAIT_MS (5 s) is a failure.
 * That is a bound on liveness, not on speed: no test asserts how fast
 * anything is.
 *
 * The fixture's teardown stops and joins every worker it started (it also
 * runs after a failed test); a thread that will not join has its memory left
 * mapped, since it may still write to it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shared/core/disp.h"
#include "shared/core/pvt.h"
#include "shared/core/ring.h"
#include "shared/work/work.h"

#include "ring_cases.h"
#include "ring_harness.h"

static void test_region_map(void **state)
{
    struct harness *h = *state;
    struct pvt_region bad;
    int i;

    (void)h;
    assert_int_equal(pvt_region_map(&bad, 0, 8, 0), -EINVAL);
    assert_int_equal(pvt_region_map(&bad, PVT_REGION_MAX_RINGS + 1, 8, 0), -EINVAL);
    /* A serving pool of PVT_MAX_WORKERS slots maps two rings per slot. */
    assert_int_equal(pvt_region_map(&bad, PVT_REGION_MAX_RINGS, 2, 1), 0);
    pvt_region_unmap(&bad);
    assert_int_equal(pvt_region_map(&bad, 1, 1, 0), -EINVAL);
    assert_int_equal(pvt_region_map(&bad, 1, 0, 0), -EINVAL);
    assert_int_equal(pvt_region_map(&bad, 1, 12, 0), -EINVAL);
    assert_int_equal(pvt_region_map(&bad, 1, PVT_RING_MAX_DEPTH * 2, 0), -EINVAL);
    pvt_region_unmap(&bad); /* harmless on a failed map */

    assert_int_equal(pvt_ring_size(8) % PVT_CACHELINE, 0);
    assert_true(pvt_ring_size(8) >= sizeof(struct pvt_ring) + 8 * sizeof(struct pvt_slot));
    assert_int_equal(sizeof(struct pvt_slot), 32);

    h_open(h, 2, 8);
    assert_int_equal(h->g.n, 2);
    assert_true(h->g.waker->efd >= 0);
    assert_int_equal(atomic_load(h->g.waker->waiting), 0);
    for (i = 0; i < 2; i++) {
        struct pvt_ring *r = h->g.rings[i];
        assert_int_equal((uintptr_t)r % PVT_CACHELINE, 0);
        assert_int_equal(r->depth, 8);
        assert_int_equal(r->mask, 7);
        assert_int_equal(r->slot_index, i);
        assert_int_equal(r->shared, 0);
        assert_ptr_equal(r->waker, h->g.waker);
        assert_true(atomic_load(&r->tail) == 0 && atomic_load(&r->done) == 0);
        assert_true((char *)r >= (char *)h->g.base + sizeof(struct pvt_waker));
        assert_true((char *)r + pvt_ring_size(8) <= (char *)h->g.base + h->g.len);
    }
    assert_true((char *)h->g.rings[1] - (char *)h->g.rings[0] >= (ptrdiff_t)pvt_ring_size(8));
}

/* No worker runs: jobs stay queued, so the counts are exact. */
static void test_submit_full(void **state)
{
    struct harness *h = *state;
    struct pvt_job jobs[40];
    int rc;

    h_open(h, 2, 8);
    make_jobs(jobs, 40, 1, PVT_WL_NOOP, 0);
    assert_int_equal(pvt_disp_submit(&h->d, jobs, 0), -EINVAL);
    assert_int_equal(pvt_disp_outstanding(&h->d), 0);

    rc = pvt_disp_submit(&h->d, jobs, 3);
    assert_int_equal(rc, 3);
    assert_int_equal(pvt_disp_outstanding(&h->d), 3);
    /* Asking for more than fits queues what fits, then nothing. */
    rc = pvt_disp_submit(&h->d, jobs + 3, 37);
    assert_int_equal(rc, 13);
    assert_int_equal(pvt_disp_outstanding(&h->d), 16);
    assert_true(tail_of(h, 0) == 8 && tail_of(h, 1) == 8);
    assert_int_equal(pvt_disp_submit(&h->d, jobs + 16, 1), -EAGAIN);
    assert_int_equal(pvt_disp_submit(&h->d, jobs + 16, 24), -EAGAIN);
    assert_true(h->d.submitted == 16);
    assert_int_equal(pvt_disp_outstanding(&h->d), 16);

    /* A ring that is not live takes nothing; none live: -EHOSTDOWN. */
    h->d.live[0] = 0;
    h->d.live[1] = 0;
    assert_int_equal(pvt_disp_submit(&h->d, jobs, 1), -EHOSTDOWN);
    h->d.stopping = 1;
    assert_int_equal(pvt_disp_submit(&h->d, jobs, 1), -ESHUTDOWN);
}

static void test_submit_skips_dead_ring(void **state)
{
    struct harness *h = *state;
    struct pvt_job jobs[20];

    h_open(h, 2, 8);
    h->d.live[0] = 0;
    make_jobs(jobs, 20, 1, PVT_WL_NOOP, 0);
    assert_int_equal(pvt_disp_submit(&h->d, jobs, 20), 8);
    assert_true(tail_of(h, 0) == 0);
    assert_true(tail_of(h, 1) == 8);
    assert_int_equal(pvt_disp_submit(&h->d, jobs, 1), -EAGAIN);
}

/* Both rings empty: n jobs split evenly, whichever ring starts. */
static void test_water_fill(void **state)
{
    struct harness *h = *state;
    struct pvt_job jobs[200];
    int n;

    (void)h;
    make_jobs(jobs, 200, 0, PVT_WL_NOOP, 0);
    for (n = 1; n <= 130; n++) {
        struct harness x = {0};
        uint64_t t0, t1;
        int rc;

        assert_int_equal(pvt_region_map(&x.g, 2, 64, 0), 0);
        assert_int_equal(pvt_disp_init(&x.d, 2, 64, x.g.rings, x.g.waker), 0);
        x.d.live[0] = x.d.live[1] = 1;
        x.d.next = n % 2; /* either ring first */
        rc = pvt_disp_submit(&x.d, jobs, n);
        t0 = atomic_load(&x.g.rings[0]->tail);
        t1 = atomic_load(&x.g.rings[1]->tail);
        pvt_disp_fini(&x.d);
        pvt_region_unmap(&x.g);
        if (rc != (n < 128 ? n : 128) || t0 + t1 != (uint64_t)rc ||
            (t0 > t1 ? t0 - t1 : t1 - t0) > 1)
            fail_msg("submit %d: returned %d, tails %llu and %llu", n, rc, (unsigned long long)t0,
                     (unsigned long long)t1);
    }

    /* Uneven: the emptier ring is filled up to the other. */
    h_open(h, 2, 64);
    h->d.live[1] = 0;
    assert_int_equal(pvt_disp_submit(&h->d, jobs, 10), 10);
    h->d.live[1] = 1;
    assert_int_equal(pvt_disp_submit(&h->d, jobs, 10), 10);
    assert_true(tail_of(h, 0) == 10 && tail_of(h, 1) == 10);
    assert_int_equal(pvt_disp_submit(&h->d, jobs, 6), 6);
    assert_true(tail_of(h, 0) == 13 && tail_of(h, 1) == 13);
}

/* Submitting wakes a worker only if it announced sleep. */
static void test_notify(void **state)
{
    struct harness *h = *state;
    struct pvt_ring *r;
    struct pvt_job job = {.id = 1};
    unsigned w;

    h_open(h, 1, 8);
    r = h->g.rings[0];
    w = atomic_load(&r->wake);
    assert_int_equal(pvt_disp_submit(&h->d, &job, 1), 1);
    assert_int_equal(atomic_load(&r->wake), w);
    atomic_store(&r->sleeping, 1);
    assert_int_equal(pvt_disp_submit(&h->d, &job, 1), 1);
    assert_int_equal(atomic_load(&r->wake), w + 1);
    assert_int_equal(atomic_load(&r->sleeping), 0);
    /* A stop request always bumps the futex word. */
    pvt_ring_request_stop(r, 1);
    assert_int_equal(atomic_load(&r->wake), w + 2);
    assert_int_equal(atomic_load(&r->stop), 1);
}

static int efd_readable(int fd)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};

    return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

static void test_waker(void **state)
{
    struct harness *h = *state;
    struct pvt_waker *w;

    h_open(h, 1, 8);
    w = h->g.waker;
    pvt_waker_kick(w); /* not waiting: nothing */
    assert_false(efd_readable(w->efd));
    atomic_store(w->waiting, 1);
    pvt_waker_kick(w);
    assert_int_equal(atomic_load(w->waiting), 0);
    assert_true(efd_readable(w->efd));
    pvt_waker_kick(w); /* a second kick: waiting was cleared */
    pvt_waker_drain(w);
    assert_false(efd_readable(w->efd));
    atomic_store(w->waiting, 1);
    pvt_waker_drain(w);
    assert_int_equal(atomic_load(w->waiting), 0);
}

static void test_collect_nothing(void **state)
{
    struct harness *h = *state;
    struct pvt_result res[4];
    struct pvt_job job = {.id = 9, .workload = PVT_WL_NOOP};
    uint64_t t0;

    h_open(h, 1, 8);
    /* Nothing outstanding: waiting could never end. */
    assert_int_equal(pvt_disp_collect(&h->d, res, 4, 0, wait_cb, h), -ENOENT);
    assert_int_equal(pvt_disp_collect(&h->d, res, 4, -1, wait_cb, h), -ENOENT);
    assert_int_equal(pvt_disp_collect(&h->d, res, 0, 0, wait_cb, h), -EINVAL);

    /* Queued on a ring no worker serves: nothing is done. */
    assert_int_equal(pvt_disp_submit(&h->d, &job, 1), 1);
    assert_int_equal(pvt_disp_collect(&h->d, res, 4, 0, wait_cb, h), 0);
    assert_int_equal(h->zero_waits, 0);
    t0 = pvt_now_ns();
    assert_int_equal(pvt_disp_collect(&h->d, res, 4, 50, wait_cb, h), 0);
    assert_true(pvt_now_ns() - t0 >= 50000000u); /* it did wait, at least that long */
    assert_true(h->waits >= 1);
    assert_int_equal(h->zero_waits, 0);
    assert_int_equal(pvt_disp_outstanding(&h->d), 1);
    assert_int_equal(pvt_disp_drain(&h->d, res, 4), 0);

    /* The wait's error is passed on when nothing was collected. */
    h->wait_rc = -EIO;
    assert_int_equal(pvt_disp_collect(&h->d, res, 4, 100, wait_cb, h), -EIO);
    assert_int_equal(atomic_load(h->g.waker->waiting), 0);
}

/* Poll the waker's eventfd for up to ms. 1 if it became readable. */
static int efd_wait(struct harness *h, int ms)
{
    struct pollfd pfd = {.fd = h->g.waker->efd, .events = POLLIN};

    return poll(&pfd, 1, ms) == 1 && (pfd.revents & POLLIN);
}

/*
 * The worker's side of the driver's sleep: with the driver armed, a worker
 * writes the eventfd once its ring reaches wake_at, and when it goes idle.
 */
static void test_worker_kicks(void **state)
{
    struct harness *h = *state;
    struct pvt_ring *r;
    struct pvt_job jobs[3];

    h_open(h, 1, 8);
    r = h->g.rings[0];
    h_start(h, 0);

    /* Not armed: finishing jobs and going idle write nothing. */
    make_jobs(jobs, 3, 1, PVT_WL_NOOP, 0);
    assert_int_equal(pvt_disp_submit(&h->d, jobs, 3), 3);
    if (!wait_idle(h, 0, WAIT_MS))
        fail_msg("an idle worker never announced sleep");
    assert_true(done_of(h, 0) == 3);
    assert_false(efd_readable(h->g.waker->efd));
    assert_int_equal(pvt_disp_drain(&h->d, (struct pvt_result[3]){{0}}, 3), 3);

    /* Armed, wake point at the first of three jobs. */
    atomic_store(&r->wake_at, tail_of(h, 0) + 1);
    atomic_store(h->g.waker->waiting, 1);
    make_jobs(jobs, 3, 10, PVT_WL_SLEEP, 1);
    assert_int_equal(pvt_disp_submit(&h->d, jobs, 3), 3);
    if (!efd_wait(h, WAIT_MS))
        fail_msg("an armed driver was not woken (done %llu of %llu)",
                 (unsigned long long)done_of(h, 0), (unsigned long long)tail_of(h, 0));
    assert_true(done_of(h, 0) >= 4);
    assert_int_equal(atomic_load(h->g.waker->waiting), 0); /* the kick disarms */
    pvt_waker_drain(h->g.waker);
    if (!wait_idle(h, 0, WAIT_MS))
        fail_msg("an idle worker never announced sleep");
    assert_int_equal(pvt_disp_drain(&h->d, (struct pvt_result[3]){{0}}, 3), 3);

    /* Armed, wake point never reached: the worker kicks when it goes idle. */
    atomic_store(&r->wake_at, UINT64_MAX);
    atomic_store(h->g.waker->waiting, 1);
    make_jobs(jobs, 3, 20, PVT_WL_SLEEP, 1);
    assert_int_equal(pvt_disp_submit(&h->d, jobs, 3), 3);
    if (!efd_wait(h, WAIT_MS))
        fail_msg("an armed driver was not woken by an idle worker (done %llu of %llu)",
                 (unsigned long long)done_of(h, 0), (unsigned long long)tail_of(h, 0));
    assert_true(done_of(h, 0) == tail_of(h, 0));
    pvt_waker_drain(h->g.waker);

    /*
     * Armed, wake point at the first job, the second a long one: the kick
     * comes when the first is done, while the second still runs, not when
     * the worker goes idle. (Only a test thread stalled for the whole 2 s
     * job would see it done.)
     */
    if (!wait_idle(h, 0, WAIT_MS))
        fail_msg("an idle worker never announced sleep");
    assert_int_equal(pvt_disp_drain(&h->d, (struct pvt_result[3]){{0}}, 3), 3);
    atomic_store(&r->wake_at, tail_of(h, 0) + 1);
    atomic_store(h->g.waker->waiting, 1);
    jobs[0] = (struct pvt_job){.id = 30, .workload = PVT_WL_NOOP};
    jobs[1] = (struct pvt_job){.id = 31, .workload = PVT_WL_SLEEP, .arg = 2000};
    assert_int_equal(pvt_disp_submit(&h->d, jobs, 2), 2);
    if (!efd_wait(h, WAIT_MS))
        fail_msg("an armed driver was not woken at its wake point");
    if (done_of(h, 0) != tail_of(h, 0) - 1)
        fail_msg("woken with done %llu of %llu: not at the wake point %llu",
                 (unsigned long long)done_of(h, 0), (unsigned long long)tail_of(h, 0),
                 (unsigned long long)atomic_load(&r->wake_at));
    pvt_waker_drain(h->g.waker);
    h_stop_join(h, 0, 1);
}

/* fail_next and drop_queued on a ring no worker serves. */
static void test_fail_and_drop(void **state)
{
    struct harness *h = *state;
    struct pvt_job jobs[5];
    struct pvt_result res[8];
    struct pvt_ring *r;
    int i;

    h_open(h, 1, 8);
    r = h->g.rings[0];
    pvt_disp_fail_next(&h->d, 0, PVT_JOB_FAILED); /* nothing queued: nothing happens */
    assert_true(done_of(h, 0) == 0);
    pvt_disp_drop_queued(&h->d, 0);
    assert_true(done_of(h, 0) == 0);

    make_jobs(jobs, 5, 100, PVT_WL_CPU, 10);
    assert_int_equal(pvt_disp_submit(&h->d, jobs, 5), 5);
    pvt_disp_fail_next(&h->d, 0, PVT_JOB_FAILED);
    assert_true(done_of(h, 0) == 1);
    assert_true(atomic_load(&r->running) == 1);
    pvt_disp_drop_queued(&h->d, 0);
    assert_true(done_of(h, 0) == 5);
    assert_true(atomic_load(&r->running) == 5);

    assert_int_equal(pvt_disp_collect(&h->d, res, 8, 0, wait_cb, h), 5);
    for (i = 0; i < 5; i++) {
        assert_true(res[i].id == 100 + (uint64_t)i);
        assert_int_equal(res[i].status, i == 0 ? PVT_JOB_FAILED : PVT_JOB_DROPPED);
        assert_true(res[i].value == 0);
        assert_int_equal(res[i].worker, 0);
    }
    assert_int_equal(pvt_disp_outstanding(&h->d), 0);
    assert_true(h->d.completed == 5);
    assert_true(h->d.jobs_done[0] == 5);
    assert_int_equal(pvt_disp_collect(&h->d, res, 8, 0, wait_cb, h), -ENOENT);
}

/*
 * pvt.h: pool stats' `failed` counts "results with PVT_JOB_FAILED", and both
 * backends copy it from the dispatcher's `failed`. A dropped job never ran;
 * it is not a failure.
 */
static void test_failed_counts_failed_only(void **state)
{
    struct harness *h = *state;
    struct pvt_job jobs[5];
    struct pvt_result res[8];

    h_open(h, 1, 8);
    make_jobs(jobs, 5, 100, PVT_WL_NOOP, 0);
    assert_int_equal(pvt_disp_submit(&h->d, jobs, 5), 5);
    pvt_disp_fail_next(&h->d, 0, PVT_JOB_FAILED);
    pvt_disp_drop_queued(&h->d, 0);
    assert_int_equal(pvt_disp_collect(&h->d, res, 8, 0, wait_cb, h), 5);
    assert_true(h->d.completed == 5);
    if (h->d.failed != 1)
        fail_msg("1 FAILED and 4 DROPPED results counted as %llu failed",
                 (unsigned long long)h->d.failed);
}

/* A replacement worker resumes at `done`: after the job a dead worker was
 * running is failed, the rest run. */
static void test_replacement_resumes(void **state)
{
    struct harness *h = *state;
    struct pvt_job jobs[4];
    struct pvt_result res[4];
    int i;

    h_open(h, 1, 8);
    make_jobs(jobs, 4, 7, PVT_WL_CPU, 100);
    assert_int_equal(pvt_disp_submit(&h->d, jobs, 4), 4);
    atomic_store(&h->g.rings[0]->running, 1); /* "died" running the first */
    pvt_disp_fail_next(&h->d, 0, PVT_JOB_FAILED);
    h_start(h, 0);
    collect_n(h, res, 4);
    for (i = 0; i < 4; i++) {
        assert_true(res[i].id == 7 + (uint64_t)i);
        assert_int_equal(res[i].status, i == 0 ? PVT_JOB_FAILED : PVT_JOB_OK);
        assert_true(res[i].value == (i == 0 ? 0 : pvt_work_expected(PVT_WL_CPU, 100)));
    }
    h_stop_join(h, 0, 1);
}

/* Results come back with their ids and values, in order per ring. */
static void test_results(void **state)
{
    static const uint32_t wl[] = {PVT_WL_NOOP, PVT_WL_CPU, PVT_WL_HASH, PVT_WL_MEM, PVT_WL_ALLOC};
    static const uint64_t args[] = {0, 1000, 4096, 65536, 17};
    enum { N = 3000 };
    struct harness *h = *state;
    struct pvt_job jobs[64];
    struct pvt_result res[64];
    uint64_t next_id = 0, got = 0, last[MAX_RINGS] = {0}, out = 0;
    int seen_worker[MAX_RINGS] = {0};
    int i, k, n;

    h->seen = calloc(N, 1);
    assert_non_null(h->seen);
    h_open(h, 2, 8);
    h_start(h, 0);
    h_start(h, 1);
    while (got < N) {
        int want = (int)(next_id % 23) + 1;
        if ((uint64_t)want > N - next_id)
            want = (int)(N - next_id);
        for (k = 0; k < want; k++) {
            uint64_t id = next_id + (uint64_t)k;
            jobs[k] = (struct pvt_job){.id = id + 1, .workload = wl[id % 5], .arg = args[id % 5]};
        }
        n = want > 0 ? pvt_disp_submit(&h->d, jobs, want) : -EAGAIN;
        if (n != -EAGAIN) {
            assert_true(n >= 1 && n <= want);
            next_id += (uint64_t)n;
            out += (uint64_t)n;
            assert_true(pvt_disp_outstanding(&h->d) == out);
        }
        assert_true(pvt_disp_outstanding(&h->d) <= 16);
        n = collect_live(h, res, (int)(got % 7) + 1);
        out -= (uint64_t)n;
        assert_true(pvt_disp_outstanding(&h->d) == out);
        for (i = 0; i < n; i++) {
            uint64_t id = res[i].id - 1;
            int w = res[i].worker;
            assert_true(id < N);
            assert_false(h->seen[id]);
            h->seen[id] = 1;
            assert_int_equal(res[i].status, PVT_JOB_OK);
            assert_true(res[i].value == pvt_work_expected(wl[id % 5], args[id % 5]));
            assert_true(w >= 0 && w < 2);
            assert_true(res[i].id > last[w]); /* FIFO per ring */
            last[w] = res[i].id;
            seen_worker[w] = 1;
        }
        got += (uint64_t)n;
    }
    assert_true(seen_worker[0] && seen_worker[1]);
    assert_true(h->d.submitted == N && h->d.completed == N && h->d.failed == 0);
    assert_true(h->d.jobs_done[0] + h->d.jobs_done[1] == N);
    assert_int_equal(pvt_disp_collect(&h->d, res, 64, 0, wait_cb, h), -ENOENT);
    h_stop_join(h, 0, 1);
    h_stop_join(h, 1, 1);
}

/* stop 1: the worker exits once its queue is empty, every job run. */
static void test_stop_after_queue(void **state)
{
    struct harness *h = *state;
    struct pvt_job jobs[4];
    struct pvt_result res[4];
    int i;

    h_open(h, 2, 8);
    /* Told before it starts: it still runs the queue. */
    make_jobs(jobs, 4, 1, PVT_WL_CPU, 500);
    h->d.live[1] = 0;
    assert_int_equal(pvt_disp_submit(&h->d, jobs, 4), 4);
    pvt_ring_request_stop(h->g.rings[0], 1);
    h_start(h, 0);
    h_join(h, 0);
    assert_true(done_of(h, 0) == 4);
    assert_int_equal(pvt_disp_collect(&h->d, res, 4, 0, wait_cb, h), 4);
    for (i = 0; i < 4; i++) {
        assert_int_equal(res[i].status, PVT_JOB_OK);
        assert_true(res[i].value == pvt_work_expected(PVT_WL_CPU, 500));
    }

    /* Told while it sleeps on an empty ring: it wakes and exits. */
    h_start(h, 1);
    if (!wait_sleeping(h, 1, WAIT_MS))
        fail_msg("an idle worker never announced sleep");
    h_stop_join(h, 1, 1);
    assert_true(done_of(h, 1) == 0);
}

/* stop 1 while jobs are queued and running: all of them still run. */
static void test_stop_after_queue_busy(void **state)
{
    struct harness *h = *state;
    struct pvt_job jobs[4];
    struct pvt_result res[4];
    int i;

    h_open(h, 1, 8);
    h_start(h, 0);
    make_jobs(jobs, 4, 1, PVT_WL_SLEEP, 5);
    assert_int_equal(pvt_disp_submit(&h->d, jobs, 4), 4);
    h_stop_join(h, 0, 1);
    assert_true(done_of(h, 0) == 4);
    assert_int_equal(pvt_disp_collect(&h->d, res, 4, 0, wait_cb, h), 4);
    for (i = 0; i < 4; i++) {
        assert_true(res[i].id == 1 + (uint64_t)i);
        assert_int_equal(res[i].status, PVT_JOB_OK);
        assert_true(res[i].value == 5);
    }
}

/* stop 2: the worker exits after the job it is running. */
static void test_stop_after_current(void **state)
{
    struct harness *h = *state;
    struct pvt_job jobs[5];
    struct pvt_result res[5];
    int i;

    /* Told before it starts, with five queued: it runs exactly one. */
    h_open(h, 1, 8);
    make_jobs(jobs, 5, 1, PVT_WL_CPU, 100);
    assert_int_equal(pvt_disp_submit(&h->d, jobs, 5), 5);
    pvt_ring_request_stop(h->g.rings[0], 2);
    h_start(h, 0);
    h_join(h, 0);
    assert_true(done_of(h, 0) == 1);
    assert_true(atomic_load(&h->g.rings[0]->running) == 1);
    pvt_disp_drop_queued(&h->d, 0);
    assert_int_equal(pvt_disp_collect(&h->d, res, 5, 0, wait_cb, h), 5);
    for (i = 0; i < 5; i++) {
        assert_true(res[i].id == 1 + (uint64_t)i);
        assert_int_equal(res[i].status, i == 0 ? PVT_JOB_OK : PVT_JOB_DROPPED);
    }
    assert_true(res[0].value == pvt_work_expected(PVT_WL_CPU, 100));
}

/* stop 2 while a long queue runs: it finishes the job in hand and no other
 * half-way; the rest can be dropped, each id reported once. */
static void test_stop_after_current_busy(void **state)
{
    struct harness *h = *state;
    struct pvt_job jobs[8];
    struct pvt_result res[8];
    uint64_t done;
    int i;

    h_open(h, 1, 8);
    make_jobs(jobs, 8, 1, PVT_WL_SLEEP, 100);
    assert_int_equal(pvt_disp_submit(&h->d, jobs, 8), 8);
    h_start(h, 0);
    {
        uint64_t end = pvt_now_ns() + (uint64_t)WAIT_MS * 1000000u;
        while (atomic_load(&h->g.rings[0]->running) == 0 && pvt_now_ns() < end)
            usleep(100);
        if (atomic_load(&h->g.rings[0]->running) == 0)
            fail_msg("the worker never started a job");
    }
    h_stop_join(h, 0, 2);
    done = done_of(h, 0);
    assert_true(done >= 1 && done <= 8);
    assert_true(atomic_load(&h->g.rings[0]->running) == done);
    pvt_disp_drop_queued(&h->d, 0);
    assert_int_equal(pvt_disp_collect(&h->d, res, 8, 0, wait_cb, h), 8);
    for (i = 0; i < 8; i++) {
        assert_true(res[i].id == 1 + (uint64_t)i);
        if ((uint64_t)i < done) {
            assert_int_equal(res[i].status, PVT_JOB_OK);
            assert_true(res[i].value == 100);
        } else {
            assert_int_equal(res[i].status, PVT_JOB_DROPPED);
        }
    }
}

/*
 * The lost wake-up windows, one job at a time: wait until the worker has
 * announced sleep, then submit; and have the driver sleep on the eventfd
 * while the job runs. Each round is bounded.
 */
static void test_sleep_wake_rounds(void **state)
{
    struct harness *h = *state;
    struct pvt_job job;
    struct pvt_result res[2];
    int round, asleep = 0;

    h_open(h, 1, 8);
    h_start(h, 0);
    for (round = 0; round < 300; round++) {
        asleep += wait_sleeping(h, 0, 1000);
        job = (struct pvt_job){.id = (uint64_t)round,
                               .workload = round % 10 ? PVT_WL_NOOP : PVT_WL_SLEEP,
                               .arg = round % 10 ? 0 : 2};
        assert_int_equal(pvt_disp_submit(&h->d, &job, 1), 1);
        collect_n(h, res, 1);
        assert_true(res[0].id == (uint64_t)round);
        assert_int_equal(res[0].status, PVT_JOB_OK);
    }
    if (asleep == 0)
        fail_msg("the worker never went to sleep in 300 idle periods");
    print_message("      %d of 300 rounds submitted to a sleeping worker\n", asleep);
    h_stop_join(h, 0, 1);
}

/* The proc backend's flavour (MAP_SHARED, process-shared futexes) works the
 * same between threads: the sleep rounds and a burst through it. */
static void test_shared_flavour(void **state)
{
    struct harness *h = *state;
    struct pvt_job jobs[64];
    struct pvt_result res[64];
    int round, i;

    assert_int_equal(pvt_region_map(&h->g, 1, 8, 1), 0);
    h->mapped = 1;
    assert_int_equal(h->g.rings[0]->shared, 1);
    assert_int_equal(pvt_disp_init(&h->d, 1, 8, h->g.rings, h->g.waker), 0);
    h->disp_ok = 1;
    h->d.live[0] = 1;
    h_start(h, 0);
    for (round = 0; round < 50; round++) {
        wait_sleeping(h, 0, 1000);
        make_jobs(jobs, 8, (uint64_t)round * 8, PVT_WL_CPU, 64);
        assert_int_equal(pvt_disp_submit(&h->d, jobs, 8), 8);
        collect_n(h, res, 8);
        for (i = 0; i < 8; i++) {
            assert_true(res[i].id == (uint64_t)round * 8 + (uint64_t)i);
            assert_true(res[i].value == pvt_work_expected(PVT_WL_CPU, 64));
        }
    }
    h_stop_join(h, 0, 1);
}

/*
 * 200,000 noop jobs through two rings of depth 64. Now and then the driver
 * stops feeding until both workers announce sleep, so they sleep and are
 * woken many times; every id must come back exactly once, in order per ring.
 * A lost wake-up of a worker or of the driver shows as a collect that runs
 * out its WAIT_MS (see collect_live).
 */
static void test_stress(void **state)
{
    enum { N = 200000 };
    struct harness *h = *state;
    struct pvt_job jobs[256];
    struct pvt_result res[256];
    uint64_t next_id = 0, got = 0, last[MAX_RINGS] = {0};
    unsigned wake0[MAX_RINGS];
    long rounds = 0, naps = 0;
    int i, n, k, napping = 0;

    h->seen = calloc(N, 1);
    assert_non_null(h->seen);
    h_open(h, 2, 64);
    for (i = 0; i < 2; i++) {
        wake0[i] = atomic_load(&h->g.rings[i]->wake);
        h_start(h, i);
    }
    while (got < N) {
        int want = (int)(rounds * 37 % 200) + 1, max = (int)(rounds % 5 == 0 ? 7 : 256);
        rounds++;
        /* Every 64th round, stop feeding until the rings are empty and both
         * workers have announced sleep (not a failure if one does not). */
        if (rounds % 64 == 0)
            napping = 1;
        if (napping && pvt_disp_outstanding(&h->d) == 0) {
            naps += wait_sleeping(h, 0, 200) & wait_sleeping(h, 1, 200);
            napping = 0;
        }
        if (napping)
            want = 0;
        if ((uint64_t)want > N - next_id)
            want = (int)(N - next_id);
        if (want > 0) {
            for (k = 0; k < want; k++)
                jobs[k] = (struct pvt_job){.id = next_id + (uint64_t)k, .workload = PVT_WL_NOOP};
            n = pvt_disp_submit(&h->d, jobs, want);
            if (n < 0 && n != -EAGAIN)
                fail_msg("submit: %d", n);
            if (n > 0)
                next_id += (uint64_t)n;
        }
        n = collect_live(h, res, max);
        for (i = 0; i < n; i++) {
            uint64_t id = res[i].id;
            int w = res[i].worker;
            if (id >= N || h->seen[id] || res[i].status != PVT_JOB_OK || res[i].value != 0 ||
                w < 0 || w > 1 || id + 1 <= last[w])
                fail_msg("bad result: id %llu (seen %d) status %d value %llu worker %d",
                         (unsigned long long)id, id < N ? h->seen[id] : -1, res[i].status,
                         (unsigned long long)res[i].value, w);
            h->seen[id] = 1;
            last[w] = id + 1;
        }
        got += (uint64_t)n;
    }
    for (i = 0; i < N; i++)
        if (!h->seen[i])
            fail_msg("id %d never came back", i);
    assert_true(h->d.submitted == N && h->d.completed == N);
    assert_true(h->d.jobs_done[0] + h->d.jobs_done[1] == N);
    assert_int_equal(pvt_disp_outstanding(&h->d), 0);
    assert_int_equal(pvt_disp_collect(&h->d, res, 8, 0, wait_cb, h), -ENOENT);
    print_message("      %ld rounds, %ld with both workers asleep, %u + %u futex wake-ups, "
                  "%d driver waits\n",
                  rounds, naps, atomic_load(&h->g.rings[0]->wake) - wake0[0],
                  atomic_load(&h->g.rings[1]->wake) - wake0[1], h->waits);
    h_stop_join(h, 0, 1);
    h_stop_join(h, 1, 1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_region_map),
        T(test_submit_full),
        T(test_submit_skips_dead_ring),
        T(test_water_fill),
        T(test_notify),
        T(test_waker),
        T(test_collect_nothing),
        T(test_worker_kicks),
        T(test_fail_and_drop),
        T(test_failed_counts_failed_only),
        T(test_replacement_resumes),
        T(test_results),
        T(test_stop_after_queue),
        T(test_stop_after_queue_busy),
        T(test_stop_after_current),
        T(test_stop_after_current_busy),
        T(test_sleep_wake_rounds),
        T(test_shared_flavour),
        T(test_stress),
        T(test_stop_race_queued),
        T(test_wake_last_job),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
