/*
 * cmd_serve.c: `pvt serve`: N workers of one backend serving HTTP on one port.
 *
 * DESIGN
 * The main thread creates a serving pool (pvt.h, serve.h) and then only
 * supervises it. SIGTERM, SIGINT and SIGHUP are blocked everywhere except
 * inside the pool's wait (supervise's waitmask, as epoll_pwait/ppoll do), so
 * a signal ends that wait with -EINTR, its handler only sets a flag, and the
 * loop acts on it: TERM or INT starts a graceful stop (stop taking
 * connections, finish what is in flight, force after --shutdown-timeout),
 * HUP a rolling restart (pvt.h: restart). Worker threads inherit the blocked
 * mask, so a signal never lands in one; worker processes reset their mask
 * after fork and die with the primary.
 *
 * The control socket (ctl.h) is one more descriptor the pool's wait watches
 * (serve.h: watch_fd), so `pvt ctl` is served from this same loop, with no
 * thread: supervise returns when a client needs something, and the loop
 * moves every client on without blocking.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/common/cli.h"
#include "ctl.h"
#include "shared/base/clock.h"
#include "serve_restart.h"
#include "shared/base/parse.h"
#include "shared/core/place.h"
#include "shared/core/pvt.h"
#include "shared/serve/serve.h"

#define CMD "serve"
#define SUPERVISE_MS 1000
#define EXIT_FORCED 3 /* the graceful stop ran past --shutdown-timeout */

struct serve_opts {
    const struct pvt_pool_ops *ops;
    int workers; /* 0: one per allowed core */
    struct pvt_serve_cfg serve;
    struct pvt_sup_cfg sup;
    enum pvt_place_policy pin;
    enum pvt_place_unit unit;
    int stop_timeout_ms;
    int max_workers; /* 0: 2 x workers, at least workers + 4 */
    char ctl[108];   /* the control socket's path */
    int restart; /* run the server in a child process and restart it when it dies */
    int quiet;
};

static atomic_int got_signal;

static void on_signal_cb(int sig)
{
    atomic_store(&got_signal, sig);
}

static void help(void)
{
    const struct pvt_pool_ops *const *b;

    printf("usage: pvt serve --backend proc|thread [--workers N] [--host ADDR] [--port P]\n"
           "                 [--distribution shared|reuseport|rr] [--pin POLICY] [--unit UNIT]\n"
           "                 [--idle-timeout MS] [--request-timeout MS] [--shutdown-timeout MS]\n"
           "                 [--max-workers N] [--unbounded-routes]\n"
           "                 [--allow-faults] [--worker-timeout MS] [--max-rss MB]\n"
           "                 [--max-jobs N [--max-jobs-jitter J]] [--crash-loop N/SECONDS]\n"
           "                 [--restart] [--offload proc|thread [--offload-workers M]\n"
           "                 [--offload-queue Q]]\n\n"
           "Serves HTTP/1.1 (keep-alive, pipelining) from N workers sharing one port. Once\n"
           "every worker listens it prints one line on stdout:\n"
           "    ready port=P pid=PRIMARY_PID ctl=SOCKET\n"
           "SIGTERM or SIGINT stops it gracefully: no new connections, what was accepted is\n"
           "served, then it exits 0; workers still busy after --shutdown-timeout are forced\n"
           "(processes: SIGTERM, then SIGKILL a second later) and it exits %d.\n"
           "SIGHUP replaces every worker, one at a time: each replacement accepts before its\n"
           "predecessor stops accepting, which then drains and exits (a rolling restart).\n"
           "SOCKET is a unix socket for 'pvt ctl SOCKET status|restart|scale +N|-N|stop'.\n\n"
           "Routes: /  /cpu?n=N  /hash?bytes=B  /mem?bytes=B  /sleep?ms=MS  /stats (JSON)\n"
           "(n up to 1G and B up to 256M unless --unbounded-routes; over that: 400)\n\n"
           "  -b, --backend NAME      ",
           EXIT_FORCED);
    for (b = pvt_backends; *b; b++)
        printf("%s%s", b == pvt_backends ? "" : ", ", (*b)->name);
    printf(" (required)\n");
    for (b = pvt_backends; *b; b++)
        printf("                            %-7s %s\n", (*b)->name, (*b)->summary);
    printf("  -w, --workers N         workers (default: one per allowed core)\n"
           "      --host ADDR         IPv4 address to bind (default 127.0.0.1)\n"
           "  -p, --port P            port (default 8080; 0 picks a free one, named in the\n"
           "                          ready line)\n"
           "      --distribution D    how connections reach the workers (default rr):\n"
           "                            shared     all accept on one socket, the kernel wakes\n"
           "                                       one (Node's SCHED_NONE)\n"
           "                            reuseport  a SO_REUSEPORT socket per worker, the kernel\n"
           "                                       hashes connections to them\n"
           "                            rr         the primary (proc) or the main thread\n"
           "                                       (thread) accepts and hands connections out\n"
           "                                       in turn (Node's default, SCHED_RR)\n"
           "      --pin POLICY        none, compact or scatter (default compact)\n"
           "      --unit UNIT         core or pu (default core)\n"
           "      --idle-timeout MS   close a keep-alive connection idle this long (default %d)\n"
           "      --request-timeout MS  a started request must progress within this, and a\n"
           "                          client must take its response as fast (default %d)\n"
           "      --shutdown-timeout MS  graceful stop's deadline before force (default\n"
           "                          10000), and a replaced or removed worker's drain\n"
           "                          deadline; --stop-timeout is the same\n"
           "      --max-workers N     room for this many workers, for 'pvt ctl scale'\n"
           "                          (default twice --workers, at least --workers + 4)\n"
           "      --unbounded-routes  lift the routes' bounds (/cpu n <= 1G, /hash and /mem\n"
           "                          B <= 256M) up to their own limits (100G, 1G, 4G); for a\n"
           "                          server no other machine can reach\n\n"
           "Offload (Node's worker_threads behind each cluster worker):\n"
           "      --offload NAME      each worker runs a job pool of its own (proc or thread)\n"
           "                          and hands it /cpu /hash /mem and the fault routes\n"
           "                          but /scribble; its event loop keeps answering /,\n"
           "                          /sleep and /stats meanwhile. A job whose pool worker\n"
           "                          dies gets 500 (proc: only that request is lost)\n"
           "      --offload-workers M the pool's workers, per serving worker (default %d,\n"
           "                          at most %d); they share the serving worker's CPUs\n"
           "      --offload-queue Q   jobs a worker has out at once (default %d, at most\n"
           "                          %d); past that a request gets 503 at once and its\n"
           "                          connection stays open\n\n"
           "Faults and supervision:\n"
           "      --allow-faults      serve the fault routes /crash /abort /exit?code=N /hang\n"
           "                          /slow?ms=N /leak?mb=N /scribble?seed=N (404 without\n"
           "                          this flag)\n"
           "      --worker-timeout MS a worker whose heartbeat is older than this is hung: a\n"
           "                          process gets SIGTERM, then SIGKILL, and is replaced; a\n"
           "                          thread is reported (it cannot be killed). Default off\n"
           "      --max-rss MB        proc: a worker past this RSS drains and is replaced\n"
           "      --max-jobs N        proc: a worker drains and is replaced after N requests\n"
           "      --max-jobs-jitter J proc: ... plus a random 0..J per worker\n"
           "      --crash-loop N/SECONDS  the crash-loop guard: the Nth death of one worker\n"
           "                          within SECONDS stops its respawns (with --restart: the\n"
           "                          server process's); N 1..%d (default %d/%d, as systemd's\n"
           "                          StartLimitBurst/StartLimitIntervalSec)\n"
           "      --restart           run the server in a child process and start a new one\n"
           "                          when it dies (what systemd's Restart=always does; the\n"
           "                          only recovery for the thread backend)\n"
           "A dead worker process is replaced at once; further deaths of the same slot within\n"
           "the guard's window wait %d ms, then twice as long each time, up to %d ms; the Nth\n"
           "death in that window stops the slot's respawns (the other workers keep serving).\n\n"
           "  -q, --quiet             no summary on stderr at exit\n"
           "  -h, --help              this help\n\n"
           "Exit status: 0 after a graceful stop, 1 when it could not serve (e.g. the port is\n"
           "in use), 2 for a usage error, %d when the stop had to force workers.\n",
           PVT_SERVE_IDLE_TIMEOUT_MS, PVT_SERVE_REQUEST_TIMEOUT_MS, PVT_OFFLOAD_WORKERS,
           PVT_OFFLOAD_WORKERS_MAX, PVT_OFFLOAD_QUEUE, PVT_OFFLOAD_QUEUE_MAX, PVT_SUP_MAX_LOOP,
           PVT_SUP_LOOP_DEATHS, PVT_SUP_LOOP_WINDOW_MS / 1000, PVT_SUP_BACKOFF_MS,
           PVT_SUP_BACKOFF_MAX_MS, EXIT_FORCED);
}

enum {
    OPT_HOST = 256,
    OPT_DIST,
    OPT_PIN,
    OPT_UNIT,
    OPT_IDLE,
    OPT_REQ,
    OPT_STOP,
    OPT_FAULTS,
    OPT_WTIMEOUT,
    OPT_MAXRSS,
    OPT_MAXJOBS,
    OPT_JITTER,
    OPT_RESTART,
    OPT_MAXW,
    OPT_CRASHLOOP,
    OPT_UNBOUNDED,
    OPT_OFFLOAD,
    OPT_OFF_WORKERS,
    OPT_OFF_QUEUE
};

static const struct option opts[] = {
    {"backend", required_argument, NULL, 'b'},
    {"workers", required_argument, NULL, 'w'},
    {"host", required_argument, NULL, OPT_HOST},
    {"port", required_argument, NULL, 'p'},
    {"distribution", required_argument, NULL, OPT_DIST},
    {"pin", required_argument, NULL, OPT_PIN},
    {"unit", required_argument, NULL, OPT_UNIT},
    {"idle-timeout", required_argument, NULL, OPT_IDLE},
    {"request-timeout", required_argument, NULL, OPT_REQ},
    {"shutdown-timeout", required_argument, NULL, OPT_STOP},
    {"stop-timeout", required_argument, NULL, OPT_STOP},
    {"max-workers", required_argument, NULL, OPT_MAXW},
    {"allow-faults", no_argument, NULL, OPT_FAULTS},
    {"unbounded-routes", no_argument, NULL, OPT_UNBOUNDED},
    {"worker-timeout", required_argument, NULL, OPT_WTIMEOUT},
    {"max-rss", required_argument, NULL, OPT_MAXRSS},
    {"max-jobs", required_argument, NULL, OPT_MAXJOBS},
    {"max-jobs-jitter", required_argument, NULL, OPT_JITTER},
    {"crash-loop", required_argument, NULL, OPT_CRASHLOOP},
    {"restart", no_argument, NULL, OPT_RESTART},
    {"offload", required_argument, NULL, OPT_OFFLOAD},
    {"offload-workers", required_argument, NULL, OPT_OFF_WORKERS},
    {"offload-queue", required_argument, NULL, OPT_OFF_QUEUE},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* --crash-loop N/SECONDS into the guard of sup. */
static void parse_crash_loop(struct pvt_sup_cfg *sup, const char *arg)
{
    const char *slash = strchr(arg, '/');
    char n[32];

    if (!slash || slash == arg || (size_t)(slash - arg) >= sizeof(n) || !slash[1])
        pvt_usage_error(CMD, "--crash-loop: '%s' is not N/SECONDS (e.g. 5/10)", arg);
    memcpy(n, arg, (size_t)(slash - arg));
    n[slash - arg] = '\0';
    sup->loop_deaths = (int)pvt_cli_long(CMD, "--crash-loop", n, 1, PVT_SUP_MAX_LOOP);
    sup->loop_window_ms = (int)pvt_cli_long(CMD, "--crash-loop", slash + 1, 1, 86400) * 1000;
}

/* The server's own options: backend, workers, address, distribution,
 * placement, timeouts and routes. 0 if ch is none of them. */
static int parse_serve_opt(struct serve_opts *o, int ch, const char *arg)
{
    struct in_addr addr;

    switch (ch) {
    case 'b':
        o->ops = pvt_backend_find(arg);
        if (!o->ops)
            pvt_usage_error(CMD, "--backend: unknown backend '%s' (proc or thread)", arg);
        return 1;
    case 'w':
        o->workers = (int)pvt_cli_long(CMD, "--workers", arg, 1, PVT_MAX_WORKERS);
        return 1;
    case OPT_HOST:
        if (inet_pton(AF_INET, arg, &addr) != 1)
            pvt_usage_error(CMD, "--host: '%s' is not an IPv4 address such as 127.0.0.1", arg);
        o->serve.host = arg;
        return 1;
    case 'p':
        o->serve.port = (int)pvt_cli_long(CMD, "--port", arg, 0, 65535);
        return 1;
    case OPT_DIST:
        if (pvt_dist_parse(arg, &o->serve.distribution) < 0)
            pvt_usage_error(CMD, "--distribution: '%s' is not shared, reuseport or rr", arg);
        return 1;
    case OPT_PIN:
        if (pvt_place_parse_policy(arg, &o->pin) < 0)
            pvt_usage_error(CMD, "--pin: '%s' is not none, compact or scatter", arg);
        return 1;
    case OPT_UNIT:
        if (pvt_place_parse_unit(arg, &o->unit) < 0)
            pvt_usage_error(CMD, "--unit: '%s' is not core or pu", arg);
        return 1;
    case OPT_IDLE:
        o->serve.idle_timeout_ms = (int)pvt_cli_long(CMD, "--idle-timeout", arg, 1, 86400000);
        return 1;
    case OPT_REQ:
        o->serve.request_timeout_ms = (int)pvt_cli_long(CMD, "--request-timeout", arg, 1, 86400000);
        return 1;
    case OPT_STOP:
        o->stop_timeout_ms = (int)pvt_cli_long(CMD, "--shutdown-timeout", arg, 0, 3600000);
        return 1;
    case OPT_MAXW:
        o->max_workers = (int)pvt_cli_long(CMD, "--max-workers", arg, 1, PVT_MAX_WORKERS);
        return 1;
    case OPT_FAULTS:
        o->serve.allow_faults = 1;
        return 1;
    case OPT_UNBOUNDED:
        o->serve.unbounded_routes = 1;
        return 1;
    }
    return 0;
}

/* --offload and its numbers. 0 if ch is none of them. */
static int parse_offload_opt(struct serve_opts *o, int ch, const char *arg)
{
    struct pvt_serve_offload *off = &o->serve.offload;

    switch (ch) {
    case OPT_OFFLOAD:
        off->ops = pvt_backend_find(arg);
        if (!off->ops)
            pvt_usage_error(CMD, "--offload: unknown backend '%s' (proc or thread)", arg);
        if (!(off->ops->caps & PVT_CAP_POLL))
            pvt_usage_error(CMD, "--offload: %s has no event descriptor an event loop can wait "
                                 "on (PVT_CAP_POLL); use proc or thread", off->ops->name);
        return 1;
    case OPT_OFF_WORKERS:
        off->workers =
            (int)pvt_cli_long(CMD, "--offload-workers", arg, 1, PVT_OFFLOAD_WORKERS_MAX);
        return 1;
    case OPT_OFF_QUEUE:
        off->queue = (int)pvt_cli_long(CMD, "--offload-queue", arg, 1, PVT_OFFLOAD_QUEUE_MAX);
        return 1;
    }
    return 0;
}

/* Supervision (sup.h) and the command's own flags. 0 if ch is none of them. */
static int parse_sup_opt(struct serve_opts *o, int ch, const char *arg)
{
    switch (ch) {
    case OPT_WTIMEOUT:
        o->sup.worker_timeout_ms = (int)pvt_cli_long(CMD, "--worker-timeout", arg, 200, 86400000);
        return 1;
    case OPT_MAXRSS:
        o->sup.max_rss_kb = (uint64_t)pvt_cli_long(CMD, "--max-rss", arg, 1, 1 << 20) * 1024;
        return 1;
    case OPT_MAXJOBS:
        o->sup.max_jobs = (uint64_t)pvt_cli_long(CMD, "--max-jobs", arg, 1, 1000000000000);
        return 1;
    case OPT_JITTER:
        o->sup.max_jobs_jitter =
            (uint64_t)pvt_cli_long(CMD, "--max-jobs-jitter", arg, 0, 1000000000000);
        return 1;
    case OPT_CRASHLOOP:
        parse_crash_loop(&o->sup, arg);
        return 1;
    case OPT_RESTART:
        o->restart = 1;
        return 1;
    case 'q':
        o->quiet = 1;
        return 1;
    }
    return 0;
}

/* The options as a whole, once all are read: what one option asks of
 * another, and of the backend. */
static void check_args(struct serve_opts *o)
{
    if (!o->ops)
        pvt_usage_error(CMD, "--backend: missing (proc or thread)");
    if (!(o->ops->caps & PVT_CAP_SERVE))
        pvt_usage_error(CMD, "--backend: %s has no server (proc or thread)", o->ops->name);
    if (!(o->ops->caps & PVT_CAP_RECYCLE) && (o->sup.max_rss_kb || o->sup.max_jobs))
        pvt_usage_error(CMD, "%s: proc only (a thread's memory is its process's; with threads, "
                             "only a restart of the whole process frees it)",
                        o->sup.max_rss_kb ? "--max-rss" : "--max-jobs");
    if (o->sup.max_jobs_jitter && !o->sup.max_jobs)
        pvt_usage_error(CMD, "--max-jobs-jitter: needs --max-jobs");
    if (!o->serve.offload.ops && (o->serve.offload.workers || o->serve.offload.queue))
        pvt_usage_error(CMD, "%s: needs --offload",
                        o->serve.offload.workers ? "--offload-workers" : "--offload-queue");
    /* A hung job is found by the pool's own watchdog: the serving worker's
     * loop, never blocked by a job, keeps beating. */
    o->serve.offload.worker_timeout_ms = o->sup.worker_timeout_ms;
    /* A worker draining during a restart, a recycle or a scale down has the
     * deadline a stop gives every worker (0: forced at once, as a stop). */
    o->sup.drain_timeout_ms = o->stop_timeout_ms > 0 ? o->stop_timeout_ms : 1;
    if (o->max_workers && o->workers && o->max_workers < o->workers)
        pvt_usage_error(CMD, "--max-workers: %d is fewer than --workers %d", o->max_workers,
                        o->workers);
}

/* wrk's way: the defaults, then every option, then the checks as a whole. */
static void parse_args(struct serve_opts *o, int argc, char **argv)
{
    int ch;

    *o = (struct serve_opts){.serve = {.distribution = PVT_DIST_RR, .port = 8080},
                             .pin = PVT_PLACE_COMPACT,
                             .stop_timeout_ms = 10000};
    opterr = 0;
    optind = 0;
    while ((ch = getopt_long(argc, argv, ":b:w:p:qh", opts, NULL)) != -1) {
        if (parse_serve_opt(o, ch, optarg) || parse_sup_opt(o, ch, optarg) ||
            parse_offload_opt(o, ch, optarg))
            continue;
        if (ch == 'h') {
            help();
            exit(PVT_EXIT_OK);
        }
        pvt_cli_bad_option(CMD, ch, opts, argv);
    }
    if (optind < argc)
        pvt_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    check_args(o);
}

/* Signals reach this process only inside supervise's wait. */
static void signals_setup(sigset_t *waitmask)
{
    struct sigaction sa = {.sa_handler = on_signal_cb};
    sigset_t block;

    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigprocmask(SIG_BLOCK, &block, waitmask);
    sigdelset(waitmask, SIGTERM);
    sigdelset(waitmask, SIGINT);
    sigdelset(waitmask, SIGHUP);
}

static void summary(const struct pvt_pool_ops *ops, struct pvt_pool *pool, int stop_rc)
{
    struct pvt_worker_stats w[PVT_MAX_WORKERS];
    struct pvt_pool_stats st = {.w = w};
    uint64_t total = 0;
    char cpus[64];
    int i;

    ops->stats(pool, &st);
    for (i = 0; i < st.workers; i++)
        total += w[i].requests;
    fprintf(stderr, "pvt serve: stopped%s; %llu requests answered by the workers alive at the end",
            stop_rc == -ETIMEDOUT ? " (forced past --shutdown-timeout)" : "",
            (unsigned long long)total);
    if (st.deaths)
        fprintf(stderr, ", %llu worker deaths", (unsigned long long)st.deaths);
    fputc('\n', stderr);
    for (i = 0; i < st.workers; i++) {
        if (pvt_cpuset_format(&w[i].bound, cpus, sizeof(cpus)) < 0)
            strcpy(cpus, "?");
        fprintf(stderr, "  worker %d: %llu requests, cpus %s, %u restarts\n", i,
                (unsigned long long)w[i].requests, cpus, w[i].restarts);
    }
}

static const char *create_error(int rc, const struct serve_opts *o, char *buf, size_t len)
{
    const char *host = o->serve.host ? o->serve.host : "127.0.0.1";

    if (rc == -EADDRINUSE)
        snprintf(buf, len, "port %d on %s is in use", o->serve.port, host);
    else if (rc == -EADDRNOTAVAIL)
        snprintf(buf, len, "--host: %s is not an address of this machine", host);
    else if (rc == -EACCES)
        snprintf(buf, len, "port %d on %s: permission denied (ports below 1024 need root)",
                 o->serve.port, host);
    else
        snprintf(buf, len, "could not start %d %s workers: %s", o->workers, o->ops->name,
                 strerror(-rc));
    return buf;
}

/* What the previous look at the workers saw, to log what changed. */
struct seen {
    pid_t pid;
    unsigned restarts, hangs;
    int parked;
    unsigned drained;
};

static void exit_text(const struct pvt_worker_stats *w, char *buf, size_t len)
{
    if (w->recycles && w->last_exit_intended)
        snprintf(buf, len, "was recycled");
    else if (w->last_exit_signal)
        snprintf(buf, len, "was killed by signal %d (%s)", w->last_exit_signal,
                 strsignal(w->last_exit_signal));
    else
        snprintf(buf, len, "exited with code %d", w->last_exit_code);
}

/* Why a serving worker was recycled: "RSS 80 MiB over --max-rss 64". */
static void recycle_text(const struct serve_opts *o, const struct pvt_worker_stats *w, char *buf,
                         size_t len)
{
    unsigned long long v = (unsigned long long)w->recycle_value;

    if (w->recycle_why == PVT_RECYCLE_RSS)
        snprintf(buf, len, "RSS %llu MiB over --max-rss %llu", v / 1024,
                 (unsigned long long)(o->sup.max_rss_kb / 1024));
    else if (o->sup.max_jobs_jitter)
        snprintf(buf, len, "it answered its %llu requests (--max-jobs %llu, jitter %llu)", v,
                 (unsigned long long)o->sup.max_jobs, (unsigned long long)o->sup.max_jobs_jitter);
    else
        snprintf(buf, len, "it answered its %llu requests (--max-jobs %llu)", v,
                 (unsigned long long)o->sup.max_jobs);
}

/* The end of a replaced worker that drained: always after a recycle, and
 * for one replaced by a restart or removed by scale only when it did not
 * exit cleanly. */
static void log_drained(int i, const struct pvt_worker_stats *w)
{
    const char *what = w->drained_recycled ? "recycled" : "replaced";

    if (w->drained_signal)
        pvt_err(CMD, "worker %d: old pid %d (%s) was killed by signal %d (%s)", i,
                (int)w->drained_pid, what, w->drained_signal, strsignal(w->drained_signal));
    else if (w->drained_recycled || w->drained_code != 0)
        pvt_err(CMD, "worker %d: old pid %d (%s) exited with code %d", i, (int)w->drained_pid,
                what, w->drained_code);
}

/* One line on stderr for each worker that died, was replaced, hung or was
 * parked since the last look (nginx logs "worker process exited on signal"). */
static void log_changes(const struct serve_opts *o, struct pvt_pool *pool, struct seen *seen,
                        struct pvt_worker_stats *w, int *rolled)
{
    struct pvt_pool_stats st = {.w = w};
    char why[160];
    int i;

    o->ops->stats(pool, &st);
    for (i = 0; i < st.workers; i++) {
        struct seen *v = &seen[i];
        if (w[i].restarts != v->restarts && w[i].recycle_why && v->pid) {
            recycle_text(o, &w[i], why, sizeof(why));
            pvt_err(CMD, "worker %d (pid %d) recycled: %s; replaced by pid %d, old worker draining",
                    i, (int)v->pid, why, (int)w[i].pid);
        } else if (w[i].restarts != v->restarts && *rolled && v->pid) {
            pvt_err(CMD, "worker %d: pid %d replaced by pid %d (rolling restart)", i,
                    (int)v->pid, (int)w[i].pid);
        } else if (w[i].restarts != v->restarts) {
            exit_text(&w[i], why, sizeof(why));
            pvt_err(CMD, "worker %d (pid %d) %s; replaced by pid %d", i, (int)v->pid, why,
                    (int)w[i].pid);
        }
        if (w[i].parked && !v->parked)
            pvt_err(CMD, "worker %d died %d times within %d s: not respawned again "
                         "(crash loop); the others keep serving",
                    i, o->sup.loop_deaths, o->sup.loop_window_ms / 1000);
        /* A count, not the flag: a hung worker killed and replaced between
         * two looks has cleared its flag, but not the slot's count. */
        if (w[i].hangs != v->hangs)
            pvt_err(CMD, "worker %d (%s %d) is hung: %s", i, o->ops->name,
                    (int)(w[i].hung || w[i].restarts == v->restarts ? w[i].pid : v->pid),
                    o->ops->caps & PVT_CAP_KILL_HUNG
                        ? "sent SIGTERM (SIGKILL if it lingers)"
                        : "a thread cannot be killed; its capacity is lost until a restart");
        if (w[i].drained != v->drained)
            log_drained(i, &w[i]);
        *v = (struct seen){w[i].pid, w[i].restarts, w[i].hangs, w[i].parked, w[i].drained};
    }
    if (*rolled && !st.rolling && !st.draining) {
        pvt_err(CMD, "rolling restart done: %d workers", st.workers);
        *rolled = 0;
    }
}

/* SIGHUP or `pvt ctl restart|scale`: log it; *rolled while one runs. */
static void do_restart(const struct serve_opts *o, struct pvt_pool *pool, int *rolled)
{
    int rc = o->ops->restart(pool, 1);

    if (rc < 0) {
        pvt_err(CMD, "rolling restart refused: %s", strerror(-rc));
        return;
    }
    pvt_err(CMD, "rolling restart: replacing the workers one at a time");
    *rolled = 1;
}

/* Supervise until a stop signal (or `pvt ctl stop`), then stop gracefully.
 * An exit code. */
static int serve_loop(const struct serve_opts *o, struct pvt_pool *pool, struct pvt_ctl *ctl_srv,
                      const sigset_t *waitmask)
{
    struct pvt_worker_stats *w = calloc(PVT_MAX_WORKERS, sizeof(*w));
    struct seen *seen = calloc(PVT_MAX_WORKERS, sizeof(*seen));
    uint64_t last = 0, now;
    int rc, sig, ctl, rolled = 0, status = PVT_EXIT_OK;

    if (!w || !seen) {
        pvt_err(CMD, "out of memory");
        status = PVT_EXIT_FAIL;
        goto out;
    }
    log_changes(o, pool, seen, w, &rolled); /* the starting point */
    for (;;) {
        rc = o->ops->supervise(pool, SUPERVISE_MS, waitmask);
        if (rc < 0 && rc != -EINTR) {
            pvt_err(CMD, "supervising the workers failed: %s", strerror(-rc));
            status = PVT_EXIT_FAIL;
            break;
        }
        ctl = pvt_ctl_serve(ctl_srv, o->ops, pool);
        /* supervise returns for every rr hand-off: look at most every 20 ms. */
        now = pvt_now_ns();
        if (now - last >= 20000000u) {
            log_changes(o, pool, seen, w, &rolled);
            last = now;
        }
        if (ctl & PVT_CTL_DID_RESTART) {
            pvt_err(CMD, "pvt ctl restart: replacing the workers one at a time");
            rolled = 1;
        }
        sig = atomic_exchange(&got_signal, 0);
        if (sig == SIGHUP) {
            do_restart(o, pool, &rolled);
        } else if (sig || (ctl & PVT_CTL_WANT_STOP)) {
            rc = o->ops->stop(pool, o->stop_timeout_ms);
            if (!o->quiet)
                summary(o->ops, pool, rc);
            if (rc == -ETIMEDOUT)
                status = EXIT_FORCED;
            break;
        }
    }
out:
    free(w);
    free(seen);
    return status;
}

/* The server itself: a pool, its ready line, its loop. An exit code. */
static int serve_run(struct serve_opts *o, const sigset_t *waitmask)
{
    struct pvt_pool_stats st = {0};
    struct pvt_topo *topo = NULL;
    struct pvt_plan *plan = NULL;
    struct pvt_pool *pool = NULL;
    struct pvt_pool_cfg pcfg;
    char why[160];
    struct pvt_ctl *ctl = NULL;
    int rc, status, ctl_fd;

    rc = pvt_topo_load(&topo);
    if (rc < 0) {
        pvt_err(CMD, "cannot read the CPU topology: %s", strerror(-rc));
        return PVT_EXIT_FAIL;
    }
    if (!o->workers)
        o->workers = pvt_place_default_workers(topo);
    rc = pvt_place_plan(topo, o->pin, o->unit, o->workers, &plan);
    if (rc == 0)
        pvt_cli_warn_shared_cpus(CMD, plan, topo, o->unit);
    pvt_topo_free(topo);
    if (rc < 0) {
        pvt_err(CMD, "cannot plan %d workers: %s", o->workers, strerror(-rc));
        return PVT_EXIT_FAIL;
    }
    if (!o->max_workers)
        o->max_workers = o->workers * 2 > o->workers + 4 ? o->workers * 2 : o->workers + 4;
    if (o->max_workers > PVT_MAX_WORKERS)
        o->max_workers = PVT_MAX_WORKERS;
    ctl_fd = pvt_ctl_listen(o->ctl);
    if (ctl_fd >= 0)
        ctl_fd = pvt_ctl_open(ctl_fd, 0, &ctl);
    if (ctl_fd < 0) {
        pvt_err(CMD, "cannot listen on the control socket %s: %s", o->ctl, strerror(-ctl_fd));
        pvt_plan_free(plan);
        return PVT_EXIT_FAIL;
    }
    o->serve.watch_fd = pvt_ctl_fd(ctl);
    pcfg = (struct pvt_pool_cfg){.workers = o->workers,
                                 .max_workers = o->max_workers,
                                 .plan = plan,
                                 .serve = &o->serve,
                                 .sup = o->sup};
    rc = o->ops->create(&pcfg, &pool);
    if (rc < 0) {
        pvt_err(CMD, "%s", create_error(rc, o, why, sizeof(why)));
        status = PVT_EXIT_FAIL;
        goto out;
    }
    o->ops->stats(pool, &st);
    printf("ready port=%d pid=%d ctl=%s\n", st.port, (int)getpid(), o->ctl);
    if (fflush(stdout) == EOF) {
        pvt_err(CMD, "cannot write the ready line to stdout");
        status = PVT_EXIT_FAIL;
    } else {
        status = serve_loop(o, pool, ctl, waitmask);
    }
    o->ops->destroy(pool);
out:
    pvt_ctl_close(ctl);
    unlink(o->ctl);
    pvt_plan_free(plan);
    return status;
}

static int serve_run_cb(void *arg, const sigset_t *waitmask)
{
    return serve_run(arg, waitmask);
}

int pvt_cmd_serve(int argc, char **argv)
{
    struct serve_opts o;
    sigset_t waitmask;
    int rc;

    parse_args(&o, argc, argv);
    pvt_sup_resolve(&o.sup, &o.sup); /* in range by parse_args: the defaults filled in */
    /* A directory of this process's own; with --restart, every server
     * process binds the same path in it. */
    rc = pvt_ctl_path(getpid(), o.ctl, sizeof(o.ctl));
    if (rc < 0) {
        pvt_err(CMD, "cannot make a directory for the control socket ($XDG_RUNTIME_DIR or "
                     "/tmp): %s", strerror(-rc));
        return PVT_EXIT_FAIL;
    }
    signals_setup(&waitmask);
    if (o.restart)
        rc = pvt__serve_restart(&o.serve.port, o.stop_timeout_ms, &o.sup, &waitmask,
                                &got_signal, serve_run_cb, &o);
    else
        rc = serve_run(&o, &waitmask);
    pvt_ctl_path_remove(o.ctl);
    return rc;
}
