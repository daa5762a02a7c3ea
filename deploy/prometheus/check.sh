#!/usr/bin/env bash
# Checks the monitoring files against a real Caddy and a real Prometheus:
#
#   deploy/prometheus/check.sh [./caddy]
#
# 1. promtool: alerts.yml and prometheus.yml are valid, alerts_test.yml
#    passes;
# 2. a ./caddy (built by ./xcaddy.sh) runs a zego_callback with a spool
#    and a backend on loopback, and gets a short session: a genuine
#    callback delivered, a forged and a stale one rejected, one spooled
#    while the backend fails and delivered by the spool once it is back,
#    one answered 503 by a handler without a spool (upstream_failed);
# 3. a Prometheus scrapes that Caddy every second with alerts.yml loaded;
#    every rule must be loaded with health ok, and every dashboard query
#    and every alert's value (see below) must parse and return a series.
#
# Installs what is missing from Debian's packages (prometheus, jq, curl,
# iproute2). Listens on 127.0.0.1 only, writes only under a temporary
# folder, and stops only the processes it started. Runs as root when it
# has to install; about 20 s once installed.
set -euo pipefail

caddy=$(realpath -e "${1:-./caddy}")
cd "$(dirname "$0")/../.."
alerts=$PWD/deploy/prometheus/alerts.yml
dashboard=$PWD/deploy/grafana/dashboard.json

stage() { printf '== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

missing=()
command -v promtool >/dev/null || missing+=(prometheus)
command -v prometheus >/dev/null || missing+=(prometheus)
command -v jq >/dev/null || missing+=(jq)
command -v curl >/dev/null || missing+=(curl)
command -v ss >/dev/null || missing+=(iproute2) # free ports
if [ ${#missing[@]} -gt 0 ]; then
	mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
	# Debian's prometheus package also installs a prometheus.service; in a
	# container without systemd nothing starts it.
	stage "installing ${missing[*]} from Debian's packages"
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
stage "$(promtool --version 2>&1 | head -n 1)"

stage "promtool check rules, check config, test rules"
promtool check rules "$alerts" >/dev/null
# rule_files is relative to prometheus.yml, so it checks as it stands.
promtool check config deploy/prometheus/prometheus.yml >/dev/null
# prometheus.yml scrapes the metrics site of Caddyfile.production.
metrics_port=$(sed -nE 's|^http://:([0-9]+) \{$|\1|p' Caddyfile.production)
[ -n "$metrics_port" ] || fail "Caddyfile.production has no http://:PORT metrics site"
grep -q "\"127.0.0.1:$metrics_port\"" deploy/prometheus/prometheus.yml ||
	fail "prometheus.yml does not scrape 127.0.0.1:$metrics_port, Caddyfile.production's metrics site"
promtool test rules deploy/prometheus/alerts_test.yml >/dev/null || promtool test rules deploy/prometheus/alerts_test.yml
alert_count=$(grep -c '^ *- alert: ' "$alerts")
echo "ok: $alert_count alerts, their unit tests pass"

tmp=$(mktemp -d)
pids=()
cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		# Bounded: a process that ignores SIGTERM for 5 s gets SIGKILL.
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
# A failure shows the logs of what ran.
logs_on_failure() {
	local status=$?
	if [ "$status" -ne 0 ]; then
		for log in "$tmp"/caddy.log "$tmp"/prometheus.log; do
			[ -f "$log" ] && { echo "--- tail of $(basename "$log")"; tail -n 20 "$log"; }
		done
	fi
	cleanup
	exit "$status"
}
trap logs_on_failure EXIT

# A free loopback port, not one already taken by this script.
used_ports=" "
free_port() {
	local port
	for _ in $(seq 100); do
		port=$((20000 + RANDOM % 40000))
		if [[ $used_ports != *" $port "* ]] && [ -z "$(ss -Hltn "sport = :$port")" ]; then
			used_ports+="$port "
			echo "$port"
			return
		fi
	done
	fail "no free port found"
}

# wait_for SECONDS WHAT COMMAND...: polls COMMAND every 0.2 s.
wait_for() {
	local deadline=$((SECONDS + $1)) what=$2
	shift 2
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || fail "timed out waiting for $what"
		sleep 0.2
	done
}

export XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data" ZC_DIR=$tmp
ZC_ADMIN_PORT=$(free_port)
ZC_EDGE_PORT=$(free_port)
ZC_BACKEND_PORT=$(free_port)
ZC_METRICS_PORT=$(free_port)
prometheus_port=$(free_port)
export ZC_ADMIN_PORT ZC_EDGE_PORT ZC_BACKEND_PORT ZC_METRICS_PORT
ZEGO_CALLBACK_SECRET=check-sh-secret-$RANDOM$RANDOM
export ZEGO_CALLBACK_SECRET
mkdir -p "$tmp/backend"
config=$tmp/Caddyfile
cat >"$config" <<'EOF'
{
	admin 127.0.0.1:{$ZC_ADMIN_PORT}
	persist_config off
	default_bind 127.0.0.1
	storage file_system {
		root {$ZC_DIR}/storage
	}
}

http://127.0.0.1:{$ZC_EDGE_PORT} {
	route /zego/callback {
		zego_callback {env.ZEGO_CALLBACK_SECRET} {
			spool {
				retry 1s
				max_age 1h
			}
			deliver {
				reverse_proxy 127.0.0.1:{$ZC_BACKEND_PORT}
			}
		}
	}
	# No spool: a failure is ZEGO's to retry (upstream_failed).
	route /zego/nospool {
		zego_callback {env.ZEGO_CALLBACK_SECRET} {
			deliver {
				reverse_proxy 127.0.0.1:{$ZC_BACKEND_PORT}
			}
		}
	}
}

# The backend: 200 while the file "up" exists, 503 otherwise, switched
# without a reload (a reload would restart every counter).
http://127.0.0.1:{$ZC_BACKEND_PORT} {
	root * {$ZC_DIR}/backend
	@up file /up
	handle @up {
		respond "accepted" 200
	}
	handle {
		respond "down" 503
	}
}

# As in Caddyfile.production.
http://:{$ZC_METRICS_PORT} {
	bind 127.0.0.1
	metrics /metrics
}
EOF

metrics_url=http://127.0.0.1:$ZC_METRICS_PORT/metrics
# count NAME [LABEL_TEXT]: the sum of NAME's samples whose labels hold
# LABEL_TEXT, from Caddy's metrics site.
count() {
	curl -fs --max-time 3 "$metrics_url" | awk -v name="$1" -v labels="${2:-}" '
		index($0, name "{") == 1 || index($0, name " ") == 1 {
			if (index($0, labels)) { sum += $NF }
		}
		END { print sum + 0 }'
}
at_least() { [ "$(count "$1" "$2")" -ge "$3" ] 2>/dev/null; }
worker_passed() { [ "$(count caddy_zego_callback_spool_last_pass_timestamp_seconds | cut -d. -f1)" != 0 ] 2>/dev/null; }

stage "caddy run on 127.0.0.1 (edge :$ZC_EDGE_PORT, backend :$ZC_BACKEND_PORT, metrics :$ZC_METRICS_PORT)"
"$caddy" run --config "$config" --adapter caddyfile >"$tmp/caddy.log" 2>&1 &
pids+=($!)
wait_for 15 "Caddy's metrics site and the spool worker" worker_passed
echo "ok: serving, the spool worker passes"

stage "prometheus on 127.0.0.1:$prometheus_port, scraping every 1s"
cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $alerts
scrape_configs:
  - job_name: caddy
    static_configs:
      - targets: ["127.0.0.1:$ZC_METRICS_PORT"]
EOF
promtool check config "$tmp/prometheus.yml" >/dev/null
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/prometheus-data" \
	--web.listen-address="127.0.0.1:$prometheus_port" --log.level=warn >"$tmp/prometheus.log" 2>&1 &
pids+=($!)
api=http://127.0.0.1:$prometheus_port/api/v1
# Started now, so that it scrapes the session as it happens.

stage "a scripted session"
url=http://127.0.0.1:$ZC_EDGE_PORT/zego/callback
send() { "$caddy" zego-callback send --retries 0 --timeout 5s "$@" >>"$tmp/send.log" 2>&1; }
requests=caddy_zego_callback_requests_total
touch "$tmp/backend/up"
send --url "$url" --secret-env ZEGO_CALLBACK_SECRET || fail "a genuine callback was not delivered"
at_least $requests 'outcome="forwarded"' 1 || fail "no forwarded callback counted"
! send --url "$url" --secret forged-secret || fail "a forged callback was accepted"
at_least $requests 'outcome="bad_signature"' 1 || fail "no bad_signature counted"
! send --url "$url" --secret-env ZEGO_CALLBACK_SECRET --timestamp $(($(date +%s) - 3600)) || fail "a stale callback was accepted"
at_least $requests 'outcome="stale_timestamp"' 1 || fail "no stale_timestamp counted"
echo "ok: delivered 1, rejected 1 forged (bad_signature) and 1 stale (stale_timestamp)"
rm "$tmp/backend/up"
send --url "$url" --secret-env ZEGO_CALLBACK_SECRET || fail "a callback was not spooled while the backend failed"
at_least $requests 'outcome="spooled"' 1 || fail "no spooled callback counted"
! send --url "http://127.0.0.1:$ZC_EDGE_PORT/zego/nospool" --secret-env ZEGO_CALLBACK_SECRET || fail "the handler without a spool answered 2xx while the backend failed"
at_least $requests 'outcome="upstream_failed"' 1 || fail "no upstream_failed counted"
wait_for 15 "a failed redelivery" at_least caddy_zego_callback_spool_redeliveries_total 'result="failed"' 1
wait_for 15 "the spooled callback counted as waiting" at_least caddy_zego_callback_spool_waiting '' 1
echo "ok: backend down: 1 spooled (202), 1 upstream_failed without a spool, redeliveries failing"
touch "$tmp/backend/up"
"$caddy" zego-callback spool retry --all --config "$config" --adapter caddyfile >>"$tmp/send.log" 2>&1 || fail "spool retry --all failed"
wait_for 15 "the spool's redelivery" at_least caddy_zego_callback_spool_redeliveries_total 'result="forwarded"' 1
spool_empty() { [ "$(count caddy_zego_callback_spool_waiting)" = 0 ]; }
wait_for 15 "an empty spool" spool_empty
echo "ok: backend back: spool retry --all, the spool delivered it, none waiting"

# query PROMQL: prints the number of series, or fails with Prometheus's error.
query() {
	local body
	body=$(curl -sS --max-time 5 --data-urlencode "query=$1" "$api/query") || return 1
	jq -er 'if .status == "success" then (.data.result | length) else error(.error) end' <<<"$body"
}
has_series() { [ "$(query "$1" 2>/dev/null || echo 0)" -gt 0 ]; }
prometheus_ready() { curl -fsS --max-time 2 "http://127.0.0.1:$prometheus_port/-/ready" >/dev/null 2>&1; }
stage "Prometheus scrapes the session"
wait_for 20 "Prometheus to be ready" prometheus_ready
wait_for 20 "a scrape after the redelivery" has_series 'caddy_zego_callback_spool_redeliveries_total{result="forwarded"} and on() caddy_zego_callback_spool_waiting == 0'
# rate() needs two samples in its window: a few scrapes more.
wait_for 20 "five scrapes" has_series 'count_over_time(up{job="caddy"}[1m]) >= 5 and on() up{job="caddy"} == 1'
echo "ok: target up, the session's final state scraped"

stage "rules loaded, health ok"
rules_ok() {
	curl -fsS --max-time 3 "$api/rules" | jq -e --argjson n "$alert_count" '
		[.data.groups[].rules[] | select(.type == "alerting")] as $r
		| ($r | length) == $n and all($r[]; .health == "ok" and .lastEvaluation != "0001-01-01T00:00:00Z")' >/dev/null
}
wait_for 15 "every alerting rule evaluated with health ok" rules_ok
echo "ok: $alert_count alerting rules, all evaluated, health ok"

failures=0
check_query() { # WHAT PROMQL
	local n
	if ! n=$(query "$2" 2>&1); then
		echo "  FAIL $1: does not run: $n"; echo "       $2"; failures=$((failures + 1))
	elif [ "$n" -eq 0 ]; then
		echo "  FAIL $1: no series"; echo "       $2"; failures=$((failures + 1))
	else
		echo "  ok   $1: $n series"
	fi
}

stage "every dashboard query returns a series"
# Grafana's interval variables become 1m, and $job, $instance (and any
# other template variable) match everything. label_values(SELECTOR, label)
# is Grafana's, not PromQL: its selector is what must return series.
mapfile -t panel_queries < <(jq -r '
	.panels[] | select(.type != "row") | .title as $t | .targets[] | "\($t) [\(.refId)]\t\(.expr)"' "$dashboard")
mapfile -t variable_queries < <(jq -r '
	.templating.list[] | select(.type == "query") | "variable \(.name)\t\(.definition)"' "$dashboard")
[ ${#panel_queries[@]} -gt 0 ] || fail "no panel queries in $dashboard"
jq -e '.__inputs[0].name == "DS_PROMETHEUS" and all(.panels[] | select(.type != "row"); .datasource.uid == "${DS_PROMETHEUS}")' "$dashboard" >/dev/null ||
	fail "the dashboard's panels must take their datasource from \${DS_PROMETHEUS}"
for line in "${panel_queries[@]}" "${variable_queries[@]}"; do
	what=${line%%$'\t'*} expr=${line#*$'\t'}
	# shellcheck disable=SC2016 # the $ are Grafana's, for sed to replace
	expr=$(sed -E -e 's/\$(__rate_interval|__interval|__range)|\$\{(__rate_interval|__interval|__range)\}/1m/g' \
		-e 's/\$\{?[A-Za-z_][A-Za-z0-9_]*(:[a-z]+)?\}?/.*/g' \
		-e 's/^label_values\((.*), *[A-Za-z_][A-Za-z0-9_]*\)$/\1/' <<<"$expr")
	check_query "$what" "$expr"
done

stage "every alert's value returns a series"
# An alert's expression is silent when all is well, so its result says
# nothing. Each expression in alerts.yml is VALUE OP NUMBER (its header
# says so): what is checked is that VALUE, the expression with its last
# comparison stripped, returns a series, so that every metric name, label
# and function it uses exists in a real Caddy's output (a misspelt metric
# or label value would leave it empty). The full expression must run too.
# The expressions come from Prometheus's rules API: the ones it loaded.
mapfile -t alert_queries < <(curl -fsS --max-time 3 "$api/rules" | jq -r '
	.data.groups[].rules[] | select(.type == "alerting") | "\(.name)\t\(.query | gsub("\n"; " "))"')
for line in "${alert_queries[@]}"; do
	name=${line%%$'\t'*} expr=${line#*$'\t'}
	value=$(sed -E 's/[[:space:]]*(>|<|>=|<=|==|!=)[[:space:]]*(bool[[:space:]]+)?[-+]?[0-9][0-9.eE+-]*[[:space:]]*$//' <<<"$expr")
	if [ "$value" = "$expr" ]; then
		echo "  FAIL $name: does not end in a comparison with a number"; failures=$((failures + 1))
		continue
	fi
	if ! n=$(query "$expr" 2>&1); then
		echo "  FAIL $name: does not run: $n"; failures=$((failures + 1))
		continue
	fi
	check_query "$name" "$value"
done

[ "$failures" -eq 0 ] || fail "$failures queries failed"
stage "check.sh passed: ${#panel_queries[@]} panel queries, ${#variable_queries[@]} variables, ${#alert_queries[@]} alerts, in ${SECONDS}s"
