/*
 * fuzz.h: what the fuzz targets share. A failed check prints where it
 * failed and aborts, which libFuzzer reports as a crash and saves the input.
 */
#ifndef PVT_FUZZ_H
#define PVT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_FAIL(...)                                                                  \
    do {                                                                                \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                 \
        fprintf(stderr, __VA_ARGS__);                                                   \
        fputc('\n', stderr);                                                            \
        abort();                                                                        \
    } while (0)

#define FUZZ_CHECK(cond)                                                                \
    do {                                                                                \
        if (!(cond))                                                                    \
            FUZZ_FAIL("check failed: %s", #cond);                                       \
    } while (0)

/* libFuzzer's entry point: every target defines it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
