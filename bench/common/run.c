/*
 * run.c: what every bench run shares: the interrupt flag, the command line
 * it records in meta.json, its error and progress lines, medians and
 * human-readable numbers, and the route that serves a workload.
 */
#include "run.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "cli.h"
#include "shared/work/work.h"

#define CMD "bench"

volatile sig_atomic_t pvt_bench_interrupted;
int pvt_main_argc;
char **pvt_main_argv;

/* 1 while a progress line is on the terminal: an error line clears it first. */
static int progress_shown;

void pvt__bench_err(const char *fmt, ...)
{
    va_list ap;

    if (progress_shown)
        fputs("\r\033[K", stderr);
    progress_shown = 0;
    fprintf(stderr, "pvt %s: ", CMD);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void pvt__bench_progress(const char *fmt, ...)
{
    va_list ap;

    fputs("\r\033[K", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fflush(stderr);
    progress_shown = 1;
}

void pvt__bench_progress_clear(void)
{
    if (progress_shown)
        fprintf(stderr, "\r\033[K");
    progress_shown = 0;
}

int pvt_bench_route(uint32_t wl, uint64_t arg, char *buf, size_t len)
{
    int n;

    switch (wl) {
    case PVT_WL_NOOP:
        n = snprintf(buf, len, "/");
        break;
    case PVT_WL_CPU:
        n = snprintf(buf, len, "/cpu?n=%llu", (unsigned long long)arg);
        break;
    case PVT_WL_HASH:
        n = snprintf(buf, len, "/hash?bytes=%llu", (unsigned long long)arg);
        break;
    case PVT_WL_MEM: /* the route reads 64-bit words: 8 bytes at least */
        if (arg < 8)
            return -ERANGE;
        n = snprintf(buf, len, "/mem?bytes=%llu", (unsigned long long)arg);
        break;
    case PVT_WL_SLEEP: /* the route sleeps a minute at most */
        if (arg > 60000)
            return -ERANGE;
        n = snprintf(buf, len, "/sleep?ms=%llu", (unsigned long long)arg);
        break;
    default:
        return -ENOENT;
    }
    return n < (int)len ? n : -ENOSPC;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

double pvt_bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

const char *pvt_bench_human(double v, char *buf, size_t len)
{
    if (v >= 1e9)
        snprintf(buf, len, "%.2fG", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, len, "%.2fM", v / 1e6);
    else if (v >= 1e3)
        snprintf(buf, len, "%.1fk", v / 1e3);
    else
        snprintf(buf, len, "%.1f", v);
    return buf;
}

const char *pvt_bench_csv_num(char *buf, double v, int digits)
{
    if (isnan(v))
        buf[0] = '\0';
    else
        snprintf(buf, 64, "%.*f", digits, v);
    return buf;
}
