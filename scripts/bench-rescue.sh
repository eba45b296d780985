#!/usr/bin/env bash
# `lifeboat image` against its peers, in one run:
#  1. a dying disk: a SIZE_MIB fixture with 1 % of its sectors bad in 20 areas and two slow
#     areas, served through the FUSE fault file (tests/support/faultfs.py): the time of
#     `lifeboat image` against GNU ddrescue's time to the same map state (checked with
#     `ddrescuelog --compare-mapfile`);
#  2. a healthy image file: `lifeboat image` throughput against `dd bs=1M`, both reading
#     and writing in tmpfs (/dev/shm), so the figure is the tools' own, not the disk's
#     (lifeboat image flushes the image before it saves a map that counts its bytes as
#     rescued; on tmpfs that costs nothing, as plain dd's unflushed writes cost nothing).
# Each time is the best of several runs (the machine may be shared).
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
    rm -f "$work/reads.log"
    /usr/bin/python3 tests/support/faultfs.py "$work/spec.json" "$work/mnt" 2>"$work/faultfs.err" &
    for _ in $(seq 100); do [ -e "$work/mnt/disk.img" ] && return 0; sleep 0.1; done
    echo "faultfs did not mount" >&2; exit 1
}
unserve() { umount "$work/mnt"; wait; }
# The time of a command, after the writes of the one before it are on the disk (ddrescue
# leaves its image to the system's write-back when it ends; lifeboat image flushes its
# image before it saves the map that counts it, and must not pay for ddrescue's too).
# Prints "WALL CPU" seconds (CPU: user + system, the command's own work whatever the load).
secs() {
    sync
    /usr/bin/time -f "%e %U %S" -o "$work.time" "$@" >/dev/null 2>&1 || true
    # (time writes "Command exited with non-zero status N" first when it is so)
    awk 'END {printf "%s %.2f\n", $1, $2 + $3}' "$work.time"
}
# The best (least wall time) of "WALL CPU" pairs.
min() { printf '%s\n' "$@" | sort -g | head -1; }
wall() { echo "${1% *}"; }
cpu() { echo "${1#* }"; }

# The dying disk, three times for each tool (a fresh mount and fresh outputs each time).
t_ddr=() t_lbd=()
for round in 1 2 3; do
    rm -f "$work"/ddr.* "$work"/lb.*
    serve
    t_ddr+=("$(secs ddrescue -q "$work/mnt/disk.img" "$work/ddr.img" "$work/ddr.map")")
    unserve
    reads_ddr=$(wc -l <"$work/reads.log")
    serve
    t_lbd+=("$(secs "$lb" image "$work/mnt/disk.img" "$work/lb.img" --map "$work/lb.map")")
    unserve
    reads_lb=$(wc -l <"$work/reads.log")
done
b_ddr=$(min "${t_ddr[@]}")
b_lbd=$(min "${t_lbd[@]}")
t_ddr=$(wall "$b_ddr") t_lbd=$(wall "$b_lbd")
if ddrescuelog --compare-mapfile="$work/ddr.map" "$work/lb.map" >/dev/null 2>&1; then
    same="the same map"
else
    same="DIFFERENT maps"
fi
bad=$(ddrescuelog -t "$work/lb.map" | awk '/bad-sector:/ {print $2, $3, "in", $5, "areas"}')

# Healthy, in tmpfs: five runs of each, alternating.
shm=$(mktemp -d /dev/shm/bench-rescue.XXXXXX)
trap 'rm -rf "$shm" "$work.time"' EXIT
cp "$work/disk.img" "$shm/src.img"
rm -rf "$work"
t_dd=() t_lbh=()
for round in 1 2 3 4 5; do
    t_dd+=("$(secs dd if="$shm/src.img" of="$shm/dd.out" bs=1M)")
    rm -f "$shm/dd.out"
    t_lbh+=("$(secs "$lb" image "$shm/src.img" "$shm/h.img" --map "$shm/h.map")")
    cmp -s "$shm/src.img" "$shm/h.img" || { echo "the healthy image differs" >&2; exit 1; }
    rm -f "$shm/h.img" "$shm/h.map"
done
b_dd=$(min "${t_dd[@]}")
b_lbh=$(min "${t_lbh[@]}")
t_dd=$(wall "$b_dd") t_lbh=$(wall "$b_lbh")

mbps() { echo "scale=1; $size_mib * 1.048576 / $1" | bc -l; }
echo
printf "%-52s %8s %8s %12s\n" "dying disk (${size_mib} MiB through FUSE), best of 3" "time" "CPU" "disk reads"
printf "%-52s %8.2f s %6.2f s %12s\n" "GNU ddrescue (default options)" "$t_ddr" "$(cpu "$b_ddr")" "$reads_ddr"
printf "%-52s %8.2f s %6.2f s %12s\n" "lifeboat image" "$t_lbd" "$(cpu "$b_lbd")" "$reads_lb"
echo "maps: $same (bad-sector: $bad)"
echo
printf "%-52s %8s %8s %10s\n" "healthy image (${size_mib} MiB in tmpfs), best of 5" "time" "CPU" "speed"
printf "%-52s %8.2f s %6.2f s %7s MB/s\n" "dd bs=1M" "$t_dd" "$(cpu "$b_dd")" "$(mbps "$t_dd")"
printf "%-52s %8.2f s %6.2f s %7s MB/s\n" "lifeboat image" "$t_lbh" "$(cpu "$b_lbh")" "$(mbps "$t_lbh")"
echo
echo "time ratio lifeboat image / ddrescue, dying disk (goal <= 1.0):  $(echo "scale=3; $t_lbd / $t_ddr" | bc -l)"
echo "throughput ratio lifeboat image / dd bs=1M, healthy (goal >= 0.9): $(echo "scale=3; $t_dd / $t_lbh" | bc -l)"
