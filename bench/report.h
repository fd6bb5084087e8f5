/*
 * report.h: pvt report, a results directory as a page a person reads
 * (report.md): what was run and where, the tables, the plots, and one plain
 * verdict per lesson, each computed from results.csv by the rules of
 * verdict.h (two figures whose ranges overlap are "within noise").
 */
#ifndef PVT_REPORT_H
#define PVT_REPORT_H

#include <stdio.h>

#include "rundir.h"

/*
 * Write the report of run r to f, Markdown, with links to the images in
 * plots/ that exist (relative to the run directory). Returns the verdicts
 * written, or -ENOTSUP for a mode without a report.
 */
int pvt_report_write(const struct pvt_rundir *r, FILE *f);

/* The verdicts only, one per line ("- ..."), as pvt_report_write writes them. */
int pvt_report_verdicts(const struct pvt_rundir *r, FILE *f);

#endif
