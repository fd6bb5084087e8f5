/*
 * ring_harness.h: a fixture for driving rings and a dispatcher by hand in the
 * test suites: worker threads that only run pvt_ring_worker_loop, the wait
 * the thread backend uses, and bounded joins and collects that turn a lost
 * wake-up into a failed test instead of a hung one.
 */
#ifndef PVT_RING_HARNESS_H
#define PVT_RING_HARNESS_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "shared/core/disp.h"
#include "shared/core/ring.h"

#define MAX_RINGS 2
#define JOIN_MS   5000 /* a worker told to stop must have exited by then */
#define WAIT_MS   5000 /* a driver not woken for this long: a lost wake-up */

struct harness {
    struct pvt_region g;
    struct pvt_disp d;
    int mapped;
    int disp_ok;
    pthread_t tid[MAX_RINGS];
    int started[MAX_RINGS];
    int joined[MAX_RINGS];
    int waits;           /* calls of the wait callback */
    int zero_waits;      /* of which with timeout 0 */
    int poll_timeouts;   /* of which ended with nothing written to the efd */
    int wait_rc;         /* what the callback returns after polling */
    unsigned char *seen; /* stress: ids seen */
};

int wait_cb(void *arg, int timeout_ms);
int setup(void **state);
int teardown(void **state);
int join_one(struct harness *h, int i, const struct timespec *deadline);
void h_open(struct harness *h, int n, uint32_t depth);
void h_start(struct harness *h, int i);
void h_stop_join(struct harness *h, int i, unsigned how);
void h_join(struct harness *h, int i);
void make_jobs(struct pvt_job *jobs, int n, uint64_t first_id, uint32_t wl, uint64_t arg);
uint64_t tail_of(struct harness *h, int i);
uint64_t done_of(struct harness *h, int i);
int wait_sleeping(struct harness *h, int i, int ms);
/* Wait up to ms until ring i's worker has done every job published to it
 * and then announced sleep. 1 if so. (A worker asleep before the last
 * submit shows `sleeping` until it wakes: wait_sleeping alone would see
 * that.) */
int wait_idle(struct harness *h, int i, int ms);
int collect_live(struct harness *h, struct pvt_result *res, int max);
void collect_n(struct harness *h, struct pvt_result *res, int want);

#endif
