// Package verifytest holds the public test vectors for ZEGO callbacks,
// shared by every test suite in this module. compose.json is a verbatim
// copy of the project's shared vectors; .ci/run fails if they drift.
// events.json holds the vectors of every other supported RTC event, written
// by events_gen.py; products.json those of every event of the other
// products, written by products_gen.py.
package verifytest

import (
	_ "embed"
	"encoding/json"
	"testing"
	"time"
)

//go:embed compose.json
var composeJSON []byte

//go:embed events.json
var eventsJSON []byte

//go:embed products.json
var productsJSON []byte

// Set is the whole vector file.
type Set struct {
	Secret        string            `json:"secret"`
	Now           int64             `json:"now"`
	MaxAgeSeconds int64             `json:"max_age_seconds"`
	AllowedAppIDs []uint32          `json:"allowed_app_ids"`
	AllowedEvents []string          `json:"allowed_events"`
	Signatures    []SignatureVector `json:"signature_vectors"`
	Cases         []Case            `json:"cases"`
}

// SignatureVector is a known answer for the signature alone.
type SignatureVector struct {
	Secret    string `json:"secret"`
	Timestamp string `json:"timestamp"`
	Nonce     string `json:"nonce"`
	Signature string `json:"signature"`
}

// Case is one HTTP request and what the handler must make of it.
type Case struct {
	Name string `json:"name"`
	// Level is "http" for cases decided before the body is parsed.
	Level       string `json:"level"`
	Method      string `json:"method"`
	ContentType string `json:"content_type"`
	Body        string `json:"body"`
	Expect      struct {
		Reason string `json:"reason"`
		Status int    `json:"status"`
		// Normalized is the document the upstream receives, keys in the
		// contract's order.
		Normalized json.RawMessage `json:"normalized"`
	} `json:"expect"`
}

// HTTPLevel reports whether the case is decided before the body is parsed.
func (c *Case) HTTPLevel() bool { return c.Level == "http" }

// NowTime is the vectors' clock.
func (s *Set) NowTime() time.Time { return time.Unix(s.Now, 0) }

// MaxAge is the vectors' timestamp window.
func (s *Set) MaxAge() time.Duration { return time.Duration(s.MaxAgeSeconds) * time.Second }

// Compose parses the embedded compose vectors.
func Compose() (*Set, error) {
	s := new(Set)
	if err := json.Unmarshal(composeJSON, s); err != nil {
		return nil, err
	}
	return s, nil
}

// Load parses the compose vectors or fails the test.
func Load(t testing.TB) *Set {
	t.Helper()
	s, err := Compose()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// EventSet is the events.json file.
type EventSet struct {
	Secret        string      `json:"secret"`
	MaxAgeSeconds int64       `json:"max_age_seconds"`
	Cases         []EventCase `json:"cases"`
}

// EventCase is one callback body of an event other than compose, in one of
// the shapes ZEGO sends, and what verification must make of it.
type EventCase struct {
	Name string `json:"name"`
	// Product is the case's ZEGO product; "" in events.json is rtc.
	Product     string `json:"product"`
	Event       string `json:"event"`
	Note        string `json:"note"`
	Now         int64  `json:"now"`
	ContentType string `json:"content_type"`
	Body        string `json:"body"`
	// SignatureCommand is the shell command that computed the body's
	// signature.
	SignatureCommand string `json:"signature_command"`
	Expect           struct {
		Reason     string          `json:"reason"`
		Normalized json.RawMessage `json:"normalized"`
		// IdempotencyKey is the expected IdempotencyID in hex, computed by
		// IdempotencyKeyCommand.
		IdempotencyKey        string `json:"idempotency_key"`
		IdempotencyKeyCommand string `json:"idempotency_key_command"`
	} `json:"expect"`
}

// NowTime is the case's clock.
func (c *EventCase) NowTime() time.Time { return time.Unix(c.Now, 0) }

// MaxAge is the vectors' timestamp window.
func (s *EventSet) MaxAge() time.Duration { return time.Duration(s.MaxAgeSeconds) * time.Second }

// Events parses the embedded vectors of RTC's room, stream and recording
// events (events.json, written by events_gen.py).
func Events() (*EventSet, error) { return parseEventSet(eventsJSON) }

// Products parses the embedded vectors of every other event of every
// product, RTC's service callbacks included (products.json, written by
// products_gen.py).
func Products() (*EventSet, error) { return parseEventSet(productsJSON) }

func parseEventSet(data []byte) (*EventSet, error) {
	s := new(EventSet)
	if err := json.Unmarshal(data, s); err != nil {
		return nil, err
	}
	return s, nil
}

// LoadProducts parses the product vectors or fails the test.
func LoadProducts(t testing.TB) *EventSet { return mustLoad(t, Products) }

// LoadEvents parses the event vectors or fails the test.
func LoadEvents(t testing.TB) *EventSet { return mustLoad(t, Events) }

func mustLoad(t testing.TB, parse func() (*EventSet, error)) *EventSet {
	t.Helper()
	s, err := parse()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
