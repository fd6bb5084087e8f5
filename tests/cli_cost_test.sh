#!/usr/bin/env bash
#
# cli_cost_test.sh PVT: `pvt bench --mode cost` from the outside.
#
# Usage errors: exit 2, exactly one line on stderr naming the flag, nothing on
# stdout, no results directory. Then a tiny run of every section whose
# results.csv has the columns, a row per section and no worker left
# behind; and a run interrupted with SIGINT (exit 130, the sections it
# finished on disk, complete files). No figure is checked against a time:
# the machines are shared.
set -u
. "$(dirname "$0")/cli_lib.sh" "$@"

# cost_error DESC FLAG ARGS...: `pvt bench --mode cost ARGS...` must be a usage error
# whose one stderr line names FLAG, and must create nothing.
cost_error() {
    local desc=$1 flag=$2 rc why=""
    shift 2
    (cd "$RUN" && exec "$PVT" bench "$@") >"$LOG/out" 2>"$LOG/err" </dev/null
    rc=$?
    [ $rc -eq 2 ] || why="$why exit $rc"
    [ "$(lines "$LOG/err")" -eq 1 ] || why="$why $(lines "$LOG/err") lines on stderr"
    grep -qF -- "$flag" "$LOG/err" || why="$why no '$flag' in: $(head -c 200 "$LOG/err")"
    [ -s "$LOG/out" ] && why="$why output on stdout"
    [ -z "$(ls -A "$RUN")" ] || why="$why left $(ls -A "$RUN")"
    rm -rf "${RUN:?}"/*
    check "usage error: $desc" "$why"
}

cost_error "an unknown section" "--section" --mode cost --section nope
cost_error "a section twice" "--section" --mode cost --section ipc,ipc
cost_error "a heap below 1M" "--heap" --mode cost --heap 512K
cost_error "a heap that is no size" "--heap" --mode cost --heap 10M,lots
cost_error "a heap above 64G" "--heap" --mode cost --heap 100G
cost_error "a dataset below 1M" "--dataset" --mode cost --dataset 1K
cost_error "two workloads" "--workload" --mode cost --workload mem:1M,noop
cost_error "a fault as the workload" "--workload" --mode cost --workload crash
cost_error "glib is a reference pool" "--backend" --mode cost --backend glib
cost_error "an http preset" "--preset" --mode cost --preset heavy-burst
cost_error "--workers 0" "--workers" --mode cost --workers 0,1
cost_error "--jobs in cost mode" "--jobs" --mode cost --jobs 10
cost_error "--concurrency in cost mode" "--concurrency" --mode cost --concurrency 4
cost_error "--heap in tasks mode" "--heap" --mode tasks --heap 10M
cost_error "--section in http mode" "--section" --mode http --section ipc
cost_error "--dataset in fault mode" "--dataset" --mode fault --dataset 16M
cost_error "hop sizes out of order" "--hop-sizes" --mode cost --hop-sizes 10,1
cost_error "a hop size of 0" "--hop-sizes" --mode cost --hop-sizes 0,10
cost_error "a hop size above 100M" "--hop-sizes" --mode cost --hop-sizes 1G
cost_error "--hop-sizes in tasks mode" "--hop-sizes" --mode tasks --hop-sizes 1
cost_error "a mode that does not exist" "--mode" --mode costs

(cd "$RUN" && exec "$PVT" bench --help) >"$LOG/out" 2>"$LOG/err" </dev/null
if [ $? -eq 0 ] && grep -qF -- "tasks|http|fault|cost" "$LOG/out" &&
    grep -qF -- "--section LIST" "$LOG/out" && grep -qF -- "--heap LIST" "$LOG/out" &&
    grep -qF -- "--hop-sizes LIST" "$LOG/out"; then
    ok "bench --help describes cost mode and its flags"
else
    not_ok "bench --help: $(head -c 200 "$LOG/out" | tr '\n' '|')"
fi

# --- a tiny run of every section ---------------------------------------------------

DIR=$RUN/tiny
(cd "$RUN" && exec "$PVT" bench --mode cost --workers 1,3 --heap 1M,4M --dataset 2M \
    --hop-sizes 1,100,10K --repeat 1 --warmup 0 --workload hash:4K --quiet --out "$DIR") \
    >"$LOG/out" 2>"$LOG/err" \
    </dev/null &
BG_PID=$!
wait "$BG_PID"
rc=$?
if [ $rc -eq 0 ] && grep -q "^startup: " "$LOG/out" && grep -q "^ipc: " "$LOG/out" &&
    grep -q "pvt's proc pool against a bare fork" "$LOG/out"; then
    ok "tiny cost bench: exit 0, every table and the ratios"
else
    not_ok "tiny cost bench: exit $rc: $(head -c 300 "$LOG/err" | tr '\n' '|')"
fi
if [ -n "$(pgrep -P "$BG_PID" 2>/dev/null)" ]; then
    not_ok "tiny cost bench: children left: $(pgrep -P "$BG_PID" | tr '\n' ' ')"
    LEFT_PIDS+=($(pgrep -P "$BG_PID"))
else
    ok "tiny cost bench: no child left"
fi
BG_PID=
why=$(python3 -c '
import csv, json, sys
d = sys.argv[1]
rows = list(csv.DictReader(open(d + "/results.csv", newline="")))
need = "mode section backend mechanism variant workers repetition spawn_us ready_ms rss_kb pss_kb uss_kb rtt_us wall_us_per_job loop_cpu_us_per_job".split()
missing = [c for c in need if c not in rows[0]]
assert not missing, "missing columns %s" % missing
sections = {r["section"] for r in rows}
assert sections == set("startup heap memory cow sched ipc hop".split()), sections
for r in rows:
    assert r["mode"] == "cost", r
    if r["section"] == "startup":
        assert r["workers"] in ("1", "3") and float(r["ready_ms"]) > 0, r
        assert abs(float(r["spawn_us"]) * int(r["workers"]) / 1e3 - float(r["ready_ms"])) < 0.01, r
    if r["section"] == "heap":
        assert r["heap_mb"] in ("1", "4") and r["workers"] == "1", r
    if r["section"] in ("memory", "cow"):
        assert float(r["rss_total_kb"]) >= float(r["rss_kb"]) - 1, r
        if r["backend"] == "proc":
            assert float(r["rss_kb"]) >= float(r["pss_kb"]) >= float(r["uss_kb"]) > 0, r
    if r["section"] == "ipc":
        assert int(r["round_trips"]) >= 100 and float(r["rtt_us"]) > 0, r
mech = {(r["backend"], r["mechanism"]) for r in rows if r["section"] == "startup"}
for m in [("proc", "pool"), ("thread", "pool"), ("proc", "fork"), ("thread", "pthread_create"), ("proc", "vfork"), ("proc", "fork-exit")]:
    assert m in mech, m
written = [r for r in rows if r["section"] == "cow" and r["variant"] == "written" and r["backend"] == "proc"]
read = [r for r in rows if r["section"] == "cow" and r["variant"] == "read" and r["backend"] == "proc"]
assert float(written[0]["pss_total_kb"]) > float(read[0]["pss_total_kb"]), (written, read)
m = json.load(open(d + "/meta.json"))
assert m["mode"] == "cost" and m["params"]["heap_bytes"] == [1 << 20, 4 << 20], m["params"]
' "$DIR" 2>&1 | tail -n 1)
check "tiny cost bench: results.csv has the columns, every section, the CoW direction" "$why"

# The hop section: a row per backend x mechanism x size with its figures, and
# each printed crossover and hop drawn from those rows (the CSV rounds to
# 4 decimals: a tie within that may fall either way). No figure against a time.
why=$(python3 -c '
import csv, re, sys
rows = [r for r in csv.DictReader(open(sys.argv[1] + "/results.csv", newline=""))
        if r["section"] == "hop"]
out = open(sys.argv[2]).read()
sizes = [1, 100, 10000]
def fig(be, mech, n, col):
    m = [r for r in rows if (r["backend"], r["mechanism"], r["variant"]) == (be, mech, str(n))]
    assert len(m) == 1, (be, mech, n, len(m))
    r = m[0]
    assert r["workload"] == "cpu:%d" % n and r["workers"] == "1", r
    assert re.fullmatch(r"\d+,\d+", r["cpus"]) and int(r["jobs"]) >= 4, r
    assert float(r["wall_us_per_job"]) > 0 and float(r["loop_cpu_us_per_job"]) > 0, r
    return float(r[col])
def cross(inl, off, eps):
    at = len(inl)
    for i in reversed(range(len(inl))):
        if not off[i] < inl[i] + eps:
            break
        at = i
    return at
def index(text):
    if text.startswith("none up to "):
        return len(sizes)
    v = text[len("cpu:"):]
    n = int(v.rstrip("KM")) * {"K": 1000, "M": 1000000}.get(v[-1], 1)
    return sizes.index(n)
for be in ("proc", "thread"):
    inl = [fig(be, "inline", n, "loop_cpu_us_per_job") for n in sizes]
    off = [fig(be, "offload", n, "loop_cpu_us_per_job") for n in sizes]
    m = re.search(r"^hop crossover, %s: (.+?) \(per repetition (.+?)-(.+?)\): .* a request pays "
                  r"(-?[0-9.]+) us wall for the hop at cpu:1\b" % be, out, re.M)
    assert m, "no crossover line for %s" % be
    got = index(m.group(1))
    assert got == index(m.group(2)) == index(m.group(3)), m.group(0)
    assert cross(inl, off, -1e-4) <= got <= cross(inl, off, 1e-4), (be, got, inl, off)
    hop = fig(be, "offload", 1, "wall_us_per_job") - fig(be, "inline", 1, "wall_us_per_job")
    assert abs(float(m.group(4)) - hop) < 0.006, (m.group(4), hop)
' "$DIR" "$LOG/out" 2>&1 | tail -n 1)
check "tiny cost bench: hop rows for both backends and mechanisms, the crossover drawn from them" "$why"
(cd "$RUN" && exec "$PVT" report "$DIR") >/dev/null 2>"$LOG/err" </dev/null
why=""
for be in proc thread; do
    grep -q "When offload pays\*\*, $be: from " "$DIR/report.md" 2>/dev/null ||
        why="$why no hop verdict for $be"
done
check "tiny cost bench: the report has a hop verdict per backend" "$why"
left=$(find "$DIR" -name '.*tmp*')
check "tiny cost bench: no temporary file left" "${left:+ left $left}"
rm -rf "${RUN:?}"/*

# --- an interrupted run ------------------------------------------------------------

DIR=$RUN/stopped
(cd "$RUN" && exec "$PVT" bench --mode cost --section startup,memory --workers 1,2,4,8,16 \
    --repeat 50 --quiet --out "$DIR") >"$LOG/out" 2>"$LOG/err" </dev/null &
BG_PID=$!
for _ in $(seq 100); do
    [ -s "$DIR/results.csv" ] && [ "$(lines "$DIR/results.csv")" -gt 1 ] && break
    [ -s "$DIR/results.csv" ] && grep -q "^(startup" "$LOG/out" && break
    sleep 0.1
done
sleep 0.5
kill -INT "$BG_PID"
wait "$BG_PID"
rc=$?
why=""
[ $rc -eq 130 ] || why="$why exit $rc"
grep -q "interrupted" "$LOG/err" || why="$why no 'interrupted' line: $(head -c 200 "$LOG/err")"
[ -s "$DIR/meta.json" ] || why="$why no meta.json"
head -n 1 "$DIR/results.csv" 2>/dev/null | grep -q "^mode,section," || why="$why no CSV header"
[ -z "$(find "$DIR" -name '.*tmp*')" ] || why="$why temporary files left"
check "interrupted cost bench: exit 130, complete files" "$why"
BG_PID=

cli_finish
