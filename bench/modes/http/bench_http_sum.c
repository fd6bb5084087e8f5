/*
 * bench_http_sum.c: http mode's table and its verdicts, printed from the
 * summaries bench_http.c keeps (the medians and ranges of each
 * configuration's repetitions).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench/backends/backends.h"
#include "bench/common/bench.h"
#include "bench/common/run.h"

void pvt__http_print_header(const struct pvt_bench_cfg *cfg)
{
    printf("%-7s %-9s %7s %6s  %-20s %9s  %-15s %8s %7s %6s %10s", "backend", "distrib", "workers",
           "conc", "route", "req/s", "min-max", "p99_ms", "errors", "jain", "srv_us/req");
    if (cfg->requests)
        printf(" %8s %8s", "time_s", "mean_ms");
    printf("\n");
}

void pvt__http_print_summary(const struct pvt_bench_cfg *cfg, const struct summary *m)
{
    char a[32], b[32], c[32], range[64], jain[16] = "-", srv[16] = "-", mean[16] = "-";

    snprintf(range, sizeof(range), "%s-%s", pvt_bench_human(m->rps_min, a, sizeof(a)),
             pvt_bench_human(m->rps_max, b, sizeof(b)));
    if (!isnan(m->jain))
        snprintf(jain, sizeof(jain), "%.3f", m->jain);
    if (!isnan(m->srv))
        snprintf(srv, sizeof(srv), "%.1f", m->srv);
    printf("%-7s %-9s %7ld %6ld  %-20s %9s  %-15s %8.2f %7llu %6s %10s", m->backend, m->dist,
           m->workers, m->conc, m->route, pvt_bench_human(m->rps, c, sizeof(c)), range,
           m->p99 / 1e3, (unsigned long long)m->errors, jain, srv);
    if (cfg->requests) {
        if (!isnan(m->mean))
            snprintf(mean, sizeof(mean), "%.1f", m->mean / 1e3);
        printf(" %8.2f %8s", m->secs, mean);
    }
    printf("\n");
    fflush(stdout);
}

/* Two min-max ranges that overlap cannot be told apart by this run; with
 * one repetition, the noise was not measured at all. */
static const char *noise(int reps, double lo1, double hi1, double lo2, double hi2)
{
    if (reps < 2)
        return "one repetition: noise not measured";
    return lo1 <= hi2 && lo2 <= hi1 ? "within noise" : NULL;
}

/* 1 if backend serves from threads: a serving backend whose workers are
 * not processes. */
static int threads_of(const char *backend)
{
    return (pvt_backend_caps(backend) & (PVT_CAP_SERVE | PVT_CAP_PROCESSES)) == PVT_CAP_SERVE;
}

static int same_point(const struct summary *a, const struct summary *b)
{
    return a->conc == b->conc && strcmp(a->route, b->route) == 0;
}

/* Per backend, workers > 1, concurrency and route: every distribution's
 * Jain's index against rr's (or the first one's where rr did not run). */
static void fairness(const struct pvt_bench_cfg *cfg, const struct summary *sum, int nsum,
                     const struct summary *base)
{
    const char *verdict;
    int j;

    if (base->workers < 2 || isnan(base->jain))
        return;
    printf("fairness, %s, %ld workers, c%ld, %s: %s %.3f [%.3f-%.3f]", base->backend, base->workers,
           base->conc, base->route, base->dist, base->jain, base->jain_min, base->jain_max);
    for (j = 0; j < nsum; j++) {
        const struct summary *o = &sum[j];
        if (o == base || o->workers != base->workers || !same_point(o, base) ||
            strcmp(o->backend, base->backend) != 0 || isnan(o->jain))
            continue;
        verdict = noise(cfg->repeat, o->jain_min, o->jain_max, base->jain_min, base->jain_max);
        printf("; %s %.3f [%.3f-%.3f], %s", o->dist, o->jain, o->jain_min, o->jain_max,
               verdict                ? verdict
               : o->jain > base->jain ? "fairer"
                                      : "less fair");
    }
    printf("\n");
}

/* a against b in requests/s, "within noise" when their ranges overlap. */
static void compare(int reps, const char *what, const struct summary *a, const struct summary *b)
{
    const char *verdict = noise(reps, a->rps_min, a->rps_max, b->rps_min, b->rps_max);
    char x[4][32];

    printf("%s: %.2fx the requests/s [%s-%s vs %s-%s]%s%s\n", what, a->rps / b->rps,
           pvt_bench_human(a->rps_min, x[0], 32), pvt_bench_human(a->rps_max, x[1], 32),
           pvt_bench_human(b->rps_min, x[2], 32), pvt_bench_human(b->rps_max, x[3], 32),
           verdict ? ", " : "", verdict ? verdict : "");
}

/* What the table implies: fairness of the distributions, scaling from one
 * worker, and threads against processes, each said only from the data. */
void pvt__http_print_verdicts(const struct pvt_bench_cfg *cfg, const struct summary *sum, int nsum)
{
    const char *first = cfg->dists[0];
    char what[256];
    int i, j, k;

    printf("\n");
    for (k = 0; k < cfg->ndists; k++)
        if (strcmp(cfg->dists[k], "rr") == 0)
            first = "rr";
    for (i = 0; i < nsum; i++)
        if (strcmp(sum[i].dist, first) == 0)
            fairness(cfg, sum, nsum, &sum[i]);
    for (k = 0; k < 2; k++) {
        for (i = 0; i < nsum; i++) {
            const struct summary *s = &sum[i];
            for (j = 0; j < nsum; j++) {
                const struct summary *o = &sum[j];
                if (!same_point(o, s) || strcmp(o->dist, s->dist) != 0)
                    continue;
                if (k == 0 && o->workers == 1 && s->workers > 1 &&
                    strcmp(o->backend, s->backend) == 0) {
                    snprintf(what, sizeof(what), "scaling, %s %s, c%ld, %s: %ld workers against 1",
                             s->backend, s->dist, s->conc, s->route, s->workers);
                    compare(cfg->repeat, what, s, o);
                }
                if (k == 1 && o->workers == s->workers && threads_of(s->backend) &&
                    pvt_backend_caps(o->backend) & PVT_CAP_PROCESSES) {
                    snprintf(what, sizeof(what), "threads vs processes, %s, %ld worker%s, c%ld, %s",
                             s->dist, s->workers, s->workers == 1 ? "" : "s", s->conc, s->route);
                    compare(cfg->repeat, what, s, o);
                }
            }
        }
    }
}

/* ---- the sweep ------------------------------------------------------------------------------ */
