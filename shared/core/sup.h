/*
 * sup.h: supervision policy, apart from the mechanics that carry it out
 * (proc_pool.c, thr_pool.c): when to respawn a dead worker, when to stop
 * respawning it, when a worker counts as hung, when to recycle one.
 *
 * Respawn. The first death of a slot within the window is replaced at once;
 * each further death within it waits twice as long as the one before
 * (backoff_ms, 2 x backoff_ms, ... up to backoff_max_ms), so a worker that
 * dies at start-up cannot make the primary fork in a storm. The guard: the
 * loop_deaths-th death of one slot within loop_window_ms parks the slot (no
 * more respawns; the others keep serving), as PM2's max_restarts with
 * min_uptime and systemd's StartLimitBurst do.
 *
 * Hang. A worker that should beat (ring.h: beat_ms) and whose last beat is
 * older than worker_timeout_ms, while it has work, is hung (gunicorn's
 * timeout). A process is then sent SIGTERM and, kill_grace_ms later,
 * SIGKILL, and replaced; a thread cannot be killed safely, so it is only
 * reported, its capacity lost.
 *
 * Draining. A serving worker being replaced (rolling restart, recycle) or
 * removed (scale down) drains while the pool goes on: it stops accepting
 * and finishes its requests. The watchdog covers it as it covers a current
 * worker, and it must be gone drain_timeout_ms after it was told (nginx's
 * worker_shutdown_timeout). Past either, a process gets SIGTERM and then
 * SIGKILL, and a thread is told to close its connections and, if it still
 * does not return, abandoned; either way the slot can be replaced again.
 *
 * Recycling (processes only: a thread's memory is its process's). A worker
 * that answered max_jobs jobs or requests (plus a jitter drawn from
 * 0..max_jobs_jitter for each new worker, so workers started together do not
 * recycle together), or whose RSS passed max_rss_kb, is replaced and counted
 * as a recycle, not a death. A serving worker is replaced as a rolling
 * restart replaces it: the replacement accepts first, then the old one
 * drains. A job worker leaves after its current job (max_jobs: it exits
 * with PVT_WEXIT_RECYCLE) and the replacement takes its queue.
 */
#ifndef PVT_SUP_H
#define PVT_SUP_H

#include <stdint.h>
#include <sys/types.h>

#define PVT_SUP_BACKOFF_MS 100
#define PVT_SUP_BACKOFF_MAX_MS 5000
#define PVT_SUP_LOOP_DEATHS 5
#define PVT_SUP_LOOP_WINDOW_MS 10000
#define PVT_SUP_KILL_GRACE_MS 1000
#define PVT_SUP_DRAIN_TIMEOUT_MS 10000
#define PVT_SUP_MAX_LOOP 64 /* the most deaths a guard can be asked to count */

/* Zero fields take the defaults above; 0 in the last four means none. */
struct pvt_sup_cfg {
    int backoff_ms;
    int backoff_max_ms;
    int loop_deaths;    /* 1 .. PVT_SUP_MAX_LOOP */
    int loop_window_ms;
    int kill_grace_ms;
    /* A worker told to drain while the pool goes on (a rolling restart, a
     * scale down, a recycle) is forced after this long: a process gets
     * SIGTERM, then SIGKILL kill_grace_ms later; a thread is abandoned. */
    int drain_timeout_ms;
    int worker_timeout_ms; /* the hang watchdog; 0: off */
    uint64_t max_rss_kb;   /* recycle above this RSS; 0: off */
    uint64_t max_jobs;     /* recycle after this many jobs or requests; 0: off */
    uint64_t max_jobs_jitter;
};

/* One slot's history, kept by the driver. Zero it to start. */
struct pvt_sup_slot {
    uint64_t deaths_ns[PVT_SUP_MAX_LOOP]; /* the latest deaths, a ring */
    unsigned ndeaths;                     /* ever */
    unsigned recycles;
    int parked; /* the guard stopped its respawns */
};

/* cfg with every zero default filled in, into *out. -EINVAL for a value
 * out of range (loop_deaths above PVT_SUP_MAX_LOOP, a negative time). */
int pvt_sup_resolve(const struct pvt_sup_cfg *cfg, struct pvt_sup_cfg *out);

/*
 * An unintended death of the slot's worker at now_ns. Returns the delay in
 * ms before its replacement (0: at once), or -1 when the guard parks the
 * slot (then s->parked is set).
 */
int pvt_sup_on_death(const struct pvt_sup_cfg *cfg, struct pvt_sup_slot *s, uint64_t now_ns);

/* 1 if a worker that last beat at beat_ns and has work (busy) is hung at
 * now_ns. Never without a watchdog, or before the first beat. */
int pvt_sup_hung(const struct pvt_sup_cfg *cfg, uint64_t beat_ns, int busy, uint64_t now_ns);

/* How often a worker beats under this watchdog (ring.h: beat_ms): a
 * quarter of the timeout, at most 100 ms; 0 without a watchdog. */
uint32_t pvt_sup_beat_ms(const struct pvt_sup_cfg *cfg);

/* The resident set of process pid (/proc/PID/statm), KiB; -1 if unreadable. */
long pvt_sup_rss_kb(pid_t pid);

/* The job limit of a new worker: max_jobs plus a jitter from *seed (any
 * value; it advances), or 0 for none. */
uint64_t pvt_sup_job_limit(const struct pvt_sup_cfg *cfg, uint64_t *seed);

#endif
