/*
 * cmd_topo.c: "pvt topo", the machine (or a synthetic one) and a placement plan.
 *
 * Prints what pvt sees (the topology restricted to the allowed CPUs) and
 * where each worker of a pool would run, as text or as JSON.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hwloc.h>
#include <jansson.h>

#include "bench/common/cli.h"
#include "shared/base/parse.h"
#include "shared/core/place.h"

struct topo_cfg {
    const char *synthetic; /* NULL: this machine */
    enum pvt_place_policy policy;
    enum pvt_place_unit unit;
    int workers; /* 0: pvt_place_default_workers() */
    int json;
};

enum { OPT_SYNTHETIC = 256, OPT_POLICY, OPT_UNIT, OPT_WORKERS, OPT_JSON };

static const struct option topo_options[] = {
    {"synthetic", required_argument, NULL, OPT_SYNTHETIC},
    {"policy", required_argument, NULL, OPT_POLICY},
    {"unit", required_argument, NULL, OPT_UNIT},
    {"workers", required_argument, NULL, OPT_WORKERS},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void topo_help(void)
{
    printf("usage: pvt topo [--synthetic DESC] [--policy none|compact|scatter]\n"
           "                [--unit core|pu] [--workers N] [--json]\n"
           "\n"
           "Show the CPUs this process may use and where N workers would run.\n"
           "\n"
           "  --synthetic DESC  plan on an hwloc synthetic topology instead of this\n"
           "                    machine, e.g. \"pack:2 core:4 pu:2\" or \"numa:2 core:8\"\n"
           "  --policy P        none: unbound; compact: fill cores in topology order;\n"
           "                    scatter: spread over packages, NUMA nodes, then cores\n"
           "                    (default compact)\n"
           "  --unit U          core: a worker gets a whole core; pu: one hardware\n"
           "                    thread (default core)\n"
           "  --workers N       1..%d (default: the allowed cores)\n"
           "  --json            print JSON instead of text\n"
           "  -h, --help        this help\n",
           PVT_MAX_WORKERS);
}

static void topo_parse(int argc, char **argv, struct topo_cfg *cfg)
{
    long v;
    int c;

    opterr = 0;
    optind = 0; /* glibc: start over, even if getopt ran before */
    while ((c = getopt_long(argc, argv, ":h", topo_options, NULL)) != -1) {
        switch (c) {
        case OPT_SYNTHETIC:
            if (!*optarg)
                pvt_usage_error("topo", "--synthetic: empty description");
            cfg->synthetic = optarg;
            break;
        case OPT_POLICY:
            if (pvt_place_parse_policy(optarg, &cfg->policy))
                pvt_usage_error("topo", "--policy: unknown policy '%s' (none, compact, scatter)",
                                optarg);
            break;
        case OPT_UNIT:
            if (pvt_place_parse_unit(optarg, &cfg->unit))
                pvt_usage_error("topo", "--unit: unknown unit '%s' (core, pu)", optarg);
            break;
        case OPT_WORKERS:
            if (pvt_parse_int(optarg, 1, PVT_MAX_WORKERS, &v))
                pvt_usage_error("topo", "--workers: '%s' is not a count in 1..%d", optarg,
                                PVT_MAX_WORKERS);
            cfg->workers = (int)v;
            break;
        case OPT_JSON:
            cfg->json = 1;
            break;
        case 'h':
            topo_help();
            exit(PVT_EXIT_OK);
        default:
            pvt_cli_bad_option("topo", c, topo_options, argv);
        }
    }
    if (optind < argc)
        pvt_usage_error("topo", "unexpected argument '%s'", argv[optind]);
}

/* The cores in logical order, or the PUs when the topology has no cores. */
static hwloc_obj_type_t core_type(hwloc_topology_t t)
{
    return hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_CORE) > 0 ? HWLOC_OBJ_CORE : HWLOC_OBJ_PU;
}

static void print_tree(hwloc_topology_t t)
{
    hwloc_obj_type_t type = core_type(t);
    hwloc_obj_t pack = NULL, core = NULL;
    int multi_numa = 0, first = 1;
    char buf[256];

    /* A header per package (or one for the machine), then a line per core. */
    while ((core = hwloc_get_next_obj_by_type(t, type, core)) != NULL) {
        hwloc_obj_t p = hwloc_get_ancestor_obj_by_type(t, HWLOC_OBJ_PACKAGE, core);

        if (first || p != pack) {
            hwloc_obj_t head = p ? p : hwloc_get_root_obj(t);

            first = 0;
            pack = p;
            multi_numa = hwloc_bitmap_weight(head->nodeset) > 1;
            hwloc_bitmap_list_snprintf(buf, sizeof(buf), head->nodeset);
            if (p)
                printf("package %u: numa %s\n", p->os_index, buf);
            else
                printf("machine: numa %s\n", buf);
        }
        hwloc_bitmap_list_snprintf(buf, sizeof(buf), core->cpuset);
        printf("  %s %u: pus %s", type == HWLOC_OBJ_CORE ? "core" : "pu", core->logical_index, buf);
        if (multi_numa) {
            hwloc_bitmap_list_snprintf(buf, sizeof(buf), core->nodeset);
            printf(" (numa %s)", buf);
        }
        printf("\n");
    }
}

static void print_text(const struct pvt_topo *topo, const struct topo_cfg *cfg,
                       const struct pvt_plan *plan)
{
    hwloc_topology_t t = pvt_topo_hwloc(topo);
    char buf[1024];
    int i;

    pvt_topo_summary(topo, buf, sizeof(buf));
    printf("%s\n", buf);
    if (cfg->synthetic)
        printf("synthetic: %s\n", cfg->synthetic);
    hwloc_bitmap_list_snprintf(buf, sizeof(buf), hwloc_topology_get_topology_cpuset(t));
    printf("allowed cpus: %s\n", buf);
    print_tree(t);
    printf("plan: %d worker%s, policy %s, unit %s\n", plan->workers, plan->workers == 1 ? "" : "s",
           pvt_place_policy_name(cfg->policy), pvt_place_unit_name(cfg->unit));
    for (i = 0; i < plan->workers; i++) {
        pvt_cpuset_format(&plan->sets[i], buf, sizeof(buf));
        if (plan->bind)
            printf("worker %d: cpus %s\n", i, buf);
        else
            printf("worker %d: unbound (cpus %s)\n", i, buf);
    }
    if (plan->oversubscribed)
        printf("warning: %d workers on %d %ss: some workers share a %s\n", plan->workers,
               cfg->unit == PVT_UNIT_CORE ? pvt_topo_cores(topo) : pvt_topo_pus(topo),
               pvt_place_unit_name(cfg->unit), pvt_place_unit_name(cfg->unit));
}

/* json_object_set_new / json_array_append_new that also catch a NULL value. */
static int jset(json_t *obj, const char *key, json_t *v)
{
    if (!v)
        return -ENOMEM;
    return json_object_set_new(obj, key, v) ? -ENOMEM : 0;
}

static int jappend(json_t *arr, json_t *v)
{
    if (!v)
        return -ENOMEM;
    return json_array_append_new(arr, v) ? -ENOMEM : 0;
}

static json_t *json_cpus_hwloc(hwloc_const_bitmap_t set)
{
    json_t *arr = json_array();
    int i;

    if (!arr)
        return NULL;
    hwloc_bitmap_foreach_begin(i, set)
    {
        if (jappend(arr, json_integer(i))) {
            json_decref(arr);
            return NULL;
        }
    }
    hwloc_bitmap_foreach_end();
    return arr;
}

static json_t *json_cpus(const cpu_set_t *set)
{
    json_t *arr = json_array();
    int i;

    for (i = 0; arr && i < CPU_SETSIZE; i++) {
        if (CPU_ISSET(i, set) && jappend(arr, json_integer(i))) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/*
 * The JSON builders attach each new container to its parent before filling
 * it, so on failure only the root needs freeing (jset and jappend free a
 * value they could not attach).
 */
static int json_topology(const struct pvt_topo *topo, json_t *o)
{
    hwloc_topology_t t = pvt_topo_hwloc(topo);
    hwloc_obj_type_t type = core_type(t);
    json_t *cores, *c;
    hwloc_obj_t core = NULL;
    char buf[1024];
    int rc;

    pvt_topo_summary(topo, buf, sizeof(buf));
    rc = jset(o, "synthetic", json_boolean(pvt_topo_is_synthetic(topo)));
    if (!rc)
        rc = jset(o, "summary", json_string(buf));
    if (!rc)
        rc = jset(o, "packages", json_integer(pvt_topo_packages(topo)));
    if (!rc)
        rc = jset(o, "numa_nodes", json_integer(pvt_topo_numa_nodes(topo)));
    if (!rc)
        rc = jset(o, "cores", json_integer(pvt_topo_cores(topo)));
    if (!rc)
        rc = jset(o, "pus", json_integer(pvt_topo_pus(topo)));
    hwloc_bitmap_list_snprintf(buf, sizeof(buf), hwloc_topology_get_topology_cpuset(t));
    if (!rc)
        rc = jset(o, "allowed_cpus", json_string(buf));
    if (!rc)
        rc = jset(o, "cores_list", cores = json_array());
    while (!rc && (core = hwloc_get_next_obj_by_type(t, type, core)) != NULL) {
        rc = jappend(cores, c = json_object());
        if (!rc)
            rc = jset(c, "core", json_integer(core->logical_index));
        if (!rc)
            rc = jset(c, "pus", json_cpus_hwloc(core->cpuset));
    }
    return rc;
}

static json_t *json_report(const struct pvt_topo *topo, const struct topo_cfg *cfg,
                           const struct pvt_plan *plan)
{
    json_t *root = json_object(), *arr, *w;
    int rc, i;

    if (!root)
        return NULL;
    rc = jset(root, "topology", w = json_object());
    if (!rc)
        rc = json_topology(topo, w);
    if (!rc)
        rc = jset(root, "policy", json_string(pvt_place_policy_name(cfg->policy)));
    if (!rc)
        rc = jset(root, "unit", json_string(pvt_place_unit_name(cfg->unit)));
    if (!rc)
        rc = jset(root, "workers", json_integer(plan->workers));
    if (!rc)
        rc = jset(root, "bind", json_boolean(plan->bind));
    if (!rc)
        rc = jset(root, "oversubscribed", json_boolean(plan->oversubscribed));
    if (!rc)
        rc = jset(root, "plan", arr = json_array());
    for (i = 0; !rc && i < plan->workers; i++) {
        rc = jappend(arr, w = json_object());
        if (!rc)
            rc = jset(w, "worker", json_integer(i));
        if (!rc)
            rc = jset(w, "pus", json_cpus(&plan->sets[i]));
    }
    if (rc) {
        json_decref(root);
        return NULL;
    }
    return root;
}

int pvt_cmd_topo(int argc, char **argv)
{
    struct topo_cfg cfg = {.policy = PVT_PLACE_COMPACT, .unit = PVT_UNIT_CORE};
    struct pvt_topo *topo = NULL;
    struct pvt_plan *plan = NULL;
    json_t *report = NULL;
    int rc, status = PVT_EXIT_FAIL;

    topo_parse(argc, argv, &cfg);

    if (cfg.synthetic) {
        rc = pvt_topo_synthetic(cfg.synthetic, &topo);
        if (rc == -EINVAL)
            pvt_usage_error("topo", "--synthetic: hwloc rejects '%s'", cfg.synthetic);
    } else {
        rc = pvt_topo_load(&topo);
    }
    if (rc) {
        pvt_err("topo", "cannot load the topology: %s", strerror(-rc));
        goto out;
    }
    if (!cfg.workers)
        cfg.workers = pvt_place_default_workers(topo);
    rc = pvt_place_plan(topo, cfg.policy, cfg.unit, cfg.workers, &plan);
    if (rc) {
        pvt_err("topo", "cannot plan %d workers: %s", cfg.workers, strerror(-rc));
        goto out;
    }

    if (cfg.json) {
        report = json_report(topo, &cfg, plan);
        if (!report) {
            pvt_err("topo", "cannot build the JSON report: %s", strerror(ENOMEM));
            goto out;
        }
        if (json_dumpf(report, stdout, JSON_INDENT(2)) < 0 || fputc('\n', stdout) == EOF) {
            pvt_err("topo", "cannot write the report");
            goto out;
        }
    } else {
        print_text(topo, &cfg, plan);
    }
    if (fflush(stdout) == EOF || ferror(stdout)) {
        pvt_err("topo", "cannot write the report: %s", strerror(errno));
        goto out;
    }
    status = PVT_EXIT_OK;

out:
    json_decref(report);
    pvt_plan_free(plan);
    pvt_topo_free(topo);
    return status;
}
