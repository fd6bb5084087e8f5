#!/bin/sh
# Install what pvt needs to build, test and plot, from Debian's archive.
# Does nothing when everything is there already.
set -eu

PKGS="gcc make cmake pkg-config libhwloc-dev libcmocka-dev libjansson-dev libglib2.0-dev libhttp-parser-dev python3"

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
