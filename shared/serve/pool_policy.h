/*
 * pool_policy.h: what both backends decide alike about their workers
 * (rolling restart, scale, recycling, the hang watchdog, a worker's "ready"),
 * written once over a small table of mechanics each backend fills in
 * (pool_policy.c says who calls what, and from where). Not a public header:
 * the backends (proc_cluster/, thread_pool/) use it; callers use pvt.h.
 *
 * It lives in shared/serve/ and not in shared/core/ because rolling restart
 * and scale are built on the serving sockets (struct pvt_serve_net: its roll
 * marks, each ring's pvt_serve_gen), and a folder may include only those
 * below it.
 */
#ifndef PVT_POOL_POLICY_H
#define PVT_POOL_POLICY_H

#include <sched.h>
#include <stdint.h>

#include "shared/core/disp.h"
#include "shared/core/msg.h"
#include "shared/core/pvt.h"
#include "shared/core/ring.h"
#include "shared/core/sup.h"
#include "serve.h"

struct pvt_policy;

/*
 * A backend's mechanics: how it starts, stops and looks at one worker. Each
 * is called by the driver (the thread that created the pool), from inside a
 * pvt_policy_* call, never from a worker. The policy owns the rings' roles
 * (pol->r[slot] the current one, pol->s[slot].old a predecessor); a
 * mechanic only moves the backend's own handle on a worker along with them.
 */
struct pvt_policy_mech {
    /*
     * Start a new worker for slot on pol->r[slot], pvt_policy_prepare on
     * that ring first. restart: count it as a restart of the slot
     * (a rolling restart's replacement; 0 for a slot scale adds). 0 or
     * -errno; on failure nothing runs on the ring and nothing was counted.
     */
    int (*start)(struct pvt_policy *pol, int slot, int restart);
    /*
     * 1 while slot's current worker exists as the driver's own records say
     * (proc: a pid not yet reaped; thread: a thread started and not joined),
     * whatever its ring says. Never fails.
     */
    int (*alive)(struct pvt_policy *pol, int slot);
    /*
     * The policy made slot's current worker its predecessor (back 0: the
     * rings swapped, pol->s[slot].old is its ring), or undid that because the
     * replacement could not start (back 1). Move the backend's handle on the
     * worker along (proc: its pid and pidfd, and its epoll tag). NULL: the
     * backend keeps none apart from the ring (threads).
     */
    void (*demote)(struct pvt_policy *pol, int slot, int back);
    /*
     * Force a worker that overstayed: slot's current one (old 0), hung, or
     * its predecessor (old 1), hung or past its drain deadline. step 0 comes
     * first, then step 1 once every sup.kill_grace_ms until the worker is
     * gone. proc: SIGTERM, then SIGKILL. thread: the current one goes out of
     * the turn, then nothing (a thread cannot be killed); a predecessor is
     * told to close its connections, then abandoned (its ring moves to
     * pol->s[slot].lost and .old becomes NULL).
     */
    void (*force)(struct pvt_policy *pol, int slot, int old, int step);
    /*
     * 1 when slot's predecessor has exited and is reaped, so its ring is free
     * (threads: joined once its ring says EXITED); 0 while it runs. NULL:
     * the backend reaps predecessors itself and calls pvt_policy_old_gone
     * (proc: their pidfds wake its wait), so the policy need not poll.
     */
    int (*old_gone)(struct pvt_policy *pol, int slot);
    /* Take back the rings of abandoned workers that returned since (see
     * force; clears pol->s[slot].lost). NULL: the backend abandons none. */
    void (*reclaim)(struct pvt_policy *pol);
    /* slot is added to the pool or removed from it: forget what the
     * backend's own supervision still had pending there (proc: a delayed
     * respawn, a park). NULL: nothing. */
    void (*reset)(struct pvt_policy *pol, int slot);
};

/* Per slot: its predecessor, if any, and what the policy asked of it. */
struct pvt_policy_slot {
    struct pvt_ring *old;  /* the predecessor's ring (serving pools); NULL: none */
    int old_told;          /* it was asked to stop accepting */
    uint64_t old_told_ns;  /* when: its drain deadline counts from then */
    uint64_t old_force_ns; /* force: when its last step was taken; 0: none yet */
    int old_why;           /* enum pvt_recycle_why: why it was replaced */
    struct pvt_ring *lost; /* the slot's other ring, held by an abandoned worker */
    uint64_t force_ns;     /* the same as old_force_ns, for the current worker */
    /* A recycle asked for and not yet done, and why the current worker
     * replaced its predecessor (pvt_worker_stats: recycle_why, _value). */
    int recycle_why;
    uint64_t recycle_value;
    int repl_why;
    uint64_t repl_value;
    unsigned recycles;   /* workers of this slot replaced by max_jobs or max_rss */
    unsigned hangs;      /* workers of this slot found hung (pvt_worker_stats) */
    uint64_t job_limit;  /* the job limit given to the current worker; 0: none */
};

/* What both backends' pools hold alike. The backend embeds it in its
 * struct pvt_pool and finds its pool again from the pointer. */
struct pvt_policy {
    const struct pvt_policy_mech *mech;
    struct pvt_region g;
    struct pvt_disp d;
    int n;                   /* slots in use */
    int cap;                 /* slots there is room for (serving pools: scale) */
    struct pvt_ring **r;     /* per slot: its current ring */
    struct pvt_ring **spare; /* per slot: its other ring (serving pools), or NULL */
    struct pvt_policy_slot *s; /* per slot */
    int bind;
    cpu_set_t *sets;         /* per slot: its CPU set, when bind */
    int serving;
    int stopping;            /* stop has begun */
    struct pvt_serve_net net;
    struct pvt_sup_cfg sup;  /* resolved */
    uint64_t seed;           /* for the max_jobs jitter */
    uint64_t hangs, recycles;
};

/*
 * Map the rings of a pool made with cfg (procs: shared with forked workers),
 * allocate the per-slot arrays, set up the dispatcher, the CPU sets and, for
 * a serving pool, its sockets. No worker starts. 0, -EINVAL, -ENOMEM, or
 * the error of pvt_region_map or pvt_serve_net_open; pvt_policy_fini frees
 * what was made, also after a failure.
 */
int pvt_policy_init(struct pvt_policy *pol, const struct pvt_pool_cfg *cfg,
                    const struct pvt_policy_mech *mech, int procs);
/* Free what init made; keep_region: leave the rings mapped (a worker that
 * was abandoned may still write its own), freeing only the array of them. */
void pvt_policy_fini(struct pvt_policy *pol, int keep_region);

/* Before a worker starts on ring r for slot: reset what the ring says of a
 * worker (state STARTING), give it its beat and job limit, and for a
 * serving pool open what it needs. 0 or -errno (then the ring is EMPTY). */
int pvt_policy_prepare(struct pvt_policy *pol, int slot, struct pvt_ring *r);

/*
 * In a new worker (a thread, or a forked child), on its own ring r: say
 * its id (pid or thread id), bind to set (NULL: stay unbound), and become
 * ready: the CPU set read back, HELLO on chan (NULL: none), ready_ns, state
 * READY, the driver kicked. 0, or the bind's -errno (stored in bind_err,
 * and the worker is not ready: it is to leave).
 */
int pvt_policy_worker_up(struct pvt_ring *r, const cpu_set_t *set, struct pvt_msg_chan *chan,
                         int id);

/*
 * Carry a serving pool's rolling restart on (the driver, before it waits):
 * watch the predecessors (drain deadline, watchdog) and force those that
 * overstay, tell each whose replacement accepts to drain, start the next
 * slots. The ms until it wants to look again (-1: nothing to do).
 */
int pvt_policy_tick(struct pvt_policy *pol, uint64_t now_ns);
/* The hang watchdog over the current workers: a hung one is counted and
 * forced (mech->force). Lowers *next_ns to when it wants to look again. */
void pvt_policy_watchdog(struct pvt_policy *pol, uint64_t now_ns, uint64_t *next_ns);
/* Serving workers that reached their job limit are to be recycled. */
void pvt_policy_jobs_check(struct pvt_policy *pol);
/* Serving slot i's worker is to be recycled (why, value: as in
 * pvt_worker_stats): replaced as a rolling restart replaces it, once. */
void pvt_policy_recycle(struct pvt_policy *pol, int i, int why, uint64_t value);

/* Slot i's predecessor: stop accepting, drain, exit. */
void pvt_policy_tell_old(struct pvt_policy *pol, int i);
/* Slot i's predecessor was reaped by the backend: its ring is free. */
void pvt_policy_old_gone(struct pvt_policy *pol, int i);

/* As ops->submit, ops->restart and ops->scale (pvt.h). */
int pvt_policy_submit(struct pvt_policy *pol, const struct pvt_job *jobs, int n);
int pvt_policy_restart(struct pvt_policy *pol, int batch);
int pvt_policy_scale(struct pvt_policy *pol, int delta);

/* The start of a stop (stopping set by the caller): queued jobs go out,
 * every worker is asked to finish and exit, predecessors to drain. */
void pvt_policy_stop_all(struct pvt_policy *pol);

/* What the policy counts into st, after pvt_disp_stats under backend's name:
 * hangs, recycles, the serving counters, rolling and draining. */
void pvt_policy_stats(const struct pvt_policy *pol, const char *backend,
                      struct pvt_pool_stats *st);

#endif
