/*
 * proc_msg.c: the process backend's messages (ops->send and ops->recv).
 *
 * DESIGN
 * Each worker of a job pool has a SOCK_SEQPACKET socketpair, made before it
 * is forked (nginx's ngx_channel): one datagram is one message, and a
 * message can neither be split nor run into the next. The primary keeps
 * both ends: its own, in its epoll set (edge-triggered, tagged
 * PVT__PROC_TAG_MSG + slot, so a message waiting for recv never turns the
 * waits of collect into a spin), and the worker's, which is only ever
 * written by pvt_proc_msg_inject (tests). A new worker keeps no end but
 * its own (pvt__proc_msg_child names it for the child preamble), so no
 * worker can write into another's channel: the socket a datagram arrives
 * on names its sender, and a header that claims another slot is rejected.
 * A respawned worker gets a new pair; what the dead one left unread is
 * dropped with its old pair.
 *
 * The ring's fast path is untouched but for one load per job of the ring's
 * `msgs` counter, on a cache line of its own: after a send the primary
 * bumps it and wakes the worker if it sleeps on the ring's futex
 * (pvt_ring_post_msg), and the worker reads its socket, without blocking,
 * between jobs. So a message waits at most for the job in progress.
 *
 * Neither side blocks on a send: the primary's send fails with -EAGAIN
 * when a worker's socket buffer is full, a worker drops a reply the
 * primary has no room for (msg.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shared/core/msg.h"
#include "proc_int.h"

int pvt__proc_msg_open(struct pvt_pool *p, int i)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET,
                             .data.u32 = PVT__PROC_TAG_MSG + (uint32_t)i};
    int sv[2], rc;

    if (p->pol.serving)
        return 0;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, sv[0], &ev) < 0) {
        rc = -errno;
        close(sv[0]);
        close(sv[1]);
        return rc;
    }
    p->s[i].mfd = sv[0];
    p->s[i].wfd = sv[1];
    return 0;
}

void pvt__proc_msg_close(struct pvt_pool *p, int i)
{
    struct proc_slot *sl = &p->s[i];

    if (sl->mfd >= 0) {
        epoll_ctl(p->epfd, EPOLL_CTL_DEL, sl->mfd, NULL);
        close(sl->mfd);
    }
    if (sl->wfd >= 0)
        close(sl->wfd);
    sl->mfd = -1;
    sl->wfd = -1;
}

static int chan_send_cb(void *arg, const void *buf, size_t n)
{
    int fd = (int)(intptr_t)arg;

    while (send(fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
        if (errno != EINTR)
            return -errno;
    return 0;
}

static int chan_recv_cb(void *arg, void *buf, size_t cap)
{
    int fd = (int)(intptr_t)arg;
    ssize_t n;

    while ((n = recv(fd, buf, cap, MSG_DONTWAIT)) < 0)
        if (errno != EINTR)
            return -errno;
    return (int)n;
}

int pvt__proc_msg_child(const struct pvt_pool *p, int slot, struct pvt_msg_chan *c, int *keep)
{
    int fd = p->s[slot].wfd;

    *keep = fd;
    if (fd < 0)
        return 0;
    *c = (struct pvt_msg_chan){.send_cb = chan_send_cb,
                               .recv_cb = chan_recv_cb,
                               .arg = (void *)(intptr_t)fd,
                               .slot = slot,
                               .ring = p->pol.r[slot]};
    return 1;
}

/* Slot i can take a message: a worker is in it (starting or ready). */
static int reachable(const struct pvt_pool *p, int i)
{
    return p->s[i].pid != 0 && p->s[i].mfd >= 0 && p->pol.d.live[i];
}

static int proc_send_one(struct pvt_pool *p, int i, const struct pvt_msg *m)
{
    unsigned char buf[PVT_MSG_WIRE_MAX];
    int n = pvt_msg_encode(m, i, buf, sizeof(buf));

    if (n < 0)
        return n;
    while (send(p->s[i].mfd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
        if (errno != EINTR)
            return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    p->msgs_sent++;
    pvt_ring_post_msg(p->pol.r[i]);
    return 1;
}

int pvt__proc_send(struct pvt_pool *p, int worker, const struct pvt_msg *m)
{
    int rc = pvt_msg_check(m), i, sent = 0;

    if (p->pol.serving)
        return -EOPNOTSUPP;
    if (rc < 0)
        return rc;
    if (worker < -1 || worker >= p->pol.n)
        return -EINVAL;
    if (p->pol.stopping)
        return -ESHUTDOWN;
    if (worker >= 0)
        return reachable(p, worker) ? proc_send_one(p, worker, m) : -EHOSTDOWN;
    for (i = 0; i < p->pol.n; i++)
        if (reachable(p, i) && proc_send_one(p, i, m) > 0)
            sent++;
    return sent ? sent : -EHOSTDOWN;
}

/* A worker that floods its channel with garbage keeps the primary reading
 * it for at most this many datagrams per look; then the others get theirs. */
#define REJECTS_PER_LOOK 64

/* Read slot i's channel until a valid message (1), nothing is left (0), or
 * REJECTS_PER_LOOK datagrams were rejected (-1: more may be waiting). */
static int take_from(struct pvt_pool *p, int i, struct pvt_msg_in *out)
{
    unsigned char buf[PVT_MSG_WIRE_MAX];
    ssize_t n;
    int rejects = 0;

    while (rejects < REJECTS_PER_LOOK) {
        n = recv(p->s[i].mfd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return 0;
        /* MSG_TRUNC: n is the datagram's size, even past the buffer. */
        if ((size_t)n > sizeof(buf) || pvt_msg_accept(buf, (size_t)n, i, out) < 0) {
            p->msgs_rejected++;
            rejects++;
            continue;
        }
        p->msgs_received++;
        return 1;
    }
    return -1;
}

int pvt__proc_recv(struct pvt_pool *p, struct pvt_msg_in *out, int timeout_ms,
                   pvt_disp_wait_cb wait)
{
    uint64_t deadline = pvt_now_ns() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms) * 1000000u;
    uint64_t now;
    int k, i, rc, more, wait_ms;

    if (p->pol.serving)
        return -EOPNOTSUPP;
    for (;;) {
        /* Start after the slot that last had one, so no worker starves. */
        for (k = 0, more = 0; k < p->pol.n; k++) {
            i = (p->msg_next + k) % p->pol.n;
            rc = p->s[i].mfd >= 0 ? take_from(p, i, out) : 0;
            if (rc > 0) {
                p->msg_next = (i + 1) % p->pol.n;
                return 1;
            }
            more |= rc < 0;
        }
        now = pvt_now_ns();
        if (timeout_ms == 0 || (timeout_ms > 0 && now >= deadline))
            return 0;
        if (more)
            continue; /* the edge was spent: look again before sleeping */
        wait_ms = timeout_ms < 0 ? -1 : (int)((deadline - now + 999999) / 1000000);
        wait(p, wait_ms);
        /* The waker is level-triggered in the set; empty it, or the wait
         * above would return at once until the next collect drained it. */
        pvt_waker_drain(p->pol.g.waker);
    }
}

int pvt_proc_msg_inject(struct pvt_pool *p, int slot, const void *buf, size_t n)
{
    if (slot < 0 || slot >= p->pol.n || p->s[slot].wfd < 0)
        return -EINVAL;
    while (send(p->s[slot].wfd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
        if (errno != EINTR)
            return -errno;
    return 0;
}

void pvt__proc_msg_stats(const struct pvt_pool *p, struct pvt_pool_stats *st)
{
    st->msgs_sent = p->msgs_sent;
    st->msgs_received = p->msgs_received;
    st->msgs_rejected = p->msgs_rejected;
}
