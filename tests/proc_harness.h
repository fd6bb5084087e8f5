/*
 * proc_harness.h: what test_proc.c and proc_life.c share: the one proc pool
 * a case uses (destroyed by the teardown if the case fails), results by id,
 * the process's children and descriptors, and the first step of a forked
 * child.
 *
 * child_setup, gone, now_ms and sleep_ms call no cmocka, so a forked child
 * (STYLE.md, Tests) may use them; the others run on the test thread only.
 */
#ifndef PVT_TEST_PROC_HARNESS_H
#define PVT_TEST_PROC_HARNESS_H

#include <stdint.h>
#include <sys/types.h>

#include "shared/core/pvt.h"

#define GUARD_MS 20000
#define MAX_IDS  64

/* The proc backend, the one every case here drives. */
extern const struct pvt_pool_ops *const ops;

uint64_t now_ms(void);
void sleep_ms(int ms);

/* ---- the pool a case is using, destroyed by the teardown if it fails ---- */

/* create the pool a case uses (there is one at a time), or fail the case. */
struct pvt_pool *pool_new(int workers, int no_respawn);
/* destroy it. */
void pool_free(void);
/* A cmocka teardown: destroy it if the case left it. */
int teardown_pool(void **state);

/* ---- results by id ---- */

struct seen {
    int got;
    int count[MAX_IDS];
    int status[MAX_IDS];
    uint64_t value[MAX_IDS];
    int stray;
    int rc; /* the last negative collect return */
};

/* Collect until s holds want results, collect fails, or the guard ends. */
void collect_until(struct pvt_pool *p, struct seen *s, int want, int guard_ms);
/* Submit one job: what submit returned. */
int submit_one(struct pvt_pool *p, uint64_t id, uint32_t workload, uint64_t arg);
/* ops->stats into st, with w (NULL or st->workers entries); fails the case
 * if stats fails. */
void get_stats(struct pvt_pool *p, struct pvt_pool_stats *st, struct pvt_worker_stats *w);

/* ---- the process as /proc and waitpid show it ---- */

/* 1 when pid is no process any more. */
int gone(pid_t pid);
/* The pool reaped every child it had: nothing is left to wait for. */
void expect_no_children(void);
/* Open descriptors of this process. */
int count_fds(void);
/* The pool closed every descriptor it opened (its pidfds, epoll, eventfd). */
void expect_fds(int before, const char *when);

/* ---- forked children that report through their exit code ---- */

/* What a forked child of a test does first (STYLE.md, Tests). */
void child_setup(unsigned alarm_s);

#endif
