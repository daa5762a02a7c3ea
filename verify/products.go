package verify

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// ZEGO configures one callback URL per product, and the products reuse
// event names (ZIM's room_create is not RTC's), so a Verifier receives one
// product, named in Options.Product. Each product is a family envelope (how
// its callbacks spell the signed fields) and its events' rule tables.
// Every product found in ZEGO's documentation signs the same way: SHA-1 of
// the sorted callback secret, timestamp and nonce (ZEGO-FAMILIES §1).

// DefaultProduct is the product of a Verifier whose Options.Product is "".
const DefaultProduct = "rtc"

// Envelope is how one product's callbacks spell the envelope: the member
// names of the identifying and signed fields, and the timestamp's unit.
// Milliseconds: the timestamp is always in milliseconds, as the pages state
// and every example shows; otherwise thirteen digits are milliseconds and
// fewer are seconds (RTC's pages show both; ZIM's contradict themselves).
// The window applies in seconds either way.
type Envelope struct {
	AppID, Event, Timestamp, Nonce, Signature string
	Milliseconds                              bool
	// Numeric: the event member holds a number (Cloud Recording's
	// event_type); each event's table gives its number, and the document
	// carries both the name and the number ("event_type").
	Numeric bool
}

// product is one ZEGO product's callbacks.
type product struct {
	name string
	// envelope is how the product's callbacks spell the envelope, but for
	// events with their own (RTC's transcoding and moderation callbacks).
	envelope Envelope
	// doc is the page that lists the product's callbacks and how they are
	// signed.
	doc    string
	events []*eventSpec
}

// envelopeOf is the envelope of spec's callbacks.
func (p *product) envelopeOf(spec *eventSpec) *Envelope {
	if spec.envelope != nil {
		return spec.envelope
	}
	return &p.envelope
}

// envelopes lists the envelopes the product's events use, its own first.
func (p *product) envelopes() []*Envelope {
	envelopes := []*Envelope{&p.envelope}
	for _, spec := range p.events {
		if spec.envelope != nil && !slices.Contains(envelopes, spec.envelope) {
			envelopes = append(envelopes, spec.envelope)
		}
	}
	return envelopes
}

// productEnvelopes is each product's envelopes(), computed once.
var productEnvelopes = func() map[*product][]*Envelope {
	m := make(map[*product][]*Envelope, len(products))
	for _, p := range products {
		m[p] = p.envelopes()
	}
	return m
}()

// lowerCaseFamily is RTC's, ZIM's and Super Board's envelope.
var lowerCaseFamily = Envelope{AppID: "appid", Event: "event", Timestamp: "timestamp", Nonce: "nonce", Signature: "signature"}

// rtcProduct's events are compose (hand-tuned rules in compose.go),
// rtcEvents and rtcServiceEvents.
var rtcProduct = &product{
	name: "rtc", envelope: lowerCaseFamily, events: slices.Concat(rtcEvents, rtcServiceEvents),
	doc: "https://www.zegocloud.com/docs/real-time-video-server/callback/receiving-callback",
}

// products lists every supported product, rtc first.
var products = []*product{rtcProduct, zimProduct, aiAgentProduct, asrProduct, cloudRecordingProduct, cloudPlayerProduct, digitalHumanProduct, superBoardProduct}

// unsupportedProducts are ZEGO products the edge cannot verify, and why.
var unsupportedProducts = map[string]string{
	"mini_game": "Mini-game's pages give three incompatible signature methods (md5 of the unsorted AppId, SignatureNonce, CallbackSecret and Timestamp on " +
		"https://www.zegocloud.com/docs/mini-game-server/making-api-requests; the sorted sha1 on " +
		"https://doc-zh.zego.im/mini-game-server/callback/report-game-info-barrage; an example signature that is base64 of 20 bytes), so none can be checked",
}

// Products lists the supported products, rtc first.
func Products() []string {
	names := make([]string, len(products))
	for i, p := range products {
		names[i] = p.name
	}
	return names
}

// CheckProduct says why name is not a supported product, or nil when it is.
func CheckProduct(name string) error {
	if productNamed(name) != nil {
		return nil
	}
	if why, known := unsupportedProducts[name]; known {
		return fmt.Errorf("product %s is not supported: %s", name, why)
	}
	return fmt.Errorf("product must be one of %s", strings.Join(Products(), ", "))
}

// productNamed returns a supported product, "" being DefaultProduct, or nil.
func productNamed(name string) *product {
	if name == "" {
		return rtcProduct
	}
	for _, p := range products {
		if p.name == name {
			return p
		}
	}
	return nil
}

// spec returns the rules of one of the product's events other than
// compose, or nil.
func (p *product) spec(event string) *eventSpec {
	for _, spec := range p.events {
		if spec.name == event {
			return spec
		}
	}
	return nil
}

// specFor returns the rules of the event that env's event member names,
// by name or, for a numeric family, by number, among the product's events
// in that envelope; nil for an event the product does not have.
func (p *product) specFor(env *Envelope, event value) *eventSpec {
	if !env.Numeric {
		if event.kind != kindString || p == rtcProduct && event.text == DefaultEvent {
			return nil
		}
		if spec := p.spec(event.text); spec != nil && p.envelopeOf(spec) == env {
			return spec
		}
		return nil
	}
	if event.kind != kindString && event.kind != kindInteger || !isDigits(event.text) || event.text == "" {
		return nil
	}
	code, ok := parseDigits(event.text, math.MaxUint32)
	for _, spec := range p.events {
		if ok && uint64(spec.code) == code && p.envelopeOf(spec) == env {
			return spec
		}
	}
	return nil
}

// Events lists the events of a supported product ("" is DefaultProduct),
// in the order of its tables (compose first for rtc); nil for any other.
func Events(productName string) []string {
	p := productNamed(productName)
	if p == nil {
		return nil
	}
	var names []string
	if p == rtcProduct {
		names = append(names, DefaultEvent)
	}
	for _, spec := range p.events {
		names = append(names, spec.name)
	}
	return names
}

// EventDoc returns what one of a product's events means and the address of
// ZEGO's page for it; ok is false for an unsupported product or event.
func EventDoc(productName, event string) (meaning, url string, ok bool) {
	p := productNamed(productName)
	switch {
	case p == nil:
		return "", "", false
	case p == rtcProduct && event == DefaultEvent:
		return composeMeaning, composeDoc, true
	}
	if spec := p.spec(event); spec != nil {
		return spec.meaning, spec.doc, true
	}
	return "", "", false
}

// ExampleFields returns an example of one of a product's events: its own
// fields (not the envelope), in the order of ZEGO's page, as strings a form
// or a JSON body can carry (a list or an object as its JSON text). Values
// come from ZEGO's documented example where it has one, with placeholders
// replaced. ok is false for an unsupported product or event.
func ExampleFields(productName, event string) (fields []Field, ok bool) {
	p := productNamed(productName)
	switch {
	case p == nil:
		return nil, false
	case p == rtcProduct && event == DefaultEvent:
		return slices.Clone(composeExample), true
	}
	if spec := p.spec(event); spec != nil {
		return slices.Clone(spec.example), true
	}
	return nil, false
}

// EventEnvelope returns the envelope of one of a product's events (for
// most products, the product's; RTC's transcoding and moderation callbacks
// have their own); ok is false for an unsupported product or event.
func EventEnvelope(productName, event string) (e Envelope, ok bool) {
	p := productNamed(productName)
	switch {
	case p == nil:
		return Envelope{}, false
	case p == rtcProduct && event == DefaultEvent:
		return p.envelope, true
	}
	if spec := p.spec(event); spec != nil {
		return *p.envelopeOf(spec), true
	}
	return Envelope{}, false
}

// EventCode returns the number that stands for one of a product's events
// in a numeric family (Cloud Recording's event_type); numeric is false
// where the event member holds the name.
func EventCode(productName, event string) (code uint32, numeric bool) {
	p := productNamed(productName)
	if p == nil {
		return 0, false
	}
	if spec := p.spec(event); spec != nil && p.envelopeOf(spec).Numeric {
		return spec.code, true
	}
	return 0, false
}

// pascalCaseMillisFamily is the AI Agent's and ASR's envelope.
var pascalCaseMillisFamily = Envelope{AppID: "AppId", Event: "Event", Timestamp: "Timestamp", Nonce: "Nonce", Signature: "Signature", Milliseconds: true}

// cloudPlayerFamily is Cloud Player's envelope.
var cloudPlayerFamily = Envelope{AppID: "AppID", Event: "EventType", Timestamp: "Timestamp", Nonce: "Nonce", Signature: "Signature", Numeric: true}

// digitalHumanFamily is the Digital Human's envelope.
var digitalHumanFamily = Envelope{AppID: "AppId", Event: "EventType", Timestamp: "Timestamp", Nonce: "Nonce", Signature: "Signature", Numeric: true}

// cloudRecordingFamily is Cloud Recording's envelope.
var cloudRecordingFamily = Envelope{AppID: "app_id", Event: "event_type", Timestamp: "timestamp", Nonce: "nonce", Signature: "signature", Numeric: true}

// rtcTranscodeFamily is single-stream transcoding's envelope. Its pages
// leave the timestamp's unit unstated (the examples send the placeholder
// "timestamp"): read by magnitude.
var rtcTranscodeFamily = Envelope{AppID: "Appid", Event: "Event", Timestamp: "Timestamp", Nonce: "Nonce", Signature: "Signature"}

// moderationFamily is stream moderation's envelope ("Unix timestamp
// (seconds)", a JSON number).
var moderationFamily = Envelope{AppID: "AppId", Event: "Event", Timestamp: "Timestamp", Nonce: "Nonce", Signature: "Signature"}
