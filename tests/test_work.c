/*
 * test_work: the workloads: parsing and formatting their names, and every
 * workload's value against pvt_work_expected() and against values worked out
 * by hand here (so a bug shared by pvt_work_run and pvt_work_expected, which
 * use the same byte pattern and size sequence, still shows).
 *
 * Everything runs on the test thread: no workers, no forks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "shared/core/pvt.h"
#include "shared/work/work.h"

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME  0x100000001b3ull

/* pvt_workload_parse that must succeed; returns the arg and checks the id. */
static uint64_t parse_ok(const char *spec, uint32_t want_id)
{
    uint32_t id = UINT32_MAX;
    uint64_t arg = UINT64_MAX;
    int rc = pvt_workload_parse(spec, &id, &arg);

    if (rc != 0)
        print_error("pvt_workload_parse(\"%s\") = %d\n", spec, rc);
    assert_int_equal(rc, 0);
    assert_int_equal(id, want_id);
    return arg;
}

static void parse_err(const char *spec, int want)
{
    uint32_t id = 0;
    uint64_t arg = 0;
    int rc = pvt_workload_parse(spec, &id, &arg);

    if (rc != want)
        print_error("pvt_workload_parse(\"%s\") = %d, want %d\n", spec, rc, want);
    assert_int_equal(rc, want);
}

static void test_parse_names_defaults(void **state)
{
    uint32_t i;

    (void)state;
    /* The table's names in order, and each name alone gives its default. */
    assert_string_equal(pvt_workloads[PVT_WL_NOOP].name, "noop");
    assert_string_equal(pvt_workloads[PVT_WL_CPU].name, "cpu");
    assert_string_equal(pvt_workloads[PVT_WL_HASH].name, "hash");
    assert_string_equal(pvt_workloads[PVT_WL_MEM].name, "mem");
    assert_string_equal(pvt_workloads[PVT_WL_SLEEP].name, "sleep");
    assert_string_equal(pvt_workloads[PVT_WL_ALLOC].name, "alloc");
    for (i = 0; i < PVT_WL_COUNT; i++)
        assert_true(parse_ok(pvt_workloads[i].name, i) == pvt_workloads[i].default_arg);

    assert_true(parse_ok("noop", PVT_WL_NOOP) == 0);
    assert_true(parse_ok("cpu", PVT_WL_CPU) == 1000000);
    assert_true(parse_ok("hash", PVT_WL_HASH) == 65536);
    assert_true(parse_ok("mem", PVT_WL_MEM) == 64ull << 20);
    assert_true(parse_ok("sleep", PVT_WL_SLEEP) == 10);
    assert_true(parse_ok("alloc", PVT_WL_ALLOC) == 1000);
}

static void test_parse_args(void **state)
{
    (void)state;
    assert_true(parse_ok("cpu:50M", PVT_WL_CPU) == 50000000);
    assert_true(parse_ok("cpu:1", PVT_WL_CPU) == 1);
    assert_true(parse_ok("cpu:2k", PVT_WL_CPU) == 2000);
    assert_true(parse_ok("cpu:100G", PVT_WL_CPU) == 100000000000ull); /* the maximum */
    assert_true(parse_ok("hash:64K", PVT_WL_HASH) == 65536);
    assert_true(parse_ok("hash:1", PVT_WL_HASH) == 1);
    assert_true(parse_ok("hash:1GiB", PVT_WL_HASH) == 1ull << 30);
    assert_true(parse_ok("mem:8", PVT_WL_MEM) == 8); /* one word, the least */
    assert_true(parse_ok("mem:4G", PVT_WL_MEM) == 4ull << 30);
    assert_true(parse_ok("sleep:1s", PVT_WL_SLEEP) == 1000);
    assert_true(parse_ok("sleep:250ms", PVT_WL_SLEEP) == 250);
    assert_true(parse_ok("sleep:10", PVT_WL_SLEEP) == 10);
    assert_true(parse_ok("sleep:1.5s", PVT_WL_SLEEP) == 1500);
    assert_true(parse_ok("sleep:3600000", PVT_WL_SLEEP) == 3600000);
    assert_true(parse_ok("alloc:17", PVT_WL_ALLOC) == 17);
    assert_true(parse_ok("alloc:1G", PVT_WL_ALLOC) == 1000000000ull);
}

static void test_parse_errors(void **state)
{
    (void)state;
    parse_err("bogus", -ENOENT);
    parse_err("bogus:1", -ENOENT);
    parse_err("", -ENOENT);
    parse_err(":1", -ENOENT);
    parse_err("cpux", -ENOENT);
    parse_err("cp", -ENOENT);
    parse_err("CPU", -ENOENT);
    parse_err("noop:1", -EINVAL);
    parse_err("noop:", -EINVAL);
    parse_err("cpu:", -EINVAL);
    parse_err("cpu:abc", -EINVAL);
    parse_err("cpu:1x", -EINVAL);
    parse_err("cpu:-1", -EINVAL);
    parse_err("cpu: 1", -EINVAL);
    parse_err("cpu:1:2", -EINVAL);
    parse_err("hash:", -EINVAL);
    parse_err("hash:12Q", -EINVAL);
    parse_err("sleep:", -EINVAL);
    parse_err("sleep:abc", -EINVAL);
    parse_err("sleep:5m", -EINVAL);
    parse_err("cpu:0", -ERANGE);
    parse_err("hash:0", -ERANGE);
    parse_err("mem:0", -ERANGE);
    parse_err("sleep:0", -ERANGE);
    parse_err("sleep:0ms", -ERANGE);
    parse_err("alloc:0", -ERANGE);
    parse_err("cpu:100000000001", -ERANGE);
    parse_err("cpu:99999999999999999999", -ERANGE);
    parse_err("hash:1073741825", -ERANGE);
    parse_err("hash:2G", -ERANGE);
    parse_err("mem:4294967297", -ERANGE);
    parse_err("sleep:3600001", -ERANGE);
    parse_err("sleep:2h", -EINVAL);
    parse_err("alloc:1000000001", -ERANGE);
    parse_err("mem:4", -ERANGE);
    parse_err("mem:7", -ERANGE);
}

static void test_format_round_trip(void **state)
{
    static const uint64_t args[] = {1, 7, 1000, 65536, 50000000, 100000000000ull};
    char buf[64];
    uint32_t i, id;
    uint64_t arg;
    size_t k;
    int n;

    (void)state;
    n = pvt_workload_format(PVT_WL_CPU, 50000000, buf, sizeof(buf));
    assert_string_equal(buf, "cpu:50000000");
    assert_int_equal(n, (int)strlen(buf));
    n = pvt_workload_format(PVT_WL_NOOP, 0, buf, sizeof(buf));
    assert_string_equal(buf, "noop");
    assert_int_equal(n, 4);
    n = pvt_workload_format(PVT_WL_SLEEP, 1000, buf, sizeof(buf));
    assert_string_equal(buf, "sleep:1000");
    /* A short buffer: snprintf's length, the text cut. */
    n = pvt_workload_format(PVT_WL_HASH, 65536, buf, 5);
    assert_int_equal(n, (int)strlen("hash:65536"));
    assert_string_equal(buf, "hash");

    for (i = 0; i < PVT_WL_COUNT; i++) {
        for (k = 0; k < sizeof(args) / sizeof(args[0]); k++) {
            uint64_t a = pvt_workloads[i].arg_kind == PVT_ARG_NONE ? 0 : args[k];
            if (a > pvt_workloads[i].max_arg || (i == PVT_WL_MEM && a < 8))
                continue;
            n = pvt_workload_format(i, a, buf, sizeof(buf));
            assert_int_equal(n, (int)strlen(buf));
            id = UINT32_MAX;
            arg = UINT64_MAX;
            assert_int_equal(pvt_workload_parse(buf, &id, &arg), 0);
            assert_int_equal(id, i);
            assert_true(arg == a);
        }
        /* The default too. */
        n = pvt_workload_format(i, pvt_workloads[i].default_arg, buf, sizeof(buf));
        assert_int_equal(pvt_workload_parse(buf, &id, &arg), 0);
        assert_int_equal(id, i);
        assert_true(arg == pvt_workloads[i].default_arg);
    }
}

static uint64_t run1(struct pvt_work_ctx *ctx, uint32_t wl, uint64_t arg)
{
    struct pvt_job job = {.id = 1, .workload = wl, .arg = arg};

    return pvt_work_run(ctx, &job);
}

/* pvt_work_run(wl, arg) == pvt_work_expected(wl, arg), on the given ctx. */
static void check_run(struct pvt_work_ctx *ctx, uint32_t wl, uint64_t arg)
{
    uint64_t got = run1(ctx, wl, arg), want = pvt_work_expected(wl, arg);

    if (got != want)
        print_error("workload %u arg %llu: run %llu, expected %llu\n", wl, (unsigned long long)arg,
                    (unsigned long long)got, (unsigned long long)want);
    assert_true(got == want);
    assert_true(got != PVT_WORK_ENOMEM);
}

static void test_cpu(void **state)
{
    struct pvt_work_ctx ctx;
    uint64_t n;

    (void)state;
    pvt_work_ctx_init(&ctx);
    for (n = 0; n <= 3000; n += n < 40 ? 1 : 97)
        check_run(&ctx, PVT_WL_CPU, n);
    /* The seeds' loop sums 0..n-1. */
    assert_true(run1(&ctx, PVT_WL_CPU, 0) == 0);
    assert_true(run1(&ctx, PVT_WL_CPU, 1) == 0);
    assert_true(run1(&ctx, PVT_WL_CPU, 2) == 1);
    assert_true(run1(&ctx, PVT_WL_CPU, 4) == 6);
    assert_true(run1(&ctx, PVT_WL_CPU, 1000) == 499500);
    assert_true(pvt_work_expected(PVT_WL_CPU, 4) == 6);
    assert_true(pvt_work_expected(PVT_WL_CPU, 1) == 0);
    assert_true(pvt_work_expected(PVT_WL_CPU, 50000000) == 1249999975000000ull);
    /* Past 2^32 iterations the closed form needs 128 bits: n(n-1)/2 mod 2^64. */
    assert_true(pvt_work_expected(PVT_WL_CPU, 100000000000ull) == 932355974711512064ull);
    pvt_work_ctx_fini(&ctx);
}

/* FNV-1a 64 of the bytes, computed here. */
static uint64_t fnv1a(const unsigned char *b, size_t n)
{
    uint64_t h = FNV_OFFSET;
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= b[i];
        h *= FNV_PRIME;
    }
    return h;
}

static void test_hash(void **state)
{
    static const uint64_t sizes[] = {1, 7, 4096, 100000};
    /* The documented pattern's first bytes: (i*131 + 7) ^ (i >> 9). */
    const unsigned char first[2] = {7, 138};
    struct pvt_work_ctx ctx;
    size_t k;

    (void)state;
    /* The empty prefix hashes to the offset basis. */
    assert_true(pvt_work_expected(PVT_WL_HASH, 0) == FNV_OFFSET);
    assert_true(pvt_work_expected(PVT_WL_HASH, 1) == fnv1a(first, 1));
    assert_true(pvt_work_expected(PVT_WL_HASH, 1) == (FNV_OFFSET ^ 7) * FNV_PRIME);
    assert_true(pvt_work_expected(PVT_WL_HASH, 2) == fnv1a(first, 2));

    pvt_work_ctx_init(&ctx);
    assert_true(run1(&ctx, PVT_WL_HASH, 0) == FNV_OFFSET);
    assert_true(run1(&ctx, PVT_WL_HASH, 1) == fnv1a(first, 1));
    assert_true(run1(&ctx, PVT_WL_HASH, 2) == fnv1a(first, 2));
    /* Growing: the buffer is extended from where it ended. */
    for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
        check_run(&ctx, PVT_WL_HASH, sizes[k]);
    assert_true(ctx.hash_len >= 100000);
    /* Shrinking: a smaller call on the same ctx hashes only its prefix. */
    check_run(&ctx, PVT_WL_HASH, 7);
    check_run(&ctx, PVT_WL_HASH, 1);
    check_run(&ctx, PVT_WL_HASH, 4096);
    check_run(&ctx, PVT_WL_HASH, 100000);
    check_run(&ctx, PVT_WL_HASH, 100001);
    pvt_work_ctx_fini(&ctx);
    assert_null(ctx.hash_buf);
    assert_int_equal(ctx.hash_len, 0);

    /* Largest first on a fresh ctx, then smaller. */
    pvt_work_ctx_init(&ctx);
    check_run(&ctx, PVT_WL_HASH, 100000);
    check_run(&ctx, PVT_WL_HASH, 4096);
    check_run(&ctx, PVT_WL_HASH, 7);
    pvt_work_ctx_fini(&ctx);
}

static void test_mem(void **state)
{
    static const uint64_t sizes[] = {8, 64, 65536, 1 << 20};
    struct pvt_work_ctx ctx;
    size_t k;

    (void)state;
    assert_true(pvt_work_expected(PVT_WL_MEM, 8) == 0);   /* one word: 0 */
    assert_true(pvt_work_expected(PVT_WL_MEM, 64) == 28); /* 0 + 1 + ... + 7 */
    assert_true(pvt_work_expected(PVT_WL_MEM, 65536) == 8192ull * 8191 / 2);

    pvt_work_ctx_init(&ctx);
    for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
        check_run(&ctx, PVT_WL_MEM, sizes[k]);
    assert_true(run1(&ctx, PVT_WL_MEM, 64) == 28);
    check_run(&ctx, PVT_WL_MEM, 8);
    check_run(&ctx, PVT_WL_MEM, 65536);
    check_run(&ctx, PVT_WL_MEM, 12); /* a partial word is not summed */
    assert_true(run1(&ctx, PVT_WL_MEM, 12) == 0);
    check_run(&ctx, PVT_WL_MEM, (1 << 20) + 8);
    pvt_work_ctx_fini(&ctx);
    assert_null(ctx.mem_buf);

    pvt_work_ctx_init(&ctx);
    check_run(&ctx, PVT_WL_MEM, 1 << 20);
    check_run(&ctx, PVT_WL_MEM, 8);
    pvt_work_ctx_fini(&ctx);
}

/* The allocation sizes, worked out here: xorshift64 (13, 7, 17) from the
 * golden-ratio seed, mapped to 16..4095. */
static uint64_t alloc_total(uint64_t n)
{
    uint64_t x = 0x9e3779b97f4a7c15ull, total = 0, i, size;

    for (i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size = 16 + x % 4080;
        if (size < 16 || size > 4095)
            return 0;
        total += size;
    }
    return total;
}

static void test_alloc(void **state)
{
    static const uint64_t counts[] = {1, 2, 15, 16, 17, 1000};
    struct pvt_work_ctx ctx;
    size_t k;

    (void)state;
    pvt_work_ctx_init(&ctx);
    for (k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
        check_run(&ctx, PVT_WL_ALLOC, counts[k]);
        assert_true(pvt_work_expected(PVT_WL_ALLOC, counts[k]) == alloc_total(counts[k]));
    }
    /* Sizes stay within 16..4095: n jobs total between 16n and 4095n. */
    assert_true(alloc_total(1000) >= 16000 && alloc_total(1000) <= 4095000);
    pvt_work_ctx_fini(&ctx);
}

static void test_noop(void **state)
{
    struct pvt_work_ctx ctx;

    (void)state;
    pvt_work_ctx_init(&ctx);
    check_run(&ctx, PVT_WL_NOOP, 0);
    assert_true(run1(&ctx, PVT_WL_NOOP, 0) == 0);
    assert_true(run1(&ctx, PVT_WL_NOOP, 12345) == 0);
    assert_true(pvt_work_expected(PVT_WL_NOOP, 0) == 0);
    pvt_work_ctx_fini(&ctx);
}

static uint64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * sleep waits at least what it was asked. Only the lower bound is checked:
 * it shows the job waited; how much longer a busy machine made it is not a
 * property of the code.
 */
static void test_sleep(void **state)
{
    static const uint64_t ms[] = {1, 20};
    struct pvt_work_ctx ctx;
    uint64_t t0, el;
    size_t k;

    (void)state;
    pvt_work_ctx_init(&ctx);
    for (k = 0; k < sizeof(ms) / sizeof(ms[0]); k++) {
        t0 = mono_ns();
        assert_true(run1(&ctx, PVT_WL_SLEEP, ms[k]) == ms[k]);
        el = mono_ns() - t0;
        if (el < ms[k] * 1000000u)
            print_error("sleep:%llu returned after %llu ns\n", (unsigned long long)ms[k],
                        (unsigned long long)el);
        assert_true(el >= ms[k] * 1000000u);
        check_run(&ctx, PVT_WL_SLEEP, ms[k]);
    }
    pvt_work_ctx_fini(&ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_names_defaults),
        cmocka_unit_test(test_parse_args),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_format_round_trip),
        cmocka_unit_test(test_noop),
        cmocka_unit_test(test_cpu),
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_mem),
        cmocka_unit_test(test_alloc),
        cmocka_unit_test(test_sleep),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
