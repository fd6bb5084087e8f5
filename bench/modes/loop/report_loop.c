/*
 * report_loop.c: loop mode's table and verdicts for report.md (and for the
 * run's own summary, which reads them back from results.csv the same way).
 * Every figure is a median over the repetitions with its min-max range;
 * each design is compared with the one loop running the heavy requests
 * inline.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/report/report_int.h"
#include "bench_loop.h"

#define MAXD 16

static const char *const kw[] = {"design", "phase"};

static void stat_of(const struct pvt_table *t, const char *col, const char *design,
                    const char *phase, struct pvt_stat *s, double scale)
{
    pvt__rep_stat(t, col, s, 2, kw, (const char *[]){design, phase});
    s->med *= scale;
    s->lo *= scale;
    s->hi *= scale;
}

static double col_sum(const struct pvt_table *t, const char *col, const char *design)
{
    int cd = pvt_table_col(t, "design"), cc = pvt_table_col(t, col);
    double sum = 0, v;

    for (int row = 0; row < t->nrows; row++)
        if (strcmp(pvt_table_get(t, row, cd), design) == 0 && pvt_table_num(t, row, cc, &v) == 0)
            sum += v;
    return sum;
}

static void loop_tables(const struct pvt_rundir *r, FILE *f)
{
    const struct pvt_table *t = &r->t;
    const char *ds[MAXD];
    int nd = pvt_distinct(t, "design", ds, MAXD);
    char a[96], b[96], c[96], d[96], e[96], g[96];

    fprintf(f, "Light: GET / at a constant rate; heavy: %s, one at a time. Latency in ms, "
               "median of the repetitions [min-max].\n\n",
            pvt_rundir_param_str(r, "heavy_route") ?: "?");
    fprintf(f, "| design | light p50 | light p99 | light max | light p99, nothing heavy | "
               "heavy/s | errors (light, heavy) | server CPU µs/req |\n"
               "|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < nd; i++) {
        struct pvt_stat p50, p99, mx, lp99, hps, srv;

        stat_of(t, "light_p50_us", ds[i], PVT_LOOP_MIXED, &p50, 1e-3);
        stat_of(t, "light_p99_us", ds[i], PVT_LOOP_MIXED, &p99, 1e-3);
        stat_of(t, "light_max_us", ds[i], PVT_LOOP_MIXED, &mx, 1e-3);
        stat_of(t, "light_p99_us", ds[i], PVT_LOOP_LIGHT, &lp99, 1e-3);
        stat_of(t, "heavy_per_s", ds[i], PVT_LOOP_MIXED, &hps, 1);
        stat_of(t, "server_cpu_us_per_req", ds[i], PVT_LOOP_MIXED, &srv, 1);
        fprintf(f, "| %s | %s | %s | %s | %s | %s | %.0f, %.0f | %s |\n", ds[i],
                pvt_vstat(a, sizeof(a), &p50, 2), pvt_vstat(b, sizeof(b), &p99, 2),
                pvt_vstat(c, sizeof(c), &mx, 2), pvt_vstat(d, sizeof(d), &lp99, 2),
                pvt_vstat(e, sizeof(e), &hps, 2), col_sum(t, "light_errors", ds[i]),
                col_sum(t, "heavy_errors", ds[i]), pvt_vstat(g, sizeof(g), &srv, 1));
    }
}

/* "- WHAT: DESIGN x ms against inline y ms: " and pvt_compare's word on the
 * two ranges: "within noise", or "lower" or "higher", preceded by the
 * medians' ratio ("Nx lower") when ratio is set. 1 if written. */
static int vs_inline(FILE *f, const char *what, const char *design, const struct pvt_stat *s,
                     const struct pvt_stat *base, int ratio)
{
    char a[96], b[96];
    int single;
    enum pvt_cmp c = pvt_compare(s, base, 0, &single);

    if (s->n == 0 || base->n == 0 || !(s->med > 0) || (ratio && !(base->med > 0)))
        return 0;
    fprintf(f, "- %s: %s %s ms against inline %s ms: ", what, design,
            pvt_vstat(a, sizeof(a), s, 2), pvt_vstat(b, sizeof(b), base, 2));
    if (c == PVT_CMP_NOISE)
        fprintf(f, "within noise");
    else if (ratio)
        fprintf(f, "%.0fx %s", base->med >= s->med ? base->med / s->med : s->med / base->med,
                base->med >= s->med ? "lower" : "higher");
    else
        fprintf(f, "%s", base->med >= s->med ? "lower" : "higher");
    fprintf(f, "%s\n", single ? " (one repetition: noise not measured)" : "");
    return 1;
}

static int loop_verdicts(const struct pvt_rundir *r, FILE *f)
{
    const struct pvt_table *t = &r->t;
    const char *ds[MAXD];
    int nd = pvt_distinct(t, "design", ds, MAXD), n = 0;
    struct pvt_stat base, base_mx, base_light, base_h;

    stat_of(t, "light_p99_us", "inline", PVT_LOOP_MIXED, &base, 1e-3);
    stat_of(t, "light_max_us", "inline", PVT_LOOP_MIXED, &base_mx, 1e-3);
    stat_of(t, "light_p50_us", "inline", PVT_LOOP_LIGHT, &base_light, 1e-3);
    stat_of(t, "heavy_per_s", "inline", PVT_LOOP_MIXED, &base_h, 1);
    if (base.n == 0)
        return 0;
    for (int i = 0; i < nd; i++) {
        struct pvt_stat p99, mx, lp50, hps;

        if (strcmp(ds[i], "inline") == 0)
            continue;
        stat_of(t, "light_p99_us", ds[i], PVT_LOOP_MIXED, &p99, 1e-3);
        stat_of(t, "light_max_us", ds[i], PVT_LOOP_MIXED, &mx, 1e-3);
        stat_of(t, "light_p50_us", ds[i], PVT_LOOP_LIGHT, &lp50, 1e-3);
        stat_of(t, "heavy_per_s", ds[i], PVT_LOOP_MIXED, &hps, 1);
        n += vs_inline(f, "light p99 while heavy requests run", ds[i], &p99, &base, 1);
        n += vs_inline(f, "worst light request while heavy requests run", ds[i], &mx, &base_mx,
                        1);
        n += vs_inline(f, "light p50 with nothing heavy running (what the design costs a "
                          "light request)",
                       ds[i], &lp50, &base_light, 0);
        n += pvt__rep_verdict(f, "heavy requests/s", ds[i], &hps, "inline", &base_h, 1, 2, "");
    }
    return n;
}

const struct pvt_rep_mode pvt__rep_loop = {
    "loop", "The event loop: light requests beside heavy ones, inline, N loops, or a pool",
    loop_verdicts, loop_tables};
