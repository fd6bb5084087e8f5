/*
 * serve_slots.c: which ring is which in a serving pool, as the driver knows
 * it from its own memory: a ring's place in the region (from its pointer,
 * checked against the driver's array), its rr channel, its generation.
 * serve_net.c (the sockets) and serve_rr.c (the hand-off) both use these.
 */
#include "serve.h"

#include <stdint.h>
#include <stdlib.h>

struct pvt_serve_gen *pvt_serve_net_gen(const struct pvt_serve_net *net, struct pvt_ring *r)
{
    (void)net;
    return &r->info.gen;
}

int pvt_serve_net_index(const struct pvt_serve_net *net, const struct pvt_ring *r)
{
    /* The rings are evenly spaced in one mapping: the place follows from
     * the pointer, checked against the driver's own array. */
    uintptr_t first = (uintptr_t)net->all[0], stride = (uintptr_t)net->all[1] - first;
    uintptr_t at = (uintptr_t)r, k;

    if (at < first || stride == 0 || (at - first) % stride != 0)
        return -1;
    k = (at - first) / stride;
    return k < (uintptr_t)(2 * net->cap) && net->all[k] == r ? (int)k : -1;
}

int pvt__serve_ring_index(const struct pvt_serve_net *net, const struct pvt_ring *r)
{
    int k = pvt_serve_net_index(net, r);

    if (k < 0)
        abort();
    return k;
}

int *pvt_serve_net_chan(const struct pvt_serve_net *net, const struct pvt_ring *r)
{
    return net->chan[pvt__serve_ring_index(net, r)];
}
