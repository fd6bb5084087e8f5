/*
 * proc_pool.c: the process backend: a primary and N forked workers.
 *
 * DESIGN
 * The primary is the thread that created the pool; there is no helper thread.
 * It maps every ring and the waker MAP_SHARED before forking, so each worker
 * inherits its own ring (ring.h) and nothing else is shared. The primary
 * supervises inside its own calls: collect and stop wait in one epoll on the
 * waker's eventfd and on a pidfd per worker, so a death is seen at once,
 * never in a signal handler.
 *
 * A death. The primary reaps the worker (waitpid on the pid its pidfd names),
 * records the exit code or signal and whether it had asked for the exit. The
 * job the worker was running, if any, is failed (ring.h says how it knows),
 * and the jobs queued behind it stay in the ring: a replacement forked into
 * the same slot, with the same CPU set, resumes at the first of them. Nothing
 * is lost and nothing waits forever: a slot that will not be refilled (a
 * worker that could not bind, or a pool made with no_respawn) has its queue
 * reported as dropped.
 *
 * Serving pools have two rings per slot, for a rolling restart or a scale
 * down: the worker being replaced drains on one while its replacement
 * serves on the other (the shared policy, pool_policy.c, decides; this
 * backend's mechanics, proc_spawn.c, carry it out); its pidfd stays in the
 * epoll set, tagged as a predecessor, until it is reaped.
 *
 * Messages (job pools) travel on a socketpair per worker, made before each
 * fork and closed at its reap (proc_msg.c).
 *
 * Ownership. The primary writes tail and stop and, only while no worker
 * serves the ring, done and running; a worker writes done, running and info.
 * Signals to workers go through pidfd_send_signal, so a recycled pid can never
 * be hit.
 *
 * Trust. A worker process can write its own ring and the waker's word, and
 * nothing else of the primary's (pvt_region_isolate, right after fork). The
 * primary acts only on its private memory: the pids and pidfds it got from
 * fork, its own record of which worker it asked to stop, the dispatcher's
 * tails and copies of the jobs (disp.h), the serving descriptors
 * (serve.h). What it reads from a ring is clamped or checked before use,
 * and a ring holding what no honest worker writes gets its worker killed
 * and replaced (proc_sup.c); docs/architecture.md lists every field.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "shared/core/disp.h"
#include "proc_int.h"

#define START_TIMEOUT_MS 10000

/* rr: keep what the primary waits on for connections in its epoll set:
 * the listening socket, room_epfd while connections are held, or nothing
 * while paused or stopping. 1 when the hand-out should run even without
 * an event (a pause may be over, or a held connection's retry is due). */
static int rr_sync(struct pvt_pool *p, int *timeout_ms)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = PVT__PROC_TAG_LISTEN};
    struct pvt_policy *pol = &p->pol;
    int fd = -1;

    if (!pol->serving || pol->net.cfg.distribution != PVT_DIST_RR)
        return 0;
    if (!pol->stopping)
        fd = pvt_serve_net_poll_fd(&pol->net, pvt_now_ns(), timeout_ms);
    if (fd != p->rr_fd) {
        if (p->rr_fd >= 0)
            epoll_ctl(p->epfd, EPOLL_CTL_DEL, p->rr_fd, NULL);
        p->rr_fd = fd >= 0 && epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? fd : -1;
    }
    return !pol->stopping && (fd < 0 || pol->net.nheld);
}

/* What is due before the wait: supervision and the rolling restart. The
 * ms until the next (-1: none). */
static int proc_due(struct pvt_pool *p)
{
    uint64_t now = pvt_now_ns();
    int due = p->pol.stopping ? -1 : pvt__proc_sup_tick(p, now);
    int roll = pvt_policy_tick(&p->pol, now);

    return roll >= 0 && (due < 0 || roll < due) ? roll : due;
}

/* Wait for the waker, a death or (rr) a connection, up to timeout_ms; reap
 * the dead, hand connections out. -EINTR if a signal ended the wait. */
static int proc_wait_mask(struct pvt_pool *p, int timeout_ms, const sigset_t *mask)
{
    struct epoll_event ev[16];
    int n, k, due, hand_out;

    /* Serving: a worker that asks to be recycled (recycle_due) or turns
     * ready kicks the waker once this is armed; the tick below looks after
     * arming, so no request is missed. The waker's eventfd is
     * level-triggered, so it is drained here when serving or stopping (a
     * job pool's kick that no collect will take): left readable, it would
     * make every wait return at once and stop spin. */
    if (p->pol.serving)
        atomic_store(p->pol.g.waker->waiting, 1);
    due = proc_due(p);
    if (due >= 0 && (timeout_ms < 0 || due < timeout_ms))
        timeout_ms = due;
    hand_out = rr_sync(p, &timeout_ms);
    n = epoll_pwait(p->epfd, ev, 16, timeout_ms, mask);
    if (n < 0)
        return -errno;
    for (k = 0; k < n; k++) {
        uint32_t tag = ev[k].data.u32;
        if (tag == PVT__PROC_TAG_LISTEN)
            hand_out = 1;
        else if (tag == PVT__PROC_TAG_WATCH)
            ; /* the caller's: supervise returns, the caller reads it */
        else if (tag >= PVT__PROC_TAG_OLD)
            pvt__proc_reap_old(p, (int)(tag - PVT__PROC_TAG_OLD));
        else if (tag >= PVT__PROC_TAG_MSG)
            ; /* a message: recv reads it */
        else if (tag == 0 && (p->pol.serving || p->pol.stopping))
            pvt_waker_drain(p->pol.g.waker); /* see above */
        else if (tag > 0)
            pvt__proc_reap(p, (int)tag - 1);
    }
    if (hand_out && !p->pol.stopping)
        pvt_serve_net_hand_out(&p->pol.net);
    return 0;
}

static int proc_wait(void *arg, int timeout_ms)
{
    int rc = proc_wait_mask(arg, timeout_ms, NULL);

    return rc == -EINTR ? 0 : rc;
}

/* ops->supervise (serving pools) and ops->collect: the wait, entered by
 * the caller. */
static int proc_supervise(struct pvt_pool *p, int timeout_ms, const sigset_t *waitmask)
{
    return p->pol.serving ? proc_wait_mask(p, timeout_ms, waitmask) : -EINVAL;
}

static int proc_collect(struct pvt_pool *p, struct pvt_result *res, int max, int timeout_ms)
{
    return pvt_disp_collect(&p->pol.d, res, max, timeout_ms, proc_wait, p);
}

/* The primary's epoll set: the waker's eventfd and every worker's pidfd, so
 * a death turns it readable as a result does. */
static int proc_event_fd(struct pvt_pool *p)
{
    return p->epfd;
}

static int proc_poll(struct pvt_pool *p, struct pvt_result *res, int max)
{
    return pvt_disp_poll(&p->pol.d, res, max, proc_wait, p);
}

static void proc_destroy(struct pvt_pool *p);

/*
 * SIGCHLD ignored, or SA_NOCLDWAIT, makes the kernel reap the workers
 * itself: waitpid would find no child and their exit status would be lost
 * (a crash reported as code 0). Both survive exec, so a parent that set
 * them hands them to pvt. The primary needs every status: SIG_IGN goes
 * back to SIG_DFL and SA_NOCLDWAIT is cleared; a handler is kept.
 */
static void sigchld_reapable(void)
{
    struct sigaction sa;

    if (sigaction(SIGCHLD, NULL, &sa) < 0)
        return;
    if (sa.sa_handler != SIG_IGN && !(sa.sa_flags & SA_NOCLDWAIT))
        return;
    if (sa.sa_handler == SIG_IGN)
        sa.sa_handler = SIG_DFL;
    sa.sa_flags &= ~SA_NOCLDWAIT;
    sigaction(SIGCHLD, &sa, NULL);
}

/* The pool's memory and its slots' records, no descriptor of its own yet
 * (epfd -1). 0 or -errno; proc_destroy frees what was made. */
static int proc_alloc(struct pvt_pool *p, const struct pvt_pool_cfg *cfg)
{
    int i, rc;

    p->epfd = -1;
    p->rr_fd = -1;
    p->respawn = !cfg->no_respawn;
    rc = pvt_policy_init(&p->pol, cfg, &pvt__proc_mech, 1);
    if (rc < 0)
        return rc;
    p->s = calloc((size_t)p->pol.cap, sizeof(*p->s));
    if (!p->s)
        return -ENOMEM;
    for (i = 0; i < p->pol.cap; i++) {
        p->s[i].pidfd = -1;
        p->s[i].old_pidfd = -1;
        p->s[i].mfd = -1;
        p->s[i].wfd = -1;
        p->s[i].last_code = -1;
    }
    return 0;
}

/* The primary's epoll set: the waker, and a serving pool's watch_fd. */
static int proc_epoll_open(struct pvt_pool *p)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 0};
    int watch = p->pol.serving ? p->pol.net.cfg.watch_fd : -1;

    p->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (p->epfd < 0 || epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->pol.g.waker->efd, &ev) < 0)
        return -errno;
    ev.data.u32 = PVT__PROC_TAG_WATCH;
    if (watch > 0 && epoll_ctl(p->epfd, EPOLL_CTL_ADD, watch, &ev) < 0)
        return -errno;
    return 0;
}

static int proc_create(const struct pvt_pool_cfg *cfg, struct pvt_pool **out)
{
    struct pvt_pool *p;
    int i, rc;

    if (pvt_serve_cap(cfg) < 0)
        return -EINVAL;
    sigchld_reapable();
    p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    rc = proc_alloc(p, cfg);
    if (rc == 0)
        rc = proc_epoll_open(p);
    /* Slots are live from the start: a worker that dies while starting is
     * replaced like any other. */
    for (i = 0; rc == 0 && i < p->pol.n; i++) {
        p->pol.d.live[i] = 1;
        rc = pvt__proc_spawn(p, i);
    }
    if (rc == 0)
        rc = pvt_disp_wait_ready(&p->pol.d, START_TIMEOUT_MS, proc_wait, p);
    if (rc < 0) {
        proc_destroy(p);
        return rc;
    }
    *out = p;
    return 0;
}

static int proc_submit(struct pvt_pool *p, const struct pvt_job *jobs, int n)
{
    return pvt_policy_submit(&p->pol, jobs, n);
}

static int proc_send(struct pvt_pool *p, int worker, const struct pvt_msg *m)
{
    if (!p->pol.serving && !p->pol.stopping)
        proc_wait(p, 0); /* reap the dead first: their channels are gone */
    return pvt__proc_send(p, worker, m);
}

static int proc_recv(struct pvt_pool *p, struct pvt_msg_in *out, int timeout_ms)
{
    return pvt__proc_recv(p, out, timeout_ms, proc_wait);
}

static int proc_restart(struct pvt_pool *p, int batch)
{
    return pvt_policy_restart(&p->pol, batch);
}

static int proc_scale(struct pvt_pool *p, int delta)
{
    return pvt_policy_scale(&p->pol, delta);
}

/* The primary's own record of slot i, into w. */
static void slot_stats(const struct proc_slot *sl, const struct pvt_policy_slot *ps,
                       uint64_t ready_ns, struct pvt_worker_stats *w)
{
    /* An empty slot has no pid, however old the ring's (retired, parked,
     * or waiting for a respawn). */
    w->pid = sl->pid;
    w->ready_ns = sl->pid ? ready_ns : 0;
    w->restarts = sl->restarts;
    w->last_exit_code = sl->last_code;
    w->last_exit_signal = sl->last_signal;
    w->last_exit_intended = sl->last_intended;
    w->parked = sl->sup.parked;
    w->recycles = ps->recycles;
    w->recycle_why = ps->repl_why;
    w->recycle_value = ps->repl_value;
    w->drained = sl->drained;
    w->drained_pid = sl->drained_pid;
    w->drained_code = sl->drained_code;
    w->drained_signal = sl->drained_signal;
    w->drained_recycled = sl->drained_recycled;
}

static int proc_stats(struct pvt_pool *p, struct pvt_pool_stats *st)
{
    int i;

    /* Reap whatever died since the last call, without waiting. */
    proc_wait(p, 0);
    pvt_waker_drain(p->pol.g.waker);
    pvt_policy_stats(&p->pol, PVT__PROC_NAME, st);
    st->deaths = p->deaths;
    pvt__proc_msg_stats(p, st);
    for (i = 0; st->w && i < p->pol.n; i++)
        slot_stats(&p->s[i], &p->pol.s[i], atomic_load(&p->pol.r[i]->info.ready_ns), &st->w[i]);
    for (i = 0; i < p->pol.n; i++)
        st->parked += p->s[i].sup.parked;
    return 0;
}

/* sig to every worker, current and draining. */
static void signal_all(struct pvt_pool *p, int sig)
{
    int i;

    for (i = 0; i < p->pol.cap; i++) {
        pvt__proc_signal(p, i, 0, sig);
        pvt__proc_signal(p, i, 1, sig);
    }
}

/* Wait until every worker is reaped or deadline (ns) passes: 0 or -ETIMEDOUT. */
static int wait_gone(struct pvt_pool *p, uint64_t deadline)
{
    uint64_t now;

    while (p->alive > 0) {
        now = pvt_now_ns();
        if (now >= deadline)
            return -ETIMEDOUT;
        proc_wait(p, (int)((deadline - now + 999999) / 1000000));
    }
    return 0;
}

static int proc_stop(struct pvt_pool *p, int deadline_ms)
{
    struct pvt_policy *pol = &p->pol;
    uint64_t deadline;
    int i, forced = 0;

    if (pol->stopping)
        return 0;
    pol->stopping = 1;
    pol->d.stopping = 1;
    /* Nobody serves the caller's descriptor until stop returns: a client
     * waiting on it would keep it readable and the wait below spinning. */
    if (pol->serving && pol->net.cfg.watch_fd > 0)
        epoll_ctl(p->epfd, EPOLL_CTL_DEL, pol->net.cfg.watch_fd, NULL);
    if (pol->serving)
        pvt_serve_net_hand_out_all(&pol->net); /* what the kernel accepted is served */
    rr_sync(p, NULL); /* what is handed over is served; nothing new is */
    for (i = 0; i < pol->n; i++) {
        if (p->s[i].respawn_at)
            pvt__proc_retire(p, i); /* in backoff: no worker will run its queue */
        p->s[i].stop_asked = 1;
    }
    pvt_policy_stop_all(pol);
    deadline = pvt_now_ns() + (uint64_t)(deadline_ms < 0 ? 0 : deadline_ms) * 1000000u;
    if (wait_gone(p, deadline) < 0) {
        /* Past the deadline: SIGTERM, and SIGKILL for whoever outlives the
         * grace (nginx's worker_shutdown_timeout, PM2's kill_timeout). */
        forced = 1;
        signal_all(p, SIGTERM);
        if (wait_gone(p, pvt_now_ns() + (uint64_t)pol->sup.kill_grace_ms * 1000000u) < 0) {
            signal_all(p, SIGKILL);
            while (p->alive > 0)
                proc_wait(p, -1);
        }
    }
    pvt_waker_drain(pol->g.waker);
    return forced ? -ETIMEDOUT : 0;
}

static void proc_destroy(struct pvt_pool *p)
{
    int i;

    if (!p)
        return;
    if (p->epfd >= 0)
        proc_stop(p, 0); /* else epoll never came up, so no worker was forked */
    for (i = 0; p->s && i < p->pol.cap; i++)
        pvt__proc_msg_close(p, i);
    if (p->epfd >= 0)
        close(p->epfd);
    pvt_policy_fini(&p->pol, 0);
    free(p->s);
    free(p);
}

const struct pvt_pool_ops pvt_proc_ops = {
    .name = PVT__PROC_NAME,
    .summary = "forked worker processes: isolated memory, a crash takes one worker",
    .caps = PVT_CAP_PROCESSES | PVT_CAP_KILL_HUNG | PVT_CAP_RECYCLE | PVT_CAP_SERVE |
            PVT_CAP_PLACEMENT | PVT_CAP_POLL,
    .create = proc_create,
    .submit = proc_submit,
    .collect = proc_collect,
    .event_fd = proc_event_fd,
    .poll = proc_poll,
    .stats = proc_stats,
    .stop = proc_stop,
    .supervise = proc_supervise,
    .restart = proc_restart,
    .scale = proc_scale,
    .send = proc_send,
    .recv = proc_recv,
    .destroy = proc_destroy,
};
