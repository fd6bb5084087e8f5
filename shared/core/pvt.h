/*
 * pvt.h: the worker interface that both backends implement.
 *
 * A pool is N workers, each in a numbered slot with its own CPU set. The
 * thread that creates a pool drives it: it submits jobs, collects results,
 * reads stats and stops it, and it must outlive the pool (a proc worker is
 * killed when the thread that forked it exits). Pools are not shared between
 * driving threads; two pools in one process are independent (no global state).
 *
 * A backend is a table of function pointers (struct pvt_pool_ops). The CLI
 * finds one by name in pvt_backends[], so one binary holds them all and every
 * result records ops->name.
 *
 * Every function returns 0 (or a count) on success and a negative errno on
 * failure; objects come back through out-parameters.
 */
#ifndef PVT_H
#define PVT_H

#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "sup.h"
#include "shared/work/job.h"

#define PVT_VERSION "0.1.0"

/* The most workers one pool holds. Far more than any machine pvt pins to. */
#define PVT_MAX_WORKERS 1024

enum pvt_job_status {
    PVT_JOB_OK = 0,     /* ran to completion; value holds its result */
    PVT_JOB_FAILED = 1, /* its worker died while running it */
    PVT_JOB_DROPPED = 2 /* never ran: the pool was stopped by force */
};

struct pvt_result {
    uint64_t id;    /* the job's id */
    uint64_t value; /* the workload's result (PVT_JOB_OK only) */
    int32_t status; /* enum pvt_job_status */
    int32_t worker; /* the slot that ran it (or held it); -1 if it never reached one */
};

/*
 * Where each worker runs. sets[i] is the CPU set of slot i; a plan with
 * bind == 0 leaves workers unbound. Made by pvt_place_plan() (place.h).
 */
struct pvt_plan {
    int workers;
    int bind;
    int policy; /* enum pvt_place_policy */
    int unit;   /* enum pvt_place_unit */
    int oversubscribed; /* more workers than units: some share */
    cpu_set_t *sets;
};

/*
 * Messages between the primary and its workers (msg.h has the wire format).
 * A message has a type, an id and a payload of up to PVT_MSG_MAX bytes,
 * copied on send, so the caller's buffer is free again when send returns.
 * A message with id != 0 is a request: the worker's reply carries the same
 * id. Workers answer the built-in types themselves:
 */
#define PVT_MSG_MAX 4096
enum pvt_msg_type {
    PVT_MSG_HELLO = 1, /* worker -> primary, once when it starts: struct pvt_msg_hello (msg.h) */
    PVT_MSG_PING = 2,  /* primary -> worker: answered by a PONG with the same id and payload */
    PVT_MSG_PONG = 3,  /* worker -> primary */
    PVT_MSG_STATS = 4, /* primary -> worker: answered by a STATS carrying a uint64_t,
                        * the jobs its slot has done */
    PVT_MSG_USER = 16, /* 16 .. PVT_MSG_TYPE_LAST: the application's; workers ignore them */
    PVT_MSG_TYPE_LAST = 255
};

struct pvt_msg {
    uint32_t type;    /* enum pvt_msg_type */
    uint32_t id;      /* 0: not a request */
    uint32_t len;     /* payload bytes, <= PVT_MSG_MAX */
    const void *data; /* the payload (may be NULL when len is 0) */
};

/* A message the primary received: who sent it, and a copy of its payload. */
struct pvt_msg_in {
    int worker; /* the sender's slot, as its channel (not its header) says */
    uint32_t type;
    uint32_t id;
    uint32_t len;
    unsigned char data[PVT_MSG_MAX];
};

struct pvt_serve_cfg; /* serve.h */

struct pvt_pool_cfg {
    int workers;                 /* 1 .. PVT_MAX_WORKERS */
    const struct pvt_plan *plan; /* NULL: unbound; else plan->workers >= workers */
    unsigned queue_depth;        /* jobs in flight per worker, a power of two; 0: 4096 */
    int no_respawn;              /* proc: leave a dead worker's slot empty */
    /*
     * NULL: a job pool. Otherwise a serving pool: every worker serves HTTP on
     * the port serve describes instead of taking jobs (submit answers
     * -EOPNOTSUPP), and the driving thread calls supervise in a loop. The
     * listening sockets are opened by create, before any worker starts.
     */
    const struct pvt_serve_cfg *serve;
    /*
     * Serving pools: room for this many slots, which scale may fill
     * (workers .. max_workers); 0: workers. Each slot has two rings, so a
     * rolling restart can start a slot's replacement before its current
     * worker stops accepting.
     */
    int max_workers;
    /*
     * Supervision (sup.h): respawn backoff and the crash-loop guard, the hang
     * watchdog, recycling. Zeros are the defaults (no watchdog, no recycling).
     * The thread backend uses only the watchdog, to report a hung thread;
     * it refuses max_rss_kb and max_jobs (-EOPNOTSUPP): a thread's memory is
     * its process's, so recycling one frees nothing.
     */
    struct pvt_sup_cfg sup;
};

enum pvt_worker_state {
    PVT_W_EMPTY = 0, /* no worker in the slot */
    PVT_W_STARTING,  /* created, not yet ready */
    PVT_W_READY,     /* bound to its CPUs and taking jobs */
    PVT_W_STOPPING,  /* asked to finish and exit */
    PVT_W_EXITED     /* gone; see exit_code / exit_signal */
};

enum pvt_recycle_why {
    PVT_RECYCLE_NONE = 0,
    PVT_RECYCLE_RSS,  /* its RSS passed max_rss_kb */
    PVT_RECYCLE_JOBS, /* it reached its max_jobs */
};

struct pvt_worker_stats {
    int slot;
    int state;          /* enum pvt_worker_state */
    pid_t pid;          /* the worker's process (proc) or thread id (thread) */
    uint64_t jobs_done; /* jobs completed by this slot, over all its generations */
    unsigned restarts;  /* how many times the slot was given a new worker */
    int last_exit_code; /* of the previous worker in this slot, -1 if none */
    int last_exit_signal; /* 0 if it exited normally */
    int last_exit_intended; /* 1 if the pool asked it to exit */
    cpu_set_t bound;    /* the CPU set the worker read back after binding itself */
    uint64_t requests;  /* serving pools: responses written by this slot's current worker */
    int conns;          /* serving pools: connections it holds open */
    int hung;           /* the watchdog found the current worker hung */
    unsigned hangs;     /* serving pools: workers of this slot the watchdog found hung,
                         * each counted once (a count, so no hang is missed between looks) */
    int parked;         /* proc: the crash-loop guard stopped respawning this slot */
    unsigned recycles;  /* proc: workers replaced by max_jobs or max_rss */
    /* proc, serving pools: why the current worker replaced its predecessor
     * (enum pvt_recycle_why; PVT_RECYCLE_NONE for a death or a rolling
     * restart), and what crossed the limit: the predecessor's RSS in KiB,
     * or the job limit it reached. */
    int recycle_why;
    uint64_t recycle_value;
    /* proc, serving pools: predecessors (workers replaced while they kept
     * serving, or removed by scale) reaped so far, and how the last one
     * ended: its pid, exit code (-1 if killed), signal (0 if it exited), and
     * whether it had been recycled. */
    unsigned drained;
    pid_t drained_pid;
    int drained_code;
    int drained_signal;
    int drained_recycled;
    uint64_t replace_us; /* proc: the last replacement's time from the reap of its
                          * predecessor to ready; 0 if none yet or not ready */
    uint64_t ready_ns;  /* when the current worker turned ready (pvt_now_ns); 0: not yet */
    /* Serving pools with offload (serve.h): the current worker's requests
     * submitted to its job pool, those that came back done, and failed (or
     * dropped), and those refused with 503 because its queue was full. */
    uint64_t offloaded;
    uint64_t offload_completed;
    uint64_t offload_failed;
    uint64_t offload_rejected;
};

struct pvt_pool_stats {
    const char *backend;
    int workers;         /* slots */
    int live;            /* slots with a ready worker */
    uint64_t submitted;  /* jobs accepted by submit */
    uint64_t completed;  /* results handed out by collect, any status */
    uint64_t failed;     /* results with PVT_JOB_FAILED */
    uint64_t dropped;    /* results with PVT_JOB_DROPPED */
    uint64_t deaths;     /* workers that exited without being asked to */
    uint64_t recycles;   /* proc: workers replaced by max_jobs or max_rss */
    uint64_t hangs;      /* workers the watchdog found hung */
    int parked;          /* proc: slots the crash-loop guard parked */
    int port;            /* serving pools: the port bound (0 for a job pool) */
    uint64_t handed_out; /* serving pools with rr: connections passed to workers */
    uint64_t refused;    /* ... and closed unserved: held by a stop with every worker full */
    uint64_t room_waits; /* rr: times no worker had room, so accepting paused */
    uint64_t fd_pauses;  /* rr: times accepting paused for want of descriptors */
    uint64_t reclaimed;  /* rr: connections taken back from a worker that left */
    uint64_t conns_lost; /* rr: connections a worker process had no descriptor for */
    int rolling;         /* serving pools: slots a rolling restart has yet to replace,
                          * or whose replacement is not ready yet */
    int draining;        /* serving pools: replaced or removed workers still draining */
    uint64_t msgs_sent;     /* messages send delivered to a worker's channel */
    uint64_t msgs_received; /* messages recv handed out */
    uint64_t msgs_rejected; /* datagrams from workers that failed to decode, or that
                             * claimed to come from another worker: dropped */
    /* caller's array, or NULL: `workers` entries, and for a serving pool
     * that may scale, room for cfg->max_workers */
    struct pvt_worker_stats *w;
};

struct pvt_pool;

/*
 * What a backend can do: the bits of struct pvt_pool_ops' caps. Code that
 * must act differently for one backend tests a bit here, never the
 * backend's name (nginx's ngx_event_flags), so a new backend is described
 * once, in its ops table. tests/test_pool.c checks each bit against what
 * the backend does.
 */
/* Each worker is a process of its own: stats' pid is that process's pid
 * (without the bit: a thread id in the caller's process, or 0), it has an
 * RSS of its own, and a crash ends that worker only, which the pool
 * replaces (without it a crash ends the caller's whole process). */
#define PVT_CAP_PROCESSES (1u << 0)
/* A worker the watchdog (sup.worker_timeout_ms) finds hung is killed and
 * replaced; without the bit it is only reported (stats: hung, hangs) and
 * its capacity is lost until the whole process restarts. */
#define PVT_CAP_KILL_HUNG (1u << 1)
/* Recycling: create takes sup.max_jobs and sup.max_rss_kb and replaces a
 * worker that reaches them; without the bit create refuses them
 * (-EOPNOTSUPP) or no worker is ever recycled. */
#define PVT_CAP_RECYCLE (1u << 2)
/* Serving pools (cfg->serve): supervise, restart and scale are there;
 * without the bit they are NULL and create refuses cfg->serve. */
#define PVT_CAP_SERVE (1u << 3)
/* Each worker binds itself to its CPU set in cfg->plan and reports it
 * (stats: bound); without the bit workers are unbound whatever the plan. */
#define PVT_CAP_PLACEMENT (1u << 4)
/* event_fd and poll are there: a driver with an event loop of its own can
 * wait for results in it (serve mode's offload); without the bit both are
 * NULL and such a driver refuses the backend. */
#define PVT_CAP_POLL (1u << 5)

/*
 * A backend. Slots are filled with designated initializers; none is NULL in
 * a backend (a reference pool, bench/backends/backends.h, serves no HTTP and carries
 * no messages: its supervise, restart, scale, send and recv are NULL and it
 * refuses cfg->serve; nor does it poll: event_fd and poll are NULL).
 */
struct pvt_pool_ops {
    /* "proc", "thread" or a reference's name: recorded with every result. */
    const char *name;
    /* One line for --help. */
    const char *summary;
    /* What it can do: PVT_CAP_* bits. */
    unsigned caps;
    /*
     * Start cfg->workers workers and wait until each is ready and bound.
     * -EINVAL for a bad cfg, -ENOMEM, or the error of the failing fork,
     * pthread_create or mmap; nothing is left running on failure.
     */
    int (*create)(const struct pvt_pool_cfg *cfg, struct pvt_pool **out);
    /*
     * Queue up to n jobs without blocking; each goes to the live worker with
     * the least work outstanding. Returns how many were queued (>= 1), or
     * -EAGAIN when every queue is full (collect some results first), or
     * -ESHUTDOWN once stop has begun, or -EHOSTDOWN when no worker is live.
     */
    int (*submit)(struct pvt_pool *pool, const struct pvt_job *jobs, int n);
    /*
     * Move up to max finished results into res. Waits up to timeout_ms
     * (-1: forever, 0: not at all) for the first one. While it waits, the
     * pool supervises its workers (a dead one is reaped, its running job
     * failed, and the slot refilled). Returns the count (0 on timeout), or
     * -ENOENT when nothing is outstanding, so waiting could never end.
     */
    int (*collect)(struct pvt_pool *pool, struct pvt_result *res, int max, int timeout_ms);
    /*
     * For a driver that waits in an event loop of its own instead of in
     * collect: a descriptor that turns readable (level-triggered) when the
     * pool has something for its driver, a finished job or a worker to
     * supervise, once poll has armed it. The driver adds it to its epoll set
     * and never reads it; the pool owns it. Never fails on a live pool.
     */
    int (*event_fd)(struct pvt_pool *pool);
    /*
     * Supervise without blocking (a dead worker is reaped and its running
     * job failed, as collect's waits do), move up to max finished results
     * into res, and arm event_fd for the next one: with jobs outstanding,
     * event_fd turns readable when the next finishes or a worker dies, and
     * it is left readable when more results are ready than max took.
     * Returns the count (0: none finished yet), -ENOENT when nothing is
     * outstanding, or the supervision's -errno.
     */
    int (*poll)(struct pvt_pool *pool, struct pvt_result *res, int max);
    /*
     * Fill st (and st->w when not NULL). Never fails on a live pool.
     */
    int (*stats)(struct pvt_pool *pool, struct pvt_pool_stats *st);
    /*
     * Stop taking jobs, let workers finish what is queued, and wait up to
     * deadline_ms for them to exit. Past the deadline, force them (proc:
     * SIGKILL, and the jobs they were running come back PVT_JOB_FAILED;
     * thread: each thread exits after its current job, waited for up to a
     * further second, and a thread stuck past that has its job reported
     * PVT_JOB_FAILED). Every queued job that never ran comes back
     * PVT_JOB_DROPPED in later collect calls: nothing is lost. Serving
     * pools: a worker stops accepting, finishes what it accepted, and exits;
     * past the deadline a process is sent SIGTERM, then SIGKILL after
     * sup.kill_grace_ms. Returns 0 if all exited in time, -ETIMEDOUT if
     * force was needed.
     */
    int (*stop)(struct pvt_pool *pool, int deadline_ms);
    /*
     * Serving pools: supervise the workers for up to timeout_ms (reap and
     * respawn the dead; with rr, accept connections and hand each to the
     * next worker; carry a rolling restart on). It also returns as soon as
     * the serve cfg's watch_fd is readable. The driving thread's signal mask is replaced by
     * waitmask while it waits (NULL: kept), as in epoll_pwait, so a signal
     * blocked elsewhere can end the wait. Returns 0 (time is up or
     * something was done), -EINTR when a signal arrived, or -errno.
     */
    int (*supervise)(struct pvt_pool *pool, int timeout_ms, const sigset_t *waitmask);
    /*
     * Serving pools: a rolling restart. Every slot's worker is replaced,
     * batch slots at a time (the lowest first): the replacement starts on
     * the slot's second ring, and only once it accepts is its predecessor
     * told to stop accepting; that one drains (stop 1) and exits. It runs
     * inside supervise: this call only starts it (stats: rolling and
     * draining say how far it is), and a second call while one runs marks
     * every slot again. A predecessor that outlives sup.drain_timeout_ms or
     * the watchdog is forced (sup.h). 0, -EINVAL (batch < 1), -ESHUTDOWN
     * once stop has begun, -EOPNOTSUPP for a job pool, -EBUSY (thread) while
     * a predecessor that had to be abandoned still holds a slot's second
     * ring.
     */
    int (*restart)(struct pvt_pool *pool, int batch);
    /*
     * Serving pools: add delta workers (delta > 0, in new slots, started at
     * once) or remove -delta (the highest slots: each drains as in a stop
     * and exits; never below one worker). Returns the new number of
     * workers; -ENOSPC past max_workers, -EINVAL for 0 or a removal that
     * would leave no worker (nothing changes then), -EBUSY when the slot to
     * remove still has a replaced worker draining, or (thread) an abandoned
     * one holding its second ring (the slots before it were removed),
     * -ESHUTDOWN, -EOPNOTSUPP for a job pool.
     */
    int (*scale)(struct pvt_pool *pool, int delta);
    /*
     * Job pools: send m to worker's channel (worker -1: to every live
     * worker), without blocking. Returns how many workers it reached
     * (>= 1); -EMSGSIZE (m->len > PVT_MSG_MAX) or -EINVAL (a type outside
     * the known range, a worker out of range) before anything is sent;
     * -EHOSTDOWN when no live worker is there; -EAGAIN when the one
     * worker's channel is full; -ESHUTDOWN once stop has begun;
     * -EOPNOTSUPP for a serving pool. A proc worker that dies loses what
     * was waiting in its channel; its replacement starts with an empty one.
     */
    int (*send)(struct pvt_pool *pool, int worker, const struct pvt_msg *m);
    /*
     * Job pools: take the next message any worker sent to the primary,
     * waiting up to timeout_ms (-1: forever, 0: not at all); the proc
     * backend reaps and respawns workers meanwhile, as collect does, and a
     * respawned worker says HELLO again. Returns 1 with out filled, 0
     * on timeout, -EOPNOTSUPP for a serving pool. Datagrams that fail to
     * decode are dropped and counted (stats: msgs_rejected), never
     * returned.
     */
    int (*recv)(struct pvt_pool *pool, struct pvt_msg_in *out, int timeout_ms);
    /* Stop by force if still running, reap everything, free the pool. */
    void (*destroy)(struct pvt_pool *pool);
};

/* NULL-terminated table of the backends built into this binary. */
extern const struct pvt_pool_ops *const pvt_backends[];

/* The backend called name, or NULL. */
const struct pvt_pool_ops *pvt_backend_find(const char *name);

#endif
