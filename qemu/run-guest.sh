#!/usr/bin/env bash
# Boots the judge guest (build-guest.sh's vmlinux + initramfs) under QEMU's TCG with
# user-mode networking, runs one scenario inside it and powers off; a hard time limit ends
# a hung guest. The guest reaches this machine's 127.0.0.1:PORT as 10.0.2.2:PORT.
#
# Usage: run-guest.sh GUESTDIR [options]
#   --scenario FILE     shell script run in the guest after boot (with /lib/scenario-lib.sh);
#                       repeatable: the files run as one script, in order
#   --env NAME=VALUE    exported to the scenario (repeatable)
#   --log FILE          the serial console goes to FILE instead of stdout
#   --timeout SECONDS   hard limit for the whole boot (default 300); exit 124 when hit
#   --shell             interactive: console on this terminal, a shell after the scenario
#   --smp N, --mem MiB  guest CPUs (default 2) and memory (default 1024)
# Exit status: 0 when the guest powered off by itself, 124 on the time limit, else QEMU's.
set -euo pipefail

die() { echo "run-guest: $*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: run-guest.sh GUESTDIR [--scenario FILE] [--env N=V]... [--log FILE]"
guest=$1; shift
scenarios=() log='' limit=300 shell=0 smp=2 mem=1024
envs=()
while [ $# -gt 0 ]; do
	case $1 in
	--scenario) [ -r "${2:?}" ] || die "$2: cannot read"
	            scenarios+=("$2"); shift 2 ;;
	--env)      [[ ${2:-} == [A-Za-z_]*=* ]] || die "--env wants NAME=VALUE, got '${2:-}'"
	            envs+=("$2"); shift 2 ;;
	--log)      log=${2:?}; shift 2 ;;
	--timeout)  limit=${2:?}; shift 2 ;;
	--shell)    shell=1; shift ;;
	--smp)      smp=${2:?}; shift 2 ;;
	--mem)      mem=${2:?}; shift 2 ;;
	*) die "unknown argument $1" ;;
	esac
done

command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 is missing (apt-get install qemu-system-x86)"
for f in vmlinux initramfs.cpio; do
	[ -r "$guest/$f" ] || die "$guest/$f is missing: run build-guest.sh $guest first"
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

args=(-M q35 -accel tcg -cpu max -smp "$smp" -m "$mem"
	-nodefaults -no-user-config -display none -no-reboot
	-kernel "$guest/vmlinux" -initrd "$guest/initramfs.cpio"
	-nic user,model=virtio-net-pci)
append="console=ttyS0 quiet panic=-1"

if [ ${#scenarios[@]} -gt 0 ]; then
	{
		echo ". /lib/scenario-lib.sh"
		for kv in "${envs[@]}"; do
			# Single quotes keep the value literal in the guest's shell.
			printf "export %s='%s'\n" "${kv%%=*}" "$(printf %s "${kv#*=}" | sed "s/'/'\\\\''/g")"
		done
		cat "${scenarios[@]}"
	} >"$tmp/scenario.sh"
	args+=(-fw_cfg "name=opt/dev.insitu/scenario,file=$tmp/scenario.sh")
fi

if [ $shell = 1 ]; then
	append+=" insitu.shell=1"
	args+=(-serial mon:stdio)
	limit=86400
else
	args+=(-serial stdio -monitor none)
	if [ -n "$log" ]; then
		exec 3>"$log"
	else
		exec 3>&1
	fi
fi

rc=0
if [ $shell = 1 ]; then
	timeout --foreground --kill-after=5 "$limit" \
		qemu-system-x86_64 "${args[@]}" -append "$append" || rc=$?
else
	timeout --kill-after=5 "$limit" \
		qemu-system-x86_64 "${args[@]}" -append "$append" </dev/null >&3 || rc=$?
fi
exec 3>&-
[ $rc -eq 124 ] && echo "run-guest: the guest did not power off within $limit s" >&2
exit $rc
