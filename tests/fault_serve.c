/*
 * fault_serve.c: faults in serving pools, over real sockets (port 0 on
 * 127.0.0.1). Run from test_fault.c's main.
 *
 * What each case checks:
 *  - proc, every distribution, allow_faults: GET /crash gets no response
 *    (the connection closes); a keep-alive client on the other worker is
 *    still answered, the one on the crashed worker is not; /stats shows the
 *    crashed slot with restarts 1, a new pid and ready; new clients get 200
 *    from both slots; the pool's stats say SIGSEGV, deaths 1.
 *  - proc, worker_timeout_ms 300: GET /hang gets no response, the worker is
 *    killed (SIGTERM) and replaced: /stats restarts 1, hangs 1.
 *  - both backends without allow_faults: every fault route is 404 and the
 *    connection goes on; nothing died.
 *  - proc, every distribution, max_jobs 5, one worker: the worker that
 *    reached its limit is replaced before it stops. With a /sleep request
 *    in flight on it, a new connection is answered by its replacement
 *    (another pid) while that request is still unanswered; then the
 *    request is answered by the old worker, which goes. The pool counts a
 *    recycle, not a death. (Had the worker drained and exited first, no
 *    other pid could answer until the /sleep had.)
 *  - thread, allow_faults, in a forked child: GET /crash, /abort and
 *    /exit?code=3 end the whole process (SIGSEGV, SIGABRT, exit 3) and its
 *    port with it.
 *
 * DESIGN
 * As in test_serve.c: the test thread creates the pool and only supervises
 * it (with rr it is the acceptor); the client side runs on a helper thread
 * that calls no cmocka and writes the first thing that went wrong into a
 * struct sc_note, asserted on after pthread_join. Every socket has a
 * timeout and every retry loop a bound, so a hang becomes a failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fault_cases.h"
#include "fault_harness.h"
#include "shared/core/pvt.h"
#include "shared/serve/serve.h"
#include "serve_client.h"

#define WORKERS  2
#define IO_MS    5000
#define BUSY_CPU "/cpu?n=100000000" /* holds a worker while a connection arrives */

struct scen {
    int port;
    int slot;           /* the slot that died, found in /stats; -1 until then */
    pid_t pid[WORKERS]; /* each slot's worker before the fault */
    pid_t now[WORKERS]; /* ... and after */
    int held;           /* keep[i] is open and on slot i */
    struct sc_conn keep[WORKERS], c;
    struct sc_resp r;
    struct sc_note err;
    atomic_int done;
};

static struct scen sc; /* large (buffers): not on a stack */

/* "hello from worker K (pid P)" into *slot and *pid. 0 or -1. */
static int hello(const struct sc_resp *r, int *slot, pid_t *pid)
{
    long p;

    if (r->status != 200 || sscanf(r->body, "hello from worker %d (pid %ld)", slot, &p) != 2 ||
        *slot < 0 || *slot >= WORKERS)
        return -1;
    *pid = (pid_t)p;
    return 0;
}

static int get(struct sc_conn *c, const char *path, struct sc_resp *r)
{
    int rc = sc_get(c, path);

    return rc < 0 ? rc : sc_read_response(c, r);
}

/* Hold a keep-alive connection on every slot. A held worker is kept busy
 * while the next connection arrives, so that one goes to another worker
 * (shared); rr hands out in turn; reuseport may take a few tries. */
static void hold_every_slot(struct scen *s)
{
    struct sc_conn *c = &s->c;
    int tries, slot, busy, rc;
    pid_t pid;

    for (tries = 0; tries < 32 && s->held != (1 << WORKERS) - 1 && !s->err.msg[0]; tries++) {
        for (busy = 0; busy < WORKERS && !(s->held & (1 << busy)); busy++)
            ;
        if (busy < WORKERS && sc_get(&s->keep[busy], BUSY_CPU) < 0)
            sc_note(&s->err, "GET %s: failed", BUSY_CPU);
        rc = sc_connect(c, s->port, IO_MS);
        if (rc == 0)
            rc = get(c, "/", &s->r);
        if (rc < 0 || hello(&s->r, &slot, &pid) < 0) {
            sc_note(&s->err, "GET / on connection %d: %s, status %d", tries, strerror(-rc),
                    rc < 0 ? -1 : s->r.status);
            break;
        }
        if (busy < WORKERS && (rc = sc_read_response(&s->keep[busy], &s->r)) < 0)
            sc_note(&s->err, "GET %s: %s", BUSY_CPU, strerror(-rc));
        if (s->held & (1 << slot)) {
            sc_close(c);
            continue;
        }
        s->keep[slot] = *c; /* the connection moves there */
        c->fd = -1;
        s->pid[slot] = pid;
        s->held |= 1 << slot;
    }
    if (!s->err.msg[0] && s->held != (1 << WORKERS) - 1)
        sc_note(&s->err, "could not reach every worker in 32 connections (held 0x%x)", s->held);
}

/* Send path on a new connection: it must close with no response. */
static void expect_no_response(struct scen *s, const char *path)
{
    int rc = sc_connect(&s->c, s->port, IO_MS);

    if (rc == 0)
        rc = get(&s->c, path, &s->r);
    if (rc != -EPIPE)
        sc_note(&s->err, "GET %s: %s, want the connection closed without a response", path,
                rc == 0 ? "answered" : strerror(-rc));
    sc_close(&s->c);
}

static int str_is(const json_t *v, const char *want)
{
    const char *s = json_string_value(v);

    return s && strcmp(s, want) == 0;
}

/* Poll /stats (a new connection each time, so no dead worker holds it)
 * until one slot shows restarts 1, ready, with a pid it did not have. */
static void find_replaced(struct scen *s)
{
    json_t *root, *ws, *w;
    int tries, i, found;

    for (tries = 0; tries < 250 && s->slot < 0 && !s->err.msg[0]; tries++, sc_sleep_ms(20)) {
        if (sc_connect(&s->c, s->port, IO_MS) < 0 || get(&s->c, "/stats", &s->r) < 0 ||
            s->r.status != 200) {
            sc_close(&s->c);
            continue; /* it may have landed on the dying worker */
        }
        sc_close(&s->c);
        root = json_loads(s->r.body, 0, NULL);
        ws = json_object_get(root, "workers");
        found = -1;
        for (i = 0; i < WORKERS && json_array_size(ws) == WORKERS; i++) {
            w = json_array_get(ws, (size_t)i);
            s->now[i] = (pid_t)json_integer_value(json_object_get(w, "pid"));
            if (json_integer_value(json_object_get(w, "restarts")) > 1)
                sc_note(&s->err, "/stats: slot %d restarted more than once: %.300s", i, s->r.body);
            if (json_integer_value(json_object_get(w, "restarts")) == 1 &&
                str_is(json_object_get(w, "state"), "ready") && s->now[i] != s->pid[i] &&
                json_is_false(json_object_get(w, "hung")))
                found = found < 0 ? i : WORKERS;
        }
        if (found >= WORKERS)
            sc_note(&s->err, "/stats: both slots were replaced: %.300s", s->r.body);
        else if (found >= 0 && s->now[1 - found] == s->pid[1 - found])
            s->slot = found;
        json_decref(root);
    }
    if (!s->err.msg[0] && s->slot < 0)
        sc_note(&s->err, "/stats never showed one slot replaced: %.300s", s->r.body);
}

/* After the fault: the survivor's connection goes on, the dead one's does
 * not, and new clients reach both slots' current workers. */
static void after_fault(struct scen *s)
{
    int other = 1 - s->slot, slot, k, rc;
    pid_t pid, now[WORKERS];

    rc = get(&s->keep[other], "/", &s->r);
    if (rc < 0 || hello(&s->r, &slot, &pid) < 0 || slot != other || pid != s->pid[other])
        sc_note(&s->err, "the keep-alive client of the surviving slot %d: %s", other,
                rc < 0 ? strerror(-rc) : s->r.body);
    rc = get(&s->keep[s->slot], "/", &s->r);
    if (rc == 0)
        sc_note(&s->err, "the keep-alive client of the dead worker was answered: %s", s->r.body);
    memcpy(now, s->now, sizeof(now));
    for (k = 0; k < 10 && !s->err.msg[0]; k++) {
        rc = sc_connect(&s->c, s->port, IO_MS);
        if (rc == 0 && (rc = get(&s->c, "/", &s->r)) == 0)
            sc_check_ok(&s->r, "/", WORKERS, now, &s->err, "a new client");
        if (rc == 0 && (rc = get(&s->c, SC_HASH_PATH, &s->r)) == 0)
            sc_check_ok(&s->r, SC_HASH_PATH, WORKERS, now, &s->err, "a new client");
        if (rc < 0)
            sc_note(&s->err, "new client %d: %s", k, strerror(-rc));
        sc_close(&s->c);
    }
}

static void *crash_cb(void *arg)
{
    struct scen *s = arg;

    hold_every_slot(s);
    if (!s->err.msg[0])
        expect_no_response(s, "/crash");
    if (!s->err.msg[0])
        find_replaced(s);
    if (!s->err.msg[0])
        after_fault(s);
    atomic_store(&s->done, 1);
    return NULL;
}

static void *hang_cb(void *arg)
{
    struct scen *s = arg;

    hold_every_slot(s);
    if (!s->err.msg[0])
        expect_no_response(s, "/hang");
    if (!s->err.msg[0])
        find_replaced(s);
    if (!s->err.msg[0])
        after_fault(s);
    atomic_store(&s->done, 1);
    return NULL;
}

static void *no_faults_cb(void *arg)
{
    static const char *const paths[] = {"/crash", "/abort",     "/exit?code=3",
                                        "/hang",  "/slow?ms=1", "/leak?mb=1"};
    struct scen *s = arg;
    pid_t pid[WORKERS] = {0};
    char raw[256];
    size_t i;
    int n, rc;

    rc = sc_connect(&s->c, s->port, IO_MS);
    if (rc < 0)
        sc_note(&s->err, "connect: %s", strerror(-rc));
    for (i = 0; i < sizeof(paths) / sizeof(paths[0]) && !s->err.msg[0]; i++) {
        n = snprintf(raw, sizeof(raw), "GET %s HTTP/1.1\r\nHost: pvt-test\r\n\r\n", paths[i]);
        if (sc_expect_error(&s->c, &s->r, raw, (size_t)n, 404, 0, IO_MS, &s->err, paths[i]) &&
            (rc = get(&s->c, "/", &s->r)) == 0)
            sc_check_ok(&s->r, "/", WORKERS, pid, &s->err, "after a 404");
        else if (!s->err.msg[0])
            sc_note(&s->err, "GET / after %s: %s", paths[i], strerror(-rc));
    }
    sc_close(&s->c);
    atomic_store(&s->done, 1);
    return NULL;
}

/* The recycle case: keep[0] holds the /sleep, keep[1] reaches max_jobs. */
#define RECYCLE_JOBS 5
#define RECYCLE_SLEEP "/sleep?ms=3000"

static void *recycle_cb(void *arg)
{
    struct scen *s = arg;
    struct pollfd pfd;
    int i, slot, rc = 0;
    pid_t pid = 0;

    if (sc_connect(&s->keep[0], s->port, IO_MS) < 0 || sc_connect(&s->keep[1], s->port, IO_MS) < 0)
        sc_note(&s->err, "connect: failed");
    /* The first connection's worker answers the rest: there is one. */
    for (i = 0; i < RECYCLE_JOBS && !s->err.msg[0]; i++) {
        if ((rc = get(&s->keep[1], "/", &s->r)) < 0 || hello(&s->r, &slot, &pid) < 0)
            sc_note(&s->err, "GET / %d: %s", i, rc < 0 ? strerror(-rc) : s->r.body);
        else if (i == 0)
            s->pid[0] = pid;
        else if (pid != s->pid[0])
            sc_note(&s->err, "GET / %d: pid %d, want the first one's %d", i, (int)pid,
                    (int)s->pid[0]);
        if (i == 0 && !s->err.msg[0] && sc_get(&s->keep[0], RECYCLE_SLEEP) < 0)
            sc_note(&s->err, "GET %s: failed", RECYCLE_SLEEP);
    }
    /* The limit is reached: new connections, until one gets another pid. */
    for (i = 0; i < 400 && !s->err.msg[0] && !s->now[0]; i++) {
        rc = sc_connect(&s->c, s->port, IO_MS);
        if (rc == 0)
            rc = get(&s->c, "/", &s->r);
        if (rc < 0 || hello(&s->r, &slot, &pid) < 0)
            sc_note(&s->err, "GET / after the limit, connection %d: %s", i,
                    rc < 0 ? strerror(-rc) : s->r.body);
        else if (pid != s->pid[0])
            s->now[0] = pid;
        sc_close(&s->c);
        if (!s->now[0])
            sc_sleep_ms(5);
    }
    if (!s->err.msg[0] && !s->now[0])
        sc_note(&s->err, "no other pid answered in 400 connections after the limit");
    /* The replacement answers while the old worker's request is in flight. */
    pfd = (struct pollfd){.fd = s->keep[0].fd, .events = POLLIN};
    if (!s->err.msg[0] && poll(&pfd, 1, 0) != 0)
        sc_note(&s->err, "%s was answered before the replacement took a connection",
                RECYCLE_SLEEP);
    if (!s->err.msg[0]) {
        rc = sc_read_response(&s->keep[0], &s->r);
        if (rc < 0 || s->r.status != 200)
            sc_note(&s->err, "GET %s on the old worker: %s, status %d", RECYCLE_SLEEP,
                    rc < 0 ? strerror(-rc) : "answered", rc < 0 ? -1 : s->r.status);
    }
    atomic_store(&s->done, 1);
    return NULL;
}

/* Supervise until the helper is done, then fail on what it noted. */
static void drive(const struct pvt_pool_ops *ops, struct pvt_pool *p, void *(*fn)(void *),
                  const char *what)
{
    uint64_t end = fh_now_ms() + 60000;
    pthread_t t;
    int rc, i;

    rc = pthread_create(&t, NULL, fn, &sc);
    if (rc)
        fail_msg("pthread_create: %s", strerror(rc));
    while (!atomic_load(&sc.done) && fh_now_ms() < end) {
        rc = ops->supervise(p, 20, NULL);
        if (rc < 0 && rc != -EINTR)
            break; /* the helper's calls end within IO_MS */
    }
    /* Every call of the helper is bounded, so it ends; with no supervisor
     * an rr connection is never handed out and times out. */
    pthread_join(t, NULL);
    for (i = 0; i < WORKERS; i++)
        sc_close(&sc.keep[i]);
    sc_close(&sc.c);
    if (rc < 0 && rc != -EINTR)
        fail_msg("[%s] %s: supervise returned %d", ops->name, what, rc);
    if (sc.err.msg[0])
        fail_msg("[%s] %s: %s", ops->name, what, sc.err.msg);
}

static void scen_init(const struct pvt_pool_ops *ops, struct pvt_pool *p)
{
    struct pvt_pool_stats st;

    memset(&sc, 0, sizeof(sc));
    sc.slot = -1;
    sc.c.fd = sc.keep[0].fd = sc.keep[1].fd = -1;
    fh_stats_or_fail(ops, p, &st, NULL);
    sc.port = st.port;
    assert_true(sc.port > 0);
}

/* stop in time, destroy: the port is closed and no process is left. */
static void close_and_check(const struct pvt_pool_ops *ops, struct pvt_pool *p, const char *what)
{
    int rc = ops->stop(p, 5000);

    if (rc != 0)
        fail_msg("[%s] %s: stop returned %d", ops->name, what, rc);
    fh_pool_close(p);
    if (sc_port_open(sc.port) != 0)
        fail_msg("[%s] %s: port %d still open after destroy", ops->name, what, sc.port);
    fh_no_children_or_fail(what);
}

/* The pool's own view of the fault the scenario found in slot sc.slot. */
static void expect_replaced(const struct pvt_pool_ops *ops, struct pvt_pool *p, int sig,
                            unsigned hangs)
{
    struct pvt_worker_stats w[WORKERS];
    struct pvt_pool_stats st;
    int s = sc.slot;

    fh_stats_or_fail(ops, p, &st, w);
    assert_int_equal(st.deaths, 1);
    assert_int_equal(st.hangs, hangs);
    assert_int_equal(w[s].restarts, 1);
    assert_int_equal(w[s].last_exit_signal, sig);
    assert_int_equal(w[s].last_exit_intended, 0);
    assert_int_equal(w[s].pid, sc.now[s]);
    assert_int_equal(w[1 - s].restarts, 0);
    assert_int_equal(w[1 - s].pid, sc.pid[1 - s]);
    assert_true(fh_gone(sc.pid[s]));
}

void fault_test_serve_proc_crash(void **state)
{
    const struct pvt_pool_ops *ops = pvt_backend_find("proc");
    struct pvt_pool *p;
    int d;

    (void)state;
    assert_non_null(ops);
    for (d = 0; d <= PVT_DIST_RR; d++) {
        struct pvt_serve_cfg serve = {.distribution = (enum pvt_dist)d, .allow_faults = 1};
        struct pvt_pool_cfg cfg = {.workers = WORKERS, .serve = &serve};

        p = fh_pool_open_or_fail(ops, &cfg, pvt_dist_names[d]);
        scen_init(ops, p);
        drive(ops, p, crash_cb, pvt_dist_names[d]);
        expect_replaced(ops, p, SIGSEGV, 0);
        close_and_check(ops, p, pvt_dist_names[d]);
    }
}

void fault_test_serve_proc_hang(void **state)
{
    const struct pvt_pool_ops *ops = pvt_backend_find("proc");
    struct pvt_serve_cfg serve = {.distribution = PVT_DIST_RR, .allow_faults = 1};
    struct pvt_pool_cfg cfg = {
        .workers = WORKERS, .serve = &serve, .sup = {.worker_timeout_ms = 300}};
    struct pvt_pool *p;

    (void)state;
    assert_non_null(ops);
    p = fh_pool_open_or_fail(ops, &cfg, "hang");
    scen_init(ops, p);
    drive(ops, p, hang_cb, "hang");
    expect_replaced(ops, p, SIGTERM, 1);
    close_and_check(ops, p, "hang");
}

void fault_test_serve_recycle_first(void **state)
{
    const struct pvt_pool_ops *ops = pvt_backend_find("proc");
    struct pvt_pool_stats st;
    struct pvt_pool *p;
    uint64_t end;
    int d;

    (void)state;
    assert_non_null(ops);
    for (d = 0; d <= PVT_DIST_RR; d++) {
        struct pvt_serve_cfg serve = {.distribution = (enum pvt_dist)d};
        struct pvt_pool_cfg cfg = {
            .workers = 1, .serve = &serve, .sup = {.max_jobs = RECYCLE_JOBS}};

        p = fh_pool_open_or_fail(ops, &cfg, pvt_dist_names[d]);
        scen_init(ops, p);
        drive(ops, p, recycle_cb, pvt_dist_names[d]);
        /* The old worker drains and goes once its last request is answered. */
        for (end = fh_now_ms() + IO_MS; !fh_gone(sc.pid[0]) && fh_now_ms() < end;)
            ops->supervise(p, 20, NULL);
        if (!fh_gone(sc.pid[0]))
            fail_msg("[%s] %s: the recycled worker %d is still there", ops->name,
                     pvt_dist_names[d], (int)sc.pid[0]);
        fh_stats_or_fail(ops, p, &st, NULL);
        assert_true(st.recycles >= 1);
        assert_int_equal(st.deaths, 0);
        close_and_check(ops, p, pvt_dist_names[d]);
    }
}

void fault_test_serve_no_faults_404(void **state)
{
    const struct pvt_pool_ops *const *bp;
    struct pvt_worker_stats w[WORKERS];
    struct pvt_pool_stats st;
    struct pvt_pool *p;
    int i;

    (void)state;
    for (bp = pvt_backends; *bp; bp++) {
        struct pvt_serve_cfg serve = {.distribution = PVT_DIST_RR};
        struct pvt_pool_cfg cfg = {.workers = WORKERS, .serve = &serve};

        if (!(*bp)->supervise)
            continue;
        p = fh_pool_open_or_fail(*bp, &cfg, "no faults");
        scen_init(*bp, p);
        drive(*bp, p, no_faults_cb, "without allow_faults");
        fh_stats_or_fail(*bp, p, &st, w);
        assert_int_equal(st.deaths, 0);
        assert_int_equal(st.hangs, 0);
        for (i = 0; i < WORKERS; i++)
            assert_int_equal(w[i].restarts, 0);
        close_and_check(*bp, p, "without allow_faults");
    }
}

/* ---- thread: a fault route ends the process ---- */

/* In a child: serve with threads until the alarm; the port goes to fd. */
static int thread_server_child(int fd)
{
    const struct pvt_pool_ops *ops = pvt_backend_find("thread");
    struct pvt_serve_cfg serve = {.distribution = PVT_DIST_RR, .allow_faults = 1};
    struct pvt_pool_cfg cfg = {.workers = WORKERS, .serve = &serve};
    struct pvt_pool_stats st = {0};
    struct pvt_pool *p = NULL;
    int rc;

    if (!ops || ops->create(&cfg, &p) != 0)
        return 40;
    ops->stats(p, &st);
    if (write(fd, &st.port, sizeof(st.port)) != (ssize_t)sizeof(st.port))
        return 41;
    close(fd);
    for (;;) {
        rc = ops->supervise(p, 100, NULL);
        if (rc < 0 && rc != -EINTR)
            return 42;
    }
}

/* GET path from a thread server in a child: no response, and the child
 * ends as want says (1000 + a signal, or an exit code), its port with it. */
static void thread_route_kills(const char *path, int want)
{
    struct sc_conn *c = &sc.c;
    struct pollfd pfd;
    int fds[2], port = 0, rc, ended;
    pid_t pid;

    assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        fh_child_setup(20);
        close(fds[0]);
        _exit(thread_server_child(fds[1]));
    }
    close(fds[1]);
    pfd = (struct pollfd){.fd = fds[0], .events = POLLIN};
    if (poll(&pfd, 1, 10000) != 1 || read(fds[0], &port, sizeof(port)) != (ssize_t)sizeof(port))
        port = 0;
    close(fds[0]);
    if (port <= 0) {
        rc = fh_reap_child(pid, 1000);
        fail_msg("thread %s: the server did not start (child ended %d)", path, rc);
    }
    memset(&sc, 0, sizeof(sc));
    rc = sc_connect(c, port, IO_MS);
    if (rc == 0)
        rc = get(c, "/", &sc.r); /* it serves before the fault */
    if (rc == 0 && sc.r.status != 200)
        rc = -EPROTO;
    if (rc == 0)
        rc = get(c, path, &sc.r);
    sc_close(c);
    ended = fh_reap_child(pid, 10000);
    if (rc != -EPIPE)
        fail_msg("thread %s: %s, want the connection closed without a response", path,
                 rc == 0 ? "answered" : strerror(-rc));
    if (ended != want)
        fail_msg("thread %s: the process ended with %d (1000 + signal, or exit code), want %d",
                 path, ended, want);
    if (sc_port_open(port) != 0)
        fail_msg("thread %s: port %d still open after the process ended", path, port);
}

void fault_test_serve_thread_faults(void **state)
{
    (void)state;
    thread_route_kills("/crash", 1000 + SIGSEGV);
    thread_route_kills("/abort", 1000 + SIGABRT);
    thread_route_kills("/exit?code=3", 3);
}
