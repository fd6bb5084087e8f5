/*
 * bench_cost_bare.h: the bare mechanisms cost mode measures pvt's backends
 * against: workers made with fork or pthread_create and nothing else, short
 * processes made with posix_spawn, vfork and fork+exec, touched memory, and
 * primary <-> worker round trips (bench_cost_pp.c). Mechanics only: no
 * policy, no output, so the tests link them as they are.
 */
#ifndef PVT_BENCH_COST_BARE_H
#define PVT_BENCH_COST_BARE_H

#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum pvt_bare_kind { PVT_BARE_FORK, PVT_BARE_PTHREAD };

struct pvt_bare_arg;

/* A set of bare workers. Zero it; pvt_bare_start fills it. */
struct pvt_bare {
    int kind, n;
    int started; /* workers made (and to be reaped) */
    pid_t *ids;  /* a worker's pid (fork) or tid (pthread) */
    pthread_t *threads;
    int ack[2];     /* each worker writes a byte here: ready, or a command done */
    int release[2]; /* without data: every worker reads it until EOF */
    int *cmd;       /* with data: worker i reads commands from cmd[2i], written at cmd[2i+1] */
    unsigned char *data;
    size_t len;
    uint64_t *sink; /* per worker: the sum of its last read (threads; a process keeps its own) */
    const cpu_set_t *sets; /* pvt_bare_start_bound: worker i binds itself to sets[i] */
    struct pvt_bare_arg *args;
};

/*
 * Start n workers of kind (PVT_BARE_FORK: processes; PVT_BARE_PTHREAD:
 * threads of this process) and return once every one has written its ready
 * byte: the bare version of a pool's create. A process child dies with its
 * parent (PR_SET_PDEATHSIG). With data (len bytes, mapped before the call,
 * so a process inherits it copy-on-write), each worker then takes commands
 * from pvt_bare_cmd; without, it only waits for pvt_bare_stop. Returns 0;
 * -EINVAL, -ENOMEM, the error of pipe2, fork or pthread_create, or -EIO if a
 * worker died before it was ready. On failure nothing is left running.
 */
int pvt_bare_start(struct pvt_bare *b, int kind, int n, unsigned char *data, size_t len);

/*
 * The same without data, each worker binding itself to sets[i] (then
 * reading its binding back) before its ready byte, as a pool's worker does
 * before it turns ready: the bare mechanism plus the binding, which a
 * pinned pool cannot do without. A worker that cannot bind never becomes
 * ready (-EIO).
 */
int pvt_bare_start_bound(struct pvt_bare *b, int kind, int n, const cpu_set_t *sets);

/*
 * A command to every worker, returning when each has done it. 'r': read
 * the whole dataset (a sum of its words). 'w': write one byte in each of its
 * 4 KiB pages: a process writes every page (its own copy, made page by page
 * as it writes); the threads share one copy, so each writes its share, a
 * page in n. Returns 0, -EINVAL (no data, or another command), -EIO if a
 * worker is gone.
 */
int pvt_bare_cmd(struct pvt_bare *b, char cmd);

/* Let every worker exit, reap it and close the set's descriptors. Returns
 * 0, or -ECHILD if a process did not exit with status 0. */
int pvt_bare_stop(struct pvt_bare *b);

enum pvt_spawn_kind {
    PVT_SPAWN_POSIX,     /* posix_spawn of PVT_BARE_TRUE */
    PVT_SPAWN_VFORK,     /* vfork, and _exit in the child */
    PVT_SPAWN_FORK_EXEC, /* fork, and execve of PVT_BARE_TRUE */
    PVT_SPAWN_FORK_EXIT, /* fork, and _exit in the child: the figure of ANCHORS.md */
    PVT_SPAWN_COUNT
};
#define PVT_BARE_TRUE "/bin/true"

/*
 * Start n short-lived processes of kind, one after the other, then reap
 * them all. Returns 0; -errno of the first failed start
 * (those started are still reaped); -ECHILD if one did not exit with 0.
 */
int pvt_spawn_run(int kind, int n);

/*
 * bytes of anonymous private memory in 4 KiB pages (MADV_NOHUGEPAGE, so a
 * fork copies one page-table entry per page), every page written: the
 * primary's heap or a dataset loaded before forking. NULL on failure, with
 * errno set. Free with pvt_bare_untouch.
 */
unsigned char *pvt_bare_touch(size_t bytes);
void pvt_bare_untouch(unsigned char *p, size_t bytes);

/* Ping-pong mechanisms between the calling thread and one peer (bench_cost_pp.c). */
enum pvt_pp_mech {
    PVT_PP_PIPE,       /* a byte each way over two pipes */
    PVT_PP_SOCKETPAIR, /* a byte each way over an AF_UNIX stream pair */
    PVT_PP_FUTEX,      /* a word each way in shared memory, FUTEX_WAIT / FUTEX_WAKE every time */
    PVT_PP_SPIN,       /* the same words, each side spinning on the other's */
    PVT_PP_CONDVAR,    /* a mutex and two condition variables */
    PVT_PP_COUNT
};
extern const char *const pvt_pp_names[PVT_PP_COUNT];

/*
 * Round trips between the calling thread and a peer: a forked process when
 * proc is 1, a thread when 0, bound to CPU peer_cpu (-1: not bound; the
 * caller binds itself). After 100 unrecorded round trips, runs them in
 * batches until at least min_rounds and min_ns have passed. *rtt_ns gets the
 * mean round trip, *rounds the count. Returns 0; -EINVAL for a bad
 * argument; -ETIMEDOUT if the peer did not answer for 5 s; -EIO if it died;
 * or the -errno of setting it up. The peer is always reaped.
 */
int pvt_pp_run(int mech, int proc, int peer_cpu, uint64_t min_ns, uint64_t min_rounds,
               double *rtt_ns, uint64_t *rounds);

#endif
