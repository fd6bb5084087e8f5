/*
 * serve.c: one worker's HTTP server (see serve.h): its loop, where its
 * connections come from, and how it stops. Its sockets are serve_net.c's,
 * the connections themselves serve_conn.c's.
 *
 * DESIGN
 * One epoll per worker, level-triggered. Its entries are the control
 * eventfd (the ring's ctl_efd: stop), where connections come from (the
 * listening socket, or the rr channel), the connections, whose events
 * serve_conn.c handles, and with offload the event descriptor of the
 * worker's own job pool (serve_offload.c), whose results are taken at the
 * end of each turn.
 *
 * Time. A /sleep request parks its connection in a min-heap by resume
 * time; the loop's epoll timeout is the nearest of those and the next
 * timeout sweep, which walks the connections every SWEEP_MS and closes
 * those past their deadline (serve.h says which deadline applies).
 */
#include "serve_int.h"

#include <errno.h>
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shared/core/sup.h"

#define SWEEP_MS 100
#define FD_SPARE 8 /* descriptors a worker process keeps free beyond its connections */
#define MAX_EVENTS 64
#define DRAIN_ROUNDS 64 /* stopping: batches taken from the queue, at most */

/* Tags for the non-connection entries in the epoll set. */
static char tag_ctl, tag_src;

static void publish(struct server *s)
{
    atomic_store_explicit(&s->w->ring->info.requests, s->responses, memory_order_relaxed);
    atomic_store_explicit(&s->w->ring->info.conns, s->nconns, memory_order_relaxed);
    pvt__serve_offload_publish(s);
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
        pvt__serve_conn_add(s, fd, now);
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
            pvt__serve_conn_close(s, s->conns[i]);
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
        if (!c->paused && !pvt__serve_out_pending(c) && !pvt_http_mid_request(c->h) &&
            c->deadline > grace)
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

static int wait_ms(const struct server *s, uint64_t now, uint64_t next_sweep)
{
    uint64_t t = UINT64_MAX;

    if (s->nconns > 0 || pvt__serve_offload_busy(s))
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

/* s for w: its timeouts, its HTTP environment, and an epoll set that holds
 * the control eventfd and where connections come from. 0 or -errno; on
 * failure server_fini still undoes what was done. */
static int server_init(struct server *s, struct pvt_serve_worker *w)
{
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = &tag_ctl};
    const struct pvt_serve_cfg *cfg = w->cfg;
    int rc;

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
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (s->epfd < 0 || epoll_ctl(s->epfd, EPOLL_CTL_ADD, w->ring->ctl_efd, &e) < 0)
        return -errno;
    /* The job pool first: its descriptors count against fd_room. */
    rc = pvt__serve_offload_init(s);
    if (rc < 0)
        return rc;
    s->fd_room = fd_room(w);
    src_enable(s, 1);
    if (!s->src_on)
        return -errno;
    return 0;
}

/* One turn's events: a stop, new connections, or a connection's. */
static void handle_events(struct server *s, const struct epoll_event *ev, int n, uint64_t now)
{
    int i;

    for (i = 0; i < n; i++) {
        void *p = ev[i].data.ptr;
        if (p == &tag_ctl) {
            uint64_t v;
            while (read(s->w->ring->ctl_efd, &v, sizeof(v)) < 0 && errno == EINTR)
                ;
            on_stop(s, now);
        } else if (p == &tag_src) {
            if (!s->stopping)
                take_conns(s, now);
        } else if (s->off && p == (void *)s->off) {
            pvt__serve_offload_event(s); /* results: taken at the end of the turn */
        } else {
            pvt__serve_conn_event(s, p, ev[i].events, now);
        }
    }
}

/* Serve until stopped and every connection is closed. 0, or epoll_wait's
 * -errno. */
static int serve(struct server *s)
{
    struct pvt_ring *ring = s->w->ring;
    struct epoll_event ev[MAX_EVENTS];
    uint64_t now = pvt_now_ns(), next_sweep = now + SWEEP_MS * 1000000ull;
    int n;

    on_stop(s, now); /* asked to stop before it started */
    while (!s->stopping || s->nconns > 0) {
        n = epoll_wait(s->epfd, ev, MAX_EVENTS, wait_ms(s, now, next_sweep));
        if (n < 0 && errno != EINTR)
            return -errno;
        now = pvt_now_ns();
        /* Before the events: a handler that never returns stops the beat. */
        if (ring->beat_ms)
            atomic_store_explicit(&ring->info.beat_ns, now, memory_order_relaxed);
        handle_events(s, ev, n, now);
        pvt__serve_resume_due(s, now);
        if (now >= next_sweep) {
            pvt__serve_sweep(s, now);
            pvt__serve_offload_tick(s);
            next_sweep = now + SWEEP_MS * 1000000ull;
        }
        /* After every handler: results answer their connections, and the
         * pool's descriptor is armed before the loop sleeps again. */
        pvt__serve_conn_jobs(s, now);
        if (src_may_resume(s, now))
            src_enable(s, 1);
        recycle_check(s);
        if (s->stopping)
            on_stop(s, now); /* close what became idle */
        pvt__serve_free_dead(s);
        publish(s);
    }
    return 0;
}

/* Close every connection, publish the last counts, and free s. */
static void server_fini(struct server *s)
{
    int i;

    for (i = s->nconns - 1; i >= 0; i--)
        pvt__serve_conn_close(s, s->conns[i]);
    pvt__serve_free_dead(s);
    publish(s);
    /* Every connection is closed: what is still out belongs to clients
     * that left (stop 2 forces it). */
    pvt__serve_offload_fini(s, atomic_load(&s->w->ring->stop) >= 2);
    if (s->epfd >= 0)
        close(s->epfd);
    pvt_work_ctx_fini(&s->work);
    free(s->conns);
    free(s->heap);
    free(s);
}

int pvt_serve_worker_run(struct pvt_serve_worker *w)
{
    struct server *s = calloc(1, sizeof(*s));
    int rc;

    if (!s)
        return -ENOMEM;
    rc = server_init(s, w);
    if (rc == 0) {
        atomic_store(&w->gen->accepting, 1);
        rc = serve(s);
    }
    server_fini(s);
    return rc;
}
