/*
 * msg.h: messages between a pool's primary and its workers: the wire format
 * both backends carry, its decoder, and the worker's side of the exchange.
 *
 * DESIGN
 * A message on the wire is one datagram: a fixed header (struct
 * pvt_msg_hdr, host byte order: both ends run the same binary on the same
 * machine) and then exactly `len` bytes of payload. The proc backend sends
 * datagrams over a SOCK_SEQPACKET socketpair per worker; the thread backend
 * queues the same bytes in memory, so both go through one encoder and one
 * decoder. The decoder trusts nothing in what it reads: a datagram is
 * accepted only if its size, magic, version, flags, type range and length
 * all check out, and, where the channel names the sender, if the header's
 * worker field is the worker the channel belongs to. A datagram that fails
 * is counted and dropped; it never reaches the caller.
 *
 * The worker's side (pvt_msg_worker_*) is the same for both backends: a
 * worker says HELLO once when it starts, answers PING with PONG (the same
 * id and payload) and STATS with its jobs done, and ignores other types.
 * It never blocks on a send: a reply the primary has no room for is
 * dropped, so a primary that stops reading never stalls its workers' jobs.
 */
#ifndef PVT_MSG_H
#define PVT_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "pvt.h"

#define PVT_MSG_MAGIC        0x70767431u /* "pvt1" */
#define PVT_MSG_WIRE_VERSION 1u

struct pvt_msg_hdr {
    uint32_t magic;   /* PVT_MSG_MAGIC */
    uint16_t version; /* PVT_MSG_WIRE_VERSION */
    uint16_t flags;   /* 0 */
    uint32_t type;    /* PVT_MSG_HELLO .. PVT_MSG_TYPE_LAST */
    uint32_t id;      /* 0: not a request */
    uint32_t len;     /* payload bytes after the header, <= PVT_MSG_MAX */
    int32_t worker;   /* to a worker: its slot; from one: the sender's slot */
};

#define PVT_MSG_HDR_SIZE sizeof(struct pvt_msg_hdr)
#define PVT_MSG_WIRE_MAX (PVT_MSG_HDR_SIZE + PVT_MSG_MAX)

/* The payload of a HELLO. */
struct pvt_msg_hello {
    int32_t pid;  /* the worker's pid (proc) or thread id (thread) */
    int32_t slot; /* its slot */
};

/*
 * Encode m, addressed to or sent by worker, into buf (cap bytes). Returns
 * the datagram's size, -EMSGSIZE when m->len > PVT_MSG_MAX or cap is too
 * small, -EINVAL for a type outside the known range or a payload pointer
 * that is NULL with len > 0.
 */
int pvt_msg_encode(const struct pvt_msg *m, int worker, void *buf, size_t cap);

/*
 * The decoder, and the fuzzing entry point: a pure function of its
 * arguments (no state, no allocation, no I/O), safe on any bytes. Checks
 * the n bytes at buf as one datagram and, when they are valid, fills out
 * (out->data points into buf) and *worker (the header's worker field;
 * worker may be NULL). Returns 0, or:
 *   -EBADMSG  n shorter than a header, a wrong magic, version or flags, a
 *             type outside PVT_MSG_HELLO .. PVT_MSG_TYPE_LAST, a worker
 *             field outside 0 .. PVT_MAX_WORKERS - 1, or len not equal to
 *             the bytes present after the header;
 *   -EMSGSIZE len > PVT_MSG_MAX.
 * out and *worker are left untouched on failure.
 */
int pvt_msg_decode(const void *buf, size_t n, struct pvt_msg *out, int *worker);

/*
 * What a primary does with a datagram that came in on worker from's
 * channel: decode it (as pvt_msg_decode, whose errors it returns), refuse
 * it with -EBADMSG when its header claims another worker, and copy it into
 * out (out->worker = from). Pure, like pvt_msg_decode.
 */
int pvt_msg_accept(const void *buf, size_t n, int from, struct pvt_msg_in *out);

/* Check a message before sending it: 0, -EMSGSIZE or -EINVAL as encode. */
int pvt_msg_check(const struct pvt_msg *m);

/*
 * A worker's channel to its primary, filled in by the backend. send puts
 * one datagram to the primary without blocking (0 or -errno); recv takes
 * one from the primary without blocking (its size, or -EAGAIN when there is
 * none, or another -errno).
 */
struct pvt_msg_chan {
    int (*send_cb)(void *arg, const void *buf, size_t n);
    int (*recv_cb)(void *arg, void *buf, size_t cap);
    void *arg;
    int slot;
    const struct pvt_ring *ring; /* its jobs done, for STATS */
};

/* In a worker, once it is ready: say HELLO with pid and slot. */
void pvt_msg_worker_hello(struct pvt_msg_chan *c, int pid);

/*
 * In a worker, between jobs (the ring's message hook, ring.h): handle every
 * message waiting for it. chan is a struct pvt_msg_chan. A datagram that
 * does not decode, or is addressed to another slot, is dropped.
 */
void pvt_msg_worker_drain_cb(void *chan);

#endif
