// Package verify checks and normalizes ZEGOCLOUD server callbacks, starting
// with the Media File Merge Completed callback (event "compose").
//
// It accepts the three shapes ZEGO sends (a JSON object whose values may be
// URL-encoded, a wholly URL-encoded JSON object, and a form), applies strict
// field rules, checks the SHA-1 signature over the secret, timestamp and
// nonce in constant time, bounds the timestamp's age in both directions, and
// writes a typed JSON document. It imports only the standard library.
package verify

import (
	"errors"
	"slices"
	"time"
)

// DefaultEvent is the event accepted when Options.Events is empty.
const DefaultEvent = "compose"

// Options configure a Verifier.
type Options struct {
	// Secrets are the callback secrets; a signature matching any of them
	// passes, so a secret can be rotated. At least one is required.
	Secrets []string
	// AppIDs is the allowlist of ZEGO AppIDs; empty allows any app.
	AppIDs []uint32
	// Events are the accepted event names; empty accepts DefaultEvent.
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
	secrets       []string
	appIDs        []uint32
	events        []string
	maxAgeSeconds int64
	now           func() time.Time
}

// New checks opts and builds a Verifier.
func New(opts Options) (*Verifier, error) {
	if len(opts.Secrets) == 0 {
		return nil, errors.New("verify: at least one secret is required")
	}
	if slices.Contains(opts.Secrets, "") {
		return nil, errors.New("verify: a secret is empty")
	}
	if opts.MaxAge < time.Second {
		return nil, errors.New("verify: MaxAge must be at least one second")
	}
	v := &Verifier{
		secrets:       slices.Clone(opts.Secrets),
		appIDs:        slices.Clone(opts.AppIDs),
		events:        slices.Clone(opts.Events),
		maxAgeSeconds: int64(opts.MaxAge / time.Second),
		now:           opts.Now,
	}
	if len(v.events) == 0 {
		v.events = []string{DefaultEvent}
	}
	if v.now == nil {
		v.now = time.Now
	}
	return v, nil
}

// Verify parses body and checks it, in this order: decoding, required
// fields, field formats, app allowlist, signature, timestamp window, event.
// On error, the fields decoded so far are returned for logging.
func (v *Verifier) Verify(body []byte) (Callback, error) {
	c, err := Parse(body)
	if err != nil {
		return c, err
	}
	return c, v.check(&c)
}

func (v *Verifier) check(c *Callback) error {
	if len(v.appIDs) > 0 && !slices.Contains(v.appIDs, c.AppID) {
		return ErrAppNotAllowed
	}
	if !validSignature(c.signature, c.rawTimestamp, c.Nonce, v.secrets) {
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
