/*
 * cmd_bench_parse.c: `pvt bench`'s flags read into the config and the
 * command line's other values (struct args), each value checked alone; the
 * lists (backends, workloads, distributions, counts) are parsed here for
 * the flags and for the defaults of cmd_bench_cfg.c alike.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/backends/backends.h"
#include "bench/common/bench.h"
#include "bench/common/cli.h"
#include "cmd_bench_int.h"
#include "bench/load/load.h"
#include "shared/base/parse.h"
#include "shared/core/ring.h"
#include "shared/work/work.h"

void pvt__bench_parse_backends(struct pvt_bench_cfg *cfg, const char *s)
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

void pvt__bench_parse_workloads(struct pvt_bench_cfg *cfg, const char *s)
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

void pvt__bench_parse_dists(struct pvt_bench_cfg *cfg, const char *s)
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

int pvt__bench_parse_counts(const char *flag, const char *s, long max, long *out)
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
    {"hop-sizes", required_argument, NULL, OPT_HOP_SIZES},
    {"variant", required_argument, NULL, OPT_VARIANT},
    {"updates", required_argument, NULL, OPT_UPDATES},
    {"batch", required_argument, NULL, OPT_BATCH},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

const char *pvt__bench_opt_name(int val)
{
    const struct option *o;

    for (o = opts; o->name; o++)
        if (o->val == val)
            return o->name;
    return "?";
}

/* The flags of every mode: what runs, how often, where, and where to. 1 if
 * c is one of them. */
static int general_flag(struct pvt_bench_cfg *cfg, int c, const char *arg)
{
    switch (c) {
    case OPT_MODE:
        cfg->mode = arg;
        break;
    case OPT_BACKEND:
        pvt__bench_parse_backends(cfg, arg);
        break;
    case OPT_WORKLOAD:
        pvt__bench_parse_workloads(cfg, arg);
        break;
    case OPT_REPEAT:
        cfg->repeat = (int)pvt_cli_long(CMD, "--repeat", arg, 1, 1000);
        break;
    case OPT_WARMUP:
        cfg->warmup = (int)pvt_cli_long(CMD, "--warmup", arg, 0, 100);
        break;
    case OPT_PIN:
        if (pvt_place_parse_policy(arg, &cfg->pin) < 0)
            pvt_usage_error(CMD, "--pin: unknown policy '%s' (none, compact, scatter)", arg);
        break;
    case OPT_UNIT:
        if (pvt_place_parse_unit(arg, &cfg->unit) < 0)
            pvt_usage_error(CMD, "--unit: unknown unit '%s' (core, pu)", arg);
        break;
    case OPT_OUT:
        if (!*arg)
            pvt_usage_error(CMD, "--out: empty directory name");
        cfg->out = arg;
        break;
    case OPT_QUIET:
        cfg->quiet = 1;
        break;
    case OPT_PRESET:
        cfg->preset = arg;
        break;
    default:
        return 0;
    }
    return 1;
}

/* Tasks mode's flags (and --target, which state mode shares). 1 if c is
 * one of them. */
static int tasks_flag(struct pvt_bench_cfg *cfg, int c, const char *arg)
{
    long v;
    int rc;

    switch (c) {
    case OPT_JOBS:
        rc = pvt_parse_count(arg, &cfg->jobs);
        if (rc < 0 || cfg->jobs == 0 || cfg->jobs > 1000000000000ull)
            pvt_usage_error(CMD, "--jobs: '%s' is not a count from 1 to 1T", arg);
        break;
    case OPT_TARGET:
        rc = pvt_parse_duration_ms(arg, &cfg->target_ms);
        if (rc < 0 || cfg->target_ms == 0 || cfg->target_ms > 3600000)
            pvt_usage_error(CMD, "--target: '%s' is not a duration such as 250ms or 2s", arg);
        break;
    case OPT_DEPTH:
        v = pvt_cli_long(CMD, "--queue-depth", arg, 2, PVT_RING_MAX_DEPTH);
        if (v & (v - 1))
            pvt_usage_error(CMD, "--queue-depth: %ld is not a power of two", v);
        cfg->queue_depth = (unsigned)v;
        break;
    default:
        return 0;
    }
    return 1;
}

/* The flags of the load generator and of fault mode's server. 1 if c is
 * one of them. */
static int load_flag(struct pvt_bench_cfg *cfg, int c, const char *arg)
{
    uint64_t n;

    switch (c) {
    case OPT_DIST:
        pvt__bench_parse_dists(cfg, arg);
        break;
    case OPT_CONC:
        cfg->nconcurrency =
            pvt__bench_parse_counts("--concurrency", arg, PVT_LOAD_MAX_CONNS, cfg->concurrency);
        break;
    case OPT_DURATION:
        cfg->duration_ms = parse_seconds(arg);
        break;
    case OPT_REQUESTS:
        if (pvt_parse_count(arg, &n) < 0 || n == 0 || n > 1000000000000ull)
            pvt_usage_error(CMD, "--requests: '%s' is not a count from 1 to 1T", arg);
        cfg->requests = n;
        break;
    case OPT_TIMEOUT:
        cfg->timeout_ms = (uint64_t)pvt_cli_long(CMD, "--timeout", arg, 1, 3600000);
        break;
    case OPT_THREADS:
        cfg->threads = (int)pvt_cli_long(CMD, "--threads", arg, 1, PVT_LOAD_MAX_THREADS);
        break;
    case OPT_FAULT_RATE:
        cfg->fault_rate = parse_share("--fault-rate", arg);
        break;
    case OPT_RATE:
        cfg->rate = parse_rate(arg);
        break;
    case OPT_WTIMEOUT:
        cfg->worker_timeout_ms = (int)pvt_cli_long(CMD, "--worker-timeout", arg, 200, 86400000);
        break;
    case OPT_MAXRSS:
        cfg->max_rss_mb = pvt_cli_long(CMD, "--max-rss", arg, 1, 1 << 20);
        break;
    default:
        return 0;
    }
    return 1;
}

/* The flags kept as text, read once the mode is known (cmd_bench_cfg.c, or
 * the mode's own parser). 1 if c is one of them. */
static int text_flag(struct args *a, int c, const char *arg)
{
    switch (c) {
    case OPT_WORKERS:
        a->workers = arg;
        break;
    case OPT_SERVER_CPUS:
        a->server_cpus = arg;
        break;
    case OPT_CLIENT_CPUS:
        a->client_cpus = arg;
        break;
    case OPT_FAULT:
        a->faults = arg;
        break;
    case OPT_SECTION:
        a->sections = arg;
        break;
    case OPT_HEAP:
        a->heap = arg;
        break;
    case OPT_DATASET:
        a->dataset = arg;
        break;
    case OPT_HOP_SIZES:
        a->hop_sizes = arg;
        break;
    case OPT_VARIANT:
        a->variants = arg;
        break;
    case OPT_UPDATES:
        a->updates = arg;
        break;
    case OPT_BATCH:
        a->batch = arg;
        break;
    default:
        return 0;
    }
    return 1;
}

void pvt__bench_parse_args(struct pvt_bench_cfg *cfg, int argc, char **argv, struct args *a)
{
    int c;

    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c >= OPT_MODE && c < OPT_END_)
            a->given |= (uint64_t)1 << (c - OPT_MODE);
        if (c == 'h') {
            pvt__bench_help();
            exit(PVT_EXIT_OK);
        }
        if (!general_flag(cfg, c, optarg) && !tasks_flag(cfg, c, optarg) &&
            !load_flag(cfg, c, optarg) && !text_flag(a, c, optarg))
            pvt_cli_bad_option(CMD, c, opts, argv);
    }
    if (optind < argc)
        pvt_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
}
