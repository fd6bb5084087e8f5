/*
 * hist.c: log-linear latency histograms (HdrHistogram's layout, written from
 * its published design).
 *
 * Layout. With d significant digits, a value is kept to within one part in
 * 10^d. sub_count is the smallest power of two >= 2 * 10^d; the first bucket
 * holds the values 0 .. sub_count - 1 one by one, and every later bucket b
 * holds the upper half of the next power-of-two range, sub_count / 2 slots
 * each 2^b wide. So the counts array is (buckets + 1) * sub_count / 2 long,
 * and a slot's width is never more than 1 / (sub_count / 2) of its value.
 *
 * Index of v: b = (position of v's highest set bit, with v at least
 * sub_count - 1) - log2(sub_count), the sub-bucket is v >> b, and the slot is
 * (b + 1) * half + (sub - half). A clz instruction does the first step.
 *
 * Not thread-safe: one histogram per thread, merged after join.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"

struct pvt_hist {
    uint64_t highest;
    int sig_digits;
    int sub_count;     /* slots in bucket 0, a power of two */
    int half_shift;    /* log2(sub_count / 2) */
    int buckets;       /* buckets above bucket 0 are buckets - 1 */
    size_t len;        /* slots in counts */
    uint64_t total;
    uint64_t clamped;
    uint64_t min, max; /* raw recorded values; min is UINT64_MAX when empty */
    uint64_t counts[];
};

static int bucket_of(const struct pvt_hist *h, uint64_t v)
{
    uint64_t mask = (uint64_t)h->sub_count - 1;

    /* 64 - clz is the number of bits needed for v; never less than those of
     * sub_count - 1, so small values land in bucket 0. */
    return 64 - __builtin_clzll(v | mask) - (h->half_shift + 1);
}

static size_t index_of(const struct pvt_hist *h, uint64_t v)
{
    int b = bucket_of(h, v);
    uint64_t sub = v >> b;
    uint64_t half = (uint64_t)h->sub_count >> 1;

    return ((size_t)(b + 1) << h->half_shift) + (size_t)(sub - half);
}

/* The lowest value that lands in slot i, and the slot's width. */
static uint64_t slot_low(const struct pvt_hist *h, size_t i, uint64_t *width)
{
    long b = (long)(i >> h->half_shift) - 1;
    uint64_t half = (uint64_t)h->sub_count >> 1;
    uint64_t sub = (i & (half - 1)) + half;

    if (b < 0) {
        sub -= half;
        b = 0;
    }
    *width = 1ull << b;
    return sub << b;
}

static uint64_t slot_high(const struct pvt_hist *h, size_t i)
{
    uint64_t w, lo = slot_low(h, i, &w);

    return lo + w - 1;
}

static uint64_t slot_mid(const struct pvt_hist *h, size_t i)
{
    uint64_t w, lo = slot_low(h, i, &w);

    return lo + w / 2;
}

int pvt_hist_new(uint64_t highest, int sig_digits, struct pvt_hist **out)
{
    struct pvt_hist *h;
    uint64_t need = 2, limit;
    int sub = 1, shift, buckets = 1, i;

    if (!out || highest < 2 || sig_digits < 1 || sig_digits > 5 || highest > (UINT64_MAX >> 2))
        return -EINVAL;
    for (i = 0; i < sig_digits; i++)
        need *= 10;
    while ((uint64_t)sub < need)
        sub <<= 1;
    shift = __builtin_ctz((unsigned)sub) - 1;
    /* Enough buckets that the last one reaches highest. */
    for (limit = (uint64_t)sub; limit <= highest; limit <<= 1)
        buckets++;
    h = calloc(1, sizeof(*h) + (size_t)(buckets + 1) * (size_t)(sub / 2) * sizeof(uint64_t));
    if (!h)
        return -ENOMEM;
    h->highest = highest;
    h->sig_digits = sig_digits;
    h->sub_count = sub;
    h->half_shift = shift;
    h->buckets = buckets;
    h->len = (size_t)(buckets + 1) * (size_t)(sub / 2);
    h->min = UINT64_MAX;
    *out = h;
    return 0;
}

void pvt_hist_free(struct pvt_hist *h)
{
    free(h);
}

void pvt_hist_reset(struct pvt_hist *h)
{
    memset(h->counts, 0, h->len * sizeof(uint64_t));
    h->total = 0;
    h->clamped = 0;
    h->min = UINT64_MAX;
    h->max = 0;
}

void pvt_hist_record_n(struct pvt_hist *h, uint64_t v, uint64_t n)
{
    if (n == 0)
        return;
    if (v == 0 || v > h->highest) {
        v = v == 0 ? 1 : h->highest;
        h->clamped += n;
    }
    h->counts[index_of(h, v)] += n;
    h->total += n;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

void pvt_hist_record(struct pvt_hist *h, uint64_t v)
{
    pvt_hist_record_n(h, v, 1);
}

int pvt_hist_add(struct pvt_hist *dst, const struct pvt_hist *src)
{
    size_t i;

    if (!dst || !src || dst->highest != src->highest || dst->sig_digits != src->sig_digits)
        return -EINVAL;
    for (i = 0; i < dst->len; i++)
        dst->counts[i] += src->counts[i];
    dst->total += src->total;
    dst->clamped += src->clamped;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    return 0;
}

uint64_t pvt_hist_count(const struct pvt_hist *h)
{
    return h->total;
}

uint64_t pvt_hist_clamped(const struct pvt_hist *h)
{
    return h->clamped;
}

uint64_t pvt_hist_min(const struct pvt_hist *h)
{
    return h->total ? h->min : 0;
}

uint64_t pvt_hist_max(const struct pvt_hist *h)
{
    return h->max;
}

double pvt_hist_mean(const struct pvt_hist *h)
{
    double sum = 0;
    size_t i;

    if (!h->total)
        return 0;
    for (i = 0; i < h->len; i++)
        if (h->counts[i])
            sum += (double)slot_mid(h, i) * (double)h->counts[i];
    return sum / (double)h->total;
}

static double stddev(const struct pvt_hist *h, double mean)
{
    double sum = 0, d;
    size_t i;

    if (!h->total)
        return 0;
    for (i = 0; i < h->len; i++) {
        if (!h->counts[i])
            continue;
        d = (double)slot_mid(h, i) - mean;
        sum += d * d * (double)h->counts[i];
    }
    return sqrt(sum / (double)h->total);
}

uint64_t pvt_hist_percentile(const struct pvt_hist *h, double p)
{
    uint64_t want, cum = 0, v;
    size_t i;

    if (!h->total)
        return 0;
    if (!(p > 0))
        p = 0;
    if (p >= 100)
        return h->max;
    /* p * total first: 99 * 10000 / 100 is exact, 0.99 * 10000 is not. */
    want = (uint64_t)ceil(p * (double)h->total / 100.0);
    if (want < 1)
        want = 1;
    if (want > h->total)
        want = h->total;
    for (i = 0; i < h->len; i++) {
        cum += h->counts[i];
        if (cum >= want)
            break;
    }
    v = slot_high(h, i);
    /* The slot's top may lie above anything recorded: never report more than
     * the max, so percentiles stay monotonic up to p = 100. */
    return v < h->max ? v : h->max;
}

/* HdrHistogram's percentile ticks: 5 per halving of the distance to 100%. */
static double next_level(double level)
{
    double ticks = 5.0 * pow(2.0, floor(log2(100.0 / (100.0 - level))) + 1.0);

    return level + 100.0 / ticks;
}

int pvt_hist_write_hgrm(const struct pvt_hist *h, FILE *f, double unit_scale)
{
    double level = 0, cur, mean;
    uint64_t cum = 0;
    size_t i, last = 0;
    int d;

    if (!h || !f || !(unit_scale > 0))
        return -EINVAL;
    d = h->sig_digits;
    fprintf(f, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount", "1/(1-Percentile)");
    for (i = 0; i < h->len && cum < h->total; i++) {
        if (!h->counts[i])
            continue;
        cum += h->counts[i];
        last = i;
        cur = 100.0 * (double)cum / (double)h->total;
        /* The last slot gets one row here and the 100% row below. */
        while (level <= cur && level < 100.0) {
            fprintf(f, "%12.*f %2.12f %10llu %14.2f\n", d, (double)slot_high(h, i) / unit_scale,
                    level / 100.0, (unsigned long long)cum, 1.0 / (1.0 - level / 100.0));
            level = next_level(level);
            if (cum == h->total)
                break;
        }
    }
    if (h->total)
        fprintf(f, "%12.*f %2.12f %10llu\n", d, (double)slot_high(h, last) / unit_scale, 1.0,
                (unsigned long long)h->total);
    mean = pvt_hist_mean(h);
    fprintf(f, "#[Mean    = %12.*f, StdDeviation   = %12.*f]\n", d, mean / unit_scale, d,
            stddev(h, mean) / unit_scale);
    fprintf(f, "#[Max     = %12.*f, Total count    = %12llu]\n", d,
            (double)pvt_hist_max(h) / unit_scale, (unsigned long long)h->total);
    fprintf(f, "#[Buckets = %12d, SubBuckets     = %12d]\n", h->buckets, h->sub_count);
    if (fflush(f) == EOF || ferror(f))
        return errno ? -errno : -EIO;
    return 0;
}
