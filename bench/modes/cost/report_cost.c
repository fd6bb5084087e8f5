/*
 * report_cost.c: cost mode's verdicts and table for report.md: what a
 * worker costs to start, to keep and to talk to, pvt's pools against each
 * other and against the bare OS calls measured in the same run; and the
 * hop section's crossover, read back from the rows (pvt__hop_table_cross,
 * which the plot uses too).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/report/report_int.h"
#include "bench_cost.h"

static const char *const kw[] = {"section", "backend", "mechanism", "variant", "workers",
                                 "heap_mb"};

/* The stat of col over the rows of section x backend x mechanism x variant
 * (NULL: any) x workers (NULL: any). */
static void cs(const struct pvt_table *t, const char *col, struct pvt_stat *s,
               const char *section, const char *backend, const char *mech, const char *variant,
               const char *workers)
{
    const char *c[6], *v[6];
    int n = 0;

    c[n] = "section", v[n++] = section;
    c[n] = "backend", v[n++] = backend;
    c[n] = "mechanism", v[n++] = mech;
    if (variant)
        c[n] = "variant", v[n++] = variant;
    if (workers)
        c[n] = "workers", v[n++] = workers;
    pvt__rep_stat(t, col, s, n, c, v);
}

static int line(FILE *f, const char *what, const char *a, const struct pvt_stat *sa,
                const char *b, const struct pvt_stat *sb, int digits, const char *unit)
{
    char buf[1024];

    if (sa->n == 0 || sb->n == 0)
        return 0;
    fprintf(f, "- %s\n", pvt_verdict(buf, sizeof(buf), what, a, sa, b, sb, 0, digits, unit));
    return 1;
}

/* The smallest and largest heap_mb the heap section ran with. */
static void heap_range(const struct pvt_table *t, char *lo, char *hi, size_t len)
{
    const char *v[64];
    int n = pvt_distinct(t, "heap_mb", v, 64);
    double a = INFINITY, b = -INFINITY;

    lo[0] = hi[0] = '\0';
    for (int i = 0; i < n; i++) {
        double x = atof(v[i]);

        if (!*v[i])
            continue;
        if (x < a)
            a = x, snprintf(lo, len, "%s", v[i]);
        if (x > b)
            b = x, snprintf(hi, len, "%s", v[i]);
    }
}

/* Start-up: proc against thread, and each pool against the bare calls, at
 * W (w as text) workers. */
static int startup_verdicts(const struct pvt_table *t, const char *w, int W, FILE *f)
{
    struct pvt_stat a, b;
    char what[256];
    int n = 0;

    for (int k = 0; k < 2; k++) {
        const char *ws = k ? w : "1";

        cs(t, "spawn_us", &a, "startup", "proc", "pool", NULL, ws);
        cs(t, "spawn_us", &b, "startup", "thread", "pool", NULL, ws);
        snprintf(what, sizeof(what), "**Start-up**, µs per worker to have %s ready", ws);
        n += line(f, what, "proc", &a, "thread", &b, 1, "");
        if (k == 0 && W == 1)
            break;
    }
    cs(t, "spawn_us", &a, "startup", "proc", "pool", NULL, w);
    cs(t, "spawn_us", &b, "startup", "proc", "fork", NULL, w);
    snprintf(what, sizeof(what), "**pvt's harness against a bare fork**, µs per worker, %s "
             "workers (pvt's goal: within 4x)", w);
    n += line(f, what, "pvt proc pool", &a, "bare fork", &b, 1, "");
    cs(t, "spawn_us", &a, "startup", "thread", "pool", NULL, w);
    cs(t, "spawn_us", &b, "startup", "thread", "pthread_create", NULL, w);
    snprintf(what, sizeof(what), "**pvt's harness against a bare pthread_create**, µs per "
             "worker, %s workers (pvt's goal: within 4x)", w);
    n += line(f, what, "pvt thread pool", &a, "bare pthread_create", &b, 1, "");
    for (int k = 0; k < 2; k++) {
        /* With pinning: against the bare call whose workers bind themselves
         * as the pool's do, what is left is pvt's own share. */
        const char *be = k ? "thread" : "proc", *bare = k ? "pthread-bound" : "fork-bound";

        cs(t, "spawn_us", &a, "startup", be, "pool", NULL, w);
        cs(t, "spawn_us", &b, "startup", be, bare, NULL, w);
        if (b.n == 0)
            continue;
        snprintf(what, sizeof(what), "**pvt's %s pool against a bare %s whose workers bind "
                 "themselves as the pool's do**, µs per worker, %s workers: what is left is "
                 "pvt's own share", be, k ? "pthread_create" : "fork", w);
        n += line(f, what, k ? "pvt thread pool" : "pvt proc pool", &a, bare, &b, 1, "");
    }
    return n;
}

/* A touched heap: the smallest against the largest, for each bare call. */
static int heap_verdicts(const struct pvt_table *t, FILE *f)
{
    const char *mechs[] = {"fork", "pthread_create"}, *bes[] = {"proc", "thread"};
    const char *c[] = {"section", "backend", "mechanism", "heap_mb"};
    struct pvt_stat a, b;
    char what[256], lo[32], hi[32], sa[32], sb[32];
    int n = 0;

    heap_range(t, lo, hi, sizeof(lo));
    if (!*lo || strcmp(lo, hi) == 0)
        return 0;
    for (int i = 0; i < 2; i++) {
        pvt__rep_stat(t, "ready_ms", &a, 4, c, (const char *[]){"heap", bes[i], mechs[i], lo});
        pvt__rep_stat(t, "ready_ms", &b, 4, c, (const char *[]){"heap", bes[i], mechs[i], hi});
        snprintf(what, sizeof(what), "**A touched heap**, bare %s of one worker, ms to "
                 "ready (fork copies the page tables, a thread shares them)", mechs[i]);
        snprintf(sa, sizeof(sa), "%s MiB", lo);
        snprintf(sb, sizeof(sb), "%s MiB", hi);
        n += line(f, what, sa, &a, sb, &b, 2, "");
    }
    return n;
}

/* Memory at w workers (USS idle, PSS after work), then copy-on-write. */
static int memory_verdicts(const struct pvt_table *t, const char *w, FILE *f)
{
    struct pvt_stat a, b;
    char what[256];
    int n = 0;

    cs(t, "uss_kb", &a, "memory", "proc", "pool", "idle", w);
    cs(t, "uss_kb", &b, "memory", "thread", "pool", "idle", w);
    snprintf(what, sizeof(what), "**Memory**, KiB a worker holds alone (USS), idle, %s workers", w);
    n += line(f, what, "proc", &a, "thread", &b, 0, "");
    cs(t, "pss_kb", &a, "memory", "proc", "pool", "after-work", w);
    cs(t, "pss_kb", &b, "memory", "thread", "pool", "after-work", w);
    snprintf(what, sizeof(what), "**Memory**, KiB per worker counting shared pages fairly (PSS), "
             "after work, %s workers", w);
    n += line(f, what, "proc", &a, "thread", &b, 0, "");
    for (int i = 0; i < 2; i++) {
        const char *be = i ? "thread" : "proc", *me = i ? "pthread_create" : "fork";

        cs(t, "pss_total_kb", &a, "cow", be, me, "read", NULL);
        cs(t, "pss_total_kb", &b, "cow", be, me, "written", NULL);
        snprintf(what, sizeof(what), "**Copy-on-write**, %s workers' PSS in KiB, all together, "
                 "once they read the preloaded dataset and once they wrote it", be);
        n += line(f, what, "read", &a, "written", &b, 0, "");
    }
    return n;
}

/* Round trips (pvt's queue, a pipe) on one core and across, then CPU
 * migrations pinned against unpinned. */
static int ipc_sched_verdicts(const struct pvt_table *t, FILE *f)
{
    struct pvt_stat a, b;
    char what[256];
    int n = 0;

    for (int i = 0; i < 2; i++) {
        const char *v = i ? "cross-core" : "same-core";

        cs(t, "rtt_us", &a, "ipc", "proc", "pool", v, NULL);
        cs(t, "rtt_us", &b, "ipc", "thread", "pool", v, NULL);
        snprintf(what, sizeof(what), "**A round trip** through pvt's queue, %s", v);
        n += line(f, what, "proc", &a, "thread", &b, 2, " µs");
        cs(t, "rtt_us", &a, "ipc", "proc", "pipe", v, NULL);
        cs(t, "rtt_us", &b, "ipc", "thread", "pipe", v, NULL);
        snprintf(what, sizeof(what), "**A round trip** over a pipe, %s", v);
        n += line(f, what, "between processes", &a, "between threads", &b, 2, " µs");
    }
    for (int i = 0; i < 2; i++) {
        const char *be = i ? "thread" : "proc";

        cs(t, "migrations_per_job", &a, "sched", be, "pool", "pinned", NULL);
        cs(t, "migrations_per_job", &b, "sched", be, "pool", "unpinned", NULL);
        snprintf(what, sizeof(what), "**Scheduling**, %s workers' CPU migrations per job", be);
        n += line(f, what, "pinned", &a, "unpinned", &b, 4, "");
    }
    return n;
}

int pvt__hop_table_sizes(const struct pvt_table *t, uint64_t *sizes, int max, int *nreps)
{
    int sc = pvt_table_col(t, "section"), vc = pvt_table_col(t, "variant"),
        rc = pvt_table_col(t, "repetition"), n = 0, i, j;

    *nreps = 0;
    for (int row = 0; row < t->nrows; row++) {
        uint64_t v;

        if (strcmp(pvt_table_get(t, row, sc), "hop") != 0)
            continue;
        v = strtoull(pvt_table_get(t, row, vc), NULL, 10);
        if (atoi(pvt_table_get(t, row, rc)) > *nreps)
            *nreps = atoi(pvt_table_get(t, row, rc));
        for (i = 0; i < n && sizes[i] < v; i++)
            ;
        if ((i < n && sizes[i] == v) || n == max)
            continue;
        for (j = n++; j > i; j--)
            sizes[j] = sizes[j - 1];
        sizes[i] = v;
    }
    return n;
}

/* One backend's hop rows in a results table, for pvt_hop_crossover. */
struct table_rows {
    const struct pvt_table *t;
    const char *backend;
    const uint64_t *sizes;
};

static double table_get(void *arg, const char *mech, int i, int rep)
{
    const struct table_rows *x = arg;
    const char *c[] = {"section", "backend", "mechanism", "variant", "repetition"};
    char v[24], r[16];
    struct pvt_stat s;

    snprintf(v, sizeof(v), "%llu", (unsigned long long)x->sizes[i]);
    snprintf(r, sizeof(r), "%d", rep);
    pvt__rep_stat(x->t, "loop_cpu_us_per_job", &s, rep ? 5 : 4, c,
                  (const char *[]){"hop", x->backend, mech, v, r});
    return s.n ? s.med : NAN;
}

void pvt__hop_table_cross(const struct pvt_table *t, const char *backend, const uint64_t *sizes,
                          int n, int nreps, struct pvt_hop_cross *out)
{
    struct table_rows x = {t, backend, sizes};

    pvt_hop_crossover(n, nreps, table_get, &x, out);
}

/* Per backend: from which size on offloading costs the loop less than
 * running the job inline, and what the hop adds to a request's wait. */
static int hop_verdicts(const struct pvt_table *t, FILE *f)
{
    const char *bes[8];
    uint64_t sizes[PVT_BENCH_MAX_LIST];
    int nreps, ns = pvt__hop_table_sizes(t, sizes, PVT_BENCH_MAX_LIST, &nreps), nb, n = 0;

    nb = ns ? pvt_distinct(t, "backend", bes, 8) : 0;
    for (int b = 0; b < nb; b++) {
        struct pvt_hop_cross c;
        struct pvt_stat wi, wo;
        char med[48], lo[48], hi[48], v[24];

        snprintf(v, sizeof(v), "%llu", (unsigned long long)sizes[0]);
        cs(t, "wall_us_per_job", &wi, "hop", bes[b], "inline", v, NULL);
        cs(t, "wall_us_per_job", &wo, "hop", bes[b], "offload", v, NULL);
        if (wi.n == 0 || wo.n == 0)
            continue;
        pvt__hop_table_cross(t, bes[b], sizes, ns, nreps, &c);
        pvt_hop_size_text(sizes, ns, c.med, med, sizeof(med));
        pvt_hop_size_text(sizes, ns, c.lo, lo, sizeof(lo));
        pvt_hop_size_text(sizes, ns, c.hi, hi, sizeof(hi));
        fprintf(f, "- **When offload pays**, %s: from %s on (per repetition %s to %s) a job "
                   "handed to a pool costs the event loop less CPU than running it inline; "
                   "below it, inline is cheaper. A request pays %.2f µs of wall time for the "
                   "hop (cpu:%s offloaded against inline)\n",
                bes[b], med, lo, hi, wo.med - wi.med, v);
        n++;
    }
    return n;
}

static int cost_verdicts(const struct pvt_rundir *r, FILE *f)
{
    const struct pvt_table *t = &r->t;
    int n, W = pvt__rep_max_workers(t, "workers");
    char w[16];

    snprintf(w, sizeof(w), "%d", W);
    /* One statement each: the verdicts are written in this order. */
    n = startup_verdicts(t, w, W, f);
    n += heap_verdicts(t, f);
    n += memory_verdicts(t, w, f);
    n += ipc_sched_verdicts(t, f);
    n += hop_verdicts(t, f);
    return n;
}

static void cost_tables(const struct pvt_rundir *r, FILE *f)
{
    static const struct {
        const char *section, *col, *label;
        int digits;
    } figs[] = {
        {"startup", "spawn_us", "µs per worker", 1}, {"heap", "ready_ms", "ms to ready", 2},
        {"memory", "uss_kb", "USS KiB per worker", 0}, {"memory", "pss_kb", "PSS KiB per worker", 0},
        {"cow", "pss_total_kb", "PSS KiB, all", 0},  {"ipc", "rtt_us", "µs per round trip", 2},
        {"sched", "invol_cs_per_job", "involuntary switches per job", 4},
        {"hop", "wall_us_per_job", "wall µs per job", 3},
        {"hop", "loop_cpu_us_per_job", "loop CPU µs per job", 3},
    };
    const struct pvt_table *t = &r->t;
    struct pvt_groups g;
    char a[128];

    fprintf(f, "| section | backend | mechanism | variant | workers | heap MiB | figure | "
               "median [min-max] |\n|---|---|---|---|---:|---:|---|---:|\n");
    for (size_t k = 0; k < sizeof(figs) / sizeof(figs[0]); k++) {
        if (pvt_group(t, kw, 6, figs[k].col, "section", figs[k].section, &g) < 0)
            return;
        for (int i = 0; i < g.n; i++) {
            const int row = g.g[i].row;
            struct pvt_stat s;

            pvt_grp_stat(&g.g[i], &s);
            if (s.n == 0)
                continue;
            fprintf(f, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", figs[k].section,
                    pvt_table_get(t, row, pvt_table_col(t, "backend")),
                    pvt_table_get(t, row, pvt_table_col(t, "mechanism")),
                    pvt_table_get(t, row, pvt_table_col(t, "variant")),
                    pvt_table_get(t, row, pvt_table_col(t, "workers")),
                    pvt_table_get(t, row, pvt_table_col(t, "heap_mb")), figs[k].label,
                    pvt_vstat(a, sizeof(a), &s, figs[k].digits));
        }
        pvt_groups_free(&g);
    }
}

const struct pvt_rep_mode pvt__rep_cost = {
    "cost", "The cost of each model: start-up, memory, copy-on-write, scheduling, IPC, "
    "offload from an event loop",
    cost_verdicts, cost_tables};
