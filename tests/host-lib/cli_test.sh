#!/bin/bash
# The insitu CLI against a real insitu-fw: exact human and JSON outputs of every subcommand,
# the put/get round trip compared with cmp, exit codes, usage and connection errors, and the
# kernel device listing over a sysfs tree built here. Usage: cli_test.sh INSITU-FW INSITU
set -u
FW=$1
CLI=$2
dir=$(mktemp -d "${TMPDIR:-/tmp}/insitu-cli-XXXXXX")
pid=
fails=0

cleanup() {
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null
		wait "$pid"
	fi
	rm -rf "$dir"
}
trap cleanup EXIT

# expect NAME EXPECTED ACTUAL
expect() {
	if [ "$2" != "$3" ]; then
		echo "FAIL: $1"
		diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | head -20
		fails=$((fails + 1))
	else
		echo "ok: $1"
	fi
}

# run CMD...: stdout in $out, stderr in $err, exit code in $rc
run() {
	out=$("$CLI" "$@" 2>"$dir/stderr")
	rc=$?
	err=$(cat "$dir/stderr")
}

mkfifo "$dir/ready"
"$FW" --flash "$dir/flash.img" --flash-size 256M --port 0 --discovery-port none \
	--log-level warn >"$dir/ready" 2>"$dir/fw.log" &
pid=$!
exec 3<"$dir/ready"
if ! read -r -t 60 -u 3 line; then
	echo "FAIL: insitu-fw printed no ready line"; cat "$dir/fw.log"; exit 1
fi
port=${line#ready nvm=127.0.0.1:}
port=${port%% *}
U="nvme+tcp://127.0.0.1:$port"

# ---- identify ---------------------------------------------------------------------------
run id-ctrl "$U"
expect "id-ctrl exit" 0 "$rc"
expect "id-ctrl output" "NVME Identify Controller:
sn        : INSITU0001
mn        : insitu computational storage
fr        : 0.1.0
vid       : 0
ssvid     : 0
cntlid    : N
ver       : 0x10400
mdts      : 8
oacs      : 0
lpa       : 0x7
elpe      : 63
kas       : 10
sqes      : 0x66
cqes      : 0x44
maxcmd    : 128
nn        : 1
oncs      : 0xc
vwc       : 0x7
sgls      : 0x300001
ioccsz    : 1028
iorcsz    : 1
msdbd     : 1
subnqn    : nqn.2026-11.dev.insitu:csd" "$(sed 's/^cntlid    : .*/cntlid    : N/' <<<"$out")"

run id-ctrl "$U" -o json
expect "id-ctrl json" '{
  "sn":"INSITU0001",
  "mn":"insitu computational storage",
  "fr":"0.1.0",
  "vid":0,
  "ssvid":0,
  "cntlid":N,
  "ver":66560,
  "mdts":8,
  "oacs":0,
  "lpa":7,
  "elpe":63,
  "kas":10,
  "sqes":102,
  "cqes":68,
  "maxcmd":128,
  "nn":1,
  "oncs":12,
  "vwc":7,
  "sgls":3145729,
  "ioccsz":1028,
  "iorcsz":1,
  "msdbd":1,
  "subnqn":"nqn.2026-11.dev.insitu:csd"
}' "$(sed 's/^  "cntlid":[0-9]*,/  "cntlid":N,/' <<<"$out")"

run id-ns "$U"
expect "id-ns output" "NVME Identify Namespace 1:
nsze      : 65536
ncap      : 65536
nuse      : 0
nsfeat    : 0x1
nlbaf     : 0
flbas     : 0
lbaf  0 : ms:0   lbads:12 rp:0 (in use)" "$out"

run id-ns "$U" -n 1 -o json
expect "id-ns json" '{
  "nsid":1,
  "nsze":65536,
  "ncap":65536,
  "nuse":0,
  "nsfeat":1,
  "nlbaf":0,
  "flbas":0,
  "lbafs":[
    {
      "ms":0,
      "ds":12,
      "rp":0
    }
  ]
}' "$out"

# ---- put / get / write / read -------------------------------------------------------------
head -c 10000 /dev/urandom >"$dir/data"
run put "$U" "$dir/data" --lba 100
expect "put exit" 0 "$rc"
expect "put output" "stored $dir/data: nsid 1, lba 100, 3 blocks, 10000 bytes
get it back: insitu get $U --lba 100 --bytes 10000 -O FILE" "$out"
run get "$U" --lba 100 --bytes 10000 -O "$dir/back"
expect "get output" "got 10000 bytes from lba 100 into $dir/back" "$out"
cmp "$dir/data" "$dir/back" && echo "ok: put/get round trip" ||
	{ echo "FAIL: put/get round trip differs"; fails=$((fails + 1)); }

head -c 3000000 /dev/urandom >"$dir/big"
run put "$U" "$dir/big" --lba 200 -o json
expect "put json" "{
  \"file\":\"$dir/big\",
  \"nsid\":1,
  \"lba\":200,
  \"blocks\":733,
  \"bytes\":3000000
}" "$out"
run get "$U" --lba 200 --bytes 3000000 -O "$dir/bigback" -o json
expect "get json" "{
  \"file\":\"$dir/bigback\",
  \"nsid\":1,
  \"lba\":200,
  \"bytes\":3000000
}" "$out"
cmp "$dir/big" "$dir/bigback" && echo "ok: 3 MB put/get round trip" ||
	{ echo "FAIL: 3 MB put/get round trip differs"; fails=$((fails + 1)); }

head -c 5000 /dev/urandom >"$dir/small"
run write "$U" --lba 5 -I "$dir/small" --fua
expect "write output" "wrote 5000 bytes (2 blocks) at lba 5" "$out"
run read "$U" --lba 5 --count 2 -O "$dir/readback"
expect "read exit" 0 "$rc"
{ cat "$dir/small"; head -c 3192 /dev/zero; } >"$dir/padded"
cmp "$dir/padded" "$dir/readback" && echo "ok: write/read with zero padding" ||
	{ echo "FAIL: write/read with zero padding differs"; fails=$((fails + 1)); }
expect "read to stdout" "$(od -An -tx1 "$dir/padded" | head -3)" \
	"$("$CLI" read "$U" --lba 5 --count 2 | od -An -tx1 | head -3)"

# host bytes written so far: 3 + 733 + 2 blocks
run stats "$U" -o json
expect "stats host_write_bytes" '  "host_write_bytes":3022848,' "$(grep '"host_write_bytes"' <<<"$out")"
run stats "$U"
expect "stats host I/O line" "host I/O           : $(grep -o '"host_read_bytes":[0-9]*' <<<"$("$CLI" stats "$U" -o json)" | cut -d: -f2 | tr -d '\n') bytes read, 3022848 bytes written" \
	"$(grep '^host I/O' <<<"$out" | sed 's/[0-9]* bytes read/&/')"

run smart-log "$U"
expect "smart-log exit" 0 "$rc"
expect "smart-log spare" "available_spare          : 100%" "$(grep '^available_spare ' <<<"$out")"
run smart-log "$U" -o json
expect "smart-log json spare" '  "avail_spare":100,' "$(grep avail_spare <<<"$out")"

# ---- errors and exit codes ----------------------------------------------------------------
run id-ctrl nvme+tcp://127.0.0.1:1
expect "refused exit" 3 "$rc"
expect "refused message" \
	"insitu: nvme+tcp://127.0.0.1:1: connection refused: is insitu-fw running on 127.0.0.1:1?" "$err"
run read "$U" --count 1
expect "missing --lba exit" 2 "$rc"
expect "missing --lba message" "insitu read: --lba is required (see 'insitu read --help')" "$err"
run read "$U" --lba 65535 --count 2
expect "beyond namespace exit" 2 "$rc"
expect "beyond namespace message" \
	"insitu read: blocks 65535..65536 are beyond namespace 1's 65536 blocks of 4096 bytes" "$err"
run id-ns "$U" -n 9
expect "bad nsid exit" 1 "$rc"
expect "bad nsid message" \
	"insitu: $U: Identify Namespace (nsid 9): Invalid Namespace or Format (SCT 0h SC 0Bh)" "$err"
run id-ctrl "$U" -o yaml
expect "bad format exit" 2 "$rc"
run frobnicate
expect "unknown command exit" 2 "$rc"
for c in list id-ctrl id-ns smart-log stats read write put get; do
	run "$c" --help
	expect "$c --help" "0 usage: insitu $c" "$rc $(head -1 <<<"$out" | cut -d' ' -f1-3)"
done

# ---- list -----------------------------------------------------------------------------------
sys="$dir/sys"
mkdir -p "$sys/nvme0" "$sys/nvme1" "$sys/nvme0n1"
printf 'INSITU0001\n' >"$sys/nvme0/serial"
printf 'insitu computational storage            \n' >"$sys/nvme0/model"
printf '0.1.0   \n' >"$sys/nvme0/firmware_rev"
printf 'tcp\n' >"$sys/nvme0/transport"
printf 'traddr=10.0.2.2,trsvcid=4420,src_addr=10.0.2.15\n' >"$sys/nvme0/address"
printf 'nqn.2026-11.dev.insitu:csd\n' >"$sys/nvme0/subsysnqn"
printf 'S4EVNX0R\n' >"$sys/nvme1/serial"
printf 'Samsung SSD 980\n' >"$sys/nvme1/model"
printf '3B4QFXO7\n' >"$sys/nvme1/firmware_rev"
printf 'pcie\n' >"$sys/nvme1/transport"
printf '0000:01:00.0\n' >"$sys/nvme1/address"
printf 'nqn.2014.08.org.nvmexpress:144d144dS4EVNX0R\n' >"$sys/nvme1/subsysnqn"
out=$(INSITU_SYSFS_NVME="$sys" "$CLI" list)
expect "list" "$(printf '%-44s %-12s %-30s %-8s %-10s %s\n' Device SN Model FW Transport Address \
	/dev/nvme0 INSITU0001 'insitu computational storage' 0.1.0 tcp \
	traddr=10.0.2.2,trsvcid=4420,src_addr=10.0.2.15)" "$out"
out=$(INSITU_SYSFS_NVME="$sys" "$CLI" list --all -o json | grep -c '"device"')
expect "list --all json" 2 "$out"
out=$(INSITU_SYSFS_NVME="$dir/none" "$CLI" list "$U")
expect "list uri" "$(printf '%-44s %-12s %-30s %-8s %-10s %s\n' Device SN Model FW Transport Address \
	"$U" INSITU0001 'insitu computational storage' 0.1.0 'tcp (user)' \
	"traddr=127.0.0.1,trsvcid=$port")" "$out"

kill -TERM "$pid"
wait "$pid"
st=$?
pid=
expect "insitu-fw stopped cleanly" 0 "$st"

if [ "$fails" -ne 0 ]; then
	echo "$fails check(s) failed"
	exit 1
fi
echo "all checks passed"
