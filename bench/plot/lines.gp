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
