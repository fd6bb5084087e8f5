/*
 * mem.c: RSS, PSS and USS from /proc/PID/smaps_rollup (see mem.h).
 */
#include "mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MEM_MAX_TEXT (64 * 1024) /* smaps_rollup is about 1 KiB */

static const struct {
    const char *key;
    size_t off;
    int need; /* a bit of MEM_NEED: the text must have a line for it */
} mem_keys[] = {
    {"Rss", offsetof(struct pvt_mem, rss_kb), 1},
    {"Pss", offsetof(struct pvt_mem, pss_kb), 2},
    {"Private_Clean", offsetof(struct pvt_mem, uss_kb), 4},
    {"Private_Dirty", offsetof(struct pvt_mem, uss_kb), 4},
    {"Shared_Clean", offsetof(struct pvt_mem, shared_kb), 0},
    {"Shared_Dirty", offsetof(struct pvt_mem, shared_kb), 0},
    {"Anonymous", offsetof(struct pvt_mem, anon_kb), 0},
    {"AnonHugePages", offsetof(struct pvt_mem, anon_huge_kb), 0},
    {"Swap", offsetof(struct pvt_mem, swap_kb), 0},
};
#define MEM_NEED  7 /* Rss, Pss and a Private_ line */
#define MEM_NKEYS (sizeof(mem_keys) / sizeof(mem_keys[0]))

int pvt_mem_parse(const char *text, struct pvt_mem *out)
{
    const char *line = text;
    int seen = 0;

    memset(out, 0, sizeof(*out));
    while (line && *line) {
        const char *colon = strchr(line, ':'), *nl = strchr(line, '\n');
        size_t i, klen;

        if (colon && (!nl || colon < nl)) {
            klen = (size_t)(colon - line);
            for (i = 0; i < MEM_NKEYS; i++) {
                char *end;
                unsigned long long v;
                if (strlen(mem_keys[i].key) != klen || strncmp(line, mem_keys[i].key, klen) != 0)
                    continue;
                errno = 0;
                v = strtoull(colon + 1, &end, 10);
                if (errno || end == colon + 1)
                    return -EINVAL;
                *(uint64_t *)((char *)out + mem_keys[i].off) += v;
                seen |= mem_keys[i].need;
                break;
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    return seen == MEM_NEED ? 0 : -EINVAL;
}

/* The whole of a small file, NUL-terminated, into buf. Returns 0 or -errno. */
static int slurp(const char *path, char *buf, size_t len)
{
    size_t got = 0;
    int fd, err;

    do {
        fd = open(path, O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return -errno;
    while (got < len - 1) {
        ssize_t n = read(fd, buf + got, len - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err = errno;
            close(fd);
            return -err;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    return 0;
}

int pvt_mem_read(pid_t pid, struct pvt_mem *out)
{
    char path[64], *text;
    struct stat st;
    int rc;

    if (pid == 0)
        pid = getpid();
    snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
    text = malloc(MEM_MAX_TEXT);
    if (!text)
        return -ENOMEM;
    rc = slurp(path, text, MEM_MAX_TEXT);
    if (rc == -ENOENT) {
        /* Gone, or a kernel from before smaps_rollup: /proc/PID tells which. */
        snprintf(path, sizeof(path), "/proc/%d", (int)pid);
        rc = stat(path, &st) == 0 ? -ENOSYS : -ESRCH;
    } else if (rc == 0) {
        rc = pvt_mem_parse(text, out);
        /* A process that has exited but is not reaped yet has an empty file. */
        if (rc == -EINVAL && text[0] == '\0')
            rc = -ESRCH;
    }
    free(text);
    return rc;
}

const char *pvt_mem_strerror(int rc)
{
    if (rc == -ENOSYS)
        return "this kernel has no /proc/PID/smaps_rollup (Linux 4.14 or later), so PSS and "
               "USS cannot be read";
    if (rc == -EINVAL)
        return "/proc/PID/smaps_rollup has no Rss, Pss or Private_ lines";
    return strerror(-rc);
}
