/*
 * fault.c: the faults (fault.h).
 */
#include "fault.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

void pvt_fault_crash(void)
{
    char *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    /* The store cannot be dropped: the asm tells the compiler the page may
     * be read afterwards. Should mmap fail, a NULL store crashes as well. */
    if (p == MAP_FAILED)
        p = NULL;
    __asm__ __volatile__("" : "+r"(p));
    *p = 1;
    __asm__ __volatile__("" : : "r"(p) : "memory");
    abort(); /* not reached */
}

void pvt_fault_abort(void)
{
    abort();
}

void pvt_fault_exit(int code)
{
    _exit(code);
}

void pvt_fault_hang(void)
{
    uint64_t spins = 0;

    for (;;) {
        spins++;
        __asm__ __volatile__("" : "+r"(spins));
    }
}

uint64_t pvt_fault_slow(uint64_t ms)
{
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
    return ms;
}

uint64_t pvt_fault_leak(uint64_t mb)
{
    size_t bytes = (size_t)mb << 20;
    char *p = malloc(bytes);

    if (!p)
        return 0;
    /* Touched, so the pages count in RSS; never freed, on purpose. */
    memset(p, 0xa5, bytes);
    __asm__ __volatile__("" : : "r"(p) : "memory");
    return bytes;
}

static _Thread_local struct {
    unsigned char *p;
    size_t len;
} shared_areas[PVT_FAULT_SHARED_MAX];

void pvt_fault_share(void *p, size_t len)
{
    int i;

    if (len == 0) {
        memset(shared_areas, 0, sizeof(shared_areas));
        return;
    }
    for (i = 0; i < PVT_FAULT_SHARED_MAX; i++) {
        if (!shared_areas[i].p) {
            shared_areas[i].p = p;
            shared_areas[i].len = len;
            return;
        }
    }
}

uint64_t pvt_fault_scribble(uint64_t seed)
{
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1, total = 0;
    size_t k;
    int i;

    for (i = 0; i < PVT_FAULT_SHARED_MAX; i++) {
        unsigned char *p = shared_areas[i].p;
        size_t len = shared_areas[i].len;
        if (!p)
            continue;
        if (seed == 0) {
            memset(p, 0xff, len);
        } else {
            for (k = 0; k < len; k++) {
                x ^= x << 13; /* xorshift64 */
                x ^= x >> 7;
                x ^= x << 17;
                p[k] = (unsigned char)x;
            }
        }
        __asm__ __volatile__("" : : "r"(p) : "memory");
        total += len;
    }
    return total;
}
