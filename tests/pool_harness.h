/*
 * pool_harness.h: what test_pool.c and pool_queue.c share: failures that
 * name the backend, pools the teardown destroys if a case fails half-way,
 * batches of jobs and what came back for each, and the stats of a pool.
 *
 * Only the thread that drives a pool calls these: they call cmocka.
 */
#ifndef PVT_TEST_POOL_HARNESS_H
#define PVT_TEST_POOL_HARNESS_H

#include <stdint.h>

#include "shared/core/pvt.h"

/* A hang guard, not a timing check: no case comes close to it. */
#define GUARD_MS 20000
#define MAX_JOBS 1024

/* Failures name the backend. */
#define EXPECT_INT(ops, got, want)                                                                 \
    do {                                                                                           \
        long long g_ = (long long)(got), w_ = (long long)(want);                                   \
        if (g_ != w_)                                                                              \
            fail_msg("[%s] %s is %lld, expected %lld", (ops)->name, #got, g_, w_);                 \
    } while (0)
#define EXPECT_TRUE(ops, cond)                                                                     \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fail_msg("[%s] expected %s", (ops)->name, #cond);                                      \
    } while (0)

#define FOR_EACH_BACKEND(bp) for (bp = pvt_backends; *bp; bp++)

uint64_t now_ms(void);

/* ---- pools that the teardown destroys if a case fails ---- */

/* create, or fail the case naming the backend and the configuration. */
struct pvt_pool *pool_open(const struct pvt_pool_ops *ops, const struct pvt_pool_cfg *cfg);
/* pool_open with only workers and queue_depth set. */
struct pvt_pool *pool_new(const struct pvt_pool_ops *ops, int workers, unsigned depth);
/* destroy a pool pool_open made. */
void pool_close(struct pvt_pool *p);
/* A cmocka teardown: destroy whatever is still open. */
int teardown_pools(void **state);

/* ---- jobs and what came back ---- */

struct batch {
    int n;
    uint64_t base; /* job k has id base + k */
    struct pvt_job jobs[MAX_JOBS];
    int count[MAX_JOBS]; /* how many times each id came back */
    int status[MAX_JOBS];
    uint64_t value[MAX_JOBS];
    int worker[MAX_JOBS];
    int stray; /* results whose id is not in this batch */
    int got;   /* results recorded */
    int rc;    /* the last negative collect return, 0 if none */
};

void batch_init(struct batch *b, uint64_t base);
/* n jobs of workload:arg, with the next ids. */
void batch_add(struct batch *b, uint32_t workload, uint64_t arg, int n);

/* One collect call into b. Returns what collect returned. */
int collect_some(const struct pvt_pool_ops *ops, struct pvt_pool *p, struct batch *b, int max,
                 int timeout_ms);
/* Collect until b holds `want` results, collect fails, or the guard ends. */
void collect_until(const struct pvt_pool_ops *ops, struct pvt_pool *p, struct batch *b, int want,
                   int guard_ms);
/* Submit jobs [from, to) of b, collecting whenever every queue is full. */
void submit_range(const struct pvt_pool_ops *ops, struct pvt_pool *p, struct batch *b, int from,
                  int to);
/* Every job came back exactly once, PVT_JOB_OK, with its expected value. */
void expect_all_ok(const struct pvt_pool_ops *ops, const struct batch *b, int workers);
/* Submit all of b, collect all of it, expect_all_ok. */
void run_batch(const struct pvt_pool_ops *ops, struct pvt_pool *p, struct batch *b, int workers);

/* ops->stats into st, with w (NULL or st->workers entries); the backend
 * names itself. */
void get_stats(const struct pvt_pool_ops *ops, struct pvt_pool *p, struct pvt_pool_stats *st,
               struct pvt_worker_stats *w);
/* Nothing of a destroyed or never-made pool is left: no child process. */
void expect_no_children(const struct pvt_pool_ops *ops);

#endif
