#!/usr/bin/env bash
#
# cli_fault_serve_test.sh PVT: `pvt serve` under faults, from the outside.
#
# - proc --allow-faults, started with SIGCHLD ignored: GET /crash gets no
#   response; stderr logs the dead worker (signal 11) and its replacement
#   (another pid); the server keeps answering; SIGTERM exits 0 and no
#   process is left.
# - proc --allow-faults, /exit?code=78: the slot is not respawned, and /stats
#   and `pvt ctl status` show it exited with pid 0, not its dead worker's.
# - thread --restart --allow-faults: GET /crash kills the server process; the
#   ready line is printed once; the server answers again (bounded retries);
#   stderr says it restarted; SIGTERM exits 0 and no process is left.
# - thread --restart --crash-loop 3/600, repeated /abort: a crash loop ends
#   with exit 1 and a "giving up" line after 3 deaths. The window is long, so
#   how fast the harness sends the aborts cannot matter.
# - --max-rss and --max-jobs with --backend thread, and --crash-loop values
#   that are not N/SECONDS in range, are usage errors: exit 2, one line
#   naming the flag.
# - proc --worker-timeout 300 + /hang: the worker is killed and replaced
#   (/stats: restarts 1), stderr says it hung.
# - proc --max-rss 64 + /leak?mb=80: stderr says the worker was recycled (its
#   RSS over the limit, its replacement's pid, draining), then that the old
#   pid exited with code 0; no line says code -1.
# - proc --max-jobs 50, 300 sequential requests (a connection each): none
#   fails, /stats shows restarts > 0, and stderr has the recycle lines.
#
# HTTP goes through python3, every socket with a timeout; every wait is a
# bounded retry loop, and nothing asserts how long anything took. Processes
# are ended by pid, never by name. Core dumps are off (the faults are real).
# Prints "ok - ..." or "not ok - ..." per check and "N passed, M failed";
# exits 1 if any check failed.
set -u

. "$(dirname "$0")/cli_lib.sh" "$@"
ulimit -c 0
flat() { head -c 400 "$1" | tr '\n' '|'; }

# --- HTTP ----------------------------------------------------------------------

cat >"$TOP/http.py" <<'PY'
import json, socket, sys

def request(port, path, timeout):
    """The raw response to GET path on a new connection, b"" if the server
    closed (or reset) it without a byte; raises on refusal or timeout."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(("GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" % path).encode())
        data = b""
        while True:
            try:
                b = s.recv(65536)
            except ConnectionResetError:
                break
            if not b:
                break
            data += b
        return data
    finally:
        s.close()

def status(port, path, timeout):
    try:
        data = request(port, path, timeout)
    except ConnectionRefusedError:
        return "refused", ""
    except socket.timeout:
        return "timeout", ""
    except OSError as e:
        return "error:%s" % e.__class__.__name__, ""
    if not data:
        return "closed", ""
    head, _, body = data.decode("latin-1").partition("\r\n\r\n")
    parts = head.split("\r\n")[0].split(" ")
    return (parts[1] if len(parts) > 1 else "garbage"), body

cmd, port = sys.argv[1], int(sys.argv[2])
if cmd == "status":            # status PORT PATH [TIMEOUT_S]: 200, closed, refused, ...
    print(status(port, sys.argv[3], float(sys.argv[4]) if len(sys.argv) > 4 else 5)[0])
elif cmd == "stats":           # stats PORT: "restarts=R hung=H workers=N", or an error word
    st, body = status(port, "/stats", 5)
    if st != "200":
        print(st)
    else:
        ws = json.loads(body)["workers"]
        print("restarts=%d hung=%d workers=%d" % (sum(w["restarts"] for w in ws),
              sum(1 for w in ws if w["hung"]), len(ws)))
elif cmd == "workers":         # workers PORT: "STATE:PID" per worker of /stats
    st, body = status(port, "/stats", 5)
    print(st if st != "200" else
          " ".join("%s:%d" % (w["state"], w["pid"]) for w in json.loads(body)["workers"]))
elif cmd == "seq":             # seq PORT N: N sequential GET /, one connection each
    bad = []
    for i in range(int(sys.argv[3])):
        st, body = status(port, "/", 5)
        if st != "200" or not body.startswith("hello from worker "):
            bad.append("%d:%s" % (i, st))
    print("failed=%d %s" % (len(bad), " ".join(bad[:5])))
PY
http() { python3 "$TOP/http.py" "$@" 2>&1 | tail -n 1; }

# sigign.py PROGRAM ARGS...: exec PROGRAM with SIGCHLD ignored, as a parent
# that set it leaves it across exec.
cat >"$TOP/sigign.py" <<'PY'
import os, signal, sys
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
os.execv(sys.argv[1], sys.argv[1:])
PY

# wait_status PORT PATH WANT TRIES: retry every 0.1 s until the status is WANT.
wait_status() {
    local i
    for i in $(seq "$4"); do
        [ "$(http status "$1" "$2" 2)" = "$3" ] && return 0
        sleep 0.1
    done
    return 1
}

# wait_log FILE PATTERN TRIES: retry every 0.1 s until grep -E finds PATTERN.
wait_log() {
    local i
    for i in $(seq "$3"); do
        grep -Eq -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# --- processes --------------------------------------------------------------------

start_server() {
    local name=$1 _
    shift
    rm -f "$LOG/$name.out" "$LOG/$name.err"
    if [ -n "${SRV_SIGIGN:-}" ]; then # the same process, exec'd with SIGCHLD ignored
        python3 "$TOP/sigign.py" "$PVT" serve "$@" >"$LOG/$name.out" 2>"$LOG/$name.err" </dev/null &
    else
        "$PVT" serve "$@" >"$LOG/$name.out" 2>"$LOG/$name.err" </dev/null &
    fi
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

# wait_exit PID TRIES: wait (0.1 s steps) for it to exit; KILL past that.
# Its exit status in SRV_RC.
wait_exit() {
    local _
    for _ in $(seq "$2"); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$1" 2>/dev/null && kill -KILL "$1"
    wait "$1"
    SRV_RC=$?
    forget_bg "$1"
}

stop_server() {
    kill -TERM "$1" 2>/dev/null
    wait_exit "$1" 150
}

# --- usage errors --------------------------------------------------------------------

serve_error() {
    local desc=$1 pat=$2 why="" rc
    shift 2
    (cd "$RUN" && exec timeout 10 "$PVT" serve "$@") >"$LOG/out" 2>"$LOG/err" </dev/null
    rc=$?
    [ $rc -eq 2 ] || why="$why exit $rc, want 2;"
    [ "$(lines "$LOG/err")" -eq 1 ] || why="$why $(lines "$LOG/err") lines on stderr, want 1;"
    grep -qF -- "$pat" "$LOG/err" || why="$why stderr does not name '$pat';"
    [ -s "$LOG/out" ] && why="$why stdout not empty;"
    [ -z "$why" ] || why="$why stderr: $(flat "$LOG/err")"
    check "serve $desc: exit 2, one line naming '$pat'" "$why"
}

serve_error "--backend thread --max-rss" "--max-rss" --backend thread --port 0 --max-rss 64
serve_error "--backend thread --max-jobs" "--max-jobs" --backend thread --port 0 --max-jobs 10
serve_error "--max-jobs-jitter without --max-jobs" "--max-jobs-jitter" --backend proc --port 0 \
    --max-jobs-jitter 5
serve_error "--worker-timeout 10" "--worker-timeout" --backend proc --port 0 --worker-timeout 10
for bad in 0/10 65/10 5/0 5 /10 5/ x/10 5/x 5/100000; do
    serve_error "--crash-loop $bad" "--crash-loop" --backend proc --port 0 --crash-loop "$bad"
done

# --- proc: a crash takes one worker, which is replaced ------------------------------

# It is started with SIGCHLD ignored, as a parent may leave it: the death
# must still be seen as the signal it was.
what="serve --backend proc --allow-faults (SIGCHLD ignored), /crash"
SRV_SIGIGN=1 start_server crash --backend proc --workers 2 --port 0 --allow-faults
pid=$SRV_PID port=$SRV_PORT
note_started $(descendants "$pid")
before=$(children "$pid" | sort | tr '\n' ' ')
why=""
[ -n "$port" ] || why="$why no ready line (stderr: $(flat "$LOG/crash.err"));"
if [ -n "$port" ]; then
    st=$(http status "$port" /crash 10)
    [ "$st" = closed ] || why="$why /crash: '$st', want the connection closed unanswered;"
    pat='^pvt serve: worker [01] \(pid [0-9]+\) was killed by signal 11 .*; replaced by pid [0-9]+$'
    if wait_log "$LOG/crash.err" "$pat" 50; then
        line=$(grep -E -- "$pat" "$LOG/crash.err" | head -n 1)
        dead=$(echo "$line" | sed -n 's/.*(pid \([0-9]*\)).*/\1/p')
        new=$(echo "$line" | sed -n 's/.*replaced by pid \([0-9]*\)$/\1/p')
        case " $before " in *" $dead "*) ;; *) why="$why the dead pid $dead was no worker ($before);" ;; esac
        [ "$new" != "$dead" ] || why="$why replaced by the same pid;"
        [ "$(grep -cE -- "$pat" "$LOG/crash.err")" -eq 1 ] || why="$why more than one death logged;"
    else
        why="$why stderr does not log the death and replacement: $(flat "$LOG/crash.err");"
    fi
    note_started $(descendants "$pid")
    [ "$(children "$pid" | awk 'END { print NR }')" -eq 2 ] || why="$why not 2 workers after;"
    for _ in 1 2 3 4 5 6; do
        st=$(http status "$port" / 5)
        [ "$st" = 200 ] || { why="$why GET / after the crash: $st;"; break; }
    done
    st=$(http stats "$port")
    [ "$st" = "restarts=1 hung=0 workers=2" ] || why="$why /stats after: '$st';"
fi
check "$what: no response, death and replacement logged, still serving" "$why"
stop_server "$pid"
left_started
left=$LEFT
[ $SRV_RC -eq 0 ] && [ -z "$left" ] && ok "$what: SIGTERM: exit 0, no process left" ||
    not_ok "$what: SIGTERM: exit $SRV_RC, left:$left; stderr: $(flat "$LOG/crash.err")"

# --- proc: a retired slot reports no pid ---------------------------------------------

# A worker that exits with code 78 (it could not take its CPUs: EX_CONFIG) is
# not respawned. Its slot stays listed as exited, with no pid: the old one
# may belong to another process by now.
what="serve --backend proc, a slot retired by /exit?code=78"
start_server retire --backend proc --workers 2 --port 0 --allow-faults
pid=$SRV_PID port=$SRV_PORT
note_started $(descendants "$pid")
ctl=$(sed -n 's/^ready .* ctl=\([^ ]*\)$/\1/p' "$LOG/retire.out")
why=""
[ -n "$port" ] || why="$why no ready line (stderr: $(flat "$LOG/retire.err"));"
if [ -n "$port" ]; then
    st=$(http status "$port" "/exit?code=78" 10)
    [ "$st" = closed ] || why="$why /exit?code=78: '$st', want the connection closed;"
    for _ in $(seq 100); do
        ws=$(http workers "$port")
        case " $ws" in *" exited:"*) break ;; esac
        sleep 0.1
    done
    case " $ws " in
    *" exited:0 "*) ;;
    *) why="$why /stats workers '$ws', want one exited:0;" ;;
    esac
    "$PVT" ctl "$ctl" status --json >"$LOG/retire.ctl" 2>&1
    python3 - "$LOG/retire.ctl" <<'PY' >"$LOG/retire.py" 2>&1 || why="$why ctl status: $(tail -n 1 "$LOG/retire.py");"
import json, sys
ws = json.load(open(sys.argv[1]))["workers"]
gone = [w for w in ws if w["state"] == "exited"]
assert len(gone) == 1 and gone[0]["pid"] == 0, "workers %r, want one exited with pid 0" % ws
PY
fi
check "$what: /stats and ctl status show it exited with pid 0" "$why"
stop_server "$pid"
left_started

# --- thread under --restart: the process dies and comes back --------------------------

what="serve --backend thread --restart --allow-faults, /crash"
start_server restart --backend thread --workers 2 --port 0 --restart --allow-faults
pid=$SRV_PID port=$SRV_PORT
note_started $(descendants "$pid")
inner=$(children "$pid" | tr '\n' ' ')
why=""
[ -n "$port" ] || why="$why no ready line (stderr: $(flat "$LOG/restart.err"));"
grep -qx "ready port=[0-9]* pid=$pid ctl=/.*/pvt-$pid\.[A-Za-z0-9]*/ctl" "$LOG/restart.out" || why="$why ready line does not name pid $pid;"
[ "$(echo $inner | wc -w)" -eq 1 ] || why="$why server processes '$inner', want one;"
if [ -n "$port" ]; then
    [ "$(http status "$port" / 5)" = 200 ] || why="$why GET / before: not 200;"
    st=$(http status "$port" /crash 10)
    [ "$st" = closed ] || why="$why /crash: '$st', want the connection closed unanswered;"
    wait_status "$port" / 200 100 || why="$why never answered again;"
    wait_log "$LOG/restart.err" "^pvt serve: restarted: server process [0-9]+ ready on port $port" 50 ||
        why="$why no 'restarted' line;"
    grep -Eq "^pvt serve: the server process ${inner% } was killed by signal 11 " "$LOG/restart.err" ||
        why="$why the death of $inner is not logged;"
    note_started $(descendants "$pid")
    now=$(children "$pid" | tr '\n' ' ')
    [ "$(echo $now | wc -w)" -eq 1 ] && [ "$now" != "$inner" ] ||
        why="$why server processes after: '$now' (before '$inner');"
    [ "$(lines "$LOG/restart.out")" -eq 1 ] || why="$why $(lines "$LOG/restart.out") lines on stdout, want 1;"
fi
[ -z "$why" ] || why="$why stderr: $(flat "$LOG/restart.err")"
check "$what: one ready line, restarted, answering again" "$why"
stop_server "$pid"
left_started
left=$LEFT
[ $SRV_RC -eq 0 ] && [ -z "$left" ] && ok "$what: SIGTERM: exit 0, no process left" ||
    not_ok "$what: SIGTERM: exit $SRV_RC, left:$left; stderr: $(flat "$LOG/restart.err")"

# --- a crash loop under --restart gives up ------------------------------------------

what="serve --backend thread --restart, repeated /abort"
start_server loop --backend thread --workers 1 --port 0 --restart --allow-faults --crash-loop 3/600
pid=$SRV_PID port=$SRV_PORT
why=""
[ -n "$port" ] || why="$why no ready line;"
aborts=0
if [ -n "$port" ]; then
    # Each round: wait until a server answers (the backoff grows), abort it.
    for round in $(seq 8); do
        kill -0 "$pid" 2>/dev/null || break
        wait_status "$port" / 200 100 || break
        note_started $(descendants "$pid")
        st=$(http status "$port" /abort 10)
        [ "$st" = closed ] && aborts=$((aborts + 1))
        for _ in $(seq 20); do # until the dead server is reaped and logged
            [ "$(grep -c 'was killed by signal 6 ' "$LOG/loop.err")" -ge "$aborts" ] && break
            sleep 0.1
        done
    done
fi
wait_exit "$pid" 100
deaths=$(grep -c '^pvt serve: the server process [0-9]* was killed by signal 6 ' "$LOG/loop.err")
restarts=$(grep -c '^pvt serve: restarted: ' "$LOG/loop.err")
[ $SRV_RC -eq 1 ] || why="$why exit $SRV_RC, want 1;"
grep -q 'giving up' "$LOG/loop.err" || why="$why no 'giving up' line;"
grep -q '3 deaths within 600 s, giving up' "$LOG/loop.err" || why="$why the guard not named;"
[ "$aborts" -eq 3 ] && [ "$deaths" -eq 3 ] && [ "$restarts" -eq 2 ] ||
    why="$why $aborts aborts, $deaths deaths logged, $restarts restarts; want 3, 3, 2;"
[ "$(lines "$LOG/loop.out")" -eq 1 ] || why="$why $(lines "$LOG/loop.out") lines on stdout, want 1;"
left_started
left=$LEFT
[ -z "$left" ] || why="$why processes left:$left;"
[ -z "$why" ] || why="$why stderr: $(flat "$LOG/loop.err")"
check "$what --crash-loop 3/600: gives up after 3 deaths, exit 1, nothing left" "$why"

# --- proc: the watchdog replaces a hung worker ---------------------------------------

what="serve --backend proc --worker-timeout 300, /hang"
start_server hang --backend proc --workers 2 --port 0 --allow-faults --worker-timeout 300
pid=$SRV_PID port=$SRV_PORT
note_started $(descendants "$pid")
why=""
[ -n "$port" ] || why="$why no ready line (stderr: $(flat "$LOG/hang.err"));"
if [ -n "$port" ]; then
    st=$(http status "$port" /hang 10)
    [ "$st" = closed ] || why="$why /hang: '$st', want the connection closed unanswered;"
    for _ in $(seq 50); do
        st=$(http stats "$port")
        [ "$st" = "restarts=1 hung=0 workers=2" ] && break
        sleep 0.1
    done
    [ "$st" = "restarts=1 hung=0 workers=2" ] || why="$why /stats: '$st', want restarts=1 hung=0;"
    wait_log "$LOG/hang.err" '^pvt serve: worker [01] \(proc [0-9]+\) is hung' 50 ||
        why="$why no 'is hung' line;"
    wait_log "$LOG/hang.err" 'was killed by signal 15 .*; replaced by pid [0-9]+$' 50 ||
        why="$why no replacement logged;"
    note_started $(descendants "$pid")
    [ "$(http status "$port" / 5)" = 200 ] || why="$why GET / after: not 200;"
fi
[ -z "$why" ] || why="$why stderr: $(flat "$LOG/hang.err")"
check "$what: killed and replaced" "$why"
stop_server "$pid"
left_started
left=$LEFT
[ $SRV_RC -eq 0 ] && [ -z "$left" ] && ok "$what: SIGTERM: exit 0, no process left" ||
    not_ok "$what: SIGTERM: exit $SRV_RC, left:$left"

# --- proc: --max-rss recycles, and says so -------------------------------------------

# /leak?mb=80 takes the worker past --max-rss 64: its replacement starts, it
# drains, and stderr says what happened, then how the old worker ended.
what="serve --backend proc --max-rss 64, /leak?mb=80"
start_server rss --backend proc --workers 1 --port 0 --allow-faults --max-rss 64
pid=$SRV_PID port=$SRV_PORT
note_started $(descendants "$pid")
why=""
[ -n "$port" ] || why="$why no ready line (stderr: $(flat "$LOG/rss.err"));"
if [ -n "$port" ]; then
    st=$(http status "$port" "/leak?mb=80" 10)
    [ "$st" = 200 ] || why="$why /leak?mb=80: '$st', want 200;"
    pat='^pvt serve: worker 0 \(pid [0-9]+\) recycled: RSS [0-9]+ MiB over --max-rss 64; replaced by pid [0-9]+, old worker draining$'
    if wait_log "$LOG/rss.err" "$pat" 100; then
        old=$(grep -E -- "$pat" "$LOG/rss.err" | head -n 1 | sed -n 's/.*(pid \([0-9]*\)).*/\1/p')
        wait_log "$LOG/rss.err" "^pvt serve: worker 0: old pid $old \(recycled\) exited with code 0\$" 100 ||
            why="$why no line for the exit of the recycled pid $old;"
    else
        why="$why no recycle line;"
    fi
    note_started $(descendants "$pid")
    grep -q 'code -1' "$LOG/rss.err" && why="$why a line says code -1;"
    [ "$(http status "$port" / 5)" = 200 ] || why="$why GET / after: not 200;"
fi
[ -z "$why" ] || why="$why stderr: $(flat "$LOG/rss.err")"
check "$what: recycled, logged as a recycle, then the old worker's exit" "$why"
stop_server "$pid"
left_started
left=$LEFT
[ $SRV_RC -eq 0 ] && [ -z "$left" ] && ok "$what: SIGTERM: exit 0, no process left" ||
    not_ok "$what: SIGTERM: exit $SRV_RC, left:$left"

# --- proc: --max-jobs recycles without a failed request ------------------------------

# A recycled worker is replaced as a rolling restart replaces it: the
# replacement accepts before its predecessor stops, so with every way of
# sharing the port a slot always has a worker taking its connections (rr:
# the primary would close a connection no ready worker could take).
for dist in shared reuseport rr; do
    what="serve --backend proc --max-jobs 50 --distribution $dist, 300 requests"
    start_server jobs --backend proc --workers 2 --port 0 --max-jobs 50 --distribution "$dist"
    pid=$SRV_PID port=$SRV_PORT
    note_started $(descendants "$pid")
    why=""
    [ -n "$port" ] || why="$why no ready line (stderr: $(flat "$LOG/jobs.err"));"
    if [ -n "$port" ]; then
        st=$(http seq "$port" 300)
        [ "${st%% *}" = failed=0 ] || why="$why $st;"
        st=$(http stats "$port")
        r=$(echo "$st" | sed -n 's/^restarts=\([0-9]*\) .*/\1/p')
        [ -n "$r" ] && [ "$r" -gt 0 ] || why="$why /stats: '$st', want restarts > 0;"
        note_started $(descendants "$pid")
        pat='^pvt serve: worker [01] \(pid [0-9]+\) recycled: it answered its 50 requests \(--max-jobs 50\); replaced by pid [0-9]+, old worker draining$'
        wait_log "$LOG/jobs.err" "$pat" 50 || why="$why no recycle line;"
        wait_log "$LOG/jobs.err" '^pvt serve: worker [01]: old pid [0-9]+ \(recycled\) exited with code 0$' 50 ||
            why="$why no line for the recycled worker's exit;"
        grep -q 'code -1' "$LOG/jobs.err" && why="$why a line says code -1;"
        [ -z "$why" ] || why="$why stderr: $(flat "$LOG/jobs.err")"
    fi
    check "$what: none failed, workers recycled" "$why"
    stop_server "$pid"
    left_started
    left=$LEFT
    [ $SRV_RC -eq 0 ] && [ -z "$left" ] && ok "$what: SIGTERM: exit 0, no process left" ||
        not_ok "$what: SIGTERM: exit $SRV_RC, left:$left"
done

cli_finish
