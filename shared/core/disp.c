/*
 * disp.c: the driver side of the rings. DESIGN notes are in disp.h.
 */
#include "disp.h"

#include <errno.h>
#include <stdlib.h>

int pvt_disp_init(struct pvt_disp *d, int n, uint32_t depth, struct pvt_ring **rings,
                  struct pvt_waker *waker)
{
    *d = (struct pvt_disp){
        .n = n, .depth = depth, .mask = depth - 1, .rings = rings, .waker = waker};
    d->head = calloc((size_t)n, sizeof(*d->head));
    d->tail = calloc((size_t)n, sizeof(*d->tail));
    d->sent = calloc((size_t)n * depth, sizeof(*d->sent));
    d->live = calloc((size_t)n, sizeof(*d->live));
    d->jobs_done = calloc((size_t)n, sizeof(*d->jobs_done));
    d->gone_at = calloc((size_t)n, sizeof(*d->gone_at));
    d->busy_since = calloc((size_t)n, sizeof(*d->busy_since));
    d->bl_cap = (uint64_t)depth * (uint64_t)n;
    d->bl = malloc(d->bl_cap * sizeof(*d->bl));
    d->gone_failed = calloc((size_t)n, sizeof(*d->gone_failed));
    if (!d->head || !d->tail || !d->sent || !d->live || !d->jobs_done || !d->gone_at || !d->gone_failed ||
        !d->busy_since || !d->bl) {
        pvt_disp_fini(d);
        return -ENOMEM;
    }
    for (int i = 0; i < n; i++)
        d->gone_at[i] = UINT64_MAX;
    d->window = depth < PVT_DISP_START_WINDOW ? depth : PVT_DISP_START_WINDOW;
    return 0;
}

void pvt_disp_fini(struct pvt_disp *d)
{
    free(d->head);
    free(d->tail);
    free(d->sent);
    free(d->live);
    free(d->jobs_done);
    free(d->gone_at);
    free(d->gone_failed);
    free(d->busy_since);
    free(d->bl);
    d->busy_since = NULL;
    d->bl = NULL;
    d->gone_at = NULL;
    d->gone_failed = NULL;
    d->head = NULL;
    d->tail = NULL;
    d->sent = NULL;
    d->live = NULL;
    d->jobs_done = NULL;
}

/* Ring i's tail: the dispatcher's own count, never read back from the ring. */
static inline uint64_t ring_tail(const struct pvt_disp *d, int i)
{
    return d->tail[i];
}

/* The dispatcher's copy of the job in ring i's slot for seq. */
static inline struct pvt_disp_job *sent_at(const struct pvt_disp *d, int i, uint64_t seq)
{
    return &d->sent[(size_t)i * d->depth + (seq & d->mask)];
}

/* Write the job queued at seq into ring i's slot for it. */
static void slot_write(struct pvt_disp *d, int i, uint64_t seq)
{
    const struct pvt_disp_job *j = sent_at(d, i, seq);
    struct pvt_slot *s = &d->rings[i]->slots[seq & d->mask];

    s->id = j->id;
    s->workload = j->workload;
    s->status = PVT_JOB_OK;
    s->arg = j->arg;
    s->value = 0;
}

/* Write up to m jobs into ring i, publish them and wake its worker. */
static int push(struct pvt_disp *d, int i, const struct pvt_job *jobs, int m)
{
    struct pvt_ring *r = d->rings[i];
    uint64_t t = ring_tail(d, i);
    int k;

    for (k = 0; k < m; k++) {
        *sent_at(d, i, t + (uint64_t)k) = (struct pvt_disp_job){
            .id = jobs[k].id, .arg = jobs[k].arg, .workload = jobs[k].workload,
            .status = PVT_JOB_OK};
        slot_write(d, i, t + (uint64_t)k);
    }
    d->tail[i] = t + (uint64_t)m;
    atomic_store_explicit(&r->tail, t + (uint64_t)m, memory_order_release);
    pvt_ring_notify(r);
    if (d->busy_since[i] == 0)
        d->busy_since[i] = pvt_now_ns();
    return m;
}

static uint64_t ring_out(const struct pvt_disp *d, int i)
{
    return ring_tail(d, i) - d->head[i];
}

uint64_t pvt_disp_done(const struct pvt_disp *d, int i)
{
    uint64_t done = atomic_load_explicit(&d->rings[i]->done, memory_order_acquire);

    if (done < d->head[i])
        return d->head[i];
    return done > d->tail[i] ? d->tail[i] : done;
}

static int live_count(const struct pvt_disp *d)
{
    int i, live = 0;

    for (i = 0; i < d->n; i++)
        live += d->live[i];
    return live;
}

/*
 * Push up to n jobs into the live rings, filling them towards a common level
 * no higher than cap, so each worker ends with the same amount outstanding
 * and the least loaded gets the most. Returns how many were pushed.
 */
static int fill(struct pvt_disp *d, const struct pvt_job *jobs, int n, uint64_t cap)
{
    uint64_t total = 0, level, out, m;
    int i, c, live = 0, k = 0;

    for (i = 0; i < d->n; i++) {
        if (d->live[i]) {
            live++;
            total += ring_out(d, i);
        }
    }
    if (live == 0)
        return 0;
    level = (total + (uint64_t)n + (uint64_t)live - 1) / (uint64_t)live;
    if (level > cap)
        level = cap;
    for (c = 0; c < d->n && k < n; c++) {
        i = (d->next + c) % d->n;
        if (!d->live[i])
            continue;
        out = ring_out(d, i);
        if (out >= level)
            continue;
        m = level - out;
        if (m > (uint64_t)(n - k))
            m = (uint64_t)(n - k);
        k += push(d, i, jobs + k, (int)m);
    }
    return k;
}

/* Move backlog jobs into the rings, up to cap per ring, in order. */
static void refill(struct pvt_disp *d, uint64_t cap)
{
    while (d->bl_tail > d->bl_head) {
        uint64_t at = d->bl_head % d->bl_cap;
        uint64_t len = d->bl_tail - d->bl_head;
        int m;

        if (len > d->bl_cap - at)
            len = d->bl_cap - at;
        if (len > INT32_MAX)
            len = INT32_MAX;
        m = fill(d, d->bl + at, (int)len, cap);
        d->bl_head += (uint64_t)m;
        if ((uint64_t)m < len)
            break;
    }
}

int pvt_disp_submit(struct pvt_disp *d, const struct pvt_job *jobs, int n)
{
    uint64_t cap, out;
    int live, k, pushed = 0;

    if (d->stopping)
        return -ESHUTDOWN;
    if (n <= 0)
        return -EINVAL;
    live = live_count(d);
    if (live == 0)
        return -EHOSTDOWN;

    /* Room: depth jobs per live worker, queued in its ring or the backlog. */
    cap = (uint64_t)d->depth * (uint64_t)live;
    out = pvt_disp_outstanding(d);
    if (out >= cap)
        return -EAGAIN;
    k = (uint64_t)n < cap - out ? n : (int)(cap - out);

    /* Straight into the rings while nothing waits before these jobs. */
    if (d->bl_tail == d->bl_head)
        pushed = fill(d, jobs, k, d->window);
    for (; pushed < k; pushed++)
        d->bl[d->bl_tail++ % d->bl_cap] = jobs[pushed];
    d->submitted += (uint64_t)k;
    return k;
}

void pvt_disp_flush(struct pvt_disp *d)
{
    refill(d, d->depth);
}

/* A ring that was busy since `since` finished n jobs by now: learn from it,
 * and size the window to hold twice the slack's worth of such jobs. */
static void learn(struct pvt_disp *d, uint64_t since, uint64_t now, uint64_t n)
{
    double sample = (double)(now - since) / (double)n, w;

    d->job_ns = d->job_ns > 0 ? d->job_ns + (sample - d->job_ns) / 8 : sample;
    w = 2 * PVT_DISP_SLACK_NS / d->job_ns;
    if (w > d->depth)
        w = d->depth;
    if (w < PVT_DISP_MIN_WINDOW)
        w = PVT_DISP_MIN_WINDOW;
    d->window = (uint32_t)w < d->depth ? (uint32_t)w : d->depth;
}

int pvt_disp_drain(struct pvt_disp *d, struct pvt_result *res, int max)
{
    uint64_t now = 0;
    int got = 0, c;

    for (c = 0; c < d->n && got < max; c++) {
        int i = (d->next + c) % d->n;
        struct pvt_ring *r = d->rings[i];
        uint64_t h = d->head[i], gone = d->gone_at[i];
        /* An abandoned ring's worker may still write `done` (even move it
         * back) and the running job's value: neither is read past gone. */
        uint64_t done = gone != UINT64_MAX ? ring_tail(d, i) : pvt_disp_done(d, i);

        while (h < done && got < max) {
            const struct pvt_disp_job *j = sent_at(d, i, h);
            int st = j->status;

            res[got].id = j->id;
            res[got].value = 0;
            if (h >= gone)
                st = h == gone && d->gone_failed[i] ? PVT_JOB_FAILED : PVT_JOB_DROPPED;
            else if (st == PVT_JOB_OK)
                res[got].value = r->slots[h & d->mask].value;
            res[got].status = st;
            res[got].worker = i;
            if (st == PVT_JOB_FAILED)
                d->failed++;
            else if (st == PVT_JOB_DROPPED)
                d->dropped++;
            got++;
            h++;
        }
        if (h > d->head[i] && h == done && gone == UINT64_MAX && d->busy_since[i]) {
            if (!now)
                now = pvt_now_ns();
            learn(d, d->busy_since[i], now, h - d->head[i]);
            d->busy_since[i] = ring_tail(d, i) > done ? now : 0;
        }
        d->jobs_done[i] += h - d->head[i];
        d->head[i] = h;
    }
    /* With no worker left to run them, backlog jobs are dropped. */
    while (got < max && d->bl_tail > d->bl_head && live_count(d) == 0) {
        const struct pvt_job *j = &d->bl[d->bl_head++ % d->bl_cap];
        res[got++] = (struct pvt_result){.id = j->id, .status = PVT_JOB_DROPPED, .worker = -1};
        d->dropped++;
    }
    d->next = d->n > 0 ? (d->next + 1) % d->n : 0;
    d->completed += (uint64_t)got;
    return got;
}

uint64_t pvt_disp_outstanding(const struct pvt_disp *d)
{
    uint64_t total = 0;
    int i;

    for (i = 0; i < d->n; i++)
        total += ring_tail(d, i) - d->head[i];
    return total + (d->bl_tail - d->bl_head);
}

/* 1 if a live worker is down to half a window or less: worth refilling now. */
static int wants_refill(const struct pvt_disp *d)
{
    int i;

    for (i = 0; i < d->n; i++)
        if (d->live[i] && ring_tail(d, i) - d->head[i] <= d->window / 2)
            return 1;
    return 0;
}

/*
 * Before sleeping, tell each ring when its results are worth a wake-up: a
 * ring holding more than half a window when it is back to half (time to
 * refill), a shallower one when half of what it holds is done.
 */
static void set_wake_points(struct pvt_disp *d)
{
    int i;

    for (i = 0; i < d->n; i++) {
        struct pvt_ring *r = d->rings[i];
        uint64_t t = ring_tail(d, i), h = d->head[i], at;

        if (t - h > d->window / 2)
            at = t - d->window / 2;
        else
            at = h + (t - h + 1) / 2;
        atomic_store_explicit(&r->wake_at, at, memory_order_relaxed);
    }
}

static int remaining_ms(uint64_t deadline)
{
    uint64_t now = pvt_now_ns();

    if (deadline == UINT64_MAX)
        return -1;
    if (now >= deadline)
        return 0;
    return (int)((deadline - now + 999999) / 1000000);
}

int pvt_disp_collect(struct pvt_disp *d, struct pvt_result *res, int max, int timeout_ms,
                     pvt_disp_wait_cb wait, void *arg)
{
    uint64_t deadline = UINT64_MAX;
    int got = 0, rc, left;

    if (max <= 0)
        return -EINVAL;
    if (timeout_ms >= 0)
        deadline = pvt_now_ns() + (uint64_t)timeout_ms * 1000000u;

    for (;;) {
        got += pvt_disp_drain(d, res + got, max - got);
        refill(d, d->window);
        if (got == max)
            return got;
        if (pvt_disp_outstanding(d) == 0)
            return got > 0 ? got : -ENOENT;
        if (got > 0 && d->bl_tail == d->bl_head && wants_refill(d))
            return got;
        left = remaining_ms(deadline);
        if (left == 0)
            return got;

        /* Arm the waker, then look once more: a worker that finished
         * between the drain above and the arming did not see it armed.
         * The fence pairs with the worker's between its store of done and
         * its load of `waiting` (ring.h: the driver's sleep): without it
         * the drain's acquire load of done may be answered before the
         * store of `waiting` is visible, and both sides miss each other. */
        set_wake_points(d);
        atomic_store(d->waker->waiting, 1);
        atomic_thread_fence(memory_order_seq_cst);
        rc = pvt_disp_drain(d, res + got, max - got);
        if (rc > 0) {
            got += rc;
            refill(d, d->window);
            if (got == max || (d->bl_tail == d->bl_head && wants_refill(d)) ||
                pvt_disp_outstanding(d) == 0) {
                atomic_store(d->waker->waiting, 0);
                return got;
            }
        }
        rc = wait(arg, left);
        pvt_waker_drain(d->waker);
        if (rc < 0)
            return got > 0 ? got : rc;
    }
}

int pvt_disp_poll(struct pvt_disp *d, struct pvt_result *res, int max, pvt_disp_wait_cb wait,
                  void *arg)
{
    int got, rc, i;

    if (max <= 0)
        return -EINVAL;
    rc = wait(arg, 0);
    pvt_waker_drain(d->waker);
    if (rc < 0)
        return rc;
    got = pvt_disp_drain(d, res, max);
    refill(d, d->window);
    if (pvt_disp_outstanding(d) == 0)
        return got > 0 ? got : -ENOENT;

    /* Arm for the next result of any ring, then look once more (the fence
     * as in pvt_disp_collect): a worker that finished in between did not
     * see the arming. Results left over are announced at once. */
    for (i = 0; i < d->n; i++)
        atomic_store_explicit(&d->rings[i]->wake_at, d->head[i] + 1, memory_order_relaxed);
    atomic_store(d->waker->waiting, 1);
    atomic_thread_fence(memory_order_seq_cst);
    if (got < max) {
        got += pvt_disp_drain(d, res + got, max - got);
        refill(d, d->window);
    }
    if (got == max)
        pvt_waker_kick(d->waker);
    return got;
}

void pvt_disp_fail_next(struct pvt_disp *d, int i, int st)
{
    struct pvt_ring *r = d->rings[i];
    uint64_t done = pvt_disp_done(d, i);

    if (done >= ring_tail(d, i))
        return;
    sent_at(d, i, done)->status = st;
    atomic_store(&r->running, done + 1);
    atomic_store(&r->done, done + 1);
}

void pvt_disp_abandon(struct pvt_disp *d, int i)
{
    struct pvt_ring *r = d->rings[i];
    uint64_t done = pvt_disp_done(d, i);

    d->live[i] = 0;
    d->gone_at[i] = done;
    d->gone_failed[i] = done < ring_tail(d, i) && atomic_load(&r->running) == done + 1;
}

void pvt_disp_drop_queued(struct pvt_disp *d, int i)
{
    struct pvt_ring *r = d->rings[i];
    uint64_t seq, done = pvt_disp_done(d, i), tail = ring_tail(d, i);

    for (seq = done; seq < tail; seq++)
        sent_at(d, i, seq)->status = PVT_JOB_DROPPED;
    atomic_store(&r->running, tail);
    atomic_store(&r->done, tail);
}

void pvt_disp_ring_reset(struct pvt_disp *d, int i)
{
    struct pvt_ring *r = d->rings[i];
    uint64_t seq, done = pvt_disp_done(d, i), tail = ring_tail(d, i);

    for (seq = done; seq < tail; seq++)
        slot_write(d, i, seq);
    atomic_store(&r->tail, tail);
    atomic_store(&r->done, done);
    atomic_store(&r->running, done);
    atomic_store(&r->wake_at, 0);
    atomic_store(&r->sleeping, 0);
}

int pvt_disp_ring_check(const struct pvt_disp *d, int i)
{
    const struct pvt_ring *r = d->rings[i];
    int state = atomic_load(&r->info.state);
    uint64_t done = atomic_load(&r->done);

    /* An honest worker's done never passes the tail it was given nor goes
     * back before what was collected; the primary writes every state but
     * ready, and a worker writes only ready. */
    if (state < PVT_W_EMPTY || state > PVT_W_EXITED || done < d->head[i] || done > d->tail[i])
        return -EBADMSG;
    return 0;
}

int pvt_disp_wait_ready(struct pvt_disp *d, int timeout_ms, pvt_disp_wait_cb wait, void *arg)
{
    uint64_t deadline = pvt_now_ns() + (uint64_t)timeout_ms * 1000000u;
    int i, ready, rc = 0;

    for (;;) {
        /* Armed before looking, so a worker that turns ready after the look
         * finds the driver waiting and kicks it. */
        atomic_store(d->waker->waiting, 1);
        ready = 0;
        for (i = 0; i < d->n && rc == 0; i++) {
            const struct pvt_ring_info *info = &d->rings[i]->info;
            int state = atomic_load(&info->state), bind_err = atomic_load(&info->bind_err);

            /* The worker's word: a real -errno, or -EIO for anything else. */
            if (bind_err < 0)
                rc = bind_err >= -4095 ? bind_err : -EIO;
            else if (state == PVT_W_EMPTY || state == PVT_W_EXITED)
                rc = -ECHILD;
            ready += state == PVT_W_READY;
        }
        if (rc == 0 && ready == d->n)
            break;
        if (rc == 0 && pvt_now_ns() > deadline)
            rc = -ETIMEDOUT;
        if (rc == 0)
            rc = wait(arg, 100);
        pvt_waker_drain(d->waker);
        if (rc < 0)
            return rc;
    }
    pvt_waker_drain(d->waker);
    return 0;
}

void pvt_disp_stats(const struct pvt_disp *d, const char *backend, struct pvt_pool_stats *st)
{
    int i;

    st->backend = backend;
    st->workers = d->n;
    st->live = 0;
    st->submitted = d->submitted;
    st->completed = d->completed;
    st->failed = d->failed;
    st->dropped = d->dropped;
    st->deaths = 0;
    st->recycles = st->hangs = 0;
    st->parked = 0;
    st->port = 0;
    st->handed_out = st->refused = 0;
    for (i = 0; i < d->n; i++) {
        const struct pvt_ring_info *info = &d->rings[i]->info;
        int state = atomic_load(&info->state), conns = atomic_load(&info->conns);

        /* What a worker wrote is shown, never used: a value outside the
         * enum is shown as unknown (-1), a count below 0 as 0. */
        if (state < PVT_W_EMPTY || state > PVT_W_EXITED)
            state = -1;
        st->live += state == PVT_W_READY && !atomic_load(&info->hung);
        if (!st->w)
            continue;
        st->w[i] = (struct pvt_worker_stats){
            .slot = i,
            .state = state,
            .pid = atomic_load(&info->pid),
            .jobs_done = d->jobs_done[i],
            .last_exit_code = -1,
            /* Written by a starting worker: read only once it said ready. */
            .bound = state >= PVT_W_READY ? info->bound : (cpu_set_t){0},
            .requests = atomic_load(&info->requests),
            .conns = conns > 0 ? conns : 0,
            .hung = atomic_load(&info->hung),
            .replace_us = pvt_ring_replace_us(info),
            .offloaded = atomic_load(&info->offloaded),
            .offload_completed = atomic_load(&info->off_completed),
            .offload_failed = atomic_load(&info->off_failed),
            .offload_rejected = atomic_load(&info->off_rejected),
        };
    }
}
