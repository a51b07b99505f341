#!/usr/bin/env bash
# insitu-fw over NVMe/TCP on loopback, through libinsitu's userspace initiator: 128 KiB
# sequential read/write throughput and 4 KiB random read/write IOPS at QD32, with dedup on
# and with --no-dedup (LBAs 1:1 on the flash), beside raw TCP loopback measured by iperf3
# in the same run. Prints every figure and the ratios. Builds nothing.
#
#   bench/fw-app/run.sh BUILD_DIR [FLASH_DIR]
#
# BUILD_DIR holds fw-app/tcp/insitu-fw and bench/fw-app/bench_fw (a Release or
# RelWithDebInfo build, not the sanitizers). FLASH_DIR (default $TMPDIR or /tmp) holds the
# sparse flash files. Environment: SECS per timed workload (default 5), QD_SEQ for the
# 128 KiB workloads (default 8; the 4 KiB ones run at 32), KEEP=1 keeps the raw lines.
set -euo pipefail
build=$(readlink -f "${1:?usage: run.sh BUILD_DIR [FLASH_DIR]}")
flashdir=${2:-${TMPDIR:-/tmp}}
secs=${SECS:-5}
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
forget() { local p; local keep=(); for p in "${started[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done; started=("${keep[@]}"); }
fail() { echo "run.sh: $*" >&2; exit 1; }

# The regions (4 KiB blocks): reads over a 512 MiB range written first (a dedup volume
# answers never-written blocks with zeros without touching the flash), writes over the next
# GiB, wrapping (so the dedup volume also overwrites and frees, as it would in service).
read_blocks=131072
write_lba=$read_blocks
write_blocks=262144
flash_size=4G

# ---- raw TCP: iperf3, one stream, the first second omitted; sets $tcp_mbps ---------------
tcp_mbps=
iperf_mbps() {
	local port spid i
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	iperf3 -s -1 -B 127.0.0.1 -p "$port" >"$work/iperf-server.log" 2>&1 &
	spid=$!
	started+=("$spid")
	for ((i = 0; i < 200; i++)); do
		grep -q 'Server listening' "$work/iperf-server.log" && break
		kill -0 "$spid" 2>/dev/null || fail "iperf3 server: $(cat "$work/iperf-server.log")"
		sleep 0.05
	done
	iperf3 -c 127.0.0.1 -p "$port" -t "$secs" -O 1 -J >"$work/iperf.json" ||
		fail "iperf3 client: $(cat "$work/iperf.json")"
	wait "$spid" || true
	forget "$spid"
	tcp_mbps=$(python3 -c 'import json, sys; print("%.1f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 8e6))' "$work/iperf.json")
	echo "  raw TCP (iperf3): $tcp_mbps MB/s" >&2
}

# ---- insitu-fw, each way ------------------------------------------------------------
fw_pid=
fw_uri=
start_fw() {
	local mode=$1 line extra=()
	[ "$mode" = off ] && extra=(--no-dedup)
	coproc FW { exec "$fw" --flash "$work/flash-$mode.img" --flash-size "$flash_size" \
		--port 0 --discovery-port none -q "${extra[@]}" 2>"$work/fw-$mode.log"; }
	fw_pid=$FW_PID
	started+=("$fw_pid")
	read -r -t 60 -u "${FW[0]}" line ||
		fail "insitu-fw ($mode) printed no ready line: $(cat "$work/fw-$mode.log")"
	[[ $line =~ ^ready\ nvm=127\.0\.0\.1:([0-9]+)\  ]] || fail "unexpected ready line: $line"
	fw_uri=nvme+tcp://127.0.0.1:${BASH_REMATCH[1]}
}
stop_fw() {
	local mode=$1 rc=0
	kill -TERM "$fw_pid"
	wait "$fw_pid" || rc=$?
	forget "$fw_pid"
	[ "$rc" = 0 ] || fail "insitu-fw ($mode) exited $rc: $(cat "$work/fw-$mode.log")"
	rm -f "$work/flash-$mode.img"
}

run() {	# mode label bench_fw-arguments...
	local mode=$1 label=$2 out
	shift 2
	out=$("$bench" "$fw_uri" "$@" --watch-pid "$fw_pid") ||
		fail "bench_fw $* ($mode) failed; insitu-fw said: $(cat "$work/fw-$mode.log")"
	echo "$mode $label $out" >>"$results"
	echo "  $mode $label: $out" >&2
}

echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')), load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
iperf_mbps
tcp1=$tcp_mbps
for mode in on off; do
	start_fw "$mode"
	run "$mode" fill seqwrite --bs 128K --qd "$qd_seq" --blocks "$read_blocks" --secs 0 --ops $((read_blocks / 32))
	run "$mode" seqread seqread --bs 128K --qd "$qd_seq" --blocks "$read_blocks" --secs "$secs"
	run "$mode" randread randread --bs 4K --qd 32 --blocks "$read_blocks" --secs "$secs"
	run "$mode" seqwrite seqwrite --bs 128K --qd "$qd_seq" --lba "$write_lba" --blocks "$write_blocks" --secs "$secs" --warmup 1
	run "$mode" randwrite randwrite --bs 4K --qd 32 --lba "$write_lba" --blocks "$write_blocks" --secs "$secs" --warmup 1
	run "$mode" dupwrite dupwrite --bs 4K --qd 32 --lba "$write_lba" --blocks "$write_blocks" --secs "$secs" --warmup 1
	stop_fw "$mode"
done
iperf_mbps
tcp2=$tcp_mbps

python3 - "$results" "$tcp1" "$tcp2" "$flashdir" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'EOF'
import sys
path, tcp1, tcp2, flashdir, ncpu, load = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
tcp = (tcp1 + tcp2) / 2
r = {}
for line in open(path):
    mode, label, *kv = line.split()
    r[(mode, label)] = {k: float(v) for k, v in (x.split("=") for x in kv if x.split("=")[0] != "workload")}

rows = [("fill", "128K seq write, first pass", "MBps"),
        ("seqread", "128K seq read", "MBps"),
        ("seqwrite", "128K seq write (overwrite)", "MBps"),
        ("randread", "4K rand read QD32", "iops"),
        ("randwrite", "4K rand write QD32, unique", "iops"),
        ("dupwrite", "4K rand write QD32, duplicate", "iops")]
print(f"insitu-fw over NVMe/TCP (libinsitu userspace initiator, loopback), flash: sparse file in {flashdir}")
print(f"{ncpu} cores shared by the client, insitu-fw and iperf3; load average after: {load}")
print(f"raw TCP loopback, iperf3 one stream: {tcp1:.0f} MB/s before, {tcp2:.0f} MB/s after, mean {tcp:.0f} MB/s")
print()
print(f"{'workload':31s} {'dedup on':>12s} {'dedup off':>12s} {'on/off':>7s} {'on/TCP':>7s} {'off/TCP':>8s}   {'p99 us on/off':>15s}")
for key, name, unit in rows:
    on, off = r[("on", key)], r[("off", key)]
    fmt = (lambda x: f"{x[unit]:7.0f} MB/s") if unit == "MBps" else (lambda x: f"{x[unit]:8.0f}/s")
    tcps = f"{on['MBps'] / tcp:7.2f} {off['MBps'] / tcp:8.2f}" if unit == "MBps" else f"{'-':>7s} {'-':>8s}"
    print(f"{name:31s} {fmt(on):>12s} {fmt(off):>12s} {on[unit] / off[unit]:7.2f} {tcps}   {on['lat_p99_us']:7.0f}/{off['lat_p99_us']:<7.0f}")
print()
print("CPU (cores busy during the timed part) and insitu-fw CPU per request:")
print(f"{'workload':31s} {'fw on':>6s} {'fw off':>6s} {'client on':>9s} {'client off':>10s} {'fw us/req on':>12s} {'off':>6s}")
for key, name, unit in rows:
    on, off = r[("on", key)], r[("off", key)]
    print(f"{name:31s} {on['cpu_fw']:6.2f} {off['cpu_fw']:6.2f} {on['cpu_client']:9.2f} {off['cpu_client']:10.2f} "
          f"{on['cpu_fw'] / on['iops'] * 1e6:12.1f} {off['cpu_fw'] / off['iops'] * 1e6:6.1f}")
print()
print("dedup check (dedup on): unique writes found", int(r[("on", "randwrite")]["dedup_hits"]),
      "duplicates; duplicate writes", int(r[("on", "dupwrite")]["dedup_hits"]), "of",
      int(r[("on", "dupwrite")]["ops"]), "(warm-up excluded)")
sr = r[("on", "seqread")]["MBps"] / tcp
uw = r[("on", "randwrite")]["iops"] / r[("off", "randwrite")]["iops"]
print(f"targets: 128K read / raw TCP = {sr:.2f} (target >= 0.60: {'met' if sr >= 0.6 else 'missed'}); "
      f"unique 4K write dedup on/off = {uw:.2f} (target >= 0.80: {'met' if uw >= 0.8 else 'missed'})")
EOF
