/*
 * work.c: the workloads. Each returns a value that depends on all of its
 * work, so the compiler cannot drop any of it, and that a test can check
 * against pvt_work_expected().
 */
#include "work.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fault.h"
#include "shared/base/parse.h"

const struct pvt_workload pvt_workloads[PVT_WL_COUNT] = {
    [PVT_WL_NOOP] = {"noop", PVT_ARG_NONE, 0, 0, "returns at once: the cost of dispatch alone", 0},
    [PVT_WL_CPU] = {"cpu", PVT_ARG_COUNT, 1000000, 100000000000ull,
                    "the seeds' summing loop, ARG iterations (cpu:50M is the seeds' /heavy)", 0},
    [PVT_WL_HASH] = {"hash", PVT_ARG_SIZE, 64 * 1024, 1ull << 30,
                     "FNV-1a over an ARG-byte buffer", 0},
    [PVT_WL_MEM] = {"mem", PVT_ARG_SIZE, 64ull << 20, 4ull << 30,
                    "sums an ARG-byte buffer, streaming it from memory", 0},
    [PVT_WL_SLEEP] = {"sleep", PVT_ARG_MS, 10, 3600000, "sleeps ARG ms: waiting on I/O", 0},
    [PVT_WL_ALLOC] = {"alloc", PVT_ARG_COUNT, 1000, 1000000000ull,
                      "ARG malloc/free pairs of 16..4095 bytes", 0},
    [PVT_WL_CRASH] = {"crash", PVT_ARG_NONE, 0, 0, "SIGSEGV from a real invalid access", 1},
    [PVT_WL_ABORT] = {"abort", PVT_ARG_NONE, 0, 0, "abort(): SIGABRT", 1},
    [PVT_WL_EXIT] = {"exit", PVT_ARG_COUNT, 1, 255, "_exit(ARG), default 1", 1},
    [PVT_WL_HANG] = {"hang", PVT_ARG_NONE, 0, 0, "a loop that never returns", 1},
    [PVT_WL_SLOW] = {"slow", PVT_ARG_MS, 100, 3600000, "blocks the worker ARG ms", 1},
    [PVT_WL_LEAK] = {"leak", PVT_ARG_COUNT, 16, 4096, "ARG MiB allocated, touched, never freed",
                     1},
    [PVT_WL_SCRIBBLE] = {"scribble", PVT_ARG_COUNT, 0, UINT32_MAX,
                         "overwrites the memory the worker shares with its driver: 0xff, "
                         "or random bytes from seed ARG",
                         1},
};

int pvt_workload_parse(const char *spec, uint32_t *id, uint64_t *arg)
{
    const char *colon = strchr(spec, ':');
    size_t namelen = colon ? (size_t)(colon - spec) : strlen(spec);
    const struct pvt_workload *w = NULL;
    uint32_t i;
    uint64_t v;
    int rc;

    for (i = 0; i < PVT_WL_COUNT; i++) {
        if (strlen(pvt_workloads[i].name) == namelen &&
            strncmp(pvt_workloads[i].name, spec, namelen) == 0) {
            w = &pvt_workloads[i];
            break;
        }
    }
    if (!w)
        return -ENOENT;
    if (!colon) {
        *id = i;
        *arg = w->default_arg;
        return 0;
    }
    switch (w->arg_kind) {
    case PVT_ARG_NONE:
        return -EINVAL;
    case PVT_ARG_COUNT:
        rc = pvt_parse_count(colon + 1, &v);
        break;
    case PVT_ARG_SIZE:
        rc = pvt_parse_size(colon + 1, &v);
        break;
    case PVT_ARG_MS:
        /* "sleep:10" is 10 ms; "sleep:1s" and "sleep:250ms" work too. */
        rc = pvt_parse_count(colon + 1, &v);
        if (rc == -EINVAL)
            rc = pvt_parse_duration_ms(colon + 1, &v);
        break;
    default:
        return -EINVAL;
    }
    if (rc < 0)
        return rc;
    if (v == 0 || v > w->max_arg)
        return -ERANGE;
    if (i == PVT_WL_MEM && v < sizeof(uint64_t))
        return -ERANGE;
    *id = i;
    *arg = v;
    return 0;
}

int pvt_workload_format(uint32_t id, uint64_t arg, char *buf, size_t len)
{
    if (id >= PVT_WL_COUNT)
        return snprintf(buf, len, "unknown");
    /* An argument of 0 is only ever a default (scribble's 0xff pattern). */
    if (pvt_workloads[id].arg_kind == PVT_ARG_NONE || arg == 0)
        return snprintf(buf, len, "%s", pvt_workloads[id].name);
    return snprintf(buf, len, "%s:%llu", pvt_workloads[id].name, (unsigned long long)arg);
}

void pvt_work_ctx_init(struct pvt_work_ctx *ctx)
{
    memset(ctx, 0, sizeof(*ctx));
}

void pvt_work_ctx_fini(struct pvt_work_ctx *ctx)
{
    free(ctx->hash_buf);
    free(ctx->mem_buf);
    memset(ctx, 0, sizeof(*ctx));
}

/* The byte at position i of the hash buffer. */
static inline unsigned char hash_byte(uint64_t i)
{
    return (unsigned char)((i * 131u + 7u) ^ (i >> 9));
}

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static uint64_t run_cpu(uint64_t n)
{
    uint64_t sum = 0, i;

    /* The empty asm makes the compiler keep every addition, as the seeds'
     * JavaScript loop does, instead of computing n(n-1)/2 at once. */
    for (i = 0; i < n; i++) {
        sum += i;
        __asm__ __volatile__("" : "+r"(sum));
    }
    return sum;
}

static uint64_t run_hash(struct pvt_work_ctx *ctx, uint64_t len)
{
    uint64_t h = FNV_OFFSET, i;

    if (ctx->hash_len < len) {
        unsigned char *b = realloc(ctx->hash_buf, len);
        if (!b)
            return PVT_WORK_ENOMEM;
        for (i = ctx->hash_len; i < len; i++)
            b[i] = hash_byte(i);
        ctx->hash_buf = b;
        ctx->hash_len = len;
    }
    for (i = 0; i < len; i++) {
        h ^= ctx->hash_buf[i];
        h *= FNV_PRIME;
    }
    return h;
}

static uint64_t run_mem(struct pvt_work_ctx *ctx, uint64_t bytes)
{
    uint64_t words = bytes / sizeof(uint64_t), sum = 0, i;

    if (ctx->mem_words < words) {
        uint64_t *b = realloc(ctx->mem_buf, words * sizeof(uint64_t));
        if (!b)
            return PVT_WORK_ENOMEM;
        for (i = ctx->mem_words; i < words; i++)
            b[i] = i;
        ctx->mem_buf = b;
        ctx->mem_words = words;
    }
    for (i = 0; i < words; i++)
        sum += ctx->mem_buf[i];
    return sum;
}

static uint64_t run_sleep(uint64_t ms)
{
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
    return ms;
}

/* The allocation sizes: a xorshift sequence mapped to 16..4095 bytes. */
static inline uint64_t next_size(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return 16 + *x % 4080;
}

#define ALLOC_WINDOW 16

static uint64_t run_alloc(uint64_t n)
{
    void *live[ALLOC_WINDOW] = {0};
    uint64_t x = 0x9e3779b97f4a7c15ull, total = 0, i;
    int ok = 1;

    /* Keep a window of blocks alive so the allocator does real work,
     * not the same block handed back and forth. */
    for (i = 0; i < n; i++) {
        uint64_t size = next_size(&x);
        unsigned k = (unsigned)(i % ALLOC_WINDOW);
        unsigned char *p;

        free(live[k]);
        p = malloc(size);
        live[k] = p;
        if (!p) {
            ok = 0;
            continue;
        }
        p[0] = (unsigned char)i;
        p[size - 1] = (unsigned char)i;
        __asm__ __volatile__("" : : "r"(p) : "memory");
        total += size;
    }
    for (i = 0; i < ALLOC_WINDOW; i++)
        free(live[i]);
    return ok ? total : PVT_WORK_ENOMEM;
}

uint64_t pvt_work_run(struct pvt_work_ctx *ctx, const struct pvt_job *job)
{
    switch (job->workload) {
    case PVT_WL_NOOP:
        return 0;
    case PVT_WL_CPU:
        return run_cpu(job->arg);
    case PVT_WL_HASH:
        return run_hash(ctx, job->arg);
    case PVT_WL_MEM:
        return run_mem(ctx, job->arg);
    case PVT_WL_SLEEP:
        return run_sleep(job->arg);
    case PVT_WL_ALLOC:
        return run_alloc(job->arg);
    case PVT_WL_CRASH:
        pvt_fault_crash();
    case PVT_WL_ABORT:
        pvt_fault_abort();
    case PVT_WL_EXIT:
        pvt_fault_exit((int)job->arg);
    case PVT_WL_HANG:
        pvt_fault_hang();
    case PVT_WL_SLOW:
        return pvt_fault_slow(job->arg);
    case PVT_WL_LEAK:
        return pvt_fault_leak(job->arg);
    case PVT_WL_SCRIBBLE:
        return pvt_fault_scribble(job->arg);
    default:
        return 0;
    }
}

uint64_t pvt_work_expected(uint32_t id, uint64_t arg)
{
    uint64_t h = FNV_OFFSET, x = 0x9e3779b97f4a7c15ull, total = 0, i;
    unsigned __int128 n;

    switch (id) {
    case PVT_WL_CPU:
        n = arg;
        return arg ? (uint64_t)(n * (n - 1) / 2) : 0;
    case PVT_WL_HASH:
        for (i = 0; i < arg; i++) {
            h ^= hash_byte(i);
            h *= FNV_PRIME;
        }
        return h;
    case PVT_WL_MEM:
        n = arg / sizeof(uint64_t);
        return n ? (uint64_t)(n * (n - 1) / 2) : 0;
    case PVT_WL_SLEEP:
    case PVT_WL_SLOW:
        return arg;
    case PVT_WL_LEAK:
        return arg << 20;
    case PVT_WL_ALLOC:
        for (i = 0; i < arg; i++)
            total += next_size(&x);
        return total;
    default:
        return 0;
    }
}
