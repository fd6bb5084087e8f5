/*
 * server.c: start `pvt serve` as a child of a bench run and read its ready
 * line (run.h).
 *
 * DESIGN. The server is a child of child.c's kind: it execs /proc/self/exe
 * and dies with the driver. The wait for its ready line has a deadline, and
 * a server that gives none is stopped and reaped here, so the caller owns
 * a running server exactly when this returns 0 (or -EINTR: a ^C reached the
 * server too, and the caller's cleanup stops it like any other).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "run.h"

/* "ready port=P pid=PID ctl=SOCKET" (ctl= may be missing) into *r. 0, or
 * -EPROTO for any other line. */
static int parse_ready(const char *line, struct pvt_serve_ready *r)
{
    const char *ctl;
    size_t n;

    memset(r, 0, sizeof(*r));
    if (sscanf(line, "ready port=%d pid=%ld", &r->port, &r->pid) != 2 || r->port <= 0)
        return -EPROTO;
    ctl = strstr(line, " ctl=");
    if (ctl) {
        ctl += strlen(" ctl=");
        n = strcspn(ctl, "\n");
        if (n >= sizeof(r->ctl))
            return -EPROTO;
        memcpy(r->ctl, ctl, n);
        r->ctl[n] = '\0';
    }
    return 0;
}

int pvt_server_start(char *const argv[], const cpu_set_t *cpus, int err_fd, uint64_t stop_ms,
                     struct pvt_child *c, struct pvt_serve_ready *ready, char *why, size_t whylen)
{
    char line[512], how[64];
    int rc;

    rc = pvt_child_start_err(argv, cpus, err_fd, c);
    if (rc < 0) {
        snprintf(why, whylen, "cannot start it: %s", strerror(-rc));
        return rc;
    }
    rc = pvt_child_read(c, line, sizeof(line), 1, pvt_bench_deadline(PVT_SERVE_READY_MS));
    if (rc > 0 && parse_ready(line, ready) == 0)
        return 0;
    if (rc == -EINTR) {
        snprintf(why, whylen, "interrupted before it was ready");
        return rc;
    }
    pvt_child_stop(c, SIGTERM, stop_ms);
    if (rc == -ETIMEDOUT) {
        snprintf(why, whylen, "printed no ready line in %d s", PVT_SERVE_READY_MS / 1000);
    } else if (rc == 0) {
        pvt_child_describe_exit(c->status, how, sizeof(how));
        snprintf(why, whylen, "exited before it was ready: %s", how);
        rc = -ECHILD;
    } else {
        snprintf(why, whylen, "no ready line: %.100s", rc > 0 ? line : strerror(-rc));
        rc = rc > 0 ? -EPROTO : rc;
    }
    return rc;
}
