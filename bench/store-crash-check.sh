#!/usr/bin/env bash
# Does the embedded database keep every commit through a kill -9? Writes for SECONDS in one JVM,
# which then halts itself, reopens the database in another and compares (see StoreCrashCheck).
# CHECK=check-h2 reopens it with H2's own recovery alone, without the server's recovery pass.
#
#   bench/store-crash-check.sh SECONDS [SETTINGS]      e.g. 75, or 75 ';REUSE_SPACE=FALSE'
#
# Exit status 1 when committed messages are missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:?usage: store-crash-check.sh SECONDS [SETTINGS]}"
settings="${2:-}"
"$root/bin/ensure-jar" bench "$root/bench/target/parley-bench.jar"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
main=dev.parley.bench.durability.StoreCrashCheck
java -cp "$root/bench/target/parley-bench.jar" "$main" write "$dir" "$seconds" "$settings" >/dev/null
java -cp "$root/bench/target/parley-bench.jar" "$main" "${CHECK:-check}" "$dir" "$settings"
