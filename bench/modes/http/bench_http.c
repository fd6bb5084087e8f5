/*
 * bench_http.c: http mode: `pvt serve` driven by `pvt load`, each a child.
 *
 * DESIGN. The driver is one thread that starts two kinds of child, both by
 * fork and exec of /proc/self/exe, each bound to its CPU set before exec and
 * made to die with the driver (PR_SET_PDEATHSIG): one server per backend x
 * distribution x workers, kept for all its concurrency x route x repetition
 * runs, and one `pvt load` per run. A child's stdout is a pipe the driver
 * reads (the server's ready line, the load's JSON); its stderr is the
 * driver's. Every wait is bounded: the ready line (10 s), the load (its
 * duration plus its timeout plus a margin), a stop (SIGTERM, then SIGKILL).
 * Every child is reaped on every path, Ctrl-C included: the signal handler
 * only sets pvt_bench_interrupted, poll() returns EINTR, and the code that
 * started a child stops it. A server is stopped by its pid, never by name.
 *
 * Per-worker shares come from GET /stats before and after each run, over one
 * keep-alive connection per server, which one worker serves for its whole
 * life; GET / on it first names that worker. A worker's counter moves once
 * per response, after the response is made, so snapshot S counts every
 * request of ours answered before S itself; the driver counts its own
 * requests per worker the same way and subtracts them.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/common/bench.h"
#include "bench/common/run.h"
#include "bench/common/cli.h"
#include "bench/results/res.h"
#include "shared/core/ring.h" /* pvt_now_ns */
#include "bench/results/rundir.h"
#include "bench/results/verdict.h"
#include "shared/work/work.h"
#include "bench_http.h"

#define CMD           "bench"
#define ERR(...)      pvt__bench_err(__VA_ARGS__)
#define STOP_MS       10000 /* pvt serve must exit this long after SIGTERM */
#define LOAD_SLACK_MS 15000
#define WARM_MS       1000 /* a warm-up run lasts this, or --duration if shorter */

const char *const pvt_bench_dists[PVT_BENCH_NDIST] = {"shared", "reuseport", "rr"};

static const char *const columns[] = {
    "mode", "backend", "workers", "workload", "repetition", "seconds", "distribution",
    "concurrency", "route", "requests", "errors", "requests_per_s", "p50_us", "p90_us", "p99_us",
    "p999_us", "max_us", "mean_us", "jain", "shares", "server_cpu_us_per_req",
    "client_cpu_us_per_req", "server_cpus", "client_cpus", "pin", "unit", "threads",
    "err_connect", "err_read", "err_write", "err_timeout", "err_status"};
#define NCOLUMNS ((int)(sizeof(columns) / sizeof(columns[0])))

/* ---- one run ------------------------------------------------------------------------------- */

struct result {
    uint64_t requests, errors;
    uint64_t err[5]; /* by kind: connect, read, write, timeout, status */
    double seconds, rps;
    uint64_t p50, p90, p99, p999, max;
    double mean_us; /* NAN: pvt load gave none */
    double jain;    /* NAN: no /stats */
    char shares[4096];
    double server_us; /* per request; NAN: unknown */
    double client_us; /* per request */
    int threads;
};

/* Jain's index over the live workers (and any that served), the shares into x. */
static double shares(const struct pvt_snap *a, const struct pvt_snap *b, struct result *x)
{
    double sum = 0, sq = 0;
    size_t off = 0;
    int i, j, n = 0;

    x->shares[0] = '\0';
    for (j = 0; j < b->n; j++) {
        const struct pvt_wstat *w = &b->w[j];
        uint64_t d = w->requests, own = b->own[w->slot];

        for (i = 0; i < a->n; i++)
            if (a->w[i].slot == w->slot && a->w[i].pid == w->pid && a->w[i].requests <= d) {
                d -= a->w[i].requests;
                own -= a->own[w->slot];
            }
        d = d >= own ? d - own : 0;
        if (off < sizeof(x->shares))
            off += (size_t)snprintf(x->shares + off, sizeof(x->shares) - off, "%s%llu",
                                    j ? ";" : "", (unsigned long long)d);
        if (w->live || d > 0) {
            sum += (double)d;
            sq += (double)d * (double)d;
            n++;
        }
    }
    return n && sq > 0 ? sum * sum / ((double)n * sq) : NAN;
}

/* pvt load's JSON (DESIGN.md's object) into x. */
static int parse_load(const char *text, struct result *x)
{
    json_t *root = json_loads(text, 0, NULL), *mean;
    json_int_t req, e[5], l[5];
    int rc = -EPROTO;

    if (root && json_unpack(root,
                            "{s:I, s:{s:I, s:I, s:I, s:I, s:I}, s:F, s:F, "
                            "s:{s:I, s:I, s:I, s:I, s:I}}",
                            "requests", &req, "errors", "connect", &e[0], "read", &e[1], "write",
                            &e[2], "timeout", &e[3], "status", &e[4], "seconds", &x->seconds,
                            "requests_per_s", &x->rps, "latency_us", "p50", &l[0], "p90", &l[1],
                            "p99", &l[2], "p999", &l[3], "max", &l[4]) == 0) {
        x->requests = (uint64_t)req;
        x->errors = (uint64_t)(e[0] + e[1] + e[2] + e[3] + e[4]);
        for (int k = 0; k < 5; k++)
            x->err[k] = (uint64_t)e[k];
        x->p50 = (uint64_t)l[0];
        x->p90 = (uint64_t)l[1];
        x->p99 = (uint64_t)l[2];
        x->p999 = (uint64_t)l[3];
        x->max = (uint64_t)l[4];
        /* Not in pvt load's JSON as of this writing: taken when it appears. */
        mean = json_object_get(json_object_get(root, "latency_us"), "mean");
        x->mean_us = json_is_number(mean) ? json_number_value(mean) : NAN;
        rc = 0;
    }
    json_decref(root);
    return rc;
}


struct run {
    const struct pvt_bench_cfg *cfg;
    struct pvt_topo *topo;
    const char *dir;
    struct pvt_csv *csv;
    char server_cpus[256], client_cpus[256];
    char routes[PVT_BENCH_MAX_LIST][128]; /* of cfg->workload[] */
    int nclient;                          /* client CPUs */
    struct pvt_snap *before, *after;          /* large: on the heap */
    struct summary *sum;
    int nsum;
    int total, index; /* servers, for the progress line */
    int tty;
};

/* Start `pvt load` for one run on the client CPUs and read its JSON. */
static int load(struct run *r, struct pvt_server *s, long conc, const char *route, int rep, int warm,
                struct result *x, char *out, size_t outlen)
{
    const struct pvt_bench_cfg *cfg = r->cfg;
    char url[256], c[16], t[16], amount[32], timeout[32], hgrm[4400], rf[128];
    char *argv[16] = {"pvt", "load", url, "-c", c, "-t", t};
    uint64_t ms = warm ? (cfg->duration_ms < WARM_MS ? cfg->duration_ms : WARM_MS) : 0, limit;
    struct pvt_child lc;
    int n = 7, rc;

    x->threads = cfg->threads ? cfg->threads : r->nclient;
    if (x->threads > conc)
        x->threads = (int)conc;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", s->port, route);
    snprintf(c, sizeof(c), "%ld", conc);
    snprintf(t, sizeof(t), "%d", x->threads);
    if (!warm && cfg->requests) {
        snprintf(amount, sizeof(amount), "%llu", (unsigned long long)cfg->requests);
        argv[n++] = "-n";
        limit = (cfg->requests / (uint64_t)conc + 1) * cfg->timeout_ms;
    } else {
        snprintf(amount, sizeof(amount), "%llums",
                 (unsigned long long)(ms ? ms : cfg->duration_ms));
        argv[n++] = "-d";
        limit = (ms ? ms : cfg->duration_ms) + cfg->timeout_ms;
    }
    argv[n++] = amount;
    snprintf(timeout, sizeof(timeout), "%llu", (unsigned long long)cfg->timeout_ms);
    argv[n++] = "--timeout";
    argv[n++] = timeout;
    argv[n++] = "--json";
    if (!warm) {
        pvt_route_slug(route, rf, sizeof(rf));
        snprintf(hgrm, sizeof(hgrm), "%s/latency/%s-%s-w%ld-c%ld-%s-r%d.hgrm", r->dir, s->backend,
                 s->dist, s->workers, conc, rf, rep);
        argv[n++] = "--hgrm";
        argv[n++] = hgrm;
    }
    argv[n] = NULL;

    rc = pvt_child_start(argv, &cfg->client_cpus, &lc);
    if (rc < 0) {
        ERR("cannot start pvt load: %s", strerror(-rc));
        return rc;
    }
    rc = pvt_child_read(&lc, out, outlen, 0, pvt_bench_deadline(limit + LOAD_SLACK_MS));
    pvt_child_stop(&lc, rc < 0 ? SIGTERM : 0, rc < 0 ? 2000 : LOAD_SLACK_MS);
    if (rc >= 0 && pvt_bench_interrupted)
        rc = -EINTR;
    if (rc >= 0 && (!WIFEXITED(lc.status) || WEXITSTATUS(lc.status) != 0)) {
        char why[64];
        pvt_child_describe_exit(lc.status, why, sizeof(why));
        ERR("pvt load against %s, %s: %s", s->name, url, why);
        return -ECHILD;
    }
    if (rc == -ETIMEDOUT)
        ERR("pvt load against %s did not finish in time", url);
    else if (rc < 0 && rc != -EINTR)
        ERR("pvt load against %s: its output: %s", url, strerror(-rc));
    if (rc < 0)
        return rc;
    if (parse_load(out, x) < 0) {
        ERR("pvt load gave no JSON object of the expected shape: %.200s", out);
        return -EPROTO;
    }
    x->client_us = ((double)lc.ru.ru_utime.tv_sec + (double)lc.ru.ru_stime.tv_sec) * 1e6 +
                   (double)lc.ru.ru_utime.tv_usec + (double)lc.ru.ru_stime.tv_usec;
    x->client_us = x->requests ? x->client_us / (double)x->requests : NAN;
    return 0;
}

/* One run: /stats and CPU time around a load. 0, -EINTR, or an error. */
static int run_once(struct run *r, struct pvt_server *s, long conc, const char *route, int rep,
                    int warm, struct result *x)
{
    long pids[PVT_MAX_WORKERS + 1];
    double cpu0[PVT_MAX_WORKERS + 1], cpu1, spent = 0;
    char out[16384];
    int have = 0, np = 0, i, rc;

    memset(x, 0, sizeof(*x));
    x->jain = x->server_us = NAN;
    if (pvt_child_reap(&s->child, 0) == 0) {
        char why[64];
        pvt_child_describe_exit(s->child.status, why, sizeof(why));
        ERR("pvt serve (%s) is gone: %s", s->name, why);
        return -ECHILD;
    }
    if (!warm && pvt_probe_snapshot(s, r->before) == 0) {
        have = 1;
        np = pvt_probe_server_pids(s, r->before, pids);
        for (i = 0; i < np; i++)
            cpu0[i] = pvt_probe_cpu_us(pids[i]);
    }
    rc = load(r, s, conc, route, rep, warm, x, out, sizeof(out));
    if (rc < 0 || warm)
        return rc;
    for (i = 0; have && i < np; i++)
        if (cpu0[i] >= 0 && (cpu1 = pvt_probe_cpu_us(pids[i])) >= cpu0[i])
            spent += cpu1 - cpu0[i];
    if (have && pvt_probe_snapshot(s, r->after) == 0) {
        x->jain = shares(r->before, r->after, x);
        x->server_us = x->requests ? spent / (double)x->requests : NAN;
    }
    return 0;
}

/* ---- servers -------------------------------------------------------------------------------- */

static int server_start(struct run *r, struct pvt_server *s)
{
    const struct pvt_bench_cfg *cfg = r->cfg;
    struct pvt_serve_ready ready;
    char w[16], why[160];
    char *argv[] = {"pvt",
                    "serve",
                    "--backend",
                    (char *)s->backend,
                    "--workers",
                    w,
                    "--distribution",
                    (char *)s->dist,
                    "--port",
                    "0",
                    "--host",
                    "127.0.0.1",
                    "--pin",
                    (char *)pvt_place_policy_name(cfg->pin),
                    "--unit",
                    (char *)pvt_place_unit_name(cfg->unit),
                    "--quiet",
                    "--unbounded-routes", /* the sweep's workloads, as asked */
                    NULL};
    int rc;

    snprintf(w, sizeof(w), "%ld", s->workers);
    s->fd = -1;
    rc = pvt_server_start(argv, &cfg->server_cpus, -1, STOP_MS, &s->child, &ready, why,
                          sizeof(why));
    if (rc == 0) {
        s->port = ready.port;
        s->pid = ready.pid;
    } else if (rc != -EINTR) {
        ERR("pvt serve (%s): %s", s->name, why);
    }
    return rc;
}

/* SIGTERM and a bounded wait, then SIGKILL; says so unless it went cleanly. */
static void server_stop(struct pvt_server *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    if (!s->child.pid)
        return;
    pvt_child_stop(&s->child, SIGTERM, STOP_MS);
    if (!WIFEXITED(s->child.status) || WEXITSTATUS(s->child.status) != 0) {
        char why[64];
        pvt_child_describe_exit(s->child.status, why, sizeof(why));
        ERR("pvt serve (%s) did not stop cleanly: %s", s->name, why);
    }
}

/* ---- rows, table, verdicts -------------------------------------------------------------- */

/* A configuration on a server: a concurrency and a route, its repetitions. */
struct cell {
    long conc;
    const char *route;
    char wl[64];
    double *v; /* 6 x repeat: rps, seconds, p99, mean, jain, server µs */
    uint64_t errors;
};

enum { V_RPS, V_SECS, V_P99, V_MEAN, V_JAIN, V_SRV, NV };

static void progress(struct run *r, const struct pvt_server *s, const struct cell *c, int rep, int reps,
                     int warm)
{
    if (!r->tty || r->cfg->quiet)
        return;
    pvt__bench_progress("[%d/%d] %s, c%ld %s: %s %d/%d", r->index, r->total, s->name, c->conc,
                        c->route, warm ? "warm-up" : "repetition", rep, reps);
}

static int add_row(struct run *r, const struct pvt_server *s, const struct cell *c, int rep,
                   const struct result *x)
{
    const struct pvt_bench_cfg *cfg = r->cfg;
    char v[NCOLUMNS][64];
    const char *row[NCOLUMNS];
    int i;

    for (i = 0; i < NCOLUMNS; i++)
        row[i] = v[i];
    snprintf(v[0], 64, "http");
    snprintf(v[1], 64, "%s", s->backend);
    snprintf(v[2], 64, "%ld", s->workers);
    snprintf(v[3], 64, "%s", c->wl);
    snprintf(v[4], 64, "%d", rep);
    snprintf(v[5], 64, "%.6f", x->seconds);
    snprintf(v[6], 64, "%s", s->dist);
    snprintf(v[7], 64, "%ld", c->conc);
    row[8] = c->route;
    snprintf(v[9], 64, "%llu", (unsigned long long)x->requests);
    snprintf(v[10], 64, "%llu", (unsigned long long)x->errors);
    snprintf(v[11], 64, "%.1f", x->rps);
    snprintf(v[12], 64, "%llu", (unsigned long long)x->p50);
    snprintf(v[13], 64, "%llu", (unsigned long long)x->p90);
    snprintf(v[14], 64, "%llu", (unsigned long long)x->p99);
    snprintf(v[15], 64, "%llu", (unsigned long long)x->p999);
    snprintf(v[16], 64, "%llu", (unsigned long long)x->max);
    pvt_bench_csv_num(v[17], x->mean_us, 1);
    pvt_bench_csv_num(v[18], x->jain, 4);
    row[19] = isnan(x->jain) ? "" : x->shares;
    pvt_bench_csv_num(v[20], x->server_us, 2);
    pvt_bench_csv_num(v[21], x->client_us, 2);
    row[22] = r->server_cpus;
    row[23] = r->client_cpus;
    snprintf(v[24], 64, "%s", pvt_place_policy_name(cfg->pin));
    snprintf(v[25], 64, "%s", pvt_place_unit_name(cfg->unit));
    snprintf(v[26], 64, "%d", x->threads);
    for (i = 0; i < 5; i++)
        snprintf(v[27 + i], 64, "%llu", (unsigned long long)x->err[i]);
    return pvt_csv_add_row(r->csv, row);
}

/* Median, min and max of the values of v that are not NAN (all NAN if none). */
static double spread(const double *v, int n, double *min, double *max)
{
    struct pvt_stat s;

    pvt_stat_of(v, n, &s);
    *min = s.lo;
    *max = s.hi;
    return s.med;
}

static void summarize(struct run *r, const struct pvt_server *s, const struct cell *c,
                      struct summary *m)
{
    int n = r->cfg->repeat;
    double lo, hi;

    *m = (struct summary){.backend = s->backend,
                          .dist = s->dist,
                          .workers = s->workers,
                          .conc = c->conc,
                          .route = c->route,
                          .errors = c->errors};
    m->rps = spread(c->v + V_RPS * n, n, &m->rps_min, &m->rps_max);
    m->jain = spread(c->v + V_JAIN * n, n, &m->jain_min, &m->jain_max);
    m->secs = spread(c->v + V_SECS * n, n, &lo, &hi);
    m->p99 = spread(c->v + V_P99 * n, n, &lo, &hi);
    m->mean = spread(c->v + V_MEAN * n, n, &lo, &hi);
    m->srv = spread(c->v + V_SRV * n, n, &lo, &hi);
}

static int record(struct run *r, struct pvt_server *s, struct cell *c, int rep, struct result *x)
{
    int n = r->cfg->repeat;

    c->v[V_RPS * n + rep] = x->rps;
    c->v[V_SECS * n + rep] = x->seconds;
    c->v[V_P99 * n + rep] = (double)x->p99;
    c->v[V_MEAN * n + rep] = x->mean_us;
    c->v[V_JAIN * n + rep] = x->jain;
    c->v[V_SRV * n + rep] = x->server_us;
    c->errors += x->errors;
    return add_row(r, s, c, rep + 1, x);
}

/*
 * One server: every concurrency x route on it, the repetitions taken in
 * rounds (each round starts one configuration later, as in task mode), the
 * CSV rewritten after each round, the table lines printed at the end.
 */
static int run_server(struct run *r, struct pvt_server *s)
{
    const struct pvt_bench_cfg *cfg = r->cfg;
    int ncells = cfg->nconcurrency * cfg->nworkloads, i, k, j, rc;
    struct cell *cells = calloc((size_t)ncells, sizeof(*cells));
    double *v = calloc((size_t)(ncells * NV * cfg->repeat), sizeof(*v));
    struct result x;

    if (!cells || !v) {
        ERR("out of memory");
        rc = -ENOMEM;
        goto out;
    }
    for (i = 0; i < ncells; i++) {
        struct cell *c = &cells[i];
        int w = i / cfg->nconcurrency;
        c->conc = cfg->concurrency[i % cfg->nconcurrency];
        c->v = v + i * NV * cfg->repeat;
        c->route = r->routes[w];
        pvt_workload_format(cfg->workload[w], cfg->workload_arg[w], c->wl, sizeof(c->wl));
    }
    rc = server_start(r, s);
    for (k = 0; k < cfg->warmup + cfg->repeat && rc == 0; k++) {
        int warm = k < cfg->warmup, rep = warm ? k : k - cfg->warmup;
        for (j = 0; j < ncells && rc == 0; j++) {
            struct cell *c = &cells[(j + k) % ncells];
            progress(r, s, c, rep + 1, warm ? cfg->warmup : cfg->repeat, warm);
            rc = run_once(r, s, c->conc, c->route, rep + 1, warm, &x);
            if (rc == 0 && !warm)
                rc = record(r, s, c, rep, &x);
        }
        if (rc == 0 && !warm && (rc = pvt_csv_write(r->csv, r->dir, "results.csv")) < 0)
            ERR("cannot write %s/results.csv: %s", r->dir, strerror(-rc));
    }
    pvt__bench_progress_clear();
    for (i = 0; i < ncells && rc == 0; i++) {
        summarize(r, s, &cells[i], &r->sum[r->nsum]);
        pvt__http_print_summary(cfg, &r->sum[r->nsum++]);
    }
out:
    server_stop(s);
    free(cells);
    free(v);
    return rc;
}

static json_t *json_strings(const char *const *v, int n)
{
    json_t *a = json_array();
    int i;

    for (i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static json_t *json_longs(const long *v, int n)
{
    json_t *a = json_array();
    int i;

    for (i = 0; i < n; i++)
        json_array_append_new(a, json_integer(v[i]));
    return a;
}

static int write_meta(struct run *r)
{
    const struct pvt_bench_cfg *cfg = r->cfg;
    json_t *o = json_object(), *p = json_object(), *wl = json_array(), *rt = json_array();
    char buf[128], *text;
    int i, rc;

    for (i = 0; i < cfg->nbackends; i++)
        json_array_append_new(wl, json_string(cfg->backends[i]->name));
    json_object_set_new(p, "backends", wl);
    json_object_set_new(p, "workers", json_longs(cfg->workers, cfg->nworkers));
    wl = json_array();
    for (i = 0; i < cfg->nworkloads; i++) {
        pvt_workload_format(cfg->workload[i], cfg->workload_arg[i], buf, sizeof(buf));
        json_array_append_new(wl, json_string(buf));
        pvt_bench_route(cfg->workload[i], cfg->workload_arg[i], buf, sizeof(buf));
        json_array_append_new(rt, json_string(buf));
    }
    json_object_set_new(p, "workloads", wl);
    json_object_set_new(p, "routes", rt);
    json_object_set_new(p, "distributions", json_strings(cfg->dists, cfg->ndists));
    json_object_set_new(p, "concurrency", json_longs(cfg->concurrency, cfg->nconcurrency));
    json_object_set_new(p, "duration_ms",
                        cfg->requests ? json_null() : json_integer((json_int_t)cfg->duration_ms));
    json_object_set_new(p, "requests",
                        cfg->requests ? json_integer((json_int_t)cfg->requests) : json_null());
    json_object_set_new(p, "timeout_ms", json_integer((json_int_t)cfg->timeout_ms));
    json_object_set_new(p, "threads",
                        cfg->threads ? json_integer(cfg->threads) : json_string("auto"));
    json_object_set_new(p, "repeat", json_integer(cfg->repeat));
    json_object_set_new(p, "warmup", json_integer(cfg->warmup));
    json_object_set_new(
        p, "warmup_ms",
        json_integer((json_int_t)(cfg->duration_ms < WARM_MS ? cfg->duration_ms : WARM_MS)));
    json_object_set_new(p, "pin", json_string(pvt_place_policy_name(cfg->pin)));
    json_object_set_new(p, "unit", json_string(pvt_place_unit_name(cfg->unit)));
    json_object_set_new(p, "server_cpus", json_string(r->server_cpus));
    json_object_set_new(p, "client_cpus", json_string(r->client_cpus));
    json_object_set_new(p, "cpus_shared", json_boolean(cfg->cpus_shared));
    json_object_set_new(p, "preset", cfg->preset ? json_string(cfg->preset) : json_null());
    json_object_set_new(o, "params", p);
    text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!text)
        return -ENOMEM;
    rc = pvt_meta_write(r->dir, "http", pvt_main_argc, pvt_main_argv, r->topo, text);
    free(text);
    return rc;
}

static int prepare(struct run *r)
{
    char path[4200];
    int rc;

    if (pvt_csv_new(columns, NCOLUMNS, &r->csv) < 0)
        return -ENOMEM;
    snprintf(path, sizeof(path), "%s/latency", r->dir);
    if (mkdir(path, 0777) < 0 && errno != EEXIST)
        return -errno;
    rc = write_meta(r);
    return rc < 0 ? rc : pvt_csv_write(r->csv, r->dir, "results.csv");
}

int pvt_bench_http(const struct pvt_bench_cfg *cfg, struct pvt_topo *topo, const char *dir)
{
    struct run r = {.cfg = cfg, .topo = topo, .dir = dir, .tty = pvt_cli_tty()};
    struct pvt_snap *snaps = calloc(2, sizeof(struct pvt_snap));
    int b, d, w, rc, wrc;

    r.total = cfg->nbackends * cfg->ndists * cfg->nworkers;
    for (w = 0; w < cfg->nworkloads; w++)
        pvt_bench_route(cfg->workload[w], cfg->workload_arg[w], r.routes[w], sizeof(r.routes[w]));
    r.nclient = CPU_COUNT(&cfg->client_cpus);
    pvt_cpuset_format(&cfg->server_cpus, r.server_cpus, sizeof(r.server_cpus));
    pvt_cpuset_format(&cfg->client_cpus, r.client_cpus, sizeof(r.client_cpus));
    r.sum = calloc((size_t)(r.total * cfg->nconcurrency * cfg->nworkloads), sizeof(*r.sum));
    rc = !r.sum || !snaps ? -ENOMEM : prepare(&r);
    if (rc < 0) {
        ERR("cannot write to %s: %s", dir, strerror(-rc));
        goto out;
    }
    r.before = &snaps[0];
    r.after = &snaps[1];
    printf("pvt bench --mode http: server on CPUs %s, client on CPUs %s%s; results in %s\n\n",
           r.server_cpus, r.client_cpus, cfg->cpus_shared ? " (shared)" : "", dir);
    pvt__http_print_header(cfg);
    /* Backends innermost: proc and thread of one configuration run close in time. */
    for (w = 0; w < cfg->nworkers && rc == 0; w++)
        for (d = 0; d < cfg->ndists && rc == 0; d++)
            for (b = 0; b < cfg->nbackends && rc == 0; b++) {
                struct pvt_server s = {.backend = cfg->backends[b]->name,
                                   .dist = cfg->dists[d],
                                   .workers = cfg->workers[w],
                                   .fd = -1};
                snprintf(s.name, sizeof(s.name), "%s %s, %ld worker%s", s.backend, s.dist,
                         s.workers, s.workers == 1 ? "" : "s");
                r.index++;
                rc = run_server(&r, &s);
            }
    /* The rows of an unfinished round too: each is a finished run. */
    wrc = pvt_csv_write(r.csv, dir, "results.csv");
    if (wrc < 0)
        ERR("cannot write %s/results.csv: %s", dir, strerror(-wrc));
    if (rc == 0 && wrc == 0)
        pvt__http_print_verdicts(r.cfg, r.sum, r.nsum);
    if (rc == -EINTR)
        fprintf(stderr, "pvt bench: interrupted; %d finished runs are in %s\n", pvt_csv_rows(r.csv),
                dir);
    else if (rc == 0 && wrc == 0)
        printf("\nresults: %s/results.csv, %s/meta.json, %s/latency/\n", dir, dir, dir);
    if (rc == 0)
        rc = wrc;
out:
    pvt_csv_free(r.csv);
    free(r.sum);
    free(snaps);
    if (rc == -EINTR)
        return 130;
    return rc < 0 ? PVT_EXIT_FAIL : PVT_EXIT_OK;
}

const struct pvt_mode pvt_mode_http = {
    .name = "http",
    .run = pvt_bench_http,
    .plot = pvt__plot_http,
    .report = &pvt__rep_http,
};
