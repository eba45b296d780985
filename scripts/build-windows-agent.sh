#!/usr/bin/env bash
# Builds the Windows agent: a static lifeboat.exe with wimlib bundled, for WinPE.
#   scripts/build-windows-agent.sh [--arch x86_64|i686|aarch64]
# Leaves target/<triple>/release/lifeboat.exe and a copy named for WinPE's architecture in
# target/agents/ (lifeboat-amd64.exe, lifeboat-x86.exe, lifeboat-arm64.exe), the folder
# `lifeboat-media build --agent` takes. Then checks the PE with tools of its own: machine type
# (file), imports only DLLs WinPE has (llvm-objdump), size.
# Recipe and reasons: docs/building-agents.md.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

arch=x86_64
while [ $# -gt 0 ]; do
    case "$1" in
        --arch) arch=${2:?--arch needs x86_64, i686 or aarch64}; shift 2 ;;
        *) echo "usage: $0 [--arch x86_64|i686|aarch64]" >&2; exit 2 ;;
    esac
done
case "$arch" in
    x86_64) target=x86_64-pc-windows-gnu winarch=amd64 machine="x86-64" pkgs=gcc-mingw-w64-x86-64 ;;
    i686) target=i686-pc-windows-gnu winarch=x86 machine="Intel 80386" pkgs=gcc-mingw-w64-i686 ;;
    aarch64) target=aarch64-pc-windows-gnullvm winarch=arm64 machine="Aarch64" pkgs="" ;;
    *) echo "unknown arch $arch (x86_64, i686 or aarch64)" >&2; exit 2 ;;
esac

# rustup cannot fetch Windows targets here; Debian's rustc-web ships std's source, so cargo
# builds std itself (-Zbuild-std, allowed on a stable compiler by RUSTC_BOOTSTRAP).
# shellcheck disable=SC2086
ensure_packages rustc-web cargo-web rust-web-src $pkgs clang libclang-dev llvm pkg-config make file
upper=$(echo "$target" | tr 'a-z-' 'A-Z_')
export RUSTC_BOOTSTRAP=1
export RUSTC=/usr/bin/rustc
# wimlib's install hook links wimlib-imagex, which fails for .exe names; skip it.
export GNUMAKEFLAGS='wimlib_imagex_cmds='
build=(build --release --locked -p lifeboat --bin lifeboat -Zbuild-std=std,panic_abort --target "$target")

case "$arch" in
x86_64 | i686)
    export "CARGO_TARGET_${upper}_LINKER=$arch-w64-mingw32-gcc"
    # wimlib needs advapi32 after libwim.a on the link line; wimlib-sys does not say so.
    flags="-C link-arg=-ladvapi32"
    if [ "$arch" = i686 ]; then
        # The i686 GNU target links rustc's startup objects, which -Zbuild-std does not build.
        rt=target/i686-rtstartup
        mkdir -p "$rt"
        for o in rsbegin rsend; do
            /usr/bin/rustc --target "$target" --emit=obj -O -o "$rt/$o.o" \
                "/usr/lib/rustlib/src/rust/library/rtstartup/$o.rs"
        done
        flags="$flags -L native=$PWD/$rt"
    fi
    export "CARGO_TARGET_${upper}_RUSTFLAGS=$flags"
    /usr/bin/cargo "${build[@]}"
    ;;
aarch64)
    # Zig (from PyPI) is the C compiler and linker; cargo-zigbuild drives it. wimlib's
    # configure derives --host from the compiler's file name, hence wrappers named for it.
    zig=target/zig
    if ! "$zig/venv/bin/python" -c "import ziglang" 2>/dev/null || [ ! -x "$zig/venv/bin/cargo-zigbuild" ]; then
        python3 -m venv "$zig/venv"
        "$zig/venv/bin/pip" install --quiet ziglang==0.17.1 cargo-zigbuild==0.24.1
    fi
    mkdir -p "$zig/bin"
    py="$PWD/$zig/venv/bin/python"
    # cargo-zigbuild looks for `zig` on PATH.
    printf '#!/bin/sh\nexec "%s" -m ziglang "$@"\n' "$py" >"$zig/bin/zig"
    chmod +x "$zig/bin/zig"
    for tool in gcc cc ar ranlib dlltool; do
        case "$tool" in
            gcc | cc) run="cc -target aarch64-windows-gnu" ;;
            *) run="$tool" ;;
        esac
        cat >"$zig/bin/aarch64-w64-mingw32-$tool" <<EOF
#!/usr/bin/env bash
# zig $run, named as wimlib's configure expects; drops the --target= the cc crate adds.
args=()
for a in "\$@"; do case "\$a" in --target=*) ;; *) args+=("\$a") ;; esac; done
exec "$py" -m ziglang $run "\${args[@]}"
EOF
        chmod +x "$zig/bin/aarch64-w64-mingw32-$tool"
    done
    # Bare names, found on PATH: autotools takes configure's --host from CC minus "-gcc",
    # which must be a triplet, not a path.
    export "CC_${target//-/_}=aarch64-w64-mingw32-gcc"
    export "AR_${target//-/_}=aarch64-w64-mingw32-ar"
    # zig's clang rejects a pointer-type mismatch in wimlib's imagex.c, a program Lifeboat
    # does not use.
    export "CFLAGS_${target//-/_}=-Wno-error=incompatible-pointer-types"
    # cargo-zigbuild hands bindgen zig's include folders as `zig env` prints them, relative
    # to the working directory when zig lies below it (target/zig); wimlib-sys's bindgen
    # runs elsewhere and then finds no stdio.h. From agent/ the paths come out absolute.
    (cd agent && PATH="/usr/bin:$PWD/../$zig/bin:$PATH" "$PWD/../$zig/venv/bin/cargo-zigbuild" "${build[@]}")
    ;;
esac

exe="target/$target/release/lifeboat.exe"
mkdir -p target/agents
cp "$exe" "target/agents/lifeboat-$winarch.exe"
size=$(stat -c %s "$exe")
echo "built $exe ($size bytes) -> target/agents/lifeboat-$winarch.exe"

# The checks: machine type, imports, size.
kind=$(file -b "$exe")
case "$kind" in
    *"$machine"*"MS Windows"*) echo "  machine: $kind" ;;
    *) echo "error: $exe is not a $machine Windows executable: $kind" >&2; exit 1 ;;
esac
# DLLs every WinPE 10/11 has: the system DLLs (mpr.dll: `net use`, the agent's share
# destination; shell32.dll and ole32.dll, which WinPE's own notepad, setup and DISM load:
# restore asks them for known folders), the API sets, and (UCRT builds) the UCRT's
# api-ms-win-crt-* sets, which ucrtbase.dll serves (lifeboat-media inspect reports it).
bad=0
while read -r dll; do
    case "${dll,,}" in
        kernel32.dll | advapi32.dll | msvcrt.dll | ntdll.dll | userenv.dll | user32.dll | \
            ws2_32.dll | mpr.dll | shell32.dll | ole32.dll | bcryptprimitives.dll | api-ms-win-core-*.dll | api-ms-win-crt-*.dll)
            echo "  imports $dll" ;;
        *) echo "error: $exe imports $dll, which WinPE does not have" >&2; bad=1 ;;
    esac
done < <(llvm-objdump -p "$exe" | sed -n 's/^\s*DLL Name: //p')
[ "$bad" = 0 ] || exit 1
# WinPE unpacks boot.wim into a RAM disk; the agent must stay small beside it.
max=$((8 * 1024 * 1024))
[ "$size" -le "$max" ] || { echo "error: $exe is $size bytes, over $max" >&2; exit 1; }
