/*
 * cmd_bench.c: `pvt bench`: options, checks, the results directory, and
 * the hand-off to the mode's runner.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends.h"
#include "bench.h"
#include "bench_cost.h"
#include "bench_state.h"
#include "cli.h"
#include "load.h"
#include "parse.h"
#include "res.h"
#include "ring.h"
#include "work.h"

#define CMD "bench"

volatile sig_atomic_t pvt_bench_interrupted;

static void parse_backends(struct pvt_bench_cfg *cfg, const char *s)
{
    char buf[1024], *items[PVT_BENCH_MAX_LIST];
    int n, i, j;

    n = pvt_split_list(s, buf, sizeof(buf), items, PVT_BENCH_MAX_LIST);
    if (n < 0)
        pvt_usage_error(CMD, "--backend: '%s' is not a comma-separated list", s);
    for (i = 0; i < n; i++) {
        const struct pvt_pool_ops *ops = pvt_backend_find(items[i]);
        if (!ops)
            pvt_usage_error(CMD, "--backend: unknown backend '%s' (proc, thread%s)", items[i],
                            pvt_references[0] ? ", glib" : "");
        for (j = 0; j < i; j++)
            if (cfg->backends[j] == ops)
                pvt_usage_error(CMD, "--backend: '%s' is listed twice", items[i]);
        cfg->backends[i] = ops;
    }
    cfg->nbackends = n;
}

static void parse_workloads(struct pvt_bench_cfg *cfg, const char *s)
{
    char buf[1024], *items[PVT_BENCH_MAX_LIST];
    int n, i, rc;

    n = pvt_split_list(s, buf, sizeof(buf), items, PVT_BENCH_MAX_LIST);
    if (n < 0)
        pvt_usage_error(CMD, "--workload: '%s' is not a comma-separated list", s);
    for (i = 0; i < n; i++) {
        rc = pvt_workload_parse(items[i], &cfg->workload[i], &cfg->workload_arg[i]);
        if (rc == -ENOENT)
            pvt_usage_error(CMD, "--workload: unknown workload '%s' (noop, cpu, hash, mem, "
                                 "sleep, alloc)", items[i]);
        if (rc == -ERANGE)
            pvt_usage_error(CMD, "--workload: '%s': argument out of range", items[i]);
        if (rc < 0)
            pvt_usage_error(CMD, "--workload: '%s': malformed argument", items[i]);
        if (pvt_workloads[cfg->workload[i]].fault)
            pvt_usage_error(CMD, "--workload: '%s' is a fault, not a workload to measure",
                            items[i]);
    }
    cfg->nworkloads = n;
}

/* The default sweep: 1 worker, then doubling up to the allowed cores. */
static void default_workers(struct pvt_bench_cfg *cfg, int cores)
{
    long w;

    cfg->nworkers = 0;
    for (w = 1; w < cores && cfg->nworkers < PVT_BENCH_MAX_LIST - 1; w *= 2)
        cfg->workers[cfg->nworkers++] = w;
    cfg->workers[cfg->nworkers++] = cores;
}

static void parse_dists(struct pvt_bench_cfg *cfg, const char *s)
{
    char buf[256], *items[PVT_BENCH_MAX_LIST];
    int n, i, j, k;

    n = pvt_split_list(s, buf, sizeof(buf), items, PVT_BENCH_MAX_LIST);
    if (n < 0)
        pvt_usage_error(CMD, "--distribution: '%s' is not a comma-separated list", s);
    for (i = 0; i < n; i++) {
        for (k = 0; k < PVT_BENCH_NDIST && strcmp(items[i], pvt_bench_dists[k]) != 0; k++)
            ;
        if (k == PVT_BENCH_NDIST)
            pvt_usage_error(CMD, "--distribution: unknown '%s' (shared, reuseport, rr)",
                            items[i]);
        for (j = 0; j < i; j++)
            if (cfg->dists[j] == pvt_bench_dists[k])
                pvt_usage_error(CMD, "--distribution: '%s' is listed twice", items[i]);
        cfg->dists[i] = pvt_bench_dists[k];
    }
    cfg->ndists = n;
}

/* A list of counts in [1, max] for flag, or a usage error. Returns the count. */
static int parse_counts(const char *flag, const char *s, long max, long *out)
{
    int n = pvt_parse_int_list(s, 1, max, out, PVT_BENCH_MAX_LIST);

    if (n == -ERANGE)
        pvt_usage_error(CMD, "%s: '%s': each count must be 1..%ld, at most %d of them", flag, s,
                        max, PVT_BENCH_MAX_LIST);
    if (n < 0)
        pvt_usage_error(CMD, "%s: '%s' is not a list of counts such as 1,2,4 or 1-8", flag, s);
    return n;
}

/* "3" and "0.5" (seconds), "2s", "500ms": from 10 ms to an hour. */
static uint64_t parse_seconds(const char *s)
{
    char buf[64];
    uint64_t ms;
    int rc = pvt_parse_duration_ms(s, &ms);

    if (rc == -EINVAL && strlen(s) < sizeof(buf) - 1) {
        snprintf(buf, sizeof(buf), "%ss", s);
        rc = pvt_parse_duration_ms(buf, &ms);
    }
    if (rc < 0 || ms < 10 || ms > 3600000)
        pvt_usage_error(CMD, "--duration: '%s' is not 10ms to 3600s (3, 0.5, 500ms)", s);
    return ms;
}

/* A probability: 0 (excluded) to 1. */
static double parse_share(const char *flag, const char *s)
{
    char *end;
    double p;

    errno = 0;
    p = strtod(s, &end);
    if (!*s || *end || errno || !(p > 0) || p > 1)
        pvt_usage_error(CMD, "%s: '%s' is not a probability from 0 (excluded) to 1, e.g. 0.001",
                        flag, s);
    return p;
}

static double parse_rate(const char *s)
{
    char *end;
    double r;

    errno = 0;
    r = strtod(s, &end);
    if (!*s || *end || errno || !(r >= 1) || r > 1e6)
        pvt_usage_error(CMD, "--rate: '%s' is not a rate from 1 to 1e6 requests/s", s);
    return r;
}

enum {
    OPT_MODE = 256,
    OPT_BACKEND,
    OPT_WORKERS,
    OPT_WORKLOAD,
    OPT_JOBS,
    OPT_TARGET,
    OPT_REPEAT,
    OPT_WARMUP,
    OPT_PIN,
    OPT_UNIT,
    OPT_DEPTH,
    OPT_OUT,
    OPT_QUIET,
    OPT_DIST,
    OPT_CONC,
    OPT_DURATION,
    OPT_REQUESTS,
    OPT_TIMEOUT,
    OPT_THREADS,
    OPT_SERVER_CPUS,
    OPT_CLIENT_CPUS,
    OPT_PRESET,
    OPT_FAULT,
    OPT_RATE,
    OPT_FAULT_RATE,
    OPT_WTIMEOUT,
    OPT_MAXRSS,
    OPT_SECTION,
    OPT_HEAP,
    OPT_DATASET,
    OPT_VARIANT,
    OPT_UPDATES,
    OPT_BATCH,
    OPT_END_ /* after the last: GIVEN() has a bit for each option before it */
};

static const struct option opts[] = {
    {"mode", required_argument, NULL, OPT_MODE},
    {"backend", required_argument, NULL, OPT_BACKEND},
    {"workers", required_argument, NULL, OPT_WORKERS},
    {"workload", required_argument, NULL, OPT_WORKLOAD},
    {"jobs", required_argument, NULL, OPT_JOBS},
    {"target", required_argument, NULL, OPT_TARGET},
    {"repeat", required_argument, NULL, OPT_REPEAT},
    {"warmup", required_argument, NULL, OPT_WARMUP},
    {"pin", required_argument, NULL, OPT_PIN},
    {"unit", required_argument, NULL, OPT_UNIT},
    {"queue-depth", required_argument, NULL, OPT_DEPTH},
    {"out", required_argument, NULL, OPT_OUT},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"distribution", required_argument, NULL, OPT_DIST},
    {"concurrency", required_argument, NULL, OPT_CONC},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"requests", required_argument, NULL, OPT_REQUESTS},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"server-cpus", required_argument, NULL, OPT_SERVER_CPUS},
    {"client-cpus", required_argument, NULL, OPT_CLIENT_CPUS},
    {"preset", required_argument, NULL, OPT_PRESET},
    {"fault", required_argument, NULL, OPT_FAULT},
    {"rate", required_argument, NULL, OPT_RATE},
    {"fault-rate", required_argument, NULL, OPT_FAULT_RATE},
    {"worker-timeout", required_argument, NULL, OPT_WTIMEOUT},
    {"max-rss", required_argument, NULL, OPT_MAXRSS},
    {"section", required_argument, NULL, OPT_SECTION},
    {"heap", required_argument, NULL, OPT_HEAP},
    {"dataset", required_argument, NULL, OPT_DATASET},
    {"variant", required_argument, NULL, OPT_VARIANT},
    {"updates", required_argument, NULL, OPT_UPDATES},
    {"batch", required_argument, NULL, OPT_BATCH},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* What the command line said, beyond what parse_args stores in the config. */
struct args {
    const char *workers, *server_cpus, *client_cpus, *faults;
    const char *sections, *heap, *dataset; /* cost mode */
    const char *variants, *updates, *batch; /* state mode */
    uint64_t given; /* bit (OPT_x - OPT_MODE) for each flag that appeared */
};
_Static_assert(OPT_END_ - OPT_MODE <= 64, "args.given has a bit for every option");

#define GIVEN(a, opt) (((a)->given >> ((opt)-OPT_MODE)) & 1u)

/* The modes a flag belongs to, where not all; naming it in another mode is
 * a usage error. */
enum { M_TASKS = 1, M_HTTP = 2, M_FAULT = 4, M_COST = 8, M_STATE = 16 };
static const struct {
    int opt, modes;
    const char *which;
} mode_flags[] = {
    {OPT_JOBS, M_TASKS, "tasks mode only"},
    {OPT_TARGET, M_TASKS | M_STATE, "tasks and state modes only"},
    {OPT_DEPTH, M_TASKS, "tasks mode only"},
    {OPT_WARMUP, M_TASKS | M_HTTP | M_COST,
     "tasks, http and cost modes only (a fault run starts a fresh server)"},
    {OPT_DIST, M_HTTP | M_FAULT, "http and fault modes only"},
    {OPT_CONC, M_HTTP | M_FAULT, "http and fault modes only"},
    {OPT_DURATION, M_HTTP | M_FAULT, "http and fault modes only"},
    {OPT_REQUESTS, M_HTTP, "http mode only"},
    {OPT_TIMEOUT, M_HTTP | M_FAULT, "http and fault modes only"},
    {OPT_THREADS, M_HTTP | M_FAULT, "http and fault modes only"},
    {OPT_SERVER_CPUS, M_HTTP | M_FAULT, "http and fault modes only"},
    {OPT_CLIENT_CPUS, M_HTTP | M_FAULT, "http and fault modes only"},
    {OPT_PRESET, M_HTTP | M_COST, "http and cost modes only"},
    {OPT_FAULT, M_FAULT, "fault mode only"},
    {OPT_RATE, M_FAULT, "fault mode only"},
    {OPT_FAULT_RATE, M_FAULT, "fault mode only"},
    {OPT_WTIMEOUT, M_FAULT, "fault mode only"},
    {OPT_MAXRSS, M_FAULT, "fault mode only"},
    {OPT_SECTION, M_COST, "cost mode only"},
    {OPT_HEAP, M_COST, "cost mode only"},
    {OPT_DATASET, M_COST, "cost mode only"},
    {OPT_WORKLOAD, M_TASKS | M_HTTP | M_FAULT | M_COST,
     "not in state mode (its workload is the counter)"},
    {OPT_VARIANT, M_STATE, "state mode only"},
    {OPT_UPDATES, M_STATE, "state mode only"},
    {OPT_BATCH, M_STATE, "state mode only"},
};

static const char *opt_name(int val)
{
    const struct option *o;

    for (o = opts; o->name; o++)
        if (o->val == val)
            return o->name;
    return "?";
}

static void parse_args(struct pvt_bench_cfg *cfg, int argc, char **argv, struct args *a)
{
    uint64_t n;
    int c, rc;
    long v;

    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c >= OPT_MODE && c < OPT_END_)
            a->given |= (uint64_t)1 << (c - OPT_MODE);
        switch (c) {
        case OPT_MODE:
            cfg->mode = optarg;
            break;
        case OPT_BACKEND:
            parse_backends(cfg, optarg);
            break;
        case OPT_WORKERS:
            a->workers = optarg;
            break;
        case OPT_WORKLOAD:
            parse_workloads(cfg, optarg);
            break;
        case OPT_JOBS:
            rc = pvt_parse_count(optarg, &cfg->jobs);
            if (rc < 0 || cfg->jobs == 0 || cfg->jobs > 1000000000000ull)
                pvt_usage_error(CMD, "--jobs: '%s' is not a count from 1 to 1T", optarg);
            break;
        case OPT_TARGET:
            rc = pvt_parse_duration_ms(optarg, &cfg->target_ms);
            if (rc < 0 || cfg->target_ms == 0 || cfg->target_ms > 3600000)
                pvt_usage_error(CMD, "--target: '%s' is not a duration such as 250ms or 2s",
                                optarg);
            break;
        case OPT_REPEAT:
            cfg->repeat = (int)pvt_cli_long(CMD, "--repeat", optarg, 1, 1000);
            break;
        case OPT_WARMUP:
            cfg->warmup = (int)pvt_cli_long(CMD, "--warmup", optarg, 0, 100);
            break;
        case OPT_PIN:
            if (pvt_place_parse_policy(optarg, &cfg->pin) < 0)
                pvt_usage_error(CMD, "--pin: unknown policy '%s' (none, compact, scatter)", optarg);
            break;
        case OPT_UNIT:
            if (pvt_place_parse_unit(optarg, &cfg->unit) < 0)
                pvt_usage_error(CMD, "--unit: unknown unit '%s' (core, pu)", optarg);
            break;
        case OPT_DEPTH:
            v = pvt_cli_long(CMD, "--queue-depth", optarg, 2, PVT_RING_MAX_DEPTH);
            if (v & (v - 1))
                pvt_usage_error(CMD, "--queue-depth: %ld is not a power of two", v);
            cfg->queue_depth = (unsigned)v;
            break;
        case OPT_OUT:
            if (!*optarg)
                pvt_usage_error(CMD, "--out: empty directory name");
            cfg->out = optarg;
            break;
        case OPT_QUIET:
            cfg->quiet = 1;
            break;
        case OPT_DIST:
            parse_dists(cfg, optarg);
            break;
        case OPT_CONC:
            cfg->nconcurrency =
                parse_counts("--concurrency", optarg, PVT_LOAD_MAX_CONNS, cfg->concurrency);
            break;
        case OPT_DURATION:
            cfg->duration_ms = parse_seconds(optarg);
            break;
        case OPT_REQUESTS:
            if (pvt_parse_count(optarg, &n) < 0 || n == 0 || n > 1000000000000ull)
                pvt_usage_error(CMD, "--requests: '%s' is not a count from 1 to 1T", optarg);
            cfg->requests = n;
            break;
        case OPT_TIMEOUT:
            cfg->timeout_ms = (uint64_t)pvt_cli_long(CMD, "--timeout", optarg, 1, 3600000);
            break;
        case OPT_THREADS:
            cfg->threads = (int)pvt_cli_long(CMD, "--threads", optarg, 1, PVT_LOAD_MAX_THREADS);
            break;
        case OPT_SERVER_CPUS:
            a->server_cpus = optarg;
            break;
        case OPT_CLIENT_CPUS:
            a->client_cpus = optarg;
            break;
        case OPT_PRESET:
            cfg->preset = optarg;
            break;
        case OPT_FAULT:
            a->faults = optarg;
            break;
        case OPT_FAULT_RATE:
            cfg->fault_rate = parse_share("--fault-rate", optarg);
            break;
        case OPT_RATE:
            cfg->rate = parse_rate(optarg);
            break;
        case OPT_WTIMEOUT:
            cfg->worker_timeout_ms = (int)pvt_cli_long(CMD, "--worker-timeout", optarg, 200,
                                                       86400000);
            break;
        case OPT_MAXRSS:
            cfg->max_rss_mb = pvt_cli_long(CMD, "--max-rss", optarg, 1, 1 << 20);
            break;
        case OPT_SECTION:
            a->sections = optarg;
            break;
        case OPT_HEAP:
            a->heap = optarg;
            break;
        case OPT_DATASET:
            a->dataset = optarg;
            break;
        case OPT_VARIANT:
            a->variants = optarg;
            break;
        case OPT_UPDATES:
            a->updates = optarg;
            break;
        case OPT_BATCH:
            a->batch = optarg;
            break;
        case 'h':
            pvt__bench_help();
            exit(PVT_EXIT_OK);
        default:
            pvt_cli_bad_option(CMD, c, opts, argv);
        }
    }
    if (optind < argc)
        pvt_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
}

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
        parse_dists(cfg, p ? p->dists : "shared,reuseport,rr");
    if (!GIVEN(a, OPT_CONC))
        cfg->nconcurrency = parse_counts("--concurrency", p ? p->concurrency : "1,16,64",
                                         PVT_LOAD_MAX_CONNS, cfg->concurrency);
    if (!GIVEN(a, OPT_WORKLOAD))
        parse_workloads(cfg, p ? p->workloads : "noop");
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
        default_workers(cfg, nserver);
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
        parse_dists(cfg, "rr");
    if (!GIVEN(a, OPT_CONC))
        cfg->nconcurrency =
            parse_counts("--concurrency", "16", PVT_LOAD_MAX_CONNS, cfg->concurrency);
    if (!GIVEN(a, OPT_WORKLOAD))
        parse_workloads(cfg, "noop");
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
                                 "faults are crash, abort, exit, hang, slow or leak",
                            f->label);
        if (cfg->fault_rate > 0 && (f->at_ms || f->worker >= 0))
            pvt_usage_error(CMD, "--fault-rate: '%s': @SECONDS and :worker=K do not apply (a "
                                 "share of every worker's requests is the fault, all run long)",
                            f->label);
    }
}

/* Cost mode's defaults (and its preset), and the checks that need them. */
static void cost_defaults(struct pvt_bench_cfg *cfg, const struct args *a,
                          struct pvt_cost_cfg *cost)
{
    const struct pvt_pool_ops *const *b;
    int quick = 0, i;

    if (cfg->preset && strcmp(cfg->preset, "quick") != 0)
        pvt_usage_error(CMD, "--preset: unknown preset '%s' for cost mode (quick)", cfg->preset);
    quick = cfg->preset != NULL;
    for (i = 0; i < cfg->nbackends; i++) {
        for (b = pvt_backends; *b && *b != cfg->backends[i]; b++)
            ;
        if (!*b)
            pvt_usage_error(CMD, "--backend: %s is a reference pool (cost mode: proc, thread; "
                                 "the bare mechanisms always run)", cfg->backends[i]->name);
    }
    if (!a->workers)
        cfg->nworkers = parse_counts("--workers", quick ? "1,4,16" : "1,2,4,8,16,32,64",
                                     PVT_MAX_WORKERS, cfg->workers);
    if (cfg->nworkloads == 0)
        parse_workloads(cfg, "mem:1M");
    if (cfg->nworkloads > 1)
        pvt_usage_error(CMD, "--workload: cost mode takes one workload (the memory and sched "
                             "sections run it)");
    if (!GIVEN(a, OPT_REPEAT))
        cfg->repeat = quick ? 3 : 5;
    pvt_cost_parse_heap(cost, a->heap ? a->heap : quick ? "10M,100M" : "10M,100M,1G");
    pvt_cost_parse_dataset(cost, a->dataset ? a->dataset : quick ? "16M" : "64M");
    pvt_cost_parse_sections(cost, a->sections ? a->sections : "startup,heap,memory,cow,sched,ipc");
    cost->ipc_ms = quick ? 20 : 40;
    cost->sched_ms = quick ? 50 : 100;
}

/* Mode, mode-only flags, presets and defaults; the whole config is checked
 * when this returns (or the process has exited with a usage error). */
static int check_config(struct pvt_bench_cfg *cfg, struct args *a, struct pvt_cost_cfg *cost)
{
    const struct preset *p;
    int http, fault, costm, statem, mode, i;

    if (!cfg->mode && cfg->preset)
        cfg->mode = "http";
    if (!cfg->mode)
        pvt_usage_error(CMD, "--mode: missing (tasks, http, fault, cost, state)");
    http = strcmp(cfg->mode, "http") == 0;
    fault = strcmp(cfg->mode, "fault") == 0;
    costm = strcmp(cfg->mode, "cost") == 0;
    statem = strcmp(cfg->mode, "state") == 0;
    if (strcmp(cfg->mode, "tasks") != 0 && !http && !fault && !costm && !statem)
        pvt_usage_error(CMD, "--mode: unknown mode '%s' (tasks, http, fault, cost, state)",
                        cfg->mode);
    mode = http ? M_HTTP : fault ? M_FAULT : costm ? M_COST : statem ? M_STATE : M_TASKS;
    for (i = 0; i < (int)(sizeof(mode_flags) / sizeof(mode_flags[0])); i++)
        if (GIVEN(a, mode_flags[i].opt) && !(mode_flags[i].modes & mode))
            pvt_usage_error(CMD, "--%s: %s", opt_name(mode_flags[i].opt), mode_flags[i].which);
    if (cfg->nbackends == 0)
        parse_backends(cfg, "proc,thread");
    if (a->workers)
        cfg->nworkers = parse_counts("--workers", a->workers, PVT_MAX_WORKERS, cfg->workers);
    if (costm) {
        cost_defaults(cfg, a, cost);
        return 0;
    }
    if (statem) /* its own flags: pvt_bench_state_args, in pvt_cmd_bench */
        return 0;
    p = cfg->preset ? find_preset(cfg->preset) : NULL;
    if (!http && !fault) {
        if (cfg->nworkloads == 0)
            parse_workloads(cfg, "noop,cpu:1M");
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

static void on_signal(int sig)
{
    (void)sig;
    pvt_bench_interrupted = 1;
}

int pvt_cmd_bench(int argc, char **argv)
{
    struct pvt_bench_cfg cfg = {
        .mode = NULL,
        .target_ms = 250,
        .warmup = 1,
        .pin = PVT_PLACE_COMPACT,
        .unit = PVT_UNIT_CORE,
    };
    struct args a = {0};
    struct pvt_cost_cfg cost = {0};
    struct pvt_topo *topo = NULL;
    struct sigaction sa = {.sa_handler = on_signal};
    char dir[4096];
    struct pvt_state_cfg state = {0};
    int rc, http, fault, costm, statem;

    parse_args(&cfg, argc, argv, &a);
    if (check_config(&cfg, &a, &cost) < 0)
        return PVT_EXIT_FAIL;
    http = strcmp(cfg.mode, "http") == 0;
    fault = strcmp(cfg.mode, "fault") == 0;
    costm = strcmp(cfg.mode, "cost") == 0;
    statem = strcmp(cfg.mode, "state") == 0;
    if (statem)
        pvt_bench_state_args(&cfg, GIVEN(&a, OPT_BACKEND), GIVEN(&a, OPT_REPEAT), a.variants,
                             a.updates, a.batch, &state);

    rc = pvt_topo_load(&topo);
    if (rc < 0) {
        pvt_err(CMD, "cannot read the CPU topology: %s", strerror(-rc));
        return PVT_EXIT_FAIL;
    }
    if (!a.workers && !http && !fault && !costm)
        default_workers(&cfg, pvt_place_default_workers(topo));

    /* Everything is checked; only now does a results directory appear. */
    rc = pvt_res_prepare_dir(cfg.out, cfg.mode, dir, sizeof(dir));
    if (rc < 0) {
        pvt_err(CMD, "--out: cannot use '%s': %s", cfg.out ? cfg.out : "results/", strerror(-rc));
        pvt_topo_free(topo);
        return PVT_EXIT_FAIL;
    }

    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    rc = http    ? pvt_bench_http(&cfg, topo, dir)
         : fault ? pvt_bench_fault(&cfg, topo, dir)
         : costm ? pvt_bench_cost(&cfg, &cost, topo, dir)
         : statem ? pvt_bench_state(&cfg, &state, topo, dir)
                 : pvt_bench_tasks(&cfg, topo, dir);
    pvt_topo_free(topo);
    return rc;
}
