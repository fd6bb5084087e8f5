/*
 * serve_net.c: the sockets of a serving pool: the listening sockets, the rr
 * channels and the hand-off over them (see serve.h).
 *
 * DESIGN
 * Everything here is opened by the driver before any worker starts, so a
 * forked worker inherits it and a worker thread shares it. What each worker
 * may use is named in its struct pvt_serve_worker (pvt_serve_net_worker):
 * the shared socket, its own reuseport socket, or its own end of an rr
 * channel. A worker process closes every other descriptor of the set right
 * after fork (pvt_serve_net_child), so that the primary's end of a channel
 * has one owner, and a worker sees the primary go as end of file.
 */
#include "serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>


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

/* ---- the rr hand-off ---- */

int pvt_serve_pass(int chan, int fd, int scm)
{
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    struct iovec iov = {.iov_base = &fd, .iov_len = sizeof(fd)};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    struct cmsghdr *cm;
    ssize_t n;

    if (scm) {
        memset(&u, 0, sizeof(u));
        msg.msg_control = u.buf;
        msg.msg_controllen = sizeof(u.buf);
        cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    }
    do
        n = sendmsg(chan, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    return 0;
}

int pvt__serve_chan_recv(int chan, int scm)
{
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    int fd = -1, num;
    struct iovec iov = {.iov_base = &num, .iov_len = sizeof(num)};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    struct cmsghdr *cm;
    ssize_t n;

    if (scm) {
        msg.msg_control = u.buf;
        msg.msg_controllen = sizeof(u.buf);
    }
    do
        n = recvmsg(chan, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    if (n == 0)
        return -EPIPE;
    if (!scm)
        return n == sizeof(num) && num >= 0 ? num : -EPROTO;
    for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
            cm->cmsg_len == CMSG_LEN(sizeof(int)))
            memcpy(&fd, CMSG_DATA(cm), sizeof(int));
    return fd >= 0 ? fd : -EPROTO;
}

void pvt_serve_hand_out(int lfd, struct pvt_ring *const *rings, const int *chans, int n,
                        int scm, int *next, uint64_t *handed, uint64_t *refused)
{
    int k, tries, fd, rc;

    for (k = 0; k < PVT_SERVE_ACCEPT_BATCH; k++) {
        fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN, or an error the next readiness will repeat */
        rc = -EHOSTDOWN;
        for (tries = 0; tries < n; tries++) {
            int i = *next;
            *next = (*next + 1) % n;
            if (atomic_load(&rings[i]->info.state) != PVT_W_READY ||
                atomic_load(&rings[i]->stop) != 0 || atomic_load(&rings[i]->info.hung))
                continue;
            rc = pvt_serve_pass(chans[i], fd, scm);
            if (rc == 0)
                break;
        }
        if (rc == 0) {
            (*handed)++;
            if (scm)
                close(fd);
        } else {
            (*refused)++;
            close(fd);
        }
    }
}

/* ---- a pool's set of sockets ---- */

static int *fd_array(int n)
{
    int *a = malloc((size_t)n * sizeof(int)), i;

    for (i = 0; a && i < n; i++)
        a[i] = -1;
    return a;
}

static void fd_array_free(int *a, int n)
{
    int i;

    for (i = 0; a && i < n; i++)
        if (a[i] >= 0)
            close(a[i]);
    free(a);
}

int pvt_serve_net_open(struct pvt_serve_net *net, const struct pvt_serve_cfg *cfg, int n,
                       struct pvt_ring *const *rings, int scm)
{
    int i, rc, sv[2];

    memset(net, 0, sizeof(*net));
    net->cfg = *cfg;
    net->scm = scm;
    net->n = n;
    net->rings = rings;
    for (i = 0; i < n; i++)
        rings[i]->ctl_efd = -1;
    net->lfds = fd_array(n);
    if (!net->lfds)
        return -ENOMEM;
    for (i = 0; i < n; i++) {
        rings[i]->ctl_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (rings[i]->ctl_efd < 0)
            goto fail_errno;
    }
    rc = pvt_listen_open(cfg, n, net->lfds, &net->port);
    if (rc < 0)
        goto fail;
    if (cfg->distribution != PVT_DIST_RR)
        return 0;
    net->chans = fd_array(n);
    net->wchans = fd_array(n);
    rc = -ENOMEM;
    if (!net->chans || !net->wchans)
        goto fail;
    for (i = 0; i < n; i++) {
        /* SEQPACKET: one message, one connection, never split or merged. */
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
            goto fail_errno;
        net->chans[i] = sv[0];
        net->wchans[i] = sv[1];
    }
    return 0;

fail_errno:
    rc = -errno;
fail:
    pvt_serve_net_close(net);
    return rc;
}

void pvt_serve_net_close(struct pvt_serve_net *net)
{
    int i, fd;

    if (!net->rings)
        return;
    /* Fd numbers still in a channel are connections no thread took. */
    for (i = 0; !net->scm && net->wchans && i < net->n; i++)
        while (net->wchans[i] >= 0 && (fd = pvt__serve_chan_recv(net->wchans[i], 0)) >= 0)
            close(fd);
    if (net->lfds)
        pvt_listen_close(net->lfds, net->n);
    free(net->lfds);
    fd_array_free(net->chans, net->n);
    fd_array_free(net->wchans, net->n);
    for (i = 0; i < net->n; i++) {
        if (net->rings[i]->ctl_efd >= 0)
            close(net->rings[i]->ctl_efd);
        net->rings[i]->ctl_efd = -1;
    }
    memset(net, 0, sizeof(*net));
}

void pvt_serve_net_worker(const struct pvt_serve_net *net, int slot, const char *backend,
                          pid_t primary, struct pvt_serve_worker *w)
{
    enum pvt_dist dist = net->cfg.distribution;

    *w = (struct pvt_serve_worker){
        .cfg = &net->cfg,
        .backend = backend,
        .slot = slot,
        .listen_fd = dist == PVT_DIST_SHARED      ? net->lfds[0]
                     : dist == PVT_DIST_REUSEPORT ? net->lfds[slot]
                                                  : -1,
        .chan_fd = dist == PVT_DIST_RR ? net->wchans[slot] : -1,
        .chan_scm = net->scm,
        .ring = net->rings[slot],
        .rings = net->rings,
        .nrings = net->n,
        .primary = primary,
        .one_process = !net->scm,
    };
}

void pvt_serve_net_child(const struct pvt_serve_net *net, int slot)
{
    enum pvt_dist dist = net->cfg.distribution;
    int i;

    for (i = 0; i < net->n; i++) {
        if (net->chans && net->chans[i] >= 0)
            close(net->chans[i]);
        if (net->wchans && i != slot && net->wchans[i] >= 0)
            close(net->wchans[i]);
        if (net->lfds[i] >= 0 &&
            (dist == PVT_DIST_RR || (dist == PVT_DIST_REUSEPORT && i != slot)))
            close(net->lfds[i]);
        if (i != slot && net->rings[i]->ctl_efd >= 0)
            close(net->rings[i]->ctl_efd);
    }
}

void pvt_serve_net_hand_out(struct pvt_serve_net *net)
{
    pvt_serve_hand_out(net->lfds[0], net->rings, net->chans, net->n, net->scm, &net->rr_next,
                       &net->handed, &net->refused);
}

void pvt_serve_net_retire(struct pvt_serve_net *net, int slot)
{
    if (net->cfg.distribution == PVT_DIST_REUSEPORT && net->lfds[slot] >= 0) {
        close(net->lfds[slot]);
        net->lfds[slot] = -1;
    }
}
