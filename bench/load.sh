#!/usr/bin/env bash
# End-to-end load test through the real ./caddy on loopback. In one run it
# alternates five configurations and reports requests/s, p99 and Caddy's
# CPU per request for each:
#   (a)  reverse_proxy alone, posting the same callbacks to a plain route
#   (b)  zego_callback delivering through reverse_proxy, every request a distinct, valid,
#        never-seen callback; Caddy's default logging (no access log)
#   (A)  (a) on a site with the access log on (one line per request)
#   (B)  (b) on that site
#   (c)  forged callbacks (bad signature) to (b)'s route
# then runs (b) for RSS_SECONDS and reports Caddy's RSS at start and end.
#
#   bench/load.sh    # DURATION=8s ROUNDS=3 RSS_SECONDS=60
#
# It installs wrk from Debian's packages if missing, starts its own
# upstream and Caddy on 127.0.0.1 only, and stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${DURATION:-8s}
rounds=${ROUNDS:-3}
rss_seconds=${RSS_SECONDS:-60}
connections=${CONNECTIONS:-32}
threads=${WRK_THREADS:-2}
# Distinct callbacks signed for each (b) run: enough for this many requests/s.
max_rps=${MAX_RPS:-15000}
caddy_port=18080 logged_port=18081 upstream_port=18090 admin_port=18019

missing=()
for tool in wrk curl; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing ${missing[*]} from Debian's packages"
	sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq && $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
./xcaddy.sh ensure >/dev/null

work=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap "exit 130" INT TERM # so that cleanup runs then too

export ZEGO_CALLBACK_SECRET=load-test-secret XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data"
go build -o "$work/loadtool" ./bench/loadtool
"$work/loadtool" upstream -addr "127.0.0.1:$upstream_port" &
pids+=($!)

# The config: the same two routes on two sites, the second with an access
# log (to a file, as in production).
cat >"$work/Caddyfile" <<CADDY
{
	admin 127.0.0.1:$admin_port
	default_bind 127.0.0.1
	persist_config off
}
http://127.0.0.1:$caddy_port {
	route /plain {
		reverse_proxy 127.0.0.1:$upstream_port
	}
	route /zego/compose {
		zego_callback {env.ZEGO_CALLBACK_SECRET} {
			deliver {
				reverse_proxy 127.0.0.1:$upstream_port
			}
		}
	}
}
http://127.0.0.1:$logged_port {
	log {
		output file $work/access.log
	}
	route /plain {
		reverse_proxy 127.0.0.1:$upstream_port
	}
	route /zego/compose {
		zego_callback {env.ZEGO_CALLBACK_SECRET} {
			deliver {
				reverse_proxy 127.0.0.1:$upstream_port
			}
		}
	}
}
CADDY
./caddy run --config "$work/Caddyfile" --adapter caddyfile >"$work/caddy.log" 2>&1 &
caddy_pid=$!
pids+=($caddy_pid)

# sign SECONDS [FILE]: fresh, never-sent callbacks for a run of SECONDS,
# signed now so that none is stale, in FILE ($work/bodies.txt).
sign() {
	"$work/loadtool" bodies -n $(($1 * max_rps)) -out "${2:-$work/bodies.txt}"
}
seconds_of() { local d=$1; case $d in *m) echo $((${d%m} * 60)) ;; *s) echo "${d%s}" ;; *) echo "$d" ;; esac; }

for _ in $(seq 50); do curl -sf "http://127.0.0.1:$upstream_port/count" >/dev/null && curl -sf -o /dev/null "http://127.0.0.1:$admin_port/config/" && break; sleep 0.1; done

sign 1
sample=$(head -n 1 "$work/bodies.txt")
# (c) posts forged copies: a valid callback with its signature zeroed.
forged="${sample%\"signature\":*}\"signature\":\"0000000000000000000000000000000000000000\"}"
for _ in $(seq 1000); do printf '%s\n' "$forged"; done >"$work/forged.txt"

upstream_count() { curl -sf "http://127.0.0.1:$upstream_port/count"; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$caddy_pid/status"; }
# Caddy's CPU time so far (user + system), in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$caddy_pid/stat"; }
ticks_per_second=$(getconf CLK_TCK)

# run NAME URL BODIES -> prints "rps p99_ms non2xx requests cpu_us", where
# cpu_us is Caddy's CPU time per request in µs: its cost, which a busy
# shared machine blurs less than it blurs throughput. Every
# configuration goes through the same Lua script, so the client does the
# same work per request in all of them.
run() {
	local out ticks
	ticks=$(cpu_ticks)
	out=$(BODIES="$3" WRK_THREADS=$threads \
		wrk -t "$threads" -c "$connections" -d "$duration" --latency -s bench/rotate.lua "$2")
	echo "$out" >>"$work/wrk-$1.log"
	local rps p99 errors requests
	rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
	requests=$(awk '/requests in/ {print $1}' <<<"$out")
	p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub("us","",v); v/=1000} else if (v ~ /ms$/) {sub("ms","",v)} else if (v ~ /s$/) {sub("s","",v); v*=1000}; print v}' <<<"$out")
	errors=$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<<"$out")
	ticks=$(($(cpu_ticks) - ticks))
	echo "$rps $p99 ${errors:-0} $requests $((ticks * 1000000 / ticks_per_second / requests))"
}

declare -A rps cpu p99s
declare -a forged_through
# measure KEY LABEL URL BODIES: one run of round $round, recorded under
# KEY, with how many requests the upstream got meanwhile (for (a) and (b),
# the requests sent plus those in flight when wrk stopped).
measure() {
	local before after r p e n u
	before=$(upstream_count)
	read -r r p e n u < <(run "$1" "$3" "$4")
	after=$(upstream_count)
	rps[$1$round]=$r cpu[$1$round]=$u p99s[$1$round]=$p
	printf 'round %s %-36s %s req/s, p99 %s ms, Caddy CPU %s µs/req, non-2xx %s of %s, upstream got %s\n' \
		"$round" "$2" "$r" "$p" "$u" "$e" "$n" "$((after - before))"
}
plain=http://127.0.0.1:$caddy_port logged=http://127.0.0.1:$logged_port
for round in $(seq "$rounds"); do
	sign "$(seconds_of "$duration")"
	sign "$(seconds_of "$duration")" "$work/bodies-logged.txt"
	# (a) sends the same callbacks to /plain, which has no zego_callback:
	# they stay never-seen for (b); (A) and (B) likewise.
	measure a "(a) reverse_proxy alone:" "$plain/plain" "$work/bodies.txt"
	measure b "(b) zego_callback, genuine:" "$plain/zego/compose" "$work/bodies.txt"
	measure A "(A) (a) with the access log:" "$logged/plain" "$work/bodies-logged.txt"
	measure B "(B) (b) with the access log:" "$logged/zego/compose" "$work/bodies-logged.txt"
	before=$(upstream_count)
	measure c "(c) zego_callback, forged:" "$plain/zego/compose" "$work/forged.txt"
	forged_through[$round]=$(($(upstream_count) - before))
done

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
# collect ARRAY CONFIG: the median over the rounds.
collect() { local -n values=$1; local k vals=(); for k in $(seq "$rounds"); do vals+=("${values[$2$k]}"); done; median "${vals[@]}"; }
echo
for key in a b A B c; do
	printf 'median (%s): %s req/s, p99 %s ms, Caddy CPU %s µs/req\n' "$key" "$(collect rps $key)" "$(collect p99s $key)" "$(collect cpu $key)"
done
forged_total=0
for n in "${forged_through[@]}"; do forged_total=$((forged_total + n)); done
echo "forged callbacks that reached the upstream: $forged_total (target 0)"
# ratio X Y: the median over the rounds of X's req/s over Y's in the same
# round, which the machine's drift between rounds moves less.
ratio() { local k vals=(); for k in $(seq "$rounds"); do vals+=("$(awk -v x="${rps[$1$k]}" -v a="${rps[$2$k]}" 'BEGIN {print x / a}')"); done; median "${vals[@]}"; }
p99ratio() { local k vals=(); for k in $(seq "$rounds"); do vals+=("$(awk -v x="${p99s[$1$k]}" -v a="${p99s[$2$k]}" 'BEGIN {print x / a}')"); done; median "${vals[@]}"; }
awk -v b="$(ratio b a)" -v B="$(ratio B A)" -v c="$(ratio c a)" -v p="$(p99ratio b a)" 'BEGIN {
	printf "median of the rounds'"'"' own ratios: b/a = %.3f (target >= 0.95)  B/A = %.3f (target >= 0.92)  c/a = %.3f (target >= 2.5)  p99 b/a = %.2f (target <= 1.2)\n", b, B, c, p }'
cat "$work"/wrk-b.log "$work"/wrk-B.log | grep -h bodies_reused_rounds | awk '{s+=$2} END {print "genuine bodies reused: " s+0 " rounds (0 means every callback was distinct)"}'

if [ "$rss_seconds" -gt 0 ]; then
	echo
	echo "RSS during (b) for ${rss_seconds}s:"
	sign "$rss_seconds"
	start_rss=$(rss_kib)
	duration=${rss_seconds}s
	run rss "$plain/zego/compose" "$work/bodies.txt" >/dev/null &
	wrk_pid=$!
	peak=$start_rss
	samples=()
	for second in $(seq "$rss_seconds"); do
		sleep 1
		now=$(rss_kib)
		[ "$now" -gt "$peak" ] && peak=$now
		[ $((second % 10)) -eq 0 ] && samples+=("${second}s:$((now / 1024))MiB")
	done
	wait "$wrk_pid" || true
	echo "  start $((start_rss / 1024)) MiB, end $(($(rss_kib) / 1024)) MiB, peak $((peak / 1024)) MiB; every 10 s: ${samples[*]}"
fi
