#!/usr/bin/env bash
# Runs every test: Linux unit and integration tests, the boot tests in QEMU, and the Windows
# agents under Wine (x64; x86 through WoW64). Installs what the tests need on a fresh
# Debian 12 machine (apt, PyPI) and builds the three agents (x64, x86, arm64).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_packages build-essential pkg-config clang libclang-dev make llvm file \
    rustc-web cargo-web rust-web-src gcc-mingw-w64-x86-64 gcc-mingw-w64-i686 \
    wine wine64 wimtools libhivex-bin xorriso genisoimage mtools ntfs-3g dosfstools fdisk \
    util-linux zstd python3 python3-pip python3-venv python3-fuse fusefat attr syslinux syslinux-common \
    qemu-system-x86 ovmf gnu-efi liblnk-utils \
    dislocker cryptsetup-bin libbde-utils python3-libbde gddrescue fuse3
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

# dissect.fve (AGPL, test-time only): an independent BitLocker reader for the volumes
# dislocker cannot read (Vista, encrypted on write). Installed for Debian's python3, which
# also has libbde's binding (python3-libbde); tests/bitlocker_oracle.py runs under it.
if ! /usr/bin/python3 -c "import dissect.fve" 2>/dev/null; then
    /usr/bin/python3 -m pip install --quiet dissect.fve==4.6 2>/dev/null ||
        /usr/bin/python3 -m pip install --quiet --break-system-packages dissect.fve==4.6
fi

# NTFS volumes formatted and filled by Windows, from dissect.ntfs's test suite (AGPL,
# test-time only): its source package from PyPI, unpacked under target/ and read in place by
# tests/ntfs.rs (one with cloud-file placeholders); never copied into this repository.
ntfs_data=target/testdata/dissect_ntfs-3.16
if [ ! -d "$ntfs_data/tests/_data" ]; then
    mkdir -p target/testdata
    python3 -m pip download --quiet --no-deps --no-binary :all: --dest target/testdata \
        dissect.ntfs==3.16
    tar -xzf target/testdata/dissect_ntfs-3.16.tar.gz -C target/testdata
fi
export LIFEBOAT_WINDOWS_NTFS=$PWD/$ntfs_data/tests/_data

# Each step's wall time and the CPU time it and its children used (on a shared or loaded
# machine the CPU time says what an unloaded one would take).
timed() {
    local TIMEFORMAT="[%0R s, CPU %0U s user + %0S s sys] $*"
    time "$@"
}
# A full run writes about 7 GB under target/ (three agents with their own std, the
# workspace's tests): say how much room there is before it starts, so a full disk is seen
# as such rather than as a compiler error.
df -h . | awk 'NR==2 {print "disk: " $4 " free on " $6 " (a full run needs about 7 GB)"}'
timed bash scripts/build-windows-agent.sh
timed bash scripts/build-windows-agent.sh --arch i686
timed bash scripts/build-windows-agent.sh --arch aarch64
timed bash scripts/wine-wow64.sh
timed cargo test --workspace --locked --no-run
# A second build with nothing changed compiles nothing (see the script).
timed bash scripts/check-noop-build.sh --locked

# Tests that need ../shared/realdata (real files that may not be redistributed, see README)
# skip without it, one line each, listed and counted again at the end;
# LIFEBOAT_REQUIRE_REALDATA=1 makes them fail instead.
skips=$(mktemp)
trap 'rm -f "$skips"' EXIT
export LIFEBOAT_REALDATA_SKIPS=$skips
status=0
timed cargo test --workspace --locked --no-fail-fast "$@" || status=$?
# The x86 agent through the same Wine cases as the x64 one (WoW64).
(
    export LIFEBOAT_EXE=$PWD/target/i686-pc-windows-gnu/release/lifeboat.exe
    timed cargo test --locked --no-fail-fast -p lifeboat-tests --test wine_detect \
        --test wine_capture --test wine_auto --test wine_restore --test wim_layer --test wine_image "$@"
) || status=$?
if [ -s "$skips" ]; then
    echo
    sort -u "$skips"
    echo "$(cut -d' ' -f2 "$skips" | sort -u | wc -l) tests skipped: real data not present, see README"
fi
exit "$status"
