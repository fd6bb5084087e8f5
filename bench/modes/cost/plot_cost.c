/*
 * plot_cost.c: cost mode's plots. Start-up per worker against workers and
 * against the primary's touched heap (lines, pvt's pools beside the bare
 * mechanisms); memory per worker (RSS, PSS, USS), copy-on-write, round
 * trips and scheduling events per job (bars); the hop section's loop CPU
 * per job against the job's size, with each backend's crossover.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bench/plot/plot.h"
#include "bench/report/report_int.h"
#include "bench_cost.h"

#define MAXS 16

/* Start-up: col against xcol (workers or heap_mb), a line per backend x mechanism. */
static void cost_lines(struct pvt_plot_out *o, const char *section, const char *xcol,
                       const char *col, const char *name, const char *title, const char *xl,
                       const char *yl)
{
    const char *keys[] = {xcol, "section", "backend", "mechanism"};
    char sub[512];
    struct pvt_plot p;

    pvt__plot_sub(o, "median of the repetitions, bars min-max; pool: pvt's backend, the others "
                     "bare OS calls run alongside", sub, sizeof(sub));
    if (pvt_plot_begin(&p, o->dir, name, title, sub) < 0)
        return;
    pvt_plot_var(&p, "xl = \"%s\"; yl = \"%s\"; logx = 1; logy = 1; ideal = 0; "
                     "keypos = \"left top\"", xl, yl);
    for (int r = 0; r < o->nruns; r++) {
        const struct pvt_table *t = &o->runs[r]->t;
        const char *bes[MAXS], *mechs[MAXS];
        int nb = pvt_distinct(t, "backend", bes, MAXS), nm = pvt_distinct(t, "mechanism", mechs,
                                                                           MAXS);
        struct pvt_groups g;

        if (pvt_group(t, keys, 4, col, "section", section, &g) < 0)
            continue;
        for (int b = 0; b < nb; b++)
            for (int m = 0; m < nm; m++) {
                const char *vals[] = {NULL, section, bes[b], mechs[m]};
                char what[96], st[200];

                if (strcmp(mechs[m], "pool") == 0)
                    snprintf(what, sizeof(what), "pvt %s pool", bes[b]);
                else
                    snprintf(what, sizeof(what), "bare %s", mechs[m]);
                pvt__plot_series_title(o, r, what, st, sizeof(st));
                pvt_plot_series(&p, st);
                pvt__plot_series_rows(&p, t, &g, keys, 4, vals, 0);
            }
        pvt_groups_free(&g);
    }
    pvt__plot_finish(o, &p, "lines");
}

/* The hop section: the loop's CPU per job against cpu:N, log-log, a line
 * per backend x mechanism; a dotted line at each backend's crossover (one
 * run only: overlaid runs would each have their own). */
static void hop_lines(struct pvt_plot_out *o)
{
    const char *keys[] = {"variant", "section", "backend", "mechanism"};
    char sub[512];
    struct pvt_plot p;

    pvt__plot_sub(o, "median of the repetitions, bars min-max; inline: the loop runs the job; "
                     "offload: submit, epoll_wait on event_fd, poll", sub, sizeof(sub));
    if (pvt_plot_begin(&p, o->dir, "hop", "When offload pays: the event loop's CPU per job of "
                       "cpu:N, inline or handed to a pool of 1", sub) < 0)
        return;
    pvt_plot_var(&p, "xl = \"N of cpu:N (log)\"; yl = \"loop CPU µs per job (log)\"; "
                     "logx = 0; logy = 1; ideal = 0; keypos = \"left top\"; "
                     "set logscale x 10; set format x \"%%.0s%%c\"");
    for (int r = 0; r < o->nruns; r++) {
        const struct pvt_table *t = &o->runs[r]->t;
        const char *bes[MAXS];
        uint64_t sizes[PVT_BENCH_MAX_LIST];
        int nreps, ns = pvt__hop_table_sizes(t, sizes, PVT_BENCH_MAX_LIST, &nreps),
                   nb = pvt_distinct(t, "backend", bes, MAXS);
        struct pvt_groups g;

        if (ns == 0 || pvt_group(t, keys, 4, "loop_cpu_us_per_job", "section", "hop", &g) < 0)
            continue;
        for (int b = 0; b < nb; b++) {
            struct pvt_hop_cross c;
            char at[48];

            for (int m = 0; m < 2; m++) {
                const char *mech = m ? "offload" : "inline", *vals[] = {NULL, "hop", bes[b], mech};
                char what[96], st[200];

                snprintf(what, sizeof(what), "%s %s", bes[b], mech);
                pvt__plot_series_title(o, r, what, st, sizeof(st));
                pvt_plot_series(&p, st);
                pvt__plot_series_rows(&p, t, &g, keys, 4, vals, 0);
            }
            pvt__hop_table_cross(t, bes[b], sizes, ns, nreps, &c);
            if (o->nruns > 1 || c.med < 0 || c.med >= ns)
                continue;
            pvt_hop_size_text(sizes, ns, c.med, at, sizeof(at));
            pvt_plot_var(&p, "set arrow from %llu, graph 0 to %llu, graph 1 nohead dt 3 "
                             "lc rgb \"#555555\"; set label \"%s: offload pays from %s\" at "
                             "%llu, graph %.2f right offset -0.5, 0",
                         (unsigned long long)sizes[c.med], (unsigned long long)sizes[c.med],
                         bes[b], at, (unsigned long long)sizes[c.med], 0.08 + 0.06 * b);
        }
        pvt_groups_free(&g);
    }
    pvt__plot_finish(o, &p, "lines");
}

struct series {
    const char *title;
    const char *col;           /* the value column */
    const char *fcol, *fval;   /* one more filter, or NULL */
    double scale;
};

/* A bar chart of section: a category per (backend, mechanism, variant) the
 * rows hold (where filter col == val when given), a bar per series. */
static void cost_bars(struct pvt_plot_out *o, const char *section, const char *name,
                      const char *title, const char *yl, int logy, const struct series *s, int ns,
                      const char *where_col, const char *where_val, const char *cat_cols)
{
    const struct pvt_table *t = &o->runs[0]->t;
    static const char *const keys[] = {"backend", "mechanism", "variant"};
    char sub[512];
    struct pvt_plot p;
    struct pvt_groups g;

    pvt__plot_sub(o, "median of the repetitions, bars min-max", sub, sizeof(sub));
    if (pvt_plot_begin(&p, o->dir, name, title, sub) < 0)
        return;
    pvt_plot_var(&p, "yl = \"%s\"; logy = %d", yl, logy);
    for (int i = 0; i < ns; i++)
        pvt_plot_title(&p, s[i].title);
    const int by_variant = strcmp(cat_cols, "variant") == 0, nk = by_variant ? 3 : 2;

    if (pvt_group(t, keys, nk, s[0].col, "section", section, &g) < 0) {
        pvt_plot_abandon(&p);
        return;
    }
    for (int i = 0; i < g.n; i++) {
        const int row = g.g[i].row;
        const char *v[5] = {section, pvt_table_get(t, row, pvt_table_col(t, "backend")),
                            pvt_table_get(t, row, pvt_table_col(t, "mechanism")),
                            pvt_table_get(t, row, pvt_table_col(t, "variant")), NULL};
        const char *cols[5] = {"section", "backend", "mechanism", "variant", NULL};
        char line[1024], cat[128];
        int nf = 1 + nk;
        size_t off;

        if (where_col) {
            cols[nf] = where_col;
            v[nf++] = where_val;
        }
        if (by_variant)
            snprintf(cat, sizeof(cat), "%s %s %s", v[1], strcmp(v[2], "pool") ? v[2] : "pool",
                     v[3]);
        else
            snprintf(cat, sizeof(cat), "%s %s", v[1], strcmp(v[2], "pool") ? v[2] : "pool");
        off = (size_t)snprintf(line, sizeof(line), "\"%s\"", cat);
        for (int k = 0; k < ns; k++) {
            struct pvt_stat st;
            const char *fc[6], *fv[6];
            int n = nf;

            memcpy(fc, cols, sizeof(cols));
            memcpy(fv, v, sizeof(v));
            if (s[k].fcol) {
                fc[n] = s[k].fcol;
                fv[n++] = s[k].fval;
            }
            pvt__rep_stat(t, s[k].col, &st, n, fc, fv);
            off += (size_t)snprintf(line + off, sizeof(line) - off, " %g %g %g",
                                    st.med * s[k].scale, st.lo * s[k].scale,
                                    st.hi * s[k].scale);
        }
        pvt_plot_row(&p, "%s", line);
    }
    pvt_groups_free(&g);
    pvt__plot_finish(o, &p, "bars");
}

void pvt__plot_cost(struct pvt_plot_out *o)
{
    const struct pvt_table *t = &o->runs[0]->t;
    static const struct series mem[] = {
        {"RSS", "rss_kb", NULL, NULL, 1.0 / 1024},
        {"PSS", "pss_kb", NULL, NULL, 1.0 / 1024},
        {"USS", "uss_kb", NULL, NULL, 1.0 / 1024},
    };
    static const struct series cow[] = {
        {"PSS, all workers", "pss_total_kb", NULL, NULL, 1.0 / 1024},
        {"USS, all workers", "uss_total_kb", NULL, NULL, 1.0 / 1024},
    };
    static const struct series ipc[] = {
        {"same core", "rtt_us", "variant", "same-core", 1},
        {"across cores", "rtt_us", "variant", "cross-core", 1},
    };
    static const struct series sched[] = {
        {"voluntary switches", "vol_cs_per_job", NULL, NULL, 1},
        {"involuntary switches", "invol_cs_per_job", NULL, NULL, 1},
        {"migrations", "migrations_per_job", NULL, NULL, 1},
        {"minor faults", "minflt_per_job", NULL, NULL, 1},
    };
    char w[16], title[256];

    cost_lines(o, "startup", "workers", "spawn_us", "startup",
               "Start-up: µs per worker to have N workers ready", "workers",
               "µs per worker (log)");
    cost_lines(o, "heap", "heap_mb", "ready_ms", "startup-heap",
               "Start-up of one worker as the primary's touched heap grows", "touched heap (MiB)",
               "ms to ready (log)");
    snprintf(w, sizeof(w), "%d", pvt__rep_max_workers(t, "workers"));
    snprintf(title, sizeof(title), "Memory per worker with %s workers: RSS, PSS, USS", w);
    cost_bars(o, "memory", "memory", title, "MiB per worker (log)", 1, mem, 3, "workers", w,
              "variant");
    snprintf(title, sizeof(title), "Copy-on-write: a %.0f MiB dataset loaded before the workers, "
             "then read, then written",
             pvt_rundir_param(o->runs[0], "dataset_bytes") / (1 << 20));
    cost_bars(o, "cow", "cow", title, "MiB, all workers together", 0, cow, 2, NULL, NULL,
              "variant");
    cost_bars(o, "ipc", "ipc", "One round trip, primary to worker and back", "µs (log)", 1, ipc,
              2, NULL, NULL, "mechanism");
    cost_bars(o, "sched", "sched", "Scheduling events per job, pinned and unpinned",
              "events per job (log)", 1, sched, 4, NULL, NULL, "variant");
    hop_lines(o);
}
