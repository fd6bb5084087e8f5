/*
 * ref_glib.c: GLib's GThreadPool behind the worker interface ("glib"), the
 * thread pool most C programs reach for, run beside pvt's backends so the
 * dispatch comparison is made in one run on the same machine.
 *
 * DESIGN
 * Jobs go through g_thread_pool_push, which is GLib's own queue (a mutex and
 * a condition variable); that queue is what is measured. To stay out of its
 * way, results need no lock: job t lives in slot t % cap, and the worker that
 * runs it stores its value and then, with release order, done = t + 1. The
 * driver collects the in-order prefix of finished slots. The driver sleeps on
 * an eventfd, and a worker writes to it only when the driver is waiting and
 * the job it finished is the one the driver asked to be woken at, so wake-ups
 * are batched as they are for pvt's backends. The pool is unbound: GThreadPool
 * has no placement.
 *
 * GThreadPool's queue is unbounded and it is fastest when it never runs dry
 * (its workers then never sleep on its condition variable), so the reference
 * lets at least GLIB_MIN_CAP jobs be outstanding whatever the queue depth: as a
 * program does that pushes all its work at once. Measured here, a cap of 8192
 * made it 3x slower with 2 workers; the comparison must not be won that way.
 */
#include <errno.h>
#include <glib.h>
#include <poll.h>
#include <stdlib.h>

#include "backends.h"
#include "shared/core/ring.h"
#include "shared/work/work.h"

/* GLib is not built with ThreadSanitizer, and its queue waits on futexes of
 * its own, so TSan cannot see that g_thread_pool_push orders what the driver
 * wrote (the pool, the job's slot) before the pool thread that pops the job
 * reads it. Under TSan the
 * hand-off is told to it; elsewhere these are nothing. */
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#define HANDOFF_RELEASE(addr) __tsan_release(addr)
#define HANDOFF_ACQUIRE(addr) __tsan_acquire(addr)
#else
#define HANDOFF_RELEASE(addr) ((void)(addr))
#define HANDOFF_ACQUIRE(addr) ((void)(addr))
#endif

#define GLIB_MIN_CAP (1u << 20)

struct glib_slot {
    struct pvt_job job;
    uint64_t value;
    _Atomic uint64_t done; /* t + 1 once job t has its value */
};

struct pvt_pool {
    GThreadPool *gp;
    struct glib_slot *slots;
    uint64_t cap;
    uint64_t tail, head;
    _Atomic uint64_t wake_at; /* wake the driver once this job is done */
    struct pvt_waker waker;
    int workers;
    int stopping;
    uint64_t completed;
};

static void free_ctx(gpointer p)
{
    pvt_work_ctx_fini(p);
    free(p);
}

/* Each worker's scratch space. GLib wants a GPrivate in static storage; the
 * pool's threads are exclusive to it, so one key serves every pool. */
static GPrivate ctx_key = G_PRIVATE_INIT(free_ctx);

static void glib_run(gpointer data, gpointer user)
{
    struct pvt_pool *p = user;
    uint64_t t = (uint64_t)(uintptr_t)data - 1;
    struct glib_slot *s;
    struct pvt_work_ctx *ctx;

    HANDOFF_ACQUIRE(p);
    s = &p->slots[t % p->cap];
    ctx = g_private_get(&ctx_key);

    if (!ctx) {
        ctx = calloc(1, sizeof(*ctx));
        g_private_set(&ctx_key, ctx);
    }
    s->value = ctx ? pvt_work_run(ctx, &s->job) : PVT_WORK_ENOMEM;
    atomic_store_explicit(&s->done, t + 1, memory_order_release);
    if (atomic_load_explicit(p->waker.waiting, memory_order_relaxed) &&
        t + 1 >= atomic_load_explicit(&p->wake_at, memory_order_relaxed))
        pvt_waker_kick(&p->waker);
}

static void glib_destroy(struct pvt_pool *p);

static int glib_create(const struct pvt_pool_cfg *cfg, struct pvt_pool **out)
{
    struct pvt_pool *p;
    GError *err = NULL;
    uint32_t depth = cfg->queue_depth ? cfg->queue_depth : PVT_RING_DEFAULT_DEPTH;
    int rc;

    if (cfg->workers < 1 || cfg->workers > PVT_MAX_WORKERS)
        return -EINVAL;
    if (cfg->serve)
        return -EOPNOTSUPP; /* task mode only */
    p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->workers = cfg->workers;
    p->cap = (uint64_t)depth * (uint64_t)cfg->workers;
    if (p->cap < GLIB_MIN_CAP)
        p->cap = GLIB_MIN_CAP;
    p->waker.efd = -1;
    p->slots = calloc(p->cap, sizeof(*p->slots));
    rc = -ENOMEM;
    if (!p->slots)
        goto fail;
    rc = pvt_waker_init(&p->waker, NULL);
    if (rc < 0)
        goto fail;
    p->gp = g_thread_pool_new(glib_run, p, cfg->workers, TRUE, &err);
    if (!p->gp) {
        g_clear_error(&err);
        rc = -EAGAIN;
        goto fail;
    }
    *out = p;
    return 0;
fail:
    glib_destroy(p);
    return rc;
}

static int glib_submit(struct pvt_pool *p, const struct pvt_job *jobs, int n)
{
    int k;

    if (p->stopping)
        return -ESHUTDOWN;
    for (k = 0; k < n && p->tail - p->head < p->cap; k++) {
        struct glib_slot *s = &p->slots[p->tail % p->cap];
        s->job = jobs[k];
        p->tail++;
        HANDOFF_RELEASE(p);
        g_thread_pool_push(p->gp, (gpointer)(uintptr_t)p->tail, NULL);
    }
    return k > 0 ? k : -EAGAIN;
}

static int drain(struct pvt_pool *p, struct pvt_result *res, int max)
{
    int got = 0;

    while (got < max && p->head < p->tail) {
        struct glib_slot *s = &p->slots[p->head % p->cap];
        if (atomic_load_explicit(&s->done, memory_order_acquire) != p->head + 1)
            break;
        res[got++] = (struct pvt_result){.id = s->job.id, .value = s->value};
        p->head++;
    }
    p->completed += (uint64_t)got;
    return got;
}

static int glib_collect(struct pvt_pool *p, struct pvt_result *res, int max, int timeout_ms)
{
    struct pollfd pfd = {.fd = p->waker.efd, .events = POLLIN};
    int got;

    for (;;) {
        got = drain(p, res, max);
        if (got > 0)
            return got;
        if (p->head == p->tail)
            return -ENOENT;
        /* Sleep until half of what is outstanding is done. */
        atomic_store(&p->wake_at, p->head + (p->tail - p->head + 1) / 2);
        atomic_store(p->waker.waiting, 1);
        got = drain(p, res, max);
        if (got > 0) {
            atomic_store(p->waker.waiting, 0);
            return got;
        }
        if (poll(&pfd, 1, timeout_ms) == 0) {
            pvt_waker_drain(&p->waker);
            return drain(p, res, max);
        }
        pvt_waker_drain(&p->waker);
    }
}

static int glib_stats(struct pvt_pool *p, struct pvt_pool_stats *st)
{
    int i;

    st->backend = pvt_glib_ops.name;
    st->workers = p->workers;
    st->live = p->stopping ? 0 : p->workers;
    st->submitted = p->tail;
    st->completed = p->completed;
    st->failed = 0;
    st->dropped = 0;
    st->deaths = 0;
    for (i = 0; st->w && i < p->workers; i++)
        st->w[i] = (struct pvt_worker_stats){.slot = i, .state = PVT_W_READY, .last_exit_code = -1};
    return 0;
}

static int glib_stop(struct pvt_pool *p, int deadline_ms)
{
    if (p->gp) {
        /* GLib has no deadline: finish what is queued, then join. */
        g_thread_pool_free(p->gp, FALSE, TRUE);
        p->gp = NULL;
    }
    p->stopping = 1;
    return 0;
}

static void glib_destroy(struct pvt_pool *p)
{
    if (!p)
        return;
    glib_stop(p, 0);
    pvt_waker_close(&p->waker);
    free(p->slots);
    free(p);
}

const struct pvt_pool_ops pvt_glib_ops = {
    .name = "glib",
    .summary = "reference: GLib's GThreadPool (task mode only, unbound)",
    .caps = 0, /* threads, unbound, no server, no recycling */
    .create = glib_create,
    .submit = glib_submit,
    .collect = glib_collect,
    .stats = glib_stats,
    .stop = glib_stop,
    .destroy = glib_destroy,
};
