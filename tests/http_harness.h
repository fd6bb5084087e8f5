/*
 * http_harness.h: what test_http.c and http_stream.c share: a connection on
 * an env for worker 3, pid 1234 (the cmocka setup and teardown), feeding it
 * whole or in pieces, taking its output, and reading responses back one by
 * one. Everything runs on the test thread and may call cmocka.
 */
#ifndef PVT_TEST_HTTP_HARNESS_H
#define PVT_TEST_HTTP_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "shared/serve/http.h"
#include "shared/work/work.h"

struct fix {
    struct pvt_work_ctx work;
    struct pvt_http_env env;
    uint64_t responses;
    struct pvt_http_conn *c;
};

/* A cmocka setup and teardown: a struct fix with its connection in *state. */
int setup(void **state);
int teardown(void **state);

/* A fresh connection on the same env (after the env was changed). */
void renew(struct fix *f);

int feed_str(struct pvt_http_conn *c, const char *s);

/* Feed s in pieces of at most piece bytes, until the input ends or a call
 * returns other than MORE. Returns the last call's state. */
int feed_pieces(struct pvt_http_conn *c, const char *s, size_t len, size_t piece);

/* All pending output as a NUL-terminated copy (the caller frees it), consumed. */
char *take(struct pvt_http_conn *c, size_t *len_out);

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
void next_resp(const char **s, int head, struct resp *r);

/* A stats callback whose body is {"arg":N}, N the int at arg. */
int stats_ok_cb(void *arg, char *buf, size_t len);

#endif
