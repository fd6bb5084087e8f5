/*
 * bench_cost_bare.c: bare workers, short-lived processes and touched memory
 * (see bench_cost_bare.h).
 *
 * DESIGN
 * A bare worker, process or thread, does the least a worker must: say it is
 * ready (a byte on the shared ack pipe), then wait. Without a dataset every
 * worker blocks in read() on one release pipe, whose write end only the
 * parent holds; closing it is the stop, and each worker sees EOF and exits.
 * With a dataset each worker has a command pipe of its own, so a command
 * reaches every worker exactly once.
 *
 * A process child keeps only its own ends (the child preamble, child.h):
 * every write end it inherited (the release pipe, all command pipes) must
 * be gone before it waits, or EOF would never come. The parent
 * closes its copy of the ack write end once every child is forked, so a
 * read of the ack pipe that hits EOF means every child is gone. Threads
 * share the parent's descriptors, so the parent keeps them until they are
 * joined. A forked child never returns: it leaves through _exit.
 */
#include "bench_cost_bare.h"
#include "shared/base/child.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096

extern char **environ;

struct pvt_bare_arg {
    struct pvt_bare *b;
    int i;
};

static int write_byte(int fd, char c)
{
    ssize_t n;

    do {
        n = write(fd, &c, 1);
    } while (n < 0 && errno == EINTR);
    return n == 1 ? 0 : -EIO;
}

/* One byte from fd: 1, 0 at EOF, or -errno. */
static int read_byte(int fd, char *c)
{
    ssize_t n;

    do {
        n = read(fd, c, 1);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : (int)n;
}

static uint64_t read_all(const unsigned char *p, size_t len)
{
    uint64_t sum = 0, w;
    size_t i;

    for (i = 0; i + sizeof(w) <= len; i += sizeof(w)) {
        memcpy(&w, p + i, sizeof(w));
        sum += w;
    }
    return sum;
}

/* The worker's life after it is made: ready, then commands until EOF.
 * Returns its exit code (0: a clean stop). */
static int bare_worker(struct pvt_bare *b, int i)
{
    int fd = b->cmd ? b->cmd[2 * i] : b->release[0];
    size_t page, step = b->kind == PVT_BARE_FORK ? 1 : (size_t)b->n;
    cpu_set_t got;
    char c;
    int rc;

    if (b->sets && (sched_setaffinity(0, sizeof(b->sets[i]), &b->sets[i]) < 0 ||
                    sched_getaffinity(0, sizeof(got), &got) < 0)) {
        write_byte(b->ack[1], 'x'); /* a thread's end of the pipe never closes */
        return 1;
    }
    if (write_byte(b->ack[1], 'r') < 0)
        return 1;
    for (;;) {
        rc = read_byte(fd, &c);
        if (rc == 0)
            return 0;
        if (rc < 0)
            return 1;
        if (c == 'r') {
            b->sink[i] = read_all(b->data, b->len);
        } else if (c == 'w') {
            page = b->kind == PVT_BARE_FORK ? 0 : (size_t)i;
            for (; page * PAGE < b->len; page += step)
                b->data[page * PAGE]++;
        }
        if (write_byte(b->ack[1], c) < 0)
            return 1;
    }
}

static void *bare_thread(void *arg)
{
    struct pvt_bare_arg *a = arg;

    a->b->ids[a->i] = gettid();
    bare_worker(a->b, a->i);
    return NULL;
}

/* In a new child: ^C left to the parent, die with it, keep only its ends
 * of the pipes (as a pool's worker does), work, _exit. */
static void bare_child(struct pvt_bare *b, int i, pid_t parent)
{
    int keep[] = {b->ack[1], b->cmd ? b->cmd[2 * i] : b->release[0]};
    struct pvt_child_cfg cfg = {.flags = PVT_CHILD_IGNORE_TTY | PVT_CHILD_KEEP_FDS,
                                .parent = parent,
                                .keep = keep,
                                .nkeep = 2};

    pvt_child_init_or_exit(&cfg);
    _exit(bare_worker(b, i) ? PVT_CHILD_EXIT_SETUP : PVT_CHILD_EXIT_OK);
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* n bytes from the ack pipe. 0, or -EIO at EOF (every writer gone) or for
 * a worker that could not start ('x'). */
static int wait_acks(struct pvt_bare *b, int n)
{
    char c;
    int rc;

    while (n-- > 0) {
        rc = read_byte(b->ack[0], &c);
        if (rc <= 0)
            return rc < 0 ? rc : -EIO;
        if (c == 'x')
            return -EIO;
    }
    return 0;
}

static int bare_alloc(struct pvt_bare *b, int kind, int n, unsigned char *data, size_t len)
{
    int i;

    memset(b, 0, sizeof(*b));
    b->kind = kind;
    b->n = n;
    b->data = data;
    b->len = len;
    b->ack[0] = b->ack[1] = b->release[0] = b->release[1] = -1;
    b->ids = calloc((size_t)n, sizeof(*b->ids));
    b->threads = calloc((size_t)n, sizeof(*b->threads));
    b->sink = calloc((size_t)n, sizeof(*b->sink));
    b->args = calloc((size_t)n, sizeof(*b->args));
    if (data)
        b->cmd = calloc(2 * (size_t)n, sizeof(*b->cmd));
    if (!b->ids || !b->threads || !b->sink || !b->args || (data && !b->cmd))
        return -ENOMEM;
    if (pipe2(b->ack, O_CLOEXEC) < 0 || (!data && pipe2(b->release, O_CLOEXEC) < 0))
        return -errno;
    for (i = 0; data && i < n; i++)
        b->cmd[2 * i] = b->cmd[2 * i + 1] = -1;
    for (i = 0; data && i < n; i++)
        if (pipe2(b->cmd + 2 * i, O_CLOEXEC) < 0)
            return -errno;
    return 0;
}

static int bare_start(struct pvt_bare *b, int kind, int n, unsigned char *data, size_t len,
                      const cpu_set_t *sets)
{
    pid_t parent = getpid(), pid;
    int i, rc;

    if (n < 1 || (kind != PVT_BARE_FORK && kind != PVT_BARE_PTHREAD) || (!data && len))
        return -EINVAL;
    rc = bare_alloc(b, kind, n, data, len);
    b->sets = sets;
    for (i = 0; i < n && rc == 0; i++) {
        if (kind == PVT_BARE_FORK) {
            pid = fork();
            if (pid < 0) {
                rc = -errno;
                break;
            }
            if (pid == 0)
                bare_child(b, i, parent);
            b->ids[i] = pid;
        } else {
            b->args[i] = (struct pvt_bare_arg){.b = b, .i = i};
            rc = -pthread_create(&b->threads[i], NULL, bare_thread, &b->args[i]);
            if (rc)
                break;
        }
        b->started++;
    }
    if (rc == 0 && kind == PVT_BARE_FORK)
        close_fd(&b->ack[1]);
    if (rc == 0)
        rc = wait_acks(b, n);
    if (rc < 0)
        pvt_bare_stop(b);
    return rc;
}

int pvt_bare_start(struct pvt_bare *b, int kind, int n, unsigned char *data, size_t len)
{
    return bare_start(b, kind, n, data, len, NULL);
}

int pvt_bare_start_bound(struct pvt_bare *b, int kind, int n, const cpu_set_t *sets)
{
    return sets ? bare_start(b, kind, n, NULL, 0, sets) : -EINVAL;
}

int pvt_bare_cmd(struct pvt_bare *b, char cmd)
{
    int i;

    if (!b->cmd || (cmd != 'r' && cmd != 'w'))
        return -EINVAL;
    for (i = 0; i < b->n; i++)
        if (write_byte(b->cmd[2 * i + 1], cmd) < 0)
            return -EIO;
    return wait_acks(b, b->n);
}

int pvt_bare_stop(struct pvt_bare *b)
{
    int i, status, rc = 0;

    close_fd(&b->release[1]);
    for (i = 0; b->cmd && i < b->n; i++)
        close_fd(&b->cmd[2 * i + 1]);
    for (i = 0; i < b->started; i++) {
        if (b->kind == PVT_BARE_PTHREAD) {
            pthread_join(b->threads[i], NULL);
            continue;
        }
        while (waitpid(b->ids[i], &status, 0) < 0) {
            if (errno != EINTR) {
                status = -1;
                break;
            }
        }
        if (status != 0)
            rc = -ECHILD;
    }
    b->started = 0;
    close_fd(&b->ack[0]);
    close_fd(&b->ack[1]);
    close_fd(&b->release[0]);
    for (i = 0; b->cmd && i < b->n; i++)
        close_fd(&b->cmd[2 * i]);
    free(b->ids);
    free(b->threads);
    free(b->sink);
    free(b->args);
    free(b->cmd);
    memset(b, 0, sizeof(*b));
    b->ack[0] = b->ack[1] = b->release[0] = b->release[1] = -1;
    return rc;
}

/* One short-lived process of kind; its pid, or -errno. These children run
 * no preamble (child.h): what is measured is the cost of the bare fork,
 * vfork or posix_spawn, and they only exec or _exit. */
static pid_t spawn_one(int kind)
{
    char *const argv[] = {(char *)PVT_BARE_TRUE, NULL};
    pid_t pid;
    int rc;

    switch (kind) {
    case PVT_SPAWN_POSIX:
        rc = posix_spawn(&pid, PVT_BARE_TRUE, NULL, NULL, argv, environ);
        return rc ? -rc : pid;
    case PVT_SPAWN_VFORK:
        /* The child shares our memory and stack until it exits: it may do
         * nothing but _exit. */
        pid = vfork();
        if (pid == 0)
            _exit(0);
        return pid < 0 ? -errno : pid;
    case PVT_SPAWN_FORK_EXEC:
    case PVT_SPAWN_FORK_EXIT:
        pid = fork();
        if (pid == 0) {
            if (kind == PVT_SPAWN_FORK_EXEC)
                execve(PVT_BARE_TRUE, argv, environ);
            _exit(kind == PVT_SPAWN_FORK_EXEC ? 127 : 0);
        }
        return pid < 0 ? -errno : pid;
    default:
        return -EINVAL;
    }
}

int pvt_spawn_run(int kind, int n)
{
    pid_t *pids = calloc((size_t)n, sizeof(*pids));
    int i, started = 0, status, rc = 0;

    if (!pids)
        return -ENOMEM;
    for (i = 0; i < n; i++) {
        pid_t pid = spawn_one(kind);
        if (pid < 0) {
            rc = (int)pid;
            break;
        }
        pids[started++] = pid;
    }
    for (i = 0; i < started; i++) {
        while (waitpid(pids[i], &status, 0) < 0) {
            if (errno != EINTR) {
                status = -1;
                break;
            }
        }
        if (status != 0 && rc == 0)
            rc = -ECHILD;
    }
    free(pids);
    return rc;
}

unsigned char *pvt_bare_touch(size_t bytes)
{
    unsigned char *p;
    size_t i;

    p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    /* Huge pages would make fork copy one entry per 2 MiB instead of per
     * page; the kernel may refuse the advice (no THP), which changes nothing. */
    madvise(p, bytes, MADV_NOHUGEPAGE);
    for (i = 0; i < bytes; i += PAGE)
        p[i] = (unsigned char)(i / PAGE);
    return p;
}

void pvt_bare_untouch(unsigned char *p, size_t bytes)
{
    if (p)
        munmap(p, bytes);
}
