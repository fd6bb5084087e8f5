/*
 * report_int.h: what report.c and the modes' reports share.
 */
#ifndef PVT_REPORT_INT_H
#define PVT_REPORT_INT_H

#include <stdio.h>

#include "rundir.h"

struct pvt_rep_mode {
    const char *mode, *title;
    int (*verdicts)(const struct pvt_rundir *r, FILE *f); /* returns how many */
    void (*tables)(const struct pvt_rundir *r, FILE *f);
};

/* The modes with a report: report_modes.c, report_cost.c. */
extern const struct pvt_rep_mode pvt__rep_tasks, pvt__rep_http, pvt__rep_fault, pvt__rep_cost,
    pvt__rep_state;

/* The stat of column value over the rows where cols[k] equals vals[k] for
 * each of the n columns; an empty cell is not a figure (NAN). */
void pvt__rep_stat(const struct pvt_table *t, const char *value, struct pvt_stat *s, int n,
                   const char *const *cols, const char *const *vals);
/* The same, an empty cell counting as empty (INFINITY for a recovery that
 * never came within the run: the worst value). */
void pvt__rep_stat_empty(const struct pvt_table *t, const char *value, double empty,
                         struct pvt_stat *s, int n, const char *const *cols,
                         const char *const *vals);
/* The largest number in column col (workers). */
int pvt__rep_max_workers(const struct pvt_table *t, const char *col);
/* The run's plots whose names start with prefix, as Markdown images. */
void pvt__rep_images(const struct pvt_rundir *r, FILE *f, const char *img_prefix,
                     const char *prefix);

#endif
