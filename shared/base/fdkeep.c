/*
 * fdkeep.c: close all but an allow-list of descriptors (fdkeep.h).
 */
#include "fdkeep.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

static int kept(const int *keep, int n, int fd)
{
    int i;

    if (fd <= 2)
        return 1;
    for (i = 0; i < n; i++)
        if (keep[i] == fd)
            return 1;
    return 0;
}

/* Without close_range: what /proc lists, else every number below the limit. */
static int keep_only_slow(const int *keep, int n)
{
    struct rlimit rl;
    struct dirent *e;
    DIR *d = opendir("/proc/self/fd");
    long fd, max;

    if (d) {
        while ((e = readdir(d))) {
            char *end;
            fd = strtol(e->d_name, &end, 10);
            if (*end || end == e->d_name || fd == dirfd(d) || kept(keep, n, (int)fd))
                continue;
            close((int)fd);
        }
        closedir(d);
        return 0;
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return -errno;
    max = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 65536 ? 65536 : (long)rl.rlim_cur;
    for (fd = 3; fd < max; fd++)
        if (!kept(keep, n, (int)fd))
            close((int)fd);
    return 0;
}

int pvt_fd_keep_only(int *keep, int n)
{
    unsigned lo = 3;
    int i, j, v;

    for (i = 1; i < n; i++) { /* insertion sort: the lists are short */
        v = keep[i];
        for (j = i; j > 0 && keep[j - 1] > v; j--)
            keep[j] = keep[j - 1];
        keep[j] = v;
    }
    for (i = 0; i < n; i++) {
        if (keep[i] < (int)lo)
            continue; /* negative, 0..2, or a duplicate */
        if ((unsigned)keep[i] > lo && close_range(lo, (unsigned)keep[i] - 1, 0) < 0)
            return errno == ENOSYS ? keep_only_slow(keep, n) : -errno;
        lo = (unsigned)keep[i] + 1;
    }
    if (close_range(lo, ~0u, 0) < 0)
        return errno == ENOSYS ? keep_only_slow(keep, n) : -errno;
    return 0;
}
