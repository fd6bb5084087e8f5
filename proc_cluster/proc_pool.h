/* proc_pool.h: the process backend's ops table (see pvt.h), and its worker. */
#ifndef PVT_PROC_POOL_H
#define PVT_PROC_POOL_H

#include <sys/types.h>

#include "shared/base/child.h"
#include "shared/core/pvt.h"
#include "shared/core/ring.h"

/*
 * create sets SIGCHLD back to SIG_DFL if it was ignored, and clears
 * SA_NOCLDWAIT (a handler is kept): otherwise the kernel would reap the
 * workers and their exit status would be lost.
 */
extern const struct pvt_pool_ops pvt_proc_ops;

/*
 * How a worker process exits (shared/base/child.h's codes). The primary
 * respawns a worker that died any other way, and never one that exited with
 * PVT_WEXIT_CONFIG: it would only fail again. PVT_WEXIT_RECYCLE is a recycle
 * only when the primary can see that the worker finished the max_jobs jobs
 * it was given; from any other worker it is a death like any exit code.
 */
#define PVT_WEXIT_OK      PVT_CHILD_EXIT_OK     /* stopped because the primary asked */
#define PVT_WEXIT_ORPHAN  PVT_CHILD_EXIT_ORPHAN /* the primary was already gone */
#define PVT_WEXIT_OSERR   PVT_CHILD_EXIT_SETUP  /* the preamble, an event loop or a report failed */
#define PVT_WEXIT_RECYCLE PVT_CHILD_EXIT_RECYCLE /* reached max_jobs: replace me */
#define PVT_WEXIT_CONFIG  PVT_CHILD_EXIT_CONFIG  /* could not bind to its CPUs */

/*
 * The child preamble's configuration for a worker process (child.h),
 * whoever forks it (the pool, or bench's state mode's bare workers): the
 * signal state of PVT_CHILD_SIGNALS and PVT_CHILD_IGNORE_TTY, death with
 * primary by SIGKILL, and nothing open but stdio and the n in keep.
 */
struct pvt_child_cfg pvt__proc_child_cfg(pid_t primary, const int *keep, int n);

/*
 * Tests: write n raw bytes into slot's message channel from the worker's
 * end, as that worker could, so the primary's recv has to judge them.
 * 0, -EINVAL (no such slot, or a serving pool: no channel), or send's -errno.
 */
int pvt_proc_msg_inject(struct pvt_pool *p, int slot, const void *buf, size_t n);

#endif
