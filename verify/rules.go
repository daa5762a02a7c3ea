package verify

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Field rules: how each field of an event's table is read from the body
// and checked. Where a page and its older edition disagree on a type (a
// number documented as a string, an array sent in a form), every rule
// accepts both forms, as listed in ruleKind.
//
// Required means: the callback is refused without it. Only the fields that
// identify the occurrence (the dedupe key) or the object it is about are
// required; ZEGO documents no required/optional column, and refusing a
// genuine callback for a missing descriptive field would lose it after
// ZEGO's five retries.

// ruleKind says how a field is read and written.
type ruleKind uint8

const (
	// ruleText: a string (a JSON integer is kept as its digits: ZEGO's
	// pages flip between the two) of at most max bytes; written as a JSON
	// string.
	ruleText ruleKind = iota
	// ruleID: as ruleText, with no control characters (identifiers end up
	// in Caddy placeholders and headers).
	ruleID
	// ruleURL: an absolute http or https URL (the compose replay_url rule).
	ruleURL
	// ruleUint: decimal digits, as a string or a JSON integer, at most max
	// (never above 2^53-1, so every JSON reader holds it exactly); written
	// as a JSON number.
	ruleUint
	// ruleBigID: decimal digits, as a string or a JSON integer, that fit an
	// unsigned 64-bit integer; written as a string of the exact digits (such
	// identifiers exceed 2^53).
	ruleBigID
	// ruleEnum: as ruleUint up to 2^32-1; written as the number and, beside
	// it, "<name>_name": the documented name, or "unknown" for a value the
	// page does not list (ZEGO has added values over time).
	ruleEnum
	// ruleStrings: a JSON array of strings (each at most max bytes, no
	// control characters, at most itemLimit of them). A form cannot carry
	// an array, so a string holding a JSON array, or one bare string (a
	// one-element list; "" is empty), is accepted too. Written as an array.
	ruleStrings
	// ruleJSONText: a string that may hold JSON text, or a JSON object or
	// array; written as a string (the object's JSON text), never parsed:
	// the pages show it both as JSON and as a placeholder word.
	ruleJSONText
	// ruleInt: a signed decimal integer, as a string or a JSON integer,
	// within ±(2^53-1); written as a JSON number.
	ruleInt
	// ruleNumber: a JSON number, or a string holding one, of at most 32
	// bytes (a fraction is allowed); written as the number received.
	ruleNumber
	// ruleObject: a JSON object (or a string holding one: a form cannot
	// carry an object) of at most max bytes and maxMembers members, whose
	// documented members are read by the rules in members; written as an
	// object of those members in table order, always present as for the
	// top level, then the members the page does not document, as received.
	ruleObject
	// ruleObjects: a JSON array (or a string holding one) of at most
	// itemLimit such objects, max bytes in all; written as an array.
	ruleObjects
)

// Bounds not stated by ZEGO, or stated differently by two pages, are
// rounded up to these.
const (
	maxIDBytes   = 256
	maxTextBytes = 1024
	maxListLen   = 32
	maxJSONBytes = 4096
	// maxObjectBytes bounds a nested object or array of objects: room for
	// a chunk of audio in base64 (AI Agent's UserAudioData), well under
	// the handler's body limit.
	maxObjectBytes = 256 << 10
	// maxMemberList bounds a list of a group's or room's members (ZIM's
	// user_ids): a group may hold thousands; the body limit bounds it too.
	maxMemberList  = 10_000
	maxMembers     = 64
	maxNumberBytes = 32
	// maxExactInteger is 2^53-1, the largest integer every JSON reader holds
	// exactly.
	maxExactInteger = 1<<53 - 1
)

// fieldRole marks the field that fills a Callback identity field; the first
// present field with a role wins, in table order.
type fieldRole uint8

const (
	roleNone fieldRole = iota
	roleRoomID
	roleStreamID
	roleTaskID
)

type enumName struct {
	value uint32
	name  string
}

type fieldRule struct {
	name     string
	kind     ruleKind
	required bool
	// max bounds a string's bytes, a list element's bytes, or a number.
	max   uint64
	names []enumName
	role  fieldRole
	// key: part of the dedupe key, in table order (a nested member's in
	// its place in the table).
	key bool
	// orTimestamp: a key that, when absent, the timestamp as received
	// stands in for (the AI Agent's Sequence, missing from some of ZEGO's
	// examples): without it every such callback of one instance would be
	// one occurrence, and all but the first would be dropped as retries.
	orTimestamp bool
	// members are the rules of an object's documented members.
	members []fieldRule
	// items bounds a list's elements; 0 is maxListLen.
	items int
}

// itemLimit is the most elements the rule's list may hold.
func (r *fieldRule) itemLimit() int {
	if r.items > 0 {
		return r.items
	}
	return maxListLen
}

// eventSpec is one event's rules, what it means and where ZEGO documents it.
type eventSpec struct {
	name    string
	meaning string
	doc     string
	fields  []fieldRule
	example []Field
	// keyTimestamp adds the timestamp, as received, to the dedupe key: for
	// events whose pages give no field that tells one occurrence from the
	// next (a room created, destroyed and created again under one ID). A
	// retry that ZEGO re-signs with a new timestamp is then delivered
	// again: at least once, never lost.
	keyTimestamp bool
	// synchronous: ZEGO waits for the backend's answer and acts on it.
	synchronous bool
	// code is the event's number in a numeric family (Envelope.Numeric).
	code uint32
	// envelope is the event's own, when it is not its product's.
	envelope *Envelope
}

// Field is a field name and its value as a string, as a form would carry it.
type Field struct {
	Name  string
	Value string
}

// fieldValue is one event field after its rule: present is false for an
// absent field (or null, or an empty string in an optional field).
type fieldValue struct {
	present bool
	// text is a string's value, or the digits of a number (canonical for
	// ruleUint and ruleEnum, exactly as received for ruleBigID).
	text string
	num  uint64
	list []string
	// objects holds a ruleObject's one object, or a ruleObjects' list.
	objects []objectValue
}

// objectValue is a nested object after its rules: values by the rule's
// members, then the members the page does not document, as received.
type objectValue struct {
	values  []fieldValue
	unknown []extraField
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
	case ruleInt:
		digits := strings.TrimPrefix(v.text, "-")
		if v.kind != kindString && v.kind != kindInteger || digits == "" || !isDigits(digits) {
			return fieldValue{}, invalid(r.name, "must be an integer")
		}
		n, ok := parseDigits(digits, maxExactInteger)
		if !ok {
			return fieldValue{}, invalid(r.name, "beyond ±(2^53-1)")
		}
		text := strconv.FormatUint(n, 10) // canonical: "007" is not JSON
		if len(digits) < len(v.text) && n != 0 {
			text = "-" + text
		}
		return fieldValue{present: true, text: text}, nil
	case ruleNumber:
		if v.kind == kindString || v.kind == kindInteger || v.kind == kindOther {
			d := jsonDecoder{s: v.text}
			if _, ok := d.skipNumber(); ok && d.pos == len(v.text) && len(v.text) <= maxNumberBytes {
				return fieldValue{present: true, text: v.text}, nil
			}
		}
		return fieldValue{}, invalid(r.name, "must be a number")
	case ruleObject, ruleObjects:
		return r.nested(v, decode)
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
			if list = append(list, element); len(list) > r.itemLimit() {
				return fieldValue{}, invalid(r.name, "more than "+strconv.Itoa(r.itemLimit())+" elements")
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

// nested reads a ruleObject's object or a ruleObjects' array of them. A
// string holding the JSON is read as the JSON (decoded as a whole, so its
// strings are not URL-decoded again).
func (r *fieldRule) nested(v value, decode bool) (fieldValue, error) {
	opening, what := byte('{'), "must be an object"
	if r.kind == ruleObjects {
		opening, what = '[', "must be an array of objects"
	}
	switch {
	case v.kind == kindString && strings.HasPrefix(v.text, string(opening)):
		decode = false
	case v.kind != kindOther || !strings.HasPrefix(v.text, string(opening)):
		return fieldValue{}, invalid(r.name, what)
	}
	if len(v.text) > int(r.max) {
		return fieldValue{}, invalid(r.name, "longer than "+strconv.FormatUint(r.max, 10)+" bytes")
	}
	d := jsonDecoder{s: v.text, plain: printableASCII(v.text) && strings.IndexByte(v.text, '\\') < 0}
	out := fieldValue{present: true}
	if r.kind == ruleObject {
		o, err := r.object(&d, decode)
		if err != nil {
			return fieldValue{}, err
		}
		out.objects = []objectValue{o}
	} else {
		d.consume('[')
		d.skipSpace()
		out.objects = []objectValue{}
		for !d.consume(']') {
			if len(out.objects) > 0 && !d.consume(',') {
				return fieldValue{}, invalid(r.name, what)
			}
			d.skipSpace()
			o, err := r.object(&d, decode)
			if err != nil {
				return fieldValue{}, err
			}
			if out.objects = append(out.objects, o); len(out.objects) > r.itemLimit() {
				return fieldValue{}, invalid(r.name, "more than "+strconv.Itoa(r.itemLimit())+" elements")
			}
			d.skipSpace()
		}
	}
	if d.skipSpace(); d.pos != len(d.s) {
		return fieldValue{}, invalid(r.name, what)
	}
	return out, nil
}

// object reads one object at d with the rule's members: the required ones
// first, then each member's format in table order.
func (r *fieldRule) object(d *jsonDecoder, decode bool) (objectValue, error) {
	notObject := invalid(r.name, "must hold objects")
	if !d.consume('{') {
		return objectValue{}, notObject
	}
	var received []extraField
	d.skipSpace()
	for !d.consume('}') {
		if len(received) > 0 && !d.consume(',') {
			return objectValue{}, notObject
		}
		d.skipSpace()
		name, ok := d.readString()
		if d.skipSpace(); !ok || !d.consume(':') {
			return objectValue{}, notObject
		}
		d.skipSpace()
		v, ok := d.readValue()
		if !ok {
			return objectValue{}, notObject
		}
		if v.kind == kindString && decode && hasURLEscape(v.text) {
			v.text = unescapeValue(v.text)
			if !utf8.ValidString(v.text) {
				return objectValue{}, invalid(r.name, "invalid UTF-8 after URL decoding")
			}
		}
		for _, seen := range received {
			if seen.name == name {
				return objectValue{}, &fieldError{ErrDuplicateField, r.name + "." + quoteKey(name), "given twice"}
			}
		}
		if v.kind == kindAbsent {
			v.text = "null"
		}
		if received = append(received, extraField{name: name, text: v.text, isText: v.kind == kindString}); len(received) > maxMembers {
			return objectValue{}, invalid(r.name, "more than "+strconv.Itoa(maxMembers)+" members")
		}
		d.skipSpace()
	}
	o := objectValue{values: make([]fieldValue, len(r.members))}
	raw := make([]value, len(r.members))
	used := make([]bool, len(received))
	for j := range r.members {
		member := &r.members[j]
		for k := range received {
			if received[k].name == member.name {
				raw[j], used[k] = received[k].value(), true
			}
		}
		if member.required && raw[j].kind == kindAbsent {
			return objectValue{}, &fieldError{ErrMissingField, r.name + "." + member.name, "required"}
		}
	}
	for j := range r.members {
		v, err := r.members[j].apply(raw[j], decode)
		if err != nil {
			var fe *fieldError
			if errors.As(err, &fe) {
				fe.field = r.name + "." + fe.field
			}
			return objectValue{}, err
		}
		o.values[j] = v
	}
	for k := range received {
		if !used[k] {
			o.unknown = append(o.unknown, received[k])
		}
	}
	return o, nil
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
