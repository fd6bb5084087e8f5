/*
 * test_load.c: the load generator against a small HTTP server in this test.
 *
 * DESIGN
 * The server is a thread with a poll()ed accept loop on 127.0.0.1 port 0 and
 * a thread per connection (blocking I/O, poll with a 50 ms timeout so every
 * thread sees `stop`). Its counters are atomics read by the test thread after
 * pvt_load_run returns; the test thread then sets `stop` and joins every
 * thread, so all waits are bounded. No cmocka assert runs outside the test
 * thread. Knobs: answer 500 to every Nth request (counted over the server),
 * close after K requests on a connection (with "Connection: close"), delay
 * each response, never respond, or answer without Content-Length. Requests
 * for /alt (the --mix path of the mix test) are counted apart and answered
 * 500 when fail_alt is set. For the stream tests: requests for /fast and
 * /slow are counted apart, /slow is answered after slow_ms, and a connection
 * that asks for more than one path is counted in `mixed_paths`.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench/load/load.h"

#define MAX_CONN_THREADS 512

struct server {
    int lfd;
    uint16_t port;
    int fail_every;   /* 500 for every Nth request; 0: never */
    int close_after;  /* close a connection after K requests; 0: never */
    int delay_ms;     /* before each response */
    int never_respond;
    int no_length;    /* answer without Content-Length */
    int fail_alt;     /* 500 for every request for /alt */
    int slow_ms;      /* before each response to /slow */
    atomic_int stop;
    atomic_uint_fast64_t requests, alt, fast, slow, mixed_paths;
    atomic_int accepted;
    pthread_t acceptor;
    pthread_t conns[MAX_CONN_THREADS];
    int fds[MAX_CONN_THREADS];
    int nconns; /* written by the acceptor only; read after it is joined */
};

struct conn_arg {
    struct server *s;
    int fd;
};

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int write_all(int fd, const char *p, size_t n)
{
    ssize_t w;

    while (n) {
        w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Answers one request (head: its first bytes, NUL-terminated); 1 when the
 * connection should close after it. */
static int respond(struct server *s, int fd, int on_conn, const char *head)
{
    uint64_t k = atomic_fetch_add(&s->requests, 1) + 1;
    int last = s->close_after && on_conn >= s->close_after;
    int alt = strncmp(head, "GET /alt ", 9) == 0;
    int slow = strncmp(head, "GET /slow ", 10) == 0;
    int fail = (s->fail_every && k % (uint64_t)s->fail_every == 0) || (alt && s->fail_alt);
    char out[256];
    int n;

    if (alt)
        atomic_fetch_add(&s->alt, 1);
    if (slow)
        atomic_fetch_add(&s->slow, 1);
    if (strncmp(head, "GET /fast ", 10) == 0)
        atomic_fetch_add(&s->fast, 1);
    if (s->never_respond)
        return 0;
    if (slow && s->slow_ms)
        sleep_ms(s->slow_ms);
    if (s->delay_ms)
        sleep_ms(s->delay_ms);
    if (s->no_length)
        n = snprintf(out, sizeof(out), "HTTP/1.1 200 OK\r\n\r\nhello");
    else
        n = snprintf(out, sizeof(out), "HTTP/1.1 %s\r\nContent-Length: 5\r\n%s\r\nhello",
                     fail ? "500 Internal Server Error" : "200 OK",
                     last ? "Connection: close\r\n" : "");
    if (write_all(fd, out, (size_t)n) < 0)
        return 1;
    return last;
}

/* Whether head asks for the same path as first (set from the first request). */
static int same_path(char *first, const char *head)
{
    size_t n = strcspn(head + 4, " ");

    if (!*first) {
        snprintf(first, 16, "%.*s", (int)n, head + 4);
        return 1;
    }
    return strlen(first) == n && strncmp(first, head + 4, n) == 0;
}

static void *conn_main(void *arg)
{
    struct conn_arg *a = arg;
    struct server *s = a->s;
    struct pollfd p = {.fd = a->fd, .events = POLLIN};
    char buf[4096], head[16], first[16] = "";
    int matched = 0, on_conn = 0, done = 0, hlen = 0;
    ssize_t n, i;

    free(a);
    while (!done && !atomic_load(&s->stop)) {
        if (poll(&p, 1, 50) <= 0)
            continue;
        n = recv(p.fd, buf, sizeof(buf), 0);
        if (n <= 0)
            break;
        /* Each "\r\n\r\n" ends one GET request. */
        for (i = 0; i < n && !done; i++) {
            const char *end = "\r\n\r\n";
            if (hlen < (int)sizeof(head) - 1)
                head[hlen++] = buf[i];
            matched = buf[i] == end[matched] ? matched + 1 : (buf[i] == '\r' ? 1 : 0);
            if (matched == 4) {
                matched = 0;
                head[hlen] = '\0';
                hlen = 0;
                if (!same_path(first, head))
                    atomic_fetch_add(&s->mixed_paths, 1);
                done = respond(s, p.fd, ++on_conn, head);
            }
        }
    }
    shutdown(p.fd, SHUT_RDWR);
    return NULL;
}

static void *accept_main(void *arg)
{
    struct server *s = arg;
    struct pollfd p = {.fd = s->lfd, .events = POLLIN};
    struct conn_arg *a;
    int fd;

    while (!atomic_load(&s->stop)) {
        if (poll(&p, 1, 50) <= 0)
            continue;
        fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        atomic_fetch_add(&s->accepted, 1);
        a = malloc(sizeof(*a));
        if (!a || s->nconns == MAX_CONN_THREADS) {
            free(a);
            close(fd);
            continue;
        }
        a->s = s;
        a->fd = fd;
        s->fds[s->nconns] = fd;
        if (pthread_create(&s->conns[s->nconns], NULL, conn_main, a) != 0) {
            free(a);
            close(fd);
            continue;
        }
        s->nconns++;
    }
    return NULL;
}

static int listen_any(uint16_t *port, int do_listen)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        (do_listen && listen(fd, 512) < 0) ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

static void server_start(struct server *s)
{
    atomic_init(&s->stop, 0);
    atomic_init(&s->requests, 0);
    atomic_init(&s->alt, 0);
    atomic_init(&s->fast, 0);
    atomic_init(&s->slow, 0);
    atomic_init(&s->mixed_paths, 0);
    atomic_init(&s->accepted, 0);
    s->nconns = 0;
    s->lfd = listen_any(&s->port, 1);
    assert_true(s->lfd >= 0);
    assert_int_equal(pthread_create(&s->acceptor, NULL, accept_main, s), 0);
}

static void server_stop(struct server *s)
{
    int i;

    atomic_store(&s->stop, 1);
    pthread_join(s->acceptor, NULL);
    for (i = 0; i < s->nconns; i++) {
        pthread_join(s->conns[i], NULL);
        close(s->fds[i]);
    }
    close(s->lfd);
}

static struct pvt_load_cfg base_cfg(uint16_t port)
{
    struct pvt_load_cfg c = {.host = "127.0.0.1", .port = port, .path = "/", .connections = 4,
                             .threads = 2, .timeout_ms = 2000};

    return c;
}

static void test_closed_loop_count(void **state)
{
    struct server s = {0};
    struct pvt_load_cfg cfg;
    struct pvt_load_result r;

    (void)state;
    server_start(&s);
    cfg = base_cfg(s.port);
    cfg.requests = 1000;
    assert_int_equal(pvt_load_run(&cfg, &r), 0);
    server_stop(&s);
    assert_int_equal(r.requests, 1000);
    assert_int_equal(atomic_load(&s.requests), 1000);
    assert_int_equal(r.err_connect + r.err_read + r.err_write + r.err_timeout + r.err_status, 0);
    assert_int_equal(pvt_hist_count(r.hist), 1000);
    assert_int_equal(pvt_hist_count(r.hist_uncorrected), 1000);
    /* Keep-alive: one connection each, all kept. */
    assert_int_equal(r.connects, 4);
    assert_int_equal(atomic_load(&s.accepted), 4);
    assert_true(r.lat.p50 >= 1 && r.lat.p50 <= r.lat.p99 && r.lat.p99 <= r.lat.max);
    assert_true(r.seconds > 0 && r.requests_per_s > 0);
    assert_null(r.streams); /* no streams asked for, none reported */
    assert_int_equal(r.nstreams, 0);
    pvt_load_result_free(&r);
}

static void test_status_errors(void **state)
{
    struct server s = {.fail_every = 4};
    struct pvt_load_cfg cfg;
    struct pvt_load_result r;

    (void)state;
    server_start(&s);
    cfg = base_cfg(s.port);
    cfg.requests = 100;
    assert_int_equal(pvt_load_run(&cfg, &r), 0);
    server_stop(&s);
    assert_int_equal(r.requests, 100);
    assert_int_equal(r.err_status, 25);
    assert_int_equal(r.err_read + r.err_timeout + r.err_connect, 0);
    pvt_load_result_free(&r);
}

/* --mix: a share of the requests goes to the other path, counted as mixed;
 * the draws are a fixed sequence per thread. */
static void test_mix(void **state)
{
    struct server s = {.fail_alt = 1};
    struct pvt_load_cfg cfg;
    struct pvt_load_result r;
    uint64_t first;

    (void)state;
    server_start(&s);
    cfg = base_cfg(s.port);
    cfg.requests = 2000;
    cfg.mix_path = "/alt";
    cfg.mix_rate = 0.25;
    assert_int_equal(pvt_load_run(&cfg, &r), 0);
    assert_int_equal(r.requests, 2000);
    assert_int_equal(r.mixed, atomic_load(&s.alt));
    assert_int_equal(r.err_status, r.mixed); /* the server fails every /alt */
    assert_true(r.mixed > 350 && r.mixed < 650); /* 500 expected; 19 is one sd */
    /* The server sees connections that ask for two paths (the stream tests
     * rely on it to tell when a connection strays). */
    assert_true(atomic_load(&s.mixed_paths) > 0);
    first = r.mixed;
    pvt_load_result_free(&r);

    cfg.mix_rate = 1;
    assert_int_equal(pvt_load_run(&cfg, &r), 0);
    assert_int_equal(r.mixed, 2000);
    assert_int_equal(atomic_load(&s.alt), first + 2000);
    pvt_load_result_free(&r);

    cfg.mix_rate = 0; /* off: the path is not looked at */
    cfg.mix_path = NULL;
    assert_int_equal(pvt_load_run(&cfg, &r), 0);
    assert_int_equal(r.mixed, 0);
    assert_int_equal(r.err_status, 0);
    pvt_load_result_free(&r);
    server_stop(&s);
    assert_int_equal(atomic_load(&s.alt), first + 2000);
}

static void test_connection_close(void **state)
{
    struct server s = {.close_after = 10};
    struct pvt_load_cfg cfg;
    struct pvt_load_result r;

    (void)state;
    server_start(&s);
    cfg = base_cfg(s.port);
    cfg.connections = 1; /* with more, how the requests split between them varies */
    cfg.threads = 1;
    cfg.requests = 100;
    assert_int_equal(pvt_load_run(&cfg, &r), 0);
    server_stop(&s);
    assert_int_equal(r.requests, 100);
    assert_int_equal(r.err_read + r.err_write + r.err_timeout + r.err_connect, 0);
    assert_int_equal(atomic_load(&s.accepted), 10);
    assert_int_equal(r.connects, 10);
    pvt_load_result_free(&r);
}

static void test_no_content_length(void **state)
{
    struct server s = {.no_length = 1};
    struct pvt_load_cfg cfg;
    struct pvt_load_result r;

    (void)state;
    server_start(&s);
    cfg = base_cfg(s.port);
    cfg.requests = 20;
    assert_int_equal(pvt_load_run(&cfg, &r), 0);
    server_stop(&s);
    assert_int_equal(r.requests, 0);
    assert_int_equal(r.err_read, 20);
    pvt_load_result_free(&r);
}

static void test_never_responds(void **state)
{
    struct server s = {.never_respond = 1};
    struct pvt_load_cfg cfg;
    struct pvt_load_result r;

    (void)state;
    server_start(&s);
    cfg = base_cfg(s.port);
    cfg.duration_ms = 300;
    cfg.timeout_ms = 200;
    assert_int_equal(pvt_load_run(&cfg, &r), 0);
    server_stop(&s);
    assert_int_equal(r.requests, 0);
    assert_true(r.err_timeout >= 4);
    assert_int_equal(pvt_hist_count(r.hist), 0);
    pvt_load_result_free(&r);

    /* The same with -n: every attempt times out, and the run still ends. */
    memset(&s, 0, sizeof(s));
    s.never_respond = 1;
    server_start(&s);
    cfg = base_cfg(s.port);
    cfg.requests = 8;
    cfg.timeout_ms = 100;
    assert_int_equal(pvt_load_run(&cfg, &r), 0);
    server_stop(&s);
    assert_int_equal(r.err_timeout, 8);
    assert_int_equal(atomic_load(&s.requests), 8);
    pvt_load_result_free(&r);
}

static void test_refused(void **state)
{
    struct pvt_load_cfg cfg;
    struct pvt_load_result r;
    uint16_t port;
    int fd = listen_any(&port, 0); /* bound, not listening: connections are refused */

    (void)state;
    assert_true(fd >= 0);
    cfg = base_cfg(port);
    cfg.requests = 10;
    assert_int_equal(pvt_load_run(&cfg, &r), 0);
    assert_int_equal(r.requests, 0);
    assert_int_equal(r.connects, 0);
    assert_int_equal(r.err_connect, 10);
    pvt_load_result_free(&r);
    cfg = base_cfg(port);
    cfg.duration_ms = 200;
    assert_int_equal(pvt_load_run(&cfg, &r), 0);
    assert_int_equal(r.requests, 0);
    assert_true(r.err_connect >= 4);
    pvt_load_result_free(&r);
    close(fd);
}

static void test_open_loop_rate(void **state)
{
    struct server s = {0};
    struct pvt_load_cfg cfg;
    struct pvt_load_result r;

    (void)state;
    server_start(&s);
    cfg = base_cfg(s.port);
    cfg.duration_ms = 1000;
    cfg.rate = 200;
    assert_int_equal(pvt_load_run(&cfg, &r), 0);
    server_stop(&s);
    /* A behaviour check, not a speed one: paced near 200, never unbounded. */
    assert_true(r.requests >= 140 && r.requests <= 260);
    assert_true(atomic_load(&s.requests) <= 200 + 4);
    assert_int_equal(r.err_connect + r.err_read + r.err_write + r.err_timeout, 0);
    pvt_load_result_free(&r);
}

static void test_open_loop_corrected(void **state)
{
    struct server s = {.delay_ms = 50};
    struct pvt_load_cfg cfg;
    struct pvt_load_result r;

    (void)state;
    server_start(&s);
    cfg = base_cfg(s.port);
    cfg.connections = 1;
    cfg.threads = 1;
    cfg.duration_ms = 1000;
    cfg.rate = 100; /* the server manages at most 20/s on one connection */
    assert_int_equal(pvt_load_run(&cfg, &r), 0);
    server_stop(&s);
    assert_true(r.requests >= 1);
    assert_true(r.requests <= 100);
    /* Every response took the server's 50 ms; the backlog only adds. */
    assert_true(r.lat_uncorrected.p50 >= 50000);
    assert_true(r.lat.p99 > r.lat_uncorrected.p99);
    assert_true(r.lat.max > r.lat_uncorrected.max);
    pvt_load_result_free(&r);
}

/* The timeline's bins add up to the totals: responses, status errors, and
 * errors of the other kinds, and they cover the whole run. */
static void check_bins(const struct pvt_load_result *r)
{
    uint64_t ok = 0, failed = 0, max = 0;
    size_t i;

    assert_non_null(r->bins);
    assert_true(r->nbins >= (size_t)(r->seconds * 1000 / PVT_LOAD_BIN_MS));
    for (i = 0; i < r->nbins; i++) {
        const struct pvt_load_bin *b = &r->bins[i];
        uint64_t p99 = pvt_load_bin_percentile(b, 99);
        ok += b->ok;
        failed += b->failed;
        assert_true(p99 <= b->max_us);
        assert_true((p99 == 0) == (b->max_us == 0));
        if (b->max_us > max)
            max = b->max_us;
    }
    assert_int_equal(ok, r->requests - r->err_status);
    assert_int_equal(failed,
                     r->err_connect + r->err_read + r->err_write + r->err_timeout + r->err_status);
    assert_int_equal(max, r->lat.max);
}

static void test_timeline_sums(void **state)
{
    struct server s = {.fail_every = 7};
    struct pvt_load_cfg cfg;
    struct pvt_load_result r;
    uint16_t port;
    int fd;

    (void)state;
    server_start(&s);
    cfg = base_cfg(s.port);
    cfg.duration_ms = 300;
    cfg.rate = 1000;
    cfg.timeline = 1;
    assert_int_equal(pvt_load_run(&cfg, &r), 0);
    server_stop(&s);
    assert_true(r.requests > 0 && r.err_status > 0);
    check_bins(&r);
    pvt_load_result_free(&r);
    assert_null(r.bins);

    /* A fixed count, closed loop: the bins grow as the run goes. */
    memset(&s, 0, sizeof(s));
    s.fail_every = 5;
    server_start(&s);
    cfg = base_cfg(s.port);
    cfg.requests = 500;
    cfg.timeline = 1;
    assert_int_equal(pvt_load_run(&cfg, &r), 0);
    server_stop(&s);
    assert_int_equal(r.requests, 500);
    assert_int_equal(r.err_status, 100);
    check_bins(&r);
    pvt_load_result_free(&r);

    /* Nothing listens: every bin's failures are connect errors. */
    fd = listen_any(&port, 0);
    assert_true(fd >= 0);
    cfg = base_cfg(port);
    cfg.duration_ms = 100;
    cfg.timeline = 1;
    assert_int_equal(pvt_load_run(&cfg, &r), 0);
    close(fd);
    assert_int_equal(r.requests, 0);
    assert_true(r.err_connect > 0);
    check_bins(&r);
    pvt_load_result_free(&r);

    /* Without the option, no bins. */
    memset(&s, 0, sizeof(s));
    server_start(&s);
    cfg = base_cfg(s.port);
    cfg.requests = 10;
    assert_int_equal(pvt_load_run(&cfg, &r), 0);
    server_stop(&s);
    assert_null(r.bins);
    assert_int_equal(r.nbins, 0);
    pvt_load_result_free(&r);
}

#define SLOW_MS 20

/* Two streams, a fast path on 3 connections and a slow one on 1, over 2
 * threads (the second holds connections of both). */
static const struct pvt_load_stream two_streams[] = {
    {.path = "/fast", .connections = 3},
    {.path = "/slow", .connections = 1},
};

static struct pvt_load_cfg stream_cfg(uint16_t port, const struct pvt_load_stream *st, int n)
{
    struct pvt_load_cfg c = base_cfg(port);

    c.path = NULL; /* not read with streams */
    c.connections = 0;
    c.streams = st;
    c.nstreams = n;
    return c;
}

/* Starts s, runs cfg against it (its port set), and stops s. */
static void run_against(struct server *s, struct pvt_load_cfg *cfg, struct pvt_load_result *r)
{
    server_start(s);
    cfg->port = s->port;
    assert_int_equal(pvt_load_run(cfg, r), 0);
    server_stop(s);
}

/* A stream's counts: its histograms hold its responses, and no error. */
static void check_stream(const struct pvt_load_result *sr, uint64_t served)
{
    assert_int_equal(sr->requests, served);
    assert_int_equal(pvt_hist_count(sr->hist), sr->requests);
    assert_int_equal(pvt_hist_count(sr->hist_uncorrected), sr->requests);
    assert_int_equal(
        sr->err_connect + sr->err_read + sr->err_write + sr->err_timeout + sr->err_status, 0);
    assert_null(sr->streams);
}

/* Each stream's connections ask only for its path, and its result counts
 * exactly the responses to that path; the totals are the streams' sums. */
static void test_streams_apart(void **state)
{
    struct server s = {.slow_ms = SLOW_MS};
    struct pvt_load_cfg cfg;
    struct pvt_load_result r;

    (void)state;
    cfg = stream_cfg(0, two_streams, 2);
    cfg.duration_ms = 200;
    run_against(&s, &cfg, &r);
    assert_int_equal(r.nstreams, 2);
    assert_int_equal(atomic_load(&s.mixed_paths), 0);
    assert_int_equal(atomic_load(&s.fast) + atomic_load(&s.slow), atomic_load(&s.requests));
    check_stream(&r.streams[0], atomic_load(&s.fast));
    check_stream(&r.streams[1], atomic_load(&s.slow));
    assert_true(r.streams[0].requests > 0 && r.streams[1].requests > 0);
    assert_int_equal(r.requests, r.streams[0].requests + r.streams[1].requests);
    assert_int_equal(pvt_hist_count(r.hist), r.requests);
    assert_int_equal(r.streams[0].connects, 3);
    assert_int_equal(r.streams[1].connects, 1);
    assert_int_equal(r.connects, 4);
    assert_int_equal(atomic_load(&s.accepted), 4);
    /* Every /slow response waited for the server's sleep, so none of the
     * fast path's is in the slow stream's histogram (a lower bound only). */
    assert_true(pvt_hist_min(r.streams[1].hist) >= SLOW_MS * 1000);
    assert_true(r.streams[0].seconds == r.seconds);
    assert_int_equal(r.streams[1].start_ns, r.start_ns);
    pvt_load_result_free(&r);
    assert_null(r.streams);
}

/* With -n the count is over all streams together. */
static void test_streams_count(void **state)
{
    static const struct pvt_load_stream three[] = {
        {.path = "/fast", .connections = 2},
        {.path = "/", .connections = 1},
        {.path = "/fast", .connections = 1},
    };
    struct server s = {0};
    struct pvt_load_cfg cfg;
    struct pvt_load_result r;

    (void)state;
    cfg = stream_cfg(0, three, 3);
    cfg.threads = 3;
    cfg.requests = 600;
    run_against(&s, &cfg, &r);
    assert_int_equal(r.requests, 600);
    assert_int_equal(atomic_load(&s.requests), 600);
    assert_int_equal(r.nstreams, 3);
    assert_int_equal(r.streams[0].requests + r.streams[2].requests, atomic_load(&s.fast));
    assert_int_equal(r.streams[0].requests + r.streams[1].requests + r.streams[2].requests, 600);
    assert_int_equal(atomic_load(&s.mixed_paths), 0);
    pvt_load_result_free(&r);
}

/* A stream's timeline bins add up to its own counts, the totals' bins to
 * the sums; an open-loop stream sends at most rate x duration requests
 * whatever the other stream does. */
static void test_streams_open_loop_timeline(void **state)
{
    static const struct pvt_load_stream paced[] = {
        {.path = "/fast", .connections = 2, .rate = 200},
        {.path = "/slow", .connections = 1},
    };
    struct server s = {.slow_ms = SLOW_MS, .fail_every = 5};
    struct pvt_load_cfg cfg;
    struct pvt_load_result r;
    size_t i;

    (void)state;
    cfg = stream_cfg(0, paced, 2);
    cfg.duration_ms = 300;
    cfg.timeline = 1;
    run_against(&s, &cfg, &r);
    assert_int_equal(atomic_load(&s.mixed_paths), 0);
    assert_int_equal(r.streams[0].requests, atomic_load(&s.fast));
    assert_int_equal(r.streams[1].requests, atomic_load(&s.slow));
    assert_true(r.streams[0].requests <= 60); /* 200/s x 0.3 s: the stream's own schedule */
    assert_true(r.streams[1].requests >= 1);
    assert_int_equal(r.err_status, r.streams[0].err_status + r.streams[1].err_status);
    check_bins(&r);
    check_bins(&r.streams[0]);
    check_bins(&r.streams[1]);
    assert_int_equal(r.streams[0].nbins, r.nbins);
    for (i = 0; i < r.nbins; i++)
        assert_int_equal(r.bins[i].ok + r.bins[i].failed,
                         r.streams[0].bins[i].ok + r.streams[0].bins[i].failed +
                             r.streams[1].bins[i].ok + r.streams[1].bins[i].failed);
    pvt_load_result_free(&r);
}

static void test_streams_bad_config(void **state)
{
    struct pvt_load_stream st[PVT_LOAD_MAX_STREAMS + 1];
    struct pvt_load_cfg cfg;
    struct pvt_load_result r;
    int i;

    (void)state;
    for (i = 0; i <= PVT_LOAD_MAX_STREAMS; i++)
        st[i] = (struct pvt_load_stream){.path = "/", .connections = 1};
    cfg = stream_cfg(80, st, PVT_LOAD_MAX_STREAMS + 1);
    cfg.threads = 1;
    cfg.requests = 1;
    assert_int_equal(pvt_load_run(&cfg, &r), -EINVAL); /* too many streams */
    cfg.nstreams = 2;
    st[1].connections = 0;
    assert_int_equal(pvt_load_run(&cfg, &r), -EINVAL);
    st[1].connections = PVT_LOAD_MAX_CONNS; /* 10001 in all */
    assert_int_equal(pvt_load_run(&cfg, &r), -EINVAL);
    st[1].connections = 1;
    st[1].rate = -1;
    assert_int_equal(pvt_load_run(&cfg, &r), -EINVAL);
    st[1].rate = 0;
    st[1].path = "fast";
    assert_int_equal(pvt_load_run(&cfg, &r), -EINVAL);
    st[1].path = NULL;
    assert_int_equal(pvt_load_run(&cfg, &r), -EINVAL);
    st[1].path = "/";
    cfg.threads = 3; /* more than the streams' 2 connections */
    assert_int_equal(pvt_load_run(&cfg, &r), -EINVAL);
    cfg.threads = 1;
    cfg.mix_path = "/alt";
    cfg.mix_rate = 0.5;
    assert_int_equal(pvt_load_run(&cfg, &r), -EINVAL);
    cfg.mix_rate = 0;
    cfg.streams = NULL;
    assert_int_equal(pvt_load_run(&cfg, &r), -EINVAL);
    assert_null(r.streams);
}

/* A bin's percentile: exact below 16 µs, within 12.5 % above, never past max. */
static void test_bin_percentile(void **state)
{
    struct pvt__load_tl tl = {0};
    const struct pvt_load_bin *b;
    uint64_t v, p;

    (void)state;
    for (v = 1; v <= 15; v++)
        pvt__load_tl_response(&tl, 0, 1, v);
    assert_int_equal(tl.n, 1);
    b = &tl.bins[0];
    assert_int_equal(b->ok, 15);
    assert_int_equal(pvt_load_bin_percentile(b, 50), 8);
    assert_int_equal(pvt_load_bin_percentile(b, 100), 15);
    for (v = 16; v < 60000000; v = v * 3 + 1) {
        memset(&tl.bins[2], 0, sizeof(tl.bins[2]));
        pvt__load_tl_response(&tl, 2, 1, v);
        pvt__load_tl_response(&tl, 2, 0, 1);
        p = pvt_load_bin_percentile(&tl.bins[2], 99);
        assert_true(p == v); /* the max caps the bucket's edge */
        pvt__load_tl_response(&tl, 2, 1, v * 2);
        p = pvt_load_bin_percentile(&tl.bins[2], 60);
        assert_true(p >= v && (double)p <= (double)v * 1.125);
    }
    assert_int_equal(tl.n, 3);
    assert_int_equal(tl.bins[1].ok + tl.bins[1].failed, 0);
    assert_int_equal(pvt_load_bin_percentile(&tl.bins[1], 99), 0);
    pvt__load_tl_error(&tl, 9);
    assert_int_equal(tl.n, 10);
    assert_int_equal(tl.bins[9].failed, 1);
    assert_int_equal(pvt_load_bin_percentile(&tl.bins[9], 99), 0);
    free(tl.bins);
}

static void test_bad_config(void **state)
{
    struct pvt_load_cfg cfg = base_cfg(80);
    struct pvt_load_result r;

    (void)state;
    cfg.requests = 1;
    cfg.host = "10.0.0.1";
    assert_int_equal(pvt_load_run(&cfg, &r), -EINVAL);
    cfg.host = "localhost";
    assert_int_equal(pvt_load_run(&cfg, &r), -EINVAL);
    cfg.host = "128.0.0.1";
    assert_int_equal(pvt_load_run(&cfg, &r), -EINVAL);
    cfg.host = "127.1.2.3";
    cfg.duration_ms = 1000; /* both */
    assert_int_equal(pvt_load_run(&cfg, &r), -EINVAL);
    cfg.duration_ms = 0;
    cfg.requests = 0; /* neither */
    assert_int_equal(pvt_load_run(&cfg, &r), -EINVAL);
    cfg.requests = 1;
    cfg.threads = 5; /* more than connections */
    assert_int_equal(pvt_load_run(&cfg, &r), -EINVAL);
    cfg.threads = 1;
    cfg.path = "no-slash";
    assert_int_equal(pvt_load_run(&cfg, &r), -EINVAL);
    cfg.path = "/a b";
    assert_int_equal(pvt_load_run(&cfg, &r), -EINVAL);
    cfg.path = "/";
    cfg.mix_rate = 0.5; /* no mix path */
    assert_int_equal(pvt_load_run(&cfg, &r), -EINVAL);
    cfg.mix_path = "/a b";
    assert_int_equal(pvt_load_run(&cfg, &r), -EINVAL);
    cfg.mix_path = "/crash";
    cfg.mix_rate = 1.5;
    assert_int_equal(pvt_load_run(&cfg, &r), -EINVAL);
    cfg.mix_rate = -0.1;
    assert_int_equal(pvt_load_run(&cfg, &r), -EINVAL);
    cfg.mix_rate = 0;
    cfg.timeout_ms = 0;
    assert_int_equal(pvt_load_run(&cfg, &r), -EINVAL);
    assert_null(r.hist);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_closed_loop_count),
        cmocka_unit_test(test_status_errors),
        cmocka_unit_test(test_mix),
        cmocka_unit_test(test_connection_close),
        cmocka_unit_test(test_no_content_length),
        cmocka_unit_test(test_never_responds),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_open_loop_rate),
        cmocka_unit_test(test_open_loop_corrected),
        cmocka_unit_test(test_timeline_sums),
        cmocka_unit_test(test_bin_percentile),
        cmocka_unit_test(test_bad_config),
        cmocka_unit_test(test_streams_apart),
        cmocka_unit_test(test_streams_count),
        cmocka_unit_test(test_streams_open_loop_timeline),
        cmocka_unit_test(test_streams_bad_config),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
