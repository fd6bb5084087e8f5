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

/*
 * For a backend's name read back from results (a CSV row, a summary), where
 * no ops table is at hand:
 */
/* The PVT_CAP_* bits of the backend or reference called name; 0 for a name
 * no table holds. */
unsigned pvt_backend_caps(const char *name);
/* 1 if name is a reference pool (pvt_references[]), else 0. */
int pvt_backend_is_reference(const char *name);
/* Where name stands in the tables, for a fixed order of results: the
 * backends in pvt_backends[] order (proc 0, thread 1), then the references;
 * a name no table holds ranks after them all. */
int pvt_backend_rank(const char *name);

#ifdef PVT_HAVE_GLIB
/* GLib's GThreadPool ("glib"): task mode only. */
extern const struct pvt_pool_ops pvt_glib_ops;
#endif

#endif
