/*
 * run.h: what the bench modes' runs share: error and progress lines
 * (run.c), the children a run starts (child.c), `pvt serve` started and
 * ready (server.c) and what it reads from a running server (probe.c).
 */
#ifndef PVT_BENCH_RUN_H
#define PVT_BENCH_RUN_H

#include <sched.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "shared/core/pvt.h"

#define PVT_BENCH_STATS_MS 5000 /* one /stats request, connect included */

/* Now plus ms, in pvt_now_ns's clock. */
uint64_t pvt_bench_deadline(uint64_t ms);

/* One line to stderr, "pvt bench: ...", clearing a progress line first. */
void pvt__bench_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The progress line on stderr (the caller checks it is a terminal), and
 * its removal; an error line removes it too. */
void pvt__bench_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pvt__bench_progress_clear(void);

/* ---- children (child.c) ---- */

struct pvt_child {
    pid_t pid;        /* 0: none, or reaped */
    int out;          /* the read end of its stdout, -1 once closed */
    int status;       /* wait status, once reaped */
    struct rusage ru; /* its resource use, once reaped */
};

/*
 * Fork and exec /proc/self/exe with argv, bound to cpus, its stdout on a
 * pipe. The child never returns here: it execs, or _exits with
 * shared/base/child.h's codes: PVT_CHILD_EXIT_ORPHAN (its parent is
 * already gone), PVT_CHILD_EXIT_SETUP (its stdout or stderr could not be
 * set), PVT_CHILD_EXIT_CONFIG (it could not bind itself) or
 * PVT_CHILD_EXIT_EXEC (exec failed). 0 or -errno of pipe2 or fork.
 */
int pvt_child_start(char *const argv[], const cpu_set_t *cpus, struct pvt_child *c);
/* The same with the child's stderr on err_fd (-1: the driver's stderr). */
int pvt_child_start_err(char *const argv[], const cpu_set_t *cpus, int err_fd,
                        struct pvt_child *c);
/*
 * Read the child's stdout into buf (NUL-terminated) until EOF, or the first
 * newline when line is set. Returns the length, -ETIMEDOUT at the deadline,
 * -EINTR when the bench is interrupted, -ENOSPC when buf fills.
 */
int pvt_child_read(struct pvt_child *c, char *buf, size_t len, int line, uint64_t until);
/* Reap the child by the deadline. 0, or -ETIMEDOUT while it still runs. */
int pvt_child_reap(struct pvt_child *c, uint64_t until);
/* Send sig (0: none), wait up to ms, then SIGKILL. Reaps the child always. */
void pvt_child_stop(struct pvt_child *c, int sig, uint64_t ms);
/* "exit 3" or "killed by signal 9" into buf. */
void pvt_child_describe_exit(int status, char *buf, size_t len);

/* ---- starting `pvt serve` (server.c) ---- */

#define PVT_SERVE_READY_MS 10000 /* pvt serve must print its ready line within this */

/* What `pvt serve` printed once it was ready. */
struct pvt_serve_ready {
    int port;
    long pid;      /* the process that printed it: the primary, or serve --restart's outer */
    char ctl[108]; /* its control socket's path; "" when the line named none */
};

/*
 * Start `pvt serve` (argv from "pvt" on, as pvt_child_start_err: bound to
 * cpus, its stderr on err_fd, -1: the driver's) in *c, and read its ready
 * line "ready port=P pid=PID ctl=SOCKET" within PVT_SERVE_READY_MS into
 * *ready. Returns 0 with the server running. Otherwise a line for the user
 * is in why ("printed no ready line in 10 s", ...), and the server is
 * stopped (SIGTERM, stop_ms, then SIGKILL) and reaped, but for -EINTR (the
 * bench was interrupted: the caller stops it): pvt_child_start's -errno,
 * -ETIMEDOUT (no line by the deadline), -ECHILD (it exited first),
 * -EPROTO (a line, but not a ready line), or pvt_child_read's -errno.
 */
int pvt_server_start(char *const argv[], const cpu_set_t *cpus, int err_fd, uint64_t stop_ms,
                     struct pvt_child *c, struct pvt_serve_ready *ready, char *why,
                     size_t whylen);

/* ---- a running server (probe.c) ---- */

struct pvt_wstat {
    int slot;
    long pid;
    uint64_t requests;
    int live;            /* state "ready" (or no state given) */
    int hung;            /* the watchdog saw it hung */
    unsigned restarts;   /* replacements of the slot so far (0 if not given) */
    uint64_t replace_us; /* reap to ready of the last one (0: none or not given) */
    uint64_t rss_kb;     /* 0 if not given */
};
struct pvt_snap {
    long primary;
    int n;
    struct pvt_wstat w[PVT_MAX_WORKERS];
    uint64_t own[PVT_MAX_WORKERS]; /* our requests each slot had answered before this one */
};
/* A server, its stats connection, and what the driver asked of it. */
struct pvt_server {
    const char *backend, *dist;
    long workers;
    char name[64]; /* "proc rr, 2 workers": for messages */
    struct pvt_child child;
    int port;
    long pid;
    int fd;   /* the keep-alive stats connection, -1 when closed */
    int slot; /* the worker serving it */
    uint64_t own[PVT_MAX_WORKERS];
    int stats_broken; /* /stats failed once: said so, and the columns stay empty */
};

/* A blocking loopback connection to port with send and receive timeouts
 * (connect included). The fd, or -errno. */
int pvt_probe_connect(int port, int timeout_ms);
/*
 * GET path on the keep-alive connection *fd; a 200 response's body comes
 * back in *body (malloc'd, NUL-terminated). *fd is closed and set to -1 when
 * the server said "Connection: close". Returns 0, -EPIPE when the
 * connection is closed or broken, -EPROTO for a malformed response or a
 * status other than 200, or -errno (-EAGAIN: the timeout).
 */
int pvt_probe_get(int *fd, const char *path, char **body);
/* /stats's JSON into sn (not sn->own). 0, or -EPROTO with the first
 * missing field named in *why. */
int pvt_probe_parse(const char *body, struct pvt_snap *sn, const char **why);
/* A snapshot of the server's /stats, reconnecting once if the connection
 * was closed. Returns 0 or a negative errno; a failure is said once, and
 * the server's stats_broken set. */
int pvt_probe_snapshot(struct pvt_server *s, struct pvt_snap *sn);
/* utime + stime of pid (all its threads), µs; -1 if it cannot be read. */
double pvt_probe_cpu_us(long pid);
/*
 * The processes whose CPU time is the server's, into pids (room for
 * PVT_MAX_WORKERS + 1): the primary, and each worker that is a process of
 * its own. Returns the count.
 */
int pvt_probe_server_pids(const struct pvt_server *s, const struct pvt_snap *sn, long *pids);

/* One line of the table: a configuration's repetitions summed up. */
struct summary {
    const char *backend, *dist;
    long workers, conc;
    const char *route;
    double rps, rps_min, rps_max, jain, jain_min, jain_max;
    double secs, p99, mean, srv;
    uint64_t errors;
};

struct pvt_bench_cfg;

/* http mode's table header, one line of it, and its verdicts (bench_http_sum.c). */
void pvt__http_print_header(const struct pvt_bench_cfg *cfg);
void pvt__http_print_summary(const struct pvt_bench_cfg *cfg, const struct summary *m);
void pvt__http_print_verdicts(const struct pvt_bench_cfg *cfg, const struct summary *sum,
                              int nsum);

#endif
