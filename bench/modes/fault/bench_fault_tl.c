/*
 * bench_fault_tl.c: a fault run's timeline: pvt load's bins read back, the
 * live workers of each bin from the /stats polls, timeline.csv's rows, and
 * the figures (recovery, first success, the rate before the fault). The
 * rules are results/README.md's, in the words of the comments below.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_fault.h"
#include "bench/load/load.h"
#include "bench/results/res.h"

#define NS_PER_BIN ((uint64_t)PVT_LOAD_BIN_MS * 1000000u)
#define SETUP_BINS 10  /* the first 100 ms: connections being set up */
#define MIN_PRE_BINS 5 /* fewer whole bins after them: take every bin from bin 1 */
#define WINDOW 5       /* 50 ms: how long the rate must hold to count as back */
#define BACK 0.95      /* ... at this share of the pre-fault median, on average */
#define FLOOR 0.5      /* ... with no bin of the window below this share */

int pvt__fault_sample(struct pvt_frun *fr, uint64_t t_ns, int live)
{
    if (fr->nsamples == fr->capsamples) {
        size_t cap = fr->capsamples ? fr->capsamples * 2 : 1024;
        struct pvt_fsample *n = realloc(fr->samples, cap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        fr->samples = n;
        fr->capsamples = cap;
    }
    fr->samples[fr->nsamples++] = (struct pvt_fsample){t_ns, live};
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

/*
 * The pre-fault median of ok per bin: over the whole bins that end by the
 * fault, after the first 100 ms; if fewer than 5 such bins, over every
 * whole bin before the fault from bin 1. NAN when there is none.
 */
static double pre_median(const struct pvt_fbin *b, size_t n, double fault_ms)
{
    size_t end = (size_t)(fault_ms / PVT_LOAD_BIN_MS), first = SETUP_BINS, i, k;
    uint32_t *v;
    double m;

    if (end > n)
        end = n;
    if (end < first + MIN_PRE_BINS)
        first = 1;
    if (end <= first)
        return NAN;
    v = malloc((end - first) * sizeof(*v));
    if (!v)
        return NAN;
    for (i = first, k = 0; i < end; i++)
        v[k++] = b[i].ok;
    qsort(v, k, sizeof(*v), cmp_u32);
    m = k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2.0;
    free(v);
    return m;
}

/* A window of WINDOW bins from i (cut at last) holds the rate: its average
 * at least BACK x m, and none of its bins below FLOOR x m. */
static int holds(const struct pvt_fbin *b, size_t i, size_t last, double m)
{
    size_t j, end = i + WINDOW - 1 < last ? i + WINDOW - 1 : last;
    double sum = 0;

    for (j = i; j <= end; j++) {
        if (b[j].ok < FLOOR * m)
            return 0;
        sum += b[j].ok;
    }
    return sum >= BACK * m * (double)(end - i + 1);
}

void pvt__fault_figures(const struct pvt_fbin *b, size_t n, double fault_ms,
                        uint64_t duration_ms, struct pvt_ffig *out)
{
    size_t f = (size_t)(fault_ms / PVT_LOAD_BIN_MS), last, i, ff;
    double m = pre_median(b, n, fault_ms), lo = INFINITY;

    *out = (struct pvt_ffig){.fault_ms = fault_ms, .recovery_ms = NAN, .min_ok_per_s = NAN};
    for (i = 0; i < n; i++)
        out->failed += b[i].failed;
    out->pre_ok_per_s = m * (1000.0 / PVT_LOAD_BIN_MS);
    /* The schedule's last whole bin: later ones hold the tail of the run. */
    last = (size_t)(duration_ms / PVT_LOAD_BIN_MS);
    last = last > 0 ? last - 1 : 0;
    if (last >= n)
        last = n ? n - 1 : 0;
    for (i = f; i <= last && i < n; i++)
        if (b[i].ok < lo)
            lo = b[i].ok;
    if (isfinite(lo))
        out->min_ok_per_s = lo * (1000.0 / PVT_LOAD_BIN_MS);

    /* Recovery: the start of the first window from the fault's bin on that
     * holds the rate, less the fault time (0 if the fault's own bin does). */
    if (!isnan(m) && m > 0) {
        for (i = f; i <= last && i < n; i++) {
            if (holds(b, i, last, m)) {
                double t = (double)i * PVT_LOAD_BIN_MS - fault_ms;
                out->recovery_ms = t > 0 ? t : 0;
                break;
            }
        }
    }

    /* First success: the start of the first bin after the first bin with a
     * failure (from the fault's bin on) that has a 2xx, less the fault time. */
    for (ff = f; ff < n && b[ff].failed == 0; ff++)
        ;
    if (ff >= n) {
        out->first_ok_ms = 0;
        return;
    }
    out->first_ok_ms = NAN;
    for (i = ff + 1; i < n; i++) {
        if (b[i].ok > 0) {
            double t = (double)i * PVT_LOAD_BIN_MS - fault_ms;
            out->first_ok_ms = t > 0 ? t : 0;
            break;
        }
    }
}

/* "t_ms,ok,failed,p99_us,max_us", p99 and max empty in a bin without a response. */
static int parse_bin(char *line, struct pvt_fbin *b, size_t index)
{
    unsigned long long t, ok, failed;
    long long p99 = -1, max = -1;
    char *p = line, *end;

    t = strtoull(p, &end, 10);
    if (end == p || *end != ',' || t != index * PVT_LOAD_BIN_MS)
        return -EPROTO;
    ok = strtoull(p = end + 1, &end, 10);
    if (end == p || *end != ',')
        return -EPROTO;
    failed = strtoull(p = end + 1, &end, 10);
    if (end == p || *end != ',')
        return -EPROTO;
    p = end + 1;
    if (*p != ',') {
        p99 = strtoll(p, &end, 10);
        if (end == p || *end != ',')
            return -EPROTO;
        p = end;
    }
    p++;
    if (*p && *p != '\n') {
        max = strtoll(p, &end, 10);
        if (end == p)
            return -EPROTO;
    }
    *b = (struct pvt_fbin){.ok = (uint32_t)ok, .failed = (uint32_t)failed, .p99_us = p99,
                           .max_us = max, .live = -1};
    return 0;
}

int pvt__fault_read_timeline(const char *path, struct pvt_fbin **out, size_t *n)
{
    FILE *f = fopen(path, "re");
    struct pvt_fbin *bins = NULL, *nb;
    size_t cap = 0, k = 0;
    char line[256];
    int rc = 0;

    if (!f)
        return -errno;
    if (!fgets(line, sizeof(line), f) || strncmp(line, "t_ms,ok,failed,p99_us,max_us", 28) != 0)
        rc = -EPROTO;
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        if (k == cap) {
            cap = cap ? cap * 2 : 512;
            nb = realloc(bins, cap * sizeof(*bins));
            if (!nb) {
                rc = -ENOMEM;
                break;
            }
            bins = nb;
        }
        rc = parse_bin(line, &bins[k], k);
        k++;
    }
    fclose(f);
    if (rc < 0) {
        free(bins);
        return rc;
    }
    *out = bins;
    *n = k;
    return 0;
}

void pvt__fault_live_bins(struct pvt_frun *fr)
{
    size_t i, s = 0;
    int live = -1;

    for (i = 0; i < fr->nbins; i++) {
        uint64_t end = fr->start_ns + (uint64_t)(i + 1) * NS_PER_BIN;
        while (s < fr->nsamples && fr->samples[s].t_ns < end)
            live = fr->samples[s++].live;
        fr->bins[i].live = live;
    }
}

int pvt__fault_timeline_rows(struct pvt_csv *csv, const struct pvt_frun *fr)
{
    char v[6][32];
    const char *row[9] = {fr->backend, fr->fault->label, v[0], v[1], v[2], v[3], v[4], v[5]};
    size_t i;
    int rc;

    snprintf(v[0], sizeof(v[0]), "%d", fr->rep);
    for (i = 0; i < fr->nbins; i++) {
        const struct pvt_fbin *b = &fr->bins[i];
        char live[16] = "";
        snprintf(v[1], sizeof(v[1]), "%zu", i * PVT_LOAD_BIN_MS);
        snprintf(v[2], sizeof(v[2]), "%u", b->ok);
        snprintf(v[3], sizeof(v[3]), "%u", b->failed);
        v[4][0] = v[5][0] = '\0';
        if (b->p99_us >= 0)
            snprintf(v[4], sizeof(v[4]), "%lld", (long long)b->p99_us);
        if (b->max_us >= 0)
            snprintf(v[5], sizeof(v[5]), "%lld", (long long)b->max_us);
        if (b->live >= 0)
            snprintf(live, sizeof(live), "%d", b->live);
        row[8] = live;
        if ((rc = pvt_csv_add_row(csv, row)) < 0)
            return rc;
    }
    return 0;
}
