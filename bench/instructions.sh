#!/usr/bin/env bash
# Instructions per operation of Go benchmarks, counted by valgrind's
# cachegrind: a figure this shared machine's noise does not move (timings
# do, by up to 40 %), for telling whether a change made the code cheaper.
# It runs each benchmark for two iteration counts and divides the
# difference, so set-up is not counted.
#
#   bench/instructions.sh [PACKAGE_DIR] [BENCH_REGEXP]
#   bench/instructions.sh ./verify 'VerifyCompose$|RejectForged$'   # the defaults
#   BASE=HEAD bench/instructions.sh    # also counts the committed code, to compare
#
# PACKAGE_DIR is a directory relative to the repository's root. A benchmark
# with sub-benchmarks is counted as their sum.
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
	if [ -d "$work/base" ]; then git worktree remove --force "$work/base" || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

# count DIR BINARY BENCH N: the instructions of one run of BENCH for N
# iterations, run in DIR. One processor and no GC, so that idle threads and
# collections add nothing.
count() {
	local out
	if ! out=$(cd "$1" && GOGC=off GOMAXPROCS=1 valgrind --tool=cachegrind --cache-sim=no \
		--cachegrind-out-file=/dev/null "$2" -test.run '^$' -test.bench "^$3\$" -test.benchtime "$4x" 2>&1); then
		echo "$out" | tail -20 >&2
		echo "instructions.sh: $3 failed under valgrind" >&2
		return 1
	fi
	local refs
	refs=$(awk '/I *refs/ {gsub(",", "", $NF); print $NF}' <<<"$out")
	if [ -z "$refs" ]; then
		echo "instructions.sh: valgrind printed no instruction count for $3" >&2
		return 1
	fi
	echo "$refs"
}

# report LABEL DIR BINARY: instructions/op of each benchmark matching
# pattern.
report() {
	local benches bench low_count high_count
	benches=$(cd "$2" && "$3" -test.list "$pattern" | grep '^Benchmark' || true)
	if [ -z "$benches" ]; then
		echo "instructions.sh: no benchmark in $pkg matches $pattern" >&2
		return 1
	fi
	for bench in $benches; do
		low_count=$(count "$2" "$3" "$bench" "$low")
		high_count=$(count "$2" "$3" "$bench" "$high")
		printf '%-8s %-32s %8d instructions/op\n' "$1" "$bench" $(((high_count - low_count) / (high - low)))
	done
}

go test -c -o "$work/tree.test" "$pkg"
if [ -n "${BASE:-}" ]; then
	git worktree add -q --detach "$work/base" "$BASE"
	(cd "$work/base" && go test -c -o "$work/base.test" "$pkg")
	# Run in the base's own package directory, so that it reads its testdata.
	report "$BASE" "$work/base/$pkg" "$work/base.test"
fi
report tree "$pkg" "$work/tree.test"
