/*
 * cmd_bench_help.c: `pvt bench --help`, every mode's flags.
 */
#include <stdio.h>

#include "backends.h"
#include "bench.h"
#include "bench_cost.h"
#include "bench_state.h"
#include "load.h"
#include "work.h"

void pvt__bench_help(void)
{
    const struct pvt_pool_ops *const *b;
    int i;

    printf("usage: pvt bench --mode tasks|http|fault|cost|state [OPTIONS]\n\n"
           "Runs every combination of the lists given, --repeat times each after --warmup\n"
           "unrecorded runs, prints a table and writes DIR/meta.json and DIR/results.csv\n"
           "(see results/README.md).\n\n"
           "  --mode MODE          tasks: jobs through each backend's queue, no network\n"
           "                       http: `pvt serve` driven by `pvt load` over loopback, each\n"
           "                       a child process on its own CPUs\n"
           "                       fault: the same at a constant rate, a fault injected into\n"
           "                       one worker, the loss and the recovery in 10 ms bins\n"
           "                       cost: what a worker costs to start, to keep and to talk\n"
           "                       to, for each backend beside bare fork, pthread_create,\n"
           "                       posix_spawn and vfork\n"
           "                       state: one counter bumped by every worker, kept six ways\n"
           "                       (atomic, mutex, plain global, shared memory, messages)\n"
           "  --backend LIST       backends to compare (default proc,thread):\n");
    for (b = pvt_backends; *b; b++)
        printf("                         %-7s %s\n", (*b)->name, (*b)->summary);
    for (b = pvt_references; *b; b++)
        printf("                         %-7s %s (tasks only)\n", (*b)->name, (*b)->summary);
    printf("  --workers LIST       worker counts, e.g. 1,2,4 or 1-8 (default 1, doubling, up to\n"
           "                       the cores; http: up to the server CPUs)\n"
           "  --workload LIST      workloads, NAME or NAME:ARG (default noop,cpu:1M; http: noop,\n"
           "                       served as / /cpu?n= /hash?bytes= /mem?bytes= /sleep?ms=):\n");
    for (i = 0; i < PVT_WL_COUNT; i++)
        if (!pvt_workloads[i].fault)
            printf("                         %-7s %s\n", pvt_workloads[i].name,
                   pvt_workloads[i].summary);
    printf(
        "  --repeat R           recorded repetitions of each configuration (default 5; http 3)\n"
        "  --warmup W           unrecorded repetitions before them (default 1)\n"
        "  --pin POLICY         none, compact or scatter (default compact)\n"
        "  --unit UNIT          core or pu: what one worker is pinned to (default core)\n"
        "  --out DIR            results directory, new or empty (default results/DATE-TIME-MODE)\n"
        "  --quiet              no progress line\n"
        "  -h, --help           this help\n\n"
        "tasks mode:\n"
        "  --jobs N             jobs per repetition (default: enough for --target)\n"
        "  --target DURATION    aim of one repetition when --jobs is not given (default 250ms)\n"
        "  --queue-depth N      jobs in flight per worker, a power of two (default 4096)\n\n"
        "http mode (one server per backend x distribution x workers, kept for its runs):\n"
        "  --distribution LIST  how workers share the port: shared (one socket, all accept),\n"
        "                       reuseport (a socket each), rr (handed out in turn)\n"
        "                       (default shared,reuseport,rr)\n"
        "  --concurrency LIST   connections kept open by the client (default 1,16,64; 1..%d)\n"
        "  --duration S         seconds per measured run: 3, 0.5, 500ms (default 3); a warm-up\n"
        "                       run lasts 1 s or S if shorter\n"
        "  --requests N         instead of --duration: send exactly N requests per run\n"
        "  --timeout MS         per request, as pvt load --timeout (default 2000)\n"
        "  --threads N          client threads at most (default: one per client CPU, never\n"
        "                       more than the concurrency)\n"
        "  --server-cpus LIST   CPUs of the server, e.g. 0-5 (default: all but the client's)\n"
        "  --client-cpus LIST   CPUs of the client (default: the top quarter of the allowed\n"
        "                       CPUs, at least one; with one CPU both share it)\n"
        "  --preset NAME        defaults for a known experiment (flags given still win):\n"
        "                         concurrency-table  the seeds' requests/s table: proc,thread,\n"
        "                           workers 1 and all server CPUs, rr, concurrency 1,2,4,8,16,\n"
        "                           noop and cpu:1M\n"
        "                         heavy-burst  the seeds' burst: 1200 requests, 400 at a time,\n"
        "                           on cpu:50M; workers 1 and all server CPUs, rr and shared,\n"
        "                           repeat 1, no warm-up, timeout 30000 ms (ab's)\n"
        "                       With fewer than 4 CPUs and no --server-cpus/--client-cpus, a\n"
        "                       preset gives the server and the client all of them.\n\n"
        "fault mode (a fresh server per backend x fault x repetition; --workers, --distribution,\n"
        "--concurrency and --workload take one value each: default 2, rr, 16, noop; --duration\n"
        "default 3, --timeout default 1000, --repeat default 3; with fewer than 4 CPUs the server\n"
        "and the client share all of them):\n"
        "  --fault LIST         faults, each KIND[@SECONDS][:worker=K] (default crash; SECONDS\n"
        "                       after the load starts, default a third of --duration; K the\n"
        "                       worker it is sent to, default 0). KIND:\n"
        "                         crash    GET /crash (SIGSEGV)     abort  GET /abort\n"
        "                         exit     GET /exit?code=%d        slow   GET /slow?ms=%d\n"
        "                         hang     GET /hang, the server under --worker-timeout\n"
        "                         leak     GET /leak?mb=%d again and again until the worker\n"
        "                                  is recycled (proc, under --max-rss) or its process\n"
        "                                  passes --max-rss (thread, which cannot recycle)\n"
        "                         recycle  no request: the server under --max-jobs, due about\n"
        "                                  SECONDS in (proc only; thread rows are skipped)\n"
        "                         restart  no request: SIGHUP to the server, a rolling\n"
        "                                  restart of every worker, one at a time\n"
        "  --rate R             requests/s of the open-loop load (default 5000)\n"
        "  --worker-timeout MS  pvt serve's hang watchdog for hang (default 500, at least 200)\n"
        "  --max-rss MB         pvt serve's RSS limit for leak (default 64)\n\n"
        "cost mode (--workers is the N of the startup and memory sections, default\n"
        "1,2,4,8,16,32,64; --workload takes one value, default mem:1M, run by the memory and\n"
        "sched sections; --repeat default 5):\n"
        "  --section LIST       what to measure (default all of them):\n"
        "                         startup  N workers created until all are ready, then reaped\n"
        "                         heap     the same, 1 worker, as the primary's touched heap grows\n"
        "                         memory   RSS, PSS and USS of N workers, idle and after jobs\n"
        "                         cow      a dataset loaded before forking %d workers: read,\n"
        "                                  then written (copy-on-write)\n"
        "                         sched    context switches, migrations, minor faults per job,\n"
        "                                  pinned and unpinned\n"
        "                         ipc      primary <-> worker round trip per mechanism, on one\n"
        "                                  CPU and across two\n"
        "  --heap LIST          touched heap sizes of the heap section (default 10M,100M,1G)\n"
        "  --dataset SIZE       the cow section's dataset (default 64M)\n"
        "  --preset quick       a smaller sweep: workers 1,4,16, heap 10M,100M, dataset 16M,\n"
        "                       repeat 3 (flags given still win)\n",
        PVT_LOAD_MAX_CONNS, PVT_BENCH_EXIT_CODE, PVT_BENCH_SLOW_MS, PVT_BENCH_LEAK_MB,
        PVT_COST_COW_WORKERS);
    printf("\nstate mode (a fresh set of workers for every repetition; --backend keeps the\n"
           "variants of the kinds it names; --repeat default 5):\n"
           "  --variant LIST       ways to keep the counter (default all of them):\n"
           "                         thread-atomic    threads, atomic_fetch_add on one counter\n"
           "                         thread-mutex     threads, ++ under one pthread mutex\n"
           "                         thread-naive     threads, ++ on a plain global: a data\n"
           "                                          race on purpose, updates get lost\n"
           "                         proc-naive       processes, ++ on the same global: each\n"
           "                                          has its own copy, the primary sees none\n"
           "                         proc-shm-atomic  processes, atomic_fetch_add in MAP_SHARED\n"
           "                                          memory mapped before fork\n"
           "                         proc-msg         processes, each sends its increments to\n"
           "                                          the primary over a socket\n"
           "  --updates N          updates per worker and repetition (default: enough for\n"
           "                       --target, 250ms, sized per variant and worker count)\n"
           "  --batch N            proc-msg: increments per message (default 1: a message\n"
           "                       per update)\n");
}
