#!/usr/bin/env bash
# Restore throughput of `lifeboat restore` (verify the store, plan, compare, extract,
# place, settings) against `wimapply` of the same image to the same disk, in one run.
#   scripts/bench-restore.sh [SIZE_MB]      (default 1000 MB)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_packages bc wimtools build-essential pkg-config clang libclang-dev make
ensure_rust

size=${1:-1000}
work=${BENCH_DIR:-$PWD/target/bench-restore}
rm -rf "$work"
mkdir -p "$work/stores"
cargo build --release -q -p lifeboat -p lifeboat-tests
target/release/make-fixture bench "$work/machine" "$size" >/dev/null
target/release/lifeboat capture "$work/machine/C" --dest "$work/stores" --profile full --compress lzx >/dev/null
store=$(find "$work/stores" -mindepth 1 -maxdepth 1 -type d ! -name '.*' | head -1)
files=$(wiminfo "$store/files.wim" 1 | awk -F': *' '/^File Count/ {print $2}')
bytes=$(wiminfo "$store/files.wim" 1 | awk -F': *' '/^Total Bytes/ {print $2}')
echo "store: $store (image 1: $files files, $bytes bytes)"
target/release/make-fixture newpc "$work/new" ann >/dev/null
mkdir -p "$work/wimapply"
sync

secs() { local s=$(date +%s.%N); "$@" >/dev/null 2>&1; local e=$(date +%s.%N); echo "$e - $s" | bc -l; }

t_lb=$(secs target/release/lifeboat restore "$store" --offline-root "$work/new" --user ann --json)
t_wim=$(secs wimapply "$store/files.wim" 1 "$work/wimapply")
t_wimv=$(secs wimverify "$store/files.wim")
t_again=$(secs target/release/lifeboat restore "$store" --offline-root "$work/new" --user ann --json)
restored=$(find "$work/new/Users/ann" -type f | wc -l)

mbps() { echo "scale=1; $bytes / 1048576 / $1" | bc -l; }
echo
printf "%-52s %8s s %8s MB/s\n" "tool" "time" "speed"
printf "%-52s %8.2f s %8s MB/s\n" "lifeboat restore (verify+plan+extract+place)" "$t_lb" "$(mbps "$t_lb")"
printf "%-52s %8.2f s %8s MB/s\n" "wimapply (same image, same disk)" "$t_wim" "$(mbps "$t_wim")"
printf "%-52s %8.2f s\n" "wimverify (the check restore makes first)" "$t_wimv"
printf "%-52s %8.2f s\n" "lifeboat restore again (everything already there)" "$t_again"
echo "files in the restored profile: $restored"
echo
echo "throughput ratio lifeboat restore / wimapply:                $(echo "scale=3; $t_wim / $t_lb" | bc -l)"
echo "throughput ratio lifeboat restore / (wimverify + wimapply):  $(echo "scale=3; ($t_wim + $t_wimv) / $t_lb" | bc -l)"
