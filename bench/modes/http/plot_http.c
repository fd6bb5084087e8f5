/*
 * plot_http.c: serve mode's plots: requests/s and p99 against concurrency
 * and workers, latency spectra, each worker's share, and the heavy burst.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/plot/plot.h"
#include "bench_http.h"

#define MAXV 64

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
                pvt__plot_hgrm_rows(&p, path);
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

void pvt__plot_http(struct pvt_plot_out *c)
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
