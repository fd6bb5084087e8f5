/*
 * plot_fault.c: fault mode's plots. A bar chart per figure (failed
 * requests, recovery) with a bar per fault x backend, and per fault its
 * timeline from timeline.csv: the whole run, and the first moments after
 * the fault.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/plot/plot.h"
#include "bench_fault.h"

#define MAXV 64

#define MAXB 16

void pvt__plot_fault_bars(struct pvt_plot_out *o, const char *const *faults, int nf,
                          const char *col, const char *ylabel)
{
    static const char *const keys[] = {"fault", "backend"};
    const char *bes[MAXB][MAXB];
    int nb[MAXB], r, b, f;
    char name[64], title[256], sub[512];
    struct pvt_groups g[MAXB];
    struct pvt_plot p;

    snprintf(name, sizeof(name), "fault-%s", col);
    snprintf(title, sizeof(title), "Faults under load: %s, per fault and backend", ylabel);
    pvt__plot_sub(o, "lower is better; median of the repetitions, bars min-max", sub,
                  sizeof(sub));
    if (pvt_plot_begin(&p, o->dir, name, title, sub) < 0)
        return;
    pvt_plot_var(&p, "yl = \"%s\"; logy = 0", ylabel);
    for (r = 0; r < o->nruns && r < MAXB; r++) {
        nb[r] = pvt_distinct(&o->runs[r]->t, "backend", bes[r], MAXB);
        if (pvt_group(&o->runs[r]->t, keys, 2, col, NULL, NULL, &g[r]) < 0)
            g[r].n = 0;
        for (b = 0; b < nb[r]; b++) {
            char st[160];

            pvt__plot_series_title(o, r, bes[r][b], st, sizeof(st));
            pvt_plot_title(&p, st);
        }
    }
    for (f = 0; f < nf; f++) {
        char line[2048];
        size_t off = (size_t)snprintf(line, sizeof(line), "\"%s\"", faults[f]);

        for (r = 0; r < o->nruns && r < MAXB; r++)
            for (b = 0; b < nb[r]; b++) {
                const char *vals[] = {faults[f], bes[r][b]};
                struct pvt_stat s;

                pvt_grp_stat(pvt_group_find(&o->runs[r]->t, &g[r], keys, 2, vals), &s);
                if (isinf(s.med))
                    s.med = NAN;
                off += (size_t)snprintf(line + off, sizeof(line) - off, " %g %g %g", s.med,
                                        s.lo, isinf(s.hi) ? s.med : s.hi);
            }
        pvt_plot_row(&p, "%s", line);
    }
    for (r = 0; r < o->nruns && r < MAXB; r++)
        pvt_groups_free(&g[r]);
    pvt__plot_finish(o, &p, "bars");
}

/* Repetition 1 of fault x backend in a run's results.csv: its row, or -1. */
static int result_row(const struct pvt_table *t, const char *fault, const char *backend)
{
    int cf = pvt_table_col(t, "fault"), cb = pvt_table_col(t, "backend");
    int cr = pvt_table_col(t, "repetition");

    for (int row = 0; row < t->nrows; row++)
        if (strcmp(pvt_table_get(t, row, cf), fault) == 0 &&
            strcmp(pvt_table_get(t, row, cb), backend) == 0 &&
            strcmp(pvt_table_get(t, row, cr), "1") == 0)
            return row;
    return -1;
}

/* One series: the bins of timeline.csv for fault x backend, repetition 1,
 * t counted from the fault. Returns the bins written. */
static int timeline_rows(struct pvt_plot *p, const struct pvt_table *tl, const char *fault,
                         const char *backend, double at)
{
    int cb = pvt_table_col(tl, "backend"), cf = pvt_table_col(tl, "fault");
    int cr = pvt_table_col(tl, "repetition"), ct = pvt_table_col(tl, "t_ms");
    int cok = pvt_table_col(tl, "ok"), cfl = pvt_table_col(tl, "failed");
    int cp = pvt_table_col(tl, "p99_us"), n = 0;

    for (int row = 0; row < tl->nrows; row++) {
        double t, ok = 0, failed = 0, p99 = NAN;

        if (strcmp(pvt_table_get(tl, row, cb), backend) || strcmp(pvt_table_get(tl, row, cf), fault) ||
            strcmp(pvt_table_get(tl, row, cr), "1") || !pvt_table_num(tl, row, ct, &t))
            continue;
        pvt_table_num(tl, row, cok, &ok);
        pvt_table_num(tl, row, cfl, &failed);
        pvt_table_num(tl, row, cp, &p99);
        /* 10 ms bins, drawn at their middle: counts x 100 are per second. */
        pvt_plot_row(p, "%g %g %g %g", t + 5 - at, ok * 100, failed * 100, p99 / 1000);
        n++;
    }
    return n;
}

void pvt__plot_fault_timeline(struct pvt_plot_out *o, const char *fault, int zoom)
{
    char name[128], title[256], sub[512], rec[1024] = "";
    double xmin = 0, xmax = 0, last_rec = 0;
    struct pvt_plot p;
    size_t off = 0;
    int r, nser = 0;

    snprintf(name, sizeof(name), "timeline-%s%s", fault, zoom ? "-zoom" : "");
    for (char *s = name; *s; s++)
        if (*s == ':' || *s == '@' || *s == '=')
            *s = '-';
    const double steady = pvt_rundir_param(o->runs[0], "fault_rate");

    if (steady > 0)
        snprintf(title, sizeof(title), "Fault '%s' at a steady rate under a constant-rate load",
                 fault);
    else
        snprintf(title, sizeof(title), "Fault '%s' under a constant-rate load%s", fault,
                 zoom ? ": the moments after it" : ": the whole run");
    pvt__plot_sub(o, "10 ms bins, repetition 1 of each backend", sub, sizeof(sub));
    if (pvt_plot_begin(&p, o->dir, name, title, sub) < 0)
        return;
    for (r = 0; r < o->nruns; r++) {
        const struct pvt_table *t = &o->runs[r]->t;
        struct pvt_table tl;
        char path[PATH_MAX + 32];
        const char *bes[MAXB];
        int nb = pvt_distinct(t, "backend", bes, MAXB), b;
        double dur = pvt_rundir_param(o->runs[r], "duration_ms");

        snprintf(path, sizeof(path), "%s/timeline.csv", o->runs[r]->dir);
        if (pvt_csv_load(path, &tl) < 0)
            continue;
        for (b = 0; b < nb; b++) {
            int row = result_row(t, fault, bes[b]);
            double at = NAN, recov = NAN;
            char st[160];

            if (row < 0 || !pvt_table_num(t, row, pvt_table_col(t, "fault_at_ms"), &at))
                continue;
            pvt_table_num(t, row, pvt_table_col(t, "recovery_ms"), &recov);
            pvt__plot_series_title(o, r, bes[b], st, sizeof(st));
            pvt_plot_series(&p, st);
            if (timeline_rows(&p, &tl, fault, bes[b], at) == 0)
                continue;
            if (off < sizeof(rec) - 32)
                off += (size_t)(isnan(recov) ? snprintf(rec + off, 32, "%sNaN", nser ? ", " : "")
                                             : snprintf(rec + off, 32, "%s%g", nser ? ", " : "",
                                                        recov));
            if (!isnan(recov))
                last_rec = fmax(last_rec, recov);
            nser++;
            xmin = fmin(xmin, -at);
            xmax = fmax(xmax, dur - at);
        }
        pvt_table_free(&tl);
    }
    if (zoom) {
        xmin = fmax(xmin, -100);
        xmax = fmin(xmax, fmax(400, 1.5 * last_rec + 50));
    }
    pvt_plot_var(&p, "array R[%d] = [%s]", nser ? nser : 1, nser ? rec : "NaN");
    pvt_plot_var(&p, "xmin = %g; xmax = %g", xmin, xmax);
    if (steady > 0) {
        pvt_plot_var(&p, "fl = \"faults from here on\"");
        pvt_plot_var(&p, "xl = \"ms from the start (each request the fault with probability "
                         "%g)\"", steady);
    } else {
        pvt_plot_var(&p, "fl = \"fault\"");
        pvt_plot_var(&p, "xl = \"ms from the fault (dotted: back to 95 %% of the rate)\"");
    }
    pvt__plot_finish(o, &p, "timeline");
}

/* ---- fault ---- */

void pvt__plot_fault(struct pvt_plot_out *c)
{
    const struct pvt_table *t = &c->runs[0]->t;
    const char *faults[MAXV];
    int nf = pvt_distinct(t, "fault", faults, MAXV), f;

    pvt__plot_fault_bars(c, faults, nf, "failed", "requests failed");
    /* Under --fault-rate the faults never stop: no recovery to draw. */
    if (!(pvt_rundir_param(c->runs[0], "fault_rate") > 0))
        pvt__plot_fault_bars(c, faults, nf, "recovery_ms",
                             "ms from the fault back to 95 % of the rate");
    for (f = 0; f < nf; f++)
        for (int zoom = 0; zoom < 2; zoom++)
            if (!zoom || !(pvt_rundir_param(c->runs[0], "fault_rate") > 0))
                pvt__plot_fault_timeline(c, faults[f], zoom);
}
