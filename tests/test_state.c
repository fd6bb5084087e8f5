/*
 * test_state: state mode's mechanics and verdicts.
 *
 * The mechanics tests run real repetitions, small ones, of each variant:
 * the exact variants must count every update, the primary's copy of the
 * proc-naive global must see none of the workers' updates while each worker's
 * own copy holds all of its own (which fails if processes shared memory),
 * and a stopped run must leave no process behind. The workers never call
 * cmocka: pvt_state_run joins or reaps them all before it returns, and the
 * test thread asserts afterwards. Nothing here is timed.
 *
 * The verdict tests give pvt_state_verdicts made-up sums and read the text
 * back through open_memstream.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "bench/modes/state/bench_state.h"

#define UPDATES 20000

/* No child of this process is left, exited or not. */
static void assert_no_children(void)
{
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

static int run(int variant, int workers, uint64_t updates, uint64_t batch,
               struct pvt_state_rep *rep)
{
    struct pvt_state_spec spec = {
        .variant = variant, .workers = workers, .updates = updates, .batch = batch};

    return pvt_state_run(&spec, rep);
}

static void names(void **state)
{
    int i;

    (void)state;
    for (i = 0; i < PVT_SV_COUNT; i++)
        assert_int_equal(pvt_state_variant_find(pvt_state_variant_names[i]), i);
    assert_int_equal(pvt_state_variant_find("proc-shm"), -ENOENT);
    assert_int_equal(pvt_state_variant_find(""), -ENOENT);
    assert_string_equal(pvt_state_backend(PVT_SV_THREAD_NAIVE), "thread");
    assert_string_equal(pvt_state_backend(PVT_SV_PROC_NAIVE), "proc");
    assert_string_equal(pvt_state_backend(PVT_SV_PROC_MSG), "proc");
    assert_true(pvt_state_exact(PVT_SV_THREAD_MUTEX));
    assert_true(pvt_state_exact(PVT_SV_PROC_MSG));
    assert_false(pvt_state_exact(PVT_SV_THREAD_NAIVE));
    assert_false(pvt_state_exact(PVT_SV_PROC_NAIVE));
}

static void group(void **state)
{
    char buf[32];

    (void)state;
    assert_string_equal(pvt_state_group(0, buf, sizeof(buf)), "0");
    assert_string_equal(pvt_state_group(999, buf, sizeof(buf)), "999");
    assert_string_equal(pvt_state_group(1000, buf, sizeof(buf)), "1,000");
    assert_string_equal(pvt_state_group(2000000, buf, sizeof(buf)), "2,000,000");
    assert_string_equal(pvt_state_group(UINT64_MAX, buf, sizeof(buf)),
                        "18,446,744,073,709,551,615");
}

static void bad_spec(void **state)
{
    struct pvt_state_rep rep = {0};

    (void)state;
    assert_int_equal(run(PVT_SV_COUNT, 1, 10, 1, &rep), -EINVAL);
    assert_int_equal(run(-1, 1, 10, 1, &rep), -EINVAL);
    assert_int_equal(run(PVT_SV_THREAD_ATOMIC, 0, 10, 1, &rep), -EINVAL);
    assert_int_equal(run(PVT_SV_THREAD_ATOMIC, PVT_MAX_WORKERS + 1, 10, 1, &rep), -EINVAL);
    assert_int_equal(run(PVT_SV_PROC_SHM, 1, 0, 1, &rep), -EINVAL);
    assert_int_equal(run(PVT_SV_PROC_MSG, 1, 10, 0, &rep), -EINVAL);
    assert_no_children();
}

/* Every exact variant, 1 and 3 workers: observed == expected. */
static void exact_variants_count_everything(void **state)
{
    static const int exact[] = {PVT_SV_THREAD_ATOMIC, PVT_SV_THREAD_MUTEX, PVT_SV_PROC_SHM,
                                PVT_SV_PROC_MSG};
    size_t i;
    int w;

    (void)state;
    for (i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
        for (w = 1; w <= 3; w += 2) {
            struct pvt_state_rep rep = {0};
            assert_int_equal(run(exact[i], w, UPDATES, 1, &rep), 0);
            assert_int_equal(rep.expected, (uint64_t)w * UPDATES);
            assert_int_equal(rep.observed, rep.expected);
            assert_true(rep.seconds > 0);
            if (exact[i] == PVT_SV_PROC_MSG)
                assert_int_equal(rep.messages, rep.expected); /* batch 1: one per update */
            else
                assert_int_equal(rep.messages, 0);
        }
    }
    assert_no_children();
}

/* proc-msg in batches: ceil(updates / batch) messages a worker, the sum exact. */
static void messages_in_batches(void **state)
{
    struct pvt_state_rep rep = {0};

    (void)state;
    assert_int_equal(run(PVT_SV_PROC_MSG, 2, 1000, 7, &rep), 0);
    assert_int_equal(rep.observed, 2000);
    assert_int_equal(rep.messages, 2 * 143); /* 142 of 7, and one of 6 */
    assert_int_equal(run(PVT_SV_PROC_MSG, 2, 1000, 5000, &rep), 0);
    assert_int_equal(rep.observed, 2000);
    assert_int_equal(rep.messages, 2);
    assert_no_children();
}

/*
 * The lesson itself: each process bumps its own copy of the global, so the
 * primary's copy stays 0 while every worker's holds its own updates. If the
 * workers shared the primary's memory, observed would be 2 x UPDATES.
 */
static void proc_naive_copies_diverge(void **state)
{
    uint64_t copies[2] = {0, 0};
    struct pvt_state_rep rep = {.copies = copies};

    (void)state;
    assert_int_equal(run(PVT_SV_PROC_NAIVE, 2, UPDATES, 1, &rep), 0);
    assert_int_equal(rep.expected, 2 * UPDATES);
    assert_int_equal(rep.observed, 0);
    assert_int_equal(copies[0], UPDATES);
    assert_int_equal(copies[1], UPDATES);
    assert_no_children();
}

/* Threads share the global: one thread counts it all; more may lose some
 * (how many varies, so only the bounds are checked), never gain. */
static void thread_naive_shares(void **state)
{
    struct pvt_state_rep rep = {0};

    (void)state;
    assert_int_equal(run(PVT_SV_THREAD_NAIVE, 1, UPDATES, 1, &rep), 0);
    assert_int_equal(rep.observed, UPDATES);
    assert_int_equal(run(PVT_SV_THREAD_NAIVE, 2, UPDATES, 1, &rep), 0);
    assert_true(rep.observed >= 1 && rep.observed <= 2 * UPDATES);
}

/* A run whose stop flag is set ends with -EINTR and leaves nothing behind. */
static void stop_reaps_everything(void **state)
{
    static const int variants[] = {PVT_SV_THREAD_MUTEX, PVT_SV_PROC_SHM, PVT_SV_PROC_MSG};
    volatile sig_atomic_t stop = 1;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
        struct pvt_state_spec spec = {
            .variant = variants[i], .workers = 2, .updates = 1000000000, .batch = 1, .stop = &stop};
        struct pvt_state_rep rep = {0};
        assert_int_equal(pvt_state_run(&spec, &rep), -EINTR);
        assert_no_children();
    }
}

/* ---- verdicts ---- */

static char *verdicts(const struct pvt_state_sum *s, int n, int *lines)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    assert_non_null(f);
    *lines = pvt_state_verdicts(s, n, f);
    assert_int_equal(fclose(f), 0);
    assert_non_null(text);
    return text;
}

static struct pvt_state_sum sum(int variant, long workers, uint64_t updates, uint64_t observed,
                                double ns)
{
    return (struct pvt_state_sum){
        .variant = variant,
        .workers = workers,
        .updates = updates,
        .batch = variant == PVT_SV_PROC_MSG ? 1 : 0,
        .expected = (uint64_t)workers * updates,
        .reps = 5,
        .obs_median = observed,
        .obs_min = observed,
        .obs_max = observed,
        .copy_min = variant == PVT_SV_PROC_NAIVE ? updates : 0,
        .copy_max = variant == PVT_SV_PROC_NAIVE ? updates : 0,
        .ns_median = ns,
        .ns_min = ns * 0.95,
        .ns_max = ns * 1.05,
    };
}

static void verdict_proc_naive(void **state)
{
    struct pvt_state_sum s[1] = {sum(PVT_SV_PROC_NAIVE, 2, 1000000, 0, 1)};
    char *t;
    int lines;

    (void)state;
    t = verdicts(s, 1, &lines);
    assert_int_equal(lines, 1);
    assert_non_null(strstr(t, "the primary saw 0 of 2,000,000 updates"));
    assert_non_null(strstr(t, "counted its own 1,000,000"));
    assert_non_null(strstr(t, "processes share no memory"));
    free(t);

    /* Had the processes shared the global, the verdict must not say they share nothing. */
    s[0].obs_median = s[0].obs_min = s[0].obs_max = 2000000;
    t = verdicts(s, 1, &lines);
    assert_null(strstr(t, "share no memory"));
    assert_non_null(strstr(t, "saw all 2,000,000 updates"));
    free(t);
}

static void verdict_thread_naive(void **state)
{
    struct pvt_state_sum s[2] = {sum(PVT_SV_THREAD_NAIVE, 1, 1000, 1000, 1),
                                 sum(PVT_SV_THREAD_NAIVE, 2, 1000, 1500, 2)};
    char *t;
    int lines;

    (void)state;
    s[1].obs_min = 1200;
    s[1].obs_max = 1900;
    t = verdicts(s, 2, &lines);
    assert_int_equal(lines, 2);
    assert_non_null(strstr(t, "thread-naive, 1 worker: all 1,000 updates counted"));
    assert_non_null(strstr(t, "lost 100 to 800 of 2,000 updates over 5 repetitions (median 500)"));
    free(t);

    s[1].obs_median = s[1].obs_min = s[1].obs_max = 2000;
    t = verdicts(s, 2, &lines);
    assert_non_null(strstr(t, "thread-naive, 2 workers: no update lost"));
    assert_null(strstr(t, "lost 0"));
    free(t);
}

static void verdict_exact_and_costs(void **state)
{
    struct pvt_state_sum s[4] = {
        sum(PVT_SV_THREAD_ATOMIC, 1, 1000, 1000, 2.0),
        sum(PVT_SV_THREAD_ATOMIC, 2, 1000, 2000, 8.0),
        sum(PVT_SV_PROC_SHM, 2, 1000, 2000, 8.2),
        sum(PVT_SV_PROC_MSG, 2, 1000, 2000, 3000),
    };
    char *t;
    int lines;

    (void)state;
    t = verdicts(s, 4, &lines);
    assert_non_null(strstr(t, "thread-atomic, proc-shm-atomic, proc-msg: observed = expected"));
    assert_non_null(strstr(t, "proc-shm-atomic costs 8.20 ns per update against 8.00 for "
                              "thread-atomic (1.02x, within noise)"));
    assert_non_null(strstr(t, "proc-msg (batch 1) costs 3000 ns per update against 8.00"));
    assert_null(strstr(t, "proc-msg (batch 1) costs 3000 ns per update against 8.00 for "
                          "thread-atomic (375.00x, within noise)"));
    assert_non_null(strstr(t, "thread-atomic: 2.00 ns per update with 1 worker, 8.00 with 2"));
    assert_null(strstr(t, "bug"));
    free(t);

    /* An exact variant that lost an update is called a bug, and not "every update counted". */
    s[2].obs_min = 1999;
    t = verdicts(s, 4, &lines);
    assert_non_null(strstr(t, "proc-shm-atomic, 2 workers: observed 1,999 of 2,000"));
    assert_non_null(strstr(t, "a bug in pvt"));
    assert_null(strstr(t, "every update counted"));
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names),
        cmocka_unit_test(group),
        cmocka_unit_test(bad_spec),
        cmocka_unit_test(exact_variants_count_everything),
        cmocka_unit_test(messages_in_batches),
        cmocka_unit_test(proc_naive_copies_diverge),
        cmocka_unit_test(thread_naive_shares),
        cmocka_unit_test(stop_reaps_everything),
        cmocka_unit_test(verdict_proc_naive),
        cmocka_unit_test(verdict_thread_naive),
        cmocka_unit_test(verdict_exact_and_costs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
