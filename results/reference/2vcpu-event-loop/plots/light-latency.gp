# light-latency: drawn by pvt plot from this run's results.csv.
# Rerun in this directory with: gnuplot light-latency.gp
datafile = "light-latency.dat"
ttl = "Light requests beside heavy ones: latency by percentile"
sub = "vm, 2 CPUs, AMD EPYC\nlight requests (GET /), heavy ones running; repetition 1 of each; the x axis stretches the tail (1/(1-p))"
N = 5
array T[5]
T[1] = "inline"
T[2] = "loops-proc"
T[3] = "loops-thread"
T[4] = "offload-thread"
T[5] = "offload-proc"
if (!exists("outbase")) outbase = "light-latency"

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

# spectrum.gp: latency by percentile, HdrHistogram's way: x is 1/(1-p) on a
# log axis, so that the tail (99 %, 99.9 %, ...) gets as much room as the
# median. One line per series.
#
# Variables: datafile (blocks: latency_ms percentile count inv), N, T[N].
set xlabel "percentile"
set ylabel "latency (ms)"
set logscale x 10
set logscale y 10
set xtics ("0%%" 1, "50%%" 2, "90%%" 10, "99%%" 100, "99.9%%" 1000, "99.99%%" 10000, "99.999%%" 100000)
set key left top
do for [fmt in "png svg"] {
    eval render(fmt)
    plot for [i=1:N] datafile index (i-1) using 4:1 with steps ls i title T[i]
}
