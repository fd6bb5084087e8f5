/*
 * plot_out.c: the pieces every mode's plots share: series titles, the
 * subtitle naming the run, drawing a figure and counting it, and a series
 * of medians with min-max error bars from grouped rows.
 */
#include "plot.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXV 64

/* A series' title: its own words, and which run when runs overlay. */
void pvt__plot_series_title(const struct pvt_plot_out *c, int run, const char *what, char *buf, size_t len)
{
    const char *dir = c->runs[run]->dir, *base = strrchr(dir, '/');
    int same_host = c->nruns > 1 && strcmp(c->runs[0]->host, c->runs[c->nruns - 1]->host) == 0;

    if (c->nruns == 1)
        snprintf(buf, len, "%s", what);
    else if (same_host)
        snprintf(buf, len, "%s, %s", what, base && base[1] ? base + 1 : dir);
    else
        snprintf(buf, len, "%s, %s", what, c->runs[run]->host);
}

void pvt__plot_sub(const struct pvt_plot_out *c, const char *extra, char *buf, size_t len)
{
    if (c->nruns == 1)
        snprintf(buf, len, "%s\n%s", c->runs[0]->short_label, extra);
    else
        snprintf(buf, len, "%d runs overlaid (%s, ...)\n%s", c->nruns, c->runs[0]->short_label,
                 extra);
}

void pvt__plot_finish(struct pvt_plot_out *c, struct pvt_plot *p, const char *tmpl)
{
    char why[512];
    int rc = pvt_plot_end(p, tmpl, why, sizeof(why));

    if (rc == 0)
        c->drawn++;
    else if (rc != -ENODATA) {
        c->failed++;
        if (rc != -EIO)
            snprintf(why, sizeof(why), "%s: %s", p->name, strerror(-rc));
        snprintf(c->why, sizeof(c->why), "%s", why);
    }
}

/* The numeric value of a key cell, for sorting points along x. */
static double num(const struct pvt_table *t, int row, const char *col)
{
    double v = NAN;

    pvt_table_num(t, row, pvt_table_col(t, col), &v);
    return v;
}

int pvt__plot_series_rows(struct pvt_plot *p, const struct pvt_table *t,
                          const struct pvt_groups *g, const char *const *keys, int nkeys,
                          const char *const *vals, int ideal)
{
    int idx[MAXV], n = 0, i, j;
    double base = NAN, x0 = NAN;

    for (i = 0; i < g->n && n < MAXV; i++) {
        int k;

        for (k = 1; k < nkeys; k++)
            if (strcmp(pvt_table_get(t, g->g[i].row, pvt_table_col(t, keys[k])), vals[k]) != 0)
                break;
        if (k == nkeys && !isnan(num(t, g->g[i].row, keys[0])))
            idx[n++] = i;
    }
    for (i = 1; i < n; i++) /* insertion sort by x */
        for (j = i; j > 0 && num(t, g->g[idx[j - 1]].row, keys[0]) >
                                  num(t, g->g[idx[j]].row, keys[0]); j--) {
            int s = idx[j];

            idx[j] = idx[j - 1];
            idx[j - 1] = s;
        }
    for (i = 0; i < n; i++) {
        struct pvt_stat s;
        double x = num(t, g->g[idx[i]].row, keys[0]);

        pvt_grp_stat(&g->g[idx[i]], &s);
        if (s.n == 0)
            continue;
        if (isnan(base)) {
            base = s.med;
            x0 = x;
        }
        pvt_plot_row(p, "%g %g %g %g %g", x, s.med, s.lo, s.hi,
                     ideal ? base * x / x0 : NAN);
    }
    return n;
}

/* One .hgrm's data lines (value_ms percentile count 1/(1-p)) into the plot. */
int pvt__plot_hgrm_rows(struct pvt_plot *p, const char *path)
{
    char line[256];
    FILE *f = fopen(path, "re");
    int n = 0;

    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f)) {
        double v, pc, inv;
        long long cnt;

        if (sscanf(line, "%lf %lf %lld %lf", &v, &pc, &cnt, &inv) == 4 && isfinite(inv) &&
            v > 0) {
            pvt_plot_row(p, "%g %g %lld %g", v, pc, cnt, inv);
            n++;
        }
    }
    fclose(f);
    return n;
}
