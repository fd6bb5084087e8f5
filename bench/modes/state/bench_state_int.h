/*
 * bench_state_int.h: what the two halves of state mode's mechanics share:
 * bench_state_run.c (a repetition, its loops, its threads) and
 * bench_state_proc.c (its processes: fork, reports, messages, reaping).
 * The DESIGN notes are at the top of bench_state_run.c.
 */
#ifndef PVT_BENCH_STATE_INT_H
#define PVT_BENCH_STATE_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bench_state.h"

/* A worker process exits with proc_pool.h's codes: PVT_WEXIT_OK once its
 * report is in the pipe (an error, if any, is in the report), PVT_WEXIT_OSERR
 * if it could not write it, PVT_WEXIT_ORPHAN if the primary was already gone. */

/* The start gate and proc-shm-atomic's counter: one MAP_SHARED region. */
struct state_gate {
    alignas(64) atomic_int ready;
    atomic_int finished;
    atomic_int go;
    atomic_int stop;
    alignas(64) _Atomic uint64_t shm; /* proc-shm-atomic's counter */
};

/* The thread variants' counters: ordinary heap memory. */
struct state_local {
    alignas(64) _Atomic uint64_t atomic; /* thread-atomic */
    alignas(64) pthread_mutex_t lock;    /* thread-mutex: guards locked */
    uint64_t locked;
};

/* What a worker reports at its end (a process: through the pipe). */
struct state_report {
    int32_t index;
    int32_t err;     /* 0 or -errno */
    uint64_t done;   /* updates made */
    uint64_t copy;   /* a process's plain_counter at its end */
    uint64_t t0, t1; /* its first and last update (pvt_now_ns) */
};
_Static_assert(sizeof(struct state_report) <= PIPE_BUF, "a report is one atomic write");

struct state_worker {
    struct state_run *run;
    int index;
    int fd; /* proc-msg: this worker's end of its socketpair */
    struct state_report rep;
};

struct state_run {
    const struct pvt_state_spec *spec;
    struct state_gate *gate;
    struct state_local *local;
    int proc;
    int report[2]; /* processes' reports: read end, write end */
    int *socks;    /* proc-msg: the primary's end [2k], the worker's [2k + 1] */
    pid_t *pids;
    int *reaped;
    pthread_t *threads;
    struct state_worker *workers; /* threads' */
    int started;
};

/* ---- state_worker.c ---- */

/* A worker, thread or process: bind, pass the gate, update, fill w->rep. */
void pvt__state_worker_body(struct state_worker *w);

/* 1 once the spec's stop flag is set. */
int pvt__state_stopped(const struct state_run *r);

/* write(2) all of buf, through EINTR and short writes. 0 or -errno. */
int pvt__state_write_all(int fd, const void *buf, size_t len);

/* ---- bench_state_proc.c ---- */

/* Fork the workers (proc-msg: a socketpair each first). 0, or the error of
 * socketpair or fork; the workers forked so far are in r->pids. */
int pvt__state_start_procs(struct state_run *r);

/* Reap the workers that have exited (options: 0 or WNOHANG). -ECHILD if one
 * did not exit with PVT_WEXIT_OK, else 0. */
int pvt__state_reap(struct state_run *r, int options);

/* SIGKILL every worker not reaped yet, and reap them all. */
void pvt__state_kill(struct state_run *r);

/* proc-msg: read every worker's socket until each is at EOF, summing the
 * messages. 0; -EINTR on a stop; -EPROTO for a worker that ended inside a
 * message; or the error of epoll or read. */
int pvt__state_receive(struct state_run *r, uint64_t *sum, uint64_t *msgs, uint64_t *t_last);

/* The workers' reports, from the pipe, into r->workers[].rep by index. 0;
 * -ECHILD if one is missing; -EPROTO for a malformed one. */
int pvt__state_read_reports(struct state_run *r);

/* The naive variants' global counter (state_worker.c): this process's
 * value, and its reset before a run. */
uint64_t pvt__state_plain(void);
void pvt__state_plain_reset(void);

#endif
