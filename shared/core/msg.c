/*
 * msg.c: the message wire format and a worker's side of the exchange.
 * DESIGN notes are in msg.h.
 */
#include "msg.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "ring.h"

static int type_known(uint32_t type)
{
    return type >= PVT_MSG_HELLO && type <= PVT_MSG_TYPE_LAST;
}

int pvt_msg_check(const struct pvt_msg *m)
{
    if (m->len > PVT_MSG_MAX)
        return -EMSGSIZE;
    if (!type_known(m->type) || (m->len && !m->data))
        return -EINVAL;
    return 0;
}

int pvt_msg_encode(const struct pvt_msg *m, int worker, void *buf, size_t cap)
{
    struct pvt_msg_hdr h = {
        .magic = PVT_MSG_MAGIC,
        .version = PVT_MSG_WIRE_VERSION,
        .type = m->type,
        .id = m->id,
        .len = m->len,
        .worker = worker,
    };
    int rc = pvt_msg_check(m);

    if (rc < 0)
        return rc;
    if (cap < PVT_MSG_HDR_SIZE + m->len)
        return -EMSGSIZE;
    memcpy(buf, &h, sizeof(h));
    if (m->len)
        memcpy((char *)buf + sizeof(h), m->data, m->len);
    return (int)(sizeof(h) + m->len);
}

int pvt_msg_decode(const void *buf, size_t n, struct pvt_msg *out, int *worker)
{
    struct pvt_msg_hdr h;

    if (!buf || n < sizeof(h))
        return -EBADMSG;
    memcpy(&h, buf, sizeof(h)); /* buf need not be aligned */
    if (h.magic != PVT_MSG_MAGIC || h.version != PVT_MSG_WIRE_VERSION || h.flags != 0)
        return -EBADMSG;
    if (h.len > PVT_MSG_MAX)
        return -EMSGSIZE;
    if ((size_t)h.len != n - sizeof(h))
        return -EBADMSG;
    if (!type_known(h.type) || h.worker < 0 || h.worker >= PVT_MAX_WORKERS)
        return -EBADMSG;
    out->type = h.type;
    out->id = h.id;
    out->len = h.len;
    out->data = h.len ? (const char *)buf + sizeof(h) : NULL;
    if (worker)
        *worker = h.worker;
    return 0;
}

int pvt_msg_accept(const void *buf, size_t n, int from, struct pvt_msg_in *out)
{
    struct pvt_msg m;
    int claimed, rc = pvt_msg_decode(buf, n, &m, &claimed);

    if (rc < 0)
        return rc;
    if (claimed != from)
        return -EBADMSG;
    out->worker = from;
    out->type = m.type;
    out->id = m.id;
    out->len = m.len;
    if (m.len)
        memcpy(out->data, m.data, m.len);
    return 0;
}

/* Encode and send one message to the primary; a failure drops it (msg.h). */
static void worker_send(struct pvt_msg_chan *c, const struct pvt_msg *m)
{
    unsigned char buf[PVT_MSG_WIRE_MAX];
    int n = pvt_msg_encode(m, c->slot, buf, sizeof(buf));

    if (n > 0)
        c->send_cb(c->arg, buf, (size_t)n);
}

void pvt_msg_worker_hello(struct pvt_msg_chan *c, int pid)
{
    struct pvt_msg_hello h = {.pid = pid, .slot = c->slot};
    struct pvt_msg m = {.type = PVT_MSG_HELLO, .len = sizeof(h), .data = &h};

    worker_send(c, &m);
}

void pvt_msg_worker_drain_cb(void *chan)
{
    struct pvt_msg_chan *c = chan;
    unsigned char buf[PVT_MSG_WIRE_MAX];
    struct pvt_msg m, reply;
    uint64_t done;
    int n, to;

    while ((n = c->recv_cb(c->arg, buf, sizeof(buf))) >= 0) {
        if (pvt_msg_decode(buf, (size_t)n, &m, &to) < 0 || to != c->slot)
            continue;
        reply = (struct pvt_msg){.id = m.id};
        if (m.type == PVT_MSG_PING) {
            reply.type = PVT_MSG_PONG;
            reply.len = m.len;
            reply.data = m.data;
        } else if (m.type == PVT_MSG_STATS) {
            done = atomic_load_explicit(&c->ring->done, memory_order_relaxed);
            reply.type = PVT_MSG_STATS;
            reply.len = sizeof(done);
            reply.data = &done;
        } else {
            continue;
        }
        worker_send(c, &reply);
    }
}
