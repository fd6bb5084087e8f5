/*
 * plot_modes.c: what pvt plot draws for each mode, from results.csv (and
 * latency/NAME.hgrm and timeline.csv), one run or several overlaid.
 *
 * Every figure is a median over the repetitions of its configuration, with
 * the min-max range as error bars; a series is one backend (and sharing
 * policy, workers...) of one run, titled with the run's host when runs
 * overlay.
 */
#include "plot_modes.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"

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

/* ---- tasks ---- */

static void plot_tasks(struct pvt_plot_out *c)
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

/* ---- http ---- */

/* Requests/s against concurrency (the seeds' table), per route. */
static void http_curve(struct pvt_plot_out *c, const char *route, const char *xcol, const char *wcol)
{
    static const char *const keysc[] = {"concurrency", "backend", "distribution", "workers",
                                        "route"};
    static const char *const keysw[] = {"workers", "backend", "distribution", "concurrency",
                                        "route"};
    const int by_conc = strcmp(xcol, "concurrency") == 0;
    const char *const *keys = by_conc ? keysc : keysw;
    const char *bes[8], *dis[8], *fix[MAXV];
    char name[160], title[256], sub[512], rs[128], st[200];
    struct pvt_plot p;
    int r, b, d, f, nfix;

    pvt_route_slug(route, rs, sizeof(rs));
    snprintf(name, sizeof(name), "%s-%s", by_conc ? "concurrency" : "scaling", rs);
    snprintf(title, sizeof(title), "%s: requests/s on %s against %s", by_conc
             ? "The concurrency table" : "Scaling in serve mode", route, by_conc
             ? "concurrent connections" : "workers");
    pvt__plot_sub(c, "median of the repetitions, bars min-max", sub, sizeof(sub));
    if (pvt_plot_begin(&p, c->dir, name, title, sub) < 0)
        return;
    pvt_plot_var(&p, "xl = \"%s\"; yl = \"requests/s\"; logx = 1; logy = 0; ideal = %d; "
                     "keypos = \"left top\"", by_conc ? "concurrent connections" : "workers",
                 !by_conc);
    for (r = 0; r < c->nruns; r++) {
        const struct pvt_table *t = &c->runs[r]->t;
        int nb = pvt_distinct(t, "backend", bes, 8), nd = pvt_distinct(t, "distribution", dis, 8);
        struct pvt_groups g;

        nfix = pvt_distinct(t, wcol, fix, MAXV);
        if (pvt_group(t, keys, 5, "requests_per_s", NULL, NULL, &g) < 0)
            continue;
        for (f = 0; f < nfix; f++)
            for (b = 0; b < nb; b++)
                for (d = 0; d < nd; d++) {
                    const char *vals[] = {NULL, bes[b], dis[d], fix[f], route};
                    char what[128];

                    snprintf(what, sizeof(what), "%s %s, %s %s", bes[b], dis[d], fix[f],
                             by_conc ? (strcmp(fix[f], "1") ? "workers" : "worker") : "conns");
                    pvt__plot_series_title(c, r, what, st, sizeof(st));
                    pvt_plot_series(&p, st);
                    pvt__plot_series_rows(&p, t, &g, keys, 5, vals, !by_conc);
                }
        pvt_groups_free(&g);
    }
    pvt__plot_finish(c, &p, "lines");
}

/* One .hgrm's data lines (value_ms percentile count 1/(1-p)) into the plot. */
static int hgrm_rows(struct pvt_plot *p, const char *path)
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

/* Latency spectra at one workers x concurrency x route: a line per backend x distribution. */
static void http_spectrum(struct pvt_plot_out *c, const char *route, const char *workers, const char *conc)
{
    const char *bes[8], *dis[8];
    char name[200], title[256], sub[512], rs[128], st[200], path[PATH_MAX + 256];
    struct pvt_plot p;
    int r, b, d;

    pvt_route_slug(route, rs, sizeof(rs));
    snprintf(name, sizeof(name), "latency-%s-w%s-c%s", rs, workers, conc);
    snprintf(title, sizeof(title), "Latency by percentile: %s, %s worker(s), %s connections",
             route, workers, conc);
    pvt__plot_sub(c, "repetition 1 of each; the x axis stretches the tail (1/(1-p))", sub,
              sizeof(sub));
    if (pvt_plot_begin(&p, c->dir, name, title, sub) < 0)
        return;
    for (r = 0; r < c->nruns; r++) {
        const struct pvt_table *t = &c->runs[r]->t;
        int nb = pvt_distinct(t, "backend", bes, 8), nd = pvt_distinct(t, "distribution", dis, 8);

        for (b = 0; b < nb; b++)
            for (d = 0; d < nd; d++) {
                char what[64];

                snprintf(path, sizeof(path), "%s/latency/%s-%s-w%s-c%s-%s-r1.hgrm",
                         c->runs[r]->dir, bes[b], dis[d], workers, conc, rs);
                snprintf(what, sizeof(what), "%s %s", bes[b], dis[d]);
                pvt__plot_series_title(c, r, what, st, sizeof(st));
                pvt_plot_series(&p, st);
                hgrm_rows(&p, path);
            }
    }
    pvt__plot_finish(c, &p, "spectrum");
}

/* Each worker's share of the requests (summed over repetitions), per backend x
 * distribution, at one workers x concurrency x route. */
static void http_share(struct pvt_plot_out *c, const char *route, const char *workers, const char *conc)
{
    int w = atoi(workers), r, row;
    char name[200], title[256], sub[512], rs[128];
    struct pvt_plot p;

    if (w < 2 || w > 64)
        return;
    pvt_route_slug(route, rs, sizeof(rs));
    snprintf(name, sizeof(name), "share-%s-w%s-c%s", rs, workers, conc);
    snprintf(title, sizeof(title), "Who serves the connections: each worker's share of the "
             "requests, %s, %s connections", route, conc);
    pvt__plot_sub(c, "all repetitions summed; J: Jain's fairness index (1 = even), median", sub,
              sizeof(sub));
    if (pvt_plot_begin(&p, c->dir, name, title, sub) < 0)
        return;
    pvt_plot_var(&p, "W = %d", w);
    for (r = 0; r < c->nruns; r++) {
        const struct pvt_table *t = &c->runs[r]->t;
        static const char *const keys[] = {"backend", "distribution", "workers", "concurrency",
                                           "route"};
        struct pvt_groups g;
        int i;

        if (pvt_group(t, keys, 5, "jain", "route", route, &g) < 0)
            continue;
        for (i = 0; i < g.n; i++) {
            double sum[64] = {0}, total = 0;
            char what[160], st[220], line[1024];
            struct pvt_stat js;
            size_t off;
            int k, hit = 0;

            row = g.g[i].row;
            if (strcmp(pvt_table_get(t, row, pvt_table_col(t, "workers")), workers) ||
                strcmp(pvt_table_get(t, row, pvt_table_col(t, "concurrency")), conc))
                continue;
            for (k = 0; k < t->nrows; k++) {
                const char *s = pvt_table_get(t, k, pvt_table_col(t, "shares"));
                int m;

                if (!pvt_same_cfg(t, k, row, keys, 5))
                    continue;
                for (m = 0; m < w && *s; m++) {
                    char *end;

                    sum[m] += strtod(s, &end);
                    s = end + (*end == ';');
                }
                hit = 1;
            }
            for (k = 0; k < w; k++)
                total += sum[k];
            if (!hit || total <= 0)
                continue;
            pvt_grp_stat(&g.g[i], &js);
            snprintf(what, sizeof(what), "%s %s (J %.3f)",
                     pvt_table_get(t, row, pvt_table_col(t, "backend")),
                     pvt_table_get(t, row, pvt_table_col(t, "distribution")), js.med);
            pvt__plot_series_title(c, r, what, st, sizeof(st));
            off = (size_t)snprintf(line, sizeof(line), "\"%s\"", st);
            for (k = 0; k < w && off < sizeof(line); k++)
                off += (size_t)snprintf(line + off, sizeof(line) - off, " %.2f",
                                        100.0 * sum[k] / total);
            pvt_plot_row(&p, "%s", line);
        }
        pvt_groups_free(&g);
    }
    pvt__plot_finish(c, &p, "share");
}

/* The heavy burst: time to complete every request, per workers, a bar per backend x distribution. */
static void http_burst(struct pvt_plot_out *c)
{
    const struct pvt_table *t = &c->runs[0]->t;
    static const char *const keys[] = {"workers", "backend", "distribution"};
    const char *ws[MAXV], *bes[8], *dis[8];
    char sub[512], title[256];
    struct pvt_plot p;
    struct pvt_groups g;
    int nw = pvt_distinct(t, "workers", ws, MAXV), nb = pvt_distinct(t, "backend", bes, 8);
    int nd = pvt_distinct(t, "distribution", dis, 8), w, b, d;

    snprintf(title, sizeof(title), "The heavy burst: seconds to complete %s requests of %s, "
             "%s at a time", pvt_table_get(t, 0, pvt_table_col(t, "requests")),
             pvt_table_get(t, 0, pvt_table_col(t, "route")),
             pvt_table_get(t, 0, pvt_table_col(t, "concurrency")));
    pvt__plot_sub(c, "lower is better; median, bars min-max", sub, sizeof(sub));
    if (pvt_plot_begin(&p, c->dir, "burst", title, sub) < 0)
        return;
    pvt_plot_var(&p, "yl = \"seconds to complete the burst\"; logy = 0");
    if (pvt_group(t, keys, 3, "seconds", NULL, NULL, &g) < 0) {
        pvt_plot_abandon(&p);
        return;
    }
    for (b = 0; b < nb; b++)
        for (d = 0; d < nd; d++) {
            char st[64];

            snprintf(st, sizeof(st), "%s %s", bes[b], dis[d]);
            pvt_plot_title(&p, st);
        }
    for (w = 0; w < nw; w++) {
        char line[1024];
        size_t off = (size_t)snprintf(line, sizeof(line), "\"%s worker%s\"", ws[w],
                                      strcmp(ws[w], "1") ? "s" : "");

        for (b = 0; b < nb; b++)
            for (d = 0; d < nd; d++) {
                const char *vals[] = {ws[w], bes[b], dis[d]};
                struct pvt_stat s;

                pvt_grp_stat(pvt_group_find(t, &g, keys, 3, vals), &s);
                off += (size_t)snprintf(line + off, sizeof(line) - off, " %g %g %g", s.med,
                                        s.lo, s.hi);
            }
        pvt_plot_row(&p, "%s", line);
    }
    pvt_groups_free(&g);
    pvt__plot_finish(c, &p, "bars");
}

static void plot_http(struct pvt_plot_out *c)
{
    const struct pvt_table *t = &c->runs[0]->t;
    const char *routes[MAXV], *ws[MAXV], *cs[MAXV];
    const char *preset = pvt_rundir_param_str(c->runs[0], "preset");
    int nr = pvt_distinct(t, "route", routes, MAXV), nw = pvt_distinct(t, "workers", ws, MAXV);
    int nc = pvt_distinct(t, "concurrency", cs, MAXV), i, w, k;

    if (preset && strcmp(preset, "heavy-burst") == 0) {
        http_burst(c);
        return;
    }
    for (i = 0; i < nr; i++) {
        if (nc > 1)
            http_curve(c, routes[i], "concurrency", "workers");
        if (nw > 1)
            http_curve(c, routes[i], "workers", "concurrency");
        for (w = 0; w < nw; w++) {
            /* The spectrum and the shares at the highest concurrency. */
            const char *top = cs[0];

            for (k = 1; k < nc; k++)
                if (atol(cs[k]) > atol(top))
                    top = cs[k];
            http_spectrum(c, routes[i], ws[w], top);
            http_share(c, routes[i], ws[w], top);
        }
    }
}

/* ---- fault ---- */

static void plot_fault(struct pvt_plot_out *c)
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

int pvt_plot_runs(struct pvt_rundir *const *runs, int nruns, const char *out, int *drawn,
                  char *why, size_t whylen)
{
    struct pvt_plot_out c = {.runs = runs, .nruns = nruns, .dir = out};
    const char *mode = runs[0]->mode;

    if (strcmp(mode, "tasks") == 0)
        plot_tasks(&c);
    else if (strcmp(mode, "http") == 0)
        plot_http(&c);
    else if (strcmp(mode, "fault") == 0)
        plot_fault(&c);
    else if (strcmp(mode, "cost") == 0)
        pvt__plot_cost(&c);
    else if (strcmp(mode, "state") == 0)
        pvt__plot_state(&c);
    else {
        snprintf(why, whylen, "%s: mode '%s' has no plots yet", runs[0]->dir, mode);
        return -ENOTSUP;
    }
    *drawn = c.drawn;
    if (c.failed) {
        snprintf(why, whylen, "%s", c.why);
        return -EIO;
    }
    return 0;
}
