/*
 * serve_rr.c: rr, the driver's hand-out of connections to its workers (see
 * serve.h): accept, pass over each worker's channel in turn, and what
 * happens when no worker has room.
 *
 * DESIGN
 * The driver (the primary process, or the thread that drives a thread
 * pool) alone accepts on the listening socket and passes each connection
 * to the next worker that takes connections: by SCM_RIGHTS to a process,
 * as a descriptor number to a thread. A channel is a SOCK_SEQPACKET
 * socketpair, so its capacity is the socket's send buffer (about 278
 * connections on Linux with the default buffer), and a pass to a full
 * channel fails with EAGAIN.
 *
 * Overload. A connection that no worker has room for is never closed: it
 * is held by the driver (a FIFO), and while anything is held the driver
 * accepts nothing more, so the connections behind it wait in the kernel's
 * listen queue (its backlog, PVT_SERVE_BACKLOG), exactly as they wait for
 * a single busy process. The driver then waits on room_epfd, an epoll set
 * in which each channel the last pass found full is armed for EPOLLOUT
 * once (EPOLLONESHOT): the first of them with room wakes it. A channel
 * fires at most once per arming and only full ones are armed, so neither
 * a worker that stops taking connections nor a writable channel whose pass
 * fails for another reason can make the driver spin. When nothing can be armed (no worker takes connections: all are
 * starting, or in a respawn's backoff) or a pass failed for another reason
 * (too many descriptors in flight: ETOOMANYREFS), the driver tries again
 * after PVT_SERVE_RETRY_MS. Only the client's timeout can fail a
 * connection that waits; a stop with connections still held closes them,
 * counted as refused.
 *
 * Out of descriptors. accept4 failing with EMFILE, ENFILE, ENOBUFS or
 * ENOMEM leaves the connection in the listen queue, and the socket stays
 * readable: the driver stops accepting for PVT_SERVE_ACCEPT_PAUSE_MS
 * rather than spin (nginx disables accept for a moment the same way).
 * A worker process keeps a few descriptors spare and stops reading its
 * channel while it has no room for another connection (serve.c), since
 * a descriptor passed to a process that cannot receive it is dropped by
 * the kernel (MSG_CTRUNC); should that happen anyway it is counted in the
 * ring's info.conns_lost.
 *
 * Stranded connections. Connections wait in a channel until its worker
 * reads them. A worker that died and is not replaced at once (its slot is
 * in a respawn backoff, or retired), a predecessor killed before it
 * drained, or a thread the watchdog found hung, will not read them: the
 * driver, which holds both ends of every channel, takes them back
 * (pvt_serve_net_reclaim) and hands them to the others.
 */
#include "serve.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- passing one connection ---- */

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
    if (fd < 0 && (msg.msg_flags & MSG_CTRUNC))
        return -EMFILE; /* the kernel had no descriptor to give it: the connection is lost */
    return fd >= 0 ? fd : -EPROTO;
}

/* Whether the worker on r may be handed a connection. */
static int takes_conns(const struct pvt_ring *r)
{
    return atomic_load(&r->info.state) == PVT_W_READY && atomic_load(&r->stop) == 0 &&
           !atomic_load(&r->info.hung);
}

/* Pass fd on the channel of ring r. 0, or -EAGAIN with r's channel marked
 * full (room_full: the channels worth waiting on), or -errno (another
 * error: ETOOMANYREFS, too many descriptors in flight, leaves a channel
 * writable, so waiting on it would not wait) counted in *other. */
static int pass_one(struct pvt_serve_net *net, struct pvt_ring *r, int fd, int *full, int *other)
{
    int rc = pvt_serve_pass(pvt_serve_net_chan(net, r)[0], fd, net->scm);

    if (rc == -EAGAIN) {
        net->room_full[pvt_serve_net_index(net, r)] = 1;
        (*full)++;
    } else if (rc < 0) {
        *other = rc;
    }
    return rc;
}

/*
 * Give fd to the next slot in turn that takes connections, skipping one
 * that is stopping, hung or whose channel is full; else to a predecessor
 * that was not yet told to stop (its replacement is starting: a rolling
 * restart or a recycle of a pool's only worker, or of every worker at
 * once). 0 (the fd is the worker's now: the driver's copy is closed), or
 * -EAGAIN when every taker's channel is full, -EHOSTDOWN when no worker
 * takes connections, or the last error of a pass other than EAGAIN (fd is
 * still the driver's).
 */
static int pass_any(struct pvt_serve_net *net, int fd)
{
    int i, tries, rc, full = 0, other = 0;

    memset(net->room_full, 0, (size_t)(2 * net->cap));
    for (tries = 0; tries < net->n; tries++) {
        struct pvt_ring *r = net->rings[net->rr_next];
        net->rr_next = (net->rr_next + 1) % net->n;
        if (takes_conns(r) && (rc = pass_one(net, r, fd, &full, &other)) == 0)
            goto passed;
    }
    for (i = 0; i < 2 * net->cap; i++) {
        struct pvt_ring *r = net->all[i];
        if (takes_conns(r) && atomic_load(&pvt_serve_net_gen(net, r)->current) == 0 &&
            (rc = pass_one(net, r, fd, &full, &other)) == 0)
            goto passed;
    }
    return other ? other : full ? -EAGAIN : -EHOSTDOWN;
passed:
    net->handed++;
    if (net->scm)
        close(fd);
    return 0;
}

/* ---- connections held while no worker has room ---- */

static int held_push(struct pvt_serve_net *net, int fd)
{
    if (net->nheld == net->held_cap) {
        int cap = net->held_cap ? 2 * net->held_cap : 64, i;
        int *a = malloc((size_t)cap * sizeof(*a));
        if (!a)
            return -ENOMEM;
        for (i = 0; i < net->nheld; i++)
            a[i] = net->held[(net->held_head + i) % net->held_cap];
        free(net->held);
        net->held = a;
        net->held_cap = cap;
        net->held_head = 0;
    }
    net->held[(net->held_head + net->nheld) % net->held_cap] = fd;
    net->nheld++;
    return 0;
}

static int held_front(const struct pvt_serve_net *net)
{
    return net->held[net->held_head];
}

static void held_pop(struct pvt_serve_net *net)
{
    net->held_head = (net->held_head + 1) % net->held_cap;
    net->nheld--;
}

/* Hold fd until a worker has room; one that cannot be held is closed,
 * and counted. */
static void hold(struct pvt_serve_net *net, int fd)
{
    if (held_push(net, fd) < 0) {
        net->refused++;
        close(fd);
    }
}

/*
 * No worker took the connection: ask room_epfd to report the first channel
 * that was full (room_full) and has room again (EPOLLOUT, once each: a
 * channel fires at most once per arming, and only channels that were
 * full are armed, so a writable channel whose pass fails for another
 * reason can never make the driver spin). Anything else (no worker takes
 * connections, a pass that failed for another reason) is retried after
 * PVT_SERVE_RETRY_MS as well.
 */
static void wait_for_room(struct pvt_serve_net *net, int rc, uint64_t now)
{
    struct epoll_event e = {.events = EPOLLOUT | EPOLLONESHOT};
    int i, armed = 0;

    net->room_waits++;
    for (i = 0; net->room_epfd >= 0 && i < 2 * net->cap; i++) {
        const int *chan = net->chan[i];
        if (!net->room_full[i] || chan[0] < 0)
            continue;
        e.data.u32 = (uint32_t)i;
        if (epoll_ctl(net->room_epfd, net->room_added[i] ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
                      chan[0], &e) == 0) {
            net->room_added[i] = 1;
            armed++;
        }
    }
    net->room_armed = armed > 0;
    net->retry_at = rc == -EAGAIN && armed ? UINT64_MAX : now + PVT_SERVE_RETRY_MS * 1000000ull;
}

/* Take what room_epfd reported, so a channel it fired for stays quiet
 * until wait_for_room arms it again. Returns how many fired. */
static int room_consume(struct pvt_serve_net *net)
{
    struct epoll_event ev[64];
    int n, fired = 0;

    while (net->room_epfd >= 0 && (n = epoll_wait(net->room_epfd, ev, 64, 0)) > 0) {
        fired += n;
        if (n < 64)
            break;
    }
    return fired;
}

int pvt_serve_net_poll_fd(const struct pvt_serve_net *net, uint64_t now, int *timeout_ms)
{
    uint64_t until = net->nheld ? net->retry_at : net->accept_again;
    int ms;

    if (net->cfg.distribution != PVT_DIST_RR || !net->lfds || net->lfds[0] < 0)
        return -1;
    if (!net->nheld && now >= until)
        return net->lfds[0];
    if (until != UINT64_MAX) {
        ms = now >= until ? 0 : (int)((until - now + 999999) / 1000000);
        if (*timeout_ms < 0 || ms < *timeout_ms)
            *timeout_ms = ms;
    }
    return net->nheld && net->room_armed ? net->room_epfd : -1;
}

/*
 * rr: first the held connections, in order; then, while none is held,
 * accept what waits on the listening socket (up to a batch) and pass each
 * on. A connection no worker has room for is held, and accepting stops
 * until one has: the connections behind it wait in the kernel's listen
 * queue, as they would for a busy single process. None is ever closed
 * because the workers are busy. Out of descriptors (EMFILE and the like),
 * accepting pauses for PVT_SERVE_ACCEPT_PAUSE_MS instead of spinning on a
 * socket that stays readable.
 */
int pvt_serve_net_hand_out(struct pvt_serve_net *net)
{
    uint64_t now = pvt_now_ns();
    int k = 0, fd, rc;

    if (net->cfg.distribution != PVT_DIST_RR || !net->lfds || net->lfds[0] < 0)
        return 0;
    if (net->nheld) {
        if (!room_consume(net) && now < net->retry_at)
            return 0; /* nothing has room yet */
        net->room_armed = 0;
        while (net->nheld) {
            rc = pass_any(net, held_front(net));
            if (rc != 0) {
                wait_for_room(net, rc, now);
                return k;
            }
            held_pop(net);
            k++;
        }
    }
    if (now < net->accept_again)
        return k;
    for (; k < PVT_SERVE_ACCEPT_BATCH; k++) {
        fd = accept4(net->lfds[0], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                net->accept_again = now + PVT_SERVE_ACCEPT_PAUSE_MS * 1000000ull;
                net->fd_pauses++;
            }
            return k; /* EAGAIN, or an error the next readiness will repeat */
        }
        rc = pass_any(net, fd);
        if (rc != 0) {
            hold(net, fd);
            wait_for_room(net, rc, now);
            return k + 1;
        }
    }
    return k;
}

void pvt_serve_net_hand_out_all(struct pvt_serve_net *net)
{
    int k;

    for (k = 0; k < 64 && pvt_serve_net_hand_out(net) == PVT_SERVE_ACCEPT_BATCH; k++)
        ;
}

int pvt_serve_net_reclaim(struct pvt_serve_net *net, struct pvt_ring *r)
{
    const int *chan = pvt_serve_net_chan(net, r);
    int fd, k = 0;

    if (net->cfg.distribution != PVT_DIST_RR || chan[1] < 0)
        return 0;
    for (;;) {
        fd = pvt__serve_chan_recv(chan[1], net->scm);
        if (fd >= 0) {
            hold(net, fd);
            k++;
        } else if (fd == -EMFILE) {
            net->refused++; /* no descriptor to take it back with: the kernel dropped it */
        } else if (fd != -EPROTO) {
            break; /* empty (EAGAIN), or an error the next reclaim would repeat */
        }
    }
    net->reclaimed += (uint64_t)k;
    if (k)
        net->retry_at = 0; /* hand them out at the next look */
    return k;
}

int pvt__serve_rr_open(struct pvt_serve_net *net)
{
    if (net->cfg.distribution != PVT_DIST_RR)
        return 0;
    net->room_added = calloc((size_t)(2 * net->cap), 1);
    net->room_full = calloc((size_t)(2 * net->cap), 1);
    if (!net->room_added || !net->room_full)
        return -ENOMEM;
    net->room_epfd = epoll_create1(EPOLL_CLOEXEC);
    return net->room_epfd < 0 ? -errno : 0;
}

void pvt__serve_rr_close(struct pvt_serve_net *net)
{
    while (net->nheld) {
        close(held_front(net)); /* a stop with every worker full: never handed out */
        held_pop(net);
        net->refused++;
    }
    free(net->held);
    net->held = NULL;
    if (net->room_epfd >= 0)
        close(net->room_epfd);
    net->room_epfd = -1;
    free(net->room_added);
    free(net->room_full);
    net->room_added = net->room_full = NULL;
}

void pvt_serve_net_stats(const struct pvt_serve_net *net, struct pvt_pool_stats *st)
{
    int i;

    st->handed_out = net->handed;
    st->refused = net->refused;
    st->room_waits = net->room_waits;
    st->fd_pauses = net->fd_pauses;
    st->reclaimed = net->reclaimed;
    st->conns_lost = 0;
    for (i = 0; net->all && i < 2 * net->cap; i++) /* a worker's count: for display only */
        st->conns_lost += atomic_load(&net->all[i]->info.conns_lost);
}
