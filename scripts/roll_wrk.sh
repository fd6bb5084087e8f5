#!/bin/bash
# roll_wrk.sh [PVT]: a rolling restart under wrk, for each backend and way of
# sharing the port. Each case starts `pvt serve --workers 2 --port 0` on
# loopback, runs `wrk -t1 -c8 -d5s` against it, sends the server SIGHUP (by
# its pid) 2 s in, stops it with SIGTERM at the end and prints wrk's request
# count, its socket errors and non-2xx responses, and the replacements the
# server logged. Installs wrk if it is missing (Debian's package).
set -u
PVT=${1:-./build/bench/pvt}
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null || exit 1
TMP=$(mktemp -d /tmp/pvt-roll-wrk.XXXXXX) || exit 1
trap 'rm -rf "$TMP"' EXIT
for be in proc thread; do
    for d in shared rr reuseport; do
        "$PVT" serve --backend "$be" --workers 2 --distribution "$d" --port 0 \
            >"$TMP/out" 2>"$TMP/err" &
        srv=$!
        for _ in $(seq 100); do
            grep -q ready "$TMP/out" && break
            sleep 0.05
        done
        port=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' "$TMP/out")
        if [ -z "$port" ]; then
            echo "$be $d: no ready line"
            kill -KILL "$srv"
            wait "$srv"
            continue
        fi
        (sleep 2 && kill -HUP "$srv") &
        hup=$!
        res=$(wrk -t1 -c8 -d5s "http://127.0.0.1:$port/" 2>&1)
        wait "$hup"
        kill -TERM "$srv"
        wait "$srv"
        rc=$?
        req=$(echo "$res" | awk '/requests in/ {print $1}')
        err=$(echo "$res" | grep -E "Socket errors|Non-2xx" | tr '\n' ' ')
        echo "$be $d: requests ${req:-?}, replacements $(grep -c "replaced by" "$TMP/err")," \
            "serve exit $rc, errors: ${err:-none}"
    done
done
