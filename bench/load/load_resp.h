/* load_resp.h: parsing the responses pvt load reads (load_resp.c). */
#ifndef PVT_LOAD_RESP_H
#define PVT_LOAD_RESP_H

#include <stddef.h>
#include <stdint.h>

#define PVT_RESP_MAX_HEADER_BYTES 65536

enum pvt_resp_state { PVT_RESP_STATUS, PVT_RESP_HEADERS, PVT_RESP_BODY, PVT_RESP_UNTIL_EOF };

/* A response being parsed: headers a line at a time (only the first bytes of
 * a long line are kept; the headers pvt load needs are short), then the body. */
struct pvt_resp {
    int state;
    int status;
    int close;        /* Connection: close, or HTTP/1.0 without keep-alive */
    int keep_alive;   /* Connection: keep-alive */
    int http10;
    int64_t length;   /* Content-Length, -1 if none */
    uint64_t left;    /* body bytes still to come */
    unsigned header_bytes;
    unsigned linelen;
    char line[128];
};

/* Ready for the next response. */
void pvt_resp_reset(struct pvt_resp *r);

/*
 * Feed len bytes. Returns 1 when the response is complete (*used bytes were
 * consumed; the rest belongs to the next response), 0 when more is needed,
 * -1 when the response is malformed.
 */
int pvt_resp_parse(struct pvt_resp *r, const char *buf, size_t len, size_t *used);

#endif
