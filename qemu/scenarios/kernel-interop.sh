# The Linux kernel's NVMe/TCP host (nvme-tcp) and nvme-cli/fio against one target.
# Environment (run-guest.sh --env):
#   TARGET_ADDR NVM_PORT DISC_PORT NQN   where the target listens and what it is called
#   EXPECT_MODEL EXPECT_SERIAL           what Identify Controller must say
#   TARGET_KIND   insitu (default) | nvmet: nvmet has no vendor telemetry log to check
#   FIO_SIZE      bytes of the verified fio region (default 4M, at most 7M); the regions
#                 after it: 8-12 MiB 1 MiB writes, DUP_OFFSET (16 MiB) duplicate data,
#                 32 MiB the insitu CLI, 40 MiB writes under digests
#   IDLE_SECONDS  idle time with the controller connected (default 8, > the 5 s KATO)
# Every step ends with one "@@ STEP ok|fail|skip" marker (scenario-lib.sh).

: "${TARGET_KIND:=insitu}" "${FIO_SIZE:=4M}" "${DUP_OFFSET:=16777216}" "${IDLE_SECONDS:=8}"
# A dead target must not hang us; a restarted one is retried every second.
CONNECT_LIMITS="--ctrl-loss-tmo=10 --reconnect-delay=1"
MIB=1048576

abort() {
	echo "@@ abort $*"
	dmesg_tail nvme
	echo "@@ end"
	exit 1
}

# find_devices: CTRL=/dev/nvmeX and NS=/dev/nvmeXnY (NSID 1) of the subsystem named NQN.
find_devices() {
	local s c n
	CTRL='' NS=''
	for s in /sys/class/nvme-subsystem/nvme-subsys*; do
		[ "$(cat "$s/subsysnqn" 2>/dev/null)" = "$NQN" ] || continue
		for c in "$s"/nvme*; do
			n=${c##*/}
			case $n in
			nvme*n[0-9]*) [ "$(cat "/sys/block/$n/nsid" 2>/dev/null)" = 1 ] && NS=/dev/$n ;;
			nvme[0-9]*) CTRL=/dev/$n ;;
			esac
		done
	done
	[ -n "$CTRL" ] && [ -n "$NS" ] && [ -e "$CTRL" ] && [ -e "$NS" ]
}

# connect NAME [nvme connect options]: connects and waits up to 20 s for both device nodes.
connect() {
	local name=$1 i=0
	shift
	run "$name" 60 nvme connect -t tcp -a "$TARGET_ADDR" -s "$NVM_PORT" -n "$NQN" \
		$CONNECT_LIMITS "$@" || { fail "$name" "nvme connect exit status $?"; return 1; }
	until find_devices; do
		[ $i -ge 200 ] && { fail "$name" "no controller/namespace device of $NQN after 20 s"; return 1; }
		usleep 100000
		i=$((i + 1))
	done
	ok "$name" "ctrl=$CTRL ns=$NS"
}

# telemetry FILE: fetches log C1h (struct insitu_vs_telemetry_hdr, 512 bytes) into FILE.
telemetry() {
	run "telemetry-$1" 20 sh -c "nvme get-log $CTRL --log-id=0xc1 --log-len=512 -b >/tmp/$1.bin" &&
		[ "$(stat -c %s "/tmp/$1.bin")" = 512 ]
}
# Byte offsets in struct insitu_vs_telemetry_hdr (proto/include/insitu/proto/nvme_cs.h).
tel() {
	case $2 in
	ver) le "/tmp/$1.bin" 0 2 ;;
	hsz) le "/tmp/$1.bin" 2 2 ;;
	host_read_bytes) le "/tmp/$1.bin" 88 8 ;;
	host_write_bytes) le "/tmp/$1.bin" 96 8 ;;
	cap_bytes) le "/tmp/$1.bin" 136 8 ;;
	phys_used) le "/tmp/$1.bin" 144 8 ;;
	logical_used) le "/tmp/$1.bin" 152 8 ;;
	unique_blocks) le "/tmp/$1.bin" 160 8 ;;
	dedup_hits) le "/tmp/$1.bin" 168 8 ;;
	zero_blocks) le "/tmp/$1.bin" 176 8 ;;
	*) echo "tel: no offset for $2" >&2; return 1 ;;
	esac
}
# delta A B FIELD: FIELD in B minus FIELD in A.
delta() { echo $(( $(tel "$2" "$3") - $(tel "$1" "$3") )); }

# fio_verify NAME [extra fio options]: the verified region, crc32c in every block: 128 KiB
# sequential writes at 0, 4 KiB random writes 64 deep at FIO_SIZE (in-capsule data on the
# kernel's side), 1 MiB writes (the MDTS, several R2T/H2CData each) at 8 MiB.
fio_verify() {
	local name=$1
	shift
	step "$name" 240 fio --filename="$NS" --ioengine=io_uring --direct=1 \
		--verify=crc32c --verify_fatal=1 --randrepeat=1 --group_reporting "$@" \
		--name=seq --rw=write --bs=128k --iodepth=8 --offset=0 --size="$FIO_SIZE" \
		--name=rand --rw=randwrite --bs=4k --iodepth=64 --offset="$FIO_SIZE" --size=1M \
		--name=big --rw=write --bs=1m --iodepth=4 --offset=8M --size=4M
}

# ---- discovery --------------------------------------------------------------------------
if run discover 30 nvme discover -t tcp -a "$TARGET_ADDR" -s "$DISC_PORT"; then
	# The entry naming our subsystem must point at the NVM port.
	entry=$(awk -v nqn="$NQN" '
		/^=====Discovery Log Entry/ { if (hit) exit; port = ""; type = ""; treq = "" }
		/^trsvcid:/ { port = $2 }
		/^subtype:/ { sub(/^subtype: */, ""); type = $0 }
		/^treq:/ { sub(/^treq: */, ""); treq = $0 }
		/^subnqn:/ && $2 == nqn { hit = 1 }
		END { if (hit) print port "|" type "|" treq }' /tmp/discover.out)
	treq=${entry##*|} entry=${entry%|*}
	if [ -z "$entry" ]; then
		fail discover "no discovery log entry with subnqn $NQN"
	elif [ "${entry%%|*}" != "$NVM_PORT" ]; then
		fail discover "entry for $NQN has trsvcid ${entry%%|*}, expected $NVM_PORT"
	elif [ "${entry#*|}" != "nvme subsystem" ]; then
		fail discover "entry for $NQN has subtype '${entry#*|}', expected 'nvme subsystem'"
	else
		ok discover "trsvcid=$NVM_PORT"
	fi
else
	fail discover "nvme discover exit status $?"
fi
# TREQ's secure channel bits must say "not specified" while the entry offers no TLS: the
# host's libnvme (1.3) turns "required" and "not required" into the connect option 'tls',
# which Linux 6.1 refuses, so nvme connect-all (and udev autoconnect) would fail.
case $treq in
"not specified" | "not specified, sq flow control disable supported") ok discover-treq ;;
*) fail discover-treq "entry for $NQN has treq '$treq'; libnvme then asks the kernel for 'tls'" ;;
esac

# ---- connect, identify, logs ----------------------------------------------------------------
connect connect || abort "connect failed"

if run id-ctrl 20 nvme id-ctrl "$CTRL"; then
	mn=$(field id-ctrl mn) sn=$(field id-ctrl sn) subnqn=$(field id-ctrl subnqn)
	if [ "$mn" != "$EXPECT_MODEL" ]; then
		fail id-ctrl "mn '$mn', expected '$EXPECT_MODEL'"
	elif [ "$sn" != "$EXPECT_SERIAL" ]; then
		fail id-ctrl "sn '$sn', expected '$EXPECT_SERIAL'"
	elif [ "$subnqn" != "$NQN" ]; then
		fail id-ctrl "subnqn '$subnqn', expected '$NQN'"
	else
		ok id-ctrl "sn=$sn"
	fi
else
	fail id-ctrl "exit status $?"
fi

if run list 20 nvme list; then
	if grep -F "$NS " /tmp/list.out | grep -qF "$EXPECT_SERIAL"; then
		ok list
	else
		fail list "no row for $NS with serial $EXPECT_SERIAL"
	fi
else
	fail list "exit status $?"
fi

if run smart-log 20 nvme smart-log "$CTRL"; then
	cw=$(field smart-log critical_warning)
	if [ "$cw" = 0 ]; then
		ok smart-log
	else
		fail smart-log "critical_warning '$cw', expected 0"
	fi
else
	fail smart-log "exit status $?"
fi

lbs=$(cat "/sys/block/${NS#/dev/}/queue/logical_block_size")
echo "# $NS: $(($(cat "/sys/block/${NS#/dev/}/size") / 2048)) MiB, $lbs-byte blocks"

# ---- data ------------------------------------------------------------------------------------
fio_verify fio-verify

# Duplicate data: 256 identical 4 KiB blocks (a repeating 4-byte pattern, no fio scrambling)
# into a region never written before, then deallocated. A block's reference count saturates
# at 254 (dedup/DESIGN.md, as dm-vdo): 256 duplicates are stored as 2 copies and 254 hits.
dup_len=$MIB dup_blocks=$((MIB / 4096)) refmax=254
dup_copies=$(((dup_blocks + refmax - 1) / refmax))
dup_hits=$((dup_blocks - dup_copies))
[ "$TARGET_KIND" = insitu ] && { telemetry tel-before || fail telemetry "get-log C1h failed or short"; }
step fio-dup 120 fio --name=dup --filename="$NS" --ioengine=io_uring --direct=1 --iodepth=8 \
	--rw=write --bs=64k --offset="$DUP_OFFSET" --size=$dup_len \
	--buffer_pattern=0x5eeded5e --scramble_buffers=0 --refill_buffers=0
[ "$TARGET_KIND" = insitu ] && { telemetry tel-dup || fail telemetry "get-log C1h failed or short"; }

slba=$((DUP_OFFSET / lbs)) nlb=$((dup_len / lbs))
if run dsm 20 nvme dsm "$NS" --namespace-id=1 --ad --slbs=$slba --blocks=$nlb; then
	ok dsm "slba=$slba nlb=$nlb"
else
	fail dsm "exit status $?"
fi

if [ "$TARGET_KIND" = insitu ]; then
	if [ -f /tmp/tel-before.bin ] && [ -f /tmp/tel-dup.bin ] && telemetry tel-dealloc; then
		ver=$(tel tel-dealloc ver) hsz=$(tel tel-dealloc hsz)
		dw=$(delta tel-before tel-dup host_write_bytes) dh=$(delta tel-before tel-dup dedup_hits)
		du=$(delta tel-before tel-dup unique_blocks) dl=$(delta tel-before tel-dup logical_used)
		fu=$(delta tel-before tel-dealloc unique_blocks) fl=$(delta tel-before tel-dealloc logical_used)
		fh=$(delta tel-dup tel-dealloc dedup_hits)
		echo "# after the write: host_write_bytes +$dw dedup_hits +$dh unique_blocks +$du logical_used +$dl"
		echo "# after the deallocation (from before the write): unique_blocks $fu logical_used $fl"
		if [ "$ver" != 1 ] || [ "$hsz" != 512 ]; then
			fail dedup-stats "log C1h header ver $ver hsz $hsz, expected 1 and 512"
		elif [ "$dw" != $dup_len ] || [ "$dl" != $dup_len ]; then
			fail dedup-stats "host_write_bytes +$dw, logical_used +$dl; expected +$dup_len each"
		elif [ "$dh" != $dup_hits ] || [ "$du" != $dup_copies ]; then
			fail dedup-stats "dedup_hits +$dh, unique_blocks +$du; expected +$dup_hits and +$dup_copies"
		elif [ "$fu" != 0 ] || [ "$fl" != 0 ] || [ "$fh" != 0 ]; then
			fail dedup-stats "deallocation left unique_blocks $fu, logical_used $fl, dedup_hits +$fh from before the write; expected 0, 0, +0"
		else
			ok dedup-stats "dedup_hits=+$dh unique_blocks=+$du then back to +0"
		fi
	else
		fail dedup-stats "get-log C1h failed"
	fi
else
	skip dedup-stats "$TARGET_KIND has no log C1h"
fi

# A deallocated range reads back as zeroes when the namespace says so (DLFEAT 001b).
if run id-ns 20 nvme id-ns "$NS"; then
	dlfeat=$(field id-ns dlfeat)
	if [ $((dlfeat & 7)) = 1 ]; then
		n=$((65536 / lbs))
		head -c 65536 /dev/zero >/tmp/zero.bin
		if run read-dealloc 20 nvme read "$NS" --start-block=$slba --block-count=$((n - 1)) \
			--data-size=65536 --data=/tmp/dealloc.bin && cmp /tmp/zero.bin /tmp/dealloc.bin; then
			ok read-dealloc
		else
			fail read-dealloc "deallocated blocks did not read back as zeroes"
		fi
	else
		skip read-dealloc "dlfeat $dlfeat: deallocated blocks need not read as zeroes"
	fi
else
	fail read-dealloc "nvme id-ns exit status $?"
fi

# ---- disconnect, reconnect with digests, the data is still there ----------------------------
if run disconnect 30 nvme disconnect -n "$NQN" && has disconnect "disconnected 1 controller"; then
	if find_devices; then
		fail disconnect "$CTRL still present"
	else
		ok disconnect
	fi
else
	fail disconnect "nvme disconnect did not disconnect 1 controller"
fi

connect reconnect-digests --hdr-digest --data-digest || abort "reconnect failed"
fio_verify fio-reverify --verify_only
# Writes too under digests (H2CData with DDGST): 4 MiB at 40 MiB.
step fio-digests 120 fio --name=digests --filename="$NS" --ioengine=io_uring --direct=1 \
	--iodepth=16 --rw=randwrite --bsrange=4k-256k --offset=40M --size=4M \
	--verify=crc32c --verify_fatal=1

# Idle longer than the keep-alive timeout: the kernel's Keep Alive commands must keep the
# controller alive (no reset, no reconnect), and it must still answer.
ka_before=$(dmesg | grep -c "${CTRL#/dev/}: \(resetting\|failed\|keep\|reconnect\|starting error recovery\)")
sleep "$IDLE_SECONDS"
state=$(cat "/sys/class/nvme/${CTRL#/dev/}/state")
ka_after=$(dmesg | grep -c "${CTRL#/dev/}: \(resetting\|failed\|keep\|reconnect\|starting error recovery\)")
if [ "$state" != live ]; then
	fail keep-alive "controller state '$state' after $IDLE_SECONDS s idle, expected live"
elif [ "$ka_after" != "$ka_before" ]; then
	fail keep-alive "the kernel logged error recovery during $IDLE_SECONDS s idle"
	dmesg_tail "${CTRL#/dev/}"
elif ! run keep-alive-smart 20 nvme smart-log "$CTRL"; then
	fail keep-alive "smart-log after $IDLE_SECONDS s idle failed"
else
	ok keep-alive "idle=${IDLE_SECONDS}s"
fi

# ---- the target restarts under a connected host ----------------------------------------------
# target_stop / target_start: the host restarts insitu-fw on the same ports and flash when it
# reads these markers; nvmet-target.sh defines its own (unlink and relink the port).
if ! command -v target_stop >/dev/null; then
	target_stop() { echo "@@ target-stop"; }
	target_start() { echo "@@ target-start"; }
fi
# recoveries: how many times the kernel has started error recovery on CTRL.
recoveries() { dmesg | grep -c "${CTRL#/dev/}: starting error recovery"; }
# wait_state STATE SECONDS: polls the controller's state.
wait_state() {
	local i=0
	until [ "$(cat "/sys/class/nvme/${CTRL#/dev/}/state" 2>/dev/null)" = "$1" ]; do
		[ $i -ge $(($2 * 10)) ] && return 1
		usleep 100000
		i=$((i + 1))
	done
}
# wait_log TEXT SECONDS: polls the kernel log for TEXT (about CTRL).
wait_log() {
	local i=0
	until dmesg | grep -q "${CTRL#/dev/}: $1"; do
		[ $i -ge $(($2 * 10)) ] && return 1
		usleep 100000
		i=$((i + 1))
	done
}

# The target goes away; once the kernel has failed a reconnect attempt it comes back, and the
# kernel's next attempt (a second later) reconnects. After that the controller must stay up:
# no second error recovery through two of the target's 1 s ticks (its keep-alive checks),
# and the data written before the restart must still verify.
rec0=$(recoveries)
target_stop
if ! wait_log "Failed reconnect attempt" 30; then
	fail target-restart "the kernel never tried to reconnect after the target stopped"
	target_start
	wait_state live 30
else
	target_start
	if ! wait_state live 30; then
		fail target-restart "controller not live 30 s after the target came back"
	else
		run target-restart-fio 120 fio --filename="$NS" --ioengine=io_uring --direct=1 \
			--verify=crc32c --verify_fatal=1 --randrepeat=1 --verify_only \
			--name=seq --rw=write --bs=128k --iodepth=8 --offset=0 --size="$FIO_SIZE"
		frc=$?
		sleep 2.5
		rec=$(($(recoveries) - rec0))
		state=$(cat "/sys/class/nvme/${CTRL#/dev/}/state")
		if [ $frc != 0 ]; then
			fail target-restart "the data written before the restart did not verify (fio exit $frc)"
		elif [ "$rec" != 1 ] || [ "$state" != live ]; then
			fail target-restart "$rec error recoveries (expected 1, the restart itself), state '$state'"
			dmesg_tail "${CTRL#/dev/}"
		else
			ok target-restart
		fi
	fi
fi

# ---- the insitu CLI through the kernel backend ------------------------------------------------
# jstr/jnum NAME KEY: a string / number member of the JSON the CLI printed in step NAME.
jstr() { sed -n "s/.*\"$2\" *: *\"\([^\"]*\)\".*/\1/p" "/tmp/$1.out" | head -n 1 | sed 's/ *$//'; }
jnum() { sed -n "s/.*\"$2\" *: *\([0-9][0-9]*\).*/\1/p" "/tmp/$1.out" | head -n 1; }

if [ "$TARGET_KIND" != insitu ]; then
	skip insitu-cli "the insitu CLI needs insitu-fw"
elif ! command -v insitu >/dev/null; then
	skip insitu-cli "not built into this guest"
else
	if run insitu-id-ctrl 20 insitu id-ctrl "$CTRL" -o json; then
		mn=$(jstr insitu-id-ctrl mn) sn=$(jstr insitu-id-ctrl sn) subnqn=$(jstr insitu-id-ctrl subnqn)
		if [ "$mn" = "$EXPECT_MODEL" ] && [ "$sn" = "$EXPECT_SERIAL" ] && [ "$subnqn" = "$NQN" ]; then
			ok insitu-id-ctrl "sn=$sn"
		else
			fail insitu-id-ctrl "mn '$mn' sn '$sn' subnqn '$subnqn', expected '$EXPECT_MODEL' '$EXPECT_SERIAL' '$NQN'"
		fi
	else
		fail insitu-id-ctrl "exit status $?"
	fi

	# The CLI's decoding of log C1h must agree with ours of nvme-cli's raw bytes, taken with
	# no I/O in between.
	if telemetry tel-cli && run insitu-stats 20 insitu stats "$CTRL" -o json; then
		bad=
		for k in cap_bytes logical_used unique_blocks dedup_hits zero_blocks host_write_bytes; do
			a=$(tel tel-cli $k) b=$(jnum insitu-stats $k)
			[ "$a" = "$b" ] || bad="$bad $k: log $a, CLI '$b';"
		done
		if [ -z "$bad" ]; then
			ok insitu-stats "unique_blocks=$(tel tel-cli unique_blocks)"
		else
			fail insitu-stats "$bad"
		fi
	else
		fail insitu-stats "nvme get-log C1h or insitu stats failed"
	fi

	# 64 KiB of random bytes written by the CLI at 32 MiB, read back by the CLI and by nvme-cli.
	lba=$((33554432 / lbs)) n=$((65536 / lbs))
	head -c 65536 /dev/urandom >/tmp/cli.in
	if run insitu-write 30 insitu write "$NS" --lba $lba -I /tmp/cli.in &&
		run insitu-read 30 insitu read "$NS" --lba $lba --count $n -O /tmp/cli.out &&
		run insitu-nvme-read 30 nvme read "$NS" --start-block=$lba --block-count=$((n - 1)) \
			--data-size=65536 --data=/tmp/cli.nvme; then
		if ! cmp /tmp/cli.in /tmp/cli.out; then
			fail insitu-write-read "insitu read returned other bytes than insitu write wrote"
		elif ! cmp /tmp/cli.in /tmp/cli.nvme; then
			fail insitu-write-read "nvme read returned other bytes than insitu write wrote"
		else
			ok insitu-write-read "lba=$lba blocks=$n"
		fi
	else
		fail insitu-write-read "a command failed (see above)"
	fi
fi

step disconnect-final 30 nvme disconnect -n "$NQN"
dmesg_tail nvme
echo "@@ end"
