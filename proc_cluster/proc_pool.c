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
 * serves on the other (proc_roll.c); its pidfd stays in the epoll set,
 * tagged as a predecessor, until it is reaped.
 *
 * Messages (job pools) travel on a socketpair per worker, made before each
 * fork and closed at its reap (proc_msg.c).
 *
 * Descriptors. A new worker keeps only what it uses (proc_worker.c): whatever
 * else the primary held at the fork, a control client it was answering or
 * another pool's sockets, would stay open in the worker for its whole life.
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
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shared/core/disp.h"
#include "proc_int.h"

#define START_TIMEOUT_MS 10000

static int sys_pidfd_open(pid_t pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int pidfd_signal(int pidfd, int sig)
{
    if (pidfd < 0)
        return -ESRCH;
    if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
        return -errno;
    return 0;
}

int pvt__proc_signal(struct pvt_pool *p, int i, int sig)
{
    return pidfd_signal(p->s[i].pidfd, sig);
}

int pvt__proc_signal_old(struct pvt_pool *p, int i, int sig)
{
    return pidfd_signal(p->s[i].old_pidfd, sig);
}

/* Fork a worker into slot i. 0 or -errno; the slot stays empty on failure. */
int pvt__proc_spawn(struct pvt_pool *p, int i)
{
    struct pvt_ring *r = p->r[i];
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i + 1};
    pid_t primary = getpid(), pid;
    int fd, rc;

    atomic_store(&r->info.state, PVT_W_STARTING);
    atomic_store(&r->info.pid, 0);
    atomic_store(&r->info.bind_err, 0);
    atomic_store(&r->stop, 0);
    atomic_store(&r->info.beat_ns, 0);
    atomic_store(&r->info.hung, 0);
    atomic_store(&r->info.recycle_due, 0);
    r->beat_ms = pvt_sup_beat_ms(&p->sup);
    p->s[i].job_limit = pvt_sup_job_limit(&p->sup, &p->seed);
    r->max_jobs = p->s[i].job_limit;
    p->s[i].term_at = 0;
    p->s[i].recycling = 0;
    p->s[i].stop_asked = 0;
    p->s[i].killed_corrupt = 0;
    /* A replacement resumes at the first job that has no result, with the
     * queue as the primary made it, whatever its predecessor wrote. */
    r->depth = p->d.depth;
    r->mask = p->d.mask;
    r->shared = 1;
    r->slot_index = pvt_region_index(&p->g, r);
    r->waker = p->g.waker;
    if (!p->serving)
        r->ctl_efd = -1; /* a serving ring's is set by pvt_serve_net_prepare */
    pvt_disp_ring_reset(&p->d, i);
    p->s[i].job_base = pvt__proc_ring_done(p, i);
    if (p->serving) {
        rc = pvt_serve_net_prepare(&p->net, i, r);
        if (rc < 0) {
            atomic_store(&r->info.state, PVT_W_EMPTY);
            return rc;
        }
        atomic_store(&pvt_serve_net_gen(&p->net, r)->current, 1);
    }
    rc = pvt__proc_msg_open(p, i);
    if (rc < 0) {
        atomic_store(&r->info.state, PVT_W_EMPTY);
        return rc;
    }

    pid = fork();
    if (pid < 0) {
        rc = -errno;
        pvt__proc_msg_close(p, i);
        atomic_store(&r->info.state, PVT_W_EMPTY);
        return rc;
    }
    if (pid == 0)
        pvt__proc_worker_child(p, i, primary); /* never returns (proc_worker.c) */

    fd = sys_pidfd_open(pid);
    if (fd < 0 || epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        /* Without a pidfd the primary could not see this worker die. */
        rc = -errno;
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        if (fd >= 0)
            close(fd);
        pvt__proc_msg_close(p, i);
        atomic_store(&r->info.state, PVT_W_EMPTY);
        return rc;
    }
    p->s[i].pid = pid;
    p->s[i].pidfd = fd;
    p->alive++;
    return 0;
}

/* Slot i's worker has exited: reap it, settle its jobs, refill the slot. */
static void reap(struct pvt_pool *p, int i)
{
    struct proc_slot *sl = &p->s[i];
    struct pvt_ring *r = p->r[i];
    int status = 0, intended, recycled, delay;
    uint64_t done, running;

    if (sl->pid == 0)
        return; /* a stale event: never waitpid(0), it would take another child */
    while (waitpid(sl->pid, &status, 0) < 0 && errno == EINTR)
        ;
    epoll_ctl(p->epfd, EPOLL_CTL_DEL, sl->pidfd, NULL);
    close(sl->pidfd);
    sl->pidfd = -1;
    sl->pid = 0;
    p->alive--;
    pvt__proc_msg_close(p, i); /* what it left unread goes with it */
    atomic_store(&r->info.died_ns, pvt_now_ns());
    /* Its pid may be another process's soon, and it holds no connection:
     * /stats and ctl status show no pid until a replacement says its own. */
    atomic_store(&r->info.pid, 0);
    atomic_store(&r->info.conns, 0);

    /* Whatever replaces it now is no recycle of a serving worker. */
    sl->recycle_why = sl->repl_why = PVT_RECYCLE_NONE;
    recycled = pvt__proc_recycled(p, i, status);
    intended = p->stopping || (sl->stop_asked && !recycled);
    sl->last_intended = intended || recycled;
    sl->last_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    sl->last_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    atomic_store(&r->info.state, PVT_W_EXITED);
    if (!intended && !recycled)
        p->deaths++;

    /* done clamped to what was queued; running only compared with it. */
    done = pvt_disp_done(&p->d, i);
    running = atomic_load(&r->running);
    if (running == done + 1)
        pvt_disp_fail_next(&p->d, i, PVT_JOB_FAILED);

    if (intended)
        goto retire;
    if (recycled) {
        sl->sup.recycles++;
        p->recycles++;
        if (pvt__proc_respawn(p, i) == 0)
            return;
        goto retire;
    }
    if (!p->respawn || sl->last_code == PVT_WEXIT_CONFIG)
        goto retire;
    delay = pvt_sup_on_death(&p->sup, &sl->sup, pvt_now_ns());
    if (delay > 0) {
        /* Backoff: the slot stays live and its queue waits for the worker
         * pvt__proc_sup_tick forks then; connections do not wait that long
         * in its channel, another worker takes them. */
        sl->respawn_at = pvt_now_ns() + (uint64_t)delay * 1000000u;
        if (p->serving)
            pvt_serve_net_reclaim(&p->net, r);
        return;
    }
    if (delay == 0 && pvt__proc_respawn(p, i) == 0)
        return;
retire:
    pvt__proc_retire(p, i);
}

void pvt__proc_ask_stop(struct pvt_pool *p, int i, unsigned how)
{
    p->s[i].stop_asked = 1;
    pvt_serve_net_stop(&p->net, p->r[i], how);
}

int pvt__proc_respawn(struct pvt_pool *p, int i)
{
    struct proc_slot *sl = &p->s[i];
    struct pvt_ring *r = p->r[i];

    atomic_store(&r->info.restarts, sl->restarts + 1);
    if (pvt__proc_spawn(p, i) == 0) {
        sl->restarts++;
        return 0;
    }
    atomic_store(&r->info.restarts, sl->restarts);
    return -1;
}

void pvt__proc_retire(struct pvt_pool *p, int i)
{
    /* A predecessor kept serving while its replacement came up: with no
     * replacement coming, it drains now. */
    if (p->s[i].old_pid && !p->s[i].old_told)
        pvt__proc_tell_old(p, i);
    if (p->serving)
        p->net.roll[i] = 0;
    p->s[i].recycle_why = PVT_RECYCLE_NONE;
    p->s[i].respawn_at = 0;
    p->d.live[i] = 0;
    pvt_disp_drop_queued(&p->d, i);
    if (p->serving && !p->s[i].pid)
        pvt_serve_net_reclaim(&p->net, p->r[i]); /* no worker will read its channel */
    if (p->serving && !p->stopping)
        pvt_serve_net_retire(&p->net, i);
}

/* rr: keep what the primary waits on for connections in its epoll set:
 * the listening socket, room_epfd while connections are held, or nothing
 * while paused or stopping. 1 when the hand-out should run even without
 * an event (a pause may be over, or a held connection's retry is due). */
static int rr_sync(struct pvt_pool *p, int *timeout_ms)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = PVT__PROC_TAG_LISTEN};
    int fd = -1;

    if (!p->serving || p->net.cfg.distribution != PVT_DIST_RR)
        return 0;
    if (!p->stopping)
        fd = pvt_serve_net_poll_fd(&p->net, pvt_now_ns(), timeout_ms);
    if (fd != p->rr_fd) {
        if (p->rr_fd >= 0)
            epoll_ctl(p->epfd, EPOLL_CTL_DEL, p->rr_fd, NULL);
        p->rr_fd = fd >= 0 && epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? fd : -1;
    }
    return !p->stopping && (fd < 0 || p->net.nheld);
}

/* Wait for the waker, a death or (rr) a connection, up to timeout_ms; reap
 * the dead, hand connections out. -EINTR if a signal ended the wait. */
static int proc_wait_mask(struct pvt_pool *p, int timeout_ms, const sigset_t *mask)
{
    struct epoll_event ev[16];
    int n, k, due, roll, hand_out;

    /* Serving: a worker that asks to be recycled (recycle_due) or turns
     * ready kicks the waker once this is armed; the tick below looks after
     * arming, so no request is missed. The waker's eventfd is
     * level-triggered, so it is drained here when serving or stopping (a
     * job pool's kick that no collect will take): left readable, it would
     * make every wait return at once and stop spin. */
    if (p->serving)
        atomic_store(p->g.waker->waiting, 1);
    due = p->stopping ? -1 : pvt__proc_sup_tick(p, pvt_now_ns());
    roll = pvt__proc_roll_tick(p);
    if (roll >= 0 && (due < 0 || roll < due))
        due = roll;
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
        else if (ev[k].data.u32 == 0 && (p->serving || p->stopping))
            pvt_waker_drain(p->g.waker); /* see below */
        else if (ev[k].data.u32 > 0)
            reap(p, (int)ev[k].data.u32 - 1);
    }
    if (hand_out && !p->stopping)
        pvt_serve_net_hand_out(&p->net);
    return 0;
}

static int proc_wait(void *arg, int timeout_ms)
{
    int rc = proc_wait_mask(arg, timeout_ms, NULL);

    return rc == -EINTR ? 0 : rc;
}

int pvt__proc_wait(struct pvt_pool *p, int timeout_ms)
{
    return proc_wait(p, timeout_ms);
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

static int proc_create(const struct pvt_pool_cfg *cfg, struct pvt_pool **out)
{
    struct pvt_pool *p;
    uint32_t depth = cfg->queue_depth ? cfg->queue_depth : PVT_RING_DEFAULT_DEPTH;
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 0};
    int i, rc;

    if (pvt_serve_cap(cfg) < 0)
        return -EINVAL;
    sigchld_reapable();
    p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->n = cfg->workers;
    p->cap = pvt_serve_cap(cfg);
    p->respawn = !cfg->no_respawn;
    rc = pvt_sup_resolve(&cfg->sup, &p->sup);
    if (rc < 0) {
        free(p);
        return rc;
    }
    p->seed = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull;
    p->epfd = -1;
    p->rr_fd = -1;
    if (cfg->serve)
        depth = 2; /* the rings carry only info and stop */
    rc = pvt_region_map(&p->g, cfg->serve ? 2 * p->cap : p->n, depth, 1);
    if (rc < 0) {
        free(p);
        return rc;
    }
    rc = -ENOMEM;
    p->s = calloc((size_t)p->cap, sizeof(*p->s));
    p->sets = calloc((size_t)p->cap, sizeof(*p->sets));
    p->r = calloc((size_t)p->cap, sizeof(*p->r));
    p->spare = cfg->serve ? calloc((size_t)p->cap, sizeof(*p->spare)) : NULL;
    if (!p->s || !p->sets || !p->r || (cfg->serve && !p->spare))
        goto fail;
    for (i = 0; i < p->cap; i++) {
        p->r[i] = p->g.rings[i];
        if (p->spare)
            p->spare[i] = p->g.rings[p->cap + i];
        p->s[i].pidfd = -1;
        p->s[i].old_pidfd = -1;
        p->s[i].mfd = -1;
        p->s[i].wfd = -1;
        p->s[i].last_code = -1;
    }
    if (pvt_disp_init(&p->d, p->cap, depth, p->r, p->g.waker) < 0)
        goto fail;
    p->d.n = p->n; /* the slots in use; scale moves it within cap */
    p->bind = pvt_serve_plan_sets(cfg->plan, p->cap, p->sets);
    p->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (p->epfd < 0 || epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->g.waker->efd, &ev) < 0) {
        rc = -errno;
        goto fail;
    }
    if (cfg->serve) {
        rc = pvt_serve_net_open(&p->net, cfg->serve, p->n, p->cap, p->r, p->g.rings, 1);
        if (rc < 0)
            goto fail;
        p->serving = 1;
        ev.data.u32 = PVT__PROC_TAG_WATCH;
        if (cfg->serve->watch_fd > 0 &&
            epoll_ctl(p->epfd, EPOLL_CTL_ADD, cfg->serve->watch_fd, &ev) < 0) {
            rc = -errno;
            goto fail;
        }
    }
    /* Slots are live from the start: a worker that dies while starting is
     * replaced like any other. */
    for (i = 0; i < p->n; i++) {
        p->d.live[i] = 1;
        rc = pvt__proc_spawn(p, i);
        if (rc < 0)
            goto fail;
    }
    rc = pvt_disp_wait_ready(&p->d, START_TIMEOUT_MS, proc_wait, p);
    if (rc < 0)
        goto fail;
    *out = p;
    return 0;

fail:
    proc_destroy(p);
    return rc;
}

static int proc_submit(struct pvt_pool *p, const struct pvt_job *jobs, int n)
{
    if (p->serving)
        return -EOPNOTSUPP;
    return pvt_disp_submit(&p->d, jobs, n);
}

static int proc_supervise(struct pvt_pool *p, int timeout_ms, const sigset_t *waitmask)
{
    if (!p->serving)
        return -EINVAL;
    return proc_wait_mask(p, timeout_ms, waitmask);
}

static int proc_collect(struct pvt_pool *p, struct pvt_result *res, int max, int timeout_ms)
{
    return pvt_disp_collect(&p->d, res, max, timeout_ms, proc_wait, p);
}

static int proc_stats(struct pvt_pool *p, struct pvt_pool_stats *st)
{
    int i;

    /* Reap whatever died since the last call, without waiting. */
    proc_wait(p, 0);
    pvt_waker_drain(p->g.waker);
    pvt_disp_stats(&p->d, "proc", st);
    st->deaths = p->deaths;
    st->recycles = p->recycles;
    st->hangs = p->hangs;
    st->port = p->net.port;
    pvt_serve_net_stats(&p->net, st);
    pvt__proc_msg_stats(p, st);
    for (i = 0; p->serving && i < p->cap; i++) {
        st->rolling += p->net.roll[i] || (p->s[i].old_pid && !p->s[i].old_told);
        st->draining += p->s[i].old_pid != 0;
    }
    for (i = 0; st->w && i < p->n; i++) {
        struct proc_slot *sl = &p->s[i];
        /* The primary's own record: an empty slot has no pid, however old
         * the ring's (retired, parked, or waiting for a respawn). */
        st->w[i].pid = sl->pid;
        st->w[i].ready_ns = sl->pid ? atomic_load(&p->r[i]->info.ready_ns) : 0;
        st->w[i].restarts = sl->restarts;
        st->w[i].last_exit_code = sl->last_code;
        st->w[i].last_exit_signal = sl->last_signal;
        st->w[i].last_exit_intended = sl->last_intended;
        st->w[i].parked = sl->sup.parked;
        st->w[i].recycles = sl->sup.recycles;
        st->w[i].recycle_why = sl->repl_why;
        st->w[i].recycle_value = sl->repl_value;
        st->w[i].drained = sl->drained;
        st->w[i].drained_pid = sl->drained_pid;
        st->w[i].drained_code = sl->drained_code;
        st->w[i].drained_signal = sl->drained_signal;
        st->w[i].drained_recycled = sl->drained_recycled;
    }
    for (i = 0; i < p->n; i++)
        st->parked += p->s[i].sup.parked;
    return 0;
}

/* sig to every worker, current and draining. */
static void signal_all(struct pvt_pool *p, int sig)
{
    int i;

    for (i = 0; i < p->cap; i++) {
        pvt__proc_signal(p, i, sig);
        pvt__proc_signal_old(p, i, sig);
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
    uint64_t deadline;
    int i, forced = 0;

    if (p->stopped)
        return 0;
    p->stopped = 1;
    p->stopping = 1;
    p->d.stopping = 1;
    /* Nobody serves the caller's descriptor until stop returns: a client
     * waiting on it would keep it readable and the wait below spinning. */
    if (p->serving && p->net.cfg.watch_fd > 0)
        epoll_ctl(p->epfd, EPOLL_CTL_DEL, p->net.cfg.watch_fd, NULL);
    if (p->serving)
        pvt_serve_net_hand_out_all(&p->net); /* what the kernel accepted is served */
    rr_sync(p, NULL); /* what is handed over is served; nothing new is */
    for (i = 0; i < p->n; i++)
        if (p->s[i].respawn_at)
            pvt__proc_retire(p, i); /* in backoff: no worker will run its queue */
    pvt_disp_flush(&p->d); /* queued work runs before the workers exit */
    for (i = 0; i < p->n; i++) {
        if (atomic_load(&p->r[i]->info.state) == PVT_W_READY)
            atomic_store(&p->r[i]->info.state, PVT_W_STOPPING);
        pvt__proc_ask_stop(p, i, 1);
    }
    for (i = 0; i < p->cap; i++)
        if (p->s[i].old_pid && !p->s[i].old_told)
            pvt__proc_tell_old(p, i);
    deadline = pvt_now_ns() + (uint64_t)(deadline_ms < 0 ? 0 : deadline_ms) * 1000000u;
    if (wait_gone(p, deadline) < 0) {
        /* Past the deadline: SIGTERM, and SIGKILL for whoever outlives the
         * grace (nginx's worker_shutdown_timeout, PM2's kill_timeout). */
        forced = 1;
        signal_all(p, SIGTERM);
        if (wait_gone(p, pvt_now_ns() + (uint64_t)p->sup.kill_grace_ms * 1000000u) < 0) {
            signal_all(p, SIGKILL);
            while (p->alive > 0)
                proc_wait(p, -1);
        }
    }
    pvt_waker_drain(p->g.waker);
    return forced ? -ETIMEDOUT : 0;
}

static void proc_destroy(struct pvt_pool *p)
{
    int i;

    if (!p)
        return;
    if (p->epfd >= 0) {
        proc_stop(p, 0);
    } else if (p->s) {
        /* epoll never came up, so no worker was forked. */
        for (i = 0; i < p->cap; i++)
            if (p->s[i].pidfd >= 0)
                close(p->s[i].pidfd);
    }
    for (i = 0; p->epfd >= 0 && i < p->cap; i++)
        pvt__proc_msg_close(p, i); /* the slots were set up before epoll */
    if (p->epfd >= 0)
        close(p->epfd);
    if (p->serving)
        pvt_serve_net_close(&p->net);
    pvt_disp_fini(&p->d);
    pvt_region_unmap(&p->g);
    free(p->s);
    free(p->sets);
    free(p->r);
    free(p->spare);
    free(p);
}

const struct pvt_pool_ops pvt_proc_ops = {
    .name = "proc",
    .summary = "forked worker processes: isolated memory, a crash takes one worker",
    .create = proc_create,
    .submit = proc_submit,
    .collect = proc_collect,
    .stats = proc_stats,
    .stop = proc_stop,
    .supervise = proc_supervise,
    .restart = pvt__proc_restart,
    .scale = pvt__proc_scale,
    .send = pvt__proc_send,
    .recv = pvt__proc_recv,
    .destroy = proc_destroy,
};
