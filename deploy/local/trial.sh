#!/usr/bin/env bash
# Runs the local HTTPS trial of deploy/local/Caddyfile as a normal user and
# checks what it promises: Caddy starts without root, a signed callback
# sent over HTTPS gets the demo backend's answer, a retry of it is a
# duplicate, and every socket Caddy listens on is on loopback. Run as root
# (as CI does), Caddy runs as nobody. Stops only the Caddy it started.
#
#   deploy/local/trial.sh [path/to/caddy]     default ./caddy (./xcaddy.sh builds it)
set -euo pipefail
cd "$(dirname "$0")/../.."
caddy=$(realpath "${1:-./caddy}")
command -v ss >/dev/null || { echo "trial.sh: needs ss (Debian's iproute2)" >&2; exit 1; }

# Caddy's storage, config and a copy of the binary and the Caddyfile in a
# folder of the user running the trial, so that nobody can read them
# wherever this checkout is.
work=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; wait "$pid" || true; fi
	rm -rf "$work"
}
trap cleanup EXIT
cp "$caddy" "$work/caddy"
cp deploy/local/Caddyfile "$work/Caddyfile"
run_as=()
if [ "$(id -u)" -eq 0 ]; then
	chown -R nobody:nogroup "$work"
	run_as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
fi

export ZEGO_CALLBACK_SECRET=trial-only-secret
# setpriv and env exec, so $! is Caddy's own PID.
"${run_as[@]}" env -i PATH=/usr/bin:/bin HOME="$work" XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config" \
	ZEGO_CALLBACK_SECRET="$ZEGO_CALLBACK_SECRET" \
	"$work/caddy" run --config "$work/Caddyfile" --adapter caddyfile >"$work/caddy.log" 2>&1 &
pid=$!

root="$work/data/caddy/pki/authorities/local/root.crt"
for _ in $(seq 100); do
	if [ -s "$root" ] && ss -Hltn 'sport = :8443' | grep -q .; then break; fi
	kill -0 "$pid" 2>/dev/null || { cat "$work/caddy.log"; echo "trial.sh: Caddy exited" >&2; exit 1; }
	sleep 0.1
done

user=$(ps -o user= -p "$pid")
echo "trial.sh: Caddy (PID $pid) runs as $user"
[ "$user" != root ] || { echo "trial.sh: Caddy runs as root" >&2; exit 1; }

send() {
	"$caddy" zego-callback send --url https://localhost:8443/zego/callback --secret-env ZEGO_CALLBACK_SECRET \
		--cacert "$root" --task-id trial-task --retries 0
}
first=$(send) || { echo "$first"; cat "$work/caddy.log"; exit 1; }
echo "$first"
grep -q '^attempt 1: 200 OK' <<<"$first" || { echo "trial.sh: not answered 200" >&2; exit 1; }
grep -q '"task_id":"trial-task"' <<<"$first" || { echo "trial.sh: no echoed document" >&2; exit 1; }
again=$(send)
echo "$again"
grep -q '^attempt 1: 200 OK .*(duplicate)' <<<"$again" || { echo "trial.sh: the retry was not a duplicate" >&2; exit 1; }

listeners=$(ss -Hltunp | grep "pid=$pid," | awk '{print $1, $5}')
echo "trial.sh: Caddy listens on:"
echo "$listeners" | sed 's/^/  /'
[ -n "$listeners" ] || { echo "trial.sh: no listener found" >&2; exit 1; }
if grep -vE ' (127\.0\.0\.1|\[::1\]):[0-9]+$' <<<"$listeners"; then
	echo "trial.sh: a listener is not on loopback" >&2; exit 1
fi

kill "$pid"
wait "$pid" || true
pid=
echo "trial.sh: passed"
