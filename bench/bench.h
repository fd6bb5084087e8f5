/*
 * bench.h: `pvt bench`: its configuration, filled with defaults, then from
 * the command line, then checked as a whole before anything runs.
 */
#ifndef PVT_BENCH_H
#define PVT_BENCH_H

#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "place.h"
#include "pvt.h"

#define PVT_BENCH_MAX_LIST 64

/* The ways `pvt serve` shares its port, in the order a default sweep runs them. */
#define PVT_BENCH_NDIST 3
extern const char *const pvt_bench_dists[PVT_BENCH_NDIST];

struct pvt_bench_cfg {
    const char *mode;
    const struct pvt_pool_ops *backends[PVT_BENCH_MAX_LIST];
    int nbackends;
    long workers[PVT_BENCH_MAX_LIST];
    int nworkers;
    uint32_t workload[PVT_BENCH_MAX_LIST];
    uint64_t workload_arg[PVT_BENCH_MAX_LIST];
    int nworkloads;
    uint64_t jobs;      /* 0: chosen per workload from --target */
    uint64_t target_ms; /* how long one repetition should take with auto jobs */
    int repeat;
    int warmup;
    enum pvt_place_policy pin;
    enum pvt_place_unit unit;
    unsigned queue_depth;
    const char *out; /* NULL: a new directory under results/ */
    int quiet;

    /* http mode: `pvt serve` against `pvt load`, each a child on its own CPUs. */
    const char *preset;                 /* NULL, "concurrency-table", "heavy-burst" */
    const char *dists[PVT_BENCH_NDIST]; /* "shared", "reuseport", "rr" */
    int ndists;
    long concurrency[PVT_BENCH_MAX_LIST]; /* pvt load -c */
    int nconcurrency;
    uint64_t duration_ms; /* pvt load -d of a measured run ... */
    uint64_t requests;    /* ... or, when > 0, pvt load -n */
    uint64_t timeout_ms;  /* pvt load --timeout */
    int threads;          /* pvt load -t at most; 0: one per client CPU */
    cpu_set_t server_cpus, client_cpus;
    int cpus_shared; /* 1: server and client were given the same CPUs */
};

/* Set by SIGINT/SIGTERM: finish the current repetition's bookkeeping, write
 * what is done, reap every worker and exit. */
extern volatile sig_atomic_t pvt_bench_interrupted;

/* Run the task-mode sweep. Returns a process exit code. */
int pvt_bench_tasks(const struct pvt_bench_cfg *cfg, struct pvt_topo *topo, const char *dir);

/* Run the http-mode sweep (cfg checked, CPU sets resolved). Returns a process
 * exit code: 0, 1 for a failure, 130 when interrupted. */
int pvt_bench_http(const struct pvt_bench_cfg *cfg, struct pvt_topo *topo, const char *dir);

/*
 * The URL path `pvt serve` answers workload (wl, arg) on: "/", "/cpu?n=N",
 * "/hash?bytes=B", "/mem?bytes=B", "/sleep?ms=MS". Returns the length, or
 * -ENOENT for a workload without a route (alloc), -ERANGE for an argument the
 * route refuses, -ENOSPC when len is too small.
 */
int pvt_bench_route(uint32_t wl, uint64_t arg, char *buf, size_t len);

/* The median of v (sorted in place); "41.2M", "950k", "12.0" for a table. */
double pvt_bench_median(double *v, int n);
const char *pvt_bench_human(double v, char *buf, size_t len);

#endif
