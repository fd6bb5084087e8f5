/*
 * bench_cost_mem.c: cost mode's memory and cow sections.
 *
 * memory: for each N of --workers, RSS, PSS and USS (smaps_rollup, mem.h)
 * of N workers, idle and after each ran jobs of --workload. A proc worker
 * is a process: its figures are its own, and the table gives the mean per
 * worker and the sum over the workers. A thread has no figures of its own:
 * its cost is what the process grew by when the pool was made (and after
 * the jobs), divided by N for the per-worker column. Bare fork and
 * pthread_create workers (idle) run beside the pools. Each measurement
 * runs in a fresh child of the primary (isolated(), below), so none
 * inherits what an earlier one left behind.
 *
 * cow: gunicorn's preload_app, measured. A dataset (--dataset) is loaded
 * before PVT_COST_COW_WORKERS workers are made. Forked workers share its
 * pages copy-on-write, so each worker's PSS holds about dataset / (N + 1)
 * of it (the primary maps it too); once every worker has read it nothing
 * changes (reading copies nothing); once every worker has written a byte in
 * each page, each holds a private copy, and their PSS together grows by
 * about N copies. Threads share the one copy whatever they do. pvt's proc
 * pool, made after the same load, shows the shared state a real pool
 * starts in (its workers run jobs, which never touch the dataset).
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_cost.h"
#include "bench_cost_bare.h"
#include "bench/common/cli.h"
#include "shared/base/child.h"
#include "mem.h"
#include "shared/work/work.h"

#define CMD             "bench"
#define JOBS_PER_WORKER 4

/* Per worker and in all, KiB. */
struct fig {
    double rss, pss, uss, rss_t, pss_t, uss_t;
    struct pvt_mem primary;
};

/*
 * This process's figures, after handing back what the allocator keeps free
 * (the arenas of threads that ran jobs before): a forked worker would
 * inherit it, and a thread's figure is a difference against this.
 */
static int settle(struct pvt_mem *base)
{
    malloc_trim(0);
    return pvt_mem_read(0, base);
}

/* Sum the figures of n worker processes. 0 or -errno (reported). */
static int read_procs(const pid_t *pids, int n, struct fig *f)
{
    struct pvt_mem m;
    int i, rc;

    memset(f, 0, sizeof(*f));
    for (i = 0; i < n; i++) {
        rc = pvt_mem_read(pids[i], &m);
        if (rc < 0) {
            pvt_err(CMD, "cannot read the memory of worker %d (pid %d): %s", i, (int)pids[i],
                    pvt_mem_strerror(rc));
            return rc;
        }
        f->rss_t += (double)m.rss_kb;
        f->pss_t += (double)m.pss_kb;
        f->uss_t += (double)m.uss_kb;
    }
    f->rss = f->rss_t / n;
    f->pss = f->pss_t / n;
    f->uss = f->uss_t / n;
    return pvt_mem_read(0, &f->primary);
}

/* Threads: what this process grew by since base, n workers' worth. */
static int read_threads(const struct pvt_mem *base, int n, struct fig *f)
{
    int rc = pvt_mem_read(0, &f->primary);

    if (rc < 0)
        return rc;
    f->rss_t = (double)f->primary.rss_kb - (double)base->rss_kb;
    f->pss_t = (double)f->primary.pss_kb - (double)base->pss_kb;
    f->uss_t = (double)f->primary.uss_kb - (double)base->uss_kb;
    f->rss = f->rss_t / n;
    f->pss = f->pss_t / n;
    f->uss = f->uss_t / n;
    return 0;
}

static int add(struct pvt_cost_run *r, int section, const char *backend, const char *mechanism,
               const char *variant, int n, int rep, const struct fig *f, const char *workload)
{
    struct pvt_cost_row row;

    pvt_cost_row_init(&row, section, backend, mechanism, variant);
    row.workers = n;
    row.repetition = rep;
    if (section == PVT_CS_COW)
        row.dataset_mb = (long)(r->cost->dataset >> 20);
    if (workload)
        snprintf(row.workload, sizeof(row.workload), "%s", workload);
    row.f[PVT_CF_RSS] = f->rss;
    row.f[PVT_CF_PSS] = f->pss;
    row.f[PVT_CF_USS] = f->uss;
    row.f[PVT_CF_RSS_TOTAL] = f->rss_t;
    row.f[PVT_CF_PSS_TOTAL] = f->pss_t;
    row.f[PVT_CF_USS_TOTAL] = f->uss_t;
    row.f[PVT_CF_PRIMARY_RSS] = (double)f->primary.rss_kb;
    row.f[PVT_CF_PRIMARY_PSS] = (double)f->primary.pss_kb;
    row.f[PVT_CF_PRIMARY_USS] = (double)f->primary.uss_kb;
    return pvt_cost_add(r, &row);
}

/* The workers' ids of a live pool (pids, or tids for threads). */
static int pool_ids(const struct pvt_pool_ops *ops, struct pvt_pool *pool, int n, pid_t *ids)
{
    struct pvt_pool_stats st = {0};
    int i;

    st.w = calloc((size_t)n, sizeof(*st.w));
    if (!st.w)
        return -ENOMEM;
    ops->stats(pool, &st);
    for (i = 0; i < n; i++)
        ids[i] = st.w[i].pid;
    free(st.w);
    return 0;
}

/* A pool of n: idle, then after JOBS_PER_WORKER jobs each. */
static int pool_memory(struct pvt_cost_run *r, const struct pvt_pool_ops *ops, int n, int rep)
{
    const struct pvt_bench_cfg *cfg = r->cfg;
    int proc = (ops->caps & PVT_CAP_PROCESSES) != 0, rc, step;
    struct pvt_pool_cfg pc = {.workers = n};
    struct pvt_pool *pool = NULL;
    struct pvt_plan *plan = NULL;
    pid_t *ids = calloc((size_t)n, sizeof(*ids));
    struct pvt_mem base;
    char wl[32];
    struct fig f;

    pvt_workload_format(cfg->workload[0], cfg->workload_arg[0], wl, sizeof(wl));
    rc = ids ? pvt_place_plan(r->topo, cfg->pin, cfg->unit, n, &plan) : -ENOMEM;
    if (rc == 0)
        rc = settle(&base);
    pc.plan = plan;
    if (rc == 0)
        rc = ops->create(&pc, &pool);
    if (rc == 0)
        rc = pool_ids(ops, pool, n, ids);
    for (step = 0; step < 2 && rc == 0; step++) {
        if (step == 1) {
            rc = pvt_cost_jobs(ops, pool, cfg->workload[0], cfg->workload_arg[0],
                               (uint64_t)n * JOBS_PER_WORKER);
            if (rc < 0)
                break;
        }
        rc = proc ? read_procs(ids, n, &f) : read_threads(&base, n, &f);
        if (rc == 0)
            rc = add(r, PVT_CS_MEMORY, ops->name, "pool", step ? "after-work" : "idle", n, rep, &f,
                     step ? wl : NULL);
    }
    if (rc < 0 && !pvt_bench_interrupted)
        pvt_err(CMD, "memory: %s pool of %d: %s", ops->name, n, strerror(-rc));
    if (pool) {
        ops->stop(pool, 5000);
        ops->destroy(pool);
    }
    pvt_plan_free(plan);
    free(ids);
    return rc;
}

/* n bare workers of kind, idle; with data, also after 'r' and 'w'. */
static int bare_memory(struct pvt_cost_run *r, int section, int kind, int n, int rep,
                       unsigned char *data, size_t len, const struct pvt_mem *base)
{
    static const char *const steps[] = {"started", "read", "written"};
    const char *backend = kind == PVT_BARE_FORK ? "proc" : "thread";
    const char *mech = kind == PVT_BARE_FORK ? "fork" : "pthread_create";
    struct pvt_bare b;
    struct fig f;
    int rc, s, nsteps = data ? 3 : 1;

    rc = pvt_bare_start(&b, kind, n, data, len);
    if (rc < 0) {
        pvt_err(CMD, "%s: %s of %d workers: %s", pvt_cost_section_names[section], mech, n,
                strerror(-rc));
        return rc;
    }
    for (s = 0; s < nsteps && rc == 0; s++) {
        if (s > 0)
            rc = pvt_bare_cmd(&b, steps[s][0]);
        if (rc == 0)
            rc = kind == PVT_BARE_FORK ? read_procs(b.ids, n, &f) : read_threads(base, n, &f);
        if (rc == 0)
            rc = add(r, section, backend, mech, data ? steps[s] : "idle", n, rep, &f, NULL);
    }
    pvt_bare_stop(&b);
    return rc;
}

static void print_memory(const struct pvt_cost_run *r, int section)
{
    const struct pvt_cost_row *keys[1024];
    int n = pvt_cost_table(r, section,
                           section == PVT_CS_MEMORY
                               ? "N workers; threads: what the process grew by (KiB, medians)"
                               : "a dataset loaded before the workers were made; threads: the "
                                 "process's growth (KiB, medians)",
                           keys, 1024),
        i;

    printf("%-7s %-15s %-11s %7s %10s %10s %10s %12s %12s %12s\n", "backend", "mechanism",
           "variant", "workers", "rss/worker", "pss/worker", "uss/worker", "rss_total", "pss_total",
           "primary_pss");
    for (i = 0; i < n; i++) {
        const struct pvt_cost_row *k = keys[i];
        printf("%-7s %-15s %-11s %7ld %10.0f %10.0f %10.0f %12.0f %12.0f %12.0f\n", k->backend,
               k->mechanism, k->variant, k->workers, pvt_cost_median(r, k, PVT_CF_RSS, NULL, NULL),
               pvt_cost_median(r, k, PVT_CF_PSS, NULL, NULL),
               pvt_cost_median(r, k, PVT_CF_USS, NULL, NULL),
               pvt_cost_median(r, k, PVT_CF_RSS_TOTAL, NULL, NULL),
               pvt_cost_median(r, k, PVT_CF_PSS_TOTAL, NULL, NULL),
               pvt_cost_median(r, k, PVT_CF_PRIMARY_PSS, NULL, NULL));
    }
    fflush(stdout);
}

/* len bytes from fd, retrying EINTR and short reads: len, less at EOF, or -1. */
static ssize_t read_full(int fd, void *buf, size_t len)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/* One measurement of the memory section: a pool, or bare workers. */
struct mem_job {
    const struct pvt_pool_ops *ops; /* NULL: bare workers of kind */
    int kind, n, rep;
};

static int mem_job_run(struct pvt_cost_run *r, const struct mem_job *j)
{
    struct pvt_mem base;
    int rc;

    if (j->ops)
        return pool_memory(r, j->ops, j->n, j->rep);
    rc = settle(&base);
    return rc < 0 ? rc : bare_memory(r, PVT_CS_MEMORY, j->kind, j->n, j->rep, NULL, 0, &base);
}

/*
 * Run j in a fresh child of this process and add the rows it made. A pool
 * leaves memory behind in the process that made it (glibc keeps a thread's
 * arena and up to 40 MiB of its cached stacks); a forked worker of the next
 * pool would inherit it, and a thread's growth would be measured against
 * it. A child that _exits takes it all away. The rows come up a pipe: their
 * strings are static, at the same addresses in both processes.
 */
static int isolated(struct pvt_cost_run *r, const struct mem_job *j)
{
    struct pvt_cost_row row;
    pid_t parent = getpid(), pid;
    int fds[2], rc = 0, status, before = r->nrows;
    ssize_t got;

    if (pipe2(fds, O_CLOEXEC) < 0)
        return -errno;
    pid = fork();
    if (pid < 0)
        rc = -errno;
    if (pid == 0) {
        struct pvt_child_cfg cfg = {
            .flags = PVT_CHILD_KEEP_FDS, .parent = parent, .keep = &fds[1], .nkeep = 1};
        int i;

        pvt_child_init_or_exit(&cfg);
        rc = mem_job_run(r, j);
        if (write(fds[1], &rc, sizeof(rc)) != sizeof(rc))
            _exit(PVT_CHILD_EXIT_SETUP);
        for (i = before; rc == 0 && i < r->nrows; i++)
            if (write(fds[1], &r->rows[i], sizeof(r->rows[i])) != sizeof(r->rows[i]))
                _exit(PVT_CHILD_EXIT_SETUP);
        _exit(PVT_CHILD_EXIT_OK);
    }
    close(fds[1]);
    if (rc < 0) {
        close(fds[0]);
        return rc;
    }
    if (read_full(fds[0], &rc, sizeof(rc)) != sizeof(rc))
        rc = -EIO;
    while (rc == 0 && (got = read_full(fds[0], &row, sizeof(row))) == sizeof(row))
        rc = pvt_cost_add(r, &row);
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (rc == 0 && status != 0)
        rc = -EIO;
    if (rc == -EIO && !pvt_bench_interrupted)
        pvt_err(CMD, "memory: the measuring process (pid %d) failed", (int)pid);
    return rc;
}

int pvt_cost_memory(struct pvt_cost_run *r)
{
    const struct pvt_bench_cfg *cfg = r->cfg;
    int rep, w, b, rc = 0;

    for (rep = 1; rep <= cfg->repeat && rc == 0; rep++) {
        for (w = 0; w < cfg->nworkers && rc == 0; w++) {
            int n = (int)cfg->workers[w];
            pvt_cost_progress(r, "[memory] round %d/%d: %d worker%s", rep, cfg->repeat, n,
                              n == 1 ? "" : "s");
            for (b = 0; b < cfg->nbackends && rc == 0; b++)
                rc = isolated(r, &(struct mem_job){cfg->backends[b], 0, n, rep});
            if (rc == 0)
                rc = isolated(r, &(struct mem_job){NULL, PVT_BARE_FORK, n, rep});
            if (rc == 0)
                rc = isolated(r, &(struct mem_job){NULL, PVT_BARE_PTHREAD, n, rep});
            if (rc == 0 && pvt_bench_interrupted)
                rc = -EINTR;
        }
    }
    pvt_cost_progress_clear(r);
    if (rc == 0)
        print_memory(r, PVT_CS_MEMORY);
    return rc;
}

/* pvt's proc pool made after the load: the state its workers start in. */
static int cow_pool(struct pvt_cost_run *r, const struct pvt_pool_ops *ops, int n, int rep)
{
    struct pvt_pool_cfg pc = {.workers = n};
    struct pvt_pool *pool = NULL;
    pid_t ids[PVT_COST_COW_WORKERS];
    struct fig f;
    int rc;

    rc = ops->create(&pc, &pool);
    if (rc == 0)
        rc = pool_ids(ops, pool, n, ids);
    if (rc == 0)
        rc = read_procs(ids, n, &f);
    if (rc == 0)
        rc = add(r, PVT_CS_COW, "proc", "pool", "started", n, rep, &f, NULL);
    if (pool) {
        ops->stop(pool, 5000);
        ops->destroy(pool);
    }
    return rc;
}

int pvt_cost_cow(struct pvt_cost_run *r)
{
    const struct pvt_bench_cfg *cfg = r->cfg;
    size_t len = (size_t)r->cost->dataset;
    int n = PVT_COST_COW_WORKERS, rep, b, rc = 0;

    for (rep = 1; rep <= cfg->repeat && rc == 0; rep++) {
        struct pvt_mem base;
        unsigned char *data;

        pvt_cost_progress(r, "[cow] round %d/%d: %zu MiB, %d workers", rep, cfg->repeat, len >> 20,
                          n);
        rc = settle(&base);
        if (rc < 0)
            break;
        data = pvt_bare_touch(len);
        if (!data) {
            rc = -errno;
            pvt_err(CMD, "--dataset: cannot load %zu MiB: %s", len >> 20, strerror(errno));
            break;
        }
        for (b = 0; b < cfg->nbackends && rc == 0; b++)
            if (cfg->backends[b]->caps & PVT_CAP_PROCESSES)
                rc = cow_pool(r, cfg->backends[b], n, rep);
        if (rc == 0)
            rc = bare_memory(r, PVT_CS_COW, PVT_BARE_FORK, n, rep, data, len, NULL);
        if (rc == 0)
            rc = bare_memory(r, PVT_CS_COW, PVT_BARE_PTHREAD, n, rep, data, len, &base);
        pvt_bare_untouch(data, len);
        if (rc == 0 && pvt_bench_interrupted)
            rc = -EINTR;
    }
    pvt_cost_progress_clear(r);
    if (rc == 0)
        print_memory(r, PVT_CS_COW);
    return rc;
}
