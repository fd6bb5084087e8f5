/*
 * child.h: the preamble every fork of pvt's runs in the child, and the exit
 * codes its children leave with.
 *
 * One function does, in the new child, what each fork used to write again
 * (libuv's uv__process_child_init): put stdio in place, reset the signal
 * state, die with the parent, and keep only the descriptors the child uses
 * (fdkeep.h). Each step is asked for in a struct pvt_child_cfg, so a child
 * that execs at once (CLOEXEC closes for it) and a worker that runs on
 * without exec use the same code.
 */
#ifndef PVT_CHILD_H
#define PVT_CHILD_H

#include <sys/types.h>

/*
 * How a forked child of pvt's exits, when its parent reads the status (a
 * pool's worker, a bench's helper process). A parent respawns a worker that
 * died any other way, and never one that exited PVT_CHILD_EXIT_CONFIG: it
 * would only fail again. PVT_CHILD_EXIT_RECYCLE asks to be replaced (the
 * process backend believes it only from a worker that ran its max_jobs:
 * proc_pool.h). A child that runs a CLI command in place of its parent
 * (`pvt serve --restart`'s server process) exits with the CLI's codes
 * instead (bench/common/cli.h), since its status becomes the command's.
 */
enum pvt_child_exit {
    PVT_CHILD_EXIT_OK = 0,       /* its work is done, or it stopped because asked */
    PVT_CHILD_EXIT_ORPHAN = 70,  /* its parent was already gone at the fork */
    PVT_CHILD_EXIT_SETUP = 71,   /* the preamble, or the child's own setup or work, failed
                                    on a system call (EX_OSERR) */
    PVT_CHILD_EXIT_RECYCLE = 75, /* replace me (EX_TEMPFAIL) */
    PVT_CHILD_EXIT_CONFIG = 78,  /* could not bind to its CPUs: do not respawn (EX_CONFIG) */
    PVT_CHILD_EXIT_EXEC = 127,   /* exec failed (the shell's "not found") */
};

/* What pvt_child_init does; each flag is one step. */
enum {
    /*
     * The crash signals (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT), SIGTERM,
     * SIGCHLD and SIGPIPE back to their defaults, dropping whatever handlers
     * the parent (or a test framework) installed, and no signal blocked.
     */
    PVT_CHILD_SIGNALS = 1u << 0,
    /* SIGINT and SIGHUP ignored: a terminal's ^C or hang-up reaches the whole
     * process group, and the parent decides what happens to its children. */
    PVT_CHILD_IGNORE_TTY = 1u << 1,
    /* RLIMIT_CORE 0 and the crash signals to default: a child meant to crash
     * (a test's) leaves no core file and runs no handler of the parent's. */
    PVT_CHILD_NOCORE = 1u << 2,
    /* Close every descriptor but 0, 1, 2 and keep[] (fdkeep.h). Without
     * it, no descriptor is closed (a child that execs at once). */
    PVT_CHILD_KEEP_FDS = 1u << 3,
};

#define PVT_CHILD_KEEP_MAX 16 /* entries in a keep list, -1s included */

struct pvt_child_cfg {
    unsigned flags;  /* PVT_CHILD_* above */
    pid_t parent;    /* > 0: die with it (PR_SET_PDEATHSIG), and fail if it is gone already */
    int death_sig;   /* ... the signal then (0: SIGKILL) */
    int stdio[3];    /* > 0: dup2'd onto 0, 1 and 2, in that order; 0 or less: left */
    const int *keep; /* PVT_CHILD_KEEP_FDS: descriptors to keep (-1: an unused entry) */
    int nkeep;
};

/*
 * Run in a child right after fork, before anything else of the child's
 * (what must come even earlier, like a worker's memory isolation, is the
 * caller's). In order: stdio, the signal steps, RLIMIT_CORE, the parent
 * death signal and then getppid() against the parent (the parent may have
 * died before the prctl took effect), the descriptors.
 * Returns 0, -EINVAL for a bad keep list (nkeep below 0 or above
 * PVT_CHILD_KEEP_MAX, or entries missing), -EBADF when an entry of it is
 * not an open descriptor, -ESRCH when the parent is already gone, or the
 * -errno of dup2, sigaction, setrlimit, prctl or pvt_fd_keep_only. The
 * caller _exits: pvt_child_exit_code(rc) says with what.
 * Only async-signal-safe calls, so a multithreaded parent may fork (but
 * for fdkeep's fallback where the kernel has no close_range).
 */
int pvt_child_init(const struct pvt_child_cfg *cfg);

/* The exit code for pvt_child_init's error rc: PVT_CHILD_EXIT_ORPHAN for
 * -ESRCH, else PVT_CHILD_EXIT_SETUP. */
int pvt_child_exit_code(int rc);

/* pvt_child_init, and on failure _exit(pvt_child_exit_code(rc)). */
void pvt_child_init_or_exit(const struct pvt_child_cfg *cfg);

#endif
