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
 *              number to a thread (Node's default, SCHED_RR). When no
 *              worker has room, it holds the connection and stops
 *              accepting until one has (serve_rr.c): a connection waits,
 *              it is never closed because the workers are busy.
 *
 * A worker publishes what it serves in its ring's info (ring.h): requests
 * answered, connections open, pid and bound CPUs. Every worker can read
 * every ring (MAP_SHARED for processes), so any worker answers /stats for
 * the whole pool; a worker process can write only its own
 * (pvt_region_isolate). What the driver acts on (the rr channels, each
 * ring's eventfd, which ring is which) is in struct pvt_serve_net, in the
 * driver's private memory, and found from the ring's pointer, never from
 * anything stored in a ring.
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

#include "shared/core/ring.h"

enum pvt_dist { PVT_DIST_SHARED = 0, PVT_DIST_REUSEPORT, PVT_DIST_RR };

extern const char *const pvt_dist_names[]; /* indexed by enum pvt_dist */

/* "shared", "reuseport" or "rr" into *out. 0 or -EINVAL. */
int pvt_dist_parse(const char *s, enum pvt_dist *out);

#define PVT_SERVE_IDLE_TIMEOUT_MS 60000
#define PVT_SERVE_REQUEST_TIMEOUT_MS 10000
#define PVT_SERVE_BACKLOG 4096
#define PVT_SERVE_ACCEPT_BATCH 32 /* connections taken per readiness */
#define PVT_SERVE_ACCEPT_PAUSE_MS 100 /* out of descriptors: stop accepting this long */
#define PVT_SERVE_RETRY_MS 10 /* rr: a held connection no channel can be watched for */
#define PVT_OFFLOAD_WORKERS 1      /* a serving worker's job pool: its workers by default */
#define PVT_OFFLOAD_WORKERS_MAX 64
#define PVT_OFFLOAD_QUEUE 64       /* jobs submitted and unanswered per serving worker */
#define PVT_OFFLOAD_QUEUE_MAX 4096

/*
 * Offload (serve_offload.c; Node's worker_threads behind each cluster
 * worker): every serving worker creates a job pool of its own when its loop
 * starts and runs the CPU and fault routes there (http.h says which), so its
 * loop goes on answering the light ones. ops NULL: every route runs inline.
 */
struct pvt_serve_offload {
    const struct pvt_pool_ops *ops; /* a backend with PVT_CAP_POLL, or NULL */
    int workers;           /* the pool's workers, 1 .. PVT_OFFLOAD_WORKERS_MAX; 0: default */
    int queue;             /* jobs submitted and unanswered, 1 .. PVT_OFFLOAD_QUEUE_MAX;
                            * past it a request is answered 503; 0: default */
    int worker_timeout_ms; /* the pool's watchdog (sup.h); 0: none */
};

/* 0 for no offload or a good one; -EINVAL for a backend without
 * PVT_CAP_POLL or a number out of range. A serving pool's create refuses
 * such a cfg (through pvt_serve_cap) before any worker starts. */
int pvt_serve_offload_check(const struct pvt_serve_offload *o);

struct pvt_serve_cfg {
    enum pvt_dist distribution;
    const char *host;       /* a numeric IPv4 address; NULL: 127.0.0.1 */
    int port;               /* 0: any free port */
    int backlog;            /* 0: PVT_SERVE_BACKLOG */
    int idle_timeout_ms;    /* 0: PVT_SERVE_IDLE_TIMEOUT_MS */
    int request_timeout_ms; /* 0: PVT_SERVE_REQUEST_TIMEOUT_MS */
    int allow_faults;       /* serve the fault routes (http.h) */
    int unbounded_routes;   /* lift the routes' PVT_HTTP_BOUND_* bounds (http.h) */
    /*
     * > 0: one more descriptor the driver waits on (pvt serve's control
     * socket): supervise returns as soon as it is readable, and a worker
     * process closes its copy at start.
     */
    int watch_fd;
    struct pvt_serve_offload offload;
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
    struct pvt_serve_gen *gen; /* this ring's serving state (in its info) */
    struct pvt_ring *const *rings; /* every ring of the region (2 x nslots), for /stats */
    int nslots;
    pid_t primary;             /* the primary process, named in /stats */
    int one_process;           /* thread: every worker's RSS is the process's */
};

/*
 * Serve until the ring's stop says so. stop 1: stop taking connections
 * (and take, first, what is already queued for this worker: what waits on
 * its reuseport socket or in its rr channel, and on the shared socket what
 * it was woken for), finish every request in flight (rr: and every connection already handed
 * over), close idle keep-alive connections, return once none is left.
 * stop 2: close everything now. With ring->max_jobs, a worker that answered
 * that many requests sets ring->info.recycle_due and goes on serving: the
 * driver starts its replacement and, once that accepts, stops it with stop
 * 1, as a rolling restart does. With ring->beat_ms, it stores a heartbeat
 * in ring->info at least that often. Returns 0, or -errno if the loop could
 * not be set up.
 */
int pvt_serve_worker_run(struct pvt_serve_worker *w);

/*
 * rr: give connection fd to the worker at the other end of chan. scm: pass
 * it by SCM_RIGHTS (the caller still closes its copy); else send the fd
 * number (a thread now owns fd). 0, -EAGAIN when the worker's channel is
 * full, or -errno.
 */
int pvt_serve_pass(int chan, int fd, int scm);

/*
 * A serving pool with room for cap slots maps 2 x cap rings, and slot i has
 * rings i and cap + i, one for its current worker and one for the worker
 * that replaces it (or the one that drains after being replaced). That
 * second ring is what lets a replacement be ready before its predecessor
 * stops accepting. Each ring's serving state is in its info (struct
 * pvt_serve_gen, ring.h); its descriptors are the driver's (below).
 */
/*
 * The sockets of one serving pool, opened by the driver: the listening
 * sockets (before any worker starts, so a forked worker inherits them and a
 * worker thread shares them), and per ring, before its first worker starts
 * (pvt_serve_net_prepare), its eventfd (how a worker is told to stop; the
 * worker finds its copy in ring->ctl_efd) and, for rr, its channel. The
 * driver keeps every descriptor here, in its own memory, by the ring's
 * place in the region, and never reads one back from a ring. scm: 1 when
 * the workers are processes (rr passes descriptors by SCM_RIGHTS), 0 for
 * threads (descriptor numbers).
 */
struct pvt_serve_net {
    struct pvt_serve_cfg cfg;
    int n;                         /* slots in use (scale changes it) */
    int cap;                       /* slots there is room for */
    int scm;
    int port;                      /* the port bound */
    int *lfds;                     /* [0] (shared, rr) or one per slot (reuseport), cap */
    struct pvt_ring **rings;       /* per slot: its current ring (the driver's array) */
    struct pvt_ring *const *all;   /* every ring of the region, 2 x cap, NULL once closed */
    int (*chan)[2];                /* per ring, 2 x cap: rr: [0] the driver's end, [1] the
                                    * worker's; -1: none */
    int *ctl;                      /* per ring, 2 x cap: its eventfd; -1: none */
    int rr_next;                   /* rr: whose turn is next */
    uint64_t handed, refused;      /* rr: connections passed, and closed unserved */
    /*
     * rr under overload: connections accepted that no worker had room for
     * yet, oldest first (a FIFO of held_cap at held_head). While any is
     * held the driver accepts nothing more; it waits on room_epfd, where
     * each taker's channel is armed for EPOLLOUT, or until retry_at. At
     * most one held connection comes from accept; the rest were reclaimed
     * from the channel of a worker that left (pvt_serve_net_reclaim), so
     * the FIFO never outgrows what the channels held.
     */
    int *held;
    int nheld, held_cap, held_head;
    int room_epfd;                 /* -1: none (not rr) */
    unsigned char *room_added;     /* per ring: its channel is in room_epfd */
    unsigned char *room_full;      /* per ring: the last pass found its channel full */
    int room_armed;                /* room_epfd has armed channels */
    uint64_t retry_at;             /* ns: held connections are tried again then (0: at
                                    * once; UINT64_MAX: only when room_epfd fires) */
    uint64_t accept_again;         /* ns: accepting paused for want of descriptors until then */
    uint64_t room_waits;           /* times no worker had room, so accepting paused */
    uint64_t fd_pauses;            /* times accepting paused for want of descriptors */
    uint64_t reclaimed;            /* connections taken back from a worker that left */
    unsigned char *roll;           /* per slot: a rolling restart is still to replace it */
    int roll_batch;                /* ... this many slots at a time */
};

/* 0, or the error of pvt_listen_open, -ENOMEM; nothing stays open on
 * failure. all: the region's 2 x cap rings; rings: the per-slot array the
 * driver keeps current (its first n entries set). */
int pvt_serve_net_open(struct pvt_serve_net *net, const struct pvt_serve_cfg *cfg, int n,
                       int cap, struct pvt_ring **rings, struct pvt_ring *const *all, int scm);
/* Close everything (threads: and every connection still in a channel). */
void pvt_serve_net_close(struct pvt_serve_net *net);
/* Before a worker starts on ring r in slot: open what it needs (r's eventfd,
 * its rr channel, the slot's reuseport socket) and clear its flags. 0 or
 * -errno. */
int pvt_serve_net_prepare(struct pvt_serve_net *net, int slot, struct pvt_ring *r);
/* The serving state of ring r (in its info). */
struct pvt_serve_gen *pvt_serve_net_gen(const struct pvt_serve_net *net, struct pvt_ring *r);
/* Ring r's place among net->all, found from its pointer; -1 if it is none
 * of them. */
int pvt_serve_net_index(const struct pvt_serve_net *net, const struct pvt_ring *r);
/* rr: ring r's channel, [0] the driver's end, [1] the worker's (-1: none). */
int *pvt_serve_net_chan(const struct pvt_serve_net *net, const struct pvt_ring *r);
/* pvt_serve_net_index, or abort: for a ring that comes from the driver's own
 * arrays, where any other answer is a broken invariant. */
int pvt__serve_ring_index(const struct pvt_serve_net *net, const struct pvt_ring *r);
/* Ask the worker on r to stop (pvt_ring_request_stop's how), and for a
 * serving pool wake it through r's eventfd. Works for a job pool too. */
void pvt_serve_net_stop(const struct pvt_serve_net *net, struct pvt_ring *r, unsigned how);
/* What slot's server on ring r needs, into *w. */
void pvt_serve_net_worker(const struct pvt_serve_net *net, int slot, struct pvt_ring *r,
                          const char *backend, pid_t primary, struct pvt_serve_worker *w);
/*
 * What a worker process on w keeps of the set after fork, into keep: its
 * listening socket or its end of an rr channel, and its ring's eventfd
 * (-1 for what it has none of). Returns PVT_SERVE_KEEP. The worker closes
 * every other descriptor (shared/base/child.h), the other workers' and the
 * driver's (the driver's ends of the channels, rr's held connections and
 * its epoll, the watch pipe), so that the driver's end of a channel has one
 * owner, and a worker sees the driver go as end of file.
 */
#define PVT_SERVE_KEEP 3
int pvt_serve_worker_keep(const struct pvt_serve_worker *w, int *keep);
/*
 * rr, in the driver, before it waits: the descriptor to wait on for POLLIN
 * (the listening socket, or room_epfd while connections are held), or -1
 * for none now; *timeout_ms (-1: none) is lowered to when hand_out is due
 * again after a pause. Not rr: -1.
 */
int pvt_serve_net_poll_fd(const struct pvt_serve_net *net, uint64_t now, int *timeout_ms);
/* rr, in the driver, when that descriptor is readable, when it was -1,
 * or while connections are held (a call that finds nothing due costs a
 * system call):
 * hand the held connections out, then accept and pass a batch at most.
 * Returns how many connections it passed or held. */
int pvt_serve_net_hand_out(struct pvt_serve_net *net);
/* rr, in the driver, once ring r's worker left without reading its
 * channel (it died and no replacement starts at once on r, or it hangs):
 * take back every connection waiting there, to be handed to another
 * worker by the next hand_out. Returns how many. */
int pvt_serve_net_reclaim(struct pvt_serve_net *net, struct pvt_ring *r);
/* rr, in the driver, before a stop: hand out what waits in the backlog (a
 * bounded number of batches), so no connection the kernel accepted is left
 * there to be reset when the socket closes. */
void pvt_serve_net_hand_out_all(struct pvt_serve_net *net);
/* reuseport: the driver gives up slot's socket (a worker may still hold its
 * copy), so the kernel stops queueing connections there once that worker
 * closes it. */
void pvt_serve_net_retire(struct pvt_serve_net *net, int slot);
/* reuseport, threads: the same, but the driver's descriptor is the one
 * worker thread of ring r uses, so it becomes that worker's to close once it
 * stops accepting. */
void pvt_serve_net_hand_over(struct pvt_serve_net *net, int slot, struct pvt_ring *r);

/*
 * What restart and scale share in both backends. pvt_serve_restart: mark
 * every slot in use for a rolling restart, batch at a time (the backend
 * carries it out and clears each mark); 0, or the error ops->restart
 * returns for these arguments (pvt.h).
 * pvt_serve_scale: the same checks for scale, then one(arg, up) for each
 * slot to add (up 1) or remove (up 0), stopping at the first error; one
 * calls pvt_serve_net_set_slots. Returns net->n after, or that first error
 * when nothing changed.
 */
int pvt_serve_restart(struct pvt_serve_net *net, int stopping, int batch);
int pvt_serve_scale(struct pvt_serve_net *net, int stopping, int delta,
                    int (*one)(void *arg, int up), void *arg);
/* The slots in use are now n (rr: the turn starts again at slot 0). */
void pvt_serve_net_set_slots(struct pvt_serve_net *net, int n);

/* Slots a pool made with cfg has room for: cfg->workers, or for a serving
 * pool cfg->max_workers when larger. -EINVAL for a bad worker count, a
 * plan with fewer sets than workers, or a bad offload
 * (pvt_serve_offload_check). */
int pvt_serve_cap(const struct pvt_pool_cfg *cfg);
/* The CPU set of each of cap slots into sets: the plan's, and past its
 * last, the plan's again in turn. 1 when workers are to bind, 0 (sets left
 * alone) without a plan or with an unbound one. */
int pvt_serve_plan_sets(const struct pvt_plan *plan, int cap, cpu_set_t *sets);

/* "empty", "starting", "ready", "stopping" or "exited" (enum
 * pvt_worker_state), "unknown" for anything else. */
const char *pvt_worker_state_name(int state);

/* GET /stats as w's worker sees the pool, into buf: its length, or -ENOSPC
 * when it does not fit (serve_stats.c). */
int pvt__serve_stats_json(const struct pvt_serve_worker *w, char *buf, size_t len);

/* rr's counters into st (handed_out, refused, room_waits, fd_pauses,
 * reclaimed, conns_lost); zeros for the other distributions. */
void pvt_serve_net_stats(const struct pvt_serve_net *net, struct pvt_pool_stats *st);

/* rr's own state in a pool's set of sockets (serve_rr.c): made by
 * pvt_serve_net_open (0, -ENOMEM or -errno), freed by pvt_serve_net_close
 * (held connections are closed); a worker process keeps none of it
 * (pvt_serve_worker_keep). */
int pvt__serve_rr_open(struct pvt_serve_net *net);
void pvt__serve_rr_close(struct pvt_serve_net *net);

/* One connection from an rr channel: its fd, -EAGAIN when none waits,
 * -EPIPE when the other end is gone, -EMFILE when one came by SCM_RIGHTS
 * but this process had no descriptor to receive it (the kernel dropped
 * it: the connection is lost), or -errno. */
int pvt__serve_chan_recv(int chan, int scm);

#endif
