/*
 * cmd_tour.c: `pvt tour`, every lesson in one command. Each lesson is one
 * `pvt bench` run (this binary, run again as a child, its output kept in a
 * log beside the run), then its plots and report; at the end the tour's
 * own report.md gathers each lesson's question, verdicts and key plots.
 *
 * The child runs in the tour's process group, so a Ctrl-C on the terminal
 * reaches it too: it writes what it finished and exits, the tour reaps it,
 * writes the report of the lessons done and exits 130. A SIGINT or SIGTERM
 * sent to the tour alone is passed to the child by pid.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/modes/modes.h"
#include "bench/common/cli.h"
#include "bench/plot/plot.h"
#include "bench/report/report.h"
#include "bench/results/res.h"
#include "bench/tour/tour.h"

#define CMD "tour"

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    got_signal = sig;
}

static void help(void)
{
    printf("usage: pvt tour [--quick] [--out DIR] [--only LIST]\n\n"
           "Run every lesson of pvt on this machine, processes against threads, then plot\n"
           "each and write the reports: DIR/report.md gathers each lesson's question, its\n"
           "verdicts (computed from the data measured here) and its plots; DIR/NN-LESSON/\n"
           "holds each lesson's results directory (results.csv, meta.json, plots/,\n"
           "report.md) and DIR/NN-LESSON.log the bench's own output.\n\n"
           "  --quick       smaller sweeps, fewer repetitions (about 1.5 minutes on 2\n"
           "                cores; the full tour takes about 5 minutes)\n"
           "  --out DIR     where the tour goes (default results/DATE-TIME-tour); it must be\n"
           "                empty or absent\n"
           "  --only LIST   run only these lessons (comma-separated names)\n"
           "  -h, --help    this help\n\n"
           "lessons:\n");
    for (int i = 0; i < pvt__tour_nlessons; i++)
        printf("  %-18s %s\n", pvt__tour_lessons[i].name, pvt__tour_lessons[i].title);
    printf("\nThe plots need gnuplot (apt-get install -y gnuplot-nox); without it the tour\n"
           "still measures and reports, and says so.\n");
}

static int in_list(const char *list, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = list; p && *p;) {
        size_t k = strcspn(p, ",");

        if (k == n && strncmp(p, name, n) == 0)
            return 1;
        p += k + (p[k] == ',');
    }
    return 0;
}

/* Run `pvt bench ARGS --out dir` with its output in log; its exit status,
 * 128 + signal when a signal ended it, or -errno. */
static int run_bench(char *const *args, const char *dir, const char *log)
{
    char *argv[48];
    int n = 0, fd, status;
    pid_t pid;

    argv[n++] = "pvt";
    argv[n++] = "bench";
    for (int i = 0; args[i] && n < 44; i++)
        argv[n++] = args[i];
    argv[n++] = "--out";
    argv[n++] = (char *)dir;
    argv[n] = NULL;
    fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    pid = fork();
    if (pid < 0) {
        int e = errno;

        close(fd);
        return -e;
    }
    if (pid == 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        execv("/proc/self/exe", argv);
        _exit(127);
    }
    close(fd);
    for (int passed = 0;;) {
        if (waitpid(pid, &status, 0) == pid)
            break;
        if (errno != EINTR)
            return -errno;
        if (got_signal && !passed) {
            kill(pid, got_signal); /* by pid: the child we started */
            passed = 1;
        }
    }
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The CPUs this process may run on: lessons size their sweeps by it. */
static int allowed_cpus(void)
{
    cpu_set_t set;

    if (sched_getaffinity(0, sizeof(set), &set) < 0)
        return 1;
    return CPU_COUNT(&set);
}

static void print_verdicts(const char *dir)
{
    struct pvt_rundir r;
    char why[512], *buf = NULL, *line;
    size_t len = 0;
    FILE *f;

    if (pvt_rundir_open(dir, &r, why, sizeof(why)) < 0 || !r.has_csv) {
        pvt_rundir_close(&r);
        return;
    }
    f = open_memstream(&buf, &len);
    if (f) {
        pvt_report_verdicts(&r, f);
        fclose(f);
        for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
            printf("      %s\n", line);
        free(buf);
    }
    pvt_rundir_close(&r);
}

/* Every name in --only is a lesson's, or a usage error. */
static void check_only(const char *only)
{
    int i;

    for (const char *p = only; p && *p;) {
        size_t n = strcspn(p, ",");

        for (i = 0; i < pvt__tour_nlessons; i++)
            if (strlen(pvt__tour_lessons[i].name) == n &&
                strncmp(p, pvt__tour_lessons[i].name, n) == 0)
                break;
        if (i == pvt__tour_nlessons)
            pvt_usage_error(CMD, "--only: no lesson '%.*s' (see pvt tour --help)", (int)n, p);
        p += n + (p[n] == ',');
    }
}

/* The flags into t, *out and *only, checked; 1 when --help was asked for
 * (and printed). */
static int parse_args(int argc, char **argv, struct pvt_tour *t, const char **out,
                      const char **only)
{
    static const struct option opts[] = {
        {"quick", no_argument, NULL, 'q'},
        {"out", required_argument, NULL, 'o'},
        {"only", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'q':
            t->quick = 1;
            break;
        case 'o':
            if (!*optarg)
                pvt_usage_error(CMD, "--out: empty path");
            *out = optarg;
            break;
        case 'l':
            *only = optarg;
            break;
        case 'h':
            help();
            return 1;
        default:
            pvt_cli_bad_option(CMD, c, opts, argv);
        }
    }
    if (optind < argc)
        pvt_usage_error(CMD, "unexpected argument '%s' (pvt tour takes flags only)",
                        argv[optind]);
    check_only(*only);
    return 0;
}

/* Lesson l, the k-th of todo: its bench run, then its plots, report and
 * verdicts, recorded in t->done. 1 when the tour stops here (a signal
 * ended the run, or one came). */
static int run_lesson(struct pvt_tour *t, const struct pvt_lesson *l, int k, int todo)
{
    struct pvt_tour_done *d = &t->done[t->ndone];
    char *args[40], buf[40][32], log[PATH_MAX + 64], sub[PATH_MAX];
    double t0;
    int rc;

    pvt__tour_args(t, l, args, buf);
    snprintf(sub, sizeof(sub), "%.*s/%02d-%.40s", PATH_MAX - 64, t->dir, k % 100, l->name);
    memcpy(d->dir, sub, sizeof(d->dir));
    snprintf(log, sizeof(log), "%s.log", d->dir);
    printf("\n[%d/%d] %s\n      pvt bench", k, todo, l->title);
    for (int a = 0; args[a]; a++)
        printf(" %s", args[a]);
    printf("  (about %d s; output in %s)\n", t->quick ? l->quick_s : l->full_s, log);
    fflush(stdout);
    t0 = now_s();
    rc = run_bench(args, d->dir, log);
    d->lesson = l;
    d->seconds = now_s() - t0;
    d->status = rc;
    t->ndone++;
    if (rc != 0) {
        printf("      stopped: pvt bench exited with %d after %.0f s (see %s)\n", rc, d->seconds,
               log);
        return rc >= 128 || got_signal;
    }
    pvt__report_dir(d->dir, t->plots, 1);
    printf("      done in %.0f s:\n", d->seconds);
    print_verdicts(d->dir);
    fflush(stdout);
    return 0;
}

/* The tour's report.md, then its exit status: 128 + the signal that
 * stopped it, 1 if a lesson failed or the report could not be written. */
static int finish(const struct pvt_tour *t)
{
    int i, rc = pvt__tour_report(t);

    if (rc < 0)
        pvt_err(CMD, "cannot write %s/report.md: %s", t->dir, strerror(-rc));
    else
        printf("\ntour: %s/report.md (%d lesson%s%s)\n", t->dir, t->ndone, t->ndone == 1 ? "" : "s",
               got_signal ? ", interrupted" : "");
    if (got_signal)
        return 128 + got_signal;
    for (i = 0; i < t->ndone; i++)
        if (t->done[i].status != 0)
            return PVT_EXIT_FAIL;
    return rc < 0 ? PVT_EXIT_FAIL : PVT_EXIT_OK;
}

int pvt_cmd_tour(int argc, char **argv)
{
    struct pvt_tour t = {.ncpu = allowed_cpus()};
    const char *out = NULL, *only = NULL;
    char why[512];
    struct sigaction sa = {.sa_handler = on_signal};
    int i, rc, todo = 0, k = 0;

    if (parse_args(argc, argv, &t, &out, &only))
        return PVT_EXIT_OK;
    rc = pvt_res_prepare_dir(out, "tour", t.dir, sizeof(t.dir));
    if (rc == -EEXIST)
        pvt_usage_error(CMD, "--out: %s is not empty (a tour never overwrites results)", out);
    if (rc < 0) {
        pvt_err(CMD, "cannot write to %s: %s", out ? out : "results/", strerror(-rc));
        return PVT_EXIT_FAIL;
    }
    t.plots = pvt_plot_check(why, sizeof(why)) == 0;
    if (!t.plots)
        pvt_err(CMD, "%s; measuring and reporting without plots", why);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    for (i = 0; i < pvt__tour_nlessons; i++)
        todo += !only || in_list(only, pvt__tour_lessons[i].name);
    printf("pvt tour%s: %d lessons on %d CPUs, processes against threads; results in %s/\n",
           t.quick ? " --quick" : "", todo, t.ncpu, t.dir);
    fflush(stdout);
    for (i = 0; i < pvt__tour_nlessons && !got_signal; i++) {
        if (only && !in_list(only, pvt__tour_lessons[i].name))
            continue;
        if (run_lesson(&t, &pvt__tour_lessons[i], ++k, todo))
            break;
    }
    return finish(&t);
}
