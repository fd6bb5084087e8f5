/*
 * proc_spawn.c: the process backend's mechanics (nginx's ngx_process.c):
 * fork a worker into a slot, reap one, signal one, retire a slot. What to
 * do about a worker is decided elsewhere: by proc_sup.c for a death, by the
 * shared policy (pool_policy.c) for a rolling restart, scale and the
 * watchdog, which reach these through pvt__proc_mech.
 *
 * DESIGN
 * Everything here runs in the primary (the thread that created the pool),
 * but for the child side of fork in pvt__proc_spawn. A worker is known by
 * the pid fork returned and a pidfd opened at once, kept in the epoll set
 * (tagged 1 + slot, or TAG_OLD + slot once it is a draining predecessor), so
 * its death wakes the primary's wait and is never missed; every signal goes
 * through that pidfd, so a recycled pid can never be hit. A worker that
 * could not get a pidfd is killed and reaped before spawn returns.
 *
 * Descriptors. A new worker keeps only what it uses (fdkeep.h): whatever
 * else the primary held at the fork, a control client it was answering or
 * another pool's sockets, would stay open in the worker for its whole life.
 */
#include <errno.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shared/base/fdkeep.h"
#include "shared/work/fault.h"
#include "proc_int.h"

static int sys_pidfd_open(pid_t pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

int pvt__proc_signal(struct pvt_pool *p, int i, int old, int sig)
{
    int pidfd = old ? p->s[i].old_pidfd : p->s[i].pidfd;

    if (pidfd < 0)
        return -ESRCH;
    if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
        return -errno;
    return 0;
}

uint64_t pvt__proc_ring_done(struct pvt_pool *p, int i)
{
    return pvt_disp_done(&p->pol.d, i);
}

/* Slot i's ring and records, for the worker about to be forked into it.
 * 0 or -errno (then the ring is EMPTY). */
static int prepare_slot(struct pvt_pool *p, int i)
{
    struct pvt_ring *r = p->pol.r[i];
    int rc = pvt_policy_prepare(&p->pol, i, r);

    if (rc < 0)
        return rc;
    p->s[i].recycling = 0;
    p->s[i].stop_asked = 0;
    p->s[i].killed_corrupt = 0;
    /* A replacement resumes at the first job that has no result, with the
     * queue as the primary made it, whatever its predecessor wrote. */
    r->depth = p->pol.d.depth;
    r->mask = p->pol.d.mask;
    r->shared = 1;
    r->slot_index = pvt_region_index(&p->pol.g, r);
    r->waker = p->pol.g.waker;
    if (!p->pol.serving)
        r->ctl_efd = -1; /* a serving ring's is set by pvt_serve_net_prepare */
    pvt_disp_ring_reset(&p->pol.d, i);
    p->s[i].job_base = pvt__proc_ring_done(p, i);
    rc = pvt__proc_msg_open(p, i);
    if (rc < 0)
        atomic_store(&r->info.state, PVT_W_EMPTY);
    return rc;
}

/* Watch the new worker pid of slot i through a pidfd in the epoll set.
 * 0, or -errno after the worker was killed and reaped: without a pidfd the
 * primary could not see it die. */
static int watch_pid(struct pvt_pool *p, int i, pid_t pid)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i + 1};
    int fd = sys_pidfd_open(pid), rc;

    if (fd < 0 || epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        rc = -errno;
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        if (fd >= 0)
            close(fd);
        return rc;
    }
    p->s[i].pid = pid;
    p->s[i].pidfd = fd;
    p->alive++;
    return 0;
}

int pvt__proc_spawn(struct pvt_pool *p, int i)
{
    struct pvt_ring *r = p->pol.r[i];
    pid_t primary = getpid(), pid;
    int rc;

    rc = prepare_slot(p, i);
    if (rc < 0)
        return rc;

    pid = fork();
    if (pid < 0) {
        rc = -errno;
        pvt__proc_msg_close(p, i);
        atomic_store(&r->info.state, PVT_W_EMPTY);
        return rc;
    }
    if (pid == 0)
        pvt__proc_worker_child(p, i, primary); /* never returns (proc_worker.c) */

    rc = watch_pid(p, i, pid);
    if (rc < 0) {
        pvt__proc_msg_close(p, i);
        atomic_store(&r->info.state, PVT_W_EMPTY);
    }
    return rc;
}

int pvt__proc_respawn(struct pvt_pool *p, int i)
{
    struct proc_slot *sl = &p->s[i];
    struct pvt_ring *r = p->pol.r[i];

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
    struct pvt_policy *pol = &p->pol;

    /* A predecessor kept serving while its replacement came up: with no
     * replacement coming, it drains now. */
    if (pol->s[i].old && !pol->s[i].old_told)
        pvt_policy_tell_old(pol, i);
    if (pol->serving)
        pol->net.roll[i] = 0;
    pol->s[i].recycle_why = PVT_RECYCLE_NONE;
    p->s[i].respawn_at = 0;
    pol->d.live[i] = 0;
    pvt_disp_drop_queued(&pol->d, i);
    if (pol->serving && !p->s[i].pid)
        pvt_serve_net_reclaim(&pol->net, pol->r[i]); /* no worker will read its channel */
    if (pol->serving && !pol->stopping)
        pvt_serve_net_retire(&pol->net, i);
}

void pvt__proc_ask_stop(struct pvt_pool *p, int i, unsigned how)
{
    p->s[i].stop_asked = 1;
    pvt_serve_net_stop(&p->pol.net, p->pol.r[i], how);
}

int pvt__proc_reap_pid(struct pvt_pool *p, int i, int *status)
{
    struct proc_slot *sl = &p->s[i];
    struct pvt_ring *r = p->pol.r[i];

    *status = 0;
    if (sl->pid == 0)
        return -1; /* a stale event: never waitpid(0), it would take another child */
    while (waitpid(sl->pid, status, 0) < 0 && errno == EINTR)
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
    return 0;
}

void pvt__proc_reap_old(struct pvt_pool *p, int i)
{
    struct proc_slot *sl = &p->s[i];
    struct pvt_ring *old = p->pol.s[i].old;
    int status = 0;

    if (sl->old_pid == 0)
        return; /* a stale event */
    while (waitpid(sl->old_pid, &status, 0) < 0 && errno == EINTR)
        ;
    sl->drained++;
    sl->drained_pid = sl->old_pid;
    sl->drained_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    sl->drained_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    sl->drained_recycled = p->pol.s[i].old_why != PVT_RECYCLE_NONE;
    epoll_ctl(p->epfd, EPOLL_CTL_DEL, sl->old_pidfd, NULL);
    close(sl->old_pidfd);
    pvt_serve_net_reclaim(&p->pol.net, old); /* a predecessor that did not drain */
    atomic_store(&old->info.pid, 0);
    atomic_store(&old->info.state, PVT_W_EXITED);
    pvt_policy_old_gone(&p->pol, i);
    sl->old_pidfd = -1;
    sl->old_pid = 0;
    p->alive--;
}

/* ---- the policy's mechanics (pool_policy.h) ---- */

int pvt__proc_mech_start(struct pvt_policy *pol, int slot, int restart)
{
    struct pvt_pool *p = pvt__proc_pool(pol);

    return restart ? pvt__proc_respawn(p, slot) : pvt__proc_spawn(p, slot);
}

int pvt__proc_mech_alive(struct pvt_policy *pol, int slot)
{
    return pvt__proc_pool(pol)->s[slot].pid != 0;
}

static void retag(struct pvt_pool *p, int fd, uint32_t tag)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = tag};

    epoll_ctl(p->epfd, EPOLL_CTL_MOD, fd, &ev);
}

/* The current worker's pid and pidfd become the predecessor's (back: the
 * other way), and its pidfd's tag in the epoll set with them. */
void pvt__proc_mech_demote(struct pvt_policy *pol, int slot, int back)
{
    struct pvt_pool *p = pvt__proc_pool(pol);
    struct proc_slot *sl = &p->s[slot];

    if (!back) {
        sl->old_pid = sl->pid;
        sl->old_pidfd = sl->pidfd;
        retag(p, sl->old_pidfd, PVT__PROC_TAG_OLD + (uint32_t)slot);
        sl->pid = 0;
        sl->pidfd = -1;
        return;
    }
    sl->pid = sl->old_pid;
    sl->pidfd = sl->old_pidfd;
    retag(p, sl->pidfd, (uint32_t)slot + 1);
    sl->old_pid = 0;
    sl->old_pidfd = -1;
}
