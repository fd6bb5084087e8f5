/*
 * bench_state_proc.c: state mode's worker processes: fork, the child's life,
 * reaping, the reports pipe and proc-msg's sockets (mechanics only).
 *
 * DESIGN
 * A child shares two things with the primary: the MAP_SHARED gate (and
 * proc-shm-atomic's counter in it) and the descriptors it needs, its end of
 * the reports pipe and, for proc-msg, its end of its own socketpair. Every
 * other byte is its copy-on-write copy. It dies with the primary (a
 * worker's child preamble, proc_pool.h) and never returns into the code
 * that forked it: it leaves by _exit with proc_pool.h's codes.
 *
 * proc-msg's socketpair k is made just before fork k, and the primary closes
 * the worker's end right after, so no other child holds it: the primary's
 * read sees EOF exactly when worker k is done. A child keeps none of the
 * primary's ends it inherited. A pid is signalled only while it is
 * unreaped, so it is still this process's child and cannot have been
 * recycled.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_state_int.h"
#include "proc_cluster/proc_pool.h"
#include "shared/core/ring.h"

#define RECV_BUF 65536

/* A forked worker. It never returns into the caller: every way out is _exit. */
static __attribute__((noreturn)) void child_main(struct state_run *r, int index, pid_t primary)
{
    struct state_worker w = {.run = r, .index = index, .fd = -1};
    struct pvt_child_cfg cfg;
    int keep[2], rc;

    if (r->socks)
        w.fd = r->socks[2 * index + 1];
    /* Its end of the reports pipe and of its own socketpair; the primary's
     * ends go with everything else. */
    keep[0] = r->report[1];
    keep[1] = w.fd;
    cfg = pvt__proc_child_cfg(primary, keep, 2);
    pvt_child_init_or_exit(&cfg);
    pvt__state_worker_body(&w);
    rc = pvt__state_write_all(r->report[1], &w.rep, sizeof(w.rep));
    atomic_fetch_add_explicit(&r->gate->finished, 1, memory_order_release);
    _exit(rc < 0 ? PVT_WEXIT_OSERR : PVT_WEXIT_OK);
}

int pvt__state_start_procs(struct state_run *r)
{
    const struct pvt_state_spec *s = r->spec;
    pid_t primary = getpid(), pid;
    int i;

    for (i = 0; i < s->workers; i++) {
        if (r->socks && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, &r->socks[2 * i]) < 0)
            return -errno;
        pid = fork();
        if (pid < 0)
            return -errno;
        if (pid == 0)
            child_main(r, i, primary);
        r->pids[r->started++] = pid;
        if (r->socks) {
            close(r->socks[2 * i + 1]);
            r->socks[2 * i + 1] = -1;
        }
    }
    close(r->report[1]); /* the workers hold the only write ends now */
    r->report[1] = -1;
    return 0;
}

int pvt__state_reap(struct state_run *r, int options)
{
    int i, st, rc = 0;
    pid_t p;

    for (i = 0; i < r->started; i++) {
        if (r->reaped[i])
            continue;
        do
            p = waitpid(r->pids[i], &st, options);
        while (p < 0 && errno == EINTR);
        if (p != r->pids[i])
            continue;
        r->reaped[i] = 1;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != PVT_WEXIT_OK)
            rc = -ECHILD;
    }
    return rc;
}

void pvt__state_kill(struct state_run *r)
{
    int i;

    for (i = 0; i < r->started; i++)
        if (!r->reaped[i])
            kill(r->pids[i], SIGKILL); /* not reaped yet, so the pid is still ours */
    pvt__state_reap(r, 0);
}

/* Add the whole 8-byte messages of buf (len bytes) to *sum; keep the rest. */
static void sum_messages(unsigned char *buf, size_t len, unsigned char *carry, int *have,
                         uint64_t *sum, uint64_t *msgs)
{
    size_t off;
    uint64_t v;

    for (off = 0; off + sizeof(v) <= len; off += sizeof(v)) {
        memcpy(&v, buf + off, sizeof(v));
        *sum += v;
        (*msgs)++;
    }
    *have = (int)(len - off);
    memcpy(carry, buf + off, (size_t)*have);
}

int pvt__state_receive(struct state_run *r, uint64_t *sum, uint64_t *msgs, uint64_t *t_last)
{
    int n = r->spec->workers, open = n, epfd, i, k, rc = 0, *have;
    unsigned char *buf = malloc(RECV_BUF + 8), (*carry)[8] = calloc((size_t)n, 8);
    struct epoll_event ev[64];
    ssize_t len;

    have = calloc((size_t)n, sizeof(*have));
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!buf || !carry || !have || epfd < 0) {
        rc = epfd < 0 ? -errno : -ENOMEM;
        goto out;
    }
    for (i = 0; i < n; i++) {
        struct epoll_event e = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, r->socks[2 * i], &e) < 0) {
            rc = -errno;
            goto out;
        }
    }
    while (open > 0 && rc == 0) {
        if (pvt__state_stopped(r)) {
            rc = -EINTR;
            break;
        }
        k = epoll_wait(epfd, ev, 64, 100);
        for (i = 0; i < k && rc == 0; i++) {
            int w = (int)ev[i].data.u32, fd = r->socks[2 * w];
            memcpy(buf, carry[w], (size_t)have[w]);
            len = read(fd, buf + have[w], RECV_BUF);
            if (len > 0) {
                sum_messages(buf, (size_t)have[w] + (size_t)len, carry[w], &have[w], sum, msgs);
                *t_last = pvt_now_ns();
            } else if (len == 0) {
                epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
                open--;
                if (have[w])
                    rc = -EPROTO; /* a worker ended inside a message */
            } else if (errno != EINTR && errno != EAGAIN) {
                rc = -errno;
            }
        }
        if (k < 0 && errno != EINTR)
            rc = -errno;
    }
out:
    if (epfd >= 0)
        close(epfd);
    free(buf);
    free(carry);
    free(have);
    return rc;
}

int pvt__state_read_reports(struct state_run *r)
{
    struct state_report rep;
    ssize_t n;
    int got = 0;

    for (;;) {
        n = read(r->report[0], &rep, sizeof(rep));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (n != sizeof(rep) || rep.index < 0 || rep.index >= r->spec->workers)
            return -EPROTO;
        r->workers[rep.index].rep = rep;
        got++;
    }
    return n < 0 ? -errno : got == r->spec->workers ? 0 : -ECHILD;
}
