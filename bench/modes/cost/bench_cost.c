/*
 * bench_cost.c: cost mode's driver: the order of the sections, meta.json,
 * the ratios printed at the end, and the mode's entry.
 *
 * Every section keeps its rows (cost_rows.c: for the medians its table
 * prints and the ratios here) and in the CSV, which is rewritten after each
 * section, so an interrupted run keeps every section it finished.
 */
#include <errno.h>
#include <jansson.h>
#include <malloc.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_cost.h"
#include "bench/backends/backends.h"
#include "bench/common/cli.h"
#include "mem.h"
#include "shared/base/parse.h"
#include "bench/results/res.h"
#include "shared/base/clock.h"
#include "bench/results/verdict.h"
#include "shared/work/work.h"

#define CMD "bench"

static void ratio_line(const char *what, double a, double b, const char *unit, const char *tail)
{
    if (!isnan(a) && !isnan(b) && b > 0)
        printf("%s: %.4g %s vs %.4g %s, %.2fx%s\n", what, a, unit, b, unit, a / b, tail);
}

static void proc_vs_thread(const struct pvt_cost_run *r, long n)
{
    char what[160];

    snprintf(what, sizeof(what), "start-up, %ld worker%s: a proc worker against a thread", n,
             n == 1 ? "" : "s");
    ratio_line(what, pvt_cost_find(r, PVT_CS_STARTUP, "proc", "pool", "", n, -1, PVT_CF_SPAWN_US),
               pvt_cost_find(r, PVT_CS_STARTUP, "thread", "pool", "", n, -1, PVT_CF_SPAWN_US), "us",
               "");
}

/* pvt's pool against the bare mechanism at n workers, and the 4x goal. */
static void harness_line(const struct pvt_cost_run *r, const char *backend, const char *bare,
                         long n)
{
    double a = pvt_cost_find(r, PVT_CS_STARTUP, backend, "pool", "", n, -1, PVT_CF_SPAWN_US);
    double b = pvt_cost_find(r, PVT_CS_STARTUP, backend, bare, "", n, -1, PVT_CF_SPAWN_US);
    char what[160];

    snprintf(what, sizeof(what), "start-up, %ld worker%s: pvt's %s pool against a bare %s", n,
             n == 1 ? "" : "s", backend, bare);
    ratio_line(what, a, b, "us per worker",
               a <= 4 * b ? " (goal: within 4x; met)" : " (goal: within 4x; not met)");
    /* With pinning: the same bare call, each worker binding itself as the
     * pool's do, shows what the binding alone costs. */
    b = pvt_cost_find(r, PVT_CS_STARTUP, backend,
                      pvt_backend_caps(backend) & PVT_CAP_PROCESSES ? "fork-bound" : "pthread-bound",
                      "", n, -1,
                      PVT_CF_SPAWN_US);
    if (isnan(b))
        return;
    snprintf(what, sizeof(what), "start-up, %ld worker%s: pvt's %s pool against a bare %s whose "
             "worker%s bind%s as the pool's workers do", n, n == 1 ? "" : "s", backend,
             bare, n == 1 ? "" : "s", n == 1 ? "s itself" : " themselves");
    ratio_line(what, a, b, "us per worker", "");
}

/* The plain ratios the tables imply, where both sides ran. */
static void print_verdicts(const struct pvt_cost_run *r)
{
    const struct pvt_bench_cfg *cfg = r->cfg;
    long nmax = cfg->workers[cfg->nworkers - 1], h0, h1;
    char what[160];

    printf("\n");
    proc_vs_thread(r, 1);
    if (nmax != 1)
        proc_vs_thread(r, nmax);
    harness_line(r, "proc", "fork", 1);
    harness_line(r, "proc", "fork", nmax);
    harness_line(r, "thread", "pthread_create", 1);
    harness_line(r, "thread", "pthread_create", nmax);
    if (r->cost->nheap >= 2) {
        h0 = (long)(r->cost->heap[0] >> 20);
        h1 = (long)(r->cost->heap[r->cost->nheap - 1] >> 20);
        snprintf(what, sizeof(what), "heap: a bare fork with %ld MiB touched against %ld MiB", h1,
                 h0);
        ratio_line(what, pvt_cost_find(r, PVT_CS_HEAP, "proc", "fork", "", 1, h1, PVT_CF_READY_MS),
                   pvt_cost_find(r, PVT_CS_HEAP, "proc", "fork", "", 1, h0, PVT_CF_READY_MS), "ms",
                   " (fork copies the page tables)");
        snprintf(what, sizeof(what), "heap: pvt's proc pool with %ld MiB touched against %ld MiB",
                 h1, h0);
        ratio_line(what, pvt_cost_find(r, PVT_CS_HEAP, "proc", "pool", "", 1, h1, PVT_CF_READY_MS),
                   pvt_cost_find(r, PVT_CS_HEAP, "proc", "pool", "", 1, h0, PVT_CF_READY_MS), "ms",
                   "");
        snprintf(what, sizeof(what), "heap: posix_spawn with %ld MiB touched against %ld MiB", h1,
                 h0);
        ratio_line(what,
                   pvt_cost_find(r, PVT_CS_HEAP, "proc", "posix_spawn", "", 1, h1, PVT_CF_READY_MS),
                   pvt_cost_find(r, PVT_CS_HEAP, "proc", "posix_spawn", "", 1, h0, PVT_CF_READY_MS),
                   "ms", " (it copies none)");
    }
    snprintf(what, sizeof(what),
             "memory, %ld idle workers: PSS of all proc workers against all "
             "threads",
             nmax);
    ratio_line(
        what, pvt_cost_find(r, PVT_CS_MEMORY, "proc", "pool", "idle", nmax, -1, PVT_CF_PSS_TOTAL),
        pvt_cost_find(r, PVT_CS_MEMORY, "thread", "pool", "idle", nmax, -1, PVT_CF_PSS_TOTAL),
        "KiB", "");
    ratio_line("cow: PSS of all forked workers after writing the dataset against after reading it",
               pvt_cost_find(r, PVT_CS_COW, "proc", "fork", "written", -1, -1, PVT_CF_PSS_TOTAL),
               pvt_cost_find(r, PVT_CS_COW, "proc", "fork", "read", -1, -1, PVT_CF_PSS_TOTAL),
               "KiB", "");
    ratio_line("ipc across cores: a pipe round trip between processes against pvt's proc ring",
               pvt_cost_find(r, PVT_CS_IPC, "proc", "pipe", "cross-core", -1, -1, PVT_CF_RTT_US),
               pvt_cost_find(r, PVT_CS_IPC, "proc", "pool", "cross-core", -1, -1, PVT_CF_RTT_US),
               "us", "");
    ratio_line("ipc across cores: a futex round trip, processes against threads",
               pvt_cost_find(r, PVT_CS_IPC, "proc", "futex", "cross-core", -1, -1, PVT_CF_RTT_US),
               pvt_cost_find(r, PVT_CS_IPC, "thread", "futex", "cross-core", -1, -1, PVT_CF_RTT_US),
               "us", "");
}

/* A JSON array of n integers, taken from v as uint64_t or as long (v64 NULL). */
static json_t *int_list(const uint64_t *v64, const long *v, int n)
{
    json_t *a = json_array();
    int i;

    for (i = 0; i < n; i++)
        json_array_append_new(a, json_integer(v64 ? (json_int_t)v64[i] : (json_int_t)v[i]));
    return a;
}

static int write_meta(struct pvt_cost_run *r)
{
    const struct pvt_bench_cfg *cfg = r->cfg;
    json_t *o, *p, *names = json_array(), *sections = json_array();
    char wl[64], *text;
    int i, rc;

    for (i = 0; i < cfg->nbackends; i++)
        json_array_append_new(names, json_string(cfg->backends[i]->name));
    for (i = 0; i < PVT_CS_COUNT; i++)
        if (r->cost->sections & (1u << i))
            json_array_append_new(sections, json_string(pvt_cost_section_names[i]));
    pvt_workload_format(cfg->workload[0], cfg->workload_arg[0], wl, sizeof(wl));
    p = json_pack("{s:o, s:o, s:o, s:o, s:I, s:i, s:s, s:i, s:i, s:s, s:s, s:I, s:I}", "backends",
                  names, "workers", int_list(NULL, cfg->workers, cfg->nworkers), "sections",
                  sections, "heap_bytes", int_list(r->cost->heap, NULL, r->cost->nheap),
                  "dataset_bytes", (json_int_t)r->cost->dataset, "cow_workers",
                  PVT_COST_COW_WORKERS, "workload", wl, "repeat", cfg->repeat, "warmup",
                  cfg->warmup, "pin", pvt_place_policy_name(cfg->pin), "unit",
                  pvt_place_unit_name(cfg->unit), "ipc_ms", (json_int_t)r->cost->ipc_ms, "sched_ms",
                  (json_int_t)r->cost->sched_ms);
    if (!p)
        return -ENOMEM;
    json_object_set_new(p, "hop_sizes", int_list(r->cost->hop, NULL, r->cost->nhop));
    json_object_set_new(p, "hop_ms", json_integer((json_int_t)r->cost->hop_ms));
    json_object_set_new(p, "preset", cfg->preset ? json_string(cfg->preset) : json_null());
    o = json_pack("{s:o}", "params", p);
    text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text)
        return -ENOMEM;
    rc = pvt_meta_write(r->dir, "cost", pvt_main_argc, pvt_main_argv, r->topo, text);
    free(text);
    return rc;
}

/* Half of this machine's memory: the most a cost run may touch at once. */
static uint64_t half_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);

    return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size / 2 : UINT64_MAX;
}

/* A size from 1 MiB to the most this machine can hold copies of, or a usage error. */
static uint64_t parse_cost_size(const char *flag, const char *s, unsigned copies)
{
    uint64_t v, lim = half_memory() / copies;

    if (pvt_parse_size(s, &v) < 0 || v < (1u << 20) || v > (64ull << 30))
        pvt_usage_error(CMD, "%s: '%s' is not a size from 1M to 64G (10M, 1G)", flag, s);
    if (v > lim)
        pvt_usage_error(CMD, "%s: %s%s is more than half of this machine's memory", flag, s,
                        copies > 1 ? " in all its copies" : "");
    return v;
}

/* The items of flag's list s (into buf), or a usage error saying it is not
 * a comma-separated list of what. */
static int split_flag(const char *flag, const char *s, const char *what, char *buf, size_t len,
                      char **items)
{
    int n = pvt_split_list(s, buf, len, items, PVT_BENCH_MAX_LIST);

    if (n < 0)
        pvt_usage_error(CMD, "%s: '%s' is not a comma-separated list%s", flag, s, what);
    return n;
}

void pvt_cost_parse_heap(struct pvt_cost_cfg *cost, const char *s)
{
    char buf[1024], *items[PVT_BENCH_MAX_LIST];
    int n = split_flag("--heap", s, " of sizes", buf, sizeof(buf), items), i;

    for (i = 0; i < n; i++)
        cost->heap[i] = parse_cost_size("--heap", items[i], 1);
    cost->nheap = n;
}

void pvt_cost_parse_dataset(struct pvt_cost_cfg *cost, const char *s)
{
    /* After writing, the primary and every worker hold a copy. */
    cost->dataset = parse_cost_size("--dataset", s, PVT_COST_COW_WORKERS + 1);
}

void pvt_cost_parse_sections(struct pvt_cost_cfg *cost, const char *s)
{
    char buf[256], *items[PVT_BENCH_MAX_LIST];
    int n = split_flag("--section", s, "", buf, sizeof(buf), items), i, k;

    cost->sections = 0;
    for (i = 0; i < n; i++) {
        for (k = 0; k < PVT_CS_COUNT && strcmp(items[i], pvt_cost_section_names[k]) != 0; k++)
            ;
        if (k == PVT_CS_COUNT)
            pvt_usage_error(CMD,
                            "--section: unknown section '%s' (startup, heap, memory, cow, "
                            "sched, ipc, hop)",
                            items[i]);
        if (cost->sections & (1u << k))
            pvt_usage_error(CMD, "--section: '%s' is listed twice", items[i]);
        cost->sections |= 1u << k;
    }
}

void pvt_cost_parse_hop(struct pvt_cost_cfg *cost, const char *s)
{
    char buf[1024], *items[PVT_BENCH_MAX_LIST];
    int n = split_flag("--hop-sizes", s, " of counts", buf, sizeof(buf), items), i;

    for (i = 0; i < n; i++) {
        if (pvt_parse_count(items[i], &cost->hop[i]) < 0 || cost->hop[i] < 1 ||
            cost->hop[i] > 100000000u)
            pvt_usage_error(CMD, "--hop-sizes: '%s' is not a count from 1 to 100M (10K = 10000)",
                            items[i]);
        if (i > 0 && cost->hop[i] <= cost->hop[i - 1])
            pvt_usage_error(CMD, "--hop-sizes: '%s' is not larger than the size before it",
                            items[i]);
        snprintf(cost->hop_name[i], sizeof(cost->hop_name[i]), "%llu",
                 (unsigned long long)cost->hop[i]);
    }
    cost->nhop = n;
}

static int (*const runners[PVT_CS_COUNT])(struct pvt_cost_run *) = {
    [PVT_CS_STARTUP] = pvt_cost_startup, [PVT_CS_HEAP] = pvt_cost_heap,
    [PVT_CS_MEMORY] = pvt_cost_memory,   [PVT_CS_COW] = pvt_cost_cow,
    [PVT_CS_SCHED] = pvt_cost_sched,     [PVT_CS_IPC] = pvt_cost_ipc,
    [PVT_CS_HOP] = pvt_cost_hop,
};

int pvt_bench_cost(const struct pvt_bench_cfg *cfg, const struct pvt_cost_cfg *cost,
                   struct pvt_topo *topo, const char *dir)
{
    struct pvt_cost_run r = {
        .cfg = cfg, .cost = cost, .topo = topo, .dir = dir, .tty = pvt_cli_tty()};
    const char *cols[PVT_COST_NCOLUMNS];
    struct pvt_mem m;
    uint64_t t0;
    int s, rc, done = 0;

    /* The readers every memory figure needs, checked before anything runs. */
    rc = pvt_mem_read(0, &m);
    if (rc < 0) {
        pvt_err(CMD, "cannot read this process's memory: %s", pvt_mem_strerror(rc));
        return PVT_EXIT_FAIL;
    }
    rc = pvt_csv_new(cols, pvt__cost_columns(cols), &r.csv);
    if (rc == 0)
        rc = write_meta(&r);
    if (rc == 0)
        rc = pvt_csv_write(r.csv, dir, "results.csv");
    if (rc < 0) {
        pvt_err(CMD, "cannot write to %s: %s", dir, strerror(-rc));
        goto out;
    }
    printf("pvt bench --mode cost: results in %s\n", dir);
    for (s = 0; s < PVT_CS_COUNT && rc == 0; s++) {
        if (!(cost->sections & (1u << s)))
            continue;
        /* Free memory the allocator kept (thread arenas of earlier pools): a
         * forked worker would inherit it, and fork would copy its page tables. */
        malloc_trim(0);
        t0 = pvt_now_ns();
        rc = runners[s](&r);
        if (rc < 0 && pvt_bench_interrupted)
            rc = -EINTR; /* what failed was cut short by the signal */
        pvt_cost_progress_clear(&r);
        if (rc == 0)
            printf("(%s: %.1f s)\n", pvt_cost_section_names[s], (double)(pvt_now_ns() - t0) / 1e9);
        if (rc == 0 || rc == -EINTR) {
            int wrc = pvt_cost_flush(&r);
            if (rc == 0)
                rc = wrc;
        }
        if (rc == 0)
            done++;
        if (rc == 0 && pvt_bench_interrupted)
            rc = -EINTR;
    }
    if (rc == 0)
        print_verdicts(&r);
out:
    if (rc == -EINTR)
        fprintf(stderr, "pvt bench: interrupted; %d finished sections are in %s\n", done, dir);
    else if (rc == 0)
        printf("\nresults: %s/results.csv, %s/meta.json\n", dir, dir);
    pvt_csv_free(r.csv);
    free(r.rows);
    if (rc == -EINTR)
        return 130;
    return rc < 0 ? PVT_EXIT_FAIL : PVT_EXIT_OK;
}

static int run_cost(const struct pvt_bench_cfg *cfg, struct pvt_topo *topo, const char *dir)
{
    return pvt_bench_cost(cfg, cfg->cost, topo, dir);
}

const struct pvt_mode pvt_mode_cost = {
    .name = "cost",
    .run = run_cost,
    .plot = pvt__plot_cost,
    .report = &pvt__rep_cost,
};
