/*
 * proc_worker.c: the life of one worker process, from fork to _exit.
 *
 * DESIGN
 * The child shares exactly one thing with the primary: the MAP_SHARED region
 * holding its ring and the waker's word (ring.h), of which it can write only
 * those two (every other ring is read-only in it: pvt_region_isolate), and
 * in a job pool it has one channel to the primary, its end of a socketpair
 * (proc_msg.c). Everything else is its own copy, the waker's handle and its
 * eventfd number included.
 * It never returns into the code that forked it: every way out is _exit with
 * a code from proc_pool.h, so no atexit handler or stdio buffer of the
 * primary runs twice.
 *
 * It dies with the primary: the child preamble (shared/base/child.h) sets
 * PR_SET_PDEATHSIG, then checks getppid() for the case where the primary
 * died before the prctl took effect, and closes every descriptor the
 * worker does not use. The signal
 * follows the *thread* that forked, not its process, which is one more reason
 * a pool must be driven, and destroyed, by the thread that created it (pvt.h).
 */
#include <signal.h>
#include <unistd.h>

#include "shared/work/fault.h"
#include "shared/core/msg.h"
#include "shared/core/place.h"
#include "proc_int.h"
#include "shared/serve/serve.h"

struct pvt_child_cfg pvt__proc_child_cfg(pid_t primary, const int *keep, int n)
{
    return (struct pvt_child_cfg){
        .flags = PVT_CHILD_SIGNALS | PVT_CHILD_IGNORE_TTY | PVT_CHILD_KEEP_FDS,
        .parent = primary,
        .death_sig = SIGKILL,
        .keep = keep,
        .nkeep = n,
    };
}

/* The body of a worker process, after its preamble: bind to set (NULL: stay
 * unbound), report ready, say HELLO on chan (NULL: no channel), run jobs
 * from r and answer messages between them (or, with serve, serve HTTP)
 * until asked to stop, then _exit. */
static __attribute__((noreturn)) void worker_main(struct pvt_ring *r, const cpu_set_t *set,
                                                  struct pvt_serve_worker *serve,
                                                  struct pvt_msg_chan *chan)
{
    int rc;

    atomic_store(&r->info.pid, (int)getpid());
    if (set) {
        rc = pvt_place_bind_self(set);
        if (rc < 0) {
            atomic_store(&r->info.bind_err, rc);
            _exit(PVT_WEXIT_CONFIG);
        }
    }
    pvt_place_get_self(&r->info.bound);
    if (chan)
        pvt_msg_worker_hello(chan, (int)getpid()); /* waiting once create returns */
    atomic_store(&r->info.ready_ns, pvt_now_ns());
    atomic_store(&r->info.state, PVT_W_READY);
    atomic_thread_fence(memory_order_seq_cst);
    pvt_waker_kick(r->waker);

    if (serve)
        rc = pvt_serve_worker_run(serve);
    else
        rc = pvt_ring_worker_run(r, chan ? pvt_msg_worker_drain_cb : NULL, chan);
    _exit(rc < 0 ? PVT_WEXIT_OSERR : rc == PVT_RING_RECYCLE ? PVT_WEXIT_RECYCLE : PVT_WEXIT_OK);
}

/*
 * The descriptors a worker keeps: the waker's eventfd, its message channel
 * (proc_msg.c says which), and a serving worker's listener or rr channel
 * and its ring's eventfd (serve_net.c says which). Everything else the
 * primary held at the fork goes: its epoll and pidfds (a pidfd still open
 * in a child would keep a dead worker's entry in the primary's epoll set
 * after the primary closed it), the other workers' channels, a control
 * client it was answering, another pool's sockets.
 */
void pvt__proc_worker_child(struct pvt_pool *p, int i, pid_t primary)
{
    struct pvt_ring *r = p->pol.r[i];
    struct pvt_serve_worker w;
    struct pvt_msg_chan c;
    struct pvt_child_cfg cfg;
    int keep[2 + PVT_SERVE_KEEP] = {p->pol.g.waker->efd, -1, -1, -1, -1}, chan, n = 2;

    /* Before anything else: this worker can write its own ring and the
     * waker's word, nothing else the primary reads. */
    if (pvt_region_isolate(&p->pol.g, r) < 0)
        _exit(PVT_WEXIT_OSERR);
    pvt_fault_share(r, p->pol.g.stride);
    pvt_fault_share(p->pol.g.base, p->pol.g.head);
    chan = pvt__proc_msg_child(p, i, &c, &keep[1]);
    if (p->pol.serving) {
        pvt_serve_net_worker(&p->pol.net, i, r, PVT__PROC_NAME, primary, &w);
        n += pvt_serve_worker_keep(&w, &keep[2]);
    }
    cfg = pvt__proc_child_cfg(primary, keep, n);
    pvt_child_init_or_exit(&cfg);
    worker_main(r, p->pol.bind ? &p->pol.sets[i] : NULL, p->pol.serving ? &w : NULL,
                chan ? &c : NULL);
}
