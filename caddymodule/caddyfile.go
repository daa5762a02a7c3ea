package caddymodule

import (
	"fmt"
	"strconv"
	"strings"
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
//	    events   <name>... | all      # repeatable; default: compose; all: every supported event
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
				return d.Err("app_id needs at least one AppID, e.g. app_id 1234567890")
			}
			for i, arg := range args {
				id, err := strconv.ParseUint(arg, 10, 32)
				if err != nil {
					return d.Errf("app_id: value %d on this line is not a ZEGO AppID, a whole number from 0 to 4294967295 (%s)", i+1, notShown)
				}
				h.AppIDs = append(h.AppIDs, uint32(id))
			}
		case "events":
			args := d.RemainingArgs()
			if len(args) == 0 {
				return d.Err("events needs at least one event name, e.g. events compose")
			}
			h.Events = append(h.Events, args...)
		case "max_age":
			value, err := singleArg(d, option, "max_age 5m")
			if err != nil {
				return err
			}
			dur, err := caddy.ParseDuration(value)
			if err != nil || dur < time.Second {
				return d.Errf("max_age must be a duration of at least 1s, such as 90s or 5m (%s)", notShown)
			}
			h.MaxAge = caddy.Duration(dur)
		case "max_body":
			value, err := singleArg(d, option, "max_body 64KiB")
			if err != nil {
				return err
			}
			size, err := humanize.ParseBytes(value)
			if err != nil || size == 0 || size > maxBodyLimit {
				return d.Errf("max_body must be a size from 1 byte to 1MiB, such as 65536, 64KiB (65,536 bytes) or 64KB (64,000) (%s)", notShown)
			}
			h.MaxBody = int64(size)
		case "dedupe":
			value, err := singleArg(d, option, "dedupe 10m")
			if err != nil {
				return err
			}
			if value == "off" {
				h.DedupeDisabled = true
			} else {
				ttl, err := caddy.ParseDuration(value)
				if err != nil || ttl < time.Second {
					return d.Errf("dedupe must be off or a duration of at least 1s, such as 10m (%s)", notShown)
				}
				h.DedupeTTL = caddy.Duration(ttl)
			}
		case "dedupe_store":
			value, err := singleArg(d, option, "dedupe_store memory")
			if err != nil {
				return err
			}
			if value != storeMemory && value != storeStorage {
				return d.Errf("dedupe_store must be %s or %s (%s)", storeMemory, storeStorage, notShown)
			}
			h.DedupeStore = value
		case "dedupe_max":
			value, err := singleArg(d, option, "dedupe_max 100000")
			if err != nil {
				return err
			}
			n, err := strconv.Atoi(value)
			if err != nil || n < 1 {
				return d.Errf("dedupe_max must be a positive number of entries, such as 100000 (%s)", notShown)
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
			return unrecognizedOption(d, "", handlerOptions)
		}
	}
	if len(h.Secrets) == 0 && len(h.Apps) == 0 {
		return d.Err("zego_callback needs a secret: zego_callback <secret>, a secret line, or app blocks")
	}
	return nil
}

// Caddyfile errors never quote a value: a secret written on the wrong line
// would be printed by caddy adapt, caddy validate and the admin API. They
// give the option and the line instead.
const notShown = "the value is not shown, as it could be a secret"

// handlerOptions are the subdirectives of zego_callback.
var handlerOptions = []string{"secret", "app", "app_id", "events", "max_age", "max_body", "dedupe", "dedupe_store", "dedupe_max", "keep_query", "spool"}

// unrecognizedOption reports an unknown subdirective without quoting it (a
// secret alone on a line is the likeliest one), suggesting a known option
// it is a near miss of.
func unrecognizedOption(d *caddyfile.Dispenser, where string, known []string) error {
	hint := ""
	for _, option := range known {
		if editDistanceAtMost2(d.Val(), option) {
			hint = "; did you mean " + option + "?"
			break
		}
	}
	return d.Errf("unrecognized subdirective%s (not shown, as it could be a secret); the options are %s%s", where, strings.Join(known, ", "), hint)
}

// editDistanceAtMost2 tells whether a becomes b with at most two
// insertions, deletions or substitutions.
func editDistanceAtMost2(a, b string) bool {
	if len(a) > len(b)+2 || len(b) > len(a)+2 || len(a) > 64 {
		return false
	}
	previous := make([]int, len(b)+1)
	current := make([]int, len(b)+1)
	for j := range previous {
		previous[j] = j
	}
	for i := 1; i <= len(a); i++ {
		current[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			current[j] = min(previous[j]+1, current[j-1]+1, previous[j-1]+cost)
		}
		previous, current = current, previous
	}
	return previous[len(b)] <= 2
}

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
					return nil, d.Errf("spool: retry waits are positive durations such as 10s or 2h (%s)", notShown)
				}
				spool.Retry = append(spool.Retry, caddy.Duration(wait))
			}
		case "max_age":
			value, err := singleArg(d, "spool max_age", "max_age 72h")
			if err != nil {
				return nil, err
			}
			maxAge, err := caddy.ParseDuration(value)
			if err != nil || maxAge <= 0 || spool.MaxAge != 0 {
				return nil, d.Errf("spool: one max_age, a positive duration such as 72h (%s)", notShown)
			}
			spool.MaxAge = caddy.Duration(maxAge)
		default:
			return nil, d.Err("spool: unrecognized setting; use retry or max_age")
		}
	}
	return spool, nil
}

// parseAppBlock reads `app <app_id> { secret <secret> ... }`.
func parseAppBlock(d *caddyfile.Dispenser) (AppSecrets, error) {
	const syntax = "app <app_id> { secret <secret> }"
	var app AppSecrets
	if !d.NextArg() {
		return app, d.Errf("app needs an AppID and a block: %s", syntax)
	}
	id, err := strconv.ParseUint(d.Val(), 10, 32)
	if err != nil {
		return app, d.Errf("app: the AppID is not a whole number from 0 to 4294967295 (%s); syntax: %s", notShown, syntax)
	}
	app.AppID = uint32(id)
	if d.NextArg() {
		return app, d.Errf("app %d takes only the AppID on its line (%s); secrets go inside the block: %s", app.AppID, notShown, syntax)
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		if d.Val() != "secret" {
			return app, unrecognizedOption(d, fmt.Sprintf(" in app %d", app.AppID), []string{"secret"})
		}
		secret, err := secretArg(d)
		if err != nil {
			return app, err
		}
		app.Secrets = append(app.Secrets, secret)
	}
	if len(app.Secrets) == 0 {
		return app, d.Errf("app %d has no secret: %s", app.AppID, syntax)
	}
	return app, nil
}

// singleArg reads the one value of a single-value option; example shows a
// valid line.
func singleArg(d *caddyfile.Dispenser, option, example string) (string, error) {
	if !d.NextArg() {
		return "", d.Errf("%s needs a value, e.g. %s", option, example)
	}
	value := d.Val()
	if d.NextArg() {
		return "", d.Errf("%s takes one value, e.g. %s (the extra value is not shown, as it could be a secret)", option, example)
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
