#!/usr/bin/env bash
# `lifeboat image` against its peers, in one run:
#  1. a dying disk: a SIZE_MIB fixture with 1 % of its sectors bad in 20 areas and two slow
#     areas, served through the FUSE fault file (tests/support/faultfs.py): the time of
#     `lifeboat image` against GNU ddrescue's time to the same map state (checked with
#     `ddrescuelog --compare-mapfile`);
#  2. a healthy image file: `lifeboat image` throughput against `dd bs=1M` (and against
#     `dd bs=1M conv=fsync`, since lifeboat image flushes the image before it saves a map
#     that counts its bytes as rescued). Both read from the page cache, warmed first.
#   scripts/bench-rescue.sh [SIZE_MIB]      (default 1024)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_packages bc gddrescue python3-fuse fuse3 build-essential pkg-config clang libclang-dev make
ensure_rust

size_mib=${1:-1024}
work=${BENCH_DIR:-$PWD/target/bench-rescue}
rm -rf "$work"
mkdir -p "$work/mnt"
cargo build --release -q -p lifeboat
lb=$PWD/target/release/lifeboat

# The fixture: random bytes with a zero run every 64 MiB (sparse in lifeboat's image).
python3 - "$work/disk.img" "$size_mib" <<'PY'
import os, sys
path, mib = sys.argv[1], int(sys.argv[2])
with open(path, "wb") as f:
    for i in range(mib):
        f.write(bytes(1 << 20) if i % 64 == 63 else os.urandom(1 << 20))
PY

# 20 bad areas holding 1 % of the sectors between them (sizes vary around the mean), two
# slow areas of 1 MiB where each read takes 50 ms longer.
python3 - "$work" "$size_mib" <<'PY'
import json, random, sys
work, mib = sys.argv[1], int(sys.argv[2])
size = mib << 20
sectors = size // 512
rng = random.Random(19)
want = sectors // 100
weights = [rng.uniform(0.5, 1.5) for _ in range(20)]
lens = [max(1, int(want * w / sum(weights))) for w in weights]
slot = sectors // 20
bad = []
for i, n in enumerate(lens):
    start = i * slot + rng.randrange(slot // 8, slot - n - slot // 8)
    bad.append([start * 512, (start + n) * 512])
slow = [[size // 3, size // 3 + (1 << 20), 0.05], [2 * size // 3 + 4096, 2 * size // 3 + 4096 + (1 << 20), 0.05]]
json.dump({"image": f"{work}/disk.img", "log": f"{work}/reads.log", "bad": bad, "slow": slow},
          open(f"{work}/spec.json", "w"))
print(f"{sum(lens)} bad sectors of {sectors} ({100 * sum(lens) / sectors:.2f} %) in 20 areas; 2 slow areas")
PY

serve() {
    /usr/bin/python3 tests/support/faultfs.py "$work/spec.json" "$work/mnt" 2>"$work/faultfs.err" &
    for _ in $(seq 100); do [ -e "$work/mnt/disk.img" ] && return 0; sleep 0.1; done
    echo "faultfs did not mount" >&2; exit 1
}
unserve() { umount "$work/mnt"; wait; }
secs() { local s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; local e=$(date +%s.%N); echo "$e - $s" | bc -l; }

serve
t_ddr=$(secs ddrescue -q "$work/mnt/disk.img" "$work/ddr.img" "$work/ddr.map")
unserve
mv "$work/reads.log" "$work/reads-ddrescue.log"
serve
t_lbd=$(secs "$lb" image "$work/mnt/disk.img" "$work/lb.img" --map "$work/lb.map")
unserve
mv "$work/reads.log" "$work/reads-lifeboat.log"
if ddrescuelog --compare-mapfile="$work/ddr.map" "$work/lb.map" >/dev/null 2>&1; then
    same="the same map"
else
    same="DIFFERENT maps"
fi
bad_bytes=$(ddrescuelog -t "$work/lb.map" | awk '/bad-sector:/ {print $2, $3}')

# Healthy: the fixture itself, from the page cache.
cat "$work/disk.img" >/dev/null
t_dd=$(secs dd if="$work/disk.img" of="$work/dd.out" bs=1M)
rm -f "$work/dd.out"
t_ddf=$(secs dd if="$work/disk.img" of="$work/dd.out" bs=1M conv=fsync)
rm -f "$work/dd.out"
t_lbh=$(secs "$lb" image "$work/disk.img" "$work/healthy.img" --map "$work/healthy.map")
cmp -s "$work/disk.img" "$work/healthy.img" || { echo "the healthy image differs" >&2; exit 1; }

mbps() { echo "scale=1; $size_mib / $1" | bc -l; }
echo
printf "%-58s %8s\n" "dying disk (${size_mib} MiB through FUSE)" "time"
printf "%-58s %8.2f s\n" "GNU ddrescue (default options)" "$t_ddr"
printf "%-58s %8.2f s\n" "lifeboat image" "$t_lbd"
echo "maps: $same (bad-sector: $bad_bytes)"
echo
printf "%-58s %8s %10s\n" "healthy image (${size_mib} MiB, page cache)" "time" "speed"
printf "%-58s %8.2f s %7s MB/s\n" "dd bs=1M" "$t_dd" "$(mbps "$t_dd")"
printf "%-58s %8.2f s %7s MB/s\n" "dd bs=1M conv=fsync" "$t_ddf" "$(mbps "$t_ddf")"
printf "%-58s %8.2f s %7s MB/s\n" "lifeboat image" "$t_lbh" "$(mbps "$t_lbh")"
echo
echo "time ratio lifeboat image / ddrescue, dying disk (goal <= 1.0):      $(echo "scale=3; $t_lbd / $t_ddr" | bc -l)"
echo "throughput ratio lifeboat image / dd bs=1M (goal >= 0.9):           $(echo "scale=3; $t_dd / $t_lbh" | bc -l)"
echo "throughput ratio lifeboat image / dd bs=1M conv=fsync:              $(echo "scale=3; $t_ddf / $t_lbh" | bc -l)"
[ -n "${KEEP:-}" ] || rm -rf "$work"
