/*
 * serve_offload.c: a serving worker's own job pool (serve.h: struct
 * pvt_serve_offload), the way Node runs worker_threads behind each cluster
 * worker: the loop hands CPU routes to the pool and keeps answering the
 * light ones.
 *
 * DESIGN
 * Ownership. Each serving worker creates its pool when its loop starts
 * (after fork in a worker process, in the serving thread for a worker
 * thread) and destroys it when the loop ends, so the serving worker is the
 * pool's one driving thread (pvt.h): it submits, polls and stops it, and it
 * outlives it. Pools are never shared between serving workers, so a pool
 * worker that crashes fails the requests of one serving worker only.
 *
 * Completion. The pool's event_fd is in the loop's epoll set, tagged by the
 * struct pvt__offload itself. The loop never waits in collect: at the end
 * of every turn in which something was submitted or the descriptor was
 * readable it calls ops->poll, which takes what finished and arms the
 * descriptor for the next result (pvt.h), so the loop sleeps in epoll_wait
 * and wakes for a result as it does for a socket. A submit is never
 * followed by a poll inside the connection's own handler: a result handed
 * back there could answer the very connection whose state the handler
 * still holds. The pool's own timers turn nothing readable (a respawn
 * held back by the crash-loop backoff, its watchdog, its ring check), so
 * while jobs are out, or after a submit found no live worker, the sweep
 * (every SWEEP_MS, run then even with no connection open) polls too, and
 * the poll's supervision runs them.
 *
 * Matching. A job's id is (sequence << 12) | entry, entry an index into a
 * table of Q pending entries, each holding its id and its connection. A
 * result answers a connection only when the entry still holds that very id;
 * a connection that closes meanwhile clears its entry's connection (forget)
 * but keeps the entry, which is freed when the result comes back and is
 * dropped. Sequences never repeat, so a stale result can never answer a
 * connection that reused the entry or the struct's memory.
 *
 * The bound. At most Q (--offload-queue) jobs are submitted and unanswered
 * per serving worker, orphans included (they still hold a pool worker).
 * Past it a request is answered 503 at once and its connection stays open:
 * Piscina's maxQueue rejection, never an unbounded queue. A submit the
 * pool refuses (no live worker: a proc pool whose worker is parked) is
 * answered the same way.
 *
 * Forks from threads. A proc pool made by a worker thread (pvt serve
 * --backend thread --offload proc) forks from a process that already runs
 * threads: the other serving threads, the driver. Only the forking thread
 * exists in the child, and any lock another thread held at the fork stays
 * held there for ever. The pool's child runs the child preamble
 * (shared/base/child.c: sigaction, sigprocmask, prctl, getppid,
 * close_range, or on an old kernel opendir over /proc/self/fd) after
 * pvt_region_isolate (mprotect) and, in worker_main
 * (proc_cluster/proc_worker.c), sched_setaffinity, its HELLO send, an
 * eventfd write and the ring loop, whose workloads
 * call malloc, realloc and free (hash, mem, leak buffers), nanosleep and
 * abort. glibc makes malloc safe in such a child: fork takes every arena's
 * lock before it forks and resets them in the child. glibc 2.27 and later
 * no longer flush stdio in abort, and nothing the child runs touches stdio,
 * locale or a lock of pvt's own (the rings are lock-free, their futexes are
 * words in shared memory). The descriptors the child inherited from the
 * other threads (their connections, their pools) are closed by the
 * preamble before it runs a job. So the combination is allowed. The death
 * signal follows the forking thread: the pool's workers die with the
 * serving thread, which destroys the pool before it returns anyway.
 *
 * CPUs. The pool gets no plan: its workers inherit the serving worker's CPU
 * set (a new thread and a forked child both start with their creator's
 * affinity), so offload buys a loop that stays responsive, not more CPUs;
 * more CPUs come from more serving workers or --pin none.
 *
 * Stopping. A draining serving worker keeps a connection with a job in
 * flight until its answer is written (the connection is paused, so neither
 * the drain nor the sweep closes it), and its loop ends only with its last
 * connection; only then is the pool stopped, with DRAIN_GRACE_MS for jobs
 * whose client left, and destroyed. Stop 2 closes the connections at once
 * and stops the pool by force.
 */
#include "serve_int.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "shared/core/pvt.h"

#define ENTRY_BITS 12 /* PVT_OFFLOAD_QUEUE_MAX == 1 << ENTRY_BITS */

_Static_assert(PVT_OFFLOAD_QUEUE_MAX == 1 << ENTRY_BITS, "an entry index fits ENTRY_BITS");

struct entry {
    uint64_t id;    /* 0: free */
    struct conn *c; /* NULL: free, or its connection closed (the result is dropped) */
};

struct pvt__offload {
    const struct pvt_pool_ops *ops;
    struct pvt_pool *pool;
    int efd;         /* the pool's event_fd, in the loop's epoll set */
    int cap;         /* Q */
    int watchdog;    /* the pool has a watchdog: the sweep polls too */
    struct entry *e; /* cap entries */
    int *free_idx;   /* a stack of free entries */
    int nfree;
    uint64_t seq; /* the last sequence given out */
    int again;    /* poll at the end of this turn */
    int starved;  /* the last submit found no live worker: the sweep polls, so a
                   * respawn that waits out a backoff happens */
    uint64_t offloaded, completed, failed, rejected;
};

/* The smallest power of two >= n, at least 2 (a ring's depth). */
static unsigned depth_for(int n)
{
    unsigned d = 2;

    while (d < (unsigned)n)
        d *= 2;
    return d;
}

static int pool_open(struct pvt__offload *o, const struct pvt_serve_offload *cfg)
{
    struct pvt_pool_cfg pc = {
        .workers = cfg->workers > 0 ? cfg->workers : PVT_OFFLOAD_WORKERS,
        /* Room in one worker's ring for every job the bound lets out: a
         * submit is never refused for want of room. */
        .queue_depth = depth_for(o->cap),
        .sup = {.worker_timeout_ms = cfg->worker_timeout_ms},
    };

    return cfg->ops->create(&pc, &o->pool);
}

int pvt__serve_offload_init(struct server *s)
{
    const struct pvt_serve_offload *cfg = &s->w->cfg->offload;
    struct epoll_event ev = {.events = EPOLLIN};
    struct pvt__offload *o;
    int i, rc;

    if (!cfg->ops)
        return 0;
    if (pvt_serve_offload_check(cfg) < 0)
        return -EINVAL;
    o = calloc(1, sizeof(*o));
    if (!o)
        return -ENOMEM;
    o->ops = cfg->ops;
    o->cap = cfg->queue > 0 ? cfg->queue : PVT_OFFLOAD_QUEUE;
    o->watchdog = cfg->worker_timeout_ms > 0;
    o->e = calloc((size_t)o->cap, sizeof(*o->e));
    o->free_idx = calloc((size_t)o->cap, sizeof(*o->free_idx));
    rc = o->e && o->free_idx ? pool_open(o, cfg) : -ENOMEM;
    if (rc < 0)
        goto fail;
    for (i = 0; i < o->cap; i++)
        o->free_idx[o->nfree++] = o->cap - 1 - i;
    o->efd = o->ops->event_fd(o->pool);
    ev.data.ptr = o;
    if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, o->efd, &ev) < 0) {
        rc = -errno;
        goto fail;
    }
    s->off = o;
    s->env.offload = 1;
    return 0;
fail:
    if (o->pool)
        o->ops->destroy(o->pool);
    free(o->e);
    free(o->free_idx);
    free(o);
    return rc;
}

void pvt__serve_offload_fini(struct server *s, int force)
{
    struct pvt__offload *o = s->off;

    if (!o)
        return;
    s->off = NULL;
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, o->efd, NULL);
    o->ops->stop(o->pool, force ? 0 : DRAIN_GRACE_MS);
    o->ops->destroy(o->pool);
    free(o->e);
    free(o->free_idx);
    free(o);
}

/* Queue c's job in a free entry. 0, -EBUSY when Q are out, or submit's error. */
static int submit_one(struct pvt__offload *o, struct conn *c)
{
    struct pvt_job job;
    int idx, rc;

    if (o->nfree == 0)
        return -EBUSY;
    rc = pvt_http_job(c->h, &job);
    if (rc < 0)
        return rc;
    idx = o->free_idx[o->nfree - 1];
    job.id = (++o->seq << ENTRY_BITS) | (uint64_t)idx;
    rc = o->ops->submit(o->pool, &job, 1);
    o->starved = rc == -EHOSTDOWN;
    if (rc < 0)
        return rc;
    o->nfree--;
    o->e[idx] = (struct entry){.id = job.id, .c = c};
    c->job = idx;
    c->paused = 1;
    o->offloaded++;
    o->again = 1; /* arm the descriptor before the loop sleeps */
    return 0;
}

int pvt__serve_offload_submit(struct server *s, struct conn *c)
{
    struct pvt__offload *o = s->off;
    int st = PVT_HTTP_JOB;

    if (!o)
        return -EINVAL; /* http.c pauses for a job only when init set env.offload */
    while (st == PVT_HTTP_JOB) {
        if (submit_one(o, c) == 0)
            return PVT_HTTP_JOB;
        /* Full (or no live worker): 503, and on to the pipelined input. */
        o->rejected++;
        st = pvt_http_job_busy(c->h, (unsigned)o->cap);
    }
    return st;
}

void pvt__serve_offload_forget(struct server *s, struct conn *c)
{
    if (s->off && c->job >= 0)
        s->off->e[c->job].c = NULL;
    c->job = -1;
}

void pvt__serve_offload_event(struct server *s)
{
    s->off->again = 1;
}

/* One result: free its entry; the connection it answers, if still open. */
struct conn *pvt__serve_offload_take(struct server *s, const struct pvt_result *r)
{
    struct pvt__offload *o = s->off;
    uint64_t idx = r->id & ((1u << ENTRY_BITS) - 1);
    struct conn *c;

    if (idx >= (uint64_t)o->cap || o->e[idx].id != r->id)
        return NULL; /* not one of ours: never answers anything */
    if (r->status == PVT_JOB_OK)
        o->completed++;
    else
        o->failed++;
    c = o->e[idx].c;
    o->e[idx] = (struct entry){0};
    o->free_idx[o->nfree++] = (int)idx;
    if (!c)
        return NULL; /* its client left: dropped */
    c->job = -1;
    c->paused = 0;
    return c;
}

int pvt__serve_offload_poll(struct server *s, struct pvt_result *res, int max)
{
    struct pvt__offload *o = s->off;
    int n;

    if (!o || !o->again)
        return 0;
    o->again = 0;
    n = o->ops->poll(o->pool, res, max);
    if (n == max)
        o->again = 1;
    return n;
}

void pvt__serve_offload_publish(const struct server *s)
{
    const struct pvt__offload *o = s->off;
    struct pvt_ring_info *in = &s->w->ring->info;

    if (!o)
        return;
    atomic_store_explicit(&in->offloaded, o->offloaded, memory_order_relaxed);
    atomic_store_explicit(&in->off_completed, o->completed, memory_order_relaxed);
    atomic_store_explicit(&in->off_failed, o->failed, memory_order_relaxed);
    atomic_store_explicit(&in->off_rejected, o->rejected, memory_order_relaxed);
}

void pvt__serve_offload_tick(struct server *s)
{
    struct pvt__offload *o = s->off;

    /* With jobs out, the pool may have supervision due that no descriptor
     * announces (a respawn waiting out the crash-loop backoff, the
     * watchdog, the ring check): each sweep polls, which runs it. */
    if (o && (o->nfree < o->cap || o->starved))
        o->again = 1;
}

int pvt__serve_offload_busy(const struct server *s)
{
    return s->off && s->off->nfree < s->off->cap;
}
