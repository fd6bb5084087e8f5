/*
 * load.c: the load generator engine (wrk's design, wrk2's constant rate).
 *
 * DESIGN
 * Threads: pvt_load_run starts cfg->threads threads and joins them all; each
 * owns an equal share of the connections, one epoll instance (level
 * triggered), two histograms and its counters, so nothing is shared while it
 * runs but the read-only struct run and two atomics in it: `issued` (request
 * tickets, with -n) and `abort` (set only when starting the threads failed).
 * The counters and histograms are merged after join, as wrk does; so are
 * the timelines (load_tl.c), whose bins are counted from `start`.
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
 * Open loop (rate > 0): request k of the run (k = connection + seq *
 * connections) is intended to go at start + k / rate. A connection behind
 * schedule sends at once when its previous response arrives, and its latency
 * counts from the intended time (coordinated omission corrected, as wrk2).
 */
#include <arpa/inet.h>
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
enum err_kind { E_CONNECT, E_READ, E_WRITE, E_TIMEOUT, E_STATUS, E_KINDS };


struct conn {
    int fd;
    int state;
    int has_ticket;    /* an attempt is under way */
    uint32_t events;   /* registered with epoll */
    uint64_t deadline; /* ns; see DESIGN */
    uint64_t intended; /* open loop: the intended send time of the next request */
    uint64_t sent_at;
    uint64_t seq;      /* open loop: requests scheduled so far */
    uint64_t index;    /* the connection's number in the run */
    int alt;           /* the request in flight goes to cfg->mix_path */
    size_t written;
    struct pvt_resp r;
};

struct run {
    const struct pvt_load_cfg *cfg;
    struct sockaddr_in addr;
    char req[2300], mix[2300]; /* the request, and the mix_path one */
    size_t reqlen, mixlen;
    int open;
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
    uint64_t requests, connects, mixed, err[E_KINDS];
    uint64_t rng; /* xorshift64 state: which requests go to mix_path */
    struct pvt_hist *hist, *unc;
    struct pvt__load_tl tl; /* with cfg->timeline */
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
    double k = (double)c->index + (double)c->seq * run->cfg->connections;

    return run->start + (uint64_t)(k * 1e9 / run->cfg->rate);
}

/* The timeline's bin of now: every count below goes through here or
 * count_err, so the bins add up to the totals. */
static size_t bin_of(const struct load_thread *t, uint64_t now)
{
    return now > t->run->start ? (size_t)((now - t->run->start) / (PVT_LOAD_BIN_MS * NS_PER_MS))
                               : 0;
}

static void count_err(struct load_thread *t, int kind, uint64_t now)
{
    t->err[kind]++;
    if (t->run->cfg->timeline)
        pvt__load_tl_error(&t->tl, bin_of(t, now));
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
    if (t->run->open) {
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
    count_err(t, kind, now);
    conn_close(t, c);
    end_attempt(t, c);
    c->state = C_IDLE;
    set_deadline(t, c, kind == E_CONNECT ? now + RETRY_NS : now);
}

static int take_ticket(struct run *run, const struct conn *c, uint64_t now)
{
    if (run->cfg->requests)
        return atomic_fetch_add(&run->issued, 1) < run->cfg->requests;
    return (run->open ? c->intended : now) < run->end;
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
        t->mixed += (uint64_t)c->alt;
        c->written = 0;
        c->sent_at = now;
        pvt_resp_reset(&c->r);
        set_deadline(t, c, now + run->cfg->timeout_ms * NS_PER_MS);
    }
    req = c->alt ? run->mix : run->req;
    len = c->alt ? run->mixlen : run->reqlen;
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
    if (t->run->open && c->intended > now) {
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
    t->connects++;
    set_events(t, c, EPOLLIN);
    c->state = C_READY;
    conn_next(t, c, now);
}

static void record(struct load_thread *t, struct conn *c, uint64_t now)
{
    uint64_t from = t->run->open ? c->intended : c->sent_at, lat = (now - from + 999) / 1000;
    int ok = c->r.status >= 200 && c->r.status <= 299;

    pvt_hist_record(t->hist, lat);
    pvt_hist_record(t->unc, (now - c->sent_at + 999) / 1000);
    t->requests++;
    if (!ok)
        t->err[E_STATUS]++;
    if (t->run->cfg->timeline)
        pvt__load_tl_response(&t->tl, bin_of(t, now), ok, lat);
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
        count_err(t, E_READ, now);
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

/* A path the request line can carry: '/' first, no space or control. */
static int path_ok(const char *path)
{
    const char *p;

    if (!path || path[0] != '/' || strlen(path) > 2048)
        return 0;
    for (p = path; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return 0;
    return 1;
}

static int check_cfg(const struct pvt_load_cfg *cfg, struct sockaddr_in *addr)
{
    if (!cfg || !cfg->host || !path_ok(cfg->path))
        return -EINVAL;
    if (cfg->mix_rate != 0 && (!(cfg->mix_rate > 0) || cfg->mix_rate > 1 || !path_ok(cfg->mix_path)))
        return -EINVAL;
    memset(addr, 0, sizeof(*addr));
    addr->sin_family = AF_INET;
    addr->sin_port = htons(cfg->port);
    if (inet_pton(AF_INET, cfg->host, &addr->sin_addr) != 1 ||
        (ntohl(addr->sin_addr.s_addr) >> 24) != 127 || cfg->port == 0)
        return -EINVAL;
    if (cfg->threads < 1 || cfg->threads > PVT_LOAD_MAX_THREADS ||
        cfg->connections < cfg->threads || cfg->connections > PVT_LOAD_MAX_CONNS)
        return -EINVAL;
    if ((cfg->duration_ms > 0) == (cfg->requests > 0) || cfg->timeout_ms == 0 ||
        cfg->duration_ms > 1000ull * 86400 * 365 || cfg->timeout_ms > 1000ull * 86400)
        return -EINVAL;
    if (!(cfg->rate >= 0) || cfg->rate > 1e9 || (cfg->pin && CPU_COUNT(&cfg->cpus) == 0))
        return -EINVAL;
    return 0;
}

static int setup_thread(struct run *run, struct load_thread *t, int index, int first, int n)
{
    int i, rc;

    t->run = run;
    t->index = index;
    t->rng = 0x9e3779b97f4a7c15ull * (uint64_t)(index + 1); /* never 0 */
    t->nconns = t->active = n;
    t->conns = calloc((size_t)n, sizeof(*t->conns));
    if (!t->conns)
        return -ENOMEM;
    for (i = 0; i < n; i++) {
        struct conn *c = &t->conns[i];
        c->fd = -1;
        c->state = C_IDLE;
        c->index = (uint64_t)(first + i);
    }
    if ((rc = pvt_hist_new(PVT_LOAD_HIST_HIGHEST, 3, &t->hist)) < 0 ||
        (rc = pvt_hist_new(PVT_LOAD_HIST_HIGHEST, 3, &t->unc)) < 0)
        return rc;
    /* A timed run's bins are all allocated now, none while it runs. */
    if (run->cfg->timeline && run->cfg->duration_ms &&
        (rc = pvt__load_tl_reserve(&t->tl, (size_t)((run->cfg->duration_ms +
                                                     run->cfg->timeout_ms) /
                                                    PVT_LOAD_BIN_MS) + 2)) < 0)
        return rc;
    t->ep = epoll_create1(EPOLL_CLOEXEC);
    return t->ep < 0 ? -errno : 0;
}

static void fill_lat(struct pvt_load_lat *l, const struct pvt_hist *h)
{
    l->p50 = pvt_hist_percentile(h, 50);
    l->p90 = pvt_hist_percentile(h, 90);
    l->p99 = pvt_hist_percentile(h, 99);
    l->p999 = pvt_hist_percentile(h, 99.9);
    l->mean = pvt_hist_mean(h);
    l->max = pvt_hist_max(h);
}

/* The threads' timelines into res, bins up to the end of the run. */
static int merge_timeline(struct load_thread *ts, int n, uint64_t elapsed_ns,
                          struct pvt_load_result *res)
{
    struct pvt__load_tl all = {0};
    size_t need = (size_t)(elapsed_ns / (PVT_LOAD_BIN_MS * NS_PER_MS)) + 1;
    int i, rc = pvt__load_tl_reserve(&all, need);

    for (i = 0; i < n && rc == 0; i++)
        rc = pvt__load_tl_merge(&all, &ts[i].tl);
    if (rc < 0) {
        free(all.bins);
        return rc;
    }
    res->bins = all.bins;
    res->nbins = all.n > need ? all.n : need;
    return 0;
}

static int merge(struct load_thread *ts, int n, struct pvt_load_result *res)
{
    int i, rc = 0;

    for (i = 0; i < n; i++) {
        struct load_thread *t = &ts[i];
        if (t->rc < 0 && rc == 0)
            rc = t->rc;
        res->requests += t->requests;
        res->connects += t->connects;
        res->mixed += t->mixed;
        res->err_connect += t->err[E_CONNECT];
        res->err_read += t->err[E_READ];
        res->err_write += t->err[E_WRITE];
        res->err_timeout += t->err[E_TIMEOUT];
        res->err_status += t->err[E_STATUS];
        pvt_hist_add(res->hist, t->hist);
        pvt_hist_add(res->hist_uncorrected, t->unc);
    }
    fill_lat(&res->lat, res->hist);
    fill_lat(&res->lat_uncorrected, res->hist_uncorrected);
    return rc;
}

static void free_threads(struct load_thread *ts, int n)
{
    int i;

    for (i = 0; ts && i < n; i++) {
        if (ts[i].ep >= 0)
            close(ts[i].ep);
        free(ts[i].conns);
        free(ts[i].tl.bins);
        pvt_hist_free(ts[i].hist);
        pvt_hist_free(ts[i].unc);
    }
    free(ts);
}

static void init_run(struct run *run, const struct pvt_load_cfg *cfg)
{
    run->cfg = cfg;
    run->open = cfg->rate > 0;
    run->reqlen = (size_t)snprintf(run->req, sizeof(run->req),
                                   "GET %s HTTP/1.1\r\nHost: %s:%u\r\n\r\n", cfg->path, cfg->host,
                                   (unsigned)cfg->port);
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
            if (run->open)
                c->intended = intended_at(run, c);
        }
    }
}

int pvt_load_run(const struct pvt_load_cfg *cfg, struct pvt_load_result *res)
{
    struct load_thread *ts = NULL;
    struct run run;
    uint64_t elapsed;
    int i, rc, started = 0, first = 0, n;

    if (!res)
        return -EINVAL;
    memset(res, 0, sizeof(*res));
    if ((rc = check_cfg(cfg, &run.addr)) < 0)
        return rc;
    init_run(&run, cfg);
    ts = calloc((size_t)cfg->threads, sizeof(*ts));
    if (!ts)
        return -ENOMEM;
    for (i = 0; i < cfg->threads; i++)
        ts[i].ep = -1;
    for (i = 0; i < cfg->threads; i++) {
        n = cfg->connections / cfg->threads + (i < cfg->connections % cfg->threads);
        if ((rc = setup_thread(&run, &ts[i], i, first, n)) < 0)
            goto fail;
        first += n;
    }
    if ((rc = pvt_hist_new(PVT_LOAD_HIST_HIGHEST, 3, &res->hist)) < 0 ||
        (rc = pvt_hist_new(PVT_LOAD_HIST_HIGHEST, 3, &res->hist_uncorrected)) < 0)
        goto fail;
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
    elapsed = now_ns() - run.start;
    res->seconds = (double)elapsed / 1e9;
    if ((rc = merge(ts, cfg->threads, res)) < 0)
        goto fail;
    if (cfg->timeline && (rc = merge_timeline(ts, cfg->threads, elapsed, res)) < 0)
        goto fail;
    res->requests_per_s = res->seconds > 0 ? (double)res->requests / res->seconds : 0;
    free_threads(ts, cfg->threads);
    return 0;
fail:
    free_threads(ts, cfg->threads);
    pvt_load_result_free(res);
    return rc;
}

void pvt_load_result_free(struct pvt_load_result *res)
{
    if (!res)
        return;
    pvt_hist_free(res->hist);
    pvt_hist_free(res->hist_uncorrected);
    free(res->bins);
    res->hist = res->hist_uncorrected = NULL;
    res->bins = NULL;
    res->nbins = 0;
}
