package caddymodule

import (
	"fmt"
	"math"
	"strconv"
	"strings"

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
	if err := handler.UnmarshalCaddyfile(h.Dispenser); err != nil {
		return nil, err
	}
	if err := handler.FinalizeUnmarshalCaddyfile(h); err != nil {
		return nil, err
	}
	return handler, nil
}

// FinalizeUnmarshalCaddyfile parses the deliver block as a subroute, as
// reverse_proxy parses handle_response: its directives need the
// httpcaddyfile.Helper that UnmarshalCaddyfile does not have.
func (h *Handler) FinalizeUnmarshalCaddyfile(helper httpcaddyfile.Helper) error {
	if h.deliverSegment == nil {
		return nil
	}
	handler, err := httpcaddyfile.ParseSegmentAsSubroute(helper.WithDispenser(h.deliverSegment))
	if err != nil {
		return err
	}
	subroute, ok := handler.(*caddyhttp.Subroute)
	if !ok {
		return helper.Errf("deliver: the block was not parsed as a subroute")
	}
	h.Deliver, h.deliverSegment = subroute, nil
	return nil
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
//	    sign_upstream <secret>...    # sign forwards with Standard Webhooks (whsec_...); default: off
//	    deliver_timeout <duration>   # bounds each delivery attempt; default: 10s
//	    spool [{                     # redeliver what the backend did not accept
//	        retry   <wait> [<wait>...]  # the last repeats; default: 10s 1m 5m 30m 2h 6h
//	        max_age <duration>          # then a dead letter; default: 72h
//	        concurrency <n>             # redeliveries at once; default: 4
//	    }]
//	    deliver {                    # required: where verified callbacks go
//	        reverse_proxy <upstreams...> [{ ... }]  # any handlers, as in a route
//	    }
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
		case "product", "max_age", "max_body", "dedupe", "dedupe_store", "dedupe_max", "keep_query", "spool", "deliver", "deliver_timeout", "sync_timeout", "sign_upstream":
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
		case "product":
			value, err := singleArg(d, option, "product zim")
			if err != nil {
				return err
			}
			h.Product = value
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
			if h.MaxAge, err = durationArg(d, value, "max_age", "90s or 5m"); err != nil {
				return err
			}
		case "max_body":
			value, err := singleArg(d, option, "max_body 64KiB")
			if err != nil {
				return err
			}
			size, err := humanize.ParseBytes(value)
			if err != nil {
				return d.Errf("max_body must be a size, such as 65536, 64KiB (65,536 bytes) or 64KB (64,000) (%s)", notShown)
			}
			h.MaxBody = int64(min(size, math.MaxInt64))
		case "dedupe":
			value, err := singleArg(d, option, "dedupe 10m")
			if err != nil {
				return err
			}
			if value == "off" {
				h.DedupeDisabled = true
			} else if h.DedupeTTL, err = durationArg(d, value, "dedupe", "10m, or off"); err != nil {
				return err
			}
		case "dedupe_store":
			value, err := singleArg(d, option, "dedupe_store memory")
			if err != nil {
				return err
			}
			h.DedupeStore = value
		case "dedupe_max":
			value, err := singleArg(d, option, "dedupe_max 100000")
			if err != nil {
				return err
			}
			if h.DedupeMax, err = strconv.Atoi(value); err != nil {
				return d.Errf("dedupe_max must be a whole number of entries, such as 100000 (%s)", notShown)
			}
		case "keep_query":
			if d.NextArg() {
				return d.Errf("keep_query takes no value (%s)", notShown)
			}
			h.KeepQuery = true
		case "spool":
			spool, err := parseSpoolBlock(d)
			if err != nil {
				return err
			}
			h.Spool = spool
		case "sign_upstream":
			h.SignUpstream = d.RemainingArgs()
			if len(h.SignUpstream) == 0 {
				return d.Err("sign_upstream needs at least one secret, e.g. sign_upstream {file./run/secrets/zego_upstream}")
			}
		case "deliver_timeout":
			value, err := singleArg(d, option, "deliver_timeout 10s")
			if err != nil {
				return err
			}
			if h.DeliverTimeout, err = durationArg(d, value, option, "10s"); err != nil {
				return err
			}
		case "sync_timeout":
			value, err := singleArg(d, option, "sync_timeout 2s")
			if err != nil {
				return err
			}
			if h.SyncTimeout, err = durationArg(d, value, option, "2s"); err != nil {
				return err
			}
		case "deliver":
			if d.NextArg() {
				return d.Err("deliver takes no argument; its handlers go in its block: deliver { reverse_proxy backend:8000 }")
			}
			h.deliverSegment = d.NewFromNextSegment()
		default:
			return unrecognizedOption(d, "", handlerOptions)
		}
	}
	return nil
}

// Caddyfile errors never quote a value: a secret written on the wrong line
// would be printed by caddy adapt, caddy validate and the admin API. They
// give the option and the line instead.
const notShown = "the value is not shown, as it could be a secret"

// handlerOptions are the subdirectives of zego_callback.
var handlerOptions = []string{"secret", "app", "app_id", "product", "events", "max_age", "max_body", "dedupe", "dedupe_store", "dedupe_max", "keep_query", "sign_upstream", "deliver_timeout", "sync_timeout", "spool", "deliver"}

// durationArg parses a duration option's value.
func durationArg(d *caddyfile.Dispenser, value, option, example string) (caddy.Duration, error) {
	dur, err := caddy.ParseDuration(value)
	if err != nil {
		return 0, d.Errf("%s must be a duration, such as %s (%s)", option, example, notShown)
	}
	return caddy.Duration(dur), nil
}

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
		return nil, d.Err("spool takes no argument; its settings go in a block: spool { retry 10s 1m; max_age 72h; concurrency 4 }")
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
				wait, err := durationArg(d, arg, "spool: each retry wait", "10s or 2h")
				if err != nil {
					return nil, err
				}
				spool.Retry = append(spool.Retry, wait)
			}
		case "max_age":
			value, err := singleArg(d, "spool max_age", "max_age 72h")
			if err != nil {
				return nil, err
			}
			if spool.MaxAge != 0 {
				return nil, d.Err("spool: duplicate max_age option")
			}
			if spool.MaxAge, err = durationArg(d, value, "spool max_age", "72h"); err != nil {
				return nil, err
			}
		case "concurrency":
			value, err := singleArg(d, "spool concurrency", "concurrency 4")
			if err != nil {
				return nil, err
			}
			if spool.Concurrency != 0 {
				return nil, d.Err("spool: duplicate concurrency option")
			}
			if spool.Concurrency, err = strconv.Atoi(value); err != nil {
				return nil, d.Errf("spool concurrency must be a whole number, such as 4 (%s)", notShown)
			}
		default:
			return nil, d.Err("spool: unrecognized setting; use retry, max_age or concurrency")
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
