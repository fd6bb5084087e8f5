/*
 * serve_client.c: a small blocking HTTP/1.1 client for the serve tests (see
 * serve_client.h). It understands exactly the responses shared/serve/http.c writes:
 * a status line, headers, and a body framed by Content-Length.
 */
#include "serve_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "shared/work/work.h"

void sc_note(struct sc_note *n, const char *fmt, ...)
{
    va_list ap;

    if (n->msg[0])
        return;
    va_start(ap, fmt);
    vsnprintf(n->msg, sizeof(n->msg), fmt, ap);
    va_end(ap);
}

uint64_t sc_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void sc_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int set_timeouts(int fd, int timeout_ms)
{
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};

    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
        return -errno;
    return 0;
}

static struct sockaddr_in loopback(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sa;
}

int sc_connect(struct sc_conn *c, int port, int timeout_ms)
{
    struct sockaddr_in sa = loopback(port);
    int rc;

    c->len = 0;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -errno;
    rc = set_timeouts(c->fd, timeout_ms);
    if (rc == 0) {
        while ((rc = connect(c->fd, (struct sockaddr *)&sa, sizeof(sa))) < 0 && errno == EINTR)
            ;
        if (rc < 0)
            rc = errno == EINPROGRESS ? -ETIMEDOUT : -errno;
    }
    if (rc < 0)
        sc_close(c);
    return rc;
}

void sc_close(struct sc_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->len = 0;
}

int sc_send(struct sc_conn *c, const char *buf, size_t len)
{
    ssize_t n;

    while (len > 0) {
        n = send(c->fd, buf, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN ? -ETIMEDOUT : -errno;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

int sc_build_get(char *out, size_t cap, size_t *len, const char *path)
{
    int n = snprintf(out + *len, cap - *len, "GET %s HTTP/1.1\r\nHost: pvt-test\r\n\r\n", path);

    if (n < 0 || (size_t)n >= cap - *len)
        return -ENOSPC;
    *len += (size_t)n;
    return 0;
}

int sc_get(struct sc_conn *c, const char *path)
{
    char req[4096];
    size_t len = 0;
    int rc = sc_build_get(req, sizeof(req), &len, path);

    return rc < 0 ? rc : sc_send(c, req, len);
}

/* Read more bytes into c->buf. 0; -EPIPE at end of file or reset. */
static int fill(struct sc_conn *c)
{
    ssize_t n;

    if (c->len == sizeof(c->buf))
        return -E2BIG;
    do
        n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
    while (n < 0 && errno == EINTR);
    if (n == 0 || (n < 0 && errno == ECONNRESET))
        return -EPIPE;
    if (n < 0)
        return errno == EAGAIN ? -ETIMEDOUT : -errno;
    c->len += (size_t)n;
    return 0;
}

/* Parse the head in buf[0, head_len): status, Content-Length, Connection. */
static int parse_head(const char *buf, size_t head_len, struct sc_resp *r)
{
    const char *p = buf, *end = buf + head_len, *eol;
    char line[512];
    size_t n;

    r->status = -1;
    r->content_length = -1;
    r->close = 0;
    while (p < end) {
        eol = memchr(p, '\r', (size_t)(end - p));
        if (!eol || eol + 1 >= end || eol[1] != '\n')
            return -EPROTO;
        n = (size_t)(eol - p);
        if (n >= sizeof(line))
            return -EPROTO;
        memcpy(line, p, n);
        line[n] = '\0';
        if (p == buf) {
            if (sscanf(line, "HTTP/1.1 %3d ", &r->status) != 1)
                return -EPROTO;
        } else if (strncasecmp(line, "Content-Length:", 15) == 0) {
            r->content_length = strtol(line + 15, NULL, 10);
        } else if (strncasecmp(line, "Connection:", 11) == 0) {
            r->close = strstr(line + 11, "close") != NULL;
        }
        p = eol + 2;
    }
    return r->status < 100 || r->content_length < 0 ? -EPROTO : 0;
}

int sc_read_response(struct sc_conn *c, struct sc_resp *r)
{
    const char *hend;
    size_t head_len, total;
    int rc;

    for (;;) {
        hend = c->len >= 4 ? memmem(c->buf, c->len, "\r\n\r\n", 4) : NULL;
        if (hend)
            break;
        rc = fill(c);
        if (rc < 0)
            return rc;
    }
    head_len = (size_t)(hend - c->buf) + 2; /* through the last header's CRLF */
    rc = parse_head(c->buf, head_len, r);
    if (rc < 0)
        return rc;
    total = head_len + 2 + (size_t)r->content_length;
    if (total >= sizeof(c->buf))
        return -E2BIG;
    while (c->len < total) {
        rc = fill(c);
        if (rc < 0)
            return rc;
    }
    r->body_len = (size_t)r->content_length;
    memcpy(r->body, c->buf + head_len + 2, r->body_len);
    r->body[r->body_len] = '\0';
    memmove(c->buf, c->buf + total, c->len - total);
    c->len -= total;
    return 0;
}

int sc_wait_closed(struct sc_conn *c, int timeout_ms)
{
    int rc = set_timeouts(c->fd, timeout_ms);

    if (rc < 0)
        return rc;
    if (c->len > 0)
        return -EPROTO;
    rc = fill(c);
    if (rc == -EPIPE)
        return 0;
    return rc < 0 ? rc : -EPROTO;
}

int sc_idle_open(struct sc_conn *c)
{
    char b;
    ssize_t n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

    return n < 0 && errno == EAGAIN;
}

int sc_port_open(int port)
{
    struct sockaddr_in sa = loopback(port);
    int fd, rc;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    while ((rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa))) < 0 && errno == EINTR)
        ;
    rc = rc == 0 ? 1 : errno == ECONNREFUSED ? 0 : -errno;
    close(fd);
    return rc;
}

/* ---- what pvt's routes answer ---- */

int sc_check_ok(const struct sc_resp *r, const char *path, int workers, pid_t *pid,
                struct sc_note *n, const char *who)
{
    char want[128];
    int slot;
    long p;

    if (r->status != 200 || r->close) {
        sc_note(n, "%s: GET %s: status %d%s, want 200 keep-alive", who, path, r->status,
                r->close ? " (close)" : "");
        return -1;
    }
    if (strcmp(path, SC_HASH_PATH) == 0) {
        snprintf(want, sizeof(want), "hash bytes=1024 value=%016llx\n",
                 (unsigned long long)pvt_work_expected(PVT_WL_HASH, 1024));
        if (strcmp(r->body, want) == 0)
            return 0;
        sc_note(n, "%s: GET %s: body '%s', want '%s'", who, path, r->body, want);
        return -1;
    }
    if (sscanf(r->body, "hello from worker %d (pid %ld)", &slot, &p) != 2 || slot < 0 ||
        slot >= workers || p <= 0) {
        sc_note(n, "%s: GET /: body '%s'", who, r->body);
        return -1;
    }
    snprintf(want, sizeof(want), "hello from worker %d (pid %ld)\n", slot, p);
    if (strcmp(want, r->body) != 0 || (pid[slot] && pid[slot] != (pid_t)p)) {
        sc_note(n, "%s: GET /: body '%s' (slot %d said pid %ld before)", who, r->body, slot,
                (long)pid[slot]);
        return -1;
    }
    pid[slot] = (pid_t)p;
    return 0;
}

int sc_expect_error(struct sc_conn *c, struct sc_resp *r, const char *raw, size_t len, int status,
                    int closes, int timeout_ms, struct sc_note *n, const char *what)
{
    char prefix[8];
    int rc = sc_send(c, raw, len);

    if (rc == 0)
        rc = sc_read_response(c, r);
    if (rc < 0) {
        sc_note(n, "%s: no response: %s", what, strerror(-rc));
        return 0;
    }
    snprintf(prefix, sizeof(prefix), "%d ", status);
    if (r->status != status || strncmp(r->body, prefix, strlen(prefix)) != 0 ||
        r->close != closes) {
        sc_note(n, "%s: status %d%s, body '%s'; want %d%s", what, r->status,
                r->close ? " (close)" : "", r->body, status, closes ? " (close)" : "");
        return 1;
    }
    if (closes && (rc = sc_wait_closed(c, timeout_ms)) < 0)
        sc_note(n, "%s: connection not closed after %d: %s", what, status, strerror(-rc));
    return 1;
}

static int jstr_is(const json_t *obj, const char *key, const char *want)
{
    const char *v = json_string_value(json_object_get(obj, key));

    return v && strcmp(v, want) == 0;
}

int sc_stats_parse(const char *body, const char *backend, const char *dist, int workers,
                   const pid_t *pid, uint64_t *top, uint64_t *sum, struct sc_note *n)
{
    json_error_t jerr = {.text = ""};
    json_t *root = json_loads(body, 0, &jerr), *ws, *w, *req;
    size_t i;
    int rc = -1;

    ws = json_object_get(root, "workers");
    if (!json_is_object(root) || !json_is_array(ws) || json_array_size(ws) != (size_t)workers ||
        !json_is_integer(json_object_get(root, "requests")) || !jstr_is(root, "backend", backend) ||
        !jstr_is(root, "distribution", dist)) {
        sc_note(n, "/stats: unexpected JSON (%s): %.300s", jerr.text, body);
        goto out;
    }
    *top = (uint64_t)json_integer_value(json_object_get(root, "requests"));
    *sum = 0;
    json_array_foreach(ws, i, w)
    {
        req = json_object_get(w, "requests");
        if (!json_is_integer(req) ||
            (pid[i] && json_integer_value(json_object_get(w, "pid")) != pid[i])) {
            sc_note(n, "/stats: worker %zu (pid %d seen): %.300s", i, (int)pid[i], body);
            goto out;
        }
        *sum += (uint64_t)json_integer_value(req);
    }
    rc = 0;
out:
    json_decref(root);
    return rc;
}
