package caddymodule

import (
	"strconv"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/dustin/go-humanize"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("zego_callback", parseCaddyfile)
	httpcaddyfile.RegisterDirectiveOrder("zego_callback", httpcaddyfile.Before, "reverse_proxy")
}

func parseCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	handler := new(Handler)
	err := handler.UnmarshalCaddyfile(h.Dispenser)
	return handler, err
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens. Syntax:
//
//	zego_callback [<secret>] {
//	    secret   <secret>            # repeatable; any one matching passes
//	    app <app_id> {               # repeatable; this app's own secrets
//	        secret <secret>          # repeatable
//	    }
//	    app_id   <id> [<id>...]      # repeatable; default: any app
//	    events   <name> [<name>...]  # repeatable; default: compose
//	    max_age  <duration>          # default: 5m
//	    max_body <size>              # default: 64KiB (65536 bytes; 64KB is 64000)
//	    dedupe       <ttl> | off     # default: 10m
//	    dedupe_store memory | storage  # default: memory
//	    dedupe_max   <entries>       # memory store bound; default: 100000
//	    keep_query                   # forward the query string; default: dropped
//	    spool [{                     # redeliver what the upstream did not accept
//	        retry   <wait> [<wait>...]  # the last repeats; default: 10s 1m 5m 30m 2h 6h
//	        max_age <duration>          # then a dead letter; default: 72h
//	    }]
//	}
//
// Secrets may be placeholders such as {env.ZEGO_CALLBACK_SECRET}; they are
// resolved when the config loads.
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume directive name
	if d.NextArg() {
		h.Secrets = append(h.Secrets, d.Val())
	}
	if d.NextArg() {
		return d.Err("zego_callback takes at most one argument, the secret; quote a secret that contains spaces")
	}
	seen := make(map[string]bool)
	for d.NextBlock(0) {
		option := d.Val()
		switch option {
		case "max_age", "max_body", "dedupe", "dedupe_store", "dedupe_max", "keep_query", "spool":
			if seen[option] {
				return d.Errf("duplicate %s option", option)
			}
			seen[option] = true
		}
		switch option {
		case "secret":
			secret, err := secretArg(d)
			if err != nil {
				return err
			}
			h.Secrets = append(h.Secrets, secret)
		case "app":
			app, err := parseAppBlock(d)
			if err != nil {
				return err
			}
			h.Apps = append(h.Apps, app)
		case "app_id":
			args := d.RemainingArgs()
			if len(args) == 0 {
				return d.ArgErr()
			}
			for _, arg := range args {
				id, err := strconv.ParseUint(arg, 10, 32)
				if err != nil {
					return d.Errf("app_id %q is not a ZEGO AppID (an unsigned 32-bit integer)", arg)
				}
				h.AppIDs = append(h.AppIDs, uint32(id))
			}
		case "events":
			args := d.RemainingArgs()
			if len(args) == 0 {
				return d.ArgErr()
			}
			h.Events = append(h.Events, args...)
		case "max_age":
			value, err := singleArg(d)
			if err != nil {
				return err
			}
			dur, err := caddy.ParseDuration(value)
			if err != nil {
				return d.Errf("bad max_age %q: %v", value, err)
			}
			if dur < time.Second {
				return d.Errf("max_age must be at least 1s, not %s", value)
			}
			h.MaxAge = caddy.Duration(dur)
		case "max_body":
			value, err := singleArg(d)
			if err != nil {
				return err
			}
			size, err := humanize.ParseBytes(value)
			if err != nil {
				return d.Errf("bad max_body %q: %v", value, err)
			}
			if size == 0 || size > maxBodyLimit {
				return d.Errf("max_body must be between 1 byte and 1MiB, not %s", value)
			}
			h.MaxBody = int64(size)
		case "dedupe":
			value, err := singleArg(d)
			if err != nil {
				return err
			}
			if value == "off" {
				h.DedupeDisabled = true
			} else {
				ttl, err := caddy.ParseDuration(value)
				if err != nil || ttl < time.Second {
					return d.Errf("dedupe must be off or a duration of at least 1s, not %q", value)
				}
				h.DedupeTTL = caddy.Duration(ttl)
			}
		case "dedupe_store":
			value, err := singleArg(d)
			if err != nil {
				return err
			}
			if value != storeMemory && value != storeStorage {
				return d.Errf("dedupe_store must be %s or %s, not %q", storeMemory, storeStorage, value)
			}
			h.DedupeStore = value
		case "dedupe_max":
			value, err := singleArg(d)
			if err != nil {
				return err
			}
			n, err := strconv.Atoi(value)
			if err != nil || n < 1 {
				return d.Errf("dedupe_max must be a positive number of entries, not %q", value)
			}
			h.DedupeMax = n
		case "keep_query":
			if d.NextArg() {
				return d.ArgErr()
			}
			h.KeepQuery = true
		case "spool":
			spool, err := parseSpoolBlock(d)
			if err != nil {
				return err
			}
			h.Spool = spool
		default:
			return d.Errf("unrecognized subdirective %s", option)
		}
	}
	if len(h.Secrets) == 0 && len(h.Apps) == 0 {
		return d.Err("zego_callback needs a secret: zego_callback <secret>, a secret line, or app blocks")
	}
	return nil
}

// parseAppBlock reads `app <app_id> { secret <secret> ... }`.
// parseSpoolBlock reads spool's optional block.
func parseSpoolBlock(d *caddyfile.Dispenser) (*Spool, error) {
	if d.NextArg() {
		return nil, d.Err("spool takes no argument; its settings go in a block: spool { retry 10s 1m; max_age 72h }")
	}
	spool := new(Spool)
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		switch d.Val() {
		case "retry":
			args := d.RemainingArgs()
			if len(args) == 0 || len(spool.Retry) > 0 {
				return nil, d.Err("spool: one retry line with at least one wait, e.g. retry 10s 1m 5m 30m 2h 6h")
			}
			for _, arg := range args {
				wait, err := caddy.ParseDuration(arg)
				if err != nil || wait <= 0 {
					return nil, d.Errf("spool: retry waits are positive durations such as 10s or 2h, not %q", arg)
				}
				spool.Retry = append(spool.Retry, caddy.Duration(wait))
			}
		case "max_age":
			value, err := singleArg(d)
			if err != nil {
				return nil, err
			}
			maxAge, err := caddy.ParseDuration(value)
			if err != nil || maxAge <= 0 || spool.MaxAge != 0 {
				return nil, d.Errf("spool: one max_age, a positive duration such as 72h, not %q", value)
			}
			spool.MaxAge = caddy.Duration(maxAge)
		default:
			return nil, d.Err("spool: unrecognized setting; use retry or max_age")
		}
	}
	return spool, nil
}

func parseAppBlock(d *caddyfile.Dispenser) (AppSecrets, error) {
	var app AppSecrets
	if !d.NextArg() {
		return app, d.ArgErr()
	}
	id, err := strconv.ParseUint(d.Val(), 10, 32)
	if err != nil {
		return app, d.Errf("app %q is not a ZEGO AppID (an unsigned 32-bit integer)", d.Val())
	}
	app.AppID = uint32(id)
	if d.NextArg() {
		return app, d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		if d.Val() != "secret" {
			return app, d.Errf("unrecognized subdirective %s in app %d", d.Val(), app.AppID)
		}
		secret, err := secretArg(d)
		if err != nil {
			return app, err
		}
		app.Secrets = append(app.Secrets, secret)
	}
	if len(app.Secrets) == 0 {
		return app, d.Errf("app %d has no secret", app.AppID)
	}
	return app, nil
}

// singleArg reads the one argument of a single-value option.
func singleArg(d *caddyfile.Dispenser) (string, error) {
	if !d.NextArg() {
		return "", d.ArgErr()
	}
	value := d.Val()
	if d.NextArg() {
		return "", d.ArgErr()
	}
	return value, nil
}

// secretArg reads the one argument of a secret line. Its errors never quote
// a token, as d.ArgErr would: the token may be a secret.
func secretArg(d *caddyfile.Dispenser) (string, error) {
	if !d.NextArg() {
		return "", d.Err("secret needs one argument")
	}
	secret := d.Val()
	if d.NextArg() {
		return "", d.Err("secret takes exactly one argument; quote a secret that contains spaces")
	}
	return secret, nil
}
