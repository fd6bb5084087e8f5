/*
 * serve_stats.c: the body of GET /stats, the same in every worker (serve.h).
 *
 * DESIGN
 * A worker reads every ring's info (MAP_SHARED for processes), its
 * serving state included, and lists each slot's current worker: slot i's
 * is on ring i or ring nslots + i, whichever the driver marked current, so
 * a worker started before a rolling restart still lists the workers that
 * replaced the others. The counters are read without locks: each is one
 * atomic word, and /stats is a snapshot, not a transaction. Another
 * worker may have scribbled over its ring: every value read is only
 * printed (a state outside the enum as "unknown", numbers as they are),
 * never used as an index or a size, so garbage shows as garbage.
 */
#include "serve.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shared/core/place.h"
#include "shared/core/sup.h"

const char *pvt_worker_state_name(int st)
{
    static const char *const names[] = {"empty", "starting", "ready", "stopping", "exited"};

    return st >= 0 && st <= PVT_W_EXITED ? names[st] : "unknown";
}

struct jbuf {
    char *p;
    size_t len, off;
    int over;
};

static void jput(struct jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void jput(struct jbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->over)
        return;
    va_start(ap, fmt);
    n = vsnprintf(b->p + b->off, b->len - b->off, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= b->len - b->off)
        b->over = 1;
    else
        b->off += (size_t)n;
}

int pvt__serve_stats_json(const struct pvt_serve_worker *w, char *buf, size_t len)
{
    struct jbuf b = {.p = buf, .len = len};
    uint64_t total = 0, req;
    long proc_rss = w->one_process ? pvt_sup_rss_kb(getpid()) : -1;
    char cpus[256];
    int i, k, pid;

    for (i = 0; i < 2 * w->nslots; i++)
        if (atomic_load(&w->rings[i]->info.gen.current))
            total += atomic_load(&w->rings[i]->info.requests);
    jput(&b, "{\"backend\":\"%s\",\"distribution\":\"%s\",\"pid\":%d,\"requests\":%llu,"
             "\"offload\":\"%s\",\"workers\":[", w->backend, pvt_dist_names[w->cfg->distribution],
         (int)w->primary, (unsigned long long)total,
         w->cfg->offload.ops ? w->cfg->offload.ops->name : "none");
    for (i = 0, k = 0; i < w->nslots; i++) {
        const struct pvt_ring_info *in;
        /* Slot i's current worker is on ring i or ring nslots + i. */
        if (atomic_load(&w->rings[i]->info.gen.current))
            in = &w->rings[i]->info;
        else if (atomic_load(&w->rings[w->nslots + i]->info.gen.current))
            in = &w->rings[w->nslots + i]->info;
        else
            continue; /* a slot not in use */
        pid = atomic_load(&in->pid);
        req = atomic_load(&in->requests);
        /* A starting worker is still writing its bound set. */
        if (atomic_load(&in->state) < PVT_W_READY)
            strcpy(cpus, "");
        else if (pvt_cpuset_format(&in->bound, cpus, sizeof(cpus)) < 0)
            strcpy(cpus, "?");
        jput(&b, "%s{\"slot\":%d,\"pid\":%d,\"state\":\"%s\",\"requests\":%llu,\"conns\":%d,"
                 "\"cpus\":\"%s\",\"rss_kb\":%ld,\"restarts\":%u,\"hung\":%s,\"replace_us\":%llu",
             k++ ? "," : "", i, pid, pvt_worker_state_name(atomic_load(&in->state)),
             (unsigned long long)req, atomic_load(&in->conns), cpus,
             w->one_process ? proc_rss : pid > 0 ? pvt_sup_rss_kb(pid) : -1,
             atomic_load(&in->restarts), atomic_load(&in->hung) ? "true" : "false",
             (unsigned long long)pvt_ring_replace_us(in));
        /* Its own job pool's counts (serve_offload.c; 0 without --offload). */
        jput(&b, ",\"offloaded\":%llu,\"offload_completed\":%llu,\"offload_failed\":%llu,"
                 "\"offload_rejected\":%llu}",
             (unsigned long long)atomic_load(&in->offloaded),
             (unsigned long long)atomic_load(&in->off_completed),
             (unsigned long long)atomic_load(&in->off_failed),
             (unsigned long long)atomic_load(&in->off_rejected));
    }
    jput(&b, "]}\n");
    return b.over ? -ENOSPC : (int)b.off;
}
