/*
 * res.h: the results directory: meta.json, results.csv and friends.
 *
 * Every file is written to a temporary name in the same directory, flushed and
 * renamed over its final name, so a reader (or an interrupted run) never sees
 * half a file. results.csv is rewritten after each finished configuration, so
 * an interrupted run keeps every row it finished.
 */
#ifndef PVT_RES_H
#define PVT_RES_H

#include <stddef.h>

struct pvt_topo;

#define PVT_RES_SCHEMA 1

/*
 * Prepare a results directory. With dir == NULL, make a new one named
 * "results/YYYYmmdd-HHMMSS-MODE" (a suffix -2, -3... if taken) under the
 * current directory. With a dir given, create it (and its parents) if needed;
 * it must be empty or absent (-EEXIST otherwise, so old results are never
 * overwritten). Checks that it is writable (-EACCES, -EROFS, ...). The path
 * used is copied to path (-ENAMETOOLONG if pathlen is too small).
 */
int pvt_res_prepare_dir(const char *dir, const char *mode, char *path, size_t pathlen);

/* Write len bytes of buf to dir/name atomically. Returns 0 or -errno. */
int pvt_res_write_atomic(const char *dir, const char *name, const void *buf, size_t len);

/*
 * A table kept in memory and written as CSV. Values are copied; a value with a
 * comma, a quote or a newline is quoted as RFC 4180 says.
 */
struct pvt_csv;
int pvt_csv_new(const char *const *columns, int ncolumns, struct pvt_csv **out);
/* Append a row of exactly ncolumns values (NULL is written empty). -EINVAL, -ENOMEM. */
int pvt_csv_add_row(struct pvt_csv *csv, const char *const *values);
int pvt_csv_rows(const struct pvt_csv *csv);
/* Write header and rows to dir/name atomically. */
int pvt_csv_write(const struct pvt_csv *csv, const char *dir, const char *name);
void pvt_csv_free(struct pvt_csv *csv);

/*
 * Write dir/meta.json describing the run: schema, pvt version and git
 * revision, argv, mode, host, CPU model, topology summary, allowed CPUs,
 * cgroup CPU limit, kernel, compiler, flags and build type, start time.
 * extra_json, when not NULL, is a JSON object text whose members are added
 * (the caller's parameters). Returns 0, -EINVAL for bad extra_json, or -errno.
 */
int pvt_meta_write(const char *dir, const char *mode, int argc, char *const *argv,
                   const struct pvt_topo *topo, const char *extra_json);

#endif
