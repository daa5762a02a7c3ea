// Package caddyzegocallback is the module root that xcaddy builds into
// Caddy; it only plugs in the handler. See the README.
package caddyzegocallback

import (
	// Registers http.handlers.zego_callback and the zego_callback directive.
	_ "github.com/zegoedge/caddy-zego-callback/caddymodule"
)
