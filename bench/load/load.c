/*
 * load.c: the load generator engine (wrk's design, wrk2's constant rate).
 *
 * DESIGN
 * Threads: pvt_load_run starts cfg->threads threads and joins them all; each
 * owns an equal share of the connections, one epoll instance (level
 * triggered), and for each stream it has connections of, two histograms and
 * its counters (struct pvt__load_stats), so nothing is shared while it runs
 * but the read-only struct run and two atomics in it: `issued` (request
 * tickets, with -n, over all streams) and `abort` (set only when starting the
 * threads failed). The counters and histograms are summed after join, as wrk
 * does (load_result.c); so are the timelines (load_tl.c), whose bins are
 * counted from `start`.
 *
 * Streams: without cfg->streams, URL's path is the one stream. Connections
 * are numbered in stream order and handed out to the threads in consecutive
 * shares, so a thread holds connections of at most a few streams (threads +
 * streams - 1 pairs in all), and only those get histograms.
 *
 * A connection is a small state machine: IDLE (no socket; waiting for its
 * deadline to connect) -> CONNECTING -> READY (connected, no request in
 * flight; in the open loop waiting for the next intended send time) ->
 * WRITING -> READING -> READY again, or IDLE after "Connection: close" or an
 * error. DONE when it has nothing more to send. One request at a time per
 * connection (keep-alive, no pipelining).
 *
 * Every state but DONE has a deadline (connect or request timeout, retry or
 * send time); a thread scans its connections only when the earliest deadline
 * has passed, and every event that sets a deadline lowers next_wake, so
 * epoll_wait never sleeps past one.
 *
 * Attempts: with -n, a connection takes a ticket (one of `requests`) before
 * connecting or sending, and the attempt ends in a response or an error; so
 * the server never sees more than `requests` requests, and a server that
 * refuses or never answers still ends the run. With a duration, no request is
 * sent after it and the run ends when the requests in flight are answered or
 * time out: by duration + timeout at most, which is also the hard stop.
 *
 * Open loop (a stream's rate > 0): request k of the stream (k = connection +
 * seq * connections, both counted in the stream) is intended to go at start +
 * k / rate. A connection behind
 * schedule sends at once when its previous response arrives, and its latency
 * counts from the intended time (coordinated omission corrected, as wrk2).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "load.h"
#include "load_resp.h"

#define NS_PER_MS 1000000ull
#define RETRY_NS (10 * NS_PER_MS) /* after a failed connect */
#define NO_DEADLINE UINT64_MAX

enum conn_state { C_IDLE, C_CONNECTING, C_READY, C_WRITING, C_READING, C_DONE };
enum err_kind {
    E_CONNECT = PVT__LOAD_E_CONNECT,
    E_READ = PVT__LOAD_E_READ,
    E_WRITE = PVT__LOAD_E_WRITE,
    E_TIMEOUT = PVT__LOAD_E_TIMEOUT,
    E_STATUS = PVT__LOAD_E_STATUS,
};

struct conn {
    int fd;
    int state;
    int has_ticket;    /* an attempt is under way */
    uint32_t events;   /* registered with epoll */
    uint64_t deadline; /* ns; see DESIGN */
    uint64_t intended; /* open loop: the intended send time of the next request */
    uint64_t sent_at;
    uint64_t seq;      /* open loop: requests scheduled so far */
    uint64_t index;    /* the connection's number in its stream */
    int stream;        /* the stream it belongs to: its path, rate and stats */
    int alt;           /* the request in flight goes to cfg->mix_path */
    size_t written;
    struct pvt_resp r;
};

/* A stream as the threads read it. */
struct stream {
    int conns;
    double rate;
    int open; /* rate > 0 */
    char req[2300];
    size_t reqlen;
};

struct run {
    const struct pvt_load_cfg *cfg;
    struct sockaddr_in addr;
    struct stream st[PVT_LOAD_MAX_STREAMS];
    int nst;
    char mix[2300]; /* the mix_path request */
    size_t mixlen;
    uint64_t start, end, hard_end; /* ns; end is 0 with -n */
    atomic_uint_fast64_t issued;
    atomic_int abort;
};

struct load_thread {
    struct run *run;
    pthread_t tid;
    int index;
    int ep;
    int rc;
    struct conn *conns;
    int nconns;
    int active;
    uint64_t next_wake;
    uint64_t rng; /* xorshift64 state: which requests go to mix_path */
    struct pvt__load_stats st[PVT_LOAD_MAX_STREAMS]; /* by stream; hist NULL if none */
    char buf[65536];
};

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t intended_at(const struct run *run, const struct conn *c)
{
    const struct stream *st = &run->st[c->stream];
    double k = (double)c->index + (double)c->seq * st->conns;

    return run->start + (uint64_t)(k * 1e9 / st->rate);
}

/* The timeline's bin of now: every count below goes through here or
 * count_err, so the bins add up to the totals. */
static size_t bin_of(const struct load_thread *t, uint64_t now)
{
    return now > t->run->start ? (size_t)((now - t->run->start) / (PVT_LOAD_BIN_MS * NS_PER_MS))
                               : 0;
}

static void count_err(struct load_thread *t, const struct conn *c, int kind, uint64_t now)
{
    struct pvt__load_stats *st = &t->st[c->stream];

    st->err[kind]++;
    if (t->run->cfg->timeline)
        pvt__load_tl_error(&st->tl, bin_of(t, now));
}

static void set_deadline(struct load_thread *t, struct conn *c, uint64_t when)
{
    c->deadline = when;
    if (when < t->next_wake)
        t->next_wake = when;
}

static void conn_close(struct load_thread *t, struct conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(t->ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
    c->events = 0;
}

static void set_events(struct load_thread *t, struct conn *c, uint32_t ev)
{
    struct epoll_event e = {.events = ev, .data.ptr = c};

    if (ev != c->events && epoll_ctl(t->ep, EPOLL_CTL_MOD, c->fd, &e) == 0)
        c->events = ev;
}

/* The attempt under way is over (response or error): the next one is due. */
static void end_attempt(struct load_thread *t, struct conn *c)
{
    c->has_ticket = 0;
    if (t->run->st[c->stream].open) {
        c->seq++;
        c->intended = intended_at(t->run, c);
    }
}

static void conn_done(struct load_thread *t, struct conn *c)
{
    conn_close(t, c);
    c->has_ticket = 0;
    c->state = C_DONE;
    c->deadline = NO_DEADLINE;
    t->active--;
}

static void fail_attempt(struct load_thread *t, struct conn *c, int kind, uint64_t now)
{
    count_err(t, c, kind, now);
    conn_close(t, c);
    end_attempt(t, c);
    c->state = C_IDLE;
    set_deadline(t, c, kind == E_CONNECT ? now + RETRY_NS : now);
}

static int take_ticket(struct run *run, const struct conn *c, uint64_t now)
{
    if (run->cfg->requests)
        return atomic_fetch_add(&run->issued, 1) < run->cfg->requests;
    return (run->st[c->stream].open ? c->intended : now) < run->end;
}

static void conn_next(struct load_thread *t, struct conn *c, uint64_t now);

/* Whether the next request goes to mix_path. */
static int mix_next(struct load_thread *t)
{
    double mix = t->run->cfg->mix_rate;

    if (!(mix > 0))
        return 0;
    t->rng ^= t->rng << 13;
    t->rng ^= t->rng >> 7;
    t->rng ^= t->rng << 17;
    return (double)(t->rng >> 11) * 0x1.0p-53 < mix;
}

static void conn_send(struct load_thread *t, struct conn *c, uint64_t now)
{
    const struct run *run = t->run;
    const char *req;
    size_t len;
    ssize_t n;

    if (c->state != C_WRITING) {
        c->state = C_WRITING;
        c->alt = mix_next(t);
        t->st[c->stream].mixed += (uint64_t)c->alt;
        c->written = 0;
        c->sent_at = now;
        pvt_resp_reset(&c->r);
        set_deadline(t, c, now + run->cfg->timeout_ms * NS_PER_MS);
    }
    req = c->alt ? run->mix : run->st[c->stream].req;
    len = c->alt ? run->mixlen : run->st[c->stream].reqlen;
    while (c->written < len) {
        n = send(c->fd, req + c->written, len - c->written, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            set_events(t, c, EPOLLIN | EPOLLOUT);
            return;
        }
        if (n < 0) {
            fail_attempt(t, c, E_WRITE, now);
            return;
        }
        c->written += (size_t)n;
    }
    set_events(t, c, EPOLLIN);
    c->state = C_READING;
}

static void conn_connect(struct load_thread *t, struct conn *c, uint64_t now)
{
    struct epoll_event e = {.events = EPOLLOUT, .data.ptr = c};
    int one = 1, rc;

    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        fail_attempt(t, c, E_CONNECT, now);
        return;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    do
        rc = connect(c->fd, (const struct sockaddr *)&t->run->addr, sizeof(t->run->addr));
    while (rc < 0 && errno == EINTR);
    if ((rc < 0 && errno != EINPROGRESS) || epoll_ctl(t->ep, EPOLL_CTL_ADD, c->fd, &e) < 0) {
        fail_attempt(t, c, E_CONNECT, now);
        return;
    }
    c->events = EPOLLOUT;
    c->state = C_CONNECTING;
    set_deadline(t, c, now + t->run->cfg->timeout_ms * NS_PER_MS);
}

/* What a connection with no request in flight does next. */
static void conn_next(struct load_thread *t, struct conn *c, uint64_t now)
{
    if (!c->has_ticket) {
        if (!take_ticket(t->run, c, now)) {
            conn_done(t, c);
            return;
        }
        c->has_ticket = 1;
    }
    if (c->fd < 0) {
        conn_connect(t, c, now);
        return;
    }
    c->state = C_READY;
    if (t->run->st[c->stream].open && c->intended > now) {
        set_deadline(t, c, c->intended);
        return;
    }
    conn_send(t, c, now);
}

static void on_connected(struct load_thread *t, struct conn *c, uint64_t now)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
        fail_attempt(t, c, E_CONNECT, now);
        return;
    }
    t->st[c->stream].connects++;
    set_events(t, c, EPOLLIN);
    c->state = C_READY;
    conn_next(t, c, now);
}

static void record(struct load_thread *t, struct conn *c, uint64_t now)
{
    struct pvt__load_stats *st = &t->st[c->stream];
    uint64_t from = t->run->st[c->stream].open ? c->intended : c->sent_at;
    uint64_t lat = (now - from + 999) / 1000;
    int ok = c->r.status >= 200 && c->r.status <= 299;

    pvt_hist_record(st->hist, lat);
    pvt_hist_record(st->unc, (now - c->sent_at + 999) / 1000);
    st->requests++;
    if (!ok)
        st->err[E_STATUS]++;
    if (t->run->cfg->timeline)
        pvt__load_tl_response(&st->tl, bin_of(t, now), ok, lat);
}

static void finish_response(struct load_thread *t, struct conn *c, uint64_t now)
{
    record(t, c, now);
    end_attempt(t, c);
    if (c->r.close) {
        conn_close(t, c);
        c->state = C_IDLE;
    } else {
        c->state = C_READY;
    }
    conn_next(t, c, now);
}

static void conn_read(struct load_thread *t, struct conn *c, uint64_t now)
{
    ssize_t n;
    size_t used;
    int rc;

    for (;;) {
        n = recv(c->fd, t->buf, sizeof(t->buf), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n == 0 && c->r.state == PVT_RESP_UNTIL_EOF) {
            finish_response(t, c, now);
            return;
        }
        if (n <= 0) {
            fail_attempt(t, c, E_READ, now);
            return;
        }
        rc = pvt_resp_parse(&c->r, t->buf, (size_t)n, &used);
        if (rc < 0 || (rc == 1 && used < (size_t)n)) {
            fail_attempt(t, c, E_READ, now); /* malformed, or bytes nobody asked for */
            return;
        }
        if (rc == 1) {
            finish_response(t, c, now);
            return;
        }
    }
}

/* Readable while no request is in flight: the server closed an idle
 * keep-alive connection (reconnect, not an error) or sent unasked bytes. */
static void idle_event(struct load_thread *t, struct conn *c, uint64_t now)
{
    ssize_t n;

    do
        n = recv(c->fd, t->buf, sizeof(t->buf), 0);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (n > 0)
        count_err(t, c, E_READ, now);
    conn_close(t, c);
    c->state = C_IDLE;
    set_deadline(t, c, now);
}

static void on_event(struct load_thread *t, struct conn *c, uint32_t ev, uint64_t now)
{
    switch (c->state) {
    case C_CONNECTING:
        on_connected(t, c, now);
        break;
    case C_WRITING:
        if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            conn_send(t, c, now);
        if (c->state == C_READING && (ev & EPOLLIN))
            conn_read(t, c, now);
        break;
    case C_READING:
        conn_read(t, c, now);
        break;
    case C_READY:
        idle_event(t, c, now);
        break;
    default:
        break;
    }
}

/* Handles every connection whose deadline has passed; finds the next one. */
static void scan(struct load_thread *t, uint64_t now)
{
    uint64_t next = NO_DEADLINE;
    int i;

    t->next_wake = NO_DEADLINE;
    for (i = 0; i < t->nconns; i++) {
        struct conn *c = &t->conns[i];
        if (c->state == C_DONE)
            continue;
        if (c->deadline <= now) {
            if (c->state == C_CONNECTING)
                fail_attempt(t, c, E_CONNECT, now);
            else if (c->state == C_WRITING || c->state == C_READING)
                fail_attempt(t, c, E_TIMEOUT, now);
            else
                conn_next(t, c, now);
        }
        if (c->state != C_DONE && c->deadline < next)
            next = c->deadline;
    }
    if (next < t->next_wake)
        t->next_wake = next;
}

static int pin_self(const struct load_thread *t)
{
    const cpu_set_t *set = &t->run->cfg->cpus;
    int want = t->index % CPU_COUNT(set), cpu, rc;
    cpu_set_t one;

    for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, set) && want-- == 0)
            break;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    rc = pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
    return -rc;
}

static void *thread_main(void *arg)
{
    struct load_thread *t = arg;
    struct epoll_event evs[256];
    uint64_t now, wait;
    int i, n;

    if (t->run->cfg->pin && (t->rc = pin_self(t)) < 0)
        return NULL;
    t->next_wake = 0;
    for (;;) {
        now = now_ns();
        if (now >= t->run->hard_end || atomic_load(&t->run->abort))
            break;
        if (now >= t->next_wake)
            scan(t, now);
        if (t->active == 0)
            break;
        wait = t->next_wake < t->run->hard_end ? t->next_wake : t->run->hard_end;
        wait = wait > now ? (wait - now + NS_PER_MS - 1) / NS_PER_MS : 0;
        n = epoll_wait(t->ep, evs, 256, wait > 100 ? 100 : (int)wait);
        if (n < 0 && errno != EINTR) {
            t->rc = -errno;
            break;
        }
        now = now_ns();
        for (i = 0; i < n; i++)
            on_event(t, evs[i].data.ptr, evs[i].events, now);
    }
    for (i = 0; i < t->nconns; i++)
        conn_close(t, &t->conns[i]);
    return NULL;
}

static void set_stream(struct run *run, int i, const char *path, int conns, double rate)
{
    struct stream *st = &run->st[i];

    st->conns = conns;
    st->rate = rate;
    st->open = rate > 0;
    st->reqlen =
        (size_t)snprintf(st->req, sizeof(st->req), "GET %s HTTP/1.1\r\nHost: %s:%u\r\n\r\n", path,
                         run->cfg->host, (unsigned)run->cfg->port);
}

/* The run's streams (cfg checked): cfg->streams, or URL's path as the only one. */
static void set_streams(struct run *run)
{
    const struct pvt_load_cfg *cfg = run->cfg;
    int i;

    run->nst = cfg->nstreams ? cfg->nstreams : 1;
    if (cfg->nstreams == 0)
        set_stream(run, 0, cfg->path, cfg->connections, cfg->rate);
    for (i = 0; i < cfg->nstreams; i++)
        set_stream(run, i, cfg->streams[i].path, cfg->streams[i].connections, cfg->streams[i].rate);
}

/* The stream connection j of the run (numbered in stream order) belongs to,
 * and its number in that stream. */
static int stream_of(const struct run *run, int j, uint64_t *in)
{
    int s;

    for (s = 0; j >= run->st[s].conns; s++)
        j -= run->st[s].conns;
    *in = (uint64_t)j;
    return s;
}

static int setup_thread(struct run *run, struct load_thread *t, int index, int first, int n)
{
    const struct pvt_load_cfg *cfg = run->cfg;
    size_t bins = 0;
    int i, rc;

    t->run = run;
    t->index = index;
    t->rng = 0x9e3779b97f4a7c15ull * (uint64_t)(index + 1); /* never 0 */
    t->nconns = t->active = n;
    t->conns = calloc((size_t)n, sizeof(*t->conns));
    if (!t->conns)
        return -ENOMEM;
    /* A timed run's bins are all allocated now, none while it runs. */
    if (cfg->timeline && cfg->duration_ms)
        bins = (size_t)((cfg->duration_ms + cfg->timeout_ms) / PVT_LOAD_BIN_MS) + 2;
    for (i = 0; i < n; i++) {
        struct conn *c = &t->conns[i];
        c->fd = -1;
        c->state = C_IDLE;
        c->stream = stream_of(run, first + i, &c->index);
        if (!t->st[c->stream].hist && (rc = pvt__load_stats_init(&t->st[c->stream], bins)) < 0)
            return rc;
    }
    t->ep = epoll_create1(EPOLL_CLOEXEC);
    return t->ep < 0 ? -errno : 0;
}

/* The stats of stream s (of every stream with s < 0), from the threads that
 * have connections of it, into out; how many. */
static int gather(struct load_thread *ts, int nthreads, int nst, int s,
                  struct pvt__load_stats **out)
{
    int i, k, n = 0;

    for (i = 0; i < nthreads; i++)
        for (k = 0; k < nst; k++)
            if ((s < 0 || k == s) && ts[i].st[k].hist)
                out[n++] = &ts[i].st[k];
    return n;
}

/* The totals into res, and with cfg->streams, each stream's result. */
static int fill_results(const struct run *run, struct load_thread *ts, uint64_t elapsed,
                        struct pvt_load_result *res)
{
    const struct pvt_load_cfg *cfg = run->cfg;
    struct pvt__load_stats **st;
    int i, n, rc = 0;

    for (i = 0; i < cfg->threads; i++)
        if (ts[i].rc < 0)
            return ts[i].rc;
    st = calloc((size_t)cfg->threads * (size_t)run->nst, sizeof(*st));
    if (!st)
        return -ENOMEM;
    n = gather(ts, cfg->threads, run->nst, -1, st);
    rc = pvt__load_result_fill(res, st, n, elapsed, cfg->timeline);
    if (rc == 0 && cfg->nstreams) {
        res->streams = calloc((size_t)run->nst, sizeof(*res->streams));
        rc = res->streams ? 0 : -ENOMEM;
        res->nstreams = res->streams ? run->nst : 0;
    }
    for (i = 0; i < res->nstreams && rc == 0; i++) {
        n = gather(ts, cfg->threads, run->nst, i, st);
        res->streams[i].start_ns = res->start_ns;
        rc = pvt__load_result_fill(&res->streams[i], st, n, elapsed, cfg->timeline);
    }
    free(st);
    return rc;
}

static void free_threads(struct load_thread *ts, int n)
{
    int i, k;

    for (i = 0; ts && i < n; i++) {
        if (ts[i].ep >= 0)
            close(ts[i].ep);
        free(ts[i].conns);
        for (k = 0; k < PVT_LOAD_MAX_STREAMS; k++)
            pvt__load_stats_free(&ts[i].st[k]);
    }
    free(ts);
}

static void init_run(struct run *run, const struct pvt_load_cfg *cfg)
{
    run->cfg = cfg;
    set_streams(run);
    run->mixlen = 0;
    if (cfg->mix_rate > 0)
        run->mixlen = (size_t)snprintf(run->mix, sizeof(run->mix),
                                       "GET %s HTTP/1.1\r\nHost: %s:%u\r\n\r\n", cfg->mix_path,
                                       cfg->host, (unsigned)cfg->port);
    atomic_init(&run->issued, 0);
    atomic_init(&run->abort, 0);
}

/* The schedule starts once the set-up is done. */
static void start_clock(struct run *run, struct load_thread *ts, int nthreads)
{
    const struct pvt_load_cfg *cfg = run->cfg;
    int i, j;

    run->start = now_ns();
    run->end = cfg->duration_ms ? run->start + cfg->duration_ms * NS_PER_MS : 0;
    run->hard_end = cfg->duration_ms ? run->end + cfg->timeout_ms * NS_PER_MS : NO_DEADLINE;
    for (i = 0; i < nthreads; i++) {
        for (j = 0; j < ts[i].nconns; j++) {
            struct conn *c = &ts[i].conns[j];
            c->deadline = run->start;
            if (run->st[c->stream].open)
                c->intended = intended_at(run, c);
        }
    }
}

int pvt_load_run(const struct pvt_load_cfg *cfg, struct pvt_load_result *res)
{
    struct load_thread *ts = NULL;
    struct run run;
    int i, rc, started = 0, first = 0, n, conns;

    if (!res)
        return -EINVAL;
    memset(res, 0, sizeof(*res));
    if ((rc = pvt__load_check_cfg(cfg, &run.addr)) < 0)
        return rc;
    init_run(&run, cfg);
    conns = pvt__load_conns(cfg);
    ts = calloc((size_t)cfg->threads, sizeof(*ts));
    if (!ts)
        return -ENOMEM;
    for (i = 0; i < cfg->threads; i++)
        ts[i].ep = -1;
    for (i = 0; i < cfg->threads; i++) {
        n = conns / cfg->threads + (i < conns % cfg->threads);
        if ((rc = setup_thread(&run, &ts[i], i, first, n)) < 0)
            goto fail;
        first += n;
    }
    start_clock(&run, ts, cfg->threads);
    for (started = 0; started < cfg->threads; started++) {
        rc = pthread_create(&ts[started].tid, NULL, thread_main, &ts[started]);
        if (rc) {
            rc = -rc;
            atomic_store(&run.abort, 1);
            break;
        }
    }
    for (i = 0; i < started; i++)
        pthread_join(ts[i].tid, NULL);
    if (started < cfg->threads)
        goto fail;
    res->start_ns = run.start;
    if ((rc = fill_results(&run, ts, now_ns() - run.start, res)) < 0)
        goto fail;
    free_threads(ts, cfg->threads);
    return 0;
fail:
    free_threads(ts, cfg->threads);
    pvt_load_result_free(res);
    return rc;
}
