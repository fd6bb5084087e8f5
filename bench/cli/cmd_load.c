/*
 * cmd_load.c: `pvt load URL`: options, the URL, the run, and its report
 * (text like wrk's, or DESIGN.md's JSON object, an optional .hgrm file and
 * an optional timeline in 10 ms bins), with a block, a JSON object, a .hgrm
 * file and timeline rows per stream when --stream is given.
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
    struct pvt_load_stream streams[PVT_LOAD_MAX_STREAMS];
    char spath[PVT_LOAD_MAX_STREAMS][2100];
    int nstreams;
    const char *loop_flag; /* -c, -R or --mix as given: none combines with --stream */
    int json;
    const char *hgrm;
    const char *timeline;
};

static void help(void)
{
    printf("usage: pvt load URL [-c CONNS] [-t THREADS] [-d DURATION | -n REQUESTS] [-R RATE]\n"
           "                [--timeout MS] [--mix P:PATH] [--json] [--hgrm FILE]\n"
           "                [--timeline FILE]\n"
           "       pvt load URL --stream PATH:c=CONNS[:R=RATE] [--stream ...] [-t THREADS]\n"
           "                [-d DURATION | -n REQUESTS] [--timeout MS] [--json] [--hgrm FILE]\n"
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
           "      --stream PATH:c=CONNS[:R=RATE]\n"
           "                       a stream: CONNS connections of its own that only send PATH,\n"
           "                       at RATE requests/s (open loop, corrected as -R) or closed\n"
           "                       loop, measured apart (repeatable, at most %d streams, %d\n"
           "                       connections in all). With --stream, URL gives only the host\n"
           "                       and port (its path is ignored), -c, -R and --mix are refused,\n"
           "                       -n counts all streams' requests, and -d ends every stream.\n"
           "                       E.g. --stream /:c=4:R=200 --stream '/cpu?n=800000000:c=1'\n"
           "      --json           print one JSON object (the format is in the README)\n"
           "      --hgrm FILE      write the latency percentile spectrum (ms) in HdrHistogram's\n"
           "                       .hgrm text format; with streams also stream I's, in FILE with\n"
           "                       .sI before its extension (lat.hgrm: lat.s0.hgrm, lat.s1.hgrm)\n"
           "      --timeline FILE  write CSV t_ms,ok,failed,p99_us,max_us per %d ms bin from the\n"
           "                       start: 2xx responses and errors of any kind in each bin,\n"
           "                       latency of its responses (p99 from log-linear buckets,\n"
           "                       at most 12.5 %% high; empty when the bin had none). With\n"
           "                       streams: t_ms,stream,ok,... one row per bin and stream\n"
           "                       (stream: its number in --stream order, from 0)\n"
           "  -h, --help           this help\n\n"
           "Exit status: 0 when the run took place (even with errors), 1 when it could not\n"
           "run (e.g. every connection refused), 2 for a usage error.\n",
           PVT_LOAD_MAX_CONNS, PVT_LOAD_MAX_THREADS, PVT_LOAD_MAX_STREAMS, PVT_LOAD_MAX_CONNS,
           PVT_LOAD_BIN_MS);
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

static double parse_rate(const char *flag, const char *s)
{
    char *end;
    double r;

    errno = 0;
    r = strtod(s, &end);
    if (!*s || *end || errno || !(r > 0) || r > 1e8)
        pvt_usage_error(CMD, "%s: '%s' is not a rate from 1 to 1e8 requests/s", flag, s);
    return r;
}

/* One key=value after the path of --stream; 0 when it is not one. */
static int stream_key(struct pvt_load_stream *st, const char *kv, const char *arg)
{
    if (strncmp(kv, "c=", 2) == 0) {
        if (st->connections)
            pvt_usage_error(CMD, "--stream: '%s' gives c= twice", arg);
        st->connections = (int)pvt_cli_long(CMD, "--stream c=", kv + 2, 1, PVT_LOAD_MAX_CONNS);
        return 1;
    }
    if (strncmp(kv, "R=", 2) == 0) {
        if (st->rate > 0)
            pvt_usage_error(CMD, "--stream: '%s' gives R= twice", arg);
        st->rate = parse_rate("--stream R=", kv + 2);
        return 1;
    }
    return 0;
}

/* --stream PATH:c=CONNS[:R=RATE]: the keys are read from the right, so PATH
 * may hold a ':' of its own. */
static void parse_stream(struct load_opts *o, const char *arg)
{
    struct pvt_load_stream *st = &o->streams[o->nstreams];
    char *path = o->spath[o->nstreams], *colon;
    int total = 0, i;

    if (o->nstreams == PVT_LOAD_MAX_STREAMS)
        pvt_usage_error(CMD, "--stream: at most %d streams", PVT_LOAD_MAX_STREAMS);
    if (strlen(arg) >= sizeof(o->spath[0]))
        pvt_usage_error(CMD, "--stream: '%.40s...' is too long", arg);
    strcpy(path, arg);
    while ((colon = strrchr(path, ':')) && stream_key(st, colon + 1, arg))
        *colon = '\0';
    if (!st->connections)
        pvt_usage_error(CMD, "--stream: '%s' is not PATH:c=CONNS[:R=RATE], e.g. /:c=4:R=200", arg);
    if (path[0] != '/')
        pvt_usage_error(CMD, "--stream: the path '%s' does not start with '/'", path);
    if (strpbrk(path, " \t\r\n#"))
        pvt_usage_error(CMD, "--stream: the path has a space, control character or fragment");
    st->path = path;
    for (i = 0; i <= o->nstreams; i++)
        total += o->streams[i].connections;
    if (total > PVT_LOAD_MAX_CONNS)
        pvt_usage_error(CMD, "--stream: the streams have %d connections in all, more than %d",
                        total, PVT_LOAD_MAX_CONNS);
    o->nstreams++;
}

enum { OPT_TIMEOUT = 256, OPT_JSON, OPT_HGRM, OPT_TIMELINE, OPT_MIX, OPT_STREAM };

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
    {"stream", required_argument, NULL, OPT_STREAM},
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
            o->loop_flag = "-c/--connections";
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
            o->cfg.rate = parse_rate("--rate", optarg);
            o->loop_flag = "-R/--rate";
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
            o->loop_flag = "--mix";
            break;
        case OPT_STREAM:
            parse_stream(o, optarg);
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

static json_t *errors_json(const struct pvt_load_result *r)
{
    return json_pack("{sIsIsIsIsI}", "connect", (json_int_t)r->err_connect, "read",
                     (json_int_t)r->err_read, "write", (json_int_t)r->err_write, "timeout",
                     (json_int_t)r->err_timeout, "status", (json_int_t)r->err_status);
}

/* "streams": one object per stream, in --stream order. */
static json_t *streams_json(const struct load_opts *o, const struct pvt_load_result *r)
{
    json_t *a = json_array(), *s;
    int i;

    for (i = 0; a && i < r->nstreams; i++) {
        const struct pvt_load_stream *st = &o->streams[i];
        const struct pvt_load_result *sr = &r->streams[i];
        s = json_pack("{sssisosIsosfsoso}", "path", st->path, "connections", st->connections,
                      "rate", st->rate > 0 ? json_real(st->rate) : json_null(), "requests",
                      (json_int_t)sr->requests, "errors", errors_json(sr), "requests_per_s",
                      sr->requests_per_s, "latency_us", lat_json(&sr->lat),
                      "latency_uncorrected_us", lat_json(&sr->lat_uncorrected));
        if (!s || json_array_append_new(a, s) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static int print_json(const struct load_opts *o, const struct pvt_load_result *r)
{
    json_t *j = json_pack(
        "{sIsosfsfsososIsI}", "requests", (json_int_t)r->requests, "errors", errors_json(r),
        "seconds", r->seconds, "requests_per_s", r->requests_per_s, "latency_us", lat_json(&r->lat),
        "latency_uncorrected_us", lat_json(&r->lat_uncorrected), "start_monotonic_ns",
        (json_int_t)r->start_ns, "mixed", (json_int_t)r->mixed);
    int rc;

    if (j && r->nstreams && json_object_set_new(j, "streams", streams_json(o, r)) < 0) {
        json_decref(j);
        j = NULL;
    }
    if (!j)
        return -ENOMEM;
    rc = json_dumpf(j, stdout, JSON_PRESERVE_ORDER);
    json_decref(j);
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

static void print_errors(const char *indent, const struct pvt_load_result *r)
{
    printf("%sErrors: connect %llu, read %llu, write %llu, timeout %llu, status %llu\n", indent,
           (unsigned long long)r->err_connect, (unsigned long long)r->err_read,
           (unsigned long long)r->err_write, (unsigned long long)r->err_timeout,
           (unsigned long long)r->err_status);
}

/* The connections of the run: -c, or the streams' sum. */
static int opt_conns(const struct load_opts *o)
{
    int i, n = 0;

    for (i = 0; i < o->nstreams; i++)
        n += o->streams[i].connections;
    return o->nstreams ? n : o->cfg.connections;
}

/* Whether any request was paced (the uncorrected figures then differ). */
static int any_open(const struct load_opts *o)
{
    int i;

    for (i = 0; i < o->nstreams; i++)
        if (o->streams[i].rate > 0)
            return 1;
    return o->nstreams == 0 && o->cfg.rate > 0;
}

/* One block per stream, after the totals. */
static void print_streams(const struct load_opts *o, const struct pvt_load_result *r)
{
    int i;

    for (i = 0; i < r->nstreams; i++) {
        const struct pvt_load_stream *st = &o->streams[i];
        const struct pvt_load_result *sr = &r->streams[i];
        printf("Stream %d: %s, %d connection%s, ", i, st->path, st->connections,
               st->connections == 1 ? "" : "s");
        if (st->rate > 0)
            printf("constant rate %.1f requests/s (open loop)\n", st->rate);
        else
            printf("closed loop\n");
        printf("  %llu requests, %.2f requests/s\n", (unsigned long long)sr->requests,
               sr->requests_per_s);
        printf("  Latency (us)       p50       p90       p99     p99.9       max\n");
        print_lat("corrected", &sr->lat);
        if (st->rate > 0)
            print_lat("uncorrected", &sr->lat_uncorrected);
        print_errors("  ", sr);
    }
}

static void print_text(const struct load_opts *o, const struct pvt_load_result *r)
{
    const struct pvt_load_cfg *c = &o->cfg;

    printf("Running %s @ %s\n  %d threads and %d connections, ",
           c->requests ? "a fixed-count test" : "a timed test", o->url, c->threads, opt_conns(o));
    if (o->nstreams)
        printf("%d streams\n", o->nstreams);
    else
        printf("%s\n", c->rate > 0 ? "constant rate (open loop)" : "closed loop");
    if (!o->nstreams && c->rate > 0)
        printf("  target rate %.1f requests/s\n", c->rate);
    printf("  Latency (us)       p50       p90       p99     p99.9       max\n");
    print_lat("corrected", &r->lat);
    if (any_open(o))
        print_lat("uncorrected", &r->lat_uncorrected);
    printf("  %llu requests in %.2fs\n", (unsigned long long)r->requests, r->seconds);
    print_errors("  ", r);
    if (c->mix_rate > 0)
        printf("  %llu requests sent to %s (--mix %g)\n", (unsigned long long)r->mixed,
               c->mix_path, c->mix_rate);
    printf("Requests/sec: %.2f\n", r->requests_per_s);
    print_streams(o, r);
}

static int hgrm_cb(FILE *f, const void *arg)
{
    return pvt_hist_write_hgrm(arg, f, 1000.0);
}

static void bin_row(FILE *f, const struct pvt_load_bin *b)
{
    fprintf(f, "%u,%u,", b->ok, b->failed);
    if (b->max_us)
        fprintf(f, "%llu,%u\n", (unsigned long long)pvt_load_bin_percentile(b, 99), b->max_us);
    else
        fputs(",\n", f);
}

static int timeline_cb(FILE *f, const void *arg)
{
    const struct pvt_load_result *r = arg;
    size_t i;

    fputs("t_ms,ok,failed,p99_us,max_us\n", f);
    for (i = 0; i < r->nbins; i++) {
        fprintf(f, "%zu,", i * PVT_LOAD_BIN_MS);
        bin_row(f, &r->bins[i]);
    }
    return ferror(f) ? -EIO : 0;
}

/* With streams: a row per bin and stream, the streams in order within a bin. */
static int stream_timeline_cb(FILE *f, const void *arg)
{
    const struct pvt_load_result *r = arg;
    size_t i, n = 0;
    int s;

    for (s = 0; s < r->nstreams; s++)
        n = r->streams[s].nbins > n ? r->streams[s].nbins : n;
    fputs("t_ms,stream,ok,failed,p99_us,max_us\n", f);
    for (i = 0; i < n; i++) {
        for (s = 0; s < r->nstreams; s++) {
            static const struct pvt_load_bin none;
            fprintf(f, "%zu,%d,", i * PVT_LOAD_BIN_MS, s);
            bin_row(f, i < r->streams[s].nbins ? &r->streams[s].bins[i] : &none);
        }
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

/* Stream i's .hgrm file: FILE with ".sI" before the extension of its name
 * (lat.hgrm: lat.s0.hgrm), or after the name when it has none. */
static int stream_hgrm_name(const char *file, int i, char *out, size_t size)
{
    const char *base = strrchr(file, '/'), *dot;
    int n;

    base = base ? base + 1 : file;
    dot = strrchr(base, '.');
    if (!dot || dot == base)
        dot = base + strlen(base);
    n = snprintf(out, size, "%.*s.s%d%s", (int)(dot - file), file, i, dot);
    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* --hgrm and --timeline; 0, or PVT_EXIT_FAIL once one could not be written. */
static int write_files(const struct load_opts *o, const struct pvt_load_result *r)
{
    char name[4200];
    int i, rc, status = PVT_EXIT_OK;

    if (o->hgrm && (rc = write_file(o->hgrm, hgrm_cb, r->hist)) < 0) {
        pvt_err(CMD, "--hgrm: could not write '%s': %s", o->hgrm, strerror(-rc));
        status = PVT_EXIT_FAIL;
    }
    for (i = 0; o->hgrm && i < r->nstreams; i++) {
        if ((rc = stream_hgrm_name(o->hgrm, i, name, sizeof(name))) == 0)
            rc = write_file(name, hgrm_cb, r->streams[i].hist);
        if (rc < 0) {
            pvt_err(CMD, "--hgrm: could not write stream %d's file: %s", i, strerror(-rc));
            status = PVT_EXIT_FAIL;
        }
    }
    if (o->timeline &&
        (rc = write_file(o->timeline, r->nstreams ? stream_timeline_cb : timeline_cb, r)) < 0) {
        pvt_err(CMD, "--timeline: could not write '%s': %s", o->timeline, strerror(-rc));
        status = PVT_EXIT_FAIL;
    }
    return status;
}

/* The whole command line, checked before anything runs. */
static void check_opts(struct load_opts *o)
{
    if (o->cfg.duration_ms && o->cfg.requests)
        pvt_usage_error(CMD, "--duration and --requests: give one of them, not both");
    if (!o->cfg.duration_ms && !o->cfg.requests)
        o->cfg.duration_ms = 10000;
    if (o->nstreams && o->loop_flag)
        pvt_usage_error(CMD,
                        "--stream: %s does not combine with --stream (each stream has "
                        "its own c= and R=)",
                        o->loop_flag);
    if (o->nstreams) {
        o->cfg.streams = o->streams;
        o->cfg.nstreams = o->nstreams;
    }
    if (o->cfg.threads > opt_conns(o))
        pvt_usage_error(CMD, "--threads: %d threads need at least as many connections (%s %d)",
                        o->cfg.threads, o->nstreams ? "the streams have" : "-c", opt_conns(o));
}

int pvt_cmd_load(int argc, char **argv)
{
    struct load_opts o = {.cfg = {.connections = 10, .threads = 1, .timeout_ms = 2000}};
    struct pvt_load_result r;
    int rc, status = PVT_EXIT_OK;

    parse_args(&o, argc, argv);
    parse_url(&o, o.url);
    check_opts(&o);
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
    if (o.json ? print_json(&o, &r) < 0 : (print_text(&o, &r), fflush(stdout) == EOF)) {
        pvt_err(CMD, "could not write the report to stdout");
        status = PVT_EXIT_FAIL;
    }
    if (write_files(&o, &r) != PVT_EXIT_OK)
        status = PVT_EXIT_FAIL;
    pvt_load_result_free(&r);
    return status;
}
