/*
 * child.c: the preamble of a forked child (child.h).
 *
 * DESIGN
 * This runs in a child right after fork, whose parent may have had other
 * threads: only async-signal-safe calls, no allocation, no stdio, but for
 * fdkeep's fallback on a kernel without close_range, which reads
 * /proc/self/fd with opendir (it allocates: safe after fork only because
 * glibc resets malloc's locks in the child). It never
 * exits by itself: it returns an error, and the caller, which knows what
 * its parent reads from the status, _exits (pvt_child_exit_code).
 *
 * Order. stdio first, so what follows may fail onto the right stderr; the
 * signal state before anything that could wait, so no handler of the
 * parent's runs in the child; the parent death signal before the getppid()
 * check, since a parent that dies between fork and prctl sends nothing,
 * and its death is then seen as a new parent id; the descriptors last.
 * The death signal follows the *thread* that forked, not its process.
 */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fdkeep.h"

static const int crash_sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
static const int other_sigs[] = {SIGTERM, SIGCHLD, SIGPIPE};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static int set_all(const int *sigs, size_t n, void (*how)(int))
{
    struct sigaction sa = {.sa_handler = how};
    size_t i;

    for (i = 0; i < n; i++)
        if (sigaction(sigs[i], &sa, NULL) < 0)
            return -errno;
    return 0;
}

static int init_signals(unsigned flags)
{
    static const int tty[] = {SIGINT, SIGHUP};
    struct rlimit none = {0, 0};
    sigset_t empty;
    int rc;

    if ((flags & (PVT_CHILD_SIGNALS | PVT_CHILD_NOCORE)) &&
        (rc = set_all(crash_sigs, N(crash_sigs), SIG_DFL)) < 0)
        return rc;
    if (flags & PVT_CHILD_SIGNALS) {
        if ((rc = set_all(other_sigs, N(other_sigs), SIG_DFL)) < 0)
            return rc;
        sigemptyset(&empty);
        if (sigprocmask(SIG_SETMASK, &empty, NULL) < 0)
            return -errno;
    }
    if ((flags & PVT_CHILD_IGNORE_TTY) && (rc = set_all(tty, N(tty), SIG_IGN)) < 0)
        return rc;
    if ((flags & PVT_CHILD_NOCORE) && setrlimit(RLIMIT_CORE, &none) < 0)
        return -errno;
    return 0;
}

/* A copy of the keep list (pvt_fd_keep_only sorts it), checked. */
static int copy_keep(const struct pvt_child_cfg *cfg, int *keep)
{
    int i;

    if (cfg->nkeep < 0 || cfg->nkeep > PVT_CHILD_KEEP_MAX || (cfg->nkeep && !cfg->keep))
        return -EINVAL;
    for (i = 0; i < cfg->nkeep; i++) {
        keep[i] = cfg->keep[i];
        if (keep[i] >= 0 && fcntl(keep[i], F_GETFD) < 0)
            return -EBADF;
    }
    return 0;
}

int pvt_child_init(const struct pvt_child_cfg *cfg)
{
    int keep[PVT_CHILD_KEEP_MAX], i, rc;

    if ((cfg->flags & PVT_CHILD_KEEP_FDS) && (rc = copy_keep(cfg, keep)) < 0)
        return rc;
    for (i = 0; i < 3; i++)
        if (cfg->stdio[i] > 0 && dup2(cfg->stdio[i], i) < 0)
            return -errno;
    if ((rc = init_signals(cfg->flags)) < 0)
        return rc;
    if (cfg->parent > 0) {
        if (prctl(PR_SET_PDEATHSIG, cfg->death_sig ? cfg->death_sig : SIGKILL) < 0)
            return -errno;
        if (getppid() != cfg->parent)
            return -ESRCH;
    }
    if (cfg->flags & PVT_CHILD_KEEP_FDS)
        return pvt_fd_keep_only(keep, cfg->nkeep);
    return 0;
}

int pvt_child_exit_code(int rc)
{
    return rc == -ESRCH ? PVT_CHILD_EXIT_ORPHAN : PVT_CHILD_EXIT_SETUP;
}

void pvt_child_init_or_exit(const struct pvt_child_cfg *cfg)
{
    int rc = pvt_child_init(cfg);

    if (rc < 0)
        _exit(pvt_child_exit_code(rc));
}
