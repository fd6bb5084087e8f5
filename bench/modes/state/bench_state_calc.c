/*
 * bench_state_calc.c: state mode's names, number formatting and verdicts.
 * Pure functions of the figures: no processes, no clock, no files, so the
 * tests give them made-up sums and read the text back.
 *
 * A verdict says only what its figures show. "Processes share no memory" is
 * printed when the primary saw none of the updates and every worker's copy
 * holds exactly its own; other figures get other words.
 */
#include <errno.h>
#include <string.h>

#include "bench_state.h"

const char *const pvt_state_variant_names[PVT_SV_COUNT] = {
    [PVT_SV_THREAD_ATOMIC] = "thread-atomic", [PVT_SV_THREAD_MUTEX] = "thread-mutex",
    [PVT_SV_THREAD_NAIVE] = "thread-naive",   [PVT_SV_PROC_NAIVE] = "proc-naive",
    [PVT_SV_PROC_SHM] = "proc-shm-atomic",    [PVT_SV_PROC_MSG] = "proc-msg",
};

int pvt_state_variant_find(const char *name)
{
    int i;

    for (i = 0; i < PVT_SV_COUNT; i++)
        if (strcmp(name, pvt_state_variant_names[i]) == 0)
            return i;
    return -ENOENT;
}

const char *pvt_state_backend(int variant)
{
    return variant >= PVT_SV_PROC_NAIVE ? "proc" : "thread";
}

int pvt_state_exact(int variant)
{
    return variant != PVT_SV_THREAD_NAIVE && variant != PVT_SV_PROC_NAIVE;
}

const char *pvt_state_group(uint64_t v, char *buf, size_t len)
{
    char digits[32], out[48];
    int n, i, o = 0;

    n = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)v);
    for (i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
    snprintf(buf, len, "%s", out);
    return buf;
}

/* "5.12", "48.3", "1234": ns for a sentence. */
static const char *ns_text(double ns, char *buf, size_t len)
{
    snprintf(buf, len, ns < 10 ? "%.2f" : ns < 100 ? "%.1f" : "%.0f", ns);
    return buf;
}

static const char *plural(long n)
{
    return n == 1 ? "" : "s";
}

static const struct pvt_state_sum *find(const struct pvt_state_sum *s, int n, int variant,
                                        long workers)
{
    int i;

    for (i = 0; i < n; i++)
        if (s[i].variant == variant && s[i].workers == workers)
            return &s[i];
    return NULL;
}

static int naive_proc(const struct pvt_state_sum *s, FILE *out)
{
    char e[32], o[32], u[32], a[32], b[32];

    pvt_state_group(s->expected, e, sizeof(e));
    pvt_state_group(s->obs_max, o, sizeof(o));
    pvt_state_group(s->updates, u, sizeof(u));
    if (s->obs_max == 0 && s->copy_min == s->updates && s->copy_max == s->updates)
        return fprintf(out,
                       "proc-naive, %ld worker%s: the primary saw 0 of %s updates; each "
                       "worker process counted its own %s in its own copy of the global: "
                       "processes share no memory\n",
                       s->workers, plural(s->workers), e, u) > 0;
    if (s->obs_min == s->expected)
        return fprintf(out,
                       "proc-naive, %ld worker%s: the primary saw all %s updates: these "
                       "processes shared the global, which fork does not do\n",
                       s->workers, plural(s->workers), e) > 0;
    return fprintf(out,
                   "proc-naive, %ld worker%s: the primary saw up to %s of %s updates; "
                   "the workers' copies held %s to %s\n",
                   s->workers, plural(s->workers), o, e, pvt_state_group(s->copy_min, a, 32),
                   pvt_state_group(s->copy_max, b, 32)) > 0;
}

static int naive_thread(const struct pvt_state_sum *s, FILE *out)
{
    char e[32], lo[32], hi[32], med[32];

    pvt_state_group(s->expected, e, sizeof(e));
    if (s->obs_min < s->expected)
        return fprintf(out,
                       "thread-naive, %ld worker%s: lost %s to %s of %s updates over %d "
                       "repetition%s (median %s): the threads share the global, but an "
                       "unsynchronised ++ lets one overwrite another's update, and how "
                       "many are lost varies from run to run\n",
                       s->workers, plural(s->workers),
                       pvt_state_group(s->expected - s->obs_max, lo, 32),
                       pvt_state_group(s->expected - s->obs_min, hi, 32), e, s->reps,
                       plural(s->reps), pvt_state_group(s->expected - s->obs_median, med, 32)) > 0;
    if (s->workers == 1)
        return fprintf(out,
                       "thread-naive, 1 worker: all %s updates counted: one thread has "
                       "nobody to race\n",
                       e) > 0;
    return fprintf(out,
                   "thread-naive, %ld workers: no update lost in %d repetition%s: the race "
                   "is there, but a race never promises a loss\n",
                   s->workers, s->reps, plural(s->reps)) > 0;
}

/* The exact variants: one line if all counted every update, else one per miss. */
static int exact(const struct pvt_state_sum *s, int n, FILE *out)
{
    char names[256] = "", e[32], o[32];
    unsigned seen = 0;
    int i, lines = 0, bad = 0;

    for (i = 0; i < n; i++) {
        if (!pvt_state_exact(s[i].variant))
            continue;
        if (s[i].obs_min != s[i].expected || s[i].obs_max != s[i].expected) {
            lines += fprintf(out,
                             "%s, %ld worker%s: observed %s of %s updates: an update lost "
                             "where none may be, a bug in pvt\n",
                             pvt_state_variant_names[s[i].variant], s[i].workers,
                             plural(s[i].workers), pvt_state_group(s[i].obs_min, o, 32),
                             pvt_state_group(s[i].expected, e, 32)) > 0;
            bad = 1;
        } else if (!(seen & (1u << s[i].variant))) {
            seen |= 1u << s[i].variant;
            snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
                     names[0] ? ", " : "", pvt_state_variant_names[s[i].variant]);
        }
    }
    if (names[0] && !bad)
        lines += fprintf(out,
                         "%s: observed = expected in every repetition: every update "
                         "counted\n",
                         names) > 0;
    return lines;
}

/* One variant against another at the same worker count, by median ns:
 * same is said when the ranges overlap, slower when a is clearly slower. */
static int versus(const struct pvt_state_sum *a, const struct pvt_state_sum *b, const char *same,
                  const char *slower, FILE *out)
{
    char x[32], y[32], batch[32] = "";
    int noise = a->ns_min <= b->ns_max && b->ns_min <= a->ns_max;
    double r = a->ns_median / b->ns_median;

    if (a->variant == PVT_SV_PROC_MSG)
        snprintf(batch, sizeof(batch), " (batch %llu)", (unsigned long long)a->batch);
    return fprintf(out, "%ld worker%s: %s%s costs %s ns per update against %s for %s (%.2fx%s)%s\n",
                   a->workers, plural(a->workers), pvt_state_variant_names[a->variant], batch,
                   ns_text(a->ns_median, x, 32), ns_text(b->ns_median, y, 32),
                   pvt_state_variant_names[b->variant], r, noise ? ", within noise" : "",
                   noise   ? same
                   : r > 1 ? slower
                           : "") > 0;
}

/* Why an exact variant slows down with more workers. */
static const char *const slower_why[PVT_SV_COUNT] = {
    [PVT_SV_THREAD_ATOMIC] = ": the counter's cache line moves between cores on every update",
    [PVT_SV_PROC_SHM] = ": the counter's cache line moves between cores on every update",
    [PVT_SV_THREAD_MUTEX] = ": the threads wait for the lock, and its cache line moves too",
    [PVT_SV_PROC_MSG] = ": the workers and the primary share the cores",
};

/* A variant with more workers against itself with one. */
static int contention(const struct pvt_state_sum *one, const struct pvt_state_sum *many, FILE *out)
{
    char x[32], y[32];
    double r = many->ns_median / one->ns_median;
    int noise = one->ns_min <= many->ns_max && many->ns_min <= one->ns_max;

    return fprintf(out, "%s: %s ns per update with 1 worker, %s with %ld (%.2fx%s)%s\n",
                   pvt_state_variant_names[one->variant], ns_text(one->ns_median, x, 32),
                   ns_text(many->ns_median, y, 32), many->workers, r, noise ? ", within noise" : "",
                   !noise && r > 1 && slower_why[one->variant] ? slower_why[one->variant] : "") > 0;
}

int pvt_state_verdicts(const struct pvt_state_sum *s, int n, FILE *out)
{
    static const struct {
        int variant;
        const char *same, *slower;
    } costs[] = {
        {PVT_SV_THREAD_MUTEX, "", ": a lock and an unlock around every add"},
        {PVT_SV_PROC_SHM, ": the same atomic add, on a page both processes map", ""},
        {PVT_SV_PROC_MSG, "", ": a system call per message, and the primary to wake"},
    };
    const struct pvt_state_sum *base, *o;
    int i, k, lines = 0;

    for (i = 0; i < n; i++) {
        if (s[i].variant == PVT_SV_PROC_NAIVE)
            lines += naive_proc(&s[i], out);
        else if (s[i].variant == PVT_SV_THREAD_NAIVE)
            lines += naive_thread(&s[i], out);
    }
    lines += exact(s, n, out);
    for (i = 0; i < n; i++) {
        if (s[i].variant != PVT_SV_THREAD_ATOMIC)
            continue;
        base = &s[i];
        for (k = 0; k < (int)(sizeof(costs) / sizeof(costs[0])); k++)
            if ((o = find(s, n, costs[k].variant, base->workers)))
                lines += versus(o, base, costs[k].same, costs[k].slower, out);
    }
    for (i = 0; i < n; i++) {
        if (s[i].workers == 1 || !pvt_state_exact(s[i].variant))
            continue;
        if ((o = find(s, n, s[i].variant, 1)))
            lines += contention(o, &s[i], out);
    }
    return lines;
}
