#!/usr/bin/env bash
# insitu-dedup from the command line: format (sparse file, refusal to replace a volume), write
# and read back byte-identical data, dedup figures, trim, stats (human and JSON), check (clean,
# then a damaged data block: exit 3 naming the PBN), and the documented exit codes for usage
# errors (2) and failures (1).
set -euo pipefail
tool=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/dedup-cli.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_rc() { # expect_rc CODE CMD...: run, require the exit code, keep stdout+stderr in out.txt
	local want=$1; shift
	set +e; "$@" >out.txt 2>&1; local rc=$?; set -e
	[ "$rc" -eq "$want" ] || { cat out.txt >&2; fail "$* exited $rc, expected $want"; }
}

expect_rc 0 "$tool" --help
grep -q "Exit status" out.txt || fail "--help does not document exit codes"
expect_rc 2 "$tool"
expect_rc 2 "$tool" frobnicate
expect_rc 2 "$tool" format vol.img
expect_rc 2 "$tool" format vol.img 12345
expect_rc 1 "$tool" stats missing.img
grep -q "cannot open backing store missing.img" out.txt || fail "missing volume not named"
touch empty.img
expect_rc 1 "$tool" format empty.img 1M
grep -q -- "--physical-size" out.txt || fail "empty file: no hint to give a size"

expect_rc 0 "$tool" format --physical-size 32M --journal-blocks 16 vol.img 64M
grep -q "16384 blocks" out.txt || fail "format summary: $(cat out.txt)"
[ "$(stat -c %s vol.img)" -eq $((32 << 20)) ] || fail "backing file is not 32 MiB"
expect_rc 1 "$tool" format vol.img 64M
grep -q -- "--force" out.txt || fail "reformat not refused"

# 300 blocks of data, the same 300 again at a block boundary, and zeros
head -c $((300 * 4096)) /dev/urandom > data.bin
head -c $((16 * 4096)) /dev/zero > zero.bin
expect_rc 0 "$tool" write vol.img 0 data.bin
expect_rc 0 "$tool" write vol.img 1000 data.bin
grep -q "300 deduplicated" out.txt || fail "second copy not deduplicated: $(cat out.txt)"
expect_rc 0 "$tool" write --fua vol.img 2000 zero.bin
grep -q "16 zero" out.txt || fail "zero blocks not recognised: $(cat out.txt)"
expect_rc 0 "$tool" read vol.img 1000 300 back.bin
cmp -s data.bin back.bin || fail "read-back differs"
"$tool" read vol.img 0 300 | cmp -s data.bin - || fail "read to stdout differs"
expect_rc 1 "$tool" read vol.img 16380 10
grep -q "beyond the volume" out.txt || fail "out-of-range read not explained"

expect_rc 0 "$tool" stats vol.img
grep -Eq "physical used +1.17 MiB \(300 blocks" out.txt || fail "stats: $(cat out.txt)"
expect_rc 0 "$tool" stats -o json vol.img
python3 - out.txt <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["mapped_blocks"] == 600, s
assert s["zero_blocks"] == 16, s
assert s["physical_used"] == 300, s
assert s["dedup_hits"] == 300, s
assert s["bytes_saved"] == (600 + 16 - 300) * 4096, s
assert s["index_bytes"] > 0 and s["index_entries"] == 300, s
PY

expect_rc 0 "$tool" trim vol.img 0 300
grep -q "0 physical blocks freed" out.txt || fail "trim of shared blocks freed some: $(cat out.txt)"
expect_rc 0 "$tool" trim vol.img 1000 300
grep -q "300 physical blocks freed" out.txt || fail "trim: $(cat out.txt)"
expect_rc 0 "$tool" write vol.img 0 data.bin
expect_rc 0 "$tool" check vol.img
grep -q "0 problems" out.txt || fail "check: $(cat out.txt)"
expect_rc 0 "$tool" check -o json vol.img
python3 -c 'import json,sys; r=json.load(open("out.txt")); assert r["problems"]==0 and r["blocks_checked"]==300, r'

# damage one data block under the volume: check names it and exits 3
data_start=$(python3 -c 'import struct; print(struct.unpack_from("<Q", open("vol.img","rb").read(4096), 120)[0])')
printf 'XXXX' | dd of=vol.img bs=1 seek=$(( (data_start + 5) * 4096 + 100 )) conv=notrunc status=none
expect_rc 3 "$tool" check vol.img
grep -q "PBN 5 (block $((data_start + 5))): data hashes to key" out.txt || fail "check: $(cat out.txt)"
expect_rc 3 "$tool" check -o json vol.img
python3 -c 'import json; r=json.load(open("out.txt")); assert r["key_mismatches"]==1 and len(r["findings"])==1, r'

# a truncated backing file: a clear error, exit 1
truncate -s 16M vol.img
expect_rc 1 "$tool" stats vol.img
grep -q "truncated or wrong device" out.txt || fail "truncation: $(cat out.txt)"
echo ok
