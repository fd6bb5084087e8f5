/*
 * modes.h: the mode table, and what reads a run back by its mode: plots,
 * report.md, verdicts.
 */
#ifndef PVT_MODES_H
#define PVT_MODES_H

#include <stddef.h>
#include <stdio.h>

#include "bench/common/mode.h"
#include "bench/results/rundir.h"

/* Every mode, NULL-terminated, in the order --help lists them. */
extern const struct pvt_mode *const pvt_modes[];

/* The mode called name, or NULL. */
const struct pvt_mode *pvt_mode_find(const char *name);

/*
 * Draw every plot of runs (nruns of them, all of one mode) into the
 * directory out. Returns 0 with *drawn plots, -ENOTSUP for a mode without
 * plots, or -EIO when a plot failed (the last failure's line in why; the
 * other plots are drawn).
 */
int pvt_plot_runs(struct pvt_rundir *const *runs, int nruns, const char *out, int *drawn,
                  char *why, size_t whylen);

/*
 * Write report.md for the run r to f: its header, verdicts, tables and plots.
 * Returns how many verdicts, or -ENOTSUP for a mode without a report.
 */
int pvt_report_write(const struct pvt_rundir *r, FILE *f);

/* The verdicts only, one per line ("- ..."), as pvt_report_write writes them. */
int pvt_report_verdicts(const struct pvt_rundir *r, FILE *f);

#endif
