/*
 * http.c: request bytes to response bytes for one connection (see http.h).
 *
 * DESIGN: http-parser does the parsing; this file keeps the state around it.
 * The parser is paused in two of its callbacks. At the end of the headers,
 * so that every byte it was handed from the start of a message until then
 * is counted against PVT_HTTP_MAX_HEADERS, whatever the split of the input
 * into feed() calls (the count is taken from http_parser_execute's return
 * value, not from the callbacks, so whitespace and line ends count too). And
 * at the end of each message, so that the message is answered before the
 * parser reads the next one: pipelined responses come out in order. A /sleep
 * request leaves the parser paused and copies the input that followed it
 * into the connection; pvt_http_resume answers the request and parses that
 * input. A connection belongs to one event loop: there is no locking.
 *
 * Which errors close: 400 (malformed request or argument, HTTP/0.9), 413,
 * 414, 431 and 505 (an HTTP major version other than 1) close, because the
 * rest of the stream cannot be trusted to be framed; 404 and 405 leave the
 * connection open (405's body has been read and thrown away). Any request
 * carrying an Upgrade (or CONNECT) is answered and the connection closed,
 * since this server speaks no other protocol.
 */
#include "http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "shared/base/parse.h"
#include "shared/core/pvt.h"

#define OUT_MIN   4096
#define STATS_MIN 4096
#define STATS_MAX (1u << 20)

struct pvt_http_conn {
    const struct pvt_http_env *env;
    http_parser parser;
    char *out; /* bytes [out_off, out_len) are waiting to be written */
    size_t out_off, out_len, out_cap;
    char *in; /* input that followed a paused request: [in_off, in_len) */
    size_t in_off, in_len, in_cap;
    uint64_t requests;
    uint64_t pause_ms;
    size_t head_bytes; /* bytes handed to the parser since the message began */
    size_t body_bytes;
    size_t url_len;
    int in_head;  /* the current message's headers have not ended */
    int url_over; /* the URI is longer than url[]: 414 once the headers end */
    int status;   /* an error a callback found (413, 414), else 0 */
    int msg_done; /* a message is complete and waits for its answer */
    int keep;     /* the complete message allows keep-alive */
    int close_next; /* the server is draining: the next response closes */
    int http10;   /* ... was HTTP/1.0 (a keep-alive answer must say so) */
    int head;     /* ... was HEAD: headers only */
    int paused;
    int closing;
    const struct route *job; /* paused for this route's job (env->offload), else NULL */
    uint64_t job_arg;
    char url[PVT_HTTP_MAX_URI];
};

static int on_message_begin_cb(http_parser *p)
{
    struct pvt_http_conn *c = p->data;

    c->url_len = 0;
    c->url_over = 0;
    c->body_bytes = 0;
    c->status = 0;
    return 0;
}

/*
 * A URI too long is not refused here: http-parser calls this at the end of
 * each input buffer as well as at the end of the URI, so a refusal here
 * would come sooner or later, before or after a malformed byte further on,
 * depending on how the input was split. It is refused once the headers end,
 * when the whole request line has been checked.
 */
static int on_url_cb(http_parser *p, const char *at, size_t len)
{
    struct pvt_http_conn *c = p->data;

    /* HTTP/0.9, a request line with no version: http-parser sets 0.9 just
     * before it reports the URI's end at the line end. Answered here, since
     * such a client sends no headers and would wait for their end. (At the
     * end of an input buffer the version is still the previous message's,
     * or 0.0 on a new connection, never 0.9.) */
    if (p->http_major == 0 && p->http_minor == 9) {
        c->status = 400;
        return -1;
    }
    if (c->url_over || len > sizeof(c->url) - c->url_len) {
        c->url_over = 1;
        return 0;
    }
    memcpy(c->url + c->url_len, at, len);
    c->url_len += len;
    return 0;
}

static int on_headers_complete_cb(http_parser *p)
{
    struct pvt_http_conn *c = p->data;

    c->in_head = 0;
    if (c->url_over) {
        c->status = 414;
        return -1;
    }
    /* As nginx: HTTP/0.x is malformed here, another major version unsupported. */
    if (p->http_major != 1) {
        c->status = p->http_major == 0 ? 400 : 505;
        return -1;
    }
    http_parser_pause(p, 1);
    return 0;
}

static int on_body_cb(http_parser *p, const char *at, size_t len)
{
    struct pvt_http_conn *c = p->data;

    (void)at;
    c->body_bytes += len;
    if (c->body_bytes > PVT_HTTP_MAX_BODY) {
        c->status = 413;
        return -1;
    }
    return 0;
}

static int on_message_complete_cb(http_parser *p)
{
    struct pvt_http_conn *c = p->data;

    c->msg_done = 1;
    c->keep = http_should_keep_alive(p) && !p->upgrade;
    c->http10 = p->http_major == 1 && p->http_minor == 0;
    c->head = p->method == HTTP_HEAD;
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin_cb,
    .on_url = on_url_cb,
    .on_headers_complete = on_headers_complete_cb,
    .on_body = on_body_cb,
    .on_message_complete = on_message_complete_cb,
};

/* Room for n more bytes at the end of out. 0 or -ENOMEM. */
static int out_reserve(struct pvt_http_conn *c, size_t n)
{
    size_t cap = c->out_cap ? c->out_cap : OUT_MIN;
    char *b;

    if (c->out_cap - c->out_len >= n)
        return 0;
    if (c->out_off > 0) {
        memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
        c->out_len -= c->out_off;
        c->out_off = 0;
        if (c->out_cap - c->out_len >= n)
            return 0;
    }
    while (cap - c->out_len < n)
        cap *= 2;
    b = realloc(c->out, cap);
    if (!b)
        return -ENOMEM;
    c->out = b;
    c->out_cap = cap;
    return 0;
}

static void out_put(struct pvt_http_conn *c, const char *s, size_t n)
{
    memcpy(c->out + c->out_len, s, n);
    c->out_len += n;
}

#define OUT_LIT(c, s) out_put((c), (s), sizeof(s) - 1)

/* Decimal digits of v into buf (at least 20 bytes); returns their count. */
static size_t fmt_u64(char *buf, uint64_t v)
{
    char tmp[20];
    size_t n = 0, i;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    return n;
}

static const char *status_line(int status)
{
    switch (status) {
    case 200:
        return "HTTP/1.1 200 OK\r\n";
    case 400:
        return "HTTP/1.1 400 Bad Request\r\n";
    case 404:
        return "HTTP/1.1 404 Not Found\r\n";
    case 405:
        return "HTTP/1.1 405 Method Not Allowed\r\n";
    case 413:
        return "HTTP/1.1 413 Payload Too Large\r\n";
    case 414:
        return "HTTP/1.1 414 URI Too Long\r\n";
    case 431:
        return "HTTP/1.1 431 Request Header Fields Too Large\r\n";
    case 503:
        return "HTTP/1.1 503 Service Unavailable\r\n";
    case 505:
        return "HTTP/1.1 505 HTTP Version Not Supported\r\n";
    default:
        return "HTTP/1.1 500 Internal Server Error\r\n";
    }
}

/*
 * Append one response for the current message: c->keep, c->http10 and
 * c->head describe it. Counts it, and closes the connection after it when
 * keep-alive is off. 0 or -ENOMEM.
 */
static int reply(struct pvt_http_conn *c, int status, int json, const char *body, size_t len)
{
    const char *line = status_line(status);
    size_t line_len = strlen(line);
    char num[20];
    size_t num_len = fmt_u64(num, len);

    /* 128 covers every fixed header below. */
    if (out_reserve(c, line_len + 128 + num_len + (c->head ? 0 : len)) < 0)
        return -ENOMEM;
    if (c->close_next)
        c->keep = 0;
    out_put(c, line, line_len);
    if (json)
        OUT_LIT(c, "Content-Type: application/json\r\n");
    else
        OUT_LIT(c, "Content-Type: text/plain\r\n");
    OUT_LIT(c, "Content-Length: ");
    out_put(c, num, num_len);
    OUT_LIT(c, "\r\n");
    if (status == 405)
        OUT_LIT(c, "Allow: GET, HEAD\r\n");
    if (!c->keep)
        OUT_LIT(c, "Connection: close\r\n");
    else if (c->http10)
        OUT_LIT(c, "Connection: keep-alive\r\n");
    OUT_LIT(c, "\r\n");
    if (!c->head)
        out_put(c, body, len);
    c->requests++;
    if (c->env->responses)
        (*c->env->responses)++;
    if (!c->keep)
        c->closing = 1;
    return 0;
}

/* An error response whose body is its reason phrase. */
static int reply_error(struct pvt_http_conn *c, int status, int close)
{
    const char *line = status_line(status);
    char body[64];
    int n;

    if (close)
        c->keep = 0;
    /* "HTTP/1.1 404 Not Found\r\n" -> "404 Not Found\n" */
    n = snprintf(body, sizeof(body), "%.*s\n", (int)(strlen(line) - 11), line + 9);
    return reply(c, status, 0, body, (size_t)n);
}

/* /stats: the callback's JSON, retried with a larger buffer when it fills one. */
static int reply_stats(struct pvt_http_conn *c)
{
    const struct pvt_http_env *env = c->env;
    size_t len = STATS_MIN;
    char *buf = NULL, *nb;
    int n = -ENOSPC, rc;

    if (!env->stats_cb)
        return reply_error(c, 404, 0);
    for (; len <= STATS_MAX; len *= 2) {
        nb = realloc(buf, len);
        if (!nb)
            break;
        buf = nb;
        n = env->stats_cb(env->stats_arg, buf, len);
        if (n != -ENOSPC && (n < 0 || (size_t)n < len))
            break;
        n = -ENOSPC;
    }
    if (n < 0)
        rc = reply_error(c, 500, 0);
    else
        rc = reply(c, 200, 1, buf, (size_t)n);
    free(buf);
    return rc;
}

enum route_kind { R_HELLO, R_CPU, R_HASH, R_MEM, R_SLEEP, R_STATS, R_FAULT };

struct route {
    const char *path;
    enum route_kind kind;
    const char *key; /* the query parameter, or NULL */
    int (*parse)(const char *s, uint64_t *out);
    uint64_t def, min, max;
    uint64_t bound; /* the default upper bound (env->unbounded_routes lifts it), 0: none */
    uint32_t fault; /* R_FAULT: the workload (work.h) */
};

static const struct route routes[] = {
    {"/", R_HELLO, NULL, NULL, 0, 0, 0, 0, 0},
    {"/cpu", R_CPU, "n", pvt_parse_count, 50000000, 1, 100000000000ull, PVT_HTTP_BOUND_CPU, 0},
    {"/hash", R_HASH, "bytes", pvt_parse_size, 64 * 1024, 1, 1ull << 30, PVT_HTTP_BOUND_BYTES, 0},
    {"/mem", R_MEM, "bytes", pvt_parse_size, 64ull << 20, 8, 4ull << 30, PVT_HTTP_BOUND_BYTES, 0},
    {"/sleep", R_SLEEP, "ms", pvt_parse_count, 10, 1, 60000, 0, 0},
    {"/stats", R_STATS, NULL, NULL, 0, 0, 0, 0, 0},
    {"/crash", R_FAULT, NULL, NULL, 0, 0, 0, 0, PVT_WL_CRASH},
    {"/abort", R_FAULT, NULL, NULL, 0, 0, 0, 0, PVT_WL_ABORT},
    {"/exit", R_FAULT, "code", pvt_parse_count, 1, 1, 255, 0, PVT_WL_EXIT},
    {"/hang", R_FAULT, NULL, NULL, 0, 0, 0, 0, PVT_WL_HANG},
    {"/slow", R_FAULT, "ms", pvt_parse_count, 100, 1, 60000, 0, PVT_WL_SLOW},
    {"/leak", R_FAULT, "mb", pvt_parse_count, 16, 1, 4096, 0, PVT_WL_LEAK},
    {"/scribble", R_FAULT, "seed", pvt_parse_count, 0, 1, UINT32_MAX, 0, PVT_WL_SCRIBBLE},
};

/* 400 for an argument over the route's default bound: the body says which
 * bound and how to lift it. */
static int reply_over_bound(struct pvt_http_conn *c, const struct route *r, uint64_t arg)
{
    char body[256];
    int n;

    c->keep = 0;
    n = snprintf(body, sizeof(body),
                 "400 Bad Request: %s %s=%llu is over this server's bound of %llu "
                 "(pvt serve --unbounded-routes lifts it)\n",
                 r->path, r->key, (unsigned long long)arg, (unsigned long long)r->bound);
    return reply(c, 400, 0, body, (size_t)n);
}

/*
 * The route's argument from the query (first "key=value" wins; other
 * parameters are ignored). 0, -EINVAL for a malformed or out-of-range
 * value, or -ERANGE for one over the route's bound when bounded is set
 * (*out holds it then).
 */
static int route_arg(const struct route *r, const char *q, size_t qlen, int bounded,
                     uint64_t *out)
{
    size_t klen = strlen(r->key), i = 0, end, vlen;
    char val[32];

    *out = r->def;
    while (i < qlen) {
        const char *item = q + i, *amp = memchr(item, '&', qlen - i);
        end = amp ? (size_t)(amp - q) : qlen;
        if (end - i > klen && memcmp(item, r->key, klen) == 0 && item[klen] == '=') {
            vlen = end - i - klen - 1;
            if (vlen == 0 || vlen >= sizeof(val))
                return -EINVAL;
            memcpy(val, item + klen + 1, vlen);
            val[vlen] = '\0';
            if (r->parse(val, out) < 0 || *out < r->min || *out > r->max)
                return -EINVAL;
            return bounded && r->bound && *out > r->bound ? -ERANGE : 0;
        }
        i = end + 1;
    }
    return 0;
}

/* The routes whose workload runs as a job elsewhere under env->offload:
 * the workloads and every fault but /scribble, which aims at what the
 * serving worker shares with its driver. */
static int offloaded(const struct route *r)
{
    return r->kind == R_CPU || r->kind == R_HASH || r->kind == R_MEM ||
           (r->kind == R_FAULT && r->fault != PVT_WL_SCRIBBLE);
}

/* The job a workload route runs. */
static struct pvt_job route_job(const struct route *r, uint64_t arg)
{
    struct pvt_job job = {.arg = arg};

    if (r->kind == R_FAULT)
        job.workload = r->fault;
    else if (r->kind == R_CPU)
        job.workload = PVT_WL_CPU;
    else
        job.workload = r->kind == R_HASH ? PVT_WL_HASH : PVT_WL_MEM;
    return job;
}

/* Answer a workload route whose job returned v, wherever it ran. */
static int reply_value(struct pvt_http_conn *c, const struct route *r, uint64_t arg, uint64_t v)
{
    char body[128];
    int n;

    switch (r->kind) {
    case R_FAULT:
        if (r->fault == PVT_WL_LEAK && v == 0)
            return reply_error(c, 500, 0);
        n = snprintf(body, sizeof(body), "%s %s=%llu\n", r->path + 1, r->key,
                     (unsigned long long)arg);
        return reply(c, 200, 0, body, (size_t)n);
    case R_CPU:
        n = snprintf(body, sizeof(body), "cpu n=%llu sum=%llu\n", (unsigned long long)arg,
                     (unsigned long long)v);
        return reply(c, 200, 0, body, (size_t)n);
    default:
        /* hash and mem can fail to get memory (PVT_WORK_ENOMEM, which a
         * real result matches with odds of 2^-64). */
        if (v == PVT_WORK_ENOMEM)
            return reply_error(c, 500, 0);
        n = snprintf(body, sizeof(body), "%s bytes=%llu value=%016llx\n", r->path + 1,
                     (unsigned long long)arg, (unsigned long long)v);
        return reply(c, 200, 0, body, (size_t)n);
    }
}

/* Run a workload route and answer it (or pause, for /sleep and for a job
 * to run elsewhere). */
static int run_route(struct pvt_http_conn *c, const struct route *r, uint64_t arg)
{
    struct pvt_job job;
    char body[128];
    int n;

    switch (r->kind) {
    case R_HELLO:
        n = snprintf(body, sizeof(body), "hello from worker %d (pid %ld)\n", c->env->worker,
                     (long)c->env->pid);
        return reply(c, 200, 0, body, (size_t)n);
    case R_STATS:
        return reply_stats(c);
    case R_SLEEP:
        c->paused = 1;
        c->pause_ms = arg;
        return 0;
    default:
        if (c->env->offload && offloaded(r)) {
            c->paused = 1;
            c->job = r;
            c->job_arg = arg;
            return 0;
        }
        /* hash and mem need the worker's scratch space; crash, abort, exit
         * and hang never come back. */
        if ((r->kind == R_HASH || r->kind == R_MEM) && !c->env->work)
            return reply_error(c, 500, 0);
        job = route_job(r, arg);
        return reply_value(c, r, arg, pvt_work_run(c->env->work, &job));
    }
}

/* Answer the complete message in c->url. 0 or -ENOMEM. */
static int answer(struct pvt_http_conn *c)
{
    unsigned method = c->parser.method;
    struct http_parser_url u;
    const char *path, *query = NULL;
    size_t plen, qlen = 0, i;
    uint64_t arg = 0;
    int rc;

    if (method != HTTP_GET && method != HTTP_HEAD)
        return reply_error(c, 405, 0);
    http_parser_url_init(&u);
    if (http_parser_parse_url(c->url, c->url_len, 0, &u) != 0 || !(u.field_set & (1 << UF_PATH)))
        return reply_error(c, 400, 1);
    path = c->url + u.field_data[UF_PATH].off;
    plen = u.field_data[UF_PATH].len;
    if (u.field_set & (1 << UF_QUERY)) {
        query = c->url + u.field_data[UF_QUERY].off;
        qlen = u.field_data[UF_QUERY].len;
    }
    for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const struct route *r = &routes[i];
        if (strlen(r->path) != plen || memcmp(r->path, path, plen) != 0)
            continue;
        if (r->kind == R_FAULT && !c->env->allow_faults)
            break; /* 404 */
        rc = r->key ? route_arg(r, query, qlen, !c->env->unbounded_routes, &arg) : 0;
        if (rc == -ERANGE)
            return reply_over_bound(c, r, arg);
        if (rc < 0)
            return reply_error(c, 400, 1);
        return run_route(c, r, arg);
    }
    return reply_error(c, 404, 0);
}

/*
 * Parse buf and answer each message it completes, until the input ends, the
 * connection closes or a request pauses it. *used: the bytes consumed.
 * 0 or -ENOMEM.
 */
static int run(struct pvt_http_conn *c, const char *buf, size_t len, size_t *used)
{
    size_t off = 0, n;
    enum http_errno e;
    int counting, over, rc = 0;

    while (rc == 0 && off < len && !c->closing && !c->paused) {
        counting = c->in_head;
        n = http_parser_execute(&c->parser, &parser_settings, buf + off, len - off);
        off += n;
        e = HTTP_PARSER_ERRNO(&c->parser);
        if (counting)
            c->head_bytes += n;
        over = counting && c->head_bytes > PVT_HTTP_MAX_HEADERS;
        if (e != HPE_OK && e != HPE_PAUSED) {
            c->head = 0; /* the message may not be known to be HEAD */
            /* The header limit first: whatever the split of the input, a
             * head over it is seen to be before the parser gets to its end,
             * where a long URI is refused. */
            rc = reply_error(c, over ? 431 : c->status ? c->status : 400, 1);
        } else if (over) {
            c->head = 0;
            rc = reply_error(c, 431, 1);
        } else if (e == HPE_PAUSED) {
            if (c->msg_done) {
                c->msg_done = 0;
                c->in_head = 1;
                c->head_bytes = 0;
                rc = answer(c);
            }
            if (!c->paused)
                http_parser_pause(&c->parser, 0);
        }
    }
    *used = off;
    return rc;
}

static int state(const struct pvt_http_conn *c)
{
    if (c->closing)
        return PVT_HTTP_CLOSE;
    if (c->paused)
        return c->job ? PVT_HTTP_JOB : PVT_HTTP_PAUSE;
    return PVT_HTTP_MORE;
}

int pvt_http_conn_new(const struct pvt_http_env *env, struct pvt_http_conn **out)
{
    struct pvt_http_conn *c = calloc(1, sizeof(*c));

    if (!c)
        return -ENOMEM;
    c->env = env;
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    c->in_head = 1;
    *out = c;
    return 0;
}

void pvt_http_conn_free(struct pvt_http_conn *c)
{
    if (!c)
        return;
    free(c->out);
    free(c->in);
    free(c);
}

/* Keep the input that followed a paused request. 0 or -ENOMEM. */
static int in_save(struct pvt_http_conn *c, const char *buf, size_t len)
{
    char *b;

    if (c->in_cap < len) {
        b = realloc(c->in, len);
        if (!b)
            return -ENOMEM;
        c->in = b;
        c->in_cap = len;
    }
    memcpy(c->in, buf, len);
    c->in_off = 0;
    c->in_len = len;
    return 0;
}

int pvt_http_feed(struct pvt_http_conn *c, const char *buf, size_t len)
{
    size_t used;
    int rc;

    if (c->closing || c->paused)
        return -EINVAL;
    rc = run(c, buf, len, &used);
    if (rc < 0)
        goto fail;
    if (c->paused && used < len) {
        rc = in_save(c, buf + used, len - used);
        if (rc < 0)
            goto fail;
    }
    return state(c);
fail:
    c->closing = 1;
    c->paused = 0;
    return rc;
}

int pvt_http_eof(struct pvt_http_conn *c)
{
    c->closing = 1;
    c->paused = 0;
    c->job = NULL;
    return PVT_HTTP_CLOSE;
}

uint64_t pvt_http_pause_ms(const struct pvt_http_conn *c)
{
    return c->paused && !c->job ? c->pause_ms : 0;
}

/* The paused request was answered (rc: reply's): parse the input that
 * followed it, as feed would have. As feed. */
static int go_on(struct pvt_http_conn *c, int rc)
{
    size_t used;

    if (rc < 0)
        goto fail;
    http_parser_pause(&c->parser, 0);
    if (c->in_off < c->in_len) {
        rc = run(c, c->in + c->in_off, c->in_len - c->in_off, &used);
        if (rc < 0)
            goto fail;
        c->in_off += used;
    }
    if (!c->paused || c->closing)
        c->in_off = c->in_len = 0;
    return state(c);
fail:
    c->closing = 1;
    c->paused = 0;
    return rc;
}

int pvt_http_resume(struct pvt_http_conn *c)
{
    char body[64];
    int n;

    if (!c->paused || c->closing || c->job)
        return -EINVAL;
    c->paused = 0;
    n = snprintf(body, sizeof(body), "slept %llu ms\n", (unsigned long long)c->pause_ms);
    return go_on(c, reply(c, 200, 0, body, (size_t)n));
}

int pvt_http_job(const struct pvt_http_conn *c, struct pvt_job *job)
{
    if (!c->paused || c->closing || !c->job)
        return -EINVAL;
    *job = route_job(c->job, c->job_arg);
    return 0;
}

/* The job is over: unpause, and which route and argument it was for. */
static const struct route *job_end(struct pvt_http_conn *c, uint64_t *arg)
{
    const struct route *r = c->job;

    if (!c->paused || c->closing || !r)
        return NULL;
    c->paused = 0;
    c->job = NULL;
    *arg = c->job_arg;
    return r;
}

int pvt_http_job_done(struct pvt_http_conn *c, int status, uint64_t value)
{
    uint64_t arg;
    const struct route *r = job_end(c, &arg);

    if (!r)
        return -EINVAL;
    if (status != PVT_JOB_OK)
        return go_on(c, reply_error(c, 500, 0));
    return go_on(c, reply_value(c, r, arg, value));
}

int pvt_http_job_busy(struct pvt_http_conn *c, unsigned queue)
{
    char body[160];
    uint64_t arg;
    const struct route *r = job_end(c, &arg);
    int n;

    if (!r)
        return -EINVAL;
    n = snprintf(body, sizeof(body),
                 "503 Service Unavailable: %u jobs already wait for this worker's pool "
                 "(pvt serve --offload-queue)\n",
                 queue);
    return go_on(c, reply(c, 503, 0, body, (size_t)n));
}

const char *pvt_http_output(const struct pvt_http_conn *c, size_t *len)
{
    *len = c->out_len - c->out_off;
    return c->out ? c->out + c->out_off : "";
}

void pvt_http_output_done(struct pvt_http_conn *c, size_t n)
{
    if (n > c->out_len - c->out_off)
        n = c->out_len - c->out_off;
    c->out_off += n;
    if (c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
}

uint64_t pvt_http_requests(const struct pvt_http_conn *c)
{
    return c->requests;
}

void pvt_http_close_after_next(struct pvt_http_conn *c)
{
    c->close_next = 1;
}

int pvt_http_mid_request(const struct pvt_http_conn *c)
{
    return !c->closing && (c->paused || c->head_bytes > 0 || !c->in_head);
}
