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
 * That hand-off is a store followed by a load on each side, of different
 * words: the worker stores `done` and then loads `waiting`; the driver
 * stores `waiting` and then loads `done` (its last drain before it sleeps).
 * Release and acquire do not order a store before a later load, and x86
 * does reorder exactly this (a store waits in the store buffer while the
 * next load is answered), so without more both loads can return the old
 * value: the worker does not kick, the driver sleeps on a finished result,
 * and it wakes only when some later event (another job, the worker going
 * idle, the timeout) kicks it. A worker that leaves after that job (stop 2,
 * max_jobs) leaves the driver asleep until its timeout. So each side issues
 * a seq_cst fence between its store and its load. The two fences are
 * ordered one way or the other in the single total order of seq_cst
 * operations: if the worker's comes first, the driver's load after its
 * fence sees the new `done` and it does not sleep on it; if the driver's
 * comes first, the worker's load after its fence sees `waiting` set (or
 * already cleared by a kick, which wakes the driver anyway) and kicks. The
 * worker's load of `waiting` is an acquire, so the `wake_at` the driver
 * stored before setting it is the one the worker compares with. The fence
 * costs the worker one full barrier per job; a bounded driver sleep would
 * instead cost a wake-up per interval, and latency whenever the race hits.
 *
 * Stopping. stop 1 means "run what is queued, then exit". The driver
 * publishes its last jobs (tail, release) and then stores stop (release).
 * An idle worker that sees stop 1 loads it with acquire and then loads tail
 * again before it leaves: the tail it looked at just before may predate
 * jobs published before the stop. So a worker leaves on stop 1 only with
 * done == tail, and a graceful stop never drops what it queued.
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
 *
 * Trust. A worker process can write its own ring (and the waker's word) and
 * nothing else of the region: each ring has pages of its own, and the
 * others are read-only in the worker (pvt_region_isolate: against stray
 * writes; a worker could mprotect them back, which is why the driver
 * relies on it for nothing). The driver
 * never takes an index, a size, a descriptor or a pointer from a ring: it
 * keeps its own (disp.h, serve.h), writes the worker's copies before each
 * worker starts, and reads only what a worker says about itself, checked.
 */
#ifndef PVT_RING_H
#define PVT_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "pvt.h"
#include "shared/base/clock.h"

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

/*
 * Where a driver sleeps. The word is shared by all of a pool's rings (for
 * processes it sits in the region's first page, which every worker may
 * write); the handle, with the eventfd's number, is private memory: the
 * driver's own, and each worker process's copy made by its fork. So no
 * worker can change the descriptor the driver reads from or another worker
 * writes to; a worker can only make the word lie, which costs at most a
 * wake-up too many or a sleep until the driver's next timeout.
 */
struct pvt_waker {
    atomic_uint *waiting; /* the driver is (about to be) asleep */
    int efd;              /* eventfd the driver waits on */
    atomic_uint word;     /* where waiting points when no shared word was given */
};

/*
 * A serving ring's state beyond ring.h (serve.h), in the ring so that it is
 * the worker's to write only where the worker owns it: current and
 * close_listen are written by the driver, accepting by the worker. The
 * driver acts on none of them beyond a hint: accepting only tells it when
 * to let a predecessor go (a false one lets it go early).
 */
struct pvt_serve_gen {
    atomic_int current;      /* driver: the slot's current generation (listed by /stats) */
    atomic_int accepting;    /* worker: its loop waits on its source of connections */
    atomic_int close_listen; /* driver: the worker owns its copy of listen_fd; it closes
                              * it as soon as it stops accepting */
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
    /* Serving, rr: connections passed to this worker that the kernel
     * dropped because it had no descriptor to receive them (MSG_CTRUNC). */
    _Atomic uint64_t conns_lost;
    /* Serving with offload (serve.h): the worker's own job pool's counts,
     * written by the worker's loop. */
    _Atomic uint64_t offloaded;    /* requests submitted to the pool as jobs */
    _Atomic uint64_t off_completed; /* ... that came back PVT_JOB_OK */
    _Atomic uint64_t off_failed;    /* ... that came back failed or dropped */
    _Atomic uint64_t off_rejected;  /* requests answered 503: the queue was full */
    struct pvt_serve_gen gen; /* serving pools */
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
    /*
     * The worker's: set by the driver at init or before each worker starts,
     * read by the worker, never read back by the driver, which keeps its own
     * copy of each (disp.h, serve.h, the pool) and acts only on that. In a
     * worker process a scribble here hurts only the worker that made it: no
     * other worker can write this ring (pvt_region_isolate).
     */
    uint32_t depth;
    uint32_t mask;
    int shared; /* futexes are process-shared */
    int slot_index;
    int ctl_efd; /* serving pools: an eventfd the worker polls; -1: none */
    uint32_t beat_ms;  /* 0: no heartbeat; else beat at least this often while working (sup.h) */
    uint64_t max_jobs; /* 0: none; else leave with PVT_RING_RECYCLE after this many */
    struct pvt_waker *waker; /* private memory: the worker's copy of the driver's handle */
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

/* Make a waker: an eventfd (CLOEXEC, non-blocking) and its word, word or
 * (NULL) the handle's own. 0 or -errno. */
int pvt_waker_init(struct pvt_waker *w, atomic_uint *word);
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
 * A serving worker is also told through its eventfd, which the driver
 * keeps (pvt_serve_net_stop). */
void pvt_ring_request_stop(struct pvt_ring *r, unsigned how);

/*
 * A pool's rings and its waker's word in one mapping: MAP_SHARED before a
 * fork (proc), MAP_PRIVATE otherwise (thread). The word has the first page;
 * each ring starts on a page of its own, so a worker process can be left
 * unable to write any ring but its own (pvt_region_isolate). This struct,
 * the ring pointers and the waker handle are the driver's private memory.
 */
struct pvt_region {
    void *base;
    size_t len;
    size_t head;   /* bytes before the first ring: the waker's word, whole pages */
    size_t stride; /* bytes from one ring to the next, whole pages */
    int n;
    struct pvt_waker *waker; /* private; its word is at base */
    struct pvt_ring **rings; /* n pointers into the mapping */
};

/* Map and initialise n rings (1 .. PVT_REGION_MAX_RINGS) of depth slots. 0,
 * -EINVAL, -ENOMEM, -errno. */
int pvt_region_map(struct pvt_region *g, int n, uint32_t depth, int shared);
void pvt_region_unmap(struct pvt_region *g);
/*
 * In a worker process, right after fork: every ring of g but keep becomes
 * read-only, so the worker can still read them all (/stats) but write only
 * its own ring and the waker's word. 0, -EINVAL when keep is not one of g's
 * rings, or mprotect's -errno.
 */
int pvt_region_isolate(const struct pvt_region *g, const struct pvt_ring *keep);
/* The index of r in g (its place in the mapping, found from the pointer
 * alone), -1 when r is not one of g's rings. */
int pvt_region_index(const struct pvt_region *g, const struct pvt_ring *r);

#endif
