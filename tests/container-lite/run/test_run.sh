#!/usr/bin/env bash
# `container-lite run` end to end, as a user meets it: an OCI image written here by hand
# (tar, gzip, sha256sum: an independent producer) holding busybox-static, run with its own
# config and with every override, binds, limits, and each failure's exit status.
#   test_run.sh CONTAINER_LITE
set -u
cl=$(readlink -f "$1")
busybox=$(command -v busybox || true)
if [ -z "$busybox" ] || readelf -d "$(readlink -f "$busybox")" 2>/dev/null | grep -q NEEDED; then
	echo "SKIP: needs busybox-static (toolchain/install-deps.sh installs it)"
	exit 77
fi
if ! unshare --user --map-root-user true 2>/dev/null; then
	echo "SKIP: this kernel refuses user namespaces (kernel.unprivileged_userns_clone / user.max_user_namespaces)"
	exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/cl-run-XXXXXX")
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# expect CODE DESCRIPTION -- COMMAND...: stdout in $out, stderr in $err
expect() {
	local want=$1 what=$2
	shift 3
	out=$("$@" 2>"$work/stderr")
	local got=$?
	err=$(cat "$work/stderr")
	if [ "$got" -ne "$want" ]; then
		fail "$what: exit $got, want $want"
		echo "  stdout: $out"
		echo "  stderr: $err"
	else
		echo "ok: $what (exit $got)"
	fi
}
same() {   # same GOT WANT DESCRIPTION
	[ "$1" = "$2" ] || fail "$3: got \"$1\", want \"$2\""
}
contains() {   # contains TEXT NEEDLE DESCRIPTION
	case "$1" in *"$2"*) ;; *) fail "$3: no \"$2\" in: $1" ;; esac
}

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
# blob FILE: moves FILE into the layout's blobs, prints its digest
blob() {
	local d
	d=$(sha "$1")
	mv "$1" "$layout/blobs/sha256/$d"
	echo "$d"
}

# The rootfs: busybox and its applets, a user, a working directory.
root=$work/src
mkdir -p "$root/bin" "$root/etc" "$root/work" "$root/data" "$root/out"
cp "$busybox" "$root/bin/busybox"
for a in sh echo cat id pwd sleep ls touch env true dd head; do ln -s busybox "$root/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/work:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\napp:x:1000:\n' >"$root/etc/group"
chmod -R a+rX "$root"

layout=$work/img
mkdir -p "$layout/blobs/sha256"
printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
tar -C "$root" --numeric-owner --owner=0 --group=0 -cf "$work/layer.tar" .
diff_id=$(sha "$work/layer.tar")
gzip -n "$work/layer.tar"
layer_size=$(size "$work/layer.tar.gz")
layer=$(blob "$work/layer.tar.gz")
cat >"$work/config.json" <<JSON
{"architecture":"$(uname -m | sed 's/x86_64/amd64/;s/aarch64/arm64/')","os":"linux",
 "config":{"Entrypoint":["/bin/sh","-c"],
           "Cmd":["echo \$GREETING from \$(pwd) as \$(id -u):\$(id -g)"],
           "Env":["PATH=/bin","GREETING=hello"],"WorkingDir":"/work","User":"app"},
 "rootfs":{"type":"layers","diff_ids":["sha256:$diff_id"]}}
JSON
config_size=$(size "$work/config.json")
config=$(blob "$work/config.json")
cat >"$work/manifest.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
 "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:$config","size":$config_size},
 "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:$layer","size":$layer_size}]}
JSON
manifest_size=$(size "$work/manifest.json")
manifest=$(blob "$work/manifest.json")
cat >"$layout/index.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",
 "manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:$manifest","size":$manifest_size,
   "annotations":{"org.opencontainers.image.ref.name":"app"}}]}
JSON
cache=$work/cache
run() { "$cl" run --cache "$cache" "$@"; }

expect 0 "run --help" -- "$cl" run --help
contains "$out" "--bind SRC:DST[:ro|rw]" "run --help"
expect 120 "neither --image nor --rootfs" -- "$cl" run -- /bin/true
expect 120 "bad --memory" -- run --image "$layout" --memory lots
expect 120 "bad --bind" -- run --image "$layout" --bind nocolon

# The image's own configuration: Entrypoint + Cmd, Env, WorkingDir, User.
expect 0 "image config" -- run --image "$layout"
same "$out" "hello from /work as 1000:1000" "image config"
expect 0 "second run from the cache" -- run --image "$layout" --verbose
same "$out" "hello from /work as 1000:1000" "cached run"
contains "$err" "0 layers unpacked, 1 reused" "cache reuse"
expect 0 "overrides" -- run --image "$layout" --env GREETING=bye --workdir / --user root
same "$out" "bye from / as 0:0" "overrides"
expect 7 "command replaces Cmd, exit code passes through" -- \
	run --image "$layout" --ref app -- 'echo replaced; exit 7'
same "$out" "replaced" "command"
expect 0 "entrypoint" -- run --image "$layout" --entrypoint /bin/echo -- plain words
same "$out" "plain words" "entrypoint"
expect 121 "unknown user" -- run --image "$layout" --user nobody-here
contains "$err" "nobody-here" "unknown user message"
expect 121 "unknown ref" -- run --image "$layout" --ref nope
expect 127 "command not found" -- run --image "$layout" --entrypoint /bin/nonexistent
contains "$err" "/bin/nonexistent" "not found message"
expect 126 "command not executable" -- run --image "$layout" --entrypoint /etc/passwd
expect $((128 + 15)) "killed by a signal" -- run --image "$layout" -- 'kill -TERM $$'

# Binds: the input is read-only, the output writable by the sandbox's user.
mkdir -p "$work/in" "$work/outdir"
echo "input data" >"$work/in/file"
chmod -R a+rX "$work/in"
chown 65534:65534 "$work/outdir"
expect 0 "binds" -- run --image "$layout" --user root --bind "$work/in:/data" \
	--bind "$work/outdir:/out:rw" -- 'cat /data/file > /out/copy && ! touch /data/new 2>/dev/null'
same "$(cat "$work/outdir/copy" 2>/dev/null)" "input data" "output written through the bind"
[ -e "$work/in/new" ] && fail "read-only bind was written"
expect 1 "read-only root" -- run --image "$layout" --user root -- 'touch /newfile'
expect 0 "writable /tmp" -- run --image "$layout" -- 'echo x > /tmp/x && cat /tmp/x'
same "$out" "x" "/tmp"

expect 124 "timeout" -- run --image "$layout" --timeout 300ms -- 'sleep 30'
contains "$err" "--timeout" "timeout message"
if [ "$(id -u)" -eq 0 ] && { [ -d /sys/fs/cgroup/memory ] ||
	grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; }; then
	expect 123 "memory limit" -- run --image "$layout" --memory 16M --tmp-size 256M -- \
		'dd if=/dev/zero of=/tmp/fill bs=1M count=200 2>/dev/null; head -c 100000000 /dev/zero | sleep 5'
	contains "$err" "--memory" "OOM message"
else
	echo "skip: memory limit (no writable memory cgroup controller)"
fi

# A tampered layer is refused before anything runs.
cp -r "$layout" "$work/bad"
printf 'x' | dd of="$work/bad/blobs/sha256/$layer" bs=1 seek=100 conv=notrunc 2>/dev/null
expect 121 "tampered layer" -- "$cl" run --cache "$work/cache2" --image "$work/bad"
contains "$err" "$layer" "tampered layer names the blob"

# --rootfs: an unpacked directory, a command required.
expect 0 "unpack for --rootfs" -- "$cl" unpack --image "$layout" --rootfs "$work/unpacked"
chmod 755 "$work/unpacked"
expect 0 "--rootfs" -- "$cl" run --rootfs "$work/unpacked" -- /bin/sh -c 'echo direct'
same "$out" "direct" "--rootfs"
expect 120 "--rootfs without a command" -- "$cl" run --rootfs "$work/unpacked"

leftovers=$(find "$cache" -maxdepth 1 -name 'run-*' | wc -l)
same "$leftovers" "0" "per-run directories removed"

echo "$failures failure(s)"
[ "$failures" -eq 0 ]
