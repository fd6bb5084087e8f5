/*
 * bench.h: `pvt bench`: its configuration, filled with defaults, then from
 * the command line, then checked as a whole before anything runs.
 */
#ifndef PVT_BENCH_H
#define PVT_BENCH_H

#include <signal.h>
#include <stdint.h>

#include "place.h"
#include "pvt.h"

#define PVT_BENCH_MAX_LIST 64

struct pvt_bench_cfg {
    const char *mode;
    const struct pvt_pool_ops *backends[PVT_BENCH_MAX_LIST];
    int nbackends;
    long workers[PVT_BENCH_MAX_LIST];
    int nworkers;
    uint32_t workload[PVT_BENCH_MAX_LIST];
    uint64_t workload_arg[PVT_BENCH_MAX_LIST];
    int nworkloads;
    uint64_t jobs;       /* 0: chosen per workload from --target */
    uint64_t target_ms;  /* how long one repetition should take with auto jobs */
    int repeat;
    int warmup;
    enum pvt_place_policy pin;
    enum pvt_place_unit unit;
    unsigned queue_depth;
    const char *out;     /* NULL: a new directory under results/ */
    int quiet;
};

/* Set by SIGINT/SIGTERM: finish the current repetition's bookkeeping, write
 * what is done, reap every worker and exit. */
extern volatile sig_atomic_t pvt_bench_interrupted;

/* Run the task-mode sweep. Returns a process exit code. */
int pvt_bench_tasks(const struct pvt_bench_cfg *cfg, struct pvt_topo *topo, const char *dir);

#endif
