/* proc_pool.h: the process backend's ops table (see pvt.h), and its worker. */
#ifndef PVT_PROC_POOL_H
#define PVT_PROC_POOL_H

#include <sys/types.h>

#include "pvt.h"
#include "ring.h"

extern const struct pvt_pool_ops pvt_proc_ops;

/*
 * How a worker process exits. The primary respawns a worker that died any
 * other way, and never one that exited with PVT_WEXIT_CONFIG: it would only
 * fail again.
 */
#define PVT_WEXIT_OK 0      /* stopped because the primary asked */
#define PVT_WEXIT_ORPHAN 70 /* the primary was already gone */
#define PVT_WEXIT_OSERR 71  /* a serving worker could not set up its event loop */
#define PVT_WEXIT_RECYCLE 75 /* reached max_jobs: replace me (EX_TEMPFAIL); not a death */
#define PVT_WEXIT_CONFIG 78 /* could not bind to its CPUs (EX_CONFIG) */

struct pvt_serve_worker;

/*
 * The body of a worker process, run in the child right after fork: make the
 * child die with the primary, bind to set (NULL: stay unbound), report ready,
 * run jobs from r (or, with serve, serve HTTP) until asked to stop, then
 * _exit. Never returns.
 */
void pvt__proc_worker_main(struct pvt_ring *r, const cpu_set_t *set, pid_t primary,
                           struct pvt_serve_worker *serve) __attribute__((noreturn));

#endif
