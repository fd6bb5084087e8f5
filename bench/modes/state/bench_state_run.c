/*
 * bench_state_run.c: one repetition of one state variant (mechanics only;
 * the processes' side is in bench_state_proc.c, what every worker runs in
 * state_worker.c).
 *
 * DESIGN
 * The primary (the calling thread) maps one MAP_SHARED|MAP_ANONYMOUS region
 * before any worker starts: the start gate (ready, go, finished, stop) and
 * the proc-shm-atomic counter, the counter on a cache line of its own so
 * the gate's traffic does not touch it. A forked worker sees the same
 * physical pages there; every other byte of its memory is a copy-on-write
 * copy of the primary's, which is the whole lesson: plain_counter below is
 * one variable for threads and one per process for processes.
 *
 * The thread variants' counters (the atomic, the mutex and its count) live
 * in ordinary heap memory: threads need nothing special to share.
 *
 * Each worker binds itself, counts itself in `ready` and spins (yielding)
 * until `go`; the primary opens the gate once all are ready, so the workers
 * start together and no start-up is timed. A worker times its own updates
 * (pvt_now_ns: CLOCK_MONOTONIC, one clock for every process). A thread
 * leaves its report in memory; a process writes it into a pipe shared by all
 * workers (fixed size, under PIPE_BUF, so one atomic write). Then each counts
 * itself in `finished`. The primary sleeps in 1 ms steps while it waits (its
 * wake-ups are never timed: the figures come from the workers' clocks),
 * watching *stop and, for processes, an early death. On a stop, threads see
 * `stop` within CHUNK updates (state_worker.c) and finish; processes are
 * killed with SIGKILL.
 * Every worker is joined or reaped before pvt_state_run returns.
 *
 * plain_counter (state_worker.c) is the one file-static variable: the naive
 * variants must bump a global, since that is what the lesson is about. Runs
 * are never concurrent (one primary thread at a time), and each run resets it.
 *
 * proc-msg: worker k owns one end of a SOCK_STREAM socketpair and writes an
 * 8-byte message (the increments since its last message) every `batch`
 * updates. The primary reads every socket in one epoll, 64 KiB at a time,
 * sums the messages, and takes EOF as a worker's end. The socket's buffer is
 * the back-pressure: a worker that runs ahead of the primary blocks.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_state_int.h"
#include "shared/core/place.h"
#include "shared/base/clock.h"

#define READY_TIMEOUT_MS 10000

static void *thread_main(void *arg)
{
    struct state_worker *w = arg;

    pvt__state_worker_body(w);
    atomic_fetch_add_explicit(&w->run->gate->finished, 1, memory_order_release);
    return NULL;
}

static int start_threads(struct state_run *r)
{
    int i, rc;

    for (i = 0; i < r->spec->workers; i++) {
        r->workers[i] = (struct state_worker){.run = r, .index = i, .fd = -1};
        rc = pthread_create(&r->threads[i], NULL, thread_main, &r->workers[i]);
        if (rc)
            return -rc;
        r->started++;
    }
    return 0;
}

/* Wait until *count reaches want, in 1 ms sleeps. Returns 0; -EINTR on a
 * stop; -ECHILD if a worker process died first; -ETIME after timeout_ms
 * (0: no limit). */
static int wait_count(struct state_run *r, atomic_int *count, int want, int timeout_ms)
{
    const struct timespec ms = {0, 1000000};
    int waited = 0;

    while (atomic_load_explicit(count, memory_order_acquire) < want) {
        if (pvt__state_stopped(r))
            return -EINTR;
        if (r->proc && pvt__state_reap(r, WNOHANG) < 0)
            return -ECHILD;
        if (timeout_ms && waited++ >= timeout_ms)
            return -ETIME;
        nanosleep(&ms, NULL);
    }
    return 0;
}

/* Stop every worker that is still running, then join or reap them all. */
static void end_workers(struct state_run *r)
{
    int i;

    atomic_store(&r->gate->stop, 1);
    if (!r->proc) {
        for (i = 0; i < r->started; i++)
            pthread_join(r->threads[i], NULL);
        r->started = 0;
        return;
    }
    pvt__state_kill(r);
}

/* The run's figures from the workers' reports and the counters. */
static int account(struct state_run *r, uint64_t sum, uint64_t msgs, uint64_t t_last,
                   struct pvt_state_rep *out)
{
    const struct pvt_state_spec *s = r->spec;
    uint64_t t0 = UINT64_MAX, t1 = t_last;
    int i;

    for (i = 0; i < s->workers; i++) {
        const struct state_report *p = &r->workers[i].rep;
        if (p->err)
            return p->err;
        if (p->done != s->updates)
            return -EPROTO;
        t0 = p->t0 < t0 ? p->t0 : t0;
        t1 = p->t1 > t1 ? p->t1 : t1;
        if (out->copies)
            out->copies[i] = p->copy;
    }
    out->seconds = (double)(t1 - t0) / 1e9;
    out->expected = (uint64_t)s->workers * s->updates;
    out->messages = msgs;
    switch (s->variant) {
    case PVT_SV_THREAD_ATOMIC:
        out->observed = atomic_load(&r->local->atomic);
        break;
    case PVT_SV_THREAD_MUTEX:
        out->observed = r->local->locked;
        break;
    case PVT_SV_PROC_SHM:
        out->observed = atomic_load(&r->gate->shm);
        break;
    case PVT_SV_PROC_MSG:
        out->observed = sum;
        break;
    default: /* the naive ones: this process's plain_counter */
        out->observed = pvt__state_plain();
    }
    return 0;
}

static int run_workers(struct state_run *r, struct pvt_state_rep *out)
{
    uint64_t sum = 0, msgs = 0, t_last = 0;
    int rc;

    rc = r->proc ? pvt__state_start_procs(r) : start_threads(r);
    if (rc == 0)
        rc = wait_count(r, &r->gate->ready, r->spec->workers, READY_TIMEOUT_MS);
    if (rc < 0)
        return rc;
    atomic_store_explicit(&r->gate->go, 1, memory_order_release);
    if (r->socks)
        rc = pvt__state_receive(r, &sum, &msgs, &t_last);
    if (rc == 0)
        rc = wait_count(r, &r->gate->finished, r->spec->workers, 0);
    if (rc < 0)
        return rc;
    if (r->proc) {
        rc = pvt__state_reap(r, 0);
        if (rc == 0)
            rc = pvt__state_read_reports(r);
    } else {
        end_workers(r);
    }
    return rc < 0 ? rc : account(r, sum, msgs, t_last, out);
}

static int check_spec(const struct pvt_state_spec *s)
{
    if (s->variant < 0 || s->variant >= PVT_SV_COUNT || s->workers < 1 ||
        s->workers > PVT_MAX_WORKERS || s->updates < 1 || s->batch < 1)
        return -EINVAL;
    if (s->plan && s->plan->bind && s->plan->workers < s->workers)
        return -EINVAL;
    return 0;
}

int pvt_state_run(const struct pvt_state_spec *spec, struct pvt_state_rep *out)
{
    struct state_run r = {.spec = spec, .report = {-1, -1}};
    size_t n = (size_t)spec->workers;
    int i, rc = check_spec(spec);

    if (rc < 0)
        return rc;
    r.proc = spec->variant >= PVT_SV_PROC_NAIVE;
    r.gate = mmap(NULL, sizeof(*r.gate), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (r.gate == MAP_FAILED)
        return -errno;
    r.local = aligned_alloc(alignof(struct state_local), sizeof(*r.local));
    r.workers = calloc(n, sizeof(*r.workers));
    r.pids = calloc(n, sizeof(*r.pids));
    r.reaped = calloc(n, sizeof(*r.reaped));
    r.threads = calloc(n, sizeof(*r.threads));
    r.socks = spec->variant == PVT_SV_PROC_MSG ? malloc(2 * n * sizeof(*r.socks)) : NULL;
    if (!r.local || !r.workers || !r.pids || !r.reaped || !r.threads ||
        (spec->variant == PVT_SV_PROC_MSG && !r.socks)) {
        rc = -ENOMEM;
        goto out;
    }
    memset(r.local, 0, sizeof(*r.local));
    pthread_mutex_init(&r.local->lock, NULL);
    for (i = 0; r.socks && i < 2 * spec->workers; i++)
        r.socks[i] = -1;
    if (r.proc && pipe2(r.report, O_CLOEXEC) < 0) {
        rc = -errno;
        goto out;
    }
    pvt__state_plain_reset();
    rc = run_workers(&r, out);
out:
    end_workers(&r);
    for (i = 0; r.socks && i < 2 * spec->workers; i++)
        if (r.socks[i] >= 0)
            close(r.socks[i]);
    for (i = 0; i < 2; i++)
        if (r.report[i] >= 0)
            close(r.report[i]);
    if (r.local)
        pthread_mutex_destroy(&r.local->lock);
    free(r.local);
    free(r.workers);
    free(r.pids);
    free(r.reaped);
    free(r.threads);
    free(r.socks);
    munmap(r.gate, sizeof(*r.gate));
    return rc;
}
