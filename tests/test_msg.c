/*
 * test_msg.c: messages between the primary and its workers. The decoder's
 * cases are pure; the rest is a contract suite run against every backend
 * in pvt_backends[] through its ops table, and every failure names the
 * backend.
 *
 * Only the thread that drives a pool calls cmocka: the workers answer
 * messages by themselves (msg.h), and the test judges what recv returns.
 * Forged datagrams go in through each backend's test hook, which writes
 * them where a worker's would go. No case asserts how long anything took:
 * every wait is a hang guard no case comes near.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shared/core/msg.h"
#include "proc_cluster/proc_pool.h"
#include "shared/core/pvt.h"
#include "shared/serve/serve.h"
#include "thread_pool/thr_pool.h"
#include "shared/work/work.h"

#define GUARD_MS 20000
#define MAXW     3
#define PAYLOAD  64
#define NOISE    100 /* garbage datagrams in test_forged */

/* Failures name the backend and the expression. */
static void expect_int(const struct pvt_pool_ops *ops, const char *what, long long got,
                       long long want)
{
    if (got != want)
        fail_msg("[%s] %s is %lld, expected %lld", ops->name, what, got, want);
}
#define EXPECT_INT(ops, got, want) expect_int(ops, #got, (long long)(got), (long long)(want))

#define FOR_EACH_BACKEND(bp) for (bp = pvt_backends; *bp; bp++)

/* The one pool a case has open, destroyed by the teardown if it fails. */
static const struct pvt_pool_ops *open_ops;
static struct pvt_pool *open_pool;

static struct pvt_pool *pool_new(const struct pvt_pool_ops *ops, int workers)
{
    struct pvt_pool_cfg cfg = {.workers = workers, .queue_depth = 64};
    struct pvt_pool *p = NULL;

    EXPECT_INT(ops, ops->create(&cfg, &p), 0);
    open_ops = ops;
    open_pool = p;
    return p;
}

static void pool_close(void)
{
    pid_t r;
    int e;

    if (open_pool)
        open_ops->destroy(open_pool);
    open_pool = NULL;
    r = waitpid(-1, NULL, WNOHANG);
    e = errno;
    if (r != -1 || e != ECHILD)
        fail_msg("a child process is left behind (waitpid: %d, errno %d)", (int)r, e);
}

static int teardown(void **state)
{
    (void)state;
    if (open_pool)
        open_ops->destroy(open_pool);
    open_pool = NULL;
    return 0;
}

static int inject(const struct pvt_pool_ops *ops, struct pvt_pool *p, int slot, const void *buf,
                  size_t n)
{
    if (ops->caps & PVT_CAP_PROCESSES)
        return pvt_proc_msg_inject(p, slot, buf, n);
    return pvt_thr_msg_inject(p, slot, buf, n);
}

/* The next message of type from any worker (others are skipped); fails
 * past the guard. */
static void recv_type(const struct pvt_pool_ops *ops, struct pvt_pool *p, uint32_t type,
                      struct pvt_msg_in *in)
{
    int guard, rc;

    for (guard = 0; guard < GUARD_MS / 100; guard++) {
        rc = ops->recv(p, in, 100);
        if (rc < 0)
            fail_msg("[%s] recv returned %d", ops->name, rc);
        if (rc == 1 && in->type == type)
            return;
    }
    fail_msg("[%s] no message of type %u came", ops->name, type);
}

/* Whatever arrives within ms, none of it of type: fails if one is. */
static void expect_none(const struct pvt_pool_ops *ops, struct pvt_pool *p, uint32_t type, int ms)
{
    struct pvt_msg_in in;
    int rc;

    while ((rc = ops->recv(p, &in, ms)) == 1)
        if (in.type == type)
            fail_msg("[%s] an unexpected message of type %u from %d", ops->name, type, in.worker);
    EXPECT_INT(ops, rc, 0);
}

static void get_stats(const struct pvt_pool_ops *ops, struct pvt_pool *p, struct pvt_pool_stats *st,
                      struct pvt_worker_stats *w)
{
    memset(st, 0, sizeof(*st));
    st->w = w;
    EXPECT_INT(ops, ops->stats(p, st), 0);
}

/* PING worker with id and a patterned payload; its PONG must echo both. */
static void ping(const struct pvt_pool_ops *ops, struct pvt_pool *p, int worker, uint32_t id)
{
    unsigned char pay[PAYLOAD];
    struct pvt_msg m = {.type = PVT_MSG_PING, .id = id, .len = sizeof(pay), .data = pay};
    struct pvt_msg_in in;
    size_t i;

    for (i = 0; i < sizeof(pay); i++)
        pay[i] = (unsigned char)(id + i);
    EXPECT_INT(ops, ops->send(p, worker, &m), 1);
    recv_type(ops, p, PVT_MSG_PONG, &in);
    EXPECT_INT(ops, in.worker, worker);
    EXPECT_INT(ops, in.id, id);
    EXPECT_INT(ops, in.len, sizeof(pay));
    if (memcmp(in.data, pay, sizeof(pay)) != 0)
        fail_msg("[%s] the PONG's payload is not the PING's", ops->name);
}

/* Run n no-op jobs and collect them all, OK. */
static void run_jobs(const struct pvt_pool_ops *ops, struct pvt_pool *p, int n)
{
    struct pvt_job job = {.workload = PVT_WL_NOOP};
    struct pvt_result res[16];
    int i, got = 0, rc;

    for (i = 0; i < n; i++) {
        job.id = (uint64_t)i + 1;
        EXPECT_INT(ops, ops->submit(p, &job, 1), 1);
    }
    while (got < n) {
        rc = ops->collect(p, res, 16, GUARD_MS);
        if (rc <= 0)
            fail_msg("[%s] collect returned %d with %d of %d back", ops->name, rc, got, n);
        for (i = 0; i < rc; i++)
            EXPECT_INT(ops, res[i].status, PVT_JOB_OK);
        got += rc;
    }
}

/* ---- the decoder: a pure function ---- */

static size_t frame(unsigned char *buf, uint32_t type, uint32_t len, int worker)
{
    struct pvt_msg_hdr h = {.magic = PVT_MSG_MAGIC,
                            .version = PVT_MSG_WIRE_VERSION,
                            .type = type,
                            .id = 9,
                            .len = len,
                            .worker = worker};

    memcpy(buf, &h, sizeof(h));
    memset(buf + sizeof(h), 0xab, len <= PVT_MSG_MAX ? len : 0);
    return sizeof(h) + (len <= PVT_MSG_MAX ? len : 0);
}

static void test_decode(void **state)
{
    static unsigned char buf[PVT_MSG_WIRE_MAX + 64];
    struct pvt_msg_hdr *h = (struct pvt_msg_hdr *)buf;
    struct pvt_msg m, in = {.type = PVT_MSG_PING, .id = 5, .len = 3, .data = "abc"};
    int w = -1;
    size_t n;

    (void)state;
    assert_int_equal(pvt_msg_encode(&in, 2, buf, sizeof(buf)), PVT_MSG_HDR_SIZE + 3);
    assert_int_equal(pvt_msg_decode(buf, PVT_MSG_HDR_SIZE + 3, &m, &w), 0);
    assert_int_equal(m.type, PVT_MSG_PING);
    assert_int_equal(m.id, 5);
    assert_int_equal(m.len, 3);
    assert_memory_equal(m.data, "abc", 3);
    assert_int_equal(w, 2);

    n = frame(buf, PVT_MSG_PONG, 16, 0);
    assert_int_equal(pvt_msg_decode(buf, n, &m, NULL), 0);
    h->magic ^= 1;
    assert_int_equal(pvt_msg_decode(buf, n, &m, NULL), -EBADMSG);
    n = frame(buf, PVT_MSG_PONG, 16, 0);
    h->version = PVT_MSG_WIRE_VERSION + 1;
    assert_int_equal(pvt_msg_decode(buf, n, &m, NULL), -EBADMSG);
    n = frame(buf, PVT_MSG_PONG, 16, 0);
    h->flags = 1;
    assert_int_equal(pvt_msg_decode(buf, n, &m, NULL), -EBADMSG);
    /* len past the maximum, whatever is present */
    n = frame(buf, PVT_MSG_PONG, PVT_MSG_MAX, 0);
    h->len = PVT_MSG_MAX + 1;
    assert_int_equal(pvt_msg_decode(buf, n + 1, &m, NULL), -EMSGSIZE);
    h->len = UINT32_MAX;
    assert_int_equal(pvt_msg_decode(buf, n, &m, NULL), -EMSGSIZE);
    /* len not the bytes present: fewer and more */
    n = frame(buf, PVT_MSG_PONG, 16, 0);
    assert_int_equal(pvt_msg_decode(buf, n - 1, &m, NULL), -EBADMSG);
    assert_int_equal(pvt_msg_decode(buf, n + 1, &m, NULL), -EBADMSG);
    /* a header cut short, or nothing */
    assert_int_equal(pvt_msg_decode(buf, PVT_MSG_HDR_SIZE - 1, &m, NULL), -EBADMSG);
    assert_int_equal(pvt_msg_decode(buf, 0, &m, NULL), -EBADMSG);
    assert_int_equal(pvt_msg_decode(NULL, 0, &m, NULL), -EBADMSG);
    /* types outside the known range, a worker field out of range */
    n = frame(buf, 0, 0, 0);
    assert_int_equal(pvt_msg_decode(buf, n, &m, NULL), -EBADMSG);
    n = frame(buf, PVT_MSG_TYPE_LAST + 1, 0, 0);
    assert_int_equal(pvt_msg_decode(buf, n, &m, NULL), -EBADMSG);
    n = frame(buf, PVT_MSG_TYPE_LAST, 0, 0);
    assert_int_equal(pvt_msg_decode(buf, n, &m, NULL), 0);
    n = frame(buf, PVT_MSG_PONG, 0, -1);
    assert_int_equal(pvt_msg_decode(buf, n, &m, NULL), -EBADMSG);
    n = frame(buf, PVT_MSG_PONG, 0, PVT_MAX_WORKERS);
    assert_int_equal(pvt_msg_decode(buf, n, &m, NULL), -EBADMSG);

    /* the encoder refuses what the decoder would */
    in.len = PVT_MSG_MAX + 1;
    assert_int_equal(pvt_msg_encode(&in, 0, buf, sizeof(buf)), -EMSGSIZE);
    in.len = 3;
    assert_int_equal(pvt_msg_encode(&in, 0, buf, PVT_MSG_HDR_SIZE + 2), -EMSGSIZE);
    in.type = 0;
    assert_int_equal(pvt_msg_encode(&in, 0, buf, sizeof(buf)), -EINVAL);
}

/* ---- the contract, both backends ---- */

/* Every worker says HELLO once, with its pid (tid) and slot. */
static void test_hello(void **state)
{
    const struct pvt_pool_ops *const *bp;

    (void)state;
    FOR_EACH_BACKEND(bp) {
        const struct pvt_pool_ops *ops = *bp;
        struct pvt_worker_stats w[MAXW];
        struct pvt_pool *p = pool_new(ops, MAXW);
        struct pvt_pool_stats st;
        struct pvt_msg_hello h;
        struct pvt_msg_in in;
        int seen[MAXW] = {0}, k;

        get_stats(ops, p, &st, w);
        for (k = 0; k < MAXW; k++) {
            recv_type(ops, p, PVT_MSG_HELLO, &in);
            if (in.worker < 0 || in.worker >= MAXW || seen[in.worker]++)
                fail_msg("[%s] HELLO from worker %d", ops->name, in.worker);
            EXPECT_INT(ops, in.len, sizeof(h));
            memcpy(&h, in.data, sizeof(h));
            EXPECT_INT(ops, h.slot, in.worker);
            EXPECT_INT(ops, h.pid, w[in.worker].pid);
        }
        expect_none(ops, p, PVT_MSG_HELLO, 50);
        pool_close();
    }
}

/* PING reaches worker 0 and its PONG comes back; STATS counts jobs. */
static void test_ping_stats(void **state)
{
    const struct pvt_pool_ops *const *bp;

    (void)state;
    FOR_EACH_BACKEND(bp) {
        const struct pvt_pool_ops *ops = *bp;
        struct pvt_pool *p = pool_new(ops, 2);
        struct pvt_msg m = {.type = PVT_MSG_STATS, .id = 77};
        struct pvt_pool_stats st;
        struct pvt_msg_in in;
        uint64_t done, sum = 0;
        int i;

        ping(ops, p, 0, 42);
        ping(ops, p, 1, 43);
        run_jobs(ops, p, 40);
        for (i = 0; i < 2; i++) {
            EXPECT_INT(ops, ops->send(p, i, &m), 1);
            recv_type(ops, p, PVT_MSG_STATS, &in);
            EXPECT_INT(ops, in.worker, i);
            EXPECT_INT(ops, in.id, 77);
            EXPECT_INT(ops, in.len, sizeof(done));
            memcpy(&done, in.data, sizeof(done));
            sum += done;
        }
        EXPECT_INT(ops, sum, 40);
        get_stats(ops, p, &st, NULL);
        EXPECT_INT(ops, st.msgs_sent, 4);
        EXPECT_INT(ops, st.msgs_rejected, 0);
        pool_close();
    }
}

/* A broadcast reaches every live worker once; each answers. */
static void test_broadcast(void **state)
{
    const struct pvt_pool_ops *const *bp;

    (void)state;
    FOR_EACH_BACKEND(bp) {
        const struct pvt_pool_ops *ops = *bp;
        struct pvt_pool *p = pool_new(ops, MAXW);
        struct pvt_msg m = {.type = PVT_MSG_PING, .id = 7, .len = 5, .data = "hello"};
        struct pvt_msg_in in;
        int got[MAXW] = {0}, k;

        EXPECT_INT(ops, ops->send(p, -1, &m), MAXW);
        for (k = 0; k < MAXW; k++) {
            recv_type(ops, p, PVT_MSG_PONG, &in);
            if (in.worker < 0 || in.worker >= MAXW || got[in.worker]++)
                fail_msg("[%s] a second PONG from worker %d", ops->name, in.worker);
            EXPECT_INT(ops, in.id, 7);
            EXPECT_INT(ops, in.len, 5);
        }
        expect_none(ops, p, PVT_MSG_PONG, 50);
        pool_close();
    }
}

/* What send refuses, it refuses before anything is written. */
static void test_send_refused(void **state)
{
    static unsigned char big[PVT_MSG_MAX + 1];
    const struct pvt_pool_ops *const *bp;

    (void)state;
    FOR_EACH_BACKEND(bp) {
        const struct pvt_pool_ops *ops = *bp;
        struct pvt_pool *p = pool_new(ops, 2);
        struct pvt_msg m = {.type = PVT_MSG_PING, .id = 1, .len = sizeof(big), .data = big};
        struct pvt_pool_stats st;

        EXPECT_INT(ops, ops->send(p, 0, &m), -EMSGSIZE);
        EXPECT_INT(ops, ops->send(p, -1, &m), -EMSGSIZE);
        m.len = 1;
        m.type = PVT_MSG_TYPE_LAST + 1;
        EXPECT_INT(ops, ops->send(p, 0, &m), -EINVAL);
        m.type = PVT_MSG_PING;
        EXPECT_INT(ops, ops->send(p, 2, &m), -EINVAL);
        EXPECT_INT(ops, ops->send(p, -2, &m), -EINVAL);
        get_stats(ops, p, &st, NULL);
        EXPECT_INT(ops, st.msgs_sent, 0);
        expect_none(ops, p, PVT_MSG_PONG, 100);
        ping(ops, p, 1, 3);
        EXPECT_INT(ops, ops->stop(p, GUARD_MS), 0);
        EXPECT_INT(ops, ops->send(p, 0, &m), -ESHUTDOWN);
        pool_close();
    }
}

/* Garbage and forgeries on worker 0's channel are dropped and counted; a
 * good datagram on the same path gets through; the pool keeps working. */
static void test_forged(void **state)
{
    static unsigned char buf[PVT_MSG_WIRE_MAX + 64];
    const struct pvt_pool_ops *const *bp;

    (void)state;
    FOR_EACH_BACKEND(bp) {
        const struct pvt_pool_ops *ops = *bp;
        struct pvt_pool *p = pool_new(ops, 2);
        struct pvt_msg_hdr *h = (struct pvt_msg_hdr *)buf;
        struct pvt_pool_stats st;
        struct pvt_msg_in in;
        size_t n, i;

        for (i = 0; i < 100; i++)
            buf[i] = (unsigned char)(i * 37 + 11);
        for (i = 0; i < NOISE; i++) /* more than recv rejects in one look */
            EXPECT_INT(ops, inject(ops, p, 0, buf, 100), 0);
        EXPECT_INT(ops, inject(ops, p, 0, buf, 3), 0);   /* a cut header */
        n = frame(buf, PVT_MSG_PONG, 8, 1);
        EXPECT_INT(ops, inject(ops, p, 0, buf, n), 0); /* claims worker 1 */
        n = frame(buf, PVT_MSG_PONG, PVT_MSG_MAX, 0);
        h->len = PVT_MSG_MAX + 1;
        EXPECT_INT(ops, inject(ops, p, 0, buf, n + 1), 0); /* oversized */
        n = frame(buf, PVT_MSG_PONG, PVT_MSG_MAX + 32, 0);
        memset(buf + n, 0, 32);
        h->len = 16;
        EXPECT_INT(ops, inject(ops, p, 0, buf, n + 32), 0); /* len != bytes */
        n = frame(buf, PVT_MSG_USER, 4, 0);
        EXPECT_INT(ops, inject(ops, p, 0, buf, n), 0); /* a good one */
        EXPECT_INT(ops, inject(ops, p, 2, buf, n), -EINVAL);

        recv_type(ops, p, PVT_MSG_USER, &in);
        EXPECT_INT(ops, in.worker, 0);
        EXPECT_INT(ops, in.id, 9);
        EXPECT_INT(ops, in.len, 4);
        expect_none(ops, p, PVT_MSG_PONG, 50);
        get_stats(ops, p, &st, NULL);
        EXPECT_INT(ops, st.msgs_rejected, NOISE + 4);
        EXPECT_INT(ops, st.live, 2);
        ping(ops, p, 0, 11);
        run_jobs(ops, p, 20);
        pool_close();
    }
}

/* proc: a worker killed and respawned has a new channel that works. */
static void test_respawn(void **state)
{
    const struct pvt_pool_ops *ops = &pvt_proc_ops;
    struct pvt_worker_stats w[1];
    struct pvt_pool_stats st;
    struct pvt_msg_hello h;
    struct pvt_msg_in in;
    struct pvt_pool *p;
    pid_t old;

    (void)state;
    p = pool_new(ops, 1);
    recv_type(ops, p, PVT_MSG_HELLO, &in);
    get_stats(ops, p, &st, w);
    old = w[0].pid;
    if (kill(old, SIGKILL) != 0)
        fail_msg("kill: %s", strerror(errno));
    /* recv supervises while it waits: the death is reaped, a new worker
     * forked, and it says HELLO on its own channel. */
    recv_type(ops, p, PVT_MSG_HELLO, &in);
    memcpy(&h, in.data, sizeof(h));
    if (h.pid == old)
        fail_msg("HELLO from the worker that was killed");
    get_stats(ops, p, &st, w);
    EXPECT_INT(ops, w[0].restarts, 1);
    EXPECT_INT(ops, w[0].pid, h.pid);
    ping(ops, p, 0, 99);
    run_jobs(ops, p, 10);
    pool_close();
}

/* Serving pools carry no messages, and say so. */
static void test_serving_refuses(void **state)
{
    const struct pvt_pool_ops *const *bp;

    (void)state;
    FOR_EACH_BACKEND(bp) {
        const struct pvt_pool_ops *ops = *bp;
        struct pvt_serve_cfg sc = {.distribution = PVT_DIST_SHARED};
        struct pvt_pool_cfg cfg = {.workers = 1, .serve = &sc};
        struct pvt_msg m = {.type = PVT_MSG_PING};
        struct pvt_msg_in in;

        EXPECT_INT(ops, ops->create(&cfg, &open_pool), 0);
        open_ops = ops;
        EXPECT_INT(ops, ops->send(open_pool, 0, &m), -EOPNOTSUPP);
        EXPECT_INT(ops, ops->send(open_pool, -1, &m), -EOPNOTSUPP);
        EXPECT_INT(ops, ops->recv(open_pool, &in, 0), -EOPNOTSUPP);
        EXPECT_INT(ops, inject(ops, open_pool, 0, "x", 1), -EINVAL);
        pool_close();
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode),
        cmocka_unit_test_teardown(test_hello, teardown),
        cmocka_unit_test_teardown(test_ping_stats, teardown),
        cmocka_unit_test_teardown(test_broadcast, teardown),
        cmocka_unit_test_teardown(test_send_refused, teardown),
        cmocka_unit_test_teardown(test_forged, teardown),
        cmocka_unit_test_teardown(test_respawn, teardown),
        cmocka_unit_test_teardown(test_serving_refuses, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
