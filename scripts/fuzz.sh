#!/usr/bin/env bash
# Fuzzes the parsers of hostile input (fuzz/fuzz_targets/) with libFuzzer through cargo-fuzz.
#   scripts/fuzz.sh [TARGET|all] [SECONDS]      (default: all 60)
# Fails on any crash, panic, timeout (FUZZ_TIMEOUT s per input, default 10) or allocation
# over the limits (FUZZ_RSS_MB, default 2048; FUZZ_MALLOC_MB for one allocation, default
# 512). FUZZ_JOBS targets run at a time (default 2). What each target found and ran is
# printed; a crashing input is kept in fuzz/artifacts/TARGET/ (reproduce: fuzz.sh repro FILE).
# Seeds: the fixture writers' (tests/support/bin/fuzz_seeds.rs) and ../shared/realdata, read
# in place through links. The corpus grows in target/fuzz/corpus/TARGET between runs.
# See docs/testing.md, "Fuzzing".
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_rust

targets=(hive log_replay sam migxml offline_xml yaml manifest reg_roundtrip pe lnk ntfs bitlocker restore_plan mapfile)
what=${1:-all}
seconds=${2:-60}
jobs=${FUZZ_JOBS:-2}
timeout=${FUZZ_TIMEOUT:-10}
rss=${FUZZ_RSS_MB:-2048}
malloc=${FUZZ_MALLOC_MB:-512}

# cargo-fuzz needs nightly features: RUSTC_BOOTSTRAP allows them on the machine's stable
# rustup toolchain, which ships the AddressSanitizer runtime (Debian's rustc-web does not).
export RUSTC_BOOTSTRAP=1
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install --locked cargo-fuzz --version 0.13.2
fi

work=target/fuzz
bin=fuzz/target/x86_64-unknown-linux-gnu/release

case "$what" in
    all) selected=("${targets[@]}") ;;
    repro)
        file=${2:?repro needs the input file}
        target=$(basename "$(dirname "$file")")
        (cd fuzz && cargo fuzz build -O -a "$target")
        exec "$bin/$target" -rss_limit_mb="$rss" -malloc_limit_mb="$malloc" "$file"
        ;;
    *)
        [[ " ${targets[*]} " == *" $what "* ]] || { echo "unknown target $what (${targets[*]})" >&2; exit 2; }
        selected=("$what")
        ;;
esac

echo "== building fuzz targets (ASan, debug assertions)"
(cd fuzz && cargo fuzz build -O -a)

echo "== seeds"
rm -rf "$work/seeds" "$work/realdata"
cargo run -q --locked -p lifeboat-tests --bin fuzz-seeds -- "$work/seeds"
# Real data, linked (never copied) into one folder per target; files past the target's
# input size are left out.
real=../shared/realdata
link_real() { # target max_bytes dir...
    local t=$1 max=$2
    shift 2
    mkdir -p "$work/realdata/$t"
    for d in "$@"; do
        [ -d "$real/$d" ] || continue
        find "$(cd "$real/$d" && pwd)" -maxdepth 1 -type f -size -"$max"c ! -iname '*.log*' \
            -exec ln -sf {} "$work/realdata/$t/" \;
    done
}
max_len() {
    case $1 in
        hive|sam|log_replay) echo 4194304 ;;
        migxml|restore_plan) echo 1048576 ;;
        ntfs) echo 524288 ;;
        # A BitLocker seed is a whole small volume: header, three metadata copies, data.
        bitlocker) echo 1048576 ;;
        *) echo 65536 ;;
    esac
}
link_real hive "$(max_len hive)" hives/NTUSER hives/SAM hives/UsrClass hives/SYSTEM hives/corrupt
link_real sam "$(max_len sam)" hives/SAM
link_real migxml "$(max_len migxml)" usmt/ms-shipped usmt/ms-modified usmt/custom usmt/config
link_real offline_xml "$(max_len offline_xml)" usmt/offline
# The real BitLocker volumes are tens of MB (gzip'd): the .BEK files only; the volumes come
# from the fixture writer's seeds.
link_real bitlocker 4096 bitlocker
[ -d "$real" ] || echo "(../shared/realdata not present: fuzzing from the generated seeds only)"

run_one() {
    local t=$1
    local corpus=$work/corpus/$t artifacts=fuzz/artifacts/$t
    mkdir -p "$corpus" "$artifacts" "$work/seeds/$t" "$work/realdata/$t"
    "$bin/$t" "$corpus" "$work/seeds/$t" "$work/realdata/$t" \
        -max_total_time="$seconds" -timeout="$timeout" \
        -rss_limit_mb="$rss" -malloc_limit_mb="$malloc" -max_len="$(max_len "$t")" \
        -artifact_prefix="$artifacts/" -print_final_stats=1 \
        >"$work/$t.log" 2>&1
}

echo "== fuzzing ${selected[*]}: ${seconds}s each, $jobs at a time"
mkdir -p "$work"
failed=()
pids=()
names=()
wait_one() {
    local pid=${pids[0]} name=${names[0]}
    pids=("${pids[@]:1}")
    names=("${names[@]:1}")
    if ! wait "$pid"; then failed+=("$name"); fi
}
for t in "${selected[@]}"; do
    run_one "$t" &
    pids+=($!)
    names+=("$t")
    if [ ${#pids[@]} -ge "$jobs" ]; then wait_one; fi
done
while [ ${#pids[@]} -gt 0 ]; do wait_one; done

total=0
for t in "${selected[@]}"; do
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/$t.log" | grep -o '[0-9]*$' || echo 0)
    cov=$(grep -o 'cov: [0-9]*' "$work/$t.log" | tail -1 || true)
    total=$((total + ${runs:-0}))
    state=ok
    [[ " ${failed[*]-} " == *" $t "* ]] && state=FAILED
    printf '%-14s %-6s %12s runs  %s  corpus %s\n' "$t" "$state" "${runs:-0}" "${cov:-}" \
        "$(find "$work/corpus/$t" -type f | wc -l)"
done
echo "total: $total runs"
if [ ${#failed[@]} -gt 0 ]; then
    for t in "${failed[@]}"; do
        echo "== $t failed; its log ($work/$t.log) ends:"
        tail -n 40 "$work/$t.log"
        ls -1 "fuzz/artifacts/$t" 2>/dev/null | sed 's/^/  artifact: /'
    done
    exit 1
fi
