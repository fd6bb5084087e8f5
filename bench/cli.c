/* cli.c: error lines and terminal checks shared by the subcommands. */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

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

int pvt_cli_tty(void)
{
    return isatty(STDERR_FILENO);
}
