/*
 * rundir.h: a results directory read back (pvt plot, pvt report).
 *
 * A results directory is one pvt wrote: meta.json naming the tool "pvt" and
 * a mode, and results.csv beside it (absent only while, or because, a run
 * was stopped before its first row). Rows are grouped by key columns into
 * the repetitions of one configuration.
 */
#ifndef PVT_RUNDIR_H
#define PVT_RUNDIR_H

#include <jansson.h>
#include <limits.h>

#include "csv.h"
#include "verdict.h"

struct pvt_rundir {
    char dir[PATH_MAX];
    json_t *meta;
    const char *mode;   /* meta's "mode" */
    struct pvt_table t; /* results.csv; no rows if it is missing */
    int has_csv;
    char label[256];       /* "HOST: N CPUs (topology), CPU model" */
    char short_label[160]; /* "HOST, N CPUs, CPU model" for plot subtitles */
    char host[64];      /* the hostname, for a series' title when runs overlay */
};

/*
 * Open dir. Returns 0, or a negative errno with a one-line reason in why:
 * -ENOENT (no such directory, or no meta.json: not a results directory),
 * -EBADMSG (meta.json or results.csv unreadable as such), -ENOMEM.
 */
int pvt_rundir_open(const char *dir, struct pvt_rundir *r, char *why, size_t whylen);
void pvt_rundir_close(struct pvt_rundir *r);

/* A number in meta.json's "params" (0 if absent), and a string (NULL). */
double pvt_rundir_param(const struct pvt_rundir *r, const char *name);
const char *pvt_rundir_param_str(const struct pvt_rundir *r, const char *name);

/* The repetitions of one configuration: the rows whose key columns agree. */
struct pvt_grp {
    int row;    /* the first of its rows, to read the key columns from */
    int n;      /* rows */
    double *v;  /* the value column in each row (NAN where empty) */
};

struct pvt_groups {
    struct pvt_grp *g;
    int n;
};

/*
 * Group the rows of t by the columns keys (nkeys of them; a column the file
 * lacks counts as empty), keeping only rows where column where_col (NULL: all
 * rows) equals where_val, in the order their first row appears; collect
 * column value from each. Returns 0 or -ENOMEM.
 */
int pvt_group(const struct pvt_table *t, const char *const *keys, int nkeys, const char *value,
              const char *where_col, const char *where_val, struct pvt_groups *out);
void pvt_groups_free(struct pvt_groups *g);

/* The group whose key columns hold vals (nkeys of them), or NULL. */
const struct pvt_grp *pvt_group_find(const struct pvt_table *t, const struct pvt_groups *g,
                                     const char *const *keys, int nkeys,
                                     const char *const *vals);

/* 1 if rows a and b agree on the columns keys. */
int pvt_same_cfg(const struct pvt_table *t, int a, int b, const char *const *keys, int nkeys);

/* The distinct values of column col in t, in order of appearance (at most
 * max); backends come proc, thread, then the others. */
int pvt_distinct(const struct pvt_table *t, const char *col, const char **vals, int max);

/* A route as a file name part: "cpu-n-1000000" for "/cpu?n=1000000",
 * "root" for "/" (the names of an http run's latency/NAME.hgrm). */
void pvt_route_slug(const char *route, char *buf, size_t len);

/* Median and range of a group's values. */
void pvt_grp_stat(const struct pvt_grp *g, struct pvt_stat *s);

#endif
