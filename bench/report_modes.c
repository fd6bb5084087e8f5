/*
 * report_modes.c: each mode's verdicts and tables for report.md.
 *
 * A verdict is one line computed from results.csv: a figure of two sides
 * (two backends, two sharing policies, N workers against 1) with medians
 * and ranges, and pvt_compare's word on them. Nothing here is measured or
 * assumed: a figure missing on a side makes no verdict.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"

#define MAXV 64

static const char *const kw_bw[] = {"backend", "workload", "workers"};

/* "- " and pvt_verdict's sentence; returns 1 if both sides had data. */
static int verdict(FILE *f, const char *what, const char *a, const struct pvt_stat *sa,
                   const char *b, const struct pvt_stat *sb, int higher, int digits,
                   const char *unit)
{
    char line[1024];

    if (sa->n == 0 || sb->n == 0)
        return 0;
    fprintf(f, "- %s\n", pvt_verdict(line, sizeof(line), what, a, sa, b, sb, higher, digits, unit));
    return 1;
}

/* "N workers against 1: 1.54x (ideal Nx)", with pvt_compare's word. */
static int scaling(FILE *f, const char *what, const struct pvt_stat *s1, const struct pvt_stat *sn,
                   int n, const char *unit)
{
    char a[96], b[96];
    int single;
    enum pvt_cmp c = pvt_compare(sn, s1, 1, &single);

    if (s1->n == 0 || sn->n == 0 || !(s1->med > 0))
        return 0;
    fprintf(f, "- %s: %d workers do %.2fx the %s of 1 (ideal %dx): %s against %s; %s%s\n", what,
            n, sn->med / s1->med, unit, n, pvt_vstat(a, sizeof(a), sn, -1),
            pvt_vstat(b, sizeof(b), s1, -1),
            c == PVT_CMP_NOISE ? "within noise of 1 worker: no measurable gain"
            : c == PVT_CMP_A   ? "a gain"
                               : "fewer than with 1 worker",
            single ? " (one repetition: noise not measured)" : "");
    return 1;
}

static int has(const char *const *v, int n, const char *want)
{
    for (int i = 0; i < n; i++)
        if (strcmp(v[i], want) == 0)
            return 1;
    return 0;
}

/* ---- tasks ---- */

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
            n += scaling(f, what, &s1, &sn, W, "jobs/s");
        }
        if (!has(bes, nb, "proc") || !has(bes, nb, "thread"))
            continue;
        pvt__rep_stat(t, "jobs_per_s", &p1, 3, kw_bw, (const char *[]){"proc", wls[i], "1"});
        pvt__rep_stat(t, "jobs_per_s", &t1, 3, kw_bw, (const char *[]){"thread", wls[i], "1"});
        pvt__rep_stat(t, "jobs_per_s", &pn, 3, kw_bw, (const char *[]){"proc", wls[i], ws});
        pvt__rep_stat(t, "jobs_per_s", &tn, 3, kw_bw, (const char *[]){"thread", wls[i], ws});
        snprintf(what, sizeof(what), "**Processes or threads**, %s jobs/s with %d worker%s",
                 wls[i], W, W > 1 ? "s" : "");
        n += verdict(f, what, "proc", &pn, "thread", &tn, 1, -1, "");
        if (strcmp(wls[i], "noop") == 0) {
            pvt__rep_stat(t, "us_per_job", &p1, 3, kw_bw, (const char *[]){"proc", "noop", "1"});
            pvt__rep_stat(t, "us_per_job", &t1, 3, kw_bw,
                          (const char *[]){"thread", "noop", "1"});
            n += verdict(f, "**Dispatch cost** of a job that does nothing, 1 worker", "proc",
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

/* ---- http ---- */

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

    if (!has(dis, nd, "rr") || atoi(ws) < 2)
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
            n += verdict(f, what, "rr", &rr, dis[d], &o, 1, 3, "");
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
                n += scaling(f, what, &s1, &sn, W, "requests/s");
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
                n += verdict(f, what, w1, &s1, wn, &sn, 0, -1, " ms");
            }
            pvt__rep_stat(t, value, &p, 5, kw_http,
                          (const char *[]){"proc", dis[d], ws, cs, routes[i]});
            pvt__rep_stat(t, value, &th, 5, kw_http,
                          (const char *[]){"thread", dis[d], ws, cs, routes[i]});
            snprintf(what, sizeof(what), "**Processes or threads**, %s, %s, %s workers, %s "
                     "connections, %s", burst ? "seconds to complete the burst" : "requests/s",
                     dis[d], ws, cs, routes[i]);
            n += verdict(f, what, "proc", &p, "thread", &th, !burst, -1, burst ? " s" : "");
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

/* ---- fault ---- */

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
            n += verdict(f, what, "proc", &fp, "thread", &ft, 0, 0, "");
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
        n += verdict(f, what, "proc", &fp, "thread", &ft, 0, 0, "");
        snprintf(what, sizeof(what), "**%s**, time from the fault back to 95 %% of the rate",
                 faults[i]);
        n += verdict(f, what, "proc", &rp, "thread", &rt, 0, 1, " ms");
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

const struct pvt_rep_mode pvt__rep_tasks = {
    "tasks", "Task mode: jobs through each backend's queue", tasks_verdicts, tasks_tables};
const struct pvt_rep_mode pvt__rep_http = {"http", "Serve mode: HTTP on one shared port",
                                           http_verdicts, http_tables};
const struct pvt_rep_mode pvt__rep_fault = {
    "fault", "Faults under load: what each backend loses, and how fast it is whole again",
    fault_verdicts, fault_tables};
