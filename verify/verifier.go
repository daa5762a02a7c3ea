// Package verify checks and normalizes ZEGOCLOUD server callbacks, which
// every ZEGO product signs over callbacksecret, timestamp and nonce: RTC's
// Media File Merge Completed callback (event "compose"), and the events of
// each product listed by Products (see Events), each with its own table of
// field rules (events*.go) under its product's envelope (products.go).
//
// It accepts the three shapes ZEGO sends (a JSON object whose values may be
// URL-encoded, a wholly URL-encoded JSON object, and a form), applies strict
// field rules, checks the SHA-1 signature over the secret, timestamp and
// nonce in constant time, bounds the timestamp's age in both directions, and
// writes a typed JSON document. It imports only the standard library.
package verify

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// DefaultEvent is the event accepted when Options.Events is empty.
const DefaultEvent = "compose"

// Options configure a Verifier.
type Options struct {
	// Secrets are the callback secrets of apps without an AppSecrets entry;
	// a signature matching any of them passes, so a secret can be rotated.
	Secrets []string
	// AppSecrets are per-app secrets: a callback whose appid has an entry
	// is verified against those secrets only.
	AppSecrets map[uint32][]string
	// AppIDs is the allowlist of ZEGO AppIDs. Empty allows any app, unless
	// AppSecrets is set: then its apps are the allowlist. Every allowed app
	// needs a secret, its own or one of Secrets.
	AppIDs []uint32
	// Product is the ZEGO product whose callbacks are verified, one of
	// Products; empty is DefaultProduct.
	Product string
	// Events are the accepted event names, each one of the product's
	// Events; empty accepts DefaultEvent for rtc and is an error for any
	// other product.
	Events []string
	// MaxAge bounds |now - timestamp|, in the past and in the future. It
	// must be positive.
	MaxAge time.Duration
	// Now returns the current time; nil uses time.Now.
	Now func() time.Time
}

// Verifier checks callbacks against fixed Options. It is safe for
// concurrent use.
type Verifier struct {
	product       *product
	secrets       []string
	appSecrets    map[uint32][]string
	appIDs        []uint32
	events        []string
	maxAgeSeconds int64
	now           func() time.Time
}

// New checks opts and builds a Verifier.
func New(opts Options) (*Verifier, error) {
	if opts.MaxAge < time.Second {
		return nil, errors.New("verify: MaxAge must be at least one second")
	}
	if slices.Contains(opts.Secrets, "") {
		return nil, errors.New("verify: a secret is empty")
	}
	p := productNamed(opts.Product)
	if p == nil {
		return nil, fmt.Errorf("verify: %w", CheckProduct(opts.Product))
	}
	v := &Verifier{
		product:       p,
		secrets:       slices.Clone(opts.Secrets),
		appSecrets:    make(map[uint32][]string, len(opts.AppSecrets)),
		appIDs:        slices.Clone(opts.AppIDs),
		events:        slices.Clone(opts.Events),
		maxAgeSeconds: int64(opts.MaxAge / time.Second),
		now:           opts.Now,
	}
	for _, event := range opts.Events {
		if !isToken(event, maxEventBytes, false) {
			return nil, fmt.Errorf("verify: event %q is not an event name (1 to 64 letters, digits or underscores)", event)
		}
		if supported := Events(p.name); !slices.Contains(supported, event) {
			return nil, fmt.Errorf("verify: event %q is not supported for product %s (supported: %s)", event, p.name, strings.Join(supported, ", "))
		}
	}
	for appID, secrets := range opts.AppSecrets {
		if len(secrets) == 0 || slices.Contains(secrets, "") {
			return nil, fmt.Errorf("verify: app %d has no secret, or an empty one", appID)
		}
		if len(opts.AppIDs) > 0 && !slices.Contains(opts.AppIDs, appID) {
			return nil, fmt.Errorf("verify: app %d has secrets but is not in AppIDs", appID)
		}
		v.appSecrets[appID] = slices.Clone(secrets)
		if len(opts.AppIDs) == 0 {
			v.appIDs = append(v.appIDs, appID)
		}
	}
	slices.Sort(v.appIDs) // for the binary search in check
	if len(v.secrets) == 0 {
		if len(v.appIDs) == 0 {
			return nil, errors.New("verify: at least one secret is required")
		}
		for _, appID := range v.appIDs {
			if _, ok := v.appSecrets[appID]; !ok {
				return nil, fmt.Errorf("verify: app %d has no secret", appID)
			}
		}
	}
	if len(v.events) == 0 {
		if p != rtcProduct {
			return nil, fmt.Errorf("verify: product %s needs its events listed", p.name)
		}
		v.events = []string{DefaultEvent}
	}
	if v.now == nil {
		v.now = time.Now
	}
	return v, nil
}

// Verify parses body and checks it, in this order: decoding, required
// fields, field formats, app allowlist, signature, timestamp window,
// product, event.
// On error, the fields decoded so far are returned for logging.
func (v *Verifier) Verify(body []byte) (c Callback, err error) {
	// parse(body, v.product, true, &c), written out: the fast path then
	// costs no call (about 20 instructions of 8,650).
	s := string(body) // the callback's strings are pieces of this one copy
	if v.product == rtcProduct && parsePlainCompose(s, &c) {
		return c, v.check(&c)
	}
	switch err = parseGeneral(s, v.product, true, &c); {
	case err == nil:
		return c, v.check(&c)
	case err == errForeign:
		// Another product's callback: refused as such once it proves
		// genuine, so that a forgery learns nothing more than elsewhere.
		if err = v.check(&c); err == nil || err == ErrEventNotAllowed {
			err = ErrWrongProduct
		}
	}
	return c, err
}

// AppIDs is the effective allowlist, sorted; empty allows any app.
func (v *Verifier) AppIDs() []uint32 { return slices.Clone(v.appIDs) }

func (v *Verifier) secretsFor(appID uint32) []string {
	if secrets, ok := v.appSecrets[appID]; ok {
		return secrets
	}
	return v.secrets
}

// ValidUntil is the first moment at which c's timestamp no longer passes
// the window: a replay record kept until then covers every moment at which
// c could be presented again. The window compares whole seconds, so it is
// one second more than timestamp + MaxAge.
func (v *Verifier) ValidUntil(c *Callback) time.Time {
	return time.Unix(c.Timestamp+v.maxAgeSeconds+1, 0)
}

func (v *Verifier) check(c *Callback) error {
	if _, allowed := slices.BinarySearch(v.appIDs, c.AppID); len(v.appIDs) > 0 && !allowed {
		return ErrAppNotAllowed
	}
	if c.secretIndex = matchingSecret(c.signature, c.rawTimestamp, c.Nonce, v.secretsFor(c.AppID)); c.secretIndex < 0 {
		return ErrBadSignature
	}
	if skew := v.now().Unix() - c.Timestamp; skew > v.maxAgeSeconds || -skew > v.maxAgeSeconds {
		return ErrStaleTimestamp
	}
	if !slices.Contains(v.events, c.Event) {
		return ErrEventNotAllowed
	}
	return nil
}
