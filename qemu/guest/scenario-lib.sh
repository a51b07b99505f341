# Helpers the guest's scenarios source: each step prints its command's output indented with
# "| " and then exactly one marker line the host parses:
#   @@ STEP ok [key=value ...]    @@ STEP fail REASON    @@ STEP skip REASON
# Markers are the only contract with the host; everything else on the console is for people.

# run NAME SECONDS CMD...: runs CMD under a time limit, output to /tmp/NAME.out (echoed).
# Returns CMD's status (143 when the time limit killed it).
run() {
	local name=$1 secs=$2 rc
	shift 2
	echo "# $name: $*"
	timeout "$secs" "$@" >"/tmp/$name.out" 2>&1
	rc=$?
	sed 's/^/| /' "/tmp/$name.out"
	return $rc
}

ok()   { echo "@@ $1 ok${2:+ $2}"; }
fail() { local n=$1; shift; echo "@@ $n fail $*"; }
skip() { local n=$1; shift; echo "@@ $n skip $*"; }

# step NAME SECONDS CMD...: run, then ok or fail with the exit status.
step() {
	local name=$1 rc
	run "$@"
	rc=$?
	if [ $rc -eq 0 ]; then
		ok "$name"
	else
		fail "$name" "exit status $rc"
	fi
	return $rc
}

# has NAME TEXT: the output of step NAME holds TEXT (a fixed string).
has() { grep -qF -- "$2" "/tmp/$1.out"; }

# field NAME KEY: the value of "KEY : value" in nvme-cli's human output of step NAME.
field() { sed -n "s/^$2[[:space:]]*:[[:space:]]*//p" "/tmp/$1.out" | head -n 1 | sed 's/ *$//'; }

# le FILE OFFSET BYTES: the unsigned little-endian integer at OFFSET (BYTES = 2, 4 or 8).
le() { od -A n -t "u$3" -j "$2" -N "$3" "$1" | tr -d ' '; }

# wait_for PATH SECONDS: polls until PATH exists (device nodes appear asynchronously).
wait_for() {
	local i=0
	while [ ! -e "$1" ]; do
		[ $i -ge $(($2 * 10)) ] && return 1
		usleep 100000
		i=$((i + 1))
	done
}

# dmesg_tail PATTERN: the kernel's recent lines matching PATTERN, for the host's report.
dmesg_tail() { dmesg | grep -E "$1" | tail -n 40 | sed 's/^/| dmesg: /'; }
