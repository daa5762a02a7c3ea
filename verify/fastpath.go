package verify

import (
	"math"
	"strings"
	"unicode/utf8"
)

// The fast paths: shortcuts for the bodies ZEGO sends, each giving the
// same callback, document and error as the general path it skips (parse's
// fastPaths turns them off; TestFastPathsAgree and FuzzParse compare the
// two). Words they share:
//
//   - plain: a body of printable ASCII without a backslash. Its strings
//     need no JSON unescaping and hold no character JSON forbids.
//   - clean: a callback whose strings all come from a plain body, none
//     URL-decoded: the document copies them without escaping
//     (rawFields.clean, Callback.clean).
//   - flat: a plain object of string members with nothing between the
//     tokens, read by decodeFlat without the JSON scanner.
//
// parsePlainCompose takes a flat compose body whole, with compose's rules
// written out (compose.go states them); decodeFlat reads any flat body's
// members and hands over to the scanner where the body stops being flat.

// parsePlainCompose is the fast path for the compose body ZEGO sends: a
// JSON object with nothing between its tokens, whose members are compose's
// fields, each at most once, with string values of printable ASCII holding
// no '\\' or '%', "event" exactly "compose", and every field rule passing.
// It then fills c, which must be zero, and reports true. For any other body
// it reports false with c zero again, and parse starts over on the general
// path, which decides the error; so it only has to know when a body is
// certainly good. FuzzParse and TestFastPathsAgree hold it to the general
// path (parse with fastPaths off): every body gives the same callback,
// document and error either way.
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
	var seen uint16
	for i := 1; ; {
		// "name":"value", the name one of compose's: found by its first
		// four bytes as in decodeFlat, confirmed by two word compares (an
		// empty slot's first word, zero, is no word of a plain body).
		if i+8 > end {
			return false
		}
		first := load64(s[i:])
		k := &plainKeys[uint32(first>>8)*plainKeyHash>>28]
		start := i + k.size // the value's first byte
		if start > end || first != k.first || load64(s[start-8:]) != k.last || seen&k.bit != 0 {
			return false
		}
		seen |= k.bit
		// Each field's rule, as rawFields.callback applies it (the body is
		// plain: every value is a string, none URL-decoded), and i set to
		// the value's closing quote.
		switch k.field {
		case fieldEvent:
			if start+8 > end || load64(s[start:]) != composeWord {
				return false
			}
			c.Event = DefaultEvent
			i = start + len(DefaultEvent)
		case fieldAppID:
			id, quote := quotedDigits(s, start)
			if quote < 0 || id > math.MaxUint32 {
				return false
			}
			c.AppID, i = uint32(id), quote
		case fieldTimestamp:
			n, quote := quotedDigits(s, start)
			if quote < 0 {
				return false
			}
			seconds, ok := unixSeconds(n, quote-start, false)
			if !ok {
				return false
			}
			c.rawTimestamp, c.Timestamp, i = s[start:quote], seconds, quote
		case fieldCode:
			// What rawFields.integer accepts without strconv.ParseInt.
			digits := start
			if s[start] == '-' {
				digits++
			}
			n, quote := quotedDigits(s, digits)
			if quote < 0 || quote-digits > 18 {
				return false
			}
			c.Code, i = int64(n), quote
			if digits > start {
				c.Code = -c.Code
			}
		default:
			// IndexByte's set-up costs more than quoteFrom's loop over a
			// short value.
			if k.long {
				i = strings.IndexByte(s[start:], '"') + start
			} else {
				i = quoteFrom(s, start)
			}
			if i < start {
				return false
			}
			switch text := s[start:i]; k.field {
			case fieldReplayURL:
				if text != "" && !httpURL(text, true) {
					return false
				}
				c.ReplayURL = text
			case fieldTaskID:
				if text == "" || len(text) > maxTaskIDBytes || strings.IndexByte(text, ' ') >= 0 { // visible, clean
					return false
				}
				c.TaskID = text
			case fieldFileID:
				if len(text) > maxFileIDBytes || strings.IndexByte(text, ' ') >= 0 { // visible, clean, or empty
					return false
				}
				c.FileID = text
			case fieldMessage:
				c.Message = text
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
	if seen&composeRequiredBits != composeRequiredBits || c.ReplayURL == "" && c.Code == 0 {
		return false
	}
	c.clean = true
	return true
}

// plainKeyHash maps the first four bytes of each compose field's name (all
// different) to its own slot of plainKeys: a perfect hash, checked when the
// table is built.
const plainKeyHash = 0x2265b1f5

// plainKeys holds, in each compose field's plainKeyHash slot, the field's
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
		slot := &t[load32(name)*plainKeyHash>>28]
		if slot.size != 0 {
			panic("verify: plainKeyHash is not perfect")
		}
		token := `"` + name + `":"`
		slot.first, slot.last, slot.size = load64(token), load64(token[len(token)-8:]), len(token)
		slot.field, slot.bit = i, 1<<i
		slot.long = i == fieldReplayURL || i == fieldTaskID || i == fieldSignature
	}
	return t
}()

// composeWord is `compose"`, the event's value and its closing quote.
var composeWord = load64(DefaultEvent + `"`)

// composeRequiredBits marks composeRequired's fields, as plainCompose's
// seen does.
var composeRequiredBits = func() (bits uint16) {
	for _, field := range composeRequired {
		bits |= 1 << field
	}
	return bits
}()

// decodeFlat is the fast path for the body ZEGO sends: a plain object (see
// decodeJSONObject) of string members with nothing between the tokens. It
// reads members into f while they are so, and returns flatDone once the
// object is read, or where the general path goes on: 0 (the object's
// start) when it read no member, or with afterMember the index of what
// follows the last member it read (the general path then reads ',' or
// '}'). So a body with a number after string members is read once, not
// twice. It decides members in the same order as the general path, so the
// first error is the same one (TestFastPathsAgree and FuzzParse hold the
// two paths to the same answers).
func decodeFlat(s string, urlDecodeValues bool, f *rawFields) (resume int, afterMember bool, err error) {
	end := len(s) - 1 // the closing brace
	if end < 1 || s[0] != '{' || s[end] != '}' {
		return 0, false, nil
	}
	i := 1
	if i == end {
		return flatDone, false, nil
	}
	for {
		// "key":"value", with no quote inside either: the body is plain.
		if s[i] != '"' {
			return handOver(i)
		}
		keyEnd := quoteFrom(s, i+1)
		if keyEnd < 0 || keyEnd+2 >= end || s[keyEnd+1] != ':' || s[keyEnd+2] != '"' {
			return handOver(i)
		}
		key, valueStart := s[i+1:keyEnd], keyEnd+3
		valueEnd := quoteFrom(s, valueStart)
		if valueEnd < 0 {
			return handOver(i)
		}
		text := s[valueStart:valueEnd]
		if urlDecodeValues && hasURLEscape(text) {
			f.clean = false
			text = unescapeValue(text)
			if !utf8.ValidString(text) {
				return flatDone, false, malformed("invalid UTF-8 after URL decoding")
			}
		}
		if err := f.add(key, value{kindString, text}); err != nil {
			return flatDone, false, err
		}
		if i = valueEnd + 1; i == end {
			return flatDone, false, nil
		}
		if s[i] != ',' {
			return i, true, nil
		}
		i++
	}
}

// handOver is decodeFlat's resume when it stops at the member starting at
// i: the object's start for the first member, else just past the member
// before, whose ',' the general path reads.
func handOver(i int) (resume int, afterMember bool, err error) {
	if i == 1 {
		return 0, false, nil
	}
	return i - 1, true, nil
}

// flatDone is decodeFlat's resume when it has read the whole object.
const flatDone = -1
