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

#include "shared/core/place.h"
#include "shared/core/pvt.h"

#define PVT_BENCH_MAX_LIST 64

/* The ways `pvt serve` shares its port, in the order a default sweep runs them. */
#define PVT_BENCH_NDIST 3
extern const char *const pvt_bench_dists[PVT_BENCH_NDIST];

/* Fault mode's faults (fault_spec.c), in the order --help lists them. */
enum pvt_bench_fault_kind {
    PVT_FK_CRASH,   /* GET /crash: SIGSEGV */
    PVT_FK_ABORT,   /* GET /abort */
    PVT_FK_EXIT,    /* GET /exit?code=PVT_BENCH_EXIT_CODE */
    PVT_FK_HANG,    /* GET /hang, the server under --worker-timeout */
    PVT_FK_SLOW,    /* GET /slow?ms=PVT_BENCH_SLOW_MS */
    PVT_FK_LEAK,    /* GET /leak?mb=PVT_BENCH_LEAK_MB until recycled (proc, --max-rss) */
    PVT_FK_RECYCLE, /* no request: the server under --max-jobs (proc) */
    PVT_FK_RESTART, /* no request: SIGHUP to the server, a rolling restart */
    PVT_FK_SCRIBBLE, /* GET /scribble: the worker overwrites what it shares with its driver */
    PVT_FK_COUNT
};
extern const char *const pvt_bench_fault_names[PVT_FK_COUNT];
/* 1 for the faults that hit every worker, not one (recycle, restart). */
#define PVT_BENCH_FAULT_ALL(kind) ((kind) == PVT_FK_RECYCLE || (kind) == PVT_FK_RESTART)
#define PVT_BENCH_EXIT_CODE 1
#define PVT_BENCH_SLOW_MS 500
#define PVT_BENCH_LEAK_MB 16

/* One --fault item: KIND[@SECONDS][:worker=K]. */
struct pvt_bench_fault {
    int kind;       /* enum pvt_bench_fault_kind */
    uint64_t at_ms; /* after the load starts; 0: a third of --duration */
    int worker;     /* the slot it is sent to; -1: not given (worker 0) */
    char label[64]; /* the item as given: the `fault` column */
};

/*
 * Parse one --fault item into *f. 0, or -EINVAL with *why saying what is
 * wrong (the caller names the flag).
 */
int pvt_bench_fault_parse(const char *item, struct pvt_bench_fault *f, const char **why);

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

    /* fault mode (and the http fields above: one distribution, concurrency,
     * workers count and workload; duration_ms, timeout_ms, threads, CPUs). */
    struct pvt_bench_fault faults[PVT_BENCH_MAX_LIST];
    int nfaults;
    double rate;           /* pvt load -R */
    double fault_rate;     /* 0: each fault once, at its time; else sent with this
                            * probability per request, all run long (pvt load --mix) */
    int worker_timeout_ms; /* pvt serve --worker-timeout, for hang */
    long max_rss_mb;       /* pvt serve --max-rss, for leak (proc) */

    /* The options of one mode only, checked by the CLI. */
    const struct pvt_cost_cfg *cost;   /* cost mode (bench_cost.h) */
    const struct pvt_state_cfg *state; /* state mode (bench_state.h) */
};

/* Set by SIGINT/SIGTERM: finish the current repetition's bookkeeping, write
 * what is done, reap every worker and exit. */
extern volatile sig_atomic_t pvt_bench_interrupted;

/* Run the task-mode sweep. Returns a process exit code. */
int pvt_bench_tasks(const struct pvt_bench_cfg *cfg, struct pvt_topo *topo, const char *dir);

/* Run the http-mode sweep (cfg checked, CPU sets resolved). Returns a process
 * exit code: 0, 1 for a failure, 130 when interrupted. */
int pvt_bench_http(const struct pvt_bench_cfg *cfg, struct pvt_topo *topo, const char *dir);

/* Run the fault-mode sweep (cfg checked, CPU sets resolved). Returns a
 * process exit code: 0, 1 for a failure, 130 when interrupted. */
int pvt_bench_fault(const struct pvt_bench_cfg *cfg, struct pvt_topo *topo, const char *dir);

/*
 * The URL path `pvt serve` answers workload (wl, arg) on: "/", "/cpu?n=N",
 * "/hash?bytes=B", "/mem?bytes=B", "/sleep?ms=MS". Returns the length, or
 * -ENOENT for a workload without a route (alloc), -ERANGE for an argument the
 * route refuses, -ENOSPC when len is too small.
 */
int pvt_bench_route(uint32_t wl, uint64_t arg, char *buf, size_t len);

/* "%.Nf" of v into buf (64 bytes), or "" for NAN: an empty CSV field, not
 * measured. Returns buf. */
const char *pvt_bench_csv_num(char *buf, double v, int digits);

/* The median of v (sorted in place); "41.2M", "950k", "12.0" for a table. */
double pvt_bench_median(double *v, int n);
const char *pvt_bench_human(double v, char *buf, size_t len);

/* `pvt bench --help` (cmd_bench_help.c). */
void pvt__bench_help(void);

#endif
