/* thr_pool.h: the thread backend's ops table (see pvt.h). */
#ifndef PVT_THR_POOL_H
#define PVT_THR_POOL_H

#include "pvt.h"

extern const struct pvt_pool_ops pvt_thread_ops;

#endif
