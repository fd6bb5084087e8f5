# share-root-w2-c64: drawn by pvt plot from this run's results.csv.
# Rerun in this directory with: gnuplot share-root-w2-c64.gp
datafile = "share-root-w2-c64.dat"
ttl = "Who serves the connections: each worker's share of the requests, /, 64 connections"
sub = "vm, 2 CPUs, Intel(R) Xeon(R) Processor\nall repetitions summed; J: Jain's fairness index (1 = even), median"
W = 2
N = 0
array T[1]
if (!exists("outbase")) outbase = "share-root-w2-c64"

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

# share.gp: each worker's share of the requests, per configuration, as
# clustered bars; the dashed line is the even share (100 % / workers).
#
# Variables: datafile (one row per configuration: "title" share_0 .. share_W-1
# in percent), W (workers).
set ylabel "share of the requests (%)"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set xtics rotate by -20
set yrange [0:*]
set key top right
set arrow 1 from graph 0, first 100.0 / W to graph 1, first 100.0 / W nohead dt 2 lc rgb "#333333"
do for [fmt in "png svg"] {
    eval render(fmt)
    plot for [c=2:W+1] datafile using c:xtic(1) ls (c - 1) title sprintf("worker %d", c - 2)
}
