#!/usr/bin/env bash
# Instructions per operation of Go benchmarks, counted by valgrind's
# cachegrind: a figure this shared machine's noise does not move (timings
# do, by up to 40 %), for telling whether a change made the code cheaper.
# It runs each benchmark for two iteration counts and divides the
# difference, so set-up is not counted.
#
#   bench/instructions.sh [PACKAGE] [BENCH_REGEXP]
#   bench/instructions.sh ./verify 'VerifyCompose$|RejectForged$'   # the defaults
#   BASE=HEAD bench/instructions.sh    # also counts the committed code, to compare
#
# Under valgrind, SHA-1 and SHA-256 run Go's generic code instead of the
# CPU's SHA instructions, so hashing counts for more than it costs. Installs
# valgrind from Debian's packages if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

pkg=${1:-./verify}
pattern=${2:-'VerifyCompose$|RejectForged$'}
low=20000 high=120000

if ! command -v valgrind >/dev/null; then
	echo "installing valgrind from Debian's packages"
	sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq && $sudo apt-get install -y -qq valgrind >/dev/null
fi

work=$(mktemp -d)
cleanup() {
	[ -d "$work/base" ] && git worktree remove --force "$work/base"
	rm -rf "$work"
}
trap cleanup EXIT

# count BINARY BENCH N: the instructions of one run of BENCH for N iterations.
# One processor and no GC, so that idle threads and collections add nothing.
count() {
	(cd "$pkg" && GOGC=off GOMAXPROCS=1 valgrind --tool=cachegrind --cache-sim=no \
		--cachegrind-out-file=/dev/null "$1" -test.run '^$' -test.bench "^$2\$" -test.benchtime "$3x" 2>&1) |
		awk '/I *refs/ {gsub(",", "", $NF); print $NF}'
}

# report LABEL BINARY: instructions/op of each benchmark matching pattern.
report() {
	local bench
	for bench in $(cd "$pkg" && "$2" -test.list "$pattern" | grep '^Benchmark'); do
		local a b
		a=$(count "$2" "$bench" "$low") b=$(count "$2" "$bench" "$high")
		printf '%-8s %-32s %8d instructions/op\n' "$1" "$bench" $(((b - a) / (high - low)))
	done
}

go test -c -o "$work/tree.test" "$pkg"
if [ -n "${BASE:-}" ]; then
	git worktree add -q --detach "$work/base" "$BASE"
	(cd "$work/base" && go test -c -o "$work/base.test" "$pkg")
	report "$BASE" "$work/base.test"
fi
report tree "$work/tree.test"
