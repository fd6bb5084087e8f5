/*
 * ctl.c: the control socket of `pvt serve` and its client (see ctl.h).
 */
#include "ctl.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "place.h"
#include "ring.h" /* pvt_now_ns */
#include "serve.h"
#include "sup.h"

#define CTL_CLIENTS 8 /* served per call, at most */

int pvt_ctl_path(pid_t pid, char *buf, size_t len)
{
    const char *dir = getenv("XDG_RUNTIME_DIR");
    struct sockaddr_un sa;
    int n;

    if (!dir || dir[0] != '/' || access(dir, W_OK | X_OK) != 0)
        dir = "/tmp";
    n = snprintf(buf, len, "%s/pvt-%d.ctl", dir, (int)pid);
    if (n < 0 || (size_t)n >= len || (size_t)n >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    return 0;
}

static int unix_addr(const char *path, struct sockaddr_un *sa)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa->sun_path))
        return -ENAMETOOLONG;
    strcpy(sa->sun_path, path);
    return 0;
}

int pvt_ctl_listen(const char *path)
{
    struct sockaddr_un sa;
    mode_t old;
    int fd, rc;

    rc = unix_addr(path, &sa);
    if (rc < 0)
        return rc;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    unlink(path); /* a socket a dead server left behind */
    old = umask(0177); /* born 0600: no moment where others may connect */
    rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (rc < 0 || chmod(path, 0600) < 0 || listen(fd, 16) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

/* ---- the server side ---- */

/* {"ok":false,"error":...}. The message may quote the request (jansson's
 * error text does, and a command name cut short may end inside a UTF-8
 * sequence): any byte that is not printable ASCII becomes '?', so the reply
 * is always valid JSON. */
static json_t *error_reply(const char *fmt, const char *arg)
{
    char msg[256];
    unsigned char *c;

    snprintf(msg, sizeof(msg), fmt, arg);
    for (c = (unsigned char *)msg; *c; c++)
        if (*c < 0x20 || *c > 0x7e)
            *c = '?';
    return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

static json_t *worker_json(const struct pvt_worker_stats *w, int threads, long proc_rss,
                           uint64_t now)
{
    json_t *cpus = json_array();
    char list[256];
    int c;

    for (c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &w->bound))
            json_array_append_new(cpus, json_integer(c));
    if (pvt_cpuset_format(&w->bound, list, sizeof(list)) < 0)
        strcpy(list, "?");
    return json_pack("{s:i, s:i, s:s, s:o, s:s, s:I, s:i, s:I, s:i, s:f}", "slot", w->slot,
                     threads ? "tid" : "pid", (int)w->pid, "cpus", list, "cpu_list", cpus,
                     "state", pvt_worker_state_name(w->state), "requests", (json_int_t)w->requests,
                     "conns", w->conns,
                     "rss_kb", (json_int_t)(threads ? proc_rss : pvt_sup_rss_kb(w->pid)),
                     "restarts", (int)w->restarts, "uptime_s",
                     w->ready_ns && now > w->ready_ns ? (double)(now - w->ready_ns) / 1e9 : 0.0);
}

static json_t *status_reply(const struct pvt_pool_ops *ops, struct pvt_pool *pool)
{
    struct pvt_worker_stats *w = calloc(PVT_MAX_WORKERS, sizeof(*w));
    struct pvt_pool_stats st = {.w = w};
    json_t *arr, *reply;
    uint64_t now = pvt_now_ns();
    int i, threads;

    if (!w)
        return error_reply("%s", "out of memory");
    ops->stats(pool, &st);
    threads = strcmp(st.backend, "thread") == 0;
    arr = json_array();
    for (i = 0; i < st.workers; i++)
        json_array_append_new(arr, worker_json(&w[i], threads, pvt_sup_rss_kb(getpid()), now));
    reply = json_pack("{s:b, s:s, s:i, s:i, s:i, s:i, s:i, s:I, s:I, s:I, s:I, s:o}", "ok", 1,
                      "backend", st.backend, "pid", (int)getpid(), "port", st.port, "live",
                      st.live, "rolling", st.rolling, "draining", st.draining, "deaths",
                      (json_int_t)st.deaths, "refused", (json_int_t)st.refused, "room_waits",
                      (json_int_t)st.room_waits, "conns_lost", (json_int_t)st.conns_lost,
                      "workers", arr);
    free(w);
    return reply;
}

static json_t *op_reply(int rc, const char *what)
{
    if (rc >= 0)
        return json_pack("{s:b, s:i}", "ok", 1, "workers", rc);
    if (rc == -ENOSPC)
        return error_reply("%s: no slot left (pvt serve --max-workers)", what);
    if (rc == -EINVAL)
        return error_reply("%s: out of range (at least one worker stays)", what);
    if (rc == -EBUSY)
        return error_reply("%s: the last slot is still draining; try again", what);
    return error_reply("%s: refused", what);
}

/* The reply to one request line; *flags gets PVT_CTL_WANT_STOP. */
static json_t *handle(const char *line, const struct pvt_pool_ops *ops, struct pvt_pool *pool,
                      int *flags)
{
    json_error_t err;
    json_t *req = json_loads(line, JSON_REJECT_DUPLICATES, &err), *reply;
    const char *cmd = NULL;
    json_int_t arg = 0;
    struct pvt_pool_stats st = {0};
    int rc;

    if (!req || !json_is_object(req)) {
        json_decref(req);
        return error_reply("not a JSON object: %s", line[0] ? err.text : "empty line");
    }
    cmd = json_string_value(json_object_get(req, "cmd"));
    if (!cmd) {
        reply = error_reply("%s", "no \"cmd\" string");
    } else if (strcmp(cmd, "status") == 0) {
        reply = status_reply(ops, pool);
    } else if (strcmp(cmd, "restart") == 0 || strcmp(cmd, "scale") == 0) {
        int scale = cmd[1] == 'c';
        json_t *a = json_object_get(req, scale ? "delta" : "batch");
        arg = a ? json_integer_value(a) : scale ? 0 : 1;
        if ((a && !json_is_integer(a)) || arg < -PVT_MAX_WORKERS || arg > PVT_MAX_WORKERS) {
            reply = error_reply("%s: bad argument", cmd);
        } else if (!(scale ? ops->scale : ops->restart)) {
            reply = error_reply("%s: this backend cannot", cmd);
        } else {
            rc = scale ? ops->scale(pool, (int)arg) : ops->restart(pool, (int)arg);
            if (!scale && rc == 0) {
                *flags |= PVT_CTL_DID_RESTART;
                ops->stats(pool, &st);
                rc = st.workers;
            }
            reply = op_reply(rc, cmd);
        }
    } else if (strcmp(cmd, "stop") == 0) {
        *flags |= PVT_CTL_WANT_STOP;
        reply = json_pack("{s:b}", "ok", 1);
    } else {
        reply = error_reply("unknown command '%.64s' (status, restart, scale or stop)", cmd);
    }
    json_decref(req);
    return reply;
}

/* One line from fd within PVT_CTL_READ_MS: its length, or -1 (error,
 * timeout, end of file first), or -E2BIG for an oversized one. */
static int read_line(int fd, char *buf, size_t cap)
{
    uint64_t end = pvt_now_ns() + PVT_CTL_READ_MS * 1000000ull, now;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    size_t len = 0;
    char *nl;
    ssize_t n;

    for (;;) {
        n = recv(fd, buf + len, cap - 1 - len, MSG_DONTWAIT);
        if (n > 0) {
            len += (size_t)n;
            buf[len] = '\0';
            if ((nl = memchr(buf, '\n', len))) {
                *nl = '\0';
                return (int)(nl - buf);
            }
            if (len >= cap - 1)
                return -E2BIG;
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            return -1;
        now = pvt_now_ns();
        if (now >= end || poll(&pfd, 1, (int)((end - now) / 1000000u) + 1) == 0)
            return -1;
    }
}

/* The reply as one line (JSON_COMPACT escapes every newline in a string),
 * without its newline; NULL when out of memory. */
static char *dump(json_t *reply)
{
    char *s = reply ? json_dumps(reply, JSON_COMPACT) : NULL;

    json_decref(reply);
    return s;
}

char *pvt_ctl_answer(const char *line, const struct pvt_pool_ops *ops, struct pvt_pool *pool,
                     int *flags)
{
    return dump(handle(line, ops, pool, flags));
}

static void send_reply(int fd, char *s)
{
    struct timeval tv = {0, PVT_CTL_READ_MS * 1000};
    size_t off = 0, len;
    ssize_t n;

    if (!s)
        return;
    len = strlen(s);
    s[len] = '\n'; /* replaces the NUL, which is not sent */
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    while (off <= len) {
        n = send(fd, s + off, len + 1 - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    free(s);
}

int pvt_ctl_serve(int lfd, const struct pvt_pool_ops *ops, struct pvt_pool *pool)
{
    char line[PVT_CTL_MAX_LINE + 1];
    int k, fd, n, flags = 0;

    for (k = 0; k < CTL_CLIENTS; k++) {
        fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            break;
        n = read_line(fd, line, sizeof(line));
        if (n == -E2BIG)
            send_reply(fd, dump(error_reply("request longer than %s bytes", "1024")));
        else if (n >= 0)
            send_reply(fd, pvt_ctl_answer(line, ops, pool, &flags));
        close(fd);
    }
    return flags;
}

/* ---- the client ---- */

int pvt_ctl_call(const char *path, const char *req, char *reply, size_t len, int timeout_ms)
{
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    struct sockaddr_un sa;
    size_t off = 0;
    ssize_t n;
    int fd, rc;

    rc = unix_addr(path, &sa);
    if (rc < 0)
        return rc;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
        connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        send(fd, req, strlen(req), MSG_NOSIGNAL) < 0 || send(fd, "\n", 1, MSG_NOSIGNAL) < 0)
        goto fail_errno;
    for (;;) {
        if (off + 1 >= len) {
            rc = -E2BIG;
            goto out;
        }
        n = recv(fd, reply + off, len - 1 - off, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto fail_errno;
        if (n == 0) {
            rc = -EPIPE; /* closed before a whole line */
            goto out;
        }
        off += (size_t)n;
        reply[off] = '\0';
        if (memchr(reply, '\n', off)) {
            *strchr(reply, '\n') = '\0';
            rc = 0;
            goto out;
        }
    }
fail_errno:
    rc = errno == EAGAIN ? -ETIMEDOUT : -errno;
out:
    close(fd);
    return rc;
}
