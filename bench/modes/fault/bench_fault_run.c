/*
 * bench_fault_run.c: one fault run: a fresh `pvt serve`, `pvt load` at a
 * constant rate against it, the fault at its time, /stats every 10 ms.
 *
 * DESIGN. The driver is one thread and the run is one loop: it sleeps in
 * poll() on the load's stdout until the next /stats poll or the fault is
 * due, and ends when the load's JSON is complete (EOF). Two connections of
 * its own go to the server besides the load's: the fault connection, opened
 * before the load starts and served by the target worker (connections are
 * opened until GET / names it), and the stats connection, served by another
 * worker where there is one, reopened whenever a poll fails. Every request
 * of the driver is blocking with a short timeout, so the loop never waits
 * long on a hung or restarting server. Both children die with the driver
 * (PR_SET_PDEATHSIG) and are stopped by pid and reaped on every path;
 * Ctrl-C sets pvt_bench_interrupted, which ends the loop through EINTR. The
 * server's stderr goes to a log file (named after the run once the server is
 * reaped), read back for the outer supervisor's restarts. The driver is a
 * child subreaper (pvt_bench_fault sets it), so a server process left behind
 * by an outer supervisor that had to be killed becomes its child, and is
 * stopped by pid and reaped at the end of the run like the others.
 *
 * The load's bins count from its own start, which it reports as a
 * CLOCK_MONOTONIC time (pvt_now_ns's clock, the same in every process), so
 * the fault and the polls are placed in its bins exactly; the fault is sent
 * at_ms after the load was started, a few ms of exec later than its clock.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_fault.h"
#include "bench/load/load.h"
#include "shared/core/ring.h" /* pvt_now_ns */

#define SERVE_STOP_MS   "1000" /* pvt serve --stop-timeout: a hung thread holds a stop this long */
#define STOP_MS         9000   /* then SIGKILL: serve --restart's own margin is 5 s */
#define LOAD_SLACK_MS   15000
#define POLL_EVERY_NS   (10 * 1000000ull)
#define POLL_TIMEOUT_MS 50   /* one /stats poll, connect included */
#define FAULT_IO_MS     1000 /* the fault connection's send and receive */
#define TARGET_TRIES    64
#define FINAL_MS        3000 /* /stats after the load, through a restart */

struct ctx {
    struct pvt_frun *fr;
    struct pvt_child srv, load;
    int port;
    int stats_fd, fault_fd, stats_avoid;
    struct pvt_snap *snap;
    long primary;       /* the primary pid the last poll saw; 0: none yet */
    long target_pid;    /* the target's worker when the run started */
    long target_now;    /* ... and now */
    uint64_t target_kb; /* its RSS now */
    int leaking;
    char tl[4200], logtmp[4200];
};

#define ERR(...) pvt__bench_err(__VA_ARGS__)

static uint64_t ms_ns(uint64_t ms)
{
    return ms * 1000000u;
}

/* A keep-alive connection served by slot want (-1: any slot but avoid):
 * connections are opened until GET / names one, the others closed. The fd,
 * or -errno (-ENOENT: none found in TARGET_TRIES). */
static int connect_worker(int port, int want, int avoid, int timeout_ms)
{
    int held[TARGET_TRIES], nheld = 0, fd = -ENOENT, i, slot;

    for (i = 0; i < TARGET_TRIES && !pvt_bench_interrupted; i++) {
        char *body = NULL;
        int c = pvt_probe_connect(port, timeout_ms);
        if (c < 0) {
            fd = c;
            break;
        }
        if (pvt_probe_get(&c, "/", &body) == 0 && c >= 0 &&
            sscanf(body, "hello from worker %d", &slot) == 1 &&
            (want >= 0 ? slot == want : slot != avoid)) {
            free(body);
            fd = c;
            break;
        }
        free(body);
        if (c >= 0)
            held[nheld++] = c;
    }
    for (i = 0; i < nheld; i++)
        close(held[i]);
    return fd;
}

/* One /stats poll: a sample, and what the fault's bookkeeping needs. */
static int poll_stats(struct ctx *x)
{
    struct pvt_frun *fr = x->fr;
    const char *why;
    char *body = NULL;
    int rc, i, live = 0;

    if (x->stats_fd < 0)
        x->stats_fd = pvt_probe_connect(x->port, POLL_TIMEOUT_MS);
    rc = x->stats_fd < 0 ? x->stats_fd : pvt_probe_get(&x->stats_fd, "/stats", &body);
    if (rc == 0)
        rc = pvt_probe_parse(body, x->snap, &why);
    free(body);
    if (rc < 0) {
        if (x->stats_fd >= 0)
            close(x->stats_fd);
        x->stats_fd = -1;
        pvt__fault_sample(fr, pvt_now_ns(), -1);
        return rc;
    }
    if (x->primary && x->snap->primary != x->primary)
        fr->pid_changes++;
    x->primary = x->snap->primary;
    fr->restarts_last = 0;
    for (i = 0; i < x->snap->n; i++) {
        const struct pvt_wstat *w = &x->snap->w[i];
        live += w->live && !w->hung;
        fr->restarts_last += w->restarts;
        if (w->slot == fr->worker) {
            if (!x->target_pid)
                x->target_pid = w->pid;
            x->target_now = w->pid;
            x->target_kb = w->rss_kb;
        }
        if (fr->fault->kind == PVT_FK_RECYCLE && !fr->fault_ns && w->restarts > 0) {
            fr->fault_ns = pvt_now_ns();
            fr->fault_worker = w->slot;
        }
    }
    return pvt__fault_sample(fr, pvt_now_ns(), live);
}

void pvt__fault_path(int kind, char *buf, size_t len)
{
    switch (kind) {
    case PVT_FK_EXIT:
        snprintf(buf, len, "/exit?code=%d", PVT_BENCH_EXIT_CODE);
        break;
    case PVT_FK_SLOW:
        snprintf(buf, len, "/slow?ms=%d", PVT_BENCH_SLOW_MS);
        break;
    case PVT_FK_LEAK:
        snprintf(buf, len, "/leak?mb=%d", PVT_BENCH_LEAK_MB);
        break;
    default:
        snprintf(buf, len, "/%s", pvt_bench_fault_names[kind]);
    }
}

/* The fault request, on the target's connection. A crash, exit or hang never
 * answers, slow answers late, scribble may answer or not: nobody reads those. A leak is answered
 * (read, so the next one can follow). */
static void send_fault(struct ctx *x)
{
    struct pvt_frun *fr = x->fr;
    char path[64], req[160], *body = NULL;
    int n;

    pvt__fault_path(fr->fault->kind, path, sizeof(path));
    if (!fr->fault_ns) {
        fr->fault_ns = pvt_now_ns();
        fr->fault_worker = fr->worker;
    }
    if (fr->fault->kind == PVT_FK_RESTART) {
        /* By pid: the server this run started (under --restart, the outer
         * supervisor, which passes it on). */
        if (kill(x->srv.pid, SIGHUP) < 0)
            ERR("%s, %s: could not send SIGHUP to the server: %s", fr->backend,
                fr->fault->label, strerror(errno));
        return;
    }
    if (x->fault_fd < 0)
        return;
    if (fr->fault->kind == PVT_FK_LEAK) {
        if (pvt_probe_get(&x->fault_fd, path, &body) == 0)
            fr->leaked_mb += PVT_BENCH_LEAK_MB;
        else
            x->leaking = 0; /* closed: the worker drains, or is gone */
        free(body);
        return;
    }
    n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
    if (send(x->fault_fd, req, (size_t)n, MSG_NOSIGNAL) != n)
        ERR("%s, %s: could not send %s", fr->backend, fr->fault->label, path);
}

/* Leak again while the target is the same worker, below --max-rss, and no
 * more than 4 x --max-rss has gone in (a thread's process is never recycled). */
static void leak_step(struct ctx *x)
{
    uint64_t max_kb = (uint64_t)x->fr->cfg->max_rss_mb * 1024;

    if (x->fault_fd < 0 || x->target_now != x->target_pid ||
        x->fr->leaked_mb >= 4 * (uint64_t)x->fr->cfg->max_rss_mb) {
        x->leaking = 0;
        return;
    }
    if (x->target_kb < max_kb)
        send_fault(x);
}

static int server_start(struct ctx *x, int logfd)
{
    const struct pvt_frun *fr = x->fr;
    const struct pvt_bench_cfg *cfg = fr->cfg;
    int kind = fr->fault->kind, n = 0, rc;
    struct pvt_serve_ready ready;
    char w[16], wt[16], rss[16], mj[32], jit[32], why[160];
    char *argv[40];

    snprintf(w, sizeof(w), "%ld", cfg->workers[0]);
    snprintf(wt, sizeof(wt), "%d", cfg->worker_timeout_ms);
    snprintf(rss, sizeof(rss), "%ld", cfg->max_rss_mb);
    snprintf(mj, sizeof(mj), "%llu", (unsigned long long)fr->max_jobs);
    snprintf(jit, sizeof(jit), "%llu", (unsigned long long)fr->max_jobs_jitter);
    argv[n++] = "pvt";
    argv[n++] = "serve";
    argv[n++] = "--backend";
    argv[n++] = (char *)fr->backend;
    argv[n++] = "--workers";
    argv[n++] = w;
    argv[n++] = "--distribution";
    argv[n++] = (char *)cfg->dists[0];
    argv[n++] = "--port";
    argv[n++] = "0";
    argv[n++] = "--host";
    argv[n++] = "127.0.0.1";
    argv[n++] = "--pin";
    argv[n++] = (char *)pvt_place_policy_name(cfg->pin);
    argv[n++] = "--unit";
    argv[n++] = (char *)pvt_place_unit_name(cfg->unit);
    argv[n++] = "--allow-faults";
    argv[n++] = "--unbounded-routes"; /* the workload as asked, on loopback */
    argv[n++] = "--stop-timeout";
    argv[n++] = SERVE_STOP_MS;
    /* Workers that are not processes are recovered only by restarting the
     * whole server. */
    if (!(fr->caps & PVT_CAP_PROCESSES))
        argv[n++] = "--restart";
    if (kind == PVT_FK_HANG) {
        argv[n++] = "--worker-timeout";
        argv[n++] = wt;
    }
    if (kind == PVT_FK_LEAK && fr->caps & PVT_CAP_RECYCLE) {
        argv[n++] = "--max-rss";
        argv[n++] = rss;
    }
    if (kind == PVT_FK_RECYCLE) {
        argv[n++] = "--max-jobs";
        argv[n++] = mj;
        argv[n++] = "--max-jobs-jitter";
        argv[n++] = jit;
    }
    argv[n] = NULL;
    rc = pvt_server_start(argv, &cfg->server_cpus, logfd, STOP_MS, &x->srv, &ready, why,
                          sizeof(why));
    if (rc == 0)
        x->port = ready.port;
    else if (rc != -EINTR)
        ERR("pvt serve (%s, for %s): %s (its log: %s/logs/%s)", fr->backend, fr->fault->label,
            why, fr->dir, fr->log);
    return rc;
}

static int load_start(struct ctx *x)
{
    const struct pvt_frun *fr = x->fr;
    const struct pvt_bench_cfg *cfg = fr->cfg;
    char url[256], c[16], t[16], d[32], rate[32], to[32], mix[96], path[64];
    char *argv[] = {"pvt", "load", url, "-c", c, "-t", t, "-d", d, "-R", rate, "--timeout", to,
                    "--json", "--timeline", x->tl, NULL, NULL, NULL};
    int rc;

    if (cfg->fault_rate > 0) {
        /* The load sends the fault itself: a share of every worker's requests. */
        pvt__fault_path(fr->fault->kind, path, sizeof(path));
        snprintf(mix, sizeof(mix), "%.17g:%s", cfg->fault_rate, path);
        argv[16] = "--mix";
        argv[17] = mix;
    }
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", x->port, fr->route);
    snprintf(c, sizeof(c), "%ld", cfg->concurrency[0]);
    snprintf(t, sizeof(t), "%d", fr->threads);
    snprintf(d, sizeof(d), "%llums", (unsigned long long)cfg->duration_ms);
    snprintf(rate, sizeof(rate), "%.3f", cfg->rate);
    snprintf(to, sizeof(to), "%llu", (unsigned long long)cfg->timeout_ms);
    rc = pvt_child_start(argv, &cfg->client_cpus, &x->load);
    if (rc < 0)
        ERR("cannot start pvt load: %s", strerror(-rc));
    return rc;
}

/* The run's loop: polls and the fault until the load's stdout ends. */
static int watch(struct ctx *x, char *out, size_t outlen)
{
    const struct pvt_frun *fr = x->fr;
    uint64_t t0 = pvt_now_ns(), fault_at = t0 + ms_ns(fr->at_ms), next = t0, now, wake;
    uint64_t until = t0 + ms_ns(fr->cfg->duration_ms + fr->cfg->timeout_ms + LOAD_SLACK_MS);
    int pending = fr->fault->kind != PVT_FK_RECYCLE && !(fr->cfg->fault_rate > 0), n;
    size_t got = 0;
    ssize_t r;

    for (;;) {
        struct pollfd p = {.fd = x->load.out, .events = POLLIN};
        if (pvt_bench_interrupted)
            return -EINTR;
        now = pvt_now_ns();
        if (now >= until)
            return -ETIMEDOUT;
        if (pending && now >= fault_at) {
            pending = 0;
            x->leaking = fr->fault->kind == PVT_FK_LEAK;
            send_fault(x);
        }
        if (now >= next) {
            poll_stats(x);
            if (x->leaking)
                leak_step(x);
            next += POLL_EVERY_NS;
            if (next <= pvt_now_ns())
                next = pvt_now_ns() + POLL_EVERY_NS;
        }
        wake = pending && fault_at < next ? fault_at : next;
        now = pvt_now_ns();
        n = poll(&p, 1, wake > now ? (int)((wake - now + 999999) / 1000000) : 0);
        if (n < 0 && errno != EINTR)
            return -errno;
        if (n <= 0)
            continue;
        if (got + 1 >= outlen)
            return -ENOSPC;
        r = read(x->load.out, out + got, outlen - 1 - got);
        if (r == 0)
            break;
        if (r > 0)
            got += (size_t)r;
        else if (errno != EINTR)
            return -errno;
    }
    out[got] = '\0';
    return 0;
}

/* pvt load's JSON into fr. */
static int parse_load(struct pvt_frun *fr, const char *text)
{
    json_t *root = json_loads(text, 0, NULL);
    json_int_t req, e[PVT_FERR_N], p99, max, start, mixed = 0;
    int rc = -EPROTO, i;

    if (root && json_unpack(root, "{s:I, s:{s:I, s:I, s:I, s:I, s:I}, s:F, s:{s:I, s:I}, s:I}",
                            "requests", &req, "errors", "connect", &e[0], "read", &e[1], "write",
                            &e[2], "timeout", &e[3], "status", &e[4], "seconds", &fr->seconds,
                            "latency_us", "p99", &p99, "max", &max, "start_monotonic_ns",
                            &start) == 0) {
        fr->requests = (uint64_t)req;
        for (i = 0; i < PVT_FERR_N; i++)
            fr->err[i] = (uint64_t)e[i];
        fr->p99_us = (uint64_t)p99;
        fr->max_us = (uint64_t)max;
        fr->start_ns = (uint64_t)start;
        json_unpack(root, "{s?I}", "mixed", &mixed);
        fr->faults_sent = (uint64_t)mixed;
        rc = 0;
    }
    json_decref(root);
    return rc;
}

/* After the load: the last /stats (through a restart), and what it says. */
static void final_stats(struct ctx *x)
{
    struct pvt_frun *fr = x->fr;
    uint64_t until = pvt_bench_deadline(FINAL_MS);
    int i, rc = -1;

    while (!pvt_bench_interrupted && pvt_now_ns() < until &&
           (rc = poll_stats(x)) < 0 && pvt_child_reap(&x->srv, 0) == -ETIMEDOUT)
        usleep(50000);
    if (rc < 0) {
        fr->live_end = x->srv.pid ? -1 : 0; /* a server that is gone serves nobody */
        if (!x->srv.pid) {
            char why[64];
            pvt_child_describe_exit(x->srv.status, why, sizeof(why));
            ERR("pvt serve (%s, %s) is gone: %s", fr->backend, fr->fault->label, why);
        }
        return;
    }
    fr->have_final = 1;
    fr->live_end = 0;
    for (i = 0; i < x->snap->n; i++) {
        const struct pvt_wstat *w = &x->snap->w[i];
        fr->live_end += w->live && !w->hung;
        fr->restarts_final += w->restarts;
        if (w->replace_us && (PVT_BENCH_FAULT_ALL(fr->fault->kind) ? isnan(fr->replace_us) ||
                                                                      w->replace_us > fr->replace_us
                                                                : w->slot == fr->worker))
            fr->replace_us = (double)w->replace_us;
    }
}

/* The server's log: the outer supervisor's restarts and the last downtime. */
static void read_log(struct pvt_frun *fr, const char *path)
{
    FILE *f = fopen(path, "re");
    char line[512], *p;
    double ms;

    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        if (strstr(line, "; starting another"))
            fr->outer_restarts++;
        if ((p = strstr(line, "restarted: server process ")) &&
            (p = strstr(p, ", ")) && sscanf(p, ", %lf ms after", &ms) == 1)
            fr->outer_down_ms = ms;
    }
    fclose(f);
}

static int open_log(struct ctx *x)
{
    int fd;

    snprintf(x->logtmp, sizeof(x->logtmp), "%s/logs/.%s.tmp.%d", x->fr->dir, x->fr->log,
             (int)getpid());
    fd = open(x->logtmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
        ERR("cannot write %s: %s", x->logtmp, strerror(errno));
    return fd < 0 ? -errno : fd;
}

/* Children the driver adopted as a subreaper (a server process whose outer
 * supervisor was killed): each stopped by its pid and reaped. The run's own
 * children are reaped before this, so any child left is such an orphan. */
static void reap_orphans(void)
{
    char path[64], buf[4096], *p, *end;
    struct pvt_child c;
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)getpid(), (int)getpid());
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    for (p = buf; *p; p = end) {
        long pid = strtol(p, &end, 10);
        if (end == p)
            break;
        c = (struct pvt_child){.pid = (pid_t)pid, .out = -1};
        ERR("a server process (pid %ld) outlived its supervisor: stopping it", pid);
        pvt_child_stop(&c, SIGTERM, 3000);
    }
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
}

/* Everything the run started, stopped and reaped; the log in place. */
static void cleanup(struct ctx *x, int logfd)
{
    char path[4400];

    pvt_child_stop(&x->load, SIGTERM, 2000);
    if (x->stats_fd >= 0)
        close(x->stats_fd);
    if (x->fault_fd >= 0)
        close(x->fault_fd);
    x->stats_fd = x->fault_fd = -1;
    if (x->srv.pid) {
        pvt_child_stop(&x->srv, SIGTERM, STOP_MS);
        if (!WIFEXITED(x->srv.status) || WEXITSTATUS(x->srv.status) != 0) {
            char why[64];
            pvt_child_describe_exit(x->srv.status, why, sizeof(why));
            ERR("pvt serve (%s, %s) did not stop cleanly: %s", x->fr->backend,
                x->fr->fault->label, why);
        }
    }
    if (logfd >= 0) {
        close(logfd);
        read_log(x->fr, x->logtmp);
        snprintf(path, sizeof(path), "%s/logs/%s", x->fr->dir, x->fr->log);
        if (rename(x->logtmp, path) < 0)
            unlink(x->logtmp);
    }
    reap_orphans();
    unlink(x->tl);
    snprintf(path, sizeof(path), "%s.tmp", x->tl);
    unlink(path);
    free(x->snap);
}

int pvt__fault_run(struct pvt_frun *fr)
{
    struct ctx x = {.fr = fr, .stats_fd = -1, .fault_fd = -1, .srv.out = -1, .load.out = -1};
    int workers = (int)fr->cfg->workers[0], logfd, rc;
    char out[16384];

    fr->fault_worker = -1;
    fr->outer_down_ms = fr->replace_us = NAN;
    fr->restarts_last = -1;
    fr->live_end = -1;
    snprintf(x.tl, sizeof(x.tl), "%s/.timeline-load.%d.csv", fr->dir, (int)getpid());
    x.snap = calloc(1, sizeof(*x.snap));
    if (!x.snap)
        return -ENOMEM;
    if ((logfd = open_log(&x)) < 0) {
        rc = logfd;
        goto out;
    }
    if ((rc = server_start(&x, logfd)) < 0)
        goto out;
    if (fr->worker >= 0) {
        x.fault_fd = connect_worker(x.port, fr->worker, -1, FAULT_IO_MS);
        if (x.fault_fd < 0) {
            rc = x.fault_fd == -ENOENT ? -EPROTO : x.fault_fd;
            ERR("%s, %s: no connection to worker %d: %s", fr->backend, fr->fault->label,
                fr->worker, rc == -EPROTO ? "GET / never named it" : strerror(-rc));
            goto out;
        }
    }
    x.stats_fd = connect_worker(x.port, -1, workers > 1 ? fr->worker : -1, POLL_TIMEOUT_MS);
    if (x.stats_fd < 0)
        x.stats_fd = -1; /* best effort: the first poll reconnects */
    poll_stats(&x);
    if ((rc = load_start(&x)) < 0)
        goto out;
    rc = watch(&x, out, sizeof(out));
    if (pvt_bench_interrupted)
        rc = -EINTR; /* a Ctrl-C on the terminal reached the load too */
    if (rc == 0) {
        pvt_child_stop(&x.load, 0, LOAD_SLACK_MS);
        if (!WIFEXITED(x.load.status) || WEXITSTATUS(x.load.status) != 0) {
            pvt_child_describe_exit(x.load.status, out, sizeof(out));
            ERR("pvt load against %s (%s): %s", fr->backend, fr->fault->label, out);
            rc = -ECHILD;
        } else if ((rc = parse_load(fr, out)) < 0) {
            ERR("pvt load gave no JSON object of the expected shape: %.200s", out);
        }
    } else if (rc == -ETIMEDOUT) {
        ERR("pvt load against %s (%s) did not finish in time", fr->backend, fr->fault->label);
    } else if (rc != -EINTR) {
        ERR("pvt load against %s (%s): its output: %s", fr->backend, fr->fault->label,
            strerror(-rc));
    }
    if (rc == 0)
        final_stats(&x);
    if (rc == 0 && pvt_bench_interrupted)
        rc = -EINTR;
    if (rc == 0 && (rc = pvt__fault_read_timeline(x.tl, &fr->bins, &fr->nbins)) < 0)
        ERR("cannot read pvt load's timeline %s: %s", x.tl, strerror(-rc));
    if (rc == 0)
        pvt__fault_live_bins(fr);
out:
    cleanup(&x, logfd);
    return pvt_bench_interrupted ? -EINTR : rc;
}

void pvt__fault_run_free(struct pvt_frun *fr)
{
    free(fr->bins);
    free(fr->samples);
    fr->bins = NULL;
    fr->samples = NULL;
    fr->nbins = fr->nsamples = fr->capsamples = 0;
}
