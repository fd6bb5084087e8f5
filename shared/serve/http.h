/*
 * http.h: HTTP/1.1 request handling, shared by both backends' servers.
 *
 * No sockets here. A server feeds the bytes it reads into a connection and
 * writes out the bytes it produces, so every path from request bytes to
 * response bytes is tested (and fuzzed) without a network. Parsing is done
 * by http-parser (Debian's libhttp-parser, the parser Node.js and wrk used).
 *
 * Keep-alive and pipelining: every complete request in the input gets its
 * response appended to the output, in order. A request that waits (/sleep)
 * pauses the connection: the server stops feeding it, waits the time
 * pvt_http_pause_ms gives (on a timer, not blocking its event loop), then
 * calls pvt_http_resume, which answers it and goes on with any pipelined
 * input already buffered.
 *
 * Offload (env->offload): the workload and fault routes (/cpu, /hash, /mem,
 * /crash, /abort, /exit, /hang, /slow, /leak) are not run here but paused
 * the same way, as a job (PVT_HTTP_JOB): the server reads the job with
 * pvt_http_job, runs it elsewhere (a pool of its own, serve_offload.c), and
 * calls pvt_http_job_done with its outcome, which writes the body the route
 * writes inline (or 500 for a job that failed) and goes on with the
 * pipelined input, as pvt_http_resume does; or pvt_http_job_busy, a 503
 * that leaves the connection open. /, /sleep, /stats and /scribble stay
 * inline.
 *
 * Routes: GET / (hello naming the worker and pid), /cpu?n=ITERATIONS (the
 * seeds' /heavy loop), /hash?bytes=N, /mem?bytes=N, /sleep?ms=N, /stats
 * (JSON from the server's callback). With env->allow_faults, the fault routes
 * of fault.h too: /crash, /abort, /exit?code=N, /hang, /slow?ms=N, /leak?mb=N
 * (404 without it); the first four never answer. Errors: 400 for a malformed request or
 * argument (an argument over its PVT_HTTP_BOUND_* bound gets a body saying
 * so) or for HTTP/0.9, 404 for an unknown path, 405 for a method other than
 * GET/HEAD, 413 for a body over PVT_HTTP_MAX_BODY, 414 for a URI over
 * PVT_HTTP_MAX_URI, 431 for headers over PVT_HTTP_MAX_HEADERS, 505 for an
 * HTTP major version other than 1; each error but 404 and 405 (whose body is
 * read and dropped) closes the connection after its response.
 */
#ifndef PVT_HTTP_H
#define PVT_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "shared/work/work.h"

#define PVT_HTTP_MAX_URI 2048
#define PVT_HTTP_MAX_HEADERS 8192 /* bytes of request line and headers together */
#define PVT_HTTP_MAX_BODY 65536   /* a request body larger than this: 413 */
/* The workload routes' default upper bounds, so that a server reachable
 * from other machines cannot be told to spin or allocate for long:
 * /cpu?n= at most this many iterations, /hash and /mem at most this many
 * bytes. env->unbounded_routes (pvt serve --unbounded-routes) lifts them,
 * up to the routes' own limits (100G iterations, 1 GiB, 4 GiB). */
#define PVT_HTTP_BOUND_CPU 1000000000ull
#define PVT_HTTP_BOUND_BYTES (256ull << 20)

/* What a connection knows about the worker serving it. */
struct pvt_http_env {
    int worker;                /* the slot, named in "/" */
    pid_t pid;                 /* the process (proc) or thread id (thread) */
    struct pvt_work_ctx *work; /* the worker's scratch space for the workloads */
    /* /stats: write a JSON body into buf (len bytes), return its length or
     * -errno; NULL makes /stats a 404. */
    int (*stats_cb)(void *arg, char *buf, size_t len);
    void *stats_arg;
    uint64_t *responses;       /* incremented once per response, if not NULL */
    int allow_faults;          /* serve the fault routes (fault.h) */
    int unbounded_routes;      /* lift the PVT_HTTP_BOUND_* limits (see above) */
    int offload;               /* the job routes pause as PVT_HTTP_JOB (see above) */
};

enum pvt_http_state {
    PVT_HTTP_MORE = 0,  /* keep reading */
    PVT_HTTP_CLOSE = 1, /* write out what is pending, then close */
    PVT_HTTP_PAUSE = 2, /* stop feeding; resume after pvt_http_pause_ms() */
    PVT_HTTP_JOB = 3    /* stop feeding; run pvt_http_job(), then pvt_http_job_done() */
};

struct pvt_http_conn;

/* A connection's state. env must outlive it. 0 or -ENOMEM. */
int pvt_http_conn_new(const struct pvt_http_env *env, struct pvt_http_conn **out);
void pvt_http_conn_free(struct pvt_http_conn *c);

/*
 * Feed len bytes read from the socket. Returns a pvt_http_state, or
 * -ENOMEM. Feeding a paused or closing connection is not allowed (-EINVAL).
 */
int pvt_http_feed(struct pvt_http_conn *c, const char *buf, size_t len);

/* The peer closed its side: PVT_HTTP_CLOSE (a partial request is dropped). */
int pvt_http_eof(struct pvt_http_conn *c);

/* While paused: how long to wait, in ms. */
uint64_t pvt_http_pause_ms(const struct pvt_http_conn *c);

/* The pause is over: answer the waiting request and go on. As feed. */
int pvt_http_resume(struct pvt_http_conn *c);

/* While paused for a job (PVT_HTTP_JOB): the job to run (its id is left
 * 0, the caller's to set). 0, or -EINVAL when no job waits. */
int pvt_http_job(const struct pvt_http_conn *c, struct pvt_job *job);

/*
 * The job came back: status is an enum pvt_job_status (pvt.h), value its
 * result. PVT_JOB_OK writes the response the route writes inline (its 500s
 * included); any other status a 500. Then goes on with buffered pipelined
 * input. As feed; -EINVAL when no job waits.
 */
int pvt_http_job_done(struct pvt_http_conn *c, int status, uint64_t value);

/*
 * The job could not be queued (queue holds that many already): answer 503
 * Service Unavailable, whose body names pvt serve's --offload-queue, keep
 * the connection open, and go on. As feed; -EINVAL when no job waits.
 */
int pvt_http_job_busy(struct pvt_http_conn *c, unsigned queue);

/* The bytes waiting to be written, and how many were written. */
const char *pvt_http_output(const struct pvt_http_conn *c, size_t *len);
void pvt_http_output_done(struct pvt_http_conn *c, size_t n);

/* 1 while a request has begun to arrive and is not yet answered (its
 * bytes are partly read, or it waits in a pause). */
int pvt_http_mid_request(const struct pvt_http_conn *c);

/* The server is draining: the next response (the one in progress, if any)
 * says "Connection: close" and the connection closes after it, so a client
 * never sends a request into a connection the server is about to close. */
void pvt_http_close_after_next(struct pvt_http_conn *c);

/* Requests answered on this connection. */
uint64_t pvt_http_requests(const struct pvt_http_conn *c);

#endif
