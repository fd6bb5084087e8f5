/*
 * fault.h: the faults pvt injects, the same code under both backends.
 *
 * Each fault does to the worker that runs it what a real bug would, and
 * nothing else: a fault in a worker process ends or stalls that process; the
 * same fault in a worker thread ends or stalls what a thread's bug would (a
 * crash, an abort or an exit ends the whole process, since threads share
 * it). Faults are reached as task-mode workloads (work.h: crash, abort,
 * exit:CODE, hang, slow:MS, leak:MB, scribble[:SEED]) and, in a server
 * started with --allow-faults, as routes (/crash, /abort, /exit?code=,
 * /hang, /slow?ms=, /leak?mb=, /scribble?seed=).
 */
#ifndef PVT_FAULT_H
#define PVT_FAULT_H

#include <stddef.h>
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

/*
 * The memory the calling thread's worker shares with the one that drives it
 * (its ring, the waker's word), named by the backend as the worker starts,
 * at most PVT_FAULT_SHARED_MAX areas; len 0 forgets them all. Per thread, so
 * each worker thread and each worker process names its own.
 */
#define PVT_FAULT_SHARED_MAX 4
void pvt_fault_share(void *p, size_t len);
/*
 * A memory-corrupting bug at its worst: overwrite every byte named with
 * pvt_fault_share, with 0xff (seed 0) or a pseudo-random pattern from seed.
 * Returns the bytes overwritten; what the worker does next, with its own
 * state gone, is up to the garbage (it may go on or crash).
 */
uint64_t pvt_fault_scribble(uint64_t seed);

#endif
