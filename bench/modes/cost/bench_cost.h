/*
 * bench_cost.h: `pvt bench --mode cost`: what a worker costs to start, to
 * keep and to talk to, for each backend, beside the bare OS mechanisms.
 *
 * The run is in sections (startup, heap, memory, cow, sched, ipc, hop); each
 * writes tidy rows (one per section x backend x mechanism x variant x size
 * x repetition) and prints its table of medians. bench_cost.c drives the
 * sections and writes meta.json and the ratios; cost_rows.c holds the rows,
 * the CSV and the tables every section uses; bench_cost_start.c,
 * bench_cost_mem.c, bench_cost_ipc.c and bench_cost_hop.c the sections (policy);
 * bench_cost_bare.c and bench_cost_pp.c the bare mechanisms they measure
 * (no policy, no CLI: the tests link them).
 */
#ifndef PVT_BENCH_COST_H
#define PVT_BENCH_COST_H

#include <sched.h>
#include <stddef.h>
#include <stdint.h>

#include "bench/common/bench.h"
#include "bench/common/mode.h"
#include "bench/plot/plot.h"
#include "bench/report/report.h"

enum pvt_cost_section {
    PVT_CS_STARTUP, /* create N workers until all are ready, N = --workers */
    PVT_CS_HEAP,    /* the same, 1 worker, as the primary's touched heap grows */
    PVT_CS_MEMORY,  /* RSS, PSS, USS of N workers, idle and after a workload */
    PVT_CS_COW,     /* a dataset loaded before forking: read, then written */
    PVT_CS_SCHED,   /* context switches, migrations, minor faults per job */
    PVT_CS_IPC,     /* primary <-> worker round trip per mechanism */
    PVT_CS_HOP,     /* an event loop: a job inline, or handed to a pool and taken back */
    PVT_CS_COUNT
};
extern const char *const pvt_cost_section_names[PVT_CS_COUNT];

#define PVT_COST_COW_WORKERS 8 /* as in the OS-level figure of ANCHORS.md */

/* What cost mode adds to the bench config; filled by cmd_bench.c. */
struct pvt_cost_cfg {
    uint64_t heap[PVT_BENCH_MAX_LIST]; /* bytes of touched heap, the heap section */
    int nheap;
    uint64_t dataset;  /* bytes loaded before forking, the cow section */
    unsigned sections; /* bit (1 << PVT_CS_x) for each section to run */
    uint64_t ipc_ms;   /* timed round trips per measurement */
    uint64_t sched_ms; /* jobs per sched measurement: about this long */
    uint64_t hop[PVT_BENCH_MAX_LIST]; /* the hop section's sizes, N of cpu:N, increasing */
    char hop_name[PVT_BENCH_MAX_LIST][24]; /* each as its rows' variant: "10000" */
    int nhop;
    uint64_t hop_ms; /* jobs per hop measurement: about this long */
};

/* The cost flags: each fills its part of cost, or exits with a usage error
 * (one line naming the flag). Sizes are 1M .. 64G, and what the run touches
 * at once (a dataset: in all its copies) at most half of this machine's memory. */
void pvt_cost_parse_heap(struct pvt_cost_cfg *cost, const char *s);
void pvt_cost_parse_dataset(struct pvt_cost_cfg *cost, const char *s);
void pvt_cost_parse_sections(struct pvt_cost_cfg *cost, const char *s);
/* --hop-sizes: counts from 1 to 100M (1K = 1000), increasing. */
void pvt_cost_parse_hop(struct pvt_cost_cfg *cost, const char *s);

/* Run the cost sections (cfg checked). Returns a process exit code: 0, 1
 * for a failure, 130 when interrupted. */
int pvt_bench_cost(const struct pvt_bench_cfg *cfg, const struct pvt_cost_cfg *cost,
                   struct pvt_topo *topo, const char *dir);

/* The numeric columns of a row, in CSV order; NAN is written empty. */
enum pvt_cost_field {
    PVT_CF_SECONDS,
    PVT_CF_SPAWN_US,
    PVT_CF_READY_MS,
    PVT_CF_STOP_MS,
    PVT_CF_RSS,
    PVT_CF_PSS,
    PVT_CF_USS,
    PVT_CF_RSS_TOTAL,
    PVT_CF_PSS_TOTAL,
    PVT_CF_USS_TOTAL,
    PVT_CF_PRIMARY_RSS,
    PVT_CF_PRIMARY_PSS,
    PVT_CF_PRIMARY_USS,
    PVT_CF_JOBS,
    PVT_CF_VCS,
    PVT_CF_IVCS,
    PVT_CF_MIGR,
    PVT_CF_MINFLT,
    PVT_CF_TRIPS,
    PVT_CF_RTT_US,
    PVT_CF_WALL_US,     /* hop: wall time per job */
    PVT_CF_LOOP_CPU_US, /* hop: the loop thread's CPU time per job */
    PVT_CF_COUNT
};

/* One row. Strings are static or copied in; -1 in a count is empty. */
struct pvt_cost_row {
    int section;           /* enum pvt_cost_section */
    const char *backend;   /* proc or thread: the kind of worker */
    const char *mechanism; /* pool (the pvt backend), or the bare mechanism */
    const char *variant;   /* what differs inside the section, or "" */
    long workers;
    long heap_mb, dataset_mb;
    char workload[32];
    char cpus[32];
    int repetition;
    int order; /* the configuration's place in its section's sweep: the table's order */
    double f[PVT_CF_COUNT];
};

struct pvt_cost_run {
    const struct pvt_bench_cfg *cfg;
    const struct pvt_cost_cfg *cost;
    struct pvt_topo *topo;
    const char *dir;
    struct pvt_csv *csv;
    struct pvt_cost_row *rows;
    int nrows, caprows;
    int tty;
};

/* ---- the rows (cost_rows.c) ---- */

/* results.csv's columns: the lead columns, the numbers, pin. Fills cols
 * (PVT_COST_NCOLUMNS of them) and returns how many. */
#define PVT_COST_NCOLUMNS 34
int pvt__cost_columns(const char **cols);

/* A row of section with every number empty. */
void pvt_cost_row_init(struct pvt_cost_row *row, int section, const char *backend,
                       const char *mechanism, const char *variant);

/* Keep the row and add it to the CSV. 0 or -ENOMEM. */
int pvt_cost_add(struct pvt_cost_run *r, const struct pvt_cost_row *row);

/* Write results.csv as it stands. 0 or -errno (the error is reported). */
int pvt_cost_flush(struct pvt_cost_run *r);

/*
 * The median of field over the recorded rows with the same key as key
 * (section, backend, mechanism, variant, workers, heap, dataset, cpus), NAN
 * if none has a value; *lo and *hi (when not NULL) get the range.
 */
double pvt_cost_median(const struct pvt_cost_run *r, const struct pvt_cost_row *key, int field,
                       double *lo, double *hi);

/* The same with the key's strings and counts given: NAN where no row is. */
double pvt_cost_find(const struct pvt_cost_run *r, int section, const char *backend,
                     const char *mechanism, const char *variant, long workers, long size,
                     int field);

/*
 * Start section's table: print a blank line and "SECTION: title", and put
 * the first row of each distinct key of the section into keys (at most
 * max), in the order of the rows' `order`, then as recorded. Returns how
 * many.
 */
int pvt_cost_table(const struct pvt_cost_run *r, int section, const char *title,
                   const struct pvt_cost_row **keys, int max);

/* A progress line on a terminal (not with --quiet), and clearing it. */
void pvt_cost_progress(const struct pvt_cost_run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void pvt_cost_progress_clear(const struct pvt_cost_run *r);

/*
 * Run njobs jobs of (wl, arg) through a live pool and check every value.
 * Returns 0; -EBADMSG for a wrong value, -EPIPE for a failed or dropped
 * job, -ETIME when nothing came back for 30 s, -EINTR when interrupted, or
 * the pool's error.
 */
int pvt_cost_jobs(const struct pvt_pool_ops *ops, struct pvt_pool *pool, uint32_t wl, uint64_t arg,
                  uint64_t njobs);

/* A pool of ops with one worker bound to cpu. 0 or create's error. */
int pvt_cost_pool_on(const struct pvt_pool_ops *ops, int cpu, struct pvt_pool **out);

/*
 * Bind this thread to the first CPU it may use (*cpu_a) and name the
 * second (*cpu_b, -1 with one CPU); saved gets the affinity to restore.
 * 0 or -errno.
 */
int pvt_cost_bind_first(cpu_set_t *saved, int *cpu_a, int *cpu_b);

/* ---- the hop section's mechanics (bench_cost_hop.c; the tests link them) ---- */

/* An event loop's pool: one worker, its event_fd in an epoll set of the loop's own. */
struct pvt_hop_loop {
    const struct pvt_pool_ops *ops; /* a backend with PVT_CAP_POLL */
    struct pvt_pool *pool;
    int ep;
};

/* Open l on a pool of ops whose worker is bound to cpu. 0, -EOPNOTSUPP
 * without PVT_CAP_POLL, or create's or epoll's -errno; nothing is left
 * open on failure. Close it with pvt_hop_close. */
int pvt_hop_open(const struct pvt_pool_ops *ops, int cpu, struct pvt_hop_loop *l);
void pvt_hop_close(struct pvt_hop_loop *l);

/*
 * njobs jobs of cpu:arg, one at a time, as an event loop runs them: inline
 * (l NULL: pvt_work_run on this thread) or handed to l's pool (submit,
 * poll, epoll_wait on event_fd until poll has the result). *wall_ns and
 * *cpu_ns get the wall time and this thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID) per job. Every value is compared with
 * expected. Returns 0; -EBADMSG for a wrong value, -EPIPE for a failed
 * job, -ETIME when nothing came back for 30 s, -EINTR when interrupted, or
 * the pool's error.
 */
int pvt_hop_jobs(struct pvt_hop_loop *l, uint64_t arg, uint64_t expected, uint64_t njobs,
                 double *wall_ns, double *cpu_ns);

/*
 * The crossover of one backend, from its rows however they are kept: get
 * returns the loop's CPU per job of mechanism ("inline", "offload") at size
 * index i (0 .. n-1, increasing) for repetition rep (0: the median), NAN if
 * none. The crossover is the smallest size index from which on (it and
 * every larger size) an offloaded job costs the loop less CPU than an inline
 * one; n if no size does, -1 if a figure is missing.
 */
typedef double (*pvt_hop_get_cb)(void *arg, const char *mechanism, int i, int rep);
struct pvt_hop_cross {
    int med;    /* from the medians */
    int lo, hi; /* the least and the most over the repetitions */
};
void pvt_hop_crossover(int n, int nreps, pvt_hop_get_cb get, void *arg, struct pvt_hop_cross *out);

/* "cpu:10K" for size index i of sizes (n of them), "none up to cpu:10M" for
 * n, "?" for -1. */
void pvt_hop_size_text(const uint64_t *sizes, int n, int i, char *buf, size_t len);

/* The hop section's sizes and repetitions in a results table: how many
 * sizes (at most max, increasing, into sizes), *nreps the last repetition. */
int pvt__hop_table_sizes(const struct pvt_table *t, uint64_t *sizes, int max, int *nreps);
/* One backend's crossover from the rows of a results table (sizes as from
 * pvt__hop_table_sizes). */
void pvt__hop_table_cross(const struct pvt_table *t, const char *backend, const uint64_t *sizes,
                          int n, int nreps, struct pvt_hop_cross *out);

/* The sections (each prints its table; 0, -EINTR, or -errno reported). */
int pvt_cost_startup(struct pvt_cost_run *r);
int pvt_cost_heap(struct pvt_cost_run *r);
int pvt_cost_memory(struct pvt_cost_run *r);
int pvt_cost_cow(struct pvt_cost_run *r);
int pvt_cost_sched(struct pvt_cost_run *r);
int pvt_cost_ipc(struct pvt_cost_run *r);
int pvt_cost_hop(struct pvt_cost_run *r);

/* The mode entry, its plots (plot_cost.c) and report (report_cost.c). */
extern const struct pvt_mode pvt_mode_cost;
void pvt__plot_cost(struct pvt_plot_out *o);
extern const struct pvt_rep_mode pvt__rep_cost;

#endif
