#!/usr/bin/env bash
# The BitLocker reader against its peers, in one run: a volume of MIB MiB (default 1024,
# an NTFS volume from mkntfs filled with random data) encrypted by the fixture writer with
# XTS-AES 128 and with AES-CBC 128 + Elephant diffuser, then read whole
#   - by Lifeboat's reader (tests/support/bin/bench_bitlocker.rs: unlock with the recovery
#     password, 4 MiB reads, as `lifeboat image` will read it),
#   - by `dislocker-file -r` (the same recovery password),
#   - and the plain image by `cat` (the I/O ceiling),
# each writing its output to a file in the same folder (OUT_DIR, default /dev/shm when it
# has room: a tmpfs, so that the disk's write cost, which dwarfs decryption, is left out)
# and Lifeboat also to /dev/null. cat's peer for a file is dd (read and write: GNU cat
# copies file to file with copy_file_range, which a reflinking file system turns into no
# copy at all). The outputs of Lifeboat and dislocker must be the same bytes. Goals (issue 18): Lifeboat >= 3x dislocker, >= 0.5x cat;
# unlocking with a recovery password <= 1.5 s.
#   scripts/bench-bitlocker.sh [MIB]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_packages bc time dislocker ntfs-3g python3 build-essential pkg-config clang libclang-dev make
ensure_rust

mib=${1:-1024}
work=${BENCH_DIR:-$PWD/target/bench-bitlocker}
rm -rf "$work"
mkdir -p "$work"
out=${OUT_DIR:-}
if [ -z "$out" ]; then
    free_kb=$(df -k --output=avail /dev/shm 2>/dev/null | tail -1 || echo 0)
    if [ "${free_kb:-0}" -gt $(((mib + 256) * 1024 * 2)) ]; then out=/dev/shm/bench-bitlocker.$$; else out=$work; fi
fi
mkdir -p "$out"
trap 'rm -f "$work"/*.img "$out"/*.img; [ "$out" = "$work" ] || rmdir "$out" 2>/dev/null' EXIT
cargo build --release -q -p lifeboat-tests --bin make-fixture --bin bench-bitlocker

plain=$work/plain.img
truncate -s "${mib}M" "$plain"
mkntfs -F -Q -q -s 512 -c 4096 -L Windows "$plain" >/dev/null 2>&1
# Random data everywhere but the first 16 MiB, the $MFT's first 4 MiB and the last 2 MiB, so
# that nothing reads as a sparse hole and the file-system check still passes.
python3 - "$plain" <<'EOF'
import os, struct, sys
path = sys.argv[1]
size = os.path.getsize(path)
with open(path, "r+b") as f:
    boot = f.read(512)
    bps, spc = struct.unpack_from("<HB", boot, 11)
    mft = struct.unpack_from("<Q", boot, 48)[0] * bps * spc
    keep = [(0, 16 << 20), (mft, mft + (4 << 20)), (size - (2 << 20), size)]
    at = 0
    for a, b in sorted(keep) + [(size, size)]:
        while at < a:
            n = min(64 << 20, a - at)
            f.seek(at)
            f.write(os.urandom(n))
            at += n
        at = max(at, b)
EOF
sync
echo "plain volume: $mib MiB; outputs in $out; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"

measure() { # name command...
    local name=$1
    shift
    sync # earlier runs' writes flushed: none is timed in another's run
    /usr/bin/time -f "%e %M %U %S" -o "$work/$name.time" "$@" >"$work/$name.out" 2>&1 ||
        { echo "$name failed:"; tail -5 "$work/$name.out"; exit 1; }
}
secs() { cut -d' ' -f1 "$work/$1.time"; }
# CPU seconds (user + system, all threads): on a shared machine the work done, whatever
# the wall clock says.
cpu() { awk '{print $3 + $4}' "$work/$1.time"; }
mbs() { echo "$mib / $(secs "$1")" | bc -l; }
row() { printf "%-40s %7.2f s %8.1f MiB/s %7.2f s CPU\n" "$2" "$(secs "$1")" "$(mbs "$1")" "$(cpu "$1")"; }

for method in xts128 cbc128d; do
    enc=$work/$method.img
    # The recovery password the writer drew (a test key, kept in a file, never printed).
    target/release/make-fixture bitlocker "$plain" "$enc" "$method" 512 recovery:1 >"$work/key"
    key=$(cat "$work/key")
    # cat just before Lifeboat, in the same state of the page cache and the disk.
    measure cat dd if="$plain" of="$out/cat.img" bs=4M status=none
    rm -f "$out/cat.img"
    measure catnull sh -c "cat '$plain' > /dev/null"
    measure "ours-$method" target/release/bench-bitlocker "$enc" "recovery:$key" "$out/ours.img"
    measure "dis-$method" dislocker-file -r -V "$enc" -p"$key" "$out/dis.img"
    cmp -s "$out/ours.img" "$out/dis.img" ||
        { echo "$method: Lifeboat and dislocker-file differ"; cmp "$out/ours.img" "$out/dis.img" | head -1; exit 1; }
    rm -f "$out/ours.img" "$out/dis.img"
    measure "null-$method" target/release/bench-bitlocker "$enc" "recovery:$key" /dev/null
    rm -f "$enc"
    unlock=$(awk '/^unlock/ {print $2}' "$work/ours-$method.out")
    echo
    row "ours-$method" "Lifeboat $method -> file"
    row "null-$method" "Lifeboat $method -> /dev/null"
    row "dis-$method" "dislocker-file -r $method -> file"
    row cat "dd plain image -> file"
    row catnull "cat plain image -> /dev/null"
    ratio() { echo "$(secs "$1") / $(secs "$2")" | bc -l; }
    cpu_ratio() { echo "$(cpu "$1") / $(cpu "$2")" | bc -l; }
    printf "%s: Lifeboat / dislocker-file: %.2fx (goal >= 3); Lifeboat / cat: %.2fx to a file, %.2fx to /dev/null (goal >= 0.5); unlock with a recovery password: %.2f s (goal <= 1.5)\n" \
        "$method" "$(ratio "dis-$method" "ours-$method")" "$(ratio cat "ours-$method")" \
        "$(ratio catnull "null-$method")" "$unlock"
    printf "%s: CPU time, dislocker-file / Lifeboat (both to a file): %.2fx\n" "$method" \
        "$(cpu_ratio "dis-$method" "ours-$method")"
done
rm -f "$work/key"
echo
echo "Load at the end: $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine: compare within one run)"
