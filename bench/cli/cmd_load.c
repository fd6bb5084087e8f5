/*
 * cmd_load.c: `pvt load URL`: options, the URL, the run, and its report
 * (text like wrk's, or DESIGN.md's JSON object, an optional .hgrm file and
 * an optional timeline in 10 ms bins).
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/common/cli.h"
#include "bench/load/load.h"
#include "shared/base/parse.h"

#define CMD "load"

struct load_opts {
    struct pvt_load_cfg cfg;
    char host[64];
    char path[2100];
    char mix_path[2100];
    const char *url;
    int json;
    const char *hgrm;
    const char *timeline;
};

static void help(void)
{
    printf("usage: pvt load URL [-c CONNS] [-t THREADS] [-d DURATION | -n REQUESTS] [-R RATE]\n"
           "                [--timeout MS] [--mix P:PATH] [--json] [--hgrm FILE]\n"
           "                [--timeline FILE]\n\n"
           "Drives an HTTP/1.1 server on loopback with keep-alive connections (wrk's design)\n"
           "and reports throughput, latency percentiles and errors by kind. URL is\n"
           "http://127.X.Y.Z:PORT/PATH (or localhost); only loopback addresses are allowed.\n\n"
           "  -c, --connections N  connections kept open (default 10, at most %d)\n"
           "  -t, --threads N      threads, each with its share of the connections\n"
           "                       (default 1, at most %d, no more than connections)\n"
           "  -d, --duration D     run this long: 10, 10s, 500ms (default 10s)\n"
           "  -n, --requests N     or send exactly N requests (each ends in a response or an error)\n"
           "  -R, --rate R         constant rate, requests/s over all connections (wrk2's open\n"
           "                       loop); latency then counts from each request's intended send\n"
           "                       time (coordinated omission corrected). Default: closed loop\n"
           "      --timeout MS     per request and per connect (default 2000)\n"
           "      --mix P:PATH     send each request to PATH instead, with probability P\n"
           "                       (0 < P <= 1; e.g. 0.001:/crash for a fault rate); the\n"
           "                       report counts them as `mixed`\n"
           "      --json           print one JSON object (the format is in the README)\n"
           "      --hgrm FILE      write the latency percentile spectrum (ms) in HdrHistogram's\n"
           "                       .hgrm text format\n"
           "      --timeline FILE  write CSV t_ms,ok,failed,p99_us,max_us per %d ms bin from the\n"
           "                       start: 2xx responses and errors of any kind in each bin,\n"
           "                       latency of its responses (p99 from log-linear buckets,\n"
           "                       at most 12.5 %% high; empty when the bin had none)\n"
           "  -h, --help           this help\n\n"
           "Exit status: 0 when the run took place (even with errors), 1 when it could not\n"
           "run (e.g. every connection refused), 2 for a usage error.\n",
           PVT_LOAD_MAX_CONNS, PVT_LOAD_MAX_THREADS, PVT_LOAD_BIN_MS);
}

/* The engine refuses these with -EINVAL; a usage error says why. */
static void check_host(const char *host)
{
    unsigned a, b, c, d;
    char extra;

    if (sscanf(host, "%u.%u.%u.%u%c", &a, &b, &c, &d, &extra) != 4 || a > 255 || b > 255 ||
        c > 255 || d > 255)
        pvt_usage_error(CMD, "URL: host '%s' is not an IPv4 address (127.x.y.z or localhost)",
                        host);
    if (a != 127)
        pvt_usage_error(CMD, "URL: only loopback addresses (127.0.0.0/8) are allowed");
}

/* http://HOST[:PORT][/PATH], HOST a 127.0.0.0/8 dotted quad or localhost. */
static void parse_url(struct load_opts *o, const char *url)
{
    const char *h = url + 7, *end, *colon;
    size_t hlen;
    long port = 80;

    if (strncmp(url, "http://", 7) != 0)
        pvt_usage_error(CMD, "URL: '%s' does not start with http://", url);
    end = h + strcspn(h, "/");
    colon = memchr(h, ':', (size_t)(end - h));
    hlen = (size_t)((colon ? colon : end) - h);
    if (hlen == 0 || hlen >= sizeof(o->host))
        pvt_usage_error(CMD, "URL: '%s' has no valid host", url);
    memcpy(o->host, h, hlen);
    o->host[hlen] = '\0';
    if (strcmp(o->host, "localhost") == 0)
        strcpy(o->host, "127.0.0.1");
    if (colon) {
        char portbuf[16];
        size_t plen = (size_t)(end - colon - 1);
        if (plen == 0 || plen >= sizeof(portbuf))
            pvt_usage_error(CMD, "URL: '%s' has no valid port", url);
        memcpy(portbuf, colon + 1, plen);
        portbuf[plen] = '\0';
        if (pvt_parse_int(portbuf, 1, 65535, &port) < 0)
            pvt_usage_error(CMD, "URL: port '%s' is not a number from 1 to 65535", portbuf);
    }
    if (strlen(*end ? end : "/") >= sizeof(o->path) - 1)
        pvt_usage_error(CMD, "URL: the path is too long");
    strcpy(o->path, *end ? end : "/");
    if (strpbrk(o->path, " \t\r\n#"))
        pvt_usage_error(CMD, "URL: the path has a space, control character or fragment");
    o->cfg.host = o->host;
    o->cfg.port = (uint16_t)port;
    o->cfg.path = o->path;
    check_host(o->host);
}

/* "10" (seconds), "10s", "500ms". */
static uint64_t parse_duration(const char *s)
{
    uint64_t ms;
    long secs;

    if (pvt_parse_int(s, 1, 86400 * 365, &secs) == 0)
        return (uint64_t)secs * 1000;
    if (pvt_parse_duration_ms(s, &ms) < 0 || ms == 0 || ms > 1000ull * 86400 * 365)
        pvt_usage_error(CMD, "--duration: '%s' is not a duration such as 10, 10s or 500ms", s);
    return ms;
}

/* --mix P:PATH: a share P (0 < P <= 1) of the requests goes to PATH. */
static void parse_mix(struct load_opts *o, const char *s)
{
    const char *colon = strchr(s, ':');
    char num[32], *end;
    double p;

    if (!colon || (size_t)(colon - s) >= sizeof(num))
        pvt_usage_error(CMD, "--mix: '%s' is not P:PATH, e.g. 0.001:/crash", s);
    memcpy(num, s, (size_t)(colon - s));
    num[colon - s] = '\0';
    errno = 0;
    p = strtod(num, &end);
    if (!*num || *end || errno || !(p > 0) || p > 1)
        pvt_usage_error(CMD, "--mix: '%s' is not a share from 0 (excluded) to 1", num);
    if (colon[1] != '/' || strlen(colon + 1) >= sizeof(o->mix_path))
        pvt_usage_error(CMD, "--mix: the path must start with '/' and be under %zu bytes",
                        sizeof(o->mix_path));
    if (strpbrk(colon + 1, " \t\r\n#"))
        pvt_usage_error(CMD, "--mix: the path has a space, control character or fragment");
    strcpy(o->mix_path, colon + 1);
    o->cfg.mix_path = o->mix_path;
    o->cfg.mix_rate = p;
}

static double parse_rate(const char *s)
{
    char *end;
    double r;

    errno = 0;
    r = strtod(s, &end);
    if (!*s || *end || errno || !(r > 0) || r > 1e8)
        pvt_usage_error(CMD, "--rate: '%s' is not a rate from 1 to 1e8 requests/s", s);
    return r;
}

enum { OPT_TIMEOUT = 256, OPT_JSON, OPT_HGRM, OPT_TIMELINE, OPT_MIX };

static const struct option opts[] = {
    {"connections", required_argument, NULL, 'c'},
    {"threads", required_argument, NULL, 't'},
    {"duration", required_argument, NULL, 'd'},
    {"requests", required_argument, NULL, 'n'},
    {"rate", required_argument, NULL, 'R'},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"json", no_argument, NULL, OPT_JSON},
    {"hgrm", required_argument, NULL, OPT_HGRM},
    {"timeline", required_argument, NULL, OPT_TIMELINE},
    {"mix", required_argument, NULL, OPT_MIX},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void parse_args(struct load_opts *o, int argc, char **argv)
{
    uint64_t n;
    int c;

    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":c:t:d:n:R:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o->cfg.connections = (int)pvt_cli_long(CMD, "--connections", optarg, 1, PVT_LOAD_MAX_CONNS);
            break;
        case 't':
            o->cfg.threads = (int)pvt_cli_long(CMD, "--threads", optarg, 1, PVT_LOAD_MAX_THREADS);
            break;
        case 'd':
            o->cfg.duration_ms = parse_duration(optarg);
            break;
        case 'n':
            if (pvt_parse_count(optarg, &n) < 0 || n == 0 || n > 1000000000000ull)
                pvt_usage_error(CMD, "--requests: '%s' is not a count from 1 to 1T", optarg);
            o->cfg.requests = n;
            break;
        case 'R':
            o->cfg.rate = parse_rate(optarg);
            break;
        case OPT_TIMEOUT:
            o->cfg.timeout_ms = (uint64_t)pvt_cli_long(CMD, "--timeout", optarg, 1, 3600000);
            break;
        case OPT_JSON:
            o->json = 1;
            break;
        case OPT_HGRM:
            if (!*optarg)
                pvt_usage_error(CMD, "--hgrm: empty file name");
            o->hgrm = optarg;
            break;
        case OPT_TIMELINE:
            if (!*optarg)
                pvt_usage_error(CMD, "--timeline: empty file name");
            o->timeline = optarg;
            o->cfg.timeline = 1;
            break;
        case OPT_MIX:
            parse_mix(o, optarg);
            break;
        case 'h':
            help();
            exit(PVT_EXIT_OK);
        default:
            pvt_cli_bad_option(CMD, c, opts, argv);
        }
    }
    if (optind >= argc)
        pvt_usage_error(CMD, "URL: missing (e.g. http://127.0.0.1:8080/)");
    o->url = argv[optind++];
    if (optind < argc)
        pvt_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
}

static json_t *lat_json(const struct pvt_load_lat *l)
{
    return json_pack("{sIsIsIsIsIsf}", "p50", (json_int_t)l->p50, "p90", (json_int_t)l->p90,
                     "p99", (json_int_t)l->p99, "p999", (json_int_t)l->p999, "max",
                     (json_int_t)l->max, "mean", l->mean);
}

static int print_json(const struct pvt_load_result *r)
{
    json_t *o = json_pack("{sIs{sIsIsIsIsI}sfsfsososIsI}", "requests", (json_int_t)r->requests,
                          "errors", "connect", (json_int_t)r->err_connect, "read",
                          (json_int_t)r->err_read, "write", (json_int_t)r->err_write, "timeout",
                          (json_int_t)r->err_timeout, "status", (json_int_t)r->err_status,
                          "seconds", r->seconds, "requests_per_s", r->requests_per_s,
                          "latency_us", lat_json(&r->lat), "latency_uncorrected_us",
                          lat_json(&r->lat_uncorrected), "start_monotonic_ns",
                          (json_int_t)r->start_ns, "mixed", (json_int_t)r->mixed);
    int rc;

    if (!o)
        return -ENOMEM;
    rc = json_dumpf(o, stdout, JSON_PRESERVE_ORDER);
    json_decref(o);
    if (rc < 0 || fputc('\n', stdout) == EOF || fflush(stdout) == EOF)
        return -EIO;
    return 0;
}

static void print_lat(const char *name, const struct pvt_load_lat *l)
{
    printf("    %-11s %9llu %9llu %9llu %9llu %9llu\n", name, (unsigned long long)l->p50,
           (unsigned long long)l->p90, (unsigned long long)l->p99, (unsigned long long)l->p999,
           (unsigned long long)l->max);
}

static void print_text(const struct load_opts *o, const struct pvt_load_result *r)
{
    const struct pvt_load_cfg *c = &o->cfg;

    printf("Running %s @ %s\n  %d threads and %d connections, %s\n",
           c->requests ? "a fixed-count test" : "a timed test", o->url, c->threads, c->connections,
           c->rate > 0 ? "constant rate (open loop)" : "closed loop");
    if (c->rate > 0)
        printf("  target rate %.1f requests/s\n", c->rate);
    printf("  Latency (us)       p50       p90       p99     p99.9       max\n");
    print_lat("corrected", &r->lat);
    if (c->rate > 0)
        print_lat("uncorrected", &r->lat_uncorrected);
    printf("  %llu requests in %.2fs\n", (unsigned long long)r->requests, r->seconds);
    printf("  Errors: connect %llu, read %llu, write %llu, timeout %llu, status %llu\n",
           (unsigned long long)r->err_connect, (unsigned long long)r->err_read,
           (unsigned long long)r->err_write, (unsigned long long)r->err_timeout,
           (unsigned long long)r->err_status);
    if (c->mix_rate > 0)
        printf("  %llu requests sent to %s (--mix %g)\n", (unsigned long long)r->mixed,
               c->mix_path, c->mix_rate);
    printf("Requests/sec: %.2f\n", r->requests_per_s);
}

static int hgrm_cb(FILE *f, const void *arg)
{
    return pvt_hist_write_hgrm(arg, f, 1000.0);
}

static int timeline_cb(FILE *f, const void *arg)
{
    const struct pvt_load_result *r = arg;
    size_t i;

    fputs("t_ms,ok,failed,p99_us,max_us\n", f);
    for (i = 0; i < r->nbins; i++) {
        const struct pvt_load_bin *b = &r->bins[i];
        fprintf(f, "%zu,%u,%u,", i * PVT_LOAD_BIN_MS, b->ok, b->failed);
        if (b->max_us)
            fprintf(f, "%llu,%u\n", (unsigned long long)pvt_load_bin_percentile(b, 99), b->max_us);
        else
            fputs(",\n", f);
    }
    return ferror(f) ? -EIO : 0;
}

/* Written to FILE.tmp and renamed, so no half file is ever left. */
static int write_file(const char *path, int (*fill)(FILE *, const void *), const void *arg)
{
    char tmp[4200];
    FILE *f;
    int rc;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return -ENAMETOOLONG;
    f = fopen(tmp, "we");
    if (!f)
        return -errno;
    rc = fill(f, arg);
    if (fclose(f) == EOF && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -errno;
    if (rc < 0)
        unlink(tmp);
    return rc;
}

int pvt_cmd_load(int argc, char **argv)
{
    struct load_opts o = {.cfg = {.connections = 10, .threads = 1, .timeout_ms = 2000}};
    struct pvt_load_result r;
    int rc, status = PVT_EXIT_OK;

    parse_args(&o, argc, argv);
    parse_url(&o, o.url);
    if (o.cfg.duration_ms && o.cfg.requests)
        pvt_usage_error(CMD, "--duration and --requests: give one of them, not both");
    if (!o.cfg.duration_ms && !o.cfg.requests)
        o.cfg.duration_ms = 10000;
    if (o.cfg.threads > o.cfg.connections)
        pvt_usage_error(CMD, "--threads: %d threads need at least as many connections (-c %d)",
                        o.cfg.threads, o.cfg.connections);
    rc = pvt_load_run(&o.cfg, &r);
    if (rc < 0) {
        pvt_err(CMD, "could not run: %s", strerror(-rc));
        return PVT_EXIT_FAIL;
    }
    if (r.connects == 0 && r.requests == 0) {
        pvt_err(CMD, "could not connect to %s:%u (%llu connect errors, %llu timeouts)", o.host,
                (unsigned)o.cfg.port, (unsigned long long)r.err_connect,
                (unsigned long long)r.err_timeout);
        pvt_load_result_free(&r);
        return PVT_EXIT_FAIL;
    }
    if (o.json ? print_json(&r) < 0 : (print_text(&o, &r), fflush(stdout) == EOF)) {
        pvt_err(CMD, "could not write the report to stdout");
        status = PVT_EXIT_FAIL;
    }
    if (o.hgrm && (rc = write_file(o.hgrm, hgrm_cb, r.hist)) < 0) {
        pvt_err(CMD, "--hgrm: could not write '%s': %s", o.hgrm, strerror(-rc));
        status = PVT_EXIT_FAIL;
    }
    if (o.timeline && (rc = write_file(o.timeline, timeline_cb, &r)) < 0) {
        pvt_err(CMD, "--timeline: could not write '%s': %s", o.timeline, strerror(-rc));
        status = PVT_EXIT_FAIL;
    }
    pvt_load_result_free(&r);
    return status;
}
