/*
 * report_state.c: state mode's verdicts and table for report.md: whether
 * each way of keeping one counter across workers ends with the true count,
 * and what an update costs.
 */
#include <stdlib.h>
#include <string.h>

#include "bench/report/report_int.h"
#include "bench_state.h"

static const char *const kw[] = {"variant", "workers"};

static int state_verdicts(const struct pvt_rundir *r, FILE *f)
{
    static const char *const pairs[][3] = {
        {"proc-shm-atomic", "thread-atomic", "an atomic in shared memory, processes against threads"},
        {"thread-mutex", "thread-atomic", "threads, a mutex against an atomic"},
        {"proc-msg", "proc-shm-atomic", "processes, a message per update against shared memory"},
    };
    const struct pvt_table *t = &r->t;
    const char *vs[16];
    int nv = pvt_distinct(t, "variant", vs, 16), n = 0;
    char w[16], buf[1024], what[256], a[96], b[96];

    snprintf(w, sizeof(w), "%d", pvt__rep_max_workers(t, "workers"));
    for (int i = 0; i < nv; i++) {
        struct pvt_stat e, o, l;

        pvt__rep_stat(t, "expected", &e, 2, kw, (const char *[]){vs[i], w});
        pvt__rep_stat(t, "observed", &o, 2, kw, (const char *[]){vs[i], w});
        pvt__rep_stat(t, "lost", &l, 2, kw, (const char *[]){vs[i], w});
        if (e.n == 0)
            continue;
        fprintf(f, "- **%s**, %s workers: counted %s of %s updates: %s%s\n", vs[i], w,
                pvt_vstat(a, sizeof(a), &o, -2), pvt_vstat(b, sizeof(b), &e, -2),
                l.hi == 0 ? "exact in every repetition"
                : l.lo > 0 ? "short in every repetition"
                           : "short in some repetitions",
                l.hi == 0 ? ""
                : strcmp(vs[i], "proc-naive") == 0
                    ? " (the primary read its own copy: each process counted only its own)"
                : strcmp(vs[i], "thread-naive") == 0
                    ? " (a data race: increments that overlapped were lost)"
                    : "");
        n++;
    }
    for (size_t k = 0; k < sizeof(pairs) / sizeof(pairs[0]); k++)
        for (int one = 1; one >= 0; one--) {
            const char *ws = one ? "1" : w;
            struct pvt_stat sa, sb;

            if (!one && strcmp(w, "1") == 0)
                break;
            pvt__rep_stat(t, "ns_per_update", &sa, 2, kw, (const char *[]){pairs[k][0], ws});
            pvt__rep_stat(t, "ns_per_update", &sb, 2, kw, (const char *[]){pairs[k][1], ws});
            if (sa.n == 0 || sb.n == 0)
                continue;
            snprintf(what, sizeof(what), "**Cost of an update**, %s, %s worker%s", pairs[k][2],
                     ws, one ? "" : "s");
            fprintf(f, "- %s\n", pvt_verdict(buf, sizeof(buf), what, pairs[k][0], &sa,
                                             pairs[k][1], &sb, 0, 2, " ns"));
            n++;
        }
    return n;
}

static void state_tables(const struct pvt_rundir *r, FILE *f)
{
    const struct pvt_table *t = &r->t;
    struct pvt_groups g;
    char a[96], b[96], c[96], d[96];

    fprintf(f, "| variant | workers | expected | counted | lost | ns per update: median "
               "[min-max] |\n|---|---:|---:|---:|---:|---:|\n");
    if (pvt_group(t, kw, 2, "ns_per_update", NULL, NULL, &g) < 0)
        return;
    for (int i = 0; i < g.n; i++) {
        const int row = g.g[i].row;
        const char *v[] = {pvt_table_get(t, row, pvt_table_col(t, "variant")),
                           pvt_table_get(t, row, pvt_table_col(t, "workers"))};
        struct pvt_stat s, e, o, l;

        pvt_grp_stat(&g.g[i], &s);
        pvt__rep_stat(t, "expected", &e, 2, kw, v);
        pvt__rep_stat(t, "observed", &o, 2, kw, v);
        pvt__rep_stat(t, "lost", &l, 2, kw, v);
        fprintf(f, "| %s | %s | %s | %s | %s | %s |\n", v[0], v[1],
                pvt_vfmt(a, sizeof(a), e.med, -2), pvt_vfmt(b, sizeof(b), o.med, -2),
                pvt_vfmt(c, sizeof(c), l.med, -2), pvt_vstat(d, sizeof(d), &s, 2));
    }
    pvt_groups_free(&g);
}

const struct pvt_rep_mode pvt__rep_state = {
    "state", "Shared state: one counter bumped by every worker, kept six ways", state_verdicts,
    state_tables};
