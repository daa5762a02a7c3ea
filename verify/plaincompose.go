package verify

import (
	"math"
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
// The whole body is checked first to be printable ASCII without '\\' or
// '%': its strings are then clean (see rawFields.clean) and none is
// URL-decoded, so each value is the text between two quotes.
func parsePlainCompose(s string, c *Callback) bool {
	if !plainCompose(s, c) {
		*c = Callback{}
		return false
	}
	return true
}

func plainCompose(s string, c *Callback) bool {
	end := len(s) - 1 // the closing brace
	if end < 1 || s[0] != '{' || s[end] != '}' || !plainJSON(s) {
		return false
	}
	const required = 1<<fieldAppID | 1<<fieldEvent | 1<<fieldTaskID | 1<<fieldCode |
		1<<fieldTimestamp | 1<<fieldNonce | 1<<fieldSignature
	var seen uint16
	for i := 1; ; {
		// "name":"value", the name one of compose's: found by its first
		// four bytes as in decodeFlat, confirmed by two word compares (an
		// empty slot's first word, zero, is no word of a plain body).
		if i+8 > end {
			return false
		}
		first := load64(s[i:])
		k := &plainKeys[uint32(first>>8)*flatKeyHash>>28]
		start := i + k.size // the value's first byte
		if start > end || first != k.first || load64(s[start-8:]) != k.last || seen&k.bit != 0 {
			return false
		}
		seen |= k.bit
		if k.field == fieldEvent {
			if start+8 > end || load64(s[start:]) != composeWord {
				return false
			}
			c.Event = DefaultEvent
			i = start + len(DefaultEvent)
		} else {
			// The value's closing quote; IndexByte's set-up costs more
			// than quoteFrom's loop over a short value.
			if k.long {
				i = strings.IndexByte(s[start:], '"') + start
			} else {
				i = quoteFrom(s, start)
			}
			if i < start {
				return false
			}
			// Each field's rule, as rawFields.callback applies it (the
			// body is plain: every value is a string, none URL-decoded).
			switch text := s[start:i]; k.field {
			case fieldAppID:
				if text == "" || !isDigits(text) {
					return false
				}
				id, ok := parseDigits(text, math.MaxUint32)
				if !ok {
					return false
				}
				c.AppID = uint32(id)
			case fieldReplayURL:
				if text != "" && !httpURL(text, true) {
					return false
				}
				c.ReplayURL = text
			case fieldTaskID:
				// Printable ASCII already: visible once it holds no space.
				if text == "" || len(text) > maxTaskIDBytes || strings.IndexByte(text, ' ') >= 0 {
					return false
				}
				c.TaskID = text
			case fieldFileID:
				if len(text) > maxFileIDBytes || strings.IndexByte(text, ' ') >= 0 {
					return false
				}
				c.FileID = text
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
				if !isToken(text, maxNonceBytes, true) {
					return false
				}
				c.Nonce = text
			case fieldSignature:
				c.signature = text
			}
		}
		// i is the value's closing quote, before the closing brace.
		if i+1 == end {
			break
		}
		if s[i+1] != ',' {
			return false
		}
		i += 2
	}
	if seen&required != required || c.ReplayURL == "" && c.Code == 0 {
		return false
	}
	c.clean = true
	return true
}

// plainKeys holds, in each compose field's flatKeys slot, the field's
// name as a body has it before the value, `"name":"`: its first eight bytes
// and its last eight (which overlap: the shortest, `"code":"`, is eight
// bytes, the longest fourteen), and its length; long marks the fields
// whose values are usually long.
var plainKeys = func() (t [16]struct {
	first, last uint64
	size        int
	field       int
	bit         uint16
	long        bool
}) {
	for i, name := range fieldNames {
		slot := &t[load32(name)*flatKeyHash>>28]
		token := `"` + name + `":"`
		slot.first, slot.last, slot.size = load64(token), load64(token[len(token)-8:]), len(token)
		slot.field, slot.bit = i, 1<<i
		slot.long = i == fieldReplayURL || i == fieldTaskID || i == fieldSignature
	}
	return t
}()

// composeWord is `compose"`, the event's value and its closing quote.
var composeWord = load64(DefaultEvent + `"`)
