# hop: drawn by pvt plot from this run's results.csv.
# Rerun in this directory with: gnuplot hop.gp
datafile = "hop.dat"
ttl = "When offload pays: the event loop's CPU per job of cpu:N, inline or handed to a pool of 1"
sub = "vm, 2 CPUs, AMD EPYC\nmedian of the repetitions, bars min-max; inline: the loop runs the job; offload: submit, epoll_wait on event_fd, poll"
xl = "N of cpu:N (log)"; yl = "loop CPU µs per job (log)"; logx = 0; logy = 1; ideal = 0; keypos = "left top"; set logscale x 10; set format x "%.0s%c"
set arrow from 100000, graph 0 to 100000, graph 1 nohead dt 3 lc rgb "#555555"; set label "proc: offload pays from cpu:100K" at 100000, graph 0.08 right offset -0.5, 0
set arrow from 100000, graph 0 to 100000, graph 1 nohead dt 3 lc rgb "#555555"; set label "thread: offload pays from cpu:100K" at 100000, graph 0.14 right offset -0.5, 0
N = 4
array T[4]
T[1] = "proc inline"
T[2] = "proc offload"
T[3] = "thread inline"
T[4] = "thread offload"
if (!exists("outbase")) outbase = "hop"

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

# lines.gp: a figure against a count (workers, concurrency, heap size), one
# line per series, with its min-max over the repetitions as error bars and,
# when ideal is 1, each series' ideal line (its first point times x).
#
# Variables: datafile (blocks separated by two blank lines, one per series:
# x median min max ideal), N, T[N] (the series' titles), xl, yl, logx, logy,
# ideal, keypos ("left top", ...).
set xlabel xl
set ylabel yl
if (logx) { set logscale x 2 }
if (logy) { set logscale y 10 }
set key @keypos
set offsets graph 0.03, graph 0.03, graph 0.05, 0
if (!logy) { set yrange [0:*] }
do for [fmt in "png svg"] {
    eval render(fmt)
    if (ideal) {
        plot for [i=1:N] datafile index (i-1) using 1:2:3:4 with yerrorlines ls i title T[i], \
             for [i=1:N] datafile index (i-1) using 1:5 with lines ls i dt 2 lw 1 title T[i]." (ideal)"
    } else {
        plot for [i=1:N] datafile index (i-1) using 1:2:3:4 with yerrorlines ls i title T[i]
    }
}
