/*
 * test_http: request bytes to response bytes, with no sockets: every route,
 * every error, keep-alive and closing, /stats, and output taken in part
 * here; size limits, pipelining in one feed and split over many, pausing for
 * /sleep, and a randomized robustness run with a fixed seed in
 * http_stream.c.
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

#include "http_cases.h"
#include "http_harness.h"
#include "shared/work/work.h"

/* The whole response to "GET /" for worker 3, pid 1234. */
static const char hello_response[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 31\r\n\r\n"
    "hello from worker 3 (pid 1234)\n";

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

/* HTTP/0.9 (a request line with no version) is 400 at once, without waiting
 * for headers it will never send; a major version other than 1 is 505. */
static void test_versions(void **state)
{
    struct fix *f = *state;
    struct resp r;

    expect_close(f, "GET /\r\n", 400);
    expect_close(f, "GET /cpu?n=1\n", 400);
    expect_close(f, "GET / HTTP/0.9\r\n\r\n", 400);
    expect_close(f, "GET / HTTP/9.9\r\n\r\n", 505);
    expect_close(f, "GET / HTTP/2.0\r\n\r\n", 505);
    expect_close(f, "HEAD / HTTP/3.0\r\n\r\n", 505);
    /* Split anywhere, HTTP/0.9 is still seen at its line end. */
    renew(f);
    assert_int_equal(feed_str(f->c, "GET /"), PVT_HTTP_MORE);
    assert_int_equal(feed_str(f->c, "\r"), PVT_HTTP_CLOSE);
    {
        char *out = take(f->c, NULL);
        const char *p = out;
        next_resp(&p, 0, &r);
        assert_int_equal(r.status, 400);
        free(out);
    }
    /* Any HTTP/1 minor version is served. */
    renew(f);
    assert_int_equal(one(f, "GET / HTTP/1.2\r\n\r\n", 0, &r), PVT_HTTP_MORE);
    assert_int_equal(r.status, 200);
    assert_int_equal(f->responses, 8);
}

/* The workload routes are bounded unless the server lifts the bounds: an
 * argument over one is a 400 whose body names the bound and the flag. */
static void test_route_bounds(void **state)
{
    struct fix *f = *state;
    struct resp r;

    renew(f);
    assert_int_equal(one(f, "GET /mem?bytes=257M HTTP/1.1\r\n\r\n", 0, &r), PVT_HTTP_CLOSE);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "268435456"));
    assert_non_null(strstr(r.body, "--unbounded-routes"));
    expect_close(f, "GET /hash?bytes=300M HTTP/1.1\r\n\r\n", 400);
    expect_close(f, "GET /cpu?n=1000000001 HTTP/1.1\r\n\r\n", 400);
    renew(f);
    assert_int_equal(one(f, "GET /hash?bytes=256M HTTP/1.1\r\n\r\n", 0, &r), PVT_HTTP_MORE);
    assert_int_equal(r.status, 200);
    /* Lifted, the routes' own limits apply. */
    f->env.unbounded_routes = 1;
    renew(f);
    assert_int_equal(one(f, "GET /mem?bytes=257M HTTP/1.1\r\n\r\n", 0, &r), PVT_HTTP_MORE);
    assert_int_equal(r.status, 200);
    expect_close(f, "GET /mem?bytes=5G HTTP/1.1\r\n\r\n", 400);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hello_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_routes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_found_keeps_alive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_route_bounds, setup, teardown),
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
