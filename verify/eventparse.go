package verify

import (
	"math"
	"strings"
)

// Applying a product's envelope and an event's table to a decoded body.

// eventCallback applies the product's envelope and an event's rule table:
// every required field first (the envelope's in the order compose checks
// them), then the envelope's formats, then each field's format in table
// order.
func (f *rawFields) eventCallback(p *product, spec *eventSpec, c *Callback) error {
	extraIndex := f.extraIndex()
	var usedKnown [numFields]bool
	usedExtra := make([]bool, len(f.extra))
	take := func(name string) value {
		if i := fieldIndex(name); i >= 0 {
			usedKnown[i] = true
			return f.known[i]
		}
		if k, ok := extraIndex(name); ok {
			usedExtra[k] = true
			return f.extra[k].value()
		}
		return value{}
	}
	env := p.envelopeOf(spec)
	appID, event, timestamp, nonce, signature := take(env.AppID), take(env.Event), take(env.Timestamp), take(env.Nonce), take(env.Signature)
	for _, m := range [...]struct {
		name string
		v    value
	}{{env.AppID, appID}, {env.Event, event}, {env.Timestamp, timestamp}, {env.Nonce, nonce}, {env.Signature, signature}} {
		if m.v.kind == kindAbsent {
			return &fieldError{ErrMissingField, m.name, "required"}
		}
	}
	raw := make([]value, len(spec.fields))
	for j := range spec.fields {
		rule := &spec.fields[j]
		if raw[j] = take(rule.name); rule.required && raw[j].kind == kindAbsent {
			return &fieldError{ErrMissingField, rule.name, "required"}
		}
	}
	if err := c.setIdentity(env, spec, event, appID); err != nil {
		return err
	}
	if err := c.setSigned(env, timestamp, nonce, signature); err != nil {
		return err
	}
	e := &eventFields{product: p, spec: spec, values: make([]fieldValue, len(spec.fields))}
	for j := range spec.fields {
		rule := &spec.fields[j]
		v, err := rule.apply(raw[j], f.decodeValues)
		if err != nil {
			return err
		}
		e.values[j] = v
		if !v.present {
			continue
		}
		switch {
		case rule.role == roleRoomID && e.roomID == "":
			e.roomID = v.text
		case rule.role == roleStreamID && e.streamID == "":
			e.streamID = v.text
		case rule.role == roleTaskID && c.TaskID == "":
			c.TaskID = v.text
		}
	}
	c.event = e
	c.extra = f.leftover(usedKnown, usedExtra)
	return nil
}

// setIdentity checks and stores the event and the app ID. A numeric
// family's event is named by its table (spec), or by its digits when the
// product has no such event.
func (c *Callback) setIdentity(env *Envelope, spec *eventSpec, event, appID value) error {
	var name string
	var err error
	if env.Numeric {
		if name, err = digitsOf(event, env.Event); err == nil && len(name) > 10 {
			err = invalid(env.Event, "does not fit an unsigned 32-bit integer")
		}
		if spec != &unknownEventSpec {
			name = spec.name
		}
	} else {
		name, err = textOf(event, env.Event)
	}
	if err != nil {
		return err
	}
	if !isToken(name, maxEventBytes, false) {
		return invalid(env.Event, "must be 1 to 64 letters, digits or underscores")
	}
	c.Event = name
	digits, err := digitsOf(appID, env.AppID)
	if err != nil {
		return err
	}
	id, ok := parseDigits(digits, math.MaxUint32)
	if !ok {
		return invalid(env.AppID, "does not fit an unsigned 32-bit integer")
	}
	c.AppID = uint32(id)
	return nil
}

// setSigned checks and stores the signed fields: the timestamp, the nonce
// and the signature. The timestamp is kept as the digits received, which
// is what ZEGO hashed.
func (c *Callback) setSigned(env *Envelope, timestamp, nonce, signature value) error {
	digits, err := digitsOf(timestamp, env.Timestamp)
	if err != nil {
		return err
	}
	n, _ := parseDigits(digits, math.MaxUint64) // a longer one fails below
	seconds, ok := unixSeconds(n, len(digits), env.Milliseconds)
	if !ok {
		return invalid(env.Timestamp, "more than 13 digits")
	}
	c.rawTimestamp, c.Timestamp = digits, seconds
	nonceText, err := textOrIntegerOf(nonce, env.Nonce)
	if err != nil {
		return err
	}
	if !isToken(nonceText, maxNonceBytes, true) {
		return invalid(env.Nonce, "must be 1 to 64 letters, digits, '-' or '_'")
	}
	c.Nonce = nonceText
	c.signature, err = textOf(signature, env.Signature)
	return err
}

// extraIndex returns a lookup of unknown fields by name: a scan for a few,
// a map for many, so that a body of thousands of keys costs O(n).
func (f *rawFields) extraIndex() func(string) (int, bool) {
	const linearScanLimit = 16
	if len(f.extra) <= linearScanLimit {
		return func(name string) (int, bool) {
			for k := range f.extra {
				if f.extra[k].name == name {
					return k, true
				}
			}
			return 0, false
		}
	}
	index := make(map[string]int, len(f.extra))
	for k, e := range f.extra {
		index[e.name] = k
	}
	return func(name string) (int, bool) {
		k, ok := index[name]
		return k, ok
	}
}

// value turns an unknown field back into a received value.
func (e *extraField) value() value {
	switch {
	case e.isText:
		return value{kindString, e.text}
	case e.text == "null":
		return value{}
	case isIntegerLiteral(e.text):
		return value{kindInteger, e.text}
	}
	return value{kindOther, e.text}
}

// isIntegerLiteral reports whether a valid JSON number has no fraction and
// no exponent.
func isIntegerLiteral(s string) bool {
	s = strings.TrimPrefix(s, "-")
	return s != "" && isDigits(s)
}

// leftover is what goes under extra: compose's fields that this event does
// not have (the decoder does not keep their place in the body: they come
// first, in compose's field order), then the unknown fields the event's
// table did not take, in the order received.
func (f *rawFields) leftover(usedKnown [numFields]bool, usedExtra []bool) []extraField {
	var out []extraField
	for i := range numFields {
		if f.seen[i] && !usedKnown[i] {
			v := f.known[i]
			if v.kind == kindAbsent {
				v.text = "null"
			}
			out = append(out, extraField{name: fieldNames[i], text: v.text, isText: v.kind == kindString})
		}
	}
	for k := range f.extra {
		if !usedExtra[k] {
			out = append(out, f.extra[k])
		}
	}
	return out
}
