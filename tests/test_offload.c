/*
 * test_offload.c: serve mode with offload (serve.h: struct
 * pvt_serve_offload, shared/serve/serve_offload.c), over real sockets, for
 * every serving backend and every pool backend with PVT_CAP_POLL.
 *
 * What each case checks, with one serving worker:
 *  (a) an offloaded /cpu and /hash answer their own connection with the
 *      body the inline route writes;
 *  (b) while an offloaded /slow runs, GET / on another connection is
 *      answered, and the /slow's answer is not there yet (an order, never a
 *      time);
 *  (c) with --offload-queue 1, a second job while one is out gets 503
 *      naming --offload-queue, its connection then answers GET / and, once
 *      the first is done, an offloaded /cpu; /stats counts one rejection;
 *  (d) a pool of processes: /crash gets 500 on its connection, and a /cpu
 *      on a new connection is answered (the pool replaced its worker);
 *      a pool of threads behind worker processes: /crash takes the serving
 *      worker, the driver replaces it (its restarts in /stats), and it
 *      serves again; threads behind threads: the whole process dies of
 *      the signal (in a forked child);
 *      a pool of processes whose worker crashes twice: a job queued while its
 *      respawn waits out the crash-loop backoff is answered once it passes;
 *  (e) pipelined /cpu, /, /cpu, /hash on one connection come back in order;
 *  (f) a graceful stop and a rolling restart with jobs in flight: every
 *      request in flight is answered.
 * Plus: create refuses an offload backend without PVT_CAP_POLL.
 *
 * DESIGN
 * As in test_serve.c: the test thread creates the pool and drives it
 * (supervise, and stop or restart when the client side asks), and the
 * client side runs on a helper thread that calls no cmocka: it writes the
 * first thing that went wrong into a struct sc_note, asserted on after
 * pthread_join. Every socket has a timeout and every wait a bound, so a hang
 * becomes a failure; nothing is timed.
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
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shared/core/pvt.h"
#include "shared/serve/serve.h"
#include "shared/work/work.h"
#include "serve_client.h"

#define IO_MS     20000 /* every send and receive */
#define GUARD_MS  60000 /* the client side of one case */
#define SLOW      "/slow?ms=1500"
#define SLOW_BODY "slow ms=1500\n"

enum { WANT_NONE, WANT_STOP, WANT_RESTART };

struct scen {
    const struct pvt_pool_ops *ops, *off;
    int port;
    atomic_int done, want, abort;
    int action;   /* (f): what the client side asks the driver for (want) */
    pid_t pid[1]; /* what slot 0's "/" said */
    struct sc_conn a, b, c;
    struct sc_resp r;
    struct sc_note err;
};

static struct scen sc; /* large (buffers): not on a stack */

/* ---- the client side's helpers ---- */

static int conn_open(struct scen *s, struct sc_conn *c, const char *who)
{
    int rc = sc_connect(c, s->port, IO_MS);

    if (rc < 0)
        sc_note(&s->err, "%s: connect: %s", who, strerror(-rc));
    return rc;
}

/* Read the next response on c into s->r and check its status and body. */
static int expect(struct scen *s, struct sc_conn *c, int status, const char *body, const char *who)
{
    int rc = sc_read_response(c, &s->r);

    if (rc < 0) {
        sc_note(&s->err, "%s: %s", who, strerror(-rc));
        return -1;
    }
    if (s->r.status != status || (body && strcmp(s->r.body, body) != 0)) {
        sc_note(&s->err, "%s: got %d '%s', want %d '%s'", who, s->r.status, s->r.body, status,
                body ? body : "(any)");
        return -1;
    }
    return 0;
}

static int get_expect(struct scen *s, struct sc_conn *c, const char *path, int status,
                      const char *body, const char *who)
{
    int rc = sc_get(c, path);

    if (rc < 0) {
        sc_note(&s->err, "%s: GET %s: %s", who, path, strerror(-rc));
        return -1;
    }
    return expect(s, c, status, body, who);
}

/* The body /cpu?n=N writes. */
static const char *cpu_body(uint64_t n, char *buf, size_t len)
{
    snprintf(buf, len, "cpu n=%llu sum=%llu\n", (unsigned long long)n,
             (unsigned long long)pvt_work_expected(PVT_WL_CPU, n));
    return buf;
}

/* The value of "key":N in slot 0's entry of a fresh /stats, or -1. */
static long stat_of(struct scen *s, const char *key)
{
    struct sc_conn c = {.fd = -1};
    char pat[64];
    const char *p;
    long v = -1;

    if (sc_connect(&c, s->port, IO_MS) == 0 && sc_get(&c, "/stats") == 0 &&
        sc_read_response(&c, &s->r) == 0 && s->r.status == 200) {
        snprintf(pat, sizeof(pat), "\"%s\":", key);
        p = strstr(s->r.body, "\"workers\":");
        p = p ? strstr(p, pat) : NULL;
        if (p)
            v = strtol(p + strlen(pat), NULL, 10);
    }
    sc_close(&c);
    return v;
}

/* Wait (bounded) until stat key of slot 0 reaches want. 0, or -1 noted. */
static int wait_stat(struct scen *s, const char *key, long want, const char *who)
{
    uint64_t end = sc_now_ms() + GUARD_MS / 2;
    long v = -1;

    while (sc_now_ms() < end && !atomic_load(&s->abort)) {
        v = stat_of(s, key);
        if (v >= want)
            return 0;
        sc_sleep_ms(10);
    }
    sc_note(&s->err, "%s: /stats %s stayed at %ld, want %ld", who, key, v, want);
    return -1;
}

/* ---- the cases' client sides ---- */

/* (a), (b) and (e). */
static void *basic_cb(void *arg)
{
    struct scen *s = arg;
    char want[128], want2[128], req[1024];
    size_t len = 0;
    int rc;

    if (conn_open(s, &s->a, "a") < 0 || conn_open(s, &s->b, "b") < 0)
        goto out;
    /* (a) */
    if (get_expect(s, &s->a, "/cpu?n=1000", 200, cpu_body(1000, want, sizeof(want)), "(a) cpu") ||
        sc_get(&s->a, SC_HASH_PATH) < 0 || sc_read_response(&s->a, &s->r) < 0 ||
        sc_check_ok(&s->r, SC_HASH_PATH, 1, s->pid, &s->err, "(a) hash") < 0)
        goto out;
    /* (b): the long job first, then a light request on another connection. */
    if (sc_get(&s->a, SLOW) < 0 || wait_stat(s, "offloaded", 3, "(b)") < 0)
        goto out;
    if (sc_get(&s->b, "/") < 0 || sc_read_response(&s->b, &s->r) < 0 ||
        sc_check_ok(&s->r, "/", 1, s->pid, &s->err, "(b) /") < 0)
        goto out;
    if (!sc_idle_open(&s->a)) {
        sc_note(&s->err, "(b): the /slow answer came before GET / on another connection");
        goto out;
    }
    if (expect(s, &s->a, 200, SLOW_BODY, "(b) slow"))
        goto out;
    /* (e) */
    sc_build_get(req, sizeof(req), &len, "/cpu?n=2000");
    sc_build_get(req, sizeof(req), &len, "/");
    sc_build_get(req, sizeof(req), &len, "/cpu?n=3000");
    sc_build_get(req, sizeof(req), &len, SC_HASH_PATH);
    rc = sc_send(&s->b, req, len);
    if (rc < 0) {
        sc_note(&s->err, "(e) send: %s", strerror(-rc));
        goto out;
    }
    if (expect(s, &s->b, 200, cpu_body(2000, want, sizeof(want)), "(e) 1st") ||
        sc_read_response(&s->b, &s->r) < 0 ||
        sc_check_ok(&s->r, "/", 1, s->pid, &s->err, "(e) 2nd") < 0 ||
        expect(s, &s->b, 200, cpu_body(3000, want2, sizeof(want2)), "(e) 3rd") ||
        sc_read_response(&s->b, &s->r) < 0 ||
        sc_check_ok(&s->r, SC_HASH_PATH, 1, s->pid, &s->err, "(e) 4th") < 0)
        goto out;
out:
    sc_close(&s->a);
    sc_close(&s->b);
    atomic_store(&s->done, 1);
    return NULL;
}

/* (c), with --offload-queue 1. */
static void *queue_cb(void *arg)
{
    struct scen *s = arg;
    char want[128];

    if (conn_open(s, &s->a, "a") < 0 || conn_open(s, &s->b, "b") < 0)
        goto out;
    if (sc_get(&s->a, SLOW) < 0 || wait_stat(s, "offloaded", 1, "(c)") < 0)
        goto out;
    if (get_expect(s, &s->b, SLOW, 503, NULL, "(c) second job"))
        goto out;
    if (!strstr(s->r.body, "--offload-queue") || s->r.close) {
        sc_note(&s->err, "(c): the 503 body '%s' names no --offload-queue, or it closes (%d)",
                s->r.body, s->r.close);
        goto out;
    }
    if (get_expect(s, &s->b, "/", 200, NULL, "(c) / after the 503") ||
        expect(s, &s->a, 200, SLOW_BODY, "(c) first job") ||
        get_expect(s, &s->b, "/cpu?n=1000", 200, cpu_body(1000, want, sizeof(want)),
                   "(c) a job once the queue has room"))
        goto out;
    if (stat_of(s, "offload_rejected") != 1 || stat_of(s, "offload_completed") != 2)
        sc_note(&s->err, "(c): /stats rejected %ld completed %ld, want 1 and 2",
                stat_of(s, "offload_rejected"), stat_of(s, "offload_completed"));
out:
    sc_close(&s->a);
    sc_close(&s->b);
    atomic_store(&s->done, 1);
    return NULL;
}

/* (d), a pool of processes: the crash fails its own request only. */
static void *crash_proc_cb(void *arg)
{
    struct scen *s = arg;
    char want[128];

    if (conn_open(s, &s->a, "a") < 0 || get_expect(s, &s->a, "/crash", 500, NULL, "(d) crash"))
        goto out;
    if (conn_open(s, &s->b, "b") < 0 ||
        get_expect(s, &s->b, "/cpu?n=1000", 200, cpu_body(1000, want, sizeof(want)),
                   "(d) cpu after the crash") ||
        get_expect(s, &s->a, "/", 200, NULL, "(d) the crashed job's connection"))
        goto out;
    if (stat_of(s, "offload_failed") != 1 || stat_of(s, "restarts") != 0)
        sc_note(&s->err, "(d): /stats offload_failed %ld restarts %ld, want 1 and 0",
                stat_of(s, "offload_failed"), stat_of(s, "restarts"));
out:
    sc_close(&s->a);
    sc_close(&s->b);
    atomic_store(&s->done, 1);
    return NULL;
}

/* (d), a pool of processes whose one worker crashes twice in a row: the
 * second respawn waits out the pool's crash-loop backoff, a timer no
 * descriptor announces, and a job queued meanwhile is answered once it
 * passes. */
static void *crash_twice_cb(void *arg)
{
    struct scen *s = arg;
    char want[128];

    if (conn_open(s, &s->a, "a") < 0 ||
        get_expect(s, &s->a, "/crash", 500, NULL, "(d) first crash") ||
        get_expect(s, &s->a, "/crash", 500, NULL, "(d) second crash"))
        goto out;
    if (conn_open(s, &s->b, "b") < 0)
        goto out;
    get_expect(s, &s->b, "/cpu?n=1000", 200, cpu_body(1000, want, sizeof(want)),
               "(d) cpu queued while the pool's worker waits out its backoff");
out:
    sc_close(&s->a);
    sc_close(&s->b);
    atomic_store(&s->done, 1);
    return NULL;
}

/* (d), threads behind a worker process: the crash takes the serving worker,
 * which the driver replaces. */
static void *crash_thread_cb(void *arg)
{
    struct scen *s = arg;
    char want[128];
    int rc;

    if (conn_open(s, &s->a, "a") < 0 || sc_get(&s->a, "/crash") < 0)
        goto out;
    rc = sc_read_response(&s->a, &s->r);
    if (rc != -EPIPE) {
        sc_note(&s->err, "(d) crash: %s, want the connection closed",
                rc == 0 ? "a response" : strerror(-rc));
        goto out;
    }
    if (wait_stat(s, "restarts", 1, "(d) respawn") < 0 || conn_open(s, &s->b, "b") < 0)
        goto out;
    get_expect(s, &s->b, "/cpu?n=1000", 200, cpu_body(1000, want, sizeof(want)),
               "(d) the replacement");
out:
    sc_close(&s->a);
    sc_close(&s->b);
    atomic_store(&s->done, 1);
    return NULL;
}

/* (f): jobs in flight, then the driver stops or restarts: each answered. */
static void *inflight_cb(void *arg)
{
    struct scen *s = arg;
    int want = s->action;
    char body[128];

    if (conn_open(s, &s->a, "a") < 0 || conn_open(s, &s->b, "b") < 0)
        goto out;
    /* One pool worker: b's job waits in the queue while a's runs. */
    if (sc_get(&s->a, SLOW) < 0 || sc_get(&s->b, SLOW) < 0 ||
        wait_stat(s, "offloaded", 2, "(f)") < 0)
        goto out;
    atomic_store(&s->want, want); /* the driver acts while both are in flight */
    if (expect(s, &s->a, 200, SLOW_BODY, "(f) a"))
        goto out;
    if (!s->r.close)
        sc_note(&s->err, "(f) a: a draining worker's answer did not say Connection: close");
    if (expect(s, &s->b, 200, SLOW_BODY, "(f) b"))
        goto out;
    if (!s->r.close)
        sc_note(&s->err, "(f) b: a draining worker's answer did not say Connection: close");
    if (want == WANT_RESTART && wait_stat(s, "restarts", 1, "(f) restart") == 0 &&
        conn_open(s, &s->c, "c") == 0)
        get_expect(s, &s->c, "/cpu?n=1000", 200, cpu_body(1000, body, sizeof(body)),
                   "(f) the replacement");
out:
    sc_close(&s->a);
    sc_close(&s->b);
    sc_close(&s->c);
    atomic_store(&s->done, 1);
    return NULL;
}

/* ---- the test thread's side ---- */

static struct pvt_pool *open_pool(const struct pvt_pool_ops *ops, const struct pvt_pool_ops *off,
                                  int queue, struct pvt_serve_cfg *cfg)
{
    struct pvt_pool_cfg pc = {.workers = 1, .serve = cfg};
    struct pvt_pool_stats st = {0};
    struct pvt_pool *p = NULL;
    int rc;

    *cfg = (struct pvt_serve_cfg){.distribution = PVT_DIST_RR,
                                  .allow_faults = 1,
                                  .offload = {.ops = off, .workers = 1, .queue = queue}};
    rc = ops->create(&pc, &p);
    if (rc < 0)
        fail_msg("[%s/%s] create: %s", ops->name, off->name, strerror(-rc));
    ops->stats(p, &st);
    memset(&sc, 0, sizeof(sc));
    sc.ops = ops;
    sc.off = off;
    sc.port = st.port;
    sc.a.fd = sc.b.fd = sc.c.fd = -1;
    return p;
}

/* Drive until the client side is done (stop or restart when it asks), then
 * destroy the pool and assert on what the client side found. */
static void drive(struct pvt_pool *pool, void *(*fn)(void *))
{
    const struct pvt_pool_ops *ops = sc.ops;
    uint64_t end = sc_now_ms() + GUARD_MS;
    int rc, stopped = 0, stop_rc = 0;
    pthread_t t;

    rc = pthread_create(&t, NULL, fn, &sc);
    if (rc)
        fail_msg("pthread_create: %s", strerror(rc));
    while (!atomic_load(&sc.done)) {
        int want = atomic_exchange(&sc.want, WANT_NONE);
        if (want == WANT_STOP && !stopped) {
            stopped = 1;
            stop_rc = ops->stop(pool, 10000); /* the clients read meanwhile */
        } else if (want == WANT_RESTART) {
            rc = ops->restart(pool, 1);
            if (rc < 0)
                sc_note(&sc.err, "restart: %s", strerror(-rc));
        }
        if (stopped)
            sc_sleep_ms(5);
        else
            ops->supervise(pool, 20, NULL);
        if (sc_now_ms() > end)
            atomic_store(&sc.abort, 1);
    }
    pthread_join(t, NULL);
    ops->destroy(pool);
    if (sc.err.msg[0])
        fail_msg("[%s/%s] %s", ops->name, sc.off->name, sc.err.msg);
    if (stop_rc)
        fail_msg("[%s/%s] stop with jobs in flight: %s", ops->name, sc.off->name,
                 strerror(-stop_rc));
}

/* ThreadSanitizer cannot start threads in a child forked from a process
 * that already runs threads (it dies: die_after_fork). A worker process the
 * driver forks again (a respawn, a rolling restart) while this test's client
 * thread runs is such a child, and with a thread pool behind it, it starts
 * threads. Under TSan those cases are left out and say so; pvt serve's own
 * primary runs no thread, so it never makes such a child. */
#if defined(__SANITIZE_THREAD__)
#define TSAN_FORK_THREADS 1
#else
#define TSAN_FORK_THREADS 0
#endif

/* 1 (and a line saying so) for a case a refork under TSan cannot run. */
static int skip_refork(const struct pvt_pool_ops *ops, const struct pvt_pool_ops *off,
                       const char *what)
{
    if (!TSAN_FORK_THREADS || !(ops->caps & PVT_CAP_PROCESSES) ||
        (off->caps & PVT_CAP_PROCESSES))
        return 0;
    print_message("[%s/%s] %s: left out under ThreadSanitizer (threads started in a child "
                  "forked from a process that runs threads)\n",
                  ops->name, off->name, what);
    return 1;
}

#define FOR_EACH_PAIR(sp, op)                                                                      \
    for (sp = pvt_backends; *sp; sp++)                                                             \
        if ((*sp)->caps & PVT_CAP_SERVE)                                                           \
            for (op = pvt_backends; *op; op++)                                                     \
                if ((*op)->caps & PVT_CAP_POLL)

static void test_basic(void **state)
{
    const struct pvt_pool_ops *const *sp, *const *op;
    struct pvt_serve_cfg cfg;

    (void)state;
    FOR_EACH_PAIR(sp, op)
    drive(open_pool(*sp, *op, 0, &cfg), basic_cb);
}

static void test_queue_full(void **state)
{
    const struct pvt_pool_ops *const *sp, *const *op;
    struct pvt_serve_cfg cfg;

    (void)state;
    FOR_EACH_PAIR(sp, op)
    drive(open_pool(*sp, *op, 1, &cfg), queue_cb);
}

static void test_inflight(void **state)
{
    const struct pvt_pool_ops *const *sp, *const *op;
    struct pvt_serve_cfg cfg;
    struct pvt_pool *p;

    (void)state;
    FOR_EACH_PAIR(sp, op)
    {
        if (!skip_refork(*sp, *op, "rolling restart")) {
            p = open_pool(*sp, *op, 0, &cfg);
            sc.action = WANT_RESTART;
            drive(p, inflight_cb);
        }
        p = open_pool(*sp, *op, 0, &cfg);
        sc.action = WANT_STOP;
        drive(p, inflight_cb);
    }
}

/* Threads behind threads: the crash ends the whole process. In a child,
 * which serves until it dies (or gives up after the guard). */
static void crash_whole_process(const struct pvt_pool_ops *ops, const struct pvt_pool_ops *off)
{
    struct pvt_serve_cfg cfg = {
        .distribution = PVT_DIST_RR, .allow_faults = 1, .offload = {.ops = off}};
    struct pvt_pool_cfg pc = {.workers = 1, .serve = &cfg};
    struct sc_conn c = {.fd = -1};
    struct sc_resp *r = &sc.r;
    int pfd[2], port = 0, status = 0, rc;
    pid_t pid;

    assert_int_equal(pipe(pfd), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct pvt_pool_stats st = {0};
        struct pvt_pool *p;
        uint64_t end;
        signal(SIGSEGV, SIG_DFL); /* cmocka's handler must not catch it */
        close(pfd[0]);
        if (ops->create(&pc, &p) < 0)
            _exit(3);
        ops->stats(p, &st);
        if (write(pfd[1], &st.port, sizeof(st.port)) != sizeof(st.port))
            _exit(4);
        for (end = sc_now_ms() + GUARD_MS; sc_now_ms() < end;)
            ops->supervise(p, 20, NULL);
        _exit(5);
    }
    close(pfd[1]);
    rc = (int)read(pfd[0], &port, sizeof(port));
    close(pfd[0]);
    if (rc == sizeof(port) && sc_connect(&c, port, IO_MS) == 0 && sc_get(&c, "/crash") == 0)
        rc = sc_read_response(&c, r);
    sc_close(&c);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSEGV)
        fail_msg("[%s/%s] /crash: the process ended with status %#x, want SIGSEGV", ops->name,
                 off->name, status);
}

static void test_crash(void **state)
{
    const struct pvt_pool_ops *const *sp, *const *op;
    struct pvt_serve_cfg cfg;

    (void)state;
    FOR_EACH_PAIR(sp, op)
    {
        if ((*op)->caps & PVT_CAP_PROCESSES) {
            drive(open_pool(*sp, *op, 0, &cfg), crash_proc_cb);
            drive(open_pool(*sp, *op, 0, &cfg), crash_twice_cb);
        }
        else if ((*sp)->caps & PVT_CAP_PROCESSES) {
            if (!skip_refork(*sp, *op, "crash and respawn"))
                drive(open_pool(*sp, *op, 0, &cfg), crash_thread_cb);
        }
        else
            crash_whole_process(*sp, *op);
    }
}

/* A backend without PVT_CAP_POLL (as the reference pools): create refuses
 * it before any worker starts. */
static void test_refuses_no_poll(void **state)
{
    const struct pvt_pool_ops *const *sp;
    struct pvt_pool_ops no_poll = *pvt_backends[0];
    struct pvt_serve_cfg cfg = {.distribution = PVT_DIST_RR};
    struct pvt_pool_cfg pc = {.workers = 1, .serve = &cfg};
    struct pvt_pool *p = NULL;

    (void)state;
    no_poll.caps &= ~PVT_CAP_POLL;
    no_poll.event_fd = NULL;
    no_poll.poll = NULL;
    cfg.offload.ops = &no_poll;
    for (sp = pvt_backends; *sp; sp++) {
        if (!((*sp)->caps & PVT_CAP_SERVE))
            continue;
        assert_int_equal((*sp)->create(&pc, &p), -EINVAL);
        cfg.offload.ops = *sp;
        cfg.offload.queue = PVT_OFFLOAD_QUEUE_MAX + 1;
        assert_int_equal((*sp)->create(&pc, &p), -EINVAL);
        cfg.offload.queue = 0;
        cfg.offload.ops = &no_poll;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),           cmocka_unit_test(test_queue_full),
        cmocka_unit_test(test_crash),           cmocka_unit_test(test_inflight),
        cmocka_unit_test(test_refuses_no_poll),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
