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
 * Serving pools (serve.h). Each thread runs the same server a worker process
 * runs, on the shared socket, its own reuseport socket, or its end of an rr
 * channel; with rr the driving thread is the acceptor and passes descriptor
 * numbers, since every thread shares the descriptor table. A serving thread
 * is told to stop through its ring's eventfd, so its stop is never stuck in
 * a job: stop 2 closes its connections and it returns.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "disp.h"
#include "place.h"
#include "serve.h"
#include "thr_pool.h"

#define START_TIMEOUT_MS 10000
#define STOP_GRACE_MS 1000

struct thr_worker {
    struct pvt_pool *pool;
    int slot;
    int started; /* pthread_create succeeded */
    int joined;
    int stuck; /* never returned from its job: detached, memory kept */
    pthread_t tid;
};

struct pvt_pool {
    struct pvt_region g;
    struct pvt_disp d;
    int n;
    int bind;
    cpu_set_t *sets;
    struct thr_worker *w;
    int stopped;
    int leak_region; /* a thread could not be joined: keep its memory mapped */
    int serving;
    struct pvt_serve_net net;
    struct pvt_sup_cfg sup; /* only the watchdog applies to threads */
    uint64_t hangs;
};

static void *thr_main(void *arg)
{
    struct thr_worker *tw = arg;
    struct pvt_pool *p = tw->pool;
    struct pvt_ring *r = p->g.rings[tw->slot];
    int rc;

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
    atomic_store(&r->info.ready_ns, pvt_now_ns());
    atomic_store(&r->info.state, PVT_W_READY);
    atomic_thread_fence(memory_order_seq_cst);
    pvt_waker_kick(r->waker);

    if (p->serving) {
        struct pvt_serve_worker w;
        pvt_serve_net_worker(&p->net, tw->slot, "thread", getpid(), &w);
        pvt_serve_worker_run(&w);
    } else {
        pvt_ring_worker_loop(r);
    }

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
        struct pvt_ring *r = p->g.rings[i];
        int busy = p->serving || atomic_load(&r->running) == atomic_load(&r->done) + 1;
        if (atomic_load(&r->info.hung) || atomic_load(&r->info.state) != PVT_W_READY)
            continue;
        if (pvt_sup_hung(&p->sup, atomic_load(&r->info.beat_ns), busy, now)) {
            atomic_store(&r->info.hung, 1);
            p->d.live[i] = 0; /* new jobs go to the others */
            p->hangs++;
        }
    }
    return (int)pvt_sup_beat_ms(&p->sup);
}

/* Wait for the waker or (rr) a connection; hand connections out. -EINTR
 * when a signal ended the wait. */
static int thr_wait_mask(struct pvt_pool *p, int timeout_ms, const sigset_t *mask)
{
    struct pollfd pfd[2] = {{.fd = p->g.waker->efd, .events = POLLIN}, {.fd = -1}};
    struct timespec ts, *tsp = NULL;
    int due = watchdog(p);

    if (due >= 0 && (timeout_ms < 0 || due < timeout_ms))
        timeout_ms = due;

    if (p->serving && p->net.cfg.distribution == PVT_DIST_RR && !p->stopped)
        pfd[1] = (struct pollfd){.fd = p->net.lfds[0], .events = POLLIN};
    if (timeout_ms >= 0) {
        ts.tv_sec = timeout_ms / 1000;
        ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000;
        tsp = &ts;
    }
    if (ppoll(pfd, 2, tsp, mask) < 0)
        return -errno;
    if (pfd[0].revents && p->serving)
        pvt_waker_drain(p->g.waker); /* the dispatcher drains its own */
    if (pfd[1].revents)
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
    int i, rc;

    if (cfg->workers < 1 || cfg->workers > PVT_MAX_WORKERS ||
        (cfg->plan && cfg->plan->workers < cfg->workers))
        return -EINVAL;
    p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->n = cfg->workers;
    if (cfg->sup.max_rss_kb || cfg->sup.max_jobs || pvt_sup_resolve(&cfg->sup, &p->sup) < 0) {
        free(p);
        return cfg->sup.max_rss_kb || cfg->sup.max_jobs ? -EOPNOTSUPP : -EINVAL;
    }
    if (cfg->serve)
        depth = 2; /* the rings carry only info and stop */
    rc = pvt_region_map(&p->g, p->n, depth, 0);
    if (rc < 0) {
        free(p);
        return rc;
    }
    rc = -ENOMEM;
    p->w = calloc((size_t)p->n, sizeof(*p->w));
    p->sets = calloc((size_t)p->n, sizeof(*p->sets));
    if (!p->w || !p->sets || pvt_disp_init(&p->d, p->n, depth, p->g.rings, p->g.waker) < 0)
        goto fail;
    if (cfg->plan && cfg->plan->bind) {
        p->bind = 1;
        memcpy(p->sets, cfg->plan->sets, (size_t)p->n * sizeof(*p->sets));
    }
    if (cfg->serve) {
        rc = pvt_serve_net_open(&p->net, cfg->serve, p->n, p->g.rings, 0);
        if (rc < 0)
            goto fail;
        p->serving = 1;
    }
    for (i = 0; i < p->n; i++) {
        p->g.rings[i]->beat_ms = pvt_sup_beat_ms(&p->sup);
        p->w[i].pool = p;
        p->w[i].slot = i;
        atomic_store(&p->g.rings[i]->info.state, PVT_W_STARTING);
        rc = pthread_create(&p->w[i].tid, NULL, thr_main, &p->w[i]);
        if (rc) {
            rc = -rc;
            atomic_store(&p->g.rings[i]->info.state, PVT_W_EMPTY);
            goto fail;
        }
        p->w[i].started = 1;
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
    watchdog(p);
    pvt_disp_stats(&p->d, "thread", st);
    st->hangs = p->hangs;
    st->port = p->net.port;
    st->handed_out = p->net.handed;
    st->refused = p->net.refused;
    return 0;
}

/* Join every started thread by the deadline. Returns how many are left. */
static int join_all(struct pvt_pool *p, const struct timespec *deadline)
{
    int i, left = 0;

    for (i = 0; i < p->n; i++) {
        struct thr_worker *tw = &p->w[i];
        if (!tw->started || tw->joined)
            continue;
        if (pthread_timedjoin_np(tw->tid, NULL, deadline) == 0)
            tw->joined = 1;
        else
            left++;
    }
    return left;
}

static int thr_stop(struct pvt_pool *p, int deadline_ms)
{
    struct timespec ts;
    int i, forced = 0;

    if (p->stopped)
        return 0;
    p->stopped = 1;
    p->d.stopping = 1;
    pvt_disp_flush(&p->d); /* queued work runs before the workers exit */
    for (i = 0; i < p->n; i++) {
        if (atomic_load(&p->g.rings[i]->info.state) == PVT_W_READY)
            atomic_store(&p->g.rings[i]->info.state, PVT_W_STOPPING);
        pvt_ring_request_stop(p->g.rings[i], 1);
    }
    pvt_realtime_after(&ts, deadline_ms < 0 ? 0 : deadline_ms);
    if (join_all(p, &ts) > 0) {
        /* Past the deadline: each thread exits after its current job. */
        forced = 1;
        for (i = 0; i < p->n; i++)
            pvt_ring_request_stop(p->g.rings[i], 2);
        pvt_realtime_after(&ts, STOP_GRACE_MS);
        if (join_all(p, &ts) > 0) {
            for (i = 0; i < p->n; i++) {
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

static void thr_destroy(struct pvt_pool *p)
{
    if (!p)
        return;
    thr_stop(p, 0);
    if (p->serving && !p->leak_region)
        pvt_serve_net_close(&p->net);
    pvt_disp_fini(&p->d);
    if (!p->leak_region)
        pvt_region_unmap(&p->g);
    else
        free(p->g.rings); /* a stuck thread keeps its own ring pointer, not this array */
    free(p->w);
    free(p->sets);
    free(p);
}

const struct pvt_pool_ops pvt_thread_ops = {
    .name = "thread",
    .summary = "pthreads in one process: one address space, a crash ends them all",
    .create = thr_create,
    .submit = thr_submit,
    .collect = thr_collect,
    .stats = thr_stats,
    .stop = thr_stop,
    .supervise = thr_supervise,
    .destroy = thr_destroy,
};
