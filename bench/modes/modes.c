/*
 * modes.c: the mode table, and the dispatch of plots and reports by the
 * mode a run directory records.
 */
#include "modes.h"

#include <errno.h>
#include <string.h>

#include "bench/plot/plot.h"
#include "bench/report/report.h"
#include "bench/modes/cost/bench_cost.h"
#include "bench/modes/fault/bench_fault.h"
#include "bench/modes/http/bench_http.h"
#include "bench/modes/loop/bench_loop.h"
#include "bench/modes/state/bench_state.h"
#include "bench/modes/tasks/tasks.h"

const struct pvt_mode *const pvt_modes[] = {
    &pvt_mode_tasks, &pvt_mode_http, &pvt_mode_fault, &pvt_mode_cost, &pvt_mode_state,
    &pvt_mode_loop, NULL};

const struct pvt_mode *pvt_mode_find(const char *name)
{
    for (int i = 0; name && pvt_modes[i]; i++)
        if (strcmp(pvt_modes[i]->name, name) == 0)
            return pvt_modes[i];
    return NULL;
}

int pvt_plot_runs(struct pvt_rundir *const *runs, int nruns, const char *out, int *drawn,
                  char *why, size_t whylen)
{
    struct pvt_plot_out c = {.runs = runs, .nruns = nruns, .dir = out};
    const struct pvt_mode *m = pvt_mode_find(runs[0]->mode);

    if (!m || !m->plot) {
        snprintf(why, whylen, "%s: mode '%s' has no plots yet", runs[0]->dir, runs[0]->mode);
        return -ENOTSUP;
    }
    m->plot(&c);
    *drawn = c.drawn;
    if (c.failed) {
        snprintf(why, whylen, "%s", c.why);
        return -EIO;
    }
    return 0;
}

static const struct pvt_rep_mode *report_of(const struct pvt_rundir *r)
{
    const struct pvt_mode *m = pvt_mode_find(r->mode);

    return m ? m->report : NULL;
}

int pvt_report_verdicts(const struct pvt_rundir *r, FILE *f)
{
    const struct pvt_rep_mode *m = report_of(r);

    return m ? m->verdicts(r, f) : -ENOTSUP;
}

int pvt_report_write(const struct pvt_rundir *r, FILE *f)
{
    const struct pvt_rep_mode *m = report_of(r);

    return m ? pvt_report_write_mode(r, f, m) : -ENOTSUP;
}
