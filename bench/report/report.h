/*
 * report.h: pvt report, a results directory as a page a person reads
 * (report.md): what was run and where, the tables, the plots, and one plain
 * verdict per lesson, each computed from results.csv by the rules of
 * verdict.h (two figures whose ranges overlap are "within noise").
 */
#ifndef PVT_REPORT_H
#define PVT_REPORT_H

#include <stdio.h>

#include "bench/results/rundir.h"

/* One mode's report: its title, verdicts and tables. */
struct pvt_rep_mode {
    const char *mode, *title;
    int (*verdicts)(const struct pvt_rundir *r, FILE *f); /* returns how many */
    void (*tables)(const struct pvt_rundir *r, FILE *f);
};

/*
 * Write report.md for the run r of mode m to f: the header (what ran, where,
 * on what), m's verdicts and tables, and the run's plots. Returns how many
 * verdicts.
 */
int pvt_report_write_mode(const struct pvt_rundir *r, FILE *f, const struct pvt_rep_mode *m);

#endif
