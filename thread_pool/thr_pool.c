/*
 * thr_pool.c: the thread backend: N pthreads in the caller's process.
 *
 * DESIGN
 * Each worker thread owns one ring (ring.h) in private memory and runs
 * pvt_ring_worker_loop on it; the thread that created the pool drives it
 * through the dispatcher (disp.h). Nothing is global: every piece of state
 * hangs off the struct pvt_pool, so two pools live side by side.
 *
 * Ownership. The driver writes each ring's tail and stop; a worker writes its
 * ring's done, running and info. The driver frees a ring's memory only after
 * joining its thread.
 *
 * What a fault takes down. There is no isolation: a crash in any worker ends
 * the process, and a thread cannot be killed. A forced stop therefore asks
 * each thread to exit after its current job and waits up to STOP_GRACE_MS
 * more for that. A thread still running then is stuck: it is detached, its
 * running job is reported failed and its queue dropped, and the pool's memory
 * stays mapped, since the thread may still write to it. Once stop=2 has been
 * visible to it for that long, a stuck thread that ever returns from its job
 * exits without taking another, so the driver owns the rest of its ring.
 *
 * Workers bind themselves (sched_setaffinity on their own thread) before they
 * report ready, and report the CPU set they read back.
 *
 * Messages (job pools): thr_msg.c's queues, one to each worker and one to
 * the driver; a worker says HELLO once ready and answers between jobs.
 *
 * Serving pools (serve.h). Each thread runs the same server a worker process
 * runs, on the shared socket, its own reuseport socket, or its end of an rr
 * channel; with rr the driving thread is the acceptor and passes descriptor
 * numbers, since every thread shares the descriptor table. A serving thread
 * is told to stop through its ring's eventfd, so its stop is never stuck in
 * a job: stop 2 closes its connections and it returns. A serving pool has
 * two rings per slot, and one thr_worker per ring: a rolling restart or a
 * scale down starts a slot's new thread on its other ring before the old
 * one stops accepting, as the process backend does: the steps are the
 * shared policy's (pool_policy.c), this file gives it the mechanics
 * (thr_mech: start, join, force, abandon a thread).
 *
 * A predecessor that does not return within the drain deadline, or that
 * stops beating under the watchdog, is told stop 2 (close its connections);
 * one still running kill_grace_ms later is stuck in a handler, and since a
 * thread cannot be killed it is abandoned as thr_stop abandons one:
 * detached, never joined, the pool's memory kept at destroy. Its ring stays
 * its own (the slot's `lost` ring), so the restart goes on without it and
 * nothing polls for it; a restart or scale down that would need that ring
 * is refused with -EBUSY until the thread returns, which gives it back.
 *
 * A current thread the watchdog finds hung is taken out of the turn (not
 * live) and nothing more: a rolling restart drops that slot's mark, as it
 * does a retired process slot's, so its capacity stays lost.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shared/core/disp.h"
#include "shared/work/fault.h"
#include "shared/serve/pool_policy.h"
#include "thr_msg.h"
#include "thr_pool.h"

#define START_TIMEOUT_MS 10000
#define STOP_GRACE_MS 1000

/* One per ring (by its slot_index): the thread that serves it. */
struct thr_worker {
    struct pvt_pool *pool;
    struct pvt_ring *ring;
    int slot;
    int started; /* pthread_create succeeded */
    int joined;
    int stuck; /* never returned from its job: detached, memory kept */
    pthread_t tid;
    /* Serving pools: what its server needs, filled in by the driver before
     * the thread starts (the driver may change the pool's sockets while
     * the thread runs, so the thread never reads them itself). */
    struct pvt_serve_worker sw;
    struct pvt_msg_chan *chan; /* job pools: its message channel */
};

struct pvt_pool {
    struct pvt_policy pol; /* rings, slots, sockets and what is decided about them */
    struct thr_worker *w;  /* per ring */
    int leak_region; /* a thread could not be joined: keep its memory mapped */
    /* Job pools (thr_msg.c), NULL for a serving pool. Apart from the pool,
     * since a stuck thread may still hold its channel after destroy. */
    struct thr_msgs *msg;
};

static struct pvt_pool *pool_of(struct pvt_policy *pol)
{
    return (struct pvt_pool *)((char *)pol - offsetof(struct pvt_pool, pol));
}

static void *thr_main(void *arg)
{
    struct thr_worker *tw = arg;
    struct pvt_pool *p = tw->pool;
    struct pvt_ring *r = tw->ring;
    /*
     * Everything it needs from the pool is read before the READY store: a
     * thread stuck in a job is detached and never joined, and the pool
     * (tw with it) may be freed once the driver saw READY.
     */
    int serving = p->pol.serving;
    struct pvt_serve_worker w = tw->sw;
    struct pvt_msg_chan *chan = tw->chan;

    /* What the scribble fault overwrites: the ring and the waker's word, as
     * in a worker process (a thread shares the rest of the process too). */
    pvt_fault_share(r, p->pol.g.stride);
    pvt_fault_share(p->pol.g.base, p->pol.g.head);
    if (pvt_policy_worker_up(r, p->pol.bind ? &p->pol.sets[tw->slot] : NULL, chan,
                             (int)gettid()) < 0) {
        atomic_store(&r->info.state, PVT_W_EXITED);
        atomic_thread_fence(memory_order_seq_cst);
        pvt_waker_kick(r->waker);
        return NULL;
    }
    if (serving)
        pvt_serve_worker_run(&w);
    else
        pvt_ring_worker_run(r, chan ? pvt_msg_worker_drain_cb : NULL, chan);

    atomic_store(&r->info.pid, 0); /* stats: an exited slot has no thread id */
    atomic_store(&r->info.state, PVT_W_EXITED);
    return NULL;
}

/* ---- mechanics (pool_policy.h) ---- */

/* Start a thread for slot on its current ring. 0 or -errno. */
static int thr_start(struct pvt_policy *pol, int slot, int restart)
{
    struct pvt_pool *p = pool_of(pol);
    struct pvt_ring *r = pol->r[slot];
    struct thr_worker *tw = &p->w[r->slot_index];
    int rc;

    if (restart)
        atomic_store(&r->info.restarts, atomic_load(&pol->spare[slot]->info.restarts) + 1);
    rc = pvt_policy_prepare(pol, slot, r);
    if (rc < 0)
        return rc;
    *tw = (struct thr_worker){.pool = p, .ring = r, .slot = slot};
    if (p->msg && slot < p->msg->n)
        tw->chan = &p->msg->chan[slot];
    if (pol->serving)
        pvt_serve_net_worker(&pol->net, slot, r, pvt_thread_ops.name, getpid(), &tw->sw);
    rc = pthread_create(&tw->tid, NULL, thr_main, tw);
    if (rc) {
        atomic_store(&r->info.state, PVT_W_EMPTY);
        return -rc;
    }
    tw->started = 1;
    return 0;
}

static int thr_alive(struct pvt_policy *pol, int slot)
{
    struct thr_worker *tw = &pool_of(pol)->w[pol->r[slot]->slot_index];

    return tw->started && !tw->joined;
}

/* Detach tw's thread, which never returned in time: it is never
 * joined, and the pool's memory is kept (see DESIGN). */
static void abandon(struct pvt_pool *p, struct thr_worker *tw)
{
    pthread_detach(tw->tid);
    tw->joined = 1;
    tw->stuck = 1;
    p->leak_region = 1;
}

/*
 * A thread cannot be killed. A hung current thread goes out of the turn
 * (not counted live, new jobs and its waiting connections go to the
 * others): its capacity is lost until the process restarts. A predecessor
 * is told stop 2 (close its connections), and if it still has not returned
 * kill_grace_ms later it is abandoned, its ring kept as the slot's `lost`.
 */
static void thr_force(struct pvt_policy *pol, int i, int old, int step)
{
    struct pvt_policy_slot *s = &pol->s[i];

    if (!old) {
        if (step == 0) {
            pol->d.live[i] = 0;
            if (pol->serving)
                pvt_serve_net_reclaim(&pol->net, pol->r[i]);
        }
        return;
    }
    if (step == 0) {
        pvt_serve_net_reclaim(&pol->net, s->old); /* it will not read its channel again */
        if (!s->old_told)
            pvt_policy_tell_old(pol, i);
        pvt_serve_net_stop(&pol->net, s->old, 2);
        return;
    }
    abandon(pool_of(pol), &pool_of(pol)->w[s->old->slot_index]);
    s->lost = s->old;
    s->old = NULL;
}

/* A thread's last store to its ring is state EXITED (thr_main): once that is
 * seen, it has returned or is about to, and joining it frees the ring. */
static int thr_old_gone(struct pvt_policy *pol, int i)
{
    struct thr_worker *tw = &pool_of(pol)->w[pol->s[i].old->slot_index];

    if (atomic_load(&pol->s[i].old->info.state) != PVT_W_EXITED)
        return 0;
    pthread_join(tw->tid, NULL);
    tw->joined = 1;
    return 1;
}

/* The abandoned threads that returned give their rings back. */
static void reclaim_lost(struct pvt_policy *pol)
{
    struct pvt_pool *p = pool_of(pol);
    int i, stuck = 0;

    for (i = 0; i < pol->cap; i++) {
        struct pvt_ring *o = pol->s[i].lost;
        if (o && atomic_load(&o->info.state) == PVT_W_EXITED) {
            p->w[o->slot_index].stuck = 0;
            pol->s[i].lost = NULL;
        }
    }
    for (i = 0; i < pol->g.n; i++)
        stuck += p->w[i].stuck;
    p->leak_region = stuck > 0;
}

static const struct pvt_policy_mech thr_mech = {
    .start = thr_start,
    .alive = thr_alive,
    .force = thr_force,
    .old_gone = thr_old_gone,
    .reclaim = reclaim_lost,
};

/* ---- the driver ---- */

/* The watchdog and the rolling restart: the ms until they look again. */
static int thr_tick(struct pvt_pool *p)
{
    uint64_t now = pvt_now_ns(), next = UINT64_MAX;
    int due = -1, roll;

    pvt_policy_watchdog(&p->pol, now, &next);
    if (next != UINT64_MAX)
        due = next <= now ? 0 : (int)((next - now + 999999) / 1000000);
    roll = pvt_policy_tick(&p->pol, now);
    return roll >= 0 && (due < 0 || roll < due) ? roll : due;
}

/* Wait for the waker or (rr) a connection; hand connections out. -EINTR
 * when a signal ended the wait. */
static int thr_wait_mask(struct pvt_pool *p, int timeout_ms, const sigset_t *mask)
{
    struct pvt_policy *pol = &p->pol;
    struct pollfd pfd[3] = {{.fd = pol->g.waker->efd, .events = POLLIN}, {.fd = -1}, {.fd = -1}};
    struct timespec ts, *tsp = NULL;
    int due = thr_tick(p);

    if (due >= 0 && (timeout_ms < 0 || due < timeout_ms))
        timeout_ms = due;
    if (pol->serving && pol->net.cfg.watch_fd > 0)
        pfd[2] = (struct pollfd){.fd = pol->net.cfg.watch_fd, .events = POLLIN};

    if (pol->serving && !pol->stopping)
        pfd[1] = (struct pollfd){.fd = pvt_serve_net_poll_fd(&pol->net, pvt_now_ns(), &timeout_ms),
                                 .events = POLLIN};
    if (timeout_ms >= 0) {
        ts.tv_sec = timeout_ms / 1000;
        ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000;
        tsp = &ts;
    }
    if (ppoll(pfd, 3, tsp, mask) < 0)
        return -errno;
    if (pfd[0].revents && pol->serving)
        pvt_waker_drain(pol->g.waker); /* the dispatcher drains its own */
    /* rr: a connection, room in a channel, or (no descriptor to wait on,
     * or connections held) a pause or retry that may be over. */
    if (pol->serving && !pol->stopping && (pfd[1].revents || pfd[1].fd < 0 || pol->net.nheld))
        pvt_serve_net_hand_out(&pol->net);
    return 0;
}

static int thr_wait(void *arg, int timeout_ms)
{
    int rc = thr_wait_mask(arg, timeout_ms, NULL);

    return rc == -EINTR ? 0 : rc;
}

static void thr_destroy(struct pvt_pool *p);

static int thr_create(const struct pvt_pool_cfg *cfg, struct pvt_pool **out)
{
    struct pvt_pool *p;
    int i, rc;

    if (pvt_serve_cap(cfg) < 0)
        return -EINVAL;
    if (cfg->sup.max_rss_kb || cfg->sup.max_jobs)
        return -EOPNOTSUPP; /* a thread's memory is its process's */
    p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    rc = pvt_policy_init(&p->pol, cfg, &thr_mech, 0);
    if (rc < 0)
        goto fail;
    rc = -ENOMEM;
    p->w = calloc((size_t)p->pol.g.n, sizeof(*p->w));
    if (!p->w)
        goto fail;
    if (!cfg->serve &&
        (!(p->msg = calloc(1, sizeof(*p->msg))) ||
         (rc = pvt__thr_msg_init(p->msg, p->pol.n, p->pol.r, p->pol.d.live)) < 0))
        goto fail;
    for (i = 0; i < p->pol.n; i++) {
        rc = thr_start(&p->pol, i, 0);
        if (rc < 0)
            goto fail;
    }
    rc = pvt_disp_wait_ready(&p->pol.d, START_TIMEOUT_MS, thr_wait, p);
    if (rc < 0)
        goto fail;
    for (i = 0; i < p->pol.n; i++)
        p->pol.d.live[i] = 1;
    *out = p;
    return 0;

fail:
    thr_destroy(p);
    return rc;
}

static int thr_submit(struct pvt_pool *p, const struct pvt_job *jobs, int n)
{
    return pvt_policy_submit(&p->pol, jobs, n);
}

static int thr_supervise(struct pvt_pool *p, int timeout_ms, const sigset_t *waitmask)
{
    return p->pol.serving ? thr_wait_mask(p, timeout_ms, waitmask) : -EINVAL;
}

static int thr_collect(struct pvt_pool *p, struct pvt_result *res, int max, int timeout_ms)
{
    return pvt_disp_collect(&p->pol.d, res, max, timeout_ms, thr_wait, p);
}

/* The waker's eventfd: the workers are threads of this process, so there is
 * no death to watch for (a crash takes the whole process). */
static int thr_event_fd(struct pvt_pool *p)
{
    return p->pol.g.waker->efd;
}

static int thr_poll(struct pvt_pool *p, struct pvt_result *res, int max)
{
    return pvt_disp_poll(&p->pol.d, res, max, thr_wait, p);
}

static int thr_stats(struct pvt_pool *p, struct pvt_pool_stats *st)
{
    uint64_t next = UINT64_MAX;
    int i;

    pvt_policy_watchdog(&p->pol, pvt_now_ns(), &next);
    pvt_policy_stats(&p->pol, pvt_thread_ops.name, st);
    for (i = 0; st->w && i < p->pol.n; i++) {
        st->w[i].ready_ns = atomic_load(&p->pol.r[i]->info.ready_ns);
        st->w[i].restarts = atomic_load(&p->pol.r[i]->info.restarts);
    }
    pvt__thr_msg_stats(p->msg, st);
    return 0;
}

static int thr_send(struct pvt_pool *p, int worker, const struct pvt_msg *m)
{
    uint64_t next = UINT64_MAX;

    if (!p->msg)
        return -EOPNOTSUPP;
    pvt_policy_watchdog(&p->pol, pvt_now_ns(), &next); /* a hung thread is not live */
    return pvt__thr_msg_send(p->msg, worker, p->pol.stopping, m);
}

static int thr_recv(struct pvt_pool *p, struct pvt_msg_in *out, int timeout_ms)
{
    if (!p->msg)
        return -EOPNOTSUPP;
    return pvt__thr_msg_recv(p->msg, out, timeout_ms);
}

int pvt_thr_msg_inject(struct pvt_pool *p, int slot, const void *buf, size_t n)
{
    return p->msg ? pvt__thr_msg_put(p->msg, slot, buf, n) : -EINVAL;
}

static int thr_restart(struct pvt_pool *p, int batch)
{
    return pvt_policy_restart(&p->pol, batch);
}

static int thr_scale(struct pvt_pool *p, int delta)
{
    return pvt_policy_scale(&p->pol, delta);
}

#define JOIN_NAP_MAX_US 10000

/*
 * Join every started thread by deadline (pvt_now_ns, CLOCK_MONOTONIC).
 * Returns how many are left. The joins are polled with pthread_tryjoin_np,
 * napping from 1 ms up to JOIN_NAP_MAX_US in between, against the monotonic
 * clock: pthread_timedjoin_np takes a CLOCK_REALTIME deadline, which a
 * clock step would move (cutting the workers' time short, or stretching
 * it), and ThreadSanitizer does not see pthread_clockjoin_np as a join.
 */
static int join_all(struct pvt_pool *p, uint64_t deadline)
{
    long nap_us = 1000;
    uint64_t now, left_ns;
    int i, left;

    for (;;) {
        left = 0;
        for (i = 0; i < p->pol.g.n; i++) {
            struct thr_worker *tw = &p->w[i];
            if (!tw->started || tw->joined)
                continue;
            if (pthread_tryjoin_np(tw->tid, NULL) == 0)
                tw->joined = 1;
            else
                left++;
        }
        now = pvt_now_ns();
        if (!left || now >= deadline)
            return left;
        left_ns = deadline - now;
        if ((uint64_t)nap_us * 1000u < left_ns)
            left_ns = (uint64_t)nap_us * 1000u;
        nanosleep(&(struct timespec){.tv_sec = (time_t)(left_ns / 1000000000u),
                                     .tv_nsec = (long)(left_ns % 1000000000u)},
                  NULL);
        if (nap_us < JOIN_NAP_MAX_US)
            nap_us *= 2;
    }
}

static int thr_stop(struct pvt_pool *p, int deadline_ms)
{
    struct pvt_policy *pol = &p->pol;
    int i, forced = 0;

    if (pol->stopping)
        return 0;
    if (pol->serving && pol->r && p->w && pol->s)
        pvt_serve_net_hand_out_all(&pol->net); /* what the kernel accepted is served */
    pol->stopping = 1;
    if (!pol->r || !p->w || !pol->s)
        return 0; /* create failed before any thread started */
    pol->d.stopping = 1;
    pvt_policy_stop_all(pol);
    if (join_all(p, pvt_now_ns() + (uint64_t)(deadline_ms < 0 ? 0 : deadline_ms) * 1000000u) > 0) {
        /* Past the deadline: each thread exits after its current job. */
        forced = 1;
        for (i = 0; i < pol->g.n; i++)
            pvt_serve_net_stop(&pol->net, pol->g.rings[i], 2);
        if (join_all(p, pvt_now_ns() + (uint64_t)STOP_GRACE_MS * 1000000u) > 0) {
            for (i = 0; i < pol->g.n; i++)
                if (p->w[i].started && !p->w[i].joined)
                    abandon(p, &p->w[i]);
        }
    }
    /* Jobs left in a queue never ran; a stuck thread's job failed. */
    for (i = 0; i < pol->n && pol->d.live; i++) {
        pol->d.live[i] = 0;
        if (p->w[i].stuck)
            pvt_disp_abandon(&pol->d, i); /* it may still write its ring */
        else
            pvt_disp_drop_queued(&pol->d, i);
    }
    return forced ? -ETIMEDOUT : 0;
}

/*
 * The message queues and the waker of a pool destroyed with a stuck thread
 * outlive it on purpose: the thread may still reply into them, or kick the
 * waker (its ring holds the handle's address). A serving pool's stuck
 * thread reads more of it (its pvt_serve_worker points at the pool's serve
 * config and ring array), so such a pool is kept whole. What is kept stays
 * here for the life of the process, so that it stays reachable and
 * LeakSanitizer sees it as kept, not lost. This is the only state shared
 * between pools, and only pools that lost a thread write it.
 */
#define THR_KEPT_MAX 64
static void *kept[THR_KEPT_MAX];
static atomic_int nkept;

static void keep(void *m)
{
    int k = atomic_fetch_add(&nkept, 1);

    if (m && k < THR_KEPT_MAX)
        kept[k] = m; /* past that, simply never freed */
}

static void thr_destroy(struct pvt_pool *p)
{
    if (!p)
        return;
    thr_stop(p, 0);
    if (p->pol.serving && p->leak_region) {
        keep(p); /* with everything it points to */
        return;
    }
    if (!p->leak_region) {
        if (p->msg)
            pvt__thr_msg_fini(p->msg); /* else a stuck thread may still use it */
        free(p->msg);
    } else {
        keep(p->msg);
        keep(p->pol.g.waker);
    }
    pvt_policy_fini(&p->pol, p->leak_region);
    free(p->w);
    free(p);
}

const struct pvt_pool_ops pvt_thread_ops = {
    .name = "thread",
    .summary = "pthreads in one process: one address space, a crash ends them all",
    .caps = PVT_CAP_SERVE | PVT_CAP_PLACEMENT | PVT_CAP_POLL,
    .create = thr_create,
    .submit = thr_submit,
    .collect = thr_collect,
    .event_fd = thr_event_fd,
    .poll = thr_poll,
    .stats = thr_stats,
    .stop = thr_stop,
    .supervise = thr_supervise,
    .restart = thr_restart,
    .scale = thr_scale,
    .send = thr_send,
    .recv = thr_recv,
    .destroy = thr_destroy,
};
