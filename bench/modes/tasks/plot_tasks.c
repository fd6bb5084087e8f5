/*
 * plot_tasks.c: task mode's plots: throughput against workers per workload
 * and backend, with the ideal line, and the cost of one job.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/plot/plot.h"
#include "tasks.h"

#define MAXV 64

/* ---- tasks ---- */

void pvt__plot_tasks(struct pvt_plot_out *c)
{
    static const char *const keys[] = {"workers", "backend", "workload"};
    const char *wls[MAXV], *bes[MAXV];
    int nw = pvt_distinct(&c->runs[0]->t, "workload", wls, MAXV), w, r, b;

    for (w = 0; w < nw; w++) {
        struct pvt_plot p;
        char name[96], title[256], sub[512], st[160];
        int i;

        snprintf(name, sizeof(name), "scaling-%s", wls[w]);
        for (i = 0; name[i]; i++)
            if (name[i] == ':')
                name[i] = '-';
        snprintf(title, sizeof(title), "Scaling in task mode: %s jobs completed per second, "
                 "against workers", wls[w]);
        pvt__plot_sub(c, "median of the repetitions, bars min-max, dashed: N x one worker", sub,
                  sizeof(sub));
        if (pvt_plot_begin(&p, c->dir, name, title, sub) < 0)
            continue;
        pvt_plot_var(&p, "xl = \"workers\"; yl = \"jobs/s\"; logx = 1; logy = %d; ideal = 1; "
                         "keypos = \"left top\"",
                     strcmp(wls[w], "noop") == 0);
        for (r = 0; r < c->nruns; r++) {
            const struct pvt_table *t = &c->runs[r]->t;
            struct pvt_groups g;
            int nb = pvt_distinct(t, "backend", bes, MAXV);

            if (pvt_group(t, keys, 3, "jobs_per_s", NULL, NULL, &g) < 0)
                continue;
            for (b = 0; b < nb; b++) {
                const char *vals[] = {NULL, bes[b], wls[w]};

                pvt__plot_series_title(c, r, bes[b], st, sizeof(st));
                pvt_plot_series(&p, st);
                pvt__plot_series_rows(&p, t, &g, keys, 3, vals, 1);
            }
            pvt_groups_free(&g);
        }
        pvt__plot_finish(c, &p, "lines");
    }
}
