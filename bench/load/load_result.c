/*
 * load_result.c: the load generator's counts, summed after the run. Each
 * thread counts each of its streams in a struct pvt__load_stats of its own
 * (load.c); once every thread is joined, a result is the sum of some of
 * them: one stream's over all threads, or every one for the totals.
 */
#include <errno.h>
#include <stdlib.h>

#include "load.h"

#define NS_PER_BIN ((uint64_t)PVT_LOAD_BIN_MS * 1000000ull)

int pvt__load_stats_init(struct pvt__load_stats *st, size_t bins)
{
    int rc;

    if ((rc = pvt_hist_new(PVT_LOAD_HIST_HIGHEST, 3, &st->hist)) < 0 ||
        (rc = pvt_hist_new(PVT_LOAD_HIST_HIGHEST, 3, &st->unc)) < 0 ||
        (bins && (rc = pvt__load_tl_reserve(&st->tl, bins)) < 0)) {
        pvt__load_stats_free(st);
        return rc;
    }
    return 0;
}

void pvt__load_stats_free(struct pvt__load_stats *st)
{
    pvt_hist_free(st->hist);
    pvt_hist_free(st->unc);
    free(st->tl.bins);
    st->hist = st->unc = NULL;
    st->tl.bins = NULL;
    st->tl.n = st->tl.cap = 0;
}

static void fill_lat(struct pvt_load_lat *l, const struct pvt_hist *h)
{
    l->p50 = pvt_hist_percentile(h, 50);
    l->p90 = pvt_hist_percentile(h, 90);
    l->p99 = pvt_hist_percentile(h, 99);
    l->p999 = pvt_hist_percentile(h, 99.9);
    l->mean = pvt_hist_mean(h);
    l->max = pvt_hist_max(h);
}

/* The timelines into res, bins up to the end of the run. */
static int fill_timeline(struct pvt_load_result *res, struct pvt__load_stats *const *st, int n,
                         uint64_t elapsed_ns)
{
    struct pvt__load_tl all = {0};
    size_t need = (size_t)(elapsed_ns / NS_PER_BIN) + 1;
    int i, rc = pvt__load_tl_reserve(&all, need);

    for (i = 0; i < n && rc == 0; i++)
        rc = pvt__load_tl_merge(&all, &st[i]->tl);
    if (rc < 0) {
        free(all.bins);
        return rc;
    }
    res->bins = all.bins;
    res->nbins = all.n > need ? all.n : need;
    return 0;
}

int pvt__load_result_fill(struct pvt_load_result *res, struct pvt__load_stats *const *st, int n,
                          uint64_t elapsed_ns, int timeline)
{
    int i, rc;

    if ((rc = pvt_hist_new(PVT_LOAD_HIST_HIGHEST, 3, &res->hist)) < 0 ||
        (rc = pvt_hist_new(PVT_LOAD_HIST_HIGHEST, 3, &res->hist_uncorrected)) < 0)
        return rc;
    for (i = 0; i < n; i++) {
        const struct pvt__load_stats *s = st[i];
        res->requests += s->requests;
        res->connects += s->connects;
        res->mixed += s->mixed;
        res->err_connect += s->err[PVT__LOAD_E_CONNECT];
        res->err_read += s->err[PVT__LOAD_E_READ];
        res->err_write += s->err[PVT__LOAD_E_WRITE];
        res->err_timeout += s->err[PVT__LOAD_E_TIMEOUT];
        res->err_status += s->err[PVT__LOAD_E_STATUS];
        pvt_hist_add(res->hist, s->hist);
        pvt_hist_add(res->hist_uncorrected, s->unc);
    }
    fill_lat(&res->lat, res->hist);
    fill_lat(&res->lat_uncorrected, res->hist_uncorrected);
    res->seconds = (double)elapsed_ns / 1e9;
    res->requests_per_s = res->seconds > 0 ? (double)res->requests / res->seconds : 0;
    return timeline ? fill_timeline(res, st, n, elapsed_ns) : 0;
}

void pvt_load_result_free(struct pvt_load_result *res)
{
    int i;

    if (!res)
        return;
    for (i = 0; res->streams && i < res->nstreams; i++)
        pvt_load_result_free(&res->streams[i]);
    free(res->streams);
    pvt_hist_free(res->hist);
    pvt_hist_free(res->hist_uncorrected);
    free(res->bins);
    res->hist = res->hist_uncorrected = NULL;
    res->bins = NULL;
    res->nbins = 0;
    res->streams = NULL;
    res->nstreams = 0;
}
