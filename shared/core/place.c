/*
 * place.c: the machine's topology (hwloc) and the placement planner.
 *
 * A struct pvt_topo owns one loaded hwloc topology. The real one is
 * restricted to the CPUs this process may use: hwloc 2.x already drops what
 * the cgroup disallows, and pvt_topo_load() restricts further to the
 * process's affinity mask, so "taskset -c 0 pvt topo" sees one PU.
 *
 * The planner only reads the topology. Its units are cores (a worker gets
 * every PU of its core) or PUs, taken in one of two orders:
 *
 *   compact  logical (topology) order: a package's cores before the next.
 *   scatter  by "reversed path": each unit's path is the list of sibling
 *            ranks of its ancestors from just below the root down to the
 *            unit itself. Units are sorted by that list read from its end,
 *            so the unit's rank among its siblings is the most significant
 *            key and the package's rank the least. Consecutive workers land
 *            on different packages first, then different NUMA groups and
 *            caches, then different cores.
 *
 * Worker i gets unit i % nunits in that order. CPU sets hold OS indexes
 * (the bits of hwloc cpusets), which is what sched_setaffinity takes.
 */
#include "place.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hwloc.h>

/* Deeper than any real or synthetic hwloc tree; deeper paths lose their top. */
#define PVT_PLACE_PATH_MAX 64

struct pvt_topo {
    hwloc_topology_t t;
    int synthetic;
};

/* A unit of the planner and its scatter key (the path, root side first). */
struct unit_key {
    hwloc_obj_t obj;
    int index; /* position in compact order, to keep the sort stable */
    int depth; /* entries used in path */
    unsigned path[PVT_PLACE_PATH_MAX];
};

static int topo_new(struct pvt_topo **out)
{
    struct pvt_topo *topo = calloc(1, sizeof(*topo));

    if (!topo)
        return -ENOMEM;
    if (hwloc_topology_init(&topo->t) < 0) {
        free(topo);
        return -ENOMEM;
    }
    *out = topo;
    return 0;
}

int pvt_topo_load(struct pvt_topo **out)
{
    struct pvt_topo *topo = NULL;
    hwloc_bitmap_t set = NULL;
    int rc;

    rc = topo_new(&topo);
    if (rc)
        return rc;
    if (hwloc_topology_load(topo->t) < 0) {
        rc = errno == ENOMEM ? -ENOMEM : -EIO;
        goto fail;
    }
    set = hwloc_bitmap_alloc();
    if (!set) {
        rc = -ENOMEM;
        goto fail;
    }
    /* Every thread's mask, or the calling thread's where /proc cannot tell. */
    if (hwloc_get_cpubind(topo->t, set, HWLOC_CPUBIND_PROCESS) < 0 &&
        hwloc_get_cpubind(topo->t, set, HWLOC_CPUBIND_THREAD) < 0) {
        rc = errno == ENOMEM ? -ENOMEM : -EIO;
        goto fail;
    }
    hwloc_bitmap_and(set, set, hwloc_topology_get_topology_cpuset(topo->t));
    if (hwloc_bitmap_iszero(set)) {
        rc = -ENODEV;
        goto fail;
    }
    /* Packages and NUMA nodes without an allowed CPU go too. */
    if (hwloc_topology_restrict(topo->t, set, HWLOC_RESTRICT_FLAG_REMOVE_CPULESS) < 0) {
        rc = errno == ENOMEM ? -ENOMEM : -EIO;
        goto fail;
    }
    if (hwloc_get_nbobjs_by_type(topo->t, HWLOC_OBJ_PU) < 1) {
        rc = -ENODEV;
        goto fail;
    }
    hwloc_bitmap_free(set);
    *out = topo;
    return 0;

fail:
    hwloc_bitmap_free(set);
    pvt_topo_free(topo);
    return rc;
}

/*
 * hwloc 2.x wants a synthetic description to end with a PU level. The
 * header's own example, "numa:2 core:8", does not: when the last level names
 * another type, a "pu:1" level is appended, which is what such a description
 * means (one hardware thread per core). Returns a malloc'd string or NULL.
 */
static char *synthetic_with_pus(const char *desc)
{
    const char *last = desc + strlen(desc);
    hwloc_obj_type_t type;
    char *s;

    while (last > desc && (last[-1] == ' ' || last[-1] == '\t' || last[-1] == '\n'))
        last--;
    while (last > desc && last[-1] != ' ' && last[-1] != '\t' && last[-1] != '\n')
        last--;
    if (*last == '\0' || hwloc_type_sscanf(last, &type, NULL, 0) < 0 || type == HWLOC_OBJ_PU)
        return strdup(desc);
    s = malloc(strlen(desc) + sizeof(" pu:1"));
    if (s) {
        strcpy(s, desc);
        strcat(s, " pu:1");
    }
    return s;
}

int pvt_topo_synthetic(const char *desc, struct pvt_topo **out)
{
    struct pvt_topo *topo = NULL;
    char *full = NULL;
    int rc;

    if (!desc || !*desc)
        return -EINVAL;
    full = synthetic_with_pus(desc);
    if (!full)
        return -ENOMEM;
    rc = topo_new(&topo);
    if (rc)
        goto fail;
    topo->synthetic = 1;
    if (hwloc_topology_set_synthetic(topo->t, full) < 0) {
        rc = -EINVAL;
        goto fail;
    }
    if (hwloc_topology_load(topo->t) < 0) {
        rc = errno == ENOMEM ? -ENOMEM : -EINVAL;
        goto fail;
    }
    free(full);
    *out = topo;
    return 0;

fail:
    free(full);
    pvt_topo_free(topo);
    return rc;
}

void pvt_topo_free(struct pvt_topo *topo)
{
    if (!topo)
        return;
    hwloc_topology_destroy(topo->t);
    free(topo);
}

static int count_type(const struct pvt_topo *topo, hwloc_obj_type_t type)
{
    int n = hwloc_get_nbobjs_by_type(topo->t, type);

    return n > 0 ? n : 0;
}

int pvt_topo_packages(const struct pvt_topo *topo)
{
    int n = count_type(topo, HWLOC_OBJ_PACKAGE);

    return n ? n : 1;
}

int pvt_topo_numa_nodes(const struct pvt_topo *topo)
{
    int n = count_type(topo, HWLOC_OBJ_NUMANODE);

    return n ? n : 1;
}

int pvt_topo_cores(const struct pvt_topo *topo)
{
    int n = count_type(topo, HWLOC_OBJ_CORE);

    return n ? n : pvt_topo_pus(topo);
}

int pvt_topo_pus(const struct pvt_topo *topo)
{
    int n = count_type(topo, HWLOC_OBJ_PU);

    return n ? n : 1;
}

int pvt_topo_is_synthetic(const struct pvt_topo *topo)
{
    return topo->synthetic;
}

int pvt_topo_summary(const struct pvt_topo *topo, char *buf, size_t len)
{
    int pk = pvt_topo_packages(topo), nn = pvt_topo_numa_nodes(topo);
    int co = pvt_topo_cores(topo), pu = pvt_topo_pus(topo);

    return snprintf(buf, len, "%d package%s, %d NUMA node%s, %d core%s, %d PU%s", pk,
                    pk == 1 ? "" : "s", nn, nn == 1 ? "" : "s", co, co == 1 ? "" : "s", pu,
                    pu == 1 ? "" : "s");
}

void *pvt_topo_hwloc(const struct pvt_topo *topo)
{
    return topo->t;
}

int pvt_place_default_workers(const struct pvt_topo *topo)
{
    int n = pvt_topo_cores(topo);

    return n < PVT_MAX_WORKERS ? n : PVT_MAX_WORKERS;
}

/* Copy an hwloc cpuset (bits are OS indexes) into a cpu_set_t. */
static int cpuset_from_hwloc(hwloc_const_bitmap_t from, cpu_set_t *to)
{
    int last = hwloc_bitmap_last(from);
    int i;

    if (hwloc_bitmap_iszero(from) || last < 0 || last >= CPU_SETSIZE)
        return -ERANGE;
    CPU_ZERO(to);
    hwloc_bitmap_foreach_begin(i, from)
    {
        CPU_SET(i, to);
    }
    hwloc_bitmap_foreach_end();
    return 0;
}

/* Compare the paths from their ends: the unit's own rank is most significant. */
static int unit_key_cmp(const void *pa, const void *pb)
{
    const struct unit_key *a = pa, *b = pb;
    int i = a->depth - 1, j = b->depth - 1;

    for (; i >= 0 && j >= 0; i--, j--) {
        if (a->path[i] != b->path[j])
            return a->path[i] < b->path[j] ? -1 : 1;
    }
    if (a->depth != b->depth)
        return a->depth < b->depth ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

static void unit_key_fill(hwloc_obj_t obj, int index, struct unit_key *k)
{
    int n = 0, i;
    hwloc_obj_t o;

    k->obj = obj;
    k->index = index;
    for (o = obj; o && o->parent; o = o->parent)
        n++;
    if (n > PVT_PLACE_PATH_MAX)
        n = PVT_PLACE_PATH_MAX;
    k->depth = n;
    /* Fill from the unit upward, so path[0] is just below the root. */
    for (o = obj, i = n - 1; i >= 0; o = o->parent, i--)
        k->path[i] = o->sibling_rank;
}

/*
 * The units in the policy's order: keys[i].obj for i < *nunits. Cores, or
 * PUs when the unit is a PU or the topology has no core objects.
 */
static int units_ordered(const struct pvt_topo *topo, enum pvt_place_policy policy,
                         enum pvt_place_unit unit, struct unit_key **keys_out, int *nunits)
{
    hwloc_obj_type_t type = HWLOC_OBJ_PU;
    struct unit_key *keys;
    int n, i;

    if (unit == PVT_UNIT_CORE && count_type(topo, HWLOC_OBJ_CORE) > 0)
        type = HWLOC_OBJ_CORE;
    n = count_type(topo, type);
    if (n < 1)
        return -ENODEV;
    keys = calloc((size_t)n, sizeof(*keys));
    if (!keys)
        return -ENOMEM;
    for (i = 0; i < n; i++)
        unit_key_fill(hwloc_get_obj_by_type(topo->t, type, (unsigned)i), i, &keys[i]);
    if (policy == PVT_PLACE_SCATTER)
        qsort(keys, (size_t)n, sizeof(*keys), unit_key_cmp);
    *keys_out = keys;
    *nunits = n;
    return 0;
}

int pvt_place_plan(const struct pvt_topo *topo, enum pvt_place_policy policy,
                   enum pvt_place_unit unit, int workers, struct pvt_plan **out)
{
    struct pvt_plan *plan = NULL;
    struct unit_key *keys = NULL;
    int nunits = 0, rc, i;

    if (!topo || !out || workers < 1 || workers > PVT_MAX_WORKERS)
        return -EINVAL;
    if (policy != PVT_PLACE_NONE && policy != PVT_PLACE_COMPACT && policy != PVT_PLACE_SCATTER)
        return -EINVAL;
    if (unit != PVT_UNIT_CORE && unit != PVT_UNIT_PU)
        return -EINVAL;

    plan = calloc(1, sizeof(*plan));
    if (!plan)
        return -ENOMEM;
    plan->sets = calloc((size_t)workers, sizeof(*plan->sets));
    if (!plan->sets) {
        rc = -ENOMEM;
        goto fail;
    }
    plan->workers = workers;
    plan->policy = policy;
    plan->unit = unit;

    if (policy == PVT_PLACE_NONE) {
        hwloc_const_bitmap_t all = hwloc_topology_get_topology_cpuset(topo->t);

        plan->bind = 0;
        for (i = 0; i < workers; i++) {
            rc = cpuset_from_hwloc(all, &plan->sets[i]);
            if (rc)
                goto fail;
        }
        *out = plan;
        return 0;
    }

    rc = units_ordered(topo, policy, unit, &keys, &nunits);
    if (rc)
        goto fail;
    plan->bind = 1;
    plan->oversubscribed = workers > nunits;
    for (i = 0; i < workers; i++) {
        rc = cpuset_from_hwloc(keys[i % nunits].obj->cpuset, &plan->sets[i]);
        if (rc)
            goto fail;
    }
    free(keys);
    *out = plan;
    return 0;

fail:
    free(keys);
    pvt_plan_free(plan);
    return rc;
}

void pvt_plan_free(struct pvt_plan *plan)
{
    if (!plan)
        return;
    free(plan->sets);
    free(plan);
}

int pvt_place_parse_policy(const char *s, enum pvt_place_policy *out)
{
    static const enum pvt_place_policy all[] = {PVT_PLACE_NONE, PVT_PLACE_COMPACT,
                                                PVT_PLACE_SCATTER};
    size_t i;

    for (i = 0; s && i < sizeof(all) / sizeof(all[0]); i++) {
        if (strcmp(s, pvt_place_policy_name(all[i])) == 0) {
            *out = all[i];
            return 0;
        }
    }
    return -EINVAL;
}

int pvt_place_parse_unit(const char *s, enum pvt_place_unit *out)
{
    static const enum pvt_place_unit all[] = {PVT_UNIT_CORE, PVT_UNIT_PU};
    size_t i;

    for (i = 0; s && i < sizeof(all) / sizeof(all[0]); i++) {
        if (strcmp(s, pvt_place_unit_name(all[i])) == 0) {
            *out = all[i];
            return 0;
        }
    }
    return -EINVAL;
}

const char *pvt_place_policy_name(enum pvt_place_policy p)
{
    switch (p) {
    case PVT_PLACE_NONE:
        return "none";
    case PVT_PLACE_COMPACT:
        return "compact";
    case PVT_PLACE_SCATTER:
        return "scatter";
    }
    return "?";
}

const char *pvt_place_unit_name(enum pvt_place_unit u)
{
    switch (u) {
    case PVT_UNIT_CORE:
        return "core";
    case PVT_UNIT_PU:
        return "pu";
    }
    return "?";
}

int pvt_place_bind_self(const cpu_set_t *set)
{
    if (sched_setaffinity(0, sizeof(*set), set) < 0)
        return -errno;
    return 0;
}

int pvt_place_get_self(cpu_set_t *set)
{
    if (sched_getaffinity(0, sizeof(*set), set) < 0)
        return -errno;
    return 0;
}

int pvt_cpuset_format(const cpu_set_t *set, char *buf, size_t len)
{
    size_t pos = 0;
    int cpu = 0, n;

    if (len > 0)
        buf[0] = '\0';
    while (cpu < CPU_SETSIZE) {
        int first, last;

        if (!CPU_ISSET(cpu, set)) {
            cpu++;
            continue;
        }
        first = cpu;
        while (cpu + 1 < CPU_SETSIZE && CPU_ISSET(cpu + 1, set))
            cpu++;
        last = cpu++;
        if (first == last)
            n = snprintf(pos < len ? buf + pos : NULL, pos < len ? len - pos : 0, "%s%d",
                         pos ? "," : "", first);
        else
            n = snprintf(pos < len ? buf + pos : NULL, pos < len ? len - pos : 0, "%s%d-%d",
                         pos ? "," : "", first, last);
        if (n < 0)
            return n;
        pos += (size_t)n;
    }
    return (int)pos;
}
