package verify

import (
	"math"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds nesting inside unknown fields; the top-level object is
// level 1.
const maxDepth = 32

// The fields ZEGO documents for compose, in no particular order.
const (
	fieldAppID = iota
	fieldEvent
	fieldReplayURL
	fieldTaskID
	fieldFileID
	fieldCode
	fieldMessage
	fieldTimestamp
	fieldNonce
	fieldSignature
	numFields
)

var fieldNames = [numFields]string{
	"appid", "event", "replay_url", "task_id", "file_id",
	"code", "message", "timestamp", "nonce", "signature",
}

func fieldIndex(key string) int {
	switch key {
	case "appid":
		return fieldAppID
	case "event":
		return fieldEvent
	case "replay_url":
		return fieldReplayURL
	case "task_id":
		return fieldTaskID
	case "file_id":
		return fieldFileID
	case "code":
		return fieldCode
	case "message":
		return fieldMessage
	case "timestamp":
		return fieldTimestamp
	case "nonce":
		return fieldNonce
	case "signature":
		return fieldSignature
	}
	return -1
}

// valueKind is the JSON type of a received value; form values are strings.
type valueKind uint8

const (
	kindAbsent  valueKind = iota // not sent, or JSON null
	kindString                   // text holds the decoded string
	kindInteger                  // text holds the literal digits
	kindOther                    // a fraction, bool, object or array
)

type value struct {
	kind valueKind
	text string
}

// extraField is an unknown field kept for the upstream. For strings, text is
// the decoded string; otherwise it is the JSON literal as received.
type extraField struct {
	name   string
	text   string
	isText bool
}

// rawFields is a body after decoding, before any field rule is applied.
type rawFields struct {
	known [numFields]value
	seen  [numFields]bool
	extra []extraField
	// decodeValues is set for a JSON object body, whose string values are
	// URL-decoded when they hold an escape, so that strings inside arrays
	// are decoded the same way.
	decodeValues bool
	// clean is set when every string is a piece of a plain body (see
	// decodeJSONObject), none URL-decoded: printable ASCII without '"' or
	// '\\', which JSON carries as it is.
	clean bool
	// extraNames detects repeated unknown keys once there are many of them,
	// so thousands of keys cost O(n), not O(n²).
	extraNames map[string]struct{}
}

func (f *rawFields) add(key string, v value) error {
	if i := fieldIndex(key); i >= 0 {
		if f.seen[i] {
			return &fieldError{ErrDuplicateField, key, "given twice"}
		}
		f.seen[i] = true
		f.known[i] = v
		return nil
	}
	const linearScanLimit = 16
	if f.extraNames == nil && len(f.extra) >= linearScanLimit {
		f.extraNames = make(map[string]struct{}, 2*len(f.extra))
		for _, e := range f.extra {
			f.extraNames[e.name] = struct{}{}
		}
	}
	if f.extraNames != nil {
		if _, dup := f.extraNames[key]; dup {
			return &fieldError{ErrDuplicateField, quoteKey(key), "given twice"}
		}
		f.extraNames[key] = struct{}{}
	} else {
		for _, e := range f.extra {
			if e.name == key {
				return &fieldError{ErrDuplicateField, quoteKey(key), "given twice"}
			}
		}
	}
	if v.kind == kindAbsent {
		v.text = "null" // an unknown null is kept as it came
	}
	f.extra = append(f.extra, extraField{name: key, text: v.text, isText: v.kind == kindString})
	return nil
}

// decodeBody recognizes the wire shape by content, never by Content-Type:
// a JSON object, a URL-encoded JSON object, or a form.
func decodeBody(body string, fastPaths bool, f *rawFields) error {
	body = trimSpace(body)
	switch {
	case body == "":
		return malformed("empty")
	case body[0] == '{':
		f.decodeValues = true
		return decodeJSONObject(body, true, fastPaths, f)
	case len(body) >= 3 && body[0] == '%' && body[1] == '7' && (body[2] == 'B' || body[2] == 'b'):
		decoded, err := url.QueryUnescape(body)
		if err != nil {
			return malformed("invalid URL encoding")
		}
		return decodeJSONObject(trimSpace(decoded), false, fastPaths, f)
	case strings.IndexByte(body, '=') >= 0:
		return decodeForm(body, f)
	}
	return malformed("neither a JSON object nor a form")
}

// trimSpace trims JSON's whitespace; strings.Trim would build its cutset on
// every call.
func trimSpace(s string) string {
	for s != "" && isSpace(s[0]) {
		s = s[1:]
	}
	for s != "" && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// isSpace reports JSON whitespace; the first test settles most bytes.
func isSpace(c byte) bool { return c <= ' ' && (c == ' ' || c == '\t' || c == '\r' || c == '\n') }

func decodeForm(body string, f *rawFields) error {
	if !utf8.ValidString(body) {
		return malformed("invalid UTF-8")
	}
	for body != "" {
		var pair string
		pair, body, _ = strings.Cut(body, "&")
		if pair == "" {
			continue
		}
		if strings.IndexByte(pair, ';') >= 0 {
			return malformed("semicolon in form")
		}
		rawKey, rawValue, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(rawKey)
		if err != nil {
			return malformed("invalid URL encoding")
		}
		text, err := url.QueryUnescape(rawValue)
		if err != nil {
			return malformed("invalid URL encoding")
		}
		if !utf8.ValidString(key) || !utf8.ValidString(text) {
			return malformed("invalid UTF-8 after URL decoding")
		}
		if err := f.add(key, value{kindString, text}); err != nil {
			return err
		}
	}
	return nil
}

// decodeJSONObject reads one JSON object and nothing after it. With
// urlDecodeValues, a string value holding a valid %XX escape is URL-decoded
// once with form rules. fastPaths: see parse.
func decodeJSONObject(s string, urlDecodeValues, fastPaths bool, f *rawFields) error {
	// A body of printable ASCII without a backslash, as ZEGO sends, is valid
	// UTF-8, and no string in it holds an escape or a character JSON
	// forbids there: its strings are clean until one is URL-decoded.
	plain := fastPaths && printableASCII(s) && strings.IndexByte(s, '\\') < 0
	f.clean = plain
	if !plain && !utf8.ValidString(s) {
		return malformed("invalid UTF-8")
	}
	d := jsonDecoder{s: s, plain: plain}
	// A plain body without a '%' has no value to URL-decode. Any other body
	// may have one, written as the JSON escape \u0025.
	urlDecodeValues = urlDecodeValues && (!plain || strings.IndexByte(s, '%') >= 0)
	// afterMember: d is past a member, before its ',' or the closing '}'.
	afterMember := false
	if plain {
		resume, resumeAfterMember, err := decodeFlat(s, urlDecodeValues, f)
		if resume == flatDone || err != nil {
			return err
		}
		d.pos, afterMember = resume, resumeAfterMember
	}
	if d.pos == 0 {
		if !d.consume('{') {
			return malformed("not a JSON object")
		}
		d.skipSpace()
		// An empty object: straight to its '}'.
		afterMember = d.pos < len(d.s) && d.s[d.pos] == '}'
	}
	for {
		if !afterMember {
			d.skipSpace()
			key, ok := d.readString()
			if !ok {
				return d.syntaxError()
			}
			d.skipSpace()
			if !d.consume(':') {
				return d.syntaxError()
			}
			d.skipSpace()
			v, ok := d.readValue()
			if !ok {
				return d.syntaxError()
			}
			if v.kind == kindString && urlDecodeValues && hasURLEscape(v.text) {
				f.clean = false
				v.text = unescapeValue(v.text)
				if !utf8.ValidString(v.text) {
					return malformed("invalid UTF-8 after URL decoding")
				}
			}
			if err := f.add(key, v); err != nil {
				return err
			}
		}
		afterMember = false
		d.skipSpace()
		if d.consume('}') {
			break
		}
		if !d.consume(',') {
			return d.syntaxError()
		}
	}
	d.skipSpace()
	if d.pos != len(d.s) {
		return malformed("data after the JSON object")
	}
	return nil
}

// hasURLEscape reports whether s holds at least one valid %XX escape.
func hasURLEscape(s string) bool {
	for i := strings.IndexByte(s, '%'); i >= 0 && i+2 < len(s); {
		if isHex(s[i+1]) && isHex(s[i+2]) {
			return true
		}
		next := strings.IndexByte(s[i+1:], '%')
		if next < 0 {
			return false
		}
		i += 1 + next
	}
	return false
}

// unescapeValue URL-decodes a JSON string value once with form rules ('+'
// is a space). Unlike url.QueryUnescape it keeps a '%' that starts no valid
// escape, as in "100% done": such text is ZEGO's, not an error.
func unescapeValue(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		case c == '+':
			out = append(out, ' ')
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// jsonDecoder is a strict scanner for the flat callback object. It works on
// a string so that values are substrings of the body, not copies.
type jsonDecoder struct {
	s   string
	pos int
	// plain is set when s is printable ASCII without a backslash: every
	// string ends at the next quote.
	plain   bool
	tooDeep bool
}

func (d *jsonDecoder) syntaxError() error {
	if d.tooDeep {
		return malformed("nested deeper than 32 levels")
	}
	return malformed("invalid JSON")
}

func (d *jsonDecoder) skipSpace() {
	for d.pos < len(d.s) && isSpace(d.s[d.pos]) {
		d.pos++
	}
}

func (d *jsonDecoder) consume(c byte) bool {
	if d.pos < len(d.s) && d.s[d.pos] == c {
		d.pos++
		return true
	}
	return false
}

// readValue reads a top-level member's value. Nested objects and arrays are
// validated and kept as raw text.
func (d *jsonDecoder) readValue() (value, bool) {
	if d.pos >= len(d.s) {
		return value{}, false
	}
	start := d.pos
	switch c := d.s[d.pos]; {
	case c == '"':
		text, ok := d.readString()
		return value{kindString, text}, ok
	case c == '-' || '0' <= c && c <= '9':
		integer, ok := d.skipNumber()
		if integer {
			return value{kindInteger, d.s[start:d.pos]}, ok
		}
		return value{kindOther, d.s[start:d.pos]}, ok
	case c == 'n':
		return value{kindAbsent, ""}, d.skipLiteral("null")
	case c == 't':
		return value{kindOther, "true"}, d.skipLiteral("true")
	case c == 'f':
		return value{kindOther, "false"}, d.skipLiteral("false")
	case c == '{' || c == '[':
		ok := d.skipValue(2)
		return value{kindOther, d.s[start:d.pos]}, ok
	}
	return value{}, false
}

// skipValue validates any JSON value at the given nesting level.
func (d *jsonDecoder) skipValue(depth int) bool {
	if d.pos >= len(d.s) {
		return false
	}
	switch c := d.s[d.pos]; {
	case c == '"':
		return d.skipString()
	case c == '-' || '0' <= c && c <= '9':
		_, ok := d.skipNumber()
		return ok
	case c == 'n':
		return d.skipLiteral("null")
	case c == 't':
		return d.skipLiteral("true")
	case c == 'f':
		return d.skipLiteral("false")
	case c == '{' || c == '[':
		if depth > maxDepth {
			d.tooDeep = true
			return false
		}
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		d.pos++
		d.skipSpace()
		if d.consume(closing) {
			return true
		}
		for {
			d.skipSpace()
			if closing == '}' {
				if !d.skipString() {
					return false
				}
				d.skipSpace()
				if !d.consume(':') {
					return false
				}
				d.skipSpace()
			}
			if !d.skipValue(depth + 1) {
				return false
			}
			d.skipSpace()
			if d.consume(closing) {
				return true
			}
			if !d.consume(',') {
				return false
			}
		}
	}
	return false
}

func (d *jsonDecoder) skipLiteral(lit string) bool {
	if strings.HasPrefix(d.s[d.pos:], lit) {
		d.pos += len(lit)
		return true
	}
	return false
}

// skipNumber validates a JSON number and reports whether it is an integer
// (no fraction, no exponent).
func (d *jsonDecoder) skipNumber() (integer, ok bool) {
	s, i := d.s, d.pos
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		return false, false
	}
	integer = true
	if i < len(s) && s[i] == '.' {
		integer = false
		i++
		if i >= len(s) || !isDigit(s[i]) {
			return false, false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		integer = false
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			return false, false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	// A number beyond float64's range is rejected wherever it is: Go's
	// encoding/json fails on it, Python and JavaScript read it as infinity.
	// An integer of fewer than 309 digits is always in range.
	if (!integer || i-d.pos > 308) && isInfinite(s[d.pos:i]) {
		return false, false
	}
	d.pos = i
	return integer, true
}

// isInfinite reports whether a valid JSON number overflows float64.
func isInfinite(number string) bool {
	f, _ := strconv.ParseFloat(number, 64)
	return math.IsInf(f, 0)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// skipString validates a string without decoding it.
func (d *jsonDecoder) skipString() bool {
	_, ok := d.scanString(false)
	return ok
}

// readString reads and decodes a string. Without escapes it returns a
// substring of the body and allocates nothing.
func (d *jsonDecoder) readString() (string, bool) {
	return d.scanString(true)
}

func (d *jsonDecoder) scanString(decode bool) (string, bool) {
	if !d.consume('"') {
		return "", false
	}
	s, start := d.s, d.pos
	if d.plain {
		n := strings.IndexByte(s[start:], '"')
		if n < 0 {
			return "", false
		}
		d.pos = start + n + 1
		return s[start : start+n], true
	}
	escaped := false
	for i := start; i < len(s); {
		for i < len(s) && !stringSpecial[s[i]] {
			i++
		}
		if i == len(s) {
			break
		}
		c := s[i]
		switch {
		case c == '"':
			d.pos = i + 1
			if !escaped || !decode {
				return s[start:i], true
			}
			return unescapeJSON(s[start:i])
		case c == '\\':
			if !validEscape(s[i+1:]) {
				return "", false
			}
			escaped = true
			if s[i+1] != 'u' {
				i += 2
				continue
			}
			// A UTF-16 surrogate must be a high one followed by a low one,
			// here too when the string is only skipped (inside extra):
			// JSON readers differ on a lone one, and some fail.
			r, _ := readHex4(s[i+2:])
			i += 6
			if utf16.IsSurrogate(r) {
				if r >= 0xDC00 || !strings.HasPrefix(s[i:], `\u`) {
					return "", false
				}
				if low, ok := readHex4(s[i+2:]); !ok || low < 0xDC00 || low > 0xDFFF {
					return "", false
				}
				i += 6
			}
		default: // a control character
			return "", false
		}
	}
	return "", false
}

// stringSpecial marks the bytes that end the fast path inside a JSON string.
var stringSpecial = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// validEscape reports whether s, the text after a backslash, starts with a
// valid JSON escape.
func validEscape(s string) bool {
	if s == "" {
		return false
	}
	switch s[0] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return true
	case 'u':
		_, ok := readHex4(s[1:])
		return ok
	}
	return false
}

// unescapeJSON decodes the escapes of a string's raw contents. A lone
// UTF-16 surrogate is an error: it has no UTF-8 form.
func unescapeJSON(raw string) (string, bool) {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(raw) {
			return "", false
		}
		switch raw[i+1] {
		case '"', '\\', '/':
			out = append(out, raw[i+1])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := readHex4(raw[i+2:])
			if !ok {
				return "", false
			}
			i += 6
			if utf16.IsSurrogate(r) {
				low, ok := rune(0), false
				if strings.HasPrefix(raw[i:], `\u`) {
					low, ok = readHex4(raw[i+2:])
				}
				r = utf16.DecodeRune(r, low)
				if !ok || r == utf8.RuneError {
					return "", false
				}
				i += 6
			}
			out = utf8.AppendRune(out, r)
			continue
		default:
			return "", false
		}
		i += 2
	}
	return string(out), true
}

func readHex4(s string) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[:4]) {
		var v byte
		switch {
		case '0' <= c && c <= '9':
			v = c - '0'
		case 'a' <= c && c <= 'f':
			v = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, true
}
