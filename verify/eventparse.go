package verify

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// fieldValue is one event field after its rule: present is false for an
// absent field (or null, or an empty string in an optional field).
type fieldValue struct {
	present bool
	// text is a string's value, or the digits of a number (canonical for
	// ruleUint and ruleEnum, exactly as received for ruleBigID).
	text string
	num  uint64
	list []string
}

// envelopeFields are required for every event, in the order compose checks
// them.
var envelopeFields = [...]int{fieldAppID, fieldEvent, fieldTimestamp, fieldNonce, fieldSignature}

// eventCallback applies an event's rule table: every required field first,
// then the envelope's formats, then each field's format in table order.
func (f *rawFields) eventCallback(spec *eventSpec, c *Callback) error {
	for _, i := range envelopeFields {
		if f.known[i].kind == kindAbsent {
			return &fieldError{ErrMissingField, fieldNames[i], "required"}
		}
	}
	extraIndex := f.extraIndex()
	var usedKnown [numFields]bool
	for _, i := range envelopeFields {
		usedKnown[i] = true
	}
	usedExtra := make([]bool, len(f.extra))
	raw := make([]value, len(spec.fields))
	for j := range spec.fields {
		rule := &spec.fields[j]
		if i := fieldIndex(rule.name); i >= 0 {
			raw[j], usedKnown[i] = f.known[i], true
		} else if k, ok := extraIndex(rule.name); ok {
			raw[j], usedExtra[k] = f.extra[k].value(), true
		}
		if rule.required && raw[j].kind == kindAbsent {
			return &fieldError{ErrMissingField, rule.name, "required"}
		}
	}
	if err := f.envelope(c); err != nil {
		return err
	}
	e := &eventFields{spec: spec, values: make([]fieldValue, len(spec.fields))}
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

// envelope checks and stores the fields every event carries, with
// compose's rules.
func (f *rawFields) envelope(c *Callback) error {
	if err := f.identity(c); err != nil {
		return err
	}
	return f.signed(c)
}

// identity checks and stores event and appid.
func (f *rawFields) identity(c *Callback) error {
	event, err := f.text(fieldEvent)
	if err != nil {
		return err
	}
	if !isToken(event, maxEventBytes, false) {
		return invalid("event", "must be 1 to 64 letters, digits or underscores")
	}
	c.Event = event
	appID, err := f.digits(fieldAppID)
	if err != nil {
		return err
	}
	id, ok := parseDigits(appID, math.MaxUint32)
	if !ok {
		return invalid("appid", "does not fit an unsigned 32-bit integer")
	}
	c.AppID = uint32(id)
	return nil
}

// signed checks and stores the signed fields: timestamp, nonce and the
// signature.
func (f *rawFields) signed(c *Callback) error {
	timestamp, err := f.digits(fieldTimestamp)
	if err != nil {
		return err
	}
	if len(timestamp) > millisecondDigits {
		return invalid("timestamp", "more than 13 digits")
	}
	c.rawTimestamp = timestamp
	seconds, _ := parseDigits(timestamp, 1e13) // at most 13 digits: cannot fail
	c.Timestamp = int64(seconds)
	if len(timestamp) == millisecondDigits {
		c.Timestamp /= 1000
	}
	nonce, err := f.textOrInteger(fieldNonce)
	if err != nil {
		return err
	}
	if !isToken(nonce, maxNonceBytes, true) {
		return invalid("nonce", "must be 1 to 64 letters, digits, '-' or '_'")
	}
	c.Nonce = nonce
	c.signature, err = f.text(fieldSignature)
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

// apply checks a received value against the rule. decode says whether
// strings inside a JSON array are URL-decoded, as top-level ones were.
func (r *fieldRule) apply(v value, decode bool) (fieldValue, error) {
	if v.kind == kindAbsent || v.kind == kindString && v.text == "" && r.kind != ruleStrings {
		if r.required { // only "" reaches here: absence was checked first
			return fieldValue{}, invalid(r.name, "must not be empty")
		}
		return fieldValue{}, nil
	}
	switch r.kind {
	case ruleText, ruleID, ruleURL:
		if v.kind != kindString && v.kind != kindInteger {
			return fieldValue{}, invalid(r.name, "must be a string")
		}
		if len(v.text) > int(r.max) {
			return fieldValue{}, invalid(r.name, "longer than "+strconv.FormatUint(r.max, 10)+" bytes")
		}
		switch {
		case r.role == roleTaskID && !visibleASCII(v.text):
			return fieldValue{}, invalid(r.name, "must be printable ASCII without spaces")
		case r.kind == ruleID && !controlFree(v.text):
			return fieldValue{}, invalid(r.name, "must hold no control characters")
		case r.kind == ruleURL && !isHTTPURL(v.text):
			return fieldValue{}, invalid(r.name, "must be an absolute http or https URL")
		}
		return fieldValue{present: true, text: v.text}, nil
	case ruleUint, ruleEnum:
		limit := r.max
		if r.kind == ruleEnum {
			limit = math.MaxUint32
		}
		if v.kind != kindString && v.kind != kindInteger || !isDigits(v.text) {
			return fieldValue{}, invalid(r.name, "must be decimal digits")
		}
		n, ok := parseDigits(v.text, limit)
		if !ok {
			return fieldValue{}, invalid(r.name, "above "+strconv.FormatUint(limit, 10))
		}
		return fieldValue{present: true, text: strconv.FormatUint(n, 10), num: n}, nil
	case ruleBigID:
		if v.kind != kindString && v.kind != kindInteger || !isDigits(v.text) {
			return fieldValue{}, invalid(r.name, "must be decimal digits")
		}
		n, err := strconv.ParseUint(v.text, 10, 64)
		if err != nil {
			return fieldValue{}, invalid(r.name, "does not fit an unsigned 64-bit integer")
		}
		return fieldValue{present: true, text: v.text, num: n}, nil
	case ruleStrings:
		return r.list(v, decode)
	case ruleJSONText:
		if len(v.text) > int(r.max) {
			return fieldValue{}, invalid(r.name, "longer than "+strconv.FormatUint(r.max, 10)+" bytes")
		}
		return fieldValue{present: true, text: v.text}, nil
	}
	panic("verify: unknown rule kind")
}

// list reads an array of strings: a JSON array, a string holding one, or a
// single bare string.
func (r *fieldRule) list(v value, decode bool) (fieldValue, error) {
	notList := invalid(r.name, "must be an array of strings")
	switch {
	case v.kind == kindString && v.text == "":
		return fieldValue{present: true, list: []string{}}, nil
	case v.kind == kindString && !strings.HasPrefix(v.text, "["):
		if err := r.checkElement(v.text); err != nil {
			return fieldValue{}, err
		}
		return fieldValue{present: true, list: []string{v.text}}, nil
	case v.kind == kindString:
		decode = false // the string was decoded as a whole
	case v.kind != kindOther || !strings.HasPrefix(v.text, "["):
		return fieldValue{}, notList
	}
	s := v.text
	d := jsonDecoder{s: s, plain: printableASCII(s) && strings.IndexByte(s, '\\') < 0}
	d.consume('[')
	d.skipSpace()
	list := []string{}
	if !d.consume(']') {
		for {
			d.skipSpace()
			element, ok := d.readString()
			if !ok {
				return fieldValue{}, notList
			}
			if decode && hasURLEscape(element) {
				element = unescapeValue(element)
			}
			if err := r.checkElement(element); err != nil {
				return fieldValue{}, err
			}
			if list = append(list, element); len(list) > maxListLen {
				return fieldValue{}, invalid(r.name, "more than "+strconv.Itoa(maxListLen)+" elements")
			}
			d.skipSpace()
			if d.consume(']') {
				break
			}
			if !d.consume(',') {
				return fieldValue{}, notList
			}
		}
	}
	d.skipSpace()
	if d.pos != len(s) {
		return fieldValue{}, notList
	}
	return fieldValue{present: true, list: list}, nil
}

func (r *fieldRule) checkElement(s string) error {
	if len(s) > int(r.max) || !utf8.ValidString(s) || !controlFree(s) {
		return invalid(r.name, "elements must be at most "+strconv.FormatUint(r.max, 10)+" bytes of text without control characters")
	}
	return nil
}

// enumName returns the documented name of an enumeration's value.
func (r *fieldRule) enumName(n uint64) string {
	for _, e := range r.names {
		if uint64(e.value) == n {
			return e.name
		}
	}
	return "unknown"
}

// appendEventJSON writes an event other than compose: the envelope, then
// each field of the table, always present: strings and big identifiers as
// strings ("" when absent), numbers as numbers (null when absent),
// enumerations as their number and "<name>_name" (both null when absent),
// lists as arrays ([] when absent); then extra.
func (c *Callback) appendEventJSON(dst []byte) []byte {
	dst = append(dst, `{"event":`...)
	dst = appendJSONString(dst, c.Event)
	dst = append(dst, `,"app_id":`...)
	dst = strconv.AppendUint(dst, uint64(c.AppID), 10)
	dst = append(dst, `,"timestamp":`...)
	dst = strconv.AppendInt(dst, c.Timestamp, 10)
	dst = append(dst, `,"sent_at":"`...)
	dst = appendRFC3339(dst, c.Timestamp)
	dst = append(dst, `","nonce":`...)
	dst = appendJSONString(dst, c.Nonce)
	for j := range c.event.spec.fields {
		rule, v := &c.event.spec.fields[j], &c.event.values[j]
		dst = append(dst, ',')
		dst = appendJSONString(dst, rule.name)
		dst = append(dst, ':')
		dst = v.appendJSON(dst, rule)
	}
	dst = append(dst, `,"extra":{`...)
	for i, e := range c.extra {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, e.name)
		dst = append(dst, ':')
		if e.isText {
			dst = appendJSONString(dst, e.text)
		} else {
			dst = append(dst, e.text...)
		}
	}
	return append(dst, "}}"...)
}

func (v *fieldValue) appendJSON(dst []byte, rule *fieldRule) []byte {
	switch rule.kind {
	case ruleUint:
		if !v.present {
			return append(dst, "null"...)
		}
		return strconv.AppendUint(dst, v.num, 10)
	case ruleEnum:
		if !v.present {
			dst = append(dst, "null,"...)
		} else {
			dst = strconv.AppendUint(dst, v.num, 10)
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, rule.name+"_name")
		dst = append(dst, ':')
		if !v.present {
			return append(dst, "null"...)
		}
		return appendJSONString(dst, rule.enumName(v.num))
	case ruleStrings:
		dst = append(dst, '[')
		for i, s := range v.list {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, s)
		}
		return append(dst, ']')
	}
	return appendJSONString(dst, v.text)
}

// eventIdempotencyID hashes the app, the event and the key fields of the
// event's table, NUL between each; an absent key field is empty.
func (c *Callback) eventIdempotencyID() [16]byte {
	var buf [1024]byte
	b := strconv.AppendUint(buf[:0], uint64(c.AppID), 10)
	b = append(b, 0)
	b = append(b, c.Event...)
	for j := range c.event.spec.fields {
		if c.event.spec.fields[j].key {
			b = append(b, 0)
			b = append(b, c.event.values[j].text...)
		}
	}
	return shortHash(b)
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
		if rule.kind == ruleStrings {
			return string(v.appendJSON(nil, rule)), true
		}
		return v.text, true
	}
	return "", false
}
