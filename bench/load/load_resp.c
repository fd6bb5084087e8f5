/*
 * load_resp.c: the load generator's HTTP/1.x response parser. It reads only
 * what pvt load needs: the status, Content-Length and Connection; a body
 * without a length is delimited by the connection's close.
 */
#include "load_resp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void pvt_resp_reset(struct pvt_resp *r)
{
    memset(r, 0, sizeof(*r));
    r->length = -1;
}

/* Parses the line in r->line (no CR LF). 0, or -1 when malformed. */
static int parse_line(struct pvt_resp *r)
{
    const char *v;

    if (r->state == PVT_RESP_STATUS) {
        if (strncmp(r->line, "HTTP/1.", 7) != 0 || (r->line[7] != '0' && r->line[7] != '1') ||
            r->line[8] != ' ' || sscanf(r->line + 9, "%3d", &r->status) != 1 || r->status < 100)
            return -1;
        r->http10 = r->line[7] == '0';
        r->state = PVT_RESP_HEADERS;
        return 0;
    }
    v = strchr(r->line, ':');
    if (!v)
        return -1;
    for (v++; *v == ' ' || *v == '\t'; v++)
        ;
    if (strncasecmp(r->line, "Content-Length:", 15) == 0) {
        char *end;
        unsigned long long n = strtoull(v, &end, 10);
        if (end == v || r->length >= 0)
            return -1;
        r->length = (int64_t)n;
    } else if (strncasecmp(r->line, "Connection:", 11) == 0) {
        if (strcasestr(v, "close"))
            r->close = 1;
        if (strcasestr(v, "keep-alive"))
            r->keep_alive = 1;
    } else if (strncasecmp(r->line, "Transfer-Encoding:", 18) == 0) {
        return -1; /* chunked bodies are not needed: pvt's server sends lengths */
    }
    return 0;
}

/* The headers are complete: how is the body delimited? 0 or -1. */
static int headers_done(struct pvt_resp *r)
{
    if (r->http10 && !r->keep_alive)
        r->close = 1;
    if (r->status == 204 || r->status == 304 || r->status < 200)
        r->length = 0;
    if (r->length >= 0) {
        r->left = (uint64_t)r->length;
        r->state = PVT_RESP_BODY;
        return 0;
    }
    /* No length: only a closing connection can delimit the body. */
    if (!r->close)
        return -1;
    r->state = PVT_RESP_UNTIL_EOF;
    return 0;
}

int pvt_resp_parse(struct pvt_resp *r, const char *buf, size_t len, size_t *used)
{
    size_t i = 0, n;

    while (i < len && (r->state == PVT_RESP_STATUS || r->state == PVT_RESP_HEADERS)) {
        char ch = buf[i++];
        if (++r->header_bytes > PVT_RESP_MAX_HEADER_BYTES)
            return -1;
        if (ch != '\n') {
            if (ch != '\r' && r->linelen < sizeof(r->line) - 1)
                r->line[r->linelen++] = ch;
            continue;
        }
        r->line[r->linelen] = '\0';
        if (r->linelen == 0 && r->state == PVT_RESP_HEADERS) {
            if (headers_done(r) < 0)
                return -1;
        } else if (parse_line(r) < 0) {
            return -1;
        }
        r->linelen = 0;
    }
    if (r->state == PVT_RESP_UNTIL_EOF) {
        *used = len;
        return 0;
    }
    if (r->state == PVT_RESP_BODY) {
        n = len - i < r->left ? len - i : (size_t)r->left;
        r->left -= n;
        i += n;
        *used = i;
        return r->left == 0;
    }
    *used = i;
    return 0;
}
