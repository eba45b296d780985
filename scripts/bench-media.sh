#!/usr/bin/env bash
# Build time of `lifeboat-media build --iso` against wimlib's `mkwinpeimg --iso` on the same
# generated WinPE-shaped base (padded to SIZE MiB of system files), in one run.
#   scripts/bench-media.sh [SIZE_MIB]     (default 300)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_packages bc wimtools genisoimage xorriso dosfstools build-essential pkg-config clang libclang-dev make
ensure_rust

size=${1:-300}
work=${BENCH_DIR:-$PWD/target/bench-media}
rm -rf "$work"
mkdir -p "$work"
cargo build --release -q -p lifeboat-media -p lifeboat-tests
target/release/make-fixture winpe "$work/gen" "$size" >/dev/null
base="$work/gen/winpe_amd64"
agent="$work/lifeboat.exe"
python3 - "$agent" <<'PY'
import sys
b = bytearray(1024); b[0:2] = b"MZ"; b[0x3c:0x40] = (0x80).to_bytes(4, "little")
b[0x80:0x84] = b"PE\0\0"; b[0x84:0x86] = (0x8664).to_bytes(2, "little")
open(sys.argv[1], "wb").write(b)
PY
# mkwinpeimg wants a "mounted Windows ISO" layout for its boot files.
win="$work/windir"
mkdir -p "$win/boot" "$win/sources"
cp "$base/media/bootmgr" "$win/bootmgr"
cp "$base/media/Boot/BCD" "$win/boot/bcd"
cp "$base/media/Boot/boot.sdi" "$win/boot/boot.sdi"
cp "$base/fwfiles/etfsboot.com" "$win/boot/etfsboot.com"
overlay="$work/overlay/Lifeboat"
mkdir -p "$overlay"
cp "$agent" "$overlay/lifeboat.exe"
printf 'X:\\Lifeboat\\lifeboat.exe auto\r\n' > "$work/lifeboat.cmd"
sync

secs() { local s=$(date +%s.%N); "$@" >/dev/null 2>&1; local e=$(date +%s.%N); echo "$e - $s" | bc -l; }
t_lb=$(secs target/release/lifeboat-media build --base "$base" --agent "$agent" --iso "$work/lifeboat.iso")
t_mk=$(secs mkwinpeimg --iso --windows-dir="$win" --wim="$base/media/sources/boot.wim" \
    --overlay="$work/overlay" --start-script="$work/lifeboat.cmd" "$work/mkwinpeimg.iso")
[ -s "$work/lifeboat.iso" ] || { echo "lifeboat-media produced no ISO"; exit 1; }
[ -s "$work/mkwinpeimg.iso" ] || { echo "mkwinpeimg produced no ISO"; exit 1; }
echo "base: boot.wim $(stat -c %s "$base/media/sources/boot.wim") bytes ($size MiB of payload)"
printf "%-40s %8.2f s %12s bytes\n" "lifeboat-media build --iso (BIOS+UEFI)" "$t_lb" "$(stat -c %s "$work/lifeboat.iso")"
printf "%-40s %8.2f s %12s bytes\n" "mkwinpeimg --iso (BIOS only)" "$t_mk" "$(stat -c %s "$work/mkwinpeimg.iso")"
echo "speed ratio lifeboat-media / mkwinpeimg: $(echo "scale=3; $t_mk / $t_lb" | bc -l)"
