/*
 * test_sup.c: the supervision policy (sup.h), as pure functions of a
 * configuration, a slot's history and the time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "shared/core/sup.h"

#define MS 1000000ull

static struct pvt_sup_cfg defaults(void)
{
    struct pvt_sup_cfg c;

    assert_int_equal(pvt_sup_resolve(&(struct pvt_sup_cfg){0}, &c), 0);
    return c;
}

static void test_resolve(void **state)
{
    struct pvt_sup_cfg c = defaults(), out;

    (void)state;
    assert_int_equal(c.backoff_ms, PVT_SUP_BACKOFF_MS);
    assert_int_equal(c.backoff_max_ms, PVT_SUP_BACKOFF_MAX_MS);
    assert_int_equal(c.loop_deaths, PVT_SUP_LOOP_DEATHS);
    assert_int_equal(c.loop_window_ms, PVT_SUP_LOOP_WINDOW_MS);
    assert_int_equal(c.kill_grace_ms, PVT_SUP_KILL_GRACE_MS);
    assert_int_equal(c.worker_timeout_ms, 0);
    assert_int_equal(pvt_sup_resolve(&(struct pvt_sup_cfg){.loop_deaths = PVT_SUP_MAX_LOOP + 1},
                                     &out),
                     -EINVAL);
    assert_int_equal(pvt_sup_resolve(&(struct pvt_sup_cfg){.backoff_ms = -1}, &out), -EINVAL);
    /* A ceiling below the first delay is raised to it. */
    assert_int_equal(
        pvt_sup_resolve(&(struct pvt_sup_cfg){.backoff_ms = 500, .backoff_max_ms = 100}, &out),
        0);
    assert_int_equal(out.backoff_max_ms, 500);
}

/* The first death is replaced at once; later ones back off, doubling; the
 * guard parks the slot at the loop_deaths-th death within the window. */
static void test_backoff_and_guard(void **state)
{
    struct pvt_sup_cfg c = defaults();
    struct pvt_sup_slot s = {0};
    uint64_t t = 1000 * MS;

    (void)state;
    assert_int_equal(pvt_sup_on_death(&c, &s, t), 0);
    assert_int_equal(pvt_sup_on_death(&c, &s, t + 10 * MS), c.backoff_ms);
    assert_int_equal(pvt_sup_on_death(&c, &s, t + 20 * MS), 2 * c.backoff_ms);
    assert_int_equal(pvt_sup_on_death(&c, &s, t + 30 * MS), 4 * c.backoff_ms);
    assert_false(s.parked);
    assert_int_equal(pvt_sup_on_death(&c, &s, t + 40 * MS), -1);
    assert_true(s.parked);
    assert_int_equal(s.ndeaths, 5);
}

/* Deaths spread wider than the window never trip the guard or back off. */
static void test_window(void **state)
{
    struct pvt_sup_cfg c = defaults();
    struct pvt_sup_slot s = {0};
    uint64_t t = 1000 * MS, step = ((uint64_t)c.loop_window_ms + 1) * MS;
    int i;

    (void)state;
    for (i = 0; i < 100; i++)
        assert_int_equal(pvt_sup_on_death(&c, &s, t + (uint64_t)i * step), 0);
    assert_false(s.parked);
}

static void test_backoff_ceiling(void **state)
{
    struct pvt_sup_cfg c, out;
    struct pvt_sup_slot s = {0};
    int i, d = 0;

    (void)state;
    c = (struct pvt_sup_cfg){.loop_deaths = 40, .backoff_ms = 10, .backoff_max_ms = 300};
    assert_int_equal(pvt_sup_resolve(&c, &out), 0);
    for (i = 0; i < 39; i++) {
        d = pvt_sup_on_death(&out, &s, 1000 * MS + (uint64_t)i * MS);
        assert_true(d >= 0 && d <= 300);
    }
    assert_int_equal(d, 300);
    assert_int_equal(pvt_sup_on_death(&out, &s, 1040 * MS), -1);
}

static void test_hung(void **state)
{
    struct pvt_sup_cfg c = defaults(), w;
    uint64_t beat = 5000 * MS;

    (void)state;
    assert_false(pvt_sup_hung(&c, beat, 1, beat + 3600000 * MS)); /* no watchdog */
    assert_int_equal(pvt_sup_resolve(&(struct pvt_sup_cfg){.worker_timeout_ms = 500}, &w), 0);
    assert_false(pvt_sup_hung(&w, beat, 1, beat + 500 * MS));
    assert_true(pvt_sup_hung(&w, beat, 1, beat + 501 * MS));
    assert_false(pvt_sup_hung(&w, beat, 0, beat + 10000 * MS)); /* idle: not hung */
    assert_false(pvt_sup_hung(&w, 0, 1, beat));                 /* never beat yet */
    assert_int_equal(pvt_sup_beat_ms(&c), 0);
    assert_int_equal(pvt_sup_beat_ms(&w), 100);
    w.worker_timeout_ms = 200;
    assert_int_equal(pvt_sup_beat_ms(&w), 50);
}

static void test_job_limit(void **state)
{
    struct pvt_sup_cfg c = defaults();
    uint64_t seed = 42, v, lo = UINT64_MAX, hi = 0;
    int i;

    (void)state;
    assert_true(pvt_sup_job_limit(&c, &seed) == 0);
    c.max_jobs = 1000;
    assert_true(pvt_sup_job_limit(&c, &seed) == 1000);
    c.max_jobs_jitter = 50;
    for (i = 0; i < 1000; i++) {
        v = pvt_sup_job_limit(&c, &seed);
        assert_true(v >= 1000 && v <= 1050);
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    /* The jitter spreads the limits, so workers do not recycle together. */
    assert_true(hi - lo >= 40);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolve),         cmocka_unit_test(test_backoff_and_guard),
        cmocka_unit_test(test_window),          cmocka_unit_test(test_backoff_ceiling),
        cmocka_unit_test(test_hung),            cmocka_unit_test(test_job_limit),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
