/*
 * bench_cost_hop.c: cost mode's hop section: when handing a job from an
 * event loop to a pool pays.
 *
 * DESIGN. The loop is this thread, bound to the first allowed CPU; the pool
 * has one worker, bound to the second (the same CPU with only one). For
 * each size N of --hop-sizes, jobs of cpu:N run one at a time, either
 * inline (the loop calls pvt_work_run) or offloaded as a serving worker
 * hands off a CPU route: submit, poll (which arms the pool's event_fd),
 * epoll_wait on event_fd, poll again until the result is there. Per job the
 * rows keep the wall time (what a request waits) and the loop thread's CPU
 * time (CLOCK_THREAD_CPUTIME_ID: what the loop spends, so what offloading
 * frees it of). The worker is the only other party and is idle while the
 * loop runs inline; the loop sleeps in epoll_wait while the worker runs.
 *
 * Each measurement first runs two jobs, then doubles a batch until it
 * takes an eighth of hop_ms (a warm-up that also sizes it), then runs about
 * hop_ms of jobs (at least 4).
 * Rounds (--warmup unrecorded, --repeat recorded) take the backends and the
 * sizes one place later each time, and inline and offload alternate which
 * goes first. The crossover (pvt_hop_crossover) is computed per repetition
 * and from the medians; its text and the table are printed here, the
 * report and the plot compute it from results.csv the same way.
 */
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "bench_cost.h"
#include "bench/common/cli.h"
#include "shared/base/clock.h"
#include "shared/work/work.h"

#define CMD      "bench"
#define STALL_MS 30000
#define MIN_JOBS 4
#define MAX_JOBS 10000000u

int pvt_hop_open(const struct pvt_pool_ops *ops, int cpu, struct pvt_hop_loop *l)
{
    struct epoll_event ev = {.events = EPOLLIN};
    int rc;

    memset(l, 0, sizeof(*l));
    l->ep = -1;
    if (!(ops->caps & PVT_CAP_POLL))
        return -EOPNOTSUPP;
    l->ops = ops;
    rc = pvt_cost_pool_on(ops, cpu, &l->pool);
    if (rc < 0)
        return rc;
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    if (l->ep < 0 || epoll_ctl(l->ep, EPOLL_CTL_ADD, ops->event_fd(l->pool), &ev) < 0) {
        rc = -errno;
        pvt_hop_close(l);
        return rc;
    }
    return 0;
}

void pvt_hop_close(struct pvt_hop_loop *l)
{
    if (l->ep >= 0)
        close(l->ep);
    if (l->pool) {
        l->ops->stop(l->pool, 5000);
        l->ops->destroy(l->pool);
    }
    memset(l, 0, sizeof(*l));
    l->ep = -1;
}

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One job through l's pool, waited for in the loop's epoll set. */
static int offload_one(struct pvt_hop_loop *l, const struct pvt_job *job, struct pvt_result *res)
{
    struct epoll_event ev;
    int n;

    n = l->ops->submit(l->pool, job, 1);
    if (n < 0)
        return n; /* one job at a time: the queue is never full */
    for (;;) {
        n = l->ops->poll(l->pool, res, 1);
        if (n != 0)
            return n < 0 ? n : 0;
        n = epoll_wait(l->ep, &ev, 1, STALL_MS);
        if (n < 0 && errno != EINTR)
            return -errno;
        if (pvt_bench_interrupted)
            return -EINTR;
        if (n == 0)
            return -ETIME;
    }
}

int pvt_hop_jobs(struct pvt_hop_loop *l, uint64_t arg, uint64_t expected, uint64_t njobs,
                 double *wall_ns, double *cpu_ns)
{
    struct pvt_job job = {.workload = PVT_WL_CPU, .arg = arg};
    struct pvt_work_ctx ctx;
    struct pvt_result res;
    uint64_t t0, c0, i;
    int rc = 0;

    pvt_work_ctx_init(&ctx);
    t0 = pvt_now_ns();
    c0 = thread_cpu_ns();
    for (i = 0; i < njobs && rc == 0; i++) {
        job.id = i;
        if (!l) {
            res.status = PVT_JOB_OK;
            res.value = pvt_work_run(&ctx, &job);
        } else {
            rc = offload_one(l, &job, &res);
        }
        if (rc == 0 && res.status != PVT_JOB_OK)
            rc = -EPIPE;
        if (rc == 0 && res.value != expected)
            rc = -EBADMSG;
    }
    *cpu_ns = (double)(thread_cpu_ns() - c0) / (double)(njobs ? njobs : 1);
    *wall_ns = (double)(pvt_now_ns() - t0) / (double)(njobs ? njobs : 1);
    pvt_work_ctx_fini(&ctx);
    return rc;
}

void pvt_hop_crossover(int n, int nreps, pvt_hop_get_cb get, void *arg, struct pvt_hop_cross *out)
{
    int rep, i, at;

    out->med = out->lo = out->hi = -1;
    for (rep = 0; rep <= nreps; rep++) {
        at = n;
        for (i = n - 1; i >= 0; i--) {
            double inl = get(arg, "inline", i, rep), off = get(arg, "offload", i, rep);
            if (isnan(inl) || isnan(off)) {
                at = -1;
                break;
            }
            if (!(off < inl))
                break;
            at = i;
        }
        if (rep == 0) {
            out->med = at;
        } else if (at >= 0 && (out->lo < 0 || at < out->lo)) {
            out->lo = at;
        }
        if (rep > 0 && at > out->hi)
            out->hi = at;
    }
}

void pvt_hop_size_text(const uint64_t *sizes, int n, int i, char *buf, size_t len)
{
    static const char suffix[] = {'\0', 'K', 'M', 'G'};
    uint64_t v;
    int k = 0;

    if (i < 0 || n <= 0) {
        snprintf(buf, len, "?");
        return;
    }
    v = sizes[i < n ? i : n - 1];
    while (k < 3 && v >= 1000 && v % 1000 == 0) {
        v /= 1000;
        k++;
    }
    snprintf(buf, len, "%scpu:%llu%.1s", i < n ? "" : "none up to ", (unsigned long long)v,
             &suffix[k]);
}

/* About budget_ns of jobs of cpu:arg, inline (l NULL) or offloaded: a
 * doubling batch first sizes it. */
static int measure(struct pvt_hop_loop *l, uint64_t arg, uint64_t budget_ns, uint64_t *jobs,
                   double *wall_ns, double *cpu_ns)
{
    uint64_t expected = pvt_work_expected(PVT_WL_CPU, arg), n = 1;
    double est;
    int rc;

    /* Two jobs first: the first after a pause finds cold caches and a
     * sleeping worker, and would size the batch too small. */
    rc = pvt_hop_jobs(l, arg, expected, 2, wall_ns, cpu_ns);
    for (; rc == 0; n *= 2) {
        rc = pvt_hop_jobs(l, arg, expected, n, wall_ns, cpu_ns);
        if (*wall_ns * (double)n * 8 >= (double)budget_ns || n >= MAX_JOBS / 8)
            break;
    }
    if (rc < 0)
        return rc;
    est = (double)budget_ns / fmax(*wall_ns, 1.0);
    *jobs = (uint64_t)fmin(fmax(est, MIN_JOBS), MAX_JOBS);
    return pvt_hop_jobs(l, arg, expected, *jobs, wall_ns, cpu_ns);
}

/* Every size, inline and offloaded, through one loop of ops; recorded as
 * repetition rep (0: a warm-up, not recorded). */
static int hop_round(struct pvt_cost_run *r, int b, int k, int rep, int cpu_a, int cpu_w)
{
    const struct pvt_cost_cfg *cost = r->cost;
    const struct pvt_pool_ops *ops = r->cfg->backends[b];
    struct pvt_hop_loop l;
    struct pvt_cost_row row;
    double wall, cpu;
    uint64_t jobs;
    int j, m, rc;

    rc = pvt_hop_open(ops, cpu_w, &l);
    for (j = 0; j < cost->nhop && rc == 0; j++) {
        int s = (j + k) % cost->nhop;
        for (m = 0; m < 2 && rc == 0; m++) {
            int off = (m + k) % 2;
            if (pvt_bench_interrupted)
                rc = -EINTR;
            else
                rc = measure(off ? &l : NULL, cost->hop[s], cost->hop_ms * 1000000u, &jobs,
                             &wall, &cpu);
            if (rc < 0 || rep == 0)
                continue;
            pvt_cost_row_init(&row, PVT_CS_HOP, ops->name, off ? "offload" : "inline",
                              cost->hop_name[s]);
            row.workers = 1;
            row.repetition = rep;
            row.order = (b * cost->nhop + s) * 2 + off;
            snprintf(row.cpus, sizeof(row.cpus), "%d,%d", cpu_a, cpu_w);
            pvt_workload_format(PVT_WL_CPU, cost->hop[s], row.workload, sizeof(row.workload));
            row.f[PVT_CF_SECONDS] = wall * (double)jobs / 1e9;
            row.f[PVT_CF_JOBS] = (double)jobs;
            row.f[PVT_CF_WALL_US] = wall / 1e3;
            row.f[PVT_CF_LOOP_CPU_US] = cpu / 1e3;
            rc = pvt_cost_add(r, &row);
        }
    }
    if (rc < 0 && !pvt_bench_interrupted)
        pvt_err(CMD, "hop: %s: %s", ops->name, strerror(-rc));
    pvt_hop_close(&l);
    return rc;
}

/* The rows of one backend, for pvt_hop_crossover. */
struct run_rows {
    const struct pvt_cost_run *r;
    const char *backend;
};

static double run_get(void *arg, const char *mech, int i, int rep)
{
    const struct run_rows *x = arg;
    const struct pvt_cost_run *r = x->r;
    const char *v = r->cost->hop_name[i];
    int k;

    if (rep == 0)
        return pvt_cost_find(r, PVT_CS_HOP, x->backend, mech, v, -1, -1, PVT_CF_LOOP_CPU_US);
    for (k = 0; k < r->nrows; k++) {
        const struct pvt_cost_row *w = &r->rows[k];
        if (w->section == PVT_CS_HOP && w->repetition == rep &&
            strcmp(w->backend, x->backend) == 0 && strcmp(w->mechanism, mech) == 0 &&
            strcmp(w->variant, v) == 0)
            return w->f[PVT_CF_LOOP_CPU_US];
    }
    return NAN;
}

/* "hop crossover, proc: cpu:10K (per repetition cpu:1K-cpu:10K); ..." */
static void print_crossover(const struct pvt_cost_run *r, const char *backend)
{
    const struct pvt_cost_cfg *cost = r->cost;
    struct run_rows x = {r, backend};
    struct pvt_hop_cross c;
    char med[48], lo[48], hi[48];
    double w0, wi, rtt;

    pvt_hop_crossover(cost->nhop, r->cfg->repeat, run_get, &x, &c);
    pvt_hop_size_text(cost->hop, cost->nhop, c.med, med, sizeof(med));
    pvt_hop_size_text(cost->hop, cost->nhop, c.lo, lo, sizeof(lo));
    pvt_hop_size_text(cost->hop, cost->nhop, c.hi, hi, sizeof(hi));
    w0 = pvt_cost_find(r, PVT_CS_HOP, backend, "offload", cost->hop_name[0], -1, -1,
                       PVT_CF_WALL_US);
    wi = pvt_cost_find(r, PVT_CS_HOP, backend, "inline", cost->hop_name[0], -1, -1,
                       PVT_CF_WALL_US);
    printf("hop crossover, %s: %s (per repetition %s-%s): below it a job inline costs the loop "
           "less than handing it off; a request pays %.2f us wall for the hop at cpu:%s",
           backend, med, lo, hi, w0 - wi, cost->hop_name[0]);
    rtt = pvt_cost_find(r, PVT_CS_IPC, backend, "pool", "cross-core", -1, -1, PVT_CF_RTT_US);
    if (!isnan(rtt))
        printf(" (ipc: a noop round trip through collect, %.2f us)", rtt);
    printf("\n");
}

static void print_hop(const struct pvt_cost_run *r, int cpu_a, int cpu_w)
{
    const struct pvt_cost_row *keys[2 * PVT_BENCH_MAX_LIST * 4];
    char title[200], size[48];
    int n, i;

    snprintf(title, sizeof(title), "one job of cpu:N, a loop on CPU %d inline or handed to a pool "
             "of 1 on CPU %d and back, us per job (medians; the loop's CPU inline and offloaded, "
             "its min-max)", cpu_a, cpu_w);
    n = pvt_cost_table(r, PVT_CS_HOP, title, keys, (int)(sizeof(keys) / sizeof(keys[0])));
    printf("%-7s %-10s %10s %10s %10s %10s %10s %13s\n", "backend", "size", "inline_us",
           "offload_us", "hop_us", "inline_cpu", "loop_cpu", "min-max");
    for (i = 0; i + 1 < n; i++) { /* inline, then offload, by order */
        if (strcmp(keys[i]->mechanism, "inline") != 0 ||
            strcmp(keys[i + 1]->variant, keys[i]->variant) != 0)
            continue;
        double lo, hi, li = pvt_cost_median(r, keys[i], PVT_CF_WALL_US, NULL, NULL),
                       ci = pvt_cost_median(r, keys[i], PVT_CF_LOOP_CPU_US, NULL, NULL),
                       wo = pvt_cost_median(r, keys[i + 1], PVT_CF_WALL_US, NULL, NULL),
                       co = pvt_cost_median(r, keys[i + 1], PVT_CF_LOOP_CPU_US, &lo, &hi);
        char range[48];

        snprintf(size, sizeof(size), "cpu:%s", keys[i]->variant);
        snprintf(range, sizeof(range), "%.2f-%.2f", lo, hi);
        printf("%-7s %-10s %10.3f %10.3f %10.3f %10.3f %10.3f %13s\n", keys[i]->backend, size, li,
               wo, wo - li, ci, co, range);
    }
    for (i = 0; i < r->cfg->nbackends; i++)
        if (r->cfg->backends[i]->caps & PVT_CAP_POLL)
            print_crossover(r, r->cfg->backends[i]->name);
    fflush(stdout);
}

int pvt_cost_hop(struct pvt_cost_run *r)
{
    const struct pvt_bench_cfg *cfg = r->cfg;
    cpu_set_t saved;
    int cpu_a, cpu_b, cpu_w, k, j, rc;

    rc = pvt_cost_bind_first(&saved, &cpu_a, &cpu_b);
    if (rc < 0)
        return rc;
    cpu_w = cpu_b >= 0 ? cpu_b : cpu_a;
    for (k = 0; k < cfg->warmup + cfg->repeat && rc == 0; k++) {
        int warm = k < cfg->warmup;
        for (j = 0; j < cfg->nbackends && rc == 0; j++) {
            int b = (j + k) % cfg->nbackends;
            if (!(cfg->backends[b]->caps & PVT_CAP_POLL))
                continue;
            pvt_cost_progress(r, "[hop] %s %d: %s", warm ? "warm-up" : "round",
                              warm ? k + 1 : k - cfg->warmup + 1, cfg->backends[b]->name);
            rc = hop_round(r, b, k, warm ? 0 : k - cfg->warmup + 1, cpu_a, cpu_w);
        }
    }
    sched_setaffinity(0, sizeof(saved), &saved);
    pvt_cost_progress_clear(r);
    if (rc == 0)
        print_hop(r, cpu_a, cpu_w);
    return rc;
}
