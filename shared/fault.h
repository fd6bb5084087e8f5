/*
 * fault.h: the faults pvt injects, the same code under both backends.
 *
 * Each fault does to the worker that runs it what a real bug would, and
 * nothing else: a fault in a worker process ends or stalls that process; the
 * same fault in a worker thread ends or stalls what a thread's bug would (a
 * crash, an abort or an exit ends the whole process, since threads share
 * it). Faults are reached as task-mode workloads (work.h: crash, abort,
 * exit:CODE, hang, slow:MS, leak:MB) and, in a server started with
 * --allow-faults, as routes (/crash, /abort, /exit?code=, /hang, /slow?ms=,
 * /leak?mb=).
 */
#ifndef PVT_FAULT_H
#define PVT_FAULT_H

#include <stdint.h>

/* A write to a page mapped PROT_NONE: a real invalid access, SIGSEGV. */
void pvt_fault_crash(void) __attribute__((noreturn));
/* abort(): SIGABRT. */
void pvt_fault_abort(void) __attribute__((noreturn));
/* _exit(code): the process ends without unwinding, as a bug's exit() would. */
void pvt_fault_exit(int code) __attribute__((noreturn));
/* A loop that never returns and burns its CPU (an infinite loop, not a wait). */
void pvt_fault_hang(void) __attribute__((noreturn));
/* Block for ms milliseconds: a latency spike that holds the worker. Returns ms. */
uint64_t pvt_fault_slow(uint64_t ms);
/* Allocate mb MiB, touch every page, never free it. Returns the bytes
 * leaked, 0 when the allocation failed. */
uint64_t pvt_fault_leak(uint64_t mb);

#endif
