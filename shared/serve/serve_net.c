/*
 * serve_net.c: the sockets of a serving pool: the listening sockets and the
 * rr channels (see serve.h; the hand-off over the channels is serve_rr.c's).
 *
 * DESIGN
 * Everything here is opened by the driver before the worker that uses it
 * starts (the listening sockets at open, a ring's eventfd and rr channel,
 * and a new slot's reuseport socket, in pvt_serve_net_prepare), so a forked
 * worker inherits it and a worker thread shares it. A slot's reuseport
 * socket belongs to the slot, not to a worker: the driver keeps it open
 * while workers come and go, which is why replacing a worker never closes
 * a listener (and never resets what is queued on one). What each worker
 * may use is named in its struct pvt_serve_worker (pvt_serve_net_worker):
 * the shared socket, its own reuseport socket, or its own end of an rr
 * channel. A worker process keeps only those right after fork
 * (pvt_serve_worker_keep), so that the primary's end of a channel has one
 * owner, and a worker sees the primary go as end of file.
 *
 * Trust. Every descriptor the driver closes, writes to or passes a
 * connection over is in struct pvt_serve_net, in its own memory, indexed by
 * a ring's place in the region as computed from the ring's pointer. Nothing
 * a worker can write (its ring) names a descriptor or an index the driver
 * uses; the worker's own copy of its eventfd (ring->ctl_efd) is written by
 * the driver and only read by that worker.
 */
#include "serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

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

/* ---- listening sockets ---- */

static int listen_one(const struct sockaddr_in *sa, int reuseport, int backlog)
{
    int fd, one = 1, rc;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) ||
        bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 || listen(fd, backlog) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

/*
 * A socket bound to sa without SO_REUSEPORT and not listening: it claims the
 * port (or, for port 0, picks one) for the reuseport sockets. Linux lets any
 * socket with SO_REUSEPORT join a port where all the listeners have it, so
 * without this a second server would quietly share the port with the first
 * instead of failing. The guard itself conflicts with any listener on the
 * port, but not with the sockets bound while it holds it (both have
 * SO_REUSEADDR and it never listens).
 */
static int port_guard(struct sockaddr_in *sa)
{
    socklen_t slen = sizeof(*sa);
    int fd, one = 1, rc;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 ||
        getsockname(fd, (struct sockaddr *)sa, &slen) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

int pvt_listen_open(const struct pvt_serve_cfg *cfg, int n, int *fds, int *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t slen = sizeof(sa);
    int reuseport = cfg->distribution == PVT_DIST_REUSEPORT;
    int backlog = cfg->backlog > 0 ? cfg->backlog : PVT_SERVE_BACKLOG;
    int i, fd = 0, guard = -1, count = reuseport ? n : 1;

    if (n < 1 || cfg->port < 0 || cfg->port > 65535)
        return -EINVAL;
    if (inet_pton(AF_INET, cfg->host ? cfg->host : "127.0.0.1", &sa.sin_addr) != 1)
        return -EINVAL;
    sa.sin_port = htons((uint16_t)cfg->port);
    for (i = 0; i < n; i++)
        fds[i] = -1;
    if (reuseport && (guard = port_guard(&sa)) < 0)
        return guard;
    for (i = 0; i < count; i++) {
        fd = listen_one(&sa, reuseport, backlog);
        if (fd >= 0 && i == 0 && getsockname(fd, (struct sockaddr *)&sa, &slen) < 0) {
            close(fd);
            fd = -errno;
        }
        if (fd < 0) {
            pvt_listen_close(fds, n);
            break;
        }
        fds[i] = fd; /* the first chose the port (or the guard did); the others share it */
    }
    if (guard >= 0)
        close(guard);
    if (fd < 0)
        return fd;
    *port = ntohs(sa.sin_port);
    return 0;
}

void pvt_listen_close(int *fds, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        if (fds[i] >= 0)
            close(fds[i]);
        fds[i] = -1;
    }
}

/* ---- a pool's set of sockets ---- */

void pvt_serve_net_stop(const struct pvt_serve_net *net, struct pvt_ring *r, unsigned how)
{
    uint64_t one = 1;
    int fd;

    pvt_ring_request_stop(r, how);
    if (!net->all)
        return; /* a job pool */
    fd = net->ctl[pvt__serve_ring_index(net, r)];
    if (fd >= 0)
        while (write(fd, &one, sizeof(one)) < 0 && errno == EINTR)
            ;
}

int pvt_serve_net_open(struct pvt_serve_net *net, const struct pvt_serve_cfg *cfg, int n,
                       int cap, struct pvt_ring **rings, struct pvt_ring *const *all, int scm)
{
    int i, rc;

    memset(net, 0, sizeof(*net));
    if (n < 1 || cap < n)
        return -EINVAL;
    net->cfg = *cfg;
    net->scm = scm;
    net->n = n;
    net->cap = cap;
    net->rings = rings;
    net->chan = malloc((size_t)(2 * cap) * sizeof(*net->chan));
    net->ctl = malloc((size_t)(2 * cap) * sizeof(*net->ctl));
    if (!net->chan || !net->ctl) {
        free(net->chan);
        free(net->ctl);
        return -ENOMEM;
    }
    for (i = 0; i < 2 * cap; i++) {
        all[i]->ctl_efd = -1;
        net->ctl[i] = -1;
        net->chan[i][0] = net->chan[i][1] = -1;
    }
    net->all = all;
    net->room_epfd = -1;
    net->lfds = malloc((size_t)cap * sizeof(int));
    net->roll = calloc((size_t)cap, 1);
    if (!net->lfds || !net->roll) {
        rc = -ENOMEM;
        goto fail;
    }
    for (i = 0; i < cap; i++)
        net->lfds[i] = -1;
    rc = pvt_listen_open(cfg, n, net->lfds, &net->port);
    if (rc < 0)
        goto fail;
    rc = pvt__serve_rr_open(net);
    if (rc < 0)
        goto fail;
    net->cfg.port = net->port; /* a reuseport socket added later binds the same */
    return 0;
fail:
    pvt_serve_net_close(net);
    return rc;
}

int pvt_serve_net_prepare(struct pvt_serve_net *net, int slot, struct pvt_ring *r)
{
    struct pvt_serve_gen *g = pvt_serve_net_gen(net, r);
    int k = pvt__serve_ring_index(net, r), *chan = net->chan[k];
    uint64_t v;
    int sv[2], fd;

    if (net->ctl[k] < 0) {
        net->ctl[k] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (net->ctl[k] < 0)
            return -errno;
    }
    r->ctl_efd = net->ctl[k]; /* the worker's copy; the previous worker's may be garbage */
    while (read(net->ctl[k], &v, sizeof(v)) == (ssize_t)sizeof(v))
        ; /* a stop meant for the ring's previous worker */
    if (net->cfg.distribution == PVT_DIST_RR && chan[0] < 0) {
        /* SEQPACKET: one message, one connection, never split or merged. */
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
            return -errno;
        chan[0] = sv[0];
        chan[1] = sv[1];
    }
    if (net->cfg.distribution == PVT_DIST_REUSEPORT && net->lfds[slot] < 0) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)net->port)};
        int backlog = net->cfg.backlog > 0 ? net->cfg.backlog : PVT_SERVE_BACKLOG;
        inet_pton(AF_INET, net->cfg.host ? net->cfg.host : "127.0.0.1", &sa.sin_addr);
        fd = listen_one(&sa, 1, backlog);
        if (fd < 0)
            return fd;
        net->lfds[slot] = fd;
    }
    atomic_store(&g->accepting, 0);
    atomic_store(&g->close_listen, net->scm);
    return 0;
}

void pvt_serve_net_close(struct pvt_serve_net *net)
{
    int i, fd;

    if (!net->all)
        return;
    pvt__serve_rr_close(net);
    for (i = 0; i < 2 * net->cap; i++) {
        int *chan = net->chan[i];
        /* Fd numbers still in a channel are connections no thread took. */
        while (!net->scm && chan[1] >= 0 && (fd = pvt__serve_chan_recv(chan[1], 0)) >= 0)
            close(fd);
        if (chan[0] >= 0)
            close(chan[0]);
        if (chan[1] >= 0)
            close(chan[1]);
        if (net->ctl[i] >= 0)
            close(net->ctl[i]);
        net->all[i]->ctl_efd = -1;
    }
    if (net->lfds)
        pvt_listen_close(net->lfds, net->cap);
    free(net->lfds);
    free(net->roll);
    free(net->chan);
    free(net->ctl);
    memset(net, 0, sizeof(*net));
}

void pvt_serve_net_worker(const struct pvt_serve_net *net, int slot, struct pvt_ring *r,
                          const char *backend, pid_t primary, struct pvt_serve_worker *w)
{
    enum pvt_dist dist = net->cfg.distribution;
    struct pvt_serve_gen *g = pvt_serve_net_gen(net, r);

    *w = (struct pvt_serve_worker){
        .cfg = &net->cfg,
        .backend = backend,
        .slot = slot,
        .listen_fd = dist == PVT_DIST_SHARED      ? net->lfds[0]
                     : dist == PVT_DIST_REUSEPORT ? net->lfds[slot]
                                                  : -1,
        .chan_fd = dist == PVT_DIST_RR ? pvt_serve_net_chan(net, r)[1] : -1,
        .chan_scm = net->scm,
        .ring = r,
        .gen = g,
        .rings = net->all,
        .nslots = net->cap,
        .primary = primary,
        .one_process = !net->scm,
    };
}

int pvt_serve_worker_keep(const struct pvt_serve_worker *w, int *keep)
{
    keep[0] = w->listen_fd;
    keep[1] = w->chan_fd;
    keep[2] = w->ring->ctl_efd;
    return PVT_SERVE_KEEP;
}

void pvt_serve_net_retire(struct pvt_serve_net *net, int slot)
{
    if (net->cfg.distribution == PVT_DIST_REUSEPORT && net->lfds[slot] >= 0) {
        close(net->lfds[slot]);
        net->lfds[slot] = -1;
    }
}

void pvt_serve_net_hand_over(struct pvt_serve_net *net, int slot, struct pvt_ring *r)
{
    if (net->cfg.distribution == PVT_DIST_REUSEPORT && net->lfds[slot] >= 0) {
        atomic_store(&pvt_serve_net_gen(net, r)->close_listen, 1);
        net->lfds[slot] = -1;
    }
}

/* ---- slots ---- */

int pvt_serve_restart(struct pvt_serve_net *net, int stopping, int batch)
{
    if (!net->all)
        return -EOPNOTSUPP; /* a job pool */
    if (stopping)
        return -ESHUTDOWN;
    if (batch < 1)
        return -EINVAL;
    net->roll_batch = batch;
    memset(net->roll, 1, (size_t)net->n);
    return 0;
}

int pvt_serve_scale(struct pvt_serve_net *net, int stopping, int delta,
                    int (*one)(void *arg, int up), void *arg)
{
    int k, rc = 0;

    if (!net->all)
        return -EOPNOTSUPP;
    if (stopping)
        return -ESHUTDOWN;
    if (delta == 0 || net->n + delta < 1)
        return -EINVAL;
    if (net->n + delta > net->cap)
        return -ENOSPC;
    for (k = 0; k < (delta > 0 ? delta : -delta) && rc == 0; k++)
        rc = one(arg, delta > 0);
    return k > 1 || rc == 0 ? net->n : rc;
}

void pvt_serve_net_set_slots(struct pvt_serve_net *net, int n)
{
    net->n = n;
    net->rr_next = 0;
}

int pvt_serve_offload_check(const struct pvt_serve_offload *o)
{
    if (!o->ops)
        return 0;
    if (!(o->ops->caps & PVT_CAP_POLL) || !o->ops->event_fd || !o->ops->poll ||
        o->workers < 0 || o->workers > PVT_OFFLOAD_WORKERS_MAX || o->queue < 0 ||
        o->queue > PVT_OFFLOAD_QUEUE_MAX || o->worker_timeout_ms < 0)
        return -EINVAL;
    return 0;
}

int pvt_serve_cap(const struct pvt_pool_cfg *cfg)
{
    int cap = cfg->workers;

    if (cfg->workers < 1 || cfg->workers > PVT_MAX_WORKERS ||
        (cfg->plan && cfg->plan->workers < cfg->workers) || cfg->max_workers > PVT_MAX_WORKERS)
        return -EINVAL;
    if (cfg->serve && pvt_serve_offload_check(&cfg->serve->offload) < 0)
        return -EINVAL;
    if (cfg->serve && cfg->max_workers > cap)
        cap = cfg->max_workers;
    return cap;
}

int pvt_serve_plan_sets(const struct pvt_plan *plan, int cap, cpu_set_t *sets)
{
    int i;

    if (!plan || !plan->bind || plan->workers < 1)
        return 0;
    for (i = 0; i < cap; i++)
        sets[i] = plan->sets[i % plan->workers];
    return 1;
}
