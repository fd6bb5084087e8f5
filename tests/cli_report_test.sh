#!/usr/bin/env bash
#
# cli_report_test.sh PVT: `pvt plot`, `pvt report` and `pvt tour` from the
# outside.
#
# Usage errors exit 2 with one line on stderr. pvt plot on a directory that
# is not a results directory fails with one line naming it; on fixed data
# (tests/data) it draws PNG and SVG files that are images (their magic
# bytes) with the data and script beside them; on an interrupted run (a
# results.csv cut short, and one missing) it plots what is there or says
# there is nothing yet. pvt report writes report.md with verdicts and image
# links that resolve. A tour of one quick lesson ends with a report, and an
# interrupted tour exits 130 with the lessons it finished reported and no
# process left. Nothing here checks a figure: the machines are shared.
set -u
. "$(dirname "$0")/cli_lib.sh" "$@"
DATA=$(cd "$(dirname "$0")/data" && pwd)

# usage_error DESC EXPECTED_SUBSTRING ARGS...: exit 2, one line naming it, nothing on stdout.
usage_error() {
    local desc=$1 want=$2 rc n
    shift 2
    "$PVT" "$@" >"$LOG/out" 2>"$LOG/err"
    rc=$?
    n=$(lines "$LOG/err")
    if [ $rc -eq 2 ] && [ "$n" -eq 1 ] && grep -q -- "$want" "$LOG/err" && [ ! -s "$LOG/out" ]; then
        ok "$desc"
    else
        not_ok "$desc: rc $rc, $n stderr lines: $(head -c 300 "$LOG/err")"
    fi
}

usage_error "plot: no directory" "missing RUN_DIR" plot
usage_error "plot: unknown flag" "--frobnicate" plot --frobnicate x
usage_error "plot: not a results directory" "not a results directory" plot "$DATA"
usage_error "plot: no such directory" "not a directory" plot "$TOP/absent"
usage_error "report: two directories" "one RUN_DIR at a time" report "$DATA/tasks-run" "$DATA/fault-run"
usage_error "report: not a results directory" "not a results directory" report "$TOP"
usage_error "tour: unknown lesson" "--only: no lesson 'nope'" tour --only nope --out "$TOP/t0"
usage_error "tour: stray argument" "unexpected argument" tour extra
mkdir -p "$TOP/full" && touch "$TOP/full/x"
usage_error "tour: a directory that is not empty" "is not empty" tour --out "$TOP/full"
usage_error "plot: runs of two modes" "only runs of one mode overlay" plot "$DATA/tasks-run" "$DATA/fault-run"

# is_png FILE, is_svg FILE: the image's own magic, not its name.
is_png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ]; }
is_svg() { grep -q "<svg" "$1"; }

# Plots and a report on a copy of each fixture (fixtures stay untouched).
for run in tasks-run fault-run; do
    cp -r "$DATA/$run" "$RUN/$run"
    if "$PVT" plot "$RUN/$run" >"$LOG/out" 2>"$LOG/err"; then
        why=""
        n=0
        for png in "$RUN/$run"/plots/*.png; do
            [ -e "$png" ] || continue
            n=$((n + 1))
            base=${png%.png}
            is_png "$png" || why="$why $png is not a PNG;"
            is_svg "$base.svg" || why="$why $base.svg is not an SVG;"
            [ -s "$base.dat" ] && [ -s "$base.gp" ] || why="$why no data or script beside $png;"
        done
        [ "$n" -gt 0 ] || why=" no plot drawn"
        ls "$RUN/$run"/plots/.*tmp* >/dev/null 2>&1 && why="$why temporary files left"
        grep -q "$n plot" "$LOG/out" || why="$why stdout does not count $n plots: $(cat "$LOG/out")"
        check "plot $run: $n plots, PNG and SVG with their data and script" "$why"
    else
        not_ok "plot $run: exit $?: $(head -c 300 "$LOG/err")"
    fi
    if "$PVT" report --no-plots "$RUN/$run" >"$LOG/out" 2>"$LOG/err"; then
        why=""
        md=$RUN/$run/report.md
        grep -q "^## Verdicts" "$md" || why="$why no verdicts section;"
        grep -q "^- \*\*" "$md" || why="$why no verdict line;"
        # Every image link resolves to a file in the run.
        for img in $(grep -o '(plots/[^)]*\.png)' "$md" | tr -d '()'); do
            [ -f "$RUN/$run/$img" ] || why="$why $img does not exist;"
        done
        grep -q '(plots/' "$md" || why="$why no plot linked;"
        check "report $run: verdicts and image links that resolve" "$why"
    else
        not_ok "report $run: exit $?: $(head -c 300 "$LOG/err")"
    fi
done

# Two runs of one mode overlay into the first one's plots/overlay/, each
# series named after its run.
cp -r "$DATA/tasks-run" "$RUN/other-run"
"$PVT" plot "$RUN/tasks-run" "$RUN/other-run" >"$LOG/out" 2>"$LOG/err"
rc=$?
why=""
[ $rc -eq 0 ] || why=" exit $rc: $(head -c 300 "$LOG/err")"
ls "$RUN/tasks-run/plots/overlay/"*.png >/dev/null 2>&1 || why="$why no overlay plot;"
grep -q "other-run" "$RUN/tasks-run/plots/overlay/"*.gp 2>/dev/null || why="$why no series named after the second run;"
check "plot: two runs of one mode overlay" "$why"

# An interrupted run: the last line cut short, then no results.csv at all.
cp -r "$DATA/tasks-run" "$RUN/cut"
head -c -20 "$DATA/tasks-run/results.csv" >"$RUN/cut/results.csv"
"$PVT" plot "$RUN/cut" >"$LOG/out" 2>"$LOG/err"
rc=$?
check "plot: a results.csv cut short is plotted from its whole rows" \
    "$([ $rc -eq 0 ] && grep -q "cut short" "$LOG/err" && ls "$RUN/cut/plots/"*.png >/dev/null 2>&1 || echo " rc $rc: $(head -c 300 "$LOG/err")")"
rm "$RUN/cut/results.csv"
rm -rf "$RUN/cut/plots"
"$PVT" plot "$RUN/cut" >"$LOG/out" 2>"$LOG/err"
rc=$?
check "plot: a run stopped before its first row says so" \
    "$([ $rc -eq 1 ] && [ "$(lines "$LOG/err")" -eq 1 ] && grep -q "no results yet" "$LOG/err" || echo " rc $rc: $(head -c 300 "$LOG/err")")"

# A quick tour of one lesson, end to end.
"$PVT" tour --quick --only scaling --out "$RUN/tour" >"$LOG/tour" 2>"$LOG/tour.err"
rc=$?
why=""
[ $rc -eq 0 ] || why=" exit $rc: $(tail -c 300 "$LOG/tour.err")"
[ -s "$RUN/tour/report.md" ] || why="$why no report.md;"
[ -f "$RUN/tour/01-scaling/results.csv" ] || why="$why no 01-scaling/results.csv;"
grep -q "Scaling" "$RUN/tour/report.md" 2>/dev/null || why="$why no scaling verdict in the report;"
for img in $(grep -o '(01-scaling/plots/[^)]*\.png)' "$RUN/tour/report.md" 2>/dev/null | tr -d '()'); do
    [ -f "$RUN/tour/$img" ] || why="$why $img does not exist;"
done
grep -q "tour: $RUN/tour/report.md" "$LOG/tour" || why="$why the last line does not say where the report is;"
check "tour --quick --only scaling: results, plots and report.md" "$why"

# An interrupted tour: SIGINT to the tour by pid while its first lesson runs.
"$PVT" tour --quick --only scaling,faults --out "$RUN/tour2" >"$LOG/tour2" 2>&1 &
BG_PID=$!
for _ in $(seq 100); do
    [ -e "$RUN/tour2/01-scaling.log" ] && break
    sleep 0.05
done
sleep 0.5
kids=$(cat /proc/$BG_PID/task/*/children 2>/dev/null)
kill -INT $BG_PID
wait $BG_PID
rc=$?
BG_PID=
why=""
[ $rc -eq 130 ] || why=" exit $rc (want 130);"
[ -s "$RUN/tour2/report.md" ] || why="$why no report.md;"
[ -e "$RUN/tour2/02-faults" ] && why="$why the next lesson started;"
for k in $kids; do
    kill -0 "$k" 2>/dev/null && { why="$why child $k left;"; LEFT_PIDS+=("$k"); }
done
check "tour interrupted: exit 130, a report of what finished, no process left" "$why"

cli_finish
