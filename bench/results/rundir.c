/*
 * rundir.c: reading a results directory back, and grouping its rows (see
 * rundir.h).
 */
#include "rundir.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench/backends/backends.h"

static void label(struct pvt_rundir *r)
{
    json_t *host = json_object_get(r->meta, "host");
    const char *name = json_string_value(json_object_get(host, "hostname"));
    const char *cpu = json_string_value(json_object_get(host, "cpu_model"));
    json_int_t cpus = json_integer_value(json_object_get(host, "online_cpus"));
    const char *topo =
        json_string_value(json_object_get(json_object_get(r->meta, "topology"), "summary"));

    snprintf(r->host, sizeof(r->host), "%s", name ? name : "?");
    snprintf(r->label, sizeof(r->label), "%s: %lld CPUs (%s), %s", r->host, (long long)cpus,
             topo ? topo : "topology unknown", cpu ? cpu : "CPU unknown");
    snprintf(r->short_label, sizeof(r->short_label), "%s, %lld CPUs, %s", r->host,
             (long long)cpus, cpu ? cpu : "CPU unknown");
}

int pvt_rundir_open(const char *dir, struct pvt_rundir *r, char *why, size_t whylen)
{
    char path[PATH_MAX + 32];
    json_error_t jerr;
    struct stat st;
    int rc;

    memset(r, 0, sizeof(*r));
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        snprintf(why, whylen, "%s: not a directory", dir);
        return -ENOENT;
    }
    snprintf(r->dir, sizeof(r->dir), "%s", dir);
    snprintf(path, sizeof(path), "%s/meta.json", dir);
    if (stat(path, &st) < 0) {
        snprintf(why, whylen, "%s: not a results directory (no meta.json)", dir);
        return -ENOENT;
    }
    r->meta = json_load_file(path, 0, &jerr);
    if (!r->meta || !json_is_object(r->meta) ||
        !json_is_string(json_object_get(r->meta, "mode")) ||
        strcmp(json_string_value(json_object_get(r->meta, "tool")) ?: "", "pvt") != 0) {
        snprintf(why, whylen, "%s: meta.json is not a pvt run's (%s)", path,
                 r->meta ? "no tool \"pvt\" or no mode" : jerr.text);
        pvt_rundir_close(r);
        return -EBADMSG;
    }
    r->mode = json_string_value(json_object_get(r->meta, "mode"));
    label(r);
    snprintf(path, sizeof(path), "%s/results.csv", dir);
    rc = pvt_csv_load(path, &r->t);
    if (rc == -ENOENT)
        return 0; /* stopped before its first row */
    if (rc < 0) {
        if (rc == -EBADMSG)
            snprintf(why, whylen, "%s: malformed at line %d", path, r->t.err_line);
        else
            snprintf(why, whylen, "%s: %s", path, strerror(-rc));
        pvt_rundir_close(r);
        return rc == -ENODATA ? -EBADMSG : rc;
    }
    r->has_csv = 1;
    return 0;
}

void pvt_rundir_close(struct pvt_rundir *r)
{
    pvt_table_free(&r->t);
    json_decref(r->meta);
    r->meta = NULL;
}

double pvt_rundir_param(const struct pvt_rundir *r, const char *name)
{
    json_t *v = json_object_get(json_object_get(r->meta, "params"), name);

    return json_is_number(v) ? json_number_value(v) : 0;
}

const char *pvt_rundir_param_str(const struct pvt_rundir *r, const char *name)
{
    return json_string_value(json_object_get(json_object_get(r->meta, "params"), name));
}

int pvt_same_cfg(const struct pvt_table *t, int a, int b, const char *const *keys, int nkeys)
{
    for (int k = 0; k < nkeys; k++) {
        int c = pvt_table_col(t, keys[k]);

        if (strcmp(pvt_table_get(t, a, c), pvt_table_get(t, b, c)) != 0)
            return 0;
    }
    return 1;
}

static int same_key(const struct pvt_table *t, int a, int b, const int *cols, int nkeys)
{
    for (int k = 0; k < nkeys; k++)
        if (strcmp(pvt_table_get(t, a, cols[k]), pvt_table_get(t, b, cols[k])) != 0)
            return 0;
    return 1;
}

int pvt_group(const struct pvt_table *t, const char *const *keys, int nkeys, const char *value,
              const char *where_col, const char *where_val, struct pvt_groups *out)
{
    int cols[16], vcol = pvt_table_col(t, value), wcol = where_col ? pvt_table_col(t, where_col) : -1;
    int row, i, k;

    memset(out, 0, sizeof(*out));
    if (nkeys > 16)
        return -EINVAL;
    for (k = 0; k < nkeys; k++)
        cols[k] = pvt_table_col(t, keys[k]);
    out->g = calloc((size_t)(t->nrows > 0 ? t->nrows : 1), sizeof(*out->g));
    if (!out->g)
        return -ENOMEM;
    for (row = 0; row < t->nrows; row++) {
        struct pvt_grp *g = NULL;
        double v = NAN;

        if (where_col && strcmp(pvt_table_get(t, row, wcol), where_val) != 0)
            continue;
        for (i = 0; i < out->n && !g; i++)
            if (same_key(t, out->g[i].row, row, cols, nkeys))
                g = &out->g[i];
        if (!g) {
            g = &out->g[out->n++];
            g->row = row;
            g->v = calloc((size_t)t->nrows, sizeof(*g->v));
            if (!g->v) {
                pvt_groups_free(out);
                return -ENOMEM;
            }
        }
        pvt_table_num(t, row, vcol, &v);
        g->v[g->n++] = v;
    }
    return 0;
}

void pvt_groups_free(struct pvt_groups *g)
{
    for (int i = 0; i < g->n; i++)
        free(g->g[i].v);
    free(g->g);
    memset(g, 0, sizeof(*g));
}

const struct pvt_grp *pvt_group_find(const struct pvt_table *t, const struct pvt_groups *g,
                                     const char *const *keys, int nkeys,
                                     const char *const *vals)
{
    for (int i = 0; i < g->n; i++) {
        int k;

        for (k = 0; k < nkeys; k++)
            if (strcmp(pvt_table_get(t, g->g[i].row, pvt_table_col(t, keys[k])), vals[k]) != 0)
                break;
        if (k == nkeys)
            return &g->g[i];
    }
    return NULL;
}

int pvt_distinct(const struct pvt_table *t, const char *col, const char **vals, int max)
{
    int c = pvt_table_col(t, col), n = 0;


    for (int row = 0; row < t->nrows && c >= 0; row++) {
        const char *v = pvt_table_get(t, row, c);
        int i;

        for (i = 0; i < n && strcmp(vals[i], v) != 0; i++)
            ;
        if (i == n && n < max)
            vals[n++] = v;
    }
    /* Backends in the table's order (proc first), unknown names last as they
     * come: a stable insertion sort. */
    for (int i = 1; strcmp(col, "backend") == 0 && i < n; i++)
        for (int j = i; j > 0 && pvt_backend_rank(vals[j - 1]) > pvt_backend_rank(vals[j]); j--) {
            const char *x = vals[j];

            vals[j] = vals[j - 1];
            vals[j - 1] = x;
        }
    return n;
}

void pvt_grp_stat(const struct pvt_grp *g, struct pvt_stat *s)
{
    pvt_stat_of(g ? g->v : NULL, g ? g->n : 0, s);
}

void pvt_route_slug(const char *route, char *buf, size_t len)
{
    snprintf(buf, len, "%s", route[0] && route[1] ? route + 1 : "root");
    for (size_t i = 0; buf[i]; i++)
        if (!((buf[i] >= 'a' && buf[i] <= 'z') || (buf[i] >= 'A' && buf[i] <= 'Z') ||
              (buf[i] >= '0' && buf[i] <= '9')))
            buf[i] = '-';
}
