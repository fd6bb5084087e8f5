/*
 * sup.c: supervision policy (sup.h). Pure functions of a configuration, a
 * slot's history and the time, so every rule is tested without a process;
 * and the RSS reader that --max-rss and /stats share.
 */
#include "sup.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

int pvt_sup_resolve(const struct pvt_sup_cfg *cfg, struct pvt_sup_cfg *out)
{
    *out = *cfg;
    if (out->backoff_ms < 0 || out->backoff_max_ms < 0 || out->loop_deaths < 0 ||
        out->loop_deaths > PVT_SUP_MAX_LOOP || out->loop_window_ms < 0 ||
        out->kill_grace_ms < 0 || out->worker_timeout_ms < 0 || out->drain_timeout_ms < 0)
        return -EINVAL;
    if (!out->backoff_ms)
        out->backoff_ms = PVT_SUP_BACKOFF_MS;
    if (!out->backoff_max_ms)
        out->backoff_max_ms = PVT_SUP_BACKOFF_MAX_MS;
    if (out->backoff_max_ms < out->backoff_ms)
        out->backoff_max_ms = out->backoff_ms;
    if (!out->loop_deaths)
        out->loop_deaths = PVT_SUP_LOOP_DEATHS;
    if (!out->loop_window_ms)
        out->loop_window_ms = PVT_SUP_LOOP_WINDOW_MS;
    if (!out->kill_grace_ms)
        out->kill_grace_ms = PVT_SUP_KILL_GRACE_MS;
    if (!out->drain_timeout_ms)
        out->drain_timeout_ms = PVT_SUP_DRAIN_TIMEOUT_MS;
    return 0;
}

int pvt_sup_on_death(const struct pvt_sup_cfg *cfg, struct pvt_sup_slot *s, uint64_t now_ns)
{
    uint64_t window = (uint64_t)cfg->loop_window_ms * 1000000u;
    unsigned i, recent = 0, n;
    uint64_t delay;

    s->deaths_ns[s->ndeaths % PVT_SUP_MAX_LOOP] = now_ns;
    s->ndeaths++;
    n = s->ndeaths < PVT_SUP_MAX_LOOP ? s->ndeaths : PVT_SUP_MAX_LOOP;
    for (i = 0; i < n; i++)
        recent += now_ns - s->deaths_ns[i] < window;
    if (recent >= (unsigned)cfg->loop_deaths) {
        s->parked = 1;
        return -1;
    }
    if (recent <= 1)
        return 0;
    delay = (uint64_t)cfg->backoff_ms << (recent - 2 < 20 ? recent - 2 : 20);
    return delay < (uint64_t)cfg->backoff_max_ms ? (int)delay : cfg->backoff_max_ms;
}

int pvt_sup_hung(const struct pvt_sup_cfg *cfg, uint64_t beat_ns, int busy, uint64_t now_ns)
{
    if (!cfg->worker_timeout_ms || !busy || !beat_ns || now_ns < beat_ns)
        return 0;
    return now_ns - beat_ns > (uint64_t)cfg->worker_timeout_ms * 1000000u;
}

uint64_t pvt_sup_job_limit(const struct pvt_sup_cfg *cfg, uint64_t *seed)
{
    uint64_t x = *seed ? *seed : 0x9e3779b97f4a7c15ull;

    if (!cfg->max_jobs)
        return 0;
    /* xorshift64: cheap, and good enough to spread recycles apart. */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *seed = x;
    return cfg->max_jobs + (cfg->max_jobs_jitter ? x % (cfg->max_jobs_jitter + 1) : 0);
}

uint32_t pvt_sup_beat_ms(const struct pvt_sup_cfg *cfg)
{
    int q = cfg->worker_timeout_ms / 4;

    if (!cfg->worker_timeout_ms)
        return 0;
    return q < 1 ? 1 : q > 100 ? 100 : (uint32_t)q;
}

long pvt_sup_rss_kb(pid_t pid)
{
    char path[64];
    long size, rss;
    FILE *f;
    int ok;

    snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
    f = fopen(path, "re");
    if (!f)
        return -1;
    ok = fscanf(f, "%ld %ld", &size, &rss) == 2;
    fclose(f);
    return ok ? rss * (sysconf(_SC_PAGESIZE) / 1024) : -1;
}
