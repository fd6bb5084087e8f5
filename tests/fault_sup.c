/*
 * fault_sup.c: supervision of the proc backend seen from outside (sup.h):
 * recycling by max_jobs (with and without jitter) and by max_rss_kb, which
 * the thread backend refuses; the crash-loop guard and its backoff; and a
 * thousand respawns that leave no descriptor and no zombie behind. Run from
 * test_fault.c's main; what each case checks is listed there.
 *
 * A worker's job limit is measured one job at a time: after each result, the
 * worker that ran it either goes back to wait for work (its system call is a
 * futex wait) or leaves (it is a zombie, or already reaped). The test thread
 * makes no pool call in between, so nothing else can make it leave.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "fault_cases.h"
#include "fault_harness.h"
#include "proc_cluster/proc_pool.h"
#include "shared/core/pvt.h"
#include "shared/work/work.h"

#define MAX_GENS 64

static struct fh_seen seen;

static const struct pvt_pool_ops *proc_ops(void)
{
    const struct pvt_pool_ops *ops = pvt_backend_find("proc");

    if (!ops)
        fail_msg("no proc backend");
    return ops;
}

/* 1 if pid is leaving after its job, 0 if it waits for the next one. */
static int leaving_or_fail(pid_t pid)
{
    uint64_t end = fh_now_ms() + 5000;
    char st;
    long nr;

    for (;;) {
        st = fh_proc_state(pid);
        if (st == 0 || st == 'Z')
            return 1;
        nr = fh_proc_syscall(pid);
        if (nr == SYS_futex)
            return 0;
        if (nr == -2)
            return 1; /* gone between the two reads */
        if (fh_now_ms() > end)
            fail_msg("worker %d neither waits nor leaves (state %c, syscall %ld)", (int)pid, st,
                     nr);
        sched_yield(); /* two cores: let the worker get on */
    }
}

struct gens {
    int n;             /* complete generations: workers that left */
    int len[MAX_GENS]; /* jobs each of them ran */
    int last;          /* jobs the current worker ran */
};

/*
 * Run njobs jobs one at a time on a one-worker pool and record how many
 * each worker ran before it left. Every job must come back OK.
 */
static void measure_generations(const struct pvt_pool_ops *ops, struct pvt_pool *p, int njobs,
                                struct gens *g)
{
    struct pvt_worker_stats w[1];
    struct pvt_pool_stats st;
    struct pvt_job j;
    pid_t pid;
    int i;

    memset(g, 0, sizeof(*g));
    fh_wait_slot_or_fail(ops, p, 0, 0, &st, w);
    pid = w[0].pid;
    for (i = 0; i < njobs; i++) {
        j = (struct pvt_job){.id = (uint64_t)i % FH_MAX_IDS, .workload = PVT_WL_CPU, .arg = 1000};
        memset(&seen, 0, sizeof(seen));
        assert_int_equal(ops->submit(p, &j, 1), 1);
        fh_collect(ops, p, &seen, 1, FH_GUARD_MS);
        if (seen.got != 1 || seen.status[j.id] != PVT_JOB_OK ||
            seen.value[j.id] != pvt_work_expected(PVT_WL_CPU, 1000))
            fail_msg("job %d: %d results, status %d", i, seen.got, seen.status[j.id]);
        g->last++;
        if (!leaving_or_fail(pid))
            continue;
        if (g->n == MAX_GENS)
            fail_msg("more than %d generations", MAX_GENS);
        g->len[g->n++] = g->last;
        g->last = 0;
        fh_wait_slot_or_fail(ops, p, 0, pid, &st, w);
        pid = w[0].pid;
    }
}

/* The recycles are what stats says, and none of them is a death. A worker
 * at its job limit leaves by itself with code; one asked to go (max_rss)
 * exits with PVT_WEXIT_OK. */
static void expect_recycled(const struct pvt_pool_ops *ops, struct pvt_pool *p, unsigned n,
                            int code)
{
    struct pvt_worker_stats w[1];
    struct pvt_pool_stats st;

    fh_wait_slot_or_fail(ops, p, 0, 0, &st, w);
    assert_int_equal(st.recycles, n);
    assert_int_equal(w[0].recycles, n);
    assert_int_equal(w[0].restarts, n);
    assert_int_equal(st.deaths, 0);
    assert_int_equal(st.failed, 0);
    assert_int_equal(st.dropped, 0);
    assert_int_equal(st.parked, 0);
    if (n) {
        assert_int_equal(w[0].last_exit_code, code);
        assert_int_equal(w[0].last_exit_signal, 0);
        assert_int_equal(w[0].last_exit_intended, 1);
    }
}

void fault_test_recycle_max_jobs(void **state)
{
    const struct pvt_pool_ops *ops = proc_ops();
    struct pvt_pool_cfg cfg = {.workers = 1, .sup = {.max_jobs = 10}};
    struct pvt_pool *p;
    struct gens g;
    int i;

    (void)state;
    p = fh_pool_open_or_fail(ops, &cfg, "max_jobs 10");
    measure_generations(ops, p, 55, &g);
    if (g.n != 5 || g.last != 5)
        fail_msg("55 jobs with max_jobs 10: %d workers left, the last ran %d", g.n, g.last);
    for (i = 0; i < g.n; i++)
        if (g.len[i] != 10)
            fail_msg("max_jobs 10: worker %d ran %d jobs", i, g.len[i]);
    expect_recycled(ops, p, 5, PVT_WEXIT_RECYCLE);
    fh_pool_close(p);
    fh_no_children_or_fail("max_jobs");
}

void fault_test_recycle_jitter(void **state)
{
    const struct pvt_pool_ops *ops = proc_ops();
    struct pvt_pool_cfg cfg = {.workers = 1, .sup = {.max_jobs = 10, .max_jobs_jitter = 100}};
    struct pvt_pool *p;
    struct gens g;
    int i, total = 0, differ = 0;

    (void)state;
    p = fh_pool_open_or_fail(ops, &cfg, "max_jobs 10, jitter 100");
    measure_generations(ops, p, 400, &g);
    /* Limits in [10, 110]: at least 3 workers fill 400 jobs, and with 101
     * values to draw from, equal limits for all of them would mean no
     * jitter (odds 1 in 10^4 or less, for 3 workers or more). */
    if (g.n < 3)
        fail_msg("400 jobs, max_jobs 10 + jitter 100: only %d workers left", g.n);
    for (i = 0; i < g.n; i++) {
        if (g.len[i] < 10 || g.len[i] > 110)
            fail_msg("jitter: worker %d ran %d jobs, outside [10, 110]", i, g.len[i]);
        differ += g.len[i] != g.len[0];
        total += g.len[i];
    }
    assert_int_equal(total + g.last, 400);
    if (!differ)
        fail_msg("jitter: all %d workers ran exactly %d jobs", g.n, g.len[0]);
    expect_recycled(ops, p, (unsigned)g.n, PVT_WEXIT_RECYCLE);
    fh_pool_close(p);
    fh_no_children_or_fail("jitter");
}

/* A batch queued behind each recycle runs on the replacement: all OK. */
void fault_test_recycle_batch(void **state)
{
    const struct pvt_pool_ops *ops = proc_ops();
    struct pvt_pool_cfg cfg = {.workers = 1, .sup = {.max_jobs = 10}};
    struct pvt_job j[105];
    struct pvt_pool *p;
    int i;

    (void)state;
    p = fh_pool_open_or_fail(ops, &cfg, "max_jobs 10, batch");
    for (i = 0; i < 105; i++)
        j[i] = (struct pvt_job){.id = (uint64_t)i, .workload = PVT_WL_HASH, .arg = 512};
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(fh_submit_all(ops, p, j, 105, &seen), 0);
    fh_collect(ops, p, &seen, 105, FH_GUARD_MS);
    assert_int_equal(seen.got, 105);
    for (i = 0; i < 105; i++)
        if (seen.count[i] != 1 || seen.status[i] != PVT_JOB_OK ||
            seen.value[i] != pvt_work_expected(PVT_WL_HASH, 512))
            fail_msg("batch: job %d: count %d, status %d", i, seen.count[i], seen.status[i]);
    /* Job 101 ran on the eleventh worker, so ten have been replaced. */
    expect_recycled(ops, p, 10, PVT_WEXIT_RECYCLE);
    fh_pool_close(p);
    fh_no_children_or_fail("batch");
}

void fault_test_recycle_rss(void **state)
{
    const struct pvt_pool_ops *ops = proc_ops();
    struct pvt_pool_cfg cfg = {.workers = 1};
    struct pvt_worker_stats w[1];
    struct pvt_pool_stats st;
    struct pvt_job j[12];
    struct pvt_pool *p;
    uint64_t end;
    long base;
    int i;

    (void)state;
    /* The limit sits 32 MiB above what a fresh worker holds. */
    p = fh_pool_open_or_fail(ops, &cfg, "rss probe");
    fh_stats_or_fail(ops, p, &st, w);
    base = fh_rss_kb(w[0].pid);
    assert_true(base > 0);
    fh_pool_close(p);
    cfg.sup.max_rss_kb = (uint64_t)base + 32 * 1024;
    p = fh_pool_open_or_fail(ops, &cfg, "max_rss");
    for (i = 0; i < 12; i++)
        j[i] = i % 2 ? (struct pvt_job){.id = (uint64_t)i, .workload = PVT_WL_SLOW, .arg = 30}
                     : (struct pvt_job){.id = (uint64_t)i, .workload = PVT_WL_LEAK, .arg = 16};
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(fh_submit_all(ops, p, j, 12, &seen), 0);
    fh_collect(ops, p, &seen, 12, FH_GUARD_MS);
    assert_int_equal(seen.got, 12);
    for (i = 0; i < 12; i++)
        if (seen.status[i] != PVT_JOB_OK ||
            seen.value[i] != pvt_work_expected(j[i].workload, j[i].arg))
            fail_msg("max_rss: job %d: status %d", i, seen.status[i]);
    /* 96 MiB leaked, 32 allowed: a worker past the limit is recycled, if not
     * while the jobs ran then by the next check. */
    for (end = fh_now_ms() + 10000; fh_now_ms() < end; fh_sleep_ms(10)) {
        fh_stats_or_fail(ops, p, &st, w);
        if (st.recycles)
            break;
    }
    if (!st.recycles)
        fail_msg("max_rss: no recycle (worker RSS %ld KiB, limit %llu)", fh_rss_kb(w[0].pid),
                 (unsigned long long)cfg.sup.max_rss_kb);
    fh_wait_slot_or_fail(ops, p, 0, 0, &st, w);
    expect_recycled(ops, p, w[0].restarts, PVT_WEXIT_OK);
    fh_pool_close(p);
    fh_no_children_or_fail("max_rss");
}

void fault_test_thread_refuses_recycling(void **state)
{
    const struct pvt_pool_ops *ops = pvt_backend_find("thread");
    struct pvt_pool_cfg cfg = {.workers = 1};
    struct pvt_pool *p = NULL;
    int threads = fh_count_threads();

    (void)state;
    assert_non_null(ops);
    cfg.sup.max_jobs = 10;
    assert_int_equal(ops->create(&cfg, &p), -EOPNOTSUPP);
    assert_null(p);
    cfg.sup.max_jobs = 0;
    cfg.sup.max_rss_kb = 1024;
    assert_int_equal(ops->create(&cfg, &p), -EOPNOTSUPP);
    assert_null(p);
    assert_int_equal(fh_count_threads(), threads);
    /* The watchdog alone is accepted. */
    cfg.sup = (struct pvt_sup_cfg){.worker_timeout_ms = 300};
    p = fh_pool_open_or_fail(ops, &cfg, "watchdog only");
    fh_pool_close(p);
}

/*
 * Every job crashes. Only stats drives the pool until the guard parks the
 * slot, so each death is reaped inside a stats call, and that same call
 * shows what reap did: a respawn at once leaves the slot starting; a
 * backoff leaves it empty (exited, not parked) until a later call.
 */
void fault_test_crash_loop(void **state)
{
    const struct pvt_pool_ops *ops = proc_ops();
    struct pvt_pool_cfg cfg = {.workers = 1};
    struct pvt_worker_stats w[1];
    struct pvt_pool_stats st;
    struct pvt_job j[20], one = {.id = 99, .workload = PVT_WL_NOOP};
    int waited[PVT_SUP_LOOP_DEATHS + 2] = {0};
    struct pvt_pool *p;
    int zombies, i, failed = 0, dropped = 0;
    uint64_t end;

    (void)state;
    p = fh_pool_open_or_fail(ops, &cfg, "crash loop");
    for (i = 0; i < 20; i++)
        j[i] = (struct pvt_job){.id = (uint64_t)i, .workload = PVT_WL_CRASH};
    assert_int_equal(ops->submit(p, j, 20), 20);
    for (end = fh_now_ms() + FH_GUARD_MS;; fh_sleep_ms(1)) {
        fh_stats_or_fail(ops, p, &st, w);
        if (st.deaths > PVT_SUP_LOOP_DEATHS)
            fail_msg("crash loop: %llu deaths, the guard parks at %d",
                     (unsigned long long)st.deaths, PVT_SUP_LOOP_DEATHS);
        if (w[0].parked)
            break;
        if (w[0].state == PVT_W_EXITED)
            waited[st.deaths] = 1;
        if (fh_now_ms() > end)
            fail_msg("crash loop: not parked after %d ms (%llu deaths)", FH_GUARD_MS,
                     (unsigned long long)st.deaths);
    }
    assert_int_equal(st.deaths, PVT_SUP_LOOP_DEATHS);
    assert_int_equal(w[0].restarts, PVT_SUP_LOOP_DEATHS - 1);
    assert_int_equal(st.parked, 1);
    assert_int_equal(st.live, 0);
    assert_int_equal(w[0].state, PVT_W_EXITED);
    assert_int_equal(w[0].last_exit_signal, SIGSEGV);
    /* The first death was replaced at once; every later one waited. */
    if (waited[1])
        fail_msg("crash loop: the first death was not replaced at once");
    for (i = 2; i < PVT_SUP_LOOP_DEATHS; i++)
        if (!waited[i])
            fail_msg("crash loop: death %d was replaced with no backoff", i);

    memset(&seen, 0, sizeof(seen));
    fh_collect(ops, p, &seen, 20, FH_GUARD_MS);
    assert_int_equal(seen.got, 20);
    for (i = 0; i < 20; i++) {
        assert_int_equal(seen.count[i], 1);
        failed += seen.status[i] == PVT_JOB_FAILED;
        dropped += seen.status[i] == PVT_JOB_DROPPED;
    }
    assert_int_equal(failed, PVT_SUP_LOOP_DEATHS);
    assert_int_equal(dropped, 20 - PVT_SUP_LOOP_DEATHS);
    for (i = 0; i < PVT_SUP_LOOP_DEATHS; i++)
        assert_int_equal(seen.status[i], PVT_JOB_FAILED); /* in order, one per worker */
    assert_int_equal(ops->submit(p, &one, 1), -EHOSTDOWN);
    assert_int_equal(fh_children(NULL, 0, &zombies), 0);
    assert_int_equal(zombies, 0);
    fh_pool_close(p);
    fh_no_children_or_fail("crash loop");
}

/* 1 if a child has exited and is not reaped yet; reaps nothing. */
static int exited_child_waits(void)
{
    siginfo_t si;

    memset(&si, 0, sizeof(si));
    if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
        return 0; /* ECHILD: no child at all */
    return si.si_pid != 0;
}

#define RESPAWNS 1000

void fault_test_many_respawns(void **state)
{
    const struct pvt_pool_ops *ops = proc_ops();
    /* A 1 ms window, so deaths never pile up in it and the guard never
     * trips; a 1 ms backoff for the rare two deaths within it. */
    struct pvt_pool_cfg cfg = {.workers = 1,
                               .sup = {.loop_window_ms = 1,
                                       .backoff_ms = 1,
                                       .backoff_max_ms = 1,
                                       .loop_deaths = PVT_SUP_MAX_LOOP}};
    static struct pvt_job j[RESPAWNS];
    struct pvt_worker_stats w[1];
    struct pvt_pool_stats st;
    struct pvt_pool *p;
    int fds0, fds1, n, zombies, i;
    pid_t kid, first;

    (void)state;
    fds0 = fh_count_fds();
    p = fh_pool_open_or_fail(ops, &cfg, "1,000 respawns");
    fh_stats_or_fail(ops, p, &st, w);
    first = w[0].pid;
    fds1 = fh_count_fds();
    assert_true(fds1 > fds0);
    n = fh_children(&kid, 1, &zombies);
    assert_int_equal(n, 1);
    assert_int_equal(kid, first);

    for (i = 0; i < RESPAWNS; i++)
        j[i] = (struct pvt_job){.id = (uint64_t)i, .workload = PVT_WL_CRASH};
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(fh_submit_all(ops, p, j, RESPAWNS, &seen), 0);
    fh_collect(ops, p, &seen, RESPAWNS, 60000);
    assert_int_equal(seen.got, RESPAWNS);
    for (i = 0; i < RESPAWNS; i++)
        if (seen.count[i] != 1 || seen.status[i] != PVT_JOB_FAILED)
            fail_msg("respawns: job %d: count %d, status %d", i, seen.count[i], seen.status[i]);

    fh_wait_slot_or_fail(ops, p, 0, first, &st, w);
    assert_int_equal(w[0].restarts, RESPAWNS);
    assert_int_equal(st.deaths, RESPAWNS);
    assert_int_equal(st.parked, 0);
    assert_int_equal(st.live, 1);
    if (fh_count_fds() != fds1)
        fail_msg("after %d respawns: %d descriptors open, %d before", RESPAWNS, fh_count_fds(),
                 fds1);
    n = fh_children(&kid, 1, &zombies);
    if (n != 1 || zombies || kid != w[0].pid || exited_child_waits())
        fail_msg("after %d respawns: %d children (%d zombies), the first %d, worker %d", RESPAWNS,
                 n, zombies, (int)kid, (int)w[0].pid);

    /* The last replacement works. */
    memset(&seen, 0, sizeof(seen));
    for (i = 0; i < 10; i++)
        j[i] = (struct pvt_job){.id = (uint64_t)i, .workload = PVT_WL_CPU, .arg = 1000};
    assert_int_equal(fh_submit_all(ops, p, j, 10, &seen), 0);
    fh_collect(ops, p, &seen, 10, FH_GUARD_MS);
    for (i = 0; i < 10; i++)
        assert_int_equal(seen.status[i], PVT_JOB_OK);
    fh_pool_close(p);
    assert_int_equal(fh_count_fds(), fds0);
    fh_no_children_or_fail("1,000 respawns");
}

/*
 * Twelve workers in a row exit with PVT_WEXIT_RECYCLE before their job
 * limit: the code is the worker's word, not a recycle the pool asked for,
 * so each is a death, with the backoff and the crash-loop guard, and none
 * is counted as a recycle.
 */
void fault_test_recycle_code_unasked(void **state)
{
    const struct pvt_pool_ops *ops = proc_ops();
    struct pvt_pool_cfg cfg = {.workers = 1, .sup = {.max_jobs = 10}};
    struct pvt_worker_stats w[1];
    struct pvt_pool_stats st;
    struct pvt_job j[12];
    struct pvt_pool *p;
    uint64_t end;
    int i;

    (void)state;
    p = fh_pool_open_or_fail(ops, &cfg, "exit 75 unasked");
    for (i = 0; i < 12; i++)
        j[i] = (struct pvt_job){.id = (uint64_t)i, .workload = PVT_WL_EXIT,
                                .arg = PVT_WEXIT_RECYCLE};
    assert_int_equal(ops->submit(p, j, 12), 12);
    for (end = fh_now_ms() + FH_GUARD_MS;; fh_sleep_ms(1)) {
        fh_stats_or_fail(ops, p, &st, w);
        if (st.recycles)
            fail_msg("exit %d unasked: counted as %llu recycles (deaths %llu)", PVT_WEXIT_RECYCLE,
                     (unsigned long long)st.recycles, (unsigned long long)st.deaths);
        if (w[0].parked)
            break;
        if (fh_now_ms() > end)
            fail_msg("exit %d unasked: not parked after %d ms (%llu deaths)", PVT_WEXIT_RECYCLE,
                     FH_GUARD_MS, (unsigned long long)st.deaths);
    }
    assert_int_equal(st.deaths, PVT_SUP_LOOP_DEATHS);
    assert_int_equal(w[0].restarts, PVT_SUP_LOOP_DEATHS - 1);
    assert_int_equal(w[0].last_exit_code, PVT_WEXIT_RECYCLE);
    assert_int_equal(w[0].last_exit_intended, 0);
    memset(&seen, 0, sizeof(seen));
    fh_collect(ops, p, &seen, 12, FH_GUARD_MS);
    assert_int_equal(seen.got, 12);
    fh_pool_close(p);
    fh_no_children_or_fail("exit 75 unasked");
}

/*
 * A process whose parent left SIGCHLD ignored (the disposition survives
 * exec) would have its children reaped by the kernel, and their exit
 * status lost. A pool sets SIGCHLD back to its default: a worker's crash
 * is seen as SIGSEGV.
 */
void fault_test_sigchld_ignored(void **state)
{
    const struct pvt_pool_ops *ops = proc_ops();
    struct pvt_pool_cfg cfg = {.workers = 1};
    struct pvt_worker_stats w[1] = {{0}};
    struct pvt_pool_stats st = {0};
    struct pvt_job j = {.id = 1, .workload = PVT_WL_CRASH};
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    struct pvt_pool *p = NULL;
    uint64_t end = fh_now_ms() + FH_GUARD_MS;
    int created;

    (void)state;
    assert_int_equal(sigaction(SIGCHLD, &ign, &old), 0);
    created = ops->create(&cfg, &p);
    if (created == 0 && ops->submit(p, &j, 1) == 1) {
        do {
            fh_sleep_ms(1);
            ops->stats(p, &(struct pvt_pool_stats){.w = w});
        } while (w[0].restarts < 1 && !w[0].parked && fh_now_ms() < end);
        memset(&st, 0, sizeof(st));
        ops->stats(p, &st);
    }
    if (p)
        ops->destroy(p);
    sigaction(SIGCHLD, &old, NULL); /* before anything can fail */
    assert_int_equal(created, 0);
    if (w[0].restarts < 1 && !w[0].parked)
        fail_msg("SIGCHLD ignored: the crashed worker was not replaced");
    if (w[0].last_exit_signal != SIGSEGV || st.deaths != 1)
        fail_msg("SIGCHLD ignored: the crash was seen as code %d, signal %d, deaths %llu",
                 w[0].last_exit_code, w[0].last_exit_signal, (unsigned long long)st.deaths);
}
