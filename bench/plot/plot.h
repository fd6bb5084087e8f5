/*
 * plot.h: drawing one plot with gnuplot (the mechanics; what each mode
 * plots is in bench/modes/MODE/plot_MODE.c, dispatched by bench/modes/modes.c).
 *
 * A plot NAME in a run's plots/ directory is three files written by pvt,
 * NAME.dat (the data, drawn from results.csv), NAME.gp (its variables, then
 * the templates from bench/plot/, so it can be rerun by hand in plots/) and,
 * from gnuplot, NAME.png and NAME.svg. The images are drawn under temporary
 * names and renamed when gnuplot succeeds.
 */
#ifndef PVT_PLOT_H
#define PVT_PLOT_H

#include <limits.h>
#include <stdio.h>

#include "bench/results/rundir.h"

struct pvt_plot {
    char dir[PATH_MAX];
    char name[96];
    FILE *dat, *gp;
    char *gpbuf;
    size_t gplen;
    int nseries, rows;
    char *titles[32];
    char *pending; /* a series named, its first row not yet written */
};

/* 0 if gnuplot can be run, or -ENOENT with the line telling how to get it in why. */
int pvt_plot_check(char *why, size_t whylen);

/* Begin plot name in dir (created if need be): title and its sub-title line.
 * Returns 0 or -errno. */
int pvt_plot_begin(struct pvt_plot *p, const char *dir, const char *name, const char *title,
                   const char *sub);
/* Start the next data block, for a series titled title (at most 32); a
 * series without a row is left out. */
void pvt_plot_series(struct pvt_plot *p, const char *title);
/* Name the next series of a plot whose series are columns (bars). */
void pvt_plot_title(struct pvt_plot *p, const char *title);
/* A data line (printf-style, without the newline). */
void pvt_plot_row(struct pvt_plot *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A gnuplot statement among the variables (printf-style). */
void pvt_plot_var(struct pvt_plot *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A string variable, quoted for gnuplot. */
void pvt_plot_str(struct pvt_plot *p, const char *var, const char *value);

/*
 * Write NAME.dat and NAME.gp with the template named tmpl ("lines",
 * "spectrum", "share", "bars", "timeline"), run gnuplot, and rename the
 * images into place. A plot with no data row is dropped (returns -ENODATA,
 * nothing written). Returns 0, or -errno with gnuplot's first error line in
 * why. Frees what begin took, whatever happens.
 */
int pvt_plot_end(struct pvt_plot *p, const char *tmpl, char *why, size_t whylen);

/* Drop a plot begun but not wanted. */
void pvt_plot_abandon(struct pvt_plot *p);

/* ---- what every mode's plots share (plot_out.c) ---- */

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

/* The data lines of the .hgrm file at path (value_ms percentile count
 * 1/(1-p)) as rows of p's current series; how many (0: no such file). */
int pvt__plot_hgrm_rows(struct pvt_plot *p, const char *path);

#endif
