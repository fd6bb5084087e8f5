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
