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
 * one stops accepting (thr_roll_tick), as the process backend does.
 *
 * A predecessor that does not return within the drain deadline, or that
 * stops beating under the watchdog, is told stop 2 (close its connections);
 * one still running kill_grace_ms later is stuck in a handler, and since a
 * thread cannot be killed it is abandoned as thr_stop abandons one:
 * detached, never joined, the pool's memory kept at destroy. Its ring stays
 * its own (the slot's `lost` ring), so the restart goes on without it and
 * nothing polls for it; a restart or scale down that would need that ring
 * is refused with -EBUSY until the thread returns, which gives it back.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shared/core/disp.h"
#include "shared/work/fault.h"
#include "shared/core/place.h"
#include "shared/serve/serve.h"
#include "thr_msg.h"
#include "thr_pool.h"

#define START_TIMEOUT_MS 10000
#define STOP_GRACE_MS 1000
#define ROLL_POLL_MS 5 /* how often a restart in progress looks at its replacements */

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

/* Serving pools: a slot's predecessor, draining on its other ring (see
 * thr_roll_tick). */
struct thr_slot {
    struct pvt_ring *old; /* NULL: none */
    int old_told;         /* it was asked to stop accepting */
    uint64_t old_told_ns; /* when: its drain deadline counts from then */
    uint64_t old_forced_ns; /* when it was told stop 2; 0: not yet */
    /* The slot's other ring, held by a predecessor that was abandoned
     * (stuck in a handler past its deadline); NULL: none. */
    struct pvt_ring *lost;
};

struct pvt_pool {
    struct pvt_region g;
    struct pvt_disp d;
    int n;   /* slots in use */
    int cap; /* slots there is room for (serving pools: scale) */
    struct pvt_ring **r;     /* per slot: its current ring */
    struct pvt_ring **spare; /* per slot: its other ring (serving pools) */
    struct thr_slot *s;      /* per slot (serving pools) */
    int bind;
    cpu_set_t *sets;
    struct thr_worker *w;
    int stopped;
    int leak_region; /* a thread could not be joined: keep its memory mapped */
    int serving;
    struct pvt_serve_net net;
    struct pvt_sup_cfg sup; /* only the watchdog applies to threads */
    uint64_t hangs;
    /* Job pools (thr_msg.c), NULL for a serving pool. Apart from the pool,
     * since a stuck thread may still hold its channel after destroy. */
    struct thr_msgs *msg;
};

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
    int serving = p->serving, rc;
    struct pvt_serve_worker w = tw->sw;
    struct pvt_msg_chan *chan = tw->chan;

    /* What the scribble fault overwrites: the ring and the waker's word, as
     * in a worker process (a thread shares the rest of the process too). */
    pvt_fault_share(r, p->g.stride);
    pvt_fault_share(p->g.base, p->g.head);
    atomic_store(&r->info.pid, (int)gettid());
    if (p->bind) {
        rc = pvt_place_bind_self(&p->sets[tw->slot]);
        if (rc < 0) {
            atomic_store(&r->info.bind_err, rc);
            atomic_store(&r->info.state, PVT_W_EXITED);
            atomic_thread_fence(memory_order_seq_cst);
            pvt_waker_kick(r->waker);
            return NULL;
        }
    }
    pvt_place_get_self(&r->info.bound);
    if (chan)
        pvt_msg_worker_hello(chan, (int)gettid()); /* waiting once create returns */
    atomic_store(&r->info.ready_ns, pvt_now_ns());
    atomic_store(&r->info.state, PVT_W_READY);
    atomic_thread_fence(memory_order_seq_cst);
    pvt_waker_kick(r->waker);

    if (serving) {
        pvt_serve_worker_run(&w);
    } else {
        pvt_ring_worker_run(r, chan ? pvt_msg_worker_drain_cb : NULL, chan);
    }

    atomic_store(&r->info.pid, 0); /* stats: an exited slot has no thread id */
    atomic_store(&r->info.state, PVT_W_EXITED);
    return NULL;
}

/*
 * The watchdog: a thread past the timeout is marked hung (out of the rr
 * turn, not counted live). It cannot be killed safely, so that is all:
 * its capacity is lost until the process restarts. Returns the ms to the
 * next check, or -1 without a watchdog.
 */
static int watchdog(struct pvt_pool *p)
{
    uint64_t now = pvt_now_ns();
    int i;

    if (!p->sup.worker_timeout_ms || p->stopped)
        return -1;
    for (i = 0; i < p->n; i++) {
        struct pvt_ring *r = p->r[i];
        int busy = p->serving || atomic_load(&r->running) == atomic_load(&r->done) + 1;
        if (atomic_load(&r->info.hung) || atomic_load(&r->info.state) != PVT_W_READY)
            continue;
        if (pvt_sup_hung(&p->sup, atomic_load(&r->info.beat_ns), busy, now)) {
            atomic_store(&r->info.hung, 1);
            p->d.live[i] = 0; /* new jobs go to the others */
            p->hangs++;
            if (p->serving)
                pvt_serve_net_reclaim(&p->net, r); /* and its waiting connections */
        }
    }
    return (int)pvt_sup_beat_ms(&p->sup);
}

/* Start a thread for slot on ring r. 0 or -errno. */
static int thr_start(struct pvt_pool *p, int slot, struct pvt_ring *r)
{
    struct thr_worker *tw = &p->w[r->slot_index];
    int rc;

    if (p->serving) {
        rc = pvt_serve_net_prepare(&p->net, slot, r);
        if (rc < 0)
            return rc;
        atomic_store(&pvt_serve_net_gen(&p->net, r)->current, 1);
    }
    r->beat_ms = pvt_sup_beat_ms(&p->sup);
    atomic_store(&r->stop, 0);
    atomic_store(&r->info.beat_ns, 0);
    atomic_store(&r->info.hung, 0);
    atomic_store(&r->info.state, PVT_W_STARTING);
    *tw = (struct thr_worker){.pool = p, .ring = r, .slot = slot};
    if (p->msg && slot < p->msg->n)
        tw->chan = &p->msg->chan[slot];
    if (p->serving)
        pvt_serve_net_worker(&p->net, slot, r, "thread", getpid(), &tw->sw);
    rc = pthread_create(&tw->tid, NULL, thr_main, tw);
    if (rc) {
        atomic_store(&r->info.state, PVT_W_EMPTY);
        return -rc;
    }
    tw->started = 1;
    return 0;
}

/*
 * Rolling restart and scale, thread by thread: the same steps as the
 * process backend's (proc_roll.c says why nothing accepted is lost). A
 * slot's replacement starts on its other ring; once it accepts, the
 * predecessor is told to stop (it drains and its thread returns), and it is
 * joined once its ring says it exited.
 */
static void tell_old(struct pvt_pool *p, int i)
{
    struct pvt_ring *o = p->s[i].old;

    atomic_store(&pvt_serve_net_gen(&p->net, o)->current, 0);
    atomic_store(&o->info.state, PVT_W_STOPPING); /* out of the rr turn */
    pvt_serve_net_stop(&p->net, o, 1);
    p->s[i].old_told = 1;
    p->s[i].old_told_ns = pvt_now_ns();
}

/* The abandoned threads that returned give their rings back. A thread's
 * last store to its ring is state EXITED (thr_main), so once that is seen
 * nothing of the ring is in use. */
static void reclaim_lost(struct pvt_pool *p)
{
    int i, stuck = 0;

    for (i = 0; i < p->cap; i++) {
        struct pvt_ring *o = p->s[i].lost;
        if (o && atomic_load(&o->info.state) == PVT_W_EXITED) {
            p->w[o->slot_index].stuck = 0;
            p->s[i].lost = NULL;
        }
    }
    for (i = 0; i < p->g.n; i++)
        stuck += p->w[i].stuck;
    p->leak_region = stuck > 0;
}

/*
 * Slot i's predecessor has not exited: past the drain deadline, or hung,
 * it is told stop 2; kill_grace_ms after that it is abandoned (see DESIGN).
 * Returns 1 when it was abandoned.
 */
static int old_overdue(struct pvt_pool *p, int i, uint64_t now)
{
    struct thr_slot *sl = &p->s[i];
    struct pvt_ring *o = sl->old;
    struct thr_worker *tw = &p->w[o->slot_index];
    int hung, late;

    if (sl->old_forced_ns) {
        if (now - sl->old_forced_ns < (uint64_t)p->sup.kill_grace_ms * 1000000u)
            return 0;
        pthread_detach(tw->tid);
        tw->joined = 1;
        tw->stuck = 1;
        p->leak_region = 1;
        sl->lost = o;
        sl->old = NULL;
        return 1;
    }
    hung = pvt_sup_hung(&p->sup, atomic_load(&o->info.beat_ns), 1, now);
    late = sl->old_told && now - sl->old_told_ns >= (uint64_t)p->sup.drain_timeout_ms * 1000000u;
    if (!hung && !late)
        return 0;
    if (hung && !atomic_load(&o->info.hung)) { /* else counted when it was current */
        atomic_store(&o->info.hung, 1);
        p->hangs++;
    }
    pvt_serve_net_reclaim(&p->net, o); /* it will not read its channel again */
    if (!sl->old_told)
        tell_old(p, i);
    pvt_serve_net_stop(&p->net, o, 2);
    sl->old_forced_ns = now;
    return 0;
}

/* Slot i's current worker becomes its predecessor; the rings swap. */
static void demote(struct pvt_pool *p, int i)
{
    struct pvt_ring *t = p->r[i];

    p->s[i].old = t;
    p->s[i].old_told = 0;
    p->s[i].old_forced_ns = 0;
    atomic_store(&pvt_serve_net_gen(&p->net, t)->current, 0);
    p->r[i] = p->spare[i];
    p->spare[i] = t;
}

static int thr_roll_tick(struct pvt_pool *p)
{
    uint64_t now = pvt_now_ns();
    int i, inflight = 0, pending = 0;

    if (!p->serving || p->stopped)
        return -1;
    reclaim_lost(p);
    for (i = 0; i < p->cap; i++) {
        struct thr_slot *sl = &p->s[i];
        struct thr_worker *tw;
        if (!sl->old)
            continue;
        if (atomic_load(&sl->old->info.state) != PVT_W_EXITED && old_overdue(p, i, now))
            continue;
        if (!sl->old_told) {
            if (atomic_load(&p->r[i]->info.state) == PVT_W_READY &&
                atomic_load(&pvt_serve_net_gen(&p->net, p->r[i])->accepting))
                tell_old(p, i);
            else
                inflight++;
            continue;
        }
        if (atomic_load(&sl->old->info.state) != PVT_W_EXITED)
            continue;
        tw = &p->w[sl->old->slot_index];
        pthread_join(tw->tid, NULL); /* it has returned, or is about to */
        tw->joined = 1;
        sl->old = NULL;
    }
    for (i = 0; i < p->n; i++) {
        struct thr_slot *sl = &p->s[i];
        if (!p->net.roll[i])
            continue;
        if (sl->lost) {
            p->net.roll[i] = 0; /* thr_restart refuses this; nothing to wait for */
            continue;
        }
        if (inflight >= p->net.roll_batch || sl->old ||
            atomic_load(&p->r[i]->info.state) != PVT_W_READY) {
            pending++;
            continue;
        }
        demote(p, i);
        atomic_store(&p->r[i]->info.restarts, atomic_load(&p->spare[i]->info.restarts) + 1);
        if (thr_start(p, i, p->r[i]) < 0) {
            demote(p, i); /* swap back: the predecessor stays current */
            atomic_store(&pvt_serve_net_gen(&p->net, p->r[i])->current, 1);
            sl->old = NULL;
            pending++;
            continue;
        }
        p->net.roll[i] = 0;
        inflight++;
    }
    for (i = 0; i < p->cap; i++)
        pending += p->s[i].old != NULL;
    return inflight || pending ? ROLL_POLL_MS : -1;
}

static int thr_restart(struct pvt_pool *p, int batch)
{
    int i;

    if (p->serving && !p->stopped && batch >= 1) {
        reclaim_lost(p);
        for (i = 0; i < p->n; i++)
            if (p->s[i].lost)
                return -EBUSY; /* a stuck thread holds the ring a replacement needs */
    }
    return pvt_serve_restart(&p->net, p->stopped, batch);
}

static void set_slots(struct pvt_pool *p, int n)
{
    p->n = n;
    p->d.n = n;
    pvt_serve_net_set_slots(&p->net, n);
}

/* One more slot, or one fewer (the highest drains and goes). 0 or -errno. */
static int scale_one_cb(void *arg, int up)
{
    struct pvt_pool *p = arg;
    int i = up ? p->n : p->n - 1, rc;

    if (!up && (p->s[i].old || p->s[i].lost))
        return -EBUSY;
    p->net.roll[i] = 0;
    if (up) {
        set_slots(p, i + 1);
        rc = thr_start(p, i, p->r[i]);
        if (rc < 0) {
            set_slots(p, i);
            return rc;
        }
        p->d.live[i] = 1;
        return 0;
    }
    p->d.live[i] = 0;
    set_slots(p, i);
    demote(p, i);
    pvt_serve_net_hand_over(&p->net, i, p->s[i].old);
    tell_old(p, i);
    return 0;
}

static int thr_scale(struct pvt_pool *p, int delta)
{
    return pvt_serve_scale(&p->net, p->stopped, delta, scale_one_cb, p);
}

/* Wait for the waker or (rr) a connection; hand connections out. -EINTR
 * when a signal ended the wait. */
static int thr_wait_mask(struct pvt_pool *p, int timeout_ms, const sigset_t *mask)
{
    struct pollfd pfd[3] = {{.fd = p->g.waker->efd, .events = POLLIN}, {.fd = -1}, {.fd = -1}};
    struct timespec ts, *tsp = NULL;
    int due = watchdog(p), roll = thr_roll_tick(p);

    if (roll >= 0 && (due < 0 || roll < due))
        due = roll;
    if (due >= 0 && (timeout_ms < 0 || due < timeout_ms))
        timeout_ms = due;
    if (p->serving && p->net.cfg.watch_fd > 0)
        pfd[2] = (struct pollfd){.fd = p->net.cfg.watch_fd, .events = POLLIN};

    if (p->serving && !p->stopped)
        pfd[1] = (struct pollfd){.fd = pvt_serve_net_poll_fd(&p->net, pvt_now_ns(), &timeout_ms),
                                 .events = POLLIN};
    if (timeout_ms >= 0) {
        ts.tv_sec = timeout_ms / 1000;
        ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000;
        tsp = &ts;
    }
    if (ppoll(pfd, 3, tsp, mask) < 0)
        return -errno;
    if (pfd[0].revents && p->serving)
        pvt_waker_drain(p->g.waker); /* the dispatcher drains its own */
    /* rr: a connection, room in a channel, or (no descriptor to wait on,
     * or connections held) a pause or retry that may be over. */
    if (p->serving && !p->stopped && (pfd[1].revents || pfd[1].fd < 0 || p->net.nheld))
        pvt_serve_net_hand_out(&p->net);
    return 0;
}

static int thr_wait(void *arg, int timeout_ms)
{
    int rc = thr_wait_mask(arg, timeout_ms, NULL);

    return rc == -EINTR ? 0 : rc;
}

static void thr_destroy(struct pvt_pool *p);
static int thr_stop(struct pvt_pool *p, int deadline_ms);

static int thr_create(const struct pvt_pool_cfg *cfg, struct pvt_pool **out)
{
    struct pvt_pool *p;
    uint32_t depth = cfg->queue_depth ? cfg->queue_depth : PVT_RING_DEFAULT_DEPTH;
    int i, rc, nrings;

    if (pvt_serve_cap(cfg) < 0)
        return -EINVAL;
    p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->n = cfg->workers;
    p->cap = pvt_serve_cap(cfg);
    if (cfg->sup.max_rss_kb || cfg->sup.max_jobs || pvt_sup_resolve(&cfg->sup, &p->sup) < 0) {
        free(p);
        return cfg->sup.max_rss_kb || cfg->sup.max_jobs ? -EOPNOTSUPP : -EINVAL;
    }
    if (cfg->serve)
        depth = 2; /* the rings carry only info and stop */
    nrings = cfg->serve ? 2 * p->cap : p->n;
    rc = pvt_region_map(&p->g, nrings, depth, 0);
    if (rc < 0) {
        free(p);
        return rc;
    }
    rc = -ENOMEM;
    p->w = calloc((size_t)nrings, sizeof(*p->w));
    p->sets = calloc((size_t)p->cap, sizeof(*p->sets));
    p->r = calloc((size_t)p->cap, sizeof(*p->r));
    p->spare = calloc((size_t)p->cap, sizeof(*p->spare));
    p->s = calloc((size_t)p->cap, sizeof(*p->s));
    if (!p->w || !p->sets || !p->r || !p->spare || !p->s)
        goto fail;
    for (i = 0; i < p->cap; i++) {
        p->r[i] = p->g.rings[i];
        p->spare[i] = cfg->serve ? p->g.rings[p->cap + i] : NULL;
    }
    if (pvt_disp_init(&p->d, p->cap, depth, p->r, p->g.waker) < 0)
        goto fail;
    p->d.n = p->n; /* the slots in use; scale moves it within cap */
    p->bind = pvt_serve_plan_sets(cfg->plan, p->cap, p->sets);
    if (!cfg->serve && (!(p->msg = calloc(1, sizeof(*p->msg))) ||
                        (rc = pvt__thr_msg_init(p->msg, p->n, p->r, p->d.live)) < 0))
        goto fail;
    if (cfg->serve) {
        rc = pvt_serve_net_open(&p->net, cfg->serve, p->n, p->cap, p->r, p->g.rings, 0);
        if (rc < 0)
            goto fail;
        p->serving = 1;
    }
    for (i = 0; i < p->n; i++) {
        rc = thr_start(p, i, p->r[i]);
        if (rc < 0)
            goto fail;
    }
    rc = pvt_disp_wait_ready(&p->d, START_TIMEOUT_MS, thr_wait, p);
    if (rc < 0)
        goto fail;
    for (i = 0; i < p->n; i++)
        p->d.live[i] = 1;
    *out = p;
    return 0;

fail:
    thr_destroy(p);
    return rc;
}

static int thr_submit(struct pvt_pool *p, const struct pvt_job *jobs, int n)
{
    if (p->serving)
        return -EOPNOTSUPP;
    return pvt_disp_submit(&p->d, jobs, n);
}

static int thr_supervise(struct pvt_pool *p, int timeout_ms, const sigset_t *waitmask)
{
    if (!p->serving)
        return -EINVAL;
    return thr_wait_mask(p, timeout_ms, waitmask);
}

static int thr_collect(struct pvt_pool *p, struct pvt_result *res, int max, int timeout_ms)
{
    return pvt_disp_collect(&p->d, res, max, timeout_ms, thr_wait, p);
}

static int thr_stats(struct pvt_pool *p, struct pvt_pool_stats *st)
{
    int i;

    watchdog(p);
    pvt_disp_stats(&p->d, "thread", st);
    st->hangs = p->hangs;
    for (i = 0; p->serving && i < p->cap; i++) {
        st->rolling += p->net.roll[i] || (p->s[i].old && !p->s[i].old_told);
        st->draining += p->s[i].old != NULL;
    }
    for (i = 0; st->w && i < p->n; i++) {
        st->w[i].ready_ns = atomic_load(&p->r[i]->info.ready_ns);
        st->w[i].restarts = atomic_load(&p->r[i]->info.restarts);
    }
    st->port = p->net.port;
    pvt_serve_net_stats(&p->net, st);
    pvt__thr_msg_stats(p->msg, st);
    return 0;
}

static int thr_send(struct pvt_pool *p, int worker, const struct pvt_msg *m)
{
    if (!p->msg)
        return -EOPNOTSUPP;
    watchdog(p); /* a hung thread is not live */
    return pvt__thr_msg_send(p->msg, worker, p->stopped, m);
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
        for (i = 0; i < p->g.n; i++) {
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
    int i, forced = 0;

    if (p->stopped)
        return 0;
    if (p->serving && p->r && p->w && p->s)
        pvt_serve_net_hand_out_all(&p->net); /* what the kernel accepted is served */
    p->stopped = 1;
    if (!p->r || !p->w || !p->s)
        return 0; /* create failed before any thread started */
    p->d.stopping = 1;
    pvt_disp_flush(&p->d); /* queued work runs before the workers exit */
    for (i = 0; i < p->n; i++) {
        if (atomic_load(&p->r[i]->info.state) == PVT_W_READY)
            atomic_store(&p->r[i]->info.state, PVT_W_STOPPING);
        pvt_serve_net_stop(&p->net, p->r[i], 1);
    }
    for (i = 0; p->serving && i < p->cap; i++)
        if (p->s[i].old && !p->s[i].old_told)
            tell_old(p, i);
    if (join_all(p, pvt_now_ns() + (uint64_t)(deadline_ms < 0 ? 0 : deadline_ms) * 1000000u) > 0) {
        /* Past the deadline: each thread exits after its current job. */
        forced = 1;
        for (i = 0; i < p->g.n; i++)
            pvt_serve_net_stop(&p->net, p->g.rings[i], 2);
        if (join_all(p, pvt_now_ns() + (uint64_t)STOP_GRACE_MS * 1000000u) > 0) {
            for (i = 0; i < p->g.n; i++) {
                if (p->w[i].started && !p->w[i].joined) {
                    pthread_detach(p->w[i].tid);
                    p->w[i].joined = 1;
                    p->w[i].stuck = 1;
                    p->leak_region = 1;
                }
            }
        }
    }
    /* Jobs left in a queue never ran; a stuck thread's job failed. */
    for (i = 0; i < p->n && p->d.live; i++) {
        p->d.live[i] = 0;
        if (p->w[i].stuck)
            pvt_disp_abandon(&p->d, i); /* it may still write its ring */
        else
            pvt_disp_drop_queued(&p->d, i);
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
    if (p->serving && p->leak_region) {
        keep(p); /* with everything it points to */
        return;
    }
    if (p->serving)
        pvt_serve_net_close(&p->net);
    pvt_disp_fini(&p->d);
    if (!p->leak_region) {
        if (p->msg)
            pvt__thr_msg_fini(p->msg); /* else a stuck thread may still use it */
        free(p->msg);
        pvt_region_unmap(&p->g);
    } else {
        keep(p->msg);
        keep(p->g.waker);
        free(p->g.rings); /* a stuck thread keeps its own ring pointer, not this array */
    }
    free(p->w);
    free(p->sets);
    free(p->r);
    free(p->spare);
    free(p->s);
    free(p);
}

const struct pvt_pool_ops pvt_thread_ops = {
    .name = "thread",
    .summary = "pthreads in one process: one address space, a crash ends them all",
    .caps = PVT_CAP_SERVE | PVT_CAP_PLACEMENT,
    .create = thr_create,
    .submit = thr_submit,
    .collect = thr_collect,
    .stats = thr_stats,
    .stop = thr_stop,
    .supervise = thr_supervise,
    .restart = thr_restart,
    .scale = thr_scale,
    .send = thr_send,
    .recv = thr_recv,
    .destroy = thr_destroy,
};
