/*
 * proc_cases.h: the process backend cases that live beside test_proc.c, run
 * from its main: what a worker leaves behind and how it ends (proc_life.c).
 */
#ifndef PVT_TEST_PROC_CASES_H
#define PVT_TEST_PROC_CASES_H

void test_no_zombie_no_orphan(void **state);
void test_workers_are_processes(void **state);
void test_workers_die_with_primary(void **state);
void test_impossible_plan(void **state);
void test_second_pool_keeps_no_first_pool_fd(void **state);
void test_job_stop_does_not_spin(void **state);

#endif
