# cli_lib.sh: the prologue the CLI test scripts share. A script sources it
# with its own arguments:
#
#   . "$(dirname "$0")/cli_lib.sh" "$@"
#
# It checks them (one argument, the pvt binary, made absolute: PVT; a
# script that takes more sets CLI_MAX_ARGS and CLI_USAGE first), makes a
# fresh mktemp -d directory TOP with RUN (where pvt runs) and LOG (its
# output) in it, removed on exit, and defines the counters and reporting:
# ok, not_ok, check, lines, bench_error, cli_finish; then the process helpers of
# cli_proc.sh.
#
# Cleanup is by pid, never by name: on exit every pid in BG_PID, SRV_PID,
# BG_PIDS (processes the script started) and LEFT_PIDS (processes a failed
# check found left behind) still alive is sent SIGKILL, and the script's own
# children among them are reaped.

CLI_NAME=$(basename "$0")
if [ $# -lt 1 ] || [ $# -gt "${CLI_MAX_ARGS:-1}" ]; then
    echo "usage: $0 PATH_TO_PVT${CLI_USAGE:-}" >&2
    exit 2
fi
PVT=$1
case $PVT in
/*) ;;
*) PVT=$PWD/$PVT ;;
esac
if [ ! -x "$PVT" ]; then
    echo "$CLI_NAME: $PVT is not an executable" >&2
    exit 2
fi

TOP=$(mktemp -d "/tmp/pvt-${CLI_NAME%.sh}.XXXXXX") || exit 2
RUN=$TOP/run # the working directory pvt runs in
LOG=$TOP/log # its stdout and stderr
mkdir "$RUN" "$LOG" || exit 2

BG_PID=
SRV_PID=
BG_PIDS=()
LEFT_PIDS=()
cli_cleanup() {
    local p
    for p in $BG_PID $SRV_PID "${BG_PIDS[@]}" "${LEFT_PIDS[@]}"; do
        kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
    done
    for p in $BG_PID $SRV_PID "${BG_PIDS[@]}"; do
        wait "$p" 2>/dev/null
    done
    rm -rf "$TOP"
}
trap cli_cleanup EXIT

passed=0
failed=0
ok() {
    echo "ok - $*"
    passed=$((passed + 1))
}
not_ok() {
    echo "not ok - $*"
    failed=$((failed + 1))
}
check() { # check DESC WHY: ok if WHY is empty
    if [ -z "$2" ]; then ok "$1"; else not_ok "$1:$2"; fi
}

# Lines in a file, counting a last line without a newline (0 if it is missing).
lines() { if [ -e "$1" ]; then awk 'END { print NR }' "$1"; else echo 0; fi; }

# bench_error DESC PATTERN ARGS...: `pvt bench --out RUN/outN ARGS...` must
# fail as a usage error: exit 2, exactly one line on stderr containing
# PATTERN (a fixed string), nothing on stdout, nothing left in RUN.
bench_error_n=0
bench_error() {
    local desc=$1 pat=$2 why="" rc
    shift 2
    bench_error_n=$((bench_error_n + 1))
    (cd "$RUN" && exec "$PVT" bench --out "$RUN/out$bench_error_n" "$@") >"$LOG/out" 2>"$LOG/err" </dev/null
    rc=$?
    [ $rc -eq 2 ] || why="$why exit $rc, want 2;"
    [ "$(lines "$LOG/err")" -eq 1 ] || why="$why $(lines "$LOG/err") lines on stderr, want 1;"
    grep -qF -- "$pat" "$LOG/err" || why="$why stderr does not name '$pat';"
    [ -s "$LOG/out" ] && why="$why stdout not empty;"
    [ -z "$(find "$RUN" -mindepth 1 -maxdepth 1)" ] || why="$why left files in the working directory;"
    if [ -z "$why" ]; then
        ok "$desc: exit 2, one line naming '$pat'"
    else
        not_ok "$desc:$why stderr: $(head -c 300 "$LOG/err" | tr '\n' '|')"
    fi
    rm -rf "${RUN:?}"/* 2>/dev/null
}

# The summary line; the script's exit status is 1 if any check failed.
cli_finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

# The process helpers (start_time, children, descendants, gone, note_started,
# left_started, interrupt_bg, forget_bg).
. "$(dirname "${BASH_SOURCE[0]}")/cli_proc.sh"
