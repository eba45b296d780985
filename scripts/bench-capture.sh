#!/usr/bin/env bash
# Capture throughput of `lifeboat capture` against wimcapture (same compression, same
# integrity table) and `tar | zstd -T0`, on one generated profile, in one run.
#   scripts/bench-capture.sh [SIZE_MB] [COMPRESSION]      (default 1000 MB, lzx)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_packages bc wimtools zstd build-essential pkg-config clang libclang-dev make
ensure_rust

size=${1:-1000}
comp=${2:-lzx}
work=${BENCH_DIR:-$PWD/target/bench}
rm -rf "$work"
mkdir -p "$work"
cargo build --release -q -p lifeboat -p lifeboat-tests
target/release/make-fixture bench "$work/machine" "$size"
profile="$work/machine/C/Users/ann"
files=$(find "$profile" -type f | wc -l)
bytes=$(du -sb "$profile" | cut -f1)
echo "sample profile: $files files, $bytes bytes"
sync

secs() { local s=$(date +%s.%N); "$@" >/dev/null 2>&1; local e=$(date +%s.%N); echo "$e - $s" | bc -l; }

mkdir -p "$work/lb"
t_lb=$(secs target/release/lifeboat capture "$work/machine/C" --dest "$work/lb" --profile full --compress "$comp")
t_wim=$(secs wimcapture "$profile" "$work/wimcapture.wim" --compress="$comp" --check)
t_wimv=$(secs wimverify "$work/wimcapture.wim")
t_tar=$(secs sh -c "tar -cf - -C '$work/machine/C/Users' ann | zstd -T0 -q -o '$work/ann.tar.zst'")
lb_size=$(du -cb "$work"/lb/*/files.wim | tail -1 | cut -f1)
wim_size=$(stat -c %s "$work/wimcapture.wim")
zst_size=$(stat -c %s "$work/ann.tar.zst")

mbps() { echo "scale=1; $bytes / 1048576 / $1" | bc -l; }
echo
printf "%-44s %8s s %8s MB/s %12s bytes\n" "tool" "time" "speed" "output"
printf "%-44s %8.2f s %8s MB/s %12s\n" "lifeboat capture (walk+WIM+registry+verify)" "$t_lb" "$(mbps "$t_lb")" "$lb_size"
printf "%-44s %8.2f s %8s MB/s %12s\n" "wimcapture --check" "$t_wim" "$(mbps "$t_wim")" "$wim_size"
printf "%-44s %8.2f s\n" "wimverify (what lifeboat's verify adds)" "$t_wimv"
printf "%-44s %8.2f s %8s MB/s %12s\n" "tar | zstd -T0" "$t_tar" "$(mbps "$t_tar")" "$zst_size"
echo
echo "throughput ratio lifeboat / wimcapture (capture only):       $(echo "scale=3; $t_wim / $t_lb" | bc -l)"
echo "throughput ratio lifeboat / (wimcapture + wimverify):        $(echo "scale=3; ($t_wim + $t_wimv) / $t_lb" | bc -l)"
echo "throughput ratio lifeboat / tar|zstd:                         $(echo "scale=3; $t_tar / $t_lb" | bc -l)"
