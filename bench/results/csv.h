/*
 * csv.h: reading a results.csv back (pvt plot, pvt report).
 *
 * The reader takes what pvt_csv_write writes (RFC 4180 quoting, LF or CRLF
 * line ends) and nothing looser: a row with more or fewer fields than the
 * header, an unterminated quote or a stray quote inside an unquoted field is
 * an error with the line it was on. A file cut short at the end (an
 * interrupted writer, though pvt writes atomically) loses only its last,
 * partial line when that line lacks its newline: pvt_csv_parse reports it in
 * truncated rather than failing.
 */
#ifndef PVT_CSV_H
#define PVT_CSV_H

#include <stddef.h>

struct pvt_table {
    int ncols, nrows;
    char **cols;  /* ncols header names */
    char **cells; /* nrows x ncols values, row-major; never NULL ("" if empty) */
    int truncated; /* 1 if a last line without its newline was dropped */
    int err_line;  /* on -EBADMSG: the 1-based line at fault */
};

/*
 * Parse len bytes of buf (no terminating NUL needed) into *out. Returns 0;
 * -EBADMSG for a malformed file (out->err_line says where; *out holds no
 * rows then and must still be freed), -ENODATA for an empty file or one
 * without a header, -ENOMEM.
 */
int pvt_csv_parse(const char *buf, size_t len, struct pvt_table *out);

/* Read path and parse it. Returns as pvt_csv_parse, or -errno from open/read. */
int pvt_csv_load(const char *path, struct pvt_table *out);

/* The index of column name, or -1. */
int pvt_table_col(const struct pvt_table *t, const char *name);

/* The cell at row, col ("" when col is -1: a column the file lacks). */
const char *pvt_table_get(const struct pvt_table *t, int row, int col);

/* The cell as a number: 1 and *v, or 0 if it is empty or not a number. */
int pvt_table_num(const struct pvt_table *t, int row, int col, double *v);

void pvt_table_free(struct pvt_table *t);

#endif
