/*
 * verdict.h: the comparisons behind every sentence pvt report writes.
 *
 * A figure is the set of its repetitions; it is summed up by its median and
 * its min-max range. Two figures differ only when their ranges do not
 * overlap: otherwise the verdict is "within noise". With one repetition on
 * either side there is no range to speak of, and the verdict says so.
 * Pure functions, so that tests run them on fixed data.
 */
#ifndef PVT_VERDICT_H
#define PVT_VERDICT_H

#include <stddef.h>

struct pvt_stat {
    double med, lo, hi;
    int n; /* values that were numbers; 0: med, lo, hi are NAN */
};

/* The median and range of the n values of v that are not NAN (v is left as
 * it was). Infinity sorts last: "never" is the worst of all. */
void pvt_stat_of(const double *v, int n, struct pvt_stat *s);

enum pvt_cmp {
    PVT_CMP_NONE,  /* a side has no data */
    PVT_CMP_NOISE, /* the ranges overlap */
    PVT_CMP_A,     /* a is better, ranges apart (or one repetition each) */
    PVT_CMP_B,     /* b is better */
};

/*
 * Compare a and b, higher values better when higher_better. *single is set
 * to 1 when either side has one repetition: the direction is then the
 * medians', and noise was not measured.
 */
enum pvt_cmp pvt_compare(const struct pvt_stat *a, const struct pvt_stat *b, int higher_better,
                         int *single);

/* "12.5" with digits decimals; digits -1: "1.2k", "3.40M" from 10k up, else 0 or 1
 * decimals; -2: the same with no decimals below 10k (counts); "never"; "-" for NAN. */
const char *pvt_vfmt(char *buf, size_t len, double v, int digits);

/* "12.5 [10.1-14.0]", or "12.5 (one run)" for n == 1, or "-" for none. */
const char *pvt_vstat(char *buf, size_t len, const struct pvt_stat *s, int digits);

/*
 * One sentence comparing a figure of two named sides, e.g. "failed requests:
 * proc 1 [0-3] against thread 21 [18-34]: proc did better (fewer)". better
 * and worse name the direction from a's side ("fewer", "more"). Returns buf.
 */
const char *pvt_verdict(char *buf, size_t len, const char *what, const char *name_a,
                        const struct pvt_stat *a, const char *name_b, const struct pvt_stat *b,
                        int higher_better, int digits, const char *unit);

#endif
