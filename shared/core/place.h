/*
 * place.h: the machine's topology (hwloc) and where each worker runs.
 *
 * A topology is read once, restricted to the CPUs this process may use (its
 * cgroup cpuset and its affinity mask), or built from an hwloc synthetic
 * description for tests and "what if" plans. The planner is a pure function
 * of a topology, a policy, a unit and a worker count, so it is tested on
 * synthetic topologies, where binding would do nothing.
 *
 * Workers bind themselves after they start (pvt_place_bind_self) and read
 * back what they got (pvt_place_get_self), so a plan is verified, not trusted.
 */
#ifndef PVT_PLACE_H
#define PVT_PLACE_H

#include <stddef.h>

#include "pvt.h"

enum pvt_place_policy {
    PVT_PLACE_NONE = 0, /* no binding: every worker may run on every allowed CPU */
    PVT_PLACE_COMPACT,  /* fill units in topology order: a package's cores before the next */
    PVT_PLACE_SCATTER   /* spread over packages, then NUMA nodes, then caches, then cores */
};

enum pvt_place_unit {
    PVT_UNIT_CORE = 0, /* a worker gets a whole core (all its hardware threads) */
    PVT_UNIT_PU        /* a worker gets one hardware thread */
};

struct pvt_topo;

/*
 * This machine, restricted to the CPUs the process is allowed to use.
 * -ENOMEM, -EIO if hwloc cannot read the machine, -ENODEV if nothing is allowed.
 */
int pvt_topo_load(struct pvt_topo **out);

/*
 * A topology from an hwloc synthetic description such as "pack:2 core:4 pu:2"
 * or "numa:2 core:8". -EINVAL for a description hwloc rejects.
 */
int pvt_topo_synthetic(const char *desc, struct pvt_topo **out);

void pvt_topo_free(struct pvt_topo *topo);

/* Counts of allowed objects of each kind (>= 1 for pus and cores). */
int pvt_topo_packages(const struct pvt_topo *topo);
int pvt_topo_numa_nodes(const struct pvt_topo *topo);
int pvt_topo_cores(const struct pvt_topo *topo);
int pvt_topo_pus(const struct pvt_topo *topo);

/* 1 for a synthetic topology (plans only, binding is meaningless). */
int pvt_topo_is_synthetic(const struct pvt_topo *topo);

/*
 * One line such as "1 package, 1 NUMA node, 2 cores, 2 PUs" into buf.
 * Returns the length snprintf would have written.
 */
int pvt_topo_summary(const struct pvt_topo *topo, char *buf, size_t len);

/* The hwloc topology (hwloc_topology_t), for printing and JSON. */
void *pvt_topo_hwloc(const struct pvt_topo *topo);

/* The default worker count: the allowed cores. */
int pvt_place_default_workers(const struct pvt_topo *topo);

/*
 * Plan where `workers` workers run. With more workers than units, units are
 * reused in the same order and plan->oversubscribed is set. Returns -EINVAL
 * for workers < 1 or > PVT_MAX_WORKERS or an unknown policy or unit, -ENOMEM.
 */
int pvt_place_plan(const struct pvt_topo *topo, enum pvt_place_policy policy,
                   enum pvt_place_unit unit, int workers, struct pvt_plan **out);
void pvt_plan_free(struct pvt_plan *plan);

/* Names <-> values. The parsers return -EINVAL for an unknown name. */
int pvt_place_parse_policy(const char *s, enum pvt_place_policy *out);
int pvt_place_parse_unit(const char *s, enum pvt_place_unit *out);
const char *pvt_place_policy_name(enum pvt_place_policy p);
const char *pvt_place_unit_name(enum pvt_place_unit u);

/*
 * Bind the calling thread to set / read back the calling thread's CPU set.
 * Return 0 or -errno from sched_setaffinity / sched_getaffinity.
 */
int pvt_place_bind_self(const cpu_set_t *set);
int pvt_place_get_self(cpu_set_t *set);

/*
 * Format a CPU set as a list of ranges ("0-3,8,10-11") into buf.
 * Returns the length snprintf would have written.
 */
int pvt_cpuset_format(const cpu_set_t *set, char *buf, size_t len);

#endif
