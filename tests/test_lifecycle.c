/*
 * test_lifecycle.c: the pool ops of a server's life, restart and scale, and
 * a graceful stop with a slow request in flight: a contract suite, run for
 * every backend that serves, through its ops table, for every distribution.
 *
 * DESIGN
 * As in test_serve.c, the test thread only drives the pool (supervise, and
 * the ops under test) and the clients run on a helper thread that never
 * calls cmocka: it writes the first thing that went wrong into a struct
 * sc_note, and the test thread asserts after pthread_join. The client keeps
 * two keep-alive connections busy with GET / for the whole case; a
 * "Connection: close" answer (a draining worker's) makes it reconnect, and
 * anything else that is not a whole 200 answer is a failure. So a restart
 * or a scale that drops or resets one accepted connection fails the case.
 * Nothing is timed: every wait is bounded only to turn a hang into a
 * failure, and no case comes near the bounds. One case bounds the CPU time
 * a stop uses against its own duration, which catches a busy loop whatever
 * the machine's speed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shared/core/pvt.h"
#include "shared/serve/serve.h"
#include "serve_client.h"

#define WORKERS  2
#define MAXW     4
#define NCONNS   2
#define IO_MS    5000
#define GUARD_MS 20000 /* one phase of a case */

struct load {
    int port;
    atomic_int stop;
    atomic_ulong ok;
    struct sc_note err;
    struct sc_conn c[NCONNS];
    struct sc_resp r;
};

/* GET / on every connection in turn until told to stop. */
static void *load_cb(void *arg)
{
    struct load *l = arg;
    int i, rc;

    for (i = 0; i < NCONNS; i++)
        l->c[i].fd = -1;
    while (!atomic_load(&l->stop) && !l->err.msg[0]) {
        for (i = 0; i < NCONNS; i++) {
            struct sc_conn *c = &l->c[i];
            if (c->fd < 0 && (rc = sc_connect(c, l->port, IO_MS)) < 0) {
                sc_note(&l->err, "connect: %s", strerror(-rc));
                break;
            }
            if ((rc = sc_get(c, "/")) < 0 || (rc = sc_read_response(c, &l->r)) < 0) {
                sc_note(&l->err, "GET / after %lu answers: %s", atomic_load(&l->ok),
                        strerror(-rc));
                break;
            }
            if (l->r.status != 200) {
                sc_note(&l->err, "GET /: status %d", l->r.status);
                break;
            }
            atomic_fetch_add(&l->ok, 1);
            if (l->r.close)
                sc_close(c); /* a draining worker's last answer: reconnect */
        }
    }
    for (i = 0; i < NCONNS; i++)
        sc_close(&l->c[i]);
    return NULL;
}

struct ctx {
    const struct pvt_pool_ops *ops;
    struct pvt_pool *pool;
    const char *dist;
    struct pvt_worker_stats w[MAXW];
    struct pvt_pool_stats st;
};

static void look(struct ctx *x)
{
    x->st = (struct pvt_pool_stats){.w = x->w};
    x->ops->stats(x->pool, &x->st);
}

/* Supervise until the load made `more` answers beyond now. */
static void run_for(struct ctx *x, struct load *l, unsigned long more)
{
    unsigned long want = atomic_load(&l->ok) + more;
    uint64_t end = sc_now_ms() + GUARD_MS;

    while (atomic_load(&l->ok) < want && !l->err.msg[0] && sc_now_ms() < end)
        x->ops->supervise(x->pool, 10, NULL);
    if (atomic_load(&l->ok) < want && !l->err.msg[0])
        sc_note(&l->err, "no progress: %lu answers", atomic_load(&l->ok));
}

/* Supervise until the pool has workers ready slots and nothing rolling or
 * draining. 0, or -1 past the guard. */
static int settle(struct ctx *x, int workers)
{
    uint64_t end = sc_now_ms() + GUARD_MS;

    for (;;) {
        look(x);
        if (x->st.workers == workers && x->st.live == workers && !x->st.rolling &&
            !x->st.draining)
            return 0;
        if (sc_now_ms() > end)
            return -1;
        x->ops->supervise(x->pool, 10, NULL);
    }
}

static void phase_fail(struct ctx *x, struct load *l, pthread_t t, const char *what)
{
    atomic_store(&l->stop, 1);
    pthread_join(t, NULL);
    x->ops->destroy(x->pool);
    fail_msg("[%s/%s] %s: %s (workers %d live %d rolling %d draining %d)", x->ops->name, x->dist,
             what, l->err.msg, x->st.workers, x->st.live, x->st.rolling, x->st.draining);
}

static void no_child_left(const char *who)
{
    pid_t pid = waitpid(-1, NULL, WNOHANG);

    if (pid != -1 || errno != ECHILD)
        fail_msg("[%s] a child process is left after destroy (waitpid: %d)", who, (int)pid);
}

/* Under load: restart every worker, then scale up and down; 0 failures,
 * new pids, the ops' counts right. */
static void one_case(const struct pvt_pool_ops *ops, enum pvt_dist d)
{
    static struct load l;
    struct pvt_serve_cfg sc = {.distribution = d};
    struct pvt_pool_cfg cfg = {.workers = WORKERS, .max_workers = MAXW, .serve = &sc};
    struct ctx x = {.ops = ops, .dist = pvt_dist_names[d]};
    pid_t before[WORKERS];
    pthread_t t;
    int i, rc;

    rc = ops->create(&cfg, &x.pool);
    if (rc < 0)
        fail_msg("[%s/%s] create: %d", ops->name, x.dist, rc);
    look(&x);
    memset(&l, 0, sizeof(l));
    l.port = x.st.port;
    for (i = 0; i < WORKERS; i++)
        before[i] = x.w[i].pid;
    if (pthread_create(&t, NULL, load_cb, &l) != 0) {
        ops->destroy(x.pool);
        fail_msg("pthread_create failed");
    }
    run_for(&x, &l, 50);

    /* Bad arguments change nothing. */
    if (ops->restart(x.pool, 0) != -EINVAL || ops->scale(x.pool, 0) != -EINVAL ||
        ops->scale(x.pool, -WORKERS) != -EINVAL || ops->scale(x.pool, MAXW) != -ENOSPC)
        sc_note(&l.err, "a bad restart or scale argument was not refused as documented");

    rc = ops->restart(x.pool, 1);
    if (rc != 0)
        sc_note(&l.err, "restart(1) returned %d", rc);
    if (settle(&x, WORKERS) < 0)
        sc_note(&l.err, "the rolling restart did not finish");
    run_for(&x, &l, 50);
    look(&x);
    for (i = 0; i < WORKERS && !l.err.msg[0]; i++)
        if (x.w[i].pid == before[i] || x.w[i].pid <= 0 || x.w[i].restarts != 1)
            sc_note(&l.err, "slot %d after restart: pid %d (was %d), restarts %u", i,
                    (int)x.w[i].pid, (int)before[i], x.w[i].restarts);
    if (l.err.msg[0])
        phase_fail(&x, &l, t, "rolling restart under load");

    rc = ops->scale(x.pool, +1);
    if (rc != WORKERS + 1 || settle(&x, WORKERS + 1) < 0)
        sc_note(&l.err, "scale(+1) returned %d, want %d, or the new worker never got ready", rc,
                WORKERS + 1);
    run_for(&x, &l, 50);
    if (l.err.msg[0])
        phase_fail(&x, &l, t, "scale +1 under load");
    rc = ops->scale(x.pool, -1);
    if (rc != WORKERS || settle(&x, WORKERS) < 0)
        sc_note(&l.err, "scale(-1) returned %d, want %d, or it did not drain", rc, WORKERS);
    run_for(&x, &l, 50);
    if (l.err.msg[0])
        phase_fail(&x, &l, t, "scale -1 under load");

    atomic_store(&l.stop, 1);
    pthread_join(t, NULL);
    rc = ops->stop(x.pool, 5000);
    if (rc != 0 || ops->restart(x.pool, 1) != -ESHUTDOWN || ops->scale(x.pool, 1) != -ESHUTDOWN)
        sc_note(&l.err, "stop returned %d, or restart/scale after it not -ESHUTDOWN", rc);
    ops->destroy(x.pool);
    if (l.err.msg[0])
        fail_msg("[%s/%s] %s", ops->name, x.dist, l.err.msg);
    no_child_left(ops->name);
}

/* fn for every backend that serves, for every distribution. */
static void each_server(void (*fn)(const struct pvt_pool_ops *ops, enum pvt_dist d))
{
    const struct pvt_pool_ops *const *bp;
    int d;

    for (bp = pvt_backends; *bp; bp++) {
        if (!(*bp)->supervise)
            continue;
        if (!(*bp)->restart || !(*bp)->scale)
            fail_msg("[%s] serves but has no restart or scale", (*bp)->name);
        for (d = 0; d <= PVT_DIST_RR; d++)
            fn(*bp, (enum pvt_dist)d);
    }
}

static void test_restart_scale(void **state)
{
    (void)state;
    each_server(one_case);
}

/* A job pool refuses both ops. */
static void test_job_pool_refuses(void **state)
{
    const struct pvt_pool_ops *const *bp;
    struct pvt_pool_cfg cfg = {.workers = 1};
    struct pvt_pool *p;

    (void)state;
    for (bp = pvt_backends; *bp; bp++) {
        if (!(*bp)->restart)
            continue;
        assert_int_equal((*bp)->create(&cfg, &p), 0);
        assert_int_equal((*bp)->restart(p, 1), -EOPNOTSUPP);
        assert_int_equal((*bp)->scale(p, 1), -EOPNOTSUPP);
        (*bp)->destroy(p);
    }
    no_child_left("job pool");
}

struct slow {
    int port, ms;
    atomic_int sent, done;
    int rc, status;
    struct sc_conn c;
    struct sc_resp r;
};

static void *slow_cb(void *arg)
{
    struct slow *s = arg;
    char path[64];

    snprintf(path, sizeof(path), "/sleep?ms=%d", s->ms);
    s->rc = sc_connect(&s->c, s->port, IO_MS);
    if (s->rc == 0)
        s->rc = sc_get(&s->c, path);
    atomic_store(&s->sent, 1);
    if (s->rc == 0)
        s->rc = sc_read_response(&s->c, &s->r);
    s->status = s->rc == 0 ? s->r.status : 0;
    sc_close(&s->c);
    atomic_store(&s->done, 1);
    return NULL;
}

/*
 * stop with a slow request in flight: in time, it is answered 200 and stop
 * returns 0; past a short deadline, stop forces the worker and returns
 * -ETIMEDOUT. Either way nothing is left behind.
 */
/* CPU time the calling thread has used, in ms. */
static double thread_cpu_ms(void)
{
    struct rusage ru;

    getrusage(RUSAGE_THREAD, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/*
 * stop with a slow request in flight (ms long): what stop returns, and how
 * the request ended. With watch (the pool's watch_fd, > 0), *cpu_ms and
 * *wall_ms get the CPU time the calling thread (the primary) used in stop
 * and how long stop took.
 */
static void slow_stop_run(const struct pvt_pool_ops *ops, enum pvt_dist d, int ms, int deadline,
                          int want_rc, int watch, double *cpu_ms, double *wall_ms)
{
    static struct slow s;
    struct pvt_serve_cfg sc = {.distribution = d, .watch_fd = watch};
    struct pvt_pool_cfg cfg = {.workers = WORKERS, .serve = &sc};
    struct ctx x = {.ops = ops, .dist = pvt_dist_names[d]};
    uint64_t end = sc_now_ms() + GUARD_MS;
    int i, conns = 0, rc;
    pthread_t t;

    assert_int_equal(ops->create(&cfg, &x.pool), 0);
    look(&x);
    memset(&s, 0, sizeof(s));
    s.port = x.st.port;
    s.ms = ms;
    assert_int_equal(pthread_create(&t, NULL, slow_cb, &s), 0);
    /* Until a worker holds the connection (rr: handed over) and it sleeps. */
    while (conns == 0 && sc_now_ms() < end) {
        ops->supervise(x.pool, 10, NULL);
        look(&x);
        for (i = 0, conns = 0; i < x.st.workers; i++)
            conns += x.w[i].conns;
        conns = conns && atomic_load(&s.sent);
    }
    sc_sleep_ms(20); /* the request itself reaches the worker */
    if (watch > 0) {
        *cpu_ms = thread_cpu_ms();
        *wall_ms = (double)sc_now_ms();
    }
    rc = ops->stop(x.pool, deadline);
    if (watch > 0) {
        *cpu_ms = thread_cpu_ms() - *cpu_ms;
        *wall_ms = (double)sc_now_ms() - *wall_ms;
    }
    pthread_join(t, NULL);
    ops->destroy(x.pool);
    if (rc != want_rc)
        fail_msg("[%s/%s] stop(%d) with a %d ms request in flight returned %d, want %d",
                 ops->name, x.dist, deadline, ms, rc, want_rc);
    if (want_rc == 0 && (s.rc != 0 || s.status != 200))
        fail_msg("[%s/%s] the request in flight during stop: rc %d, status %d", ops->name,
                 x.dist, s.rc, s.status);
    if (want_rc != 0 && s.rc == 0)
        fail_msg("[%s/%s] a forced stop still answered the request (status %d)", ops->name,
                 x.dist, s.status);
    no_child_left(ops->name);
}

static void slow_stop(const struct pvt_pool_ops *ops, enum pvt_dist d, int ms, int deadline,
                      int want_rc)
{
    slow_stop_run(ops, d, ms, deadline, want_rc, -1, NULL, NULL);
}

/*
 * A graceful stop waits, it does not spin: with a control client waiting on
 * the watched descriptor (a pipe with a byte unread, which stays readable:
 * nobody serves the control socket during a stop) and a request that keeps
 * a worker busy for 1.5 s, the primary's thread uses under a tenth of the
 * stop's duration in CPU time. A loop that polled a ready descriptor would
 * use nearly all of it (or, on a crowded machine, all the CPU it is given,
 * still far above a tenth). The bound is on busy-waiting, not on speed.
 */
static void stop_cpu_case(const struct pvt_pool_ops *ops, enum pvt_dist d)
{
    double cpu = 0, wall = 0;
    int fds[2];

    if (d != PVT_DIST_RR)
        return; /* one distribution is enough: the wait is the same */
    assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
    assert_int_equal(write(fds[1], "x", 1), 1);
    slow_stop_run(ops, d, 1500, 20000, 0, fds[0], &cpu, &wall);
    close(fds[0]);
    close(fds[1]);
    if (cpu > wall / 10 + 20)
        fail_msg("[%s/%s] the primary used %.0f ms of CPU in a stop of %.0f ms with a "
                 "client waiting on the watched descriptor: it spins",
                 ops->name, pvt_dist_names[d], cpu, wall);
}

static void test_stop_does_not_spin(void **state)
{
    (void)state;
    each_server(stop_cpu_case);
}

static void stop_cases(const struct pvt_pool_ops *ops, enum pvt_dist d)
{
    slow_stop(ops, d, 400, 10000, 0);
    if (d == PVT_DIST_SHARED)
        slow_stop(ops, d, 8000, 100, -ETIMEDOUT);
}

static void test_stop_slow_request(void **state)
{
    (void)state;
    each_server(stop_cases);
}

/*
 * A predecessor stuck in a handler. The only worker holds a request that
 * never finishes (proc: /hang; thread: /slow for a minute, since a thread
 * in /hang would spin a core until the process exits) when a rolling
 * restart replaces it. The watchdog (watchdog 1: worker_timeout, with a
 * drain deadline no case reaches) or the drain deadline (watchdog 0) must
 * force it: a process is killed and reaped, a thread is abandoned. Then
 * nothing is left draining or rolling, and a second restart completes, or
 * for a thread whose second ring the abandoned one still holds, is refused
 * with -EBUSY and leaves nothing rolling.
 */
static void stuck_old(const struct pvt_pool_ops *ops, int watchdog)
{
    static struct sc_conn c;
    int proc = (ops->caps & PVT_CAP_KILL_HUNG) != 0; /* a stuck predecessor can be killed */
    struct pvt_serve_cfg sc = {.distribution = PVT_DIST_SHARED, .allow_faults = 1};
    struct pvt_pool_cfg cfg = {.workers = 1, .serve = &sc};
    struct ctx x = {.ops = ops, .dist = watchdog ? "watchdog" : "drain deadline"};
    uint64_t end = sc_now_ms() + GUARD_MS;
    const char *err = NULL;
    pid_t before;
    int rc;

    cfg.sup.kill_grace_ms = 200;
    cfg.sup.worker_timeout_ms = watchdog ? 400 : 0;
    cfg.sup.drain_timeout_ms = watchdog ? 3600000 : 300;
    assert_int_equal(ops->create(&cfg, &x.pool), 0);
    look(&x);
    before = x.w[0].pid;
    if (sc_connect(&c, x.st.port, IO_MS) != 0 || sc_get(&c, proc ? "/hang" : "/slow?ms=60000"))
        err = "could not send the request";
    while (!err && x.w[0].conns == 0 && sc_now_ms() < end) {
        ops->supervise(x.pool, 10, NULL);
        look(&x);
    }
    /* The worker holds the connection: whether it reads the request before
     * or after it is told to drain, it is stuck in it as a predecessor. */
    if (!err && (rc = ops->restart(x.pool, 1)) != 0)
        err = "the first restart was refused";
    if (!err && settle(&x, 1) < 0)
        err = "the stuck predecessor was never forced: the restart never finished";
    look(&x);
    if (!err && (x.w[0].pid == before || (watchdog && x.st.hangs < 1)))
        err = "after the restart, the slot has the same pid, or the watchdog counted no hang";
    rc = err ? 0 : ops->restart(x.pool, 1);
    if (!err && rc != 0 && (proc || rc != -EBUSY))
        err = "the second restart was not accepted (nor refused with -EBUSY by a thread pool)";
    if (!err && settle(&x, 1) < 0)
        err = "the second restart never finished";
    sc_close(&c);
    ops->destroy(x.pool);
    if (err)
        fail_msg("[%s, %s] %s (rc %d; workers %d live %d rolling %d draining %d hangs %llu)",
                 ops->name, x.dist, err, rc, x.st.workers, x.st.live, x.st.rolling,
                 x.st.draining, (unsigned long long)x.st.hangs);
    no_child_left(ops->name);
}

static void test_stuck_predecessor(void **state)
{
    const struct pvt_pool_ops *const *bp;

    (void)state;
    for (bp = pvt_backends; *bp; bp++) {
        if (!(*bp)->supervise)
            continue;
        stuck_old(*bp, 1);
        stuck_old(*bp, 0);
    }
}

/*
 * A hung thread that a restart cannot replace. A thread cannot be killed,
 * so the watchdog takes a hung one out of the turn (not live): its slot
 * then has nothing a rolling restart could replace, as a retired or parked
 * process slot has not, and the restart drops that slot's mark and
 * replaces the others. (The thread backend once demoted the hung thread
 * anyway: its slot came back with a new thread but still out of the turn,
 * and the hung one was abandoned.)
 */
static void test_restart_skips_hung_thread(void **state)
{
    static struct sc_conn c;
    struct pvt_serve_cfg sc = {.distribution = PVT_DIST_SHARED, .allow_faults = 1};
    struct pvt_pool_cfg cfg = {.workers = 2, .serve = &sc};
    struct ctx x = {.ops = pvt_backend_find("thread"), .dist = "shared"};
    uint64_t end = sc_now_ms() + GUARD_MS;
    const char *err = NULL;
    pid_t before[2];
    int h = -1, i;

    (void)state;
    cfg.sup.kill_grace_ms = 200;
    cfg.sup.worker_timeout_ms = 400;
    cfg.sup.drain_timeout_ms = 3600000;
    assert_int_equal(x.ops->create(&cfg, &x.pool), 0);
    look(&x);
    if (sc_connect(&c, x.st.port, IO_MS) != 0 || sc_get(&c, "/slow?ms=60000"))
        err = "could not send the request";
    while (!err && h < 0 && sc_now_ms() < end) {
        x.ops->supervise(x.pool, 10, NULL);
        look(&x);
        for (i = 0; i < 2; i++)
            if (x.w[i].hung)
                h = i;
    }
    if (!err && h < 0)
        err = "the watchdog found no hung thread";
    for (i = 0; i < 2; i++)
        before[i] = x.w[i].pid;
    if (!err && x.ops->restart(x.pool, 1) != 0)
        err = "the restart was refused";
    look(&x);
    while (!err && (x.st.rolling || x.st.draining) && sc_now_ms() < end) {
        x.ops->supervise(x.pool, 10, NULL);
        look(&x);
    }
    if (!err && (x.st.rolling || x.st.draining))
        err = "the restart never finished";
    if (!err && (x.w[h].pid != before[h] || x.w[h].restarts != 0 || x.st.live != 1))
        err = "the hung thread's slot was replaced, or the live count changed";
    if (!err && (x.w[1 - h].pid == before[1 - h] || x.w[1 - h].restarts != 1))
        err = "the other slot was not replaced";
    sc_close(&c);
    x.ops->destroy(x.pool);
    if (err)
        fail_msg("[thread] %s (hung slot %d; restarts %u, %u; live %d rolling %d draining %d)",
                 err, h, x.w[0].restarts, x.w[1].restarts, x.st.live, x.st.rolling,
                 x.st.draining);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_job_pool_refuses),
        cmocka_unit_test(test_restart_scale),
        cmocka_unit_test(test_stop_slow_request),
        cmocka_unit_test(test_stuck_predecessor),
        cmocka_unit_test(test_restart_skips_hung_thread),
        cmocka_unit_test(test_stop_does_not_spin),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
