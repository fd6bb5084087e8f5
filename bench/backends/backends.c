/*
 * backends.c: the table of backends built into this binary, and the
 * reference implementations the bench can run beside them.
 */
#include <string.h>

#include "backends.h"
#include "proc_cluster/proc_pool.h"
#include "thread_pool/thr_pool.h"

const struct pvt_pool_ops *const pvt_backends[] = {
    &pvt_proc_ops,
    &pvt_thread_ops,
    NULL,
};

const struct pvt_pool_ops *const pvt_references[] = {
#ifdef PVT_HAVE_GLIB
    &pvt_glib_ops,
#endif
    NULL,
};

static const struct pvt_pool_ops *find_in(const struct pvt_pool_ops *const *t, const char *name)
{
    for (; *t; t++)
        if (strcmp((*t)->name, name) == 0)
            return *t;
    return NULL;
}

const struct pvt_pool_ops *pvt_backend_find(const char *name)
{
    const struct pvt_pool_ops *ops = find_in(pvt_backends, name);

    return ops ? ops : find_in(pvt_references, name);
}

unsigned pvt_backend_caps(const char *name)
{
    const struct pvt_pool_ops *ops = pvt_backend_find(name);

    return ops ? ops->caps : 0;
}

int pvt_backend_is_reference(const char *name)
{
    return find_in(pvt_references, name) != NULL;
}

int pvt_backend_rank(const char *name)
{
    int rank = 0;

    for (const struct pvt_pool_ops *const *t = pvt_backends; *t; t++, rank++)
        if (strcmp((*t)->name, name) == 0)
            return rank;
    for (const struct pvt_pool_ops *const *t = pvt_references; *t; t++, rank++)
        if (strcmp((*t)->name, name) == 0)
            return rank;
    return rank;
}
