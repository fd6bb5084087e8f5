#!/usr/bin/env bash
#
# slow_harness.sh [BUILD_DIR] [CTEST_ARGS...]: the whole CTest suite with a
# slow python3 first on PATH: a wrapper that sleeps SLOW_PY_DELAY seconds
# (default 0.5) before it execs the real one, as a version manager's shim
# does. The CLI scripts reach every server through python3, so a check that
# only passes when the harness is fast fails here. Prints how long the suite
# took; exits with ctest's status. Not part of CI: it takes several minutes.
set -u

build=${1:-build}
shift $(($# > 0 ? 1 : 0))
real=$(command -v python3) || { echo "slow_harness.sh: no python3 on PATH" >&2; exit 2; }
[ -d "$build" ] || { echo "slow_harness.sh: no build directory '$build'" >&2; exit 2; }
shim=$(mktemp -d /tmp/pvt-slowpy.XXXXXX) || exit 2
trap 'rm -rf "$shim"' EXIT
printf '#!/bin/sh\nsleep %s\nexec %s "$@"\n' "${SLOW_PY_DELAY:-0.5}" "$real" >"$shim/python3"
chmod +x "$shim/python3"

start=$(date +%s)
(cd "$build" && PATH="$shim:$PATH" ctest --output-on-failure "$@")
rc=$?
echo "slow_harness.sh: python3 delayed by ${SLOW_PY_DELAY:-0.5} s; the suite took $(($(date +%s) - start)) s"
exit $rc
