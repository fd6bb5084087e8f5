/*
 * test_mem: the smaps_rollup reader (bench/modes/cost/mem.c), on known text and on
 * processes of known size.
 *
 * A child that touches memory does it between fork and _exit: it resets the
 * crash signals cmocka installed, says it is ready on a pipe, waits for EOF
 * on another and _exits. The parent reads its figures, lets it go, reaps it,
 * and only then asserts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/modes/cost/mem.h"

#define MIB (1024 * 1024)

/* Under TSan, shadow bytes count in RSS, PSS and USS: size checks are skipped there. */
#ifdef __SANITIZE_THREAD__
#define PVT_SKIP_UNDER_TSAN() skip()
#else
#define PVT_SKIP_UNDER_TSAN() ((void)0)
#endif

static const char rollup[] =
    "5579d1e3c000-7ffd0b502000 ---p 00000000 00:00 0                          [rollup]\n"
    "Rss:                1760 kB\n"
    "Pss:                 495 kB\n"
    "Pss_Dirty:           112 kB\n"
    "Pss_Anon:            112 kB\n"
    "Shared_Clean:       1564 kB\n"
    "Shared_Dirty:          0 kB\n"
    "Private_Clean:        84 kB\n"
    "Private_Dirty:       112 kB\n"
    "Anonymous:           112 kB\n"
    "AnonHugePages:      2048 kB\n"
    "Swap:                  7 kB\n"
    "SwapPss:               3 kB\n";

static void parse_rollup(void **state)
{
    struct pvt_mem m;

    (void)state;
    assert_int_equal(pvt_mem_parse(rollup, &m), 0);
    assert_int_equal(m.rss_kb, 1760);
    assert_int_equal(m.pss_kb, 495); /* not Pss_Dirty or Pss_Anon */
    assert_int_equal(m.uss_kb, 84 + 112);
    assert_int_equal(m.shared_kb, 1564);
    assert_int_equal(m.anon_kb, 112);
    assert_int_equal(m.anon_huge_kb, 2048);
    assert_int_equal(m.swap_kb, 7); /* not SwapPss */
}

static void parse_smaps_sums(void **state)
{
    static const char smaps[] =
        "00400000-00452000 r-xp 00000000 08:02 173521 /bin/x\n"
        "Rss: 10 kB\nPss: 5 kB\nPrivate_Clean: 1 kB\nPrivate_Dirty: 2 kB\n"
        "00652000-00653000 rw-p 00052000 08:02 173521 /bin/x\n"
        "Rss: 20 kB\nPss: 20 kB\nPrivate_Clean: 0 kB\nPrivate_Dirty: 20 kB\n";
    struct pvt_mem m;

    (void)state;
    assert_int_equal(pvt_mem_parse(smaps, &m), 0);
    assert_int_equal(m.rss_kb, 30);
    assert_int_equal(m.pss_kb, 25);
    assert_int_equal(m.uss_kb, 23);
}

static void parse_rejects(void **state)
{
    struct pvt_mem m;

    (void)state;
    assert_int_equal(pvt_mem_parse("", &m), -EINVAL);
    assert_int_equal(pvt_mem_parse("Rss: 10 kB\nPss: 5 kB\n", &m), -EINVAL); /* no Private_ */
    assert_int_equal(pvt_mem_parse("Rss: x kB\nPss: 5 kB\nPrivate_Dirty: 1 kB\n", &m), -EINVAL);
    assert_int_equal(pvt_mem_parse("VmRSS: 10 kB\n", &m), -EINVAL);
    assert_non_null(strstr(pvt_mem_strerror(-ENOSYS), "smaps_rollup"));
}

static void child_defaults(void)
{
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
    struct rlimit no_core = {0, 0};
    size_t i;

    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        signal(sigs[i], SIG_DFL);
    setrlimit(RLIMIT_CORE, &no_core);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/*
 * A child holding `bytes` of private memory it has written, waiting. Returns
 * its pid; *release is the fd whose closing lets it exit.
 */
static pid_t start_child(size_t bytes, int *release)
{
    int ready[2], rel[2];
    char c;
    pid_t pid;

    assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
    assert_int_equal(pipe2(rel, O_CLOEXEC), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        unsigned char *p;
        child_defaults();
        close(rel[1]);
        p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            _exit(3);
        memset(p, 0x5a, bytes);
        if (write(ready[1], "r", 1) != 1)
            _exit(4);
        while (read(rel[0], &c, 1) < 0 && errno == EINTR)
            ;
        _exit(p[bytes - 1] == 0x5a ? 0 : 5);
    }
    close(ready[1]);
    close(rel[0]);
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    *release = rel[1];
    return pid;
}

static int finish_child(pid_t pid, int release)
{
    int status;

    close(release);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return status;
}

static void known_private_size(void **state)
{
    struct pvt_mem m = {0};
    int release, rc, status;
    pid_t pid;

    (void)state;
    PVT_SKIP_UNDER_TSAN();
    pid = start_child(64 * MIB, &release);
    rc = pvt_mem_read(pid, &m);
    status = finish_child(pid, release);
    assert_int_equal(status, 0);
    assert_int_equal(rc, 0);
    assert_true(m.uss_kb >= 64 * 1024);
    assert_true(m.anon_kb >= 64 * 1024);
    assert_true(m.pss_kb >= m.uss_kb);
    assert_true(m.rss_kb >= m.pss_kb);
    /* The mapping is all there is beyond a small process. */
    assert_true(m.uss_kb < 64 * 1024 + 32 * 1024);
}

static void reaped_process(void **state)
{
    struct pvt_mem m;
    int release, status;
    pid_t pid;

    (void)state;
    pid = start_child(MIB, &release);
    status = finish_child(pid, release);
    assert_int_equal(status, 0);
    assert_int_equal(pvt_mem_read(pid, &m), -ESRCH);
}

static void self(void **state)
{
    struct pvt_mem a, b;
    unsigned char *p;

    (void)state;
    PVT_SKIP_UNDER_TSAN();
    assert_int_equal(pvt_mem_read(0, &a), 0);
    assert_true(a.rss_kb > 0 && a.pss_kb > 0 && a.rss_kb >= a.pss_kb);
    p = mmap(NULL, 16 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(p != MAP_FAILED);
    memset(p, 1, 16 * MIB);
    assert_int_equal(pvt_mem_read(getpid(), &b), 0);
    munmap(p, 16 * MIB);
    assert_true(b.uss_kb >= a.uss_kb + 15 * 1024);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_rollup),   cmocka_unit_test(parse_smaps_sums),
        cmocka_unit_test(parse_rejects),  cmocka_unit_test(known_private_size),
        cmocka_unit_test(reaped_process), cmocka_unit_test(self),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
