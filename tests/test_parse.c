/*
 * test_parse: the strict command-line parsers, case by case, good and bad.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>

#include "shared/base/parse.h"

#define SENTINEL UINT64_C(0xdeadbeefcafe)

struct u64_case {
    const char *s;
    int rc;
    uint64_t want;
};

/* Run each case; on failure an output must be left as it was. */
static void run_u64_cases(const char *what, int (*fn)(const char *, uint64_t *),
                          const struct u64_case *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t v = SENTINEL;
        int rc = fn(c[i].s, &v);
        uint64_t want = c[i].rc == 0 ? c[i].want : SENTINEL;
        if (rc != c[i].rc || v != want)
            fail_msg("%s(\"%s\") = %d, %" PRIu64 "; want %d, %" PRIu64, what, c[i].s, rc, v,
                     c[i].rc, want);
    }
}

static const struct u64_case bad_common[] = {
    {"", -EINVAL, 0},    {" 5", -EINVAL, 0},   {"5 ", -EINVAL, 0},  {"-1", -EINVAL, 0},
    {"+1", -EINVAL, 0},  {"0x10", -EINVAL, 0}, {"1e3", -EINVAL, 0}, {"1.5", -EINVAL, 0},
    {"abc", -EINVAL, 0}, {"5\n", -EINVAL, 0},  {"\t5", -EINVAL, 0}, {"1_000", -EINVAL, 0},
};

static void test_count(void **state)
{
    static const struct u64_case c[] = {
        {"0", 0, 0},
        {"1", 0, 1},
        {"50", 0, 50},
        {"007", 0, 7},
        {"1k", 0, 1000},
        {"1K", 0, 1000},
        {"50M", 0, 50000000},
        {"2G", 0, 2000000000},
        {"0G", 0, 0},
        {"18446744073709551615", 0, UINT64_MAX},
        {"18446744073709551616", -ERANGE, 0},
        {"99999999999999999999", -ERANGE, 0},
        {"184467440737095516150", -ERANGE, 0},
        {"18446744073709551k", 0, UINT64_C(18446744073709551000)},
        {"18446744073709552k", -ERANGE, 0},
        {"18446744073709M", 0, UINT64_C(18446744073709000000)},
        {"18446744074709M", -ERANGE, 0},
        {"18446744073G", 0, UINT64_C(18446744073000000000)},
        {"18446744074G", -ERANGE, 0},
        {"18446744073709551616x", -EINVAL, 0},
        {"1GG", -EINVAL, 0},
        {"1Gi", -EINVAL, 0},
        {"1G ", -EINVAL, 0},
        {"1g", -EINVAL, 0},
        {"1m", -EINVAL, 0},
        {"1KB", -EINVAL, 0},
        {"1kk", -EINVAL, 0},
        {"1T", -EINVAL, 0},
        {"1.5k", -EINVAL, 0},
        {"k", -EINVAL, 0},
        {"G", -EINVAL, 0},
        {"-1k", -EINVAL, 0},
    };
    uint64_t v;

    (void)state;
    run_u64_cases("pvt_parse_count", pvt_parse_count, c, sizeof(c) / sizeof(c[0]));
    run_u64_cases("pvt_parse_count", pvt_parse_count, bad_common,
                  sizeof(bad_common) / sizeof(bad_common[0]));
    assert_int_equal(pvt_parse_count(NULL, &v), -EINVAL);
}

static void test_size(void **state)
{
    static const struct u64_case c[] = {
        {"0", 0, 0},
        {"512", 0, 512},
        {"512B", 0, 512},
        {"64K", 0, 65536},
        {"64KiB", 0, 65536},
        {"64KB", 0, 65536},
        {"1M", 0, 1048576},
        {"1MiB", 0, 1048576},
        {"1MB", 0, 1048576},
        {"1G", 0, UINT64_C(1073741824)},
        {"1GiB", 0, UINT64_C(1073741824)},
        {"1GB", 0, UINT64_C(1073741824)},
        {"3G", 0, UINT64_C(3221225472)},
        {"18446744073709551615", 0, UINT64_MAX},
        {"18446744073709551615B", 0, UINT64_MAX},
        {"18446744073709551616", -ERANGE, 0},
        {"18446744073709551616B", -ERANGE, 0},
        {"18014398509481983K", 0, UINT64_MAX - 1023},
        {"18014398509481984K", -ERANGE, 0},
        {"17592186044415M", 0, UINT64_MAX - (UINT64_C(1) << 20) + 1},
        {"17592186044416M", -ERANGE, 0},
        {"17179869183GiB", 0, UINT64_MAX - (UINT64_C(1) << 30) + 1},
        {"17179869184G", -ERANGE, 0},
        {"99999999999999999999Gx", -EINVAL, 0},
        {"64k", -EINVAL, 0},
        {"64Ki", -EINVAL, 0},
        {"64KiBx", -EINVAL, 0},
        {"64Kib", -EINVAL, 0},
        {"64iB", -EINVAL, 0},
        {"64 K", -EINVAL, 0},
        {"64K ", -EINVAL, 0},
        {"1Gb", -EINVAL, 0},
        {"1GG", -EINVAL, 0},
        {"1T", -EINVAL, 0},
        {"1.5M", -EINVAL, 0},
        {"512BB", -EINVAL, 0},
        {"B", -EINVAL, 0},
        {"K", -EINVAL, 0},
        {"KiB", -EINVAL, 0},
        {"-1K", -EINVAL, 0},
    };
    uint64_t v;

    (void)state;
    run_u64_cases("pvt_parse_size", pvt_parse_size, c, sizeof(c) / sizeof(c[0]));
    run_u64_cases("pvt_parse_size", pvt_parse_size, bad_common,
                  sizeof(bad_common) / sizeof(bad_common[0]));
    assert_int_equal(pvt_parse_size(NULL, &v), -EINVAL);
}

static void test_duration(void **state)
{
    static const struct u64_case c[] = {
        {"250ms", 0, 250},
        {"0ms", 0, 0},
        {"0s", 0, 0},
        {"2s", 0, 2000},
        {"1.5s", 0, 1500},
        {"0.25s", 0, 250},
        {"0.001s", 0, 1},
        {"0.0004s", 0, 0},
        {"0.0005s", 0, 1},
        {"0.0015s", 0, 2},
        {"0.9995s", 0, 1000},
        {"1.23456789s", 0, 1235},
        {"1.2344999s", 0, 1234},
        {"10.000s", 0, 10000},
        {"18446744073709551615ms", 0, UINT64_MAX},
        {"18446744073709551616ms", -ERANGE, 0},
        {"18446744073709551s", 0, UINT64_C(18446744073709551000)},
        {"18446744073709551.615s", 0, UINT64_MAX},
        {"18446744073709551.6154s", 0, UINT64_MAX},
        {"18446744073709551.6155s", -ERANGE, 0},
        {"18446744073709551.616s", -ERANGE, 0},
        {"18446744073709552s", -ERANGE, 0},
        {"99999999999999999999s", -ERANGE, 0},
        {"99999999999999999999x", -EINVAL, 0},
        {"250", -EINVAL, 0},
        {"1.5ms", -EINVAL, 0},
        {"1.s", -EINVAL, 0},
        {".5s", -EINVAL, 0},
        {"1..5s", -EINVAL, 0},
        {"1.5.2s", -EINVAL, 0},
        {"2 s", -EINVAL, 0},
        {"2s ", -EINVAL, 0},
        {"2S", -EINVAL, 0},
        {"2MS", -EINVAL, 0},
        {"2sec", -EINVAL, 0},
        {"2m", -EINVAL, 0},
        {"2us", -EINVAL, 0},
        {"2mss", -EINVAL, 0},
        {"1.5h", -EINVAL, 0},
        {"ms", -EINVAL, 0},
        {"s", -EINVAL, 0},
        {"-1s", -EINVAL, 0},
        {"+1s", -EINVAL, 0},
    };
    uint64_t v;

    (void)state;
    run_u64_cases("pvt_parse_duration_ms", pvt_parse_duration_ms, c, sizeof(c) / sizeof(c[0]));
    run_u64_cases("pvt_parse_duration_ms", pvt_parse_duration_ms, bad_common,
                  sizeof(bad_common) / sizeof(bad_common[0]));
    assert_int_equal(pvt_parse_duration_ms(NULL, &v), -EINVAL);
}

static void check_int(const char *s, long min, long max, int rc_want, long want)
{
    long v = -77;
    int rc = pvt_parse_int(s, min, max, &v);

    if (rc_want != 0)
        want = -77;
    if (rc != rc_want || v != want)
        fail_msg("pvt_parse_int(\"%s\", %ld, %ld) = %d, %ld; want %d, %ld", s, min, max, rc, v,
                 rc_want, want);
}

static void test_int(void **state)
{
    long v;

    (void)state;
    check_int("5", 0, 10, 0, 5);
    check_int("0", 0, 10, 0, 0);
    check_int("10", 0, 10, 0, 10);
    check_int("010", 0, 10, 0, 10);
    check_int("3", -10, 10, 0, 3);
    check_int("11", 0, 10, -ERANGE, 0);
    check_int("0", 1, 10, -ERANGE, 0);
    check_int("9223372036854775807", 0, LONG_MAX, 0, LONG_MAX);
    check_int("9223372036854775808", 0, LONG_MAX, -ERANGE, 0);
    check_int("18446744073709551616", 0, LONG_MAX, -ERANGE, 0);
    check_int("99999999999999999999999", 0, LONG_MAX, -ERANGE, 0);
    check_int("99999999999999999999999x", 0, LONG_MAX, -EINVAL, 0);
    check_int("-1", -5, 5, -EINVAL, 0);
    check_int("+1", 0, 5, -EINVAL, 0);
    check_int("", 0, 5, -EINVAL, 0);
    check_int(" 5", 0, 10, -EINVAL, 0);
    check_int("5 ", 0, 10, -EINVAL, 0);
    check_int("0x10", 0, 100, -EINVAL, 0);
    check_int("1k", 0, 10000, -EINVAL, 0);
    check_int("1.0", 0, 10, -EINVAL, 0);
    check_int("five", 0, 10, -EINVAL, 0);
    assert_int_equal(pvt_parse_int(NULL, 0, 1, &v), -EINVAL);
}

/* Parse s into a list of at most maxn and compare with want[0..nwant). */
static void check_list(const char *s, long min, long max, int maxn, int rc_want, const long *want,
                       int nwant)
{
    long out[64];
    int rc;

    for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++)
        out[i] = -77;
    assert_true(maxn <= 63);
    rc = pvt_parse_int_list(s, min, max, out, maxn);
    if (rc != rc_want)
        fail_msg("pvt_parse_int_list(\"%s\", %ld, %ld, %d) = %d; want %d", s, min, max, maxn, rc,
                 rc_want);
    for (int i = 0; i < nwant; i++)
        if (out[i] != want[i])
            fail_msg("pvt_parse_int_list(\"%s\"): out[%d] = %ld; want %ld", s, i, out[i], want[i]);
    /* Nothing is written past maxn. */
    if (out[maxn] != -77)
        fail_msg("pvt_parse_int_list(\"%s\") wrote out[%d]", s, maxn);
}

#define LIST(...)  ((const long[]){__VA_ARGS__})
#define NLIST(...) ((int)(sizeof(LIST(__VA_ARGS__)) / sizeof(long)))
#define GOOD(s, min, max, maxn, ...)                                                               \
    check_list(s, min, max, maxn, NLIST(__VA_ARGS__), LIST(__VA_ARGS__), NLIST(__VA_ARGS__))
#define BAD(s, min, max, maxn, rc) check_list(s, min, max, maxn, rc, NULL, 0)

static void test_int_list(void **state)
{
    long out[4];

    (void)state;
    GOOD("1,2,4", 0, 100, 16, 1, 2, 4);
    GOOD("1-4", 0, 100, 16, 1, 2, 3, 4);
    GOOD("1-2,8", 0, 100, 16, 1, 2, 8);
    GOOD("8,1-2", 0, 100, 16, 8, 1, 2);
    GOOD("5", 0, 100, 16, 5);
    GOOD("3-3", 0, 100, 16, 3);
    GOOD("0-0,0", 0, 100, 16, 0, 0);
    GOOD("007,1-02", 0, 100, 16, 7, 1, 2);
    GOOD("1-4", 1, 4, 4, 1, 2, 3, 4);
    GOOD("1-3,7,9-10", 0, 10, 6, 1, 2, 3, 7, 9, 10);
    GOOD("9223372036854775806-9223372036854775807", 0, LONG_MAX, 2, LONG_MAX - 1, LONG_MAX);

    BAD("", 0, 100, 16, -EINVAL);
    BAD("1,,2", 0, 100, 16, -EINVAL);
    BAD("1,", 0, 100, 16, -EINVAL);
    BAD(",1", 0, 100, 16, -EINVAL);
    BAD(",", 0, 100, 16, -EINVAL);
    BAD("1-", 0, 100, 16, -EINVAL);
    BAD("-1", -5, 100, 16, -EINVAL);
    BAD("-", 0, 100, 16, -EINVAL);
    BAD("3-1", 0, 100, 16, -EINVAL);
    BAD("4-1", 0, 100, 16, -EINVAL);
    BAD("1-2-3", 0, 100, 16, -EINVAL);
    BAD("1--2", 0, 100, 16, -EINVAL);
    BAD("1 ,2", 0, 100, 16, -EINVAL);
    BAD("1, 2", 0, 100, 16, -EINVAL);
    BAD(" 1", 0, 100, 16, -EINVAL);
    BAD("1 ", 0, 100, 16, -EINVAL);
    BAD("1;2", 0, 100, 16, -EINVAL);
    BAD("0x1", 0, 100, 16, -EINVAL);
    BAD("a", 0, 100, 16, -EINVAL);
    BAD("1,a", 0, 100, 16, -EINVAL);
    BAD("+1", 0, 100, 16, -EINVAL);
    BAD("1k", 0, 10000, 16, -EINVAL);
    /* A syntax error anywhere wins over a range error before it. */
    BAD("99,x", 0, 10, 16, -EINVAL);
    BAD("1-5,x", 0, 10, 2, -EINVAL);

    BAD("0,5", 1, 10, 16, -ERANGE);
    BAD("11", 1, 10, 16, -ERANGE);
    BAD("1-11", 1, 10, 16, -ERANGE);
    BAD("0-3", 1, 10, 16, -ERANGE);
    BAD("5", 0, -1, 16, -ERANGE);
    BAD("9223372036854775808", 0, LONG_MAX, 16, -ERANGE);
    BAD("99999999999999999999", 0, LONG_MAX, 16, -ERANGE);
    BAD("1-99999999999999999999", 0, LONG_MAX, 16, -ERANGE);

    /* More values than maxn. */
    BAD("1-5", 0, 100, 4, -ERANGE);
    BAD("1,2,3", 0, 100, 2, -ERANGE);
    BAD("1-2,3-4,5", 0, 100, 4, -ERANGE);
    BAD("1", 0, 100, 0, -ERANGE);
    BAD("0-1000000000000", 0, LONG_MAX, 8, -ERANGE);
    GOOD("1-2,3-4", 0, 100, 4, 1, 2, 3, 4);

    assert_int_equal(pvt_parse_int_list(NULL, 0, 1, out, 4), -EINVAL);
    assert_int_equal(pvt_parse_int_list("1", 0, 1, out, -1), -EINVAL);
    assert_int_equal(pvt_parse_int_list("1", 0, 1, NULL, 4), -EINVAL);
}

static void test_split_list(void **state)
{
    char buf[16], big[8];
    char *items[4];

    (void)state;
    assert_int_equal(pvt_split_list("a,b,c", buf, sizeof(buf), items, 4), 3);
    assert_string_equal(items[0], "a");
    assert_string_equal(items[1], "b");
    assert_string_equal(items[2], "c");
    /* The items live in buf, not in the caller's string. */
    assert_ptr_equal(items[0], buf);
    assert_true(items[2] >= buf && items[2] < buf + sizeof(buf));

    assert_int_equal(pvt_split_list("proc", buf, sizeof(buf), items, 4), 1);
    assert_string_equal(items[0], "proc");
    /* No trimming: spaces belong to the items. */
    assert_int_equal(pvt_split_list("a b, c", buf, sizeof(buf), items, 4), 2);
    assert_string_equal(items[0], "a b");
    assert_string_equal(items[1], " c");
    assert_int_equal(pvt_split_list("w,x,y,z", buf, sizeof(buf), items, 4), 4);
    assert_string_equal(items[3], "z");

    assert_int_equal(pvt_split_list("", buf, sizeof(buf), items, 4), -EINVAL);
    assert_int_equal(pvt_split_list(",", buf, sizeof(buf), items, 4), -EINVAL);
    assert_int_equal(pvt_split_list("a,,b", buf, sizeof(buf), items, 4), -EINVAL);
    assert_int_equal(pvt_split_list("a,", buf, sizeof(buf), items, 4), -EINVAL);
    assert_int_equal(pvt_split_list(",a", buf, sizeof(buf), items, 4), -EINVAL);
    /* An empty item is -EINVAL even where the count is also too high. */
    assert_int_equal(pvt_split_list("a,b,c,d,e,", buf, sizeof(buf), items, 4), -EINVAL);
    assert_int_equal(pvt_split_list("a,b,c,d,e", buf, sizeof(buf), items, 4), -ERANGE);
    assert_int_equal(pvt_split_list("a", buf, sizeof(buf), items, 0), -ERANGE);

    /* A string of buflen - 1 fits; one of buflen does not. */
    assert_int_equal(pvt_split_list("abc,def", big, sizeof(big), items, 4), 2);
    assert_string_equal(items[1], "def");
    assert_int_equal(pvt_split_list("abc,defg", big, sizeof(big), items, 4), -ERANGE);
    assert_int_equal(pvt_split_list("a", big, 0, items, 4), -ERANGE);

    assert_int_equal(pvt_split_list(NULL, buf, sizeof(buf), items, 4), -EINVAL);
    assert_int_equal(pvt_split_list("a", buf, sizeof(buf), NULL, 4), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count),    cmocka_unit_test(test_size),
        cmocka_unit_test(test_duration), cmocka_unit_test(test_int),
        cmocka_unit_test(test_int_list), cmocka_unit_test(test_split_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
