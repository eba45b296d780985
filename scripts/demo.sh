#!/usr/bin/env bash
# The built-in demo: generates an offline Windows machine (no Microsoft media needed) and
# runs Lifeboat on it. Installs what it needs on a fresh Debian 12 machine.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_packages build-essential pkg-config clang libclang-dev make wimtools dosfstools xorriso
ensure_rust

demo=${DEMO_DIR:-$PWD/target/demo}
rm -rf "$demo"
mkdir -p "$demo"
cargo build --release -q -p lifeboat -p lifeboat-tests
target/release/make-fixture demo "$demo/machine"
machine=$demo/machine

echo
echo "== $machine/Offline.xml"
echo "The demo's volumes C and D are plain folders, not partitions: nothing on them says which"
echo "was D: (on a real disk, SYSTEM's MountedDevices does). As for ScanState /offline, an"
echo "Offline.xml names the Windows folder and maps the old D: to where that volume is now:"
cat "$machine/Offline.xml"

echo
echo "== lifeboat detect --offline-xml $machine/Offline.xml"
target/release/lifeboat detect --offline-xml "$machine/Offline.xml"

mkdir -p "$demo/usb"
echo
echo "== lifeboat capture --offline-xml $machine/Offline.xml --dest $demo/usb --profile user"
target/release/lifeboat capture --offline-xml "$machine/Offline.xml" --dest "$demo/usb" --profile user
store=$(ls -d "$demo"/usb/DEMO-PC-*)
echo
echo "== lifeboat verify $store"
target/release/lifeboat verify "$store"
echo
echo "== the store"
ls -l "$store" "$store/registry"

newpc=$demo/newpc
echo
echo "== the new PC: a freshly imaged Windows 11 where ann and bob have signed in once"
target/release/make-fixture newpc "$newpc" ann bob
echo
echo "== lifeboat restore $store --offline-root $newpc"
echo "(LoadState's job; \`lifeboat loadstate\` takes LoadState's own syntax)"
target/release/lifeboat restore "$store" --offline-root "$newpc"
echo
echo "== where ann's and bob's files landed (bob's came from the old D:)"
(cd "$newpc" && find Users/ann/Documents Users/ann/Pictures Users/bob/Documents Users/bob/Pictures -type f | sort)
echo
echo "== their settings, paths rewritten for the new PC, wait in each profile:"
(cd "$newpc" && ls -1 Users/*/Lifeboat*)
echo "(offline, nothing of the new PC's registry is written: each user imports the .reg at the"
echo " first sign-in, as the READ ME says; a restore on the running Windows writes them straight in)"
echo "ann's wallpaper and mapped drive there:"
iconv -f UTF-16 -t UTF-8 "$newpc/Users/ann/Lifeboat settings.reg" | tr -d '\r' | grep -A3 -F -e '\Control Panel\Desktop]' -e '\Network\S]'
echo
echo "== boot media: the Windows agent, a generated WinPE-shaped base, lifeboat-media"
bash scripts/build-windows-agent.sh >/dev/null
cargo build --release -q -p lifeboat-media
target/release/make-fixture winpe "$demo/winpe"
target/release/lifeboat-media inspect "$demo/winpe/winpe_amd64"
target/release/lifeboat-media build --base "$demo/winpe/winpe_amd64" \
    --agent target/x86_64-pc-windows-gnu/release/lifeboat.exe --iso "$demo/lifeboat.iso"
xorriso -indev "$demo/lifeboat.iso" -report_el_torito plain 2>/dev/null | grep -E "El Torito (boot img|cat path)" || true
echo
echo "The demo machine also holds the Windows 10 it replaced: lifeboat detect $machine/C"
echo "This demo machine and WinPE base were generated. Real media need WinPE from the Microsoft ADK (see README)."
