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
