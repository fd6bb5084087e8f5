/*
 * cmd_plot.c: `pvt plot DIR [DIR...]`, the plots of one results directory,
 * or of several overlaid (two machines, two runs of one mode).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench/modes/modes.h"
#include "bench/common/cli.h"
#include "bench/plot/plot.h"

#define CMD "plot"
#define MAX_RUNS 8

static void help(void)
{
    printf("usage: pvt plot [--out DIR] RUN_DIR [RUN_DIR...]\n\n"
           "Draw the plots of a results directory (one pvt bench run) with gnuplot, as PNG\n"
           "and SVG, into RUN_DIR/plots/. Several directories of one mode are overlaid\n"
           "(two machines, two runs), into the first one's plots/overlay/ unless --out says.\n"
           "Each plot's data (.dat) and gnuplot script (.gp) are kept beside it.\n\n"
           "  tasks: jobs/s against workers per workload, with the ideal line\n"
           "  http:  requests/s against concurrency and against workers, latency by\n"
           "         percentile, each worker's share of the requests; heavy-burst: the\n"
           "         time to complete the burst\n"
           "  fault: failed requests and recovery per fault, and each fault's timeline\n\n"
           "  --out DIR     where the plots go\n"
           "  -h, --help    this help\n\n"
           "A run that was interrupted is plotted from what it finished.\n");
}

/* Open every directory, or exit with the reason (2: not a pvt results directory). */
static int open_runs(int n, char **dirs, struct pvt_rundir *runs)
{
    char why[PATH_MAX + 128];
    int i, rc;

    for (i = 0; i < n; i++) {
        rc = pvt_rundir_open(dirs[i], &runs[i], why, sizeof(why));
        if (rc < 0)
            pvt_usage_error(CMD, "%s", why);
        if (i > 0 && strcmp(runs[i].mode, runs[0].mode) != 0)
            pvt_usage_error(CMD, "%s is a %s run and %s a %s run: only runs of one mode overlay",
                            dirs[0], runs[0].mode, dirs[i], runs[i].mode);
        if (!runs[i].has_csv || runs[i].t.nrows == 0) {
            pvt_err(CMD, "%s: no results yet (the run stopped before its first row)", dirs[i]);
            return -ENODATA;
        }
        if (runs[i].t.truncated)
            pvt_err(CMD, "%s/results.csv: its last line is cut short; plotting the rows before "
                         "it", dirs[i]);
    }
    return 0;
}

int pvt__plot_dirs(int n, char **dirs, const char *out, int quiet)
{
    static struct pvt_rundir runs[MAX_RUNS];
    struct pvt_rundir *rp[MAX_RUNS];
    char why[1024], where[PATH_MAX];
    int i, drawn = 0, rc;

    if (n > MAX_RUNS)
        pvt_usage_error(CMD, "at most %d directories overlay", MAX_RUNS);
    if (pvt_plot_check(why, sizeof(why)) < 0) {
        pvt_err(CMD, "%s", why);
        return PVT_EXIT_FAIL;
    }
    if (open_runs(n, dirs, runs) < 0) {
        for (i = 0; i < n; i++)
            pvt_rundir_close(&runs[i]);
        return PVT_EXIT_FAIL;
    }
    for (i = 0; i < n; i++)
        rp[i] = &runs[i];
    if (out)
        snprintf(where, sizeof(where), "%s", out);
    else
        snprintf(where, sizeof(where), "%s/plots%s", dirs[0], n > 1 ? "/overlay" : "");
    if (n > 1 && !out) {
        char parent[PATH_MAX + 8];

        snprintf(parent, sizeof(parent), "%s/plots", dirs[0]);
        mkdir(parent, 0755);
    }
    if (mkdir(where, 0755) < 0 && errno != EEXIST) {
        pvt_err(CMD, "cannot make %s: %s", where, strerror(errno));
        for (i = 0; i < n; i++)
            pvt_rundir_close(&runs[i]);
        return PVT_EXIT_FAIL;
    }
    rc = pvt_plot_runs(rp, n, where, &drawn, why, sizeof(why));
    for (i = 0; i < n; i++)
        pvt_rundir_close(&runs[i]);
    if (rc == -ENOTSUP || rc == -EIO)
        pvt_err(CMD, "%s", why);
    if (rc == -ENOTSUP)
        return PVT_EXIT_FAIL;
    if (!quiet)
        printf("%d plot%s in %s/ (PNG and SVG)\n", drawn, drawn == 1 ? "" : "s", where);
    return rc < 0 ? PVT_EXIT_FAIL : PVT_EXIT_OK;
}

int pvt_cmd_plot(int argc, char **argv)
{
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL;
    int c;

    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            if (!*optarg)
                pvt_usage_error(CMD, "--out: empty path");
            out = optarg;
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
    return pvt__plot_dirs(argc - optind, argv + optind, out, 0);
}
