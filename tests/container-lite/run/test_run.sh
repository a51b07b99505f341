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
. "$(dirname "$(readlink -f "$0")")/../cli_assert.sh"

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
# blob LAYOUT FILE: copies FILE into the layout's blobs, prints its digest
blob() {
	local d
	d=$(sha "$2")
	cp "$2" "$1/blobs/sha256/$d"
	echo "$d"
}
# write_image LAYOUT REF CONFIG LAYER...: an OCI layout with one manifest (ref name REF)
# whose layers are the given files in order, plain tar (.tar) or gzip'd (.tar.gz); CONFIG
# is the JSON of the config's "config" object. Sets $layers to the layer blobs' digests.
write_image() {
	local dir=$1 ref=$2 cfg=$3 f diff media diffs="" descs="" d
	shift 3
	mkdir -p "$dir/blobs/sha256"
	printf '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
	layers=()
	for f in "$@"; do
		case $f in
		*.gz) diff=$(gzip -dc "$f" | sha256sum | cut -d' ' -f1)
		      media=application/vnd.oci.image.layer.v1.tar+gzip ;;
		*) diff=$(sha "$f"); media=application/vnd.oci.image.layer.v1.tar ;;
		esac
		d=$(blob "$dir" "$f")
		layers+=("$d")
		diffs+="${diffs:+,}\"sha256:$diff\""
		descs+="${descs:+,}{\"mediaType\":\"$media\",\"digest\":\"sha256:$d\",\"size\":$(size "$f")}"
	done
	cat >"$work/config.json" <<JSON
{"architecture":"$(uname -m | sed 's/x86_64/amd64/;s/aarch64/arm64/')","os":"linux",
 "config":$cfg,"rootfs":{"type":"layers","diff_ids":[$diffs]}}
JSON
	local config config_size manifest manifest_size
	config=$(blob "$dir" "$work/config.json")
	config_size=$(size "$work/config.json")
	cat >"$work/manifest.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
 "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:$config","size":$config_size},
 "layers":[$descs]}
JSON
	manifest=$(blob "$dir" "$work/manifest.json")
	manifest_size=$(size "$work/manifest.json")
	cat >"$dir/index.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",
 "manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:$manifest","size":$manifest_size,
   "annotations":{"org.opencontainers.image.ref.name":"$ref"}}]}
JSON
}

# The rootfs: busybox and its applets, a user, a working directory.
root=$work/src
mkdir -p "$root/bin" "$root/etc" "$root/work" "$root/data" "$root/out"
cp "$busybox" "$root/bin/busybox"
for a in sh echo cat id pwd sleep ls touch env true dd head; do ln -s busybox "$root/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/work:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\napp:x:1000:\n' >"$root/etc/group"
chmod -R a+rX "$root"

tar -C "$root" --numeric-owner --owner=0 --group=0 -cf "$work/layer.tar" .
gzip -n "$work/layer.tar"
layout=$work/img
write_image "$layout" app '{"Entrypoint":["/bin/sh","-c"],
           "Cmd":["echo $GREETING from $(pwd) as $(id -u):$(id -g)"],
           "Env":["PATH=/bin","GREETING=hello"],"WorkingDir":"/work","User":"app"}' \
	"$work/layer.tar.gz"
layer=${layers[0]}
cache=$work/cache
run() { "$cl" run --cache "$cache" "$@"; }
# As root, run maps the sandbox's ids 0-65535 to host ids from 0x70000000: image id X is
# host id base + X (the image's files are owned so in the cache, an output directory must
# be owned so on the host). Otherwise the only id inside is ours.
if [ "$(id -u)" -eq 0 ]; then
	base=1879048192
	count=65536
fi

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
[ "$(id -u)" -eq 0 ] && chown "$base:$base" "$work/outdir"   # the image's root
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

# Ownership. A second image: the first one's layer, then a plain tar layer written here
# with exact owners and modes: /home/app/secret 1000:1000 0600 in a 1000:1000 0700
# directory, /home/root-only 0:0 0600, /home/data-file 0:2000 0640, and an /etc/group
# making app a member of group 2000 (data).
l2=$work/l2src
mkdir -p "$l2/home/app" "$l2/etc"
echo "top secret" >"$l2/home/app/secret"
echo "root only" >"$l2/home/root-only"
echo "group data" >"$l2/home/data-file"
printf 'root:x:0:\napp:x:1000:\ndata:x:2000:app\n' >"$l2/etc/group"
entry() {   # entry UID GID MODE NAME: appends NAME alone to layer2.tar
	tar -C "$l2" --numeric-owner --owner="$1" --group="$2" --mode="$3" --no-recursion \
		-rf "$work/layer2.tar" "$4"
}
rm -f "$work/layer2.tar"
entry 0 0 0755 etc && entry 0 0 0644 etc/group && entry 0 0 0755 home &&
	entry 1000 1000 0700 home/app && entry 1000 1000 0600 home/app/secret &&
	entry 0 0 0600 home/root-only && entry 0 2000 0640 home/data-file ||
	fail "writing the second layer"
owned=$work/owned
write_image "$owned" owned '{"Env":["PATH=/bin"],"User":"app"}' "$work/layer.tar.gz" \
	"$work/layer2.tar"
# ls -ln NAME inside, reduced to "MODE UID GID"
owners() { awk '{ print $1, $3, $4 }' <<<"$1"; }
words() { echo $1; }   # whitespace collapsed

if [ "$(id -u)" -eq 0 ]; then
	expect 0 "image user reads its own 0600 file" -- \
		run --image "$owned" --verbose -- /bin/cat /home/app/secret
	same "$out" "top secret" "secret read by app"
	contains "$err" "1 layer unpacked, 1 reused" "the shared base layer reused"
	contains "$err" "ids 0-65535 inside are host ids $base-$((base + count - 1))" "verbose map"
	expect 0 "owners inside" -- run --image "$owned" -- \
		/bin/ls -ln /home/app/secret /home/root-only /home/data-file /etc/passwd
	same "$(owners "$out")" "-rw-r--r-- 0 0
-rw------- 1000 1000
-rw-r----- 0 2000
-rw------- 0 0" "ls -ln inside"
	expect 0 "the kernel's map" -- run --image "$owned" -- /bin/sh -c \
		'cat /proc/self/uid_map /proc/self/gid_map'
	same "$(words "$out")" "0 $base $count 0 $base $count" "uid_map and gid_map"
	expect 0 "supplementary groups applied" -- run --image "$owned" -- /bin/sh -c \
		'id -u; id -G; cat /home/data-file'
	same "$(words "$out")" "1000 1000 2000 group data" "app's groups"
	expect 1 "another user cannot read it" -- run --image "$owned" --user 1001:1001 -- \
		/bin/cat /home/app/secret
	contains "$err" "Permission denied" "uid 1001"
	expect 1 "nor root's 0600 file" -- run --image "$owned" -- /bin/cat /home/root-only
	contains "$err" "Permission denied" "root-only"
	# On the host, the cached tree's owners are the image's plus the base.
	tree=$(ls -d "$cache"/chains/*.own-$base-$count/home/app 2>/dev/null)
	same "$(stat -c '%u %g %a' "$tree/secret" 2>&1)" "$((base + 1000)) $((base + 1000)) 600" \
		"host owner of the cached secret"
	same "$(stat -c '%u %g' "$tree/../root-only" 2>&1)" "$base $base" "host owner of root's file"

	# Another range: the cache builds trees of its own, never reusing the first range's.
	other=$((base + 65536))
	expect 0 "another range" -- run --image "$owned" --userns-base 0x70010000 --verbose -- \
		/bin/sh -c 'cat /proc/self/uid_map; ls -ln /home/app/secret; cat /home/app/secret'
	contains "$err" "2 layers unpacked, 0 reused" "a new range unpacks again"
	same "$(head -n1 <<<"$out" | xargs)" "0 $other $count" "uid_map of the other range"
	same "$(owners "$(sed -n 2p <<<"$out")")" "-rw------- 1000 1000" "owners in the other range"
	same "$(tail -n1 <<<"$out")" "top secret" "secret in the other range"
	same "$(stat -c '%u %g' "$cache"/chains/*.own-$other-$count/home/app/secret 2>&1)" \
		"$((other + 1000)) $((other + 1000))" "host owner in the other range"
	same "$(stat -c '%u %g' "$tree/secret")" "$((base + 1000)) $((base + 1000))" \
		"the first range's tree untouched"
	expect 0 "the first range again" -- run --image "$owned" --verbose -- /bin/cat /home/app/secret
	contains "$err" "0 layers unpacked, 2 reused" "the first range's trees reused"
	same "$out" "top secret" "secret after the other range"
	expect 121 "an image id past --userns-count" -- run --image "$owned" --userns-count 1000 \
		-- /bin/true
	contains "$err" "uid/gid 1000:1000 outside the mapped range 0-999" "count message"

	expect 120 "--userns-base 0" -- run --image "$owned" --userns-base 0
	contains "$err" "host id 0" "base 0 message"
	expect 120 "--userns-count above 65536" -- run --image "$owned" --userns-count 65537
	contains "$err" "at most 65536" "count message"
	expect 120 "a range past the last host id" -- run --image "$owned" --userns-base 0xffff0000
	contains "$err" "passes the last host id" "overflow message"
	expect 120 "--userns-base not a number" -- run --image "$owned" --userns-base 12ab
	expect 120 "a range asked by an unprivileged user" -- setpriv --reuid 65534 --regid 65534 \
		--clear-groups "$cl" run --rootfs / --userns-base 0x70000000 -- /bin/true
	contains "$err" "need root" "unprivileged range message"

	# --rootfs runs a directory as it is, with the same range: unpacked with the same
	# shift, its owners hold inside; unpacked without one (above), they are nobody.
	expect 0 "unpack with the run's shift" -- "$cl" unpack --image "$owned" \
		--id-shift "$base" --id-count "$count" --rootfs "$work/shifted"
	expect 0 "--rootfs with a shifted tree" -- "$cl" run --rootfs "$work/shifted" -- \
		/bin/ls -lnd /etc/passwd /home/app
	same "$(owners "$out")" "-rw-r--r-- 0 0
drwx------ 1000 1000" "owners of the shifted --rootfs"
	expect 0 "--rootfs with an unshifted tree" -- "$cl" run --rootfs "$work/unpacked" -- \
		/bin/ls -ln /etc/passwd
	same "$(owners "$out")" "-rw-r--r-- 65534 65534" "host root's files are nobody inside"
else
	expect 120 "a range asked by an unprivileged user" -- run --rootfs / \
		--userns-base 0x70000000 -- /bin/true
	contains "$err" "need root" "unprivileged range message"
	echo "skip: the range mapping (needs root)"
fi

leftovers=$(find "$cache" -maxdepth 1 -name 'run-*' | wc -l)
same "$leftovers" "0" "per-run directories removed"

echo "$failures failure(s)"
[ "$failures" -eq 0 ]
