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
