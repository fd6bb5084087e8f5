/*
 * msg_bench.c: what a message costs, for each backend: round trips of a
 * 64-byte PING to worker 0 and its PONG, and broadcast rounds (a PING to
 * every worker, then all their PONGs), for pools of 1 and 2 workers.
 * Built as an executable, not a test: timing is a benchmark's business.
 *
 *   msg_bench [ROUND_TRIPS]     (default 20000; run under flock on a
 *                                shared machine)
 *
 * Each figure is the median of 5 repetitions. messages/s counts both
 * directions: a broadcast round to k workers moves 2k messages.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/core/msg.h"
#include "shared/core/pvt.h"
#include "shared/base/clock.h"

#define REPS    5
#define PAYLOAD 64

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return v[n / 2];
}

/* The next PONG, skipping anything else; -ETIMEDOUT past 10 s. */
static int wait_pong(const struct pvt_pool_ops *ops, struct pvt_pool *p, struct pvt_msg_in *in)
{
    int rc;

    do {
        rc = ops->recv(p, in, 10000);
        if (rc <= 0)
            return rc < 0 ? rc : -ETIMEDOUT;
    } while (in->type != PVT_MSG_PONG);
    return 0;
}

/* n round trips to worker 0: mean µs each, or a negative errno. */
static double round_trips(const struct pvt_pool_ops *ops, struct pvt_pool *p, int n)
{
    static unsigned char pay[PAYLOAD];
    struct pvt_msg m = {.type = PVT_MSG_PING, .len = sizeof(pay), .data = pay};
    struct pvt_msg_in in;
    uint64_t t0 = pvt_now_ns();
    int i, rc;

    for (i = 0; i < n; i++) {
        m.id = (uint32_t)i + 1;
        if ((rc = ops->send(p, 0, &m)) < 0 || (rc = wait_pong(ops, p, &in)) < 0)
            return rc;
        if (in.id != m.id)
            return -EPROTO;
    }
    return (double)(pvt_now_ns() - t0) / 1e3 / n;
}

/* n broadcast rounds to k workers: messages/s, both directions. */
static double broadcasts(const struct pvt_pool_ops *ops, struct pvt_pool *p, int k, int n)
{
    static unsigned char pay[PAYLOAD];
    struct pvt_msg m = {.type = PVT_MSG_PING, .len = sizeof(pay), .data = pay};
    struct pvt_msg_in in;
    uint64_t t0 = pvt_now_ns();
    int i, j, rc;

    for (i = 0; i < n; i++) {
        m.id = (uint32_t)i + 1;
        if ((rc = ops->send(p, -1, &m)) != k)
            return rc < 0 ? rc : -EHOSTDOWN;
        for (j = 0; j < k; j++)
            if ((rc = wait_pong(ops, p, &in)) < 0)
                return rc;
    }
    return 2.0 * k * n / ((double)(pvt_now_ns() - t0) / 1e9);
}

static int bench_one(const struct pvt_pool_ops *ops, int workers, int n)
{
    struct pvt_pool_cfg cfg = {.workers = workers};
    double rtt[REPS], rate[REPS];
    struct pvt_msg_in in;
    struct pvt_pool *p;
    int r, rc = ops->create(&cfg, &p);

    if (rc < 0) {
        fprintf(stderr, "msg_bench: %s create: %s\n", ops->name, strerror(-rc));
        return rc;
    }
    while (ops->recv(p, &in, 100) == 1)
        ;                            /* the HELLOs */
    round_trips(ops, p, n / 10 + 1); /* warm-up */
    for (r = 0; r < REPS; r++) {
        rtt[r] = round_trips(ops, p, n);
        rate[r] = broadcasts(ops, p, workers, n / workers);
        if (rtt[r] < 0 || rate[r] < 0) {
            rc = (int)(rtt[r] < 0 ? rtt[r] : rate[r]);
            fprintf(stderr, "msg_bench: %s: %s\n", ops->name, strerror(-rc));
            ops->destroy(p);
            return rc;
        }
    }
    ops->destroy(p);
    printf("%-7s %7d %11d %10.2f %14.0f\n", ops->name, workers, n, median(rtt, REPS),
           median(rate, REPS));
    return 0;
}

int main(int argc, char **argv)
{
    const struct pvt_pool_ops *const *bp;
    int n = argc > 1 ? atoi(argv[1]) : 20000, w, failed = 0;

    if (n < 1) {
        fprintf(stderr, "usage: msg_bench [ROUND_TRIPS]\n");
        return 2;
    }
    printf("%-7s %7s %11s %10s %14s\n", "backend", "workers", "round_trips", "rtt_us_p50",
           "msgs_per_s_p50");
    for (bp = pvt_backends; *bp; bp++)
        for (w = 1; w <= 2; w++)
            failed |= bench_one(*bp, w, n) < 0;
    return failed;
}
