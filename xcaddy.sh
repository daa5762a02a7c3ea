#!/usr/bin/env bash
# Builds ./caddy: Caddy v2.11.9 with this module built in. Needs only Go.
#
#   ./xcaddy.sh          build ./caddy
#   ./xcaddy.sh ensure   build only if ./caddy is missing or older than the sources
#   ./xcaddy.sh run      ensure, then run Caddyfile.example
set -euo pipefail
cd "$(dirname "$0")"

caddy_version=v2.11.9
xcaddy=github.com/caddyserver/xcaddy/cmd/xcaddy@v0.4.5
module=$(go list -m)

build() {
	# "@v0.0.0=." makes xcaddy use this checkout; without a version it asks
	# the module proxy for the unpublished path and fails.
	go run "$xcaddy" build "$caddy_version" --with "$module@v0.0.0=." --output ./caddy
	# Not a pipe into grep -q: under pipefail, grep quitting early fails it.
	modules=$(./caddy list-modules)
	if ! grep -qx 'http.handlers.zego_callback' <<<"$modules"; then
		echo "xcaddy.sh: ./caddy was built without http.handlers.zego_callback" >&2
		exit 1
	fi
	echo "xcaddy.sh: built ./caddy with http.handlers.zego_callback"
}

stale() {
	[ ! -x ./caddy ] || [ -n "$(find . -path ./.git -prune -o \( -name '*.go' -o -name go.mod -o -name go.sum \) -newer ./caddy -print -quit)" ]
}

case "${1:-build}" in
build)
	build
	;;
ensure)
	if stale; then build; fi
	;;
run)
	if stale; then build; fi
	if [ -z "${ZEGO_CALLBACK_SECRET:-}" ]; then
		export ZEGO_CALLBACK_SECRET=demo-secret-do-not-use-in-production
		echo "xcaddy.sh: ZEGO_CALLBACK_SECRET is not set: using the demo secret from xcaddy.sh (never use it in production)" >&2
	fi
	exec ./caddy run --config Caddyfile.example --adapter caddyfile
	;;
*)
	echo "usage: $0 [build|ensure|run]" >&2
	exit 2
	;;
esac
