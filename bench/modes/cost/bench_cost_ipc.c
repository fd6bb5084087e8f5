/*
 * bench_cost_ipc.c: cost mode's sched and ipc sections.
 *
 * sched: a pool of one worker per core runs jobs of --workload for about
 * sched_ms; the kernel's per-task counters of every worker, read before
 * and after (/proc/PID/task/TID/status, stat and sched), give voluntary and
 * involuntary context switches, CPU migrations and minor faults per job,
 * with the workers pinned (--pin, compact if that is none) and unpinned.
 *
 * ipc: one round trip between the primary (this thread, bound to the first
 * allowed CPU) and one worker, on the same CPU and on another, per
 * mechanism: pvt's pools (one noop job submitted and collected through the
 * backend's ring), and the bare hand-offs of bench_cost_pp.c between two
 * processes (pipe, socketpair, futex, spin) and two threads (pipe,
 * condvar, futex, spin). Spinning on one CPU only waits for the scheduler
 * to switch sides, so spin runs across CPUs only. This thread's affinity is
 * restored afterwards.
 */
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_cost.h"
#include "bench_cost_bare.h"
#include "bench/common/cli.h"
#include "shared/base/clock.h"
#include "shared/work/work.h"

#define CMD           "bench"
#define IPC_MIN_TRIPS 100
#define CALIBRATE     16 /* jobs per worker that size a sched measurement */

/* One task's counters. */
struct ctr {
    double vcs, ivcs, minflt, migr; /* migr NAN without /proc/.../sched */
};

static int read_text(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "re");
    size_t n;

    if (!f)
        return -errno;
    n = fread(buf, 1, len - 1, f);
    buf[n] = '\0';
    fclose(f);
    return 0;
}

static double field_after(const char *text, const char *key)
{
    const char *p = strstr(text, key);

    return p ? strtod(p + strlen(key), NULL) : NAN;
}

/* The counters of task tid of process owner. 0 or -errno. */
static int read_task(pid_t owner, pid_t tid, struct ctr *c)
{
    char path[96], text[4096];
    const char *p;
    int rc, i;

    snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)owner, (int)tid);
    rc = read_text(path, text, sizeof(text));
    if (rc < 0)
        return rc;
    c->vcs = field_after(text, "\nvoluntary_ctxt_switches:");
    c->ivcs = field_after(text, "\nnonvoluntary_ctxt_switches:");
    snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)owner, (int)tid);
    rc = read_text(path, text, sizeof(text));
    if (rc < 0)
        return rc;
    /* Field 10 is minflt; the name (field 2) may hold spaces, so count from its ')'. */
    p = strrchr(text, ')');
    for (i = 2; p && i < 10; i++)
        p = strchr(p + 1, ' ');
    c->minflt = p ? strtod(p + 1, NULL) : NAN;
    snprintf(path, sizeof(path), "/proc/%d/task/%d/sched", (int)owner, (int)tid);
    c->migr = NAN;
    if (read_text(path, text, sizeof(text)) == 0) {
        p = strstr(text, "se.nr_migrations");
        if (p && (p = strchr(p, ':')))
            c->migr = strtod(p + 1, NULL);
    }
    return 0;
}

/* The counters of every worker of a pool, added up. */
static int read_pool(const struct pvt_pool_ops *ops, struct pvt_pool *pool, int n, struct ctr *sum)
{
    struct pvt_pool_stats st = {0};
    int proc = (ops->caps & PVT_CAP_PROCESSES) != 0, i, rc = 0;
    struct ctr c;

    memset(sum, 0, sizeof(*sum));
    st.w = calloc((size_t)n, sizeof(*st.w));
    if (!st.w)
        return -ENOMEM;
    ops->stats(pool, &st);
    for (i = 0; i < n && rc == 0; i++) {
        pid_t tid = st.w[i].pid;
        rc = read_task(proc ? tid : getpid(), tid, &c);
        sum->vcs += c.vcs;
        sum->ivcs += c.ivcs;
        sum->minflt += c.minflt;
        sum->migr += c.migr;
    }
    free(st.w);
    return rc;
}

/* One pool of n, pinned or not: its counters over about sched_ms of jobs.
 * rep 0 is a warm-up, not recorded. */
static int sched_one(struct pvt_cost_run *r, const struct pvt_pool_ops *ops, int pinned, int n,
                     int rep, int order)
{
    const struct pvt_bench_cfg *cfg = r->cfg;
    enum pvt_place_policy pol = cfg->pin != PVT_PLACE_NONE ? cfg->pin : PVT_PLACE_COMPACT;
    struct pvt_pool_cfg pc = {.workers = n};
    struct pvt_pool *pool = NULL;
    struct pvt_plan *plan = NULL;
    struct pvt_cost_row row;
    struct ctr c0, c1;
    uint64_t t0 = 0, t1 = 0, jobs = 0;
    int rc;

    rc = pvt_place_plan(r->topo, pinned ? pol : PVT_PLACE_NONE, cfg->unit, n, &plan);
    pc.plan = plan;
    if (rc == 0)
        rc = ops->create(&pc, &pool);
    /* Jobs first that are not counted: each worker makes its buffers, and
     * their time says how many jobs fill sched_ms. */
    if (rc == 0) {
        t0 = pvt_now_ns();
        rc = pvt_cost_jobs(ops, pool, cfg->workload[0], cfg->workload_arg[0], CALIBRATE * n);
        t1 = pvt_now_ns();
        jobs = (uint64_t)fmin(
            fmax((double)r->cost->sched_ms * 1e6 / (double)(t1 - t0 + 1) * (double)(CALIBRATE * n),
                 64.0 * n),
            1e7);
    }
    if (rc == 0)
        rc = read_pool(ops, pool, n, &c0);
    if (rc == 0) {
        t0 = pvt_now_ns();
        rc = pvt_cost_jobs(ops, pool, cfg->workload[0], cfg->workload_arg[0], jobs);
        t1 = pvt_now_ns();
    }
    if (rc == 0)
        rc = read_pool(ops, pool, n, &c1);
    if (rc == 0 && rep > 0) { /* rep 0: a warm-up, not recorded */
        pvt_cost_row_init(&row, PVT_CS_SCHED, ops->name, "pool", pinned ? "pinned" : "unpinned");
        row.workers = n;
        row.repetition = rep;
        row.order = order;
        pvt_workload_format(cfg->workload[0], cfg->workload_arg[0], row.workload,
                            sizeof(row.workload));
        row.f[PVT_CF_SECONDS] = (double)(t1 - t0) / 1e9;
        row.f[PVT_CF_JOBS] = (double)jobs;
        row.f[PVT_CF_VCS] = (c1.vcs - c0.vcs) / (double)jobs;
        row.f[PVT_CF_IVCS] = (c1.ivcs - c0.ivcs) / (double)jobs;
        row.f[PVT_CF_MINFLT] = (c1.minflt - c0.minflt) / (double)jobs;
        row.f[PVT_CF_MIGR] = (c1.migr - c0.migr) / (double)jobs;
        rc = pvt_cost_add(r, &row);
    }
    if (rc < 0 && !pvt_bench_interrupted)
        pvt_err(CMD, "sched: %s, %d workers: %s", ops->name, n, strerror(-rc));
    if (pool) {
        ops->stop(pool, 5000);
        ops->destroy(pool);
    }
    pvt_plan_free(plan);
    return rc;
}

int pvt_cost_sched(struct pvt_cost_run *r)
{
    const struct pvt_bench_cfg *cfg = r->cfg;
    const struct pvt_cost_row *keys[64];
    char title[160];
    int n = pvt_place_default_workers(r->topo), nconf = cfg->nbackends * 2, k, j, i, rc = 0;

    for (k = 0; k < cfg->warmup + cfg->repeat && rc == 0; k++) {
        int warm = k < cfg->warmup;
        for (j = 0; j < nconf && rc == 0; j++) {
            int c = (j + k) % nconf;
            const struct pvt_pool_ops *ops = cfg->backends[c / 2];
            if (pvt_bench_interrupted)
                return -EINTR;
            pvt_cost_progress(r, "[sched] %s %d: %s, %s", warm ? "warm-up" : "round",
                              warm ? k + 1 : k - cfg->warmup + 1, ops->name,
                              c % 2 ? "unpinned" : "pinned");
            rc = sched_one(r, ops, c % 2 == 0, n, warm ? 0 : k - cfg->warmup + 1, c);
        }
    }
    pvt_cost_progress_clear(r);
    if (rc < 0)
        return rc;
    snprintf(title, sizeof(title), "per job, %d workers, about %.0f ms of %s each (medians)", n,
             (double)r->cost->sched_ms, r->rows[r->nrows - 1].workload);
    n = pvt_cost_table(r, PVT_CS_SCHED, title, keys, 64);
    printf("%-7s %-9s %10s %10s %10s %10s\n", "backend", "variant", "vol_cs", "invol_cs",
           "migrations", "minflt");
    for (i = 0; i < n; i++)
        printf("%-7s %-9s %10.4f %10.4f %10.4f %10.4f\n", keys[i]->backend, keys[i]->variant,
               pvt_cost_median(r, keys[i], PVT_CF_VCS, NULL, NULL),
               pvt_cost_median(r, keys[i], PVT_CF_IVCS, NULL, NULL),
               pvt_cost_median(r, keys[i], PVT_CF_MIGR, NULL, NULL),
               pvt_cost_median(r, keys[i], PVT_CF_MINFLT, NULL, NULL));
    fflush(stdout);
    return 0;
}

/* pvt's pool of one worker bound to cpu: one noop job at a time. */
static int pool_trips(const struct pvt_pool_ops *ops, int cpu, uint64_t min_ns, double *rtt_ns,
                      uint64_t *trips)
{
    struct pvt_pool *pool;
    uint64_t t0, n = 0;
    int rc, i;

    rc = pvt_cost_pool_on(ops, cpu, &pool);
    if (rc < 0)
        return rc;
    for (i = 0; i < IPC_MIN_TRIPS && rc == 0; i++)
        rc = pvt_cost_jobs(ops, pool, PVT_WL_NOOP, 0, 1);
    t0 = pvt_now_ns();
    while (rc == 0 && (n < IPC_MIN_TRIPS || pvt_now_ns() - t0 < min_ns)) {
        rc = pvt_cost_jobs(ops, pool, PVT_WL_NOOP, 0, 1);
        n++;
    }
    *rtt_ns = (double)(pvt_now_ns() - t0) / (double)n;
    *trips = n;
    ops->stop(pool, 5000);
    ops->destroy(pool);
    return rc;
}

struct ipc_conf {
    const char *backend, *mechanism;
    int pp; /* enum pvt_pp_mech, or -1: the pool */
    const struct pvt_pool_ops *ops;
    int cross;
    int proc; /* a bare mechanism (pp >= 0): its peer is a forked process */
};

static int ipc_one(struct pvt_cost_run *r, const struct ipc_conf *c, int cpu_a, int cpu_b, int rep,
                   int order)
{
    uint64_t min_ns = r->cost->ipc_ms * 1000000u, trips = 0;
    int peer = c->cross ? cpu_b : cpu_a, rc;
    struct pvt_cost_row row;
    double rtt = NAN;

    if (c->pp < 0)
        rc = pool_trips(c->ops, peer, min_ns, &rtt, &trips);
    else
        rc = pvt_pp_run(c->pp, c->proc, peer, min_ns, IPC_MIN_TRIPS, &rtt, &trips);
    if (rc < 0) {
        if (!pvt_bench_interrupted)
            pvt_err(CMD, "ipc: %s %s: %s", c->backend, c->mechanism, strerror(-rc));
        return rc;
    }
    if (rep == 0)
        return 0;
    pvt_cost_row_init(&row, PVT_CS_IPC, c->backend, c->mechanism,
                      c->cross ? "cross-core" : "same-core");
    row.workers = 1;
    row.repetition = rep;
    row.order = order;
    snprintf(row.cpus, sizeof(row.cpus), "%d,%d", cpu_a, peer);
    row.f[PVT_CF_SECONDS] = rtt * (double)trips / 1e9;
    row.f[PVT_CF_TRIPS] = (double)trips;
    row.f[PVT_CF_RTT_US] = rtt / 1e3;
    return pvt_cost_add(r, &row);
}

static int ipc_confs(const struct pvt_cost_run *r, int ncpus, struct ipc_conf *c)
{
    static const int proc_pp[] = {PVT_PP_PIPE, PVT_PP_SOCKETPAIR, PVT_PP_FUTEX, PVT_PP_SPIN};
    static const int thr_pp[] = {PVT_PP_PIPE, PVT_PP_CONDVAR, PVT_PP_FUTEX, PVT_PP_SPIN};
    int cross, i, n = 0;

    for (cross = 0; cross <= (ncpus > 1); cross++) {
        for (i = 0; i < r->cfg->nbackends; i++)
            c[n++] = (struct ipc_conf){r->cfg->backends[i]->name, "pool", -1, r->cfg->backends[i],
                                       cross, 0};
        for (i = 0; i < 4; i++) {
            if (proc_pp[i] == PVT_PP_SPIN && !cross)
                continue;
            c[n++] = (struct ipc_conf){"proc", pvt_pp_names[proc_pp[i]], proc_pp[i], NULL, cross, 1};
            c[n++] = (struct ipc_conf){"thread", pvt_pp_names[thr_pp[i]], thr_pp[i], NULL, cross,
                                       0};
        }
    }
    return n;
}

static void print_ipc(const struct pvt_cost_run *r)
{
    const struct pvt_cost_row *keys[128];
    int n = pvt_cost_table(r, PVT_CS_IPC, "one round trip, primary <-> worker (medians)", keys,
                           128),
        i;

    printf("%-7s %-11s %-10s %-5s %10s  %-19s\n", "backend", "mechanism", "variant", "cpus",
           "rtt_us", "min-max");
    for (i = 0; i < n; i++) {
        double lo, hi, m = pvt_cost_median(r, keys[i], PVT_CF_RTT_US, &lo, &hi);
        char range[48];

        snprintf(range, sizeof(range), "%.3f-%.3f", lo, hi);
        printf("%-7s %-11s %-10s %-5s %10.3f  %-19s\n", keys[i]->backend, keys[i]->mechanism,
               keys[i]->variant, keys[i]->cpus, m, range);
    }
    fflush(stdout);
}

int pvt_cost_ipc(struct pvt_cost_run *r)
{
    const struct pvt_bench_cfg *cfg = r->cfg;
    struct ipc_conf c[64];
    cpu_set_t saved;
    int cpu_a, cpu_b, k, j, nc, rc;

    rc = pvt_cost_bind_first(&saved, &cpu_a, &cpu_b);
    if (rc < 0)
        return rc;
    nc = ipc_confs(r, cpu_b < 0 ? 1 : 2, c);
    for (k = 0; k < cfg->warmup + cfg->repeat && rc == 0; k++) {
        int warm = k < cfg->warmup;
        for (j = 0; j < nc && rc == 0; j++) {
            int ci = (j + k) % nc;
            const struct ipc_conf *x = &c[ci];
            if (pvt_bench_interrupted) {
                rc = -EINTR;
                break;
            }
            pvt_cost_progress(r, "[ipc] %s %d: %s %s, %s", warm ? "warm-up" : "round",
                              warm ? k + 1 : k - cfg->warmup + 1, x->backend, x->mechanism,
                              x->cross ? "cross-core" : "same-core");
            rc = ipc_one(r, x, cpu_a, cpu_b, warm ? 0 : k - cfg->warmup + 1, ci);
        }
    }
    sched_setaffinity(0, sizeof(saved), &saved);
    pvt_cost_progress_clear(r);
    if (rc == 0)
        print_ipc(r);
    return rc;
}
