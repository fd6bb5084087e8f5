/*
 * bench_loop.h: loop mode, the event-loop lesson. One event loop answers
 * light requests while heavy CPU requests arrive: inline (the loop runs them
 * and every light request waits behind one), N loops (processes or threads),
 * or one loop that hands the heavy routes to a pool (threads or processes:
 * Node's worker_threads, a child_process pool). The mode entry, its run
 * (bench_loop.c), plots (plot_loop.c) and report (report_loop.c).
 */
#ifndef PVT_BENCH_LOOP_H
#define PVT_BENCH_LOOP_H

#include "bench/common/mode.h"
#include "bench/plot/plot.h"
#include "bench/report/report.h"

/* The light stream: GET / at a constant rate. */
#define PVT_LOOP_LIGHT_ROUTE "/"
/* The two phases of a repetition: light and heavy together, then light alone. */
#define PVT_LOOP_MIXED "mixed"
#define PVT_LOOP_LIGHT "light-only"

extern const struct pvt_mode pvt_mode_loop;
void pvt__plot_loop(struct pvt_plot_out *o);
extern const struct pvt_rep_mode pvt__rep_loop;

#endif
