# Assertions the container-lite command-line tests share; sourced after $work is set.
#   expect CODE DESCRIPTION -- COMMAND...   runs it; stdout in $out, stderr in $err
#   same GOT WANT DESCRIPTION
#   contains TEXT NEEDLE DESCRIPTION
# Each failure is printed and counted in $failures.
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

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

same() {
	[ "$1" = "$2" ] || fail "$3: got \"$1\", want \"$2\""
}

contains() {
	case "$1" in *"$2"*) ;; *) fail "$3: no \"$2\" in: $1" ;; esac
}
