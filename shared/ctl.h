/*
 * ctl.h: `pvt serve`'s control socket, and the client `pvt ctl` uses.
 *
 * DESIGN
 * A unix stream socket, $XDG_RUNTIME_DIR/pvt-PID.ctl (or /tmp/pvt-PID.ctl),
 * mode 0600, named in the ready line and removed at exit. The server's
 * primary serves it from its own loop, with no thread: the pool's wait
 * returns when the socket is readable (serve.h: watch_fd), and
 * pvt_ctl_serve then takes the waiting clients one at a time. Each sends
 * one request line, a JSON object, and gets one JSON line back:
 *
 *   {"cmd":"status"}                 {"ok":true,"backend":..,"workers":[..]}
 *   {"cmd":"restart","batch":B}      {"ok":true,"workers":N}
 *   {"cmd":"scale","delta":+N|-N}    {"ok":true,"workers":N}
 *   {"cmd":"stop"}                   {"ok":true}
 *
 * and {"ok":false,"error":"..."} for anything else: a line that is not
 * JSON, too long (over PVT_CTL_MAX_LINE), an unknown command, or an op the
 * pool refused. A client gets PVT_CTL_READ_MS to send its line, so a slow
 * or silent one delays the primary that long at most; meanwhile new
 * connections wait in the listening sockets' backlog, none is refused.
 */
#ifndef PVT_CTL_H
#define PVT_CTL_H

#include <stddef.h>
#include <sys/types.h>

#include "pvt.h"

#define PVT_CTL_MAX_LINE 1024
#define PVT_CTL_READ_MS 200
#define PVT_CTL_MAX_REPLY (256 * 1024)

/* The socket path of server pid into buf. 0, or -ENAMETOOLONG. */
int pvt_ctl_path(pid_t pid, char *buf, size_t len);

/* Listen on path (a stale socket there is replaced): the listening fd
 * (non-blocking, CLOEXEC, mode 0600), or -errno. */
int pvt_ctl_listen(const char *path);

/* What pvt_ctl_serve saw asked of the server beyond what it did itself. */
#define PVT_CTL_WANT_STOP 1
#define PVT_CTL_DID_RESTART 2 /* a rolling restart was started */

/*
 * Serve the clients waiting on lfd (up to a few, without blocking for more
 * than PVT_CTL_READ_MS each) with ops on pool. status, restart and scale
 * are done here; stop is answered and returned as PVT_CTL_WANT_STOP for the
 * caller to carry out, a restart begun as PVT_CTL_DID_RESTART. Returns those flags (0: nothing to do). Never fails:
 * a client that misbehaves gets an error reply or is dropped.
 */
int pvt_ctl_serve(int lfd, const struct pvt_pool_ops *ops, struct pvt_pool *pool);

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
