/*
 * ctl.h: `pvt serve`'s control socket, and the client `pvt ctl` uses.
 *
 * DESIGN
 * A unix stream socket, DIR/ctl, where DIR is a directory made for it
 * (mkdtemp: $XDG_RUNTIME_DIR/pvt-PID.XXXXXX, or /tmp/pvt-PID.XXXXXX), mode
 * 0700, the socket itself mode 0600: no name another user could take first,
 * and no one else may connect. Named in the ready line; the socket and its
 * directory are removed at exit. The server's primary serves it from its
 * own loop, with no thread and without ever blocking: the pool's wait
 * watches one descriptor (serve.h: watch_fd), an epoll set of the listening
 * socket and every client, and pvt_ctl_serve moves each client on as far as
 * it can go without waiting. Each sends one request line, a JSON object,
 * and gets one JSON line back, then the server closes the connection:
 *
 *   {"cmd":"status"}                 {"ok":true,"backend":..,"workers":[..]}
 *   {"cmd":"restart","batch":B}      {"ok":true,"workers":N}
 *   {"cmd":"scale","delta":+N|-N}    {"ok":true,"workers":N}
 *   {"cmd":"stop"}                   {"ok":true}
 *
 * and {"ok":false,"error":"..."} for anything else: a line that is not
 * JSON, too long (over PVT_CTL_MAX_LINE), an unknown command, or an op the
 * pool refused. A reply is queued and sent as the client takes it; a client
 * that has not sent its line and taken its whole reply within client_ms of
 * its connect is dropped. PVT_CTL_CLIENTS are served at once; more wait in
 * the listening socket's backlog, none is refused.
 */
#ifndef PVT_CTL_H
#define PVT_CTL_H

#include <stddef.h>
#include <sys/types.h>

#include "shared/core/pvt.h"

#define PVT_CTL_MAX_LINE 1024
#define PVT_CTL_CLIENT_MS 10000 /* to send a line and take the reply */
#define PVT_CTL_CLIENTS 16      /* served at once */
#define PVT_CTL_MAX_REPLY (1024 * 1024)

/*
 * Make the control socket's directory for server pid (mode 0700) and write
 * the socket's path in it into buf. 0; -ENAMETOOLONG, or -errno of mkdtemp.
 */
int pvt_ctl_path(pid_t pid, char *buf, size_t len);

/* Remove the socket at path and the directory pvt_ctl_path made for it. */
void pvt_ctl_path_remove(const char *path);

/* Listen on path (a stale socket there is replaced): the listening fd
 * (non-blocking, CLOEXEC, mode 0600), or -errno. */
int pvt_ctl_listen(const char *path);

/* What pvt_ctl_serve saw asked of the server beyond what it did itself. */
#define PVT_CTL_WANT_STOP 1
#define PVT_CTL_DID_RESTART 2 /* a rolling restart was started */

struct pvt_ctl;

/*
 * A server on the listening socket lfd (pvt_ctl_listen; it is closed with
 * the server, even when this fails), each client bounded to client_ms (0:
 * PVT_CTL_CLIENT_MS). 0 and *out, or -errno.
 */
int pvt_ctl_open(int lfd, int client_ms, struct pvt_ctl **out);

/* The descriptor to wait on (an epoll set, CLOEXEC): readable when
 * pvt_ctl_serve has something to do. Level-triggered, and readable only
 * while it has. */
int pvt_ctl_fd(const struct pvt_ctl *c);

/*
 * Do what can be done without blocking: accept, read request lines, answer
 * them with ops on pool, send what the clients take, drop the clients past
 * their bound. status, restart and scale are done here; stop is answered
 * and returned as PVT_CTL_WANT_STOP for the caller to carry out, a restart
 * begun as PVT_CTL_DID_RESTART. Returns those flags (0: nothing to do).
 * Never fails: a client that misbehaves gets an error reply or is dropped.
 * Call it whenever pvt_ctl_fd is readable, and now and then besides (the
 * bound of a client that went quiet is checked here).
 */
int pvt_ctl_serve(struct pvt_ctl *c, const struct pvt_pool_ops *ops, struct pvt_pool *pool);

/*
 * Take fd, a connected stream socket, as a client (as if accepted). 0, or
 * -EBUSY when PVT_CTL_CLIENTS are being served (fd is closed then), or
 * -errno. For tests and the fuzzer.
 */
int pvt_ctl_adopt(struct pvt_ctl *c, int fd);

/* Close every client, the epoll set and the listening socket; free c. */
void pvt_ctl_close(struct pvt_ctl *c);

/*
 * What pvt_ctl_serve answers to one request line (NUL-terminated, without
 * its newline; at most PVT_CTL_MAX_LINE bytes): the reply line, one JSON
 * object without a newline, malloc'd (the caller frees), NULL when out of
 * memory. Carries out status, restart and scale on pool; *flags gets the
 * PVT_CTL_ bits. Exposed for tests and the fuzzer.
 */
char *pvt_ctl_answer(const char *line, const struct pvt_pool_ops *ops, struct pvt_pool *pool,
                     int *flags);

/*
 * The client: connect to path, send req (one line, without its newline) and
 * read the reply line into reply (len bytes, NUL-terminated, no newline).
 * 0; -ENOENT or -ECONNREFUSED when no server listens there, -ETIMEDOUT
 * past timeout_ms, -E2BIG for a reply that does not fit, or -errno.
 */
int pvt_ctl_call(const char *path, const char *req, char *reply, size_t len, int timeout_ms);

#endif
