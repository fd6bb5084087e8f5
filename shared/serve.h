/*
 * serve.h: serve mode: N workers serving HTTP on one port, in both backends.
 *
 * DESIGN
 * A serving pool is an ordinary pool (pvt.h) made with cfg->serve set: the
 * backend opens the listening sockets before any worker starts, and each
 * worker runs pvt_serve_worker_run instead of taking jobs. The event loop,
 * the connections and their timeouts, and /stats are this file's, the same
 * code in a worker process and in a worker thread; only how a connection
 * reaches a worker differs, which is what `distribution` names:
 *
 *   shared     one listening socket, inherited by every worker process (or
 *              shared by every thread); each worker waits on it with
 *              EPOLLEXCLUSIVE and the kernel wakes one (Node's SCHED_NONE,
 *              nginx with accept_mutex off).
 *   reuseport  one SO_REUSEPORT socket per worker on the same port; the
 *              kernel hashes each new connection to one of them (nginx's
 *              `listen ... reuseport`).
 *   rr         the primary process (or the driving thread) alone accepts and
 *              hands each connection to the next live worker in turn over a
 *              unix socketpair: by SCM_RIGHTS to a process, as a plain fd
 *              number to a thread (Node's default, SCHED_RR).
 *
 * A worker publishes what it serves in its ring's info (ring.h): requests
 * answered, connections open, pid and bound CPUs. Every worker can read
 * every ring (MAP_SHARED for processes), so any worker answers /stats for
 * the whole pool.
 *
 * Timeouts. A connection waiting for its next request is closed after
 * idle_timeout_ms. Once a request has begun, it must arrive whole within
 * request_timeout_ms of the last byte that made progress, and a response
 * must be taken by the client at the same pace, or the connection is closed:
 * a slow or stalled client holds one connection, never the worker.
 */
#ifndef PVT_SERVE_H
#define PVT_SERVE_H

#include <stdint.h>
#include <sys/types.h>

#include "ring.h"

enum pvt_dist { PVT_DIST_SHARED = 0, PVT_DIST_REUSEPORT, PVT_DIST_RR };

extern const char *const pvt_dist_names[]; /* indexed by enum pvt_dist */

/* "shared", "reuseport" or "rr" into *out. 0 or -EINVAL. */
int pvt_dist_parse(const char *s, enum pvt_dist *out);

#define PVT_SERVE_IDLE_TIMEOUT_MS 60000
#define PVT_SERVE_REQUEST_TIMEOUT_MS 10000
#define PVT_SERVE_BACKLOG 4096
#define PVT_SERVE_ACCEPT_BATCH 32 /* connections taken per readiness */

struct pvt_serve_cfg {
    enum pvt_dist distribution;
    const char *host;       /* a numeric IPv4 address; NULL: 127.0.0.1 */
    int port;               /* 0: any free port */
    int backlog;            /* 0: PVT_SERVE_BACKLOG */
    int idle_timeout_ms;    /* 0: PVT_SERVE_IDLE_TIMEOUT_MS */
    int request_timeout_ms; /* 0: PVT_SERVE_REQUEST_TIMEOUT_MS */
    int allow_faults;       /* serve the fault routes (http.h) */
};

/*
 * The listening sockets of a pool of n workers: one for shared and rr, n
 * bound to one port for reuseport (the first picks the port when port is 0).
 * fds must hold n entries; unused ones are set to -1. *port: the port bound.
 * Returns 0, -EADDRINUSE, -EINVAL (a host that is not an IPv4 address), or
 * -errno; nothing stays open on failure.
 */
int pvt_listen_open(const struct pvt_serve_cfg *cfg, int n, int *fds, int *port);
void pvt_listen_close(int *fds, int n);

/* Everything one worker's server needs. */
struct pvt_serve_worker {
    const struct pvt_serve_cfg *cfg;
    const char *backend;       /* "proc" or "thread", named in /stats */
    int slot;
    int listen_fd;             /* shared, reuseport: where to accept; else -1 */
    int chan_fd;               /* rr: where connections arrive; else -1 */
    int chan_scm;              /* rr: 1 fds come by SCM_RIGHTS, 0 as fd numbers */
    struct pvt_ring *ring;     /* this worker's: stop, ctl_efd, info */
    struct pvt_ring *const *rings; /* every worker's, for /stats */
    int nrings;
    pid_t primary;             /* the primary process, named in /stats */
    int one_process;           /* thread: every worker's RSS is the process's */
};

/*
 * Serve until the ring's stop says so. stop 1: stop taking connections,
 * finish every request in flight (rr: and every connection already handed
 * over), close idle keep-alive connections, return once none is left.
 * stop 2: close everything now. With ring->max_jobs, a worker that answered
 * that many requests drains the same way by itself. With ring->beat_ms, it
 * stores a heartbeat in ring->info at least that often. Returns 0,
 * PVT_RING_RECYCLE after a max_jobs drain, or -errno if the loop could not
 * be set up.
 */
int pvt_serve_worker_run(struct pvt_serve_worker *w);

/*
 * rr: give connection fd to the worker at the other end of chan. scm: pass
 * it by SCM_RIGHTS (the caller still closes its copy); else send the fd
 * number (a thread now owns fd). 0, -EAGAIN when the worker's channel is
 * full, or -errno.
 */
int pvt_serve_pass(int chan, int fd, int scm);

/* rr, in the driver: accept what is waiting on lfd (up to a batch) and
 * pass each to the next live worker in turn, skipping one that is not
 * ready or whose channel is full. *next: the turn, kept by the caller.
 * Counts go to *handed and *refused (closed: no worker could take it). */
void pvt_serve_hand_out(int lfd, struct pvt_ring *const *rings, const int *chans, int n,
                        int scm, int *next, uint64_t *handed, uint64_t *refused);

/*
 * The sockets of one serving pool of n workers, opened by the driver before
 * any worker starts (serve_net.c): the listening sockets, an eventfd per ring
 * (rings[i]->ctl_efd, how a worker is told to stop) and, for rr, a channel
 * per worker. scm: 1 when the workers are processes (rr passes descriptors
 * by SCM_RIGHTS), 0 for threads (rr passes descriptor numbers).
 */
struct pvt_serve_net {
    struct pvt_serve_cfg cfg;
    int n;
    int scm;
    int port;                      /* the port bound */
    int *lfds;                     /* [0] (shared, rr) or one per worker (reuseport) */
    int *chans;                    /* rr: the driver's end of each channel */
    int *wchans;                   /* rr: the worker's end, kept for a replacement */
    struct pvt_ring *const *rings; /* NULL once closed */
    int rr_next;                   /* rr: whose turn is next */
    uint64_t handed, refused;      /* rr: connections passed, and closed unserved */
};

/* 0, or the error of pvt_listen_open, -ENOMEM, or the failing eventfd or
 * socketpair's -errno; nothing stays open on failure. */
int pvt_serve_net_open(struct pvt_serve_net *net, const struct pvt_serve_cfg *cfg, int n,
                       struct pvt_ring *const *rings, int scm);
/* Close everything (threads: and every connection still in a channel). */
void pvt_serve_net_close(struct pvt_serve_net *net);
/* What worker slot's server needs, into *w. */
void pvt_serve_net_worker(const struct pvt_serve_net *net, int slot, const char *backend,
                          pid_t primary, struct pvt_serve_worker *w);
/* In a worker process right after fork: close what belongs to the others. */
void pvt_serve_net_child(const struct pvt_serve_net *net, int slot);
/* rr, in the driver, when the listening socket is readable. */
void pvt_serve_net_hand_out(struct pvt_serve_net *net);
/* reuseport: slot will never serve again; close its socket, so the kernel
 * stops queueing connections where nobody accepts. */
void pvt_serve_net_retire(struct pvt_serve_net *net, int slot);

/* One connection from an rr channel: its fd, -EAGAIN when none waits,
 * -EPIPE when the other end is gone, or -errno. */
int pvt__serve_chan_recv(int chan, int scm);

#endif
