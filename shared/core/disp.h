/*
 * disp.h: the driver side of the rings, shared by both backends.
 *
 * DESIGN
 * A dispatcher belongs to the one thread that drives a pool. It owns each
 * ring's `tail` (jobs published) and its private `head` (results collected),
 * so it knows how much work every worker has outstanding without touching a
 * worker's cache line. submit sends each job to the live worker with the
 * least outstanding work; collect copies finished results out of the rings.
 *
 * How a backend waits differs (the proc backend also watches its workers'
 * pidfds), so pvt_disp_collect takes the wait as a callback. While a waiting
 * driver holds results but every worker still has more than half a window of
 * work, it keeps sleeping: the workers wake it when one runs down to half,
 * and one wake-up then moves a whole half-window of jobs. Arming is a store
 * of `waiting` followed by a last look at each ring's done, against the
 * worker's store of done followed by its look at `waiting`: a seq_cst fence
 * on each side keeps both from missing the other (ring.h says why).
 *
 * The window. Per-worker queues cannot rebalance: a job queued behind a slow
 * worker waits for it even when another worker is idle. So a ring is filled
 * with only about PVT_DISP_SLACK_NS of work, measured, not with its whole
 * depth: the driver times how long each ring stays busy per job (an EWMA over
 * all rings) and sets the window to twice the slack's worth of jobs, within
 * [PVT_DISP_MIN_WINDOW, depth]. No-op jobs get thousands per refill; 300 us
 * jobs get a handful, so a worker that runs ahead soon gets the next ones.
 * A sample that includes time a worker sat idle only overestimates the job
 * time, which shrinks the window: safe, and corrected by the next samples.
 * The slack must cover a refill's whole wait, and when every core runs a
 * busy pinned worker that includes waiting for the scheduler to preempt one
 * for the driver: measured on a 2-vCPU guest with 0.6 ms jobs, 1 ms of slack
 * let process workers run dry (1.35-1.68x from 1 to 2 workers), 5 ms did not
 * (1.89-1.94x, as GLib's shared queue in the same runs).
 *
 * The backlog. The window is not the pool's capacity: submit still accepts
 * `depth` jobs per live worker. Jobs beyond the rings' windows wait, in order,
 * in a backlog the driver owns, and every drain tops the rings up from it.
 * Stop first flushes the backlog into the rings (up to their depth), so a
 * graceful stop still runs everything queued; with no live worker left,
 * backlog jobs come back PVT_JOB_DROPPED.
 *
 * Trust. For the proc backend the rings are memory every worker process can
 * write, and a worker with a memory-corrupting bug may have written anything
 * into its own. So the dispatcher acts only on what it keeps in its own
 * memory: each ring's tail and head, and a copy of every job it queued (id,
 * workload, argument, status). From the ring it takes only what a worker
 * says: `done`, read clamped to [head, tail] (a worker cannot make it
 * report a job twice, one it never queued, or one past its queue), `running`
 * (compared, never used as an index), and each result's value. Slot indexes
 * come from the dispatcher's own depth, never from the ring. The results of
 * a scribbling worker are whatever it wrote; every other worker's are its
 * own, and a replacement starts from the dispatcher's copy of the queue
 * (pvt_disp_ring_reset), not from what the dead worker left.
 */
#ifndef PVT_DISP_H
#define PVT_DISP_H

#include "ring.h"

#define PVT_DISP_SLACK_NS 5000000.0 /* work a ring holds beyond a refill's wait */
#define PVT_DISP_MIN_WINDOW 4u
#define PVT_DISP_START_WINDOW 64u  /* until the first measurement */

/* The dispatcher's copy of a queued job. */
struct pvt_disp_job {
    uint64_t id;
    uint64_t arg;
    uint32_t workload;
    int32_t status; /* enum pvt_job_status */
};

struct pvt_disp {
    int n;
    uint32_t depth;
    struct pvt_ring **rings;
    struct pvt_waker *waker;
    uint32_t mask;         /* depth - 1 */
    uint64_t *head;        /* per ring: results collected */
    uint64_t *tail;        /* per ring: jobs published (the ring's tail is a copy) */
    struct pvt_disp_job *sent; /* per ring, depth each: the jobs queued, by slot */
    unsigned char *live;   /* per ring: may take jobs */
    uint64_t *jobs_done;   /* per ring: results handed out */
    uint64_t *gone_at;     /* per ring: UINT64_MAX, or where an abandoned ring's
                            * made-up results start (pvt_disp_abandon) */
    unsigned char *gone_failed; /* per ring: the job at gone_at is reported failed */
    uint64_t *busy_since;  /* per ring: when it last became busy, 0 when idle */
    struct pvt_job *bl;    /* the backlog: accepted jobs beyond the rings' windows */
    uint64_t bl_cap, bl_head, bl_tail;
    uint32_t window;       /* jobs a ring is filled to (see above) */
    double job_ns;         /* EWMA of busy time per job, 0 until measured */
    int next;              /* the ring collect starts at, rotated for fairness */
    int stopping;          /* submit refuses jobs */
    uint64_t submitted, completed, failed, dropped;
};

/* rings[i] must stay valid for the dispatcher's life. 0 or -ENOMEM. */
int pvt_disp_init(struct pvt_disp *d, int n, uint32_t depth, struct pvt_ring **rings,
                  struct pvt_waker *waker);
void pvt_disp_fini(struct pvt_disp *d);

/* As ops->submit: count queued, -EAGAIN, -ESHUTDOWN, -EHOSTDOWN. */
int pvt_disp_submit(struct pvt_disp *d, const struct pvt_job *jobs, int n);

/* Move the whole backlog into the rings, ignoring the window: before stop. */
void pvt_disp_flush(struct pvt_disp *d);

/* Copy up to max finished results without waiting. Returns the count. */
int pvt_disp_drain(struct pvt_disp *d, struct pvt_result *res, int max);

/* Jobs submitted and not yet collected, in the rings and the backlog. */
uint64_t pvt_disp_outstanding(const struct pvt_disp *d);

/*
 * Wait for the workers; called with the waker armed. Returns 0 when woken or
 * timed out, or a negative errno that collect passes on.
 */
typedef int (*pvt_disp_wait_cb)(void *arg, int timeout_ms);

/* As ops->collect, with the backend's wait. */
int pvt_disp_collect(struct pvt_disp *d, struct pvt_result *res, int max, int timeout_ms,
                     pvt_disp_wait_cb wait, void *arg);

/* As ops->poll: wait(arg, 0) supervises without blocking, then the results
 * are drained and the waker armed for the next completion (each ring's wake
 * point at its next result), or kicked at once when more are ready than max
 * took. */
int pvt_disp_poll(struct pvt_disp *d, struct pvt_result *res, int max, pvt_disp_wait_cb wait,
                  void *arg);

/*
 * Wait until every ring's worker reports ready: 0; or until one failed to
 * bind: its -errno; or a slot was left empty or exited: -ECHILD; or
 * timeout_ms passed: -ETIMEDOUT.
 */
int pvt_disp_wait_ready(struct pvt_disp *d, int timeout_ms, pvt_disp_wait_cb wait, void *arg);

/*
 * Fill what every backend reports alike: counts, and per worker its slot,
 * state, pid, jobs done and bound CPUs (st->w may be NULL). The backend adds
 * restarts, exit details and deaths.
 */
void pvt_disp_stats(const struct pvt_disp *d, const char *backend, struct pvt_pool_stats *st);

/*
 * Give the job at the ring's `done` the status st and count it done; used
 * for the job a dead worker was running (PVT_JOB_FAILED) and for jobs that
 * will never run (PVT_JOB_DROPPED). Only while no worker serves the ring.
 */
void pvt_disp_fail_next(struct pvt_disp *d, int i, int st);

/*
 * Give up on ring i while its worker may still be running its current job
 * (a thread stuck past a forced stop). The ring is never written again by the
 * driver: from its `done` on, drain makes up the results from the slots' ids,
 * the running job PVT_JOB_FAILED and the rest PVT_JOB_DROPPED, and ignores
 * whatever the worker still writes.
 */
void pvt_disp_abandon(struct pvt_disp *d, int i);

/* Fail every job still queued on ring i (its worker is gone for good). */
void pvt_disp_drop_queued(struct pvt_disp *d, int i);

/*
 * Before a new worker starts on ring i (no worker serves it): write back
 * what the previous one may have scribbled over: tail, done (clamped) and
 * running, the sleep words, and the queued jobs' slots from the dispatcher's
 * copy, so the new worker resumes at the first job with no result and runs
 * the jobs that were queued.
 */
void pvt_disp_ring_reset(struct pvt_disp *d, int i);

/* Ring i's done as the dispatcher may use it: clamped to [head, tail]. */
uint64_t pvt_disp_done(const struct pvt_disp *d, int i);

/* 0 when ring i holds only what an honest worker writes (its state in the
 * enum, done within [head, tail], running within done + 1), else -EBADMSG.
 * The pool kills a worker whose ring fails this. */
int pvt_disp_ring_check(const struct pvt_disp *d, int i);

#endif
