/*
 * cmd_bench_int.h: what the parts of `pvt bench`'s command line share:
 * cmd_bench_parse.c reads the flags and the lists, cmd_bench_cfg.c fills in
 * each mode's defaults and checks what needs them, cmd_bench.c runs the
 * mode. The calls go one way: cmd_bench.c to both, cmd_bench_cfg.c to
 * cmd_bench_parse.c.
 */
#ifndef PVT_CMD_BENCH_INT_H
#define PVT_CMD_BENCH_INT_H

#include <stdint.h>

#include "bench/common/bench.h"
#include "bench/modes/cost/bench_cost.h"

#define CMD "bench"

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
    OPT_HOP_SIZES,
    OPT_VARIANT,
    OPT_UPDATES,
    OPT_BATCH,
    OPT_END_ /* after the last: GIVEN() has a bit for each option before it */
};

/* What the command line said, beyond what pvt__bench_parse_args stores in
 * the config. */
struct args {
    const char *workers, *server_cpus, *client_cpus, *faults;
    const char *sections, *heap, *dataset, *hop_sizes; /* cost mode */
    const char *variants, *updates, *batch; /* state mode */
    uint64_t given; /* bit (OPT_x - OPT_MODE) for each flag that appeared */
};
_Static_assert(OPT_END_ - OPT_MODE <= 64, "args.given has a bit for every option");

#define GIVEN(a, opt) (((a)->given >> ((opt)-OPT_MODE)) & 1u)

/* The flags into cfg (its defaults already there) and a; a usage error, or
 * --help, ends the process (cmd_bench_parse.c). */
void pvt__bench_parse_args(struct pvt_bench_cfg *cfg, int argc, char **argv, struct args *a);
/* Lists into cfg, or a usage error naming the flag (cmd_bench_parse.c). */
void pvt__bench_parse_backends(struct pvt_bench_cfg *cfg, const char *s);
void pvt__bench_parse_workloads(struct pvt_bench_cfg *cfg, const char *s);
void pvt__bench_parse_dists(struct pvt_bench_cfg *cfg, const char *s);
/* A list of counts in [1, max] for flag: how many. */
int pvt__bench_parse_counts(const char *flag, const char *s, long max, long *out);
/* The long name of option val, for messages. */
const char *pvt__bench_opt_name(int val);

/* Mode, mode-only flags, presets and defaults (cmd_bench_cfg.c); the whole
 * config is checked when this returns 0 (or the process has exited with a
 * usage error). -1: the CPUs could not be read. */
int pvt__bench_check_config(struct pvt_bench_cfg *cfg, struct args *a, struct pvt_cost_cfg *cost);
/* The default sweep: 1 worker, then doubling up to cores. */
void pvt__bench_default_workers(struct pvt_bench_cfg *cfg, int cores);

#endif
