#!/usr/bin/env bash
# Extracts the uncompressed kernel ELF from an x86 bzImage: QEMU's TCG boots it through its
# PVH entry point in about a third of the time the bzImage's own decompressor needs.
# Usage: bzimage-to-vmlinux.sh BZIMAGE OUT
#
# The boot protocol header says where the compressed payload sits (payload_offset and
# payload_length, from the start of the protected-mode code); the payload's last 4 bytes
# are the decompressed size, which we check against what the decompressor produced.
set -euo pipefail

die() { echo "bzimage-to-vmlinux: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: bzimage-to-vmlinux.sh BZIMAGE OUT"
in=$1 out=$2
[ -r "$in" ] || die "$in: cannot read"

u8()  { od -An -v -t u1 -j "$1" -N 1 "$in" | tr -d ' '; }
le32() {
	local b
	read -ra b < <(od -An -v -t u1 -j "$1" -N 4 "$in")
	[ ${#b[@]} -eq 4 ] || die "$in: truncated at offset $1"
	echo $(( b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24 ))
}

size=$(stat -c %s "$in")
[ "$size" -gt 1024 ] || die "$in: too small for a bzImage ($size bytes)"
[ "$(od -An -c -j 0x202 -N 4 "$in" | tr -d ' ')" = HdrS ] ||
	die "$in: no 'HdrS' boot protocol header at 0x202; not a bzImage"

setup_sects=$(u8 0x1f1)
[ "$setup_sects" -eq 0 ] && setup_sects=4       # boot protocol: 0 means 4
payload_offset=$(le32 0x248)
payload_length=$(le32 0x24c)
start=$(( (setup_sects + 1) * 512 + payload_offset ))
[ "$payload_length" -gt 4 ] && [ $(( start + payload_length )) -le "$size" ] ||
	die "$in: payload (offset $start, length $payload_length) lies outside the file ($size bytes)"
expect=$(le32 $(( start + payload_length - 4 )))

magic=$(od -An -v -t x1 -j "$start" -N 6 "$in" | tr -d ' ')
case $magic in
1f8b*)         decomp=(gzip -dc) ;;
fd377a585a00)  decomp=(xz -dc --single-stream) ;;
28b52ffd*)     decomp=(zstd -dcq) ;;
5d00*)         decomp=(xz -dc --format=lzma) ;;
425a68*)       decomp=(bzip2 -dc) ;;
*)             die "$in: payload compression with magic $magic is not handled" ;;
esac
command -v "${decomp[0]}" >/dev/null || die "${decomp[0]} is needed to decompress $in"

tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
dd if="$in" bs=64K iflag=skip_bytes,count_bytes skip="$start" count=$(( payload_length - 4 )) \
	status=none | "${decomp[@]}" >"$tmp" ||
	die "$in: ${decomp[0]} failed on the payload"
got=$(stat -c %s "$tmp")
[ "$got" -eq "$expect" ] || die "$in: payload decompressed to $got bytes, header says $expect"
[ "$(od -An -c -N 4 "$tmp" | tr -d ' ')" = 177ELF ] || die "$in: payload is not an ELF image"
mv "$tmp" "$out"
trap - EXIT
