#!/usr/bin/env bash
# Runs every test: Linux unit and integration tests, and the Windows agent under Wine.
# Installs what the tests need on a fresh Debian 12 machine (apt, PyPI), builds the .exe.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_packages build-essential pkg-config clang libclang-dev make \
    rustc-web cargo-web rust-web-src gcc-mingw-w64-x86-64 \
    wine wine64 wimtools libhivex-bin xorriso mtools ntfs-3g dosfstools fdisk util-linux \
    zstd python3 python3-pip fusefat attr syslinux syslinux-common liblnk-utils
ensure_rust

# regipy: an independent replay of registry transaction logs, compared with ours.
if ! python3 -c "import regipy" 2>/dev/null; then
    python3 -m pip install --quiet regipy==6.5.0 2>/dev/null ||
        python3 -m pip install --quiet --break-system-packages regipy==6.5.0
fi

# pefile: an independent reader of PE version resources, compared with the agent's.
if ! python3 -c "import pefile" 2>/dev/null; then
    python3 -m pip install --quiet pefile==2024.8.26 2>/dev/null ||
        python3 -m pip install --quiet --break-system-packages pefile==2024.8.26
fi

bash scripts/build-windows-agent.sh

# Tests that need ../shared/realdata (real files that may not be redistributed, see README)
# skip without it, one line each, listed and counted again at the end;
# LIFEBOAT_REQUIRE_REALDATA=1 makes them fail instead.
skips=$(mktemp)
trap 'rm -f "$skips"' EXIT
status=0
LIFEBOAT_REALDATA_SKIPS=$skips cargo test --workspace --locked "$@" || status=$?
if [ -s "$skips" ]; then
    echo
    sort -u "$skips"
    echo "$(cut -d' ' -f2 "$skips" | sort -u | wc -l) tests skipped: real data not present, see README"
fi
exit "$status"
