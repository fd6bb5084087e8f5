#!/usr/bin/env bash
# layers_test.sh: the include check (scripts/layers.sh) passes on this
# checkout, and fails, naming the line, on copies of it with one include
# against the layers: upward, sideways between two bench modes, and a bare
# include of another folder's header.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CHECK=$ROOT/scripts/layers.sh
TOP=$(mktemp -d)
trap 'rm -rf "$TOP"' EXIT
fails=0

"$CHECK" "$ROOT" >"$TOP/out" 2>&1 || { echo "not ok: this checkout fails the check:"; cat "$TOP/out"; fails=$((fails + 1)); }

# expect_violation NAME FILE LINE PATTERN: a copy with LINE added to FILE fails, naming FILE.
expect_violation() {
    local name=$1 file=$2 line=$3 want=$4 copy=$TOP/$1
    mkdir -p "$copy"
    cp -r "$ROOT/shared" "$ROOT/bench" "$ROOT/proc_cluster" "$ROOT/thread_pool" "$copy/"
    printf '%s\n' "$line" >>"$copy/$file"
    if "$CHECK" "$copy" >"$TOP/$name.out" 2>&1; then
        echo "not ok: $name: the check passed a copy with '$line' in $file"
        fails=$((fails + 1))
    elif ! grep -q "$want" "$TOP/$name.out"; then
        echo "not ok: $name: the check failed without naming '$want':"
        cat "$TOP/$name.out"
        fails=$((fails + 1))
    else
        echo "ok: $name"
    fi
}

expect_violation upward shared/core/ring.c '#include "shared/serve/serve.h"' 'shared/core/ring.c:.*includes points down\|shared/core/ring.c:.*includes shared/serve/serve.h'
expect_violation sideways bench/modes/http/bench_http.c '#include "bench/modes/cost/bench_cost.h"' 'bench/modes/http/bench_http.c:.*bench/modes/cost/bench_cost.h'
expect_violation bare bench/cli/main.c '#include "ring.h"' 'bench/cli/main.c:.*"ring.h" is not in bench/cli/'

[ $fails -eq 0 ] || exit 1
