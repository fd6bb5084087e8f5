/*
 * child.c: the children of http and fault modes: start one bound to its CPUs,
 * read its stdout with a deadline, stop and reap it (run.h).
 *
 * DESIGN. A child is forked and execs /proc/self/exe; it dies with the
 * driver (the child preamble, shared/base/child.h). Every
 * wait here is bounded and every path reaps: a child is stopped by its pid,
 * SIGTERM first and SIGKILL past the deadline, never by name.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "run.h"
#include "shared/base/child.h"
#include "shared/core/ring.h" /* pvt_now_ns */

uint64_t pvt_bench_deadline(uint64_t ms)
{
    return pvt_now_ns() + ms * 1000000u;
}

/* ---- children ----------------------------------------------------------------------------- */

int pvt_child_start(char *const argv[], const cpu_set_t *cpus, struct pvt_child *c)
{
    return pvt_child_start_err(argv, cpus, -1, c);
}

int pvt_child_start_err(char *const argv[], const cpu_set_t *cpus, int err_fd,
                        struct pvt_child *c)
{
    pid_t parent = getpid(), pid;
    int fds[2], rc;

    if (pipe2(fds, O_CLOEXEC) < 0)
        return -errno;
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        rc = -errno;
        close(fds[0]);
        close(fds[1]);
        return rc;
    }
    if (pid == 0) {
        /* It execs at once: CLOEXEC closes the descriptors it must not keep. */
        struct pvt_child_cfg cfg = {
            .parent = parent, .death_sig = SIGTERM, .stdio = {0, fds[1], err_fd}};

        pvt_child_init_or_exit(&cfg);
        if (sched_setaffinity(0, sizeof(*cpus), cpus) < 0)
            _exit(PVT_CHILD_EXIT_CONFIG);
        execv("/proc/self/exe", argv);
        _exit(PVT_CHILD_EXIT_EXEC);
    }
    close(fds[1]);
    *c = (struct pvt_child){.pid = pid, .out = fds[0]};
    return 0;
}

int pvt_child_read(struct pvt_child *c, char *buf, size_t len, int line, uint64_t until)
{
    size_t got = 0;
    ssize_t n;

    for (;;) {
        struct pollfd p = {.fd = c->out, .events = POLLIN};
        uint64_t now = pvt_now_ns();
        int ms;

        if (pvt_bench_interrupted)
            return -EINTR;
        if (now >= until)
            return -ETIMEDOUT;
        /* At most 250 ms, so a signal just before poll delays no longer. */
        ms = (int)((until - now) / 1000000u) + 1;
        if (poll(&p, 1, ms < 250 ? ms : 250) <= 0)
            continue;
        if (got + 1 >= len)
            return -ENOSPC;
        n = read(c->out, buf + got, len - 1 - got);
        if (n < 0 && errno != EINTR)
            return -errno;
        if (n == 0)
            break;
        if (n > 0) {
            got += (size_t)n;
            buf[got] = '\0';
            if (line && memchr(buf, '\n', got))
                break;
        }
    }
    buf[got] = '\0';
    return (int)got;
}

int pvt_child_reap(struct pvt_child *c, uint64_t until)
{
    for (;;) {
        pid_t r = wait4(c->pid, &c->status, WNOHANG, &c->ru);
        struct timespec ts = {0, 5000000};

        if (r == c->pid || (r < 0 && errno == ECHILD)) {
            c->pid = 0;
            break;
        }
        if (pvt_now_ns() >= until)
            return -ETIMEDOUT;
        nanosleep(&ts, NULL);
    }
    if (c->out >= 0)
        close(c->out);
    c->out = -1;
    return 0;
}

void pvt_child_stop(struct pvt_child *c, int sig, uint64_t ms)
{
    if (!c->pid)
        return;
    if (sig)
        kill(c->pid, sig);
    if (pvt_child_reap(c, pvt_bench_deadline(ms)) == -ETIMEDOUT) {
        kill(c->pid, SIGKILL);
        while (waitpid(c->pid, &c->status, 0) < 0 && errno == EINTR)
            ;
        c->pid = 0;
        close(c->out);
        c->out = -1;
    }
}

void pvt_child_describe_exit(int status, char *buf, size_t len)
{
    if (WIFSIGNALED(status))
        snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
    else
        snprintf(buf, len, "exit %d", WEXITSTATUS(status));
}

