/*
 * parse.h: strict parsers for the values users type on the command line.
 *
 * Every parser accepts the whole string or nothing: leading or trailing junk,
 * an empty string, a sign, or an overflow is an error. They return 0, or
 * -EINVAL for a malformed value, or -ERANGE for one out of bounds.
 */
#ifndef PVT_PARSE_H
#define PVT_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* A count: decimal digits with an optional k, M or G suffix (x1000). "50M". */
int pvt_parse_count(const char *s, uint64_t *out);

/* A size in bytes: digits with an optional K, M or G suffix (x1024, "KiB" and
 * "KB" spellings too), "64M", "1GiB". */
int pvt_parse_size(const char *s, uint64_t *out);

/* A duration: digits (with an optional fraction) and a unit: ms, s. "250ms". */
int pvt_parse_duration_ms(const char *s, uint64_t *out);

/* A decimal integer within [min, max]. */
int pvt_parse_int(const char *s, long min, long max, long *out);

/*
 * A comma-separated list of integers within [min, max], each an integer or a
 * range "A-B" (A <= B). Writes at most maxn values to out; returns the count,
 * -EINVAL for a malformed list (empty item, junk), -ERANGE for a value out of
 * bounds or more than maxn values.
 */
int pvt_parse_int_list(const char *s, long min, long max, long *out, int maxn);

/*
 * Split a comma-separated list into items. Returns the count of items written
 * to items (pointers into buf, which receives a copy of s), -EINVAL for an
 * empty list or an empty item, -ERANGE for more than maxn items or a string
 * longer than buflen - 1.
 */
int pvt_split_list(const char *s, char *buf, size_t buflen, char **items, int maxn);

#endif
