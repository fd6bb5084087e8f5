/*
 * bench_fault.h: fault mode's pieces: the sweep, its table and verdicts
 * (bench_fault.c), one run against a fresh server (bench_fault_run.c), and
 * the run's timeline and the figures drawn from it (bench_fault_tl.c).
 */
#ifndef PVT_BENCH_FAULT_H
#define PVT_BENCH_FAULT_H

#include <stddef.h>
#include <stdint.h>

#include "bench/common/bench.h"
#include "bench/common/run.h"
#include "bench/common/mode.h"
#include "bench/plot/plot.h"
#include "bench/report/report.h"

struct pvt_csv;

/* One bin of a run's timeline: pvt load's counts, and the live workers. */
struct pvt_fbin {
    uint32_t ok, failed;
    int64_t p99_us, max_us; /* -1: no response completed in the bin */
    int live;               /* ready and not hung, by the latest /stats poll; -1: unknown */
};

/* A /stats poll during the run: when it completed, and what it saw. */
struct pvt_fsample {
    uint64_t t_ns;
    int live; /* -1: the poll failed */
};

/* pvt load's error kinds, in its JSON's order. */
enum {
    PVT_FERR_CONNECT,
    PVT_FERR_READ,
    PVT_FERR_WRITE,
    PVT_FERR_TIMEOUT,
    PVT_FERR_STATUS,
    PVT_FERR_N
};

/* One backend x fault x repetition: what it was asked, and what it saw. */
struct pvt_frun {
    /* in */
    const struct pvt_bench_cfg *cfg;
    const char *backend; /* its name, for the results and the log */
    unsigned caps;       /* its PVT_CAP_* bits */
    const struct pvt_bench_fault *fault;
    int rep;             /* 1 .. repeat */
    const char *dir;     /* the results directory */
    const char *route;
    const char *log;     /* the server's stderr: a file name under dir/logs */
    uint64_t at_ms;      /* when the fault is due after the load starts (--fault-rate: 0,
                          * the load sends it, all run long) */
    int worker;          /* the slot it goes to (recycle: -1) */
    uint64_t max_jobs, max_jobs_jitter; /* recycle: pvt serve --max-jobs */
    int threads;                        /* pvt load -t */

    /* out: pvt load's report and timeline */
    uint64_t requests, err[PVT_FERR_N];
    uint64_t faults_sent; /* --fault-rate: the load's requests that were the fault */
    double seconds;
    uint64_t p99_us, max_us;
    uint64_t start_ns; /* CLOCK_MONOTONIC, the load's bin 0 */
    struct pvt_fbin *bins;
    size_t nbins;

    /* out: what the driver saw */
    uint64_t fault_ns; /* the fault request sent (recycle: the first recycle seen); 0: none */
    int fault_worker;  /* the slot hit (recycle: the first recycled), -1 if none */
    struct pvt_fsample *samples;
    size_t nsamples, capsamples;
    unsigned pid_changes;    /* the primary pid in /stats changed (thread: a restart) */
    unsigned outer_restarts; /* the server's log: the outer supervisor restarted it */
    double outer_down_ms;    /* the log: the last restart's downtime; NAN: none */
    int have_final;          /* /stats was read after the load */
    unsigned restarts_final; /* the slots' restarts in that last /stats */
    long restarts_last;      /* ... in the last /stats that answered at all; -1: none did */
    double replace_us;       /* NAN: no replacement */
    int live_end;            /* -1: unknown */
    uint64_t leaked_mb;
};

/* Run it: start the server and the load, inject the fault, poll /stats,
 * read the timeline, stop and reap both. 0, -EINTR, or a negative errno
 * (said on stderr). The caller frees with pvt__fault_run_free. */
int pvt__fault_run(struct pvt_frun *fr);
void pvt__fault_run_free(struct pvt_frun *fr);

/* The request that is fault kind (/crash, /exit?code=N, ...). */
void pvt__fault_path(int kind, char *buf, size_t len);

/* A poll's result, kept in fr->samples. 0 or -ENOMEM. */
int pvt__fault_sample(struct pvt_frun *fr, uint64_t t_ns, int live);

/* The figures of one run (rules in results/README.md). */
struct pvt_ffig {
    double fault_ms;     /* the fault after the load's start */
    double pre_ok_per_s; /* the pre-fault median rate of 2xx; NAN: no bin to take it from */
    double recovery_ms;  /* NAN: not back before the load's schedule ended */
    double first_ok_ms;  /* 0: nothing failed; NAN: no success after the first failure */
    double min_ok_per_s; /* the lowest bin's rate from the fault to the schedule's end */
    uint64_t failed;     /* the bins' failures (pvt load's errors) */
};
void pvt__fault_figures(const struct pvt_fbin *b, size_t n, double fault_ms,
                        uint64_t duration_ms, struct pvt_ffig *out);

/* pvt load's --timeline CSV into *out (malloc'd). 0, -errno, or -EPROTO. */
int pvt__fault_read_timeline(const char *path, struct pvt_fbin **out, size_t *n);
/* Each bin's live workers from fr->samples (the latest poll before the
 * bin's end). */
void pvt__fault_live_bins(struct pvt_frun *fr);
/* fr's bins as timeline.csv rows. 0 or -ENOMEM. */
int pvt__fault_timeline_rows(struct pvt_csv *csv, const struct pvt_frun *fr);

/* The mode entry, its plots (plot_fault.c) and report (report_fault.c). */
extern const struct pvt_mode pvt_mode_fault;
void pvt__plot_fault(struct pvt_plot_out *o);
extern const struct pvt_rep_mode pvt__rep_fault;
/* Fault mode: a bar per fault x backend of column col; the timeline of one
 * fault (zoom: the first few hundred ms after it). */
void pvt__plot_fault_bars(struct pvt_plot_out *o, const char *const *faults, int nf,
                          const char *col, const char *ylabel);
void pvt__plot_fault_timeline(struct pvt_plot_out *o, const char *fault, int zoom);


#endif
