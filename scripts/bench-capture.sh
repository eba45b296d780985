#!/usr/bin/env bash
# Capture, verify and extract against their peers, in one run, on generated profiles:
#   - a mixed profile (text, incompressible "media", duplicates) of SIZE_MB:
#     lifeboat capture (default = --compress auto, then each type) against wimcapture
#     --check + wimverify at the same type, tar | zstd -T0, and cp -r (the disk's limit);
#     lifeboat verify / extract against wimverify / wimapply on the default store;
#   - many small files (--small-files N, default 1,000,000; 0 skips it): lifeboat capture
#     --profile user against wimcapture --check + wimverify at the type lifeboat chose, and
#     (uncompressed only) Lifeboat's own WIM writer fed by a folder walk (write-wim; see
#     scripts/bench-wim-writer.sh for every compression);
#   - an NTFS volume image (--ntfs-files N, default 100,000 small files; 0 skips it; made by
#     mkntfs and filled through ntfs-3g): lifeboat capture of the image, read by Lifeboat's
#     own NTFS reader, against lifeboat capture of the same image mounted by ntfs-3g.
# Each line: wall time, throughput, peak memory (max RSS, /usr/bin/time) and output size;
# the closing note gives the ratios. Speeds are only compared within one run.
#   scripts/bench-capture.sh [SIZE_MB] [--small-files N] [--ntfs-files N] [--types "none xpress lzx lzms"]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_packages bc time wimtools zstd ntfs-3g build-essential pkg-config clang libclang-dev make
ensure_rust

size=1000
small=1000000
ntfs=100000
types="none xpress lzx lzms"
while [ $# -gt 0 ]; do
    case "$1" in
    --small-files) small=$2; shift 2 ;;
    --ntfs-files) ntfs=$2; shift 2 ;;
    --types) types=$2; shift 2 ;;
    *) size=$1; shift ;;
    esac
done
work=${BENCH_DIR:-$PWD/target/bench}
# warm DIR: reads every file once, so that no measured run pays for the first read after
# the files were made (relatime then writes each file's access time) and none is first.
warm() {
    tar -cf - -C "$1" . | cat >/dev/null
    sync
}

mnt=$work/ntfs-mnt
unmount() { umount "$mnt" 2>/dev/null || true; }
trap unmount EXIT
unmount
rm -rf "$work"
mkdir -p "$work"
cargo build --release -q -p lifeboat -p lifeboat-tests
lb=$PWD/target/release/lifeboat
target/release/make-fixture bench "$work/machine" "$size" >/dev/null
profile="$work/machine/C/Users/ann"
warm "$work/machine"
files=$(find "$profile" -type f | wc -l)
bytes=$(du -sb "$profile" | cut -f1)
echo "mixed profile: $files files, $bytes bytes; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"

# measure NAME CMD...: runs CMD once (output to $work/NAME.out), records seconds and
# peak RSS (KiB) in $work/NAME.time; the page cache is flushed before, not during.
measure() {
    local name=$1
    shift
    sync
    /usr/bin/time -f "%e %M" -o "$work/$name.time" "$@" >"$work/$name.out" 2>&1 ||
        { echo "$name failed:"; tail -5 "$work/$name.out"; exit 1; }
}
secs() { cut -d' ' -f1 "$work/$1.time"; }
rss() { cut -d' ' -f2 "$work/$1.time"; }
# Two steps run one after the other: times add, the peak is the larger.
combine() {
    echo "$(echo "$(secs "$2") + $(secs "$3")" | bc -l) $(($(rss "$2") > $(rss "$3") ? $(rss "$2") : $(rss "$3")))" >"$work/$1.time"
}
ratio() { printf "%.2f" "$(echo "$1 / $2" | bc -l)"; }
row() { # NAME LABEL DATA_BYTES OUTPUT_BYTES
    printf "%-46s %8.2f s %8.1f MB/s %8.1f MB peak %12s\n" "$2" "$(secs "$1")" \
        "$(echo "$3 / 1048576 / $(secs "$1")" | bc -l)" "$(echo "$(rss "$1") / 1024" | bc -l)" "$4"
}
# breakdown NAME: where a capture's time went, from the durations its log records.
breakdown() {
    local log phase total write wim back
    log=$(ls "$work/$1"/*/lifeboat.log)
    phase() { sed -n "s/.*$1 in \([0-9.]*\) s.*/\1/p" "$log" | paste -sd+ | bc -l; }
    write=$(phase "read and written") wim=$(phase "files.wim written") back=$(phase "read back")
    write=${write:-0} wim=${wim:-0} back=${back:-0}
    total=$(secs "$1")
    printf "  %s: detect, walk and rules %.1f s; files read and written %.1f s; WIM finished %.1f s; read-back %.1f s\n" \
        "$1" "$(echo "$total - $wim - $back" | bc -l)" "$write" "$(echo "$wim - $write" | bc -l)" "$back"
}
store_wim() { du -cb "$1"/*/files.wim | tail -1 | cut -f1; }
chosen() { grep -m1 -A3 '^wim:' "$1"/*/manifest.yaml | sed -n 's/.*compression: *//p'; }

mkdir -p "$work/lb-default"
measure lb-default "$lb" capture "$work/machine/C" --dest "$work/lb-default" --profile full
auto=$(chosen "$work/lb-default")
why=$(grep -m1 '^compression ' "$work/lb-default.out" || true)
for t in $types; do
    mkdir -p "$work/lb-$t"
    measure "lb-$t" "$lb" capture "$work/machine/C" --dest "$work/lb-$t" --profile full --compress "$t"
    measure "wc-$t" wimcapture "$profile" "$work/wc-$t.wim" "--compress=$t" --check
    measure "wv-$t" wimverify "$work/wc-$t.wim"
    combine "wim-$t" "wc-$t" "wv-$t"
done
measure tarzstd sh -c "tar -cf - -C '$work/machine/C/Users' ann | zstd -T0 -q -o '$work/ann.tar.zst'"
measure cp cp -r "$profile" "$work/cp-copy"
store=$(ls -d "$work"/lb-default/*/)
measure lb-verify "$lb" verify "$store"
measure wimverify wimverify "$store/files.wim"
measure lb-extract "$lb" extract "$store" "$work/extract-lb"
mkdir -p "$work/extract-wim"
measure wimapply wimapply "$store/files.wim" 1 "$work/extract-wim"

echo
echo "$why"
printf "%-46s %10s %13s %13s %12s\n" "mixed profile ($bytes bytes)" "time" "throughput" "memory" "output"
row lb-default "lifeboat capture, default ($auto)" "$bytes" "$(store_wim "$work/lb-default")"
for t in $types; do
    row "lb-$t" "lifeboat capture --compress $t" "$bytes" "$(store_wim "$work/lb-$t")"
    row "wim-$t" "wimcapture --compress=$t --check + wimverify" "$bytes" "$(stat -c %s "$work/wc-$t.wim")"
done
row tarzstd "tar | zstd -T0" "$bytes" "$(stat -c %s "$work/ann.tar.zst")"
row cp "cp -r (the disk's own limit)" "$bytes" "$bytes"
row lb-verify "lifeboat verify (default store)" "$bytes" "-"
row wimverify "wimverify (same WIM)" "$bytes" "-"
row lb-extract "lifeboat extract (default store)" "$bytes" "-"
row wimapply "wimapply (same WIM)" "$bytes" "-"

if [ "$small" -gt 0 ]; then
    target/release/make-fixture small-files "$work/small" "$small" >/dev/null
    sprofile="$work/small/C/Users/ann"
    warm "$work/small"
    sbytes=$(du -sb "$sprofile" | cut -f1)
    mkdir -p "$work/lb-small"
    measure lb-small "$lb" capture "$work/small/C" --dest "$work/lb-small" --profile user
    st=$(chosen "$work/lb-small")
    measure wc-small wimcapture "$sprofile" "$work/wc-small.wim" "--compress=$st" --check
    measure wv-small wimverify "$work/wc-small.wim"
    combine wim-small wc-small wv-small
    # Lifeboat's own writer (lifeboat_wim::writer) fed by a folder walk
    # (tests/support/bin/write_wim.rs), its WIM checked by wimverify.
    if [ "$st" = none ]; then
        measure or-small target/release/write-wim "$sprofile" "$work/or-small.wim"
        measure orv-small wimverify "$work/or-small.wim"
    fi
    echo
    printf "%-46s %10s %13s %13s %12s\n" "$small small files" "time" "throughput" "memory" "output"
    row lb-small "lifeboat capture --profile user ($st)" "$sbytes" "$(store_wim "$work/lb-small")"
    row wc-small "wimcapture --compress=$st --check" "$sbytes" "$(stat -c %s "$work/wc-small.wim")"
    row wim-small "wimcapture --compress=$st --check + wimverify" "$sbytes" "$(stat -c %s "$work/wc-small.wim")"
    [ "$st" != none ] ||
        row or-small "lifeboat's WIM writer, folder walk (write-wim)" "$sbytes" "$(stat -c %s "$work/or-small.wim")"
    breakdown lb-small
fi

if [ "$ntfs" -gt 0 ]; then
    img=$work/ntfs.img
    target/release/make-fixture ntfs-small-files "$img" "$ntfs" >/dev/null
    mkdir -p "$mnt"
    ntfs-3g -o ro "$img" "$mnt"
    # Both read from the page cache: the image is read once, the mount walked once.
    cat "$img" >/dev/null
    warm "$mnt"
    nbytes=$(du -sb "$mnt/Users/ann" | cut -f1)
    mkdir -p "$work/lb-ntfs-img" "$work/lb-ntfs-mnt"
    measure lb-ntfs-img "$lb" capture "$img" --dest "$work/lb-ntfs-img" --profile user
    nt=$(chosen "$work/lb-ntfs-img")
    measure lb-ntfs-mnt "$lb" capture "$mnt" --dest "$work/lb-ntfs-mnt" --profile user --compress "$nt"
    unmount
    taken() { sed -n 's/^  files: *//p' "$1"/*/manifest.yaml | head -1; }
    if [ "$(taken "$work/lb-ntfs-img")" != "$(taken "$work/lb-ntfs-mnt")" ]; then
        echo "MISMATCH: the image capture took $(taken "$work/lb-ntfs-img") files, the mount's $(taken "$work/lb-ntfs-mnt")"
        exit 1
    fi
    echo
    printf "%-46s %10s %13s %13s %12s\n" "NTFS image, $ntfs small files" "time" "throughput" "memory" "output"
    row lb-ntfs-img "lifeboat capture IMAGE (its NTFS reader, $nt)" "$nbytes" "$(store_wim "$work/lb-ntfs-img")"
    row lb-ntfs-mnt "lifeboat capture of its ntfs-3g mount" "$nbytes" "$(store_wim "$work/lb-ntfs-mnt")"
    breakdown lb-ntfs-img
    breakdown lb-ntfs-mnt
fi

echo
echo "Ratios (throughput: higher is faster; size and memory: lower is smaller):"
echo "  default capture / tar|zstd, throughput:         $(ratio "$(secs tarzstd)" "$(secs lb-default)")   (goal >= 1.0)"
echo "  default store / zstd output, size:              $(ratio "$(store_wim "$work/lb-default")" "$(stat -c %s "$work/ann.tar.zst")")   (goal <= 1)"
echo "  default capture / cp -r, throughput:            $(ratio "$(secs cp)" "$(secs lb-default)")"
for t in $types; do
    echo "  lifeboat / wimcapture+wimverify, $t: throughput $(ratio "$(secs "wim-$t")" "$(secs "lb-$t")"), memory $(ratio "$(rss "lb-$t")" "$(rss "wim-$t")")"
done
echo "  lifeboat verify / wimverify, throughput:        $(ratio "$(secs wimverify)" "$(secs lb-verify)")"
echo "  lifeboat extract / wimapply, throughput:        $(ratio "$(secs wimapply)" "$(secs lb-extract)")"
if [ "$small" -gt 0 ]; then
    # The issue's goal compares Lifeboat, its read-back included, with wimcapture --check
    # alone; the pair with wimverify is the like-for-like comparison.
    echo "  $small files: lifeboat / wimcapture --check: time $(ratio "$(secs lb-small)" "$(secs wc-small)") (goal <= 0.5), memory $(ratio "$(rss lb-small)" "$(rss wc-small)") (goal <= 0.6)"
    echo "  $small files: lifeboat / wimcapture --check + wimverify: time $(ratio "$(secs lb-small)" "$(secs wim-small)"), memory $(ratio "$(rss lb-small)" "$(rss wim-small)")"
    [ "$st" != none ] ||
        echo "  $small files: write-wim / wimcapture --check: time $(ratio "$(secs or-small)" "$(secs wc-small)"), memory $(ratio "$(rss or-small)" "$(rss wc-small)") (the writer alone)"
fi
if [ "$ntfs" -gt 0 ]; then
    echo "  NTFS image: Lifeboat's reader / ntfs-3g mount, throughput: $(ratio "$(secs lb-ntfs-mnt)" "$(secs lb-ntfs-img)") (goal >= 2), memory $(ratio "$(rss lb-ntfs-img)" "$(rss lb-ntfs-mnt)")"
fi
echo "Load at the end: $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine: repeat before trusting a ratio near its goal)"
