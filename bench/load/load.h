/*
 * load.h: the HTTP/1.1 load generator behind `pvt load` (wrk's design, with
 * wrk2's constant-rate mode). No command-line parsing here.
 *
 * Loopback only: pvt drives servers on the same machine, and refuses to be
 * pointed at anybody else's.
 */
#ifndef PVT_LOAD_H
#define PVT_LOAD_H

#include <sched.h>
#include <stdint.h>

#include "shared/base/hist.h"

#define PVT_LOAD_MAX_CONNS 10000
#define PVT_LOAD_MAX_THREADS 256
#define PVT_LOAD_HIST_HIGHEST 60000000ull /* µs: 60 s */
#define PVT_LOAD_MAX_STREAMS  16

/*
 * The timeline (cfg.timeline): the run cut in PVT_LOAD_BIN_MS bins from its
 * start. A bin counts the 2xx responses and the errors of any kind (connect,
 * read, write, timeout, a non-2xx status) that happened in it, and the
 * latency of every response completed in it in a compact log-linear
 * histogram: exact below 16 µs, then 8 buckets per power of two, so a
 * percentile read from it is within 12.5 % above the true value (and never
 * above the bin's max, which is exact).
 */
#define PVT_LOAD_BIN_MS 10
#define PVT_LOAD_BIN_BUCKETS 192 /* 16 exact + 8 per octave from 2^4 to 2^26 µs */

struct pvt_load_bin {
    uint32_t ok;     /* 2xx responses completed in the bin */
    uint32_t failed; /* errors of any kind in the bin */
    uint32_t max_us; /* the largest latency of a response completed in it; 0: none */
    uint32_t lat[PVT_LOAD_BIN_BUCKETS];
};

/* The latency at percentile p (0..100) of the responses completed in the
 * bin: the upper edge of the bucket that holds it, at most max_us; 0 when
 * the bin holds no response. */
uint64_t pvt_load_bin_percentile(const struct pvt_load_bin *b, double p);

/*
 * A stream (cfg.streams): connections of their own that only ever send one
 * path, at a rate of their own, counted in a result of their own. Several
 * streams measure a light path apart from a heavy one on the same server:
 * an open-loop light stream shows head-of-line blocking as latency.
 */
struct pvt_load_stream {
    const char *path; /* as cfg.path */
    int connections;  /* >= 1; the streams' sum is at most PVT_LOAD_MAX_CONNS */
    double rate;      /* requests/s over the stream's connections; 0: closed loop */
};

struct pvt_load_cfg {
    const char *host;     /* an IPv4 dotted quad in 127.0.0.0/8 */
    uint16_t port;        /* 1..65535 */
    const char *path;     /* starts with '/', no spaces or control characters */
    int connections;      /* 1..PVT_LOAD_MAX_CONNS, at least threads */
    int threads;          /* 1..PVT_LOAD_MAX_THREADS */
    uint64_t duration_ms; /* run this long ... */
    uint64_t requests;    /* ... or this many requests: exactly one is > 0 */
    double rate;          /* requests/s over all connections; 0: closed loop */
    uint64_t timeout_ms;  /* per request (and per connect), > 0 */
    int pin;              /* 1: thread i binds itself to the i-th CPU of cpus */
    cpu_set_t cpus;
    int timeline;         /* 1: fill res->bins */
    /* With mix_rate > 0: each request goes to mix_path instead of path with
     * this probability (0 < mix_rate <= 1), drawn per request from a fixed
     * per-thread sequence; a fault mix, say. */
    const char *mix_path;
    double mix_rate;
    /* With nstreams > 0 (1..PVT_LOAD_MAX_STREAMS): the streams replace path,
     * connections and rate, which are not read; mix_rate must be 0, and
     * threads at most the streams' connections. A thread may hold
     * connections of several streams; each connection belongs to one. */
    const struct pvt_load_stream *streams;
    int nstreams;
};

/* Latency percentiles, µs. */
struct pvt_load_lat {
    uint64_t p50, p90, p99, p999, max;
    double mean; /* µs */
};

struct pvt_load_result {
    uint64_t requests;      /* responses received, 2xx or not */
    uint64_t err_connect;   /* connect failed (refused, or not within timeout_ms) */
    uint64_t err_read;      /* reset, EOF or a malformed response mid-request */
    uint64_t err_write;     /* the request could not be written */
    uint64_t err_timeout;   /* no complete response within timeout_ms */
    uint64_t err_status;    /* responses whose status was not 2xx */
    uint64_t connects;      /* connections established */
    uint64_t mixed;         /* requests sent (begun) to mix_path */
    double seconds;         /* from start until every thread stopped */
    double requests_per_s;
    /* From the intended send time (wrk2's coordinated-omission correction);
     * in a closed loop, the actual send time, so both are the same. */
    struct pvt_load_lat lat;
    struct pvt_load_lat lat_uncorrected; /* from the actual send time */
    struct pvt_hist *hist;               /* µs, the caller frees */
    struct pvt_hist *hist_uncorrected;   /* µs, the caller frees */
    uint64_t start_ns;                   /* CLOCK_MONOTONIC when the schedule started */
    /* With cfg.timeline: bins from start_ns covering the whole run (the
     * caller frees). Their ok add up to requests - err_status, their failed
     * to the five error counts. */
    struct pvt_load_bin *bins;
    size_t nbins;
    /* With cfg.nstreams: one result per stream, in cfg.streams' order, each
     * with its own counts, histograms and (with cfg.timeline) bins, over the
     * same seconds and start_ns; this result holds their sums. NULL (and 0)
     * without streams. A stream's result has no streams of its own. */
    struct pvt_load_result *streams;
    int nstreams;
};

/*
 * Runs the load and fills *res. With requests > 0 every request is one
 * attempt that ends in a response or an error, so the server never sees more
 * than `requests` of them (all streams' together); with duration_ms, no request is sent after the
 * duration, and the run ends when the last one in flight is answered or times
 * out (so by duration_ms + timeout_ms).
 *
 * Returns 0 when the run took place (whatever its errors), -EINVAL for a bad
 * configuration (a host outside 127.0.0.0/8 included), -ENOMEM (the
 * timeline's bins included), or the
 * negated error of epoll_create1, pthread_create or pthread_setaffinity_np.
 */
int pvt_load_run(const struct pvt_load_cfg *cfg, struct pvt_load_result *res);

/* Frees the histograms, bins and stream results of a result (safe on a
 * zeroed one). */
void pvt_load_result_free(struct pvt_load_result *res);

/* ---- internal: one thread's timeline (load_tl.c) ---- */

struct pvt__load_tl {
    struct pvt_load_bin *bins;
    size_t n, cap; /* bins in use (the highest touched + 1), allocated */
    int nomem;     /* a bin could not be allocated: the timeline is incomplete */
};

/* ---- internal: the configuration's check (load_cfg.c) ---- */

struct sockaddr_in;
/* 0, or -EINVAL for anything pvt_load_run refuses; fills *addr from host and
 * port. */
int pvt__load_check_cfg(const struct pvt_load_cfg *cfg, struct sockaddr_in *addr);
/* The run's connections: cfg->connections, or the streams' sum. */
int pvt__load_conns(const struct pvt_load_cfg *cfg);

/* ---- internal: one thread's counts for one stream (load_result.c) ---- */

enum {
    PVT__LOAD_E_CONNECT,
    PVT__LOAD_E_READ,
    PVT__LOAD_E_WRITE,
    PVT__LOAD_E_TIMEOUT,
    PVT__LOAD_E_STATUS,
    PVT__LOAD_E_KINDS
};

struct pvt__load_stats {
    uint64_t requests, connects, mixed, err[PVT__LOAD_E_KINDS];
    struct pvt_hist *hist, *unc; /* NULL: the thread has no connection of the stream */
    struct pvt__load_tl tl;      /* with cfg.timeline */
};

/* Histograms for st, and room for bins timeline bins (0: none yet). 0 or
 * -ENOMEM (st is then freed). */
int pvt__load_stats_init(struct pvt__load_stats *st, size_t bins);
void pvt__load_stats_free(struct pvt__load_stats *st);
/* Fills res's counts, histograms, percentiles, seconds and rate from the sums
 * of st[0..n-1] over a run of elapsed_ns; with timeline, its bins too, up to
 * the end of the run. 0 or -ENOMEM (res then holds what it had, for
 * pvt_load_result_free). */
int pvt__load_result_fill(struct pvt_load_result *res, struct pvt__load_stats *const *st, int n,
                          uint64_t elapsed_ns, int timeline);

/* Room for n bins (zeroed). 0 or -ENOMEM. */
int pvt__load_tl_reserve(struct pvt__load_tl *tl, size_t n);
/* A response completed in bin i: ok when 2xx, else one failure; its latency. */
void pvt__load_tl_response(struct pvt__load_tl *tl, size_t i, int ok, uint64_t lat_us);
/* An error in bin i. */
void pvt__load_tl_error(struct pvt__load_tl *tl, size_t i);
/* Add src's bins to dst's (grown to hold them). 0 or -ENOMEM, also when
 * either lost a bin during the run. */
int pvt__load_tl_merge(struct pvt__load_tl *dst, const struct pvt__load_tl *src);

#endif
