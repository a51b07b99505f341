#!/usr/bin/env bash
# Unpack benchmark: one OCI image with a ~100 MB gzip layer (generated, deterministic),
# unpacked by container-lite (full verification: sizes, sha256 of manifest/config/layer,
# diff_id), by `umoci unpack`, and by `tar -xzf` of the same layer blob, in one hyperfine
# run. Prints each median and the ratios. Page cache warm; every run starts from an empty
# target (hyperfine --prepare). WORKDIR's filesystem is what is measured: run it once on
# disk and once on tmpfs (e.g. /dev/shm/cl-bench) to see metadata cost versus CPU cost.
#   bench/container-lite/unpack_bench.sh [CONTAINER_LITE] [WORKDIR]   (RUNS=7 by default)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cl=$(readlink -f "${1:-$here/../../build/container-lite/tool/container-lite}")
work=${2:-$(mktemp -d "${TMPDIR:-/tmp}/cl-bench-XXXXXX")}
runs=${RUNS:-7}
for tool in hyperfine umoci tar python3; do
	command -v "$tool" >/dev/null || { echo "needs $tool"; exit 1; }
done
[ -x "$cl" ] || { echo "no container-lite binary at $cl (build first)"; exit 1; }
mkdir -p "$work"
cd "$work"

if [ ! -d img ]; then
	echo "== generating the tree and the image in $work"
	python3 "$here/gen_tree.py" tree
	# the layer is written by GNU tar + gzip: umoci 0.4.7's `insert` produced a truncated
	# layer for this tree (GNU tar also reports "Unexpected EOF")
	python3 "$here/make_layout.py" tree img
fi
layer=$("$cl" inspect --image img --ref bench -o json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["layers"][-1]["digest"].split(":")[1])')
blob=img/blobs/sha256/$layer
echo "== layer blob: $(stat -c %s "$blob") bytes (gzip), $(du -sb tree | cut -f1) bytes unpacked, $(find tree | wc -l) entries"
echo "== filesystem: $(df --output=fstype . | tail -1) ($(pwd))"

# Previous outputs are moved aside, not deleted, between runs: ext4 skips inodes freed in
# the last minutes when allocating (recently_deleted() in __ext4_new_inode), and deleting
# ~14k files right before each run made that scan most of every tool's time.
rm -rf trash out-cl out-umoci out-tar
mkdir trash
hyperfine --runs "$runs" --warmup 1 --export-json result.json \
	--prepare 't=$(mktemp -d trash/run.XXXXXX) && for d in out-cl out-umoci out-tar; do if [ -e $d ]; then mv $d "$t/"; fi; done && mkdir out-tar' \
	-n container-lite "$cl unpack --quiet --image img --ref bench --rootfs out-cl" \
	-n umoci "umoci unpack --image img:bench out-umoci" \
	-n tar "tar -xzf $blob -C out-tar"

python3 - <<'PY'
import json
r = {x["command"]: x for x in json.load(open("result.json"))["results"]}
med = {k: v["median"] for k, v in r.items()}
for k in ("container-lite", "tar", "umoci"):
    print("%-15s median %.3f s  (min %.3f, max %.3f)" % (k, med[k], r[k]["min"], r[k]["max"]))
print("container-lite / tar   = %.2f  (target <= 1.2)" % (med["container-lite"] / med["tar"]))
print("umoci / container-lite = %.2f  (target >= 3)" % (med["umoci"] / med["container-lite"]))
PY
rm -rf out-cl out-umoci out-tar trash
echo "(work directory kept for reruns: $work)"
