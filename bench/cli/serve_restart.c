/*
 * serve_restart.c: an outer supervisor for `pvt serve` (serve_restart.h).
 *
 * DESIGN
 * The outer process only forks, reads, waits and relays. Its child runs the
 * whole server (topology, pool, workers) and writes its ready line into a
 * pipe the outer reads. The outer waits in ppoll on that pipe and on the
 * child's pidfd with the caller's waitmask, so SIGTERM/SIGINT end the wait
 * and are acted on here: passed to the child by pidfd, then the child is
 * reaped within a bound. The child dies with the outer (the child preamble,
 * shared/base/child.h). A restart is logged with the cause and, once the
 * new child is ready, how long the service was down.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/common/cli.h"
#include "shared/base/child.h"
#include "shared/core/ring.h" /* pvt_now_ns */
#include "serve_restart.h"
#include "shared/core/sup.h"

#define CMD "serve"
#define KILL_MARGIN_MS 5000

struct child {
    pid_t pid;
    int pidfd;
    int out;        /* its stdout, -1 once at EOF */
    char line[256]; /* what has come of the current line */
    size_t len;
    int ready;      /* its ready line was seen */
};

static int child_start(struct child *c, int (*run)(void *, const sigset_t *), void *arg,
                       const sigset_t *waitmask)
{
    pid_t parent = getpid();
    int fds[2], rc;

    if (pipe2(fds, O_CLOEXEC) < 0)
        return -errno;
    fflush(stdout);
    fflush(stderr);
    *c = (struct child){.pid = fork(), .pidfd = -1, .out = fds[0]};
    if (c->pid < 0) {
        rc = -errno;
        close(fds[0]);
        close(fds[1]);
        return rc;
    }
    if (c->pid == 0) {
        /* The server needs nothing of this process's but stdio. It keeps
         * the signal mask: run waits with waitmask as the outer does. Its
         * exit status is the command's, so it fails with the CLI's code. */
        struct pvt_child_cfg cfg = {.flags = PVT_CHILD_KEEP_FDS,
                                    .parent = parent,
                                    .death_sig = SIGTERM,
                                    .stdio = {0, fds[1], 0}};

        if (pvt_child_init(&cfg) < 0)
            _exit(PVT_EXIT_FAIL);
        _exit(run(arg, waitmask));
    }
    close(fds[1]);
    c->pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
    if (c->pidfd < 0) {
        rc = -errno;
        kill(c->pid, SIGKILL);
        while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        close(c->out);
        return rc;
    }
    return 0;
}

/* Read what the child wrote; relay or log each complete line. */
static void child_lines(struct child *c, int *port, int *printed, uint64_t down_since)
{
    char buf[256];
    ssize_t n = read(c->out, buf, sizeof(buf));
    size_t i;
    int p;

    if (n <= 0) {
        if (n == 0 || errno != EINTR) {
            close(c->out);
            c->out = -1;
        }
        return;
    }
    for (i = 0; i < (size_t)n; i++) {
        if (buf[i] != '\n') {
            if (c->len < sizeof(c->line) - 1)
                c->line[c->len++] = buf[i];
            continue;
        }
        c->line[c->len] = '\0';
        c->len = 0;
        if (sscanf(c->line, "ready port=%d", &p) != 1)
            continue;
        c->ready = 1;
        if (!*printed) {
            const char *ctl = strstr(c->line, " ctl=");
            *port = p;
            printf("ready port=%d pid=%d%s\n", p, (int)getpid(), ctl ? ctl : "");
            fflush(stdout);
            *printed = 1;
        } else {
            pvt_err(CMD, "restarted: server process %d ready on port %d, %.1f ms after the "
                         "last one died",
                    (int)c->pid, p, (double)(pvt_now_ns() - down_since) / 1e6);
        }
    }
}

/* Wait for the child to exit, relaying its lines; pass a stop signal on.
 * Returns its wait status; *stopped says a stop was asked. */
static int child_wait(struct child *c, int *port, int *printed, uint64_t down_since,
                      int stop_timeout_ms, const sigset_t *waitmask, atomic_int *sigflag,
                      int *stopped)
{
    uint64_t kill_at = 0;
    int status = 0;

    for (;;) {
        struct pollfd pfd[2] = {{.fd = c->pidfd, .events = POLLIN},
                                {.fd = c->out, .events = POLLIN}};
        struct timespec ts = {0, 100000000}; /* re-check the kill deadline */
        int sig;

        if (ppoll(pfd, 2, &ts, waitmask) > 0) {
            if (pfd[1].revents)
                child_lines(c, port, printed, down_since);
            if (pfd[0].revents && waitpid(c->pid, &status, WNOHANG) == c->pid)
                break;
        }
        sig = atomic_exchange(sigflag, 0);
        if ((sig == SIGTERM || sig == SIGINT) && !*stopped) {
            *stopped = 1;
            syscall(SYS_pidfd_send_signal, c->pidfd, SIGTERM, NULL, 0);
            kill_at = pvt_now_ns() + (uint64_t)(stop_timeout_ms + KILL_MARGIN_MS) * 1000000u;
        } else if (sig == SIGHUP) {
            syscall(SYS_pidfd_send_signal, c->pidfd, SIGHUP, NULL, 0);
        }
        if (kill_at && pvt_now_ns() >= kill_at) {
            syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0);
            kill_at = 0;
        }
    }
    while (c->out >= 0)
        child_lines(c, port, printed, down_since); /* a last line before EOF */
    close(c->pidfd);
    return status;
}

/* Sleep ms, or less if a stop signal comes. 1 if one came. */
static int backoff_sleep(int ms, const sigset_t *waitmask, atomic_int *sigflag)
{
    uint64_t until = pvt_now_ns() + (uint64_t)ms * 1000000u, now;
    int sig;

    while ((now = pvt_now_ns()) < until) {
        uint64_t left = until - now;
        struct timespec ts = {(time_t)(left / 1000000000u), (long)(left % 1000000000u)};
        ppoll(NULL, 0, &ts, waitmask);
        sig = atomic_exchange(sigflag, 0);
        if (sig == SIGTERM || sig == SIGINT)
            return 1;
    }
    return 0;
}

int pvt__serve_restart(int *port, int stop_timeout_ms, const struct pvt_sup_cfg *cfg,
                       const sigset_t *waitmask,
                       atomic_int *sigflag, int (*run)(void *arg, const sigset_t *waitmask),
                       void *arg)
{
    struct pvt_sup_cfg sup;
    struct pvt_sup_slot hist = {0};
    struct child c;
    uint64_t down_since = 0;
    int printed = 0, stopped = 0, status, rc, delay;
    char why[96];

    pvt_sup_resolve(cfg, &sup); /* only the backoff and the guard apply here */
    for (;;) {
        rc = child_start(&c, run, arg, waitmask);
        if (rc < 0) {
            pvt_err(CMD, "cannot start the server process: %s", strerror(-rc));
            return PVT_EXIT_FAIL;
        }
        status = child_wait(&c, port, &printed, down_since, stop_timeout_ms, waitmask, sigflag,
                            &stopped);
        if (stopped)
            return WIFEXITED(status) ? WEXITSTATUS(status) : PVT_EXIT_FAIL;
        if (!c.ready)
            return WIFEXITED(status) ? WEXITSTATUS(status) : PVT_EXIT_FAIL;
        down_since = pvt_now_ns();
        if (WIFSIGNALED(status))
            snprintf(why, sizeof(why), "was killed by signal %d (%s)", WTERMSIG(status),
                     strsignal(WTERMSIG(status)));
        else
            snprintf(why, sizeof(why), "exited with code %d", WEXITSTATUS(status));
        delay = pvt_sup_on_death(&sup, &hist, down_since);
        if (delay < 0) {
            pvt_err(CMD, "the server process %d %s: %d deaths within %d s, giving up", (int)c.pid,
                    why, sup.loop_deaths, sup.loop_window_ms / 1000);
            return PVT_EXIT_FAIL;
        }
        pvt_err(CMD, "the server process %d %s; starting another%s", (int)c.pid, why,
                delay ? " after a backoff" : "");
        if (delay && backoff_sleep(delay, waitmask, sigflag))
            return PVT_EXIT_OK;
    }
}
