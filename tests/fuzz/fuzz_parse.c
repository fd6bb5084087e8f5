/*
 * fuzz_parse.c: the parsers for what users type on the command line:
 * shared/base/parse.c (counts, sizes, durations, integers, integer lists, comma
 * lists) and the workload specs built on them (pvt_workload_parse).
 *
 * The input, cut at its first NUL, is given to every parser. Each must
 * return one of its documented codes, and what it accepts must hold up:
 * a value a parser accepts is accepted again when printed back in plain
 * decimal (the value is the same); a list's values lie within its bounds
 * and number at most maxn; the items of a split list, joined with commas,
 * are the input; a workload spec printed by pvt_workload_format parses to
 * the same workload and argument.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "shared/base/parse.h"
#include "shared/work/work.h"

#define LIST_MAX 64

static void check_rc(int rc)
{
    FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ERANGE);
}

/* parse(s) accepted v: v in decimal, with unit after it, must parse to v again. */
static void check_u64(int (*parse)(const char *, uint64_t *), const char *unit, const char *s)
{
    char buf[40];
    uint64_t v = 0, w = 0;
    int rc = parse(s, &v);

    check_rc(rc);
    if (rc < 0)
        return;
    snprintf(buf, sizeof(buf), "%" PRIu64 "%s", v, unit);
    FUZZ_CHECK(parse(buf, &w) == 0 && w == v);
}

static void check_int(const char *s)
{
    long v = 0;
    int rc = pvt_parse_int(s, -5, 1000, &v);

    check_rc(rc);
    FUZZ_CHECK(rc < 0 || (v >= 0 && v <= 1000));
}

static void check_int_list(const char *s)
{
    long out[LIST_MAX];
    int n = pvt_parse_int_list(s, 2, 300, out, LIST_MAX), i;

    FUZZ_CHECK(n >= 0 || n == -EINVAL || n == -ERANGE);
    FUZZ_CHECK(n <= LIST_MAX);
    for (i = 0; i < n; i++)
        FUZZ_CHECK(out[i] >= 2 && out[i] <= 300);
}

static void check_split(const char *s)
{
    char buf[256], joined[256];
    char *items[16];
    size_t off = 0;
    int n = pvt_split_list(s, buf, sizeof(buf), items, 16), i;

    FUZZ_CHECK(n > 0 || n == -EINVAL || n == -ERANGE);
    if (n < 0)
        return;
    FUZZ_CHECK(n <= 16);
    for (i = 0; i < n; i++) {
        size_t len = strlen(items[i]);
        FUZZ_CHECK(len > 0 && off + len + 1 <= sizeof(joined));
        if (i)
            joined[off++] = ',';
        memcpy(joined + off, items[i], len);
        off += len;
    }
    joined[off] = '\0';
    FUZZ_CHECK(strcmp(joined, s) == 0);
}

static void check_workload(const char *s)
{
    char buf[64];
    uint32_t id = 0, id2 = 0;
    uint64_t arg = 0, arg2 = 0;
    int rc = pvt_workload_parse(s, &id, &arg);

    FUZZ_CHECK(rc == 0 || rc == -ENOENT || rc == -EINVAL || rc == -ERANGE);
    if (rc < 0)
        return;
    FUZZ_CHECK(id < PVT_WL_COUNT);
    FUZZ_CHECK(pvt_workloads[id].arg_kind == PVT_ARG_NONE || arg <= pvt_workloads[id].max_arg);
    pvt_workload_format(id, arg, buf, sizeof(buf));
    FUZZ_CHECK(pvt_workload_parse(buf, &id2, &arg2) == 0 && id2 == id && arg2 == arg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    FUZZ_CHECK(s);
    memcpy(s, data, size);
    s[size] = '\0';
    check_u64(pvt_parse_count, "", s);
    check_u64(pvt_parse_size, "", s);
    check_u64(pvt_parse_duration_ms, "ms", s);
    check_int(s);
    check_int_list(s);
    check_split(s);
    check_workload(s);
    free(s);
    return 0;
}
