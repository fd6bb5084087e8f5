/*
 * serve.c: one worker's HTTP server (see serve.h); its sockets are
 * serve_net.c's.
 *
 * DESIGN
 * One epoll per worker, level-triggered. Its entries are the control
 * eventfd (the ring's ctl_efd: stop), where connections come from (the
 * listening socket, or the rr channel), and the connections. A connection
 * is read once per event (16 KiB at most, so one busy client cannot starve
 * the others), its bytes go to http.c, and what http.c produced is written
 * at once; only what the socket did not take waits for EPOLLOUT. While more
 * than OUT_HIGH bytes wait, the connection is not read (a client that
 * pipelines without reading cannot grow the worker's memory).
 *
 * Time. A /sleep request parks its connection in a min-heap by resume
 * time; the loop's epoll timeout is the nearest of those and the next
 * timeout sweep, which walks the connections every SWEEP_MS and closes
 * those past their deadline (serve.h says which deadline applies).
 */
#include "serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"
#include "shared/core/sup.h"
#include "shared/core/place.h"

#define READ_BUF (16 * 1024)
#define OUT_HIGH (256 * 1024)
#define SWEEP_MS 100
#define DRAIN_GRACE_MS 1000 /* draining: an idle keep-alive connection gets this long */
#define FD_SPARE 8 /* descriptors a worker process keeps free beyond its connections */
#define MAX_EVENTS 64
#define DRAIN_ROUNDS 64 /* stopping: batches taken from the queue, at most */

const char *const pvt_dist_names[] = {"shared", "reuseport", "rr"};

int pvt_dist_parse(const char *s, enum pvt_dist *out)
{
    int i;

    for (i = 0; i <= PVT_DIST_RR; i++) {
        if (strcmp(s, pvt_dist_names[i]) == 0) {
            *out = (enum pvt_dist)i;
            return 0;
        }
    }
    return -EINVAL;
}

/* ---- a worker's connections ---- */

struct conn {
    int fd;
    int idx;      /* in the worker's array */
    int heap;     /* in the sleep heap, or -1 */
    unsigned ev;  /* events registered with epoll */
    int paused;
    int closing;
    uint64_t deadline;  /* ns; 0: none (paused) */
    uint64_t resume_at; /* ns, while paused */
    struct pvt_http_conn *h;
    struct conn *next_dead; /* closed during this turn of the loop */
};

struct server {
    struct pvt_serve_worker *w;
    struct pvt_http_env env;
    struct pvt_work_ctx work;
    int epfd;
    int src_fd;        /* listen_fd or chan_fd, while taking connections */
    int src_on;        /* src_fd is in the epoll set */
    uint64_t accept_again; /* ns: accepting paused after EMFILE until then */
    int fd_room;           /* connections this worker process has descriptors for */
    struct conn **conns;
    int nconns, cap;
    struct conn **heap;
    int nheap, heapcap;
    struct conn *dead; /* freed once the turn's events are handled */
    uint64_t responses;
    uint64_t idle_ns, request_ns;
    int stopping;
    int recycling; /* max_jobs reached: ring->info.recycle_due is set */
    int drain_marked; /* every connection was told to close after its next response */
    char buf[READ_BUF];
};

/* Tags for the non-connection entries in the epoll set. */
static char tag_ctl, tag_src;

static void heap_swap(struct server *s, int a, int b)
{
    struct conn *t = s->heap[a];

    s->heap[a] = s->heap[b];
    s->heap[b] = t;
    s->heap[a]->heap = a;
    s->heap[b]->heap = b;
}

static void heap_up(struct server *s, int i)
{
    while (i > 0 && s->heap[(i - 1) / 2]->resume_at > s->heap[i]->resume_at) {
        heap_swap(s, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(struct server *s, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->nheap && s->heap[l]->resume_at < s->heap[m]->resume_at)
            m = l;
        if (r < s->nheap && s->heap[r]->resume_at < s->heap[m]->resume_at)
            m = r;
        if (m == i)
            return;
        heap_swap(s, i, m);
        i = m;
    }
}

static int heap_push(struct server *s, struct conn *c)
{
    if (s->nheap == s->heapcap) {
        int cap = s->heapcap ? 2 * s->heapcap : 64;
        struct conn **h = realloc(s->heap, (size_t)cap * sizeof(*h));
        if (!h)
            return -ENOMEM;
        s->heap = h;
        s->heapcap = cap;
    }
    c->heap = s->nheap;
    s->heap[s->nheap++] = c;
    heap_up(s, c->heap);
    return 0;
}

static void heap_remove(struct server *s, struct conn *c)
{
    int i = c->heap;

    if (i < 0)
        return;
    c->heap = -1;
    if (i != --s->nheap) {
        s->heap[i] = s->heap[s->nheap];
        s->heap[i]->heap = i;
        heap_down(s, i);
        heap_up(s, i);
    }
}

static void publish(struct server *s)
{
    atomic_store_explicit(&s->w->ring->info.requests, s->responses, memory_order_relaxed);
    atomic_store_explicit(&s->w->ring->info.conns, s->nconns, memory_order_relaxed);
}

/*
 * Close now; free at the end of the turn, since a later event of the same
 * epoll_wait may still point at it (fd -1 marks it closed). The entry is
 * taken out of the epoll set first: close() alone removes it only once every
 * descriptor of the socket is closed, and with rr the primary may still hold
 * its copy for a moment after handing the connection over, so the entry
 * would outlive the struct it points at.
 */
static void conn_close(struct server *s, struct conn *c)
{
    heap_remove(s, c);
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    s->conns[c->idx] = s->conns[--s->nconns];
    s->conns[c->idx]->idx = c->idx;
    c->next_dead = s->dead;
    s->dead = c;
}

static void free_dead(struct server *s)
{
    while (s->dead) {
        struct conn *c = s->dead;
        s->dead = c->next_dead;
        pvt_http_conn_free(c->h);
        free(c);
    }
}

static size_t out_pending(const struct conn *c)
{
    size_t len;

    pvt_http_output(c->h, &len);
    return len;
}

/* Register the events the connection's state calls for, and its deadline. */
static void conn_update(struct server *s, struct conn *c, uint64_t now)
{
    size_t out = out_pending(c);
    unsigned ev;
    struct epoll_event e;

    if (c->paused)
        ev = out ? EPOLLOUT : 0;
    else if (c->closing)
        ev = EPOLLOUT;
    else
        ev = (out > OUT_HIGH ? 0 : EPOLLIN) | (out ? EPOLLOUT : 0);
    if (ev != c->ev) {
        e.events = ev;
        e.data.ptr = c;
        epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &e);
        c->ev = ev;
    }
    if (c->paused)
        c->deadline = 0;
    else if (out || c->closing || pvt_http_mid_request(c->h))
        c->deadline = now + s->request_ns;
    else
        c->deadline = now + (s->drain_marked ? DRAIN_GRACE_MS * 1000000ull : s->idle_ns);
}

/* Write what is pending. 0, or -1 when the connection was closed. */
static int conn_flush(struct server *s, struct conn *c, uint64_t now)
{
    const char *p;
    size_t len;
    ssize_t n;

    for (;;) {
        p = pvt_http_output(c->h, &len);
        if (len == 0)
            break;
        n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            conn_close(s, c);
            return -1;
        }
        pvt_http_output_done(c->h, (size_t)n);
    }
    if (c->closing && len == 0) {
        conn_close(s, c);
        return -1;
    }
    conn_update(s, c, now);
    return 0;
}

/* Act on what http.c returned for the connection. */
static void conn_state(struct server *s, struct conn *c, int st, uint64_t now)
{
    if (st < 0 || st == PVT_HTTP_CLOSE) {
        c->closing = 1;
    } else if (st == PVT_HTTP_PAUSE) {
        c->paused = 1;
        c->resume_at = now + pvt_http_pause_ms(c->h) * 1000000u;
        if (heap_push(s, c) < 0) {
            conn_close(s, c); /* no memory to park it */
            return;
        }
    }
    conn_flush(s, c, now);
}

static void conn_read(struct server *s, struct conn *c, uint64_t now)
{
    ssize_t n;

    do
        n = recv(c->fd, s->buf, sizeof(s->buf), MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno != EAGAIN)
            conn_close(s, c);
        return;
    }
    if (n == 0) {
        conn_state(s, c, pvt_http_eof(c->h), now);
        return;
    }
    conn_state(s, c, pvt_http_feed(c->h, s->buf, (size_t)n), now);
}

static void conn_add(struct server *s, int fd, uint64_t now)
{
    struct epoll_event e = {.events = EPOLLIN};
    struct conn *c = NULL;
    int one = 1;

    if (s->nconns == s->cap) {
        int cap = s->cap ? 2 * s->cap : 64;
        struct conn **a = realloc(s->conns, (size_t)cap * sizeof(*a));
        if (!a)
            goto fail;
        s->conns = a;
        s->cap = cap;
    }
    c = calloc(1, sizeof(*c));
    if (!c || pvt_http_conn_new(&s->env, &c->h) < 0)
        goto fail;
    c->fd = fd;
    c->heap = -1;
    c->ev = EPOLLIN;
    e.data.ptr = c;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &e) < 0)
        goto fail;
    c->idx = s->nconns;
    s->conns[s->nconns++] = c;
    c->deadline = now + s->idle_ns;
    return;
fail:
    if (c)
        pvt_http_conn_free(c->h);
    free(c);
    close(fd);
}

/*
 * The connections a worker process can hold: its descriptor limit less
 * what it has open at start and a few spare. A connection passed by
 * SCM_RIGHTS to a process that has no descriptor left is dropped by the
 * kernel (MSG_CTRUNC), so a worker that is full stops reading its channel
 * until a connection closes, and the primary passes to the others or
 * holds the connection. Threads share one table with the acceptor, which
 * backs off on EMFILE itself: no limit of their own.
 */
static int fd_room(const struct pvt_serve_worker *w)
{
    struct rlimit rl;
    DIR *d;
    int open_fds = 0;

    if (w->one_process || getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY ||
        rl.rlim_cur > INT_MAX / 2 || !(d = opendir("/proc/self/fd")))
        return INT_MAX;
    while (readdir(d))
        open_fds++;
    closedir(d); /* its own descriptor, ".." and "." were counted: spare */
    open_fds = (int)rl.rlim_cur - open_fds - FD_SPARE;
    return open_fds > 0 ? open_fds : 1; /* at least one: a pause must end */
}

/* Stop taking connections for want of descriptors: for ms (0: until a
 * connection closes). */
static void src_pause(struct server *s, uint64_t now, int ms)
{
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->src_fd, NULL);
    s->src_on = 0;
    s->accept_again = now + (uint64_t)ms * 1000000u;
}

/* Whether a paused source may be taken from again. */
static int src_may_resume(const struct server *s, uint64_t now)
{
    return !s->src_on && s->src_fd >= 0 && !s->stopping && now >= s->accept_again &&
           s->nconns < s->fd_room;
}

/* Take new connections from the listening socket or the channel; how many. */
static int take_conns(struct server *s, uint64_t now)
{
    struct pvt_serve_worker *w = s->w;
    int k, fd;

    for (k = 0; k < PVT_SERVE_ACCEPT_BATCH; k++) {
        if (s->nconns >= s->fd_room) {
            src_pause(s, now, 0); /* resumes as soon as one closes */
            return k;
        }
        if (w->listen_fd >= 0) {
            fd = accept4(w->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) {
                fd = -errno;
                if (fd == -EMFILE || fd == -ENFILE || fd == -ENOBUFS || fd == -ENOMEM)
                    /* Out of descriptors: let the others take the load. */
                    src_pause(s, now, PVT_SERVE_ACCEPT_PAUSE_MS);
                return k;
            }
        } else {
            fd = pvt__serve_chan_recv(w->chan_fd, w->chan_scm);
            if (fd == -EPIPE) {
                /* The primary is gone: serve what is open, then leave. */
                s->stopping = 1;
                return k;
            }
            if (fd == -EMFILE) {
                /* Lost for want of a descriptor, despite fd_room (another
                 * descriptor was opened meanwhile): counted, never silent. */
                atomic_fetch_add(&w->ring->info.conns_lost, 1);
                src_pause(s, now, PVT_SERVE_ACCEPT_PAUSE_MS);
                return k;
            }
            if (fd < 0)
                return k;
        }
        conn_add(s, fd, now);
    }
    return k;
}

static void src_enable(struct server *s, int on)
{
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = &tag_src};

    if (s->src_fd < 0 || s->src_on == on)
        return;
    if (on) {
        /* Several workers wait on one shared socket: wake one per connection. */
        if (s->w->cfg->distribution == PVT_DIST_SHARED)
            e.events |= EPOLLEXCLUSIVE;
        if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->src_fd, &e) == 0)
            s->src_on = 1;
    } else {
        epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->src_fd, NULL);
        s->src_on = 0;
    }
}

/*
 * Stop 1 (asked, the primary gone, or recycling) drains: stop taking
 * connections, serve what was accepted or handed over, close connections
 * as they fall idle. Stop 2 closes everything. Called again every turn
 * while draining.
 */
static void on_stop(struct server *s, uint64_t now)
{
    unsigned how = atomic_load(&s->w->ring->stop);
    int i;

    if (how == 0 && !s->stopping)
        return;
    s->stopping = 1;
    if (s->src_fd >= 0) {
        /*
         * Out of the epoll set first, then take what is already queued: a
         * connection that arrives after the first step wakes another worker
         * (shared), goes to another's channel (rr), or waits on a socket a
         * replacement already accepts on (reuseport, shared), so none is
         * left behind. A bounded number of rounds: under load the queue may
         * never be empty.
         */
        src_enable(s, 0);
        for (i = 0; i < DRAIN_ROUNDS && take_conns(s, now) == PVT_SERVE_ACCEPT_BATCH; i++)
            ;
        if (s->w->listen_fd >= 0 && atomic_load(&s->w->gen->close_listen)) {
            /* With reuseport, the kernel stops hashing connections to this
             * socket once its last descriptor closes: do it now, not after
             * the drain. */
            close(s->w->listen_fd);
            s->w->listen_fd = -1;
        }
        s->src_fd = -1;
    }
    if (how >= 2) {
        for (i = s->nconns - 1; i >= 0; i--)
            conn_close(s, s->conns[i]);
        return;
    }
    if (s->drain_marked)
        return;
    /*
     * Closing an idle keep-alive connection at once races with a client
     * sending its next request into it, which then fails. So each
     * connection is told to close after its next response (which says
     * "Connection: close"), and one that stays idle is closed by the sweep
     * after DRAIN_GRACE_MS.
     */
    s->drain_marked = 1;
    for (i = 0; i < s->nconns; i++) {
        struct conn *c = s->conns[i];
        uint64_t grace = now + DRAIN_GRACE_MS * 1000000ull;
        pvt_http_close_after_next(c->h);
        if (!c->paused && !out_pending(c) && !pvt_http_mid_request(c->h) && c->deadline > grace)
            c->deadline = grace;
    }
}

/*
 * max_jobs reached: ask to be replaced, and go on serving. Draining now and
 * leaving the replacement to be forked after the exit would leave the slot
 * without a worker that accepts for as long as the drain and the fork take;
 * the driver instead starts the replacement first and stops this worker
 * once it accepts (proc_sup.c).
 */
static void recycle_check(struct server *s)
{
    uint64_t limit = s->w->ring->max_jobs;

    if (!limit || s->recycling || s->responses < limit)
        return;
    s->recycling = 1;
    atomic_store(&s->w->ring->info.recycle_due, 1);
    pvt_waker_kick(s->w->ring->waker);
}

static void sweep(struct server *s, uint64_t now)
{
    int i;

    for (i = s->nconns - 1; i >= 0; i--) {
        struct conn *c = s->conns[i];
        if (c->deadline && now >= c->deadline)
            conn_close(s, c);
    }
}

static void resume_due(struct server *s, uint64_t now)
{
    while (s->nheap > 0 && s->heap[0]->resume_at <= now) {
        struct conn *c = s->heap[0];
        heap_remove(s, c);
        c->paused = 0;
        conn_state(s, c, pvt_http_resume(c->h), now);
    }
}

static int wait_ms(const struct server *s, uint64_t now, uint64_t next_sweep)
{
    uint64_t t = UINT64_MAX;

    if (s->nconns > 0)
        t = next_sweep;
    if (s->nheap > 0 && s->heap[0]->resume_at < t)
        t = s->heap[0]->resume_at;
    if (!s->src_on && s->src_fd >= 0 && !s->stopping && s->nconns < s->fd_room &&
        s->accept_again < t)
        t = s->accept_again; /* full: a connection that closes is an event */
    if (s->w->ring->beat_ms && t > now + s->w->ring->beat_ms * 1000000ull)
        t = now + s->w->ring->beat_ms * 1000000ull; /* beat even when idle */
    if (t == UINT64_MAX)
        return -1;
    return t <= now ? 0 : (int)((t - now + 999999) / 1000000);
}

/* ---- /stats ---- */

static int stats_cb(void *arg, char *buf, size_t len)
{
    struct server *s = arg;

    publish(s);
    return pvt__serve_stats_json(s->w, buf, len);
}

/* ---- the loop ---- */

int pvt_serve_worker_run(struct pvt_serve_worker *w)
{
    struct server *s = calloc(1, sizeof(*s));
    struct epoll_event ev[MAX_EVENTS], e = {.events = EPOLLIN, .data.ptr = &tag_ctl};
    const struct pvt_serve_cfg *cfg = w->cfg;
    uint64_t now, next_sweep;
    int i, n, rc = 0;

    if (!s)
        return -ENOMEM;
    s->w = w;
    pvt_work_ctx_init(&s->work);
    s->env = (struct pvt_http_env){
        .worker = w->slot,
        .pid = atomic_load(&w->ring->info.pid),
        .work = &s->work,
        .stats_cb = stats_cb,
        .stats_arg = s,
        .responses = &s->responses,
        .allow_faults = cfg->allow_faults,
        .unbounded_routes = cfg->unbounded_routes,
    };
    s->idle_ns = (uint64_t)(cfg->idle_timeout_ms > 0 ? cfg->idle_timeout_ms
                                                     : PVT_SERVE_IDLE_TIMEOUT_MS) * 1000000u;
    s->request_ns = (uint64_t)(cfg->request_timeout_ms > 0 ? cfg->request_timeout_ms
                                                           : PVT_SERVE_REQUEST_TIMEOUT_MS) *
                    1000000u;
    s->src_fd = w->listen_fd >= 0 ? w->listen_fd : w->chan_fd;
    s->fd_room = fd_room(w);
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (s->epfd < 0 || epoll_ctl(s->epfd, EPOLL_CTL_ADD, w->ring->ctl_efd, &e) < 0) {
        rc = -errno;
        goto out;
    }
    src_enable(s, 1);
    if (!s->src_on) {
        rc = -errno;
        goto out;
    }
    atomic_store(&w->gen->accepting, 1);
    now = pvt_now_ns();
    next_sweep = now + SWEEP_MS * 1000000ull;
    on_stop(s, now); /* asked to stop before it started */

    while (!s->stopping || s->nconns > 0) {
        n = epoll_wait(s->epfd, ev, MAX_EVENTS, wait_ms(s, now, next_sweep));
        if (n < 0 && errno != EINTR) {
            rc = -errno;
            break;
        }
        now = pvt_now_ns();
        /* Before the events: a handler that never returns stops the beat. */
        if (w->ring->beat_ms)
            atomic_store_explicit(&w->ring->info.beat_ns, now, memory_order_relaxed);
        for (i = 0; i < n; i++) {
            void *p = ev[i].data.ptr;
            if (p == &tag_ctl) {
                uint64_t v;
                while (read(w->ring->ctl_efd, &v, sizeof(v)) < 0 && errno == EINTR)
                    ;
                on_stop(s, now);
            } else if (p == &tag_src) {
                if (!s->stopping)
                    take_conns(s, now);
            } else {
                struct conn *c = p;
                if (c->fd < 0)
                    continue; /* closed by an earlier event of this turn */
                if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                    if (!c->paused && !c->closing && (c->ev & EPOLLIN))
                        conn_read(s, c, now);
                    else if (ev[i].events & (EPOLLHUP | EPOLLERR))
                        conn_close(s, c);
                    else
                        conn_flush(s, c, now);
                } else if (ev[i].events & EPOLLOUT) {
                    conn_flush(s, c, now);
                }
            }
        }
        resume_due(s, now);
        if (now >= next_sweep) {
            sweep(s, now);
            next_sweep = now + SWEEP_MS * 1000000ull;
        }
        if (src_may_resume(s, now))
            src_enable(s, 1);
        recycle_check(s);
        if (s->stopping)
            on_stop(s, now); /* close what became idle */
        free_dead(s);
        publish(s);
    }

out:
    for (i = s->nconns - 1; i >= 0; i--)
        conn_close(s, s->conns[i]);
    free_dead(s);
    publish(s);
    if (s->epfd >= 0)
        close(s->epfd);
    pvt_work_ctx_fini(&s->work);
    free(s->conns);
    free(s->heap);
    free(s);
    return rc;
}
