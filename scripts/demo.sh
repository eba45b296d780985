#!/usr/bin/env bash
# The built-in demo: generates an offline Windows machine (no Microsoft media needed) and
# runs Lifeboat on it. Installs what it needs on a fresh Debian 12 machine.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_packages build-essential pkg-config clang libclang-dev make
ensure_rust

demo=${DEMO_DIR:-$PWD/target/demo}
rm -rf "$demo"
mkdir -p "$demo"
cargo build --release -q -p lifeboat -p lifeboat-tests
target/release/make-fixture demo "$demo/machine"

echo
echo "== lifeboat detect $demo/machine/C $demo/machine/D"
target/release/lifeboat detect "$demo/machine/C" "$demo/machine/D" || true

mkdir -p "$demo/usb"
echo
echo "== lifeboat capture $demo/machine/C --select 1 --dest $demo/usb --profile user"
target/release/lifeboat capture "$demo/machine/C" --select 1 --dest "$demo/usb" --profile user
store=$(ls -d "$demo"/usb/DEMO-PC-*)
echo
echo "== lifeboat verify $store"
target/release/lifeboat verify "$store"
echo
echo "== the store"
ls -l "$store" "$store/registry"
echo
echo "This demo machine was generated. Real media needs the Microsoft ADK's WinPE (see README)."
