/*
 * http_harness.c: the connection fixture and the feed, output and response
 * helpers of http_harness.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_harness.h"

int setup(void **state)
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

int teardown(void **state)
{
    struct fix *f = *state;

    pvt_http_conn_free(f->c);
    pvt_work_ctx_fini(&f->work);
    free(f);
    return 0;
}

void renew(struct fix *f)
{
    pvt_http_conn_free(f->c);
    assert_int_equal(pvt_http_conn_new(&f->env, &f->c), 0);
}

int feed_str(struct pvt_http_conn *c, const char *s)
{
    return pvt_http_feed(c, s, strlen(s));
}

int feed_pieces(struct pvt_http_conn *c, const char *s, size_t len, size_t piece)
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

char *take(struct pvt_http_conn *c, size_t *len_out)
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

void next_resp(const char **s, int head, struct resp *r)
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

int stats_ok_cb(void *arg, char *buf, size_t len)
{
    return snprintf(buf, len, "{\"arg\":%d}", *(int *)arg);
}
