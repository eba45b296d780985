#!/usr/bin/env bash
# Wine's 32-bit Windows DLLs, so wine64 runs the x86 agent in WoW64 mode, without enabling
# i386 in apt: libwine:i386 (the version of the installed wine) is downloaded with a private
# apt state and unpacked into target/wine-i386. The Wine harness (tests/support/wine.rs)
# points WINEDLLPATH there.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$PWD/target/wine-i386
[ -d "$out/usr/lib/i386-linux-gnu/wine/i386-windows" ] && exit 0
state=$PWD/target/wine-i386-apt
mkdir -p "$state/lists/partial" "$state/cache/archives/partial"
apt=(-o "Dir::State::Lists=$state/lists" -o "Dir::Cache=$state/cache" -o "APT::Architectures::=i386"
    -o "Debug::NoLocking=1")
# Some mirrors' i386 indexes are inconsistent; what matters is that libwine:i386 is listed.
apt-get "${apt[@]}" update -qq || true
version=$(dpkg-query -W -f='${Version}' libwine)
(cd "$state" && apt-get "${apt[@]}" download "libwine:i386=$version")
dpkg -x "$state"/libwine_*_i386.deb "$out"
rm -rf "$state"
[ -d "$out/usr/lib/i386-linux-gnu/wine/i386-windows" ]
