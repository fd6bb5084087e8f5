/* cli.c: error lines and terminal checks shared by the subcommands. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "parse.h"

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
