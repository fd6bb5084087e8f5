/*
 * bench_loop.c: loop mode's run. For each design (a `pvt serve` command
 * line: how many loops, processes or threads, and whether the heavy routes
 * go to a pool), each repetition runs two phases against one server:
 *
 *   mixed       a light stream (GET / at a constant rate, open loop, so a
 *               blocked loop shows as latency, not as fewer samples) and a
 *               heavy stream (one heavy request in flight at a time), both
 *               from one `pvt load` with a stream each;
 *   light-only  the light stream alone: what the design costs a light
 *               request when nothing heavy runs.
 *
 * A row per design x phase x repetition: the light stream's percentiles,
 * the heavy stream's throughput, errors of each, and the server's CPU per
 * request (its whole process tree, offload pools included, from /proc).
 */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_loop.h"
#include "bench/common/bench.h"
#include "bench/common/cli.h"
#include "bench/common/run.h"
#include "bench/results/res.h"
#include "bench/results/rundir.h"
#include "shared/base/clock.h"
#include "shared/core/place.h"
#include "shared/work/work.h"

#define CMD           "bench"
#define ERR(...)      pvt__bench_err(__VA_ARGS__)
#define STOP_MS       10000 /* pvt serve must exit this long after SIGTERM */
#define LOAD_SLACK_MS 15000
#define WARM_MS       1000
#define HEAVY_TARGET_NS 1000000000ull /* the heavy request: about a second of the summing loop */
#define MAX_DESIGNS   8

struct design {
    const char *name;  /* the design column */
    const char *label; /* for people */
    const char *backend;
    long workers;
    const char *offload; /* NULL: inline */
    long offload_workers;
    const char *pin; /* pvt serve --pin: "none" for the offload designs (server_start) */
};

struct phase_result {
    uint64_t light_req, light_err, heavy_req, heavy_err;
    uint64_t p50, p90, p99, max; /* the light stream, µs */
    uint64_t heavy_p50, heavy_max;
    double seconds, heavy_per_s, server_us;
};

struct run {
    const struct pvt_bench_cfg *cfg;
    struct pvt_topo *topo;
    const char *dir;
    struct pvt_csv *csv;
    struct design d[MAX_DESIGNS];
    int nd;
    char server_cpus[256], client_cpus[256];
    char heavy[128], heavy_wl[64];
    long light_conns;
    double light_rate;
    int tty;
};

static const char *const columns[] = {
    "mode", "design", "backend", "workers", "offload", "offload_workers", "workload",
    "repetition", "phase", "seconds", "light_route", "light_rate", "light_connections",
    "light_requests", "light_errors", "light_p50_us", "light_p90_us", "light_p99_us",
    "light_max_us", "heavy_route", "heavy_requests", "heavy_per_s", "heavy_errors",
    "heavy_p50_us", "heavy_max_us", "server_cpu_us_per_req", "server_cpus", "client_cpus"};
#define NCOLUMNS ((int)(sizeof(columns) / sizeof(columns[0])))

/* ---- the designs ---------------------------------------------------------------------------- */

static void add_design(struct run *r, const char *name, const char *label, const char *backend,
                       long workers, const char *offload, long ow)
{
    const char *pin = offload ? "none" : pvt_place_policy_name(r->cfg->pin);

    r->d[r->nd++] = (struct design){name, label, backend, workers, offload, ow, pin};
}

/* N loops for the N-loop designs and N workers for a pool: --workers, or
 * the server CPUs. With one CPU the N-loop designs would repeat the first. */
static void make_designs(struct run *r, long n)
{
    add_design(r, "inline", "1 loop, heavy inline (Node, one process)", "proc", 1, NULL, 0);
    if (n > 1) {
        add_design(r, "loops-proc", "N loops as processes (cluster)", "proc", n, NULL, 0);
        add_design(r, "loops-thread", "N loops as threads", "thread", n, NULL, 0);
    }
    add_design(r, "offload-thread", "1 loop + thread pool (worker_threads)", "proc", 1, "thread",
               n);
    add_design(r, "offload-proc", "1 loop + process pool (child_process pool)", "proc", 1, "proc",
               n);
}

/* The heavy workload: the one given, or cpu:N sized to about a second here. */
static void heavy_workload(struct run *r)
{
    const struct pvt_bench_cfg *cfg = r->cfg;
    uint32_t wl = PVT_WL_CPU;
    uint64_t arg;

    if (cfg->nworkloads > 0) {
        wl = cfg->workload[0];
        arg = cfg->workload_arg[0];
    } else {
        struct pvt_work_ctx ctx;
        struct pvt_job job = {.workload = PVT_WL_CPU, .arg = 20000000};
        uint64_t t0, ns;

        pvt_work_ctx_init(&ctx);
        t0 = pvt_now_ns();
        (void)pvt_work_run(&ctx, &job);
        ns = pvt_now_ns() - t0;
        pvt_work_ctx_fini(&ctx);
        arg = ns ? (uint64_t)((double)job.arg * (double)HEAVY_TARGET_NS / (double)ns) : job.arg;
        arg = arg < 1000000 ? 1000000 : arg;
    }
    pvt_workload_format(wl, arg, r->heavy_wl, sizeof(r->heavy_wl));
    pvt_bench_route(wl, arg, r->heavy, sizeof(r->heavy));
}

/* ---- the server's CPU: its whole tree ------------------------------------------------------- */

/* utime + stime (µs) of every process whose ancestry reaches root, root
 * included, from /proc/PID/stat; -1 if root is gone. */
static double tree_cpu_us(long root)
{
    enum { MAXP = 65536 };
    long *pid = malloc(MAXP * sizeof(long)), *ppid = malloc(MAXP * sizeof(long));
    double *cpu = malloc(MAXP * sizeof(double)), total = -1, tck = (double)sysconf(_SC_CLK_TCK);
    unsigned char *in = calloc(MAXP, 1);
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0, changed = 1, i;

    while (d && pid && ppid && cpu && in && n < MAXP && (e = readdir(d))) {
        char path[300], buf[1024], *p;
        unsigned long ut, st;
        long pp;
        FILE *f;

        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        if (!(f = fopen(path, "re")))
            continue;
        p = fgets(buf, sizeof(buf), f);
        fclose(f);
        if (!p || !(p = strrchr(buf, ')')))
            continue;
        /* after "comm)": state ppid pgrp session tty tpgid flags minflt cminflt majflt
         * cmajflt utime stime */
        if (sscanf(p + 2, "%*c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &pp, &ut,
                   &st) != 3)
            continue;
        pid[n] = atol(e->d_name);
        ppid[n] = pp;
        cpu[n] = (double)(ut + st) / tck * 1e6;
        in[n] = pid[n] == root;
        n++;
    }
    if (d)
        closedir(d);
    while (changed) {
        changed = 0;
        for (i = 0; i < n; i++) {
            if (in[i])
                continue;
            for (int k = 0; k < n; k++)
                if (in[k] && pid[k] == ppid[i]) {
                    in[i] = changed = 1;
                    break;
                }
        }
    }
    for (i = 0; i < n; i++)
        if (in[i])
            total = (total < 0 ? 0 : total) + cpu[i];
    free(pid);
    free(ppid);
    free(cpu);
    free(in);
    return total;
}

/* ---- one phase: pvt load with a stream each ------------------------------------------------- */

static int parse_stream(json_t *s, struct phase_result *x, int light)
{
    json_t *lat = json_object_get(s, "latency_us"), *err = json_object_get(s, "errors");
    uint64_t errors = 0;
    const char *k;
    json_t *v;

    if (!json_is_object(lat) || !json_is_object(err) ||
        !json_is_integer(json_object_get(s, "requests")))
        return -EPROTO;
    json_object_foreach(err, k, v) errors += (uint64_t)json_integer_value(v);
    if (light) {
        x->light_req = (uint64_t)json_integer_value(json_object_get(s, "requests"));
        x->light_err = errors;
        x->p50 = (uint64_t)json_integer_value(json_object_get(lat, "p50"));
        x->p90 = (uint64_t)json_integer_value(json_object_get(lat, "p90"));
        x->p99 = (uint64_t)json_integer_value(json_object_get(lat, "p99"));
        x->max = (uint64_t)json_integer_value(json_object_get(lat, "max"));
    } else {
        x->heavy_req = (uint64_t)json_integer_value(json_object_get(s, "requests"));
        x->heavy_err = errors;
        x->heavy_p50 = (uint64_t)json_integer_value(json_object_get(lat, "p50"));
        x->heavy_max = (uint64_t)json_integer_value(json_object_get(lat, "max"));
    }
    return 0;
}

static int parse_load(const char *text, struct phase_result *x)
{
    json_error_t e;
    json_t *root = json_loads(text, 0, &e), *streams;
    size_t i;
    int rc = -EPROTO, seen = 0;

    if (!root)
        return -EPROTO;
    streams = json_object_get(root, "streams");
    x->seconds = json_number_value(json_object_get(root, "seconds"));
    for (i = 0; json_is_array(streams) && i < json_array_size(streams); i++) {
        json_t *s = json_array_get(streams, i);
        const char *path = json_string_value(json_object_get(s, "path"));
        int light = path && strcmp(path, PVT_LOOP_LIGHT_ROUTE) == 0;

        if (!path || parse_stream(s, x, light) < 0)
            goto out;
        seen |= light ? 1 : 2;
    }
    rc = seen & 1 ? 0 : -EPROTO;
out:
    json_decref(root);
    return rc;
}

/* Run pvt load against port for ms: the light stream, and the heavy one
 * when heavy is set. hgrm: where the spectra go (NULL: none). */
static int load(struct run *r, int port, uint64_t ms, int heavy, const char *hgrm,
                struct phase_result *x)
{
    const struct pvt_bench_cfg *cfg = r->cfg;
    char url[64], dur[32], tmo[32], ls[96], hs[192], thr[16], out[16384];
    char *argv[20] = {"pvt", "load", url, "-d", dur, "--timeout", tmo, "--json", "--stream", ls};
    struct pvt_child lc;
    int n = 10, rc;
    long conns = r->light_conns + (heavy ? 1 : 0);

    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
    snprintf(dur, sizeof(dur), "%llums", (unsigned long long)ms);
    snprintf(tmo, sizeof(tmo), "%llu", (unsigned long long)cfg->timeout_ms);
    snprintf(ls, sizeof(ls), "%s:c=%ld:R=%g", PVT_LOOP_LIGHT_ROUTE, r->light_conns, r->light_rate);
    if (heavy) {
        snprintf(hs, sizeof(hs), "%s:c=1", r->heavy);
        argv[n++] = "--stream";
        argv[n++] = hs;
    }
    snprintf(thr, sizeof(thr), "%ld", cfg->threads && cfg->threads < conns ? cfg->threads : conns);
    argv[n++] = "-t";
    argv[n++] = thr;
    if (hgrm) {
        argv[n++] = "--hgrm";
        argv[n++] = (char *)hgrm;
    }
    argv[n] = NULL;
    rc = pvt_child_start(argv, &cfg->client_cpus, &lc);
    if (rc < 0) {
        ERR("cannot start pvt load: %s", strerror(-rc));
        return rc;
    }
    rc = pvt_child_read(&lc, out, sizeof(out), 0,
                        pvt_bench_deadline(ms + cfg->timeout_ms + LOAD_SLACK_MS));
    pvt_child_stop(&lc, rc < 0 ? SIGTERM : 0, rc < 0 ? 2000 : LOAD_SLACK_MS);
    if (rc >= 0 && pvt_bench_interrupted)
        rc = -EINTR;
    if (rc >= 0 && (!WIFEXITED(lc.status) || WEXITSTATUS(lc.status) != 0)) {
        char why[64];
        pvt_child_describe_exit(lc.status, why, sizeof(why));
        ERR("pvt load: %s", why);
        return -ECHILD;
    }
    if (rc < 0) {
        if (rc != -EINTR)
            ERR("pvt load: %s", rc == -ETIMEDOUT ? "did not finish in time" : strerror(-rc));
        return rc;
    }
    if (parse_load(out, x) < 0) {
        ERR("pvt load gave no JSON with the light stream: %.200s", out);
        return -EPROTO;
    }
    x->heavy_per_s = x->seconds > 0 ? (double)x->heavy_req / x->seconds : NAN;
    return 0;
}

/* ---- one design ----------------------------------------------------------------------------- */

static int server_start(struct run *r, const struct design *d, struct pvt_child *c,
                        struct pvt_serve_ready *ready)
{
    char w[16], ow[16], why[160];
    /* A pool's workers share their serving worker's CPUs: left unbound, the
     * loop and its pool may use every server CPU, as Node's worker_threads
     * do; a pinned loop would keep its pool on the loop's own CPU. */
    const char *pin = d->pin;
    char *argv[24] = {"pvt", "serve", "--backend", (char *)d->backend, "--workers", w, "--port",
                      "0", "--host", "127.0.0.1", "--distribution", "shared", "--pin",
                      (char *)pin, "--quiet", "--unbounded-routes"};
    int n = 16, rc;

    snprintf(w, sizeof(w), "%ld", d->workers);
    if (d->offload) {
        snprintf(ow, sizeof(ow), "%ld", d->offload_workers);
        argv[n++] = "--offload";
        argv[n++] = (char *)d->offload;
        argv[n++] = "--offload-workers";
        argv[n++] = ow;
    }
    argv[n] = NULL;
    rc = pvt_server_start(argv, &r->cfg->server_cpus, -1, STOP_MS, c, ready, why, sizeof(why));
    if (rc < 0 && rc != -EINTR)
        ERR("pvt serve (%s): %s", d->name, why);
    return rc;
}

static int add_row(struct run *r, const struct design *d, int rep, const char *phase,
                   const struct phase_result *x)
{
    char v[NCOLUMNS][64];
    const char *row[NCOLUMNS];
    int i = 0;

    for (int k = 0; k < NCOLUMNS; k++)
        row[k] = v[k];
    snprintf(v[i++], 64, "loop");
    snprintf(v[i++], 64, "%s", d->name);
    snprintf(v[i++], 64, "%s", d->backend);
    snprintf(v[i++], 64, "%ld", d->workers);
    snprintf(v[i++], 64, "%s", d->offload ? d->offload : "none");
    snprintf(v[i++], 64, "%ld", d->offload_workers);
    snprintf(v[i++], 64, "%s", r->heavy_wl);
    snprintf(v[i++], 64, "%d", rep);
    snprintf(v[i++], 64, "%s", phase);
    snprintf(v[i++], 64, "%.6f", x->seconds);
    snprintf(v[i++], 64, "%s", PVT_LOOP_LIGHT_ROUTE);
    snprintf(v[i++], 64, "%g", r->light_rate);
    snprintf(v[i++], 64, "%ld", r->light_conns);
    snprintf(v[i++], 64, "%llu", (unsigned long long)x->light_req);
    snprintf(v[i++], 64, "%llu", (unsigned long long)x->light_err);
    snprintf(v[i++], 64, "%llu", (unsigned long long)x->p50);
    snprintf(v[i++], 64, "%llu", (unsigned long long)x->p90);
    snprintf(v[i++], 64, "%llu", (unsigned long long)x->p99);
    snprintf(v[i++], 64, "%llu", (unsigned long long)x->max);
    row[i++] = strcmp(phase, PVT_LOOP_MIXED) == 0 ? r->heavy : "";
    snprintf(v[i++], 64, "%llu", (unsigned long long)x->heavy_req);
    pvt_bench_csv_num(v[i++], strcmp(phase, PVT_LOOP_MIXED) == 0 ? x->heavy_per_s : NAN, 3);
    snprintf(v[i++], 64, "%llu", (unsigned long long)x->heavy_err);
    snprintf(v[i++], 64, "%llu", (unsigned long long)x->heavy_p50);
    snprintf(v[i++], 64, "%llu", (unsigned long long)x->heavy_max);
    pvt_bench_csv_num(v[i++], x->server_us, 2);
    row[i++] = r->server_cpus;
    row[i++] = r->client_cpus;
    return pvt_csv_add_row(r->csv, row);
}

/* One phase of one repetition: CPU around the load, the row. */
static int run_phase(struct run *r, const struct design *d, struct pvt_child *srv, long spid,
                     int port, int rep, int heavy, int warm)
{
    const struct pvt_bench_cfg *cfg = r->cfg;
    const char *phase = heavy ? PVT_LOOP_MIXED : PVT_LOOP_LIGHT;
    uint64_t ms = warm ? WARM_MS : cfg->duration_ms;
    struct phase_result x = {0};
    char hgrm[PATH_MAX];
    double c0, c1;
    int rc;

    if (pvt_child_reap(srv, 0) == 0) {
        char why[64];
        pvt_child_describe_exit(srv->status, why, sizeof(why));
        ERR("pvt serve (%s) is gone: %s", d->name, why);
        return -ECHILD;
    }
    if (r->tty && !cfg->quiet)
        pvt__bench_progress("%s: %s %s %d/%d", d->name, warm ? "warm-up" : phase,
                            warm ? "" : "repetition", warm ? 1 : rep,
                            warm ? 1 : cfg->repeat);
    snprintf(hgrm, sizeof(hgrm), "%s/latency/%s-%s-r%d.hgrm", r->dir, d->name, phase, rep);
    c0 = tree_cpu_us(spid);
    rc = load(r, port, ms, heavy, warm ? NULL : hgrm, &x);
    c1 = tree_cpu_us(spid);
    if (rc < 0 || warm)
        return rc;
    x.server_us = c0 >= 0 && c1 >= c0 && x.light_req + x.heavy_req > 0
                      ? (c1 - c0) / (double)(x.light_req + x.heavy_req)
                      : NAN;
    return add_row(r, d, rep, phase, &x);
}

static int run_design(struct run *r, const struct design *d)
{
    const struct pvt_bench_cfg *cfg = r->cfg;
    struct pvt_serve_ready ready;
    struct pvt_child srv = {0};
    int rep, rc;

    rc = server_start(r, d, &srv, &ready);
    if (rc < 0)
        goto out;
    if (cfg->warmup)
        rc = run_phase(r, d, &srv, ready.pid, ready.port, 0, 1, 1);
    for (rep = 1; rep <= cfg->repeat && rc == 0; rep++) {
        rc = run_phase(r, d, &srv, ready.pid, ready.port, rep, 1, 0);
        if (rc == 0)
            rc = run_phase(r, d, &srv, ready.pid, ready.port, rep, 0, 0);
        if (rc == 0 && (rc = pvt_csv_write(r->csv, r->dir, "results.csv")) < 0)
            ERR("cannot write %s/results.csv: %s", r->dir, strerror(-rc));
    }
out:
    if (srv.pid) {
        pvt_child_stop(&srv, SIGTERM, STOP_MS);
        if (rc == 0 && (!WIFEXITED(srv.status) || WEXITSTATUS(srv.status) != 0)) {
            char why[64];
            pvt_child_describe_exit(srv.status, why, sizeof(why));
            ERR("pvt serve (%s) did not stop cleanly: %s", d->name, why);
        }
    }
    return rc;
}

/* ---- meta, the summary ---------------------------------------------------------------------- */

static int write_meta(struct run *r)
{
    const struct pvt_bench_cfg *cfg = r->cfg;
    json_t *o = json_object(), *p = json_object(), *ds = json_array();
    char *text;
    int i, rc;

    for (i = 0; i < r->nd; i++) {
        json_t *d = json_object();
        json_object_set_new(d, "design", json_string(r->d[i].name));
        json_object_set_new(d, "label", json_string(r->d[i].label));
        json_object_set_new(d, "backend", json_string(r->d[i].backend));
        json_object_set_new(d, "workers", json_integer(r->d[i].workers));
        json_object_set_new(d, "offload",
                            r->d[i].offload ? json_string(r->d[i].offload) : json_null());
        json_object_set_new(d, "offload_workers", json_integer(r->d[i].offload_workers));
        json_object_set_new(d, "pin", json_string(r->d[i].pin));
        json_array_append_new(ds, d);
    }
    json_object_set_new(p, "designs", ds);
    json_object_set_new(p, "heavy_workload", json_string(r->heavy_wl));
    json_object_set_new(p, "heavy_route", json_string(r->heavy));
    json_object_set_new(p, "light_route", json_string(PVT_LOOP_LIGHT_ROUTE));
    json_object_set_new(p, "light_rate", json_real(r->light_rate));
    json_object_set_new(p, "light_connections", json_integer(r->light_conns));
    json_object_set_new(p, "duration_ms", json_integer((json_int_t)cfg->duration_ms));
    json_object_set_new(p, "timeout_ms", json_integer((json_int_t)cfg->timeout_ms));
    json_object_set_new(p, "repeat", json_integer(cfg->repeat));
    json_object_set_new(p, "warmup", json_integer(cfg->warmup));
    json_object_set_new(p, "pin", json_string(pvt_place_policy_name(cfg->pin)));
    json_object_set_new(p, "server_cpus", json_string(r->server_cpus));
    json_object_set_new(p, "client_cpus", json_string(r->client_cpus));
    json_object_set_new(p, "cpus_shared", json_boolean(cfg->cpus_shared));
    json_object_set_new(o, "params", p);
    text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!text)
        return -ENOMEM;
    rc = pvt_meta_write(r->dir, "loop", pvt_main_argc, pvt_main_argv, r->topo, text);
    free(text);
    return rc;
}

/* The table and the verdicts, read back from what was written: the same
 * lines `pvt report` gives. */
static void print_summary(struct run *r)
{
    struct pvt_rundir rd;
    char why[256];

    if (pvt_rundir_open(r->dir, &rd, why, sizeof(why)) < 0) {
        ERR("%s", why);
        return;
    }
    printf("\n");
    pvt__rep_loop.tables(&rd, stdout);
    printf("\n");
    pvt__rep_loop.verdicts(&rd, stdout);
    pvt_rundir_close(&rd);
}

static int prepare(struct run *r)
{
    const struct pvt_bench_cfg *cfg = r->cfg;
    char path[4200];
    long n = cfg->nworkers ? cfg->workers[0] : CPU_COUNT(&cfg->server_cpus);

    make_designs(r, n < 1 ? 1 : n);
    heavy_workload(r);
    r->light_conns = cfg->nconcurrency ? cfg->concurrency[0] : 4;
    r->light_rate = cfg->rate > 0 ? cfg->rate : 100;
    pvt_cpuset_format(&cfg->server_cpus, r->server_cpus, sizeof(r->server_cpus));
    pvt_cpuset_format(&cfg->client_cpus, r->client_cpus, sizeof(r->client_cpus));
    if (pvt_csv_new(columns, NCOLUMNS, &r->csv) < 0)
        return -ENOMEM;
    snprintf(path, sizeof(path), "%s/latency", r->dir);
    if (mkdir(path, 0777) < 0 && errno != EEXIST)
        return -errno;
    int rc = write_meta(r);
    return rc < 0 ? rc : pvt_csv_write(r->csv, r->dir, "results.csv");
}

static int pvt_bench_loop(const struct pvt_bench_cfg *cfg, struct pvt_topo *topo,
                          const char *dir)
{
    struct run r = {.cfg = cfg, .topo = topo, .dir = dir, .tty = pvt_cli_tty()};
    int i, rc;

    rc = prepare(&r);
    if (rc < 0) {
        ERR("cannot write to %s: %s", dir, strerror(-rc));
        pvt_csv_free(r.csv);
        return PVT_EXIT_FAIL;
    }
    if (!cfg->quiet)
        printf("loop mode: light GET / at %g/s over %ld connections; heavy GET %s (%s), one at "
               "a time; %d design(s), server CPUs %s, client CPUs %s\n",
               r.light_rate, r.light_conns, r.heavy, r.heavy_wl, r.nd, r.server_cpus,
               r.client_cpus);
    for (i = 0; i < r.nd && rc == 0; i++)
        rc = run_design(&r, &r.d[i]);
    pvt__bench_progress_clear();
    if (rc == 0)
        print_summary(&r);
    if (rc == -EINTR || pvt_bench_interrupted) {
        /* The rows of the repetitions that finished. */
        pvt_csv_write(r.csv, dir, "results.csv");
        fprintf(stderr, "pvt bench: interrupted; %d finished runs are in %s\n",
                pvt_csv_rows(r.csv), dir);
        pvt_csv_free(r.csv);
        return 130;
    }
    pvt_csv_free(r.csv);
    if (rc < 0)
        return PVT_EXIT_FAIL;
    printf("results: %s\n", dir);
    return PVT_EXIT_OK;
}

const struct pvt_mode pvt_mode_loop = {
    .name = "loop",
    .run = pvt_bench_loop,
    .plot = pvt__plot_loop,
    .report = &pvt__rep_loop,
};
