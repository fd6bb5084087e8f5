#!/usr/bin/env python3
"""anchors.py: measurement helpers for scripts/anchors.sh (Python 3 standard library only).

anchors.sh owns the life of every process (start, stop, reap, the trap);
this file only measures and computes. Subcommands:

  freeport                      print a free TCP port on 127.0.0.1
  wait-ready PID TIMEOUT_S [--out FILE] [--port P]
                                wait until PID serves: its ready line
                                ("ready port=P pid=PID") in FILE, or P
                                accepting, then a GET / answering 200 with
                                "hello" in the body; print the port
  tree PID                      print PID and all its live descendants
  cpu PID                       print the CPU seconds (user + system) of PID's
                                whole live tree
  affinity PID                  print the distinct CPU lists of every thread of
                                PID's tree, e.g. "0"
  timed TIMEOUT_S RUSAGE -- CMD...
                                run CMD, kill it after TIMEOUT_S, write its
                                "user_s sys_s" (getrusage of the child) to
                                RUSAGE, exit with its status
  parse wrk|pvt-load FILE       print "requests seconds errors p99_us" read
                                from a client's output
  summary CSV                   print the table of medians and the ratios

Server CPU is read from /proc/PID/stat of the primary and of every live
descendant (found through /proc/PID/task/TID/children), utime + stime +
cutime + cstime each. cutime/cstime only cover children already reaped, so
live children are read directly; counting them too makes a worker that
exits (and is reaped) during a run still count once, in its parent's
cutime, in the "after" sample.
"""

import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- processes under /proc ---------------------------------------------------

def proc_stat(pid):
    """Fields of /proc/PID/stat after the command name, or None if PID is gone.

    The command name is in parentheses and may hold spaces or parentheses,
    so the fields start after the last ')'. Index 0 is the state (field 3).
    """
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text[text.rindex(")") + 2:].split()


def children(pid):
    """Direct children of PID, over all its threads (a thread may fork too)."""
    kids = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return kids
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids.extend(int(k) for k in f.read().split())
        except FileNotFoundError:
            pass
    return kids


def tree(pid):
    """PID and every live descendant, PID first."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop(0)
        st = proc_stat(p)
        if st is None or st[0] == "Z":
            continue
        out.append(p)
        todo.extend(children(p))
    return out


def tree_cpu_seconds(pid):
    """utime + stime + cutime + cstime over PID's live tree, in seconds."""
    ticks = 0
    for p in tree(pid):
        st = proc_stat(p)
        if st is not None:
            # utime, stime, cutime, cstime are fields 14-17 (indexes 11-14).
            ticks += sum(int(x) for x in st[11:15])
    return ticks / CLK_TCK


def tree_affinity(pid):
    """The distinct Cpus_allowed_list values over every thread of PID's tree."""
    lists = set()
    for p in tree(pid):
        try:
            tids = os.listdir(f"/proc/{p}/task")
        except FileNotFoundError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{p}/task/{tid}/status") as f:
                    for line in f:
                        if line.startswith("Cpus_allowed_list:"):
                            lists.add(line.split(":", 1)[1].strip())
            except FileNotFoundError:
                pass
    return sorted(lists)


# --- readiness ------------------------------------------------------------------

def alive(pid):
    st = proc_stat(pid)
    return st is not None and st[0] != "Z"


def ready_port(path, pid):
    """The port of a "ready port=P pid=PID" line in PATH, or None."""
    try:
        with open(path) as f:
            for line in f:
                m = re.match(r"ready port=(\d+) pid=(\d+)\s*$", line)
                if m:
                    if int(m.group(2)) != pid:
                        sys.exit(f"ready line names pid {m.group(2)}, started {pid}")
                    return int(m.group(1))
    except FileNotFoundError:
        pass
    return None


def get_hello(port, timeout):
    """True when GET / on 127.0.0.1:PORT answers 200 with "hello" in the body."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return False
    head, _, body = data.partition(b"\r\n\r\n")
    return head.startswith(b"HTTP/1.1 200") and b"hello" in body


def wait_ready(pid, timeout_s, out_file, port):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not alive(pid):
            sys.exit(f"server pid {pid} exited before it was ready")
        p = ready_port(out_file, pid) if out_file else port
        if p is not None and get_hello(p, 1.0):
            print(p)
            return
        time.sleep(0.05)
    sys.exit(f"server pid {pid} not ready within {timeout_s} s")


def free_port():
    # The kernel picks a free port; it is closed again before the server binds
    # it, so another program could take it in between: the bounded wait for
    # readiness then fails loudly instead of measuring the wrong server.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- a client run with its own CPU time --------------------------------------------

def timed(timeout_s, rusage_path, cmd):
    """Run CMD, bounded by TIMEOUT_S; record its own user and system CPU.

    os.wait4 returns the rusage of exactly this child (and of any child it
    reaped), at microsecond resolution. SIGINT/SIGTERM to this wrapper, and
    the timeout, kill the child so it never outlives the wrapper.
    """
    child = subprocess.Popen(cmd)

    def kill_child(signum, _frame):
        try:
            child.kill()
        except ProcessLookupError:
            pass
        if signum != signal.SIGALRM:
            sys.stderr.write(f"client stopped by signal {signum}\n")

    for sig in (signal.SIGALRM, signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, kill_child)
    signal.alarm(timeout_s)
    _, status, ru = os.wait4(child.pid, 0)
    signal.alarm(0)
    child.returncode = 0  # reaped here; keep Popen from waiting again
    with open(rusage_path, "w") as f:
        f.write(f"{ru.ru_utime:.6f} {ru.ru_stime:.6f}\n")
    code = os.waitstatus_to_exitcode(status)
    sys.exit(code if code >= 0 else 128 - code)


# --- client output ------------------------------------------------------------------

UNITS = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6, "h": 3600e6}


def parse_wrk(text):
    """requests, seconds, errors, p99 (µs) from wrk's text report."""
    m = re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h),", text, re.M)
    if not m:
        sys.exit("no 'N requests in T' line in wrk's output")
    requests = int(m.group(1))
    seconds = float(m.group(2)) * UNITS[m.group(3)] / 1e6
    errors = 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        errors += sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        errors += int(m.group(1))
    m = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s|m|h)\s*$", text, re.M)
    p99 = float(m.group(1)) * UNITS[m.group(2)] if m else float("nan")
    return requests, seconds, errors, p99


def parse_pvt_load(text):
    """requests, seconds, errors, p99 (µs) from `pvt load --json`."""
    j = json.loads(text)
    return (int(j["requests"]), float(j["seconds"]), sum(int(v) for v in j["errors"].values()),
            float(j["latency_us"]["p99"]))


# --- the summary ---------------------------------------------------------------------

SERVERS = ["pvt-proc", "pvt-thread", "nginx", "node-cluster"]
CLIENTS = ["wrk", "pvt-load"]


def read_rows(path):
    import csv
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def med(rows, server, client, key):
    vals = [float(r[key]) for r in rows if r["server"] == server and r["client"] == client]
    return statistics.median(vals) if vals else float("nan")


def per_round(rows, key, a, b):
    """Per-round ratios a/b of KEY; a and b are (server, client) pairs."""
    by = {(r["round"], r["server"], r["client"]): float(r[key]) for r in rows}
    out = []
    for rnd in sorted({r["round"] for r in rows}, key=int):
        x, y = by.get((rnd, *a)), by.get((rnd, *b))
        if x is not None and y:
            out.append(x / y)
    return out


def ratio_line(label, rows, key, a, b, target, target_text):
    num, den = med(rows, *a, key), med(rows, *b, key)
    r = num / den if den else float("nan")
    rr = per_round(rows, key, a, b)
    spread = f", per round {min(rr):.2f}-{max(rr):.2f}" if rr else ""
    verdict = "PASS" if r <= target else "FAIL"
    print(f"{label}: {r:.2f} (target <= {target_text}{spread}): {verdict}")
    return verdict == "PASS"


def summary(path):
    rows = read_rows(path)
    if not rows:
        sys.exit("no rows to summarise")
    rounds = len({r["round"] for r in rows})
    print(f"medians over {rounds} round(s); CPU per request in µs")
    print(f"{'server':<13} {'client':<9} {'req/s':>9} {'server µs/req':>14} "
          f"{'client µs/req':>14} {'p99 ms':>7} {'errors':>7}")
    for s in SERVERS:
        for c in CLIENTS:
            sel = [r for r in rows if r["server"] == s and r["client"] == c]
            if not sel:
                continue
            errors = sum(int(r["errors"]) for r in sel)
            print(f"{s:<13} {c:<9} {med(rows, s, c, 'req_per_s'):>9.0f} "
                  f"{med(rows, s, c, 'server_us_per_req'):>14.2f} "
                  f"{med(rows, s, c, 'client_us_per_req'):>14.2f} "
                  f"{med(rows, s, c, 'p99_us') / 1e3:>7.2f} {errors:>7d}")
    print()
    ok = True
    # (1) pvt serve against nginx, 1 worker each, the same wrk load.
    for s in ("pvt-proc", "pvt-thread"):
        ok &= ratio_line(f"(1) {s} serve / nginx server CPU per request (wrk)", rows,
                         "server_us_per_req", (s, "wrk"), ("nginx", "wrk"), 1.0, "1.00")
    # (2) pvt load against wrk, same threads and connections, same server.
    for s in SERVERS:
        ok &= ratio_line(f"(2) pvt load / wrk client CPU per request (server {s})", rows,
                         "client_us_per_req", (s, "pvt-load"), (s, "wrk"), 1.0, "1.00")
    # (3) pvt serve against the seeds' Node cluster, the same wrk load.
    for s in ("pvt-proc", "pvt-thread"):
        ok &= ratio_line(f"(3) {s} serve / node cluster server CPU per request (wrk)", rows,
                         "server_us_per_req", (s, "wrk"), ("node-cluster", "wrk"), 1 / 3,
                         "1/3 = 0.33")
    errors = sum(int(r["errors"]) for r in rows)
    if errors:
        print(f"warning: {errors} client-reported errors in all; see the CSV")
    print("all targets met" if ok else "some targets not met")
    return ok


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "freeport":
        print(free_port())
    elif cmd == "wait-ready":
        pid, timeout_s = int(args[0]), float(args[1])
        out_file, port, rest = None, None, args[2:]
        while rest:
            if rest[0] == "--out":
                out_file = rest[1]
            elif rest[0] == "--port":
                port = int(rest[1])
            else:
                sys.exit(f"wait-ready: unknown option {rest[0]}")
            rest = rest[2:]
        wait_ready(pid, timeout_s, out_file, port)
    elif cmd == "tree":
        print(" ".join(str(p) for p in tree(int(args[0]))))
    elif cmd == "cpu":
        print(f"{tree_cpu_seconds(int(args[0])):.2f}")
    elif cmd == "affinity":
        print(" ".join(tree_affinity(int(args[0]))))
    elif cmd == "timed":
        if len(args) < 4 or args[2] != "--":
            sys.exit("usage: timed TIMEOUT_S RUSAGE -- CMD...")
        timed(int(args[0]), args[1], args[3:])
    elif cmd == "parse":
        with open(args[1]) as f:
            text = f.read()
        parser = {"wrk": parse_wrk, "pvt-load": parse_pvt_load}[args[0]]
        requests, seconds, errors, p99 = parser(text)
        print(requests, f"{seconds:.6f}", errors, f"{p99:.1f}")
    elif cmd == "summary":
        # Exit 3 when a target is missed, so a caller can tell it from a run
        # that could not be made (1).
        sys.exit(0 if summary(args[0]) else 3)
    else:
        sys.exit(f"unknown subcommand {cmd}")


if __name__ == "__main__":
    main(sys.argv)
