#!/usr/bin/env bash
#
# cli_state_test.sh PVT: `pvt bench --mode state` from the outside.
#
# Usage errors: exit 2, exactly one line on stderr naming the flag, nothing
# on stdout, no results directory. Then a tiny run of every variant with 2
# workers: results.csv has the columns; thread-atomic, thread-mutex,
# proc-shm-atomic and proc-msg count every update; proc-naive's primary does
# not see its workers' updates (a check that fails if processes shared
# memory), while each worker's own copy holds its own. Then --batch,
# --backend as a filter, and two interrupted runs (a process variant and a
# thread variant): exit 130, a complete CSV, no worker left. Nothing is timed.
#
# cli_lib.sh makes the fresh mktemp -d directory, removed at the end, and
# ends every process this script starts by its pid, never by name. Prints
# "ok - ..." or "not ok - ..." per check and "N passed, M failed"; exits 1 if
# any check failed.
set -u

. "$(dirname "$0")/cli_lib.sh" "$@"

# --- usage errors -----------------------------------------------------------

bench_error "unknown mode" "--mode" --mode stat
bench_error "unknown variant" "--variant" --mode state --variant proc-shm
bench_error "variant listed twice" "--variant" --mode state --variant proc-msg,proc-msg
bench_error "empty variant list" "--variant" --mode state --variant ,
bench_error "--updates 0" "--updates" --mode state --updates 0
bench_error "--updates abc" "--updates" --mode state --updates abc
bench_error "--updates too many" "--updates" --mode state --updates 2G
bench_error "--batch 0" "--batch" --mode state --batch 0
bench_error "--batch x" "--batch" --mode state --batch x
bench_error "--updates in tasks mode" "--updates" --mode tasks --updates 10
bench_error "--variant in tasks mode" "--variant" --mode tasks --variant proc-msg
bench_error "--batch in http mode" "--batch" --mode http --batch 2
bench_error "--workload in state mode" "--workload" --mode state --workload noop
bench_error "--jobs in state mode" "--jobs" --mode state --jobs 10
bench_error "--backend glib in state mode" "--backend" --mode state --backend glib
bench_error "--variant of a backend left out" "--variant" --mode state --backend proc \
    --variant thread-atomic
bench_error "--workers 0" "--workers" --mode state --workers 0
bench_error "--repeat 0" "--repeat" --mode state --repeat 0

# --- a tiny run of every variant ----------------------------------------------

DIR=$RUN/tiny
(cd "$RUN" && exec "$PVT" bench --mode state --updates 1000 --repeat 1 --workers 2 \
    --out "$DIR") >"$LOG/out" 2>"$LOG/err" </dev/null
rc=$?
if [ $rc -eq 0 ]; then
    ok "tiny state run: exit 0"
else
    not_ok "tiny state run: exit $rc: $(head -c 300 "$LOG/err" | tr '\n' '|')"
fi
if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d.get("mode") == "state", "mode %r" % d.get("mode")
p = d["params"]
assert p["updates"] == 1000 and p["repeat"] == 1 and p["workers"] == [2], p
assert len(p["variants"]) == 6, p["variants"]
' "$DIR/meta.json" 2>"$LOG/py"; then
    ok "tiny state run: meta.json has mode state and the parameters"
else
    not_ok "tiny state run: meta.json: $(tail -n 1 "$LOG/py")"
fi
if python3 -c '
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
head, data = rows[0], rows[1:]
want = ("mode backend workers workload repetition seconds variant expected observed lost "
        "ns_per_update updates_per_s").split()
for c in want:
    assert c in head, "no column %s in %s" % (c, head)
assert all(len(r) == len(head) for r in data), "short row"
col = {c: i for i, c in enumerate(head)}
rows = {r[col["variant"]]: r for r in data}
assert sorted(rows) == sorted(["thread-atomic", "thread-mutex", "thread-naive", "proc-naive",
                               "proc-shm-atomic", "proc-msg"]), sorted(rows)
for v, r in rows.items():
    g = lambda c: r[col[c]]
    assert g("mode") == "state" and g("workers") == "2" and g("workload") == "counter", r
    assert g("backend") == v.split("-")[0], r
    assert g("expected") == "2000", r
    assert int(g("lost")) == int(g("expected")) - int(g("observed")), r
    assert float(g("seconds")) > 0 and float(g("ns_per_update")) > 0, r
    if v in ("thread-atomic", "thread-mutex", "proc-shm-atomic", "proc-msg"):
        assert g("observed") == g("expected"), "%s: observed %s of %s" % (v, g("observed"), g("expected"))
# The primary keeps its own copy of the global: it misses the workers updates.
pn = rows["proc-naive"]
assert pn[col["observed"]] != pn[col["expected"]], "proc-naive: observed == expected: shared memory?"
assert pn[col["copies"]] == "1000;1000", "proc-naive copies %r" % pn[col["copies"]]
tn = rows["thread-naive"]
assert 1 <= int(tn[col["observed"]]) <= 2000, tn
assert rows["proc-msg"][col["messages"]] == "2000" and rows["proc-msg"][col["batch"]] == "1", rows["proc-msg"]
' "$DIR/results.csv" 2>"$LOG/py"; then
    ok "tiny state run: exact variants count every update, proc-naive's primary misses them"
else
    not_ok "tiny state run: results.csv: $(tail -n 1 "$LOG/py")"
fi
if grep -q "proc-naive, 2 workers: the primary saw 0 of 2,000 updates" "$LOG/out"; then
    ok "tiny state run: the verdict says what the primary saw"
else
    not_ok "tiny state run: no proc-naive verdict in: $(tail -n 12 "$LOG/out" | tr '\n' '|')"
fi

# --- --batch and --backend ----------------------------------------------------

DIR=$RUN/batch
(cd "$RUN" && exec "$PVT" bench --mode state --variant proc-msg --batch 10 --updates 1000 \
    --repeat 2 --workers 1,2 --out "$DIR") >"$LOG/out" 2>"$LOG/err" </dev/null
rc=$?
if [ $rc -eq 0 ] && python3 -c '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert len(rows) == 4, "%d rows, want 4" % len(rows)
for r in rows:
    w = int(r["workers"])
    assert r["variant"] == "proc-msg" and r["batch"] == "10", r
    assert int(r["observed"]) == 1000 * w and int(r["messages"]) == 100 * w, r
' "$DIR/results.csv" 2>"$LOG/py"; then
    ok "--batch 10: a message per 10 updates, every update counted"
else
    not_ok "--batch 10: exit $rc; $(tail -n 1 "$LOG/py" 2>/dev/null) $(head -c 200 "$LOG/err")"
fi

DIR=$RUN/backend
(cd "$RUN" && exec "$PVT" bench --mode state --backend proc --updates 1000 --repeat 1 \
    --workers 1 --out "$DIR") >"$LOG/out" 2>"$LOG/err" </dev/null
rc=$?
if [ $rc -eq 0 ] && python3 -c '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
v = sorted(r["variant"] for r in rows)
assert v == ["proc-msg", "proc-naive", "proc-shm-atomic"], v
' "$DIR/results.csv" 2>"$LOG/py"; then
    ok "--backend proc: the proc variants only"
else
    not_ok "--backend proc: exit $rc; $(tail -n 1 "$LOG/py" 2>/dev/null) $(head -c 200 "$LOG/err")"
fi

# --- interrupted runs ----------------------------------------------------------

# interrupt DESC MIN_ROWS ARGS...: start `pvt bench --mode state ARGS...`,
# wait for MIN_ROWS rows on disk and a worker process (if any are wanted:
# want_children), send SIGINT, and check what is left.
n=0
interrupt() {
    local desc=$1 min_rows=$2 want_children=$3 dir=$RUN/int$n
    shift 3
    n=$((n + 1))
    "$PVT" bench --mode state --out "$dir" "$@" >"$LOG/out2" 2>"$LOG/err2" </dev/null &
    BG_PID=$!
    for _ in $(seq 200); do
        [ -f "$dir/results.csv" ] && [ "$(lines "$dir/results.csv")" -ge $((min_rows + 1)) ] && break
        kill -0 "$BG_PID" 2>/dev/null || break
        sleep 0.05
    done
    sleep 0.2 # into a repetition
    children=$(pgrep -P "$BG_PID")
    if [ "$want_children" = 1 ]; then
        wait_children "$BG_PID"
        children=$CHILDREN
    fi
    note_started $children
    if [ "$want_children" = 1 ] && [ -z "$children" ]; then
        not_ok "$desc: no worker process running before SIGINT"
    fi
    interrupt_bg "$desc" 5
    if [ -f "$dir/results.csv" ] &&
        awk -F, -v min=$((min_rows + 1)) 'NR == 1 { nf = NF } NF != nf { bad = 1 } END { exit bad || NR < min }' "$dir/results.csv" &&
        [ -z "$(find "$dir" -mindepth 1 -maxdepth 1 -name '.*')" ]; then
        ok "$desc: results.csv complete ($(($(lines "$dir/results.csv") - 1)) rows), no temporary file"
    else
        not_ok "$desc: results.csv incomplete or temporary files: $(ls -a "$dir" | tr '\n' ' ')"
    fi
    left_started
    if [ -z "$LEFT" ]; then
        ok "$desc: no worker process left (${#STARTED[@]} running before SIGINT)"
    else
        not_ok "$desc: processes left:$LEFT"
    fi
}

# proc-msg with one message per update: a repetition takes a good part of a
# second, so a worker process is running when the signal comes.
interrupt "interrupted proc-msg run" 1 1 --variant proc-msg --updates 200000 --repeat 1000 \
    --workers 1
# A thread cannot be killed: it must see the stop flag in its loop. One
# repetition would take far longer than the wait for it.
interrupt "interrupted thread-mutex run" 0 0 --variant thread-mutex --updates 1G --repeat 1 \
    --workers 2

cli_finish
