/*
 * fault_spec.c: the faults fault mode can inject, by name, and the parser of
 * one --fault item (bench.h).
 */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "shared/base/parse.h"

const char *const pvt_bench_fault_names[PVT_FK_COUNT] = {
    "crash", "abort", "exit", "hang", "slow", "leak", "recycle", "restart", "scribble"};

int pvt_bench_fault_parse(const char *item, struct pvt_bench_fault *f, const char **why)
{
    char buf[64], secs[72], *worker, *at;
    uint64_t ms;
    long k;
    int i;

    *f = (struct pvt_bench_fault){.worker = -1};
    if (snprintf(buf, sizeof(buf), "%s", item) >= (int)sizeof(buf))
        return *why = "too long", -EINVAL;
    snprintf(f->label, sizeof(f->label), "%s", item);
    if ((worker = strchr(buf, ':'))) {
        *worker++ = '\0';
        if (strncmp(worker, "worker=", 7) != 0 ||
            pvt_parse_int(worker + 7, 0, PVT_MAX_WORKERS - 1, &k) < 0)
            return *why = "expected :worker=K after the kind (K a worker's number)", -EINVAL;
        f->worker = (int)k;
    }
    if ((at = strchr(buf, '@'))) {
        *at++ = '\0';
        snprintf(secs, sizeof(secs), "%ss", at);
        if ((pvt_parse_duration_ms(at, &ms) < 0 && pvt_parse_duration_ms(secs, &ms) < 0) ||
            ms == 0)
            return *why = "@SECONDS is not a time such as 1, 0.5 or 500ms", -EINVAL;
        f->at_ms = ms;
    }
    for (i = 0; i < PVT_FK_COUNT && strcmp(buf, pvt_bench_fault_names[i]) != 0; i++)
        ;
    if (i == PVT_FK_COUNT)
        return *why = "unknown fault (crash, abort, exit, hang, slow, leak, recycle, restart, "
                      "scribble)",
               -EINVAL;
    f->kind = i;
    if (PVT_BENCH_FAULT_ALL(i) && f->worker >= 0)
        return *why = ":worker does not apply to recycle and restart (every worker is replaced)",
               -EINVAL;
    return 0;
}
