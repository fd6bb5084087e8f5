# heavy-throughput: drawn by pvt plot from this run's results.csv.
# Rerun in this directory with: gnuplot heavy-throughput.gp
datafile = "heavy-throughput.dat"
ttl = "Heavy requests completed per second, per design"
sub = "vm, 2 CPUs, AMD EPYC\nmedian of the repetitions, bars min-max"
yl = "requests/s"; logy = 0
N = 1
array T[1]
T[1] = "heavy requests/s"
if (!exists("outbase")) outbase = "heavy-throughput"

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

# bars.gp: one figure per category as bars with min-max error bars, one
# colour per series (categories on x, series clustered).
#
# Variables: datafile (one row per category: "label" then, per series,
# median min max), N, T[N] (series titles), yl, logy; ymax (optional) fixes
# the top of the y axis.
set ylabel yl
set style data histogram
set style histogram errorbars gap 1 lw 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set xtics rotate by -20
if (logy) { set logscale y 10 } else { set yrange [0:*] }
if (exists("ymax")) { set yrange [0:ymax] }
set key top left
do for [fmt in "png svg"] {
    eval render(fmt)
    plot for [i=1:N] datafile using (column(3 * i - 1)):(column(3 * i)):(column(3 * i + 1)):xtic(1) ls i title T[i]
}
