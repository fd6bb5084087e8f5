/*
 * fault_scribble.c: a worker process that overwrites everything it shares
 * with the primary (the scribble fault, fault.h). Run from test_fault.c's
 * main.
 *
 * What each case checks:
 *  - proc, a scribble job among ordinary jobs, with 0xff bytes and with a
 *    random pattern: the primary survives (under ASan: with no invalid
 *    access), every job id comes back exactly once and no other, every job
 *    the other worker ran is OK with its reference value, the scribbling
 *    worker is replaced and the other is untouched, and the pool goes on
 *    computing right values on both slots.
 *  - proc serving, every distribution, GET /scribble on one worker (0xff
 *    and a random pattern): the primary replaces that worker (it finds
 *    the garbage in its ring), the other worker is untouched, new clients
 *    get right answers from both slots, and a stop in time closes the port
 *    and leaves no process.
 *  - a worker's view of a region (pvt_region_isolate, as every worker
 *    process applies it after fork): a write to its own ring works, a write
 *    to another worker's ring or to another serving slot's state is
 *    SIGSEGV, and the other rings can still be read (for /stats).
 *
 * As in fault_serve.c, the client side runs on a helper thread that calls
 * no cmocka; the test thread creates the pool and supervises it. Every
 * wait is a bounded poll, so a hang becomes a failure, never a timing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fault_cases.h"
#include "fault_harness.h"
#include "shared/core/pvt.h"
#include "shared/core/ring.h"
#include "shared/serve/serve.h"
#include "serve_client.h"
#include "shared/work/work.h"

#define WORKERS 2
#define NJOBS   41
#define AT      20
#define IO_MS   5000

static const uint64_t seeds[] = {0, 7}; /* 0xff bytes, then random bytes */

static struct fh_seen seen; /* large: not on a stack */

/* Every id once; every job not run by slot `bad` (-1: none) OK and right. */
static void expect_results(const struct pvt_job *j, int n, int bad, const char *what)
{
    int i;

    if (seen.got != n || seen.stray || seen.rc)
        fail_msg("%s: %d results of %d (stray %d, collect rc %d)", what, seen.got, n, seen.stray,
                 seen.rc);
    for (i = 0; i < n; i++) {
        if (seen.count[i] != 1)
            fail_msg("%s: job %d came back %d times", what, i, seen.count[i]);
        if (seen.worker[i] == bad && bad >= 0)
            continue; /* what a scribbled ring said: the worker's word, garbage */
        if (seen.status[i] != PVT_JOB_OK ||
            seen.value[i] != pvt_work_expected(j[i].workload, j[i].arg))
            fail_msg("%s: job %d on worker %d: status %d, value %llu", what, i, seen.worker[i],
                     seen.status[i], (unsigned long long)seen.value[i]);
    }
}

static void scribble_task_one(uint64_t seed)
{
    const struct pvt_pool_ops *ops = pvt_backend_find("proc");
    struct pvt_pool_cfg cfg = {.workers = WORKERS};
    struct pvt_worker_stats w[WORKERS];
    struct pvt_pool_stats st;
    struct pvt_job j[NJOBS];
    struct pvt_pool *p;
    pid_t old[WORKERS];
    char what[64];
    int slot, other;

    assert_non_null(ops);
    snprintf(what, sizeof(what), "scribble:%llu", (unsigned long long)seed);
    p = fh_pool_open_or_fail(ops, &cfg, what);
    fh_stats_or_fail(ops, p, &st, w);
    old[0] = w[0].pid;
    old[1] = w[1].pid;
    memset(&seen, 0, sizeof(seen));
    fh_make_jobs(j, NJOBS, AT, PVT_WL_SCRIBBLE, seed);
    assert_int_equal(fh_submit_all(ops, p, j, NJOBS, &seen), 0);
    fh_collect(ops, p, &seen, NJOBS, FH_GUARD_MS);
    slot = seen.worker[AT];
    if (slot != 0 && slot != 1)
        fail_msg("%s: the scribble job came back from worker %d", what, slot);
    other = 1 - slot;
    expect_results(j, NJOBS, slot, what);

    /* The scribbler goes (by itself, or killed for its garbage) and a new
     * worker takes the slot; the other one never noticed. */
    fh_wait_slot_or_fail(ops, p, slot, old[slot], &st, w);
    if (!fh_gone(old[slot]))
        fail_msg("%s: the scribbling worker %d still exists", what, (int)old[slot]);
    assert_int_equal(w[slot].restarts, 1);
    assert_int_equal(w[slot].last_exit_intended, 0);
    assert_int_equal(w[other].pid, old[other]);
    assert_int_equal(w[other].restarts, 0);
    assert_int_equal(st.deaths, 1);
    assert_int_equal(st.parked, 0);

    /* Both slots compute right values again. */
    memset(&seen, 0, sizeof(seen));
    fh_make_jobs(j, NJOBS, -1, 0, 0);
    assert_int_equal(fh_submit_all(ops, p, j, NJOBS, &seen), 0);
    fh_collect(ops, p, &seen, NJOBS, FH_GUARD_MS);
    expect_results(j, NJOBS, -1, what);
    fh_pool_close(p);
    fh_no_children_or_fail(what);
}

void fault_test_scribble_task(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
        scribble_task_one(seeds[i]);
}

/* ---- serving ---- */

struct scrib {
    int port;
    const char *path;
    pid_t now[WORKERS]; /* each slot's worker once the scribbler was replaced */
    atomic_int phase;   /* 0: the helper runs the fault; 1: the driver looks for
                         * the replacement; 2: found; 3: the helper is done */
    struct sc_conn c;
    struct sc_resp r;
    struct sc_note err;
};

static struct scrib sb; /* large (buffers): not on a stack */

static int get(struct sc_conn *c, const char *path, struct sc_resp *r)
{
    int rc = sc_get(c, path);

    return rc < 0 ? rc : sc_read_response(c, r);
}

static void *scribble_cb(void *arg)
{
    struct scrib *s = arg;
    uint64_t end;
    int k, rc;

    /* Answered (the worker went on) or closed (it crashed): both are what
     * a scribbled worker may do. */
    rc = sc_connect(&s->c, s->port, IO_MS);
    if (rc == 0)
        rc = get(&s->c, s->path, &s->r);
    if (rc < 0 && rc != -EPIPE && rc != -ECONNRESET)
        sc_note(&s->err, "GET %s: %s", s->path, strerror(-rc));
    else if (rc == 0 && s->r.status != 200)
        sc_note(&s->err, "GET %s: status %d", s->path, s->r.status);
    sc_close(&s->c);
    atomic_store(&s->phase, 1);
    end = sc_now_ms() + 30000;
    while (atomic_load(&s->phase) == 1 && sc_now_ms() < end)
        sc_sleep_ms(5);
    if (!s->err.msg[0] && atomic_load(&s->phase) != 2)
        sc_note(&s->err, "the scribbling worker was not replaced");
    for (k = 0; k < 10 && !s->err.msg[0]; k++) {
        rc = sc_connect(&s->c, s->port, IO_MS);
        if (rc == 0 && (rc = get(&s->c, "/", &s->r)) == 0)
            sc_check_ok(&s->r, "/", WORKERS, s->now, &s->err, "a new client");
        if (rc == 0 && (rc = get(&s->c, SC_HASH_PATH, &s->r)) == 0)
            sc_check_ok(&s->r, SC_HASH_PATH, WORKERS, s->now, &s->err, "a new client");
        if (rc < 0)
            sc_note(&s->err, "new client %d: %s", k, strerror(-rc));
        sc_close(&s->c);
    }
    atomic_store(&s->phase, 3);
    return NULL;
}

/* The slot whose worker was replaced (ready, restarts 1, a new pid), -1. */
static int replaced_slot(const struct pvt_worker_stats *w, const pid_t *old)
{
    int i;

    for (i = 0; i < WORKERS; i++)
        if (w[i].restarts == 1 && w[i].state == PVT_W_READY && w[i].pid > 0 &&
            w[i].pid != old[i])
            return i;
    return -1;
}

static void scribble_serve_one(const struct pvt_pool_ops *ops, int d, uint64_t seed)
{
    struct pvt_serve_cfg serve = {.distribution = (enum pvt_dist)d, .allow_faults = 1};
    struct pvt_pool_cfg cfg = {.workers = WORKERS, .serve = &serve};
    struct pvt_worker_stats w[WORKERS];
    struct pvt_pool_stats st;
    struct pvt_pool *p;
    uint64_t end = fh_now_ms() + 90000;
    pid_t old[WORKERS];
    char what[64], path[32];
    pthread_t t;
    int rc = 0, slot = -1, i;

    snprintf(what, sizeof(what), "%s, /scribble seed %llu", pvt_dist_names[d],
             (unsigned long long)seed);
    snprintf(path, sizeof(path), seed ? "/scribble?seed=%llu" : "/scribble",
             (unsigned long long)seed);
    p = fh_pool_open_or_fail(ops, &cfg, what);
    fh_stats_or_fail(ops, p, &st, w);
    memset(&sb, 0, sizeof(sb));
    sb.c.fd = -1;
    sb.port = st.port;
    sb.path = path;
    for (i = 0; i < WORKERS; i++)
        old[i] = w[i].pid;
    rc = pthread_create(&t, NULL, scribble_cb, &sb);
    if (rc)
        fail_msg("pthread_create: %s", strerror(rc));
    rc = 0;
    while (atomic_load(&sb.phase) != 3 && fh_now_ms() < end) {
        rc = ops->supervise(p, 20, NULL);
        if (rc < 0 && rc != -EINTR)
            break;
        rc = 0;
        if (atomic_load(&sb.phase) != 1)
            continue;
        fh_stats_or_fail(ops, p, &st, w);
        slot = replaced_slot(w, old);
        if (slot >= 0) {
            for (i = 0; i < WORKERS; i++)
                sb.now[i] = w[i].pid;
            atomic_store(&sb.phase, 2);
        }
    }
    pthread_join(t, NULL);
    sc_close(&sb.c);
    if (rc < 0)
        fail_msg("%s: supervise returned %d", what, rc);
    if (sb.err.msg[0])
        fail_msg("%s: %s", what, sb.err.msg);
    assert_true(slot >= 0);
    fh_stats_or_fail(ops, p, &st, w);
    assert_int_equal(st.deaths, 1);
    assert_int_equal(w[slot].restarts, 1);
    assert_int_equal(w[slot].last_exit_intended, 0);
    assert_int_equal(w[1 - slot].restarts, 0);
    assert_int_equal(w[1 - slot].pid, old[1 - slot]);
    assert_true(fh_gone(old[slot]));

    rc = ops->stop(p, 5000);
    if (rc != 0)
        fail_msg("%s: stop returned %d", what, rc);
    fh_pool_close(p);
    if (sc_port_open(sb.port) != 0)
        fail_msg("%s: port %d still open after destroy", what, sb.port);
    fh_no_children_or_fail(what);
}

void fault_test_scribble_serve(void **state)
{
    const struct pvt_pool_ops *ops = pvt_backend_find("proc");
    size_t k;
    int d;

    (void)state;
    assert_non_null(ops);
    for (d = 0; d <= PVT_DIST_RR; d++)
        for (k = 0; k < sizeof(seeds) / sizeof(seeds[0]); k++)
            scribble_serve_one(ops, d, seeds[k]);
}

/* ---- a worker writes only its own ring ---- */

struct iso {
    struct pvt_region g;
    int target; /* the ring the child writes, -1: it only reads them all */
};

static int isolated_child(void *arg)
{
    struct iso *x = arg;
    uint64_t sum = 0;
    int i;

    if (pvt_region_isolate(&x->g, x->g.rings[0]) < 0)
        return 2;
    atomic_store(&x->g.rings[0]->info.requests, 1); /* its own: fine */
    atomic_store(&x->g.rings[0]->info.gen.accepting, 1);
    for (i = 0; i < x->g.n; i++) /* every ring reads (/stats) */
        sum += atomic_load(&x->g.rings[i]->info.requests);
    if (sum != 1)
        return 3;
    if (x->target < 0)
        return 0;
    if (x->target == 1)
        atomic_store(&x->g.rings[1]->info.gen.current, 1); /* another slot's state */
    else
        x->g.rings[x->target]->slots[0].value = 42; /* another worker's results */
    return 4; /* the write went through */
}

void fault_test_scribble_isolated(void **state)
{
    struct iso x;
    int rc, t;

    (void)state;
    assert_int_equal(pvt_region_map(&x.g, 3, 8, 1), 0);
    for (t = -1; t < 3; t++) {
        if (t == 0)
            continue; /* its own ring */
        x.target = t;
        rc = fh_run_in_child(isolated_child, &x, 10);
        if (rc != (t < 0 ? 0 : 1000 + SIGSEGV))
            fail_msg("a write to ring %d: the child ended with %d, want %s", t, rc,
                     t < 0 ? "0" : "SIGSEGV (1011)");
        /* What the child wrote to its own ring is seen; nothing else. */
        assert_int_equal(atomic_load(&x.g.rings[0]->info.requests), 1);
        assert_int_equal(atomic_load(&x.g.rings[1]->info.gen.current), 0);
        assert_true(x.g.rings[2]->slots[0].value == 0);
    }
    pvt_region_unmap(&x.g);
}
