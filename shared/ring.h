/*
 * ring.h: how jobs reach a worker and results come back, in both backends.
 *
 * DESIGN
 * Each worker owns one ring of slots. The driver (the primary process, or the
 * thread that drives a thread pool) writes a job into a slot and advances
 * `tail`; the worker runs it, writes the value into the same slot and
 * advances `done`; the driver copies the result out and advances its private
 * `head`, freeing the slot. Each counter has a single writer, so there are no
 * locks, and the driver never lets tail - head exceed the ring's depth, so a
 * worker can never overwrite a result that was not collected.
 *
 * The ring holds no pointers: the proc backend puts it in MAP_SHARED memory
 * made before fork, the thread backend in ordinary memory. The code is the
 * same; only the futex flavour (shared or private) differs.
 *
 * Sleeping. A worker with nothing to do spins briefly, then announces it is
 * going to sleep (`sleeping`, seq_cst), looks at tail once more and waits on
 * `wake`. The driver publishes tail, issues a full fence and wakes a worker
 * only if it announced sleep. The fence pair makes a lost wake-up impossible:
 * either the worker sees the new tail, or the driver sees `sleeping`.
 *
 * The driver sleeps on an eventfd (so the proc backend can wait on it and on
 * its workers' pidfds in one epoll). Before it sleeps it sets each ring's
 * `wake_at`: the `done` count worth waking for (half of what is pending, or a
 * full queue down to half its depth). A worker writes to the eventfd only when
 * the driver said it is waiting and its ring reached wake_at, or when it is
 * about to go idle. One wake-up moves many results, which is what makes
 * dispatch cheap when a cross-core wake-up costs tens of microseconds, and it
 * keeps the driver from preempting a busy worker once per job.
 *
 * Messages (msg.h) do not travel in the ring: the ring only tells a worker
 * that one is waiting on its channel. The driver bumps `msgs` and wakes the
 * worker as it does for tail; the worker looks at `msgs` between jobs and
 * before it sleeps, and reads its channel when it moved.
 *
 * Crashes. Before running the job in slot `seq`, a worker stores seq + 1 in
 * `running`. If a worker process dies, everything before `done` has a result
 * in place, the job at `done` failed if running == done + 1, and everything
 * after it never started and stays queued for the replacement worker, which
 * resumes at `done`.
 */
#ifndef PVT_RING_H
#define PVT_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "pvt.h"

#define PVT_CACHELINE 64
#define PVT_RING_DEFAULT_DEPTH 4096u
#define PVT_RING_MAX_DEPTH (1u << 20)
/* Rings one region may hold: a serving pool maps two per slot (serve.h),
 * and has up to PVT_MAX_WORKERS slots. */
#define PVT_REGION_MAX_RINGS (2 * PVT_MAX_WORKERS)

/* One slot: the job, and in place of nothing else, its result. 32 bytes. */
struct pvt_slot {
    uint64_t id;
    uint32_t workload;
    int32_t status; /* enum pvt_job_status; set by the driver */
    uint64_t arg;
    uint64_t value; /* set by the worker */
};

/* Where a driver sleeps, shared by all of a pool's rings. */
struct pvt_waker {
    _Alignas(PVT_CACHELINE) atomic_uint waiting; /* the driver is (about to be) asleep */
    int efd;                                     /* eventfd the driver waits on */
};

/* What a worker tells its driver about itself. */
struct pvt_ring_info {
    atomic_int state;    /* enum pvt_worker_state */
    atomic_int pid;      /* pid (proc) or tid (thread) of the current worker */
    atomic_int bind_err; /* 0, or -errno of the worker's failed bind */
    cpu_set_t bound;     /* read back by the worker after binding */
    /* Serving pools (serve.h). */
    _Atomic uint64_t requests; /* responses written by the current worker */
    atomic_int conns;          /* connections it holds open */
    atomic_uint restarts;      /* written by the driver before each respawn */
    /* Supervision (sup.h). */
    _Atomic uint64_t beat_ns; /* the worker's last heartbeat (pvt_now_ns), when beat_ms */
    atomic_int hung;          /* written by the driver: the watchdog found it hung */
    _Atomic uint64_t ready_ns; /* when the current worker turned ready (pvt_now_ns) */
    _Atomic uint64_t died_ns;  /* written by the driver: when the previous one was reaped */
    /* Written by a serving worker that answered max_jobs requests: it goes
     * on serving until the driver's replacement for it accepts. */
    atomic_int recycle_due;
};

struct pvt_ring {
    /* Written by the driver. */
    _Alignas(PVT_CACHELINE) _Atomic uint64_t tail;
    atomic_uint stop;  /* 1: exit once the queue is empty; 2: exit after the current job */
    _Atomic uint64_t wake_at; /* a waiting driver wants a kick once done reaches this */
    /* Written by the worker. */
    _Alignas(PVT_CACHELINE) _Atomic uint64_t done;
    _Atomic uint64_t running;
    /* Written by the driver: messages put on the worker's channel (msg.h).
     * On a line of its own, so the per-job look at it hits the worker's
     * cache until a message comes. */
    _Alignas(PVT_CACHELINE) _Atomic uint64_t msgs;
    /* The sleep hand-shake. */
    _Alignas(PVT_CACHELINE) atomic_uint sleeping;
    atomic_uint wake; /* futex word */
    _Alignas(PVT_CACHELINE) struct pvt_ring_info info;
    /* Fixed at init. */
    uint32_t depth;
    uint32_t mask;
    int shared; /* futexes are process-shared */
    int slot_index;
    int ctl_efd; /* serving pools: an eventfd the worker polls; -1: none */
    /* Set by the driver before each worker starts (sup.h). */
    uint32_t beat_ms;  /* 0: no heartbeat; else beat at least this often while working */
    uint64_t max_jobs; /* 0: none; else leave with PVT_RING_RECYCLE after this many */
    struct pvt_waker *waker;
    _Alignas(PVT_CACHELINE) struct pvt_slot slots[];
};

/* From the reap of the previous worker to the current one's ready, µs; 0
 * when the slot has had no replacement, or it is not ready yet. */
uint64_t pvt_ring_replace_us(const struct pvt_ring_info *info);

/* Bytes one ring of depth slots takes, rounded up to a cache line. */
size_t pvt_ring_size(uint32_t depth);

/* Initialise a ring in zeroed memory of pvt_ring_size(depth) bytes. depth is
 * a power of two in [2, PVT_RING_MAX_DEPTH]. */
void pvt_ring_init(struct pvt_ring *r, uint32_t depth, int shared, int slot_index,
                   struct pvt_waker *waker);

/* Make a waker: an eventfd (CLOEXEC, non-blocking). 0 or -errno. */
int pvt_waker_init(struct pvt_waker *w);
void pvt_waker_close(struct pvt_waker *w);
/* After the driver wakes: empty the eventfd and clear `waiting`. */
void pvt_waker_drain(struct pvt_waker *w);
/* Wake the driver if it is waiting. Safe from any worker. */
void pvt_waker_kick(struct pvt_waker *w);

/*
 * The worker side: run jobs from r until told to stop. Returns 0 when
 * r->stop is 1 and the queue is empty, or r->stop is 2; PVT_RING_RECYCLE
 * once it finished r->max_jobs jobs (the rest stay queued for the worker
 * that replaces it). Used by both backends, in the worker thread or the
 * worker process.
 */
int pvt_ring_worker_loop(struct pvt_ring *r);
#define PVT_RING_RECYCLE 1 /* pvt_ring_worker_loop: max_jobs reached */

/*
 * As pvt_ring_worker_loop, with a message hook: msg_cb(arg) runs once at the
 * start, and again between jobs (or in place of sleeping) whenever r->msgs
 * has moved since it last ran. It must not block. The driver bumps msgs
 * after putting a message on the channel and then calls pvt_ring_notify, so
 * a sleeping worker wakes for it (the same fence pair as for tail).
 */
int pvt_ring_worker_run(struct pvt_ring *r, void (*msg_cb)(void *arg), void *arg);

/* The driver side: a message is on r's worker's channel; wake it. */
void pvt_ring_post_msg(struct pvt_ring *r);

/* The driver side. */

/* Wake a sleeping worker after publishing tail (includes the fence). */
void pvt_ring_notify(struct pvt_ring *r);

/* Ask the worker to stop (1: after the queue, 2: after the current job).
 * A serving worker is told through ctl_efd: 1 drains its connections,
 * 2 closes them. */
void pvt_ring_request_stop(struct pvt_ring *r, unsigned how);

/*
 * Futex helpers: wait while *word == val (timeout_ms < 0: forever), wake n.
 * The wait returns 0 when woken or the value differed, -ETIMEDOUT, -EINTR.
 */
int pvt_futex_wait(atomic_uint *word, unsigned val, int shared, int timeout_ms);
void pvt_futex_wake(atomic_uint *word, int n, int shared);

/*
 * A pool's rings and its waker in one mapping: MAP_SHARED before a fork (proc),
 * MAP_PRIVATE otherwise (thread). The waker sits first, on its own line.
 */
struct pvt_region {
    void *base;
    size_t len;
    int n;
    struct pvt_waker *waker;
    struct pvt_ring **rings; /* n pointers into the mapping */
};

/* Map and initialise n rings (1 .. PVT_REGION_MAX_RINGS) of depth slots. 0,
 * -EINVAL, -ENOMEM, -errno. */
int pvt_region_map(struct pvt_region *g, int n, uint32_t depth, int shared);
void pvt_region_unmap(struct pvt_region *g);

/* CLOCK_REALTIME ms from now, as pthread_timedjoin_np wants its deadline. */
struct timespec;
void pvt_realtime_after(struct timespec *ts, int ms);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t pvt_now_ns(void);

#endif
