#!/usr/bin/env bash
# anchors.sh: measure pvt against its anchors side by side, in one run, on the same CPUs.
#
# The targets (shared/ANCHORS.md), each checked as a ratio of medians from this run:
#   (1) `pvt serve`, 1 worker, spends no more server CPU per hello request than
#       nginx with 1 worker, under the same wrk load;
#   (2) `pvt load` spends no more client CPU per request than wrk, at the same
#       threads and connections, against the same server;
#   (3) `pvt serve` spends at most a third of the server CPU per request of the
#       seeds' Node.js cluster (primary + 2 workers), under the same wrk load.
#
# Placement, as ANCHORS.md measures it ("1 core for the server, wrk -t1 on the
# other"): every server's whole process tree on CPU 0 (taskset -c 0, inherited
# by its workers and threads, and checked after each run), the client on CPU 1.
#
# The matrix: servers {pvt-proc, pvt-thread, nginx, node-cluster} x clients
# {wrk, pvt-load}, repeated --repeat rounds. Every server is started once and
# warmed up (an unrecorded load: Node's JIT needs seconds of it to reach its
# steady state), then kept for the whole run. Each round takes the servers in
# an order rotated by one place, gives each a short unrecorded load again (an
# idle vCPU pays for waking up), and runs both clients against it, the first
# of them alternating from round to round; so noise from the rest of the
# machine lands on every pair alike.
#
#   server CPU per request = delta of utime+stime of the server's whole tree
#                            (primary and every live child, from /proc) over
#                            the client's run / requests the client completed
#   client CPU per request = the client's own user+system CPU (its rusage from
#                            wait4) / requests it completed
#
# The servers:
#   pvt-proc, pvt-thread  `pvt serve --backend proc|thread --workers 1`, its
#                         defaults otherwise (distribution rr, --pin compact,
#                         which stays inside the taskset mask)
#   nginx                 a config generated in the temp dir: worker_processes 1,
#                         master_process on (master + 1 worker, both counted),
#                         daemon off, access_log off, `return 200 "hello\n"`;
#                         every path (pid, logs, temp) inside the temp dir
#   node-cluster          scripts/anchors/node_cluster.js: the `cluster` module,
#                         the primary forks 2 workers, Node's default scheduling
#                         (SCHED_RR on Linux), each worker answering "hello\n"
#
# Every load goes to 127.0.0.1 only and is bounded in time (the client's -d,
# and a hard kill after it). Every process started here is stopped by its PID
# (SIGTERM, then SIGKILL after a bounded wait) and reaped; a trap on EXIT, INT
# and TERM stops the servers still running the same way, then kills whatever
# is left, by PID only, after checking that the PID still names the process
# that was started.
#
# Exit status: 0 when every target is met, 3 when the run was made but a
# target was missed, 1 when it could not run, 2 for a usage error.
set -u
set -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
HELPER=$HERE/anchors/anchors.py
NODE_JS=$HERE/anchors/node_cluster.js
PVT=${PVT:-$ROOT/build/bench/pvt}

SERVERS=(pvt-proc pvt-thread nginx node-cluster)
CLIENTS=(wrk pvt-load)   # two: the order below alternates them
SERVER_CPU=0          # the server's whole tree runs here
CLIENT_CPU=1          # the client runs here
THREADS=1             # client threads (wrk -t, pvt load -t)
CONNS=64              # client connections (wrk -c, pvt load -c)
NODE_WORKERS=2        # the seeds' cluster on this 2-core machine
READY_TIMEOUT=10      # seconds a server gets to start answering
STOP_TIMEOUT=5        # seconds between SIGTERM and SIGKILL
CLIENT_MARGIN=15      # seconds past --duration before a client is killed

# Defaults: 5 rounds of 3 s runs keep the whole matrix (8 runs a round) under
# about 3 minutes; wrk's usual -d5s is --duration 5.
REPEAT=5
DURATION=3
WARMUP=2s             # unrecorded pvt load on each server once it has started
REWARM=200ms          # and before each server's turn in a round
OUT=""

usage() {
    cat <<EOF
usage: scripts/anchors.sh [--repeat R] [--duration S] [--quick] [--out FILE]

Runs pvt serve (proc and thread, 1 worker), nginx (1 worker) and a Node.js
cluster (2 workers) on CPU $SERVER_CPU, each driven by wrk and by pvt load
(-t$THREADS -c$CONNS) on CPU $CLIENT_CPU, and prints medians and the anchor ratios.

  --repeat R     rounds of the whole matrix (default $REPEAT)
  --duration S   seconds per load run, whole seconds (default $DURATION)
  --quick        a smoke run: 1 round of 1 s runs
  --out FILE     the CSV of raw rows (default: a temp file, named at the end)
  -h, --help     this help

Exit status: 0 every target met, 3 a target missed, 1 could not run, 2 usage.
EOF
}

die() { echo "anchors.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
    case $1 in
        --repeat) [ $# -ge 2 ] || { usage >&2; exit 2; }; REPEAT=$2; shift 2 ;;
        --duration) [ $# -ge 2 ] || { usage >&2; exit 2; }; DURATION=$2; shift 2 ;;
        --quick) REPEAT=1; DURATION=1; WARMUP=500ms; shift ;;
        --out) [ $# -ge 2 ] || { usage >&2; exit 2; }; OUT=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "anchors.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
done
[[ $REPEAT =~ ^[1-9][0-9]*$ ]] || { echo "anchors.sh: --repeat: '$REPEAT' is not a positive integer" >&2; exit 2; }
[[ $DURATION =~ ^[1-9][0-9]*$ ]] || { echo "anchors.sh: --duration: '$DURATION' is not a positive whole number of seconds" >&2; exit 2; }

# --- dependencies ---------------------------------------------------------------
# Python: prefer Debian's interpreter (a pyenv shim costs ~0.1 s a call).
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=$(command -v python3) || die "python3 is needed"; fi

# command -> the Debian package that provides it.
declare -A PKG_OF=([nginx]=nginx-light [wrk]=wrk [node]=nodejs [taskset]=util-linux [ps]=procps)

find_nginx() { command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; }; }

install_missing() {
    local missing=() cmd
    for cmd in nginx wrk node taskset ps; do
        if [ "$cmd" = nginx ]; then [ -n "$(find_nginx)" ] && continue
        else command -v "$cmd" >/dev/null 2>&1 && continue; fi
        missing+=("${PKG_OF[$cmd]}")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "anchors.sh: missing Debian packages: ${missing[*]}" >&2
        echo "install them with: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
        exit 1
    fi
    echo "installing: ${missing[*]}"
    # Installing nginx must not start the system's nginx on port 80: where no
    # policy-rc.d exists, one that refuses every service start is put in place
    # for the install only.
    local policy=/usr/sbin/policy-rc.d made_policy=0
    if [ ! -e $policy ]; then
        printf '#!/bin/sh\nexit 101\n' >$policy && chmod 755 $policy && made_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    local rc=$?
    [ $made_policy -eq 1 ] && rm -f $policy
    [ $rc -eq 0 ] || die "apt-get install ${missing[*]} failed"
}
install_missing
NGINX=$(find_nginx)
[ -x "$PVT" ] || die "$PVT is missing: run 'make build' in $ROOT"
for cpu in $SERVER_CPU $CLIENT_CPU; do
    taskset -c "$cpu" true 2>/dev/null || die "CPU $cpu is not available to this process (needs 2 CPUs)"
done

# --- temp dir, the CSV, and the trap ------------------------------------------------
TMP=$(mktemp -d /tmp/pvt-anchors.XXXXXX) || die "mktemp failed"
if [ -z "$OUT" ]; then OUT=$(mktemp /tmp/pvt-anchors-XXXXXX.csv) || die "mktemp failed"; fi
echo "round,server,client,requests,seconds,req_per_s,errors,p99_us,server_cpu_s,client_cpu_s,server_us_per_req,client_us_per_req" >"$OUT" \
    || die "cannot write $OUT"

# Every process this script is responsible for, as "pid:starttime". The start
# time (field 22 of /proc/PID/stat) tells the process apart from a later one
# that got the same PID, so the trap never kills a stranger.
OWNED=()
declare -A SRV_PID SRV_PORT   # server name -> primary PID, port (while it runs)

start_time() {  # start_time PID: its start time, or nothing when it is gone
    local s
    s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    s=${s##*) }                     # the fields after the command name
    local f
    read -ra f <<<"$s"
    [ "${f[0]}" = Z ] && return 1   # a zombie has exited already
    echo "${f[19]}"
}

own() {  # own PID...: record PIDs (a server's tree) for the trap
    local p t
    for p in "$@"; do t=$(start_time "$p") && OWNED+=("$p:$t"); done
}

still_ours() {  # still_ours PID:START: true while that very process lives
    local t
    t=$(start_time "${1%%:*}") && [ "$t" = "${1#*:}" ]
}

# On every exit: the servers still running are stopped as at the end of a run
# (SIGTERM lets a primary reap its own workers), then anything of ours still
# alive gets SIGKILL.
# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
    local e name
    for name in "${!SRV_PID[@]}"; do stop_server "$name"; done
    for e in "${OWNED[@]}"; do
        still_ours "$e" && kill -KILL "${e%%:*}" 2>/dev/null
    done
    wait 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'echo "anchors.sh: interrupted" >&2; exit 1' INT TERM

# --- servers ----------------------------------------------------------------------
write_nginx_conf() {  # write_nginx_conf PORT: the config for one nginx run
    local d=$TMP/nginx
    mkdir -p "$d/temp"
    cat >"$d/nginx.conf" <<EOF
# Generated by scripts/anchors.sh; nothing here reads or writes /etc/nginx.
worker_processes 1;
master_process on;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    default_type text/plain;
    client_body_temp_path $d/temp/body;
    proxy_temp_path $d/temp/proxy;
    fastcgi_temp_path $d/temp/fastcgi;
    uwsgi_temp_path $d/temp/uwsgi;
    scgi_temp_path $d/temp/scgi;
    server {
        listen 127.0.0.1:$1;
        location / { return 200 "hello\n"; }
    }
}
EOF
}

# Each server runs for the whole run: started once, warmed up, then measured
# in every round while the others sleep (an idle server here costs no CPU:
# every one of them waits in epoll). Node's JIT in particular needs seconds of
# load before it reaches its steady state, which is what the anchors compare.
start_server() {  # start_server NAME: fills SRV_PID[NAME] and SRV_PORT[NAME], or dies
    local name=$1 port="" cmd=() wait_arg=() pid log=$TMP/$1
    case $name in
        pvt-proc|pvt-thread)
            cmd=("$PVT" serve --backend "${name#pvt-}" --workers 1 --port 0 --quiet)
            wait_arg=(--out "$log.out") ;;
        nginx)
            port=$("$PY" "$HELPER" freeport) || die "no free port"
            write_nginx_conf "$port"
            cmd=("$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/error.log")
            wait_arg=(--port "$port") ;;
        node-cluster)
            port=$("$PY" "$HELPER" freeport) || die "no free port"
            cmd=(node "$NODE_JS" "$port" "$NODE_WORKERS")
            wait_arg=(--out "$log.out") ;;
        *) die "unknown server $name" ;;
    esac
    # A simple command sent to the background is exec'd in the forked child,
    # and taskset execs the server in turn, so $! is the server's own PID.
    taskset -c "$SERVER_CPU" "${cmd[@]}" >"$log.out" 2>"$log.err" </dev/null &
    pid=$!
    own "$pid"
    SRV_PID[$name]=$pid
    if ! port=$("$PY" "$HELPER" wait-ready "$pid" "$READY_TIMEOUT" "${wait_arg[@]}"); then
        cat "$log.err" >&2
        die "$name did not start"
    fi
    SRV_PORT[$name]=$port
    # Its workers exist now: record them so the trap can reach them too.
    local tree
    read -ra tree <<<"$("$PY" "$HELPER" tree "$pid")"
    own "${tree[@]:1}"
    echo "  started $name: pid $pid, port $port, ${#tree[@]} process(es)"
}

check_placement() {  # check_placement NAME: every thread of its tree on SERVER_CPU only
    local cpus
    cpus=$("$PY" "$HELPER" affinity "${SRV_PID[$1]}")
    [ "$cpus" = "$SERVER_CPU" ] || die "$1: server threads allowed on CPUs '$cpus', not $SERVER_CPU"
}

stop_server() {  # stop_server NAME: SIGTERM, bounded wait, SIGKILL, reap
    local pid=${SRV_PID[$1]} pids p waited=0 left
    read -ra pids <<<"$("$PY" "$HELPER" tree "$pid")"
    kill -TERM "$pid" 2>/dev/null
    while :; do
        left=()
        for p in "${pids[@]}"; do start_time "$p" >/dev/null && left+=("$p"); done
        [ ${#left[@]} -eq 0 ] && break
        if [ $waited -ge $((STOP_TIMEOUT * 10)) ]; then
            echo "anchors.sh: $1 still running ${STOP_TIMEOUT} s after SIGTERM: SIGKILL to ${left[*]}" >&2
            kill -KILL "${left[@]}" 2>/dev/null
            break
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    wait "$pid" 2>/dev/null
    unset "SRV_PID[$1]"
}

# --- clients ----------------------------------------------------------------------
client_cmd() {  # client_cmd NAME PORT DURATION: sets CMD, the client's command line
    local url=http://127.0.0.1:$2/
    case $1 in
        wrk) CMD=(wrk -t"$THREADS" -c"$CONNS" -d"$3" --latency "$url") ;;
        pvt-load) CMD=("$PVT" load "$url" -t "$THREADS" -c "$CONNS" -d "$3" --json) ;;
        *) die "unknown client $1" ;;
    esac
}

measure() {  # measure ROUND SERVER CLIENT: one recorded run, appended to the CSV
    local round=$1 server=$2 client=$3 cpu0 cpu1 user sys requests seconds errors p99
    client_cmd "$client" "${SRV_PORT[$server]}" "${DURATION}s"
    cpu0=$("$PY" "$HELPER" cpu "${SRV_PID[$server]}") || die "cannot read $server's CPU time"
    taskset -c "$CLIENT_CPU" "$PY" "$HELPER" timed $((DURATION + CLIENT_MARGIN)) "$TMP/rusage" -- \
        "${CMD[@]}" >"$TMP/client.out" 2>"$TMP/client.err" </dev/null \
        || { cat "$TMP/client.err" >&2; die "$client against $server failed"; }
    cpu1=$("$PY" "$HELPER" cpu "${SRV_PID[$server]}") || die "cannot read $server's CPU time"
    read -r user sys <"$TMP/rusage"
    read -r requests seconds errors p99 < <("$PY" "$HELPER" parse "$client" "$TMP/client.out") \
        || die "cannot parse $client's output"
    [ "$requests" -gt 0 ] || die "$client against $server completed no request"
    # All the arithmetic in one place; every figure is from this run.
    "$PY" - "$round" "$server" "$client" "$requests" "$seconds" "$errors" "$p99" \
        "$cpu0" "$cpu1" "$user" "$sys" >>"$OUT" <<'EOF'
import sys
rnd, server, client, req, sec, err, p99, c0, c1, u, s = sys.argv[1:]
req, sec, c0, c1, u, s = int(req), float(sec), float(c0), float(c1), float(u), float(s)
server_cpu, client_cpu = c1 - c0, u + s
print(f"{rnd},{server},{client},{req},{sec:.3f},{req / sec:.0f},{err},{p99},"
      f"{server_cpu:.2f},{client_cpu:.4f},{server_cpu / req * 1e6:.3f},{client_cpu / req * 1e6:.3f}")
EOF
    tail -n 1 "$OUT" | awk -F, '{printf "  %-12s %-8s %8d req/s  server %6.2f µs/req  client %6.2f µs/req  errors %s\n", $2, $3, $6, $11, $12, $7}'
}

warm_up() {  # warm_up NAME DURATION: an unrecorded load (JIT, caches, an idle vCPU woken)
    client_cmd pvt-load "${SRV_PORT[$1]}" "$2"
    taskset -c "$CLIENT_CPU" "$PY" "$HELPER" timed "$CLIENT_MARGIN" "$TMP/rusage" -- \
        "${CMD[@]}" >/dev/null 2>"$TMP/client.err" </dev/null \
        || { cat "$TMP/client.err" >&2; die "warm-up of $1 failed"; }
}

# --- the run -----------------------------------------------------------------------
echo "pvt anchors: $REPEAT round(s), ${DURATION} s per run, -t$THREADS -c$CONNS," \
     "server on CPU $SERVER_CPU, client on CPU $CLIENT_CPU"
echo "  $(uname -sr); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "  $("$NGINX" -v 2>&1); $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2); node $(node --version)"
for server in "${SERVERS[@]}"; do
    start_server "$server"
    warm_up "$server" "$WARMUP"
done
nservers=${#SERVERS[@]}
for ((round = 1; round <= REPEAT; round++)); do
    echo "round $round/$REPEAT"
    for ((i = 0; i < nservers; i++)); do
        # Servers rotate by one place a round; for each server the client that
        # goes first alternates from round to round.
        j=$(((i + round - 1) % nservers))
        server=${SERVERS[$j]}
        if (((round + j) % 2)); then order=("${CLIENTS[1]}" "${CLIENTS[0]}"); else order=("${CLIENTS[@]}"); fi
        warm_up "$server" "$REWARM"
        for client in "${order[@]}"; do
            measure "$round" "$server" "$client"
        done
    done
done
for server in "${SERVERS[@]}"; do
    check_placement "$server"
    stop_server "$server"
done

echo
"$PY" "$HELPER" summary "$OUT"
status=$?
[ $status -le 3 ] || status=1
echo "raw rows: $OUT"

# Nothing this script started may outlive it.
left=()
for e in "${OWNED[@]}"; do still_ours "$e" && left+=("${e%%:*}"); done
if [ ${#left[@]} -gt 0 ]; then
    echo "anchors.sh: still running after the run:" >&2
    ps -o pid,ppid,comm -p "$(IFS=,; echo "${left[*]}")" >&2
    status=1
fi
exit $status
