/*
 * report.c: report.md for a results directory (see report.h): the header
 * and the plots here, each mode's tables and verdicts in report_modes.c.
 */
#include "report.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report_int.h"

void pvt__rep_stat(const struct pvt_table *t, const char *value, struct pvt_stat *s, int n,
                   const char *const *cols, const char *const *vals)
{
    pvt__rep_stat_empty(t, value, NAN, s, n, cols, vals);
}

void pvt__rep_stat_empty(const struct pvt_table *t, const char *value, double empty,
                         struct pvt_stat *s, int n, const char *const *cols,
                         const char *const *vals)
{
    int vc = pvt_table_col(t, value), cc[8], k, row, m = 0;
    double *v = malloc(sizeof(*v) * (size_t)(t->nrows > 0 ? t->nrows : 1));

    for (k = 0; k < n && k < 8; k++)
        cc[k] = pvt_table_col(t, cols[k]);
    for (row = 0; v && row < t->nrows; row++) {
        for (k = 0; k < n; k++)
            if (strcmp(pvt_table_get(t, row, cc[k]), vals[k]) != 0)
                break;
        if (k < n)
            continue;
        v[m] = NAN;
        if (!pvt_table_num(t, row, vc, &v[m]) && !*pvt_table_get(t, row, vc))
            v[m] = empty;
        m++;
    }
    pvt_stat_of(v, m, s);
    free(v);
}

int pvt__rep_max_workers(const struct pvt_table *t, const char *col)
{
    const char *ws[64];
    int n = pvt_distinct(t, col, ws, 64), best = 0;

    for (int i = 0; i < n; i++)
        if (atoi(ws[i]) > best)
            best = atoi(ws[i]);
    return best;
}

/* The plots of the run whose names start with prefix, as images. */
void pvt__rep_images(const struct pvt_rundir *r, FILE *f, const char *img_prefix,
                     const char *prefix)
{
    char dir[PATH_MAX + 8];
    struct dirent **list;
    int n;

    snprintf(dir, sizeof(dir), "%s/plots", r->dir);
    n = scandir(dir, &list, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        const char *name = list[i]->d_name;
        size_t len = strlen(name);

        if (len > 4 && strcmp(name + len - 4, ".png") == 0 && name[0] != '.' &&
            strncmp(name, prefix, strlen(prefix)) == 0)
            fprintf(f, "![%.*s](%splots/%s)\n\n", (int)(len - 4), name,
                    img_prefix ? img_prefix : "", name);
        free(list[i]);
    }
    if (n >= 0)
        free(list);
}

static void header(const struct pvt_rundir *r, FILE *f)
{
    const json_t *m = r->meta, *b = json_object_get(m, "build");
    const char *cmd = json_string_value(json_object_get(m, "command"));
    const char *when = json_string_value(json_object_get(m, "start_time"));
    const char *rev = json_string_value(json_object_get(m, "git_revision"));
    const char *kern = json_string_value(json_object_get(json_object_get(m, "host"), "kernel"));
    const char *cpus =
        json_string_value(json_object_get(json_object_get(m, "host"), "allowed_cpus"));

    fprintf(f, "- **Machine:** %s; allowed CPUs %s; Linux %s\n", r->label, cpus ? cpus : "?",
            kern ? kern : "?");
    fprintf(f, "- **Run:** `%s`, started %s, pvt %s (%s), %s\n", cmd ? cmd : "?",
            when ? when : "?", json_string_value(json_object_get(m, "version")) ?: "?",
            rev ? rev : "?", json_string_value(json_object_get(b, "compiler")) ?: "?");
    fprintf(f, "- **Data:** `results.csv` (%d rows%s), `meta.json`; the rules behind each "
               "column are in pvt's results/README.md.\n\n",
            r->t.nrows, r->t.truncated ? ", its cut-short last line left out" : "");
}

static const struct pvt_rep_mode *mode_of(const struct pvt_rundir *r)
{
    static const struct pvt_rep_mode *const modes[] = {
        &pvt__rep_tasks, &pvt__rep_http, &pvt__rep_fault, &pvt__rep_cost, &pvt__rep_state, NULL};

    for (int i = 0; modes[i]; i++)
        if (strcmp(modes[i]->mode, r->mode) == 0)
            return modes[i];
    return NULL;
}

int pvt_report_verdicts(const struct pvt_rundir *r, FILE *f)
{
    const struct pvt_rep_mode *m = mode_of(r);

    return m ? m->verdicts(r, f) : -ENOTSUP;
}

int pvt_report_write(const struct pvt_rundir *r, FILE *f)
{
    const struct pvt_rep_mode *m = mode_of(r);
    int n;

    if (!m)
        return -ENOTSUP;
    fprintf(f, "# %s\n\n", m->title);
    header(r, f);
    fprintf(f, "## Verdicts\n\nEach compares medians over the repetitions; two figures whose "
               "min-max ranges overlap are called within noise.\n\n");
    n = m->verdicts(r, f);
    if (n == 0)
        fprintf(f, "- No verdict: the run has no configuration to compare.\n");
    fprintf(f, "\n## Tables\n\n");
    m->tables(r, f);
    fprintf(f, "\n## Plots\n\n");
    pvt__rep_images(r, f, NULL, "");
    return n;
}
