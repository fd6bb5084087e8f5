/*
 * test_serve.c: serve mode over real sockets, for every backend that serves
 * and every distribution (shared, reuseport, rr).
 *
 * DESIGN
 * The thread that creates a serving pool must keep calling supervise: with
 * rr it is the one that accepts connections and hands them out. So the test
 * thread only supervises, and each case's client side runs on a helper
 * thread (the scenario), which starts more threads for concurrent clients.
 * No helper thread calls cmocka: each one writes the first thing that went
 * wrong into its own struct sc_note, and the test thread asserts after
 * pthread_join. Every socket has send and receive timeouts and the supervise
 * loop has a guard, so a hang turns into a failure. Nothing is timed: the
 * bounds only end a hang, and no case comes close to them.
 *
 * What each case checks: test_serve_each, per backend and distribution, (a)
 * concurrent keep-alive clients, some pipelining, get exact answers to "/"
 * and SC_HASH_PATH; (b) malformed, unknown, oversized-URI and
 * oversized-header requests get 400, 404, 414 and 431 while a keep-alive
 * client is served before and after; (c) /stats's per-worker requests add up
 * to exactly the responses sent before it, as do the pool's own stats; (d)
 * stop returns 0 in time, and after destroy the port is closed and no child
 * process is left. test_slow_client: a stalled half request holds neither
 * the worker nor, past request_timeout_ms, its connection.
 * test_port_in_use: a taken port is -EADDRINUSE and starts nothing.
 *
 * Pools go through pool_open / pool_close, so a case that fails half-way
 * still has them destroyed by the teardown (a proc pool left behind would
 * leave worker processes, and the next case's child check would fail).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shared/serve/http.h"
#include "shared/core/pvt.h"
#include "shared/serve/serve.h"
#include "serve_client.h"

#define WORKERS    2
#define NCLIENTS   8
#define NREQ       50
#define PIPE_DEPTH 5     /* the pipelined clients send this many requests at once */
#define IO_MS      5000  /* every send and receive */
#define CLOSE_MS   5000  /* a stalled client must be closed within this */
#define GUARD_MS   25000 /* the whole client side of one case */
#define MAX_POOLS  2

/* A server stuck on a stalled client until its request timeout must make
 * another client's receive time out. */
_Static_assert(IO_MS < PVT_SERVE_REQUEST_TIMEOUT_MS, "IO_MS must be below the request timeout");

/* One keep-alive client of the concurrent phase. */
struct client {
    int port, idx, pipelined;
    atomic_int *abort;
    int answered;       /* responses received */
    pid_t pid[WORKERS]; /* the pid each slot's "/" named, 0 if none */
    struct sc_conn conn;
    struct sc_resp resp;
    struct sc_note err;
};

/* The client side of one case, and what it found. */
struct scenario {
    const struct pvt_pool_ops *ops;
    enum pvt_dist dist;
    int port, workers;
    int short_timeout; /* the slow client case: request_timeout_ms is short */
    atomic_int done, abort;
    int conns;            /* connections the test opened */
    uint64_t answered;    /* responses received, /stats excluded */
    uint64_t stats_asked; /* /stats requests answered */
    pid_t pid[WORKERS];
    struct client cl[NCLIENTS];
    struct sc_conn a, b;
    struct sc_resp r;
    struct sc_note err;
};

/* GET path on c and check the answer. */
static void get_ok(struct scenario *s, struct sc_conn *c, const char *path, const char *who)
{
    int rc = sc_get(c, path);

    if (rc == 0)
        rc = sc_read_response(c, &s->r);
    if (rc < 0) {
        sc_note(&s->err, "%s: GET %s: %s", who, path, strerror(-rc));
        return;
    }
    s->answered++;
    sc_check_ok(&s->r, path, s->workers, s->pid, &s->err, who);
}

static void open_conn(struct scenario *s, struct sc_conn *c, const char *who)
{
    int rc = sc_connect(c, s->port, IO_MS);

    if (rc < 0)
        sc_note(&s->err, "%s: connect: %s", who, strerror(-rc));
    else
        s->conns++;
}

/* (a) NREQ requests on one connection, "/" and SC_HASH_PATH in turn. */
static void *client_cb(void *arg)
{
    struct client *cl = arg;
    char req[4096], who[32];
    size_t len;
    int k, j, batch, rc;

    snprintf(who, sizeof(who), "client %d", cl->idx);
    rc = sc_connect(&cl->conn, cl->port, IO_MS);
    if (rc < 0) {
        sc_note(&cl->err, "%s: connect: %s", who, strerror(-rc));
        return NULL;
    }
    for (k = 0; k < NREQ && !cl->err.msg[0] && !atomic_load(cl->abort); k += batch) {
        batch = cl->pipelined ? (NREQ - k < PIPE_DEPTH ? NREQ - k : PIPE_DEPTH) : 1;
        len = 0;
        for (j = 0; j < batch; j++)
            sc_build_get(req, sizeof(req), &len, (k + j) % 2 ? SC_HASH_PATH : "/");
        rc = sc_send(&cl->conn, req, len);
        for (j = 0; j < batch && rc == 0 && !cl->err.msg[0]; j++) {
            rc = sc_read_response(&cl->conn, &cl->resp);
            if (rc == 0) {
                cl->answered++;
                sc_check_ok(&cl->resp, (k + j) % 2 ? SC_HASH_PATH : "/", WORKERS, cl->pid, &cl->err,
                            who);
            }
        }
        if (rc < 0)
            sc_note(&cl->err, "%s: request %d: %s", who, k + j, strerror(-rc));
    }
    sc_close(&cl->conn);
    return NULL;
}

/* (b) raw on a new connection gets the error status; a 404 keeps it open. */
static void expect_status(struct scenario *s, const char *what, const char *raw, size_t len,
                          int status, int closes)
{
    open_conn(s, &s->b, what);
    if (s->b.fd >= 0 &&
        sc_expect_error(&s->b, &s->r, raw, len, status, closes, IO_MS, &s->err, what) > 0) {
        s->answered++;
        if (!closes && !s->err.msg[0])
            get_ok(s, &s->b, "/", what); /* the same connection goes on */
    }
    sc_close(&s->b);
}

static void bad_requests(struct scenario *s)
{
    static const char garbage[] = "this is not http\r\n\r\n";
    static const char unknown[] = "GET /no/such/path HTTP/1.1\r\nHost: pvt-test\r\n\r\n";
    char *big = malloc(PVT_HTTP_MAX_HEADERS * 2);
    int n;

    if (!big) {
        sc_note(&s->err, "out of memory");
        return;
    }
    expect_status(s, "garbage request line", garbage, sizeof(garbage) - 1, 400, 1);
    expect_status(s, "unknown path", unknown, sizeof(unknown) - 1, 404, 0);
    n = sprintf(big, "GET /%0*d HTTP/1.1\r\nHost: pvt-test\r\n\r\n", PVT_HTTP_MAX_URI + 100, 0);
    expect_status(s, "oversized URI", big, (size_t)n, 414, 1);
    n = sprintf(big, "GET / HTTP/1.1\r\nHost: pvt-test\r\nX-Big: %0*d\r\n\r\n",
                PVT_HTTP_MAX_HEADERS + 100, 0);
    expect_status(s, "oversized headers", big, (size_t)n, 431, 1);
    free(big);
}

/* (c) /stats: the per-worker requests add up to what was answered. A worker
 * publishes its count once per turn of its loop, so another worker's /stats
 * may lag the last response by that much: ask again (each /stats counts as
 * one more) until the sum is right, failing at once if it is ever above. */
static void stats_check(struct scenario *s)
{
    uint64_t want, sum, top;
    int rc, tries;

    open_conn(s, &s->a, "stats");
    for (tries = 0; tries < 100 && s->a.fd >= 0 && !s->err.msg[0]; tries++) {
        want = s->answered + s->stats_asked;
        rc = sc_get(&s->a, "/stats");
        if (rc == 0)
            rc = sc_read_response(&s->a, &s->r);
        if (rc < 0 || s->r.status != 200) {
            sc_note(&s->err, "GET /stats: %s, status %d", strerror(-rc), rc < 0 ? -1 : s->r.status);
            break;
        }
        s->stats_asked++;
        if (sc_stats_parse(s->r.body, s->ops->name, pvt_dist_names[s->dist], s->workers, s->pid,
                           &top, &sum, &s->err) < 0)
            break;
        if (sum > want || top > sum) {
            sc_note(&s->err, "/stats: workers' requests add up to %llu (total %llu), want %llu",
                    (unsigned long long)sum, (unsigned long long)top, (unsigned long long)want);
        } else if (sum == want && top == sum) {
            break;
        } else if (tries == 99) {
            sc_note(&s->err, "/stats: requests stayed at %llu (total %llu), want %llu",
                    (unsigned long long)sum, (unsigned long long)top, (unsigned long long)want);
        } else {
            sc_sleep_ms(20);
        }
    }
    sc_close(&s->a);
}

/* (a), (b) and (c) against one pool of WORKERS. */
static void *serve_scenario_cb(void *arg)
{
    struct scenario *s = arg;
    pthread_t t[NCLIENTS];
    int i, started = 0, rc;

    /* A keep-alive client that stays open, and is served, throughout. */
    open_conn(s, &s->a, "client G");
    if (s->a.fd >= 0)
        get_ok(s, &s->a, "/", "client G");
    for (i = 0; i < NCLIENTS && !s->err.msg[0]; i++, started++) {
        s->cl[i].port = s->port;
        s->cl[i].idx = i;
        s->cl[i].pipelined = i % 2;
        s->cl[i].abort = &s->abort;
        rc = pthread_create(&t[i], NULL, client_cb, &s->cl[i]);
        if (rc) {
            sc_note(&s->err, "pthread_create: %s", strerror(rc));
            break;
        }
    }
    if (!s->err.msg[0])
        bad_requests(s);
    if (s->a.fd >= 0)
        get_ok(s, &s->a, SC_HASH_PATH, "client G after the bad requests");
    for (i = 0; i < started; i++) {
        pthread_join(t[i], NULL);
        s->conns++;
        s->answered += (uint64_t)s->cl[i].answered;
        if (s->cl[i].err.msg[0])
            sc_note(&s->err, "%s", s->cl[i].err.msg);
        for (rc = 0; rc < WORKERS; rc++)
            if (s->cl[i].pid[rc] && s->pid[rc] && s->cl[i].pid[rc] != s->pid[rc])
                sc_note(&s->err, "slot %d named pids %d and %d", rc, (int)s->pid[rc],
                        (int)s->cl[i].pid[rc]);
            else if (s->cl[i].pid[rc])
                s->pid[rc] = s->cl[i].pid[rc];
        if (s->cl[i].answered != NREQ)
            sc_note(&s->err, "client %d got %d responses of %d", i, s->cl[i].answered, NREQ);
    }
    sc_close(&s->a);
    open_conn(s, &s->b, "a new client");
    if (s->b.fd >= 0)
        get_ok(s, &s->b, "/", "a new client");
    sc_close(&s->b);
    if (!s->err.msg[0])
        stats_check(s);
    atomic_store(&s->done, 1);
    return NULL;
}

/* ---- pools that the teardown destroys if a case fails ---- */

static struct {
    const struct pvt_pool_ops *ops;
    struct pvt_pool *p;
} pools[MAX_POOLS];

static int pool_try(const struct pvt_pool_ops *ops, int workers, const struct pvt_serve_cfg *sc,
                    struct pvt_pool **out)
{
    struct pvt_pool_cfg cfg = {.workers = workers, .serve = sc};
    int i, rc;

    *out = NULL;
    rc = ops->create(&cfg, out);
    if (rc < 0)
        return rc;
    for (i = 0; i < MAX_POOLS && pools[i].p; i++)
        ;
    if (i == MAX_POOLS) {
        ops->destroy(*out);
        fail_msg("test bug: more than %d pools open", MAX_POOLS);
    }
    pools[i].ops = ops;
    pools[i].p = *out;
    return 0;
}

static struct pvt_pool *pool_open(const struct pvt_pool_ops *ops, int workers,
                                  const struct pvt_serve_cfg *sc)
{
    struct pvt_pool *p;
    int rc = pool_try(ops, workers, sc, &p);

    if (rc < 0 || !p)
        fail_msg("[%s/%s] create(workers=%d, port=%d) returned %d", ops->name,
                 pvt_dist_names[sc->distribution], workers, sc->port, rc);
    return p;
}

static void pool_close(struct pvt_pool *p)
{
    int i;

    for (i = 0; i < MAX_POOLS; i++) {
        if (pools[i].p == p) {
            pools[i].ops->destroy(p);
            pools[i].p = NULL;
            return;
        }
    }
    fail_msg("test bug: closing a pool that is not open");
}

static int teardown_pools(void **state)
{
    int i;

    (void)state;
    for (i = 0; i < MAX_POOLS; i++) {
        if (pools[i].p)
            pools[i].ops->destroy(pools[i].p);
        pools[i].p = NULL;
    }
    return 0;
}

static int pool_port(const struct pvt_pool_ops *ops, struct pvt_pool *p)
{
    struct pvt_pool_stats st = {0};

    if (ops->stats(p, &st) != 0 || st.port <= 0 || st.port > 65535)
        fail_msg("[%s] stats: port %d", ops->name, st.port);
    return st.port;
}

/* ---- the test thread's side ---- */

/* The scenario's struct is large (every client's buffers): reused, not on a stack. */
static void scenario_init(struct scenario *s, const struct pvt_pool_ops *ops, int dist, int workers,
                          int port)
{
    memset(s, 0, sizeof(*s));
    s->ops = ops;
    s->dist = (enum pvt_dist)dist;
    s->workers = workers;
    s->port = port;
    s->a.fd = s->b.fd = -1;
}

/* Supervise until the scenario is done, then join it and assert on it. */
static void drive(const struct pvt_pool_ops *ops, struct pvt_pool *pool, void *(*fn)(void *),
                  struct scenario *s)
{
    uint64_t end = sc_now_ms() + GUARD_MS;
    int rc, sup_rc = 0, guard = 0;
    pthread_t t;

    rc = pthread_create(&t, NULL, fn, s);
    if (rc)
        fail_msg("pthread_create: %s", strerror(rc));
    while (!atomic_load(&s->done)) {
        rc = ops->supervise(pool, 20, NULL);
        if (rc < 0 && rc != -EINTR) {
            sup_rc = rc;
            atomic_store(&s->abort, 1);
            break; /* every client call ends within IO_MS */
        }
        if (!guard && sc_now_ms() > end) {
            guard = 1;
            atomic_store(&s->abort, 1);
        }
    }
    pthread_join(t, NULL);
    if (sup_rc)
        fail_msg("[%s/%s] supervise returned %d", ops->name, pvt_dist_names[s->dist], sup_rc);
    if (s->err.msg[0])
        fail_msg("[%s/%s] %s", ops->name, pvt_dist_names[s->dist], s->err.msg);
    if (guard)
        fail_msg("[%s/%s] the clients took longer than %d ms", ops->name, pvt_dist_names[s->dist],
                 GUARD_MS);
}

/* (d) stop in time, destroy: the port is closed and no process is left. */
static void stop_and_check_gone(const struct pvt_pool_ops *ops, struct pvt_pool *pool, int port,
                                const char *dist)
{
    pid_t pid;
    int rc = ops->stop(pool, 2000);

    if (rc != 0)
        fail_msg("[%s/%s] stop(2000) returned %d, want 0", ops->name, dist, rc);
    pool_close(pool);
    rc = sc_port_open(port);
    if (rc != 0)
        fail_msg("[%s/%s] after destroy, port %d: %s", ops->name, dist, port,
                 rc > 0 ? "still accepts" : strerror(-rc));
    pid = waitpid(-1, NULL, WNOHANG);
    if (pid != -1 || errno != ECHILD)
        fail_msg("[%s/%s] a child process is left after destroy (waitpid: %d)", ops->name, dist,
                 (int)pid);
}

#define FOR_EACH_SERVER(bp)                                                                        \
    for (bp = pvt_backends; *bp; bp++)                                                             \
        if ((*bp)->supervise)

static void test_serve_each(void **state)
{
    const struct pvt_pool_ops *const *bp;
    struct pvt_worker_stats w[WORKERS];
    struct pvt_pool_stats st;
    struct scenario *s = calloc(1, sizeof(*s));
    uint64_t end, sum = 0;
    int d, i, tested = 0;

    (void)state;
    assert_non_null(s);
    FOR_EACH_SERVER(bp)
    {
        for (d = 0; d <= PVT_DIST_RR; d++) {
            const struct pvt_pool_ops *ops = *bp;
            struct pvt_serve_cfg sc = {.distribution = (enum pvt_dist)d};
            struct pvt_pool *pool = pool_open(ops, WORKERS, &sc);
            const char *dn = pvt_dist_names[d];

            scenario_init(s, ops, d, WORKERS, pool_port(ops, pool));
            drive(ops, pool, serve_scenario_cb, s);

            /* The pool's own stats agree with /stats once the last turn is published. */
            for (end = sc_now_ms() + 2000; sc_now_ms() < end; ops->supervise(pool, 10, NULL)) {
                st = (struct pvt_pool_stats){.w = w};
                ops->stats(pool, &st);
                for (sum = 0, i = 0; i < WORKERS; i++)
                    sum += w[i].requests;
                if (sum >= s->answered + s->stats_asked)
                    break;
            }
            if (sum != s->answered + s->stats_asked)
                fail_msg("[%s/%s] stats: workers' requests %llu, want %llu", ops->name, dn,
                         (unsigned long long)sum,
                         (unsigned long long)(s->answered + s->stats_asked));
            for (i = 0; i < WORKERS; i++)
                if (s->pid[i] && w[i].pid != s->pid[i])
                    fail_msg("[%s/%s] slot %d: stats pid %d, '/' said %d", ops->name, dn, i,
                             (int)w[i].pid, (int)s->pid[i]);
            if (st.handed_out != (d == PVT_DIST_RR ? (uint64_t)s->conns : 0) || st.refused)
                fail_msg("[%s/%s] handed_out %llu, refused %llu, for %d connections", ops->name, dn,
                         (unsigned long long)st.handed_out, (unsigned long long)st.refused,
                         s->conns);
            stop_and_check_gone(ops, pool, s->port, dn);
            tested++;
        }
    }
    free(s);
    assert_int_equal(tested, 2 * (PVT_DIST_RR + 1));
}

/* Default timeout: the stalled request is still pending; finish it. */
static void finish_stalled(struct scenario *s)
{
    int rc;

    if (!sc_idle_open(&s->a)) {
        sc_note(&s->err, "stalled client closed or answered before its request was whole");
        return;
    }
    rc = sc_send(&s->a, "\r\n", 2);
    if (rc == 0)
        rc = sc_read_response(&s->a, &s->r);
    if (rc < 0) {
        sc_note(&s->err, "stalled client, its request finished: %s", strerror(-rc));
        return;
    }
    s->answered++;
    if (sc_check_ok(&s->r, "/", 1, s->pid, &s->err, "stalled client, its request finished") == 0)
        get_ok(s, &s->b, "/", "other client, after the stalled one was answered");
}

/* Short timeout: the stalled client is closed, unanswered. */
static void expect_stalled_closed(struct scenario *s)
{
    int rc = sc_wait_closed(&s->a, CLOSE_MS);

    if (rc < 0)
        sc_note(&s->err, "stalled client not closed after request_timeout_ms: %s",
                rc == -EPROTO ? "it got a response" : strerror(-rc));
    else
        get_ok(s, &s->b, "/", "other client, after the stalled one was closed");
}

/*
 * A stalled half request holds its connection, not the worker. One worker,
 * so both clients are its. With the default request timeout (longer than
 * IO_MS), a server stuck reading the stalled client would leave the other's
 * receive to time out; the stalled request, finished at the end, is then
 * answered. With a short request timeout, the stalled client is closed,
 * unanswered, and the other is still served.
 */
static void *slow_scenario_cb(void *arg)
{
    static const char half[] = "GET / HTTP/1.1\r\nHost: pvt-test\r\n";
    struct scenario *s = arg;
    int k, rc;

    open_conn(s, &s->a, "stalled client");
    if (s->a.fd >= 0 && (rc = sc_send(&s->a, half, sizeof(half) - 1)) < 0)
        sc_note(&s->err, "stalled client: send: %s", strerror(-rc));
    open_conn(s, &s->b, "other client");
    for (k = 0; k < (s->short_timeout ? 1 : 10) && !s->err.msg[0]; k++)
        get_ok(s, &s->b, k % 2 ? SC_HASH_PATH : "/", "other client, beside a stalled one");
    if (!s->err.msg[0] && !s->short_timeout)
        finish_stalled(s);
    else if (!s->err.msg[0])
        expect_stalled_closed(s);
    sc_close(&s->a);
    sc_close(&s->b);
    atomic_store(&s->done, 1);
    return NULL;
}

static void test_slow_client(void **state)
{
    const struct pvt_pool_ops *const *bp;
    struct scenario *s;
    int d, t;

    (void)state;
    s = calloc(1, sizeof(*s));
    assert_non_null(s);
    FOR_EACH_SERVER(bp)
    {
        for (d = 0; d <= PVT_DIST_RR; d++) {
            for (t = 0; t < 2; t++) {
                const struct pvt_pool_ops *ops = *bp;
                struct pvt_serve_cfg sc = {.distribution = (enum pvt_dist)d,
                                           .request_timeout_ms = t ? 200 : 0};
                struct pvt_pool *pool = pool_open(ops, 1, &sc);

                scenario_init(s, ops, d, 1, pool_port(ops, pool));
                s->short_timeout = t;
                drive(ops, pool, slow_scenario_cb, s);
                stop_and_check_gone(ops, pool, s->port, pvt_dist_names[d]);
            }
        }
    }
    free(s);
}

/* A listening socket on 127.0.0.1 with no SO_REUSE* flags; its port in *port. */
static int plain_listener(int *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

/* A port in use: create fails with -EADDRINUSE and starts nothing, also
 * when both pools use reuseport (a second pool must not quietly join the
 * first one's port). */
static void test_port_in_use(void **state)
{
    static const enum pvt_dist occupants[] = {PVT_DIST_SHARED, PVT_DIST_REUSEPORT, PVT_DIST_RR};
    const struct pvt_pool_ops *const *bp;
    struct pvt_pool *first, *second;
    int port, lfd, d, o, rc;
    pid_t pid;

    (void)state;
    FOR_EACH_SERVER(bp)
    {
        const struct pvt_pool_ops *ops = *bp;
        lfd = plain_listener(&port);
        for (d = 0; d <= PVT_DIST_RR; d++) {
            struct pvt_serve_cfg sc = {.distribution = (enum pvt_dist)d, .port = port};
            rc = pool_try(ops, WORKERS, &sc, &second);
            if (rc != -EADDRINUSE)
                fail_msg("[%s/%s] create on a port another socket listens on: %d", ops->name,
                         pvt_dist_names[d], rc);
        }
        close(lfd);
        for (o = 0; o < 3; o++) {
            struct pvt_serve_cfg osc = {.distribution = occupants[o]};
            first = pool_open(ops, WORKERS, &osc);
            port = pool_port(ops, first);
            for (d = 0; d <= PVT_DIST_RR; d++) {
                struct pvt_serve_cfg sc = {.distribution = (enum pvt_dist)d, .port = port};
                rc = pool_try(ops, WORKERS, &sc, &second);
                if (rc != -EADDRINUSE)
                    fail_msg("[%s] create on the port of a %s pool, as %s: %d", ops->name,
                             pvt_dist_names[occupants[o]], pvt_dist_names[d], rc);
            }
            assert_int_equal(sc_port_open(port), 1); /* the first still listens */
            pool_close(first);
            pid = waitpid(-1, NULL, WNOHANG);
            if (pid != -1 || errno != ECHILD)
                fail_msg("[%s] a child process is left (waitpid: %d)", ops->name, (int)pid);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_serve_each, teardown_pools),
        cmocka_unit_test_teardown(test_slow_client, teardown_pools),
        cmocka_unit_test_teardown(test_port_in_use, teardown_pools),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
