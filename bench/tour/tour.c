/*
 * tour.c: the lessons of pvt tour, and the tour's report.md.
 *
 * A lesson is a `pvt bench` command sized to run in well under a minute on
 * a 2-core machine (--quick: a few seconds), on a machine of any size: the
 * worker sweeps come from the CPUs allowed (1 .. N, pvt bench's default).
 * The report gathers, per lesson, the claim it tests, the command, the
 * verdicts computed from what was measured and the key plots.
 */
#include "tour.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/modes/modes.h"
#include "bench/report/report.h"
#include "bench/report/report_int.h"
#include "bench/results/res.h"
#include "bench/results/rundir.h"

const struct pvt_lesson pvt__tour_lessons[] = {
    {"scaling", "Scaling and dispatch cost: jobs through each backend's queue",
     "One process uses one core, N workers use N cores and multiply throughput; and handing "
     "a job to a thread is cheaper than handing it to a process.",
     "docs/lessons/scaling.md, docs/lessons/dispatch.md",
     "--mode tasks --backend proc,thread --workload noop,cpu:1M --repeat 5",
     "--mode tasks --backend proc,thread --workload noop,cpu:1M --repeat 3",
     18, 10, {"scaling-cpu", "scaling-noop"}},
    {"concurrency-table", "The seeds' concurrency table: one worker against N, 1 to 16 "
     "connections",
     "A table in the articles: 1 process against 8 workers at concurrency 1 to 16, the cluster "
     "up to 4x faster.",
     "docs/lessons/concurrency-table.md",
     "--mode http --preset concurrency-table --concurrency 1,4,16 --duration 1 --repeat 1 "
     "--warmup 0",
     "--mode http --preset concurrency-table --workload cpu:1M --concurrency 1,16 --duration 1 "
     "--repeat 1 --warmup 0",
     25, 10, {"concurrency-cpu", "concurrency-root"}},
    {"heavy-burst", "The seeds' heavy burst: 1200 CPU-heavy requests, 400 at a time",
     "One process fails about half of the burst with a mean latency of ~30 s; a cluster fails "
     "none and is ~6x better (the articles' route runs 50 M iterations; the tour's, 5 M).",
     "docs/lessons/heavy-burst.md", "--mode http --preset heavy-burst --workload cpu:5000000",
     "--mode http --preset heavy-burst --workload cpu:2000000", 25, 12, {"burst"}},
    {"fairness", "Who spreads the connections: kernel-shared accept, SO_REUSEPORT, round robin",
     "The articles disagree: the OS distributes connections; no, the primary does, round robin; "
     "or the OS, by round robin or least connections.",
     "docs/lessons/fairness.md",
     "--mode http --distribution shared,reuseport,rr --workers {W} --concurrency 64 "
     "--duration 500ms --repeat 3",
     "--mode http --distribution shared,reuseport,rr --workers {W} --concurrency 64 "
     "--duration 300ms --repeat 2",
     15, 8, {"share-", "latency-"}},
    {"faults", "Crash isolation, hangs and leaks under load",
     "A crashed worker process is replaced and the service stays up; threads have no crash "
     "isolation.",
     "docs/lessons/faults.md",
     "--mode fault --fault crash,hang,leak,recycle --repeat 2 --duration 2",
     "--mode fault --fault crash,hang --repeat 1 --duration 2", 35, 12,
     {"timeline-crash-zoom", "timeline-hang", "fault-failed"}},
    {"rolling-restart", "A rolling restart under load: every worker replaced, one at a time",
     "Restart workers one at a time for (almost) zero downtime.",
     "docs/lessons/rolling-restart.md", "--mode fault --fault restart --repeat 3",
     "--mode fault --fault restart --repeat 1 --duration 2", 15, 6,
     {"timeline-restart-zoom", "fault-failed"}},
    {"shared-state", "Shared state: one counter bumped by every worker, kept six ways",
     "Workers share no memory, so in-memory counters and sessions break; threads share memory.",
     "docs/lessons/shared-state.md", "--mode state --repeat 5",
     "--mode state --target 100ms --repeat 3", 20, 8, {"state-counted", "state-cost"}},
    {"cost", "The cost of each model: start-up, memory, copy-on-write, scheduling, IPC",
     "Processes cost more memory and start slower than threads.", "docs/lessons/cost.md",
     "--mode cost", "--mode cost --preset quick", 40, 12,
     {"startup", "memory", "cow", "ipc"}},
    {"event-loop", "The event loop: light requests beside a heavy one, inline or offloaded",
     "HTTP scaling: cluster; CPU-heavy work: worker threads, because a CPU-bound route blocks "
     "the event loop and every other request waits behind it.",
     "docs/lessons/event-loop.md", "--mode loop --duration 4 --repeat 2",
     "--mode loop --duration 2 --repeat 1 --warmup 0", 90, 35,
     {"light-p99", "light-latency", "heavy-throughput"}},
};
const int pvt__tour_nlessons = (int)(sizeof(pvt__tour_lessons) / sizeof(pvt__tour_lessons[0]));

void pvt__tour_args(const struct pvt_tour *t, const struct pvt_lesson *l, char **args,
                    char buf[40][32])
{
    const char *p = t->quick ? l->quick : l->full;
    int n = 0, w = t->ncpu >= 4 ? t->ncpu / 2 : 2;

    while (*p && n < 39) {
        size_t k = strcspn(p, " ");

        if (k == 3 && strncmp(p, "{W}", 3) == 0)
            snprintf(buf[n], 32, "%d", w);
        else
            snprintf(buf[n], 32, "%.*s", (int)k, p);
        args[n] = buf[n];
        n++;
        p += k;
        p += strspn(p, " ");
    }
    args[n] = NULL;
}

static void lesson(FILE *f, const struct pvt_tour *t, int k, const struct pvt_tour_done *d)
{
    const char *base = strrchr(d->dir, '/') ? strrchr(d->dir, '/') + 1 : d->dir;
    struct pvt_rundir r;
    char why[512], prefix[PATH_MAX];

    fprintf(f, "## %d. %s\n\n> %s\n\n", k, d->lesson->title, d->lesson->claim);
    fprintf(f, "Measured with `pvt bench %s --out %s` in %.0f s. The lesson explained: %s.\n\n",
            t->quick ? d->lesson->quick : d->lesson->full, base, d->seconds, d->lesson->doc);
    if (d->status != 0) {
        fprintf(f, "**Not measured:** pvt bench exited with status %d; its output is in "
                   "`%s.log`.\n\n", d->status, base);
        if (pvt_rundir_open(d->dir, &r, why, sizeof(why)) < 0)
            return;
        if (!r.has_csv || r.t.nrows == 0) {
            pvt_rundir_close(&r);
            return;
        }
        fprintf(f, "What it finished before it stopped:\n\n");
    } else if (pvt_rundir_open(d->dir, &r, why, sizeof(why)) < 0) {
        fprintf(f, "**No results:** %s\n\n", why);
        return;
    }
    if (pvt_report_verdicts(&r, f) == 0)
        fprintf(f, "- No verdict: nothing to compare in this run.\n");
    fprintf(f, "\n");
    snprintf(prefix, sizeof(prefix), "%s/", base);
    for (int i = 0; i < 4 && d->lesson->plots[i]; i++)
        pvt__rep_images(&r, f, prefix, d->lesson->plots[i]);
    fprintf(f, "Every table and plot of this lesson: [%s/report.md](%s/report.md).\n\n", base,
            base);
    pvt_rundir_close(&r);
}

int pvt__tour_report(const struct pvt_tour *t)
{
    struct pvt_rundir r;
    char why[512], *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int rc, i;

    if (!f)
        return -ENOMEM;
    fprintf(f, "# pvt tour: processes against threads, measured on this machine\n\n");
    for (i = 0; i < t->ndone; i++)
        if (pvt_rundir_open(t->done[i].dir, &r, why, sizeof(why)) == 0) {
            fprintf(f, "- **Machine:** %s\n", r.label);
            fprintf(f, "- **pvt:** %s (%s), started %s\n",
                    json_string_value(json_object_get(r.meta, "version")) ?: "?",
                    json_string_value(json_object_get(r.meta, "git_revision")) ?: "?",
                    json_string_value(json_object_get(r.meta, "start_time")) ?: "?");
            pvt_rundir_close(&r);
            break;
        }
    fprintf(f, "- **Tour:** `pvt tour%s`, %d lesson%s run%s\n\n", t->quick ? " --quick" : "",
            t->ndone, t->ndone == 1 ? "" : "s",
            t->ndone < pvt__tour_nlessons ? " (the others were not asked for, or the tour "
                                            "stopped)" : "");
    fprintf(f, "Each lesson puts a popular claim about processes and threads to the test. "
               "A verdict compares the medians over the repetitions and calls two figures "
               "*within noise* when their min-max ranges overlap; with one repetition it says "
               "that noise was not measured. On a machine with few cores the load generator "
               "shares the CPUs with the server, which caps what more workers can gain in "
               "serve mode: task mode, with no load generator, shows the clean scaling.%s\n\n",
            t->plots ? "" : " **The plots were not drawn:** gnuplot is missing "
                            "(apt-get install -y gnuplot-nox), then run `pvt plot` on each "
                            "lesson's directory.");
    for (i = 0; i < t->ndone; i++)
        lesson(f, t, i + 1, &t->done[i]);
    fclose(f);
    rc = pvt_res_write_atomic(t->dir, "report.md", buf, len);
    free(buf);
    return rc;
}
