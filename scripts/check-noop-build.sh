#!/usr/bin/env bash
# A build with nothing changed must compile nothing: every test cycle and CI run pays for a
# build that is not a no-op (wimlib-sys's build script once reran on every build, ~34 s; see
# vendor/wimlib-sys/README.md). Builds the workspace (all targets) and its test binaries
# once, then again, and fails if the second round compiled or reran anything, naming it.
#   scripts/check-noop-build.sh [CARGO ARGS…]   (e.g. --locked)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_rust

rounds=("build --workspace --all-targets" "test --workspace --no-run")
for r in "${rounds[@]}"; do
    # shellcheck disable=SC2086
    cargo $r "$@" >/dev/null 2>&1 || cargo $r "$@"
done
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
for r in "${rounds[@]}"; do
    # shellcheck disable=SC2086
    cargo $r -v "$@" >"$log" 2>&1
    # -v says "Fresh" for each unit that is up to date, "Dirty … (reason)", "Compiling" or
    # "Running" for one that is not.
    if grep -E '^\s*(Dirty|Compiling|Running) ' "$log"; then
        echo "error: a second \`cargo $r\` with nothing changed did the work above" >&2
        status=1
    else
        echo "cargo $r: a no-op the second time ($(grep -c '^\s*Fresh ' "$log") units fresh)"
    fi
done
exit "$status"
