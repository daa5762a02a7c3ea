package caddymodule

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/zegoedge/caddy-zego-callback/verify"
)

// The checks and warnings below are shared by Provision and by
// `caddy zego-callback verify --config`. Their errors speak the parser's
// language: the Caddyfile option, its JSON name, and what a valid value
// looks like.

// Defaults and bounds of the optional settings; the dedupe, spool and
// deliver ones are beside their code.
const (
	DefaultMaxAge  = 5 * time.Minute
	DefaultMaxBody = 64 << 10
	// A compose callback is well under 4KiB; larger limits only help floods.
	maxBodyLimit = 1 << 20
	// More redeliveries at once than this only queue at the backend.
	maxSpoolConcurrency = 64
	// maxDuration bounds every duration setting: ten years, beyond any use and
	// far from overflowing a time's nanoseconds.
	maxDuration = 10 * 365 * 24 * time.Hour
)

// applyDefaults fills in the optional settings a config left out.
func (h *Handler) applyDefaults() {
	if h.MaxAge == 0 {
		h.MaxAge = caddy.Duration(DefaultMaxAge)
	}
	if h.MaxBody == 0 {
		h.MaxBody = DefaultMaxBody
	}
	if h.Product == "" {
		h.Product = verify.DefaultProduct
	}
	if len(h.Events) == 0 && h.Product == verify.DefaultProduct {
		h.Events = []string{verify.DefaultEvent}
	}
	if slices.Contains(h.Events, allEvents) {
		h.Events = verify.Events(h.Product)
	}
	if h.SyncTimeout == 0 {
		h.SyncTimeout = caddy.Duration(DefaultSyncTimeout)
	}
	if h.DeliverTimeout == 0 {
		h.DeliverTimeout = caddy.Duration(DefaultDeliverTimeout)
	}
	if !h.DedupeDisabled {
		if h.DedupeTTL == 0 {
			h.DedupeTTL = caddy.Duration(DefaultDedupeTTL)
		}
		if h.DedupeStore == "" {
			h.DedupeStore = storeMemory
		}
		if h.DedupeMax == 0 {
			h.DedupeMax = DefaultDedupeMax
		}
	}
	if s := h.Spool; s != nil {
		if len(s.Retry) == 0 {
			for _, wait := range defaultSpoolRetry {
				s.Retry = append(s.Retry, caddy.Duration(wait))
			}
		}
		if s.MaxAge == 0 {
			s.MaxAge = caddy.Duration(DefaultSpoolMaxAge)
		}
		if s.Concurrency == 0 {
			s.Concurrency = DefaultSpoolConcurrency
		}
	}
}

// allEvents in events accepts every event verify supports.
const allEvents = "all"

// checkSettings checks, after applyDefaults, everything verify.New and the
// dedupe store would refuse, so that a mistake is reported by its option
// rather than by a Go field. No message holds a secret or an event name (a
// misplaced secret could be one).
func (h *Handler) checkSettings() error {
	if time.Duration(h.MaxAge) < time.Second {
		return fmt.Errorf(`max_age must be at least 1s, not %s: in JSON a duration is in nanoseconds (300000000000) or a string such as "5m"`, time.Duration(h.MaxAge))
	}
	if h.MaxBody < 1 || h.MaxBody > maxBodyLimit {
		return fmt.Errorf("max_body must be from 1 to %d bytes (1MiB), not %d: e.g. 64KiB in a Caddyfile, 65536 in JSON", maxBodyLimit, h.MaxBody)
	}
	if err := verify.CheckProduct(h.Product); err != nil {
		return err
	}
	supported := verify.Events(h.Product)
	if len(h.Events) == 0 {
		return fmt.Errorf("product %s: list the events its route receives: events all, or some of %s", h.Product, strings.Join(supported, ", "))
	}
	for i, event := range h.Events {
		if !slices.Contains(supported, event) {
			return fmt.Errorf("events: entry %d of %d is not a supported %s event; use all, or some of %s (%s)", i+1, len(h.Events), h.Product, strings.Join(supported, ", "), notShown)
		}
	}
	if d := time.Duration(h.SyncTimeout); d < 100*time.Millisecond || d > maxSyncTimeout {
		return fmt.Errorf("sync_timeout must be from 100ms to %s (ZEGO waits 2.5 s for a synchronous callback's answer), not %s", maxSyncTimeout, d)
	}
	if time.Duration(h.DeliverTimeout) < 100*time.Millisecond {
		return fmt.Errorf(`deliver_timeout must be at least 100ms, such as 10s, not %s: in JSON a duration is in nanoseconds (10000000000) or a string such as "10s"`, time.Duration(h.DeliverTimeout))
	}
	for _, d := range []struct {
		option string
		value  caddy.Duration
	}{{"max_age", h.MaxAge}, {"dedupe", h.DedupeTTL}, {"deliver_timeout", h.DeliverTimeout}} {
		if time.Duration(d.value) > maxDuration {
			return fmt.Errorf("%s must be at most %s, not %s", d.option, maxDuration, time.Duration(d.value))
		}
	}
	if !h.DedupeDisabled && time.Duration(h.DedupeTTL) < time.Second {
		return fmt.Errorf(`dedupe must be off or at least 1s, not %s: in JSON "dedupe" is in nanoseconds or a string such as "10m", and off is "dedupe_disabled": true`, time.Duration(h.DedupeTTL))
	}
	if h.DedupeMax < 0 {
		return fmt.Errorf("dedupe_max must be a positive number of entries, such as 100000, not %d", h.DedupeMax)
	}
	if !h.DedupeDisabled && h.DedupeStore != storeMemory && h.DedupeStore != storeStorage {
		return fmt.Errorf("dedupe_store must be %s or %s (%s)", storeMemory, storeStorage, notShown)
	}
	if err := h.Spool.check(h.DedupeDisabled); err != nil {
		return err
	}

	withBlock := make(map[uint32]bool, len(h.Apps))
	for _, app := range h.Apps {
		if withBlock[app.AppID] {
			return fmt.Errorf("app %d is configured twice: give it one app block with all its secrets (JSON: one entry in apps)", app.AppID)
		}
		withBlock[app.AppID] = true
		if len(app.Secrets) == 0 {
			return fmt.Errorf("app %d has no secret: app %d { secret <secret> } (JSON: its \"secrets\")", app.AppID, app.AppID)
		}
		if len(h.AppIDs) > 0 && !slices.Contains(h.AppIDs, app.AppID) {
			return fmt.Errorf("app %d has an app block but is not in app_id (JSON: app_ids): add it to app_id, or remove its block", app.AppID)
		}
	}
	if len(h.Secrets) == 0 {
		if len(h.Apps) == 0 {
			return errors.New("at least one secret is required: zego_callback <secret>, a secret line, or app blocks (JSON: secrets, or apps)")
		}
		for _, id := range h.AppIDs {
			if !withBlock[id] {
				return fmt.Errorf("app %d is in app_id but has no secret: add an app %d { secret <secret> } block, or a top-level secret (JSON: apps, or secrets)", id, id)
			}
		}
	}
	if len(h.Secrets) > 0 && len(h.Apps) > 0 && len(h.AppIDs) == 0 {
		// The app blocks become the allowlist, so every other app is
		// app_not_allowed and the top-level secret verifies nothing.
		return errors.New("the top-level secret can never be used: with app blocks and no app_id, only the apps with blocks are allowed. " +
			"List every allowed app in app_id (JSON: app_ids), including those that use the top-level secret, or remove the top-level secret")
	}
	return nil
}

// check checks the spool's settings after applyDefaults; a nil spool is
// off and fine.
func (s *Spool) check(dedupeDisabled bool) error {
	switch {
	case s == nil:
		return nil
	case dedupeDisabled:
		return errors.New("spool needs dedupe: a spooled callback and ZEGO's late retry of it must not both reach the backend; remove 'dedupe off' (JSON: dedupe_disabled)")
	case time.Duration(s.MaxAge) <= 0 || time.Duration(s.MaxAge) > maxDuration:
		return fmt.Errorf("spool: max_age must be positive and at most %s, not %s (e.g. max_age 72h)", maxDuration, time.Duration(s.MaxAge))
	case s.Concurrency < 1 || s.Concurrency > maxSpoolConcurrency:
		return fmt.Errorf("spool: concurrency must be from 1 to %d, not %d (e.g. concurrency 4)", maxSpoolConcurrency, s.Concurrency)
	}
	for _, wait := range s.Retry {
		if time.Duration(wait) <= 0 || time.Duration(wait) > maxDuration {
			return fmt.Errorf("spool: every retry wait must be positive and at most %s, not %s (e.g. retry 10s 1m 5m)", maxDuration, time.Duration(wait))
		}
	}
	return nil
}

// verifyOptions checks the settings and resolves the secrets' placeholders
// with repl, as a config load does; with a nil repl the secrets are taken
// as they are (the CLI's, already read from the environment).
func (h *Handler) verifyOptions(repl *caddy.Replacer) (verify.Options, error) {
	if err := h.checkSettings(); err != nil {
		return verify.Options{}, err
	}
	resolve := func(raw []string, what string) ([]string, error) {
		if repl == nil {
			return raw, nil
		}
		return resolveSecrets(repl, raw, what)
	}
	secrets, err := resolve(h.Secrets, "secret")
	if err != nil {
		return verify.Options{}, err
	}
	appSecrets := make(map[uint32][]string, len(h.Apps))
	for _, app := range h.Apps {
		if appSecrets[app.AppID], err = resolve(app.Secrets, fmt.Sprintf("app %d: secret", app.AppID)); err != nil {
			return verify.Options{}, err
		}
	}
	return verify.Options{
		Secrets:    secrets,
		AppSecrets: appSecrets,
		AppIDs:     h.AppIDs,
		Product:    h.Product,
		Events:     h.Events,
		MaxAge:     time.Duration(h.MaxAge),
	}, nil
}

// warnedSettings remembers the warnings already logged, so that reloading
// the same config does not repeat them. A key is the SHA-256 of a warning
// and the handler's settings without its secrets; it grows by one small
// entry per distinct warned config.
var warnedSettings sync.Map

// warnOnce logs msg unless it was logged before for the same settings.
func (h *Handler) warnOnce(settings []byte, msg string, fields ...zap.Field) {
	key := sha256.Sum256(append([]byte(msg+"\x00"), settings...))
	if _, seen := warnedSettings.LoadOrStore(key, struct{}{}); seen {
		return
	}
	h.logger.Warn(msg, fields...)
}

// settingsWithoutSecrets is the handler's JSON config with every secret
// left out: what decides whether a warning is new.
func (h *Handler) settingsWithoutSecrets() []byte {
	settings := *h
	settings.Secrets, settings.SignUpstream = nil, nil
	settings.Apps = make([]AppSecrets, len(h.Apps))
	for i, app := range h.Apps {
		settings.Apps[i] = AppSecrets{AppID: app.AppID}
	}
	out, _ := json.Marshal(struct {
		Handler
		TopLevelSecrets int `json:"top_level_secrets"`
	}{settings, len(h.Secrets)})
	return out
}
