#!/usr/bin/env bash
# The Linux kernel judges insitu-fw's NVMe/TCP: a real insitu-fw on this machine's loopback,
# a QEMU guest whose nvme-tcp driver, nvme-cli and fio run qemu/scenarios/kernel-interop.sh
# against it, and every step's "@@ STEP ok|fail|skip" marker checked here.
#
# Usage: kernel_interop.sh --source DIR --guest-dir DIR (--fw PATH | --reference) [--cli PATH]
#   --reference   no insitu-fw: the guest's own nvmet target on 127.0.0.1 (checks the scenario)
#   --cli PATH    the insitu CLI, built into the guest and driven through /dev/nvmeX
# Exit 0 all steps as expected, 1 a step failed (with the guest's log of it), 77 skipped.
set -euo pipefail

source_dir='' guest_dir='' fw='' cli='' reference=0
while [ $# -gt 0 ]; do
	case $1 in
	--source)    source_dir=$2; shift 2 ;;
	--guest-dir) guest_dir=$2; shift 2 ;;
	--fw)        fw=$2; shift 2 ;;
	--cli)       cli=$2; shift 2 ;;
	--reference) reference=1; shift ;;
	*) echo "kernel_interop: unknown argument $1" >&2; exit 2 ;;
	esac
done
[ -n "$source_dir" ] && [ -n "$guest_dir" ] || { echo "kernel_interop: --source and --guest-dir are required" >&2; exit 2; }

skip() { echo "SKIPPED: $*"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is missing (toolchain/install-deps.sh installs qemu-system-x86)"
if [ $reference = 0 ]; then
	[ -n "$fw" ] && [ -x "$fw" ] || skip "insitu-fw is not part of this build"
fi
[ -z "$cli" ] || [ -x "$cli" ] || cli=

qemu=$source_dir/qemu
t0=$(date +%s.%N)
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# Several ctest runs share the guest folder: one build at a time.
mkdir -p "$guest_dir"
exec 9>"$guest_dir/.lock"
flock 9
rc=0
"$qemu/build-guest.sh" "$guest_dir" ${cli:+--insitu "$cli"} || rc=$?
[ $rc = 77 ] && skip "the guest kernel cannot be had (see above)"
[ $rc = 0 ] || { echo "FAIL: build-guest.sh exit status $rc"; exit 1; }
flock -u 9

work=$(mktemp -d)
fw_pid=
cleanup() {
	if [ -n "$fw_pid" ] && kill -0 "$fw_pid" 2>/dev/null; then
		kill -KILL "$fw_pid" 2>/dev/null || true
		wait "$fw_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

nqn=nqn.2026-11.dev.insitu:csd
serial=QEMUJUDGE1
model="insitu computational storage"
envs=()
scenarios=()
host_fails=()

# start_fw N EXTRA...: runs insitu-fw (instance N) and waits, bounded, for its ready line.
start_fw() {
	local n=$1
	shift
	"$fw" --flash "$work/flash.img" --listen 127.0.0.1 --nqn "$nqn" --serial "$serial" "$@" \
		>"$work/fw$n.out" 2>>"$work/fw.err" &
	fw_pid=$!
	ready=
	for _ in $(seq 300); do
		ready=$(grep -m1 '^ready ' "$work/fw$n.out" || true)
		[ -n "$ready" ] && return 0
		kill -0 "$fw_pid" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}
# stop_fw: SIGTERM, then at most 30 s for a clean exit; fw_status = the exit status, "died"
# (it had already gone) or "hung".
stop_fw() {
	fw_status=0
	if ! kill -TERM "$fw_pid" 2>/dev/null; then
		wait "$fw_pid" || true
		fw_pid='' fw_status=died
		return
	fi
	for _ in $(seq 300); do kill -0 "$fw_pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$fw_pid" 2>/dev/null; then
		fw_status=hung
		return
	fi
	wait "$fw_pid" || fw_status=$?
	fw_pid=
}

if [ $reference = 1 ]; then
	scenarios+=(--scenario "$qemu/scenarios/nvmet-target.sh")
else
	if ! start_fw 1 --flash-size 256M --format --port 0 --discovery-port 0; then
		echo "FAIL: insitu-fw printed no ready line within 30 s"
		echo "--- insitu-fw stderr"; tail -n 40 "$work/fw.err"
		exit 1
	fi
	echo "insitu-fw: $ready"
	nvm=$(sed -n 's/.* nvm=\([^ ]*\).*/\1/p' <<<"$ready")
	disc=$(sed -n 's/.* discovery=\([^ ]*\).*/\1/p' <<<"$ready")
	[ -n "$nvm" ] && [ -n "$disc" ] || { echo "FAIL: malformed ready line '$ready'"; exit 1; }
	envs+=(--env TARGET_KIND=insitu --env TARGET_ADDR=10.0.2.2
		--env NVM_PORT="${nvm##*:}" --env DISC_PORT="${disc##*:}"
		--env NQN="$nqn" --env EXPECT_MODEL="$model" --env EXPECT_SERIAL="$serial")
fi
scenarios+=(--scenario "$qemu/scenarios/kernel-interop.sh")

log=$work/guest.log
: >"$log"
t_guest=$(date +%s.%N)
qrc=0
"$qemu/run-guest.sh" "$guest_dir" "${scenarios[@]}" "${envs[@]}" --timeout 400 --log "$log" &
qemu_pid=$!
# The scenario asks for the target's restart with "@@ target-stop" / "@@ target-start": stop
# insitu-fw at once, and start it again (same flash and ports, no format) when asked.
if [ $reference = 0 ]; then
	stage=stop
	while kill -0 "$qemu_pid" 2>/dev/null && [ $stage != restarted ]; do
		if [ $stage = stop ] && grep -qa '^@@ target-stop' "$log"; then
			stop_fw
			[ "$fw_status" = 0 ] || host_fails+=("fw-restart: the first insitu-fw ended '$fw_status' on SIGTERM, expected exit 0")
			stage=start
		elif [ $stage = start ] && grep -qa '^@@ target-start' "$log"; then
			if start_fw 2 --port "${nvm##*:}" --discovery-port "${disc##*:}"; then
				[ "$ready" = "ready nvm=$nvm discovery=$disc" ] ||
					host_fails+=("fw-restart: the restarted insitu-fw says '$ready'")
			else
				host_fails+=("fw-restart: the restarted insitu-fw printed no ready line")
			fi
			stage=restarted
		else
			sleep 0.05
		fi
	done
fi
wait "$qemu_pid" || qrc=$?
guest_time=$(elapsed "$t_guest")
tr -d '\r' <"$log" >"$log.txt"

failed=0
for f in "${host_fails[@]}"; do
	echo "FAIL $f"
	failed=1
done
# The fw must still be alive and stop cleanly on SIGTERM (DESIGN.md §7: exit 0).
if [ -n "$fw_pid" ]; then
	stop_fw
	case $fw_status in
	0) echo "ok   fw-shutdown" ;;
	died) echo "FAIL fw-alive: insitu-fw died during the run"; failed=1 ;;
	hung) echo "FAIL fw-shutdown: insitu-fw still running 30 s after SIGTERM"; failed=1 ;;
	*) echo "FAIL fw-shutdown: exit status $fw_status after SIGTERM"; failed=1 ;;
	esac
elif [ $reference = 0 ]; then
	echo "FAIL fw-alive: no insitu-fw running at the end (the restart did not happen)"
	failed=1
fi
# Every disconnect in the scenario is orderly and the host keeps its controllers alive: a
# keep-alive expiry on the device's side is a fault.
if [ $reference = 0 ] && grep -q 'keep-alive timeout' "$work/fw.err"; then
	echo "FAIL fw-keep-alive: insitu-fw expired a controller the host kept alive:"
	grep -m3 'keep-alive timeout' "$work/fw.err" | sed 's/^/    /'
	failed=1
fi

# Each step of the scenario, in order, and what it may end as.
steps=(discover discover-treq connect id-ctrl list smart-log fio-verify fio-dup dsm dedup-stats
	read-dealloc disconnect reconnect-digests fio-reverify fio-digests keep-alive target-restart)
declare -A may_skip=([read-dealloc]=1)
if [ $reference = 1 ]; then
	steps=(nvmet-setup "${steps[@]}")
	may_skip[dedup-stats]=1
	steps+=(insitu-cli)
	may_skip[insitu-cli]=1
elif [ -n "$cli" ]; then
	steps+=(insitu-id-ctrl insitu-stats insitu-write-read)
else
	steps+=(insitu-cli)
	may_skip[insitu-cli]=1
fi
steps+=(disconnect-final)

marker() { grep -m1 -E "^@@ $1 (ok|fail|skip)( |$)" "$log.txt" || true; }
excerpt() {
	# The step's command and output: from its "# NAME:" line to its marker.
	awk -v s="$1" '$0 ~ "^# " s ": " { on = 1 } on { print "    " $0 } $0 ~ "^@@ " s " " { if (on) exit }' "$log.txt" | tail -n 40
}

missing=()
boot=$(sed -n 's/^@@ boot ok uptime=\([0-9.]*\).*/\1/p' "$log.txt")
[ -n "$boot" ] || { echo "FAIL boot: no '@@ boot ok' marker"; failed=1; }
grep '^@@ boot fail' "$log.txt" && failed=1
for s in "${steps[@]}"; do
	m=$(marker "$s")
	result=$(awk '{ print $3 }' <<<"$m")
	detail=$(cut -d' ' -f4- <<<"$m")
	case $result in
	ok) echo "ok   $s${detail:+  ($detail)}" ;;
	skip)
		if [ -n "${may_skip[$s]:-}" ]; then
			echo "skip $s: $detail"
		else
			echo "FAIL $s: skipped ($detail) where it must run"; failed=1
		fi ;;
	fail) echo "FAIL $s: $detail"; excerpt "$s"; failed=1 ;;
	*) missing+=("$s"); failed=1 ;;
	esac
done
[ ${#missing[@]} -eq 0 ] || echo "FAIL not reached (the scenario stopped before them): ${missing[*]}"
# A fail marker of any other name (a helper step) fails the run too.
while read -r _ name _ detail; do
	if ! printf '%s\n' "${steps[@]}" | grep -qx -- "$name"; then
		echo "FAIL $name: $detail"
		failed=1
	fi
done < <(grep -E '^@@ [^ ]+ fail' "$log.txt" || true)
grep '^@@ abort' "$log.txt" && failed=1
if ! grep -q '^@@ end$' "$log.txt"; then
	echo "FAIL: the scenario did not reach its end (run-guest.sh exit status $qrc)"
	failed=1
fi

echo "timing: guest boot to init ${boot:-?} s (guest clock), guest run $guest_time s, whole test $(elapsed "$t0") s"
if [ $failed = 1 ]; then
	echo "--- kernel log (nvme) at the end of the scenario"
	grep '^| dmesg: ' "$log.txt" | tail -n 40
	if [ -f "$work/fw.err" ]; then
		echo "--- insitu-fw stderr (last 40 lines)"
		tail -n 40 "$work/fw.err"
	fi
	echo "--- guest console (last 30 lines)"
	tail -n 30 "$log.txt"
	if [ -n "${INSITU_QEMU_KEEP_LOG:-}" ]; then
		cp "$log.txt" "$INSITU_QEMU_KEEP_LOG"
		echo "(whole console in $INSITU_QEMU_KEEP_LOG)"
	fi
	exit 1
fi
[ -z "$cli" ] && [ $reference = 0 ] && echo "note: the insitu CLI part was skipped: the CLI is not part of this build"
exit 0
