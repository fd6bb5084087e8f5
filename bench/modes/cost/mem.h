/*
 * mem.h: what a process costs in memory, from /proc/PID/smaps_rollup.
 *
 * RSS counts every page a process has mapped, so pages shared by N
 * processes are counted N times. PSS divides each page by the number of
 * processes mapping it, so the PSS of a group of processes adds up to the
 * memory they really use. USS (Private_Clean + Private_Dirty) is what only
 * this process maps: what freeing it would give back.
 *
 * smaps_rollup is Linux 4.14 or later. pvt does not fall back to summing
 * /proc/PID/smaps (a walk of every mapping, slow for large processes):
 * without the file the reader says so with -ENOSYS, and the caller says
 * so in one line.
 */
#ifndef PVT_MEM_H
#define PVT_MEM_H

#include <stdint.h>
#include <sys/types.h>

/* All in KiB, as the kernel reports them ("kB"). */
struct pvt_mem {
    uint64_t rss_kb;       /* Rss */
    uint64_t pss_kb;       /* Pss */
    uint64_t uss_kb;       /* Private_Clean + Private_Dirty */
    uint64_t shared_kb;    /* Shared_Clean + Shared_Dirty */
    uint64_t anon_kb;      /* Anonymous */
    uint64_t anon_huge_kb; /* AnonHugePages: anonymous memory in transparent huge pages */
    uint64_t swap_kb;      /* Swap */
};

/*
 * Parse the text of an smaps_rollup file into *out. Every "Key: N kB" line
 * of a known key is added in, so the text of a whole smaps file (one block
 * per mapping) gives the same totals. Returns 0, or -EINVAL when the text
 * has no Rss, Pss or Private_ line (not an smaps file).
 */
int pvt_mem_parse(const char *text, struct pvt_mem *out);

/*
 * Read /proc/PID/smaps_rollup (pid 0: this process). Returns 0; -ESRCH when
 * there is no such process; -ENOSYS when the process exists but the kernel
 * has no smaps_rollup (before Linux 4.14); -EACCES when it may not be read
 * (another user's process); -EINVAL when its text cannot be parsed; or
 * another -errno of open/read.
 */
int pvt_mem_read(pid_t pid, struct pvt_mem *out);

/* One line on why pvt_mem_read failed with rc: names smaps_rollup for -ENOSYS. */
const char *pvt_mem_strerror(int rc);

#endif
