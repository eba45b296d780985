#!/usr/bin/env bash
# Lifeboat's own WIM writer (lifeboat_wim::writer, fed by a folder walk: write-wim) against
# wimcapture, in one run, on generated data:
#   - many small files (--small-files N, default 1,000,000; 0 skips it), uncompressed:
#     write-wim against wimcapture --compress=none --check (goals: <= 0.5x the time,
#     <= 0.6x the peak memory);
#   - a mixed profile of SIZE_MB (text, incompressible media, duplicates) for each
#     compression in --types: write-wim --compress T --threads N against wimcapture
#     --compress=T --threads=N --check (goals for xpress and lzx: >= 1.0x the speed,
#     a WIM no more than 1 % larger).
# Every WIM written by write-wim must pass wimverify, or the bench stops.
# Each line: wall time, throughput, peak memory (max RSS, /usr/bin/time) and WIM size.
#   scripts/bench-wim-writer.sh [SIZE_MB] [--small-files N] [--types "none xpress lzx lzms"] [--threads N]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_packages bc time wimtools build-essential pkg-config clang libclang-dev make
ensure_rust

size=1000
small=1000000
types="none xpress lzx lzms"
threads=$(nproc)
while [ $# -gt 0 ]; do
    case "$1" in
    --small-files) small=$2; shift 2 ;;
    --types) types=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    *) size=$1; shift ;;
    esac
done
work=${BENCH_DIR:-$PWD/target/bench-wim-writer}
warm() {
    tar -cf - -C "$1" . | cat >/dev/null
    sync
}
measure() {
    local name=$1
    shift
    sync
    /usr/bin/time -f "%e %M" -o "$work/$name.time" "$@" >"$work/$name.out" 2>&1 ||
        { echo "$name failed:"; tail -5 "$work/$name.out"; exit 1; }
}
secs() { cut -d' ' -f1 "$work/$1.time"; }
rss() { cut -d' ' -f2 "$work/$1.time"; }
ratio() { printf "%.2f" "$(echo "$1 / $2" | bc -l)"; }
row() { # NAME LABEL DATA_BYTES WIM
    printf "%-52s %8.2f s %8.1f MB/s %8.1f MB peak %12s\n" "$2" "$(secs "$1")" \
        "$(echo "$3 / 1048576 / $(secs "$1")" | bc -l)" "$(echo "$(rss "$1") / 1024" | bc -l)" "$(stat -c %s "$4")"
}
verified() { wimverify "$1" >/dev/null || { echo "wimverify refuses $1"; exit 1; }; }

rm -rf "$work"
mkdir -p "$work"
cargo build --release -q -p lifeboat-tests --bin write-wim --bin make-fixture
ww=$PWD/target/release/write-wim
echo "$(nproc) cores, $threads compressor threads; load $(cut -d' ' -f1-3 /proc/loadavg)"
summary=()

if [ "$small" -gt 0 ]; then
    target/release/make-fixture small-files "$work/small" "$small" >/dev/null
    src="$work/small/C/Users/ann"
    warm "$work/small"
    sbytes=$(du -sb "$src" | cut -f1)
    measure ww-small "$ww" "$src" "$work/ww-small.wim"
    verified "$work/ww-small.wim"
    measure wc-small wimcapture "$src" "$work/wc-small.wim" --compress=none --check
    echo
    printf "%-52s %10s %13s %13s %12s\n" "$small small files ($sbytes bytes)" "time" "throughput" "memory" "WIM"
    row ww-small "write-wim (lifeboat's writer)" "$sbytes" "$work/ww-small.wim"
    row wc-small "wimcapture --compress=none --check" "$sbytes" "$work/wc-small.wim"
    grep -h "files" "$work/ww-small.out" | sed 's/^/  write-wim: /'
    summary+=("$small files, none: time $(ratio "$(secs ww-small)" "$(secs wc-small)") (goal <= 0.5), memory $(ratio "$(rss ww-small)" "$(rss wc-small)") (goal <= 0.6), size $(ratio "$(stat -c %s "$work/ww-small.wim")" "$(stat -c %s "$work/wc-small.wim")")")
    rm -rf "$work/small" "$work"/*-small.wim
fi

if [ -n "$types" ]; then
    target/release/make-fixture bench "$work/machine" "$size" >/dev/null
    src="$work/machine/C/Users/ann"
    warm "$work/machine"
    bytes=$(du -sb "$src" | cut -f1)
    echo
    printf "%-52s %10s %13s %13s %12s\n" "mixed profile ($bytes bytes)" "time" "throughput" "memory" "WIM"
    for t in $types; do
        measure "ww-$t" "$ww" --compress "$t" --threads "$threads" "$src" "$work/ww-$t.wim"
        verified "$work/ww-$t.wim"
        measure "wc-$t" wimcapture "$src" "$work/wc-$t.wim" "--compress=$t" "--threads=$threads" --check
        row "ww-$t" "write-wim --compress $t --threads $threads" "$bytes" "$work/ww-$t.wim"
        row "wc-$t" "wimcapture --compress=$t --threads=$threads --check" "$bytes" "$work/wc-$t.wim"
        goal=""
        case $t in xpress | lzx) goal=" (goals: speed >= 1.0, size <= 1.01)" ;; esac
        summary+=("mixed, $t: speed $(ratio "$(secs "wc-$t")" "$(secs "ww-$t")"), size $(ratio "$(stat -c %s "$work/ww-$t.wim")" "$(stat -c %s "$work/wc-$t.wim")"), memory $(ratio "$(rss "ww-$t")" "$(rss "wc-$t")")$goal")
        rm -f "$work/ww-$t.wim" "$work/wc-$t.wim"
    done
fi

echo
echo "Ratios, write-wim / wimcapture (time, memory, size: lower is better; speed: higher):"
for s in "${summary[@]}"; do echo "  $s"; done
echo "Load at the end: $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine: repeat before trusting a ratio near its goal)"
