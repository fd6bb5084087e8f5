/*
 * tour.h: the lessons pvt tour runs (tour.c), and the tour's report.
 */
#ifndef PVT_TOUR_H
#define PVT_TOUR_H

#include <limits.h>

struct pvt_lesson {
    const char *name;  /* the directory's name, and --only's */
    const char *title; /* one line */
    const char *claim; /* the folklore it tests, in a sentence */
    const char *doc;   /* the lesson's page in pvt's docs/ */
    /* pvt bench's arguments, space-separated; "{W}" is the workers a
     * fairness run needs: at least 2, half the CPUs on larger machines. */
    const char *full, *quick;
    int full_s, quick_s;   /* about how long it takes on 2 cores */
    const char *plots[4];  /* the key plots: name prefixes in plots/ */
};

extern const struct pvt_lesson pvt__tour_lessons[];
extern const int pvt__tour_nlessons;

struct pvt_tour_done {
    const struct pvt_lesson *lesson;
    char dir[PATH_MAX];
    double seconds;
    int status; /* pvt bench's exit status; 0: measured */
};

struct pvt_tour {
    char dir[PATH_MAX];
    int quick, plots, ncpu;
    struct pvt_tour_done done[16];
    int ndone;
};

/* The lesson's bench arguments for this tour into args (NULL-terminated),
 * using buf for the words that are filled in. */
void pvt__tour_args(const struct pvt_tour *t, const struct pvt_lesson *l, char **args,
                    char buf[40][32]);

/* Write t->dir/report.md from the lessons done. Returns 0 or -errno. */
int pvt__tour_report(const struct pvt_tour *t);

#endif
