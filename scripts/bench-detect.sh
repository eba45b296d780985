#!/usr/bin/env bash
# `lifeboat detect` on a volume whose SOFTWARE hive is large (default 100 MB) and dirty
# (the newest data only in SOFTWARE.LOG1/LOG2, as after a crash, so the logs are replayed),
# against the peers that bound it in the same run: reading the files (cat) and hivex
# reading one value from the hive (hivexget, which does not replay logs).
#   scripts/bench-detect.sh [HIVE_MB]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_packages bc time libhivex-bin build-essential pkg-config clang libclang-dev make
ensure_rust

mb=${1:-100}
work=${BENCH_DIR:-$PWD/target/bench-detect}
rm -rf "$work"
mkdir -p "$work"
cargo build --release -q -p lifeboat -p lifeboat-tests
target/release/make-fixture big-hive "$work/machine" "$mb" >/dev/null
config="$work/machine/C/Windows/System32/config"
hive_bytes=$(stat -c %s "$config/SOFTWARE")
logs=$(du -cb "$config"/SOFTWARE.LOG* | tail -1 | cut -f1)
echo "SOFTWARE: $hive_bytes bytes, logs $logs bytes; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"

measure() {
    local name=$1
    shift
    sync
    /usr/bin/time -f "%e %M" -o "$work/$name.time" "$@" >"$work/$name.out" 2>&1 ||
        { echo "$name failed:"; tail -5 "$work/$name.out"; exit 1; }
}
secs() { cut -d' ' -f1 "$work/$1.time"; }
rss() { cut -d' ' -f2 "$work/$1.time"; }
row() {
    printf "%-52s %8.2f s %8.1f MB/s %8.1f MB peak\n" "$2" "$(secs "$1")" \
        "$(echo "$hive_bytes / 1048576 / $(secs "$1")" | bc -l)" "$(echo "$(rss "$1") / 1024" | bc -l)"
}

measure detect target/release/lifeboat detect "$work/machine/C" --json
measure cat sh -c "cat '$config'/SOFTWARE* >/dev/null"
measure hivexget hivexget "$config/SOFTWARE" 'Microsoft\Windows NT\CurrentVersion' ProductName
grep -q '"Windows 10 Pro"' "$work/detect.out" ||
    { echo "detect did not read the replayed product name:"; head -20 "$work/detect.out"; exit 1; }

echo
row detect "lifeboat detect (hive read whole, logs replayed)"
row cat "cat SOFTWARE and its logs"
row hivexget "hivexget one value (no log replay)"
echo
echo "lifeboat detect / hivexget, time: $(printf "%.2f" "$(echo "$(secs detect) / $(secs hivexget)" | bc -l)")"
echo "Load at the end: $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine: compare within one run)"
