package verify

import (
	"errors"
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
	// objects holds a ruleObject's one object, or a ruleObjects' list.
	objects []objectValue
}

// objectValue is a nested object after its rules: values by the rule's
// members, then the members the page does not document, as received.
type objectValue struct {
	values  []fieldValue
	unknown []extraField
}

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

// appendEventJSON writes an event other than compose: the envelope, then
// each field of the table, always present: strings and big identifiers as
// strings ("" when absent), numbers as numbers (null when absent),
// enumerations as their number and "<name>_name" (both null when absent),
// lists as arrays ([] when absent); then extra.
func (c *Callback) appendEventJSON(dst []byte) []byte {
	dst = append(dst, '{')
	if p := c.event.product; p != rtcProduct {
		dst = append(dst, `"product":`...)
		dst = appendJSONString(dst, p.name)
		dst = append(dst, ',')
	}
	dst = append(dst, `"event":`...)
	dst = appendJSONString(dst, c.Event)
	if c.event.product.envelopeOf(c.event.spec).Numeric && c.event.spec != &unknownEventSpec {
		dst = append(dst, `,"event_type":`...)
		dst = strconv.AppendUint(dst, uint64(c.event.spec.code), 10)
	}
	dst = append(dst, `,"app_id":`...)
	dst = strconv.AppendUint(dst, uint64(c.AppID), 10)
	dst = append(dst, `,"timestamp":`...)
	dst = strconv.AppendInt(dst, c.Timestamp, 10)
	dst = append(dst, `,"sent_at":"`...)
	dst = c.appendSentAt(dst)
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
		dst = e.appendJSON(dst)
	}
	return append(dst, "}}"...)
}

// appendSentAt writes the send time in RFC 3339: with milliseconds when
// ZEGO sent them, for every product but rtc, whose documents have always
// been in whole seconds.
func (c *Callback) appendSentAt(dst []byte) []byte {
	dst = appendRFC3339(dst, c.Timestamp)
	if c.event.product == rtcProduct || len(c.rawTimestamp) != millisecondDigits {
		return dst
	}
	millis := c.rawTimestamp[len(c.rawTimestamp)-3:]
	dst = append(dst[:len(dst)-1], '.') // before appendRFC3339's "Z"
	dst = append(dst, millis...)
	return append(dst, 'Z')
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
	case ruleInt, ruleNumber:
		if !v.present {
			return append(dst, "null"...)
		}
		return append(dst, v.text...)
	case ruleObject:
		if !v.present {
			return append(dst, "null"...)
		}
		return v.objects[0].appendJSON(dst, rule)
	case ruleObjects:
		dst = append(dst, '[')
		for i := range v.objects {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = v.objects[i].appendJSON(dst, rule)
		}
		return append(dst, ']')
	}
	return appendJSONString(dst, v.text)
}

// appendJSON writes a nested object: its documented members in table
// order, then the others.
func (o *objectValue) appendJSON(dst []byte, rule *fieldRule) []byte {
	dst = append(dst, '{')
	for j := range rule.members {
		if j > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, rule.members[j].name)
		dst = append(dst, ':')
		dst = o.values[j].appendJSON(dst, &rule.members[j])
	}
	for i, e := range o.unknown {
		if i > 0 || len(rule.members) > 0 {
			dst = append(dst, ',')
		}
		dst = e.appendJSON(dst)
	}
	return append(dst, '}')
}

// appendJSON writes an unknown member: a string re-encoded, anything else
// as the JSON literal received.
func (e *extraField) appendJSON(dst []byte) []byte {
	dst = appendJSONString(dst, e.name)
	dst = append(dst, ':')
	if e.isText {
		return appendJSONString(dst, e.text)
	}
	return append(dst, e.text...)
}

// eventIdempotencyID hashes the app, the event and the key fields of the
// event's table, NUL between each; an absent key field is empty.
func (c *Callback) eventIdempotencyID() [16]byte {
	var buf [1024]byte
	b := strconv.AppendUint(buf[:0], uint64(c.AppID), 10)
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
		case rule.kind == ruleStrings:
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
