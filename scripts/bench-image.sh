#!/usr/bin/env bash
# `lifeboat image` of a BitLocker volume against its peers, in one run: a volume of MIB MiB
# (default 1024: an NTFS volume from mkntfs, random data in its free space) encrypted by the
# fixture writer with XTS-AES 128, then
#   - `lifeboat image VOL OUT --recovery-password KEY`: the whole command, the rescue of the
#     raw bytes into OUT.encrypted with its map, then OUT written decrypted from that copy;
#   - `dislocker-file -r` (the same recovery password), which decrypts without a rescue;
#   - `dd bs=4M` of the encrypted volume (one copy: the I/O floor of any rescue).
# Outputs go to OUT_DIR (default /dev/shm when it has room: a tmpfs, so the figure is the
# tools' own, not the disk's). Lifeboat's OUT and dislocker's must be the same bytes.
# Then, when the real data is there, the largest real volume (dissect.fve's Windows 7
# partly encrypted one, 2.87 GB, mostly sparse) the same way.
#   scripts/bench-image.sh [MIB]      (MIB 0: the real volume alone)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_packages bc time dislocker ntfs-3g python3 build-essential pkg-config clang libclang-dev make
ensure_rust

mib=${1:-1024}
work=${BENCH_DIR:-$PWD/target/bench-image}
rm -rf "$work"
mkdir -p "$work"
out=${OUT_DIR:-}
if [ -z "$out" ]; then
    free_kb=$(df -k --output=avail /dev/shm 2>/dev/null | tail -1 || echo 0)
    if [ "${free_kb:-0}" -gt $(((mib + 256) * 1024 * 4)) ]; then out=/dev/shm/bench-image.$$; else out=$work; fi
fi
mkdir -p "$out"
trap 'rm -f "$work"/*.img "$out"/*.img* "$work/key"; [ "$out" = "$work" ] || rm -rf "$out"' EXIT
cargo build --release -q -p lifeboat -p lifeboat-tests --bin lifeboat --bin make-fixture
lb=$PWD/target/release/lifeboat

generated() {
    plain=$work/plain.img
    truncate -s "${mib}M" "$plain"
    mkntfs -F -Q -q -s 512 -c 4096 -L Windows "$plain" >/dev/null 2>&1
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
    enc=$work/xts128.img
    target/release/make-fixture bitlocker "$plain" "$enc" xts128 512 recovery:1 >"$work/key"
    key=$(cat "$work/key")
    rm -f "$plain"
}
echo "generated volume: $mib MiB; outputs in $out; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"

measure() { # name command...
    local name=$1
    shift
    sync
    /usr/bin/time -f "%e %M %U %S" -o "$work/$name.time" "$@" >"$work/$name.out" 2>&1 ||
        { echo "$name failed:"; tail -5 "$work/$name.out"; exit 1; }
}
secs() { cut -d' ' -f1 "$work/$1.time"; }
cpu() { awk '{print $3 + $4}' "$work/$1.time"; }
row() { printf "%-44s %7.2f s %8.1f MiB/s %7.2f s CPU\n" "$2" "$(secs "$1")" "$(echo "$3 / $(secs "$1")" | bc -l)" "$(cpu "$1")"; }
ratio() { echo "$(secs "$1") / $(secs "$2")" | bc -l; }

compare() { # label volume size_mib lifeboat-key-args -- dislocker-key-args
    local label=$1 vol=$2 size=$3
    shift 3
    local ours=() theirs=()
    while [ "$1" != -- ]; do ours+=("$1"); shift; done
    shift
    theirs=("$@")
    rm -f "$out"/*.img*
    measure "dd-$label" dd if="$vol" of="$out/dd.img" bs=4M status=none
    rm -f "$out/dd.img"
    measure "ours-$label" "$lb" image "$vol" "$out/ours.img" "${ours[@]}"
    measure "dis-$label" dislocker-file -r -V "$vol" "${theirs[@]}" "$out/dis.img"
    # dislocker writes the size the metadata gives: a real volume may be an image cut short
    # of it (the part past Lifeboat's end must be zeros), and of a partly encrypted volume
    # dislocker 0.7 writes the encrypted part alone (the bytes both wrote must agree).
    local n d
    n=$(stat -c %s "$out/ours.img")
    d=$(stat -c %s "$out/dis.img")
    cmp -s -n "$((n < d ? n : d))" "$out/ours.img" "$out/dis.img" ||
        { echo "$label: Lifeboat and dislocker-file differ"; cmp -n "$((n < d ? n : d))" "$out/ours.img" "$out/dis.img" | head -1; exit 1; }
    if [ "$d" -gt "$n" ]; then
        cmp -s -i "$n:0" -n $((d - n)) "$out/dis.img" /dev/zero ||
            { echo "$label: dislocker's output past Lifeboat's end is not zeros"; exit 1; }
    elif [ "$d" -lt "$n" ]; then
        echo "$label: dislocker-file wrote $d bytes of $n (the same bytes); its time is for those"
    fi
    echo
    row "ours-$label" "lifeboat image $label (rescue + decrypt)" "$size"
    row "dis-$label" "dislocker-file -r $label" "$size"
    row "dd-$label" "dd of the encrypted volume" "$size"
    printf "%s: lifeboat image / dislocker-file: %.2fx; lifeboat image / dd: %.2fx; OUT %s MiB allocated of %s MiB\n" \
        "$label" "$(ratio "dis-$label" "ours-$label")" "$(ratio "dd-$label" "ours-$label")" \
        "$(($(stat -c %b "$out/ours.img") * 512 >> 20))" "$((n >> 20))"
    rm -f "$out"/*.img*
}

if [ "$mib" -gt 0 ]; then
    generated
    compare xts128 "$enc" "$mib" --recovery-password "$key" -- -p"$key"
fi
rm -f "$work/key"

real=/work/shared/realdata/bitlocker/dissect.fve__win7_partial.bin.gz
[ -n "${REALDATA:-}" ] && real=$REALDATA/bitlocker/dissect.fve__win7_partial.bin.gz
if [ -f "$real" ]; then
    vol=$work/win7_partial.img
    # Decompressed sparse: the volume is 2.87 GB, mostly zeros.
    python3 - "$real" "$vol" <<'EOF'
import gzip, sys
src, dst = sys.argv[1], sys.argv[2]
with gzip.open(src, "rb") as f, open(dst, "wb") as o:
    while True:
        b = f.read(1 << 20)
        if not b:
            break
        if b.count(0) == len(b):
            o.seek(len(b), 1)
        else:
            o.write(b)
    o.truncate()
EOF
    size=$(($(stat -c %s "$vol") >> 20))
    rp=131450-120197-153989-250338-511368-495572-680944-381546
    compare win7_partial "$vol" "$size" --recovery-password "$rp" -- -p"$rp"
    rm -f "$vol"
fi
echo
echo "Load at the end: $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine: compare within one run)"
