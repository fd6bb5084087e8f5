/*
 * parse.c: strict parsers for command-line values (see parse.h).
 *
 * Each parser scans the whole string before it judges it, so a malformed
 * value is -EINVAL even when it also holds a number too large to represent
 * ("99999999999999999999x" is -EINVAL, "99999999999999999999" is -ERANGE).
 * Only ASCII decimal digits are accepted: no sign, no spaces, no base prefix.
 */
#include "parse.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

/*
 * Scan decimal digits at *p into *out and advance *p past them. Returns
 * -EINVAL when there is no digit, 1 when the value overflowed uint64_t (the
 * digits are consumed all the same), 0 otherwise.
 */
static int scan_u64(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    int overflow = 0;

    if (*s < '0' || *s > '9')
        return -EINVAL;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            overflow = 1;
        else
            v = v * 10 + d;
    }
    *p = s;
    *out = v;
    return overflow;
}

/* v * mult into *out, or -ERANGE. */
static int mul_u64(uint64_t v, uint64_t mult, uint64_t *out)
{
    if (mult != 0 && v > UINT64_MAX / mult)
        return -ERANGE;
    *out = v * mult;
    return 0;
}

int pvt_parse_count(const char *s, uint64_t *out)
{
    const char *p = s;
    uint64_t v, mult = 1;
    int rc;

    if (!s || !out)
        return -EINVAL;
    rc = scan_u64(&p, &v);
    if (rc < 0)
        return rc;
    switch (*p) {
    case '\0':
        break;
    case 'k':
    case 'K':
        mult = 1000;
        p++;
        break;
    case 'M':
        mult = 1000 * 1000;
        p++;
        break;
    case 'G':
        mult = 1000 * 1000 * 1000;
        p++;
        break;
    default:
        return -EINVAL;
    }
    if (*p != '\0')
        return -EINVAL;
    if (rc > 0)
        return -ERANGE;
    return mul_u64(v, mult, out);
}

int pvt_parse_size(const char *s, uint64_t *out)
{
    const char *p = s;
    uint64_t v, mult = 1;
    int rc;

    if (!s || !out)
        return -EINVAL;
    rc = scan_u64(&p, &v);
    if (rc < 0)
        return rc;
    switch (*p) {
    case 'K':
        mult = UINT64_C(1) << 10;
        break;
    case 'M':
        mult = UINT64_C(1) << 20;
        break;
    case 'G':
        mult = UINT64_C(1) << 30;
        break;
    default:
        break;
    }
    if (mult != 1) {
        p++;
        if (strcmp(p, "iB") == 0 || strcmp(p, "B") == 0 || *p == '\0')
            p += strlen(p);
    } else if (strcmp(p, "B") == 0) {
        p++; /* "512B": plain bytes */
    }
    if (*p != '\0')
        return -EINVAL;
    if (rc > 0)
        return -ERANGE;
    return mul_u64(v, mult, out);
}

int pvt_parse_duration_ms(const char *s, uint64_t *out)
{
    const char *p = s;
    uint64_t whole, ms, frac = 0;
    int rc, has_frac = 0, overflow;

    if (!s || !out)
        return -EINVAL;
    rc = scan_u64(&p, &whole);
    if (rc < 0)
        return rc;
    overflow = rc;
    if (*p == '.') {
        /*
         * Milliseconds from the first three digits of the fraction, rounded
         * half up on the fourth; the digits past it cannot change the result.
         */
        int i;
        p++;
        if (*p < '0' || *p > '9')
            return -EINVAL;
        for (i = 0; *p >= '0' && *p <= '9'; i++, p++) {
            if (i < 3)
                frac = frac * 10 + (uint64_t)(*p - '0');
            else if (i == 3 && *p >= '5')
                frac++;
        }
        for (; i < 3; i++)
            frac *= 10;
        has_frac = 1;
    }
    if (strcmp(p, "ms") == 0) {
        if (has_frac)
            return -EINVAL; /* the result is whole milliseconds */
        if (overflow)
            return -ERANGE;
        *out = whole;
        return 0;
    }
    if (strcmp(p, "s") != 0)
        return -EINVAL;
    if (overflow || mul_u64(whole, 1000, &ms) < 0 || ms > UINT64_MAX - frac)
        return -ERANGE;
    *out = ms + frac;
    return 0;
}

int pvt_parse_int(const char *s, long min, long max, long *out)
{
    const char *p = s;
    uint64_t v;
    int rc;

    if (!s || !out)
        return -EINVAL;
    rc = scan_u64(&p, &v);
    if (rc < 0)
        return rc;
    if (*p != '\0')
        return -EINVAL;
    if (rc > 0 || v > (uint64_t)LONG_MAX || (long)v < min || (long)v > max)
        return -ERANGE;
    *out = (long)v;
    return 0;
}

/* 1 when every value in [a, b] lies in [min, max]. */
static int in_bounds(uint64_t a, uint64_t b, long min, long max)
{
    if (max < 0 || b > (uint64_t)max)
        return 0;
    return min <= 0 || a >= (uint64_t)min;
}

int pvt_parse_int_list(const char *s, long min, long max, long *out, int maxn)
{
    const char *p = s;
    int n = 0, range_err = 0;

    if (!s || maxn < 0 || (maxn > 0 && !out))
        return -EINVAL;
    /*
     * One pass over the whole list: a syntax error anywhere wins over a range
     * error, so "99,x" is -EINVAL. Nothing is written after the first range
     * error.
     */
    for (;;) {
        uint64_t a, b;
        int ovf_a, ovf_b = 0;

        ovf_a = scan_u64(&p, &a);
        if (ovf_a < 0)
            return -EINVAL;
        b = a;
        if (*p == '-') {
            p++;
            ovf_b = scan_u64(&p, &b);
            if (ovf_b < 0)
                return -EINVAL;
        }
        if (*p != ',' && *p != '\0')
            return -EINVAL;
        if (!ovf_a && !ovf_b && a > b)
            return -EINVAL;
        if (!range_err) {
            if (ovf_a || ovf_b || !in_bounds(a, b, min, max) || b - a >= (uint64_t)(maxn - n)) {
                range_err = 1;
            } else {
                for (uint64_t v = a;; v++) {
                    out[n++] = (long)v;
                    if (v == b)
                        break;
                }
            }
        }
        if (*p == '\0')
            break;
        p++;
    }
    return range_err ? -ERANGE : n;
}

int pvt_split_list(const char *s, char *buf, size_t buflen, char **items, int maxn)
{
    size_t len;
    int count = 1;
    char *p;

    if (!s || maxn < 0 || (maxn > 0 && !items))
        return -EINVAL;
    len = strlen(s);
    if (!buf || len >= buflen)
        return -ERANGE;
    /* Judge the whole list before writing anything. */
    if (len == 0 || s[0] == ',' || s[len - 1] == ',' || strstr(s, ",,"))
        return -EINVAL;
    for (const char *c = s; *c; c++)
        count += *c == ',';
    if (count > maxn)
        return -ERANGE;
    memcpy(buf, s, len + 1);
    p = buf;
    for (int i = 0; i < count; i++) {
        char *comma = strchr(p, ',');
        items[i] = p;
        if (comma) {
            *comma = '\0';
            p = comma + 1;
        }
    }
    return count;
}
