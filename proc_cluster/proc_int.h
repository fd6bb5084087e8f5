/*
 * proc_int.h: the process backend's pool, shared by its mechanics
 * (proc_pool.c: spawn, reap, the wait) and its supervision (proc_sup.c:
 * delayed respawns, the hang watchdog, RSS recycling). Not a public header.
 */
#ifndef PVT_PROC_INT_H
#define PVT_PROC_INT_H

#include "disp.h"
#include "proc_pool.h"
#include "serve.h"
#include "sup.h"

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
};

struct pvt_pool {
    struct pvt_region g;
    struct pvt_disp d;
    int n;
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
    /* Serving pools (serve.h). */
    int serving;
    struct pvt_serve_net net;
    int rr_on; /* the rr socket is in the epoll set */
};

/* Fork a worker into slot i, counting a restart. 0 or -errno. */
int pvt__proc_respawn(struct pvt_pool *p, int i);
/* Slot i will not be refilled: its queue is dropped, its socket retired. */
void pvt__proc_retire(struct pvt_pool *p, int i);
/* sig to slot i's worker through its pidfd. 0 or -errno. */
int pvt__proc_signal(struct pvt_pool *p, int i, int sig);

/* Policy actions due at now_ns: delayed respawns, the watchdog, RSS
 * checks. Returns the ms until the next is due (-1: none). */
int pvt__proc_sup_tick(struct pvt_pool *p, uint64_t now_ns);
/* Whether slot i's worker exited to be replaced: asked to recycle, or
 * leaving by itself with PVT_WEXIT_RECYCLE (status: its wait status). */
int pvt__proc_recycled(struct pvt_pool *p, int i, int status);

#endif
