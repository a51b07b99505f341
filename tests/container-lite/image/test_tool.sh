#!/usr/bin/env bash
# The container-lite tool as a user meets it: --help, exit codes (120 usage, 121 bad
# image, 125 system), unpack from a directory, an archive and through the cache, inspect
# as text and JSON, the resolver switch. Images come from make_test_image.
#   test_tool.sh CONTAINER_LITE MAKE_TEST_IMAGE
set -u
cl=$(readlink -f "$1")
make_image=$(readlink -f "$2")
work=$(mktemp -d "${TMPDIR:-/tmp}/cl-tool-XXXXXX")
trap 'rm -rf "$work"' EXIT
. "$(dirname "$(readlink -f "$0")")/../cli_assert.sh"

"$make_image" "$work" || { echo "cannot build the test images"; exit 1; }
cd "$work"

expect 0 "top-level --help" -- "$cl" --help
contains "$out" "Exit status" "--help"
contains "$out" "121      bad image" "--help"
contains "$out" "container-lite run --image PATH [--ref NAME] [--bind SRC:DST[:ro|rw]]..." "--help"
expect 120 "no command" -- "$cl"
expect 120 "unknown command" -- "$cl" frobnicate
contains "$err" 'unknown command "frobnicate"' "unknown command"
expect 0 "unpack --help" -- "$cl" unpack --help
contains "$out" "--rootfs DIR" "unpack --help"
expect 0 "inspect --help" -- "$cl" inspect --help
contains "$out" "-o, --output text|json" "inspect --help"

expect 120 "unpack without --rootfs" -- "$cl" unpack --image img
contains "$err" "--image PATH and --rootfs DIR are required" "missing option"
expect 120 "unknown option" -- "$cl" unpack --image img --rootfs r --frob
expect 120 "option without argument" -- "$cl" unpack --image
expect 120 "bad --max-bytes" -- "$cl" unpack --image img --rootfs r --max-bytes lots
expect 120 "bad platform" -- "$cl" inspect --image img --platform linux
expect 120 "bad resolver" -- env CONTAINER_LITE_RESOLVER=magic "$cl" unpack --image img --ref app --rootfs r

expect 0 "unpack app" -- "$cl" unpack --image img --ref app --rootfs rootfs
contains "$out" "unpacked 2 layers into rootfs" "unpack summary"
[ "$(cat rootfs/etc/app.conf)" = "port=80" ] || fail "rootfs/etc/app.conf"
[ "$(stat -c %a rootfs/etc/app.conf)" = "640" ] || fail "mode of app.conf"
[ -e rootfs/etc/other.conf ] && fail "other.conf must not be in app"
expect 125 "unpack onto a non-empty directory" -- "$cl" unpack --image img --ref app --rootfs rootfs
contains "$err" "rootfs exists and is not empty" "target exists"

expect 0 "unpack from the archive, fallback resolver" -- env CONTAINER_LITE_RESOLVER=fallback "$cl" unpack --image img.tar --ref app --rootfs rootfs-tar
contains "$out" "resolver fallback" "resolver named"
diff -r --no-dereference rootfs rootfs-tar >/dev/null || fail "archive and directory trees differ"

expect 125 "target parent missing" -- "$cl" unpack --image img --ref app --rootfs no/such/rootfs
contains "$err" "create it first" "target parent missing"

expect 121 "tampered layer" -- "$cl" unpack --image bad --ref app --rootfs rootfs-bad
contains "$err" "blob digest mismatch" "tampered layer message"
contains "$err" "layer 2 of 2 (sha256:" "tampered layer names the blob"
[ -e rootfs-bad ] && fail "rootfs-bad must not exist"
ls -A | grep -q unpack- && fail "a temporary directory was left behind"

expect 121 "missing ref" -- "$cl" unpack --image img --ref nope --rootfs r
contains "$err" 'no manifest with ref "nope" (available refs: app, other)' "missing ref"
expect 121 "ambiguous" -- "$cl" unpack --image img --rootfs r
contains "$err" "choose one with --ref" "ambiguous"
expect 121 "not an image" -- "$cl" inspect --image /nonexistent/image
expect 121 "entry limit" -- "$cl" unpack --image img --ref app --rootfs r --max-entries 3
contains "$err" "more than 3 entries" "entry limit"

expect 0 "cache: first image" -- "$cl" unpack --image img --ref app --rootfs c1 --cache cache
contains "$out" "unpacked 2 layers (0 reused from the cache)" "first image through the cache"
expect 0 "cache: second image shares the base" -- "$cl" unpack --image img --ref other --rootfs c2 --cache cache --link
contains "$out" "unpacked 1 layer (1 reused from the cache)" "second image reuses the base"
[ "$(cat c2/etc/other.conf)" = "other" ] || fail "c2/etc/other.conf"
diff -r --no-dereference rootfs c1 >/dev/null || fail "cached and direct trees differ"

expect 0 "inspect text" -- "$cl" inspect --image img --ref app
contains "$out" "ref:       app" "inspect text"
contains "$out" "tar+zstd" "inspect text layers"
contains "$out" 'entrypoint  ["/bin/tool","--serve"]' "inspect text run"
expect 0 "inspect json --verify" -- "$cl" inspect --image img.tar --ref app --verify -o json
if ! printf '%s' "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["ref"] == "app", d["ref"]
assert d["manifest"]["digest"].startswith("sha256:")
assert len(d["layers"]) == 2
assert d["layers"][1]["mediaType"].endswith("tar+zstd")
assert all(l["diffID"].startswith("sha256:") and l["size"] > 0 for l in d["layers"])
assert d["layers"][0]["chainID"] == d["layers"][0]["diffID"]
assert d["run"]["entrypoint"] == ["/bin/tool", "--serve"]
assert d["run"]["cmd"] == ["--port", "80"]
assert d["run"]["env"] == ["MODE=test"]
assert d["run"]["user"] == "app" and d["run"]["workingDir"] == "/srv"
assert d["layersVerified"] is True
'; then fail "inspect JSON content"; fi
expect 0 "inspect tampered without --verify" -- "$cl" inspect --image bad
expect 121 "inspect tampered with --verify" -- "$cl" inspect --image bad --verify
contains "$err" "blob digest mismatch" "inspect --verify message"

if [ "$failures" -ne 0 ]; then
	echo "$failures failure(s)"
	exit 1
fi
echo "all tool checks passed"
