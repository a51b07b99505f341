#!/usr/bin/env bash
# The insitu demo: sets up this machine (Debian packages), builds, then stores a small AI
# data set on a deduplicated volume over a sparse file, the way the device keeps its flash:
# model replicas, zero-padded tensors and dataset shards with shared headers are written,
# read back and verified, a replica is trimmed, and the offline audit checks every count.
# Last, a preprocessing program from an OCI image runs in the sandbox over the shards read
# from the volume, and only its small result would go back to the host.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"

./toolchain/install-deps.sh
echo "== building (build/)"
cmake -S . -B build -G Ninja >/dev/null
cmake --build build -j"$(nproc)" >/dev/null

tool=$PWD/build/dedup/insitu-dedup
work=${INSITU_DEMO_DIR:-$PWD/demo-work}
rm -rf "$work"
mkdir -p "$work/data"
vol=$work/flash.img

echo
echo "== formatting a volume: 4 GiB logical over a 512 MiB sparse file (the flash)"
"$tool" format "$vol" 4G --physical-size 512M

echo
echo "== generating the data set in $work/data"
python3 - "$work/data" <<'PY'
import os, random, struct, sys
out = sys.argv[1]
rng = random.Random(20261121)
B = 4096
def rand(n): return rng.randbytes(n)
def save(name, data):
    with open(os.path.join(out, name), "wb") as f: f.write(data)
    with open(os.path.join(out, "..", "order"), "a") as f: f.write(name + "\n")
    print(f"  {name:<24} {len(data) // B:6d} blocks  {len(data) / 2**20:7.2f} MiB")
# A model checkpoint and two exact replicas (a copy per training node, a backup).
model = rand(24 * 2**20)
for name in ("model.ckpt", "model-replica1.ckpt", "model-replica2.ckpt"):
    save(name, model)
# A fine-tune that changed an eighth of the model's blocks.
ft = bytearray(model)
for i in range(0, len(ft) // B, 8):
    ft[i * B:(i + 1) * B] = rand(B)
save("model-finetune.ckpt", bytes(ft))
# Sparse embeddings: 70 % of the 4 KiB blocks are all zero.
emb = b"".join(bytes(B) if rng.random() < 0.7 else rand(B) for _ in range(4096))
save("embeddings.bin", emb)
# Eight dataset shards: each starts with the same 256 KiB vocabulary table, then its own
# 16-bit token ids, drawn Zipf-like from a 32000-token vocabulary as text would be.
vocab = rand(256 * 1024)
ids = range(32000)
zipf = [1.0 / (rank + 1) for rank in ids]
for s in range(8):
    tokens = rng.choices(ids, weights=zipf, k=2**20)
    save(f"shard-{s}.tok", vocab + struct.pack(f"<{len(tokens)}H", *tokens))
PY

echo
echo "== writing every file to the volume"
lba=0
declare -A where
while read -r name; do
  f=$work/data/$name
  blocks=$(( ($(stat -c %s "$f") + 4095) / 4096 ))
  printf '  %-24s LBA %6d: ' "$(basename "$f")" "$lba"
  "$tool" write "$vol" "$lba" "$f"
  where[$f]="$lba $blocks"
  lba=$((lba + blocks))
done <"$work/order"

echo
echo "== what the volume stored"
"$tool" stats "$vol"

echo
echo "== reading every file back and comparing"
while read -r name; do
  f=$work/data/$name
  read -r start blocks <<<"${where[$f]}"
  "$tool" read "$vol" "$start" "$blocks" "$work/readback"
  truncate -s "$(stat -c %s "$f")" "$work/readback"
  cmp "$f" "$work/readback"
  printf '  %-24s identical\n' "$name"
done <"$work/order"
rm -f "$work/readback"

echo
echo "== trimming the second replica (NVMe deallocate): its blocks stay, shared by the others"
read -r start blocks <<<"${where[$work/data/model-replica2.ckpt]}"
"$tool" trim "$vol" "$start" "$blocks"
"$tool" stats -o json "$vol" | python3 -c '
import json, sys
s = json.load(sys.stdin)
print("  mapped %d, zero %d, physical used %d blocks, saved %.1f MiB, ratio %.2fx" % (
    s["mapped_blocks"], s["zero_blocks"], s["physical_used"], s["bytes_saved"] / 2**20,
    s["dedup_ratio"]))'

echo
echo "== offline audit: every reference count recomputed from the block map"
"$tool" check "$vol"

echo
echo "flash file: $(du -h --apparent-size "$vol" | cut -f1) apparent, $(du -h "$vol" | cut -f1) allocated on the host"

echo
echo "== preprocessing next to the data: token statistics of the shards, in the sandbox"
# The sandbox's user must be able to reach the image cache and the data: a world-traversable
# scratch directory (a clone in /root is not).
box=$(mktemp -d "${TMPDIR:-/tmp}/insitu-demo-XXXXXX")
chmod 755 "$box"
trap 'rm -rf "$box"' EXIT
mkdir -p "$box/rootfs/bin" "$box/rootfs/data" "$box/rootfs/out" "$box/shards" "$box/out"
cp build/examples/token-stats "$box/rootfs/bin/token-stats"
python3 examples/oci-image.py --rootfs "$box/rootfs" --layout "$box/token-stats.oci" \
  --ref token-stats --entrypoint '["/bin/token-stats"]' | sed 's/^/  image /'
shard_bytes=0
while read -r name; do
  case $name in shard-*) ;; *) continue ;; esac
  read -r start blocks <<<"${where[$work/data/$name]}"
  "$tool" read "$vol" "$start" "$blocks" "$box/shards/$name"
  truncate -s "$(stat -c %s "$work/data/$name")" "$box/shards/$name"
  shard_bytes=$((shard_bytes + $(stat -c %s "$box/shards/$name")))
done <"$work/order"
chmod -R a+rX "$box/shards"
# As root, run maps the image's ids 0..65535 to host ids from --userns-base: the program
# (the image's root) writes its output as host id $base.
base=1879048192
[ "$(id -u)" -eq 0 ] && chown "$base:$base" "$box/out"
# Cgroup limits need root (or a delegated cgroup); as a user the sandbox runs without them.
opts=(--timeout 60)
[ "$(id -u)" -eq 0 ] && opts+=(--userns-base "$base" --memory 256M --pids 64)
build/container-lite/tool/container-lite run "${opts[@]}" --cache "$box/cache" \
  --image "$box/token-stats.oci" --bind "$box/shards:/data" --bind "$box/out:/out:rw"
sed 's/^/  /' "$box/out/stats.jsonl"
cp "$box/out/stats.jsonl" "$work/stats.jsonl"
result_bytes=$(stat -c %s "$work/stats.jsonl")
echo "  the host receives $result_bytes bytes of statistics instead of $shard_bytes bytes of shards" \
  "($(( shard_bytes / result_bytes ))x less)"
