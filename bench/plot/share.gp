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
