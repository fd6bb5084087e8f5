/*
 * bench_cost_pp.c: primary <-> worker round trips, one mechanism at a time
 * (see bench_cost_bare.h).
 *
 * DESIGN
 * The primary (the calling thread) sends round i and waits for the peer to
 * send i back; the peer waits for a new round, answers it, and waits again.
 * The words live in one MAP_SHARED mapping, so the same code runs between two
 * processes and between two threads; only the futex flavour (shared or
 * private) and the condition variables' pshared attribute differ. Each side
 * writes one word only (ping: the primary, pong: the peer), on its own cache
 * line. The futex and condvar mechanisms wake the other side on every
 * round, as a naive hand-off does, which is the point: pvt's rings wake
 * only sleepers, and the pool rows in the same table show the difference.
 *
 * Stopping: the pipes and the socket are closed (the peer reads EOF); the
 * words get PP_STOP. A peer process dies with the primary
 * (PR_SET_PDEATHSIG) and is always reaped; a peer thread is always joined.
 * Every wait has a deadline, so a dead peer is an error, not a hang.
 */
#include "bench_cost_bare.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shared/base/child.h"
#include "shared/core/ring.h"

#define PP_STOP       UINT32_MAX
#define PP_WARM       100
#define PP_BATCH      64
#define PP_TIMEOUT_MS 5000

const char *const pvt_pp_names[PVT_PP_COUNT] = {
    [PVT_PP_PIPE] = "pipe", [PVT_PP_SOCKETPAIR] = "socketpair", [PVT_PP_FUTEX] = "futex",
    [PVT_PP_SPIN] = "spin", [PVT_PP_CONDVAR] = "condvar",
};

/* What both sides touch: one MAP_SHARED mapping. */
struct pp_words {
    _Alignas(PVT_CACHELINE) atomic_uint ping; /* written by the primary */
    _Alignas(PVT_CACHELINE) atomic_uint pong; /* written by the peer */
    _Alignas(PVT_CACHELINE) pthread_mutex_t mu;
    pthread_cond_t cv_ping, cv_pong;
};

/* Each side's own view: a process peer has its copy, a thread peer shares
 * the primary's (it never reads the descriptors the primary closes). */
struct pp {
    struct pp_words *w;
    int mech, shared, peer_cpu;
    int to_peer[2], to_primary[2]; /* pipes; a socketpair uses to_peer as its pair */
};

static inline void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Wait until *w differs from old; its new value, or PP_STOP on timeout. */
static unsigned wait_change(struct pp *p, atomic_uint *w, unsigned old, pthread_cond_t *cv)
{
    uint64_t deadline = pvt_now_ns() + (uint64_t)PP_TIMEOUT_MS * 1000000u;
    unsigned v, spins = 0;
    struct timespec ts;

    switch (p->mech) {
    case PVT_PP_FUTEX:
        while ((v = atomic_load(w)) == old)
            if (pvt_futex_wait(w, old, p->shared, PP_TIMEOUT_MS) == -ETIMEDOUT)
                return PP_STOP;
        return v;
    case PVT_PP_SPIN:
        while ((v = atomic_load_explicit(w, memory_order_acquire)) == old) {
            relax();
            if (++spins % 65536 == 0 && pvt_now_ns() > deadline)
                return PP_STOP;
        }
        return v;
    default: /* PVT_PP_CONDVAR, with p->mu held */
        pvt_realtime_after(&ts, PP_TIMEOUT_MS);
        while ((v = atomic_load(w)) == old)
            if (pthread_cond_timedwait(cv, &p->w->mu, &ts) == ETIMEDOUT)
                return PP_STOP;
        return v;
    }
}

static void post(struct pp *p, atomic_uint *w, unsigned v, pthread_cond_t *cv)
{
    atomic_store_explicit(w, v, memory_order_release);
    if (p->mech == PVT_PP_FUTEX)
        pvt_futex_wake(w, 1, p->shared);
    else if (p->mech == PVT_PP_CONDVAR)
        pthread_cond_signal(cv);
}

/* A byte each way. 0, or -EIO when the other side is gone. */
static int fd_trip(int out, int in)
{
    char c = 'p';
    ssize_t n;

    do {
        n = write(out, &c, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1)
        return -EIO;
    do {
        n = read(in, &c, 1);
    } while (n < 0 && errno == EINTR);
    return n == 1 ? 0 : -EIO;
}

static int fd_mech(const struct pp *p)
{
    return p->mech == PVT_PP_PIPE || p->mech == PVT_PP_SOCKETPAIR;
}

/* The peer: answer every round until told to stop. */
static void peer_loop(struct pp *p)
{
    unsigned last = 0, v;
    char c;
    ssize_t n;

    if (p->peer_cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(p->peer_cpu, &set);
        sched_setaffinity(0, sizeof(set), &set);
    }
    if (fd_mech(p)) {
        int in = p->mech == PVT_PP_PIPE ? p->to_peer[0] : p->to_peer[1];
        int out = p->mech == PVT_PP_PIPE ? p->to_primary[1] : p->to_peer[1];
        for (;;) {
            do {
                n = read(in, &c, 1);
            } while (n < 0 && errno == EINTR);
            if (n != 1 || write(out, &c, 1) != 1)
                return;
        }
    }
    if (p->mech == PVT_PP_CONDVAR)
        pthread_mutex_lock(&p->w->mu);
    for (;;) {
        v = wait_change(p, &p->w->ping, last, &p->w->cv_ping);
        if (v == PP_STOP)
            break;
        post(p, &p->w->pong, v, &p->w->cv_pong);
        last = v;
    }
    if (p->mech == PVT_PP_CONDVAR)
        pthread_mutex_unlock(&p->w->mu);
}

static void *peer_thread(void *arg)
{
    peer_loop(arg);
    return NULL;
}

/* One round trip from the primary. 0, -ETIMEDOUT or -EIO. */
static int trip(struct pp *p, unsigned i)
{
    int rc = 0;

    if (p->mech == PVT_PP_PIPE)
        return fd_trip(p->to_peer[1], p->to_primary[0]);
    if (p->mech == PVT_PP_SOCKETPAIR)
        return fd_trip(p->to_peer[0], p->to_peer[0]);
    if (p->mech == PVT_PP_CONDVAR)
        pthread_mutex_lock(&p->w->mu);
    post(p, &p->w->ping, i, &p->w->cv_ping);
    if (wait_change(p, &p->w->pong, i - 1, &p->w->cv_pong) != i)
        rc = -ETIMEDOUT;
    if (p->mech == PVT_PP_CONDVAR)
        pthread_mutex_unlock(&p->w->mu);
    return rc;
}

static int pp_init(struct pp *p, int mech, int proc, int peer_cpu)
{
    pthread_mutexattr_t ma;
    pthread_condattr_t ca;
    int pshared = proc ? PTHREAD_PROCESS_SHARED : PTHREAD_PROCESS_PRIVATE;

    p->mech = mech;
    p->shared = proc;
    p->peer_cpu = peer_cpu;
    p->to_peer[0] = p->to_peer[1] = p->to_primary[0] = p->to_primary[1] = -1;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, pshared);
    pthread_mutex_init(&p->w->mu, &ma);
    pthread_mutexattr_destroy(&ma);
    pthread_condattr_init(&ca);
    pthread_condattr_setpshared(&ca, pshared);
    pthread_condattr_setclock(&ca, CLOCK_REALTIME);
    pthread_cond_init(&p->w->cv_ping, &ca);
    pthread_cond_init(&p->w->cv_pong, &ca);
    pthread_condattr_destroy(&ca);
    if (mech == PVT_PP_PIPE &&
        (pipe2(p->to_peer, O_CLOEXEC) < 0 || pipe2(p->to_primary, O_CLOEXEC) < 0))
        return -errno;
    if (mech == PVT_PP_SOCKETPAIR &&
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p->to_peer) < 0)
        return -errno;
    return 0;
}

static void close_fds(int *fds, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        if (fds[i] >= 0)
            close(fds[i]);
        fds[i] = -1;
    }
}

/* Tell the peer to stop: EOF on its descriptors, or PP_STOP in its word. */
static void pp_stop(struct pp *p)
{
    if (p->mech == PVT_PP_PIPE)
        close_fds(&p->to_peer[1], 1);
    else if (p->mech == PVT_PP_SOCKETPAIR)
        close_fds(&p->to_peer[0], 1);
    if (p->mech == PVT_PP_CONDVAR)
        pthread_mutex_lock(&p->w->mu);
    post(p, &p->w->ping, PP_STOP, &p->w->cv_ping);
    if (p->mech == PVT_PP_CONDVAR)
        pthread_mutex_unlock(&p->w->mu);
}

/* The timed part: warm-up, then batches until both minimums are met. */
static int pp_measure(struct pp *p, uint64_t min_ns, uint64_t min_rounds, double *rtt_ns,
                      uint64_t *rounds)
{
    uint64_t t0, n = 0, i;
    unsigned k = 1;
    int rc = 0;

    for (i = 0; i < PP_WARM && rc == 0; i++)
        rc = trip(p, k++);
    t0 = pvt_now_ns();
    while (rc == 0 && (n < min_rounds || pvt_now_ns() - t0 < min_ns)) {
        for (i = 0; i < PP_BATCH && rc == 0; i++)
            rc = trip(p, k++);
        n += i;
    }
    if (rc == 0) {
        *rtt_ns = (double)(pvt_now_ns() - t0) / (double)n;
        *rounds = n;
    }
    return rc;
}

int pvt_pp_run(int mech, int proc, int peer_cpu, uint64_t min_ns, uint64_t min_rounds,
               double *rtt_ns, uint64_t *rounds)
{
    struct pp side, *p = &side;
    pthread_t tid;
    pid_t pid = -1, parent = getpid();
    int rc, status;

    if (mech < 0 || mech >= PVT_PP_COUNT || peer_cpu >= CPU_SETSIZE || min_rounds < 1)
        return -EINVAL;
    p->w = mmap(NULL, sizeof(*p->w), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p->w == MAP_FAILED)
        return -errno;
    rc = pp_init(p, mech, proc, peer_cpu);
    if (rc < 0)
        goto out;
    if (proc) {
        pid = fork();
        if (pid < 0) {
            rc = -errno;
            goto out;
        }
        if (pid == 0) {
            /* The peer's ends only, so the primary's close is its EOF. */
            int keep[] = {mech == PVT_PP_PIPE ? p->to_peer[0] : p->to_peer[1], p->to_primary[1]};
            struct pvt_child_cfg cfg = {
                .flags = PVT_CHILD_KEEP_FDS, .parent = parent, .keep = keep, .nkeep = 2};
            pvt_child_init_or_exit(&cfg);
            peer_loop(p);
            _exit(PVT_CHILD_EXIT_OK);
        }
        /* The peer's ends: only the peer holds them now, so its death is EOF. */
        close_fds(mech == PVT_PP_PIPE ? &p->to_peer[0] : &p->to_peer[1], 1);
        close_fds(&p->to_primary[1], 1);
    } else {
        rc = -pthread_create(&tid, NULL, peer_thread, p);
        if (rc)
            goto out;
    }
    rc = pp_measure(p, min_ns, min_rounds, rtt_ns, rounds);
    pp_stop(p);
    if (proc) {
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    } else {
        pthread_join(tid, NULL);
    }
out:
    close_fds(p->to_peer, 2);
    close_fds(p->to_primary, 2);
    pthread_cond_destroy(&p->w->cv_ping);
    pthread_cond_destroy(&p->w->cv_pong);
    pthread_mutex_destroy(&p->w->mu);
    munmap(p->w, sizeof(*p->w));
    return rc;
}
