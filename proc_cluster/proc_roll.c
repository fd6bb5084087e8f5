/*
 * proc_roll.c: the process backend's rolling restart and scale (pvt.h:
 * restart, scale), for serving pools.
 *
 * DESIGN
 * A serving pool maps two rings per slot (serve.h: struct pvt_serve_gen).
 * p->r[i] is slot i's current ring, p->spare[i] the other. To replace a
 * slot's worker without a moment where nobody accepts for it, the primary
 * demotes the current worker (its pid and pidfd move to the slot's old_*
 * fields, its pidfd is re-tagged TAG_OLD + slot in the epoll set, the rings
 * swap) and forks the replacement on the other ring. The predecessor keeps
 * serving until its replacement accepts (gen->accepting); only then is it
 * told to stop (stop 1: it takes what is queued for it, stops accepting,
 * finishes its requests, exits). What the two share keeps every connection:
 * the shared socket and a slot's reuseport socket are one socket, held by
 * the primary, the predecessor and the replacement, so none of them closing
 * can reset a queued connection; with rr the primary hands connections only
 * to a ready worker that was not asked to stop, and the predecessor takes
 * what is in its channel before it stops.
 *
 * Everything runs in the primary, inside its wait (pvt__proc_roll_tick
 * before each epoll_pwait), as the rest of its supervision does. A slot is
 * replaced only when it has no predecessor still draining (its other ring
 * is in use until then), so a predecessor that never exits would block its
 * slot for good: the watchdog and the drain deadline cover predecessors
 * (proc_sup.c), and a killed one is reaped like any other. Scale down
 * demotes the highest slot the same way,
 * with no replacement: it is told to stop at once. With reuseport its
 * socket then closes as soon as that worker stops accepting, and a
 * connection the kernel queued on it in between is reset, unless
 * net.ipv4.tcp_migrate_req moves it to another socket of the port.
 */
#include <errno.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc_int.h"

#define ROLL_POLL_MS 5 /* how often a restart in progress looks at its replacements */

static void retag(struct pvt_pool *p, int fd, uint32_t tag)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = tag};

    epoll_ctl(p->epfd, EPOLL_CTL_MOD, fd, &ev);
}

static void swap_rings(struct pvt_pool *p, int i)
{
    struct pvt_ring *t = p->r[i];

    p->r[i] = p->spare[i];
    p->spare[i] = t;
}

/* Slot i's current worker becomes its predecessor; it keeps serving. */
static void demote(struct pvt_pool *p, int i)
{
    struct proc_slot *sl = &p->s[i];

    sl->old_pid = sl->pid;
    sl->old_pidfd = sl->pidfd;
    sl->old_ring = p->r[i];
    sl->old_told = 0;
    sl->old_term_ns = 0;
    sl->old_why = PVT_RECYCLE_NONE;
    retag(p, sl->old_pidfd, PVT__PROC_TAG_OLD + (uint32_t)i);
    sl->pid = 0;
    sl->pidfd = -1;
    atomic_store(&pvt_serve_net_gen(&p->net, p->r[i])->current, 0); /* /stats: the new one */
    swap_rings(p, i);
    /* No gap to measure: the predecessor serves until its replacement does
     * (replace_us, reap to ready, is 0 for this slot's new worker). */
    atomic_store(&p->r[i]->info.died_ns, 0);
}

/* Undo demote: the replacement could not be forked. */
static void promote_back(struct pvt_pool *p, int i)
{
    struct proc_slot *sl = &p->s[i];

    swap_rings(p, i);
    atomic_store(&pvt_serve_net_gen(&p->net, p->spare[i])->current, 0);
    atomic_store(&pvt_serve_net_gen(&p->net, p->r[i])->current, 1);
    sl->pid = sl->old_pid;
    sl->pidfd = sl->old_pidfd;
    retag(p, sl->pidfd, (uint32_t)i + 1);
    sl->old_pid = 0;
    sl->old_pidfd = -1;
    sl->old_ring = NULL;
}

void pvt__proc_tell_old(struct pvt_pool *p, int i)
{
    struct proc_slot *sl = &p->s[i];

    atomic_store(&pvt_serve_net_gen(&p->net, sl->old_ring)->current, 0);
    atomic_store(&sl->old_ring->info.state, PVT_W_STOPPING); /* out of the rr turn */
    pvt_serve_net_stop(&p->net, sl->old_ring, 1);
    sl->old_told = 1;
    sl->old_told_ns = pvt_now_ns();
}

void pvt__proc_reap_old(struct pvt_pool *p, int i)
{
    struct proc_slot *sl = &p->s[i];
    int status = 0;

    if (sl->old_pid == 0)
        return; /* a stale event */
    while (waitpid(sl->old_pid, &status, 0) < 0 && errno == EINTR)
        ;
    sl->drained++;
    sl->drained_pid = sl->old_pid;
    sl->drained_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    sl->drained_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    sl->drained_recycled = sl->old_why != PVT_RECYCLE_NONE;
    epoll_ctl(p->epfd, EPOLL_CTL_DEL, sl->old_pidfd, NULL);
    close(sl->old_pidfd);
    pvt_serve_net_reclaim(&p->net, sl->old_ring); /* a predecessor that did not drain */
    atomic_store(&pvt_serve_net_gen(&p->net, sl->old_ring)->current, 0);
    atomic_store(&sl->old_ring->info.pid, 0);
    atomic_store(&sl->old_ring->info.state, PVT_W_EXITED);
    sl->old_pidfd = -1;
    sl->old_pid = 0;
    sl->old_ring = NULL;
    p->alive--;
}

/* Slot i's replacement accepts: its predecessor may stop. */
static int replacement_ready(struct pvt_pool *p, int i)
{
    return atomic_load(&p->r[i]->info.state) == PVT_W_READY &&
           atomic_load(&pvt_serve_net_gen(&p->net, p->r[i])->accepting);
}

int pvt__proc_roll_tick(struct pvt_pool *p)
{
    int i, inflight = 0, pending = 0;

    if (!p->serving || p->stopping)
        return -1;
    for (i = 0; i < p->cap; i++) {
        struct proc_slot *sl = &p->s[i];
        if (!sl->old_pid || sl->old_told)
            continue;
        if (replacement_ready(p, i))
            pvt__proc_tell_old(p, i);
        else
            inflight++;
    }
    for (i = 0; i < p->n; i++) {
        struct proc_slot *sl = &p->s[i];
        if (!p->net.roll[i])
            continue;
        if (!p->d.live[i]) {
            p->net.roll[i] = 0; /* retired or parked: nothing to replace */
            continue;
        }
        /* Busy: the last replacement still drains, or the worker is not
         * serving (starting, recycling, in backoff): later. */
        if (inflight >= p->net.roll_batch || sl->old_pid || !sl->pid ||
            atomic_load(&p->r[i]->info.state) != PVT_W_READY) {
            pending++;
            continue;
        }
        demote(p, i);
        if (pvt__proc_respawn(p, i) < 0) {
            promote_back(p, i);
            pending++;
            continue;
        }
        p->net.roll[i] = 0;
        /* A recycle is done, or this was a restart (recycle_why 0). */
        sl->old_why = sl->recycle_why;
        sl->repl_why = sl->recycle_why;
        sl->repl_value = sl->recycle_value;
        sl->recycle_why = PVT_RECYCLE_NONE;
        inflight++;
    }
    return inflight || pending ? ROLL_POLL_MS : -1;
}

int pvt__proc_restart(struct pvt_pool *p, int batch)
{
    return pvt_serve_restart(&p->net, p->stopping, batch);
}

static void set_slots(struct pvt_pool *p, int n)
{
    p->n = n;
    p->d.n = n;
    pvt_serve_net_set_slots(&p->net, n);
}

/* One more slot, its worker started. 0 or -errno. */
static int grow(struct pvt_pool *p)
{
    int i = p->n, rc;

    p->net.roll[i] = 0;
    p->s[i].respawn_at = 0;
    p->s[i].sup.parked = 0;
    set_slots(p, i + 1);
    p->d.live[i] = 1;
    rc = pvt__proc_spawn(p, i);
    if (rc < 0) {
        p->d.live[i] = 0;
        set_slots(p, i);
    }
    return rc;
}

/* The highest slot drains and goes. 0 or -errno. */
static int shrink(struct pvt_pool *p)
{
    int i = p->n - 1;
    struct proc_slot *sl = &p->s[i];

    if (sl->old_pid)
        return -EBUSY;
    p->net.roll[i] = 0;
    sl->respawn_at = 0;
    p->d.live[i] = 0;
    set_slots(p, i);
    pvt_serve_net_retire(&p->net, i);
    if (sl->pid) {
        demote(p, i);
        pvt__proc_tell_old(p, i);
    }
    return 0;
}

static int scale_one_cb(void *arg, int up)
{
    return up ? grow(arg) : shrink(arg);
}

int pvt__proc_scale(struct pvt_pool *p, int delta)
{
    return pvt_serve_scale(&p->net, p->stopping, delta, scale_one_cb, p);
}
