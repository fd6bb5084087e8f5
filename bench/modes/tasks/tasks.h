/*
 * tasks.h: task mode (a job queue through each backend): the mode entry, its
 * plots (plot_tasks.c) and report (report_tasks.c).
 */
#ifndef PVT_MODE_TASKS_H
#define PVT_MODE_TASKS_H

#include "bench/common/mode.h"
#include "bench/plot/plot.h"
#include "bench/report/report.h"

extern const struct pvt_mode pvt_mode_tasks;
void pvt__plot_tasks(struct pvt_plot_out *o);
extern const struct pvt_rep_mode pvt__rep_tasks;

#endif
