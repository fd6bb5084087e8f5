/*
 * csv.c: the results.csv reader (see csv.h).
 *
 * One pass over the bytes: a field is either bare (up to the next comma or
 * line end, and holding no quote) or quoted (up to a quote not doubled, then
 * a comma or a line end). Fields are collected into one growing array of
 * strings; every line must have as many as the header.
 */
#include "csv.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CSV_MAX_BYTES (256u << 20) /* a results.csv is far smaller */

struct strs {
    char **v;
    size_t n, cap;
};

static int strs_push(struct strs *s, const char *p, size_t len)
{
    char *c;

    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        char **v = realloc(s->v, cap * sizeof(*v));

        if (!v)
            return -ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    c = malloc(len + 1);
    if (!c)
        return -ENOMEM;
    memcpy(c, p, len);
    c[len] = '\0';
    s->v[s->n++] = c;
    return 0;
}

static void strs_free(struct strs *s, size_t from)
{
    for (size_t i = from; i < s->n; i++)
        free(s->v[i]);
    s->n = from;
}

/*
 * Read one field at buf[*pos] into f (its unquoted text in scratch). Returns
 * the byte that ended it (',' or '\n'), 0 at the end of the input with no
 * line end, or -1 for a malformed field.
 */
static int field(const char *buf, size_t len, size_t *pos, char *scratch, size_t *flen)
{
    size_t i = *pos, n = 0;

    if (i < len && buf[i] == '"') {
        for (i++;; i++) {
            if (i >= len)
                return -1; /* unterminated quote */
            if (buf[i] == '"') {
                if (i + 1 < len && buf[i + 1] == '"') {
                    scratch[n++] = '"';
                    i++;
                    continue;
                }
                i++;
                break;
            }
            scratch[n++] = buf[i];
        }
    } else {
        for (; i < len && buf[i] != ',' && buf[i] != '\n' && buf[i] != '\r'; i++) {
            if (buf[i] == '"')
                return -1;
            scratch[n++] = buf[i];
        }
    }
    *flen = n;
    if (i < len && buf[i] == '\r')
        i++;
    if (i >= len) {
        *pos = i;
        return 0;
    }
    if (buf[i] != ',' && buf[i] != '\n')
        return -1;
    *pos = i + 1;
    return buf[i];
}

int pvt_csv_parse(const char *buf, size_t len, struct pvt_table *out)
{
    struct strs s = {0};
    size_t pos = 0, flen, ncols = 0;
    char *scratch;
    int line = 1, end, rc = 0;

    memset(out, 0, sizeof(*out));
    if (len == 0)
        return -ENODATA;
    scratch = malloc(len + 1);
    if (!scratch)
        return -ENOMEM;
    while (pos < len) {
        size_t row_start = s.n;

        do {
            end = field(buf, len, &pos, scratch, &flen);
            if (end < 0) {
                rc = -EBADMSG;
                break;
            }
            if ((rc = strs_push(&s, scratch, flen)) < 0)
                break;
        } while (end == ',');
        if (rc < 0)
            break;
        if (end == 0 && line > 1) { /* a last line cut short */
            strs_free(&s, row_start);
            out->truncated = 1;
            break;
        }
        if (line == 1) {
            ncols = s.n;
        } else if (s.n - row_start != ncols) {
            rc = -EBADMSG;
            break;
        }
        line++;
    }
    free(scratch);
    if (rc == 0 && ncols == 0)
        rc = -ENODATA;
    if (rc < 0) {
        out->err_line = rc == -EBADMSG ? line : 0;
        strs_free(&s, 0);
        free(s.v);
        return rc;
    }
    out->ncols = (int)ncols;
    out->nrows = (int)(s.n / ncols) - 1;
    out->cols = s.v;
    out->cells = s.v + ncols;
    return 0;
}

int pvt_csv_load(const char *path, struct pvt_table *out)
{
    struct stat st;
    char *buf;
    size_t got = 0;
    int fd, rc, err;

    memset(out, 0, sizeof(*out));
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > CSV_MAX_BYTES) {
        err = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
        close(fd);
        return -err;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        close(fd);
        return -ENOMEM;
    }
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    rc = pvt_csv_parse(buf, got, out);
    free(buf);
    return rc;
}

int pvt_table_col(const struct pvt_table *t, const char *name)
{
    for (int i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i], name) == 0)
            return i;
    return -1;
}

const char *pvt_table_get(const struct pvt_table *t, int row, int col)
{
    if (col < 0 || col >= t->ncols || row < 0 || row >= t->nrows)
        return "";
    return t->cells[(size_t)row * (size_t)t->ncols + (size_t)col];
}

int pvt_table_num(const struct pvt_table *t, int row, int col, double *v)
{
    const char *s = pvt_table_get(t, row, col);
    char *end;
    double d;

    if (!*s)
        return 0;
    errno = 0;
    d = strtod(s, &end);
    if (*end || errno || !isfinite(d))
        return 0;
    *v = d;
    return 1;
}

void pvt_table_free(struct pvt_table *t)
{
    size_t n = (size_t)t->ncols * ((size_t)t->nrows + 1);

    for (size_t i = 0; t->cols && i < n; i++)
        free(t->cols[i]);
    free(t->cols);
    memset(t, 0, sizeof(*t));
}
