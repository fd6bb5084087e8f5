/*
 * plot.c: one plot through gnuplot (see plot.h).
 *
 * gnuplot runs as a child with the plots/ directory as its working
 * directory, stdin from /dev/null and stderr into a pipe that pvt reads to
 * the end before it reaps the child, so a failing script is reported by its
 * first line and never leaves a process behind.
 */
#include "plot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plot_gp.h" /* generated: pvt_gp_NAME from bench/plot/NAME.gp */

static const struct {
    const char *name, *text;
} templates[] = {
    {"lines", pvt_gp_lines},
    {"spectrum", pvt_gp_spectrum},
    {"share", pvt_gp_share},
    {"bars", pvt_gp_bars},
    {"timeline", pvt_gp_timeline},
};

int pvt_plot_check(char *why, size_t whylen)
{
    const char *path = getenv("PATH");
    char buf[PATH_MAX];

    for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
        size_t n = strcspn(p, ":");

        snprintf(buf, sizeof(buf), "%.*s/gnuplot", (int)n, p);
        if (access(buf, X_OK) == 0)
            return 0;
        p += n + (p[n] == ':');
    }
    snprintf(why, whylen, "gnuplot not found: install it with 'apt-get install -y gnuplot-nox' "
                          "(make deps does)");
    return -ENOENT;
}

/* gnuplot's double-quoted string: backslash and quote escaped. */
static void put_quoted(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        if (*s == '\n')
            fputs("\\n", f);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

int pvt_plot_begin(struct pvt_plot *p, const char *dir, const char *name, const char *title,
                   const char *sub)
{
    char path[PATH_MAX + 128];

    memset(p, 0, sizeof(*p));
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        return -errno;
    snprintf(p->dir, sizeof(p->dir), "%s", dir);
    snprintf(p->name, sizeof(p->name), "%s", name);
    snprintf(path, sizeof(path), "%s/.%s.dat.tmp", dir, name);
    p->dat = fopen(path, "we");
    if (!p->dat)
        return -errno;
    p->gp = open_memstream(&p->gpbuf, &p->gplen);
    if (!p->gp) {
        fclose(p->dat);
        unlink(path);
        return -ENOMEM;
    }
    fprintf(p->gp, "# %s: drawn by pvt plot from this run's results.csv.\n", name);
    fprintf(p->gp, "# Rerun in this directory with: gnuplot %s.gp\n", name);
    fprintf(p->gp, "datafile = \"%s.dat\"\n", name);
    pvt_plot_str(p, "ttl", title);
    pvt_plot_str(p, "sub", sub);
    return 0;
}

void pvt_plot_series(struct pvt_plot *p, const char *title)
{
    free(p->pending);
    p->pending = strdup(title);
}

void pvt_plot_title(struct pvt_plot *p, const char *title)
{
    if (p->nseries < 32)
        p->titles[p->nseries++] = strdup(title);
}

void pvt_plot_row(struct pvt_plot *p, const char *fmt, ...)
{
    va_list ap;

    if (p->pending) { /* a series' block begins with its first row */
        if (p->nseries >= 32)
            return;
        if (p->nseries > 0)
            fprintf(p->dat, "\n\n");
        fprintf(p->dat, "# %s\n", p->pending);
        p->titles[p->nseries++] = p->pending;
        p->pending = NULL;
    }
    va_start(ap, fmt);
    vfprintf(p->dat, fmt, ap);
    va_end(ap);
    fputc('\n', p->dat);
    p->rows++;
}

void pvt_plot_var(struct pvt_plot *p, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfprintf(p->gp, fmt, ap);
    va_end(ap);
    fputc('\n', p->gp);
}

void pvt_plot_str(struct pvt_plot *p, const char *var, const char *value)
{
    fprintf(p->gp, "%s = ", var);
    put_quoted(p->gp, value);
    fputc('\n', p->gp);
}

static void release(struct pvt_plot *p)
{
    char path[PATH_MAX + 128];

    if (p->dat)
        fclose(p->dat);
    if (p->gp)
        fclose(p->gp);
    free(p->gpbuf);
    for (int i = 0; i < p->nseries; i++)
        free(p->titles[i]);
    free(p->pending);
    p->pending = NULL;
    snprintf(path, sizeof(path), "%s/.%s.dat.tmp", p->dir, p->name);
    unlink(path);
    p->dat = p->gp = NULL;
    p->gpbuf = NULL;
    p->nseries = 0;
}

void pvt_plot_abandon(struct pvt_plot *p)
{
    release(p);
}

/* Run gnuplot on script in dir; its first stderr line into why on failure. */
static int run_gnuplot(const char *dir, const char *name, const char *script, char *why,
                       size_t whylen)
{
    char err[4096], set[200];
    size_t got = 0;
    int pfd[2], status;
    pid_t pid;

    snprintf(set, sizeof(set), "outbase = \".%s.tmp\"", name);
    if (pipe2(pfd, O_CLOEXEC) < 0)
        return -errno;
    pid = fork();
    if (pid < 0) {
        int e = errno;

        close(pfd[0]);
        close(pfd[1]);
        return -e;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR | O_CLOEXEC); /* dup2's copies stay open */

        if (chdir(dir) < 0)
            _exit(127);
        dup2(null, 0);
        dup2(null, 1);
        dup2(pfd[1], 2);
        execlp("gnuplot", "gnuplot", "-e", set, script, (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    for (;;) {
        ssize_t n = read(pfd[0], err + got, sizeof(err) - 1 - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
        if (got == sizeof(err) - 1) { /* keep reading, keep the start */
            char sink[1024];

            while (read(pfd[0], sink, sizeof(sink)) > 0)
                ;
            break;
        }
    }
    close(pfd[0]);
    err[got] = '\0';
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    {
        char *line = err + strspn(err, "\n ");

        line[strcspn(line, "\n")] = '\0';
        snprintf(why, whylen, "gnuplot failed on %s/%s%s%s", dir, script, *line ? ": " : "",
                 line);
    }
    return -EIO;
}

int pvt_plot_end(struct pvt_plot *p, const char *tmpl, char *why, size_t whylen)
{
    char tmp[PATH_MAX + 160], dst[PATH_MAX + 160], script[160];
    const char *text = NULL;
    int rc = 0, i;
    size_t k;

    for (k = 0; k < sizeof(templates) / sizeof(templates[0]); k++)
        if (strcmp(templates[k].name, tmpl) == 0)
            text = templates[k].text;
    if (!text || p->rows == 0) {
        release(p);
        return text ? -ENODATA : -EINVAL;
    }
    fprintf(p->gp, "N = %d\narray T[%d]\n", p->nseries, p->nseries > 0 ? p->nseries : 1);
    for (i = 0; i < p->nseries; i++) {
        fprintf(p->gp, "T[%d] = ", i + 1);
        put_quoted(p->gp, p->titles[i]);
        fputc('\n', p->gp);
    }
    /* pvt draws under a temporary name; a rerun by hand draws NAME.png. */
    fprintf(p->gp, "if (!exists(\"outbase\")) outbase = \"%s\"\n\n%s\n%s", p->name, pvt_gp_common,
            text);
    fflush(p->gp);
    fflush(p->dat);
    if (ferror(p->dat) || ferror(p->gp)) {
        release(p);
        return -EIO;
    }
    snprintf(tmp, sizeof(tmp), "%s/.%s.dat.tmp", p->dir, p->name);
    snprintf(dst, sizeof(dst), "%s/%s.dat", p->dir, p->name);
    if (rename(tmp, dst) < 0)
        rc = -errno;
    snprintf(script, sizeof(script), "%s.gp", p->name);
    snprintf(dst, sizeof(dst), "%s/%s", p->dir, script);
    if (rc == 0) {
        FILE *f = fopen(dst, "we");

        if (!f || fwrite(p->gpbuf, 1, p->gplen, f) != p->gplen)
            rc = -EIO;
        if (f && fclose(f) != 0)
            rc = -EIO;
    }
    if (rc == 0)
        rc = run_gnuplot(p->dir, p->name, script, why, whylen);
    for (i = 0; i < 2; i++) {
        const char *ext = i ? "svg" : "png";

        snprintf(tmp, sizeof(tmp), "%s/.%s.tmp.%s", p->dir, p->name, ext);
        snprintf(dst, sizeof(dst), "%s/%s.%s", p->dir, p->name, ext);
        if (rc == 0 && rename(tmp, dst) < 0)
            rc = -errno;
        unlink(tmp);
    }
    release(p);
    return rc;
}
