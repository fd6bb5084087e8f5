/* thr_pool.h: the thread backend's ops table (see pvt.h). */
#ifndef PVT_THR_POOL_H
#define PVT_THR_POOL_H

#include <stddef.h>

#include "shared/core/pvt.h"

extern const struct pvt_pool_ops pvt_thread_ops;

/*
 * Tests: put n raw bytes on the driver's message queue as slot's worker
 * thread could, so recv has to judge them. 0, -EINVAL (no such slot, or a
 * serving pool), -EAGAIN (the queue is full), -ENOMEM.
 */
int pvt_thr_msg_inject(struct pvt_pool *p, int slot, const void *buf, size_t n);

#endif
