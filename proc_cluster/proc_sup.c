/*
 * proc_sup.c: the process backend's supervision (sup.h says the policy):
 * respawns held back by the backoff, the hang watchdog, recycling by RSS.
 *
 * DESIGN
 * Everything here runs in the primary, inside its wait (proc_pool.c calls
 * pvt__proc_sup_tick before each epoll_pwait and sleeps no longer than the
 * tick asks), so there is no timer thread and no signal handler. A worker
 * is only ever signalled through its pidfd. The watchdog reads the beat each
 * worker stores in its ring (MAP_SHARED): a hung worker gets SIGTERM, and
 * SIGKILL kill_grace_ms later if it is still there; its death is then
 * reaped like any other, so its running job fails and a replacement comes.
 * Recycling (max_rss, max_jobs) counts a recycle, not a death, and only a
 * recycle the primary asked for or can verify counts (pvt__proc_recycled).
 * A job worker past max_rss is asked to leave after its current job, with
 * recycling set, so reap replaces it at once; its queued jobs wait in its
 * ring for the replacement. A serving worker is replaced the way a rolling
 * restart replaces it (proc_roll.c): its replacement is forked first, and
 * only once that accepts is the old one told to drain, so the slot always
 * has a worker accepting. A serving worker past max_jobs asks for this
 * itself (ring->info.recycle_due, serve.h); one past max_rss is found here.
 *
 * Predecessors (proc_roll.c) are watched too: one that stops beating is
 * hung, and one still there drain_timeout_ms after it was told to drain is
 * late. Either gets SIGTERM, then SIGKILL every kill_grace_ms until its
 * pidfd reports it dead and pvt__proc_reap_old frees the slot's other ring.
 * Without this, a predecessor stuck in a handler would hold that ring for
 * good, and the slot could never be replaced again.
 *
 * Corruption. Every RING_CHECK_MS the primary looks at each worker's ring
 * for what no honest worker writes (pvt_disp_ring_check: a state outside
 * the enum, done outside [head, tail]). Such a worker has scribbled over
 * its own memory: it is killed (SIGKILL) and, its death reaped like any
 * other, replaced. It is the only thing the primary does on that finding,
 * and it hits only the worker that owns the ring.
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc_int.h"

#define RSS_CHECK_MS 100
#define RING_CHECK_MS 250

uint64_t pvt__proc_ring_done(struct pvt_pool *p, int i)
{
    return pvt_disp_done(&p->d, i);
}

/*
 * The exit code is the worker's word, and a worker that says "recycle me"
 * is respawned at once and never counted as a death: believed from any
 * worker, it would let one that exits in a loop escape the backoff and the
 * crash-loop guard. So PVT_WEXIT_RECYCLE counts only where the primary can
 * check it: a job pool's worker whose ring shows it finished the job limit
 * the primary gave it (a serving worker is recycled by the primary, in
 * proc_roll.c, and never leaves with this code to be believed).
 */
int pvt__proc_recycled(struct pvt_pool *p, int i, int status)
{
    struct proc_slot *sl = &p->s[i];
    uint64_t done;

    if (p->stopping)
        return 0;
    if (sl->recycling)
        return 1; /* asked: max_rss */
    if (p->serving || !sl->job_limit || !WIFEXITED(status) ||
        WEXITSTATUS(status) != PVT_WEXIT_RECYCLE)
        return 0;
    done = pvt__proc_ring_done(p, i);
    return done >= sl->job_base && done - sl->job_base >= sl->job_limit;
}

/* Respawns whose backoff is over. */
static void respawn_due(struct pvt_pool *p, uint64_t now, uint64_t *next)
{
    int i;

    for (i = 0; i < p->n; i++) {
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

static void watchdog(struct pvt_pool *p, uint64_t now, uint64_t *next)
{
    uint64_t grace = (uint64_t)p->sup.kill_grace_ms * 1000000u, tick;
    int i;

    if (!p->sup.worker_timeout_ms)
        return;
    for (i = 0; i < p->n; i++) {
        struct proc_slot *sl = &p->s[i];
        struct pvt_ring *r = p->r[i];
        int busy;

        if (!sl->pid)
            continue;
        if (sl->term_at) {
            if (now - sl->term_at >= grace) {
                pvt__proc_signal(p, i, SIGKILL);
                sl->term_at = now; /* once per grace, until it is reaped */
            }
            continue;
        }
        if (atomic_load(&r->info.state) != PVT_W_READY)
            continue;
        busy = p->serving || atomic_load(&r->running) == atomic_load(&r->done) + 1;
        if (pvt_sup_hung(&p->sup, atomic_load(&r->info.beat_ns), busy, now)) {
            atomic_store(&r->info.hung, 1);
            p->hangs++;
            sl->term_at = now;
            pvt__proc_signal(p, i, SIGTERM);
        }
    }
    tick = now + (uint64_t)pvt_sup_beat_ms(&p->sup) * 1000000u;
    if (tick < *next)
        *next = tick;
}

static void due_at(uint64_t *next, uint64_t t)
{
    if (t < *next)
        *next = t;
}

/* The watchdog and the drain deadline, for draining predecessors. */
static void old_watch(struct pvt_pool *p, uint64_t now, uint64_t *next)
{
    uint64_t grace = (uint64_t)p->sup.kill_grace_ms * 1000000u;
    uint64_t drain = (uint64_t)p->sup.drain_timeout_ms * 1000000u;
    int i, hung, late;

    for (i = 0; i < p->cap; i++) {
        struct proc_slot *sl = &p->s[i];
        if (!sl->old_pid)
            continue;
        if (sl->old_term_ns) {
            if (now - sl->old_term_ns >= grace) {
                pvt__proc_signal_old(p, i, SIGKILL);
                sl->old_term_ns = now; /* once per grace, until it is reaped */
            }
            due_at(next, sl->old_term_ns + grace);
            continue;
        }
        /* A serving worker beats even when idle, so busy is always 1. */
        hung = pvt_sup_hung(&p->sup, atomic_load(&sl->old_ring->info.beat_ns), 1, now);
        late = sl->old_told && now - sl->old_told_ns >= drain;
        if (hung || late) {
            if (hung && !atomic_load(&sl->old_ring->info.hung)) {
                atomic_store(&sl->old_ring->info.hung, 1);
                p->hangs++;
            }
            sl->old_term_ns = now;
            pvt__proc_signal_old(p, i, SIGTERM);
            due_at(next, now + grace);
            continue;
        }
        if (sl->old_told)
            due_at(next, sl->old_told_ns + drain);
        if (p->sup.worker_timeout_ms)
            due_at(next, now + (uint64_t)pvt_sup_beat_ms(&p->sup) * 1000000u);
    }
}

/* Serving slot i's worker is to be recycled (why, value: as in
 * pvt_worker_stats): replace it as a rolling restart does, once. */
static void recycle_serving(struct pvt_pool *p, int i, int why, uint64_t value)
{
    if (p->net.roll[i])
        return; /* already to be replaced */
    p->net.roll[i] = 1;
    p->s[i].recycle_why = why;
    p->s[i].recycle_value = value;
    if (p->net.roll_batch < 1)
        p->net.roll_batch = 1;
    p->s[i].sup.recycles++;
    p->recycles++;
}

/* Serving workers that reached max_jobs. */
static void jobs_check(struct pvt_pool *p)
{
    int i;

    if (!p->serving || !p->sup.max_jobs)
        return;
    for (i = 0; i < p->n; i++)
        if (p->s[i].pid && atomic_load(&p->r[i]->info.recycle_due))
            recycle_serving(p, i, PVT_RECYCLE_JOBS, p->s[i].job_limit);
}

static void rss_check(struct pvt_pool *p, uint64_t now, uint64_t *next)
{
    long kb;
    int i;

    if (!p->sup.max_rss_kb)
        return;
    if (now >= p->next_rss_check) {
        p->next_rss_check = now + RSS_CHECK_MS * 1000000ull;
        for (i = 0; i < p->n; i++) {
            struct proc_slot *sl = &p->s[i];
            struct pvt_ring *r = p->r[i];
            if (!sl->pid || sl->recycling || atomic_load(&r->info.state) != PVT_W_READY)
                continue;
            if (p->serving && p->net.roll[i])
                continue;
            kb = pvt_sup_rss_kb(sl->pid);
            if (kb < 0 || (uint64_t)kb <= p->sup.max_rss_kb)
                continue;
            if (p->serving) {
                recycle_serving(p, i, PVT_RECYCLE_RSS, (uint64_t)kb);
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
        for (i = 0; i < p->n; i++) {
            struct proc_slot *sl = &p->s[i];
            if (sl->pid && !sl->killed_corrupt && pvt_disp_ring_check(&p->d, i) < 0) {
                sl->killed_corrupt = 1;
                pvt__proc_signal(p, i, SIGKILL);
            }
            /* A predecessor's ring has nothing queued: only its state can lie. */
            if (sl->old_pid) {
                int st = atomic_load(&sl->old_ring->info.state);
                if (st < PVT_W_EMPTY || st > PVT_W_EXITED)
                    pvt__proc_signal_old(p, i, SIGKILL);
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
    watchdog(p, now, &next);
    if (p->serving)
        old_watch(p, now, &next);
    jobs_check(p);
    rss_check(p, now, &next);
    if (next == UINT64_MAX)
        return -1;
    return next <= now ? 0 : (int)((next - now + 999999) / 1000000);
}
