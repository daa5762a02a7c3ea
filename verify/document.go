package verify

import (
	"encoding/binary"
	"strconv"
	"time"
	"unicode/utf8"
)

// The document writers: the normalized JSON the upstream receives, for
// compose (AppendJSON's own keys) and for every other event (the envelope,
// then the event's table), with the number, time and string writers they
// share.

// AppendJSON appends the normalized document to dst and returns the result.
// For compose, keys come in this order and are always present:
//
//	{"event":"compose","app_id":1234567890,"task_id":"...","success":true,
//	 "code":0,"message":"...","replay_url":"...","file_id":"...",
//	 "timestamp":1755569980,"sent_at":"2025-08-19T02:19:40Z","nonce":"...",
//	 "extra":{}}
//
// Other events: "event", "app_id", "timestamp", "sent_at", "nonce", then
// every field of the event's table in its order (see appendEventJSON), then
// "extra". The signature is never written. The document is written from
// what parsing proved about the values: change no field of a parsed
// Callback before writing it.
func (c *Callback) AppendJSON(dst []byte) []byte {
	if c.event != nil {
		return c.appendEventJSON(dst)
	}
	if c.clean {
		return c.appendCleanJSON(dst)
	}
	dst = append(dst, `{"event":`...)
	dst = c.appendString(dst, c.Event)
	dst = append(dst, `,"app_id":`...)
	dst = appendDecimal(dst, uint64(c.AppID))
	dst = append(dst, `,"task_id":`...)
	dst = c.appendString(dst, c.TaskID)
	dst = append(dst, `,"success":`...)
	dst = strconv.AppendBool(dst, c.Success())
	dst = append(dst, `,"code":`...)
	dst = appendInteger(dst, c.Code)
	dst = append(dst, `,"message":`...)
	dst = c.appendString(dst, c.Message)
	dst = append(dst, `,"replay_url":`...)
	dst = c.appendString(dst, c.ReplayURL)
	dst = append(dst, `,"file_id":`...)
	dst = c.appendString(dst, c.FileID)
	dst = append(dst, `,"timestamp":`...)
	dst = appendInteger(dst, c.Timestamp)
	dst = append(dst, `,"sent_at":"`...)
	dst = appendRFC3339(dst, c.Timestamp)
	dst = append(dst, `","nonce":`...)
	dst = c.appendString(dst, c.Nonce)
	dst = append(dst, `,"extra":{`...)
	return c.appendExtra(dst)
}

// appendCleanJSON is AppendJSON for a clean compose callback (the fast
// path's): its strings need no escaping, so each is copied between quotes
// that are part of the literals around it. FuzzParse holds its document to
// the one AppendJSON writes for the same callback once it is not clean.
func (c *Callback) appendCleanJSON(dst []byte) []byte {
	dst = append(dst, `{"event":"`...)
	dst = append(dst, c.Event...)
	dst = append(dst, `","app_id":`...)
	dst = appendDecimal(dst, uint64(c.AppID))
	dst = append(dst, `,"task_id":"`...)
	dst = append(dst, c.TaskID...)
	dst = append(dst, `","success":`...)
	dst = strconv.AppendBool(dst, c.Success())
	dst = append(dst, `,"code":`...)
	dst = appendInteger(dst, c.Code)
	dst = append(dst, `,"message":"`...)
	dst = append(dst, c.Message...)
	dst = append(dst, `","replay_url":"`...)
	dst = append(dst, c.ReplayURL...)
	dst = append(dst, `","file_id":"`...)
	dst = append(dst, c.FileID...)
	dst = append(dst, `","timestamp":`...)
	dst = c.appendTimestamp(dst)
	dst = append(dst, `,"sent_at":"`...)
	dst = appendRFC3339(dst, c.Timestamp)
	dst = append(dst, `","nonce":"`...)
	dst = append(dst, c.Nonce...)
	dst = append(dst, `","extra":{`...)
	return c.appendExtra(dst)
}

// appendTimestamp is appendInteger(dst, c.Timestamp), copying the digits
// received when they are that number's, as they are for seconds sent
// without a leading zero: checking that costs less than formatting it.
// (rawTimestamp is digits: parse set it.)
func (c *Callback) appendTimestamp(dst []byte) []byte {
	if raw := c.rawTimestamp; raw != "" && raw[0] != '0' {
		if n, ok := parseDigits(raw, 1e13); ok && n == uint64(c.Timestamp) {
			return append(dst, raw...)
		}
	}
	return appendInteger(dst, c.Timestamp)
}

// appendExtra writes the members of extra and closes the document.
func (c *Callback) appendExtra(dst []byte) []byte {
	for i, e := range c.extra {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = c.appendString(dst, e.name)
		dst = append(dst, ':')
		if e.isText {
			dst = c.appendString(dst, e.text)
		} else {
			dst = append(dst, e.text...)
		}
	}
	return append(dst, "}}"...)
}

// appendString is appendJSONString, or a plain copy when the callback is
// clean.
func (c *Callback) appendString(dst []byte, s string) []byte {
	if c.clean {
		dst = append(dst, '"')
		dst = append(dst, s...)
		return append(dst, '"')
	}
	return appendJSONString(dst, s)
}

// appendDecimal is strconv.AppendUint(dst, n, 10) without its general
// machinery, which costs three times as much for the few numbers here; two
// digits a step, as strconv does.
func appendDecimal(dst []byte, n uint64) []byte {
	if n < 10 { // compose's code, mostly
		return append(dst, byte('0'+n))
	}
	var buf [20]byte
	i := len(buf)
	for n >= 100 {
		r := n % 100
		n /= 100
		i -= 2
		binary.LittleEndian.PutUint16(buf[i:], digitPairs[r])
	}
	if n >= 10 {
		i -= 2
		binary.LittleEndian.PutUint16(buf[i:], digitPairs[n])
	} else {
		i--
		buf[i] = byte('0' + n)
	}
	return append(dst, buf[i:]...)
}

// digitPairs holds 00 to 99, each as two bytes in memory order.
var digitPairs = func() (t [100]uint16) {
	for n := range t {
		t[n] = uint16(twoDigits[2*n]) | uint16(twoDigits[2*n+1])<<8
	}
	return t
}()

// twoDigits holds 00 to 99.
const twoDigits = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

// appendInteger is strconv.AppendInt(dst, n, 10), by appendDecimal.
func appendInteger(dst []byte, n int64) []byte {
	if n < 0 {
		return appendDecimal(append(dst, '-'), -uint64(n))
	}
	return appendDecimal(dst, uint64(n))
}

// lastFourDigitYear is 9999-12-31T23:59:59Z in unix seconds.
const lastFourDigitYear = 253402300799

// appendRFC3339 appends unix seconds as c.SentAt().AppendFormat(dst,
// time.RFC3339) does, for the years 1970 to 9999 at a fraction of the cost
// (AppendFormat interprets its layout on every call); other times go to
// AppendFormat.
func appendRFC3339(dst []byte, unix int64) []byte {
	if unix < 0 || unix > lastFourDigitYear {
		return time.Unix(unix, 0).UTC().AppendFormat(dst, time.RFC3339)
	}
	// Days to a civil date: Howard Hinnant's civil_from_days, with
	// years starting on 1 March so that the leap day comes last.
	days, seconds := unix/86400, unix%86400
	z := days + 719468 // days since 0000-03-01
	era := z / 146097
	dayOfEra := z - era*146097
	yearOfEra := (dayOfEra - dayOfEra/1460 + dayOfEra/36524 - dayOfEra/146096) / 365
	year := yearOfEra + era*400
	dayOfYear := dayOfEra - (365*yearOfEra + yearOfEra/4 - yearOfEra/100)
	shiftedMonth := (5*dayOfYear + 2) / 153 // 0 is March
	day := dayOfYear - (153*shiftedMonth+2)/5 + 1
	month := shiftedMonth + 3
	if month > 12 {
		month -= 12
		year++
	}
	dst = appendDigits(dst, year/100)
	dst = appendDigits(dst, year%100)
	dst = append(dst, '-')
	dst = appendDigits(dst, month)
	dst = append(dst, '-')
	dst = appendDigits(dst, day)
	dst = append(dst, 'T')
	dst = appendDigits(dst, seconds/3600)
	dst = append(dst, ':')
	dst = appendDigits(dst, seconds/60%60)
	dst = append(dst, ':')
	dst = appendDigits(dst, seconds%60)
	return append(dst, 'Z')
}

// appendDigits appends n, from 0 to 99, as two digits.
func appendDigits(dst []byte, n int64) []byte {
	return append(dst, twoDigits[2*n], twoDigits[2*n+1])
}

// appendJSONString appends s, valid UTF-8, as a JSON string. Only what JSON
// requires is escaped, plus U+2028 and U+2029 for JavaScript consumers.
func appendJSONString(dst []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	if escapeFree(s) { // most values
		dst = append(dst, s...)
		return append(dst, '"')
	}
	start := 0
	for i := 0; i < len(s); {
		for i < len(s) && !jsonEscapeStart[s[i]] {
			i++
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c == 0xE2 { // the lead byte of U+2028 and U+2029
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == '\u2028' || r == '\u2029' {
				dst = append(dst, s[start:i]...)
				dst = append(dst, `\u202`...)
				dst = append(dst, hexDigits[r&0xf])
				start = i + size
			}
			i += size
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, `\n`...)
		case '\r':
			dst = append(dst, `\r`...)
		case '\t':
			dst = append(dst, `\t`...)
		default:
			dst = append(dst, `\u00`...)
			dst = append(dst, hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// jsonEscapeStart marks the bytes appendJSONString must look at.
var jsonEscapeStart = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'], t[0xE2] = true, true, true
	return t
}()

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
