/*
 * backends.h: reference implementations of the worker interface that are not
 * pvt backends but run beside them in `pvt bench`, so a comparison with a
 * well-known pool is made side by side, in one run, on the same CPUs.
 */
#ifndef PVT_BACKENDS_H
#define PVT_BACKENDS_H

#include "shared/core/pvt.h"

/* NULL-terminated; pvt_backend_find() looks here after pvt_backends[]. */
extern const struct pvt_pool_ops *const pvt_references[];

#ifdef PVT_HAVE_GLIB
/* GLib's GThreadPool ("glib"): task mode only. */
extern const struct pvt_pool_ops pvt_glib_ops;
#endif

#endif
