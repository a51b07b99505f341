#!/usr/bin/env bash
# libinsitu as a user gets it: `cmake --install` into a scratch prefix, then a program built
# only from the installed header and insitu.pc, once against the shared library and once
# statically; both must parse a URI exactly as the library documents.
# usage: install_test.sh BUILD_DIR CC
set -u
build=$1
cc=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fails=0

cmake --install "$build" --prefix "$dir/prefix" >"$dir/install.log" 2>&1 ||
	{ cat "$dir/install.log"; echo "FAIL: cmake --install"; exit 1; }
pc=$(find "$dir/prefix" -name insitu.pc | head -1)
[ -n "$pc" ] || { echo "FAIL: insitu.pc was not installed"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc")
pkg() { pkg-config --define-variable=prefix="$dir/prefix" "$@" insitu; }

cat >"$dir/use.c" <<'C'
#include <stdio.h>
#include <insitu/insitu.h>

int main(void)
{
	struct insitu_uri u;
	char err[256];
	uint64_t sz = 0;

	if (insitu_uri_parse("nvme+tcp://[::1]:4421/nqn.2026-11.dev.insitu:csd", &u, err,
			     sizeof(err)) < 0) {
		printf("error: %s\n", err);
		return 1;
	}
	if (insitu_parse_size("128K", &sz) < 0)
		return 1;
	printf("%s %u %s %llu\n", u.host, u.port, u.nqn, (unsigned long long)sz);
	return 0;
}
C
want="::1 4421 nqn.2026-11.dev.insitu:csd 131072"

# shared
if "$cc" -o "$dir/use-shared" "$dir/use.c" $(pkg --cflags --libs) 2>"$dir/cc.log"; then
	got=$(LD_LIBRARY_PATH=$(pkg --variable=libdir) "$dir/use-shared")
	[ "$got" = "$want" ] && echo "ok: shared libinsitu through insitu.pc" ||
		{ echo "FAIL: shared: got '$got', want '$want'"; fails=$((fails + 1)); }
	ldd "$dir/use-shared" | grep -q 'libinsitu\.so' && echo "ok: linked against libinsitu.so" ||
		{ echo "FAIL: not linked against libinsitu.so"; fails=$((fails + 1)); }
else
	cat "$dir/cc.log"; echo "FAIL: build against the shared library"; fails=$((fails + 1))
fi

# static
if "$cc" -o "$dir/use-static" "$dir/use.c" $(pkg --cflags) \
	"$(pkg --variable=libdir)/libinsitu.a" $(pkg --libs --static | sed 's/-linsitu//') \
	2>"$dir/cc.log"; then
	got=$("$dir/use-static")
	[ "$got" = "$want" ] && echo "ok: static libinsitu.a through insitu.pc" ||
		{ echo "FAIL: static: got '$got', want '$want'"; fails=$((fails + 1)); }
	ldd "$dir/use-static" | grep -q 'libinsitu\.so' &&
		{ echo "FAIL: static build still needs libinsitu.so"; fails=$((fails + 1)); } ||
		echo "ok: static build needs no libinsitu.so"
else
	cat "$dir/cc.log"; echo "FAIL: build against the static library"; fails=$((fails + 1))
fi
exit $((fails > 0))
