/*
 * test_hist.c: the latency histogram: exact percentiles to 3 significant
 * digits, clamping, merging, the empty case and the .hgrm text.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/base/hist.h"

/* A 3-digit histogram reports the top of the slot holding the true value:
 * never below it, and above it by at most one part in a thousand. */
static void assert_close(uint64_t reported, uint64_t truth)
{
    assert_true(reported >= truth);
    assert_true(reported - truth <= truth / 1000 + 1);
}

static struct pvt_hist *new_hist(uint64_t highest, int digits)
{
    struct pvt_hist *h = NULL;

    assert_int_equal(pvt_hist_new(highest, digits, &h), 0);
    assert_non_null(h);
    return h;
}

static void test_one_to_ten_thousand(void **state)
{
    struct pvt_hist *h = new_hist(60000000, 3);
    uint64_t v;

    (void)state;
    for (v = 1; v <= 10000; v++)
        pvt_hist_record(h, v);
    assert_int_equal(pvt_hist_count(h), 10000);
    assert_int_equal(pvt_hist_clamped(h), 0);
    assert_int_equal(pvt_hist_min(h), 1);
    assert_int_equal(pvt_hist_max(h), 10000);
    assert_close(pvt_hist_percentile(h, 50), 5000);
    assert_close(pvt_hist_percentile(h, 90), 9000);
    assert_close(pvt_hist_percentile(h, 99), 9900);
    assert_close(pvt_hist_percentile(h, 99.9), 9990);
    assert_int_equal(pvt_hist_percentile(h, 100), 10000);
    /* Exact below 2048: one slot per value. */
    assert_int_equal(pvt_hist_percentile(h, 10), 1000);
    assert_int_equal(pvt_hist_percentile(h, 0), 1);
    assert_true(fabs(pvt_hist_mean(h) - 5000.5) <= 5000.5 / 1000);
    pvt_hist_free(h);
}

static void test_huge_values(void **state)
{
    const uint64_t highest = 3600ull * 1000 * 1000 * 1000; /* an hour in ns */
    struct pvt_hist *h = new_hist(highest, 3);
    uint64_t big = highest - 12345;

    (void)state;
    pvt_hist_record(h, big);
    pvt_hist_record(h, highest);
    assert_int_equal(pvt_hist_count(h), 2);
    assert_int_equal(pvt_hist_clamped(h), 0);
    assert_close(pvt_hist_percentile(h, 50), big);
    assert_int_equal(pvt_hist_percentile(h, 100), highest);
    assert_int_equal(pvt_hist_max(h), highest);
    pvt_hist_free(h);
}

static void test_clamping(void **state)
{
    struct pvt_hist *h = new_hist(1000000, 3);

    (void)state;
    pvt_hist_record(h, 0);
    pvt_hist_record_n(h, 5000000, 3);
    assert_int_equal(pvt_hist_count(h), 4);
    assert_int_equal(pvt_hist_clamped(h), 4);
    assert_int_equal(pvt_hist_min(h), 1);
    assert_int_equal(pvt_hist_max(h), 1000000);
    assert_int_equal(pvt_hist_percentile(h, 10), 1);
    assert_int_equal(pvt_hist_percentile(h, 90), 1000000);
    pvt_hist_free(h);
}

static void test_merge(void **state)
{
    struct pvt_hist *a = new_hist(60000000, 3), *b = new_hist(60000000, 3);
    struct pvt_hist *both = new_hist(60000000, 3);
    double ps[] = {1, 25, 50, 75, 90, 99, 99.9, 100};
    uint64_t v;
    size_t i;

    (void)state;
    for (v = 1; v <= 50000; v += 7) {
        pvt_hist_record(v % 2 ? a : b, v * 3);
        pvt_hist_record(both, v * 3);
    }
    pvt_hist_record(b, 0);
    pvt_hist_record(both, 0);
    assert_int_equal(pvt_hist_add(a, b), 0);
    assert_int_equal(pvt_hist_count(a), pvt_hist_count(both));
    assert_int_equal(pvt_hist_clamped(a), 1);
    assert_int_equal(pvt_hist_min(a), pvt_hist_min(both));
    assert_int_equal(pvt_hist_max(a), pvt_hist_max(both));
    assert_true(pvt_hist_mean(a) == pvt_hist_mean(both));
    for (i = 0; i < sizeof(ps) / sizeof(ps[0]); i++)
        assert_int_equal(pvt_hist_percentile(a, ps[i]), pvt_hist_percentile(both, ps[i]));
    pvt_hist_free(a);
    pvt_hist_free(b);
    pvt_hist_free(both);
}

static void test_merge_shapes(void **state)
{
    struct pvt_hist *a = new_hist(60000000, 3), *b = new_hist(60000000, 2);
    struct pvt_hist *c = new_hist(1000, 3);

    (void)state;
    assert_int_equal(pvt_hist_add(a, b), -EINVAL);
    assert_int_equal(pvt_hist_add(a, c), -EINVAL);
    assert_int_equal(pvt_hist_add(a, NULL), -EINVAL);
    pvt_hist_free(a);
    pvt_hist_free(b);
    pvt_hist_free(c);
}

static void test_empty_and_reset(void **state)
{
    struct pvt_hist *h = new_hist(60000000, 3);

    (void)state;
    assert_int_equal(pvt_hist_count(h), 0);
    assert_int_equal(pvt_hist_min(h), 0);
    assert_int_equal(pvt_hist_max(h), 0);
    assert_true(pvt_hist_mean(h) == 0);
    assert_int_equal(pvt_hist_percentile(h, 50), 0);
    assert_int_equal(pvt_hist_percentile(h, 100), 0);
    pvt_hist_record(h, 777);
    pvt_hist_record(h, 0);
    assert_int_equal(pvt_hist_percentile(h, 100), 777);
    pvt_hist_reset(h);
    assert_int_equal(pvt_hist_count(h), 0);
    assert_int_equal(pvt_hist_clamped(h), 0);
    assert_int_equal(pvt_hist_min(h), 0);
    assert_int_equal(pvt_hist_max(h), 0);
    assert_int_equal(pvt_hist_percentile(h, 50), 0);
    pvt_hist_free(h);
}

static void test_bad_args(void **state)
{
    struct pvt_hist *h = NULL;

    (void)state;
    assert_int_equal(pvt_hist_new(1, 3, &h), -EINVAL);
    assert_int_equal(pvt_hist_new(1000, 0, &h), -EINVAL);
    assert_int_equal(pvt_hist_new(1000, 6, &h), -EINVAL);
    assert_int_equal(pvt_hist_new(1000, 3, NULL), -EINVAL);
    assert_null(h);
    h = new_hist(2, 1);
    assert_int_equal(pvt_hist_write_hgrm(h, NULL, 1.0), -EINVAL);
    assert_int_equal(pvt_hist_write_hgrm(h, stdout, 0.0), -EINVAL);
    pvt_hist_free(h);
}

/* Parses the .hgrm text: header, rows with rising percentiles ending at 1.0,
 * and the footer's total count. */
static void test_hgrm(void **state)
{
    struct pvt_hist *h = new_hist(60000000, 3);
    FILE *f = tmpfile();
    char line[256];
    double value, pct, last_pct = -1, last_value = 0;
    unsigned long long cnt, total = 0;
    int rows = 0, header = 0, footer_total = 0, buckets = 0;
    uint64_t v;

    (void)state;
    assert_non_null(f);
    for (v = 1; v <= 10000; v++)
        pvt_hist_record(h, v * 10);
    assert_int_equal(pvt_hist_write_hgrm(h, f, 1000.0), 0);
    rewind(f);
    while (fgets(line, sizeof(line), f)) {
        if (strcmp(line, "       Value     Percentile TotalCount 1/(1-Percentile)\n") == 0)
            header++;
        else if (sscanf(line, "#[Max     = %lf, Total count    = %llu]", &value, &total) == 2)
            footer_total = 1;
        else if (sscanf(line, "#[Buckets = %d,", &buckets) == 1)
            ;
        else if (sscanf(line, "%lf %lf %llu", &value, &pct, &cnt) == 3) {
            assert_true(pct >= last_pct);
            assert_true(value >= last_value);
            last_pct = pct;
            last_value = value;
            rows++;
        }
    }
    fclose(f);
    assert_int_equal(header, 1);
    assert_true(rows > 20);
    assert_true(last_pct == 1.0);
    assert_true(fabs(last_value - 100.0) <= 0.1 + 0.001);
    assert_int_equal(footer_total, 1);
    assert_int_equal(total, 10000);
    assert_true(buckets > 0);
    pvt_hist_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_to_ten_thousand),
        cmocka_unit_test(test_huge_values),
        cmocka_unit_test(test_clamping),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_merge_shapes),
        cmocka_unit_test(test_empty_and_reset),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_hgrm),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
