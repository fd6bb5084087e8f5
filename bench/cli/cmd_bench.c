/*
 * cmd_bench.c: `pvt bench`: the config filled with defaults, then its flags
 * (cmd_bench_parse.c), then each mode's defaults and the whole config
 * checked (cmd_bench_cfg.c); then the results directory, and the hand-off
 * to the mode's runner.
 */
#include <signal.h>
#include <string.h>

#include "bench/common/bench.h"
#include "bench/modes/cost/bench_cost.h"
#include "bench/modes/state/bench_state.h"
#include "bench/common/cli.h"
#include "cmd_bench_int.h"
#include "bench/results/res.h"
#include "bench/modes/modes.h"

static void on_signal(int sig)
{
    (void)sig;
    pvt_bench_interrupted = 1;
}

int pvt_cmd_bench(int argc, char **argv)
{
    struct pvt_bench_cfg cfg = {
        .mode = NULL,
        .target_ms = 250,
        .warmup = 1,
        .pin = PVT_PLACE_COMPACT,
        .unit = PVT_UNIT_CORE,
    };
    struct args a = {0};
    struct pvt_cost_cfg cost = {0};
    struct pvt_topo *topo = NULL;
    struct sigaction sa = {.sa_handler = on_signal};
    char dir[4096];
    struct pvt_state_cfg state = {0};
    const struct pvt_mode *m;
    int rc;

    pvt__bench_parse_args(&cfg, argc, argv, &a);
    if (pvt__bench_check_config(&cfg, &a, &cost) < 0)
        return PVT_EXIT_FAIL;
    m = pvt_mode_find(cfg.mode);
    if (m == &pvt_mode_state)
        pvt_bench_state_args(&cfg, GIVEN(&a, OPT_BACKEND), GIVEN(&a, OPT_REPEAT), a.variants,
                             a.updates, a.batch, &state);
    cfg.cost = &cost;
    cfg.state = &state;

    rc = pvt_topo_load(&topo);
    if (rc < 0) {
        pvt_err(CMD, "cannot read the CPU topology: %s", strerror(-rc));
        return PVT_EXIT_FAIL;
    }
    if (!a.workers && (m->flags & PVT_MODE_WORKER_SWEEP))
        pvt__bench_default_workers(&cfg, pvt_place_default_workers(topo));

    /* Everything is checked; only now does a results directory appear. */
    rc = pvt_res_prepare_dir(cfg.out, cfg.mode, dir, sizeof(dir));
    if (rc < 0) {
        pvt_err(CMD, "--out: cannot use '%s': %s", cfg.out ? cfg.out : "results/", strerror(-rc));
        pvt_topo_free(topo);
        return PVT_EXIT_FAIL;
    }

    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    rc = m->run(&cfg, topo, dir);
    pvt_topo_free(topo);
    return rc;
}
