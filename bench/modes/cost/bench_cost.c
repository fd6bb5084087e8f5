/*
 * bench_cost.c: cost mode's driver: the rows, results.csv, meta.json, the
 * order of the sections and the ratios printed at the end.
 *
 * Every section keeps its rows here (for the medians its table prints and
 * the ratios below) and in the CSV, which is rewritten after each section,
 * so an interrupted run keeps every section it finished.
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
#include "shared/core/ring.h"
#include "bench/results/verdict.h"
#include "shared/work/work.h"

#define CMD "bench"

const char *const pvt_cost_section_names[PVT_CS_COUNT] = {
    [PVT_CS_STARTUP] = "startup", [PVT_CS_HEAP] = "heap",   [PVT_CS_MEMORY] = "memory",
    [PVT_CS_COW] = "cow",         [PVT_CS_SCHED] = "sched", [PVT_CS_IPC] = "ipc",
};

/* The numeric columns and how many decimals each gets. */
static const struct {
    const char *name;
    int decimals;
} fields[PVT_CF_COUNT] = {
    [PVT_CF_SECONDS] = {"seconds", 6},
    [PVT_CF_SPAWN_US] = {"spawn_us", 2},
    [PVT_CF_READY_MS] = {"ready_ms", 4},
    [PVT_CF_STOP_MS] = {"stop_ms", 4},
    [PVT_CF_RSS] = {"rss_kb", 0},
    [PVT_CF_PSS] = {"pss_kb", 0},
    [PVT_CF_USS] = {"uss_kb", 0},
    [PVT_CF_RSS_TOTAL] = {"rss_total_kb", 0},
    [PVT_CF_PSS_TOTAL] = {"pss_total_kb", 0},
    [PVT_CF_USS_TOTAL] = {"uss_total_kb", 0},
    [PVT_CF_PRIMARY_RSS] = {"primary_rss_kb", 0},
    [PVT_CF_PRIMARY_PSS] = {"primary_pss_kb", 0},
    [PVT_CF_PRIMARY_USS] = {"primary_uss_kb", 0},
    [PVT_CF_JOBS] = {"jobs", 0},
    [PVT_CF_VCS] = {"vol_cs_per_job", 4},
    [PVT_CF_IVCS] = {"invol_cs_per_job", 4},
    [PVT_CF_MIGR] = {"migrations_per_job", 4},
    [PVT_CF_MINFLT] = {"minflt_per_job", 4},
    [PVT_CF_TRIPS] = {"round_trips", 0},
    [PVT_CF_RTT_US] = {"rtt_us", 3},
};

/* The columns before the numbers; then the numbers, then pin. */
static const char *const lead[] = {
    "mode",     "section", "backend",    "mechanism", "variant",    "workers",
    "workload", "heap_mb", "dataset_mb", "cpus",      "repetition",
};
#define NLEAD    ((int)(sizeof(lead) / sizeof(lead[0])))
#define NCOLUMNS (NLEAD + PVT_CF_COUNT + 1)

void pvt_cost_row_init(struct pvt_cost_row *row, int section, const char *backend,
                       const char *mechanism, const char *variant)
{
    int i;

    memset(row, 0, sizeof(*row));
    row->section = section;
    row->backend = backend;
    row->mechanism = mechanism;
    row->variant = variant ? variant : "";
    row->workers = row->heap_mb = row->dataset_mb = -1;
    for (i = 0; i < PVT_CF_COUNT; i++)
        row->f[i] = NAN;
}

static void fmt_long(char *buf, size_t len, long v)
{
    if (v < 0)
        buf[0] = '\0';
    else
        snprintf(buf, len, "%ld", v);
}

int pvt_cost_add(struct pvt_cost_run *r, const struct pvt_cost_row *row)
{
    char v[NCOLUMNS][64];
    const char *cells[NCOLUMNS];
    int i;

    if (r->nrows == r->caprows) {
        int cap = r->caprows ? 2 * r->caprows : 256;
        struct pvt_cost_row *rows = realloc(r->rows, (size_t)cap * sizeof(*rows));
        if (!rows)
            return -ENOMEM;
        r->rows = rows;
        r->caprows = cap;
    }
    r->rows[r->nrows++] = *row;
    snprintf(v[0], 64, "cost");
    snprintf(v[1], 64, "%s", pvt_cost_section_names[row->section]);
    snprintf(v[2], 64, "%s", row->backend);
    snprintf(v[3], 64, "%s", row->mechanism);
    snprintf(v[4], 64, "%s", row->variant);
    fmt_long(v[5], 64, row->workers);
    snprintf(v[6], 64, "%s", row->workload);
    fmt_long(v[7], 64, row->heap_mb);
    fmt_long(v[8], 64, row->dataset_mb);
    snprintf(v[9], 64, "%s", row->cpus);
    snprintf(v[10], 64, "%d", row->repetition);
    for (i = 0; i < PVT_CF_COUNT; i++) {
        if (isnan(row->f[i]))
            v[NLEAD + i][0] = '\0';
        else
            snprintf(v[NLEAD + i], 64, "%.*f", fields[i].decimals, row->f[i]);
    }
    snprintf(v[NCOLUMNS - 1], 64, "%s", pvt_place_policy_name(r->cfg->pin));
    for (i = 0; i < NCOLUMNS; i++)
        cells[i] = v[i];
    return pvt_csv_add_row(r->csv, cells);
}

int pvt_cost_flush(struct pvt_cost_run *r)
{
    int rc = pvt_csv_write(r->csv, r->dir, "results.csv");

    if (rc < 0)
        pvt_err(CMD, "cannot write %s/results.csv: %s", r->dir, strerror(-rc));
    return rc;
}

static int same_key(const struct pvt_cost_row *a, const struct pvt_cost_row *b)
{
    return a->section == b->section && a->workers == b->workers && a->heap_mb == b->heap_mb &&
           a->dataset_mb == b->dataset_mb && strcmp(a->backend, b->backend) == 0 &&
           strcmp(a->mechanism, b->mechanism) == 0 && strcmp(a->variant, b->variant) == 0 &&
           strcmp(a->cpus, b->cpus) == 0;
}

double pvt_cost_median(const struct pvt_cost_run *r, const struct pvt_cost_row *key, int field,
                       double *lo, double *hi)
{
    double *v = malloc((size_t)(r->nrows ? r->nrows : 1) * sizeof(*v));
    struct pvt_stat s;
    int i, n = 0;

    if (!v)
        return NAN;
    for (i = 0; i < r->nrows; i++)
        if (same_key(&r->rows[i], key))
            v[n++] = r->rows[i].f[field];
    pvt_stat_of(v, n, &s); /* NAN (not measured) left out */
    if (lo)
        *lo = s.lo;
    if (hi)
        *hi = s.hi;
    free(v);
    return s.med;
}

double pvt_cost_find(const struct pvt_cost_run *r, int section, const char *backend,
                     const char *mechanism, const char *variant, long workers, long size, int field)
{
    int i;

    /* size is the heap (heap section) or the dataset (cow); -1 matches any. */
    for (i = 0; i < r->nrows; i++) {
        const struct pvt_cost_row *x = &r->rows[i];
        if (x->section == section && strcmp(x->backend, backend) == 0 &&
            strcmp(x->mechanism, mechanism) == 0 && strcmp(x->variant, variant) == 0 &&
            (workers < 0 || x->workers == workers) &&
            (size < 0 || x->heap_mb == size || x->dataset_mb == size))
            return pvt_cost_median(r, x, field, NULL, NULL);
    }
    return NAN;
}

int pvt_cost_table(const struct pvt_cost_run *r, int section, const char *title,
                   const struct pvt_cost_row **keys, int max)
{
    int i, j, n = 0;

    printf("\n%s: %s\n", pvt_cost_section_names[section], title);

    for (i = 0; i < r->nrows && n < max; i++) {
        if (r->rows[i].section != section)
            continue;
        for (j = 0; j < n && !same_key(keys[j], &r->rows[i]); j++)
            ;
        if (j == n)
            keys[n++] = &r->rows[i];
    }
    /* Rounds rotate, so the first rows recorded are not in sweep order. */
    for (i = 1; i < n; i++) {
        const struct pvt_cost_row *k = keys[i];
        for (j = i; j > 0 && keys[j - 1]->order > k->order; j--)
            keys[j] = keys[j - 1];
        keys[j] = k;
    }
    return n;
}

void pvt_cost_progress(const struct pvt_cost_run *r, const char *fmt, ...)
{
    va_list ap;

    if (!r->tty || r->cfg->quiet)
        return;
    fprintf(stderr, "\r\033[K");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fflush(stderr);
}

void pvt_cost_progress_clear(const struct pvt_cost_run *r)
{
    if (r->tty && !r->cfg->quiet)
        fprintf(stderr, "\r\033[K");
}

#define STALL_MS 30000

/* 0 if every one of n results is a success with the expected value. */
static int check_results(const struct pvt_result *res, int n, uint64_t expected)
{
    int k;

    for (k = 0; k < n; k++) {
        if (res[k].status != PVT_JOB_OK)
            return -EPIPE;
        if (res[k].value != expected)
            return -EBADMSG;
    }
    return 0;
}

int pvt_cost_jobs(const struct pvt_pool_ops *ops, struct pvt_pool *pool, uint32_t wl, uint64_t arg,
                  uint64_t njobs)
{
    struct pvt_job jobs[64];
    struct pvt_result res[64];
    uint64_t expected = pvt_work_expected(wl, arg), sent = 0, got = 0;
    int n, k, idle_s = 0, rc;

    while (got < njobs) {
        for (n = 0; sent < njobs && n != -EAGAIN; sent += n > 0 ? (uint64_t)n : 0) {
            int want = njobs - sent < 64 ? (int)(njobs - sent) : 64;
            for (k = 0; k < want; k++)
                jobs[k] = (struct pvt_job){.id = sent + (uint64_t)k, .workload = wl, .arg = arg};
            n = ops->submit(pool, jobs, want);
            if (n < 0 && n != -EAGAIN)
                return n;
        }
        /* collect waits up to a second; STALL_MS without a result is a broken pool. */
        n = ops->collect(pool, res, 64, 1000);
        if (n < 0 && n != -ENOENT)
            return n;
        rc = n > 0 ? check_results(res, n, expected) : 0;
        if (rc < 0)
            return rc;
        got += n > 0 ? (uint64_t)n : 0;
        idle_s = n > 0 ? 0 : idle_s + 1;
        if (idle_s * 1000 >= STALL_MS)
            return -ETIME;
        if (pvt_bench_interrupted)
            return -EINTR;
    }
    return 0;
}

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

void pvt_cost_parse_heap(struct pvt_cost_cfg *cost, const char *s)
{
    char buf[1024], *items[PVT_BENCH_MAX_LIST];
    int n, i;

    n = pvt_split_list(s, buf, sizeof(buf), items, PVT_BENCH_MAX_LIST);
    if (n < 0)
        pvt_usage_error(CMD, "--heap: '%s' is not a comma-separated list of sizes", s);
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
    int n, i, k;

    n = pvt_split_list(s, buf, sizeof(buf), items, PVT_BENCH_MAX_LIST);
    if (n < 0)
        pvt_usage_error(CMD, "--section: '%s' is not a comma-separated list", s);
    cost->sections = 0;
    for (i = 0; i < n; i++) {
        for (k = 0; k < PVT_CS_COUNT && strcmp(items[i], pvt_cost_section_names[k]) != 0; k++)
            ;
        if (k == PVT_CS_COUNT)
            pvt_usage_error(CMD,
                            "--section: unknown section '%s' (startup, heap, memory, cow, "
                            "sched, ipc)",
                            items[i]);
        if (cost->sections & (1u << k))
            pvt_usage_error(CMD, "--section: '%s' is listed twice", items[i]);
        cost->sections |= 1u << k;
    }
}

static int (*const runners[PVT_CS_COUNT])(struct pvt_cost_run *) = {
    [PVT_CS_STARTUP] = pvt_cost_startup, [PVT_CS_HEAP] = pvt_cost_heap,
    [PVT_CS_MEMORY] = pvt_cost_memory,   [PVT_CS_COW] = pvt_cost_cow,
    [PVT_CS_SCHED] = pvt_cost_sched,     [PVT_CS_IPC] = pvt_cost_ipc,
};

static int build_columns(const char **cols)
{
    int i, n = 0;

    for (i = 0; i < NLEAD; i++)
        cols[n++] = lead[i];
    for (i = 0; i < PVT_CF_COUNT; i++)
        cols[n++] = fields[i].name;
    cols[n++] = "pin";
    return n;
}

int pvt_bench_cost(const struct pvt_bench_cfg *cfg, const struct pvt_cost_cfg *cost,
                   struct pvt_topo *topo, const char *dir)
{
    struct pvt_cost_run r = {
        .cfg = cfg, .cost = cost, .topo = topo, .dir = dir, .tty = pvt_cli_tty()};
    const char *cols[NCOLUMNS];
    struct pvt_mem m;
    uint64_t t0;
    int s, rc, done = 0;

    /* The readers every memory figure needs, checked before anything runs. */
    rc = pvt_mem_read(0, &m);
    if (rc < 0) {
        pvt_err(CMD, "cannot read this process's memory: %s", pvt_mem_strerror(rc));
        return PVT_EXIT_FAIL;
    }
    rc = pvt_csv_new(cols, build_columns(cols), &r.csv);
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
