/*
 * serve_client.h: a small blocking HTTP/1.1 client for the serve tests.
 *
 * No cmocka here: these functions run on helper threads, so they report
 * through return codes and the caller records what went wrong. Every socket
 * has SO_RCVTIMEO and SO_SNDTIMEO set, so no call blocks past its timeout:
 * a server that hangs turns into -ETIMEDOUT, never into a hung test.
 */
#ifndef PVT_TEST_SERVE_CLIENT_H
#define PVT_TEST_SERVE_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SC_BUF       (64 * 1024)
#define SC_HASH_PATH "/hash?bytes=1024" /* a route whose answer sc_check_ok knows */

/* The first thing that went wrong on a helper thread, for the test thread to
 * assert on after joining it. */
struct sc_note {
    char msg[512];
};

/* Record a failure in n, unless one is there already (the later ones usually
 * follow from the first). */
void sc_note(struct sc_note *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

uint64_t sc_now_ms(void);
void sc_sleep_ms(int ms);

/* One connection and the bytes read from it that are not yet consumed. */
struct sc_conn {
    int fd; /* -1: closed */
    size_t len;
    char buf[SC_BUF];
};

/* One response. The body is NUL-terminated (and cut to SC_BUF - 1 bytes). */
struct sc_resp {
    int status;
    long content_length; /* -1: no Content-Length header */
    int close;           /* it said "Connection: close" */
    size_t body_len;
    char body[SC_BUF];
};

/* Connect to 127.0.0.1:port with timeout_ms on every send and receive.
 * 0, or -errno of socket, setsockopt or connect (c->fd is -1 then). */
int sc_connect(struct sc_conn *c, int port, int timeout_ms);

/* Close if open; a second call does nothing. */
void sc_close(struct sc_conn *c);

/* Send all of buf (MSG_NOSIGNAL). 0, -ETIMEDOUT, or -errno. */
int sc_send(struct sc_conn *c, const char *buf, size_t len);

/* Append "GET path HTTP/1.1" with a Host header to out (cap bytes, holding
 * *len); 0, or -ENOSPC. */
int sc_build_get(char *out, size_t cap, size_t *len, const char *path);

/* Send one GET for path. As sc_send. */
int sc_get(struct sc_conn *c, const char *path);

/*
 * Read the next complete response (its head and Content-Length bytes of
 * body). 0; -EPIPE when the peer closed first (or reset the connection),
 * -ETIMEDOUT, -EPROTO for bytes that are not a response, -E2BIG for one that
 * does not fit in SC_BUF, or -errno.
 */
int sc_read_response(struct sc_conn *c, struct sc_resp *r);

/*
 * Wait up to timeout_ms for the peer to close. 0 when it closed (end of file
 * or reset) and sent nothing first, -EPROTO when bytes came instead (left in
 * c->buf), -ETIMEDOUT, or -errno.
 */
int sc_wait_closed(struct sc_conn *c, int timeout_ms);

/* 1 when the connection is still open and nothing is waiting to be read,
 * 0 when it was closed or data waits; never blocks. */
int sc_idle_open(struct sc_conn *c);

/*
 * Check r, the answer to GET path ("/" or SC_HASH_PATH): 200, keep-alive,
 * and exactly the body shared/serve/http.c writes. "/" names a slot below workers
 * and a pid; pid[slot] keeps it, and a slot naming two pids fails. 0, or -1
 * with a note in n naming who.
 */
int sc_check_ok(const struct sc_resp *r, const char *path, int workers, pid_t *pid,
                struct sc_note *n, const char *who);

/*
 * Send raw on c and expect an error response: status, a body that begins
 * with it ("404 Not Found\n"), "Connection: close" exactly when closes, and
 * then (closes) end of file within timeout_ms. 1 when a response came (the
 * server counts it) and 0 when none did; failures go to n, naming what.
 */
int sc_expect_error(struct sc_conn *c, struct sc_resp *r, const char *raw, size_t len, int status,
                    int closes, int timeout_ms, struct sc_note *n, const char *what);

/*
 * Parse a /stats body: it must name backend and dist and list `workers`
 * workers, each with an integer "requests" and, where pid[slot] is known,
 * that pid. *top: the body's total "requests"; *sum: the workers' sum. 0, or
 * -1 with a note in n.
 */
int sc_stats_parse(const char *body, const char *backend, const char *dist, int workers,
                   const pid_t *pid, uint64_t *top, uint64_t *sum, struct sc_note *n);

/* Whether something accepts connections on 127.0.0.1:port: 1, 0 (refused),
 * or -errno for any other failure. */
int sc_port_open(int port);

#endif
