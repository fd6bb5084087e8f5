/*
 * thr_msg.h: the thread backend's messages, used by thr_pool.c. Not a
 * public header.
 */
#ifndef PVT_THR_MSG_H
#define PVT_THR_MSG_H

#include <pthread.h>

#include "shared/core/msg.h"
#include "shared/core/ring.h"

/* A queue of datagrams, each tagged with the slot of the thread that put it. */
struct thr_mq {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* the primary's queue: signalled on every put */
    struct thr_mq_node *head, *tail;
    unsigned count, cap;
};

struct thr_chan_arg {
    struct thr_msgs *m;
    int slot;
};

struct thr_msgs {
    int n;                     /* slots with a channel */
    struct pvt_ring **rings;   /* the pool's: slot i's ring */
    const unsigned char *live; /* the dispatcher's: slot i may take messages */
    struct thr_mq primary;     /* every worker -> the primary */
    struct thr_mq *to;         /* per slot: the primary -> its worker */
    struct thr_chan_arg *arg;  /* per slot */
    struct pvt_msg_chan *chan; /* per slot: what its worker thread uses */
    uint64_t sent, received, rejected;
    int inited; /* the primary queue's mutex and condvar exist */
};

/* Channels for n slots whose rings are rings[0 .. n-1], and which may take
 * messages while live[i]; both arrays outlive m. 0 or -errno. */
int pvt__thr_msg_init(struct thr_msgs *m, int n, struct pvt_ring **rings,
                      const unsigned char *live);
void pvt__thr_msg_fini(struct thr_msgs *m);

/* As ops->send; stopped: the pool's stop has begun. */
int pvt__thr_msg_send(struct thr_msgs *m, int worker, int stopped, const struct pvt_msg *msg);
/* As ops->recv. */
int pvt__thr_msg_recv(struct thr_msgs *m, struct pvt_msg_in *out, int timeout_ms);
/* The message counts into st; m may be NULL (a serving pool: none). */
void pvt__thr_msg_stats(const struct thr_msgs *m, struct pvt_pool_stats *st);
/* Put n raw bytes on the primary's queue as slot's worker would. */
int pvt__thr_msg_put(struct thr_msgs *m, int slot, const void *buf, size_t n);

#endif
