#!/usr/bin/env bash
#
# cli_http_test.sh PVT: `pvt bench --mode http` from the outside.
#
# Usage errors: exit 2, exactly one line on stderr naming the flag, nothing on
# stdout, no results directory. Then, when this pvt has `pvt serve`: a tiny
# http run (its CSV, shares and latency files), and one interrupted with
# SIGINT (exit 130, a complete CSV, no child process left). No figure is
# checked against a speed: the machines are shared.
#
# Everything runs in a fresh mktemp -d directory, removed at the end. Every
# process this script starts is ended by its pid, never by name. Prints
# "ok - ..." or "not ok - ..." per check and "N passed, M failed"; exits 1 if
# any check failed.
set -u

. "$(dirname "$0")/cli_lib.sh" "$@"

# http_error DESC FLAG ARGS...: `pvt bench --out DIR ARGS...` must be a usage
# error whose one stderr line names FLAG, and must create nothing.
http_error() {
    local desc=$1 pat=$2 why="" rc
    shift 2
    (cd "$RUN" && exec "$PVT" bench --out "$RUN/out" "$@") >"$LOG/out" 2>"$LOG/err" </dev/null
    rc=$?
    [ $rc -eq 2 ] || why="$why exit $rc, want 2;"
    [ "$(lines "$LOG/err")" -eq 1 ] || why="$why $(lines "$LOG/err") lines on stderr, want 1;"
    grep -qF -- "$pat" "$LOG/err" || why="$why stderr does not name '$pat';"
    [ -s "$LOG/out" ] && why="$why stdout not empty;"
    [ -z "$(find "$RUN" -mindepth 1 -maxdepth 1)" ] || why="$why created files;"
    if [ -z "$why" ]; then
        ok "$desc: exit 2, one line naming '$pat'"
    else
        not_ok "$desc:$why stderr: $(head -c 300 "$LOG/err" | tr '\n' '|')"
    fi
    rm -rf "${RUN:?}"/* "$RUN"/.[!.]* 2>/dev/null
}

# A CPU this process may not use: one past the configured ones (none if the
# machine fills a whole cpu_set_t).
BAD_CPU=$(getconf _NPROCESSORS_CONF)
[ "$BAD_CPU" -lt 1024 ] || BAD_CPU=

# --- usage errors ---------------------------------------------------------------

http_error "unknown mode" "--mode" --mode bogus
http_error "glib has no server" "--backend" --mode http --backend glib
http_error "alloc has no route" "--workload" --mode http --workload alloc
http_error "sleep longer than the route takes" "--workload" --mode http --workload sleep:100000
http_error "--distribution bogus" "--distribution" --mode http --distribution bogus
http_error "--distribution listed twice" "--distribution" --mode http --distribution rr,rr
http_error "--concurrency 0" "--concurrency" --mode http --concurrency 0
http_error "--concurrency above pvt load's limit" "--concurrency" --mode http --concurrency 10001
http_error "--concurrency 1,,2" "--concurrency" --mode http --concurrency 1,,2
http_error "--duration 0" "--duration" --mode http --duration 0
http_error "--duration abc" "--duration" --mode http --duration abc
http_error "--requests 0" "--requests" --mode http --requests 0
http_error "--requests with --duration" "--requests" --mode http --requests 10 --duration 1
http_error "--timeout 0" "--timeout" --mode http --timeout 0
http_error "--threads 0" "--threads" --mode http --threads 0
http_error "--server-cpus malformed" "--server-cpus" --mode http --server-cpus 0-
http_error "--client-cpus out of range" "--client-cpus" --mode http --client-cpus 5000
if [ -n "$BAD_CPU" ]; then
    http_error "--server-cpus not allowed" "--server-cpus" --mode http --server-cpus "$BAD_CPU"
fi
http_error "--preset bogus" "--preset" --preset bogus
http_error "an http preset in tasks mode" "--preset" --mode tasks --preset heavy-burst
http_error "an http flag in tasks mode" "--concurrency" --mode tasks --concurrency 4
http_error "a tasks flag in http mode" "--jobs" --mode http --jobs 10
http_error "--queue-depth in http mode" "--queue-depth" --mode http --queue-depth 8

(cd "$RUN" && exec "$PVT" bench --help) >"$LOG/out" 2>"$LOG/err" </dev/null
if [ $? -eq 0 ] && grep -qF -- "tasks|http" "$LOG/out" && grep -qF -- "--server-cpus" "$LOG/out" &&
    grep -qF -- "heavy-burst" "$LOG/out"; then
    ok "bench --help describes http mode, its CPU flags and presets"
else
    not_ok "bench --help: $(head -c 200 "$LOG/out" | tr '\n' '|')"
fi

# --- runs, when this pvt serves -------------------------------------------------

if ! "$PVT" serve --help >/dev/null 2>&1 </dev/null; then
    ok "# SKIP http runs: this pvt has no working 'serve' command"
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
fi

DIR=$RUN/tiny
(cd "$RUN" && exec "$PVT" bench --mode http --backend proc,thread --workers 1 --distribution rr \
    --concurrency 2 --duration 0.3 --repeat 1 --warmup 0 --out "$DIR") >"$LOG/out" 2>"$LOG/err" \
    </dev/null
rc=$?
if [ $rc -eq 0 ]; then
    ok "tiny http bench: exit 0"
else
    not_ok "tiny http bench: exit $rc: $(head -c 300 "$LOG/err" | tr '\n' '|')"
fi
if python3 -c '
import csv, json, os, sys
d = sys.argv[1]
meta = json.load(open(os.path.join(d, "meta.json")))
assert meta["mode"] == "http", meta["mode"]
p = meta["params"]
for k in "server_cpus client_cpus distributions concurrency routes".split():
    assert k in p, "params has no %s" % k
rows = list(csv.reader(open(os.path.join(d, "results.csv"), newline="")))
head, data = rows[0], rows[1:]
want = ("mode backend workers workload repetition seconds distribution concurrency route "
        "requests errors requests_per_s p50_us p90_us p99_us p999_us max_us mean_us jain shares "
        "server_cpu_us_per_req client_cpu_us_per_req server_cpus client_cpus pin").split()
for c in want:
    assert c in head, "no column %s" % c
assert len(data) == 2, "%d rows, want 2" % len(data)
col = {c: i for i, c in enumerate(head)}
assert sorted(r[col["backend"]] for r in data) == ["proc", "thread"], data
for r in data:
    assert all(len(r) == len(head) for r in data), "short row"
    assert r[col["mode"]] == "http" and r[col["route"]] == "/" and r[col["workload"]] == "noop", r
    assert r[col["distribution"]] == "rr" and r[col["concurrency"]] == "2", r
    assert r[col["server_cpus"]] == p["server_cpus"], r
    n = int(r[col["requests"]])
    assert n > 0, "no requests: %s" % r
    shares = [int(x) for x in r[col["shares"]].split(";")]
    assert len(shares) == 1 and shares[0] == n, "shares %s, requests %d" % (shares, n)
    assert float(r[col["jain"]]) == 1.0, r
    name = "%s-rr-w1-c2-root-r1.hgrm" % r[col["backend"]]
    assert os.path.getsize(os.path.join(d, "latency", name)) > 0, "no " + name
' "$DIR" 2>"$LOG/py"; then
    ok "tiny http bench: meta.json, results.csv (shares add up) and latency files"
else
    not_ok "tiny http bench: $(tail -n 1 "$LOG/py")"
fi

DIR2=$RUN/interrupted
"$PVT" bench --mode http --backend proc --workers 1 --distribution rr --concurrency 1 \
    --duration 0.5 --repeat 100 --warmup 0 --out "$DIR2" >"$LOG/out2" 2>"$LOG/err2" </dev/null &
BG_PID=$!
for _ in $(seq 200); do
    [ -f "$DIR2/results.csv" ] && [ "$(lines "$DIR2/results.csv")" -ge 2 ] && break
    kill -0 "$BG_PID" 2>/dev/null || break
    sleep 0.1
done
children=$(descendants "$BG_PID")
note_started $children
interrupt_bg "interrupted http bench" 30
if awk -F, 'NR == 1 { nf = NF } NF != nf { bad = 1 } END { exit bad || NR < 2 }' \
    "$DIR2/results.csv" 2>/dev/null; then
    ok "interrupted http bench: results.csv complete ($(($(lines "$DIR2/results.csv") - 1)) rows)"
else
    not_ok "interrupted http bench: results.csv incomplete"
fi
# A child killed as the bench exits may take a moment to be reaped by init.
left_started
if [ -n "$children" ] && [ -z "$LEFT" ]; then
    ok "interrupted http bench: its server and client processes are gone"
else
    not_ok "interrupted http bench: processes left:$LEFT (before: '$(echo $children)')"
fi

cli_finish
