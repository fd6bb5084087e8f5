/*
 * ring.c: the worker side of a ring, the sleep hand-shake and the driver's
 * eventfd. DESIGN notes are in ring.h.
 */
#include "ring.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "shared/base/clock.h"
#include "shared/work/work.h"

/* How long an idle worker spins before it sleeps. A refill from the driver
 * usually lands within this, and a spin costs nothing but its own core. */
#define PVT_SPIN_NS 50000

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

size_t pvt_ring_size(uint32_t depth)
{
    size_t sz = sizeof(struct pvt_ring) + (size_t)depth * sizeof(struct pvt_slot);

    return (sz + PVT_CACHELINE - 1) & ~(size_t)(PVT_CACHELINE - 1);
}

void pvt_ring_init(struct pvt_ring *r, uint32_t depth, int shared, int slot_index,
                   struct pvt_waker *waker)
{
    atomic_init(&r->tail, 0);
    atomic_init(&r->stop, 0);
    atomic_init(&r->wake_at, 0);
    atomic_init(&r->done, 0);
    atomic_init(&r->running, 0);
    atomic_init(&r->msgs, 0);
    atomic_init(&r->sleeping, 0);
    atomic_init(&r->wake, 0);
    atomic_init(&r->info.state, PVT_W_EMPTY);
    atomic_init(&r->info.pid, 0);
    atomic_init(&r->info.bind_err, 0);
    CPU_ZERO(&r->info.bound);
    atomic_init(&r->info.requests, 0);
    atomic_init(&r->info.conns, 0);
    atomic_init(&r->info.restarts, 0);
    atomic_init(&r->info.beat_ns, 0);
    atomic_init(&r->info.hung, 0);
    atomic_init(&r->info.ready_ns, 0);
    atomic_init(&r->info.died_ns, 0);
    atomic_init(&r->info.recycle_due, 0);
    atomic_init(&r->info.offloaded, 0);
    atomic_init(&r->info.off_completed, 0);
    atomic_init(&r->info.off_failed, 0);
    atomic_init(&r->info.off_rejected, 0);
    atomic_init(&r->info.gen.current, 0);
    atomic_init(&r->info.gen.accepting, 0);
    atomic_init(&r->info.gen.close_listen, 0);
    r->ctl_efd = -1;
    r->depth = depth;
    r->mask = depth - 1;
    r->shared = shared;
    r->slot_index = slot_index;
    r->waker = waker;
}

int pvt_waker_init(struct pvt_waker *w, atomic_uint *word)
{
    w->waiting = word ? word : &w->word;
    atomic_init(w->waiting, 0);
    w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    return w->efd < 0 ? -errno : 0;
}

void pvt_waker_close(struct pvt_waker *w)
{
    if (w->efd >= 0)
        close(w->efd);
    w->efd = -1;
}

void pvt_waker_drain(struct pvt_waker *w)
{
    uint64_t v;

    atomic_store(w->waiting, 0);
    while (read(w->efd, &v, sizeof(v)) < 0 && errno == EINTR)
        ;
}

void pvt_waker_kick(struct pvt_waker *w)
{
    uint64_t one = 1;

    if (!atomic_exchange(w->waiting, 0))
        return;
    /* EAGAIN means the counter is already non-zero: the driver will wake. */
    while (write(w->efd, &one, sizeof(one)) < 0 && errno == EINTR)
        ;
}

void pvt_ring_notify(struct pvt_ring *r)
{
    /* Pairs with the seq_cst store of `sleeping` in wait_for_work(). */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&r->sleeping, memory_order_relaxed)) {
        atomic_store_explicit(&r->sleeping, 0, memory_order_relaxed);
        atomic_fetch_add(&r->wake, 1);
        pvt_futex_wake(&r->wake, 1, r->shared);
    }
}

void pvt_ring_post_msg(struct pvt_ring *r)
{
    atomic_fetch_add(&r->msgs, 1);
    pvt_ring_notify(r);
}

void pvt_ring_request_stop(struct pvt_ring *r, unsigned how)
{
    atomic_store(&r->stop, how);
    atomic_fetch_add(&r->wake, 1);
    pvt_futex_wake(&r->wake, 1, r->shared);
}

/*
 * The worker saw a stop while its queue looked empty at seq. Stop 2 leaves
 * at once. Stop 1 leaves only with the ring empty, and the tail it looked
 * at before the stop may be old: the driver publishes its last jobs (a
 * stop flushes its backlog into the rings) and then stores stop, and both
 * stores can land between this worker's load of tail and its load of stop.
 * The driver's stop store is a release that comes after its tail store,
 * and the caller loaded stop with acquire, so a load of tail made now sees
 * every job published before the stop. Returns 0 to exit, 1 to run them.
 */
static int stop_now(struct pvt_ring *r, uint64_t seq)
{
    if (atomic_load_explicit(&r->stop, memory_order_acquire) == 2)
        return 0;
    return atomic_load_explicit(&r->tail, memory_order_acquire) != seq;
}

/*
 * The worker found its queue empty at seq. Tell a waiting driver (it may be
 * waiting for this worker's last results), spin a little, then sleep. Returns
 * 0 when the worker should exit, 1 to look at the queue again.
 */
static int wait_for_work(struct pvt_ring *r, uint64_t seq, uint64_t msgs)
{
    uint64_t t0 = 0;
    unsigned i, w;

    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(r->waker->waiting, memory_order_relaxed))
        pvt_waker_kick(r->waker);

    for (i = 1;; i++) {
        if (atomic_load_explicit(&r->tail, memory_order_acquire) != seq)
            return 1;
        if (atomic_load_explicit(&r->stop, memory_order_acquire))
            return stop_now(r, seq);
        if (atomic_load_explicit(&r->msgs, memory_order_relaxed) != msgs)
            return 1;
        cpu_relax();
        if ((i & 63) == 0) {
            uint64_t now = pvt_now_ns();
            if (t0 == 0)
                t0 = now;
            else if (now - t0 > PVT_SPIN_NS)
                break;
        }
    }

    w = atomic_load(&r->wake);
    atomic_store(&r->sleeping, 1);
    if (atomic_load(&r->tail) != seq || atomic_load(&r->stop) || atomic_load(&r->msgs) != msgs) {
        atomic_store(&r->sleeping, 0);
        return 1;
    }
    pvt_futex_wait(&r->wake, w, r->shared, -1);
    atomic_store(&r->sleeping, 0);
    return 1;
}

int pvt_ring_worker_loop(struct pvt_ring *r)
{
    return pvt_ring_worker_run(r, NULL, NULL);
}

int pvt_ring_worker_run(struct pvt_ring *r, void (*msg_cb)(void *arg), void *arg)
{
    struct pvt_work_ctx ctx;
    uint64_t msgs = atomic_load_explicit(&r->msgs, memory_order_acquire);
    uint64_t seq = atomic_load_explicit(&r->done, memory_order_acquire);
    uint64_t tail = seq, limit = r->max_jobs ? seq + r->max_jobs : UINT64_MAX;
    struct pvt_waker *wk = r->waker;
    int beat = r->beat_ms != 0, rc = 0;

    pvt_work_ctx_init(&ctx);
    if (msg_cb)
        msg_cb(arg); /* what was sent before this worker started */
    for (;;) {
        /* One load of a line that only changes when a message comes. */
        if (msg_cb && atomic_load_explicit(&r->msgs, memory_order_acquire) != msgs) {
            msgs = atomic_load_explicit(&r->msgs, memory_order_acquire);
            msg_cb(arg);
        }
        if (seq == tail) {
            tail = atomic_load_explicit(&r->tail, memory_order_acquire);
            if (seq == tail) {
                if (!wait_for_work(r, seq, msgs))
                    break;
                continue;
            }
        }
        struct pvt_slot *s = &r->slots[seq & r->mask];
        struct pvt_job job = {.id = s->id, .workload = s->workload, .arg = s->arg};

        /* The beat is taken only under a watchdog: a clock read per job
         * would double the cost of a no-op job. */
        if (beat)
            atomic_store_explicit(&r->info.beat_ns, pvt_now_ns(), memory_order_relaxed);
        atomic_store_explicit(&r->running, seq + 1, memory_order_relaxed);
        s->value = pvt_work_run(&ctx, &job);
        seq++;
        atomic_store_explicit(&r->done, seq, memory_order_release);

        /* Wake a waiting driver once this ring reached the point it asked
         * for; a queue refilled at half depth keeps this worker busy meanwhile.
         * The fence keeps the load of `waiting` from being answered before
         * the store of done is visible (ring.h: the driver's sleep); the
         * acquire makes the wake_at stored before `waiting` the one read. */
        atomic_thread_fence(memory_order_seq_cst);
        if (atomic_load_explicit(wk->waiting, memory_order_acquire) &&
            seq >= atomic_load_explicit(&r->wake_at, memory_order_relaxed))
            pvt_waker_kick(wk);
        if (atomic_load_explicit(&r->stop, memory_order_relaxed) == 2)
            break;
        if (seq >= limit) {
            rc = PVT_RING_RECYCLE;
            break;
        }
    }
    pvt_work_ctx_fini(&ctx);
    return rc;
}

static size_t page_round(size_t n)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);

    return (n + pg - 1) / pg * pg;
}

int pvt_region_map(struct pvt_region *g, int n, uint32_t depth, int shared)
{
    int i, rc;

    *g = (struct pvt_region){.n = n};
    if (n < 1 || n > PVT_REGION_MAX_RINGS || depth < 2 || depth > PVT_RING_MAX_DEPTH ||
        (depth & (depth - 1)))
        return -EINVAL;
    g->head = page_round(sizeof(atomic_uint));
    g->stride = page_round(pvt_ring_size(depth));
    g->len = g->head + g->stride * (size_t)n;
    g->base = mmap(NULL, g->len, PROT_READ | PROT_WRITE,
                   (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS, -1, 0);
    if (g->base == MAP_FAILED) {
        rc = -errno;
        g->base = NULL;
        return rc;
    }
    g->rings = calloc((size_t)n, sizeof(*g->rings));
    g->waker = calloc(1, sizeof(*g->waker));
    if (!g->rings || !g->waker) {
        pvt_region_unmap(g);
        return -ENOMEM;
    }
    g->waker->efd = -1;
    rc = pvt_waker_init(g->waker, g->base);
    if (rc < 0) {
        pvt_region_unmap(g);
        return rc;
    }
    for (i = 0; i < n; i++) {
        g->rings[i] = (struct pvt_ring *)((char *)g->base + g->head + g->stride * (size_t)i);
        pvt_ring_init(g->rings[i], depth, shared, i, g->waker);
    }
    return 0;
}

void pvt_region_unmap(struct pvt_region *g)
{
    if (g->waker)
        pvt_waker_close(g->waker);
    if (g->base)
        munmap(g->base, g->len);
    free(g->waker);
    free(g->rings);
    *g = (struct pvt_region){0};
}

int pvt_region_index(const struct pvt_region *g, const struct pvt_ring *r)
{
    uintptr_t at = (uintptr_t)r, first = (uintptr_t)g->base + g->head;
    size_t k;

    if (!g->base || at < first || (at - first) % g->stride != 0)
        return -1;
    k = (at - first) / g->stride;
    return k < (size_t)g->n ? (int)k : -1;
}

int pvt_region_isolate(const struct pvt_region *g, const struct pvt_ring *keep)
{
    int i, k = pvt_region_index(g, keep);

    if (k < 0)
        return -EINVAL;
    for (i = 0; i < g->n; i++)
        if (i != k && mprotect(g->rings[i], g->stride, PROT_READ) < 0)
            return -errno;
    return 0;
}

uint64_t pvt_ring_replace_us(const struct pvt_ring_info *info)
{
    uint64_t died = atomic_load(&info->died_ns), ready = atomic_load(&info->ready_ns);

    return died && ready > died ? (ready - died) / 1000 : 0;
}
