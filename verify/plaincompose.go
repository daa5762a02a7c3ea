package verify

import (
	"math"
	"math/bits"
	"strings"
)

// parsePlainCompose is the fast path for the compose body ZEGO sends: a
// JSON object with nothing between its tokens, whose members are compose's
// fields, each at most once, with string values of printable ASCII holding
// no '\\' or '%', "event" exactly "compose", and every field rule passing.
// It then fills c, which must be zero, and reports true. For any other body
// it reports false with c zero again, and parse starts over on the general
// path, which decides the error; so it only has to know when a body is
// certainly good. FuzzParse holds it to the general path: for every object
// it parses, the same body with one more member holding an escape (which
// this path refuses) must give the same callback and document.
//
// Every byte of the body is either compared exactly (the braces, quotes,
// ':' and ',', a field's name, "compose") or checked by plainValue; the
// body is therefore clean (see rawFields.clean).
func parsePlainCompose(s string, c *Callback) bool {
	if !plainCompose(s, c) {
		*c = Callback{}
		return false
	}
	return true
}

func plainCompose(s string, c *Callback) bool {
	end := len(s) - 1 // the closing brace
	if end < 1 || s[0] != '{' || s[end] != '}' {
		return false
	}
	const required = 1<<fieldAppID | 1<<fieldEvent | 1<<fieldTaskID | 1<<fieldCode |
		1<<fieldTimestamp | 1<<fieldNonce | 1<<fieldSignature
	var seen uint
	for i := 1; ; {
		// "name":"value", the name one of compose's, found as in decodeFlat
		// (its token runs to the value's opening quote).
		if i+5 > end || s[i] != '"' {
			return false
		}
		k := &flatKeys[load32(s[i+1:])*flatKeyHash>>28]
		if k.token == "" || !strings.HasPrefix(s[i+1:], k.token) || seen&(1<<k.field) != 0 {
			return false
		}
		seen |= 1 << k.field
		start := i + 1 + len(k.token)
		if k.field == fieldEvent {
			if !strings.HasPrefix(s[start:], DefaultEvent+`"`) {
				return false
			}
			c.Event = DefaultEvent
			i = start + len(DefaultEvent)
		} else {
			// A space is allowed only where the field's rule allows one.
			lowest := byte('!')
			if k.field == fieldMessage || k.field == fieldReplayURL || k.field == fieldSignature {
				lowest = ' '
			}
			if i = plainValue(s, start, lowest); i < 0 || !c.setPlain(k.field, s[start:i]) {
				return false
			}
		}
		// i is the value's closing quote, before the closing brace.
		if i++; i == end {
			break
		}
		if s[i] != ',' {
			return false
		}
		i++
	}
	if seen&required != required || c.ReplayURL == "" && c.Code == 0 {
		return false
	}
	c.clean = true
	return true
}

// setPlain applies field's rule to text, a value plainValue accepted, as
// rawFields.callback does, and stores it; false if the rule fails.
func (c *Callback) setPlain(field int, text string) bool {
	switch field {
	case fieldAppID:
		if text == "" || !isDigits(text) {
			return false
		}
		id, ok := parseDigits(text, math.MaxUint32)
		c.AppID = uint32(id)
		return ok
	case fieldReplayURL:
		c.ReplayURL = text
		return text == "" || httpURL(text, true)
	case fieldTaskID:
		c.TaskID = text
		return text != "" && len(text) <= maxTaskIDBytes
	case fieldFileID:
		c.FileID = text
		return len(text) <= maxFileIDBytes
	case fieldCode:
		// What rawFields.integer accepts without strconv.ParseInt.
		digits := strings.TrimPrefix(text, "-")
		if digits == "" || len(digits) > 18 || !isDigits(digits) {
			return false
		}
		n, _ := parseDigits(digits, 1e18)
		c.Code = int64(n)
		if len(digits) < len(text) {
			c.Code = -c.Code
		}
	case fieldMessage:
		c.Message = text
	case fieldTimestamp:
		if text == "" || len(text) > millisecondDigits || !isDigits(text) {
			return false
		}
		seconds, _ := parseDigits(text, 1e13)
		c.rawTimestamp, c.Timestamp = text, int64(seconds)
		if len(text) == millisecondDigits {
			c.Timestamp /= 1000
		}
	case fieldNonce:
		c.Nonce = text
		return isToken(text, maxNonceBytes, true)
	case fieldSignature:
		c.signature = text
	}
	return true
}

// plainValue returns the index of the first '"' at or after i, or -1 when
// there is none, or when a byte before it, or any other byte of the word
// that holds it, is below lowest (' ' or '!'), above '~', '\\' or '%'.
// Refusing a word for a byte after the quote is harmless: that byte is in
// the body, which is then not one the fast path takes.
func plainValue(s string, i int, lowest byte) int {
	rest := s[i:]
	for len(rest) >= 8 {
		x := load64(rest)
		bad := (x|(x+lowBits))&highBits | bytesBelow(x, lowest) |
			zeroBytes(x^'\\'*lowBits) | zeroBytes(x^'%'*lowBits)
		if quote := zeroBytes(x ^ '"'*lowBits); bad|quote != 0 {
			if bad != 0 {
				return -1
			}
			// The lowest byte zeroBytes marks is exact.
			return len(s) - len(rest) + bits.TrailingZeros64(quote)/8
		}
		rest = rest[8:]
	}
	for j := 0; j < len(rest); j++ {
		switch c := rest[j]; {
		case c == '"':
			return len(s) - len(rest) + j
		case c < lowest || c > '~' || c == '\\' || c == '%':
			return -1
		}
	}
	return -1
}
