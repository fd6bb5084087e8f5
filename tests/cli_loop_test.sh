#!/usr/bin/env bash
#
# cli_loop_test.sh PVT: `pvt bench --mode loop` from the outside.
#
# Usage errors: exit 2, exactly one line on stderr naming the flag, nothing
# on stdout, no results directory. Then a tiny run (0.5 s phases, one
# repetition): meta.json lists the designs; results.csv has a mixed and a
# light-only row for each design, every light stream answered, the heavy
# stream answered in the mixed rows and absent from the light-only ones, no
# errors; `pvt report` gives the loop mode's table and a verdict per design
# against the inline one; the spectra of the light stream were written.
# Nothing is timed: only counts and the files' shapes are checked.
#
# cli_lib.sh makes the fresh mktemp -d directory, removed at the end, and
# ends every process this script starts by its pid, never by name.
set -u

. "$(dirname "$0")/cli_lib.sh" "$@"

bench_error "--backend in loop mode" "--backend" --mode loop --backend proc
bench_error "two worker counts" "--workers" --mode loop --workers 1,2
bench_error "two light concurrencies" "--concurrency" --mode loop --concurrency 1,4
bench_error "a heavy request without a pool route" "--workload" --mode loop --workload sleep:10
bench_error "--distribution in loop mode" "--distribution" --mode loop --distribution rr
bench_error "--rate 0" "--rate" --mode loop --rate 0
bench_error "--duration 0" "--duration" --mode loop --duration 0

DIR=$RUN/tiny
(cd "$RUN" && exec "$PVT" bench --mode loop --duration 500ms --repeat 1 --warmup 0 \
    --workload cpu:2M --rate 50 --concurrency 2 --quiet --out "$DIR") >"$LOG/out" 2>"$LOG/err" \
    </dev/null
rc=$?
if [ $rc -eq 0 ]; then
    ok "tiny loop run: exit 0"
else
    not_ok "tiny loop run: exit $rc: $(head -c 400 "$LOG/err" | tr '\n' '|')"
fi
if python3 -c '
import csv, json, os, sys
d = sys.argv[1]
meta = json.load(open(os.path.join(d, "meta.json")))
assert meta.get("mode") == "loop", meta.get("mode")
p = meta["params"]
designs = [x["design"] for x in p["designs"]]
assert designs[0] == "inline" and "offload-thread" in designs and "offload-proc" in designs, designs
assert p["heavy_route"] == "/cpu?n=2000000" and p["light_connections"] == 2, p
rows = list(csv.DictReader(open(os.path.join(d, "results.csv"), newline="")))
seen = {}
for r in rows:
    assert r["mode"] == "loop", r
    seen[(r["design"], r["phase"])] = r
    assert int(r["light_requests"]) > 0, r
    assert r["light_errors"] == "0" and r["heavy_errors"] == "0", r
    if r["phase"] == "mixed":
        assert int(r["heavy_requests"]) > 0 and r["heavy_route"] == "/cpu?n=2000000", r
    else:
        assert r["phase"] == "light-only" and r["heavy_requests"] == "0", r
    assert int(r["light_max_us"]) >= int(r["light_p99_us"]) >= int(r["light_p50_us"]) > 0, r
for x in designs:
    for ph in ("mixed", "light-only"):
        assert (x, ph) in seen, "no %s row for %s" % (ph, x)
    hg = os.path.join(d, "latency", "%s-mixed-r1.s0.hgrm" % x)
    assert os.path.getsize(hg) > 0, hg
assert len(rows) == 2 * len(designs), len(rows)
' "$DIR" 2>"$LOG/py"; then
    ok "tiny loop run: a mixed and a light-only row per design, every stream answered"
else
    not_ok "tiny loop run: $(tail -n 2 "$LOG/py" | tr '\n' '|')"
fi

"$PVT" report --no-plots "$DIR" >"$LOG/rep" 2>"$LOG/err"
rc=$?
why=""
[ $rc -eq 0 ] || why="$why exit $rc;"
grep -q '^| design | light p50' "$DIR/report.md" 2>/dev/null || why="$why no loop table;"
for x in offload-thread offload-proc; do
    grep -q "^- light p99 while heavy requests run: $x .* against inline" "$DIR/report.md" \
        2>/dev/null || why="$why no verdict for $x;"
done
check "pvt report on a loop run: its table and a verdict per design against inline" "$why"

cli_finish
