/*
 * work.h: the workloads, the same code under every backend.
 *
 * A workload is named on the command line as NAME or NAME:ARG ("noop",
 * "cpu:50M", "hash:64K", "mem:64M", "sleep:10", "alloc:1000"). The faults
 * of fault.h are workloads too ("crash", "exit:3", "leak:64", "scribble"), marked so. Each worker
 * owns a pvt_work_ctx holding its scratch buffers, so workers never share
 * memory through a workload: with threads the only thing they share is the
 * allocator (which is the point of alloc).
 */
#ifndef PVT_WORK_H
#define PVT_WORK_H

#include <stddef.h>
#include <stdint.h>

#include "job.h"

enum pvt_workload_id {
    PVT_WL_NOOP = 0, /* returns at once: measures dispatch */
    PVT_WL_CPU,      /* the seeds' summing loop: ARG iterations */
    PVT_WL_HASH,     /* FNV-1a over an ARG-byte buffer */
    PVT_WL_MEM,      /* streams over an ARG-byte buffer (make it larger than cache) */
    PVT_WL_SLEEP,    /* sleeps ARG ms: a stand-in for waiting on I/O */
    PVT_WL_ALLOC,    /* ARG malloc/free pairs of mixed sizes */
    /* Faults (fault.h): what a buggy job does to the worker running it. */
    PVT_WL_CRASH, /* SIGSEGV from a real invalid access */
    PVT_WL_ABORT, /* abort() */
    PVT_WL_EXIT,  /* _exit(ARG) */
    PVT_WL_HANG,  /* a loop that never returns */
    PVT_WL_SLOW,  /* blocks the worker ARG ms */
    PVT_WL_LEAK,  /* ARG MiB allocated, touched, never freed */
    PVT_WL_SCRIBBLE, /* overwrites what the worker shares with its driver (ARG: a seed) */
    PVT_WL_COUNT
};

enum pvt_arg_kind { PVT_ARG_NONE, PVT_ARG_COUNT, PVT_ARG_SIZE, PVT_ARG_MS };

struct pvt_workload {
    const char *name;
    enum pvt_arg_kind arg_kind;
    uint64_t default_arg;
    uint64_t max_arg;
    const char *summary;
    int fault; /* 1: a fault, never part of a measured sweep */
};

extern const struct pvt_workload pvt_workloads[PVT_WL_COUNT];

/*
 * Parse "NAME" or "NAME:ARG". Returns 0, -ENOENT for an unknown name,
 * -EINVAL for a malformed argument (or one given to noop), -ERANGE for an
 * argument of 0 or above the workload's maximum.
 */
int pvt_workload_parse(const char *spec, uint32_t *id, uint64_t *arg);

/* "cpu:50000000" for (PVT_WL_CPU, 50000000). Returns snprintf's length. */
int pvt_workload_format(uint32_t id, uint64_t arg, char *buf, size_t len);

/* A worker's scratch space. Zero it, or use pvt_work_ctx_init. */
struct pvt_work_ctx {
    unsigned char *hash_buf; /* hash: a byte pattern, grown on demand */
    size_t hash_len;
    uint64_t *mem_buf; /* mem: words 0, 1, 2, ..., grown on demand */
    size_t mem_words;
};

void pvt_work_ctx_init(struct pvt_work_ctx *ctx);
void pvt_work_ctx_fini(struct pvt_work_ctx *ctx);

/*
 * Run one job and return its value. A workload whose memory cannot be
 * allocated returns PVT_WORK_ENOMEM (a value that could also be a result, so
 * callers that check results compare against pvt_work_expected).
 */
uint64_t pvt_work_run(struct pvt_work_ctx *ctx, const struct pvt_job *job);
#define PVT_WORK_ENOMEM UINT64_MAX

/*
 * The value a correct run of (id, arg) returns, computed independently of
 * pvt_work_run (closed forms and a plain reference loop). For tests.
 */
uint64_t pvt_work_expected(uint32_t id, uint64_t arg);

#endif
