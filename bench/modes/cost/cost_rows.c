/*
 * cost_rows.c: what every cost section uses: its rows (results.csv's
 * columns, medians over repetitions, a printed table), the progress line,
 * running a batch of jobs through a pool, a pool of one worker on a given
 * CPU, and binding the primary's thread to the first CPU.
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

const char *const pvt_cost_section_names[PVT_CS_COUNT] = {
    [PVT_CS_STARTUP] = "startup", [PVT_CS_HEAP] = "heap",   [PVT_CS_MEMORY] = "memory",
    [PVT_CS_COW] = "cow",         [PVT_CS_SCHED] = "sched", [PVT_CS_IPC] = "ipc",
    [PVT_CS_HOP] = "hop",
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
    [PVT_CF_WALL_US] = {"wall_us_per_job", 4},
    [PVT_CF_LOOP_CPU_US] = {"loop_cpu_us_per_job", 4},
};

/* The columns before the numbers; then the numbers, then pin. */
static const char *const lead[] = {
    "mode",     "section", "backend",    "mechanism", "variant",    "workers",
    "workload", "heap_mb", "dataset_mb", "cpus",      "repetition",
};
#define NLEAD    ((int)(sizeof(lead) / sizeof(lead[0])))
#define NCOLUMNS PVT_COST_NCOLUMNS
_Static_assert(NLEAD + PVT_CF_COUNT + 1 == PVT_COST_NCOLUMNS, "the lead columns, the numbers, pin");

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

int pvt_cost_pool_on(const struct pvt_pool_ops *ops, int cpu, struct pvt_pool **out)
{
    cpu_set_t set;
    struct pvt_plan plan = {.workers = 1, .bind = 1, .sets = &set};
    struct pvt_pool_cfg pc = {.workers = 1, .plan = &plan};

    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return ops->create(&pc, out); /* the worker has bound itself when it returns */
}

int pvt_cost_bind_first(cpu_set_t *saved, int *cpu_a, int *cpu_b)
{
    cpu_set_t one;
    int i;

    *cpu_a = *cpu_b = -1;
    if (sched_getaffinity(0, sizeof(*saved), saved) < 0)
        return -errno;
    for (i = 0; i < CPU_SETSIZE && *cpu_b < 0; i++) {
        if (!CPU_ISSET(i, saved))
            continue;
        if (*cpu_a < 0)
            *cpu_a = i;
        else
            *cpu_b = i;
    }
    CPU_ZERO(&one);
    CPU_SET(*cpu_a, &one);
    return sched_setaffinity(0, sizeof(one), &one) < 0 ? -errno : 0;
}

int pvt__cost_columns(const char **cols)
{
    int i, n = 0;

    for (i = 0; i < NLEAD; i++)
        cols[n++] = lead[i];
    for (i = 0; i < PVT_CF_COUNT; i++)
        cols[n++] = fields[i].name;
    cols[n++] = "pin";
    return n;
}
