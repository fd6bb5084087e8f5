/* cli.c: error lines and terminal checks shared by the subcommands. */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

void pvt_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "pvt %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(PVT_EXIT_USAGE);
}

void pvt_err(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "pvt %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int pvt_cli_tty(void)
{
    return isatty(STDERR_FILENO);
}
