/*
 * bench_fault.c: fault mode: for each repetition x fault x backend, a fresh
 * `pvt serve` under a constant-rate `pvt load`, one fault injected into one
 * worker, or with --fault-rate a share of every request all run long
 * (bench_fault_run.c), the timeline and the figures drawn from it
 * (bench_fault_tl.c); timeline.csv and results.csv rewritten after every
 * run, a table and a verdict per fault at the end.
 *
 * Repetitions are the outer loop, so every configuration is measured once
 * before any is measured twice and noise from the machine falls on all of
 * them alike; the backends are the inner one, so proc and thread meet the
 * same fault close in time.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "bench_fault.h"
#include "bench/common/cli.h"
#include "bench/load/load.h"
#include "shared/base/parse.h"
#include "bench/results/res.h"
#include "bench/results/verdict.h"
#include "shared/work/work.h"

#define ERR(...) pvt__bench_err(__VA_ARGS__)

static const char *const columns[] = {
    "mode", "backend", "workers", "workload", "repetition", "seconds", "fault", "failed",
    "recovery_ms", "requests", "first_ok_ms", "restarts", "replace_us", "capacity_lost", "rate",
    "distribution", "concurrency", "route", "fault_kind", "fault_at_ms", "fault_worker",
    "pre_fault_ok_per_s", "min_ok_per_s", "p99_us", "max_us", "err_connect", "err_read",
    "err_write", "err_timeout", "err_status", "outer_restarts", "live_workers_end", "leaked_mb",
    "max_jobs", "timeout_ms", "server_cpus", "client_cpus", "pin", "unit", "threads",
    "fault_rate", "faults_sent"};
#define NCOLUMNS ((int)(sizeof(columns) / sizeof(columns[0])))

static const char *const tl_columns[] = {"backend", "fault",   "repetition", "t_ms",        "ok",
                                         "failed",  "p99_us", "max_us",     "live_workers"};

/* ---- one run, and its rows ------------------------------------------------------------ */

/* What the table needs of one backend x fault over its repetitions. */
enum { V_FAILED, V_RECOVERY, V_FIRST, V_RESTARTS, V_REPLACE, V_CAP, V_SENT, NV };

struct cell {
    const struct pvt_bench_fault *fault;
    const char *backend;
    unsigned caps; /* the backend's PVT_CAP_* bits */
    int done; /* repetitions recorded */
    double *v; /* NV x repeat */
};

/* A recycle fault is not run on a backend that cannot recycle (pvt serve
 * refuses --max-jobs there). */
static int skipped(const struct cell *c)
{
    return c->fault->kind == PVT_FK_RECYCLE && !(c->caps & PVT_CAP_RECYCLE);
}

struct sweep {
    const struct pvt_bench_cfg *cfg;
    struct pvt_topo *topo;
    const char *dir;
    struct pvt_csv *csv, *tl;
    char server_cpus[256], client_cpus[256], route[128], wl[64];
    int threads, tty, index, total;
    struct cell *cells; /* fault-major, backends inside */
    double *v;
};

/* "%.Nf" of v, or "" for NAN or infinity (an empty CSV field). */
static const char *num(char *buf, double v, int digits)
{
    if (!isfinite(v))
        buf[0] = '\0';
    else
        snprintf(buf, 64, "%.*f", digits, v);
    return buf;
}

static int add_row(struct sweep *w, const struct pvt_frun *fr, const struct pvt_ffig *g,
                   double restarts, double replace, double cap)
{
    char v[NCOLUMNS][64];
    const char *row[NCOLUMNS];
    uint64_t failed = 0;
    int i;

    for (i = 0; i < NCOLUMNS; i++)
        row[i] = v[i];
    for (i = 0; i < PVT_FERR_N; i++)
        failed += fr->err[i];
    snprintf(v[0], 64, "fault");
    row[1] = fr->backend;
    snprintf(v[2], 64, "%ld", w->cfg->workers[0]);
    row[3] = w->wl;
    snprintf(v[4], 64, "%d", fr->rep);
    snprintf(v[5], 64, "%.6f", fr->seconds);
    row[6] = fr->fault->label;
    snprintf(v[7], 64, "%llu", (unsigned long long)failed);
    num(v[8], g->recovery_ms, 1);
    snprintf(v[9], 64, "%llu", (unsigned long long)fr->requests);
    num(v[10], g->first_ok_ms, 1);
    num(v[11], restarts, 0);
    num(v[12], replace, 0);
    num(v[13], cap, 3);
    snprintf(v[14], 64, "%.1f", w->cfg->rate);
    row[15] = w->cfg->dists[0];
    snprintf(v[16], 64, "%ld", w->cfg->concurrency[0]);
    row[17] = w->route;
    row[18] = pvt_bench_fault_names[fr->fault->kind];
    num(v[19], g->fault_ms, 1);
    v[20][0] = '\0';
    if (fr->fault_worker >= 0)
        snprintf(v[20], 64, "%d", fr->fault_worker);
    num(v[21], g->pre_ok_per_s, 0);
    num(v[22], g->min_ok_per_s, 0);
    snprintf(v[23], 64, "%llu", (unsigned long long)fr->p99_us);
    snprintf(v[24], 64, "%llu", (unsigned long long)fr->max_us);
    for (i = 0; i < PVT_FERR_N; i++)
        snprintf(v[25 + i], 64, "%llu", (unsigned long long)fr->err[i]);
    snprintf(v[30], 64, "%u", fr->outer_restarts > fr->pid_changes ? fr->outer_restarts
                                                                     : fr->pid_changes);
    num(v[31], fr->live_end >= 0 ? fr->live_end : NAN, 0);
    snprintf(v[32], 64, "%llu", (unsigned long long)fr->leaked_mb);
    snprintf(v[33], 64, "%llu", (unsigned long long)fr->max_jobs);
    snprintf(v[34], 64, "%llu", (unsigned long long)w->cfg->timeout_ms);
    row[35] = w->server_cpus;
    row[36] = w->client_cpus;
    row[37] = pvt_place_policy_name(w->cfg->pin);
    row[38] = pvt_place_unit_name(w->cfg->unit);
    snprintf(v[39], 64, "%d", fr->threads);
    v[40][0] = v[41][0] = '\0';
    if (w->cfg->fault_rate > 0) {
        snprintf(v[40], 64, "%.17g", w->cfg->fault_rate);
        snprintf(v[41], 64, "%llu", (unsigned long long)fr->faults_sent);
    }
    return pvt_csv_add_row(w->csv, row);
}

/* The run's figures into its row, its bins into timeline.csv, both written. */
static int record(struct sweep *w, struct cell *c, const struct pvt_frun *fr)
{
    const struct pvt_bench_cfg *cfg = w->cfg;
    double fault_ms = (double)fr->at_ms, restarts, replace, cap = NAN;
    unsigned outer = fr->outer_restarts > fr->pid_changes ? fr->outer_restarts : fr->pid_changes;
    struct pvt_ffig g;
    int n = cfg->repeat, rc;

    if (fr->fault_ns && fr->fault_ns > fr->start_ns)
        fault_ms = (double)(fr->fault_ns - fr->start_ns) / 1e6;
    if (cfg->fault_rate > 0)
        fault_ms = 0; /* from the start, all run long */
    pvt__fault_figures(fr->bins, fr->nbins, fault_ms, cfg->duration_ms, &g);
    if (cfg->fault_rate > 0) {
        /* No moment of the fault to recover from: the figures are the
         * failures, restarts and capacity under a steady rate of faults. */
        g.recovery_ms = g.first_ok_ms = g.pre_ok_per_s = NAN;
    }
    /* The last /stats: after the load, or the last one that answered during
     * it (a server whose every worker is gone cannot answer). */
    restarts = fr->have_final            ? (double)(fr->restarts_final + outer)
               : fr->restarts_last >= 0 ? (double)fr->restarts_last + outer
                                         : (double)outer;
    /* A pool of processes replaces the worker itself; otherwise the outer
     * supervisor restarts the whole server. */
    replace = fr->caps & PVT_CAP_PROCESSES ? fr->replace_us : fr->outer_down_ms * 1000;
    if (fr->live_end >= 0)
        cap = (double)(cfg->workers[0] - fr->live_end) / (double)cfg->workers[0];
    c->v[V_FAILED * n + c->done] = (double)g.failed;
    c->v[V_RECOVERY * n + c->done] =
        cfg->fault_rate > 0 ? NAN : isnan(g.recovery_ms) ? INFINITY : g.recovery_ms;
    c->v[V_FIRST * n + c->done] =
        cfg->fault_rate > 0 ? NAN : isnan(g.first_ok_ms) ? INFINITY : g.first_ok_ms;
    c->v[V_SENT * n + c->done] = (double)fr->faults_sent;
    c->v[V_RESTARTS * n + c->done] = restarts;
    c->v[V_REPLACE * n + c->done] = replace;
    c->v[V_CAP * n + c->done] = cap;
    c->done++;
    if ((rc = add_row(w, fr, &g, restarts, replace, cap)) < 0 ||
        (rc = pvt__fault_timeline_rows(w->tl, fr)) < 0)
        return rc;
    if ((rc = pvt_csv_write(w->tl, w->dir, "timeline.csv")) < 0 ||
        (rc = pvt_csv_write(w->csv, w->dir, "results.csv")) < 0)
        ERR("cannot write to %s: %s", w->dir, strerror(-rc));
    return rc;
}

static int run_one(struct sweep *w, struct cell *c, int rep)
{
    const struct pvt_bench_cfg *cfg = w->cfg;
    const struct pvt_bench_fault *f = c->fault;
    struct pvt_frun fr = {.cfg = cfg, .backend = c->backend, .caps = c->caps, .fault = f,
                          .rep = rep, .dir = w->dir, .route = w->route, .threads = w->threads};
    char log[160];
    size_t i;
    int rc;

    fr.at_ms = f->at_ms ? f->at_ms : cfg->duration_ms / 3;
    fr.worker = PVT_BENCH_FAULT_ALL(f->kind) ? -1 : f->worker >= 0 ? f->worker : 0;
    if (cfg->fault_rate > 0) {
        fr.at_ms = 0;
        fr.worker = -1; /* the load sends it to whichever worker serves the request */
    }
    if (f->kind == PVT_FK_RECYCLE) {
        /* Each worker's share of the rate reaches the limit about at_ms in. */
        fr.max_jobs = (uint64_t)(cfg->rate * (double)fr.at_ms / 1000 / (double)cfg->workers[0]);
        if (fr.max_jobs < 50)
            fr.max_jobs = 50;
        fr.max_jobs_jitter = fr.max_jobs / 10;
    }
    snprintf(log, sizeof(log), "%s-%s-r%d.log", c->backend, f->label, rep);
    for (i = 0; log[i]; i++)
        if (log[i] == '@' || log[i] == ':' || log[i] == '=' || log[i] == '/')
            log[i] = '-';
    fr.log = log;
    if (w->tty && !cfg->quiet)
        pvt__bench_progress("[%d/%d] %s, %s: repetition %d/%d", ++w->index, w->total, c->backend,
                            f->label, rep, cfg->repeat);
    rc = pvt__fault_run(&fr);
    if (rc == 0)
        rc = record(w, c, &fr);
    pvt__fault_run_free(&fr);
    return rc;
}

/* ---- table and verdicts ------------------------------------------------------------- */

/* Median, min and max of the values of v that are not NAN (infinity, "never",
 * sorts last). All NAN if none. */
static double spread(const double *v, int n, double *lo, double *hi)
{
    struct pvt_stat s;

    pvt_stat_of(v, n, &s);
    *lo = s.lo;
    *hi = s.hi;
    return s.med;
}

/* "12.5", "never" (infinity) or "-" (not measured). */
static const char *fmt(char *buf, size_t len, double v, int digits)
{
    if (isnan(v))
        snprintf(buf, len, "-");
    else if (isinf(v))
        snprintf(buf, len, "never");
    else
        snprintf(buf, len, "%.*f", digits, v);
    return buf;
}

static const char *range(char *buf, size_t len, const double *v, int n, int digits, double *med)
{
    char a[32], b[32];
    double lo, hi;

    *med = spread(v, n, &lo, &hi);
    if (isnan(lo) && isnan(hi))
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%s-%s", fmt(a, sizeof(a), lo, digits), fmt(b, sizeof(b), hi, digits));
    return buf;
}

static void print_header(void)
{
    printf("%-22s %-7s %7s %-13s %11s %-15s %11s %8s %10s %8s\n", "fault", "backend", "failed",
           "min-max", "recovery_ms", "min-max", "first_ok_ms", "restarts", "replace_us",
           "cap_lost");
}

static void print_cell(const struct pvt_bench_cfg *cfg, const struct cell *c)
{
    char r1[64], r2[64], a[5][32];
    double failed, rec, first, restarts, replace, cap, lo, hi;
    int n = c->done;

    range(r1, sizeof(r1), c->v + V_FAILED * cfg->repeat, n, 0, &failed);
    range(r2, sizeof(r2), c->v + V_RECOVERY * cfg->repeat, n, 1, &rec);
    first = spread(c->v + V_FIRST * cfg->repeat, n, &lo, &hi);
    restarts = spread(c->v + V_RESTARTS * cfg->repeat, n, &lo, &hi);
    replace = spread(c->v + V_REPLACE * cfg->repeat, n, &lo, &hi);
    cap = spread(c->v + V_CAP * cfg->repeat, n, &lo, &hi);
    printf("%-22s %-7s %7.0f %-13s %11s %-15s %11s %8s %10s %8s\n", c->fault->label, c->backend,
           failed, r1, fmt(a[0], 32, rec, 1), r2, fmt(a[1], 32, first, 1),
           fmt(a[2], 32, restarts, 0), fmt(a[3], 32, replace, 0), fmt(a[4], 32, cap, 2));
}

/* a against b on one figure: which is lower, or why that cannot be said. */
static void compare(const struct pvt_bench_cfg *cfg, const struct cell *p, const struct cell *t,
                    int what, const char *unit, const char *better)
{
    int d = what != V_FAILED;
    double mp, mt, lp, hp, lt, ht;
    char a[6][32];

    mp = spread(p->v + what * cfg->repeat, p->done, &lp, &hp);
    mt = spread(t->v + what * cfg->repeat, t->done, &lt, &ht);
    printf("proc %s%s [%s-%s] vs thread %s%s [%s-%s]", fmt(a[0], 32, mp, d),
           isinf(mp) ? "" : unit, fmt(a[1], 32, lp, d), fmt(a[2], 32, hp, d),
           fmt(a[3], 32, mt, d), isinf(mt) ? "" : unit, fmt(a[4], 32, lt, d),
           fmt(a[5], 32, ht, d));
    if (cfg->repeat < 2)
        printf(" (one repetition: noise not measured)");
    else if (lp <= ht && lt <= hp)
        printf(" (within noise)");
    else
        printf(": %s %s", mp < mt ? "proc" : "thread", better);
}

/* --fault-rate: the failures each backend had under the same steady fault
 * rate, and what it cost it. */
static void rate_verdict(const struct pvt_bench_cfg *cfg, const struct cell *p,
                         const struct cell *t)
{
    const struct cell *both[] = {p, t};
    double lo, hi, cap;
    char a[32], b[48];
    int i;

    if (p && t) {
        printf("failed requests, ");
        compare(cfg, p, t, V_FAILED, "", "fails fewer");
    }
    for (i = 0; i < 2; i++) {
        const struct cell *c = both[i];
        if (!c)
            continue;
        cap = spread(c->v + V_CAP * cfg->repeat, c->done, &lo, &hi);
        if (isnan(cap))
            snprintf(b, sizeof(b), "capacity at the end unknown (no /stats)");
        else
            snprintf(b, sizeof(b), "%.2f of the capacity lost at the end", cap);
        printf("%s%s: %.0f faults sent, %s restarts, %s", p && t ? "; " : i && p ? "; " : "",
               c->backend, spread(c->v + V_SENT * cfg->repeat, c->done, &lo, &hi),
               fmt(a, sizeof(a), spread(c->v + V_RESTARTS * cfg->repeat, c->done, &lo, &hi), 0),
               b);
        if (!(p && t)) {
            double failed = spread(c->v + V_FAILED * cfg->repeat, c->done, &lo, &hi);
            printf(", %.0f [%.0f-%.0f] requests failed", failed, lo, hi);
        }
    }
}

static void print_verdicts(const struct sweep *w)
{
    const struct pvt_bench_cfg *cfg = w->cfg;
    int f, b;

    printf("\n");
    for (f = 0; f < cfg->nfaults; f++) {
        const struct cell *p = NULL, *t = NULL;
        for (b = 0; b < cfg->nbackends; b++) {
            const struct cell *c = &w->cells[f * cfg->nbackends + b];
            if (c->done && c->caps & PVT_CAP_PROCESSES)
                p = c;
            else if (c->done && c->caps & PVT_CAP_SERVE)
                t = c;
        }
        printf("%s: ", cfg->faults[f].label);
        if (cfg->fault_rate > 0 && (p || t)) {
            rate_verdict(cfg, p, t);
        } else if (p && t) {
            printf("failed requests, ");
            compare(cfg, p, t, V_FAILED, "", "fails fewer");
            printf("; back to 95 %% of the rate, ");
            compare(cfg, p, t, V_RECOVERY, " ms", "recovers sooner");
        } else if (p || t) {
            double failed, rec, lo, hi;
            char a[32], r[64];
            const struct cell *c = p ? p : t;
            range(r, sizeof(r), c->v + V_FAILED * cfg->repeat, c->done, 0, &failed);
            rec = spread(c->v + V_RECOVERY * cfg->repeat, c->done, &lo, &hi);
            printf("%s failed %.0f [%s] requests, back to 95 %% of the rate %s%s%s", c->backend,
                   failed, r, isinf(rec) ? "" : "after ", fmt(a, sizeof(a), rec, 1),
                   isinf(rec) ? "" : " ms");
        } else {
            printf("no run finished");
        }
        if (cfg->faults[f].kind == PVT_FK_RECYCLE && !t)
            printf("; thread not run (pvt serve --max-jobs is proc only: a thread cannot be "
                   "recycled, only its whole process restarted)");
        printf("\n");
    }
}

/* ---- the sweep ------------------------------------------------------------------------ */

static int write_meta(struct sweep *w)
{
    const struct pvt_bench_cfg *cfg = w->cfg;
    json_t *o = json_object(), *p = json_object(), *a = json_array(), *fl = json_array();
    char *text;
    int i, rc;

    for (i = 0; i < cfg->nbackends; i++)
        json_array_append_new(a, json_string(cfg->backends[i]->name));
    for (i = 0; i < cfg->nfaults; i++) {
        const struct pvt_bench_fault *f = &cfg->faults[i];
        int k = PVT_BENCH_FAULT_ALL(f->kind) ? -1 : f->worker >= 0 ? f->worker : 0;
        json_int_t at = (json_int_t)(f->at_ms ? f->at_ms : cfg->duration_ms / 3);
        if (cfg->fault_rate > 0)
            at = 0, k = -1;
        json_array_append_new(fl, json_pack("{sssssIsi}", "fault", f->label, "kind",
                                            pvt_bench_fault_names[f->kind], "at_ms", at,
                                            "worker", k));
    }
    json_object_set_new(p, "backends", a);
    json_object_set_new(p, "faults", fl);
    json_object_set_new(p, "workers", json_integer(cfg->workers[0]));
    json_object_set_new(p, "workload", json_string(w->wl));
    json_object_set_new(p, "route", json_string(w->route));
    json_object_set_new(p, "distribution", json_string(cfg->dists[0]));
    json_object_set_new(p, "concurrency", json_integer(cfg->concurrency[0]));
    json_object_set_new(p, "rate", json_real(cfg->rate));
    json_object_set_new(p, "fault_rate", json_real(cfg->fault_rate));
    json_object_set_new(p, "duration_ms", json_integer((json_int_t)cfg->duration_ms));
    json_object_set_new(p, "timeout_ms", json_integer((json_int_t)cfg->timeout_ms));
    json_object_set_new(p, "threads", json_integer(w->threads));
    json_object_set_new(p, "repeat", json_integer(cfg->repeat));
    json_object_set_new(p, "bin_ms", json_integer(PVT_LOAD_BIN_MS));
    json_object_set_new(p, "worker_timeout_ms", json_integer(cfg->worker_timeout_ms));
    json_object_set_new(p, "max_rss_mb", json_integer(cfg->max_rss_mb));
    json_object_set_new(p, "leak_mb", json_integer(PVT_BENCH_LEAK_MB));
    json_object_set_new(p, "slow_ms", json_integer(PVT_BENCH_SLOW_MS));
    json_object_set_new(p, "exit_code", json_integer(PVT_BENCH_EXIT_CODE));
    json_object_set_new(p, "pin", json_string(pvt_place_policy_name(cfg->pin)));
    json_object_set_new(p, "unit", json_string(pvt_place_unit_name(cfg->unit)));
    json_object_set_new(p, "server_cpus", json_string(w->server_cpus));
    json_object_set_new(p, "client_cpus", json_string(w->client_cpus));
    json_object_set_new(p, "cpus_shared", json_boolean(cfg->cpus_shared));
    json_object_set_new(o, "params", p);
    text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!text)
        return -ENOMEM;
    rc = pvt_meta_write(w->dir, "fault", pvt_main_argc, pvt_main_argv, w->topo, text);
    free(text);
    return rc;
}

static int prepare(struct sweep *w)
{
    const struct pvt_bench_cfg *cfg = w->cfg;
    char path[4200];
    int i, rc;

    pvt_workload_format(cfg->workload[0], cfg->workload_arg[0], w->wl, sizeof(w->wl));
    pvt_bench_route(cfg->workload[0], cfg->workload_arg[0], w->route, sizeof(w->route));
    pvt_cpuset_format(&cfg->server_cpus, w->server_cpus, sizeof(w->server_cpus));
    pvt_cpuset_format(&cfg->client_cpus, w->client_cpus, sizeof(w->client_cpus));
    w->threads = cfg->threads ? cfg->threads : CPU_COUNT(&cfg->client_cpus);
    if (w->threads > cfg->concurrency[0])
        w->threads = (int)cfg->concurrency[0];
    w->cells = calloc((size_t)(cfg->nfaults * cfg->nbackends), sizeof(*w->cells));
    w->v = calloc((size_t)(cfg->nfaults * cfg->nbackends * NV * cfg->repeat), sizeof(*w->v));
    if (!w->cells || !w->v || pvt_csv_new(columns, NCOLUMNS, &w->csv) < 0 ||
        pvt_csv_new(tl_columns, 9, &w->tl) < 0)
        return -ENOMEM;
    for (i = 0; i < cfg->nfaults * cfg->nbackends; i++) {
        struct cell *c = &w->cells[i];
        c->fault = &cfg->faults[i / cfg->nbackends];
        c->backend = cfg->backends[i % cfg->nbackends]->name;
        c->caps = cfg->backends[i % cfg->nbackends]->caps;
        c->v = w->v + (size_t)i * NV * cfg->repeat;
        if (!skipped(c))
            w->total += cfg->repeat;
    }
    snprintf(path, sizeof(path), "%s/logs", w->dir);
    if (mkdir(path, 0777) < 0 && errno != EEXIST)
        return -errno;
    if ((rc = write_meta(w)) < 0 || (rc = pvt_csv_write(w->csv, w->dir, "results.csv")) < 0)
        return rc;
    return pvt_csv_write(w->tl, w->dir, "timeline.csv");
}

int pvt_bench_fault(const struct pvt_bench_cfg *cfg, struct pvt_topo *topo, const char *dir)
{
    struct sweep w = {.cfg = cfg, .topo = topo, .dir = dir, .tty = pvt_cli_tty()};
    int rep, i, rc;

    /* A server process orphaned by a killed outer supervisor comes back to
     * us, to be reaped (bench_fault_run.c). */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    rc = prepare(&w);
    if (rc < 0) {
        ERR("cannot write to %s: %s", dir, strerror(-rc));
        goto out;
    }
    printf("pvt bench --mode fault: %s at %.0f requests/s on %ld connections, %ld workers, %s; "
           "server on CPUs %s, client on CPUs %s%s; results in %s\n",
           w.route, cfg->rate, cfg->concurrency[0], cfg->workers[0], cfg->dists[0],
           w.server_cpus, w.client_cpus, cfg->cpus_shared ? " (shared)" : "", dir);
    if (cfg->fault_rate > 0)
        printf("each request is the fault with probability %g, from start to end (no recovery "
               "time: the faults never stop)\n",
               cfg->fault_rate);
    printf("\n");
    fflush(stdout);
    for (rep = 1; rep <= cfg->repeat && rc == 0; rep++)
        for (i = 0; i < cfg->nfaults * cfg->nbackends && rc == 0; i++) {
            struct cell *c = &w.cells[i];
            if (skipped(c))
                continue;
            rc = run_one(&w, c, rep);
        }
    pvt__bench_progress_clear();
    if (rc == 0) {
        print_header();
        for (i = 0; i < cfg->nfaults * cfg->nbackends; i++)
            if (w.cells[i].done)
                print_cell(cfg, &w.cells[i]);
        print_verdicts(&w);
        printf("\nresults: %s/results.csv, %s/timeline.csv, %s/meta.json, %s/logs/\n", dir, dir,
               dir, dir);
    } else if (rc == -EINTR) {
        fprintf(stderr, "pvt bench: interrupted; %d finished runs are in %s\n",
                pvt_csv_rows(w.csv), dir);
    }
out:
    pvt_csv_free(w.csv);
    pvt_csv_free(w.tl);
    free(w.cells);
    free(w.v);
    if (rc == -EINTR)
        return 130;
    return rc < 0 ? PVT_EXIT_FAIL : PVT_EXIT_OK;
}

const struct pvt_mode pvt_mode_fault = {
    .name = "fault",
    .run = pvt_bench_fault,
    .plot = pvt__plot_fault,
    .report = &pvt__rep_fault,
};
