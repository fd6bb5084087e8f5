/*
 * thr_msg.c: the thread backend's messages (ops->send and ops->recv).
 *
 * DESIGN
 * The same datagrams as the process backend's (msg.h), carried in memory:
 * each worker thread has a queue from the primary, and all of them share
 * one queue to the primary. A queue is a mutex, a condvar and a list of
 * copies: send encodes the message into a node, so the caller's payload is
 * free when send returns, and the receiver decodes it as if it came off a
 * socket. Each node is tagged with the slot whose channel put it, which
 * plays the part of the socket naming its sender: a header that claims
 * another slot is rejected.
 *
 * A worker looks at its queue between jobs, when the ring's `msgs` counter
 * moved (ring.h: the primary bumps it and wakes the thread after each put),
 * so the job fast path only ever reads one cache line more. The primary
 * waits on its queue's condvar (CLOCK_MONOTONIC). Both queues are bounded:
 * a full worker queue makes send fail with -EAGAIN, a full primary queue
 * drops the worker's reply, so no side ever blocks on the other.
 *
 * Lock order: a thread holds at most one queue's mutex, and never while it
 * runs a job or waits for anything but that queue.
 */
#include "thr_msg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TO_WORKER_CAP  1024
#define TO_PRIMARY_CAP 4096

struct thr_mq_node {
    struct thr_mq_node *next;
    int from;
    size_t n;
    unsigned char buf[];
};

static int mq_init(struct thr_mq *q, unsigned cap)
{
    pthread_condattr_t ca;
    int rc;

    *q = (struct thr_mq){.cap = cap};
    rc = pthread_mutex_init(&q->mu, NULL);
    if (rc)
        return -rc;
    rc = pthread_condattr_init(&ca);
    if (!rc) {
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        rc = pthread_cond_init(&q->cv, &ca);
        pthread_condattr_destroy(&ca);
    }
    if (rc) {
        pthread_mutex_destroy(&q->mu);
        return -rc;
    }
    return 0;
}

static void mq_fini(struct thr_mq *q)
{
    struct thr_mq_node *x, *next;

    for (x = q->head; x; x = next) {
        next = x->next;
        free(x);
    }
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->mu);
}

/* Copy n bytes onto q as slot from's. 0, -EAGAIN (full), -ENOMEM. */
static int mq_put(struct thr_mq *q, int from, const void *buf, size_t n)
{
    struct thr_mq_node *x = malloc(sizeof(*x) + n);
    int rc = 0;

    if (!x)
        return -ENOMEM;
    x->next = NULL;
    x->from = from;
    x->n = n;
    memcpy(x->buf, buf, n);
    pthread_mutex_lock(&q->mu);
    if (q->count >= q->cap) {
        rc = -EAGAIN;
    } else {
        if (q->tail)
            q->tail->next = x;
        else
            q->head = x;
        q->tail = x;
        q->count++;
        pthread_cond_signal(&q->cv);
    }
    pthread_mutex_unlock(&q->mu);
    if (rc)
        free(x);
    return rc;
}

/* The first node of q, waiting until deadline (NULL: not at all). */
static struct thr_mq_node *mq_take(struct thr_mq *q, const struct timespec *deadline)
{
    struct thr_mq_node *x;

    pthread_mutex_lock(&q->mu);
    while (!q->head && deadline)
        if (pthread_cond_timedwait(&q->cv, &q->mu, deadline) == ETIMEDOUT)
            break;
    x = q->head;
    if (x) {
        q->head = x->next;
        if (!q->head)
            q->tail = NULL;
        q->count--;
    }
    pthread_mutex_unlock(&q->mu);
    return x;
}

static int chan_send_cb(void *arg, const void *buf, size_t n)
{
    struct thr_chan_arg *a = arg;

    return mq_put(&a->m->primary, a->slot, buf, n);
}

static int chan_recv_cb(void *arg, void *buf, size_t cap)
{
    struct thr_chan_arg *a = arg;
    struct thr_mq_node *x = mq_take(&a->m->to[a->slot], NULL);
    int n;

    if (!x)
        return -EAGAIN;
    n = (int)(x->n < cap ? x->n : cap); /* a cut datagram fails to decode */
    memcpy(buf, x->buf, (size_t)n);
    free(x);
    return n;
}

int pvt__thr_msg_init(struct thr_msgs *m, int n, struct pvt_ring **rings, const unsigned char *live)
{
    int i, rc;

    *m = (struct thr_msgs){.rings = rings, .live = live};
    m->to = calloc((size_t)n, sizeof(*m->to));
    m->arg = calloc((size_t)n, sizeof(*m->arg));
    m->chan = calloc((size_t)n, sizeof(*m->chan));
    if (!m->to || !m->arg || !m->chan) {
        pvt__thr_msg_fini(m);
        return -ENOMEM;
    }
    rc = mq_init(&m->primary, TO_PRIMARY_CAP);
    if (rc < 0) {
        pvt__thr_msg_fini(m);
        return rc;
    }
    m->inited = 1;
    for (; m->n < n; m->n++) {
        i = m->n;
        rc = mq_init(&m->to[i], TO_WORKER_CAP);
        if (rc < 0) {
            pvt__thr_msg_fini(m);
            return rc;
        }
        m->arg[i] = (struct thr_chan_arg){.m = m, .slot = i};
        m->chan[i] = (struct pvt_msg_chan){.send_cb = chan_send_cb,
                                           .recv_cb = chan_recv_cb,
                                           .arg = &m->arg[i],
                                           .slot = i,
                                           .ring = rings[i]};
    }
    return 0;
}

void pvt__thr_msg_fini(struct thr_msgs *m)
{
    int i;

    for (i = 0; i < m->n; i++)
        mq_fini(&m->to[i]);
    if (m->inited)
        mq_fini(&m->primary);
    free(m->to);
    free(m->arg);
    free(m->chan);
    *m = (struct thr_msgs){0};
}

static int send_one(struct thr_msgs *m, int i, const struct pvt_msg *msg)
{
    unsigned char buf[PVT_MSG_WIRE_MAX];
    int n = pvt_msg_encode(msg, i, buf, sizeof(buf)), rc;

    if (n < 0)
        return n;
    rc = mq_put(&m->to[i], -1, buf, (size_t)n);
    if (rc < 0)
        return rc;
    m->sent++;
    pvt_ring_post_msg(m->rings[i]);
    return 1;
}

int pvt__thr_msg_send(struct thr_msgs *m, int worker, int stopped, const struct pvt_msg *msg)
{
    int rc = pvt_msg_check(msg), i, sent = 0;

    if (rc < 0)
        return rc;
    if (worker < -1 || worker >= m->n)
        return -EINVAL;
    if (stopped)
        return -ESHUTDOWN;
    if (worker >= 0)
        return m->live[worker] ? send_one(m, worker, msg) : -EHOSTDOWN;
    for (i = 0; i < m->n; i++)
        if (m->live[i] && send_one(m, i, msg) > 0)
            sent++;
    return sent ? sent : -EHOSTDOWN;
}

void pvt__thr_msg_stats(const struct thr_msgs *m, struct pvt_pool_stats *st)
{
    if (!m)
        return;
    st->msgs_sent = m->sent;
    st->msgs_received = m->received;
    st->msgs_rejected = m->rejected;
}

int pvt__thr_msg_recv(struct thr_msgs *m, struct pvt_msg_in *out, int timeout_ms)
{
    struct timespec deadline;
    struct thr_mq_node *x;
    int rc;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    if (timeout_ms < 0) {
        deadline.tv_sec += 365 * 24 * 3600; /* forever, as far as a pool lives */
    } else {
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
        if (deadline.tv_nsec >= 1000000000) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000;
        }
    }
    for (;;) {
        x = mq_take(&m->primary, timeout_ms == 0 ? NULL : &deadline);
        if (!x)
            return 0;
        rc = pvt_msg_accept(x->buf, x->n, x->from, out);
        free(x);
        if (rc < 0) {
            m->rejected++;
            continue;
        }
        m->received++;
        return 1;
    }
}

int pvt__thr_msg_put(struct thr_msgs *m, int slot, const void *buf, size_t n)
{
    if (slot < 0 || slot >= m->n)
        return -EINVAL;
    return mq_put(&m->primary, slot, buf, n);
}
