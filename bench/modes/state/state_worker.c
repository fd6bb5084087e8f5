/*
 * state_worker.c: what every state worker runs, thread or process: bind,
 * pass the start gate, update its variant's counter, report
 * (bench_state_run.c's DESIGN block has the whole protocol).
 *
 * plain_counter is the one file-static variable: the naive variants must
 * bump a global, since that is what the lesson is about. A thread shares it
 * with the primary; a forked process bumps its own copy.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_state_int.h"
#include "shared/base/clock.h"
#include "shared/core/place.h"

#define CHUNK 65536 /* updates between two looks at the stop flag */

int pvt__state_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    ssize_t n;

    while (len > 0) {
        n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static uint64_t plain_counter;

/* What a worker's loop touches, copied to locals before it starts. */
struct loop {
    _Atomic uint64_t *atomic;
    pthread_mutex_t *lock;
    uint64_t *locked;
    uint64_t *plain;
    int fd;
    uint64_t batch, pending;
};

/* proc-msg: one message, the increments since the last one. */
static int flush(struct loop *l)
{
    uint64_t v = l->pending;

    l->pending = 0;
    return pvt__state_write_all(l->fd, &v, sizeof(v));
}

/* One update of variant v. Always inlined with v a constant, so each
 * variant's loop is tight code of its own. Returns 0, or -errno (proc-msg). */
static inline __attribute__((always_inline)) int update(struct loop *l, int v)
{
    switch (v) {
    case PVT_SV_THREAD_ATOMIC: /* and proc-shm-atomic: l->atomic says which counter */
        atomic_fetch_add_explicit(l->atomic, 1, memory_order_relaxed);
        return 0;
    case PVT_SV_THREAD_MUTEX:
        pthread_mutex_lock(l->lock);
        (*l->locked)++;
        pthread_mutex_unlock(l->lock);
        return 0;
    case PVT_SV_THREAD_NAIVE: /* and proc-naive */
        /* A load, an add and a store, unsynchronised. The empty asm says
         * memory may have changed, so the compiler can neither keep the
         * counter in a register nor fold the loop into one add: every
         * update goes to memory, and two threads really race. */
        (*l->plain)++;
        __asm__ __volatile__("" ::: "memory");
        return 0;
    case PVT_SV_PROC_MSG:
        if (++l->pending < l->batch)
            return 0;
        return flush(l);
    }
    return 0;
}

/* n updates of variant v, in chunks, looking at stop between two. */
static inline __attribute__((always_inline)) int updates(struct loop *l, int v, uint64_t n,
                                                         const atomic_int *stop, uint64_t *done)
{
    uint64_t d = 0, i, k;
    int rc = 0;

    while (d < n && rc == 0 && !atomic_load_explicit(stop, memory_order_relaxed)) {
        k = n - d < CHUNK ? n - d : CHUNK;
        for (i = 0; i < k && rc == 0; i++)
            rc = update(l, v);
        d += i;
    }
    *done = d;
    return rc;
}

/* The naive loop, out of line and by this name so that ThreadSanitizer's
 * suppression (tests/tsan.supp) can name the one race pvt makes on purpose. */
static __attribute__((noinline)) int racy_updates(struct loop *l, uint64_t n,
                                                  const atomic_int *stop, uint64_t *done)
{
    return updates(l, PVT_SV_THREAD_NAIVE, n, stop, done);
}

static int run_updates(struct state_worker *w)
{
    struct state_run *r = w->run;
    const struct pvt_state_spec *s = r->spec;
    const atomic_int *stop = &r->gate->stop;
    uint64_t *done = &w->rep.done;
    struct loop l = {
        .atomic = s->variant == PVT_SV_PROC_SHM ? &r->gate->shm : &r->local->atomic,
        .lock = &r->local->lock,
        .locked = &r->local->locked,
        .plain = &plain_counter,
        .fd = w->fd,
        .batch = s->batch,
    };
    int rc;

    switch (s->variant) {
    case PVT_SV_THREAD_ATOMIC:
    case PVT_SV_PROC_SHM:
        return updates(&l, PVT_SV_THREAD_ATOMIC, s->updates, stop, done);
    case PVT_SV_THREAD_MUTEX:
        return updates(&l, PVT_SV_THREAD_MUTEX, s->updates, stop, done);
    case PVT_SV_THREAD_NAIVE:
    case PVT_SV_PROC_NAIVE:
        return racy_updates(&l, s->updates, stop, done);
    case PVT_SV_PROC_MSG:
        rc = updates(&l, PVT_SV_PROC_MSG, s->updates, stop, done);
        return rc == 0 && l.pending ? flush(&l) : rc;
    }
    return -EINVAL;
}

/* A worker, thread or process: bind, pass the gate, update, report. */
void pvt__state_worker_body(struct state_worker *w)
{
    struct state_run *r = w->run;
    const struct pvt_state_spec *s = r->spec;
    int rc = 0;

    w->rep.index = w->index;
    if (s->plan && s->plan->bind)
        rc = pvt_place_bind_self(&s->plan->sets[w->index]);
    atomic_fetch_add(&r->gate->ready, 1);
    while (!atomic_load_explicit(&r->gate->go, memory_order_acquire) &&
           !atomic_load_explicit(&r->gate->stop, memory_order_relaxed))
        sched_yield();
    if (rc == 0 && !atomic_load(&r->gate->stop)) {
        w->rep.t0 = pvt_now_ns();
        rc = run_updates(w);
        w->rep.t1 = pvt_now_ns();
    }
    w->rep.err = rc;
    if (r->proc)
        w->rep.copy = plain_counter; /* its own copy: a thread would race reading it */
}

int pvt__state_stopped(const struct state_run *r)
{
    return r->spec->stop && *r->spec->stop;
}

uint64_t pvt__state_plain(void)
{
    return plain_counter;
}

void pvt__state_plain_reset(void)
{
    plain_counter = 0;
}
