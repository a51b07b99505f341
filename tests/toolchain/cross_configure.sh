#!/usr/bin/env bash
# Configures and builds tests/toolchain/cross-smoke with the aarch64 toolchain file and
# checks that the program it produced is an AArch64 ELF executable.
set -euo pipefail
src=$1 work=$2
if ! command -v aarch64-linux-gnu-gcc >/dev/null; then
  echo "SKIP: aarch64-linux-gnu-gcc is not installed" >&2
  exit 77
fi
rm -rf "$work"
cmake -S "$src/tests/toolchain/cross-smoke" -B "$work" \
  -DCMAKE_TOOLCHAIN_FILE="$src/toolchain/aarch64-linux-gnu.cmake" >/dev/null
cmake --build "$work" >/dev/null
machine=$(readelf -h "$work/cross_smoke" | sed -n 's/^ *Machine: *//p')
echo "cross_smoke machine: $machine"
[ "$machine" = "AArch64" ]
