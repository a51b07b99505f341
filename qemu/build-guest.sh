#!/usr/bin/env bash
# Builds the x86_64 guest that judges insitu's NVMe/TCP with the real Linux kernel: Debian's
# linux-image-6.1 kernel (as an uncompressed vmlinux) and an initramfs holding busybox, the
# NVMe/TCP host and target modules, nvme-cli, fio and optionally the insitu CLI.
#
# Usage: build-guest.sh OUTDIR [--insitu PATH]
#   OUTDIR/vmlinux, OUTDIR/initramfs.cpio, OUTDIR/kernel-version are the results;
#   OUTDIR/cache keeps the kernel package and its extracted vmlinux between runs.
#   INSITU_GUEST_KERNEL=linux-image-6.1.0-N-amd64 picks a kernel package by name.
# Exit 77: the kernel package cannot be had (no apt, no mirror) — the caller skips.
set -euo pipefail

here=$(dirname "$(readlink -f "$0")")
die()  { echo "build-guest: $*" >&2; exit 1; }
skip() { echo "build-guest: skipped: $*" >&2; exit 77; }

[ $# -ge 1 ] || die "usage: build-guest.sh OUTDIR [--insitu PATH]"
out=$1; shift
insitu_cli=
while [ $# -gt 0 ]; do
	case $1 in
	--insitu) insitu_cli=${2:?--insitu needs a path}; shift 2 ;;
	*) die "unknown argument $1" ;;
	esac
done
[ -z "$insitu_cli" ] || [ -x "$insitu_cli" ] || die "$insitu_cli: not an executable"

for tool in busybox cpio modinfo nvme fio; do
	command -v "$tool" >/dev/null || die "$tool is missing (toolchain/install-deps.sh installs it)"
done
busybox_bin=$(command -v busybox)
if ldd "$busybox_bin" >/dev/null 2>&1; then
	die "$busybox_bin is linked dynamically (install busybox-static)"
fi

mkdir -p "$out/cache"
out=$(readlink -f "$out")
cache=$out/cache

# ---- the kernel: which package, fetched once ----------------------------------------------

# The package the linux-image-amd64 metapackage points at, when it is a 6.1 kernel (the one
# the modules and ENVIRONMENT.md were checked with); else the newest 6.1 one apt knows.
pick_kernel_package() {
	local dep
	dep=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-6\.1\.[0-9.-]*-amd64\)$/\1/p' | head -n 1)
	if [ -n "$dep" ]; then
		echo "$dep"
		return
	fi
	apt-cache pkgnames linux-image-6.1 2>/dev/null |
		grep -E '^linux-image-6\.1\.[0-9.]+-[0-9]+-amd64$' | sort -V | tail -n 1
}

pkg=${INSITU_GUEST_KERNEL:-}
if [ -z "$pkg" ] && command -v apt-cache >/dev/null; then
	pkg=$(pick_kernel_package)
fi
if [ -z "$pkg" ]; then
	# No apt answer: an earlier download still serves.
	deb=$(ls -1 "$cache"/linux-image-6.1.*-amd64_*.deb 2>/dev/null | sort -V | tail -n 1 || true)
	[ -n "$deb" ] || skip "apt knows no linux-image-6.1.*-amd64 package and none is cached in $cache"
	pkg=$(basename "$deb" | cut -d_ -f1)
fi

deb=$(ls -1 "$cache/${pkg}"_*.deb 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$deb" ]; then
	command -v apt-get >/dev/null || skip "apt-get is missing; cannot fetch $pkg"
	echo "build-guest: fetching $pkg with apt-get download" >&2
	# apt warns when its sandbox user cannot write the folder; the download still works.
	if ! (cd "$cache" && apt-get download -q "$pkg") >"$cache/apt.log" 2>&1; then
		cat "$cache/apt.log" >&2
		skip "apt-get download $pkg failed (no mirror reachable?)"
	fi
	deb=$(ls -1 "$cache/${pkg}"_*.deb 2>/dev/null | sort -V | tail -n 1 || true)
	[ -n "$deb" ] || skip "apt-get download $pkg left no .deb in $cache"
fi

kdir=$cache/${pkg}.tree
if [ ! -f "$kdir/.done" ]; then
	rm -rf "$kdir"
	mkdir -p "$kdir"
	dpkg -x "$deb" "$kdir" || die "dpkg -x $deb failed"
	touch "$kdir/.done"
fi
kver=$(ls -1 "$kdir/lib/modules" | head -n 1)
[ -n "$kver" ] && [ -d "$kdir/lib/modules/$kver/kernel" ] || die "$deb holds no modules"

vmlinux=$cache/vmlinux-$kver
if [ ! -f "$vmlinux" ]; then
	"$here/bzimage-to-vmlinux.sh" "$kdir/boot/vmlinuz-$kver" "$vmlinux"
fi
ln -sf "cache/vmlinux-$kver" "$out/vmlinux"
echo "$kver" >"$out/kernel-version"

# ---- the initramfs tree -------------------------------------------------------------------

# Rebuilt only when an input changed: these scripts, the kernel, the programs and their
# libraries (by size and mtime).
inputs() {
	local p
	echo "$pkg $deb"
	for p in "$here/build-guest.sh" "$here"/guest/* "$busybox_bin" "$(command -v nvme)" "$(command -v fio)" $insitu_cli; do
		stat -L -c '%n %s %Y' "$p"
		{ ldd "$p" 2>/dev/null || true; } | awk '/=> \// { print $3 }' | xargs -r stat -L -c '%n %s %Y'
	done
}
inputs >"$out/initramfs.inputs.new"
if [ -f "$out/initramfs.cpio" ] && cmp -s "$out/initramfs.inputs.new" "$out/initramfs.inputs"; then
	rm -f "$out/initramfs.inputs.new"
	echo "build-guest: kernel $kver, initramfs up to date" >&2
	exit 0
fi

root=$out/rootfs
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,lib/modules,etc/nvme,proc,sys,dev,tmp,run}
cp "$busybox_bin" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"

# Modules: the roots we need and, depth first, what each depends on, so that the guest loads
# them with plain insmod in the order written to load.list (no depmod, no modprobe).
mods=$kdir/lib/modules/$kver/kernel
declare -A mod_path=()
while IFS= read -r ko; do
	name=$(basename "$ko" .ko)
	mod_path[${name//-/_}]=$ko
done < <(find "$mods" -name '*.ko')

declare -A mod_done=()
load_order=()
add_module() {
	local key=${1//-/_} ko dep
	[ -n "${mod_done[$key]:-}" ] && return
	mod_done[$key]=1
	ko=${mod_path[$key]:-}
	[ -n "$ko" ] || die "module $1 is not in $pkg"
	for dep in $(modinfo -F depends "$ko" | tr ',' ' '); do
		add_module "$dep"
	done
	cp "$ko" "$root/lib/modules/"
	load_order+=("$(basename "$ko" .ko)")
}
# virtio-net for user-mode networking; fw_cfg carries the scenario; the NVMe/TCP host;
# crc32c for header/data digests; nvmet for the reference target (run-guest.sh --reference).
for m in virtio_pci virtio_net qemu_fw_cfg crc32c_generic crc32c-intel \
	nvme-core nvme-fabrics nvme-tcp configfs nvmet nvmet-tcp; do
	add_module "$m"
done
printf '%s\n' "${load_order[@]}" >"$root/lib/modules/load.list"

# Programs with every shared library ldd names, at the same paths as on this machine.
copy_libs() {
	local lib
	for lib in $(ldd "$1" 2>/dev/null | awk '/=> \// { print $3 } /^\t\/.*ld-linux/ { print $1 }'); do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}
copy_prog() {
	local src=$1 dst=$2
	cp -L "$src" "$root$dst"
	copy_libs "$src"
}
copy_prog "$(command -v nvme)" /usr/sbin/nvme
copy_prog "$(command -v fio)" /usr/bin/fio
if [ -n "$insitu_cli" ]; then
	copy_prog "$insitu_cli" /usr/local/bin/insitu
fi

# A fixed host identity, so every boot connects as the same host.
echo "nqn.2014-08.org.nvmexpress:uuid:5eeded00-1a5e-4c5e-9e5e-000000000001" >"$root/etc/nvme/hostnqn"
echo "5eeded00-1a5e-4c5e-9e5e-000000000001" >"$root/etc/nvme/hostid"
echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"

cp "$here/guest/init" "$root/init"
cp "$here/guest/scenario-lib.sh" "$root/lib/scenario-lib.sh"
chmod 755 "$root/init"

(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc --owner 0:0) >"$out/initramfs.cpio.tmp"
mv "$out/initramfs.cpio.tmp" "$out/initramfs.cpio"
mv "$out/initramfs.inputs.new" "$out/initramfs.inputs"
rm -rf "$root"
echo "build-guest: kernel $kver, initramfs $(du -m "$out/initramfs.cpio" | cut -f1) MiB," \
	"${#load_order[@]} modules${insitu_cli:+, insitu CLI}" >&2
