/*
 * plot_modes.h: the plots of each mode (plot_modes.c; fault mode's in
 * plot_fault.c).
 */
#ifndef PVT_PLOT_MODES_H
#define PVT_PLOT_MODES_H

#include "plot.h"
#include "rundir.h"

/*
 * Draw every plot of runs (nruns of them, all of one mode) into the
 * directory out. Returns 0 with *drawn plots, -ENOTSUP for a mode without
 * plots, or -EIO when a plot failed (the last failure's line in why; the
 * other plots are drawn).
 */
int pvt_plot_runs(struct pvt_rundir *const *runs, int nruns, const char *out, int *drawn,
                  char *why, size_t whylen);

/* Where one mode's plots go, and how they went. */
struct pvt_plot_out {
    struct pvt_rundir *const *runs;
    int nruns;
    const char *dir;
    int drawn, failed;
    char why[512];
};

/* Title a series (the run's host or directory when runs overlay), the subtitle,
 * and count a finished plot in o. */
void pvt__plot_series_title(const struct pvt_plot_out *o, int run, const char *what, char *buf,
                            size_t len);
void pvt__plot_sub(const struct pvt_plot_out *o, const char *extra, char *buf, size_t len);
void pvt__plot_finish(struct pvt_plot_out *o, struct pvt_plot *p, const char *tmpl);

/*
 * One "lines" series: the groups of t (keyed by keys, x being keys[0]) whose
 * other keys match vals, as x, median, min, max, ideal rows sorted by x
 * (ideal: the first point's median times x over its x). Returns the points.
 */
int pvt__plot_series_rows(struct pvt_plot *p, const struct pvt_table *t,
                          const struct pvt_groups *g, const char *const *keys, int nkeys,
                          const char *const *vals, int ideal);

/* Cost and state modes' plots (plot_cost.c, plot_state.c). */
void pvt__plot_cost(struct pvt_plot_out *o);
void pvt__plot_state(struct pvt_plot_out *o);

/* Fault mode: a bar per fault x backend of column col; the timeline of one
 * fault (zoom: the first few hundred ms after it). */
void pvt__plot_fault_bars(struct pvt_plot_out *o, const char *const *faults, int nf,
                          const char *col, const char *ylabel);
void pvt__plot_fault_timeline(struct pvt_plot_out *o, const char *fault, int zoom);

#endif
