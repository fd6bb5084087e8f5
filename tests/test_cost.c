/*
 * test_cost: the bare mechanisms cost mode measures pvt against
 * (bench/modes/cost/bench_cost_bare.c, bench/modes/cost/bench_cost_pp.c), bound to CPUs or not,
 * the direction of its copy-on-write experiment, and the hop section's
 * mechanics (bench/modes/cost/bench_cost_hop.c): every job's value checked,
 * inline and through each polling pool, and the crossover it reports.
 *
 * No figure is checked against a time: only that every worker starts,
 * answers and is reaped, and that memory moves the way the kernel says it
 * must (a dataset forked into N workers is shared until they write it; then
 * each holds a copy). The workers are the code under test; they never call
 * cmocka, and everything a test asserts is read after they are reaped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/backends/backends.h"
#include "bench/modes/cost/bench_cost.h"
#include "bench/modes/cost/bench_cost_bare.h"
#include "bench/modes/cost/mem.h"
#include "shared/work/work.h"

#define COW_MB 32
#define COW_N  4

/* 1 if no child of this process is left, reaped or not. */
static int no_children(void)
{
    return waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD;
}

static void bare_start_stop(void **state)
{
    int kinds[] = {PVT_BARE_FORK, PVT_BARE_PTHREAD}, k, i, alive, rc, stop;
    struct pvt_bare b;

    (void)state;
    for (k = 0; k < 2; k++) {
        rc = pvt_bare_start(&b, kinds[k], 8, NULL, 0);
        alive = 0;
        for (i = 0; rc == 0 && i < 8; i++)
            alive += b.ids[i] > 0 && (kinds[k] == PVT_BARE_PTHREAD || kill(b.ids[i], 0) == 0);
        stop = rc == 0 ? pvt_bare_stop(&b) : 0;
        assert_int_equal(rc, 0);
        assert_int_equal(alive, 8);
        assert_int_equal(stop, 0);
        assert_true(no_children());
    }
    assert_int_equal(pvt_bare_start(&b, PVT_BARE_FORK, 0, NULL, 0), -EINVAL);
}

/* Bound workers: each runs on the CPU set it was given (read from the
 * kernel while it waits), for both kinds; a set it cannot have fails the
 * start and leaves nothing behind. */
static void bare_start_bound(void **state)
{
    int kinds[] = {PVT_BARE_FORK, PVT_BARE_PTHREAD}, k, i, rc, stop, same;
    cpu_set_t allowed, sets[4], got, none;
    struct pvt_bare b;
    int cpus[4], ncpu = 0, c;

    (void)state;
    assert_int_equal(sched_getaffinity(0, sizeof(allowed), &allowed), 0);
    for (c = 0; c < CPU_SETSIZE && ncpu < 4; c++)
        if (CPU_ISSET(c, &allowed))
            cpus[ncpu++] = c;
    for (i = 0; i < 4; i++) {
        CPU_ZERO(&sets[i]);
        CPU_SET(cpus[i % ncpu], &sets[i]);
    }
    for (k = 0; k < 2; k++) {
        rc = pvt_bare_start_bound(&b, kinds[k], 4, sets);
        same = 0;
        for (i = 0; rc == 0 && i < 4; i++)
            same += sched_getaffinity(b.ids[i], sizeof(got), &got) == 0 && CPU_EQUAL(&got, &sets[i]);
        stop = rc == 0 ? pvt_bare_stop(&b) : 0;
        assert_int_equal(rc, 0);
        assert_int_equal(same, 4);
        assert_int_equal(stop, 0);
        assert_true(no_children());
    }
    /* No CPU at all: sched_setaffinity refuses it. */
    CPU_ZERO(&none);
    for (i = 0; i < 4; i++)
        sets[i] = none;
    for (k = 0; k < 2; k++) {
        assert_int_equal(pvt_bare_start_bound(&b, kinds[k], 4, sets), -EIO);
        assert_true(no_children());
    }
    assert_int_equal(pvt_bare_start_bound(&b, PVT_BARE_FORK, 2, NULL), -EINVAL);
}

static void spawn_kinds(void **state)
{
    int k;

    (void)state;
    for (k = 0; k < PVT_SPAWN_COUNT; k++) {
        if ((k == PVT_SPAWN_POSIX || k == PVT_SPAWN_FORK_EXEC) && access(PVT_BARE_TRUE, X_OK) != 0)
            continue;
        assert_int_equal(pvt_spawn_run(k, 3), 0);
        assert_true(no_children());
    }
    assert_int_equal(pvt_spawn_run(PVT_SPAWN_COUNT, 1), -EINVAL);
}

/* A touched dataset of len bytes for a copy-on-write test. Under TSan the
 * test is skipped: its shadow bytes would count in RSS, PSS and USS. */
static unsigned char *dataset(size_t len)
{
    unsigned char *data;

#ifdef __SANITIZE_THREAD__
    skip();
#endif
    data = pvt_bare_touch(len);
    assert_non_null(data);
    return data;
}

/* The figures of each of b's worker processes. 0 or the reader's error. */
static int read_workers(const struct pvt_bare *b, struct pvt_mem *m)
{
    int i, rc;

    for (i = 0; i < b->n; i++)
        if ((rc = pvt_mem_read(b->ids[i], &m[i])) < 0)
            return rc;
    return 0;
}

static void cow_processes(void **state)
{
    const size_t len = (size_t)COW_MB << 20;
    const double d = COW_MB * 1024.0, share = d / (COW_N + 1);
    struct pvt_mem started[COW_N], read_m[COW_N], written[COW_N];
    double pss_started = 0, pss_read = 0, pss_written = 0;
    unsigned char *data;
    struct pvt_bare b;
    int rc, r1 = -1, r2 = -1, r3 = -1, c1 = -1, c2 = -1, stop = -1, i;

    (void)state;
    data = dataset(len);
    rc = pvt_bare_start(&b, PVT_BARE_FORK, COW_N, data, len);
    if (rc == 0) {
        r1 = read_workers(&b, started);
        c1 = pvt_bare_cmd(&b, 'r');
        r2 = read_workers(&b, read_m);
        c2 = pvt_bare_cmd(&b, 'w');
        r3 = read_workers(&b, written);
        stop = pvt_bare_stop(&b);
    }
    pvt_bare_untouch(data, len);
    assert_int_equal(rc, 0);
    assert_int_equal(r1, 0);
    assert_int_equal(c1, 0);
    assert_int_equal(r2, 0);
    assert_int_equal(c2, 0);
    assert_int_equal(r3, 0);
    assert_int_equal(stop, 0);
    assert_true(no_children());
    for (i = 0; i < COW_N; i++) {
        pss_started += (double)started[i].pss_kb;
        pss_read += (double)read_m[i].pss_kb;
        pss_written += (double)written[i].pss_kb;
        /* Before writing: the dataset in RSS, a 1/(N+1) share of it in PSS. */
        assert_true((double)read_m[i].rss_kb >= d);
        assert_true((double)read_m[i].pss_kb >= 0.8 * share);
        assert_true((double)read_m[i].pss_kb <= share + 8 * 1024);
        assert_true((double)read_m[i].uss_kb < 0.2 * d);
        /* After: a private copy each. */
        assert_true((double)written[i].uss_kb >= d);
    }
    /* Reading copies nothing; writing makes N copies where 1 was shared by N + 1. */
    assert_true(pss_read <= pss_started + 0.1 * d);
    assert_true(pss_written - pss_read >= 0.9 * (COW_N * d - COW_N * share));
}

static void cow_threads(void **state)
{
    const size_t len = (size_t)COW_MB << 20;
    struct pvt_mem before = {0}, after = {0};
    unsigned char *data;
    struct pvt_bare b;
    int rc, c1 = -1, c2 = -1, stop = -1, r0, r1 = -1;

    (void)state;
    data = dataset(len);
    r0 = pvt_mem_read(0, &before);
    rc = pvt_bare_start(&b, PVT_BARE_PTHREAD, COW_N, data, len);
    if (rc == 0) {
        c1 = pvt_bare_cmd(&b, 'r');
        c2 = pvt_bare_cmd(&b, 'w');
        r1 = pvt_mem_read(0, &after);
        stop = pvt_bare_stop(&b);
    }
    pvt_bare_untouch(data, len);
    assert_int_equal(r0, 0);
    assert_int_equal(rc, 0);
    assert_int_equal(c1, 0);
    assert_int_equal(c2, 0);
    assert_int_equal(r1, 0);
    assert_int_equal(stop, 0);
    /* Threads write the one copy there is: the process does not grow by a dataset. */
    assert_true((double)after.pss_kb < (double)before.pss_kb + COW_MB * 1024.0 / 4);
    assert_int_equal(pvt_bare_cmd(&b, 'r'), -EINVAL); /* stopped */
}

static void pingpong_every_mechanism(void **state)
{
    cpu_set_t saved, one;
    int m, proc, rc, cpus[2] = {-1, -1}, n = 0, i;
    double rtt;
    uint64_t rounds;

    (void)state;
    assert_int_equal(sched_getaffinity(0, sizeof(saved), &saved), 0);
    for (i = 0; i < CPU_SETSIZE && n < 2; i++)
        if (CPU_ISSET(i, &saved))
            cpus[n++] = i;
    /* Spinning needs the peer on another CPU than this thread. */
    CPU_ZERO(&one);
    CPU_SET(cpus[0], &one);
    assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
    for (m = 0; m < PVT_PP_COUNT; m++) {
        for (proc = 0; proc <= 1; proc++) {
            if (m == PVT_PP_SPIN && n < 2)
                continue;
            rtt = 0;
            rounds = 0;
            rc = pvt_pp_run(m, proc, n > 1 ? cpus[1] : -1, 1000000, 300, &rtt, &rounds);
            assert_int_equal(rc, 0);
            assert_true(rounds >= 300);
            assert_true(rtt > 0);
            assert_true(no_children());
        }
    }
    sched_setaffinity(0, sizeof(saved), &saved);
    assert_int_equal(pvt_pp_run(PVT_PP_COUNT, 0, -1, 1, 1, &rtt, &rounds), -EINVAL);
}

/* Jobs of cpu:arg inline and through each backend that polls: right values
 * pass, a wrong expected value fails the batch with -EBADMSG, and the loop
 * still works afterwards. No figure is compared with a time. */
static void hop_values_checked(void **state)
{
    const struct pvt_pool_ops *const *bp;
    const uint64_t arg = 1000, good = pvt_work_expected(PVT_WL_CPU, arg);
    struct pvt_hop_loop l;
    double wall = 0, cpu = 0;
    int npoll = 0;

    (void)state;
    assert_int_equal(pvt_hop_jobs(NULL, arg, good, 50, &wall, &cpu), 0);
    assert_true(wall > 0 && cpu >= 0);
    assert_int_equal(pvt_hop_jobs(NULL, arg, good + 1, 3, &wall, &cpu), -EBADMSG);
    for (bp = pvt_backends; *bp; bp++) {
        int r1, r2, r3;

        if (!((*bp)->caps & PVT_CAP_POLL))
            continue;
        npoll++;
        assert_int_equal(pvt_hop_open(*bp, 0, &l), 0);
        wall = cpu = 0;
        r1 = pvt_hop_jobs(&l, arg, good, 20, &wall, &cpu);
        r2 = pvt_hop_jobs(&l, arg, good + 1, 3, &wall, &cpu);
        r3 = pvt_hop_jobs(&l, arg, good, 5, &wall, &cpu);
        pvt_hop_close(&l);
        assert_int_equal(r1, 0);
        assert_int_equal(r2, -EBADMSG);
        assert_int_equal(r3, 0);
        assert_true(wall > 0 && cpu > 0);
        assert_int_equal(l.ep, -1);
    }
    assert_int_equal(npoll, 2); /* proc and thread */
    assert_true(no_children());
    for (bp = pvt_references; *bp; bp++)
        if (!((*bp)->caps & PVT_CAP_POLL))
            assert_int_equal(pvt_hop_open(*bp, 0, &l), -EOPNOTSUPP);
}

/* A synthetic sweep for pvt_hop_crossover: rep 0 the medians, 1 and 2 two
 * repetitions; NAN where a figure is missing. */
struct fake {
    double inl[3][4], off[3][4];
};

static double fake_get(void *arg, const char *mech, int i, int rep)
{
    const struct fake *f = arg;

    return strcmp(mech, "inline") == 0 ? f->inl[rep][i] : f->off[rep][i];
}

static void hop_crossover_from_rows(void **state)
{
    const uint64_t sizes[4] = {1, 1000, 1000000, 10000000};
    struct fake f = {
        .inl = {{0.01, 1, 1000, 10000}, {0.01, 1, 1000, 10000}, {0.01, 1, 1000, 10000}},
        /* Below inline at size 0 (noise) but not at 1: the crossover is 2
         * (from there on); repetition 2 pays only from 3. */
        .off = {{0.005, 5, 50, 50}, {0.005, 5, 50, 50}, {5, 5, 2000, 50}},
    };
    struct pvt_hop_cross c;
    char buf[48];

    (void)state;
    pvt_hop_crossover(4, 2, fake_get, &f, &c);
    assert_int_equal(c.med, 2);
    assert_int_equal(c.lo, 2);
    assert_int_equal(c.hi, 3);
    f.off[0][3] = 20000; /* the largest size does not pay: none does */
    pvt_hop_crossover(4, 2, fake_get, &f, &c);
    assert_int_equal(c.med, 4);
    f.off[0][0] = NAN;
    f.off[0][3] = 50;
    pvt_hop_crossover(4, 2, fake_get, &f, &c);
    assert_int_equal(c.med, 2); /* a gap below a size that does not pay is never read */
    f.off[0][1] = NAN;
    pvt_hop_crossover(4, 2, fake_get, &f, &c);
    assert_int_equal(c.med, -1);
    pvt_hop_size_text(sizes, 4, 2, buf, sizeof(buf));
    assert_string_equal(buf, "cpu:1M");
    pvt_hop_size_text(sizes, 4, 1, buf, sizeof(buf));
    assert_string_equal(buf, "cpu:1K");
    pvt_hop_size_text(sizes, 4, 4, buf, sizeof(buf));
    assert_string_equal(buf, "none up to cpu:10M");
    pvt_hop_size_text(sizes, 4, -1, buf, sizeof(buf));
    assert_string_equal(buf, "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bare_start_stop),
        cmocka_unit_test(bare_start_bound),
        cmocka_unit_test(spawn_kinds),
        cmocka_unit_test(cow_processes),
        cmocka_unit_test(cow_threads),
        cmocka_unit_test(pingpong_every_mechanism),
        cmocka_unit_test(hop_values_checked),
        cmocka_unit_test(hop_crossover_from_rows),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
