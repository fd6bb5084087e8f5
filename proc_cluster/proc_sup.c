/*
 * proc_sup.c: the process backend's supervision (sup.h says the policy):
 * what follows a death (respawn at once, after the backoff, or never),
 * recycling by RSS, the ring checks, and the backend's mechanics table for
 * the shared policy (pool_policy.c: rolling restart, scale, the watchdog).
 *
 * DESIGN
 * Everything here runs in the primary, inside its wait (proc_pool.c calls
 * pvt__proc_sup_tick before each epoll_pwait and sleeps no longer than the
 * tick asks), so there is no timer thread and no signal handler. A worker
 * is only ever signalled through its pidfd (proc_spawn.c). The watchdog
 * (pvt_policy_watchdog) reads the beat each worker stores in its ring
 * (MAP_SHARED); the one escalation here, proc_force, gives a hung worker
 * SIGTERM, and SIGKILL every kill_grace_ms after if it is still there; its
 * death is then reaped like any other, so its running job fails and a
 * replacement comes. Predecessors (a worker replaced by a rolling restart
 * or removed by scale, still draining) get the same escalation when hung or
 * past drain_timeout_ms, until pvt__proc_reap_old frees the slot's other
 * ring: without it, one stuck in a handler would hold that ring for good.
 *
 * Recycling (max_rss, max_jobs) counts a recycle, not a death, and only a
 * recycle the primary asked for or can verify counts (recycled). A job
 * worker past max_rss is asked to leave after its current job, with
 * recycling set, so reap replaces it at once; its queued jobs wait in its
 * ring for the replacement. A serving worker is replaced the way a rolling
 * restart replaces it (pvt_policy_recycle): its replacement is forked
 * first, and only once that accepts is the old one told to drain, so the
 * slot always has a worker accepting. A serving worker past max_jobs asks
 * for this itself (ring->info.recycle_due, serve.h); one past max_rss is
 * found here.
 *
 * Corruption. Every RING_CHECK_MS the primary looks at each worker's ring
 * for what no honest worker writes (pvt_disp_ring_check: a state outside
 * the enum, done outside [head, tail]). Such a worker has scribbled over
 * its own memory: it is killed (SIGKILL) and, its death reaped like any
 * other, replaced. It is the only thing the primary does on that finding,
 * and it hits only the worker that owns the ring.
 */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc_int.h"

#define RSS_CHECK_MS 100
#define RING_CHECK_MS 250

/*
 * The exit code is the worker's word, and a worker that says "recycle me"
 * is respawned at once and never counted as a death: believed from any
 * worker, it would let one that exits in a loop escape the backoff and the
 * crash-loop guard. So PVT_WEXIT_RECYCLE counts only where the primary can
 * check it: a job pool's worker whose ring shows it finished the job limit
 * the primary gave it (a serving worker is recycled by the primary, as a
 * rolling restart replaces it, and never leaves with this code to be
 * believed).
 */
static int recycled(struct pvt_pool *p, int i, int status)
{
    struct proc_slot *sl = &p->s[i];
    uint64_t done, limit = p->pol.s[i].job_limit;

    if (p->pol.stopping)
        return 0;
    if (sl->recycling)
        return 1; /* asked: max_rss */
    if (p->pol.serving || !limit || !WIFEXITED(status) || WEXITSTATUS(status) != PVT_WEXIT_RECYCLE)
        return 0;
    done = pvt__proc_ring_done(p, i);
    return done >= sl->job_base && done - sl->job_base >= limit;
}

/* After a death that was neither asked for nor a recycle: respawn now, later
 * (the backoff), or never (no_respawn, a worker that could not bind, or the
 * crash-loop guard parks the slot). */
static void after_death(struct pvt_pool *p, int i)
{
    struct proc_slot *sl = &p->s[i];
    int delay;

    if (!p->respawn || sl->last_code == PVT_WEXIT_CONFIG) {
        pvt__proc_retire(p, i);
        return;
    }
    delay = pvt_sup_on_death(&p->pol.sup, &sl->sup, pvt_now_ns());
    if (delay > 0) {
        /* Backoff: the slot stays live and its queue waits for the worker
         * respawn_due forks then; connections do not wait that long in its
         * channel, another worker takes them. */
        sl->respawn_at = pvt_now_ns() + (uint64_t)delay * 1000000u;
        if (p->pol.serving)
            pvt_serve_net_reclaim(&p->pol.net, p->pol.r[i]);
        return;
    }
    if (delay < 0 || pvt__proc_respawn(p, i) < 0)
        pvt__proc_retire(p, i);
}

void pvt__proc_reap(struct pvt_pool *p, int i)
{
    struct proc_slot *sl = &p->s[i];
    struct pvt_ring *r = p->pol.r[i];
    int status, intended, was_recycled;
    uint64_t done, running;

    if (pvt__proc_reap_pid(p, i, &status) < 0)
        return;
    /* Whatever replaces it now is no recycle of a serving worker. */
    p->pol.s[i].recycle_why = p->pol.s[i].repl_why = PVT_RECYCLE_NONE;
    was_recycled = recycled(p, i, status);
    intended = p->pol.stopping || (sl->stop_asked && !was_recycled);
    sl->last_intended = intended || was_recycled;
    sl->last_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    sl->last_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    atomic_store(&r->info.state, PVT_W_EXITED);
    if (!intended && !was_recycled)
        p->deaths++;

    /* done clamped to what was queued; running only compared with it. */
    done = pvt_disp_done(&p->pol.d, i);
    running = atomic_load(&r->running);
    if (running == done + 1)
        pvt_disp_fail_next(&p->pol.d, i, PVT_JOB_FAILED);

    if (intended) {
        pvt__proc_retire(p, i);
    } else if (was_recycled) {
        p->pol.s[i].recycles++;
        p->pol.recycles++;
        if (pvt__proc_respawn(p, i) < 0)
            pvt__proc_retire(p, i);
    } else {
        after_death(p, i);
    }
}

/* Respawns whose backoff is over. */
static void respawn_due(struct pvt_pool *p, uint64_t now, uint64_t *next)
{
    int i;

    for (i = 0; i < p->pol.n; i++) {
        struct proc_slot *sl = &p->s[i];
        if (!sl->respawn_at)
            continue;
        if (now < sl->respawn_at) {
            if (sl->respawn_at < *next)
                *next = sl->respawn_at;
            continue;
        }
        sl->respawn_at = 0;
        if (pvt__proc_respawn(p, i) < 0)
            pvt__proc_retire(p, i);
    }
}

/*
 * The escalation, for a hung worker (the watchdog) and for a predecessor
 * hung or past its drain deadline alike: SIGTERM first (step 0), then
 * SIGKILL once every kill_grace_ms (step 1, timed by the policy) until its
 * pidfd reports it dead and its reap frees the slot, or its other ring.
 */
static void proc_force(struct pvt_policy *pol, int i, int old, int step)
{
    pvt__proc_signal(pvt__proc_pool(pol), i, old, step ? SIGKILL : SIGTERM);
}

/* A slot added or removed by scale: no respawn pending, not parked. */
static void proc_reset(struct pvt_policy *pol, int i)
{
    struct proc_slot *sl = &pvt__proc_pool(pol)->s[i];

    sl->respawn_at = 0;
    sl->sup.parked = 0;
}

const struct pvt_policy_mech pvt__proc_mech = {
    .start = pvt__proc_mech_start,
    .alive = pvt__proc_mech_alive,
    .demote = pvt__proc_mech_demote,
    .force = proc_force,
    .reset = proc_reset,
    /* no old_gone: a predecessor's pidfd wakes the wait, which reaps it */
};

static void rss_check(struct pvt_pool *p, uint64_t now, uint64_t *next)
{
    struct pvt_policy *pol = &p->pol;
    long kb;
    int i;

    if (!pol->sup.max_rss_kb)
        return;
    if (now >= p->next_rss_check) {
        p->next_rss_check = now + RSS_CHECK_MS * 1000000ull;
        for (i = 0; i < pol->n; i++) {
            struct proc_slot *sl = &p->s[i];
            if (!sl->pid || sl->recycling || atomic_load(&pol->r[i]->info.state) != PVT_W_READY)
                continue;
            if (pol->serving && pol->net.roll[i])
                continue;
            kb = pvt_sup_rss_kb(sl->pid);
            if (kb < 0 || (uint64_t)kb <= pol->sup.max_rss_kb)
                continue;
            if (pol->serving) {
                pvt_policy_recycle(pol, i, PVT_RECYCLE_RSS, (uint64_t)kb);
                continue;
            }
            sl->recycling = 1;
            pvt__proc_ask_stop(p, i, 2);
        }
    }
    if (p->next_rss_check < *next)
        *next = p->next_rss_check;
}

/* Workers whose rings hold garbage: killed, to be reaped and replaced. */
static void ring_check(struct pvt_pool *p, uint64_t now, uint64_t *next)
{
    int i;

    if (now >= p->next_ring_check) {
        p->next_ring_check = now + RING_CHECK_MS * 1000000ull;
        for (i = 0; i < p->pol.n; i++) {
            struct proc_slot *sl = &p->s[i];
            if (sl->pid && !sl->killed_corrupt && pvt_disp_ring_check(&p->pol.d, i) < 0) {
                sl->killed_corrupt = 1;
                pvt__proc_signal(p, i, 0, SIGKILL);
            }
            /* A predecessor's ring has nothing queued: only its state can lie. */
            if (sl->old_pid) {
                int st = atomic_load(&p->pol.s[i].old->info.state);
                if (st < PVT_W_EMPTY || st > PVT_W_EXITED)
                    pvt__proc_signal(p, i, 1, SIGKILL);
            }
        }
    }
    if (p->next_ring_check < *next)
        *next = p->next_ring_check;
}

int pvt__proc_sup_tick(struct pvt_pool *p, uint64_t now)
{
    uint64_t next = UINT64_MAX;

    ring_check(p, now, &next);
    respawn_due(p, now, &next);
    pvt_policy_watchdog(&p->pol, now, &next);
    pvt_policy_jobs_check(&p->pol);
    rss_check(p, now, &next);
    if (next == UINT64_MAX)
        return -1;
    return next <= now ? 0 : (int)((next - now + 999999) / 1000000);
}
