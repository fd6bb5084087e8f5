/*
 * plot_loop.c: loop mode's plots, from results.csv and latency/DESIGN-PHASE-rN.s0.hgrm:
 * the light requests' p99 per design, with heavy requests running and
 * without; the heavy throughput per design; and the light requests'
 * latency spectrum per design while heavy requests run.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/plot/plot.h"
#include "bench/report/report_int.h"
#include "bench_loop.h"

#define MAXD 16

/* Bars per design: one series per (column, phase, scale). */
struct series {
    const char *title, *col, *phase;
    double scale;
};

static void loop_bars(struct pvt_plot_out *o, const char *name, const char *title,
                      const char *yl, int logy, const struct series *s, int ns)
{
    const struct pvt_table *t = &o->runs[0]->t;
    static const char *const kw[] = {"design", "phase"};
    const char *ds[MAXD];
    int nd = pvt_distinct(t, "design", ds, MAXD);
    char sub[512];
    struct pvt_plot p;

    pvt__plot_sub(o, "median of the repetitions, bars min-max", sub, sizeof(sub));
    if (pvt_plot_begin(&p, o->dir, name, title, sub) < 0)
        return;
    pvt_plot_var(&p, "yl = \"%s\"; logy = %d", yl, logy);
    for (int k = 0; k < ns; k++)
        pvt_plot_title(&p, s[k].title);
    for (int i = 0; i < nd; i++) {
        char line[1024];
        size_t off = (size_t)snprintf(line, sizeof(line), "\"%s\"", ds[i]);

        for (int k = 0; k < ns; k++) {
            struct pvt_stat st;

            pvt__rep_stat(t, s[k].col, &st, 2, kw, (const char *[]){ds[i], s[k].phase});
            off += (size_t)snprintf(line + off, sizeof(line) - off, " %g %g %g",
                                    st.med * s[k].scale, st.lo * s[k].scale, st.hi * s[k].scale);
        }
        pvt_plot_row(&p, "%s", line);
    }
    pvt__plot_finish(o, &p, "bars");
}

/* The light stream's spectrum in each design's first mixed repetition. */
static void light_spectrum(struct pvt_plot_out *o)
{
    char sub[512], st[200], path[PATH_MAX + 256];
    const char *ds[MAXD];
    struct pvt_plot p;

    pvt__plot_sub(o, "light requests (GET /), heavy ones running; repetition 1 of each; the x "
                     "axis stretches the tail (1/(1-p))",
                  sub, sizeof(sub));
    if (pvt_plot_begin(&p, o->dir, "light-latency",
                       "Light requests beside heavy ones: latency by percentile", sub) < 0)
        return;
    for (int r = 0; r < o->nruns; r++) {
        int nd = pvt_distinct(&o->runs[r]->t, "design", ds, MAXD);

        for (int i = 0; i < nd; i++) {
            snprintf(path, sizeof(path), "%s/latency/%s-%s-r1.s0.hgrm", o->runs[r]->dir, ds[i],
                     PVT_LOOP_MIXED);
            pvt__plot_series_title(o, r, ds[i], st, sizeof(st));
            pvt_plot_series(&p, st);
            pvt__plot_hgrm_rows(&p, path);
        }
    }
    pvt__plot_finish(o, &p, "spectrum");
}

void pvt__plot_loop(struct pvt_plot_out *o)
{
    static const struct series p99[] = {
        {"light p99, heavy requests running", "light_p99_us", PVT_LOOP_MIXED, 1e-3},
        {"light p99, nothing heavy", "light_p99_us", PVT_LOOP_LIGHT, 1e-3},
        {"light max, heavy requests running", "light_max_us", PVT_LOOP_MIXED, 1e-3},
    };
    static const struct series heavy[] = {
        {"heavy requests/s", "heavy_per_s", PVT_LOOP_MIXED, 1},
    };

    loop_bars(o, "light-p99", "Light requests beside heavy ones: p99 and worst, per design",
              "ms (log)", 1, p99, 3);
    loop_bars(o, "heavy-throughput", "Heavy requests completed per second, per design",
              "requests/s", 0, heavy, 1);
    light_spectrum(o);
}
