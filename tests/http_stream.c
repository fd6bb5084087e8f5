/*
 * http_stream.c: how pvt's HTTP connection cuts a byte stream into requests:
 * a body, URI or header block over its limit is answered 413, 414 or 431 and
 * the connection closed, whether it came in one feed or in pieces, and each
 * limit is per request; pipelined requests give the same bytes however the
 * input is split; /sleep pauses the connection and what was buffered behind
 * it is answered on resume; and a randomized robustness run with a fixed
 * seed. Run from test_http.c's main.
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

void test_body_too_large(void **state)
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

void test_uri_too_long(void **state)
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

void test_headers_too_large(void **state)
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

void test_pipelined(void **state)
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

void test_sleep_pause(void **state)
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

void test_random_inputs(void **state)
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
