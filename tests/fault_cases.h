/*
 * fault_cases.h: the fault cases that live beside test_fault.c, run from its
 * main: supervision (fault_sup.c: recycling, the crash-loop guard, many
 * respawns) and serving pools (fault_serve.c).
 */
#ifndef PVT_TEST_FAULT_CASES_H
#define PVT_TEST_FAULT_CASES_H

void fault_test_recycle_max_jobs(void **state);
void fault_test_recycle_jitter(void **state);
void fault_test_recycle_batch(void **state);
void fault_test_recycle_rss(void **state);
void fault_test_thread_refuses_recycling(void **state);
void fault_test_crash_loop(void **state);
void fault_test_many_respawns(void **state);
void fault_test_recycle_code_unasked(void **state);
void fault_test_sigchld_ignored(void **state);

void fault_test_serve_proc_crash(void **state);
void fault_test_serve_proc_hang(void **state);
void fault_test_serve_recycle_first(void **state);
void fault_test_serve_no_faults_404(void **state);
void fault_test_serve_thread_faults(void **state);

void fault_test_scribble_task(void **state);
void fault_test_scribble_serve(void **state);
void fault_test_scribble_isolated(void **state);

#endif
