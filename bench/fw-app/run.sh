#!/usr/bin/env bash
# insitu-fw over NVMe/TCP on loopback, through libinsitu's userspace initiator: 128 KiB
# sequential read/write throughput and 4 KiB random read/write IOPS at QD32, with dedup on
# and with --no-dedup (LBAs 1:1 on the flash), beside raw TCP loopback measured by iperf3
# in the same run. Prints every figure and the ratios. Builds nothing.
#
#   bench/fw-app/run.sh BUILD_DIR [FLASH_DIR]
#
# BUILD_DIR holds fw-app/tcp/insitu-fw and bench/fw-app/bench_fw (a Release or
# RelWithDebInfo build, not the sanitizers). FLASH_DIR (default /dev/shm) holds the two
# 2 GiB flash files: sparse, but written with zeros first on tmpfs (see start_fw).
# Environment: SECS per timed run (default 2), REPS rounds (default 3), QD_SEQ for the
# 128 KiB workloads (default 8; the 4 KiB ones run at 32), KEEP=1 keeps the raw lines.
#
# Both daemons run at once and every round measures iperf3, then each workload on one
# daemon and at once on the other, so a neighbour's load on the shared cores falls on both
# sides of a ratio alike; the table gives each figure's median over the rounds.
set -euo pipefail
build=$(readlink -f "${1:?usage: run.sh BUILD_DIR [FLASH_DIR]}")
flashdir=${2:-/dev/shm}
secs=${SECS:-2}
reps=${REPS:-3}
qd_seq=${QD_SEQ:-8}
fw=$build/fw-app/tcp/insitu-fw
bench=$build/bench/fw-app/bench_fw
for t in iperf3 python3 "$fw" "$bench"; do
	command -v "$t" >/dev/null || {
		echo "missing: $t (build first; toolchain/install-deps.sh for iperf3)" >&2
		exit 1
	}
done
if grep -q -- '-fsanitize' "$build/CMakeCache.txt" 2>/dev/null; then
	echo "$build is a sanitizer build: its figures would say nothing" >&2
	exit 1
fi

work=$(mktemp -d "$flashdir/insitu-fw-bench-XXXXXX")
results=$work/results.txt
started=()	# pids of what this script started and has not stopped yet
cleanup() {
	for p in "${started[@]}"; do
		kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
	done
	if [ "${KEEP:-0}" = 1 ]; then
		rm -f "$work"/*.img
		echo "raw lines kept in $results" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
forget() {
	local p keep=()
	for p in "${started[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	started=("${keep[@]}")
}
fail() { echo "run.sh: $*" >&2; exit 1; }

# The regions (4 KiB blocks): reads over a 512 MiB range written first (a dedup volume
# answers never-written blocks with zeros without touching the flash), writes over the next
# 512 MiB, wrapping (so the dedup volume also overwrites and frees, as it would in service).
read_blocks=131072
write_lba=$read_blocks
write_blocks=131072
flash_size=2G

# ---- raw TCP: iperf3, one stream, the first second omitted ----------------------------
iperf_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
iperf3 -s -B 127.0.0.1 -p "$iperf_port" >"$work/iperf-server.log" 2>&1 &
iperf_pid=$!
started+=("$iperf_pid")
for ((i = 0; i < 200; i++)); do
	grep -q 'Server listening' "$work/iperf-server.log" && break
	kill -0 "$iperf_pid" 2>/dev/null || fail "iperf3 server: $(cat "$work/iperf-server.log")"
	sleep 0.05
done
iperf_run() {
	iperf3 -c 127.0.0.1 -p "$iperf_port" -t "$secs" -O 1 -J >"$work/iperf.json" ||
		fail "iperf3 client: $(cat "$work/iperf.json")"
	local mbps
	mbps=$(python3 -c 'import json, sys; print("%.1f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 8e6))' "$work/iperf.json")
	echo "tcp iperf3 MBps=$mbps" >>"$results"
	echo "  raw TCP (iperf3): $mbps MB/s" >&2
}

# ---- insitu-fw, each way ------------------------------------------------------------
declare -A fw_pid fw_uri fw_out
start_fw() {
	local mode=$1 line extra=()
	[ "$mode" = off ] && extra=(--no-dedup)
	# On tmpfs in a VM, the first write to a page the guest has not used (or gave back
	# through free page reporting) costs a hypervisor fault, about 9 us per 4 KiB here:
	# the dedup volume, which always writes new blocks, would pay it throughout and the 1:1
	# mapping, rewriting the same blocks, only once. A flash of zeros (still "never
	# written" to insitu-fw) has its pages backed from the start, as a device's NAND is.
	if [ "$(stat -f -c %T "$flashdir")" = tmpfs ]; then
		dd if=/dev/zero of="$work/flash-$mode.img" bs=1M count=$((${flash_size%G} * 1024)) \
			status=none
	fi
	mkfifo "$work/ready-$mode"
	"$fw" --flash "$work/flash-$mode.img" --flash-size "$flash_size" --port 0 \
		--discovery-port none -q "${extra[@]}" >"$work/ready-$mode" 2>"$work/fw-$mode.log" &
	fw_pid[$mode]=$!
	started+=("${fw_pid[$mode]}")
	exec {fd}<"$work/ready-$mode"
	fw_out[$mode]=$fd
	read -r -t 60 -u "$fd" line ||
		fail "insitu-fw ($mode) printed no ready line: $(cat "$work/fw-$mode.log")"
	[[ $line =~ ^ready\ nvm=127\.0\.0\.1:([0-9]+)\  ]] || fail "unexpected ready line: $line"
	fw_uri[$mode]=nvme+tcp://127.0.0.1:${BASH_REMATCH[1]}
}
stop_fw() {
	local mode=$1 rc=0
	kill -TERM "${fw_pid[$mode]}"
	wait "${fw_pid[$mode]}" || rc=$?
	forget "${fw_pid[$mode]}"
	exec {fw_out[$mode]}<&-
	[ "$rc" = 0 ] || fail "insitu-fw ($mode) exited $rc: $(cat "$work/fw-$mode.log")"
	rm -f "$work/flash-$mode.img"
}

run() {	# label bench_fw-arguments...: once on each daemon
	local label=$1 mode out
	shift
	for mode in on off; do
		out=$("$bench" "${fw_uri[$mode]}" "$@" --watch-pid "${fw_pid[$mode]}") ||
			fail "bench_fw $* ($mode) failed; insitu-fw said: $(cat "$work/fw-$mode.log")"
		echo "$mode $label $out" >>"$results"
		echo "  $mode $label: $out" >&2
	done
}

echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')), load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
start_fw on
start_fw off
run fill seqwrite --bs 128K --qd "$qd_seq" --blocks "$read_blocks" --secs 0 --ops $((read_blocks / 32))
for ((rep = 0; rep < reps; rep++)); do
	iperf_run
	run seqread seqread --bs 128K --qd "$qd_seq" --blocks "$read_blocks" --secs "$secs"
	run randread randread --bs 4K --qd 32 --blocks "$read_blocks" --secs "$secs"
	run seqwrite seqwrite --bs 128K --qd "$qd_seq" --lba "$write_lba" --blocks "$write_blocks" --secs "$secs" --warmup 0.5
	run randwrite randwrite --bs 4K --qd 32 --lba "$write_lba" --blocks "$write_blocks" --secs "$secs" --warmup 0.5
	run dupwrite dupwrite --bs 4K --qd 32 --lba "$write_lba" --blocks "$write_blocks" --secs "$secs" --warmup 0.5
done
stop_fw on
stop_fw off
kill -TERM "$iperf_pid"
wait "$iperf_pid" 2>/dev/null || true
forget "$iperf_pid"

python3 - "$results" "$flashdir" "$(nproc)" "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)" "$secs" "$reps" <<'EOF'
import statistics, sys
path, flashdir, ncpu, load0, load1, secs, reps = sys.argv[1:8]
runs = {}
for line in open(path):
    mode, label, *kv = line.split()
    d = {k: float(v) for k, v in (x.split("=") for x in kv) if k != "workload"}
    runs.setdefault((mode, label), []).append(d)
med = lambda mode, label, key: statistics.median(x[key] for x in runs[(mode, label)])
span = lambda mode, label, key: (min(x[key] for x in runs[(mode, label)]), max(x[key] for x in runs[(mode, label)]))
tcp = med("tcp", "iperf3", "MBps")
lo, hi = span("tcp", "iperf3", "MBps")

rows = [("fill", "128K seq write, first pass", "MBps"),
        ("seqread", "128K seq read", "MBps"),
        ("seqwrite", "128K seq write (overwrite)", "MBps"),
        ("randread", "4K rand read QD32", "iops"),
        ("randwrite", "4K rand write QD32, unique", "iops"),
        ("dupwrite", "4K rand write QD32, duplicate", "iops")]
print(f"insitu-fw over NVMe/TCP on loopback (libinsitu userspace initiator, one queue), flash: file in {flashdir}")
print(f"{ncpu} cores shared by the client, insitu-fw and iperf3; load average {load0} before, {load1} after")
print(f"medians of {reps} rounds of {secs} s (the first pass: once); 128K at QD{int(med('on', 'seqread', 'qd'))}, 4K at QD32")
print(f"raw TCP loopback, iperf3 one stream: {tcp:.0f} MB/s (rounds {lo:.0f}..{hi:.0f})")
print()
print(f"{'workload':31s} {'dedup on':>12s} {'dedup off':>12s} {'on/off':>7s} {'on/TCP':>7s} {'off/TCP':>8s}   {'p99 us on/off':>15s}")
for key, name, unit in rows:
    on = {k: med("on", key, k) for k in runs[("on", key)][0]}
    off = {k: med("off", key, k) for k in runs[("off", key)][0]}
    fmt = (lambda x: f"{x[unit]:7.0f} MB/s") if unit == "MBps" else (lambda x: f"{x[unit]:8.0f}/s")
    tcps = f"{on['MBps'] / tcp:7.2f} {off['MBps'] / tcp:8.2f}" if unit == "MBps" else f"{'-':>7s} {'-':>8s}"
    print(f"{name:31s} {fmt(on):>12s} {fmt(off):>12s} {on[unit] / off[unit]:7.2f} {tcps}   {on['lat_p99_us']:7.0f}/{off['lat_p99_us']:<7.0f}")
print()
print("CPU (cores busy during the timed part) and insitu-fw CPU per request, medians:")
print(f"{'workload':31s} {'fw on':>6s} {'fw off':>6s} {'client on':>9s} {'client off':>10s} {'fw us/req on':>12s} {'off':>6s}")
for key, name, unit in rows:
    per = lambda mode: statistics.median(x["cpu_fw"] / x["iops"] * 1e6 for x in runs[(mode, key)])
    print(f"{name:31s} {med('on', key, 'cpu_fw'):6.2f} {med('off', key, 'cpu_fw'):6.2f} "
          f"{med('on', key, 'cpu_client'):9.2f} {med('off', key, 'cpu_client'):10.2f} {per('on'):12.1f} {per('off'):6.1f}")
print()
print("ranges over the rounds (min..max):")
for key, name, unit in rows[1:]:
    a, b = span("on", key, unit)
    c, d = span("off", key, unit)
    print(f"  {name:31s} on {a:9.0f}..{b:<9.0f} off {c:9.0f}..{d:<9.0f} ({unit})")
hits = sum(x["dedup_hits"] for x in runs[("on", "randwrite")])
dhits = sum(x["dedup_hits"] for x in runs[("on", "dupwrite")])
dops = sum(x["ops"] for x in runs[("on", "dupwrite")])
print(f"dedup check: unique writes met {int(hits)} duplicates; duplicate writes: {int(dhits)} hits "
      f"in {int(dops)} timed writes")
sr = med("on", "seqread", "MBps") / tcp
uw = med("on", "randwrite", "iops") / med("off", "randwrite", "iops")
print(f"targets: 128K read dedup on / raw TCP = {sr:.2f} (target >= 0.60: {'met' if sr >= 0.6 else 'missed'}); "
      f"unique 4K write dedup on/off = {uw:.2f} (target >= 0.80: {'met' if uw >= 0.8 else 'missed'})")
EOF
