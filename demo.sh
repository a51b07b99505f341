#!/usr/bin/env bash
# The insitu demo: sets up this machine (Debian packages), builds, then starts the device
# daemon insitu-fw on a sparse file (the flash) and drives it over NVMe/TCP with the insitu
# CLI, the way a host drives the drive: a small AI data set (model replicas, zero-padded
# tensors, dataset shards with shared headers) is stored on the deduplicated namespace, read
# back and verified, a replica is deallocated, and the device's own telemetry shows what
# deduplication saved. The daemon stops cleanly and the offline audit checks every count.
# Last, a preprocessing program from an OCI image runs in the sandbox over the shards, next
# to the data, and only its small result would go back to the host.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"

./toolchain/install-deps.sh
echo "== building (build/)"
cmake -S . -B build -G Ninja >/dev/null
cmake --build build -j"$(nproc)" >/dev/null

fw=$PWD/build/fw-app/tcp/insitu-fw
cli=$PWD/build/host-lib/insitu
tool=$PWD/build/dedup/insitu-dedup
work=${INSITU_DEMO_DIR:-$PWD/demo-work}
rm -rf "$work"
mkdir -p "$work/data"
vol=$work/flash.img
fw_pid=

cleanup() {
  [ -n "$fw_pid" ] && kill "$fw_pid" 2>/dev/null && wait "$fw_pid" 2>/dev/null
  [ -n "${box:-}" ] && rm -rf "$box"
  return 0
}
trap cleanup EXIT

echo
echo "== starting insitu-fw: a 4 GiB deduplicated namespace over a 512 MiB sparse file (the flash)"
mkfifo "$work/ready"
"$fw" --flash "$vol" --flash-size 512M --ns-size 4G --port 0 --discovery-port none \
  >"$work/ready" 2>"$work/insitu-fw.log" &
fw_pid=$!
# The daemon prints one line once it listens; reading it is the wait.
read -r ready <"$work/ready" || { cat "$work/insitu-fw.log"; exit 1; }
addr=${ready#ready nvm=}
addr=${addr%% *}
dev="nvme+tcp://$addr/nqn.2026-11.dev.insitu:csd"
echo "  $ready (log: $work/insitu-fw.log)"
echo "  device: $dev"
"$cli" list "$dev" | sed 's/^/  /'

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
echo "== storing every file on the device (insitu put over NVMe/TCP)"
lba=0
declare -A where
while read -r name; do
  f=$work/data/$name
  bytes=$(stat -c %s "$f")
  printf '  %-24s LBA %6d: ' "$name" "$lba"
  "$cli" put "$dev" "$f" --lba "$lba" -o json | python3 -c '
import json, sys
o = json.load(sys.stdin)
print("%d blocks, %d bytes" % (o["blocks"], o["bytes"]))'
  where[$name]="$lba $bytes"
  lba=$((lba + (bytes + 4095) / 4096))
done <"$work/order"

echo
echo "== what the device reports (vendor telemetry log C1h)"
"$cli" stats "$dev" | sed 's/^/  /'

echo
echo "== reading every file back (insitu get) and comparing"
while read -r name; do
  read -r start bytes <<<"${where[$name]}"
  "$cli" get "$dev" --lba "$start" --bytes "$bytes" -O "$work/readback" >/dev/null
  cmp "$work/data/$name" "$work/readback"
  printf '  %-24s identical\n' "$name"
done <"$work/order"
rm -f "$work/readback"

echo
echo "== deallocating the second replica (insitu trim): its blocks stay, shared by the others"
read -r start bytes <<<"${where[model-replica2.ckpt]}"
"$cli" trim "$dev" --lba "$start" --count $(( (bytes + 4095) / 4096 )) | sed 's/^/  /'
"$cli" stats "$dev" -o json | python3 -c '
import json, sys
s = json.load(sys.stdin)
print("  logical %.1f MiB stored in %.1f MiB of flash (%d unique blocks, %d zero blocks elided), ratio %.2fx" % (
    s["logical_used"] / 2**20, s["phys_used"] / 2**20, s["unique_blocks"], s["zero_blocks"],
    s["dedup_ratio_x1000"] / 1000))'

echo
echo "== stopping insitu-fw (SIGTERM: outstanding commands finish, the volume closes cleanly)"
kill -TERM "$fw_pid"
status=0
wait "$fw_pid" || status=$?
fw_pid=
echo "  insitu-fw exited with status $status"
[ "$status" -eq 0 ] || { tail -20 "$work/insitu-fw.log"; exit 1; }

echo
echo "== offline audit of the flash: every reference count recomputed from the block map"
"$tool" check "$vol"

echo
echo "flash file: $(du -h --apparent-size "$vol" | cut -f1) apparent, $(du -h "$vol" | cut -f1) allocated on the host"

echo
echo "== preprocessing next to the data: token statistics of the shards, in the sandbox"
# The sandbox's user must be able to reach the image cache and the data: a world-traversable
# scratch directory (a clone in /root is not).
box=$(mktemp -d "${TMPDIR:-/tmp}/insitu-demo-XXXXXX")
chmod 755 "$box"
mkdir -p "$box/rootfs/bin" "$box/rootfs/data" "$box/rootfs/out" "$box/shards" "$box/out"
cp build/examples/token-stats "$box/rootfs/bin/token-stats"
python3 examples/oci-image.py --rootfs "$box/rootfs" --layout "$box/token-stats.oci" \
  --ref token-stats --entrypoint '["/bin/token-stats"]' | sed 's/^/  image /'
shard_bytes=0
while read -r name; do
  case $name in shard-*) ;; *) continue ;; esac
  read -r start bytes <<<"${where[$name]}"
  "$tool" read "$vol" "$start" $(( (bytes + 4095) / 4096 )) "$box/shards/$name"
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
