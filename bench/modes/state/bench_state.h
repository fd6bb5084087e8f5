/*
 * bench_state.h: `pvt bench --mode state`: one counter, bumped once per
 * update by every worker, kept six ways, to show what "workers share no
 * memory" means and what each way of sharing costs.
 *
 * bench_state_run.c and bench_state_proc.c hold the mechanics (one
 * repetition of one variant: its threads or processes, a start gate, the
 * count read back; no CLI, so the tests link them), bench_state_calc.c the
 * names, the figures and the verdicts (pure, no processes), and
 * bench_state.c the flags, the sweep, the table, results.csv and meta.json
 * (the policy).
 */
#ifndef PVT_BENCH_STATE_H
#define PVT_BENCH_STATE_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "bench/common/bench.h"
#include "shared/core/pvt.h"
#include "bench/common/mode.h"
#include "bench/plot/plot.h"
#include "bench/report/report.h"

/* The variants, in the order the table and a default run list them. */
enum pvt_state_variant {
    PVT_SV_THREAD_ATOMIC, /* threads, one _Atomic counter: atomic_fetch_add */
    PVT_SV_THREAD_MUTEX,  /* threads, a plain counter under one pthread mutex */
    PVT_SV_THREAD_NAIVE,  /* threads, a plain global bumped with ++: a data race, on purpose */
    PVT_SV_PROC_NAIVE,    /* processes, the same plain global: each has a copy of its own */
    PVT_SV_PROC_SHM, /* processes, an _Atomic counter in MAP_SHARED memory mapped before fork */
    PVT_SV_PROC_MSG, /* processes, each sends its increments to the primary over a socket */
    PVT_SV_COUNT
};
extern const char *const pvt_state_variant_names[PVT_SV_COUNT];
#define PVT_SV_ALL ((1u << PVT_SV_COUNT) - 1)

/* The variant named name, or -ENOENT. */
int pvt_state_variant_find(const char *name);

/* "proc" or "thread": the kind of worker a variant runs on. */
const char *pvt_state_backend(int variant);

/* 1 if the variant must count every update (a shortfall is a bug in pvt):
 * the atomics, the mutex and the messages. 0 for the two naive ones. */
int pvt_state_exact(int variant);

/* What state mode adds to the bench config; filled by cmd_bench.c. */
struct pvt_state_cfg {
    unsigned variants; /* bit (1 << PVT_SV_x) for each variant to run */
    uint64_t updates;  /* per worker and repetition; 0: sized from --target */
    uint64_t batch;    /* proc-msg: increments per message, >= 1 */
};

/*
 * Fill *state from state mode's flags (each NULL when not given) and check
 * them with cfg: variants from --variant (default all), kept to the kinds of
 * worker --backend names when it was given (backend_given), --updates and
 * --batch; --repeat defaults to 5. A bad value is a usage error naming its
 * flag (the process exits 2).
 */
void pvt_bench_state_args(struct pvt_bench_cfg *cfg, int backend_given, int repeat_given,
                          const char *variants, const char *updates, const char *batch,
                          struct pvt_state_cfg *state);

/* Run the state sweep (cfg checked). Returns a process exit code: 0, 1 for
 * a failure (a count that an exact variant got wrong among them), 130 when
 * interrupted. */
int pvt_bench_state(const struct pvt_bench_cfg *cfg, const struct pvt_state_cfg *state,
                    struct pvt_topo *topo, const char *dir);

/* ---- one repetition (bench_state_run.c) ---- */

struct pvt_state_spec {
    int variant;                       /* enum pvt_state_variant */
    int workers;                       /* 1 .. PVT_MAX_WORKERS */
    uint64_t updates;                  /* per worker, >= 1 */
    uint64_t batch;                    /* proc-msg: increments per message, >= 1 */
    const struct pvt_plan *plan;       /* NULL or not binding: workers run unbound */
    const volatile sig_atomic_t *stop; /* NULL, or a flag a signal handler sets: end the run */
};

struct pvt_state_rep {
    double seconds;    /* from the start gate opening to the last update counted */
    uint64_t expected; /* workers x updates */
    uint64_t observed; /* the count as the primary reads it after the run */
    uint64_t messages; /* proc-msg: messages the primary received; else 0 */
    /* Each worker's own count at its end, as it reported it through a pipe
     * (proc-naive: its copy of the global; a thread shares one, so 0 for
     * thread variants). The caller's array of spec->workers, or NULL. */
    uint64_t *copies;
};

/*
 * One repetition of spec->variant: start the workers, let them all through
 * a start gate at once, wait for them, read the count. The calling thread is
 * the primary; processes are forked from it and reaped before this returns,
 * threads are joined. Returns 0; -EINVAL for a bad spec; -EINTR if *stop
 * was set (every worker stopped and reaped); -ECHILD if a worker process
 * died or its report is missing; the error a worker reported (binding to
 * its CPUs, a message it could not send); -EPROTO for a malformed report or
 * message stream; -ETIME if workers were not ready within 10 s; or the
 * error of mmap, pipe2, socketpair, fork, pthread_create.
 */
int pvt_state_run(const struct pvt_state_spec *spec, struct pvt_state_rep *out);

/* ---- the figures and the verdicts (bench_state_calc.c) ---- */

/* One configuration (variant x workers) over its repetitions. */
struct pvt_state_sum {
    int variant;
    long workers;
    uint64_t updates; /* per worker */
    uint64_t batch;   /* proc-msg's; else 0 */
    uint64_t expected;
    int reps;
    uint64_t obs_median, obs_min, obs_max; /* observed over the repetitions */
    uint64_t copy_min, copy_max;           /* proc-naive: every worker's copy, all repetitions */
    double ns_median, ns_min, ns_max;      /* ns per update, per worker */
    double ups_median;                     /* updates per second, all workers */
};

/* v with thousands separators: 2000000 -> "2,000,000". Returns buf. */
const char *pvt_state_group(uint64_t v, char *buf, size_t len);

/*
 * The plain verdicts the sums imply, one line each, to out: what the primary
 * saw of the naive variants' updates and why, whether the exact variants
 * counted every update, and what each way of sharing costs against
 * thread-atomic at the same worker count ("within noise" where the ranges
 * overlap). Only what the figures show is said. Returns the lines written.
 */
int pvt_state_verdicts(const struct pvt_state_sum *s, int n, FILE *out);

/* The mode entry, its plots (plot_state.c) and report (report_state.c). */
extern const struct pvt_mode pvt_mode_state;
void pvt__plot_state(struct pvt_plot_out *o);
extern const struct pvt_rep_mode pvt__rep_state;

#endif
