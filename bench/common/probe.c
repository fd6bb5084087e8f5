/*
 * probe.c: what http and fault modes read from a running `pvt serve`:
 * /stats over one keep-alive connection, and the CPU time of its processes.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "run.h"

/* ---- /stats ------------------------------------------------------------------------------- */

int pvt_probe_connect(int port, int timeout_ms)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, rc;

    if (fd < 0)
        return -errno;
    /* SO_SNDTIMEO bounds connect too. */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    while ((rc = connect(fd, (struct sockaddr *)&a, sizeof(a))) < 0 && errno == EINTR)
        ;
    if (rc < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

/* The value of header name in the block hdr (NUL-terminated), or NULL. */
static const char *header(const char *hdr, const char *name)
{
    size_t n = strlen(name);
    const char *p;

    for (p = strstr(hdr, "\r\n"); p; p = strstr(p + 2, "\r\n"))
        if (strncasecmp(p + 2, name, n) == 0 && p[2 + n] == ':')
            return p + 3 + n + strspn(p + 3 + n, " \t");
    return NULL;
}

int pvt_probe_get(int *fd, const char *path, char **body)
{
    char req[256], *buf = NULL, *end, *conn;
    size_t cap = 0, got = 0, hdr = 0, need = 0;
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
    ssize_t k;

    if (send(*fd, req, (size_t)n, MSG_NOSIGNAL) != n)
        return -EPIPE;
    while (!hdr || got < need) {
        if (got + 1 >= cap) {
            char *nb = cap < (64u << 20) ? realloc(buf, cap = cap ? cap * 2 : 8192) : NULL;
            if (!nb) {
                free(buf);
                return -ENOMEM;
            }
            buf = nb;
        }
        k = recv(*fd, buf + got, cap - 1 - got, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            free(buf);
            return k == 0 ? -EPIPE : -errno;
        }
        got += (size_t)k;
        buf[got] = '\0';
        if (!hdr && (end = strstr(buf, "\r\n\r\n"))) {
            const char *cl;
            *end = '\0';
            hdr = (size_t)(end - buf) + 4;
            cl = header(buf, "Content-Length");
            if (strncmp(buf, "HTTP/1.1 200 ", 13) != 0 || !cl) {
                free(buf);
                return -EPROTO;
            }
            need = hdr + strtoull(cl, NULL, 10);
        }
    }
    conn = (char *)header(buf, "Connection");
    if (conn && strncasecmp(conn, "close", 5) == 0) {
        close(*fd);
        *fd = -1;
    }
    memmove(buf, buf + hdr, need - hdr);
    buf[need - hdr] = '\0';
    *body = buf;
    return 0;
}

/* Open the stats connection if it is closed, and learn which slot serves it. */
static int stats_open(struct pvt_server *s)
{
    char *body;
    int rc;

    if (s->fd >= 0)
        return 0;
    s->fd = pvt_probe_connect(s->port, PVT_BENCH_STATS_MS);
    if (s->fd < 0)
        return s->fd;
    rc = pvt_probe_get(&s->fd, "/", &body);
    if (rc < 0)
        return rc;
    rc = sscanf(body, "hello from worker %d", &s->slot) == 1 && s->slot >= 0 &&
                 s->slot < PVT_MAX_WORKERS
             ? 0
             : -EPROTO;
    if (rc == 0)
        s->own[s->slot]++;
    free(body);
    return rc;
}

static int json_long(json_t *o, const char *key, long *out)
{
    json_t *v = json_object_get(o, key);

    if (!json_is_integer(v))
        return -1;
    *out = (long)json_integer_value(v);
    return 0;
}

/* An optional non-negative integer member (0 when absent). */
static uint64_t json_u64(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

int pvt_probe_parse(const char *body, struct pvt_snap *sn, const char **why)
{
    json_t *root = json_loads(body, 0, NULL), *ws, *w;
    size_t i;
    long v;
    int rc = -EPROTO;

    *why = "not JSON";
    if (!root)
        return rc;
    ws = json_object_get(root, "workers");
    if (json_long(root, "pid", &sn->primary) < 0) {
        *why = "no \"pid\"";
    } else if (!json_is_array(ws) || json_array_size(ws) > PVT_MAX_WORKERS) {
        *why = "no \"workers\" array";
    } else {
        rc = 0;
        sn->n = (int)json_array_size(ws);
        json_array_foreach(ws, i, w)
        {
            struct pvt_wstat *x = &sn->w[i];
            const char *state = json_string_value(json_object_get(w, "state"));
            if (json_long(w, "slot", &v) < 0 || v < 0 || v >= PVT_MAX_WORKERS) {
                *why = "no \"slot\" in a worker";
            } else if (x->slot = (int)v, json_long(w, "pid", &x->pid) < 0) {
                *why = "no \"pid\" in a worker";
            } else if (json_long(w, "requests", &v) < 0 || v < 0) {
                *why = "no \"requests\" in a worker";
            } else {
                x->requests = (uint64_t)v;
                x->live = !state || strcmp(state, "ready") == 0;
                x->hung = json_is_true(json_object_get(w, "hung"));
                x->restarts = (unsigned)json_u64(w, "restarts");
                x->replace_us = json_u64(w, "replace_us");
                x->rss_kb = json_u64(w, "rss_kb");
                continue;
            }
            rc = -EPROTO;
            break;
        }
    }
    json_decref(root);
    return rc;
}

int pvt_probe_snapshot(struct pvt_server *s, struct pvt_snap *sn)
{
    const char *why = NULL;
    char *body = NULL;
    int rc, tries;

    if (s->stats_broken)
        return -EPROTO;
    for (tries = 0; tries < 2; tries++) {
        rc = stats_open(s);
        if (rc == 0) {
            memcpy(sn->own, s->own, sizeof(sn->own));
            rc = pvt_probe_get(&s->fd, "/stats", &body);
        }
        if (rc == 0)
            break;
        if (s->fd >= 0)
            close(s->fd);
        s->fd = -1;
        if (rc != -EPIPE)
            break;
    }
    if (rc == 0) {
        s->own[s->slot]++;
        rc = pvt_probe_parse(body, sn, &why);
    }
    free(body);
    if (rc < 0) {
        s->stats_broken = 1;
        pvt__bench_err("%s: GET /stats: %s; no shares, Jain's index or server CPU for this "
            "server",
            s->name, why ? why : strerror(-rc));
    }
    return rc;
}

/* ---- CPU time ------------------------------------------------------------------------------ */

double pvt_probe_cpu_us(long pid)
{
    char path[64], buf[1024], *p;
    unsigned long ut, st;
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* the command name may hold anything */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) * 1e6 / (double)sysconf(_SC_CLK_TCK);
}

int pvt_probe_server_pids(const struct pvt_server *s, const struct pvt_snap *sn, long *pids)
{
    char path[96];
    int n = 0, i;

    pids[n++] = s->pid;
    for (i = 0; sn && i < sn->n; i++) {
        snprintf(path, sizeof(path), "/proc/%ld/task/%ld", s->pid, sn->w[i].pid);
        if (sn->w[i].pid != s->pid && access(path, F_OK) < 0)
            pids[n++] = sn->w[i].pid;
    }
    return n;
}

