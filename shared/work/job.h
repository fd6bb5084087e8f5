/*
 * job.h: one unit of task-mode work, as a driver submits it to any pool
 * (pvt.h) and a worker runs it (work.h).
 */
#ifndef PVT_JOB_H
#define PVT_JOB_H

#include <stdint.h>

/*
 * A job: which workload to run and its argument. The same struct crosses a
 * thread queue or a shared-memory ring unchanged, so it holds no pointers.
 */
struct pvt_job {
    uint64_t id;       /* the caller's tag, returned in the result */
    uint32_t workload; /* index into pvt_workloads[] (work.h) */
    uint32_t flags;    /* reserved, 0 */
    uint64_t arg;      /* the workload's argument: iterations, bytes, ms */
};

#endif
