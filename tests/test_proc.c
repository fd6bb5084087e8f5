/*
 * test_proc.c: what only the process backend does: a worker killed mid-job
 * is reaped, its job failed and its slot refilled (also in slot 0 of two, and
 * while the application has forked a child of its own, which holds copies of
 * the pool's pidfds); with no_respawn its queue is dropped. What a worker
 * leaves behind and how it ends (no zombie, no orphan, no open descriptor,
 * death with the primary, a failed bind) is checked in proc_life.c.
 *
 * Some cases fork a child of their own (a scenario that might hang the
 * pool). Following STYLE.md, such a child never calls cmocka: it resets the
 * crash signals, turns off core dumps, runs under an alarm, and reports
 * through its exit code; the test asserts after waitpid.
 *
 * "Running" is seen from the outside: a worker whose current system call is
 * clock_nanosleep is inside a sleep job (an idle worker spins or waits on a
 * futex), read from /proc/PID/syscall. Waits are bounded and only turn a hang
 * into a failure; no case asserts how long anything took.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc_cases.h"
#include "proc_harness.h"
#include "shared/work/work.h"

#define LONG_MS          2000 /* the job that gets killed; never waited for in full */
#define LONG2_MS         1000 /* the same in the two-worker scenario, where one is waited for */
#define SCENARIO_ALARM_S 8

/*
 * 1 once pid is inside a sleep job (its current system call is a nanosleep),
 * 0 if it was not seen there within ms, -errno if /proc cannot tell.
 */
static int wait_sleeping(pid_t pid, int ms)
{
    uint64_t end = now_ms() + (uint64_t)ms;
    char path[64], buf[128];
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
    do {
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return -errno;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n < 0)
            return -EIO;
        buf[n] = '\0';
        if (buf[0] >= '0' && buf[0] <= '9') {
            long nr = strtol(buf, NULL, 10);
            if (nr == SYS_clock_nanosleep || nr == SYS_nanosleep)
                return 1;
        }
        sleep_ms(1);
    } while (now_ms() < end);
    return 0;
}

/* Poll stats until slot i has a ready worker again. */
static void wait_slot_ready(struct pvt_pool *p, int i, struct pvt_pool_stats *st,
                            struct pvt_worker_stats *w)
{
    uint64_t end = now_ms() + GUARD_MS;

    for (;;) {
        get_stats(p, st, w);
        if (w[i].state == PVT_W_READY || now_ms() > end)
            break;
        sleep_ms(1);
    }
    if (w[i].state != PVT_W_READY)
        fail_msg("slot %d never became ready again (state %d)", i, w[i].state);
}

/*
 * Run fn in a child under an alarm of alarm_s seconds. Returns its exit code,
 * or 1000 + the signal that ended it (SIGALRM: it hung).
 */
static int run_in_child(int (*fn)(int), int arg, unsigned alarm_s)
{
    uint64_t end = now_ms() + (uint64_t)(alarm_s + 10) * 1000u;
    pid_t pid, r;
    int st = 0;

    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        child_setup(alarm_s);
        _exit(fn(arg));
    }
    while ((r = waitpid(pid, &st, WNOHANG)) == 0 && now_ms() < end)
        sleep_ms(10);
    if (r == 0) {
        kill(pid, SIGKILL);
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
    } else {
        assert_int_equal(r, pid);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1000 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

/* ---- cases ---- */

/*
 * A worker killed mid-job: its job fails, the jobs queued behind it run on a
 * replacement in the same slot, and the pool keeps working.
 */
static void test_kill_worker_respawns(void **state)
{
    struct pvt_worker_stats w[1];
    struct pvt_pool_stats st;
    struct seen s = {0};
    struct pvt_pool *p;
    pid_t old, now;
    int i;

    (void)state;
    p = pool_new(1, 0);
    get_stats(p, &st, w);
    old = w[0].pid;
    assert_true(old > 0);

    assert_int_equal(submit_one(p, 0, PVT_WL_SLEEP, LONG_MS), 1);
    for (i = 1; i <= 3; i++)
        assert_int_equal(submit_one(p, (uint64_t)i, PVT_WL_SLEEP, 1), 1);
    assert_int_equal(wait_sleeping(old, 5000), 1);
    assert_int_equal(kill(old, SIGKILL), 0);

    collect_until(p, &s, 4, GUARD_MS);
    assert_int_equal(s.got, 4);
    assert_int_equal(s.stray, 0);
    assert_int_equal(s.count[0], 1);
    assert_int_equal(s.status[0], PVT_JOB_FAILED);
    for (i = 1; i <= 3; i++) {
        assert_int_equal(s.count[i], 1);
        assert_int_equal(s.status[i], PVT_JOB_OK);
        assert_int_equal(s.value[i], 1);
    }

    wait_slot_ready(p, 0, &st, w);
    now = w[0].pid;
    assert_true(now > 0);
    assert_int_not_equal(now, old);
    assert_true(gone(old));
    assert_int_equal(w[0].restarts, 1);
    assert_int_equal(w[0].last_exit_signal, SIGKILL);
    assert_int_equal(w[0].last_exit_intended, 0);
    assert_int_equal(st.deaths, 1);
    assert_int_equal(st.failed, 1);
    assert_int_equal(st.dropped, 0);
    assert_int_equal(st.live, 1);
    assert_int_equal(st.submitted, 4);
    assert_int_equal(st.completed, 4);
    /* The three OK jobs were run by the replacement, in the same slot. */
    assert_true(w[0].jobs_done >= 3);

    /* It keeps working. */
    for (i = 10; i < 20; i++)
        assert_int_equal(submit_one(p, (uint64_t)i, PVT_WL_CPU, 1000), 1);
    collect_until(p, &s, 14, GUARD_MS);
    assert_int_equal(s.got, 14);
    for (i = 10; i < 20; i++) {
        assert_int_equal(s.count[i], 1);
        assert_int_equal(s.status[i], PVT_JOB_OK);
        assert_int_equal(s.value[i], pvt_work_expected(PVT_WL_CPU, 1000));
    }
    get_stats(p, &st, w);
    assert_int_equal(w[0].pid, now);
    assert_int_equal(w[0].restarts, 1);
    assert_int_equal(st.deaths, 1);

    pool_free();
    assert_true(gone(old));
    assert_true(gone(now));
    expect_no_children();
}

/* With no_respawn, the slot stays empty: its queue is dropped. */
static void test_kill_worker_no_respawn(void **state)
{
    struct pvt_worker_stats w[1];
    struct pvt_pool_stats st;
    struct pvt_result res[4];
    struct seen s = {0};
    struct pvt_pool *p;
    pid_t old;
    int i;

    (void)state;
    p = pool_new(1, 1);
    get_stats(p, &st, w);
    old = w[0].pid;

    assert_int_equal(submit_one(p, 0, PVT_WL_SLEEP, LONG_MS), 1);
    for (i = 1; i <= 3; i++)
        assert_int_equal(submit_one(p, (uint64_t)i, PVT_WL_SLEEP, 1), 1);
    assert_int_equal(wait_sleeping(old, 5000), 1);
    assert_int_equal(kill(old, SIGKILL), 0);

    collect_until(p, &s, 4, GUARD_MS);
    assert_int_equal(s.got, 4);
    assert_int_equal(s.stray, 0);
    assert_int_equal(s.count[0], 1);
    assert_int_equal(s.status[0], PVT_JOB_FAILED);
    for (i = 1; i <= 3; i++) {
        assert_int_equal(s.count[i], 1);
        assert_int_equal(s.status[i], PVT_JOB_DROPPED);
    }

    get_stats(p, &st, w);
    assert_int_equal(st.live, 0);
    assert_int_equal(st.deaths, 1);
    assert_int_equal(st.failed, 1);
    assert_int_equal(st.dropped, 3);
    assert_int_equal(w[0].state, PVT_W_EXITED);
    assert_int_equal(w[0].restarts, 0);
    assert_int_equal(w[0].last_exit_signal, SIGKILL);
    assert_int_equal(w[0].last_exit_intended, 0);

    assert_int_equal(submit_one(p, 9, PVT_WL_NOOP, 0), -EHOSTDOWN);
    assert_int_equal(ops->collect(p, res, 4, 0), -ENOENT);
    pool_free();
    assert_true(gone(old));
    expect_no_children();
}

/*
 * The same kill with two workers, aimed at slot 0, run in a child because a
 * pool that mishandles it blocks for ever. Slot 0's worker is forked first,
 * so its pidfd is open when slot 1's worker is forked. Returns 0, or the
 * number of the check that failed.
 */
static int kill_slot0_scenario(int no_respawn)
{
    struct pvt_pool_cfg cfg = {.workers = 2, .no_respawn = no_respawn};
    struct pvt_worker_stats w[2];
    struct pvt_pool_stats st = {.w = w};
    struct pvt_result res[16];
    struct pvt_pool *p = NULL;
    struct pvt_job j;
    int got = 0, failed = 0, ok = 0, dropped = 0, i, rc;
    pid_t pid0, pid1;
    uint64_t end;

    if (ops->create(&cfg, &p) != 0)
        return 10;
    ops->stats(p, &st);
    pid0 = w[0].pid;
    pid1 = w[1].pid;
    /* One long job on each worker, then two short ones on each. */
    for (i = 0; i < 2; i++) {
        j = (struct pvt_job){.id = (uint64_t)i, .workload = PVT_WL_SLEEP, .arg = LONG2_MS};
        if (ops->submit(p, &j, 1) != 1)
            return 11;
    }
    for (i = 2; i < 6; i++) {
        j = (struct pvt_job){.id = (uint64_t)i, .workload = PVT_WL_SLEEP, .arg = 1};
        if (ops->submit(p, &j, 1) != 1)
            return 12;
    }
    if (wait_sleeping(pid0, 5000) != 1)
        return 13;
    kill(pid0, SIGKILL);

    end = now_ms() + GUARD_MS;
    while (got < 6 && now_ms() < end) {
        rc = ops->collect(p, res, 16, 100);
        if (rc < 0)
            return 14;
        for (i = 0; i < rc; i++) {
            failed += res[i].status == PVT_JOB_FAILED;
            ok += res[i].status == PVT_JOB_OK;
            dropped += res[i].status == PVT_JOB_DROPPED;
        }
        got += rc;
    }
    if (got != 6)
        return 15;
    if (failed != 1)
        return 16;
    /* Slot 0 held one long and two short jobs: respawned, the short ones
     * run; not respawned, they are dropped. */
    if (no_respawn ? (dropped != 2 || ok != 3) : ok != 5)
        return 17;
    ops->stats(p, &st);
    if (st.deaths != 1 || w[1].pid != pid1 || w[1].restarts != 0)
        return 18;
    if (no_respawn ? st.live != 1 : w[0].restarts != 1)
        return 19;

    /* The pool keeps working. */
    for (i = 0; i < 8; i++) {
        j = (struct pvt_job){.id = 100 + (uint64_t)i, .workload = PVT_WL_CPU, .arg = 1000};
        if (ops->submit(p, &j, 1) != 1)
            return 20;
    }
    for (got = 0, end = now_ms() + GUARD_MS; got < 8 && now_ms() < end; got += rc) {
        rc = ops->collect(p, res, 16, 100);
        if (rc < 0)
            return 21;
        for (i = 0; i < rc; i++)
            if (res[i].status != PVT_JOB_OK || res[i].value != pvt_work_expected(PVT_WL_CPU, 1000))
                return 22;
    }
    if (got != 8)
        return 23;
    if (ops->stop(p, 5000) != 0)
        return 24;
    ops->destroy(p);
    if (!gone(pid0) || !gone(pid1))
        return 25;
    if (waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD)
        return 26;
    return 0;
}

/*
 * The same kill while the application has a child of its own that it forked
 * after the pool was made (a helper, or system() between its fork and exec):
 * that child holds copies of every descriptor the primary had, the pool's
 * pidfds included. Returns 0 or the number of the check that failed.
 */
static int kill_with_bystander_scenario(int unused)
{
    struct pvt_pool_cfg cfg = {.workers = 1};
    struct pvt_worker_stats w[1];
    struct pvt_pool_stats st = {.w = w};
    struct pvt_result res[8];
    struct pvt_pool *p = NULL;
    struct pvt_job j;
    int got = 0, ok = 0, failed = 0, i, rc;
    pid_t pid0, bystander;
    uint64_t end;

    (void)unused;
    if (ops->create(&cfg, &p) != 0)
        return 30;
    ops->stats(p, &st);
    pid0 = w[0].pid;
    bystander = fork();
    if (bystander < 0)
        return 31;
    if (bystander == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        for (;;)
            pause();
    }
    for (i = 0; i < 3; i++) {
        j = (struct pvt_job){
            .id = (uint64_t)i, .workload = PVT_WL_SLEEP, .arg = i == 0 ? LONG2_MS : 1};
        if (ops->submit(p, &j, 1) != 1)
            return 32;
    }
    if (wait_sleeping(pid0, 5000) != 1)
        return 33;
    kill(pid0, SIGKILL);
    for (end = now_ms() + GUARD_MS; got < 3 && now_ms() < end; got += rc) {
        rc = ops->collect(p, res, 8, 100);
        if (rc < 0)
            return 34;
        for (i = 0; i < rc; i++) {
            ok += res[i].status == PVT_JOB_OK;
            failed += res[i].status == PVT_JOB_FAILED;
        }
    }
    if (got != 3 || failed != 1 || ok != 2)
        return 35;
    /* The replacement takes new work, and collect supervises it quietly. */
    for (i = 10; i < 14; i++) {
        j = (struct pvt_job){.id = (uint64_t)i, .workload = PVT_WL_CPU, .arg = 1000};
        if (ops->submit(p, &j, 1) != 1)
            return 36;
    }
    for (got = 0, end = now_ms() + GUARD_MS; got < 4 && now_ms() < end; got += rc) {
        rc = ops->collect(p, res, 8, 100);
        if (rc < 0)
            return 37;
    }
    if (got != 4)
        return 38;
    ops->stats(p, &st);
    if (st.deaths != 1 || w[0].restarts != 1 || w[0].state != PVT_W_READY)
        return 39;
    kill(bystander, SIGKILL);
    while (waitpid(bystander, NULL, 0) < 0 && errno == EINTR)
        ;
    if (ops->stop(p, 5000) != 0)
        return 40;
    ops->destroy(p);
    if (waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD)
        return 41;
    return 0;
}

static void expect_scenario(int rc, const char *what)
{
    if (rc == 1000 + SIGALRM)
        fail_msg("%s: the pool hung (the child's alarm went off)", what);
    if (rc != 0)
        fail_msg("%s: check %d failed (see the scenario's returns)", what, rc);
}

static void test_kill_slot0_of_two(void **state)
{
    (void)state;
    expect_scenario(run_in_child(kill_slot0_scenario, 0, SCENARIO_ALARM_S), "kill slot 0 of 2");
}

static void test_kill_slot0_of_two_no_respawn(void **state)
{
    (void)state;
    expect_scenario(run_in_child(kill_slot0_scenario, 1, SCENARIO_ALARM_S),
                    "kill slot 0 of 2, no_respawn");
}

static void test_kill_with_forked_bystander(void **state)
{
    (void)state;
    expect_scenario(run_in_child(kill_with_bystander_scenario, 0, SCENARIO_ALARM_S),
                    "kill with a forked bystander");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_kill_worker_respawns, teardown_pool),
        cmocka_unit_test_teardown(test_kill_worker_no_respawn, teardown_pool),
        cmocka_unit_test_teardown(test_kill_slot0_of_two, teardown_pool),
        cmocka_unit_test_teardown(test_kill_slot0_of_two_no_respawn, teardown_pool),
        cmocka_unit_test_teardown(test_kill_with_forked_bystander, teardown_pool),
        cmocka_unit_test_teardown(test_no_zombie_no_orphan, teardown_pool),
        cmocka_unit_test_teardown(test_workers_are_processes, teardown_pool),
        cmocka_unit_test_teardown(test_workers_die_with_primary, teardown_pool),
        cmocka_unit_test_teardown(test_impossible_plan, teardown_pool),
        cmocka_unit_test_teardown(test_second_pool_keeps_no_first_pool_fd, teardown_pool),
        cmocka_unit_test_teardown(test_job_stop_does_not_spin, teardown_pool),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
