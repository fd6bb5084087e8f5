#!/usr/bin/env bash
#
# soak.sh PVT [SECONDS]: proc workers killed at random under load, on
# loopback, for SECONDS (default 300). Not part of CI: `make soak` runs it.
#
# `pvt serve --backend proc --allow-faults` (4 workers, rr) is driven by
# back-to-back rounds of `pvt load -n N` (each request one attempt that ends
# in a response or an error), sized to about 20 s each, 16 connections.
# Every 0.5 to 2.5 s (at random) a worker dies: SIGKILL to its pid (read
# from /stats, checked to be the primary's child), or GET /crash on a
# connection that GET / showed to reach it (a real SIGSEGV). No slot is hit
# twice within 3 s, so no slot reaches the crash-loop guard (5 deaths in
# 10 s), which would park it.
#
# Checks:
# - the primary is alive after every event, and exits 0 on SIGTERM at the end
#   with no process left;
# - every death is logged and replaced (signal 9 for a kill, 11 for a crash),
#   and /stats's restarts add up to the deaths;
# - no zombie: a dead worker is reaped (a child of the primary in state Z is
#   sampled every second; the same one seen twice in a row is a failure), and
#   none is left at the end;
# - the primary's descriptors are as many after the run as before it, and
#   its RSS has grown by less than 1 MiB (both taken idle, after a warm-up);
# - accounting: in every round, responses + connect, read, write and timeout
#   errors = N (nothing vanished), no response has an error status, every
#   failure came in a round that had deaths, at most 16 (one per connection)
#   per death, and the timeline's bins add up to the same totals.
#
# Prints the figures and "ok - ..."/"not ok - ..." per check; exits 1 if any
# check failed. Processes are ended by pid, never by name.
set -u

CLI_MAX_ARGS=2
CLI_USAGE=" [SECONDS]"
. "$(dirname "$0")/cli_lib.sh" "$@"
SECONDS_WANTED=${2:-300}
case $SECONDS_WANTED in
'' | *[!0-9]*)
    echo "soak.sh: SECONDS must be a whole number, not '$SECONDS_WANTED'" >&2
    exit 2
    ;;
esac
ulimit -c 0

cat >"$TOP/soak.py" <<'PY'
import json, os, random, re, signal, socket, subprocess, sys, time

PVT, TOP, DURATION = sys.argv[1], sys.argv[2], int(sys.argv[3])
WORKERS, CONNS, SPACING = 4, 16, 3.0
LOG = os.path.join(TOP, "log")
results = []  # (ok, description)


def check(cond, desc):
    results.append((bool(cond), desc))
    print(("ok - " if cond else "not ok - ") + desc, flush=True)


def http(port, path, timeout=5.0):
    """One GET on a fresh connection: (status, body), or (None, '') on no answer."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                b = s.recv(65536)
                if not b:
                    break
                data += b
    except OSError:
        return None, ""
    head, _, body = data.partition(b"\r\n\r\n")
    m = re.match(rb"HTTP/1\.1 (\d+) ", head)
    return (int(m.group(1)) if m else None), body.decode(errors="replace")


def stats(port):
    st, body = http(port, "/stats")
    if st != 200:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def proc_stat(pid):
    """(state, ppid) of pid, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return None
    fields = s[s.rindex(")") + 2:].split()
    return fields[0], int(fields[1])


def children(ppid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = proc_stat(int(d))
            if st and st[1] == ppid:
                out.append((int(d), st[0]))
    return out


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def crash_slot(port, eligible):
    """GET / until a connection reaches an eligible slot, then /crash on it.
    The slot crashed, or None."""
    for _ in range(8):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError:
            return None
        try:
            s.sendall(b"GET / HTTP/1.1\r\nHost: soak\r\n\r\n")
            data = b""
            while b"\n" not in data.partition(b"\r\n\r\n")[2]:
                b = s.recv(4096)
                if not b:
                    break
                data += b
            m = re.search(rb"hello from worker (\d+) ", data)
            if m and int(m.group(1)) in eligible:
                s.sendall(b"GET /crash HTTP/1.1\r\nHost: soak\r\n\r\n")
                try:
                    answered = s.recv(4096) != b""
                except OSError:
                    answered = False  # a reset: the worker died
                if answered:
                    check(False, "GET /crash was answered")
                return int(m.group(1))
        except OSError:
            pass
        finally:
            s.close()
    return None


def load_round(port, n, round_no):
    """One `pvt load -n n`: its JSON, its timeline's (ok, failed) sums and
    its wall time; None when it did not finish."""
    tl = os.path.join(LOG, f"timeline-{round_no}.csv")
    p = subprocess.Popen([PVT, "load", f"http://127.0.0.1:{port}/", "-c", str(CONNS), "-t", "2",
                          "-n", str(n), "--timeout", "2000", "--json", "--timeline", tl],
                         stdout=subprocess.PIPE, stderr=open(os.path.join(LOG, "load.err"), "a"))
    return p, tl


def main():
    random.seed(os.getpid())
    err = open(os.path.join(LOG, "serve.err"), "w")
    srv = subprocess.Popen([PVT, "serve", "--backend", "proc", "--workers", str(WORKERS), "--pin", "none",
                            "--port", "0", "--allow-faults"], stdout=subprocess.PIPE, stderr=err)
    with open(os.path.join(TOP, "pids"), "w") as f:
        f.write(f"{srv.pid}\n")
    try:
        return soak(srv)
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()


def soak(srv):
    line = srv.stdout.readline().decode()
    m = re.match(r"ready port=(\d+) pid=(\d+)", line)
    if not m:
        check(False, f"the server started: ready line '{line.strip()}'")
        return
    port, primary = int(m.group(1)), int(m.group(2))
    check(primary == srv.pid, "the ready line names the primary")

    # Warm-up without faults, then the idle figures.
    p, _ = load_round(port, 5000, 0)
    p.communicate(timeout=120)
    time.sleep(1)
    fd0, rss0 = fds(primary), rss_kb(primary)

    kills = crashes = skipped = rounds = 0
    last_hit = {}  # slot -> when it was last hit
    zombies_seen, lasting_zombies, fd_max, rss_max = set(), set(), fd0, rss0
    workers_seen = {pid for pid, _ in children(primary)}
    total = {"requests": 0, "connect": 0, "read": 0, "write": 0, "timeout": 0, "status": 0}
    bad_rounds, over_bound = [], []
    start = time.monotonic()
    deadline = start + DURATION
    n = 20000
    next_event = time.monotonic() + random.uniform(0.5, 2.5)
    while time.monotonic() < deadline - 2:
        rounds += 1
        p, tl = load_round(port, n, rounds)
        t0, deaths_before = time.monotonic(), kills + crashes
        while p.poll() is None:
            now = time.monotonic()
            if now > deadline + 60:  # a round must end: every request times out in 2 s
                p.kill()
                break
            if now >= next_event and now < deadline:
                next_event = now + random.uniform(0.5, 2.5)
                st = stats(port)
                eligible = set()
                pids = {}
                for w in (st or {}).get("workers", []):
                    workers_seen.add(w["pid"])
                    if w.get("state") == "ready" and now - last_hit.get(w["slot"], -1e9) >= SPACING:
                        eligible.add(w["slot"])
                        pids[w["slot"]] = w["pid"]
                if not eligible:
                    skipped += 1
                elif random.random() < 0.5:
                    slot = random.choice(sorted(eligible))
                    pid = pids[slot]
                    ps = proc_stat(pid)
                    if ps and ps[1] == primary and ps[0] != "Z":
                        os.kill(pid, signal.SIGKILL)
                        kills += 1
                        last_hit[slot] = now
                    else:
                        skipped += 1
                else:
                    slot = crash_slot(port, eligible)
                    if slot is None:
                        skipped += 1
                    else:
                        crashes += 1
                        last_hit[slot] = now
                if srv.poll() is not None:
                    check(False, f"the primary is alive after event {kills + crashes}")
                    return
            z = {pid for pid, state in children(primary) if state == "Z"}
            lasting_zombies |= z & zombies_seen
            zombies_seen = z
            fd_max, rss_max = max(fd_max, fds(primary)), max(rss_max, rss_kb(primary))
            time.sleep(min(1.0, max(0.05, next_event - time.monotonic())))
        out, _ = p.communicate()
        secs = time.monotonic() - t0
        try:
            r = json.loads(out)
        except ValueError:
            bad_rounds.append(f"round {rounds}: no JSON (exit {p.returncode})")
            continue
        e = r["errors"]
        failed = e["connect"] + e["read"] + e["write"] + e["timeout"]
        deaths = kills + crashes - deaths_before
        for k in ("connect", "read", "write", "timeout", "status"):
            total[k] += e[k]
        total["requests"] += r["requests"]
        if r["requests"] + failed != n:
            bad_rounds.append(f"round {rounds}: {r['requests']} responses + {failed} errors != {n}")
        if e["status"]:
            bad_rounds.append(f"round {rounds}: {e['status']} error statuses")
        ok_sum = fail_sum = -1
        if os.path.exists(tl):
            ok_sum = fail_sum = 0
            with open(tl) as f:
                next(f)
                for row in f:
                    c = row.split(",")
                    ok_sum, fail_sum = ok_sum + int(c[1]), fail_sum + int(c[2])
            os.unlink(tl)
        if ok_sum != r["requests"] - e["status"] or fail_sum != failed + e["status"]:
            bad_rounds.append(f"round {rounds}: timeline {ok_sum} ok, {fail_sum} failed; "
                              f"totals {r['requests'] - e['status']}, {failed + e['status']}")
        # A death can fail the request in flight on each connection its worker held.
        if failed > CONNS * deaths:
            over_bound.append(f"round {rounds}: {failed} failed for {deaths} deaths")
        # Size the next round to about 20 s, and to what is left.
        rate = r["requests"] / secs if secs > 0 else 1000
        n = max(1000, int(rate * min(20, max(1, deadline - time.monotonic()))))
    elapsed = time.monotonic() - start

    # Idle again: the last replacements start, every connection closes.
    time.sleep(3)
    fd1, rss1 = fds(primary), rss_kb(primary)
    zombies_end = [pid for pid, state in children(primary) if state == "Z"]
    st = stats(port) or {}
    workers_seen |= {pid for pid, _ in children(primary)}
    restarts = sum(w.get("restarts", 0) for w in st.get("workers", []))
    live = sum(1 for w in st.get("workers", []) if w.get("state") == "ready")
    srv.send_signal(signal.SIGTERM)
    try:
        rc = srv.wait(timeout=30)
    except subprocess.TimeoutExpired:
        rc = None
    with open(os.path.join(LOG, "serve.err")) as f:
        log = f.read()
    died9 = len(re.findall(r"^pvt serve: worker \d+ \(pid \d+\) was killed by signal 9 .*; replaced by pid \d+$", log, re.M))
    died11 = len(re.findall(r"^pvt serve: worker \d+ \(pid \d+\) was killed by signal 11 .*; replaced by pid \d+$", log, re.M))
    parked = len(re.findall(r"crash loop", log))
    failed_total = total["connect"] + total["read"] + total["write"] + total["timeout"]

    print(f"soak: {elapsed:.0f} s, {rounds} load rounds, {total['requests']} responses")
    print(f"soak: deaths {kills + crashes} ({kills} SIGKILL, {crashes} /crash), {skipped} events skipped "
          f"(no slot free of a hit in the last {SPACING:.0f} s); respawns {restarts} in /stats, "
          f"{died9 + died11} in the log ({died9} signal 9, {died11} signal 11)")
    print(f"soak: failed requests {failed_total} (read {total['read']}, write {total['write']}, "
          f"connect {total['connect']}, timeout {total['timeout']}), error statuses {total['status']}")
    print(f"soak: primary fds {fd0} before, {fd1} after (max {fd_max}); "
          f"RSS {rss0} KiB before, {rss1} KiB after (max {rss_max})")
    print(f"soak: zombies lasting a second: {len(lasting_zombies)}; at the end: {len(zombies_end)}")

    check(kills + crashes > 0, f"{kills + crashes} workers died")
    check(died9 == kills and died11 == crashes,
          f"every death logged and replaced ({died9}/{kills} kills, {died11}/{crashes} crashes)")
    check(restarts == kills + crashes and live == WORKERS and parked == 0,
          f"/stats: {restarts} restarts, {live} of {WORKERS} workers ready, {parked} slots parked")
    check(not lasting_zombies and not zombies_end, "no zombie")
    check(fd1 == fd0, f"primary descriptors flat ({fd0} -> {fd1})")
    check(rss1 - rss0 < 1024, f"primary RSS flat ({rss0} -> {rss1} KiB)")
    check(not bad_rounds, "every request accounted for (responses + errors = N, timeline = totals)"
          + ("" if not bad_rounds else ": " + "; ".join(bad_rounds[:5])))
    check(not over_bound, "failures only where deaths were, at most one per connection per death"
          + ("" if not over_bound else ": " + "; ".join(over_bound[:5])))
    check(rc == 0, f"SIGTERM: the primary exits 0 (got {rc})")
    time.sleep(0.5)
    left = [pid for pid in sorted(workers_seen) if proc_stat(pid)]
    check(not left, f"no worker left of the {len(workers_seen)} seen ({left})")


main()
failures = sum(1 for ok, _ in results if not ok)
print(f"{len(results) - failures} passed, {failures} failed")
sys.exit(1 if failures or not results else 0)
PY

python3 "$TOP/soak.py" "$PVT" "$TOP" "$SECONDS_WANTED" &
BG_PID=$!
wait "$BG_PID"
rc=$?
BG_PID=
# Should the driver itself have died (killed, or a Python error), its
# server is still ours to end: the pid, if it is still that server.
if [ $rc -gt 1 ] && [ -s "$TOP/pids" ]; then
    p=$(cat "$TOP/pids")
    tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF -- "$PVT serve " && LEFT_PIDS+=("$p")
fi
exit $rc
