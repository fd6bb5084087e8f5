/*
 * pool_policy.c: the serving policy both backends share (pool_policy.h).
 *
 * DESIGN
 * nginx keeps how a worker is spawned, reaped and signalled
 * (ngx_process.c) apart from what the master decides about them
 * (ngx_process_cycle.c). So does pvt: proc_cluster/ and thread_pool/ each
 * fill a struct pvt_policy_mech with their mechanics (start a worker on a
 * ring, is it there, move its handle when it is demoted, force it, has a
 * predecessor gone), and everything decided here is written once: rolling
 * restart, scale, the recycle marks, the hang watchdog's rule and its
 * escalation in time, and the sequence by which a worker becomes ready.
 *
 * Who calls it. Everything but pvt_policy_worker_up runs in the driver, the
 * thread that created the pool, inside the backend's own calls (create,
 * supervise, collect's waits, stats, restart, scale, stop): there is no
 * timer thread, no lock and no signal handler. pvt_policy_worker_up runs in
 * the new worker itself (a worker thread, or a forked child right after its
 * preamble) and touches only that worker's ring and the waker.
 *
 * What the mechanics promise. Each runs in the driver, returns without
 * waiting on a worker, and changes nothing the policy owns but what its
 * comment in pool_policy.h says (a thread's force moving a predecessor to
 * `lost`). A worker's ring is the worker's to write: the policy reads state,
 * beat and accepting from it only to decide when to act, never to index or
 * size anything, and the driver's own record of a worker is the mechanics'
 * (alive).
 *
 * A rolling restart. A slot's replacement starts on the slot's other ring
 * while its current worker, demoted to predecessor, keeps serving; only once
 * the replacement accepts is the predecessor told to stop accepting (stop
 * 1): it finishes what it accepted and exits. A slot is replaced only while
 * it has no predecessor (its other ring is in use until then), only while
 * it is live (a slot retired or parked, or a hung thread taken out of the
 * turn, has nothing a restart can replace: its mark is dropped), and at most
 * roll_batch slots are in flight at once. A predecessor that stops beating,
 * or outlives drain_timeout_ms after it was told, is forced (mech->force,
 * step 0, then step 1 every kill_grace_ms), so none holds a slot for good.
 *
 * Scale. Up: a new slot, live at once, its worker started. Down: the highest
 * slot leaves the turn, its worker is demoted and told to drain at once.
 */
#include "pool_policy.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "shared/core/place.h"

#define ROLL_POLL_MS 5 /* how often a restart in progress looks at its replacements */
#define NS_PER_MS 1000000ull

static void due_at(uint64_t *next, uint64_t t)
{
    if (t < *next)
        *next = t;
}

/* ---- the pool's frame ---- */

static int alloc_slots(struct pvt_policy *pol, int serving)
{
    int i;

    pol->sets = calloc((size_t)pol->cap, sizeof(*pol->sets));
    pol->r = calloc((size_t)pol->cap, sizeof(*pol->r));
    pol->spare = serving ? calloc((size_t)pol->cap, sizeof(*pol->spare)) : NULL;
    pol->s = calloc((size_t)pol->cap, sizeof(*pol->s));
    if (!pol->sets || !pol->r || (serving && !pol->spare) || !pol->s)
        return -ENOMEM;
    for (i = 0; i < pol->cap; i++) {
        pol->r[i] = pol->g.rings[i];
        if (pol->spare)
            pol->spare[i] = pol->g.rings[pol->cap + i];
    }
    return 0;
}

int pvt_policy_init(struct pvt_policy *pol, const struct pvt_pool_cfg *cfg,
                    const struct pvt_policy_mech *mech, int procs)
{
    uint32_t depth = cfg->queue_depth ? cfg->queue_depth : PVT_RING_DEFAULT_DEPTH;
    int rc;

    pol->mech = mech;
    pol->n = cfg->workers;
    pol->cap = pvt_serve_cap(cfg);
    if (pol->cap < 0)
        return -EINVAL;
    rc = pvt_sup_resolve(&cfg->sup, &pol->sup);
    if (rc < 0)
        return rc;
    pol->seed = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull;
    if (cfg->serve)
        depth = 2; /* the rings carry only info and stop */
    rc = pvt_region_map(&pol->g, cfg->serve ? 2 * pol->cap : pol->n, depth, procs);
    if (rc < 0)
        return rc;
    rc = alloc_slots(pol, cfg->serve != NULL);
    if (rc < 0)
        return rc;
    if (pvt_disp_init(&pol->d, pol->cap, depth, pol->r, pol->g.waker) < 0)
        return -ENOMEM;
    pol->d.n = pol->n; /* the slots in use; scale moves it within cap */
    pol->bind = pvt_serve_plan_sets(cfg->plan, pol->cap, pol->sets);
    if (cfg->serve) {
        rc = pvt_serve_net_open(&pol->net, cfg->serve, pol->n, pol->cap, pol->r, pol->g.rings,
                                procs);
        if (rc < 0)
            return rc;
        pol->serving = 1;
    }
    return 0;
}

void pvt_policy_fini(struct pvt_policy *pol, int keep_region)
{
    if (pol->serving)
        pvt_serve_net_close(&pol->net);
    pol->serving = 0;
    pvt_disp_fini(&pol->d);
    if (!keep_region)
        pvt_region_unmap(&pol->g);
    else
        free(pol->g.rings); /* a worker keeps its own ring pointer, not this array */
    pol->g.rings = NULL;
    free(pol->sets);
    free(pol->r);
    free(pol->spare);
    free(pol->s);
    pol->sets = NULL;
    pol->r = pol->spare = NULL;
    pol->s = NULL;
}

int pvt_policy_prepare(struct pvt_policy *pol, int slot, struct pvt_ring *r)
{
    int rc;

    atomic_store(&r->info.state, PVT_W_STARTING);
    atomic_store(&r->info.pid, 0);
    atomic_store(&r->info.bind_err, 0);
    atomic_store(&r->stop, 0);
    atomic_store(&r->info.beat_ns, 0);
    atomic_store(&r->info.hung, 0);
    atomic_store(&r->info.recycle_due, 0);
    r->beat_ms = pvt_sup_beat_ms(&pol->sup);
    pol->s[slot].job_limit = pvt_sup_job_limit(&pol->sup, &pol->seed);
    r->max_jobs = pol->s[slot].job_limit;
    pol->s[slot].force_ns = 0;
    if (pol->serving) {
        rc = pvt_serve_net_prepare(&pol->net, slot, r);
        if (rc < 0) {
            atomic_store(&r->info.state, PVT_W_EMPTY);
            return rc;
        }
        atomic_store(&pvt_serve_net_gen(&pol->net, r)->current, 1);
    }
    return 0;
}

int pvt_policy_worker_up(struct pvt_ring *r, const cpu_set_t *set, struct pvt_msg_chan *chan,
                         int id)
{
    int rc;

    atomic_store(&r->info.pid, id);
    if (set) {
        rc = pvt_place_bind_self(set);
        if (rc < 0) {
            atomic_store(&r->info.bind_err, rc);
            return rc;
        }
    }
    pvt_place_get_self(&r->info.bound);
    if (chan)
        pvt_msg_worker_hello(chan, id); /* waiting once create returns */
    atomic_store(&r->info.ready_ns, pvt_now_ns());
    atomic_store(&r->info.state, PVT_W_READY);
    atomic_thread_fence(memory_order_seq_cst);
    pvt_waker_kick(r->waker);
    return 0;
}

/* ---- forcing a worker that overstays, and the watchdog ---- */

/* One step of forcing slot i's worker (old: its predecessor): step 0 the
 * first time, step 1 once every kill_grace_ms after; *since records when. */
static void force(struct pvt_policy *pol, int i, int old, uint64_t *since, uint64_t now,
                  uint64_t *next)
{
    uint64_t grace = (uint64_t)pol->sup.kill_grace_ms * NS_PER_MS;

    if (!*since) {
        *since = now;
        pol->mech->force(pol, i, old, 0);
    } else if (now - *since >= grace) {
        *since = now; /* once per grace, until it is gone */
        pol->mech->force(pol, i, old, 1);
    }
    due_at(next, *since + grace);
}

/* The watchdog's rule: a ready worker that has work and has not beaten for
 * worker_timeout_ms is hung. A serving worker always has work: it beats
 * even when idle. A job worker has work while it runs a job. */
static int hung(const struct pvt_policy *pol, struct pvt_ring *r, uint64_t now)
{
    int busy = pol->serving || atomic_load(&r->running) == atomic_load(&r->done) + 1;

    return pvt_sup_hung(&pol->sup, atomic_load(&r->info.beat_ns), busy, now);
}

void pvt_policy_watchdog(struct pvt_policy *pol, uint64_t now, uint64_t *next)
{
    int i;

    if (!pol->sup.worker_timeout_ms || pol->stopping)
        return;
    for (i = 0; i < pol->n; i++) {
        struct pvt_policy_slot *s = &pol->s[i];
        struct pvt_ring *r = pol->r[i];

        if (!pol->mech->alive(pol, i))
            continue;
        if (s->force_ns) {
            force(pol, i, 0, &s->force_ns, now, next);
            continue;
        }
        if (atomic_load(&r->info.state) != PVT_W_READY || !hung(pol, r, now))
            continue;
        atomic_store(&r->info.hung, 1);
        pol->hangs++;
        s->hangs++;
        force(pol, i, 0, &s->force_ns, now, next);
    }
    due_at(next, now + (uint64_t)pvt_sup_beat_ms(&pol->sup) * NS_PER_MS);
}

/* Slot i's predecessor is hung, or still there drain_timeout_ms after it
 * was told to drain. A hang is counted once: a worker found hung while it
 * was current was counted then. */
static int old_overdue(struct pvt_policy *pol, int i, uint64_t now, uint64_t *next)
{
    struct pvt_policy_slot *s = &pol->s[i];
    uint64_t drain = (uint64_t)pol->sup.drain_timeout_ms * NS_PER_MS;
    int late = s->old_told && now - s->old_told_ns >= drain;
    /* A serving worker beats even when idle, so busy is always 1. */
    int is_hung = pvt_sup_hung(&pol->sup, atomic_load(&s->old->info.beat_ns), 1, now);

    if (is_hung && !atomic_load(&s->old->info.hung)) {
        atomic_store(&s->old->info.hung, 1);
        pol->hangs++;
        s->hangs++;
    }
    if (is_hung || late)
        return 1;
    if (s->old_told)
        due_at(next, s->old_told_ns + drain);
    if (pol->sup.worker_timeout_ms)
        due_at(next, now + (uint64_t)pvt_sup_beat_ms(&pol->sup) * NS_PER_MS);
    return 0;
}

/* ---- rolling restart ---- */

static void swap_rings(struct pvt_policy *pol, int i)
{
    struct pvt_ring *t = pol->r[i];

    pol->r[i] = pol->spare[i];
    pol->spare[i] = t;
}

/* Slot i's current worker becomes its predecessor; it keeps serving. */
static void demote(struct pvt_policy *pol, int i)
{
    struct pvt_policy_slot *s = &pol->s[i];

    s->old = pol->r[i];
    s->old_told = 0;
    s->old_force_ns = 0;
    s->old_why = PVT_RECYCLE_NONE;
    atomic_store(&pvt_serve_net_gen(&pol->net, s->old)->current, 0); /* /stats: the new one */
    swap_rings(pol, i);
    if (pol->mech->demote)
        pol->mech->demote(pol, i, 0);
    /* No gap to measure: the predecessor serves until its replacement does
     * (replace_us, reap to ready, is 0 for this slot's new worker). */
    atomic_store(&pol->r[i]->info.died_ns, 0);
}

/* Undo demote: the replacement could not start. */
static void promote_back(struct pvt_policy *pol, int i)
{
    swap_rings(pol, i);
    atomic_store(&pvt_serve_net_gen(&pol->net, pol->spare[i])->current, 0);
    atomic_store(&pvt_serve_net_gen(&pol->net, pol->r[i])->current, 1);
    if (pol->mech->demote)
        pol->mech->demote(pol, i, 1);
    pol->s[i].old = NULL;
}

void pvt_policy_tell_old(struct pvt_policy *pol, int i)
{
    struct pvt_policy_slot *s = &pol->s[i];

    atomic_store(&pvt_serve_net_gen(&pol->net, s->old)->current, 0);
    atomic_store(&s->old->info.state, PVT_W_STOPPING); /* out of the rr turn */
    pvt_serve_net_stop(&pol->net, s->old, 1);
    s->old_told = 1;
    s->old_told_ns = pvt_now_ns();
}

void pvt_policy_old_gone(struct pvt_policy *pol, int i)
{
    atomic_store(&pvt_serve_net_gen(&pol->net, pol->s[i].old)->current, 0);
    pol->s[i].old = NULL;
}

/* Slot i's replacement accepts: its predecessor may stop. */
static int replacement_ready(struct pvt_policy *pol, int i)
{
    return atomic_load(&pol->r[i]->info.state) == PVT_W_READY &&
           atomic_load(&pvt_serve_net_gen(&pol->net, pol->r[i])->accepting);
}

/* Slot i's predecessor: reaped if gone, forced if overdue, told to drain
 * once its replacement accepts. 1 while it waits for that replacement. */
static int watch_old(struct pvt_policy *pol, int i, uint64_t now, uint64_t *next)
{
    struct pvt_policy_slot *s = &pol->s[i];

    if (!s->old)
        return 0;
    if (pol->mech->old_gone && pol->mech->old_gone(pol, i)) {
        pvt_policy_old_gone(pol, i);
        return 0;
    }
    if (s->old_force_ns || old_overdue(pol, i, now, next)) {
        force(pol, i, 1, &s->old_force_ns, now, next);
        if (!s->old)
            return 0; /* abandoned */
    }
    if (s->old_told)
        return 0;
    if (replacement_ready(pol, i)) {
        pvt_policy_tell_old(pol, i);
        return 0;
    }
    return 1;
}

/* Replace slot i's worker if its turn has come: 1 when a replacement
 * started, 0 when the slot waits, -1 when its mark was dropped. */
static int roll_one(struct pvt_policy *pol, int i, int inflight)
{
    struct pvt_policy_slot *s = &pol->s[i];

    if (!pol->d.live[i] || s->lost)
        return -1; /* retired, parked or out of the turn: nothing to replace */
    /* Busy: the last replacement still drains, or the worker is not
     * serving (starting, recycling, in backoff): later. */
    if (inflight >= pol->net.roll_batch || s->old || !pol->mech->alive(pol, i) ||
        atomic_load(&pol->r[i]->info.state) != PVT_W_READY)
        return 0;
    demote(pol, i);
    if (pol->mech->start(pol, i, 1) < 0) {
        promote_back(pol, i);
        return 0;
    }
    /* A recycle is done, or this was a restart (recycle_why 0). */
    s->old_why = s->recycle_why;
    s->repl_why = s->recycle_why;
    s->repl_value = s->recycle_value;
    s->recycle_why = PVT_RECYCLE_NONE;
    return 1;
}

int pvt_policy_tick(struct pvt_policy *pol, uint64_t now)
{
    uint64_t next = UINT64_MAX;
    int i, rc, inflight = 0, pending = 0;

    if (!pol->serving || pol->stopping)
        return -1;
    if (pol->mech->reclaim)
        pol->mech->reclaim(pol);
    for (i = 0; i < pol->cap; i++)
        inflight += watch_old(pol, i, now, &next);
    for (i = 0; i < pol->n; i++) {
        if (!pol->net.roll[i])
            continue;
        rc = roll_one(pol, i, inflight);
        if (rc != 0)
            pol->net.roll[i] = 0;
        inflight += rc > 0;
        pending += rc == 0;
    }
    /* A backend that is not woken by a predecessor's exit looks for it. */
    for (i = 0; pol->mech->old_gone && i < pol->cap; i++)
        pending += pol->s[i].old != NULL;
    if (inflight || pending)
        due_at(&next, now + ROLL_POLL_MS * NS_PER_MS);
    if (next == UINT64_MAX)
        return -1;
    return next <= now ? 0 : (int)((next - now + NS_PER_MS - 1) / NS_PER_MS);
}

int pvt_policy_submit(struct pvt_policy *pol, const struct pvt_job *jobs, int n)
{
    if (pol->serving)
        return -EOPNOTSUPP; /* a serving pool's workers take connections, not jobs */
    return pvt_disp_submit(&pol->d, jobs, n);
}

int pvt_policy_restart(struct pvt_policy *pol, int batch)
{
    int i;

    if (pol->serving && !pol->stopping && batch >= 1) {
        if (pol->mech->reclaim)
            pol->mech->reclaim(pol);
        for (i = 0; i < pol->n; i++)
            if (pol->s[i].lost)
                return -EBUSY; /* an abandoned worker holds the ring a replacement needs */
    }
    return pvt_serve_restart(&pol->net, pol->stopping, batch);
}

/* ---- scale ---- */

static void set_slots(struct pvt_policy *pol, int n)
{
    pol->n = n;
    pol->d.n = n;
    pvt_serve_net_set_slots(&pol->net, n);
}

/* One more slot, its worker started. 0 or -errno. */
static int grow(struct pvt_policy *pol)
{
    int i = pol->n, rc;

    pol->net.roll[i] = 0;
    if (pol->mech->reset)
        pol->mech->reset(pol, i);
    set_slots(pol, i + 1);
    pol->d.live[i] = 1;
    rc = pol->mech->start(pol, i, 0);
    if (rc < 0) {
        pol->d.live[i] = 0;
        set_slots(pol, i);
    }
    return rc;
}

/* The highest slot drains and goes. 0 or -errno. */
static int shrink(struct pvt_policy *pol)
{
    int i = pol->n - 1;
    struct pvt_policy_slot *s = &pol->s[i];

    if (s->old || s->lost)
        return -EBUSY;
    pol->net.roll[i] = 0;
    if (pol->mech->reset)
        pol->mech->reset(pol, i);
    pol->d.live[i] = 0;
    set_slots(pol, i);
    if (pol->mech->alive(pol, i))
        demote(pol, i);
    /* reuseport: worker processes hold their own copy of the slot's socket,
     * so the driver closes its own; a worker thread uses the driver's, so
     * it is handed over for that thread to close once it stops accepting. */
    if (pol->net.scm || !s->old)
        pvt_serve_net_retire(&pol->net, i);
    else
        pvt_serve_net_hand_over(&pol->net, i, s->old);
    if (s->old)
        pvt_policy_tell_old(pol, i);
    return 0;
}

static int scale_one_cb(void *arg, int up)
{
    return up ? grow(arg) : shrink(arg);
}

int pvt_policy_scale(struct pvt_policy *pol, int delta)
{
    return pvt_serve_scale(&pol->net, pol->stopping, delta, scale_one_cb, pol);
}

/* ---- recycling, stop, stats ---- */

void pvt_policy_recycle(struct pvt_policy *pol, int i, int why, uint64_t value)
{
    if (pol->net.roll[i])
        return; /* already to be replaced */
    pol->net.roll[i] = 1;
    pol->s[i].recycle_why = why;
    pol->s[i].recycle_value = value;
    if (pol->net.roll_batch < 1)
        pol->net.roll_batch = 1;
    pol->s[i].recycles++;
    pol->recycles++;
}

void pvt_policy_jobs_check(struct pvt_policy *pol)
{
    int i;

    if (!pol->serving || !pol->sup.max_jobs)
        return;
    for (i = 0; i < pol->n; i++)
        if (pol->mech->alive(pol, i) && atomic_load(&pol->r[i]->info.recycle_due))
            pvt_policy_recycle(pol, i, PVT_RECYCLE_JOBS, pol->s[i].job_limit);
}

void pvt_policy_stop_all(struct pvt_policy *pol)
{
    int i;

    pvt_disp_flush(&pol->d); /* queued work runs before the workers exit */
    for (i = 0; i < pol->n; i++) {
        if (atomic_load(&pol->r[i]->info.state) == PVT_W_READY)
            atomic_store(&pol->r[i]->info.state, PVT_W_STOPPING);
        pvt_serve_net_stop(&pol->net, pol->r[i], 1);
    }
    for (i = 0; pol->serving && i < pol->cap; i++)
        if (pol->s[i].old && !pol->s[i].old_told)
            pvt_policy_tell_old(pol, i);
}

void pvt_policy_stats(const struct pvt_policy *pol, const char *backend,
                      struct pvt_pool_stats *st)
{
    int i;

    pvt_disp_stats(&pol->d, backend, st);
    st->hangs = pol->hangs;
    for (i = 0; st->w && i < st->workers && i < pol->cap; i++)
        st->w[i].hangs = pol->s[i].hangs;
    st->recycles = pol->recycles;
    st->port = pol->net.port;
    pvt_serve_net_stats(&pol->net, st);
    for (i = 0; pol->serving && i < pol->cap; i++) {
        st->rolling += pol->net.roll[i] || (pol->s[i].old && !pol->s[i].old_told);
        st->draining += pol->s[i].old != NULL;
    }
}
