/*
 * hist.h: latency histograms of HdrHistogram's design: log-linear buckets
 * holding values to a fixed number of significant decimal digits, so a
 * percentile is exact to that precision over any range, recording is O(1)
 * with no allocation, and histograms of the same shape merge by adding counts.
 * One per thread, merged after join (as wrk does).
 */
#ifndef PVT_HIST_H
#define PVT_HIST_H

#include <stdint.h>
#include <stdio.h>

struct pvt_hist;

/*
 * Values from 1 to highest (>= 2) kept to sig_digits (1..5) significant
 * digits. -EINVAL for bad arguments, -ENOMEM.
 */
int pvt_hist_new(uint64_t highest, int sig_digits, struct pvt_hist **out);
void pvt_hist_free(struct pvt_hist *h);
void pvt_hist_reset(struct pvt_hist *h);

/* Record v (n times). 0 counts as 1, a value above highest as highest; both
 * are counted in pvt_hist_clamped(). */
void pvt_hist_record(struct pvt_hist *h, uint64_t v);
void pvt_hist_record_n(struct pvt_hist *h, uint64_t v, uint64_t n);

/* Add src's counts to dst. -EINVAL if their shapes differ. */
int pvt_hist_add(struct pvt_hist *dst, const struct pvt_hist *src);

uint64_t pvt_hist_count(const struct pvt_hist *h);
uint64_t pvt_hist_clamped(const struct pvt_hist *h);
uint64_t pvt_hist_min(const struct pvt_hist *h); /* 0 when empty */
uint64_t pvt_hist_max(const struct pvt_hist *h); /* 0 when empty */
double pvt_hist_mean(const struct pvt_hist *h);  /* 0 when empty */

/*
 * The value at percentile p (0..100): the highest value equivalent to the
 * bucket holding the p-th percentile sample, as HdrHistogram reports it;
 * p = 100 gives the max. 0 when empty.
 */
uint64_t pvt_hist_percentile(const struct pvt_hist *h, double p);

/*
 * Write the percentile distribution in HdrHistogram's text (.hgrm) format,
 * values divided by unit_scale (e.g. 1000.0 for microseconds shown as
 * milliseconds), readable by HdrHistogram's plotting tools. 0 or -errno.
 */
int pvt_hist_write_hgrm(const struct pvt_hist *h, FILE *f, double unit_scale);

#endif
