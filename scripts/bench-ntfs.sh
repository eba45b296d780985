#!/usr/bin/env bash
# The NTFS reader against ntfs-3g, in one run, on one volume image (mkntfs, filled through
# ntfs-3g with FILES files of a profile's sizes, default 150,000): each reader lists every
# folder, looks at every file and reads all its data.
#   - Lifeboat's walk, folder by folder (as the plan's walk reads a volume);
#   - Lifeboat's scan of the MFT in order, data read by two threads (as a capture can);
#   - the same walk through an ntfs-3g read-only mount (std::fs: read_dir, lstat, read).
# Each line: wall time, CPU time, files and throughput; the closing lines give the ratios
# (issue 17's goal: a capture from an image at >= 2x the throughput of one through ntfs-3g).
# Every reader runs once before the measured runs (the page cache then holds the image for
# all; the disk is not what is compared). Speeds are only compared within one run.
#   scripts/bench-ntfs.sh [FILES]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_packages bc time ntfs-3g
ensure_rust

files=${1:-150000}
work=${BENCH_DIR:-$PWD/target/bench-ntfs}
mnt=$work/mnt
cleanup() { umount "$mnt" 2>/dev/null || true; }
trap cleanup EXIT
cleanup
rm -rf "$work"
mkdir -p "$work" "$mnt"
cargo build --release -q -p lifeboat-tests --bin bench-ntfs
bench=$PWD/target/release/bench-ntfs
img=$work/volume.img
echo "== making a volume of $files files (mkntfs, filled through ntfs-3g)"
"$bench" make "$img" "$files"
ntfs-3g -o ro "$img" "$mnt"
echo "$(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"

# measure NAME CMD...: its output line (files bytes seconds) and /usr/bin/time's figures.
measure() {
    local name=$1
    shift
    /usr/bin/time -f "%e %U %S %M" -o "$work/$name.time" "$@" >"$work/$name.out"
}
for warm in walk scan mount; do
    case $warm in
    mount) "$bench" mount "$mnt" >/dev/null ;;
    *) "$bench" "$warm" "$img" >/dev/null ;;
    esac
done
measure walk "$bench" walk "$img"
measure scan "$bench" scan "$img" 2
measure ntfs3g "$bench" mount "$mnt"

field() { cut -d' ' -f"$2" "$work/$1.out"; }
wall() { cut -d' ' -f1 "$work/$1.time"; }
cpu() { echo "$(cut -d' ' -f2 "$work/$1.time") + $(cut -d' ' -f3 "$work/$1.time")" | bc -l; }
ratio() { printf "%.2f" "$(echo "$1 / $2" | bc -l)"; }
row() {
    printf "%-44s %8.2f s wall %8.2f s cpu %9s files %8.1f MB/s %7.1f MB peak\n" "$2" "$(wall "$1")" "$(cpu "$1")" \
        "$(field "$1" 1)" "$(echo "$(field "$1" 2) / 1048576 / $(wall "$1")" | bc -l)" \
        "$(echo "$(cut -d' ' -f4 "$work/$1.time") / 1024" | bc -l)"
}
echo
row walk "Lifeboat, folder by folder"
row scan "Lifeboat, MFT order, 2 reader threads"
row ntfs3g "ntfs-3g mount, folder by folder"
for r in walk scan; do
    if [ "$(field $r 1)" != "$(field ntfs3g 1)" ] || [ "$(field $r 2)" != "$(field ntfs3g 2)" ]; then
        echo "MISMATCH: $r saw $(field $r 1) files / $(field $r 2) bytes, ntfs-3g $(field ntfs3g 1) / $(field ntfs3g 2)"
        exit 1
    fi
done
echo
echo "Ratios (throughput, higher is faster; the goal is >= 2):"
echo "  Lifeboat walk / ntfs-3g:           $(ratio "$(wall ntfs3g)" "$(wall walk)")"
echo "  Lifeboat MFT-order scan / ntfs-3g: $(ratio "$(wall ntfs3g)" "$(wall scan)")"
echo "  (cpu is the reader's own process: ntfs-3g's daemon works beside the mount's reader)"
echo "Load at the end: $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine: repeat before trusting a ratio near its goal)"
