/*
 * proc_harness.c: the pool, results, /proc views and forked-child setup of
 * proc_harness.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc_harness.h"
#include "proc_cluster/proc_pool.h"

const struct pvt_pool_ops *const ops = &pvt_proc_ops;

uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* ---- the pool a case is using, destroyed by the teardown if it fails ---- */

static struct pvt_pool *cur;

struct pvt_pool *pool_new(int workers, int no_respawn)
{
    struct pvt_pool_cfg cfg = {.workers = workers, .no_respawn = no_respawn};

    assert_null(cur);
    assert_int_equal(ops->create(&cfg, &cur), 0);
    assert_non_null(cur);
    return cur;
}

void pool_free(void)
{
    ops->destroy(cur);
    cur = NULL;
}

int teardown_pool(void **state)
{
    (void)state;
    if (cur)
        ops->destroy(cur);
    cur = NULL;
    return 0;
}

void collect_until(struct pvt_pool *p, struct seen *s, int want, int guard_ms)
{
    uint64_t end = now_ms() + (uint64_t)guard_ms;
    struct pvt_result res[MAX_IDS];
    int i, rc;

    while (s->got < want && now_ms() < end) {
        rc = ops->collect(p, res, MAX_IDS, 100);
        if (rc < 0) {
            s->rc = rc;
            return;
        }
        for (i = 0; i < rc; i++) {
            s->got++;
            if (res[i].id >= MAX_IDS) {
                s->stray++;
                continue;
            }
            s->count[res[i].id]++;
            s->status[res[i].id] = res[i].status;
            s->value[res[i].id] = res[i].value;
        }
    }
}

int submit_one(struct pvt_pool *p, uint64_t id, uint32_t workload, uint64_t arg)
{
    struct pvt_job j = {.id = id, .workload = workload, .arg = arg};

    return ops->submit(p, &j, 1);
}

void get_stats(struct pvt_pool *p, struct pvt_pool_stats *st, struct pvt_worker_stats *w)
{
    memset(st, 0, sizeof(*st));
    st->w = w;
    assert_int_equal(ops->stats(p, st), 0);
}

int gone(pid_t pid)
{
    return kill(pid, 0) == -1 && errno == ESRCH;
}

void expect_no_children(void)
{
    pid_t r = waitpid(-1, NULL, WNOHANG);
    int e = errno;

    if (r != -1 || e != ECHILD)
        fail_msg("a child process is left behind (waitpid: %d, errno %d)", (int)r, e);
}

int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

void expect_fds(int before, const char *when)
{
    int now = count_fds();

    if (now != before)
        fail_msg("%s: %d file descriptors open, %d before the pool", when, now, before);
}

/* ---- forked children that report through their exit code ---- */

void child_setup(unsigned alarm_s)
{
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGALRM};
    struct sigaction sa = {.sa_handler = SIG_DFL};
    struct rlimit core = {0, 0};
    size_t i;

    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &sa, NULL);
    setrlimit(RLIMIT_CORE, &core);
    alarm(alarm_s);
}
