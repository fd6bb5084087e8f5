/*
 * pool_cases.h: the contract cases that live beside test_pool.c, run from
 * its main: queues, collecting, stopping and two pools at once
 * (pool_queue.c); the capability bits (pool_caps.c).
 */
#ifndef PVT_TEST_POOL_CASES_H
#define PVT_TEST_POOL_CASES_H

void test_submit_eagain(void **state);
void test_collect_enoent(void **state);
void test_collect_timeout_zero(void **state);
void test_stop_drains(void **state);
void test_stop_forced(void **state);
void test_stop_backlog(void **state);
void test_submit_after_stop(void **state);
void test_two_pools(void **state);
/* pool_caps.c: each backend's PVT_CAP_* bits against what it does. */
void test_caps_agree(void **state);
void test_caps_by_name(void **state);
/* pool_poll.c: event_fd and poll, as an event loop uses them. */
void test_poll_contract(void **state);

#endif
