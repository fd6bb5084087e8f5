/*
 * bench_tasks.c: task mode: jobs through each backend's queue, no network.
 *
 * For every backend x workers x workload, one pool is created (its start-up
 * time recorded), --warmup unrecorded repetitions run, then --repeat
 * recorded ones. A repetition keeps every worker's queue topped up until
 * --jobs jobs have come back, and checks each result against the value the
 * workload must produce, so a fast wrong answer can never pass as a figure.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/backends/backends.h"
#include "bench/common/bench.h"
#include "bench/common/cli.h"
#include "bench/results/res.h"
#include "shared/core/ring.h"
#include "shared/work/work.h"
#include "tasks.h"

#define CMD "bench"
#define BATCH 65536
#define STALL_MS 30000 /* no result for this long: the run is broken */

static const char *const columns[] = {
    "mode", "backend", "workers", "workload", "repetition", "seconds", "jobs", "jobs_per_s",
    "us_per_job", "failed", "pin", "unit", "queue_depth", "ready_ms",
};
#define NCOLUMNS ((int)(sizeof(columns) / sizeof(columns[0])))

struct rep {
    double seconds;
    uint64_t jobs;
    uint64_t failed;
};

/* One summary line of the table, kept for the side-by-side verdicts. */
struct summary {
    const char *backend;
    long workers;
    uint32_t wl;
    uint64_t arg;
    double median, min, max;
};

struct run {
    const struct pvt_bench_cfg *cfg;
    struct pvt_topo *topo;
    const char *dir;
    struct pvt_csv *csv;
    struct pvt_job *jobs;
    struct pvt_result *res;
    struct summary *sum;
    int nsum;
    int total, index; /* workloads, for the progress line */
    int tty;
    long warned_workers; /* the most workers warned about sharing a core */
};

/* "41.2M", "950k", "12.0": rates for a table. */
static const char *human(double v, char *buf, size_t len)
{
    if (v >= 1e9)
        snprintf(buf, len, "%.2fG", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, len, "%.2fM", v / 1e6);
    else if (v >= 1e3)
        snprintf(buf, len, "%.1fk", v / 1e3);
    else
        snprintf(buf, len, "%.1f", v);
    return buf;
}

/* Seconds one job of (wl, arg) takes on this thread, measured briefly. */
static double job_cost(uint32_t wl, uint64_t arg)
{
    struct pvt_work_ctx ctx;
    struct pvt_job job = {.workload = wl, .arg = arg};
    uint64_t t0, n = 0;

    pvt_work_ctx_init(&ctx);
    pvt_work_run(&ctx, &job); /* buffers allocated and filled outside the timing */
    t0 = pvt_now_ns();
    do {
        pvt_work_run(&ctx, &job);
        n++;
    } while (pvt_now_ns() - t0 < 20000000 && n < 1000000);
    pvt_work_ctx_fini(&ctx);
    return (double)(pvt_now_ns() - t0) / 1e9 / (double)n;
}

/* Jobs for one repetition: enough for --target with every worker busy. Each
 * job is costed at 100 ns at least, the order of a dispatch. */
static uint64_t auto_jobs(const struct pvt_bench_cfg *cfg, double cost, long workers)
{
    double j = (double)cfg->target_ms / 1e3 / fmax(cost, 100e-9) * (double)workers;
    double lo = 16.0 * (double)workers, hi = 10e6;

    return (uint64_t)fmin(fmax(j, lo), fmax(hi, lo));
}

static void progress(struct run *r, const char *backend, long workers, const char *wl, int rep,
                     int reps, int warm)
{
    if (!r->tty || r->cfg->quiet)
        return;
    fprintf(stderr, "\r\033[K[%d/%d] %s, %ld worker%s, %s: %s %d/%d", r->index, r->total, backend,
            workers, workers == 1 ? "" : "s", wl, warm ? "warm-up" : "repetition", rep, reps);
    fflush(stderr);
}

static void progress_clear(struct run *r)
{
    if (r->tty && !r->cfg->quiet)
        fprintf(stderr, "\r\033[K");
}

/*
 * One repetition: keep the queues full until `jobs` results are back.
 * Returns 0, -EINTR when interrupted, -EBADMSG for a wrong result, -ETIME
 * for a stall, or the pool's error.
 */
static int run_rep(struct run *r, const struct pvt_pool_ops *ops, struct pvt_pool *pool,
                   uint32_t wl, uint64_t arg, uint64_t jobs, struct rep *out)
{
    uint64_t expected = pvt_work_expected(wl, arg);
    uint64_t sent = 0, got = 0, t0, last;
    int n, k;

    memset(out, 0, sizeof(*out));
    t0 = last = pvt_now_ns();
    while (got < jobs) {
        while (sent < jobs) {
            uint64_t want = jobs - sent < BATCH ? jobs - sent : BATCH;
            for (k = 0; k < (int)want; k++) {
                r->jobs[k].id = sent + (uint64_t)k;
                r->jobs[k].workload = wl;
                r->jobs[k].arg = arg;
            }
            n = ops->submit(pool, r->jobs, (int)want);
            if (n == -EAGAIN)
                break;
            if (n < 0)
                return n;
            sent += (uint64_t)n;
        }
        n = ops->collect(pool, r->res, BATCH, 200);
        if (n < 0 && n != -ENOENT)
            return n;
        for (k = 0; k < n; k++) {
            if (r->res[k].status != PVT_JOB_OK)
                out->failed++;
            else if (r->res[k].value != expected)
                return -EBADMSG;
        }
        if (n > 0) {
            got += (uint64_t)n;
            last = pvt_now_ns();
        } else if (pvt_now_ns() - last > (uint64_t)STALL_MS * 1000000u) {
            return -ETIME;
        }
        if (pvt_bench_interrupted)
            return -EINTR;
    }
    out->seconds = (double)(pvt_now_ns() - t0) / 1e9;
    out->jobs = jobs;
    return 0;
}

static int add_row(struct run *r, const struct pvt_pool_ops *ops, long workers, const char *wl,
                   int rep, const struct rep *x, double ready_ms)
{
    char v[NCOLUMNS][64];
    const char *row[NCOLUMNS];
    int i;

    snprintf(v[0], 64, "tasks");
    snprintf(v[1], 64, "%s", ops->name);
    snprintf(v[2], 64, "%ld", workers);
    snprintf(v[3], 64, "%s", wl);
    snprintf(v[4], 64, "%d", rep);
    snprintf(v[5], 64, "%.6f", x->seconds);
    snprintf(v[6], 64, "%llu", (unsigned long long)x->jobs);
    snprintf(v[7], 64, "%.1f", (double)x->jobs / x->seconds);
    snprintf(v[8], 64, "%.4f", x->seconds * 1e6 / (double)x->jobs);
    snprintf(v[9], 64, "%llu", (unsigned long long)x->failed);
    snprintf(v[10], 64, "%s",
             ops->caps & PVT_CAP_PLACEMENT ? pvt_place_policy_name(r->cfg->pin) : "none");
    snprintf(v[11], 64, "%s", pvt_place_unit_name(r->cfg->unit));
    snprintf(v[12], 64, "%u", r->cfg->queue_depth ? r->cfg->queue_depth : PVT_RING_DEFAULT_DEPTH);
    snprintf(v[13], 64, "%.3f", ready_ms);
    for (i = 0; i < NCOLUMNS; i++)
        row[i] = v[i];
    return pvt_csv_add_row(r->csv, row);
}

static void print_header(void)
{
    printf("%-7s %7s  %-16s %10s  %-17s %9s %8s %7s\n", "backend", "workers", "workload",
           "jobs/s", "min-max", "us/job", "speed-up", "failed");
}

static void print_summary(struct run *r, const struct summary *s, uint64_t failed)
{
    char wl[64], a[32], b[32], c[32], range[64], speed[16] = "-";
    int i;

    pvt_workload_format(s->wl, s->arg, wl, sizeof(wl));
    for (i = 0; i < r->nsum; i++) {
        const struct summary *o = &r->sum[i];
        if (o->workers == 1 && o->wl == s->wl && o->arg == s->arg &&
            strcmp(o->backend, s->backend) == 0)
            snprintf(speed, sizeof(speed), "%.2fx", s->median / o->median);
    }
    snprintf(range, sizeof(range), "%s-%s", human(s->min, a, sizeof(a)), human(s->max, b, sizeof(b)));
    printf("%-7s %7ld  %-16s %10s  %-17s %9.4f %8s %7llu\n", s->backend, s->workers, wl,
           human(s->median, c, sizeof(c)), range, 1e6 / s->median, speed,
           (unsigned long long)failed);
    fflush(stdout);
}

/* One backend x workers pool of a workload's group, and its figures. */
struct cell {
    const struct pvt_pool_ops *ops;
    long workers;
    uint64_t jobs;
    struct pvt_plan *plan;
    struct pvt_pool *pool;
    double ready_ms;
    double *rates;
    uint64_t failed;
};

static int open_cell(struct run *r, struct cell *c)
{
    const struct pvt_bench_cfg *cfg = r->cfg;
    struct pvt_pool_cfg pc = {.workers = (int)c->workers, .queue_depth = cfg->queue_depth};
    uint64_t t0;
    int rc;

    c->rates = calloc((size_t)cfg->repeat, sizeof(*c->rates));
    if (!c->rates)
        return -ENOMEM;
    rc = pvt_place_plan(r->topo, cfg->pin, cfg->unit, (int)c->workers, &c->plan);
    if (rc < 0) {
        pvt_err(CMD, "cannot plan %ld workers: %s", c->workers, strerror(-rc));
        return rc;
    }
    if (c->workers > r->warned_workers) { /* once per worker count */
        pvt_cli_warn_shared_cpus(CMD, c->plan, r->topo, cfg->unit);
        r->warned_workers = c->workers;
    }
    pc.plan = c->plan;
    t0 = pvt_now_ns();
    rc = c->ops->create(&pc, &c->pool);
    c->ready_ms = (double)(pvt_now_ns() - t0) / 1e6;
    if (rc < 0) {
        c->pool = NULL;
        progress_clear(r);
        pvt_err(CMD, "%s: cannot start %ld workers: %s", c->ops->name, c->workers, strerror(-rc));
    }
    return rc;
}

static void close_cell(struct cell *c)
{
    if (c->pool)
        c->ops->destroy(c->pool);
    pvt_plan_free(c->plan);
    free(c->rates);
    memset(c, 0, sizeof(*c));
}

static void report_error(struct cell *c, const char *wl, int rc)
{
    if (rc == -EBADMSG)
        pvt_err(CMD, "%s returned a wrong value for %s: a bug, not a figure", c->ops->name, wl);
    else if (rc == -ETIME)
        pvt_err(CMD, "%s: no result for %d s with %ld workers on %s", c->ops->name,
                STALL_MS / 1000, c->workers, wl);
    else if (rc != -EINTR)
        pvt_err(CMD, "%s: %s", c->ops->name, strerror(-rc));
}

/*
 * One workload: a pool for every backend x workers, all alive at once (idle
 * workers sleep), and the repetitions taken in turns across them, so a burst
 * of noise from the rest of the machine lands on every configuration alike
 * and the ratios between them stay fair. The order within a round rotates.
 */
static int run_workload(struct run *r, uint32_t wl, uint64_t arg)
{
    const struct pvt_bench_cfg *cfg = r->cfg;
    int ncells = cfg->nworkers * cfg->nbackends, i, k, rc = 0;
    struct cell *cells = calloc((size_t)ncells, sizeof(*cells));
    double cost = job_cost(wl, arg);
    char wlname[64];
    struct rep x;

    if (!cells)
        return -ENOMEM;
    pvt_workload_format(wl, arg, wlname, sizeof(wlname));
    for (i = 0; i < ncells && rc == 0; i++) {
        struct cell *c = &cells[i];
        c->ops = cfg->backends[i % cfg->nbackends];
        c->workers = cfg->workers[i / cfg->nbackends];
        c->jobs = cfg->jobs ? cfg->jobs : auto_jobs(cfg, cost, c->workers);
        rc = open_cell(r, c);
    }
    for (k = 0; k < cfg->warmup + cfg->repeat && rc == 0; k++) {
        int warm = k < cfg->warmup, rep = warm ? k : k - cfg->warmup, j;
        /* Each round starts one configuration later. On a VM, the first run
         * after a CPU sat idle pays for waking it (measured: always running
         * the 2-worker pools right after the 1-worker ones cost whichever
         * came first 10-20%); rotating spreads that over all of them. */
        for (j = 0; j < ncells && rc == 0; j++) {
            struct cell *c = &cells[(j + k) % ncells];
            progress(r, c->ops->name, c->workers, wlname, rep + 1,
                     warm ? cfg->warmup : cfg->repeat, warm);
            /* A short unrecorded run first: on a VM, the first work after a
             * CPU sat idle pays for waking it, which is not the pool's cost. */
            rc = warm ? 0 : run_rep(r, c->ops, c->pool, wl, arg, c->jobs / 4 + 1, &x);
            if (rc == 0)
                rc = run_rep(r, c->ops, c->pool, wl, arg, c->jobs, &x);
            if (rc < 0) {
                progress_clear(r);
                report_error(c, wlname, rc);
                break;
            }
            if (warm)
                continue;
            c->rates[rep] = (double)x.jobs / x.seconds;
            c->failed += x.failed;
            rc = add_row(r, c->ops, c->workers, wlname, rep + 1, &x, c->ready_ms);
        }
        /* Rows are on disk after every round: an interrupted run keeps them. */
        if (rc == 0 && !warm)
            rc = pvt_csv_write(r->csv, r->dir, "results.csv");
    }
    progress_clear(r);
    for (i = 0; i < ncells; i++) {
        struct cell *c = &cells[i];
        if (rc == 0) {
            struct summary *s = &r->sum[r->nsum++];
            *s = (struct summary){.backend = c->ops->name, .workers = c->workers, .wl = wl,
                                  .arg = arg};
            s->median = pvt_bench_median(c->rates, cfg->repeat); /* sorts them */
            s->min = c->rates[0];
            s->max = c->rates[cfg->repeat - 1];
            print_summary(r, s, c->failed);
        }
        close_cell(c);
    }
    free(cells);
    return rc;
}

/* The ratios the table implies: scaling per backend, and each backend
 * against the reference pool where one ran. */
static void print_verdicts(struct run *r)
{
    int i, j;

    printf("\n");
    for (i = 0; i < r->nsum; i++) {
        const struct summary *s = &r->sum[i];
        char wl[64];

        pvt_workload_format(s->wl, s->arg, wl, sizeof(wl));
        for (j = 0; j < r->nsum; j++) {
            const struct summary *o = &r->sum[j];
            if (o->wl != s->wl || o->arg != s->arg || o->workers != s->workers)
                continue;
            if (pvt_backend_is_reference(o->backend) && !pvt_backend_is_reference(s->backend))
                printf("%s, %ld worker%s: %s runs %.1fx the jobs/s of GLib's GThreadPool "
                       "(median %.3g vs %.3g)\n",
                       wl, s->workers, s->workers == 1 ? "" : "s", s->backend,
                       s->median / o->median, s->median, o->median);
        }
        for (j = 0; j < r->nsum; j++) {
            const struct summary *o = &r->sum[j];
            if (o->wl == s->wl && o->arg == s->arg && o->workers == 1 && s->workers > 1 &&
                strcmp(o->backend, s->backend) == 0)
                printf("%s: %s scales %.2fx from 1 to %ld workers (ideal %ldx)\n", wl,
                       s->backend, s->median / o->median, s->workers, s->workers);
        }
    }
}

static int write_meta(struct run *r)
{
    const struct pvt_bench_cfg *cfg = r->cfg;
    json_t *o = json_object(), *p = json_object(), *a;
    char *text;
    int i, rc;

    a = json_array();
    for (i = 0; i < cfg->nbackends; i++)
        json_array_append_new(a, json_string(cfg->backends[i]->name));
    json_object_set_new(p, "backends", a);
    a = json_array();
    for (i = 0; i < cfg->nworkers; i++)
        json_array_append_new(a, json_integer(cfg->workers[i]));
    json_object_set_new(p, "workers", a);
    a = json_array();
    for (i = 0; i < cfg->nworkloads; i++) {
        char wl[64];
        pvt_workload_format(cfg->workload[i], cfg->workload_arg[i], wl, sizeof(wl));
        json_array_append_new(a, json_string(wl));
    }
    json_object_set_new(p, "workloads", a);
    json_object_set_new(p, "jobs", cfg->jobs ? json_integer((json_int_t)cfg->jobs) : json_string("auto"));
    json_object_set_new(p, "target_ms", json_integer((json_int_t)cfg->target_ms));
    json_object_set_new(p, "repeat", json_integer(cfg->repeat));
    json_object_set_new(p, "warmup", json_integer(cfg->warmup));
    json_object_set_new(p, "pin", json_string(pvt_place_policy_name(cfg->pin)));
    json_object_set_new(p, "unit", json_string(pvt_place_unit_name(cfg->unit)));
    json_object_set_new(p, "queue_depth",
                        json_integer(cfg->queue_depth ? cfg->queue_depth : PVT_RING_DEFAULT_DEPTH));
    json_object_set_new(o, "params", p);
    text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!text)
        return -ENOMEM;
    rc = pvt_meta_write(r->dir, "tasks", pvt_main_argc, pvt_main_argv, r->topo, text);
    free(text);
    return rc;
}

int pvt_bench_tasks(const struct pvt_bench_cfg *cfg, struct pvt_topo *topo, const char *dir)
{
    struct run r = {.cfg = cfg, .topo = topo, .dir = dir, .tty = pvt_cli_tty()};
    int l, rc = 0;

    r.total = cfg->nworkloads;
    r.jobs = calloc(BATCH, sizeof(*r.jobs));
    r.res = calloc(BATCH, sizeof(*r.res));
    r.sum = calloc((size_t)(cfg->nbackends * cfg->nworkers * cfg->nworkloads), sizeof(*r.sum));
    if (!r.jobs || !r.res || !r.sum || pvt_csv_new(columns, NCOLUMNS, &r.csv) < 0) {
        pvt_err(CMD, "out of memory");
        rc = -ENOMEM;
        goto out;
    }
    rc = write_meta(&r);
    if (rc == 0)
        rc = pvt_csv_write(r.csv, dir, "results.csv");
    if (rc < 0) {
        pvt_err(CMD, "cannot write to %s: %s", dir, strerror(-rc));
        goto out;
    }
    printf("pvt bench --mode tasks: results in %s\n\n", dir);
    print_header();
    for (l = 0; l < cfg->nworkloads && rc == 0; l++) {
        r.index = l + 1;
        rc = run_workload(&r, cfg->workload[l], cfg->workload_arg[l]);
    }
    if (rc == 0)
        print_verdicts(&r);
out:
    if (rc == -EINTR)
        fprintf(stderr, "pvt bench: interrupted; %d finished configurations are in %s\n",
                r.nsum, dir);
    else if (rc == 0)
        printf("\nresults: %s/results.csv, %s/meta.json\n", dir, dir);
    pvt_csv_free(r.csv);
    free(r.jobs);
    free(r.res);
    free(r.sum);
    if (rc == -EINTR)
        return 130;
    return rc < 0 ? PVT_EXIT_FAIL : PVT_EXIT_OK;
}

const struct pvt_mode pvt_mode_tasks = {
    .name = "tasks",
    .flags = PVT_MODE_WORKER_SWEEP,
    .run = pvt_bench_tasks,
    .plot = pvt__plot_tasks,
    .report = &pvt__rep_tasks,
};
