/*
 * mode.h: what a bench mode is. Each mode is a folder under bench/modes/
 * that defines one `const struct pvt_mode`; the mode table
 * (bench/modes/modes.c) lists them, and `pvt bench`, `pvt plot`,
 * `pvt report` and the tour find a mode there by name. A new mode is a
 * folder and a row.
 */
#ifndef PVT_MODE_H
#define PVT_MODE_H

struct pvt_bench_cfg;
struct pvt_topo;
struct pvt_plot_out;
struct pvt_rep_mode;

/* The mode runs its sweep over 1..N workers when --workers is not given. */
#define PVT_MODE_WORKER_SWEEP 1u

struct pvt_mode {
    const char *name; /* --mode NAME; the mode column and meta.json's mode */
    unsigned flags;   /* PVT_MODE_* */
    /*
     * Run the sweep of a configuration the CLI checked, writing into the
     * results directory dir. Returns a process exit code: 0, 1 for a failure,
     * 130 when interrupted.
     */
    int (*run)(const struct pvt_bench_cfg *cfg, struct pvt_topo *topo, const char *dir);
    /* Draw this mode's plots of o->runs into o->dir, counting them in o. */
    void (*plot)(struct pvt_plot_out *o);
    /* report.md's title, verdicts and tables (bench/report/report.h). */
    const struct pvt_rep_mode *report;
};

#endif
