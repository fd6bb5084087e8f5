/*
 * cmd_serve.c: `pvt serve`: N workers of one backend serving HTTP on one port.
 *
 * DESIGN
 * The main thread creates a serving pool (pvt.h, serve.h) and then only
 * supervises it. SIGTERM, SIGINT and SIGHUP are blocked everywhere except
 * inside the pool's wait (supervise's waitmask, as epoll_pwait/ppoll do), so
 * a signal ends that wait with -EINTR, its handler only sets a flag, and the
 * loop acts on it: TERM or INT starts a graceful stop (stop taking
 * connections, finish what is in flight, force after --stop-timeout). Worker
 * threads inherit the blocked mask, so a signal never lands in one; worker
 * processes reset their mask after fork and die with the primary.
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

#include "cli.h"
#include "parse.h"
#include "place.h"
#include "pvt.h"
#include "serve.h"

#define CMD "serve"
#define SUPERVISE_MS 1000

struct serve_opts {
    const struct pvt_pool_ops *ops;
    int workers; /* 0: one per allowed core */
    struct pvt_serve_cfg serve;
    enum pvt_place_policy pin;
    enum pvt_place_unit unit;
    int stop_timeout_ms;
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
           "                 [--idle-timeout MS] [--request-timeout MS] [--stop-timeout MS]\n\n"
           "Serves HTTP/1.1 (keep-alive, pipelining) from N workers sharing one port. Once\n"
           "every worker listens it prints one line on stdout:\n"
           "    ready port=P pid=PRIMARY_PID\n"
           "SIGTERM or SIGINT stops it gracefully: no new connections, in-flight requests\n"
           "finish, then it exits 0 (workers still busy after --stop-timeout are forced).\n\n"
           "Routes: /  /cpu?n=N  /hash?bytes=B  /mem?bytes=B  /sleep?ms=MS  /stats (JSON)\n\n"
           "  -b, --backend NAME      ");
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
           "      --stop-timeout MS   graceful stop's deadline before force (default 10000)\n"
           "  -q, --quiet             no summary on stderr at exit\n"
           "  -h, --help              this help\n\n"
           "Exit status: 0 after a stop, 1 when it could not serve (e.g. the port is in use),\n"
           "2 for a usage error.\n",
           PVT_SERVE_IDLE_TIMEOUT_MS, PVT_SERVE_REQUEST_TIMEOUT_MS);
}

enum { OPT_HOST = 256, OPT_DIST, OPT_PIN, OPT_UNIT, OPT_IDLE, OPT_REQ, OPT_STOP };

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
    {"stop-timeout", required_argument, NULL, OPT_STOP},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void parse_args(struct serve_opts *o, int argc, char **argv)
{
    struct in_addr addr;
    int ch;

    opterr = 0;
    optind = 0;
    while ((ch = getopt_long(argc, argv, ":b:w:p:qh", opts, NULL)) != -1) {
        switch (ch) {
        case 'b':
            o->ops = pvt_backend_find(optarg);
            if (!o->ops)
                pvt_usage_error(CMD, "--backend: unknown backend '%s' (proc or thread)", optarg);
            break;
        case 'w':
            o->workers = (int)pvt_cli_long(CMD, "--workers", optarg, 1, PVT_MAX_WORKERS);
            break;
        case OPT_HOST:
            if (inet_pton(AF_INET, optarg, &addr) != 1)
                pvt_usage_error(CMD, "--host: '%s' is not an IPv4 address such as 127.0.0.1",
                                optarg);
            o->serve.host = optarg;
            break;
        case 'p':
            o->serve.port = (int)pvt_cli_long(CMD, "--port", optarg, 0, 65535);
            break;
        case OPT_DIST:
            if (pvt_dist_parse(optarg, &o->serve.distribution) < 0)
                pvt_usage_error(CMD, "--distribution: '%s' is not shared, reuseport or rr",
                                optarg);
            break;
        case OPT_PIN:
            if (pvt_place_parse_policy(optarg, &o->pin) < 0)
                pvt_usage_error(CMD, "--pin: '%s' is not none, compact or scatter", optarg);
            break;
        case OPT_UNIT:
            if (pvt_place_parse_unit(optarg, &o->unit) < 0)
                pvt_usage_error(CMD, "--unit: '%s' is not core or pu", optarg);
            break;
        case OPT_IDLE:
            o->serve.idle_timeout_ms = (int)pvt_cli_long(CMD, "--idle-timeout", optarg, 1, 86400000);
            break;
        case OPT_REQ:
            o->serve.request_timeout_ms =
                (int)pvt_cli_long(CMD, "--request-timeout", optarg, 1, 86400000);
            break;
        case OPT_STOP:
            o->stop_timeout_ms = (int)pvt_cli_long(CMD, "--stop-timeout", optarg, 0, 3600000);
            break;
        case 'q':
            o->quiet = 1;
            break;
        case 'h':
            help();
            exit(PVT_EXIT_OK);
        default:
            pvt_cli_bad_option(CMD, ch, opts, argv);
        }
    }
    if (optind < argc)
        pvt_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    if (!o->ops)
        pvt_usage_error(CMD, "--backend: missing (proc or thread)");
    if (!o->ops->supervise)
        pvt_usage_error(CMD, "--backend: %s has no server (proc or thread)", o->ops->name);
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
            stop_rc == -ETIMEDOUT ? " (forced past --stop-timeout)" : "",
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

/* Supervise until a stop signal, then stop gracefully. An exit code. */
static int serve_loop(const struct serve_opts *o, struct pvt_pool *pool, const sigset_t *waitmask)
{
    int rc, sig;

    for (;;) {
        rc = o->ops->supervise(pool, SUPERVISE_MS, waitmask);
        if (rc < 0 && rc != -EINTR) {
            pvt_err(CMD, "supervising the workers failed: %s", strerror(-rc));
            return PVT_EXIT_FAIL;
        }
        sig = atomic_exchange(&got_signal, 0);
        if (sig == SIGHUP) {
            pvt_err(CMD, "SIGHUP: rolling restart is not built yet; ignored");
        } else if (sig) {
            rc = o->ops->stop(pool, o->stop_timeout_ms);
            if (!o->quiet)
                summary(o->ops, pool, rc);
            return PVT_EXIT_OK;
        }
    }
}

int pvt_cmd_serve(int argc, char **argv)
{
    struct serve_opts o = {.serve = {.distribution = PVT_DIST_RR, .port = 8080},
                           .pin = PVT_PLACE_COMPACT,
                           .stop_timeout_ms = 10000};
    struct pvt_pool_stats st = {0};
    struct pvt_topo *topo = NULL;
    struct pvt_plan *plan = NULL;
    struct pvt_pool *pool = NULL;
    struct pvt_pool_cfg pcfg;
    sigset_t waitmask;
    char why[160];
    int rc, status;

    parse_args(&o, argc, argv);
    rc = pvt_topo_load(&topo);
    if (rc < 0) {
        pvt_err(CMD, "cannot read the CPU topology: %s", strerror(-rc));
        return PVT_EXIT_FAIL;
    }
    if (!o.workers)
        o.workers = pvt_place_default_workers(topo);
    rc = pvt_place_plan(topo, o.pin, o.unit, o.workers, &plan);
    pvt_topo_free(topo);
    if (rc < 0) {
        pvt_err(CMD, "cannot plan %d workers: %s", o.workers, strerror(-rc));
        return PVT_EXIT_FAIL;
    }
    signals_setup(&waitmask);
    pcfg = (struct pvt_pool_cfg){.workers = o.workers, .plan = plan, .serve = &o.serve};
    rc = o.ops->create(&pcfg, &pool);
    if (rc < 0) {
        pvt_err(CMD, "%s", create_error(rc, &o, why, sizeof(why)));
        pvt_plan_free(plan);
        return PVT_EXIT_FAIL;
    }
    o.ops->stats(pool, &st);
    printf("ready port=%d pid=%d\n", st.port, (int)getpid());
    if (fflush(stdout) == EOF) {
        pvt_err(CMD, "cannot write the ready line to stdout");
        status = PVT_EXIT_FAIL;
    } else {
        status = serve_loop(&o, pool, &waitmask);
    }
    o.ops->destroy(pool);
    pvt_plan_free(plan);
    return status;
}
