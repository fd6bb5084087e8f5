/*
 * load_tl.c: the load generator's timeline (load.h): per-bin counts and a
 * compact latency histogram per bin, one timeline per thread, merged after
 * join like the thread's other counters.
 *
 * Buckets. A latency v (µs, at least 1, at most PVT_LOAD_HIST_HIGHEST) below
 * 16 has a bucket of its own; above, with e the position of its highest set
 * bit (4 .. 25), it lands in one of 8 equal sub-buckets of [2^e, 2^(e+1)):
 * bucket 16 + (e - 4) * 8 + the 3 bits below the highest. A bucket's width
 * is 1/8 of its lower edge, hence the 12.5 % bound of a percentile.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"

static unsigned bucket_of(uint64_t v)
{
    unsigned e;

    if (v < 16)
        return (unsigned)v;
    if (v > PVT_LOAD_HIST_HIGHEST)
        v = PVT_LOAD_HIST_HIGHEST;
    e = 63u - (unsigned)__builtin_clzll(v);
    return 16u + (e - 4u) * 8u + (unsigned)((v >> (e - 3u)) & 7u);
}

/* The highest latency that lands in bucket i. */
static uint64_t bucket_high(unsigned i)
{
    unsigned e, sub;

    if (i < 16)
        return i;
    e = (i - 16u) / 8u + 4u;
    sub = (i - 16u) % 8u;
    return ((8ull + sub + 1ull) << (e - 3u)) - 1ull;
}

uint64_t pvt_load_bin_percentile(const struct pvt_load_bin *b, double p)
{
    uint64_t total = 0, want, seen = 0, v;
    unsigned i;

    for (i = 0; i < PVT_LOAD_BIN_BUCKETS; i++)
        total += b->lat[i];
    if (total == 0)
        return 0;
    if (p < 0)
        p = 0;
    want = p >= 100 ? total : (uint64_t)((p / 100.0) * (double)total + 0.999999);
    if (want == 0)
        want = 1;
    for (i = 0; i < PVT_LOAD_BIN_BUCKETS; i++) {
        seen += b->lat[i];
        if (seen >= want)
            break;
    }
    v = bucket_high(i < PVT_LOAD_BIN_BUCKETS ? i : PVT_LOAD_BIN_BUCKETS - 1);
    return v < b->max_us ? v : b->max_us;
}

int pvt__load_tl_reserve(struct pvt__load_tl *tl, size_t n)
{
    struct pvt_load_bin *nb;
    size_t cap = tl->cap ? tl->cap : 64;

    if (n <= tl->cap)
        return 0;
    while (cap < n)
        cap *= 2;
    nb = realloc(tl->bins, cap * sizeof(*nb));
    if (!nb)
        return -ENOMEM;
    memset(nb + tl->cap, 0, (cap - tl->cap) * sizeof(*nb));
    tl->bins = nb;
    tl->cap = cap;
    return 0;
}

/* Bin i, allocated on demand; NULL (and the timeline marked) without memory. */
static struct pvt_load_bin *bin(struct pvt__load_tl *tl, size_t i)
{
    if (i >= tl->cap && pvt__load_tl_reserve(tl, i + 1) < 0) {
        tl->nomem = 1;
        return NULL;
    }
    if (i >= tl->n)
        tl->n = i + 1;
    return &tl->bins[i];
}

void pvt__load_tl_response(struct pvt__load_tl *tl, size_t i, int ok, uint64_t lat_us)
{
    struct pvt_load_bin *b = bin(tl, i);

    if (!b)
        return;
    if (ok)
        b->ok++;
    else
        b->failed++;
    if (lat_us == 0)
        lat_us = 1;
    b->lat[bucket_of(lat_us)]++;
    if (lat_us > b->max_us)
        b->max_us = lat_us > UINT32_MAX ? UINT32_MAX : (uint32_t)lat_us;
}

void pvt__load_tl_error(struct pvt__load_tl *tl, size_t i)
{
    struct pvt_load_bin *b = bin(tl, i);

    if (b)
        b->failed++;
}

int pvt__load_tl_merge(struct pvt__load_tl *dst, const struct pvt__load_tl *src)
{
    size_t i;
    unsigned k;

    if (dst->nomem || src->nomem || pvt__load_tl_reserve(dst, src->n) < 0)
        return -ENOMEM;
    if (src->n > dst->n)
        dst->n = src->n;
    for (i = 0; i < src->n; i++) {
        struct pvt_load_bin *d = &dst->bins[i];
        const struct pvt_load_bin *s = &src->bins[i];
        d->ok += s->ok;
        d->failed += s->failed;
        if (s->max_us > d->max_us)
            d->max_us = s->max_us;
        for (k = 0; k < PVT_LOAD_BIN_BUCKETS; k++)
            d->lat[k] += s->lat[k];
    }
    return 0;
}
