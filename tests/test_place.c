/*
 * test_place.c: the topology and the placement planner.
 *
 * Plans are checked on hwloc synthetic topologies, where hwloc numbers PUs
 * (OS indexes) in tree order unless the description says otherwise, so every
 * worker's exact CPU set is known. The real machine is checked only for what
 * holds anywhere: plans stay inside this process's affinity mask, and a
 * bind / read-back round trip gives back the set asked for.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <hwloc.h>

#include "shared/core/place.h"

/* A list of CPUs ended by -1, as a cpu_set_t. */
static cpu_set_t cpus_of(const int *cpus)
{
    cpu_set_t s;

    CPU_ZERO(&s);
    for (; *cpus >= 0; cpus++)
        CPU_SET(*cpus, &s);
    return s;
}

#define CPUS(...) ((const int[]){__VA_ARGS__, -1})

static void check_set(const cpu_set_t *got, const int *want, int worker)
{
    cpu_set_t w = cpus_of(want);
    char g[256], e[256];

    if (!CPU_EQUAL(got, &w)) {
        pvt_cpuset_format(got, g, sizeof(g));
        pvt_cpuset_format(&w, e, sizeof(e));
        fail_msg("worker %d: cpus '%s', expected '%s'", worker, g, e);
    }
}

static struct pvt_topo *synthetic(const char *desc)
{
    struct pvt_topo *topo = NULL;

    assert_int_equal(pvt_topo_synthetic(desc, &topo), 0);
    assert_non_null(topo);
    assert_true(pvt_topo_is_synthetic(topo));
    return topo;
}

static struct pvt_plan *plan_of(struct pvt_topo *topo, enum pvt_place_policy policy,
                                enum pvt_place_unit unit, int workers)
{
    struct pvt_plan *plan = NULL;

    assert_int_equal(pvt_place_plan(topo, policy, unit, workers, &plan), 0);
    assert_non_null(plan);
    assert_int_equal(plan->workers, workers);
    assert_int_equal(plan->policy, policy);
    assert_int_equal(plan->unit, unit);
    assert_int_equal(plan->bind, policy != PVT_PLACE_NONE);
    return plan;
}

/* The hwloc object of type `type` above the (first) PU of a set: package or NUMA node. */
static int os_index_above(struct pvt_topo *topo, const cpu_set_t *set, hwloc_obj_type_t type)
{
    hwloc_topology_t t = pvt_topo_hwloc(topo);
    hwloc_obj_t pu = NULL;
    int cpu;

    for (cpu = 0; cpu < CPU_SETSIZE && !CPU_ISSET(cpu, set); cpu++)
        ;
    assert_true(cpu < CPU_SETSIZE);
    pu = hwloc_get_pu_obj_by_os_index(t, (unsigned)cpu);
    assert_non_null(pu);
    if (type == HWLOC_OBJ_NUMANODE) {
        assert_int_equal(hwloc_bitmap_weight(pu->nodeset), 1);
        return hwloc_bitmap_first(pu->nodeset);
    }
    pu = hwloc_get_ancestor_obj_by_type(t, type, pu);
    assert_non_null(pu);
    return (int)pu->os_index;
}

static void test_counts_and_summary(void **state)
{
    static const struct {
        const char *desc, *summary;
        int packages, numa, cores, pus;
    } cases[] = {
        {"pack:2 core:4 pu:2", "2 packages, 1 NUMA node, 8 cores, 16 PUs", 2, 1, 8, 16},
        {"numa:2 core:8", "1 package, 2 NUMA nodes, 16 cores, 16 PUs", 1, 2, 16, 16},
        {"pack:2 numa:2 core:2 pu:2", "2 packages, 4 NUMA nodes, 8 cores, 16 PUs", 2, 4, 8, 16},
        {"core:1", "1 package, 1 NUMA node, 1 core, 1 PU", 1, 1, 1, 1},
        {"pack:2 pu:4", "2 packages, 1 NUMA node, 8 cores, 8 PUs", 2, 1, 8, 8},
    };
    char buf[128];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct pvt_topo *topo = synthetic(cases[i].desc);

        assert_int_equal(pvt_topo_packages(topo), cases[i].packages);
        assert_int_equal(pvt_topo_numa_nodes(topo), cases[i].numa);
        assert_int_equal(pvt_topo_cores(topo), cases[i].cores);
        assert_int_equal(pvt_topo_pus(topo), cases[i].pus);
        assert_int_equal(pvt_place_default_workers(topo), cases[i].cores);
        assert_int_equal(pvt_topo_summary(topo, buf, sizeof(buf)), strlen(cases[i].summary));
        assert_string_equal(buf, cases[i].summary);
        pvt_topo_free(topo);
    }
}

static void test_compact_core(void **state)
{
    struct pvt_topo *topo = synthetic("pack:2 core:4 pu:2");
    struct pvt_plan *plan = plan_of(topo, PVT_PLACE_COMPACT, PVT_UNIT_CORE, 8);
    int i;

    for (i = 0; i < 8; i++)
        check_set(&plan->sets[i], CPUS(2 * i, 2 * i + 1), i);
    assert_int_equal(plan->oversubscribed, 0);
    pvt_plan_free(plan);
    pvt_topo_free(topo);
}

static void test_compact_pu(void **state)
{
    struct pvt_topo *topo = synthetic("pack:2 core:4 pu:2");
    struct pvt_plan *plan = plan_of(topo, PVT_PLACE_COMPACT, PVT_UNIT_PU, 16);
    int i;

    for (i = 0; i < 16; i++)
        check_set(&plan->sets[i], CPUS(i), i);
    assert_int_equal(plan->oversubscribed, 0);
    pvt_plan_free(plan);
    pvt_topo_free(topo);
}

/* Sets are OS indexes, not logical ones: here a core holds PUs i and i + 4. */
static void test_os_indexes(void **state)
{
    struct pvt_topo *topo = synthetic("pack:2 core:2 pu:2(indexes=0,4,1,5,2,6,3,7)");
    struct pvt_plan *plan = plan_of(topo, PVT_PLACE_COMPACT, PVT_UNIT_CORE, 4);
    static const int pu_order[] = {0, 4, 1, 5, 2, 6, 3, 7};
    int i;

    for (i = 0; i < 4; i++)
        check_set(&plan->sets[i], CPUS(i, i + 4), i);
    pvt_plan_free(plan);
    plan = plan_of(topo, PVT_PLACE_COMPACT, PVT_UNIT_PU, 8);
    for (i = 0; i < 8; i++)
        check_set(&plan->sets[i], CPUS(pu_order[i]), i);
    pvt_plan_free(plan);
    pvt_topo_free(topo);
}

static void test_scatter_packages(void **state)
{
    struct pvt_topo *topo = synthetic("pack:2 core:4 pu:2");
    struct pvt_plan *plan = plan_of(topo, PVT_PLACE_SCATTER, PVT_UNIT_CORE, 8);
    static const int first_pu[] = {0, 8, 2, 10, 4, 12, 6, 14};
    int i;

    for (i = 0; i < 8; i++) {
        check_set(&plan->sets[i], CPUS(first_pu[i], first_pu[i] + 1), i);
        assert_int_equal(os_index_above(topo, &plan->sets[i], HWLOC_OBJ_PACKAGE), i % 2);
    }
    assert_int_equal(plan->oversubscribed, 0);
    pvt_plan_free(plan);

    /* By PU: the first thread of every core before any core's second. */
    plan = plan_of(topo, PVT_PLACE_SCATTER, PVT_UNIT_PU, 16);
    for (i = 0; i < 8; i++) {
        check_set(&plan->sets[i], CPUS(first_pu[i]), i);
        check_set(&plan->sets[i + 8], CPUS(first_pu[i] + 1), i + 8);
    }
    pvt_plan_free(plan);
    pvt_topo_free(topo);
}

static void test_oversubscribed_wraps(void **state)
{
    struct pvt_topo *topo = synthetic("pack:2 core:4 pu:2");
    enum pvt_place_policy policies[] = {PVT_PLACE_COMPACT, PVT_PLACE_SCATTER};
    struct pvt_plan *plan;
    int p, i;

    for (p = 0; p < 2; p++) {
        plan = plan_of(topo, policies[p], PVT_UNIT_CORE, 16);
        assert_int_equal(plan->oversubscribed, 1);
        for (i = 0; i < 8; i++) {
            assert_int_equal(CPU_COUNT(&plan->sets[i]), 2);
            assert_true(CPU_EQUAL(&plan->sets[i], &plan->sets[i + 8]));
            assert_false(CPU_EQUAL(&plan->sets[i], &plan->sets[(i + 1) % 8]));
        }
        pvt_plan_free(plan);
    }
    plan = plan_of(topo, PVT_PLACE_COMPACT, PVT_UNIT_PU, 17);
    assert_int_equal(plan->oversubscribed, 1);
    check_set(&plan->sets[16], CPUS(0), 16);
    pvt_plan_free(plan);
    plan = plan_of(topo, PVT_PLACE_COMPACT, PVT_UNIT_CORE, PVT_MAX_WORKERS);
    check_set(&plan->sets[PVT_MAX_WORKERS - 1], CPUS(14, 15), PVT_MAX_WORKERS - 1);
    pvt_plan_free(plan);
    pvt_topo_free(topo);
}

/* "numa:2 core:8" (hwloc wants a PU level; place.c adds "pu:1"). */
static void test_scatter_numa(void **state)
{
    struct pvt_topo *topo = synthetic("numa:2 core:8");
    struct pvt_plan *plan = plan_of(topo, PVT_PLACE_SCATTER, PVT_UNIT_CORE, 16);
    int i;

    for (i = 0; i < 16; i++) {
        check_set(&plan->sets[i], CPUS(i / 2 + (i % 2) * 8), i);
        assert_int_equal(os_index_above(topo, &plan->sets[i], HWLOC_OBJ_NUMANODE), i % 2);
    }
    assert_int_equal(plan->oversubscribed, 0);
    pvt_plan_free(plan);

    plan = plan_of(topo, PVT_PLACE_COMPACT, PVT_UNIT_CORE, 9);
    for (i = 0; i < 9; i++)
        check_set(&plan->sets[i], CPUS(i), i);
    pvt_plan_free(plan);
    pvt_topo_free(topo);
}

static void test_scatter_packages_then_numa(void **state)
{
    struct pvt_topo *topo = synthetic("pack:2 numa:2 core:2 pu:2");
    struct pvt_plan *plan = plan_of(topo, PVT_PLACE_SCATTER, PVT_UNIT_CORE, 8);
    static const int first_pu[] = {0, 8, 4, 12, 2, 10, 6, 14};
    static const int numa[] = {0, 2, 1, 3};
    int i;

    for (i = 0; i < 8; i++)
        check_set(&plan->sets[i], CPUS(first_pu[i], first_pu[i] + 1), i);
    assert_int_not_equal(os_index_above(topo, &plan->sets[0], HWLOC_OBJ_PACKAGE),
                         os_index_above(topo, &plan->sets[1], HWLOC_OBJ_PACKAGE));
    for (i = 0; i < 4; i++)
        assert_int_equal(os_index_above(topo, &plan->sets[i], HWLOC_OBJ_NUMANODE), numa[i]);
    pvt_plan_free(plan);
    pvt_topo_free(topo);
}

/* Without core objects, a core unit is a PU. */
static void test_no_cores(void **state)
{
    struct pvt_topo *topo = synthetic("pack:2 pu:4");
    struct pvt_plan *plan = plan_of(topo, PVT_PLACE_SCATTER, PVT_UNIT_CORE, 8);
    static const int order[] = {0, 4, 1, 5, 2, 6, 3, 7};
    int i;

    for (i = 0; i < 8; i++)
        check_set(&plan->sets[i], CPUS(order[i]), i);
    assert_int_equal(plan->oversubscribed, 0);
    pvt_plan_free(plan);
    pvt_topo_free(topo);
}

static void test_single_core(void **state)
{
    struct pvt_topo *topo = synthetic("core:1");
    enum pvt_place_policy policies[] = {PVT_PLACE_COMPACT, PVT_PLACE_SCATTER};
    enum pvt_place_unit units[] = {PVT_UNIT_CORE, PVT_UNIT_PU};
    struct pvt_plan *plan;
    int p, u, i;

    for (p = 0; p < 2; p++) {
        for (u = 0; u < 2; u++) {
            plan = plan_of(topo, policies[p], units[u], 1);
            check_set(&plan->sets[0], CPUS(0), 0);
            assert_int_equal(plan->oversubscribed, 0);
            pvt_plan_free(plan);
            plan = plan_of(topo, policies[p], units[u], 3);
            for (i = 0; i < 3; i++)
                check_set(&plan->sets[i], CPUS(0), i);
            assert_int_equal(plan->oversubscribed, 1);
            pvt_plan_free(plan);
        }
    }
    pvt_topo_free(topo);
}

static void test_policy_none(void **state)
{
    struct pvt_topo *topo = synthetic("pack:2 core:4 pu:2");
    struct pvt_plan *plan = plan_of(topo, PVT_PLACE_NONE, PVT_UNIT_CORE, 20);
    int i;

    for (i = 0; i < 20; i++)
        check_set(&plan->sets[i], CPUS(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), i);
    assert_int_equal(plan->oversubscribed, 0);
    pvt_plan_free(plan);
    pvt_topo_free(topo);
}

static void test_bad_synthetic(void **state)
{
    static const char *bad[] = {"", "bogus:2", "pack:2 core:4 pu:2 foo", "pack:x pu:2",
                                "pu:2 core:2"};
    struct pvt_topo *topo;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        topo = NULL;
        if (pvt_topo_synthetic(bad[i], &topo) != -EINVAL)
            fail_msg("'%s' was not rejected with -EINVAL", bad[i]);
        assert_null(topo);
    }
}

static void test_bad_plan_args(void **state)
{
    struct pvt_topo *topo = synthetic("pack:2 core:4 pu:2");
    struct pvt_plan *plan = NULL;

    assert_int_equal(pvt_place_plan(topo, PVT_PLACE_COMPACT, PVT_UNIT_CORE, 0, &plan), -EINVAL);
    assert_int_equal(pvt_place_plan(topo, PVT_PLACE_COMPACT, PVT_UNIT_CORE, -1, &plan), -EINVAL);
    assert_int_equal(
        pvt_place_plan(topo, PVT_PLACE_COMPACT, PVT_UNIT_CORE, PVT_MAX_WORKERS + 1, &plan),
        -EINVAL);
    assert_int_equal(pvt_place_plan(topo, (enum pvt_place_policy)7, PVT_UNIT_CORE, 1, &plan),
                     -EINVAL);
    assert_int_equal(pvt_place_plan(topo, PVT_PLACE_NONE, (enum pvt_place_unit)7, 1, &plan),
                     -EINVAL);
    assert_null(plan);
    pvt_topo_free(topo);
}

static void test_names(void **state)
{
    static const char *policies[] = {"none", "compact", "scatter"};
    static const char *units[] = {"core", "pu"};
    static const char *bad[] = {"", "Compact", "scatterx", "pus", " core", "cores"};
    enum pvt_place_policy p = PVT_PLACE_SCATTER;
    enum pvt_place_unit u = PVT_UNIT_PU;
    size_t i;

    for (i = 0; i < 3; i++) {
        assert_int_equal(pvt_place_parse_policy(policies[i], &p), 0);
        assert_int_equal(p, (int)i);
        assert_string_equal(pvt_place_policy_name(p), policies[i]);
    }
    for (i = 0; i < 2; i++) {
        assert_int_equal(pvt_place_parse_unit(units[i], &u), 0);
        assert_int_equal(u, (int)i);
        assert_string_equal(pvt_place_unit_name(u), units[i]);
    }
    p = PVT_PLACE_COMPACT;
    u = PVT_UNIT_PU;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(pvt_place_parse_policy(bad[i], &p), -EINVAL);
        assert_int_equal(pvt_place_parse_unit(bad[i], &u), -EINVAL);
    }
    assert_int_equal(p, PVT_PLACE_COMPACT); /* untouched on failure */
    assert_int_equal(u, PVT_UNIT_PU);
}

static void test_cpuset_format(void **state)
{
    cpu_set_t s;
    char buf[64];

    CPU_ZERO(&s);
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(pvt_cpuset_format(&s, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "");

    s = cpus_of(CPUS(5));
    assert_int_equal(pvt_cpuset_format(&s, buf, sizeof(buf)), 1);
    assert_string_equal(buf, "5");

    s = cpus_of(CPUS(0, 1, 2, 3, 8, 10, 11));
    assert_int_equal(pvt_cpuset_format(&s, buf, sizeof(buf)), 11);
    assert_string_equal(buf, "0-3,8,10-11");

    s = cpus_of(CPUS(0, 2, 4, CPU_SETSIZE - 2, CPU_SETSIZE - 1));
    snprintf(buf + 32, 32, "0,2,4,%d-%d", CPU_SETSIZE - 2, CPU_SETSIZE - 1);
    assert_int_equal(pvt_cpuset_format(&s, buf, 32), strlen(buf + 32));
    assert_string_equal(buf, buf + 32);

    /* Too small a buffer: truncated, terminated, full length returned. */
    s = cpus_of(CPUS(0, 1, 2, 3, 8, 10, 11));
    assert_int_equal(pvt_cpuset_format(&s, buf, 6), 11);
    assert_string_equal(buf, "0-3,8");
    assert_int_equal(pvt_cpuset_format(&s, NULL, 0), 11);
}

static void test_real_machine(void **state)
{
    struct pvt_topo *topo = NULL;
    struct pvt_plan *plan;
    cpu_set_t mine, all;
    int i, workers;

    assert_int_equal(sched_getaffinity(0, sizeof(mine), &mine), 0);
    assert_int_equal(pvt_topo_load(&topo), 0);
    assert_non_null(topo);
    assert_false(pvt_topo_is_synthetic(topo));
    assert_true(pvt_topo_cores(topo) >= 1);
    assert_true(pvt_topo_pus(topo) >= pvt_topo_cores(topo));
    assert_true(pvt_topo_pus(topo) <= CPU_COUNT(&mine));
    workers = pvt_place_default_workers(topo);
    assert_int_equal(workers, pvt_topo_cores(topo));

    plan = plan_of(topo, PVT_PLACE_NONE, PVT_UNIT_CORE, 2);
    all = plan->sets[0];
    pvt_plan_free(plan);
    assert_int_equal(CPU_COUNT(&all), pvt_topo_pus(topo));

    plan = plan_of(topo, PVT_PLACE_SCATTER, PVT_UNIT_PU, pvt_topo_pus(topo) + 1);
    for (i = 0; i < plan->workers; i++) {
        cpu_set_t inter;

        assert_int_equal(CPU_COUNT(&plan->sets[i]), 1);
        CPU_AND(&inter, &plan->sets[i], &mine);
        assert_true(CPU_EQUAL(&inter, &plan->sets[i]));
        CPU_AND(&inter, &plan->sets[i], &all);
        assert_true(CPU_EQUAL(&inter, &plan->sets[i]));
    }
    assert_int_equal(plan->oversubscribed, 1);
    pvt_plan_free(plan);
    pvt_topo_free(topo);
}

static int first_cpu(const cpu_set_t *s)
{
    int cpu;

    for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (CPU_ISSET(cpu, s))
            return cpu;
    }
    fail_msg("empty affinity mask");
    return -1;
}

static void test_bind_round_trip(void **state)
{
    cpu_set_t orig, one, got, empty;
    int rc;

    assert_int_equal(pvt_place_get_self(&orig), 0);
    assert_true(CPU_COUNT(&orig) >= 1);
    CPU_ZERO(&one);
    CPU_SET(first_cpu(&orig), &one);

    rc = pvt_place_bind_self(&one);
    if (rc == 0)
        rc = pvt_place_get_self(&got);
    assert_int_equal(pvt_place_bind_self(&orig), 0); /* restore before asserting */
    assert_int_equal(rc, 0);
    check_set(&got, CPUS(first_cpu(&orig)), 0);

    CPU_ZERO(&empty);
    assert_int_equal(pvt_place_bind_self(&empty), -EINVAL);
    assert_int_equal(pvt_place_get_self(&got), 0);
    assert_true(CPU_EQUAL(&got, &orig));
}

/* Loading the topology while bound to one CPU sees just that CPU. */
static void test_load_follows_affinity(void **state)
{
    struct pvt_topo *topo = NULL;
    struct pvt_plan *plan = NULL;
    cpu_set_t orig, one;
    int rc, pus = 0, cores = 0;

    assert_int_equal(pvt_place_get_self(&orig), 0);
    CPU_ZERO(&one);
    CPU_SET(first_cpu(&orig), &one);
    assert_int_equal(pvt_place_bind_self(&one), 0);
    rc = pvt_topo_load(&topo);
    assert_int_equal(pvt_place_bind_self(&orig), 0);
    assert_int_equal(rc, 0);

    pus = pvt_topo_pus(topo);
    cores = pvt_topo_cores(topo);
    assert_int_equal(pus, 1);
    assert_int_equal(cores, 1);
    assert_int_equal(pvt_topo_packages(topo), 1);
    assert_int_equal(pvt_topo_numa_nodes(topo), 1);
    plan = plan_of(topo, PVT_PLACE_NONE, PVT_UNIT_PU, 1);
    check_set(&plan->sets[0], CPUS(first_cpu(&orig)), 0);
    pvt_plan_free(plan);
    pvt_topo_free(topo);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_and_summary),
        cmocka_unit_test(test_compact_core),
        cmocka_unit_test(test_compact_pu),
        cmocka_unit_test(test_os_indexes),
        cmocka_unit_test(test_scatter_packages),
        cmocka_unit_test(test_oversubscribed_wraps),
        cmocka_unit_test(test_scatter_numa),
        cmocka_unit_test(test_scatter_packages_then_numa),
        cmocka_unit_test(test_no_cores),
        cmocka_unit_test(test_single_core),
        cmocka_unit_test(test_policy_none),
        cmocka_unit_test(test_bad_synthetic),
        cmocka_unit_test(test_bad_plan_args),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_cpuset_format),
        cmocka_unit_test(test_real_machine),
        cmocka_unit_test(test_bind_round_trip),
        cmocka_unit_test(test_load_follows_affinity),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
