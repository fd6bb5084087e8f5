# timeline-crash: drawn by pvt plot from this run's results.csv.
# Rerun in this directory with: gnuplot timeline-crash.gp
datafile = "timeline-crash.dat"
ttl = "Fault 'crash' under a constant-rate load: the whole run"
sub = "vm, 2 CPUs, AMD EPYC\n10 ms bins, repetition 1 of each backend"
array R[2] = [0, 10.2]
xmin = -989.8; xmax = 2011.7
fl = "fault"
xl = "ms from the fault (dotted: back to 95 % of the rate)"
N = 2
array T[2]
T[1] = "proc"
T[2] = "thread"
if (!exists("outbase")) outbase = "timeline-crash"

# common.gp: what every pvt plot shares. pvt plot writes a script per plot:
# its variables and data, then this file, then the plot's own template, and
# runs it with gnuplot. The data and the script stay in plots/ beside the
# images, so a plot can be redrawn or restyled by hand.
#
# Variables set before: outbase (the image path without its extension),
# ttl (the title), sub (a line under it: the machine and the run).
set encoding utf8
set termoption noenhanced
set title ttl."\n".sub noenhanced
set grid lc rgb "#dddddd"
set border lc rgb "#555555"
set key noenhanced box opaque
set style line 1 lc rgb "#1f77b4" lw 2 pt 7 ps 0.9
set style line 2 lc rgb "#d62728" lw 2 pt 5 ps 0.9
set style line 3 lc rgb "#2ca02c" lw 2 pt 9 ps 0.9
set style line 4 lc rgb "#9467bd" lw 2 pt 11 ps 0.9
set style line 5 lc rgb "#ff7f0e" lw 2 pt 13 ps 0.9
set style line 6 lc rgb "#8c564b" lw 2 pt 15 ps 0.9
set style line 7 lc rgb "#e377c2" lw 2 pt 4 ps 0.9
set style line 8 lc rgb "#7f7f7f" lw 2 pt 6 ps 0.9
set style increment user
# Each template ends by calling render(): once for PNG, once for SVG.
render(fmt) = fmt eq "png" ? \
    sprintf("set terminal pngcairo noenhanced size 1000,620 font 'DejaVu Sans,11'; set output '%s.png'", outbase) : \
    sprintf("set terminal svg noenhanced size 1000,620 dynamic font 'DejaVu Sans,11'; set output '%s.svg'", outbase)

# timeline.gp: what a fault did to the service, bin by bin (10 ms), one line
# per series: successful responses per second on top, failures per second
# in the middle, p99 latency of each bin below (log). The fault is the
# vertical line at 0; R[i] marks where series i was back to 95 % of its rate.
#
# Variables: datafile (blocks: t_ms ok_per_s failed_per_s p99_ms, t from the
# fault), N, T[N], R[N] (recovery in ms, NaN when never), xmin, xmax, fl (the
# label at 0) and xl (the x axis' label): a steady fault rate (--fault-rate)
# starts at 0 and never stops, and has no recovery.
set xrange [xmin:xmax]
set key top right
do for [fmt in "png svg"] {
    eval render(fmt)
    set multiplot layout 3,1 title ttl."\n".sub
    unset title
    set lmargin 12
    set ylabel "ok responses/s"
    set yrange [0:*]
    unset xlabel
    set format x ""
    unset arrow
    set arrow 1 from 0, graph 0 to 0, graph 1 nohead lc rgb "#000000" lw 1.5
    set label 1 fl at 0, graph 0.92 offset 0.5, 0 left
    do for [i=1:N] {
        if (R[i] == R[i]) {
            set arrow (i + 1) from R[i], graph 0 to R[i], graph 1 nohead ls i dt 3 lw 1.5
        }
    }
    plot for [i=1:N] datafile index (i-1) using 1:2 with lines ls i lw 1.5 title T[i]
    unset label 1
    set key off
    set ylabel "failed/s"
    plot for [i=1:N] datafile index (i-1) using 1:3 with impulses ls i lw 2 notitle
    set ylabel "p99 (ms)"
    set logscale y 10
    set yrange [*:*]
    set format x "%g"
    set xlabel xl
    plot for [i=1:N] datafile index (i-1) using 1:4 with lines ls i lw 1.5 notitle
    unset logscale y
    set key on
    unset multiplot
}
