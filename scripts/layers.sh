#!/usr/bin/env bash
# layers.sh: the component map, and a check that every #include points down it.
#
#   scripts/layers.sh [ROOT]          check ROOT (default: this checkout); exit 1 on a violation
#   scripts/layers.sh --map [ROOT]    print each component, its layer and its files' line count
#
# pvt's sources are components, one folder each, in layers. A file may
# include a header of its own folder (by its bare name) or of a folder in a
# lower layer (by its path from the root: "shared/core/ring.h"). It may not
# include a folder of the same layer (two bench modes, say) or of a higher
# one, so no include cycle can form between folders. The tests may include
# anything. A new folder must be added to LAYERS below, or the check fails.

set -u

# The layers, bottom to top: "LAYER FOLDER".
LAYERS='
0 shared/base
1 shared/work
2 shared/core
3 shared/serve
4 proc_cluster
4 thread_pool
5 bench/backends
6 bench/load
6 bench/results
7 bench/plot
8 bench/report
9 bench/common
10 bench/modes/tasks
10 bench/modes/http
10 bench/modes/fault
10 bench/modes/cost
10 bench/modes/state
10 bench/modes/loop
11 bench/modes
12 bench/tour
13 bench/cli
'
# Headers CMake generates into build/generated (anyone may include them).
GENERATED='build_info.h plot_gp.h'

map=0
if [ "${1:-}" = --map ]; then
    map=1
    shift
fi
if [ $# -gt 1 ]; then
    echo "usage: $0 [--map] [ROOT]" >&2
    exit 2
fi
ROOT=${1:-$(cd "$(dirname "$0")/.." && pwd)}
if [ ! -d "$ROOT/shared" ] || [ ! -d "$ROOT/bench" ]; then
    echo "layers.sh: $ROOT is not a pvt checkout (no shared/ and bench/)" >&2
    exit 2
fi
cd "$ROOT" || exit 2

declare -A layer
while read -r l d; do
    [ -n "$d" ] && layer[$d]=$l
done <<<"$LAYERS"

if [ $map = 1 ]; then
    printf '%-5s %-20s %5s %6s\n' layer component files lines
    while read -r l d; do
        [ -n "$d" ] || continue
        set -- "$d"/*.[ch]
        [ -e "$1" ] || set --
        lines=0
        [ $# -gt 0 ] && lines=$(cat "$@" | wc -l)
        printf '%-5s %-20s %5d %6d\n' "$l" "$d" $# "$lines"
    done <<<"$LAYERS"
    exit 0
fi

bad=0
complain() {
    echo "layers.sh: $*" >&2
    bad=$((bad + 1))
}

# Every folder holding sources is on the map (tests/ excepted).
while read -r d; do
    [ -n "${layer[$d]+x}" ] || complain "$d/ holds sources but is not on the map (scripts/layers.sh)"
done < <(find shared proc_cluster thread_pool bench -name '*.[ch]' -printf '%h\n' | sort -u)

nfiles=0
while read -r f; do
    nfiles=$((nfiles + 1))
    dir=${f%/*}
    from=${layer[$dir]}
    while IFS=: read -r n inc; do
        inc=${inc#*\"}
        inc=${inc%%\"*}
        case " $GENERATED " in *" $inc "*) continue ;; esac
        if [ "${inc#*/}" = "$inc" ]; then
            [ -e "$dir/$inc" ] || complain "$f:$n: \"$inc\" is not in $dir/ (a header of another folder is included by its path from the root)"
            continue
        fi
        [ -e "$inc" ] || complain "$f:$n: \"$inc\" does not exist"
        to_dir=${inc%/*}
        [ "$to_dir" = "$dir" ] && { complain "$f:$n: \"$inc\" is in the file's own folder: include it by its bare name"; continue; }
        to=${layer[$to_dir]-}
        if [ -z "$to" ]; then
            complain "$f:$n: \"$inc\" is in $to_dir/, which is not on the map"
        elif [ "$to" -ge "$from" ]; then
            complain "$f:$n: $dir (layer $from) includes $inc (layer $to): includes point down the layers"
        fi
    done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f")
done < <(find shared proc_cluster thread_pool bench -name '*.[ch]' | sort)

if [ "$nfiles" -eq 0 ]; then
    complain "no sources found under $ROOT"
fi
if [ $bad -gt 0 ]; then
    echo "layers.sh: $bad include(s) against the layers, in $nfiles files" >&2
    exit 1
fi
echo "layers.sh: $nfiles files, every include points down the layers"
