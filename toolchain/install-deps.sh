#!/usr/bin/env bash
# Installs every build and test dependency of insitu from Debian 12 packages.
# Idempotent: when everything is present it prints nothing and touches nothing.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config git
  clang llvm libclang-rt-14-dev libfuzzer-14-dev
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross
  # libraries of the design card
  libcmocka-dev liburing-dev libxxhash-dev libzstd-dev libssl-dev libjson-c-dev libisal-dev
  libnvme-dev libarchive-dev libseccomp-dev libcap-dev zlib1g-dev
  libacl1-dev liblz4-dev          # what the static libarchive writer needs (test images)
  # tools the tests and benchmarks drive as peers
  xxhash util-linux procps python3 hyperfine crun bubblewrap umoci busybox-static iperf3
  # the QEMU guest whose Linux kernel judges insitu-fw's NVMe/TCP (qemu/)
  qemu-system-x86 nvme-cli fio cpio kmod xz-utils
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  sudo=sudo
else
  sudo=
fi
echo "insitu: installing ${#missing[@]} Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
