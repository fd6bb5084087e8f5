/*
 * fuzz_csv.c: the results reader pvt plot and pvt report use
 * (bench/results/csv.c), on any bytes.
 *
 * pvt_csv_parse must return one of its documented codes. On success the
 * table is whole: a header of at least one column, every cell a string,
 * lookups by name and position agree, and numbers read back finite. On
 * -EBADMSG it holds no rows and names a line of the input. Either way the
 * table frees cleanly (leaks are LeakSanitizer's to find).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/results/csv.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pvt_table t;
    size_t lines = 1, i;
    int rc = pvt_csv_parse((const char *)data, size, &t), r, c;
    double v;

    for (i = 0; i < size; i++)
        lines += data[i] == '\n';
    FUZZ_CHECK(rc == 0 || rc == -EBADMSG || rc == -ENODATA || rc == -ENOMEM);
    if (rc == -EBADMSG) {
        FUZZ_CHECK(t.nrows == 0 && t.err_line >= 1 && (size_t)t.err_line <= lines);
    } else if (rc == 0) {
        FUZZ_CHECK(t.ncols >= 1 && t.nrows >= 0 && (size_t)t.nrows < lines);
        for (c = 0; c < t.ncols; c++) {
            FUZZ_CHECK(t.cols[c]);
            FUZZ_CHECK(pvt_table_col(&t, t.cols[c]) <= c);
        }
        for (r = 0; r < t.nrows; r++) {
            for (c = 0; c < t.ncols; c++) {
                FUZZ_CHECK(pvt_table_get(&t, r, c) == t.cells[(size_t)r * t.ncols + c]);
                if (pvt_table_num(&t, r, c, &v))
                    FUZZ_CHECK(isfinite(v));
            }
            FUZZ_CHECK(strcmp(pvt_table_get(&t, r, -1), "") == 0);
        }
        FUZZ_CHECK(strcmp(pvt_table_get(&t, t.nrows, 0), "") == 0);
    }
    pvt_table_free(&t);
    return 0;
}
