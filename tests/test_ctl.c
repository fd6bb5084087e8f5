/*
 * test_ctl.c: the control socket of `pvt serve` (bench/cli/ctl.c), against a
 * pool of this file's own (a table of ops with a fake stats).
 *
 * DESIGN
 * The test thread is the server: it calls the serve function in a loop, as
 * pvt serve's primary does, while clients run on helper threads that never
 * call cmocka (they record what they got; the test thread asserts after
 * pthread_join). Every wait is a bounded poll that only turns a hang into a
 * failure; nothing is timed.
 *
 * - Its socket lives in a directory of its own, mode 0700, so nothing
 *   another user made at a predictable name (the old /tmp/pvt-PID.ctl) can
 *   keep a server from starting, and the directory goes with it.
 * - A client that takes its reply slowly, or sends nothing, does not stall
 *   the server: another client is answered meanwhile, and the slow one
 *   still gets its whole reply once it reads.
 * - A client that does not take its reply within the bound is dropped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bench/cli/ctl.h"
#include "shared/core/pvt.h"

#define GUARD_MS 30000
#define BIG      440 /* workers in the fake pool: a status reply over 240 KiB */

struct pvt_pool {
    int n;
};

static int fake_stats(struct pvt_pool *p, struct pvt_pool_stats *st)
{
    struct pvt_worker_stats *w = st->w;
    int i, c;

    memset(st, 0, sizeof(*st));
    st->w = w;
    st->backend = "proc";
    st->workers = st->live = p->n;
    for (i = 0; w && i < p->n; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].slot = i;
        w[i].pid = 1;
        w[i].state = PVT_W_READY;
        for (c = 0; c < 128; c += 2) /* a long CPU list: a long reply */
            CPU_SET(c, &w[i].bound);
    }
    return 0;
}

static const struct pvt_pool_ops fake_ops = {
    .name = "proc", .caps = PVT_CAP_PROCESSES, .stats = fake_stats};

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A connected client that has sent req (with its newline), or -1. */
static int client(const char *path, const char *req)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        (req && (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0 ||
                 send(fd, "\n", 1, MSG_NOSIGNAL) < 0))) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* A client on a helper thread: sends its request, reads to end of file. */
struct reader {
    const char *path;
    atomic_int done;
    size_t len;
    char *buf;
    int err;
};

static void *reader_cb(void *arg)
{
    struct reader *r = arg;
    struct timeval tv = {GUARD_MS / 1000, 0};
    int fd = client(r->path, "{\"cmd\":\"status\"}");
    ssize_t n;

    r->buf = malloc(PVT_CTL_MAX_REPLY + 1);
    if (fd < 0 || !r->buf) {
        r->err = fd < 0 ? errno : ENOMEM;
        goto out;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    while (r->len < PVT_CTL_MAX_REPLY &&
           (n = recv(fd, r->buf + r->len, PVT_CTL_MAX_REPLY - r->len, 0)) > 0)
        r->len += (size_t)n;
    r->buf[r->len] = '\0';
    close(fd);
out:
    atomic_store(&r->done, 1);
    return NULL;
}

/* 1 if buf holds exactly one line of JSON, an object with "ok": true. */
static int whole_ok_reply(const char *buf, size_t len)
{
    json_t *j;
    int ok;

    if (len == 0 || buf[len - 1] != '\n' || memchr(buf, '\n', len) != buf + len - 1)
        return 0;
    j = json_loads(buf, JSON_DISABLE_EOF_CHECK, NULL);
    ok = json_is_true(json_object_get(j, "ok"));
    json_decref(j);
    return ok;
}

/* ---- the server under test, as pvt serve drives it ---- */

struct srv {
    char path[108];
    struct pvt_ctl *ctl;
    struct pvt_pool pool;
};

static void srv_open(struct srv *s, int workers, int client_ms)
{
    int lfd;

    s->pool.n = workers;
    assert_int_equal(pvt_ctl_path(getpid(), s->path, sizeof(s->path)), 0);
    lfd = pvt_ctl_listen(s->path);
    assert_true(lfd >= 0);
    assert_int_equal(pvt_ctl_open(lfd, client_ms, &s->ctl), 0);
}

/* Wait a little for work, then serve what there is. */
static void srv_step(struct srv *s)
{
    struct pollfd pfd = {.fd = pvt_ctl_fd(s->ctl), .events = POLLIN};

    poll(&pfd, 1, 10);
    pvt_ctl_serve(s->ctl, &fake_ops, &s->pool);
}

static void srv_close(struct srv *s)
{
    pvt_ctl_close(s->ctl);
    pvt_ctl_path_remove(s->path);
}

/* The old fixed name, taken by something the server cannot remove (a
 * directory here; another user's file in /tmp behaves alike), does not keep
 * a server from starting: its socket lives in a fresh directory of mode
 * 0700, which is gone with the socket. */
static void test_private_directory(void **state)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    char old[108], dir[108], *slash;
    struct stat st;
    struct srv s;
    int lfd;

    (void)state;
    snprintf(old, sizeof(old), "%s/pvt-%d.ctl",
             xdg && xdg[0] == '/' && access(xdg, W_OK | X_OK) == 0 ? xdg : "/tmp", (int)getpid());
    assert_int_equal(mkdir(old, 0700), 0);
    s.pool.n = 1;
    assert_int_equal(pvt_ctl_path(getpid(), s.path, sizeof(s.path)), 0);
    lfd = pvt_ctl_listen(s.path);
    rmdir(old);
    if (lfd < 0)
        fail_msg("a directory at %s keeps the control socket %s from listening: %s", old, s.path,
                 strerror(-lfd));
    assert_int_equal(pvt_ctl_open(lfd, 0, &s.ctl), 0);
    snprintf(dir, sizeof(dir), "%s", s.path);
    slash = strrchr(dir, '/');
    assert_non_null(slash);
    *slash = '\0';
    assert_int_equal(stat(dir, &st), 0);
    if (!S_ISDIR(st.st_mode) || (st.st_mode & 0777) != 0700 || st.st_uid != getuid())
        fail_msg("the socket %s is not in a directory of its own of mode 0700 (%o)", s.path,
                 (unsigned)(st.st_mode & 0777));
    assert_int_equal(stat(s.path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    srv_close(&s);
    if (stat(dir, &st) == 0)
        fail_msg("the directory %s is left after the server closed", dir);
}

/*
 * A client that sends status and does not read its reply (several 100 KiB,
 * more than a socket holds), and one that sends nothing: meanwhile another
 * client gets its whole reply, and then the slow reader, once it reads,
 * gets its whole reply too.
 */
static void test_slow_reader(void **state)
{
    struct reader r = {0};
    uint64_t end = now_ms() + GUARD_MS;
    char *buf = malloc(PVT_CTL_MAX_REPLY + 1);
    size_t len = 0;
    int slow, silent, eof = 0;
    pthread_t t;
    ssize_t n;
    struct srv s;

    (void)state;
    assert_non_null(buf);
    srv_open(&s, BIG, 600000); /* a bound this case never comes near */
    slow = client(s.path, "{\"cmd\":\"status\"}");
    silent = client(s.path, NULL);
    assert_true(slow >= 0 && silent >= 0);
    r.path = s.path;
    assert_int_equal(pthread_create(&t, NULL, reader_cb, &r), 0);
    while (!atomic_load(&r.done) && now_ms() < end)
        srv_step(&s);
    pthread_join(t, NULL);
    /* Now the slow reader takes its reply, the server still serving. */
    while (!eof && now_ms() < end) {
        srv_step(&s);
        while ((n = recv(slow, buf + len, PVT_CTL_MAX_REPLY - len, MSG_DONTWAIT)) > 0)
            len += (size_t)n;
        eof = n == 0 || (n < 0 && errno != EAGAIN);
    }
    close(slow);
    close(silent);
    srv_close(&s);
    if (!whole_ok_reply(r.buf, r.len))
        fail_msg("with a slow reader and a silent client connected, another client got %zu "
                 "bytes, not a whole reply (%d)", r.len, r.err);
    free(r.buf);
    if (!whole_ok_reply(buf, len))
        fail_msg("the slow reader got %zu bytes, not its whole reply", len);
    free(buf);
}

/*
 * A client that never takes its reply is dropped once its bound (100 ms
 * here) has passed: it reads part of a reply, then end of file. Meanwhile
 * another client is answered in full.
 */
static void test_slow_reader_dropped(void **state)
{
    uint64_t end = now_ms() + GUARD_MS;
    char *buf = malloc(PVT_CTL_MAX_REPLY + 1);
    struct reader r = {0};
    size_t len = 0;
    int slow, eof = 0;
    pthread_t t;
    ssize_t n;
    struct srv s;

    (void)state;
    assert_non_null(buf);
    srv_open(&s, BIG, 100);
    slow = client(s.path, "{\"cmd\":\"status\"}");
    assert_true(slow >= 0);
    /* Until the server has begun to answer: a reply fills the socket. */
    while (recv(slow, buf, 1, MSG_PEEK | MSG_DONTWAIT) <= 0 && now_ms() < end)
        srv_step(&s);
    r.path = s.path;
    assert_int_equal(pthread_create(&t, NULL, reader_cb, &r), 0);
    while (!atomic_load(&r.done) && now_ms() < end)
        srv_step(&s);
    pthread_join(t, NULL);
    /* The slow client's entry goes at its bound: the server's end closes
     * (POLLRDHUP, seen with the reply still unread); only then does it read. */
    while (now_ms() < end) {
        struct pollfd pfd = {.fd = slow, .events = POLLRDHUP};
        srv_step(&s);
        if (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLRDHUP))
            break;
    }
    while ((n = recv(slow, buf + len, PVT_CTL_MAX_REPLY - len, MSG_DONTWAIT)) > 0)
        len += (size_t)n;
    eof = n == 0;
    close(slow);
    srv_close(&s);
    if (!whole_ok_reply(r.buf, r.len))
        fail_msg("another client got %zu bytes, not a whole reply (%d)", r.len, r.err);
    free(r.buf);
    if (!eof || whole_ok_reply(buf, len))
        fail_msg("a client that did not take its reply was not dropped (%zu bytes, %s)", len,
                 eof ? "end of file" : "no end of file");
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_private_directory),
        cmocka_unit_test(test_slow_reader),
        cmocka_unit_test(test_slow_reader_dropped),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
