/*
 * fuzz_ctl.c: what `pvt serve`'s control socket answers to any request line
 * (shared/ctl.c: pvt_ctl_answer), against a pool of this file's own.
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
#include <string.h>
#include <unistd.h>

#include "ctl.h"
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
    .name = "proc", .stats = fake_stats, .restart = fake_restart, .scale = fake_scale};

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

    out = pvt_ctl_answer(line, &fake_ops, &pool, &flags);
    FUZZ_CHECK(out != NULL);
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
