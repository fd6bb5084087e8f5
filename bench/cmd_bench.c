/*
 * cmd_bench.c: `pvt bench`: options, checks, the results directory, and
 * the hand-off to the mode's runner.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends.h"
#include "bench.h"
#include "cli.h"
#include "parse.h"
#include "res.h"
#include "ring.h"
#include "work.h"

#define CMD "bench"

volatile sig_atomic_t pvt_bench_interrupted;

static void help(void)
{
    const struct pvt_pool_ops *const *b;
    int i;

    printf("usage: pvt bench --mode tasks [OPTIONS]\n\n"
           "Runs every combination of backend x workers x workload, --repeat times each\n"
           "after --warmup unrecorded runs, prints a table and writes DIR/meta.json and\n"
           "DIR/results.csv (see results/README.md).\n\n"
           "  --mode MODE          tasks: jobs through a queue, no network (the only mode so far)\n"
           "  --backend LIST       backends to compare (default proc,thread):\n");
    for (b = pvt_backends; *b; b++)
        printf("                         %-7s %s\n", (*b)->name, (*b)->summary);
    for (b = pvt_references; *b; b++)
        printf("                         %-7s %s\n", (*b)->name, (*b)->summary);
    printf("  --workers LIST       worker counts, e.g. 1,2,4 or 1-8 (default 1 and the cores)\n"
           "  --workload LIST      workloads, NAME or NAME:ARG (default noop,cpu:1M):\n");
    for (i = 0; i < PVT_WL_COUNT; i++)
        printf("                         %-7s %s\n", pvt_workloads[i].name, pvt_workloads[i].summary);
    printf("  --jobs N             jobs per repetition (default: enough for --target)\n"
           "  --target DURATION    aim of one repetition when --jobs is not given (default 250ms)\n"
           "  --repeat R           recorded repetitions of each configuration (default 5)\n"
           "  --warmup W           unrecorded repetitions before them (default 1)\n"
           "  --pin POLICY         none, compact or scatter (default compact)\n"
           "  --unit UNIT          core or pu: what one worker is pinned to (default core)\n"
           "  --queue-depth N      jobs in flight per worker, a power of two (default 4096)\n"
           "  --out DIR            results directory, new or empty (default results/DATE-TIME-MODE)\n"
           "  --quiet              no progress line\n"
           "  -h, --help           this help\n");
}

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

enum { OPT_MODE = 256, OPT_BACKEND, OPT_WORKERS, OPT_WORKLOAD, OPT_JOBS, OPT_TARGET, OPT_REPEAT,
       OPT_WARMUP, OPT_PIN, OPT_UNIT, OPT_DEPTH, OPT_OUT, OPT_QUIET };

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
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void parse_args(struct pvt_bench_cfg *cfg, int argc, char **argv, const char **workers)
{
    int c, rc;
    long v;

    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_MODE:
            cfg->mode = optarg;
            break;
        case OPT_BACKEND:
            parse_backends(cfg, optarg);
            break;
        case OPT_WORKERS:
            *workers = optarg;
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
        case 'h':
            help();
            exit(PVT_EXIT_OK);
        default:
            pvt_cli_bad_option(CMD, c, opts, argv);
        }
    }
    if (optind < argc)
        pvt_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
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
        .repeat = 5,
        .warmup = 1,
        .pin = PVT_PLACE_COMPACT,
        .unit = PVT_UNIT_CORE,
    };
    const char *workers = NULL;
    struct pvt_topo *topo = NULL;
    struct sigaction sa = {.sa_handler = on_signal};
    char dir[4096];
    int rc, n;

    parse_args(&cfg, argc, argv, &workers);
    if (!cfg.mode)
        pvt_usage_error(CMD, "--mode: missing (tasks)");
    if (strcmp(cfg.mode, "tasks") != 0)
        pvt_usage_error(CMD, "--mode: '%s' is not available in this version (tasks)", cfg.mode);
    if (cfg.nbackends == 0)
        parse_backends(&cfg, "proc,thread");
    if (cfg.nworkloads == 0)
        parse_workloads(&cfg, "noop,cpu:1M");
    if (workers) {
        n = pvt_parse_int_list(workers, 1, PVT_MAX_WORKERS, cfg.workers, PVT_BENCH_MAX_LIST);
        if (n == -ERANGE)
            pvt_usage_error(CMD, "--workers: '%s': each count must be 1..%d, at most %d of them",
                            workers, PVT_MAX_WORKERS, PVT_BENCH_MAX_LIST);
        if (n < 0)
            pvt_usage_error(CMD, "--workers: '%s' is not a list of counts such as 1,2,4 or 1-8",
                            workers);
        cfg.nworkers = n;
    }

    rc = pvt_topo_load(&topo);
    if (rc < 0) {
        pvt_err(CMD, "cannot read the CPU topology: %s", strerror(-rc));
        return PVT_EXIT_FAIL;
    }
    if (!workers)
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
    rc = pvt_bench_tasks(&cfg, topo, dir);
    pvt_topo_free(topo);
    return rc;
}
