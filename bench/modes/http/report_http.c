/*
 * report_http.c: serve mode's verdicts and tables for report.md.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/report/report_int.h"
#include "bench_http.h"

#define MAXV 64

static const char *const kw_http[] = {"backend", "distribution", "workers", "concurrency",
                                      "route"};

static long max_conc(const struct pvt_table *t, const char *route)
{
    long best = 0;

    for (int row = 0; row < t->nrows; row++)
        if (strcmp(pvt_table_get(t, row, pvt_table_col(t, "route")), route) == 0)
            best = labs(atol(pvt_table_get(t, row, pvt_table_col(t, "concurrency")))) > best
                       ? atol(pvt_table_get(t, row, pvt_table_col(t, "concurrency")))
                       : best;
    return best;
}

static int http_fairness(const struct pvt_rundir *r, FILE *f, const char *route, const char *ws,
                         const char *cs, const char *const *bes, int nb)
{
    const struct pvt_table *t = &r->t;
    const char *dis[8];
    int nd = pvt_distinct(t, "distribution", dis, 8), n = 0;
    char what[256];

    if (!pvt__rep_has(dis, nd, "rr") || atoi(ws) < 2)
        return 0;
    for (int b = 0; b < nb; b++) {
        struct pvt_stat rr, o;

        pvt__rep_stat(t, "jain", &rr, 5, kw_http, (const char *[]){bes[b], "rr", ws, cs, route});
        for (int d = 0; d < nd; d++) {
            if (strcmp(dis[d], "rr") == 0)
                continue;
            pvt__rep_stat(t, "jain", &o, 5, kw_http,
                          (const char *[]){bes[b], dis[d], ws, cs, route});
            snprintf(what, sizeof(what), "**Fairness** (Jain's index, 1 = even), %s, %s workers, "
                     "%s connections, %s", bes[b], ws, cs, route);
            n += pvt__rep_verdict(f, what, "rr", &rr, dis[d], &o, 1, 3, "");
        }
    }
    return n;
}

static int http_verdicts(const struct pvt_rundir *r, FILE *f)
{
    const struct pvt_table *t = &r->t;
    const char *routes[MAXV], *bes[16], *dis[8];
    int nr = pvt_distinct(t, "route", routes, MAXV), nb = pvt_distinct(t, "backend", bes, 16);
    int nd = pvt_distinct(t, "distribution", dis, 8), W = pvt__rep_max_workers(t, "workers");
    const char *preset = pvt_rundir_param_str(r, "preset");
    const int burst = preset && strcmp(preset, "heavy-burst") == 0;
    const char *value = burst ? "seconds" : "requests_per_s";
    int n = 0, i, b, d, shared_cpus = json_is_true(json_object_get(
                                        json_object_get(r->meta, "params"), "cpus_shared"));
    char ws[16], cs[32], what[256], w1[16], wn[24];

    snprintf(ws, sizeof(ws), "%d", W);
    for (i = 0; i < nr; i++) {
        snprintf(cs, sizeof(cs), "%ld", max_conc(t, routes[i]));
        for (d = 0; d < nd; d++) {
            struct pvt_stat p, th;

            for (b = 0; b < nb && W > 1; b++) {
                struct pvt_stat s1, sn;

                pvt__rep_stat(t, "requests_per_s", &s1, 5, kw_http,
                              (const char *[]){bes[b], dis[d], "1", cs, routes[i]});
                pvt__rep_stat(t, "requests_per_s", &sn, 5, kw_http,
                              (const char *[]){bes[b], dis[d], ws, cs, routes[i]});
                snprintf(what, sizeof(what), "**Scaling**, %s %s, %s connections, %s", bes[b],
                         dis[d], cs, routes[i]);
                n += pvt__rep_scaling(f, what, &s1, &sn, W, "requests/s");
                if (!burst)
                    continue;
                /* The seeds' burst figure: the mean latency, one worker against N. */
                pvt__rep_stat(t, "mean_us", &s1, 5, kw_http,
                              (const char *[]){bes[b], dis[d], "1", cs, routes[i]});
                pvt__rep_stat(t, "mean_us", &sn, 5, kw_http,
                              (const char *[]){bes[b], dis[d], ws, cs, routes[i]});
                s1.med /= 1000, s1.lo /= 1000, s1.hi /= 1000;
                sn.med /= 1000, sn.lo /= 1000, sn.hi /= 1000;
                snprintf(what, sizeof(what), "**Mean latency** of the burst, %s %s", bes[b],
                         dis[d]);
                snprintf(w1, sizeof(w1), "1 worker");
                snprintf(wn, sizeof(wn), "%d workers", W);
                n += pvt__rep_verdict(f, what, w1, &s1, wn, &sn, 0, -1, " ms");
            }
            pvt__rep_stat(t, value, &p, 5, kw_http,
                          (const char *[]){"proc", dis[d], ws, cs, routes[i]});
            pvt__rep_stat(t, value, &th, 5, kw_http,
                          (const char *[]){"thread", dis[d], ws, cs, routes[i]});
            snprintf(what, sizeof(what), "**Processes or threads**, %s, %s, %s workers, %s "
                     "connections, %s", burst ? "seconds to complete the burst" : "requests/s",
                     dis[d], ws, cs, routes[i]);
            n += pvt__rep_verdict(f, what, "proc", &p, "thread", &th, !burst, -1, burst ? " s" : "");
        }
        n += http_fairness(r, f, routes[i], ws, cs, bes, nb);
    }
    for (b = 0; b < nb; b++) {
        struct pvt_stat e;

        pvt__rep_stat(t, "errors", &e, 1, kw_http, (const char *[]){bes[b]});
        if (e.n)
            fprintf(f, "- **Failed requests**, %s: %s over %d runs (at most %.0f in one)\n",
                    bes[b], e.hi > 0 ? "some" : "none", e.n, e.hi);
        n += e.n > 0;
    }
    if (shared_cpus)
        fprintf(f, "- **Note:** the load generator ran on the same CPUs as the server, so the "
                   "server never had every core to itself: more workers than the cores left "
                   "to it cannot gain, and that is a finding about this machine, not a fault.\n");
    return n;
}

static void http_tables(const struct pvt_rundir *r, FILE *f)
{
    const struct pvt_table *t = &r->t;
    struct pvt_groups g;
    char a[96], b[32], c[32];

    fprintf(f, "| backend | distribution | workers | conns | route | requests/s: median "
               "[min-max] | p99 ms | seconds | errors | Jain |\n"
               "|---|---|---:|---:|---|---:|---:|---:|---:|---:|\n");
    if (pvt_group(t, kw_http, 5, "requests_per_s", NULL, NULL, &g) < 0)
        return;
    for (int i = 0; i < g.n; i++) {
        const int row = g.g[i].row;
        const char *v[5];
        struct pvt_stat s, p99, sec, err, jain;

        for (int k = 0; k < 5; k++)
            v[k] = pvt_table_get(t, row, pvt_table_col(t, kw_http[k]));
        pvt_grp_stat(&g.g[i], &s);
        pvt__rep_stat(t, "p99_us", &p99, 5, kw_http, v);
        pvt__rep_stat(t, "seconds", &sec, 5, kw_http, v);
        pvt__rep_stat(t, "errors", &err, 5, kw_http, v);
        pvt__rep_stat(t, "jain", &jain, 5, kw_http, v);
        fprintf(f, "| %s | %s | %s | %s | `%s` | %s | %s | %s | %.0f | %.3f |\n", v[0], v[1], v[2],
                v[3], v[4], pvt_vstat(a, sizeof(a), &s, -1),
                pvt_vfmt(b, sizeof(b), p99.med / 1000, 2), pvt_vfmt(c, sizeof(c), sec.med, 2),
                err.n ? err.hi : 0, jain.med);
    }
    pvt_groups_free(&g);
}

const struct pvt_rep_mode pvt__rep_http = {"http", "Serve mode: HTTP on one shared port",
                                           http_verdicts, http_tables};
