/*
 * ctl.c: the control socket of `pvt serve` and its client (see ctl.h).
 *
 * DESIGN
 * One thread, the caller's, owns everything here. A client's entry moves
 * one way: reading its line (watched for EPOLLIN), then sending its reply
 * (watched for EPOLLOUT), then dropped; every read and send is
 * non-blocking, so a client that is slow or silent costs the loop nothing
 * but its entry, which its deadline frees. The listening socket is in the
 * epoll set only while an entry is free, so a full table leaves new
 * connections in the backlog and never makes the set spin.
 */
#include "ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "shared/core/place.h"
#include "shared/base/clock.h"
#include "shared/serve/serve.h"
#include "shared/core/sup.h"

#define CTL_CLIENTS 8 /* served per call, at most */

int pvt_ctl_path(pid_t pid, char *buf, size_t len)
{
    const char *dir = getenv("XDG_RUNTIME_DIR");
    struct sockaddr_un sa;
    int n;

    if (!dir || dir[0] != '/' || access(dir, W_OK | X_OK) != 0)
        dir = "/tmp";
    n = snprintf(buf, len, "%s/pvt-%d.XXXXXX/ctl", dir, (int)pid);
    if (n < 0 || (size_t)n >= len || (size_t)n >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    buf[n - 4] = '\0'; /* mkdtemp takes the directory alone */
    if (!mkdtemp(buf))
        return -errno;
    buf[n - 4] = '/';
    return 0;
}

void pvt_ctl_path_remove(const char *path)
{
    char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
    char *slash;

    unlink(path);
    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        rmdir(dir);
    }
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

/* One worker's entry. A worker process has a pid and an RSS of its own; a
 * worker thread has a tid, and the RSS is its process's (proc_rss). */
static json_t *worker_json(const struct pvt_worker_stats *w, int processes, long proc_rss,
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
    return json_pack("{s:i, s:i, s:s, s:o, s:s, s:I, s:i, s:I, s:i, s:f, s:I, s:I, s:I, s:I}",
                     "slot", w->slot, processes ? "pid" : "tid", (int)w->pid, "cpus", list,
                     "cpu_list", cpus, "state", pvt_worker_state_name(w->state), "requests",
                     (json_int_t)w->requests, "conns", w->conns, "rss_kb",
                     (json_int_t)(processes ? pvt_sup_rss_kb(w->pid) : proc_rss), "restarts",
                     (int)w->restarts, "uptime_s",
                     w->ready_ns && now > w->ready_ns ? (double)(now - w->ready_ns) / 1e9 : 0.0,
                     "offloaded", (json_int_t)w->offloaded, "offload_completed",
                     (json_int_t)w->offload_completed, "offload_failed",
                     (json_int_t)w->offload_failed, "offload_rejected",
                     (json_int_t)w->offload_rejected);
}

static json_t *status_reply(const struct pvt_pool_ops *ops, struct pvt_pool *pool)
{
    struct pvt_worker_stats *w = calloc(PVT_MAX_WORKERS, sizeof(*w));
    struct pvt_pool_stats st = {.w = w};
    json_t *arr, *reply;
    uint64_t now = pvt_now_ns();
    int i;

    if (!w)
        return error_reply("%s", "out of memory");
    ops->stats(pool, &st);
    arr = json_array();
    for (i = 0; i < st.workers; i++)
        json_array_append_new(arr, worker_json(&w[i], (ops->caps & PVT_CAP_PROCESSES) != 0,
                                               pvt_sup_rss_kb(getpid()), now));
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

/* ---- serving clients without blocking ---- */

struct ctl_client {
    int fd;               /* -1: a free entry */
    uint64_t deadline_ns; /* dropped past this */
    size_t in_len;
    char in[PVT_CTL_MAX_LINE + 2]; /* a line, its newline, a NUL */
    char *out;                     /* the reply, queued; NULL before it */
    size_t out_len, out_off;
};

struct pvt_ctl {
    int lfd, epfd, client_ms;
    int listening; /* lfd is in the epoll set: there is room for a client */
    struct ctl_client c[PVT_CTL_CLIENTS];
};

#define CTL_TAG_LISTEN UINT32_MAX

static void client_drop(struct pvt_ctl *c, struct ctl_client *k)
{
    epoll_ctl(c->epfd, EPOLL_CTL_DEL, k->fd, NULL);
    close(k->fd);
    free(k->out);
    *k = (struct ctl_client){.fd = -1};
}

/* Send what the client takes now; drop it once it has the whole reply, or
 * when it is gone. */
static void client_flush(struct pvt_ctl *c, struct ctl_client *k)
{
    ssize_t n;

    while (k->out_off < k->out_len) {
        n = send(k->fd, k->out + k->out_off, k->out_len - k->out_off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0)
            k->out_off += (size_t)n;
        else if (n < 0 && errno == EINTR)
            continue;
        else if (n < 0 && errno == EAGAIN)
            return; /* EPOLLOUT says when it takes more */
        else
            break;
    }
    client_drop(c, k);
}

/* Queue reply s (malloc'd, NUL-terminated, no newline) and start sending:
 * from now on the client is watched for room, not for input. */
static void client_reply(struct pvt_ctl *c, struct ctl_client *k, char *s)
{
    struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)(k - c->c)};
    size_t len;

    if (s && strlen(s) + 2 > PVT_CTL_MAX_REPLY) { /* pvt ctl's buffer: a newline, a NUL */
        free(s);
        s = dump(error_reply("the reply is over %s bytes", "1048576"));
    }
    if (!s) {
        client_drop(c, k);
        return;
    }
    len = strlen(s);
    s[len] = '\n'; /* replaces the NUL, which is not sent */
    k->out = s;
    k->out_len = len + 1;
    epoll_ctl(c->epfd, EPOLL_CTL_MOD, k->fd, &ev);
    client_flush(c, k);
}

/* Read what the client sent; answer once its line is whole. */
static void client_read(struct pvt_ctl *c, struct ctl_client *k, const struct pvt_pool_ops *ops,
                        struct pvt_pool *pool, int *flags)
{
    size_t cap = sizeof(k->in) - 1;
    char *nl;
    ssize_t n;

    for (;;) {
        n = recv(k->fd, k->in + k->in_len, cap - k->in_len, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            client_drop(c, k); /* gone before a whole line */
            return;
        }
        k->in_len += (size_t)n;
        k->in[k->in_len] = '\0';
        if ((nl = memchr(k->in, '\n', k->in_len))) {
            *nl = '\0';
            client_reply(c, k, pvt_ctl_answer(k->in, ops, pool, flags));
            return;
        }
        if (k->in_len >= cap) {
            client_reply(c, k, dump(error_reply("request longer than %s bytes", "1024")));
            return;
        }
    }
}

/* The listening socket in the epoll set exactly while a client entry is free. */
static void listen_update(struct pvt_ctl *c)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = CTL_TAG_LISTEN};
    int i, room = 0;

    for (i = 0; i < PVT_CTL_CLIENTS && !room; i++)
        room = c->c[i].fd < 0;
    if (room && !c->listening && epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->lfd, &ev) == 0)
        c->listening = 1;
    else if (!room && c->listening && epoll_ctl(c->epfd, EPOLL_CTL_DEL, c->lfd, NULL) == 0)
        c->listening = 0;
}

/* Take fd as a client: its entry's index, or -EBUSY or -errno (fd closed). */
static int client_add(struct pvt_ctl *c, int fd)
{
    struct epoll_event ev = {.events = EPOLLIN};
    int i, rc;

    for (i = 0; i < PVT_CTL_CLIENTS && c->c[i].fd >= 0; i++)
        ;
    if (i == PVT_CTL_CLIENTS) {
        close(fd);
        return -EBUSY;
    }
    ev.data.u32 = (uint32_t)i;
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ||
        epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    c->c[i] = (struct ctl_client){
        .fd = fd, .deadline_ns = pvt_now_ns() + (uint64_t)c->client_ms * 1000000u};
    listen_update(c);
    return i;
}

int pvt_ctl_adopt(struct pvt_ctl *c, int fd)
{
    int rc = client_add(c, fd);

    return rc < 0 ? rc : 0;
}

int pvt_ctl_open(int lfd, int client_ms, struct pvt_ctl **out)
{
    struct pvt_ctl *c = calloc(1, sizeof(*c));
    int i, rc;

    if (!c) {
        close(lfd);
        return -ENOMEM;
    }
    c->lfd = lfd;
    c->client_ms = client_ms > 0 ? client_ms : PVT_CTL_CLIENT_MS;
    for (i = 0; i < PVT_CTL_CLIENTS; i++)
        c->c[i].fd = -1;
    c->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (c->epfd < 0) {
        rc = -errno;
        close(lfd);
        free(c);
        return rc;
    }
    listen_update(c);
    *out = c;
    return 0;
}

int pvt_ctl_fd(const struct pvt_ctl *c)
{
    return c->epfd;
}

int pvt_ctl_serve(struct pvt_ctl *c, const struct pvt_pool_ops *ops, struct pvt_pool *pool)
{
    struct epoll_event ev[PVT_CTL_CLIENTS + 1];
    uint64_t now = pvt_now_ns();
    int i, n, fd, flags = 0;

    for (i = 0; i < PVT_CTL_CLIENTS; i++)
        if (c->c[i].fd >= 0 && now > c->c[i].deadline_ns)
            client_drop(c, &c->c[i]); /* too slow to send its line or take its reply */
    n = epoll_wait(c->epfd, ev, PVT_CTL_CLIENTS + 1, 0);
    for (i = 0; i < n; i++) {
        struct ctl_client *k = &c->c[ev[i].data.u32 % PVT_CTL_CLIENTS];
        if (ev[i].data.u32 == CTL_TAG_LISTEN || k->fd < 0)
            continue; /* the listener below; a client dropped since */
        if (k->out)
            client_flush(c, k);
        else
            client_read(c, k, ops, pool, &flags);
    }
    listen_update(c);
    while (c->listening) {
        fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
            break;
        i = client_add(c, fd);
        if (i >= 0)
            client_read(c, &c->c[i], ops, pool, &flags); /* its line may be there */
    }
    return flags;
}

void pvt_ctl_close(struct pvt_ctl *c)
{
    int i;

    if (!c)
        return;
    for (i = 0; i < PVT_CTL_CLIENTS; i++)
        if (c->c[i].fd >= 0)
            client_drop(c, &c->c[i]);
    close(c->epfd);
    close(c->lfd);
    free(c);
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
