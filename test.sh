#!/usr/bin/env bash
# Sets up this machine (Debian packages) and runs every insitu test:
#   1. the normal build under ctest,
#   2. the same suite built with AddressSanitizer + UndefinedBehaviorSanitizer,
#   3. the libFuzzer targets, each for a bounded time (INSITU_FUZZ_SECONDS, default 60).
# CI sets CI=true, which turns warnings into errors.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"

./toolchain/install-deps.sh

jobs=$(nproc)
werror=OFF
[ -n "${CI:-}" ] && werror=ON

build() {
  local dir=$1; shift
  echo "== configure and build $dir"
  cmake -S . -B "$dir" -G Ninja -DINSITU_WERROR="$werror" "$@" >/dev/null
  cmake --build "$dir" -j"$jobs"
}

status=0
run_suite() {
  local dir=$1; shift
  echo "== ctest $dir"
  ctest --test-dir "$dir" --output-on-failure -j"$jobs" "$@" || status=1
}

build build
run_suite build

build build-asan -DINSITU_SANITIZE=ON
run_suite build-asan

build build-fuzz -DCMAKE_C_COMPILER=clang -DINSITU_FUZZ=ON \
  -DINSITU_FUZZ_SECONDS="${INSITU_FUZZ_SECONDS:-60}"
run_suite build-fuzz -L '^fuzz$'

exit $status
