#!/usr/bin/env bash
# The token-stats example: exact statistics of known shards, computed directly and then
# inside the sandbox from an image that examples/oci-image.py builds (the demo's path).
#   test_token_stats.sh TOKEN_STATS CONTAINER_LITE SOURCE_DIR
set -u
stats=$(readlink -f "$1") cl=$(readlink -f "$2") src=$(readlink -f "$3")
work=$(mktemp -d "${TMPDIR:-/tmp}/token-stats-XXXXXX")
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/in" "$work/out" "$work/out2" "$work/rootfs/data" "$work/rootfs/out"
python3 - "$work/in" <<'PY'
import struct, sys
def shard(name, ids):
    open(f"{sys.argv[1]}/{name}", "wb").write(struct.pack(f"<{len(ids)}H", *ids))
shard("a.tok", [7, 7, 7, 300, 300, 65535])
shard("b.tok", [1, 2, 3, 4, 5, 6, 6, 1000, 1000, 1000])
PY
printf '\x01' >>"$work/in/b.tok"   # a trailing odd byte is not a token
cat >"$work/want" <<'JSON'
{"shard":"a.tok","tokens":6,"distinct":3,"top":[[7,3],[300,2],[65535,1]]}
{"shard":"b.tok","tokens":10,"distinct":7,"top":[[1000,3],[6,2],[1,1],[2,1],[3,1]]}
JSON

failures=0
"$stats" "$work/in" "$work/out/stats.jsonl" || failures=$((failures + 1))
if ! cmp -s "$work/want" "$work/out/stats.jsonl"; then
	echo "FAIL: direct run"; diff "$work/want" "$work/out/stats.jsonl"; failures=$((failures + 1))
else
	echo "ok: direct run"
fi

if ! unshare --user --map-root-user true 2>/dev/null; then
	echo "SKIP (sandbox part): this kernel refuses user namespaces"
	[ "$failures" -eq 0 ] && exit 77 || exit 1
fi
mkdir -p "$work/rootfs/bin"
cp "$stats" "$work/rootfs/bin/token-stats"
python3 "$src/examples/oci-image.py" --rootfs "$work/rootfs" --layout "$work/image" \
	--ref token-stats --entrypoint '["/bin/token-stats"]' >/dev/null || failures=$((failures + 1))
chmod -R a+rX "$work/in"
# as root, the image's root is host id 0x70000000 (container-lite run's default id range)
[ "$(id -u)" -eq 0 ] && chown 1879048192:1879048192 "$work/out2"
if "$cl" run --cache "$work/cache" --image "$work/image" --bind "$work/in:/data" \
	--bind "$work/out2:/out:rw" && cmp -s "$work/want" "$work/out2/stats.jsonl"; then
	echo "ok: in the sandbox"
else
	echo "FAIL: in the sandbox"; failures=$((failures + 1))
fi
echo "$failures failure(s)"
[ "$failures" -eq 0 ]
