/*
 * res.c: the results directory and atomic file writes (see res.h).
 *
 * A file is written as "dir/.NAME.tmp.PID", flushed with fsync and renamed
 * over dir/NAME, so a reader sees the old file or the new one, never a part.
 * The temporary name holds the pid, so two processes writing the same file
 * never share a temporary; one process must not write the same name from two
 * threads at once.
 *
 * CSV files follow RFC 4180's quoting (a field with a comma, a quote, a CR or
 * an LF is quoted, quotes doubled) but end lines with LF, as Unix tools expect.
 */
#include "res.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RES_DIR_MODE   0755
#define RES_MAX_SUFFIX 1000

/* mkdir that treats an existing directory as success. Returns 1 if it made it. */
static int mkdir_one(const char *path)
{
    struct stat st;
    int err;

    if (mkdir(path, RES_DIR_MODE) == 0)
        return 1;
    err = errno;
    /* mkdir reports EEXIST, or EACCES/EROFS for a parent we may not write. */
    if (stat(path, &st) == 0)
        return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
    return -err;
}

/* mkdir -p. Returns 1 if the last component was made, 0 if it was there. */
static int mkdir_parents(const char *path)
{
    char tmp[PATH_MAX];
    size_t len = strlen(path);
    int rc;

    if (len >= sizeof(tmp))
        return -ENAMETOOLONG;
    memcpy(tmp, path, len + 1);
    while (len > 1 && tmp[len - 1] == '/')
        tmp[--len] = '\0';
    for (size_t i = 1; i < len; i++) {
        if (tmp[i] != '/' || tmp[i - 1] == '/')
            continue;
        tmp[i] = '\0';
        rc = mkdir_one(tmp);
        tmp[i] = '/';
        if (rc < 0)
            return rc;
    }
    return mkdir_one(tmp);
}

/* 1 if the directory at path holds nothing but "." and "..", 0 if it does, or -errno. */
static int dir_is_empty(const char *path)
{
    struct dirent *de;
    int fd, err, empty = 1;
    DIR *d;

    fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    d = fdopendir(fd);
    if (!d) {
        err = errno;
        close(fd);
        return -err;
    }
    for (;;) {
        errno = 0;
        de = readdir(d);
        if (!de) {
            err = errno;
            break;
        }
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            empty = 0;
            err = 0;
            break;
        }
    }
    closedir(d);
    return err ? -err : empty;
}

/* Create and remove a file in dir: the error says why a run could not write there. */
static int check_writable(const char *dir)
{
    char probe[PATH_MAX];
    int fd, n;

    n = snprintf(probe, sizeof(probe), "%s/.pvt-probe.%ld", dir, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof(probe))
        return -ENAMETOOLONG;
    do {
        fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return -errno;
    close(fd);
    if (unlink(probe) < 0)
        return -errno;
    return 0;
}

/* Make a new "results/STAMP-MODE[-K]" directory and copy its name to path. */
static int make_default_dir(const char *mode, char *path, size_t pathlen)
{
    char stamp[32];
    struct tm tm;
    time_t now = time(NULL);
    int rc, n;

    if (!mode || !*mode || strchr(mode, '/'))
        return -EINVAL;
    if (!localtime_r(&now, &tm) || strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm) == 0)
        return -EINVAL;
    rc = mkdir_parents("results");
    if (rc < 0)
        return rc;
    for (int k = 1; k <= RES_MAX_SUFFIX; k++) {
        if (k == 1)
            n = snprintf(path, pathlen, "results/%s-%s", stamp, mode);
        else
            n = snprintf(path, pathlen, "results/%s-%s-%d", stamp, mode, k);
        if (n < 0 || (size_t)n >= pathlen)
            return -ENAMETOOLONG;
        if (mkdir(path, RES_DIR_MODE) == 0)
            return 0;
        if (errno != EEXIST)
            return -errno;
    }
    return -EEXIST;
}

/* Use dir (made if absent), which must be an empty directory. Returns 1 if made. */
static int use_given_dir(const char *dir)
{
    struct stat st;
    int rc;

    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return -ENOTDIR;
        rc = dir_is_empty(dir);
        if (rc < 0)
            return rc;
        return rc ? 0 : -EEXIST;
    }
    if (errno != ENOENT)
        return -errno;
    rc = mkdir_parents(dir);
    if (rc == 0)
        return -EEXIST; /* someone made it between our stat and mkdir */
    return rc;
}

int pvt_res_prepare_dir(const char *dir, const char *mode, char *path, size_t pathlen)
{
    int rc, made;

    if (!path || pathlen == 0)
        return -EINVAL;
    if (dir) {
        size_t len = strlen(dir);
        if (len == 0)
            return -EINVAL;
        if (len >= pathlen)
            return -ENAMETOOLONG;
        made = use_given_dir(dir);
        if (made < 0)
            return made;
        memcpy(path, dir, len + 1);
    } else {
        rc = make_default_dir(mode, path, pathlen);
        if (rc < 0)
            return rc;
        made = 1;
    }
    rc = check_writable(path);
    if (rc < 0) {
        if (made)
            rmdir(path);
        return rc;
    }
    return 0;
}

/* Write all of buf to fd, retrying short writes and EINTR. */
static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* fsync a directory so a rename in it survives a crash. Best effort. */
static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int pvt_res_write_atomic(const char *dir, const char *name, const void *buf, size_t len)
{
    char tmp[PATH_MAX], dst[PATH_MAX];
    int fd = -1, rc, n;

    if (!dir || !name || !*name || strchr(name, '/') || (!buf && len > 0))
        return -EINVAL;
    n = snprintf(dst, sizeof(dst), "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof(dst))
        return -ENAMETOOLONG;
    n = snprintf(tmp, sizeof(tmp), "%s/.%s.tmp.%ld", dir, name, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return -ENAMETOOLONG;
    do {
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return -errno;
    rc = write_all(fd, buf, len);
    if (rc < 0)
        goto fail;
    if (fsync(fd) < 0) {
        rc = -errno;
        goto fail;
    }
    /* On Linux the fd is gone after close, even on EINTR: never retry it. */
    rc = close(fd);
    fd = -1;
    if (rc < 0 && errno != EINTR) {
        rc = -errno;
        goto fail;
    }
    if (rename(tmp, dst) < 0) {
        rc = -errno;
        goto fail;
    }
    sync_dir(dir);
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return rc;
}

struct pvt_csv {
    int ncols;
    char **header; /* ncols names */
    int nrows;
    int caprows;
    char **cells; /* nrows * ncols values, row after row; never NULL */
};

/* A growing byte buffer; err is set once an allocation fails. */
struct sbuf {
    char *p;
    size_t len;
    size_t cap;
    int err;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
    if (b->err)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        char *p;
        while (cap < b->len + n)
            cap *= 2;
        p = realloc(b->p, cap);
        if (!p) {
            b->err = -ENOMEM;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

/* One field, quoted if it holds a comma, a quote, a CR or an LF. */
static void sb_field(struct sbuf *b, const char *v)
{
    if (!strpbrk(v, ",\"\r\n")) {
        sb_put(b, v, strlen(v));
        return;
    }
    sb_put(b, "\"", 1);
    for (const char *q; (q = strchr(v, '"')); v = q + 1) {
        sb_put(b, v, (size_t)(q - v) + 1);
        sb_put(b, "\"", 1);
    }
    sb_put(b, v, strlen(v));
    sb_put(b, "\"", 1);
}

static void sb_row(struct sbuf *b, char *const *values, int n)
{
    for (int i = 0; i < n; i++) {
        if (i > 0)
            sb_put(b, ",", 1);
        sb_field(b, values[i]);
    }
    sb_put(b, "\n", 1);
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
}

int pvt_csv_new(const char *const *columns, int ncolumns, struct pvt_csv **out)
{
    struct pvt_csv *csv;

    if (!columns || ncolumns < 1 || !out)
        return -EINVAL;
    for (int i = 0; i < ncolumns; i++)
        if (!columns[i])
            return -EINVAL;
    csv = calloc(1, sizeof(*csv));
    if (!csv)
        return -ENOMEM;
    csv->header = calloc((size_t)ncolumns, sizeof(*csv->header));
    if (!csv->header)
        goto fail;
    csv->ncols = ncolumns;
    for (int i = 0; i < ncolumns; i++) {
        csv->header[i] = strdup(columns[i]);
        if (!csv->header[i])
            goto fail;
    }
    *out = csv;
    return 0;
fail:
    pvt_csv_free(csv);
    return -ENOMEM;
}

int pvt_csv_add_row(struct pvt_csv *csv, const char *const *values)
{
    size_t base;
    int i;

    if (!csv || !values)
        return -EINVAL;
    if (csv->nrows == csv->caprows) {
        int cap = csv->caprows ? csv->caprows * 2 : 16;
        char **cells;
        if (cap < 0 || (size_t)cap > SIZE_MAX / sizeof(char *) / (size_t)csv->ncols)
            return -ENOMEM;
        cells = realloc(csv->cells, (size_t)cap * (size_t)csv->ncols * sizeof(char *));
        if (!cells)
            return -ENOMEM;
        csv->cells = cells;
        csv->caprows = cap;
    }
    base = (size_t)csv->nrows * (size_t)csv->ncols;
    for (i = 0; i < csv->ncols; i++) {
        csv->cells[base + i] = strdup(values[i] ? values[i] : "");
        if (!csv->cells[base + i])
            goto fail;
    }
    csv->nrows++;
    return 0;
fail:
    free_strings(csv->cells + base, (size_t)i);
    return -ENOMEM;
}

int pvt_csv_rows(const struct pvt_csv *csv)
{
    return csv ? csv->nrows : 0;
}

int pvt_csv_write(const struct pvt_csv *csv, const char *dir, const char *name)
{
    struct sbuf b = {0};
    int rc;

    if (!csv)
        return -EINVAL;
    sb_row(&b, csv->header, csv->ncols);
    for (int r = 0; r < csv->nrows; r++)
        sb_row(&b, csv->cells + (size_t)r * (size_t)csv->ncols, csv->ncols);
    rc = b.err ? b.err : pvt_res_write_atomic(dir, name, b.p, b.len);
    free(b.p);
    return rc;
}

void pvt_csv_free(struct pvt_csv *csv)
{
    if (!csv)
        return;
    if (csv->header)
        free_strings(csv->header, (size_t)csv->ncols);
    free(csv->header);
    if (csv->cells)
        free_strings(csv->cells, (size_t)csv->nrows * (size_t)csv->ncols);
    free(csv->cells);
    free(csv);
}
