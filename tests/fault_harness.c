/*
 * fault_harness.c: helpers for the fault tests (fault_harness.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fault_harness.h"
#include "shared/work/work.h"

#define MAX_POOLS 4

uint64_t fh_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void fh_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* ---- forked children ---- */

void fh_child_setup(unsigned alarm_s)
{
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGALRM, SIGSYS};
    struct sigaction sa = {.sa_handler = SIG_DFL};
    struct rlimit core = {0, 0};
    size_t i;

    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &sa, NULL);
    setrlimit(RLIMIT_CORE, &core);
    alarm(alarm_s);
}

int fh_reap_child(pid_t pid, int ms)
{
    uint64_t end = fh_now_ms() + (uint64_t)ms;
    pid_t r;
    int st = 0;

    while ((r = waitpid(pid, &st, WNOHANG)) == 0 && fh_now_ms() < end)
        fh_sleep_ms(5);
    if (r == 0) {
        kill(pid, SIGKILL);
        while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
            ;
    }
    if (r != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1000 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

int fh_run_in_child(int (*fn)(void *), void *arg, unsigned alarm_s)
{
    pid_t pid;

    fflush(NULL);
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        fh_child_setup(alarm_s);
        _exit(fn(arg));
    }
    return fh_reap_child(pid, (int)(alarm_s + 10) * 1000);
}

/* ---- /proc ---- */

int fh_count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    if (!d)
        return -errno;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1; /* opendir's own descriptor */
}

int fh_count_threads(void)
{
    char line[256];
    int n = -1;
    FILE *f = fopen("/proc/self/status", "re");

    if (!f)
        return -errno;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "Threads: %d", &n) == 1)
            break;
    fclose(f);
    return n;
}

char fh_proc_state(pid_t pid)
{
    char path[64], buf[512], *p;
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
    return p && p[1] == ' ' ? p[2] : 0;
}

int fh_children(pid_t *out, int max, int *zombies)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    char path[300], buf[4096], *p, *end;
    int n = 0, fd;
    ssize_t len;
    long v;

    *zombies = 0;
    if (!d)
        return -errno;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/proc/self/task/%s/children", e->d_name);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            n = -errno;
            break;
        }
        len = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (len < 0)
            continue; /* a thread that ended meanwhile */
        buf[len] = '\0';
        for (p = buf;; p = end) {
            v = strtol(p, &end, 10);
            if (end == p)
                break;
            if (out && n < max)
                out[n] = (pid_t)v;
            *zombies += fh_proc_state((pid_t)v) == 'Z';
            n++;
        }
    }
    closedir(d);
    return n;
}

int fh_gone(pid_t pid)
{
    return kill(pid, 0) == -1 && errno == ESRCH;
}

long fh_proc_syscall(pid_t pid)
{
    char path[64], buf[128];
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -2;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -2;
    buf[n] = '\0';
    if (buf[0] < '0' || buf[0] > '9')
        return -1; /* "running" */
    return strtol(buf, NULL, 10);
}

long fh_rss_kb(pid_t pid)
{
    char path[64];
    long size, rss;
    FILE *f;
    int ok;

    snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
    f = fopen(path, "re");
    if (!f)
        return -1;
    ok = fscanf(f, "%ld %ld", &size, &rss) == 2;
    fclose(f);
    return ok ? rss * (sysconf(_SC_PAGESIZE) / 1024) : -1;
}

/* ---- pools ---- */

static struct {
    const struct pvt_pool_ops *ops;
    struct pvt_pool *p;
} pools[MAX_POOLS];

struct pvt_pool *fh_pool_open_or_fail(const struct pvt_pool_ops *ops,
                                      const struct pvt_pool_cfg *cfg, const char *what)
{
    struct pvt_pool *p = NULL;
    int i, rc;

    for (i = 0; i < MAX_POOLS && pools[i].p; i++)
        ;
    if (i == MAX_POOLS)
        fail_msg("test bug: more than %d pools open", MAX_POOLS);
    rc = ops->create(cfg, &p);
    if (rc < 0 || !p)
        fail_msg("[%s] %s: create(workers=%d) returned %d", ops->name, what, cfg->workers, rc);
    pools[i].ops = ops;
    pools[i].p = p;
    return p;
}

void fh_pool_close(struct pvt_pool *p)
{
    int i;

    for (i = 0; i < MAX_POOLS; i++) {
        if (pools[i].p == p) {
            pools[i].ops->destroy(p);
            pools[i].p = NULL;
            return;
        }
    }
    fail_msg("test bug: closing a pool that is not open");
}

int fh_teardown(void **state)
{
    int i;

    (void)state;
    for (i = 0; i < MAX_POOLS; i++) {
        if (pools[i].p)
            pools[i].ops->destroy(pools[i].p);
        pools[i].p = NULL;
    }
    return 0;
}

void fh_stats_or_fail(const struct pvt_pool_ops *ops, struct pvt_pool *p, struct pvt_pool_stats *st,
                      struct pvt_worker_stats *w)
{
    int rc;

    memset(st, 0, sizeof(*st));
    st->w = w;
    rc = ops->stats(p, st);
    if (rc != 0)
        fail_msg("[%s] stats returned %d", ops->name, rc);
}

void fh_wait_slot_or_fail(const struct pvt_pool_ops *ops, struct pvt_pool *p, int slot, pid_t old,
                          struct pvt_pool_stats *st, struct pvt_worker_stats *w)
{
    uint64_t end = fh_now_ms() + FH_GUARD_MS;

    for (;;) {
        fh_stats_or_fail(ops, p, st, w);
        if (w[slot].state == PVT_W_READY && w[slot].pid > 0 && w[slot].pid != old)
            return;
        if (fh_now_ms() > end)
            break;
        fh_sleep_ms(1);
    }
    fail_msg("[%s] slot %d has no new ready worker (state %d, pid %d, was %d)", ops->name, slot,
             w[slot].state, (int)w[slot].pid, (int)old);
}

void fh_no_children_or_fail(const char *when)
{
    pid_t r = waitpid(-1, NULL, WNOHANG);
    int e = errno;

    if (r != -1 || e != ECHILD)
        fail_msg("%s: a child process is left (waitpid: %d, errno %d)", when, (int)r, e);
}

/* ---- results ---- */

static void record(struct fh_seen *s, const struct pvt_result *r, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        s->got++;
        if (r[i].id >= FH_MAX_IDS) {
            s->stray++;
            continue;
        }
        s->count[r[i].id]++;
        s->status[r[i].id] = r[i].status;
        s->worker[r[i].id] = r[i].worker;
        s->value[r[i].id] = r[i].value;
    }
}

void fh_collect(const struct pvt_pool_ops *ops, struct pvt_pool *p, struct fh_seen *s, int want,
                int guard_ms)
{
    uint64_t end = fh_now_ms() + (uint64_t)guard_ms;
    struct pvt_result res[64];
    int rc;

    while (s->got < want && fh_now_ms() < end) {
        rc = ops->collect(p, res, 64, 100);
        if (rc < 0) {
            s->rc = rc;
            return;
        }
        record(s, res, rc);
    }
}

int fh_submit_all(const struct pvt_pool_ops *ops, struct pvt_pool *p, const struct pvt_job *jobs,
                  int n, struct fh_seen *s)
{
    uint64_t end = fh_now_ms() + FH_GUARD_MS;
    struct pvt_result res[64];
    int k = 0, rc;

    while (k < n) {
        rc = ops->submit(p, jobs + k, n - k);
        if (rc > 0) {
            k += rc;
            continue;
        }
        if (rc != -EAGAIN)
            return rc;
        if (fh_now_ms() > end)
            return -ETIMEDOUT;
        rc = ops->collect(p, res, 64, 100);
        if (rc > 0)
            record(s, res, rc);
    }
    return 0;
}

void fh_make_jobs(struct pvt_job *j, int n, int at, uint32_t fault, uint64_t arg)
{
    static const uint32_t wl[] = {PVT_WL_CPU, PVT_WL_HASH, PVT_WL_NOOP, PVT_WL_ALLOC};
    static const uint64_t args[] = {1000, 4096, 0, 10};
    int i;

    for (i = 0; i < n; i++)
        j[i] = (struct pvt_job){.id = (uint64_t)i, .workload = wl[i % 4], .arg = args[i % 4]};
    if (at >= 0)
        j[at] = (struct pvt_job){.id = (uint64_t)at, .workload = fault, .arg = arg};
}
