/*
 * proc_int.h: the process backend's pool and its mechanics, shared by its
 * files. Not a public header. The calls go one way, down this list:
 *
 *   proc_pool.c   the ops: create, the wait, stats, stop, destroy
 *   proc_sup.c    supervision: a death, delayed respawns, the watchdog's
 *                 force, RSS and ring checks, the policy's mechanics table
 *   proc_spawn.c  mechanics: fork a worker, reap one, signal one, retire a slot
 *   proc_msg.c    message channels; proc_worker.c the worker process
 *
 * and each may call the shared policy (shared/serve/pool_policy.h), which
 * calls back only through pvt__proc_mech.
 */
#ifndef PVT_PROC_INT_H
#define PVT_PROC_INT_H

#include <stddef.h>

#include "shared/core/disp.h"
#include "shared/core/msg.h"
#include "proc_pool.h"
#include "shared/serve/pool_policy.h"
#include "shared/serve/serve.h"
#include "shared/core/sup.h"

/* What the primary keeps of a slot's workers, apart from what the policy
 * keeps (struct pvt_policy_slot: the predecessor's ring, recycles). */
struct proc_slot {
    pid_t pid; /* 0: no worker */
    int pidfd; /* -1: none */
    unsigned restarts;
    int last_code;
    int last_signal;
    int last_intended;
    struct pvt_sup_slot sup;
    uint64_t respawn_at; /* ns: a delayed respawn is due then; 0: none */
    int recycling;       /* asked to drain and exit, to be replaced at once */
    int killed_corrupt;  /* killed for the garbage in its ring (proc_sup.c) */
    int stop_asked;      /* the primary asked the current worker to stop (its own
                          * record: the ring's stop is memory the worker can write) */
    /* Job pools: the ring's done count when the current worker started, so
     * that a PVT_WEXIT_RECYCLE is believed only from a worker that ran the
     * jobs of its limit (pvt_policy_slot: job_limit). */
    uint64_t job_base;
    /* Serving pools: the worker this slot's current one replaced, or the
     * one scale removed, draining on the slot's other ring (the policy's
     * old); its pidfd is in the epoll set as TAG_OLD + slot. */
    pid_t old_pid;       /* 0: none */
    int old_pidfd;
    /* The predecessors reaped (pvt_worker_stats says what each means). */
    unsigned drained;
    pid_t drained_pid;
    int drained_code, drained_signal, drained_recycled;
    /* Job pools (proc_msg.c): the current worker's channel, -1: none. */
    int mfd; /* the primary's end, in the epoll set as TAG_MSG + slot */
    int wfd; /* the worker's end (its copy in the worker is the one used) */
};

/* The backend's name: its ops table's, and the label its workers report. */
#define PVT__PROC_NAME "proc"

/* epoll data of the primary's set: 0 the waker, 1 + slot a worker's pidfd. */
#define PVT__PROC_TAG_OLD 0x40000000u /* + slot: a draining predecessor's pidfd */
#define PVT__PROC_TAG_MSG 0x20000000u /* + slot: a worker's message channel */
#define PVT__PROC_TAG_WATCH (UINT32_MAX - 1) /* serve cfg's watch_fd */
#define PVT__PROC_TAG_LISTEN UINT32_MAX      /* the rr listening socket */

struct pvt_pool {
    struct pvt_policy pol; /* rings, slots, sockets and what is decided about them */
    int respawn;
    struct proc_slot *s;
    int epfd;
    int alive; /* worker processes not yet reaped */
    uint64_t deaths;
    /* Supervision (sup.h, proc_sup.c). */
    uint64_t next_rss_check;  /* ns */
    uint64_t next_ring_check; /* ns */
    int rr_fd; /* rr: what the epoll set has for connections (serve_net.c), -1: none */
    /* Messages (proc_msg.c). */
    uint64_t msgs_sent, msgs_received, msgs_rejected;
    int msg_next; /* the slot recv looks at first */
};

/* The pool that holds pol. */
static inline struct pvt_pool *pvt__proc_pool(struct pvt_policy *pol)
{
    return (struct pvt_pool *)((char *)pol - offsetof(struct pvt_pool, pol));
}

/* ---- proc_spawn.c: mechanics ---- */

/* Fork a worker into slot i's current ring. 0 or -errno; the slot stays
 * empty on failure. */
int pvt__proc_spawn(struct pvt_pool *p, int i);
/* The same, counting a restart of the slot. 0 or -1. */
int pvt__proc_respawn(struct pvt_pool *p, int i);
/* Slot i will not be refilled: its queue is dropped, its socket retired. */
void pvt__proc_retire(struct pvt_pool *p, int i);
/* sig to slot i's worker (old: its draining predecessor) through its
 * pidfd. 0 or -errno. */
int pvt__proc_signal(struct pvt_pool *p, int i, int old, int sig);
/* Ask slot i's current worker to stop (how as pvt_ring_request_stop). */
void pvt__proc_ask_stop(struct pvt_pool *p, int i, unsigned how);
/* Slot i's worker exited (its pidfd is readable): take its wait status into
 * *status, close its pidfd and channel. 0, or -1 for a stale event. */
int pvt__proc_reap_pid(struct pvt_pool *p, int i, int *status);
/* Reap slot i's draining predecessor (its pidfd is readable). */
void pvt__proc_reap_old(struct pvt_pool *p, int i);
/* Slot i's done count as the primary can believe it (pvt_disp_done: within
 * [head, tail] of its own records): a worker cannot have finished a job it
 * was never given, whatever it wrote. */
uint64_t pvt__proc_ring_done(struct pvt_pool *p, int i);
/* The policy's mechanics that are spawning's (pool_policy.h). */
int pvt__proc_mech_start(struct pvt_policy *pol, int slot, int restart);
int pvt__proc_mech_alive(struct pvt_policy *pol, int slot);
void pvt__proc_mech_demote(struct pvt_policy *pol, int slot, int back);

/* ---- proc_sup.c: supervision ---- */

/* The mechanics table the pool's policy is made with. */
extern const struct pvt_policy_mech pvt__proc_mech;
/* Slot i's worker has exited: reap it, settle its jobs, refill the slot. */
void pvt__proc_reap(struct pvt_pool *p, int i);
/* Policy actions due at now_ns: delayed respawns, the watchdog, RSS and
 * ring checks. Returns the ms until the next is due (-1: none). */
int pvt__proc_sup_tick(struct pvt_pool *p, uint64_t now_ns);

/* ---- proc_worker.c: the child side of fork ---- */

/* In a new worker of slot i, right after fork: isolate its memory, run the
 * child preamble keeping only the descriptors it uses, and run the worker.
 * Never returns: _exits with a PVT_WEXIT_* code. */
void pvt__proc_worker_child(struct pvt_pool *p, int i, pid_t primary) __attribute__((noreturn));

/* ---- proc_msg.c: messages ---- */

/* Make slot i's channel before its worker is forked (job pools; nothing
 * for a serving pool): 0 or -errno. */
int pvt__proc_msg_open(struct pvt_pool *p, int i);
/* Close slot i's channel (its worker is gone, or never started). */
void pvt__proc_msg_close(struct pvt_pool *p, int i);
/* In a new worker of slot: fill c with its own channel end, and *keep
 * with that end's descriptor (-1: none), the one channel descriptor it
 * keeps. 1 when it has a channel, 0 when not (a serving pool). */
int pvt__proc_msg_child(const struct pvt_pool *p, int slot, struct pvt_msg_chan *c, int *keep);
/* As ops->send (the dead reaped first by the caller) and ops->recv, which
 * supervises through wait(p, ms) while it waits. */
int pvt__proc_send(struct pvt_pool *p, int worker, const struct pvt_msg *m);
int pvt__proc_recv(struct pvt_pool *p, struct pvt_msg_in *out, int timeout_ms,
                   pvt_disp_wait_cb wait);
void pvt__proc_msg_stats(const struct pvt_pool *p, struct pvt_pool_stats *st);

#endif
