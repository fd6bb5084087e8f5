/*
 * fuzz_msg.c: the decoder of the messages between a pool's primary and its
 * workers (shared/core/msg.c), on any bytes.
 *
 * pvt_msg_decode must return one of its documented codes, leave its outputs
 * untouched on failure, and on success describe exactly the datagram it was
 * given: a known type, a length within PVT_MSG_MAX equal to the bytes after
 * the header, a payload pointer into the input, a worker in range. A decoded
 * message encodes back to the same bytes.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "shared/core/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned char again[PVT_MSG_WIRE_MAX];
    struct pvt_msg m = {.type = 0xdeadu}, was = m;
    int worker = -77, rc = pvt_msg_decode(data, size, &m, &worker), n;

    FUZZ_CHECK(rc == 0 || rc == -EBADMSG || rc == -EMSGSIZE);
    if (rc < 0) {
        FUZZ_CHECK(memcmp(&m, &was, sizeof(m)) == 0 && worker == -77);
        return 0;
    }
    FUZZ_CHECK(m.type >= PVT_MSG_HELLO && m.type <= PVT_MSG_TYPE_LAST);
    FUZZ_CHECK(m.len <= PVT_MSG_MAX && PVT_MSG_HDR_SIZE + m.len == size);
    FUZZ_CHECK(m.len == 0 || (const uint8_t *)m.data == data + PVT_MSG_HDR_SIZE);
    FUZZ_CHECK(worker >= 0 && worker < PVT_MAX_WORKERS);
    FUZZ_CHECK(pvt_msg_check(&m) == 0);
    n = pvt_msg_encode(&m, worker, again, sizeof(again));
    FUZZ_CHECK(n >= 0 && (size_t)n == size && memcmp(again, data, size) == 0);
    return 0;
}
