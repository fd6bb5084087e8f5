#!/usr/bin/env bash
#
# cli_serve_test.sh PVT: `pvt serve` from the outside.
#
# Usage errors: exit 2, exactly one line on stderr naming the flag, nothing
# on stdout. Then, for both backends and every distribution: --port 0 prints
# exactly one line "ready port=P pid=PID ctl=SOCKET" (P > 0, PID the process's own), the
# server answers / and /stats over a real socket, and SIGTERM makes it exit 0
# with every worker process gone. A port already in use: exit 1, one stderr
# line saying "in use" and naming the port, and nothing left running. The
# workload routes are bounded unless --unbounded-routes (/mem?bytes=300M:
# 400 naming the flag, then 200), and --max-workers 1024, the most
# --max-workers takes, starts for both backends.
#
# HTTP goes through python3 (a dependency), not curl. Everything runs in a
# fresh mktemp -d directory, removed at the end. Every process this script
# starts is ended by its pid, never by name. Prints "ok - ..." or
# "not ok - ..." per check and "N passed, M failed"; exits 1 if any check
# failed.
set -u

if [ $# -ne 1 ]; then
    echo "usage: $0 PATH_TO_PVT" >&2
    exit 2
fi
PVT=$1
case $PVT in
/*) ;;
*) PVT=$PWD/$PVT ;;
esac
[ -x "$PVT" ] || { echo "cli_serve_test.sh: $PVT is not an executable" >&2; exit 2; }

TOP=$(mktemp -d /tmp/pvt-cli-serve-test.XXXXXX) || exit 2
RUN=$TOP/run
LOG=$TOP/log
mkdir "$RUN" "$LOG" || exit 2
BG_PIDS=()   # servers this script started and has not yet seen exit
LEFT_PIDS=() # processes a failed check found left behind

cleanup() {
    local p
    for p in "${BG_PIDS[@]}" "${LEFT_PIDS[@]}"; do
        kill -KILL "$p" 2>/dev/null
    done
    for p in "${BG_PIDS[@]}"; do
        wait "$p" 2>/dev/null
    done
    rm -rf "$TOP"
}
trap cleanup EXIT

passed=0
failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }
lines() { if [ -e "$1" ]; then awk 'END { print NR }' "$1"; else echo 0; fi; }
flat() { head -c 300 "$1" | tr '\n' '|'; }

# --- usage errors ---------------------------------------------------------------

# serve_error DESC FLAG ARGS...: `pvt serve ARGS` must be a usage error whose
# one stderr line names FLAG. `timeout` ends a server that starts by mistake.
serve_error() {
    local desc=$1 pat=$2 why="" rc
    shift 2
    (cd "$RUN" && exec timeout 10 "$PVT" serve "$@") >"$LOG/out" 2>"$LOG/err" </dev/null
    rc=$?
    [ $rc -eq 2 ] || why="$why exit $rc, want 2;"
    [ "$(lines "$LOG/err")" -eq 1 ] || why="$why $(lines "$LOG/err") lines on stderr, want 1;"
    grep -qF -- "$pat" "$LOG/err" || why="$why stderr does not name '$pat';"
    [ -s "$LOG/out" ] && why="$why stdout not empty;"
    if [ -z "$why" ]; then
        ok "serve $desc: exit 2, one line naming '$pat'"
    else
        not_ok "serve $desc:$why stderr: $(flat "$LOG/err")"
    fi
}

serve_error "without --backend" "--backend" --port 0 --workers 1
serve_error "--backend bogus" "--backend" --backend bogus --port 0
serve_error "--backend glib (no server)" "--backend" --backend glib --port 0
serve_error "--workers 0" "--workers" --backend proc --port 0 --workers 0
serve_error "--port 70000" "--port" --backend proc --port 70000
serve_error "--distribution bogus" "--distribution" --backend proc --port 0 --distribution bogus
serve_error "--host not-an-ip" "--host" --backend proc --port 0 --host not-an-ip
serve_error "--host with a leading zero" "--host" --backend proc --port 0 --host 01.2.3.4
serve_error "unknown option" "--frobnicate" --backend proc --port 0 --frobnicate
serve_error "stray argument" "stray" --backend proc --port 0 stray
serve_error "--offload bogus" "--offload" --backend proc --port 0 --offload bogus
serve_error "--offload glib (no PVT_CAP_POLL)" "PVT_CAP_POLL" --backend proc --port 0 --offload glib
serve_error "--offload-workers 0" "--offload-workers" --backend proc --port 0 --offload thread \
    --offload-workers 0
serve_error "--offload-queue 0" "--offload-queue" --backend proc --port 0 --offload thread \
    --offload-queue 0
serve_error "--offload-queue 4097" "--offload-queue" --backend thread --port 0 --offload proc \
    --offload-queue 4097
serve_error "--offload-queue without --offload" "--offload" --backend proc --port 0 \
    --offload-queue 8

# --- processes ------------------------------------------------------------------

# start_time, children, gone, forget_bg: the helpers every CLI test shares.
. "$(dirname "$0")/cli_proc.sh"

# start_server NAME ARGS...: start `pvt serve ARGS` in the background, its
# output in $LOG/NAME.out and .err, and wait up to 10 s for its ready line.
# Sets SRV_PID, and SRV_PORT from the line (empty if none came).
start_server() {
    local name=$1 _
    shift
    # The child opens these after the fork: a previous server's ready line
    # must not be there to be found before it does.
    rm -f "$LOG/$name.out" "$LOG/$name.err"
    "$PVT" serve "$@" >"$LOG/$name.out" 2>"$LOG/$name.err" </dev/null &
    SRV_PID=$!
    BG_PIDS+=("$SRV_PID")
    SRV_PORT=
    for _ in $(seq 100); do
        grep -q '^ready ' "$LOG/$name.out" 2>/dev/null && break
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.1
    done
    SRV_PORT=$(sed -n 's/^ready port=\([0-9]*\) pid=[0-9]* ctl=[^ ]*$/\1/p' "$LOG/$name.out")
}

# stop_server PID: SIGTERM, wait up to 15 s; its exit status in SRV_RC (KILL
# and 137 past that).
stop_server() {
    local _
    kill -TERM "$1" 2>/dev/null
    for _ in $(seq 150); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$1" 2>/dev/null && kill -KILL "$1"
    wait "$1"
    SRV_RC=$?
    forget_bg "$1"
}

# http_check PORT BACKEND DIST: GET / answers 200 naming a worker, and
# /stats is JSON naming the backend, the distribution and 2 workers.
http_check() {
    python3 - "$@" <<'PY'
import json, re, socket, sys
port, backend, dist = int(sys.argv[1]), sys.argv[2], sys.argv[3]

def get(path):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(("GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" % path).encode())
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    s.close()
    head, _, body = data.decode("latin-1").partition("\r\n\r\n")
    return head.split("\r\n")[0], body

line, body = get("/")
assert line == "HTTP/1.1 200 OK", "GET /: %r" % line
assert re.fullmatch(r"hello from worker [01] \(pid [0-9]+\)\n", body), "GET /: body %r" % body
line, body = get("/stats")
assert line == "HTTP/1.1 200 OK", "GET /stats: %r" % line
d = json.loads(body)
assert d["backend"] == backend and d["distribution"] == dist, body
assert len(d["workers"]) == 2, body
PY
}

# --- every backend and distribution: ready line, answers, SIGTERM ------------------

for backend in proc thread; do
    for dist in shared reuseport rr; do
        what="serve --backend $backend --distribution $dist"
        start_server srv --backend "$backend" --distribution "$dist" --workers 2 --port 0
        pid=$SRV_PID
        why=""
        [ "$(lines "$LOG/srv.out")" -eq 1 ] || why="$why $(lines "$LOG/srv.out") lines on stdout;"
        grep -qx "ready port=[0-9]* pid=$pid ctl=/.*/pvt-$pid\.[A-Za-z0-9]*/ctl" "$LOG/srv.out" || why="$why ready line not 'ready port=P pid=$pid ctl=SOCKET';"
        [ -n "$SRV_PORT" ] && [ "$SRV_PORT" -gt 0 ] || why="$why no port > 0;"
        if [ -z "$why" ]; then
            ok "$what --port 0: one line, ready port=$SRV_PORT pid=$pid"
        else
            not_ok "$what --port 0:$why stdout: $(flat "$LOG/srv.out") stderr: $(flat "$LOG/srv.err")"
        fi
        kids=$(children "$pid")
        declare -A started=()
        for c in $kids; do
            started[$c]=$(start_time "$c")
        done
        if [ "$backend" = proc ] && [ "${#started[@]}" -ne 2 ]; then
            not_ok "$what: ${#started[@]} worker processes, want 2 (children '$kids')"
        elif [ "$backend" = thread ] && [ "${#started[@]}" -ne 0 ]; then
            not_ok "$what: child processes '$kids', want none"
        fi
        if [ -n "$SRV_PORT" ] && http_check "$SRV_PORT" "$backend" "$dist" 2>"$LOG/py"; then
            ok "$what: answers / and /stats"
        else
            not_ok "$what: HTTP: $(tail -n 1 "$LOG/py")"
        fi
        stop_server "$pid"
        left=""
        for c in "${!started[@]}"; do
            gone "$c" "${started[$c]}" || { left="$left $c"; LEFT_PIDS+=("$c"); }
        done
        unset started
        if [ $SRV_RC -eq 0 ] && [ -z "$left" ] && [ "$(lines "$LOG/srv.out")" -eq 1 ]; then
            ok "$what: SIGTERM: exit 0, no worker process left"
        else
            not_ok "$what: SIGTERM: exit $SRV_RC, workers left:$left; stderr: $(flat "$LOG/srv.err")"
        fi
    done
done

# --- a port in use ----------------------------------------------------------------

# The second server's command line is unique (--idle-timeout 54321), so any
# process of it left behind, forked workers included, is found by it.
left_of() {
    local cl want=$1 p st
    for st in /proc/[0-9]*/cmdline; do
        cl=$(tr '\0' ' ' <"$st" 2>/dev/null) || continue
        [ "$cl" = "$want" ] && { p=${st#/proc/}; echo "${p%/cmdline}"; }
    done
}

start_server first --backend proc --workers 2 --port 0
first=$SRV_PID
port=$SRV_PORT
if [ -z "$port" ]; then
    not_ok "port in use: the first server did not start: $(flat "$LOG/first.err")"
else
    (cd "$RUN" && exec timeout 10 "$PVT" serve --backend proc --workers 2 --port "$port" \
        --idle-timeout 54321) >"$LOG/out" 2>"$LOG/err" </dev/null
    rc=$?
    left=$(left_of "$PVT serve --backend proc --workers 2 --port $port --idle-timeout 54321 ")
    why=""
    [ $rc -eq 1 ] || why="$why exit $rc, want 1;"
    [ "$(lines "$LOG/err")" -eq 1 ] || why="$why $(lines "$LOG/err") lines on stderr, want 1;"
    grep -q "in use" "$LOG/err" && grep -qw -- "$port" "$LOG/err" ||
        why="$why stderr does not say 'in use' with port $port;"
    [ -s "$LOG/out" ] && why="$why stdout not empty;"
    if [ -n "$left" ]; then
        why="$why processes left: $left;"
        LEFT_PIDS+=($left)
    fi
    if [ -z "$why" ]; then
        ok "port in use: exit 1, one line naming port $port, nothing left running"
    else
        not_ok "port in use:$why stderr: $(flat "$LOG/err")"
    fi
    if http_check "$port" proc rr 2>"$LOG/py"; then
        ok "port in use: the first server still answers"
    else
        not_ok "port in use: the first server: $(tail -n 1 "$LOG/py")"
    fi
fi
stop_server "$first"
[ $SRV_RC -eq 0 ] && ok "port in use: the first server exits 0 on SIGTERM" ||
    not_ok "port in use: the first server exited $SRV_RC"

# --- the routes' bounds, and the largest --max-workers ---------------------------------

# status_body PORT PATH: "STATUS BODY" of GET PATH on a new connection.
status_body() {
    python3 - "$@" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
s.sendall(("GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" % sys.argv[2]).encode())
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
head, _, body = data.decode("latin-1").partition("\r\n\r\n")
print(head.split("\r\n")[0].split(" ")[1], body.strip())
PY
}

# By default /mem is bounded at 256 MiB, and the answer says how to lift it;
# --unbounded-routes lifts it.
for flag in "" --unbounded-routes; do
    what="serve ${flag:-(bounded)}: /mem?bytes=300M"
    start_server bound --backend proc --workers 1 --port 0 $flag
    got=$( [ -n "$SRV_PORT" ] && status_body "$SRV_PORT" "/mem?bytes=300M" 2>&1 | tail -n 1)
    if [ -z "$flag" ]; then
        case $got in
        "400 "*"--unbounded-routes"*) ok "$what: 400 naming --unbounded-routes" ;;
        *) not_ok "$what: '$got', want 400 naming --unbounded-routes" ;;
        esac
    else
        case $got in
        "200 mem bytes=314572800 "*) ok "$what: 200" ;;
        *) not_ok "$what: '$got', want 200" ;;
        esac
    fi
    stop_server "$SRV_PID"
done

# Every slot --max-workers allows has its two rings (a worker and its
# replacement during a rolling restart).
for backend in proc thread; do
    what="serve --backend $backend --max-workers 1024"
    start_server maxw --backend "$backend" --workers 1 --port 0 --max-workers 1024
    got=$( [ -n "$SRV_PORT" ] && status_body "$SRV_PORT" / 2>&1 | tail -n 1)
    case $got in
    "200 hello from worker 0 "*) ok "$what: starts and answers" ;;
    *) not_ok "$what: '$got'; stderr: $(flat "$LOG/maxw.err")" ;;
    esac
    [ -n "$SRV_PORT" ] && stop_server "$SRV_PID" || { wait "$SRV_PID"; forget_bg "$SRV_PID"; }
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
