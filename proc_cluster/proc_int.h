/*
 * proc_int.h: the process backend's pool, shared by its mechanics
 * (proc_pool.c: spawn, reap, the wait) and its supervision (proc_sup.c:
 * delayed respawns, the hang watchdog, RSS recycling). Not a public header.
 */
#ifndef PVT_PROC_INT_H
#define PVT_PROC_INT_H

#include "shared/core/disp.h"
#include "shared/core/msg.h"
#include "proc_pool.h"
#include "shared/serve/serve.h"
#include "shared/core/sup.h"

struct proc_slot {
    pid_t pid; /* 0: no worker */
    int pidfd; /* -1: none */
    unsigned restarts;
    int last_code;
    int last_signal;
    int last_intended;
    struct pvt_sup_slot sup;
    uint64_t respawn_at; /* ns: a delayed respawn is due then; 0: none */
    uint64_t term_at;    /* ns: the watchdog sent SIGTERM then; 0: not */
    int recycling;       /* asked to drain and exit, to be replaced at once */
    int killed_corrupt;  /* killed for the garbage in its ring (proc_sup.c) */
    int stop_asked;      /* the primary asked the current worker to stop (its own
                          * record: the ring's stop is memory the worker can write) */
    /* Job pools: the job limit the primary gave the current worker (0:
     * none) and the ring's done count when it started, so that a
     * PVT_WEXIT_RECYCLE is believed only from a worker that ran them. */
    uint64_t job_limit;
    uint64_t job_base;
    /* Serving pools (proc_roll.c): the worker this slot's current one
     * replaced, or the one scale removed, draining on the slot's other
     * ring; its pidfd is in the epoll set as TAG_OLD + slot. */
    pid_t old_pid;       /* 0: none */
    int old_pidfd;
    struct pvt_ring *old_ring;
    int old_told;        /* it was asked to stop accepting */
    uint64_t old_told_ns; /* when: its drain deadline counts from then */
    uint64_t old_term_ns; /* ns: it was sent SIGTERM then (proc_sup.c); 0: not */
    int old_why;         /* enum pvt_recycle_why: why it was replaced */
    /* Serving pools: a recycle asked for and not yet done (proc_sup.c), why
     * the current worker replaced its predecessor, and the predecessors
     * reaped (pvt_worker_stats says what each means). */
    int recycle_why;
    uint64_t recycle_value;
    int repl_why;
    uint64_t repl_value;
    unsigned drained;
    pid_t drained_pid;
    int drained_code, drained_signal, drained_recycled;
    /* Job pools (proc_msg.c): the current worker's channel, -1: none. */
    int mfd; /* the primary's end, in the epoll set as TAG_MSG + slot */
    int wfd; /* the worker's end (its copy in the worker is the one used) */
};

/* epoll data of the primary's set: 0 the waker, 1 + slot a worker's pidfd. */
#define PVT__PROC_TAG_OLD 0x40000000u /* + slot: a draining predecessor's pidfd */
#define PVT__PROC_TAG_MSG 0x20000000u /* + slot: a worker's message channel */
#define PVT__PROC_TAG_WATCH (UINT32_MAX - 1) /* serve cfg's watch_fd */
#define PVT__PROC_TAG_LISTEN UINT32_MAX      /* the rr listening socket */

struct pvt_pool {
    struct pvt_region g;
    struct pvt_disp d;
    int n;   /* slots in use */
    int cap; /* slots there is room for (serving pools: scale) */
    struct pvt_ring **r;     /* per slot: its current ring */
    struct pvt_ring **spare; /* per slot: its other ring (serving pools), or NULL */
    int bind;
    int respawn;
    cpu_set_t *sets;
    struct proc_slot *s;
    int epfd;
    int alive; /* worker processes not yet reaped */
    int stopping;
    int stopped;
    uint64_t deaths;
    /* Supervision (sup.h, proc_sup.c). */
    struct pvt_sup_cfg sup;
    uint64_t seed;          /* for the max_jobs jitter */
    uint64_t recycles, hangs;
    uint64_t next_rss_check; /* ns */
    uint64_t next_ring_check; /* ns */
    /* Serving pools (serve.h). */
    int serving;
    struct pvt_serve_net net;
    int rr_fd; /* rr: what the epoll set has for connections (serve_net.c), -1: none */
    /* Messages (proc_msg.c). */
    uint64_t msgs_sent, msgs_received, msgs_rejected;
    int msg_next; /* the slot recv looks at first */
};

/* Fork a worker into slot i, counting a restart. 0 or -errno. */
int pvt__proc_respawn(struct pvt_pool *p, int i);
/* Slot i will not be refilled: its queue is dropped, its socket retired. */
void pvt__proc_retire(struct pvt_pool *p, int i);
/* sig to slot i's worker through its pidfd. 0 or -errno. */
int pvt__proc_signal(struct pvt_pool *p, int i, int sig);
/* The same to slot i's draining predecessor. */
int pvt__proc_signal_old(struct pvt_pool *p, int i, int sig);

/* Fork a worker into slot i's current ring. 0 or -errno. */
int pvt__proc_spawn(struct pvt_pool *p, int i);
/* Reap slot i's draining predecessor (its pidfd is readable). */
void pvt__proc_reap_old(struct pvt_pool *p, int i);
/* Rolling restart and scale (proc_roll.c), as ops->restart and ops->scale. */
int pvt__proc_restart(struct pvt_pool *p, int batch);
int pvt__proc_scale(struct pvt_pool *p, int delta);
/* Advance a rolling restart: tell each predecessor whose replacement
 * accepts to drain, start the next slots. The ms until it wants to look
 * again (-1: nothing to do). */
int pvt__proc_roll_tick(struct pvt_pool *p);
/* Slot i's predecessor: stop accepting, drain, exit. */
void pvt__proc_tell_old(struct pvt_pool *p, int i);

/* Ask slot i's current worker to stop (how as pvt_ring_request_stop). */
void pvt__proc_ask_stop(struct pvt_pool *p, int i, unsigned how);

/* Supervise for up to timeout_ms, as collect's waits do: reap the dead,
 * respawn. 0 or -errno. */
int pvt__proc_wait(struct pvt_pool *p, int timeout_ms);

/* In a new worker of slot i, right after fork (proc_worker.c): isolate its
 * memory, run the child preamble keeping only the descriptors it uses, and
 * run the worker. Never returns: _exits with a PVT_WEXIT_* code. */
void pvt__proc_worker_child(struct pvt_pool *p, int i, pid_t primary)
    __attribute__((noreturn));

/* Messages (proc_msg.c). Make slot i's channel before its worker is
 * forked (job pools; nothing for a serving pool): 0 or -errno. */
int pvt__proc_msg_open(struct pvt_pool *p, int i);
/* Close slot i's channel (its worker is gone, or never started). */
void pvt__proc_msg_close(struct pvt_pool *p, int i);
/* In a new worker of slot: fill c with its own channel end, and *keep
 * with that end's descriptor (-1: none), the one channel descriptor it
 * keeps. 1 when it has a channel, 0 when not (a serving pool). */
int pvt__proc_msg_child(const struct pvt_pool *p, int slot, struct pvt_msg_chan *c, int *keep);
/* As ops->send and ops->recv. */
int pvt__proc_send(struct pvt_pool *p, int worker, const struct pvt_msg *m);
int pvt__proc_recv(struct pvt_pool *p, struct pvt_msg_in *out, int timeout_ms);
void pvt__proc_msg_stats(const struct pvt_pool *p, struct pvt_pool_stats *st);

/* Policy actions due at now_ns: delayed respawns, the watchdog, RSS
 * checks. Returns the ms until the next is due (-1: none). */
int pvt__proc_sup_tick(struct pvt_pool *p, uint64_t now_ns);
/* Whether slot i's worker exited to be replaced: asked to recycle, or
 * leaving by itself with PVT_WEXIT_RECYCLE once it ran the jobs of the
 * limit the primary gave it (status: its wait status). */
int pvt__proc_recycled(struct pvt_pool *p, int i, int status);
/* Slot i's done count as the primary can believe it (pvt_disp_done: within
 * [head, tail] of its own records): a worker cannot have finished a job it
 * was never given, whatever it wrote. */
uint64_t pvt__proc_ring_done(struct pvt_pool *p, int i);

#endif
