/*
 * report.c: report.md for a results directory (see report.h): the header
 * and the plots here, and the helpers each mode's verdicts and tables use
 * (bench/modes/MODE/report_MODE.c).
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

int pvt_report_write_mode(const struct pvt_rundir *r, FILE *f, const struct pvt_rep_mode *m)
{
    int n;

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

/* "- " and pvt_verdict's sentence; returns 1 if both sides had data. */
int pvt__rep_verdict(FILE *f, const char *what, const char *a, const struct pvt_stat *sa,
                   const char *b, const struct pvt_stat *sb, int higher, int digits,
                   const char *unit)
{
    char line[1024];

    if (sa->n == 0 || sb->n == 0)
        return 0;
    fprintf(f, "- %s\n", pvt_verdict(line, sizeof(line), what, a, sa, b, sb, higher, digits, unit));
    return 1;
}

/* "N workers against 1: 1.54x (ideal Nx)", with pvt_compare's word. */
int pvt__rep_scaling(FILE *f, const char *what, const struct pvt_stat *s1, const struct pvt_stat *sn,
                   int n, const char *unit)
{
    char a[96], b[96];
    int single;
    enum pvt_cmp c = pvt_compare(sn, s1, 1, &single);

    if (s1->n == 0 || sn->n == 0 || !(s1->med > 0))
        return 0;
    fprintf(f, "- %s: %d workers do %.2fx the %s of 1 (ideal %dx): %s against %s; %s%s\n", what,
            n, sn->med / s1->med, unit, n, pvt_vstat(a, sizeof(a), sn, -1),
            pvt_vstat(b, sizeof(b), s1, -1),
            c == PVT_CMP_NOISE ? "within noise of 1 worker: no measurable gain"
            : c == PVT_CMP_A   ? "a gain"
                               : "fewer than with 1 worker",
            single ? " (one repetition: noise not measured)" : "");
    return 1;
}

int pvt__rep_has(const char *const *v, int n, const char *want)
{
    for (int i = 0; i < n; i++)
        if (strcmp(v[i], want) == 0)
            return 1;
    return 0;
}
