package verify

import (
	"crypto/sha256"
	"errors"
	"strconv"
	"time"
)

// The Callback type and the dispatch: Parse and parse decode a body once
// and apply the product's tables (products.go); compose has its own rules
// (compose.go), every other event its table (eventparse.go, rules.go).
// The dedupe keys are here too.

// Callback is a parsed callback with every field rule of its event applied.
// Its JSON form, written by AppendJSON, is what the upstream receives.
type Callback struct {
	Event string
	AppID uint32
	// TaskID is the task the callback is about (compose's task_id, the
	// field with the task role in other events' tables); "" for events
	// without one.
	TaskID string
	// Code is compose's result code: 0 success, 40000 invalid input, 60000
	// bad source file, 70000 internal error; 0 for other events.
	Code int64
	// Message, ReplayURL and FileID are compose's; see Field for the fields
	// of other events.
	Message   string
	ReplayURL string
	// FileID holds the exact digits ZEGO sent (Tencent file IDs exceed 2^53).
	FileID string
	// Timestamp is ZEGO's send time in unix seconds.
	Timestamp int64
	Nonce     string

	// The signed strings as received, kept for the signature check and never
	// written out.
	rawTimestamp string
	signature    string
	extra        []extraField
	// secretIndex is set by a Verifier; see SecretIndex.
	secretIndex int
	// clean: every string came from a plain body and needs no escaping in
	// JSON (see rawFields.clean); AppendJSON then copies them as they are.
	clean bool
	// event is set for events other than compose. A pointer keeps the
	// Callback, which is copied on compose's hot path, as small as before.
	event *eventFields
}

// eventFields are the fields of an event other than compose.
type eventFields struct {
	product  *product
	spec     *eventSpec
	values   []fieldValue
	roomID   string
	streamID string
}

// RoomID is the room an event is about (room_id, else channel_id); "" for
// compose and record.
func (c *Callback) RoomID() string {
	if c.event == nil {
		return ""
	}
	return c.event.roomID
}

// StreamID is the stream an event is about (stream_id, else stream_alias;
// mix_stream_alias for the mix events); "" for compose and the room events.
func (c *Callback) StreamID() string {
	if c.event == nil {
		return ""
	}
	return c.event.streamID
}

// SecretIndex tells which secret verified the callback: its position in the
// app's own secrets (Options.AppSecrets) when the app has an entry, else in
// Options.Secrets. It is meaningful only after Verifier.Verify succeeded;
// callers keep records of different secrets apart with it.
func (c *Callback) SecretIndex() int { return c.secretIndex }

// Success reports whether the merge task succeeded (code 0).
func (c *Callback) Success() bool { return c.Code == 0 }

// SentAt is Timestamp as a UTC time.
func (c *Callback) SentAt() time.Time { return time.Unix(c.Timestamp, 0).UTC() }

// IdempotencyID identifies one occurrence of an event, the same for ZEGO's
// retries of it and different for another occurrence: 128 bits of SHA-256
// over the product (for every product but rtc), the app, the event and the
// event's key fields (compose: task_id; the others: see the tables in
// events*.go), joined by NUL bytes. In hex it
// is the Idempotency-Key the upstream receives.
func (c *Callback) IdempotencyID() [16]byte {
	if c.event != nil {
		return c.eventIdempotencyID()
	}
	var buf [300]byte
	b := strconv.AppendUint(buf[:0], uint64(c.AppID), 10)
	b = append(b, 0)
	b = append(b, c.Event...)
	b = append(b, 0)
	b = append(b, c.TaskID...)
	return shortHash(b)
}

// SignatureID identifies the signed string: 128 bits of SHA-256 over the
// signature in lower case. It is keyed on the signature alone because ZEGO
// joins the sorted secret, timestamp and nonce with no separator: the same
// signature can be presented with digits moved between the timestamp and
// the nonce, and must still count as the same signature.
func (c *Callback) SignatureID() [16]byte {
	var buf [64]byte
	b := buf[:0]
	for i := 0; i < len(c.signature); i++ {
		ch := c.signature[i]
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		b = append(b, ch)
	}
	return shortHash(b)
}

// shortHash is 128 bits of SHA-256: plenty to tell keys apart.
func shortHash(b []byte) [16]byte {
	sum := sha256.Sum256(b)
	return [16]byte(sum[:16])
}

// Parse decodes an RTC callback body in any of the shapes ZEGO sends and
// applies the field rules: required fields, then field formats; another
// product's callback is ErrWrongProduct. It checks no signature, app,
// event or time; a Verifier does. On error, the fields decoded so far are
// returned for logging.
func Parse(body []byte) (Callback, error) {
	var c Callback
	err := parse(body, rtcProduct, true, &c)
	if err == errForeign {
		err = ErrWrongProduct
	}
	return c, err
}

// parse is Parse for product p into c, which must be zero: Verify's result
// is filled in place, not copied through two returns. A body that is not
// one of p's events but parses as another product's is returned as that
// product's callback with errForeign, for the Verifier to refuse as
// ErrWrongProduct once its signature is checked (ZEGO signs every product
// the same way).
//
// fastPaths enables the shortcuts for the bodies ZEGO sends, which must
// give the same callback, document and error as the general path they
// skip (TestFastPathsAgree and FuzzParse compare the two): parsePlainCompose
// for a compose body, and in the decoder a plain body (printable ASCII, no
// backslash: its strings need no unescaping, and are clean, so the
// document copies them), read flat (decodeFlat: string members only,
// nothing between the tokens). Only tests turn them off.
func parse(body []byte, p *product, fastPaths bool, c *Callback) error {
	s := string(body) // the callback's strings are pieces of this one copy
	if fastPaths && p == rtcProduct && parsePlainCompose(s, c) {
		return nil
	}
	return parseGeneral(s, p, fastPaths, c)
}

// parseGeneral is parse past the compose fast path (Verify calls it after
// its own copy of that path). The body is decoded once, for every product
// it is tried as.
func parseGeneral(s string, p *product, fastPaths bool, c *Callback) error {
	var f rawFields
	if err := decodeBody(s, fastPaths, &f); err != nil {
		return err
	}
	err := f.productCallback(p, c)
	if err == nil && !c.unknownEvent() || errors.Is(err, ErrMalformedBody) || errors.Is(err, ErrDuplicateField) {
		return err
	}
	for _, other := range products {
		var theirs Callback
		if other != p && f.productCallback(other, &theirs) == nil && !theirs.unknownEvent() {
			*c = theirs
			return errForeign
		}
	}
	return err
}

// productCallback applies p's tables to a decoded body. An event p does
// not know gets only the envelope's rules (compose's, for rtc, as it
// always has): a Verifier refuses it as not allowed once the signature has
// been checked.
func (f *rawFields) productCallback(p *product, c *Callback) error {
	for _, env := range productEnvelopes[p] {
		if spec := p.specFor(env, f.member(env.Event)); spec != nil {
			return f.eventCallback(p, spec, c)
		}
	}
	if p == rtcProduct {
		return f.callback(c)
	}
	return f.eventCallback(p, &unknownEventSpec, c)
}

// member is the value of the body's member name, known or not.
func (f *rawFields) member(name string) value {
	if i := fieldIndex(name); i >= 0 {
		return f.known[i]
	}
	if k, ok := f.extraIndex()(name); ok {
		return f.extra[k].value()
	}
	return value{}
}

// errForeign is parse's answer for another product's callback.
var errForeign = errors.New("another product's callback")

// unknownEventSpec stands for an event the product does not have.
var unknownEventSpec = eventSpec{name: "unknown"}

// unknownEvent reports whether c is an event its product does not have.
func (c *Callback) unknownEvent() bool {
	if c.event == nil {
		return c.Event != DefaultEvent
	}
	return c.event.spec == &unknownEventSpec
}

// Product is the product whose callback c is.
func (c *Callback) Product() string { return c.product().name }

func (c *Callback) product() *product {
	if c.event == nil {
		return rtcProduct
	}
	return c.event.product
}

// Synchronous reports whether ZEGO waits for the backend's answer to c and
// acts on it (ZIM's before_send_msg): the answer must reach ZEGO as the
// backend wrote it.
func (c *Callback) Synchronous() bool { return c.event != nil && c.event.spec.synchronous }

// eventIdempotencyID hashes the product (but rtc), the app, the event and
// the key fields of the event's table, NUL between each; an absent key
// field is empty.
func (c *Callback) eventIdempotencyID() [16]byte {
	var buf [1024]byte
	b := buf[:0]
	// Products reuse event names and ZEGO gives one project one secret, so
	// one store and one backend see every product's keys: the product
	// tells them apart (not for rtc, whose keys the public vectors pin).
	if p := c.event.product; p != rtcProduct {
		b = append(b, p.name...)
		b = append(b, 0)
	}
	b = strconv.AppendUint(b, uint64(c.AppID), 10)
	b = append(b, 0)
	b = append(b, c.Event...)
	b = appendKeys(b, c.event.spec.fields, c.event.values, c.rawTimestamp)
	if c.event.spec.keyTimestamp {
		b = append(b, 0)
		b = append(b, c.rawTimestamp...)
	}
	return shortHash(b)
}

// appendKeys appends each key field's text, NUL before each, in table
// order, a nested object's in its place; a list key is its JSON text.
func appendKeys(b []byte, rules []fieldRule, values []fieldValue, rawTimestamp string) []byte {
	for j := range rules {
		rule, v := &rules[j], &values[j]
		switch {
		case rule.kind == ruleObject && v.present:
			b = appendKeys(b, rule.members, v.objects[0].values, rawTimestamp)
		case !rule.key:
		case rule.kind == ruleStrings, rule.kind == ruleObjects:
			b = append(b, 0)
			b = v.appendJSON(b, rule)
		case !v.present && rule.orTimestamp:
			b = append(b, 0)
			b = append(b, rawTimestamp...)
		default:
			b = append(b, 0)
			b = append(b, v.text...)
		}
	}
	return b
}

// Field returns one of the event's own fields as it is forwarded: a string
// as is, a number in decimal, a list as its JSON text; ok is false for a
// field the event does not have or that was absent. For compose: task_id,
// code, message, replay_url and file_id.
func (c *Callback) Field(name string) (value string, ok bool) {
	if c.event == nil {
		switch name {
		case "task_id":
			return c.TaskID, true
		case "code":
			return strconv.FormatInt(c.Code, 10), true
		case "message":
			return c.Message, c.Message != ""
		case "replay_url":
			return c.ReplayURL, c.ReplayURL != ""
		case "file_id":
			return c.FileID, c.FileID != ""
		}
		return "", false
	}
	for j := range c.event.spec.fields {
		rule, v := &c.event.spec.fields[j], &c.event.values[j]
		if rule.name != name || !v.present {
			continue
		}
		switch rule.kind {
		case ruleStrings, ruleObject, ruleObjects:
			return string(v.appendJSON(nil, rule)), true
		}
		return v.text, true
	}
	return "", false
}
