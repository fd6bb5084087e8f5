/*
 * ring_cases.h: the cases that live beside test_ring.c, run from its main:
 * the races between a worker's idle loop and the driver (ring_race.c).
 */
#ifndef PVT_TEST_RING_CASES_H
#define PVT_TEST_RING_CASES_H

void test_stop_race_queued(void **state);
void test_wake_last_job(void **state);

#endif
