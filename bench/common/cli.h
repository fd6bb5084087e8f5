/*
 * cli.h: conventions shared by the pvt subcommands.
 *
 * A usage error prints one line, "pvt CMD: WHAT WAS WRONG", to stderr and
 * exits with PVT_EXIT_USAGE. A run-time failure prints one line and exits
 * with PVT_EXIT_FAIL. --help prints the command's help to stdout, exit 0.
 */
#ifndef PVT_CLI_H
#define PVT_CLI_H

#include <stdio.h>

#define PVT_EXIT_OK 0
#define PVT_EXIT_FAIL 1
#define PVT_EXIT_USAGE 2

/* Print "pvt CMD: " and the message, a newline, and exit(PVT_EXIT_USAGE). */
void pvt_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/* Print "pvt CMD: " and the message and a newline to stderr. */
void pvt_err(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct option;

/*
 * The usage error for what getopt_long (optstring starting with ':', opterr
 * 0) returned as c, ':' or '?', with the command's option table: a missing
 * value, a value given to a flag that takes none, or an unknown option.
 */
void pvt_cli_bad_option(const char *cmd, int c, const struct option *opts, char **argv)
    __attribute__((noreturn));

/* The integer s in [min, max], or a usage error naming flag. */
long pvt_cli_long(const char *cmd, const char *flag, const char *s, long min, long max);

struct pvt_plan;
struct pvt_topo;
enum pvt_place_unit;
/* One line on stderr when plan puts more workers than units (cores or PUs)
 * under pinning: the figures then include the sharing, never silently. */
void pvt_cli_warn_shared_cpus(const char *cmd, const struct pvt_plan *plan,
                              const struct pvt_topo *topo, enum pvt_place_unit unit);

/* 1 if stderr is a terminal (progress lines go there only then). */
int pvt_cli_tty(void);

/* main's own argc and argv, recorded in every results directory. */
extern int pvt_main_argc;
extern char **pvt_main_argv;

int pvt_cmd_topo(int argc, char **argv);
int pvt_cmd_bench(int argc, char **argv);
int pvt_cmd_load(int argc, char **argv);
int pvt_cmd_serve(int argc, char **argv);
int pvt_cmd_ctl(int argc, char **argv);
int pvt_cmd_plot(int argc, char **argv);
/* pvt plot's work, for pvt tour too: the plots of dirs (n of them) into
 * out (NULL: the first one's plots/). Returns an exit status. */
int pvt__plot_dirs(int n, char **dirs, const char *out, int quiet);
int pvt_cmd_report(int argc, char **argv);
int pvt_cmd_tour(int argc, char **argv);
/* pvt report's work: dir/report.md, its plots drawn first when plots is 1.
 * Returns an exit status. */
int pvt__report_dir(const char *dir, int plots, int quiet);

#endif
