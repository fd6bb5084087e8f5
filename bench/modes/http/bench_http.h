/*
 * bench_http.h: serve mode (`pvt serve` driven by `pvt load`): the mode entry, its
 * plots (plot_http.c) and report (report_http.c).
 */
#ifndef PVT_BENCH_HTTP_H
#define PVT_BENCH_HTTP_H

#include "bench/common/mode.h"
#include "bench/plot/plot.h"
#include "bench/report/report.h"

extern const struct pvt_mode pvt_mode_http;
void pvt__plot_http(struct pvt_plot_out *o);
extern const struct pvt_rep_mode pvt__rep_http;

#endif
