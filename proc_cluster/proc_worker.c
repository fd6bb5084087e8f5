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
 * It dies with the primary: PR_SET_PDEATHSIG, then a check of getppid() for
 * the case where the primary died before the prctl took effect. The signal
 * follows the *thread* that forked, not its process, which is one more reason
 * a pool must be driven, and destroyed, by the thread that created it (pvt.h).
 */
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "shared/core/msg.h"
#include "shared/serve/pool_policy.h"
#include "proc_pool.h"
#include "shared/serve/serve.h"

void pvt__proc_child_signals(void)
{
    static const int dfl[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTERM, SIGCHLD, SIGPIPE};
    struct sigaction sa = {.sa_handler = SIG_DFL};
    sigset_t none;
    size_t i;

    for (i = 0; i < sizeof(dfl) / sizeof(dfl[0]); i++)
        sigaction(dfl[i], &sa, NULL);
    /* A terminal's ^C or hang-up reaches the whole process group; the
     * primary decides what happens to its workers. */
    sa.sa_handler = SIG_IGN;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

void pvt__proc_worker_main(struct pvt_ring *r, const cpu_set_t *set, pid_t primary,
                           struct pvt_serve_worker *serve, struct pvt_msg_chan *chan)
{
    int rc;

    pvt__proc_child_signals();
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != primary)
        _exit(PVT_WEXIT_ORPHAN);

    if (pvt_policy_worker_up(r, set, chan, (int)getpid()) < 0)
        _exit(PVT_WEXIT_CONFIG);

    if (serve)
        rc = pvt_serve_worker_run(serve);
    else
        rc = pvt_ring_worker_run(r, chan ? pvt_msg_worker_drain_cb : NULL, chan);
    _exit(rc < 0 ? PVT_WEXIT_OSERR : rc == PVT_RING_RECYCLE ? PVT_WEXIT_RECYCLE : PVT_WEXIT_OK);
}
