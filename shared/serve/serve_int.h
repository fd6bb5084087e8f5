/*
 * serve_int.h: what serve.c (a worker's loop: where connections come from,
 * stopping, time) and serve_conn.c (the connections themselves) share: the
 * worker's server and its connections. Internal to shared/serve/.
 */
#ifndef PVT_SERVE_INT_H
#define PVT_SERVE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "serve.h"

#define READ_BUF (16 * 1024)
#define DRAIN_GRACE_MS 1000 /* draining: an idle keep-alive connection gets this long */

struct conn {
    int fd;
    int idx;      /* in the worker's array */
    int heap;     /* in the sleep heap, or -1 */
    unsigned ev;  /* events registered with epoll */
    int paused;
    int closing;
    int job;      /* its offloaded job's entry (serve_offload.c), or -1 */
    uint64_t deadline;  /* ns; 0: none (paused) */
    uint64_t resume_at; /* ns, while paused */
    struct pvt_http_conn *h;
    struct conn *next_dead; /* closed during this turn of the loop */
};

struct pvt__offload;

struct server {
    struct pvt_serve_worker *w;
    struct pvt__offload *off; /* the worker's job pool (serve_offload.c); NULL: none */
    struct pvt_http_env env;
    struct pvt_work_ctx work;
    int epfd;
    int src_fd;        /* listen_fd or chan_fd, while taking connections */
    int src_on;        /* src_fd is in the epoll set */
    uint64_t accept_again; /* ns: accepting paused after EMFILE until then */
    int fd_room;           /* connections this worker process has descriptors for */
    struct conn **conns;
    int nconns, cap;
    struct conn **heap;
    int nheap, heapcap;
    struct conn *dead; /* freed once the turn's events are handled */
    uint64_t responses;
    uint64_t idle_ns, request_ns;
    int stopping;
    int recycling; /* max_jobs reached: ring->info.recycle_due is set */
    int drain_marked; /* every connection was told to close after its next response */
    char buf[READ_BUF];
};

/* A connection accepted or handed over on fd, registered for reading; on
 * failure (no memory, epoll) fd is closed and nothing else changes. */
void pvt__serve_conn_add(struct server *s, int fd, uint64_t now);
/* Act on the epoll events of c (read, write, or close it). */
void pvt__serve_conn_event(struct server *s, struct conn *c, unsigned events, uint64_t now);
/* Close c now; it is freed by pvt__serve_free_dead at the end of the turn. */
void pvt__serve_conn_close(struct server *s, struct conn *c);
/* Free the connections closed during this turn. */
void pvt__serve_free_dead(struct server *s);
/* The bytes of c's output not yet written. */
size_t pvt__serve_out_pending(const struct conn *c);
/* Close the connections past their deadline. */
void pvt__serve_sweep(struct server *s, uint64_t now);
/* Resume the parked (/sleep) connections whose time has come. */
void pvt__serve_resume_due(struct server *s, uint64_t now);
/* Act on what http.c returned for c (a pvt_http_state or -errno): close,
 * park, hand a job to the pool, and write what is pending. */
void pvt__serve_conn_state(struct server *s, struct conn *c, int st, uint64_t now);

/*
 * Offload (serve_offload.c). init: with cfg->offload.ops, the worker's job
 * pool, its event_fd in s->epfd tagged by s->off itself; 0 or the error of
 * create or epoll_ctl (s->off stays NULL). fini: stop (force: at once, else
 * after DRAIN_GRACE_MS) and destroy it; call once every connection is
 * closed. submit: c is paused on PVT_HTTP_JOB: queue its job, or answer 503
 * and go on; returns the connection's new state, as feed. forget: c closes
 * with a job in flight: its result will be dropped. event: the tagged
 * descriptor was readable. turn: at the end of each turn of the loop: take
 * the results that are there and arm the descriptor for the next one.
 * publish: the counts into the worker's ring. tick: at each sweep, ask
 * the turn to poll where no descriptor would say so (serve_offload.c).
 */
int pvt__serve_offload_init(struct server *s);
void pvt__serve_offload_fini(struct server *s, int force);
int pvt__serve_offload_submit(struct server *s, struct conn *c);
void pvt__serve_offload_forget(struct server *s, struct conn *c);
void pvt__serve_offload_event(struct server *s);
/* Up to max results from the pool when the loop was told to look (the pool's
 * event, or a submit); 0 when not, or on the pool's error. Answering them may
 * submit the next pipelined job, which asks for another look. */
int pvt__serve_offload_poll(struct server *s, struct pvt_result *res, int max);
/* Settle one result: the connection it answers, or NULL (gone, or not ours). */
struct conn *pvt__serve_offload_take(struct server *s, const struct pvt_result *r);
/* Answer the connections whose offloaded jobs finished (serve_conn.c). */
void pvt__serve_conn_jobs(struct server *s, uint64_t now);
void pvt__serve_offload_publish(const struct server *s);
void pvt__serve_offload_tick(struct server *s);
/* 1 while jobs are out (the sweep then runs even with no connection). */
int pvt__serve_offload_busy(const struct server *s);

#endif
