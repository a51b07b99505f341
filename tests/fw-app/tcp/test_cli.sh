#!/bin/sh
# insitu-fw's command line: --help, errors that name the flag, the config file and the
# ready line's shape with --discovery-port none. Usage: test_cli.sh INSITU_FW
set -u
fw=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/insitu-fw-cli-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$fw" --help >"$tmp/out" 2>&1 || fail "--help exit $?"
grep -q '^Usage: insitu-fw --flash PATH' "$tmp/out" || fail "--help text"

expect_usage_error() { # expected-substring args...
	want=$1; shift
	"$fw" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ $rc -eq 2 ] || fail "$*: exit $rc, expected 2"
	grep -qF -- "$want" "$tmp/err" || fail "$*: stderr lacks '$want': $(cat "$tmp/err")"
}
expect_usage_error "--flash: required" --port 0
expect_usage_error "--mdts: '12X' is not a size" --flash "$tmp/f" --mdts 12X
expect_usage_error "--mdts: 6000 must be a multiple of 4 KiB" --flash "$tmp/f" --mdts 6000
expect_usage_error "--port: '70000' is not a port number" --flash "$tmp/f" --port 70000
expect_usage_error "--queue-depth: '1' is not a queue depth" --flash "$tmp/f" --queue-depth 1
expect_usage_error "--flash-size: '1Q' is not a size" --flash "$tmp/f" --flash-size 1Q
expect_usage_error "unknown option '--bogus'" --flash "$tmp/f" --bogus
expect_usage_error "--nqn: 'csd' is not an NVMe Qualified Name" --flash "$tmp/f" --nqn csd

printf 'flash = %s\nflash-size = 64M\nport = 0\n# comment\ndiscovery-port = none\nbogus = 1\n' \
	"$tmp/flash" >"$tmp/bad.conf"
expect_usage_error "$tmp/bad.conf:6: unknown key 'bogus'" --config "$tmp/bad.conf"

# a config file, a flag overriding it (the port), discovery served only on the NVM port
printf 'flash = %s\nflash-size = 64M\nport = 1\ndiscovery-port = none\nserial = CFG01\n' \
	"$tmp/flash" >"$tmp/good.conf"
mkfifo "$tmp/ready"
"$fw" --config "$tmp/good.conf" --port 0 -q >"$tmp/ready" 2>"$tmp/log" &
pid=$!
read -r line <"$tmp/ready" || fail "no ready line: $(cat "$tmp/log")"
case "$line" in
ready\ nvm=127.0.0.1:*\ discovery=127.0.0.1:*) ;;
*) fail "ready line '$line'" ;;
esac
nvm=${line#ready nvm=}; nvm=${nvm%% *}
disc=${line##*discovery=}
[ "$nvm" = "$disc" ] || fail "discovery 'none' should be served on the NVM port: $line"
[ "${nvm##*:}" != 1 ] || fail "--port 0 did not override the config file's port"
kill -TERM $pid
wait $pid
rc=$?
[ $rc -eq 0 ] || fail "exit $rc after SIGTERM: $(cat "$tmp/log")"
echo "ok: $line"
