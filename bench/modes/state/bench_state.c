/*
 * bench_state.c: state mode: the sweep over variant x workers, the table,
 * the verdicts, results.csv and meta.json. This is the policy;
 * bench_state_run.c holds the mechanics of one repetition.
 *
 * Every variant x workers gets a placement plan and, unless --updates was
 * given, a number of updates per worker sized by short unrecorded runs that
 * grow until one takes 50 ms, then scaled to --target. Those runs also wake
 * the CPUs, which on a VM costs the first work after an idle spell. The
 * recorded repetitions are taken in rounds, each round starting one
 * configuration later, as in task mode, so noise from the rest of the
 * machine falls on every configuration alike. Each repetition starts fresh
 * workers; the start gate keeps their start-up out of the timing.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_state.h"
#include "bench/common/cli.h"
#include "shared/base/parse.h"
#include "bench/results/res.h"

#define CMD         "bench"
#define SIZE_MIN_S  0.05          /* a sizing run this long is long enough to scale from */
#define UPDATES_MIN 1000ull       /* the fewest updates a sized run gets */
#define UPDATES_MAX 1000000000ull /* ... and the most */

static const char *const columns[] = {
    "mode",    "backend",  "workers",  "workload", "repetition",    "seconds",
    "variant", "expected", "observed", "lost",     "ns_per_update", "updates_per_s",
    "updates", "batch",    "messages", "copies",   "pin",           "unit",
};
#define NCOLUMNS ((int)(sizeof(columns) / sizeof(columns[0])))

/* One variant x workers, and its figures. */
struct cell {
    int variant;
    long workers;
    uint64_t updates;
    struct pvt_plan *plan;
    double *ns, *ups, *obs; /* per recorded repetition */
    uint64_t copy_min, copy_max;
    uint64_t *copies; /* the last repetition's, one per worker */
};

struct run {
    const struct pvt_bench_cfg *cfg;
    const struct pvt_state_cfg *state;
    struct pvt_topo *topo;
    const char *dir;
    struct pvt_csv *csv;
    struct cell *cells;
    int ncells;
    int rows;
    int tty;
};

/* "thread-atomic, 2 workers: repetition 3/5" on a terminal; rep 0: no count. */
static void progress(const struct run *r, const struct cell *c, const char *what, int rep)
{
    if (!r->tty || r->cfg->quiet)
        return;
    fprintf(stderr, "\r\033[K%s, %ld worker%s: %s", pvt_state_variant_names[c->variant], c->workers,
            c->workers == 1 ? "" : "s", what);
    if (rep > 0)
        fprintf(stderr, " %d/%d", rep, r->cfg->repeat);
    fflush(stderr);
}

static void progress_clear(const struct run *r)
{
    if (r->tty && !r->cfg->quiet)
        fprintf(stderr, "\r\033[K");
}

static struct pvt_state_spec spec_of(const struct run *r, const struct cell *c, uint64_t updates)
{
    return (struct pvt_state_spec){
        .variant = c->variant,
        .workers = (int)c->workers,
        .updates = updates,
        .batch = r->state->batch,
        .plan = c->plan,
        .stop = &pvt_bench_interrupted,
    };
}

/* v rounded to its two leading digits: 2,345,678 -> 2,300,000. */
static uint64_t two_digits(uint64_t v)
{
    uint64_t p = 1;

    while (v >= 100) {
        v /= 10;
        p *= 10;
    }
    return v * p;
}

/* The updates per worker for about --target per repetition. */
static int size_updates(const struct run *r, struct cell *c)
{
    struct pvt_state_spec sp = spec_of(r, c, UPDATES_MIN);
    struct pvt_state_rep x = {0};
    double f, want;
    int rc;

    for (;;) {
        rc = pvt_state_run(&sp, &x);
        if (rc < 0)
            return rc;
        if (x.seconds >= SIZE_MIN_S || sp.updates >= UPDATES_MAX)
            break;
        f = x.seconds > 0 ? 1.25 * SIZE_MIN_S / x.seconds : 16;
        f = fmin(fmax(f, 2), 16);
        sp.updates = (uint64_t)fmin((double)sp.updates * f, (double)UPDATES_MAX);
    }
    want = (double)sp.updates * ((double)r->cfg->target_ms / 1e3) / fmax(x.seconds, 1e-6);
    c->updates = two_digits((uint64_t)fmin(fmax(want, (double)UPDATES_MIN), (double)UPDATES_MAX));
    return 0;
}

static int open_cell(const struct run *r, struct cell *c)
{
    int R = r->cfg->repeat, rc;

    c->ns = calloc((size_t)R, sizeof(*c->ns));
    c->ups = calloc((size_t)R, sizeof(*c->ups));
    c->obs = calloc((size_t)R, sizeof(*c->obs));
    c->copies = calloc((size_t)c->workers, sizeof(*c->copies));
    if (!c->ns || !c->ups || !c->obs || !c->copies)
        return -ENOMEM;
    c->copy_min = UINT64_MAX;
    rc = pvt_place_plan(r->topo, r->cfg->pin, r->cfg->unit, (int)c->workers, &c->plan);
    if (rc < 0) {
        pvt_err(CMD, "cannot plan %ld workers: %s", c->workers, strerror(-rc));
        return rc;
    }
    c->updates = r->state->updates;
    if (c->updates == 0) {
        progress(r, c, "sizing", 0);
        rc = size_updates(r, c);
    }
    return rc;
}

static void close_cell(struct cell *c)
{
    pvt_plan_free(c->plan);
    free(c->ns);
    free(c->ups);
    free(c->obs);
    free(c->copies);
}

/* "n;n;n": each proc-naive worker's own copy of the count; "" for the
 * other variants. NULL: no memory. */
static char *copies_text(const struct cell *c)
{
    size_t len = (size_t)c->workers * 21 + 1, o = 0;
    char *s = malloc(len);
    long i;

    if (!s)
        return NULL;
    s[0] = '\0';
    for (i = 0; i < c->workers && c->variant == PVT_SV_PROC_NAIVE; i++)
        o += (size_t)snprintf(s + o, len - o, "%s%llu", i ? ";" : "",
                              (unsigned long long)c->copies[i]);
    return s;
}

static int add_row(struct run *r, const struct cell *c, int rep, const struct pvt_state_rep *x)
{
    char v[NCOLUMNS][64], *copies = copies_text(c);
    const char *row[NCOLUMNS];
    int msg = c->variant == PVT_SV_PROC_MSG, i, rc;

    if (!copies)
        return -ENOMEM;
    snprintf(v[0], 64, "state");
    snprintf(v[1], 64, "%s", pvt_state_backend(c->variant));
    snprintf(v[2], 64, "%ld", c->workers);
    snprintf(v[3], 64, "counter");
    snprintf(v[4], 64, "%d", rep);
    snprintf(v[5], 64, "%.6f", x->seconds);
    snprintf(v[6], 64, "%s", pvt_state_variant_names[c->variant]);
    snprintf(v[7], 64, "%llu", (unsigned long long)x->expected);
    snprintf(v[8], 64, "%llu", (unsigned long long)x->observed);
    snprintf(v[9], 64, "%lld", (long long)(x->expected - x->observed));
    snprintf(v[10], 64, "%.3f", x->seconds * 1e9 / (double)c->updates);
    snprintf(v[11], 64, "%.1f", (double)x->expected / x->seconds);
    snprintf(v[12], 64, "%llu", (unsigned long long)c->updates);
    snprintf(v[13], 64, "%llu", (unsigned long long)r->state->batch);
    snprintf(v[14], 64, "%llu", (unsigned long long)x->messages);
    v[15][0] = '\0';
    snprintf(v[16], 64, "%s", pvt_place_policy_name(r->cfg->pin));
    snprintf(v[17], 64, "%s", pvt_place_unit_name(r->cfg->unit));
    for (i = 0; i < NCOLUMNS; i++)
        row[i] = v[i];
    row[13] = msg ? v[13] : NULL; /* batch and messages: proc-msg only */
    row[14] = msg ? v[14] : NULL;
    row[15] = c->variant == PVT_SV_PROC_NAIVE ? copies : NULL;
    rc = pvt_csv_add_row(r->csv, row);
    free(copies);
    r->rows += rc == 0;
    return rc;
}

/* One recorded repetition of c: run, check, keep, write the row. */
static int run_rep(struct run *r, struct cell *c, int rep)
{
    struct pvt_state_spec sp = spec_of(r, c, c->updates);
    struct pvt_state_rep x = {.copies = c->copies};
    char e[32], o[32];
    long i;
    int rc = pvt_state_run(&sp, &x);

    if (rc < 0)
        return rc;
    if (pvt_state_exact(c->variant) && x.observed != x.expected) {
        progress_clear(r);
        pvt_err(CMD, "%s, %ld workers: counted %s of %s updates: a bug in pvt, not a figure",
                pvt_state_variant_names[c->variant], c->workers,
                pvt_state_group(x.observed, o, sizeof(o)),
                pvt_state_group(x.expected, e, sizeof(e)));
        return -EBADMSG;
    }
    c->ns[rep] = x.seconds * 1e9 / (double)c->updates;
    c->ups[rep] = (double)x.expected / x.seconds;
    c->obs[rep] = (double)x.observed;
    for (i = 0; i < c->workers && c->variant == PVT_SV_PROC_NAIVE; i++) {
        c->copy_min = c->copies[i] < c->copy_min ? c->copies[i] : c->copy_min;
        c->copy_max = c->copies[i] > c->copy_max ? c->copies[i] : c->copy_max;
    }
    return add_row(r, c, rep + 1, &x);
}

static void report_error(const struct run *r, const struct cell *c, int rc)
{
    progress_clear(r);
    if (rc == -ECHILD)
        pvt_err(CMD, "%s, %ld workers: a worker process died or failed",
                pvt_state_variant_names[c->variant], c->workers);
    else if (rc != -EINTR && rc != -EBADMSG)
        pvt_err(CMD, "%s, %ld workers: %s", pvt_state_variant_names[c->variant], c->workers,
                strerror(-rc));
}

static struct pvt_state_sum summarize(const struct run *r, const struct cell *c)
{
    int R = r->cfg->repeat;
    struct pvt_state_sum s = {
        .variant = c->variant,
        .workers = c->workers,
        .updates = c->updates,
        .batch = c->variant == PVT_SV_PROC_MSG ? r->state->batch : 0,
        .expected = (uint64_t)c->workers * c->updates,
        .reps = R,
        .copy_min = c->copy_min,
        .copy_max = c->copy_max,
    };

    s.ns_median = pvt_bench_median(c->ns, R);
    s.ns_min = c->ns[0];
    s.ns_max = c->ns[R - 1];
    s.ups_median = pvt_bench_median(c->ups, R);
    s.obs_median = (uint64_t)pvt_bench_median(c->obs, R);
    s.obs_min = (uint64_t)c->obs[0];
    s.obs_max = (uint64_t)c->obs[R - 1];
    return s;
}

static void print_table(const struct pvt_state_sum *s, int n)
{
    char e[32], o[32], l[32], range[64], u[32];
    int i;

    printf("%-16s %7s %14s %14s %14s %10s  %-17s %10s\n", "variant", "workers", "expected",
           "observed", "lost", "ns/update", "[min-max]", "updates/s");
    for (i = 0; i < n; i++) {
        snprintf(range, sizeof(range), "[%.2f-%.2f]", s[i].ns_min, s[i].ns_max);
        printf("%-16s %7ld %14s %14s %14s %10.2f  %-17s %10s\n",
               pvt_state_variant_names[s[i].variant], s[i].workers,
               pvt_state_group(s[i].expected, e, sizeof(e)),
               pvt_state_group(s[i].obs_median, o, sizeof(o)),
               pvt_state_group(s[i].expected - s[i].obs_median, l, sizeof(l)), s[i].ns_median,
               range, pvt_bench_human(s[i].ups_median, u, sizeof(u)));
    }
}

static int write_meta(const struct run *r)
{
    const struct pvt_bench_cfg *cfg = r->cfg;
    json_t *o = json_object(), *p = json_object(), *a;
    char *text;
    int i, rc;

    a = json_array();
    for (i = 0; i < PVT_SV_COUNT; i++)
        if (r->state->variants & (1u << i))
            json_array_append_new(a, json_string(pvt_state_variant_names[i]));
    json_object_set_new(p, "variants", a);
    a = json_array();
    for (i = 0; i < cfg->nworkers; i++)
        json_array_append_new(a, json_integer(cfg->workers[i]));
    json_object_set_new(p, "workers", a);
    json_object_set_new(p, "updates",
                        r->state->updates ? json_integer((json_int_t)r->state->updates)
                                          : json_string("auto"));
    json_object_set_new(p, "target_ms", json_integer((json_int_t)cfg->target_ms));
    json_object_set_new(p, "repeat", json_integer(cfg->repeat));
    json_object_set_new(p, "batch", json_integer((json_int_t)r->state->batch));
    json_object_set_new(p, "pin", json_string(pvt_place_policy_name(cfg->pin)));
    json_object_set_new(p, "unit", json_string(pvt_place_unit_name(cfg->unit)));
    json_object_set_new(o, "params", p);
    text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!text)
        return -ENOMEM;
    rc = pvt_meta_write(r->dir, "state", pvt_main_argc, pvt_main_argv, r->topo, text);
    free(text);
    return rc;
}

/* Every cell's repetitions, in rotating rounds; rows on disk after each. */
static int run_rounds(struct run *r)
{
    int k, j, rc = 0;

    for (k = 0; k < r->cfg->repeat && rc == 0; k++) {
        for (j = 0; j < r->ncells && rc == 0; j++) {
            struct cell *c = &r->cells[(j + k) % r->ncells];
            progress(r, c, "repetition", k + 1);
            rc = run_rep(r, c, k);
            if (rc < 0)
                report_error(r, c, rc);
        }
        /* Every finished row is on disk, an interrupted or failed round's too. */
        if (r->rows > 0) {
            int wrc = pvt_csv_write(r->csv, r->dir, "results.csv");
            rc = rc == 0 ? wrc : rc;
        }
    }
    progress_clear(r);
    return rc;
}

static int run_all(struct run *r)
{
    const struct pvt_bench_cfg *cfg = r->cfg;
    struct pvt_state_sum *sums;
    int v, w, i, rc = 0;

    r->cells = calloc((size_t)(PVT_SV_COUNT * cfg->nworkers), sizeof(*r->cells));
    if (!r->cells)
        return -ENOMEM;
    for (v = 0; v < PVT_SV_COUNT; v++)
        for (w = 0; w < cfg->nworkers && (r->state->variants & (1u << v)); w++)
            r->cells[r->ncells++] = (struct cell){.variant = v, .workers = cfg->workers[w]};
    for (i = 0; i < r->ncells && rc == 0; i++) {
        rc = open_cell(r, &r->cells[i]);
        if (rc < 0)
            report_error(r, &r->cells[i], rc);
    }
    if (rc == 0)
        rc = run_rounds(r);
    if (rc == 0) {
        sums = calloc((size_t)r->ncells, sizeof(*sums));
        if (!sums)
            return -ENOMEM;
        for (i = 0; i < r->ncells; i++)
            sums[i] = summarize(r, &r->cells[i]);
        print_table(sums, r->ncells);
        printf("\n");
        pvt_state_verdicts(sums, r->ncells, stdout);
        free(sums);
    }
    return rc;
}

/* A count from 1 to max for flag, or a usage error. */
static uint64_t state_count(const char *flag, const char *s, uint64_t max)
{
    uint64_t v;

    if (pvt_parse_count(s, &v) < 0 || v == 0 || v > max)
        pvt_usage_error(CMD, "%s: '%s' is not a count from 1 to %llu (1000, 2M)", flag, s,
                        (unsigned long long)max);
    return v;
}

/* The variants (bits 1 << PVT_SV_x) that run on the workers of cfg's
 * backends; a backend no variant runs on is a usage error. */
static unsigned state_allowed(const struct pvt_bench_cfg *cfg)
{
    unsigned allowed = 0, mine;
    int i, v;

    for (i = 0; i < cfg->nbackends; i++) {
        const char *b = cfg->backends[i]->name;
        for (mine = 0, v = 0; v < PVT_SV_COUNT; v++)
            if (strcmp(pvt_state_backend(v), b) == 0)
                mine |= 1u << v;
        if (!mine)
            pvt_usage_error(CMD, "--backend: %s has no state variants (state mode: proc, thread)",
                            b);
        allowed |= mine;
    }
    return allowed;
}

void pvt_bench_state_args(struct pvt_bench_cfg *cfg, int backend_given, int repeat_given,
                          const char *variants, const char *updates, const char *batch,
                          struct pvt_state_cfg *state)
{
    char buf[256], *items[PVT_BENCH_MAX_LIST];
    unsigned allowed = backend_given ? state_allowed(cfg) : PVT_SV_ALL;
    int n, i, v;

    state->variants = 0;
    n = variants ? pvt_split_list(variants, buf, sizeof(buf), items, PVT_BENCH_MAX_LIST) : 0;
    if (n < 0)
        pvt_usage_error(CMD, "--variant: '%s' is not a comma-separated list", variants);
    for (i = 0; i < n; i++) {
        v = pvt_state_variant_find(items[i]);
        if (v < 0)
            pvt_usage_error(CMD,
                            "--variant: unknown variant '%s' (thread-atomic, thread-mutex, "
                            "thread-naive, proc-naive, proc-shm-atomic, proc-msg)",
                            items[i]);
        if (state->variants & (1u << v))
            pvt_usage_error(CMD, "--variant: '%s' is listed twice", items[i]);
        if (!(allowed & (1u << v)))
            pvt_usage_error(CMD, "--variant: %s runs on %s workers, which --backend leaves out",
                            items[i], pvt_state_backend(v));
        state->variants |= 1u << v;
    }
    if (!variants)
        state->variants = allowed;
    state->updates = updates ? state_count("--updates", updates, UPDATES_MAX) : 0;
    state->batch = batch ? state_count("--batch", batch, UPDATES_MAX) : 1;
    if (!repeat_given)
        cfg->repeat = 5;
}

int pvt_bench_state(const struct pvt_bench_cfg *cfg, const struct pvt_state_cfg *state,
                    struct pvt_topo *topo, const char *dir)
{
    struct run r = {.cfg = cfg, .state = state, .topo = topo, .dir = dir, .tty = pvt_cli_tty()};
    int i, rc;

    if (pvt_csv_new(columns, NCOLUMNS, &r.csv) < 0) {
        pvt_err(CMD, "out of memory");
        return PVT_EXIT_FAIL;
    }
    rc = write_meta(&r);
    if (rc == 0)
        rc = pvt_csv_write(r.csv, dir, "results.csv");
    if (rc < 0) {
        pvt_err(CMD, "cannot write to %s: %s", dir, strerror(-rc));
        pvt_csv_free(r.csv);
        return PVT_EXIT_FAIL;
    }
    printf("pvt bench --mode state: results in %s\n\n", dir);
    fflush(stdout);
    rc = run_all(&r);
    if (rc == -EINTR)
        fprintf(stderr, "pvt bench: interrupted; %d finished repetitions are in %s\n", r.rows, dir);
    else if (rc == 0)
        printf("\nresults: %s/results.csv, %s/meta.json\n", dir, dir);
    else if (rc == -ENOMEM)
        pvt_err(CMD, "out of memory");
    for (i = 0; i < r.ncells; i++)
        close_cell(&r.cells[i]);
    free(r.cells);
    pvt_csv_free(r.csv);
    if (rc == -EINTR)
        return 130;
    return rc < 0 ? PVT_EXIT_FAIL : PVT_EXIT_OK;
}

static int run_state(const struct pvt_bench_cfg *cfg, struct pvt_topo *topo, const char *dir)
{
    return pvt_bench_state(cfg, cfg->state, topo, dir);
}

const struct pvt_mode pvt_mode_state = {
    .name = "state",
    .flags = PVT_MODE_WORKER_SWEEP,
    .run = run_state,
    .plot = pvt__plot_state,
    .report = &pvt__rep_state,
};
