/* cli.c: error lines and terminal checks shared by the subcommands. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "shared/base/parse.h"
#include "shared/core/place.h"

static void vreport(const char *cmd, const char *fmt, va_list ap)
{
    fprintf(stderr, "pvt %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void pvt_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport(cmd, fmt, ap);
    va_end(ap);
    exit(PVT_EXIT_USAGE);
}

void pvt_err(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport(cmd, fmt, ap);
    va_end(ap);
}

void pvt_cli_bad_option(const char *cmd, int c, const struct option *opts, char **argv)
{
    const struct option *o;

    if (c == ':')
        pvt_usage_error(cmd, "%s: needs a value", argv[optind - 1]);
    /* getopt sets optopt to 0 for an unknown long option, to the option's
     * value for "--flag=VALUE" on a flag that takes none, and to the
     * character for an unknown short one (optind may not have moved on yet
     * inside a cluster such as -xy, so argv cannot name it). */
    for (o = opts; optopt > 0 && o->name; o++)
        if (o->val == optopt && o->has_arg == no_argument)
            pvt_usage_error(cmd, "--%s: takes no value", o->name);
    if (optopt > 0)
        pvt_usage_error(cmd, "unknown option '-%c' (try 'pvt %s --help')", optopt, cmd);
    pvt_usage_error(cmd, "unknown option '%s' (try 'pvt %s --help')", argv[optind - 1], cmd);
}

long pvt_cli_long(const char *cmd, const char *flag, const char *s, long min, long max)
{
    long v;
    int rc = pvt_parse_int(s, min, max, &v);

    if (rc == -ERANGE)
        pvt_usage_error(cmd, "%s: '%s' is out of range (%ld..%ld)", flag, s, min, max);
    if (rc < 0)
        pvt_usage_error(cmd, "%s: '%s' is not an integer", flag, s);
    return v;
}

int pvt_cli_tty(void)
{
    return isatty(STDERR_FILENO);
}

void pvt_cli_warn_shared_cpus(const char *cmd, const struct pvt_plan *plan,
                              const struct pvt_topo *topo, enum pvt_place_unit unit)
{
    if (!plan->oversubscribed || !plan->bind)
        return;
    pvt_err(cmd, "warning: %d workers on %d %ss: some workers share a %s (pinned as planned; "
                 "see pvt topo --workers %d)",
            plan->workers, unit == PVT_UNIT_CORE ? pvt_topo_cores(topo) : pvt_topo_pus(topo),
            pvt_place_unit_name(unit), pvt_place_unit_name(unit), plan->workers);
}
