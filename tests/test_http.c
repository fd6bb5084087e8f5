/*
 * test_http: request bytes to response bytes, with no sockets: every route,
 * every error, keep-alive, pipelining in one feed and split over many,
 * pausing for /sleep, and a randomized robustness run with a fixed seed.
 *
 * Everything runs on the test thread: no workers, no forks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "work.h"

/* The whole response to "GET /" for worker 3, pid 1234. */
static const char hello_response[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 31\r\n\r\n"
    "hello from worker 3 (pid 1234)\n";

struct fix {
    struct pvt_work_ctx work;
    struct pvt_http_env env;
    uint64_t responses;
    struct pvt_http_conn *c;
};

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    pvt_work_ctx_init(&f->work);
    f->env.worker = 3;
    f->env.pid = 1234;
    f->env.work = &f->work;
    f->env.responses = &f->responses;
    if (pvt_http_conn_new(&f->env, &f->c) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;

    pvt_http_conn_free(f->c);
    pvt_work_ctx_fini(&f->work);
    free(f);
    return 0;
}

/* A fresh connection on the same env (after the env was changed). */
static void renew(struct fix *f)
{
    pvt_http_conn_free(f->c);
    assert_int_equal(pvt_http_conn_new(&f->env, &f->c), 0);
}

static int feed_str(struct pvt_http_conn *c, const char *s)
{
    return pvt_http_feed(c, s, strlen(s));
}

/* Feed s in pieces of at most piece bytes, until the input ends or a call
 * returns other than MORE. Returns the last call's state. */
static int feed_pieces(struct pvt_http_conn *c, const char *s, size_t len, size_t piece)
{
    size_t off = 0;
    int rc = PVT_HTTP_MORE;

    while (off < len && rc == PVT_HTTP_MORE) {
        size_t n = len - off < piece ? len - off : piece;
        rc = pvt_http_feed(c, s + off, n);
        off += n;
    }
    return rc;
}

/* All pending output as a NUL-terminated copy (the caller frees it), consumed. */
static char *take(struct pvt_http_conn *c, size_t *len_out)
{
    size_t len;
    const char *out = pvt_http_output(c, &len);
    char *copy = malloc(len + 1);

    assert_non_null(copy);
    memcpy(copy, out, len);
    copy[len] = '\0';
    pvt_http_output_done(c, len);
    assert_non_null(pvt_http_output(c, &len));
    assert_int_equal(len, 0);
    if (len_out)
        *len_out = strlen(copy);
    return copy;
}

struct resp {
    int status;
    long clen;          /* Content-Length, -1 if absent */
    char headers[1024]; /* status line and headers, NUL-terminated */
    const char *body;
    size_t blen;
};

/*
 * Parse one response at *s, advance *s past it. head: a HEAD response (no
 * body). Fails the test on anything malformed.
 */
static void next_resp(const char **s, int head, struct resp *r)
{
    const char *end = strstr(*s, "\r\n\r\n"), *cl;
    size_t hlen;

    assert_non_null(end);
    hlen = (size_t)(end - *s) + 4;
    assert_true(hlen < sizeof(r->headers));
    memcpy(r->headers, *s, hlen);
    r->headers[hlen] = '\0';
    assert_int_equal(strncmp(r->headers, "HTTP/1.1 ", 9), 0);
    r->status = atoi(r->headers + 9);
    cl = strstr(r->headers, "\r\nContent-Length: ");
    r->clen = cl ? atol(cl + 18) : -1;
    assert_true(r->clen >= 0);
    r->body = *s + hlen;
    r->blen = head ? 0 : (size_t)r->clen;
    assert_true(strlen(r->body) >= r->blen);
    *s = r->body + r->blen;
}

/* one() copies the body here, so it outlives the output it came from. */
static char one_body[256];

/* One request on the fixture's connection: its state, its single response. */
static int one(struct fix *f, const char *req, int head, struct resp *r)
{
    int rc = feed_str(f->c, req);
    char *out = take(f->c, NULL);
    const char *p = out;

    if (rc != PVT_HTTP_PAUSE) {
        next_resp(&p, head, r);
        assert_string_equal(p, ""); /* exactly one response */
        assert_true(r->blen < sizeof(one_body));
        memcpy(one_body, r->body, r->blen);
        one_body[r->blen] = '\0';
        r->body = one_body;
    }
    free(out);
    return rc;
}

static void expect_body(struct fix *f, const char *req, const char *want)
{
    struct resp r;

    assert_int_equal(one(f, req, 0, &r), PVT_HTTP_MORE);
    if (r.status != 200 || strcmp(r.body, want) != 0)
        fail_msg("%s: %d \"%s\", want \"%s\"", req, r.status, r.body, want);
    assert_non_null(strstr(r.headers, "\r\nContent-Type: text/plain\r\n"));
}

/* A request that must get status with "Connection: close" and CLOSE. */
static void expect_close(struct fix *f, const char *req, int status)
{
    struct resp r;
    int rc;

    renew(f);
    rc = one(f, req, 0, &r);
    if (rc != PVT_HTTP_CLOSE || r.status != status)
        fail_msg("\"%s\": state %d status %d, want CLOSE %d", req, rc, r.status, status);
    assert_non_null(strstr(r.headers, "\r\nConnection: close\r\n"));
    assert_int_equal(feed_str(f->c, "GET / HTTP/1.1\r\n\r\n"), -EINVAL);
}

static void test_hello_exact(void **state)
{
    struct fix *f = *state;
    char *out;

    assert_int_equal(feed_str(f->c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), PVT_HTTP_MORE);
    out = take(f->c, NULL);
    assert_string_equal(out, hello_response);
    free(out);
    assert_int_equal(pvt_http_requests(f->c), 1);
    assert_int_equal(f->responses, 1);
    /* Keep-alive: the same connection answers again. */
    assert_int_equal(feed_str(f->c, "GET / HTTP/1.1\r\n\r\n"), PVT_HTTP_MORE);
    out = take(f->c, NULL);
    assert_string_equal(out, hello_response);
    free(out);
    assert_int_equal(pvt_http_requests(f->c), 2);
    assert_int_equal(f->responses, 2);
}

static void test_routes(void **state)
{
    struct fix *f = *state;
    char want[128];

    snprintf(want, sizeof(want), "cpu n=1000 sum=%llu\n",
             (unsigned long long)pvt_work_expected(PVT_WL_CPU, 1000));
    expect_body(f, "GET /cpu?n=1000 HTTP/1.1\r\n\r\n", want);
    /* Other parameters are ignored; a count takes a k suffix. */
    expect_body(f, "GET /cpu?x=1&n=1000&y HTTP/1.1\r\n\r\n", want);
    snprintf(want, sizeof(want), "cpu n=2000 sum=%llu\n",
             (unsigned long long)pvt_work_expected(PVT_WL_CPU, 2000));
    expect_body(f, "GET /cpu?n=2k HTTP/1.1\r\n\r\n", want);
    snprintf(want, sizeof(want), "cpu n=50000000 sum=%llu\n",
             (unsigned long long)pvt_work_expected(PVT_WL_CPU, 50000000));
    expect_body(f, "GET /cpu HTTP/1.1\r\n\r\n", want);

    snprintf(want, sizeof(want), "hash bytes=4096 value=%016llx\n",
             (unsigned long long)pvt_work_expected(PVT_WL_HASH, 4096));
    expect_body(f, "GET /hash?bytes=4096 HTTP/1.1\r\n\r\n", want);
    expect_body(f, "GET /hash?bytes=4K HTTP/1.1\r\n\r\n", want);
    snprintf(want, sizeof(want), "hash bytes=1 value=%016llx\n",
             (unsigned long long)pvt_work_expected(PVT_WL_HASH, 1));
    expect_body(f, "GET /hash?bytes=1 HTTP/1.1\r\n\r\n", want);

    snprintf(want, sizeof(want), "mem bytes=8 value=%016llx\n",
             (unsigned long long)pvt_work_expected(PVT_WL_MEM, 8));
    expect_body(f, "GET /mem?bytes=8 HTTP/1.1\r\n\r\n", want);
    snprintf(want, sizeof(want), "mem bytes=1048576 value=%016llx\n",
             (unsigned long long)pvt_work_expected(PVT_WL_MEM, 1 << 20));
    expect_body(f, "GET /mem?bytes=1M HTTP/1.1\r\n\r\n", want);
    /* An absolute-form request target has the same path. */
    expect_body(f, "GET http://h:8080/mem?bytes=1M HTTP/1.1\r\n\r\n", want);
    assert_int_equal(pvt_http_requests(f->c), 10);
    assert_int_equal(f->responses, 10);
}

static void test_head(void **state)
{
    struct fix *f = *state;
    char *out;
    size_t len;

    assert_int_equal(feed_str(f->c, "HEAD / HTTP/1.1\r\n\r\n"), PVT_HTTP_MORE);
    out = take(f->c, &len);
    /* The GET response's headers, Content-Length included, and no body. */
    assert_int_equal(len, strlen(hello_response) - 31);
    assert_memory_equal(out, hello_response, len);
    free(out);
    /* A GET after it gets its body. */
    assert_int_equal(feed_str(f->c, "GET / HTTP/1.1\r\n\r\n"), PVT_HTTP_MORE);
    out = take(f->c, NULL);
    assert_string_equal(out, hello_response);
    free(out);
    /* An error in the middle of the message after a HEAD still has its body. */
    assert_int_equal(feed_str(f->c, "HEAD / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nBad Header\r\n\r\n"),
                     PVT_HTTP_CLOSE);
    out = take(f->c, &len);
    assert_non_null(strstr(out, "\r\n\r\nHTTP/1.1 400 Bad Request\r\n"));
    assert_int_equal(len, strlen(out));
    assert_string_equal(out + len - 12, "Bad Request\n");
    free(out);
}

static void test_not_found_keeps_alive(void **state)
{
    struct fix *f = *state;
    struct resp r;

    assert_int_equal(one(f, "GET /nope HTTP/1.1\r\n\r\n", 0, &r), PVT_HTTP_MORE);
    assert_int_equal(r.status, 404);
    assert_null(strstr(r.headers, "Connection:"));
    /* Paths match exactly. */
    assert_int_equal(one(f, "GET /cpu/ HTTP/1.1\r\n\r\n", 0, &r), PVT_HTTP_MORE);
    assert_int_equal(r.status, 404);
    assert_int_equal(one(f, "GET //cpu?n=1 HTTP/1.1\r\n\r\n", 0, &r), PVT_HTTP_MORE);
    assert_int_equal(r.status, 404);
    expect_body(f, "GET / HTTP/1.1\r\n\r\n", "hello from worker 3 (pid 1234)\n");
    assert_int_equal(pvt_http_requests(f->c), 4);
}

static void test_bad_requests(void **state)
{
    struct fix *f = *state;

    expect_close(f, "\x01\x02garbage\r\n\r\n", 400);
    expect_close(f, "GET / HTTP/1.1\r\nBad Header\r\n\r\n", 400);
    expect_close(f, "GET / HTTP/x.1\r\n\r\n", 400);
    expect_close(f, "GET\r\n\r\n", 400);
    expect_close(f, "GET /cpu?n=abc HTTP/1.1\r\n\r\n", 400);
    expect_close(f, "GET /cpu?n=0 HTTP/1.1\r\n\r\n", 400);
    expect_close(f, "GET /cpu?n= HTTP/1.1\r\n\r\n", 400);
    expect_close(f, "GET /cpu?n=-5 HTTP/1.1\r\n\r\n", 400);
    expect_close(f, "GET /cpu?n=100000000001 HTTP/1.1\r\n\r\n", 400);
    expect_close(f, "GET /cpu?n=99999999999999999999999 HTTP/1.1\r\n\r\n", 400);
    expect_close(f, "GET /hash?bytes=0 HTTP/1.1\r\n\r\n", 400);
    expect_close(f, "GET /hash?bytes=1073741825 HTTP/1.1\r\n\r\n", 400);
    expect_close(f, "GET /mem?bytes=7 HTTP/1.1\r\n\r\n", 400);
    expect_close(f, "GET /mem?bytes=5G HTTP/1.1\r\n\r\n", 400);
    expect_close(f, "GET /sleep?ms=0 HTTP/1.1\r\n\r\n", 400);
    expect_close(f, "GET /sleep?ms=60001 HTTP/1.1\r\n\r\n", 400);
    /* Each of those was answered and counted. */
    assert_int_equal(f->responses, 16);
}

static void test_method_not_allowed(void **state)
{
    struct fix *f = *state;
    struct resp r;

    assert_int_equal(one(f, "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 0, &r),
                     PVT_HTTP_MORE);
    assert_int_equal(r.status, 405);
    assert_non_null(strstr(r.headers, "\r\nAllow: GET, HEAD\r\n"));
    /* The body was discarded: the next request parses. */
    assert_int_equal(one(f,
                         "PUT /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "3\r\nabc\r\n0\r\n\r\n",
                         0, &r),
                     PVT_HTTP_MORE);
    assert_int_equal(r.status, 405);
    expect_body(f, "GET / HTTP/1.1\r\n\r\n", "hello from worker 3 (pid 1234)\n");
}

static void test_body_too_large(void **state)
{
    struct fix *f = *state;
    const char *head = "POST / HTTP/1.1\r\nContent-Length: 70000\r\n\r\n";
    size_t hlen = strlen(head), len = hlen + 70000;
    char *req = malloc(len + 1);
    char *out;

    assert_non_null(req);
    memcpy(req, head, hlen);
    memset(req + hlen, 'b', 70000);
    req[len] = '\0';
    assert_int_equal(feed_pieces(f->c, req, len, 4096), PVT_HTTP_CLOSE);
    out = take(f->c, NULL);
    assert_int_equal(strncmp(out, "HTTP/1.1 413 ", 13), 0);
    assert_non_null(strstr(out, "\r\nConnection: close\r\n"));
    free(out);
    /* A body at the limit is read and thrown away. */
    renew(f);
    snprintf(req, len, "POST / HTTP/1.1\r\nContent-Length: %d\r\n\r\n", PVT_HTTP_MAX_BODY);
    hlen = strlen(req);
    memset(req + hlen, 'b', PVT_HTTP_MAX_BODY);
    assert_int_equal(pvt_http_feed(f->c, req, hlen + PVT_HTTP_MAX_BODY), PVT_HTTP_MORE);
    out = take(f->c, NULL);
    assert_int_equal(strncmp(out, "HTTP/1.1 405 ", 13), 0);
    free(out);
    free(req);
}

/* "GET /" + pad bytes of 'a' in the URI or a header, as a request. */
static char *big_request(size_t uri_pad, size_t header_pad, size_t *len)
{
    char *req = malloc(uri_pad + header_pad + 64);
    size_t n = 0;

    assert_non_null(req);
    n += (size_t)sprintf(req, "GET /");
    memset(req + n, 'a', uri_pad);
    n += uri_pad;
    n += (size_t)sprintf(req + n, " HTTP/1.1\r\n");
    if (header_pad) {
        n += (size_t)sprintf(req + n, "X-Pad: ");
        memset(req + n, 'a', header_pad);
        n += header_pad;
        n += (size_t)sprintf(req + n, "\r\n");
    }
    n += (size_t)sprintf(req + n, "\r\n");
    req[n] = '\0';
    *len = n;
    return req;
}

static void expect_status_close(struct fix *f, const char *req, size_t len, size_t piece,
                                int status)
{
    char *out;
    char want[16];

    renew(f);
    assert_int_equal(feed_pieces(f->c, req, len, piece), PVT_HTTP_CLOSE);
    out = take(f->c, NULL);
    snprintf(want, sizeof(want), "HTTP/1.1 %d ", status);
    if (strncmp(out, want, strlen(want)) != 0)
        fail_msg("piece %zu: want %d, got \"%.40s\"", piece, status, out);
    assert_non_null(strstr(out, "\r\nConnection: close\r\n"));
    free(out);
}

static void test_uri_too_long(void **state)
{
    struct fix *f = *state;
    size_t len;
    char *req = big_request(3000, 0, &len);

    expect_status_close(f, req, len, len, 414);
    expect_status_close(f, req, len, 100, 414);
    expect_status_close(f, req, len, 1, 414);
    free(req);
    /* A URI of PVT_HTTP_MAX_URI bytes is fine (and an unknown path). */
    req = big_request(PVT_HTTP_MAX_URI - 1, 0, &len);
    renew(f);
    assert_int_equal(pvt_http_feed(f->c, req, len), PVT_HTTP_MORE);
    free(req);
    req = take(f->c, NULL);
    assert_int_equal(strncmp(req, "HTTP/1.1 404 ", 13), 0);
    free(req);
}

static void test_headers_too_large(void **state)
{
    struct fix *f = *state;
    size_t len, i;
    char *req = big_request(0, 9000, &len);
    char *two, *out;
    const char *p;
    struct resp r;

    expect_status_close(f, req, len, len, 431);
    expect_status_close(f, req, len, 100, 431);
    expect_status_close(f, req, len, 7, 431);
    free(req);
    /* Many small headers count the same as one big one. */
    req = malloc(20000);
    assert_non_null(req);
    len = (size_t)sprintf(req, "GET / HTTP/1.1\r\n");
    for (i = 0; i < 1000; i++)
        len += (size_t)sprintf(req + len, "X-%zu: v\r\n", i);
    len += (size_t)sprintf(req + len, "\r\n");
    expect_status_close(f, req, len, 100, 431);
    free(req);

    /* The limit is per request: two pipelined 6000-byte requests both pass,
     * in one feed and in 100-byte pieces. */
    req = big_request(0, 6000, &len);
    two = malloc(2 * len + 1);
    assert_non_null(two);
    memcpy(two, req, len);
    memcpy(two + len, req, len + 1);
    for (i = 0; i < 2; i++) {
        renew(f);
        assert_int_equal(feed_pieces(f->c, two, 2 * len, i ? 100 : 2 * len), PVT_HTTP_MORE);
        out = take(f->c, NULL);
        p = out;
        next_resp(&p, 0, &r);
        assert_int_equal(r.status, 200);
        next_resp(&p, 0, &r);
        assert_int_equal(r.status, 200);
        assert_string_equal(p, "");
        free(out);
    }
    free(two);
    free(req);
}

static const char pipeline[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
                               "GET /cpu?n=10 HTTP/1.1\r\nHost: a\r\n\r\n"
                               "GET /missing HTTP/1.1\r\nHost: a\r\n\r\n";

static void check_pipeline_output(const char *out)
{
    const char *p = out;
    struct resp r;

    next_resp(&p, 0, &r);
    assert_int_equal(r.status, 200);
    assert_memory_equal(r.body, "hello from worker 3 (pid 1234)\n", r.blen);
    next_resp(&p, 0, &r);
    assert_int_equal(r.status, 200);
    assert_memory_equal(r.body, "cpu n=10 sum=45\n", r.blen);
    next_resp(&p, 0, &r);
    assert_int_equal(r.status, 404);
    assert_string_equal(p, "");
}

static void test_pipelined(void **state)
{
    struct fix *f = *state;
    char *whole, *bytewise;
    size_t piece;

    assert_int_equal(feed_str(f->c, pipeline), PVT_HTTP_MORE);
    whole = take(f->c, NULL);
    check_pipeline_output(whole);
    assert_int_equal(pvt_http_requests(f->c), 3);
    assert_int_equal(f->responses, 3);
    /* Any split gives the same bytes: 1 byte at a time, and odd sizes. */
    for (piece = 1; piece <= 13; piece += 4) {
        renew(f);
        assert_int_equal(feed_pieces(f->c, pipeline, strlen(pipeline), piece), PVT_HTTP_MORE);
        bytewise = take(f->c, NULL);
        assert_string_equal(bytewise, whole);
        free(bytewise);
        assert_int_equal(pvt_http_requests(f->c), 3);
    }
    free(whole);
}

static void test_sleep_pause(void **state)
{
    struct fix *f = *state;
    size_t len;
    char *out;
    const char *p;
    struct resp r;

    assert_int_equal(pvt_http_resume(f->c), -EINVAL); /* not paused */
    assert_int_equal(pvt_http_pause_ms(f->c), 0);
    assert_int_equal(feed_str(f->c, "GET /sleep?ms=25 HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n"
                                    "GET /sleep?ms=7 HTTP/1.1\r\n\r\nGET /nope HTT"),
                     PVT_HTTP_PAUSE);
    assert_int_equal(pvt_http_pause_ms(f->c), 25);
    pvt_http_output(f->c, &len);
    assert_int_equal(len, 0);
    assert_int_equal(feed_str(f->c, "GET / HTTP/1.1\r\n\r\n"), -EINVAL);
    /* The sleep's answer, then the buffered hello, then the next pause. */
    assert_int_equal(pvt_http_resume(f->c), PVT_HTTP_PAUSE);
    assert_int_equal(pvt_http_pause_ms(f->c), 7);
    out = take(f->c, NULL);
    p = out;
    next_resp(&p, 0, &r);
    assert_int_equal(r.status, 200);
    assert_memory_equal(r.body, "slept 25 ms\n", r.blen);
    next_resp(&p, 0, &r);
    assert_memory_equal(r.body, "hello from worker 3 (pid 1234)\n", r.blen);
    assert_string_equal(p, "");
    free(out);
    /* The rest of the buffered partial request, completed by a later feed. */
    assert_int_equal(pvt_http_resume(f->c), PVT_HTTP_MORE);
    assert_int_equal(pvt_http_pause_ms(f->c), 0);
    assert_int_equal(feed_str(f->c, "P/1.1\r\n\r\n"), PVT_HTTP_MORE);
    out = take(f->c, NULL);
    p = out;
    next_resp(&p, 0, &r);
    assert_memory_equal(r.body, "slept 7 ms\n", r.blen);
    next_resp(&p, 0, &r);
    assert_int_equal(r.status, 404);
    assert_string_equal(p, "");
    free(out);
    assert_int_equal(pvt_http_requests(f->c), 4);

    /* A sleep asking to close closes after its answer; what followed is dropped. */
    renew(f);
    assert_int_equal(feed_str(f->c, "GET /sleep?ms=1 HTTP/1.1\r\nConnection: close\r\n\r\n"
                                    "GET / HTTP/1.1\r\n\r\n"),
                     PVT_HTTP_PAUSE);
    assert_int_equal(pvt_http_resume(f->c), PVT_HTTP_CLOSE);
    out = take(f->c, NULL);
    p = out;
    next_resp(&p, 0, &r);
    assert_non_null(strstr(r.headers, "\r\nConnection: close\r\n"));
    assert_string_equal(p, "");
    free(out);
    assert_int_equal(pvt_http_resume(f->c), -EINVAL);
}

static void test_connection_close(void **state)
{
    struct fix *f = *state;
    struct resp r;

    /* HTTP/1.0 closes unless asked to keep alive, and says so. */
    assert_int_equal(one(f, "GET / HTTP/1.0\r\n\r\n", 0, &r), PVT_HTTP_CLOSE);
    assert_non_null(strstr(r.headers, "\r\nConnection: close\r\n"));
    assert_int_equal(feed_str(f->c, "GET / HTTP/1.0\r\n\r\n"), -EINVAL);
    renew(f);
    assert_int_equal(one(f, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 0, &r),
                     PVT_HTTP_MORE);
    assert_non_null(strstr(r.headers, "\r\nConnection: keep-alive\r\n"));
    assert_int_equal(one(f, "GET / HTTP/1.0\r\n\r\n", 0, &r), PVT_HTTP_CLOSE);
    /* HTTP/1.1 with Connection: close; the request pipelined after it is dropped. */
    renew(f);
    assert_int_equal(one(f,
                         "GET / HTTP/1.1\r\nConnection: close\r\n\r\n"
                         "GET / HTTP/1.1\r\n\r\n",
                         0, &r),
                     PVT_HTTP_CLOSE);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.headers, "\r\nConnection: close\r\n"));
    assert_int_equal(pvt_http_requests(f->c), 1);
    /* An Upgrade is answered in HTTP and the connection closed; CONNECT is 405. */
    renew(f);
    assert_int_equal(one(f, "GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: ws\r\n\r\n", 0, &r),
                     PVT_HTTP_CLOSE);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.headers, "\r\nConnection: close\r\n"));
    renew(f);
    assert_int_equal(one(f, "CONNECT h:443 HTTP/1.1\r\n\r\n", 0, &r), PVT_HTTP_CLOSE);
    assert_int_equal(r.status, 405);
}

static void test_eof(void **state)
{
    struct fix *f = *state;
    size_t len;

    assert_int_equal(feed_str(f->c, "GET / HT"), PVT_HTTP_MORE);
    assert_int_equal(pvt_http_eof(f->c), PVT_HTTP_CLOSE);
    pvt_http_output(f->c, &len);
    assert_int_equal(len, 0);
    assert_int_equal(feed_str(f->c, "TP/1.1\r\n\r\n"), -EINVAL);
    assert_int_equal(pvt_http_requests(f->c), 0);
    assert_int_equal(f->responses, 0);
}

static int stats_ok_cb(void *arg, char *buf, size_t len)
{
    return snprintf(buf, len, "{\"arg\":%d}", *(int *)arg);
}

static int stats_fail_cb(void *arg, char *buf, size_t len)
{
    (void)arg;
    (void)buf;
    (void)len;
    return -EIO;
}

/* A body of 10000 bytes: -ENOSPC until the buffer holds it. */
static int stats_big_cb(void *arg, char *buf, size_t len)
{
    (void)arg;
    if (len < 10000)
        return -ENOSPC;
    memset(buf, ' ', 10000);
    buf[0] = '{';
    buf[9999] = '}';
    return 10000;
}

static void test_stats(void **state)
{
    struct fix *f = *state;
    int arg = 42;
    struct resp r;

    assert_int_equal(one(f, "GET /stats HTTP/1.1\r\n\r\n", 0, &r), PVT_HTTP_MORE);
    assert_int_equal(r.status, 404);
    f->env.stats_cb = stats_ok_cb;
    f->env.stats_arg = &arg;
    renew(f);
    assert_int_equal(one(f, "GET /stats HTTP/1.1\r\n\r\n", 0, &r), PVT_HTTP_MORE);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.headers, "\r\nContent-Type: application/json\r\n"));
    assert_string_equal(r.body, "{\"arg\":42}");
    f->env.stats_cb = stats_fail_cb;
    renew(f);
    assert_int_equal(one(f, "GET /stats HTTP/1.1\r\n\r\n", 0, &r), PVT_HTTP_MORE);
    assert_int_equal(r.status, 500);
    f->env.stats_cb = stats_big_cb;
    renew(f);
    assert_int_equal(feed_str(f->c, "GET /stats HTTP/1.1\r\n\r\n"), PVT_HTTP_MORE);
    {
        char *out = take(f->c, NULL);
        const char *p = out;
        next_resp(&p, 0, &r);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.clen, 10000);
        assert_string_equal(p, "");
        free(out);
    }
}

static void test_output_done_partial(void **state)
{
    struct fix *f = *state;
    const char *out;
    size_t len, full = strlen(hello_response);
    char *rest;

    assert_int_equal(feed_str(f->c, "GET / HTTP/1.1\r\n\r\n"), PVT_HTTP_MORE);
    out = pvt_http_output(f->c, &len);
    assert_int_equal(len, full);
    pvt_http_output_done(f->c, 10);
    out = pvt_http_output(f->c, &len);
    assert_int_equal(len, full - 10);
    assert_memory_equal(out, &hello_response[10], len);
    /* A new response goes after what is still pending. */
    assert_int_equal(feed_str(f->c, "GET / HTTP/1.1\r\n\r\n"), PVT_HTTP_MORE);
    out = pvt_http_output(f->c, &len);
    assert_int_equal(len, 2 * full - 10);
    assert_memory_equal(out, &hello_response[10], full - 10);
    assert_memory_equal(out + full - 10, hello_response, full);
    pvt_http_output_done(f->c, full - 10 + 5);
    rest = take(f->c, NULL);
    assert_string_equal(rest, &hello_response[5]);
    free(rest);
}

/* xorshift64*: the same sequence everywhere, so a failure reproduces. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

static const char *const templates[] = {
    "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "HEAD / HTTP/1.1\r\n\r\n",
    "GET /cpu?n=5 HTTP/1.1\r\n\r\n",
    "GET /hash?bytes=16 HTTP/1.1\r\nConnection: keep-alive\r\n\r\n",
    "GET /mem?bytes=64 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    "GET /sleep?ms=5 HTTP/1.1\r\n\r\n",
    "GET /stats HTTP/1.1\r\n\r\n",
    "POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
    "PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
    "GET /nope HTTP/1.1\r\nConnection: close\r\n\r\n",
    "GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: ws\r\n\r\n",
};

/* 1 if s asks for real work: a digit run over 3 long or with a suffix. */
static int too_heavy(const unsigned char *s, size_t len)
{
    size_t i, run = 0;

    for (i = 0; i < len; i++) {
        if (s[i] >= '0' && s[i] <= '9') {
            if (++run > 3)
                return 1;
        } else {
            if (run && strchr("kKMG", s[i]) && s[i])
                return 1;
            run = 0;
        }
    }
    return 0;
}

/* A random input: random bytes, or 1..3 templates with a few mutations. */
static size_t make_input(uint64_t *s, unsigned char *buf, size_t cap)
{
    size_t len = 0, i, k, n;

    if (rnd(s) % 2) {
        n = rnd(s) % 300;
        for (i = 0; i < n; i++)
            buf[len++] = (unsigned char)rnd(s);
        return len;
    }
    for (k = rnd(s) % 3 + 1; k; k--) {
        const char *t = templates[rnd(s) % (sizeof(templates) / sizeof(templates[0]))];
        memcpy(buf + len, t, strlen(t));
        len += strlen(t);
    }
    for (k = rnd(s) % 4; k; k--) {
        size_t at = rnd(s) % len;
        switch (rnd(s) % 4) {
        case 0: /* flip a byte */
            buf[at] = (unsigned char)rnd(s);
            break;
        case 1: /* insert a byte */
            memmove(buf + at + 1, buf + at, len - at);
            buf[at] = (unsigned char)rnd(s);
            len++;
            break;
        case 2: /* delete a byte */
            memmove(buf + at, buf + at + 1, len - at - 1);
            len--;
            break;
        default: /* cut the end off */
            len = at + 1;
            break;
        }
    }
    assert_true(len < cap);
    return len;
}

/* Feed buf in random pieces, resuming pauses at once; check every state. */
static void fuzz_one(struct fix *f, uint64_t *s, const unsigned char *buf, size_t len, int iter)
{
    size_t off = 0, n, olen;
    int rc, closed = 0;
    const char *out;

    renew(f);
    while (off < len) {
        n = rnd(s) % 64 + 1;
        if (n > len - off)
            n = len - off;
        rc = pvt_http_feed(f->c, (const char *)buf + off, n);
        off += n;
        while (rc == PVT_HTTP_PAUSE) {
            uint64_t ms = pvt_http_pause_ms(f->c);
            if (ms < 1 || ms > 60000)
                fail_msg("iteration %d: pause of %llu ms", iter, (unsigned long long)ms);
            rc = pvt_http_resume(f->c);
        }
        if (rc == -EINVAL && closed)
            break;
        if (rc != PVT_HTTP_MORE && rc != PVT_HTTP_CLOSE)
            fail_msg("iteration %d: feed returned %d", iter, rc);
        closed = rc == PVT_HTTP_CLOSE;
        out = pvt_http_output(f->c, &olen);
        if (olen && (olen < 9 || memcmp(out, "HTTP/1.1 ", 9) != 0))
            fail_msg("iteration %d: output \"%.20s\"", iter, out);
        pvt_http_output_done(f->c, olen);
    }
    assert_int_equal(pvt_http_eof(f->c), PVT_HTTP_CLOSE);
    assert_int_equal(pvt_http_feed(f->c, "GET / HTTP/1.1\r\n\r\n", 18), -EINVAL);
}

static void test_random_inputs(void **state)
{
    struct fix *f = *state;
    uint64_t seed = 0x5eed0123456789abull;
    unsigned char buf[1024];
    int iter, done = 0;

    f->env.stats_cb = stats_ok_cb;
    f->env.stats_arg = &iter;
    for (iter = 0; done < 2000; iter++) {
        size_t len = make_input(&seed, buf, sizeof(buf));
        if (too_heavy(buf, len))
            continue;
        fuzz_one(f, &seed, buf, len, iter);
        done++;
    }
    /* The responses went somewhere: valid requests were among the inputs. */
    assert_true(f->responses > 500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hello_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_routes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_found_keeps_alive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_method_not_allowed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uri_too_long, setup, teardown),
        cmocka_unit_test_setup_teardown(test_headers_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipelined, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sleep_pause, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eof, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_done_partial, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_inputs, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
