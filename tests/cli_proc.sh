# cli_proc.sh: the process helpers of the CLI test scripts, sourced by
# cli_lib.sh (and by cli_serve_test.sh, which has a prologue of its own).
# Every process is named by its pid and its start time, never by its name,
# so a reused pid is never mistaken for the process it was. The reporting
# helpers (ok, not_ok) and LOG, BG_PID, BG_PIDS and LEFT_PIDS come from the
# script.

# start_time PID: the process's start time (field 22 of /proc/PID/stat), which
# with the pid names one process; empty once it is gone.
start_time() {
    local s f
    s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    s=${s##*) }
    read -r -a f <<<"$s"
    echo "${f[19]}"
}

# children PID: the pids whose parent is PID. One pgrep, not a cat per
# process: a scan of /proc that forks for each entry takes seconds on a busy
# machine, and children that live a second would come and go unseen.
children() {
    pgrep -P "$1"
    return 0
}

# descendants PID: its children, theirs and theirs (a bench, its servers and
# loads, their workers).
descendants() {
    local c g
    for c in $(children "$1"); do
        echo "$c"
        for g in $(children "$c"); do
            echo "$g"
            children "$g"
        done
    done
}

# gone PID START [SECONDS]: wait up to SECONDS (default 5) for the process
# (PID, START) to go; 0 if it did. A worker killed as its primary exits may
# take a moment to be reaped.
gone() {
    local _
    for _ in $(seq $((${3:-5} * 10))); do
        [ "$(start_time "$1")" = "$2" ] || return 0
        sleep 0.1
    done
    return 1
}

# wait_children PID [SECONDS]: CHILDREN becomes PID's children as soon as it
# has any, polling for up to SECONDS (default 10); empty if none came or PID
# exited. A bench forks its workers afresh for each repetition, so between
# two repetitions it has none: a check that wants a worker running when a
# signal is sent calls this just before sending it. (Call it as a command,
# not in $(...).)
wait_children() {
    local _
    CHILDREN=""
    for _ in $(seq $((${2:-10} * 20))); do
        CHILDREN=$(pgrep -P "$1")
        [ -n "$CHILDREN" ] && return 0
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.05
    done
}

# forget_bg PID: take PID out of BG_PIDS once it has been reaped.
forget_bg() {
    local p keep=()
    for p in "${BG_PIDS[@]}"; do
        [ "$p" = "$1" ] || keep+=("$p")
    done
    BG_PIDS=("${keep[@]}")
}

# note_started PIDS...: remember each of these processes in STARTED (pid ->
# start time), beside those remembered before. One that has already exited
# has no start time: it is gone, so it is not remembered as one that could
# be left.
declare -A STARTED=()
note_started() {
    local c st
    for c in "$@"; do
        st=$(start_time "$c")
        [ -n "$st" ] && STARTED[$c]=$st
    done
}

# left_started [SECONDS]: LEFT becomes the remembered processes still there
# after up to SECONDS (default 5) each, space-separated; each also goes in
# LEFT_PIDS, for the cleanup. Then it forgets them all. (Call it as a
# command, not in $(...), so that LEFT, LEFT_PIDS and STARTED change.)
left_started() {
    local c
    LEFT=""
    for c in "${!STARTED[@]}"; do
        gone "$c" "${STARTED[$c]}" "${1:-5}" || { LEFT="$LEFT $c"; LEFT_PIDS+=("$c"); }
    done
    STARTED=()
}

# interrupt_bg DESC SECONDS: SIGINT to BG_PID, wait up to SECONDS for it to
# exit (SIGKILL and a failed check if it does not), reap it into BG_RC, and
# check that it exited 130 through its own handler: 130 is also what the
# shell reports for a death by SIGINT, so its last stderr line ($LOG/err2)
# must say "interrupted" too.
interrupt_bg() {
    local desc=$1 secs=$2 _
    kill -INT "$BG_PID"
    for _ in $(seq $((secs * 10))); do
        kill -0 "$BG_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$BG_PID" 2>/dev/null; then
        not_ok "$desc: still running $secs s after SIGINT (killed)"
        kill -KILL "$BG_PID"
    fi
    wait "$BG_PID"
    BG_RC=$?
    BG_PID=
    if [ $BG_RC -eq 130 ] && tail -n 1 "$LOG/err2" | grep -q "interrupted"; then
        ok "$desc: exit 130 through its handler"
    else
        not_ok "$desc: exit $BG_RC, want 130 and an 'interrupted' line: $(head -c 300 "$LOG/err2" | tr '\n' '|')"
    fi
}
