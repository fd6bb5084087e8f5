/*
 * fuzz_resp.c: the response parser of pvt load (bench/load/load_resp.c), the
 * load generator's side of every request, on any bytes a server may send.
 *
 * The input is parsed as a stream of responses, fed in pieces whose sizes
 * come from its first byte, and again in one piece. pvt_resp_parse must
 * consume no more than it is given, make progress whenever a response
 * completes, and come to the same verdict (the same responses, statuses
 * and end) whatever the split.
 */
#include <string.h>

#include "fuzz.h"
#include "bench/load/load_resp.h"

#define MAX_RESPONSES 4096

struct verdict {
    int n;        /* responses completed */
    int status_sum;
    int end;      /* 0: more needed, -1: malformed, 2: the body runs to EOF */
};

static void parse_stream(const char *in, size_t len, size_t piece, struct verdict *v)
{
    struct pvt_resp r;
    size_t off = 0, end, used;
    int rc;

    memset(v, 0, sizeof(*v));
    pvt_resp_reset(&r);
    while (off < len && v->n < MAX_RESPONSES) {
        end = off + piece < len ? off + piece : len;
        /* Feed [off, end) until it is used up or a response completes. */
        used = 0;
        rc = pvt_resp_parse(&r, in + off, end - off, &used);
        if (rc < 0) {
            v->end = -1;
            return;
        }
        FUZZ_CHECK(used <= end - off);
        if (r.state == PVT_RESP_UNTIL_EOF) {
            FUZZ_CHECK(rc == 0 && used == end - off);
            v->end = 2;
            off = end;
            continue;
        }
        if (rc == 1) {
            v->n++;
            v->status_sum += r.status;
            FUZZ_CHECK(used > 0 && r.status >= 100 && r.status <= 999);
            pvt_resp_reset(&r);
        } else {
            FUZZ_CHECK(used == end - off);
        }
        off += used;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct verdict a, b;

    if (size < 1)
        return 0;
    parse_stream((const char *)data + 1, size - 1, 1 + data[0] % 64, &a);
    parse_stream((const char *)data + 1, size - 1, size, &b);
    if (a.n < MAX_RESPONSES && b.n < MAX_RESPONSES)
        FUZZ_CHECK(a.n == b.n && a.status_sum == b.status_sum && a.end == b.end);
    return 0;
}
