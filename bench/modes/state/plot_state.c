/*
 * plot_state.c: state mode's plots. How much of the true count each
 * variant saw (the per-process copies and the racy counter fall short),
 * and what an update costs, per variant and workers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/plot/plot.h"
#include "bench/report/report_int.h"
#include "bench_state.h"

#define MAXV 16

/* The stat over the repetitions of variant x workers: 100 x observed / expected
 * (pct), or column col. */
static void vstat(const struct pvt_table *t, const char *variant, const char *workers,
                  const char *col, int pct, struct pvt_stat *s)
{
    int cv = pvt_table_col(t, "variant"), cw = pvt_table_col(t, "workers");
    double v[256];
    int n = 0;

    for (int row = 0; row < t->nrows && n < 256; row++) {
        double obs, exp;

        if (strcmp(pvt_table_get(t, row, cv), variant) || strcmp(pvt_table_get(t, row, cw), workers))
            continue;
        if (!pct) {
            v[n] = NAN;
            pvt_table_num(t, row, pvt_table_col(t, col), &v[n]);
            n++;
        } else if (pvt_table_num(t, row, pvt_table_col(t, "observed"), &obs) &&
                   pvt_table_num(t, row, pvt_table_col(t, "expected"), &exp) && exp > 0) {
            v[n++] = 100 * obs / exp;
        }
    }
    pvt_stat_of(v, n, s);
}

static void state_bars(struct pvt_plot_out *o, const char *name, const char *title,
                       const char *yl, int logy, const char *col, int pct)
{
    const struct pvt_table *t = &o->runs[0]->t;
    const char *vs[MAXV], *ws[MAXV];
    int nv = pvt_distinct(t, "variant", vs, MAXV), nw = pvt_distinct(t, "workers", ws, MAXV);
    char sub[512];
    struct pvt_plot p;

    pvt__plot_sub(o, "median of the repetitions, bars min-max", sub, sizeof(sub));
    if (pvt_plot_begin(&p, o->dir, name, title, sub) < 0)
        return;
    pvt_plot_var(&p, "yl = \"%s\"; logy = %d", yl, logy);
    if (pct)
        pvt_plot_var(&p, "ymax = 125"); /* room for the key above 100 %% */
    for (int w = 0; w < nw; w++) {
        char st[64];

        snprintf(st, sizeof(st), "%s worker%s", ws[w], strcmp(ws[w], "1") ? "s" : "");
        pvt_plot_title(&p, st);
    }
    for (int v = 0; v < nv; v++) {
        char line[1024];
        size_t off = (size_t)snprintf(line, sizeof(line), "\"%s\"", vs[v]);

        for (int w = 0; w < nw; w++) {
            struct pvt_stat s;

            vstat(t, vs[v], ws[w], col, pct, &s);
            off += (size_t)snprintf(line + off, sizeof(line) - off, " %g %g %g", s.med, s.lo,
                                    s.hi);
        }
        pvt_plot_row(&p, "%s", line);
    }
    pvt__plot_finish(o, &p, "bars");
}

void pvt__plot_state(struct pvt_plot_out *o)
{
    state_bars(o, "state-counted",
               "Shared state: how much of the true count each variant ended with",
               "% of the updates counted", 0, NULL, 1);
    state_bars(o, "state-cost", "Shared state: what one update of the counter costs",
               "ns per update (log)", 1, "ns_per_update", 0);
}
