/*
 * cmd_report.c: `pvt report DIR`, a results directory as DIR/report.md:
 * the run and the machine, one verdict per lesson computed from the data,
 * the tables, and the plots (drawn first, unless --no-plots).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/modes/modes.h"
#include "bench/common/cli.h"
#include "bench/plot/plot.h"
#include "bench/report/report.h"
#include "bench/results/res.h"

#define CMD "report"

static void help(void)
{
    printf("usage: pvt report [--no-plots] RUN_DIR\n\n"
           "Write RUN_DIR/report.md: what was run and on what machine, one verdict per\n"
           "lesson computed from results.csv (medians over the repetitions; figures whose\n"
           "min-max ranges overlap are called within noise), the tables, and the plots,\n"
           "which it draws first with pvt plot.\n\n"
           "  --no-plots    do not draw the plots (link those already in RUN_DIR/plots/)\n"
           "  -h, --help    this help\n");
}

int pvt__report_dir(const char *dir, int plots, int quiet)
{
    struct pvt_rundir r;
    char why[1024], *buf = NULL;
    size_t len = 0;
    FILE *f;
    int rc;

    rc = pvt_rundir_open(dir, &r, why, sizeof(why));
    if (rc < 0)
        pvt_usage_error(CMD, "%s", why);
    if (!r.has_csv || r.t.nrows == 0) {
        pvt_err(CMD, "%s: no results yet (the run stopped before its first row)", dir);
        pvt_rundir_close(&r);
        return PVT_EXIT_FAIL;
    }
    if (plots) {
        if (pvt_plot_check(why, sizeof(why)) < 0)
            pvt_err(CMD, "%s; the report links no plot", why);
        else
            pvt__plot_dirs(1, (char *[]){(char *)dir}, NULL, 1);
    }
    f = open_memstream(&buf, &len);
    if (!f) {
        pvt_rundir_close(&r);
        return PVT_EXIT_FAIL;
    }
    rc = pvt_report_write(&r, f);
    fclose(f);
    if (rc == -ENOTSUP)
        pvt_err(CMD, "%s: a %s run has no report yet", dir, r.mode);
    pvt_rundir_close(&r);
    if (rc == -ENOTSUP) {
        free(buf);
        return PVT_EXIT_FAIL;
    }
    rc = pvt_res_write_atomic(dir, "report.md", buf, len);
    free(buf);
    if (rc < 0) {
        pvt_err(CMD, "cannot write %s/report.md: %s", dir, strerror(-rc));
        return PVT_EXIT_FAIL;
    }
    if (!quiet)
        printf("report: %s/report.md\n", dir);
    return PVT_EXIT_OK;
}

int pvt_cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        {"no-plots", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c, plots = 1;

    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            plots = 0;
            break;
        case 'h':
            help();
            return PVT_EXIT_OK;
        default:
            pvt_cli_bad_option(CMD, c, opts, argv);
        }
    }
    if (optind >= argc)
        pvt_usage_error(CMD, "missing RUN_DIR (a directory pvt bench wrote)");
    if (argc - optind > 1)
        pvt_usage_error(CMD, "one RUN_DIR at a time (pvt plot overlays several)");
    return pvt__report_dir(argv[optind], plots, 0);
}
