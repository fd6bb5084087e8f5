/*
 * serve_conn.c: a worker's connections (see serve.c for the loop that
 * drives them): reading, writing, parking and closing each one.
 *
 * DESIGN
 * Each connection belongs to one worker's loop and is touched only by it.
 * A connection is read once per event (16 KiB at most, so one busy client
 * cannot starve the others), its bytes go to http.c, and what http.c
 * produced is written at once; only what the socket did not take waits for
 * EPOLLOUT. While more than OUT_HIGH bytes wait, the connection is not read
 * (a client that pipelines without reading cannot grow the worker's
 * memory). A /sleep request parks its connection in a min-heap by resume
 * time; an offloaded request parks it until its job's result comes back
 * (serve_offload.c); each connection has a deadline (serve.h says which applies), and
 * the loop's sweep closes those past it. A closed connection is freed only
 * at the end of the turn, since a later event of the same epoll_wait may
 * still point at it.
 */
#include "serve_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define OUT_HIGH (256 * 1024)

/* ---- the sleep heap, by resume time ---- */

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

/* ---- a connection ---- */

/*
 * Close now; free at the end of the turn, since a later event of the same
 * epoll_wait may still point at it (fd -1 marks it closed). The entry is
 * taken out of the epoll set first: close() alone removes it only once every
 * descriptor of the socket is closed, and with rr the primary may still hold
 * its copy for a moment after handing the connection over, so the entry
 * would outlive the struct it points at.
 */
void pvt__serve_conn_close(struct server *s, struct conn *c)
{
    heap_remove(s, c);
    pvt__serve_offload_forget(s, c); /* a job in flight: its result is dropped */
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    s->conns[c->idx] = s->conns[--s->nconns];
    s->conns[c->idx]->idx = c->idx;
    c->next_dead = s->dead;
    s->dead = c;
}

void pvt__serve_free_dead(struct server *s)
{
    while (s->dead) {
        struct conn *c = s->dead;
        s->dead = c->next_dead;
        pvt_http_conn_free(c->h);
        free(c);
    }
}

size_t pvt__serve_out_pending(const struct conn *c)
{
    size_t len;

    pvt_http_output(c->h, &len);
    return len;
}

/* Register the events the connection's state calls for, and its deadline. */
static void conn_update(struct server *s, struct conn *c, uint64_t now)
{
    size_t out = pvt__serve_out_pending(c);
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
            pvt__serve_conn_close(s, c);
            return -1;
        }
        pvt_http_output_done(c->h, (size_t)n);
    }
    if (c->closing && len == 0) {
        pvt__serve_conn_close(s, c);
        return -1;
    }
    conn_update(s, c, now);
    return 0;
}

/* Act on what http.c returned for the connection. */
void pvt__serve_conn_state(struct server *s, struct conn *c, int st, uint64_t now)
{
    if (st == PVT_HTTP_JOB)
        st = pvt__serve_offload_submit(s, c); /* queued (paused), or 503 and on */
    if (st < 0 || st == PVT_HTTP_CLOSE) {
        c->closing = 1;
    } else if (st == PVT_HTTP_PAUSE) {
        c->paused = 1;
        c->resume_at = now + pvt_http_pause_ms(c->h) * 1000000u;
        if (heap_push(s, c) < 0) {
            pvt__serve_conn_close(s, c); /* no memory to park it */
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
            pvt__serve_conn_close(s, c);
        return;
    }
    if (n == 0) {
        pvt__serve_conn_state(s, c, pvt_http_eof(c->h), now);
        return;
    }
    pvt__serve_conn_state(s, c, pvt_http_feed(c->h, s->buf, (size_t)n), now);
}

void pvt__serve_conn_add(struct server *s, int fd, uint64_t now)
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
    c->job = -1;
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

/* Act on the epoll events of c. */
void pvt__serve_conn_event(struct server *s, struct conn *c, unsigned events, uint64_t now)
{
    if (c->fd < 0)
        return; /* closed by an earlier event of this turn */
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        if (!c->paused && !c->closing && (c->ev & EPOLLIN))
            conn_read(s, c, now);
        else if (events & (EPOLLHUP | EPOLLERR))
            pvt__serve_conn_close(s, c);
        else
            conn_flush(s, c, now);
    } else if (events & EPOLLOUT) {
        conn_flush(s, c, now);
    }
}

/* ---- deadlines and parked connections ---- */

void pvt__serve_sweep(struct server *s, uint64_t now)
{
    int i;

    for (i = s->nconns - 1; i >= 0; i--) {
        struct conn *c = s->conns[i];
        if (c->deadline && now >= c->deadline)
            pvt__serve_conn_close(s, c);
    }
}

void pvt__serve_resume_due(struct server *s, uint64_t now)
{
    while (s->nheap > 0 && s->heap[0]->resume_at <= now) {
        struct conn *c = s->heap[0];
        heap_remove(s, c);
        c->paused = 0;
        pvt__serve_conn_state(s, c, pvt_http_resume(c->h), now);
    }
}

void pvt__serve_conn_jobs(struct server *s, uint64_t now)
{
    struct pvt_result res[64]; /* results taken per poll */
    struct conn *c;
    int n, i;

    while ((n = pvt__serve_offload_poll(s, res, 64)) > 0)
        for (i = 0; i < n; i++)
            if ((c = pvt__serve_offload_take(s, &res[i])))
                pvt__serve_conn_state(s, c, pvt_http_job_done(c->h, res[i].status, res[i].value),
                                      now);
}
