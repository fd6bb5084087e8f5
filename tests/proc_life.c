/*
 * proc_life.c: how a process backend worker begins and ends: each is a
 * process of its own, a child of the primary; after destroy (stopped first
 * or not) no worker is left, not running, not a zombie, and no descriptor
 * the pool opened is open; workers die with a primary that exits without
 * destroying its pool; a worker that cannot bind fails create and leaves
 * nothing behind; a worker of a second pool in the same process holds none
 * of the first pool's descriptors; a stop waits for a slow job without
 * spinning. Run from test_proc.c's main.
 *
 * The primary that dies is a child the case forks. Following STYLE.md, it
 * never calls cmocka: it resets the crash signals, turns off core dumps,
 * runs under an alarm, and reports through its exit code and a pipe; the
 * test asserts after waitpid. Waits are bounded and only turn a hang into a
 * failure; no case asserts how long anything took.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc_cases.h"
#include "proc_harness.h"
#include "proc_cluster/proc_int.h" /* the waker, for the stop case */
#include "proc_cluster/proc_pool.h"
#include "shared/core/pvt.h"
#include "shared/serve/serve.h"
#include "shared/work/work.h"

/* After destroy, no worker is left: not running, not a zombie. */
void test_no_zombie_no_orphan(void **state)
{
    struct pvt_worker_stats w[3];
    struct pvt_pool_stats st;
    struct seen s = {0};
    struct pvt_pool *p;
    pid_t pids[3];
    int fds, i;

    (void)state;
    fds = count_fds();

    /* Stopped cleanly, then destroyed. */
    p = pool_new(3, 0);
    get_stats(p, &st, w);
    for (i = 0; i < 3; i++) {
        pids[i] = w[i].pid;
        assert_true(pids[i] > 0);
        assert_int_not_equal(pids[i], getpid());
    }
    for (i = 0; i < 30; i++)
        assert_int_equal(submit_one(p, (uint64_t)i, PVT_WL_CPU, 1000), 1);
    collect_until(p, &s, 30, GUARD_MS);
    assert_int_equal(s.got, 30);
    assert_int_equal(ops->stop(p, 5000), 0);
    get_stats(p, &st, w);
    for (i = 0; i < 3; i++) {
        assert_int_equal(w[i].state, PVT_W_EXITED);
        assert_int_equal(w[i].last_exit_intended, 1);
        assert_int_equal(w[i].last_exit_code, PVT_WEXIT_OK);
        assert_int_equal(w[i].last_exit_signal, 0);
    }
    assert_int_equal(st.deaths, 0);
    pool_free();
    for (i = 0; i < 3; i++)
        if (!gone(pids[i]))
            fail_msg("worker %d (pid %d) still exists after destroy", i, (int)pids[i]);
    expect_no_children();
    expect_fds(fds, "after stop and destroy");

    /* Destroyed with jobs running, without a stop. */
    p = pool_new(2, 0);
    get_stats(p, &st, w);
    pids[0] = w[0].pid;
    pids[1] = w[1].pid;
    for (i = 0; i < 10; i++)
        assert_int_equal(submit_one(p, (uint64_t)i, PVT_WL_SLEEP, 200), 1);
    pool_free();
    for (i = 0; i < 2; i++)
        if (!gone(pids[i]))
            fail_msg("worker %d (pid %d) still exists after destroy", i, (int)pids[i]);
    expect_no_children();
    expect_fds(fds, "after destroy with jobs running");
}

/* Each worker is a process of its own, a child of the primary. */
void test_workers_are_processes(void **state)
{
    struct pvt_worker_stats w[2];
    struct pvt_pool_stats st;
    struct pvt_pool *p;
    char path[64], line[256];
    int i, ppid;
    FILE *f;

    (void)state;
    p = pool_new(2, 0);
    get_stats(p, &st, w);
    assert_int_not_equal(w[0].pid, w[1].pid);
    for (i = 0; i < 2; i++) {
        assert_int_not_equal(w[i].pid, getpid());
        snprintf(path, sizeof(path), "/proc/self/task/%d", (int)w[i].pid);
        assert_int_equal(access(path, F_OK), -1);
        snprintf(path, sizeof(path), "/proc/%d/status", (int)w[i].pid);
        f = fopen(path, "r");
        assert_non_null(f);
        ppid = -1;
        while (fgets(line, sizeof(line), f))
            if (sscanf(line, "PPid: %d", &ppid) == 1)
                break;
        fclose(f);
        assert_int_equal(ppid, getpid());
    }
    pool_free();
}

/*
 * The primary dies without destroying its pool: its workers die with it.
 * The test makes itself a child subreaper, so the orphaned workers come to
 * it and it can see them die (and reap them) rather than trust whatever
 * process 1 does with zombies.
 */
void test_workers_die_with_primary(void **state)
{
    struct pvt_worker_stats w[2];
    struct pvt_pool_stats st = {.w = w};
    struct pvt_pool_cfg cfg = {.workers = 2};
    struct pvt_pool *p = NULL;
    int fds[2], wst = 0, cst = 0, i, dead, rc;
    pid_t child, r, pids[2] = {0, 0};
    char msg[160] = "";
    uint64_t end;
    ssize_t n;

    (void)state;
    assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
    assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    fflush(NULL);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        child_setup(20);
        close(fds[0]);
        if (ops->create(&cfg, &p) != 0)
            _exit(2);
        ops->stats(p, &st);
        pids[0] = w[0].pid;
        pids[1] = w[1].pid;
        if (write(fds[1], pids, sizeof(pids)) != (ssize_t)sizeof(pids))
            _exit(3);
        _exit(0); /* no destroy, no stop */
    }
    close(fds[1]);
    while (waitpid(child, &cst, 0) < 0 && errno == EINTR)
        ;
    /* The child has exited, so what it wrote is in the pipe already. */
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    n = read(fds[0], pids, sizeof(pids));
    close(fds[0]);

    rc = WIFEXITED(cst) ? WEXITSTATUS(cst) : 1000 + WTERMSIG(cst);
    if (rc != 0 || n != (ssize_t)sizeof(pids) || pids[0] <= 0 || pids[1] <= 0) {
        prctl(PR_SET_CHILD_SUBREAPER, 0);
        fail_msg("the primary child failed: status %d, read %zd", rc, n);
    }

    for (i = 0; i < 2; i++) {
        end = now_ms() + 5000;
        dead = 0;
        do {
            r = waitpid(pids[i], &wst, WNOHANG);
            if (r == pids[i])
                dead = 1; /* reaped here, as its subreaper */
            else if (r < 0 && errno == ECHILD)
                dead = gone(pids[i]); /* not ours: someone else reaps it */
            if (!dead)
                sleep_ms(5);
        } while (!dead && now_ms() < end);
        if (!dead) {
            kill(pids[i], SIGKILL);
            waitpid(pids[i], NULL, 0);
            snprintf(msg, sizeof(msg), "worker %d (pid %d) outlived its primary", i, (int)pids[i]);
        } else if (r == pids[i] && !(WIFSIGNALED(wst) && WTERMSIG(wst) == SIGKILL)) {
            snprintf(msg, sizeof(msg), "worker %d ended with status 0x%x, not by SIGKILL", i, wst);
        }
    }
    prctl(PR_SET_CHILD_SUBREAPER, 0);
    if (msg[0])
        fail_msg("%s", msg);
    expect_no_children();
}

/* A worker that cannot bind fails create, and nothing is left behind. */
void test_impossible_plan(void **state)
{
    cpu_set_t sets[2], mine;
    struct pvt_plan plan = {.workers = 1, .bind = 1, .sets = sets};
    struct pvt_pool_cfg cfg = {.workers = 1, .plan = &plan};
    struct pvt_pool *p = NULL;
    int fds, cpu, rc;

    (void)state;
    fds = count_fds();
    CPU_ZERO(&sets[0]);
    CPU_SET(1000, &sets[0]);
    rc = ops->create(&cfg, &p);
    if (rc >= 0) {
        ops->destroy(p);
        fail_msg("create bound to CPU 1000 returned %d", rc);
    }
    expect_no_children();
    expect_fds(fds, "after a failed create");

    /* Slot 0 can bind, slot 1 cannot: slot 0's worker is taken down too. */
    assert_int_equal(sched_getaffinity(0, sizeof(mine), &mine), 0);
    for (cpu = 0; cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &mine); cpu++)
        ;
    assert_true(cpu < CPU_SETSIZE);
    CPU_ZERO(&sets[0]);
    CPU_SET(cpu, &sets[0]);
    CPU_ZERO(&sets[1]);
    CPU_SET(1000, &sets[1]);
    plan.workers = cfg.workers = 2;
    p = NULL;
    rc = ops->create(&cfg, &p);
    if (rc >= 0) {
        ops->destroy(p);
        fail_msg("create with slot 1 bound to CPU 1000 returned %d", rc);
    }
    expect_no_children();
    expect_fds(fds, "after a failed create of 2");
}

/* The sockets and pipes pid holds at descriptors 3 and up, as /proc names
 * them ("socket:[INODE]"), into names (at most max); how many. */
static int fd_links(pid_t pid, char (*names)[64], int max)
{
    char path[64], link[64];
    int fd, n = 0;
    ssize_t len;

    for (fd = 3; fd < 1024 && n < max; fd++) {
        snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
        len = readlink(path, link, sizeof(link) - 1);
        if (len <= 0)
            continue;
        link[len] = '\0';
        if (strncmp(link, "socket:", 7) == 0 || strncmp(link, "pipe:", 5) == 0)
            snprintf(names[n++], sizeof(names[0]), "%s", link);
    }
    return n;
}

/*
 * Two pools in one process: a worker of the second holds none of the
 * sockets and pipes the process had before it was made (the first pool's
 * listener, rr channels and messages among them). Checked through
 * /proc/PID/fd of the second pool's worker.
 */
void test_second_pool_keeps_no_first_pool_fd(void **state)
{
    static char before[256][64], worker[256][64];
    struct pvt_serve_cfg serve = {.distribution = PVT_DIST_RR};
    struct pvt_pool_cfg cfg = {.workers = 2, .serve = &serve};
    struct pvt_worker_stats w[1];
    struct pvt_pool_stats st;
    struct pvt_pool *first = NULL, *second;
    int nb, nw, i, j, shared = 0;
    char what[64] = "";

    (void)state;
    assert_int_equal(ops->create(&cfg, &first), 0);
    nb = fd_links(getpid(), before, 256);
    second = pool_new(1, 0);
    get_stats(second, &st, w);
    nw = fd_links(w[0].pid, worker, 256);
    for (i = 0; i < nw; i++)
        for (j = 0; j < nb; j++)
            if (strcmp(worker[i], before[j]) == 0 && shared++ == 0)
                snprintf(what, sizeof(what), "%.48s", worker[i]);
    pool_free();
    ops->destroy(first);
    if (shared)
        fail_msg("the second pool's worker holds %d of the %d sockets and pipes open before it "
                 "(%s ...)", shared, nb, what);
    assert_true(nb >= 3); /* the first pool's listener and channels were seen */
}

/* CPU time the calling thread has used, in ms. */
static double thread_cpu_ms(void)
{
    struct rusage ru;

    getrusage(RUSAGE_THREAD, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/*
 * A job pool's stop waits, it does not spin: with the waker left readable
 * (a worker kicked it after the last collect returned, and nobody collects
 * again), a stop that waits 1.5 s for a queued sleep job uses under a tenth
 * of that in CPU time on the primary's thread. A busy loop on the waker
 * would use nearly all of it.
 */
void test_job_stop_does_not_spin(void **state)
{
    struct pvt_result res[1];
    struct pvt_pool *p;
    double cpu, wall;
    int k, rc;

    (void)state;
    p = pool_new(1, 0);
    for (k = 0; k < 4; k++)
        assert_int_equal(submit_one(p, (uint64_t)k, PVT_WL_NOOP, 0), 1);
    assert_int_equal(ops->collect(p, res, 1, GUARD_MS), 1);
    assert_int_equal(submit_one(p, 4, PVT_WL_SLEEP, 1500), 1);
    /* What a worker does when it finds the driver armed, as one may after
     * the collect above returned: the waker is left readable. */
    atomic_store(p->pol.g.waker->waiting, 1);
    pvt_waker_kick(p->pol.g.waker);
    cpu = thread_cpu_ms();
    wall = (double)now_ms();
    rc = ops->stop(p, GUARD_MS);
    cpu = thread_cpu_ms() - cpu;
    wall = (double)now_ms() - wall;
    pool_free();
    assert_int_equal(rc, 0);
    if (cpu > wall / 10 + 20)
        fail_msg("the primary used %.0f ms of CPU in a stop of %.0f ms: it spins", cpu, wall);
}
