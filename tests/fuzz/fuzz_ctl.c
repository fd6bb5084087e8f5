/*
 * fuzz_ctl.c: what `pvt serve`'s control socket answers to any request line
 * (bench/cli/ctl.c), against a pool of this file's own, as a client reads it:
 * through the server's non-blocking read and queued reply (pvt_ctl_serve on
 * a socketpair it adopts), the line arriving in two pieces.
 *
 * The input is cut as the server cuts what it reads: at the first newline,
 * at most PVT_CTL_MAX_LINE bytes, and a NUL ends it. Whatever it is, the
 * reply must be one line of JSON, an object under PVT_CTL_MAX_REPLY bytes
 * with a boolean "ok" (and an "error" string when it is false). The pool's
 * restart and scale may only be reached with an argument the parser checked
 * (within +-PVT_MAX_WORKERS), and only for the command that names them; stop
 * is never carried out here, only flagged. A request that is a JSON object
 * with "cmd":"status" gets the pool's workers.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench/cli/ctl.h"
#include "fuzz.h"

#define WORKERS 3
#define MAX_SCALE 8

struct pvt_pool {
    int n;
    int restarts, scales; /* calls */
};

static int fake_stats(struct pvt_pool *p, struct pvt_pool_stats *st)
{
    struct pvt_worker_stats *w = st->w;
    int i;

    memset(st, 0, sizeof(*st));
    st->w = w;
    st->backend = "proc";
    st->workers = st->live = p->n;
    st->port = 8080;
    for (i = 0; w && i < p->n; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].slot = i;
        w[i].pid = getpid();
        w[i].state = PVT_W_READY;
        CPU_SET(i, &w[i].bound);
    }
    return 0;
}

static int fake_restart(struct pvt_pool *p, int batch)
{
    FUZZ_CHECK(batch >= -PVT_MAX_WORKERS && batch <= PVT_MAX_WORKERS);
    p->restarts++;
    return batch < 1 ? -EINVAL : 0;
}

static int fake_scale(struct pvt_pool *p, int delta)
{
    FUZZ_CHECK(delta >= -PVT_MAX_WORKERS && delta <= PVT_MAX_WORKERS);
    p->scales++;
    if (p->n + delta < 1)
        return -EINVAL;
    if (p->n + delta > MAX_SCALE)
        return -ENOSPC;
    p->n += delta;
    return p->n;
}

static const struct pvt_pool_ops fake_ops = {
    .name = "proc",
    .caps = PVT_CAP_PROCESSES | PVT_CAP_SERVE,
    .stats = fake_stats,
    .restart = fake_restart,
    .scale = fake_scale};

/*
 * The reply to line as a client gets it: through a server (pvt_ctl_open) on
 * a socketpair it adopts, the line sent in two pieces (cut where the input's
 * first byte says) with a serve between them, the reply read to end of
 * file. Returns it malloc'd, without its newline; checks that exactly one
 * newline ended it.
 */
static char *socket_answer(const char *line, struct pvt_pool *pool, int *flags)
{
    size_t len = strlen(line), cut = len ? (unsigned char)line[0] % (len + 1) : 0, got = 0;
    char *buf = malloc(PVT_CTL_MAX_REPLY);
    struct pvt_ctl *ctl;
    int sv[2], lfd, k;
    ssize_t n = -1;

    FUZZ_CHECK(buf != NULL);
    FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0); /* never listens: no client comes */
    FUZZ_CHECK(lfd >= 0 && pvt_ctl_open(lfd, 0, &ctl) == 0);
    FUZZ_CHECK(pvt_ctl_adopt(ctl, sv[0]) == 0);
    FUZZ_CHECK(send(sv[1], line, cut, MSG_NOSIGNAL) == (ssize_t)cut);
    *flags |= pvt_ctl_serve(ctl, &fake_ops, pool);
    FUZZ_CHECK(send(sv[1], line + cut, len - cut, MSG_NOSIGNAL) == (ssize_t)(len - cut));
    FUZZ_CHECK(send(sv[1], "\n", 1, MSG_NOSIGNAL) == 1);
    for (k = 0; k < 1000 && n != 0; k++) {
        *flags |= pvt_ctl_serve(ctl, &fake_ops, pool);
        while (got < PVT_CTL_MAX_REPLY &&
               (n = recv(sv[1], buf + got, PVT_CTL_MAX_REPLY - got, MSG_DONTWAIT)) > 0)
            got += (size_t)n;
    }
    FUZZ_CHECK(n == 0); /* the server closed after its reply */
    pvt_ctl_close(ctl);
    close(sv[1]);
    FUZZ_CHECK(got > 0 && got < PVT_CTL_MAX_REPLY && buf[got - 1] == '\n');
    buf[got - 1] = '\0';
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char line[PVT_CTL_MAX_LINE + 1];
    struct pvt_pool pool = {.n = WORKERS};
    const char *nl, *cmd = NULL;
    json_t *req, *reply, *ok;
    char *out;
    int flags = 0;

    if (size > PVT_CTL_MAX_LINE)
        size = PVT_CTL_MAX_LINE;
    memcpy(line, data, size);
    line[size] = '\0';
    if ((nl = memchr(line, '\n', size)))
        line[nl - line] = '\0';

    out = socket_answer(line, &pool, &flags);
    FUZZ_CHECK(strchr(out, '\n') == NULL && strlen(out) < PVT_CTL_MAX_REPLY);
    reply = json_loads(out, 0, NULL);
    FUZZ_CHECK(json_is_object(reply));
    ok = json_object_get(reply, "ok");
    FUZZ_CHECK(json_is_boolean(ok));
    if (json_is_false(ok))
        FUZZ_CHECK(json_is_string(json_object_get(reply, "error")));

    /* What the request asked, read independently. */
    req = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
    if (json_is_object(req))
        cmd = json_string_value(json_object_get(req, "cmd"));
    if (!cmd)
        FUZZ_CHECK(json_is_false(ok) && flags == 0);
    FUZZ_CHECK(pool.restarts <= 1 && pool.scales <= 1);
    FUZZ_CHECK(!pool.restarts || (cmd && strcmp(cmd, "restart") == 0));
    FUZZ_CHECK(!pool.scales || (cmd && strcmp(cmd, "scale") == 0));
    FUZZ_CHECK(!(flags & PVT_CTL_WANT_STOP) ||
               (cmd && strcmp(cmd, "stop") == 0 && json_is_true(ok)));
    FUZZ_CHECK(!(flags & PVT_CTL_DID_RESTART) || (pool.restarts == 1 && json_is_true(ok)));
    if (cmd && strcmp(cmd, "status") == 0) {
        FUZZ_CHECK(json_is_true(ok));
        FUZZ_CHECK(json_array_size(json_object_get(reply, "workers")) == WORKERS);
    }
    json_decref(req);
    json_decref(reply);
    free(out);
    return 0;
}
