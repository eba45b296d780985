#!/usr/bin/env bash
# Builds the Windows agent: a static lifeboat.exe with wimlib bundled, for WinPE.
#   scripts/build-windows-agent.sh [--arch x86_64|i686]
# Recipe and reasons: see README "Building the Windows agent".
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

arch=x86_64
[ "${1:-}" = "--arch" ] && arch=${2:?--arch needs x86_64 or i686}
case "$arch" in
    x86_64) mingw=gcc-mingw-w64-x86-64 ;;
    i686) mingw=gcc-mingw-w64-i686 ;;
    *) echo "unknown arch $arch (x86_64 or i686)" >&2; exit 2 ;;
esac
target="$arch-pc-windows-gnu"

# rustup cannot fetch Windows targets here; Debian's rustc-web ships std's source, so cargo
# builds std itself (-Zbuild-std, allowed on a stable compiler by RUSTC_BOOTSTRAP).
ensure_packages rustc-web cargo-web rust-web-src "$mingw" clang libclang-dev pkg-config make

upper=$(echo "$target" | tr 'a-z-' 'A-Z_')
export RUSTC_BOOTSTRAP=1
export RUSTC=/usr/bin/rustc
export "CARGO_TARGET_${upper}_LINKER=$arch-w64-mingw32-gcc"
# wimlib needs advapi32 after libwim.a on the link line; wimlib-sys does not say so.
export "CARGO_TARGET_${upper}_RUSTFLAGS=-C link-arg=-ladvapi32"
# wimlib's install hook links wimlib-imagex, which fails for .exe names; skip it.
export GNUMAKEFLAGS='wimlib_imagex_cmds='
/usr/bin/cargo build --release --locked -p lifeboat --bin lifeboat \
    -Zbuild-std=std,panic_abort --target "$target"

exe="target/$target/release/lifeboat.exe"
echo "built $exe ($(du -h "$exe" | cut -f1))"
"$arch-w64-mingw32-objdump" -p "$exe" | grep "DLL Name" | sed 's/^\s*/  imports /'
