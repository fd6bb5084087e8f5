/*
 * cmd_ctl.c: `pvt ctl SOCKET status|restart|scale +N|-N|stop`: talk to a
 * running `pvt serve` through the control socket its ready line names
 * (ctl.h has the protocol).
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/common/cli.h"
#include "ctl.h"

#define CMD "ctl"
#define CALL_TIMEOUT_MS 5000

static void help(void)
{
    printf("usage: pvt ctl SOCKET status [--json]\n"
           "       pvt ctl SOCKET restart [--batch N]\n"
           "       pvt ctl SOCKET scale +N|-N\n"
           "       pvt ctl SOCKET stop\n\n"
           "Controls a running 'pvt serve', through the socket its ready line names\n"
           "(ready port=P pid=PID ctl=SOCKET).\n\n"
           "  status      one line per worker: slot, pid (proc) or tid (thread), bound CPUs,\n"
           "              state, requests, RSS, restarts, uptime (with --offload, once it\n"
           "              took a request: each worker's jobs offloaded, completed, failed,\n"
           "              and requests rejected with 503)\n"
           "  restart     rolling restart, as SIGHUP: each worker is replaced in turn, the\n"
           "              replacement accepting before its predecessor stops; returns at once\n"
           "  scale +N    start N more workers (up to pvt serve --max-workers)\n"
           "  scale -N    drain and stop the N highest workers (one always stays)\n"
           "  stop        graceful stop, as SIGTERM\n\n"
           "      --json      status: the server's JSON reply as is\n"
           "      --batch N   restart: replace N workers at a time (default 1)\n"
           "  -h, --help      this help\n\n"
           "Exit status: 0 done, 1 the server refused or could not be reached, 2 usage error.\n");
}

/* pvt serve --offload: each worker's job pool, once any took a request. */
static void print_offload(json_t *workers)
{
    json_t *w;
    size_t i;
    int any = 0;

    json_array_foreach(workers, i, w) {
        any |= json_integer_value(json_object_get(w, "offloaded")) != 0 ||
               json_integer_value(json_object_get(w, "offload_rejected")) != 0;
    }
    if (!any)
        return;
    printf("%-5s %10s %10s %8s %9s\n", "slot", "offloaded", "completed", "failed", "rejected");
    json_array_foreach(workers, i, w) {
        printf("%-5d %10lld %10lld %8lld %9lld\n",
               (int)json_integer_value(json_object_get(w, "slot")),
               (long long)json_integer_value(json_object_get(w, "offloaded")),
               (long long)json_integer_value(json_object_get(w, "offload_completed")),
               (long long)json_integer_value(json_object_get(w, "offload_failed")),
               (long long)json_integer_value(json_object_get(w, "offload_rejected")));
    }
}

static void print_status(json_t *r)
{
    json_t *w;
    size_t i;

    printf("%s server pid %d, port %d: %d live, %d rolling, %d draining\n",
           json_string_value(json_object_get(r, "backend")),
           (int)json_integer_value(json_object_get(r, "pid")),
           (int)json_integer_value(json_object_get(r, "port")),
           (int)json_integer_value(json_object_get(r, "live")),
           (int)json_integer_value(json_object_get(r, "rolling")),
           (int)json_integer_value(json_object_get(r, "draining")));
    printf("%-5s %-8s %-10s %-9s %10s %9s %8s %10s\n", "slot", "pid/tid", "cpus", "state",
           "requests", "rss_kb", "restarts", "uptime_s");
    json_array_foreach(json_object_get(r, "workers"), i, w) {
        json_t *id = json_object_get(w, "pid");
        printf("%-5d %-8d %-10s %-9s %10lld %9lld %8d %10.1f\n",
               (int)json_integer_value(json_object_get(w, "slot")),
               (int)json_integer_value(id ? id : json_object_get(w, "tid")),
               json_string_value(json_object_get(w, "cpus")),
               json_string_value(json_object_get(w, "state")),
               (long long)json_integer_value(json_object_get(w, "requests")),
               (long long)json_integer_value(json_object_get(w, "rss_kb")),
               (int)json_integer_value(json_object_get(w, "restarts")),
               json_real_value(json_object_get(w, "uptime_s")));
    }
    print_offload(json_object_get(r, "workers"));
}

/* +N or -N, as the argument of scale. */
static long scale_arg(const char *s)
{
    if (s[0] != '+' && s[0] != '-')
        pvt_usage_error(CMD, "scale: '%s' is not +N or -N", s);
    return (s[0] == '-' ? -1 : 1) * pvt_cli_long(CMD, "scale", s + 1, 0, 1024);
}

static const struct option opts[] = {
    {"json", no_argument, NULL, 'j'},
    {"batch", required_argument, NULL, 'B'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* What the command line asks for. */
struct ctl_args {
    const char *path, *cmd;
    long delta; /* scale: +N or -N */
    long batch; /* restart --batch; 0: not given */
    int json;   /* status --json */
};

/* The flags after the command: only the command's own. */
static void command_flags(int argc, char **argv, struct ctl_args *a)
{
    int ch;

    while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (ch == 'j' && strcmp(a->cmd, "status") == 0)
            a->json = 1;
        else if (ch == 'B' && strcmp(a->cmd, "restart") == 0)
            a->batch = pvt_cli_long(CMD, "--batch", optarg, 1, 1024);
        else if (ch == 'j' || ch == 'B')
            pvt_usage_error(CMD, "%s: not an option of %s", ch == 'j' ? "--json" : "--batch",
                            a->cmd);
        else
            pvt_cli_bad_option(CMD, ch, opts, argv);
    }
    if (optind < argc)
        pvt_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
}

/* SOCKET, the command, its argument and flags into a, checked; 1 when
 * --help was asked for (and printed). */
static int parse_args(int argc, char **argv, struct ctl_args *a)
{
    int ch;

    opterr = 0;
    optind = 0;
    /* "+" stops at the first operand, so "-1" after scale is not an option. */
    while ((ch = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
        if (ch == 'h') {
            help();
            return 1;
        }
        pvt_cli_bad_option(CMD, ch, opts, argv);
    }
    if (argc - optind < 2)
        pvt_usage_error(CMD, "missing %s (pvt ctl SOCKET status|restart|scale +N|-N|stop)",
                        argc - optind < 1 ? "SOCKET" : "command");
    a->path = argv[optind++];
    a->cmd = argv[optind++];
    if (strcmp(a->cmd, "scale") == 0) {
        if (optind >= argc)
            pvt_usage_error(CMD, "scale: missing +N or -N");
        a->delta = scale_arg(argv[optind++]);
        if (a->delta == 0)
            pvt_usage_error(CMD, "scale: 0 changes nothing");
    } else if (strcmp(a->cmd, "status") && strcmp(a->cmd, "restart") && strcmp(a->cmd, "stop")) {
        pvt_usage_error(CMD, "unknown command '%s' (status, restart, scale or stop)", a->cmd);
    }
    command_flags(argc, argv, a);
    return 0;
}

/* The server's reply, as the command's output; the exit status. */
static int print_reply(const struct ctl_args *a, const char *reply)
{
    json_t *r = json_loads(reply, 0, NULL);
    int status = PVT_EXIT_OK;

    if (!r || !json_is_true(json_object_get(r, "ok"))) {
        const char *e = r ? json_string_value(json_object_get(r, "error")) : NULL;
        pvt_err(CMD, "%s", e ? e : "the server's reply is not JSON");
        status = PVT_EXIT_FAIL;
    } else if (a->json) {
        printf("%s\n", reply);
    } else if (strcmp(a->cmd, "status") == 0) {
        print_status(r);
    } else if (strcmp(a->cmd, "stop") == 0) {
        printf("stopping\n");
    } else {
        printf("%s: %d workers\n",
               strcmp(a->cmd, "restart") == 0 ? "rolling restart started" : "scaled",
               (int)json_integer_value(json_object_get(r, "workers")));
    }
    json_decref(r);
    return status;
}

int pvt_cmd_ctl(int argc, char **argv)
{
    struct ctl_args a = {0};
    char req[128], *reply;
    int rc, status;

    if (parse_args(argc, argv, &a))
        return PVT_EXIT_OK;
    if (a.delta)
        snprintf(req, sizeof(req), "{\"cmd\":\"scale\",\"delta\":%ld}", a.delta);
    else if (a.batch)
        snprintf(req, sizeof(req), "{\"cmd\":\"restart\",\"batch\":%ld}", a.batch);
    else
        snprintf(req, sizeof(req), "{\"cmd\":\"%s\"}", a.cmd);
    reply = malloc(PVT_CTL_MAX_REPLY);
    if (!reply) {
        pvt_err(CMD, "out of memory");
        return PVT_EXIT_FAIL;
    }
    rc = pvt_ctl_call(a.path, req, reply, PVT_CTL_MAX_REPLY, CALL_TIMEOUT_MS);
    if (rc < 0) {
        pvt_err(CMD, "%s: %s", a.path,
                rc == -ENOENT || rc == -ECONNREFUSED ? "no server listens there"
                                                     : strerror(-rc));
        free(reply);
        return PVT_EXIT_FAIL;
    }
    status = print_reply(&a, reply);
    free(reply);
    return status;
}
