#!/bin/sh
# Install what pvt needs from Debian's archive. Does nothing when everything
# is there already.
#
#   scripts/deps.sh              build, test and plot (what `make` runs)
#   scripts/deps.sh fuzz         and clang with libFuzzer (make fuzz)
#   scripts/deps.sh valgrind     and valgrind (make test-valgrind)
#
# The sanitizer suites (make test-asan, test-tsan) need nothing more: gcc's
# libasan, libubsan and libtsan come with gcc.
set -eu

PKGS="gcc make cmake pkg-config libhwloc-dev libcmocka-dev libjansson-dev libglib2.0-dev libhttp-parser-dev python3 gnuplot-nox procps"
for group in "$@"; do
    case $group in
    # clang-14 only recommends the compiler-rt package that holds libFuzzer.
    fuzz) PKGS="$PKGS clang libclang-rt-dev" ;;
    valgrind) PKGS="$PKGS valgrind" ;;
    *)
        echo "scripts/deps.sh: unknown group '$group' (fuzz, valgrind)" >&2
        exit 2
        ;;
    esac
done

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "pvt needs these Debian packages:$missing" >&2
    echo "install them with: sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
