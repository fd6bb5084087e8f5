/*
 * test_report.c: the results reader (csv.c, rundir.c), the verdict rules
 * (verdict.c) and the verdicts pvt report writes (bench/modes/MODE/report_MODE.c), on
 * fixed data: the directories in tests/data are results written by hand,
 * with figures chosen so that each verdict's answer is known.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bench/modes/modes.h"
#include "bench/results/csv.h"
#include "bench/report/report.h"
#include "bench/results/rundir.h"
#include "bench/results/verdict.h"

static void stat_of(const double *v, int n, struct pvt_stat *s)
{
    pvt_stat_of(v, n, s);
}

static void test_stat_median_range(void **state)
{
    const double odd[] = {3, 1, 2}, even[] = {4, 1, 3, 2}, gaps[] = {NAN, 5, NAN};
    const double never[] = {10, INFINITY, 20};
    struct pvt_stat s;

    (void)state;
    stat_of(odd, 3, &s);
    assert_int_equal(s.n, 3);
    assert_true(s.med == 2 && s.lo == 1 && s.hi == 3);
    stat_of(even, 4, &s);
    assert_true(s.med == 2.5 && s.lo == 1 && s.hi == 4);
    stat_of(gaps, 3, &s);
    assert_int_equal(s.n, 1);
    assert_true(s.med == 5);
    stat_of(NULL, 0, &s);
    assert_int_equal(s.n, 0);
    assert_true(isnan(s.med));
    stat_of(never, 3, &s); /* "never" sorts last */
    assert_true(s.med == 20 && s.lo == 10 && isinf(s.hi));
}

static void test_compare_rules(void **state)
{
    const double a[] = {10, 11, 12}, b[] = {11.5, 13, 14}, c[] = {20, 21, 22}, one[] = {15};
    struct pvt_stat sa, sb, sc, s1, none;
    int single;

    (void)state;
    stat_of(a, 3, &sa);
    stat_of(b, 3, &sb);
    stat_of(c, 3, &sc);
    stat_of(one, 1, &s1);
    stat_of(NULL, 0, &none);
    /* Overlapping ranges: within noise, whichever median is higher. */
    assert_int_equal(pvt_compare(&sa, &sb, 1, &single), PVT_CMP_NOISE);
    assert_int_equal(single, 0);
    /* Apart: the higher wins when higher is better, the lower otherwise. */
    assert_int_equal(pvt_compare(&sc, &sa, 1, &single), PVT_CMP_A);
    assert_int_equal(pvt_compare(&sc, &sa, 0, &single), PVT_CMP_B);
    /* One repetition: the medians' direction, flagged. */
    assert_int_equal(pvt_compare(&s1, &sa, 1, &single), PVT_CMP_A);
    assert_int_equal(single, 1);
    assert_int_equal(pvt_compare(&none, &sa, 1, &single), PVT_CMP_NONE);
}

static void test_verdict_sentences(void **state)
{
    const double p[] = {1, 0, 3}, t[] = {21, 18, 34}, x[] = {8, 7, 9}, y[] = {8, 6, 10};
    const double e1[] = {8}, e2[] = {8};
    struct pvt_stat sp, st, sx, sy, s1, s2;
    char buf[512];

    (void)state;
    stat_of(p, 3, &sp);
    stat_of(t, 3, &st);
    stat_of(x, 3, &sx);
    stat_of(y, 3, &sy);
    stat_of(e1, 1, &s1);
    stat_of(e2, 1, &s2);
    pvt_verdict(buf, sizeof(buf), "failed", "proc", &sp, "thread", &st, 0, 0, "");
    assert_string_equal(buf, "failed: proc 1 [0-3] against thread 21 [18-34]: proc lower by 21.00x");
    pvt_verdict(buf, sizeof(buf), "failed", "proc", &sx, "thread", &sy, 0, 0, "");
    assert_non_null(strstr(buf, "within noise"));
    pvt_verdict(buf, sizeof(buf), "failed", "proc", &s1, "thread", &s2, 0, 0, "");
    assert_non_null(strstr(buf, "the same; one repetition: noise not measured"));
    /* A zero on one side: the two medians, not a ratio. */
    stat_of((const double[]){0, 0, 0}, 3, &sx);
    pvt_verdict(buf, sizeof(buf), "ms", "proc", &sx, "thread", &st, 0, 1, "");
    assert_non_null(strstr(buf, "proc lower (0.0 against 21.0)"));
}

static void test_csv_reader(void **state)
{
    static const char good[] = "a,b,c\r\n1,\"x, \"\"y\"\"\",\r\n2,z,3\n";
    static const char cut[] = "a,b\n1,2\n3";
    static const char stray[] = "a,b\n1,x\"y\n";
    static const char short_row[] = "a,b\n1,2\n3\n";
    static const char open_quote[] = "a,b\n1,\"2\n";
    struct pvt_table t;
    double v;

    (void)state;
    assert_int_equal(pvt_csv_parse(good, sizeof(good) - 1, &t), 0);
    assert_int_equal(t.ncols, 3);
    assert_int_equal(t.nrows, 2);
    assert_string_equal(pvt_table_get(&t, 0, 1), "x, \"y\"");
    assert_string_equal(pvt_table_get(&t, 0, 2), "");
    assert_int_equal(pvt_table_col(&t, "c"), 2);
    assert_int_equal(pvt_table_col(&t, "d"), -1);
    assert_string_equal(pvt_table_get(&t, 1, -1), "");
    assert_int_equal(pvt_table_num(&t, 1, 2, &v), 1);
    assert_true(v == 3);
    assert_int_equal(pvt_table_num(&t, 0, 2, &v), 0); /* empty */
    assert_int_equal(pvt_table_num(&t, 0, 1, &v), 0); /* not a number */
    pvt_table_free(&t);
    assert_int_equal(pvt_csv_parse(cut, sizeof(cut) - 1, &t), 0);
    assert_int_equal(t.nrows, 1);
    assert_int_equal(t.truncated, 1);
    pvt_table_free(&t);
    assert_int_equal(pvt_csv_parse(stray, sizeof(stray) - 1, &t), -EBADMSG);
    assert_int_equal(t.err_line, 2);
    pvt_table_free(&t);
    assert_int_equal(pvt_csv_parse(short_row, sizeof(short_row) - 1, &t), -EBADMSG);
    assert_int_equal(t.err_line, 3);
    pvt_table_free(&t);
    assert_int_equal(pvt_csv_parse(open_quote, sizeof(open_quote) - 1, &t), -EBADMSG);
    pvt_table_free(&t);
    assert_int_equal(pvt_csv_parse("", 0, &t), -ENODATA);
    pvt_table_free(&t);
}

/* The verdicts of the fixture run dir, into a string the caller frees. */
static char *verdicts_of(const char *name)
{
    char dir[512], why[512], *buf = NULL;
    struct pvt_rundir r;
    size_t len = 0;
    FILE *f;

    snprintf(dir, sizeof(dir), "%s/%s", PVT_TEST_DATA, name);
    if (pvt_rundir_open(dir, &r, why, sizeof(why)) < 0)
        fail_msg("%s", why);
    f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_true(pvt_report_verdicts(&r, f) > 0);
    fclose(f);
    pvt_rundir_close(&r);
    return buf;
}

static void expect(const char *text, const char *want)
{
    if (!strstr(text, want))
        fail_msg("no \"%s\" in:\n%s", want, text);
}

static void test_tasks_verdicts(void **state)
{
    char *v = verdicts_of("tasks-run");

    (void)state;
    /* proc doubles its rate with 2 workers; thread stays where it was. */
    expect(v, "**Scaling**, cpu:1000000 jobs, proc: 2 workers do 2.00x the jobs/s of 1 "
              "(ideal 2x): 2000 [1900-2100] against 1000 [900-1100]; a gain");
    expect(v, "**Scaling**, cpu:1000000 jobs, thread: 2 workers do 1.00x the jobs/s of 1 "
              "(ideal 2x): 1000 [950-1050] against 1000 [950-1050]; within noise of 1 worker");
    expect(v, "proc 2000 [1900-2100] against thread 1000 [950-1050]: proc higher by 2.00x");
    /* One repetition of noop each: a direction, and the warning. */
    expect(v, "noop jobs/s with 1 worker: proc 25.00M (one run) against thread 20.00M (one run): "
              "proc higher by 1.25x; one repetition: noise not measured");
    expect(v, "**Dispatch cost** of a job that does nothing, 1 worker: proc 0.0400 (one run) µs "
              "against thread 0.0500 (one run) µs: proc lower by 1.25x; one repetition: noise "
              "not measured");
    free(v);
}

static void test_fault_verdicts(void **state)
{
    char *v = verdicts_of("fault-run");

    (void)state;
    expect(v, "**crash**, requests failed: proc 1 [0-3] against thread 21 [18-34]: proc lower "
              "by 21.00x");
    expect(v, "proc 0.0 [0.0-0.0] ms against thread 11.7 [2.1-22.4] ms: proc lower (0.0 "
              "against 11.7)");
    /* Overlapping failures: within noise, though the medians are equal. */
    expect(v, "**hang**, requests failed: proc 8 [7-9] against thread 8 [6-10]: within noise");
    /* A repetition that never recovered makes the range reach "never". */
    expect(v, "proc 500.0 [480.0-never] ms against thread 980.0 [970.0-990.0] ms: within noise");
    expect(v, "**recycle**, proc only");
    free(v);
}

static void test_not_a_results_dir(void **state)
{
    struct pvt_rundir r;
    char why[512];

    (void)state;
    assert_int_equal(pvt_rundir_open(PVT_TEST_DATA, &r, why, sizeof(why)), -ENOENT);
    assert_non_null(strstr(why, "not a results directory"));
    assert_int_equal(pvt_rundir_open("/nonexistent/pvt", &r, why, sizeof(why)), -ENOENT);
    assert_non_null(strstr(why, "not a directory"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stat_median_range),  cmocka_unit_test(test_compare_rules),
        cmocka_unit_test(test_verdict_sentences),  cmocka_unit_test(test_csv_reader),
        cmocka_unit_test(test_tasks_verdicts),     cmocka_unit_test(test_fault_verdicts),
        cmocka_unit_test(test_not_a_results_dir),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
