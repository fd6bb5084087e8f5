/*
 * load_cfg.c: what pvt_load_run accepts (load.h), checked as a whole before
 * anything is set up; load.c then only reads a configuration that passed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "load.h"

/* A path the request line can carry: '/' first, no space or control. */
static int path_ok(const char *path)
{
    const char *p;

    if (!path || path[0] != '/' || strlen(path) > 2048)
        return 0;
    for (p = path; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return 0;
    return 1;
}

static int stream_ok(const char *path, int conns, double rate)
{
    return path_ok(path) && conns >= 1 && conns <= PVT_LOAD_MAX_CONNS && rate >= 0 && rate <= 1e9;
}

int pvt__load_conns(const struct pvt_load_cfg *cfg)
{
    int i, n = 0;

    for (i = 0; i < cfg->nstreams; i++)
        n += cfg->streams[i].connections;
    return cfg->nstreams ? n : cfg->connections;
}

/* URL's path as the one stream, or cfg->streams. */
static int streams_ok(const struct pvt_load_cfg *cfg)
{
    const struct pvt_load_stream *s;
    int i, total = 0;

    if (cfg->nstreams == 0)
        return stream_ok(cfg->path, cfg->connections, cfg->rate);
    if (cfg->nstreams < 0 || cfg->nstreams > PVT_LOAD_MAX_STREAMS || !cfg->streams ||
        cfg->mix_rate != 0)
        return 0;
    for (i = 0; i < cfg->nstreams; i++) {
        s = &cfg->streams[i];
        if (!stream_ok(s->path, s->connections, s->rate))
            return 0;
        total += s->connections;
        if (total > PVT_LOAD_MAX_CONNS)
            return 0;
    }
    return 1;
}

int pvt__load_check_cfg(const struct pvt_load_cfg *cfg, struct sockaddr_in *addr)
{
    if (!cfg || !cfg->host)
        return -EINVAL;
    if (cfg->mix_rate != 0 &&
        (!(cfg->mix_rate > 0) || cfg->mix_rate > 1 || !path_ok(cfg->mix_path)))
        return -EINVAL;
    memset(addr, 0, sizeof(*addr));
    addr->sin_family = AF_INET;
    addr->sin_port = htons(cfg->port);
    if (inet_pton(AF_INET, cfg->host, &addr->sin_addr) != 1 ||
        (ntohl(addr->sin_addr.s_addr) >> 24) != 127 || cfg->port == 0)
        return -EINVAL;
    if (!streams_ok(cfg))
        return -EINVAL;
    if (cfg->threads < 1 || cfg->threads > PVT_LOAD_MAX_THREADS ||
        pvt__load_conns(cfg) < cfg->threads)
        return -EINVAL;
    if ((cfg->duration_ms > 0) == (cfg->requests > 0) || cfg->timeout_ms == 0 ||
        cfg->duration_ms > 1000ull * 86400 * 365 || cfg->timeout_ms > 1000ull * 86400)
        return -EINVAL;
    if (cfg->pin && CPU_COUNT(&cfg->cpus) == 0)
        return -EINVAL;
    return 0;
}
