/*
 * test_overload.c: serving pools under overload, both backends, every
 * distribution, over real sockets (port 0 on 127.0.0.1).
 *
 * What each case checks:
 *  - burst: one worker, blocked in /slow, while more connections arrive
 *    than an rr channel holds (a unix socketpair's send buffer: about 278
 *    connections here). Every one of them is answered 200
 *    once the worker is free, and the pool refused none: a connection no
 *    worker can take waits (in the kernel's listen queue, or held by the
 *    primary), it is never closed.
 *  - descriptors: a server in a forked child whose RLIMIT_NOFILE is small,
 *    with more keep-alive clients than it has descriptors. Clients past the
 *    limit wait; while they wait the server does not spin (its CPU time over
 *    a second of waiting stays well below that second); once the first
 *    clients go, every waiting client is answered. A connection passed by
 *    SCM_RIGHTS to a worker process with no descriptor left to receive it
 *    would be lost, so none may be.
 *  - stranded: rr, two workers, one of them blocked while connections wait
 *    in its channel, until the watchdog finds it hung (a process is then
 *    killed and, without respawn, not replaced; a thread stays stuck): the
 *    connections are taken back and answered by the other worker.
 *
 * DESIGN
 * As in test_serve.c: the test thread creates the pool and only supervises
 * it (with rr it is the acceptor); the clients run on a helper thread that
 * calls no cmocka and writes the first thing that went wrong into a struct
 * sc_note, asserted on after pthread_join. Every socket has a timeout and
 * every wait a generous bound, so a hang becomes a failure, and no check
 * depends on how fast the test itself runs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shared/core/pvt.h"
#include "shared/serve/serve.h"
#include "serve_client.h"

#define BURST    400   /* more than an rr channel holds (about 278 messages here) */
#define SLOW     "/slow?ms=1500"
#define IO_MS    30000 /* every send and receive: generous, a slow machine is not a failure */
#define GUARD_MS 90000 /* the whole client side of one case */

struct burst {
    const struct pvt_pool_ops *ops;
    int port;
    atomic_int done;
    struct sc_conn slow, c[BURST];
    struct sc_resp r;
    struct sc_note err;
};

static struct burst bu; /* large (buffers): not on a stack */

static void *burst_cb(void *arg)
{
    struct burst *b = arg;
    int i, rc, ok = 0;

    if ((rc = sc_connect(&b->slow, b->port, IO_MS)) < 0 || (rc = sc_get(&b->slow, SLOW)) < 0) {
        sc_note(&b->err, "%s: %s", SLOW, strerror(-rc));
        goto out;
    }
    /* Every connection of the burst arrives while the only worker is held
     * in /slow (unless this thread is slower than 1.5 s, which only makes
     * the case easier). */
    for (i = 0; i < BURST; i++) {
        if ((rc = sc_connect(&b->c[i], b->port, IO_MS)) < 0 || (rc = sc_get(&b->c[i], "/")) < 0) {
            sc_note(&b->err, "connection %d: connect or send: %s", i, strerror(-rc));
            goto out;
        }
    }
    if ((rc = sc_read_response(&b->slow, &b->r)) < 0 || b->r.status != 200) {
        sc_note(&b->err, "%s: %s (status %d)", SLOW, strerror(-rc), b->r.status);
        goto out;
    }
    for (i = 0; i < BURST; i++) {
        rc = sc_read_response(&b->c[i], &b->r);
        if (rc < 0 || b->r.status != 200) {
            sc_note(&b->err, "connection %d of %d: %s (status %d); %d were answered", i, BURST,
                    rc == -EPIPE ? "closed by the server unanswered" : strerror(-rc),
                    rc < 0 ? 0 : b->r.status, ok);
            continue;
        }
        ok++;
    }
out:
    sc_close(&b->slow);
    for (i = 0; i < BURST; i++)
        sc_close(&b->c[i]);
    atomic_store(&b->done, 1);
    return NULL;
}

static void drive_burst(const struct pvt_pool_ops *ops, enum pvt_dist dist)
{
    struct pvt_serve_cfg sc = {.distribution = dist, .allow_faults = 1};
    struct pvt_pool_cfg cfg = {.workers = 1, .serve = &sc};
    struct pvt_pool_stats st = {0};
    struct pvt_pool *p = NULL;
    uint64_t end = sc_now_ms() + GUARD_MS;
    pthread_t t;
    int rc;

    rc = ops->create(&cfg, &p);
    if (rc < 0)
        fail_msg("[%s/%s] create: %d", ops->name, pvt_dist_names[dist], rc);
    ops->stats(p, &st);
    memset(&bu, 0, sizeof(bu));
    bu.ops = ops;
    bu.port = st.port;
    rc = pthread_create(&t, NULL, burst_cb, &bu);
    if (rc)
        fail_msg("pthread_create: %s", strerror(rc));
    while (!atomic_load(&bu.done) && sc_now_ms() < end)
        ops->supervise(p, 20, NULL);
    while (!atomic_load(&bu.done))
        ops->supervise(p, 20, NULL); /* every client call ends within IO_MS */
    pthread_join(t, NULL);
    ops->stats(p, &st);
    ops->stop(p, 5000);
    ops->destroy(p);
    if (bu.err.msg[0])
        fail_msg("[%s/%s] %s", ops->name, pvt_dist_names[dist], bu.err.msg);
    if (st.refused)
        fail_msg("[%s/%s] the pool closed %llu connections unserved", ops->name,
                 pvt_dist_names[dist], (unsigned long long)st.refused);
}

static void test_burst(void **state)
{
    const struct pvt_pool_ops *const *bp;
    int d;

    (void)state;
    for (bp = pvt_backends; *bp; bp++)
        for (d = 0; (*bp)->supervise && d <= PVT_DIST_RR; d++)
            drive_burst(*bp, (enum pvt_dist)d);
}

/* ---- descriptors ---- */

#define NOFILE   64  /* the server's RLIMIT_NOFILE */
#define NCONN    100 /* keep-alive clients, more than it has descriptors for */
#define QUIET_MS 1000

static struct sc_conn fdc[NCONN];
static struct sc_resp fdr;
static atomic_int child_stop;

static void on_term(int sig)
{
    (void)sig;
    atomic_store(&child_stop, 1);
}

/* In the forked child: serve with few descriptors until SIGTERM, then
 * stop. Writes the port on out. Never returns. */
static void fd_server(const struct pvt_serve_cfg *sc, const struct pvt_pool_ops *ops, int out)
{
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
    struct pvt_pool_cfg cfg = {.workers = 1, .serve = sc};
    struct rlimit rl = {.rlim_cur = NOFILE, .rlim_max = NOFILE};
    struct pvt_pool_stats st = {0};
    struct pvt_pool *p;
    size_t i;

    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        signal(sigs[i], SIG_DFL);
    signal(SIGTERM, on_term);
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || ops->create(&cfg, &p) < 0)
        _exit(3);
    ops->stats(p, &st);
    if (write(out, &st.port, sizeof(st.port)) != (ssize_t)sizeof(st.port))
        _exit(4);
    close(out);
    while (!atomic_load(&child_stop))
        ops->supervise(p, 50, NULL);
    ops->stop(p, 5000);
    ops->stats(p, &st);
    ops->destroy(p);
    _exit(st.refused || st.conns_lost ? 5 : 0); /* nothing closed unserved, nothing lost */
}

/* utime + stime of pid, in clock ticks; -1 if unreadable. */
static long cpu_ticks(pid_t pid)
{
    char path[64], buf[1024], *p;
    unsigned long ut, stt;
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if (!(f = fopen(path, "r")))
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &stt) != 2)
        return -1;
    return (long)(ut + stt);
}

/* Poll every connection without a response; read those that have one. */
static int read_ready(int *answered, int *status_bad)
{
    int i, got = 0;

    for (i = 0; i < NCONN; i++) {
        if (fdc[i].fd < 0 || answered[i] || sc_idle_open(&fdc[i]))
            continue;
        if (sc_read_response(&fdc[i], &fdr) < 0 || fdr.status != 200)
            (*status_bad)++;
        answered[i] = 1;
        got++;
    }
    return got;
}

static void drive_fds(const struct pvt_pool_ops *ops, enum pvt_dist dist)
{
    struct pvt_serve_cfg sc = {.distribution = dist};
    int answered[NCONN] = {0}, pipefd[2], port = 0, i, first, bad = 0, got;
    const char *name = pvt_dist_names[dist];
    long t0, t1, hz = sysconf(_SC_CLK_TCK);
    uint64_t quiet, end;
    pid_t pid;
    int status;

    if (pipe(pipefd) < 0)
        fail_msg("pipe: %s", strerror(errno));
    pid = fork();
    if (pid == 0) {
        close(pipefd[0]);
        fd_server(&sc, ops, pipefd[1]);
    }
    close(pipefd[1]);
    if (pid < 0 || read(pipefd[0], &port, sizeof(port)) != (ssize_t)sizeof(port)) {
        close(pipefd[0]);
        if (pid > 0)
            waitpid(pid, NULL, 0);
        fail_msg("[%s/%s] the server did not start", ops->name, name);
    }
    close(pipefd[0]);
    for (i = 0; i < NCONN; i++)
        if (sc_connect(&fdc[i], port, IO_MS) < 0 || sc_get(&fdc[i], "/") < 0)
            break;
    /* Read what is answered until nothing more comes for QUIET_MS: the
     * server is then out of descriptors, with clients waiting. */
    quiet = sc_now_ms() + QUIET_MS;
    end = sc_now_ms() + GUARD_MS;
    while (i == NCONN && sc_now_ms() < quiet && sc_now_ms() < end) {
        if (read_ready(answered, &bad))
            quiet = sc_now_ms() + QUIET_MS;
        sc_sleep_ms(20);
    }
    for (first = 0, got = 0; got < NCONN; got++)
        first += answered[got];
    /* While the clients wait, the server waits too. */
    t0 = cpu_ticks(pid);
    sc_sleep_ms(1000);
    t1 = cpu_ticks(pid);
    /* The answered ones go; every waiting client must now be answered. */
    for (got = 0; got < NCONN; got++)
        if (answered[got])
            sc_close(&fdc[got]);
    for (got = 0; got < NCONN && i == NCONN; got++) {
        if (fdc[got].fd < 0)
            continue;
        if (sc_read_response(&fdc[got], &fdr) < 0 || fdr.status != 200)
            bad++;
        sc_close(&fdc[got]);
    }
    for (got = 0; got < NCONN; got++)
        sc_close(&fdc[got]);
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    if (i < NCONN)
        fail_msg("[%s/%s] client %d could not connect or send", ops->name, name, i);
    if (bad)
        fail_msg("[%s/%s] %d clients were not answered 200 (closed or an error status)",
                 ops->name, name, bad);
    if (first == NCONN)
        fail_msg("[%s/%s] test bug: all %d clients were answered within the limit", ops->name,
                 name, NCONN);
    if (t0 < 0 || t1 < 0 || (t1 - t0) * 4 > hz) /* a spin takes a core, a wait nothing */
        fail_msg("[%s/%s] the server used %ld of %ld ticks while the clients waited: it spins",
                 ops->name, name, t1 - t0, hz);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("[%s/%s] the server ended with status 0x%x", ops->name, name, status);
}

static void test_descriptors(void **state)
{
    const struct pvt_pool_ops *const *bp;
    int d;

    (void)state;
    for (bp = pvt_backends; *bp; bp++)
        for (d = 0; (*bp)->supervise && d <= PVT_DIST_RR; d++)
            drive_fds(*bp, (enum pvt_dist)d);
}

/* ---- stranded connections ---- */

#define NSTRAND 10
#define STUCK   "/slow?ms=4000" /* longer than the watchdog's timeout */

static struct sc_conn stc[NSTRAND], stuck;

static void drive_stranded(const struct pvt_pool_ops *ops)
{
    struct pvt_serve_cfg sc = {.distribution = PVT_DIST_RR, .allow_faults = 1};
    struct pvt_pool_cfg cfg = {.workers = 2, .serve = &sc, .no_respawn = 1};
    struct pvt_worker_stats w[2];
    struct pvt_pool_stats st = {0};
    struct pvt_pool *p = NULL;
    int i, rc, bad = 0, first_bad = -1;
    struct sc_resp *r = &fdr;
    uint64_t end;

    cfg.sup.worker_timeout_ms = 500;
    rc = ops->create(&cfg, &p);
    if (rc < 0)
        fail_msg("[%s] create: %d", ops->name, rc);
    ops->stats(p, &st);
    /* The first connection goes to one worker, which blocks; half of the
     * next ones are handed to it in turn and wait in its channel until the
     * watchdog finds it hung. */
    if (sc_connect(&stuck, st.port, IO_MS) < 0 || sc_get(&stuck, STUCK) < 0)
        bad = -1;
    /* Hand it out, until its worker says it holds it: the worker then
     * reads it next, and blocks, before the others are handed out. */
    st.w = w;
    for (end = sc_now_ms() + IO_MS; bad == 0 && sc_now_ms() < end;) {
        ops->supervise(p, 20, NULL);
        if (ops->stats(p, &st) == 0 && w[0].conns + w[1].conns >= 1)
            break;
    }
    st.w = NULL;
    for (i = 0; i < NSTRAND && bad == 0; i++)
        if (sc_connect(&stc[i], st.port, IO_MS) < 0 || sc_get(&stc[i], "/") < 0)
            bad = -1;
    for (i = 0; i < NSTRAND && bad == 0; i++) {
        /* Supervise while waiting: with rr the test thread is the acceptor. */
        end = sc_now_ms() + IO_MS;
        while (sc_idle_open(&stc[i]) && sc_now_ms() < end)
            ops->supervise(p, 20, NULL);
        rc = sc_read_response(&stc[i], r);
        if (rc == -EPIPE)
            continue; /* the blocked worker had taken it before it blocked: gone with it */
        if (rc < 0 || r->status != 200)
            bad++, first_bad = i;
    }
    ops->stats(p, &st);
    for (i = 0; i < NSTRAND; i++)
        sc_close(&stc[i]);
    sc_close(&stuck);
    ops->stop(p, 10000); /* a thread leaves once its /slow is over: joined, not abandoned */
    ops->destroy(p);
    if (bad < 0)
        fail_msg("[%s] a client could not connect or send", ops->name);
    if (bad)
        fail_msg("[%s] connection %d of %d was never answered: it stayed in the channel of the "
                 "hung worker (hangs %llu)", ops->name, first_bad, NSTRAND,
                 (unsigned long long)st.hangs);
    if (!st.hangs)
        fail_msg("[%s] the watchdog found no hung worker", ops->name);
}

static void test_stranded(void **state)
{
    const struct pvt_pool_ops *const *bp;

    (void)state;
    for (bp = pvt_backends; *bp; bp++)
        if ((*bp)->supervise)
            drive_stranded(*bp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst),
        cmocka_unit_test(test_descriptors),
        cmocka_unit_test(test_stranded),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
