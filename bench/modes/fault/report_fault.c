/*
 * report_fault.c: fault mode's verdicts and tables for report.md.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/report/report_int.h"
#include "bench_fault.h"

#define MAXV 64

static const char *const kw_fault[] = {"fault", "backend"};

/* recovery_ms of fault x backend; an empty one (never back within the run)
 * counts as infinity, the worst. */
static void recovery(const struct pvt_table *t, const char *fault, const char *backend,
                     struct pvt_stat *s)
{
    pvt__rep_stat_empty(t, "recovery_ms", INFINITY, s, 2, kw_fault,
                        (const char *[]){fault, backend});
}

/* --fault-rate: the faults never stop, so there is no recovery to time;
 * per backend, what the steady rate of faults cost it. */
static int rate_lines(const struct pvt_table *t, const char *fault, FILE *f)
{
    static const char *const bes[] = {"proc", "thread"};
    int n = 0;

    for (int b = 0; b < 2; b++) {
        const char *v[] = {fault, bes[b]};
        struct pvt_stat sent, rst, cap;
        char a[96], c[96], d[96];

        pvt__rep_stat(t, "faults_sent", &sent, 2, kw_fault, v);
        if (sent.n == 0)
            continue;
        pvt__rep_stat(t, "restarts", &rst, 2, kw_fault, v);
        pvt__rep_stat(t, "capacity_lost", &cap, 2, kw_fault, v);
        fprintf(f, "  - %s, %s: %s faults sent, %s restarts; the share of the capacity lost "
                   "at the end: %s\n", fault, bes[b], pvt_vstat(a, sizeof(a), &sent, 0),
                pvt_vstat(c, sizeof(c), &rst, 0),
                cap.n ? pvt_vstat(d, sizeof(d), &cap, 2) : "unknown (/stats did not answer)");
        n++;
    }
    return n;
}

static int fault_verdicts(const struct pvt_rundir *r, FILE *f)
{
    const struct pvt_table *t = &r->t;
    const char *faults[MAXV];
    int nf = pvt_distinct(t, "fault", faults, MAXV), n = 0;
    char what[256], a[96];
    double rate = pvt_rundir_param(r, "fault_rate");

    if (rate > 0) {
        fprintf(f, "Each request was the fault with probability %g, from start to end: no "
                   "recovery to time, the figures are what the steady faults cost.\n\n",
                rate);
        for (int i = 0; i < nf; i++) {
            struct pvt_stat fp, ft;

            pvt__rep_stat(t, "failed", &fp, 2, kw_fault, (const char *[]){faults[i], "proc"});
            pvt__rep_stat(t, "failed", &ft, 2, kw_fault, (const char *[]){faults[i], "thread"});
            snprintf(what, sizeof(what), "**%s** at that rate, requests failed", faults[i]);
            n += pvt__rep_verdict(f, what, "proc", &fp, "thread", &ft, 0, 0, "");
            rate_lines(t, faults[i], f);
        }
        return n;
    }
    for (int i = 0; i < nf; i++) {
        struct pvt_stat fp, ft, rp, rt, rep;

        pvt__rep_stat(t, "failed", &fp, 2, kw_fault, (const char *[]){faults[i], "proc"});
        pvt__rep_stat(t, "failed", &ft, 2, kw_fault, (const char *[]){faults[i], "thread"});
        recovery(t, faults[i], "proc", &rp);
        recovery(t, faults[i], "thread", &rt);
        snprintf(what, sizeof(what), "**%s**, requests failed", faults[i]);
        n += pvt__rep_verdict(f, what, "proc", &fp, "thread", &ft, 0, 0, "");
        snprintf(what, sizeof(what), "**%s**, time from the fault back to 95 %% of the rate",
                 faults[i]);
        n += pvt__rep_verdict(f, what, "proc", &rp, "thread", &rt, 0, 1, " ms");
        if ((fp.n == 0) != (ft.n == 0)) { /* one backend only: recycle is proc's alone */
            const int pr = fp.n > 0;

            fprintf(f, "- **%s**, %s only (the other backend has no such run): %s requests "
                       "failed, back to 95 %% of the rate after %s ms\n", faults[i],
                    pr ? "proc" : "thread", pvt_vstat(a, sizeof(a), pr ? &fp : &ft, 0),
                    pvt_vfmt(what, sizeof(what), pr ? rp.med : rt.med, 1));
            n++;
        }
        pvt__rep_stat(t, "replace_us", &rep, 2, kw_fault, (const char *[]){faults[i], "proc"});
        if (rep.n)
            fprintf(f, "  - %s, proc: the replacement worker was ready %s µs after the old one "
                       "was reaped\n", faults[i], pvt_vstat(a, sizeof(a), &rep, 0));
    }
    return n;
}

static void fault_tables(const struct pvt_rundir *r, FILE *f)
{
    const struct pvt_table *t = &r->t;
    struct pvt_groups g;
    char a[96], b[96], c[32], d[32], e[32];
    const int steady = pvt_rundir_param(r, "fault_rate") > 0; /* no recovery to time */

    fprintf(f, "| fault | backend | failed: median [min-max] | recovery ms | first ok ms | "
               "restarts | replace µs | capacity lost |\n"
               "|---|---|---:|---:|---:|---:|---:|---:|\n");
    if (pvt_group(t, kw_fault, 2, "failed", NULL, NULL, &g) < 0)
        return;
    for (int i = 0; i < g.n; i++) {
        const int row = g.g[i].row;
        const char *v[] = {pvt_table_get(t, row, pvt_table_col(t, "fault")),
                           pvt_table_get(t, row, pvt_table_col(t, "backend"))};
        struct pvt_stat s, rec, first, rst, rep, cap;

        pvt_grp_stat(&g.g[i], &s);
        if (steady)
            pvt__rep_stat(t, "recovery_ms", &rec, 2, kw_fault, v);
        else
            recovery(t, v[0], v[1], &rec);
        pvt__rep_stat(t, "first_ok_ms", &first, 2, kw_fault, v);
        pvt__rep_stat(t, "restarts", &rst, 2, kw_fault, v);
        pvt__rep_stat(t, "replace_us", &rep, 2, kw_fault, v);
        pvt__rep_stat(t, "capacity_lost", &cap, 2, kw_fault, v);
        fprintf(f, "| %s | %s | %s | %s | %s | %.0f | %s | %s |\n", v[0], v[1],
                pvt_vstat(a, sizeof(a), &s, 0), rec.n ? pvt_vstat(b, sizeof(b), &rec, 1) : "-",
                pvt_vfmt(c, sizeof(c), first.med, 1), rst.med,
                pvt_vfmt(d, sizeof(d), rep.med, 0), pvt_vfmt(e, sizeof(e), cap.med, 2));
    }
    pvt_groups_free(&g);
}

const struct pvt_rep_mode pvt__rep_fault = {
    "fault", "Faults under load: what each backend loses, and how fast it is whole again",
    fault_verdicts, fault_tables};
