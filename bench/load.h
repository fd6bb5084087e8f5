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

#include "hist.h"

#define PVT_LOAD_MAX_CONNS 10000
#define PVT_LOAD_MAX_THREADS 256
#define PVT_LOAD_HIST_HIGHEST 60000000ull /* µs: 60 s */

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
};

/* Latency percentiles, µs. */
struct pvt_load_lat {
    uint64_t p50, p90, p99, p999, max;
};

struct pvt_load_result {
    uint64_t requests;      /* responses received, 2xx or not */
    uint64_t err_connect;   /* connect failed (refused, or not within timeout_ms) */
    uint64_t err_read;      /* reset, EOF or a malformed response mid-request */
    uint64_t err_write;     /* the request could not be written */
    uint64_t err_timeout;   /* no complete response within timeout_ms */
    uint64_t err_status;    /* responses whose status was not 2xx */
    uint64_t connects;      /* connections established */
    double seconds;         /* from start until every thread stopped */
    double requests_per_s;
    /* From the intended send time (wrk2's coordinated-omission correction);
     * in a closed loop, the actual send time, so both are the same. */
    struct pvt_load_lat lat;
    struct pvt_load_lat lat_uncorrected; /* from the actual send time */
    struct pvt_hist *hist;               /* µs, the caller frees */
    struct pvt_hist *hist_uncorrected;   /* µs, the caller frees */
};

/*
 * Runs the load and fills *res. With requests > 0 every request is one
 * attempt that ends in a response or an error, so the server never sees more
 * than `requests` of them; with duration_ms, no request is sent after the
 * duration, and the run ends when the last one in flight is answered or times
 * out (so by duration_ms + timeout_ms).
 *
 * Returns 0 when the run took place (whatever its errors), -EINVAL for a bad
 * configuration (a host outside 127.0.0.0/8 included), -ENOMEM, or the
 * negated error of epoll_create1, pthread_create or pthread_setaffinity_np.
 */
int pvt_load_run(const struct pvt_load_cfg *cfg, struct pvt_load_result *res);

/* Frees the histograms of a result (safe on a zeroed one). */
void pvt_load_result_free(struct pvt_load_result *res);

#endif
