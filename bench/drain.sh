#!/usr/bin/env bash
# How fast the spool drains a backlog to a backend that has come back, for
# two Caddy binaries side by side in one run, and whether every callback
# reached the backend exactly once. Each run, for one binary:
#   1. starts a backend (loadtool keys-upstream) answering 503, which counts
#      what it gets by Idempotency-Key, and Caddy on a fresh file_system
#      storage;
#   2. posts N distinct, validly signed callbacks: each should be answered
#      202 (spooled) after the backend refused it;
#   3. switches the backend to 200 and times, from that moment, until it has
#      accepted N distinct keys (polled every 100 ms; the time is the
#      backend's own, from the switch to the first acceptance of the last
#      key), then waits SETTLE seconds for late duplicates;
#   4. stops Caddy and the backend and removes the run's files.
# The rounds alternate the binaries (OLD first in odd rounds, NEW first in
# even ones). It prints one line per round and binary, the median items/s
# of each binary and the ratio NEW/OLD.
#
#   OLD_CADDY=/tmp/old/caddy NEW_CADDY=./caddy bench/drain.sh    # N=2000 ROUNDS=3
#
# Build the old binary from any revision in a worktree of its own:
#
#   git worktree add /tmp/old <rev> && (cd /tmp/old && ./xcaddy.sh)
#   # first build ~100 s, cached ~10 s; afterwards: git worktree remove /tmp/old
#
# and the new one with ./xcaddy.sh here.
#
# The two binaries take different Caddyfiles, chosen by OLD_SYNTAX and
# NEW_SYNTAX (old or new):
#   old: zego_callback { app_id; spool { retry }; dedupe } then reverse_proxy
#        after it in the route;
#   new: zego_callback { app_id; spool { retry; concurrency }; deliver {
#        reverse_proxy } }.
# For a dry run of this script with one old binary as both:
#
#   OLD_CADDY=/tmp/old/caddy NEW_CADDY=/tmp/old/caddy NEW_SYNTAX=old N=300 ROUNDS=1 bench/drain.sh
#
# Two scenarios:
#   raw (the default): RETRY=1s, the backend back at once after the posts:
#     the rate of the worker itself;
#   outage: RETRY=default (the module's schedule, 10s 1m 5m ...), DOWN=15
#     (the backend stays down 15 s more, so each item fails its first
#     redelivery and waits a minute) and LIVE=1 (one fresh callback is
#     posted when the backend is back, as ZEGO's next one would be): how
#     long a returning backend waits for the backlog.
#
#   OLD_CADDY=... NEW_CADDY=... RETRY=default DOWN=15 LIVE=1 N=2000 bench/drain.sh
#
# Other settings: RETRY (spool retry waits, default 1s; "default" for the
# module's own schedule), DOWN (seconds the backend stays down after the
# posts, default 0), LIVE (1: post one fresh callback at the switch,
# default 0), CONCURRENCY (the
# new syntax's spool concurrency, default 4), POST_CONCURRENCY (callbacks
# posted in parallel, default 8), TIMEOUT (seconds a drain may take, default
# 600), SETTLE (seconds to wait for duplicates after the drain, default 3).
#
# Everything listens on 127.0.0.1 only; it stops what it started, by PID.
# It exits 1 if any run failed: Caddy did not start, a post was not
# answered 202, the drain timed out, or a key reached the backend twice.
set -euo pipefail
cd "$(dirname "$0")/.."

n=${N:-2000}
rounds=${ROUNDS:-3}
retry=${RETRY:-1s}
down=${DOWN:-0}
live=${LIVE:-0}
concurrency=${CONCURRENCY:-4}
post_concurrency=${POST_CONCURRENCY:-8}
timeout=${TIMEOUT:-600}
settle=${SETTLE:-3}
caddy_port=18180 admin_port=18119 upstream_port=18190 control_port=18191

declare -A caddy syntax
for which in OLD NEW; do
	var=${which}_CADDY
	if [ -z "${!var:-}" ]; then
		echo "drain.sh: set OLD_CADDY and NEW_CADDY to the two Caddy binaries (see the top of $0)" >&2
		exit 2
	fi
	caddy[$which]=$(realpath "${!var}")
	if [ ! -x "${caddy[$which]}" ]; then
		echo "drain.sh: $var=${!var} is not an executable" >&2
		exit 2
	fi
	# Not a pipe into grep -q: under pipefail, grep quitting early fails it.
	modules=$("${caddy[$which]}" list-modules)
	if ! grep -qx 'http.handlers.zego_callback' <<<"$modules"; then
		echo "drain.sh: $var=${!var} has no http.handlers.zego_callback" >&2
		exit 2
	fi
done
syntax[OLD]=${OLD_SYNTAX:-old}
syntax[NEW]=${NEW_SYNTAX:-new}
for which in OLD NEW; do
	case ${syntax[$which]} in old | new) ;; *)
		echo "drain.sh: ${which}_SYNTAX must be old or new, not ${syntax[$which]}" >&2
		exit 2
		;;
	esac
done
command -v curl >/dev/null || { echo "drain.sh: needs curl" >&2; exit 2; }
for port in $caddy_port $admin_port $upstream_port $control_port; do
	if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/"; then
		echo "drain.sh: something already listens on 127.0.0.1:$port" >&2
		exit 2
	fi
done

work=$(mktemp -d)
caddy_pid="" upstream_pid=""
# stop PID: SIGTERM, then SIGKILL if it is still there after 10 s.
stop() {
	local pid=$1
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
cleanup() {
	stop "$caddy_pid"
	stop "$upstream_pid"
	rm -rf "$work"
}
trap cleanup EXIT
trap "exit 130" INT TERM # so that cleanup runs then too

export ZEGO_CALLBACK_SECRET=drain-test-secret
go build -o "$work/loadtool" ./bench/loadtool

retry_line="retry $retry"
[ "$retry" != default ] || retry_line=""

# caddyfile SYNTAX STORAGE: the config for one run.
caddyfile() {
	cat <<CADDY
{
	admin 127.0.0.1:$admin_port
	default_bind 127.0.0.1
	persist_config off
	storage file_system $2
}
http://127.0.0.1:$caddy_port {
	route /zego/compose {
CADDY
	if [ "$1" = old ]; then
		cat <<CADDY
		zego_callback {env.ZEGO_CALLBACK_SECRET} {
			app_id 1234567890
			spool {
				$retry_line
			}
			dedupe 10m
		}
		reverse_proxy 127.0.0.1:$upstream_port
CADDY
	else
		cat <<CADDY
		zego_callback {env.ZEGO_CALLBACK_SECRET} {
			app_id 1234567890
			spool {
				$retry_line
				concurrency $concurrency
			}
			deliver {
				reverse_proxy 127.0.0.1:$upstream_port
			}
		}
CADDY
	fi
	cat <<CADDY
	}
}
CADDY
}

control=http://127.0.0.1:$control_port
stats() { curl -sf --max-time 5 "$control/stats"; }
# field NAME STATS: one value of a stats (or post) line.
field() { tr ' ' '\n' <<<"$2" | awk -F= -v k="$1" '$1 == k {print $2; found=1} END {if (!found) print 0}'; }

declare -A rate
failed=0
# drain WHICH ROUND: one run of binary WHICH; prints its line and records
# its items/s in rate[WHICH ROUND] (empty if the run failed).
drain() {
	local which=$1 round=$2 run
	local problems=()
	run=$(mktemp -d "$work/run.XXXXXX")
	mkdir "$run/storage" "$run/config" "$run/data"
	rate[$which$round]=""

	"$work/loadtool" keys-upstream -addr "127.0.0.1:$upstream_port" -control "127.0.0.1:$control_port" -status 503 \
		>"$run/upstream.log" 2>&1 &
	upstream_pid=$!
	caddyfile "${syntax[$which]}" "$run/storage" >"$run/Caddyfile"
	XDG_CONFIG_HOME="$run/config" XDG_DATA_HOME="$run/data" \
		"${caddy[$which]}" run --config "$run/Caddyfile" --adapter caddyfile >"$run/caddy.log" 2>&1 &
	caddy_pid=$!

	local ready=""
	for _ in $(seq 150); do
		kill -0 "$caddy_pid" 2>/dev/null && kill -0 "$upstream_pid" 2>/dev/null || break
		if stats >/dev/null && curl -sf -o /dev/null --max-time 1 "http://127.0.0.1:$admin_port/config/" &&
			curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$caddy_port/"; then
			ready=1
			break
		fi
		sleep 0.1
	done
	if [ -z "$ready" ]; then
		echo "round $round $which (${syntax[$which]} syntax): Caddy or the backend did not start; Caddy's log:" >&2
		tail -n 20 "$run/caddy.log" >&2
		tail -n 5 "$run/upstream.log" >&2
		failed=1
		stop "$caddy_pid"; stop "$upstream_pid"; caddy_pid="" upstream_pid=""
		rm -rf "$run"
		return
	fi

	# Signed now, so that none is stale (max_age) when it is posted.
	"$work/loadtool" bodies -n $((n + live)) -out "$run/all.txt"
	head -n "$n" "$run/all.txt" >"$run/bodies.txt"
	local posted
	posted=$("$work/loadtool" post -url "http://127.0.0.1:$caddy_port/zego/compose" -bodies "$run/bodies.txt" \
		-concurrency "$post_concurrency" 2>>"$run/post.log")
	local accepted202 spooled
	accepted202=$(field status_202 "$posted") spooled=$(field spooled "$posted")
	[ "$accepted202" -eq "$n" ] || problems+=("only $accepted202 of $n posts answered 202 ($posted)")

	# The 503 phase: each callback once, plus the worker's attempts while
	# the backend still refused.
	sleep "$down"
	local before
	before=$(stats)
	curl -sf --max-time 5 -X PUT --data 200 "$control/status" >/dev/null
	if [ "$live" -eq 1 ]; then
		local live_status
		live_status=$(tail -n 1 "$run/all.txt" | curl -s -o /dev/null -w '%{http_code}' --max-time 15 \
			-H 'Content-Type: application/json' --data-binary @- "http://127.0.0.1:$caddy_port/zego/compose")
		[ "$live_status" = 200 ] || problems+=("the fresh callback at the switch was answered $live_status, not 200")
	fi
	local want=$((n + live))

	local start now distinct after="" timed_out=""
	start=$(date +%s%N)
	while :; do
		after=$(stats)
		distinct=$(field distinct "$after")
		[ "$distinct" -ge "$want" ] && break
		now=$(date +%s%N)
		if [ $(((now - start) / 1000000000)) -ge "$timeout" ]; then
			timed_out=1
			problems+=("timed out after ${timeout}s with $distinct of $want keys delivered")
			break
		fi
		if ! kill -0 "$caddy_pid" 2>/dev/null; then
			problems+=("Caddy exited during the drain with $distinct of $want keys delivered")
			timed_out=1
			break
		fi
		sleep 0.1
	done
	local last_ms seconds
	last_ms=$(field last_ms "$after")
	sleep "$settle"
	after=$(stats)
	# What the worker still holds: files left under the spool's folder.
	local left=0
	if [ -d "$run/storage/zego_callback/spool" ]; then
		left=$(find "$run/storage/zego_callback/spool" -type f | wc -l)
	fi
	stop "$caddy_pid"; stop "$upstream_pid"; caddy_pid="" upstream_pid=""

	local duplicated bad_key
	duplicated=$(field duplicated "$after") bad_key=$(field bad_key "$after")
	[ "$duplicated" -eq 0 ] || problems+=("$duplicated keys delivered more than once")
	[ "$bad_key" -eq 0 ] || problems+=("$bad_key requests without a well-formed Idempotency-Key")
	[ "$(field distinct "$after")" -le "$want" ] || problems+=("more distinct keys than callbacks posted")

	local result
	if [ -z "$timed_out" ] && [ "$last_ms" -ge 0 ]; then
		seconds=$(awk -v ms="$last_ms" 'BEGIN {printf "%.3f", (ms > 0 ? ms : 1) / 1000}')
		rate[$which$round]=$(awk -v n="$n" -v s="$seconds" 'BEGIN {printf "%.1f", n / s}')
		result="$n items in ${seconds}s = ${rate[$which$round]} items/s"
	else
		result="no drain time"
	fi
	printf 'round %s %s (%s syntax): %s; posts: 202 %s/%s (spooled %s); 503 phase: %s requests, %s keys; after the switch: %s requests, %s keys, %s duplicated; left in the spool: %s\n' \
		"$round" "$which" "${syntax[$which]}" "$result" "$accepted202" "$n" "$spooled" \
		"$(field refused "$before")" "$(field refused_distinct "$before")" \
		"$(field accepted "$after")" "$(field distinct "$after")" "$duplicated" "$left"
	if [ ${#problems[@]} -gt 0 ]; then
		failed=1
		for p in "${problems[@]}"; do echo "  FAILED: $p"; done
		echo "  Caddy's log ends:"
		tail -n 10 "$run/caddy.log" | sed 's/^/    /'
	fi
	rm -rf "$run"
}

for round in $(seq "$rounds"); do
	if [ $((round % 2)) -eq 1 ]; then order="OLD NEW"; else order="NEW OLD"; fi
	for which in $order; do drain "$which" "$round"; done
done

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {if (NR == 0) print ""; else print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
# rates WHICH: the items/s of WHICH's successful runs.
rates() { local k; for k in $(seq "$rounds"); do [ -z "${rate[$1$k]}" ] || echo "${rate[$1$k]}"; done; }
echo
declare -A med
for which in OLD NEW; do
	mapfile -t values < <(rates "$which")
	med[$which]=$(median "${values[@]}")
	printf 'median %s (%s): %s items/s over %s of %s rounds\n' "$which" "${caddy[$which]}" "${med[$which]:-none}" "${#values[@]}" "$rounds"
done
# Also the median of each round's own ratio, which drift of the machine
# between rounds moves less.
ratios=()
for k in $(seq "$rounds"); do
	[ -n "${rate[OLD$k]}" ] && [ -n "${rate[NEW$k]}" ] &&
		ratios+=("$(awk -v a="${rate[NEW$k]}" -v b="${rate[OLD$k]}" 'BEGIN {print a / b}')")
done
if [ -n "${med[OLD]}" ] && [ -n "${med[NEW]}" ] && [ ${#ratios[@]} -gt 0 ]; then
	awk -v a="${med[NEW]}" -v b="${med[OLD]}" -v r="$(median "${ratios[@]}")" \
		'BEGIN {printf "NEW/OLD: %.2f (medians); %.2f (median of the rounds'"'"' own ratios)\n", a / b, r}'
fi
if [ "$failed" -ne 0 ]; then
	echo "some runs FAILED (see above)"
	exit 1
fi
echo "every callback answered 202 and delivered exactly once"
