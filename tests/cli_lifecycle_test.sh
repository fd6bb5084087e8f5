#!/usr/bin/env bash
#
# cli_lifecycle_test.sh PVT: a server's life from the outside: the control
# socket, `pvt ctl`, SIGHUP's rolling restart, scale, and SIGTERM with a slow
# request in flight.
#
# For both backends: the ready line names ctl=SOCKET (mode 0600, in a
# directory of its own, mode 0700); `pvt ctl
# SOCKET status --json` lists pids (proc) or tids (thread) that exist, and
# each worker's CPU list is its Cpus_allowed_list in /proc; a SIGHUP under a
# light bounded `pvt load` leaves 0 failed requests and only new worker ids;
# `ctl scale +1` then `-1` under load leaves 0 failed requests; SIGTERM with
# a /sleep request in flight: that request is answered 200, the server exits
# 0, no worker process is left (checked by pid and start time) and the
# socket and its directory are gone. Then `pvt ctl` usage errors exit 2 with one line, a
# malformed request gets an error reply, and a forced stop exits 3.
#
# The checks are on failures, exit codes and ids, never on timing. Every
# process this script starts is ended by its pid. Prints "ok - ..." or
# "not ok - ..." per check and "N passed, M failed"; exits 1 if any failed.
set -u

. "$(dirname "$0")/cli_lib.sh" "$@"

flat() { head -c 400 "$1" | tr '\n' '|'; }

# slow_request PORT MS OUT: in the background (its pid in sp), send
# GET /sleep?ms=MS and write the response's status line (or "nothing") to
# OUT; returns once the request is sent and has had time to reach a worker.
slow_request() {
    rm -f "$LOG/sent"
    python3 - "$1" "$2" "$LOG/sent" >"$3" 2>&1 <<'PY' &
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"GET /sleep?ms=%s HTTP/1.1\r\nHost: t\r\n\r\n" % sys.argv[2].encode())
open(sys.argv[3], "w").close()
data = b""
while b"\r\n\r\n" not in data:
    b = s.recv(4096)
    if not b:
        break
    data += b
print(data.split(b"\r\n")[0].decode() if data else "nothing")
PY
    sp=$!
    for _ in $(seq 100); do
        [ -e "$LOG/sent" ] && break
        sleep 0.1
    done
    sleep 0.2 # the request reaches a worker, which parks it
}

# start_server NAME ARGS...: `pvt serve ARGS --port 0` in the background;
# waits up to 10 s for the ready line. Sets SRV_PID, SRV_PORT, SRV_CTL.
start_server() {
    local name=$1 _
    shift
    "$PVT" serve "$@" --port 0 >"$LOG/$name.out" 2>"$LOG/$name.err" </dev/null &
    SRV_PID=$!
    BG_PIDS+=("$SRV_PID")
    for _ in $(seq 100); do
        grep -q '^ready ' "$LOG/$name.out" 2>/dev/null && break
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.1
    done
    SRV_PORT=$(sed -n 's/^ready port=\([0-9]*\) pid=[0-9]* ctl=.*$/\1/p' "$LOG/$name.out")
    SRV_CTL=$(sed -n 's/^ready port=[0-9]* pid=[0-9]* ctl=\(.*\)$/\1/p' "$LOG/$name.out")
}

# wait_exit PID: up to 15 s, then KILL; the exit status in SRV_RC.
wait_exit() {
    local _ p keep=()
    for _ in $(seq 150); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$1" 2>/dev/null && kill -KILL "$1"
    wait "$1"
    SRV_RC=$?
    for p in "${BG_PIDS[@]}"; do
        [ "$p" = "$1" ] || keep+=("$p")
    done
    BG_PIDS=("${keep[@]}")
}

# status_check BACKEND SERVER_PID SOCKET WORKERS: `pvt ctl status --json`
# lists WORKERS workers whose ids exist and whose CPU lists are the bound
# ones; prints the ids, one a line. Non-zero with the reason on stderr.
status_check() {
    "$PVT" ctl "$3" status --json >"$LOG/status.json" 2>"$LOG/status.err" || {
        echo "pvt ctl status failed: $(flat "$LOG/status.err")" >&2
        return 1
    }
    python3 - "$1" "$2" "$4" "$LOG/status.json" <<'PY'
import json, os, sys
backend, server, want, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
d = json.load(open(path))

def cpus(text):
    out = set()
    for part in text.strip().split(","):
        a, _, b = part.partition("-")
        out.update(range(int(a), int(b or a) + 1))
    return out

assert d["ok"] is True and d["backend"] == backend and d["pid"] == server, d
assert len(d["workers"]) == want, "%d workers, want %d" % (len(d["workers"]), want)
for w in d["workers"]:
    key = "pid" if backend == "proc" else "tid"
    wid = w[key]
    st = "/proc/%d/status" % wid if backend == "proc" else "/proc/%d/task/%d/status" % (server, wid)
    assert os.path.exists(st), "slot %d: %s %d does not exist" % (w["slot"], key, wid)
    fields = dict(l.split(":", 1) for l in open(st) if ":" in l)
    if backend == "proc":
        assert int(fields["PPid"]) == server, "pid %d is not the server's child" % wid
    allowed = cpus(fields["Cpus_allowed_list"])
    assert set(w["cpu_list"]) == allowed, "slot %d: cpu_list %s, /proc says %s" % (
        w["slot"], w["cpu_list"], sorted(allowed))
    assert w["state"] == "ready" and w["rss_kb"] > 0 and w["uptime_s"] >= 0, w
    print(wid)
PY
}

# settled SOCKET: wait up to 10 s for every worker ready, nothing rolling or
# draining.
settled() {
    local _
    for _ in $(seq 100); do
        "$PVT" ctl "$1" status --json 2>/dev/null |
            python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(d["rolling"] or d["draining"] or d["live"] != len(d["workers"]))' &&
            return 0
        sleep 0.1
    done
    return 1
}

# load_errors FILE: the failed requests in a `pvt load --json` result.
load_errors() {
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(d["errors"].values()), d["requests"])' "$1" 2>/dev/null ||
        echo "unreadable 0"
}

for backend in proc thread; do
    what="$backend"
    start_server srv --backend "$backend" --workers 2 --distribution rr
    pid=$SRV_PID port=$SRV_PORT sock=$SRV_CTL
    why=""
    [ -n "$port" ] && [ -n "$sock" ] || why="$why ready line without port= and ctl=: $(flat "$LOG/srv.out");"
    [ -S "$sock" ] || why="$why $sock is not a socket;"
    [ "$(stat -c %a "$sock" 2>/dev/null)" = 600 ] || why="$why mode $(stat -c %a "$sock" 2>/dev/null), want 600;"
    sockdir=$(dirname "$sock")
    [ "$(stat -c %a:%u "$sockdir" 2>/dev/null)" = "700:$(id -u)" ] ||
        why="$why directory $sockdir: $(stat -c %a:%u "$sockdir" 2>/dev/null), want 700:$(id -u);"
    check "$what: ready line names ctl=$sock, a socket of mode 0600 in a directory of mode 0700" "$why"
    [ -n "$port" ] || { not_ok "$what: no server: $(flat "$LOG/srv.err")"; continue; }

    before=$(status_check "$backend" "$pid" "$sock" 2 2>"$LOG/py")
    check "$what: ctl status --json: 2 workers that exist, CPU lists as /proc says" \
        "$([ -n "$before" ] || echo " $(tail -n 1 "$LOG/py")")"
    declare -A started=()
    if [ "$backend" = proc ]; then
        for w in $before; do started[$w]=$(start_time "$w"); done
    fi

    # SIGHUP under a light, bounded load.
    "$PVT" load "http://127.0.0.1:$port/" -c 4 -d 3 -R 400 --json >"$LOG/load1.json" 2>"$LOG/load1.err" &
    lp=$!
    sleep 1
    kill -HUP "$pid"
    wait "$lp"
    read -r errs reqs <<<"$(load_errors "$LOG/load1.json")"
    why=""
    [ "$errs" = 0 ] && [ "$reqs" -gt 0 ] || why="$why $errs failed of $reqs;"
    settled "$sock" || why="$why still rolling or draining;"
    after=$(status_check "$backend" "$pid" "$sock" 2 2>"$LOG/py") || why="$why status: $(tail -n 1 "$LOG/py");"
    for w in $before; do
        grep -qx "$w" <<<"$after" && why="$why worker $w not replaced;"
        if [ "$backend" = proc ] && [ "$(start_time "$w")" = "${started[$w]}" ]; then
            why="$why old worker $w still runs;"
        fi
    done
    check "$what: SIGHUP under load: 0 failed requests, every worker new ($(echo $after))" "$why"
    unset started

    # Scale up and down under load.
    "$PVT" load "http://127.0.0.1:$port/" -c 4 -d 3 -R 400 --json >"$LOG/load2.json" 2>"$LOG/load2.err" &
    lp=$!
    sleep 0.5
    up=$("$PVT" ctl "$sock" scale +1 2>&1)
    settled "$sock"
    n3=$(status_check "$backend" "$pid" "$sock" 3 2>"$LOG/py3" | wc -l)
    sleep 0.5
    down=$("$PVT" ctl "$sock" scale -1 2>&1)
    wait "$lp"
    settled "$sock"
    n2=$(status_check "$backend" "$pid" "$sock" 2 2>"$LOG/py2" | wc -l)
    read -r errs reqs <<<"$(load_errors "$LOG/load2.json")"
    why=""
    [ "$up" = "scaled: 3 workers" ] || why="$why scale +1 said '$up';"
    [ "$down" = "scaled: 2 workers" ] || why="$why scale -1 said '$down';"
    [ "$n3" = 3 ] || why="$why after +1: $(tail -n 1 "$LOG/py3");"
    [ "$n2" = 2 ] || why="$why after -1: $(tail -n 1 "$LOG/py2");"
    [ "$errs" = 0 ] && [ "$reqs" -gt 0 ] || why="$why $errs failed of $reqs;"
    check "$what: ctl scale +1 then -1 under load: 0 failed requests" "$why"

    # SIGTERM with a slow request in flight.
    ids=$(status_check "$backend" "$pid" "$sock" 2 2>/dev/null)
    declare -A started=()
    if [ "$backend" = proc ]; then
        for w in $ids; do started[$w]=$(start_time "$w"); done
    fi
    slow_request "$port" 1500 "$LOG/slow"
    kill -TERM "$pid"
    wait "$sp"
    wait_exit "$pid"
    why=""
    [ "$(cat "$LOG/slow")" = "HTTP/1.1 200 OK" ] || why="$why the slow request got '$(flat "$LOG/slow")';"
    [ "$SRV_RC" = 0 ] || why="$why exit $SRV_RC, want 0;"
    for w in "${!started[@]}"; do
        [ "$(start_time "$w")" = "${started[$w]}" ] && why="$why worker $w left;"
    done
    [ -e "$sock" ] && why="$why $sock left behind;"
    [ -e "$sockdir" ] && why="$why $sockdir left behind;"
    check "$what: SIGTERM with /sleep in flight: it is answered 200, exit 0, nothing left" "$why"
    unset started
done

# --- pvt ctl usage and bad requests ----------------------------------------------

# ctl_usage DESC ARGS...: exit 2 and one line on stderr.
ctl_usage() {
    local desc=$1 rc
    shift
    "$PVT" ctl "$@" >"$LOG/out" 2>"$LOG/err" </dev/null
    rc=$?
    check "ctl $desc: exit 2, one line" \
        "$([ $rc -eq 2 ] || echo " exit $rc;")$([ "$(lines "$LOG/err")" -eq 1 ] || echo " stderr: $(flat "$LOG/err")")"
}

ctl_usage "without arguments"
ctl_usage "without a command" /tmp/x.ctl
ctl_usage "unknown command" /tmp/x.ctl bogus
ctl_usage "scale without N" /tmp/x.ctl scale
ctl_usage "scale 3 (no sign)" /tmp/x.ctl scale 3
ctl_usage "scale +0" /tmp/x.ctl scale +0
ctl_usage "status --batch" /tmp/x.ctl status --batch 2
ctl_usage "unknown option" /tmp/x.ctl status --frobnicate

"$PVT" ctl "$TOP/none.ctl" status >"$LOG/out" 2>"$LOG/err"
rc=$?
check "ctl to a socket nobody serves: exit 1, one line" \
    "$([ $rc -eq 1 ] || echo " exit $rc;")$([ "$(lines "$LOG/err")" -eq 1 ] || echo " stderr: $(flat "$LOG/err")")"

start_server bad --backend proc --workers 1 --shutdown-timeout 200
pid=$SRV_PID port=$SRV_PORT sock=$SRV_CTL
python3 - "$sock" >"$LOG/bad" 2>&1 <<'PY'
import json, socket, sys
def call(raw):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(sys.argv[1])
    s.sendall(raw)
    data = b""
    while not data.endswith(b"\n"):
        b = s.recv(65536)
        if not b:
            break
        data += b
    return json.loads(data)
for raw in (b"not json\n", b"[1]\n", b"{\"cmd\":\"frob\"}\n", b"{\"cmd\":\"scale\",\"delta\":\"x\"}\n",
            b"{\"cmd\":\"scale\",\"delta\":-1}\n", b"x" * 5000):
    r = call(raw)
    assert r["ok"] is False and r["error"], (raw[:20], r)
assert call(b"{\"cmd\":\"status\"}\n")["ok"] is True
print("fine")
PY
check "malformed, unknown, oversized and refused requests get an error reply; the server goes on" \
    "$([ "$(cat "$LOG/bad")" = fine ] || echo " $(flat "$LOG/bad")")"

# A client that reads to end of file gets it with the reply, also when the
# request forked workers (scale +1, restart): a worker must not inherit the
# client's socket. Each read is bounded (30 s), and so is the whole client.
timeout 120 python3 - "$sock" >"$LOG/eof" 2>&1 <<'PY'
import json, socket, sys, time
def call(raw):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(30)
    s.connect(sys.argv[1])
    s.sendall(raw + b"\n")
    data = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                return data.decode(errors="replace")
            data += b
    except socket.timeout:
        return "no end of file within 30 s after %r" % data
def settled():
    for _ in range(300):
        r = json.loads(call(b'{"cmd":"status"}'))
        if r["rolling"] == 0 and r["draining"] == 0 and all(w["state"] == "ready" for w in r["workers"]):
            return True
        time.sleep(0.1)
    return False
bad = []
for raw in (b'{"cmd":"scale","delta":1}', b'{"cmd":"restart","batch":1}'):
    r = call(raw)
    if not r.startswith('{"ok":true') or not r.endswith("\n"):
        bad.append("%s: %s" % (raw.decode(), r.strip()))
    if not settled():
        bad.append("%s: the workers never settled" % raw.decode())
print("; ".join(bad) if bad else "fine")
PY
check "ctl scale +1 and restart: a client reading to end of file gets it after the reply" \
    "$([ "$(cat "$LOG/eof")" = fine ] || echo " $(flat "$LOG/eof")")"

# A forced stop: a request longer than --shutdown-timeout.
slow_request "$port" 8000 /dev/null
"$PVT" ctl "$sock" stop >"$LOG/out" 2>&1
wait_exit "$pid"
wait "$sp"
check "ctl stop with a request past --shutdown-timeout: exit 3, forced (said on stderr)" \
    "$([ "$SRV_RC" = 3 ] || echo " exit $SRV_RC;")$(grep -q forced "$LOG/bad.err" || echo " stderr: $(flat "$LOG/bad.err")")"

cli_finish
