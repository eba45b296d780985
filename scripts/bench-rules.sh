#!/usr/bin/env bash
# Rule evaluation cost: `lifeboat capture --estimate` with Microsoft's MigDocs.xml,
# MigUser.xml and MigApp.xml (detection, variables, matching every file) against a plain
# walk of the same profile (`find`, and the estimate with the trivial `full` profile), on
# one generated profile, in one run. Needs ../shared/realdata/usmt/ms-shipped.
#   scripts/bench-rules.sh [FILES]      (default 200000)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_packages bc build-essential pkg-config clang libclang-dev make
ensure_rust

files=${1:-200000}
work=${BENCH_DIR:-$PWD/target/bench-rules}
xml=${USMT_XML_DIR:-$PWD/../shared/realdata/usmt/ms-shipped}
for f in usmt__MigDocs.xml usmt__MigUser.xml usmt__MigApp.xml; do
    [ -f "$xml/$f" ] || { echo "missing $xml/$f (set USMT_XML_DIR)"; exit 2; }
done
rm -rf "$work"
mkdir -p "$work"
cargo build --release -q -p lifeboat -p lifeboat-tests
target/release/make-fixture bench-rules "$work/machine" "$files"
profile="$work/machine/C/Users/ann"
echo "sample profile: $(find "$profile" -type f | wc -l) files"
sync

secs() { local s=$(date +%s.%N); "$@" >/dev/null 2>&1; local e=$(date +%s.%N); echo "$e - $s" | bc -l; }
lb=target/release/lifeboat
# Warm the page cache once so every run reads the same way.
find "$work/machine/C" -type f >/dev/null

t_find=$(secs find "$work/machine/C" -type f)
t_full=$(secs $lb capture "$work/machine/C" --estimate --profile full)
t_usmt=$(secs $lb capture "$work/machine/C" --estimate \
    --profile "$xml/usmt__MigDocs.xml" --profile "$xml/usmt__MigUser.xml" --profile "$xml/usmt__MigApp.xml")

echo
printf "%-62s %8.2f s\n" "find (plain walk of the volume)" "$t_find"
printf "%-62s %8.2f s\n" "lifeboat --estimate, profile full (walk + open each file)" "$t_full"
printf "%-62s %8.2f s\n" "lifeboat --estimate, MigDocs+MigUser+MigApp (rules evaluated)" "$t_usmt"
echo
echo "ratio MigDocs+MigUser+MigApp / plain walk (find):         $(echo "scale=2; $t_usmt / $t_find" | bc -l)"
echo "ratio MigDocs+MigUser+MigApp / estimate with 'full':      $(echo "scale=2; $t_usmt / $t_full" | bc -l)"
