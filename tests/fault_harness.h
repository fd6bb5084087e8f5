/*
 * fault_harness.h: what test_fault.c and fault_serve.c share: bounded waits,
 * forked children that report through their exit code, the process's
 * descriptors and children as /proc shows them, pools the teardown destroys,
 * and results gathered by job id.
 *
 * Helpers whose name ends in _or_fail call cmocka and run on the test thread
 * only. The others call no cmocka at all, so a forked child (STYLE.md, Tests)
 * or a helper thread may use them.
 */
#ifndef PVT_TEST_FAULT_HARNESS_H
#define PVT_TEST_FAULT_HARNESS_H

#include <stdint.h>
#include <sys/types.h>

#include "shared/core/pvt.h"

#define FH_GUARD_MS 20000 /* turns a hang into a failure; no case comes near it */
#define FH_MAX_IDS  1100  /* job ids a struct fh_seen tracks: 0 .. FH_MAX_IDS - 1 */

uint64_t fh_now_ms(void);
void fh_sleep_ms(int ms);

/* ---- forked children (no cmocka in them) ---- */

/* A child's first step: crash signals back to their defaults (cmocka's
 * handlers are inherited), no core file, and an alarm that ends a hang. */
void fh_child_setup(unsigned alarm_s);

/* Fork, run fn(arg) in the child after fh_child_setup(alarm_s), _exit with
 * what it returns. Returns the child's exit code, or 1000 + the signal that
 * ended it; a child still there alarm_s + 10 s later is killed. -1 when
 * fork failed. The child is always reaped. */
int fh_run_in_child(int (*fn)(void *), void *arg, unsigned alarm_s);

/* Wait up to ms for pid (a child) to end and reap it; kill and reap it past
 * that. Returns what fh_run_in_child returns. */
int fh_reap_child(pid_t pid, int ms);

/* ---- the process as /proc shows it ---- */

/* Open descriptors of this process, or -errno. */
int fh_count_fds(void);
/* Threads of this process (the Threads: line of /proc/self/status). */
int fh_count_threads(void);
/* Children of this process, from every thread's /proc/self/task/TID/children
 * (up to max pids into out, which may be NULL); *zombies: how many of them
 * have exited but are not reaped. -errno if /proc cannot tell. Reaps
 * nothing, so a pool's children are left to the pool. */
int fh_children(pid_t *out, int max, int *zombies);
/* 1 when pid is no process any more (reaped and gone). */
int fh_gone(pid_t pid);
/* The state letter of /proc/PID/stat ('R', 'S', 'Z', ...), or 0 if gone. */
char fh_proc_state(pid_t pid);
/* The number of the system call pid is blocked in (/proc/PID/syscall), -1
 * while it runs in user space, -2 if it cannot be read (it is gone). */
long fh_proc_syscall(pid_t pid);
/* RSS of pid in KiB (/proc/PID/statm), or -1. */
long fh_rss_kb(pid_t pid);

/* ---- pools the teardown destroys if a case fails half-way ---- */

/* create, or fail the case naming what. */
struct pvt_pool *fh_pool_open_or_fail(const struct pvt_pool_ops *ops,
                                      const struct pvt_pool_cfg *cfg, const char *what);
/* destroy a pool fh_pool_open_or_fail made. */
void fh_pool_close(struct pvt_pool *p);
/* A cmocka teardown: destroy whatever is still open. */
int fh_teardown(void **state);

/* ops->stats into st, with w (NULL or st->workers entries); fails the case
 * if stats fails. */
void fh_stats_or_fail(const struct pvt_pool_ops *ops, struct pvt_pool *p, struct pvt_pool_stats *st,
                      struct pvt_worker_stats *w);
/* Poll stats until slot has a ready worker whose pid is not old (0: any),
 * up to FH_GUARD_MS; fails the case otherwise. Leaves the last stats in st. */
void fh_wait_slot_or_fail(const struct pvt_pool_ops *ops, struct pvt_pool *p, int slot, pid_t old,
                          struct pvt_pool_stats *st, struct pvt_worker_stats *w);
/* After destroy: no child process is left (waitpid -1 says ECHILD). */
void fh_no_children_or_fail(const char *when);

/* ---- results by id ---- */

struct fh_seen {
    int got;   /* results collected */
    int stray; /* with an id past FH_MAX_IDS */
    int rc;    /* the last negative return of collect, 0 if none */
    int count[FH_MAX_IDS];
    int status[FH_MAX_IDS];
    int worker[FH_MAX_IDS];
    uint64_t value[FH_MAX_IDS];
};

/* Collect until s holds want results, collect fails, or guard_ms passes. */
void fh_collect(const struct pvt_pool_ops *ops, struct pvt_pool *p, struct fh_seen *s, int want,
                int guard_ms);

/* Submit jobs[0..n) whole, collecting into s while queues are full. 0, or
 * the first error of submit other than -EAGAIN. */
int fh_submit_all(const struct pvt_pool_ops *ops, struct pvt_pool *p, const struct pvt_job *jobs,
                  int n, struct fh_seen *s);

/* Ordinary jobs with known values (cpu, hash, noop, alloc in turn), ids
 * 0..n-1, and the fault `fault` with `arg` at id `at` (-1: none). */
void fh_make_jobs(struct pvt_job *j, int n, int at, uint32_t fault, uint64_t arg);

#endif
