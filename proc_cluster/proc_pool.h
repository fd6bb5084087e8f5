/* proc_pool.h: the process backend's ops table (see pvt.h), and its worker. */
#ifndef PVT_PROC_POOL_H
#define PVT_PROC_POOL_H

#include <sys/types.h>

#include "shared/core/pvt.h"
#include "shared/core/ring.h"

/*
 * create sets SIGCHLD back to SIG_DFL if it was ignored, and clears
 * SA_NOCLDWAIT (a handler is kept): otherwise the kernel would reap the
 * workers and their exit status would be lost.
 */
extern const struct pvt_pool_ops pvt_proc_ops;

/*
 * How a worker process exits. The primary respawns a worker that died any
 * other way, and never one that exited with PVT_WEXIT_CONFIG: it would only
 * fail again. PVT_WEXIT_RECYCLE is a recycle only when the primary can see
 * that the worker finished the max_jobs jobs it was given; from any other
 * worker it is a death like any exit code.
 */
#define PVT_WEXIT_OK 0      /* stopped because the primary asked */
#define PVT_WEXIT_ORPHAN 70 /* the primary was already gone */
#define PVT_WEXIT_OSERR 71  /* a serving worker's event loop, or a state worker's report, failed */
#define PVT_WEXIT_RECYCLE 75 /* reached max_jobs: replace me (EX_TEMPFAIL) */
#define PVT_WEXIT_CONFIG 78 /* could not bind to its CPUs (EX_CONFIG) */

struct pvt_serve_worker;
struct pvt_msg_chan;

/*
 * The body of a worker process, run in the child right after fork: make the
 * child die with the primary, bind to set (NULL: stay unbound), report ready,
 * say HELLO on chan (NULL: no channel), run jobs from r and answer messages
 * between them (or, with serve, serve HTTP) until asked to stop, then
 * _exit. Never returns.
 */
void pvt__proc_worker_main(struct pvt_ring *r, const cpu_set_t *set, pid_t primary,
                           struct pvt_serve_worker *serve, struct pvt_msg_chan *chan)
    __attribute__((noreturn));

/*
 * Tests: write n raw bytes into slot's message channel from the worker's
 * end, as that worker could, so the primary's recv has to judge them.
 * 0, -EINVAL (no such slot, or a serving pool: no channel), or send's -errno.
 */
int pvt_proc_msg_inject(struct pvt_pool *p, int slot, const void *buf, size_t n);

/*
 * The signal state a forked worker starts from, whoever forked it (the pool,
 * or bench/modes/state/bench_state_proc.c's bare workers): the crash signals, SIGTERM,
 * SIGCHLD and SIGPIPE back to their defaults (dropping whatever handlers the
 * primary, or a test framework, installed), SIGINT and SIGHUP ignored (a
 * terminal's ^C reaches the whole process group, and the primary decides
 * what happens to its workers), and no signal blocked.
 */
void pvt__proc_child_signals(void);

#endif
