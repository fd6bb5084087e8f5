/*
 * fuzz_http.c: HTTP request handling (shared/serve/http.c), from the bytes a
 * server reads to the bytes it writes.
 *
 * The first FUZZ_HDR bytes of an input choose how the server meets the
 * rest, the request stream: the split of the stream into feed() calls, how
 * much output is taken after each, whether the server is draining from the
 * start, what the /stats callback does, and whether the routes' bounds are
 * lifted. Each input is run twice, fed
 * in those pieces and then all at once, and the checks are:
 *
 * - every call returns a documented state, a paused connection refuses
 *   input, and a pause lasts within /sleep's bounds;
 * - the output is a sequence of whole responses, as many as
 *   pvt_http_requests() counts;
 * - both runs write the same bytes: http.h promises that the split of the
 *   input into feed() calls makes no difference.
 *
 * The workloads themselves are not HTTP handling, and /cpu?n=1e11 would
 * stall the fuzzer, so pvt_work_run is replaced here by a stub that checks
 * the job it gets and returns at once. The fault routes are served: a fault
 * that never returns (crash, abort, exit, hang) ends the run as a dead
 * worker would, by a longjmp out of the stub; the output up to it must
 * still agree between the two runs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "shared/serve/http.h"
#include "shared/work/work.h"

#define FUZZ_HDR 8

static jmp_buf worker_died;

/* The stub: the job must be one http.c's routes can ask for. */
uint64_t pvt_work_run(struct pvt_work_ctx *ctx, const struct pvt_job *job)
{
    (void)ctx;
    switch (job->workload) {
    case PVT_WL_CPU:
        FUZZ_CHECK(job->arg >= 1 && job->arg <= 100000000000ull);
        return job->arg * 3;
    case PVT_WL_HASH:
        FUZZ_CHECK(job->arg >= 1 && job->arg <= 1ull << 30);
        return job->arg ^ 0x5a5a;
    case PVT_WL_MEM:
        FUZZ_CHECK(job->arg >= 8 && job->arg <= 4ull << 30);
        /* Now and then the memory cannot be had: a 500. */
        return job->arg % 7 == 0 ? PVT_WORK_ENOMEM : job->arg;
    case PVT_WL_SLOW:
        FUZZ_CHECK(job->arg >= 1 && job->arg <= 60000);
        return job->arg;
    case PVT_WL_LEAK:
        FUZZ_CHECK(job->arg >= 1 && job->arg <= 4096);
        return job->arg % 5 == 0 ? 0 : job->arg << 20; /* 0: the malloc failed */
    case PVT_WL_SCRIBBLE:
        FUZZ_CHECK(job->arg <= UINT32_MAX); /* 0: the default, 0xff bytes */
        return 4096;                        /* the bytes it would overwrite */
    case PVT_WL_EXIT:
        FUZZ_CHECK(job->arg >= 1 && job->arg <= 255);
        longjmp(worker_died, 1);
    case PVT_WL_CRASH:
    case PVT_WL_ABORT:
    case PVT_WL_HANG:
        longjmp(worker_died, 1);
    default:
        FUZZ_FAIL("workload %u asked for", (unsigned)job->workload);
    }
}

/* What the input's header chose. */
struct plan {
    uint32_t rng;        /* chunk and drain sizes */
    unsigned max_chunk;  /* 1..256 */
    int drain_first;     /* pvt_http_close_after_next before any input */
    int stats_mode;      /* 0: no callback, 1: a body, 2: -ENOSPC, 3: snprintf-style, 4: -EIO */
    size_t stats_len;    /* the body /stats wants */
};

static uint32_t next_rand(uint32_t *s)
{
    /* xorshift32: the sizes only need to vary, and to repeat exactly. */
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static int stats_cb(void *arg, char *buf, size_t len)
{
    const struct plan *p = arg;
    size_t i;

    switch (p->stats_mode) {
    case 2:
        if (p->stats_len > len)
            return -ENOSPC;
        break;
    case 3:
        if (p->stats_len >= len)
            return (int)p->stats_len; /* as snprintf: what it needed */
        break;
    case 4:
        return -EIO;
    default:
        break;
    }
    if (p->stats_len >= len)
        return -ENOSPC;
    for (i = 0; i < p->stats_len; i++)
        buf[i] = "{}[]\"x0"[i % 7];
    return (int)p->stats_len;
}

/* A growing copy of everything the server wrote. */
struct sink {
    char *buf;
    size_t len, cap;
};

static void sink_take(struct sink *s, struct pvt_http_conn *c, size_t max)
{
    size_t n;
    const char *out = pvt_http_output(c, &n);

    if (n > max)
        n = max;
    if (n == 0)
        return;
    if (s->len + n > s->cap) {
        s->cap = (s->len + n) * 2 + 4096;
        s->buf = realloc(s->buf, s->cap);
        FUZZ_CHECK(s->buf);
    }
    memcpy(s->buf + s->len, out, n);
    s->len += n;
    pvt_http_output_done(c, n);
}

/* A state from feed or resume: 0, 1 or 2, and a pause within /sleep's bounds. */
static int check_state(struct pvt_http_conn *c, int st)
{
    char b = 'x';

    FUZZ_CHECK(st == PVT_HTTP_MORE || st == PVT_HTTP_CLOSE || st == PVT_HTTP_PAUSE);
    if (st == PVT_HTTP_PAUSE) {
        uint64_t ms = pvt_http_pause_ms(c);
        FUZZ_CHECK(ms >= 1 && ms <= 60000);
        FUZZ_CHECK(pvt_http_feed(c, &b, 1) == -EINVAL);
    } else {
        FUZZ_CHECK(pvt_http_pause_ms(c) == 0);
        FUZZ_CHECK(pvt_http_resume(c) == -EINVAL);
    }
    return st;
}

/* Feed one piece; while it pauses, resume (as the server's timer would). */
static int feed_piece(struct pvt_http_conn *c, const char *p, size_t n)
{
    int st = check_state(c, pvt_http_feed(c, p, n));

    while (st == PVT_HTTP_PAUSE)
        st = check_state(c, pvt_http_resume(c));
    return st;
}

/* The stream in pieces (chunked) or whole, then the peer's EOF. */
static void feed_all(const struct plan *p, struct pvt_http_conn *c, const char *in, size_t len,
                     int chunked, struct sink *out)
{
    uint32_t rng = p->rng;
    size_t off = 0, n;
    int st = PVT_HTTP_MORE;

    while (off < len && st != PVT_HTTP_CLOSE) {
        n = chunked ? 1 + next_rand(&rng) % p->max_chunk : len;
        if (n > len - off)
            n = len - off;
        st = feed_piece(c, in + off, n);
        off += n;
        if (chunked)
            sink_take(out, c, next_rand(&rng) % 512);
    }
    if (st != PVT_HTTP_CLOSE)
        FUZZ_CHECK(pvt_http_eof(c) == PVT_HTTP_CLOSE);
}

/*
 * One run: the stream in pieces (chunked) or whole. Fills out with what
 * was written; returns the requests the connection counted.
 */
static uint64_t run_once(const struct plan *p, const struct pvt_http_env *env, const char *in,
                         size_t len, int chunked, struct sink *out)
{
    struct pvt_http_conn *c;
    uint64_t requests;

    FUZZ_CHECK(pvt_http_conn_new(env, &c) == 0);
    if (p->drain_first)
        pvt_http_close_after_next(c);
    if (setjmp(worker_died) == 0)
        feed_all(p, c, in, len, chunked, out);
    /* A worker that died wrote what it had answered before; the rest is lost. */
    sink_take(out, c, SIZE_MAX);
    requests = pvt_http_requests(c);
    pvt_http_conn_free(c);
    return requests;
}

/* The length of the response at s (len bytes left), or 0 if there is none. */
static size_t one_response(const char *s, size_t len)
{
    static const char cl[] = "\r\nContent-Length: ";
    const char *end, *h;
    size_t head, body;

    if (len < 9 || memcmp(s, "HTTP/1.1 ", 9) != 0)
        return 0;
    end = memmem(s, len, "\r\n\r\n", 4);
    FUZZ_CHECK(end);
    head = (size_t)(end - s) + 4;
    h = memmem(s, head, cl, sizeof(cl) - 1);
    FUZZ_CHECK(h);
    body = strtoul(h + sizeof(cl) - 1, NULL, 10);
    /* A HEAD response has the length of the body it does not send: no
     * body here starts with a status line, so the next response tells. */
    if (head + body <= len && (head + body == len || memcmp(s + head + body, "HTTP/1.1 ", 9) == 0))
        return head + body;
    FUZZ_CHECK(head == len || memcmp(s + head, "HTTP/1.1 ", 9) == 0);
    return head;
}

static void check_framing(const struct sink *s, uint64_t requests)
{
    size_t off = 0, n;
    uint64_t count = 0;

    while (off < s->len) {
        n = one_response(s->buf + off, s->len - off);
        FUZZ_CHECK(n > 0);
        off += n;
        count++;
    }
    FUZZ_CHECK(count == requests);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t stats_lens[] = {2, 300, 5000, 70000};
    struct pvt_work_ctx work = {0};
    struct plan p = {0};
    struct pvt_http_env env = {.worker = 3, .pid = 4242, .work = &work, .allow_faults = 1};
    struct sink a = {0}, b = {0};
    uint64_t responses = 0, ra, rb;

    if (size < FUZZ_HDR)
        return 0;
    memcpy(&p.rng, data, 4);
    p.rng |= 1; /* xorshift's state must not be 0 */
    p.max_chunk = 1 + data[4];
    p.drain_first = data[5] & 1;
    p.stats_mode = (data[5] >> 1) % 5;
    p.stats_len = stats_lens[data[6] % 4];
    env.unbounded_routes = data[7] & 1; /* both sides of the routes' bounds */
    env.responses = &responses;
    if (p.stats_mode) {
        env.stats_cb = stats_cb;
        env.stats_arg = &p;
    }
    ra = run_once(&p, &env, (const char *)data + FUZZ_HDR, size - FUZZ_HDR, 1, &a);
    rb = run_once(&p, &env, (const char *)data + FUZZ_HDR, size - FUZZ_HDR, 0, &b);
    FUZZ_CHECK(ra == rb && responses == ra + rb);
    if (a.len != b.len || (a.len && memcmp(a.buf, b.buf, a.len) != 0)) {
        fprintf(stderr, "in pieces:\n%.*s\nwhole:\n%.*s\n", (int)a.len, a.buf, (int)b.len, b.buf);
        FUZZ_FAIL("the split of the input changed the output");
    }
    check_framing(&a, ra);
    free(a.buf);
    free(b.buf);
    return 0;
}
