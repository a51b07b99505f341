#!/usr/bin/env bash
# Startup benchmark of the container-lite sandbox: start -> exit of /bin/true on one
# busybox-static rootfs with our driver (cl-sandbox-run), crun and bwrap, measured by
# hyperfine in the same run, plus the in-process figure (cl_sandbox_run() in a long-lived
# process, as insitu-fw calls it). Prints every median and our ratios to the peers.
#
#   bench/container-lite/sandbox_startup.sh [BUILD_DIR] [RUNS]     (as root)
#
# Two configurations: "plain" (namespaces, mounts, no cgroup) and "limits" (a memory and a
# pids limit, so a per-run cgroup is created and removed). What differs between the
# runtimes is printed at the end. crun 1.8 refuses this machine's hybrid cgroup layout, so
# everything runs in a private mount namespace without /sys/fs/cgroup/unified (the v2
# mount here has no controllers; our sandbox picks v1 either way).
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
build=$(readlink -f "${1:-$here/../../build}")
runs=${2:-300}
driver=$build/tests/container-lite/sandbox/cl-sandbox-run
tool=$build/container-lite/tool/container-lite
inproc=$build/bench/cl-bench-sandbox-startup
for t in hyperfine crun bwrap busybox python3 "$driver" "$tool" "$inproc"; do
	command -v "$t" >/dev/null || { echo "missing: $t (build first; toolchain/install-deps.sh)" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "run as root (crun, cgroups)" >&2; exit 1; }

work=$(mktemp -d /tmp/cl-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
rootfs=$work/rootfs
mkdir -p "$rootfs/bin" "$rootfs/dev" "$rootfs/proc" "$rootfs/tmp"
cp "$(command -v busybox)" "$rootfs/bin/busybox"
ln -s busybox "$rootfs/bin/true"

# crun bundles from `crun spec`, brought to what our sandbox does: user namespace with one
# id (0 -> 65534), pid/net/ipc/uts/mount/cgroup namespaces, read-only root, /proc, a /dev
# tmpfs, a 64 MiB /tmp; no /sys, /dev/pts, /dev/shm, /dev/mqueue, no masked paths.
make_bundle() {
	local dir=$1 limits=$2
	mkdir -p "$dir"
	ln -s "$rootfs" "$dir/rootfs"
	(cd "$dir" && crun spec)
	python3 - "$dir/config.json" "$limits" <<'EOF'
import json, sys
path, limits = sys.argv[1], sys.argv[2] == "limits"
c = json.load(open(path))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
c["root"] = {"path": "rootfs", "readonly": True}
c["linux"]["namespaces"] = [{"type": t} for t in
                            ("pid", "network", "ipc", "uts", "mount", "cgroup", "user")]
c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 65534, "size": 1}]
c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 65534, "size": 1}]
c["mounts"] = [m for m in c["mounts"] if m["destination"] in ("/proc", "/dev")]
c["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                    "options": ["nosuid", "nodev", "mode=1777", "size=65536k"]})
c["linux"].pop("maskedPaths", None)
c["linux"].pop("readonlyPaths", None)
if limits:
    c["linux"]["resources"] = {"memory": {"limit": 256 << 20}, "pids": {"limit": 1024}}
json.dump(c, open(path, "w"), indent=1)
EOF
}
make_bundle "$work/crun-plain" plain
make_bundle "$work/crun-limits" limits
# And crun as `crun spec` makes it, for reference: no user namespace, more mounts (/sys,
# /dev/pts, /dev/shm, /dev/mqueue, /sys/fs/cgroup), masked and read-only /proc paths, a
# cgroup; only the command and the terminal changed.
mkdir -p "$work/crun-stock"
ln -s "$rootfs" "$work/crun-stock/rootfs"
(cd "$work/crun-stock" && crun spec)
python3 - "$work/crun-stock/config.json" <<'EOF2'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
json.dump(c, open(sys.argv[1], "w"), indent=1)
EOF2

cat >"$work/bench.sh" <<EOF
set -e
umount /sys/fs/cgroup/unified 2>/dev/null || true
hyperfine -N --style basic --warmup 20 --runs $runs --export-json $work/plain.json \
  -n ours "$driver $rootfs /bin/true" \
  -n "container-lite run" "$tool run --rootfs $rootfs -- /bin/true" \
  -n crun "crun --cgroup-manager=disabled run --bundle $work/crun-plain cl-bench-\$\$" \
  -n "crun (stock spec)" "crun run --bundle $work/crun-stock cl-bench-s-\$\$" \
  -n bwrap "bwrap --unshare-all --ro-bind $rootfs / --proc /proc --dev /dev --tmpfs /tmp /bin/true"
hyperfine -N --style basic --warmup 20 --runs $runs --export-json $work/limits.json \
  -n ours "$driver --memory 256M --pids 1024 $rootfs /bin/true" \
  -n "container-lite run" "$tool run --memory 256M --pids 1024 --rootfs $rootfs -- /bin/true" \
  -n crun "crun run --bundle $work/crun-limits cl-bench-l-\$\$"
$inproc $rootfs $runs > $work/inproc-plain.txt
$inproc $rootfs $runs --limits > $work/inproc-limits.txt
EOF
unshare -m --propagation private sh "$work/bench.sh" >"$work/hyperfine.log" 2>&1 ||
	{ cat "$work/hyperfine.log" >&2; exit 1; }

python3 - "$work" <<'EOF'
import json, sys
work = sys.argv[1]
def medians(name):
    r = json.load(open(f"{work}/{name}.json"))["results"]
    return {x["command"]: x["median"] * 1e3 for x in r}
def inproc(name):
    kv = dict(f.split("=") for f in open(f"{work}/inproc-{name}.txt").read().split())
    return float(kv["median_ms"])
for cfg in ("plain", "limits"):
    m = medians(cfg)
    m["ours (in-process)"] = inproc(cfg)
    print(f"{cfg}: median start->exit of /bin/true")
    for k, v in m.items():
        print(f"  {k:18s} {v:7.2f} ms")
    for ours in ("ours", "container-lite run", "ours (in-process)"):
        for peer in ("crun", "crun (stock spec)", "bwrap"):
            if peer in m:
                print(f"  {ours} / {peer}: {m[ours] / m[peer]:.2f}")
print("differences: crun runs without seccomp (crun spec has none) and with its default")
print("capability set; bwrap (--unshare-all) without seccomp, cgroups or a uid change;")
print("ours loads a seccomp allow-list and drops every capability. The seccomp program")
print("is compiled at build time (a cross build without an emulator: once per process).")
EOF
