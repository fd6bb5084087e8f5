/*
 * report_int.h: what report.c and the modes' reports share.
 */
#ifndef PVT_REPORT_INT_H
#define PVT_REPORT_INT_H

#include <stdio.h>

#include "report.h"
#include "bench/results/rundir.h"

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

/* "- " and pvt_verdict's sentence on a against b; returns 1 if both sides had data. */
int pvt__rep_verdict(FILE *f, const char *what, const char *a, const struct pvt_stat *sa,
                     const char *b, const struct pvt_stat *sb, int higher, int digits,
                     const char *unit);
/* "N workers against 1: 1.54x (ideal Nx)", with pvt_compare's word; 1 if written. */
int pvt__rep_scaling(FILE *f, const char *what, const struct pvt_stat *s1,
                     const struct pvt_stat *sn, int n, const char *unit);
/* 1 if want is one of v[0..n). */
int pvt__rep_has(const char *const *v, int n, const char *want);

#endif
