/*
 * verdict.c: medians, ranges and the sentences built on them (see verdict.h).
 */
#include "verdict.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

void pvt_stat_of(const double *v, int n, struct pvt_stat *s)
{
    double *w = n > 0 ? malloc((size_t)n * sizeof(*w)) : NULL;
    int i, k = 0;

    for (i = 0; w && i < n; i++)
        if (!isnan(v[i]))
            w[k++] = v[i];
    s->n = k;
    if (k == 0) {
        s->med = s->lo = s->hi = NAN;
        free(w);
        return;
    }
    qsort(w, (size_t)k, sizeof(*w), cmp_double);
    s->lo = w[0];
    s->hi = w[k - 1];
    s->med = k % 2 ? w[k / 2] : (w[k / 2 - 1] + w[k / 2]) / 2;
    free(w);
}

enum pvt_cmp pvt_compare(const struct pvt_stat *a, const struct pvt_stat *b, int higher_better,
                         int *single)
{
    int a_first;

    *single = 0;
    if (a->n == 0 || b->n == 0)
        return PVT_CMP_NONE;
    *single = a->n == 1 || b->n == 1;
    if (!*single && a->lo <= b->hi && b->lo <= a->hi)
        return PVT_CMP_NOISE;
    if (a->med == b->med)
        return PVT_CMP_NOISE;
    a_first = higher_better ? a->med > b->med : a->med < b->med;
    return a_first ? PVT_CMP_A : PVT_CMP_B;
}

const char *pvt_vfmt(char *buf, size_t len, double v, int digits)
{
    if (isnan(v))
        snprintf(buf, len, "-");
    else if (isinf(v))
        snprintf(buf, len, "never");
    else if (digits < 0 && fabs(v) >= 1e6)
        snprintf(buf, len, "%.2fM", v / 1e6);
    else if (digits < 0 && fabs(v) >= 1e4)
        snprintf(buf, len, "%.1fk", v / 1e3);
    else
        snprintf(buf, len, "%.*f", digits < 0 ? (fabs(v) >= 100 || digits == -2 ? 0 : 1) : digits,
                 v);
    return buf;
}

const char *pvt_vstat(char *buf, size_t len, const struct pvt_stat *s, int digits)
{
    char m[32], lo[32], hi[32];

    if (s->n == 0)
        snprintf(buf, len, "-");
    else if (s->n == 1)
        snprintf(buf, len, "%s (one run)", pvt_vfmt(m, sizeof(m), s->med, digits));
    else
        snprintf(buf, len, "%s [%s-%s]", pvt_vfmt(m, sizeof(m), s->med, digits),
                 pvt_vfmt(lo, sizeof(lo), s->lo, digits), pvt_vfmt(hi, sizeof(hi), s->hi, digits));
    return buf;
}

/* "by 1.54x", or the two medians where a ratio means nothing (0, never). */
static void by(char *buf, size_t len, double win, double lose, int digits)
{
    char a[32], b[32];
    double r = win > lose ? win / lose : lose / win;

    if (win > 0 && lose > 0 && isfinite(win) && isfinite(lose) && r < 1.1)
        snprintf(buf, len, " by %.1f %%", 100 * (r - 1));
    else if (win > 0 && lose > 0 && isfinite(win) && isfinite(lose))
        snprintf(buf, len, " by %.2fx", r);
    else
        snprintf(buf, len, " (%s against %s)", pvt_vfmt(a, sizeof(a), win, digits),
                 pvt_vfmt(b, sizeof(b), lose, digits));
}

const char *pvt_verdict(char *buf, size_t len, const char *what, const char *name_a,
                        const struct pvt_stat *a, const char *name_b, const struct pvt_stat *b,
                        int higher_better, int digits, const char *unit)
{
    char sa[96], sb[96], r[96] = "";
    int single;
    enum pvt_cmp c = pvt_compare(a, b, higher_better, &single);
    const struct pvt_stat *w = c == PVT_CMP_A ? a : b, *l = c == PVT_CMP_A ? b : a;

    if (c == PVT_CMP_A || c == PVT_CMP_B)
        by(r, sizeof(r), w->med, l->med, digits);
    snprintf(buf, len, "%s: %s %s%s against %s %s%s: %s%s%s%s", what, name_a,
             pvt_vstat(sa, sizeof(sa), a, digits), unit, name_b,
             pvt_vstat(sb, sizeof(sb), b, digits), unit,
             c == PVT_CMP_NONE                    ? "not measured on both sides"
             : c == PVT_CMP_NOISE && a->med == b->med &&
                     (single || (a->lo == b->lo && a->hi == b->hi))
                 ? "the same"
             : c == PVT_CMP_NOISE                 ? "within noise (the ranges overlap)"
                                                  : (c == PVT_CMP_A ? name_a : name_b),
             c == PVT_CMP_A || c == PVT_CMP_B ? (higher_better ? " higher" : " lower") : "", r,
             single && c != PVT_CMP_NONE ? "; one repetition: noise not measured" : "");
    return buf;
}
