/*
 * cmd_bench_cfg.c: `pvt bench`'s modes: which flags each takes, the http
 * presets, the CPUs of server and client, and each mode's defaults and the
 * checks that need them.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/backends/backends.h"
#include "bench/modes/cost/bench_cost.h"
#include "bench/common/cli.h"
#include "cmd_bench_int.h"
#include "bench/load/load.h"
#include "shared/base/parse.h"
#include "bench/results/res.h"
#include "shared/work/work.h"

/* The modes a flag belongs to, where not all; naming it in another mode is
 * a usage error. */
enum { M_TASKS = 1, M_HTTP = 2, M_FAULT = 4, M_COST = 8, M_STATE = 16, M_LOOP = 32 };
static const struct {
    int opt, modes;
    const char *which;
} mode_flags[] = {
    {OPT_JOBS, M_TASKS, "tasks mode only"},
    {OPT_TARGET, M_TASKS | M_STATE, "tasks and state modes only"},
    {OPT_DEPTH, M_TASKS, "tasks mode only"},
    {OPT_WARMUP, M_TASKS | M_HTTP | M_COST | M_LOOP,
     "tasks, http, cost and loop modes only (a fault run starts a fresh server)"},
    {OPT_DIST, M_HTTP | M_FAULT, "http and fault modes only"},
    {OPT_CONC, M_HTTP | M_FAULT | M_LOOP, "http, fault and loop modes only"},
    {OPT_DURATION, M_HTTP | M_FAULT | M_LOOP, "http, fault and loop modes only"},
    {OPT_REQUESTS, M_HTTP, "http mode only"},
    {OPT_TIMEOUT, M_HTTP | M_FAULT | M_LOOP, "http, fault and loop modes only"},
    {OPT_THREADS, M_HTTP | M_FAULT | M_LOOP, "http, fault and loop modes only"},
    {OPT_SERVER_CPUS, M_HTTP | M_FAULT | M_LOOP, "http, fault and loop modes only"},
    {OPT_CLIENT_CPUS, M_HTTP | M_FAULT | M_LOOP, "http, fault and loop modes only"},
    {OPT_PRESET, M_HTTP | M_COST, "http and cost modes only"},
    {OPT_FAULT, M_FAULT, "fault mode only"},
    {OPT_RATE, M_FAULT | M_LOOP, "fault and loop modes only"},
    {OPT_FAULT_RATE, M_FAULT, "fault mode only"},
    {OPT_WTIMEOUT, M_FAULT, "fault mode only"},
    {OPT_MAXRSS, M_FAULT, "fault mode only"},
    {OPT_SECTION, M_COST, "cost mode only"},
    {OPT_HEAP, M_COST, "cost mode only"},
    {OPT_DATASET, M_COST, "cost mode only"},
    {OPT_HOP_SIZES, M_COST, "cost mode only"},
    {OPT_WORKLOAD, M_TASKS | M_HTTP | M_FAULT | M_COST | M_LOOP,
     "not in state mode (its workload is the counter)"},
    {OPT_BACKEND, M_TASKS | M_HTTP | M_FAULT | M_COST | M_STATE,
     "not in loop mode (each of its designs names its backends)"},
    {OPT_VARIANT, M_STATE, "state mode only"},
    {OPT_UPDATES, M_STATE, "state mode only"},
    {OPT_BATCH, M_STATE, "state mode only"},
};

/*
 * An http preset: the defaults of one of the seeds' experiments. Workers are
 * always 1 and all the server CPUs; with fewer than 4 CPUs in all, server
 * and client share every CPU (unless a CPU flag says otherwise), so that
 * "one worker against all the cores" still compares something.
 */
struct preset {
    const char *name;
    const char *dists, *concurrency, *workloads;
    uint64_t requests, timeout_ms;
    int repeat, warmup;
};

static const struct preset presets[] = {
    {"concurrency-table", "rr", "1,2,4,8,16", "noop,cpu:1M", 0, 0, 0, -1},
    {"heavy-burst", "rr,shared", "400", "cpu:50M", 1200, 30000, 1, 0},
};
#define NPRESETS ((int)(sizeof(presets) / sizeof(presets[0])))

static const struct preset *find_preset(const char *name)
{
    int i;

    for (i = 0; i < NPRESETS; i++)
        if (strcmp(presets[i].name, name) == 0)
            return &presets[i];
    pvt_usage_error(CMD, "--preset: unknown preset '%s' (concurrency-table, heavy-burst)", name);
}

/* A CPU list, each CPU one this process may use, or a usage error. */
static void parse_cpus(const char *flag, const char *s, const cpu_set_t *allowed, cpu_set_t *out)
{
    static long v[CPU_SETSIZE];
    char list[256];
    int n, i;

    n = pvt_parse_int_list(s, 0, CPU_SETSIZE - 1, v, CPU_SETSIZE);
    if (n == -ERANGE)
        pvt_usage_error(CMD, "%s: '%s': CPUs are numbered 0..%d", flag, s, CPU_SETSIZE - 1);
    if (n < 0)
        pvt_usage_error(CMD, "%s: '%s' is not a CPU list such as 0-3,8", flag, s);
    CPU_ZERO(out);
    for (i = 0; i < n; i++) {
        if (!CPU_ISSET((int)v[i], allowed)) {
            pvt_cpuset_format(allowed, list, sizeof(list));
            pvt_usage_error(CMD, "%s: CPU %ld is not one this process may use (allowed: %s)", flag,
                            v[i], list);
        }
        CPU_SET((int)v[i], out);
    }
}

/*
 * The server's and the client's CPUs. A set not given is the allowed CPUs
 * less the other one (all of them if that leaves none). Neither given: the
 * client gets max(1, n/4) CPUs at the top of the n allowed, the server the
 * rest; with one CPU, or a preset on fewer than 4, both get every CPU.
 */
static int resolve_cpus(struct pvt_bench_cfg *cfg, const struct args *a, int share_small)
{
    cpu_set_t allowed, both;
    int n, i, k;

    if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0) {
        pvt_err(CMD, "cannot read the allowed CPUs: %s", strerror(errno));
        return -1;
    }
    n = CPU_COUNT(&allowed);
    if (a->server_cpus)
        parse_cpus("--server-cpus", a->server_cpus, &allowed, &cfg->server_cpus);
    if (a->client_cpus)
        parse_cpus("--client-cpus", a->client_cpus, &allowed, &cfg->client_cpus);
    if (a->server_cpus && !a->client_cpus) {
        CPU_XOR(&cfg->client_cpus, &allowed, &cfg->server_cpus);
        if (CPU_COUNT(&cfg->client_cpus) == 0)
            cfg->client_cpus = cfg->server_cpus;
    } else if (a->client_cpus && !a->server_cpus) {
        CPU_XOR(&cfg->server_cpus, &allowed, &cfg->client_cpus);
        if (CPU_COUNT(&cfg->server_cpus) == 0)
            cfg->server_cpus = cfg->client_cpus;
    } else if (!a->server_cpus) {
        cfg->server_cpus = allowed;
        cfg->client_cpus = allowed;
        if (n >= 2 && !(share_small && n < 4)) {
            CPU_ZERO(&cfg->client_cpus);
            for (i = CPU_SETSIZE - 1, k = n / 4 > 1 ? n / 4 : 1; i >= 0 && k > 0; i--) {
                if (CPU_ISSET(i, &allowed)) {
                    CPU_SET(i, &cfg->client_cpus);
                    CPU_CLR(i, &cfg->server_cpus);
                    k--;
                }
            }
        }
    }
    CPU_AND(&both, &cfg->server_cpus, &cfg->client_cpus);
    cfg->cpus_shared = CPU_COUNT(&both) > 0;
    return 0;
}

/* The preset's and the mode's defaults, wherever no flag was given. */
static void http_defaults(struct pvt_bench_cfg *cfg, const struct args *a, const struct preset *p)
{
    int nserver = CPU_COUNT(&cfg->server_cpus);

    if (!GIVEN(a, OPT_DIST))
        pvt__bench_parse_dists(cfg, p ? p->dists : "shared,reuseport,rr");
    if (!GIVEN(a, OPT_CONC))
        cfg->nconcurrency = pvt__bench_parse_counts("--concurrency", p ? p->concurrency : "1,16,64",
                                         PVT_LOAD_MAX_CONNS, cfg->concurrency);
    if (!GIVEN(a, OPT_WORKLOAD))
        pvt__bench_parse_workloads(cfg, p ? p->workloads : "noop");
    if (GIVEN(a, OPT_REQUESTS) && GIVEN(a, OPT_DURATION))
        pvt_usage_error(CMD, "--requests and --duration: give one of them, not both");
    if (!GIVEN(a, OPT_REQUESTS) && !GIVEN(a, OPT_DURATION) && p)
        cfg->requests = p->requests;
    if (!cfg->duration_ms)
        cfg->duration_ms = 3000;
    if (!GIVEN(a, OPT_TIMEOUT))
        cfg->timeout_ms = p && p->timeout_ms ? p->timeout_ms : 2000;
    if (!GIVEN(a, OPT_REPEAT))
        cfg->repeat = p && p->repeat ? p->repeat : 3;
    if (!GIVEN(a, OPT_WARMUP) && p && p->warmup >= 0)
        cfg->warmup = p->warmup;
    if (a->workers)
        return;
    if (p) {
        cfg->workers[0] = 1;
        cfg->workers[1] = nserver;
        cfg->nworkers = nserver > 1 ? 2 : 1;
    } else {
        pvt__bench_default_workers(cfg, nserver);
    }
}

/* Everything http mode refuses that tasks mode would take. */
static void http_checks(const struct pvt_bench_cfg *cfg)
{
    const struct pvt_pool_ops *const *b;
    char wl[64], route[128];
    int i, rc;

    for (i = 0; i < cfg->nbackends; i++) {
        for (b = pvt_backends; *b && *b != cfg->backends[i]; b++)
            ;
        if (!*b)
            pvt_usage_error(CMD, "--backend: %s has no server (http and fault modes: proc, thread)",
                            cfg->backends[i]->name);
    }
    for (i = 0; i < cfg->nworkloads; i++) {
        pvt_workload_format(cfg->workload[i], cfg->workload_arg[i], wl, sizeof(wl));
        rc = pvt_bench_route(cfg->workload[i], cfg->workload_arg[i], route, sizeof(route));
        if (rc == -ENOENT)
            pvt_usage_error(CMD, "--workload: %s has no route (http and fault modes: noop, cpu, "
                                 "hash, mem, sleep)", wl);
        if (rc < 0)
            pvt_usage_error(CMD, "--workload: %s: out of its route's range (mem: 8 bytes at "
                                 "least, sleep: 60000 ms at most)", wl);
    }
}

/* One value of a list flag that fault mode takes one of. */
static void one_value(const char *flag, int n)
{
    if (n > 1)
        pvt_usage_error(CMD, "%s: fault mode takes one value (it sweeps backends and faults)",
                        flag);
}

static void parse_faults(struct pvt_bench_cfg *cfg, const char *s)
{
    char buf[1024], *items[PVT_BENCH_MAX_LIST];
    const char *why;
    int n, i, j;

    n = pvt_split_list(s, buf, sizeof(buf), items, PVT_BENCH_MAX_LIST);
    if (n < 0)
        pvt_usage_error(CMD, "--fault: '%s' is not a comma-separated list", s);
    for (i = 0; i < n; i++) {
        if (pvt_bench_fault_parse(items[i], &cfg->faults[i], &why) < 0)
            pvt_usage_error(CMD, "--fault: '%s': %s", items[i], why);
        for (j = 0; j < i; j++)
            if (strcmp(cfg->faults[j].label, cfg->faults[i].label) == 0)
                pvt_usage_error(CMD, "--fault: '%s' is listed twice", items[i]);
    }
    cfg->nfaults = n;
}

/* Fault mode's defaults, and the checks that need them. */
static void fault_defaults(struct pvt_bench_cfg *cfg, const struct args *a)
{
    int i;

    if (a->workers) {
        one_value("--workers", cfg->nworkers);
    } else {
        cfg->workers[0] = 2;
        cfg->nworkers = 1;
    }
    one_value("--distribution", cfg->ndists);
    one_value("--concurrency", cfg->nconcurrency);
    one_value("--workload", cfg->nworkloads);
    if (!GIVEN(a, OPT_DIST))
        pvt__bench_parse_dists(cfg, "rr");
    if (!GIVEN(a, OPT_CONC))
        cfg->nconcurrency =
            pvt__bench_parse_counts("--concurrency", "16", PVT_LOAD_MAX_CONNS, cfg->concurrency);
    if (!GIVEN(a, OPT_WORKLOAD))
        pvt__bench_parse_workloads(cfg, "noop");
    if (!cfg->duration_ms)
        cfg->duration_ms = 3000;
    if (!GIVEN(a, OPT_TIMEOUT))
        cfg->timeout_ms = 1000;
    if (!GIVEN(a, OPT_REPEAT))
        cfg->repeat = 3;
    if (!cfg->rate)
        cfg->rate = 5000;
    if (!cfg->worker_timeout_ms)
        cfg->worker_timeout_ms = 500;
    if (!cfg->max_rss_mb)
        cfg->max_rss_mb = 64;
    parse_faults(cfg, a->faults ? a->faults : "crash");
    if (cfg->duration_ms < 300)
        pvt_usage_error(CMD, "--duration: fault mode needs 300 ms at least (a rate before the "
                             "fault, and after)");
    for (i = 0; i < cfg->nfaults; i++) {
        struct pvt_bench_fault *f = &cfg->faults[i];
        if (f->at_ms && (f->at_ms < 100 || f->at_ms >= cfg->duration_ms))
            pvt_usage_error(CMD, "--fault: '%s': @SECONDS must be from 0.1 s to less than "
                                 "--duration (%.3g s)",
                            f->label, (double)cfg->duration_ms / 1000);
        if (f->worker >= cfg->workers[0])
            pvt_usage_error(CMD, "--fault: '%s': worker %d of %ld workers (0..%ld)", f->label,
                            f->worker, cfg->workers[0], cfg->workers[0] - 1);
        if (cfg->fault_rate > 0 && PVT_BENCH_FAULT_ALL(f->kind))
            pvt_usage_error(CMD, "--fault-rate: '%s' is not sent as a request; with a rate, "
                                 "faults are crash, abort, exit, hang, slow, leak or scribble",
                            f->label);
        if (cfg->fault_rate > 0 && (f->at_ms || f->worker >= 0))
            pvt_usage_error(CMD, "--fault-rate: '%s': @SECONDS and :worker=K do not apply (a "
                                 "share of every worker's requests is the fault, all run long)",
                            f->label);
    }
}

/* Loop mode's defaults, and the checks that need them. */
static void loop_defaults(struct pvt_bench_cfg *cfg, const struct args *a)
{
    static const char *const flags[] = {"--workers", "--concurrency", "--workload"};
    const int n[] = {cfg->nworkers, cfg->nconcurrency, cfg->nworkloads};

    for (int i = 0; i < 3; i++)
        if (n[i] > 1)
            pvt_usage_error(CMD, "%s: loop mode takes one value (its designs are the sweep)",
                            flags[i]);
    if (cfg->nworkloads == 1 && cfg->workload[0] != PVT_WL_CPU &&
        cfg->workload[0] != PVT_WL_HASH && cfg->workload[0] != PVT_WL_MEM)
        pvt_usage_error(CMD, "--workload: loop mode's heavy request is cpu, hash or mem (the "
                             "routes a pool takes)");
    if (!GIVEN(a, OPT_CONC))
        cfg->nconcurrency = pvt__bench_parse_counts("--concurrency", "4", PVT_LOAD_MAX_CONNS,
                                                    cfg->concurrency);
    if (!cfg->duration_ms)
        cfg->duration_ms = 6000;
    if (!GIVEN(a, OPT_TIMEOUT))
        cfg->timeout_ms = 10000;
    if (!GIVEN(a, OPT_REPEAT))
        cfg->repeat = 3;
    if (!cfg->rate)
        cfg->rate = 100;
}

/* Cost mode's defaults (and its preset), and the checks that need them. */
static void cost_defaults(struct pvt_bench_cfg *cfg, const struct args *a,
                          struct pvt_cost_cfg *cost)
{
    int quick = 0, i;

    if (cfg->preset && strcmp(cfg->preset, "quick") != 0)
        pvt_usage_error(CMD, "--preset: unknown preset '%s' for cost mode (quick)", cfg->preset);
    quick = cfg->preset != NULL;
    for (i = 0; i < cfg->nbackends; i++)
        if (pvt_backend_is_reference(cfg->backends[i]->name))
            pvt_usage_error(CMD, "--backend: %s is a reference pool (cost mode: proc, thread; "
                                 "the bare mechanisms always run)", cfg->backends[i]->name);
    if (!a->workers)
        cfg->nworkers = pvt__bench_parse_counts("--workers", quick ? "1,4,16" : "1,2,4,8,16,32,64",
                                     PVT_MAX_WORKERS, cfg->workers);
    if (cfg->nworkloads == 0)
        pvt__bench_parse_workloads(cfg, "mem:1M");
    if (cfg->nworkloads > 1)
        pvt_usage_error(CMD, "--workload: cost mode takes one workload (the memory and sched "
                             "sections run it)");
    if (!GIVEN(a, OPT_REPEAT))
        cfg->repeat = quick ? 3 : 5;
    pvt_cost_parse_heap(cost, a->heap ? a->heap : quick ? "10M,100M" : "10M,100M,1G");
    pvt_cost_parse_dataset(cost, a->dataset ? a->dataset : quick ? "16M" : "64M");
    pvt_cost_parse_sections(cost, a->sections ? a->sections
                                              : "startup,heap,memory,cow,sched,ipc,hop");
    pvt_cost_parse_hop(cost, a->hop_sizes        ? a->hop_sizes
                             : quick ? "1,100,10K,1M"
                                     : "1,10,100,1K,10K,100K,1M,10M");
    cost->ipc_ms = quick ? 20 : 40;
    cost->sched_ms = quick ? 50 : 100;
    cost->hop_ms = quick ? 10 : 20;
}

/* Mode, mode-only flags, presets and defaults; the whole config is checked
 * when this returns (or the process has exited with a usage error). */
int pvt__bench_check_config(struct pvt_bench_cfg *cfg, struct args *a, struct pvt_cost_cfg *cost)
{
    const struct preset *p;
    int http, fault, costm, statem, loopm, mode, i;

    if (!cfg->mode && cfg->preset)
        cfg->mode = "http";
    if (!cfg->mode)
        pvt_usage_error(CMD, "--mode: missing (tasks, http, fault, cost, state, loop)");
    http = strcmp(cfg->mode, "http") == 0;
    fault = strcmp(cfg->mode, "fault") == 0;
    costm = strcmp(cfg->mode, "cost") == 0;
    statem = strcmp(cfg->mode, "state") == 0;
    loopm = strcmp(cfg->mode, "loop") == 0;
    if (strcmp(cfg->mode, "tasks") != 0 && !http && !fault && !costm && !statem && !loopm)
        pvt_usage_error(CMD, "--mode: unknown mode '%s' (tasks, http, fault, cost, state, loop)",
                        cfg->mode);
    mode = http     ? M_HTTP
           : fault  ? M_FAULT
           : costm  ? M_COST
           : statem ? M_STATE
           : loopm  ? M_LOOP
                    : M_TASKS;
    for (i = 0; i < (int)(sizeof(mode_flags) / sizeof(mode_flags[0])); i++)
        if (GIVEN(a, mode_flags[i].opt) && !(mode_flags[i].modes & mode))
            pvt_usage_error(CMD, "--%s: %s", pvt__bench_opt_name(mode_flags[i].opt), mode_flags[i].which);
    if (cfg->nbackends == 0)
        pvt__bench_parse_backends(cfg, "proc,thread");
    if (a->workers)
        cfg->nworkers = pvt__bench_parse_counts("--workers", a->workers, PVT_MAX_WORKERS, cfg->workers);
    if (costm) {
        cost_defaults(cfg, a, cost);
        return 0;
    }
    if (statem) /* its own flags: pvt_bench_state_args, in pvt_cmd_bench */
        return 0;
    if (loopm) {
        if (resolve_cpus(cfg, a, 1) < 0)
            return -1;
        loop_defaults(cfg, a);
        return 0;
    }
    p = cfg->preset ? find_preset(cfg->preset) : NULL;
    if (!http && !fault) {
        if (cfg->nworkloads == 0)
            pvt__bench_parse_workloads(cfg, "noop,cpu:1M");
        if (!GIVEN(a, OPT_REPEAT))
            cfg->repeat = 5;
        return 0;
    }
    if (resolve_cpus(cfg, a, p != NULL || fault) < 0)
        return -1;
    if (fault)
        fault_defaults(cfg, a);
    else
        http_defaults(cfg, a, p);
    http_checks(cfg);
    return 0;
}

/* The default sweep: 1 worker, then doubling up to the allowed cores. */
void pvt__bench_default_workers(struct pvt_bench_cfg *cfg, int cores)
{
    long w;

    cfg->nworkers = 0;
    for (w = 1; w < cores && cfg->nworkers < PVT_BENCH_MAX_LIST - 1; w *= 2)
        cfg->workers[cfg->nworkers++] = w;
    cfg->workers[cfg->nworkers++] = cores;
}

