/*
 * report_tasks.c: task mode's verdicts and tables for report.md.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/report/report_int.h"
#include "tasks.h"

#define MAXV 64

static const char *const kw_bw[] = {"backend", "workload", "workers"};

/* The most workers a workload ran with. */
static int max_workers_of(const struct pvt_table *t, const char *workload)
{
    int best = 0, cw = pvt_table_col(t, "workers"), cl = pvt_table_col(t, "workload");

    for (int row = 0; row < t->nrows; row++)
        if (strcmp(pvt_table_get(t, row, cl), workload) == 0 &&
            atoi(pvt_table_get(t, row, cw)) > best)
            best = atoi(pvt_table_get(t, row, cw));
    return best;
}

static int tasks_verdicts(const struct pvt_rundir *r, FILE *f)
{
    const struct pvt_table *t = &r->t;
    const char *wls[MAXV], *bes[16];
    int nw = pvt_distinct(t, "workload", wls, MAXV), nb = pvt_distinct(t, "backend", bes, 16);
    int W, n = 0, i, b;
    char ws[16], what[256];

    for (i = 0; i < nw; i++) {
        struct pvt_stat p1, pn, t1, tn;

        W = max_workers_of(t, wls[i]);
        snprintf(ws, sizeof(ws), "%d", W);
        for (b = 0; b < nb && W > 1; b++) {
            struct pvt_stat s1, sn;

            pvt__rep_stat(t, "jobs_per_s", &s1, 3, kw_bw, (const char *[]){bes[b], wls[i], "1"});
            pvt__rep_stat(t, "jobs_per_s", &sn, 3, kw_bw, (const char *[]){bes[b], wls[i], ws});
            snprintf(what, sizeof(what), "**Scaling**, %s jobs, %s", wls[i], bes[b]);
            n += pvt__rep_scaling(f, what, &s1, &sn, W, "jobs/s");
        }
        if (!pvt__rep_has(bes, nb, "proc") || !pvt__rep_has(bes, nb, "thread"))
            continue;
        pvt__rep_stat(t, "jobs_per_s", &p1, 3, kw_bw, (const char *[]){"proc", wls[i], "1"});
        pvt__rep_stat(t, "jobs_per_s", &t1, 3, kw_bw, (const char *[]){"thread", wls[i], "1"});
        pvt__rep_stat(t, "jobs_per_s", &pn, 3, kw_bw, (const char *[]){"proc", wls[i], ws});
        pvt__rep_stat(t, "jobs_per_s", &tn, 3, kw_bw, (const char *[]){"thread", wls[i], ws});
        snprintf(what, sizeof(what), "**Processes or threads**, %s jobs/s with %d worker%s",
                 wls[i], W, W > 1 ? "s" : "");
        n += pvt__rep_verdict(f, what, "proc", &pn, "thread", &tn, 1, -1, "");
        if (strcmp(wls[i], "noop") == 0) {
            pvt__rep_stat(t, "us_per_job", &p1, 3, kw_bw, (const char *[]){"proc", "noop", "1"});
            pvt__rep_stat(t, "us_per_job", &t1, 3, kw_bw,
                          (const char *[]){"thread", "noop", "1"});
            n += pvt__rep_verdict(f, "**Dispatch cost** of a job that does nothing, 1 worker", "proc",
                         &p1, "thread", &t1, 0, 4, " µs");
        }
    }
    return n;
}

static void tasks_tables(const struct pvt_rundir *r, FILE *f)
{
    static const char *const keys[] = {"workload", "workers", "backend"};
    const struct pvt_table *t = &r->t;
    struct pvt_groups g;
    char a[96], b[96];

    fprintf(f, "| workload | workers | backend | jobs/s: median [min-max] | µs/job | failed |\n"
               "|---|---:|---|---:|---:|---:|\n");
    if (pvt_group(t, keys, 3, "jobs_per_s", NULL, NULL, &g) < 0)
        return;
    for (int i = 0; i < g.n; i++) {
        const int row = g.g[i].row;
        const char *vals[] = {pvt_table_get(t, row, pvt_table_col(t, "backend")),
                              pvt_table_get(t, row, pvt_table_col(t, "workload")),
                              pvt_table_get(t, row, pvt_table_col(t, "workers"))};
        struct pvt_stat s, us, fl;

        pvt_grp_stat(&g.g[i], &s);
        pvt__rep_stat(t, "us_per_job", &us, 3, kw_bw, vals);
        pvt__rep_stat(t, "failed", &fl, 3, kw_bw, vals);
        fprintf(f, "| %s | %s | %s | %s | %s | %.0f |\n", vals[1], vals[2], vals[0],
                pvt_vstat(a, sizeof(a), &s, -1), pvt_vfmt(b, sizeof(b), us.med, 4),
                fl.n ? fl.hi : 0);
    }
    pvt_groups_free(&g);
}

const struct pvt_rep_mode pvt__rep_tasks = {
    "tasks", "Task mode: jobs through each backend's queue", tasks_verdicts, tasks_tables};
