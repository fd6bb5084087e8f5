/*
 * bench_cost_start.c: cost mode's startup and heap sections.
 *
 * startup: for each N of --workers, the time from asking for N workers to
 * all N being ready, then the time to stop and reap them, for pvt's pools
 * (ops->create, which returns once every worker is bound and ready; then
 * ops->stop) and, in the same rounds, the bare mechanisms: fork and
 * pthread_create with a ready byte on a pipe (bench_cost_bare.c), and, as
 * reference points, fork and _exit, vfork and _exit, and posix_spawn and
 * fork+exec of /bin/true, whose "ready" is exited and reaped.
 *
 * heap: the same with 1 worker while the primary holds --heap bytes of
 * touched memory in 4 KiB pages. fork copies one page-table entry per page,
 * so its time grows with the heap; posix_spawn and vfork share the parent's
 * memory until exec and copy nothing; pthread_create never copies.
 *
 * Configurations are taken in rounds (--warmup unrecorded, then --repeat),
 * each round starting one configuration later, as in task mode.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_cost.h"
#include "bench_cost_bare.h"
#include "bench/backends/backends.h"
#include "bench/common/cli.h"
#include "mem.h"
#include "shared/base/clock.h"
#include "shared/serve/serve.h" /* pvt_serve_plan_sets */

#define CMD              "bench"
#define STOP_DEADLINE_MS 5000
#define MAX_MECHS        (PVT_BENCH_MAX_LIST + 8)

enum { K_POOL, K_FORK, K_PTHREAD, K_SPAWN };

struct mech {
    const char *backend, *mechanism;
    int kind;
    int spawn; /* K_SPAWN: enum pvt_spawn_kind */
    const struct pvt_pool_ops *ops;
    int bound; /* K_FORK, K_PTHREAD: each worker binds itself as the pool's do */
};

/* pvt's pools for each --backend, then the bare mechanisms. Returns the count. */
static int list_mechs(const struct pvt_cost_run *r, struct mech *m)
{
    int i, n = 0, have_true = access(PVT_BARE_TRUE, X_OK) == 0;

    for (i = 0; i < r->cfg->nbackends; i++)
        m[n++] =
            (struct mech){r->cfg->backends[i]->name, "pool", K_POOL, 0, r->cfg->backends[i], 0};
    m[n++] = (struct mech){"proc", "fork", K_FORK, 0, NULL, 0};
    m[n++] = (struct mech){"thread", "pthread_create", K_PTHREAD, 0, NULL, 0};
    if (r->cfg->pin != PVT_PLACE_NONE) {
        /* The same, each worker binding itself as a pool's does: what the
         * binding alone costs. */
        m[n++] = (struct mech){"proc", "fork-bound", K_FORK, 0, NULL, 1};
        m[n++] = (struct mech){"thread", "pthread-bound", K_PTHREAD, 0, NULL, 1};
    }
    if (have_true)
        m[n++] = (struct mech){"proc", "posix_spawn", K_SPAWN, PVT_SPAWN_POSIX, NULL, 0};
    m[n++] = (struct mech){"proc", "fork-exit", K_SPAWN, PVT_SPAWN_FORK_EXIT, NULL, 0};
    m[n++] = (struct mech){"proc", "vfork", K_SPAWN, PVT_SPAWN_VFORK, NULL, 0};
    if (have_true)
        m[n++] = (struct mech){"proc", "fork-exec", K_SPAWN, PVT_SPAWN_FORK_EXEC, NULL, 0};
    else
        fprintf(stderr, "pvt bench: no %s: the posix_spawn and fork-exec rows are left out\n",
                PVT_BARE_TRUE);
    return n;
}

/*
 * One start-up: n workers of m made and ready (ready_ms), then stopped and
 * reaped (stop_ms; NAN for the spawn kinds, whose processes exit by
 * themselves). 0 or -errno, reported.
 */
static int measure(const struct mech *m, int n, const struct pvt_plan *plan, double *ready_ms,
                   double *stop_ms)
{
    struct pvt_pool_cfg pc = {.workers = n, .plan = plan};
    struct pvt_pool *pool;
    struct pvt_bare b;
    cpu_set_t *sets = NULL;
    uint64_t t0, t1;
    int rc;

    *stop_ms = NAN;
    if (m->bound) {
        /* The pool's plan, made before the clock starts (as the pool's is). */
        sets = calloc((size_t)n, sizeof(*sets));
        if (!sets || !pvt_serve_plan_sets(plan, n, sets)) {
            free(sets);
            pvt_err(CMD, "%s %s: no CPU plan for %d workers", m->backend, m->mechanism, n);
            return -EINVAL;
        }
    }
    t0 = pvt_now_ns();
    switch (m->kind) {
    case K_POOL:
        rc = m->ops->create(&pc, &pool);
        t1 = pvt_now_ns();
        if (rc < 0)
            break;
        m->ops->stop(pool, STOP_DEADLINE_MS);
        m->ops->destroy(pool);
        *stop_ms = (double)(pvt_now_ns() - t1) / 1e6;
        break;
    case K_FORK:
    case K_PTHREAD: {
        int kind = m->kind == K_FORK ? PVT_BARE_FORK : PVT_BARE_PTHREAD;
        rc = m->bound ? pvt_bare_start_bound(&b, kind, n, sets)
                      : pvt_bare_start(&b, kind, n, NULL, 0);
        t1 = pvt_now_ns();
        if (rc < 0)
            break;
        rc = pvt_bare_stop(&b);
        *stop_ms = (double)(pvt_now_ns() - t1) / 1e6;
        break;
    }
    default:
        rc = pvt_spawn_run(m->spawn, n);
        t1 = pvt_now_ns();
        break;
    }
    *ready_ms = (double)(t1 - t0) / 1e6;
    free(sets);
    if (rc < 0 && !pvt_bench_interrupted)
        pvt_err(CMD, "%s %s: cannot start %d worker%s: %s", m->backend, m->mechanism, n,
                n == 1 ? "" : "s", strerror(-rc));
    return rc;
}

/* A configuration of a round: a mechanism and a worker count. */
struct conf {
    const struct mech *m;
    int workers;
    struct pvt_plan *plan;
};

/* Every configuration, --warmup + --repeat rounds; rows of section with
 * heap_mb (or -1) and the primary's memory (NULL: not read). */
static int run_rounds(struct pvt_cost_run *r, int section, struct conf *c, int nc, long heap_mb,
                      const struct pvt_mem *primary)
{
    const struct pvt_bench_cfg *cfg = r->cfg;
    int k, j, rc = 0;

    for (k = 0; k < cfg->warmup + cfg->repeat && rc == 0; k++) {
        int warm = k < cfg->warmup;
        for (j = 0; j < nc && rc == 0; j++) {
            int ci = (j + k) % nc;
            struct conf *x = &c[ci];
            struct pvt_cost_row row;
            double ready, stop;

            if (pvt_bench_interrupted)
                return -EINTR;
            pvt_cost_progress(r, "[%s] %s %d/%d: %s %s, %d worker%s",
                              pvt_cost_section_names[section], warm ? "warm-up" : "round",
                              warm ? k + 1 : k - cfg->warmup + 1, warm ? cfg->warmup : cfg->repeat,
                              x->m->backend, x->m->mechanism, x->workers,
                              x->workers == 1 ? "" : "s");
            rc = measure(x->m, x->workers, x->plan, &ready, &stop);
            if (rc < 0 || warm)
                continue;
            pvt_cost_row_init(&row, section, x->m->backend, x->m->mechanism, "");
            row.workers = x->workers;
            row.heap_mb = heap_mb;
            row.repetition = k - cfg->warmup + 1;
            row.order = ci;
            row.f[PVT_CF_READY_MS] = ready;
            row.f[PVT_CF_SPAWN_US] = ready * 1e3 / x->workers;
            row.f[PVT_CF_STOP_MS] = stop;
            row.f[PVT_CF_SECONDS] = (ready + (isnan(stop) ? 0 : stop)) / 1e3;
            if (primary) {
                row.f[PVT_CF_PRIMARY_RSS] = (double)primary->rss_kb;
                row.f[PVT_CF_PRIMARY_PSS] = (double)primary->pss_kb;
                row.f[PVT_CF_PRIMARY_USS] = (double)primary->uss_kb;
            }
            rc = pvt_cost_add(r, &row);
        }
    }
    return rc;
}

/* The bare mechanism a pool row is held against: fork for a pool of processes,
 * pthread_create for one of threads (bound: the same, each worker binding itself). */
static const char *bare_of(const char *backend, int bound)
{
    if (pvt_backend_caps(backend) & PVT_CAP_PROCESSES)
        return bound ? "fork-bound" : "fork";
    return bound ? "pthread-bound" : "pthread_create";
}

static void print_table(const struct pvt_cost_run *r, int section)
{
    const struct pvt_cost_row *keys[1024];
    int n = pvt_cost_table(r, section,
                           section == PVT_CS_STARTUP
                               ? "N workers created until all are ready, then stopped and reaped"
                               : "1 worker while the primary holds a touched heap (4 KiB pages)",
                           keys, 1024),
        i;

    printf("%-7s %-15s %7s %8s %11s  %-19s %10s %9s %7s %8s\n", "backend", "mechanism", "workers",
           "heap_mb", "spawn_us", "min-max", "ready_ms", "stop_ms", "x bare", "x bound");
    for (i = 0; i < n; i++) {
        const struct pvt_cost_row *k = keys[i];
        double lo, hi, sp = pvt_cost_median(r, k, PVT_CF_SPAWN_US, &lo, &hi), bare = NAN;
        double bound = NAN;
        char range[48], heap[24] = "-", vs[24] = "", vb[24] = "", stops[24];
        double stop;

        if (strcmp(k->mechanism, "pool") == 0) {
            bare = pvt_cost_find(r, section, k->backend, bare_of(k->backend, 0), "", k->workers,
                                 k->heap_mb, PVT_CF_SPAWN_US);
            bound = pvt_cost_find(r, section, k->backend, bare_of(k->backend, 1), "", k->workers,
                                  k->heap_mb, PVT_CF_SPAWN_US);
        }
        if (!isnan(bare))
            snprintf(vs, sizeof(vs), "%.2fx", sp / bare);
        if (!isnan(bound))
            snprintf(vb, sizeof(vb), "%.2fx", sp / bound);
        if (k->heap_mb >= 0)
            snprintf(heap, sizeof(heap), "%ld", k->heap_mb);
        snprintf(range, sizeof(range), "%.1f-%.1f", lo, hi);
        stop = pvt_cost_median(r, k, PVT_CF_STOP_MS, NULL, NULL);
        snprintf(stops, sizeof(stops), isnan(stop) ? "-" : "%.3f", stop);
        printf("%-7s %-15s %7ld %8s %11.1f  %-19s %10.3f %9s %7s %8s\n", k->backend, k->mechanism,
               k->workers, heap, sp, range, pvt_cost_median(r, k, PVT_CF_READY_MS, NULL, NULL),
               stops, vs, vb);
    }
    fflush(stdout);
}

static void free_confs(struct conf *c, int n)
{
    int i;

    for (i = 0; i < n; i++)
        pvt_plan_free(c[i].plan);
    free(c);
}

int pvt_cost_startup(struct pvt_cost_run *r)
{
    const struct pvt_bench_cfg *cfg = r->cfg;
    struct mech m[MAX_MECHS];
    int nm = list_mechs(r, m), nc = 0, i, j, rc = 0;
    struct conf *c = calloc((size_t)(nm * cfg->nworkers), sizeof(*c));

    if (!c)
        return -ENOMEM;
    for (i = 0; i < cfg->nworkers && rc == 0; i++) {
        for (j = 0; j < nm && rc == 0; j++) {
            c[nc] = (struct conf){&m[j], (int)cfg->workers[i], NULL};
            if (m[j].kind == K_POOL || m[j].bound) {
                rc =
                    pvt_place_plan(r->topo, cfg->pin, cfg->unit, (int)cfg->workers[i], &c[nc].plan);
                if (rc < 0)
                    pvt_err(CMD, "cannot plan %ld workers: %s", cfg->workers[i], strerror(-rc));
            }
            nc++;
        }
    }
    if (rc == 0)
        rc = run_rounds(r, PVT_CS_STARTUP, c, nc, -1, NULL);
    pvt_cost_progress_clear(r);
    if (rc == 0)
        print_table(r, PVT_CS_STARTUP);
    free_confs(c, nc);
    return rc;
}

int pvt_cost_heap(struct pvt_cost_run *r)
{
    const struct pvt_bench_cfg *cfg = r->cfg;
    struct mech m[MAX_MECHS];
    int nm = list_mechs(r, m), h, j, rc = 0;
    struct conf *c = calloc((size_t)nm, sizeof(*c));

    if (!c)
        return -ENOMEM;
    for (j = 0; j < nm && rc == 0; j++) {
        c[j] = (struct conf){&m[j], 1, NULL};
        if (m[j].kind == K_POOL || m[j].bound)
            rc = pvt_place_plan(r->topo, cfg->pin, cfg->unit, 1, &c[j].plan);
    }
    for (h = 0; h < r->cost->nheap && rc == 0; h++) {
        size_t bytes = (size_t)r->cost->heap[h];
        unsigned char *heap;
        struct pvt_mem pm;

        pvt_cost_progress(r, "[heap] touching %zu MiB", bytes >> 20);
        heap = pvt_bare_touch(bytes);
        if (!heap) {
            rc = -errno;
            pvt_err(CMD, "--heap: cannot touch %zu MiB: %s", bytes >> 20, strerror(errno));
            break;
        }
        rc = pvt_mem_read(0, &pm);
        if (rc == 0)
            rc = run_rounds(r, PVT_CS_HEAP, c, nm, (long)(bytes >> 20), &pm);
        else
            pvt_err(CMD, "cannot read this process's memory: %s", pvt_mem_strerror(rc));
        pvt_bare_untouch(heap, bytes);
    }
    pvt_cost_progress_clear(r);
    if (rc == 0)
        print_table(r, PVT_CS_HEAP);
    free_confs(c, nm);
    return rc;
}
