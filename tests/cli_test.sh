#!/usr/bin/env bash
#
# cli_test.sh PVT: the pvt command line from the outside.
#
# Usage errors: exit 2, exactly one line on stderr naming what was wrong,
# nothing on stdout, and no results directory left behind. A run-time failure
# (--out not empty) exits 1 and leaves the directory as it was. Then the good
# paths: --help, topo's JSON, a synthetic placement, a tiny bench run, and a
# bench interrupted with SIGINT (exit 130, complete CSV, no temporary files,
# no worker process left).
#
# Everything runs in a fresh mktemp -d directory, removed at the end. Every
# process this script starts is ended by its pid, never by name. Prints
# "ok - ..." or "not ok - ..." per check and "N passed, M failed"; exits 1 if
# any check failed.
set -u

. "$(dirname "$0")/cli_lib.sh" "$@"

# usage_error DESC PATTERN ARGS...: pvt ARGS must fail as a usage error whose
# one stderr line contains PATTERN (a fixed string).
n=0
usage_error() {
    local desc=$1 pat=$2 why="" rc left
    shift 2
    n=$((n + 1))
    (cd "$RUN" && exec "$PVT" "$@") >"$LOG/out" 2>"$LOG/err" </dev/null
    rc=$?
    [ $rc -eq 2 ] || why="$why exit $rc, want 2;"
    [ "$(lines "$LOG/err")" -eq 1 ] || why="$why $(lines "$LOG/err") lines on stderr, want 1;"
    grep -qF -- "$pat" "$LOG/err" || why="$why stderr does not name '$pat';"
    [ -s "$LOG/out" ] && why="$why stdout not empty;"
    [ -e "$RUN/out$n" ] && why="$why created --out directory;"
    left=$(find "$RUN" -mindepth 1 -maxdepth 1 -printf '%f ')
    [ -z "$left" ] || why="$why left $left in the working directory;"
    if [ -z "$why" ]; then
        ok "$desc: exit 2, one line naming '$pat'"
    else
        not_ok "$desc:$why stderr: $(head -c 300 "$LOG/err" | tr '\n' '|')"
    fi
    rm -rf "${RUN:?}"/* "$RUN"/.[!.]* 2>/dev/null
}

# bench_error DESC PATTERN ARGS...: as usage_error, for `pvt bench --mode
# tasks --out DIR ARGS...` with DIR under the working directory.
bench_error() {
    local desc=$1 pat=$2
    shift 2
    usage_error "$desc" "$pat" bench --out "$RUN/out$((n + 1))" --mode tasks "$@"
}

# --- usage errors -----------------------------------------------------------

usage_error "no command" "command"
usage_error "unknown command" "frobnicate" frobnicate
usage_error "bench without --mode" "--mode" bench --out "$RUN/out$((n + 1))"
bench_error "unknown backend" "--backend" --backend bogus
bench_error "backend listed twice" "--backend" --backend proc,proc
bench_error "unknown workload" "--workload" --workload bogus
bench_error "--workload cpu:abc" "--workload" --workload cpu:abc
bench_error "--workload cpu:0" "--workload" --workload cpu:0
bench_error "--workers 0" "--workers" --workers 0
bench_error "--workers 2000" "--workers" --workers 2000
bench_error "--workers 1,,2" "--workers" --workers 1,,2
bench_error "--workers abc" "--workers" --workers abc
bench_error "--pin bogus" "--pin" --pin bogus
bench_error "--unit bogus" "--unit" --unit bogus
bench_error "--repeat 0" "--repeat" --repeat 0
bench_error "--warmup 101" "--warmup" --warmup 101
bench_error "--jobs x" "--jobs" --jobs x
bench_error "--target 0" "--target" --target 0
bench_error "--queue-depth 3" "--queue-depth" --queue-depth 3
bench_error "--out with no value" "--out" --out
bench_error "unknown option" "--frobnicate" --frobnicate
bench_error "unknown short option in a cluster" "-x" -xy
bench_error "unexpected argument" "stray" stray
usage_error "topo --policy bogus" "--policy" topo --policy bogus
usage_error "a value for a flag that takes none" "--quiet" bench --mode tasks --quiet=3
usage_error "load --json=1" "--json" load --json=1 http://127.0.0.1:1/
usage_error "load without URL" "URL" load
usage_error "load to a non-loopback host" "loopback" load http://10.0.0.1:80/
usage_error "load with -d and -n" "--requests" load -d 1 -n 10 http://127.0.0.1:1/
usage_error "load --mix without a path" "--mix" load --mix 0.5 http://127.0.0.1:1/
usage_error "load --mix share 0" "--mix" load --mix 0:/crash http://127.0.0.1:1/
usage_error "load --mix share above 1" "--mix" load --mix 1.5:/crash http://127.0.0.1:1/
usage_error "load --mix path without /" "--mix" load --mix 0.1:crash http://127.0.0.1:1/
usage_error "load -c 0" "-c" load -c 0 http://127.0.0.1:1/
U=http://127.0.0.1:1/
usage_error "load --stream without c=" "--stream" load --stream / $U
usage_error "load --stream with an unknown key" "--stream" load --stream /:c=2:x=1 $U
usage_error "load --stream with c= twice" "--stream" load --stream /:c=2:c=3 $U
usage_error "load --stream c=0" "--stream" load --stream /:c=0 $U
usage_error "load --stream c=abc" "--stream" load --stream /:c=abc $U
usage_error "load --stream R=0" "--stream" load --stream /:c=1:R=0 $U
usage_error "load --stream R=-5" "--stream" load --stream /:c=1:R=-5 $U
usage_error "load --stream path without /" "--stream" load --stream fast:c=1 $U
usage_error "load --stream empty path" "--stream" load --stream :c=1 $U
usage_error "load 17 streams" "--stream" load --stream /:c=1 --stream /:c=1 --stream /:c=1 --stream /:c=1 --stream /:c=1 --stream /:c=1 --stream /:c=1 --stream /:c=1 --stream /:c=1 --stream /:c=1 --stream /:c=1 --stream /:c=1 --stream /:c=1 --stream /:c=1 --stream /:c=1 --stream /:c=1 --stream /:c=1 $U
usage_error "load streams over 10000 connections" "--stream" load --stream /:c=6000 --stream /a:c=5000 $U
usage_error "load -c with --stream" "--stream" load -c 4 --stream /:c=1 $U
usage_error "load -R with --stream" "--stream" load --stream /:c=1 -R 100 $U
usage_error "load --mix with --stream" "--stream" load --stream /:c=1 --mix 0.5:/x $U
usage_error "load -t over the streams' connections" "--threads" load -t 3 --stream /:c=1 --stream /a:c=1 $U
usage_error "topo --workers 0" "--workers" topo --workers 0
usage_error "topo --synthetic garbage" "--synthetic" topo --synthetic garbage
usage_error "topo unknown option" "--frobnicate" topo --frobnicate

# --- --out at a directory that is not empty: a run-time failure --------------

FULL=$TOP/full
mkdir -p "$FULL/sub" && echo "keep me" >"$FULL/keep.txt" && echo "me too" >"$FULL/sub/x"
before=$(cd "$FULL" && find . -printf '%p %s %T@\n' | sort && cat keep.txt sub/x)
(cd "$RUN" && exec "$PVT" bench --mode tasks --workers 1 --workload noop --jobs 10 --repeat 1 \
    --warmup 0 --out "$FULL") >"$LOG/out" 2>"$LOG/err" </dev/null
rc=$?
after=$(cd "$FULL" && find . -printf '%p %s %T@\n' | sort && cat keep.txt sub/x)
why=""
[ $rc -eq 1 ] || why="$why exit $rc, want 1;"
[ "$(lines "$LOG/err")" -eq 1 ] || why="$why $(lines "$LOG/err") lines on stderr;"
grep -qF -- "--out" "$LOG/err" || why="$why stderr does not name --out;"
[ -s "$LOG/out" ] && why="$why stdout not empty;"
[ "$before" = "$after" ] || why="$why the directory's contents changed;"
[ -z "$(find "$RUN" -mindepth 1 -maxdepth 1)" ] || why="$why left files in the working directory;"
if [ -z "$why" ]; then
    ok "--out at a non-empty directory: exit 1, one line, contents untouched"
else
    not_ok "--out at a non-empty directory:$why stderr: $(head -c 300 "$LOG/err" | tr '\n' '|')"
fi

# --- help ---------------------------------------------------------------------

help_ok() {
    local desc=$1 pat=$2 rc
    shift 2
    (cd "$RUN" && exec "$PVT" "$@") >"$LOG/out" 2>"$LOG/err" </dev/null
    rc=$?
    if [ $rc -eq 0 ] && grep -qF -- "$pat" "$LOG/out" && [ ! -s "$LOG/err" ]; then
        ok "$desc: exit 0, usage on stdout"
    else
        not_ok "$desc: exit $rc, stdout $(head -c 80 "$LOG/out" | tr '\n' '|'), stderr $(head -c 200 "$LOG/err" | tr '\n' '|')"
    fi
}
help_ok "pvt --help" "usage: pvt" --help
help_ok "pvt bench --help" "usage: pvt bench" bench --help
help_ok "pvt topo --help" "usage: pvt topo" topo --help

# --- topo --json ------------------------------------------------------------------

(cd "$RUN" && exec "$PVT" topo --json) >"$LOG/out" 2>"$LOG/err" </dev/null
rc=$?
if [ $rc -eq 0 ] && python3 -c '
import json, sys
d = json.load(sys.stdin)
assert isinstance(d.get("topology"), dict), "no topology object"
assert isinstance(d.get("plan"), list) and len(d["plan"]) >= 1, "no plan"
assert all(w.get("pus") for w in d["plan"]), "a worker without pus"
' <"$LOG/out" 2>"$LOG/py"; then
    ok "topo --json: valid JSON with topology and plan"
else
    not_ok "topo --json: exit $rc; $(tail -n 1 "$LOG/py" 2>/dev/null)"
fi

# Synthetic: 2 packages of 4 cores of 2 PUs, PUs 0-7 in package 0, 8-15 in 1.
# scatter puts two workers in different packages; compact, in the same one.
place_check() {
    local policy=$1 want=$2 rc
    (cd "$RUN" && exec "$PVT" topo --synthetic 'pack:2 core:4 pu:2' --policy "$policy" \
        --workers 2 --json) >"$LOG/out" 2>"$LOG/err" </dev/null
    rc=$?
    if [ $rc -eq 0 ] && python3 -c '
import json, sys
want = sys.argv[1]
d = json.load(sys.stdin)
assert d["topology"]["packages"] == 2 and d["topology"]["pus"] == 16, d["topology"]
plan = d["plan"]
assert len(plan) == 2, plan
packs = []
for w in plan:
    pus = w["pus"]
    assert len(pus) == 2, "unit core: one core of 2 PUs each, got %s" % pus
    p = {pu // 8 for pu in pus}
    assert len(p) == 1, "a worker across packages: %s" % pus
    packs.append(p.pop())
assert not set(plan[0]["pus"]) & set(plan[1]["pus"]), "workers share PUs: %s" % plan
if want == "apart":
    assert packs[0] != packs[1], "both in package %d: %s" % (packs[0], plan)
else:
    assert packs[0] == packs[1], "packages %s: %s" % (packs, plan)
' "$want" <"$LOG/out" 2>"$LOG/py"; then
        ok "topo --synthetic --policy $policy --workers 2: workers $want ($(python3 -c 'import json,sys; print(" vs ".join(str(w["pus"]) for w in json.load(sys.stdin)["plan"]))' <"$LOG/out"))"
    else
        not_ok "topo --synthetic --policy $policy: exit $rc; $(tail -n 1 "$LOG/py" 2>/dev/null) $(head -c 200 "$LOG/err")"
    fi
}
place_check scatter apart
place_check compact together

# --- a tiny bench run -------------------------------------------------------------

DIR=$RUN/tiny
(cd "$RUN" && exec "$PVT" bench --mode tasks --workers 1 --workload noop --jobs 1000 --repeat 1 \
    --warmup 0 --out "$DIR") >"$LOG/out" 2>"$LOG/err" </dev/null
rc=$?
if [ $rc -eq 0 ]; then
    ok "tiny bench: exit 0"
else
    not_ok "tiny bench: exit $rc: $(head -c 300 "$LOG/err" | tr '\n' '|')"
fi
if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert "schema" in d, "no schema"
assert isinstance(d.get("argv"), list) and "--jobs" in d["argv"], "argv: %r" % d.get("argv")
' "$DIR/meta.json" 2>"$LOG/py"; then
    ok "tiny bench: meta.json is JSON with schema and argv"
else
    not_ok "tiny bench: meta.json: $(tail -n 1 "$LOG/py")"
fi
if python3 -c '
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
head, data = rows[0], rows[1:]
for c in "mode backend workers workload repetition seconds jobs jobs_per_s".split():
    assert c in head, "no column %s in %s" % (c, head)
assert len(data) == 2, "%d data rows, want 2" % len(data)
assert all(len(r) == len(head) for r in data), "short row"
col = {c: i for i, c in enumerate(head)}
assert sorted(r[col["backend"]] for r in data) == ["proc", "thread"], data
for r in data:
    assert r[col["mode"]] == "tasks" and r[col["workers"]] == "1", r
    assert r[col["workload"]] == "noop" and r[col["jobs"]] == "1000", r
    assert r[col["repetition"]] == "1", r
    assert float(r[col["seconds"]]) > 0 and float(r[col["jobs_per_s"]]) > 0, r
' "$DIR/results.csv" 2>"$LOG/py"; then
    ok "tiny bench: results.csv has the columns and one row per backend"
else
    not_ok "tiny bench: results.csv: $(tail -n 1 "$LOG/py")"
fi
hidden=$(find "$DIR" -mindepth 1 -maxdepth 1 -name '.*' -printf '%f ' 2>/dev/null)
if [ -d "$DIR" ] && [ -z "$hidden" ]; then
    ok "tiny bench: no temporary files left"
else
    not_ok "tiny bench: left $hidden"
fi

# --- an interrupted bench -----------------------------------------------------------

DIR2=$RUN/interrupted
"$PVT" bench --mode tasks --workers 1 --workload sleep:50 --jobs 40 --repeat 50 --warmup 0 \
    --out "$DIR2" >"$LOG/out2" 2>"$LOG/err2" </dev/null &
BG_PID=$!
for _ in $(seq 200); do
    [ -f "$DIR2/results.csv" ] && [ "$(lines "$DIR2/results.csv")" -ge 2 ] && break
    kill -0 "$BG_PID" 2>/dev/null || break
    sleep 0.1
done
rows_before=$(lines "$DIR2/results.csv" 2>/dev/null || echo 0)
wait_children "$BG_PID"
children=$CHILDREN
note_started $children
if [ "$rows_before" -ge 2 ] && [ -n "$children" ]; then
    ok "interrupted bench: a row on disk and ${#STARTED[@]} worker process(es) running before SIGINT"
else
    not_ok "interrupted bench: before SIGINT: $rows_before lines in results.csv, children '$children'"
fi
interrupt_bg "interrupted bench" 15
if [ -f "$DIR2/results.csv" ] && awk -F, 'NR == 1 { nf = NF } NF != nf { bad = 1 } END { exit bad || NR < 2 }' "$DIR2/results.csv"; then
    ok "interrupted bench: results.csv is complete ($(($(lines "$DIR2/results.csv") - 1)) rows, each as wide as the header)"
else
    not_ok "interrupted bench: results.csv incomplete: $(head -c 400 "$DIR2/results.csv" 2>/dev/null | tr '\n' '|')"
fi
hidden=$(find "$DIR2" -mindepth 1 -maxdepth 1 -name '.*' -printf '%f ' 2>/dev/null)
if [ -z "$hidden" ]; then
    ok "interrupted bench: no temporary files left"
else
    not_ok "interrupted bench: left $hidden"
fi
# A child killed as the bench exits may take a moment to be reaped by init.
left_started
if [ -n "$children" ] && [ -z "$LEFT" ]; then
    ok "interrupted bench: its worker processes are gone"
else
    not_ok "interrupted bench: processes left:$LEFT (children before: '$children')"
fi

cli_finish
