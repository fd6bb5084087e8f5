/*
 * main.c: `pvt`, one binary for every subcommand.
 */
#include <stdio.h>
#include <string.h>

#include "build_info.h"
#include "bench/common/cli.h"
#include "shared/core/pvt.h"

struct subcmd {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct subcmd subcmds[] = {
    {"topo", pvt_cmd_topo, "show the CPU topology and where workers would be pinned"},
    {"bench", pvt_cmd_bench, "measure the backends side by side and write a results directory"},
    {"serve", pvt_cmd_serve, "serve HTTP from N workers (processes or threads) on one port"},
    {"load", pvt_cmd_load, "drive an HTTP server on loopback and measure its throughput and latency"},
    {"ctl", pvt_cmd_ctl, "control a running pvt serve: status, rolling restart, scale, stop"},
    {"plot", pvt_cmd_plot, "draw a results directory's plots (PNG and SVG) with gnuplot"},
    {"tour", pvt_cmd_tour, "run every lesson on this machine, then plot and report (the main job)"},
    {"report", pvt_cmd_report, "write a results directory's report.md: verdicts, tables, plots"},
    {NULL, NULL, NULL},
};

static void usage(FILE *f)
{
    const struct subcmd *c;

    fprintf(f, "usage: pvt COMMAND [OPTIONS]\n\n"
               "Processes or threads? pvt runs the same work on forked worker processes and on\n"
               "a pool of threads, pinned to cores, and measures the difference.\n\n"
               "commands:\n");
    for (c = subcmds; c->name; c++)
        fprintf(f, "  %-8s %s\n", c->name, c->summary);
    fprintf(f, "\n'pvt COMMAND --help' describes a command's options.\n");
}


int main(int argc, char **argv)
{
    const struct subcmd *c;

    pvt_main_argc = argc;
    pvt_main_argv = argv;
    if (argc < 2) {
        fprintf(stderr, "pvt: missing command (try 'pvt --help')\n");
        return PVT_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return PVT_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("pvt %s (%s)\n", PVT_VERSION, PVT_GIT_REV);
        return PVT_EXIT_OK;
    }
    for (c = subcmds; c->name; c++)
        if (strcmp(argv[1], c->name) == 0)
            return c->run(argc - 1, argv + 1);
    fprintf(stderr, "pvt: unknown command '%s' (try 'pvt --help')\n", argv[1]);
    return PVT_EXIT_USAGE;
}
