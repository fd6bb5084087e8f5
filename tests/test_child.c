/*
 * test_child: the child preamble (shared/base/child.h), in real children.
 *
 * DESIGN
 * Each case forks; the child runs pvt_child_init and then describes itself
 * (which of the descriptors it was given are open, its signal state, its
 * core limit) in one struct written to a pipe, and _exits. It never calls
 * cmocka: the test asserts after waitpid, on what came up the pipe. The
 * parent-death cases make this process a child subreaper, so a grandchild
 * whose parent died is reparented here and can be reaped by its pid.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shared/base/child.h"

#define NPROBE 4

/* What a child says of itself after the preamble. */
struct report {
    int rc;             /* pvt_child_init's */
    int open[NPROBE];   /* the probed descriptors, 1: open */
    int stdio_open;     /* 0, 1 and 2 all open */
    int term_dfl;       /* SIGTERM's disposition is SIG_DFL */
    int segv_dfl;       /* SIGSEGV's */
    int pipe_dfl;       /* SIGPIPE's */
    int int_ign;        /* SIGINT is ignored */
    int hup_ign;        /* SIGHUP is ignored */
    int usr1_blocked;   /* SIGUSR1 is in the mask */
    unsigned long core; /* RLIMIT_CORE's soft limit */
};

static void noop_cb(int sig)
{
    (void)sig;
}

static int is_open(int fd)
{
    return fd >= 0 && fcntl(fd, F_GETFD) >= 0;
}

static int disposition(int sig, void (*h)(int))
{
    struct sigaction sa;

    return sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == h;
}

/* In the child: the preamble, then the report on out. Never returns. */
static void child_report(const struct pvt_child_cfg *cfg, int out, const int *probe)
{
    struct report r;
    struct rlimit rl;
    sigset_t mask;
    int i;

    memset(&r, 0, sizeof(r));
    r.rc = pvt_child_init(cfg);
    for (i = 0; i < NPROBE; i++)
        r.open[i] = is_open(probe[i]);
    r.stdio_open = is_open(0) && is_open(1) && is_open(2);
    r.term_dfl = disposition(SIGTERM, SIG_DFL);
    r.segv_dfl = disposition(SIGSEGV, SIG_DFL);
    r.pipe_dfl = disposition(SIGPIPE, SIG_DFL);
    r.int_ign = disposition(SIGINT, SIG_IGN);
    r.hup_ign = disposition(SIGHUP, SIG_IGN);
    sigprocmask(SIG_SETMASK, NULL, &mask);
    r.usr1_blocked = sigismember(&mask, SIGUSR1) == 1;
    r.core = getrlimit(RLIMIT_CORE, &rl) == 0 ? (unsigned long)rl.rlim_cur : ~0ul;
    _exit(write(out, &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : 1);
}

static void read_report(int fd, struct report *r)
{
    ssize_t n;

    do
        n = read(fd, r, sizeof(*r));
    while (n < 0 && errno == EINTR);
    assert_int_equal(n, (ssize_t)sizeof(*r));
}

static int reap(pid_t pid)
{
    int status = -1;

    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return status;
}

/* reap, but a child still there after 10 s (it should have died long
 * before) is sent SIGTERM first, so the test fails instead of hanging. */
static int reap_or_term(pid_t pid)
{
    struct timespec ts = {0, 1000000};
    int status, i;

    for (i = 0; i < 10000; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return status;
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGTERM); /* unreaped: still ours */
    return reap(pid);
}

/*
 * Fork a child that runs cfg (its keep list, if any, must name out_w or
 * its stdio[1] be out_w) and reports on out_w (or on its stdout with
 * to_stdout); the report into *r. probe: NPROBE descriptors to check.
 */
static void run_child(const struct pvt_child_cfg *cfg, int out[2], int to_stdout, const int *probe,
                      struct report *r)
{
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0)
        child_report(cfg, to_stdout ? STDOUT_FILENO : out[1], probe);
    close(out[1]);
    read_report(out[0], r);
    close(out[0]);
    assert_int_equal(reap(pid), 0);
}

/* Three descriptors a child could inherit: a pipe's two ends (no CLOEXEC,
 * as a worker's channel) and an eventfd. */
static void open_three(int fds[3])
{
    int p[2];

    assert_int_equal(pipe(p), 0);
    fds[0] = p[0];
    fds[1] = p[1];
    fds[2] = eventfd(0, 0);
    assert_true(fds[2] >= 0);
}

static void close_all(const int *fds, int n)
{
    int i;

    for (i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

/* The keep list is what survives: its entries, stdio, and nothing else. */
static void test_keep_fds(void **state)
{
    int fds[3], out[2], keep[3], probe[NPROBE];
    struct report r;
    struct pvt_child_cfg cfg = {.flags = PVT_CHILD_KEEP_FDS | PVT_CHILD_NOCORE,
                                .parent = getpid(),
                                .keep = keep,
                                .nkeep = 3};

    (void)state;
    open_three(fds);
    assert_int_equal(pipe2(out, O_CLOEXEC), 0);
    keep[0] = fds[1];
    keep[1] = -1; /* an unused entry */
    keep[2] = out[1];
    probe[0] = fds[0];
    probe[1] = fds[1];
    probe[2] = fds[2];
    probe[3] = out[0];
    run_child(&cfg, out, 0, probe, &r);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.open[0], 0);
    assert_int_equal(r.open[1], 1);
    assert_int_equal(r.open[2], 0);
    assert_int_equal(r.open[3], 0);
    assert_int_equal(r.stdio_open, 1);
    close_all(fds, 3);
}

/* Without PVT_CHILD_KEEP_FDS nothing is closed (a child that execs). */
static void test_keep_nothing_closed(void **state)
{
    int fds[3], out[2], probe[NPROBE];
    struct report r;
    struct pvt_child_cfg cfg = {.flags = PVT_CHILD_NOCORE, .parent = getpid()};

    (void)state;
    open_three(fds);
    assert_int_equal(pipe2(out, O_CLOEXEC), 0);
    memcpy(probe, fds, sizeof(fds));
    probe[3] = out[0];
    run_child(&cfg, out, 0, probe, &r);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.open[0] + r.open[1] + r.open[2] + r.open[3], 4);
    close_all(fds, 3);
}

/* stdio[1] becomes the child's stdout, and an empty keep list leaves only
 * stdio: the pipe's own descriptor is gone, its copy on 1 stays. */
static void test_stdio(void **state)
{
    int fds[3], out[2], probe[NPROBE];
    struct report r;
    struct pvt_child_cfg cfg = {.flags = PVT_CHILD_KEEP_FDS | PVT_CHILD_NOCORE, .parent = getpid()};

    (void)state;
    open_three(fds);
    assert_int_equal(pipe2(out, O_CLOEXEC), 0);
    cfg.stdio[1] = out[1];
    memcpy(probe, fds, sizeof(fds));
    probe[3] = out[1];
    run_child(&cfg, out, 1, probe, &r);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.open[0] + r.open[1] + r.open[2] + r.open[3], 0);
    assert_int_equal(r.stdio_open, 1);
    close_all(fds, 3);
}

/* The signal state the parent leaves, and the child's with and without the
 * signal steps. */
struct sigsave {
    struct sigaction term, segv, pipe, intr, hup;
    sigset_t mask;
    struct rlimit core;
};

static void dirty_signals(struct sigsave *s)
{
    struct sigaction h = {.sa_handler = noop_cb}, ign = {.sa_handler = SIG_IGN};
    struct rlimit core;
    sigset_t usr1;

    sigaction(SIGTERM, &h, &s->term);
    sigaction(SIGSEGV, &h, &s->segv);
    sigaction(SIGPIPE, &ign, &s->pipe);
    sigaction(SIGINT, &h, &s->intr);
    sigaction(SIGHUP, &h, &s->hup);
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, &s->mask);
    getrlimit(RLIMIT_CORE, &s->core);
    core = s->core;
    core.rlim_cur = core.rlim_max < 4096 ? core.rlim_max : 4096;
    setrlimit(RLIMIT_CORE, &core);
}

static void restore_signals(const struct sigsave *s)
{
    sigaction(SIGTERM, &s->term, NULL);
    sigaction(SIGSEGV, &s->segv, NULL);
    sigaction(SIGPIPE, &s->pipe, NULL);
    sigaction(SIGINT, &s->intr, NULL);
    sigaction(SIGHUP, &s->hup, NULL);
    sigprocmask(SIG_SETMASK, &s->mask, NULL);
    setrlimit(RLIMIT_CORE, &s->core);
}

static void test_signals(void **state)
{
    int out[2], probe[NPROBE] = {-1, -1, -1, -1};
    struct report r, plain;
    struct sigsave save;
    struct rlimit core;
    struct pvt_child_cfg cfg = {
        .flags = PVT_CHILD_SIGNALS | PVT_CHILD_IGNORE_TTY | PVT_CHILD_NOCORE, .parent = getpid()};
    struct pvt_child_cfg none = {.parent = getpid()};

    (void)state;
    dirty_signals(&save);
    getrlimit(RLIMIT_CORE, &core);
    assert_int_equal(pipe2(out, O_CLOEXEC), 0);
    run_child(&cfg, out, 0, probe, &r);
    assert_int_equal(pipe2(out, O_CLOEXEC), 0);
    run_child(&none, out, 0, probe, &plain);
    restore_signals(&save);

    assert_int_equal(r.rc, 0);
    assert_int_equal(r.term_dfl, 1);
    assert_int_equal(r.segv_dfl, 1);
    assert_int_equal(r.pipe_dfl, 1);
    assert_int_equal(r.int_ign, 1);
    assert_int_equal(r.hup_ign, 1);
    assert_int_equal(r.usr1_blocked, 0);
    assert_int_equal(r.core, 0);
    /* Without the steps, the child has the parent's state: the probes can
     * tell the difference. */
    assert_int_equal(plain.rc, 0);
    assert_int_equal(plain.term_dfl, 0);
    assert_int_equal(plain.segv_dfl, 0);
    assert_int_equal(plain.pipe_dfl, 0);
    assert_int_equal(plain.int_ign, 0);
    assert_int_equal(plain.usr1_blocked, 1);
    assert_int_equal(plain.core, (unsigned long)core.rlim_cur);
}

/* A bad keep list is an error, found before anything is closed. */
static void test_bad_keep(void **state)
{
    int fds[3], out[2], closed, probe[NPROBE], many[PVT_CHILD_KEEP_MAX + 1], i;
    struct report r;
    struct {
        const int *keep;
        int n, rc;
    } c[4];

    (void)state;
    /* A number far above the lowest free one, so no later open takes it. */
    closed = fcntl(0, F_DUPFD, 900);
    assert_true(closed >= 900);
    close(closed);
    for (i = 0; i <= PVT_CHILD_KEEP_MAX; i++)
        many[i] = -1;
    c[0].keep = NULL, c[0].n = 1, c[0].rc = -EINVAL;
    c[1].keep = many, c[1].n = -1, c[1].rc = -EINVAL;
    c[2].keep = many, c[2].n = PVT_CHILD_KEEP_MAX + 1, c[2].rc = -EINVAL;
    c[3].keep = &closed, c[3].n = 1, c[3].rc = -EBADF;
    open_three(fds);
    memcpy(probe, fds, sizeof(fds));
    for (i = 0; i < 4; i++) {
        struct pvt_child_cfg cfg = {.flags = PVT_CHILD_KEEP_FDS | PVT_CHILD_NOCORE,
                                    .parent = getpid(),
                                    .keep = c[i].keep,
                                    .nkeep = c[i].n};
        assert_int_equal(pipe2(out, O_CLOEXEC), 0);
        probe[3] = out[1];
        run_child(&cfg, out, 0, probe, &r);
        assert_int_equal(r.rc, c[i].rc);
        assert_int_equal(r.open[0] + r.open[1] + r.open[2] + r.open[3], 4);
    }
    assert_int_equal(pvt_child_exit_code(-EBADF), PVT_CHILD_EXIT_SETUP);
    assert_int_equal(pvt_child_exit_code(-ESRCH), PVT_CHILD_EXIT_ORPHAN);
    close_all(fds, 3);
}

/* A middle process between this test and a grandchild. */
struct family {
    pid_t middle, grandchild;
    int stay;     /* the middle process waits to be killed (else exits at once) */
    int ready[2]; /* a pipe: the grandchild writes a byte once its preamble ran */
};

/*
 * Fork the middle process, which forks a grandchild running body, writes
 * its pid up a pipe, and exits (or with stay, waits to be killed). The
 * grandchild, reparented to this subreaper, is reaped here by that pid.
 */
static void family_start(struct family *f, void (*body)(const struct family *f))
{
    int up[2];

    assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    assert_int_equal(pipe2(up, O_CLOEXEC), 0);
    f->grandchild = -1;
    f->middle = fork();
    assert_true(f->middle >= 0);
    if (f->middle == 0) {
        pid_t pid;

        f->middle = getpid();
        pid = fork();
        if (pid == 0)
            body(f);
        if (write(up[1], &pid, sizeof(pid)) != (ssize_t)sizeof(pid))
            _exit(1);
        while (f->stay)
            pause();
        _exit(pid > 0 ? 0 : 1);
    }
    close(up[1]);
    assert_int_equal(read(up[0], &f->grandchild, sizeof(pid_t)), (ssize_t)sizeof(pid_t));
    close(up[0]);
    assert_true(f->grandchild > 0);
}

/* Wait until the middle process is gone, then run the preamble for it. */
static void orphan_body(const struct family *f)
{
    struct timespec ts = {0, 1000000};
    struct pvt_child_cfg cfg = {.flags = PVT_CHILD_NOCORE, .parent = f->middle};

    while (getppid() == f->middle)
        nanosleep(&ts, NULL);
    pvt_child_init_or_exit(&cfg);
    _exit(PVT_CHILD_EXIT_OK);
}

/* The parent is already gone when the preamble runs: it exits ORPHAN. */
static void test_orphan(void **state)
{
    struct family f = {.stay = 0, .ready = {-1, -1}};
    int st;

    (void)state;
    family_start(&f, orphan_body);
    assert_int_equal(reap(f.middle), 0);
    st = reap(f.grandchild);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), PVT_CHILD_EXIT_ORPHAN);
}

/* The preamble with the middle process alive, then wait to be killed. */
static void death_body(const struct family *f)
{
    struct pvt_child_cfg cfg = {.flags = PVT_CHILD_KEEP_FDS | PVT_CHILD_NOCORE,
                                .parent = f->middle,
                                .keep = &f->ready[1],
                                .nkeep = 1};

    pvt_child_init_or_exit(&cfg);
    if (write(f->ready[1], "r", 1) != 1)
        _exit(PVT_CHILD_EXIT_SETUP);
    for (;;)
        pause();
}

/* The parent dies after the preamble: the child gets the death signal. */
static void test_dies_with_parent(void **state)
{
    struct family f = {.stay = 1};
    char c;
    int st;

    (void)state;
    assert_int_equal(pipe2(f.ready, O_CLOEXEC), 0);
    family_start(&f, death_body);
    close(f.ready[1]);
    assert_int_equal(read(f.ready[0], &c, 1), 1); /* its preamble ran */
    close(f.ready[0]);
    assert_int_equal(kill(f.middle, SIGKILL), 0); /* unreaped: still our child */
    st = reap(f.middle);
    assert_true(WIFSIGNALED(st));
    st = reap_or_term(f.grandchild);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGKILL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keep_fds),
        cmocka_unit_test(test_keep_nothing_closed),
        cmocka_unit_test(test_stdio),
        cmocka_unit_test(test_signals),
        cmocka_unit_test(test_bad_keep),
        cmocka_unit_test(test_orphan),
        cmocka_unit_test(test_dies_with_parent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
